"""rtmcore: a routing table manager modeled on RTMv2, with a Cython core.

Entities (routing protocols) register with a :class:`RoutingTableManager`,
add next hops and routes; the manager keeps the best route of every
destination in every view and answers lookups.  See ``README.md``.
"""
from .errors import *  # noqa: F401,F403
from .errors import RtmError
from .constants import *  # noqa: F401,F403
from .columns import RouteColumns
from ._core import NetAddress, PrefInfo, RouteInfo, memory_cache, parse_prefix
from .manager import (DestInfo, DestViewInfo, Entity, EntityInfo, LookupResult, NextHopInfo,
                      RegnProfile, RoutingTableManager)
from .addr import *  # noqa: F401,F403
from .clock import VirtualClock


def parse_prefixes(strings, family=None, *, strict=True):
    """Vectorised prefix parsing; see :func:`rtmcore.io.parse_prefixes`."""
    from .io import parse_prefixes as _pp
    return _pp(strings, family, strict=strict)


__version__ = "0.1.0"

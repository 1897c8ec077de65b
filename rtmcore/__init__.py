"""rtmcore: a routing table manager modeled on RTMv2, with a Cython core."""
from .errors import *  # noqa: F401,F403
from .columns import RouteColumns  # noqa: F401

__version__ = "0.1.0"

"""The RTMv2-style facade: :class:`RoutingTableManager` and :class:`Entity`.

Naming follows RTMv2: every RTMv2 function whose first argument is the
registration handle is a method of :class:`Entity`, in snake_case without the
``Rtm`` prefix (``RtmAddRouteToDest`` -> ``Entity.add_route_to_dest``).  Output
parameters are returned (a tuple in C order where there are several); failures
raise :class:`rtmcore.RtmError` subclasses carrying the Win32 code in
``.winerror``.  :mod:`rtmcore.rtmv2` offers the same functions under their C
names, returning status codes.

References (spec 1.16).  Every handle the RTMv2-named methods hand out
carries a reference, to be released with the matching ``release_*`` method;
an info structure's handles are released together by its ``release_*_info``.
A deleted route stays readable (state DELETED) until its last reference is
released.  The Pythonic queries (``search_*``, ``lookup``, ``routes``) return
snapshots that hold **no** references: their handles stay valid while the
object exists, and are refused (``InvalidHandle``) afterwards, never
dereferenced.
"""
from __future__ import annotations

import functools
import inspect
import socket
import weakref
from dataclasses import dataclass, field
from typing import Callable, Iterable, NamedTuple, Sequence

import numpy as np

from . import constants as C
from . import errors as E
from ._core import Core, EntityCore, NetAddress, PrefInfo, RouteInfo, _set_snapshot_types
from .clock import VirtualClock, _TimerThread
from .extras import EntityExtras, _check_max_opaque, install as _install_extras

__all__ = [
    "RoutingTableManager", "Entity", "EntityInfo", "RegnProfile", "NextHopInfo", "DestInfo",
    "DestViewInfo", "LookupResult", "ChangeColumns", "NetAddress", "PrefInfo", "RouteInfo",
]

_AF = {C.AF_INET: 0, C.AF_INET6: 1, socket.AF_INET: 0, socket.AF_INET6: 1, 4: 0, 6: 1}


@dataclass(frozen=True)
class EntityInfo:
    """``RTM_ENTITY_INFO``: an entity's identity."""

    rtm_instance_id: int
    address_family: int
    entity_protocol_id: int
    entity_instance_id: int

    @property
    def entity_id(self) -> int:
        """``EntityId`` as one 64-bit value (protocol id in the low half)."""
        return (self.entity_instance_id << 32) | self.entity_protocol_id


@dataclass(frozen=True)
class RegnProfile:
    """``RTM_REGN_PROFILE``: the limits an entity works with."""

    max_next_hops_in_route: int
    max_handles_in_enum: int
    views_supported: int
    number_of_views: int


@dataclass
class NextHopInfo:
    """``RTM_NEXTHOP_INFO``.

    ``next_hop_address`` and ``interface_index`` identify the next hop in its
    owner's table; ``flags``, ``entity_specific_info`` and ``remote_next_hop``
    are the owner's to change.
    """

    next_hop_address: NetAddress | None = None
    interface_index: int = 0
    flags: int = 0
    entity_specific_info: int = 0
    remote_next_hop: int = 0
    next_hop_owner: int = 0
    state: int = 0
    _refs_held: bool = field(default=False, repr=False, compare=False)


class DestViewInfo(NamedTuple):
    """One view's part of ``RTM_DEST_INFO`` (immutable; a named tuple, cheap
    to build on the per-call query paths)."""

    view_id: int
    num_routes: int
    route: int
    owner: int
    dest_flags: int
    hold_route: int


@dataclass(slots=True)
class DestInfo:
    """``RTM_DEST_INFO``: a destination and, per requested view, its best route.

    ``last_changed`` is in milliseconds of the manager's clock (Unix time by
    default).  ``view_info`` has one entry per requested supported view, in
    ascending view id; it is empty when the request named view mask 0.
    (A class with slots: the per-call queries make one per call.)
    """

    dest_handle: int
    dest_address: NetAddress
    last_changed: int
    belongs_to_views: int
    view_info: list = field(default_factory=list)
    _refs_held: bool = field(default=False, repr=False, compare=False)
    _notify: int = field(default=0, repr=False, compare=False)   # change-notification handle

    @property
    def number_of_views(self) -> int:
        return len(self.view_info)

    @property
    def prefix(self) -> str:
        return str(self.dest_address)

    def best(self, view_id: int = C.RTM_VIEW_ID_UCAST) -> int:
        """Best route handle of one view (0 if none or the view was not asked)."""
        for v in self.view_info:
            if v.view_id == view_id:
                return v.route
        return 0


_set_snapshot_types(DestInfo, DestViewInfo)


class ChangeColumns(NamedTuple):
    """Pending changes of a registration as columns (``Entity.drain_changes``)."""

    prefix: np.ndarray
    length: np.ndarray
    route: np.ndarray
    next_hop: np.ndarray
    dest: np.ndarray


class LookupResult(NamedTuple):
    """Columns of a batch longest-prefix match (one row per address).

    ``length`` is -1 where nothing matched (the other columns are then 0).
    ``prefix`` is ``uint32`` for IPv4, ``(N, 2) uint64`` for IPv6.  ``next_hop``
    is the first next hop of the best route of the view, ``dest`` the matched
    destination.  The handles carry no references.
    """

    prefix: np.ndarray
    length: np.ndarray
    next_hop: np.ndarray
    dest: np.ndarray


class _EnumState:
    """An enumeration's cursor and criteria (manager-side, keyed by handle).
    ``owner`` is the owning entity's slot (not the Entity: see _Registration)."""

    # Set through the constructor's keywords, by the kinds of enumeration that use them.
    cursor: tuple[int, int, int]            # dest, route, nexthop: prefix key to go on from
    after: bool                             # go on strictly after the cursor
    last: tuple[int, int, int, int] | None  # nexthop: key of the last next hop returned
    list_index: int                         # list: the route list,
    list_handle: int                        # its handle,
    routes: np.ndarray                      # its route handles when the enumeration began
    pos: int                                # and how many of them were looked at
    range: tuple[int, int, int] | None      # (hi, lo, plen) of a range or of the one dest
    criteria: RouteInfo | None              # route: the criteria route of ``match``

    def __init__(self, owner: int, kind: str, **kw):
        self.owner = owner
        self.kind = kind
        self.done = False
        self.pending: list[int] = []
        self.views = 0
        self.range = None
        self.own = False
        self.one = False
        self.protocol_id = 0
        self.match = 0
        self.criteria = None
        self.interface = 0
        self.__dict__.update(kw)

    @property
    def exhausted(self) -> bool:
        """Nothing is left to return: the cursor reached the end and no item
        fetched ahead (a destination's remaining routes) is still queued."""
        return self.done and not self.pending


def _handles(hs) -> list:
    if hs is None:
        return []
    if isinstance(hs, (int, np.integer)):
        return [int(hs)]
    return [int(h) for h in hs]


# scalar fields broadcast to small batches: (dtype, value, n) -> read-only column
_SMALL_COLUMNS: dict = {}


def _locked(fn):
    """Run a facade method under the manager lock (re-entrant per thread)."""
    @functools.wraps(fn)
    def wrapper(self, *args, **kwargs):
        with self.core:
            return fn(self, *args, **kwargs)
    return wrapper


def _lock_methods(cls):
    """Wrap every public method of ``cls`` defined here in :func:`_locked`;
    generators take the lock per step themselves."""
    for name, fn in list(vars(cls).items()):
        if name.startswith("_") or not inspect.isfunction(fn) or inspect.isgeneratorfunction(fn):
            continue
        setattr(cls, name, _locked(fn))
    return cls


def _locked_manager(fn):
    @functools.wraps(fn)
    def wrapper(self, *args, **kwargs):
        with self._core:
            return fn(self, *args, **kwargs)
    return wrapper


class _Registration:
    """What a manager keeps of one registration.

    It refers to neither the manager nor an :class:`Entity` object: the
    manager holds these, and its Entity objects only weakly, so that a
    manager and its entities form no reference cycle and their tables are
    freed as soon as the last of them is dropped (a cycle would keep them
    until the garbage collector's next full pass: one table after another
    built in a loop would pile up)."""

    __slots__ = ("event_callback", "export_methods", "handle", "info", "profile",
                 "reserve_opaque_pointer", "slot", "v6")

    def __init__(self, handle: int, slot: int, v6: int, info: EntityInfo, profile: RegnProfile,
                 event_callback, export_methods: list, reserve_opaque_pointer: bool):
        self.handle = handle
        self.slot = slot
        self.v6 = v6
        self.info = info
        self.profile = profile
        self.event_callback = event_callback
        self.export_methods = export_methods
        self.reserve_opaque_pointer = reserve_opaque_pointer


def _registration_field(name: str, doc: str) -> property:
    def get(self):
        return getattr(self._reg, name)

    def set_(self, value):
        setattr(self._reg, name, value)
    return property(get, set_, doc=doc)


@_lock_methods
class Entity(EntityExtras, EntityCore):
    """A registered client of the manager (the RTMv2 registration handle).

    Obtain one from :meth:`RoutingTableManager.register_entity`.  ``handle``
    is the registration handle; ``profile`` the registration profile; ``info``
    the identity.

    An Entity keeps its manager alive; the manager keeps the registration
    (its callback, methods and identity) but not the Entity object itself.
    While the caller holds an Entity, :attr:`RoutingTableManager.entities`
    returns that same object; once every reference to it is gone, a new one
    for the same registration is made when needed (attributes a caller set
    on the old object itself are not carried over).
    """

    manager: "RoutingTableManager"
    _reg: _Registration
    info = _registration_field("info", "The registration's identity (EntityInfo).")
    profile = _registration_field("profile", "The registration profile (RegnProfile).")
    event_callback = _registration_field(
        "event_callback", "``event_callback(entity_handle, event_type, context1, context2)`` "
        "or None (see :meth:`RoutingTableManager.register_entity`).")
    export_methods = _registration_field(
        "export_methods", "The methods this entity exports (see invoke_method).")
    reserve_opaque_pointer = _registration_field(
        "reserve_opaque_pointer", "Whether the entity reserved an opaque pointer slot.")

    # -- registration ---------------------------------------------------------
    def deregister_entity(self) -> None:
        """Deregister (``RtmDeregisterEntity``).

        The entity's routes are deleted (best routes recomputed for the
        others), its next hops leave its table; handles others hold on them stay
        readable until released.  Every other call with this entity afterwards
        raises ``InvalidHandle``.
        """
        self._live()
        self.manager._deregister(self)

    def _live(self) -> None:
        self.core.ent_check(self.handle)

    def get_registered_entities(self) -> tuple[list[int], list[EntityInfo]]:
        """Entities registered with this manager and family, the caller included.

        Returns ``(handles, infos)``; each handle carries a reference
        (:meth:`release_entities`).
        """
        self._live()
        slots = self.core.ent_registered(self.v6)
        handles = [self.core.ent_ref(e) for e in slots]
        return handles, [self.manager._entity_info(e) for e in slots]

    def release_entities(self, handles: Iterable[int]) -> None:
        """Release entity handles from :meth:`get_registered_entities`."""
        self._live()
        self.core.release_handles(_handles(handles), 1)

    def get_entity_info(self, entity_handle: int) -> EntityInfo:
        """Identity of an entity (``RtmGetEntityInfo``)."""
        self._live()
        e = self.core.ent_check(int(entity_handle), False)
        return self.manager._entity_info(e)

    def release_entity_info(self, info: EntityInfo) -> None:
        """``RtmReleaseEntityInfo``: an entity info holds no handles; validates only."""
        self._live()
        if not isinstance(info, EntityInfo):
            raise E.InvalidParameter("expected an EntityInfo")

    # -- next hops ----------------------------------------------------------------
    def _nh_key(self, address) -> NetAddress:
        if address is None:
            raise E.InvalidParameter("a next hop needs an address")
        try:
            return address if isinstance(address, NetAddress) else NetAddress(address, self.family)
        except E.RtmError:
            raise
        except Exception as exc:  # pragma: no cover - defensive
            raise E.InvalidParameter(f"{address!r}: {exc}") from None

    def add_next_hop(self, next_hop_info: NextHopInfo | object = None, *, address=None,
                     interface_index: int | None = None, flags: int | None = None,
                     entity_specific_info: int | None = None, remote_next_hop: int | None = None,
                     next_hop: int | None = None, return_handle: bool = True):
        """Add or update a next hop in the caller's table (``RtmAddNextHop``).

        The first argument is a :class:`NextHopInfo` or just the address
        (``"192.0.2.1"``); keywords override its fields.  ``next_hop``: handle of
        a next hop to update.  Otherwise the next hop is found by (address,
        interface index), updated if found, created if not.

        Returns ``(handle or None, change_flags)``; ``RTM_NEXTHOP_CHANGE_NEW``
        if created.  The handle carries a reference (:meth:`release_next_hops`).
        """
        self._live()
        if isinstance(next_hop_info, NextHopInfo):
            nhi = next_hop_info
        else:
            nhi = NextHopInfo(next_hop_address=None)
            if address is None:
                address = next_hop_info
        addr = self._nh_key(address if address is not None else nhi.next_hop_address)
        ifindex = nhi.interface_index if interface_index is None else interface_index
        fl = nhi.flags if flags is None else flags
        info = nhi.entity_specific_info if entity_specific_info is None else entity_specific_info
        remote = nhi.remote_next_hop if remote_next_hop is None else remote_next_hop
        if not 0 <= ifindex <= 0xFFFFFFFF or not 0 <= fl <= 0xFFFF:
            raise E.InvalidParameter("interface index or flags out of range")
        if not 0 <= int(info or 0) <= 0xFFFFFFFFFFFFFFFF or \
                not 0 <= int(remote or 0) <= 0xFFFFFFFFFFFFFFFF:
            raise E.InvalidParameter("entity_specific_info / remote_next_hop: unsigned 64-bit")
        if addr.family != self.family:
            raise E.InvalidParameter(f"next hop {addr} is not in this entity's address family")
        h, cf = self.core.nh_add(self.slot, self.v6, addr.hi, addr.lo, addr.plen, ifindex, fl,
                                 int(info or 0), int(remote or 0), int(next_hop or 0),
                                 bool(return_handle))
        if next_hop:
            return (int(next_hop) if return_handle else None), cf
        return (h if return_handle else None), cf

    def _nh_find(self, next_hop_info, interface_index) -> int:
        """Slot of the caller's live next hop named by a NextHopInfo or an
        address (+ interface); NotFound if there is none."""
        if isinstance(next_hop_info, NextHopInfo):
            addr = self._nh_key(next_hop_info.next_hop_address)
            ifindex = next_hop_info.interface_index if interface_index is None else interface_index
        else:
            addr = self._nh_key(next_hop_info)
            ifindex = interface_index or 0
        s = self.core.nh_find(self.slot, self.v6, addr.hi, addr.lo, addr.plen, ifindex)
        if not s:
            raise E.NotFound(f"no next hop {addr} on interface {ifindex}")
        return s

    def find_next_hop(self, next_hop_info: NextHopInfo | object, interface_index: int | None = None):
        """Find the caller's next hop by (address, interface) (``RtmFindNextHop``).

        Returns a referenced handle; raises ``NotFound``.
        """
        self._live()
        s = self._nh_find(next_hop_info, interface_index)
        h = self.core.nh_slot_handle(s)
        self.core.reference_handles([h])
        return h

    def get_next_hop_info(self, next_hop: int) -> NextHopInfo:
        """Copy a next hop (``RtmGetNextHopInfo``); release with
        :meth:`release_next_hop_info`."""
        self._live()
        s = self.core.nh_check(next_hop)
        return self._nh_info(s, True)

    def _nh_info(self, s: int, refs: bool) -> NextHopInfo:
        v6, hi, lo, plen, owner, ifindex, state, flags, info, remote = self.core.nh_info(s, refs)
        addr = NetAddress((((hi << 64) | lo) if v6 else (hi >> 32), plen), 6 if v6 else 4)
        return NextHopInfo(addr, ifindex, flags, info, remote, owner, state, _refs_held=refs)

    def release_next_hop_info(self, info: NextHopInfo) -> None:
        """Release the handles inside a next-hop info (its owner)."""
        self._live()
        if not isinstance(info, NextHopInfo) or not info._refs_held:
            raise E.InvalidHandle("not a next-hop info from get_next_hop_info, or already released")
        self.core.release_handles([info.next_hop_owner], 1)
        info._refs_held = False

    def delete_next_hop(self, next_hop: int | None = None,
                        next_hop_info: NextHopInfo | object = None,
                        interface_index: int | None = None) -> None:
        """Delete one of the caller's next hops (``RtmDeleteNextHop``), by handle
        (consumed) or by (address, interface).  Routes using it keep it until
        they are updated (decision U37)."""
        self._live()
        if next_hop:
            s = self.core.nh_check(next_hop)
            if self.core.nh_owner(s) != self.slot:
                raise E.AccessDenied("the next hop belongs to another entity")
            self.core.nh_delete(s)
            if self.core.ref_count(int(next_hop)):
                self.core.release_handles([int(next_hop)], 4)
            return
        s = self._nh_find(next_hop_info, interface_index)
        self.core.nh_delete(s)

    def release_next_hops(self, handles: Iterable[int]) -> None:
        """Release next-hop handles (``RtmReleaseNextHops``)."""
        self._live()
        self.core.release_handles(_handles(handles), 4)

    # -- routes -------------------------------------------------------------------
    def get_route_info(self, route: int) -> tuple[RouteInfo, NetAddress]:
        """Copy a route and its destination's address (``RtmGetRouteInfo``).

        Works for deleted routes still referenced (state DELETED).  Release the
        route info with :meth:`release_route_info`.
        """
        self._live()
        r = self.core.route_check(route)
        ri = self._route_info(r, True)
        return ri, self.core.dest_address(self.core.route_dest(r))

    def _route_info(self, r: int, refs: bool) -> RouteInfo:
        return self.core.route_info_object(r, refs)

    # release_route_info is EntityCore's (C level).

    def release_routes(self, handles: Iterable[int]) -> None:
        """Release route handles (``RtmReleaseRoutes``)."""
        self._live()
        self.core.release_handles(_handles(handles), 3)

    def is_best_route(self, route: int) -> int:
        """Views in which the route is the best route (``RtmIsBestRoute``)."""
        self._live()
        return self.core.route_best_views(self.core.route_check(route))

    def reference_handles(self, handles: Iterable[int]) -> None:
        """One more reference on each handle (``RtmReferenceHandles``)."""
        self._live()
        self.core.reference_handles(_handles(handles))

    # -- destinations -----------------------------------------------------------
    def _proto(self, protocol_id: int) -> tuple[int, int]:
        if protocol_id == C.RTM_BEST_PROTOCOL:
            return 0, 0
        if protocol_id == C.RTM_THIS_PROTOCOL:
            return 1, self.info.entity_protocol_id
        return 1, protocol_id

    def _dest_info(self, d: int, views: int, protocol_id: int, refs: bool) -> DestInfo:
        mode, proto = self._proto(protocol_id)
        return self.core.dest_info(d, views, mode, proto, refs)

    def _key(self, prefix, strict: bool = True) -> NetAddress:
        if type(prefix) is NetAddress:
            if prefix.family != self.family:
                raise E.InvalidParameter(f"{prefix}: not in this entity's address family")
            return prefix
        return NetAddress(prefix, self.family, strict)

    def get_dest_info(self, dest: int, protocol_id: int = C.RTM_BEST_PROTOCOL,
                      target_views: int = C.RTM_VIEW_MASK_ALL) -> DestInfo:
        """A destination's information (``RtmGetDestInfo``); release with
        :meth:`release_dest_info`."""
        self._live()
        views = self._views(target_views)
        return self._dest_info(self.core.dest_check(dest), views, protocol_id, True)

    def release_dest_info(self, info: DestInfo) -> None:
        """Release the handles inside a destination info (``RtmReleaseDestInfo``)."""
        self._live()
        if not isinstance(info, DestInfo) or not info._refs_held:
            raise E.InvalidHandle("not a destination info with references, or already released")
        self._release_infos([info])

    def _release_infos(self, infos: list[DestInfo]) -> None:
        """Release the handles of checked infos in one engine call (all or none)."""
        hs = []
        for info in infos:
            hs.append(info.dest_handle)
            for v in info.view_info:
                hs += [h for h in (v.route, v.owner, v.hold_route) if h]
        self.core.release_handles(hs)
        for info in infos:
            info._refs_held = False

    def release_dests(self, infos: Iterable[DestInfo]) -> None:
        """Release a batch of destination infos (``RtmReleaseDests``); the whole
        batch is checked first, so a bad one releases nothing."""
        infos = list(infos)
        if len({id(i) for i in infos}) != len(infos) or not all(
                isinstance(i, DestInfo) and i._refs_held for i in infos):
            raise E.InvalidHandle("the batch holds an info twice, a released info, or no info")
        self._live()
        self._release_infos(infos)

    def get_exact_match_destination(self, prefix, protocol_id: int = C.RTM_BEST_PROTOCOL,
                                    target_views: int = C.RTM_VIEW_MASK_ALL) -> DestInfo:
        """The destination with exactly this prefix (``RtmGetExactMatchDestination``).

        With a non-zero ``target_views`` only destinations in one of those views
        count (decision U33).  Raises ``NotFound``.
        """
        self._live()
        k = self._key(prefix)
        views = self._views(target_views)
        d = self.core.dest_find(self.v6, k.hi, k.lo, k.plen, views)
        if not d:
            raise E.NotFound(f"no destination {k}")
        return self._dest_info(d, views, protocol_id, True)

    def get_most_specific_destination(self, prefix, protocol_id: int = C.RTM_BEST_PROTOCOL,
                                      target_views: int = C.RTM_VIEW_MASK_ALL) -> DestInfo:
        """Longest-prefix match (``RtmGetMostSpecificDestination``): the
        destination itself if it exists, else the longest one covering it."""
        self._live()
        k = self._key(prefix)
        views = self._views(target_views)
        d = self.core.dest_lpm(self.v6, k.hi, k.lo, k.plen, views)
        if not d:
            raise E.NotFound(f"no destination covers {k}")
        return self._dest_info(d, views, protocol_id, True)

    def get_less_specific_destination(self, dest: int, protocol_id: int = C.RTM_BEST_PROTOCOL,
                                      target_views: int = C.RTM_VIEW_MASK_ALL) -> DestInfo:
        """The next shorter destination covering ``dest``
        (``RtmGetLessSpecificDestination``); ``NotFound`` past the default route."""
        self._live()
        views = self._views(target_views)
        d = self.core.dest_less_specific(self.core.dest_check(dest), views)
        if not d:
            raise E.NotFound("no less specific destination")
        return self._dest_info(d, views, protocol_id, True)

    # get_exact_match_route is EntityCore's (C level); it asks _route_matches for the
    # next-hop and interface criteria.

    def _route_matches(self, ri: RouteInfo, flags: int, crit: RouteInfo | None,
                       ifindex: int) -> bool:
        if flags & (C.RTM_MATCH_OWNER | C.RTM_MATCH_NEIGHBOUR | C.RTM_MATCH_PREF |
                    C.RTM_MATCH_NEXTHOP):
            assert crit is not None        # both callers refuse these flags without criteria
            if flags & C.RTM_MATCH_OWNER and ri.route_owner != crit.route_owner:
                return False
            if flags & C.RTM_MATCH_NEIGHBOUR and ri.neighbour != (crit.neighbour or 0):
                return False
            if flags & C.RTM_MATCH_PREF and (ri.preference, ri.metric) != (crit.preference,
                                                                            crit.metric):
                return False
            if flags & C.RTM_MATCH_NEXTHOP and set(ri.next_hops) != set(crit.next_hops):
                return False
        if flags & C.RTM_MATCH_INTERFACE:
            ifs = [self.core.nh_info(self.core.nh_check(h), False)[5] for h in ri.next_hops]
            if ifindex not in ifs:
                return False
        return True

    # -- Pythonic prefix queries (snapshots, no references) -------------------------
    # search_exact and search_best are EntityCore's (C level, one call each).

    def search_worst(self, prefix, views: int = C.RTM_VIEW_MASK_ANY) -> DestInfo | None:
        """Shortest match: the least specific destination containing ``prefix``."""
        found = self.search_covering(prefix, views)
        return found[0] if found else None

    def search_covering(self, prefix, views: int = C.RTM_VIEW_MASK_ANY) -> list[DestInfo]:
        """Every destination containing ``prefix`` (itself included), shortest first."""
        self._live()
        k = self._key(prefix)
        ds = self.core.covering(self.v6, k.hi, k.lo, k.plen, self._views(views))
        return [self._dest_info(d, self.core.views_mask, 0, False) for d in ds]

    def search_covered(self, prefix, views: int = C.RTM_VIEW_MASK_ANY) -> list[DestInfo]:
        """Every destination inside ``prefix`` (itself included), in prefix order
        (ascending address, shorter first)."""
        self._live()
        k = self._key(prefix)
        ds = self.core.subtree(self.v6, k.hi, k.lo, k.plen, self._views(views))
        return [self._dest_info(d, self.core.views_mask, 0, False) for d in ds]

    def routes(self, prefix) -> list[RouteInfo]:
        """Snapshot of every route of a destination in selection order (best
        first; no references); empty if the destination does not exist."""
        self._live()
        k = self._key(prefix)
        d = self.core.dest_find(self.v6, k.hi, k.lo, k.plen, 0)
        return [self._route_info(r, False) for r in self.core.dest_routes(d)] if d else []

    # -- bulk NumPy paths ----------------------------------------------------------
    def _columns(self, addresses, lengths):
        """Addresses (+ lengths) -> (hi, lo, plen) uint64/uint64/uint8 columns."""
        a = np.asarray(addresses)
        if a.dtype.kind in "USO":
            from .io import parse_prefixes
            a, parsed = parse_prefixes(a, family=self.family)
            if lengths is None:
                lengths = parsed
        if self.v6:
            if a.ndim == 2 and a.shape[1] == 16 and a.dtype == np.uint8:
                a = a.view(">u8").astype(np.uint64).reshape(-1, 2)
            if a.ndim != 2 or a.shape[1] != 2:
                raise E.InvalidParameter("IPv6 addresses must be an (N, 2) uint64 or (N, 16) "
                                         "uint8 array")
            hi = np.ascontiguousarray(a[:, 0], dtype=np.uint64)
            lo = np.ascontiguousarray(a[:, 1], dtype=np.uint64)
            n = len(hi)
        else:
            if a.ndim != 1:
                raise E.InvalidParameter("IPv4 addresses must be a 1-D uint32 array")
            if a.dtype.kind == "i" and a.size and (a.min() < 0 or a.max() > 0xFFFFFFFF):
                raise E.InvalidParameter("IPv4 address out of range")
            hi = a.astype(np.uint64)
            hi <<= np.uint64(32)
            n = len(hi)
            # a large batch gets a view of zeros rather than a column of them
            lo = np.zeros(n, np.uint64) if n <= 4096 else np.broadcast_to(np.uint64(0), (n,))
        if lengths is None:
            raise E.InvalidParameter("lengths are required")
        if type(lengths) is np.ndarray and lengths.dtype == np.uint8 and lengths.shape == (n,):
            return hi, lo, np.ascontiguousarray(lengths), n     # the usual column, as it is
        ln = np.asarray(lengths)
        if ln.dtype.kind in "iu" and ln.size and (ln.min() < 0 or ln.max() > 255):
            raise E.InvalidParameter("prefix length out of range")
        plen = np.ascontiguousarray(np.broadcast_to(ln.astype(np.uint8), (n,)))
        return hi, lo, plen, n

    @staticmethod
    def _col(value, n: int, dtype, name: str):
        """A column of length n: an array checked for shape and range, or a
        scalar broadcast (small batches get a real, read-only array kept for
        the next call with the same value: cheaper than a view)."""
        if value is None:
            value = 0
        if isinstance(value, (int, np.integer)):
            lo, hi = _LIMITS[dtype]
            if not lo <= value <= hi:
                raise E.InvalidParameter(f"{name} {value!r} out of range for {np.dtype(dtype)}")
            if n <= 256:                     # small batches: a read-only column, made once
                key = (dtype, int(value), n)
                col = _SMALL_COLUMNS.get(key)
                if col is None:
                    if len(_SMALL_COLUMNS) >= 1024:
                        _SMALL_COLUMNS.clear()
                    col = np.full(n, value, dtype)
                    col.flags.writeable = False
                    _SMALL_COLUMNS[key] = col
                return col
            return np.broadcast_to(np.array(value, dtype), (n,))
        v = np.asarray(value)
        if v.ndim and v.shape != (n,):
            raise E.InvalidParameter(f"column {name!r} has shape {v.shape}, expected ({n},)")
        if v.dtype != dtype:
            if v.dtype.kind not in "iub":
                raise E.InvalidParameter(f"column {name!r}: integers expected, not {v.dtype}")
            lo, hi = _LIMITS[dtype]
            if v.size and (v.min() < lo or v.max() > hi):
                raise E.InvalidParameter(f"column {name!r} out of range for {np.dtype(dtype)}")
            v = v.astype(dtype)
        return v if v.ndim else np.broadcast_to(v, (n,))

    def add_routes(self, addresses, lengths=None, *, neighbour=0, next_hop=0, metric=0,
                   preference=0, views=C.RTM_VIEW_MASK_UCAST, flags=0, entity_specific_info=0,
                   change_flags: int = 0, time_to_live=C.INFINITE) -> np.ndarray:
        """Add or update many routes in one call (the bulk ``add_route_to_dest``).

        Parameters
        ----------
        addresses : array
            IPv4: ``uint32`` (N,); IPv6: ``(N, 2) uint64`` (hi, lo) or
            ``(N, 16) uint8``; or an array of prefix strings (then ``lengths``
            may be omitted).
        lengths : array or int
            Prefix lengths.
        neighbour, next_hop : int or uint64 array
            Next-hop handles of this entity (0 = none).
        metric, preference, views, flags, entity_specific_info : scalar or array
            Route fields, broadcast to N.
        time_to_live : int or array
            Milliseconds until each route expires (``INFINITE``: never; an
            update with ``INFINITE`` disarms the timer), O(log n) per route.
        change_flags : int
            Input flags for every row: 0, ``RTM_ROUTE_CHANGE_NEW`` or
            ``RTM_ROUTE_CHANGE_FIRST`` (identity rule of ``add_route_to_dest``).

        Returns
        -------
        numpy.ndarray of uint32
            The output change flags of each row, as ``add_route_to_dest`` returns
            them, rows applied in order.

        Every row is validated before the first is applied: on a bad row the
        exception names it and the table is unchanged.  Runs without the GIL.
        """
        self._live()
        if change_flags & ~(C.RTM_ROUTE_CHANGE_NEW | C.RTM_ROUTE_CHANGE_FIRST):
            raise E.InvalidParameter(f"input change flags {change_flags:#x}")
        hi, lo, plen, n = self._columns(addresses, lengths)
        out = np.zeros(n, np.uint32)
        st, row = self.core.bulk_add(
            self.slot, self.v6, hi, lo, plen,
            self._col(neighbour, n, np.uint64, "neighbour"),
            self._col(next_hop, n, np.uint64, "next_hop"),
            self._col(preference, n, np.uint32, "preference"),
            self._col(metric, n, np.uint32, "metric"),
            self._col(views, n, np.uint32, "views"),
            self._col(flags, n, np.uint16, "flags"),
            self._col(entity_specific_info, n, np.uint64, "entity_specific_info"),
            change_flags, out, self._col(time_to_live, n, np.uint32, "time_to_live"))
        if st:
            raise E.error_for_status(st, f"row {row}: " + _BULK_PROBLEM.get(st, "invalid"))
        if not (np.isscalar(time_to_live) and time_to_live == C.INFINITE):
            self.manager._timers_armed()      # some row may have armed a timer
        self.manager._dispatch()
        return out

    def delete_routes(self, addresses, lengths=None, *, neighbour=0,
                      any_neighbour: bool = False) -> np.ndarray:
        """Delete many of the caller's routes by identity (destination,
        neighbour); with ``any_neighbour`` the caller's first route of each
        destination.  Returns the change flags per row; a row that named no
        route gets ``DELETE_NOT_FOUND``."""
        self._live()
        hi, lo, plen, n = self._columns(addresses, lengths)
        out = np.zeros(n, np.uint32)
        st, row = self.core.bulk_delete(self.slot, self.v6, hi, lo, plen,
                                        self._col(neighbour, n, np.uint64, "neighbour"),
                                        bool(any_neighbour), out)
        if st:
            raise E.error_for_status(st, f"row {row}: " + _BULK_PROBLEM.get(st, "invalid"))
        self.manager._dispatch()
        return out

    def lookup(self, addresses, view: int = C.RTM_VIEW_ID_UCAST) -> LookupResult:
        """Longest-prefix match of many addresses in one view.

        ``addresses``: IPv4 ``uint32`` (N,); IPv6 ``(N, 2) uint64`` or
        ``(N, 16) uint8``.  Takes no references.  Lookups use an index per
        view, built on first use and kept in step with the table: DIR-24-8 for
        IPv4, a 16-8-...-8 multibit trie for IPv6 (which gives way to trie
        walks when scattered long prefixes would make it too large).  Its
        memory is reported by :meth:`RoutingTableManager.memory`.
        """
        self._live()
        if not isinstance(view, (int, np.integer)) or not 0 <= view < 32 or \
                not self.core.views_mask >> int(view) & 1:
            raise E.NotSupported(f"view {view!r} is not supported")
        a = np.asarray(addresses)
        if not self.v6 and a.dtype == np.uint32 and a.ndim == 1:
            n = len(a)
            nodes = np.empty(n, np.uint32)
            self.core.bulk_lookup4(a, int(view), nodes)
        else:
            hi, lo, _, n = self._columns(a, 0)
            nodes = np.empty(n, np.uint32)
            self.core.bulk_lookup(self.v6, hi, lo, int(view), nodes)
        return self._gather(nodes, int(view))

    # -- route aging and route lists on add (spec 1.10, 1.13) -------------------------
    def _extras_check(self, time_to_live, route_list) -> None:
        if not isinstance(time_to_live, (int, np.integer)) or not 0 <= time_to_live <= C.INFINITE:
            raise E.InvalidParameter(f"time_to_live {time_to_live!r}: milliseconds, or INFINITE")
        if route_list is not None and route_list != 0:
            self.core.list_check(route_list, self.slot)

    def _extras_apply(self, route: int, time_to_live, route_list) -> None:
        r = self.core.route_check(route)
        self.core.arm(r, int(time_to_live))
        if time_to_live != C.INFINITE:
            self.manager._timers_armed()
        if route_list is not None and route_list != 0:
            self.core.list_insert(self.core.list_check(route_list, self.slot),
                                  np.array([r], np.uint32))

    def get_route_expiry(self, route: int) -> int | None:
        """When the route expires (ms of the manager clock), or None."""
        self._live()
        return self.core.expiry_of(self.core.route_check(route))

    # -- hold-down (spec 1.9) ---------------------------------------------------------
    def hold_destination(self, dest: int, target_views: int = C.RTM_VIEW_MASK_ALL,
                         hold_time: int = 0) -> None:
        """Mark a destination for hold-down (``RtmHoldDestination``).

        From then on, when the last route of the destination in one of
        ``target_views`` is deleted, it becomes that view's hold route
        (``DestViewInfo.hold_route``, state DELETED) instead of vanishing, for
        the destination's hold time: the largest ``hold_time`` (ms) requested
        on it, counted from the hold route's creation, the same for every view
        (U14).  New routes are used normally meanwhile.  Hold routes and
        destinations with only hold routes are seen only with view mask 0.
        When the time is up the hold routes go (an ``RTM_CHANGE_TYPE_ALL``
        change).  ``hold_time`` 0 raises ``InvalidParameter``.
        """
        self._live()
        if not isinstance(hold_time, (int, np.integer)) or not 0 < hold_time <= 0xFFFFFFFF:
            raise E.InvalidParameter("hold_time must be 1..2**32-1 ms")
        views = self._views(target_views) or self.core.views_mask
        self.core.hold_mark(self.core.dest_check(dest), views, int(hold_time))
        self.manager._timers_armed()

    # -- client route lists (spec 1.13) ------------------------------------------------
    def create_route_list(self) -> int:
        """A new, empty list of the caller's routes (``RtmCreateRouteList``)."""
        self._live()
        return self.core.list_create(self.slot)

    def insert_in_route_list(self, route_list: int | None, routes: Iterable[int]) -> None:
        """Move routes into ``route_list`` (out of any list they were in); with
        ``route_list`` None, take them out of their lists
        (``RtmInsertInRouteList``).  Routes of another entity: ``AccessDenied``
        (U40).  The caller keeps its handle references."""
        self._live()
        i = self.core.list_check(route_list, self.slot) if route_list else 0
        slots = []
        for h in _handles(routes):
            r = self.core.route_check(h)
            if self.core.route_owner(r) != self.slot:
                raise E.AccessDenied("a route of another entity cannot go into a route list")
            if self.core.route_state(r) != C.RTM_ROUTE_STATE_CREATED:
                raise E.NotFound("the route was deleted")
            slots.append(r)
        self.core.list_insert(i, np.asarray(slots, np.uint32))

    def create_route_list_enum(self, route_list: int) -> int:
        """Start an enumeration of a route list (``RtmCreateRouteListEnum``).

        It walks the routes in the list when the enumeration is created, in
        list order, skipping routes that have left the list since (so routes
        may be moved out of the list while it is enumerated, decision U21)."""
        self._live()
        i = self.core.list_check(route_list, self.slot)
        return self.manager._new_enum(_EnumState(self.slot, "list", list_index=i,
                                                 routes=self.core.list_snapshot(i), pos=0,
                                                 list_handle=int(route_list)))

    def get_list_enum_routes(self, enum: int, num_routes: int | None = None) -> list[int]:
        """The next routes of a route-list enumeration (``RtmGetListEnumRoutes``),
        referenced (:meth:`release_routes`); a short or empty batch is the end."""
        self._live()
        st = self._enum(enum, "list")
        n = self._batch(num_routes)
        out: list[int] = []
        try:
            self.core.list_check(st.list_handle, self.slot)
        except E.InvalidHandle:
            return out                            # the list was deleted: nothing more
        while len(out) < n and st.pos < len(st.routes):
            h = int(st.routes[st.pos])
            st.pos += 1
            r = self.core.route_slot_or_zero(h)
            if r and self.core.list_member(r) == st.list_index:
                out.append(h)
        self.core.reference_handles(out)
        return out

    def delete_route_list(self, route_list: int) -> None:
        """Empty a route list (its routes stay) and free it (``RtmDeleteRouteList``)."""
        self._live()
        self.core.list_delete(self.core.list_check(route_list, self.slot))

    # -- enumerations (spec 1.12, 2.8) ------------------------------------------------
    def _range_start(self, enum_flags: int, net_address):
        """(cursor key, range key or None) of an enumeration's range flags."""
        rng = enum_flags & 0xF
        if rng not in (C.RTM_ENUM_START, C.RTM_ENUM_NEXT, C.RTM_ENUM_RANGE):
            raise E.InvalidParameter(f"enum flags {enum_flags:#x}: one of START, NEXT, RANGE")
        if rng == C.RTM_ENUM_START:
            return (0, 0, 0), None
        if net_address is None:
            raise E.InvalidParameter("RTM_ENUM_NEXT and RTM_ENUM_RANGE need an address")
        k = self._key(net_address)
        key = (k.hi, k.lo, k.plen)
        return key, (key if rng == C.RTM_ENUM_RANGE else None)

    def _batch(self, n) -> int:
        limit = self.profile.max_handles_in_enum
        n = limit if n is None else int(n)
        if not 0 <= n <= limit:
            raise E.InvalidParameter(f"batch of {n} is over MaxHandlesInEnum ({limit})")
        return n

    def _enum(self, handle, kind: str) -> "_EnumState":
        st = self.manager._enums.get(int(handle)) if isinstance(handle, (int, np.integer)) \
            else None
        if st is None or st.owner != self.slot or (kind and st.kind != kind):
            raise E.InvalidHandle(f"invalid enumeration handle {handle!r}")
        return st

    def create_dest_enum(self, target_views: int = C.RTM_VIEW_MASK_ALL,
                         enum_flags: int = C.RTM_ENUM_START, net_address=None,
                         protocol_id: int = C.RTM_BEST_PROTOCOL) -> int:
        """Start a destination enumeration (``RtmCreateDestEnum``).

        ``enum_flags``: one of ``RTM_ENUM_START`` (whole table),
        ``RTM_ENUM_NEXT`` (from ``net_address`` on, inclusive) or
        ``RTM_ENUM_RANGE`` (the subtree of ``net_address``, itself included),
        OR ``RTM_ENUM_OWN_DESTS`` (destinations whose best route in a target view
        is the caller's).  ``target_views`` 0 enumerates every destination and
        returns no per-view information.  Order: prefix order (ascending
        address, shorter first).  The enumeration is a live cursor keyed by the
        last prefix returned: destinations added after it are returned,
        destinations deleted before they are reached are not.
        """
        self._live()
        views = self._views(target_views)
        if enum_flags & ~(0xF | C.RTM_ENUM_OWN_DESTS):
            raise E.InvalidParameter(f"enum flags {enum_flags:#x}")
        cursor, rng = self._range_start(enum_flags, net_address)
        return self.manager._new_enum(_EnumState(
            self.slot, "dest", views=views, cursor=cursor, after=False, range=rng,
            own=bool(enum_flags & C.RTM_ENUM_OWN_DESTS), protocol_id=protocol_id))

    def _next_dests(self, st: "_EnumState", n: int) -> tuple[list[int], bool]:
        """Next destinations from the cursor (live: the end is never final)."""
        r_plen, r_hi, r_lo = (-1, 0, 0) if st.range is None else (st.range[2], st.range[0],
                                                                   st.range[1])
        hi, lo, plen = st.cursor
        own = self.slot if st.own and st.kind == "dest" else 0
        nodes, exhausted = self.core.enum_dests(self.v6, hi, lo, plen, st.after, st.views,
                                                own, r_plen, r_hi, r_lo, n)
        if nodes:
            _, h, l_, p = self.core.dest_key(nodes[-1])
            st.cursor, st.after = (h, l_, p), True
        st.done = exhausted
        return nodes, exhausted

    def get_enum_dests(self, enum: int, num_dests: int | None = None) -> list[DestInfo]:
        """The next destinations of an enumeration (``RtmGetEnumDests``), at most
        ``num_dests`` (default and maximum: ``max_handles_in_enum``); an empty
        list at the end.  Release them with :meth:`release_dests`."""
        self._live()
        st = self._enum(enum, "dest")
        nodes, _ = self._next_dests(st, self._batch(num_dests))
        return [self._dest_info(d, st.views, st.protocol_id, True) for d in nodes]

    def create_route_enum(self, dest: int | None = None,
                          target_views: int = C.RTM_VIEW_MASK_ALL,
                          enum_flags: int = C.RTM_ENUM_START, start_dest=None,
                          matching_flags: int = C.RTM_MATCH_NONE,
                          criteria_route: RouteInfo | None = None,
                          criteria_interface: int = 0) -> int:
        """Start a route enumeration (``RtmCreateRouteEnum``) over one
        destination (``dest``) or the table (range flags as in
        :meth:`create_dest_enum`, from ``start_dest``), optionally only the
        caller's routes (``RTM_ENUM_OWN_ROUTES``) and only routes matching the
        criteria (as :meth:`get_exact_match_route`).  Order: destinations in
        prefix order, routes in selection order.  Routes are resumed by
        position within their destination."""
        self._live()
        views = self._views(target_views)
        if enum_flags & ~(0xF | C.RTM_ENUM_OWN_ROUTES):
            raise E.InvalidParameter(f"enum flags {enum_flags:#x}")
        if matching_flags & ~C.RTM_MATCH_INTERFACE & C.RTM_MATCH_FULL and criteria_route is None:
            raise E.InvalidParameter("these matching flags need a criteria_route")
        if dest:
            d = self.core.dest_check(dest)
            _, h, l_, p = self.core.dest_key(d)
            cursor, rng = (h, l_, p), (h, l_, p)
            one = True
        else:
            cursor, rng = self._range_start(enum_flags, start_dest)
            one = False
        return self.manager._new_enum(_EnumState(
            self.slot, "route", views=views, cursor=cursor, after=False, range=rng, one=one,
            own=bool(enum_flags & C.RTM_ENUM_OWN_ROUTES), match=matching_flags,
            criteria=criteria_route, interface=criteria_interface))

    def get_enum_routes(self, enum: int, num_routes: int | None = None) -> list[int]:
        """The next route handles of an enumeration (``RtmGetEnumRoutes``), each
        holding a reference (:meth:`release_routes`); an empty list at the end."""
        self._live()
        st = self._enum(enum, "route")
        n = self._batch(num_routes)
        out: list[int] = []
        while len(out) < n:
            if st.pending:
                h = st.pending.pop(0)
                r = self.core.route_slot_or_zero(h)
                if r and (self.core.route_state(r) == C.RTM_ROUTE_STATE_CREATED or
                          (not st.views and self.core.route_is_held(r))):
                    out.append(h)
                continue
            if st.one and st.done:
                break
            if st.one:
                st.done = True
                assert st.range is not None     # one destination: its key is the range
                d = self.core.dest_find(self.v6, *st.range, 0)
            else:
                nodes, _ = self._next_dests(st, 1)
                d = nodes[0] if nodes else 0
            if not d:
                break
            if st.views and not st.match:    # no criteria: filtered in the engine
                st.pending += self.core.dest_route_handles(d, st.views,
                                                           self.slot if st.own else 0)
                continue
            routes = self.core.dest_routes(d)
            if not st.views:      # view mask 0: hold routes too (spec 1.7)
                held = [self.core.route_check(h) for h in dict.fromkeys(self.core.hold_info(d)[3])
                        if h]
                routes += [r for r in held if r not in routes]
            for r in routes:
                ri = self._route_info(r, False)
                if st.views and not ri.belongs_to_views & st.views:
                    continue
                if st.own and self.core.route_owner(r) != self.slot:
                    continue
                if self._route_matches(ri, st.match, st.criteria, st.interface):
                    st.pending.append(self.core.route_handle(r))
        self.core.reference_handles(out)
        return out

    def create_next_hop_enum(self, enum_flags: int = C.RTM_ENUM_START, net_address=None) -> int:
        """Start an enumeration of the caller's next hops by address
        (``RtmCreateNextHopEnum``); ``RTM_ENUM_RANGE`` 10.0.0.0/8 gives the next
        hops with addresses in 10.0.0.0 - 10.255.255.255 (decision U38)."""
        self._live()
        if enum_flags & ~0xF:
            raise E.InvalidParameter(f"enum flags {enum_flags:#x}")
        cursor, rng = self._range_start(enum_flags, net_address)
        return self.manager._new_enum(_EnumState(self.slot, "nexthop", cursor=cursor, range=rng,
                                                 after=False, last=None))

    def get_enum_next_hops(self, enum: int, num_next_hops: int | None = None) -> list[int]:
        """The next next-hop handles (``RtmGetEnumNextHops``), referenced; an
        empty list at the end."""
        self._live()
        st = self._enum(enum, "nexthop")
        n = self._batch(num_next_hops)
        out: list[int] = []
        st.done = False                    # set again when this batch reaches the end
        for s in self.core.nh_slots(self.slot):
            v6, hi, lo, plen, _, ifindex, *_ = self.core.nh_info(s, False)
            key = (hi, lo, plen, ifindex)
            if st.last is not None and key <= st.last:
                continue
            if st.range is None:
                if key[:3] < st.cursor:
                    continue
            elif not NetAddress((((st.range[0] << 64) | st.range[1]) if self.v6 else
                                 st.range[0] >> 32, st.range[2]), self.family).network \
                    .supernet_of(NetAddress(((hi << 64 | lo) if self.v6 else hi >> 32, 128 if
                                             self.v6 else 32), self.family).network):
                continue
            if len(out) == n:
                break                      # a next hop is left after this batch
            out.append(self.core.nh_slot_handle(s))
            st.last = key
        else:
            st.done = True
        self.core.reference_handles(out)
        return out

    def delete_enum_handle(self, enum: int) -> None:
        """End an enumeration of any kind (``RtmDeleteEnumHandle``)."""
        self._live()
        self._enum(enum, "")
        del self.manager._enums[int(enum)]

    def destinations(self, target_views: int = C.RTM_VIEW_MASK_ANY, prefix=None,
                     own: bool = False, batch: int | None = None):
        """Iterate over destinations in prefix order (all, or the subtree of
        ``prefix``), yielding snapshots without references; the table may
        change during the iteration (live cursor)."""
        self._live()
        flags = (C.RTM_ENUM_RANGE if prefix is not None else C.RTM_ENUM_START) | \
            (C.RTM_ENUM_OWN_DESTS if own else 0)
        views = self._views(target_views)
        cursor, rng = self._range_start(flags, prefix)
        st = _EnumState(self.slot, "dest", views=views, cursor=cursor, after=False, range=rng,
                        own=own, protocol_id=C.RTM_BEST_PROTOCOL)
        n = batch or self.profile.max_handles_in_enum
        while True:
            with self.core:
                self._live()
                nodes, _ = self._next_dests(st, n)
                infos = [self._dest_info(d, views, C.RTM_BEST_PROTOCOL, False) for d in nodes]
            yield from infos
            if st.done:
                return

    # -- change notification (spec 1.11, 2.9) ------------------------------------------
    def register_for_change_notification(self, target_views: int = C.RTM_VIEW_MASK_ALL,
                                         notify_flags: int = C.RTM_CHANGE_TYPE_BEST,
                                         context=None) -> int:
        """Create a change-notification registration
        (``RtmRegisterForChangeNotification``) and return its notify handle.

        ``notify_flags``: OR of ``RTM_CHANGE_TYPE_ALL`` (any route change),
        ``RTM_CHANGE_TYPE_BEST`` (the best route, or its preference, metric,
        next hops or flags), ``RTM_CHANGE_TYPE_FORWARDING`` (as BEST, without
        changes of non-forwarding flags only), and optionally
        ``RTM_NOTIFY_ONLY_MARKED_DESTS``.  Changes in ``target_views`` are
        queued, one pending entry per destination (changes coalesce); fetch
        them with :meth:`get_changed_dests` or :meth:`drain_changes`.  When
        the queue goes from empty to non-empty the entity's ``event_callback``
        gets ``RTM_CHANGE_NOTIFICATION`` with this handle and ``context``,
        after the call that changed the table has finished.  Raises
        ``NoSystemResources`` past the manager's ``max_notifications``, and
        ``InvalidParameter`` inside a change-notification callback.
        """
        self._live()
        if self.manager._dispatching:
            raise E.InvalidParameter("register_for_change_notification is not allowed inside "
                                     "a change-notification callback")
        if not (0 <= target_views <= 0xFFFFFFFF and 0 <= notify_flags <= 0xFFFFFFFF):
            raise E.InvalidParameter("target_views and notify_flags are 32-bit masks")
        h = self.core.notify_register(self.slot, int(target_views), int(notify_flags))
        self.manager._notify[self.core.notify_check(h, self.slot)] = (h, self.slot, context)
        return h

    def deregister_from_change_notification(self, notify: int) -> None:
        """End a registration (``RtmDeregisterFromChangeNotification``); its
        pending changes and marks are dropped."""
        self._live()
        g = self.core.notify_check(notify, self.slot)
        self.core.notify_deregister(g)
        self.manager._notify.pop(g, None)

    def get_changed_dests(self, notify: int, num_dests: int | None = None) -> list[DestInfo]:
        """Take up to ``num_dests`` (default ``max_handles_in_enum``) changed
        destinations off the queue, oldest change first, with their *current*
        information (``RtmGetChangedDests``); an empty list when none is left.
        Release them with :meth:`release_changed_dests`."""
        self._live()
        g = self.core.notify_check(notify, self.slot)
        n = self.profile.max_handles_in_enum if num_dests is None else int(num_dests)
        if not 0 <= n <= self.profile.max_handles_in_enum:
            raise E.InvalidParameter(f"num_dests {n} is over MaxHandlesInEnum "
                                     f"({self.profile.max_handles_in_enum})")
        nodes = self.core.notify_pop(g, n)
        views = self.core.notify_views(g)
        infos = [self._dest_info(d, views, C.RTM_BEST_PROTOCOL, True) for d in nodes]
        self.core.release_nodes(np.asarray(nodes, np.uint32))
        for info in infos:
            info._notify = int(notify)
        return infos

    def release_changed_dests(self, notify: int, infos: Iterable[DestInfo]) -> None:
        """Release infos from :meth:`get_changed_dests` of that registration
        (``RtmReleaseChangedDests``)."""
        self._live()
        self.core.notify_check(notify, self.slot)
        infos = list(infos)
        for info in infos:
            if getattr(info, "_notify", None) != int(notify):
                raise E.InvalidHandle("not a changed-destination info of this registration")
        if len({id(i) for i in infos}) != len(infos) or not all(i._refs_held for i in infos):
            # checked before any is released, as release_dests does: a bad batch
            # releases nothing
            raise E.InvalidHandle("the batch holds an info twice or one already released")
        self._release_infos(infos)

    def ignore_changed_dests(self, notify: int, dests: Iterable[int]) -> None:
        """Drop the pending change of each destination (``RtmIgnoreChangedDests``);
        a later change queues it again.  The handles are not consumed."""
        self._live()
        g = self.core.notify_check(notify, self.slot)
        slots = [self.core.dest_check(h) for h in _handles(dests)]
        for d in slots:
            self.core.notify_ignore(g, d)

    def get_change_status(self, notify: int, dest: int) -> bool:
        """True while the destination has a change not yet retrieved on this
        registration (``RtmGetChangeStatus``)."""
        self._live()
        g = self.core.notify_check(notify, self.slot)
        return self.core.notify_status(g, self.core.dest_check(dest))

    def mark_dest_for_change_notification(self, notify: int, dest: int,
                                          mark: bool = True) -> None:
        """Mark (or unmark) a destination for a registration made with
        ``RTM_NOTIFY_ONLY_MARKED_DESTS`` (``RtmMarkDestForChangeNotification``)."""
        self._live()
        g = self.core.notify_check(notify, self.slot)
        self.core.notify_mark(g, self.core.dest_check(dest), bool(mark))

    def is_marked_for_change_notification(self, notify: int, dest: int) -> bool:
        """``RtmIsMarkedForChangeNotification``."""
        self._live()
        g = self.core.notify_check(notify, self.slot)
        return self.core.notify_is_marked(g, self.core.dest_check(dest))

    def drain_changes(self, notify: int, view: int = C.RTM_VIEW_ID_UCAST) -> "ChangeColumns":
        """Take every pending change of a registration as NumPy columns, in one
        call, for simulations that consume millions of changes.

        Returns :class:`ChangeColumns` with, per changed destination (oldest
        change first): ``prefix``, ``length``, ``route`` (best route of
        ``view`` now, 0 if the destination has none: a withdrawal),
        ``next_hop`` (its first next hop) and ``dest``.  Takes no references:
        the handles are snapshots.
        """
        self._live()
        g = self.core.notify_check(notify, self.slot)
        if not 0 <= view < 32 or not self.core.views_mask >> view & 1:
            raise E.NotSupported(f"view {view!r} is not supported")
        nodes = self.core.notify_drain(g, int(view))
        res = self._gather(nodes, int(view))
        route = np.empty(len(nodes), np.uint64)
        self.core.best_routes(nodes, int(view), route)
        self.core.release_nodes(nodes)
        return ChangeColumns(res.prefix, res.length, route, res.next_hop, res.dest)

    def _gather(self, nodes: np.ndarray, view: int) -> LookupResult:
        n = len(nodes)
        length = np.empty(n, np.int16)
        nh = np.empty(n, np.uint64)
        dest = np.empty(n, np.uint64)
        prefix: np.ndarray
        if self.v6:
            prefix = np.empty((n, 2), np.uint64)
            self.core.bulk_gather(nodes, view, np.empty(0, np.uint32), prefix, length, nh, dest)
        else:
            prefix = np.empty(n, np.uint32)
            self.core.bulk_gather(nodes, view, prefix, np.empty((0, 2), np.uint64), length, nh,
                                  dest)
        return LookupResult(prefix, length, nh, dest)

    def _signal(self) -> None:
        self.manager._dispatch()

    def __repr__(self) -> str:
        i = self.info
        return (f"<Entity protocol={i.entity_protocol_id} instance={i.entity_instance_id} "
                f"family=IPv{self.family} handle={self.handle:#x}>")


_LIMITS = {t: (int(np.iinfo(t).min), int(np.iinfo(t).max))
           for t in (np.uint8, np.uint16, np.uint32, np.uint64)}

_BULK_PROBLEM = {
    E.ERROR_INVALID_PARAMETER: "prefix length out of range, host bits set, or a deleted next hop",
    E.ERROR_INVALID_HANDLE: "invalid next-hop handle",
    E.ERROR_ACCESS_DENIED: "next hop of another entity",
    E.ERROR_NOT_SUPPORTED: "view mask names an unsupported view",
}


class RoutingTableManager:
    """One RTMv2 instance: an IPv4 and an IPv6 routing table.

    Parameters
    ----------
    instance_id : int
        ``RtmInstanceId`` (any value; instances share nothing).
    views : int
        Supported views (``ViewsSupported``); default unicast | multicast.
    max_next_hops_in_route : int
        ``MaxNextHopsInRoute`` (1..64, default 16).
    max_handles_in_enum : int
        ``MaxHandlesInEnum`` (default 256).
    max_notifications : int
        Change-notification registrations at most (1..32, default 16).
    max_opaque_pointers : int
        Entities that may reserve an opaque pointer (default 8).
    clock : VirtualClock, optional
        Where time comes from (route aging, ``last_changed``).  Default: the
        wall clock, with a background thread firing expiries when due.

    Locking: every call holds the manager's lock (re-entrant per thread), so
    a manager may be shared by threads; bulk calls keep it while they run
    without the GIL, and callbacks run with it held by the calling thread.

    Examples
    --------
    >>> import rtmcore
    >>> rtm = rtmcore.RoutingTableManager()
    >>> bgp = rtm.register_entity(rtmcore.PROTO_IP_BGP)
    >>> nh, _ = bgp.add_next_hop("192.0.2.1")
    >>> _, flags = bgp.add_route_to_dest("10.0.0.0/8", next_hops=nh, metric=5)
    >>> flags == rtmcore.RTM_ROUTE_CHANGE_NEW | rtmcore.RTM_ROUTE_CHANGE_BEST
    True
    >>> str(bgp.search_best("10.1.2.3").dest_address)
    '10.0.0.0/8'
    """

    def __init__(self, instance_id: int = 0, *, views: int = C.DEFAULT_VIEWS,
                 max_next_hops_in_route: int = C.DEFAULT_MAX_NEXT_HOPS_IN_ROUTE,
                 max_handles_in_enum: int = C.DEFAULT_MAX_HANDLES_IN_ENUM,
                 max_notifications: int = C.DEFAULT_MAX_NOTIFICATIONS, clock=None,
                 max_opaque_pointers: int = C.DEFAULT_MAX_OPAQUE_POINTERS):
        if not 0 <= instance_id <= 0xFFFF:
            raise E.BadConfiguration("instance_id must fit in 16 bits")
        if not 1 <= max_handles_in_enum <= 1 << 20:
            raise E.BadConfiguration("max_handles_in_enum must be within 1..2**20")
        self.instance_id = instance_id
        self.max_opaque_pointers = _check_max_opaque(max_opaque_pointers)
        self._core = Core(views, max_next_hops_in_route, max_notifications)
        self.max_handles_in_enum = max_handles_in_enum
        self._entities: dict[int, _Registration] = {}     # entity slot -> registration
        self._views: weakref.WeakValueDictionary[int, Entity] = weakref.WeakValueDictionary()
        self._notify: dict[int, tuple] = {}      # registration -> (handle, entity slot, context)
        self._enums: dict[int, _EnumState] = {}   # enumeration handle -> state
        self._enum_seq = 0
        self.clock = clock
        self._timer_thread: _TimerThread | None = None
        if clock is not None:
            clock._attach(self)
        self._dispatching = False

    @property
    def views_supported(self) -> int:
        return self._core.views_mask

    @property
    def core(self) -> Core:
        return self._core

    @_locked_manager
    def register_entity(self, protocol_id: int, instance_id: int = 0,
                        address_family: int = C.AF_INET, *,
                        export_methods: Sequence[Callable] | None = None,
                        event_callback: Callable | None = None,
                        reserve_opaque_pointer: bool = False) -> Entity:
        """Register an entity (``RtmRegisterEntity``) and return it.

        ``address_family``: ``AF_INET`` (2) or ``AF_INET6`` (23; Python's
        ``socket.AF_INET6`` is accepted too).  Raises ``AlreadyExists`` when
        (protocol_id, instance_id) is registered in that family already.
        ``event_callback(entity_handle, event_type, context1, context2)``
        receives ``RTM_ENTITY_REGISTERED`` / ``RTM_ENTITY_DEREGISTERED`` of the
        other entities of the same family.
        """
        if address_family not in _AF:
            raise E.InvalidParameter(f"address family {address_family!r}")
        if not (0 <= protocol_id <= 0xFFFFFFFF and 0 <= instance_id <= 0xFFFFFFFF):
            raise E.InvalidParameter("protocol and instance ids are 32-bit unsigned")
        if export_methods is not None and len(export_methods) > 32:
            raise E.InvalidParameter("at most 32 methods can be exported")
        if export_methods is not None and not all(m is None or callable(m)
                                                  for m in export_methods):
            raise E.InvalidParameter("exported methods must be callables (None leaves a gap)")
        v6 = _AF[address_family]
        h = self._core.ent_register(v6, protocol_id, instance_id)
        slot = self._core.ent_check(h)
        reg = _Registration(
            h, slot, v6,
            EntityInfo(self.instance_id, C.AF_INET6 if v6 else C.AF_INET, protocol_id,
                       instance_id),
            RegnProfile(self._core.max_nh, self.max_handles_in_enum,
                        self._core.views_mask, bin(self._core.views_mask).count("1")),
            event_callback, list(export_methods or []), bool(reserve_opaque_pointer))
        self._entities[slot] = reg
        ent = self._entity(slot)
        self._broadcast(reg, C.RTM_ENTITY_REGISTERED)
        return ent

    def _entity(self, slot: int) -> Entity:
        """The Entity object of a registered slot: the one a caller holds, or
        a new one (see :class:`_Registration`)."""
        ent = self._views.get(slot)
        if ent is None:
            reg = self._entities[slot]
            ent = Entity.__new__(Entity)
            ent._bind(self._core, reg.handle)
            ent.manager = self
            ent._reg = reg
            self._views[slot] = ent
        return ent

    def _broadcast(self, subject: _Registration, event: int) -> None:
        for other in list(self._entities.values()):
            if other is subject or other.v6 != subject.v6 or other.event_callback is None:
                continue
            other.event_callback(other.handle, event, subject.handle, subject.info)

    @_locked_manager
    def _deregister(self, ent: Entity) -> None:
        for g in self._core.notify_entity_regs(ent.slot):
            self._notify.pop(g, None)
        for h in [h for h, st in self._enums.items() if st.owner == ent.slot]:
            del self._enums[h]
        for i in self._core.list_entity_lists(ent.slot):
            self._core.list_delete(i)
        self._core.ent_deregister(ent.slot)
        reg = self._entities.pop(ent.slot)
        self._views.pop(ent.slot, None)
        self._broadcast(reg, C.RTM_ENTITY_DEREGISTERED)
        self._dispatch()

    def _next_timer(self):
        with self._core:
            return self._core.next_expiry()

    def _timers_armed(self) -> None:
        """A TTL was armed: on the wall clock, make sure the timer thread runs."""
        if self.clock is None:
            if self._timer_thread is None or not self._timer_thread.is_alive():
                self._timer_thread = _TimerThread(self)
                self._timer_thread.start()
            else:
                self._timer_thread.wake.set()

    @_locked_manager
    def process_timers(self) -> int:
        """Fire every route expiry due now (spec 1.10); returns how many fired.

        The owner's ``event_callback`` gets ``RTM_ROUTE_EXPIRED`` with a route
        handle holding a reference and a ``RouteInfo`` copy.  If it returns
        ``ERROR_NOT_SUPPORTED`` (50) the route is deleted (and the reference
        consumed); any other value means handled: the route stays and the
        callee owns the reference.  An owner without a callback has its route
        deleted (U16).  A callback that raises counts as handled: its route
        stays, its reference is released, and the first exception is raised
        here once every due expiry has been processed.
        """
        fired = 0
        error = None
        now = self._core.clock_now()
        while True:
            has_cb = np.zeros(max(self._entities, default=0) + 1, np.uint8)
            for slot, reg in self._entities.items():
                has_cb[slot] = reg.event_callback is not None
            # Routes of owners without a callback are deleted in the engine, in
            # time order, up to the first expiry that needs a Python call.
            deleted, item = self._core.expire_step(now, has_cb)
            fired += deleted
            if item is None:
                break
            self._dispatch()
            r = item[1]
            slot = self._core.route_owner(r)
            owner = self._entity(slot) if slot in self._entities else None
            h = self._core.route_handle(r)
            self._core.reference_handles([h])
            fired += 1
            cb = owner.event_callback if owner is not None else None
            verdict = E.ERROR_NOT_SUPPORTED
            if cb is not None:
                assert owner is not None
                try:
                    info = owner._route_info(r, False)
                    verdict = cb(owner.handle, C.RTM_ROUTE_EXPIRED, h, info)
                except Exception as exc:  # noqa: BLE001 - re-raised below
                    error = error or exc
                    self._core.release_handles([h])
                    continue
            if verdict == E.ERROR_NOT_SUPPORTED and \
                    self._core.route_state(r) == C.RTM_ROUTE_STATE_CREATED:
                assert owner is not None        # expire_step returns only registered owners
                owner.delete_route_to_dest(h)     # consumes the reference handed out
            # (a callback that deleted the route itself consumed that reference)
        self._dispatch()
        if error is not None:
            raise error
        return fired

    def _new_enum(self, st: _EnumState) -> int:
        """Handle of a new enumeration: kind 5, this manager's tag, a serial."""
        self._enum_seq += 1
        h = (5 << 60) | (self._core.tag << 48) | (self._enum_seq & 0xFFFFFFFFFFFF)
        self._enums[h] = st
        return h

    def _dispatch(self) -> None:
        """Call the ``event_callback`` of every registration whose queue went
        from empty to non-empty, after the table change is complete.

        A callback may call the manager (except
        ``register_for_change_notification``); changes it makes are
        signalled in the same dispatch loop, not recursively.  If callbacks
        raise, the others still run and the first exception is re-raised to
        the caller of the call that changed the table (which did complete).
        """
        if self._dispatching:
            return
        self._dispatching = True
        error = None
        try:
            while True:
                regs = self._core.take_signals()
                if not regs:
                    break
                for g in regs:
                    h, slot, context = self._notify.get(g, (0, 0, None))
                    reg = self._entities.get(slot)
                    if reg is None or reg.event_callback is None:
                        continue
                    try:
                        reg.event_callback(reg.handle, C.RTM_CHANGE_NOTIFICATION, h, context)
                    except Exception as exc:  # noqa: BLE001 - re-raised below
                        error = error or exc
        finally:
            self._dispatching = False
        if error is not None:
            raise error

    def _entity_info(self, slot: int) -> EntityInfo:
        proto, inst, v6, _ = self._core.ent_identity(slot)
        return EntityInfo(self.instance_id, C.AF_INET6 if v6 else C.AF_INET, proto, inst)

    @property
    def entities(self) -> list[Entity]:
        """The registered entities, in registration-slot order."""
        with self._core:
            return [self._entity(s) for s in sorted(self._entities)]

    @_locked_manager
    def counts(self, family: int = 4) -> tuple[int, int]:
        """(destinations, routes) in the table of ``family`` (4 or 6)."""
        return self._core.counts(1 if family == 6 else 0)

    @_locked_manager
    def memory(self) -> dict[str, int]:
        """Bytes allocated: ``table`` (trie, hash, routes, next hops) and
        ``lookup_index`` (the lookup indexes, if built)."""
        return {"table": self._core.table_bytes(),
                "lookup_index": self._core.lookup_index_bytes()}

    @_locked_manager
    def check_invariants(self) -> None:
        """Verify every structural invariant (slow; for tests)."""
        self._core.check_invariants()

    def __repr__(self) -> str:
        d4, r4 = self.counts(4)
        d6, r6 = self.counts(6)
        return (f"<RoutingTableManager instance={self.instance_id} IPv4 {d4} dests/{r4} routes, "
                f"IPv6 {d6} dests/{r6} routes, {len(self._entities)} entities>")


# Locks, direct pointers, opaque pointers and entity methods (rtmcore.extras)
# also hook registration, deregistration and callback dispatch of the manager.
_install_extras(Entity, RoutingTableManager)

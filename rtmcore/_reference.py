"""A slow, obviously right reference model of rtmcore's table semantics.

This module restates, in plain Python, what the specification
(``RTMV2.md`` sections 1.4-1.8, 1.16, 2.5-2.7 and decisions U5, U7, U10, U11,
U17, U30-U35, U44, U46) says about destinations, routes and next hops.  It is
used by the stateful tests (``tests/test_stateful.py``) as the oracle the
Cython core is compared with, so it deliberately shares nothing with
:mod:`rtmcore._core`:

* prefixes are :mod:`ipaddress` networks, parsed strictly;
* every table is a plain list scanned linearly; nothing is indexed or cached;
* the selection order of a destination is recomputed by sorting on every
  query: ``(preference, metric, stamp)`` where ``stamp`` is a global counter
  taken when the route is created or when its preference or metric changes
  (U11: a route that reaches a cost later goes after the routes it ties with;
  an update that keeps the cost keeps the position);
* objects are Python objects, not handles.  The caller (the test) maps the
  real handles to these objects.  :data:`FORGED` stands for a handle that
  never named anything; an object whose ``freed`` flag is set stands for a
  stale handle (U46).

Errors are raised as :class:`ModelError` carrying the *set* of Win32 status
codes that are acceptable.  The specification does not rank the faults of a
call that has several (say, a deleted route of another entity), so the model
lists every fault it finds and the test accepts any of them.  A call that
fails changes nothing.
"""
from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass, field

# Values from the specification (section 4); kept local so the model does not
# depend on the package it checks.
RTM_VIEW_MASK_UCAST = 0x1
RTM_VIEW_MASK_MCAST = 0x2
RTM_VIEW_MASK_ALL = 0xFFFFFFFF
RTM_ROUTE_CHANGE_FIRST = 0x01
RTM_ROUTE_CHANGE_NEW = 0x02
RTM_ROUTE_CHANGE_BEST = 0x00010000
RTM_NEXTHOP_CHANGE_NEW = 0x01
RTM_ROUTE_STATE_CREATED = 0
RTM_ROUTE_STATE_DELETED = 2
RTM_BEST_PROTOCOL = 0
RTM_THIS_PROTOCOL = 0xFFFFFFFF
DELETE_NOT_FOUND = 0x80000000          # rtmcore's marker for a bulk delete row that named nothing

ERROR_ACCESS_DENIED = 5
ERROR_INVALID_HANDLE = 6
ERROR_NOT_SUPPORTED = 50
ERROR_INVALID_PARAMETER = 87
ERROR_NOT_FOUND = 1168


class ModelError(Exception):
    """A call the model refuses; ``codes`` = every acceptable Win32 status."""

    def __init__(self, codes):
        self.codes = frozenset(codes)
        super().__init__(sorted(self.codes))


class _Forged:
    """A handle value that never named an object."""

    def __repr__(self) -> str:
        return "FORGED"


FORGED = _Forged()


@functools.lru_cache(maxsize=8192)
def _parse(family: int, prefix):
    """Strict parse of a prefix of ``family`` (None if refused).  Cached: the
    tests parse the same few prefixes millions of times."""
    max_len = 32 if family == 4 else 128
    try:
        if isinstance(prefix, tuple):
            value, length = prefix
            if not 0 <= length <= max_len or not 0 <= value < (1 << max_len):
                return None
            net = (ipaddress.IPv4Network if family == 4 else
                   ipaddress.IPv6Network)((value, length), strict=True)
        else:
            net = ipaddress.ip_network(prefix, strict=True)
    except (ValueError, TypeError):
        return None
    return net if net.version == family else None


def span(net) -> tuple[int, int]:
    """First and last address of a network, as integers."""
    return int(net.network_address), int(net.broadcast_address)


# ---------------------------------------------------------------------------
# Objects
# ---------------------------------------------------------------------------
@dataclass(eq=False)
class MEntity:
    index: int
    protocol_id: int
    instance_id: int

    def __repr__(self) -> str:
        return f"E{self.index}"


@dataclass(eq=False)
class MNextHop:
    id: int
    owner: MEntity
    address: object                   # ipaddress address
    ifindex: int
    live: bool = True                 # in its owner's table (not deleted)
    hrefs: int = 0                    # references held by callers (handles, infos)
    freed: bool = False               # gone: every handle to it is stale

    def __repr__(self) -> str:
        return f"NH{self.id}({self.owner!r} {self.address}%{self.ifindex}" + \
            ("" if self.live else " deleted") + ")"


@dataclass(eq=False)
class MDest:
    id: int
    prefix: object                    # ipaddress network
    hrefs: int = 0                    # references held by callers (dest infos, route infos)
    freed: bool = False

    def __post_init__(self):
        self.first, self.last = span(self.prefix)     # address range, for containment tests

    def inside(self, first: int, last: int) -> bool:
        """This prefix lies within the range [first, last]."""
        return first <= self.first and self.last <= last

    def covers(self, first: int, last: int) -> bool:
        """The range [first, last] lies within this prefix."""
        return self.first <= first and last <= self.last

    def __repr__(self) -> str:
        return f"D{self.id}({self.prefix})"


@dataclass(eq=False)
class MRoute:
    id: int
    owner: MEntity
    dest: MDest
    neighbour: MNextHop | None
    next_hops: tuple
    metric: int
    preference: int
    views: int
    flags: int
    flags1: int
    info: int
    stamp: int                        # when the route reached its current cost
    live: bool = True                 # False once deleted (state DELETED)
    refs: int = 0                     # references held by callers
    freed: bool = False

    @property
    def state(self) -> int:
        return RTM_ROUTE_STATE_CREATED if self.live else RTM_ROUTE_STATE_DELETED

    def fields(self) -> tuple:
        """What a route info shows, with objects for handles."""
        return (self.owner, self.neighbour, self.next_hops, self.metric, self.preference,
                self.views, self.flags, self.flags1, self.info)

    def __repr__(self) -> str:
        nbr = f" nbr=NH{self.neighbour.id}" if self.neighbour else ""
        nhs = ",".join(f"NH{n.id}" for n in self.next_hops)
        return (f"R{self.id}({self.owner!r} {self.dest.prefix}{nbr} nh=[{nhs}] "
                f"pref={self.preference} metric={self.metric} views={self.views:#x} "
                f"flags={self.flags:#x}" + ("" if self.live else " DELETED") + ")")


@dataclass
class MViewInfo:
    view_id: int
    num_routes: int
    route: MRoute | None
    owner: MEntity | None
    dest_flags: int


@dataclass
class MDestInfo:
    dest: MDest
    belongs_to_views: int
    view_info: list = field(default_factory=list)
    refs_held: bool = False


@dataclass
class MRouteInfo:
    route: MRoute
    dest: MDest
    neighbour: MNextHop | None
    next_hops: tuple
    refs_held: bool = True


# ---------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------
class Model:
    """One table (one address family) plus the entities registered with it."""

    def __init__(self, family: int = 4, views: int = RTM_VIEW_MASK_UCAST | RTM_VIEW_MASK_MCAST,
                 max_next_hops: int = 16):
        assert family in (4, 6)
        self.family = family
        self.max_len = 32 if family == 4 else 128
        self.supported = views
        self.view_ids = [v for v in range(32) if views >> v & 1]
        self.max_next_hops = max_next_hops
        self.entities: list[MEntity] = []
        self.next_hops: list[MNextHop] = []    # not freed
        self.routes: list[MRoute] = []         # not freed (live, or deleted and referenced)
        self.dests: list[MDest] = []           # existing destinations
        self._ids = 0
        self._clock = 0

    # -- helpers -----------------------------------------------------------------
    def _id(self) -> int:
        self._ids += 1
        return self._ids

    def _tick(self) -> int:
        self._clock += 1
        return self._clock

    def parse(self, prefix):
        """A prefix argument -> network; ModelError(INVALID_PARAMETER) if bad.

        Accepts text (an address alone is a host prefix) or ``(int, length)``.
        Host bits set, a length out of range or another family are refused (U5).
        """
        net = _parse(self.family, prefix)
        if net is None:
            raise ModelError({ERROR_INVALID_PARAMETER})
        return net

    def _clip_views(self, views: int, faults: set, for_route: bool) -> int:
        """U10: ALL = the supported views; another unsupported bit is refused;
        a route needs at least one view (a query mask 0 means 'any')."""
        if views == RTM_VIEW_MASK_ALL:
            views = self.supported
        if views & ~self.supported:
            faults.add(ERROR_NOT_SUPPORTED)
        elif for_route and views == 0:
            faults.add(ERROR_INVALID_PARAMETER)
        return views

    def _check_next_hop(self, ent: MEntity, nh, faults: set, allow_none: bool):
        """U31: a next hop (or neighbour) used in a route of ``ent``."""
        if nh is None or nh == 0:
            if not allow_none:
                faults.add(ERROR_INVALID_HANDLE)
            return
        if nh is FORGED or nh.freed:
            faults.add(ERROR_INVALID_HANDLE)
        elif nh.owner is not ent:
            faults.add(ERROR_ACCESS_DENIED)
        elif not nh.live:
            faults.add(ERROR_INVALID_PARAMETER)

    def find_dest(self, net) -> MDest | None:
        for d in self.dests:
            if d.prefix == net:
                return d
        return None

    def ordered(self, dest: MDest | None) -> list[MRoute]:
        """Live routes of a destination in selection order (1.8, U11)."""
        if dest is None:
            return []
        rs = [r for r in self.routes if r.dest is dest and r.live]
        return sorted(rs, key=lambda r: (r.preference, r.metric, r.stamp))

    def best(self, dest: MDest | None, view_id: int, protocol_id: int | None = None):
        for r in self.ordered(dest):
            if r.views >> view_id & 1 and (protocol_id is None or
                                           r.owner.protocol_id == protocol_id):
                return r
        return None

    def _bests(self, dest: MDest) -> dict:
        return {v: self.best(dest, v) for v in self.view_ids}

    def dest_views(self, dest: MDest) -> int:
        """BelongsToViews: union of the views of its live routes (F51)."""
        m = 0
        for r in self.ordered(dest):
            m |= r.views
        return m & self.supported

    def visible(self, dest: MDest, views: int) -> bool:
        """U7/U33: a destination counts for queries when it has a route, and,
        with a non-zero mask, a route in one of those views."""
        rs = [r for r in self.routes if r.dest is dest and r.live]
        return bool(rs) and (views == 0 or any(r.views & views for r in rs))

    def _collect(self) -> None:
        """Free what nothing keeps alive (1.16, U7, U37, U46)."""
        for r in list(self.routes):
            if not r.live and r.refs == 0:
                r.freed = True
                self.routes.remove(r)
        for nh in list(self.next_hops):
            if nh.live or nh.hrefs:
                continue
            if any(r.neighbour is nh or nh in r.next_hops for r in self.routes):
                continue
            nh.freed = True
            self.next_hops.remove(nh)
        for d in list(self.dests):
            if d.hrefs or any(r.dest is d for r in self.routes):
                continue
            d.freed = True
            self.dests.remove(d)

    def _dest_get(self, net) -> MDest:
        d = self.find_dest(net)
        if d is None:
            d = MDest(self._id(), net)
            self.dests.append(d)
        return d

    @staticmethod
    def _raise(faults: set) -> None:
        if faults:
            raise ModelError(faults)

    # -- entities and next hops -----------------------------------------------------
    def register(self, protocol_id: int, instance_id: int = 0) -> MEntity:
        e = MEntity(len(self.entities), protocol_id, instance_id)
        self.entities.append(e)
        return e

    def add_next_hop(self, ent: MEntity, address: str, ifindex: int, return_handle=True):
        """RtmAddNextHop by key: update the live (address, interface) next hop
        of the caller, else create one.  Returns (next hop, change flags); a
        returned handle carries a reference."""
        addr = ipaddress.ip_address(address)
        if addr.version != self.family:
            raise ModelError({ERROR_INVALID_PARAMETER})
        for nh in self.next_hops:
            if nh.owner is ent and nh.live and nh.address == addr and nh.ifindex == ifindex:
                flags = 0
                break
        else:
            nh = MNextHop(self._id(), ent, addr, ifindex)
            self.next_hops.append(nh)
            flags = RTM_NEXTHOP_CHANGE_NEW
        if return_handle:
            nh.hrefs += 1
        return nh, flags

    def delete_next_hop(self, ent: MEntity, nh) -> None:
        """RtmDeleteNextHop by handle: consumes the handle's reference (if it
        holds one); routes keep using the next hop (U37)."""
        if nh is FORGED or nh.freed:
            raise ModelError({ERROR_INVALID_HANDLE})
        faults = set()
        if nh.owner is not ent:
            faults.add(ERROR_ACCESS_DENIED)
        if not nh.live:
            faults.add(ERROR_NOT_FOUND)
        self._raise(faults)
        nh.live = False
        if nh.hrefs:
            nh.hrefs -= 1
        self._collect()

    def release_next_hops(self, nhs) -> None:
        self._release([(nh, "nh") for nh in nhs])

    def _release(self, items) -> None:
        """Release one reference per (object, kind); all validated first."""
        objs, kinds, counts = [], [], []
        for obj, kind in items:
            if obj is FORGED or obj is None or obj.freed:
                raise ModelError({ERROR_INVALID_HANDLE})
            for i, o in enumerate(objs):
                if o is obj:
                    counts[i] += 1
                    break
            else:
                objs.append(obj)
                kinds.append(kind)
                counts.append(1)
        for obj, kind, n in zip(objs, kinds, counts):
            held = obj.refs if kind == "route" else obj.hrefs
            if held < n:               # an over-release: nothing is released
                raise ModelError({ERROR_INVALID_HANDLE})
        for obj, kind, n in zip(objs, kinds, counts):
            if kind == "route":
                obj.refs -= n
            else:
                obj.hrefs -= n
        self._collect()

    # -- routes -----------------------------------------------------------------------
    def add_route(self, ent: MEntity, prefix, *, neighbour=None, next_hops=(), metric=0,
                  preference=0, views=RTM_VIEW_MASK_UCAST, flags=0, flags1=0, info=0,
                  change_flags=0, route=None, return_handle=False):
        """RtmAddRouteToDest (2.5).  Returns (route, output change flags)."""
        net = self.parse(prefix)
        faults: set = set()
        views = self._clip_views(views, faults, True)
        self._check_next_hop(ent, neighbour, faults, True)
        next_hops = tuple(next_hops)
        for nh in next_hops:
            self._check_next_hop(ent, nh, faults, False)
        if len(next_hops) > self.max_next_hops:
            faults.add(ERROR_INVALID_PARAMETER)
        if len(set(map(id, next_hops))) != len(next_hops):
            faults.add(ERROR_INVALID_PARAMETER)
        target = None
        if route is not None and route != 0:
            if route is FORGED or route.freed:
                faults.add(ERROR_INVALID_HANDLE)
            else:
                if not route.live:
                    faults.add(ERROR_NOT_FOUND)
                if route.owner is not ent:
                    faults.add(ERROR_ACCESS_DENIED)
                if route.dest.prefix != net:
                    faults.add(ERROR_INVALID_PARAMETER)        # U44
                target = route
        elif change_flags & ~(RTM_ROUTE_CHANGE_NEW | RTM_ROUTE_CHANGE_FIRST):
            faults.add(ERROR_INVALID_PARAMETER)
        self._raise(faults)
        if neighbour == 0:
            neighbour = None

        if target is None:
            dest = self.find_dest(net)
            if not change_flags & RTM_ROUTE_CHANGE_NEW:
                for r in self.ordered(dest):
                    if r.owner is ent and (change_flags & RTM_ROUTE_CHANGE_FIRST or
                                           r.neighbour is neighbour):
                        target = r
                        break
            dest = self._dest_get(net)
        else:
            dest = target.dest

        before = self._bests(dest)
        created = target is None
        if created:
            target = MRoute(self._id(), ent, dest, neighbour, next_hops, metric, preference,
                            views, flags, flags1, info, self._tick())
            self.routes.append(target)
            changed = True
        else:
            changed = (target.preference, target.metric, target.next_hops, target.flags,
                       target.views) != (preference, metric, next_hops, flags, views)
            if (target.preference, target.metric) != (preference, metric):
                target.stamp = self._tick()
            target.neighbour = neighbour
            target.next_hops = next_hops
            target.metric = metric
            target.preference = preference
            target.views = views
            target.flags = flags
            target.flags1 = flags1
            target.info = info
        after = self._bests(dest)
        out = RTM_ROUTE_CHANGE_NEW if created else 0
        for v in self.view_ids:
            if before[v] is not after[v] or (after[v] is target and changed):
                out |= RTM_ROUTE_CHANGE_BEST
        if return_handle and (route is None or route == 0):
            target.refs += 1           # a handle given in is returned as is, unreferenced
        self._collect()
        return target, out

    def delete_route(self, ent: MEntity, route) -> int:
        """RtmDeleteRouteToDest: owner only; consumes one reference."""
        if route is FORGED or route is None or route.freed:
            raise ModelError({ERROR_INVALID_HANDLE})
        faults = set()
        if route.owner is not ent:
            faults.add(ERROR_ACCESS_DENIED)
        if not route.live:
            faults.add(ERROR_NOT_FOUND)
        self._raise(faults)
        if route.refs:
            route.refs -= 1
        return self._unlink(route)

    def _unlink(self, route: MRoute) -> int:
        before = self._bests(route.dest)
        route.live = False
        after = self._bests(route.dest)
        self._collect()
        return RTM_ROUTE_CHANGE_BEST if any(before[v] is not after[v]
                                            for v in self.view_ids) else 0

    def release_routes(self, routes) -> None:
        self._release([(r, "route") for r in routes])

    def reference_routes(self, routes) -> None:
        """RtmReferenceHandles on route handles: one more reference each; a
        deleted route still referenced may gain more (it is still an object)."""
        for r in routes:
            if r is FORGED or r is None or r.freed:
                raise ModelError({ERROR_INVALID_HANDLE})
        for r in routes:
            r.refs += 1

    def is_best_route(self, route) -> int:
        if route is FORGED or route.freed:
            raise ModelError({ERROR_INVALID_HANDLE})
        if not route.live:
            return 0
        m = 0
        for v in self.view_ids:
            if self.best(route.dest, v) is route:
                m |= 1 << v
        return m

    def get_route_info(self, route) -> MRouteInfo:
        """RtmGetRouteInfo: references on the destination, neighbour and next hops."""
        if route is FORGED or route.freed:
            raise ModelError({ERROR_INVALID_HANDLE})
        route.dest.hrefs += 1
        for nh in ((route.neighbour,) if route.neighbour else ()) + route.next_hops:
            nh.hrefs += 1
        return MRouteInfo(route, route.dest, route.neighbour, route.next_hops)

    def release_route_info(self, info: MRouteInfo) -> None:
        if not info.refs_held:
            raise ModelError({ERROR_INVALID_PARAMETER})
        items = [(info.dest, "dest")]
        items += [(nh, "nh") for nh in ((info.neighbour,) if info.neighbour else ())
                  + info.next_hops]
        self._release(items)
        info.refs_held = False

    # -- bulk --------------------------------------------------------------------------
    def add_routes(self, ent: MEntity, rows, change_flags=0) -> list[int]:
        """Bulk add: every row validated first (first bad row's faults), then
        applied in order like add_route_to_dest.  A row is a dict with keys
        prefix ((int, length)), neighbour, next_hop (object or None), metric,
        preference, views, flags, info."""
        if change_flags & ~(RTM_ROUTE_CHANGE_NEW | RTM_ROUTE_CHANGE_FIRST):
            raise ModelError({ERROR_INVALID_PARAMETER})
        for row in rows:
            faults: set = set()
            try:
                self.parse(row["prefix"])
            except ModelError as exc:
                faults |= exc.codes
            self._check_next_hop(ent, row["neighbour"], faults, True)
            self._check_next_hop(ent, row["next_hop"], faults, True)
            self._clip_views(row["views"], faults, True)
            self._raise(faults)
        out = []
        for row in rows:
            nh = row["next_hop"]
            _, fl = self.add_route(ent, row["prefix"], neighbour=row["neighbour"],
                                   next_hops=(nh,) if nh else (), metric=row["metric"],
                                   preference=row["preference"], views=row["views"],
                                   flags=row["flags"], info=row["info"],
                                   change_flags=change_flags)
            out.append(fl)
        return out

    def delete_routes(self, ent: MEntity, prefixes, neighbour=None,
                      any_neighbour=False) -> list[int]:
        """Bulk delete by identity (destination, caller, neighbour), or the
        caller's first route of the destination with ``any_neighbour``.
        Handles are not consumed.  A row naming nothing gives DELETE_NOT_FOUND."""
        faults: set = set()
        nets = []
        for p in prefixes:
            try:
                nets.append(self.parse(p))
            except ModelError as exc:
                faults |= exc.codes
        if neighbour is FORGED or (neighbour not in (None, 0) and neighbour.freed):
            faults.add(ERROR_INVALID_HANDLE)
        self._raise(faults)
        if neighbour == 0:
            neighbour = None
        out = []
        for net in nets:
            for r in self.ordered(self.find_dest(net)):
                if r.owner is ent and (any_neighbour or r.neighbour is neighbour):
                    out.append(self._unlink(r))
                    break
            else:
                out.append(DELETE_NOT_FOUND)
        return out

    # -- queries ----------------------------------------------------------------------
    def query_views(self, views: int) -> int:
        faults: set = set()
        views = self._clip_views(views, faults, False)
        self._raise(faults)
        return views

    def routes_of(self, prefix) -> list[MRoute]:
        return self.ordered(self.find_dest(self.parse(prefix)))

    def search_exact(self, prefix, views=0) -> MDest | None:
        net = self.parse(prefix)
        views = self.query_views(views)
        d = self.find_dest(net)
        return d if d is not None and self.visible(d, views) else None

    def search_covering(self, prefix, views=0) -> list[MDest]:
        net = self.parse(prefix)
        views = self.query_views(views)
        first, last = span(net)
        found = [d for d in self.dests if d.covers(first, last) and self.visible(d, views)]
        return sorted(found, key=lambda d: d.prefix.prefixlen)

    def search_best(self, prefix, views=0) -> MDest | None:
        found = self.search_covering(prefix, views)
        return found[-1] if found else None

    def search_covered(self, prefix, views=0) -> list[MDest]:
        net = self.parse(prefix)
        views = self.query_views(views)
        first, last = span(net)
        found = [d for d in self.dests if d.inside(first, last) and self.visible(d, views)]
        return sorted(found, key=lambda d: (d.first, d.prefix.prefixlen))

    def lookup(self, address, view_id: int):
        """Longest destination containing the address with a route in the view:
        (dest or None, first next hop of the view's best route or None)."""
        if view_id not in self.view_ids:
            raise ModelError({ERROR_NOT_SUPPORTED})
        d = self.search_best(address, 1 << view_id)
        if d is None:
            return None, None
        b = self.best(d, view_id)
        return d, (b.next_hops[0] if b.next_hops else None)

    def dest_info(self, dest: MDest, views: int, protocol_id: int, caller: MEntity | None,
                  take_refs: bool) -> MDestInfo:
        """RTM_DEST_INFO of a destination: per requested supported view (ascending)
        the number of routes, the reported route (protocol filter 1.8/U13)."""
        if protocol_id == RTM_BEST_PROTOCOL:
            proto = None
        elif protocol_id == RTM_THIS_PROTOCOL:
            proto = caller.protocol_id
        else:
            proto = protocol_id
        info = MDestInfo(dest, self.dest_views(dest), [], take_refs)
        for v in self.view_ids:
            if not views >> v & 1:
                continue
            n = sum(1 for r in self.ordered(dest) if r.views >> v & 1)
            b = self.best(dest, v, proto)
            info.view_info.append(MViewInfo(v, n, b, b.owner if b else None,
                                            b.flags if b else 0))
            if take_refs and b is not None:
                b.refs += 1
        if take_refs:
            dest.hrefs += 1
        return info

    def get_exact_match_destination(self, caller, prefix, protocol_id=0,
                                    target_views=RTM_VIEW_MASK_ALL) -> MDestInfo:
        net = self.parse(prefix)
        views = self.query_views(target_views)
        d = self.find_dest(net)
        if d is None or not self.visible(d, views):
            raise ModelError({ERROR_NOT_FOUND})
        return self.dest_info(d, views, protocol_id, caller, True)

    def get_most_specific_destination(self, caller, prefix, protocol_id=0,
                                      target_views=RTM_VIEW_MASK_ALL) -> MDestInfo:
        self.parse(prefix)
        views = self.query_views(target_views)
        d = self.search_best(prefix, views)
        if d is None:
            raise ModelError({ERROR_NOT_FOUND})
        return self.dest_info(d, views, protocol_id, caller, True)

    def get_less_specific_destination(self, caller, dest, protocol_id=0,
                                      target_views=RTM_VIEW_MASK_ALL) -> MDestInfo:
        """Next shorter visible destination covering ``dest`` (U34)."""
        views = self.query_views(target_views)
        if dest is FORGED or dest.freed:
            raise ModelError({ERROR_INVALID_HANDLE})
        found = [d for d in self.dests if d.prefix.prefixlen < dest.prefix.prefixlen
                 and d.covers(dest.first, dest.last) and self.visible(d, views)]
        if not found:
            raise ModelError({ERROR_NOT_FOUND})
        d = max(found, key=lambda d: d.prefix.prefixlen)
        return self.dest_info(d, views, protocol_id, caller, True)

    def release_dest_info(self, info: MDestInfo) -> None:
        if not info.refs_held:
            raise ModelError({ERROR_INVALID_PARAMETER})
        items = [(info.dest, "dest")] + [(v.route, "route") for v in info.view_info if v.route]
        self._release(items)
        info.refs_held = False

    def counts(self) -> tuple[int, int]:
        """(destinations, live routes)."""
        return len(self.dests), sum(1 for r in self.routes if r.live)

"""A slow, obviously right reference model of rtmcore's table semantics.

This module restates, in plain Python, what the specification
(``RTMV2.md`` sections 1.4-1.13, 1.16, 2.5-2.10 and decisions U5, U7, U10,
U11, U14-U21, U30-U35, U39, U40, U44, U46, U48) says about destinations,
routes, next hops, change notification, enumerations, route lists, hold-down
and route expiry.  It is used by the stateful tests
(``tests/test_stateful.py``, ``tests/test_stateful_rtm.py``) as the oracle
the Cython core is compared with, so it deliberately shares nothing with
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
  stale handle (U46);
* time is a plain integer (``now``, ms) moved only by :meth:`Model.advance`,
  like a :class:`rtmcore.VirtualClock`.

Change notification keeps, per registration, the queue the specification
describes: one entry per pending destination in the order of its first
pending change.  An ignored entry stays in the queue as a *stale* marker
until retrieval passes it or the destination is queued again (that is when
an ignored destination's old place stops mattering); the model keeps the
markers only so that a test can tell when one outlives its destination.
Destinations whose hold-down ends at the same instant are queued in an order
the specification leaves open: they share a *group*, and a retrieval may
return the members of a group in any order (``hint``).

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
INFINITE = 0xFFFFFFFF
RTM_ROUTE_FLAGS_FORWARDING = 0x000F
RTM_CHANGE_TYPE_ALL = 0x0001
RTM_CHANGE_TYPE_BEST = 0x0002
RTM_CHANGE_TYPE_FORWARDING = 0x0004
RTM_NOTIFY_ONLY_MARKED_DESTS = 0x00010000
RTM_ENUM_START = 0x00000000
RTM_ENUM_NEXT = 0x00000001
RTM_ENUM_RANGE = 0x00000002
RTM_ENUM_OWN_DESTS = 0x01000000
RTM_ENUM_OWN_ROUTES = 0x00010000
RTM_MATCH_NONE = 0x00000000
RTM_MATCH_OWNER = 0x00000001
RTM_MATCH_NEIGHBOUR = 0x00000002
RTM_MATCH_PREF = 0x00000004
RTM_MATCH_NEXTHOP = 0x00000008
RTM_MATCH_INTERFACE = 0x00000010
RTM_MATCH_FULL = 0x0000FFFF

ERROR_ACCESS_DENIED = 5
ERROR_INVALID_HANDLE = 6
ERROR_NOT_SUPPORTED = 50
ERROR_INVALID_PARAMETER = 87
ERROR_NOT_FOUND = 1168
ERROR_NO_SYSTEM_RESOURCES = 1450


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
    prefix: ipaddress.IPv4Network | ipaddress.IPv6Network
    hrefs: int = 0                    # references held by callers (dest infos, route infos)
    freed: bool = False
    last_changed: int = 0             # model time of the last change (F50)
    hold_views: int = 0               # views marked for hold-down (1.9); 0 = not marked
    hold_time: int = 0                # the largest hold time asked for (U14)
    hold_routes: dict = field(default_factory=dict)   # view id -> its hold route
    hold_expiry: int | None = None    # when the hold routes go; None = no hold running

    def __post_init__(self):
        self.first, self.last = span(self.prefix)     # address range, for containment tests
        self.key = (self.first, self.prefix.prefixlen)  # prefix order (U20): address, then length

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
    expiry: int | None = None         # model time its time to live runs out; None = never
    rlist: MList | None = None        # the client route list it is in (1.13)

    @property
    def held(self) -> bool:
        """A hold-down route of its destination (in some view)."""
        return any(r is self for r in self.dest.hold_routes.values())

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
    hold_route: MRoute | None = None


@dataclass
class MDestInfo:
    dest: MDest
    belongs_to_views: int
    view_info: list = field(default_factory=list)
    refs_held: bool = False
    reg: MReg | None = None           # the registration it was retrieved from (changed dests)


@dataclass
class MRouteInfo:
    route: MRoute
    dest: MDest
    neighbour: MNextHop | None
    next_hops: tuple
    refs_held: bool = True


@dataclass(eq=False)
class MReg:
    """A change-notification registration (1.11, 2.9)."""

    id: int
    owner: MEntity
    views: int                        # clipped; never 0 (0 asked = every view)
    types: int                        # ALL | BEST | FORWARDING bits
    only_marked: bool
    family: int
    context: object = None
    queue: list = field(default_factory=list)   # [dest, group, stale] in queueing order
    marks: list = field(default_factory=list)   # marked destinations
    live: bool = True

    def pending(self) -> list:
        """Pending destinations, oldest first."""
        return [e[0] for e in self.queue if not e[2]]

    def __repr__(self) -> str:
        return f"N{self.id}({self.owner!r} views={self.views:#x} types={self.types:#x}" + \
            (" marked-only" if self.only_marked else "") + ("" if self.live else " gone") + ")"


@dataclass(eq=False)
class MList:
    """A client route list (1.13)."""

    id: int
    owner: MEntity
    routes: list = field(default_factory=list)
    live: bool = True

    def __repr__(self) -> str:
        return f"L{self.id}({self.owner!r} {[r.id for r in self.routes]})"


@dataclass
class MCriteria:
    """The criteria route of a route enumeration (its fields the match flags name)."""

    owner: MEntity | None = None
    neighbour: MNextHop | None = None
    preference: int = 0
    metric: int = 0
    next_hops: tuple = ()


@dataclass(eq=False)
class MEnum:
    """An enumeration: ``kind`` dest, route or list (1.12, 2.8, 2.10)."""

    id: int
    kind: str
    owner: MEntity
    views: int = 0
    cursor: tuple = (0, 0)            # prefix key the next batch starts at
    after: bool = False               # strictly after the cursor (it was returned)
    range: tuple | None = None        # (first, last, length) of a RANGE enumeration
    own: bool = False
    protocol_id: int = 0
    one: object = None                # route enumeration of one destination: its prefix
    done: bool = False
    match: int = 0
    criteria: MCriteria | None = None
    interface: int = 0
    pending: list = field(default_factory=list)  # routes of the destination being walked
    rlist: MList | None = None        # list enumeration: the list, its snapshot, position
    snapshot: list = field(default_factory=list)
    pos: int = 0
    live: bool = True

    def __repr__(self) -> str:
        return f"En{self.id}({self.kind} {self.owner!r})"


# ---------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------
class Model:
    """One table (one address family) plus the entities registered with it."""

    def __init__(self, family: int = 4, views: int = RTM_VIEW_MASK_UCAST | RTM_VIEW_MASK_MCAST,
                 max_next_hops: int = 16, *, now: int = 0, max_handles_in_enum: int = 256,
                 max_notifications: int = 16):
        assert family in (4, 6)
        self.family = family
        self.max_len = 32 if family == 4 else 128
        self.supported = views
        self.view_ids = [v for v in range(32) if views >> v & 1]
        self.max_next_hops = max_next_hops
        self.max_batch = max_handles_in_enum
        self.max_regs = max_notifications
        self.entities: list[MEntity] = []
        self.next_hops: list[MNextHop] = []    # not freed
        self.routes: list[MRoute] = []         # not freed (live, deleted and referenced, or held)
        self.dests: list[MDest] = []           # existing destinations
        self.regs: list[MReg] = []             # live notification registrations (every family)
        self.lists: list[MList] = []           # live route lists
        self.enums: list[MEnum] = []           # live enumerations
        self.signals: list[MReg] = []          # registrations whose queue went from empty to not
        self.now = now                         # model time, ms
        self._ids = 0
        self._clock = 0
        self._groups = 0

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
        with a non-zero mask, a route in one of those views.  With mask 0 a
        destination that only has hold routes counts too (1.7, U15, U47)."""
        rs = [r for r in self.routes if r.dest is dest and r.live]
        if not rs:
            return views == 0 and dest.hold_expiry is not None
        return views == 0 or any(r.views & views for r in rs)

    def _collect(self) -> None:
        """Free what nothing keeps alive (1.16, U7, U37, U46): a deleted route
        once unreferenced and not a hold route; a destination once it has no
        route, no reference, no pending change and no running hold-down."""
        for r in list(self.routes):
            if not r.live and r.refs == 0 and not r.held:
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
            if d.hrefs or d.hold_expiry is not None or any(r.dest is d for r in self.routes):
                continue
            if any(e[0] is d and not e[2] for g in self.regs for e in g.queue):
                continue
            d.freed = True
            self.dests.remove(d)
            for g in self.regs:                  # marks die with the destination
                g.marks = [m for m in g.marks if m is not d]

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
        objs: list = []
        kinds: list[str] = []
        counts: list[int] = []
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
                  change_flags=0, route=None, return_handle=False, ttl=INFINITE,
                  route_list=None):
        """RtmAddRouteToDest (2.5).  Returns (route, output change flags).

        ``ttl`` (ms) re-arms the route's timer, ``INFINITE`` disarms it (1.10);
        ``route_list`` moves the route to the end of that list (1.13).  The
        change is queued for the registrations it concerns (1.11)."""
        net = self.parse(prefix)
        faults: set = set()
        if not isinstance(ttl, int) or not 0 <= ttl <= INFINITE:
            faults.add(ERROR_INVALID_PARAMETER)
        if route_list is not None and route_list != 0 and (
                route_list is FORGED or not route_list.live or route_list.owner is not ent):
            faults.add(ERROR_INVALID_HANDLE)
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
        if target is None:
            target = MRoute(self._id(), ent, dest, neighbour, next_hops, metric, preference,
                            views, flags, flags1, info, self._tick())
            self.routes.append(target)
            changed = forwarding = True
            touched = views
        else:
            changed = (target.preference, target.metric, target.next_hops, target.flags,
                       target.views) != (preference, metric, next_hops, flags, views)
            forwarding = (target.preference, target.metric, target.next_hops,
                          target.flags & RTM_ROUTE_FLAGS_FORWARDING, target.views) != \
                (preference, metric, next_hops, flags & RTM_ROUTE_FLAGS_FORWARDING, views)
            touched = target.views | views
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
        best_views = fwd_views = 0
        for v in self.view_ids:
            if before[v] is not after[v]:
                best_views |= 1 << v
                fwd_views |= 1 << v
            elif after[v] is target:
                best_views |= (1 << v) if changed else 0
                fwd_views |= (1 << v) if forwarding else 0
        if best_views:
            out |= RTM_ROUTE_CHANGE_BEST
        dest.last_changed = self.now
        self._notify(dest, touched, best_views, fwd_views)
        target.expiry = None if ttl == INFINITE else self.now + ttl
        if route_list is not None and route_list != 0:
            self._list_move(target, route_list)
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
        """Delete a live route: it leaves its list and its timer, the change is
        queued, and in a held view where it was the last route it becomes the
        hold route (1.9, U14, U15)."""
        d = route.dest
        before = self._bests(d)
        route.live = False
        route.expiry = None
        self._list_move(route, None)
        after = self._bests(d)
        changed = 0
        for v in self.view_ids:
            if before[v] is not after[v]:
                changed |= 1 << v
        d.last_changed = self.now
        self._notify(d, route.views, changed, changed)
        captured = False
        for v in self.view_ids:
            if d.hold_views >> v & 1 and route.views >> v & 1 and after[v] is None:
                d.hold_routes[v] = route          # replaces an earlier hold route (U15)
                captured = True
        if captured:
            d.hold_expiry = self.now + d.hold_time
        self._collect()
        return RTM_ROUTE_CHANGE_BEST if changed else 0

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
        preference, views, flags, info, and optionally ttl."""
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
                                   change_flags=change_flags, ttl=row.get("ttl", INFINITE))
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
        the number of routes, the reported route (protocol filter 1.8/U13) and
        the hold route (1.9)."""
        if protocol_id == RTM_BEST_PROTOCOL:
            proto = None
        elif protocol_id == RTM_THIS_PROTOCOL:
            assert caller is not None           # RTM_THIS_PROTOCOL names the caller's protocol
            proto = caller.protocol_id
        else:
            proto = protocol_id
        info = MDestInfo(dest, self.dest_views(dest), [], take_refs)
        for v in self.view_ids:
            if not views >> v & 1:
                continue
            n = sum(1 for r in self.ordered(dest) if r.views >> v & 1)
            b = self.best(dest, v, proto)
            held = dest.hold_routes.get(v)
            info.view_info.append(MViewInfo(v, n, b, b.owner if b else None,
                                            b.flags if b else 0, held))
            if take_refs and b is not None:
                b.refs += 1
            if take_refs and held is not None:
                held.refs += 1
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
        self._release_infos([info])

    def _release_infos(self, infos) -> None:
        """The references of held infos, released together: an over-release
        anywhere in the batch (a route handle of an info released on its own
        before) releases nothing."""
        items = []
        for info in infos:
            items += [(info.dest, "dest")] + [(v.route, "route") for v in info.view_info
                                              if v.route]
            items += [(v.hold_route, "route") for v in info.view_info if v.hold_route]
        self._release(items)
        for info in infos:
            info.refs_held = False

    def release_dests(self, infos) -> None:
        """RtmReleaseDests: the whole batch is checked first (an info listed
        twice or released already: nothing is released)."""
        infos = list(infos)
        if len(set(map(id, infos))) != len(infos) or not all(i.refs_held for i in infos):
            raise ModelError({ERROR_INVALID_HANDLE})
        self._release_infos(infos)

    def counts(self) -> tuple[int, int]:
        """(destinations, live routes)."""
        return len(self.dests), sum(1 for r in self.routes if r.live)

    # -- hold-down (1.9, U14, U15) and time (1.10, U16, U24) ---------------------------
    def hold_destination(self, ent: MEntity, dest, views=RTM_VIEW_MASK_ALL, hold_time=0) -> None:
        """RtmHoldDestination: mark views (0: every view) and the hold time
        (the largest asked for, U14).  A mark lasts as long as the destination."""
        faults: set = set()
        if not isinstance(hold_time, int) or not 0 < hold_time <= 0xFFFFFFFF:
            faults.add(ERROR_INVALID_PARAMETER)
        try:
            views = self.query_views(views)
        except ModelError as exc:
            faults |= exc.codes
        if dest is FORGED or dest is None or dest.freed:
            faults.add(ERROR_INVALID_HANDLE)
        self._raise(faults)
        dest.hold_views |= views or self.supported
        dest.hold_time = max(dest.hold_time, hold_time)

    def armed(self) -> list[int]:
        """Expiry times of the live routes' timers."""
        return [r.expiry for r in self.routes if r.live and r.expiry is not None]

    def advance(self, ms: int, verdict) -> list:
        """Move time forward ``ms`` and fire, in time order, every hold-down end
        and route expiry that falls due, each at its own time; at one instant
        hold-downs end first (their order is open: their changes share a
        group), then routes expire.  The end of a hold-down is an ALL change
        (U15) in the views whose hold route it removes.

        ``verdict(route, owner)`` says what the owner's expiry callback does:
        ``"delete"`` (returns ERROR_NOT_SUPPORTED, or the owner has no
        callback, U16: the route is deleted, the reference handed out
        consumed), ``"keep"`` (any other value: the route stays, the callee
        owns the reference) or ``"raise"`` (counts as handled: the route stays,
        the reference is released).  Returns the (time, route, fields, verdict)
        of every expiry, in order."""
        target = self.now + ms
        fired = []
        while True:
            due = [d.hold_expiry for d in self.dests if d.hold_expiry is not None]
            due += self.armed()
            due = [t for t in due if t <= target]
            if not due:
                break
            t = min(due)
            self.now = max(self.now, t)
            group = self._new_group()
            for d in [d for d in self.dests if d.hold_expiry == t]:
                views = 0                         # the views whose hold route goes (1.11)
                for v in d.hold_routes:
                    views |= 1 << v
                d.hold_expiry = None
                d.hold_routes = {}
                d.last_changed = t
                self._notify(d, views, 0, 0, group)
                self._collect()
            for r in [r for r in self.routes if r.live and r.expiry == t]:
                r.expiry = None
                what = verdict(r, r.owner)
                fired.append((t, r, r.fields(), what))
                if what == "delete":
                    self._unlink(r)            # the reference handed out is consumed
                elif what == "keep":
                    r.refs += 1                # the callee owns it
        self.now = target
        return fired

    # -- change notification (1.11, 2.9, U18, U39, U48, U49) ---------------------------
    def _new_group(self) -> int:
        self._groups += 1
        return self._groups

    def _notify(self, dest: MDest, all_views: int, best_views: int, fwd_views: int,
                group: int | None = None) -> None:
        """Queue a change of ``dest`` on every registration it concerns:
        ``all_views`` = views of the route before and after (any change),
        ``best_views`` / ``fwd_views`` = views where it is a BEST / FORWARDING
        change.  A destination already pending is not queued again."""
        group = self._new_group() if group is None else group
        for g in self.regs:
            if g.family != self.family:
                continue
            if any(e[0] is dest and not e[2] for e in g.queue):
                continue                          # changes coalesce
            hit = (all_views if g.types & RTM_CHANGE_TYPE_ALL else 0) | \
                (best_views if g.types & RTM_CHANGE_TYPE_BEST else 0) | \
                (fwd_views if g.types & RTM_CHANGE_TYPE_FORWARDING else 0)
            if not hit & g.views:
                continue
            if g.only_marked and not any(m is dest for m in g.marks):
                continue
            if any(e[0] is dest for e in g.queue):
                g.queue = [e for e in g.queue if not e[2]]   # its ignored entry is gone
            if not g.pending():
                self.signals.append(g)           # U18: empty -> non-empty
            g.queue.append([dest, group, False])

    def take_signals(self) -> list[MReg]:
        out, self.signals = self.signals, []
        return out

    def register_notify(self, ent: MEntity, views=RTM_VIEW_MASK_ALL,
                        flags=RTM_CHANGE_TYPE_BEST, context=None, family=None) -> MReg:
        faults: set = set()
        types = RTM_CHANGE_TYPE_ALL | RTM_CHANGE_TYPE_BEST | RTM_CHANGE_TYPE_FORWARDING
        if flags & ~(types | RTM_NOTIFY_ONLY_MARKED_DESTS) or not flags & types:
            faults.add(ERROR_INVALID_PARAMETER)
        try:
            views = self.query_views(views)
        except ModelError as exc:
            faults |= exc.codes
        if len(self.regs) >= self.max_regs:
            faults.add(ERROR_NO_SYSTEM_RESOURCES)
        self._raise(faults)
        g = MReg(self._id(), ent, views or self.supported, flags & types,
                 bool(flags & RTM_NOTIFY_ONLY_MARKED_DESTS),
                 self.family if family is None else family, context)
        self.regs.append(g)
        return g

    def _reg(self, ent: MEntity, g, faults: set) -> None:
        if g is FORGED or g is None or not g.live or g.owner is not ent:
            faults.add(ERROR_INVALID_HANDLE)

    def deregister_notify(self, ent: MEntity, g) -> None:
        """Ends the registration; its pending changes (and their references)
        and its marks are dropped."""
        faults: set = set()
        self._reg(ent, g, faults)
        self._raise(faults)
        g.live = False
        g.queue = []
        g.marks = []
        self.regs.remove(g)
        self._collect()

    def _pop(self, g: MReg, n: int | None, hint) -> list[MDest]:
        """Take up to n (None: all) pending destinations off the queue, oldest
        first.  Within a group (an order the specification leaves open) the
        order of ``hint`` (the destinations the engine returned) is taken when
        it is one of the allowed orders.

        Retrieval walks the queue from its head until it has n destinations
        or reaches the end; the stale entries it walks past are dropped."""
        live = [e for e in g.queue if not e[2]]
        n = len(live) if n is None else n
        if n == 0:
            return []
        out: list = []
        last_block: list = []
        i = 0
        while len(out) < n and i < len(live):
            j = i
            while j < len(live) and live[j][1] == live[i][1]:
                j += 1
            block = live[i:j]
            take = min(n - len(out), len(block))
            want = list(hint[len(out):len(out) + take]) if hint is not None else []
            members = [e[0] for e in block]
            if len(want) == take and len(set(map(id, want))) == take and \
                    all(any(w is m for m in members) for w in want):
                chosen = [next(e for e in block if e[0] is w) for w in want]
            else:
                chosen = block[:take]
            out += chosen
            last_block = block
            i = j
        if len(out) < n:
            g.queue = []                          # walked to the end
            return [e[0] for e in out]
        # the walk stopped inside the last block taken: stale entries before it
        # are gone; where exactly inside a group it stopped is not known, so a
        # stale entry among a group's entries is kept (the cautious choice)
        stop = min(g.queue.index(e) for e in last_block) if len(last_block) > 1 else \
            g.queue.index(out[-1])
        g.queue = [e for k, e in enumerate(g.queue)
                   if not any(e is c for c in out) and not (e[2] and k < stop)]
        return [e[0] for e in out]

    def get_changed_dests(self, ent: MEntity, g, n=None, hint=None) -> list[MDestInfo]:
        """RtmGetChangedDests: up to n (default and maximum: MaxHandlesInEnum)
        pending destinations with their current information for the
        registration's views and the overall best route (U48), each holding
        references (the queue's reference becomes the info's)."""
        faults: set = set()
        self._reg(ent, g, faults)
        if n is not None and not 0 <= n <= self.max_batch:
            faults.add(ERROR_INVALID_PARAMETER)
        self._raise(faults)
        ds = self._pop(g, self.max_batch if n is None else n, hint)
        infos = [self.dest_info(d, g.views, RTM_BEST_PROTOCOL, ent, True) for d in ds]
        for i in infos:
            i.reg = g
        self._collect()
        return infos

    def release_changed_dests(self, ent: MEntity, g, infos) -> None:
        """RtmReleaseChangedDests: infos of that registration, each once; all
        checked before any is released."""
        faults: set = set()
        self._reg(ent, g, faults)
        infos = list(infos)
        if any(i.reg is not g or not i.refs_held for i in infos) or \
                len(set(map(id, infos))) != len(infos):
            faults.add(ERROR_INVALID_HANDLE)
        self._raise(faults)
        self._release_infos(infos)

    def drain_changes(self, ent: MEntity, g, view: int, hint=None) -> list:
        """Every pending change as (dest, best route of ``view``, its first
        next hop), oldest first; no references are taken and the queue's are
        released."""
        faults: set = set()
        self._reg(ent, g, faults)
        self._raise(faults)
        if view not in self.view_ids:
            raise ModelError({ERROR_NOT_SUPPORTED})
        ds = self._pop(g, None, hint)
        g.queue = []                              # drained: stale entries go too
        out = []
        for d in ds:
            b = self.best(d, view)
            out.append((d, b, b.next_hops[0] if b is not None and b.next_hops else None))
        self._collect()
        return out

    def _dests_ok(self, items, faults: set) -> None:
        for d in items:
            if d is FORGED or d is None or d.freed:
                faults.add(ERROR_INVALID_HANDLE)

    def ignore_changed_dests(self, ent: MEntity, g, dests) -> None:
        """RtmIgnoreChangedDests: drop the pending change of each destination
        (every handle checked first; none consumed, U39)."""
        faults: set = set()
        self._reg(ent, g, faults)
        dests = list(dests)
        self._dests_ok(dests, faults)
        self._raise(faults)
        for d in dests:
            for e in g.queue:
                if e[0] is d and not e[2]:
                    e[2] = True
        self._collect()

    def get_change_status(self, ent: MEntity, g, dest) -> bool:
        faults: set = set()
        self._reg(ent, g, faults)
        self._dests_ok([dest], faults)
        self._raise(faults)
        return any(d is dest for d in g.pending())

    def mark_dest(self, ent: MEntity, g, dest, mark: bool) -> None:
        faults: set = set()
        self._reg(ent, g, faults)
        self._dests_ok([dest], faults)
        self._raise(faults)
        g.marks = [m for m in g.marks if m is not dest] + ([dest] if mark else [])

    def is_marked(self, ent: MEntity, g, dest) -> bool:
        faults: set = set()
        self._reg(ent, g, faults)
        self._dests_ok([dest], faults)
        self._raise(faults)
        return any(m is dest for m in g.marks)

    # -- enumerations (1.12, 2.8, U19-U21) ------------------------------------------------
    def _range(self, enum_flags: int, address, faults: set):
        """(cursor key, (first, last, length) or None) of the range flags."""
        rng = enum_flags & 0xF
        if rng not in (RTM_ENUM_START, RTM_ENUM_NEXT, RTM_ENUM_RANGE):
            faults.add(ERROR_INVALID_PARAMETER)
            return (0, 0), None
        if rng == RTM_ENUM_START:
            return (0, 0), None
        if address is None:
            faults.add(ERROR_INVALID_PARAMETER)
            return (0, 0), None
        try:
            net = self.parse(address)
        except ModelError as exc:
            faults |= exc.codes
            return (0, 0), None
        first, last = span(net)
        return (first, net.prefixlen), ((first, last, net.prefixlen)
                                        if rng == RTM_ENUM_RANGE else None)

    def _enum(self, ent: MEntity, en, kind: str, faults: set) -> None:
        if en is FORGED or en is None or not en.live or en.owner is not ent or \
                (kind and en.kind != kind):
            faults.add(ERROR_INVALID_HANDLE)

    def _batch(self, n, faults: set) -> int:
        if n is None:
            return self.max_batch
        if not 0 <= n <= self.max_batch:
            faults.add(ERROR_INVALID_PARAMETER)
        return n

    def owned(self, dest: MDest, views: int, ent: MEntity) -> bool:
        """RTM_ENUM_OWN_DESTS: the best route of one of the views (0: any) is ent's."""
        for v in self.view_ids:
            if views == 0 or views >> v & 1:
                b = self.best(dest, v)
                if b is not None and b.owner is ent:
                    return True
        return False

    def _next_dests(self, en: MEnum, n: int, own: bool) -> list[MDest]:
        """Live cursor (U21): the next visible destinations at (or, once one
        was returned, after) the cursor, in prefix order, within the range."""
        found = []
        for d in self.dests:
            if d.key < en.cursor or (en.after and d.key == en.cursor):
                continue
            if en.range is not None and not (d.prefix.prefixlen >= en.range[2] and
                                             d.inside(en.range[0], en.range[1])):
                continue
            if not self.visible(d, en.views):
                continue
            if own and not self.owned(d, en.views, en.owner):
                continue
            found.append(d)
        found = sorted(found, key=lambda d: d.key)[:n]
        if found:
            en.cursor, en.after = found[-1].key, True
        return found

    def create_dest_enum(self, ent: MEntity, views=RTM_VIEW_MASK_ALL, enum_flags=RTM_ENUM_START,
                         address=None, protocol_id=RTM_BEST_PROTOCOL) -> MEnum:
        faults: set = set()
        try:
            views = self.query_views(views)
        except ModelError as exc:
            faults |= exc.codes
        if enum_flags & ~(0xF | RTM_ENUM_OWN_DESTS):
            faults.add(ERROR_INVALID_PARAMETER)
        cursor, rng = self._range(enum_flags, address, faults)
        self._raise(faults)
        en = MEnum(self._id(), "dest", ent, views=views, cursor=cursor, range=rng,
                   own=bool(enum_flags & RTM_ENUM_OWN_DESTS), protocol_id=protocol_id)
        self.enums.append(en)
        return en

    def get_enum_dests(self, ent: MEntity, en, n=None) -> list[MDestInfo]:
        """The next destinations, each a dest info holding references."""
        faults: set = set()
        self._enum(ent, en, "dest", faults)
        n = self._batch(n, faults)
        self._raise(faults)
        return [self.dest_info(d, en.views, en.protocol_id, ent, True)
                for d in self._next_dests(en, n, en.own)]

    def dest_enum_all(self, ent: MEntity, views, enum_flags, address, protocol_id=0):
        """Every destination a fresh enumeration returns (no references)."""
        en = self.create_dest_enum(ent, views, enum_flags, address, protocol_id)
        self.enums.remove(en)
        return self._next_dests(en, len(self.dests) + 1, en.own)

    def _matches(self, r: MRoute, flags: int, crit: MCriteria | None, interface: int) -> bool:
        """Route matching (2.6, U35): the criteria the flags name."""
        if flags & (RTM_MATCH_OWNER | RTM_MATCH_NEIGHBOUR | RTM_MATCH_PREF | RTM_MATCH_NEXTHOP):
            assert crit is not None             # create_route_enum refuses these without one
            if flags & RTM_MATCH_OWNER and r.owner is not crit.owner:
                return False
            if flags & RTM_MATCH_NEIGHBOUR and r.neighbour is not crit.neighbour:
                return False
            if flags & RTM_MATCH_PREF and \
                    (r.preference, r.metric) != (crit.preference, crit.metric):
                return False
            if flags & RTM_MATCH_NEXTHOP and \
                    {id(x) for x in r.next_hops} != {id(x) for x in crit.next_hops}:
                return False
        return not flags & RTM_MATCH_INTERFACE or interface in [x.ifindex for x in r.next_hops]

    def create_route_enum(self, ent: MEntity, dest=None, views=RTM_VIEW_MASK_ALL,
                          enum_flags=RTM_ENUM_START, address=None, match=RTM_MATCH_NONE,
                          criteria: MCriteria | None = None, interface: int = 0) -> MEnum:
        """A route enumeration of one destination (its range flags ignored) or
        of the table."""
        faults: set = set()
        try:
            views = self.query_views(views)
        except ModelError as exc:
            faults |= exc.codes
        if enum_flags & ~(0xF | RTM_ENUM_OWN_ROUTES):
            faults.add(ERROR_INVALID_PARAMETER)
        if match & ~RTM_MATCH_INTERFACE & RTM_MATCH_FULL and criteria is None:
            faults.add(ERROR_INVALID_PARAMETER)
        one = None
        if dest is not None and dest != 0:
            self._dests_ok([dest], faults)
            cursor, rng = (0, 0), None
            if not faults:
                one = dest.prefix
                cursor = dest.key
        else:
            cursor, rng = self._range(enum_flags, address, faults)
        self._raise(faults)
        en = MEnum(self._id(), "route", ent, views=views, cursor=cursor, range=rng, one=one,
                   own=bool(enum_flags & RTM_ENUM_OWN_ROUTES), match=match, criteria=criteria,
                   interface=interface)
        self.enums.append(en)
        return en

    def get_enum_routes(self, ent: MEntity, en, n=None) -> list[MRoute]:
        """The next routes, each with a reference: destinations in prefix order
        (their matching routes taken when the walk reaches them), routes in
        selection order, then (view mask 0) the hold routes; a route deleted
        since it was taken is skipped."""
        faults: set = set()
        self._enum(ent, en, "route", faults)
        n = self._batch(n, faults)
        self._raise(faults)
        out: list = []
        while len(out) < n:
            if en.pending:
                r = en.pending.pop(0)
                if not r.freed and (r.live or (en.views == 0 and r.held)):
                    out.append(r)
                continue
            if en.one is not None:
                if en.done:
                    break
                en.done = True
                d = self.find_dest(en.one)
                d = d if d is not None and self.visible(d, 0) else None
            else:
                ds = self._next_dests(en, 1, False)
                d = ds[0] if ds else None
            if d is None:
                break
            rs = self.ordered(d)
            if en.views == 0:
                for v in self.view_ids:
                    h = d.hold_routes.get(v)
                    if h is not None and not any(h is x for x in rs):
                        rs.append(h)
            for r in rs:
                if en.views and not r.views & en.views:
                    continue
                if en.own and r.owner is not en.owner:
                    continue
                if self._matches(r, en.match, en.criteria, en.interface):
                    en.pending.append(r)
        for r in out:
            r.refs += 1
        return out

    def delete_enum(self, ent: MEntity, en) -> None:
        faults: set = set()
        self._enum(ent, en, "", faults)
        self._raise(faults)
        en.live = False
        self.enums.remove(en)

    # -- route lists (1.13, 2.10, U40) -------------------------------------------------
    def _list_move(self, r: MRoute, lst: MList | None) -> None:
        """Move r to the end of lst (out of any list it is in; None: out only)."""
        if r.rlist is not None:
            r.rlist.routes = [x for x in r.rlist.routes if x is not r]
            r.rlist = None
        if lst is not None:
            lst.routes.append(r)
            r.rlist = lst

    def _list_ok(self, ent: MEntity, lst, faults: set) -> None:
        if lst is FORGED or lst is None or not lst.live or lst.owner is not ent:
            faults.add(ERROR_INVALID_HANDLE)

    def create_route_list(self, ent: MEntity) -> MList:
        lst = MList(self._id(), ent)
        self.lists.append(lst)
        return lst

    def insert_in_route_list(self, ent: MEntity, lst, routes) -> None:
        """Move each route to the end of lst (None: out of its list).  The
        caller's routes only (U40); deleted routes are not found."""
        faults: set = set()
        if lst is not None:
            self._list_ok(ent, lst, faults)
        routes = list(routes)
        for r in routes:
            if r is FORGED or r is None or r.freed:
                faults.add(ERROR_INVALID_HANDLE)
            else:
                if r.owner is not ent:
                    faults.add(ERROR_ACCESS_DENIED)
                if not r.live:
                    faults.add(ERROR_NOT_FOUND)
        self._raise(faults)
        for r in routes:
            self._list_move(r, lst)

    def delete_route_list(self, ent: MEntity, lst) -> None:
        """Empty the list (its routes stay) and free it."""
        faults: set = set()
        self._list_ok(ent, lst, faults)
        self._raise(faults)
        for r in list(lst.routes):
            self._list_move(r, None)
        lst.live = False
        self.lists.remove(lst)

    def create_route_list_enum(self, ent: MEntity, lst) -> MEnum:
        """Walks the list as it is now (U21)."""
        faults: set = set()
        self._list_ok(ent, lst, faults)
        self._raise(faults)
        en = MEnum(self._id(), "list", ent, rlist=lst, snapshot=list(lst.routes))
        self.enums.append(en)
        return en

    def get_list_enum_routes(self, ent: MEntity, en, n=None) -> list[MRoute]:
        """The next routes of the snapshot still in the list, referenced; a
        deleted list gives nothing more."""
        faults: set = set()
        self._enum(ent, en, "list", faults)
        n = self._batch(n, faults)
        self._raise(faults)
        out: list = []
        if not en.rlist.live:
            return out
        while len(out) < n and en.pos < len(en.snapshot):
            r = en.snapshot[en.pos]
            en.pos += 1
            if not r.freed and r.rlist is en.rlist:
                out.append(r)
        for r in out:
            r.refs += 1
        return out

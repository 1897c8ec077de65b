"""Change notification (spec 1.11, 2.9, 3.3; decisions U17, U18, U24, U39, U48, U49).

Registration and its errors, the change types ALL / BEST / FORWARDING (each
with changes that must and must not queue), view targeting, marked-only
registrations, the pending set (coalescing, order of first change, current
information, ignore, change status), references held by pending entries,
callbacks (edge trigger, context, re-entrant calls, raising callbacks), several
registrations per entity, the bulk paths and ``drain_changes`` (IPv4 and IPv6),
a model-based random test, and a 100,000-route churn test for leaks.
"""
import gc
import os
import random
import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rtmcore import (AF_INET6, PROTO_IP_BGP, PROTO_IP_OSPF, PROTO_IP_RIP, RTM_CHANGE_NOTIFICATION,
                     RTM_CHANGE_TYPE_ALL, RTM_CHANGE_TYPE_BEST, RTM_CHANGE_TYPE_FORWARDING,
                     RTM_NOTIFY_ONLY_MARKED_DESTS, RTM_ROUTE_FLAGS_FORWARDING,
                     RTM_ROUTE_FLAGS_INACTIVE, RTM_ROUTE_FLAGS_LOCAL, RTM_ROUTE_FLAGS_REMOTE,
                     RTM_ROUTE_STATE_DELETED, RTM_VIEW_ID_MCAST, RTM_VIEW_ID_UCAST,
                     RTM_VIEW_MASK_ALL, RTM_VIEW_MASK_MCAST, RTM_VIEW_MASK_UCAST, DestInfo,
                     RoutingTableManager)
from rtmcore.errors import (BadConfiguration, InvalidHandle, InvalidParameter,
                            NoSystemResources, NotSupported)

ALL = RTM_CHANGE_TYPE_ALL
BEST = RTM_CHANGE_TYPE_BEST
FWD = RTM_CHANGE_TYPE_FORWARDING
MARKED = RTM_NOTIFY_ONLY_MARKED_DESTS
UC = RTM_VIEW_MASK_UCAST
MC = RTM_VIEW_MASK_MCAST
D8 = "10.0.0.0/8"


# ---------------------------------------------------------------------------
# fixtures and helpers
# ---------------------------------------------------------------------------
class Recorder:
    """An event callback that records every call."""

    def __init__(self):
        self.calls = []

    def __call__(self, entity_handle, event_type, context1, context2):
        self.calls.append((entity_handle, event_type, context1, context2))

    def changes(self, notify=None):
        """The RTM_CHANGE_NOTIFICATION calls (for one notify handle)."""
        return [c for c in self.calls if c[1] == RTM_CHANGE_NOTIFICATION
                and (notify is None or c[2] == notify)]


@pytest.fixture
def rtm():
    m = RoutingTableManager()
    yield m
    m.check_invariants()


@pytest.fixture
def rec():
    return Recorder()


@pytest.fixture
def obs(rtm, rec):
    """The observing entity (a router manager); its callback is ``rec``."""
    return rtm.register_entity(PROTO_IP_BGP, 1, event_callback=rec)


@pytest.fixture
def rip(rtm):
    return rtm.register_entity(PROTO_IP_RIP, 1)


@pytest.fixture
def ospf(rtm):
    return rtm.register_entity(PROTO_IP_OSPF, 1)


def nh_of(ent, address="192.0.2.1", ifindex=1):
    h, _ = ent.add_next_hop(address, interface_index=ifindex)
    return h


class Route:
    """One route of one entity, kept with all its fields so that an update
    changes exactly the fields named (an update rewrites every field)."""

    def __init__(self, ent, prefix, **fields):
        fields.setdefault("views", UC)
        self.ent, self.prefix, self.fields = ent, prefix, fields
        self.handle, self.flags = ent.add_route_to_dest(prefix, return_handle=True, **fields)

    def update(self, **changes):
        self.fields.update(changes)
        _, flags = self.ent.add_route_to_dest(self.prefix, route=self.handle, **self.fields)
        return flags

    def delete(self):
        return self.ent.delete_route_to_dest(self.handle)


def take(ent, notify, num=None):
    """Retrieve every pending destination (batches of ``num``), release the
    infos, return the prefixes in the order received."""
    out = []
    while True:
        infos = ent.get_changed_dests(notify, num)
        if not infos:
            return out
        out += [i.prefix for i in infos]
        ent.release_changed_dests(notify, infos)


def dest_handle(ent, prefix):
    return ent.search_exact(prefix).dest_handle


def records(rtm):
    """(nodes, routes, next hops, entities) allocated in the core."""
    return rtm.core.record_counts()


# ---------------------------------------------------------------------------
# registration
# ---------------------------------------------------------------------------
def test_register_returns_distinct_integer_handles(obs):
    hs = [obs.register_for_change_notification(RTM_VIEW_MASK_ALL, t) for t in (ALL, BEST, FWD)]
    assert all(isinstance(h, int) and h for h in hs)
    assert len(set(hs)) == 3
    assert obs.handle not in hs


def test_register_defaults_are_all_views_and_best(obs, rip):
    h = obs.register_for_change_notification()
    nh = nh_of(rip)
    Route(rip, D8, next_hops=nh, metric=1)
    Route(rip, "10.1.0.0/16", next_hops=nh, metric=1, views=MC)
    assert take(obs, h) == [D8, "10.1.0.0/16"]               # both views
    worse = Route(rip, D8, neighbour=nh, next_hops=nh, metric=9)
    worse.update(metric=8)
    assert take(obs, h) == []                                 # not best: BEST says no


@pytest.mark.parametrize("flags", [0, MARKED, 0x8, 0x20, 0x100, 0x8000_0000, ALL | 0x8,
                                   BEST | 0x20000, -1, 1 << 32])
def test_register_bad_notify_flags(obs, flags):
    with pytest.raises(InvalidParameter):
        obs.register_for_change_notification(RTM_VIEW_MASK_ALL, flags)


@pytest.mark.parametrize("flags", [ALL, BEST, FWD, ALL | BEST | FWD, BEST | MARKED,
                                   ALL | FWD | MARKED])
def test_register_good_notify_flags(obs, flags):
    assert obs.register_for_change_notification(UC, flags)


@pytest.mark.parametrize("views", [0x4, 0x3 | 0x8, 0x8000_0000, 0x7FFF_FFFF])
def test_register_unsupported_view_is_not_supported(obs, views):
    with pytest.raises(NotSupported):
        obs.register_for_change_notification(views, ALL)


@pytest.mark.parametrize("views", [-1, 1 << 32])
def test_register_view_mask_out_of_range(obs, views):
    with pytest.raises(InvalidParameter):
        obs.register_for_change_notification(views, ALL)


def test_register_multicast_on_a_unicast_only_manager_is_not_supported():
    m = RoutingTableManager(views=RTM_VIEW_MASK_UCAST)
    e = m.register_entity(PROTO_IP_RIP)
    with pytest.raises(NotSupported):
        e.register_for_change_notification(MC, ALL)
    assert e.register_for_change_notification(UC, ALL)
    assert e.register_for_change_notification(RTM_VIEW_MASK_ALL, ALL)   # clipped to ucast


def test_register_view_mask_zero_means_every_view(obs, rip):
    h = obs.register_for_change_notification(0, ALL)
    nh = nh_of(rip)
    Route(rip, "10.1.0.0/16", next_hops=nh, views=UC)
    Route(rip, "10.2.0.0/16", next_hops=nh, views=MC)
    Route(rip, "10.3.0.0/16", next_hops=nh, views=UC | MC)
    assert take(obs, h) == ["10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16"]


def test_registration_limit_default_16_is_per_manager(rtm, obs, rip):
    hs = [obs.register_for_change_notification(UC, ALL) for _ in range(10)]
    hs += [rip.register_for_change_notification(UC, ALL) for _ in range(6)]
    with pytest.raises(NoSystemResources):
        rip.register_for_change_notification(UC, ALL)
    with pytest.raises(NoSystemResources):
        obs.register_for_change_notification(UC, BEST)
    obs.deregister_from_change_notification(hs[0])
    h = rip.register_for_change_notification(UC, ALL)           # a slot is free again
    assert h not in hs
    with pytest.raises(NoSystemResources):
        obs.register_for_change_notification(UC, ALL)


def test_max_notifications_option():
    m = RoutingTableManager(max_notifications=2)
    e = m.register_entity(PROTO_IP_RIP)
    e.register_for_change_notification(UC, ALL)
    e.register_for_change_notification(UC, ALL)
    with pytest.raises(NoSystemResources):
        e.register_for_change_notification(UC, ALL)
    for bad in (0, 33):
        with pytest.raises(BadConfiguration):
            RoutingTableManager(max_notifications=bad)
    assert RoutingTableManager(max_notifications=32)


def test_entity_deregistration_frees_its_registration_slots():
    m = RoutingTableManager(max_notifications=2)
    a = m.register_entity(PROTO_IP_RIP)
    b = m.register_entity(PROTO_IP_OSPF)
    a.register_for_change_notification(UC, ALL)
    a.register_for_change_notification(UC, BEST)
    with pytest.raises(NoSystemResources):
        b.register_for_change_notification(UC, ALL)
    a.deregister_entity()
    b.register_for_change_notification(UC, ALL)
    b.register_for_change_notification(UC, ALL)


# ---------------------------------------------------------------------------
# handle errors of every function
# ---------------------------------------------------------------------------
def _calls(ent, dest):
    return {
        "deregister_from_change_notification": lambda h: ent.deregister_from_change_notification(h),
        "get_changed_dests": lambda h: ent.get_changed_dests(h),
        "release_changed_dests": lambda h: ent.release_changed_dests(h, []),
        "ignore_changed_dests": lambda h: ent.ignore_changed_dests(h, [dest]),
        "get_change_status": lambda h: ent.get_change_status(h, dest),
        "mark_dest_for_change_notification":
            lambda h: ent.mark_dest_for_change_notification(h, dest, True),
        "is_marked_for_change_notification":
            lambda h: ent.is_marked_for_change_notification(h, dest),
        "drain_changes": lambda h: ent.drain_changes(h),
    }


FUNCS = sorted(_calls(None, None))
BAD_KINDS = ["zero", "garbage", "negative", "huge", "string", "deregistered", "other entity",
             "other manager", "route handle", "dest handle"]


@pytest.mark.parametrize("kind", BAD_KINDS)
@pytest.mark.parametrize("name", FUNCS)
def test_bad_notify_handle_is_invalid_handle(rtm, obs, rip, name, kind):
    mine = obs.register_for_change_notification(RTM_VIEW_MASK_ALL, ALL)
    nh = nh_of(rip)
    route = Route(rip, D8, next_hops=nh)
    dest = dest_handle(rip, D8)
    dead = obs.register_for_change_notification(RTM_VIEW_MASK_ALL, ALL)
    obs.deregister_from_change_notification(dead)
    theirs = rip.register_for_change_notification(RTM_VIEW_MASK_ALL, ALL)
    other_mgr = RoutingTableManager()
    stranger = other_mgr.register_entity(PROTO_IP_BGP, 1).register_for_change_notification()
    bad = {"zero": 0, "garbage": mine ^ 0x0000_0000_0000_0F00, "negative": -1, "huge": 1 << 64,
           "string": "notify", "deregistered": dead, "other entity": theirs,
           "other manager": stranger, "route handle": route.handle, "dest handle": dest}[kind]
    Route(rip, "10.1.0.0/16", next_hops=nh)                   # something pending everywhere
    with pytest.raises(InvalidHandle):
        _calls(obs, dest)[name](bad)
    assert obs.get_change_status(mine, dest) is True          # nothing was disturbed
    assert take(obs, mine) == [D8, "10.1.0.0/16"]


@pytest.mark.parametrize("name", FUNCS)
def test_deregistered_entity_gets_invalid_handle(rtm, obs, rip, name):
    nh = nh_of(rip)
    Route(rip, D8, next_hops=nh)
    dest = dest_handle(rip, D8)
    h = obs.register_for_change_notification()
    obs.deregister_entity()
    with pytest.raises(InvalidHandle):
        _calls(obs, dest)[name](h)


@pytest.mark.parametrize("name", ["ignore_changed_dests", "get_change_status",
                                  "mark_dest_for_change_notification",
                                  "is_marked_for_change_notification"])
@pytest.mark.parametrize("kind", ["zero", "garbage", "freed", "route handle"])
def test_bad_dest_handle_is_invalid_handle(rtm, obs, rip, name, kind):
    nh = nh_of(rip)
    r = Route(rip, D8, next_hops=nh)
    gone = Route(rip, "10.9.0.0/16", next_hops=nh)
    freed = dest_handle(rip, "10.9.0.0/16")
    gone.delete()                                             # no reference left: freed
    h = obs.register_for_change_notification()
    bad = {"zero": 0, "garbage": dest_handle(rip, D8) + 0x10000, "freed": freed,
           "route handle": r.handle}[kind]
    with pytest.raises(InvalidHandle):
        _calls(obs, bad)[name](h)


def test_deregister_twice_and_handle_not_reused(obs):
    h = obs.register_for_change_notification(UC, ALL)
    obs.deregister_from_change_notification(h)
    with pytest.raises(InvalidHandle):
        obs.deregister_from_change_notification(h)
    h2 = obs.register_for_change_notification(UC, ALL)        # same slot, new generation
    assert h2 != h
    with pytest.raises(InvalidHandle):
        obs.get_changed_dests(h)
    assert obs.get_changed_dests(h2) == []


# ---------------------------------------------------------------------------
# change types: a matrix of changes against ALL / BEST / FORWARDING
# ---------------------------------------------------------------------------
# Common setup on 10.0.0.0/8 (unicast view only, preference 10):
#   A: RIP's route, metric 1, next hop a        -> the best route
#   B: OSPF's route, metric 10, next hop b      -> not best
# The observer has one registration per change type over every view.
LF = RTM_ROUTE_FLAGS_LOCAL      # 0x0010, not a forwarding flag
INACT = RTM_ROUTE_FLAGS_INACTIVE   # 0x0008, a forwarding flag

MATRIX = [
    # name, action(ctx), (ALL, BEST, FORWARDING)
    ("best: metric, stays best", lambda c: c.A.update(metric=2), (1, 1, 1)),
    ("best: metric, loses best", lambda c: c.A.update(metric=20), (1, 1, 1)),
    ("best: preference, stays best", lambda c: c.A.update(preference=5), (1, 1, 1)),
    ("best: preference, loses best", lambda c: c.A.update(preference=50), (1, 1, 1)),
    ("best: other next hop", lambda c: c.A.update(next_hops=c.a2), (1, 1, 1)),
    ("best: one more next hop", lambda c: c.A.update(next_hops=[c.a, c.a2]), (1, 1, 1)),
    ("best: no next hop", lambda c: c.A.update(next_hops=None), (1, 1, 1)),
    ("best: non-forwarding flag 0x0010", lambda c: c.A.update(flags=LF), (1, 1, 0)),
    ("best: non-forwarding flags 0x0030", lambda c: c.A.update(flags=LF | RTM_ROUTE_FLAGS_REMOTE),
     (1, 1, 0)),
    ("best: forwarding flag 0x0008", lambda c: c.A.update(flags=INACT), (1, 1, 1)),
    ("best: forwarding + non-forwarding", lambda c: c.A.update(flags=INACT | LF), (1, 1, 1)),
    ("best: views grow", lambda c: c.A.update(views=UC | MC), (1, 1, 1)),
    ("best: flags1 only", lambda c: c.A.update(flags1=1), (1, 0, 0)),
    ("best: entity info only", lambda c: c.A.update(entity_specific_info=77), (1, 0, 0)),
    ("best: rewritten unchanged", lambda c: c.A.update(), (1, 0, 0)),
    ("best: deleted", lambda c: c.A.delete(), (1, 1, 1)),
    ("other: metric, stays worse", lambda c: c.B.update(metric=5), (1, 0, 0)),
    ("other: metric ties the best (U11)", lambda c: c.B.update(metric=1), (1, 0, 0)),
    ("other: metric, becomes best", lambda c: c.B.update(metric=0), (1, 1, 1)),
    ("other: preference, becomes best", lambda c: c.B.update(preference=1), (1, 1, 1)),
    ("other: forwarding flag 0x0008", lambda c: c.B.update(flags=INACT), (1, 0, 0)),
    ("other: non-forwarding flag 0x0010", lambda c: c.B.update(flags=LF), (1, 0, 0)),
    ("other: next hop", lambda c: c.B.update(next_hops=c.b2), (1, 0, 0)),
    ("other: entity info", lambda c: c.B.update(entity_specific_info=5), (1, 0, 0)),
    ("other: deleted", lambda c: c.B.delete(), (1, 0, 0)),
    ("new worse route", lambda c: Route(c.rip, D8, neighbour=c.a2, next_hops=c.a2, metric=50,
                                        preference=10), (1, 0, 0)),
    ("new better route", lambda c: Route(c.rip, D8, neighbour=c.a2, next_hops=c.a2, metric=0,
                                         preference=10), (1, 1, 1)),
    ("new equal-cost route goes after (U11)",
     lambda c: Route(c.rip, D8, neighbour=c.a2, next_hops=c.a2, metric=1, preference=10),
     (1, 0, 0)),
    ("other: moves to multicast, best there", lambda c: c.B.update(views=MC), (1, 1, 1)),
    ("change of another destination", lambda c: Route(c.rip, "10.1.0.0/16", next_hops=c.a),
     (0, 0, 0)),
]


class Ctx:
    pass


@pytest.mark.parametrize("name,action,expected", MATRIX, ids=[m[0] for m in MATRIX])
def test_change_type_matrix(rtm, obs, rip, ospf, name, action, expected):
    c = Ctx()
    c.rip = rip
    c.a, c.a2 = nh_of(rip, "192.0.2.1"), nh_of(rip, "192.0.2.11")
    c.b, c.b2 = nh_of(ospf, "192.0.2.2"), nh_of(ospf, "192.0.2.22")
    c.A = Route(rip, D8, next_hops=c.a, metric=1, preference=10)
    c.B = Route(ospf, D8, next_hops=c.b, metric=10, preference=10)
    regs = [obs.register_for_change_notification(RTM_VIEW_MASK_ALL, t) for t in (ALL, BEST, FWD)]
    action(c)
    got = tuple(int(take(obs, h) == [D8]) for h in regs)
    assert got == expected, f"{name}: (ALL, BEST, FORWARDING) queued {got}"


def test_combined_change_types_are_a_union(rtm, obs, rip, ospf):
    a = nh_of(rip)
    A = Route(rip, D8, next_hops=a, metric=1)
    B = Route(ospf, D8, next_hops=nh_of(ospf), metric=5)
    bf = obs.register_for_change_notification(RTM_VIEW_MASK_ALL, BEST | FWD)
    af = obs.register_for_change_notification(RTM_VIEW_MASK_ALL, ALL | FWD)
    A.update(metric=1, flags=LF)            # BEST, not FORWARDING
    B.update(metric=6)                      # ALL only
    assert take(obs, bf) == [D8]
    assert take(obs, af) == [D8]
    B.update(metric=7)
    assert take(obs, bf) == []
    assert take(obs, af) == [D8]


def test_own_changes_are_notified(rtm, rec):
    """U49: an entity hears about the changes it makes itself."""
    me = rtm.register_entity(PROTO_IP_RIP, event_callback=rec)
    h = me.register_for_change_notification(UC, ALL, "mine")
    r = Route(me, D8, next_hops=nh_of(me))
    assert rec.changes(h) == [(me.handle, RTM_CHANGE_NOTIFICATION, h, "mine")]
    assert take(me, h) == [D8]
    r.update(metric=3)
    r.delete()
    assert take(me, h) == [D8]


def test_last_route_deleted_is_reported_with_no_routes(rtm, obs, rip):
    h = obs.register_for_change_notification(RTM_VIEW_MASK_ALL, BEST)
    r = Route(rip, D8, next_hops=nh_of(rip), views=UC | MC)
    take(obs, h)
    r.delete()
    assert obs.search_exact(D8) is None                       # invisible to queries ...
    [info] = obs.get_changed_dests(h)                         # ... still reported
    assert info.prefix == D8 and info.belongs_to_views == 0
    assert [(v.view_id, v.num_routes, v.route, v.owner) for v in info.view_info] == \
        [(RTM_VIEW_ID_UCAST, 0, 0, 0), (RTM_VIEW_ID_MCAST, 0, 0, 0)]
    obs.release_changed_dests(h, [info])


# ---------------------------------------------------------------------------
# views
# ---------------------------------------------------------------------------
def test_view_targeting(rtm, obs, rip, ospf):
    per_view = {v: {t: obs.register_for_change_notification(v, t) for t in (ALL, BEST, FWD)}
                for v in (UC, MC)}

    def queued():
        return {(v, t) for v, regs in per_view.items() for t, h in regs.items()
                if take(obs, h)}

    a = nh_of(rip)
    m = Route(rip, "224.0.0.0/4", next_hops=a, views=MC)      # multicast only
    assert queued() == {(MC, ALL), (MC, BEST), (MC, FWD)}
    m.update(metric=4)
    assert queued() == {(MC, ALL), (MC, BEST), (MC, FWD)}
    m.delete()
    assert queued() == {(MC, ALL), (MC, BEST), (MC, FWD)}

    u = Route(rip, D8, next_hops=a, metric=1, views=UC)
    assert queued() == {(UC, ALL), (UC, BEST), (UC, FWD)}
    o = Route(ospf, D8, next_hops=nh_of(ospf), metric=5, views=UC)   # not best in ucast
    assert queued() == {(UC, ALL)}
    o.update(views=MC)                  # leaves ucast (was not best), becomes best in mcast
    assert queued() == {(UC, ALL), (MC, ALL), (MC, BEST), (MC, FWD)}
    o.update(views=MC, metric=6)        # mcast best's metric
    assert queued() == {(MC, ALL), (MC, BEST), (MC, FWD)}
    u.update(views=UC | MC)             # ucast best gains a view; becomes mcast best too
    assert queued() == {(UC, ALL), (UC, BEST), (UC, FWD), (MC, ALL), (MC, BEST), (MC, FWD)}
    o.update(views=MC, metric=7)        # no longer best anywhere
    assert queued() == {(MC, ALL)}
    u.update(views=MC)                  # best vanishes from ucast
    assert queued() == {(UC, ALL), (UC, BEST), (UC, FWD), (MC, ALL), (MC, BEST), (MC, FWD)}


def test_changed_dest_info_covers_the_registrations_views(rtm, obs, rip, ospf):
    """U48: per-view entries for the registration's views; the reported best
    route is the overall best whoever owns it."""
    hu = obs.register_for_change_notification(UC, ALL)
    hm = obs.register_for_change_notification(MC, ALL)
    hb = obs.register_for_change_notification(RTM_VIEW_MASK_ALL, ALL)
    Route(rip, D8, next_hops=nh_of(rip), metric=5, views=UC | MC)
    best = Route(ospf, D8, next_hops=nh_of(ospf), metric=1, views=UC)
    [iu] = obs.get_changed_dests(hu)
    [im] = obs.get_changed_dests(hm)
    [ib] = obs.get_changed_dests(hb)
    assert [v.view_id for v in iu.view_info] == [RTM_VIEW_ID_UCAST]
    assert [v.view_id for v in im.view_info] == [RTM_VIEW_ID_MCAST]
    assert [v.view_id for v in ib.view_info] == [RTM_VIEW_ID_UCAST, RTM_VIEW_ID_MCAST]
    assert iu.best(RTM_VIEW_ID_UCAST) == best.handle
    assert iu.view_info[0].owner == ospf.handle and iu.view_info[0].num_routes == 2
    assert im.view_info[0].num_routes == 1 and im.view_info[0].owner == rip.handle
    assert ib.belongs_to_views == UC | MC
    for h, i in ((hu, iu), (hm, im), (hb, ib)):
        obs.release_changed_dests(h, [i])


# ---------------------------------------------------------------------------
# marked destinations
# ---------------------------------------------------------------------------
def test_marks_per_registration(rtm, obs, rip):
    nh = nh_of(rip)
    Route(rip, D8, next_hops=nh)
    d = dest_handle(rip, D8)
    h1 = obs.register_for_change_notification(UC, ALL | MARKED)
    h2 = obs.register_for_change_notification(UC, ALL | MARKED)
    assert obs.is_marked_for_change_notification(h1, d) is False
    assert obs.mark_dest_for_change_notification(h1, d) is None        # mark=True default
    assert obs.is_marked_for_change_notification(h1, d) is True
    assert obs.is_marked_for_change_notification(h2, d) is False
    obs.mark_dest_for_change_notification(h1, d, True)                 # idempotent
    assert obs.is_marked_for_change_notification(h1, d) is True
    obs.mark_dest_for_change_notification(h1, d, False)
    assert obs.is_marked_for_change_notification(h1, d) is False
    obs.mark_dest_for_change_notification(h1, d, False)
    assert obs.is_marked_for_change_notification(h1, d) is False


def test_only_marked_destinations_are_queued(rtm, obs, rip, ospf):
    nh = nh_of(rip)
    routes = {p: Route(rip, p, next_hops=nh, metric=1) for p in (D8, "10.1.0.0/16", "11.0.0.0/8")}
    worse = Route(ospf, D8, next_hops=nh_of(ospf), metric=9)
    marked_all = obs.register_for_change_notification(UC, ALL | MARKED)
    marked_best = obs.register_for_change_notification(UC, BEST | MARKED)
    everything = obs.register_for_change_notification(UC, ALL)
    for h in (marked_all, marked_best):
        obs.mark_dest_for_change_notification(h, dest_handle(rip, D8))
    obs.mark_dest_for_change_notification(marked_all, dest_handle(rip, "11.0.0.0/8"))
    take(obs, everything)
    for r in routes.values():
        r.update(metric=2)                                 # best changes everywhere
    worse.update(metric=8)                                 # non-best change on D8 only
    assert take(obs, marked_all) == [D8, "11.0.0.0/8"]
    assert take(obs, marked_best) == [D8]
    assert take(obs, everything) == [D8, "10.1.0.0/16", "11.0.0.0/8"]
    worse.update(metric=7)
    assert take(obs, marked_all) == [D8]
    assert take(obs, marked_best) == []                    # marked, but not a BEST change
    obs.mark_dest_for_change_notification(marked_all, dest_handle(rip, D8), False)
    routes[D8].update(metric=3)
    assert take(obs, marked_all) == []                     # unmarked again
    assert take(obs, marked_best) == [D8]


def test_marks_do_not_matter_without_only_marked(rtm, obs, rip):
    nh = nh_of(rip)
    r = Route(rip, D8, next_hops=nh)
    h = obs.register_for_change_notification(UC, ALL)
    obs.mark_dest_for_change_notification(h, dest_handle(rip, D8), False)
    r.update(metric=4)
    Route(rip, "10.1.0.0/16", next_hops=nh)
    assert take(obs, h) == [D8, "10.1.0.0/16"]


def test_marks_are_dropped_with_the_registration(rtm, obs, rip):
    r = Route(rip, D8, next_hops=nh_of(rip))
    d = dest_handle(rip, D8)
    h = obs.register_for_change_notification(UC, ALL | MARKED)
    obs.mark_dest_for_change_notification(h, d)
    obs.deregister_from_change_notification(h)
    h2 = obs.register_for_change_notification(UC, ALL | MARKED)   # reuses the slot
    assert obs.is_marked_for_change_notification(h2, d) is False
    r.update(metric=5)
    assert take(obs, h2) == []


# ---------------------------------------------------------------------------
# the pending set
# ---------------------------------------------------------------------------
def test_changes_coalesce_and_retrieval_returns_current_info(rtm, obs, rip):
    h = obs.register_for_change_notification(UC, ALL)
    nh = nh_of(rip)
    r = Route(rip, D8, next_hops=nh, metric=1)
    for m in range(2, 12):
        r.update(metric=m)
    infos = obs.get_changed_dests(h)
    assert len(infos) == 1                                    # 11 changes, one entry
    [info] = infos
    assert isinstance(info, DestInfo) and info.prefix == D8
    assert info.dest_handle == dest_handle(rip, D8)
    assert info.best(RTM_VIEW_ID_UCAST) == r.handle
    ri, _ = obs.get_route_info(info.best(RTM_VIEW_ID_UCAST))
    assert ri.metric == 11                                    # current, not the first change
    obs.release_route_info(ri)
    obs.release_changed_dests(h, infos)
    assert obs.get_changed_dests(h) == []


def test_order_of_first_change(rtm, obs, rip):
    h = obs.register_for_change_notification(UC, ALL)
    nh = nh_of(rip)
    rs = {p: Route(rip, p, next_hops=nh) for p in ("10.3.0.0/16", "10.1.0.0/16", "10.2.0.0/16")}
    rs["10.3.0.0/16"].update(metric=2)                  # already pending: keeps its place
    Route(rip, "9.0.0.0/8", next_hops=nh)
    assert take(obs, h) == ["10.3.0.0/16", "10.1.0.0/16", "10.2.0.0/16", "9.0.0.0/8"]
    rs["10.2.0.0/16"].update(metric=2)
    rs["10.3.0.0/16"].update(metric=3)
    assert take(obs, h, 1) == ["10.2.0.0/16", "10.3.0.0/16"]


def test_get_changed_dests_batches(rtm, obs, rip):
    h = obs.register_for_change_notification(UC, ALL)
    nh = nh_of(rip)
    prefixes = [f"10.{i}.0.0/16" for i in range(5)]
    for p in prefixes:
        Route(rip, p, next_hops=nh)
    sizes = []
    got = []
    while True:
        infos = obs.get_changed_dests(h, 2)
        if not infos:
            break
        sizes.append(len(infos))
        got += [i.prefix for i in infos]
        obs.release_changed_dests(h, infos)
    assert sizes == [2, 2, 1] and got == prefixes
    assert obs.get_changed_dests(h) == []                     # stays empty


def test_get_changed_dests_zero_takes_nothing(rtm, obs, rip):
    h = obs.register_for_change_notification(UC, ALL)
    Route(rip, D8, next_hops=nh_of(rip))
    assert obs.get_changed_dests(h, 0) == []
    assert obs.get_change_status(h, dest_handle(rip, D8)) is True
    assert take(obs, h) == [D8]


def test_get_changed_dests_limit_is_max_handles_in_enum():
    m = RoutingTableManager(max_handles_in_enum=3)
    e = m.register_entity(PROTO_IP_RIP)
    h = e.register_for_change_notification(UC, ALL)
    nh = nh_of(e)
    for i in range(7):
        Route(e, f"10.{i}.0.0/16", next_hops=nh)
    for bad in (4, 1000, -1):
        with pytest.raises(InvalidParameter):
            e.get_changed_dests(h, bad)
    assert e.get_change_status(h, dest_handle(e, "10.0.0.0/16")) is True  # nothing taken
    first = e.get_changed_dests(h)                            # default: max_handles_in_enum
    assert len(first) == 3
    e.release_changed_dests(h, first)
    assert len(take(e, h, 3)) == 4


def test_change_status_true_until_retrieved(rtm, obs, rip):
    h = obs.register_for_change_notification(UC, BEST)
    other = obs.register_for_change_notification(MC, ALL)
    nh = nh_of(rip)
    r = Route(rip, D8, next_hops=nh)
    Route(rip, "10.1.0.0/16", next_hops=nh)
    d, d1 = dest_handle(rip, D8), dest_handle(rip, "10.1.0.0/16")
    assert obs.get_change_status(h, d) is True
    assert obs.get_change_status(other, d) is False           # not its view
    r.update(metric=9)
    assert obs.get_change_status(h, d) is True
    infos = obs.get_changed_dests(h, 1)
    assert [i.prefix for i in infos] == [D8]
    assert obs.get_change_status(h, d) is False               # retrieved (not yet released)
    assert obs.get_change_status(h, d1) is True
    obs.release_changed_dests(h, infos)
    assert obs.get_change_status(h, d) is False
    r.update(metric=10)
    assert obs.get_change_status(h, d) is True


def test_ignore_drops_pending_and_a_later_change_requeues(rtm, obs, rip):
    h = obs.register_for_change_notification(UC, ALL)
    nh = nh_of(rip)
    r = Route(rip, D8, next_hops=nh)
    Route(rip, "10.1.0.0/16", next_hops=nh)
    d = dest_handle(rip, D8)
    obs.ignore_changed_dests(h, [d])
    assert obs.get_change_status(h, d) is False
    assert take(obs, h) == ["10.1.0.0/16"]
    r.update(metric=3)                                        # changes again: queued again
    assert obs.get_change_status(h, d) is True
    assert take(obs, h) == [D8]
    obs.ignore_changed_dests(h, [d])                          # not pending: no effect
    obs.ignore_changed_dests(h, [])                           # nothing: no effect
    obs.ignore_changed_dests(h, d)                            # a single handle works too
    assert take(obs, h) == []


def test_ignore_does_not_consume_the_handles(rtm, obs, rip):
    """U39: the destination handles passed in stay the caller's."""
    h = obs.register_for_change_notification(UC, ALL)
    Route(rip, D8, next_hops=nh_of(rip))
    info = obs.get_exact_match_destination(D8)               # holds a dest reference
    obs.ignore_changed_dests(h, [info.dest_handle])
    obs.release_dest_info(info)                               # still ours to release
    with pytest.raises(InvalidHandle):
        obs.release_dest_info(info)


def test_ignore_checks_every_handle_first(rtm, obs, rip):
    h = obs.register_for_change_notification(UC, ALL)
    Route(rip, D8, next_hops=nh_of(rip))
    d = dest_handle(rip, D8)
    with pytest.raises(InvalidHandle):
        obs.ignore_changed_dests(h, [d, 12345])
    assert obs.get_change_status(h, d) is True


def test_ignored_then_changed_goes_to_the_end(rtm, obs, rip):
    """After an ignore, the next change is the destination's first change:
    it is retrieved after destinations that changed before it."""
    h = obs.register_for_change_notification(UC, ALL)
    nh = nh_of(rip)
    r = Route(rip, "10.1.0.0/16", next_hops=nh)
    Route(rip, "10.2.0.0/16", next_hops=nh)
    obs.ignore_changed_dests(h, [dest_handle(rip, "10.1.0.0/16")])
    r.update(metric=3)
    assert take(obs, h) == ["10.2.0.0/16", "10.1.0.0/16"]


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc (Linux)")
def test_ignore_cycles_do_not_grow_memory(rtm, obs, rip):
    """The pending set holds each destination at most once: changing and
    ignoring the same destinations over and over (a client that only uses
    get_change_status / ignore) must not accumulate anything."""
    h = obs.register_for_change_notification(UC, ALL)
    nh = nh_of(rip)
    n = 50_000
    addr = (np.arange(n, dtype=np.uint32) << np.uint32(8)) + np.uint32(0x0A000000)
    rip.add_routes(addr, 24, next_hop=nh)
    dests = [int(x) for x in obs.drain_changes(h).dest]

    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    rip.add_routes(addr, 24, next_hop=nh, metric=1)
    obs.ignore_changed_dests(h, dests)
    before = rss()
    for m in range(2, 42):
        rip.add_routes(addr, 24, next_hop=nh, metric=m)
        obs.ignore_changed_dests(h, dests)
    grown = rss() - before
    # 40 rounds x 50,000 stale entries x 4 bytes would be 8 MB
    assert grown < 2_000_000, f"memory grew by {grown / 1e6:.1f} MB"
    assert len(obs.drain_changes(h).dest) == 0


# ---------------------------------------------------------------------------
# references held by pending entries and by retrieved infos
# ---------------------------------------------------------------------------
def test_deleted_destination_lives_until_released(rtm, obs, rip):
    base = records(rtm)
    h = obs.register_for_change_notification(UC, ALL)
    r = Route(rip, D8, next_hops=nh_of(rip))
    take(obs, h)
    d = dest_handle(rip, D8)
    r.delete()
    assert records(rtm)[0] == base[0] + 1                     # kept alive by the queue
    assert obs.get_change_status(h, d) is True
    [info] = obs.get_changed_dests(h)
    assert info.dest_handle == d and info.view_info[0].num_routes == 0
    assert records(rtm)[0] == base[0] + 1                     # now by the info
    obs.release_changed_dests(h, [info])
    assert records(rtm)[:2] == base[:2]
    with pytest.raises(InvalidHandle):
        obs.get_dest_info(d)


def test_deleted_destination_lives_until_every_registration_released_it(rtm, obs, rip):
    base = records(rtm)
    h1 = obs.register_for_change_notification(UC, ALL)
    h2 = obs.register_for_change_notification(UC, BEST)
    r = Route(rip, D8, next_hops=nh_of(rip))
    take(obs, h1), take(obs, h2)
    r.delete()
    assert take(obs, h1) == [D8]
    assert records(rtm)[0] == base[0] + 1
    d = obs.get_changed_dests(h2)
    assert records(rtm)[0] == base[0] + 1
    obs.release_changed_dests(h2, d)
    assert records(rtm)[:2] == base[:2]


def test_ignore_releases_a_deleted_destination(rtm, obs, rip):
    base = records(rtm)
    h = obs.register_for_change_notification(UC, ALL)
    r = Route(rip, D8, next_hops=nh_of(rip))
    d = dest_handle(rip, D8)
    r.delete()
    assert records(rtm)[0] == base[0] + 1
    obs.ignore_changed_dests(h, [d])
    assert records(rtm)[:2] == base[:2]


def test_deregistration_frees_pending_references(rtm, obs, rip):
    base = records(rtm)
    h = obs.register_for_change_notification(UC, ALL)
    keep = obs.register_for_change_notification(UC, ALL)
    nh = nh_of(rip)
    rs = [Route(rip, f"10.{i}.0.0/16", next_hops=nh) for i in range(3)]
    take(obs, keep)
    gone = [dest_handle(rip, f"10.{i}.0.0/16") for i in range(2)]
    rs[0].delete()
    rs[1].delete()
    assert take(obs, keep) == ["10.0.0.0/16", "10.1.0.0/16"]
    assert records(rtm)[0] == base[0] + 3                     # two kept by h's queue
    obs.deregister_from_change_notification(h)
    assert records(rtm)[0] == base[0] + 1
    for d in gone:
        with pytest.raises(InvalidHandle):
            obs.get_dest_info(d)
    rs[2].delete()
    assert take(obs, keep) == ["10.2.0.0/16"]
    assert records(rtm)[:2] == base[:2]


def test_entity_deregistration_drops_its_registrations(rtm, rec):
    base = records(rtm)
    obs = rtm.register_entity(PROTO_IP_BGP, event_callback=rec)
    rip = rtm.register_entity(PROTO_IP_RIP)
    hs = [obs.register_for_change_notification(UC, t) for t in (ALL, BEST)]
    survivor = rip.register_for_change_notification(UC, ALL)
    nh = nh_of(rip)
    r = Route(rip, D8, next_hops=nh)
    r.delete()                                                # pending on all three
    assert records(rtm)[0] == base[0] + 1
    obs.deregister_entity()
    assert records(rtm)[0] == base[0] + 1                     # still rip's pending entry
    assert take(rip, survivor) == [D8]
    assert records(rtm)[0] == base[0]
    calls = len(rec.calls)
    Route(rip, "10.1.0.0/16", next_hops=nh)                   # nothing reaches obs any more
    assert len(rec.calls) == calls
    with pytest.raises(InvalidHandle):
        obs.get_changed_dests(hs[0])
    with pytest.raises(InvalidHandle):                        # not usable by anyone else
        rip.get_changed_dests(hs[0])


def test_routes_deleted_by_entity_deregistration_are_notified(rtm, obs, rip):
    h = obs.register_for_change_notification(UC, BEST)
    nh = nh_of(rip)
    for i in range(3):
        rip.add_route_to_dest(f"10.{i}.0.0/16", next_hops=nh)     # no handle kept
    take(obs, h)
    rip.deregister_entity()
    infos = obs.get_changed_dests(h)
    assert sorted(i.prefix for i in infos) == [f"10.{i}.0.0/16" for i in range(3)]
    assert all(i.view_info[0].num_routes == 0 for i in infos)
    obs.release_changed_dests(h, infos)
    assert rtm.counts() == (0, 0) and records(rtm)[0] == 0


def test_release_changed_dests_rules(rtm, obs, rip):
    h1 = obs.register_for_change_notification(UC, ALL)
    h2 = obs.register_for_change_notification(UC, ALL)
    nh = nh_of(rip)
    Route(rip, D8, next_hops=nh)
    Route(rip, "10.1.0.0/16", next_hops=nh)
    i1 = obs.get_changed_dests(h1)
    i2 = obs.get_changed_dests(h2)
    with pytest.raises(InvalidHandle):                        # another registration's infos
        obs.release_changed_dests(h2, i1)
    plain = obs.get_exact_match_destination(D8)
    with pytest.raises(InvalidHandle):                        # not a changed-dest info
        obs.release_changed_dests(h1, [plain])
    with pytest.raises(InvalidHandle):                        # mixed batch: nothing released
        obs.release_changed_dests(h1, [i1[0], i2[0]])
    obs.release_changed_dests(h1, i1)
    with pytest.raises(InvalidHandle):                        # released twice
        obs.release_changed_dests(h1, i1[:1])
    obs.release_changed_dests(h2, i2)
    obs.release_changed_dests(h2, [])
    obs.release_dest_info(plain)
    assert rip.search_exact(D8) is not None


def test_retrieved_infos_hold_references(rtm, obs, rip):
    h = obs.register_for_change_notification(UC, ALL)
    r = Route(rip, D8, next_hops=nh_of(rip))
    [info] = obs.get_changed_dests(h)
    route = info.best(RTM_VIEW_ID_UCAST)
    assert route == r.handle
    r.delete()                                                # consumes the add's reference
    ri, _ = obs.get_route_info(route)                         # the info keeps it readable
    assert ri.state == RTM_ROUTE_STATE_DELETED
    obs.release_route_info(ri)
    obs.release_changed_dests(h, [info])
    with pytest.raises(InvalidHandle):
        obs.get_route_info(route)


# ---------------------------------------------------------------------------
# callbacks
# ---------------------------------------------------------------------------
def test_callback_arguments_and_context(rtm, obs, rec, rip):
    ctx = object()
    h1 = obs.register_for_change_notification(UC, ALL, ctx)
    h2 = obs.register_for_change_notification(UC, BEST, {"k": 1})
    h3 = obs.register_for_change_notification(MC, ALL)        # no change in its view
    Route(rip, D8, next_hops=nh_of(rip))
    assert rec.changes() == [(obs.handle, RTM_CHANGE_NOTIFICATION, h1, ctx),
                             (obs.handle, RTM_CHANGE_NOTIFICATION, h2, {"k": 1})]
    assert rec.changes(h3) == []
    assert rec.changes()[0][3] is ctx


def test_callback_is_edge_triggered(rtm, obs, rec, rip):
    h = obs.register_for_change_notification(UC, ALL, "c")
    nh = nh_of(rip)
    a = Route(rip, D8, next_hops=nh)
    b = Route(rip, "10.1.0.0/16", next_hops=nh)
    a.update(metric=2)
    assert len(rec.changes(h)) == 1                           # empty -> non-empty once
    infos = obs.get_changed_dests(h, 1)                       # one left
    obs.release_changed_dests(h, infos)
    a.update(metric=3)
    assert len(rec.changes(h)) == 1                           # never became empty
    take(obs, h)
    b.update(metric=2)
    assert len(rec.changes(h)) == 2                           # empty -> non-empty again
    obs.ignore_changed_dests(h, [dest_handle(rip, "10.1.0.0/16")])
    a.update(metric=4)
    assert len(rec.changes(h)) == 3                           # emptied by ignore
    obs.drain_changes(h)
    rip.add_routes(np.array([0x0B000000, 0x0C000000], np.uint32), 8, next_hop=nh)
    assert len(rec.changes(h)) == 4                           # emptied by drain; bulk: once
    b.update(metric=2)                                        # rewritten unchanged: ALL yes
    assert len(rec.changes(h)) == 4
    assert all(c == (obs.handle, RTM_CHANGE_NOTIFICATION, h, "c") for c in rec.changes(h))


def test_no_callback_for_changes_that_do_not_queue(rtm, obs, rec, rip, ospf):
    h = obs.register_for_change_notification(UC, BEST)
    Route(rip, D8, next_hops=nh_of(rip), metric=1)
    take(obs, h)
    calls = len(rec.calls)
    Route(ospf, D8, next_hops=nh_of(ospf), metric=9)          # not best: not queued
    assert len(rec.calls) == calls and obs.get_changed_dests(h) == []


def test_registration_without_callback_can_poll(rtm, rip):
    quiet = rtm.register_entity(PROTO_IP_BGP)                 # no event_callback
    h = quiet.register_for_change_notification(UC, ALL)
    Route(rip, D8, next_hops=nh_of(rip))
    assert take(quiet, h) == [D8]


def test_callback_runs_after_the_call_completed(rtm, rip):
    seen = []

    def cb(ent_h, ev, notify, ctx):
        if ev != RTM_CHANGE_NOTIFICATION:
            return
        e = rtm.entities[0]
        d4 = rtm.counts(4)
        found = e.search_exact("11.0.0.0/8")
        seen.append((d4, found is not None and found.view_info[0].num_routes))

    watcher = rtm.register_entity(PROTO_IP_BGP, event_callback=cb)
    watcher.register_for_change_notification(UC, ALL)
    nh = nh_of(rip)
    addr = (np.arange(1000, dtype=np.uint32) << np.uint32(8)) + np.uint32(0x0A000000)
    addr[-1] = 0x0B000000
    lengths = np.full(1000, 24, np.uint8)
    lengths[-1] = 8
    rip.add_routes(addr, lengths, next_hop=nh)
    assert seen == [((1000, 1000), 1)]                        # one call, every row in place


def test_reentrant_calls_inside_the_callback(rtm, rip):
    log = []
    state = {"added": False}

    def cb(ent_h, ev, notify, ctx):
        if ev != RTM_CHANGE_NOTIFICATION:
            return
        me = ctx["me"]
        got = take(me, notify)                                # allowed
        log.append(got)
        with pytest.raises(InvalidParameter):                 # refused inside the callback
            me.register_for_change_notification(UC, ALL)
        if not state["added"]:
            state["added"] = True
            rip.add_route_to_dest("10.99.0.0/16", next_hops=ctx["nh"])   # allowed

    ctx = {}
    watcher = rtm.register_entity(PROTO_IP_BGP, event_callback=cb)
    ctx["me"] = watcher
    ctx["nh"] = nh_of(rip)
    h = watcher.register_for_change_notification(UC, ALL, ctx)
    rip.add_route_to_dest(D8, next_hops=ctx["nh"])
    # the callback's own change was delivered in the same dispatch loop, before
    # the outer call returned
    assert log == [[D8], ["10.99.0.0/16"]]
    assert watcher.get_changed_dests(h) == []
    assert rip.search_exact("10.99.0.0/16") is not None
    assert watcher.register_for_change_notification(UC, ALL)   # allowed again afterwards


def test_reentrant_change_reaches_other_registrations_once(rtm, rip, ospf):
    """A change made in a callback is signalled to the other registrations too
    (edge rules apply), and the loop ends."""
    calls = []

    def cb_a(ent_h, ev, notify, ctx):
        if ev != RTM_CHANGE_NOTIFICATION:
            return
        calls.append("a")
        if calls.count("a") == 1:
            ospf.add_route_to_dest("11.0.0.0/8", next_hops=ctx)

    def cb_b(ent_h, ev, notify, ctx):
        if ev == RTM_CHANGE_NOTIFICATION:
            calls.append("b")

    a = rtm.register_entity(PROTO_IP_BGP, 1, event_callback=cb_a)
    b = rtm.register_entity(PROTO_IP_BGP, 2, event_callback=cb_b)
    ha = a.register_for_change_notification(UC, ALL, nh_of(ospf))
    hb = b.register_for_change_notification(UC, ALL)
    rip.add_route_to_dest(D8, next_hops=nh_of(rip))
    assert calls == ["a", "b"]                 # b's queue was already non-empty: no 2nd call
    assert take(a, ha) == [D8, "11.0.0.0/8"]
    assert take(b, hb) == [D8, "11.0.0.0/8"]


class Boom(Exception):
    pass


class Bang(Exception):
    pass


def test_raising_callback_propagates_after_the_others_ran(rtm, rip):
    ran = []

    def bad(ent_h, ev, notify, ctx):
        if ev == RTM_CHANGE_NOTIFICATION:
            ran.append(ctx)
            raise ctx[1]("from " + ctx[0])

    def good(ent_h, ev, notify, ctx):
        if ev == RTM_CHANGE_NOTIFICATION:
            ran.append(ctx)

    e1 = rtm.register_entity(PROTO_IP_BGP, 1, event_callback=bad)
    e2 = rtm.register_entity(PROTO_IP_BGP, 2, event_callback=good)
    e3 = rtm.register_entity(PROTO_IP_BGP, 3, event_callback=bad)
    h1 = e1.register_for_change_notification(UC, ALL, ("e1", Boom))
    h2 = e2.register_for_change_notification(UC, ALL, "e2")
    h3 = e3.register_for_change_notification(UC, ALL, ("e3", Bang))
    nh = nh_of(rip)
    with pytest.raises(Boom, match="from e1"):                # the first exception
        rip.add_route_to_dest(D8, next_hops=nh, metric=7)
    assert ran == [("e1", Boom), "e2", ("e3", Bang)]          # every callback ran
    found = rip.search_exact(D8)                              # the call did complete
    assert found is not None and found.view_info[0].num_routes == 1
    rtm.check_invariants()
    for e, h in ((e1, h1), (e2, h2), (e3, h3)):
        assert take(e, h) == [D8]
    # bulk path: all rows applied, first exception propagated
    ran.clear()
    addr = np.array([0x0B000000, 0x0C000000], np.uint32)
    with pytest.raises(Boom):
        rip.add_routes(addr, 8, next_hop=nh)
    assert rtm.counts() == (3, 3)
    for e, h in ((e1, h1), (e2, h2), (e3, h3)):
        assert take(e, h) == ["11.0.0.0/8", "12.0.0.0/8"]
    # deletion: done, and the edge re-armed after the queues were emptied
    ran.clear()
    with pytest.raises(Boom):
        rip.delete_routes(addr, 8)
    assert rtm.counts()[1] == 1 and len(ran) == 3
    assert rip.search_exact("11.0.0.0/8") is None and rip.search_exact("12.0.0.0/8") is None
    rtm.check_invariants()
    for e, h in ((e1, h1), (e2, h2), (e3, h3)):
        assert take(e, h) == ["11.0.0.0/8", "12.0.0.0/8"]
    assert rtm.counts() == (1, 1)


def test_raising_callback_leaves_the_edge_state_consistent(rtm, rip):
    n = {"calls": 0}

    def bad(ent_h, ev, notify, ctx):
        if ev == RTM_CHANGE_NOTIFICATION:
            n["calls"] += 1
            raise Boom()

    e = rtm.register_entity(PROTO_IP_BGP, event_callback=bad)
    h = e.register_for_change_notification(UC, ALL)
    nh = nh_of(rip)
    with pytest.raises(Boom):
        rip.add_route_to_dest(D8, next_hops=nh)
    rip.add_route_to_dest("11.0.0.0/8", next_hops=nh)         # still pending: no call
    assert n["calls"] == 1
    assert take(e, h) == [D8, "11.0.0.0/8"]
    with pytest.raises(Boom):
        rip.add_route_to_dest("12.0.0.0/8", next_hops=nh)     # empty -> non-empty again
    assert n["calls"] == 2


def test_registration_deregistered_by_an_earlier_callback_gets_no_call(rtm, rip):
    calls = []
    watcher = {}

    def cb(ent_h, ev, notify, ctx):
        if ev != RTM_CHANGE_NOTIFICATION:
            return
        calls.append(ctx)
        if ctx == "first":
            watcher["e"].deregister_from_change_notification(watcher["second"])

    e = rtm.register_entity(PROTO_IP_BGP, event_callback=cb)
    watcher["e"] = e
    e.register_for_change_notification(UC, ALL, "first")
    watcher["second"] = e.register_for_change_notification(UC, ALL, "second")
    rip.add_route_to_dest(D8, next_hops=nh_of(rip))
    assert calls == ["first"]
    rtm.check_invariants()


# ---------------------------------------------------------------------------
# several registrations per entity
# ---------------------------------------------------------------------------
def test_registrations_of_one_entity_are_independent(rtm, obs, rec, rip):
    h1 = obs.register_for_change_notification(UC, ALL, 1)
    h2 = obs.register_for_change_notification(UC, ALL, 2)
    nh = nh_of(rip)
    a = Route(rip, D8, next_hops=nh)
    Route(rip, "10.1.0.0/16", next_hops=nh)
    d = dest_handle(rip, D8)
    assert take(obs, h1) == [D8, "10.1.0.0/16"]               # h2 keeps its own
    assert obs.get_change_status(h2, d) is True
    obs.ignore_changed_dests(h2, [d])
    assert take(obs, h2) == ["10.1.0.0/16"]
    a.update(metric=2)
    assert [c[3] for c in rec.changes()] == [1, 2, 1, 2]       # each edge on its own
    obs.mark_dest_for_change_notification(h1, d)
    assert obs.is_marked_for_change_notification(h2, d) is False
    obs.deregister_from_change_notification(h1)
    assert take(obs, h2) == [D8]                              # unaffected


# ---------------------------------------------------------------------------
# bulk paths and drain_changes
# ---------------------------------------------------------------------------
def _v4(n, base=0x0A000000):
    return (np.arange(n, dtype=np.uint32) << np.uint32(8)) + np.uint32(base)


def test_bulk_add_and_delete_queue_like_per_call(rtm, obs, rip, ospf):
    regs = {t: obs.register_for_change_notification(UC, t) for t in (ALL, BEST, FWD)}
    nh, nh2 = nh_of(rip), nh_of(ospf)
    addr = _v4(100)
    rip.add_routes(addr, 24, next_hop=nh, metric=5)
    for t, h in regs.items():
        c = obs.drain_changes(h)
        assert np.array_equal(c.prefix, addr), t              # order of the rows
    ospf.add_routes(addr[:50], 24, next_hop=nh2, metric=9)    # worse routes
    got = {t: len(obs.drain_changes(h).dest) for t, h in regs.items()}
    assert got == {ALL: 50, BEST: 0, FWD: 0}
    rip.add_routes(addr[10:30], 24, next_hop=nh, metric=5, flags=LF)   # non-forwarding flag
    got = {t: len(obs.drain_changes(h).dest) for t, h in regs.items()}
    assert got == {ALL: 20, BEST: 20, FWD: 0}
    rip.add_routes(addr[10:30], 24, next_hop=nh, metric=5, flags=LF | INACT)
    got = {t: len(obs.drain_changes(h).dest) for t, h in regs.items()}
    assert got == {ALL: 20, BEST: 20, FWD: 20}
    ospf.add_routes(addr[:20], 24, next_hop=nh2, metric=1)    # become best on 20
    got = {t: len(obs.drain_changes(h).dest) for t, h in regs.items()}
    assert got == {ALL: 20, BEST: 20, FWD: 20}
    ospf.delete_routes(addr[:50], 24)                         # best on 20 of 50
    got = {t: len(obs.drain_changes(h).dest) for t, h in regs.items()}
    assert got == {ALL: 50, BEST: 20, FWD: 20}
    rip.add_routes(addr, 24, next_hop=nh, metric=5, views=MC)  # leaves ucast entirely
    got = {t: len(obs.drain_changes(h).dest) for t, h in regs.items()}
    assert got == {ALL: 100, BEST: 100, FWD: 100}
    c_mc = obs.register_for_change_notification(MC, BEST)
    rip.delete_routes(addr[:5], 24)
    assert [len(obs.drain_changes(h).dest) for h in regs.values()] == [0, 0, 0]
    assert len(obs.drain_changes(c_mc).dest) == 5


def test_bulk_delete_of_missing_routes_queues_nothing(rtm, obs, rip):
    h = obs.register_for_change_notification(UC, ALL)
    Route(rip, D8, next_hops=nh_of(rip))
    take(obs, h)
    rip.delete_routes(_v4(10, 0x0B000000), 24)
    assert take(obs, h) == []


def test_drain_changes_columns_ipv4(rtm, obs, rip):
    h = obs.register_for_change_notification(RTM_VIEW_MASK_ALL, ALL)
    nh = nh_of(rip)
    nh2 = nh_of(rip, "192.0.2.9")
    addr = np.array([0x0A000000, 0x0A010000, 0xC0A80000, 0x0B000000], np.uint32)
    lens = np.array([8, 16, 24, 8], np.uint8)
    rip.add_routes(addr, lens, next_hop=nh, metric=3)
    Route(rip, "10.0.0.0/8", neighbour=nh2, next_hops=nh2, metric=1)  # becomes best
    mc = Route(rip, "224.0.0.0/4", next_hops=nh2, views=MC)
    rip.delete_routes(addr[2:3], lens[2:3])                  # 192.168.0.0/24 withdrawn
    c = obs.drain_changes(h)
    assert c.prefix.dtype == np.uint32 and c.length.dtype.kind == "i"
    assert c.route.dtype == np.uint64 and c.dest.dtype == np.uint64
    assert c.next_hop.dtype == np.uint64
    assert list(c.prefix) == [0x0A000000, 0x0A010000, 0xC0A80000, 0x0B000000, 0xE0000000]
    assert list(c.length) == [8, 16, 24, 8, 4]
    d8 = obs.search_exact(D8)
    assert int(c.route[0]) == d8.best(RTM_VIEW_ID_UCAST) and int(c.next_hop[0]) == nh2
    assert int(c.dest[0]) == d8.dest_handle
    assert int(c.route[1]) == obs.search_exact("10.1.0.0/16").best() and c.next_hop[1] == nh
    assert (c.route[2], c.next_hop[2]) == (0, 0)              # a withdrawal
    assert c.route[4] == 0 and c.next_hop[4] == 0             # no unicast route: view 0
    assert len(obs.drain_changes(h).dest) == 0                # drained
    mc.update(metric=2)
    cm = obs.drain_changes(h, RTM_VIEW_ID_MCAST)
    assert list(cm.prefix) == [0xE0000000] and int(cm.route[0]) == mc.handle
    assert int(cm.next_hop[0]) == nh2


def test_drain_changes_empty_and_bad_view(rtm, obs):
    h = obs.register_for_change_notification(UC, ALL)
    c = obs.drain_changes(h)
    assert [len(x) for x in c] == [0, 0, 0, 0, 0]
    for view in (2, 5, 31, 32, -1):
        with pytest.raises(NotSupported):
            obs.drain_changes(h, view)


def test_drain_changes_takes_no_references(rtm, obs, rip):
    base = records(rtm)
    h = obs.register_for_change_notification(UC, ALL)
    nh = nh_of(rip)
    addr = _v4(10)
    rip.add_routes(addr, 24, next_hop=nh)
    rip.delete_routes(addr[:4], 24)
    assert records(rtm)[0] == base[0] + 10                    # 4 kept by the queue
    c = obs.drain_changes(h)
    assert len(c.dest) == 10 and int((c.route == 0).sum()) == 4
    assert records(rtm)[0] == base[0] + 6
    with pytest.raises(InvalidHandle):                        # the snapshots died with them
        obs.get_dest_info(int(c.dest[0]))
    assert obs.get_dest_info(int(c.dest[9])).prefix == "10.0.9.0/24"


def test_drain_changes_ipv6(rtm, rec):
    obs6 = rtm.register_entity(PROTO_IP_BGP, 1, AF_INET6, event_callback=rec)
    rip6 = rtm.register_entity(PROTO_IP_RIP, 1, AF_INET6)
    h = obs6.register_for_change_notification(UC, BEST)
    nh, _ = rip6.add_next_hop("2001:db8::1", interface_index=2)
    n = 300
    hi = (np.uint64(0x20010DB8) << np.uint64(32)) + (np.arange(n, dtype=np.uint64)
                                                      << np.uint64(16))
    addr = np.stack([hi, np.zeros(n, np.uint64)], axis=1)
    rip6.add_routes(addr, 48, next_hop=nh, metric=2)
    assert len(rec.changes(h)) == 1
    rip6.delete_routes(addr[:100], 48)
    rip6.add_routes(addr[:10], 48, next_hop=nh, metric=2)    # re-added: still pending once
    c = obs6.drain_changes(h)
    assert c.prefix.shape == (n, 2) and c.prefix.dtype == np.uint64
    assert np.array_equal(c.prefix, addr) and set(c.length.tolist()) == {48}
    assert int((c.route == 0).sum()) == 90
    assert set(c.next_hop[100:].tolist()) == {nh}
    first = obs6.search_exact("2001:db8::/48")
    assert int(c.route[0]) == first.best() and int(c.dest[0]) == first.dest_handle
    assert rtm.counts(6) == (210, 210) and rtm.counts(4) == (0, 0)


def test_registrations_see_only_their_familys_table(rtm):
    """Spec 1.1: one routing table per (instance, address family).  An IPv6
    entity's registration hears nothing of the IPv4 table, and vice versa."""
    e4 = rtm.register_entity(PROTO_IP_RIP, 1)
    e6 = rtm.register_entity(PROTO_IP_RIP, 1, AF_INET6)
    h4 = e4.register_for_change_notification(RTM_VIEW_MASK_ALL, ALL)
    h6 = e6.register_for_change_notification(RTM_VIEW_MASK_ALL, ALL)
    nh6, _ = e6.add_next_hop("2001:db8::1", interface_index=2)
    Route(e4, D8, next_hops=nh_of(e4))
    Route(e6, "2001:db8::/32", next_hops=nh6)
    assert take(e4, h4) == [D8]
    assert take(e6, h6) == ["2001:db8::/32"]


def test_get_changed_dests_ipv6(rtm):
    e = rtm.register_entity(PROTO_IP_RIP, 1, AF_INET6)
    h = e.register_for_change_notification(UC, ALL)
    nh, _ = e.add_next_hop("2001:db8::1", interface_index=2)
    r = Route(e, "2001:db8:1::/48", next_hops=nh)
    r.delete()
    [info] = e.get_changed_dests(h)
    assert info.prefix == "2001:db8:1::/48" and info.view_info[0].num_routes == 0
    e.release_changed_dests(h, [info])
    assert records(rtm)[0] == 0


# ---------------------------------------------------------------------------
# model-based random test
# ---------------------------------------------------------------------------
PREFIXES = ["10.0.0.0/8", "10.1.0.0/16", "192.168.0.0/16"]
REGS = [(RTM_VIEW_MASK_ALL, ALL), (UC, ALL), (MC, ALL), (UC, BEST), (MC, FWD), (UC, FWD),
        (RTM_VIEW_MASK_ALL, BEST | MARKED), (UC, ALL | MARKED), (MC, BEST | FWD)]

DEFAULT_FIELDS = {"preference": 0, "metric": 1, "views": UC, "flags": 0, "flags1": 0,
                  "entity_specific_info": 0, "nhs": (0,)}
# an add / update changes up to two fields of the route (or of the defaults)
route_changes = st.dictionaries(st.sampled_from(sorted(DEFAULT_FIELDS)), st.integers(0, 3),
                                max_size=2)
FIELD_VALUES = {"preference": [0, 1, 0, 1], "metric": [0, 1, 2, 1], "views": [UC, MC, UC | MC, UC],
                "flags": [0, 0x8, 0x10, 0x18], "flags1": [0, 1, 0, 1],
                "entity_specific_info": [0, 1, 0, 1], "nhs": [(), (0,), (1,), (0, 1)]}
N_DESTS = len(PREFIXES)
N_REGS = len(REGS)
set_op = st.tuples(st.just("set"), st.integers(0, 2), st.integers(0, N_DESTS - 1), route_changes)
sync_op = st.tuples(st.just("sync"))
ops = st.lists(st.one_of(
    set_op, set_op, set_op, sync_op, sync_op,
    st.tuples(st.just("del"), st.integers(0, 2), st.integers(0, N_DESTS - 1)),
    st.tuples(st.just("get"), st.integers(0, N_REGS - 1), st.sampled_from([None, 1, 2])),
    st.tuples(st.just("drain"), st.integers(0, N_REGS - 1)),
    st.tuples(st.just("ignore"), st.integers(0, N_REGS - 1), st.integers(0, N_DESTS - 1)),
    st.tuples(st.just("mark"), st.integers(0, N_REGS - 1), st.integers(0, N_DESTS - 1),
              st.booleans()),
), min_size=10, max_size=80)


class Model:
    """Reference semantics of the brief, straight from the definitions."""

    def __init__(self):
        self.routes = {k: {} for k in range(N_DESTS)}   # dest -> {owner: fields + stamp}
        self.stamp = 0
        self.pending = [{} for _ in REGS]         # reg -> {dest: None}, insertion order
        self.marks = [set() for _ in REGS]
        self.exists = set()

    def best(self, k, view):
        rs = sorted(self.routes[k].items(),
                    key=lambda kv: (kv[1]["preference"], kv[1]["metric"], kv[1]["stamp"]))
        for owner, f in rs:
            if f["views"] & view:
                return owner, (f["preference"], f["metric"], f["nhs"], f["flags"], f["views"])
        return None, None

    def change(self, k, owner, new):
        old = self.routes[k].get(owner)
        before = {v: self.best(k, v) for v in (UC, MC)}
        if new is None:
            del self.routes[k][owner]
        else:
            new = dict(new)
            if old is None or (old["preference"], old["metric"]) != (new["preference"],
                                                                      new["metric"]):
                self.stamp += 1
                new["stamp"] = self.stamp
            else:
                new["stamp"] = old["stamp"]
            self.routes[k][owner] = new
        after = {v: self.best(k, v) for v in (UC, MC)}
        touched = (old["views"] if old else 0) | (new["views"] if new else 0)
        signalled = []
        for g, (views, types) in enumerate(REGS):
            views = UC | MC if views == RTM_VIEW_MASK_ALL else views
            hit = False
            if types & ALL and touched & views:
                hit = True
            for v in (UC, MC):
                if not v & views:
                    continue
                (ob, oa), (nb, na) = before[v], after[v]
                if types & BEST and (ob != nb or oa != na):
                    hit = True
                fwd = lambda a: a and (a[0], a[1], a[2], a[3] & RTM_ROUTE_FLAGS_FORWARDING, a[4])
                if types & FWD and (ob != nb or fwd(oa) != fwd(na)):
                    hit = True
            if types & MARKED and k not in self.marks[g]:
                hit = False
            if hit and k not in self.pending[g]:
                if not self.pending[g]:
                    signalled.append(g)
                self.pending[g][k] = None
        self.exists.add(k)
        self.gc(k)
        return signalled

    def gc(self, k):
        if not self.routes[k] and not any(k in p for p in self.pending):
            self.exists.discard(k)
            for m in self.marks:
                m.discard(k)


@given(ops)
def test_random_operations_match_the_model(ops):
    check_against_model(ops)


def random_ops(rng, n):
    """The same operations as the strategy, from a seeded generator (long runs
    reach combinations short examples rarely do)."""
    out = []
    for _ in range(n):
        kind = rng.choice(["set"] * 3 + ["sync"] * 2 + ["del", "get", "drain", "ignore", "mark"])
        g, k = rng.randrange(N_REGS), rng.randrange(N_DESTS)
        if kind == "set":
            keys = rng.sample(sorted(DEFAULT_FIELDS), rng.randrange(3))
            out.append(("set", rng.randrange(3), k, {key: rng.randrange(4) for key in keys}))
        elif kind == "sync":
            out.append(("sync",))
        elif kind == "del":
            out.append(("del", rng.randrange(3), k))
        elif kind == "get":
            out.append(("get", g, rng.choice([None, 1, 2])))
        elif kind == "drain":
            out.append(("drain", g))
        elif kind == "ignore":
            out.append(("ignore", g, k))
        else:
            out.append(("mark", g, k, rng.random() < 0.5))
    return out


@pytest.mark.parametrize("seed", range(4))
def test_long_random_run_matches_the_model(seed):
    check_against_model(random_ops(random.Random(seed), 2500))


def check_against_model(ops):
    rtm = RoutingTableManager()
    rec = Recorder()
    obs = rtm.register_entity(PROTO_IP_BGP, 1, event_callback=rec)
    ents = [obs, rtm.register_entity(PROTO_IP_RIP, 1), rtm.register_entity(PROTO_IP_OSPF, 1)]
    nhs = [[nh_of(e, "192.0.2.1"), nh_of(e, "192.0.2.2")] for e in ents]
    regs = [obs.register_for_change_notification(v, t, g) for g, (v, t) in enumerate(REGS)]
    handles = {}                                  # (owner, dest) -> route handle
    dests = {}                                    # dest -> dest handle while it exists
    model = Model()
    for op in ops:
        calls = len(rec.changes())
        expected_signals = []
        if op[0] == "set":
            _, o, k, changes = op
            old = model.routes[k].get(o)
            f = {key: old[key] for key in DEFAULT_FIELDS} if old else dict(DEFAULT_FIELDS)
            if old:
                f["nhs"] = tuple(nhs[o].index(h) for h in old["nhs"])
            f.update({key: FIELD_VALUES[key][v] for key, v in changes.items()})
            nh = [nhs[o][i] for i in f.pop("nhs")]
            kw = dict(f, next_hops=nh)
            if (o, k) in handles:
                ents[o].add_route_to_dest(PREFIXES[k], route=handles[(o, k)], **kw)
            else:
                handles[(o, k)], _ = ents[o].add_route_to_dest(PREFIXES[k], return_handle=True,
                                                               **kw)
                dests[k] = dest_handle(ents[o], PREFIXES[k])
            f["nhs"] = tuple(nh)
            expected_signals = model.change(k, o, f)
        elif op[0] == "del":
            _, o, k = op
            if (o, k) not in handles:
                continue
            ents[o].delete_route_to_dest(handles.pop((o, k)))
            expected_signals = model.change(k, o, None)
        elif op[0] == "get":
            _, g, num = op
            infos = obs.get_changed_dests(regs[g], num)
            got = {PREFIXES.index(i.prefix) for i in infos}
            if num is None:
                assert got == set(model.pending[g]), op
            else:       # which ones: order of first change (tested on its own above)
                assert got <= set(model.pending[g]), op
                assert len(got) == len(infos) == min(num, len(model.pending[g])), op
            for i in infos:
                k = PREFIXES.index(i.prefix)
                for vi in i.view_info:
                    vmask = 1 << vi.view_id
                    owner, _ = model.best(k, vmask)
                    assert vi.route == (handles[(owner, k)] if owner is not None else 0)
                    assert vi.num_routes == sum(1 for f in model.routes[k].values()
                                                if f["views"] & vmask)
            obs.release_changed_dests(regs[g], infos)
            for k in got:
                del model.pending[g][k]
                model.gc(k)
        elif op[0] in ("drain", "sync"):
            for g in ([op[1]] if op[0] == "drain" else range(len(REGS))):
                c = obs.drain_changes(regs[g])
                got = {PREFIXES.index(obs_prefix(c, i)) for i in range(len(c.dest))}
                assert got == set(model.pending[g]), (op, g)
                model.pending[g].clear()
                for k in got:
                    model.gc(k)
        elif op[0] == "ignore":
            _, g, k = op
            if k not in model.exists:
                continue
            obs.ignore_changed_dests(regs[g], [dests[k]])
            model.pending[g].pop(k, None)
            model.gc(k)
        elif op[0] == "mark":
            _, g, k, on = op
            if k not in model.exists:
                continue
            obs.mark_dest_for_change_notification(regs[g], dests[k], on)
            (model.marks[g].add if on else model.marks[g].discard)(k)
        assert [c[3] for c in rec.changes()[calls:]] == expected_signals, op
        for k in range(N_DESTS):
            if k in model.exists:
                for g, h in enumerate(regs):
                    assert obs.get_change_status(h, dests[k]) == (k in model.pending[g])
                    assert obs.is_marked_for_change_notification(h, dests[k]) == \
                        (k in model.marks[g])
            elif k in dests:
                with pytest.raises(InvalidHandle):
                    obs.get_change_status(regs[0], dests[k])
    rtm.check_invariants()
    for g, h in enumerate(regs):
        obs.drain_changes(h)
    for (o, k), rh in handles.items():
        ents[o].delete_route_to_dest(rh)
    for h in regs:
        obs.deregister_from_change_notification(h)
    assert records(rtm)[:2] == (0, 0)


def obs_prefix(c, i):
    a = int(c.prefix[i])
    return f"{a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}/{int(c.length[i])}"


# ---------------------------------------------------------------------------
# churn: 100,000 routes, two registrations, no leaks
# ---------------------------------------------------------------------------
def test_churn_100k_routes_no_leaks():
    rtm = RoutingTableManager()
    rip = rtm.register_entity(PROTO_IP_RIP)
    ospf = rtm.register_entity(PROTO_IP_OSPF)
    obs = rtm.register_entity(PROTO_IP_BGP, event_callback=Recorder())
    nh, nh2 = nh_of(rip), nh_of(ospf)
    n = 100_000
    addr = _v4(n)                                             # 10.0.0.0/24 upwards
    base = records(rtm)
    h_all = obs.register_for_change_notification(RTM_VIEW_MASK_ALL, ALL)
    h_best = obs.register_for_change_notification(UC, BEST)
    rounds = 6
    tracemalloc.start()
    try:
        usage = []
        for rnd in range(rounds):
            rip.add_routes(addr, 24, next_hop=nh, metric=10 + rnd)
            a, b = obs.drain_changes(h_all), obs.drain_changes(h_best)
            assert (len(a.dest), len(b.dest)) == (n, n)
            ospf.add_routes(addr[::2], 24, next_hop=nh2, metric=50)        # worse
            a, b = obs.drain_changes(h_all), obs.drain_changes(h_best)
            assert (len(a.dest), len(b.dest)) == (n // 2, 0)
            ospf.add_routes(addr[::4], 24, next_hop=nh2, metric=1)         # better on a quarter
            a, b = obs.drain_changes(h_all), obs.drain_changes(h_best)
            assert (len(a.dest), len(b.dest)) == (n // 4, n // 4)
            assert np.all(b.next_hop == nh2)
            rip.delete_routes(addr[1::2], 24)                              # half withdrawn
            ospf.delete_routes(addr[::2], 24)
            a, b = obs.drain_changes(h_all), obs.drain_changes(h_best)
            assert (len(a.dest), len(b.dest)) == (n, n // 2 + n // 4)
            assert int((b.route == 0).sum()) == n // 2
            assert rtm.counts() == (n // 2, n // 2)
            found = rip.lookup(addr[:8] + np.uint32(1))          # links the trie (glue nodes)
            assert list(found.length) == [24, -1] * 4
            del a, b
            gc.collect()
            usage.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    # Python-level memory: flat after the first rounds
    assert usage[-1] - usage[1] < 64 * 1024, usage
    rip.delete_routes(addr, 24)
    a, b = obs.drain_changes(h_all), obs.drain_changes(h_best)
    assert (len(a.dest), len(b.dest)) == (n // 2, n // 2)
    assert np.all(a.route == 0)
    assert rtm.counts() == (0, 0)
    assert records(rtm) == base
    obs.deregister_from_change_notification(h_all)
    obs.deregister_from_change_notification(h_best)
    assert records(rtm) == base
    rtm.check_invariants()

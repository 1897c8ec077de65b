"""Locks and direct pointers, opaque pointers and entity methods (rtmcore.extras;
spec 1.14, 1.15, 1.17, 2.2, 2.3, 2.5, 2.7; decisions U8, U22, U23, U26)."""
import threading
import time

import pytest

import rtmcore
import rtmcore.extras as X
from rtmcore import (ERROR_ACCESS_DENIED, ERROR_INVALID_DATA, ERROR_INVALID_PARAMETER,
                     ERROR_NOT_FOUND, METHOD_TYPE_ALL_METHODS, PROTO_IP_BGP, PROTO_IP_OSPF,
                     PROTO_IP_RIP, RTM_BLOCK_METHODS, RTM_NEXTHOP_FLAGS_REMOTE, RTM_RESUME_METHODS,
                     RTM_ROUTE_CHANGE_BEST, RTM_ROUTE_CHANGE_NEW, RTM_ROUTE_STATE_DELETED,
                     RTM_VIEW_ID_UCAST, AccessDenied, BadConfiguration, InvalidHandle,
                     InvalidParameter, NoSystemResources, NotFound, NotSupported, VirtualClock)

X.install(rtmcore.Entity, rtmcore.RoutingTableManager)


# ---------------------------------------------------------------------------
# fixtures and helpers
# ---------------------------------------------------------------------------
@pytest.fixture
def rtm():
    return rtmcore.RoutingTableManager()


@pytest.fixture
def rip(rtm):
    return rtm.register_entity(PROTO_IP_RIP, 1, reserve_opaque_pointer=True)


@pytest.fixture
def ospf(rtm):
    return rtm.register_entity(PROTO_IP_OSPF, 1, reserve_opaque_pointer=True)


@pytest.fixture
def nh(rip):
    return rip.add_next_hop("192.0.2.1", interface_index=1)[0]


@pytest.fixture
def nh2(rip):
    return rip.add_next_hop("192.0.2.2", interface_index=2)[0]


@pytest.fixture
def route(rip, nh):
    h, _ = rip.add_route_to_dest("10.0.0.0/8", neighbour=nh, next_hops=nh, metric=5,
                                 return_handle=True)
    return h


def stored(ent, prefix="10.0.0.0/8"):
    """The committed routes of a destination (snapshots)."""
    return ent.routes(prefix)


def dest_of(ent, prefix="10.0.0.0/8"):
    info = ent.search_exact(prefix)
    assert info is not None
    return info.dest_handle


def wait_until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.002)


def state(rtm):
    return X._state(rtm)


# ---------------------------------------------------------------------------
# wiring
# ---------------------------------------------------------------------------
def test_install_is_idempotent_and_wraps_once():
    X.install(rtmcore.Entity, rtmcore.RoutingTableManager)
    X.install(rtmcore.Entity, rtmcore.RoutingTableManager)
    reg = rtmcore.RoutingTableManager.register_entity
    assert getattr(reg, X._WRAPPED)
    assert not getattr(reg.__wrapped__, X._WRAPPED, False)     # not a wrapper of a wrapper
    assert rtmcore.Entity.lock_route is X.EntityExtras.lock_route


def test_mixin_composes_with_the_compiled_entity_base():
    # what the lead's `class Entity(EntityExtras, EntityCore)` relies on
    from rtmcore._core import EntityCore

    class Composed(X.EntityExtras, EntityCore):
        pass

    assert Composed.__mro__[1] is X.EntityExtras
    assert Composed.lock_destination is X.EntityExtras.lock_destination


def test_max_opaque_pointers_option_is_validated():
    assert rtmcore.RoutingTableManager().max_opaque_pointers == X.DEFAULT_MAX_OPAQUE_POINTERS == 8
    assert rtmcore.RoutingTableManager(max_opaque_pointers=0).max_opaque_pointers == 0
    for bad in (-1, 1 << 16, 2.0, True, "3"):
        with pytest.raises(BadConfiguration):
            rtmcore.RoutingTableManager(max_opaque_pointers=bad)


# ---------------------------------------------------------------------------
# destination locks (spec 1.17, 2.2, U26)
# ---------------------------------------------------------------------------
def test_any_entity_may_lock_any_destination(rip, ospf, route):
    d = dest_of(rip)
    lk = ospf.lock_destination(d)                 # OSPF has no route there: no AccessDenied
    assert isinstance(lk, X.DestinationLock) and lk.exclusive and lk.dest_handle == d
    assert ospf.lock_destination(d, exclusive=True, lock=False) is None
    shared = rip.lock_destination(d, exclusive=False)
    assert not shared.exclusive
    rip.lock_destination(d, False, False)


def test_unlock_needs_a_lock_in_the_same_mode(rip, route):
    d = dest_of(rip)
    rip.lock_destination(d, exclusive=True)
    with pytest.raises(InvalidParameter) as ei:
        rip.lock_destination(d, exclusive=False, lock=False)
    assert ei.value.winerror == ERROR_INVALID_PARAMETER
    rip.lock_destination(d, exclusive=True, lock=False)
    with pytest.raises(InvalidParameter):
        rip.lock_destination(d, exclusive=True, lock=False)     # nothing left to unlock


def test_destination_locks_are_counted_per_entity(rip, ospf, route):
    d = dest_of(rip)
    rip.lock_destination(d, exclusive=False)
    rip.lock_destination(d, exclusive=False)
    with pytest.raises(InvalidParameter):
        ospf.lock_destination(d, exclusive=False, lock=False)   # OSPF holds none
    rip.lock_destination(d, False, False)
    rip.lock_destination(d, False, False)
    with pytest.raises(InvalidParameter):
        rip.lock_destination(d, False, False)


def test_destination_lock_context_manager_unlocks(rip, route):
    d = dest_of(rip)
    with rip.lock_destination(d, exclusive=False) as lk:
        assert lk.held
    assert not lk.held
    with pytest.raises(InvalidParameter):
        rip.lock_destination(d, False, False)
    with pytest.raises(LookupError), rip.lock_destination(d):
        raise LookupError("in the block")
    with pytest.raises(InvalidParameter):                       # unlocked despite the error
        rip.lock_destination(d, True, False)
    with pytest.raises(InvalidParameter):
        lk.unlock()                                             # this lock object is spent


def test_a_locked_destination_outlives_its_last_route(rtm, rip, route):
    d = dest_of(rip)
    rip.lock_destination(d)
    rip.delete_route_to_dest(route)
    info = rip.get_dest_info(d)                                 # still a valid handle
    assert info.view_info[0].num_routes == 0
    rip.release_dest_info(info)
    rip.lock_destination(d, lock=False)
    assert rtm.counts(4) == (0, 0)
    with pytest.raises(InvalidHandle):
        rip.get_dest_info(d)


def test_lock_destination_bad_handles(rtm, rip, route):
    d = dest_of(rip)
    with pytest.raises(InvalidHandle):
        rip.lock_destination(route)                             # a route handle
    with pytest.raises(InvalidHandle):
        rip.lock_destination(d + (1 << 32))                     # wrong generation
    rip.deregister_entity()
    other = rtm.register_entity(PROTO_IP_BGP)
    with pytest.raises(InvalidHandle):
        rip.lock_destination(d)                                 # deregistered caller
    assert other.search_exact("10.0.0.0/8") is None


# ---------------------------------------------------------------------------
# route locks, pointers, update_and_unlock_route (spec 1.17, 2.5, U8)
# ---------------------------------------------------------------------------
def test_route_locks_and_pointers_are_owner_only(rip, ospf, route):
    for call in (lambda: ospf.lock_route(route), lambda: ospf.get_route_pointer(route),
                 lambda: ospf.update_and_unlock_route(route),
                 lambda: ospf.lock_route(route, lock=False)):
        with pytest.raises(AccessDenied) as ei:
            call()
        assert ei.value.winerror == ERROR_ACCESS_DENIED


def test_locking_a_deleted_route_is_not_found(rip, route):
    rip.reference_handles([route])                              # keep one after the delete
    rip.delete_route_to_dest(route)
    with pytest.raises(NotFound) as ei:
        rip.lock_route(route)
    assert ei.value.winerror == ERROR_NOT_FOUND
    assert rip.get_route_pointer(route).state == RTM_ROUTE_STATE_DELETED
    rip.release_routes([route])
    with pytest.raises(InvalidHandle):
        rip.lock_route(route)


def test_lock_returns_a_live_record(rip, nh, route):
    r = rip.lock_route(route)
    assert isinstance(r, X.RouteRecord) and r.locked and r.handle == route
    assert (r.metric, r.preference, r.neighbour, r.next_hops) == (5, 0, nh, (nh,))
    assert r.route_owner == rip.handle and r.dest_handle == dest_of(rip)
    assert r.pref_info == rtmcore.PrefInfo(5, 0) and r.num_next_hops == 1
    rip.add_route_to_dest("10.0.0.0/8", route=route, neighbour=nh, next_hops=nh, metric=6,
                          flags=0x10)
    assert (r.metric, r.flags) == (6, 0x10)                     # reads come from the manager
    assert r.to_route_info().metric == 6
    rip.lock_route(route, lock=False)


def test_pointer_reads_are_live_and_read_only(rip, nh, route):
    p = rip.get_route_pointer(route)
    assert p.metric == 5 and not p.locked
    rip.add_route_to_dest("10.0.0.0/8", route=route, next_hops=nh, metric=9)
    assert p.metric == 9
    with pytest.raises(InvalidParameter, match="read-only"):
        p.metric = 1
    assert stored(rip)[0].metric == 9


def test_edits_stay_in_the_view_until_commit(rip, nh, nh2, route):
    r = rip.lock_route(route)
    r.metric = 20
    r.preference = 3
    r.next_hops = [nh, nh2]
    r.flags = 0x20
    r.flags1 = 7
    r.entity_specific_info = 1 << 63
    r.belongs_to_views = 3
    assert r.edits == {"metric": 20, "preference": 3, "next_hops": (nh, nh2), "flags": 0x20,
                       "flags1": 7, "entity_specific_info": 1 << 63, "belongs_to_views": 3}
    assert (r.metric, r.next_hops) == (20, (nh, nh2))            # the view shows its edits
    s = stored(rip)[0]
    assert (s.metric, s.next_hops, s.flags) == (5, (nh,), 0)    # the table does not, yet
    assert rip.get_route_pointer(route).metric == 5             # nor does a pointer
    flags = rip.update_and_unlock_route(route)
    assert not flags & RTM_ROUTE_CHANGE_NEW
    s = stored(rip)[0]
    assert (s.metric, s.preference, s.next_hops, s.flags, s.flags1, s.entity_specific_info,
            s.belongs_to_views) == (20, 3, (nh, nh2), 0x20, 7, 1 << 63, 3)
    assert not r.locked and r.edits == {} and r.metric == 20


def test_pref_info_assignment_sets_metric_and_preference(rip, route):
    with rip.lock_route(route) as r:
        r.pref_info = rtmcore.PrefInfo(metric=11, preference=4)
        assert (r.metric, r.preference) == (11, 4)
        r.pref_info = (12, 5)
    assert (stored(rip)[0].metric, stored(rip)[0].preference) == (12, 5)
    with rip.lock_route(route) as r, pytest.raises(InvalidParameter):
        r.pref_info = 3


def test_editing_outside_an_exclusive_lock_is_refused(rip, route):
    r = rip.lock_route(route, exclusive=False)
    with pytest.raises(InvalidParameter, match="shared"):
        r.metric = 1
    rip.lock_route(route, exclusive=False, lock=False)
    with pytest.raises(InvalidParameter, match="not locked"):
        r.metric = 1                                           # the lock is gone
    r2 = rip.lock_route(route)
    with pytest.raises(InvalidParameter, match="not locked"):
        r.metric = 1                                           # an old view stays dead
    r2.metric = 1
    rip.lock_route(route, lock=False)
    assert stored(rip)[0].metric == 5


def test_rtm_fields_unknown_fields_and_bad_values(rip, route):
    r = rip.lock_route(route)
    for name in ("dest_handle", "route_owner", "state"):
        with pytest.raises(InvalidParameter, match="set by the manager"):
            setattr(r, name, 0)
    with pytest.raises(AttributeError):
        r.metrc = 1                                            # a typo is not silently kept
    for name, bad in (("metric", -1), ("metric", 1 << 32), ("preference", "1"),
                      ("flags", 0x10000), ("flags1", 0x100), ("belongs_to_views", 1.5),
                      ("entity_specific_info", 1 << 64), ("next_hops", "x"),
                      ("next_hops", [-1]), ("neighbour", -2), ("metric", True)):
        with pytest.raises(InvalidParameter):
            setattr(r, name, bad)
    assert r.edits == {}
    r.next_hops = None
    r.neighbour = None
    assert r.edits == {"next_hops": (), "neighbour": 0}
    rip.lock_route(route, lock=False)


def test_commit_repositions_and_reports_best_change(rtm, rip, ospf, nh, route):
    onh, _ = ospf.add_next_hop("198.51.100.1")
    other, _ = ospf.add_route_to_dest("10.0.0.0/8", next_hops=onh, metric=10,
                                      return_handle=True)
    assert rip.search_exact("10.0.0.0/8").best(RTM_VIEW_ID_UCAST) == route
    r = rip.lock_route(route)
    r.metric = 20
    assert rip.update_and_unlock_route(route) & RTM_ROUTE_CHANGE_BEST
    assert rip.search_exact("10.0.0.0/8").best(RTM_VIEW_ID_UCAST) == other
    assert [x.metric for x in stored(rip)] == [10, 20]          # repositioned
    with rip.lock_route(route) as r:
        r.entity_specific_info = 42                            # not a best-route change
    assert r.change_flags == 0
    ospf.release_routes([other])


def test_abandon_discards_the_edits(rip, route):
    r = rip.lock_route(route)
    r.metric = 99
    assert rip.lock_route(route, lock=False) is None
    assert stored(rip)[0].metric == 5 and r.metric == 5 and r.edits == {}
    with pytest.raises(InvalidParameter):
        rip.update_and_unlock_route(route)                      # no longer locked


def test_route_lock_rules(rip, route):
    with pytest.raises(InvalidParameter):
        rip.lock_route(route, lock=False)                       # not locked
    r = rip.lock_route(route, exclusive=True)
    with pytest.raises(InvalidParameter):
        rip.lock_route(route)                                   # already locked
    with pytest.raises(InvalidParameter, match="locked exclusive"):
        rip.lock_route(route, exclusive=False, lock=False)      # wrong mode
    r.abandon()
    with pytest.raises(InvalidParameter):
        rip.update_and_unlock_route(route)


def test_failed_commit_keeps_the_lock_and_the_edits(rip, ospf, nh, nh2, route):
    onh, _ = ospf.add_next_hop("198.51.100.1")
    r = rip.lock_route(route)
    r.metric = 30
    r.next_hops = [onh]                                        # another entity's next hop
    with pytest.raises(AccessDenied):
        rip.update_and_unlock_route(route)
    assert r.locked and r.edits["metric"] == 30
    assert stored(rip)[0].metric == 5
    rip.reference_handles([nh2])
    rip.delete_next_hop(nh2)                                   # deleted, still referenced
    r.next_hops = [nh2]                                        # a deleted next hop
    with pytest.raises(InvalidParameter):
        rip.update_and_unlock_route(route)
    r.next_hops = [nh]
    with pytest.raises(InvalidParameter):
        rip.update_and_unlock_route(route, notify_type=1)       # reserved argument
    with pytest.raises(InvalidParameter):
        rip.update_and_unlock_route(route, time_to_live=-1)
    assert r.locked
    rip.update_and_unlock_route(r)                              # a record names its route
    assert stored(rip)[0].metric == 30 and not r.locked


def test_route_deleted_while_locked(rtm, rip, route):
    r = rip.lock_route(route)
    r.metric = 1
    rip.reference_handles([route])
    rip.delete_route_to_dest(route)
    assert r.state == RTM_ROUTE_STATE_DELETED                   # still readable
    with pytest.raises(NotFound):
        rip.update_and_unlock_route(route)
    assert r.locked
    rip.lock_route(route, lock=False)
    rip.release_routes([route])
    assert rtm.counts(4) == (0, 0)
    with pytest.raises(InvalidHandle):
        _ = r.metric                                                # the route is gone


def test_neighbour_edit_moves_the_route_identity(rip, nh, nh2, route):
    with rip.lock_route(route) as r:
        r.neighbour = nh2
    assert stored(rip)[0].neighbour == nh2
    _, flags = rip.add_route_to_dest("10.0.0.0/8", neighbour=nh2, next_hops=nh2, metric=5)
    assert not flags & RTM_ROUTE_CHANGE_NEW and len(stored(rip)) == 1


def test_commit_sets_time_to_live_and_route_list():
    clock = VirtualClock(1000)
    rtm = rtmcore.RoutingTableManager(clock=clock)
    rip = rtm.register_entity(PROTO_IP_RIP)
    h, _ = rip.add_route_to_dest("10.0.0.0/8", metric=1, time_to_live=5000, return_handle=True)
    assert rip.get_route_expiry(h) == 6000
    with rip.lock_route(h):
        pass                                                    # nothing edited: just unlocked
    assert rip.get_route_expiry(h) == 6000
    r = rip.lock_route(h)
    r.metric = 2
    rip.update_and_unlock_route(h)                              # INFINITE: disarmed
    assert rip.get_route_expiry(h) is None
    lst = rip.create_route_list()
    r = rip.lock_route(h)
    assert r.commit(time_to_live=300, route_list=lst) == 0
    assert rip.get_route_expiry(h) == 1300
    enum = rip.create_route_list_enum(lst)
    got = rip.get_list_enum_routes(enum)
    assert got == [h]
    rip.release_routes(got)
    clock.advance(300)
    assert rtm.counts(4)[1] == 0                                # expired (no callback)
    assert rip.get_route_pointer(h).state == RTM_ROUTE_STATE_DELETED
    rip.release_routes([h])
    assert rtm.counts(4) == (0, 0)


def test_context_manager_commits_or_abandons(rip, route):
    with rip.lock_route(route) as r:
        r.metric = 7
    assert stored(rip)[0].metric == 7 and not r.locked and r.change_flags == RTM_ROUTE_CHANGE_BEST
    with pytest.raises(KeyError), rip.lock_route(route) as r:
        r.metric = 8
        raise KeyError("boom")
    assert stored(rip)[0].metric == 7 and not r.locked
    with rip.lock_route(route, exclusive=False) as r:
        assert r.metric == 7
    assert not r.locked
    rip.lock_route(route).abandon()                             # lockable again: all unlocked


def test_context_manager_unlocks_when_the_commit_fails(rip, ospf, route):
    onh, _ = ospf.add_next_hop("198.51.100.1")
    with pytest.raises(AccessDenied), rip.lock_route(route) as r:
        r.next_hops = [onh]
    assert not r.locked and stored(rip)[0].next_hops != (onh,)
    rip.lock_route(route).abandon()


def test_in_place_next_hop_edits_need_no_manual_references(rtm, rip, nh, nh2, route):
    with rip.lock_route(route) as r:
        r.next_hops = [nh2]
        r.neighbour = nh2
    rip.release_next_hops([nh, nh2])
    rip.delete_next_hop(next_hop_info="192.0.2.1", interface_index=1)
    rip.delete_next_hop(next_hop_info="192.0.2.2", interface_index=2)
    assert stored(rip)[0].next_hops == (nh2,)                   # the route keeps its next hop
    rip.delete_route_to_dest(route)
    rip.deregister_entity()
    assert rtm.core.record_counts()[:3] == (0, 0, 0)


# ---------------------------------------------------------------------------
# next-hop locks and pointers (spec 1.17, 2.7)
# ---------------------------------------------------------------------------
def test_next_hop_lock_and_pointer_are_owner_only(rip, ospf, nh):
    for call in (lambda: ospf.lock_next_hop(nh), lambda: ospf.get_next_hop_pointer(nh)):
        with pytest.raises(AccessDenied):
            call()


def test_next_hop_writes_apply_at_once(rip, nh):
    n = rip.lock_next_hop(nh)
    assert isinstance(n, X.NextHopRecord) and n.locked
    assert (str(n.next_hop_address), n.interface_index, n.flags) == ("192.0.2.1/32", 1, 0)
    n.flags = RTM_NEXTHOP_FLAGS_REMOTE
    n.entity_specific_info = 77
    n.remote_next_hop = 0x1234
    info = rip.get_next_hop_info(nh)
    assert (info.flags, info.entity_specific_info, info.remote_next_hop) == \
        (RTM_NEXTHOP_FLAGS_REMOTE, 77, 0x1234)
    rip.release_next_hop_info(info)
    p = rip.get_next_hop_pointer(nh)
    assert (p.flags, p.entity_specific_info) == (RTM_NEXTHOP_FLAGS_REMOTE, 77)   # live
    assert p.next_hop_owner == rip.handle and p.to_next_hop_info().remote_next_hop == 0x1234
    assert rip.lock_next_hop(nh, lock=False) is None


def test_next_hop_key_fields_are_never_writable(rip, nh):
    n = rip.lock_next_hop(nh)
    for name, value in (("next_hop_address", "192.0.2.9"), ("interface_index", 3),
                        ("next_hop_owner", 0), ("state", 1)):
        with pytest.raises(InvalidParameter):
            setattr(n, name, value)
    with pytest.raises(AttributeError):
        n.flag = 1
    for name, bad in (("flags", 0x10000), ("entity_specific_info", -1),
                      ("remote_next_hop", 1 << 64)):
        with pytest.raises(InvalidParameter):
            setattr(n, name, bad)
    assert (str(n.next_hop_address), n.interface_index, n.flags) == ("192.0.2.1/32", 1, 0)
    rip.lock_next_hop(nh, lock=False)


def test_next_hop_writes_need_an_exclusive_lock(rip, nh):
    p = rip.get_next_hop_pointer(nh)
    with pytest.raises(InvalidParameter, match="read-only"):
        p.flags = 1
    s = rip.lock_next_hop(nh, exclusive=False)
    assert not s.locked
    with pytest.raises(InvalidParameter, match="not locked exclusive"):
        s.flags = 1
    rip.lock_next_hop(nh, exclusive=False, lock=False)
    n = rip.lock_next_hop(nh)
    rip.lock_next_hop(nh)
    rip.lock_next_hop(nh, lock=False)
    n.flags = 1                                                 # one exclusive lock left
    with pytest.raises(InvalidParameter):
        rip.lock_next_hop(nh, exclusive=False, lock=False)      # wrong mode
    rip.lock_next_hop(nh, lock=False)
    with pytest.raises(InvalidParameter):
        n.flags = 2
    with pytest.raises(InvalidParameter):
        rip.lock_next_hop(nh, lock=False)
    assert rip.get_next_hop_pointer(nh).flags == 1


def test_deleted_next_hop(rtm, rip, nh):
    n = rip.lock_next_hop(nh)
    rip.reference_handles([nh])
    rip.delete_next_hop(nh)                                     # consumes one reference
    with pytest.raises(NotFound):
        n.flags = 1
    with pytest.raises(NotFound):
        rip.lock_next_hop(nh)
    rip.lock_next_hop(nh, lock=False)                           # the unlock still works
    rip.release_next_hops([nh])
    with pytest.raises(InvalidHandle):
        _ = n.flags                                                 # freed with its last reference


# ---------------------------------------------------------------------------
# opaque pointers (spec 1.14, 2.2, U22)
# ---------------------------------------------------------------------------
def test_no_reservation_is_not_found(rtm, route, rip):
    bgp = rtm.register_entity(PROTO_IP_BGP)
    with pytest.raises(NotFound) as ei:
        bgp.get_opaque_information_pointer(dest_of(rip))
    assert ei.value.winerror == ERROR_NOT_FOUND


def test_slot_starts_empty_and_is_private(rip, ospf, route):
    d = dest_of(rip)
    a = rip.get_opaque_information_pointer(d)
    b = ospf.get_opaque_information_pointer(d)
    assert a.value is None and b.value is None
    with rip.lock_destination(d):
        a.value = {"info1": 1}
    assert ospf.get_opaque_information_pointer(d).value is None      # private per entity
    assert rip.get_opaque_information_pointer(d).value == {"info1": 1}
    assert rip.get_opaque_information_pointer(d) == a and a != b
    b.value = "ospf's"
    assert (a.value, b.value) == ({"info1": 1}, "ospf's")
    a.value = None
    assert a.value is None


def test_slots_are_per_destination_and_survive_route_changes(rip, nh, route):
    rip.add_route_to_dest("10.1.0.0/16", next_hops=nh, metric=1)
    d8, d16 = dest_of(rip), dest_of(rip, "10.1.0.0/16")
    rip.get_opaque_information_pointer(d8).value = 8
    rip.get_opaque_information_pointer(d16).value = 16
    rip.add_route_to_dest("10.0.0.0/8", route=route, next_hops=nh, metric=50)
    rip.add_route_to_dest("10.0.0.0/8", neighbour=0, next_hops=nh, metric=1)   # a 2nd route
    assert rip.get_opaque_information_pointer(d8).value == 8
    assert rip.get_opaque_information_pointer(d16).value == 16


def test_slot_dies_with_its_destination(rtm, rip, nh, route):
    d = dest_of(rip)
    slot = rip.get_opaque_information_pointer(d)
    slot.value = "old"
    rip.delete_route_to_dest(route)
    assert rtm.counts(4) == (0, 0)
    with pytest.raises(InvalidHandle):
        _ = slot.value
    with pytest.raises(InvalidHandle):
        slot.value = "x"
    with pytest.raises(InvalidHandle):
        rip.get_opaque_information_pointer(d)
    rip.add_route_to_dest("10.0.0.0/8", next_hops=nh, metric=1)
    assert rip.get_opaque_information_pointer(dest_of(rip)).value is None


def test_dead_slot_values_are_purged(rip, nh):
    st = X._state(rip.manager)
    for i in range(200):
        prefix = f"10.{i}.0.0/16"
        h, _ = rip.add_route_to_dest(prefix, next_hops=nh, return_handle=True)
        rip.get_opaque_information_pointer(dest_of(rip, prefix)).value = i
        rip.delete_route_to_dest(h)
    assert len(st.opaque) < 130                                  # not one per dead destination


def test_reservation_limit(rtm):
    small = rtmcore.RoutingTableManager(max_opaque_pointers=2)
    a = small.register_entity(1, reserve_opaque_pointer=True)
    small.register_entity(2, reserve_opaque_pointer=True)
    small.register_entity(3)                                   # no reservation: fine
    with pytest.raises(NoSystemResources) as ei:
        small.register_entity(4, reserve_opaque_pointer=True)
    assert ei.value.winerror == 1450
    handles, _ = a.get_registered_entities()
    assert len(handles) == 3                                   # nothing was registered
    a.release_entities(handles)
    a.deregister_entity()                                      # frees its reservation
    d = small.register_entity(4, reserve_opaque_pointer=True)
    assert d.reserve_opaque_pointer
    for i in range(8):                                          # the default limit is 8
        rtm.register_entity(100 + i, reserve_opaque_pointer=True)
    with pytest.raises(NoSystemResources):
        rtm.register_entity(200, reserve_opaque_pointer=True)
    none = rtmcore.RoutingTableManager(max_opaque_pointers=0)
    with pytest.raises(NoSystemResources):
        none.register_entity(1, reserve_opaque_pointer=True)


def test_reservation_limit_via_rtmv2_names():
    from rtmcore import rtmv2
    small = rtmcore.RoutingTableManager(max_opaque_pointers=1)
    info = rtmcore.EntityInfo(0, rtmcore.AF_INET, PROTO_IP_RIP, 1)
    assert rtmv2.RtmRegisterEntity(small, info, None, None, True)[0] == 0
    info2 = rtmcore.EntityInfo(0, rtmcore.AF_INET, PROTO_IP_RIP, 2)
    assert rtmv2.RtmRegisterEntity(small, info2, None, None, True)[0] == 1450


def test_deregistration_drops_the_slots(rtm, rip, ospf, nh, route):
    d = dest_of(rip)
    ospf.get_opaque_information_pointer(d).value = "ospf"
    slot = ospf.get_opaque_information_pointer(d)
    ospf.deregister_entity()
    with pytest.raises(InvalidHandle):
        _ = slot.value
    again = rtm.register_entity(PROTO_IP_OSPF, 1, reserve_opaque_pointer=True)
    assert again.get_opaque_information_pointer(d).value is None


# ---------------------------------------------------------------------------
# entity methods (spec 1.15, 2.3, U23)
# ---------------------------------------------------------------------------
class Recorder:
    """Exported methods that record their calls."""

    def __init__(self):
        self.calls = []

    def method(self, reply):
        def m(caller, callee, method_type, data):
            self.calls.append((caller, callee, method_type, data))
            return reply(data) if callable(reply) else reply
        return m


def test_discovery_lists_bits_not_callables(rtm, rip):
    rec = Recorder()
    with pytest.raises(InvalidParameter):
        rtm.register_entity(PROTO_IP_BGP, export_methods=[rec.method(b"a"), "not callable"])
    bgp = rtm.register_entity(PROTO_IP_BGP, export_methods=[rec.method(b"a"), None,
                                                            rec.method(b"c"), None,
                                                            rec.method(b"e")])
    assert rip.get_entity_methods(bgp.handle) == [0x1, 0x4, 0x10]
    assert rip.get_entity_methods(rip.handle) == []             # exported none
    assert rip.get_entity_methods(bgp) == [0x1, 0x4, 0x10]      # the object works too
    bgp.deregister_entity()
    with pytest.raises(InvalidHandle):
        rip.get_entity_methods(bgp.handle)


def test_invoke_runs_selected_methods_in_bit_order(rtm, rip):
    rec = Recorder()
    methods = [rec.method(bytes([65 + i])) for i in range(6)]
    bgp = rtm.register_entity(PROTO_IP_BGP, export_methods=methods)
    out = rip.invoke_method(bgp.handle, 0x20 | 0x4 | 0x1, b"in")
    assert out == [(0x1, 0, b"A"), (0x4, 0, b"C"), (0x20, 0, b"F")]
    assert [c[2] for c in rec.calls] == [0x1, 0x4, 0x20]
    assert rec.calls[0] == (rip.handle, bgp.handle, 0x1, b"in")
    assert isinstance(out[0], X.MethodOutput) and out[0].output_data == b"A"
    rec.calls.clear()
    out = rip.invoke_method(bgp.handle, METHOD_TYPE_ALL_METHODS)
    assert [o.method_type for o in out] == [1, 2, 4, 8, 16, 32]
    assert [c[3] for c in rec.calls] == [b""] * 6
    assert rip.invoke_method(bgp.handle, 0x40 | 0x80000000) == []   # bits nobody exports
    assert rip.invoke_method(bgp.handle, 0) == []


def test_method_results_and_failures(rtm, rip):
    def boom(*_):
        raise ValueError("broken")

    def not_found(*_):
        raise NotFound("no such thing")

    methods = [lambda *_: (7, bytearray(b"seven")), lambda *_: None, boom, not_found,
               lambda *_: 42, lambda *_: (1, "text"), lambda *_: (1 << 32, b""),
               lambda c, t, m, d: d.upper(), lambda *_: (0, None)]
    bgp = rtm.register_entity(PROTO_IP_BGP, export_methods=methods)
    out = rip.invoke_method(bgp.handle, METHOD_TYPE_ALL_METHODS, bytearray(b"xy"))
    assert out == [(0x1, 7, b"seven"), (0x2, 0, b""), (0x4, ERROR_INVALID_DATA, b""),
                   (0x8, ERROR_NOT_FOUND, b""), (0x10, ERROR_INVALID_DATA, b""),
                   (0x20, ERROR_INVALID_DATA, b""), (0x40, ERROR_INVALID_DATA, b""),
                   (0x80, 0, b"XY"), (0x100, 0, b"")]
    assert all(type(o.output_data) is bytes for o in out)


def test_invoke_argument_checks(rtm, rip):
    bgp = rtm.register_entity(PROTO_IP_BGP, export_methods=[lambda *_: b"x"])
    for bad in (-1, 1 << 32, "1", None):
        with pytest.raises(InvalidParameter):
            rip.invoke_method(bgp.handle, bad)
    with pytest.raises(InvalidParameter):
        rip.invoke_method(bgp.handle, 1, "text")
    with pytest.raises(InvalidHandle):
        rip.invoke_method(12345, 1)
    assert bgp.invoke_method(bgp.handle, 1) == [(1, 0, b"x")]   # an entity may call itself


def test_invoke_on_a_deregistered_target(rtm, rip):
    bgp = rtm.register_entity(PROTO_IP_BGP, export_methods=[lambda *_: b"x"])
    bgp.deregister_entity()
    with pytest.raises(InvalidHandle) as ei:
        rip.invoke_method(bgp.handle, METHOD_TYPE_ALL_METHODS)
    assert ei.value.winerror == 6


def test_target_deregistering_inside_its_method_stops_the_invocation(rtm, rip):
    ran = []

    def leave(caller, callee, m, d):
        ran.append(m)
        holder[0].deregister_entity()
        return b"bye"

    holder = []
    bgp = rtm.register_entity(PROTO_IP_BGP, export_methods=[leave, lambda *_: ran.append(2)])
    holder.append(bgp)
    assert rip.invoke_method(bgp.handle, METHOD_TYPE_ALL_METHODS) == [(1, 0, b"bye")]
    assert ran == [1]


def test_block_methods_arguments(rip, route):
    with pytest.raises(NotSupported):
        rip.block_methods(RTM_BLOCK_METHODS, target_handle=route)
    with pytest.raises(NotSupported):
        rip.block_methods(RTM_BLOCK_METHODS, target_type=1)
    with pytest.raises(InvalidParameter):
        rip.block_methods(2)
    rip.block_methods(True)
    rip.block_methods(RTM_BLOCK_METHODS)                        # idempotent
    rip.block_methods(RTM_RESUME_METHODS)
    rip.block_methods(False)                                    # idempotent
    assert X._state(rip.manager).blocked == {}


def test_invoke_from_the_blocking_thread_is_refused(rtm, rip):
    bgp = rtm.register_entity(PROTO_IP_BGP, export_methods=[lambda *_: b"x"])
    _block_in_another_thread(bgp)
    bgp.block_methods(True)                                     # this thread blocks too
    with pytest.raises(InvalidParameter, match="blocked by this thread"):
        rip.invoke_method(bgp.handle, 1)
    bgp.block_methods(False)
    assert rip.invoke_method(bgp.handle, 1) == [(1, 0, b"x")]


def test_blocked_invoke_from_another_thread_waits_and_resumes(rtm, rip):
    rec = Recorder()
    bgp = rtm.register_entity(PROTO_IP_BGP, export_methods=[rec.method(b"late")])
    bgp.block_methods(True)
    result = {}

    def invoker():
        result["out"] = rip.invoke_method(bgp.handle, METHOD_TYPE_ALL_METHODS, b"q")

    t = threading.Thread(target=invoker)
    t.start()
    wait_until(lambda: state(rtm).waiting == 1)
    time.sleep(0.05)
    assert t.is_alive() and rec.calls == [] and "out" not in result
    rip.add_route_to_dest("10.0.0.0/8", metric=1)               # the manager is not held
    bgp.block_methods(False)
    t.join(5)
    assert not t.is_alive()
    assert result["out"] == [(1, 0, b"late")]
    assert rec.calls == [(rip.handle, bgp.handle, 1, b"q")]


def test_waiting_invoke_fails_when_the_target_deregisters(rtm, rip):
    bgp = rtm.register_entity(PROTO_IP_BGP, export_methods=[lambda *_: b"x"])
    bgp.block_methods(True)
    result = {}

    def invoker():
        try:
            rip.invoke_method(bgp.handle, 1)
        except InvalidHandle as exc:
            result["error"] = exc

    t = threading.Thread(target=invoker)
    t.start()
    wait_until(lambda: state(rtm).waiting == 1)
    bgp.deregister_entity()
    t.join(5)
    assert not t.is_alive() and isinstance(result.get("error"), InvalidHandle)


def _block_in_another_thread(ent):
    t = threading.Thread(target=ent.block_methods, args=(True,))
    t.start()
    t.join()


def test_invoke_inside_a_method_does_not_wait(rtm, rip):
    target = rtm.register_entity(PROTO_IP_BGP, export_methods=[lambda *_: b"x"])
    _block_in_another_thread(target)

    def relay(caller, callee, m, data):
        return rip.invoke_method(target.handle, 1)

    middle = rtm.register_entity(PROTO_IP_OSPF, export_methods=[relay])
    out = rip.invoke_method(middle.handle, 1)
    assert out == [(1, ERROR_INVALID_PARAMETER, b"")]           # the inner invoke refused
    target.block_methods(False)
    assert rip.invoke_method(middle.handle, 1) == [(1, ERROR_INVALID_DATA, b"")]  # a list


def test_invoke_inside_an_expiry_callback_does_not_wait():
    clock = VirtualClock()
    rtm = rtmcore.RoutingTableManager(clock=clock)
    target = rtm.register_entity(PROTO_IP_BGP, export_methods=[lambda *_: b"x"])
    _block_in_another_thread(target)
    seen = []

    def on_event(handle, event, c1, c2):
        if event == rtmcore.RTM_ROUTE_EXPIRED:
            try:
                rip.invoke_method(target.handle, 1)
            except InvalidParameter as exc:
                seen.append(exc)
            return rtmcore.ERROR_NOT_SUPPORTED
        return 0

    rip = rtm.register_entity(PROTO_IP_RIP, event_callback=on_event)
    rip.add_route_to_dest("10.0.0.0/8", time_to_live=10)
    clock.advance(10)
    assert len(seen) == 1 and rtm.counts(4) == (0, 0)


def test_invoke_inside_a_change_notification_does_not_wait(rtm):
    target = rtm.register_entity(PROTO_IP_BGP, export_methods=[lambda *_: b"x"])
    _block_in_another_thread(target)
    seen = []

    def on_event(handle, event, c1, c2):
        if event == rtmcore.RTM_CHANGE_NOTIFICATION:
            rip.release_changed_dests(c1, rip.get_changed_dests(c1))   # re-arm the edge
            try:
                seen.append(rip.invoke_method(target.handle, 1))
            except InvalidParameter as exc:
                seen.append(exc)
        return 0

    rip = rtm.register_entity(PROTO_IP_RIP, event_callback=on_event)
    rip.register_for_change_notification(notify_flags=rtmcore.RTM_CHANGE_TYPE_ALL)
    rip.add_route_to_dest("10.0.0.0/8", metric=1)
    assert len(seen) == 1 and isinstance(seen[0], InvalidParameter)
    target.block_methods(False)
    rip.add_route_to_dest("10.1.0.0/16", metric=1)
    assert seen[1:] == [[(1, 0, b"x")]]                       # not blocked: runs in the callback


def test_many_threads_invoke_while_methods_toggle(rtm, rip):
    count = [0]

    def m(*_):
        count[0] += 1
        return b"ok"

    bgp = rtm.register_entity(PROTO_IP_BGP, export_methods=[m])
    results = []

    def invoker():
        for _ in range(50):
            results.append(rip.invoke_method(bgp.handle, 1))

    threads = [threading.Thread(target=invoker) for _ in range(4)]
    for t in threads:
        t.start()
    for _ in range(50):
        bgp.block_methods(True)
        time.sleep(0.0005)
        bgp.block_methods(False)
    for t in threads:
        t.join(10)
    assert not any(t.is_alive() for t in threads)
    assert count[0] == 200 and results == [[(1, 0, b"ok")]] * 200
    assert state(rtm).waiting == 0


# ---------------------------------------------------------------------------
# deregistration and leaks
# ---------------------------------------------------------------------------
def test_deregistration_releases_locks(rtm, rip, ospf, nh, route):
    d = dest_of(rip)
    rip.lock_destination(d)
    rip.lock_destination(d, exclusive=False)
    rip.lock_route(route).metric = 3
    rip.lock_next_hop(nh)
    rip.block_methods(True)
    ospf.lock_destination(d)
    rip.release_routes([route])
    rip.release_next_hops([nh])
    rip.deregister_entity()
    st = state(rtm)
    assert st.route_locks == {} and st.nh_locks == {} and st.blocked == {}
    assert list(st.dest_locks) == [(ospf.handle, d)]
    ospf.lock_destination(d, lock=False)
    assert rtm.core.record_counts() == (0, 0, 0, 1)             # only OSPF's registration


def test_a_full_session_leaves_nothing_behind(rtm, rip, ospf, nh, nh2, route):
    d = dest_of(rip)
    with rip.lock_destination(d):
        rip.get_opaque_information_pointer(d).value = [1, 2]
    with rip.lock_route(route) as r:
        r.next_hops = (nh, nh2)
        r.metric = 2
    n = rip.lock_next_hop(nh2)
    n.entity_specific_info = 5
    rip.lock_next_hop(nh2, lock=False)
    p = rip.get_route_pointer(route)
    assert p.next_hops == (nh, nh2)
    rip.delete_route_to_dest(route)
    rip.delete_next_hop(nh)
    rip.delete_next_hop(nh2)
    rip.deregister_entity()
    ospf.deregister_entity()
    assert rtm.core.record_counts() == (0, 0, 0, 0)
    assert state(rtm).opaque == {}

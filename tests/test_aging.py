"""Route aging: time to live, expiry, the owner's callback (spec 1.10, 1.11, 1.16,
2.5 TimeToLive, 3.3 RTM_ROUTE_EXPIRED; decisions U16, U18, U24; features
F75-F79).

Semantics checked here:

* ``time_to_live`` (ms) arms the route's timer at *now + TTL* of the manager's
  clock; ``INFINITE`` (the default) never expires and, on an update, disarms the
  timer; every add / update with a TTL re-arms it; TTL 0 expires at the current
  instant;
* with a :class:`rtmcore.VirtualClock` nothing expires until ``advance``, which
  fires every due expiry in time order, each at its own instant, across all
  the managers on the clock; ``process_timers`` fires what is due now;
* expiry calls the owner's ``event_callback(owner, RTM_ROUTE_EXPIRED, route,
  route_info)``: ``ERROR_NOT_SUPPORTED`` -> the route is deleted (the
  reference passed in is consumed); any other value -> the route stays, the
  timer is off and the callee owns the reference; no callback -> deleted (U16);
  a raising callback -> route kept, reference released, the first exception
  re-raised once every due expiry has been processed;
* an expiry deletion is an ordinary deletion: change notifications, best-route
  recomputation, the route leaves its list;
* bulk: ``add_routes(..., time_to_live=array)`` on 100,000 routes matches a
  NumPy model after every step of the clock;
* on the wall clock a background thread deletes expired routes by itself.
"""
import ipaddress
import threading
import time

import numpy as np
import pytest

from rtmcore import (
    ERROR_INVALID_PARAMETER,
    ERROR_NOT_FOUND,
    ERROR_NOT_SUPPORTED,
    INFINITE,
    NO_ERROR,
    PROTO_IP_BGP,
    PROTO_IP_OSPF,
    PROTO_IP_RIP,
    RTM_CHANGE_NOTIFICATION,
    RTM_CHANGE_TYPE_ALL,
    RTM_CHANGE_TYPE_BEST,
    RTM_ROUTE_CHANGE_NEW,
    RTM_ROUTE_EXPIRED,
    RTM_ROUTE_STATE_CREATED,
    RTM_ROUTE_STATE_DELETED,
    RTM_VIEW_ID_UCAST,
    RTM_VIEW_MASK_ALL,
    RTM_VIEW_MASK_UCAST,
    RoutingTableManager,
    VirtualClock,
)
from rtmcore.errors import InvalidParameter

START = 1_000                  # the fixtures' clock starts here (ms)
METRIC_UNREACHABLE = 16


# ---------------------------------------------------------------------------
# fixtures and helpers
# ---------------------------------------------------------------------------
@pytest.fixture
def clock():
    return VirtualClock(START)


@pytest.fixture
def rtm(clock):
    m = RoutingTableManager(clock=clock)
    yield m
    m.check_invariants()


class Expiries:
    """An event callback that records RTM_ROUTE_EXPIRED calls as
    ``(now, receiver, route handle, route info)`` and answers ``verdict``
    (a value, or a function of (route, info))."""

    def __init__(self, clock, verdict=ERROR_NOT_SUPPORTED):
        self.clock = clock
        self.verdict = verdict
        self.calls = []
        self.other_events = []

    def __call__(self, receiver, event, context1, context2):
        if event != RTM_ROUTE_EXPIRED:
            self.other_events.append(event)
            return NO_ERROR
        self.calls.append((self.clock.now(), receiver, context1, context2))
        return self.verdict(context1, context2) if callable(self.verdict) else self.verdict

    @property
    def routes(self):
        return [c[2] for c in self.calls]

    @property
    def times(self):
        return [c[0] for c in self.calls]


def add(ent, prefix, **kw):
    """Add a route; return its handle (one caller reference)."""
    return ent.add_route_to_dest(prefix, return_handle=True, **kw)[0]


def state(ent, route):
    info, _ = ent.get_route_info(route)
    ent.release_route_info(info)
    return info.state


def present(ent, prefix):
    return bool(ent.routes(prefix))


# ---------------------------------------------------------------------------
# the clock and the expiry instant
# ---------------------------------------------------------------------------
def test_expires_exactly_at_now_plus_ttl(clock, rtm):
    rip = rtm.register_entity(PROTO_IP_RIP, 1)
    rip.add_route_to_dest("10.0.0.0/8", time_to_live=100)
    h = add(rip, "11.0.0.0/8", time_to_live=1)
    assert rip.get_route_expiry(h) == START + 1
    clock.advance(1)
    assert state(rip, h) == RTM_ROUTE_STATE_DELETED
    rip.release_routes([h])
    clock.advance(98)
    assert clock.now() == START + 99
    assert present(rip, "10.0.0.0/8") and rtm.counts() == (1, 1)
    clock.advance(1)
    assert not present(rip, "10.0.0.0/8") and rtm.counts() == (0, 0)


def test_nothing_expires_until_the_clock_moves(clock, rtm):
    rip = rtm.register_entity(PROTO_IP_RIP, 1)
    rip.add_route_to_dest("10.0.0.0/8", time_to_live=5)
    time.sleep(0.02)                                      # wall time passes: irrelevant
    assert rtm.process_timers() == 0
    assert rtm.counts() == (1, 1)
    clock.advance(4)
    assert rtm.process_timers() == 0
    assert rtm.counts() == (1, 1)


def test_ttl_zero_expires_at_the_current_instant(clock, rtm):
    rip = rtm.register_entity(PROTO_IP_RIP, 1)
    h = add(rip, "10.0.0.0/8", time_to_live=0)
    rip.add_route_to_dest("11.0.0.0/8", time_to_live=0)
    assert rip.get_route_expiry(h) == START
    assert rtm.counts() == (2, 2), "adding never fires a timer by itself"
    assert rtm.process_timers() == 2
    assert clock.now() == START
    assert state(rip, h) == RTM_ROUTE_STATE_DELETED
    assert not present(rip, "11.0.0.0/8")
    rip.add_route_to_dest("12.0.0.0/8", time_to_live=0)
    clock.advance(0)
    assert not present(rip, "12.0.0.0/8")
    rip.release_routes([h])


def test_ttl_zero_at_time_zero():
    """Time 0 is an instant like any other: TTL 0 at 0 expires at 0."""
    clock = VirtualClock(0)
    rtm = RoutingTableManager(clock=clock)
    rip = rtm.register_entity(PROTO_IP_RIP, 1)
    h = add(rip, "10.0.0.0/8", time_to_live=0)
    rip.add_routes(np.array([0x0B000000], np.uint32), 8, time_to_live=0)
    assert rip.get_route_expiry(h) == 0
    clock.advance(0)
    assert state(rip, h) == RTM_ROUTE_STATE_DELETED
    assert not present(rip, "11.0.0.0/8")


def test_largest_ttl(clock, rtm):
    rip = rtm.register_entity(PROTO_IP_RIP, 1)
    h = add(rip, "10.0.0.0/8", time_to_live=INFINITE - 1)
    assert rip.get_route_expiry(h) == START + INFINITE - 1
    clock.advance(INFINITE - 2)
    assert state(rip, h) == RTM_ROUTE_STATE_CREATED
    clock.advance(1)
    assert state(rip, h) == RTM_ROUTE_STATE_DELETED


def test_default_and_infinite_never_expire(clock, rtm):
    rip = rtm.register_entity(PROTO_IP_RIP, 1)
    a = add(rip, "10.0.0.0/8")
    b = add(rip, "11.0.0.0/8", time_to_live=INFINITE)
    assert rip.get_route_expiry(a) is None and rip.get_route_expiry(b) is None
    clock.advance(10 ** 12)
    assert rtm.counts() == (2, 2)


@pytest.mark.parametrize("ttl", [-1, 2 ** 32, 1.5, "10"])
def test_invalid_ttl_is_rejected_and_changes_nothing(rtm, ttl):
    rip = rtm.register_entity(PROTO_IP_RIP, 1)
    h = add(rip, "10.0.0.0/8", time_to_live=500)
    with pytest.raises(InvalidParameter):
        rip.add_route_to_dest("11.0.0.0/8", time_to_live=ttl)
    with pytest.raises(InvalidParameter):
        rip.add_route_to_dest("10.0.0.0/8", route=h, metric=5, time_to_live=ttl)
    assert rtm.counts() == (1, 1)
    assert rip.get_route_expiry(h) == START + 500
    assert rip.routes("10.0.0.0/8")[0].metric == 0


def test_add_routes_rejects_bad_ttl_columns(rtm):
    rip = rtm.register_entity(PROTO_IP_RIP, 1)
    addrs = np.array([0x0A000000, 0x0B000000], np.uint32)
    with pytest.raises(InvalidParameter):
        rip.add_routes(addrs, 8, time_to_live=np.array([5, -1]))
    with pytest.raises(InvalidParameter):
        rip.add_routes(addrs, 8, time_to_live=np.array([5, 6, 7]))
    assert rtm.counts() == (0, 0)


def test_the_clock_only_moves_forward():
    with pytest.raises(InvalidParameter):
        VirtualClock(-1)
    clock = VirtualClock(50)
    with pytest.raises(InvalidParameter):
        clock.advance(-1)
    with pytest.raises(InvalidParameter):
        clock.advance_to(49)
    clock.advance_to(70)
    assert clock.now() == 70


# ---------------------------------------------------------------------------
# re-arming and disarming
# ---------------------------------------------------------------------------
def test_an_update_with_a_ttl_rearms_later(clock, rtm):
    rip = rtm.register_entity(PROTO_IP_RIP, 1)
    h = add(rip, "10.0.0.0/8", time_to_live=100)
    clock.advance(60)
    rip.add_route_to_dest("10.0.0.0/8", route=h, time_to_live=100)
    assert rip.get_route_expiry(h) == START + 160
    clock.advance(40)                                     # the first expiry instant
    assert state(rip, h) == RTM_ROUTE_STATE_CREATED
    clock.advance(59)
    assert state(rip, h) == RTM_ROUTE_STATE_CREATED
    clock.advance(1)
    assert state(rip, h) == RTM_ROUTE_STATE_DELETED


def test_an_update_with_a_ttl_rearms_earlier_and_fires_once(clock, rtm):
    seen = Expiries(clock)
    rip = rtm.register_entity(PROTO_IP_RIP, 1, event_callback=seen)
    h = add(rip, "10.0.0.0/8", time_to_live=1_000)
    clock.advance(10)
    rip.add_route_to_dest("10.0.0.0/8", time_to_live=5)   # found by identity
    assert rip.get_route_expiry(h) == START + 15
    clock.advance(2_000)
    assert seen.times == [START + 15] and seen.routes == [h]


@pytest.mark.parametrize("how", ["handle", "identity", "explicit", "list", "bulk"])
def test_an_update_without_ttl_disarms(clock, rtm, how):
    seen = Expiries(clock)
    rip = rtm.register_entity(PROTO_IP_RIP, 1, event_callback=seen)
    lst = rip.create_route_list()
    h = add(rip, "10.0.0.0/8", time_to_live=100)
    clock.advance(50)
    if how == "handle":
        rip.add_route_to_dest("10.0.0.0/8", route=h, metric=2)
    elif how == "identity":
        rip.add_route_to_dest("10.0.0.0/8", metric=2)
    elif how == "explicit":
        rip.add_route_to_dest("10.0.0.0/8", route=h, metric=2, time_to_live=INFINITE)
    elif how == "list":
        rip.add_route_to_dest("10.0.0.0/8", route=h, metric=2, route_list=lst)
    else:
        out = rip.add_routes(np.array([0x0A000000], np.uint32), 8, metric=2,
                             time_to_live=np.array([INFINITE], np.uint32))
        assert not out[0] & RTM_ROUTE_CHANGE_NEW
    assert rip.get_route_expiry(h) is None
    clock.advance(10 ** 9)
    assert seen.calls == []
    assert state(rip, h) == RTM_ROUTE_STATE_CREATED
    assert rip.routes("10.0.0.0/8")[0].metric == 2


def test_a_deleted_route_never_expires_and_its_slot_reuse_is_safe(clock, rtm):
    seen = Expiries(clock)
    rip = rtm.register_entity(PROTO_IP_RIP, 1, event_callback=seen)
    h = add(rip, "10.0.0.0/8", time_to_live=10)
    rip.delete_route_to_dest(h)                           # freed before its expiry
    h2 = add(rip, "10.0.0.0/8")                           # may reuse the slot: no TTL
    h3 = add(rip, "11.0.0.0/8", time_to_live=20)
    h4 = add(rip, "12.0.0.0/8", time_to_live=10)
    rip.delete_route_to_dest(h4)
    h5 = add(rip, "12.0.0.0/8", time_to_live=30)          # may reuse h4's slot: later TTL
    clock.advance(15)
    assert seen.calls == []
    clock.advance(100)
    assert seen.routes == [h3, h5] and seen.times == [START + 20, START + 30]
    assert state(rip, h2) == RTM_ROUTE_STATE_CREATED


def test_routes_of_a_deregistered_owner_do_not_fire(clock, rtm):
    seen_rip, seen_ospf = Expiries(clock), Expiries(clock)
    rip = rtm.register_entity(PROTO_IP_RIP, 1, event_callback=seen_rip)
    ospf = rtm.register_entity(PROTO_IP_OSPF, 1, event_callback=seen_ospf)
    rip.add_route_to_dest("10.0.0.0/8", time_to_live=10)
    ospf.add_route_to_dest("10.0.0.0/8", time_to_live=20)
    clock.advance(5)
    rip.deregister_entity()
    clock.advance(100)
    assert seen_rip.calls == []
    assert seen_ospf.times == [START + 20]
    assert rtm.counts() == (0, 0)


# ---------------------------------------------------------------------------
# time order
# ---------------------------------------------------------------------------
def test_expiries_fire_in_time_order_each_at_its_instant(clock, rtm):
    seen = Expiries(clock)
    rip = rtm.register_entity(PROTO_IP_RIP, 1, event_callback=seen)
    ttls = [300, 100, 250, 1, 999, 100 + 1, 42]
    hs = [add(rip, f"10.{i}.0.0/16", time_to_live=t) for i, t in enumerate(ttls)]
    clock.advance(998)
    order = sorted(range(len(ttls)), key=lambda i: ttls[i])[:-1]
    assert seen.routes == [hs[i] for i in order]
    assert seen.times == [START + ttls[i] for i in order]
    assert clock.now() == START + 998
    assert state(rip, hs[4]) == RTM_ROUTE_STATE_CREATED
    clock.advance(1)
    assert seen.routes[-1] == hs[4] and seen.times[-1] == START + 999
    rip.release_routes(hs)
    assert rtm.counts() == (0, 0)


def test_time_order_across_two_managers_on_one_clock():
    clock = VirtualClock(0)
    m1, m2 = RoutingTableManager(clock=clock), RoutingTableManager(clock=clock)
    log = []

    def recorder(name):
        def cb(receiver, event, route, info):
            if event == RTM_ROUTE_EXPIRED:
                log.append((clock.now(), name, info.metric))
            return ERROR_NOT_SUPPORTED
        return cb

    e1 = m1.register_entity(PROTO_IP_RIP, 1, event_callback=recorder("m1"))
    e2 = m2.register_entity(PROTO_IP_RIP, 1, event_callback=recorder("m2"))
    e1.add_route_to_dest("10.0.0.0/8", metric=1, time_to_live=10)
    e2.add_route_to_dest("10.0.0.0/8", metric=2, time_to_live=20)
    e1.add_route_to_dest("11.0.0.0/8", metric=3, time_to_live=30)
    e2.add_route_to_dest("11.0.0.0/8", metric=4, time_to_live=40)
    e1.add_route_to_dest("12.0.0.0/8", metric=5, time_to_live=45)
    clock.advance(42)
    assert log == [(10, "m1", 1), (20, "m2", 2), (30, "m1", 3), (40, "m2", 4)]
    assert clock.now() == 42
    assert m1.counts() == (1, 1) and m2.counts() == (0, 0)
    clock.advance_to(45)
    assert log[-1] == (45, "m1", 5) and m1.counts() == (0, 0)


def test_a_route_armed_by_a_callback_fires_at_that_instant_plus_ttl():
    """A callback at t arms a route of the other manager with TTL 5: it fires at
    t + 5, before the other manager's own expiry at 20."""
    clock = VirtualClock(0)
    m1, m2 = RoutingTableManager(clock=clock), RoutingTableManager(clock=clock)
    log = []
    e2 = m2.register_entity(PROTO_IP_RIP, 1, event_callback=lambda r, ev, h, info: (
        log.append((clock.now(), "m2", info.metric)), ERROR_NOT_SUPPORTED)[1])

    def cb1(receiver, event, route, info):
        if event == RTM_ROUTE_EXPIRED:
            log.append((clock.now(), "m1", info.metric))
            h = add(e2, "12.0.0.0/8", metric=7, time_to_live=5)
            log.append(("armed", e2.get_route_expiry(h)))
            e2.release_routes([h])
        return ERROR_NOT_SUPPORTED

    e1 = m1.register_entity(PROTO_IP_RIP, 1, event_callback=cb1)
    e1.add_route_to_dest("10.0.0.0/8", metric=1, time_to_live=10)
    e2.add_route_to_dest("11.0.0.0/8", metric=2, time_to_live=20)
    clock.advance(100)
    assert log == [(10, "m1", 1), ("armed", 15), (15, "m2", 7), (20, "m2", 2)]


# ---------------------------------------------------------------------------
# the owner's callback
# ---------------------------------------------------------------------------
def test_callback_arguments(clock, rtm):
    inside = []

    def verdict(route, info):
        got, dest = rip.get_route_info(route)
        inside.append((got.state, str(dest), rtm.core.ref_count(route)))
        rip.release_route_info(got)
        return ERROR_NOT_SUPPORTED

    seen = Expiries(clock, verdict)
    rip = rtm.register_entity(PROTO_IP_RIP, 1, event_callback=seen)
    watcher = Expiries(clock)
    rtm.register_entity(PROTO_IP_OSPF, 1, event_callback=watcher)
    nh, _ = rip.add_next_hop("192.0.2.1", interface_index=2)
    h = add(rip, "10.1.0.0/16", neighbour=nh, next_hops=nh, metric=7, preference=3,
            entity_specific_info=99, time_to_live=25)
    stored, _ = rip.get_route_info(h)
    clock.advance(25)
    assert len(seen.calls) == 1
    now, receiver, route, info = seen.calls[0]
    assert (now, receiver, route) == (START + 25, rip.handle, h)
    assert (info.metric, info.preference, info.entity_specific_info) == (7, 3, 99)
    assert info.neighbour == nh and tuple(info.next_hops) == (nh,)
    assert info.route_owner == rip.handle and info.dest_handle == stored.dest_handle
    assert info.state == RTM_ROUTE_STATE_CREATED
    assert info.belongs_to_views == RTM_VIEW_MASK_UCAST
    # during the call: still a live route, with our reference and the callee's
    assert inside == [(RTM_ROUTE_STATE_CREATED, "10.1.0.0/16", 2)]
    assert watcher.calls == [], "only the route's owner hears of its expiry"
    rip.release_route_info(stored)
    rip.release_routes([h])
    rip.release_next_hops([nh])


def test_not_supported_deletes_and_consumes_the_reference(clock, rtm):
    seen = Expiries(clock, ERROR_NOT_SUPPORTED)
    rip = rtm.register_entity(PROTO_IP_RIP, 1, event_callback=seen)
    start_records = rtm.core.record_counts()
    h = add(rip, "10.0.0.0/8", time_to_live=10)
    rip.add_route_to_dest("11.0.0.0/8", time_to_live=10)
    clock.advance(10)
    assert len(seen.calls) == 2
    assert state(rip, h) == RTM_ROUTE_STATE_DELETED
    assert rtm.core.ref_count(h) == 1, "only our own reference is left"
    rip.release_routes([h])
    assert rtm.counts() == (0, 0)
    assert rtm.core.record_counts() == start_records


@pytest.mark.parametrize("verdict", [NO_ERROR, 1, ERROR_INVALID_PARAMETER, ERROR_NOT_FOUND, None])
def test_any_other_value_keeps_the_route_and_the_callee_owns_the_reference(clock, rtm,
                                                                           verdict):
    seen = Expiries(clock, verdict)
    rip = rtm.register_entity(PROTO_IP_RIP, 1, event_callback=seen)
    h = add(rip, "10.0.0.0/8", time_to_live=10)
    assert rtm.core.ref_count(h) == 1
    clock.advance(10)
    assert seen.routes == [h]
    assert state(rip, h) == RTM_ROUTE_STATE_CREATED
    assert rtm.core.ref_count(h) == 2, "the callee's reference stays until it releases it"
    assert rip.get_route_expiry(h) is None, "the timer fired: it is off now"
    clock.advance(10 ** 6)
    assert len(seen.calls) == 1
    rip.release_routes([seen.routes[0]])                  # what the callee must do
    assert rtm.core.ref_count(h) == 1
    rip.release_routes([h])
    assert rtm.counts() == (1, 1)


def test_no_callback_deletes_the_route(clock, rtm):
    """U16: an owner without a callback has its expired routes deleted."""
    rip = rtm.register_entity(PROTO_IP_RIP, 1)
    watcher = Expiries(clock, NO_ERROR)
    ospf = rtm.register_entity(PROTO_IP_OSPF, 1, event_callback=watcher)
    h = add(rip, "10.0.0.0/8", time_to_live=10)
    ospf.add_route_to_dest("10.0.0.0/8", metric=9)
    start = rtm.core.ref_count(h)
    clock.advance(10)
    assert state(rip, h) == RTM_ROUTE_STATE_DELETED
    assert rtm.core.ref_count(h) == start
    assert watcher.calls == []
    assert [r.route_owner for r in ospf.routes("10.0.0.0/8")] == [ospf.handle]
    rip.release_routes([h])


def test_raising_callback_keeps_route_releases_reference_and_reraises(clock, rtm):
    class Boom(Exception):
        pass

    def verdict(route, info):
        if info.metric == 1:
            raise Boom("first")
        return ERROR_NOT_SUPPORTED

    seen = Expiries(clock, verdict)
    rip = rtm.register_entity(PROTO_IP_RIP, 1, event_callback=seen)
    bad = add(rip, "10.1.0.0/16", metric=1, time_to_live=0)
    good = add(rip, "10.2.0.0/16", metric=2, time_to_live=0)
    with pytest.raises(Boom):
        rtm.process_timers()
    assert len(seen.calls) == 2, "every due expiry is processed before the re-raise"
    assert state(rip, bad) == RTM_ROUTE_STATE_CREATED
    assert rtm.core.ref_count(bad) == 1, "the callee's reference was released"
    assert rip.get_route_expiry(bad) is None
    assert state(rip, good) == RTM_ROUTE_STATE_DELETED
    assert rtm.core.ref_count(good) == 1
    rip.release_routes([bad, good])


def test_raising_callback_during_advance_processes_the_whole_window(clock, rtm):
    """advance(30) with a raising callback at +10: the expiries at +20 and +25
    are still processed, each at its instant, the clock ends at +30, then the
    first exception is raised."""
    class Boom(Exception):
        pass

    def verdict(route, info):
        if info.metric in (1, 3):
            raise Boom(info.metric)
        return ERROR_NOT_SUPPORTED

    seen = Expiries(clock, verdict)
    rip = rtm.register_entity(PROTO_IP_RIP, 1, event_callback=seen)
    h1 = add(rip, "10.1.0.0/16", metric=1, time_to_live=10)
    h2 = add(rip, "10.2.0.0/16", metric=2, time_to_live=20)
    h3 = add(rip, "10.3.0.0/16", metric=3, time_to_live=25)
    with pytest.raises(Boom) as ei:
        clock.advance(30)
    assert ei.value.args == (1,), "the first exception is the one raised"
    assert seen.times == [START + 10, START + 20, START + 25]
    assert clock.now() == START + 30
    assert [state(rip, h) for h in (h1, h2, h3)] == [RTM_ROUTE_STATE_CREATED,
                                                     RTM_ROUTE_STATE_DELETED,
                                                     RTM_ROUTE_STATE_CREATED]
    assert [rtm.core.ref_count(h) for h in (h1, h2, h3)] == [1, 1, 1]
    rip.release_routes([h1, h2, h3])


def test_spec_sample_marks_the_route_unreachable_in_place(clock, rtm):
    """The route-expiry sample: on RTM_ROUTE_EXPIRED update the route in place
    with the unreachable metric and TTL INFINITE, release the handle received,
    return NO_ERROR.  The route stays forever."""
    def on_event(receiver, event, context1, context2):
        if event != RTM_ROUTE_EXPIRED:
            return ERROR_NOT_SUPPORTED
        route, info = context1, context2
        _, dest = rip.get_route_info(route)
        rip.release_route_info(_)
        edited = info.copy()
        edited.metric = METRIC_UNREACHABLE
        rip.add_route_to_dest(dest, edited, route=route, time_to_live=INFINITE)
        rip.release_routes([route])
        calls.append(clock.now())
        return NO_ERROR

    calls = []
    rip = rtm.register_entity(PROTO_IP_RIP, 1, event_callback=on_event)
    nh, _ = rip.add_next_hop("192.0.2.1", interface_index=1)
    h = add(rip, "10.1.0.0/16", neighbour=nh, next_hops=nh, metric=2, time_to_live=30_000)
    backup = rtm.register_entity(PROTO_IP_BGP, 1)
    b = add(backup, "10.1.0.0/16", metric=5)
    assert rip.is_best_route(h) == RTM_VIEW_MASK_UCAST
    clock.advance(30_000)
    assert calls == [START + 30_000]
    info, _ = rip.get_route_info(h)
    assert (info.state, info.metric, tuple(info.next_hops)) == (RTM_ROUTE_STATE_CREATED,
                                                                METRIC_UNREACHABLE, (nh,))
    rip.release_route_info(info)
    assert rip.get_route_expiry(h) is None
    assert rtm.core.ref_count(h) == 1
    assert backup.is_best_route(b) == RTM_VIEW_MASK_UCAST, "metric 16 > 5: the backup wins"
    clock.advance(10 ** 8)
    assert calls == [START + 30_000] and rtm.counts() == (1, 2)
    rip.release_routes([h])
    backup.release_routes([b])
    rip.release_next_hops([nh])


def test_callback_can_rearm_the_route(clock, rtm):
    def refresh(route, info):
        got, dest = rip.get_route_info(route)
        rip.release_route_info(got)
        rip.add_route_to_dest(dest, route=route, time_to_live=100)
        rip.release_routes([route])
        return NO_ERROR

    seen = Expiries(clock, refresh)
    rip = rtm.register_entity(PROTO_IP_RIP, 1, event_callback=seen)
    h = add(rip, "10.0.0.0/8", time_to_live=100)
    clock.advance(350)
    assert seen.times == [START + 100, START + 200, START + 300]
    assert rip.get_route_expiry(h) == START + 400
    assert rtm.core.ref_count(h) == 1


# ---------------------------------------------------------------------------
# an expiry deletion is an ordinary deletion
# ---------------------------------------------------------------------------
def test_expiry_deletions_raise_change_notifications(clock, rtm):
    signals = []
    obs = rtm.register_entity(PROTO_IP_OSPF, 1,
                              event_callback=lambda *a: signals.append(a) or NO_ERROR)
    n = obs.register_for_change_notification(RTM_VIEW_MASK_ALL,
                                             RTM_CHANGE_TYPE_ALL | RTM_CHANGE_TYPE_BEST, "ctx")
    rip = rtm.register_entity(PROTO_IP_RIP, 1)
    rip.add_route_to_dest("10.1.0.0/16", metric=1, time_to_live=100)
    rip.add_route_to_dest("10.2.0.0/16", metric=1, time_to_live=100)
    rip.add_route_to_dest("10.3.0.0/16", metric=1)
    backup = add(obs, "10.2.0.0/16", metric=5)
    obs.release_changed_dests(n, obs.get_changed_dests(n))
    signals.clear()
    clock.advance(99)
    assert signals == [] and obs.get_changed_dests(n) == []
    clock.advance(1)
    assert signals == [(obs.handle, RTM_CHANGE_NOTIFICATION, n, "ctx")]
    infos = obs.get_changed_dests(n)
    changed = {i.prefix: i for i in infos}
    assert sorted(changed) == ["10.1.0.0/16", "10.2.0.0/16"]
    assert changed["10.1.0.0/16"].best(RTM_VIEW_ID_UCAST) == 0
    assert changed["10.2.0.0/16"].best(RTM_VIEW_ID_UCAST) == backup
    obs.release_changed_dests(n, infos)
    assert rtm.counts() == (2, 2)
    obs.release_routes([backup])


def test_an_expired_route_leaves_its_list(clock, rtm):
    rip = rtm.register_entity(PROTO_IP_RIP, 1)
    lst = rip.create_route_list()
    a = add(rip, "10.1.0.0/16", time_to_live=10, route_list=lst)
    b = add(rip, "10.2.0.0/16", route_list=lst)
    c = add(rip, "10.3.0.0/16", time_to_live=20, route_list=lst)
    e = rip.create_route_list_enum(lst)
    first = rip.get_list_enum_routes(e, 1)
    clock.advance(30)
    rest = rip.get_list_enum_routes(e)
    assert first == [a] and rest == [b], "c expired before it was reached"
    rip.release_routes(first + rest + [a, b, c])
    e2 = rip.create_route_list_enum(lst)
    assert rip.get_list_enum_routes(e2) == [b]
    rip.release_routes([b])


# ---------------------------------------------------------------------------
# bulk
# ---------------------------------------------------------------------------
def test_bulk_ttls_match_a_numpy_model():
    rng = np.random.default_rng(20261126)
    start = 7_000
    clock = VirtualClock(start)
    rtm = RoutingTableManager(clock=clock)
    rip = rtm.register_entity(PROTO_IP_RIP, 1)
    n = 100_000
    addrs = rng.choice(1 << 32, n, replace=False).astype(np.uint32)
    ttl = rng.integers(0, 60_000, n).astype(np.uint32)
    ttl[rng.random(n) < 0.05] = INFINITE
    ttl[:100] = 0
    never = np.iinfo(np.int64).max
    expiry = np.where(ttl == INFINITE, never, start + ttl.astype(np.int64))
    out = rip.add_routes(addrs, 32, time_to_live=ttl)
    assert (out & RTM_ROUTE_CHANGE_NEW).all()
    assert rtm.counts() == (n, n)

    def check():
        alive = expiry > clock.now()
        k = int(alive.sum())
        assert rtm.counts() == (k, k)
        np.testing.assert_array_equal(rip.lookup(addrs).length == 32, alive)

    def check_expiry_of(rows):
        for i in rows:
            prefix = f"{ipaddress.IPv4Address(int(addrs[i]))}/32"
            info, h = rip.get_exact_match_route(prefix)
            want = None if expiry[i] == never else int(expiry[i])
            assert rip.get_route_expiry(h) == want, prefix
            rip.release_route_info(info)
            rip.release_routes([h])

    check_expiry_of(rng.choice(n, 20, replace=False))
    for step in (0, 1, 998, 1, 4_000, 7_777, 0, 13_000):
        clock.advance(step)
        check()

    # re-arm a random third (expired rows come back as new routes), disarm a tenth
    now = clock.now()
    rows = rng.choice(n, n // 3, replace=False)
    new_ttl = rng.integers(0, 40_000, len(rows)).astype(np.uint32)
    new_ttl[: len(rows) // 10] = INFINITE
    was_alive = expiry[rows] > now
    out = rip.add_routes(addrs[rows], 32, time_to_live=new_ttl)
    np.testing.assert_array_equal((out & RTM_ROUTE_CHANGE_NEW) != 0, ~was_alive)
    expiry[rows] = np.where(new_ttl == INFINITE, never, now + new_ttl.astype(np.int64))
    check_expiry_of(rows[:20])
    for step in (0, 5_000, 1, 15_000, 30_000, 20_000):
        clock.advance(step)
        check()
    assert rtm.counts()[1] == int((expiry == never).sum())


def test_bulk_scalar_ttl(clock, rtm):
    rip = rtm.register_entity(PROTO_IP_RIP, 1)
    addrs = np.arange(0x0A000000, 0x0A000000 + 50 * 256, 256, dtype=np.uint32)
    rip.add_routes(addrs, 24, time_to_live=500)
    info, h = rip.get_exact_match_route("10.0.7.0/24")
    assert rip.get_route_expiry(h) == START + 500
    rip.release_route_info(info)
    rip.release_routes([h])
    clock.advance(499)
    assert rtm.counts() == (50, 50)
    clock.advance(1)
    assert rtm.counts() == (0, 0)


# ---------------------------------------------------------------------------
# the wall clock
# ---------------------------------------------------------------------------
def test_wall_clock_background_thread_deletes_the_expired_route():
    rtm = RoutingTableManager()
    fired = []

    def on_event(receiver, event, route, info):
        if event == RTM_ROUTE_EXPIRED:
            fired.append((time.monotonic(), threading.current_thread() is threading.main_thread()))
        return ERROR_NOT_SUPPORTED

    rip = rtm.register_entity(PROTO_IP_RIP, 1, event_callback=on_event)
    rip.add_route_to_dest("11.0.0.0/8")                  # never expires
    t0 = time.monotonic()
    rip.add_route_to_dest("10.0.0.0/8", time_to_live=50)
    deadline = t0 + 3.0
    while rtm.counts() != (1, 1) and time.monotonic() < deadline:
        time.sleep(0.005)
    assert rtm.counts() == (1, 1), "the background thread did not delete the route in 3 s"
    assert not present(rip, "10.0.0.0/8") and present(rip, "11.0.0.0/8")
    assert len(fired) == 1
    when, on_main = fired[0]
    assert not on_main, "expiries are fired by the timer thread"
    assert when - t0 >= 0.045, "fired before its time to live"

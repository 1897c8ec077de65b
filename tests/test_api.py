"""The RTMv2 facade, function by function (spec sections 1, 2.1, 2.4-2.7, decisions of 5).

Registration, entity events, next hops, routes (all handle modes and change
flags), destinations and their per-view information, the single-destination
queries, exact-match routes, references, the Pythonic searches, the NumPy bulk
paths and deregistration; IPv6 equivalents of the main paths at the end.
Error codes are in test_errors.py.
"""
import gc
import ipaddress
import random
import socket
import weakref

import numpy as np
import pytest

from rtmcore import (AF_INET, AF_INET6, DELETE_NOT_FOUND, NetAddress, NextHopInfo,
                     PROTO_IP_BGP, PROTO_IP_OSPF, PROTO_IP_RIP, PrefInfo, RegnProfile, RouteInfo,
                     RoutingTableManager, EntityInfo, DestInfo,
                     RTM_BEST_PROTOCOL, RTM_CHANGE_NOTIFICATION, RTM_ENTITY_DEREGISTERED,
                     RTM_ENTITY_REGISTERED,
                     RTM_MATCH_FULL, RTM_MATCH_INTERFACE, RTM_MATCH_NEIGHBOUR,
                     RTM_MATCH_NEXTHOP, RTM_MATCH_NONE, RTM_MATCH_OWNER, RTM_MATCH_PREF,
                     RTM_NEXTHOP_CHANGE_NEW, RTM_NEXTHOP_FLAGS_REMOTE, RTM_NEXTHOP_STATE_CREATED,
                     RTM_NEXTHOP_STATE_DELETED, RTM_ROUTE_CHANGE_BEST, RTM_ROUTE_CHANGE_FIRST,
                     RTM_ROUTE_CHANGE_NEW, RTM_ROUTE_FLAGS_DISCARD, RTM_ROUTE_FLAGS_LOCAL,
                     RTM_ROUTE_STATE_CREATED, RTM_ROUTE_STATE_DELETED, RTM_THIS_PROTOCOL,
                     RTM_VIEW_ID_MCAST, RTM_VIEW_ID_UCAST, RTM_VIEW_MASK_ALL, RTM_VIEW_MASK_ANY,
                     RTM_VIEW_MASK_MCAST, RTM_VIEW_MASK_UCAST)
from rtmcore.errors import InvalidHandle, InvalidParameter, NotFound, RtmError

NEW = RTM_ROUTE_CHANGE_NEW
BEST = RTM_ROUTE_CHANGE_BEST
UC = RTM_VIEW_MASK_UCAST
MC = RTM_VIEW_MASK_MCAST


# ---------------------------------------------------------------------------
# Fixtures and helpers (no conftest: kept local to this file)
# ---------------------------------------------------------------------------
@pytest.fixture
def rtm():
    m = RoutingTableManager()
    yield m
    m.check_invariants()


@pytest.fixture
def rip(rtm):
    return rtm.register_entity(PROTO_IP_RIP, 1)


@pytest.fixture
def ospf(rtm):
    return rtm.register_entity(PROTO_IP_OSPF, 1)


@pytest.fixture
def rip6(rtm):
    return rtm.register_entity(PROTO_IP_RIP, 1, AF_INET6)


def nh(ent, addr="192.0.2.1", ifindex=1):
    """A next hop of ``ent`` (the handle carries a reference)."""
    return ent.add_next_hop(addr, interface_index=ifindex)[0]


def prefixes(ent, root="0.0.0.0/0", views=RTM_VIEW_MASK_ANY):
    return [str(d.dest_address) for d in ent.search_covered(root, views)]


def metrics(ent, prefix):
    return [(r.route_owner, r.metric) for r in ent.routes(prefix)]


def is_released(fn):
    """True if calling fn raises InvalidHandle (the handle holds no more references)."""
    try:
        fn()
    except InvalidHandle:
        return True
    return False


# ---------------------------------------------------------------------------
# Registration (2.1, F1-F8)
# ---------------------------------------------------------------------------
def test_register_entity_profile_and_info(rtm):
    e = rtm.register_entity(PROTO_IP_RIP, 7)
    assert e.profile == RegnProfile(max_next_hops_in_route=16, max_handles_in_enum=256,
                                    views_supported=0x3, number_of_views=2)
    assert e.info == EntityInfo(0, AF_INET, PROTO_IP_RIP, 7)
    assert e.info.entity_id == (7 << 32) | PROTO_IP_RIP
    assert e.family == 4
    assert rtm.entities == [e]
    assert rtm.views_supported == 0x3


def test_profile_follows_manager_configuration():
    m = RoutingTableManager(5, views=RTM_VIEW_MASK_UCAST, max_next_hops_in_route=4,
                            max_handles_in_enum=10)
    e = m.register_entity(PROTO_IP_OSPF, 0, AF_INET6)
    assert e.profile == RegnProfile(4, 10, 0x1, 1)
    assert e.info == EntityInfo(5, AF_INET6, PROTO_IP_OSPF, 0)
    assert e.family == 6


def test_register_accepts_python_socket_af_inet6(rtm):
    e = rtm.register_entity(PROTO_IP_BGP, 1, socket.AF_INET6)
    assert e.info.address_family == AF_INET6 == 23
    assert e.family == 6


def test_same_protocol_other_instance_or_family_registers(rtm):
    a = rtm.register_entity(PROTO_IP_RIP, 1)
    b = rtm.register_entity(PROTO_IP_RIP, 2)
    c = rtm.register_entity(PROTO_IP_RIP, 1, AF_INET6)
    assert len({a.handle, b.handle, c.handle}) == 3
    assert rtm.entities == [a, b, c]


def test_reregister_after_deregistration(rtm):
    a = rtm.register_entity(PROTO_IP_RIP, 1)
    a.deregister_entity()
    b = rtm.register_entity(PROTO_IP_RIP, 1)
    assert b.info == EntityInfo(0, AF_INET, PROTO_IP_RIP, 1)
    assert rtm.entities == [b]


def test_dropping_a_manager_and_its_entities_frees_it_without_the_collector():
    # A manager and its entities form no reference cycle: the tables go when
    # the last reference does, not at the collector's next full pass.
    gc.disable()
    try:
        m = RoutingTableManager()
        e = m.register_entity(PROTO_IP_RIP, 1, event_callback=lambda *a: None,
                              export_methods=[lambda *a: b""])
        nh, _ = e.add_next_hop("192.0.2.1")
        e.add_route_to_dest("10.0.0.0/8", neighbour=nh, next_hops=nh)
        e.register_for_change_notification(context="ctx")
        e.create_dest_enum()
        e.create_route_list()
        ref = weakref.ref(m)
        del m, e
        assert ref() is None
    finally:
        gc.enable()


def test_entity_object_dropped_keeps_its_registration():
    seen = []
    m = RoutingTableManager()
    e = m.register_entity(PROTO_IP_RIP, 1, event_callback=lambda *a: seen.append(a[:2]))
    h = e.handle
    e.register_for_change_notification(context="ctx")
    ref = weakref.ref(e)
    del e
    assert ref() is None
    other = m.register_entity(PROTO_IP_OSPF, 1)
    assert seen == [(h, RTM_ENTITY_REGISTERED)]
    nh, _ = other.add_next_hop("192.0.2.1")
    other.add_route_to_dest("10.0.0.0/8", neighbour=nh, next_hops=nh)
    assert seen[-1] == (h, RTM_CHANGE_NOTIFICATION)
    again = m.entities[0]
    assert again.handle == h and again.info == EntityInfo(0, AF_INET, PROTO_IP_RIP, 1)
    assert m.entities[0] is again          # the same object while it is held
    again.deregister_entity()
    assert m.entities == [other]
    assert seen[-1] == (h, RTM_CHANGE_NOTIFICATION)    # no event of its own deregistration


def test_get_registered_entities_same_family_caller_included(rtm):
    a = rtm.register_entity(PROTO_IP_RIP, 1)
    b = rtm.register_entity(PROTO_IP_OSPF, 1)
    c6 = rtm.register_entity(PROTO_IP_BGP, 1, AF_INET6)
    hs, infos = a.get_registered_entities()
    assert infos == [a.info, b.info]
    assert [a.get_entity_info(h) for h in hs] == [a.info, b.info]
    hs6, infos6 = c6.get_registered_entities()
    assert infos6 == [c6.info]
    assert c6.get_entity_info(hs6[0]) == c6.info
    # each handle carries exactly one reference
    a.release_entities(hs)
    c6.release_entities(hs6)
    assert is_released(lambda: a.release_entities(hs[:1]))
    b.deregister_entity()
    hs, infos = a.get_registered_entities()
    assert infos == [a.info]
    a.release_entities(hs)


def test_get_entity_info_and_release(rip, ospf):
    info = rip.get_entity_info(ospf.handle)
    assert info == EntityInfo(0, AF_INET, PROTO_IP_OSPF, 1)
    assert rip.get_entity_info(rip.handle) == rip.info
    rip.release_entity_info(info)


def test_deregistered_entity_info_readable_while_referenced(rip, ospf):
    hs, _ = rip.get_registered_entities()
    h_ospf = hs[1]
    ospf.deregister_entity()
    # U4: outstanding handles stay valid until released
    assert rip.get_entity_info(h_ospf) == EntityInfo(0, AF_INET, PROTO_IP_OSPF, 1)
    rip.release_entities(hs)
    with pytest.raises(InvalidHandle):
        rip.get_entity_info(h_ospf)


# ---------------------------------------------------------------------------
# Entity events (1.2, 3.3, U3)
# ---------------------------------------------------------------------------
def test_entity_events_go_to_other_entities_of_the_family(rtm):
    log = []

    def cb(name):
        def f(receiver, event, ctx1, ctx2):
            log.append((name, receiver, event, ctx1, ctx2))
        return f

    a = rtm.register_entity(PROTO_IP_RIP, 1, event_callback=cb("a"))
    assert log == []
    b = rtm.register_entity(PROTO_IP_OSPF, 1, event_callback=cb("b"))
    assert log == [("a", a.handle, RTM_ENTITY_REGISTERED, b.handle, b.info)]
    log.clear()
    c6 = rtm.register_entity(PROTO_IP_BGP, 1, AF_INET6, event_callback=cb("c6"))
    assert log == []                       # other family: nobody told, c6 not told of itself
    d = rtm.register_entity(PROTO_IP_BGP, 1)   # no callback
    assert sorted(log, key=lambda x: x[0]) == [
        ("a", a.handle, RTM_ENTITY_REGISTERED, d.handle, d.info),
        ("b", b.handle, RTM_ENTITY_REGISTERED, d.handle, d.info)]
    log.clear()
    b.deregister_entity()
    assert log == [("a", a.handle, RTM_ENTITY_DEREGISTERED, b.handle, b.info)]
    log.clear()
    e6 = rtm.register_entity(PROTO_IP_OSPF, 1, AF_INET6)
    assert log == [("c6", c6.handle, RTM_ENTITY_REGISTERED, e6.handle, e6.info)]
    log.clear()
    c6.deregister_entity()
    assert log == []                       # e6 has no callback, v4 entities not told


def test_registered_event_context_handle_is_usable(rtm):
    seen = []

    def cb(receiver, event, ctx1, ctx2):
        seen.append(a.get_entity_info(ctx1) == ctx2)

    a = rtm.register_entity(PROTO_IP_RIP, 1, event_callback=cb)
    rtm.register_entity(PROTO_IP_OSPF, 3)
    assert seen == [True]


# ---------------------------------------------------------------------------
# Next hops (2.7, F14-F18, U37)
# ---------------------------------------------------------------------------
def test_add_next_hop_create_then_update_by_key(rip):
    h, f = rip.add_next_hop("192.0.2.1", interface_index=3)
    assert f == RTM_NEXTHOP_CHANGE_NEW
    info = rip.get_next_hop_info(h)
    assert info.next_hop_address == NetAddress("192.0.2.1/32")
    assert (info.interface_index, info.flags, info.entity_specific_info, info.state,
            info.next_hop_owner) == (3, 0, 0, RTM_NEXTHOP_STATE_CREATED, rip.handle)
    rip.release_next_hop_info(info)
    h2, f2 = rip.add_next_hop("192.0.2.1", interface_index=3, flags=RTM_NEXTHOP_FLAGS_REMOTE,
                              entity_specific_info=77)
    assert f2 == 0
    assert h2 == h
    info = rip.get_next_hop_info(h)
    assert (info.flags, info.entity_specific_info) == (RTM_NEXTHOP_FLAGS_REMOTE, 77)
    rip.release_next_hop_info(info)
    rip.release_next_hops([h, h2])         # two handles, two references
    assert is_released(lambda: rip.release_next_hops([h]))


def test_next_hop_interface_is_part_of_the_key(rip):
    h1, f1 = rip.add_next_hop("192.0.2.1", interface_index=1)
    h2, f2 = rip.add_next_hop("192.0.2.1", interface_index=2)
    assert (f1, f2) == (RTM_NEXTHOP_CHANGE_NEW, RTM_NEXTHOP_CHANGE_NEW)
    assert h1 != h2
    assert rip.find_next_hop("192.0.2.1", 1) == h1
    assert rip.find_next_hop("192.0.2.1", 2) == h2


def test_add_next_hop_from_next_hop_info_and_by_handle(rip):
    h, f = rip.add_next_hop(NextHopInfo(NetAddress("192.0.2.9"), 4, flags=0,
                                        entity_specific_info=1))
    assert f == RTM_NEXTHOP_CHANGE_NEW
    h2, f2 = rip.add_next_hop("192.0.2.9", interface_index=4, next_hop=h,
                              flags=RTM_NEXTHOP_FLAGS_REMOTE, entity_specific_info=5,
                              remote_next_hop=0)
    assert (h2, f2) == (h, 0)
    info = rip.get_next_hop_info(h)
    assert (info.flags, info.entity_specific_info, info.interface_index) == (
        RTM_NEXTHOP_FLAGS_REMOTE, 5, 4)
    rip.release_next_hop_info(info)


def test_next_hop_update_by_handle_cannot_change_its_key(rip):
    h = nh(rip, "192.0.2.1", 1)
    try:
        rip.add_next_hop("198.51.100.1", interface_index=9, next_hop=h, flags=1)
    except InvalidParameter:
        pass
    info = rip.get_next_hop_info(h)
    assert (info.next_hop_address, info.interface_index) == (NetAddress("192.0.2.1"), 1)
    assert rip.find_next_hop("192.0.2.1", 1) == h
    with pytest.raises(NotFound):
        rip.find_next_hop("198.51.100.1", 9)


def test_remote_next_hop_fields(rip):
    rip.add_route_to_dest("198.51.100.0/24")
    d = rip.search_exact("198.51.100.0/24").dest_handle
    h, _ = rip.add_next_hop("198.51.100.7", interface_index=0, flags=RTM_NEXTHOP_FLAGS_REMOTE,
                            remote_next_hop=d)
    info = rip.get_next_hop_info(h)
    assert (info.flags, info.remote_next_hop, info.interface_index) == (
        RTM_NEXTHOP_FLAGS_REMOTE, d, 0)


def test_two_owners_may_have_the_same_key(rip, ospf):
    hr, fr = rip.add_next_hop("192.0.2.1", interface_index=1)
    ho, fo = ospf.add_next_hop("192.0.2.1", interface_index=1)
    assert (fr, fo) == (RTM_NEXTHOP_CHANGE_NEW, RTM_NEXTHOP_CHANGE_NEW)
    assert hr != ho
    assert rip.get_next_hop_info(hr).next_hop_owner == rip.handle
    assert rip.get_next_hop_info(ho).next_hop_owner == ospf.handle
    assert rip.find_next_hop("192.0.2.1", 1) == hr
    assert ospf.find_next_hop("192.0.2.1", 1) == ho
    rip.delete_next_hop(next_hop_info="192.0.2.1", interface_index=1)
    assert ospf.find_next_hop("192.0.2.1", 1) == ho
    with pytest.raises(NotFound):
        rip.find_next_hop("192.0.2.1", 1)


def test_add_next_hop_without_handle(rip):
    h, f = rip.add_next_hop("192.0.2.1", interface_index=2, return_handle=False)
    assert (h, f) == (None, RTM_NEXTHOP_CHANGE_NEW)
    found = rip.find_next_hop("192.0.2.1", 2)
    # only the find reference exists: one release works, the second is refused
    rip.release_next_hops([found])
    assert is_released(lambda: rip.release_next_hops([found]))
    assert rip.find_next_hop("192.0.2.1", 2) == found   # still in the table


def test_find_next_hop_forms_and_references(rip):
    h = nh(rip, "192.0.2.1", 5)
    f1 = rip.find_next_hop("192.0.2.1", 5)
    f2 = rip.find_next_hop(NextHopInfo(NetAddress("192.0.2.1"), 5))
    f3 = rip.find_next_hop(NetAddress("192.0.2.1/32"), 5)
    assert f1 == f2 == f3 == h
    rip.release_next_hops([h, f1, f2, f3])
    assert is_released(lambda: rip.release_next_hops([h]))
    with pytest.raises(NotFound):
        rip.find_next_hop("192.0.2.1", 6)
    with pytest.raises(NotFound):
        rip.find_next_hop("192.0.2.2", 5)


def test_next_hop_info_holds_a_reference_on_the_owner(rip, ospf):
    h = nh(rip)
    info = ospf.get_next_hop_info(h)        # anyone may read it
    assert info.next_hop_owner == rip.handle
    ospf.release_next_hop_info(info)
    # the owner reference was released: the entity handle holds none any more
    assert is_released(lambda: ospf.release_entities([rip.handle]))


def test_delete_next_hop_by_handle_consumes_it(rip):
    h = nh(rip)
    rip.delete_next_hop(h)
    with pytest.raises(NotFound):
        rip.find_next_hop("192.0.2.1", 1)
    with pytest.raises(InvalidHandle):
        rip.get_next_hop_info(h)
    with pytest.raises(InvalidHandle):
        rip.release_next_hops([h])


def test_delete_next_hop_keeps_other_references_readable(rip):
    h = nh(rip)
    rip.reference_handles([h])
    rip.delete_next_hop(h)
    info = rip.get_next_hop_info(h)
    assert info.state == RTM_NEXTHOP_STATE_DELETED
    rip.release_next_hop_info(info)
    rip.release_next_hops([h])
    with pytest.raises(InvalidHandle):
        rip.get_next_hop_info(h)


@pytest.mark.parametrize("how", ["str", "info", "positional"])
def test_delete_next_hop_by_key(rip, how):
    rip.add_next_hop("192.0.2.1", interface_index=3, return_handle=False)
    rip.add_next_hop("192.0.2.1", interface_index=4, return_handle=False)
    if how == "str":
        rip.delete_next_hop(next_hop_info="192.0.2.1", interface_index=3)
    elif how == "info":
        rip.delete_next_hop(next_hop_info=NextHopInfo(NetAddress("192.0.2.1"), 3))
    else:
        rip.delete_next_hop(None, "192.0.2.1", 3)
    with pytest.raises(NotFound):
        rip.find_next_hop("192.0.2.1", 3)
    rip.release_next_hops([rip.find_next_hop("192.0.2.1", 4)])


def test_deleted_next_hop_still_used_by_route_U37(rip):
    h = nh(rip, "192.0.2.1", 1)
    r, _ = rip.add_route_to_dest("10.0.0.0/8", next_hops=h, return_handle=True)
    rip.delete_next_hop(next_hop_info="192.0.2.1", interface_index=1)
    # the route keeps its reference and keeps forwarding through it
    info, _ = rip.get_route_info(r)
    assert info.next_hops == (h,)
    rip.release_route_info(info)
    nhi = rip.get_next_hop_info(h)
    assert nhi.state == RTM_NEXTHOP_STATE_DELETED
    rip.release_next_hop_info(nhi)
    res = rip.lookup(np.array([0x0A010101], np.uint32))
    assert res.next_hop.tolist() == [h]
    assert rip.is_best_route(r) == UC
    with pytest.raises(NotFound):
        rip.find_next_hop("192.0.2.1", 1)
    # the same key makes a new next hop
    h2, f = rip.add_next_hop("192.0.2.1", interface_index=1)
    assert f == RTM_NEXTHOP_CHANGE_NEW and h2 != h
    rip.add_route_to_dest("10.0.0.0/8", route=r, next_hops=h2)
    rip.release_next_hops([h])
    with pytest.raises(InvalidHandle):       # neither table, route nor handle holds it now
        rip.get_next_hop_info(h)
    assert rip.lookup(np.array([0x0A010101], np.uint32)).next_hop.tolist() == [h2]


# ---------------------------------------------------------------------------
# Routes: add / update (2.5, F22-F31)
# ---------------------------------------------------------------------------
def test_add_route_default_mode_returns_no_handle(rtm, rip):
    h = nh(rip)
    r, f = rip.add_route_to_dest("10.0.0.0/8", next_hops=h, metric=5, preference=2)
    assert (r, f) == (None, NEW | BEST)
    [ri] = rip.routes("10.0.0.0/8")
    assert (ri.route_owner, ri.neighbour, ri.metric, ri.preference, ri.belongs_to_views,
            ri.next_hops, ri.state, ri.flags) == (rip.handle, 0, 5, 2, UC, (h,),
                                                  RTM_ROUTE_STATE_CREATED, 0)
    assert rtm.counts(4) == (1, 1)


@pytest.mark.parametrize("dest", ["10.0.0.0/8", NetAddress("10.0.0.0/8"), (0x0A000000, 8),
                                  ipaddress.ip_network("10.0.0.0/8"),
                                  b"10.0.0.0/8"])
def test_add_route_destination_forms(rip, dest):
    _, f = rip.add_route_to_dest(dest, metric=1)
    assert f == NEW | BEST
    assert prefixes(rip) == ["10.0.0.0/8"]


def test_add_route_return_handle(rip):
    r, f = rip.add_route_to_dest("10.0.0.0/8", metric=5, return_handle=True)
    assert f == NEW | BEST
    info, addr = rip.get_route_info(r)
    assert addr == NetAddress("10.0.0.0/8")
    assert (info.metric, info.state, info.route_owner) == (5, RTM_ROUTE_STATE_CREATED,
                                                           rip.handle)
    rip.release_route_info(info)
    rip.release_routes([r])                 # exactly one reference came with it
    assert is_released(lambda: rip.release_routes([r]))
    assert metrics(rip, "10.0.0.0/8") == [(rip.handle, 5)]


def test_add_route_from_route_info(rip):
    h = nh(rip)
    ri = RouteInfo(next_hops=(h,), metric=3, preference=4, belongs_to_views=UC | MC,
                   flags=RTM_ROUTE_FLAGS_LOCAL, flags1=2, entity_specific_info=99)
    rip.add_route_to_dest("10.0.0.0/8", ri)
    # keywords override the RouteInfo
    rip.add_route_to_dest("11.0.0.0/8", ri, metric=8, views=MC)
    [a] = rip.routes("10.0.0.0/8")
    [b] = rip.routes("11.0.0.0/8")
    assert (a.metric, a.preference, a.belongs_to_views, a.flags, a.flags1,
            a.entity_specific_info, a.next_hops) == (3, 4, 3, RTM_ROUTE_FLAGS_LOCAL, 2, 99, (h,))
    assert (b.metric, b.preference, b.belongs_to_views) == (8, 4, MC)


def test_update_through_route_handle(rip):
    r, _ = rip.add_route_to_dest("10.0.0.0/8", metric=5, return_handle=True)
    r2, f = rip.add_route_to_dest("10.0.0.0/8", route=r, metric=3, return_handle=True)
    assert (r2, f) == (r, BEST)             # handle unchanged, no NEW
    r3, f = rip.add_route_to_dest("10.0.0.0/8", route=r, metric=4)
    assert (r3, f) == (None, BEST)
    assert metrics(rip, "10.0.0.0/8") == [(rip.handle, 4)]
    # the returned handle was the caller's own: no extra reference was added
    rip.release_routes([r])
    assert is_released(lambda: rip.release_routes([r]))


def test_update_through_handle_ignores_change_new_U44(rip):
    r, _ = rip.add_route_to_dest("10.0.0.0/8", metric=5, return_handle=True)
    _, f = rip.add_route_to_dest("10.0.0.0/8", route=r, metric=6, change_flags=NEW)
    assert f == BEST
    assert metrics(rip, "10.0.0.0/8") == [(rip.handle, 6)]


def test_update_through_handle_may_change_neighbour(rip):
    n1, n2 = nh(rip, "192.0.2.1"), nh(rip, "192.0.2.2")
    r, _ = rip.add_route_to_dest("10.0.0.0/8", neighbour=n1, return_handle=True)
    rip.add_route_to_dest("10.0.0.0/8", route=r, neighbour=n2)
    [ri] = rip.routes("10.0.0.0/8")
    assert ri.neighbour == n2
    # identity is now (dest, owner, n2): an add with n2 updates it
    _, f = rip.add_route_to_dest("10.0.0.0/8", neighbour=n2, metric=1)
    assert f == BEST and len(rip.routes("10.0.0.0/8")) == 1


def test_identity_rule_owner_and_neighbour(rip, ospf):
    n1, n2 = nh(rip, "192.0.2.1"), nh(rip, "192.0.2.2")
    assert rip.add_route_to_dest("10.0.0.0/8", neighbour=n1, metric=5)[1] == NEW | BEST
    assert rip.add_route_to_dest("10.0.0.0/8", neighbour=n1, metric=7)[1] == BEST
    assert [(r.neighbour, r.metric) for r in rip.routes("10.0.0.0/8")] == [(n1, 7)]
    assert rip.add_route_to_dest("10.0.0.0/8", neighbour=n2, metric=9)[1] == NEW
    assert rip.add_route_to_dest("10.0.0.0/8", metric=9)[1] == NEW       # neighbour NULL
    assert rip.add_route_to_dest("10.0.0.0/8", metric=9)[1] == 0         # same triple, no change
    # another owner with no neighbour is another route
    assert ospf.add_route_to_dest("10.0.0.0/8", metric=9)[1] == NEW
    assert [(r.route_owner, r.neighbour, r.metric) for r in rip.routes("10.0.0.0/8")] == [
        (rip.handle, n1, 7), (rip.handle, n2, 9), (rip.handle, 0, 9), (ospf.handle, 0, 9)]


def test_change_new_forces_a_second_equal_route(rip):
    assert rip.add_route_to_dest("10.0.0.0/8", metric=5)[1] == NEW | BEST
    assert rip.add_route_to_dest("10.0.0.0/8", metric=5, change_flags=NEW)[1] == NEW
    assert rip.add_route_to_dest("10.0.0.0/8", metric=1, change_flags=NEW)[1] == NEW | BEST
    assert [m for _, m in metrics(rip, "10.0.0.0/8")] == [1, 5, 5]


def test_change_first_updates_the_callers_highest_ranked_route_U30(rip, ospf):
    n1, n2 = nh(rip, "192.0.2.1"), nh(rip, "192.0.2.2")
    ospf.add_route_to_dest("10.0.0.0/8", metric=1)
    rip.add_route_to_dest("10.0.0.0/8", neighbour=n1, metric=5)
    rip.add_route_to_dest("10.0.0.0/8", neighbour=n2, metric=3)
    _, f = rip.add_route_to_dest("10.0.0.0/8", neighbour=n1, metric=4,
                                 change_flags=RTM_ROUTE_CHANGE_FIRST)
    assert f == 0                            # updated (no NEW), best (ospf) untouched
    assert [(r.route_owner, r.neighbour, r.metric) for r in rip.routes("10.0.0.0/8")] == [
        (ospf.handle, 0, 1), (rip.handle, n1, 4), (rip.handle, n1, 5)]


def test_change_first_creates_when_the_caller_has_no_route(rip, ospf):
    ospf.add_route_to_dest("10.0.0.0/8", metric=1)
    _, f = rip.add_route_to_dest("10.0.0.0/8", metric=3, change_flags=RTM_ROUTE_CHANGE_FIRST)
    assert f == NEW
    assert metrics(rip, "10.0.0.0/8") == [(ospf.handle, 1), (rip.handle, 3)]


def test_change_best_output_flag_U32(rip, ospf):
    o1, o2 = nh(ospf, "192.0.2.7"), nh(ospf, "192.0.2.8")
    assert rip.add_route_to_dest("10.0.0.0/8", metric=5)[1] == NEW | BEST
    assert ospf.add_route_to_dest("10.0.0.0/8", metric=10, next_hops=o1)[1] == NEW
    assert ospf.add_route_to_dest("10.0.0.0/8", metric=1, next_hops=o1)[1] == BEST
    assert rip.add_route_to_dest("10.0.0.0/8", metric=6)[1] == 0          # not best, stays so
    assert ospf.add_route_to_dest("10.0.0.0/8", metric=1, next_hops=o1,
                                  entity_specific_info=9)[1] == 0          # not a best change
    assert ospf.add_route_to_dest("10.0.0.0/8", metric=1, next_hops=o1,
                                  flags=RTM_ROUTE_FLAGS_DISCARD)[1] == BEST  # best's flags
    assert ospf.add_route_to_dest("10.0.0.0/8", metric=1, next_hops=(o1, o2),
                                  flags=RTM_ROUTE_FLAGS_DISCARD)[1] == BEST  # best's next hops
    assert ospf.add_route_to_dest("10.0.0.0/8", metric=1, preference=0, next_hops=(o1, o2),
                                  flags=RTM_ROUTE_FLAGS_DISCARD)[1] == 0    # nothing changed
    assert ospf.add_route_to_dest("10.0.0.0/8", metric=7, next_hops=(o1, o2),
                                  flags=RTM_ROUTE_FLAGS_DISCARD)[1] == BEST  # rip becomes best
    assert metrics(rip, "10.0.0.0/8") == [(rip.handle, 6), (ospf.handle, 7)]


def test_preference_wins_over_metric(rip, ospf):
    rip.add_route_to_dest("10.0.0.0/8", metric=1, preference=2)
    assert ospf.add_route_to_dest("10.0.0.0/8", metric=100, preference=1)[1] == NEW | BEST
    assert metrics(rip, "10.0.0.0/8") == [(ospf.handle, 100), (rip.handle, 1)]
    d = rip.get_exact_match_destination("10.0.0.0/8")
    assert d.view_info[0].owner == ospf.handle
    rip.release_dest_info(d)


def test_equal_cost_keeps_the_route_that_got_there_first_U11(rip, ospf):
    ra, _ = rip.add_route_to_dest("10.0.0.0/8", metric=5, return_handle=True)
    ro, f = ospf.add_route_to_dest("10.0.0.0/8", metric=5, return_handle=True)
    assert f == NEW
    assert (rip.is_best_route(ra), rip.is_best_route(ro)) == (UC, 0)
    assert rip.add_route_to_dest("10.0.0.0/8", metric=6)[1] == BEST
    assert rip.add_route_to_dest("10.0.0.0/8", metric=5)[1] == 0   # ospf reached 5 first
    assert (rip.is_best_route(ra), rip.is_best_route(ro)) == (0, UC)


def test_route_views_and_is_best_route(rip, ospf):
    r, _ = rip.add_route_to_dest("10.0.0.0/8", views=UC | MC, metric=5, return_handle=True)
    assert rip.is_best_route(r) == UC | MC
    o, f = ospf.add_route_to_dest("10.0.0.0/8", views=MC, metric=1, return_handle=True)
    assert f == NEW | BEST
    assert (rip.is_best_route(r), rip.is_best_route(o)) == (UC, MC)
    # F44: an update moves the route between views
    assert ospf.add_route_to_dest("10.0.0.0/8", route=o, views=UC, metric=1)[1] == BEST
    assert (rip.is_best_route(r), rip.is_best_route(o)) == (MC, UC)
    all_, _ = rip.add_route_to_dest("11.0.0.0/8", views=RTM_VIEW_MASK_ALL, return_handle=True)
    assert rip.is_best_route(all_) == UC | MC
    assert rip.routes("11.0.0.0/8")[0].belongs_to_views == UC | MC


def test_max_next_hops_in_route_accepted(rtm):
    m = RoutingTableManager(max_next_hops_in_route=3)
    e = m.register_entity(PROTO_IP_RIP, 1)
    hs = [nh(e, f"192.0.2.{i}") for i in range(1, 4)]
    e.add_route_to_dest("10.0.0.0/8", next_hops=hs)
    assert e.routes("10.0.0.0/8")[0].next_hops == tuple(hs)     # order kept
    big = rtm.register_entity(PROTO_IP_RIP, 9)          # default MaxNextHopsInRoute = 16
    full = [nh(big, f"192.0.2.{i}") for i in range(1, 17)]
    big.add_route_to_dest("10.0.0.0/8", next_hops=full)
    assert big.routes("10.0.0.0/8")[0].next_hops == tuple(full)
    m.check_invariants()


# ---------------------------------------------------------------------------
# Routes: delete, info, references (2.4, 2.5, 1.16, U46)
# ---------------------------------------------------------------------------
def test_delete_route_flags_and_cleanup(rtm, rip, ospf):
    r1, _ = rip.add_route_to_dest("10.0.0.0/8", metric=1, return_handle=True)
    r2, _ = ospf.add_route_to_dest("10.0.0.0/8", metric=5, return_handle=True)
    r3, _ = ospf.add_route_to_dest("10.0.0.0/8", metric=9, return_handle=True,
                                   change_flags=NEW)
    assert ospf.delete_route_to_dest(r3) == 0          # not best
    assert rip.delete_route_to_dest(r1) == BEST        # best deleted, ospf takes over
    assert ospf.is_best_route(r2) == UC
    assert rtm.counts(4) == (1, 1)
    assert ospf.delete_route_to_dest(r2) == BEST       # last route: best vanished
    assert rtm.counts(4) == (0, 0)
    assert rip.search_exact("10.0.0.0/8") is None
    with pytest.raises(NotFound):
        rip.get_exact_match_destination("10.0.0.0/8")


def test_delete_route_consumes_the_handle(rip):
    r, _ = rip.add_route_to_dest("10.0.0.0/8", return_handle=True)
    rip.delete_route_to_dest(r)
    with pytest.raises(InvalidHandle):
        rip.get_route_info(r)
    with pytest.raises(InvalidHandle):
        rip.release_routes([r])


def test_deleted_route_readable_while_referenced(rip):
    h = nh(rip)
    r, _ = rip.add_route_to_dest("10.0.0.0/8", metric=4, next_hops=h, return_handle=True)
    rip.reference_handles([r])
    assert rip.delete_route_to_dest(r) == BEST
    info, addr = rip.get_route_info(r)
    assert info.state == RTM_ROUTE_STATE_DELETED
    assert (info.metric, info.next_hops, addr) == (4, (h,), NetAddress("10.0.0.0/8"))
    assert rip.is_best_route(r) == 0
    rip.release_route_info(info)
    rip.release_routes([r])
    with pytest.raises(InvalidHandle):
        rip.get_route_info(r)


def test_delete_route_through_snapshot_handle(rtm, rip):
    rip.add_route_to_dest("10.0.0.0/8")
    r = rip.search_exact("10.0.0.0/8").best()
    assert rip.delete_route_to_dest(r) == BEST
    assert rtm.counts(4) == (0, 0)


def test_get_route_info_fields(rip, ospf):
    n0, n1, n2 = nh(rip, "192.0.2.1", 1), nh(rip, "192.0.2.2", 2), nh(rip, "192.0.2.3", 3)
    r, _ = rip.add_route_to_dest("10.1.0.0/16", neighbour=n0, next_hops=(n1, n2), metric=9,
                                 preference=4, views=UC | MC, flags=RTM_ROUTE_FLAGS_LOCAL,
                                 flags1=3, entity_specific_info=42, return_handle=True)
    info, addr = ospf.get_route_info(r)      # any entity may read a route
    assert addr == NetAddress("10.1.0.0/16")
    assert (info.neighbour, info.next_hops, info.metric, info.preference, info.belongs_to_views,
            info.flags, info.flags1, info.entity_specific_info, info.state) == (
        n0, (n1, n2), 9, 4, UC | MC, RTM_ROUTE_FLAGS_LOCAL, 3, 42, RTM_ROUTE_STATE_CREATED)
    assert info.pref_info == PrefInfo(9, 4)
    assert info.num_next_hops == 2
    assert ospf.get_entity_info(info.route_owner) == rip.info
    d = ospf.get_dest_info(info.dest_handle)
    assert d.dest_address == addr
    ospf.release_dest_info(d)
    ospf.release_route_info(info)


def test_route_info_keeps_destination_alive(rip):
    r, _ = rip.add_route_to_dest("10.0.0.0/8", return_handle=True)
    info, _ = rip.get_route_info(r)
    rip.delete_route_to_dest(r)
    # U7: the destination survives while referenced, invisible to queries
    assert rip.search_exact("10.0.0.0/8") is None
    d = rip.get_dest_info(info.dest_handle)
    assert [v.num_routes for v in d.view_info] == [0, 0]
    assert d.best(RTM_VIEW_ID_UCAST) == 0
    rip.release_dest_info(d)
    rip.release_route_info(info)
    with pytest.raises(InvalidHandle):
        rip.get_dest_info(info.dest_handle)


def test_release_routes_and_reference_handles(rip, ospf):
    r, _ = rip.add_route_to_dest("10.0.0.0/8", return_handle=True)
    h = nh(rip)
    rip.reference_handles([r, r, h, ospf.handle])
    rip.release_routes([r, r, r])
    assert is_released(lambda: rip.release_routes([r]))
    rip.release_next_hops([h, h])
    assert is_released(lambda: rip.release_next_hops([h]))
    rip.release_entities([ospf.handle])
    assert is_released(lambda: rip.release_entities([ospf.handle]))
    # references taken by one entity may be released by another (handles are global)
    rip.reference_handles([r])
    ospf.release_routes([r])
    rip.release_routes([])                    # U45: zero count is a no-op
    rip.release_next_hops([])
    rip.release_entities([])
    rip.reference_handles([])
    assert is_released(lambda: rip.release_routes([r]))


# ---------------------------------------------------------------------------
# Destinations (2.4, 1.4, 1.7, 1.8, U13)
# ---------------------------------------------------------------------------
def test_get_dest_info_per_view(rip, ospf):
    rr, _ = rip.add_route_to_dest("10.0.0.0/8", views=UC, metric=5,
                                  flags=RTM_ROUTE_FLAGS_LOCAL, return_handle=True)
    ro, _ = ospf.add_route_to_dest("10.0.0.0/8", views=UC | MC, metric=7, return_handle=True)
    d = rip.search_exact("10.0.0.0/8").dest_handle
    info = rip.get_dest_info(d)
    assert info.dest_handle == d
    assert info.dest_address == NetAddress("10.0.0.0/8")
    assert info.belongs_to_views == UC | MC
    assert info.number_of_views == 2
    v0, v1 = info.view_info
    assert (v0.view_id, v0.num_routes, v0.route, v0.owner, v0.dest_flags, v0.hold_route) == (
        RTM_VIEW_ID_UCAST, 2, rr, rip.handle, RTM_ROUTE_FLAGS_LOCAL, 0)
    assert (v1.view_id, v1.num_routes, v1.route, v1.owner, v1.dest_flags, v1.hold_route) == (
        RTM_VIEW_ID_MCAST, 1, ro, ospf.handle, 0, 0)
    assert (info.best(RTM_VIEW_ID_UCAST), info.best(RTM_VIEW_ID_MCAST)) == (rr, ro)
    rip.release_dest_info(info)
    for views, ids in [(UC, [0]), (MC, [1]), (UC | MC, [0, 1]), (RTM_VIEW_MASK_ALL, [0, 1]),
                       (RTM_VIEW_MASK_ANY, [])]:
        info = rip.get_dest_info(d, target_views=views)
        assert [v.view_id for v in info.view_info] == ids, views
        assert info.belongs_to_views == UC | MC
        rip.release_dest_info(info)


def test_dest_belongs_to_union_of_route_views(rip):
    rip.add_route_to_dest("10.0.0.0/8", views=MC)
    assert rip.search_exact("10.0.0.0/8").belongs_to_views == MC
    rip.add_route_to_dest("10.0.0.0/8", views=UC, change_flags=NEW)
    assert rip.search_exact("10.0.0.0/8").belongs_to_views == UC | MC


def test_protocol_filter_U13(rtm):
    rip1 = rtm.register_entity(PROTO_IP_RIP, 1)
    rip2 = rtm.register_entity(PROTO_IP_RIP, 2)
    ospf = rtm.register_entity(PROTO_IP_OSPF, 1)
    ro, _ = ospf.add_route_to_dest("10.0.0.0/8", metric=1, flags=RTM_ROUTE_FLAGS_LOCAL,
                                   return_handle=True)
    rip1.add_route_to_dest("10.0.0.0/8", metric=5)
    r2, _ = rip2.add_route_to_dest("10.0.0.0/8", metric=3, flags=RTM_ROUTE_FLAGS_DISCARD,
                                   return_handle=True)
    d = ospf.search_exact("10.0.0.0/8").dest_handle

    def reported(ent, proto):
        info = ent.get_dest_info(d, proto, UC)
        v = info.view_info[0]
        ent.release_dest_info(info)
        return v.route, v.owner, v.dest_flags, v.num_routes

    assert reported(rip1, RTM_BEST_PROTOCOL) == (ro, ospf.handle, RTM_ROUTE_FLAGS_LOCAL, 3)
    assert reported(ospf, PROTO_IP_RIP) == (r2, rip2.handle, RTM_ROUTE_FLAGS_DISCARD, 3)
    assert reported(rip1, RTM_THIS_PROTOCOL) == (r2, rip2.handle, RTM_ROUTE_FLAGS_DISCARD, 3)
    assert reported(ospf, RTM_THIS_PROTOCOL) == (ro, ospf.handle, RTM_ROUTE_FLAGS_LOCAL, 3)
    assert reported(ospf, PROTO_IP_BGP) == (0, 0, 0, 3)
    # the same filter in the queries
    info = rip1.get_exact_match_destination("10.0.0.0/8", PROTO_IP_RIP)
    assert info.view_info[0].route == r2
    rip1.release_dest_info(info)
    info = rip1.get_most_specific_destination("10.1.2.3", RTM_THIS_PROTOCOL)
    assert info.view_info[0].route == r2
    rip1.release_dest_info(info)


def test_last_changed_follows_changes(rtm, rip):
    rtm.core.set_virtual_time(1000)
    rip.add_route_to_dest("10.0.0.0/8", metric=1)
    assert rip.search_exact("10.0.0.0/8").last_changed == 1000
    rtm.core.set_virtual_time(2500)
    info = rip.get_exact_match_destination("10.0.0.0/8")     # a query changes nothing
    assert info.last_changed == 1000
    rip.release_dest_info(info)
    rip.add_route_to_dest("10.0.0.0/8", metric=2)
    assert rip.search_exact("10.0.0.0/8").last_changed == 2500
    rtm.core.set_virtual_time(4000)
    rip.add_route_to_dest("10.0.0.0/8", metric=3, change_flags=NEW)
    assert rip.search_exact("10.0.0.0/8").last_changed == 4000


def test_last_changed_keeps_48_bits_of_milliseconds(rtm, rip):
    for t in (2**32 + 7, 1_790_000_000_000, 2**48 - 1):      # past 32 bits: today's wall clock
        rtm.core.set_virtual_time(t)
        rip.add_route_to_dest("10.0.0.0/8", metric=t & 0xFFFF)
        assert rip.search_exact("10.0.0.0/8").last_changed == t
    with pytest.raises(InvalidParameter):
        rtm.core.set_virtual_time(2**48)
    assert rip.search_exact("10.0.0.0/8").last_changed == 2**48 - 1


def test_dest_info_references_keep_route_readable(rip):
    r, _ = rip.add_route_to_dest("10.0.0.0/8", metric=2, return_handle=True)
    info = rip.get_exact_match_destination("10.0.0.0/8")
    best = info.view_info[0].route
    assert best == r
    rip.delete_route_to_dest(r)
    ri, _ = rip.get_route_info(best)
    assert ri.state == RTM_ROUTE_STATE_DELETED
    rip.release_route_info(ri)
    d = rip.get_dest_info(info.dest_handle)      # destination kept by the reference
    rip.release_dest_info(d)
    rip.release_dest_info(info)
    with pytest.raises(InvalidHandle):
        rip.get_route_info(best)
    with pytest.raises(InvalidHandle):
        rip.get_dest_info(info.dest_handle)


def test_release_dests(rip):
    for p in ("10.0.0.0/8", "11.0.0.0/8"):
        rip.add_route_to_dest(p)
    infos = [rip.get_exact_match_destination(p) for p in ("10.0.0.0/8", "11.0.0.0/8")]
    rip.release_dests(infos)
    with pytest.raises(RtmError):
        rip.release_dest_info(infos[0])
    rip.release_dests([])


# ---------------------------------------------------------------------------
# Single-destination queries (2.6, U33, U34)
# ---------------------------------------------------------------------------
def _q(ent, fn, *args, **kw):
    info = fn(*args, **kw)
    ent.release_dest_info(info)
    return str(info.dest_address)


def test_exact_match_destination(rip):
    for p in ("10.0.0.0/8", "10.1.0.0/16"):
        rip.add_route_to_dest(p)
    q = rip.get_exact_match_destination
    assert _q(rip, q, "10.0.0.0/8") == "10.0.0.0/8"
    assert _q(rip, q, NetAddress("10.1.0.0/16")) == "10.1.0.0/16"
    assert _q(rip, q, (0x0A010000, 16)) == "10.1.0.0/16"
    for missing in ("10.0.0.0/16", "10.1.0.0/24", "10.0.0.0/7", "11.0.0.0/8"):
        with pytest.raises(NotFound):
            q(missing)


def test_most_specific_destination(rip):
    for p in ("0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24"):
        rip.add_route_to_dest(p)
    q = rip.get_most_specific_destination
    assert _q(rip, q, "10.1.2.3") == "10.1.2.0/24"
    assert _q(rip, q, "10.1.3.4") == "10.1.0.0/16"
    assert _q(rip, q, "10.2.0.0") == "10.0.0.0/8"
    assert _q(rip, q, "11.0.0.1") == "0.0.0.0/0"
    assert _q(rip, q, "10.1.0.0/16") == "10.1.0.0/16"      # exact preferred
    assert _q(rip, q, "10.1.0.0/20") == "10.1.0.0/16"


def test_most_specific_without_cover_is_not_found(rip):
    rip.add_route_to_dest("10.0.0.0/8")
    with pytest.raises(NotFound):
        rip.get_most_specific_destination("11.0.0.1")
    with pytest.raises(NotFound):
        rip.get_most_specific_destination("10.0.0.0/7")


def test_less_specific_walk_to_default_U34(rip):
    for p in ("0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16", "10.2.0.0/16", "10.1.2.0/24"):
        rip.add_route_to_dest(p)
    info = rip.get_exact_match_destination("10.1.2.0/24")
    walk = []
    while True:
        try:
            nxt = rip.get_less_specific_destination(info.dest_handle)
        except NotFound:
            break
        rip.release_dest_info(info)
        info = nxt
        walk.append(str(info.dest_address))
    rip.release_dest_info(info)
    assert walk == ["10.1.0.0/16", "10.0.0.0/8", "0.0.0.0/0"]
    d = rip.search_exact("10.2.0.0/16").dest_handle
    assert _q(rip, rip.get_less_specific_destination, d) == "10.0.0.0/8"


def test_less_specific_without_default(rip):
    rip.add_route_to_dest("10.0.0.0/8")
    d = rip.search_exact("10.0.0.0/8").dest_handle
    with pytest.raises(NotFound):
        rip.get_less_specific_destination(d)


def test_view_filtering_in_queries_U33(rip):
    rip.add_route_to_dest("10.0.0.0/8", views=UC)
    rip.add_route_to_dest("10.1.0.0/16", views=MC)
    rip.add_route_to_dest("10.1.2.0/24", views=MC)
    ms = rip.get_most_specific_destination
    assert _q(rip, ms, "10.1.2.3", target_views=UC) == "10.0.0.0/8"
    assert _q(rip, ms, "10.1.2.3", target_views=MC) == "10.1.2.0/24"
    assert _q(rip, ms, "10.1.2.3", target_views=RTM_VIEW_MASK_ANY) == "10.1.2.0/24"
    assert _q(rip, ms, "10.1.2.3", target_views=RTM_VIEW_MASK_ALL) == "10.1.2.0/24"
    with pytest.raises(NotFound):
        rip.get_exact_match_destination("10.1.0.0/16", target_views=UC)
    assert _q(rip, rip.get_exact_match_destination, "10.1.0.0/16", target_views=MC) == \
        "10.1.0.0/16"
    assert _q(rip, rip.get_exact_match_destination, "10.1.0.0/16", target_views=0) == \
        "10.1.0.0/16"
    d24 = rip.search_exact("10.1.2.0/24").dest_handle
    ls = rip.get_less_specific_destination
    assert _q(rip, ls, d24, target_views=UC) == "10.0.0.0/8"
    assert _q(rip, ls, d24, target_views=MC) == "10.1.0.0/16"
    d16 = rip.search_exact("10.1.0.0/16").dest_handle
    with pytest.raises(NotFound):
        ls(d16, target_views=MC)
    assert str(rip.search_best("10.1.2.3", UC).dest_address) == "10.0.0.0/8"
    assert rip.search_exact("10.1.0.0/16", UC) is None
    res = rip.lookup(np.array([0x0A010203], np.uint32), view=RTM_VIEW_ID_UCAST)
    assert res.length.tolist() == [8]
    res = rip.lookup(np.array([0x0A010203], np.uint32), view=RTM_VIEW_ID_MCAST)
    assert res.length.tolist() == [24]


def test_exact_match_route_flags_U35(rip, ospf):
    n1, n2 = nh(rip, "192.0.2.1", 1), nh(rip, "192.0.2.2", 2)
    o1 = nh(ospf, "192.0.2.9", 7)
    ra, _ = rip.add_route_to_dest("10.0.0.0/8", neighbour=n1, next_hops=n1, metric=5,
                                  preference=1, return_handle=True)
    rb, _ = rip.add_route_to_dest("10.0.0.0/8", neighbour=n2, next_hops=(n1, n2), metric=3,
                                  preference=1, return_handle=True)
    rc, _ = ospf.add_route_to_dest("10.0.0.0/8", next_hops=o1, metric=1, preference=2,
                                   return_handle=True)
    assert [r.metric for r in rip.routes("10.0.0.0/8")] == [3, 5, 1]      # B, A, C

    def match(flags, crit=None, ifindex=0, views=RTM_VIEW_MASK_ALL):
        info, h = rip.get_exact_match_route("10.0.0.0/8", flags, crit, ifindex, views)
        ri, _ = rip.get_route_info(h)
        assert ri == info
        rip.release_route_info(ri)
        rip.release_route_info(info)
        rip.release_routes([h])
        return h

    assert match(RTM_MATCH_NONE) == rb
    assert match(RTM_MATCH_OWNER, RouteInfo(route_owner=ospf.handle)) == rc
    assert match(RTM_MATCH_OWNER, RouteInfo(route_owner=rip.handle)) == rb
    assert match(RTM_MATCH_NEIGHBOUR, RouteInfo(neighbour=n1)) == ra
    assert match(RTM_MATCH_NEIGHBOUR, RouteInfo(neighbour=0)) == rc
    assert match(RTM_MATCH_PREF, RouteInfo(metric=5, preference=1)) == ra
    assert match(RTM_MATCH_PREF, RouteInfo(metric=1, preference=2)) == rc
    assert match(RTM_MATCH_NEXTHOP, RouteInfo(next_hops=(n2, n1))) == rb
    assert match(RTM_MATCH_NEXTHOP, RouteInfo(next_hops=(n1,))) == ra
    assert match(RTM_MATCH_INTERFACE, None, 2) == rb
    assert match(RTM_MATCH_INTERFACE, None, 1) == rb          # highest-ranked of B and A
    assert match(RTM_MATCH_INTERFACE, None, 7) == rc
    assert match(RTM_MATCH_OWNER | RTM_MATCH_NEIGHBOUR,
                 RouteInfo(route_owner=rip.handle, neighbour=n1)) == ra
    full = RouteInfo(route_owner=rip.handle, neighbour=n1, next_hops=(n1,), metric=5,
                     preference=1)
    assert match(RTM_MATCH_FULL, full, 1) == ra
    for flags, crit, ifindex in [
            (RTM_MATCH_PREF, RouteInfo(metric=5, preference=2), 0),    # both must agree
            (RTM_MATCH_NEXTHOP, RouteInfo(next_hops=(n2,)), 0),
            (RTM_MATCH_INTERFACE, None, 9),
            (RTM_MATCH_OWNER | RTM_MATCH_NEIGHBOUR,
             RouteInfo(route_owner=ospf.handle, neighbour=n1), 0),
            (RTM_MATCH_FULL, full, 2)]:                               # FULL includes INTERFACE
        with pytest.raises(NotFound):
            rip.get_exact_match_route("10.0.0.0/8", flags, crit, ifindex)
    with pytest.raises(NotFound):
        rip.get_exact_match_route("11.0.0.0/8", RTM_MATCH_NONE)


def test_exact_match_route_target_views(rip, ospf):
    ru, _ = rip.add_route_to_dest("10.0.0.0/8", views=UC, metric=5, return_handle=True)
    rm, _ = ospf.add_route_to_dest("10.0.0.0/8", views=MC, metric=1, return_handle=True)
    for views, want in [(UC, ru), (MC, rm), (RTM_VIEW_MASK_ANY, rm), (RTM_VIEW_MASK_ALL, rm)]:
        info, h = rip.get_exact_match_route("10.0.0.0/8", RTM_MATCH_NONE, target_views=views)
        assert h == want, views
        rip.release_route_info(info)
        rip.release_routes([h])
    with pytest.raises(NotFound):
        rip.get_exact_match_route("10.0.0.0/8", RTM_MATCH_OWNER,
                                  RouteInfo(route_owner=ospf.handle), target_views=UC)


# ---------------------------------------------------------------------------
# Pythonic searches (snapshots without references)
# ---------------------------------------------------------------------------
def test_search_queries(rip):
    for p in ("0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.2.0.0/16",
              "11.0.0.0/8"):
        rip.add_route_to_dest(p)
    rip.add_route_to_dest("10.1.2.128/25", views=MC)
    assert str(rip.search_exact("10.1.0.0/16").dest_address) == "10.1.0.0/16"
    assert rip.search_exact("10.1.0.0/17") is None
    assert str(rip.search_best("10.1.2.200").dest_address) == "10.1.2.128/25"
    assert str(rip.search_best("10.1.2.200", UC).dest_address) == "10.1.2.0/24"
    assert str(rip.search_best("12.0.0.0/8").dest_address) == "0.0.0.0/0"
    assert str(rip.search_worst("10.1.2.3").dest_address) == "0.0.0.0/0"
    assert [d.prefix for d in rip.search_covering("10.1.2.0/24")] == [
        "0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24"]
    assert [d.prefix for d in rip.search_covering("10.1.2.129")] == [
        "0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.128/25"]
    assert prefixes(rip, "10.0.0.0/8") == [
        "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.128/25", "10.2.0.0/16"]
    assert prefixes(rip, "10.0.0.0/8", UC) == [
        "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.2.0.0/16"]
    assert prefixes(rip) == ["0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24",
                             "10.1.2.128/25", "10.2.0.0/16", "11.0.0.0/8"]
    assert prefixes(rip, "12.0.0.0/8") == []
    worst = rip.search_worst("13.0.0.0/8", MC)
    assert worst is None
    snap = rip.search_exact("10.0.0.0/8")
    assert isinstance(snap, DestInfo) and [v.view_id for v in snap.view_info] == [0, 1]


def test_covered_order_prefix_preorder_U20(rip):
    ps = ["10.0.1.0/24", "10.0.0.0/16", "10.0.0.0/8", "9.255.0.0/16", "10.0.0.0/24",
          "10.128.0.0/9", "10.0.0.128/25"]
    for p in ps:
        rip.add_route_to_dest(p)
    assert prefixes(rip) == ["9.255.0.0/16", "10.0.0.0/8", "10.0.0.0/16", "10.0.0.0/24",
                             "10.0.0.128/25", "10.0.1.0/24", "10.128.0.0/9"]


def test_routes_snapshot_in_selection_order(rip, ospf):
    rip.add_route_to_dest("10.0.0.0/8", metric=5, preference=1)
    ospf.add_route_to_dest("10.0.0.0/8", metric=9, preference=0)
    rip.add_route_to_dest("10.0.0.0/8", metric=1, preference=1, change_flags=NEW)
    assert [(r.preference, r.metric) for r in rip.routes("10.0.0.0/8")] == [(0, 9), (1, 1),
                                                                             (1, 5)]
    assert rip.routes("11.0.0.0/8") == []


# ---------------------------------------------------------------------------
# Bulk NumPy paths
# ---------------------------------------------------------------------------
def test_add_routes_ipv4(rtm, rip):
    h = nh(rip)
    addrs = np.array([0x0A000000, 0x0B000000, 0x0C010000], np.uint32)
    out = rip.add_routes(addrs, np.array([8, 8, 16]), next_hop=h, metric=[1, 2, 3])
    assert out.dtype == np.uint32
    assert out.tolist() == [NEW | BEST] * 3
    assert prefixes(rip) == ["10.0.0.0/8", "11.0.0.0/8", "12.1.0.0/16"]
    assert [r.metric for p in prefixes(rip) for r in rip.routes(p)] == [1, 2, 3]
    assert rip.routes("12.1.0.0/16")[0].next_hops == (h,)
    # same identity again: updates (no NEW), scalar broadcast of metric
    out = rip.add_routes(addrs, np.array([8, 8, 16]), next_hop=h, metric=9)
    assert out.tolist() == [BEST] * 3
    assert rtm.counts(4) == (3, 3)
    assert [r.metric for p in prefixes(rip) for r in rip.routes(p)] == [9, 9, 9]


def test_add_routes_columns_and_change_flags(rip, ospf):
    n1 = nh(rip, "192.0.2.1")
    addrs = np.array([0x0A000000, 0x0A000000], np.uint32)
    out = rip.add_routes(addrs, 8, neighbour=n1, views=[UC, MC], preference=[3, 4],
                         flags=RTM_ROUTE_FLAGS_LOCAL, entity_specific_info=[7, 8],
                         change_flags=NEW)
    assert out.tolist() == [NEW | BEST, NEW | BEST]
    assert [(r.neighbour, r.belongs_to_views, r.preference, r.flags, r.entity_specific_info)
            for r in rip.routes("10.0.0.0/8")] == [
        (n1, UC, 3, RTM_ROUTE_FLAGS_LOCAL, 7), (n1, MC, 4, RTM_ROUTE_FLAGS_LOCAL, 8)]
    out = ospf.add_routes(np.array([0x0A000000], np.uint32), 8, preference=5,
                          change_flags=RTM_ROUTE_CHANGE_FIRST)
    assert out.tolist() == [NEW]
    out = ospf.add_routes(np.array([0x0A000000], np.uint32), 8, preference=6,
                          change_flags=RTM_ROUTE_CHANGE_FIRST)
    assert out.tolist() == [0]
    assert len(rip.routes("10.0.0.0/8")) == 3


def test_delete_routes(rtm, rip, ospf):
    n1 = nh(rip, "192.0.2.1")
    rip.add_routes(np.array([0x0A000000, 0x0B000000, 0x0C000000], np.uint32), 8, metric=1)
    rip.add_route_to_dest("12.0.0.0/8", neighbour=n1, metric=2)
    ospf.add_route_to_dest("11.0.0.0/8", metric=5)
    out = rip.delete_routes(np.array([0x0A000000, 0x0B000000, 0x0D000000, 0x0A000000],
                                     np.uint32), 8)
    assert out.tolist() == [BEST, BEST, DELETE_NOT_FOUND, DELETE_NOT_FOUND]
    assert prefixes(rip) == ["11.0.0.0/8", "12.0.0.0/8"]
    assert metrics(rip, "11.0.0.0/8") == [(ospf.handle, 5)]
    # neighbour selects the identity; any_neighbour takes the caller's first route
    out = rip.delete_routes(np.array([0x0C000000], np.uint32), 8, neighbour=n1)
    assert out.tolist() == [0]
    assert [(r.neighbour, r.metric) for r in rip.routes("12.0.0.0/8")] == [(0, 1)]
    rip.add_route_to_dest("12.0.0.0/8", neighbour=n1, metric=0)
    out = rip.delete_routes(np.array([0x0C000000], np.uint32), 8, any_neighbour=True)
    assert out.tolist() == [BEST]
    assert [(r.neighbour, r.metric) for r in rip.routes("12.0.0.0/8")] == [(0, 1)]
    assert rtm.counts(4) == (2, 2)


def test_lookup_ipv4_columns(rip):
    h1, h2 = nh(rip, "192.0.2.1"), nh(rip, "192.0.2.2")
    rip.add_route_to_dest("10.0.0.0/8", next_hops=h1)
    rip.add_route_to_dest("10.1.2.128/25", next_hops=(h2, h1))
    rip.add_route_to_dest("10.1.0.0/16")
    res = rip.lookup(np.array([0x0A0102C8, 0x0A010203, 0x0A7F0000, 0x0B000000], np.uint32))
    assert res.length.tolist() == [25, 16, 8, -1]
    assert res.prefix.dtype == np.uint32
    assert res.prefix.tolist() == [0x0A010280, 0x0A010000, 0x0A000000, 0]
    assert res.next_hop.tolist() == [h2, 0, h1, 0]
    dests = res.dest.tolist()
    assert dests == [rip.search_exact(p).dest_handle for p in
                     ("10.1.2.128/25", "10.1.0.0/16", "10.0.0.0/8")] + [0]
    # python ints and scalar-like inputs
    assert rip.lookup([0x0A000001]).length.tolist() == [8]
    assert rip.lookup(np.array([], np.uint32)).length.tolist() == []


def _brute_lpm(table, addr):
    best = -1
    for (a, n) in table:
        mask = ((1 << n) - 1) << (32 - n) if n else 0
        if addr & mask == a and n > best:
            best = n
    return best


def test_lookup_index_tracks_every_change(rip):
    rnd = random.Random(7)
    table = set()
    probe = np.array([rnd.getrandbits(32) for _ in range(300)] +
                     [0x0A000000 | rnd.getrandbits(24) for _ in range(300)], np.uint32)
    rip.lookup(probe)                        # build the index on an empty table
    for step in range(6):
        for _ in range(60):
            n = rnd.choice([0, 4, 8, 12, 16, 20, 23, 24, 25, 28, 30, 32])
            a = (0x0A000000 | rnd.getrandbits(24)) if rnd.random() < 0.7 else rnd.getrandbits(32)
            a &= ((1 << n) - 1) << (32 - n) if n else 0
            if (a, n) in table and rnd.random() < 0.5:
                rip.delete_routes(np.array([a], np.uint32), n)
                table.discard((a, n))
            else:
                rip.add_route_to_dest((a, n))
                table.add((a, n))
        got = rip.lookup(probe).length.tolist()
        want = [_brute_lpm(table, int(x)) for x in probe]
        assert got == want, step
    assert len(prefixes(rip)) == len(table)


def _brute_lpm6(table, addr):
    best = -1
    for (a, n) in table:
        if n > best and addr >> (128 - n) == a >> (128 - n):
            best = n
    return best


def _v6_rows(values):
    return np.array([[v >> 64, v & (2**64 - 1)] for v in values], np.uint64).reshape(-1, 2)


def _random_v6_prefix(rnd, lengths):
    n = rnd.choice(lengths)
    if rnd.random() < 0.7:                   # crowd 2001:db8::/32 so prefixes nest
        a = (0x20010DB8 << 96) | rnd.getrandbits(96)
    else:
        a = rnd.getrandbits(128)
    return a & (((1 << n) - 1) << (128 - n)), n


def test_ipv6_lookup_index_tracks_every_change(rtm, rip6):
    rnd = random.Random(11)
    table = set()
    lengths = [0, 3, 12, 16, 17, 20, 24, 29, 32, 33, 40, 44, 47, 48, 49, 56, 63, 64, 65, 96,
               120, 127, 128]
    probe_ints = [rnd.getrandbits(128) for _ in range(150)] + \
        [(0x20010DB8 << 96) | rnd.getrandbits(96) for _ in range(150)]
    rip6.lookup(_v6_rows(probe_ints))        # build the index on an empty table
    assert rtm.memory()["lookup_index"] > 0
    for step in range(8):
        for _ in range(50):
            a, n = _random_v6_prefix(rnd, lengths)
            if (a, n) in table and rnd.random() < 0.5:
                rip6.delete_routes(_v6_rows([a]), n)
                table.discard((a, n))
            else:
                rip6.add_route_to_dest((a, n))
                table.add((a, n))
        # probes inside the prefixes of the table too, where lookups go deep
        inside = [a | (rnd.getrandbits(128 - n) if n < 128 else 0)
                  for (a, n) in rnd.sample(sorted(table), min(100, len(table)))]
        probes = probe_ints + inside
        got = rip6.lookup(_v6_rows(probes)).length.tolist()
        want = [_brute_lpm6(table, x) for x in probes]
        assert got == want, step
        for x, w in list(zip(probes, want))[::17]:          # per call: read from the index too
            d = rip6.search_best(ipaddress.IPv6Address(x))
            assert (d.dest_address.plen if d is not None else -1) == w
    assert rtm.memory()["lookup_index"] > 0


def test_updates_in_load_order_find_their_destinations(rtm, rip, rip6):
    """A destination is looked for first in the node slot after the one found
    last (a stream in load order hits there); a slot freed and reused, a glue
    node, or a destination of the other family with the same key bits must
    never be taken for it."""
    # 0.0.0.0/0 and ::/0 have the same key bits; they sit in adjacent slots
    assert rip.add_route_to_dest("1.0.0.0/8")[1] & NEW
    assert rip6.add_route_to_dest("::/0")[1] & NEW
    assert rip.add_route_to_dest("0.0.0.0/0")[1] & NEW
    assert not rip.add_route_to_dest("1.0.0.0/8", metric=2)[1] & NEW
    assert not rip.add_route_to_dest("0.0.0.0/0", metric=2)[1] & NEW   # skips ::/0
    assert rtm.counts(4) == (2, 2) and rtm.counts(6) == (1, 1)
    assert rip6.routes("::/0")[0].metric == 0
    # random adds, updates and deletes, mostly in the order of a first load,
    # against a dict; the trie is linked between rounds (glue nodes in between)
    rnd = random.Random(3)
    pool = sorted({(rnd.getrandbits(32) >> (32 - n) << (32 - n), n)
                   for n in rnd.choices(range(8, 33), k=400)})
    table = {}
    for rnd_i in range(6):
        for k, key in enumerate(pool):
            if rnd.random() < 0.1:
                key = rnd.choice(pool)              # out of order now and then
            if key in table and rnd.random() < 0.15:
                rip.delete_routes(np.array([key[0]], np.uint32), key[1])   # frees the slot
                del table[key]
                continue
            metric = rnd_i * 1000 + k
            _, flags = rip.add_route_to_dest(key, metric=metric)
            assert bool(flags & NEW) == (key not in table), (rnd_i, key)
            table[key] = metric
        assert rtm.counts(4) == (len(table) + 2, len(table) + 2)
        rip.search_best("10.0.0.1")                 # links the new destinations
        for key, metric in table.items():
            assert [r.metric for r in rip.routes(key)] == [metric]
    assert rtm.counts(6) == (1, 1)


def test_ipv6_lookup_index_gives_up_on_scattered_host_routes(rtm, rip6):
    """Host routes spread over the space need a chain of index blocks each;
    past its budget the index gives up and lookups walk the trie, with the
    same answers.  It is tried again once the table has halved."""
    rnd = random.Random(5)
    hosts = [rnd.getrandbits(128) for _ in range(1500)]
    table = {(0x2000 << 112, 3)} | {(a, 128) for a in hosts}
    rip6.add_route_to_dest("2000::/3")
    rip6.lookup(_v6_rows(hosts[:1]))                   # the index is on, then outgrown
    assert rtm.memory()["lookup_index"] > 0
    rip6.add_routes(_v6_rows(hosts), 128)
    probes = hosts[::5] + [rnd.getrandbits(128) for _ in range(300)]
    res = rip6.lookup(_v6_rows(probes))
    assert rtm.memory()["lookup_index"] == 0
    assert res.length.tolist() == [_brute_lpm6(table, x) for x in probes]
    res = rip6.lookup(_v6_rows(probes))                # not rebuilt at the same size
    assert rtm.memory()["lookup_index"] == 0
    gone = hosts[:1200]
    rip6.delete_routes(_v6_rows(gone), 128)
    table -= {(a, 128) for a in gone}
    res = rip6.lookup(_v6_rows(probes))                # halved: built again
    assert rtm.memory()["lookup_index"] > 0
    assert res.length.tolist() == [_brute_lpm6(table, x) for x in probes]
    rtm.core.check_invariants()


def test_bulk_ipv6_forms(rtm, rip6):
    h = nh(rip6, "2001:db8::1")
    hi = np.array([0x20010DB800000000, 0x20010DB800010000], np.uint64)
    a2 = np.stack([hi, np.zeros(2, np.uint64)], axis=1)
    out = rip6.add_routes(a2, np.array([32, 48]), next_hop=h, metric=[1, 2])
    assert out.tolist() == [NEW | BEST] * 2
    assert prefixes(rip6, "::/0") == ["2001:db8::/32", "2001:db8:1::/48"]
    a16 = np.zeros((2, 16), np.uint8)
    a16[0, :6] = [0x20, 0x01, 0x0D, 0xB8, 0x00, 0x01]
    a16[0, 15] = 5
    a16[1, :4] = [0x30, 0x00, 0x00, 0x00]
    res = rip6.lookup(a16)
    assert res.length.tolist() == [48, -1]
    assert res.prefix.shape == (2, 2) and res.prefix.dtype == np.uint64
    assert res.prefix[0].tolist() == [0x20010DB800010000, 0]
    assert res.next_hop.tolist() == [h, 0]
    res2 = rip6.lookup(np.array([[0x20010DB800020000, 1]], np.uint64))
    assert res2.length.tolist() == [32]
    out = rip6.add_routes(a16[:1], 128, metric=3)
    assert out.tolist() == [NEW | BEST]
    assert "2001:db8:1::5/128" in prefixes(rip6, "::/0")
    out = rip6.delete_routes(a2, np.array([32, 48]))
    assert out.tolist() == [BEST, BEST]
    assert rtm.counts(6) == (1, 1) and rtm.counts(4) == (0, 0)


# ---------------------------------------------------------------------------
# Deregistration (U4)
# ---------------------------------------------------------------------------
def test_deregistration_deletes_routes_and_recomputes_best(rtm):
    log = []
    rip = rtm.register_entity(PROTO_IP_RIP, 1)
    ospf = rtm.register_entity(PROTO_IP_OSPF, 1, event_callback=lambda *a: log.append(a[1:3]))
    log.clear()
    h = nh(rip)
    rr, _ = rip.add_route_to_dest("10.0.0.0/8", next_hops=h, metric=1, return_handle=True)
    rip.add_route_to_dest("11.0.0.0/8", next_hops=h, metric=1)
    ro, _ = ospf.add_route_to_dest("10.0.0.0/8", metric=5, return_handle=True)
    held = ospf.get_exact_match_destination("10.0.0.0/8")       # refs on rip's route + rip
    rinfo, _ = ospf.get_route_info(rr)                          # refs on rip's next hop
    rip.release_next_hops([h])
    rip.release_routes([rr])
    probe = np.array([0x0A000001, 0x0B000001], np.uint32)
    assert ospf.lookup(probe).next_hop.tolist() == [h, h]      # index built, rip's routes
    rip.deregister_entity()
    res = ospf.lookup(probe)
    assert res.length.tolist() == [8, -1]
    assert res.next_hop.tolist() == [0, 0]                      # ospf's route has no next hop
    assert log == [(RTM_ENTITY_DEREGISTERED, rip.handle)]
    assert rtm.counts(4) == (1, 1)
    assert prefixes(ospf) == ["10.0.0.0/8"]
    assert ospf.is_best_route(ro) == UC
    now = ospf.get_exact_match_destination("10.0.0.0/8")
    assert (now.view_info[0].route, now.view_info[0].owner) == (ro, ospf.handle)
    ospf.release_dest_info(now)
    # objects others hold stay readable in DELETED state until released
    ri, _ = ospf.get_route_info(held.view_info[0].route)
    assert ri.state == RTM_ROUTE_STATE_DELETED
    ospf.release_route_info(ri)
    assert ospf.get_next_hop_info(h).state == RTM_NEXTHOP_STATE_DELETED
    assert ospf.get_entity_info(rip.handle) == rip.info
    ospf.release_dest_info(held)
    ospf.release_route_info(rinfo)
    with pytest.raises(InvalidHandle):
        ospf.get_route_info(rr)
    assert rtm.entities == [ospf]


def test_deregistration_frees_everything(rtm):
    before = rtm.core.record_counts()
    e = rtm.register_entity(PROTO_IP_RIP, 1)
    hs = [nh(e, f"192.0.2.{i}") for i in range(1, 4)]
    for i, h in enumerate(hs):
        e.add_route_to_dest((0x0A000000 + (i << 16), 16), next_hops=h)
    e.release_next_hops(hs)
    e.deregister_entity()
    assert rtm.counts(4) == (0, 0)
    assert rtm.core.record_counts() == before      # F111: nothing of it remains


# ---------------------------------------------------------------------------
# IPv6 equivalents of the main paths
# ---------------------------------------------------------------------------
def test_ipv6_main_path(rtm, rip6):
    o6 = rtm.register_entity(PROTO_IP_OSPF, 1, AF_INET6)
    h, f = rip6.add_next_hop("2001:db8::1", interface_index=4)
    assert f == RTM_NEXTHOP_CHANGE_NEW
    nhi = rip6.get_next_hop_info(h)
    assert nhi.next_hop_address == NetAddress("2001:db8::1/128")
    rip6.release_next_hop_info(nhi)
    assert rip6.add_route_to_dest("::/0", metric=9)[1] == NEW | BEST
    assert rip6.add_route_to_dest("2001:db8::/32", next_hops=h, metric=5)[1] == NEW | BEST
    r, f = rip6.add_route_to_dest("2001:db8:1::/48", next_hops=h, metric=5, return_handle=True)
    assert f == NEW | BEST
    ro, f = o6.add_route_to_dest("2001:db8:1::/48", metric=1, return_handle=True)
    assert f == NEW | BEST
    assert rtm.counts(6) == (3, 4) and rtm.counts(4) == (0, 0)
    assert _q(rip6, rip6.get_exact_match_destination, "2001:db8:1::/48") == "2001:db8:1::/48"
    assert _q(rip6, rip6.get_most_specific_destination, "2001:db8:1::5") == "2001:db8:1::/48"
    assert _q(rip6, rip6.get_most_specific_destination, "2001:db8:2::5") == "2001:db8::/32"
    assert _q(rip6, rip6.get_most_specific_destination, "3000::1") == "::/0"
    d = rip6.search_exact("2001:db8:1::/48").dest_handle
    assert _q(rip6, rip6.get_less_specific_destination, d) == "2001:db8::/32"
    d32 = rip6.search_exact("2001:db8::/32").dest_handle
    d0 = rip6.search_exact("::/0").dest_handle
    assert _q(rip6, rip6.get_less_specific_destination, d32) == "::/0"
    with pytest.raises(NotFound):
        rip6.get_less_specific_destination(d0)
    info = rip6.get_dest_info(d)
    assert (info.view_info[0].route, info.view_info[0].owner, info.view_info[0].num_routes) == (
        ro, o6.handle, 2)
    rip6.release_dest_info(info)
    ri, addr = rip6.get_route_info(r)
    assert addr == NetAddress("2001:db8:1::/48") and ri.next_hops == (h,)
    rip6.release_route_info(ri)
    assert o6.delete_route_to_dest(ro) == BEST
    assert rip6.is_best_route(r) == UC
    info, rh = rip6.get_exact_match_route("2001:db8:1::/48", RTM_MATCH_INTERFACE,
                                          interface_index=4)
    assert rh == r
    rip6.release_route_info(info)
    rip6.release_routes([rh])
    assert rip6.delete_route_to_dest(r) == BEST
    assert prefixes(rip6, "::/0") == ["::/0", "2001:db8::/32"]
    # the IPv4 table of an IPv4 entity does not see IPv6 destinations
    v4 = rtm.register_entity(PROTO_IP_RIP, 1)
    assert prefixes(v4) == []
    rip6.delete_next_hop(h)
    with pytest.raises(NotFound):
        rip6.find_next_hop("2001:db8::1", 4)


def test_ipv6_lookup_matches_brute_force(rip6):
    rnd = random.Random(3)
    table = []
    for _ in range(80):
        n = rnd.choice([16, 32, 48, 56, 64, 96, 127, 128])
        v = (0x2001 << 112) | rnd.getrandbits(112 if rnd.random() < 0.5 else 40) << 0
        v &= ((1 << n) - 1) << (128 - n)
        table.append((v, n))
        rip6.add_route_to_dest((v, n), metric=1)
    probes = [v | rnd.getrandbits(128 - n) if n < 128 else v for v, n in table[:40]]
    probes += [(0x2001 << 112) | rnd.getrandbits(112) for _ in range(40)]
    arr = np.array([[p >> 64, p & ((1 << 64) - 1)] for p in probes], np.uint64)
    got = rip6.lookup(arr).length.tolist()
    want = []
    for p in probes:
        best = -1
        for v, n in set(table):
            if (p >> (128 - n) if n else 0) == (v >> (128 - n) if n else 0) and n > best:
                best = n
        want.append(best)
    assert got == want


@pytest.mark.parametrize("view_id", [0, 1, 2])
def test_ipv4_batch_lookup_columns_equal_per_address_search(view_id):
    """The one-pass IPv4 lookup (index + result columns) agrees with
    search_best in every view, the third one having no index."""
    rtm = RoutingTableManager(views=0x7)
    ent = rtm.register_entity(PROTO_IP_RIP)
    hops = [ent.add_next_hop(f"192.0.2.{i}")[0] for i in range(1, 5)]
    rnd = random.Random(view_id)
    for _ in range(400):
        n = rnd.choice([0, 8, 12, 16, 20, 24, 25, 28, 32])
        a = rnd.getrandbits(32) & ((((1 << n) - 1) << (32 - n)) if n else 0)
        ent.add_route_to_dest((a, n), next_hops=rnd.choice(hops), metric=rnd.randrange(4),
                              views=rnd.choice([1, 2, 4, 3, 5, 7]),
                              neighbour=rnd.choice(hops))
    probe = np.array([rnd.getrandbits(32) for _ in range(2000)], np.uint32)
    res = ent.lookup(probe, view=view_id)
    for i, a in enumerate(probe.tolist()):
        d = ent.search_best((a, 32), views=1 << view_id)
        if d is None:
            assert (res.length[i], res.prefix[i], res.next_hop[i], res.dest[i]) == (-1, 0, 0, 0)
            continue
        assert (int(res.prefix[i]), int(res.length[i])) == (d.dest_address.value,
                                                            d.dest_address.num_bits)
        assert int(res.dest[i]) == d.dest_handle
        assert int(res.next_hop[i]) == ent.get_route_info(d.best(view_id))[0].next_hops[0]


def test_per_call_methods_keep_their_signatures():
    # the per-call methods are plain method descriptors; help() and inspect
    # still see their parameters and docstrings
    import inspect
    from rtmcore import Entity
    sig = inspect.signature(Entity.add_route_to_dest)
    assert list(sig.parameters)[:3] == ["self", "dest", "route_info"]
    assert sig.parameters["neighbour"].kind is inspect.Parameter.KEYWORD_ONLY
    assert sig.parameters["change_flags"].default == 0
    for name in ("search_best", "search_exact", "get_exact_match_route", "delete_route_to_dest"):
        fn = getattr(Entity, name)
        assert "self" in inspect.signature(fn).parameters
        assert fn.__doc__ and not fn.__doc__.startswith(name)

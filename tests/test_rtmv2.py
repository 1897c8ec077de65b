"""The C-named layer :mod:`rtmcore.rtmv2`: status codes first, outputs after,
the three handle modes, capacity semantics, and the two add-route examples."""
import os
import pickle
import subprocess
import sys

import pytest

import rtmcore
from rtmcore import rtmv2
from rtmcore.rtmv2 import *  # noqa: F401,F403  (what a ported C program would do)
from rtmcore.rtmv2 import (NEW_HANDLE, DestInfo, EntityInfo, NextHopInfo, RegnProfile,
                           RouteInfo, RoutingTableManager)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
D8 = "10.0.0.0/8"


# ---------------------------------------------------------------------------
# fixtures and helpers
# ---------------------------------------------------------------------------
def register(rtm, protocol=PROTO_IP_RIP, instance=1, family=AF_INET, callback=None):
    status, profile, reg = RtmRegisterEntity(rtm, EntityInfo(rtm.instance_id, family, protocol,
                                                             instance), None, callback, False)
    assert status == NO_ERROR
    return reg


def nh_info(address="192.0.2.1", ifindex=1, **kw):
    return NextHopInfo(next_hop_address=RTM_IPV4_MAKE_NET_ADDRESS(address, 32),
                       interface_index=ifindex, **kw)


def add_nh(reg, address="192.0.2.1", ifindex=1):
    status, h, flags = RtmAddNextHop(reg, nh_info(address, ifindex), NEW_HANDLE)
    assert status == NO_ERROR
    return h


def add_route(reg, dest=D8, **fields):
    status, h, flags = RtmAddRouteToDest(reg, NEW_HANDLE, dest, RouteInfo(**fields), INFINITE,
                                         None, 0, None, 0)
    assert status == NO_ERROR, status
    return h


def records(rtm):
    """(destinations, routes, next hops, entities) allocated in the core."""
    return rtm.core.record_counts()


@pytest.fixture
def rtm():
    return RoutingTableManager()


@pytest.fixture
def rip(rtm):
    return register(rtm, PROTO_IP_RIP)


@pytest.fixture
def ospf(rtm):
    return register(rtm, PROTO_IP_OSPF)


@pytest.fixture
def nh(rip):
    return add_nh(rip)


# ---------------------------------------------------------------------------
# module surface
# ---------------------------------------------------------------------------
FUNCTIONS = [
    "RtmRegisterEntity", "RtmDeregisterEntity", "RtmGetRegisteredEntities", "RtmReleaseEntities",
    "RtmGetEntityInfo", "RtmReleaseEntityInfo", "RtmAddNextHop", "RtmFindNextHop",
    "RtmGetNextHopInfo", "RtmDeleteNextHop", "RtmReleaseNextHops", "RtmReleaseNextHopInfo",
    "RtmAddRouteToDest", "RtmDeleteRouteToDest", "RtmGetRouteInfo", "RtmReleaseRouteInfo",
    "RtmReleaseRoutes", "RtmGetDestInfo", "RtmReleaseDestInfo", "RtmReleaseDests",
    "RtmGetExactMatchDestination", "RtmGetMostSpecificDestination",
    "RtmGetLessSpecificDestination", "RtmGetExactMatchRoute", "RtmIsBestRoute",
    "RtmReferenceHandles",
    "RtmRegisterForChangeNotification", "RtmDeregisterFromChangeNotification",
    "RtmGetChangedDests", "RtmReleaseChangedDests", "RtmIgnoreChangedDests",
    "RtmGetChangeStatus", "RtmMarkDestForChangeNotification", "RtmIsMarkedForChangeNotification",
]


def test_every_function_is_exported():
    for name in FUNCTIONS:
        assert callable(getattr(rtmv2, name)), name
        assert name in rtmv2.__all__


def test_constants_macros_and_status_codes_are_reexported():
    assert rtmv2.RTM_ROUTE_CHANGE_BEST == 0x00010000
    assert rtmv2.RTM_VIEW_MASK_ALL == 0xFFFFFFFF
    assert rtmv2.PROTO_IP_RIP == 8 and rtmv2.PROTOCOL_ID is rtmcore.PROTOCOL_ID
    assert rtmv2.RTM_IPV4_MAKE_NET_ADDRESS is rtmcore.addr.RTM_IPV4_MAKE_NET_ADDRESS
    assert rtmv2.RTM_IPV4_LEN_FROM_MASK("255.255.255.0") == 24
    assert (rtmv2.NO_ERROR, rtmv2.ERROR_INVALID_HANDLE, rtmv2.ERROR_INSUFFICIENT_BUFFER,
            rtmv2.ERROR_NOT_FOUND) == (0, 6, 122, 1168)
    for name in rtmv2.__all__:
        assert hasattr(rtmv2, name), name


def test_new_handle_sentinel():
    assert repr(NEW_HANDLE) == "NEW_HANDLE"
    assert type(NEW_HANDLE)() is NEW_HANDLE
    assert pickle.loads(pickle.dumps(NEW_HANDLE)) is NEW_HANDLE


# ---------------------------------------------------------------------------
# registration
# ---------------------------------------------------------------------------
def test_register_entity_returns_status_profile_and_entity(rtm):
    status, profile, reg = RtmRegisterEntity(rtm, EntityInfo(0, AF_INET, PROTO_IP_RIP, 7),
                                             None, None, False)
    assert status == NO_ERROR
    assert isinstance(profile, RegnProfile)
    assert (profile.views_supported, profile.number_of_views) == (0x3, 2)
    assert profile.max_next_hops_in_route == rtm.core.max_nh
    assert isinstance(reg, rtmcore.Entity) and isinstance(reg.handle, int)
    assert reg.info == EntityInfo(0, AF_INET, PROTO_IP_RIP, 7)


def test_register_entity_errors_are_returned(rtm, rip):
    info = EntityInfo(0, AF_INET, PROTO_IP_RIP, 1)
    assert RtmRegisterEntity(rtm, info, None, None, False) == (ERROR_ALREADY_EXISTS, None, None)
    # same protocol, other protocol instance: fine (F2)
    assert RtmRegisterEntity(rtm, EntityInfo(0, AF_INET, PROTO_IP_RIP, 2))[0] == NO_ERROR
    # same identity in the other family: fine
    assert RtmRegisterEntity(rtm, EntityInfo(0, AF_INET6, PROTO_IP_RIP, 1))[0] == NO_ERROR
    # the entity info names another RTM instance than the manager's
    assert RtmRegisterEntity(rtm, EntityInfo(3, AF_INET, PROTO_IP_BGP, 1))[0] == \
        ERROR_INVALID_PARAMETER
    assert RtmRegisterEntity(rtm, None)[0] == ERROR_INVALID_PARAMETER
    assert RtmRegisterEntity(rtm, EntityInfo(0, 99, PROTO_IP_BGP, 1))[0] == \
        ERROR_INVALID_PARAMETER
    assert RtmRegisterEntity(rtm, EntityInfo(0, AF_INET, -1, 1))[0] == ERROR_INVALID_PARAMETER
    assert RtmRegisterEntity(None, info)[0] == ERROR_INVALID_PARAMETER
    assert RtmRegisterEntity(rtm, "not an entity info")[0] == ERROR_INVALID_PARAMETER


def test_register_entity_other_instance_id():
    rtm5 = RoutingTableManager(instance_id=5)
    status, _, reg = RtmRegisterEntity(rtm5, EntityInfo(5, AF_INET, PROTO_IP_RIP, 1))
    assert status == NO_ERROR and reg.info.rtm_instance_id == 5


def test_entity_events_reach_the_callback(rtm):
    events = []
    rip = register(rtm, PROTO_IP_RIP, callback=lambda *args: events.append(args))
    ospf = register(rtm, PROTO_IP_OSPF)
    assert events == [(rip.handle, RTM_ENTITY_REGISTERED, ospf.handle, ospf.info)]
    assert RtmDeregisterEntity(ospf) == NO_ERROR
    assert events[-1] == (rip.handle, RTM_ENTITY_DEREGISTERED, ospf.handle, ospf.info)


def test_deregister_entity(rtm, rip):
    handle = rip.handle
    assert RtmDeregisterEntity(handle) == NO_ERROR          # integer handle
    assert RtmDeregisterEntity(rip) == ERROR_INVALID_HANDLE  # and the object
    assert RtmDeregisterEntity(handle) == ERROR_INVALID_HANDLE
    assert RtmAddNextHop(rip, nh_info(), NEW_HANDLE)[0] == ERROR_INVALID_HANDLE
    assert RtmGetRegisteredEntities(handle, 5) == (ERROR_INVALID_HANDLE, None, None, None)


def test_deregister_entity_deletes_its_routes(rtm, rip, nh):
    assert RtmAddRouteToDest(rip, None, D8, RouteInfo(next_hops=[nh]))[0] == NO_ERROR
    assert rtm.counts(4) == (1, 1)
    assert RtmReleaseNextHops(rip, 1, [nh]) == NO_ERROR
    assert RtmDeregisterEntity(rip) == NO_ERROR
    assert rtm.counts(4) == (0, 0)


# ---------------------------------------------------------------------------
# registration handles: objects, integers, garbage
# ---------------------------------------------------------------------------
def test_integer_registration_handles(rtm, rip):
    assert RtmGetEntityInfo(rip.handle, rip.handle) == (NO_ERROR, rip.info)
    # an entity registered through the Pythonic API of a manager rtmv2 has seen
    bgp = rtm.register_entity(PROTO_IP_BGP)
    assert RtmGetEntityInfo(bgp.handle, rip.handle) == (NO_ERROR, rip.info)
    # the Entity object is accepted as an entity handle too
    assert RtmGetEntityInfo(rip, bgp) == (NO_ERROR, bgp.info)


def test_integer_handle_of_an_unseen_manager_is_resolved_once_its_entity_was_used():
    other = RoutingTableManager()
    ent = other.register_entity(PROTO_IP_RIP)
    assert RtmGetEntityInfo(ent, ent.handle)[0] == NO_ERROR   # object: always works
    assert RtmGetEntityInfo(ent.handle, ent.handle)[0] == NO_ERROR


def test_integer_handle_works_after_its_entity_object_is_dropped():
    """A program that keeps only the integer registration handle (and the
    manager) reaches its registration on every call."""
    import gc
    m = RoutingTableManager()
    status, _profile, reg = RtmRegisterEntity(m, EntityInfo(0, AF_INET, PROTO_IP_RIP, 3))
    h = reg.handle
    del reg
    gc.collect()
    for _ in range(3):
        status, info = RtmGetEntityInfo(h, h)
        assert (status, info.entity_instance_id) == (NO_ERROR, 3)
    assert RtmDeregisterEntity(h) == NO_ERROR
    assert RtmGetEntityInfo(h, h) == (ERROR_INVALID_HANDLE, None)


@pytest.mark.parametrize("bad", [None, 0, 12345, -1, 1 << 64, "reg", 1.5, True, object(),
                                 0x1001000000000001 + (1 << 32)])
def test_garbage_registration_handles_give_invalid_handle(rip, bad):
    assert RtmGetEntityInfo(bad, rip.handle) == (ERROR_INVALID_HANDLE, None)
    assert RtmDeregisterEntity(bad) == ERROR_INVALID_HANDLE
    assert RtmReleaseRoutes(bad, 0, None) == ERROR_INVALID_HANDLE


def test_handles_of_another_manager_are_refused(rip, nh):
    other = RoutingTableManager()
    stranger = register(other)
    assert RtmGetNextHopInfo(stranger, nh) == (ERROR_INVALID_HANDLE, None)
    assert RtmGetEntityInfo(stranger, rip.handle) == (ERROR_INVALID_HANDLE, None)


# every function, called with a dead registration handle, returns a status
CALLS = {
    "RtmDeregisterEntity": (),
    "RtmGetRegisteredEntities": (4,),
    "RtmReleaseEntities": (0, None),
    "RtmGetEntityInfo": (1,),
    "RtmReleaseEntityInfo": (EntityInfo(0, AF_INET, 1, 1),),
    "RtmAddNextHop": (NextHopInfo(), NEW_HANDLE),
    "RtmFindNextHop": (NextHopInfo(),),
    "RtmGetNextHopInfo": (1,),
    "RtmDeleteNextHop": (1, None),
    "RtmReleaseNextHops": (0, None),
    "RtmReleaseNextHopInfo": (NextHopInfo(),),
    "RtmAddRouteToDest": (NEW_HANDLE, D8, RouteInfo()),
    "RtmDeleteRouteToDest": (1,),
    "RtmGetRouteInfo": (1,),
    "RtmReleaseRouteInfo": (RouteInfo(),),
    "RtmReleaseRoutes": (0, None),
    "RtmGetDestInfo": (1,),
    "RtmReleaseDestInfo": (None,),
    "RtmReleaseDests": (0, None),
    "RtmGetExactMatchDestination": (D8,),
    "RtmGetMostSpecificDestination": (D8,),
    "RtmGetLessSpecificDestination": (1,),
    "RtmGetExactMatchRoute": (D8, RTM_MATCH_NONE, None),
    "RtmIsBestRoute": (1,),
    "RtmReferenceHandles": (0, None),
    "RtmRegisterForChangeNotification": (RTM_VIEW_MASK_ALL, RTM_CHANGE_TYPE_ALL, None),
    "RtmDeregisterFromChangeNotification": (1,),
    "RtmGetChangedDests": (1, 1),
    "RtmReleaseChangedDests": (1, 0, None),
    "RtmIgnoreChangedDests": (1, 0, None),
    "RtmGetChangeStatus": (1, 1),
    "RtmMarkDestForChangeNotification": (1, 1, True),
    "RtmIsMarkedForChangeNotification": (1, 1),
}


def test_calls_table_covers_every_function():
    assert set(CALLS) == set(FUNCTIONS) - {"RtmRegisterEntity"}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_dead_registration_handle_is_a_status_not_an_exception(rtm, name):
    reg = register(rtm)
    assert RtmDeregisterEntity(reg) == NO_ERROR
    result = getattr(rtmv2, name)(reg, *CALLS[name])
    status = result[0] if isinstance(result, tuple) else result
    assert status == ERROR_INVALID_HANDLE


# ---------------------------------------------------------------------------
# entities
# ---------------------------------------------------------------------------
def test_get_registered_entities_capacity_semantics(rtm, rip, ospf):
    register(rtm, PROTO_IP_BGP, family=AF_INET6)            # other family: not listed
    # the counting call
    assert RtmGetRegisteredEntities(rip, 0) == (ERROR_INSUFFICIENT_BUFFER, 2, [], [])
    # too small: what fits, the total, ERROR_INSUFFICIENT_BUFFER
    status, total, handles, infos = RtmGetRegisteredEntities(rip, 1)
    assert (status, total) == (ERROR_INSUFFICIENT_BUFFER, 2)
    assert handles == [rip.handle] and infos == [rip.info]
    assert RtmReleaseEntities(rip, 1, handles) == NO_ERROR
    # the entity that did not fit holds no reference
    assert RtmReleaseEntities(rip, 1, [ospf.handle]) == ERROR_INVALID_HANDLE
    # large enough
    status, total, handles, infos = RtmGetRegisteredEntities(rip, 2)
    assert (status, total) == (NO_ERROR, 2)
    assert handles == [rip.handle, ospf.handle] and infos == [rip.info, ospf.info]
    assert RtmReleaseEntities(rip, total, handles) == NO_ERROR
    assert RtmReleaseEntities(rip, total, handles) == ERROR_INVALID_HANDLE
    assert RtmGetRegisteredEntities(rip, 100)[:2] == (NO_ERROR, 2)


def test_get_registered_entities_bad_capacity(rip):
    assert RtmGetRegisteredEntities(rip, -1) == (ERROR_INVALID_PARAMETER, None, None, None)
    assert RtmGetRegisteredEntities(rip, "4")[0] == ERROR_INVALID_PARAMETER


def test_release_entities_count_rules(rip, ospf):
    _, n, handles, _ = RtmGetRegisteredEntities(rip, 10)
    assert RtmReleaseEntities(rip, 0, handles) == NO_ERROR          # U45: no effect
    assert RtmReleaseEntities(rip, 0, None) == NO_ERROR
    assert RtmReleaseEntities(rip, 3, handles) == ERROR_INVALID_PARAMETER
    assert RtmReleaseEntities(rip, -1, handles) == ERROR_INVALID_PARAMETER
    assert RtmReleaseEntities(rip, 1, ["x"]) == ERROR_INVALID_HANDLE
    assert RtmReleaseEntities(rip, 1, handles) == NO_ERROR            # the first only
    assert RtmReleaseEntities(rip, 1, handles[1:]) == NO_ERROR
    assert RtmReleaseEntities(rip, 1, handles[1:]) == ERROR_INVALID_HANDLE


def test_entity_info(rip, ospf):
    status, info = RtmGetEntityInfo(rip, ospf.handle)
    assert status == NO_ERROR and info == ospf.info
    assert info.entity_protocol_id == PROTO_IP_OSPF and info.address_family == AF_INET
    assert RtmReleaseEntityInfo(rip, info) == NO_ERROR
    assert RtmGetEntityInfo(rip, 0x1001000000000999) == (ERROR_INVALID_HANDLE, None)
    assert RtmGetEntityInfo(rip, "x") == (ERROR_INVALID_HANDLE, None)
    assert RtmReleaseEntityInfo(rip, "not an info") != NO_ERROR


# ---------------------------------------------------------------------------
# next hops
# ---------------------------------------------------------------------------
def test_add_next_hop_pointer_to_null_mode(rip):
    status, h, flags = RtmAddNextHop(rip, nh_info(), NEW_HANDLE)
    assert (status, flags) == (NO_ERROR, RTM_NEXTHOP_CHANGE_NEW) and h
    # same key again: found and updated, another referenced handle
    status, h2, flags = RtmAddNextHop(rip, nh_info(flags=RTM_NEXTHOP_FLAGS_REMOTE), 0)
    assert (status, h2, flags) == (NO_ERROR, h, 0)
    assert RtmGetNextHopInfo(rip, h)[1].flags == RTM_NEXTHOP_FLAGS_REMOTE
    assert RtmReleaseNextHops(rip, 2, [h, h]) == NO_ERROR


def test_add_next_hop_null_pointer_mode(rip):
    assert RtmAddNextHop(rip, nh_info(), None) == (NO_ERROR, None, RTM_NEXTHOP_CHANGE_NEW)
    assert RtmAddNextHop(rip, nh_info(), None) == (NO_ERROR, None, 0)
    status, h = RtmFindNextHop(rip, nh_info())
    assert status == NO_ERROR and h


def test_add_next_hop_update_by_handle(rip, nh):
    status, h, flags = RtmAddNextHop(rip, nh_info(entity_specific_info=42), nh)
    assert (status, h, flags) == (NO_ERROR, nh, 0)
    status, info = RtmGetNextHopInfo(rip, nh)
    assert info.entity_specific_info == 42
    assert RtmReleaseNextHopInfo(rip, info) == NO_ERROR
    # only the one reference of the fixture: the update took none
    assert RtmReleaseNextHops(rip, 1, [nh]) == NO_ERROR
    assert RtmReleaseNextHops(rip, 1, [nh]) == ERROR_INVALID_HANDLE


def test_add_next_hop_errors(rip, ospf, nh):
    # another entity's next hop: ACCESS_DENIED, the in/out handle comes back unchanged
    assert RtmAddNextHop(ospf, nh_info(), nh) == (ERROR_ACCESS_DENIED, nh, None)
    assert RtmAddNextHop(rip, nh_info(), 0x4001000000000999) == \
        (ERROR_INVALID_HANDLE, 0x4001000000000999, None)
    assert RtmAddNextHop(rip, nh_info(), "x") == (ERROR_INVALID_HANDLE, "x", None)
    assert RtmAddNextHop(rip, None, NEW_HANDLE) == (ERROR_INVALID_PARAMETER, 0, None)
    assert RtmAddNextHop(rip, nh_info(ifindex=-1), NEW_HANDLE)[0] == ERROR_INVALID_PARAMETER
    v6 = NextHopInfo(RTM_IPV6_MAKE_NET_ADDRESS("2001:db8::1", 128), 1)
    assert RtmAddNextHop(rip, v6, None)[0] == ERROR_INVALID_PARAMETER


def test_next_hop_tables_are_per_owner(rip, ospf, nh):
    status, h, flags = RtmAddNextHop(ospf, nh_info(), NEW_HANDLE)
    assert status == NO_ERROR and flags == RTM_NEXTHOP_CHANGE_NEW and h != nh


def test_find_next_hop(rip, ospf, nh):
    status, h = RtmFindNextHop(rip, nh_info())
    assert (status, h) == (NO_ERROR, nh)
    assert RtmReleaseNextHops(rip, 1, [h]) == NO_ERROR                # it was referenced
    assert RtmFindNextHop(rip, nh_info(ifindex=2)) == (ERROR_NOT_FOUND, None)
    assert RtmFindNextHop(ospf, nh_info()) == (ERROR_NOT_FOUND, None)
    assert RtmFindNextHop(rip, None) == (ERROR_INVALID_PARAMETER, None)


def test_get_and_release_next_hop_info(rip, nh):
    status, info = RtmGetNextHopInfo(rip, nh)
    assert status == NO_ERROR
    assert str(info.next_hop_address) == "192.0.2.1/32"
    assert (info.interface_index, info.next_hop_owner, info.state) == \
        (1, rip.handle, RTM_NEXTHOP_STATE_CREATED)
    assert RtmReleaseNextHopInfo(rip, info) == NO_ERROR
    assert RtmReleaseNextHopInfo(rip, info) != NO_ERROR               # released already
    assert RtmGetNextHopInfo(rip, 0) == (ERROR_INVALID_HANDLE, None)


def test_delete_next_hop_by_handle_consumes_it(rip, nh):
    assert RtmDeleteNextHop(rip, nh, None) == NO_ERROR
    assert RtmReleaseNextHops(rip, 1, [nh]) == ERROR_INVALID_HANDLE
    assert RtmFindNextHop(rip, nh_info()) == (ERROR_NOT_FOUND, None)


def test_delete_next_hop_by_info(rtm, rip):
    assert RtmAddNextHop(rip, nh_info(), None)[0] == NO_ERROR
    assert RtmDeleteNextHop(rip, None, nh_info()) == NO_ERROR
    assert RtmDeleteNextHop(rip, 0, nh_info()) == ERROR_NOT_FOUND
    assert RtmDeleteNextHop(rip, None, None) == ERROR_INVALID_PARAMETER
    assert records(rtm)[2] == 0


def test_delete_next_hop_of_another_entity(rip, ospf, nh):
    assert RtmDeleteNextHop(ospf, nh, None) == ERROR_ACCESS_DENIED
    assert RtmDeleteNextHop(rip, nh, None) == NO_ERROR


def test_release_next_hops_count_rules(rip, nh):
    assert RtmReleaseNextHops(rip, 0, [nh]) == NO_ERROR
    assert RtmReleaseNextHops(rip, 2, [nh]) == ERROR_INVALID_PARAMETER
    assert RtmReleaseNextHops(rip, 1, [nh]) == NO_ERROR
    assert RtmReleaseNextHops(rip, 1, [nh]) == ERROR_INVALID_HANDLE


# ---------------------------------------------------------------------------
# routes
# ---------------------------------------------------------------------------
def test_add_route_pointer_to_null_mode(rtm, rip, nh):
    dest = RTM_IPV4_MAKE_NET_ADDRESS("10.0.0.0", 8)
    ri = RouteInfo(neighbour=nh, next_hops=[nh], metric=5)
    status, route, flags = RtmAddRouteToDest(rip, NEW_HANDLE, dest, ri, INFINITE, None, 0,
                                             None, 0)
    assert status == NO_ERROR and route
    assert flags == RTM_ROUTE_CHANGE_NEW | RTM_ROUTE_CHANGE_BEST
    assert rtm.counts(4) == (1, 1)
    # same (dest, owner, neighbour): updated, another reference to the same route
    ri.metric = 6
    status, again, flags = RtmAddRouteToDest(rip, 0, dest, ri, INFINITE, None, 0, None, 0)
    assert (status, again, flags) == (NO_ERROR, route, RTM_ROUTE_CHANGE_BEST)
    assert rtm.counts(4) == (1, 1)
    assert RtmReleaseRoutes(rip, 2, [route, again]) == NO_ERROR
    assert RtmReleaseRoutes(rip, 1, [route]) == ERROR_INVALID_HANDLE


def test_add_route_null_pointer_mode(rtm, rip, nh):
    ri = RouteInfo(next_hops=[nh], metric=5)
    assert RtmAddRouteToDest(rip, None, D8, ri) == \
        (NO_ERROR, None, RTM_ROUTE_CHANGE_NEW | RTM_ROUTE_CHANGE_BEST)
    ri.metric = 5
    assert RtmAddRouteToDest(rip, None, D8, ri) == (NO_ERROR, None, 0)   # nothing changed
    assert rtm.counts(4) == (1, 1)


def test_add_route_update_through_handle(rtm, rip, nh):
    route = add_route(rip, next_hops=[nh], metric=5)
    ri = RouteInfo(next_hops=[nh], metric=1, flags=RTM_ROUTE_FLAGS_LOCAL)
    status, h, flags = RtmAddRouteToDest(rip, route, D8, ri, INFINITE, None, 0, None,
                                         RTM_ROUTE_CHANGE_NEW)   # ignored with a handle (U44)
    assert (status, h, flags) == (NO_ERROR, route, RTM_ROUTE_CHANGE_BEST)
    assert rtm.counts(4) == (1, 1)
    status, info, _ = RtmGetRouteInfo(rip, route, True, None)
    assert (info.metric, info.flags) == (1, RTM_ROUTE_FLAGS_LOCAL)
    assert RtmReleaseRouteInfo(rip, info) == NO_ERROR
    assert RtmReleaseRoutes(rip, 1, [route]) == NO_ERROR              # one reference only
    assert RtmReleaseRoutes(rip, 1, [route]) == ERROR_INVALID_HANDLE


def test_add_route_identity_flags(rtm, rip, nh):
    nh2 = add_nh(rip, "192.0.2.2")
    r1 = add_route(rip, neighbour=nh, metric=5)
    # CHANGE_NEW: a second route with the same identity
    status, r2, flags = RtmAddRouteToDest(rip, NEW_HANDLE, D8, RouteInfo(neighbour=nh, metric=3),
                                          INFINITE, None, 0, None, RTM_ROUTE_CHANGE_NEW)
    assert status == NO_ERROR and r2 != r1
    assert flags == RTM_ROUTE_CHANGE_NEW | RTM_ROUTE_CHANGE_BEST
    assert rtm.counts(4) == (1, 2)
    # CHANGE_FIRST: the caller's highest-ranked route, whatever its neighbour
    status, r3, flags = RtmAddRouteToDest(rip, NEW_HANDLE, D8, RouteInfo(neighbour=nh2, metric=1),
                                          INFINITE, None, 0, None, RTM_ROUTE_CHANGE_FIRST)
    assert (status, r3) == (NO_ERROR, r2) and not flags & RTM_ROUTE_CHANGE_NEW
    assert rtm.counts(4) == (1, 2)


def test_add_route_errors_are_returned(rip, ospf, nh):
    ospf_nh = add_nh(ospf)
    route = add_route(rip, next_hops=[nh])

    def add(handle=NEW_HANDLE, dest=D8, ri=None, ttl=INFINITE, lst=None, nt=0, nth=None, cf=0):
        return RtmAddRouteToDest(rip, handle, dest, RouteInfo() if ri is None else ri, ttl, lst,
                                 nt, nth, cf)

    # failures: the in/out handle and change flags come back as passed
    assert RtmAddRouteToDest(ospf, route, D8, RouteInfo()) == (ERROR_ACCESS_DENIED, route, 0)
    assert add(0x3001000000000999) == (ERROR_INVALID_HANDLE, 0x3001000000000999, 0)
    assert add([1]) == (ERROR_INVALID_HANDLE, [1], 0)
    assert add(NEW_HANDLE, cf=7) == (ERROR_INVALID_PARAMETER, 0, 7)      # bad input flags
    assert add(None, cf=-1) == (ERROR_INVALID_PARAMETER, None, -1)
    assert add(route, dest="10.1.0.0/16") == (ERROR_INVALID_PARAMETER, route, 0)   # U44
    assert add(dest="10.0.0.1/8")[0] == ERROR_INVALID_PARAMETER              # host bits (U5)
    assert add(dest=None)[0] == ERROR_INVALID_PARAMETER
    assert RtmAddRouteToDest(rip, NEW_HANDLE, D8, None)[0] == ERROR_INVALID_PARAMETER
    assert add(nt=RTM_CHANGE_TYPE_ALL)[0] == ERROR_INVALID_PARAMETER          # reserved (U43)
    assert add(nth=5)[0] == ERROR_INVALID_PARAMETER
    assert add(ri=RouteInfo(next_hops=[ospf_nh]))[0] == ERROR_ACCESS_DENIED   # U31
    assert add(ri=RouteInfo(neighbour=ospf_nh))[0] == ERROR_ACCESS_DENIED
    assert add(ri=RouteInfo(next_hops=[nh, nh]))[0] == ERROR_INVALID_PARAMETER
    assert add(ri=RouteInfo(next_hops=[0x4001000000000999]))[0] == ERROR_INVALID_HANDLE
    assert add(ri=RouteInfo(belongs_to_views=0x4))[0] == ERROR_NOT_SUPPORTED  # U10
    assert add(ttl=-1)[0] == ERROR_INVALID_PARAMETER                          # not a ULONG
    assert add(ttl=1 << 32)[0] == ERROR_INVALID_PARAMETER


def test_add_route_aging_and_lists_give_a_status(rip):
    # route aging and route lists may be missing from the build: a status either way
    for ttl, lst in ((1000, None), (INFINITE, 0x7001000000000001)):
        status, h, flags = RtmAddRouteToDest(rip, None, D8, RouteInfo(), ttl, lst, 0, None, 0)
        assert status in (NO_ERROR, ERROR_NOT_SUPPORTED, ERROR_INVALID_HANDLE)
    assert RtmAddRouteToDest(rip, None, D8, RouteInfo(), "soon")[0] == ERROR_INVALID_PARAMETER


def test_add_route_too_many_next_hops():
    rtm = RoutingTableManager(max_next_hops_in_route=2)
    reg = register(rtm)
    hops = [add_nh(reg, f"192.0.2.{i}") for i in range(1, 4)]
    assert RtmAddRouteToDest(reg, None, D8, RouteInfo(next_hops=hops[:2]))[0] == NO_ERROR
    assert RtmAddRouteToDest(reg, None, D8, RouteInfo(next_hops=hops))[0] == \
        ERROR_INVALID_PARAMETER


def test_add_route_ipv6(rtm):
    reg = register(rtm, family=AF_INET6)
    status, nh, _ = RtmAddNextHop(reg, NextHopInfo(RTM_IPV6_MAKE_NET_ADDRESS("2001:db8::1", 128),
                                                   1), NEW_HANDLE)
    assert status == NO_ERROR
    dest = RTM_IPV6_SET_ADDR_AND_LEN("2001:db8::", 32)
    status, route, flags = RtmAddRouteToDest(reg, NEW_HANDLE, dest, RouteInfo(next_hops=[nh]))
    assert status == NO_ERROR and flags & RTM_ROUTE_CHANGE_NEW
    assert RtmGetRouteInfo(reg, route, None, True)[2] == dest
    # an IPv4 destination in an IPv6 table
    assert RtmAddRouteToDest(reg, None, RTM_IPV4_MAKE_NET_ADDRESS("10.0.0.0", 8),
                             RouteInfo())[0] == ERROR_INVALID_PARAMETER


def test_delete_route(rtm, rip, ospf, nh):
    r_rip = add_route(rip, next_hops=[nh], metric=1)
    r_ospf = add_route(ospf, metric=9)
    assert RtmDeleteRouteToDest(ospf, r_rip) == (ERROR_ACCESS_DENIED, None)
    assert RtmReferenceHandles(rip, 1, [r_rip]) == NO_ERROR
    # the best route goes: BEST; the passed handle is consumed
    assert RtmDeleteRouteToDest(rip, r_rip) == (NO_ERROR, RTM_ROUTE_CHANGE_BEST)
    assert RtmIsBestRoute(ospf, r_ospf) == (NO_ERROR, RTM_VIEW_MASK_UCAST)
    # still referenced once (RtmReferenceHandles): readable, DELETED, not deletable
    status, info, addr = RtmGetRouteInfo(rip, r_rip)
    assert status == NO_ERROR and info.state == RTM_ROUTE_STATE_DELETED and str(addr) == D8
    assert RtmReleaseRouteInfo(rip, info) == NO_ERROR
    assert RtmDeleteRouteToDest(rip, r_rip) == (ERROR_NOT_FOUND, None)
    assert RtmReleaseRoutes(rip, 1, [r_rip]) == NO_ERROR
    assert RtmDeleteRouteToDest(rip, r_rip) == (ERROR_INVALID_HANDLE, None)
    assert RtmDeleteRouteToDest(rip, "x") == (ERROR_INVALID_HANDLE, None)
    # a route that was not the best: no BEST flag
    r2 = add_route(rip, "10.0.0.0/8", neighbour=nh, metric=50)
    assert RtmDeleteRouteToDest(rip, r2) == (NO_ERROR, 0)


def test_get_route_info_optional_outputs(rtm, rip, nh):
    route = add_route(rip, neighbour=nh, next_hops=[nh], metric=4, preference=2,
                      entity_specific_info=77)
    status, info, addr = RtmGetRouteInfo(rip, route, True, True)
    assert status == NO_ERROR
    assert (info.route_owner, info.neighbour, info.next_hops) == (rip.handle, nh, (nh,))
    assert (info.metric, info.preference, info.entity_specific_info) == (4, 2, 77)
    assert info.state == RTM_ROUTE_STATE_CREATED and info.belongs_to_views == RTM_VIEW_MASK_UCAST
    assert addr == RTM_IPV4_MAKE_NET_ADDRESS("10.0.0.0", 8)
    assert RtmReleaseRouteInfo(rip, info) == NO_ERROR
    assert RtmReleaseRouteInfo(rip, info) != NO_ERROR                 # released already
    status, info, addr = RtmGetRouteInfo(rip, route, None, True)    # NULL route info
    assert status == NO_ERROR and info is None and str(addr) == D8
    status, info, addr = RtmGetRouteInfo(rip, route, True, None)    # NULL address
    assert status == NO_ERROR and addr is None and info.metric == 4
    assert RtmReleaseRouteInfo(rip, info) == NO_ERROR
    assert RtmGetRouteInfo(rip, 0x3001000000000999) == (ERROR_INVALID_HANDLE, None, None)
    # nothing leaked: after releasing everything and deregistering, no record is left
    assert RtmReleaseRoutes(rip, 1, [route]) == NO_ERROR
    assert RtmReleaseNextHops(rip, 1, [nh]) == NO_ERROR
    assert RtmDeregisterEntity(rip) == NO_ERROR
    assert records(rtm) == (0, 0, 0, 0)


def test_release_route_info_rejects_foreign_objects(rip):
    assert RtmReleaseRouteInfo(rip, RouteInfo()) != NO_ERROR
    assert RtmReleaseRouteInfo(rip, None) != NO_ERROR


def test_release_routes_count_rules(rip):
    route = add_route(rip)
    assert RtmReleaseRoutes(rip, 0, [route]) == NO_ERROR
    assert RtmReleaseRoutes(rip, 0, None) == NO_ERROR
    assert RtmReleaseRoutes(rip, 2, [route]) == ERROR_INVALID_PARAMETER
    assert RtmReleaseRoutes(rip, "1", [route]) == ERROR_INVALID_PARAMETER
    assert RtmReleaseRoutes(rip, 1, [route + 1]) == ERROR_INVALID_HANDLE
    assert RtmReleaseRoutes(rip, 1, (route,)) == NO_ERROR


def test_is_best_route(rip, ospf):
    worse = add_route(rip, metric=5)
    better = add_route(ospf, metric=1, belongs_to_views=RTM_VIEW_MASK_UCAST | RTM_VIEW_MASK_MCAST)
    assert RtmIsBestRoute(rip, worse) == (NO_ERROR, 0)
    assert RtmIsBestRoute(rip, better) == (NO_ERROR, RTM_VIEW_MASK_UCAST | RTM_VIEW_MASK_MCAST)
    assert RtmIsBestRoute(rip, 0) == (ERROR_INVALID_HANDLE, None)


def test_get_exact_match_route(rip, ospf, nh):
    add_route(rip, neighbour=nh, next_hops=[nh], metric=5)
    r_ospf = add_route(ospf, metric=1)
    # RTM_MATCH_NONE: the best-ranked route; a referenced handle by default
    status, info, h = RtmGetExactMatchRoute(rip, D8, RTM_MATCH_NONE, None)
    assert (status, h, info.route_owner) == (NO_ERROR, r_ospf, ospf.handle)
    assert RtmReleaseRouteInfo(rip, info) == NO_ERROR
    assert RtmReleaseRoutes(rip, 1, [h]) == NO_ERROR
    # criteria; NULL route handle
    status, info, h = RtmGetExactMatchRoute(rip, D8, RTM_MATCH_OWNER,
                                            RouteInfo(route_owner=rip.handle), 0,
                                            RTM_VIEW_MASK_ALL, None)
    assert (status, h, info.metric) == (NO_ERROR, None, 5)
    assert RtmReleaseRouteInfo(rip, info) == NO_ERROR
    status, info, h = RtmGetExactMatchRoute(rip, D8, RTM_MATCH_NEIGHBOUR | RTM_MATCH_PREF,
                                            RouteInfo(neighbour=nh, metric=5))
    assert status == NO_ERROR and info.route_owner == rip.handle
    assert RtmReleaseRouteInfo(rip, info) == NO_ERROR and RtmReleaseRoutes(rip, 1, [h]) == 0
    status, info, h = RtmGetExactMatchRoute(rip, D8, RTM_MATCH_INTERFACE, None, 1)
    assert status == NO_ERROR and info.neighbour == nh
    assert RtmReleaseRouteInfo(rip, info) == NO_ERROR and RtmReleaseRoutes(rip, 1, [h]) == 0
    # no match: the in/out route info comes back as passed
    crit = RouteInfo(metric=99)
    assert RtmGetExactMatchRoute(rip, D8, RTM_MATCH_PREF, crit) == (ERROR_NOT_FOUND, crit, None)
    assert RtmGetExactMatchRoute(rip, "11.0.0.0/8", RTM_MATCH_NONE, None) == \
        (ERROR_NOT_FOUND, None, None)
    assert RtmGetExactMatchRoute(rip, D8, RTM_MATCH_OWNER, None)[0] == ERROR_INVALID_PARAMETER
    assert RtmGetExactMatchRoute(rip, None, RTM_MATCH_NONE, None)[0] == ERROR_INVALID_PARAMETER


# ---------------------------------------------------------------------------
# destinations
# ---------------------------------------------------------------------------
def test_get_and_release_dest_info(rip, ospf):
    r_rip = add_route(rip, metric=1)
    add_route(ospf, metric=2, belongs_to_views=RTM_VIEW_MASK_UCAST | RTM_VIEW_MASK_MCAST)
    status, found = RtmGetExactMatchDestination(rip, D8, RTM_BEST_PROTOCOL, RTM_VIEW_MASK_ANY)
    assert status == NO_ERROR and isinstance(found, DestInfo)
    assert found.view_info == [] and found.belongs_to_views == 0x3           # mask 0: no views
    status, info = RtmGetDestInfo(rip, found.dest_handle, RTM_BEST_PROTOCOL, RTM_VIEW_MASK_ALL)
    assert status == NO_ERROR and str(info.dest_address) == D8
    assert [v.view_id for v in info.view_info] == [RTM_VIEW_ID_UCAST, RTM_VIEW_ID_MCAST]
    ucast, mcast = info.view_info
    assert (ucast.num_routes, ucast.route, ucast.owner) == (2, r_rip, rip.handle)
    assert (mcast.num_routes, mcast.owner) == (1, ospf.handle)
    # protocol filter: the best OSPF route in unicast
    status, only_ospf = RtmGetDestInfo(rip, found.dest_handle, PROTO_IP_OSPF,
                                       RTM_VIEW_MASK_UCAST)
    assert status == NO_ERROR and only_ospf.view_info[0].owner == ospf.handle
    assert RtmGetDestInfo(rip, found.dest_handle, RTM_BEST_PROTOCOL, 0x4) == \
        (ERROR_NOT_SUPPORTED, None)
    assert RtmGetDestInfo(rip, r_rip) == (ERROR_INVALID_HANDLE, None)          # wrong kind
    for d in (found, info, only_ospf):
        assert RtmReleaseDestInfo(rip, d) == NO_ERROR
    assert RtmReleaseDestInfo(rip, info) != NO_ERROR                          # released already


def test_most_and_less_specific_walk(rip):
    for prefix in ("0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16"):
        add_route(rip, prefix)
    status, d16 = RtmGetMostSpecificDestination(rip, RTM_IPV4_MAKE_NET_ADDRESS("10.1.2.3", 32))
    assert status == NO_ERROR and str(d16.dest_address) == "10.1.0.0/16"
    status, d8 = RtmGetLessSpecificDestination(rip, d16.dest_handle)
    assert status == NO_ERROR and str(d8.dest_address) == D8
    status, d0 = RtmGetLessSpecificDestination(rip, d8.dest_handle)
    assert status == NO_ERROR and str(d0.dest_address) == "0.0.0.0/0"
    assert RtmGetLessSpecificDestination(rip, d0.dest_handle) == (ERROR_NOT_FOUND, None)
    assert RtmGetLessSpecificDestination(rip, "x") == (ERROR_INVALID_HANDLE, None)
    assert RtmReleaseDests(rip, 3, [d16, d8, d0]) == NO_ERROR
    assert RtmGetMostSpecificDestination(rip, "11.0.0.0/8")[0] == NO_ERROR   # 0/0 covers it


def test_destination_queries_not_found_and_views(rip):
    add_route(rip, "10.1.0.0/16", belongs_to_views=RTM_VIEW_MASK_MCAST)
    assert RtmGetExactMatchDestination(rip, "10.2.0.0/16") == (ERROR_NOT_FOUND, None)
    assert RtmGetMostSpecificDestination(rip, "11.1.1.1") == (ERROR_NOT_FOUND, None)
    # U33: a unicast query never lands on a multicast-only destination
    assert RtmGetExactMatchDestination(rip, "10.1.0.0/16", RTM_BEST_PROTOCOL,
                                       RTM_VIEW_MASK_UCAST) == (ERROR_NOT_FOUND, None)
    status, d = RtmGetExactMatchDestination(rip, "10.1.0.0/16", RTM_BEST_PROTOCOL,
                                            RTM_VIEW_MASK_MCAST)
    assert status == NO_ERROR and RtmReleaseDestInfo(rip, d) == NO_ERROR
    assert RtmGetExactMatchDestination(rip, "10.1.0.1/16")[0] == ERROR_INVALID_PARAMETER
    assert RtmGetExactMatchDestination(rip, None)[0] == ERROR_INVALID_PARAMETER
    assert RtmGetMostSpecificDestination(rip, None)[0] == ERROR_INVALID_PARAMETER


def test_release_dests_checks_the_batch_first(rtm, rip):
    for prefix in ("10.0.0.0/8", "10.1.0.0/16"):
        assert RtmAddRouteToDest(rip, None, prefix, RouteInfo())[0] == NO_ERROR
    _, a = RtmGetExactMatchDestination(rip, "10.0.0.0/8")
    _, b = RtmGetExactMatchDestination(rip, "10.1.0.0/16")
    assert RtmReleaseDests(rip, 0, [a, b]) == NO_ERROR
    assert RtmReleaseDests(rip, 0, None) == NO_ERROR
    assert RtmReleaseDests(rip, 3, [a, b]) == ERROR_INVALID_PARAMETER
    assert RtmReleaseDests(rip, 2, [a, a]) == ERROR_INVALID_PARAMETER
    assert RtmReleaseDests(rip, 2, [a, "junk"]) != NO_ERROR
    assert RtmReleaseDests(rip, 1, [a]) == NO_ERROR      # a was left alone by the failures
    assert RtmReleaseDests(rip, 2, [b, a]) != NO_ERROR   # a released already
    assert RtmReleaseDests(rip, 1, [b]) == NO_ERROR
    assert RtmDeregisterEntity(rip) == NO_ERROR
    assert records(rtm) == (0, 0, 0, 0)


# ---------------------------------------------------------------------------
# handles
# ---------------------------------------------------------------------------
def test_reference_handles_any_kind(rip, ospf, nh):
    route = add_route(rip, next_hops=[nh])
    _, d = RtmGetExactMatchDestination(rip, D8)
    assert RtmReferenceHandles(rip, 4, [route, nh, d.dest_handle, ospf.handle]) == NO_ERROR
    assert RtmReleaseRoutes(rip, 2, [route, route]) == NO_ERROR
    assert RtmReleaseNextHops(rip, 2, [nh, nh]) == NO_ERROR
    assert RtmReleaseEntities(rip, 1, [ospf.handle]) == NO_ERROR
    assert RtmReleaseEntities(rip, 1, [ospf.handle]) == ERROR_INVALID_HANDLE
    assert RtmReleaseDestInfo(rip, d) == NO_ERROR
    assert RtmReferenceHandles(rip, 0, None) == NO_ERROR
    assert RtmReferenceHandles(rip, 1, [0x3001000000000999]) == ERROR_INVALID_HANDLE
    assert RtmReferenceHandles(rip, 1, [None]) == ERROR_INVALID_HANDLE
    assert RtmReferenceHandles(rip, 2, [route]) == ERROR_INVALID_PARAMETER


def test_full_cycle_leaves_nothing_behind(rtm):
    a = register(rtm, PROTO_IP_RIP)
    b = register(rtm, PROTO_IP_OSPF)
    nh_a = add_nh(a)
    routes = [add_route(a, f"10.{i}.0.0/16", neighbour=nh_a, next_hops=[nh_a], metric=i)
              for i in range(5)]
    _, n, ents, _ = RtmGetRegisteredEntities(b, 10)
    _, info, _ = RtmGetRouteInfo(b, routes[0])
    assert RtmReleaseRouteInfo(b, info) == NO_ERROR
    assert RtmReleaseEntities(b, n, ents) == NO_ERROR
    for r in routes[:2]:
        assert RtmDeleteRouteToDest(a, r)[0] == NO_ERROR
    assert RtmReleaseRoutes(a, 3, routes[2:]) == NO_ERROR
    assert RtmDeleteNextHop(a, nh_a, None) == NO_ERROR
    assert RtmDeregisterEntity(a) == NO_ERROR
    assert RtmDeregisterEntity(b.handle) == NO_ERROR
    assert records(rtm) == (0, 0, 0, 0)


# ---------------------------------------------------------------------------
# the examples
# ---------------------------------------------------------------------------
def _run_example(name):
    env = dict(os.environ)
    # make the subprocess import the very rtmcore these tests import
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(rtmcore.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (pkg_parent, env.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, os.path.join(REPO, "examples", name)], env=env,
                          capture_output=True, text=True, timeout=120, cwd=REPO)


def test_example_add_route_c_style():
    proc = _run_example("add_route.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    for line in ("RtmRegisterEntity: NO_ERROR", "RtmAddNextHop: NO_ERROR",
                 "RtmAddRouteToDest (add): NO_ERROR", "RtmAddRouteToDest (update): NO_ERROR",
                 "RtmGetRouteInfo: NO_ERROR", "RtmReleaseRouteInfo: NO_ERROR",
                 "RtmReleaseRoutes: NO_ERROR", "RtmDeleteNextHop: NO_ERROR",
                 "RtmDeregisterEntity: NO_ERROR",
                 "table after deregistration: 0 destinations, 0 routes", "done"):
        assert line in out, line
    assert "change flags NEW|BEST" in out
    assert "updated, change flags BEST" in out
    assert "10.1.0.0/16: metric 5, preference 0, views 0x1, next hops 1" in out


def test_example_add_route_pythonic():
    proc = _run_example("add_route_pythonic.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "added to 10.1.0.0/16, change flags NEW|BEST" in out
    assert "updated, change flags BEST" in out
    assert "10.1.0.0/16: metric 5, preference 0, views 0x1, next hops 1" in out
    assert "table after deregistration: 0 destinations, 0 routes" in out
    assert out.rstrip().endswith("done")


# ---------------------------------------------------------------------------
# change notification (spec 2.9)
# ---------------------------------------------------------------------------
def _notify_world(rtm, callback=None, **kw):
    watcher = register(rtm, PROTO_IP_BGP, callback=callback)
    status, notify = RtmRegisterForChangeNotification(watcher, kw.get("views", RTM_VIEW_MASK_ALL),
                                                      kw.get("flags", RTM_CHANGE_TYPE_ALL),
                                                      kw.get("context"))
    assert status == NO_ERROR and isinstance(notify, int)
    return watcher, notify


def _changed(reg, notify, capacity=4):
    """Every changed destination, the C way: loop while the count is non-zero."""
    got = []
    while True:
        status, n, infos = RtmGetChangedDests(reg, notify, capacity)
        assert status in (NO_ERROR, ERROR_NO_MORE_ITEMS)
        if n:
            got += [str(i.dest_address) for i in infos[:n]]
            assert RtmReleaseChangedDests(reg, notify, n, infos) == NO_ERROR
        if status != NO_ERROR:
            return got


def test_register_for_change_notification_statuses(rtm, rip):
    status, h = RtmRegisterForChangeNotification(rip, RTM_VIEW_MASK_UCAST, RTM_CHANGE_TYPE_BEST,
                                                 "ctx")
    assert status == NO_ERROR and h
    assert RtmRegisterForChangeNotification(rip, 0x4, RTM_CHANGE_TYPE_ALL) == \
        (ERROR_NOT_SUPPORTED, None)
    for flags in (0, RTM_NOTIFY_ONLY_MARKED_DESTS, 0x8, -1):
        assert RtmRegisterForChangeNotification(rip, RTM_VIEW_MASK_ALL, flags) == \
            (ERROR_INVALID_PARAMETER, None)
    small = RoutingTableManager(max_notifications=1)
    reg = register(small)
    assert RtmRegisterForChangeNotification(reg, 0, RTM_CHANGE_TYPE_ALL)[0] == NO_ERROR
    assert RtmRegisterForChangeNotification(reg, 0, RTM_CHANGE_TYPE_ALL) == \
        (ERROR_NO_SYSTEM_RESOURCES, None)


def test_deregister_from_change_notification_statuses(rtm, rip, ospf):
    assert RtmRegisterForChangeNotification(rip, 0, RTM_CHANGE_TYPE_ALL)[0] == NO_ERROR
    h = RtmRegisterForChangeNotification(rip, 0, RTM_CHANGE_TYPE_ALL)[1]
    assert RtmDeregisterFromChangeNotification(ospf, h) == ERROR_INVALID_HANDLE   # not its own
    assert RtmDeregisterFromChangeNotification(rip, h) == NO_ERROR
    assert RtmDeregisterFromChangeNotification(rip, h) == ERROR_INVALID_HANDLE    # consumed
    for bad in (None, 0, "h", -5):
        assert RtmDeregisterFromChangeNotification(rip, bad) == ERROR_INVALID_HANDLE


def test_get_changed_dests_no_more_items_with_the_last_batch(rtm, rip, nh):
    watcher, h = _notify_world(rtm)
    for i in range(5):
        add_route(rip, f"10.{i}.0.0/16", next_hops=[nh])
    calls = []
    for _ in range(4):
        status, n, infos = RtmGetChangedDests(watcher, h, 2)
        calls.append((status, n, [str(i.dest_address) for i in infos]))
        assert RtmReleaseChangedDests(watcher, h, n, infos) == NO_ERROR
    assert calls == [(NO_ERROR, 2, ["10.0.0.0/16", "10.1.0.0/16"]),
                     (NO_ERROR, 2, ["10.2.0.0/16", "10.3.0.0/16"]),
                     (ERROR_NO_MORE_ITEMS, 1, ["10.4.0.0/16"]),      # last batch + end
                     (ERROR_NO_MORE_ITEMS, 0, [])]
    for i in range(4):
        add_route(rip, f"10.{i}.0.0/16", next_hops=[nh], metric=1)
    status, n, infos = RtmGetChangedDests(watcher, h, 2)
    assert (status, n) == (NO_ERROR, 2)
    assert RtmReleaseChangedDests(watcher, h, n, infos) == NO_ERROR
    status, n, infos = RtmGetChangedDests(watcher, h, 2)
    assert (status, n) == (ERROR_NO_MORE_ITEMS, 2)                    # exactly emptied
    assert RtmReleaseChangedDests(watcher, h, n, infos) == NO_ERROR


def test_get_changed_dests_errors(rtm, rip, nh):
    watcher, h = _notify_world(rtm)
    add_route(rip, D8, next_hops=[nh])
    limit = watcher.profile.max_handles_in_enum
    assert RtmGetChangedDests(watcher, h, limit + 1) == (ERROR_INVALID_PARAMETER, limit + 1, None)
    assert RtmGetChangedDests(watcher, h, -1) == (ERROR_INVALID_PARAMETER, -1, None)
    assert RtmGetChangedDests(watcher, h, "2") == (ERROR_INVALID_PARAMETER, "2", None)
    assert RtmGetChangedDests(watcher, h, 0) == (NO_ERROR, 0, [])      # nothing taken
    assert RtmGetChangedDests(rip, h, 1) == (ERROR_INVALID_HANDLE, 1, None)   # not rip's
    assert RtmGetChangedDests(watcher, None, 1) == (ERROR_INVALID_HANDLE, 1, None)
    assert _changed(watcher, h, limit) == [D8]


def test_changed_dest_infos_carry_current_information(rtm, rip, ospf, nh):
    watcher, h = _notify_world(rtm, views=RTM_VIEW_MASK_UCAST, flags=RTM_CHANGE_TYPE_BEST)
    route = add_route(rip, D8, next_hops=[nh], metric=5)
    add_route(ospf, D8, next_hops=[add_nh(ospf, "192.0.2.7")], metric=9)   # not best
    status, n, infos = RtmGetChangedDests(watcher, h, 10)
    assert (status, n) == (ERROR_NO_MORE_ITEMS, 1)
    info = infos[0]
    assert isinstance(info, DestInfo) and str(info.dest_address) == D8
    assert [(v.view_id, v.num_routes, v.route, v.owner) for v in info.view_info] == \
        [(RTM_VIEW_ID_UCAST, 2, route, rip.handle)]
    assert RtmReleaseChangedDests(watcher, h, 1, infos) == NO_ERROR
    assert RtmDeleteRouteToDest(rip, route)[0] == NO_ERROR             # ospf's becomes best
    status, n, infos = RtmGetChangedDests(watcher, h, 10)
    assert infos[0].view_info[0].owner == ospf.handle and infos[0].view_info[0].num_routes == 1
    assert RtmReleaseChangedDests(watcher, h, n, infos) == NO_ERROR


def test_release_changed_dests_rules(rtm, rip, nh):
    watcher, h1 = _notify_world(rtm)
    _, h2 = RtmRegisterForChangeNotification(watcher, 0, RTM_CHANGE_TYPE_ALL)
    add_route(rip, D8, next_hops=[nh])
    add_route(rip, "10.1.0.0/16", next_hops=[nh])
    _, n1, i1 = RtmGetChangedDests(watcher, h1, 10)
    _, _, i2 = RtmGetChangedDests(watcher, h2, 10)
    assert RtmReleaseChangedDests(watcher, h2, n1, i1) == ERROR_INVALID_HANDLE   # h1's infos
    assert RtmReleaseChangedDests(watcher, h1, 2, [i1[0], i2[0]]) == ERROR_INVALID_HANDLE
    assert RtmReleaseChangedDests(watcher, h1, 2, [i1[0], i1[0]]) == ERROR_INVALID_PARAMETER
    assert RtmReleaseChangedDests(watcher, h1, 3, i1) == ERROR_INVALID_PARAMETER  # count > list
    _, plain = RtmGetDestInfo(watcher, i1[0].dest_handle)
    assert RtmReleaseChangedDests(watcher, h1, 1, [plain]) == ERROR_INVALID_HANDLE
    assert RtmReleaseDestInfo(watcher, plain) == NO_ERROR
    assert RtmReleaseChangedDests(watcher, h1, 0, i1) == NO_ERROR       # count 0: no-op
    assert RtmReleaseChangedDests(watcher, h1, 1, i1) == NO_ERROR       # the first only
    assert RtmReleaseChangedDests(watcher, h1, 1, i1) == ERROR_INVALID_HANDLE   # again
    assert RtmReleaseChangedDests(watcher, h1, 1, i1[1:]) == NO_ERROR
    assert RtmReleaseChangedDests(watcher, h2, None, i2) == NO_ERROR    # None: whole list
    assert RtmReleaseChangedDests(watcher, h2, None, None) == NO_ERROR
    assert RtmReleaseChangedDests(watcher, 0x7001000000000999, 0, None) == ERROR_INVALID_HANDLE


def test_ignore_change_status_and_marks(rtm, rip, nh):
    watcher, h = _notify_world(rtm, flags=RTM_CHANGE_TYPE_ALL | RTM_NOTIFY_ONLY_MARKED_DESTS)
    _, plain = RtmRegisterForChangeNotification(watcher, 0, RTM_CHANGE_TYPE_ALL)
    route = add_route(rip, D8, next_hops=[nh])
    _, d = RtmGetExactMatchDestination(rip, D8)
    dest = d.dest_handle
    assert RtmGetChangeStatus(watcher, h, dest) == (NO_ERROR, False)    # not marked: no entry
    assert RtmGetChangeStatus(watcher, plain, dest) == (NO_ERROR, True)
    assert RtmIsMarkedForChangeNotification(watcher, h, dest) == (NO_ERROR, False)
    assert RtmMarkDestForChangeNotification(watcher, h, dest, True) == NO_ERROR
    assert RtmIsMarkedForChangeNotification(watcher, h, dest) == (NO_ERROR, True)
    assert RtmIsMarkedForChangeNotification(watcher, plain, dest) == (NO_ERROR, False)
    add_route(rip, D8, next_hops=[nh], metric=4)
    assert RtmGetChangeStatus(watcher, h, dest) == (NO_ERROR, True)
    assert RtmIgnoreChangedDests(watcher, h, 1, [dest]) == NO_ERROR
    assert RtmGetChangeStatus(watcher, h, dest) == (NO_ERROR, False)
    assert _changed(watcher, h) == []
    assert RtmIgnoreChangedDests(watcher, plain, None, [dest]) == NO_ERROR
    assert RtmIgnoreChangedDests(watcher, plain, 0, None) == NO_ERROR
    assert RtmIgnoreChangedDests(watcher, plain, 2, [dest]) == ERROR_INVALID_PARAMETER
    assert _changed(watcher, plain) == []
    add_route(rip, D8, next_hops=[nh], metric=5)                       # changes again
    assert _changed(watcher, h) == [D8] and _changed(watcher, plain) == [D8]
    assert RtmMarkDestForChangeNotification(watcher, h, dest, False) == NO_ERROR
    assert RtmIsMarkedForChangeNotification(watcher, h, dest) == (NO_ERROR, False)
    add_route(rip, D8, next_hops=[nh], metric=6)
    assert _changed(watcher, h) == [] and _changed(watcher, plain) == [D8]
    # the destination handle was not consumed (U39)
    assert RtmReleaseDestInfo(rip, d) == NO_ERROR
    assert RtmReleaseRoutes(rip, 1, [route]) == NO_ERROR
    for bad in (0, 0x2001000000000999, "d", None, route):
        assert RtmGetChangeStatus(watcher, h, bad) == (ERROR_INVALID_HANDLE, None)
        assert RtmIsMarkedForChangeNotification(watcher, h, bad) == (ERROR_INVALID_HANDLE, None)
        assert RtmMarkDestForChangeNotification(watcher, h, bad, True) == ERROR_INVALID_HANDLE
        assert RtmIgnoreChangedDests(watcher, h, 1, [bad]) == ERROR_INVALID_HANDLE
    for bad in (0, None, "h", rip.handle):
        assert RtmGetChangeStatus(watcher, bad, dest) == (ERROR_INVALID_HANDLE, None)
        assert RtmIsMarkedForChangeNotification(watcher, bad, dest) == (ERROR_INVALID_HANDLE, None)
        assert RtmMarkDestForChangeNotification(watcher, bad, dest, True) == ERROR_INVALID_HANDLE
        assert RtmIgnoreChangedDests(watcher, bad, 1, [dest]) == ERROR_INVALID_HANDLE


def test_change_notification_callback_c_style(rtm, rip, nh):
    calls = []
    inside = []

    def callback(reg_handle, event_type, context1, context2):
        if event_type == RTM_CHANGE_NOTIFICATION:
            calls.append((reg_handle, context1, context2))
            inside.append(RtmRegisterForChangeNotification(watcher, 0, RTM_CHANGE_TYPE_ALL))
        return NO_ERROR

    watcher, h = _notify_world(rtm, callback=callback, context="ctx")
    add_route(rip, D8, next_hops=[nh])
    add_route(rip, "10.1.0.0/16", next_hops=[nh])             # queue not empty: no call
    assert calls == [(watcher.handle, h, "ctx")]
    assert inside == [(ERROR_INVALID_PARAMETER, None)]        # refused inside the callback
    assert _changed(watcher, h) == [D8, "10.1.0.0/16"]
    add_route(rip, D8, next_hops=[nh], metric=3)
    assert len(calls) == 2


def test_change_notification_full_cycle_leaves_nothing_behind(rtm):
    a = register(rtm, PROTO_IP_RIP)
    b = register(rtm, PROTO_IP_OSPF)
    _, h = RtmRegisterForChangeNotification(b, 0, RTM_CHANGE_TYPE_BEST)
    nh_a = add_nh(a)
    routes = [add_route(a, f"10.{i}.0.0/16", next_hops=[nh_a]) for i in range(3)]
    for r in routes:
        assert RtmDeleteRouteToDest(a, r)[0] == NO_ERROR
    assert records(rtm)[0] == 3                               # kept by the pending entries
    status, n, infos = RtmGetChangedDests(b, h, 10)
    assert (status, n) == (ERROR_NO_MORE_ITEMS, 3)
    assert all(i.view_info[0].num_routes == 0 for i in infos)
    assert RtmReleaseChangedDests(b, h, n, infos) == NO_ERROR
    assert records(rtm)[0] == 0
    assert RtmAddRouteToDest(a, None, D8, RouteInfo(next_hops=[nh_a]))[0] == NO_ERROR
    assert RtmDeregisterFromChangeNotification(b, h) == NO_ERROR   # with D8 pending
    assert RtmDeleteNextHop(a, nh_a, None) == NO_ERROR
    assert RtmDeregisterEntity(a) == NO_ERROR
    assert RtmDeregisterEntity(b) == NO_ERROR
    assert records(rtm) == (0, 0, 0, 0)


def test_example_change_notification():
    proc = _run_example("change_notification.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "signalled 1 time(s)" in out
    assert "10.1.0.0/16: best route metric 3 via 192.0.2.1" in out
    assert "10.2.0.0/16: withdrawn" in out
    assert "retrieved 3 changed destination(s) in 2 batch(es)" in out
    assert "10.3.0.0/16: best route metric 2 via 192.0.2.1" in out
    assert "signalled 2 time(s) in all" in out and "10.3.0.0/16: withdrawn" in out
    assert "retrieved 1 changed destination(s) in 1 batch(es)" in out
    assert "table after deregistration: 0 destinations, 0 routes" in out
    assert out.rstrip().endswith("done")

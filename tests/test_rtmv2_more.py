"""The C-named layer :mod:`rtmcore.rtmv2`, second part: enumerations, route
lists, hold-down, locks and direct pointers, opaque pointers, entity methods
and the IPv6 conversions (spec 2.2, 2.3, 2.5, 2.7, 2.8, 2.10, 2.12).

Every function is checked on its success path against what the Pythonic API
gives (or against its effect on the table), and on each status it can
return; after a failure the table is checked to be unchanged.  The last test
checks that every function the spec defines exists under its C name.
"""
import re
import threading
import time
from pathlib import Path

import pytest

import rtmcore
from rtmcore import VirtualClock, rtmv2
from rtmcore.rtmv2 import *  # noqa: F401,F403  (what a ported C program would do)
from rtmcore.rtmv2 import (NEW_HANDLE, EntityInfo, EntityMethodInput, EntityMethodOutput,
                           NextHopInfo, RouteInfo, RoutingTableManager)

SPEC = Path(__file__).resolve().parents[2] / "shared" / "spec" / "RTMV2.md"
MAXH = 4                       # max_handles_in_enum of the fixtures: batches are exercised
UC, MC = RTM_VIEW_MASK_UCAST, RTM_VIEW_MASK_MCAST

NEW_FUNCTIONS = [
    "RtmLockDestination", "RtmGetOpaqueInformationPointer",
    "RtmGetEntityMethods", "RtmInvokeMethod", "RtmBlockMethods",
    "RtmHoldDestination", "RtmGetRoutePointer", "RtmLockRoute", "RtmUpdateAndUnlockRoute",
    "RtmGetNextHopPointer", "RtmLockNextHop",
    "RtmCreateDestEnum", "RtmGetEnumDests", "RtmCreateRouteEnum", "RtmGetEnumRoutes",
    "RtmCreateNextHopEnum", "RtmGetEnumNextHops", "RtmDeleteEnumHandle",
    "RtmCreateRouteList", "RtmInsertInRouteList", "RtmCreateRouteListEnum",
    "RtmGetListEnumRoutes", "RtmDeleteRouteList",
    "RtmConvertNetAddressToIpv6AddressAndLength", "RtmConvertIpv6AddressAndLengthToNetAddress",
]


# ---------------------------------------------------------------------------
# fixtures and helpers
# ---------------------------------------------------------------------------
def register(rtm, protocol=PROTO_IP_RIP, instance=1, methods=None, reserve=False):
    status, _, reg = RtmRegisterEntity(rtm, EntityInfo(rtm.instance_id, AF_INET, protocol,
                                                       instance), methods, None, reserve)
    assert status == NO_ERROR
    return reg


def add_nh(reg, address="192.0.2.1", ifindex=1):
    info = NextHopInfo(next_hop_address=RTM_IPV4_MAKE_NET_ADDRESS(address, 32),
                       interface_index=ifindex)
    status, h, _ = RtmAddNextHop(reg, info, NEW_HANDLE)
    assert status == NO_ERROR
    return h


def add_route(reg, prefix, metric=1, views=UC, preference=0, next_hops=(), route_list=None):
    status, h, _ = RtmAddRouteToDest(reg, NEW_HANDLE, prefix,
                                     RouteInfo(next_hops=list(next_hops), metric=metric,
                                               preference=preference, belongs_to_views=views),
                                     INFINITE, route_list, 0, None, 0)
    assert status == NO_ERROR, status
    return h


def dest_of(reg, route):
    status, info, _ = RtmGetRouteInfo(reg, route, True, None)
    assert status == NO_ERROR
    assert RtmReleaseRouteInfo(reg, info) == NO_ERROR
    return info.dest_handle


def table(reg):
    """Every destination (hold-only ones too) with its routes, as plain values
    (a snapshot through the Pythonic API: no references taken)."""
    return [(d.prefix, [(r.route_owner, r.metric, r.preference, r.belongs_to_views,
                         tuple(r.next_hops), r.flags, r.entity_specific_info)
                        for r in reg.routes(d.prefix)])
            for d in reg.destinations(RTM_VIEW_MASK_ANY)]


def list_members(reg, route_list):
    """The routes of a list, through the Pythonic API."""
    e = reg.create_route_list_enum(route_list)
    out = []
    while True:
        batch = reg.get_list_enum_routes(e)
        out += batch
        reg.release_routes(batch)
        if len(batch) < MAXH:
            break
    reg.delete_enum_handle(e)
    return out


@pytest.fixture
def rtm():
    m = RoutingTableManager(max_handles_in_enum=MAXH)
    yield m
    m.check_invariants()


@pytest.fixture
def rip(rtm):
    return register(rtm, PROTO_IP_RIP)


@pytest.fixture
def ospf(rtm):
    return register(rtm, PROTO_IP_OSPF)


PREFIXES = ["10.0.0.0/8", "10.1.0.0/16", "10.2.0.0/16", "172.16.0.0/12", "192.168.0.0/16",
            "192.168.1.0/24", "239.1.0.0/16"]


@pytest.fixture
def world(rtm, rip, ospf):
    """RIP routes on the first six prefixes (172.16/12 in both views), OSPF
    routes with the better preference on 10.1/16 and 10.2/16 and a multicast
    one on 239.1/16."""
    rnh, onh = add_nh(rip, "192.0.2.1", 1), add_nh(ospf, "192.0.2.9", 2)
    routes = {}
    for i, p in enumerate(PREFIXES[:6]):
        routes[("rip", p)] = add_route(rip, p, metric=i + 1, preference=120,
                                       views=UC | MC if p.startswith("172") else UC,
                                       next_hops=[rnh])
    for p, views in (("10.1.0.0/16", UC), ("10.2.0.0/16", UC), ("239.1.0.0/16", MC)):
        routes[("ospf", p)] = add_route(ospf, p, metric=10, preference=110, views=views,
                                        next_hops=[onh])
    assert RtmReleaseRoutes(rip, None, [h for k, h in routes.items() if k[0] == "rip"]) == 0
    assert RtmReleaseRoutes(ospf, None, [h for k, h in routes.items() if k[0] == "ospf"]) == 0
    yield routes, rnh, onh
    assert RtmReleaseNextHops(rip, 1, [rnh]) == NO_ERROR
    assert RtmReleaseNextHops(ospf, 1, [onh]) == NO_ERROR


def c_dests(reg, enum, capacity=MAXH):
    """Drain a destination enumeration the C way: process the count whatever
    the status, loop while NO_ERROR.  Returns [(status, [prefix, ...]), ...]."""
    batches = []
    while True:
        status, n, infos = RtmGetEnumDests(reg, enum, capacity)
        assert status in (NO_ERROR, ERROR_NO_MORE_ITEMS) and n == len(infos)
        batches.append((status, [i.prefix for i in infos[:n]]))
        assert RtmReleaseDests(reg, n, infos) == NO_ERROR
        if status != NO_ERROR:
            return batches


def c_routes(reg, enum, capacity=MAXH, getter=None):
    getter = getter or RtmGetEnumRoutes
    batches = []
    while True:
        status, n, handles = getter(reg, enum, capacity)
        assert status in (NO_ERROR, ERROR_NO_MORE_ITEMS) and n == len(handles)
        batches.append((status, list(handles)))
        assert RtmReleaseRoutes(reg, n, handles) == NO_ERROR
        if status != NO_ERROR:
            return batches


def flat(batches):
    return [x for _, items in batches for x in items]


# ---------------------------------------------------------------------------
# module surface and completeness
# ---------------------------------------------------------------------------
def test_new_functions_are_exported():
    for name in NEW_FUNCTIONS:
        assert callable(getattr(rtmv2, name)), name
        assert name in rtmv2.__all__, name
        assert "spec 2." in getattr(rtmv2, name).__doc__, name
    for name in ("EntityMethodInput", "EntityMethodOutput"):
        assert name in rtmv2.__all__
    assert EntityMethodOutput is rtmcore.extras.MethodOutput


def _spec_names():
    text = SPEC.read_text(encoding="utf-8")
    # Section 2 defines each function as **RtmName**`(parameters)`; the SDK-only
    # helpers of 2.12 appear as `RtmName(parameters)`.  Parameter, field and
    # type names (RtmRegHandle, RtmInstanceId, RTM_ENTITY_INFO, RTM_EVENT_CALLBACK,
    # ...) are never followed by an opening parenthesis.
    defined = set(re.findall(r"\*\*(Rtm[A-Z]\w+)\*\*`\(", text))
    called = set(re.findall(r"\b(Rtm[A-Z]\w+)\(", text))
    macros = set(re.findall(r"\b(RTM_(?:IPV4|IPV6|SIZE_OF)_[A-Z0-9_]+)\b", text))
    return defined, called, macros


@pytest.mark.skipif(not SPEC.is_file(), reason=f"the RTMv2 spec is not at {SPEC} (it lives "
                                               "next to the repository, not in it)")
def test_every_function_and_macro_of_the_spec_is_defined():
    defined, called, macros = _spec_names()
    assert len(defined) >= 50, sorted(defined)          # the parse found the definitions
    functions = defined | called
    assert not {"RtmRegHandle", "RtmInstanceId", "RtmEnumHandle", "RtmEntityInfo"} & functions
    assert {"RtmAddRouteToDest", "RtmGetEnumDests", "RtmInvokeMethod",
            "RtmReleaseEntityInfo", "RtmConvertNetAddressToIpv6AddressAndLength"} <= functions
    missing = sorted(n for n in functions if not callable(getattr(rtmv2, n, None)))
    assert missing == []
    assert set(rtmv2._FUNCTIONS) >= functions
    assert macros >= {"RTM_IPV4_MAKE_NET_ADDRESS", "RTM_SIZE_OF_DEST_INFO"}
    assert sorted(n for n in macros if not callable(getattr(rtmv2, n, None))) == []
    # and the C-named layer defines nothing the spec does not
    extra = sorted(set(rtmv2._FUNCTIONS) - functions)
    assert extra == []


# every new function taking a registration handle, called with a dead one
CALLS = {
    "RtmLockDestination": (1, True, True),
    "RtmGetOpaqueInformationPointer": (1,),
    "RtmGetEntityMethods": (1, 0),
    "RtmInvokeMethod": (1, EntityMethodInput(1), None),
    "RtmBlockMethods": (None, 0, RTM_BLOCK_METHODS),
    "RtmHoldDestination": (1, 0, 100),
    "RtmGetRoutePointer": (1,),
    "RtmLockRoute": (1, True, True),
    "RtmUpdateAndUnlockRoute": (1,),
    "RtmGetNextHopPointer": (1,),
    "RtmLockNextHop": (1, True, True),
    "RtmCreateDestEnum": (0, RTM_ENUM_START),
    "RtmGetEnumDests": (1, 1),
    "RtmCreateRouteEnum": (None, 0, RTM_ENUM_START),
    "RtmGetEnumRoutes": (1, 1),
    "RtmCreateNextHopEnum": (RTM_ENUM_START,),
    "RtmGetEnumNextHops": (1, 1),
    "RtmDeleteEnumHandle": (1,),
    "RtmCreateRouteList": (),
    "RtmInsertInRouteList": (None, 0, None),
    "RtmCreateRouteListEnum": (1,),
    "RtmGetListEnumRoutes": (1, 1),
    "RtmDeleteRouteList": (1,),
}


def test_calls_table_covers_every_new_function_with_a_registration_handle():
    assert set(CALLS) == set(NEW_FUNCTIONS) - {"RtmConvertNetAddressToIpv6AddressAndLength",
                                               "RtmConvertIpv6AddressAndLengthToNetAddress"}


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("dead", ["deregistered", "garbage"])
def test_dead_registration_handle_is_a_status(rtm, name, dead):
    reg = register(rtm, PROTO_IP_BGP)
    if dead == "deregistered":
        assert RtmDeregisterEntity(reg) == NO_ERROR
    else:
        reg = "not a handle"
    result = getattr(rtmv2, name)(reg, *CALLS[name])
    status = result[0] if isinstance(result, tuple) else result
    assert status == ERROR_INVALID_HANDLE


# ---------------------------------------------------------------------------
# destination enumerations (2.8)
# ---------------------------------------------------------------------------
def test_dest_enum_matches_the_pythonic_enumeration(rtm, rip, world):
    status, e = RtmCreateDestEnum(rip, UC | MC, RTM_ENUM_START, None, RTM_BEST_PROTOCOL)
    assert status == NO_ERROR
    got = []
    batches = []
    while True:
        status, n, infos = RtmGetEnumDests(rip, e, MAXH)
        batches.append((status, n))
        got += [(i.dest_handle, i.prefix, i.view_info) for i in infos]
        assert RtmReleaseDests(rip, n, infos) == NO_ERROR
        if status != NO_ERROR:
            break
    # 7 destinations, batches of 4: the last batch comes with ERROR_NO_MORE_ITEMS
    assert batches == [(NO_ERROR, 4), (ERROR_NO_MORE_ITEMS, 3)]
    assert RtmGetEnumDests(rip, e, MAXH) == (ERROR_NO_MORE_ITEMS, 0, [])
    assert RtmDeleteEnumHandle(rip, e) == NO_ERROR
    # the same enumeration through the Pythonic API
    pe = rip.create_dest_enum(UC | MC, RTM_ENUM_START, None, RTM_BEST_PROTOCOL)
    expected = []
    while batch := rip.get_enum_dests(pe, MAXH):
        expected += [(i.dest_handle, i.prefix, i.view_info) for i in batch]
        rip.release_dests(batch)
    rip.delete_enum_handle(pe)
    assert got == expected
    assert [p for _, p, _ in got] == PREFIXES


def test_dest_enum_exact_end_and_references(rtm, rip):
    hs = [add_route(rip, p) for p in PREFIXES[:4]]
    d = dest_of(rip, hs[0])
    base = rtm.core.ref_count(d)
    _, e = RtmCreateDestEnum(rip, UC, RTM_ENUM_START)
    status, n, infos = RtmGetEnumDests(rip, e, 4)
    # the batch reached the last destination: end signalled with the full batch
    assert (status, n) == (ERROR_NO_MORE_ITEMS, 4)
    assert infos[0].dest_handle == d and rtm.core.ref_count(d) == base + 1
    assert RtmReleaseDests(rip, n, infos) == NO_ERROR
    assert rtm.core.ref_count(d) == base
    # capacity 0 asks for nothing: NO_ERROR while something is left
    _, e2 = RtmCreateDestEnum(rip, UC, RTM_ENUM_START)
    assert RtmGetEnumDests(rip, e2, 0) == (NO_ERROR, 0, [])
    assert c_dests(rip, e2, 2) == [(NO_ERROR, PREFIXES[:2]), (ERROR_NO_MORE_ITEMS, PREFIXES[2:4])]
    # a live cursor: a destination added behind it after the end is still returned
    add_route(rip, "192.168.2.0/24")
    assert c_dests(rip, e) == [(ERROR_NO_MORE_ITEMS, ["192.168.2.0/24"])]
    for enum in (e, e2):
        assert RtmDeleteEnumHandle(rip, enum) == NO_ERROR
    assert RtmReleaseRoutes(rip, 4, hs) == NO_ERROR


@pytest.mark.parametrize("views, flags, address, protocol, expected", [
    (UC, RTM_ENUM_RANGE, "10.0.0.0/8", RTM_BEST_PROTOCOL,
     ["10.0.0.0/8", "10.1.0.0/16", "10.2.0.0/16"]),
    (UC, RTM_ENUM_NEXT, "172.16.0.0/12", RTM_BEST_PROTOCOL,
     ["172.16.0.0/12", "192.168.0.0/16", "192.168.1.0/24"]),
    (MC, RTM_ENUM_START, None, RTM_BEST_PROTOCOL, ["172.16.0.0/12", "239.1.0.0/16"]),
    (UC | MC, RTM_ENUM_START | RTM_ENUM_OWN_DESTS, None, RTM_BEST_PROTOCOL,
     ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "192.168.1.0/24"]),
    (RTM_VIEW_MASK_ANY, RTM_ENUM_START, None, RTM_THIS_PROTOCOL, PREFIXES),
    (RTM_VIEW_MASK_ALL, RTM_ENUM_RANGE, RTM_IPV4_MAKE_NET_ADDRESS("192.168.0.0", 16),
     PROTO_IP_OSPF, ["192.168.0.0/16", "192.168.1.0/24"]),
])
def test_dest_enum_criteria(rip, world, views, flags, address, protocol, expected):
    status, e = RtmCreateDestEnum(rip, views, flags, address, protocol)
    assert status == NO_ERROR
    status, n, infos = RtmGetEnumDests(rip, e, MAXH)
    assert [i.prefix for i in infos] == expected[:MAXH]
    pe = rip.create_dest_enum(views, flags, address, protocol)
    py = rip.get_enum_dests(pe, MAXH)
    assert [(i.dest_handle, i.view_info) for i in infos] == \
        [(i.dest_handle, i.view_info) for i in py]
    asked = rip.manager.core.views_mask if views == RTM_VIEW_MASK_ALL else views
    assert len(infos[0].view_info) == asked.bit_count()
    assert RtmReleaseDests(rip, n, infos) == NO_ERROR
    rip.release_dests(py)
    rip.delete_enum_handle(pe)
    assert RtmDeleteEnumHandle(rip, e) == NO_ERROR


def test_create_dest_enum_errors(rtm, rip, world):
    before = (table(rip), len(rtm._enums))
    for args in [(UC, 0x10), (UC, RTM_ENUM_OWN_ROUTES), (UC, RTM_ENUM_NEXT, None),
                 (UC, RTM_ENUM_RANGE), (UC, RTM_ENUM_RANGE, "10.0.0.1/8"),
                 (UC, RTM_ENUM_RANGE, "2001:db8::/32"), (-1, RTM_ENUM_START),
                 (UC, -1), (1 << 32, RTM_ENUM_START), (UC, RTM_ENUM_START, None, -1)]:
        assert RtmCreateDestEnum(rip, *args) == (ERROR_INVALID_PARAMETER, None), args
    assert RtmCreateDestEnum(rip, 0x4, RTM_ENUM_START) == (ERROR_NOT_SUPPORTED, None)
    with pytest.raises(TypeError):
        RtmCreateDestEnum(rip, "unicast", RTM_ENUM_START)
    assert (table(rip), len(rtm._enums)) == before


def test_get_enum_dests_errors(rtm, rip, ospf, world):
    _, e = RtmCreateDestEnum(rip, UC, RTM_ENUM_START)
    _, other = RtmCreateDestEnum(ospf, UC, RTM_ENUM_START)
    _, route_enum = RtmCreateRouteEnum(rip, None, UC, RTM_ENUM_START)
    before = table(rip)
    for cap in (MAXH + 1, -1, "4", None, 2.0):
        assert RtmGetEnumDests(rip, e, cap) == (ERROR_INVALID_PARAMETER, cap, None), cap
    for bad in (other, route_enum, e + 1, 0, -5, "enum", None, 1 << 64):
        assert RtmGetEnumDests(rip, bad, 1) == (ERROR_INVALID_HANDLE, 1, None), bad
    # failures moved nothing: the first batch is still the first
    assert c_dests(rip, e)[0] == (NO_ERROR, PREFIXES[:4])
    assert table(rip) == before
    for enum, ent in ((e, rip), (other, ospf), (route_enum, rip)):
        assert RtmDeleteEnumHandle(ent, enum) == NO_ERROR
    assert RtmGetEnumDests(rip, e, 1) == (ERROR_INVALID_HANDLE, 1, None)


# ---------------------------------------------------------------------------
# route enumerations (2.8)
# ---------------------------------------------------------------------------
def _py_routes(ent, *args):
    e = ent.create_route_enum(*args)
    out = []
    while batch := ent.get_enum_routes(e, MAXH):
        out += batch
        ent.release_routes(batch)
    ent.delete_enum_handle(e)
    return out


def test_route_enum_matches_the_pythonic_enumeration(rip, ospf, world):
    routes, _, _ = world
    status, e = RtmCreateRouteEnum(rip, None, UC | MC, RTM_ENUM_START, None, RTM_MATCH_NONE,
                                   None, 0)
    assert status == NO_ERROR
    batches = c_routes(rip, e)
    # 9 routes in batches of 4: 4, 4, then the last one with ERROR_NO_MORE_ITEMS
    assert [(s, len(hs)) for s, hs in batches] == [(NO_ERROR, 4), (NO_ERROR, 4),
                                                   (ERROR_NO_MORE_ITEMS, 1)]
    assert flat(batches) == _py_routes(rip, None, UC | MC, RTM_ENUM_START)
    # destination order, then selection order: OSPF's better preference first
    assert flat(batches)[1:3] == [routes[("ospf", "10.1.0.0/16")], routes[("rip", "10.1.0.0/16")]]
    assert RtmGetEnumRoutes(rip, e, MAXH) == (ERROR_NO_MORE_ITEMS, 0, [])
    assert RtmDeleteEnumHandle(rip, e) == NO_ERROR


@pytest.mark.parametrize("how", ["own", "one dest", "range", "match", "interface", "views"])
def test_route_enum_criteria(rip, ospf, world, how):
    routes, _, _ = world
    d10_1 = dest_of(rip, routes[("rip", "10.1.0.0/16")])
    args = {
        "own": (None, UC | MC, RTM_ENUM_OWN_ROUTES),
        "one dest": (d10_1, RTM_VIEW_MASK_ALL, RTM_ENUM_START),
        "range": (None, UC, RTM_ENUM_RANGE, "10.0.0.0/8"),
        "match": (None, UC, RTM_ENUM_START, None, RTM_MATCH_PREF,
                  RouteInfo(metric=10, preference=110)),
        "interface": (None, UC | MC, RTM_ENUM_START, None, RTM_MATCH_INTERFACE, None, 2),
        "views": (None, MC, RTM_ENUM_START),
    }[how]
    expected = {
        "own": [routes[("rip", p)] for p in PREFIXES[:6]],
        "one dest": [routes[("ospf", "10.1.0.0/16")], routes[("rip", "10.1.0.0/16")]],
        "range": [routes[("rip", "10.0.0.0/8")], routes[("ospf", "10.1.0.0/16")],
                  routes[("rip", "10.1.0.0/16")], routes[("ospf", "10.2.0.0/16")],
                  routes[("rip", "10.2.0.0/16")]],
        "match": [routes[("ospf", p)] for p in ("10.1.0.0/16", "10.2.0.0/16")],
        "interface": [routes[("ospf", p)] for p in ("10.1.0.0/16", "10.2.0.0/16",
                                                    "239.1.0.0/16")],
        "views": [routes[("rip", "172.16.0.0/12")], routes[("ospf", "239.1.0.0/16")]],
    }[how]
    status, e = RtmCreateRouteEnum(rip, *args)
    assert status == NO_ERROR
    batches = c_routes(rip, e)
    assert flat(batches) == expected == _py_routes(rip, *args)
    assert batches[-1][0] == ERROR_NO_MORE_ITEMS
    assert all(s == NO_ERROR for s, _ in batches[:-1])
    assert RtmDeleteEnumHandle(rip, e) == NO_ERROR


def test_route_enum_errors(rtm, rip, ospf, world):
    routes, _, _ = world
    before = (table(rip), len(rtm._enums))
    for args in [(None, UC, RTM_ENUM_OWN_DESTS), (None, UC, 0x8), (None, UC, RTM_ENUM_NEXT),
                 (None, UC, RTM_ENUM_START, None, RTM_MATCH_OWNER, None),
                 (None, UC, RTM_ENUM_START, None, RTM_MATCH_PREF, "criteria"),
                 (None, UC, RTM_ENUM_START, None, -1), (None, -2, RTM_ENUM_START),
                 (None, UC, RTM_ENUM_START, None, RTM_MATCH_INTERFACE, None, -1)]:
        assert RtmCreateRouteEnum(rip, *args) == (ERROR_INVALID_PARAMETER, None), args
    assert RtmCreateRouteEnum(rip, None, MC | 0x8, RTM_ENUM_START) == (ERROR_NOT_SUPPORTED, None)
    # a destination handle that is not one: a route handle, a stale or forged one
    r = routes[("rip", "10.0.0.0/8")]
    for bad in (r, r ^ (1 << 32), "dest"):
        assert RtmCreateRouteEnum(rip, bad, UC, RTM_ENUM_START) == (ERROR_INVALID_HANDLE, None)
    assert (table(rip), len(rtm._enums)) == before
    _, e = RtmCreateRouteEnum(rip, None, UC, RTM_ENUM_START)
    _, dest_enum = RtmCreateDestEnum(rip, UC, RTM_ENUM_START)
    assert RtmGetEnumRoutes(rip, e, MAXH + 1) == (ERROR_INVALID_PARAMETER, MAXH + 1, None)
    assert RtmGetEnumRoutes(rip, e, "all") == (ERROR_INVALID_PARAMETER, "all", None)
    assert RtmGetEnumRoutes(rip, dest_enum, 1) == (ERROR_INVALID_HANDLE, 1, None)
    assert RtmGetEnumRoutes(ospf, e, 1) == (ERROR_INVALID_HANDLE, 1, None)
    assert flat(c_routes(rip, e))[:1] == [r]                  # nothing was consumed
    for enum in (e, dest_enum):
        assert RtmDeleteEnumHandle(rip, enum) == NO_ERROR
    assert RtmGetEnumRoutes(rip, e, 1) == (ERROR_INVALID_HANDLE, 1, None)
    assert table(rip) == before[0]


# ---------------------------------------------------------------------------
# next-hop enumerations (2.8)
# ---------------------------------------------------------------------------
def test_next_hop_enum(rtm, rip, ospf):
    mine = [add_nh(rip, a, i) for a, i in (("192.0.2.1", 1), ("192.0.2.1", 2), ("10.0.0.1", 1),
                                           ("10.9.0.1", 3), ("198.51.100.1", 1))]
    theirs = add_nh(ospf, "10.0.0.2", 1)
    counts = [rtm.core.ref_count(h) for h in mine]
    status, e = RtmCreateNextHopEnum(rip, RTM_ENUM_START, None)
    assert status == NO_ERROR
    batches = []
    while True:
        status, n, hs = RtmGetEnumNextHops(rip, e, MAXH)
        batches.append((status, hs))
        if n:
            assert [rtm.core.ref_count(h) for h in hs] == \
                [counts[mine.index(h)] + 1 for h in hs]
        assert RtmReleaseNextHops(rip, n, hs) == NO_ERROR
        if status != NO_ERROR:
            break
    # only the caller's next hops, by address then interface; 5 = 4 + a last one
    order = [mine[i] for i in (2, 3, 0, 1, 4)]
    assert batches == [(NO_ERROR, order[:4]), (ERROR_NO_MORE_ITEMS, order[4:])]
    assert [rtm.core.ref_count(h) for h in mine] == counts
    assert RtmDeleteEnumHandle(rip, e) == NO_ERROR
    # a full batch that empties the enumeration signals the end at once, and
    # looking ahead for it loses nothing
    _, e = RtmCreateNextHopEnum(rip, RTM_ENUM_RANGE, "10.0.0.0/8")
    status, n, hs = RtmGetEnumNextHops(rip, e, 1)
    assert (status, hs) == (NO_ERROR, [mine[2]])
    status, n, hs2 = RtmGetEnumNextHops(rip, e, 1)
    assert (status, hs2) == (ERROR_NO_MORE_ITEMS, [mine[3]])
    assert RtmGetEnumNextHops(rip, e, 1) == (ERROR_NO_MORE_ITEMS, 0, [])
    assert RtmReleaseNextHops(rip, 2, hs + hs2) == NO_ERROR
    assert [rtm.core.ref_count(h) for h in mine] == counts
    # NEXT: from an address on; the Pythonic API agrees
    _, e2 = RtmCreateNextHopEnum(rip, RTM_ENUM_NEXT, RTM_IPV4_MAKE_NET_ADDRESS("192.0.2.1", 32))
    status, n, hs = RtmGetEnumNextHops(rip, e2, MAXH)
    pe = rip.create_next_hop_enum(RTM_ENUM_NEXT, "192.0.2.1/32")
    py = rip.get_enum_next_hops(pe, MAXH)
    assert (status, hs) == (ERROR_NO_MORE_ITEMS, py) and py == [mine[0], mine[1], mine[4]]
    rip.release_next_hops(py)
    rip.delete_enum_handle(pe)
    assert RtmReleaseNextHops(rip, n, hs) == NO_ERROR
    for enum in (e, e2):
        assert RtmDeleteEnumHandle(rip, enum) == NO_ERROR
    assert RtmReleaseNextHops(ospf, 1, [theirs]) == NO_ERROR
    assert RtmReleaseNextHops(rip, 5, mine) == NO_ERROR


def test_next_hop_enum_errors(rtm, rip, ospf):
    nh = add_nh(rip)
    before = len(rtm._enums)
    for args in [(RTM_ENUM_OWN_DESTS,), (RTM_ENUM_NEXT, None), (RTM_ENUM_RANGE,), (0x3,),
                 (-1,), (RTM_ENUM_RANGE, "10.0.0.1/8")]:
        assert RtmCreateNextHopEnum(rip, *args) == (ERROR_INVALID_PARAMETER, None), args
    assert len(rtm._enums) == before
    _, e = RtmCreateNextHopEnum(rip, RTM_ENUM_START)
    assert RtmGetEnumNextHops(rip, e, MAXH + 1) == (ERROR_INVALID_PARAMETER, MAXH + 1, None)
    assert RtmGetEnumNextHops(rip, e, -1) == (ERROR_INVALID_PARAMETER, -1, None)
    assert RtmGetEnumNextHops(ospf, e, 1) == (ERROR_INVALID_HANDLE, 1, None)
    assert RtmGetEnumNextHops(rip, nh, 1) == (ERROR_INVALID_HANDLE, 1, None)
    status, n, hs = RtmGetEnumNextHops(rip, e, 1)        # nothing consumed by the failures
    assert (status, hs) == (ERROR_NO_MORE_ITEMS, [nh])
    assert RtmReleaseNextHops(rip, n, hs) == NO_ERROR
    assert RtmDeleteEnumHandle(ospf, e) == ERROR_INVALID_HANDLE
    assert RtmDeleteEnumHandle(rip, e) == NO_ERROR
    assert RtmDeleteEnumHandle(rip, e) == ERROR_INVALID_HANDLE          # consumed
    assert RtmGetEnumNextHops(rip, e, 1) == (ERROR_INVALID_HANDLE, 1, None)
    assert RtmDeleteEnumHandle(rip, "enum") == ERROR_INVALID_HANDLE
    assert len(rtm._enums) == before
    assert RtmReleaseNextHops(rip, 1, [nh]) == NO_ERROR


@pytest.mark.parametrize("kind", ["dest", "route", "nexthop", "list"])
def test_delete_enum_handle_ends_any_enumeration(rtm, rip, kind):
    add_route(rip, "10.0.0.0/8")
    _, lst = RtmCreateRouteList(rip)
    status, e = {"dest": lambda: RtmCreateDestEnum(rip, UC, RTM_ENUM_START),
                 "route": lambda: RtmCreateRouteEnum(rip, None, UC, RTM_ENUM_START),
                 "nexthop": lambda: RtmCreateNextHopEnum(rip, RTM_ENUM_START),
                 "list": lambda: RtmCreateRouteListEnum(rip, lst)}[kind]()
    assert status == NO_ERROR and e in rtm._enums
    assert RtmDeleteEnumHandle(rip, e) == NO_ERROR
    assert e not in rtm._enums
    assert RtmDeleteEnumHandle(rip, e) == ERROR_INVALID_HANDLE
    assert RtmDeleteRouteList(rip, lst) == NO_ERROR


# ---------------------------------------------------------------------------
# route lists (2.10, and RouteListHandle of 2.5)
# ---------------------------------------------------------------------------
def test_route_list_sample_procedure(rtm, rip):
    """The spec's sample: add routes into list 1, enumerate it and move every
    batch into list 2, delete both lists; the routes stay."""
    status, list1 = RtmCreateRouteList(rip)
    assert status == NO_ERROR
    status, list2 = RtmCreateRouteList(rip)
    assert status == NO_ERROR and list1 != list2
    routes = [add_route(rip, f"10.{i}.0.0/16", route_list=list1) for i in range(10)]
    assert list_members(rip, list1) == routes
    status, e = RtmCreateRouteListEnum(rip, list1)
    assert status == NO_ERROR
    seen = []
    while True:
        status, n, hs = RtmGetListEnumRoutes(rip, e, MAXH)
        assert status == NO_ERROR                       # always, the end included
        seen += hs
        assert RtmInsertInRouteList(rip, list2, n, hs) == NO_ERROR
        assert RtmReleaseRoutes(rip, n, hs) == NO_ERROR
        if n < MAXH:                                    # a short batch is the end
            break
    assert seen == routes
    assert RtmGetListEnumRoutes(rip, e, MAXH) == (NO_ERROR, 0, [])
    assert RtmDeleteEnumHandle(rip, e) == NO_ERROR
    assert list_members(rip, list1) == [] and list_members(rip, list2) == routes
    for lst in (list1, list2):
        assert RtmDeleteRouteList(rip, lst) == NO_ERROR
    assert rtm.counts(4) == (10, 10)                     # the routes stay
    assert RtmReleaseRoutes(rip, 10, routes) == NO_ERROR


def test_list_enum_matches_the_pythonic_enumeration(rip):
    _, lst = RtmCreateRouteList(rip)
    routes = [add_route(rip, f"10.{i}.0.0/16") for i in range(6)]
    assert RtmInsertInRouteList(rip, lst, 6, routes[::-1]) == NO_ERROR
    _, e = RtmCreateRouteListEnum(rip, lst)
    batches = []
    while True:
        status, n, hs = RtmGetListEnumRoutes(rip, e, 4)
        batches.append((status, hs))
        assert RtmReleaseRoutes(rip, n, hs) == NO_ERROR
        if n < 4:
            break
    assert batches == [(NO_ERROR, routes[::-1][:4]), (NO_ERROR, routes[::-1][4:])]
    assert list_members(rip, lst) == routes[::-1]
    assert RtmDeleteEnumHandle(rip, e) == NO_ERROR
    assert RtmDeleteRouteList(rip, lst) == NO_ERROR
    assert RtmReleaseRoutes(rip, None, routes) == NO_ERROR


def test_insert_in_route_list_moves_and_removes(rtm, rip):
    _, a = RtmCreateRouteList(rip)
    _, b = RtmCreateRouteList(rip)
    r = [add_route(rip, f"10.{i}.0.0/16") for i in range(3)]
    counts = [rtm.core.ref_count(h) for h in r]
    assert RtmInsertInRouteList(rip, a, 3, r) == NO_ERROR
    assert RtmInsertInRouteList(rip, b, 1, r[1:]) == NO_ERROR          # the first one only
    assert (list_members(rip, a), list_members(rip, b)) == ([r[0], r[2]], [r[1]])
    assert RtmInsertInRouteList(rip, None, 1, [r[0]]) == NO_ERROR      # NULL list: out
    assert RtmInsertInRouteList(rip, 0, None, [r[2]]) == NO_ERROR      # count None: the list
    assert (list_members(rip, a), list_members(rip, b)) == ([], [r[1]])
    assert RtmInsertInRouteList(rip, a, 0, r) == NO_ERROR              # U45: no effect
    assert RtmInsertInRouteList(rip, a, 3, None) == NO_ERROR
    assert list_members(rip, a) == []
    assert [rtm.core.ref_count(h) for h in r] == counts                # no references taken
    assert RtmReleaseRoutes(rip, 3, r) == NO_ERROR
    for lst in (a, b):
        assert RtmDeleteRouteList(rip, lst) == NO_ERROR


def test_insert_in_route_list_errors_change_nothing(rtm, rip, ospf):
    _, lst = RtmCreateRouteList(rip)
    _, theirs = RtmCreateRouteList(ospf)
    mine = [add_route(rip, f"10.{i}.0.0/16") for i in range(2)]
    foreign = add_route(ospf, "10.9.0.0/16")
    assert RtmInsertInRouteList(rip, lst, 1, mine[:1]) == NO_ERROR
    gone = add_route(rip, "10.8.0.0/16")
    assert RtmReferenceHandles(rip, 1, [gone]) == NO_ERROR
    assert RtmDeleteRouteToDest(rip, gone)[0] == NO_ERROR               # deleted, still held
    before = (table(rip), list_members(rip, lst), list_members(ospf, theirs))
    assert RtmInsertInRouteList(rip, lst, 2, [mine[1], foreign]) == ERROR_ACCESS_DENIED
    assert RtmInsertInRouteList(rip, lst, 2, [mine[1], gone]) == ERROR_NOT_FOUND
    assert RtmInsertInRouteList(rip, theirs, 1, mine[1:]) == ERROR_INVALID_HANDLE
    assert RtmInsertInRouteList(rip, lst + 1, 1, mine[1:]) == ERROR_INVALID_HANDLE
    assert RtmInsertInRouteList(rip, "list", 1, mine[1:]) == ERROR_INVALID_HANDLE
    assert RtmInsertInRouteList(rip, lst, 1, [lst]) == ERROR_INVALID_HANDLE   # not a route
    assert RtmInsertInRouteList(rip, lst, 3, mine) == ERROR_INVALID_PARAMETER  # count > list
    assert RtmInsertInRouteList(rip, lst, -1, mine) == ERROR_INVALID_PARAMETER
    assert (table(rip), list_members(rip, lst), list_members(ospf, theirs)) == before
    assert RtmReleaseRoutes(rip, 3, mine + [gone]) == NO_ERROR
    assert RtmReleaseRoutes(ospf, 1, [foreign]) == NO_ERROR
    assert RtmDeleteRouteList(ospf, theirs) == NO_ERROR
    assert RtmDeleteRouteList(rip, lst) == NO_ERROR


def test_route_list_handles_errors(rtm, rip, ospf):
    _, lst = RtmCreateRouteList(rip)
    r = add_route(rip, "10.0.0.0/8", route_list=lst)
    assert RtmCreateRouteListEnum(ospf, lst) == (ERROR_INVALID_HANDLE, None)   # not its list
    assert RtmCreateRouteListEnum(rip, r) == (ERROR_INVALID_HANDLE, None)
    assert RtmCreateRouteListEnum(rip, None) == (ERROR_INVALID_HANDLE, None)
    _, e = RtmCreateRouteListEnum(rip, lst)
    assert RtmGetListEnumRoutes(rip, e, MAXH + 1) == (ERROR_INVALID_PARAMETER, MAXH + 1, None)
    assert RtmGetListEnumRoutes(rip, e, None) == (ERROR_INVALID_PARAMETER, None, None)
    assert RtmGetListEnumRoutes(ospf, e, 1) == (ERROR_INVALID_HANDLE, 1, None)
    assert RtmDeleteRouteList(ospf, lst) == ERROR_INVALID_HANDLE
    assert RtmDeleteRouteList(rip, r) == ERROR_INVALID_HANDLE
    assert list_members(rip, lst) == [r]                                      # unchanged
    assert RtmDeleteRouteList(rip, lst) == NO_ERROR
    assert RtmDeleteRouteList(rip, lst) == ERROR_INVALID_HANDLE               # consumed
    assert RtmCreateRouteListEnum(rip, lst) == (ERROR_INVALID_HANDLE, None)
    assert RtmGetListEnumRoutes(rip, e, 1) == (NO_ERROR, 0, [])               # list gone
    assert RtmDeleteEnumHandle(rip, e) == NO_ERROR
    assert rtm.counts(4) == (1, 1)
    assert RtmReleaseRoutes(rip, 1, [r]) == NO_ERROR


def test_add_route_to_dest_route_list_argument(rip, ospf):
    _, a = RtmCreateRouteList(rip)
    _, b = RtmCreateRouteList(rip)
    _, theirs = RtmCreateRouteList(ospf)
    r = add_route(rip, "10.0.0.0/8", route_list=a)
    assert list_members(rip, a) == [r]
    # an update through the handle with another list moves it; with none, it stays
    info = RouteInfo(metric=2, belongs_to_views=UC)
    assert RtmAddRouteToDest(rip, r, "10.0.0.0/8", info, INFINITE, b, 0, None, 0)[0] == NO_ERROR
    assert (list_members(rip, a), list_members(rip, b)) == ([], [r])
    assert RtmAddRouteToDest(rip, r, "10.0.0.0/8", info, INFINITE, 0, 0, None, 0)[0] == NO_ERROR
    assert list_members(rip, b) == [r]
    # another entity's list, a deleted list: nothing added, nothing moved
    before = table(rip)
    assert RtmDeleteRouteList(rip, a) == NO_ERROR
    for bad in (theirs, a):
        status, h, _ = RtmAddRouteToDest(rip, NEW_HANDLE, "10.1.0.0/16", info, INFINITE, bad,
                                         0, None, 0)
        assert (status, h) == (ERROR_INVALID_HANDLE, 0)
        assert RtmAddRouteToDest(rip, r, "10.0.0.0/8", RouteInfo(metric=9, belongs_to_views=UC),
                                 INFINITE, bad, 0, None, 0)[0] == ERROR_INVALID_HANDLE
    assert table(rip) == before and list_members(rip, b) == [r]
    assert RtmReleaseRoutes(rip, 1, [r]) == NO_ERROR


# ---------------------------------------------------------------------------
# hold-down (2.5)
# ---------------------------------------------------------------------------
def test_hold_destination():
    clock = VirtualClock()
    rtm = RoutingTableManager(clock=clock, max_handles_in_enum=MAXH)
    rip = register(rtm)
    old = add_route(rip, "10.0.0.0/8", metric=1)
    add_route(rip, "20.0.0.0/8", metric=1)
    d = dest_of(rip, old)
    assert RtmHoldDestination(rip, d, RTM_VIEW_MASK_ALL, 500) == NO_ERROR
    assert RtmHoldDestination(rip, d, UC, 1000) == NO_ERROR        # the largest time counts
    assert RtmDeleteRouteToDest(rip, old) == (NO_ERROR, RTM_ROUTE_CHANGE_BEST)
    # the deleted last route is the unicast hold route of the destination
    status, info = RtmGetDestInfo(rip, d, RTM_BEST_PROTOCOL, UC)
    assert status == NO_ERROR
    assert (info.view_info[0].route, info.view_info[0].hold_route) == (0, old)
    assert RtmReleaseDestInfo(rip, info) == NO_ERROR
    # hold routes and hold-only destinations are enumerated with view mask 0 only
    _, e = RtmCreateRouteEnum(rip, None, RTM_VIEW_MASK_ANY, RTM_ENUM_START)
    assert flat(c_routes(rip, e))[0] == old
    _, e2 = RtmCreateDestEnum(rip, UC, RTM_ENUM_START)
    assert flat(c_dests(rip, e2)) == ["20.0.0.0/8"]
    # a new route becomes best while the hold route stays
    new = add_route(rip, "10.0.0.0/8", metric=5)
    status, info = RtmGetDestInfo(rip, d, RTM_BEST_PROTOCOL, UC)
    assert (info.view_info[0].route, info.view_info[0].hold_route) == (new, old)
    assert RtmReleaseDestInfo(rip, info) == NO_ERROR
    clock.advance(999)
    assert rip.get_dest_info(d, target_views=UC).view_info[0].hold_route == old
    clock.advance(1)
    status, info = RtmGetDestInfo(rip, d, RTM_BEST_PROTOCOL, UC)
    assert (info.view_info[0].route, info.view_info[0].hold_route) == (new, 0)
    assert RtmReleaseDestInfo(rip, info) == NO_ERROR
    for enum in (e, e2):
        assert RtmDeleteEnumHandle(rip, enum) == NO_ERROR
    assert RtmReleaseRoutes(rip, 1, [new]) == NO_ERROR
    rtm.check_invariants()


def test_hold_destination_errors_hold_nothing(rtm, rip, ospf):
    r = add_route(rip, "10.0.0.0/8")
    d = dest_of(rip, r)
    before = table(rip)
    for views, hold in ((UC, 0), (UC, -1), (UC, 1 << 32), (-1, 100)):
        assert RtmHoldDestination(rip, d, views, hold) == ERROR_INVALID_PARAMETER
    assert RtmHoldDestination(rip, d, 0x4, 100) == ERROR_NOT_SUPPORTED
    with pytest.raises(TypeError):
        RtmHoldDestination(rip, d, UC, "100 ms")
    assert table(rip) == before
    # none of the failed calls marked the destination: its last route just goes
    assert RtmDeleteRouteToDest(rip, r)[0] == NO_ERROR
    assert table(rip) == []


def test_hold_destination_other_entity_and_stale_handle(rtm, rip, ospf):
    r = add_route(rip, "10.0.0.0/8")
    d = dest_of(rip, r)
    assert RtmHoldDestination(rip, r, UC, 100) == ERROR_INVALID_HANDLE        # a route handle
    assert RtmHoldDestination(rip, d ^ (1 << 32), UC, 100) == ERROR_INVALID_HANDLE
    assert RtmHoldDestination(rip, "dest", UC, 100) == ERROR_INVALID_HANDLE
    assert RtmDeleteRouteToDest(rip, r)[0] == NO_ERROR
    assert table(rip) == []                        # not held: the destination is gone
    assert RtmHoldDestination(rip, d, UC, 100) == ERROR_INVALID_HANDLE        # stale
    # any entity may hold any destination
    r2 = add_route(rip, "10.0.0.0/8")
    assert RtmHoldDestination(ospf, dest_of(rip, r2), UC, 100) == NO_ERROR
    assert RtmDeleteRouteToDest(rip, r2)[0] == NO_ERROR
    assert [p for p, _ in table(rip)] == ["10.0.0.0/8"]                      # held


# ---------------------------------------------------------------------------
# route locks and pointers (2.5)
# ---------------------------------------------------------------------------
@pytest.fixture
def route(rip):
    nh = add_nh(rip)
    h = add_route(rip, "10.0.0.0/8", metric=3, next_hops=[nh])
    yield h
    RtmReleaseNextHops(rip, 1, [nh])


def test_lock_route_edit_and_update(rtm, rip, ospf, route):
    other = add_route(ospf, "10.0.0.0/8", metric=5)
    status, ptr = RtmLockRoute(rip, route, True, True, True)
    assert status == NO_ERROR and ptr.handle == route and ptr.locked
    assert (ptr.metric, ptr.dest_handle) == (3, dest_of(rip, route))
    ptr.metric = 9                                          # write through the pointer
    assert rip.routes("10.0.0.0/8")[0].metric == 3         # not committed yet
    status, flags = RtmUpdateAndUnlockRoute(rip, route, INFINITE, None, 0, None)
    assert (status, flags) == (NO_ERROR, RTM_ROUTE_CHANGE_BEST)
    assert [r.metric for r in rip.routes("10.0.0.0/8")] == [5, 9]      # repositioned
    assert RtmIsBestRoute(ospf, other) == (NO_ERROR, UC)
    assert not ptr.locked
    # unlocked: the same route can be locked again; a shared lock with no pointer
    assert RtmLockRoute(rip, route, False, True, None) == (NO_ERROR, None)
    assert RtmLockRoute(rip, route, False, True) == (ERROR_INVALID_PARAMETER, None)  # locked
    assert RtmLockRoute(rip, route, False, False) == (NO_ERROR, None)
    assert RtmReleaseRoutes(ospf, 1, [other]) == NO_ERROR


def test_unlock_without_update_abandons_the_edits(rip, route):
    before = table(rip)
    _, ptr = RtmLockRoute(rip, route, True, True)
    ptr.pref_info = (1, 1)
    assert RtmLockRoute(rip, route, False, False) == (ERROR_INVALID_PARAMETER, None)  # mode
    assert RtmLockRoute(rip, route, True, False) == (NO_ERROR, None)
    assert table(rip) == before
    assert RtmUpdateAndUnlockRoute(rip, route) == (ERROR_INVALID_PARAMETER, None)  # not locked
    assert RtmLockRoute(rip, route, True, False) == (ERROR_INVALID_PARAMETER, None)
    assert table(rip) == before


def test_update_and_unlock_failures_keep_the_lock(rtm, rip, ospf, route):
    before = table(rip)
    foreign_nh = add_nh(ospf, "192.0.2.7")
    _, ptr = RtmLockRoute(rip, route, True, True)
    ptr.metric = 1
    for args in [("soon",), (-1,), (1 << 32,), (INFINITE, None, 1), (INFINITE, None, 0, 7)]:
        assert RtmUpdateAndUnlockRoute(rip, route, *args) == (ERROR_INVALID_PARAMETER, None)
    assert RtmUpdateAndUnlockRoute(rip, route, INFINITE, 12345) == (ERROR_INVALID_HANDLE, None)
    ptr.next_hops = [foreign_nh]
    assert RtmUpdateAndUnlockRoute(rip, route) == (ERROR_ACCESS_DENIED, None)
    assert RtmUpdateAndUnlockRoute(ospf, route) == (ERROR_ACCESS_DENIED, None)
    assert ptr.locked and ptr.metric == 1 and table(rip) == before
    assert RtmLockRoute(rip, route, True, False) == (NO_ERROR, None)
    assert table(rip) == before
    assert RtmReleaseNextHops(ospf, 1, [foreign_nh]) == NO_ERROR


def test_update_and_unlock_sets_time_to_live_and_route_list(rip, route):
    clock = VirtualClock()
    rtm = RoutingTableManager(clock=clock)
    reg = register(rtm)
    r = add_route(reg, "10.0.0.0/8")
    _, lst = RtmCreateRouteList(reg)
    _, ptr = RtmLockRoute(reg, r, True, True)
    ptr.metric = 4
    assert RtmUpdateAndUnlockRoute(reg, r, 1000, lst, 0, None)[0] == NO_ERROR
    assert reg.get_route_expiry(r) == clock.now() + 1000
    assert list_members(reg, lst) == [r]
    clock.advance(1000)                                     # no callback: the route goes
    assert table(reg) == []
    assert RtmLockRoute(reg, r, True, True) == (ERROR_NOT_FOUND, None)    # deleted
    assert RtmReleaseRoutes(reg, 1, [r]) == NO_ERROR
    assert RtmLockRoute(reg, r, True, True) == (ERROR_INVALID_HANDLE, None)  # stale
    assert RtmDeleteRouteList(reg, lst) == NO_ERROR


def test_route_locks_and_pointers_are_owner_only(rip, ospf, route):
    before = table(rip)
    assert RtmLockRoute(ospf, route, True, True) == (ERROR_ACCESS_DENIED, None)
    assert RtmGetRoutePointer(ospf, route) == (ERROR_ACCESS_DENIED, None)
    for bad in (route ^ (1 << 32), dest_of(rip, route), "route", None):
        assert RtmLockRoute(rip, bad, True, True) == (ERROR_INVALID_HANDLE, None)
        assert RtmGetRoutePointer(rip, bad) == (ERROR_INVALID_HANDLE, None)
        assert RtmUpdateAndUnlockRoute(rip, bad) == (ERROR_INVALID_HANDLE, None)
    assert table(rip) == before
    assert RtmLockRoute(rip, route, True, True)[0] == NO_ERROR     # nobody holds it


def test_route_pointer_is_live_and_read_only(rip, route):
    status, ptr = RtmGetRoutePointer(rip, route)
    assert status == NO_ERROR and not ptr.locked
    assert ptr.metric == 3
    info = RouteInfo(metric=6, belongs_to_views=UC)
    assert RtmAddRouteToDest(rip, route, "10.0.0.0/8", info, INFINITE, None, 0, None, 0)[0] == 0
    assert ptr.metric == 6                                          # live
    with pytest.raises(RtmError) as exc:
        ptr.metric = 1
    assert exc.value.winerror == ERROR_INVALID_PARAMETER
    assert rip.routes("10.0.0.0/8")[0].metric == 6


# ---------------------------------------------------------------------------
# next-hop locks and pointers (2.7)
# ---------------------------------------------------------------------------
def test_lock_next_hop_writes_apply(rip, ospf):
    nh = add_nh(rip)
    status, ptr = RtmLockNextHop(rip, nh, True, True)
    assert status == NO_ERROR and ptr.handle == nh and ptr.locked
    ptr.entity_specific_info = 77
    ptr.flags = RTM_NEXTHOP_FLAGS_REMOTE
    status, info = RtmGetNextHopInfo(rip, nh)
    assert (info.entity_specific_info, info.flags) == (77, RTM_NEXTHOP_FLAGS_REMOTE)
    assert RtmReleaseNextHopInfo(rip, info) == NO_ERROR
    with pytest.raises(RtmError):
        ptr.interface_index = 9                                     # the key: never
    assert RtmLockNextHop(rip, nh, False, False) == (ERROR_INVALID_PARAMETER, None)  # mode
    assert RtmLockNextHop(rip, nh, True, False) == (NO_ERROR, None)
    with pytest.raises(RtmError):
        ptr.flags = 0                                               # unlocked
    assert RtmLockNextHop(rip, nh, False, True, None) == (NO_ERROR, None)
    assert RtmLockNextHop(rip, nh, False, False) == (NO_ERROR, None)
    assert RtmReleaseNextHops(rip, 1, [nh]) == NO_ERROR


def test_next_hop_pointer(rip, ospf):
    nh = add_nh(rip)
    status, ptr = RtmGetNextHopPointer(rip, nh)
    assert status == NO_ERROR and ptr.handle == nh
    assert (str(ptr.next_hop_address), ptr.interface_index) == ("192.0.2.1/32", 1)
    info = NextHopInfo(next_hop_address=RTM_IPV4_MAKE_NET_ADDRESS("192.0.2.1", 32),
                       interface_index=1, entity_specific_info=5)
    assert RtmAddNextHop(rip, info, nh)[0] == NO_ERROR
    assert ptr.entity_specific_info == 5                            # live
    with pytest.raises(RtmError):
        ptr.entity_specific_info = 6                                # read-only
    assert RtmReleaseNextHops(rip, 1, [nh]) == NO_ERROR


def test_next_hop_lock_and_pointer_errors(rtm, rip, ospf):
    nh = add_nh(rip)
    before = rip.get_next_hop_pointer(nh).to_next_hop_info()
    assert RtmLockNextHop(ospf, nh, True, True) == (ERROR_ACCESS_DENIED, None)
    assert RtmGetNextHopPointer(ospf, nh) == (ERROR_ACCESS_DENIED, None)
    for bad in (nh ^ (1 << 32), "nh", None, rip.handle):
        assert RtmLockNextHop(rip, bad, True, True) == (ERROR_INVALID_HANDLE, None)
        assert RtmGetNextHopPointer(rip, bad) == (ERROR_INVALID_HANDLE, None)
    assert RtmLockNextHop(rip, nh, True, False) == (ERROR_INVALID_PARAMETER, None)
    assert rip.get_next_hop_pointer(nh).to_next_hop_info() == before
    assert RtmReferenceHandles(rip, 1, [nh]) == NO_ERROR
    assert RtmDeleteNextHop(rip, nh, None) == NO_ERROR              # one reference left
    assert RtmLockNextHop(rip, nh, True, True) == (ERROR_NOT_FOUND, None)
    assert RtmReleaseNextHops(rip, 1, [nh]) == NO_ERROR
    assert RtmLockNextHop(rip, nh, True, True) == (ERROR_INVALID_HANDLE, None)


# ---------------------------------------------------------------------------
# destination locks and opaque pointers (2.2)
# ---------------------------------------------------------------------------
def test_lock_destination(rtm, rip, ospf):
    r = add_route(rip, "10.0.0.0/8")
    d = dest_of(rip, r)
    base = rtm.core.ref_count(d)
    assert RtmLockDestination(rip, d, True, True) == NO_ERROR
    assert RtmLockDestination(ospf, d, False, True) == NO_ERROR      # anyone may (U26)
    assert RtmLockDestination(ospf, d, False, True) == NO_ERROR      # counted
    assert rtm.core.ref_count(d) == base + 3                          # a lock holds the dest
    assert RtmLockDestination(rip, d, False, False) == ERROR_INVALID_PARAMETER   # wrong mode
    assert RtmLockDestination(ospf, d, True, False) == ERROR_INVALID_PARAMETER
    for ent, mode in ((rip, True), (ospf, False), (ospf, False)):
        assert RtmLockDestination(ent, d, mode, False) == NO_ERROR
    assert RtmLockDestination(ospf, d, False, False) == ERROR_INVALID_PARAMETER
    assert rtm.core.ref_count(d) == base
    for bad in (r, d ^ (1 << 32), "dest", None):
        assert RtmLockDestination(rip, bad, True, True) == ERROR_INVALID_HANDLE
    assert rtm.core.ref_count(d) == base
    assert RtmReleaseRoutes(rip, 1, [r]) == NO_ERROR


def test_opaque_information_pointer(rtm):
    mine = register(rtm, PROTO_IP_RIP, reserve=True)
    theirs = register(rtm, PROTO_IP_OSPF, reserve=True)
    plain = register(rtm, PROTO_IP_BGP)
    r = add_route(mine, "10.0.0.0/8")
    d = dest_of(mine, r)
    status, slot = RtmGetOpaqueInformationPointer(mine, d)
    assert status == NO_ERROR and slot.value is None                # starts empty
    assert RtmLockDestination(mine, d, True, True) == NO_ERROR
    slot.value = {"learnt": "rip"}
    assert RtmLockDestination(mine, d, True, False) == NO_ERROR
    assert RtmGetOpaqueInformationPointer(mine, d)[1].value == {"learnt": "rip"}
    assert mine.get_opaque_information_pointer(d) == slot
    status, other = RtmGetOpaqueInformationPointer(theirs, d)       # private per entity
    assert status == NO_ERROR and other.value is None
    before = table(mine)
    assert RtmGetOpaqueInformationPointer(plain, d) == (ERROR_NOT_FOUND, None)
    for bad in (r, d ^ (1 << 32), "dest"):
        assert RtmGetOpaqueInformationPointer(mine, bad) == (ERROR_INVALID_HANDLE, None)
    assert table(mine) == before and slot.value == {"learnt": "rip"}
    assert RtmDeleteRouteToDest(mine, r)[0] == NO_ERROR             # the destination goes
    assert RtmGetOpaqueInformationPointer(mine, d) == (ERROR_INVALID_HANDLE, None)


# ---------------------------------------------------------------------------
# entity methods (2.3)
# ---------------------------------------------------------------------------
def _methods(log):
    def first(caller, callee, bit, data):
        log.append((bit, data))
        return b"one:" + data

    def second(caller, callee, bit, data):
        log.append((bit, data))
        return ERROR_NOT_FOUND, b"x" * 5

    def third(caller, callee, bit, data):
        log.append((bit, data))
        raise ValueError("a failing method")

    return [first, None, second, third]                 # bits 0x1, 0x4, 0x8


def test_get_entity_methods(rtm, rip):
    target = register(rtm, PROTO_IP_OSPF, methods=_methods([]))
    assert RtmGetEntityMethods(rip, target, 0) == (NO_ERROR, 3, [])          # counting call
    assert RtmGetEntityMethods(rip, target, 2) == (ERROR_INSUFFICIENT_BUFFER, 3, [0x1, 0x4])
    assert RtmGetEntityMethods(rip, target.handle, 3) == (NO_ERROR, 3, [0x1, 0x4, 0x8])
    assert RtmGetEntityMethods(rip, target, 32)[2] == rip.get_entity_methods(target.handle)
    assert RtmGetEntityMethods(rip, rip, 4) == (NO_ERROR, 0, [])
    # the handle is not consumed; listing entities gives usable integer handles
    status, n, handles, infos = RtmGetRegisteredEntities(rip, 4)
    assert status == NO_ERROR
    h = handles[[i.entity_protocol_id for i in infos].index(PROTO_IP_OSPF)]
    assert RtmGetEntityMethods(rip, h, 3)[0] == NO_ERROR
    assert RtmGetEntityMethods(rip, h, 3)[0] == NO_ERROR
    assert RtmReleaseEntities(rip, n, handles) == NO_ERROR
    for cap in (-1, "3", None):
        assert RtmGetEntityMethods(rip, target, cap) == (ERROR_INVALID_PARAMETER, cap, None)
    for bad in (target.handle ^ (1 << 32), "entity", None, 0):
        assert RtmGetEntityMethods(rip, bad, 3) == (ERROR_INVALID_HANDLE, 3, None)
    assert RtmDeregisterEntity(target) == NO_ERROR
    assert RtmGetEntityMethods(rip, target, 3) == (ERROR_INVALID_HANDLE, 3, None)


def test_invoke_method(rtm, rip):
    log = []
    target = register(rtm, PROTO_IP_OSPF, methods=_methods(log))
    status, size, out = RtmInvokeMethod(rip, target, EntityMethodInput(
        METHOD_TYPE_ALL_METHODS, b"hello"), 1024)
    assert status == NO_ERROR
    assert out == [(0x1, NO_ERROR, b"one:hello"), (0x4, ERROR_NOT_FOUND, b"xxxxx"),
                   (0x8, ERROR_INVALID_DATA, b"")]
    assert all(isinstance(rec, EntityMethodOutput) for rec in out)
    assert out == rip.invoke_method(target.handle, METHOD_TYPE_ALL_METHODS, b"hello")
    # a record: 12 header bytes and the data, padded to 4: 24 + 20 + 12
    assert size == 24 + 20 + 12
    assert [b for b, _ in log] == [0x1, 0x4, 0x8, 0x1, 0x4, 0x8]
    # selected methods only; input_size passes a prefix of the data
    del log[:]
    status, size, out = RtmInvokeMethod(rip, target.handle,
                                        EntityMethodInput(0x4 | 0x2, b"abcdef", 3), None)
    assert (status, size, [r.method_type for r in out]) == (NO_ERROR, 20, [0x4])
    assert log == [(0x4, b"abc")]
    # too small an output area: the records that fit, the bytes they use
    status, size, out = RtmInvokeMethod(rip, target, EntityMethodInput(0x1 | 0x4, b"hello"), 30)
    assert (status, size, out) == (ERROR_INSUFFICIENT_BUFFER, 24,
                                   [(0x1, NO_ERROR, b"one:hello")])
    assert RtmInvokeMethod(rip, target, EntityMethodInput(0x1, b"hi"), 0) == \
        (ERROR_INSUFFICIENT_BUFFER, 0, [])
    assert RtmInvokeMethod(rip, target, EntityMethodInput(0, b"hi"), 0) == (NO_ERROR, 0, [])


def test_invoke_method_errors(rtm, rip):
    log = []
    target = register(rtm, PROTO_IP_OSPF, methods=_methods(log))
    for inp, size in [(None, 64), ("input", 64), (EntityMethodInput(1, "text"), 64),
                      (EntityMethodInput(1, b"ab", 3), 64), (EntityMethodInput(1, b"ab", -1), 64),
                      (EntityMethodInput(-1, b""), 64), (EntityMethodInput(1 << 32, b""), 64),
                      (EntityMethodInput(1, b""), -1), (EntityMethodInput(1, b""), "big")]:
        assert RtmInvokeMethod(rip, target, inp, size) == (ERROR_INVALID_PARAMETER, size, None)
    for bad in (target.handle ^ (1 << 32), "entity", None):
        assert RtmInvokeMethod(rip, bad, EntityMethodInput(1), 64) == \
            (ERROR_INVALID_HANDLE, 64, None)
    assert log == []                                                  # nothing ran
    # blocked by this very thread: waiting would deadlock
    assert RtmBlockMethods(target, None, 0, RTM_BLOCK_METHODS) == NO_ERROR
    assert RtmInvokeMethod(rip, target, EntityMethodInput(1), 64) == \
        (ERROR_INVALID_PARAMETER, 64, None)
    assert RtmBlockMethods(target, None, 0, RTM_RESUME_METHODS) == NO_ERROR
    assert RtmInvokeMethod(rip, target, EntityMethodInput(1), 64)[0] == NO_ERROR
    assert RtmDeregisterEntity(target) == NO_ERROR
    assert RtmInvokeMethod(rip, target, EntityMethodInput(1), 64) == \
        (ERROR_INVALID_HANDLE, 64, None)


def test_block_methods_makes_other_threads_wait(rtm, rip):
    log = []
    target = register(rtm, PROTO_IP_OSPF, methods=_methods(log))
    assert RtmBlockMethods(target, None, 0, RTM_BLOCK_METHODS) == NO_ERROR
    assert RtmBlockMethods(target, 0, 0, RTM_BLOCK_METHODS) == NO_ERROR       # idempotent
    results = []
    caller = threading.Thread(target=lambda: results.append(
        RtmInvokeMethod(rip, target, EntityMethodInput(0x1, b"wait"), 64)))
    caller.start()
    deadline = time.monotonic() + 5
    while rtmcore.extras._state(rtm).waiting == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert caller.is_alive() and log == []                             # waiting
    assert RtmBlockMethods(target, None, 0, RTM_RESUME_METHODS) == NO_ERROR
    caller.join(5)
    assert not caller.is_alive()
    assert results == [(NO_ERROR, 20, [(0x1, NO_ERROR, b"one:wait")])]


def test_block_methods_errors(rtm, rip):
    r = add_route(rip, "10.0.0.0/8")
    assert RtmBlockMethods(rip, r, 0, RTM_BLOCK_METHODS) == ERROR_NOT_SUPPORTED   # per target
    assert RtmBlockMethods(rip, None, 1, RTM_BLOCK_METHODS) == ERROR_NOT_SUPPORTED
    assert RtmBlockMethods(rip, None, 0, 2) == ERROR_INVALID_PARAMETER
    assert RtmBlockMethods(rip, None, 0, -1) == ERROR_INVALID_PARAMETER
    assert RtmBlockMethods(rip, None, 256, RTM_BLOCK_METHODS) == ERROR_INVALID_PARAMETER
    assert RtmBlockMethods(rip, "target", 0, RTM_BLOCK_METHODS) == ERROR_INVALID_HANDLE
    # none of them blocked anything: an invocation from this thread runs
    assert RtmInvokeMethod(rip, rip, EntityMethodInput(METHOD_TYPE_ALL_METHODS), 64) == \
        (NO_ERROR, 0, [])
    assert rtmcore.extras._state(rtm).blocked == {}
    assert RtmReleaseRoutes(rip, 1, [r]) == NO_ERROR


# ---------------------------------------------------------------------------
# IPv6 conversions of the SDK header (2.12)
# ---------------------------------------------------------------------------
def test_ipv6_conversions_round_trip():
    status, na = RtmConvertIpv6AddressAndLengthToNetAddress("2001:db8::", 32,
                                                            IPV6_ADDRESS_LEN_IN_BYTES)
    assert status == NO_ERROR
    assert na == RTM_IPV6_MAKE_NET_ADDRESS("2001:db8::", 32)
    assert (na.address_family, na.num_bits) == (AF_INET6, 32)
    status, address, length = RtmConvertNetAddressToIpv6AddressAndLength(na, 16)
    assert (status, str(address), length) == (NO_ERROR, "2001:db8::", 32)
    assert RtmConvertNetAddressToIpv6AddressAndLength(na)[1:] == RTM_IPV6_GET_ADDR_AND_LEN(na)
    status, host = RtmConvertIpv6AddressAndLengthToNetAddress(int(address) + 1, 128)
    assert (status, str(host)) == (NO_ERROR, "2001:db8::1/128")


def test_ipv6_conversion_errors():
    v4 = RTM_IPV4_MAKE_NET_ADDRESS("10.0.0.0", 8)
    v6 = RTM_IPV6_MAKE_NET_ADDRESS("2001:db8::", 32)
    for args in [(v4,), (None,), ("2001:db8::/32",), (v6, 4), (v6, 0)]:
        assert RtmConvertNetAddressToIpv6AddressAndLength(*args) == \
            (ERROR_INVALID_PARAMETER, None, None), args
    for args in [("2001:db8::", 129), ("2001:db8::1", 32), ("10.0.0.0", 8), ("junk", 8),
                 ("2001:db8::", -1), ("2001:db8::", 32, 4), (None, 0)]:
        assert RtmConvertIpv6AddressAndLengthToNetAddress(*args) == \
            (ERROR_INVALID_PARAMETER, None), args

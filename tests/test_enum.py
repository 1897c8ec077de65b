"""Enumerations: destinations, routes, next hops (spec 1.7, 1.12, 1.16, 2.8;
decisions U19, U20, U21, U35, U38, U47; features F57-F70).

Decided semantics checked here:

* prefix order = ascending address, then the shorter prefix first (U20);
* ``RTM_ENUM_NEXT`` is inclusive of its start prefix (U19); ``RTM_ENUM_RANGE``
  = the prefix itself and its more-specifics only (F58);
* ``RTM_ENUM_OWN_DESTS`` = destinations whose best route in one of the target
  views is the caller's (F60); target views 0 = every destination, no per-view
  information (U47); an unsupported view -> ``NotSupported``;
* batches hold at most ``num`` (default and maximum ``max_handles_in_enum``)
  items, an empty list marks the end; a larger request -> ``InvalidParameter``;
* a bad, foreign or deleted enumeration handle -> ``InvalidHandle``;
* enumerations are live cursors (U21): what is added after the cursor is
  returned, what is deleted before being reached is not, nothing twice;
* routes of a destination come in selection order (preference, metric,
  arrival); ``RTM_ENUM_OWN_ROUTES`` = only the caller's routes; matching
  criteria as ``get_exact_match_route`` (U35);
* next hops: the caller's own (U38), by address, START/NEXT/RANGE;
* every handle handed out is a reference; releasing them restores the counts;
* hold-down routes and hold-only destinations are enumerated only with view
  mask 0 (F67).
"""
import ipaddress

import pytest
from hypothesis import Phase, given, note, settings
from hypothesis import strategies as st

from rtmcore import (AF_INET6, PROTO_IP_BGP, PROTO_IP_OSPF, PROTO_IP_RIP,
                     RTM_BEST_PROTOCOL, RTM_ENUM_NEXT, RTM_ENUM_OWN_DESTS,
                     RTM_ENUM_OWN_ROUTES, RTM_ENUM_RANGE, RTM_ENUM_START, RTM_MATCH_FULL,
                     RTM_MATCH_INTERFACE, RTM_MATCH_NEIGHBOUR, RTM_MATCH_NEXTHOP, RTM_MATCH_NONE,
                     RTM_MATCH_OWNER, RTM_MATCH_PREF, RTM_ROUTE_FLAGS_DISCARD,
                     RTM_ROUTE_STATE_DELETED, RTM_THIS_PROTOCOL,
                     RTM_VIEW_ID_MCAST, RTM_VIEW_ID_UCAST, RTM_VIEW_MASK_ALL, RTM_VIEW_MASK_ANY,
                     RTM_VIEW_MASK_MCAST, RTM_VIEW_MASK_UCAST, RouteInfo, RoutingTableManager,
                     VirtualClock)
from rtmcore.errors import InvalidHandle, InvalidParameter, NotSupported

# The property tests take their settings from the profile (tests/conftest.py), except that
# a failing run skips the "explain" phase and shrinks only the first bug found: those two
# alone can take minutes.
bounded = settings(phases=[p for p in Phase if p != Phase.explain], report_multiple_bugs=False)

UC = RTM_VIEW_MASK_UCAST
MC = RTM_VIEW_MASK_MCAST
BOTH = UC | MC
MAXH = 4                       # max_handles_in_enum of the fixtures: batches are exercised


# ---------------------------------------------------------------------------
# fixtures and helpers
# ---------------------------------------------------------------------------
@pytest.fixture
def rtm():
    m = RoutingTableManager(max_handles_in_enum=MAXH)
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
    """A next hop of ``ent``; its handle reference is dropped (the next hop
    stays in the owner's table, so the handle stays valid)."""
    h = ent.add_next_hop(addr, interface_index=ifindex)[0]
    ent.release_next_hops([h])
    return h


def add(ent, prefix, metric=1, views=UC, preference=0, neighbour=0, next_hops=None, flags=0):
    """Add (or update) a route; returns its handle (no reference kept)."""
    if next_hops is None:
        next_hops = [nh(ent, "198.51.100.1" if ent.family == 4 else "2001:db8:ffff::1")]
    h, _ = ent.add_route_to_dest(prefix, next_hops=next_hops, metric=metric, views=views,
                                 preference=preference, neighbour=neighbour, flags=flags,
                                 return_handle=True)
    ent.release_routes([h])
    return h


def drain_dests(ent, enum, n=None, sizes=None):
    """Prefixes of the rest of a destination enumeration, each batch released."""
    out = []
    while True:
        batch = ent.get_enum_dests(enum, n)
        assert len(batch) <= (MAXH if n is None else n)
        if sizes is not None:
            sizes.append(len(batch))
        if not batch:
            return out
        out += [d.prefix for d in batch]
        ent.release_dests(batch)


def dests(ent, target_views=RTM_VIEW_MASK_ALL, flags=RTM_ENUM_START, address=None, n=None,
          protocol_id=RTM_BEST_PROTOCOL):
    """A whole destination enumeration: create, drain, delete the handle."""
    e = ent.create_dest_enum(target_views, flags, address, protocol_id)
    try:
        return drain_dests(ent, e, n)
    finally:
        ent.delete_enum_handle(e)


def drain_routes(ent, enum, n=None):
    """Route handles of the rest of a route enumeration, each batch released."""
    out = []
    while True:
        batch = ent.get_enum_routes(enum, n)
        assert len(batch) <= (MAXH if n is None else n)
        if not batch:
            return out
        out += batch
        ent.release_routes(batch)


def routes(ent, **kw):
    n = kw.pop("n", None)
    e = ent.create_route_enum(**kw)
    try:
        return drain_routes(ent, e, n)
    finally:
        ent.delete_enum_handle(e)


def describe(ent, route):
    """(destination, owner handle, preference, metric) of a route."""
    ri, dest = ent.get_route_info(route)
    ent.release_route_info(ri)
    return str(dest), ri.route_owner, ri.preference, ri.metric


def drain_next_hops(ent, enum, n=None):
    out = []
    while True:
        batch = ent.get_enum_next_hops(enum, n)
        assert len(batch) <= (MAXH if n is None else n)
        if not batch:
            return out
        out += batch
        ent.release_next_hops(batch)


def nh_key(ent, h):
    info = ent.get_next_hop_info(h)
    ent.release_next_hop_info(info)
    return str(info.next_hop_address.address), info.interface_index


# The reference table: nested, near-miss and host prefixes, inserted out of order.
TABLE = ["192.168.0.0/24", "10.1.0.0/16", "10.0.1.0/24", "0.0.0.0/0", "11.0.0.0/8",
         "10.0.0.0/16", "9.255.255.255/32", "10.128.0.0/9", "192.168.0.0/16", "10.0.0.0/8"]
ORDER = ["0.0.0.0/0", "9.255.255.255/32", "10.0.0.0/8", "10.0.0.0/16", "10.0.1.0/24",
         "10.1.0.0/16", "10.128.0.0/9", "11.0.0.0/8", "192.168.0.0/16", "192.168.0.0/24"]


@pytest.fixture
def table(rip):
    for i, p in enumerate(TABLE):
        add(rip, p, metric=i)
    return rip


# ---------------------------------------------------------------------------
# destination enumeration: range flags and order (F57-F59, U19, U20)
# ---------------------------------------------------------------------------
def test_start_enumerates_the_whole_table_in_prefix_order(table):
    e = table.create_dest_enum()
    sizes = []
    assert drain_dests(table, e, sizes=sizes) == ORDER
    assert sizes == [4, 4, 2, 0]
    # after the end: still the end
    assert table.get_enum_dests(e) == []
    assert table.get_enum_dests(e, 1) == []
    table.delete_enum_handle(e)


def test_documented_order_example(rip):
    for p in ["10.1.0.0/16", "10.0.1.0/24", "10.0.0.0/16", "10.0.0.0/8"]:
        add(rip, p)
    assert dests(rip) == ["10.0.0.0/8", "10.0.0.0/16", "10.0.1.0/24", "10.1.0.0/16"]


def test_start_ignores_net_address(table):
    assert dests(table, flags=RTM_ENUM_START, address="10.0.0.0/8") == ORDER


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_batch_sizes(table, n):
    e = table.create_dest_enum()
    sizes = []
    assert drain_dests(table, e, n, sizes) == ORDER
    assert sizes == [n] * (10 // n) + ([10 % n] if 10 % n else []) + [0]
    table.delete_enum_handle(e)


def test_batch_sizes_can_vary_between_calls(table):
    e = table.create_dest_enum()
    got = []
    for n in [1, 3, 2, 4, 4]:
        got.append([d.prefix for d in table.get_enum_dests(e, n)])
    assert got == [ORDER[:1], ORDER[1:4], ORDER[4:6], ORDER[6:10], []]
    table.delete_enum_handle(e)


def test_num_dests_over_max_handles_is_invalid_parameter(table):
    e = table.create_dest_enum()
    first = table.get_enum_dests(e, 1)
    assert [d.prefix for d in first] == ORDER[:1]
    with pytest.raises(InvalidParameter) as exc:
        table.get_enum_dests(e, MAXH + 1)
    assert exc.value.winerror == 87
    with pytest.raises(InvalidParameter):
        table.get_enum_dests(e, -1)
    # the failed calls did not move the cursor
    assert drain_dests(table, e) == ORDER[1:]
    table.release_dests(first)
    table.delete_enum_handle(e)


def test_profile_max_handles_in_enum_is_the_default_batch(table):
    assert table.profile.max_handles_in_enum == MAXH
    e = table.create_dest_enum()
    assert len(table.get_enum_dests(e)) == MAXH
    table.delete_enum_handle(e)


@pytest.mark.parametrize("start, expected", [
    ("10.0.0.0/16", ORDER[3:]),                  # inclusive of the start prefix (U19)
    ("9.255.255.255/32", ORDER[1:]),
    ("10.0.0.0/12", ORDER[3:]),                  # absent: 10/8 < 10/12 < 10.0/16
    ("10.0.0.128/25", ORDER[4:]),                # absent: between 10.0/16 and 10.0.1/24
    ("10.0.0.0/7", ORDER[2:]),                   # absent: just before 10/8
    ("10.0.1.0/24", ORDER[4:]),
    ("192.168.0.0/24", ORDER[9:]),
    ("192.168.0.1/32", []),
    ("255.255.255.255/32", []),
    ("0.0.0.0/0", ORDER),
])
def test_next_from_a_prefix_to_the_end(table, start, expected):
    assert dests(table, flags=RTM_ENUM_NEXT, address=start) == expected
    assert dests(table, flags=RTM_ENUM_NEXT, address=start, n=1) == expected


@pytest.mark.parametrize("root, expected", [
    ("10.0.0.0/8", ["10.0.0.0/8", "10.0.0.0/16", "10.0.1.0/24", "10.1.0.0/16",
                    "10.128.0.0/9"]),
    ("10.0.0.0/15", ["10.0.0.0/16", "10.0.1.0/24", "10.1.0.0/16"]),   # absent root
    ("10.0.0.0/16", ["10.0.0.0/16", "10.0.1.0/24"]),
    ("10.0.1.0/24", ["10.0.1.0/24"]),
    ("10.0.0.0/7", ["10.0.0.0/8", "10.0.0.0/16", "10.0.1.0/24", "10.1.0.0/16",
                    "10.128.0.0/9", "11.0.0.0/8"]),
    ("10.2.0.0/16", []),
    ("10.0.0.0/9", ["10.0.0.0/16", "10.0.1.0/24", "10.1.0.0/16"]),
    ("9.255.255.255/32", ["9.255.255.255/32"]),
    ("192.168.0.0/16", ["192.168.0.0/16", "192.168.0.0/24"]),
    ("0.0.0.0/0", ORDER),
])
def test_range_is_the_prefix_and_its_more_specifics(table, root, expected):
    assert dests(table, flags=RTM_ENUM_RANGE, address=root) == expected
    assert dests(table, flags=RTM_ENUM_RANGE, address=root, n=1) == expected


def test_enum_flags_and_address_errors(table, rip6):
    for flags, address in [(RTM_ENUM_NEXT, None), (RTM_ENUM_RANGE, None),
                           (3, "10.0.0.0/8"), (0xF, "10.0.0.0/8"),
                           (RTM_ENUM_OWN_ROUTES, None), (0x100, None),
                           (RTM_ENUM_NEXT, "10.0.0.1/8"),          # host bits (U5)
                           (RTM_ENUM_RANGE, "10.0.0.0/33"),
                           (RTM_ENUM_RANGE, "2001:db8::/32")]:     # other family
        with pytest.raises(InvalidParameter) as exc:
            table.create_dest_enum(RTM_VIEW_MASK_ALL, flags, address)
        assert exc.value.winerror == 87, (flags, address)
    with pytest.raises(InvalidParameter):
        rip6.create_dest_enum(RTM_VIEW_MASK_ALL, RTM_ENUM_RANGE, "10.0.0.0/8")


def test_net_address_forms(table):
    from rtmcore import NetAddress
    want = ["10.0.0.0/16", "10.0.1.0/24"]
    for a in ["10.0.0.0/16", ipaddress.ip_network("10.0.0.0/16"),
              NetAddress("10.0.0.0/16", 4)]:
        assert dests(table, flags=RTM_ENUM_RANGE, address=a) == want


# ---------------------------------------------------------------------------
# views, per-view information, protocol filter, own destinations (F45-F48, F60)
# ---------------------------------------------------------------------------
@pytest.fixture
def viewed(rip, ospf):
    """10/8 both views (rip best in both), 20/8 unicast only, 30/8 multicast
    only, 40/8 ospf best in unicast / rip only in multicast."""
    add(rip, "10.0.0.0/8", metric=1, views=BOTH)
    add(ospf, "10.0.0.0/8", metric=5, views=UC)
    add(rip, "20.0.0.0/8", metric=1, views=UC)
    add(ospf, "30.0.0.0/8", metric=1, views=MC)
    add(ospf, "40.0.0.0/8", metric=1, views=UC)
    add(rip, "40.0.0.0/8", metric=2, views=BOTH)
    return rip, ospf


@pytest.mark.parametrize("views, expected, view_ids", [
    (UC, ["10.0.0.0/8", "20.0.0.0/8", "40.0.0.0/8"], [RTM_VIEW_ID_UCAST]),
    (MC, ["10.0.0.0/8", "30.0.0.0/8", "40.0.0.0/8"], [RTM_VIEW_ID_MCAST]),
    (BOTH, ["10.0.0.0/8", "20.0.0.0/8", "30.0.0.0/8", "40.0.0.0/8"],
     [RTM_VIEW_ID_UCAST, RTM_VIEW_ID_MCAST]),
    (RTM_VIEW_MASK_ALL, ["10.0.0.0/8", "20.0.0.0/8", "30.0.0.0/8", "40.0.0.0/8"],
     [RTM_VIEW_ID_UCAST, RTM_VIEW_ID_MCAST]),
    (RTM_VIEW_MASK_ANY, ["10.0.0.0/8", "20.0.0.0/8", "30.0.0.0/8", "40.0.0.0/8"], []),
])
def test_target_views_filter_and_shape(viewed, views, expected, view_ids):
    rip, _ = viewed
    e = rip.create_dest_enum(views)
    infos = rip.get_enum_dests(e)
    assert [d.prefix for d in infos] == expected
    for d in infos:
        assert [v.view_id for v in d.view_info] == view_ids
        assert d.number_of_views == len(view_ids)
    rip.release_dests(infos)
    assert rip.get_enum_dests(e) == []
    rip.delete_enum_handle(e)


def test_view_info_contents(rtm, rip, ospf):
    r_uc_mc = add(rip, "10.0.0.0/8", metric=5, views=BOTH, flags=RTM_ROUTE_FLAGS_DISCARD)
    r_ospf = add(ospf, "10.0.0.0/8", metric=1, views=UC)
    add(ospf, "30.0.0.0/8", metric=1, views=MC)
    e = rip.create_dest_enum(RTM_VIEW_MASK_ALL)
    d10, d30 = rip.get_enum_dests(e)
    assert d10.prefix == "10.0.0.0/8"
    assert d10.dest_handle == rip.search_exact("10.0.0.0/8").dest_handle
    assert d10.belongs_to_views == BOTH
    uc, mc = d10.view_info
    assert (uc.view_id, uc.num_routes, uc.route, uc.owner, uc.dest_flags, uc.hold_route) == \
        (RTM_VIEW_ID_UCAST, 2, r_ospf, ospf.handle, 0, 0)
    assert (mc.view_id, mc.num_routes, mc.route, mc.owner, mc.dest_flags, mc.hold_route) == \
        (RTM_VIEW_ID_MCAST, 1, r_uc_mc, rip.handle, RTM_ROUTE_FLAGS_DISCARD, 0)
    assert d10.best(RTM_VIEW_ID_UCAST) == r_ospf and d10.best(RTM_VIEW_ID_MCAST) == r_uc_mc
    # a multicast-only destination: the unicast entry is empty
    assert d30.belongs_to_views == MC
    assert [(v.view_id, v.num_routes, v.route, v.owner) for v in d30.view_info] == \
        [(RTM_VIEW_ID_UCAST, 0, 0, 0), (RTM_VIEW_ID_MCAST, 1, d30.view_info[1].route,
                                         ospf.handle)]
    rip.release_dests([d10, d30])
    assert rip.get_enum_dests(e) == []
    rip.delete_enum_handle(e)


def test_protocol_id_selects_the_reported_route_not_the_destinations(rtm, rip, ospf):
    r_rip = add(rip, "10.0.0.0/8", metric=9)
    r_ospf = add(ospf, "10.0.0.0/8", metric=1)
    r_o20 = add(ospf, "20.0.0.0/8", metric=1)
    rip_10, ospf_10 = (r_rip, rip.handle), (r_ospf, ospf.handle)
    ospf_20, none = (r_o20, ospf.handle), (0, 0)
    cases = [(RTM_BEST_PROTOCOL, rip, [ospf_10, ospf_20]),
             (RTM_THIS_PROTOCOL, rip, [rip_10, none]),
             (RTM_THIS_PROTOCOL, ospf, [ospf_10, ospf_20]),
             (PROTO_IP_RIP, ospf, [rip_10, none]),
             (PROTO_IP_OSPF, rip, [ospf_10, ospf_20]),
             (PROTO_IP_BGP, rip, [none, none])]
    for proto, caller, want in cases:
        e = caller.create_dest_enum(UC, RTM_ENUM_START, None, proto)
        infos = caller.get_enum_dests(e)
        # the protocol is not a search criterion: both destinations, always
        assert [d.prefix for d in infos] == ["10.0.0.0/8", "20.0.0.0/8"], proto
        assert [(d.view_info[0].route, d.view_info[0].owner) for d in infos] == want, proto
        assert [d.view_info[0].num_routes for d in infos] == [2, 1]
        caller.release_dests(infos)
        caller.delete_enum_handle(e)


def test_own_dests(viewed):
    rip, ospf = viewed
    own = RTM_ENUM_OWN_DESTS
    assert dests(rip, UC, own) == ["10.0.0.0/8", "20.0.0.0/8"]
    assert dests(rip, MC, own) == ["10.0.0.0/8", "40.0.0.0/8"]
    assert dests(rip, BOTH, own) == ["10.0.0.0/8", "20.0.0.0/8", "40.0.0.0/8"]
    assert dests(rip, RTM_VIEW_MASK_ALL, own) == ["10.0.0.0/8", "20.0.0.0/8", "40.0.0.0/8"]
    assert dests(rip, RTM_VIEW_MASK_ANY, own) == ["10.0.0.0/8", "20.0.0.0/8", "40.0.0.0/8"]
    # ospf has a route on 10/8 but not the best one
    assert dests(ospf, UC, own) == ["40.0.0.0/8"]
    assert dests(ospf, MC, own) == ["30.0.0.0/8"]
    assert dests(ospf, BOTH, own) == ["30.0.0.0/8", "40.0.0.0/8"]
    # combined with a range and NEXT
    assert dests(rip, BOTH, own | RTM_ENUM_RANGE, "40.0.0.0/8") == ["40.0.0.0/8"]
    assert dests(rip, UC, own | RTM_ENUM_NEXT, "10.0.0.1/32") == ["20.0.0.0/8"]
    assert dests(ospf, UC, own | RTM_ENUM_RANGE, "20.0.0.0/8") == []


def test_own_dests_follow_best_route_changes(rip, ospf):
    add(rip, "10.0.0.0/8", metric=5)
    e = ospf.create_dest_enum(UC, RTM_ENUM_OWN_DESTS)
    add(ospf, "10.0.0.0/8", metric=1)        # ospf becomes best before the cursor gets there
    assert drain_dests(ospf, e) == ["10.0.0.0/8"]
    ospf.delete_enum_handle(e)
    assert dests(rip, UC, RTM_ENUM_OWN_DESTS) == []


@pytest.mark.parametrize("views", [1 << 2, UC | 1 << 5, 1 << 31 | UC])
def test_unsupported_views_are_not_supported(rip, views):
    with pytest.raises(NotSupported) as exc:
        rip.create_dest_enum(views)
    assert exc.value.winerror == 50
    with pytest.raises(NotSupported):
        rip.create_route_enum(target_views=views)
    with pytest.raises(NotSupported):
        list(rip.destinations(views))


def test_views_of_a_unicast_only_manager():
    m = RoutingTableManager(views=UC, max_handles_in_enum=MAXH)
    rip = m.register_entity(PROTO_IP_RIP, 1)
    add(rip, "10.0.0.0/8")
    with pytest.raises(NotSupported):
        rip.create_dest_enum(MC)
    with pytest.raises(NotSupported):
        rip.create_route_enum(target_views=MC)
    e = rip.create_dest_enum(RTM_VIEW_MASK_ALL)          # ALL is clipped to the supported views
    (d,) = rip.get_enum_dests(e)
    assert [v.view_id for v in d.view_info] == [RTM_VIEW_ID_UCAST]
    rip.release_dests([d])
    rip.delete_enum_handle(e)


# ---------------------------------------------------------------------------
# hold-down routes and hold-only destinations: only with view mask 0 (F67, 1.7)
# ---------------------------------------------------------------------------
@pytest.fixture
def held():
    """10/8: its only route deleted while held (a hold-only destination);
    20/8: held, its only route deleted, then a new route added (route + hold
    route, F72/F73); 30/8: an ordinary destination."""
    clock = VirtualClock()
    rtm = RoutingTableManager(clock=clock, max_handles_in_enum=MAXH)
    rip = rtm.register_entity(PROTO_IP_RIP, 1)
    old = {}
    for p in ["10.0.0.0/8", "20.0.0.0/8", "30.0.0.0/8"]:
        old[p] = add(rip, p, metric=1)
    for p in ["10.0.0.0/8", "20.0.0.0/8"]:
        rip.hold_destination(rip.search_exact(p).dest_handle, RTM_VIEW_MASK_ALL, 1000)
    for p in ["10.0.0.0/8", "20.0.0.0/8"]:
        rip.reference_handles([old[p]])
        rip.delete_route_to_dest(old[p])
    n2 = nh(rip, "192.0.2.2")
    new20 = add(rip, "20.0.0.0/8", metric=7, neighbour=n2, next_hops=[n2])
    yield rtm, clock, rip, old, new20
    rtm.check_invariants()


def test_hold_only_destinations_only_with_view_mask_0(held):
    _, clock, rip, old, new20 = held
    assert dests(rip, RTM_VIEW_MASK_ANY) == ["10.0.0.0/8", "20.0.0.0/8", "30.0.0.0/8"]
    assert dests(rip, RTM_VIEW_MASK_ANY, n=1) == ["10.0.0.0/8", "20.0.0.0/8", "30.0.0.0/8"]
    for views in (UC, MC, BOTH, RTM_VIEW_MASK_ALL):
        assert dests(rip, views) == (["20.0.0.0/8", "30.0.0.0/8"] if views != MC else [])
    assert dests(rip, RTM_VIEW_MASK_ANY, RTM_ENUM_RANGE, "10.0.0.0/8") == ["10.0.0.0/8"]
    assert dests(rip, RTM_VIEW_MASK_ANY, RTM_ENUM_NEXT, "10.0.0.0/8") == \
        ["10.0.0.0/8", "20.0.0.0/8", "30.0.0.0/8"]
    assert [d.prefix for d in rip.destinations()] == ["10.0.0.0/8", "20.0.0.0/8",
                                                       "30.0.0.0/8"]
    assert [d.prefix for d in rip.destinations(UC)] == ["20.0.0.0/8", "30.0.0.0/8"]
    # the unicast view information of 20/8 shows the new route and the hold route
    e = rip.create_dest_enum(UC, RTM_ENUM_RANGE, "20.0.0.0/8")
    (d,) = rip.get_enum_dests(e)
    assert (d.view_info[0].route, d.view_info[0].hold_route) == (new20, old["20.0.0.0/8"])
    rip.release_dests([d])
    rip.delete_enum_handle(e)
    # when the hold time is up, the hold-only destination is gone
    clock.advance(1000)
    assert dests(rip, RTM_VIEW_MASK_ANY) == ["20.0.0.0/8", "30.0.0.0/8"]


def test_hold_routes_only_with_view_mask_0(held):
    rtm, clock, rip, old, new20 = held
    got = routes(rip, target_views=RTM_VIEW_MASK_ANY)
    assert [describe(rip, h)[0] for h in got] == \
        ["10.0.0.0/8", "20.0.0.0/8", "20.0.0.0/8", "30.0.0.0/8"]
    assert got[0] == old["10.0.0.0/8"]
    assert set(got[1:3]) == {new20, old["20.0.0.0/8"]}
    ri, _ = rip.get_route_info(old["10.0.0.0/8"])
    assert ri.state == RTM_ROUTE_STATE_DELETED
    rip.release_route_info(ri)
    for views in (UC, BOTH, RTM_VIEW_MASK_ALL):
        got = routes(rip, target_views=views)
        assert [describe(rip, h)[0] for h in got] == ["20.0.0.0/8", "30.0.0.0/8"]
        assert got[0] == new20
    # a route enumeration over the hold-only destination itself
    e = rip.create_dest_enum(RTM_VIEW_MASK_ANY, RTM_ENUM_RANGE, "10.0.0.0/8")
    (d10,) = rip.get_enum_dests(e)
    assert routes(rip, dest=d10.dest_handle, target_views=RTM_VIEW_MASK_ANY) == \
        [old["10.0.0.0/8"]]
    assert routes(rip, dest=d10.dest_handle, target_views=UC) == []
    rip.release_dests([d10])
    rip.delete_enum_handle(e)
    # the handles are references like any other
    e = rip.create_route_enum(target_views=RTM_VIEW_MASK_ANY)
    (h,) = rip.get_enum_routes(e, 1)
    assert h == old["10.0.0.0/8"] and rtm.core.ref_count(h) == 1
    rip.release_routes([h])
    assert rtm.core.ref_count(h) == 0
    rip.delete_enum_handle(e)
    clock.advance(1000)
    assert [describe(rip, h)[0] for h in routes(rip, target_views=RTM_VIEW_MASK_ANY)] == \
        ["20.0.0.0/8", "30.0.0.0/8"]


# ---------------------------------------------------------------------------
# the Pythonic iterator
# ---------------------------------------------------------------------------
def test_destinations_iterator(viewed, rtm):
    rip, ospf = viewed
    every = ["10.0.0.0/8", "20.0.0.0/8", "30.0.0.0/8", "40.0.0.0/8"]
    for batch in (None, 1, 2, 3, MAXH):
        assert [d.prefix for d in rip.destinations(batch=batch)] == every
    got = list(rip.destinations())
    assert all(d.view_info == [] for d in got)             # views 0: no per-view information
    assert [d.prefix for d in rip.destinations(UC)] == ["10.0.0.0/8", "20.0.0.0/8",
                                                         "40.0.0.0/8"]
    assert [[v.view_id for v in d.view_info] for d in rip.destinations(MC)] == [[1], [1], [1]]
    assert [d.prefix for d in rip.destinations(prefix="40.0.0.0/8")] == ["40.0.0.0/8"]
    assert [d.prefix for d in rip.destinations(prefix="16.0.0.0/4")] == ["20.0.0.0/8",
                                                                          "30.0.0.0/8"]
    assert [d.prefix for d in rip.destinations(UC, own=True)] == ["10.0.0.0/8", "20.0.0.0/8"]
    assert [d.prefix for d in ospf.destinations(BOTH, own=True, batch=1)] == \
        ["30.0.0.0/8", "40.0.0.0/8"]
    assert list(rip.destinations(prefix="50.0.0.0/8")) == []


def test_destinations_iterator_holds_no_references(viewed, rtm):
    rip, ospf = viewed
    for _ in rip.destinations():
        pass
    before = rtm.core.record_counts()
    infos = list(rip.destinations(RTM_VIEW_MASK_ALL, batch=1))
    handles = [d.dest_handle for d in infos] + [v.route for d in infos for v in d.view_info]
    assert all(rtm.core.ref_count(h) == 0 for h in handles if h)
    assert rtm.core.ref_count(rip.handle) == 0 and rtm.core.ref_count(ospf.handle) == 0
    assert rtm.core.record_counts() == before
    with pytest.raises(InvalidHandle):
        rip.release_dests(infos[:1])                   # snapshots hold nothing to release


def test_destinations_iterator_is_live(rip):
    for p in ["10.0.0.0/8", "20.0.0.0/8", "30.0.0.0/8", "40.0.0.0/8"]:
        add(rip, p)
    seen = []
    for d in rip.destinations(batch=1):
        seen.append(d.prefix)
        if d.prefix == "20.0.0.0/8":
            add(rip, "25.0.0.0/8")                               # after: returned
            add(rip, "15.0.0.0/8")                               # before: not
            rip.delete_routes(["30.0.0.0"], [8])                 # not reached yet: skipped
    assert seen == ["10.0.0.0/8", "20.0.0.0/8", "25.0.0.0/8", "40.0.0.0/8"]


# ---------------------------------------------------------------------------
# IPv6 and family separation
# ---------------------------------------------------------------------------
V6 = ["2001:db8::/48", "::/0", "2001:db8:0:1::/64", "fe80::/10", "2001:db8::/32",
      "2001:db9::/32", "2001:db8:1::/48", "2001:db8::1/128", "2001:db8::/63",
      "2001:db8:0:0:8000::/65"]
V6_ORDER = ["::/0", "2001:db8::/32", "2001:db8::/48", "2001:db8::/63", "2001:db8::1/128",
            "2001:db8:0:0:8000::/65", "2001:db8:0:1::/64", "2001:db8:1::/48",
            "2001:db9::/32", "fe80::/10"]


@pytest.mark.parametrize("long_share", [0.0, 0.01, 0.5, 1.0])
def test_ipv6_bulk_load_in_random_order_links_in_prefix_order(long_share):
    """Destinations added in random order are linked after a sort of their
    keys; prefixes longer than /64 (with low bits) are sorted apart and
    merged in.  Whatever their share, the trie holds, enumerates in prefix
    order and answers longest matches like a brute-force search."""
    import numpy as np

    from rtmcore import RoutingTableManager
    rng = np.random.default_rng(int(long_share * 100))
    bases = [int(ipaddress.IPv6Address(a)) for a in ("2001:db8::", "2001:db8:8000::",
                                                      "2a00:1450::", "fd00::")]
    nets = set()
    while len(nets) < 2000:
        long = rng.random() < long_share
        plen = int(rng.integers(65, 129) if long else rng.integers(24, 65))
        addr = bases[int(rng.integers(len(bases)))] | int(rng.integers(0, 1 << 62)) << 40 \
            | int(rng.integers(0, 1 << 40))
        addr &= ((1 << 128) - 1) ^ ((1 << (128 - plen)) - 1)
        nets.add((addr, plen))
    rows = list(nets)
    rng.shuffle(rows)
    cols = np.array([[a >> 64, a & ((1 << 64) - 1)] for a, _ in rows], np.uint64)
    rtm = RoutingTableManager()
    ent = rtm.register_entity(PROTO_IP_BGP, 0, AF_INET6)
    ent.add_routes(cols, np.array([p for _, p in rows], np.uint8), metric=1)
    rtm.check_invariants()
    expected = [f"{ipaddress.IPv6Address(a)}/{p}" for a, p in sorted(nets)]
    assert [d.prefix for d in ent.destinations()] == expected
    for a, p in rows[:150]:
        probe = a | int(rng.integers(0, 1 << min(62, 128 - p))) if p < 128 else a
        best = max(q for b, q in nets if (probe >> (128 - q)) == (b >> (128 - q)))
        hit = ent.search_best(f"{ipaddress.IPv6Address(probe)}/128")
        assert hit is not None and hit.dest_address.plen == best


def test_ipv6_order_next_and_range(rip, rip6):
    add(rip, "10.0.0.0/8")
    for p in V6:
        add(rip6, p)
    assert dests(rip6) == V6_ORDER
    assert dests(rip6, n=1) == V6_ORDER
    assert dests(rip) == ["10.0.0.0/8"]                  # families are separate tables
    assert dests(rip6, flags=RTM_ENUM_RANGE, address="2001:db8::/32") == V6_ORDER[1:8]
    assert dests(rip6, flags=RTM_ENUM_RANGE, address="2001:db8::/64") == V6_ORDER[4:6]
    assert dests(rip6, flags=RTM_ENUM_RANGE, address="2001:db8::/47") == V6_ORDER[2:8]
    assert dests(rip6, flags=RTM_ENUM_NEXT, address="2001:db8::/63") == V6_ORDER[3:]
    assert dests(rip6, flags=RTM_ENUM_NEXT, address="2001:db8:0:1::/64") == V6_ORDER[6:]
    assert dests(rip6, flags=RTM_ENUM_NEXT, address="2001:db8::2/127") == V6_ORDER[5:]
    assert [d.prefix for d in rip6.destinations(prefix="2001:db8::/64", batch=1)] == \
        V6_ORDER[4:6]


def test_families_stay_apart_when_a_destination_is_deleted_before_the_trie_is_built(rip,
                                                                                   rip6):
    """An IPv4 destination deleted before any enumeration, whose storage is
    then reused by an IPv6 destination, must not bring that IPv6 destination
    into IPv4 enumerations."""
    add(rip, "9.255.0.0/16")
    add(rip, "0.0.0.0/0")
    rip.delete_routes(["9.255.0.0"], [16])
    add(rip6, "2001:db8::/127")
    assert dests(rip) == ["0.0.0.0/0"]
    assert dests(rip6) == ["2001:db8::/127"]
    assert [d.prefix for d in rip.destinations()] == ["0.0.0.0/0"]
    assert [d.prefix for d in rip6.destinations()] == ["2001:db8::/127"]


# ---------------------------------------------------------------------------
# enumeration handles (F69)
# ---------------------------------------------------------------------------
def test_bad_enum_handles(table, ospf, rtm):
    e = table.create_dest_enum()
    for bogus in [0, 1, e + 1, e ^ (1 << 40), -1, None, "x", 1.5, table.handle,
                  table.search_exact("10.0.0.0/8").dest_handle]:
        with pytest.raises(InvalidHandle) as exc:
            table.get_enum_dests(bogus)
        assert exc.value.winerror == 6
        with pytest.raises(InvalidHandle):
            table.delete_enum_handle(bogus)
    # another entity's enumeration
    with pytest.raises(InvalidHandle):
        ospf.get_enum_dests(e)
    with pytest.raises(InvalidHandle):
        ospf.delete_enum_handle(e)
    # another manager's enumeration, even with the same shape
    other = RoutingTableManager(max_handles_in_enum=MAXH)
    o_rip = other.register_entity(PROTO_IP_RIP, 1)
    oe = o_rip.create_dest_enum()
    with pytest.raises(InvalidHandle):
        table.get_enum_dests(oe)
    with pytest.raises(InvalidHandle):
        o_rip.get_enum_dests(e)
    o_rip.delete_enum_handle(oe)
    # the failures did not disturb the enumeration
    assert drain_dests(table, e) == ORDER
    table.delete_enum_handle(e)


def test_enum_handle_of_another_kind(table):
    de = table.create_dest_enum()
    re_ = table.create_route_enum()
    ne = table.create_next_hop_enum()
    for h, wrong in [(de, (table.get_enum_routes, table.get_enum_next_hops)),
                     (re_, (table.get_enum_dests, table.get_enum_next_hops)),
                     (ne, (table.get_enum_dests, table.get_enum_routes))]:
        for fn in wrong:
            with pytest.raises(InvalidHandle):
                fn(h)
    assert len({de, re_, ne}) == 3
    for h in (de, re_, ne):
        table.delete_enum_handle(h)


def test_release_functions_reject_what_was_not_handed_out(table, rtm):
    e = table.create_dest_enum()
    (d,) = table.get_enum_dests(e, 1)
    snapshot = next(table.destinations())
    for bad in ([snapshot], [object()]):
        with pytest.raises(InvalidHandle):
            table.release_dests(bad)
    assert rtm.core.ref_count(d.dest_handle) == 1
    table.release_dests([d])
    assert rtm.core.ref_count(d.dest_handle) == 0
    with pytest.raises(InvalidHandle):
        table.release_dests([d])                 # released already
    r = table.create_route_enum()
    (h,) = table.get_enum_routes(r, 1)
    with pytest.raises(InvalidHandle):
        table.release_routes([h, h])             # one reference, released twice
    with pytest.raises(InvalidHandle):
        table.release_routes([12345])
    table.release_routes([h])
    with pytest.raises(InvalidHandle):
        table.release_routes([h])                # no reference left
    n = table.create_next_hop_enum()
    (g,) = table.get_enum_next_hops(n, 1)
    with pytest.raises(InvalidHandle):
        table.release_next_hops([h])             # a route handle
    table.release_next_hops([g])
    with pytest.raises(InvalidHandle):
        table.release_next_hops([g])
    for x in (e, r, n):
        table.delete_enum_handle(x)


def test_negative_and_zero_free_counts(table):
    for create, get in ((table.create_route_enum, table.get_enum_routes),
                        (table.create_next_hop_enum, table.get_enum_next_hops),
                        (table.create_dest_enum, table.get_enum_dests)):
        e = create()
        for bad in (-1, MAXH + 1, 1 << 40):
            with pytest.raises(InvalidParameter):
                get(e, bad)
        assert len(get(e, 1)) == 1 and get(e, MAXH) is not None
        table.delete_enum_handle(e)


@pytest.mark.parametrize("kind", ["dest", "route", "nexthop"])
def test_delete_enum_handle_ends_any_enumeration(table, kind, rtm):
    create, get = {"dest": (table.create_dest_enum, table.get_enum_dests),
                   "route": (table.create_route_enum, table.get_enum_routes),
                   "nexthop": (table.create_next_hop_enum, table.get_enum_next_hops)}[kind]
    release = {"dest": table.release_dests, "route": table.release_routes,
               "nexthop": table.release_next_hops}[kind]
    rtm.check_invariants()
    before = rtm.core.record_counts()
    e = create()
    batch = get(e, 1)
    assert len(batch) == 1
    release(batch)
    table.delete_enum_handle(e)                  # mid-enumeration
    with pytest.raises(InvalidHandle):
        get(e)
    with pytest.raises(InvalidHandle):
        table.delete_enum_handle(e)              # consumed
    e2 = create()
    assert e2 != e                               # handles are not reused
    with pytest.raises(InvalidHandle):
        get(e)
    table.delete_enum_handle(e2)
    assert rtm.core.record_counts() == before


def test_deregistration_invalidates_the_entitys_enumerations(rtm, rip, ospf):
    for p in ["10.0.0.0/8", "20.0.0.0/8", "30.0.0.0/8"]:
        add(rip, p)
    add(ospf, "15.0.0.0/8")
    add(ospf, "20.0.0.0/8")
    mine = [ospf.create_dest_enum(), ospf.create_route_enum(), ospf.create_next_hop_enum()]
    theirs = rip.create_dest_enum(RTM_VIEW_MASK_ALL, RTM_ENUM_START)
    first = rip.get_enum_dests(theirs, 1)
    assert [d.prefix for d in first] == ["10.0.0.0/8"]
    rip.release_dests(first)
    ospf.deregister_entity()
    with pytest.raises(InvalidHandle):
        ospf.get_enum_dests(mine[0])
    with pytest.raises(InvalidHandle):
        ospf.delete_enum_handle(mine[0])
    for h, fn in zip(mine, (rip.get_enum_dests, rip.get_enum_routes, rip.get_enum_next_hops)):
        with pytest.raises(InvalidHandle):
            fn(h)
    # the same identity registered again gets a new registration: the old
    # enumerations are not its own
    ospf2 = rtm.register_entity(PROTO_IP_OSPF, 1)
    for h, fn in zip(mine, (ospf2.get_enum_dests, ospf2.get_enum_routes,
                            ospf2.get_enum_next_hops)):
        with pytest.raises(InvalidHandle):
            fn(h)
        with pytest.raises(InvalidHandle):
            ospf2.delete_enum_handle(h)
    # the others' enumerations go on: 15/8 (ospf only) went with ospf's routes
    assert drain_dests(rip, theirs) == ["20.0.0.0/8", "30.0.0.0/8"]
    rip.delete_enum_handle(theirs)


def test_deregistering_with_enumerations_outstanding_leaks_nothing(rtm, rip):
    add(rip, "10.0.0.0/8")
    rtm.check_invariants()
    before = rtm.core.record_counts()
    ospf = rtm.register_entity(PROTO_IP_OSPF, 1)
    add(ospf, "20.0.0.0/8")
    e1 = ospf.create_dest_enum()
    e2 = ospf.create_route_enum()
    e3 = ospf.create_next_hop_enum()
    b = ospf.get_enum_dests(e1, 1)
    ospf.release_dests(b)
    for e, fn in ((e2, ospf.get_enum_routes), (e3, ospf.get_enum_next_hops)):
        b = fn(e, 1)
        assert len(b) == 1
        (ospf.release_routes if fn == ospf.get_enum_routes else ospf.release_next_hops)(b)
    ospf.deregister_entity()
    rtm.check_invariants()
    assert rtm.core.record_counts() == before


# ---------------------------------------------------------------------------
# live cursors (F70, U21)
# ---------------------------------------------------------------------------
@pytest.fixture
def five(rip):
    for p in ["10.0.0.0/8", "20.0.0.0/8", "30.0.0.0/8", "40.0.0.0/8", "50.0.0.0/8"]:
        add(rip, p)
    return rip


def take(ent, e, n):
    b = ent.get_enum_dests(e, n)
    ent.release_dests(b)
    return [d.prefix for d in b]


def test_live_added_after_cursor_returned_before_cursor_not(five):
    rip = five
    e = rip.create_dest_enum()
    assert take(rip, e, 2) == ["10.0.0.0/8", "20.0.0.0/8"]
    add(rip, "25.0.0.0/8")            # after the cursor
    add(rip, "60.0.0.0/8")            # after, at the end
    add(rip, "15.0.0.0/8")            # before
    add(rip, "20.0.0.0/7")            # 20.0.0.0/7 < 20.0.0.0/8: before
    add(rip, "20.0.0.0/9")            # more specific of the cursor: after
    add(rip, "0.0.0.0/0")             # before
    assert drain_dests(rip, e) == ["20.0.0.0/9", "25.0.0.0/8", "30.0.0.0/8", "40.0.0.0/8",
                                   "50.0.0.0/8", "60.0.0.0/8"]
    rip.delete_enum_handle(e)


def test_live_deleted_before_reached_not_returned(five):
    rip = five
    e = rip.create_dest_enum()
    assert take(rip, e, 2) == ["10.0.0.0/8", "20.0.0.0/8"]
    rip.delete_routes(["30.0.0.0", "50.0.0.0"], [8, 8])
    assert drain_dests(rip, e) == ["40.0.0.0/8"]
    rip.delete_enum_handle(e)


def test_live_cursor_destination_deleted(five):
    rip = five
    e = rip.create_dest_enum()
    assert take(rip, e, 2) == ["10.0.0.0/8", "20.0.0.0/8"]
    rip.delete_routes(["20.0.0.0"], [8])             # the destination under the cursor
    assert take(rip, e, 1) == ["30.0.0.0/8"]
    rip.delete_routes(["30.0.0.0", "10.0.0.0"], [8, 8])
    add(rip, "30.0.0.0/8")                           # deleted and re-added: already returned
    add(rip, "20.0.0.0/8")
    assert drain_dests(rip, e) == ["40.0.0.0/8", "50.0.0.0/8"]
    rip.delete_enum_handle(e)


def test_live_cursor_survives_trie_restructuring(rip):
    for p in ["10.0.0.0/24", "10.0.3.0/24"]:
        add(rip, p)
    e = rip.create_dest_enum()
    assert take(rip, e, 1) == ["10.0.0.0/24"]
    # new glue nodes and a new parent around the cursor
    for p in ["10.0.1.0/24", "10.0.0.0/23", "10.0.0.0/25", "10.0.0.128/25", "9.0.0.0/8",
              "10.0.0.0/22", "10.0.2.0/24"]:
        add(rip, p)
    rip.delete_routes(["10.0.0.0"], [24])
    assert drain_dests(rip, e, 1) == ["10.0.0.0/25", "10.0.0.128/25", "10.0.1.0/24",
                                      "10.0.2.0/24", "10.0.3.0/24"]
    rip.delete_enum_handle(e)


def test_live_range(five):
    rip = five
    for p in ["30.0.0.0/16", "30.1.0.0/16"]:
        add(rip, p)
    e = rip.create_dest_enum(RTM_VIEW_MASK_ALL, RTM_ENUM_RANGE, "30.0.0.0/8")
    assert take(rip, e, 2) == ["30.0.0.0/8", "30.0.0.0/16"]
    add(rip, "30.0.128.0/17")         # in range, after the cursor
    add(rip, "30.0.0.0/7")            # out of range
    add(rip, "31.0.0.0/8")            # out of range, after
    add(rip, "30.255.0.0/16")         # in range, after
    rip.delete_routes(["30.1.0.0"], [16])
    assert drain_dests(rip, e) == ["30.0.128.0/17", "30.255.0.0/16"]
    rip.delete_enum_handle(e)


def test_live_next(five):
    rip = five
    e = rip.create_dest_enum(RTM_VIEW_MASK_ALL, RTM_ENUM_NEXT, "30.0.0.0/8")
    add(rip, "30.0.0.0/8", metric=7)                 # update: nothing new
    add(rip, "29.0.0.0/8")                           # before the start
    assert take(rip, e, 1) == ["30.0.0.0/8"]
    add(rip, "35.0.0.0/8")
    assert drain_dests(rip, e) == ["35.0.0.0/8", "40.0.0.0/8", "50.0.0.0/8"]
    rip.delete_enum_handle(e)


def test_live_start_prefix_deleted_before_the_first_batch(five):
    rip = five
    e = rip.create_dest_enum(RTM_VIEW_MASK_ALL, RTM_ENUM_NEXT, "30.0.0.0/8")
    rip.delete_routes(["30.0.0.0"], [8])
    assert drain_dests(rip, e) == ["40.0.0.0/8", "50.0.0.0/8"]
    rip.delete_enum_handle(e)


def test_live_added_after_a_short_last_batch_is_returned(five):
    """The end is the empty list: a destination added after the cursor once a
    short (but non-empty) batch came back is still returned (U21)."""
    rip = five
    e = rip.create_dest_enum()
    assert take(rip, e, 4) == ["10.0.0.0/8", "20.0.0.0/8", "30.0.0.0/8", "40.0.0.0/8"]
    assert take(rip, e, 4) == ["50.0.0.0/8"]         # short, not yet the end
    add(rip, "60.0.0.0/8")
    assert take(rip, e, 4) == ["60.0.0.0/8"]
    assert take(rip, e, 4) == []
    rip.delete_enum_handle(e)


def test_live_added_after_a_batch_that_reached_the_last_destination(five):
    rip = five
    e = rip.create_dest_enum()
    assert take(rip, e, 3) == ["10.0.0.0/8", "20.0.0.0/8", "30.0.0.0/8"]
    assert take(rip, e, 2) == ["40.0.0.0/8", "50.0.0.0/8"]   # full batch, table exhausted
    add(rip, "55.0.0.0/8")
    assert take(rip, e, 2) == ["55.0.0.0/8"]
    assert take(rip, e, 2) == []
    rip.delete_enum_handle(e)


def test_live_enumeration_of_an_empty_table(rip):
    e = rip.create_dest_enum()
    add(rip, "10.0.0.0/8")                           # added before the first batch
    assert take(rip, e, 1) == ["10.0.0.0/8"]
    assert take(rip, e, 1) == []
    rip.delete_enum_handle(e)


# ---------------------------------------------------------------------------
# route enumeration (F64-F66)
# ---------------------------------------------------------------------------
@pytest.fixture
def ranked(rtm, rip, ospf):
    """10/8 with five routes whose selection order differs from arrival."""
    n_a, n_b = nh(rip, "192.0.2.1", 1), nh(rip, "192.0.2.2", 2)
    n_o = nh(ospf, "192.0.2.9", 3)
    r = {}
    r["rip_a"] = add(rip, "10.0.0.0/8", metric=5, preference=10, neighbour=n_a, next_hops=[n_a])
    r["ospf"] = add(ospf, "10.0.0.0/8", metric=1, preference=20, next_hops=[n_o])
    r["rip_b"] = add(rip, "10.0.0.0/8", metric=5, preference=10, neighbour=n_b,
                     next_hops=[n_b], views=BOTH)
    r["rip_c"] = add(rip, "10.0.0.0/8", metric=3, preference=10, neighbour=0,
                     next_hops=[n_a, n_b], views=MC)
    r["low_pref"] = add(ospf, "10.0.0.0/8", metric=99, preference=1, next_hops=[n_o],
                        neighbour=n_o)
    r["o20"] = add(ospf, "20.0.0.0/8", metric=1, next_hops=[n_o])
    r["r20"] = add(rip, "20.0.0.0/8", metric=1, next_hops=[n_a], neighbour=n_a)
    r["r5"] = add(rip, "5.0.0.0/8", metric=1, next_hops=[n_b])
    r["o10_16"] = add(ospf, "10.0.0.0/16", metric=1, next_hops=[n_o])
    return rip, ospf, r, (n_a, n_b, n_o)


def test_route_order_destinations_then_selection_order(ranked):
    rip, ospf, r, _ = ranked
    want = ["r5", "low_pref", "rip_c", "rip_a", "rip_b", "ospf", "o10_16", "o20", "r20"]
    assert routes(rip) == [r[k] for k in want]
    assert routes(rip, n=1) == [r[k] for k in want]
    assert routes(ospf, n=3) == [r[k] for k in want]
    assert [describe(rip, h)[0] for h in routes(rip)] == \
        ["5.0.0.0/8"] + ["10.0.0.0/8"] * 5 + ["10.0.0.0/16", "20.0.0.0/8", "20.0.0.0/8"]


def test_route_order_updates_move_a_route(ranked):
    rip, _, r, (n_a, _, _) = ranked
    # rip_a gets a worse metric: it goes behind rip_b (equal cost: arrival at that cost)
    rip.add_route_to_dest("10.0.0.0/8", route=r["rip_a"], metric=6, preference=10,
                          neighbour=n_a, next_hops=[n_a])
    d = rip.search_exact("10.0.0.0/8").dest_handle
    assert routes(rip, dest=d) == [r[k] for k in ["low_pref", "rip_c", "rip_b", "rip_a",
                                                   "ospf"]]
    # and back to 5: now it arrived at cost 5 after rip_b
    rip.add_route_to_dest("10.0.0.0/8", route=r["rip_a"], metric=5, preference=10,
                          neighbour=n_a, next_hops=[n_a])
    assert routes(rip, dest=d) == [r[k] for k in ["low_pref", "rip_c", "rip_b", "rip_a",
                                                   "ospf"]]


def test_route_enum_of_one_destination(ranked):
    rip, ospf, r, _ = ranked
    d10 = rip.search_exact("10.0.0.0/8").dest_handle
    d20 = rip.search_exact("20.0.0.0/8").dest_handle
    want10 = [r[k] for k in ["low_pref", "rip_c", "rip_a", "rip_b", "ospf"]]
    assert routes(rip, dest=d10) == want10
    assert routes(rip, dest=d10, n=2) == want10
    assert routes(ospf, dest=d20) == [r["o20"], r["r20"]]
    assert routes(rip, dest=d10, target_views=UC) == [r[k] for k in ["low_pref", "rip_a",
                                                                      "rip_b", "ospf"]]
    assert routes(rip, dest=d10, enum_flags=RTM_ENUM_OWN_ROUTES) == \
        [r[k] for k in ["rip_c", "rip_a", "rip_b"]]
    # a destination handle from get_dest_info / an enumeration works too
    e = rip.create_dest_enum(UC, RTM_ENUM_RANGE, "20.0.0.0/8")
    (info,) = rip.get_enum_dests(e)
    assert routes(rip, dest=info.dest_handle) == [r["o20"], r["r20"]]
    rip.release_dests([info])
    rip.delete_enum_handle(e)


def test_route_enum_bad_destination_handle(ranked):
    rip, _, r, _ = ranked
    for bad in [12345, r["rip_a"], rip.handle]:
        with pytest.raises(InvalidHandle):
            rip.create_route_enum(dest=bad)


def test_route_enum_ranges(ranked):
    rip, ospf, r, _ = ranked
    ten = [r[k] for k in ["low_pref", "rip_c", "rip_a", "rip_b", "ospf"]]
    assert routes(rip, enum_flags=RTM_ENUM_RANGE, start_dest="10.0.0.0/8") == \
        ten + [r["o10_16"]]
    assert routes(rip, enum_flags=RTM_ENUM_RANGE, start_dest="10.0.0.0/16") == [r["o10_16"]]
    assert routes(rip, enum_flags=RTM_ENUM_RANGE, start_dest="11.0.0.0/8") == []
    assert routes(rip, enum_flags=RTM_ENUM_NEXT, start_dest="10.0.0.0/8", n=1) == \
        ten + [r["o10_16"], r["o20"], r["r20"]]
    assert routes(rip, enum_flags=RTM_ENUM_NEXT, start_dest="10.0.0.0/9") == \
        [r["o10_16"], r["o20"], r["r20"]]
    assert routes(rip, enum_flags=RTM_ENUM_START, start_dest="20.0.0.0/8") == routes(rip)
    assert routes(ospf, enum_flags=RTM_ENUM_RANGE | RTM_ENUM_OWN_ROUTES,
                  start_dest="10.0.0.0/8") == [r["low_pref"], r["ospf"], r["o10_16"]]
    for flags, start in [(RTM_ENUM_NEXT, None), (RTM_ENUM_RANGE, None), (3, "10.0.0.0/8"),
                         (RTM_ENUM_OWN_DESTS, None), (RTM_ENUM_RANGE, "10.0.0.1/8")]:
        with pytest.raises(InvalidParameter):
            rip.create_route_enum(enum_flags=flags, start_dest=start)


def test_route_enum_views(ranked):
    rip, _, r, _ = ranked
    uc = ["r5", "low_pref", "rip_a", "rip_b", "ospf", "o10_16", "o20", "r20"]
    assert routes(rip, target_views=UC) == [r[k] for k in uc]
    assert routes(rip, target_views=MC) == [r["rip_c"], r["rip_b"]]
    every = ["r5", "low_pref", "rip_c", "rip_a", "rip_b", "ospf", "o10_16", "o20", "r20"]
    for v in (BOTH, RTM_VIEW_MASK_ALL, RTM_VIEW_MASK_ANY):
        assert routes(rip, target_views=v) == [r[k] for k in every]


def test_own_routes(ranked):
    rip, ospf, r, _ = ranked
    assert routes(rip, enum_flags=RTM_ENUM_OWN_ROUTES) == \
        [r[k] for k in ["r5", "rip_c", "rip_a", "rip_b", "r20"]]
    assert routes(ospf, enum_flags=RTM_ENUM_OWN_ROUTES, n=1) == \
        [r[k] for k in ["low_pref", "ospf", "o10_16", "o20"]]
    assert routes(ospf, enum_flags=RTM_ENUM_OWN_ROUTES, target_views=MC) == []
    assert all(describe(rip, h)[1] == rip.handle
               for h in routes(rip, enum_flags=RTM_ENUM_OWN_ROUTES))


def test_own_routes_where_the_best_route_is_anothers(rip, ospf):
    """OWN_ROUTES selects routes, not destinations: the caller's route on a
    destination whose best route is another entity's is returned."""
    add(ospf, "20.0.0.0/8", metric=1)
    mine = add(rip, "20.0.0.0/8", metric=5)
    assert routes(rip, enum_flags=RTM_ENUM_OWN_ROUTES) == [mine]
    assert routes(rip, target_views=UC, enum_flags=RTM_ENUM_OWN_ROUTES | RTM_ENUM_RANGE,
                  start_dest="20.0.0.0/8") == [mine]
    d = rip.search_exact("20.0.0.0/8").dest_handle
    assert routes(rip, dest=d, enum_flags=RTM_ENUM_OWN_ROUTES) == [mine]


def test_route_matching_criteria(ranked):
    rip, ospf, r, (n_a, n_b, _) = ranked
    def m(flags, crit=None, ifindex=0, **kw):
        return routes(rip, matching_flags=flags, criteria_route=crit,
                      criteria_interface=ifindex, **kw)
    every = routes(rip)
    assert m(RTM_MATCH_NONE) == every
    assert m(RTM_MATCH_NONE, RouteInfo(metric=12345)) == every          # criteria ignored
    assert m(RTM_MATCH_OWNER, RouteInfo(route_owner=ospf.handle)) == \
        [r[k] for k in ["low_pref", "ospf", "o10_16", "o20"]]
    assert m(RTM_MATCH_NEIGHBOUR, RouteInfo(neighbour=n_a)) == [r["rip_a"], r["r20"]]
    assert m(RTM_MATCH_NEIGHBOUR, RouteInfo(neighbour=0)) == \
        [r[k] for k in ["r5", "rip_c", "ospf", "o10_16", "o20"]]
    assert m(RTM_MATCH_PREF, RouteInfo(preference=10, metric=5)) == [r["rip_a"], r["rip_b"]]
    assert m(RTM_MATCH_PREF, RouteInfo(preference=20, metric=5)) == []
    assert m(RTM_MATCH_NEXTHOP, RouteInfo(next_hops=[n_b])) == [r["r5"], r["rip_b"]]
    assert m(RTM_MATCH_NEXTHOP, RouteInfo(next_hops=[n_b, n_a])) == [r["rip_c"]]  # set equality
    assert m(RTM_MATCH_NEXTHOP, RouteInfo(next_hops=[n_a])) == [r["rip_a"], r["r20"]]
    assert m(RTM_MATCH_INTERFACE, None, 2) == [r["r5"], r["rip_c"], r["rip_b"]]
    assert m(RTM_MATCH_INTERFACE, None, 3) == [r[k] for k in ["low_pref", "ospf", "o10_16",
                                                              "o20"]]
    assert m(RTM_MATCH_INTERFACE, None, 7) == []
    assert m(RTM_MATCH_OWNER | RTM_MATCH_PREF,
             RouteInfo(route_owner=rip.handle, preference=10, metric=5)) == \
        [r["rip_a"], r["rip_b"]]
    assert m(RTM_MATCH_OWNER | RTM_MATCH_INTERFACE, RouteInfo(route_owner=rip.handle), 1) == \
        [r["rip_c"], r["rip_a"], r["r20"]]
    full = RouteInfo(route_owner=rip.handle, neighbour=n_b, preference=10, metric=5,
                     next_hops=[n_b])
    assert m(RTM_MATCH_FULL, full, 2) == [r["rip_b"]]
    assert m(RTM_MATCH_FULL, full, 1) == []                              # INTERFACE is part of FULL
    # with a destination, a range and own routes
    d10 = rip.search_exact("10.0.0.0/8").dest_handle
    assert m(RTM_MATCH_NEXTHOP, RouteInfo(next_hops=[n_b]), dest=d10) == [r["rip_b"]]
    assert m(RTM_MATCH_INTERFACE, None, 2, enum_flags=RTM_ENUM_RANGE,
             start_dest="10.0.0.0/8") == [r["rip_c"], r["rip_b"]]
    assert m(RTM_MATCH_INTERFACE, None, 3, enum_flags=RTM_ENUM_OWN_ROUTES) == []
    # the criteria route is required by every flag but INTERFACE / NONE
    for flags in (RTM_MATCH_OWNER, RTM_MATCH_NEIGHBOUR, RTM_MATCH_PREF, RTM_MATCH_NEXTHOP,
                  RTM_MATCH_FULL):
        with pytest.raises(InvalidParameter):
            rip.create_route_enum(matching_flags=flags)


def test_route_enum_batches(ranked):
    rip, _, _, _ = ranked
    e = rip.create_route_enum()
    with pytest.raises(InvalidParameter):
        rip.get_enum_routes(e, MAXH + 1)
    sizes = []
    while True:
        b = rip.get_enum_routes(e)
        sizes.append(len(b))
        rip.release_routes(b)
        if not b:
            break
    assert sizes == [4, 4, 1, 0]
    assert rip.get_enum_routes(e) == []
    rip.delete_enum_handle(e)


def test_route_enum_live(ranked):
    rip, ospf, r, (n_a, _, _) = ranked
    e = rip.create_route_enum()
    b = rip.get_enum_routes(e, 2)
    assert b == [r["r5"], r["low_pref"]]             # the cursor is inside 10/8
    rip.release_routes(b)
    # add routes after the cursor, and one before it
    new30 = add(rip, "30.0.0.0/8", next_hops=[n_a])
    new1 = add(rip, "1.0.0.0/8", next_hops=[n_a])
    # delete routes not reached yet (one in the current destination, one later)
    ospf.reference_handles([r["ospf"], r["o20"]])
    ospf.delete_route_to_dest(r["ospf"])
    ospf.delete_route_to_dest(r["o20"])
    got = drain_routes(rip, e)
    assert got == [r[k] for k in ["rip_c", "rip_a", "rip_b", "o10_16", "r20"]] + [new30]
    assert new1 not in got
    rip.delete_enum_handle(e)


def test_route_enum_live_deleted_route_slot_reused(rip):
    """A route deleted while its destination is being enumerated is skipped,
    and a route created meanwhile (perhaps in the deleted one's storage) is
    returned once, at its own place in the order."""
    n1, n2, n3 = nh(rip, "192.0.2.1"), nh(rip, "192.0.2.2"), nh(rip, "192.0.2.3")
    r1 = add(rip, "10.0.0.0/8", metric=1, neighbour=n1, next_hops=[n1])
    r2 = add(rip, "10.0.0.0/8", metric=2, neighbour=n2, next_hops=[n2])
    r3 = add(rip, "10.0.0.0/8", metric=3, neighbour=n3, next_hops=[n3])
    r20 = add(rip, "20.0.0.0/8", metric=1, next_hops=[n1])
    e = rip.create_route_enum()
    b = rip.get_enum_routes(e, 1)
    assert b == [r1]
    rip.release_routes(b)
    rip.reference_handles([r2])
    rip.delete_route_to_dest(r2)                       # consumes that reference: r2 is freed
    new5 = add(rip, "5.0.0.0/8", metric=1, next_hops=[n1])     # before the cursor
    new30 = add(rip, "30.0.0.0/8", metric=1, next_hops=[n1])   # after the cursor
    got = drain_routes(rip, e, 1)
    assert got == [r3, r20, new30], [describe(rip, h) for h in got]
    assert new5 not in got
    rip.delete_enum_handle(e)


def test_route_enum_live_destination_added_after_the_last_one(rip):
    add(rip, "10.0.0.0/8")
    e = rip.create_route_enum()
    (h,) = rip.get_enum_routes(e, 1)
    rip.release_routes([h])
    new = add(rip, "20.0.0.0/8")
    assert drain_routes(rip, e) == [new]
    rip.delete_enum_handle(e)


# ---------------------------------------------------------------------------
# next-hop enumeration (F68, U38)
# ---------------------------------------------------------------------------
@pytest.fixture
def hops(rip, ospf):
    mine = [("192.0.2.1", 2), ("10.0.0.1", 1), ("192.0.2.1", 1), ("10.255.255.255", 4),
            ("9.255.255.255", 1), ("11.0.0.0", 1), ("10.0.0.0", 3), ("192.0.2.0", 1)]
    for a, i in mine:
        nh(rip, a, i)
    nh(ospf, "10.0.0.2", 1)                    # another entity's: never enumerated
    nh(ospf, "1.1.1.1", 1)
    return rip


HOP_ORDER = [("9.255.255.255", 1), ("10.0.0.0", 3), ("10.0.0.1", 1), ("10.255.255.255", 4),
             ("11.0.0.0", 1), ("192.0.2.0", 1), ("192.0.2.1", 1), ("192.0.2.1", 2)]


def next_hops(ent, flags=RTM_ENUM_START, address=None, n=None):
    e = ent.create_next_hop_enum(flags, address)
    try:
        return [nh_key(ent, h) for h in drain_next_hops(ent, e, n)]
    finally:
        ent.delete_enum_handle(e)


def test_next_hop_enum_start(hops):
    assert next_hops(hops) == HOP_ORDER
    for n in (1, 2, 3):
        assert next_hops(hops, n=n) == HOP_ORDER


def test_next_hop_enum_next_and_range(hops):
    assert next_hops(hops, RTM_ENUM_NEXT, "10.0.0.1/32") == HOP_ORDER[2:]     # inclusive
    assert next_hops(hops, RTM_ENUM_NEXT, "10.0.0.0/8") == HOP_ORDER[1:]
    assert next_hops(hops, RTM_ENUM_NEXT, "10.0.0.2/32", 1) == HOP_ORDER[3:]
    assert next_hops(hops, RTM_ENUM_NEXT, "200.0.0.0/8") == []
    assert next_hops(hops, RTM_ENUM_RANGE, "10.0.0.0/8") == HOP_ORDER[1:4]
    assert next_hops(hops, RTM_ENUM_RANGE, "10.0.0.0/8", 1) == HOP_ORDER[1:4]
    assert next_hops(hops, RTM_ENUM_RANGE, "192.0.2.0/31") == HOP_ORDER[5:]
    assert next_hops(hops, RTM_ENUM_RANGE, "192.0.2.1/32") == HOP_ORDER[6:]
    assert next_hops(hops, RTM_ENUM_RANGE, "10.0.0.0/31") == HOP_ORDER[1:3]
    assert next_hops(hops, RTM_ENUM_RANGE, "0.0.0.0/0") == HOP_ORDER
    assert next_hops(hops, RTM_ENUM_RANGE, "12.0.0.0/8") == []
    for flags, address in [(RTM_ENUM_NEXT, None), (RTM_ENUM_RANGE, None), (3, "10.0.0.0/8"),
                           (RTM_ENUM_OWN_DESTS, None), (RTM_ENUM_RANGE, "10.0.0.1/8")]:
        with pytest.raises(InvalidParameter):
            hops.create_next_hop_enum(flags, address)


def test_next_hop_enum_batches_and_errors(hops):
    e = hops.create_next_hop_enum()
    with pytest.raises(InvalidParameter):
        hops.get_enum_next_hops(e, MAXH + 1)
    sizes = []
    while True:
        b = hops.get_enum_next_hops(e)
        sizes.append(len(b))
        hops.release_next_hops(b)
        if not b:
            break
    assert sizes == [4, 4, 0]
    hops.delete_enum_handle(e)


def test_next_hop_enum_only_the_callers(rtm, hops, ospf):
    e = ospf.create_next_hop_enum()
    got = [nh_key(ospf, h) for h in drain_next_hops(ospf, e)]
    assert got == [("1.1.1.1", 1), ("10.0.0.2", 1)]
    ospf.delete_enum_handle(e)
    bgp = rtm.register_entity(PROTO_IP_BGP, 1)
    assert next_hops(bgp) == []


def test_next_hop_enum_live(hops):
    e = hops.create_next_hop_enum()
    b = hops.get_enum_next_hops(e, 3)
    assert [nh_key(hops, h) for h in b] == HOP_ORDER[:3]
    hops.release_next_hops(b)
    nh(hops, "10.0.0.1", 9)                  # after the cursor (same address, higher interface)
    nh(hops, "10.0.0.0", 1)                  # before
    nh(hops, "172.16.0.1", 1)                # after
    hops.delete_next_hop(next_hop_info="11.0.0.0", interface_index=1)   # not reached yet
    got = [nh_key(hops, h) for h in drain_next_hops(hops, e)]
    assert got == [("10.0.0.1", 9), ("10.255.255.255", 4), ("172.16.0.1", 1),
                   ("192.0.2.0", 1), ("192.0.2.1", 1), ("192.0.2.1", 2)]
    hops.delete_enum_handle(e)


def test_next_hop_enum_ipv6(rip6):
    for a, i in [("2001:db8::2", 1), ("fe80::1", 5), ("2001:db8::1", 2), ("::1", 1),
                 ("2001:db8:0:0:8000::1", 1)]:
        nh(rip6, a, i)
    assert next_hops(rip6, n=1) == [("::1", 1), ("2001:db8::1", 2), ("2001:db8::2", 1),
                                    ("2001:db8::8000:0:0:1", 1), ("fe80::1", 5)]
    assert next_hops(rip6, RTM_ENUM_RANGE, "2001:db8::/64") == [("2001:db8::1", 2),
                                                                ("2001:db8::2", 1),
                                                                ("2001:db8::8000:0:0:1", 1)]
    assert next_hops(rip6, RTM_ENUM_RANGE, "2001:db8::/65") == [("2001:db8::1", 2),
                                                                ("2001:db8::2", 1)]
    assert next_hops(rip6, RTM_ENUM_NEXT, "2001:db8::2/128") == [("2001:db8::2", 1),
                                                                 ("2001:db8::8000:0:0:1", 1),
                                                                 ("fe80::1", 5)]


# ---------------------------------------------------------------------------
# references (F63, F66, F68, F107, F111)
# ---------------------------------------------------------------------------
def test_enumerated_handles_carry_references(rtm, rip, ospf):
    r_both = add(rip, "10.0.0.0/8", metric=1, views=BOTH)
    add(ospf, "10.0.0.0/8", metric=2, views=UC)
    e = rip.create_dest_enum(RTM_VIEW_MASK_ALL)
    (d,) = rip.get_enum_dests(e)
    core = rtm.core
    # dest +1; the route is best in both views: one reference per view entry
    assert core.ref_count(d.dest_handle) == 1
    assert core.ref_count(r_both) == 2
    assert core.ref_count(rip.handle) == 2 and core.ref_count(ospf.handle) == 0
    rip.release_dests([d])
    assert core.ref_count(d.dest_handle) == 0 and core.ref_count(r_both) == 0
    assert core.ref_count(rip.handle) == 0
    with pytest.raises(InvalidHandle):
        rip.release_dests([d])                     # released already
    rip.delete_enum_handle(e)
    # views 0: no per-view entries, only the destination is referenced
    e = rip.create_dest_enum(RTM_VIEW_MASK_ANY)
    (d,) = rip.get_enum_dests(e)
    assert core.ref_count(d.dest_handle) == 1 and core.ref_count(r_both) == 0
    rip.release_dests([d])
    rip.delete_enum_handle(e)
    # routes and next hops
    e = rip.create_route_enum()
    hs = rip.get_enum_routes(e)
    assert [core.ref_count(h) for h in hs] == [1, 1]
    rip.release_routes(hs)
    assert [core.ref_count(h) for h in hs] == [0, 0]
    rip.delete_enum_handle(e)
    e = rip.create_next_hop_enum()
    hs = rip.get_enum_next_hops(e)
    assert len(hs) == 1 and core.ref_count(hs[0]) == 1
    rip.release_next_hops(hs)
    assert core.ref_count(hs[0]) == 0
    rip.delete_enum_handle(e)


def test_enumerated_route_survives_deletion_until_released(rtm, rip):
    r = add(rip, "10.0.0.0/8")
    e = rip.create_route_enum()
    (h,) = rip.get_enum_routes(e)
    assert h == r
    rip.reference_handles([r])
    rip.delete_route_to_dest(r)                    # consumes the extra reference
    ri, dest = rip.get_route_info(h)               # still readable: state DELETED
    assert str(dest) == "10.0.0.0/8" and ri.state == RTM_ROUTE_STATE_DELETED
    rip.release_route_info(ri)
    rip.release_routes([h])
    with pytest.raises(InvalidHandle):
        rip.get_route_info(h)
    rip.delete_enum_handle(e)


def test_reference_counts_back_to_before_after_releasing(rtm, rip, ospf, rip6):
    for i, p in enumerate(TABLE):
        add(rip if i % 2 else ospf, p, metric=i, views=(UC, MC, BOTH)[i % 3])
    add(rip, "10.0.0.0/8", metric=0, views=BOTH)
    for p in V6:
        add(rip6, p)
    for a in ["10.0.0.1", "10.0.0.2", "192.0.2.7"]:
        nh(rip, a)
    rtm.check_invariants()
    core = rtm.core
    before = core.record_counts()
    all_handles = [rip.handle, ospf.handle, rip6.handle]
    for ent in (rip, ospf, rip6):
        for d in ent.destinations():
            all_handles.append(d.dest_handle)
        for p in [d.prefix for d in ent.destinations()]:
            all_handles += [ri.route_owner for ri in ent.routes(p)]
    for d in rip.destinations(RTM_VIEW_MASK_ALL):
        all_handles += [v.route for v in d.view_info if v.route]
    nh_e = rip.create_next_hop_enum()
    hs = drain_next_hops(rip, nh_e)
    all_handles += hs
    rip.delete_enum_handle(nh_e)
    refs = {h: core.ref_count(h) for h in all_handles}

    for ent in (rip, ospf, rip6):
        for views in (RTM_VIEW_MASK_ANY, UC, MC, BOTH, RTM_VIEW_MASK_ALL):
            for flags in (RTM_ENUM_START, RTM_ENUM_START | RTM_ENUM_OWN_DESTS):
                for proto in (RTM_BEST_PROTOCOL, RTM_THIS_PROTOCOL):
                    for n in (1, MAXH):
                        e = ent.create_dest_enum(views, flags, None, proto)
                        drain_dests(ent, e, n)
                        ent.delete_enum_handle(e)
            routes(ent, target_views=views, n=1)
            routes(ent, target_views=views, enum_flags=RTM_ENUM_OWN_ROUTES)
        e = ent.create_next_hop_enum()
        drain_next_hops(ent, e, 1)
        ent.delete_enum_handle(e)
    # a partially consumed enumeration deleted with batches outstanding, released later
    e = rip.create_dest_enum(RTM_VIEW_MASK_ALL)
    kept = rip.get_enum_dests(e, 2)
    e2 = rip.create_route_enum()
    kept_routes = rip.get_enum_routes(e2, 3)
    rip.delete_enum_handle(e)
    rip.delete_enum_handle(e2)
    assert core.ref_count(kept[0].dest_handle) == refs[kept[0].dest_handle] + 1
    rip.release_dests(kept)
    rip.release_routes(kept_routes)

    rtm.check_invariants()
    assert core.record_counts() == before
    assert {h: core.ref_count(h) for h in all_handles} == refs
    assert all(v == 0 for v in refs.values())


# ---------------------------------------------------------------------------
# property: full destination enumerations against a sorted Python list
# ---------------------------------------------------------------------------
V4_BASES = [int(ipaddress.IPv4Address(a)) for a in
            ["0.0.0.0", "10.0.0.0", "10.0.0.128", "10.1.0.0", "10.128.0.0", "11.0.0.0",
             "9.255.255.255", "192.168.1.0", "255.255.255.255"]]
V4_LENS = [0, 1, 7, 8, 9, 15, 16, 17, 24, 25, 31, 32]
V6_BASES = [int(ipaddress.IPv6Address(a)) for a in
            ["::", "2001:db8::", "2001:db8::1", "2001:db8:0:1::", "2001:db8:0:0:8000::",
             "2001:db8:8000::", "2001:db9::", "fe80::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"]]
V6_LENS = [0, 1, 16, 31, 32, 33, 48, 63, 64, 65, 127, 128]
PROTOS = [(PROTO_IP_RIP, 1), (PROTO_IP_RIP, 2), (PROTO_IP_OSPF, 1)]   # two RIP instances


def _prefix(v6, base_i, len_i):
    width = 128 if v6 else 32
    plen = (V6_LENS if v6 else V4_LENS)[len_i]
    addr = (V6_BASES if v6 else V4_BASES)[base_i]
    addr &= ((1 << width) - 1) ^ ((1 << (width - plen)) - 1)
    return addr, plen


def _text(v6, key):
    return str(ipaddress.ip_network(key, strict=True)) if not v6 else \
        str(ipaddress.IPv6Network(key))


def _in_range(v6, key, root):
    width = 128 if v6 else 32
    (a, pl), (ra, rl) = key, root
    return pl >= rl and (a >> (width - rl) if rl else 0) == (ra >> (width - rl) if rl else 0)


BASE = st.integers(0, len(V4_BASES) - 1)
LEN = st.integers(0, len(V4_LENS) - 1)

# (IPv6?, base, length, entities, views, preference, metric, delete instead if present?):
# the route is added for each entity listed, so destinations get several routes
routes_strategy = st.lists(
    st.tuples(st.booleans(), BASE, LEN, st.lists(st.integers(0, 2), min_size=1, max_size=3,
                                                  unique=True),
              st.sampled_from([UC, MC, BOTH]), st.sampled_from([0, 10]), st.integers(0, 3),
              st.booleans()),
    max_size=16)

# (IPv6?, range flag, start prefix, target views, caller, own?, protocol, batch sizes)
query_strategy = st.tuples(
    st.booleans(), st.sampled_from([RTM_ENUM_START, RTM_ENUM_NEXT, RTM_ENUM_RANGE]),
    st.tuples(BASE, LEN),
    st.sampled_from([RTM_VIEW_MASK_ANY, UC, MC, BOTH, RTM_VIEW_MASK_ALL]),
    st.integers(0, 2), st.booleans(),
    st.sampled_from(["best", "this", PROTO_IP_RIP, PROTO_IP_OSPF, PROTO_IP_BGP]),
    st.lists(st.one_of(st.none(), st.integers(1, 5)), min_size=1, max_size=6))


class Model:
    """Route table model: {(v6, key): {entity index: (views, pref, metric, handle)}}."""

    def __init__(self, ops=()):
        self.rtm = RoutingTableManager(max_handles_in_enum=5)
        self.ents = {v6: [self.rtm.register_entity(p, i, AF_INET6 if v6 else 2)
                          for p, i in PROTOS] for v6 in (False, True)}
        self.table = {}
        for v6, bi, li, eis, views, pref, metric, delete in ops:
            key = _prefix(v6, bi, li)
            if delete and eis[0] in self.table.get((v6, key), {}):
                self.delete(v6, key, eis[0])
                continue
            for ei in eis:
                self.add(v6, key, ei, views, pref, (metric + ei) % 4)

    def add(self, v6, key, ei, views, pref, metric):
        ent = self.ents[v6][ei]
        metric = metric * 4 + ei                  # no ties between entities: no arrival order
        h, _ = ent.add_route_to_dest(_text(v6, key), metric=metric, preference=pref,
                                     views=views, return_handle=True)
        ent.release_routes([h])
        self.table.setdefault((v6, key), {})[ei] = (views, pref, metric, h)

    def delete(self, v6, key, ei):
        h = self.table[(v6, key)].pop(ei)[3]
        ent = self.ents[v6][ei]
        ent.reference_handles([h])
        ent.delete_route_to_dest(h)
        if not self.table[(v6, key)]:
            del self.table[(v6, key)]

    def keys(self, v6, rng=RTM_ENUM_START, start=None):
        return sorted(k for f, k in self.table if f == v6 and
                      (rng != RTM_ENUM_NEXT or k >= start) and
                      (rng != RTM_ENUM_RANGE or _in_range(v6, k, start)))

    def best(self, v6, key, view_bit, proto=None):
        cands = [(pref, metric, ei, h) for ei, (views, pref, metric, h)
                 in self.table[(v6, key)].items()
                 if views & view_bit and (proto is None or PROTOS[ei][0] == proto)]
        return min(cands) if cands else None

    def expected_dests(self, v6, views, rng, start, own, proto):
        """[(text, belongs, [(view id, num routes, route, owner)])] of an enumeration."""
        out = []
        vmask = BOTH if views == RTM_VIEW_MASK_ALL else views
        for key in self.keys(v6, rng, start):
            routes_ = self.table[(v6, key)]
            belongs = 0
            for views_, *_ in routes_.values():
                belongs |= views_
            if vmask and not belongs & vmask:
                continue
            if own is not None:
                bits = [b for b in (UC, MC) if not vmask or vmask & b]
                if not any((self.best(v6, key, b) or (0, 0, -1))[2] == own for b in bits):
                    continue
            vi = []
            for vid, bit in ((0, UC), (1, MC)):
                if vmask & bit:
                    b = self.best(v6, key, bit, proto)
                    n = sum(1 for views_, *_ in routes_.values() if views_ & bit)
                    vi.append((vid, n, b[3] if b else 0,
                               self.ents[v6][b[2]].handle if b else 0))
            out.append((_text(v6, key), belongs, vi))
        return out

    def expected_routes(self, v6, views, rng, start, own):
        """Route handles: destination order, then selection order."""
        vmask = BOTH if views == RTM_VIEW_MASK_ALL else views
        out = []
        for key in self.keys(v6, rng, start):
            rs = sorted((pref, metric, h) for ej, (vw, pref, metric, h)
                        in self.table[(v6, key)].items()
                        if (not vmask or vw & vmask) and (own is None or ej == own))
            out += [h for *_, h in rs]
        return out

    def check_released(self, before):
        self.rtm.check_invariants()
        assert self.rtm.core.record_counts() == before
        assert all(self.rtm.core.ref_count(e.handle) == 0
                   for es in self.ents.values() for e in es)


def _query(q):
    v6, rng, (bi, li), views, ei, own, proto_choice, batches = q
    start = _prefix(v6, bi, li)
    proto_id = {"best": RTM_BEST_PROTOCOL, "this": RTM_THIS_PROTOCOL}.get(proto_choice,
                                                                          proto_choice)
    proto = {"best": None, "this": PROTOS[ei][0]}.get(proto_choice, proto_choice)
    address = None if rng == RTM_ENUM_START else _text(v6, start)
    note(f"query: IPv{6 if v6 else 4} flags={rng} start={_text(v6, start)} views={views:#x} "
         f"entity={ei} own={own} protocol={proto_choice} batches={batches}")
    return v6, rng, start, address, views, ei, own, proto_id, proto, batches


@bounded
@given(routes_strategy, st.lists(query_strategy, min_size=1, max_size=3))
def test_property_destination_enumeration(ops, queries):
    """START / NEXT / RANGE, views, OWN_DESTS, protocol, random batch sizes:
    the same destinations, in the same order, with the same per-view
    information as a sorted Python list filtered the same way."""
    m = Model(ops)
    m.rtm.check_invariants()
    before = m.rtm.core.record_counts()
    for q in queries:
        v6, rng, start, address, views, ei, own, proto_id, proto, batches = _query(q)
        want = m.expected_dests(v6, views, rng, start, ei if own else None, proto)
        ent = m.ents[v6][ei]
        e = ent.create_dest_enum(views, rng | (RTM_ENUM_OWN_DESTS if own else 0), address,
                                 proto_id)
        got = []
        for i in range(len(want) + 2):
            n = batches[i % len(batches)]
            batch = ent.get_enum_dests(e, n)
            assert len(batch) <= (n or 5)
            if not batch:
                break
            got += [(d.prefix, d.belongs_to_views,
                     [(v.view_id, v.num_routes, v.route, v.owner) for v in d.view_info])
                    for d in batch]
            ent.release_dests(batch)
        ent.delete_enum_handle(e)
        assert got == want
        # the iterator agrees (it has no NEXT and no protocol)
        if rng != RTM_ENUM_NEXT:
            it = ent.destinations(views, address, own, batches[0])
            assert [d.prefix for d in it] == [w[0] for w in want]
    m.check_released(before)


@bounded
@given(routes_strategy, st.lists(query_strategy, min_size=1, max_size=3))
def test_property_route_enumeration(ops, queries):
    """Route enumerations over the same ranges: destination order, then
    selection order; views and OWN_ROUTES filter routes."""
    m = Model(ops)
    m.rtm.check_invariants()
    before = m.rtm.core.record_counts()
    for q in queries:
        v6, rng, start, address, views, ei, own, _, _, batches = _query(q)
        want = m.expected_routes(v6, views, rng, start, ei if own else None)
        ent = m.ents[v6][ei]
        e = ent.create_route_enum(None, views, rng | (RTM_ENUM_OWN_ROUTES if own else 0),
                                  address)
        got = []
        for i in range(len(want) + 2):
            n = batches[i % len(batches)]
            batch = ent.get_enum_routes(e, n)
            assert len(batch) <= (n or 5)
            if not batch:
                break
            got += batch
            ent.release_routes(batch)
        ent.delete_enum_handle(e)
        assert [describe(ent, h) for h in got] == [describe(ent, h) for h in want]
        assert got == want
    m.check_released(before)


# ---------------------------------------------------------------------------
# property: live cursor under concurrent adds and deletes (U21)
# ---------------------------------------------------------------------------
@bounded
@given(st.lists(st.tuples(st.integers(0, len(V4_BASES) - 1),
                          st.integers(0, len(V4_LENS) - 1)), max_size=12),
       st.sampled_from([RTM_ENUM_START, RTM_ENUM_NEXT, RTM_ENUM_RANGE]),
       st.tuples(st.integers(0, len(V4_BASES) - 1), st.integers(0, len(V4_LENS) - 1)),
       st.booleans(),
       st.lists(st.tuples(st.sampled_from(["batch", "add", "delete"]),
                          st.integers(0, len(V4_BASES) - 1), st.integers(0, len(V4_LENS) - 1),
                          st.integers(1, 4)), max_size=20))
def test_property_live_cursor(initial, rng, start_ix, v6, steps):
    rtm = RoutingTableManager(max_handles_in_enum=4)
    ent = rtm.register_entity(PROTO_IP_RIP, 1, AF_INET6 if v6 else 2)
    live = {}                                       # key -> route handle (referenced)

    def net(key):
        return ipaddress.IPv6Network(key) if v6 else ipaddress.IPv4Network(key)

    def do_add(key):
        if key not in live:
            live[key] = ent.add_route_to_dest(net(key), metric=1, return_handle=True)[0]

    def do_delete(key):
        if key in live:
            ent.delete_route_to_dest(live.pop(key))

    for bi, li in initial:
        do_add(_prefix(v6, bi, li))
    start = _prefix(v6, *start_ix)
    e = ent.create_dest_enum(RTM_VIEW_MASK_ANY, rng,
                             None if rng == RTM_ENUM_START else net(start))
    last = None                                     # key of the last destination returned
    seen = []
    ended = False
    for op, bi, li, n in steps + [("batch", 0, 0, 4)] * 30:
        key = _prefix(v6, bi, li)
        if op == "add":
            do_add(key)
        elif op == "delete":
            do_delete(key)
        elif not ended:
            cands = [k for k in sorted(live)
                     if (rng != RTM_ENUM_NEXT or k >= start)
                     and (rng != RTM_ENUM_RANGE or _in_range(v6, k, start))
                     and (last is None or k > last)]
            want = [_text(v6, k) for k in cands[:n]]
            batch = ent.get_enum_dests(e, n)
            got = [d.prefix for d in batch]
            ent.release_dests(batch)
            note(f"batch {n}: live={[_text(v6, k) for k in sorted(live)]} got={got}")
            assert got == want
            if got:
                last = cands[len(got) - 1]
                seen += got
            else:
                ended = True
    assert ended
    assert len(seen) == len(set(seen))
    ent.delete_enum_handle(e)
    rtm.check_invariants()

"""Every error code each facade function can return (spec 2.x "Errors", decisions
U10, U31, U43-U46), and "the table is unchanged afterwards".

Each failing call runs inside ``unchanged(world, Exc)``: a snapshot of both
tables (destinations, their routes with all fields, per-view best routes),
counts, allocated records, reference counts of the world's handles and the
registered entities is taken before and compared after, and the structural
invariants are checked.
"""
import random
from contextlib import contextmanager
from types import SimpleNamespace

import numpy as np
import pytest

from rtmcore import (AF_INET6, NextHopInfo, PROTO_IP_BGP, PROTO_IP_OSPF, PROTO_IP_RIP,
                     RouteInfo, RoutingTableManager, RTM_MATCH_NEIGHBOUR, RTM_MATCH_NONE,
                     RTM_ROUTE_CHANGE_NEW, RTM_VIEW_MASK_ALL, RTM_VIEW_MASK_MCAST,
                     RTM_VIEW_MASK_UCAST)
from rtmcore import errors as E
from rtmcore.errors import (AccessDenied, AlreadyExists, BadConfiguration, InvalidHandle,
                            InvalidParameter, NotFound, NotSupported, RtmError)

UC = RTM_VIEW_MASK_UCAST
MC = RTM_VIEW_MASK_MCAST


# ---------------------------------------------------------------------------
# A populated world and its snapshot
# ---------------------------------------------------------------------------
def _build(rtm):
    w = SimpleNamespace(rtm=rtm)
    w.rip = rtm.register_entity(PROTO_IP_RIP, 1)
    w.ospf = rtm.register_entity(PROTO_IP_OSPF, 1)
    w.obs = rtm.register_entity(PROTO_IP_BGP, 99)           # observer for snapshots
    w.rip6 = rtm.register_entity(PROTO_IP_RIP, 1, AF_INET6)
    w.obs6 = rtm.register_entity(PROTO_IP_BGP, 99, AF_INET6)
    w.n1, _ = w.rip.add_next_hop("192.0.2.1", interface_index=1)
    w.n2, _ = w.rip.add_next_hop("192.0.2.2", interface_index=2)
    w.o1, _ = w.ospf.add_next_hop("192.0.2.1", interface_index=1)
    w.o9, _ = w.ospf.add_next_hop("192.0.2.9", interface_index=5)
    w.r_rip, _ = w.rip.add_route_to_dest("10.0.0.0/8", neighbour=w.n1, next_hops=w.n1,
                                         metric=5, return_handle=True)
    w.r_rip16, _ = w.rip.add_route_to_dest("10.1.0.0/16", next_hops=(w.n1, w.n2), metric=3,
                                           views=UC | MC, return_handle=True)
    w.r_ospf, _ = w.ospf.add_route_to_dest("10.0.0.0/8", next_hops=w.o1, metric=1,
                                           return_handle=True)
    w.ospf.add_route_to_dest("0.0.0.0/0", metric=1)
    w.m6, _ = w.rip6.add_next_hop("2001:db8::1", interface_index=1)
    w.r6, _ = w.rip6.add_route_to_dest("2001:db8::/32", next_hops=w.m6, metric=2,
                                       return_handle=True)
    # a deleted next hop still referenced (by handle) and a deleted route still referenced
    w.n_del, _ = w.rip.add_next_hop("192.0.2.77", interface_index=7)
    w.rip.reference_handles([w.n_del])
    w.rip.delete_next_hop(w.n_del)
    w.r_del, _ = w.rip.add_route_to_dest("12.0.0.0/8", return_handle=True)
    w.rip.reference_handles([w.r_del])
    w.rip.delete_route_to_dest(w.r_del)
    w.d10 = w.obs.search_exact("10.0.0.0/8").dest_handle
    w.d16 = w.obs.search_exact("10.1.0.0/16").dest_handle
    w.info = w.obs.get_exact_match_destination("10.0.0.0/8")       # holds references
    w.handles = [w.n1, w.n2, w.o1, w.o9, w.r_rip, w.r_rip16, w.r_ospf, w.m6, w.r6, w.n_del,
                 w.r_del, w.d10, w.d16, w.rip.handle, w.ospf.handle, w.obs.handle,
                 w.rip6.handle]
    return w


def _routes(ent, prefix):
    return [(r.route_owner, r.neighbour, r.metric, r.preference, r.belongs_to_views,
             r.next_hops, r.flags, r.flags1, r.entity_specific_info, r.state)
            for r in ent.routes(prefix)]


def snapshot(w):
    tables = []
    for ent, root in ((w.obs, "0.0.0.0/0"), (w.obs6, "::/0")):
        for d in ent.search_covered(root):
            tables.append((str(d.dest_address), d.belongs_to_views,
                           [(v.view_id, v.num_routes, v.route, v.owner, v.dest_flags)
                            for v in d.view_info], _routes(ent, d.dest_address)))
    nhs = []
    for h in (w.n1, w.n2, w.o1, w.o9, w.m6, w.n_del):
        s = w.rtm.core.nh_check(h)
        nhs.append(w.rtm.core.nh_info(s, False))
    return (tables, w.rtm.counts(4), w.rtm.counts(6), w.rtm.core.record_counts(),
            [w.rtm.core.ref_count(h) for h in w.handles], nhs,
            [e.handle for e in w.rtm.entities])


@pytest.fixture
def world():
    w = _build(RoutingTableManager())
    yield w
    w.rtm.check_invariants()


@pytest.fixture
def twin():
    """A second manager built by the very same calls: same slots and
    generations, only the manager tag in the handles differs."""
    return _build(RoutingTableManager())


_INFER = object()


@contextmanager
def unchanged(w, exc, code=_INFER):
    """The body must raise ``exc`` with Win32 code ``code`` (default: the
    class's own code; ``None``: any) and leave everything as it was."""
    before = snapshot(w)
    with pytest.raises(exc) as ei:
        yield ei
    assert snapshot(w) == before, "the failing call changed the table"
    w.rtm.check_invariants()
    if code is _INFER:
        code = exc.winerror if isinstance(exc, type) and exc is not RtmError else None
    if code is not None:
        assert ei.value.winerror == code


# ---------------------------------------------------------------------------
# The exception classes (errors.py)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("cls, code, builtin", [
    (E.InvalidHandle, 6, ValueError), (E.AccessDenied, 5, PermissionError),
    (E.NotFound, 1168, KeyError), (E.InvalidParameter, 87, ValueError),
    (E.AlreadyExists, 183, ValueError), (E.NotSupported, 50, ValueError),
    (E.NoSystemResources, 1450, OSError), (E.NotEnoughMemory, 8, MemoryError),
    (E.InsufficientBuffer, 122, ValueError), (E.NoMoreItems, 259, LookupError),
    (E.InvalidData, 13, ValueError), (E.BadConfiguration, 1610, ValueError),
])
def test_exception_classes(cls, code, builtin):
    assert cls.winerror == code
    assert issubclass(cls, RtmError) and issubclass(cls, builtin)
    err = E.error_for_status(code, "msg")
    assert type(err) is cls and err.winerror == code and str(err) == "msg"
    with pytest.raises(cls):
        E.raise_for_status(code)


def test_status_helpers():
    E.raise_for_status(E.NO_ERROR)
    assert type(E.error_for_status(E.ERROR_FILE_NOT_FOUND)) is BadConfiguration
    assert E.error_for_status(E.ERROR_FILE_NOT_FOUND).winerror == 2
    assert str(E.NotFound()) == "ERROR_NOT_FOUND"     # not the KeyError repr
    assert E.NotFound().status_name == "ERROR_NOT_FOUND"


# ---------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------
def test_duplicate_registration_already_exists(world):
    log = []
    listener = world.rtm.register_entity(PROTO_IP_OSPF, 50, event_callback=lambda *a: log.append(a))
    world.handles.append(listener.handle)
    with unchanged(world, AlreadyExists):
        world.rtm.register_entity(PROTO_IP_RIP, 1)
    with unchanged(world, AlreadyExists):
        world.rtm.register_entity(PROTO_IP_RIP, 1, AF_INET6)
    assert log == []                                    # nobody told of a failed registration
    assert world.rip.add_route_to_dest("10.0.0.0/8", neighbour=world.n1, metric=5)[1] == 0


@pytest.mark.parametrize("args, kw", [
    ((PROTO_IP_RIP, 5, 99), {}), ((-1, 0), {}), ((1 << 32, 0), {}), ((PROTO_IP_RIP, -1), {}),
    ((PROTO_IP_RIP, 1 << 32), {}), ((PROTO_IP_RIP, 5), {"export_methods": [print] * 33}),
])
def test_register_bad_arguments(world, args, kw):
    with unchanged(world, InvalidParameter):
        world.rtm.register_entity(*args, **kw)


@pytest.mark.parametrize("kw", [
    {"max_next_hops_in_route": 0}, {"max_next_hops_in_route": 65}, {"views": 0},
    {"instance_id": 1 << 16}, {"instance_id": -1}, {"max_handles_in_enum": 0},
])
def test_bad_manager_configuration(kw):
    with pytest.raises(BadConfiguration) as ei:
        RoutingTableManager(**kw)
    assert ei.value.winerror == E.ERROR_BAD_CONFIGURATION


def test_deregister_twice(world):
    world.rip.deregister_entity()
    with unchanged(world, InvalidHandle):
        world.rip.deregister_entity()


def _after_deregistration_calls(w, e):
    a = np.array([0x0A000000], np.uint32)
    return {
        "get_registered_entities": lambda: e.get_registered_entities(),
        "release_entities": lambda: e.release_entities([w.obs.handle]),
        "get_entity_info": lambda: e.get_entity_info(w.obs.handle),
        "release_entity_info": lambda: e.release_entity_info(w.obs.info),
        "add_next_hop": lambda: e.add_next_hop("192.0.2.50"),
        "find_next_hop": lambda: e.find_next_hop("192.0.2.1", 1),
        "get_next_hop_info": lambda: e.get_next_hop_info(w.o1),
        "delete_next_hop": lambda: e.delete_next_hop(next_hop_info="192.0.2.1",
                                                     interface_index=1),
        "release_next_hops": lambda: e.release_next_hops([w.o1]),
        "add_route_to_dest": lambda: e.add_route_to_dest("13.0.0.0/8"),
        "delete_route_to_dest": lambda: e.delete_route_to_dest(w.r_ospf),
        "get_route_info": lambda: e.get_route_info(w.r_ospf),
        "release_routes": lambda: e.release_routes([w.r_ospf]),
        "is_best_route": lambda: e.is_best_route(w.r_ospf),
        "reference_handles": lambda: e.reference_handles([w.r_ospf]),
        "get_dest_info": lambda: e.get_dest_info(w.d10),
        "release_dest_info": lambda: e.release_dest_info(w.info),
        "get_exact_match_destination": lambda: e.get_exact_match_destination("10.0.0.0/8"),
        "get_most_specific_destination": lambda: e.get_most_specific_destination("10.1.1.1"),
        "get_less_specific_destination": lambda: e.get_less_specific_destination(w.d16),
        "get_exact_match_route": lambda: e.get_exact_match_route("10.0.0.0/8"),
        "add_routes": lambda: e.add_routes(np.array([0x0D000000], np.uint32), 8),
        "delete_routes": lambda: e.delete_routes(a, 8),
        "lookup": lambda: e.lookup(a),
        "search_exact": lambda: e.search_exact("10.0.0.0/8"),
        "search_best": lambda: e.search_best("10.1.1.1"),
        "search_worst": lambda: e.search_worst("10.1.1.1"),
        "search_covering": lambda: e.search_covering("10.1.1.1"),
        "search_covered": lambda: e.search_covered("0.0.0.0/0"),
        "routes": lambda: e.routes("10.0.0.0/8"),
    }


@pytest.mark.parametrize("name", list(_after_deregistration_calls(
    SimpleNamespace(obs=SimpleNamespace(handle=0, info=None), o1=0, r_ospf=0, d10=0, d16=0,
                    info=None), None)))
def test_deregistered_entity_is_an_invalid_handle(world, name):
    """F5 / U46 and the deregister_entity docstring: every later call with the
    old entity raises InvalidHandle."""
    e = world.rip
    e.release_next_hops([world.n1, world.n2])
    e.deregister_entity()
    call = _after_deregistration_calls(world, e)[name]
    with unchanged(world, InvalidHandle):
        call()


# ---------------------------------------------------------------------------
# Entities
# ---------------------------------------------------------------------------
def test_release_entities_errors(world):
    hs, _ = world.rip.get_registered_entities()
    with unchanged(world, InvalidHandle):
        world.rip.release_entities(hs + [hs[0]])        # one more than referenced
    with unchanged(world, InvalidHandle):
        world.rip.release_entities([hs[0], 0x1234])     # mixed: nothing released
    with unchanged(world, InvalidHandle):
        world.rip.release_entities([world.r_ospf])      # wrong kind
    world.rip.release_entities(hs)
    with unchanged(world, InvalidHandle):
        world.rip.release_entities(hs[:1])


def test_get_entity_info_stale_handle(world):
    e = world.rtm.register_entity(PROTO_IP_OSPF, 7)
    h = e.handle
    e.deregister_entity()                               # no references left: slot freed
    with unchanged(world, InvalidHandle):
        world.rip.get_entity_info(h)


# ---------------------------------------------------------------------------
# Next hops
# ---------------------------------------------------------------------------
def test_add_next_hop_errors(world):
    r = world.rip
    with unchanged(world, AccessDenied):
        r.add_next_hop("192.0.2.1", interface_index=1, next_hop=world.o1, flags=1)
    with unchanged(world, InvalidHandle):
        r.add_next_hop("192.0.2.1", interface_index=1, next_hop=0x4242)
    with unchanged(world, InvalidHandle):
        r.add_next_hop("192.0.2.1", interface_index=1, next_hop=world.r_rip)   # wrong kind
    with unchanged(world, NotFound):                     # U46: mutation of a deleted object
        r.add_next_hop("192.0.2.77", interface_index=7, next_hop=world.n_del, flags=1)


@pytest.mark.parametrize("address, kw", [
    ("2001:db8::1", {}), ("bad", {}), (None, {}), ("192.0.2.1/33", {}),
    ("192.0.2.60", {"interface_index": -1}), ("192.0.2.60", {"interface_index": 1 << 32}),
    ("192.0.2.60", {"flags": 0x10000}), ("192.0.2.60", {"flags": -1}),
    ("192.0.2.60", {"entity_specific_info": -1}),
    ("192.0.2.60", {"entity_specific_info": 1 << 64}),
    ("192.0.2.1", {"interface_index": -1, "next_hop": "n1"}),
], ids=["v6-address", "malformed", "none", "length", "ifindex-neg", "ifindex-big",
        "flags-big", "flags-neg", "esi-neg", "esi-big", "by-handle-ifindex-neg"])
def test_add_next_hop_bad_arguments(world, address, kw):
    """Spec 2.7 / 2.1: a bad argument is ERROR_INVALID_PARAMETER (never a bare
    OverflowError); nothing is created or changed."""
    if kw.get("next_hop") == "n1":
        kw["next_hop"] = world.n1
    with unchanged(world, InvalidParameter):
        world.rip.add_next_hop(address, **kw)


def test_find_next_hop_not_found(world):
    with unchanged(world, NotFound):
        world.rip.find_next_hop("192.0.2.200", 1)
    with unchanged(world, NotFound):
        world.rip.find_next_hop("192.0.2.9", 5)          # ospf's key: not in rip's table
    with unchanged(world, NotFound):
        world.rip.find_next_hop("192.0.2.77", 7)         # deleted (U37)
    with unchanged(world, InvalidParameter):
        world.rip.find_next_hop("2001:db8::1", 1)


def test_get_next_hop_info_invalid(world):
    for h in (0, 0x777, world.r_rip, world.d10, world.rip.handle):
        with unchanged(world, InvalidHandle):
            world.rip.get_next_hop_info(h)


def test_release_next_hop_info_twice(world):
    info = world.rip.get_next_hop_info(world.n1)
    world.rip.release_next_hop_info(info)
    with unchanged(world, RtmError, code=None):
        world.rip.release_next_hop_info(info)
    with unchanged(world, RtmError, code=None):
        world.rip.release_next_hop_info(NextHopInfo())


def test_delete_next_hop_errors(world):
    r = world.rip
    with unchanged(world, AccessDenied):
        r.delete_next_hop(world.o1)                      # not consumed either
    with unchanged(world, NotFound):
        r.delete_next_hop(next_hop_info="192.0.2.200", interface_index=1)
    with unchanged(world, NotFound):
        r.delete_next_hop(next_hop_info="192.0.2.9", interface_index=5)   # ospf's key
    with unchanged(world, NotFound):
        r.delete_next_hop(world.n_del)                   # already deleted
    with unchanged(world, InvalidHandle):
        r.delete_next_hop(0x4242)
    with unchanged(world, InvalidHandle):
        r.delete_next_hop(world.r_rip)                   # wrong kind
    with unchanged(world, InvalidParameter):
        r.delete_next_hop(next_hop_info="2001:db8::1", interface_index=1)


def test_release_next_hops_errors(world):
    r = world.rip
    with unchanged(world, InvalidHandle):
        r.release_next_hops([world.n1, world.n1])        # one reference only
    with unchanged(world, InvalidHandle):
        r.release_next_hops([world.n1, 0x4242])          # mixed: nothing released
    with unchanged(world, InvalidHandle):
        r.release_next_hops([world.r_rip])               # wrong kind
    r.release_next_hops([world.n1])
    with unchanged(world, InvalidHandle):
        r.release_next_hops([world.n1])


# ---------------------------------------------------------------------------
# add_route_to_dest
# ---------------------------------------------------------------------------
def test_add_route_reserved_arguments_U43(world):
    with unchanged(world, InvalidParameter):
        world.rip.add_route_to_dest("13.0.0.0/8", notify_type=1)
    with unchanged(world, InvalidParameter):
        world.rip.add_route_to_dest("13.0.0.0/8", notify_handle=5)


def test_add_route_too_many_next_hops(world):
    hs = [world.rip.add_next_hop(f"198.51.100.{i}")[0] for i in range(1, 18)]
    world.handles += hs
    with unchanged(world, InvalidParameter):
        world.rip.add_route_to_dest("13.0.0.0/8", next_hops=hs)     # 17 > 16
    with unchanged(world, InvalidParameter):
        world.rip.add_route_to_dest("10.0.0.0/8", route=world.r_rip, next_hops=hs)
    m = RoutingTableManager(max_next_hops_in_route=2)
    e = m.register_entity(PROTO_IP_RIP, 1)
    small = [e.add_next_hop(f"198.51.100.{i}")[0] for i in range(1, 4)]
    with pytest.raises(InvalidParameter):
        e.add_route_to_dest("13.0.0.0/8", next_hops=small)
    assert m.counts(4) == (0, 0)


def test_add_route_next_hop_errors_U31(world):
    r = world.rip
    cases = [
        (InvalidParameter, {"next_hops": (world.n1, world.n1)}),        # duplicate
        (InvalidParameter, {"next_hops": (world.n1, world.n2, world.n1)}),
        (AccessDenied, {"next_hops": world.o1}),                        # another entity's
        (AccessDenied, {"next_hops": (world.n1, world.o1)}),
        (AccessDenied, {"neighbour": world.o1}),
        (InvalidParameter, {"next_hops": world.n_del}),                 # deleted next hop
        (InvalidParameter, {"neighbour": world.n_del}),
        (InvalidHandle, {"next_hops": 0x4242}),
        (InvalidHandle, {"next_hops": world.r_ospf}),                   # wrong kind
        (InvalidHandle, {"neighbour": world.d10}),
    ]
    for exc, kw in cases:
        for dest, extra in (("13.0.0.0/8", {}), ("10.0.0.0/8", {"route": world.r_rip})):
            with unchanged(world, exc):
                r.add_route_to_dest(dest, metric=1, **extra, **kw)


def test_add_route_view_errors_U10(world):
    for views, exc in [(4, NotSupported), (0x80000000, NotSupported), (UC | 8, NotSupported),
                       (0, InvalidParameter)]:
        with unchanged(world, exc):
            world.rip.add_route_to_dest("13.0.0.0/8", views=views)
        with unchanged(world, exc):
            world.rip.add_route_to_dest("10.0.0.0/8", route=world.r_rip, views=views)


def test_add_route_view_mask_all_clipped_on_single_view_manager():
    m = RoutingTableManager(views=UC)
    e = m.register_entity(PROTO_IP_RIP, 1)
    e.add_route_to_dest("10.0.0.0/8", views=RTM_VIEW_MASK_ALL)
    assert e.routes("10.0.0.0/8")[0].belongs_to_views == UC
    with pytest.raises(NotSupported):
        e.add_route_to_dest("11.0.0.0/8", views=MC)
    assert m.counts(4) == (1, 1)


def test_add_route_handle_errors(world):
    r = world.rip
    with unchanged(world, AccessDenied):
        r.add_route_to_dest("10.0.0.0/8", route=world.r_ospf, metric=9)
    with unchanged(world, InvalidParameter):                         # U44
        r.add_route_to_dest("10.1.0.0/16", route=world.r_rip, metric=9)
    with unchanged(world, InvalidParameter):
        r.add_route_to_dest("10.0.0.0/9", route=world.r_rip, metric=9)
    with unchanged(world, NotFound):                                 # U46: deleted route
        r.add_route_to_dest("12.0.0.0/8", route=world.r_del, metric=9)
    with unchanged(world, InvalidHandle):
        r.add_route_to_dest("10.0.0.0/8", route=0x4242, metric=9)
    with unchanged(world, InvalidHandle):
        r.add_route_to_dest("10.0.0.0/8", route=world.d10, metric=9)  # wrong kind
    with unchanged(world, InvalidParameter):
        r.add_route_to_dest("10.0.0.0/8", change_flags=0x4)
    with unchanged(world, InvalidParameter):
        r.add_route_to_dest("10.0.0.0/8", change_flags=0x10000)


@pytest.mark.parametrize("dest", ["10.0.0.1/8", "10.0.0.0/33", "2001:db8::/32", "bogus", "",
                                  (0x0A000001, 8), 3.5, None])
def test_add_route_bad_destination(world, dest):
    with unchanged(world, InvalidParameter):
        world.rip.add_route_to_dest(dest, metric=1)


def test_add_route_ipv4_destination_on_ipv6_entity(world):
    with unchanged(world, InvalidParameter):
        world.rip6.add_route_to_dest("10.0.0.0/8")
    with unchanged(world, InvalidParameter):
        world.rip6.add_route_to_dest("10.0.0.0/8", route=world.r6)
    with unchanged(world, InvalidParameter):
        world.rip.add_route_to_dest("2001:db8::/32", route=world.r_rip)
    with unchanged(world, AccessDenied):          # an IPv4 entity's next hop (U31)
        world.rip6.add_route_to_dest("2001:db8::/32", route=world.r6, next_hops=world.n1)


@pytest.mark.parametrize("kw", [
    {"flags": 0x10000}, {"flags": -1}, {"flags1": 256}, {"flags1": -1},
    {"metric": 1 << 32}, {"metric": -1}, {"preference": 1 << 32}, {"preference": -1},
    {"views": 1 << 32}, {"views": -2}, {"entity_specific_info": -1},
    {"entity_specific_info": 1 << 64}, {"change_flags": -1},
], ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()))
def test_add_route_out_of_range_fields(world, kw):
    """Spec 2.5 / docstring: a bad argument is ERROR_INVALID_PARAMETER (an
    InvalidParameter), never a bare OverflowError; the table is unchanged."""
    with unchanged(world, InvalidParameter):
        world.rip.add_route_to_dest("13.0.0.0/8", **kw)


# ---------------------------------------------------------------------------
# delete_route_to_dest, route info, releases
# ---------------------------------------------------------------------------
def test_delete_route_errors(world):
    with unchanged(world, AccessDenied):
        world.rip.delete_route_to_dest(world.r_ospf)     # handle not consumed either
    with unchanged(world, NotFound):
        world.rip.delete_route_to_dest(world.r_del)      # already deleted
    with unchanged(world, InvalidHandle):
        world.rip.delete_route_to_dest(0x4242)
    with unchanged(world, InvalidHandle):
        world.rip.delete_route_to_dest(world.d10)        # wrong kind
    with unchanged(world, AccessDenied):
        world.ospf.delete_route_to_dest(world.r_del)     # owner check first


def test_delete_route_twice(world):
    r, _ = world.rip.add_route_to_dest("13.0.0.0/8", return_handle=True)
    world.rip.delete_route_to_dest(r)                    # consumed its only reference
    with unchanged(world, InvalidHandle):
        world.rip.delete_route_to_dest(r)


def test_release_route_info_twice(world):
    info, _ = world.rip.get_route_info(world.r_rip)
    world.rip.release_route_info(info)
    with unchanged(world, RtmError, code=None):
        world.rip.release_route_info(info)
    with unchanged(world, RtmError, code=None):
        world.rip.release_route_info(RouteInfo())


def test_release_routes_errors(world):
    r = world.rip
    with unchanged(world, InvalidHandle):
        r.release_routes([world.r_rip, world.r_rip])     # one reference only
    with unchanged(world, InvalidHandle):
        r.release_routes([world.r_rip] * 20)             # the same, in a long list
    with unchanged(world, InvalidHandle):
        r.release_routes(tuple([world.r_rip] * 3))
    with unchanged(world, InvalidHandle):
        r.release_routes([world.r_rip, world.r_rip16, 0x4242])   # nothing released
    with unchanged(world, InvalidHandle):
        r.release_routes([world.n1])                     # wrong kind
    with unchanged(world, InvalidHandle):
        r.release_routes([world.d10])
    r.release_routes([world.r_rip])
    with unchanged(world, InvalidHandle):
        r.release_routes([world.r_rip])                  # over-release of a live route


def test_reference_handles_errors(world):
    with unchanged(world, InvalidHandle):
        world.rip.reference_handles([world.r_rip, world.n1, 0x4242])   # nothing referenced
    with unchanged(world, InvalidHandle):
        world.rip.reference_handles([0])
    with unchanged(world, InvalidHandle):
        world.rip.reference_handles([world.r_rip | (0xF << 60)])       # no such kind


# ---------------------------------------------------------------------------
# Destinations and queries
# ---------------------------------------------------------------------------
def test_get_dest_info_errors(world):
    with unchanged(world, InvalidHandle):
        world.rip.get_dest_info(world.r_rip)
    with unchanged(world, InvalidHandle):
        world.rip.get_dest_info(0x4242)
    for views in (4, UC | 0x100):
        with unchanged(world, NotSupported):
            world.rip.get_dest_info(world.d10, target_views=views)


def test_release_dest_info_twice(world):
    info = world.rip.get_dest_info(world.d10)
    world.rip.release_dest_info(info)
    with unchanged(world, RtmError, code=None):
        world.rip.release_dest_info(info)
    info2 = world.rip.get_dest_info(world.d16)
    with pytest.raises(RtmError):
        world.rip.release_dests([info, info2])
    with unchanged(world, RtmError, code=None):
        world.rip.release_dest_info(world.rip.search_exact("10.0.0.0/8"))   # no references


@pytest.mark.parametrize("kind", ["route", "dest", "next_hop"])
def test_double_release_of_info_is_error_invalid_handle(world, kind):
    """Spec 2.4: RtmReleaseRouteInfo / RtmReleaseDestInfo / RtmReleaseNextHopInfo
    document ERROR_INVALID_HANDLE (F113: only documented codes or section-5
    ones); releasing an info twice over-releases its handles."""
    r = world.rip
    if kind == "route":
        info, _ = r.get_route_info(world.r_rip)
        rel = r.release_route_info
    elif kind == "dest":
        info = r.get_dest_info(world.d10)
        rel = r.release_dest_info
    else:
        info = r.get_next_hop_info(world.n1)
        rel = r.release_next_hop_info
    rel(info)
    with unchanged(world, RtmError, code=E.ERROR_INVALID_HANDLE):
        rel(info)


def test_query_errors(world):
    r = world.rip
    with unchanged(world, NotFound):
        r.get_exact_match_destination("10.2.0.0/16")
    with unchanged(world, NotFound):
        r.get_exact_match_destination("12.0.0.0/8")          # only a deleted route there
    with unchanged(world, NotFound):
        r.get_exact_match_destination("10.0.0.0/8", target_views=MC)      # U33
    with unchanged(world, NotFound):
        world.rip6.get_most_specific_destination("3000::1")
    d0 = world.obs.search_exact("0.0.0.0/0").dest_handle
    with unchanged(world, NotFound):
        r.get_less_specific_destination(d0)                  # U34
    with unchanged(world, NotFound):
        r.get_less_specific_destination(world.d16, target_views=MC)
    with unchanged(world, InvalidHandle):
        r.get_less_specific_destination(world.r_rip)
    for fn in (r.get_exact_match_destination, r.get_most_specific_destination):
        with unchanged(world, NotSupported):
            fn("10.0.0.0/8", target_views=4)
        for bad in ("10.0.0.1/8", "2001:db8::/32", "junk"):
            with unchanged(world, InvalidParameter):
                fn(bad)
    with unchanged(world, NotSupported):
        r.get_less_specific_destination(world.d16, target_views=4)


def test_exact_match_route_errors(world):
    r = world.rip
    with unchanged(world, NotFound):
        r.get_exact_match_route("10.2.0.0/16")
    with unchanged(world, NotFound):
        r.get_exact_match_route("10.0.0.0/8", 0x10, None, 99)            # no such interface
    with unchanged(world, NotFound):                        # 10/8 has no multicast route
        r.get_exact_match_route("10.0.0.0/8", RTM_MATCH_NONE, target_views=MC)
    with unchanged(world, NotSupported):
        r.get_exact_match_route("10.0.0.0/8", RTM_MATCH_NONE, target_views=4)
    with unchanged(world, InvalidParameter):
        r.get_exact_match_route("10.0.0.1/8")
    with unchanged(world, InvalidParameter):              # criteria flags without criteria
        r.get_exact_match_route("10.0.0.0/8", RTM_MATCH_NEIGHBOUR)
    with unchanged(world, InvalidParameter):
        r.get_exact_match_route("10.0.0.0/8", RTM_MATCH_NEIGHBOUR, {"neighbour": 0})
    with unchanged(world, InvalidParameter):
        r.get_exact_match_route("10.0.0.0/8", -1)


def test_search_errors(world):
    r = world.rip
    for fn in (r.search_exact, r.search_best, r.search_worst, r.search_covering,
               r.search_covered):
        with unchanged(world, NotSupported):
            fn("10.0.0.0/8", 4)
        with unchanged(world, InvalidParameter):
            fn("10.0.0.1/8")
        with unchanged(world, InvalidParameter):
            fn("2001:db8::/32")
    with unchanged(world, InvalidParameter):
        r.routes("10.0.0.1/8")


# ---------------------------------------------------------------------------
# Bulk paths: a bad row names the row, nothing is applied
# ---------------------------------------------------------------------------
def _rows(n=4):
    return np.array([0x0D000000 + (i << 16) for i in range(n)], np.uint32)


@pytest.mark.parametrize("case", ["hostbits", "length", "foreign_nh", "forged_nh", "deleted_nh",
                                  "views_unsupported", "views_zero", "foreign_neighbour"])
def test_add_routes_bad_row(world, case):
    a = _rows()
    lengths = np.array([16, 16, 16, 16])
    nhs = np.array([world.n1] * 4, np.uint64)
    nbr = np.zeros(4, np.uint64)
    views = np.array([UC] * 4, np.uint32)
    exc = InvalidParameter
    if case == "hostbits":
        a[2] |= 1
    elif case == "length":
        lengths[2] = 33
    elif case == "foreign_nh":
        nhs[2], exc = world.o1, AccessDenied
    elif case == "forged_nh":
        nhs[2], exc = 0x4242, InvalidHandle
    elif case == "deleted_nh":
        nhs[2] = world.n_del
    elif case == "views_unsupported":
        views[2], exc = 4, NotSupported
    elif case == "views_zero":
        views[2] = 0
    elif case == "foreign_neighbour":
        nbr[2], exc = world.o9, AccessDenied
    with unchanged(world, exc) as ei:
        world.rip.add_routes(a, lengths, next_hop=nhs, neighbour=nbr, views=views)
    assert "row 2" in str(ei.value)


def test_add_routes_bad_arguments(world):
    r = world.rip
    with unchanged(world, InvalidParameter):
        r.add_routes(_rows(), 16, change_flags=0x4)
    with unchanged(world, InvalidParameter):
        r.add_routes(np.array([-1], np.int64), 8)
    with unchanged(world, InvalidParameter):
        r.add_routes(_rows(), -1)
    with unchanged(world, InvalidParameter):
        r.add_routes(_rows(), 16, metric=-1)
    with unchanged(world, InvalidParameter):
        r.add_routes(_rows(), 16, metric=[1, 2])                       # wrong column length
    with unchanged(world, InvalidParameter):
        r.add_routes(np.zeros((2, 2), np.uint32), 8)
    with unchanged(world, InvalidParameter):
        world.rip6.add_routes(np.zeros((2, 3), np.uint64), 8)
    with unchanged(world, InvalidParameter) as ei:
        world.rip6.add_routes(np.array([[0x20010DB800000000, 1]], np.uint64), 64)
    assert "row 0" in str(ei.value)


def test_delete_routes_bad_row(world):
    with unchanged(world, InvalidParameter) as ei:
        world.rip.delete_routes(np.array([0x0A000000, 0x0A010000, 0x0A000001], np.uint32),
                                np.array([8, 16, 8]))
    assert "row 2" in str(ei.value)
    with unchanged(world, InvalidHandle) as ei:
        world.rip.delete_routes(np.array([0x0A000000, 0x0A010000], np.uint32),
                                np.array([8, 16]), neighbour=np.array([0, 0x4242], np.uint64))
    assert "row 1" in str(ei.value)


@pytest.mark.parametrize("view", [2, 31, 40])
def test_lookup_unsupported_view(world, view):
    with unchanged(world, NotSupported):
        world.rip.lookup(np.array([0x0A000001], np.uint32), view=view)


def test_lookup_bad_view_value(world):
    with unchanged(world, (NotSupported, InvalidParameter), code=None):
        world.rip.lookup(np.array([0x0A000001], np.uint32), view=-1)


def test_lookup_bad_shapes(world):
    with unchanged(world, InvalidParameter):
        world.rip.lookup(np.zeros((2, 2), np.uint32))
    with unchanged(world, InvalidParameter):
        world.rip6.lookup(np.zeros(4, np.uint64))
    with unchanged(world, InvalidParameter):
        world.rip6.lookup(np.zeros((2, 8), np.uint8))


# ---------------------------------------------------------------------------
# Handles: forged, wrong kind, stale, other manager (U46, F110)
# ---------------------------------------------------------------------------
def _handle_ops(w):
    """name -> (call taking a handle, a valid handle of the kind it expects)."""
    r = w.rip
    return {
        "get_route_info": (lambda h: r.get_route_info(h), w.r_rip),
        "is_best_route": (lambda h: r.is_best_route(h), w.r_rip),
        "delete_route_to_dest": (lambda h: r.delete_route_to_dest(h), w.r_rip),
        "release_routes": (lambda h: r.release_routes([h]), w.r_rip),
        "add_route_to_dest(route=)": (lambda h: r.add_route_to_dest("10.0.0.0/8", route=h),
                                      w.r_rip),
        "get_dest_info": (lambda h: r.get_dest_info(h), w.d10),
        "get_less_specific_destination": (lambda h: r.get_less_specific_destination(h), w.d16),
        "get_next_hop_info": (lambda h: r.get_next_hop_info(h), w.n1),
        "release_next_hops": (lambda h: r.release_next_hops([h]), w.n1),
        "delete_next_hop": (lambda h: r.delete_next_hop(h), w.n1),
        "add_next_hop(next_hop=)": (lambda h: r.add_next_hop("192.0.2.1", interface_index=1,
                                                             next_hop=h), w.n1),
        "add_route_to_dest(next_hops=)": (lambda h: r.add_route_to_dest("13.0.0.0/8",
                                                                        next_hops=h), w.n1),
        "add_route_to_dest(neighbour=)": (lambda h: r.add_route_to_dest("13.0.0.0/8",
                                                                        neighbour=h), w.n1),
        "get_entity_info": (lambda h: r.get_entity_info(h), w.ospf.handle),
        "release_entities": (lambda h: r.release_entities([h]), w.ospf.handle),
        "reference_handles": (lambda h: r.reference_handles([h]), w.r_rip),
    }


_OPS = list(_handle_ops(SimpleNamespace(rip=None, r_rip=0, d10=0, d16=0, n1=0,
                                        ospf=SimpleNamespace(handle=0))))


def _forgeries(valid, rnd):
    return {
        "random": [rnd.getrandbits(64) for _ in range(20)],
        "small": [1, 2, 3, 0x7FFFFFFF, 1 << 63],
        "generation+1": [valid + (1 << 32)],
        "slot+1000": [valid + 1000],
        "tag-changed": [valid ^ (0x800 << 48)],
        "kind-changed": [(valid & ~(0xF << 60)) | (0xE << 60), valid & ~(0xF << 60)],
    }


@pytest.mark.parametrize("op", _OPS)
def test_forged_handles(world, op):
    call, valid = _handle_ops(world)[op]
    rnd = random.Random(hash(op) & 0xFFFF)
    for kind, values in _forgeries(valid, rnd).items():
        for h in values:
            with unchanged(world, InvalidHandle):
                call(h)


@pytest.mark.parametrize("op", _OPS)
@pytest.mark.parametrize("value", [-1, -(1 << 63), 1 << 64, (1 << 64) + 1, 1 << 70],
                         ids=["-1", "-2**63", "2**64", "2**64+1", "2**70"])
def test_out_of_range_handles(world, op, value):
    """U46: a value that cannot be a handle is ERROR_INVALID_HANDLE, not an
    OverflowError."""
    call, valid = _handle_ops(world)[op]
    with unchanged(world, InvalidHandle):
        call(value)
    if value > 0:
        with unchanged(world, InvalidHandle):
            call(value + valid)                          # a valid handle plus 2**64


@pytest.mark.parametrize("op", [o for o in _OPS if o != "reference_handles"])  # any kind ok
def test_wrong_kind_handles(world, op):
    call, valid = _handle_ops(world)[op]
    candidates = [world.r_rip, world.d10, world.n1, world.ospf.handle]
    for h in candidates:
        if h >> 60 == valid >> 60:
            continue
        with unchanged(world, InvalidHandle):
            call(h)


@pytest.mark.parametrize("op", _OPS)
def test_handles_of_another_manager(world, twin, op):
    call, _ = _handle_ops(world)[op]
    _, other = _handle_ops(twin)[op]
    assert other & 0xFFFFFFFFFFFF == _handle_ops(world)[op][1] & 0xFFFFFFFFFFFF, \
        "twin managers should differ only in the manager tag"
    with unchanged(world, InvalidHandle):
        call(other)
    twin.rtm.check_invariants()


def test_stale_route_handles_after_slot_reuse(world):
    r = world.rip
    old = []
    for i in range(12):
        h, _ = r.add_route_to_dest((0x0E000000 + (i << 8), 24), return_handle=True)
        old.append(h)
        r.delete_route_to_dest(h)
    live = [r.add_route_to_dest((0x0F000000 + (i << 8), 24), return_handle=True)[0]
            for i in range(12)]
    world.handles += live
    assert {h & 0xFFFFFFFF for h in old} & {h & 0xFFFFFFFF for h in live}, \
        "expected freed route slots to be reused"
    for h in old:
        for call in (r.get_route_info, r.is_best_route, r.delete_route_to_dest,
                     lambda x: r.release_routes([x]),
                     lambda x: r.add_route_to_dest("15.0.0.0/24", route=x)):
            with unchanged(world, InvalidHandle):
                call(h)
    for h in live:
        info, _ = r.get_route_info(h)
        r.release_route_info(info)


def test_stale_dest_handles_after_slot_reuse(world):
    r = world.rip
    old = []
    for i in range(8):
        r.add_route_to_dest((0x0E000000 + (i << 8), 24))
        old.append(r.search_exact((0x0E000000 + (i << 8), 24)).dest_handle)
        r.delete_routes(np.array([0x0E000000 + (i << 8)], np.uint32), 24)
    for i in range(8):
        r.add_route_to_dest((0x0F000000 + (i << 8), 24))
    for h in old:
        with unchanged(world, InvalidHandle):
            r.get_dest_info(h)
        with unchanged(world, InvalidHandle):
            r.get_less_specific_destination(h)


def test_stale_next_hop_and_entity_handles(world):
    r = world.rip
    old_nh = []
    for i in range(6):
        h, _ = r.add_next_hop(f"203.0.113.{i}")
        old_nh.append(h)
        r.delete_next_hop(h)
    fresh = [r.add_next_hop(f"203.0.113.{100 + i}")[0] for i in range(6)]
    world.handles += fresh
    for h in old_nh:
        for call in (r.get_next_hop_info, r.delete_next_hop,
                     lambda x: r.release_next_hops([x]),
                     lambda x: r.add_route_to_dest("13.0.0.0/8", next_hops=x)):
            with unchanged(world, InvalidHandle):
                call(h)
    old_ent = []
    for i in range(4):
        e = world.rtm.register_entity(PROTO_IP_OSPF, 100 + i)
        old_ent.append(e.handle)
        e.deregister_entity()
    world.rtm.register_entity(PROTO_IP_OSPF, 200)
    for h in old_ent:
        with unchanged(world, InvalidHandle):
            r.get_entity_info(h)
        with unchanged(world, InvalidHandle):
            r.release_entities([h])


def test_next_hop_handle_object_reused_after_its_next_hop_ends(world):
    # the same int object passed call after call is converted once; each call
    # still checks the handle it holds against the next hop as it is now
    r = world.rip
    h, _ = r.add_next_hop("203.0.113.200")
    h = int(h)
    before = world.rtm.counts(4)
    r.add_route_to_dest("14.0.0.0/8", neighbour=h, next_hops=h)
    r.add_route_to_dest("14.1.0.0/16", neighbour=h, next_hops=h)
    r.delete_next_hop(h)                    # deleted, still used by the routes (U37)
    with unchanged(world, InvalidParameter):
        r.add_route_to_dest("14.2.0.0/16", neighbour=h, next_hops=h)
    r.delete_routes(["14.0.0.0/8", "14.1.0.0/16"], neighbour=h)
    assert world.rtm.counts(4) == before
    fresh, _ = r.add_next_hop("203.0.113.201")     # takes the freed slot, a new generation
    world.handles.append(fresh)
    assert fresh & 0xFFFFFFFF == h & 0xFFFFFFFF and fresh != h
    with unchanged(world, InvalidHandle):
        r.add_route_to_dest("14.3.0.0/16", neighbour=h, next_hops=h)
    with unchanged(world, InvalidHandle):
        r.add_route_to_dest("14.3.0.0/16", neighbour=fresh, next_hops=h)


def test_change_new_with_route_handle_is_not_an_error(world):
    # U44: CHANGE_NEW is ignored when a handle is given (not an error, no new route)
    _, f = world.rip.add_route_to_dest("10.0.0.0/8", route=world.r_rip, metric=5,
                                       neighbour=world.n1, next_hops=world.n1,
                                       change_flags=RTM_ROUTE_CHANGE_NEW)
    assert f == 0
    assert len(world.rip.routes("10.0.0.0/8")) == 2

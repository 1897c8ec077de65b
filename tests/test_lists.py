"""Client route lists (spec 1.13, 1.16, 2.5 RouteListHandle, 2.10; decisions U21,
U40, U45; features F32, F94-F98, F109).

Semantics checked here:

* ``create_route_list`` gives a new, empty list of the caller;
* ``insert_in_route_list(list, routes)`` moves each route into the list, out of
  any list it was in (a route is in at most one list, at most once);
  ``insert_in_route_list(None, routes)`` takes routes out of their lists; the
  caller's handle references are neither taken nor consumed;
* another entity's route -> ``AccessDenied`` (U40), a deleted route ->
  ``NotFound``, a bad / deleted / foreign list handle -> ``InvalidHandle``; a
  failed call changes nothing; zero routes -> no effect (U45);
* ``add_route_to_dest(..., route_list=L)`` moves the added or updated route
  into ``L``; an update without ``route_list`` leaves the route where it is;
* a deleted route leaves its list; ``delete_route_list`` empties and frees the
  list, the routes stay; deregistration frees the entity's lists;
* list enumerations return referenced handles in list order, at most
  ``num_routes`` (default and maximum ``max_handles_in_enum``; more ->
  ``InvalidParameter``) per call, a short or empty batch at the end; they walk
  the list as it was when they were created, skipping routes moved out or
  deleted before they are reached (U21 as decided in docs/decisions.md), so
  the spec's sample (move every enumerated batch into another list) visits
  each route exactly once; an enumeration of a deleted list returns nothing;
* after every handle is released the reference and record counts are back where
  they started.
"""
import pytest

from rtmcore import (
    AF_INET6,
    PROTO_IP_OSPF,
    PROTO_IP_RIP,
    RTM_ROUTE_STATE_CREATED,
    RTM_ROUTE_STATE_DELETED,
    RoutingTableManager,
)
from rtmcore.errors import AccessDenied, InvalidHandle, InvalidParameter, NotFound

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


def add(ent, prefix, **kw):
    """Add a route; return its handle (one caller reference)."""
    return ent.add_route_to_dest(prefix, return_handle=True, **kw)[0]


def add_many(ent, n, first=0, **kw):
    return [add(ent, f"10.{i}.0.0/16", **kw) for i in range(first, first + n)]


def members(ent, route_list, batch=None):
    """The routes of a list in list order, read with a fresh enumeration whose
    handles are released again."""
    e = ent.create_route_list_enum(route_list)
    out = []
    while True:
        got = ent.get_list_enum_routes(e, batch)
        out += got
        ent.release_routes(got)
        if len(got) < (batch or MAXH):
            break
    ent.delete_enum_handle(e)
    return out


def refs(rtm, handles):
    return [rtm.core.ref_count(h) for h in handles]


# ---------------------------------------------------------------------------
# create / insert / remove
# ---------------------------------------------------------------------------
def test_new_lists_are_distinct_and_empty(rip):
    a, b = rip.create_route_list(), rip.create_route_list()
    assert a != b and a and b
    assert members(rip, a) == [] and members(rip, b) == []


def test_insert_keeps_the_given_order(rip):
    rs = add_many(rip, 6)
    lst = rip.create_route_list()
    rip.insert_in_route_list(lst, rs[3:])
    rip.insert_in_route_list(lst, rs[:3])
    assert members(rip, lst) == rs[3:] + rs[:3]


def test_insert_moves_a_route_out_of_its_previous_list(rip):
    rs = add_many(rip, 5)
    l1, l2 = rip.create_route_list(), rip.create_route_list()
    rip.insert_in_route_list(l1, rs)
    rip.insert_in_route_list(l2, [rs[1], rs[3]])
    assert members(rip, l1) == [rs[0], rs[2], rs[4]]
    assert members(rip, l2) == [rs[1], rs[3]]
    rip.insert_in_route_list(l1, [rs[3]])                 # and back
    assert members(rip, l2) == [rs[1]]
    assert sorted(members(rip, l1)) == sorted([rs[0], rs[2], rs[4], rs[3]])


def test_a_route_is_in_a_list_at_most_once(rip):
    rs = add_many(rip, 3)
    lst = rip.create_route_list()
    rip.insert_in_route_list(lst, rs)
    rip.insert_in_route_list(lst, [rs[1], rs[1]])         # again, twice in one call
    got = members(rip, lst)
    assert sorted(got) == sorted(rs) and len(got) == 3


def test_insert_none_takes_routes_out_of_their_lists(rtm, rip):
    rs = add_many(rip, 4)
    l1, l2 = rip.create_route_list(), rip.create_route_list()
    rip.insert_in_route_list(l1, rs[:2])
    rip.insert_in_route_list(l2, rs[2:])
    rip.insert_in_route_list(None, [rs[0], rs[3]])
    assert members(rip, l1) == [rs[1]]
    assert members(rip, l2) == [rs[2]]
    rip.insert_in_route_list(None, [rs[0]])               # in no list: no effect
    assert rtm.counts() == (4, 4), "removing a route from its list must not delete it"
    for h in rs:
        info, _ = rip.get_route_info(h)
        assert info.state == RTM_ROUTE_STATE_CREATED
        rip.release_route_info(info)


def test_zero_routes_is_a_no_op(rip):
    """U45: zero-count (and NULL-array) calls succeed and change nothing."""
    rs = add_many(rip, 2)
    lst = rip.create_route_list()
    rip.insert_in_route_list(lst, rs)
    rip.insert_in_route_list(lst, [])
    rip.insert_in_route_list(None, [])
    rip.insert_in_route_list(lst, None)
    rip.insert_in_route_list(None, None)
    assert members(rip, lst) == rs


def test_insert_does_not_take_or_consume_references(rtm, rip):
    rs = add_many(rip, 3)
    before = refs(rtm, rs)
    assert before == [1, 1, 1]
    l1, l2 = rip.create_route_list(), rip.create_route_list()
    rip.insert_in_route_list(l1, rs)
    rip.insert_in_route_list(l2, rs[:1])
    rip.insert_in_route_list(None, rs[1:2])
    assert refs(rtm, rs) == before
    rip.delete_route_list(l1)
    rip.delete_route_list(l2)
    assert refs(rtm, rs) == before


# ---------------------------------------------------------------------------
# error paths
# ---------------------------------------------------------------------------
def test_foreign_route_is_access_denied_and_nothing_moves(rip, ospf):
    """U40: another entity's route cannot go into (or out of) a caller's list."""
    mine = add_many(rip, 2)
    theirs = add(ospf, "10.0.0.0/16")
    l1, l2 = rip.create_route_list(), rip.create_route_list()
    rip.insert_in_route_list(l1, mine)
    with pytest.raises(AccessDenied) as ei:
        rip.insert_in_route_list(l2, [mine[0], theirs])
    assert ei.value.winerror == 5
    assert members(rip, l1) == mine and members(rip, l2) == []
    with pytest.raises(AccessDenied):
        rip.insert_in_route_list(None, [theirs])
    theirs_list = ospf.create_route_list()
    ospf.insert_in_route_list(theirs_list, [theirs])
    with pytest.raises(AccessDenied):
        rip.insert_in_route_list(None, [theirs])
    assert members(ospf, theirs_list) == [theirs]


def test_deleted_route_is_not_found(rtm, rip):
    rs = add_many(rip, 2)
    lst = rip.create_route_list()
    rip.reference_handles([rs[0]])
    rip.delete_route_to_dest(rs[0])                       # consumes one of the two
    info, _ = rip.get_route_info(rs[0])
    assert info.state == RTM_ROUTE_STATE_DELETED
    rip.release_route_info(info)
    with pytest.raises(NotFound) as ei:
        rip.insert_in_route_list(lst, [rs[1], rs[0]])
    assert ei.value.winerror == 1168
    assert members(rip, lst) == [], "a failed insert must not move the valid routes either"
    with pytest.raises(NotFound):
        rip.insert_in_route_list(None, [rs[0]])
    rip.release_routes([rs[0]])
    with pytest.raises(InvalidHandle):                    # released: the handle is stale
        rip.insert_in_route_list(lst, [rs[0]])


@pytest.mark.parametrize("bad", [0x3039, 0x6001000000000099, 0x3001000000000fff, -1])
def test_bad_route_handle_is_invalid_handle(rip, bad):
    lst = rip.create_route_list()
    with pytest.raises(InvalidHandle) as ei:
        rip.insert_in_route_list(lst, [bad])
    assert ei.value.winerror == 6


def test_bad_list_handles_are_invalid_handle(rtm, rip, ospf):
    r = add(rip, "10.0.0.0/16")
    dead = rip.create_route_list()
    rip.delete_route_list(dead)
    foreign = ospf.create_route_list()
    enum = rip.create_dest_enum()
    for bad in (0x3039, r, dead, foreign, enum):
        with pytest.raises(InvalidHandle):
            rip.insert_in_route_list(bad, [r])
        with pytest.raises(InvalidHandle):
            rip.create_route_list_enum(bad)
        with pytest.raises(InvalidHandle):
            rip.delete_route_list(bad)
        with pytest.raises(InvalidHandle):
            rip.add_route_to_dest("10.9.0.0/16", route_list=bad)
        with pytest.raises(InvalidHandle):
            rip.add_route_to_dest("10.0.0.0/16", route=r, metric=9, route_list=bad)
    assert rtm.counts() == (1, 1), "a failed add must leave the table unchanged"
    info, _ = rip.get_route_info(r)
    assert info.metric == 0
    rip.release_route_info(info)
    assert members(ospf, foreign) == [], "the owner's list is untouched"


def test_list_handle_is_consumed_by_delete(rip):
    """F109: RtmDeleteRouteList consumes the list handle."""
    lst = rip.create_route_list()
    rip.delete_route_list(lst)
    with pytest.raises(InvalidHandle):
        rip.delete_route_list(lst)
    with pytest.raises(InvalidHandle):
        rip.create_route_list_enum(lst)
    again = rip.create_route_list()                       # may reuse the slot ...
    assert again != lst                                   # ... but never the handle
    with pytest.raises(InvalidHandle):
        rip.insert_in_route_list(lst, [add(rip, "10.0.0.0/16")])
    assert members(rip, again) == []


def test_lists_are_private(rip, ospf):
    lst = rip.create_route_list()
    rip.insert_in_route_list(lst, add_many(rip, 2))
    with pytest.raises(InvalidHandle):
        ospf.create_route_list_enum(lst)
    with pytest.raises(InvalidHandle):
        ospf.insert_in_route_list(lst, [add(ospf, "10.7.0.0/16")])
    with pytest.raises(InvalidHandle):
        ospf.delete_route_list(lst)
    e = rip.create_route_list_enum(lst)
    with pytest.raises(InvalidHandle):
        ospf.get_list_enum_routes(e)
    with pytest.raises(InvalidHandle):
        ospf.delete_enum_handle(e)
    assert len(rip.get_list_enum_routes(e)) == 2


# ---------------------------------------------------------------------------
# add_route_to_dest(route_list=...)
# ---------------------------------------------------------------------------
def test_add_route_to_dest_puts_the_route_into_the_list(rtm, rip):
    l1, l2 = rip.create_route_list(), rip.create_route_list()
    r1 = add(rip, "10.1.0.0/16", route_list=l1)
    r2 = add(rip, "10.2.0.0/16", route_list=l1)
    assert members(rip, l1) == [r1, r2]
    # update through the handle, moving it
    rip.add_route_to_dest("10.1.0.0/16", route=r1, metric=3, route_list=l2)
    assert members(rip, l1) == [r2] and members(rip, l2) == [r1]
    # update found by identity (same owner and neighbour), moving it
    rip.add_route_to_dest("10.2.0.0/16", metric=4, route_list=l2)
    assert members(rip, l1) == [] and members(rip, l2) == [r1, r2]
    # an update without a list leaves the route where it is
    rip.add_route_to_dest("10.1.0.0/16", route=r1, metric=5)
    rip.add_route_to_dest("10.2.0.0/16", metric=6)
    assert members(rip, l2) == [r1, r2]
    assert rtm.counts() == (2, 2)
    assert refs(rtm, [r1, r2]) == [1, 1]


def test_add_route_to_dest_route_list_none_or_zero_means_no_list(rip):
    lst = rip.create_route_list()
    r = add(rip, "10.1.0.0/16", route_list=lst)
    rip.add_route_to_dest("10.1.0.0/16", route=r, metric=2, route_list=None)
    rip.add_route_to_dest("10.1.0.0/16", route=r, metric=3, route_list=0)
    assert members(rip, lst) == [r]


# ---------------------------------------------------------------------------
# deleted routes, deleted lists
# ---------------------------------------------------------------------------
def test_a_deleted_route_leaves_its_list(rtm, rip):
    rs = add_many(rip, 4)
    lst = rip.create_route_list()
    rip.insert_in_route_list(lst, rs)
    rip.reference_handles([rs[1]])
    rip.delete_route_to_dest(rs[1])                       # still referenced: DELETED
    assert members(rip, lst) == [rs[0], rs[2], rs[3]]
    rip.delete_route_to_dest(rs[2])                       # freed
    assert members(rip, lst) == [rs[0], rs[3]]
    fresh = add(rip, "10.2.0.0/16")                       # may reuse a freed slot
    assert members(rip, lst) == [rs[0], rs[3]], "a new route is in no list"
    rip.insert_in_route_list(lst, [fresh])
    assert members(rip, lst) == [rs[0], rs[3], fresh]
    rip.release_routes([rs[1]])
    assert rtm.counts() == (3, 3)


def test_delete_route_list_keeps_the_routes(rtm, rip):
    rs = add_many(rip, 5)
    l1, l2 = rip.create_route_list(), rip.create_route_list()
    rip.insert_in_route_list(l1, rs)
    rip.delete_route_list(l1)
    assert rtm.counts() == (5, 5)
    assert refs(rtm, rs) == [1] * 5
    for h in rs:
        info, _ = rip.get_route_info(h)
        assert info.state == RTM_ROUTE_STATE_CREATED
        rip.release_route_info(info)
    # the routes are in no list now: they can go into another one
    rip.insert_in_route_list(l2, rs[::-1])
    assert members(rip, l2) == rs[::-1]
    rip.delete_route_list(l2)
    assert rtm.counts() == (5, 5)


# ---------------------------------------------------------------------------
# list enumeration
# ---------------------------------------------------------------------------
def test_enumeration_batches_and_end(rtm, rip):
    rs = add_many(rip, 10)
    lst = rip.create_route_list()
    rip.insert_in_route_list(lst, rs)
    e = rip.create_route_list_enum(lst)
    batches = []
    while True:
        got = rip.get_list_enum_routes(e)                 # default: max_handles_in_enum
        batches.append(got)
        if len(got) < MAXH:
            break
    assert [len(b) for b in batches] == [4, 4, 2]
    assert [h for b in batches for h in b] == rs
    assert rip.get_list_enum_routes(e) == [], "past the end: empty batches"
    for b in batches:
        rip.release_routes(b)
    rip.delete_enum_handle(e)
    assert members(rip, lst, batch=3) == rs
    assert members(rip, lst, batch=1) == rs


def test_enumeration_length_is_exact_multiple_of_batch(rip):
    rs = add_many(rip, 8)
    lst = rip.create_route_list()
    rip.insert_in_route_list(lst, rs)
    e = rip.create_route_list_enum(lst)
    got = [rip.get_list_enum_routes(e) for _ in range(3)]
    assert [len(b) for b in got] == [4, 4, 0]
    assert got[0] + got[1] == rs
    rip.release_routes(got[0] + got[1])


def test_enumeration_batch_size_limits(rip):
    rs = add_many(rip, 5)
    lst = rip.create_route_list()
    rip.insert_in_route_list(lst, rs)
    e = rip.create_route_list_enum(lst)
    for n in (MAXH + 1, 1000, -1):
        with pytest.raises(InvalidParameter) as ei:
            rip.get_list_enum_routes(e, n)
        assert ei.value.winerror == 87
    assert rip.get_list_enum_routes(e, 0) == []           # nothing, and no progress
    first = rip.get_list_enum_routes(e, 2)
    assert first == rs[:2]
    rest = rip.get_list_enum_routes(e, MAXH)
    assert rest == rs[2:]
    rip.release_routes(first + rest)


def test_enumeration_of_an_empty_list(rip):
    lst = rip.create_route_list()
    e = rip.create_route_list_enum(lst)
    assert rip.get_list_enum_routes(e) == []
    rip.delete_enum_handle(e)


def test_enumerated_handles_are_references(rtm, rip):
    rs = add_many(rip, 6)
    lst = rip.create_route_list()
    rip.insert_in_route_list(lst, rs)
    start_refs, start_records = refs(rtm, rs), rtm.core.record_counts()
    e = rip.create_route_list_enum(lst)
    a = rip.get_list_enum_routes(e)
    assert refs(rtm, rs) == [2, 2, 2, 2, 1, 1]
    b = rip.get_list_enum_routes(e)
    assert refs(rtm, rs) == [2] * 6
    # the enumerated references keep deleted routes readable
    rip.release_routes(rs[:1])
    rip.delete_route_to_dest(rs[1])
    info, _ = rip.get_route_info(a[1])
    assert info.state == RTM_ROUTE_STATE_DELETED
    rip.release_route_info(info)
    rip.release_routes(a + b)
    rip.delete_enum_handle(e)
    assert refs(rtm, rs[2:]) == start_refs[2:]
    assert rtm.core.ref_count(rs[0]) == 0 and rtm.core.ref_count(rs[1]) == 0
    assert rtm.counts() == (5, 5)
    assert rtm.core.record_counts()[1] == start_records[1] - 1


def test_routes_moved_out_before_reached_are_skipped(rip):
    rs = add_many(rip, 8)
    l1, l2 = rip.create_route_list(), rip.create_route_list()
    rip.insert_in_route_list(l1, rs)
    e = rip.create_route_list_enum(l1)
    first = rip.get_list_enum_routes(e, 2)
    assert first == rs[:2]
    rip.insert_in_route_list(l2, [rs[3]])
    rip.insert_in_route_list(None, [rs[5]])
    rest = rip.get_list_enum_routes(e, MAXH)
    rest += rip.get_list_enum_routes(e, MAXH)
    assert rest == [rs[2], rs[4], rs[6], rs[7]]
    assert rip.get_list_enum_routes(e) == []
    rip.release_routes(first + rest)


def test_routes_deleted_before_reached_are_skipped(rip):
    rs = add_many(rip, 6)
    lst = rip.create_route_list()
    rip.insert_in_route_list(lst, rs)
    e = rip.create_route_list_enum(lst)
    first = rip.get_list_enum_routes(e, 1)
    rip.delete_route_to_dest(rs[2])                       # freed
    rip.reference_handles([rs[3]])
    rip.delete_route_to_dest(rs[3])                       # DELETED, still referenced
    add(rip, "10.2.0.0/16")                               # may reuse rs[2]'s slot
    rest = rip.get_list_enum_routes(e) + rip.get_list_enum_routes(e)
    assert first + rest == [rs[0], rs[1], rs[4], rs[5]]
    rip.release_routes(first + rest + [rs[3]])


def test_routes_arriving_after_the_enumeration_started_are_not_returned(rip):
    """U21 as decided (docs/decisions.md): a route-list enumeration walks the
    list as it was when the enumeration was created.  Routes moved into the
    list, or added into it, afterwards are not returned; a new enumeration
    sees them, at the end of the list."""
    rs = add_many(rip, 4)
    lst = rip.create_route_list()
    rip.insert_in_route_list(lst, rs[:2])
    e = rip.create_route_list_enum(lst)
    first = rip.get_list_enum_routes(e, 1)
    assert first == rs[:1]
    rip.insert_in_route_list(lst, rs[2:])
    late = add(rip, "10.9.0.0/16", route_list=lst)
    rest = rip.get_list_enum_routes(e)
    assert rest == [rs[1]]
    assert rip.get_list_enum_routes(e) == []
    rip.release_routes(first + rest)
    assert members(rip, lst) == rs + [late]


def test_the_spec_sample_moves_every_batch_into_another_list(rtm, rip):
    """The client route-list sample: enumerate list 1 in batches of
    MaxHandlesInEnum, move each batch into list 2, release it, stop at a short
    batch; then delete both lists (the routes stay)."""
    start_records = rtm.core.record_counts()
    rs = []
    l1, l2 = rip.create_route_list(), rip.create_route_list()
    for i in range(11):
        rs.append(add(rip, f"10.{i}.0.0/16", route_list=l1))
    rip.release_routes(rs)                                # the lists keep no references
    e = rip.create_route_list_enum(l1)
    seen, sizes = [], []
    while True:
        batch = rip.get_list_enum_routes(e, rip.profile.max_handles_in_enum)
        sizes.append(len(batch))
        seen += batch
        rip.insert_in_route_list(l2, batch)
        rip.release_routes(batch)
        if len(batch) != rip.profile.max_handles_in_enum:
            break
    rip.delete_enum_handle(e)
    assert sizes == [4, 4, 3]
    assert seen == rs, "every route exactly once, in list order"
    assert members(rip, l1) == [] and members(rip, l2) == rs
    assert refs(rtm, rs) == [0] * 11
    rip.delete_route_list(l1)
    rip.delete_route_list(l2)
    assert rtm.counts() == (11, 11)
    for r in rs:
        rip.reference_handles([r])
        rip.delete_route_to_dest(r)
    assert rtm.counts() == (0, 0)
    assert rtm.core.record_counts() == start_records


def test_enumeration_of_a_deleted_list_returns_nothing(rip):
    """After its list is deleted an enumeration must not hand out routes of
    another list, even one that reuses the deleted list's storage."""
    rs = add_many(rip, 3)
    l1 = rip.create_route_list()
    rip.insert_in_route_list(l1, rs)
    e = rip.create_route_list_enum(l1)
    rip.delete_route_list(l1)
    l2 = rip.create_route_list()
    rip.insert_in_route_list(l2, rs)
    try:
        got = rip.get_list_enum_routes(e)
    except InvalidHandle:
        got = []
    assert got == [], "routes of list 2 came out of an enumeration of deleted list 1"
    assert members(rip, l2) == rs


def test_enum_handle_errors(rip, ospf):
    lst = rip.create_route_list()
    rip.insert_in_route_list(lst, add_many(rip, 2))
    e = rip.create_route_list_enum(lst)
    for other_kind in (rip.create_dest_enum(), rip.create_route_enum(), lst, 0x5001000000009999):
        with pytest.raises(InvalidHandle):
            rip.get_list_enum_routes(other_kind)
    rip.delete_enum_handle(e)
    with pytest.raises(InvalidHandle):                    # consumed (F109)
        rip.get_list_enum_routes(e)
    with pytest.raises(InvalidHandle):
        rip.delete_enum_handle(e)


def test_two_enumerations_of_one_list_are_independent(rip):
    rs = add_many(rip, 6)
    lst = rip.create_route_list()
    rip.insert_in_route_list(lst, rs)
    e1, e2 = rip.create_route_list_enum(lst), rip.create_route_list_enum(lst)
    a = rip.get_list_enum_routes(e1, 3)
    b = rip.get_list_enum_routes(e2, 2)
    c = rip.get_list_enum_routes(e1)
    d = rip.get_list_enum_routes(e2)
    assert (a, c) == (rs[:3], rs[3:]) and (b, d) == (rs[:2], rs[2:])
    rip.release_routes(a + b + c + d)


# ---------------------------------------------------------------------------
# IPv6, deregistration, totals
# ---------------------------------------------------------------------------
def test_ipv6_routes_in_lists(rtm):
    r6 = rtm.register_entity(PROTO_IP_RIP, 1, AF_INET6)
    l1, l2 = r6.create_route_list(), r6.create_route_list()
    rs = [add(r6, f"2001:db8:{i}::/48", route_list=l1) for i in range(5)]
    assert members(r6, l1) == rs
    r6.insert_in_route_list(l2, rs[1:3])
    assert members(r6, l1) == [rs[0], rs[3], rs[4]] and members(r6, l2) == rs[1:3]
    r6.release_routes(rs)


def test_deregistration_frees_lists_and_list_enumerations(rtm, ospf):
    start_records = rtm.core.record_counts()
    rip = rtm.register_entity(PROTO_IP_RIP, 1)
    l1, l2 = rip.create_route_list(), rip.create_route_list()
    rs = add_many(rip, 5, route_list=l1)
    rip.insert_in_route_list(l2, rs[:2])
    e = rip.create_route_list_enum(l1)
    got = rip.get_list_enum_routes(e, 1)
    rip.release_routes(rs + got)
    rip.deregister_entity()
    assert rtm.counts() == (0, 0)
    assert rtm.core.record_counts() == start_records
    with pytest.raises(InvalidHandle):
        rip.create_route_list()
    with pytest.raises(InvalidHandle):
        rip.get_list_enum_routes(e)
    # a new registration (which may reuse the slot) sees none of it
    again = rtm.register_entity(PROTO_IP_RIP, 1)
    for old in (l1, l2):
        with pytest.raises(InvalidHandle):
            again.create_route_list_enum(old)
        with pytest.raises(InvalidHandle):
            again.delete_route_list(old)
    with pytest.raises(InvalidHandle):
        again.get_list_enum_routes(e)
    fresh = again.create_route_list()
    assert fresh not in (l1, l2)
    assert members(again, fresh) == []


def test_counts_back_to_the_start_after_a_full_workout(rtm, rip, ospf):
    start_records = rtm.core.record_counts()
    nh, _ = rip.add_next_hop("192.0.2.1", interface_index=1)
    l1, l2, l3 = (rip.create_route_list() for _ in range(3))
    rs = [add(rip, f"10.{i}.0.0/16", next_hops=nh, route_list=(l1, l2)[i % 2])
          for i in range(9)]
    other = add(ospf, "10.0.0.0/16")
    start_refs = refs(rtm, rs + [other, nh])
    for lst in (l1, l2):
        e = rip.create_route_list_enum(lst)
        while True:
            batch = rip.get_list_enum_routes(e, 2)
            rip.insert_in_route_list(l3, batch)
            rip.release_routes(batch)
            if len(batch) < 2:
                break
        rip.delete_enum_handle(e)
    assert sorted(members(rip, l3)) == sorted(rs)
    assert refs(rtm, rs + [other, nh]) == start_refs
    for lst in (l1, l2, l3):
        rip.delete_route_list(lst)
    for r in rs:
        rip.delete_route_to_dest(r)
    ospf.delete_route_to_dest(other)
    rip.delete_next_hop(nh)
    assert rtm.counts() == (0, 0)
    assert rtm.core.record_counts() == start_records

"""The real manager against the reference model (:mod:`rtmcore._reference`).

A Hypothesis state machine drives a :class:`rtmcore.RoutingTableManager` and
the pure-Python model with the same random operations, biased towards the
cases where bugs live: equal costs (preference and metric in 0..3), nested
and near-miss prefixes, routes in one, the other or both views, updates
through handles, stale / released / forged / foreign handles, bulk rows, and
references that keep deleted routes and empty destinations alive.  After
every step it compares the whole visible state: every destination's routes
in selection order, the best route of each view, the query results, the
batch lookup, reference counts, counts, and the core's own invariants.

Real handles are mapped to model objects by :class:`Binder` the first time
they are seen; from then on the mapping must stay a bijection, so a handle
that suddenly names another object (or an object that changes handle) fails.

The deterministic tests at the end pin the tie-break, identity and flag
rules with values worked out by hand from the specification.

``tests/test_stateful_rtm.py`` extends this machine with change
notification, enumerations, route lists, hold-down and route expiry.
"""
from __future__ import annotations

import functools
import ipaddress
from typing import ClassVar

import numpy as np
import pytest
from hypothesis import event, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import rtmcore as R
from rtmcore import _reference as M
from rtmcore.errors import RtmError

U = R.RTM_VIEW_MASK_UCAST
MC = R.RTM_VIEW_MASK_MCAST
BOTH = U | MC
ALL = R.RTM_VIEW_MASK_ALL
NEW = R.RTM_ROUTE_CHANGE_NEW
FIRST = R.RTM_ROUTE_CHANGE_FIRST
BEST = R.RTM_ROUTE_CHANGE_BEST

FAILED = object()


@functools.lru_cache(maxsize=4096)
def net(text: str):
    return ipaddress.ip_network(text)


ENTITIES = [(R.PROTO_IP_RIP, 0), (R.PROTO_IP_RIP, 1), (R.PROTO_IP_OSPF, 0)]


def test_model_constants_match_the_package():
    """The model keeps its own copy of the spec values; they must agree."""
    for name in ("RTM_VIEW_MASK_UCAST", "RTM_VIEW_MASK_MCAST", "RTM_VIEW_MASK_ALL",
                 "RTM_ROUTE_CHANGE_FIRST", "RTM_ROUTE_CHANGE_NEW", "RTM_ROUTE_CHANGE_BEST",
                 "RTM_NEXTHOP_CHANGE_NEW", "RTM_ROUTE_STATE_CREATED", "RTM_ROUTE_STATE_DELETED",
                 "RTM_BEST_PROTOCOL", "RTM_THIS_PROTOCOL", "DELETE_NOT_FOUND", "INFINITE",
                 "RTM_ROUTE_FLAGS_FORWARDING", "RTM_CHANGE_TYPE_ALL", "RTM_CHANGE_TYPE_BEST",
                 "RTM_CHANGE_TYPE_FORWARDING", "RTM_NOTIFY_ONLY_MARKED_DESTS", "RTM_ENUM_START",
                 "RTM_ENUM_NEXT", "RTM_ENUM_RANGE", "RTM_ENUM_OWN_DESTS", "RTM_ENUM_OWN_ROUTES",
                 "RTM_MATCH_NONE", "RTM_MATCH_OWNER", "RTM_MATCH_NEIGHBOUR", "RTM_MATCH_PREF",
                 "RTM_MATCH_NEXTHOP", "RTM_MATCH_INTERFACE", "RTM_MATCH_FULL"):
        assert getattr(M, name) == getattr(R, name), name
    for name in ("ERROR_ACCESS_DENIED", "ERROR_INVALID_HANDLE", "ERROR_NOT_SUPPORTED",
                 "ERROR_INVALID_PARAMETER", "ERROR_NOT_FOUND", "ERROR_NO_SYSTEM_RESOURCES"):
        assert getattr(M, name) == getattr(R.errors, name), name


class Binder:
    """Real handle <-> model object, learned on first sight, then enforced."""

    def __init__(self, what: str):
        self.what = what
        self.h2m: dict[int, object] = {}
        self.m2h: dict[int, int] = {}

    def bind(self, h, m, where: str = "") -> None:
        h = int(h)
        if m is None:
            assert h == 0, f"{where}: expected no {self.what}, got handle {h:#x}"
            return
        assert h != 0, f"{where}: expected {self.what} {m!r}, got handle 0"
        known = self.h2m.get(h)
        assert known is None or known is m, \
            f"{where}: {self.what} handle {h:#x} names {known!r}; the model expects {m!r}"
        prev = self.m2h.get(id(m))
        assert prev is None or prev == h, \
            f"{where}: {m!r} had handle {prev:#x}, now {h:#x}"
        self.h2m[h] = m
        self.m2h[id(m)] = h

    def model(self, h):
        h = int(h)
        return None if h == 0 else self.h2m.get(h, f"<unknown {self.what} {h:#x}>")

    def handle(self, m) -> int:
        return 0 if m is None else self.m2h[id(m)]


def forge(h: int, how: int) -> int:
    """A handle that never named anything, derived from a real one."""
    h = int(h)
    return [h ^ (1 << 47),                       # generation never reached
            (h & ~0xFFFFFFFF) | 0xFFFFF,          # slot never allocated
            h ^ (1 << 59),                        # another manager's tag
            (h & ~(0xF << 60)) | (0xE << 60),     # no such kind
            12345,
            (1 << 64) - 1][how % 6]


idx = st.integers(0, 255)
cost = st.integers(0, 3)
views_ok = st.sampled_from([U, MC, BOTH, ALL, U, MC, BOTH])
flags_st = st.sampled_from([0, 0, R.RTM_ROUTE_FLAGS_DISCARD, R.RTM_ROUTE_FLAGS_LOCAL])
mode_st = st.sampled_from([0, 0, NEW, FIRST])
pfx_st = st.one_of(st.integers(0, 3), st.integers(0, 255))   # half the time a "hot" prefix
nhs_st = st.lists(st.integers(0, 40), max_size=3, unique=True)
nh_pick = st.integers(-4, 40)            # < 0: no next hop / neighbour; see pick_nh
ent_st = st.integers(0, len(ENTITIES) - 1)
PROTOS = {"best": R.RTM_BEST_PROTOCOL, "this": R.RTM_THIS_PROTOCOL, "rip": R.PROTO_IP_RIP,
          "ospf": R.PROTO_IP_OSPF, "bgp": R.PROTO_IP_BGP}


class TableMachine(RuleBasedStateMachine):
    """Base machine; subclasses fix the family, pools and supported views."""

    FAMILY = 4
    VIEWS = BOTH
    MAX_NH = 3
    PREFIXES: ClassVar[list[str]] = []        # destinations routes are added to
    FLOOD = ""                                # str.format pattern of the flood prefixes
    PROBES: ClassVar[list[str]] = []          # addresses for the longest-match queries
    BAD: ClassVar[list[str]] = []             # prefixes that must be refused
    NH_ADDRS: ClassVar[list[str]] = []        # next-hop addresses

    def __init__(self):
        super().__init__()
        self.af = R.AF_INET if self.FAMILY == 4 else R.AF_INET6
        self.bits = 32 if self.FAMILY == 4 else 128
        self.rtm, self.model = self.make_tables()
        self.view_ids = [v for v in range(32) if self.VIEWS >> v & 1]
        self.ents = []
        self.ent_of_handle = {}
        self.routes = Binder("route")
        self.dests = Binder("destination")
        self.nhs = Binder("next hop")
        self.route_pool: list[int] = []      # route handles we (believe we) hold a reference on
        self.nh_known: list[int] = []        # every next-hop handle seen
        self.nh_pool: list[int] = []         # next-hop handles we hold a reference on
        self.dest_infos: list = []           # (real DestInfo, model MDestInfo)
        self.route_infos: list = []          # (real RouteInfo, model MRouteInfo)
        self.step = 0
        self.flooded = False
        self.check_lookups = self.FAMILY == 6
        for i, (proto, inst) in enumerate(ENTITIES):
            e = self.rtm.register_entity(proto, inst, self.af, **self.entity_options(i))
            me = self.model.register(proto, inst)
            self.ents.append((e, me))
            self.ent_of_handle[e.handle] = me
        for i in range(len(self.ents)):
            for j in range(2):
                self._add_next_hop(i, self.NH_ADDRS[(i + j) % len(self.NH_ADDRS)], 1 + j)
        probes = [int(ipaddress.ip_address(a)) for a in self.PROBES]
        if self.FAMILY == 4:
            self.probe_array = np.array(probes, dtype=np.uint32)
        else:
            self.probe_array = np.array([[a >> 64, a & ((1 << 64) - 1)] for a in probes],
                                        dtype=np.uint64)

    # -- helpers ----------------------------------------------------------------------
    def make_tables(self):
        """The manager under test and its model (subclasses add a clock, limits)."""
        return (R.RoutingTableManager(views=self.VIEWS, max_next_hops_in_route=self.MAX_NH),
                M.Model(self.FAMILY, self.VIEWS, self.MAX_NH))

    def entity_options(self, i: int) -> dict:
        """Keyword arguments of register_entity for ENTITIES[i]."""
        return {}

    def both(self, model_call, real_call, what: str):
        """Run the model, then the real call; if the model refuses, the real call
        must raise one of the acceptable errors.  Returns FAILED or both results."""
        try:
            expected = model_call()
        except M.ModelError as exc:
            note(f"{what} -> model refuses {sorted(exc.codes)}")
            event(f"{what.split('(')[0].split()[-1]}: refused {sorted(exc.codes)}")
            try:
                got = real_call()
            except RtmError as err:
                assert err.winerror in exc.codes, (
                    f"{what}: raised {type(err).__name__} (status {err.winerror}: {err}); "
                    f"the model expects status {sorted(exc.codes)}")
                return FAILED
            raise AssertionError(f"{what}: succeeded with {got!r}; the model expects an "
                                 f"error with status {sorted(exc.codes)}")
        return expected, real_call()

    def pick_nh(self, e: int, k: int):
        """(handle, model object) of a next hop for entity e; k < 0: none.
        k < 37: one of the entity's live next hops; 37..38: any of its own
        (possibly deleted or freed); 39..40: any next hop (possibly foreign)."""
        if k < 0 or not self.nh_known:
            return 0, None
        me = self.ents[e][1]
        own = [h for h in self.nh_known if self.nhs.h2m[h].owner is me]
        live = [h for h in own if self.nhs.h2m[h].live]
        if k < 37 and live:
            h = live[k % len(live)]
        elif k < 39 and own:
            h = own[k % len(own)]
        else:
            h = self.nh_known[k % len(self.nh_known)]
        return h, self.nhs.h2m[h]

    def pick_route(self, k: int, from_pool: bool):
        """(handle, model route, pooled?) or None."""
        if from_pool and self.route_pool:
            h = self.route_pool[k % len(self.route_pool)]
            return h, self.routes.h2m[h], True
        known = list(self.routes.h2m)
        if not known:
            return None
        h = known[k % len(known)]
        return h, self.routes.h2m[h], False

    def other(self, e: int) -> int:
        return (e + 1) % len(self.ents)

    def key(self, prefix) -> tuple[int, int]:
        n = ipaddress.ip_network(prefix)
        return int(n.network_address), n.prefixlen

    def columns(self, keys):
        """(addresses, lengths) arrays for the bulk calls."""
        lengths = np.array([ln for _, ln in keys], dtype=np.int64)
        if self.FAMILY == 4:
            return np.array([a for a, _ in keys], dtype=np.uint32), lengths
        return (np.array([[a >> 64, a & ((1 << 64) - 1)] for a, _ in keys], dtype=np.uint64),
                lengths)

    def _add_next_hop(self, e: int, address: str, ifindex: int) -> None:
        real_e, me = self.ents[e]
        res = self.both(lambda: self.model.add_next_hop(me, address, ifindex),
                        lambda: real_e.add_next_hop(address, interface_index=ifindex),
                        f"{me!r} add_next_hop {address}%{ifindex}")
        if res is FAILED:
            return
        (mnh, mflags), (h, flags) = res
        note(f"{me!r} add_next_hop {address}%{ifindex} -> {mnh!r} flags {mflags:#x}")
        assert flags == mflags, f"add_next_hop flags {flags:#x}, model {mflags:#x}"
        self.nhs.bind(h, mnh, "add_next_hop")
        if h not in self.nh_known:
            self.nh_known.append(h)
        self.nh_pool.append(h)

    def _add(self, e: int, prefix, nbr, nh_pairs, metric, pref, views, flags, info, mode,
             ret, route=None, ttl=None, rlist=None) -> None:
        """add_route_to_dest on both; ``ttl`` (None: not given, i.e. INFINITE)
        and ``rlist`` ((handle, model list) or None: not given) are the
        time-to-live and route-list arguments."""
        real_e, me = self.ents[e]
        nbr_h, nbr_m = nbr
        rh, rm = route if route is not None else (None, None)
        extra, mextra = {}, {}
        if ttl is not None:
            extra["time_to_live"] = mextra["ttl"] = ttl
        if rlist is not None:
            extra["route_list"], mextra["route_list"] = rlist
        what = (f"{me!r} add_route_to_dest({prefix!r}, neighbour={nbr_m!r}, next_hops="
                f"{[m for _, m in nh_pairs]!r}, metric={metric}, preference={pref}, "
                f"views={views:#x}, flags={flags:#x}, info={info}, change_flags={mode:#x}, "
                f"return_handle={ret}, route={rm!r}, {mextra})")
        res = self.both(
            lambda: self.model.add_route(
                me, prefix, neighbour=nbr_m, next_hops=[m for _, m in nh_pairs], metric=metric,
                preference=pref, views=views, flags=flags, info=info, change_flags=mode,
                route=rm, return_handle=ret, **mextra),
            lambda: real_e.add_route_to_dest(
                prefix, neighbour=nbr_h, next_hops=tuple(h for h, _ in nh_pairs), metric=metric,
                preference=pref, views=views, flags=flags, entity_specific_info=info,
                change_flags=mode, return_handle=ret, route=rh, **extra),
            what)
        if res is FAILED:
            return
        (mr, mout), (h, out) = res
        note(f"{what} -> {mr!r}, flags {mout:#x}")
        event(f"add_route_to_dest{' via handle' if rm else ''}: flags {mout:#x}")
        assert out == mout, f"{what}: change flags {out:#x}, model {mout:#x}"
        if ret:
            assert h is not None, f"{what}: no handle returned"
            self.routes.bind(h, mr, what)
            if rh is None:
                self.route_pool.append(int(h))
            else:
                assert int(h) == int(rh), f"{what}: returned {h:#x}, not the handle given"
        else:
            assert h is None, f"{what}: returned a handle without return_handle"

    # -- comparisons -------------------------------------------------------------------
    def route_tuple(self, ri) -> tuple:
        """A real RouteInfo in model terms (owner, neighbour, next hops, costs, ...)."""
        return (self.ent_of_handle.get(ri.route_owner, f"<entity {ri.route_owner:#x}>"),
                self.nhs.model(ri.neighbour),
                tuple(self.nhs.model(h) for h in ri.next_hops),
                ri.metric, ri.preference, ri.belongs_to_views, ri.flags, ri.flags1,
                ri.entity_specific_info)

    def compare_dest_info(self, di, mi, where: str) -> None:
        if mi is None:
            assert di is None, f"{where}: found {di.prefix}, the model finds nothing"
            return
        assert di is not None, f"{where}: found nothing, the model finds {mi.dest!r}"
        self.dests.bind(di.dest_handle, mi.dest, where)
        assert net(str(di.dest_address)) == mi.dest.prefix, where
        assert di.belongs_to_views == mi.belongs_to_views, \
            f"{where}: belongs_to_views {di.belongs_to_views:#x}, model {mi.belongs_to_views:#x}"
        got = [(v.view_id, v.num_routes, v.dest_flags) for v in di.view_info]
        exp = [(v.view_id, v.num_routes, v.dest_flags) for v in mi.view_info]
        assert got == exp, f"{where}: view info {got}, model {exp}"
        for v, mv in zip(di.view_info, mi.view_info):
            self.routes.bind(v.route, mv.route, f"{where} view {v.view_id} best route")
            self.routes.bind(v.hold_route, mv.hold_route, f"{where} view {v.view_id} hold route")
            owner = self.ent_of_handle.get(v.owner) if v.owner else None
            assert owner is mv.owner, \
                f"{where} view {v.view_id}: owner {owner!r}, model {mv.owner!r}"

    def snapshot(self, d):
        return None if d is None else self.model.dest_info(d, self.VIEWS, 0, None, False)

    def compare_dest_list(self, got, exp, where: str) -> None:
        gotp = [net(str(d.dest_address)) for d in got]
        expp = [d.prefix for d in exp]
        assert gotp == expp, f"{where}: {[str(p) for p in gotp]}, model {[str(p) for p in expp]}"
        for di, d in zip(got, exp):
            self.compare_dest_info(di, self.snapshot(d), where)

    @initialize(lookups=st.integers(0, 4))
    def choose_lookups(self, lookups):
        """Building the IPv4 lookup index costs ~0.1 s per view, so a fifth of
        the IPv4 runs build it (first lookup) and check it after every step;
        the IPv6 lookup has no index and is always checked."""
        self.check_lookups = self.FAMILY == 6 or lookups == 0
        note(f"check lookups: {self.check_lookups}")

    @invariant()
    def tables_agree(self) -> None:
        """Compare everything visible.  Routes, counts, references, best views
        and lookups are compared in full every step; the queries rotate over
        the view masks and probes, and route infos over the handles, from step
        to step to keep a step cheap."""
        self.step += 1
        turn = self.step
        e0 = self.ents[0][0]
        model = self.model
        self.rtm.check_invariants()
        assert self.rtm.counts(self.FAMILY) == model.counts(), \
            f"counts {self.rtm.counts(self.FAMILY)}, model {model.counts()}"
        if any(not r.live for r in model.routes):
            event("state: a deleted route is still referenced")
        if any(not model.ordered(d) for d in model.dests):
            event("state: a destination without routes is kept by references")
        qviews = [v for v in (0, U, MC) if not v & ~self.VIEWS]
        views = qviews[turn % len(qviews)]
        for p in self.PREFIXES:
            real = e0.routes(p)
            mrs = model.routes_of(p)
            got = [self.route_tuple(ri) for ri in real]
            exp = [r.fields() for r in mrs]
            assert got == exp, f"routes({p}):\n  real  {got}\n  model {exp}"
            for ri, mr in zip(real, mrs):
                assert ri.state == mr.state
                self.dests.bind(ri.dest_handle, mr.dest, f"routes({p})")
            self.compare_dest_info(e0.search_exact(p, views),
                                   self.snapshot(model.search_exact(p, views)),
                                   f"search_exact({p}, {views})")
        for i, q in enumerate(self.PROBES + self.PREFIXES[turn % 3::3]):
            self.compare_dest_info(e0.search_best(q, views),
                                   self.snapshot(model.search_best(q, views)),
                                   f"search_best({q}, {views})")
            if i % 4 == turn % 4:
                self.compare_dest_list(e0.search_covering(q, views),
                                       model.search_covering(q, views),
                                       f"search_covering({q}, {views})")
            elif i % 4 == (turn + 2) % 4:
                worst = model.search_covering(q, views)
                self.compare_dest_info(e0.search_worst(q, views),
                                       self.snapshot(worst[0] if worst else None),
                                       f"search_worst({q}, {views})")
        covered = self.PREFIXES[turn % 5::5] + (self.PREFIXES[2:3] if turn % 2 else [])
        for q in covered:                                # PREFIXES[2] is the default route
            self.compare_dest_list(e0.search_covered(q, views), model.search_covered(q, views),
                                   f"search_covered({q}, {views})")
        if self.check_lookups:
            self.compare_lookups(e0)
        # every route handle ever seen: validity, references, best views, info
        for i, (h, mr) in enumerate(list(self.routes.h2m.items())):
            if mr.freed:
                assert self.rtm.core.ref_count(h) == 0
                with pytest.raises(R.InvalidHandle):
                    e0.is_best_route(h)
                continue
            assert self.rtm.core.ref_count(h) == mr.refs, \
                f"references on {mr!r}: {self.rtm.core.ref_count(h)}, model {mr.refs}"
            assert e0.is_best_route(h) == model.is_best_route(mr), \
                f"is_best_route({mr!r}) {e0.is_best_route(h):#x}, " \
                f"model {model.is_best_route(mr):#x}"
            if i % 3 != turn % 3 and h not in self.route_pool:
                continue
            ri, addr = e0.get_route_info(h)
            try:
                assert self.route_tuple(ri) == mr.fields(), \
                    f"get_route_info({mr!r}): {self.route_tuple(ri)}"
                assert ri.state == mr.state, f"state of {mr!r}: {ri.state}"
                assert net(str(addr)) == mr.dest.prefix
                self.dests.bind(ri.dest_handle, mr.dest, f"get_route_info({mr!r})")
            finally:
                e0.release_route_info(ri)
        for h, md in list(self.dests.h2m.items()):
            exp = 0 if md.freed else md.hrefs
            assert self.rtm.core.ref_count(h) == exp, \
                f"references on {md!r}: {self.rtm.core.ref_count(h)}, model {exp}"
        for h in self.nh_known:
            mnh = self.nhs.h2m[h]
            exp = 0 if mnh.freed else mnh.hrefs
            assert self.rtm.core.ref_count(h) == exp, \
                f"references on {mnh!r}: {self.rtm.core.ref_count(h)}, model {exp}"

    def compare_lookups(self, e0) -> None:
        model = self.model
        for view in (0, 1):
            res = self.both(lambda v=view: [model.lookup(a, v) for a in self.PROBES],
                            lambda v=view: e0.lookup(self.probe_array, view=v),
                            f"lookup view {view}")
            if res is FAILED:
                continue
            exp, got = res
            for i, (a, (d, nh)) in enumerate(zip(self.PROBES, exp)):
                where = f"lookup({a}, view={view})"
                if d is None:
                    assert got.length[i] == -1, f"{where}: length {got.length[i]}, model miss"
                    assert got.dest[i] == 0 and got.next_hop[i] == 0, where
                    continue
                assert got.length[i] == d.prefix.prefixlen, \
                    f"{where}: length {got.length[i]}, model {d.prefix}"
                if self.FAMILY == 4:
                    pfx = int(got.prefix[i])
                else:
                    pfx = (int(got.prefix[i][0]) << 64) | int(got.prefix[i][1])
                assert pfx == int(d.prefix.network_address), where
                self.dests.bind(got.dest[i], d, where)
                assert int(got.next_hop[i]) == self.nhs.handle(nh), \
                    f"{where}: next hop {int(got.next_hop[i]):#x}, model {nh!r}"

    # -- rules: routes -------------------------------------------------------------------
    def prefix(self, p: int) -> str:
        return self.PREFIXES[p % len(self.PREFIXES)]

    @rule(e=ent_st, p=pfx_st, nbr=nh_pick, nhs=nhs_st, dups=st.integers(0, 15), metric=cost,
          pref=cost, views=views_ok, flags=flags_st, info=st.integers(0, 1), mode=mode_st,
          ret=st.booleans())
    def add_route(self, e, p, nbr, nhs, dups, metric, pref, views, flags, info, mode, ret):
        self._add_rule(e, p, nbr, nhs, dups, metric, pref, -1, views, flags, info, mode, ret)

    @rule(e=ent_st, p=pfx_st, nbr=nh_pick, nhs=nhs_st, metric=cost, pref=cost,
          tie=st.integers(0, 7), views=views_ok, flags=flags_st, info=st.integers(0, 1),
          mode=mode_st, ret=st.booleans())
    def add_route_tie(self, e, p, nbr, nhs, metric, pref, tie, views, flags, info, mode, ret):
        """Like add_route, with the cost of a route already there (a full tie)."""
        self._add_rule(e, p, nbr, nhs, 1, metric, pref, tie, views, flags, info, mode, ret)

    def _add_rule(self, e, p, nbr, nhs, dups, metric, pref, tie, views, flags, info, mode, ret):
        prefix = self.prefix(p)
        if tie >= 0:
            rs = self.model.routes_of(prefix)
            if rs:
                r = rs[tie % len(rs)]
                pref, metric = r.preference, r.metric
        pairs = [self.pick_nh(e, k) for k in nhs]
        if dups:                          # dups == 0: keep a next hop listed twice
            pairs = list({h: (h, m) for h, m in pairs}.values())
        self._add(e, prefix, self.pick_nh(e, nbr), pairs, metric, pref, views, flags, info, mode,
                  ret)

    @rule(k=idx, from_pool=st.integers(0, 4), who=st.integers(0, 9), move=st.integers(0, 15),
          p=pfx_st, only=st.integers(0, 7), nbr=nh_pick, keep_nbr=st.booleans(), nhs=nhs_st,
          metric=cost, pref=cost, keep_cost=st.booleans(), views=views_ok, flags=flags_st,
          info=st.integers(0, 1), mode=mode_st, ret=st.booleans())
    def update_route(self, k, from_pool, who, move, p, only, nbr, keep_nbr, nhs, metric, pref,
                     keep_cost, views, flags, info, mode, ret):
        """add_route_to_dest(route=handle): the input change flags are ignored (U44).
        Mostly the owner, the route's own destination; sometimes neither.
        ``only`` 1..6 changes (at most) one field and keeps the others, to pin
        which changes of a best route are BEST changes (U17): 1 views, 2 flags,
        3 next hops, 4 private info, 5 neighbour, 6 nothing."""
        picked = self.pick_route(k, from_pool != 0)
        if picked is None:
            return
        h, mr, _ = picked
        e = mr.owner.index if who else self.other(mr.owner.index)
        prefix = str(mr.dest.prefix) if move else self.prefix(p)
        nb = self.pick_nh(e, nbr)
        pairs = list({h2: (h2, m) for h2, m in (self.pick_nh(e, x) for x in nhs)}.values())
        if 1 <= only <= 6:
            keep = {
                "views": mr.views, "flags": mr.flags, "info": mr.info,
                "nb": (self.nhs.handle(mr.neighbour), mr.neighbour),
                "pairs": [(self.nhs.handle(x), x) for x in mr.next_hops]}
            changed = {1: "views", 2: "flags", 3: "pairs", 4: "info", 5: "nb"}.get(only)
            fields = {"views": views, "flags": flags, "info": info, "nb": nb, "pairs": pairs}
            fields.update({name: v for name, v in keep.items() if name != changed})
            pref, metric = mr.preference, mr.metric
            views, flags, info, nb, pairs = (fields["views"], fields["flags"], fields["info"],
                                             fields["nb"], fields["pairs"])
        else:
            if keep_cost:
                pref, metric = mr.preference, mr.metric
            if keep_nbr:
                nb = (self.nhs.handle(mr.neighbour), mr.neighbour)
        self._add(e, prefix, nb, pairs, metric, pref, views, flags, info, mode, ret, (h, mr))

    @rule(k=idx, from_pool=st.integers(0, 4), who=st.integers(0, 9))
    def delete_route(self, k, from_pool, who):
        """Through a held handle (consumed), or any handle seen (possibly
        unreferenced, deleted or freed); mostly by the owner."""
        picked = self.pick_route(k, from_pool != 0)
        if picked is None:
            return
        h, mr, pooled = picked
        e = mr.owner.index if who else self.other(mr.owner.index)
        real_e, me = self.ents[e]
        what = f"{me!r} delete_route_to_dest({mr!r})"
        res = self.both(lambda: self.model.delete_route(me, mr),
                        lambda: real_e.delete_route_to_dest(h), what)
        if res is FAILED:
            return
        mout, out = res
        note(f"{what} -> flags {mout:#x}")
        event(f"delete_route_to_dest: flags {mout:#x}, refs left {mr.refs}")
        assert out == mout, f"{what}: change flags {out:#x}, model {mout:#x}"
        if pooled:
            self.route_pool.remove(h)

    @rule(a=idx, b=idx, two=st.integers(0, 3), from_pool=st.integers(0, 5), e=ent_st)
    def release_routes(self, a, b, two, from_pool, e):
        """One or two handles (maybe the same twice; maybe released already)."""
        picks = [self.pick_route(a, from_pool != 0)]
        if two == 0:
            picks.append(self.pick_route(b, from_pool != 0))
        if picks[0] is None or picks[-1] is None:
            return
        real_e, me = self.ents[e]
        what = f"{me!r} release_routes({[m for _, m, _ in picks]!r})"
        res = self.both(lambda: self.model.release_routes([m for _, m, _ in picks]),
                        lambda: real_e.release_routes([h for h, _, _ in picks]), what)
        note(f"{what} -> {'refused' if res is FAILED else 'ok'}")
        for h, m, pooled in picks:
            if pooled and h in self.route_pool and (res is not FAILED or m.freed or not m.refs):
                self.route_pool.remove(h)

    # -- rules: refused operations ----------------------------------------------------------
    @rule(e=ent_st, case=st.integers(0, 13), b=idx, how=st.integers(0, 5), p=pfx_st,
          views=st.sampled_from([0, 4, 0x80000001]), cf=st.sampled_from([4, 0x10000, 0x80]))
    def refused(self, e, case, b, how, p, views, cf):
        """Bad prefixes, view masks, change flags, next-hop lists, and handles
        that never named anything: refused, the table unchanged."""
        real_e, me = self.ents[e]
        prefix = self.prefix(p)
        if case >= 6:
            return self._forged(real_e, me, case - 6, b, how, prefix)
        own = [(h, self.nhs.h2m[h]) for h in self.nh_known
               if self.nhs.h2m[h].owner is me and self.nhs.h2m[h].live]
        nb, pairs, mode, v = (0, None), [], 0, U
        if case == 0:
            prefix = self.BAD[b % len(self.BAD)]
        elif case == 1:
            v = views
        elif case == 2:
            mode = cf
        elif case == 3 and own:
            pairs = [own[b % len(own)]] * 2                 # listed twice
        elif case == 4:
            j = 10
            while len(own) <= self.MAX_NH:                  # one more than allowed
                self._add_next_hop(e, self.NH_ADDRS[0], j)
                j += 1
                own = [(h, self.nhs.h2m[h]) for h in self.nh_known
                       if self.nhs.h2m[h].owner is me and self.nhs.h2m[h].live]
            pairs = own[:self.MAX_NH + 1]
        else:
            prefix = self.BAD[b % len(self.BAD)]
            v = views
        self._add(e, prefix, nb, pairs, 0, 0, v, 0, 0, mode, True)

    def _forged(self, real_e, me, kind, k, how, prefix):
        base_route = next(iter(self.routes.h2m), 0x3001000000000001)
        base_dest = next(iter(self.dests.h2m), 0x2001000000000001)
        base_nh = self.nh_known[k % len(self.nh_known)]
        fr, fd, fn = forge(base_route, how), forge(base_dest, how), forge(base_nh, how)
        what = f"forged handle, case {kind}"
        if kind == 0:
            self.both(lambda: self.model.delete_route(me, M.FORGED),
                      lambda: real_e.delete_route_to_dest(fr), what)
        elif kind == 1:
            self.both(lambda: self.model.add_route(me, prefix, route=M.FORGED),
                      lambda: real_e.add_route_to_dest(prefix, route=fr), what)
        elif kind == 2:
            self.both(lambda: self.model.release_routes([M.FORGED]),
                      lambda: real_e.release_routes([fr]), what)
        elif kind == 3:
            self.both(lambda: self.model.add_route(me, prefix, next_hops=[M.FORGED]),
                      lambda: real_e.add_route_to_dest(prefix, next_hops=(fn,)), what)
        elif kind == 4:
            self.both(lambda: self.model.add_route(me, prefix, neighbour=M.FORGED),
                      lambda: real_e.add_route_to_dest(prefix, neighbour=fn), what)
        elif kind == 5:
            self.both(lambda: self.model.is_best_route(M.FORGED),
                      lambda: real_e.is_best_route(fr), what)
        elif kind == 6:
            self.both(lambda: self.model.get_less_specific_destination(me, M.FORGED),
                      lambda: real_e.get_less_specific_destination(fd), what)
        else:
            self.both(lambda: self.model.release_next_hops([M.FORGED]),
                      lambda: real_e.release_next_hops([fn]), what)

    # -- rules: bulk -------------------------------------------------------------------
    @rule(e=ent_st, rows=st.lists(st.tuples(pfx_st, cost, cost), min_size=1, max_size=4),
          nbr=nh_pick, nh=nh_pick, views=views_ok, mode=mode_st, flags=flags_st,
          bad=st.integers(0, 11), where=idx)
    def bulk_add(self, e, rows, nbr, nh, views, mode, flags, bad, where):
        real_e, me = self.ents[e]
        keys = [self.key(self.prefix(p)) for p, _, _ in rows]
        if bad == 0:                                  # host bits in one row
            i = where % len(keys)
            a, ln = keys[i]
            keys[i] = (a | 1, ln) if ln < self.bits else (a, ln)
        elif bad == 1:                                # length out of range in one row
            i = where % len(keys)
            keys[i] = (keys[i][0], self.bits + 1)
        nbr_h, nbr_m = self.pick_nh(e, nbr)
        nh_h, nh_m = self.pick_nh(e, nh)
        metric = [m for _, m, _ in rows]
        pref = [p for _, _, p in rows]
        mrows = [{"prefix": k, "neighbour": nbr_m, "next_hop": nh_m, "metric": m,
                  "preference": p, "views": views, "flags": flags, "info": 0}
                 for k, m, p in zip(keys, metric, pref)]
        addrs, lengths = self.columns(keys)
        what = (f"{me!r} add_routes({[(str(ipaddress.ip_address(a)), ln) for a, ln in keys]}, "
                f"neighbour={nbr_m!r}, next_hop={nh_m!r}, metric={metric}, preference={pref}, "
                f"views={views:#x}, flags={flags:#x}, change_flags={mode:#x})")
        res = self.both(lambda: self.model.add_routes(me, mrows, mode),
                        lambda: real_e.add_routes(addrs, lengths, neighbour=nbr_h,
                                                  next_hop=nh_h, metric=np.array(metric),
                                                  preference=np.array(pref), views=views,
                                                  flags=flags, change_flags=mode), what)
        if res is FAILED:
            return
        mout, out = res
        note(f"{what} -> {[hex(x) for x in mout]}")
        assert [int(x) for x in out] == mout, \
            f"{what}: flags {[hex(int(x)) for x in out]}, model {[hex(x) for x in mout]}"

    @rule(e=ent_st, ps=st.lists(pfx_st, min_size=1, max_size=4), nbr=nh_pick,
          any_nbr=st.booleans(), bad=st.integers(0, 11))
    def bulk_delete(self, e, ps, nbr, any_nbr, bad):
        real_e, me = self.ents[e]
        keys = [self.key(self.prefix(p)) for p in ps]
        if bad == 0 and keys[0][1] < self.bits:
            keys[0] = (keys[0][0] | 1, keys[0][1])
        nbr_h, nbr_m = self.pick_nh(e, nbr)
        addrs, lengths = self.columns(keys)
        what = (f"{me!r} delete_routes({[(str(ipaddress.ip_address(a)), ln) for a, ln in keys]},"
                f" neighbour={nbr_m!r}, any_neighbour={any_nbr})")
        res = self.both(lambda: self.model.delete_routes(me, keys, nbr_m, any_nbr),
                        lambda: real_e.delete_routes(addrs, lengths, neighbour=nbr_h,
                                                     any_neighbour=any_nbr), what)
        if res is FAILED:
            return
        mout, out = res
        note(f"{what} -> {[hex(x) for x in mout]}")
        assert [int(x) for x in out] == mout, \
            f"{what}: flags {[hex(int(x)) for x in out]}, model {[hex(x) for x in mout]}"

    # -- rules: destination and route infos (references) ---------------------------------
    @rule(kind=st.integers(0, 4), e=ent_st, p=pfx_st, k=idx, src=st.integers(0, 3),
          proto=st.sampled_from(sorted(PROTOS)), tv=st.sampled_from([ALL, 0, U, MC, BOTH]))
    def hold_info(self, kind, e, p, k, src, proto, tv):
        """Take references: an exact match (0), most specific (1) or less
        specific (2) destination info, a route info (3), or one more reference
        on a route handle seen before (4, RtmReferenceHandles)."""
        real_e, me = self.ents[e]
        pid = PROTOS[proto]
        if kind == 3:
            return self._hold_route_info(real_e, me, k, src)
        if kind == 4:
            picked = self.pick_route(k, False)
            if picked is None:
                return
            h, mr, _ = picked
            what = f"{me!r} reference_handles([{mr!r}])"
            res = self.both(lambda: self.model.reference_routes([mr]),
                            lambda: real_e.reference_handles([h]), what)
            note(f"{what} -> {'refused' if res is FAILED else 'ok'}")
            if res is not FAILED:
                self.route_pool.append(h)
            return
        if kind == 2:
            if src and self.dest_infos:
                di0, mi0 = self.dest_infos[k % len(self.dest_infos)]
                dh, md = di0.dest_handle, mi0.dest
            elif self.dests.h2m:
                dh = list(self.dests.h2m)[k % len(self.dests.h2m)]
                md = self.dests.h2m[dh]
            else:
                return
            what = f"{me!r} get_less_specific_destination({md!r}, {proto}, {tv:#x})"
            res = self.both(lambda: self.model.get_less_specific_destination(me, md, pid, tv),
                            lambda: real_e.get_less_specific_destination(dh, pid, tv), what)
        elif kind == 1:
            q = (self.PROBES + self.PREFIXES)[k % (len(self.PROBES) + len(self.PREFIXES))]
            what = f"{me!r} get_most_specific_destination({q}, {proto}, {tv:#x})"
            res = self.both(lambda: self.model.get_most_specific_destination(me, q, pid, tv),
                            lambda: real_e.get_most_specific_destination(q, pid, tv), what)
        else:
            q = self.prefix(p)
            what = f"{me!r} get_exact_match_destination({q}, {proto}, {tv:#x})"
            res = self.both(lambda: self.model.get_exact_match_destination(me, q, pid, tv),
                            lambda: real_e.get_exact_match_destination(q, pid, tv), what)
        if res is FAILED:
            return
        mi, di = res
        note(f"{what} -> {mi.dest!r}")
        self.compare_dest_info(di, mi, what)
        self.dest_infos.append((di, mi))

    def _hold_route_info(self, real_e, me, k, src):
        picked = self.pick_route(k, src != 0)
        if picked is None:
            return
        h, mr, _ = picked
        what = f"{me!r} get_route_info({mr!r})"
        res = self.both(lambda: self.model.get_route_info(mr),
                        lambda: real_e.get_route_info(h), what)
        if res is FAILED:
            return
        mi, (ri, _addr) = res
        note(f"{what} -> held")
        assert self.route_tuple(ri) == mr.fields(), what
        self.route_infos.append((ri, mi))

    @precondition(lambda self: self.dest_infos or self.route_infos)
    @rule(k=idx, e=ent_st, routes=st.booleans())
    def release_info(self, k, e, routes):
        real_e, me = self.ents[e]
        if routes and self.route_infos or not self.dest_infos:
            ri, mi = self.route_infos.pop(k % len(self.route_infos))
            what = f"{me!r} release_route_info({mi.route!r})"
            res = self.both(lambda: self.model.release_route_info(mi),
                            lambda: real_e.release_route_info(ri), what)
        else:
            di, mi = self.dest_infos.pop(k % len(self.dest_infos))
            what = f"{me!r} release_dest_info({mi.dest!r})"
            res = self.both(lambda: self.model.release_dest_info(mi),
                            lambda: real_e.release_dest_info(di), what)
        note(f"{what} -> {'refused' if res is FAILED else 'ok'}")

    # -- rules: next hops ------------------------------------------------------------------
    @rule(kind=st.integers(0, 2), e=ent_st, k=idx, ifindex=st.integers(1, 2),
          from_pool=st.integers(0, 3), who=st.integers(0, 9))
    def next_hops(self, kind, e, k, ifindex, from_pool, who):
        """Add (0), delete (1: consumes a held handle; routes keep it, U37) or
        release (2) a next hop."""
        if kind == 0:
            return self._add_next_hop(e, self.NH_ADDRS[k % len(self.NH_ADDRS)], ifindex)
        if kind == 2:
            if not self.nh_pool:
                return
            h = self.nh_pool.pop(k % len(self.nh_pool))
            mnh = self.nhs.h2m[h]
            real_e, me = self.ents[e]
            what = f"{me!r} release_next_hops([{mnh!r}])"
            res = self.both(lambda: self.model.release_next_hops([mnh]),
                            lambda: real_e.release_next_hops([h]), what)
            note(f"{what} -> {'refused' if res is FAILED else 'ok'}")
            return
        if from_pool and self.nh_pool:
            h, pooled = self.nh_pool[k % len(self.nh_pool)], True
        else:
            h, pooled = self.nh_known[k % len(self.nh_known)], False
        mnh = self.nhs.h2m[h]
        e = mnh.owner.index if who else self.other(mnh.owner.index)
        real_e, me = self.ents[e]
        what = f"{me!r} delete_next_hop({mnh!r})"
        res = self.both(lambda: self.model.delete_next_hop(me, mnh),
                        lambda: real_e.delete_next_hop(h), what)
        note(f"{what} -> {'refused' if res is FAILED else 'ok'}")
        if res is not FAILED and pooled:
            self.nh_pool.remove(h)

    @precondition(lambda self: not self.flooded)
    @rule(e=ent_st, n=st.integers(17, 20), nhs=st.integers(2, 3), metric=cost,
          remove=st.integers(0, 2))
    def flood(self, e, n, nhs, metric, remove):
        """Many routes with several next hops each (grows the next-hop block pool
        past its initial 16 blocks), optionally removed again by a bulk delete.
        Once per run: it makes every later step slower."""
        self.flooded = True
        real_e, me = self.ents[e]
        live = [h for h in self.nh_known if self.nhs.h2m[h].owner is me and self.nhs.h2m[h].live]
        j = 20
        while len(live) < nhs:
            self._add_next_hop(e, self.NH_ADDRS[-1], j)
            j += 1
            live = [h for h in self.nh_known
                    if self.nhs.h2m[h].owner is me and self.nhs.h2m[h].live]
        pairs = [(h, self.nhs.h2m[h]) for h in live[:nhs]]
        prefixes = [self.FLOOD.format(i) for i in range(n)]
        for i, q in enumerate(prefixes):
            self._add(e, q, (0, None), pairs[i % 2:] + pairs[:i % 2], metric, 1, BOTH, 0, 0, 0,
                      False)
        for q in prefixes[::5]:
            got = [self.route_tuple(ri) for ri in real_e.routes(q)]
            assert got == [r.fields() for r in self.model.routes_of(q)], f"routes({q})"
        if remove:
            keys = [self.key(q) for q in prefixes]
            addrs, lengths = self.columns(keys)
            what = f"{me!r} delete_routes(<{n} flood prefixes>, any_neighbour=True)"
            mout, out = self.both(lambda: self.model.delete_routes(me, keys, None, True),
                                  lambda: real_e.delete_routes(addrs, lengths, any_neighbour=True),
                                  what)
            note(f"{what} -> {[hex(x) for x in mout]}")
            assert [int(x) for x in out] == mout, what

    def teardown(self):
        # The manager lives in a reference cycle (entities <-> manager) until the
        # cyclic GC runs; free its 64 MiB-per-view lookup index right away.
        self.rtm.core.drop_lookup_index()

    @precondition(lambda self: self.check_lookups)
    @rule()
    def drop_lookup_index(self):
        """The next lookup rebuilds the IPv4 index from the table."""
        note("drop_lookup_index()")
        self.rtm.core.drop_lookup_index()


V4_PREFIXES = ["10.0.0.0/8", "10.0.0.0/24", "0.0.0.0/0", "10.0.0.0/25",      # the hot four
               "10.0.0.0/7", "10.0.0.0/9", "10.128.0.0/9", "10.0.0.0/16", "10.0.1.0/24",
               "10.0.0.128/25", "10.0.0.0/23", "10.0.0.0/32", "10.0.0.1/32", "11.0.0.0/8",
               "255.255.255.255/32"]
V4_PROBES = ["10.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.0.127", "10.0.0.128", "10.0.0.255",
             "10.0.1.5", "10.0.1.255", "10.1.0.0", "10.127.255.255", "10.128.0.1", "11.0.0.1", "12.0.0.0",
             "9.255.255.255", "0.0.0.0", "255.255.255.255", "255.255.255.254", "172.16.1.1"]
V4_BAD = ["10.0.0.1/8", "10.0.0.0/33", "10.0.0.128/24", "11.0.0.0/7", "2001:db8::/32",
          "10.0.0.256/32", "10.0.0/8", "not a prefix", "", "10.0.0.0/8/8", "10.0.0.0/-1"]
V4_NH = ["192.0.2.1", "192.0.2.2", "198.51.100.1"]

V6_PREFIXES = ["2001:db8::/32", "2001:db8::/64", "::/0", "2001:db8::/127",   # the hot four
               "2001:db8::/31", "2001:db8::/33", "2001:db8:8000::/33", "2001:db8::/48",
               "2001:db8:0:1::/64", "2001:db8::1/128", "2001:db9::/32",
               "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"]
V6_PROBES = ["2001:db8::", "2001:db8::1", "2001:db8::2", "2001:db8:0:1::5", "2001:db8:8000::1",
             "2001:db8:7fff:ffff:ffff:ffff:ffff:ffff", "2001:db9::1", "2001:dba::", "::",
             "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8::ffff", "2001:db8:ffff:1::1"]
V6_BAD = ["2001:db8::1/64", "2001:db8::/129", "10.0.0.0/8", "2001:db9::/31", "2001:db8:::/32",
          "zz::/8", ""]
V6_NH = ["fe80::1", "fe80::2", "2001:db8:ffff::1"]


class V4Machine(TableMachine):
    FAMILY = 4
    FLOOD = "172.16.{}.0/24"
    PREFIXES = V4_PREFIXES
    PROBES = V4_PROBES
    BAD = V4_BAD
    NH_ADDRS = V4_NH


class V6Machine(TableMachine):
    FAMILY = 6
    FLOOD = "2001:db8:ffff:{:x}::/64"
    PREFIXES = V6_PREFIXES
    PROBES = V6_PROBES
    BAD = V6_BAD
    NH_ADDRS = V6_NH


class V4UnicastOnlyMachine(V4Machine):
    """A manager supporting the unicast view only: ALL is clipped to it,
    the multicast view is refused (U10)."""

    VIEWS = U


# The loaded profile (tests/conftest.py) sets the budget; IPv4 with both views
# is the main machine, the variants get a share of its examples.  One failure
# is shrunk at a time: every step compares the whole table, so shrinking
# several distinct failures at once takes minutes.
_base = settings(settings(), report_multiple_bugs=False)
TestIPv4 = V4Machine.TestCase
TestIPv4.settings = _base
TestIPv6 = V6Machine.TestCase
TestIPv6.settings = settings(_base, max_examples=max(10, _base.max_examples // 3))
TestIPv4UnicastOnly = V4UnicastOnlyMachine.TestCase
TestIPv4UnicastOnly.settings = settings(_base, max_examples=max(10, _base.max_examples // 5))


# ---------------------------------------------------------------------------
# Deterministic examples (values worked out by hand from the rules)
# ---------------------------------------------------------------------------
@pytest.fixture
def table():
    rtm = R.RoutingTableManager(views=BOTH)
    e = rtm.register_entity(R.PROTO_IP_RIP)
    f = rtm.register_entity(R.PROTO_IP_OSPF)
    n1, _ = e.add_next_hop("192.0.2.1", interface_index=1)
    n2, _ = e.add_next_hop("192.0.2.2", interface_index=1)
    m1, _ = f.add_next_hop("192.0.2.1", interface_index=1)
    return rtm, e, f, n1, n2, m1


def order(ent, prefix):
    return [(r.preference, r.metric, r.entity_specific_info) for r in ent.routes(prefix)]


def test_tie_break_and_best_flags(table):
    rtm, e, f, n1, n2, _ = table
    P = "10.0.0.0/8"
    a, fl = e.add_route_to_dest(P, next_hops=(n1,), preference=1, metric=5,
                                entity_specific_info=1, return_handle=True)
    assert fl == NEW | BEST                                  # first route: best in unicast
    b, fl = e.add_route_to_dest(P, next_hops=(n1,), preference=1, metric=5,
                                entity_specific_info=2, change_flags=NEW, return_handle=True)
    assert fl == NEW                                         # ties with A, goes after it
    c, fl = e.add_route_to_dest(P, preference=1, metric=5, entity_specific_info=3,
                                change_flags=NEW, return_handle=True)
    assert fl == NEW
    assert order(e, P) == [(1, 5, 1), (1, 5, 2), (1, 5, 3)]
    # A keeps its cost but changes next hops: keeps its place, it is best -> BEST
    _, fl = e.add_route_to_dest(P, route=a, next_hops=(n2,), preference=1, metric=5,
                                entity_specific_info=1)
    assert fl == BEST
    assert order(e, P) == [(1, 5, 1), (1, 5, 2), (1, 5, 3)]
    # B improves its metric: first, new best
    _, fl = e.add_route_to_dest(P, route=b, next_hops=(n1,), preference=1, metric=4,
                                entity_specific_info=2)
    assert fl == BEST
    assert order(e, P) == [(1, 4, 2), (1, 5, 1), (1, 5, 3)]
    # B back to metric 5: reached that cost last, so after A and C; A is best again
    _, fl = e.add_route_to_dest(P, route=b, next_hops=(n1,), preference=1, metric=5,
                                entity_specific_info=2)
    assert fl == BEST
    assert order(e, P) == [(1, 5, 1), (1, 5, 3), (1, 5, 2)]
    # C (not best) changes only its private info: no move, no flag
    _, fl = e.add_route_to_dest(P, route=c, preference=1, metric=5, entity_specific_info=4)
    assert fl == 0
    assert order(e, P) == [(1, 5, 1), (1, 5, 4), (1, 5, 2)]
    # the best route changes only its private info: not a BEST change (U17)
    _, fl = e.add_route_to_dest(P, route=a, next_hops=(n2,), preference=1, metric=5,
                                entity_specific_info=5)
    assert fl == 0
    # the best route changes its flags: BEST
    _, fl = e.add_route_to_dest(P, route=a, next_hops=(n2,), preference=1, metric=5,
                                entity_specific_info=5, flags=R.RTM_ROUTE_FLAGS_DISCARD)
    assert fl == BEST
    # a lower preference wins over a lower metric
    d, fl = f.add_route_to_dest(P, preference=0, metric=9, return_handle=True)
    assert fl == NEW | BEST
    assert order(e, P)[0] == (0, 9, 0)
    assert e.is_best_route(a) == 0 and f.is_best_route(d) == U
    # deleting the best route: BEST; deleting a route that is not best: 0
    assert f.delete_route_to_dest(d) == BEST
    assert e.is_best_route(a) == U
    assert e.delete_route_to_dest(b) == 0
    assert e.delete_route_to_dest(a) == BEST
    assert order(e, P) == [(1, 5, 4)]
    assert rtm.counts(4) == (1, 1)
    e.release_routes([c])
    rtm.check_invariants()


def test_identity_rule(table):
    rtm, e, f, n1, n2, m1 = table
    P = "10.0.0.0/16"
    r1, fl = e.add_route_to_dest(P, neighbour=n1, metric=3, return_handle=True)
    assert fl == NEW | BEST
    r2, fl = e.add_route_to_dest(P, neighbour=n2, metric=2, return_handle=True)
    assert fl == NEW | BEST                                  # other neighbour: new, better
    h, fl = e.add_route_to_dest(P, neighbour=n1, metric=1, return_handle=True)
    assert h == r1 and fl == BEST                            # same neighbour: update r1
    assert rtm.counts(4) == (1, 2)
    # FIRST: the caller's highest-ranked route (r1, metric 1) whatever its neighbour
    h, fl = e.add_route_to_dest(P, neighbour=n2, metric=7, change_flags=FIRST,
                                return_handle=True)
    assert h == r1 and fl == BEST                            # r1 drops behind r2
    assert [(r.metric, r.neighbour) for r in e.routes(P)] == [(2, n2), (7, n2)]
    # change flags 0, neighbour n2: the first such route in order is r2; nothing changes
    h, fl = e.add_route_to_dest(P, neighbour=n2, metric=2, return_handle=True)
    assert h == r2 and fl == 0
    # NEW: always another route
    r3, fl = e.add_route_to_dest(P, neighbour=n2, metric=2, change_flags=NEW,
                                 return_handle=True)
    assert r3 not in (r1, r2) and fl == NEW
    # another entity never matches the caller's routes
    s1, fl = f.add_route_to_dest(P, neighbour=m1, metric=2, change_flags=FIRST,
                                 return_handle=True)
    assert fl == NEW
    assert [(r.metric, r.route_owner) for r in e.routes(P)] == \
        [(2, e.handle), (2, e.handle), (2, f.handle), (7, e.handle)]
    assert rtm.counts(4) == (1, 4)
    e.release_routes([r1, r1, r1, r2, r2, r3])
    f.release_routes([s1])
    rtm.check_invariants()


def test_views_and_view_flags(table):
    rtm, e, f, n1, _, m1 = table
    P = "10.0.0.0/24"
    r2, fl = f.add_route_to_dest(P, views=MC, preference=0, return_handle=True)
    assert fl == NEW | BEST                                  # multicast best: none -> r2
    r1, fl = e.add_route_to_dest(P, views=U, preference=1, return_handle=True)
    assert fl == NEW | BEST                                  # unicast best: none -> r1
    assert e.is_best_route(r1) == U and f.is_best_route(r2) == MC
    # r1 joins multicast: r2 stays best there, r1 stays best in unicast, its views
    # changed -> BEST
    _, fl = e.add_route_to_dest(P, route=r1, views=BOTH, preference=1)
    assert fl == BEST
    assert e.is_best_route(r1) == U and f.is_best_route(r2) == MC
    # ALL is clipped to the supported views
    r3, fl = e.add_route_to_dest(P, views=ALL, preference=2, change_flags=NEW,
                                 return_handle=True)
    assert fl == NEW
    ri, _ = e.get_route_info(r3)
    assert ri.belongs_to_views == BOTH
    e.release_route_info(ri)
    before = [(r.metric, r.belongs_to_views) for r in e.routes(P)]
    with pytest.raises(R.NotSupported):
        e.add_route_to_dest(P, views=4, change_flags=NEW)
    with pytest.raises(R.InvalidParameter):
        e.add_route_to_dest(P, views=0, change_flags=NEW)
    assert [(r.metric, r.belongs_to_views) for r in e.routes(P)] == before
    # a unicast-only lookup never lands on the multicast-only 10.0.1.0/24
    f.add_route_to_dest("10.0.1.0/24", views=MC, next_hops=(m1,))
    e.add_route_to_dest("10.0.0.0/8", views=U, next_hops=(n1,))
    assert str(e.search_best("10.0.1.1", U).dest_address) == "10.0.0.0/8"
    assert str(e.search_best("10.0.1.1", MC).dest_address) == "10.0.1.0/24"
    assert e.search_exact("10.0.1.0/24", U) is None
    res = e.lookup(np.array([0x0A000105, 0x0B000001], dtype=np.uint32), view=0)
    assert list(res.length) == [8, -1] and int(res.next_hop[0]) == n1
    res = e.lookup(np.array([0x0A000105], dtype=np.uint32), view=1)
    assert list(res.length) == [24] and int(res.next_hop[0]) == m1
    rtm.check_invariants()


def test_errors_leave_the_table_unchanged(table):
    rtm, e, f, n1, _, m1 = table
    P = "10.0.0.0/8"
    r, _ = e.add_route_to_dest(P, next_hops=(n1,), return_handle=True)
    def state():
        return rtm.counts(4), [(x.metric, x.next_hops) for x in e.routes(P)]
    s0 = state()
    for bad in ("10.0.0.1/8", "10.0.0.0/33", "2001:db8::/32"):
        with pytest.raises(R.InvalidParameter):
            e.add_route_to_dest(bad)
    with pytest.raises(R.AccessDenied):
        f.delete_route_to_dest(r)
    with pytest.raises(R.AccessDenied):
        f.add_route_to_dest(P, route=r, metric=9)
    with pytest.raises(R.AccessDenied):
        e.add_route_to_dest("11.0.0.0/8", next_hops=(m1,))     # f's next hop
    with pytest.raises(R.InvalidParameter):
        e.add_route_to_dest("11.0.0.0/8", route=r)            # not r's destination (U44)
    with pytest.raises(R.InvalidParameter):
        e.add_routes(np.array([0x0B000000, 0x0A000001], dtype=np.uint32), np.array([8, 8]))
    assert state() == s0
    assert e.delete_route_to_dest(r) == BEST               # consumes the only reference
    with pytest.raises(R.InvalidHandle):                    # freed: the handle is stale
        e.delete_route_to_dest(r)
    with pytest.raises(R.InvalidHandle):
        e.release_routes([r])
    r, _ = e.add_route_to_dest(P, return_handle=True)
    e.reference_handles([r])
    assert e.delete_route_to_dest(r) == BEST
    with pytest.raises(R.NotFound):                         # deleted, still referenced
        e.delete_route_to_dest(r)
    with pytest.raises(R.NotFound):
        e.add_route_to_dest(P, route=r)
    ri, _ = e.get_route_info(r)
    assert ri.state == R.RTM_ROUTE_STATE_DELETED
    e.release_route_info(ri)
    e.release_routes([r])
    with pytest.raises(R.InvalidHandle):                    # double release
        e.release_routes([r])
    assert rtm.counts(4) == (0, 0)
    rtm.check_invariants()


def test_deleted_route_keeps_its_destination_until_released(table):
    rtm, e, *_ = table
    r, _ = e.add_route_to_dest("10.0.0.0/8", return_handle=True)
    out = e.delete_routes(np.array([0x0A000000], dtype=np.uint32), np.array([8]))
    assert list(out) == [BEST]                              # by identity; handle not consumed
    assert rtm.counts(4) == (1, 0)                          # kept by the reference (U7)
    assert e.search_exact("10.0.0.0/8") is None             # but invisible to queries
    ri, _ = e.get_route_info(r)
    assert ri.state == R.RTM_ROUTE_STATE_DELETED
    e.release_route_info(ri)
    out = e.delete_routes(np.array([0x0A000000], dtype=np.uint32), np.array([8]))
    assert list(out) == [R.DELETE_NOT_FOUND]
    e.release_routes([r])
    assert rtm.counts(4) == (0, 0)
    rtm.check_invariants()


def test_protocol_filter_and_less_specific(table):
    rtm, e, f, *_ = table
    e2 = rtm.register_entity(R.PROTO_IP_RIP, 1)
    f.add_route_to_dest("10.0.0.0/8", preference=0)          # OSPF best
    e2.add_route_to_dest("10.0.0.0/8", preference=2)         # RIP instance 1
    e.add_route_to_dest("10.0.0.0/8", preference=1)          # RIP instance 0: best RIP
    e.add_route_to_dest("0.0.0.0/0", views=MC)
    di = e.get_exact_match_destination("10.0.0.0/8", R.RTM_THIS_PROTOCOL, U)
    v = di.view_info[0]
    assert (v.view_id, v.num_routes, v.owner) == (0, 3, e.handle)
    e.release_dest_info(di)
    di = e.get_exact_match_destination("10.0.0.0/8", R.PROTO_IP_OSPF, BOTH)
    assert [(v.view_id, v.num_routes, v.owner) for v in di.view_info] == \
        [(0, 3, f.handle), (1, 0, 0)]
    with pytest.raises(R.NotFound):                         # 0/0 is multicast only
        e.get_less_specific_destination(di.dest_handle, 0, U)
    up = e.get_less_specific_destination(di.dest_handle, 0, 0)
    assert str(up.dest_address) == "0.0.0.0/0"
    with pytest.raises(R.NotFound):                         # nothing above the default (U34)
        e.get_less_specific_destination(up.dest_handle, 0, 0)
    e.release_dest_info(up)
    e.release_dest_info(di)
    rtm.check_invariants()

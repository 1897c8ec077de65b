"""Change notification, enumeration and route aging at full-table scale.

Groups (``"<operation> | <data set>"``, data set ``gen-IPv4-1M``: a generated
1,000,000-prefix IPv4 table, :func:`rtmcore.datagen.full_table` with the
suites' seed, one route per prefix, so one route = one destination = one
change):

* ``notify: ...``: add / update (metric 1 -> 2) / delete with 0, 1 and 4
  change-notification registrations of an observer entity, per call
  (``add_route_to_dest`` / ``delete_route_to_dest`` on 100,000 prefixes of the
  table) and in bulk (``add_routes`` / ``delete_routes`` on the whole table).
  The registrations are of type ``RTM_CHANGE_TYPE_ALL`` or
  ``RTM_CHANGE_TYPE_BEST`` on the unicast view; with one route per
  destination every one of these changes is a BEST change too, so both types
  queue every destination and the groups show what checking and queueing cost
  per registration.  Before an update or a delete the queues are drained
  (untimed), so every timed change queues a new entry.  A deleted destination
  whose change is pending stays until the change is taken, so with
  registrations part of a delete's work moves to the (untimed) drain.
* ``drain changes of a 1M-route load``: the pending changes of one
  registration after a bulk load, taken with ``drain_changes`` (NumPy columns)
  or with ``get_changed_dests`` batches of ``MaxHandlesInEnum`` +
  ``release_changed_dests``.
* ``enumerate 1M ...``: ``create_dest_enum`` + ``get_enum_dests`` (maximum
  batch) + ``release_dests``; the ``Entity.destinations`` iterator; and
  ``create_route_enum`` + ``get_enum_routes`` + ``release_routes``; all on the
  unicast view of the same loaded table (not modified).
* ``aging: ...``: under a :class:`rtmcore.VirtualClock`, the cost of arming
  timers (bulk load with a TTL column vs without, same run), and the expiry of
  every route by ``clock.advance`` with the owner's event callback absent or
  answering ``ERROR_NOT_SUPPORTED`` (so the manager deletes each route), the
  TTLs all equal (one instant) or spread over 30 s (30,000 instants).

Every mutating case gets a fresh manager per round (``benchmark.pedantic``
setup, untimed) and checks its result after timing; ``extra_info`` carries
``ns_per_op`` (per route, change or destination) and ``ops_per_second``.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import rtmcore
from rtmcore import datagen

N_TABLE = 1_000_000
N_PER_CALL = 100_000
LABEL = "gen-IPv4-1M"
NEXT_HOP = "192.0.2.1"

#: rounds: per-call cases (100,000 operations, 10-60 ms), bulk cases (~0.3 s),
#: cases of several seconds per round
ROUNDS_PER_CALL = 21
ROUNDS_BULK = 5
ROUNDS_SLOW = 3

ALL = rtmcore.RTM_CHANGE_TYPE_ALL
BEST = rtmcore.RTM_CHANGE_TYPE_BEST
UCAST = rtmcore.RTM_VIEW_MASK_UCAST

#: (registrations, change type)
REGS = [(0, 0), (1, ALL), (4, ALL), (1, BEST), (4, BEST)]
REG_IDS = ["0regs", "1reg-ALL", "4regs-ALL", "1reg-BEST", "4regs-BEST"]
TYPE_NAME = {0: "-", ALL: "ALL", BEST: "BEST"}

#: TTLs of the aging cases (ms): one instant, or uniform over [SPREAD_LO, TTL_MAX)
TTL_MAX = 180_000
SPREAD_LO = 150_000


# ---------------------------------------------------------------------------
# data and managers
# ---------------------------------------------------------------------------
@pytest.fixture(scope="session")
def t1m(cfg) -> SimpleNamespace:
    """The 1M-prefix table as bulk columns, and a per-call sample of 100,000
    of its prefixes (NetAddress keys, random order)."""
    table = datagen.full_table(N_TABLE, family=4, seed=cfg.seed)
    addr = np.ascontiguousarray(table.addresses())
    ln = np.ascontiguousarray(table.lengths())
    rng = np.random.default_rng([cfg.seed, 4, 0x4E07])
    rows = rng.choice(N_TABLE, N_PER_CALL, replace=False)
    keys = [rtmcore.NetAddress((a, p), 4) for a, p in zip(addr[rows].tolist(),
                                                          ln[rows].tolist())]
    spread = rng.integers(SPREAD_LO, TTL_MAX, N_TABLE, dtype=np.int64).astype(np.uint32)
    return SimpleNamespace(n=N_TABLE, addr=addr, len=ln, rows=rows, keys=keys,
                           s_addr=addr[rows], s_len=ln[rows],
                           ttl={"one instant": np.full(N_TABLE, TTL_MAX, np.uint32),
                                "spread 30 s": spread})


class Rib:
    """A manager with one BGP entity (the routes' owner, one next hop used as
    neighbour and next hop) and an observer entity holding ``n_regs``
    change-notification registrations of ``change_type`` on the unicast view.
    The observer's event callback counts the RTM_CHANGE_NOTIFICATION signals."""

    def __init__(self, n_regs: int = 0, change_type: int = BEST, *, clock=None,
                 owner_callback=None, protocol=rtmcore.PROTO_IP_BGP, **manager_kw):
        self.rtm = rtmcore.RoutingTableManager(clock=clock, **manager_kw)
        self.ent = self.rtm.register_entity(protocol, event_callback=owner_callback)
        self.nh = self.ent.add_next_hop(NEXT_HOP)[0]
        self.signals = 0
        self.obs = self.rtm.register_entity(rtmcore.PROTO_IP_NETMGMT,
                                            event_callback=self._event)
        self.regs = [self.obs.register_for_change_notification(UCAST, change_type)
                     for _ in range(n_regs)]

    def _event(self, entity, event, context1, context2):
        if event == rtmcore.RTM_CHANGE_NOTIFICATION:
            self.signals += 1

    def load(self, t, **kw) -> Rib:
        self.ent.add_routes(t.addr, t.len, neighbour=self.nh, next_hop=self.nh, metric=1, **kw)
        return self

    def drain(self) -> list[int]:
        """Empty every registration's queue; the number of changes each had."""
        return [len(self.obs.drain_changes(g).dest) for g in self.regs]


def _regs_info(benchmark, n_regs, change_type):
    benchmark.extra_info["registrations"] = n_regs
    benchmark.extra_info["change_type"] = TYPE_NAME[change_type]


# ---------------------------------------------------------------------------
# 1. add / update / delete with 0, 1, 4 change-notification registrations
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("n_regs, change_type", REGS, ids=REG_IDS)
@pytest.mark.parametrize("op", ["add", "update", "delete"])
def test_notify_per_call(benchmark, rounds, t1m, op, n_regs, change_type):
    benchmark.group = (f"notify: per call {op}, {N_PER_CALL:,} routes, 0/1/4 registrations "
                       f"| {LABEL}")
    keys = t1m.keys

    def setup():
        rib = Rib(n_regs, change_type)
        handles = None
        if op == "update":
            rib.ent.add_routes(t1m.s_addr, t1m.s_len, neighbour=rib.nh, next_hop=rib.nh,
                               metric=1)
        elif op == "delete":
            add = rib.ent.add_route_to_dest
            handles = [add(k, neighbour=rib.nh, next_hops=rib.nh, metric=1,
                           return_handle=True)[0] for k in keys]
        rib.drain()
        rib.signals = 0
        return rib, handles

    def target(state):
        rib, handles = state
        nh = rib.nh
        if op == "delete":
            delete = rib.ent.delete_route_to_dest
            for h in handles:
                delete(h)
            return
        add = rib.ent.add_route_to_dest
        metric = 1 if op == "add" else 2
        for k in keys:
            add(k, neighbour=nh, next_hops=nh, metric=metric)
    (rib, _), _ = rounds.run(setup, target, rounds=ROUNDS_PER_CALL, ops=N_PER_CALL,
                             impl=f"rtmcore {op} per call")
    _regs_info(benchmark, n_regs, change_type)
    benchmark.extra_info["signals"] = rib.signals
    assert rib.rtm.counts(4)[1] == (0 if op == "delete" else N_PER_CALL)
    assert rib.drain() == [N_PER_CALL] * n_regs
    # a destination whose change is pending stays until the change is taken
    assert rib.rtm.counts(4)[0] == (0 if op == "delete" else N_PER_CALL)
    assert rib.signals == n_regs          # edge-triggered: once per registration


@pytest.mark.parametrize("n_regs, change_type", REGS, ids=REG_IDS)
@pytest.mark.parametrize("op", ["add", "update", "delete"])
def test_notify_bulk(benchmark, rounds, t1m, op, n_regs, change_type):
    benchmark.group = (f"notify: bulk {op}, {N_TABLE:,} routes, 0/1/4 registrations "
                       f"| {LABEL}")

    def setup():
        rib = Rib(n_regs, change_type)
        if op != "add":
            rib.load(t1m)
        rib.drain()
        rib.signals = 0
        return rib

    def target(rib):
        if op == "delete":
            return rib.ent.delete_routes(t1m.addr, t1m.len, neighbour=rib.nh)
        return rib.ent.add_routes(t1m.addr, t1m.len, neighbour=rib.nh, next_hop=rib.nh,
                                  metric=1 if op == "add" else 2)
    rib, flags = rounds.run(setup, target, rounds=ROUNDS_BULK, ops=N_TABLE,
                            impl=f"rtmcore {'delete_routes' if op == 'delete' else 'add_routes'}")
    _regs_info(benchmark, n_regs, change_type)
    assert rib.rtm.counts(4)[1] == (0 if op == "delete" else N_TABLE)
    if op == "delete":
        assert not (flags & rtmcore.DELETE_NOT_FOUND).any()
    assert rib.drain() == [N_TABLE] * n_regs
    assert rib.rtm.counts(4)[0] == (0 if op == "delete" else N_TABLE)
    assert rib.signals == n_regs


# ---------------------------------------------------------------------------
# 2. draining the changes of a 1M-route load (one registration)
# ---------------------------------------------------------------------------
def _drain_changed_dests(obs, g) -> int:
    get, release = obs.get_changed_dests, obs.release_changed_dests
    batch = obs.profile.max_handles_in_enum
    n = 0
    while True:
        infos = get(g, batch)
        if not infos:
            return n
        n += len(infos)
        release(g, infos)


@pytest.mark.parametrize("how", ["drain_changes", "get_changed_dests"])
def test_drain(benchmark, rounds, t1m, how):
    benchmark.group = f"drain changes of a {N_TABLE:,}-route load, 1 registration | {LABEL}"

    def target(rib):
        g = rib.regs[0]
        if how == "drain_changes":
            cols = rib.obs.drain_changes(g)
            return len(cols.dest), cols
        return _drain_changed_dests(rib.obs, g), None
    if how == "drain_changes":
        n_rounds, impl = ROUNDS_BULK, "rtmcore drain_changes (NumPy columns)"
    else:
        n_rounds = ROUNDS_SLOW
        impl = (f"rtmcore get_changed_dests, batches of {rtmcore.DEFAULT_MAX_HANDLES_IN_ENUM}, "
                "+ release_changed_dests")
    rib, (n, cols) = rounds.run(lambda: Rib(1, BEST).load(t1m), target, rounds=n_rounds,
                                ops=N_TABLE, impl=impl)
    assert n == N_TABLE
    assert rib.drain() == [0]
    if cols is not None:                  # one row per prefix of the table
        o = np.lexsort((cols.length, cols.prefix))
        assert np.array_equal(cols.prefix[o], t1m.addr)
        assert np.array_equal(cols.length[o], t1m.len)
        assert (cols.route != 0).all() and (cols.next_hop == rib.nh).all()
    # no reference left behind by the batches: deleting everything empties the table
    rib.ent.delete_routes(t1m.addr, t1m.len, neighbour=rib.nh)
    assert rib.drain() == [N_TABLE]
    assert rib.rtm.counts(4) == (0, 0)


# ---------------------------------------------------------------------------
# 3. enumerating 1M destinations / routes in batches
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def loaded1m(t1m) -> Rib:
    """The table loaded once (read-only use)."""
    return Rib(0).load(t1m)


def _drain_enum(ent, h, get, release) -> int:
    """Take every batch of enumeration ``h`` (releasing it); the item count."""
    batch = ent.profile.max_handles_in_enum
    n = 0
    while True:
        items = get(h, batch)
        if not items:
            break
        n += len(items)
        release(items)
    ent.delete_enum_handle(h)
    return n


def _enum_dests(ent) -> int:
    return _drain_enum(ent, ent.create_dest_enum(UCAST), ent.get_enum_dests, ent.release_dests)


def _iterate_dests(ent) -> int:
    n = 0
    for _ in ent.destinations(UCAST):
        n += 1
    return n


def _enum_routes(ent) -> int:
    return _drain_enum(ent, ent.create_route_enum(target_views=UCAST), ent.get_enum_routes,
                       ent.release_routes)


ENUMS = {"get_enum_dests": (_enum_dests, "destinations",
                            "rtmcore create_dest_enum + get_enum_dests + release_dests"),
         "destinations iterator": (_iterate_dests, "destinations",
                                   "rtmcore Entity.destinations() (snapshots)"),
         "get_enum_routes": (_enum_routes, "routes",
                             "rtmcore create_route_enum + get_enum_routes + release_routes")}


@pytest.mark.parametrize("how", list(ENUMS))
def test_enumerate(benchmark, rounds, loaded1m, how):
    fn, what, impl = ENUMS[how]
    benchmark.group = f"enumerate {N_TABLE:,} {what} (unicast view) | {LABEL}"
    rib = loaded1m
    n = rounds.once(lambda: fn(rib.ent), rounds=ROUNDS_SLOW, ops=N_TABLE,
                    impl=f"{impl}, batch {rib.ent.profile.max_handles_in_enum}")
    assert n == N_TABLE
    assert rib.rtm.counts(4) == (N_TABLE, N_TABLE)


# ---------------------------------------------------------------------------
# 4. route aging under a VirtualClock
# ---------------------------------------------------------------------------
class Expiries:
    """An owner's event callback answering ERROR_NOT_SUPPORTED (the manager
    deletes the expired route) and counting the expiries."""

    def __init__(self):
        self.n = 0

    def __call__(self, entity, event, context1, context2):
        if event == rtmcore.RTM_ROUTE_EXPIRED:
            self.n += 1
        return rtmcore.ERROR_NOT_SUPPORTED


def _aging_rib(callback=None) -> tuple[Rib, rtmcore.VirtualClock]:
    clock = rtmcore.VirtualClock(0)
    return Rib(0, clock=clock, owner_callback=callback, protocol=rtmcore.PROTO_IP_RIP), clock


@pytest.mark.parametrize("ttl", ["no TTL (INFINITE)", "TTL column"])
def test_arm(benchmark, rounds, t1m, ttl):
    benchmark.group = f"aging: bulk add {N_TABLE:,} routes, VirtualClock, arm cost | {LABEL}"
    kw = {"time_to_live": t1m.ttl["spread 30 s"]} if ttl == "TTL column" else {}
    rib, _ = rounds.run(lambda: _aging_rib()[0], lambda rib: rib.load(t1m, **kw),
                        rounds=ROUNDS_BULK, ops=N_TABLE, impl=f"rtmcore add_routes, {ttl}")
    assert rib.rtm.counts(4) == (N_TABLE, N_TABLE)
    for i in (0, N_TABLE // 2, N_TABLE - 1):
        key = rtmcore.NetAddress((int(t1m.addr[i]), int(t1m.len[i])), 4)
        info, route = rib.ent.get_exact_match_route(key)
        expiry = rib.ent.get_route_expiry(route)
        rib.ent.release_route_info(info)
        rib.ent.release_routes([route])
        assert expiry == (int(t1m.ttl["spread 30 s"][i]) if kw else None)


@pytest.mark.parametrize("shape", ["one instant", "spread 30 s"])
@pytest.mark.parametrize("callback", ["no callback", "callback ERROR_NOT_SUPPORTED"])
def test_expire(benchmark, rounds, t1m, callback, shape):
    benchmark.group = f"aging: expire {N_TABLE:,} routes, clock.advance | {LABEL}"
    ttl = t1m.ttl[shape]

    def setup():
        cb = Expiries() if callback != "no callback" else None
        rib, clock = _aging_rib(cb)
        rib.load(t1m, time_to_live=ttl)
        return rib, clock, cb

    def target(state):
        state[1].advance(TTL_MAX)
    (rib, clock, cb), _ = rounds.run(setup, target, rounds=ROUNDS_SLOW, ops=N_TABLE,
                                     impl=f"rtmcore expiry, {callback}, TTLs {shape}")
    benchmark.extra_info["instants"] = len(np.unique(ttl))
    assert rib.rtm.counts(4) == (0, 0)
    assert clock.now() == TTL_MAX
    if cb is not None:
        assert cb.n == N_TABLE

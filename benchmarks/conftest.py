"""Shared data and scenario helpers of the pytest-benchmark suites.

Run with ``python -m pytest benchmarks --benchmark-only`` (``make bench``); the
suites are not part of the normal test run (``testpaths = ["tests"]``).

Benchmark groups are named ``"<operation> | <data set>"``; rtmcore's cases
are in ``test_core.py``, the same-run baselines (pytricia, py-radix, dict) in
``test_baselines.py`` under the same group names, so each group of the
summary compares them directly.  Data sets:

* ``gen-IPv4`` / ``gen-IPv6``: generated full tables of real-table size
  (:func:`rtmcore.datagen.full_table`, seed 0) with 4 peers' views;
* ``bart-IPv4`` / ``bart-IPv6``: the real Tier-1 table of
  ``../shared/data/bart/prefixes.txt.gz`` (skipped with a reason when
  ``../shared/data`` is absent, as in a user's clone).

The scenario code (data preparation, bulk loads, the Python RIB baseline,
memory measured in a child process) is :mod:`rtmcore.bench`'s.
"""
from __future__ import annotations

import gc
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from rtmcore import bench

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
BART = SHARED / "bart" / "prefixes.txt.gz"

#: rounds of the benchmarks that rebuild a full table per round
ROUNDS = 3


@pytest.fixture(scope="session")
def cfg() -> bench.Config:
    # the stream is only used by the churn benchmarks' initial state (peer_views)
    return bench.Config(events=1000, lookups=1_000_000, progress=False).resolved()


def _family(cfg, family, source=None, info=None) -> bench.FamilyData:
    fd = bench.prepare_family(cfg, family, source, info, bench.Progress(False))
    if fd is None:
        pytest.skip(f"no IPv{family} rows in the data")
    return fd


@pytest.fixture(scope="session")
def gen4(cfg) -> bench.FamilyData:
    return _family(cfg, 4)


@pytest.fixture(scope="session")
def gen6(cfg) -> bench.FamilyData:
    return _family(cfg, 6)


@pytest.fixture(scope="session")
def bart_table():
    if not BART.exists():
        pytest.skip(f"real data absent: {BART} (../shared/data is not part of a clone)")
    from rtmcore import io
    return io.read_table(BART)


@pytest.fixture(scope="session")
def bart4(cfg, bart_table) -> bench.FamilyData:
    return _family(cfg, 4, bart_table, {"kind": "file", "path": str(BART)})


@pytest.fixture(scope="session")
def bart6(cfg, bart_table) -> bench.FamilyData:
    return _family(cfg, 6, bart_table, {"kind": "file", "path": str(BART)})


@pytest.fixture
def data(request):
    """The data set named by the test's ``dataset`` parameter."""
    return request.getfixturevalue(request.param)


class Rounds:
    """``benchmark.pedantic`` with a fresh state per round (``setup``), the GC
    off while the target runs, and the last state kept for verification."""

    def __init__(self, benchmark):
        self.benchmark = benchmark
        self.states: list = []

    def run(self, setup, target, rounds: int = ROUNDS, ops: int | None = None, **info):
        def _setup():
            self.states[:] = [setup()]
            gc.collect()
            return (self.states[0],), {}

        def _target(state):
            gc.disable()
            try:
                return target(state)
            finally:
                gc.enable()
        result = self.benchmark.pedantic(_target, setup=_setup, rounds=rounds, iterations=1)
        self._info(ops, info)
        return self.states[0], result

    def once(self, target, rounds: int = ROUNDS, ops: int | None = None, **info):
        """A target that does not mutate anything (no setup)."""
        def _target():
            gc.disable()
            try:
                return target()
            finally:
                gc.enable()
        result = self.benchmark.pedantic(_target, rounds=rounds, iterations=1, warmup_rounds=0)
        self._info(ops, info)
        return result

    def _info(self, ops, info):
        ei = self.benchmark.extra_info
        ei.update(info)
        stats = getattr(self.benchmark, "stats", None)
        if ops and stats is not None:
            med = stats.stats.median
            ei["ops"] = ops
            ei["ops_per_second"] = round(ops / med) if med > 0 else None
            ei["ns_per_op"] = round(med / ops * 1e9, 1)


@pytest.fixture
def rounds(benchmark) -> Rounds:
    return Rounds(benchmark)


def trie_module(name: str):
    """pytricia / py-radix, or skip with the reason."""
    mod = bench.baseline_module(name)
    if mod is None:
        dist = {"pytricia": "pytricia", "radix": "py-radix"}[name]
        pytest.skip(f"{dist} is not installed (pip install 'rtmcore[compare]')")
    return mod


def one_table(fd: bench.FamilyData) -> bench.Routes:
    """One route per prefix of the table (peer 0's next hop, metric 1)."""
    n = fd.n
    return bench.Routes(pidx=np.arange(n), peer=np.zeros(n, np.int64),
                        nh=np.full(n, fd.peer_nh[0], np.int64), metric=np.ones(n, np.uint32),
                        pref=np.zeros(n, np.uint32))


def ordered(fd: bench.FamilyData, order: str, seed: int = 0):
    """(addresses, lengths, strings, NetAddress keys) of the table in ``order``."""
    addr, ln, strs, keys = fd.addresses(), fd.lengths(), fd.strings(), fd.keys()
    if order == "shuffled":
        o = fd.shuffled_order(seed)
        ol = o.tolist()
        return addr[o], ln[o], [strs[i] for i in ol], [keys[i] for i in ol]
    return addr, ln, strs, keys


def churn_events(fd: bench.FamilyData) -> bench.Routes:
    """Best-route churn on the loaded views: every route of peer 0 is
    re-announced with its metric raised by 1000 (it stops being the best route
    wherever another peer has the prefix), then re-announced with its original
    metric (it wins back)."""
    v = fd.views
    p0 = v.peer == 0
    worse = bench.Routes(pidx=v.pidx[p0], peer=v.peer[p0], nh=v.nh[p0],
                         metric=(v.metric[p0] + 1000).astype(np.uint32), pref=v.pref[p0])
    back = bench.Routes(pidx=v.pidx[p0], peer=v.peer[p0], nh=v.nh[p0], metric=v.metric[p0],
                        pref=v.pref[p0])
    return bench.Routes(pidx=np.concatenate([worse.pidx, back.pidx]),
                        peer=np.concatenate([worse.peer, back.peer]),
                        nh=np.concatenate([worse.nh, back.nh]),
                        metric=np.concatenate([worse.metric, back.metric]),
                        pref=np.concatenate([worse.pref, back.pref]),
                        announce=np.ones(2 * int(p0.sum()), bool))


def ten_peer_views(cfg) -> bench.FamilyData:
    """10 peers' views of a generated 1,000,000-prefix IPv4 table, every peer
    seeing every prefix: 10,000,000 routes."""
    from rtmcore import datagen
    table = datagen.full_table(1_000_000, family=4, seed=cfg.seed)
    views = datagen.peer_views(table, 10, seed=cfg.seed, coverage=(1.0, 1.0))
    names, peer_nh, idx = bench._next_hop_table(4, 10, [(views["next_hop_hi"],
                                                         views["next_hop_lo"])])
    routes = bench._routes_from_columns(views, idx[0])
    return bench.FamilyData(family=4, table=table, views=routes, stream_views=routes,
                            stream=routes, next_hops=names, peer_nh=peer_nh, n_peers=10,
                            lookup_addrs=np.zeros(0, np.uint32), lookup_desc="",
                            source={"kind": "generated", "prefixes": 1_000_000, "peers": 10})


@pytest.fixture(scope="session")
def ten_peers(cfg) -> bench.FamilyData:
    return ten_peer_views(cfg)


def label(fd: bench.FamilyData) -> str:
    """Data-set name of a group: gen-IPv4, bart-IPv6, ..."""
    return ("bart-" if fd.source.get("kind") == "file" else "gen-") + fd.name


def loaded(fd: bench.FamilyData, routes: bench.Routes | None = None) -> bench.Loaded:
    """A fresh manager holding ``routes`` (default: the peers' views), bulk-loaded."""
    ld = bench.new_manager(fd)
    bench.BulkLoad(fd, fd.views if routes is None else routes, 20).run(ld, None)
    return ld


@pytest.fixture(scope="session")
def bh() -> SimpleNamespace:
    """The helpers of this file, for the test modules (importing ``conftest``
    would clash with tests/conftest.py when both folders are collected)."""
    return SimpleNamespace(ROUNDS=ROUNDS, trie_module=trie_module, one_table=one_table,
                           ordered=ordered, churn_events=churn_events, label=label,
                           loaded=loaded, rss=bench.rss_bytes)


@pytest.fixture(scope="session")
def views4(gen4) -> bench.Loaded:
    """gen-IPv4's 4 peers' views loaded, lookup index built (read-only use)."""
    ld = loaded(gen4)
    ld.ent.lookup(gen4.lookup_addrs[:10])
    return ld


@pytest.fixture(scope="session")
def views6(gen6) -> bench.Loaded:
    return loaded(gen6)


@pytest.fixture(scope="session")
def rib4(gen4) -> bench.PyRib:
    """gen-IPv4's views in the Python RIB (the template that mutating
    baselines copy)."""
    rib = bench.PyRib()
    gc.disable()
    try:
        rib.load(*bench.pyrib_columns(gen4, gen4.views))
    finally:
        gc.enable()
    return rib

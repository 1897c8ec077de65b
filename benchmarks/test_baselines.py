"""Same-run baselines of the benchmark groups of test_core.py: pytricia and
py-radix (skipped with a reason when not installed: ``pip install
'rtmcore[compare]'``) and plain Python ``dict`` structures where they apply.

pytricia / py-radix hold one value per prefix; where several peers' routes are
involved (churn, 10 peers) the baseline is :class:`rtmcore.bench.PyRib`, a RIB
in plain Python whose best next hops are also kept in pytricia / py-radix.
"""
import numpy as np
import pytest

from rtmcore import NetAddress, bench

ADD_SETS = [("bart4", "file order"), ("bart4", "shuffled"), ("bart6", "file order"),
            ("bart6", "shuffled"), ("gen4", "file order")]
ADD_IDS = [f"{d}-{o.replace(' ', '')}" for d, o in ADD_SETS]
N_PER_CALL = 100_000
TRIES = ["pytricia", "radix"]
NAMES = {"pytricia": "pytricia", "radix": "py-radix", "dict": "dict"}


def _trie(bh, name, family):
    return bench.trie_store(name, bh.trie_module(name), family)


def _filled(bh, name, fd, items):
    """A pytricia / py-radix / dict table holding ``items`` (prefix strings)."""
    if name == "dict":
        return {s: 1 for s in items}
    t, tset, _ = _trie(bh, name, fd.family)
    for s in items:
        tset(s, 1)
    return t


def _size(name, t) -> int:
    return len(t.prefixes()) if name == "radix" else len(t)


@pytest.fixture(scope="module")
def lookup_tables(gen4, bh):
    """gen-IPv4's prefixes that have a route, in pytricia / py-radix / a dict."""
    strs = gen4.strings()
    items = [strs[i] for i in gen4.present(gen4.views).tolist()]
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = _filled(bh, name, gen4, items)
        return cache[name]
    return get


# ---------------------------------------------------------------------------
# add into an empty table
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("data, order", ADD_SETS, ids=ADD_IDS, indirect=["data"])
@pytest.mark.parametrize("impl", ["pytricia", "radix", "dict"])
def test_add(benchmark, rounds, bh, data, order, impl):
    fd = data
    benchmark.group = f"add {fd.n:,} prefixes, {order} | {bh.label(fd)}"
    _, _, strs, _ = bh.ordered(fd, order)
    if impl == "dict":
        def setup():
            return {}, None
    else:
        bh.trie_module(impl)

        def setup():
            t, tset, _ = _trie(bh, impl, fd.family)
            return t, tset

    def target(state):
        t, tset = state
        if tset is None:
            for s in strs:
                t[s] = 1
        else:
            for s in strs:
                tset(s, 1)
    (t, _), _ = rounds.run(setup, target, ops=fd.n, impl=f"{NAMES[impl]} (per call, str)")
    assert _size(impl, t) == fd.n


# ---------------------------------------------------------------------------
# update existing routes (new value for every prefix)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("impl", ["pytricia", "radix", "dict"])
def test_update_metric(benchmark, rounds, bh, gen4, impl):
    fd = gen4
    benchmark.group = f"update metric of {fd.n:,} routes | {bh.label(fd)}"
    strs = fd.strings()
    if impl != "dict":
        bh.trie_module(impl)

    def target(t):
        if impl == "radix":
            search = t.search_exact
            for s in strs:
                search(s).data["nh"] = 2
        else:
            for s in strs:
                t[s] = 2
    t, _ = rounds.run(lambda: _filled(bh, impl, fd, strs), target, ops=fd.n,
                      impl=f"{NAMES[impl]} (per call, str)")
    assert _size(impl, t) == fd.n
    s = strs[fd.n // 2]
    assert (t.search_exact(s).data["nh"] if impl == "radix" else t[s]) == 2


# ---------------------------------------------------------------------------
# best-route churn with K peers on the same prefixes (Python RIB)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("impl", ["dict", "pytricia", "radix"])
def test_churn(benchmark, rounds, bh, gen4, rib4, impl):
    fd = gen4
    ev = bh.churn_events(fd)
    benchmark.group = (f"best-route churn, {fd.n_peers} peers, {len(ev):,} re-announcements "
                       f"| {bh.label(fd)}")
    strs = fd.strings()
    cols = ([strs[i] for i in ev.pidx.tolist()], ev.announce.tolist(), ev.peer.tolist(),
            ev.cost.tolist(), ev.nh.tolist())
    if impl != "dict":
        bh.trie_module(impl)

    def setup():
        rib = rib4.copy()
        if impl != "dict":
            t, tset, tdel = _trie(bh, impl, fd.family)
            for k, v in rib.best.items():
                tset(k, v[1])
            rib.loc_set, rib.loc_del, rib.trie = tset, tdel, t
        return rib
    rib, _ = rounds.run(setup, lambda rib: rib.replay(*cols), ops=len(ev),
                        impl=f"{NAMES[impl]} RIB (Python RIB"
                             + (")" if impl == "dict" else f", {NAMES[impl]} Loc-RIB)"))
    best = fd.best_cost(fd.views)
    assert len(rib.best) == len(fd.present(fd.views)) and rib.n_routes() == len(fd.views)
    for i in range(0, fd.n, max(1, fd.n // 500)):
        if strs[i] in rib.best:
            assert rib.best[strs[i]][0] == best[i]


# ---------------------------------------------------------------------------
# delete
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("impl", ["pytricia", "radix", "dict"])
def test_delete(benchmark, rounds, bh, gen4, impl):
    fd = gen4
    benchmark.group = f"delete {fd.n:,} routes | {bh.label(fd)}"
    strs = fd.strings()
    if impl != "dict":
        bh.trie_module(impl)

    def target(t):
        if impl == "radix":
            delete = t.delete
            for s in strs:
                delete(s)
        else:
            for s in strs:
                del t[s]
    t, _ = rounds.run(lambda: _filled(bh, impl, fd, strs), target, ops=fd.n,
                      impl=f"{NAMES[impl]} (per call, str)")
    assert _size(impl, t) == 0


# ---------------------------------------------------------------------------
# longest match
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("impl", TRIES)
def test_lpm_per_call(benchmark, rounds, bh, gen4, views4, lookup_tables, impl):
    fd = gen4
    n = min(N_PER_CALL, len(fd.lookup_addrs))
    benchmark.group = f"longest match per call, {n:,} random addresses | {bh.label(fd)}"
    bh.trie_module(impl)
    t = lookup_tables(impl)
    items = fd.lookup_strings(n)
    fn = t.get if impl == "pytricia" else t.search_best

    def target():
        for a in items:
            fn(a)
    rounds.once(target, rounds=5, ops=n, impl=f"{NAMES[impl]} (per call, str)")
    # same answers as rtmcore's batch lookup on a sample
    r = views4.ent.lookup(fd.lookup_addrs[:n:97])
    for j, a in enumerate(items[::97]):
        if impl == "pytricia":
            k = t.get_key(a)
        else:
            node = t.search_best(a)
            k = None if node is None else node.prefix
        assert (NetAddress(k, fd.family).plen if k else -1) == r.length[j]


@pytest.mark.parametrize("data", ["gen4", "gen6"], indirect=True)
@pytest.mark.parametrize("impl", TRIES)
def test_lpm_batch(benchmark, rounds, bh, data, impl):
    """The baselines have no batch call: one call per address."""
    fd = data
    addrs = fd.lookup_addrs
    benchmark.group = f"longest match, {len(addrs):,} random addresses | {bh.label(fd)}"
    mod = bh.trie_module(impl)
    strs = fd.strings()
    t = bench.build_trie(impl, mod, fd.family,
                         ((strs[i], 1) for i in fd.present(fd.views).tolist()))
    items = fd.lookup_strings(len(addrs))
    fn = t.get_key if impl == "pytricia" else t.search_best

    def target():
        hits = 0
        for a in items:
            hits += fn(a) is not None
        return hits
    hits = rounds.once(target, rounds=3, ops=len(addrs), impl=f"{NAMES[impl]} (per call, str)")
    benchmark.extra_info["hit_rate"] = round(hits / len(addrs), 4)
    assert hits / len(addrs) > 0.5


# ---------------------------------------------------------------------------
# exact match
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("impl", ["pytricia", "radix", "dict"])
def test_exact(benchmark, rounds, bh, gen4, lookup_tables, impl):
    fd = gen4
    rows = bench._sample_rows(fd.n, N_PER_CALL, 0, 0xE7).tolist()
    benchmark.group = f"exact match, {len(rows):,} table prefixes | {bh.label(fd)}"
    if impl != "dict":
        bh.trie_module(impl)
    t = lookup_tables(impl)
    strs = fd.strings()
    items = [strs[i] for i in rows]
    fn = {"pytricia": getattr(t, "has_key", None), "radix": getattr(t, "search_exact", None),
          "dict": getattr(t, "get", None)}[impl]

    def target():
        found = 0
        for k in items:
            found += bool(fn(k))
        return found
    found = rounds.once(target, rounds=5, ops=len(items), impl=f"{NAMES[impl]} (per call, str)")
    assert found == int((fd.best_cost(fd.views)[rows] != np.iinfo(np.int64).max).sum())


# ---------------------------------------------------------------------------
# memory per route (RSS growth in a child process; timing: the build)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("data", ["gen4", "gen6"], indirect=True)
@pytest.mark.parametrize("what", ["dict-rib", "pytricia", "radix", "dict"])
def test_memory(benchmark, rounds, bh, data, what):
    fd = data
    kind = "views" if what == "dict-rib" else "table"
    benchmark.group = f"memory, {kind} | {bh.label(fd)}"
    if what in TRIES:
        bh.trie_module(what)
    table = bh.one_table(fd)
    out = bench.memory_usage(fd, what, table if kind == "table" else None)
    strs = fd.strings()
    if what == "dict-rib":
        cols = bench.pyrib_columns(fd, fd.views)

        def build(_):
            bench.PyRib().load(*cols)
    else:
        def build(_):
            _filled(bh, what, fd, strs)
    rounds.run(lambda: None, build, rounds=1, ops=out["count"],
               impl=f"{'dict RIB (Python)' if what == 'dict-rib' else NAMES[what]} build")
    ei = benchmark.extra_info
    ei["rss_bytes"] = out["rss_bytes"]
    ei["rss_bytes_per_route"] = round(out["rss_bytes"] / out["count"], 1)
    assert out["count"] == (len(fd.views) if kind == "views" else fd.n)
    assert out["rss_bytes"] > 0


# ---------------------------------------------------------------------------
# 10 peers' views of the full table, 10M routes
# ---------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("impl", ["dict RIB"])
def test_ten_peers_bulk(benchmark, rounds, bh, ten_peers, impl):
    fd = ten_peers
    benchmark.group = "10 peers' views of a 1M-prefix table, 10,000,000 routes | gen-IPv4"
    cols = list(bench.pyrib_columns(fd, fd.views))
    rss = {}

    def setup():
        rss["before"] = bh.rss()
        return bench.PyRib()
    rib, _ = rounds.run(setup, lambda rib: rib.load(*cols), rounds=1, ops=len(fd.views),
                        impl="dict RIB (Python)")
    grown = bh.rss() - rss["before"]
    ei = benchmark.extra_info
    ei["rss_growth_bytes_in_process"] = grown          # may reuse memory freed earlier
    ei["seconds"] = round(benchmark.stats.stats.median, 3)
    assert len(rib.best) == fd.n and rib.n_routes() == len(fd.views)
    del rib
    cols.clear()                                        # free ~2 GB before the child runs
    rounds.states.clear()
    out = bench.memory_usage(fd, "dict-rib")            # clean: a fresh child process
    ei["rss_bytes"] = out["rss_bytes"]
    ei["rss_bytes_per_route"] = round(out["rss_bytes"] / len(fd.views), 1)
    assert out["count"] == len(fd.views)

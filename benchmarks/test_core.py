"""rtmcore's side of the benchmark groups (the baselines are in test_baselines.py).

Every mutating benchmark gets a fresh table per round (``pedantic`` setup) and
checks its result after timing; ``extra_info`` carries operations per second
(``ops_per_second``, ``ns_per_op``) and, for memory, bytes per route.
"""
import numpy as np
import pytest

import rtmcore
from rtmcore import bench

ADD_SETS = [("bart4", "file order"), ("bart4", "shuffled"), ("bart6", "file order"),
            ("bart6", "shuffled"), ("gen4", "file order")]
ADD_IDS = [f"{d}-{o.replace(' ', '')}" for d, o in ADD_SETS]
N_PER_CALL = 100_000


# ---------------------------------------------------------------------------
# add into an empty table
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("data, order", ADD_SETS, ids=ADD_IDS, indirect=["data"])
@pytest.mark.parametrize("impl", ["bulk arrays", "bulk strings", "per call str",
                                  "per call NetAddress"])
def test_add(benchmark, rounds, bh, data, order, impl):
    fd = data
    benchmark.group = f"add {fd.n:,} prefixes, {order} | {bh.label(fd)}"
    addr, ln, strs, keys = bh.ordered(fd, order)

    def target(ld):
        ent = ld.ent
        nh = int(ld.nh[fd.peer_nh[0]])
        if impl == "bulk arrays":
            ent.add_routes(addr, ln, neighbour=nh, next_hop=nh, metric=1)
        elif impl == "bulk strings":
            ent.add_routes(strs, neighbour=nh, next_hop=nh, metric=1)
        else:
            add = ent.add_route_to_dest
            for k in (strs if impl == "per call str" else keys):
                add(k, neighbour=nh, next_hops=nh, metric=1)
        bench.timed_first_query(ent, fd.family)     # links the trie: ready for queries
    ld, _ = rounds.run(lambda: bench.new_manager(fd), target, ops=fd.n, impl=f"rtmcore {impl}")
    assert ld.rtm.counts(fd.family) == (fd.n, fd.n)
    assert ld.ent.search_exact(keys[len(keys) // 2]) is not None


# ---------------------------------------------------------------------------
# update existing routes (metric change)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("impl", ["bulk", "per call NetAddress"])
def test_update_metric(benchmark, rounds, bh, gen4, impl):
    fd = gen4
    benchmark.group = f"update metric of {fd.n:,} routes | {bh.label(fd)}"
    table = bh.one_table(fd)
    addr, ln, keys = fd.addresses(), fd.lengths(), fd.keys()

    def target(ld):
        ent = ld.ent
        nh = int(ld.nh[fd.peer_nh[0]])
        if impl == "bulk":
            return ent.add_routes(addr, ln, neighbour=nh, next_hop=nh, metric=2)
        add = ent.add_route_to_dest
        for k in keys:
            add(k, neighbour=nh, next_hops=nh, metric=2)
    ld, flags = rounds.run(lambda: bh.loaded(fd, table), target, ops=fd.n,
                           impl=f"rtmcore {impl}")
    assert ld.rtm.counts(fd.family) == (fd.n, fd.n)
    if flags is not None:
        assert not (flags & rtmcore.RTM_ROUTE_CHANGE_NEW).any()
    for k in keys[:: max(1, fd.n // 500)]:
        assert ld.ent.routes(k)[0].metric == 2


# ---------------------------------------------------------------------------
# best-route churn with K peers on the same prefixes
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("impl", ["bulk", "per call NetAddress"])
def test_churn(benchmark, rounds, bh, gen4, impl):
    fd = gen4
    ev = bh.churn_events(fd)
    benchmark.group = (f"best-route churn, {fd.n_peers} peers, {len(ev):,} re-announcements "
                       f"| {bh.label(fd)}")
    addr, ln = fd.addresses()[ev.pidx], fd.lengths()[ev.pidx]
    keys = fd.keys()
    ev_keys = [keys[i] for i in ev.pidx.tolist()]
    half = len(ev) // 2

    def target(ld):
        ent = ld.ent
        nbr = ld.nh[fd.peer_nh[ev.peer]]
        nh = ld.nh[ev.nh]
        if impl == "bulk":
            out = []
            for s in (slice(0, half), slice(half, None)):
                out.append(ent.add_routes(addr[s], ln[s], neighbour=nbr[s], next_hop=nh[s],
                                          metric=ev.metric[s], preference=ev.pref[s]))
            return np.concatenate(out)
        add = ent.add_route_to_dest
        for k, a, h, m, p in zip(ev_keys, nbr.tolist(), nh.tolist(), ev.metric.tolist(),
                                 ev.pref.tolist()):
            add(k, neighbour=a, next_hops=h, metric=m, preference=p)
    ld, flags = rounds.run(lambda: bh.loaded(fd), target, ops=len(ev), impl=f"rtmcore {impl}")
    if flags is not None:
        benchmark.extra_info["best_changes"] = int(
            ((flags & rtmcore.RTM_ROUTE_CHANGE_BEST) != 0).sum())
    # back where it started: counts and best routes of a sample
    assert ld.rtm.counts(fd.family) == (len(fd.present(fd.views)), len(fd.views))
    best = fd.best_cost(fd.views)
    for i in range(0, fd.n, max(1, fd.n // 500)):
        rs = ld.ent.routes(keys[i])
        if rs:
            assert (rs[0].preference << 32 | rs[0].metric) == best[i]


# ---------------------------------------------------------------------------
# delete
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("impl", ["bulk delete_routes", "per call delete_route_to_dest"])
def test_delete(benchmark, rounds, bh, gen4, impl):
    fd = gen4
    benchmark.group = f"delete {fd.n:,} routes | {bh.label(fd)}"
    addr, ln, keys = fd.addresses(), fd.lengths(), fd.keys()
    table = bh.one_table(fd)

    def setup():
        if impl.startswith("bulk"):
            return bh.loaded(fd, table), None
        ld = bench.new_manager(fd)          # per call, keeping the route handles
        nh = int(ld.nh[fd.peer_nh[0]])
        add = ld.ent.add_route_to_dest
        handles = [add(k, neighbour=nh, next_hops=nh, metric=1, return_handle=True)[0]
                   for k in keys]
        return ld, handles

    def target(state):
        ld, handles = state
        if handles is None:
            return ld.ent.delete_routes(addr, ln, neighbour=ld.nh[fd.peer_nh[0]])
        delete = ld.ent.delete_route_to_dest
        for h in handles:
            delete(h)
    (ld, _), flags = rounds.run(setup, target, ops=fd.n, impl=f"rtmcore {impl}")
    assert ld.rtm.counts(fd.family) == (0, 0)
    if flags is not None:
        assert not (flags & rtmcore.DELETE_NOT_FOUND).any()


# ---------------------------------------------------------------------------
# longest match
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("impl", ["search_best str", "search_best NetAddress"])
def test_lpm_per_call(benchmark, rounds, bh, gen4, views4, impl):
    fd, ld = gen4, views4
    n = min(N_PER_CALL, len(fd.lookup_addrs))
    benchmark.group = f"longest match per call, {n:,} random addresses | {bh.label(fd)}"
    if impl.endswith("str"):
        items = fd.lookup_strings(n)
    else:
        items = [rtmcore.NetAddress((a, 32), 4) for a in fd.lookup_addrs[:n].tolist()]
    search = ld.ent.search_best

    def target():
        for a in items:
            search(a)
    rounds.once(target, rounds=5, ops=n, impl=f"rtmcore {impl}")
    r = ld.ent.lookup(fd.lookup_addrs[:n:97])
    for j, a in enumerate(items[::97]):
        di = search(a)
        assert (di.dest_address.plen if di else -1) == r.length[j]


@pytest.mark.parametrize("data", ["gen4", "gen6"], indirect=True)
def test_lpm_batch(benchmark, rounds, bh, data, request):
    fd = data
    ld = request.getfixturevalue("views4" if fd.family == 4 else "views6")
    addrs = fd.lookup_addrs
    benchmark.group = f"longest match, {len(addrs):,} random addresses | {bh.label(fd)}"
    ld.ent.lookup(addrs[:10])                       # the index exists before timing
    res = rounds.once(lambda: ld.ent.lookup(addrs), rounds=5, ops=len(addrs),
                      impl="rtmcore lookup (one batch)")
    hit = float((res.length >= 0).mean())
    benchmark.extra_info["hit_rate"] = round(hit, 4)
    assert hit > 0.5
    keys = [rtmcore.NetAddress((a, 32), 4) if fd.family == 4 else
            rtmcore.NetAddress(((int(a[0]) << 64) | int(a[1]), 128), 6)
            for a in addrs[:: max(1, len(addrs) // 1000)].tolist()]
    for j, k in enumerate(keys):
        di = ld.ent.search_best(k)
        assert (di.dest_address.plen if di else -1) == res.length[j * max(1, len(addrs) // 1000)]


# ---------------------------------------------------------------------------
# exact match
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("impl", ["search_exact str", "search_exact NetAddress"])
def test_exact(benchmark, rounds, bh, gen4, views4, impl):
    fd, ld = gen4, views4
    rows = bench._sample_rows(fd.n, N_PER_CALL, 0, 0xE7).tolist()
    benchmark.group = f"exact match, {len(rows):,} table prefixes | {bh.label(fd)}"
    src = fd.strings() if impl.endswith("str") else fd.keys()
    items = [src[i] for i in rows]
    search = ld.ent.search_exact

    def target():
        found = 0
        for k in items:
            found += search(k) is not None
        return found
    found = rounds.once(target, rounds=5, ops=len(items), impl=f"rtmcore {impl}")
    best = fd.best_cost(fd.views)
    assert found == int((best[rows] != np.iinfo(np.int64).max).sum())


# ---------------------------------------------------------------------------
# memory per route (RSS growth in a child process; timing: the bulk load)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("data", ["gen4", "gen6"], indirect=True)
@pytest.mark.parametrize("what", ["rtmcore-views", "rtmcore-table"])
def test_memory(benchmark, rounds, bh, data, what):
    fd = data
    routes = fd.views if what == "rtmcore-views" else bh.one_table(fd)
    kind = "views" if what == "rtmcore-views" else "table"
    benchmark.group = f"memory, {kind} | {bh.label(fd)}"
    out = bench.memory_usage(fd, what, routes if kind == "table" else None)
    bl = bench.BulkLoad(fd, routes, 20)
    ld, _ = rounds.run(lambda: bench.new_manager(fd), lambda ld: bl.run(ld, None), rounds=1,
                       ops=len(routes), impl=f"rtmcore bulk load ({kind})")
    ei = benchmark.extra_info
    ei["rss_bytes"] = out["rss_bytes"]
    ei["rss_bytes_per_route"] = round(out["rss_bytes"] / out["count"], 1)
    ei["allocated_bytes_per_route"] = round(out["allocated_bytes"] / out["count"], 1)
    if "index_allocated_bytes" in out:
        ei["lookup_index_bytes"] = out["index_allocated_bytes"]
        ei["lookup_index_rss_bytes"] = out["index_rss_bytes"]
    assert out["rss_bytes"] > 0 and out["count"] == len(routes)
    assert ld.rtm.counts(fd.family)[1] == len(routes)


# ---------------------------------------------------------------------------
# 10 peers' views of the full table: 10M routes through the bulk path
# ---------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("impl", ["rtmcore add_routes"])
def test_ten_peers_bulk(benchmark, rounds, bh, ten_peers, impl):
    fd = ten_peers
    benchmark.group = "10 peers' views of a 1M-prefix table, 10,000,000 routes | gen-IPv4"
    bl = bench.BulkLoad(fd, fd.views, 20)
    rss = {}

    def setup():
        ld = bench.new_manager(fd)
        rss["before"] = bh.rss()
        return ld

    def target(ld):
        bl.run(ld, None)
    ld, _ = rounds.run(setup, target, rounds=1, ops=len(fd.views), impl="rtmcore add_routes")
    grown = bh.rss() - rss["before"]
    ei = benchmark.extra_info
    ei["rss_growth_bytes_in_process"] = grown          # may reuse memory freed earlier
    out = bench.memory_usage(fd, "rtmcore-views")       # clean: a fresh child process
    ei["rss_bytes"] = out["rss_bytes"]
    ei["rss_bytes_per_route"] = round(out["rss_bytes"] / len(fd.views), 1)
    ei["allocated_bytes"] = ld.rtm.memory()["table"]
    ei["allocated_bytes_per_route"] = round(ei["allocated_bytes"] / len(fd.views), 1)
    ei["seconds"] = round(benchmark.stats.stats.median, 3)
    assert ld.rtm.counts(4) == (fd.n, len(fd.views)) == (1_000_000, 10_000_000)

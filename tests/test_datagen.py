"""Tests of the seeded bench-data generators (rtmcore.datagen)."""
from __future__ import annotations

import importlib.util
import ipaddress
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from rtmcore import datagen
from rtmcore.errors import InvalidParameter, NotFound

REPO = Path(__file__).resolve().parents[1]
REAL_TABLE = REPO.parent / "shared" / "data" / "bart" / "prefixes.txt.gz"


def _load_measure_script():
    spec = importlib.util.spec_from_file_location(
        "measure_shape", REPO / "bench-data" / "measure_shape.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


measure = _load_measure_script()


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def prefixes(table):
    """(address as Python int, length) pairs of a single-family table."""
    fam = int(table["family"][0])
    lo = table["addr_lo"].tolist()
    if fam == 4:
        return list(zip(lo, table["length"].tolist()))
    hi = table["addr_hi"].tolist()
    return [((h << 64) | l, L) for h, l, L in zip(hi, lo, table["length"].tolist())]


def real_distribution(family):
    ld = datagen.V4_LENGTH_DEPTH if family == 4 else datagen.V6_LENGTH_DEPTH
    total = sum(sum(v) for v in ld.values())
    hist = np.zeros(129)
    for L, counts in ld.items():
        hist[L] = sum(counts) / total
    return hist


def assert_same_columns(a, b):
    assert list(a) == list(b)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


@pytest.fixture(scope="module")
def t200k():
    """200k-prefix tables of both families with their nesting (depth, parent)."""
    out = {}
    for fam in (4, 6):
        t = datagen.full_table(200_000, fam, seed=11)
        pf = prefixes(t)
        bits = 32 if fam == 4 else 128
        srt, depth, parent = measure.nesting(pf, bits)
        # nesting() sorts by (address, length): the table's own order
        assert srt == pf
        out[fam] = (t, depth, parent)
    return out


# ---------------------------------------------------------------------------
# full tables
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("family,n", [(4, 20_000), (6, 20_000)])
def test_full_table_is_deterministic(family, n):
    a = datagen.full_table(n, family, seed=5)
    b = datagen.full_table(n, family, seed=5)
    assert_same_columns(a, b)
    c = datagen.full_table(n, family, seed=6)
    assert not np.array_equal(a["addr_lo"] if family == 4 else a["addr_hi"],
                              c["addr_lo"] if family == 4 else c["addr_hi"])


@pytest.mark.parametrize("family", [4, 6])
@pytest.mark.parametrize("n", [0, 1, 37, 5_000])
def test_full_table_small_sizes(family, n):
    t = datagen.full_table(n, family, seed=2)
    assert t.n_rows == n
    assert len(set(prefixes(t))) == n if n else True


@pytest.mark.parametrize("family", [4, 6])
def test_full_table_prefixes_are_valid(family, t200k):
    t, _, _ = t200k[family]
    n = t.n_rows
    assert n == 200_000
    assert set(t) == {"family", "addr_hi", "addr_lo", "length", "origin_as"}
    assert t["family"].dtype == np.uint8 and (t["family"] == family).all()
    assert t["addr_hi"].dtype == np.uint64 and t["addr_lo"].dtype == np.uint64
    assert t["length"].dtype == np.uint8 and t["origin_as"].dtype == np.uint32
    pf = prefixes(t)
    assert len(set(pf)) == n, "prefixes must be unique"
    bits = 32 if family == 4 else 128
    assert all(a & ((1 << (bits - L)) - 1) == 0 for a, L in pf), "host bits must be zero"
    L = t["length"].astype(int)
    if family == 4:
        assert (t["addr_hi"] == 0).all() and (t["addr_lo"] < 2 ** 32).all()
        assert 8 <= L.min() and L.max() <= 32
    else:
        assert 16 <= L.min() and L.max() <= 128
    # sorted like a table dump: by address, then length
    assert pf == sorted(pf)
    # public AS numbers only
    asn = t["origin_as"].astype(np.int64)
    assert (asn > 0).all() and not ((asn >= 64496) & (asn < 131072)).any()
    assert not (asn == 23456).any()


def test_v4_table_avoids_reserved_space(t200k):
    t, _, _ = t200k[4]
    a = t["addr_lo"].astype(np.int64)
    e = a + (1 << (32 - t["length"].astype(np.int64)))
    reserved = [("0.0.0.0", 8), ("10.0.0.0", 8), ("127.0.0.0", 8), ("224.0.0.0", 3)]
    reserved += list(datagen._BOGONS_V4)
    for s, l in reserved:
        net = ipaddress.IPv4Network(f"{s}/{l}")
        lo, hi = int(net.network_address), int(net.broadcast_address) + 1
        assert not ((a < hi) & (e > lo)).any(), net


def test_v6_table_is_in_global_unicast(t200k):
    t, _, _ = t200k[6]
    hi = t["addr_hi"]
    assert ((hi >> np.uint64(61)) == 1).all()  # 2000::/3
    assert not ((hi >> np.uint64(32)) == 0x20010DB8).any()  # 2001:db8::/32


@pytest.mark.parametrize("family", [4, 6])
def test_length_histogram_matches_real_shape(family, t200k):
    t, _, _ = t200k[family]
    gen = np.bincount(t["length"], minlength=129) / t.n_rows
    real = real_distribution(family)
    assert np.abs(gen - real).max() < 0.002
    if family == 4:
        assert 0.58 < gen[24] < 0.61          # /24 about 60 %
    else:
        assert gen[48] > gen[32] > gen[44] > gen[29]   # /48, /32, /44, ... as measured


@pytest.mark.parametrize("family", [4, 6])
def test_nesting_matches_real_shape(family, t200k):
    t, depth, parent = t200k[family]
    summary = datagen.V4_SUMMARY if family == 4 else datagen.V6_SUMMARY
    covered = float((depth > 0).mean())
    assert abs(covered - summary["covered_fraction"]) < 0.01
    dist = np.bincount(depth) / len(depth)
    for d, share in enumerate(summary["depth_distribution"]):
        got = dist[d] if d < len(dist) else 0.0
        assert abs(got - share) < 0.01, (d, got, share)
    # depth per length: compare the /24 (v4) or /48 (v6) split by depth
    ld = datagen.V4_LENGTH_DEPTH if family == 4 else datagen.V6_LENGTH_DEPTH
    L = 24 if family == 4 else 48
    m = t["length"] == L
    gen = np.bincount(depth[m], minlength=len(ld[L]))[: len(ld[L])] / m.sum()
    real = np.array(ld[L]) / sum(ld[L])
    assert np.abs(gen - real).max() < 0.01
    # deaggregating parents: a minority of prefixes, heavy-tailed fan-out
    children = np.bincount(parent[parent >= 0], minlength=len(depth))
    assert abs(float((children > 0).mean()) - summary["parent_fraction"]) < 0.03
    assert children.max() >= 100 and np.median(children[children > 0]) <= 5


def test_v4_clustering_in_allocated_blocks(t200k):
    t, depth, _ = t200k[4]
    a = t["addr_lo"].astype(np.int64)
    L = t["length"]
    # prefixes concentrate in few /16s, as in the real table
    per16 = len(np.unique(a >> 16)) / t.n_rows
    assert abs(per16 - datagen.V4_SUMMARY["distinct_16_per_prefix"]) < 0.01
    # and small roots sit next to each other
    starts = set(a.tolist())
    r24 = a[(depth == 0) & (L == 24)].tolist()
    adj = np.mean([(x + 256) in starts or (x - 256) in starts for x in r24])
    assert 0.85 < adj <= 1.0
    # a uniformly scattered table of the same size would touch far more /16s
    assert per16 < 0.2


def test_v6_clustering_in_allocated_blocks(t200k):
    t, _, _ = t200k[6]
    per32 = len(np.unique(t["addr_hi"] >> np.uint64(32))) / t.n_rows
    assert abs(per32 - datagen.V6_SUMMARY["distinct_32_per_prefix"]) < 0.03
    # all in the real RIR /12 blocks
    blocks = set((t["addr_hi"] >> np.uint64(52)).tolist())
    real = {0x200 + b for b in set(datagen.V6_L1_SHORT) | set(datagen.V6_L1_CLUSTER)}
    assert blocks <= real


@pytest.mark.parametrize("family", [4, 6])
def test_origin_as_follows_clusters(family, t200k):
    t, _, parent = t200k[family]
    asn = t["origin_as"]
    child = parent >= 0
    same = float((asn[child] == asn[parent[child]]).mean())
    want = datagen.V4_P_CHILD_SAME_ORIGIN if family == 4 else datagen.V6_P_CHILD_SAME_ORIGIN
    assert abs(same - want) < 0.05
    counts = np.array(sorted(Counter(asn.tolist()).values(), reverse=True))
    assert 0.03 < len(counts) / t.n_rows < 0.3
    top = counts[: max(1, len(counts) // 100)].sum() / t.n_rows
    assert 0.25 < top < 0.6          # the real top 1 % of ASes announce ~43 % (v4)


def test_v4_beyond_saturation_stays_unique():
    n = datagen.V4_SATURATION + 50_000
    t = datagen.full_table(n, 4, seed=3)
    assert t.n_rows == n and t.meta["n_extra"] == 50_000
    a = t["addr_lo"].astype(np.int64)
    L = t["length"].astype(np.int64)
    key = np.sort((a << 6) | L)
    assert (key[1:] != key[:-1]).all()
    assert ((a & ((1 << (32 - L)) - 1)) == 0).all()
    assert 0.58 < (L == 24).mean() < 0.62


def test_shuffle():
    t = datagen.full_table(3_000, 4, seed=1)
    s = datagen.shuffle(t, seed=9)
    assert_same_columns(s, datagen.shuffle(t, seed=9))
    assert not np.array_equal(s["addr_lo"], t["addr_lo"])
    order = np.lexsort((s["length"], s["addr_lo"]))
    assert_same_columns(s.take(order), t)


def test_invalid_parameters():
    t = datagen.full_table(100, 4, seed=0)
    for call in (lambda: datagen.full_table(10, family=5),
                 lambda: datagen.full_table(-1),
                 lambda: datagen.full_table(10, seed=-1),
                 lambda: datagen.full_table(10, seed=1.5),
                 lambda: datagen.peer_views(t, 0),
                 lambda: datagen.peer_views(t, 2, coverage=(0.9, 0.5)),
                 lambda: datagen.peer_views({"a": 1}, 2),
                 lambda: datagen.update_stream(t, 2, -5)):
        with pytest.raises(InvalidParameter):
            call()


# ---------------------------------------------------------------------------
# peer views
# ---------------------------------------------------------------------------
def test_peer_views():
    t = datagen.full_table(20_000, 4, seed=4)
    k = 5
    v = datagen.peer_views(t, k, seed=8, coverage=(0.85, 0.95))
    assert_same_columns(v, datagen.peer_views(t, k, seed=8, coverage=(0.85, 0.95)))
    dtypes = dict(peer=np.uint16, prefix_index=np.uint32, next_hop_hi=np.uint64,
                  next_hop_lo=np.uint64, metric=np.uint32, preference=np.uint32,
                  as_path_len=np.uint16, med=np.int64, local_pref=np.int64)
    for c, dt in dtypes.items():
        assert v[c].dtype == dt, c
    peer = v["peer"].astype(np.int64)
    idx = v["prefix_index"].astype(np.int64)
    assert (np.diff(peer) >= 0).all(), "rows grouped by peer"
    assert (idx < t.n_rows).all()
    for c in ("family", "addr_hi", "addr_lo", "length"):
        np.testing.assert_array_equal(v[c], t[c][idx])
    for p in range(k):
        mine = idx[peer == p]
        assert (np.diff(mine) > 0).all(), "a peer sees each prefix once"
        assert 0.84 < len(mine) / t.n_rows < 0.96
        nh = set(zip(v["next_hop_hi"][peer == p].tolist(), v["next_hop_lo"][peer == p].tolist()))
        assert len(nh) == 1
        assert str(ipaddress.IPv4Address(nh.pop()[1])) == f"198.18.0.{p + 1}"
    apl = v["as_path_len"].astype(np.int64)
    assert apl.min() >= 1 and 2.5 < apl.mean() < 6
    igp = v["metric"].astype(np.int64) - 10 * apl
    assert set(np.unique(igp).tolist()) <= {0, 5, 10}
    assert set(np.unique(v["local_pref"]).tolist()) <= {90, 100, 120}
    assert (v["local_pref"] == 100).mean() > 0.9
    np.testing.assert_array_equal(v["preference"], v["local_pref"])
    assert ((v["med"] == -1) | (v["med"] >= 0)).all()
    # peers disagree, and ties between peers happen
    m = np.full((k, t.n_rows), np.iinfo(np.int64).max)
    m[peer, idx] = v["metric"]
    best = m.min(axis=0)
    several = (m < np.iinfo(np.int64).max).sum(axis=0) >= 2
    tied = ((m == best).sum(axis=0) >= 2)[several]
    assert 0.05 < tied.mean() < 0.95


def test_peer_views_are_stable_per_peer():
    t = datagen.full_table(5_000, 6, seed=4)
    v2 = datagen.peer_views(t, 2, seed=3)
    v4 = datagen.peer_views(t, 4, seed=3)
    n2 = v2.n_rows
    for c in v2:
        np.testing.assert_array_equal(v2[c], v4[c][:n2])
    assert (v4["next_hop_hi"] == 0x20010DB800000000).all()


def test_peer_views_share_missing_prefixes():
    t = datagen.full_table(20_000, 4, seed=4)
    v = datagen.peer_views(t, 2, seed=1, coverage=(0.8, 0.8))
    seen = np.zeros((2, t.n_rows), bool)
    seen[v["peer"].astype(int), v["prefix_index"].astype(int)] = True
    both_miss = (~seen[0] & ~seen[1]).mean()
    assert both_miss > 0.2 * 0.2 * 1.5   # correlated, more than independent misses


# ---------------------------------------------------------------------------
# update streams
# ---------------------------------------------------------------------------
def replay(views, stream):
    """Replay against a Python set; return the number of bad withdraws."""
    state = set(zip(views["peer"].tolist(), views["prefix_index"].tolist()))
    bad = 0
    for p, i, a in zip(stream["peer"].tolist(), stream["prefix_index"].tolist(),
                       stream["announce"].tolist()):
        if a:
            state.add((p, i))
        elif (p, i) in state:
            state.remove((p, i))
        else:
            bad += 1
    return bad


@pytest.fixture(scope="module")
def stream_v4():
    t = datagen.full_table(20_000, 4, seed=7)
    s = datagen.update_stream(t, 4, 60_000, seed=2)
    return t, s


def test_update_stream_replays_consistently(stream_v4):
    t, s = stream_v4
    assert s.n_rows == 60_000
    views = datagen.initial_state(t, 4, seed=2)
    assert replay(views, s) == 0
    assert (np.diff(s["timestamp"]) >= 0).all()
    assert s["timestamp"][0] >= 0


def test_update_stream_columns_and_determinism(stream_v4):
    t, s = stream_v4
    dtypes = dict(timestamp=np.float64, peer=np.uint16, prefix_index=np.uint32,
                  announce=np.bool_, metric=np.uint32, preference=np.uint32,
                  next_hop_hi=np.uint64, next_hop_lo=np.uint64, as_path_len=np.uint16,
                  cause=np.uint8)
    for c, dt in dtypes.items():
        assert s[c].dtype == dt, c
    idx = s["prefix_index"].astype(np.int64)
    for c in ("family", "addr_hi", "addr_lo", "length"):
        np.testing.assert_array_equal(s[c], t[c][idx])
    w = ~s["announce"]
    assert (s["metric"][w] == 0).all() and (s["next_hop_lo"][w] == 0).all()
    assert (s["as_path_len"][~w] >= 1).all()
    assert_same_columns(s, datagen.update_stream(t, 4, 60_000, seed=2))
    other = datagen.update_stream(t, 4, 60_000, seed=3)
    assert not np.array_equal(other["prefix_index"], s["prefix_index"])


def test_update_stream_is_bursty_and_mixed(stream_v4):
    t, s = stream_v4
    causes = np.bincount(s["cause"], minlength=6)
    assert (causes > 0).all(), causes          # every kind of pattern occurs
    assert causes[datagen.CAUSE_SESSION_RESET] > 0.1 * s.n_rows
    wshare = 1 - s["announce"].mean()
    assert 0.05 < wshare < 0.5
    per_s = np.bincount(s["timestamp"].astype(np.int64))
    assert per_s.var() / per_s.mean() > 10      # a Poisson stream would give ~1
    assert np.bincount(s["peer"], minlength=4).min() > 0


def test_update_stream_reannouncements_change_attributes(stream_v4):
    t, s = stream_v4
    v = datagen.initial_state(t, 4, seed=2)
    key = v["peer"].astype(np.int64) * t.n_rows + v["prefix_index"].astype(np.int64)
    m = (s["cause"] == datagen.CAUSE_ATTRIBUTE_CHANGE) & s["announce"]
    q = s["peer"][m].astype(np.int64) * t.n_rows + s["prefix_index"][m].astype(np.int64)
    row = np.searchsorted(key, q)
    assert (key[row] == q).all()
    changed = (v["as_path_len"][row] != s["as_path_len"][m]) | \
        (v["next_hop_lo"][row] != s["next_hop_lo"][m])
    assert changed.mean() > 0.8
    assert (s["next_hop_lo"][m] >> np.uint64(16) == 0xC613).mean() > 0.03  # alternate hop


def test_update_stream_v6_and_small():
    t = datagen.full_table(3_000, 6, seed=1)
    s = datagen.update_stream(t, 3, 5_000, seed=4, coverage=(0.5, 0.9))
    assert s.n_rows == 5_000
    assert replay(datagen.initial_state(t, 3, seed=4, coverage=(0.5, 0.9)), s) == 0
    a = s["announce"]
    assert (s["next_hop_hi"][a] >> np.uint64(32) == 0x20010DB8).all()
    assert datagen.update_stream(t, 3, 0, seed=4).n_rows == 0


# ---------------------------------------------------------------------------
# registry and cache
# ---------------------------------------------------------------------------
SMALL = [name for name, ds in datagen.DATASETS.items() if ds.rows <= 40_000]


def test_registry_records_checksums():
    assert {"v4-full-10k", "v4-full-1M", "v4-full-10M", "v6-full-200k", "v4-peers4-1M",
            "v4-updates-1M"} <= set(datagen.DATASETS)
    for name, ds in datagen.DATASETS.items():
        assert re.fullmatch(r"v[46]-[a-z0-9]+-[0-9]+[kM]", name), name
        assert ds.rows > 0
        if ds.rows <= 2_000_000:
            assert ds.sha256 and re.fullmatch(r"[0-9a-f]{64}", ds.sha256), name
        table = ds.params.get("table")
        if table is not None:
            assert table in datagen.DATASETS
    source = (REPO / "rtmcore" / "datagen.py").read_text()
    assert "APPEND-ONLY" in source


def test_readme_lists_every_dataset():
    readme = (REPO / "bench-data" / "README.md").read_text()
    for name, ds in datagen.DATASETS.items():
        assert f"`{name}`" in readme, name
        if ds.sha256:
            assert ds.sha256 in readme, name


@pytest.mark.parametrize("name", SMALL)
def test_small_datasets_match_recorded_checksums(name, tmp_path):
    table = datagen.load(name, cache_dir=tmp_path)
    assert table.n_rows == datagen.DATASETS[name].rows
    assert table.meta["sha256"] == datagen.DATASETS[name].sha256
    assert (tmp_path / f"{name}.npz").exists()
    again = datagen.load(name, cache_dir=tmp_path)     # from the cache
    assert_same_columns(table, again)


def test_load_detects_a_changed_generator(tmp_path, monkeypatch):
    ds = datagen.DATASETS["v4-full-10k"]
    monkeypatch.setitem(datagen.DATASETS, "v4-full-10k", ds._replace(sha256="0" * 64))
    with pytest.raises(datagen.DatasetChecksumError, match="append-only"):
        datagen.load("v4-full-10k", cache_dir=tmp_path)
    with pytest.raises(NotFound):
        datagen.load("v4-full-nope", cache_dir=tmp_path)


def test_load_rejects_a_damaged_cache(tmp_path):
    datagen.load("v4-full-10k", cache_dir=tmp_path)
    path = tmp_path / "v4-full-10k.npz"
    z = dict(np.load(path))
    z["addr_lo"] = z["addr_lo"].copy()
    z["addr_lo"][0] += 1
    np.savez(path, **z)
    with pytest.warns(RuntimeWarning, match="ignoring cached"):
        t = datagen.load("v4-full-10k", cache_dir=tmp_path)
    assert t.meta["sha256"] == datagen.DATASETS["v4-full-10k"].sha256


def test_cache_location(tmp_path, monkeypatch):
    monkeypatch.setenv("RTMCORE_BENCH_CACHE", str(tmp_path / "env"))
    assert datagen.resolve_cache_dir() == tmp_path / "env"
    assert datagen.resolve_cache_dir(tmp_path / "x") == tmp_path / "x"
    monkeypatch.delenv("RTMCORE_BENCH_CACHE")
    if datagen._repo_bench_dir().is_dir():   # imported from a source tree (in-place build)
        assert datagen.resolve_cache_dir() == datagen._repo_bench_dir() / "cache"
    # an installed package has no bench-data folder beside it
    monkeypatch.setattr(datagen, "_repo_bench_dir", lambda: tmp_path / "missing")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert datagen.resolve_cache_dir() == tmp_path / "home" / ".cache" / "rtmcore"


def test_dataset_checksum_covers_names_dtypes_and_values():
    t = datagen.full_table(500, 4, seed=1)
    base = datagen.dataset_checksum(t)
    d = t.to_dict()
    d2 = dict(d, origin_as=d["origin_as"].astype(np.int64))
    assert datagen.dataset_checksum(d2) != base
    d3 = dict(d, length=d["length"].copy())
    d3["length"][0] ^= 1
    assert datagen.dataset_checksum(d3) != base
    assert datagen.dataset_checksum(dict(d)) == base


# ---------------------------------------------------------------------------
# against the real table (only where ../shared/data exists)
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real():
    if not REAL_TABLE.exists():
        pytest.skip(f"{REAL_TABLE} not present (the real table exists only beside the "
                    "development checkout, as ../shared/data)")
    assert measure.sha256_file(REAL_TABLE) == datagen.SHAPE_SOURCE_SHA256, \
        "the real table changed since the constants were measured"
    pf = measure.read_table(REAL_TABLE)
    return {fam: (pf[fam], measure.measure_family(pf[fam], fam)) for fam in (4, 6)}


@pytest.mark.realdata
@pytest.mark.parametrize("family", [4, 6])
def test_embedded_constants_are_the_measured_ones(family, real):
    _, measured = real[family]
    for key, value in measured.items():
        assert getattr(datagen, f"V{family}_{key}") == value, key


@pytest.mark.realdata
@pytest.mark.parametrize("family", [4, 6])
def test_generated_table_resembles_the_real_file(family, real, t200k):
    pf, _ = real[family]
    t, depth, _ = t200k[family]
    real_hist = np.bincount([L for _, L in pf], minlength=129) / len(pf)
    gen_hist = np.bincount(t["length"], minlength=129) / t.n_rows
    assert np.abs(real_hist - gen_hist).max() < 0.002
    real_covered = real[family][1]["SUMMARY"]["covered_fraction"]  # measured from the file
    assert abs(real_covered - (depth > 0).mean()) < 0.01

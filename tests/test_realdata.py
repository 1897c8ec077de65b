"""Longest-prefix match on real Internet routing tables, checked against an
independent method.

The reference: for every prefix length present, a sorted array of the table's
prefixes of that length (as big-endian byte strings); an address matches
length L when its first L bits, masked, are found by binary search.  The
longest such L wins.  Nothing of rtmcore's trie, hash or lookup index is used.
"""
from pathlib import Path

import numpy as np
import pytest

import rtmcore
from rtmcore import io

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
pytestmark = pytest.mark.realdata

N_SAMPLE = 100_000


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} not present (the real BGP data exists only beside the "
                    "development / CI checkout, as ../shared/data)")
    return path


def _keys(hi, lo, plen):
    """Masked 16-byte big-endian keys of (hi, lo) at each row's length."""
    plen = plen.astype(np.int64)
    shift_hi = np.clip(64 - plen, 0, 64).astype(np.uint64)
    shift_lo = np.clip(128 - plen, 0, 64).astype(np.uint64)
    full = np.uint64(0xFFFFFFFFFFFFFFFF)
    mhi = np.where(plen <= 0, np.uint64(0),
                   np.where(shift_hi >= 64, np.uint64(0), full << np.minimum(shift_hi, 63)))
    mhi = np.where(plen >= 64, full, mhi)
    mlo = np.where(plen <= 64, np.uint64(0), full << np.minimum(shift_lo, 63))
    mlo = np.where(plen >= 128, full, mlo)
    k = np.empty((len(hi), 2), ">u8")
    k[:, 0] = hi & mhi
    k[:, 1] = lo & mlo
    return k.view("S16").ravel()


def reference_lpm(t_hi, t_lo, t_len, q_hi, q_lo):
    """Length of the longest table prefix containing each query (-1 if none)."""
    best = np.full(len(q_hi), -1, np.int16)
    for length in np.unique(t_len):
        sel = t_len == length
        table = np.sort(_keys(t_hi[sel], t_lo[sel], t_len[sel]))
        q = _keys(q_hi, q_lo, np.full(len(q_hi), length))
        pos = np.minimum(np.searchsorted(table, q), len(table) - 1)
        hit = table[pos] == q
        best = np.where(hit & (best < length), length, best)
    return best


def _queries(rng, hi, lo, plen, v6):
    """Half uniform addresses, half addresses inside random table prefixes."""
    n = N_SAMPLE // 2
    if v6:
        u_hi = rng.integers(0x2000 << 48, 0x4000 << 48, n, dtype=np.uint64)
        u_lo = rng.integers(0, 2**63, n, dtype=np.uint64)
    else:
        u_hi = rng.integers(0, 2**32, n, dtype=np.uint64) << np.uint64(32)
        u_lo = np.zeros(n, np.uint64)
    pick = rng.integers(0, len(plen), n)
    noise_hi = rng.integers(0, 2**63, n, dtype=np.uint64)
    noise_lo = rng.integers(0, 2**63, n, dtype=np.uint64)
    # keep the prefix bits, randomise the host bits
    keep_hi = _keys(np.full(n, 0xFFFFFFFFFFFFFFFF, np.uint64), np.zeros(n, np.uint64),
                    plen[pick]).view(">u8").reshape(-1, 2)[:, 0].astype(np.uint64)
    keep_lo = _keys(np.zeros(n, np.uint64), np.full(n, 0xFFFFFFFFFFFFFFFF, np.uint64),
                    plen[pick]).view(">u8").reshape(-1, 2)[:, 1].astype(np.uint64)
    i_hi = hi[pick] | (noise_hi & ~keep_hi)
    i_lo = lo[pick] | (noise_lo & ~keep_lo)
    if not v6:
        i_hi &= np.uint64(0xFFFFFFFF00000000)
        i_lo[:] = 0
    return np.concatenate([u_hi, i_hi]), np.concatenate([u_lo, i_lo])


def _check_table(table, family, seed=0):
    v6 = family == 6
    t = table.family(family)
    hi = t["addr_hi"] if v6 else t["addr_lo"] << np.uint64(32)
    lo = t["addr_lo"] if v6 else np.zeros(t.n_rows, np.uint64)
    plen = t["length"]

    rtm = rtmcore.RoutingTableManager()
    ent = rtm.register_entity(rtmcore.PROTO_IP_BGP, 0,
                              rtmcore.AF_INET6 if v6 else rtmcore.AF_INET)
    nh, _ = ent.add_next_hop("2001:db8::1" if v6 else "192.0.2.1")
    flags = ent.add_routes(t.addresses(), plen, next_hop=nh, metric=1)
    key_len = np.zeros((t.n_rows, 17), np.uint8)
    key_len[:, :16] = _keys(hi, lo, plen).view(np.uint8).reshape(-1, 16)
    key_len[:, 16] = plen
    n_unique = len(np.unique(key_len.view("V17")))
    assert rtm.counts(family) == (n_unique, n_unique)
    assert int((flags & rtmcore.RTM_ROUTE_CHANGE_NEW != 0).sum()) == n_unique

    rng = np.random.default_rng(seed)
    q_hi, q_lo = _queries(rng, hi, lo, plen, v6)
    expect = reference_lpm(hi, lo, plen, q_hi, q_lo)
    addrs = np.stack([q_hi, q_lo], axis=1) if v6 else (q_hi >> np.uint64(32)).astype(np.uint32)
    got = ent.lookup(addrs)
    np.testing.assert_array_equal(got.length, expect)
    hit = expect >= 0
    assert hit.mean() > 0.4, "the sample must exercise matches"
    assert (got.next_hop[hit] == nh).all() and (got.next_hop[~hit] == 0).all()
    # the matched prefix contains the address
    if v6:
        k_pfx = _keys(got.prefix[hit, 0], got.prefix[hit, 1], got.length[hit])
    else:
        k_pfx = _keys(got.prefix[hit].astype(np.uint64) << np.uint64(32),
                      np.zeros(int(hit.sum()), np.uint64), got.length[hit])
    np.testing.assert_array_equal(k_pfx, _keys(q_hi[hit], q_lo[hit], got.length[hit]))
    # per-call longest match (trie walk) agrees with the batch index on a subsample
    for i in rng.choice(len(q_hi), 300, replace=False):
        value = (int(q_hi[i]) << 64 | int(q_lo[i])) if v6 else int(q_hi[i] >> np.uint64(32))
        d = ent.search_best((value, 128 if v6 else 32))
        assert (d.dest_address.num_bits if d else -1) == expect[i]
    rtm.check_invariants()
    return rtm, ent, t


@pytest.fixture(scope="module")
def bart():
    return io.read_prefixes(_need(DATA / "bart" / "prefixes.txt.gz"))


def test_bart_ipv4_longest_match(bart):
    assert bart.ipv4().n_rows == 901_899
    _check_table(bart, 4)


def test_bart_ipv6_longest_match(bart):
    assert bart.ipv6().n_rows == 160_147
    _check_table(bart, 6)


def test_bart_ipv4_delete_half_then_match(bart):
    rtm, ent, t = _check_table(bart, 4, seed=1)
    rng = np.random.default_rng(2)
    gone = rng.random(t.n_rows) < 0.5
    flags = ent.delete_routes(t.addresses()[gone], t.lengths()[gone])
    assert (flags != rtmcore.DELETE_NOT_FOUND).all()
    rest = t.take(~gone)
    hi = rest["addr_lo"] << np.uint64(32)
    q_hi, q_lo = _queries(rng, hi, np.zeros(rest.n_rows, np.uint64), rest["length"], False)
    expect = reference_lpm(hi, np.zeros(rest.n_rows, np.uint64), rest["length"], q_hi, q_lo)
    got = ent.lookup((q_hi >> np.uint64(32)).astype(np.uint32))
    np.testing.assert_array_equal(got.length, expect)
    rtm.check_invariants()


def test_pfx2as_ipv4_longest_match():
    table = io.read_prefixes(_need(DATA / "pytricia" / "routeviews-rv2-20160202-1200.pfx2as.gz"))
    assert table.ipv4().n_rows > 500_000
    _check_table(table, 4, seed=3)


def test_pfx2as_ipv6_longest_match():
    table = io.read_prefixes(_need(DATA / "pytricia" / "routeviews-rv6-20160202-1200.pfx2as.gz"))
    _check_table(table, 6, seed=4)

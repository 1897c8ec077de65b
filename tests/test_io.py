"""Tests of rtmcore.io: prefix text, prefix-to-AS tables and MRT dumps.

Real data is read in place from ``../shared/data`` (see its README.md); tests
that need it are marked ``realdata`` and skip when it is absent.  The MRT
tests compare every route line that ``bgpdump -m`` printed for the files in
``bgpdump/test_expect`` with our rows, and check the row counts measured in
the data README for every other MRT file.
"""
from __future__ import annotations

import bz2
import functools
import gzip
import ipaddress
import lzma
import re
import shutil
import struct
import subprocess
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtmcore import _io
from rtmcore import io as rio
from rtmcore.errors import InvalidData, InvalidParameter

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
NO_DATA = "../shared/data not present (real BGP data exists only in the dev/CI tree)"


def data(rel: str) -> Path:
    if not DATA.is_dir():
        pytest.skip(NO_DATA)
    path = DATA / rel
    assert path.exists(), f"{path} missing from the shared data set"
    return path


def quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args, **kw)


def as_int(addrs: np.ndarray, k: int) -> int:
    if addrs.ndim == 2:
        return int(addrs[k, 0]) << 64 | int(addrs[k, 1])
    return int(addrs[k])


# ===========================================================================
# parse_prefixes
# ===========================================================================
def v4_networks():
    return st.builds(lambda a, n: ipaddress.IPv4Network((a, n), strict=False),
                     st.integers(0, 2**32 - 1), st.integers(0, 32))


def v6_addresses():
    # many zero groups, so that '::' runs of every length and place occur
    groups = st.lists(st.one_of(st.just(0), st.just(0), st.integers(0, 0xFFFF)),
                      min_size=8, max_size=8)
    return st.one_of(
        st.integers(0, 2**128 - 1),
        groups.map(lambda g: int.from_bytes(b"".join(x.to_bytes(2, "big") for x in g), "big")))


def v6_networks():
    return st.builds(lambda a, n: ipaddress.IPv6Network((a, n), strict=False),
                     v6_addresses(), st.integers(0, 128))


def v4_tail_text(addr: ipaddress.IPv6Address) -> str:
    """IPv6 text with the last 32 bits as a dotted quad, '::' on the longest
    zero run of the first six groups."""
    g = [format(int(x, 16), "x") for x in addr.exploded.split(":")[:6]]
    tail = str(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
    best_len, best_at, i = 0, -1, 0
    while i < 6:
        if g[i] == "0":
            j = i
            while j < 6 and g[j] == "0":
                j += 1
            if j - i > best_len:
                best_len, best_at = j - i, i
            i = j
        else:
            i += 1
    if best_len == 0:
        return ":".join(g) + ":" + tail
    head, rest = ":".join(g[:best_at]), ":".join(g[best_at + best_len:])
    return f"{head}::{rest}{':' if rest else ''}{tail}"


@st.composite
def prefix_texts(draw):
    """(text, network): a network and one of its valid spellings."""
    net = draw(st.one_of(v4_networks(), v6_networks()))
    addr = net.network_address
    forms = [str(addr), str(addr).upper()]
    if net.version == 6:
        forms += [addr.exploded, addr.exploded.upper(), v4_tail_text(addr)]
    text = draw(st.sampled_from(forms))
    if draw(st.booleans()) or net.prefixlen != net.max_prefixlen:
        text += f"/{net.prefixlen}"
    return text, net


@given(prefix_texts())
@settings(max_examples=400, deadline=None)
def test_valid_text_matches_ipaddress(case):
    text, net = case
    assert ipaddress.ip_network(text) == net          # the generator itself is right
    addrs, lens = rio.parse_prefixes([text])
    if net.version == 4:
        assert addrs.dtype == np.uint32 and addrs.shape == (1,)
    else:
        assert addrs.dtype == np.uint64 and addrs.shape == (1, 2)
    assert lens.dtype == np.uint8
    assert as_int(addrs, 0) == int(net.network_address)
    assert int(lens[0]) == net.prefixlen


def ipaddress_answer(text: str):
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError:
        return None


def agree_with_ipaddress(text: str) -> None:
    want = ipaddress_answer(text)
    netmask_form = "/" in text and "." in text.split("/", 1)[1]
    if want is None or netmask_form or "%" in text:
        with pytest.raises(InvalidParameter):
            rio.parse_prefixes([text])
        return
    addrs, lens = rio.parse_prefixes([text])
    assert (as_int(addrs, 0), int(lens[0])) == (int(want.network_address), want.prefixlen)


@given(st.text(alphabet="0123456789abcdefABCDEF.:/%", max_size=45))
@settings(max_examples=400, deadline=None)
def test_random_text_agrees_with_ipaddress(text):
    agree_with_ipaddress(text)


@st.composite
def mutated_prefix_texts(draw):
    text, _ = draw(prefix_texts())
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "replace", "double"]))
        ch = draw(st.sampled_from(list("0123456789afAF.:/%") + ["::", "256", "/33", "/129"]))
        if op == "insert":
            text = text[:i] + ch + text[i:]
        elif op == "delete":
            text = text[:i] + text[i + 1:]
        elif op == "replace":
            text = text[:i] + ch + text[i + 1:]
        else:
            text = text[:i] + text[i:] + text[i:]
    return text


@given(mutated_prefix_texts())
@settings(max_examples=600, deadline=None)
def test_near_valid_text_agrees_with_ipaddress(text):
    agree_with_ipaddress(text)


@pytest.mark.parametrize("text", [
    "", "1.2.3", "1.2.3.4.5", "01.2.3.0/24", "1.2.3.0/", "/24", "1.2.3.0/+24", "1.2.3.0/ 24x",
    "256.0.0.0/8", "1.2.3.0/33", "::/129", "1::2::3", ":::", "1:2:3:4:5:6:7:8:9", "12345::",
    "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", "fe80::1%eth0", "1.2.3.4::", "::1.2.3.4:5",
    "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3.256", "g::", "10.0.0.0/255.0.0.0", "1.2.3.4/24",
])
def test_invalid_text_raises(text):
    with pytest.raises(InvalidParameter, match=r"item 0 "):
        rio.parse_prefixes([text])


@given(st.one_of(
    st.tuples(st.just(4), st.integers(0, 2**32 - 1), st.integers(0, 32)),
    st.tuples(st.just(6), v6_addresses(), st.integers(0, 128))))
@settings(max_examples=300, deadline=None)
def test_host_bits_strict_and_masked(case):
    version, value, plen = case
    addr = ipaddress.IPv6Address(value) if version == 6 else ipaddress.IPv4Address(value)
    text = f"{addr}/{plen}"
    want = ipaddress.ip_network(text, strict=False)
    addrs, lens = rio.parse_prefixes([text], strict=False)
    assert (as_int(addrs, 0), int(lens[0])) == (int(want.network_address), plen)
    if int(want.network_address) != value:
        with pytest.raises(InvalidParameter, match="host bits"):
            rio.parse_prefixes([text])
    else:
        addrs, _ = rio.parse_prefixes([text])
        assert as_int(addrs, 0) == value


@given(st.lists(prefix_texts(), max_size=60), st.data())
@settings(max_examples=80, deadline=None)
def test_batches_and_error_index(cases, draw):
    for version in (4, 6):
        texts = [t for t, n in cases if n.version == version]
        nets = [n for t, n in cases if n.version == version]
        addrs, lens = rio.parse_prefixes(texts, family=version)
        assert len(lens) == len(texts)
        for k, net in enumerate(nets):
            assert (as_int(addrs, k), int(lens[k])) == (int(net.network_address), net.prefixlen)
        bad = draw.draw(st.integers(0, len(texts)))
        broken = texts[:bad] + ["1.2.3.4.5" if version == 4 else "1::2::3"] + texts[bad:]
        with pytest.raises(InvalidParameter, match=rf"item {bad} "):
            rio.parse_prefixes(broken, family=version)


def test_input_kinds():
    want4 = ([167772160, 3221225985], [8, 32])
    for inp in (["10.0.0.0/8", " 192.0.2.1 "], ("10.0.0.0/8", "192.0.2.1"),
                [b"10.0.0.0/8", b"192.0.2.1"], np.array(["10.0.0.0/8", "192.0.2.1"]),
                np.array([b"10.0.0.0/8", b"192.0.2.1"]),
                np.array(["10.0.0.0/8", b"192.0.2.1"], dtype=object),
                (s for s in ["10.0.0.0/8", "192.0.2.1"])):
        addrs, lens = rio.parse_prefixes(inp)
        assert (addrs.tolist(), lens.tolist()) == want4
    addrs, lens = rio.parse_prefixes(np.array(["2001:db8::/32", "::1"]))
    assert addrs.tolist() == [[0x20010DB800000000, 0], [0, 1]] and lens.tolist() == [32, 128]


def test_empty_input():
    for inp in ([], (), np.array([], dtype="U1")):
        addrs, lens = rio.parse_prefixes(inp)
        assert addrs.dtype == np.uint32 and addrs.shape == (0,)
        assert lens.dtype == np.uint8 and lens.shape == (0,)
    addrs, lens = rio.parse_prefixes([], family=6)
    assert addrs.dtype == np.uint64 and addrs.shape == (0, 2) and lens.shape == (0,)


def test_mixed_families_and_bad_arguments():
    with pytest.raises(InvalidParameter, match=r"mixed address families: item 2 .*read_prefixes"):
        rio.parse_prefixes(["10.0.0.0/8", "11.0.0.0/8", "::/0"])
    with pytest.raises(InvalidParameter, match=r"family="):
        rio.parse_prefixes(["::/0", "10.0.0.0/8"])
    with pytest.raises(InvalidParameter, match="item 0"):
        rio.parse_prefixes(["10.0.0.0/8"], family=6)
    with pytest.raises(InvalidParameter, match="line break"):
        rio.parse_prefixes(["10.0.0.0/8", "11.0.0.0/8\n12.0.0.0/8"])
    with pytest.raises(InvalidParameter, match="item 1 is int"):
        rio.parse_prefixes(["10.0.0.0/8", 5])
    with pytest.raises(InvalidParameter):
        rio.parse_prefixes("10.0.0.0/8")
    with pytest.raises(InvalidParameter):
        rio.parse_prefixes(["10.0.0.0/8"], family=5)
    with pytest.raises(InvalidParameter):
        rio.parse_prefixes(np.zeros(3))
    with pytest.raises(InvalidParameter, match="item 0"):
        rio.parse_prefixes(["10.0.0.0/8\u00e9"])


# ===========================================================================
# read_prefixes
# ===========================================================================
def write(path: Path, text: str, compress=None) -> Path:
    raw = text.encode()
    if compress == "gzip":
        raw = gzip.compress(raw)
    elif compress == "bz2":
        raw = bz2.compress(raw)
    elif compress == "xz":
        raw = lzma.compress(raw)
    path.write_bytes(raw)
    return path


@pytest.mark.parametrize("compress", [None, "gzip", "bz2", "xz"])
def test_read_prefixes_formats(tmp_path, compress):
    cidr = write(tmp_path / "a", "# comment\n\n10.0.0.0/8\r\n 2001:db8::/32 extra\n10.1.2.3/16\n",
                 compress)
    t = rio.read_prefixes(cidr)
    assert t.meta["format"] == "cidr" and t.meta["host_bits_masked"] == 1
    assert t["family"].tolist() == [4, 6, 4]
    assert t["addr_lo"].tolist() == [0x0A000000, 0, 0x0A010000]
    assert t["addr_hi"].tolist() == [0, 0x20010DB800000000, 0]
    assert t["length"].tolist() == [8, 32, 16]
    assert t["origin_as"].tolist() == [0, 0, 0]
    pfx2as = write(tmp_path / "b", "1.0.0.0\t24\t15169\n1.0.4.0\t22\t56203_4608\n"
                                   "2.0.0.0\t16\t3215,1234\n", compress)
    t = rio.read_table(pfx2as)
    assert t.meta["format"] == "pfx2as"
    assert t["origin_as"].tolist() == [15169, 56203, 3215]
    assert t["multi_origin"].tolist() == [False, True, True]
    ipasn = write(tmp_path / "c", "; IP-ASN32-DAT file\n;\n1.0.0.0/24\t15169\n2001::/32\t6939\n",
                  compress)
    t = rio.read_prefixes(ipasn)
    assert t.meta["format"] == "ipasn" and t["origin_as"].tolist() == [15169, 6939]
    assert rio.read_prefixes(ipasn, format="cidr")["origin_as"].tolist() == [0, 0]
    bom = tmp_path / "bom"
    bom.write_bytes(b"\xef\xbb\xbf10.0.0.0/8\n")
    assert rio.read_table(bom)["length"].tolist() == [8]


def test_read_prefixes_errors(tmp_path):
    bad = write(tmp_path / "bad", "10.0.0.0/8\n10.0.0.0/8\n300.0.0.0/8\n")
    with pytest.raises(InvalidData, match=r"line 3 .*300\.0\.0\.0/8"):
        rio.read_prefixes(bad)
    with pytest.raises(InvalidData, match="line 1"):
        rio.read_prefixes(write(tmp_path / "asn", "1.0.0.0/24\tAS15169\n"))
    with pytest.raises(InvalidData, match="format"):
        rio.read_prefixes(write(tmp_path / "odd", "hello world\n"))
    with pytest.raises(InvalidParameter):
        rio.read_prefixes(bad, format="csv")
    empty = rio.read_prefixes(write(tmp_path / "empty", "# nothing\n"))
    assert empty.n_rows == 0


def test_read_prefixes_truncated_gzip(tmp_path):
    text = "".join(f"10.{i >> 8 & 255}.{i & 255}.0/24\n" for i in range(20000))
    raw = gzip.compress(text.encode())
    path = tmp_path / "cut.gz"
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.warns(RuntimeWarning, match="truncated"):
        t = rio.read_prefixes(path)
    assert 0 < t.n_rows < 20000 and t.meta["truncated"]
    addrs = t["addr_lo"]
    assert (addrs == [(10 << 24) | (i << 8) for i in range(t.n_rows)]).all()


@pytest.mark.realdata
def test_bart_full_table():
    path = data("bart/prefixes.txt.gz")
    t = rio.read_prefixes(path)
    fam = np.bincount(t["family"], minlength=7)
    assert (fam[4], fam[6]) == (901_899, 160_147)
    assert t.meta["format"] == "cidr" and t.meta["host_bits_masked"] == 0
    lines = gzip.open(path, "rt").read().split()
    assert len(lines) == t.n_rows
    rng = np.random.default_rng(2024)
    for k in rng.choice(len(lines), 1000, replace=False):
        net = ipaddress.ip_network(lines[k])
        got = (int(t["addr_hi"][k]) << 64 | int(t["addr_lo"][k]), int(t["length"][k]),
               int(t["family"][k]))
        assert got == (int(net.network_address), net.prefixlen, net.version), lines[k]


PREFIX_TABLES = [
    ("pytricia/routeviews-rv2-20160202-1200.pfx2as.gz", "pfx2as", 615_842, 5_463),
    ("pytricia/routeviews-rv2-20141202-1200.pfx2as.gz", "pfx2as", 541_262, 4_279),
    ("pytricia/routeviews-rv6-20160202-1200.pfx2as.gz", "pfx2as", 28_744, 204),
    ("pyasn/ipasn_20140513.dat.gz", "ipasn", 512_621, 0),
    ("pyasn/ipasn6_20151101.dat.gz", "ipasn", 606_138 + 27_693, 0),
    ("pyasn/ipasn_20080501_v12.dat.gz", "ipasn", 270_849, 0),
    ("pyasn/ipasn.fake", "ipasn", 5, 0),
]


@pytest.mark.realdata
@pytest.mark.parametrize("rel,fmt,rows,multi", PREFIX_TABLES)
def test_prefix_to_as_tables(rel, fmt, rows, multi):
    path = data(rel)
    t = rio.read_prefixes(path)
    opener = gzip.open if rel.endswith(".gz") else open
    with opener(path, "rt") as fh:
        recs = [ln.split() for ln in fh if ln.strip() and not ln.startswith((";", "#"))]
    assert t.meta["format"] == fmt
    assert t.n_rows == len(recs) == rows
    asn_field = [r[-1] for r in recs]
    assert int(t["multi_origin"].sum()) == multi == sum("_" in a or "," in a for a in asn_field)
    rng = np.random.default_rng(7)
    for k in rng.choice(len(recs), min(500, len(recs)), replace=False):
        text = recs[k][0] if fmt == "ipasn" else f"{recs[k][0]}/{recs[k][1]}"
        net = ipaddress.ip_network(text, strict=False)
        assert int(t["addr_hi"][k]) << 64 | int(t["addr_lo"][k]) == int(net.network_address)
        assert int(t["length"][k]) == net.prefixlen
        assert int(t["origin_as"][k]) == int(re.split("[_,]", asn_field[k])[0])


@pytest.mark.realdata
def test_pyasn_fake_values():
    t = rio.read_prefixes(data("pyasn/ipasn.fake"))
    assert t["addr_lo"].tolist() == [0x01000000, 0x01000000, 0x02000000, 0x03000000, 0x03000000]
    assert t["length"].tolist() == [30, 24, 24, 8, 9]
    assert t["origin_as"].tolist() == [1, 2, 3, 4, 5]


# ===========================================================================
# MRT: synthetic records exercising each feature
# ===========================================================================
def mrt(ts, typ, sub, body, usec=None):
    if usec is not None:
        body = struct.pack(">I", usec) + body
    return struct.pack(">IHHI", ts, typ, sub, len(body)) + body


def attr(typ, value, flags=0x40):
    if len(value) > 255:
        return struct.pack(">BBH", flags | 0x10, typ, len(value)) + value
    return struct.pack(">BBB", flags, typ, len(value)) + value


def as_path(segments, size=4):
    return b"".join(struct.pack(">BB", kind, len(asns))
                    + b"".join(a.to_bytes(size, "big") for a in asns) for kind, asns in segments)


def packed(prefix, path_id=None):
    net = ipaddress.ip_network(prefix)
    nb = (net.prefixlen + 7) // 8
    head = b"" if path_id is None else struct.pack(">I", path_id)
    return head + bytes([net.prefixlen]) + net.network_address.packed[:nb]


def ip(text):
    return ipaddress.ip_address(text).packed


def update(withdrawn=b"", attrs=b"", nlri=b""):
    body = struct.pack(">H", len(withdrawn)) + withdrawn + struct.pack(">H", len(attrs)) + attrs
    body += nlri
    return b"\xff" * 16 + struct.pack(">HB", 19 + len(body), 2) + body


def bgp4mp(peer_as, peer_ip, payload, as_size=4):
    fam = 2 if ":" in peer_ip else 1
    local = "2001:db8::ffff" if fam == 2 else "192.0.2.254"
    return (peer_as.to_bytes(as_size, "big") + (65000).to_bytes(as_size, "big")
            + struct.pack(">HH", 0, fam) + ip(peer_ip) + ip(local) + payload)


def base_attrs(path, nh="192.0.2.1", size=4, med=None, lp=None, origin=0):
    out = attr(1, bytes([origin])) + attr(2, as_path(path, size)) + attr(3, ip(nh))
    if med is not None:
        out += attr(4, struct.pack(">I", med), 0x80)
    if lp is not None:
        out += attr(5, struct.pack(">I", lp))
    return out


def peer_index(peers):
    body = ip("198.51.100.1") + struct.pack(">H", 0) + struct.pack(">H", len(peers))
    for bgp_id, addr, asn in peers:
        kind = (1 if ":" in addr else 0) | 2
        body += bytes([kind]) + ip(bgp_id) + ip(addr) + struct.pack(">I", asn)
    return body


def rib(seq, prefix, entries, addpath=False):
    net = ipaddress.ip_network(prefix)
    body = struct.pack(">I", seq) + packed(prefix) + struct.pack(">H", len(entries))
    for k, (peer, attrs) in enumerate(entries):
        body += struct.pack(">HI", peer, 1_600_000_000)
        if addpath:
            body += struct.pack(">I", 100 + k)
        body += struct.pack(">H", len(attrs)) + attrs
    return body, (2 if net.version == 4 else 4) + (6 if addpath else 0)


def build_sample() -> tuple[bytes, list[tuple]]:
    """A small MRT stream with one example of each decoded feature, and the
    rows expected from it: (family, prefix, peer ip, peer as, announce,
    path len, origin as, origin, next hop, med, local pref, timestamp)."""
    T = 1_700_000_000
    recs, rows = [], []
    recs.append(mrt(T, 13, 1, peer_index([("10.0.0.1", "192.0.2.1", 65001),
                                          ("10.0.0.2", "2001:db8::1", 4_200_000_000)])))
    a = base_attrs([(2, [65001, 3356, 15169]), (1, [7, 8])], med=5, lp=100)
    body, sub = rib(0, "10.0.0.0/8", [(0, a), (1, a)])
    recs.append(mrt(T, 13, sub, body))
    rows += [(4, "10.0.0.0/8", "192.0.2.1", 65001, True, 4, 8, 0, "192.0.2.1", 5, 100, T),
             (4, "10.0.0.0/8", "2001:db8::1", 4_200_000_000, True, 4, 8, 0, "192.0.2.1", 5,
              100, T)]
    mp = attr(14, bytes([16]) + ip("2001:db8::99"), 0x80)      # RFC 6396 short form
    a6 = attr(1, b"\x02") + attr(2, as_path([(2, [4_200_000_000, 6939])])) + mp
    body, sub = rib(1, "2001:db8::/32", [(1, a6)])
    recs.append(mrt(T, 13, sub, body))
    rows.append((6, "2001:db8::/32", "2001:db8::1", 4_200_000_000, True, 2, 6939, 2,
                 "2001:db8::99", -1, -1, T))
    body, sub = rib(2, "192.0.2.0/24", [(0, base_attrs([(2, [65001])]))], addpath=True)
    recs.append(mrt(T, 13, sub, body))
    rows.append((4, "192.0.2.0/24", "192.0.2.1", 65001, True, 1, 65001, 0, "192.0.2.1",
                 -1, -1, T))
    # BGP4MP_ET MESSAGE_AS4: withdrawals and announcements of both families
    mp_reach = attr(14, struct.pack(">HBB", 2, 1, 32) + ip("2001:db8::2") + ip("fe80::2")
                    + b"\x00" + packed("2001:db8:1::/48"), 0x80)
    mp_unreach = attr(15, struct.pack(">HB", 2, 1) + packed("2001:db8:2::/48"), 0x80)
    msg = update(packed("198.51.100.0/24"),
                 base_attrs([(2, [64512, 64513])], nh="203.0.113.1", lp=50, origin=1)
                 + mp_reach + mp_unreach,
                 packed("203.0.113.0/24") + packed("203.0.113.128/25"))
    recs.append(mrt(T + 1, 17, 4, bgp4mp(64512, "203.0.113.1", msg), usec=250_000))
    t1 = T + 1.25
    rows += [(4, "198.51.100.0/24", "203.0.113.1", 64512, False, 0, 0, 255, "0.0.0.0", -1, -1, t1),
             (6, "2001:db8:2::/48", "203.0.113.1", 64512, False, 0, 0, 255, "::", -1, -1, t1),
             (4, "203.0.113.0/24", "203.0.113.1", 64512, True, 2, 64513, 1, "203.0.113.1",
              -1, 50, t1),
             (4, "203.0.113.128/25", "203.0.113.1", 64512, True, 2, 64513, 1, "203.0.113.1",
              -1, 50, t1),
             (6, "2001:db8:1::/48", "203.0.113.1", 64512, True, 2, 64513, 1, "2001:db8::2",
              -1, 50, t1)]
    # BGP4MP MESSAGE (2-byte ASNs) with AS_TRANS and an AS4_PATH
    a2 = (attr(1, b"\x00") + attr(2, as_path([(2, [64999, 23456, 23456])], 2))
          + attr(3, ip("192.0.2.9")) + attr(17, as_path([(2, [4_200_000_001, 4_200_000_002])]),
                                            0xC0))
    recs.append(mrt(T + 2, 16, 1, bgp4mp(64999, "192.0.2.9", update(b"", a2, packed("0.0.0.0/0")),
                                          as_size=2)))
    rows.append((4, "0.0.0.0/0", "192.0.2.9", 64999, True, 3, 4_200_000_002, 0, "192.0.2.9",
                 -1, -1, T + 2))
    # BGP4MP MESSAGE_AS4_ADDPATH, over IPv6 transport
    msg = update(packed("198.51.100.0/25", 7),
                 base_attrs([(2, [65010, 65011])], nh="192.0.2.10"),
                 packed("198.51.100.128/25", 9))
    recs.append(mrt(T + 3, 16, 9, bgp4mp(65010, "2001:db8::10", msg)))
    rows += [(4, "198.51.100.0/25", "2001:db8::10", 65010, False, 0, 0, 255, "0.0.0.0", -1, -1,
              T + 3),
             (4, "198.51.100.128/25", "2001:db8::10", 65010, True, 2, 65011, 0, "192.0.2.10",
              -1, -1, T + 3)]
    # STATE_CHANGE_AS4 1 -> 2, and a keepalive (counted, no rows)
    recs.append(mrt(T + 4, 16, 5, bgp4mp(65010, "2001:db8::10", struct.pack(">HH", 1, 2))))
    recs.append(mrt(T + 4, 16, 4, bgp4mp(65010, "2001:db8::10",
                                         b"\xff" * 16 + struct.pack(">HB", 19, 4))))
    # TABLE_DUMP (v1) AFI_IPv4 entry with 2-byte ASNs
    a1 = base_attrs([(2, [1853, 1239, 80])], nh="193.203.0.1", size=2, med=0, lp=0)
    body = (struct.pack(">HH", 0, 1) + ip("3.0.0.0") + bytes([8, 1]) + struct.pack(">I", T)
            + ip("193.203.0.1") + struct.pack(">HH", 1853, len(a1)) + a1)
    recs.append(mrt(T + 5, 12, 1, body))
    rows.append((4, "3.0.0.0/8", "193.203.0.1", 1853, True, 3, 80, 0, "193.203.0.1", 0, 0, T + 5))
    # deprecated type 5 BGP UPDATE (raw update body after peer/local fields)
    body5 = struct.pack(">H", 4608) + ip("203.37.255.126") + struct.pack(">H", 12654)
    body5 += ip("193.0.0.1") + update(packed("24.216.16.0/24"), b"", b"")[19:]
    recs.append(mrt(T + 6, 5, 1, body5))
    rows.append((4, "24.216.16.0/24", "203.37.255.126", 4608, False, 0, 0, 255, "0.0.0.0", -1,
                 -1, T + 6))
    return b"".join(recs), rows


def table_rows(t):
    peers = t.meta["peers"]
    out = []
    for k in range(t.n_rows):
        fam = int(t["family"][k])
        addr = int(t["addr_hi"][k]) << 64 | int(t["addr_lo"][k])
        nh = int(t["next_hop_hi"][k]) << 64 | int(t["next_hop_lo"][k])
        pfx = ipaddress.ip_network((addr if fam == 6 else addr & 0xFFFFFFFF, int(t["length"][k])))
        nh_text = str(ipaddress.IPv6Address(nh) if nh >> 32 or fam == 6
                      else ipaddress.IPv4Address(nh))
        p = peers[int(t["peer"][k])]
        out.append((fam, str(pfx), p["ip"], int(t["peer_as"][k]), bool(t["announce"][k]),
                    int(t["as_path_len"][k]), int(t["origin_as"][k]), int(t["origin"][k]),
                    nh_text, int(t["med"][k]), int(t["local_pref"][k]),
                    float(t["timestamp"][k])))
    return out


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    buf, rows = build_sample()
    path = tmp_path_factory.mktemp("mrt") / "sample.mrt"
    path.write_bytes(buf)
    return path, buf, rows


def test_synthetic_records_decode_exactly(sample):
    path, buf, rows = sample
    t = rio.read_mrt(path)
    assert table_rows(t) == rows
    m = t.meta
    assert m["damaged_records"] == 0 and not m["truncated"] and m["format"] == "mrt"
    assert m["peers"][0] == {"asn": 65001, "ip": "192.0.2.1", "bgp_id": "10.0.0.1"}
    assert m["peers"][1] == {"asn": 4_200_000_000, "ip": "2001:db8::1", "bgp_id": "10.0.0.2"}
    assert m["state_changes"] == 1
    st_ = m["state_change_table"]
    assert st_["old_state"].tolist() == [1] and st_["new_state"].tolist() == [2]
    assert st_["peer_as"].tolist() == [65010]
    assert m["peers"][int(st_["peer"][0])]["ip"] == "2001:db8::10"
    assert m["records"] == 11 and m["other_bgp_messages"] == 1
    dtypes = dict(family=np.uint8, addr_hi=np.uint64, addr_lo=np.uint64, length=np.uint8,
                  peer=np.uint32, peer_as=np.uint32, next_hop_hi=np.uint64,
                  next_hop_lo=np.uint64, as_path_len=np.uint16, origin=np.uint8, med=np.int64,
                  local_pref=np.int64, origin_as=np.uint32, timestamp=np.float64,
                  announce=np.bool_)
    assert {k: t[k].dtype for k in t} == {k: np.dtype(v) for k, v in dtypes.items()}


@pytest.mark.parametrize("compress", ["gzip", "bz2", "xz", "gzip2"])
def test_compressed_mrt_and_read_table(sample, tmp_path, compress):
    _, buf, rows = sample
    if compress == "gzip2":      # two gzip members, as `cat a.gz b.gz` makes
        raw = gzip.compress(buf[:40]) + gzip.compress(buf[40:])
    else:
        raw = {"gzip": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}[compress](buf)
    path = tmp_path / "s.bin"
    path.write_bytes(raw)
    assert table_rows(rio.read_mrt(path)) == rows
    assert table_rows(rio.read_table(path)) == rows


def test_garbage_after_compressed_stream(sample, tmp_path):
    _, buf, rows = sample
    path = tmp_path / "junk.gz"
    path.write_bytes(gzip.compress(buf) + b"not gzip")
    with pytest.warns(RuntimeWarning, match="garbage"):
        t = rio.read_mrt(path)
    assert table_rows(t) == rows and not t.meta["truncated"]
    path.write_bytes(gzip.compress(buf) + bytes(100))          # zero padding is fine
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert rio.read_mrt(path).n_rows == len(rows)


def test_truncated_stream_keeps_complete_records(sample, tmp_path):
    _, buf, rows = sample
    raw = gzip.compress(buf * 200)
    path = tmp_path / "cut.gz"
    path.write_bytes(raw[: len(raw) * 3 // 4])
    with pytest.warns(RuntimeWarning):
        t = rio.read_mrt(path)
    assert t.meta["truncated"] and t.n_rows > 0
    assert table_rows(t)[: len(rows)] == rows


def test_every_cut_point(sample, tmp_path):
    """Cut the stream at every byte: the complete records before the cut come
    back, the partial one is reported, nothing crashes."""
    _, buf, rows = sample
    ends, off = [], 0
    while off < len(buf):
        off += 12 + struct.unpack_from(">I", buf, off + 8)[0]
        ends.append(off)
    full = table_rows(rio.read_mrt(sample[0]))
    path = tmp_path / "cut.mrt"
    for cut in range(1, len(buf)):
        path.write_bytes(buf[:cut])
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            t = rio.read_mrt(path)
        done = sum(e <= cut for e in ends)
        assert t.meta["records"] == done
        assert t.meta["truncated"] == (cut not in ends)
        assert any(issubclass(x.category, RuntimeWarning) for x in w) == (cut not in ends)
        assert table_rows(t) == full[: t.n_rows]


def test_not_mrt_raises(tmp_path):
    for name, raw in [("text.txt", b"TABLE_DUMP2|1|B|10.0.0.1|1|10.0.0.0/8|1 2|IGP\n"),
                      ("zeros.bin", bytes(64)),
                      ("gz.txt.gz", gzip.compress(b"1.0.0.0/24\n" * 10)),
                      ("junk", bytes(range(256)))]:
        path = tmp_path / name
        path.write_bytes(raw)
        with pytest.raises(InvalidData, match="not an MRT file"):
            rio.read_mrt(path)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert rio.read_mrt(empty).n_rows == 0


def test_damaged_record_is_skipped(sample, tmp_path):
    _, buf, rows = sample
    # Record 2 (the first RIB record): make its entry's attribute length run
    # past the record end.  Only that record's two rows disappear.
    off = 12 + struct.unpack_from(">I", buf, 8)[0]
    bad = bytearray(buf)
    attr_len_at = off + 12 + 4 + 1 + 1 + 2 + 2 + 4
    struct.pack_into(">H", bad, attr_len_at, 0xFFFF)
    path = tmp_path / "bad.mrt"
    path.write_bytes(bytes(bad))
    with pytest.warns(RuntimeWarning, match="damaged"):
        t = rio.read_mrt(path)
    assert t.meta["damaged_records"] == 1
    assert table_rows(t) == rows[2:]
    # garbage between two records: one damaged region, framing recovered
    path.write_bytes(buf[:off] + b"\x07" * 13 + buf[off:])
    t = quiet(rio.read_mrt, path)
    assert t.meta["damaged_records"] == 1 and table_rows(t) == rows


def test_rib_without_peer_index(sample, tmp_path):
    _, buf, rows = sample
    off = 12 + struct.unpack_from(">I", buf, 8)[0]
    path = tmp_path / "noindex.mrt"
    path.write_bytes(buf[off:])
    t = rio.read_mrt(path)
    assert t.meta["missing_peer_index_rows"] == 4
    stand_in = t.meta["peers"][int(t["peer"][0])]
    assert stand_in == {"asn": 0, "ip": None, "bgp_id": None, "index": 0}
    assert t.n_rows == len(rows)


def test_old_zebra_table_dump_batches(tmp_path):
    """TABLE_DUMP records holding several entries, length without view/seq."""
    entries = b""
    want = []
    for k in range(5):
        a = base_attrs([(2, [3549, 100 + k])], nh="192.0.2.7", size=2)
        entries += (ip(f"10.{k}.0.0") + bytes([16, 1]) + struct.pack(">I", 0) + ip("192.0.2.7")
                    + struct.pack(">HH", 3549, len(a)) + a)
        want.append((f"10.{k}.0.0/16", 100 + k))
    rec = struct.pack(">IHHI", 946_000_000, 12, 1, len(entries)) + struct.pack(">HH", 0, 7)
    path = tmp_path / "zebra.mrt"
    path.write_bytes((rec + entries) * 2)
    t = rio.read_mrt(path)
    got = [(r[1], r[6]) for r in table_rows(t)]
    assert got == want * 2 and t.meta["damaged_records"] == 0


def check_invariants(t):
    n = t.n_rows
    fam = t["family"]
    assert set(np.unique(fam).tolist()) <= {4, 6}
    assert (t["length"][fam == 4] <= 32).all() and (t["length"] <= 128).all()
    assert (t["addr_hi"][fam == 4] == 0).all() and (t["addr_lo"][fam == 4] < 2**32).all()
    assert n == 0 or int(t["peer"].max()) < len(t.meta["peers"])
    assert set(np.unique(t["origin"]).tolist()) <= {0, 1, 2, 255}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz") / "f.mrt"


@given(st.data())
@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_corrupted_bytes_never_crash(sample, scratch, data_):
    _, buf, _ = sample
    b = bytearray(buf)
    for _ in range(data_.draw(st.integers(1, 8))):
        kind = data_.draw(st.sampled_from(["set", "set", "insert", "delete"]))
        i = data_.draw(st.integers(0, len(b) - 1))
        if kind == "set":
            b[i] = data_.draw(st.sampled_from([0, 1, 2, 0x7F, 0x80, 0xFF]) | st.integers(0, 255))
        elif kind == "insert":
            b[i:i] = data_.draw(st.binary(min_size=1, max_size=8))
        else:
            del b[i:i + data_.draw(st.integers(1, 16))]
    scratch.write_bytes(bytes(b))
    try:
        t = quiet(rio.read_mrt, scratch)
    except InvalidData:
        return
    check_invariants(t)


# ===========================================================================
# MRT: real files
# ===========================================================================
ORIGIN = {"IGP": 0, "EGP": 1, "INCOMPLETE": 2}
SEGMENT = re.compile(r"\{[^}]*\}|\([^)]*\)|\[[^\]]*\]|\d+")


def path_len_and_origin(path: str) -> tuple[int, int]:
    """bgpdump AS path text: '{..}' AS_SET counts 1, '(..)'/'[..]' confederation 0."""
    n, last = 0, 0
    for seg in SEGMENT.findall(path):
        if seg[0] not in "([":
            n += 1
        nums = re.findall(r"\d+", seg)
        if nums:
            last = int(nums[-1])
    return n, last


def _signed(v: int) -> int:
    return v - (1 << 64) if v >> 63 else v


def bgpdump_rows(lines, peers):
    """Route lines of `bgpdump -m` text as an int64 matrix (one row per route)
    and the STATE lines as tuples."""
    peer_id = {(p["ip"], p["asn"]): k for k, p in enumerate(peers)}
    ip_cache: dict[str, tuple[int, int]] = {}

    def addr(text):
        v = ip_cache.get(text)
        if v is None:
            i = int(ipaddress.ip_address(text))
            v = ip_cache[text] = (_signed(i >> 64), _signed(i & (2**64 - 1)))
        return v

    peer_cache: dict[tuple[str, str], int] = {}

    def peer_of(ip_text, asn_text):
        v = peer_cache.get((ip_text, asn_text))
        if v is None:
            key = (str(ipaddress.ip_address(ip_text)), int(asn_text))
            v = peer_cache[ip_text, asn_text] = peer_id.get(key, -1)
        return v

    path_info = functools.lru_cache(maxsize=None)(path_len_and_origin)
    rows, prefixes, states = [], [], []
    for line in lines:
        f = line.rstrip("\n").split("|")
        usec = int(f[1].replace(".", "")) if "." in f[1] else int(f[1]) * 10**6
        peer = peer_of(f[3], f[4])
        if f[2] == "STATE":
            states.append((peer, int(f[4]), int(f[5]), int(f[6]), usec))
            continue
        assert f[2] in ("A", "B", "W"), line
        prefixes.append(f[5])
        if f[2] == "W":
            rows.append((0, peer, int(f[4]), 0, 0, 255, 0, 0, 0, 0, usec))
            continue
        plen, oas = path_info(f[6])
        nh = addr(f[8])
        # bgpdump prints 0 for an absent LOCAL_PREF / MED
        rows.append((1, peer, int(f[4]), plen, oas, ORIGIN.get(f[7], 255), nh[0], nh[1],
                     int(f[9]), int(f[10]), usec))
    fam = np.array([6 if ":" in p else 4 for p in prefixes], np.uint8)
    hi = np.zeros(len(prefixes), np.uint64)
    lo = np.zeros(len(prefixes), np.uint64)
    ln = np.zeros(len(prefixes), np.uint8)
    for version in (4, 6):
        idx = np.flatnonzero(fam == version)
        if len(idx):
            a, ls = rio.parse_prefixes([prefixes[i] for i in idx], version)
            if version == 4:
                lo[idx] = a
            else:
                hi[idx], lo[idx] = a[:, 0], a[:, 1]
            ln[idx] = ls
    r = np.array(rows, np.int64).reshape(-1, 11)
    m = np.column_stack([r[:, 0], fam, hi.view(np.int64), lo.view(np.int64), ln, r[:, 1:]])
    return m, Counter(states)


def our_rows(t):
    lp = np.where(t["local_pref"] < 0, 0, t["local_pref"])
    med = np.where(t["med"] < 0, 0, t["med"])
    usec = np.round(t["timestamp"] * 1e6).astype(np.int64)
    m = np.column_stack([t["announce"], t["family"], t["addr_hi"].view(np.int64),
                         t["addr_lo"].view(np.int64), t["length"], t["peer"], t["peer_as"],
                         t["as_path_len"], t["origin_as"], t["origin"],
                         t["next_hop_hi"].view(np.int64), t["next_hop_lo"].view(np.int64),
                         lp, med, usec]).astype(np.int64)
    st_ = t.meta["state_change_table"]
    states = Counter(zip(st_["peer"].tolist(), st_["peer_as"].tolist(),
                         st_["old_state"].tolist(), st_["new_state"].tolist(),
                         np.round(st_["timestamp"] * 1e6).astype(np.int64).tolist(),
                         strict=True))
    return m, states


def sorted_rows(m):
    return m[np.lexsort(m.T[::-1])]


EXPECT = sorted(DATA.glob("bgpdump/test_expect/*.bgp.gz")) if DATA.is_dir() else []


@pytest.mark.realdata
@pytest.mark.parametrize("expect", EXPECT or [None], ids=lambda p: p.name if p else "no-data")
def test_matches_bgpdump_text(expect):
    if expect is None:
        pytest.skip(NO_DATA)
    mrt_file = data(f"bgpdump/test_data/{expect.name[:-len('.bgp.gz')]}")
    t = rio.read_mrt(mrt_file)
    with gzip.open(expect, "rt") as fh:
        lines = fh.readlines()
    want, want_states = bgpdump_rows(lines, t.meta["peers"])
    got, got_states = our_rows(t)
    assert len(want) > 0 and got.shape == want.shape
    assert (want[:, 5] >= 0).all(), "a bgpdump peer is missing from meta['peers']"
    mismatch = ~(sorted_rows(got) == sorted_rows(want)).all(axis=1)
    assert not mismatch.any(), f"{mismatch.sum()} rows differ: {sorted_rows(want)[mismatch][:3]}"
    assert got_states == want_states
    assert t.meta["damaged_records"] == 0 and not t.meta["truncated"]


BGPDUMP_FILES = [
    "pyasn/rib.20140523.0600_firstMB.bz2",          # TABLE_DUMP_V2 IPv4
    "pyasn/rib6.20151101.0600_firstMB.bz2",         # TABLE_DUMP_V2 IPv6
    "pyasn/rib.20080501.0644_firstMB.bz2",          # TABLE_DUMP, RouteViews 2008
    "bgpdump/test_data/updates.20160811.1600.gz",   # BGP4MP MESSAGE_AS4, IPv4 + IPv6
    "bgpkit-parser/ripe/rrc01/2000.11/updates.20001104.0124.gz",   # shortened Zebra records
    "libbgpstream/routeviews.route-views.jinx.updates.1427846400.bz2",
]


def mrt_head(raw: bytes, limit: int) -> bytes:
    """The complete records within the first ``limit`` bytes."""
    off = 0
    while off + 12 <= len(raw):
        nxt = off + 12 + struct.unpack_from(">I", raw, off + 8)[0]
        if nxt > limit:
            break
        off = nxt
    return raw[:off]


@pytest.mark.realdata
@pytest.mark.parametrize("rel", BGPDUMP_FILES)
def test_matches_installed_bgpdump(rel, tmp_path):
    """Like test_matches_bgpdump_text, for files without a stored decode; runs
    only where Debian's bgpdump is installed.  RIB files are cut to their
    first 1.5 MB of records to keep the test quick."""
    exe = shutil.which("bgpdump")
    if exe is None:
        pytest.skip("bgpdump not installed")
    path = data(rel)
    if "rib" in rel:
        raw, _, _ = quiet(rio._load, path)
        path = tmp_path / "head.mrt"
        path.write_bytes(mrt_head(raw, 1_500_000))
    out = subprocess.run([exe, "-m", str(path)], capture_output=True, text=True, check=True)
    t = quiet(rio.read_mrt, path)
    want, want_states = bgpdump_rows(out.stdout.splitlines(), t.meta["peers"])
    got, got_states = our_rows(t)
    assert len(want) > 500 and got.shape == want.shape
    assert (sorted_rows(got) == sorted_rows(want)).all()
    assert got_states == want_states


# rows (announced or RIB, withdrawn) per file, as measured in ../shared/data/README.md
MRT_COUNTS = {
    "bgpdump/test_data/bview.20020722.2337.gz": (115_521, 0),
    "bgpdump/test_data/updates.et-header.2015.gz": (577_737, 3),
    "bgpdump/test_data/updates.20160811.1600.gz": (39_256, 1_956),
    # The README's 51,329 / 2,328 include 93 announcements and 58 withdrawals of
    # IPv4 *multicast* (MP_REACH/MP_UNREACH AFI 1 SAFI 2), which read_mrt skips
    # and counts in meta["other_afi_safi"] (151 attributes).
    "bgpdump/test_data/updates.20070211.0141.gz": (51_329 - 93, 2_328 - 58),
    "bgpdump/test_data/updates.20071015.1505.gz": (10_111, 385),
    "bgpdump/test_data/updates.20100722.2015.gz": (5_067, 547),
    "bgpdump/test_data/updates.20020722.2238.gz": (825, 2_419),
    "bgpkit-parser/ripe/rrc00/2000.01/bview.20000111.0032.gz": (452_018, 0),
    "bgpkit-parser/ripe/rrc00/1999.09/updates.19990903.1041.gz": (65_286, 25),
    "bgpkit-parser/ripe/rrc00/1999.12/updates.19991214.1621.gz": (54_126, 1_363),
    "bgpkit-parser/ripe/rrc00/2000.01/updates.20000102.2014.gz": (5_668, 675),
    # bgpdump loses the framing at the first damaged record and prints garbage
    # after it (its 2,046 lines), so the README has no count; ours is what the
    # records decode to once the framing is recovered (two damaged regions).
    "bgpkit-parser/ripe/rrc00/2000.03/updates.20000325.0345.gz": (4_660, 718),
    "bgpkit-parser/ripe/rrc01/2000.11/updates.20001104.0124.gz": (378, 141),
    "bgpkit-parser/ripe/rrc03/2010.02/updates.20100227.1600.first-796-records.gz": (1_226, 133),
    "bgpkit-parser/ripe/rrc15/2010.02/updates.20100227.1600.gz": (52_468, 1_318),
    "bgpkit-parser/ripe/rrc15/2010.02/updates.20100227.1610.gz": (5_920, 1_549),
    "libbgpstream/ris.rrc06.updates.1427846400.gz": (1_435, 122),
    "libbgpstream/routeviews.route-views.jinx.updates.1427846400.bz2": (8_160, 451),
    "pyasn/bview.20140112.1600_3samples.bz2": (3, 0),
    "pyasn/rib.20140523.0600_firstMB.bz2": (270_005, 0),
    "pyasn/rib6.20151101.0600_firstMB.bz2": (149_578, 0),
    "pyasn/rib.20080501.0644_firstMB.bz2": (139_291, 0),
}
TRUNCATED = {"pyasn/rib.20140523.0600_firstMB.bz2", "pyasn/rib6.20151101.0600_firstMB.bz2",
             "pyasn/rib.20080501.0644_firstMB.bz2"}
DAMAGED = {"bgpkit-parser/ripe/rrc00/2000.03/updates.20000325.0345.gz": 2}
NOT_TABLES = {"README.md", "SHA256SUMS", "README.upstream"}


@pytest.mark.realdata
def test_every_data_file_decodes():
    if not DATA.is_dir():
        pytest.skip(NO_DATA)
    seen_mrt = set()
    for path in sorted(p for p in DATA.rglob("*") if p.is_file()):
        rel = path.relative_to(DATA).as_posix()
        if path.name in NOT_TABLES or rel.startswith("bgpdump/test_expect/"):
            continue
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            t = rio.read_table(path)
        warned = [x for x in w if issubclass(x.category, RuntimeWarning)]
        assert t.n_rows > 0, rel
        if t.meta["format"] != "mrt":
            assert rel not in MRT_COUNTS and not warned, rel
            continue
        seen_mrt.add(rel)
        check_invariants(t)
        ann = int(t["announce"].sum())
        assert (ann, t.n_rows - ann) == MRT_COUNTS[rel], rel
        assert t.meta["truncated"] == (rel in TRUNCATED), rel
        assert t.meta["damaged_records"] == DAMAGED.get(rel, 0), rel
        assert bool(warned) == (rel in TRUNCATED or rel in DAMAGED), rel
    assert seen_mrt == set(MRT_COUNTS)


@pytest.mark.realdata
def test_truncated_rib_heads_warn():
    for rel, peers in [("pyasn/rib.20140523.0600_firstMB.bz2", 47),
                       ("pyasn/rib6.20151101.0600_firstMB.bz2", 29),
                       ("pyasn/rib.20080501.0644_firstMB.bz2", 44)]:
        with pytest.warns(RuntimeWarning, match="truncated"):
            t = rio.read_mrt(data(rel))
        assert t.n_rows == MRT_COUNTS[rel][0] and t.meta["truncated"]
        assert len(t.meta["peers"]) == peers


def framing_breaks(buf: bytes) -> list[int]:
    """Independent count of damaged regions: walk the record headers; where
    a header is not of type 5 (the only type in the file) or the record's
    UPDATE lengths do not add up, scan for the next offset where two
    consecutive sane headers follow."""
    def sane(o):
        if o + 12 > len(buf):
            return False
        _, typ, sub, ln = struct.unpack_from(">IHHI", buf, o)
        return typ == 5 and sub <= 7 and o + 12 + ln <= len(buf)

    def update_ok(o):
        _, _, sub, ln = struct.unpack_from(">IHHI", buf, o)
        if sub != 1:
            return True
        body = buf[o + 12:o + 12 + ln]
        if len(body) < 16:
            return False
        wl = struct.unpack_from(">H", body, 12)[0]
        if 14 + wl + 2 > len(body):
            return False
        al = struct.unpack_from(">H", body, 14 + wl)[0]
        return 16 + wl + al <= len(body)

    breaks, off = [], 0
    while off < len(buf):
        nxt = off + 12 + struct.unpack_from(">I", buf, off + 8)[0] if sane(off) else -1
        if nxt >= 0 and update_ok(off):
            off = nxt
            continue
        breaks.append(off)
        o = off + 1
        while o < len(buf):
            if sane(o):
                n2 = o + 12 + struct.unpack_from(">I", buf, o + 8)[0]
                if n2 == len(buf) or sane(n2):
                    break
            o += 1
        off = o
    return breaks


@pytest.mark.realdata
def test_damaged_rrc00_file():
    path = data("bgpkit-parser/ripe/rrc00/2000.03/updates.20000325.0345.gz")
    # Checked independently: the file has a record cut after 10 bytes of its
    # header (offset 188) and a 14-byte fragment of another record between two
    # records (offset 4554); both break the header chain exactly once.
    breaks = framing_breaks(gzip.open(path).read())
    assert len(breaks) == 2
    with pytest.warns(RuntimeWarning, match="2 damaged"):
        t = rio.read_mrt(path)
    assert t.meta["damaged_records"] == 2 and not t.meta["truncated"]
    # after the damage the records decode again: every one of the 14 peers
    # (rrc00's sessions in March 2000) has routes or state changes
    assert len(t.meta["peers"]) == 14
    check_invariants(t)


@pytest.mark.realdata
def test_old_zebra_bview_against_plain_reader():
    """The rrc00 2000-01 bview (TABLE_DUMP with batched entries) against a
    direct Python walk of the layout described in the data README."""
    path = data("bgpkit-parser/ripe/rrc00/2000.01/bview.20000111.0032.gz")
    raw = gzip.open(path).read()
    keys, sample = [], {}
    off = 0
    while off < len(raw):
        _, _, _, ln = struct.unpack_from(">IHHI", raw, off)
        end = off + 16 + ln
        off += 16
        while off < end:
            pfx, plen = raw[off:off + 4], raw[off + 4]
            peer_as, alen = struct.unpack_from(">HH", raw, off + 14)
            keys.append((int.from_bytes(pfx, "big"), plen, int.from_bytes(raw[off + 10:off + 14],
                                                                           "big"), peer_as))
            if len(keys) % 97 == 0:
                sample[len(keys) - 1] = raw[off + 18:off + 18 + alen]
            off += 18 + alen
    t = rio.read_mrt(path)
    peer_ip = np.array([int(ipaddress.ip_address(p["ip"])) for p in t.meta["peers"]], np.int64)
    got = np.column_stack([t["addr_lo"].astype(np.int64), t["length"], peer_ip[t["peer"]],
                           t["peer_as"]])
    assert (got == np.array(keys, np.int64)).all()
    for k, attrs in sample.items():       # AS_PATH (2-byte) length and origin
        i = 0
        while i < len(attrs):
            flags, typ = attrs[i], attrs[i + 1]
            ln = (struct.unpack_from(">H", attrs, i + 2)[0] if flags & 0x10 else attrs[i + 2])
            i += 4 if flags & 0x10 else 3
            if typ == 2:
                seg = attrs[i:i + ln]
                n, last, j = 0, 0, 0
                while j < len(seg):
                    kind, cnt = seg[j], seg[j + 1]
                    asns = struct.unpack_from(f">{cnt}H", seg, j + 2)
                    n += cnt if kind == 2 else (1 if kind == 1 and cnt else 0)
                    last = asns[-1] if cnt else last
                    j += 2 + 2 * cnt
                assert (int(t["as_path_len"][k]), int(t["origin_as"][k])) == (n, last)
            i += ln


def mrtparse_rows(path):
    import mrtparse

    rows, peers = [], []
    for e in mrtparse.Reader(str(path)):
        d = e.data
        typ = list(d["type"])[0]
        ts = list(d["timestamp"])[0]
        if typ == 13 and list(d["subtype"])[0] == 1:
            peers = [(p["peer_ip"], int(p["peer_as"])) for p in d["peer_entries"]]
            continue
        if typ == 13:
            for ent in d["rib_entries"]:
                pip, pas = peers[ent["peer_index"]]
                rows.append(route_tuple(f"{d['prefix']}/{d['length']}", pip, pas, True,
                                        ent["path_attributes"], ts))
            continue
        msg = d.get("bgp_message", {})
        if typ != 16 or list(msg.get("type", {0: 0}))[0] != 2:
            continue
        pip, pas = d["peer_ip"], int(d["peer_as"])
        attrs = msg["path_attributes"]
        for w in msg["withdrawn_routes"]:
            rows.append(route_tuple(f"{w['prefix']}/{w['length']}", pip, pas, False, [], ts))
        for a in attrs:
            if list(a["type"])[0] == 15:
                for w in a["value"].get("withdrawn_routes", []):
                    rows.append(route_tuple(f"{w['prefix']}/{w['length']}", pip, pas, False,
                                            [], ts))
        for n in msg["nlri"]:
            rows.append(route_tuple(f"{n['prefix']}/{n['length']}", pip, pas, True, attrs, ts))
        for a in attrs:
            if list(a["type"])[0] == 14:
                for n in a["value"]["nlri"]:
                    rows.append(route_tuple(f"{n['prefix']}/{n['length']}", pip, pas, True,
                                            attrs, ts))
    return rows


def route_tuple(prefix, peer_ip, peer_as, announce, attrs, ts):
    plen, oas, origin, nh, med, lp = 0, 0, 255, "0.0.0.0", -1, -1
    fam = 6 if ":" in prefix else 4
    for a in attrs:
        typ, v = list(a["type"])[0], a["value"]
        if typ == 1:
            origin = int(list(v)[0])
        elif typ == 2:
            for seg in v:
                kind = int(list(seg["type"])[0])
                plen += len(seg["value"]) if kind == 2 else (1 if kind == 1 else 0)
                oas = int(seg["value"][-1]) if seg["value"] else oas
        elif typ == 3 and fam == 4:
            nh = v
        elif typ == 4:
            med = int(v)
        elif typ == 5:
            lp = int(v)
        elif typ == 14 and fam == 6:
            nh = v["next_hop"][0]
    if not announce:
        nh = "0.0.0.0" if fam == 4 else "::"
    return (fam, str(ipaddress.ip_network(prefix)), str(ipaddress.ip_address(peer_ip)), peer_as,
            announce, plen, oas, origin, str(ipaddress.ip_address(nh)), med, lp, float(ts))


@pytest.mark.realdata
def test_cross_check_with_mrtparse(tmp_path):
    pytest.importorskip("mrtparse")
    upd = data("libbgpstream/ris.rrc06.updates.1427846400.gz")
    head = tmp_path / "rib6_head.mrt"           # 200 kB of a TABLE_DUMP_V2 IPv6 RIB
    raw = bz2.BZ2Decompressor().decompress(data("pyasn/rib6.20151101.0600_firstMB.bz2")
                                           .read_bytes())
    off = 0
    while off + 12 + struct.unpack_from(">I", raw, off + 8)[0] <= 200_000:
        off += 12 + struct.unpack_from(">I", raw, off + 8)[0]
    head.write_bytes(raw[:off])
    for path in (upd, head):
        t = rio.read_mrt(path)
        mine = Counter(table_rows(t))
        theirs = Counter(mrtparse_rows(path))
        assert sum(mine.values()) > 1000 and mine == theirs, path.name


@pytest.mark.realdata
def test_decoding_speed():
    """The issue asks for >= 1,000,000 RIB entries / s, decompression excluded."""
    for rel in ("bgpkit-parser/ripe/rrc00/2000.01/bview.20000111.0032.gz",
                "bgpdump/test_data/updates.et-header.2015.gz"):
        buf = gzip.open(data(rel)).read()
        best = float("inf")
        for _ in range(3):      # CPU time of this thread: robust to a busy machine
            t0 = time.thread_time()
            res = _io.parse_mrt(buf)
            best = min(best, time.thread_time() - t0)
        rows = len(res["columns"]["length"])
        assert rows / best >= 1_000_000, f"{rel}: {rows / best:,.0f} rows/s"

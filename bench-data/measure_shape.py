#!/usr/bin/env python3
"""Measure the shape constants embedded in ``rtmcore/datagen.py``.

Reads the real full routing table ``../shared/data/bart/prefixes.txt.gz``
(one CIDR per line, IPv4 and IPv6; it is never copied into this repository)
and prints, as Python source, the constants between the
``BEGIN MEASURED SHAPE`` / ``END MEASURED SHAPE`` markers of
``rtmcore/datagen.py``.  Re-running it on the same file must print exactly
what is embedded (``tests/test_datagen.py`` checks that when the file is
present).

Three optional inputs, used when present next to the table, give the
attribute constants (origin AS clustering, AS-path lengths, update mix):

* ``pytricia/routeviews-rv{2,6}-20160202-1200.pfx2as.gz`` (prefix -> origin AS),
* ``bgpdump/test_expect/updates.et-header.2015.gz.bgp.gz`` (one peer's full
  table with AS paths, ``bgpdump -m`` text),
* ``bgpdump/test_expect/updates.20{07,10}*.bgp.gz`` (5-minute update files).

Usage::

    python bench-data/measure_shape.py [--data DIR] [--check]

``--check`` compares the measured values with the ones embedded in
``rtmcore/datagen.py`` and exits non-zero on a difference.

Definitions (per address family)
--------------------------------
depth
    number of *other* prefixes of the table that cover a prefix (0: a root,
    i.e. a top-level aggregate; 1: a more-specific of a root; ...).
parent
    the longest covering prefix.
L1 block
    IPv4: the /8; IPv6: the /12 (index counted from 2000::/12 = 0).
cluster
    IPv4: a /16, IPv6: a /32 that holds at least one root longer than the
    cluster length (the "allocated blocks" of small announcements).
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import ipaddress
import os
import re
import sys
from collections import Counter

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEFAULT_DATA = os.path.join(os.path.dirname(REPO), "shared", "data")
TABLE = os.path.join("bart", "prefixes.txt.gz")

#: probabilities at which normalised heavy-tailed distributions are tabulated
QUANTILE_PROBS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98,
                  0.99, 0.995, 0.999, 1.0)

FAMILY = {
    # family: (address bits, cluster length, L1 block length, L1 base address)
    4: (32, 16, 8, 0),
    6: (128, 32, 12, 0x2000 << 112),
}


# --------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------
def read_table(path):
    """Return ``{4: [(addr, len), ...], 6: [...]}`` (Python ints) from a CIDR list."""
    out = {4: [], 6: []}
    with gzip.open(path, "rt") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            a, _, l = line.partition("/")
            if ":" in a:
                out[6].append((int(ipaddress.IPv6Address(a)), int(l)))
            else:
                b0, b1, b2, b3 = a.split(".")
                out[4].append(((int(b0) << 24) | (int(b1) << 16) | (int(b2) << 8) | int(b3),
                               int(l)))
    return out


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------
# nesting
# --------------------------------------------------------------------------
def nesting(prefixes, bits):
    """Sort ``prefixes`` by (address, length) and return (sorted list, depth, parent).

    ``depth[i]`` is the number of covering prefixes, ``parent[i]`` the index of
    the longest covering one (-1 for roots).
    """
    pf = sorted(set(prefixes))
    depth = []
    parent = []
    stack = []  # (end, index) of the open covering chain
    for i, (a, l) in enumerate(pf):
        while stack and stack[-1][0] <= a:
            stack.pop()
        depth.append(len(stack))
        parent.append(stack[-1][1] if stack else -1)
        stack.append((a + (1 << (bits - l)), i))
    return pf, np.array(depth, np.int64), np.array(parent, np.int64)


def quantiles(values):
    v = np.asarray(values, dtype=np.float64)
    return tuple(round(float(x), 4) for x in np.quantile(v, QUANTILE_PROBS))


def measure_family(prefixes, family):
    """All shape constants of one family, as a dict of plain Python values."""
    bits, clen, l1len, l1base = FAMILY[family]
    pf, depth, parent = nesting(prefixes, bits)
    n = len(pf)
    lengths = np.array([l for _, l in pf], np.int64)
    root = depth == 0

    # length x depth counts
    ld = {}
    for L in sorted(set(lengths.tolist())):
        m = lengths == L
        ld[L] = tuple(int(c) for c in np.trim_zeros(np.bincount(depth[m]), "b"))

    # parents: per length, (prefixes, prefixes with >= 1 child, children)
    nchild = np.bincount(parent[parent >= 0], minlength=n)
    par = {}
    for L in sorted(ld):
        m = lengths == L
        par[L] = (int(m.sum()), int((nchild[m] > 0).sum()), int(nchild[m].sum()))
    # fan-out shape: children / mean children of parents of that length
    isp = nchild > 0
    mean_by_len = {L: (c / p if p else 0.0) for L, (_, p, c) in par.items()}
    mean_arr = np.zeros(bits + 1)
    for L, m in mean_by_len.items():
        mean_arr[L] = m
    norm = nchild[isp] / mean_arr[lengths[isp]]
    fanout_q = quantiles(norm)

    # L1 blocks and clusters
    addr = [a for a, _ in pf]
    l1 = np.array([(a - l1base) >> (bits - l1len) if a >= l1base else -1 for a in addr], np.int64)
    short_cover = Counter()
    short_count = Counter()
    long_count = Counter()
    clusters = Counter()
    for i in np.flatnonzero(root):
        a, L = pf[i]
        if L <= clen:
            short_cover[int(l1[i])] += 1 << (clen - L)
            short_count[int(l1[i])] += 1
        else:
            long_count[int(l1[i])] += 1
            clusters[a >> (bits - clen)] += 1
    cl_counts = np.array(list(clusters.values()), np.float64)
    cluster_q = quantiles(cl_counts / cl_counts.mean())

    # summary statistics (documentation and tests, not generator inputs)
    s = {
        "n": n,
        "covered_fraction": round(float((~root).mean()), 4),
        "depth_distribution": tuple(round(float(x), 4) for x in np.bincount(depth) / n),
        "parent_fraction": round(float(isp.mean()), 4),
        "fanout_p50_p99_max": (float(np.median(nchild[isp])),
                               round(float(np.quantile(nchild[isp], 0.99)), 1),
                               int(nchild.max())),
        "root_cover_fraction": round(sum(2.0 ** (bits - pf[i][1]) for i in np.flatnonzero(root))
                                     / 2.0 ** bits, 6),
        "clusters_per_prefix": round(len(clusters) / n, 5),
    }
    if family == 4:
        starts = set(a for a, L in pf)
        r24 = [pf[i][0] for i in np.flatnonzero(root & (lengths == 24))]
        s["root24_adjacent_fraction"] = round(
            float(np.mean([(a + 256) in starts or (a - 256) in starts for a in r24])), 4)
        s["distinct_16_per_prefix"] = round(len(set(a >> 16 for a in addr)) / n, 4)
    else:
        s["distinct_32_per_prefix"] = round(len(set(a >> 96 for a in addr)) / n, 4)
    return {
        "LENGTH_DEPTH": ld,
        "PARENTS": par,
        "FANOUT_Q": fanout_q,
        "L1_SHORT": dict(sorted(short_cover.items() if family == 4 else short_count.items())),
        "L1_CLUSTER": dict(sorted(long_count.items())),
        "CLUSTERS": (len(clusters), int((root & (lengths > clen)).sum())),
        "CLUSTER_Q": cluster_q,
        "SUMMARY": s,
    }


# --------------------------------------------------------------------------
# optional attribute inputs
# --------------------------------------------------------------------------
def measure_origins(path, family):
    """Origin-AS structure from a CAIDA pfx2as file."""
    bits, clen, _, _ = FAMILY[family]
    rows = []
    with gzip.open(path, "rt") as f:
        for line in f:
            a, l, o = line.split()
            o = int(re.split(r"[_,]", o)[0])
            rows.append((int(ipaddress.ip_address(a)), int(l), o))
    origin = {(a, l): o for a, l, o in rows}
    pf, depth, parent = nesting([(a, l) for a, l, _ in rows], bits)
    o = np.array([origin[p] for p in pf], np.int64)
    cov = parent >= 0
    groups = {}
    for i in np.flatnonzero(~cov):
        a, L = pf[i]
        if L > clen:
            groups.setdefault(a >> (bits - clen), []).append(o[i])
    major = sum(Counter(g).most_common(1)[0][1] for g in groups.values())
    per_as = np.sort(np.array(list(Counter(o.tolist()).values())))[::-1]
    return {
        "AS_PER_PREFIX": round(len(per_as) / len(pf), 4),
        "P_CHILD_SAME_ORIGIN": round(float((o[cov] == o[parent[cov]]).mean()), 4),
        "P_CLUSTER_MAJORITY": round(major / sum(len(g) for g in groups.values()), 4),
        "TOP1PCT_AS_SHARE": round(float(per_as[: max(1, len(per_as) // 100)].sum() / len(pf)), 4),
    }


def measure_paths(path):
    """AS-path length histogram (prepends counted) of a ``bgpdump -m`` text file."""
    c = Counter()
    with gzip.open(path, "rt", errors="replace") as f:
        for line in f:
            x = line.split("|")
            if len(x) > 6 and x[2] == "A":
                n = len([a for a in x[6].split() if not a.startswith("{")])
                if n:
                    c[n] += 1
    top = max(c)
    return tuple(c.get(i, 0) for i in range(1, top + 1))


def measure_updates(paths):
    """Withdraw share and per-second burstiness of ``bgpdump -m`` update files."""
    t, w = [], 0
    res = {}
    for p in paths:
        ts, ws = [], 0
        with gzip.open(p, "rt", errors="replace") as f:
            for line in f:
                x = line.split("|")
                if len(x) > 5 and x[2] in ("A", "W"):
                    ts.append(float(x[1]))
                    ws += x[2] == "W"
        ts = np.array(ts)
        per_s = np.bincount((ts - ts.min()).astype(np.int64))
        res[os.path.basename(p).split(".gz")[0]] = (
            round(ws / len(ts), 4), round(float(per_s.var() / per_s.mean()), 1))
        t.append(len(ts))
        w += ws
    return res


# --------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------
def _fmt(name, value, width=99):
    """``name = value`` as Python source, wrapped to ``width`` columns."""
    head = f"{name} = "
    if isinstance(value, dict) and value:
        parts, opener, closer = [f"{k!r}: {v!r}" for k, v in value.items()], "{", "}"
    elif isinstance(value, tuple) and value:
        parts, opener, closer = [repr(v) for v in value], "(", ")"
    else:
        return head + repr(value)
    one = head + opener + ", ".join(parts) + closer
    if len(one) <= width:
        return one
    lines, cur = [], head + opener
    for i, part in enumerate(parts):
        piece = part + ("," if i < len(parts) - 1 else closer)
        if len(cur) + len(piece) + 1 > width and cur.strip() not in ("", head + opener):
            lines.append(cur.rstrip())
            cur = "    "
        cur += piece + " "
    lines.append(cur.rstrip())
    return "\n".join(lines)


def measure_all(data_dir=DEFAULT_DATA):
    """Every embedded constant, as an ordered dict ``name -> value``."""
    table = os.path.join(data_dir, TABLE)
    pf = read_table(table)
    out = {"SHAPE_SOURCE": f"shared/data/{TABLE}", "SHAPE_SOURCE_SHA256": sha256_file(table)}
    for fam in (4, 6):
        for k, v in measure_family(pf[fam], fam).items():
            out[f"V{fam}_{k}"] = v
    opt = {
        4: os.path.join(data_dir, "pytricia", "routeviews-rv2-20160202-1200.pfx2as.gz"),
        6: os.path.join(data_dir, "pytricia", "routeviews-rv6-20160202-1200.pfx2as.gz"),
    }
    for fam, p in opt.items():
        if os.path.exists(p):
            for k, v in measure_origins(p, fam).items():
                out[f"V{fam}_{k}"] = v
    p = os.path.join(data_dir, "bgpdump", "test_expect", "updates.et-header.2015.gz.bgp.gz")
    if os.path.exists(p):
        out["AS_PATH_LEN_COUNTS"] = measure_paths(p)
    ups = [os.path.join(data_dir, "bgpdump", "test_expect", f) for f in
           ("updates.20071015.1505.gz.bgp.gz", "updates.20100722.2015.gz.bgp.gz")]
    ups = [u for u in ups if os.path.exists(u)]
    if ups:
        out["UPDATE_FILES_WITHDRAW_SHARE_DISPERSION"] = measure_updates(ups)
    return out


def render(consts):
    lines = ["# --- BEGIN MEASURED SHAPE (printed by bench-data/measure_shape.py) ---"]
    for k, v in consts.items():
        lines.append(_fmt(k, v))
    lines.append("# --- END MEASURED SHAPE ---")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=DEFAULT_DATA, help="the shared/data directory")
    ap.add_argument("--check", action="store_true",
                    help="compare with the constants embedded in rtmcore/datagen.py")
    args = ap.parse_args(argv)
    if not os.path.exists(os.path.join(args.data, TABLE)):
        print(f"real table not found: {os.path.join(args.data, TABLE)}", file=sys.stderr)
        return 2
    consts = measure_all(args.data)
    if not args.check:
        print(render(consts))
        return 0
    sys.path.insert(0, REPO)
    from rtmcore import datagen

    bad = [k for k, v in consts.items() if getattr(datagen, k, None) != v]
    for k in bad:
        print(f"differs: {k}", file=sys.stderr)
    print("embedded constants match" if not bad else f"{len(bad)} constants differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

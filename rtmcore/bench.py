"""The benchmark engine behind ``rtmcore bench``.

Default scenario: a generated full table shaped like the real one (real-table
sizes: 901,899 IPv4 and 160,147 IPv6 prefixes), loaded as the views of K = 4
peers (one BGP entity per family; each peer is one next hop, used as the
route's neighbour and next hop); the manager computes the best routes.  Then
random longest-match lookups and a replay of a bursty announce / withdraw
stream, per call and in bulk.  Every suite measures the same work with the
baselines that are importable (pytricia, py-radix) and with plain Python
``dict`` structures, in the same run, so ratios are meaningful on a noisy
machine.

Layout of this module:

1. configuration (:class:`Config`) and the environment (machine, versions);
2. a progress bar on stderr (:class:`Progress`);
3. data preparation (:class:`FamilyData`, :func:`prepare`);
4. timing helpers and result records (:func:`measure`, :class:`Measurement`);
5. building blocks: loaded managers and a pure-Python RIB (the dict baseline);
6. scenarios, one function per suite (:func:`suite_load`, :func:`suite_add`,
   :func:`suite_lookup`, :func:`suite_updates`, :func:`suite_memory`);
7. the text report, JSON and plot;
8. :func:`run`, the entry point used by :mod:`rtmcore.cli`.

Timing: medians over repeats, the garbage collector disabled while a timed
section runs (as :mod:`timeit` does), mutating cases on a fresh table per
repeat, checks of the results after timing.
"""
from __future__ import annotations

import concurrent.futures
import ctypes
import gc
import importlib
import importlib.metadata
import itertools
import json
import os
import platform
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import rtmcore
from rtmcore import datagen

# ===========================================================================
# 1. configuration and environment
# ===========================================================================
#: suite names, in report order
SUITES = ("load", "lookup", "updates", "memory", "add")
#: execution order: memory first, while the process holds little else, so RSS
#: growth is not hidden by memory freed by earlier suites
RUN_ORDER = ("memory", "load", "add", "lookup", "updates")
#: baseline names for ``--compare`` (``dict`` is always available)
BASELINES = ("pytricia", "radix", "dict")
_BASELINE_MODULES = {"pytricia": ("pytricia", "pytricia"), "radix": ("radix", "py-radix")}
#: real-table sizes (the bart Tier-1 table measured by bench-data/measure_shape.py)
REAL_V4 = int(getattr(datagen, "V4_SUMMARY", {}).get("n", 901_899))
REAL_V6 = int(getattr(datagen, "V6_SUMMARY", {}).get("n", 160_147))
#: IPv6 lookups / events are the IPv4 counts scaled by the real tables' size ratio
V6_SCALE = REAL_V6 / REAL_V4
_NH_V4 = getattr(datagen, "NEXT_HOP_V4", (0xC6120000, 0xC6130000))
_NH_V6 = getattr(datagen, "NEXT_HOP_V6", ((0x20010DB800000000, 0), (0x20010DB800000001, 0)))
SCHEMA = "rtmcore-bench/1"
#: default seconds of timed runs after which a case stops repeating
DEFAULT_BUDGET = 2.0


@dataclass
class Config:
    """What to run.  ``None`` fields take their default from :meth:`resolved`."""

    data: str | None = None
    routes: int | None = None          # prefixes per family (generated tables)
    peers: int = 4
    families: tuple = (4, 6)
    suites: tuple = SUITES
    quick: bool = False
    compare: tuple = BASELINES
    repeat: int | None = None
    budget: float | None = None        # seconds of timed runs after which a case stops repeating
    seed: int = 0
    lookups: int | None = None         # IPv4 batch lookups (IPv6 scaled)
    events: int | None = None          # IPv4 update events (IPv6 scaled)
    sample: int | None = None          # per-call lookups / exact matches
    chunks: int = 20                   # progress granularity of long steps
    progress: bool = True
    json_path: str | None = None
    plot_path: str | None = None
    argv: list = field(default_factory=list)

    def resolved(self) -> Config:
        q = self.quick
        c = Config(**{k: getattr(self, k) for k in self.__dataclass_fields__})
        c.repeat = self.repeat or (1 if q else 3)
        c.budget = DEFAULT_BUDGET if self.budget is None else float(self.budget)
        c.lookups = self.lookups or (50_000 if q else 1_000_000)
        c.events = self.events or (50_000 if q else 1_000_000)
        c.sample = self.sample or (10_000 if q else 50_000)
        c.chunks = 5 if q else self.chunks
        return c

    def table_size(self, family: int) -> int:
        if self.routes:
            return self.routes
        if self.quick:
            return 20_000 if family == 4 else 4_000
        return REAL_V4 if family == 4 else REAL_V6

    def scaled(self, n: int, family: int) -> int:
        return n if family == 4 else max(1, round(n * V6_SCALE))


def baseline_module(name: str):
    """The imported baseline module, or ``None`` when it is not installed."""
    if name not in _BASELINE_MODULES:
        return None
    try:
        return importlib.import_module(_BASELINE_MODULES[name][0])
    except ImportError:
        return None


def _dist_version(dist: str, module=None) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return getattr(module, "__version__", None) if module else None


def machine_info() -> dict:
    """CPU model, cores, memory, OS and load of this machine."""
    info: dict[str, Any] = {"cpu_model": platform.processor() or platform.machine(),
                            "cores": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        info["cores_usable"] = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        info["cores_usable"] = os.cpu_count()
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    info["memory_bytes"] = int(line.split()[1]) * 1024
                    break
    except OSError:
        info["memory_bytes"] = None
    info["platform"] = platform.platform()
    info["machine"] = platform.machine()
    try:
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        info["load_average"] = None
    return info


def versions(plot: bool = False) -> dict:
    """Versions of Python, NumPy, rtmcore and the baselines (None: not installed)."""
    v: dict[str, str | None] = {
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "numpy": np.__version__, "rtmcore": rtmcore.__version__,
        "rtmcore_path": os.path.dirname(rtmcore.__file__)}
    for name, (_mod, dist) in _BASELINE_MODULES.items():
        m = baseline_module(name)
        v[dist] = _dist_version(dist, m) if m is not None else None
    if plot:
        v["matplotlib"] = _dist_version("matplotlib")
    return v


def _trim_heap() -> None:
    """Give the C heap's free memory back to the system (glibc's malloc_trim),
    so that an RSS reading counts what a structure holds, not the
    allocator's cache of temporaries freed while it was built."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):        # not glibc: nothing to trim
        pass


def rss_bytes() -> int:
    """Resident set size of this process (``/proc/self/statm``)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# ===========================================================================
# 2. progress bar (stderr)
# ===========================================================================
class Progress:
    """Progress on stderr: a bar redrawn between chunks on a terminal, a line
    per finished step otherwise.  Steps shorter than a second print nothing."""

    def __init__(self, enabled: bool = True, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def say(self, text: str) -> None:
        if self.enabled:
            self.stream.write(text + "\n")
            self.stream.flush()

    def task(self, label: str, total: int = 1) -> _Task:
        return _Task(self, label, max(1, int(total)))


class _Task:
    WIDTH = 24

    def __init__(self, owner: Progress, label: str, total: int):
        self.o, self.label, self.total = owner, label, total
        self.start = time.perf_counter()
        self.drawn = False

    def label_width(self) -> int:
        cols = shutil.get_terminal_size((100, 24)).columns
        return max(20, min(len(self.label), cols - self.WIDTH - 20))

    def __enter__(self) -> _Task:  # noqa: PYI034
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def update(self, done: int) -> None:
        if not (self.o.enabled and self.o.tty):
            return
        el = time.perf_counter() - self.start
        if el < 1.0:
            return
        frac = min(1.0, done / self.total)
        bar = "#" * int(frac * self.WIDTH)
        w = self.label_width()
        self.o.stream.write(f"\r  {self.label[:w]:<{w}} [{bar:<{self.WIDTH}}] "
                            f"{frac * 100:3.0f}% {el:6.1f} s ")
        self.o.stream.flush()
        self.drawn = True

    def close(self) -> None:
        el = time.perf_counter() - self.start
        if not self.o.enabled:
            return
        if self.drawn:
            w = self.label_width()
            self.o.stream.write(f"\r  {self.label[:w]:<{w}} [{'#' * self.WIDTH}] "
                                f"done {el:6.1f} s\n")
            self.o.stream.flush()
        elif el >= 1.0 and not self.o.tty:
            self.o.say(f"  {self.label}: {el:.1f} s")


# ===========================================================================
# 3. data preparation
# ===========================================================================
def format_prefixes(family: int, hi: np.ndarray | None, lo: np.ndarray,
                    lengths: np.ndarray | None) -> list[str]:
    """Prefix (or, without lengths, address) strings of address columns
    (``hi`` is not read for IPv4)."""
    n = len(lo)
    if family == 4:
        buf = np.asarray(lo, np.uint64).astype(">u4").tobytes()
        ntoa = socket.inet_ntoa
        addrs = [ntoa(buf[i:i + 4]) for i in range(0, 4 * n, 4)]
    else:
        arr = np.empty((n, 2), ">u8")
        arr[:, 0] = hi
        arr[:, 1] = lo
        buf = arr.tobytes()
        ntop, af = socket.inet_ntop, socket.AF_INET6
        addrs = [ntop(af, buf[i:i + 16]) for i in range(0, 16 * n, 16)]
    if lengths is None:
        return addrs
    return [f"{a}/{ln}" for a, ln in zip(addrs, np.asarray(lengths).tolist())]


def random_addresses(family: int, n: int, table_hi, table_lo, table_len,
                     seed: int) -> tuple[np.ndarray, str]:
    """Lookup addresses and their description.

    IPv4: uniform over the whole address space.  IPv6 (a uniform 128-bit
    address almost never matches): 3/4 random addresses inside random
    prefixes of the table, 1/4 uniform over 2000::/3.
    """
    rng = np.random.default_rng([seed, family, 0x1007])
    if family == 4:
        return (rng.integers(0, 1 << 32, n, dtype=np.uint64).astype(np.uint32),
                "uniform random IPv4 addresses")
    n_in = (3 * n) // 4 if len(table_len) else 0
    out = np.empty((n, 2), np.uint64)
    r_hi = rng.integers(0, 1 << 63, n, dtype=np.uint64) * np.uint64(2) \
        + rng.integers(0, 2, n, dtype=np.uint64)
    r_lo = rng.integers(0, 1 << 63, n, dtype=np.uint64) * np.uint64(2) \
        + rng.integers(0, 2, n, dtype=np.uint64)
    if n_in:
        idx = rng.integers(0, len(table_len), n_in)
        plen = np.asarray(table_len, np.int64)[idx]
        hi = np.asarray(table_hi, np.uint64)[idx]
        lo = np.asarray(table_lo, np.uint64)[idx]
        # host-bit masks of the two halves (shifts by 64 are avoided)
        hbits = np.clip(64 - plen, 0, 64).astype(np.uint64)
        lbits = np.clip(128 - plen, 0, 64).astype(np.uint64)
        full = np.uint64(0xFFFFFFFFFFFFFFFF)
        one, m64 = np.uint64(1), np.uint64(64)
        hmask = np.where(hbits == 64, full, (one << (hbits % m64)) - one)
        lmask = np.where(lbits == 64, full, (one << (lbits % m64)) - one)
        out[:n_in, 0] = hi | (r_hi[:n_in] & hmask)
        out[:n_in, 1] = lo | (r_lo[:n_in] & lmask)
    out[n_in:, 0] = (r_hi[n_in:] >> np.uint64(3)) | np.uint64(0x2000000000000000)
    out[n_in:, 1] = r_lo[n_in:]
    perm = rng.permutation(n)
    return out[perm], "3/4 inside random table prefixes, 1/4 uniform over 2000::/3"


@dataclass
class Routes:
    """Route rows of one family: index into the family's table, peer, next hop
    (index into :attr:`FamilyData.next_hops`), metric, preference and, for an
    update stream, the announce flag."""

    pidx: np.ndarray
    peer: np.ndarray
    nh: np.ndarray
    metric: np.ndarray
    pref: np.ndarray
    announce: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.pidx)

    @property
    def cost(self) -> np.ndarray:
        """Selection key: preference, then metric (lower wins in RTMv2)."""
        return (self.pref.astype(np.int64) << 32) | self.metric.astype(np.int64)


@dataclass
class FamilyData:
    """Everything the suites need for one address family."""

    family: int
    table: Any                       # RouteColumns of unique prefixes (file order)
    views: Routes                    # routes of the load suite (grouped by peer)
    stream_views: Routes             # initial state of the update stream
    stream: Routes                   # update events
    next_hops: list                  # next-hop address strings
    peer_nh: np.ndarray              # per peer: index of its next hop (the neighbour)
    n_peers: int
    lookup_addrs: np.ndarray
    lookup_desc: str
    source: dict
    notes: list = field(default_factory=list)
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return f"IPv{self.family}"

    @property
    def n(self) -> int:
        return self.table.n_rows

    def addresses(self) -> np.ndarray:
        return self._memo("addr", lambda: self.table.addresses())

    def lengths(self) -> np.ndarray:
        return self._memo("len", lambda: np.ascontiguousarray(self.table.lengths()))

    def strings(self) -> list:
        """Prefix strings of the table rows."""
        return self._memo("str", lambda: format_prefixes(
            self.family, self.table["addr_hi"], self.table["addr_lo"], self.table["length"]))

    def keys(self) -> list:
        """:class:`rtmcore.NetAddress` keys of the table rows."""
        def make():
            ln = self.table["length"].tolist()
            if self.family == 4:
                vals = self.table["addr_lo"].tolist()
            else:
                vals = [(h << 64) | lo for h, lo in zip(self.table["addr_hi"].tolist(),
                                                        self.table["addr_lo"].tolist())]
            NA, fam = rtmcore.NetAddress, self.family
            return [NA((v, p), fam) for v, p in zip(vals, ln)]
        return self._memo("keys", make)

    def shuffled_order(self, seed: int) -> np.ndarray:
        return self._memo(("shuffle", seed), lambda: np.argsort(
            np.random.default_rng([seed, self.family, 0x5f]).random(self.n), kind="stable"))

    def present(self, routes: Routes) -> np.ndarray:
        """Sorted table rows that have at least one route in ``routes``."""
        return self._memo(("present", id(routes)), lambda: np.unique(routes.pidx))

    def best_cost(self, routes: Routes) -> np.ndarray:
        """Per table row, the lowest cost among ``routes`` (int64 max if none)."""
        def make():
            b = np.full(self.n, np.iinfo(np.int64).max, np.int64)
            np.minimum.at(b, routes.pidx, routes.cost)
            return b
        return self._memo(("best", id(routes)), make)

    def lookup_strings(self, n: int) -> list:
        a = self.lookup_addrs[:n]
        if self.family == 4:
            return format_prefixes(4, None, a.astype(np.uint64), None)
        return format_prefixes(6, a[:, 0], a[:, 1], None)

    def _memo(self, key, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]


def _peer_address(family: int, p: int, alternate: int = 0) -> tuple[int, int]:
    if family == 4:
        return 0, _NH_V4[alternate] + p + 1
    return _NH_V6[alternate][0], _NH_V6[alternate][1] + p + 1


def _routes_from_columns(cols, nh_index: np.ndarray) -> Routes:
    ann = np.asarray(cols["announce"], bool) if "announce" in cols else None
    return Routes(pidx=np.asarray(cols["prefix_index"], np.int64),
                  peer=np.asarray(cols["peer"], np.int64), nh=nh_index,
                  metric=np.asarray(cols["metric"], np.uint32),
                  pref=np.asarray(cols["preference"], np.uint32), announce=ann)


def _next_hop_table(family: int, n_peers: int, parts: list) -> tuple[list, np.ndarray, list]:
    """Distinct next hops of ``parts`` (hi, lo) column pairs and the peers'
    primaries.  Returns (address strings, per-peer index, per-part index arrays)."""
    his = [np.asarray(h, np.uint64) for h, _ in parts]
    los = [np.asarray(lo, np.uint64) for _, lo in parts]
    peers = [_peer_address(family, p) for p in range(n_peers)]
    his.append(np.array([h for h, _ in peers], np.uint64))
    los.append(np.array([lo for _, lo in peers], np.uint64))
    hi, lo = np.concatenate(his), np.concatenate(los)
    if family == 4:
        uniq, inv = np.unique(lo, return_inverse=True)
        uhi = np.zeros(len(uniq), np.uint64)
        ulo = uniq
    else:
        pair = np.stack([hi, lo], axis=1)
        uniq, inv = np.unique(pair, axis=0, return_inverse=True)
        uhi, ulo = uniq[:, 0], uniq[:, 1]
    inv = np.asarray(inv).reshape(-1).astype(np.int64)
    names = format_prefixes(family, uhi, ulo, None)
    out, start = [], 0
    for h in his[:-1]:
        out.append(inv[start:start + len(h)])
        start += len(h)
    return names, inv[start:start + n_peers], out


def _dedupe_prefixes(t) -> tuple[Any, np.ndarray]:
    """Unique prefixes of a RouteColumns in first-appearance order, and the
    row -> unique index map."""
    key_hi = np.asarray(t["addr_hi"], np.uint64)
    key_lo = np.asarray(t["addr_lo"], np.uint64)
    ln = np.asarray(t["length"], np.uint64)
    pair = np.stack([key_hi, key_lo, ln], axis=1)
    _, first, inv = np.unique(pair, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")          # unique ids in first-appearance order
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    inv = np.asarray(inv).reshape(-1)
    return t.take(np.sort(first)), rank[inv]


def _mrt_is_rib(meta: dict) -> bool:
    kinds = {k[0] if isinstance(k, tuple) else k for k in (meta.get("record_counts") or {})}
    return bool(kinds & {12, 13})


def load_source(cfg: Config, progress: Progress) -> tuple[Any, dict]:
    """Read ``--data`` (or a registered dataset name).  Returns (columns, info)."""
    path = cfg.data
    assert path is not None             # called only with --data
    with progress.task(f"reading {path}"):
        if not os.path.exists(path) and path in getattr(datagen, "DATASETS", {}):
            t = datagen.load(path)
            return t, {"kind": "dataset", "name": path}
        from rtmcore import io as rio
        t = rio.read_table(path)
    st = os.stat(path)
    info = {"kind": "file", "path": os.path.abspath(path), "bytes": st.st_size,
            "format": t.meta.get("format"), "rows": int(t.n_rows)}
    if t.meta.get("format") == "mrt":
        info["mrt_rib"] = _mrt_is_rib(t.meta)
        info["mrt_peers"] = len(t.meta.get("peers") or [])
    return t, info


def _update_stream(table, k: int, n_events: int, seed: int, notes: list):
    """``datagen.update_stream``; a small table may not support as many
    events (patterns on one pair never overlap): then fewer, with a note."""
    n = n_events
    while True:
        try:
            stream = datagen.update_stream(table, k, n, seed=seed)
        except RuntimeError:
            if n <= 1:
                raise
            n //= 2
            continue
        if n < n_events:
            notes.append(f"the table is too small for {n_events:,} update events: "
                         f"{n:,} used")
        return stream


def prepare_family(cfg: Config, family: int, source, src_info: dict | None,
                   progress: Progress) -> FamilyData | None:
    """Table, views, stream and lookup addresses of one family."""
    k, seed = cfg.peers, cfg.seed
    assert cfg.events is not None and cfg.lookups is not None     # a resolved Config
    n_events = cfg.scaled(cfg.events, family)
    n_lookups = cfg.scaled(cfg.lookups, family)
    notes: list[str] = []
    real_views = None
    if source is None:
        n = cfg.table_size(family)
        with progress.task(f"generating IPv{family} table ({n:,} prefixes)"):
            table = datagen.full_table(n, family=family, seed=seed)
        info = {"kind": "generated", "generator": f"datagen.full_table(n={n}, family={family}, "
                f"seed={seed})", "prefixes": n}
    else:
        assert src_info is not None         # load_source returns the two together
        rows = source.family(family)
        if rows.n_rows == 0:
            return None
        if "announce" in rows:                      # MRT
            rib = bool(src_info.get("mrt_rib"))
            rows = rows.take(np.asarray(rows["announce"], bool)) if rib else rows
            table, row_pidx = _dedupe_prefixes(rows)
            if rib:
                real_views = (rows, row_pidx)
            else:
                notes.append("MRT updates file: its prefixes are used as a prefix list, "
                             f"with {k} generated peers' views")
        else:
            table, _ = _dedupe_prefixes(rows)
            if table.n_rows != rows.n_rows:
                notes.append(f"{rows.n_rows - table.n_rows:,} duplicate prefixes dropped")
        if cfg.routes and table.n_rows > cfg.routes:
            notes.append(f"first {cfg.routes:,} of {table.n_rows:,} prefixes (--routes)")
            if real_views is not None:
                keep = real_views[1] < cfg.routes
                real_views = (real_views[0].take(keep), real_views[1][keep])
            table = table.take(np.arange(cfg.routes))
        info = dict(src_info, prefixes=int(table.n_rows))
    with progress.task(f"IPv{family}: {k} peers' views and {n_events:,} update events"):
        gviews = datagen.peer_views(table, k, seed=seed)
        stream = _update_stream(table, k, n_events, seed, notes)
    ann = np.asarray(stream["announce"], bool)
    parts = [(gviews["next_hop_hi"], gviews["next_hop_lo"]),
             (np.asarray(stream["next_hop_hi"])[ann], np.asarray(stream["next_hop_lo"])[ann])]
    if real_views is not None:
        rv, rv_pidx = real_views
        peer = np.asarray(rv["peer"], np.int64)
        # one (peer, prefix) route: the last RIB entry wins; then grouped by peer
        key = peer * max(1, table.n_rows) + rv_pidx
        _, last = np.unique(key[::-1], return_index=True)
        sel = np.sort(len(key) - 1 - last)
        peer, rv_pidx = peer[sel], rv_pidx[sel]
        order = np.lexsort((rv_pidx, peer))
        peer, rv_pidx = peer[order], rv_pidx[order]
        upeers, peer = np.unique(peer, return_inverse=True)
        n_real = len(upeers)
        apl = np.asarray(rv["as_path_len"], np.int64)[sel][order]
        lp = np.asarray(rv["local_pref"], np.int64)[sel][order]
        pa = [_peer_address(family, int(p)) for p in range(n_real)]
        parts.append((np.array([pa[p][0] for p in peer], np.uint64),
                      np.array([pa[p][1] for p in peer], np.uint64)))
        n_peers = max(k, n_real)
        notes.append(f"load / lookup / memory use the dump's {n_real} real peers "
                     f"({len(sel):,} routes; metric = 10 x AS-path length, preference = "
                     f"LOCAL_PREF or 100); updates replay a generated stream of {k} peers "
                     f"over the dump's prefixes")
    else:
        n_peers = k
    names, peer_nh, idx = _next_hop_table(family, n_peers, parts)
    stream_views = _routes_from_columns(gviews, idx[0])
    nh_stream = np.zeros(len(ann), np.int64)
    nh_stream[ann] = idx[1]
    st_routes = _routes_from_columns(stream, nh_stream)
    if real_views is not None:
        views = Routes(pidx=rv_pidx, peer=peer, nh=idx[2],
                       metric=np.clip(10 * apl, 0, 2**32 - 1).astype(np.uint32),
                       pref=np.where(lp >= 0, lp, 100).clip(0, 2**32 - 1).astype(np.uint32))
    else:
        views = stream_views
    addrs, desc = random_addresses(family, n_lookups, table["addr_hi"], table["addr_lo"],
                                   table["length"], seed)
    info.update(peers=int(n_peers if real_views is not None else k), routes=len(views),
                stream_events=len(st_routes), stream_peers=k, lookups=n_lookups,
                lookup_addresses=desc)
    return FamilyData(family=family, table=table, views=views, stream_views=stream_views,
                      stream=st_routes, next_hops=names, peer_nh=peer_nh,
                      n_peers=int(n_peers), lookup_addrs=addrs, lookup_desc=desc,
                      source=info, notes=notes)


def prepare(cfg: Config, progress: Progress) -> tuple[dict, dict]:
    """Data of every requested family: ({family: FamilyData}, dataset description)."""
    source, src_info = (None, None)
    if cfg.data:
        source, src_info = load_source(cfg, progress)
    fams: dict[int, FamilyData] = {}
    skipped = []
    for fam in cfg.families:
        fd = prepare_family(cfg, fam, source, src_info, progress)
        if fd is None:
            skipped.append(fam)
        else:
            fams[fam] = fd
    ds = {"name": ("generated" if src_info is None else
                   (src_info.get("path") or src_info.get("name"))),
          "source": src_info or {"kind": "generated"},
          "seed": cfg.seed, "peers": cfg.peers,
          "families": {fd.name: dict(fd.source, notes=fd.notes) for fd in fams.values()},
          "skipped_families": [f"IPv{f}: no rows in the data" for f in skipped]}
    return fams, ds


# ===========================================================================
# 4. timing helpers and results
# ===========================================================================
@dataclass
class Measurement:
    """One (suite, family, case, implementation): all repeats."""

    suite: str
    family: str
    case: str
    impl: str
    ops: int
    unit: str
    seconds: list = field(default_factory=list)
    user_seconds: list = field(default_factory=list)    # CPU time of each repeat, in user
    sys_seconds: list = field(default_factory=list)     # ... and in kernel mode
    minor_faults: list = field(default_factory=list)    # page faults of each repeat
    baseline: bool = False           # a baseline (not rtmcore)
    bytes_per: float | None = None   # memory per unit, where it applies
    extra: dict = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def ns_per_op(self, s: float | None = None) -> float:
        return (self.median if s is None else s) / max(1, self.ops) * 1e9

    def ops_per_s(self) -> float:
        return self.ops / self.median if self.median > 0 else float("inf")

    def kernel_share(self) -> float | None:
        """Share of the CPU time spent in the kernel (page faults, clearing
        fresh memory) over the repeats; None when too little was measured."""
        cpu = sum(self.user_seconds) + sum(self.sys_seconds)
        return sum(self.sys_seconds) / cpu if cpu >= 0.005 else None

    def to_json(self) -> dict:
        return {"suite": self.suite, "family": self.family, "case": self.case,
                "impl": self.impl, "baseline": self.baseline, "ops": self.ops, "unit": self.unit,
                "repeats": len(self.seconds), "seconds": self.seconds,
                "median_seconds": self.median, "ns_per_op": self.ns_per_op(),
                "ns_per_op_repeats": [self.ns_per_op(s) for s in self.seconds],
                "user_seconds": self.user_seconds, "sys_seconds": self.sys_seconds,
                "minor_faults": self.minor_faults,
                "ops_per_second": self.ops_per_s(), "bytes_per_unit": self.bytes_per,
                **({"extra": self.extra} if self.extra else {})}


@dataclass
class MemoryMeasurement:
    """Bytes held by a structure: RSS growth and, where known, allocated bytes."""

    suite: str
    family: str
    case: str
    impl: str
    count: int
    unit: str
    rss_bytes: int
    allocated_bytes: int | None = None
    baseline: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def per_unit(self) -> float:
        return self.rss_bytes / max(1, self.count)

    def to_json(self) -> dict:
        return {"suite": self.suite, "family": self.family, "case": self.case,
                "impl": self.impl, "baseline": self.baseline, "count": self.count,
                "unit": self.unit, "rss_bytes": self.rss_bytes,
                "rss_bytes_per_unit": self.per_unit, "allocated_bytes": self.allocated_bytes,
                "allocated_bytes_per_unit": (self.allocated_bytes / max(1, self.count)
                                             if self.allocated_bytes is not None else None),
                **({"extra": self.extra} if self.extra else {})}


@dataclass
class SuiteResult:
    name: str
    title: str = ""
    measurements: list = field(default_factory=list)
    checks: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict:
        return {"title": self.title, "seconds": round(self.seconds, 3),
                "measurements": [m.to_json() for m in self.measurements],
                "checks": self.checks, "notes": self.notes}


class Context:
    """State shared by the suites of one run."""

    def __init__(self, cfg: Config, data: dict, progress: Progress):
        self.cfg = cfg
        self.data = data
        self.progress = progress
        self.results: dict[str, SuiteResult] = {}
        # states made by the timed loads of the load suite, reused (untouched) as
        # the starting states of later suites instead of loading again
        self.pool: dict[int, list] = {}               # managers holding fd.views
        self.rib_pool: dict[int, list] = {}           # dict RIBs holding fd.views
        self.baselines = {b: (baseline_module(b) if b in _BASELINE_MODULES else True)
                          for b in cfg.compare}
        self.available = [b for b in cfg.compare if self.baselines[b]]

    def suite(self, name: str) -> SuiteResult:
        return self.results.setdefault(name, SuiteResult(name))

    def check(self, suite: str, name: str, ok: bool, detail: str = "") -> bool:
        self.suite(suite).checks.append({"name": name, "ok": bool(ok), "detail": detail})
        if not ok:
            self.progress.say(f"  CHECK FAILED [{suite}] {name}: {detail}")
        return ok

    def has(self, baseline: str) -> bool:
        return baseline in self.available

    def mod(self, baseline: str):
        return self.baselines.get(baseline)

    def take_loaded(self, fd: FamilyData, routes: Routes, label: str) -> Loaded:
        """A fresh manager holding ``routes``: one left by the load suite, else
        loaded now (untimed)."""
        pool = self.pool.get(fd.family)
        if routes is fd.views and pool:
            return pool.pop()
        return BulkLoad(fd, routes, self.cfg.chunks).fresh(self, label)

    def take_rib(self, fd: FamilyData, routes: Routes) -> PyRib:
        """A fresh dict RIB holding ``routes`` (the last pooled one is kept as
        the template that later requests copy)."""
        pool = self.rib_pool.setdefault(fd.family, []) if routes is fd.views else []
        if len(pool) > 1:
            return pool.pop()
        if not pool:
            with self.progress.task(f"{fd.name}: building the Python RIB (untimed)"):
                rib = PyRib()
                gc.disable()
                try:
                    rib.load(*pyrib_columns(fd, routes))
                finally:
                    gc.enable()
            if routes is not fd.views:
                return rib
            pool.append(rib)
        with self.progress.task(f"{fd.name}: copying the Python RIB (untimed)"):
            return pool[0].copy()


def chunk_bounds(n: int, chunks: int) -> list[tuple[int, int]]:
    chunks = max(1, min(chunks, n))
    edges = np.linspace(0, n, chunks + 1).astype(np.int64)
    return [(int(a), int(b)) for a, b in itertools.pairwise(edges) if b > a]


def timed_chunks(bounds: list, body: Callable[[int, int], Any], task: _Task | None) -> float:
    """Run ``body(lo, hi)`` for each chunk; the summed time of the bodies (the
    progress updates between chunks are not timed)."""
    el = 0.0
    pc = time.perf_counter
    for lo, hi in bounds:
        t0 = pc()
        body(lo, hi)
        el += pc() - t0
        if task is not None:
            task.update(hi)
    return el


def timed_first_query(ent, family: int) -> float:
    """Time one longest-match query.  rtmcore links the destinations added
    since the last query into its trie at the first query that needs it, so
    a timed add ends with this call: the time is that of a table ready for
    queries, as a prefix trie is after its inserts."""
    t0 = time.perf_counter()
    ent.search_best("0.0.0.0" if family == 4 else "::")
    return time.perf_counter() - t0


def timed_adds(bounds: list, body: Callable[[int, int], Any], task: _Task | None, ent,
               family: int) -> float:
    """:func:`timed_chunks` of adds into ``ent``, then :func:`timed_first_query`."""
    return timed_chunks(bounds, body, task) + timed_first_query(ent, family)


def measure(ctx: Context, suite: str, family: str, case: str, impl: str, ops: int,
            run: Callable[[Any, _Task], float], setup: Callable[[], Any] | None = None,
            check: Callable[[Any, int], None] | None = None, unit: str = "op",
            baseline: bool = False, repeat: int | None = None,
            keep: Callable[[Any, int], None] | None = None, **extra) -> Measurement:
    """Time ``run(state, task)`` up to ``repeat`` times, each on a fresh ``setup()``.

    ``run`` returns its own elapsed seconds (see :func:`timed_chunks`).
    ``check(state, r)`` runs after each timed run, then ``keep(state, r)`` (to
    hand the state to a later suite).  The GC is disabled while ``run`` runs.
    A case stops repeating once its timed runs add up to ``cfg.budget``
    seconds (0: no budget).
    """
    repeat = repeat or ctx.cfg.repeat
    assert repeat is not None           # ctx.cfg is a resolved Config
    budget = ctx.cfg.budget or 0.0
    m = Measurement(suite, family, case, impl, int(ops), unit, baseline=baseline, extra=extra)
    for r in range(repeat):
        state = None
        if setup is not None:
            with ctx.progress.task(f"{suite} {family}: setup for {impl}"):
                state = setup()
        gc.collect()
        label = f"{suite} {family}: {impl}" + (f" [{r + 1}/{repeat}]" if repeat > 1 else "")
        with ctx.progress.task(label, ops) as task:
            gc.disable()
            r0 = resource.getrusage(resource.RUSAGE_SELF)
            try:
                el = run(state, task)
            finally:
                r1 = resource.getrusage(resource.RUSAGE_SELF)
                gc.enable()
        m.seconds.append(float(el))
        m.user_seconds.append(r1.ru_utime - r0.ru_utime)
        m.sys_seconds.append(r1.ru_stime - r0.ru_stime)
        m.minor_faults.append(r1.ru_minflt - r0.ru_minflt)
        if check is not None:
            check(state, r)
        if keep is not None:
            keep(state, r)
        del state
        gc.collect()                # the table goes before the next one is built
        if budget and sum(m.seconds) >= budget:
            break
    m.extra["repeats_requested"] = repeat
    ctx.suite(suite).measurements.append(m)
    return m


# ===========================================================================
# 5. building blocks: rtmcore managers and the Python RIB baseline
# ===========================================================================
@dataclass
class Loaded:
    """A manager with one BGP entity of a family and its next-hop handles."""

    rtm: Any
    ent: Any
    nh: np.ndarray          # next-hop handle per FamilyData.next_hops entry (uint64)
    family: int
    not_found: int = 0      # withdrawals that found no route (set by the replays)


def new_manager(fd: FamilyData) -> Loaded:
    rtm = rtmcore.RoutingTableManager()
    af = rtmcore.AF_INET if fd.family == 4 else rtmcore.AF_INET6
    ent = rtm.register_entity(rtmcore.PROTO_IP_BGP, address_family=af)
    nh = np.array([ent.add_next_hop(a)[0] for a in fd.next_hops], np.uint64)
    return Loaded(rtm, ent, nh, fd.family)


class BulkLoad:
    """The arrays of a bulk load of ``routes`` (prepared outside timing)."""

    def __init__(self, fd: FamilyData, routes: Routes, chunks: int):
        self.fd, self.routes = fd, routes
        addr = fd.addresses()
        self.addr = addr[routes.pidx]
        self.len = fd.lengths()[routes.pidx]
        self.bounds = chunk_bounds(len(routes), chunks)

    def run(self, ld: Loaded, task: _Task | None) -> float:
        ent, r = ld.ent, self.routes
        nbr = ld.nh[self.fd.peer_nh[r.peer]]
        nh = ld.nh[r.nh]
        addr, ln, met, pref = self.addr, self.len, r.metric, r.pref
        add = ent.add_routes

        def body(lo, hi):
            add(addr[lo:hi], ln[lo:hi], neighbour=nbr[lo:hi], next_hop=nh[lo:hi],
                metric=met[lo:hi], preference=pref[lo:hi])
        return timed_adds(self.bounds, body, task, ent, self.fd.family)

    def fresh(self, ctx: Context, label: str = "") -> Loaded:
        ld = new_manager(self.fd)
        with ctx.progress.task(label or f"loading {len(self.routes):,} routes", len(self.routes)) \
                as task:
            self.run(ld, task)
        return ld


def _cost_of(item):
    return item[1][0]


class PyRib:
    """The dict baseline: a RIB in plain Python.

    ``rib[prefix] = {peer: (cost, next_hop)}`` (the Adj-RIB-In) and
    ``best[prefix] = (cost, next_hop, peer)`` (the Loc-RIB); cost is
    ``preference << 32 | metric``, lower wins, ties keep the earlier route.
    With ``loc_set`` / ``loc_del`` the best next hop of every prefix is also
    kept in a longest-match structure (pytricia or py-radix).
    """

    def __init__(self, rib=None, best=None, loc_set=None, loc_del=None):
        self.rib = {} if rib is None else rib
        self.best = {} if best is None else best
        self.loc_set, self.loc_del = loc_set, loc_del

    def copy(self) -> PyRib:
        return PyRib({k: d.copy() for k, d in self.rib.items()}, self.best.copy())

    def load(self, keys, peers, costs, nhs) -> None:
        """Announce routes that are new (the initial load)."""
        rib, best = self.rib, self.best
        for k, p, c, h in zip(keys, peers, costs, nhs):
            d = rib.get(k)
            if d is None:
                rib[k] = {p: (c, h)}
                best[k] = (c, h, p)
            else:
                d[p] = (c, h)
                if c < best[k][0]:
                    best[k] = (c, h, p)

    def replay(self, keys, anns, peers, costs, nhs) -> None:
        """Apply announce / withdraw events."""
        rib, best, loc_set, loc_del = self.rib, self.best, self.loc_set, self.loc_del
        for k, a, p, c, h in zip(keys, anns, peers, costs, nhs):
            if a:
                d = rib.get(k)
                if d is None:
                    rib[k] = {p: (c, h)}
                    best[k] = (c, h, p)
                    if loc_set is not None:
                        loc_set(k, h)
                    continue
                d[p] = (c, h)
                b = best[k]
                if c < b[0] or (b[2] == p and c == b[0]):
                    best[k] = (c, h, p)
                    if loc_set is not None and h != b[1]:
                        loc_set(k, h)
                elif b[2] == p:                  # the best route got worse: re-select
                    q, (c2, h2) = min(d.items(), key=_cost_of)
                    best[k] = (c2, h2, q)
                    if loc_set is not None and h2 != b[1]:
                        loc_set(k, h2)
            else:
                d = rib[k]
                del d[p]
                if not d:
                    del rib[k]
                    del best[k]
                    if loc_del is not None:
                        loc_del(k)
                elif best[k][2] == p:
                    b = best[k]
                    q, (c2, h2) = min(d.items(), key=_cost_of)
                    best[k] = (c2, h2, q)
                    if loc_set is not None and h2 != b[1]:
                        loc_set(k, h2)

    def n_routes(self) -> int:
        return sum(len(d) for d in self.rib.values())


def pyrib_columns(fd: FamilyData, routes: Routes) -> tuple:
    """Per-row Python lists (prefix string, peer, cost, next hop) for PyRib."""
    strs = fd.strings()
    keys = [strs[i] for i in routes.pidx.tolist()]
    return keys, routes.peer.tolist(), routes.cost.tolist(), routes.nh.tolist()


def trie_store(name: str, mod, family: int):
    """An empty pytricia / py-radix table and its (set, delete) functions."""
    if name == "pytricia":
        t = mod.PyTricia(32 if family == 4 else 128)
        return t, t.__setitem__, t.__delitem__
    t = mod.Radix()

    def rset(k, h, add=t.add):
        add(k).data["nh"] = h
    return t, rset, t.delete


def build_trie(name: str, mod, family: int, items: Iterable[tuple[str, int]]):
    t, tset, _ = trie_store(name, mod, family)
    for k, h in items:
        tset(k, h)
    return t


# ===========================================================================
# 6. scenarios: one function per suite
# ===========================================================================
def _sample_rows(n: int, size: int, seed: int, salt: int) -> np.ndarray:
    rng = np.random.default_rng([seed, salt])
    return np.sort(rng.choice(n, size=min(size, n), replace=False)) if n else np.zeros(0, int)


def _check_best(ctx: Context, suite: str, fd: FamilyData, ld: Loaded, routes_or_best,
                label: str, size: int = 2000) -> None:
    """Best route (preference, metric) of sampled prefixes equals the minimum
    computed with NumPy; prefixes without routes are absent."""
    best = routes_or_best if isinstance(routes_or_best, np.ndarray) \
        else fd.best_cost(routes_or_best)
    keys = fd.keys()
    bad, absent_bad = 0, 0
    rows = _sample_rows(fd.n, size, ctx.cfg.seed, 0xB5)
    none = np.iinfo(np.int64).max
    for i in rows.tolist():
        rs = ld.ent.routes(keys[i])
        if best[i] == none:
            absent_bad += bool(rs)
            continue
        if not rs or ((rs[0].preference << 32) | rs[0].metric) != int(best[i]):
            bad += 1
    ctx.check(suite, f"{fd.name} {label}: best routes of {len(rows):,} sampled prefixes",
              bad == 0 and absent_bad == 0,
              f"{bad} wrong best routes, {absent_bad} prefixes that should have no route")


def suite_load(ctx: Context) -> None:
    """K peers' views bulk-loaded into a fresh manager (best routes computed)."""
    res = ctx.suite("load")
    res.title = f"load: {ctx.cfg.peers} peers' views into an empty manager, best routes computed"
    res.notes.append("rtmcore: Entity.add_routes (NumPy columns, per-row neighbour / next-hop "
                     f"handles) in {ctx.cfg.chunks} chunks, then one timed search_best (it links "
                     "the trie, see `add`); dict: a Python RIB "
                     "({prefix: {peer: (cost, next hop)}} + best per prefix) fed row by row")
    res.notes.append("pytricia / py-radix keep one value per prefix, so they cannot hold K "
                     "peers' routes themselves: their insert rate is in `add`, a Python RIB "
                     "with a pytricia / py-radix Loc-RIB in `updates`")
    for fd in ctx.data.values():
        _load_family(ctx, fd)


def _load_family(ctx: Context, fd: FamilyData) -> None:
    v = fd.views
    n_dest = len(fd.present(v))
    bl = BulkLoad(fd, v, ctx.cfg.chunks)
    case = f"{fd.n_peers} peers, {len(v):,} routes"
    pool_managers = bool({"lookup", "updates"} & set(ctx.cfg.suites))

    def check(ld, r):
        c = ld.rtm.counts(fd.family)
        ctx.check("load", f"{fd.name} counts after load [{r + 1}]", c == (n_dest, len(v)),
                  f"(dests, routes) = {c}, expected {(n_dest, len(v))}")

    def keep(ld, r):
        if r == 0:
            _check_best(ctx, "load", fd, ld, v, "after load")
        if pool_managers:
            ctx.pool.setdefault(fd.family, []).append(ld)
    measure(ctx, "load", fd.name, case, "rtmcore add_routes (bulk)", len(v), bl.run,
            setup=lambda: new_manager(fd), check=check, keep=keep, unit="route",
            prefixes=n_dest)
    if not ctx.has("dict"):
        return
    keys, peers, costs, nhs = pyrib_columns(fd, v)
    bounds = chunk_bounds(len(v), ctx.cfg.chunks)

    def prun(rib, task):
        return timed_chunks(bounds, lambda lo, hi: rib.load(
            keys[lo:hi], peers[lo:hi], costs[lo:hi], nhs[lo:hi]), task)

    def pcheck(rib, r):
        c = (len(rib.best), rib.n_routes())
        ctx.check("load", f"{fd.name} dict RIB counts [{r + 1}]", c == (n_dest, len(v)),
                  f"{c}, expected {(n_dest, len(v))}")

    def pkeep(rib, r):
        if "updates" in ctx.cfg.suites:
            ctx.rib_pool.setdefault(fd.family, []).append(rib)
    measure(ctx, "load", fd.name, case, "dict RIB (Python)", len(v), prun,
            setup=PyRib, check=pcheck, keep=pkeep, unit="route", baseline=True)


def suite_add(ctx: Context) -> None:
    """The whole table into an empty table, one peer: bulk and per call."""
    res = ctx.suite("add")
    res.title = "add: the whole table into an empty table (one peer, one next hop)"
    res.notes.append("per call: add_route_to_dest(key, neighbour=nh, next_hops=nh, metric=1); "
                     "NetAddress keys are parsed before timing, strings are parsed in the call")
    res.notes.append("bulk (strings): add_routes on a list of prefix strings (parsing "
                     "included); bulk (arrays): add_routes on uint32 / (N, 2) uint64 columns")
    res.notes.append("every rtmcore case ends with one search_best, timed: new destinations "
                     "are linked into the trie at the first query that needs it, so the "
                     "time is that of a table ready for longest-match queries")
    res.notes.append("baselines insert the same prefix strings: pytricia t[s] = nh, "
                     "py-radix t.add(s).data['nh'] = nh, dict d[s] = nh (exact match only)")
    for fd in ctx.data.values():
        _add_case(ctx, fd, "file order", None)
        _add_case(ctx, fd, "shuffled", fd.shuffled_order(ctx.cfg.seed))


def _add_case(ctx: Context, fd: FamilyData, order_name: str, order) -> None:
    n = fd.n
    bounds = chunk_bounds(n, ctx.cfg.chunks)
    addr, ln = fd.addresses(), fd.lengths()
    strs, keys = fd.strings(), fd.keys()
    if order is not None:
        addr, ln = addr[order], ln[order]
        ol = order.tolist()
        strs = [strs[i] for i in ol]
        keys = [keys[i] for i in ol]
    case = f"{n:,} prefixes, {order_name}"

    def check(ld, r):
        if r == 0:
            c = ld.rtm.counts(fd.family)
            ctx.check("add", f"{fd.name} {case}: counts", c == (n, n), f"{c}, expected {(n, n)}")

    def bulk_arrays(ld, task):
        ent, nh = ld.ent, ld.nh[fd.peer_nh[0]]
        return timed_adds(bounds, lambda lo, hi: ent.add_routes(
            addr[lo:hi], ln[lo:hi], neighbour=nh, next_hop=nh, metric=1), task, ent, fd.family)

    def bulk_strings(ld, task):
        ent, nh = ld.ent, ld.nh[fd.peer_nh[0]]
        return timed_adds(bounds, lambda lo, hi: ent.add_routes(
            strs[lo:hi], neighbour=nh, next_hop=nh, metric=1), task, ent, fd.family)

    def per_call(items):
        def run(ld, task):
            add, nh = ld.ent.add_route_to_dest, int(ld.nh[fd.peer_nh[0]])

            def body(lo, hi):
                for k in items[lo:hi]:
                    add(k, neighbour=nh, next_hops=nh, metric=1)
            return timed_adds(bounds, body, task, ld.ent, fd.family)
        return run

    def setup():
        return new_manager(fd)
    for impl, run in (("rtmcore add_routes (bulk, arrays)", bulk_arrays),
                      ("rtmcore add_routes (bulk, strings)", bulk_strings),
                      ("rtmcore add_route_to_dest (per call, str)", per_call(strs)),
                      ("rtmcore add_route_to_dest (per call, NetAddress)", per_call(keys))):
        measure(ctx, "add", fd.name, case, impl, n, run, setup=setup, check=check, unit="route")
    for b in ("pytricia", "radix"):
        if ctx.has(b):
            _add_trie(ctx, fd, case, b, strs, bounds)
    if ctx.has("dict"):
        def drun(d, task):
            def body(lo, hi):
                for s in strs[lo:hi]:
                    d[s] = 1
            return timed_chunks(bounds, body, task)
        measure(ctx, "add", fd.name, case, "dict (per call, str; exact match only)", n, drun,
                setup=dict, unit="route", baseline=True)


def _add_trie(ctx: Context, fd: FamilyData, case: str, b: str, strs: list, bounds) -> None:
    n = len(strs)

    def run(t, task):
        tset = t[1]

        def body(lo, hi):
            for s in strs[lo:hi]:
                tset(s, 1)
        return timed_chunks(bounds, body, task)

    def check(t, r):
        if r == 0:
            size = len(t[0]) if b == "pytricia" else len(t[0].prefixes())
            ctx.check("add", f"{fd.name} {case}: {b} size", size == n, f"{size}, expected {n}")
    measure(ctx, "add", fd.name, case, f"{_DISPLAY[b]} (per call, str)", n, run,
            setup=lambda: trie_store(b, ctx.mod(b), fd.family), check=check, unit="route",
            baseline=True)


def suite_lookup(ctx: Context) -> None:
    """Longest match (batch and per call) and exact match on the loaded table."""
    res = ctx.suite("lookup")
    res.title = "lookup: longest match of random addresses and exact match, on the loaded table"
    res.notes.append("batch: Entity.lookup on all addresses (lookup index: DIR-24-8 for IPv4, "
                     "a 16-8-...-8 multibit trie for IPv6; built by the first call and timed "
                     "separately); per call: the first "
                     f"{ctx.cfg.sample:,} of the same addresses as strings (or pre-parsed "
                     "NetAddress), one call each")
    res.notes.append("baselines hold the same prefixes (those with a route) with their best "
                     "next hop; per call: pytricia t.get(a), py-radix t.search_best(a); exact "
                     "match: dict.get(s), pytricia t.has_key(s), py-radix t.search_exact(s), "
                     "rtmcore search_exact")
    for fd in ctx.data.values():
        _lookup_family(ctx, fd)


def _calls(fn, items: list, bounds) -> Callable:
    """A ``run`` function calling ``fn(item)`` once per item."""
    def run(_state, task):
        def body(lo, hi):
            for a in items[lo:hi]:
                fn(a)
        return timed_chunks(bounds, body, task)
    return run


def _lookup_family(ctx: Context, fd: FamilyData) -> None:
    cfg, res = ctx.cfg, ctx.suite("lookup")
    ld = ctx.take_loaded(fd, fd.views,
                         f"lookup {fd.name}: loading {len(fd.views):,} routes (untimed)")
    ent = ld.ent
    addrs = fd.lookup_addrs
    nl = len(addrs)
    # ---- batch: the first call (IPv4: builds the index), then the steady state
    first_result = []

    def first(_s, task):
        t0 = time.perf_counter()
        first_result.append(ent.lookup(addrs))
        return time.perf_counter() - t0
    idx0 = ld.rtm.memory()["lookup_index"]
    case = f"batch LPM, {nl:,} addresses"
    mf = measure(ctx, "lookup", fd.name, case, "rtmcore lookup, first call"
                 + (" (builds index)" if fd.family == 4 else ""), nl, first, repeat=1,
                 unit="lookup")
    mf.extra["index_bytes_built"] = ld.rtm.memory()["lookup_index"] - idx0
    bounds = chunk_bounds(nl, cfg.chunks)
    m = measure(ctx, "lookup", fd.name, case, f"rtmcore lookup (batches of {bounds[0][1]:,})",
                nl, lambda _s, task: timed_chunks(bounds, lambda lo, hi: ent.lookup(
                    addrs[lo:hi]), task), unit="lookup")
    r = first_result[0]
    m.extra["hit_rate"] = float((r.length >= 0).mean()) if nl else 0.0
    res.notes.append(f"{fd.name}: {fd.lookup_desc}; {m.extra['hit_rate'] * 100:.1f} % match "
                     "a prefix")
    # ---- per call, on the first `sample` addresses
    assert cfg.sample is not None       # a resolved Config
    ns = min(cfg.sample, nl)
    astr = fd.lookup_strings(ns)
    if fd.family == 4:
        akeys = [rtmcore.NetAddress((a, 32), 4) for a in addrs[:ns].tolist()]
    else:
        akeys = [rtmcore.NetAddress(((h << 64) | lo, 128), 6) for h, lo in addrs[:ns].tolist()]
    pb = chunk_bounds(ns, cfg.chunks)
    case = f"per-call LPM, {ns:,} addresses"
    # the batch time per address in this group too, for its ratio to the baselines
    measure(ctx, "lookup", fd.name, case, "rtmcore lookup (one batch, same addresses)", ns,
            lambda _s, task: timed_chunks([(0, ns)], lambda lo, hi: ent.lookup(addrs[lo:hi]),
                                          task), unit="lookup")
    measure(ctx, "lookup", fd.name, case, "rtmcore search_best (per call, str)", ns,
            _calls(ent.search_best, astr, pb), unit="lookup")
    measure(ctx, "lookup", fd.name, case, "rtmcore search_best (per call, NetAddress)", ns,
            _calls(ent.search_best, akeys, pb), unit="lookup")
    present = fd.present(fd.views)
    strs = fd.strings()
    tries = {}
    for b in ("pytricia", "radix"):
        if not ctx.has(b):
            continue
        with ctx.progress.task(f"lookup {fd.name}: building the {_DISPLAY[b]} table (untimed)"):
            tries[b] = build_trie(b, ctx.mod(b), fd.family,
                                  ((strs[i], 1) for i in present.tolist()))
        fn = tries[b].get if b == "pytricia" else tries[b].search_best
        measure(ctx, "lookup", fd.name, case, f"{_DISPLAY[b]} (per call, str)", ns,
                _calls(fn, astr, pb), unit="lookup", baseline=True)
    _check_lookups(ctx, fd, ent, r, akeys, astr, tries)
    # ---- exact match of sampled table prefixes
    es = _sample_rows(fd.n, ns, cfg.seed, 0xE7).tolist()
    ex_str = [strs[i] for i in es]
    keys = fd.keys()
    ex_keys = [keys[i] for i in es]
    eb = chunk_bounds(len(es), cfg.chunks)
    case = f"exact match, {len(es):,} table prefixes"
    measure(ctx, "lookup", fd.name, case, "rtmcore search_exact (per call, str)", len(es),
            _calls(ent.search_exact, ex_str, eb), unit="lookup")
    measure(ctx, "lookup", fd.name, case, "rtmcore search_exact (per call, NetAddress)",
            len(es), _calls(ent.search_exact, ex_keys, eb), unit="lookup")
    for b, t in tries.items():
        fn = t.has_key if b == "pytricia" else t.search_exact
        measure(ctx, "lookup", fd.name, case, f"{_DISPLAY[b]} (per call, str)", len(es),
                _calls(fn, ex_str, eb), unit="lookup", baseline=True)
    miss = None
    if ctx.has("dict"):
        d = {strs[i]: 1 for i in present.tolist()}
        measure(ctx, "lookup", fd.name, case, "dict.get (per call, str)", len(es),
                _calls(d.get, ex_str, eb), unit="lookup", baseline=True)
        miss = sum(1 for s in ex_str if s not in d)
    found = sum(1 for k in ex_keys if ent.search_exact(k) is not None)
    exp_found = int((fd.best_cost(fd.views)[es] != np.iinfo(np.int64).max).sum())
    ctx.check("lookup", f"{fd.name}: exact match finds the {exp_found:,} sampled prefixes "
              "that have routes",
              found == exp_found and (miss is None or miss == len(es) - exp_found),
              f"rtmcore found {found:,}" + ("" if miss is None else f", dict missed {miss:,}"))


def _check_lookups(ctx: Context, fd: FamilyData, ent, r, akeys: list, astr: list,
                   tries: dict) -> None:
    """Batch lookup == per-call search_best == baselines on a sample."""
    chk = _sample_rows(len(akeys), 2000, ctx.cfg.seed, 0x1C).tolist()
    want_len = r.length[chk].astype(int).tolist()
    if fd.family == 4:
        want_pfx = r.prefix[chk].tolist()
    else:
        want_pfx = [(int(h) << 64) | int(lo) for h, lo in r.prefix[chk].tolist()]
    want = [(ln, p if ln >= 0 else 0) for ln, p in zip(want_len, want_pfx)]
    bad = 0
    for j, i in enumerate(chk):
        di = ent.search_best(akeys[i])
        got = (-1, 0) if di is None else (di.dest_address.plen, di.dest_address.value)
        bad += got != want[j]
    ctx.check("lookup", f"{fd.name}: batch lookup == search_best on {len(chk):,} addresses",
              bad == 0, f"{bad} differ")
    for b, t in tries.items():
        bad = 0
        for j, i in enumerate(chk):
            if b == "pytricia":
                k = t.get_key(astr[i])
            else:
                node = t.search_best(astr[i])
                k = None if node is None else node.prefix
            if k is None:
                bad += want[j][0] != -1
            else:
                na = rtmcore.NetAddress(k, fd.family)
                bad += (na.plen, na.value) != want[j]
        ctx.check("lookup", f"{fd.name}: batch lookup == {_DISPLAY[b]} on {len(chk):,} "
                  "addresses", bad == 0, f"{bad} differ")


def expected_after_stream(fd: FamilyData) -> tuple[np.ndarray, int, int]:
    """(best cost per prefix, destinations, routes) after replaying the stream
    on its initial state, computed with NumPy."""
    init, st = fd.stream_views, fd.stream
    assert st.announce is not None      # an update stream has its announce flags
    n = max(1, fd.n)
    k0 = init.peer * n + init.pidx
    ks = st.peer * n + st.pidx
    # the last event of each (peer, prefix) pair decides
    rev_u, rev_i = np.unique(ks[::-1], return_index=True)
    last = len(ks) - 1 - rev_i
    keep0 = ~np.isin(k0, rev_u)
    ann = st.announce[last]
    pidx = np.concatenate([init.pidx[keep0], st.pidx[last][ann]])
    cost = np.concatenate([init.cost[keep0], st.cost[last][ann]])
    best = np.full(fd.n, np.iinfo(np.int64).max, np.int64)
    np.minimum.at(best, pidx, cost)
    return best, len(np.unique(pidx)), len(pidx)


def _runs(ann: np.ndarray) -> np.ndarray:
    """Boundaries of maximal runs of equal ``ann`` values."""
    ch = np.flatnonzero(ann[1:] != ann[:-1]) + 1
    return np.concatenate([[0], ch, [len(ann)]]).astype(np.int64)


def suite_updates(ctx: Context) -> None:
    """Replay of the update stream: per call, in bulk runs, and the baselines."""
    res = ctx.suite("updates")
    res.title = "updates: announce / withdraw stream replayed on the peers' loaded views"
    res.notes.append("per call: announce = add_route_to_dest(NetAddress, neighbour=peer, "
                     "next_hops=nh, metric, preference) (updates the peer's route or adds "
                     "one); withdraw = get_exact_match_route(prefix, RTM_MATCH_NEIGHBOUR) + "
                     "release_route_info + delete_route_to_dest (the handle is found per call, "
                     "not kept from the load)")
    res.notes.append("bulk: add_routes / delete_routes on each maximal run of consecutive "
                     "announces or withdraws")
    res.notes.append("baselines: a Python RIB ({prefix: {peer: route}} + best per prefix, "
                     "re-selected when the best route changes); pytricia / py-radix also keep "
                     "the best next hop of every prefix for longest match; dict keeps none")
    for fd in ctx.data.values():
        _updates_family(ctx, fd)
        ctx.pool.pop(fd.family, None)
        ctx.rib_pool.pop(fd.family, None)


class _Replay:
    """Per-event inputs of one family's stream (prepared outside timing)."""

    def __init__(self, ctx: Context, fd: FamilyData):
        st = self.st = fd.stream
        assert st.announce is not None      # an update stream has its announce flags
        self.fd, self.n = fd, len(st)
        self.bounds = chunk_bounds(self.n, ctx.cfg.chunks)
        keys = fd.keys()
        self.keys = [keys[i] for i in st.pidx.tolist()]
        self.ann = st.announce.tolist()
        self.peer = st.peer.tolist()
        self.metric = st.metric.tolist()
        self.pref = st.pref.tolist()
        self.edges = _runs(st.announce)
        self.n_runs = len(self.edges) - 1
        self.addr = fd.addresses()[st.pidx]
        self.len = fd.lengths()[st.pidx]

    def per_call(self, ld: Loaded, task) -> float:
        fd, st = self.fd, self.st
        ent = ld.ent
        add, find = ent.add_route_to_dest, ent.get_exact_match_route
        release, delete = ent.release_route_info, ent.delete_route_to_dest
        match, not_found_exc = rtmcore.RTM_MATCH_NEIGHBOUR, rtmcore.NotFound
        nbr = [int(h) for h in ld.nh[fd.peer_nh]]
        ri = [rtmcore.RouteInfo(neighbour=h) for h in nbr]
        keys, ann, peer, nh = self.keys, self.ann, self.peer, ld.nh[st.nh].tolist()
        metric, pref = self.metric, self.pref
        ld.not_found = 0

        def body(lo, hi):
            nf = 0
            for k, a, p, h, m, pr in zip(keys[lo:hi], ann[lo:hi], peer[lo:hi], nh[lo:hi],
                                          metric[lo:hi], pref[lo:hi]):
                if a:
                    add(k, neighbour=nbr[p], next_hops=h, metric=m, preference=pr)
                else:
                    try:
                        info, rh = find(k, match, ri[p])
                    except not_found_exc:
                        nf += 1
                        continue
                    release(info)
                    delete(rh)
            ld.not_found += nf
        return timed_chunks(self.bounds, body, task)

    def bulk(self, ld: Loaded, task) -> float:
        fd, st = self.fd, self.st
        assert st.announce is not None
        ent = ld.ent
        nbr, nh = ld.nh[fd.peer_nh[st.peer]], ld.nh[st.nh]
        met, pref, addr, ln = st.metric, st.pref, self.addr, self.len
        add, dele = ent.add_routes, ent.delete_routes
        outs: list = []
        e = self.edges.tolist()
        announce = [bool(st.announce[s]) for s in e[:-1]]

        def body(lo, hi):
            for j in range(lo, hi):
                s, t = e[j], e[j + 1]
                if announce[j]:
                    add(addr[s:t], ln[s:t], neighbour=nbr[s:t], next_hop=nh[s:t],
                        metric=met[s:t], preference=pref[s:t])
                else:
                    outs.append(dele(addr[s:t], ln[s:t], neighbour=nbr[s:t]))
        el = timed_chunks(chunk_bounds(self.n_runs, len(self.bounds)), body, task)
        ld.not_found = sum(int(((o & rtmcore.DELETE_NOT_FOUND) != 0).sum()) for o in outs)
        return el


def _updates_family(ctx: Context, fd: FamilyData) -> None:
    res = ctx.suite("updates")
    rp = _Replay(ctx, fd)
    ne = rp.n
    assert fd.stream.announce is not None
    case = f"{ne:,} events, {int(fd.stream.announce.sum()):,} announces"
    best_exp, nd, nr = expected_after_stream(fd)
    final: dict = {}

    def setup():
        return ctx.take_loaded(fd, fd.stream_views, f"updates {fd.name}: loading the "
                               f"initial {len(fd.stream_views):,} routes (untimed)")

    def checker(label):
        def check(ld, r):
            c = ld.rtm.counts(fd.family)
            ctx.check("updates", f"{fd.name} {label}: counts after the stream [{r + 1}]",
                      c == (nd, nr), f"{c}, expected {(nd, nr)}")
            ctx.check("updates", f"{fd.name} {label}: every withdraw found its route "
                      f"[{r + 1}]", ld.not_found == 0, f"{ld.not_found} not found")
        return check

    def keeper(label):
        def keep(ld, r):
            final[label] = ld
        return keep
    measure(ctx, "updates", fd.name, case, "rtmcore per call (add / find + delete)", ne,
            rp.per_call, setup=setup, check=checker("per call"), keep=keeper("per call"),
            unit="event")
    measure(ctx, "updates", fd.name, case, "rtmcore bulk runs (add_routes / delete_routes)",
            ne, rp.bulk, setup=setup, check=checker("bulk"), keep=keeper("bulk"), unit="event",
            runs=rp.n_runs, mean_run=ne / max(1, rp.n_runs))
    res.notes.append(f"{fd.name}: {rp.n_runs:,} runs, {ne / max(1, rp.n_runs):.1f} events per "
                     "bulk call on average")
    for label, ld in final.items():
        _check_best(ctx, "updates", fd, ld, best_exp, f"{label}, final")
    if len(final) == 2:
        sa = fd.lookup_addrs[:20000]
        r1, r2 = final["per call"].ent.lookup(sa), final["bulk"].ent.lookup(sa)
        same = bool(np.array_equal(r1.length, r2.length) and np.array_equal(r1.prefix,
                                                                            r2.prefix))
        ctx.check("updates", f"{fd.name}: per call and bulk give the same longest matches "
                  f"({len(sa):,} addresses)", same)
    final.clear()
    if any(ctx.has(b) for b in ("dict", "pytricia", "radix")):
        strs = fd.strings()
        st = fd.stream
        cols = ([strs[i] for i in st.pidx.tolist()], rp.ann, rp.peer, st.cost.tolist(),
                st.nh.tolist())
        for b in ("dict", "pytricia", "radix"):
            if ctx.has(b):
                _updates_baseline(ctx, fd, b, case, rp.bounds, cols, best_exp, nd, nr)


def _updates_baseline(ctx: Context, fd: FamilyData, b: str, case: str, bounds, cols,
                      best_exp: np.ndarray, nd: int, nr: int) -> None:
    strs = fd.strings()
    keys, ann, peer, cost, nh = cols

    def setup():
        rib = ctx.take_rib(fd, fd.stream_views)
        if b != "dict":
            t, tset, tdel = trie_store(b, ctx.mod(b), fd.family)
            for k, v in rib.best.items():
                tset(k, v[1])
            rib.loc_set, rib.loc_del, rib.trie = tset, tdel, t
        return rib

    def run(rib, task):
        return timed_chunks(bounds, lambda lo, hi: rib.replay(
            keys[lo:hi], ann[lo:hi], peer[lo:hi], cost[lo:hi], nh[lo:hi]), task)

    def check(rib, r):
        c = (len(rib.best), rib.n_routes())
        ok = c == (nd, nr)
        if b != "dict":
            size = len(rib.trie) if b == "pytricia" else len(rib.trie.prefixes())
            ok = ok and size == nd
            c = (*c, size)
        ctx.check("updates", f"{fd.name} {_DISPLAY[b]} RIB: counts after the stream [{r + 1}]",
                  ok, f"{c}, expected {(nd, nr)}")
        if r == 0:
            rows = _sample_rows(fd.n, 2000, ctx.cfg.seed, 0xB6).tolist()
            none = np.iinfo(np.int64).max
            bad = sum(1 for i in rows
                      if (rib.best[strs[i]][0] if strs[i] in rib.best else none) != best_exp[i])
            ctx.check("updates", f"{fd.name} {_DISPLAY[b]} RIB: best routes of {len(rows):,} "
                      "sampled prefixes", bad == 0, f"{bad} differ")
    impl = {"dict": "dict RIB (Python, no longest match)",
            "pytricia": "pytricia RIB (Python RIB, pytricia Loc-RIB)",
            "radix": "py-radix RIB (Python RIB, py-radix Loc-RIB)"}[b]
    measure(ctx, "updates", fd.name, case, impl, len(keys), run, setup=setup, check=check,
            unit="event", baseline=True)


#: what a memory child process builds: (key, case kind, implementation, baseline)
MEMORY_TARGETS = (
    ("rtmcore-views", "views", "rtmcore (bulk load)", None),
    ("dict-rib", "views", "dict RIB (Python)", "dict"),
    ("rtmcore-table", "table", "rtmcore (bulk load)", None),
    ("pytricia", "table", "pytricia", "pytricia"),
    ("radix", "table", "py-radix", "radix"),
    ("dict", "table", "dict (exact match only)", "dict"),
)


def _one_table(fd: FamilyData, routes: Routes) -> Routes:
    """One route per prefix that has a route in ``routes`` (peer 0's next hop)."""
    present = fd.present(routes)
    n = len(present)
    return Routes(pidx=present, peer=np.zeros(n, np.int64),
                  nh=np.full(n, fd.peer_nh[0], np.int64), metric=np.ones(n, np.uint32),
                  pref=np.zeros(n, np.uint32))


def memory_child(spec_path: str, what: str) -> dict:
    """Build one structure in this (fresh) process and report its RSS growth.

    Run by :func:`suite_memory` as ``python -c ...`` so that no memory freed
    by earlier work is reused and hidden from the measurement.  The inputs are
    read from the ``.npz`` file named in the JSON spec and prepared before the
    first RSS reading; only the structure itself is built between the two.
    """
    with open(spec_path) as f:
        spec = json.load(f)
    z = np.load(spec["npz"])
    fam = int(spec["family"])
    n = len(z["len"])
    table = rtmcore.RouteColumns({"family": np.full(n, fam, np.uint8), "addr_hi": z["hi"],
                                  "addr_lo": z["lo"], "length": z["len"]})
    views = Routes(pidx=z["v_pidx"], peer=z["v_peer"], nh=z["v_nh"], metric=z["v_metric"],
                   pref=z["v_pref"])
    fd = FamilyData(family=fam, table=table, views=views, stream_views=views, stream=views,
                    next_hops=spec["next_hops"], peer_nh=z["peer_nh"],
                    n_peers=int(spec["n_peers"]), lookup_addrs=z["lookup"], lookup_desc="",
                    source={})
    out: dict[str, Any] = {"what": what}
    routes = views if what in ("rtmcore-views", "dict-rib") else _one_table(fd, views)
    out["count"] = len(routes)
    build: Callable[[], Any]
    if what.startswith("rtmcore"):
        bl = BulkLoad(fd, routes, int(spec["chunks"]))

        def build():
            ld = new_manager(fd)
            bl.run(ld, None)
            return ld
    elif what == "dict-rib":
        cols = pyrib_columns(fd, routes)

        def build():
            rib = PyRib()
            rib.load(*cols)
            return rib
    else:
        strs = fd.strings()
        items = [strs[i] for i in routes.pidx.tolist()]
        if what == "dict":
            def build():
                return {s: 1 for s in items}
        else:
            mod = baseline_module(what)

            def build():
                return build_trie(what, mod, fam, ((s, 1) for s in items))
    gc.collect()
    _trim_heap()
    r0 = rss_bytes()
    gc.disable()
    obj = build()
    gc.enable()
    gc.collect()
    _trim_heap()
    out["rss_bytes"] = rss_bytes() - r0
    if what.startswith("rtmcore"):
        out["allocated_bytes"] = obj.rtm.memory()["table"]
        out["counts"] = list(obj.rtm.counts(fam))
        if what == "rtmcore-views":
            r1 = rss_bytes()
            obj.ent.lookup(fd.lookup_addrs)
            out["index_rss_bytes"] = rss_bytes() - r1
            mem = obj.rtm.memory()
            out["index_allocated_bytes"] = mem["lookup_index"]
            out["index_table_growth_bytes"] = mem["table"] - out["allocated_bytes"]
    elif what == "dict-rib":
        out["counts"] = [len(obj.best), obj.n_routes()]
    else:
        out["counts"] = [len(obj) if what != "radix" else len(obj.prefixes())]
    return out


def write_memory_inputs(fd: FamilyData, directory: str, chunks: int = 20,
                        routes: Routes | None = None) -> str:
    """Write the inputs of :func:`memory_child` for ``fd`` (its views, or
    ``routes``) into ``directory``; returns the spec path."""
    v = fd.views if routes is None else routes
    npz = os.path.join(directory, f"{fd.name}-{id(v)}.npz")
    np.savez(npz, hi=fd.table["addr_hi"], lo=fd.table["addr_lo"], len=fd.table["length"],
             v_pidx=v.pidx, v_peer=v.peer, v_nh=v.nh, v_metric=v.metric, v_pref=v.pref,
             peer_nh=fd.peer_nh, lookup=fd.lookup_addrs[:1000])
    spec_path = npz[:-4] + ".json"
    with open(spec_path, "w") as f:
        json.dump({"npz": npz, "family": fd.family, "next_hops": fd.next_hops,
                   "n_peers": fd.n_peers, "chunks": chunks}, f)
    return spec_path


def memory_usage(fd: FamilyData, what: str, routes: Routes | None = None) -> dict:
    """RSS growth of one structure (a key of :data:`MEMORY_TARGETS`) built from
    ``fd``'s views (or ``routes``) in a fresh child process."""
    with tempfile.TemporaryDirectory(prefix="rtmcore-bench-") as tmp:
        return _run_memory_child(write_memory_inputs(fd, tmp, routes=routes), what)


def _run_memory_child(spec_path: str, what: str) -> dict:
    pkg_root = os.path.dirname(os.path.dirname(os.path.abspath(rtmcore.__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = pkg_root + (os.pathsep + env["PYTHONPATH"]
                                    if env.get("PYTHONPATH") else "")
    code = ("import json, sys; from rtmcore.bench import memory_child; "
            "print(json.dumps(memory_child(sys.argv[1], sys.argv[2])))")
    # cwd: ``python -c`` puts the working directory first on sys.path, where a
    # source checkout (without the compiled core) would shadow this rtmcore
    p = subprocess.run([sys.executable, "-c", code, spec_path, what], env=env, cwd=pkg_root,
                       capture_output=True, text=True, check=False)
    if p.returncode != 0:
        raise RuntimeError(f"memory measurement {what!r} failed:\n{p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def suite_memory(ctx: Context) -> None:
    """RSS growth per route while loading, and the lookup index: each structure
    is built in a fresh child process."""
    cfg = ctx.cfg
    res = ctx.suite("memory")
    res.title = "memory: RSS growth while loading (/proc/self/statm), bytes per route"
    res.notes.append("each structure is built alone in a fresh child process (its inputs "
                     "prepared before the first RSS reading), measured once; the C heap's free "
                     "memory is handed back (malloc_trim) before each reading, so neither "
                     "memory freed before the build nor temporaries freed during it count; "
                     "'allocated' is RoutingTableManager.memory()['table'], rtmcore's own count")
    with tempfile.TemporaryDirectory(prefix="rtmcore-bench-") as tmp:
        jobs = [(fd, write_memory_inputs(fd, tmp, cfg.chunks)) for fd in ctx.data.values()]
        todo = [(fd, spec, t) for fd, spec in jobs for t in MEMORY_TARGETS
                if t[3] is None or ctx.has(t[3])]
        # two children at a time: memory is not disturbed by a busy CPU
        with ctx.progress.task(f"memory: {len(todo)} structures, each built in a child "
                               "process", len(todo)) as task, \
                concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            futures = [pool.submit(_run_memory_child, spec, t[0]) for fd, spec, t in todo]
            for i, _done in enumerate(concurrent.futures.as_completed(futures)):
                task.update(i + 1)
            outs = [f.result() for f in futures]
    for (fd, _spec, (what, kind, impl, base)), out in zip(todo, outs):
        v = fd.views
        n_dest = len(fd.present(v))
        case = (f"{fd.n_peers} peers' views, {len(v):,} routes" if kind == "views"
                else f"one table, {n_dest:,} prefixes")
        res.measurements.append(MemoryMeasurement(
            "memory", fd.name, case, impl, out["count"], "route" if kind == "views" else
            "prefix", out["rss_bytes"], out.get("allocated_bytes"), baseline=base is not None,
            extra={"counts": out.get("counts")}))
        exp = ([n_dest, len(v)] if kind == "views" else
               [n_dest, n_dest] if what.startswith("rtmcore") else [n_dest])
        ctx.check("memory", f"{fd.name} {impl} ({kind}): counts", out.get("counts") == exp,
                  f"{out.get('counts')}, expected {exp}")
        if "index_allocated_bytes" in out:
            res.measurements.append(MemoryMeasurement(
                "memory", fd.name, "lookup index (own line)",
                f"rtmcore {_INDEX_KIND[fd.name]} index", 1,
                "index", out["index_rss_bytes"], out["index_allocated_bytes"],
                extra={"table_growth_bytes": out.get("index_table_growth_bytes", 0)}))


_INDEX_KIND = {"IPv4": "DIR-24-8", "IPv6": "16-8-...-8 multibit trie"}

SUITE_FUNCS = {"load": suite_load, "add": suite_add, "lookup": suite_lookup,
               "updates": suite_updates, "memory": suite_memory}


# ===========================================================================
# 7. report, JSON and plot
# ===========================================================================
def _si(x: float) -> str:
    for div, suf in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= div:
            return f"{x / div:.2f}{suf}" if x / div < 100 else f"{x / div:.0f}{suf}"
    return f"{x:.0f}"


def _ns(x: float) -> str:
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def _bytes(x: float) -> str:
    for div, suf in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if abs(x) >= div:
            return f"{x / div:.1f} {suf}"
    return f"{x:.0f} B"


#: which baseline of a case group ratios refer to, by implementation-name prefix
REF_ORDER = ("pytricia", "py-radix", "dict")
_DISPLAY = {"pytricia": "pytricia", "radix": "py-radix", "dict": "dict"}


def _reference(rows: list):
    """The baseline of a case group that ratios refer to."""
    base = [m for m in rows if m.baseline]
    for key in REF_ORDER:
        for m in base:
            if m.impl.startswith(key):
                return m
    return base[0] if base else None


def _short(impl: str) -> str:
    return impl.split(" (")[0]


def _table(headers: list, rows: list, align: str) -> list:
    w = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(str(h))
         for i, h in enumerate(headers)]
    out = []

    def fmt(cells):
        return "  ".join((str(c).ljust(w[i]) if align[i] == "l" else str(c).rjust(w[i]))
                         for i, c in enumerate(cells)).rstrip()
    out.append(fmt(headers))
    out.append("  ".join("-" * x for x in w))
    out.extend(fmt(r) for r in rows)
    return out


def _groups(ms: list) -> list:
    seen: dict = {}
    for m in ms:
        seen.setdefault((m.family, m.case), []).append(m)
    return list(seen.items())


def render_speed(res: SuiteResult) -> list:
    headers = ["family / case", "implementation", "ops/s", "ns/op", "spread (min–max)", "n",
               "kernel", "vs baseline"]
    rows = []
    for (fam, case), ms in _groups(res.measurements):
        ref = _reference(ms)
        first = True
        for m in ms:
            spread = (f"{_ns(m.ns_per_op(min(m.seconds)))}–{_ns(m.ns_per_op(max(m.seconds)))}"
                      if len(m.seconds) > 1 else "—")
            if ref is None:
                ratio = "no baseline"
            elif m is ref:
                ratio = "(reference)"
            else:
                ratio = f"×{ref.ns_per_op() / m.ns_per_op():.2f} vs {_short(ref.impl)}"
            ks = m.kernel_share()
            rows.append([f"{fam} {case}" if first else "", m.impl, _si(m.ops_per_s()),
                         _ns(m.ns_per_op()), spread, len(m.seconds),
                         "—" if ks is None else f"{100 * ks:.0f} %", ratio])
            first = False
    return _table(headers, rows, "llrrrrrl")


_MIN_RSS = 1 << 20


def render_memory(res: SuiteResult) -> list:
    headers = ["family / case", "implementation", "total (RSS)", "bytes/unit (RSS)",
               "allocated/unit", "vs baseline"]
    rows, index_lines = [], []
    for (fam, case), ms in _groups(res.measurements):
        if any(m.unit == "index" for m in ms):
            for m in ms:
                grow = m.extra.get("table_growth_bytes", 0)
                index_lines.append(
                    f"{fam} lookup index: {_bytes(m.allocated_bytes or 0)} allocated "
                    f"({_INDEX_KIND[fam]})"
                    + (f", and the first lookup grows 'table' by {_bytes(grow)}" if grow else "")
                    + f"; RSS +{_bytes(m.rss_bytes)} on the first lookup; not included above")
            continue
        ref = _reference(ms)
        first = True
        for m in ms:
            if ref is None:
                ratio = "no baseline"
            elif m is ref:
                ratio = "(reference)"
            elif min(m.rss_bytes, ref.rss_bytes) < _MIN_RSS:
                ratio = "n/a (too small)"
            else:
                ratio = f"{m.per_unit / ref.per_unit:.2f}× {_short(ref.impl)}"
            alloc = (f"{m.allocated_bytes / max(1, m.count):,.0f}"
                     if m.allocated_bytes is not None else "—")
            rows.append([f"{fam} {case}" if first else "", m.impl, _bytes(m.rss_bytes),
                         f"{m.per_unit:,.0f} /{m.unit}", alloc, ratio])
            first = False
    out = _table(headers, rows, "llrrrl") + index_lines + _further_route_lines(res)
    if any(m.rss_bytes < _MIN_RSS for m in res.measurements if m.unit != "index"):
        out.append("(RSS growth below 1 MiB is within the noise of freed memory the allocator "
                   "reuses: use a larger table)")
    return out


def _further_route_lines(res: SuiteResult) -> list:
    """What a route on a destination that has routes already costs: the
    RSS of rtmcore's peers' views less that of its one table (one route a
    prefix), over the difference in routes."""
    out = []
    for fam in dict.fromkeys(m.family for m in res.measurements):
        own = [m for m in res.measurements
               if m.family == fam and not m.baseline and m.unit in ("route", "prefix")]
        views = next((m for m in own if m.unit == "route"), None)
        table = next((m for m in own if m.unit == "prefix"), None)
        if views is None or table is None or views.count <= table.count:
            continue
        extra = views.count - table.count
        per = (views.rss_bytes - table.rss_bytes) / extra
        out.append(f"{fam} a further route on a destination that has one: {per:,.0f} B of RSS "
                   f"(the peers' views less the one table, over the {extra:,} routes more)")
    return out


def render_report(report: dict, results: dict) -> str:
    lines = []
    mi, ve, ds = report["machine"], report["versions"], report["dataset"]
    mem = mi.get("memory_bytes")
    lines.append(f"rtmcore {ve['rtmcore']} benchmark — {mi['cpu_model']}, {mi['cores']} cores"
                 + (f", {_bytes(mem)} RAM" if mem else "")
                 + (f", load average at start {mi['load_average'][0]}"
                    if mi.get("load_average") else ""))
    bl = ", ".join(f"{k} {v}" for k, v in (("pytricia", ve.get("pytricia")),
                                            ("py-radix", ve.get("py-radix"))) if v)
    lines.append(f"Python {ve['python']}, NumPy {ve['numpy']}" + (f", {bl}" if bl else ""))
    fam_desc = "; ".join(
        f"{name}: {f['prefixes']:,} prefixes, {f['peers']} peers, {f['routes']:,} routes, "
        f"{f['stream_events']:,} update events, {f['lookups']:,} lookups"
        for name, f in ds["families"].items())
    src = ds["source"]
    what = (src.get("generator", "generated") if src.get("kind") == "generated"
            else ds["name"])
    if src.get("kind") == "generated":
        what = f"generated (datagen.full_table, seed {ds['seed']})"
    lines.append(f"data: {what} — {fam_desc}")
    for s in ds.get("skipped_families", []):
        lines.append(f"  skipped {s}")
    for name, f in ds["families"].items():
        for n in f.get("notes", []):
            lines.append(f"  {name}: {n}")
    cfg = report["config"]
    budget = (f"; a case stops repeating once its runs add up to {cfg['budget_seconds']:g} s"
              if cfg.get("budget_seconds") else "")
    lines.append(f"repeats: up to {cfg['repeat']} per case (n){budget}; median shown, spread = "
                 "min–max; fresh table per repeat for mutating cases; GC off while timing")
    lines.append("op = one route (load, add), one address or prefix (lookup), one event "
                 "(updates); ×k = k times the throughput of the baseline named, same case, "
                 "same run; kernel = share of the case's CPU time spent in the kernel (page "
                 "faults, clearing fresh memory), which a busy or memory-starved machine inflates")
    for note in report.get("notes", []):
        lines.append(f"note: {note}")
    for name in SUITES:
        res = results.get(name)
        if res is None:
            continue
        lines.append("")
        lines.append(f"== {res.title or name}  ({res.seconds:.1f} s)")
        if res.measurements:
            if name == "memory":
                lines.extend(render_memory(res))
            else:
                lines.extend(render_speed(res))
        for n in res.notes:
            lines.append(f"  · {n}")
        failed = [c for c in res.checks if not c["ok"]]
        lines.append(f"  checks: {len(res.checks) - len(failed)}/{len(res.checks)} passed"
                     + ("" if not failed else "  — FAILED:"))
        for c in failed:
            lines.append(f"    ✗ {c['name']}: {c['detail']}")
    lines.append("")
    t = report["timing"]
    parts = ", ".join(f"{k} {v:.1f} s" for k, v in t["suites"].items())
    lines.append(f"total {t['total_seconds']:.1f} s (data {t['data_seconds']:.1f} s; {parts})")
    return "\n".join(lines)


def _json_default(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, tuple):
        return list(o)
    return str(o)


def write_json(path: str, report: dict) -> None:
    with open(path, "w") as f:
        json.dump(report, f, indent=1, default=_json_default)
        f.write("\n")


def write_plot(path: str, results: dict) -> None:
    """Bar charts of ns per operation (log scale) and bytes per route."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    panels = [r for name in SUITES if (r := results.get(name)) and r.measurements]
    heights = [max(2.0, 0.28 * len(r.measurements) + 1.0) for r in panels]
    fig, axes = plt.subplots(len(panels), 1, figsize=(11, sum(heights) + 0.5),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    for ax, res in zip(axes[:, 0], panels):
        ms = [m for m in res.measurements if m.unit != "index"]   # the index: its own line
        labels = [f"{m.family} {m.case[:32]} | {m.impl}" for m in ms]
        if res.name == "memory":
            vals = [m.per_unit for m in ms]
            ax.set_xlabel("bytes per route / prefix (RSS growth)")
        else:
            vals = [m.ns_per_op() for m in ms]
            ax.set_xscale("log")
            ax.set_xlabel("ns per operation (median; log scale)")
        colors = ["#4c72b0" if not m.baseline else "#dd8452" for m in ms]
        y = np.arange(len(ms))
        ax.barh(y, vals, color=colors)
        if res.name != "memory" and vals:
            ax.set_xlim(left=min(vals) / 2)          # log scale: let the shortest bar show
        ax.set_yticks(y, labels, fontsize=7)
        ax.invert_yaxis()
        ax.set_title(res.title, fontsize=9, loc="left")
    from matplotlib.patches import Patch
    axes[0, 0].legend(handles=[Patch(color="#4c72b0", label="rtmcore"),
                               Patch(color="#dd8452", label="baselines")], fontsize=8,
                      loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ===========================================================================
# 8. entry point
# ===========================================================================
def run(cfg: Config, out=None) -> tuple[int, dict]:
    """Run the benchmark; print the report to ``out``; returns (exit code, report).

    Exit code 0, or 1 when a check failed.
    """
    out = out or sys.stdout
    cfg = cfg.resolved()
    progress = Progress(cfg.progress)
    t_start = time.perf_counter()
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    machine = machine_info()
    vers = versions(plot=bool(cfg.plot_path))
    notes = []
    for b in cfg.compare:
        if b in _BASELINE_MODULES and baseline_module(b) is None:
            dist = _BASELINE_MODULES[b][1]
            notes.append(f"{dist} is not installed: its baseline is skipped "
                         "(pip install 'rtmcore[compare]')")
    src = f"--data {cfg.data}" if cfg.data else "generated"
    progress.say(f"rtmcore bench: preparing data ({src}, families "
                 f"{', '.join(f'IPv{f}' for f in cfg.families)})")
    data, dataset = prepare(cfg, progress)
    t_data = time.perf_counter() - t_start
    ctx = Context(cfg, data, progress)
    for name in RUN_ORDER:
        if name not in cfg.suites:
            continue
        progress.say(f"rtmcore bench: suite {name}")
        t0 = time.perf_counter()
        SUITE_FUNCS[name](ctx)
        ctx.suite(name).seconds = time.perf_counter() - t0
    ctx.pool.clear()
    ctx.rib_pool.clear()
    total = time.perf_counter() - t_start
    results = {n: ctx.results[n] for n in SUITES if n in ctx.results}
    n_checks = sum(len(r.checks) for r in results.values())
    n_failed = sum(1 for r in results.values() for c in r.checks if not c["ok"])
    report = {
        "schema": SCHEMA, "started": started, "command": cfg.argv,
        "config": {"data": cfg.data, "routes": {f"IPv{f}": cfg.table_size(f) if not cfg.data
                                                 else None for f in cfg.families},
                   "peers": cfg.peers, "families": [f"IPv{f}" for f in cfg.families],
                   "suites": list(cfg.suites), "quick": cfg.quick, "compare": list(cfg.compare),
                   "repeat": cfg.repeat, "budget_seconds": cfg.budget, "seed": cfg.seed,
                   "lookups": cfg.lookups, "events": cfg.events, "per_call_sample": cfg.sample,
                   "chunks": cfg.chunks},
        "machine": machine, "machine_load_average_end": _loadavg(), "versions": vers,
        "dataset": dataset,
        "seeds": {"table": cfg.seed, "peer_views": cfg.seed, "update_stream": cfg.seed,
                  "lookup_addresses": [cfg.seed, "family", 0x1007],
                  "shuffle": [cfg.seed, "family", 0x5F], "samples": cfg.seed},
        "baselines": {"requested": list(cfg.compare), "available": ctx.available},
        "notes": notes,
        "suites": {n: r.to_json() for n, r in results.items()},
        "checks": {"total": n_checks, "failed": n_failed},
        "timing": {"total_seconds": round(total, 3), "data_seconds": round(t_data, 3),
                   "suites": {n: round(r.seconds, 3) for n, r in results.items()}},
    }
    text = render_report(report, results)
    out.write(text + "\n")
    out.flush()
    if cfg.json_path:
        write_json(cfg.json_path, report)
        progress.say(f"rtmcore bench: wrote {cfg.json_path}")
    if cfg.plot_path:
        write_plot(cfg.plot_path, results)
        progress.say(f"rtmcore bench: wrote {cfg.plot_path}")
    if n_failed:
        progress.say(f"rtmcore bench: {n_failed} of {n_checks} checks FAILED — the numbers of "
                     "the failed cases are not trustworthy")
        return 1, report
    return 0, report


def _loadavg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None

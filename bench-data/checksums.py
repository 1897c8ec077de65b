#!/usr/bin/env python3
"""(Re)compute the SHA-256 checksums of the registered bench-data datasets.

Generates every dataset of ``rtmcore.datagen.DATASETS`` (or the ones named on
the command line) from scratch, without the cache and without verification,
and prints for each its row count, generation time, checksum and whether it
matches the checksum recorded in the registry.

Usage::

    python bench-data/checksums.py                 # all datasets
    python bench-data/checksums.py v4-full-10k ... # some
    python bench-data/checksums.py --max-rows 2000000
    python bench-data/checksums.py --check         # exit 1 on any mismatch

A mismatch means the generator's output changed. Registered datasets are
append-only: do not edit a recorded checksum to make it match; restore the
generator or register the new output under a new name (then paste the printed
row into the registry of ``rtmcore/datagen.py`` and into ``bench-data/README.md``).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from rtmcore import datagen  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("names", nargs="*", help="dataset names (default: all)")
    ap.add_argument("--max-rows", type=int, default=None,
                    help="skip datasets whose recorded row count is larger")
    ap.add_argument("--check", action="store_true", help="exit 1 if any checksum differs")
    args = ap.parse_args(argv)
    names = args.names or list(datagen.DATASETS)
    memo: dict = {}
    bad = 0
    rows_out = []
    print(f"{'name':<18} {'rows':>10} {'seconds':>8}  sha256{' ' * 59}status")
    for name in names:
        ds = datagen.DATASETS[name]
        if args.max_rows is not None and ds.rows > args.max_rows:
            print(f"{name:<18} {ds.rows:>10} {'':>8}  (skipped: more than {args.max_rows} rows)")
            continue
        t0 = time.perf_counter()
        table = datagen.generate(name, _memo=memo)
        dt = time.perf_counter() - t0
        digest = datagen.dataset_checksum(table)
        if ds.sha256 is None:
            status = "not recorded"
        elif ds.sha256 == digest:
            status = "ok"
        else:
            status = "MISMATCH (recorded " + ds.sha256[:12] + "...)"
            bad += 1
        print(f"{name:<18} {table.n_rows:>10} {dt:>8.2f}  {digest}  {status}", flush=True)
        rows_out.append((name, ds, table.n_rows, digest))
    print("\nMarkdown (bench-data/README.md):\n")
    print("| name | generator | parameters | seed | rows | sha256 |")
    print("| --- | --- | --- | --- | ---: | --- |")
    for name, ds, n, digest in rows_out:
        params = ", ".join(f"{k}={v!r}" for k, v in ds.params.items())
        print(f"| `{name}` | `{ds.func.__name__}` | {params} | {ds.seed} | {n:,} | `{digest}` |")
    print("\nRegistry values (rtmcore/datagen.py): name: (rows, sha256)\n")
    for name, ds, n, digest in rows_out:
        print(f"    {name!r}: ({n}, {digest!r}),")
    return 1 if (bad and args.check) else 0


if __name__ == "__main__":
    sys.exit(main())

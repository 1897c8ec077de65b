"""The ``rtmcore`` command line.

``rtmcore bench`` benchmarks the manager on a full routing table against
pytricia, py-radix and plain Python ``dict`` structures measured in the same
run (see :mod:`rtmcore.bench`); ``rtmcore --version`` prints the version.

Exit codes: 0 success; 1 a check of the results failed, the data could not be
read, or ``--plot`` needs matplotlib; 2 bad command-line options.
"""
from __future__ import annotations

import argparse
import os
import sys

import rtmcore

_EPILOG = """\
examples:
  rtmcore bench                          generated full table (IPv4 + IPv6), 4 peers, all suites
  rtmcore bench --quick                  small sizes, 1 repeat: a smoke test in seconds
  rtmcore bench --suite lookup,updates --family 4 --repeat 5
  rtmcore bench --data prefixes.txt.gz   a CIDR / pfx2as list (K generated peers' views) or an
                                         MRT RIB dump (its real peers)
  rtmcore bench --json out.json --plot out.png

suites: load (K peers' views, bulk), lookup (batch / per-call longest match, exact match),
updates (announce / withdraw stream, per call and bulk), memory (RSS per route, lookup index),
add (whole table into an empty table, bulk / per call, file order / shuffled)
baselines: pytricia and py-radix when installed (pip install 'rtmcore[compare]'), dict always
"""


def _int_type(name: str, lo: int, hi: int | None = None):
    def parse(text: str) -> int:
        try:
            v = int(text.replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if v < lo or (hi is not None and v > hi):
            rng = f">= {lo}" if hi is None else f"in {lo}..{hi}"
            raise argparse.ArgumentTypeError(f"must be {rng}, got {v}")
        return v
    parse.__name__ = name
    return parse


def _list_type(name: str, allowed: tuple, aliases: dict | None = None, empty: str = ""):
    aliases = aliases or {}

    def parse(text: str) -> tuple:
        if empty and text.strip().lower() == empty:
            return ()
        out: list[str] = []
        for item in (x.strip().lower() for x in text.split(",")):
            if not item:
                continue
            if item == "all":
                out.extend(allowed)
                continue
            item = aliases.get(item, item)
            if item not in allowed:
                raise argparse.ArgumentTypeError(
                    f"unknown {name} {item!r} (choose from {', '.join(allowed)}"
                    + (f", all or {empty}" if empty else ", or all") + ")")
            out.append(item)
        if not out:
            raise argparse.ArgumentTypeError(f"no {name} given")
        return tuple(dict.fromkeys(out))
    parse.__name__ = name
    return parse


def build_parser() -> argparse.ArgumentParser:
    from . import bench as B

    parser = argparse.ArgumentParser(
        prog="rtmcore", description="rtmcore: a routing table manager modeled on RTMv2.")
    parser.add_argument("--version", action="version", version=f"rtmcore {rtmcore.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    b = sub.add_parser(
        "bench", help="benchmark against pytricia, py-radix and dict in the same run",
        description="Benchmark rtmcore on a full routing table (generated with real-table "
                    "sizes by default, or --data) against the baselines, measured in the same "
                    "run. Prints a table per suite; progress goes to stderr.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    b.add_argument("--data", metavar="PATH",
                   help="MRT dump, CIDR list or pfx2as file (plain, gzip, bzip2, xz); "
                        "default: generated data")
    b.add_argument("--routes", metavar="N", type=_int_type("routes", 1, 50_000_000),
                   help=f"prefixes per family of the generated table (default: real-table "
                        f"sizes, {B.REAL_V4:,} IPv4 / {B.REAL_V6:,} IPv6); with --data: "
                        "the first N prefixes of the file")
    b.add_argument("--peers", metavar="K", type=_int_type("peers", 1, 65535), default=4,
                   help="peers' views loaded (and peers of the update stream); default 4")
    b.add_argument("--family", choices=("4", "6", "both"), default="both",
                   help="address families; default both")
    b.add_argument("--suite", metavar="NAME[,...]", type=_list_type("suite", B.SUITES),
                   default=B.SUITES, help=f"suites to run: {', '.join(B.SUITES)} or all "
                                          "(default all)")
    b.add_argument("--quick", action="store_true",
                   help="small sizes and 1 repeat: finishes in seconds (CI, tests)")
    b.add_argument("--compare", metavar="LIB[,...]",
                   type=_list_type("baseline", B.BASELINES, {"py-radix": "radix",
                                                             "py_radix": "radix"}, "none"),
                   default=B.BASELINES,
                   help="baselines: pytricia, radix, dict, all or none (default: all "
                        "available; a missing library is skipped with a note)")
    b.add_argument("--repeat", metavar="R", type=_int_type("repeat", 1, 1000),
                   help="repeats per case, median reported (default 3, fewer past --budget; "
                        "1 with --quick)")
    b.add_argument("--budget", metavar="S", type=float, default=None,
                   help="a case stops repeating once its timed runs add up to S seconds "
                        f"(default {B.DEFAULT_BUDGET:g}; 0: always --repeat runs)")
    b.add_argument("--seed", metavar="S", type=_int_type("seed", 0, 2**63 - 1), default=0,
                   help="seed of the generated data, addresses and samples (default 0)")
    b.add_argument("--lookups", metavar="N", type=_int_type("lookups", 1, 100_000_000),
                   help="IPv4 batch lookups (default 1,000,000; IPv6 scaled by the tables' "
                        "size ratio)")
    b.add_argument("--events", metavar="N", type=_int_type("events", 1, 100_000_000),
                   help="IPv4 update events (default 1,000,000; IPv6 scaled)")
    b.add_argument("--json", metavar="FILE", dest="json_path",
                   help="write everything (machine, versions, data set, seeds, all repeats) "
                        "as JSON")
    b.add_argument("--plot", metavar="FILE.png", dest="plot_path",
                   help="bar charts of the results (needs matplotlib: pip install "
                        "'rtmcore[plot]')")
    b.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress output on stderr")
    b.set_defaults(func=cmd_bench, subparser=b)
    return parser


def _writable(parser, option: str, path: str) -> None:
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        parser.error(f"{option}: directory {parent} does not exist")


def cmd_bench(args) -> int:
    from . import bench as B
    from .errors import RtmError

    bp = args.subparser           # its errors name the subcommand ("rtmcore bench: error: ...")
    if args.data is not None and not os.path.exists(args.data) and \
            args.data not in getattr(B.datagen, "DATASETS", {}):
        bp.error(f"--data: no such file: {args.data}")
    if args.json_path:
        _writable(bp, "--json", args.json_path)
    if args.plot_path:
        _writable(bp, "--plot", args.plot_path)
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            print("rtmcore bench: error: --plot needs matplotlib, which is not installed "
                  "(pip install 'rtmcore[plot]')", file=sys.stderr)
            return 1
    families = {"4": (4,), "6": (6,), "both": (4, 6)}[args.family]
    cfg = B.Config(data=args.data, routes=args.routes, peers=args.peers, families=families,
                   suites=args.suite, quick=args.quick, compare=args.compare,
                   repeat=args.repeat, budget=args.budget, seed=args.seed, lookups=args.lookups,
                   events=args.events, progress=args.progress, json_path=args.json_path,
                   plot_path=args.plot_path, argv=["rtmcore"] + list(args.argv))
    try:
        code, _ = B.run(cfg)
    except (RtmError, OSError) as exc:
        if args.data is None:
            raise
        print(f"rtmcore bench: error: cannot use --data {args.data}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nrtmcore bench: interrupted", file=sys.stderr)
        return 130
    return code


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (argparse exits with 2 on bad options)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = argv
    if args.command is None:
        parser.print_usage(sys.stderr)
        print("rtmcore: error: a command is required (bench); see rtmcore --help",
              file=sys.stderr)
        return 2
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())

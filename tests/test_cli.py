"""The ``rtmcore`` command line: ``rtmcore bench --quick`` end to end, its JSON,
and the option errors (exit code 2 with a clear message)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import rtmcore
from rtmcore import bench, datagen
from rtmcore.cli import main

PKG_ROOT = str(Path(rtmcore.__file__).resolve().parent.parent)
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _run_cli(*args, timeout=120):
    """``python -m rtmcore.cli ARGS`` with this interpreter and this rtmcore."""
    env = dict(os.environ)
    env["PYTHONPATH"] = PKG_ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH")
                                    else "")
    # cwd: ``python -m`` puts the working directory first on sys.path, and a
    # source checkout there would shadow the installed (built) package
    return subprocess.run([sys.executable, "-m", "rtmcore.cli", *args], env=env, cwd=PKG_ROOT,
                          capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "out.json"
    p = _run_cli("bench", "--quick", "--json", str(out))
    return p, out


def test_quick_bench_succeeds_and_prints_every_suite(quick_run):
    p, _ = quick_run
    assert p.returncode == 0, p.stderr[-3000:]
    for name in bench.SUITES:
        assert f"== {name}:" in p.stdout
    assert "FAILED" not in p.stdout
    assert "vs pytricia" in p.stdout or "vs dict" in p.stdout
    assert "lookup index" in p.stdout
    assert "a further route on a destination that has one" in p.stdout
    assert "rtmcore bench: suite" in p.stderr          # progress goes to stderr


def test_quick_bench_json(quick_run):
    p, out = quick_run
    assert p.returncode == 0, p.stderr[-3000:]
    r = json.loads(out.read_text())
    assert r["schema"] == bench.SCHEMA
    m = r["machine"]
    assert m["cpu_model"] and m["cores"] >= 1 and m["memory_bytes"] > 0
    v = r["versions"]
    assert v["rtmcore"] == rtmcore.__version__ and v["numpy"] == np.__version__ and v["python"]
    assert "pytricia" in v and "py-radix" in v           # None when not installed
    ds = r["dataset"]
    assert ds["name"] == "generated" and ds["seed"] == 0
    for fam in ("IPv4", "IPv6"):
        f = ds["families"][fam]
        assert f["prefixes"] > 0 and f["routes"] > f["prefixes"] and f["peers"] == 4
        assert f["stream_events"] > 0 and f["lookups"] > 0
    assert r["seeds"]["table"] == 0 and r["seeds"]["update_stream"] == 0
    assert r["config"]["quick"] is True and r["config"]["repeat"] == 1
    assert r["checks"]["total"] > 0 and r["checks"]["failed"] == 0
    assert set(r["suites"]) == set(bench.SUITES)
    for name, s in r["suites"].items():
        ms = s["measurements"]
        assert ms, name
        assert all(c["ok"] for c in s["checks"]), name
        if name == "memory":
            for x in ms:
                assert x["count"] > 0 and x["rss_bytes"] >= 0
                if x["impl"].startswith("rtmcore"):
                    assert x["allocated_bytes"] > 0
            assert any(x["unit"] == "index" for x in ms)
            continue
        fams = {x["family"] for x in ms}
        assert fams == {"IPv4", "IPv6"}, name
        assert any(not x["baseline"] for x in ms) and any(x["baseline"] for x in ms), name
        for x in ms:
            assert x["ops"] > 0 and x["repeats"] == len(x["seconds"]) >= 1
            assert all(t > 0 for t in x["seconds"])
            assert x["ns_per_op"] > 0 and x["ops_per_second"] > 0
            assert len(x["user_seconds"]) == len(x["sys_seconds"]) == len(x["minor_faults"]) \
                == x["repeats"]
            assert min(x["user_seconds"] + x["sys_seconds"] + x["minor_faults"]) >= 0
    assert r["timing"]["total_seconds"] > 0


def test_further_route_line_is_the_rss_difference_over_the_route_difference():
    res = bench.SuiteResult("memory")
    mm = bench.MemoryMeasurement
    res.measurements += [
        mm("memory", "IPv4", "4 peers' views", "rtmcore (bulk load)", 4000, "route", 700_000),
        mm("memory", "IPv4", "4 peers' views", "dict RIB", 4000, "route", 9_000_000,
           baseline=True),
        mm("memory", "IPv4", "one table", "rtmcore (bulk load)", 1000, "prefix", 160_000),
        mm("memory", "IPv4", "one table", "pytricia", 1000, "prefix", 130_000, baseline=True),
        mm("memory", "IPv6", "one table", "rtmcore (bulk load)", 100, "prefix", 20_000)]
    lines = bench._further_route_lines(res)
    assert lines == ["IPv4 a further route on a destination that has one: 180 B of RSS "
                     "(the peers' views less the one table, over the 3,000 routes more)"]
    assert any(line == lines[0] for line in bench.render_memory(res))


def test_kernel_share_of_a_case():
    m = bench.Measurement("add", "IPv4", "case", "impl", 10, "route", seconds=[1.0, 1.0],
                          user_seconds=[0.3, 0.5], sys_seconds=[0.1, 0.1])
    assert m.kernel_share() == pytest.approx(0.2)
    assert m.to_json()["sys_seconds"] == [0.1, 0.1]
    tiny = bench.Measurement("add", "IPv4", "case", "impl", 10, "route", seconds=[1e-4, 2e-4],
                             user_seconds=[0.001, 0.001], sys_seconds=[0.0, 0.0])
    assert tiny.kernel_share() is None            # under 5 ms of CPU: not shown
    res = bench.SuiteResult("add")
    res.measurements += [m, tiny]
    rows = bench.render_speed(res)
    assert "kernel" in rows[0] and "20 %" in rows[2] and "—" in rows[3]


def test_python_dash_m_rtmcore_version():
    p = subprocess.run([sys.executable, "-m", "rtmcore", "--version"],
                       env=dict(os.environ, PYTHONPATH=PKG_ROOT), cwd=PKG_ROOT,
                       capture_output=True, text=True, check=False)
    assert p.returncode == 0 and p.stdout.strip() == f"rtmcore {rtmcore.__version__}"


def test_version_in_process(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"rtmcore {rtmcore.__version__}"


@pytest.mark.parametrize("args, needle", [
    (["bench", "--family", "5"], "--family"),
    (["bench", "--suite", "load,nope"], "unknown suite 'nope'"),
    (["bench", "--compare", "pytricia,foo"], "unknown baseline 'foo'"),
    (["bench", "--routes", "abc"], "--routes"),
    (["bench", "--routes", "0"], "must be in 1..50000000"),
    (["bench", "--peers", "-3"], "--peers"),
    (["bench", "--repeat", "0"], "--repeat"),
    (["bench", "--seed", "x"], "expected an integer"),
    (["bench", "--data", "/nonexistent/table.txt"], "no such file"),
    (["bench", "--json", "/nonexistent/dir/out.json"], "does not exist"),
    (["bench", "--frobnicate"], "unrecognized arguments"),
    (["frob"], "invalid choice"),
])
def test_option_errors_exit_2_with_a_clear_message(args, needle, capsys):
    with pytest.raises(SystemExit) as e:
        main(args)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and needle in err, err
    assert err.startswith("usage: rtmcore")


def test_no_command_exits_2(capsys):
    assert main([]) == 2
    assert "a command is required" in capsys.readouterr().err


def test_plot_without_matplotlib_exits_1_before_running(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)        # import fails
    called = []
    monkeypatch.setattr(bench, "run", lambda *a, **k: called.append(1))
    assert main(["bench", "--quick", "--plot", str(tmp_path / "p.png")]) == 1
    assert "matplotlib" in capsys.readouterr().err and not called


def test_options_reach_the_config(monkeypatch):
    seen = []
    monkeypatch.setattr(bench, "run", lambda cfg: (seen.append(cfg), (0, {}))[1])
    assert main(["bench", "--routes", "1_000", "--peers", "2", "--family", "6", "--suite",
                 "lookup,add", "--compare", "py-radix,dict", "--repeat", "5", "--seed", "7",
                 "--budget", "0", "--no-progress"]) == 0
    c = seen[0]
    assert (c.routes, c.peers, c.families, c.suites, c.compare, c.repeat, c.seed, c.budget,
            c.progress) == (1000, 2, (6,), ("lookup", "add"), ("radix", "dict"), 5, 7, 0.0,
                            False)
    assert main(["bench", "--compare", "none", "--suite", "all"]) == 0
    assert seen[1].compare == () and seen[1].suites == bench.SUITES


def test_cidr_file_with_generated_peers(tmp_path):
    """--data with a CIDR list: K generated peers' views of its prefixes."""
    t = datagen.full_table(3000, family=4, seed=3)
    lines = bench.format_prefixes(4, t["addr_hi"], t["addr_lo"], t["length"])
    path = tmp_path / "table.txt"
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "o.json"
    p = _run_cli("bench", "--quick", "--data", str(path), "--family", "both", "--peers", "3",
                 "--suite", "load,updates", "--compare", "dict", "--json", str(out),
                 "--no-progress")
    assert p.returncode == 0, p.stderr[-3000:]
    r = json.loads(out.read_text())
    assert r["dataset"]["name"] == str(path)
    assert r["dataset"]["families"]["IPv4"]["prefixes"] == 3000
    assert r["dataset"]["families"]["IPv4"]["peers"] == 3
    assert "IPv6: no rows in the data" in r["dataset"]["skipped_families"][0]
    assert r["checks"]["failed"] == 0 and set(r["suites"]) == {"load", "updates"}


@pytest.mark.realdata
@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data is absent (not part of a clone)")
def test_mrt_rib_dump_uses_its_real_peers(tmp_path):
    path = SHARED / "bgpkit-parser" / "ripe" / "rrc00" / "2000.01" / "bview.20000111.0032.gz"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    out = tmp_path / "o.json"
    p = _run_cli("bench", "--quick", "--data", str(path), "--routes", "20000", "--suite",
                 "load,lookup", "--compare", "dict", "--json", str(out), "--no-progress")
    assert p.returncode == 0, p.stderr[-3000:]
    r = json.loads(out.read_text())
    f = r["dataset"]["families"]["IPv4"]
    assert f["format"] == "mrt" and f["mrt_rib"] and f["peers"] == 7
    assert f["routes"] > f["prefixes"] == 20000
    assert r["checks"]["failed"] == 0

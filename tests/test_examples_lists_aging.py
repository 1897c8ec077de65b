"""The route-list and route-expiry examples run as scripts, exit 0 and print
what the spec's samples do (spec 1.10, 1.13, 2.10, 3.3)."""
import os
import subprocess
import sys
from pathlib import Path

import rtmcore

REPO = Path(__file__).resolve().parents[1]


def _run_example(name):
    env = dict(os.environ)
    # make the subprocess import the very rtmcore these tests import
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(rtmcore.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (pkg_parent, env.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, str(REPO / "examples" / name)], env=env,
                          capture_output=True, text=True, timeout=120, cwd=REPO,
                          check=False)


def test_example_route_expiry():
    proc = _run_example("route_expiry.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    for line in ("route to 10.1.0.0/16: metric 2, expires at t=30000 ms",
                 "route to 10.2.0.0/16: metric 3, expires at t=45000 ms",
                 "t=29999 ms: 3 routes, no expiry yet",
                 "t=30000 ms: route to 10.1.0.0/16 aged out; keeping it with metric 16",
                 "route to 10.1.0.0/16 now: metric 16, expiry None",
                 "t=45000 ms: route to 10.2.0.0/16 aged out; returning ERROR_NOT_SUPPORTED",
                 "change: 10.2.0.0/16 has no route left",
                 "route to 10.2.0.0/16 now: state DELETED",
                 "after a long time: 2 destinations, 2 routes",
                 "table after deregistration: 0 destinations, 0 routes"):
        assert line in out, line
    assert out.rstrip().endswith("done")
    assert out.index("t=30000 ms") < out.index("t=45000 ms")
    assert out.count("aged out") == 2, "each route expires once"


def test_example_client_lists():
    proc = _run_example("client_lists.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    for line in ("max_handles_in_enum=4", "added 10 routes into list 1",
                 "batch 1: 4 routes", "batch 2: 4 routes", "batch 3: 2 routes",
                 "moved 10 routes from list 1 to list 2",
                 "list 1 now holds 0 routes, list 2 holds 10 routes",
                 "routes kept after deleting the lists: 10",
                 "table after deregistration: 0 destinations, 0 routes"):
        assert line in out, line
    assert "batch 4" not in out
    listed = [ln.split()[-3] for ln in out.splitlines() if ln.startswith("  route handle")]
    assert listed == [f"10.{i}.0.0/16" for i in range(10)], "every route once, in list order"
    assert out.rstrip().endswith("done")

"""Runs examples/enumerate.py (the "enumerate destinations" and "enumerate
routes" sample procedures) in a subprocess and checks its key output."""
import os
import re
import subprocess
import sys

import rtmcore

ROUTE_LINE = re.compile(r"route \d+: ")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run_example(name):
    env = dict(os.environ)
    # make the subprocess import the very rtmcore these tests import
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(rtmcore.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (pkg_parent, env.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, os.path.join(REPO, "examples", name)], env=env,
                          capture_output=True, text=True, timeout=120, cwd=REPO, check=False)


def test_example_enumerate():
    proc = _run_example("enumerate.py")
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert proc.stderr == ""
    lines = out.splitlines()
    assert lines[0] == "table: 7 destinations, 8 routes"
    # destinations in prefix order, with the best route of each view
    dests = [ln.split(":")[0].split()[1] for ln in lines if ln.startswith("destination ")]
    assert dests == ["10.0.0.0/8", "10.1.0.0/16", "10.2.0.0/16", "172.16.0.0/12",
                     "192.168.0.0/16", "192.168.1.0/24", "239.1.0.0/16"]
    assert ("destination 10.1.0.0/16: unicast best OSPF preference 110 metric 20 views 0x1 "
            "(routes in the unicast view: 2)") in lines
    assert "destination 239.1.0.0/16: multicast best OSPF preference 110 metric 10 views 0x2" \
        in lines
    assert ("destination 172.16.0.0/12: unicast best RIP preference 120 metric 4 views 0x3 "
            "(routes in the unicast view: 1) multicast best RIP preference 120 metric 4 "
            "views 0x3") in lines
    # the per-destination route enumeration, in selection order
    assert ("    routes: OSPF preference 110 metric 20 views 0x1; "
            "RIP preference 120 metric 2 views 0x1") in lines
    assert "enumerated 7 destinations in 2 batches of at most 4" in lines
    # RIP's own routes, its route on 10.1.0.0/16 (where OSPF is best) included
    own_at = lines.index("-- enumerate all routes of our own (as RIP) --")
    all_at = lines.index("-- enumerate all routes (as OSPF) --")
    own = [ln.split()[2:4] for ln in lines[own_at + 1:all_at] if ROUTE_LINE.match(ln)]
    assert own == [["10.0.0.0/8", "RIP"], ["10.1.0.0/16", "RIP"], ["172.16.0.0/12", "RIP"],
                   ["192.168.0.0/16", "RIP"], ["192.168.1.0/24", "RIP"]]
    assert "route 2: 10.1.0.0/16 RIP preference 120 metric 2 views 0x1" in lines[own_at:all_at]
    assert "route enumeration: 5 routes of our own" in lines
    # every route: destination order, then selection order (OSPF's preference first)
    every = [ln.split()[2:4] for ln in lines[all_at + 1:] if ROUTE_LINE.match(ln)]
    assert every == [["10.0.0.0/8", "RIP"], ["10.1.0.0/16", "OSPF"], ["10.1.0.0/16", "RIP"],
                     ["10.2.0.0/16", "OSPF"], ["172.16.0.0/12", "RIP"],
                     ["192.168.0.0/16", "RIP"], ["192.168.1.0/24", "RIP"],
                     ["239.1.0.0/16", "OSPF"]]
    assert "route enumeration: 8 routes in all" in lines
    assert "table after deregistration: 0 destinations, 0 routes" in lines
    assert lines[-1] == "done"

"""Runs examples/enumerate_rtmv2.py (the "enumerate destinations" and
"enumerate routes" sample procedures written with the C-named layer
rtmcore.rtmv2) in a subprocess and checks its key output, and that it agrees
with its Pythonic twin examples/enumerate.py."""
import os
import re
import subprocess
import sys

import pytest

import rtmcore

ROUTE_LINE = re.compile(r"route \d+: ")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run_example(name, optimize=False):
    env = dict(os.environ)
    if optimize:                       # the checks must not be asserts stripped by -O
        env["PYTHONOPTIMIZE"] = "1"
    # make the subprocess import the very rtmcore these tests import
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(rtmcore.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (pkg_parent, env.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, os.path.join(REPO, "examples", name)], env=env,
                          capture_output=True, text=True, timeout=120, cwd=REPO, check=False)


@pytest.fixture(scope="module")
def c_style():
    proc = _run_example("enumerate_rtmv2.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stderr == ""
    return proc.stdout.splitlines()


def test_example_enumerate_rtmv2_destinations(c_style):
    lines = c_style
    assert lines[0] == "table: 7 destinations, 8 routes"
    # two batches of at most 4: the last one comes with ERROR_NO_MORE_ITEMS
    assert [ln for ln in lines if ln.startswith("batch ")] == [
        "batch 1: 4 destinations, status NO_ERROR",
        "batch 2: 3 destinations, status ERROR_NO_MORE_ITEMS"]
    dests = [ln.split(":")[0].split()[1] for ln in lines if ln.startswith("destination ")]
    assert dests == ["10.0.0.0/8", "10.1.0.0/16", "10.2.0.0/16", "172.16.0.0/12",
                     "192.168.0.0/16", "192.168.1.0/24", "239.1.0.0/16"]
    assert ("destination 10.1.0.0/16: unicast best OSPF preference 110 metric 20 views 0x1 "
            "(routes in the unicast view: 2)") in lines
    assert "destination 239.1.0.0/16: multicast best OSPF preference 110 metric 10 views 0x2" \
        in lines
    assert "enumerated 7 destinations in 2 batches of at most 4" in lines


def test_example_enumerate_rtmv2_routes_and_next_hops(c_style):
    lines = c_style
    own_at = lines.index("-- enumerate all routes of our own (as RIP) --")
    all_at = lines.index("-- enumerate all routes (as OSPF) --")
    nh_at = lines.index("-- enumerate our next hops (as OSPF) --")
    own = [ln.split()[2:4] for ln in lines[own_at + 1:all_at] if ROUTE_LINE.match(ln)]
    assert own == [["10.0.0.0/8", "RIP"], ["10.1.0.0/16", "RIP"], ["172.16.0.0/12", "RIP"],
                   ["192.168.0.0/16", "RIP"], ["192.168.1.0/24", "RIP"]]
    assert "route enumeration: 5 routes of our own" in lines
    every = [ln.split()[2:4] for ln in lines[all_at + 1:nh_at] if ROUTE_LINE.match(ln)]
    assert every == [["10.0.0.0/8", "RIP"], ["10.1.0.0/16", "OSPF"], ["10.1.0.0/16", "RIP"],
                     ["10.2.0.0/16", "OSPF"], ["172.16.0.0/12", "RIP"],
                     ["192.168.0.0/16", "RIP"], ["192.168.1.0/24", "RIP"],
                     ["239.1.0.0/16", "OSPF"]]
    assert "route enumeration: 8 routes in all" in lines
    assert lines[nh_at + 1] == "next hop 1: 192.0.2.9/32 interface 2"
    assert "table after deregistration: 0 destinations, 0 routes" in lines
    assert lines[-1] == "done"


def test_example_enumerate_rtmv2_agrees_with_the_pythonic_example(c_style):
    proc = _run_example("enumerate.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pythonic = proc.stdout.splitlines()

    def described(lines, prefix):
        return [ln for ln in lines if ln.startswith(prefix)]

    assert described(c_style, "destination ") == described(pythonic, "destination ")
    assert described(c_style, "route ") == described(pythonic, "route ")


def test_example_enumerate_rtmv2_checks_survive_python_o():
    proc = _run_example("enumerate_rtmv2.py", optimize=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1] == "done"

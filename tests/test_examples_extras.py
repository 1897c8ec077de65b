"""The examples of rtmcore.extras run and print what they promise (opaque pointers,
entity methods, in-place route updates)."""
import os
import subprocess
import sys

import pytest

import rtmcore

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


OPTIMIZE = pytest.mark.parametrize("optimize", [False, True], ids=["plain", "python-O"])


@OPTIMIZE
def test_example_opaque_pointers(optimize):
    proc = _run_example("opaque_pointers.py", optimize)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    for line in ("  RIP: stored OpaqueInfo(info1=1, info2=2)",
                 "  RIP: updated to OpaqueInfo(info1=3, info2=4)",
                 "RIP reads back OpaqueInfo(info1=3, info2=4)",
                 "OSPF's slot: OpaqueInfo(info1=1, info2=2); RIP's: OpaqueInfo(info1=3, info2=4)",
                 "BGP without a reservation: NotFound (status 1168)",
                 "a third reservation: NoSystemResources (status 1450)",
                 "after the last route went, the old slot is invalid",
                 "the re-created destination starts with an empty slot",
                 "table after deregistration: 0 destinations, 0 routes"):
        assert line in out.splitlines(), line
    assert out.rstrip().endswith("done")


@OPTIMIZE
def test_example_methods(optimize):
    proc = _run_example("methods.py", optimize)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "exports 1 method(s): 0x1" in out
    assert "called by 0x1001000000000002: 'Hello, world'" in out
    assert "  record: method 0x1, status 0, output b'generation 1'" in out
    assert "  with no input: status 13 (ERROR_INVALID_DATA)" in out
    assert "methods blocked: the other thread's invocation is waiting" in out
    assert "methods resumed: the waiting invocation got b'generation 2'" in out
    assert "after deregistration: InvalidHandle (status 6)" in out
    # the waiting call ran only after the resume
    assert out.index("methods blocked") < out.index("'are you there?'") < \
        out.index("methods resumed")
    assert out.rstrip().endswith("done")


@OPTIMIZE
def test_example_lock_route(optimize):
    proc = _run_example("lock_route.py", optimize)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    for line in ("locked: metric 2, next hops 1",
                 "edited (not yet committed): metric 16; the table still says 2",
                 "update_and_unlock_route: change flags BEST; best is now OSPF's route",
                 "commit with OSPF's next hop: AccessDenied (status 5); still locked: True",
                 "abandoned: metric 16, next hops 2",
                 "with block: metric 1, change flags 0x10000; best is RIP's route again",
                 "next hop 192.0.2.2/32 on interface 2: flags 0x1 (REMOTE)",
                 "table after deregistration: 0 destinations, 0 routes"):
        assert line in out.splitlines(), line
    assert out.rstrip().endswith("done")

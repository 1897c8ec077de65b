"""The package's types: its own modules pass mypy with the project's
settings (pyproject.toml), and as a user's type checker sees them, the
examples and a short program over the public API pass mypy (the package's
modules read for their types only, as for an installed package)."""
import textwrap
from pathlib import Path

import pytest

api = pytest.importorskip("mypy.api", reason="mypy is not installed (it comes with the "
                          "[test] extra)")

ROOT = Path(__file__).resolve().parents[1]

USER_PROGRAM = textwrap.dedent('''
    import numpy as np

    import rtmcore
    from rtmcore import rtmv2

    rtm = rtmcore.RoutingTableManager(views=rtmcore.RTM_VIEW_MASK_UCAST)
    ent: rtmcore.Entity = rtm.register_entity(rtmcore.PROTO_IP_BGP, 0, rtmcore.AF_INET)
    nh, nh_flags = ent.add_next_hop("192.0.2.1")
    route, change = ent.add_route_to_dest("10.0.0.0/8", neighbour=nh, next_hops=nh, metric=1)
    flags: np.ndarray = ent.add_routes(np.array([11 << 24], np.uint32), 8, metric=2)
    hits = ent.lookup(np.array([(10 << 24) | 1], np.uint32))
    lengths: np.ndarray = hits.length
    best = ent.search_best("10.1.2.3")
    with rtm.core:
        counts: tuple[int, int] = rtm.counts(4)
    prefix: rtmcore.NetAddress = rtmcore.parse_prefix("2001:db8::/32")
    kept: dict[str, int] = rtmcore.memory_cache()
    status: int = rtmv2.RtmDeregisterEntity(ent)
    assert status == rtmcore.NO_ERROR and counts == (2, 2) and int(lengths[0]) == 8
''')


USER_FLAGS = ("--follow-imports=silent", "--ignore-missing-imports")


def _mypy(paths, tmp_path, flags=USER_FLAGS):
    out, err, code = api.run([*map(str, paths), *flags, "--cache-dir", str(tmp_path / "cache"),
                              "--no-error-summary"])
    return code, out + err


def test_package_type_checks(tmp_path):
    # the project's own settings: every module checked in full, whether the
    # optional libraries (matplotlib, ...) are installed or not
    code, report = _mypy([ROOT / "rtmcore"], tmp_path,
                         ("--config-file", str(ROOT / "pyproject.toml")))
    assert code == 0, report


def test_user_program_type_checks_and_runs(tmp_path):
    prog = tmp_path / "user_program.py"
    prog.write_text(USER_PROGRAM)
    code, report = _mypy([prog], tmp_path)
    assert code == 0, report
    exec(compile(USER_PROGRAM, str(prog), "exec"), {})      # and it does what it says


def test_examples_type_check(tmp_path):
    examples = sorted((ROOT / "examples").glob("*.py"))
    assert examples
    code, report = _mypy(examples, tmp_path)
    assert code == 0, report

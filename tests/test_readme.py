"""The README's commands and examples are real: CI runs its test command, and
its first example runs as written."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _blocks(lang):
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def test_first_lines_give_main_job_and_test_commands():
    first = _blocks("bash")[0].strip().splitlines()
    commands = [line for line in first if not line.startswith("#")]
    assert len(commands) == 2
    assert commands[0].endswith("rtmcore bench")
    assert commands[1].endswith("pytest")
    assert README.index("```bash") < 40, "the commands open the README"


def test_ci_runs_the_readme_test_command():
    test_command = [line for line in _blocks("bash")[0].splitlines()
                    if line.strip() and not line.startswith("#")][1]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in ci, "the .ci/run script must run exactly the README's test command"


def test_first_session_example_runs():
    code = _blocks("python")[0]
    exec(compile(code, "README.md", "exec"), {})

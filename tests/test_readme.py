"""The README's two commands are the truth; CI must run the test command exactly as written."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)\n```", (ROOT / "README.md").read_text(), flags=re.S)
    return [block.strip() for block in blocks[:2]]


def test_readme_starts_with_an_app_command_and_a_test_command():
    run_app, run_tests = _readme_commands()
    assert "slpterm --demo" in run_app
    assert "pytest" in run_tests and ".[test]" in run_tests


def test_ci_runs_the_readme_test_command_verbatim():
    _, run_tests = _readme_commands()
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert run_tests in ci_lines

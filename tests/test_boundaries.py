"""The boundaries between layers, the lint rules and the types, checked as part of the test suite.

The contracts live in pyproject.toml ([tool.importlinter], [tool.ruff], [tool.mypy]); see
docs/architecture.md for the layers they describe.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = Path(sys.executable).parent


def _run(command: list[str], cwd: Path = ROOT, **extra: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600, **extra)


def test_the_layer_contracts_are_kept():
    result = _run([str(SCRIPTS / "lint-imports"), "--no-cache", "--no-logo"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" in result.stdout and "0 broken" in result.stdout


def test_ruff_finds_nothing():
    result = _run([sys.executable, "-m", "ruff", "check", "--no-cache", "slpterm", "tests"])
    assert result.returncode == 0, result.stdout + result.stderr


def _mypy_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]


def test_mypy_finds_nothing_in_the_checked_packages(tmp_path):
    result = _run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy")])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success" in result.stdout
    # Every module of the package was checked.
    modules = list((ROOT / "slpterm").rglob("*.py"))
    assert f"no issues found in {len(modules)} source files" in result.stdout, result.stdout


def test_mypy_covers_the_package_with_strict_typing_on_the_lower_floors():
    config = _mypy_config()
    assert config["files"] == ["slpterm"] and "exclude" not in config
    # Only screens may still have their errors set aside, each named (never a whole package).
    set_aside = {module for override in config["overrides"] if override.get("ignore_errors")
                 for module in override["module"]}
    assert all(module.startswith("slpterm.ui.") and not module.endswith("*") for module in set_aside), set_aside
    strict = [override for override in config["overrides"] if override.get("disallow_untyped_defs")]
    strict_modules = {module for override in strict for module in override["module"]}
    for package in ("domain", "store", "services"):
        assert {f"slpterm.{package}", f"slpterm.{package}.*"} <= strict_modules, package
    assert all(override.get("disallow_any_generics") and override.get("warn_return_any") for override in strict)


def test_imports_inside_functions_are_part_of_the_graph_the_contracts_check():
    graph = grimp.build_graph("slpterm", cache_dir=None)
    # services.due loads the shipped rule book only when it is asked for, inside due_context().
    details = graph.get_import_details(importer="slpterm.services.due", imported="slpterm.coding.rulebook")
    assert details, "the deferred import was not seen"
    assert all(detail["line_contents"].startswith("from ") for detail in details)
    source_lines = (ROOT / "slpterm/services/due.py").read_text().splitlines()
    assert all(source_lines[detail["line_number"] - 1].startswith("    ") for detail in details), \
        "expected an import inside a function"


def test_a_deferred_import_that_climbs_a_layer_breaks_the_contract(tmp_path):
    package = tmp_path / "layered"
    (package / "high").mkdir(parents=True)
    (package / "low").mkdir()
    for folder in (package, package / "high", package / "low"):
        (folder / "__init__.py").write_text("")
    (package / "high" / "screen.py").write_text("from layered.low import rules\n")
    (package / "low" / "rules.py").write_text(textwrap.dedent("""\
        def load():
            from layered.high import screen

            return screen
    """))
    config = tmp_path / "contracts.toml"
    config.write_text(textwrap.dedent("""\
        [tool.importlinter]
        root_package = "layered"

        [[tool.importlinter.contracts]]
        name = "high above low"
        type = "layers"
        layers = ["layered.high", "layered.low"]
    """))
    result = _run([str(SCRIPTS / "lint-imports"), "--no-cache", "--no-logo", str(config)], cwd=tmp_path,
                  env={"PYTHONPATH": str(tmp_path), "PATH": str(SCRIPTS)})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "layered.low.rules -> layered.high.screen" in result.stdout

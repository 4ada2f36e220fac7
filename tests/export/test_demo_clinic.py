"""The real demo clinic, loaded and coded by the app's own services, exported in every format."""

from __future__ import annotations

import importlib.util
import json
from datetime import date

import pytest

from slpterm.export.batch import run_export
from export.checks import fhir_problems, own_x12_problems, pyx12_errors


def _missing() -> str | None:
    for module in ("slpterm.demo", "slpterm.services.encounters"):
        try:
            if importlib.util.find_spec(module) is None:
                return module
        except ModuleNotFoundError:
            return module
    return None


pytestmark = pytest.mark.skipif(_missing() is not None,
                                reason=f"{_missing()} is not importable yet; the demo export needs it")


@pytest.fixture(scope="module")
def demo_clinic(tmp_path_factory):
    """The demo clinic generated once; each test works on its own copy."""
    from slpterm.demo import generate_demo

    folder = tmp_path_factory.mktemp("demo") / "data"
    generate_demo(folder)
    return folder


@pytest.mark.parametrize("format", ["csv", "json", "fhir", "x12", "superbill"])
def test_the_demo_clinic_exports_cleanly(tmp_path, demo_clinic, format):
    import shutil

    from slpterm.services.encounters import load_encounters
    from slpterm.store import open_store

    shutil.copytree(demo_clinic, tmp_path / "demo")
    store = open_store(tmp_path / "demo")
    try:
        encounters = load_encounters(store, date_from=None, date_to=None, include_exported=True,
                                     today=date.today())
        assert encounters, "the demo clinic has signed sessions"
        outcome = run_export(store, encounters, format, tmp_path / "out")
        assert outcome.ok, outcome.problems
        assert outcome.exported_ids
        for path in outcome.files:
            if format == "x12":
                text = path.read_text()
                assert pyx12_errors(text) == []
                assert own_x12_problems(text) == []
            elif format == "fhir":
                assert fhir_problems(json.loads(path.read_text())) == []
        again = run_export(store, encounters, format, tmp_path / "again")
        assert again.exported_ids == [] and len(again.skipped_exported) == len(outcome.exported_ids)
    finally:
        store.close()

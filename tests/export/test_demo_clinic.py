"""The real demo clinic, loaded and coded by the app's own services, exported in every format."""

from __future__ import annotations

import importlib.util
import json
from datetime import date

import pytest

from slpterm.services.exporting import run_export
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


@pytest.mark.parametrize("format", ["x12", "fhir", "json", "csv", "superbill"])
def test_a_streamed_export_writes_the_same_files_as_one_in_memory(tmp_path, demo_clinic, format):
    """Read, coded and written a few days at a time, the files are byte for byte those of the
    whole batch in memory, and the store records the same batch."""
    import shutil
    from datetime import datetime, timezone

    from slpterm.services.exporting import export_signed
    from slpterm.services.encounters import load_encounters
    from slpterm.store import open_store

    from slpterm.store.installation import installation_file, load_installation

    now = datetime(2026, 11, 30, 9, 30, tzinfo=timezone.utc)
    load_installation()
    installation = installation_file().read_bytes()
    outcomes, contents, billed = [], [], []
    for name in ("whole", "streamed"):
        # Both runs as the same installation before its first 837P, so both get the same control number.
        installation_file().write_bytes(installation)
        shutil.copytree(demo_clinic, tmp_path / name)
        store = open_store(tmp_path / name)
        try:
            if name == "whole":
                encounters = load_encounters(store, date_from=None, date_to=None, include_exported=True,
                                             today=date.today())
                outcome = run_export(store, encounters, format, tmp_path / f"out-{name}", now=now)
            else:
                outcome = export_signed(store, format, tmp_path / f"out-{name}", now=now, today=date.today(),
                                        chunk_sessions=3)
            assert outcome.ok, outcome.problems
            outcomes.append(outcome)
            contents.append({path.name: path.read_bytes() for path in outcome.files})
            billed.append(sorted((line.participant_id, line.code, line.units, line.charge_cents)
                                 for participant_id in outcome.exported_ids
                                 for line in store.exports.billed_lines(participant_id)))
        finally:
            store.close()
    whole, streamed = outcomes
    assert contents[0] == contents[1] and contents[0]
    assert streamed.checksum == whole.checksum
    assert streamed.exported_ids == whole.exported_ids
    assert [held.encounter.participant_id for held in streamed.held] == [held.encounter.participant_id
                                                                         for held in whole.held]
    assert [str(reason) for held in streamed.held for reason in held.reasons] == [
        str(reason) for held in whole.held for reason in held.reasons]
    assert streamed.warnings == whole.warnings
    from slpterm.export.formats import EXPORT_FORMATS

    assert billed[0] == billed[1] and bool(billed[0]) == EXPORT_FORMATS[format].bills  # copies bill nothing

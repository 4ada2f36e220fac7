"""Export runs against a real store: batches, re-runs, held-back sessions, safe writing."""

from __future__ import annotations

import csv
import hashlib
import io
import os
from datetime import date, datetime, timezone

import pytest

from slpterm.export import batch as batch_module
from slpterm.export.batch import select_encounters
from slpterm.services.exporting import run_export
from slpterm.export.common import ExportError, ExportFormat
from export.checks import own_x12_problems, pyx12_errors, segments
from export.conftest import HELD_BACK, SCENARIOS, make_encounter, stored_encounters

NOW = datetime(2026, 3, 20, 9, 30, tzinfo=timezone.utc)
ALL = list(SCENARIOS)


def _files(folder) -> list[str]:
    """The batch's files (without the audit anchor written beside them)."""
    return sorted(path.name for path in folder.iterdir() if not path.name.endswith(".anchor.json"))


@pytest.mark.parametrize("format", [f.value for f in ExportFormat])
def test_export_records_a_batch_and_a_rerun_exports_nothing_new(store, tmp_path, format):
    encounters = stored_encounters(store, ALL)
    out = tmp_path / "out"
    outcome = run_export(store, encounters, format, out, range_from=date(2026, 3, 1), range_to=date(2026, 3, 31),
                         now=NOW)
    assert outcome.ok and outcome.problems == [] and outcome.held == []
    assert sorted(outcome.exported_ids) == sorted(e.participant_id for e in encounters)
    assert [path.parent for path in outcome.files] == [out] * len(outcome.files)
    assert _files(out) == sorted(path.name for path in outcome.files)
    expected_files = 3 if format == "superbill" else 1  # superbill: one file per patient
    assert len(outcome.files) == expected_files
    (recorded,) = store.exports.batches()
    assert recorded.format == format and recorded.control_number == outcome.control_number == 1
    assert recorded.file_names.split("\n") == [path.name for path in outcome.files]
    assert recorded.range_from == date(2026, 3, 1) and recorded.range_to == date(2026, 3, 31)
    assert sorted(store.exports.items(recorded.id)) == sorted(outcome.exported_ids)
    if len(outcome.files) == 1:
        assert recorded.checksum == hashlib.sha256(outcome.files[0].read_bytes()).hexdigest()
    else:
        manifest = "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n"
                           for p in sorted(outcome.files, key=lambda p: p.name))
        assert recorded.checksum == hashlib.sha256(manifest.encode()).hexdigest()

    again = run_export(store, encounters, format, tmp_path / "again", now=NOW)
    assert not again.ok and again.files == [] and again.exported_ids == []
    assert len(again.skipped_exported) == len(encounters)
    assert "already exported" in again.problems[0]
    assert len(store.exports.batches()) == 1
    assert not (tmp_path / "again").exists() or _files(tmp_path / "again") == []


def test_include_exported_re_exports_with_the_next_control_number(store, tmp_path):
    encounters = stored_encounters(store, ["individual_92507_gn", "group_92508"])
    first = run_export(store, encounters, "x12", tmp_path / "a", now=NOW)
    second = run_export(store, encounters, "x12", tmp_path / "b", include_exported=True, now=NOW)
    assert (first.control_number, second.control_number) == (1, 2)
    controls = []
    for outcome in (first, second):
        text = outcome.files[0].read_text()
        isa, gs, st = segments(text)[:3]
        assert len(isa[13]) == 9 and isa[13].isdigit() and int(gs[6]) == int(isa[13]) and st[2] == isa[13]
        controls.append(isa[13])
        assert pyx12_errors(text) == [] and own_x12_problems(text) == []
    assert controls[0] != controls[1]
    assert len(store.exports.batches()) == 2


def test_held_back_sessions_are_listed_with_message_and_fix(store, tmp_path):
    encounters = stored_encounters(store, ["individual_92507_gn", "evaluation_92523_52"])
    held = make_encounter(HELD_BACK, participant_id=encounters[1].participant_id,
                          patient=encounters[1].patient, name="held")
    outcome = run_export(store, [encounters[0], held], "csv", tmp_path, now=NOW)
    assert outcome.exported_ids == [encounters[0].participant_id]
    (entry,) = outcome.held
    assert entry.encounter is held
    assert [(r.message, r.fix) for r in entry.reasons] == [
        ("GN modifier missing on 92507", "Add GN: the payer requires it on SLP therapy lines")]
    rows = list(csv.DictReader(io.StringIO(outcome.files[0].read_text(encoding="utf-8-sig"))))
    assert {row["participant_id"] for row in rows} == {encounters[0].participant_id}
    assert held.participant_id not in store.exports.exported_participant_ids()


def test_only_signed_sessions_are_exported():
    selection = select_encounters([make_encounter("individual_92507_gn", signed=False)], "json")
    assert selection.ready == [] and "not signed" in selection.held[0].reasons[0].message


def test_nothing_ready_returns_problems_and_writes_nothing(store, tmp_path):
    outcome = run_export(store, [make_encounter(HELD_BACK, name="held")], "json", tmp_path / "out", now=NOW)
    assert not outcome.ok and outcome.files == [] and "held back" in outcome.problems[0]
    assert store.exports.batches() == [] and not (tmp_path / "out").exists()


def test_x12_refuses_when_clearinghouse_settings_are_missing(store, tmp_path):
    import dataclasses

    (encounter,) = stored_encounters(store, ["individual_92507_gn"])
    clinic = dataclasses.replace(encounter.clinic, receiver_id="", submitter_id="")
    outcome = run_export(store, [dataclasses.replace(encounter, clinic=clinic)], "x12", tmp_path / "out", now=NOW)
    assert not outcome.ok and outcome.files == []
    assert any("Receiver ID" in p and "Settings (F5)" in p for p in outcome.problems)
    assert any("Submitter ID" in p for p in outcome.problems)
    assert store.exports.batches() == [] and not (tmp_path / "out").exists()


def test_x12_holds_back_a_patient_without_coverage_but_exports_the_rest(store, tmp_path):
    import dataclasses

    walt, june = stored_encounters(store, ["individual_92507_gn", "evaluation_92523_52"])
    june = dataclasses.replace(june, coverage=None)
    outcome = run_export(store, [walt, june], "x12", tmp_path, now=NOW)
    assert outcome.exported_ids == [walt.participant_id]
    assert "No coverage" in outcome.held[0].reasons[0].message
    # the same patient without coverage is fine for a superbill
    superbill = run_export(store, [june], "superbill", tmp_path / "sb", now=NOW)
    assert superbill.ok and superbill.exported_ids == [june.participant_id]


def test_a_failed_rename_leaves_no_file_and_no_batch(store, tmp_path, monkeypatch):
    encounters = stored_encounters(store, ALL)
    out = tmp_path / "out"
    out.mkdir()
    calls = []

    def failing_replace(source, target):
        calls.append(target)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return os.rename(source, target)

    monkeypatch.setattr(batch_module.os, "replace", failing_replace)
    with pytest.raises(ExportError, match="No space left on device"):
        run_export(store, encounters, "superbill", out, now=NOW)
    assert len(calls) == 2  # the first file was renamed, then removed again
    assert _files(out) == []
    assert store.exports.batches() == [] and store.exports.exported_participant_ids() == set()


def test_a_failing_write_leaves_no_temporary_file(store, tmp_path, monkeypatch):
    encounters = stored_encounters(store, ["individual_92507_gn"])

    def failing_fsync(descriptor):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(batch_module.os, "fsync", failing_fsync)
    with pytest.raises(ExportError, match="Input/output error"):
        run_export(store, encounters, "json", tmp_path, now=NOW)
    assert _files(tmp_path) == [] or all(not name.endswith(".part") for name in _files(tmp_path))
    assert [p for p in tmp_path.iterdir() if p.is_file()] == []
    assert store.exports.batches() == []


def test_a_failure_to_record_the_batch_removes_the_files(store, tmp_path, monkeypatch):
    encounters = stored_encounters(store, ["individual_92507_gn"])

    def broken_record(**kwargs):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(store.exports, "record_batch", broken_record)
    with pytest.raises(ExportError, match="could not be recorded"):
        run_export(store, encounters, "fhir", tmp_path / "out", now=NOW)
    assert _files(tmp_path / "out") == []
    assert store.exports.batches() == []


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True,
                    reason="permission bits do not stop the superuser")
def test_an_unwritable_folder_is_a_clear_error(store, tmp_path):
    encounters = stored_encounters(store, ["individual_92507_gn"])
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(ExportError, match="locked"):
            run_export(store, encounters, "csv", locked, now=NOW)
    finally:
        locked.chmod(0o700)
    assert store.exports.batches() == []


def test_a_folder_that_is_a_file_is_a_clear_error(store, tmp_path):
    encounters = stored_encounters(store, ["individual_92507_gn"])
    not_a_folder = tmp_path / "report.txt"
    not_a_folder.write_text("x")
    with pytest.raises(ExportError, match="report.txt"):
        run_export(store, encounters, "csv", not_a_folder, now=NOW)
    assert store.exports.batches() == []


def test_an_existing_file_is_never_overwritten(store, tmp_path):
    encounters = stored_encounters(store, ["individual_92507_gn"])
    (tmp_path / "slpterm-encounters-000001.csv").write_text("keep me")
    with pytest.raises(ExportError, match="already exists"):
        run_export(store, encounters, "csv", tmp_path, now=NOW)
    assert (tmp_path / "slpterm-encounters-000001.csv").read_text() == "keep me"
    assert store.exports.batches() == []


def test_a_permission_error_names_the_folder(store, tmp_path, monkeypatch):
    encounters = stored_encounters(store, ["individual_92507_gn"])

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(batch_module.tempfile, "mkstemp", refuse)
    with pytest.raises(ExportError, match=f"{tmp_path}.*Permission denied"):
        run_export(store, encounters, "csv", tmp_path, now=NOW)
    assert store.exports.batches() == []


def test_a_same_day_session_billed_on_another_goes_out_with_it_and_adds_no_line(tmp_path):
    from datetime import date, datetime, timedelta, timezone

    from slpterm.services.exporting import run_export
    from slpterm.services.encounters import load_encounters
    from slpterm.store import open_store

    store = open_store(tmp_path / "data")
    store.clinic.save_clinic(name="Harbor Speech", npi="1234567893", tax_id="12-3456789", address_line1="1 Pier Rd",
                             city="Astoria", state="OR", postal_code="971031234", phone="5035550100",
                             submitter_id="HARBOR01", submitter_contact="Rosa Fennimore", receiver_id="CLEAR1",
                             receiver_name="Clearing House")
    clinician = store.clinic.add_clinician(first_name="Rosa", last_name="Fennimore", npi="1234567893")
    patient = store.patients.create(first_name="Milo", last_name="Quillfeather", date_of_birth=date(2018, 4, 9),
                                    sex="M", address_line1="9 Elm St", city="Astoria", state="OR",
                                    postal_code="97103")
    store.patients.add_coverage(patient_id=patient.id, payer_kind="medicaid", payer_name="Oregon Health Plan",
                                payer_id="OHP01", member_id="MQ123")
    store.patients.add_diagnosis(patient_id=patient.id, code="F80.0", role="treatment")
    plan = store.patients.add_plan(patient_id=patient.id, start_date=date(2026, 10, 1), end_date=date(2026, 12, 29),
                                   frequency="2x/week", certified_on=date(2026, 10, 3), status="certified",
                                   certifying_physician_npi="1234567893")
    goal = store.patients.add_goal(plan_id=plan.id, text="/r/ initial, word level")
    for hour in (15, 19):
        therapy_session, (participant,) = store.sessions.create(
            date_of_service=date(2026, 11, 2), session_type="individual_treatment", setting="office",
            patient_ids=[patient.id], clinician_id=clinician.id)
        start = datetime(2026, 11, 2, hour, tzinfo=timezone.utc)
        store.sessions.set_manual_time(therapy_session.id, "speech_sound", start, start + timedelta(minutes=30))
        store.sessions.toggle_technique(participant.id, "ss.minimal_pairs")
        store.sessions.record_trial(participant.id, goal.id, "correct", "independent")
        store.sessions.save_note(participant.id, objective="1/1 trials")
        store.sessions.sign(participant.id, clinician.id)
    encounters = load_encounters(store, date_from=None, date_to=None, include_exported=False,
                                 today=date(2026, 11, 27))
    outcome = run_export(store, encounters, "x12", tmp_path / "out")
    assert outcome.ok and outcome.held == [] and len(outcome.exported_ids) == 2
    service_lines = [segment for segment in outcome.files[0].read_text().split("~") if "SV1" in segment]
    assert len(service_lines) == 1 and "92507" in service_lines[0]
    store.close()

"""Faults and hostile input: full disk, a replaced file, two instances, huge and strange text,
a backup taken while another process writes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slpterm.store import StorageUnavailable, ValidationFailed, open_store
from slpterm.store.backup import backup_store, restore_store
from slpterm.store.db import DATABASE_FILE_NAME
from slpterm.ui.app import build_app


def _draft(store):
    patient_id = store.caseload.rows()[0].patient_id
    clinician_id = store.clinic.clinicians()[0].id
    _, (participant,) = store.sessions.create(date_of_service=date(2026, 11, 2), session_type="individual_treatment",
                                              setting="office", patient_ids=[patient_id], clinician_id=clinician_id)
    return participant.id


def _fill_disk(store, pages: int) -> None:
    """Make SQLite's file unable to grow, as on a full disk."""
    with store.db.write_engine.connect() as connection:
        current = connection.exec_driver_sql("PRAGMA page_count").scalar_one()
    for engine in (store.db.write_engine,):
        engine.dispose()

    from sqlalchemy import event

    @event.listens_for(store.db.write_engine, "connect")
    def _limit(dbapi_connection, _record):  # noqa: ANN001
        dbapi_connection.execute(f"PRAGMA max_page_count = {current + pages}")


def test_a_full_disk_refuses_the_save_plainly_and_the_next_save_succeeds(clinic_dir):
    store = open_store(clinic_dir)
    participant_id = _draft(store)
    _fill_disk(store, pages=2)
    big = "Objective data. " * 20000
    with pytest.raises(StorageUnavailable, match="disk is full"):
        store.sessions.save_note(participant_id, objective=big)
    assert store.sessions.detail(participant_id).note.objective == ""
    store.close()
    store = open_store(clinic_dir)  # space is back
    store.sessions.save_note(participant_id, objective=big)
    assert store.sessions.detail(participant_id).note.objective == big
    store.close()


async def test_the_session_screen_keeps_the_text_when_the_disk_is_full(clinic_dir, clock):
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("f3")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        _fill_disk(app.store, pages=0)
        pasted = "Written while the disk was full. " * 2000
        await pilot.press("f9")
        screen.query_one("#note-subjective").insert(pasted)
        await pilot.pause(0.8)
        assert screen.query_one("#note-subjective").text == pasted
        assert screen._pending_note == {"subjective": pasted}
        participant_id = screen.participant_id
    store = open_store(clinic_dir)
    assert store.sessions.detail(participant_id).note.subjective == ""
    store.close()


def test_a_data_file_replaced_while_running_is_not_written_to(clinic_dir):
    store = open_store(clinic_dir)
    path = clinic_dir / DATABASE_FILE_NAME
    store.db.checkpoint()
    replacement = clinic_dir / "elsewhere.sqlite3"
    replacement.write_bytes(path.read_bytes())
    os.replace(replacement, path)
    with pytest.raises(StorageUnavailable, match="deleted or replaced"):
        store.patients.create(first_name="Lost", last_name="Write")
    store.close()


def test_two_instances_on_the_same_data_both_work(clinic_dir):
    first, second = open_store(clinic_dir), open_store(clinic_dir)
    participant_a, participant_b = _draft(first), _draft(second)
    goal_id = first.patients.chart(first.caseload.rows()[0].patient_id).plans[0].id
    goal_id = first.patients.chart(first.caseload.rows()[0].patient_id).goals_by_plan[goal_id][0].id
    errors: list[BaseException] = []

    def tally(store, participant_id):
        try:
            for _ in range(40):
                store.sessions.record_trial(participant_id, goal_id, "correct", "independent")
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=tally, args=(first, participant_a)),
               threading.Thread(target=tally, args=(second, participant_b))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(first.sessions.detail(participant_a).trials) == 40
    assert len(first.sessions.detail(participant_b).trials) == 40
    assert first.verify_audit_chain() == []
    first.close()
    second.close()


TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
HOSTILE = st.sampled_from(["~*:^", "\x00\x01\x07\x1b[31m", "שלום עולם", "مرحبا", "👩🏽‍⚕️🗣️", "=cmd|' /C calc'!A0",
                           "Robert'); DROP TABLE patient;--", "\r\n\t", "2026-02-30"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(TEXT, HOSTILE))
def test_any_text_in_every_text_field_round_trips_exactly(tmp_path_factory, text):
    store = open_store(tmp_path_factory.mktemp("hostile"))
    required = text if text.strip() else "filled"  # fields that must not be blank get a stand-in
    try:
        patient = store.patients.create(first_name=text, last_name="Test", address_line1=text,
                                        guardian_name=text, school=text, city=text)
        store.patients.add_coverage(patient_id=patient.id, payer_kind="commercial", payer_name=text)
        plan = store.patients.add_plan(patient_id=patient.id, start_date=date(2026, 10, 1),
                                       end_date=date(2026, 12, 1), certifying_physician_name=text)
        goal = store.patients.add_goal(plan_id=plan.id, text=required, baseline=text)
        clinician = store.clinic.add_clinician(first_name=text, last_name="SLP")
        _, (participant,) = store.sessions.create(date_of_service=date(2026, 11, 2),
                                                  session_type="individual_treatment", setting="office",
                                                  patient_ids=[patient.id], clinician_id=clinician.id)
        store.sessions.save_note(participant.id, subjective=text, objective=text, assessment=text, plan=text)
        store.sessions.toggle_technique(participant.id, text or "t")
        chart = store.patients.chart(patient.id)
        detail = store.sessions.detail(participant.id)
        assert chart.patient.first_name == text
        assert chart.patient.address_line1 == text and chart.patient.guardian_name == text
        assert chart.coverages[0].payer_name == text
        assert chart.plans[0].certifying_physician_name == text
        assert chart.goals_by_plan[plan.id][0].baseline == text and goal.text == required
        assert (detail.note.subjective, detail.note.plan) == (text, text)
        assert detail.techniques == [text or "t"]
        store.sessions.sign(participant.id, clinician.id)
        store.sessions.add_addendum(participant.id, required, required)
        assert store.sessions.detail(participant.id).addenda[0].text == required
        for field in ("phone", "grade", "postal_code", "state", "external_id", "sex"):
            try:
                store.patients.update(patient.id, **{field: text})
            except ValidationFailed as refused:
                assert refused.problems and all(message for _, message in refused.problems)
            else:
                assert getattr(store.patients.chart(patient.id).patient, field) == text
        coverage_id = store.patients.chart(patient.id).coverages[0].id
        for field in ("member_id", "group_number", "payer_id"):
            try:
                store.patients.update_coverage(coverage_id, **{field: text})
            except ValidationFailed as refused:
                assert refused.problems
            else:
                assert getattr(store.patients.chart(patient.id).coverages[0], field) == text
        assert store.verify_audit_chain() == []
    finally:
        store.close()


def test_a_one_megabyte_note_round_trips(clinic_dir):
    store = open_store(clinic_dir)
    participant_id = _draft(store)
    note = ("Pt produced /r/ in initial position; 🙂 שלום; " * 25000)[: 1024 * 1024]
    store.sessions.save_note(participant_id, assessment=note)
    store.close()
    store = open_store(clinic_dir)
    assert store.sessions.detail(participant_id).note.assessment == note
    store.close()


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from slpterm.store import open_store

    store = open_store(Path(sys.argv[1]))
    index = 0
    while True:
        store.patients.create(first_name=f"Writer{index}", last_name="Busy")
        index += 1
        print(index, flush=True)
    """
)


def test_a_backup_taken_during_writes_restores_to_a_consistent_store(clinic_dir, tmp_path):
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(clinic_dir)], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip()
        store = open_store(clinic_dir)
        backup = backup_store(store, tmp_path / "during-writes.sqlite3")
        store.close()
        time.sleep(0.2)
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    check = sqlite3.connect(backup)
    assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    check.close()
    report = restore_store(clinic_dir, backup, None)
    assert report.replaced_copy is not None and report.replaced_copy.exists()
    store = open_store(clinic_dir)
    assert store.verify_audit_chain() == []
    names = {row.name for row in store.caseload.rows()}
    assert "Quillfeather, Milo" in names
    created = sum(1 for name in names if name.startswith("Busy"))
    audited = sum(1 for e in store.security.audit_entries(limit=10**6) if e.action == "create" and e.entity == "patient")
    assert audited == created + 1  # every writer patient in the backup has its audit entry, plus the fixture's
    store.close()


def test_patient_data_files_are_readable_by_their_owner_only(tmp_path):
    from slpterm.store.backup import backup_store

    store = open_store(tmp_path / "data")
    store.patients.create(first_name="Private", last_name="Person")
    backup = backup_store(store)
    store.close()
    for path, mode in ((tmp_path / "data", 0o700), (tmp_path / "data" / DATABASE_FILE_NAME, 0o600),
                       (backup.parent, 0o700), (backup, 0o600)):
        assert path.stat().st_mode & 0o777 == mode, path

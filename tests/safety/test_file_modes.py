"""Every kind of file slpterm writes is readable by its owner only from the moment it exists, even
when the process's umask would let others read new files; folders slpterm creates are the owner's
only. File names carry the patient's ID, never the name."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from slpterm.store import open_store
from slpterm.store.crypto import encryption_available
from slpterm.store.db import DATABASE_FILE_NAME, ENCRYPTED_MARKER_NAME
from conftest import make_clinic

PASSPHRASE = "seven quiet otters"
pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")


@pytest.fixture(autouse=True)
def permissive_umask():
    """The common default (others may read new files): slpterm must not rely on the umask."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def assert_private(*paths: Path) -> None:
    for path in paths:
        assert path.exists(), path
        expected = 0o700 if path.is_dir() else 0o600
        assert _mode(path) == expected, f"{path} is {oct(_mode(path))}, not {oct(expected)}"


def _signed_clinic(data_dir: Path):
    """The shared test clinic (conftest ``make_clinic``) with one signed school session."""
    make_clinic(data_dir)
    store = open_store(data_dir)
    store.clinic.save_clinic(postal_code="971031234", phone="503-555-0100", submitter_id="HARBOR01",
                             submitter_contact="Rosa Fennimore", receiver_id="CLEARHOUSE1",
                             receiver_name="Cascade Clearinghouse")
    (clinician,) = store.clinic.clinicians()
    patient = store.patients.find_by_external_id("P-1")
    store.patients.update(patient.id, sex="M", address_line1="7 Cedar Ct", city="Astoria", state="OR",
                          postal_code="97103")
    chart = store.patients.chart(patient.id)
    plan = chart.plans[0]
    goal = chart.goals_by_plan[plan.id][0]
    store.patients.add_iep_service(patient_id=patient.id, minutes_required=60, period="week")
    session, (participant,) = store.sessions.create(date_of_service=date(2026, 11, 2), session_type="individual_treatment",
                                                    setting="school", patient_ids=[patient.id],
                                                    clinician_id=clinician.id)
    start = datetime(2026, 11, 2, 16, 0, tzinfo=timezone.utc)
    store.sessions.set_manual_time(session.id, "speech_sound", start, start + timedelta(minutes=30))
    for _ in range(4):
        store.sessions.record_trial(participant.id, goal.id, "correct", "independent")
    store.sessions.save_note(participant.id, subjective="Ready", objective="4/4", assessment="Progressing",
                             plan="Continue")
    store.sessions.sign(participant.id, clinician.id)
    return store, patient, plan


def test_the_data_file_its_journal_and_a_new_data_folder(tmp_path):
    store, _, _ = _signed_clinic(tmp_path / "data")
    data = tmp_path / "data"
    assert_private(data, data / DATABASE_FILE_NAME, data / f"{DATABASE_FILE_NAME}-wal", data / f"{DATABASE_FILE_NAME}-shm")
    store.close()


@pytest.mark.skipif(not encryption_available(), reason="sqlcipher3 is not installed")
def test_encrypting_and_changing_the_passphrase_and_the_marker(tmp_path):
    store, _, _ = _signed_clinic(tmp_path)
    store.security.set_passphrase(PASSPHRASE)
    assert_private(tmp_path / DATABASE_FILE_NAME, tmp_path / ENCRYPTED_MARKER_NAME)
    store.security.set_passphrase("blue heron at dawn", current=PASSPHRASE)
    assert_private(tmp_path / DATABASE_FILE_NAME)
    store.close()


def test_backups_and_restore_copies(tmp_path):
    from slpterm.store.backup import backup_store, restore_store

    store, _, _ = _signed_clinic(tmp_path / "data")
    backup = backup_store(store)
    assert_private(backup, backup.parent)
    store.close()
    report = restore_store(tmp_path / "data", backup, None)
    assert_private(report.replaced_copy, tmp_path / "data" / DATABASE_FILE_NAME)

    # An unreadable data file is kept byte for byte: that copy is private too.
    (tmp_path / "data" / DATABASE_FILE_NAME).write_bytes(b"SQLite format 3\x00" + b"\x00" * 4080)
    for suffix in ("-wal", "-shm"):
        Path(str(tmp_path / "data" / DATABASE_FILE_NAME) + suffix).unlink(missing_ok=True)
    report = restore_store(tmp_path / "data", backup, None)
    assert_private(report.replaced_copy)


@pytest.mark.skipif(not encryption_available(), reason="sqlcipher3 is not installed")
def test_a_plain_backup_encrypted_in_place_stays_private(tmp_path):
    from slpterm.store.backup import backup_store, encrypt_backup, plaintext_backups

    store, _, _ = _signed_clinic(tmp_path)
    backup = backup_store(store)
    store.security.set_passphrase(PASSPHRASE)
    assert plaintext_backups(store) == [backup]
    encrypt_backup(store, backup)
    assert plaintext_backups(store) == []
    assert_private(backup)
    store.close()


def test_a_migration_copy(tmp_path):
    import sqlite3

    open_store(tmp_path).close()
    connection = sqlite3.connect(tmp_path / DATABASE_FILE_NAME)  # as schema version 2 left it
    connection.execute("ALTER TABLE session DROP COLUMN aac_device")
    connection.execute("DROP TABLE sessionbillingfacts")
    connection.execute("DROP TABLE claimrecord")
    connection.execute("DROP TABLE exportedclaimline")
    for table in ("remittanceadjustment", "remittanceclaimpayment", "remittance", "acknowledgement",
                  "attendance", "appointmentmember", "appointment"):
        connection.execute(f"DROP TABLE {table}")
    connection.execute("ALTER TABLE planofcare DROP COLUMN rehabilitative")
    connection.execute("ALTER TABLE progressreport DROP COLUMN backdate_reason")
    connection.execute("ALTER TABLE exportbatch DROP COLUMN interchange_control")
    connection.execute("ALTER TABLE exportbatch DROP COLUMN installation_id")
    connection.execute("PRAGMA user_version = 2")
    connection.commit()
    connection.close()
    store = open_store(tmp_path)
    assert_private(store.db.migration_backup)
    store.close()


@pytest.mark.parametrize("format", ["csv", "json", "fhir", "x12", "superbill"])
def test_exports_their_anchor_and_a_new_export_folder(tmp_path, format):
    from slpterm.services.exporting import run_export
    from slpterm.services.encounters import load_encounters

    store, _, _ = _signed_clinic(tmp_path / "data")
    encounters = load_encounters(store, date_from=None, date_to=None, include_exported=True, today=date(2026, 11, 3))
    outcome = run_export(store, encounters, format, tmp_path / "new" / "exports")
    assert outcome.ok, outcome.problems + [str(reason) for held in outcome.held for reason in held.reasons]
    assert_private(tmp_path / "new", tmp_path / "new" / "exports", *outcome.files, outcome.anchor_file)
    assert all("quillfeather" not in path.name.lower() and "milo" not in path.name.lower() for path in outcome.files)
    if format == "superbill":
        assert outcome.files[0].name == "superbill-000001-P-1.md"
    store.close()


def test_progress_reports_and_the_service_log_are_private_and_named_by_id(tmp_path):
    from slpterm.services.progress import export_report, new_draft, write_service_log

    store, _, plan = _signed_clinic(tmp_path / "data")
    state = new_draft(store, plan.id, date(2026, 11, 3), (date(2026, 10, 1), date(2026, 11, 3)))
    markdown, pdf = export_report(state, tmp_path / "reports")
    assert_private(tmp_path / "reports", markdown, pdf)
    assert markdown.name == "progress-report-P-1-2026-11-03.md" and pdf.name.endswith(".pdf")
    log = tmp_path / "logs" / "service-log.csv"
    assert write_service_log(store, date(2026, 11, 1), date(2026, 11, 30), log) == (1, 0)
    assert_private(log.parent, log)
    store.close()


def test_anchors_crash_logs_and_failed_unlock_notes(tmp_path, private_user_folders):
    from slpterm.crash import write_crash_report
    from slpterm.store.security import FAILED_UNLOCKS_FILE_NAME, record_failed_start

    store, _, _ = _signed_clinic(tmp_path)
    store.security.write_anchor("test")
    anchors = private_user_folders / "config" / "anchors"
    assert_private(anchors, *anchors.glob("*.json"))
    record_failed_start(tmp_path, "app")
    assert_private(tmp_path / FAILED_UNLOCKS_FILE_NAME)
    store.close()
    try:
        raise RuntimeError("boom")
    except RuntimeError as error:
        log = write_crash_report(error)
    assert_private(log.parent, log)


def test_the_command_creates_every_file_private_whatever_the_umask(tmp_path):
    """``slpterm`` sets a private umask first, so even files a library writes are the owner's only."""
    script = (
        "import os, stat, sys\n"
        "from slpterm import cli\n"
        f"cli.main(['demo', '--out', {str(tmp_path / 'demo')!r}])\n"
        f"open({str(tmp_path / 'probe.txt')!r}, 'w').close()\n"
        f"print(oct(stat.S_IMODE(os.stat({str(tmp_path / 'probe.txt')!r}).st_mode)))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "0o600"
    assert_private(tmp_path / "demo", tmp_path / "demo" / DATABASE_FILE_NAME)


def test_the_demo_keeps_its_exports_reports_and_anchors_in_its_throwaway_folder(tmp_path, private_user_folders):
    from slpterm.services.progress import export_folder
    from slpterm.ui.app import build_app

    app = build_app(tmp_path / "unused", demo_source=tmp_path / "demo")
    store = app._prepare_store()
    try:
        assert export_folder(store) == tmp_path / "demo" / "exports"
        store.security.write_anchor("close")
        assert list((tmp_path / "demo" / "anchors").glob("*.json"))
        assert not (private_user_folders / "config" / "anchors").exists()
    finally:
        store.close()

"""Opening files: new, older (migrated with a backup), newer, foreign and corrupt ones."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest

from slpterm.store import CorruptDatabase, NotAnSlptermDatabase, SchemaTooNew, open_store
from slpterm.store.db import APPLICATION_ID, DATABASE_FILE_NAME, SCHEMA_VERSION


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _schema(path) -> dict[str, set[str]]:
    connection = sqlite3.connect(path)
    try:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {table: {row[1] for row in connection.execute(f"PRAGMA table_info({table})")} for table in tables}
    finally:
        connection.close()


def test_new_file_records_the_schema_version_and_durability_settings(tmp_path):
    store = open_store(tmp_path)
    assert store.db.schema_version() == SCHEMA_VERSION
    with store.db.read_engine.connect() as connection:
        pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar_one()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("synchronous") == 2  # FULL
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") >= 5000
        assert pragma("application_id") == APPLICATION_ID
    store.close()


def _make_version_1_file(path):
    """A file as schema version 1 wrote it: without what later versions added."""
    store = open_store(path.parent)
    patient = store.patients.create(first_name="Ivy", last_name="Oldfile")
    store.close()
    connection = sqlite3.connect(path)
    connection.execute("DROP TABLE therapyyearamount")
    connection.execute("ALTER TABLE session DROP COLUMN heartbeat_at")
    connection.execute("ALTER TABLE session DROP COLUMN aac_device")
    connection.execute("DROP TABLE sessionbillingfacts")
    connection.execute("DROP TABLE claimrecord")
    connection.execute("DROP TABLE exportedclaimline")
    for table in ("remittanceadjustment", "remittanceclaimpayment", "remittance", "acknowledgement",
                  "attendance", "appointmentmember", "appointment"):
        connection.execute(f"DROP TABLE {table}")
    connection.execute("ALTER TABLE exportbatch DROP COLUMN interchange_control")
    connection.execute("ALTER TABLE exportbatch DROP COLUMN installation_id")
    connection.execute("ALTER TABLE planofcare DROP COLUMN rehabilitative")
    connection.execute("ALTER TABLE progressreport DROP COLUMN backdate_reason")
    connection.execute("PRAGMA user_version = 1")
    connection.commit()
    connection.close()
    return patient


def test_older_schema_is_migrated_after_a_backup_copy(tmp_path):
    fresh_dir = tmp_path / "fresh"
    open_store(fresh_dir).close()
    old_dir = tmp_path / "old"
    path = old_dir / DATABASE_FILE_NAME
    patient = _make_version_1_file(path)

    store = open_store(old_dir)
    backup = store.db.migration_backup
    assert backup is not None and backup.exists() and backup.parent == old_dir
    assert sqlite3.connect(backup).execute("PRAGMA user_version").fetchone()[0] == 1
    assert store.db.schema_version() == SCHEMA_VERSION
    assert [row.name for row in store.caseload.rows()] == ["Oldfile, Ivy"]
    store.patients.set_other_providers_amount(patient.id, 2026, 5000)
    store.close()
    assert _schema(path) == _schema(fresh_dir / DATABASE_FILE_NAME)


def test_newer_schema_is_refused_and_left_untouched(tmp_path):
    open_store(tmp_path).close()
    path = tmp_path / DATABASE_FILE_NAME
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    connection.commit()
    connection.close()
    before = _digest(path)
    with pytest.raises(SchemaTooNew) as raised:
        open_store(tmp_path)
    message = str(raised.value)
    assert f"schema version {SCHEMA_VERSION + 5}" in message and f"schema version {SCHEMA_VERSION}" in message
    assert _digest(path) == before


@pytest.mark.parametrize(
    ("content", "error", "wording"),
    [
        (b"name,dob\nMilo,2018-04-09\n" * 50, NotAnSlptermDatabase, "not an SQLite file"),
        (b"SQLite format 3\x00" + b"\xff" * 4000, CorruptDatabase, "damaged"),
    ],
)
def test_foreign_or_corrupt_file_is_refused_and_left_untouched(tmp_path, content, error, wording):
    path = tmp_path / DATABASE_FILE_NAME
    path.write_bytes(content)
    before = _digest(path)
    with pytest.raises(error, match=wording):
        open_store(tmp_path)
    assert _digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [DATABASE_FILE_NAME]


def test_another_programs_database_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / DATABASE_FILE_NAME
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE recipes (name TEXT)")
    connection.commit()
    connection.close()
    before = _digest(path)
    with pytest.raises(NotAnSlptermDatabase, match="another program"):
        open_store(tmp_path)
    assert _digest(path) == before


def test_damaged_pages_are_refused(tmp_path):
    store = open_store(tmp_path)
    store.close()
    path = tmp_path / DATABASE_FILE_NAME
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\x00\x13" * ((4096 - 100) // 2)
    path.write_bytes(bytes(data))
    before = _digest(path)
    with pytest.raises((CorruptDatabase, NotAnSlptermDatabase)):
        open_store(tmp_path)
    assert _digest(path) == before

"""Encryption at rest: round trip, wrong passphrase, unreadable without it, re-key, missing file."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest

from slpterm.store import PassphraseRequired, ValidationFailed, open_store
from slpterm.store.crypto import encryption_available
from slpterm.store.db import DATABASE_FILE_NAME
from slpterm.store.errors import DataDirectoryUnusable, WrongPassphraseOrDamaged

pytestmark = pytest.mark.skipif(not encryption_available(), reason="sqlcipher3 is not installed")


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def encrypted_dir(tmp_path):
    store = open_store(tmp_path)
    store.patients.create(first_name="Milo", last_name="Quillfeather", external_id="P-1")
    store.security.set_passphrase("blue heron at dawn")
    store.patients.create(first_name="Juniper", last_name="Ashdown", external_id="P-2")
    store.close()
    return tmp_path


def test_round_trip_with_the_passphrase(encrypted_dir):
    store = open_store(encrypted_dir, "blue heron at dawn")
    assert sorted(row.name for row in store.caseload.rows()) == ["Ashdown, Juniper", "Quillfeather, Milo"]
    assert store.security.encrypted
    assert store.verify_audit_chain() == []
    store.close()


def test_the_file_is_unreadable_without_the_passphrase(encrypted_dir):
    path = encrypted_dir / DATABASE_FILE_NAME
    data = path.read_bytes()
    assert b"Quillfeather" not in data and not data.startswith(b"SQLite format 3")
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(path).execute("SELECT * FROM patient").fetchall()
    with pytest.raises(PassphraseRequired):
        open_store(encrypted_dir)


def test_a_wrong_passphrase_says_so_and_changes_nothing(encrypted_dir):
    path = encrypted_dir / DATABASE_FILE_NAME
    before = _digest(path)
    with pytest.raises(WrongPassphraseOrDamaged) as raised:
        open_store(encrypted_dir, "blue heron at dusk")
    assert "passphrase is wrong or the file is damaged" in str(raised.value)
    assert _digest(path) == before


def test_changing_the_passphrase_re_keys_the_file(encrypted_dir):
    store = open_store(encrypted_dir, "blue heron at dawn")
    store.security.set_passphrase("seven quiet otters", current="blue heron at dawn")
    store.patients.create(first_name="Pip", last_name="Hollyhock")
    store.close()
    with pytest.raises(WrongPassphraseOrDamaged):
        open_store(encrypted_dir, "blue heron at dawn")
    store = open_store(encrypted_dir, "seven quiet otters")
    assert len(store.caseload.rows()) == 3
    actions = [entry.action for entry in store.security.audit_entries()]
    assert actions.count("passphrase-set") == 2
    store.close()


def test_a_short_passphrase_is_refused(tmp_path):
    store = open_store(tmp_path)
    with pytest.raises(ValidationFailed) as raised:
        store.security.set_passphrase("short")
    assert raised.value.problems[0][0] == "Passphrase"
    assert not store.security.encrypted
    store.close()


@pytest.mark.parametrize("damage", ["delete", "empty"])
def test_a_missing_or_emptied_encrypted_file_is_never_opened_as_new(encrypted_dir, damage):
    path = encrypted_dir / DATABASE_FILE_NAME
    if damage == "delete":
        path.unlink()
    else:
        path.write_bytes(b"")
    with pytest.raises(DataDirectoryUnusable, match="missing or empty"):
        open_store(encrypted_dir, "blue heron at dawn")
    assert not path.exists() or path.stat().st_size == 0


def test_backups_are_encrypted_too(encrypted_dir):
    from slpterm.store.backup import backup_store

    store = open_store(encrypted_dir, "blue heron at dawn")
    target = backup_store(store)
    store.close()
    assert b"Quillfeather" not in target.read_bytes()
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(target).execute("SELECT * FROM patient").fetchall()


def test_removing_encryption_needs_no_key_afterwards(encrypted_dir):
    store = open_store(encrypted_dir, "blue heron at dawn")
    store.security.set_passphrase(None, current="blue heron at dawn")
    store.close()
    store = open_store(encrypted_dir)
    assert not store.security.encrypted and len(store.caseload.rows()) == 2
    store.close()

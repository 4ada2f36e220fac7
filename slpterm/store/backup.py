"""Backups taken while the app may be running, and restoring one after checking it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from slpterm.paths import owner_only
from slpterm.store import crypto, datafile
from slpterm.store.clinic import IDENTITY_SETTING
from slpterm.store.db import APPLICATION_ID, DATABASE_FILE_NAME, SCHEMA_VERSION, _inspect
from slpterm.store.errors import CorruptDatabase, NotAnSlptermDatabase, SchemaTooNew, StoreError
from slpterm.store.folder_lock import folder_alone

LAST_BACKUP_SETTING = "last_backup_at"
BACKUP_REMINDER_AFTER = timedelta(days=7)


def default_backup_path(data_dir: Path, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return data_dir / "backups" / f"slpterm-backup-{stamp}.sqlite3"


def backup_store(store, out: Path | None = None) -> Path:  # noqa: ANN001
    """A consistent copy (SQLite online backup), encrypted with the same passphrase as the data."""
    target = Path(out) if out else default_backup_path(store.data_dir)
    if target.exists():
        raise StoreError(f"{target} already exists; choose another file name.")
    if not target.parent.exists():
        target.parent.mkdir(parents=True)
        owner_only(target.parent)
    partial = target.with_name(target.name + ".partial")
    store.clinic.identity()  # an older file gets its identity now, so its backups carry it
    try:
        crypto.copy(store.path, store.db.passphrase, partial)
        os.replace(partial, target)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise StoreError(f"The backup could not be written to {target}: {error.strerror or error}.") from error
    finally:
        partial.unlink(missing_ok=True)
    store.clinic.set_setting(LAST_BACKUP_SETTING, datetime.now(timezone.utc).isoformat())
    store.security.record("backup", "datafile", target.name, {"file": str(target)})
    return target


def backup_is_due(store, now: datetime | None = None) -> bool:  # noqa: ANN001
    last = store.clinic.get_setting(LAST_BACKUP_SETTING)
    if not last:
        return True
    try:
        taken = datetime.fromisoformat(last)
    except ValueError:
        return True
    return (now or datetime.now(timezone.utc)) - taken > BACKUP_REMINDER_AFTER


@dataclass(frozen=True)
class RestoreReport:
    restored_from: Path
    replaced_copy: Path | None
    schema_version: int


def check_backup(file: Path, passphrase: str | None) -> int:
    """Refuse a file that is damaged, not slpterm's, newer than this slpterm, or locked with another key."""
    if not file.is_file():
        raise StoreError(f"{file} does not exist.")
    app_id, version, tables = _inspect(file, passphrase)
    if not tables or app_id != APPLICATION_ID:
        raise NotAnSlptermDatabase(f"{file} is not an slpterm backup. Nothing was changed.")
    if version > SCHEMA_VERSION:
        raise SchemaTooNew(str(file), version, SCHEMA_VERSION)
    key = passphrase if crypto.is_encrypted_file(file) else None
    connection = crypto.connect(file, key, read_only=True)
    try:
        result = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    finally:
        connection.close()
    if result != ["ok"]:
        raise CorruptDatabase(f"{file} fails SQLite's integrity check ({'; '.join(result[:3])}). Nothing was changed.")
    return version


class OtherClinicBackup(StoreError):
    """The backup is of another data file (another clinic's identity) than the one it would replace."""


def file_identity(file: Path, passphrase: str | None) -> str | None:
    """The lasting identity recorded in a data file or backup (None for an older file without one)."""
    key = passphrase if crypto.is_encrypted_file(file) else None
    connection = crypto.connect(file, key, read_only=True)
    try:
        row = connection.execute("SELECT value FROM appsetting WHERE key = ?", (IDENTITY_SETTING,)).fetchone()
    finally:
        connection.close()
    return row[0] if row and row[0] else None


def _current_identity(current: Path, passphrase: str | None) -> str | None:
    if not datafile.read_header(current).usable:
        return None
    try:
        return file_identity(current, passphrase)
    except (StoreError, *datafile.database_errors()):
        return None  # unreadable here (another passphrase, damaged): nothing to compare with


def restore_store(data_dir: Path, file: Path, passphrase: str | None, *, other_clinic: bool = False) -> RestoreReport:
    """Replace the data file with a checked backup; the replaced file is kept beside it.

    Refused while another slpterm has the data open, and (unless ``other_clinic``) when the backup
    is of another data file than the one it replaces (``OtherClinicBackup``).
    """
    file = Path(file)
    version = check_backup(file, passphrase)
    data_dir.mkdir(parents=True, exist_ok=True)
    current = data_dir / DATABASE_FILE_NAME
    key = passphrase if crypto.is_encrypted_file(file) else None
    with folder_alone(data_dir, "Restoring a backup"):
        if not other_clinic:
            incoming_identity = file_identity(file, key)
            current_identity = _current_identity(current, passphrase)
            if incoming_identity and current_identity and incoming_identity != current_identity:
                raise OtherClinicBackup(
                    f"{file} is a backup of another clinic's data file, not of the one in {data_dir}. Restoring it "
                    "would replace this clinic's data with that clinic's. If that is really what you want, run "
                    "the restore again with --other-clinic (the replaced file is kept). Nothing was changed.")
        replaced = _keep_replaced(data_dir, current, passphrase)
        incoming = data_dir / f"{DATABASE_FILE_NAME}.restoring"
        incoming.unlink(missing_ok=True)
        crypto.copy(file, key, incoming)
        os.replace(incoming, current)
        # The replaced file's log and index: no slpterm has it open (the folder is held alone above).
        for suffix in ("-wal", "-shm"):
            Path(str(current) + suffix).unlink(missing_ok=True)
    from slpterm.store.store import open_store

    store = open_store(data_dir, key)
    store.db.mark_encryption()
    try:
        store.security.record("restore", "datafile", file.name,
                              {"from": str(file), "replaced_copy": str(replaced) if replaced else ""})
    finally:
        store.close()
    return RestoreReport(file, replaced, version)


def _keep_replaced(data_dir: Path, current: Path, passphrase: str | None) -> Path | None:
    """A copy of the file about to be replaced (through SQLite, or byte for byte if SQLite cannot read it)."""
    header = datafile.read_header(current)
    if header.kind in (datafile.MISSING, datafile.EMPTY):
        return None
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    replaced = data_dir / f"{DATABASE_FILE_NAME}.replaced-{stamp}"
    try:
        crypto.copy(current, passphrase if header.encrypted else None, replaced)
    except Exception:  # noqa: BLE001 - an unreadable current file is kept byte for byte instead
        replaced.unlink(missing_ok=True)
        datafile.copy_bytes(current, replaced)
        owner_only(replaced)
    return replaced

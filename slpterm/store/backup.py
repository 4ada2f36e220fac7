"""Backups taken while the app may be running, and restoring one after checking it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from slpterm import paths
from slpterm.paths import owner_only, private_folder
from slpterm.store import crypto, datafile
from slpterm.store.anchors import AnchorBook
from slpterm.store.audit import KEYED_PREFIX, Anchor, derive_audit_key, key_id
from slpterm.store.clinic import IDENTITY_SETTING
from slpterm.store.db import (
    APPLICATION_ID,
    DATABASE_FILE_NAME,
    ENCRYPTED_MARKER_NAME,
    SCHEMA_VERSION,
    _inspect,
)
from slpterm.store.errors import (
    CorruptDatabase,
    NotAnSlptermDatabase,
    SchemaTooNew,
    StoreError,
)
from slpterm.store.folder_lock import folder_alone

if TYPE_CHECKING:
    from slpterm.store.store import Store

LAST_BACKUP_SETTING = "last_backup_at"
BACKUP_REMINDER_AFTER = timedelta(days=7)


def default_backup_path(data_dir: Path, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return data_dir / "backups" / f"slpterm-backup-{stamp}.sqlite3"


def backup_store(store: Store, out: Path | None = None) -> Path:
    """A consistent copy (SQLite online backup), encrypted with the same passphrase as the data."""
    target = Path(out) if out else default_backup_path(store.data_dir)
    if target.exists():
        raise StoreError(f"{target} already exists; choose another file name.")
    if not target.parent.exists():
        private_folder(target.parent)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    store.clinic.identity()  # an older file gets its identity now, so its backups carry it
    try:
        crypto.copy(store.path, store.db.passphrase, partial)
        os.replace(partial, target)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise StoreError(f"The backup could not be written to {target}: {error.strerror or error}.") from error
    finally:
        partial.unlink(missing_ok=True)
    store.clinic.set_setting(LAST_BACKUP_SETTING, datetime.now(UTC).isoformat())
    store.security.record("backup", "datafile", target.name,
                          {"file": str(target), "encrypted": store.db.passphrase is not None})
    store.security.write_anchor("backup")
    return target


def _trail_head(file: Path, passphrase: str | None) -> tuple[str, int, str]:
    """(identity, last sequence number, its hash) of the trail in a data file or backup."""
    connection = crypto.connect(file, passphrase if crypto.is_encrypted_file(file) else None, read_only=True)
    try:
        identity = connection.execute("SELECT value FROM appsetting WHERE key = ?", (IDENTITY_SETTING,)).fetchone()
        last = connection.execute("SELECT seq, hash FROM auditevent ORDER BY seq DESC LIMIT 1").fetchone()
    finally:
        connection.close()
    return (identity[0] if identity else ""), (int(last[0]) if last else 0), (str(last[1]) if last else "")


def backup_head(file: Path, passphrase: str | None) -> tuple[str, Anchor]:
    """A backup's identity and the head of its trail, as an anchor to check the live trail against."""
    check_backup(Path(file), passphrase)
    identity, seq, hash_ = _trail_head(Path(file), passphrase)
    keyed = hash_.startswith(KEYED_PREFIX)
    anchor_key = key_id(derive_audit_key(passphrase, identity)) if keyed and passphrase is not None else ""
    taken = datetime.fromtimestamp(Path(file).stat().st_mtime, UTC).isoformat(timespec="seconds")
    return identity, Anchor(seq, hash_, anchor_key, taken,
                            f"backup {Path(file).name}")


def _unprotected_copies(data_dir: Path) -> list[Path]:
    """Copies of the data file slpterm wrote: backups, copies kept by a restore or a migration."""
    candidates = list((data_dir / "backups").glob("*.sqlite3"))
    candidates += data_dir.glob(f"{DATABASE_FILE_NAME}.replaced-*")
    candidates += data_dir.glob("*.schema*-backup-*")
    return sorted(path for path in candidates if path.is_file() and not path.name.endswith((".partial", "-wal", "-shm")))


def plaintext_backups(store: Store) -> list[Path]:
    """Backups and kept copies in the data directory that are not encrypted (made before the data
    file was): they hold the same patient data, readable by anyone with the laptop."""
    found = []
    for path in _unprotected_copies(store.data_dir):
        try:
            if crypto.is_plain_sqlite_file(path):
                found.append(path)
        except OSError:
            continue
    return found


def encrypt_backup(store: Store, path: Path) -> None:
    """Encrypt a plain backup in place with the data file's passphrase (checked before it replaces the file)."""
    passphrase = store.db.passphrase
    if passphrase is None:
        raise StoreError("The data file is not encrypted, so there is no passphrase to encrypt the backup with.")
    temporary = path.with_name(path.name + ".encrypting")
    try:
        crypto.export_copy(path, None, temporary, passphrase)
        _inspect(temporary, passphrase)
        os.replace(temporary, path)
    except OSError as error:
        raise StoreError(f"{path} could not be encrypted: {error.strerror or error}. It was left as it was.") from error
    finally:
        temporary.unlink(missing_ok=True)
    store.security.record("backup-encrypted", "datafile", path.name, {"file": str(path)})


def delete_backup(store: Store, path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as error:
        raise StoreError(f"{path} could not be deleted: {error.strerror or error}.") from error
    store.security.record("backup-deleted", "datafile", path.name, {"file": str(path)})


def backup_is_due(store: Store, now: datetime | None = None) -> bool:
    last = store.clinic.get_setting(LAST_BACKUP_SETTING)
    if not last:
        return True
    try:
        taken = datetime.fromisoformat(last)
    except ValueError:
        return True
    return (now or datetime.now(UTC)) - taken > BACKUP_REMINDER_AFTER


@dataclass(frozen=True)
class RestoreReport:
    restored_from: Path
    replaced_copy: Path | None
    schema_version: int
    encrypted_on_restore: bool = False


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
    identity = _trail_head(file, passphrase)[0]
    return identity or None


def _current_identity(current: Path, passphrase: str | None) -> str | None:
    if not datafile.read_header(current).usable:
        return None
    unreadable: tuple[type[BaseException], ...] = (StoreError, *datafile.database_errors())
    try:
        return file_identity(current, passphrase)
    except unreadable:
        return None  # unreadable here (another passphrase, damaged): nothing to compare with


def restore_store(data_dir: Path, file: Path, passphrase: str | None, *, other_clinic: bool = False) -> RestoreReport:
    """Replace the data file with a checked backup; the replaced file is kept beside it.

    Refused while another slpterm has the data open, and (unless ``other_clinic``) when the backup
    is of another data file than the one it replaces (``OtherClinicBackup``). Into an encrypted
    data directory a plain backup is restored encrypted, with ``passphrase`` (the data file's):
    restoring never turns encryption off.
    """
    file = Path(file)
    version = check_backup(file, passphrase)
    private_folder(data_dir)
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
        encrypt_with = _passphrase_to_keep(data_dir, file, passphrase)
        replaced, previous_head = _keep_replaced(data_dir, current, passphrase)
        incoming = data_dir / f"{DATABASE_FILE_NAME}.restoring"
        incoming.unlink(missing_ok=True)
        crypto.copy(file, key, incoming)
        if encrypt_with is not None:
            encrypted = incoming.with_name(incoming.name + "-encrypted")
            crypto.export_copy(incoming, None, encrypted, encrypt_with)
            os.replace(encrypted, incoming)
            key = encrypt_with
        identity, restored_seq, _ = _trail_head(incoming, key)
        if identity:
            AnchorBook(paths.anchor_dir(), identity).set_aside(restored_seq, f"restore of {file.name}")
        os.replace(incoming, current)
        # The replaced file's log and index: no slpterm has it open (the folder is held alone above).
        for suffix in ("-wal", "-shm"):
            Path(str(current) + suffix).unlink(missing_ok=True)
    from slpterm.store.store import open_store

    store = open_store(data_dir, key)
    store.db.mark_encryption()
    try:
        store.security.record("restore", "datafile", file.name, {
            "from": str(file), "replaced_copy": str(replaced) if replaced else "",
            "encrypted_on_restore": encrypt_with is not None,
            "replaced_trail_head": {"seq": previous_head[0], "hash": previous_head[1]} if previous_head else None,
        })
        store.security.write_anchor("restore")
    finally:
        store.close()
    return RestoreReport(file, replaced, version, encrypted_on_restore=encrypt_with is not None)


def _keep_replaced(data_dir: Path, current: Path, passphrase: str | None) -> tuple[Path | None, tuple[int, str] | None]:
    """A copy of the file about to be replaced (through SQLite, or byte for byte if SQLite cannot
    read it) and the head of its trail when it could be read."""
    header = datafile.read_header(current)
    if header.kind in (datafile.MISSING, datafile.EMPTY):
        return None, None
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    replaced = data_dir / f"{DATABASE_FILE_NAME}.replaced-{stamp}"
    current_key = passphrase if header.encrypted else None
    try:
        crypto.copy(current, current_key, replaced)
        return replaced, _trail_head(replaced, current_key)[1:]
    except Exception:  # noqa: BLE001 - an unreadable current file is kept byte for byte instead
        replaced.unlink(missing_ok=True)
        datafile.copy_bytes(current, replaced)
        owner_only(replaced)
        return replaced, None


def _passphrase_to_keep(data_dir: Path, file: Path, passphrase: str | None) -> str | None:
    """The passphrase a plain backup must be encrypted with because the data file it replaces is
    encrypted (None when there is nothing to keep)."""
    current = data_dir / DATABASE_FILE_NAME
    encrypted_here = crypto.is_encrypted_file(current) or (data_dir / ENCRYPTED_MARKER_NAME).exists()
    if not encrypted_here or crypto.is_encrypted_file(file):
        return None
    if passphrase is None:
        raise StoreError("The data file here is encrypted and the backup is not: give the data file's passphrase, so "
                         "the restored copy is encrypted too. Nothing was changed.")
    if crypto.is_encrypted_file(current):
        _inspect(current, passphrase)  # a mistyped passphrase must not lock the restored data away
    return passphrase

"""Encryption at rest with SQLCipher (the ``sqlcipher3`` package), and plain SQLite without it.

An encrypted file has no readable SQLite header, so a file whose first bytes are not the SQLite
header is treated as encrypted. SQLCipher cannot tell a wrong passphrase from a damaged file;
messages say both. ``cipher_log_level`` is silenced before anything else because SQLCipher
otherwise writes to stderr, which would corrupt the terminal screen.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from types import ModuleType

from slpterm.paths import create_private_file, owner_only
from slpterm.store.errors import EncryptionUnavailable

SQLITE_HEADER = b"SQLite format 3\x00"


def cipher_module() -> ModuleType | None:
    try:
        from sqlcipher3 import dbapi2
    except ImportError:
        return None
    return dbapi2


def encryption_available() -> bool:
    return cipher_module() is not None


def is_plain_sqlite_file(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(SQLITE_HEADER)) == SQLITE_HEADER


def is_encrypted_file(path: Path) -> bool:
    """True for a file that looks like an SQLCipher database: no plain header, whole pages."""
    if not path.exists():
        return False
    size = path.stat().st_size
    return size > 0 and size % 1024 == 0 and not is_plain_sqlite_file(path)


def _quote(passphrase: str) -> str:
    return "'" + passphrase.replace("'", "''") + "'"


def apply_key(connection, passphrase: str | None) -> None:  # noqa: ANN001
    """Key a fresh SQLCipher connection; must run before any other statement."""
    if passphrase is None:
        return
    connection.execute("PRAGMA cipher_log_level = NONE")
    connection.execute(f"PRAGMA key = {_quote(passphrase)}")
    connection.execute("PRAGMA temp_store = MEMORY")


def driver(passphrase: str | None) -> ModuleType:
    """The DB-API module for a file with or without a passphrase."""
    if passphrase is None:
        return sqlite3
    module = cipher_module()
    if module is None:
        raise EncryptionUnavailable(
            "This data file is encrypted, but SQLCipher (the sqlcipher3 package) is not installed here. "
            "Install it with: pip install sqlcipher3"
        )
    return module


def connect(path: Path, passphrase: str | None, *, read_only: bool = False, timeout: float = 30):  # noqa: ANN201
    module = driver(passphrase)
    if read_only:
        connection = module.connect(f"file:{path}?mode=ro", uri=True, timeout=timeout)
    else:
        connection = module.connect(str(path), timeout=timeout, isolation_level=None)
    apply_key(connection, passphrase)
    return connection


def export_copy(source: Path, source_passphrase: str | None, target: Path, target_passphrase: str | None) -> None:
    """Write ``target`` as a full copy of ``source`` under another passphrase (None = plain).

    Used to encrypt a plain file, change the passphrase or remove encryption; the source is
    not changed.
    """
    if target.exists():
        target.unlink()
    create_private_file(target)  # the copy holds patient data from its first page on
    if source_passphrase is None and target_passphrase is None:
        copy(source, None, target)
        return
    module = driver(source_passphrase or target_passphrase)
    connection = module.connect(str(source), isolation_level=None)
    try:
        connection.execute("PRAGMA cipher_log_level = NONE")
        if source_passphrase is not None:
            connection.execute(f"PRAGMA key = {_quote(source_passphrase)}")
        key = _quote(target_passphrase) if target_passphrase is not None else "''"
        connection.execute(f"ATTACH DATABASE {_quote(str(target))} AS exported KEY {key}")
        connection.execute("SELECT sqlcipher_export('exported')")
        for pragma in ("user_version", "application_id"):
            value = connection.execute(f"PRAGMA main.{pragma}").fetchone()[0]
            connection.execute(f"PRAGMA exported.{pragma} = {int(value)}")
        connection.execute("DETACH DATABASE exported")
    finally:
        connection.close()
    _fsync(target)


def copy(source: Path, passphrase: str | None, target: Path) -> None:
    """A consistent copy through SQLite's online backup, safe while another process writes."""
    source_connection = connect(source, passphrase, read_only=True)
    try:
        if not target.exists():
            create_private_file(target)
        target_connection = connect(target, passphrase)
        try:
            source_connection.backup(target_connection)
        finally:
            target_connection.close()
    finally:
        source_connection.close()
    _fsync(target)


def _fsync(path: Path) -> None:
    owner_only(path)
    with path.open("rb") as handle:
        os.fsync(handle.fileno())

"""Encryption at rest with SQLCipher (the ``sqlcipher3`` package), and plain SQLite without it.

An encrypted file has no readable SQLite header (``datafile.read_header`` tells it apart). SQLCipher
cannot tell a wrong passphrase from a damaged file; messages say both. Connections come from
``slpterm.store.datafile``, the one owner of data files in the process.
"""

from __future__ import annotations

from pathlib import Path

from slpterm.paths import create_private_file, owner_only
from slpterm.store import datafile
from slpterm.store.datafile import (
    SqliteConnection,
    _quote,
    apply_key,
    cipher_module,
    driver,
    encryption_available,
)

__all__ = ["apply_key", "cipher_module", "connect", "copy", "driver", "encryption_available", "export_copy",
           "is_encrypted_file", "is_plain_sqlite_file"]


def is_plain_sqlite_file(path: Path) -> bool:
    return datafile.read_header(path).kind == datafile.PLAIN


def is_encrypted_file(path: Path) -> bool:
    """True for a file that looks like an SQLCipher database: no plain header, whole pages."""
    return datafile.read_header(path).encrypted


def connect(path: Path, passphrase: str | None, *, read_only: bool = False, timeout: float = 30) -> SqliteConnection:
    return datafile.connect(path, passphrase, read_only=read_only, timeout=timeout)


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
    connection = datafile.connect(source, source_passphrase, cipher=True)
    try:
        connection.execute("PRAGMA cipher_log_level = NONE")
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
    datafile.fsync(path)

"""The one owner of slpterm's data files inside a process: every SQLite connection and every byte
read outside SQLite go through here.

Why: SQLite on POSIX systems locks its file with ``fcntl`` advisory locks, and closing *any*
descriptor of a file drops every such lock the process holds on it, while SQLite goes on believing
it holds them. Another process that then closes its last connection (a backup, ``audit verify``, a
second app, the ``sqlite3`` shell) takes the file for its own, checkpoints and deletes the live
``-wal``: from then on every commit of the running app goes into a deleted file. The same happens
between two SQLite libraries in one process (the standard library's ``sqlite3`` and ``sqlcipher3``,
which bundles its own SQLite): each closes its own descriptors without knowing the other's locks.

So, by construction:

- ``connect`` is the only way slpterm opens a data file with SQLite. It records every open
  connection per file, and refuses a second library on a file while the first has connections.
- ``read_header`` tells a file's kind (missing, empty, truncated, plain SQLite, encrypted, not
  SQLite) from its first bytes only while the process has no connection to it; while it has one,
  the kind comes from how that connection was made, and the file is not opened.
- an audit hook refuses any plain ``open`` (``open()``, ``Path.open``, ``os.open``, ``shutil``) of a
  data file, its ``-wal``, ``-shm`` or ``-journal`` while the process has a connection to it.
- schema versions are read through SQLite (``slpterm.store.db``), never from the header bytes, since
  the newest first page may be in the write-ahead log.

``tests/store/test_datafile.py`` fails when a module other than this one imports an SQLite library
or a new plain file open appears in slpterm.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, cast

from slpterm.paths import open_private
from slpterm.store.errors import EncryptionUnavailable, StoreError

SQLITE_HEADER = b"SQLite format 3\x00"
SQLITE_HEADER_SIZE = 100
SQLITE_VERSION = sqlite3.sqlite_version
# SQLCipher writes whole pages of 1 KiB multiples (4 KiB by default); it has no readable header.
ENCRYPTED_PAGE_MULTIPLE = 1024
COMPANION_SUFFIXES = ("-wal", "-shm", "-journal")

MISSING = "missing"
EMPTY = "empty"
TRUNCATED = "truncated"
PLAIN = "plain"
ENCRYPTED = "encrypted"
NOT_SQLITE = "not-sqlite"


class PlainAccessRefused(PermissionError):
    """A plain open of a data file (or its -wal/-shm) while this process has an SQLite connection to it."""


class MixedSqliteLibraries(StoreError, RuntimeError):
    """A connection through a second SQLite library to a file the first library has open."""


@dataclass(frozen=True)
class FileHeader:
    kind: str
    size: int

    @property
    def encrypted(self) -> bool:
        return self.kind == ENCRYPTED

    @property
    def usable(self) -> bool:
        return self.kind in (PLAIN, ENCRYPTED)


# -- the libraries --------------------------------------------------------------------------------

def cipher_module() -> ModuleType | None:
    try:
        from sqlcipher3 import dbapi2
    except ImportError:
        return None
    module: ModuleType = dbapi2
    return module


def encryption_available() -> bool:
    return cipher_module() is not None


def driver(passphrase: str | None, *, cipher: bool = False) -> ModuleType:
    """The DB-API module for a file with or without a passphrase (``cipher`` forces SQLCipher)."""
    if passphrase is None and not cipher:
        return sqlite3
    module = cipher_module()
    if module is None:
        raise EncryptionUnavailable(
            "This data file is encrypted, but SQLCipher (the sqlcipher3 package) is not installed here. "
            "Install it with: pip install sqlcipher3"
        )
    return module


def database_errors() -> tuple[type[BaseException], ...]:
    """``DatabaseError`` of every SQLite library slpterm may use (to catch either)."""
    module = cipher_module()
    return (sqlite3.DatabaseError,) if module is None else (sqlite3.DatabaseError, module.DatabaseError)


# -- who has which file open ------------------------------------------------------------------------

@dataclass
class _Holder:
    module: ModuleType
    count: int = 0
    keyed: bool = False


_holders: dict[str, _Holder] = {}
_mutex = threading.RLock()
_plain_access = threading.local()
_hook_installed = False


def _key(path: Path | str) -> str:
    return os.path.realpath(os.fspath(path))


# The connection of either library (SQLCipher's has the interface of sqlite3's), for annotations.
SqliteConnection = sqlite3.Connection

_tracked_connection_classes: dict[ModuleType, type[sqlite3.Connection]] = {}


def _connection_class(module: ModuleType) -> type[sqlite3.Connection]:
    """A subclass of the library's connection that tells the registry when it is closed."""
    cached = _tracked_connection_classes.get(module)
    if cached is not None:
        return cached

    class TrackedConnection(module.Connection):  # type: ignore[name-defined, misc]
        _slpterm_release = None

        def close(self) -> None:
            try:
                super().close()
            finally:
                release = self._slpterm_release
                if release is not None:
                    self._slpterm_release = None
                    release()

    _tracked_connection_classes[module] = TrackedConnection
    return TrackedConnection


def _register(key: str, module: ModuleType, keyed: bool) -> None:
    with _mutex:
        holder = _holders.get(key)
        if holder is not None and holder.count and holder.module is not module:
            raise MixedSqliteLibraries(
                f"{key} is still being read through {holder.module.__name__}, and opening it through "
                f"{module.__name__} at the same time would let each drop the other's locks. Nothing was changed; "
                "try again in a moment.")
        if holder is None or not holder.count:
            holder = _holders[key] = _Holder(module)
        holder.count += 1
        holder.keyed = holder.keyed or keyed
    _install_guard()


def _release(key: str) -> None:
    with _mutex:
        holder = _holders.get(key)
        if holder is not None:
            holder.count -= 1
            if holder.count <= 0:
                del _holders[key]


def connect(path: Path | str, passphrase: str | None = None, *, read_only: bool = False, timeout: float = 30,
            cipher: bool = False, check_same_thread: bool = True) -> sqlite3.Connection:
    """An SQLite connection to a data file, keyed when a passphrase is given (SQLCipher).

    Autocommit (``isolation_level=None``) unless read-only; ``cipher`` opens an unkeyed file through
    SQLCipher (to export it under a key).
    """
    module = driver(passphrase, cipher=cipher)
    key = _key(path)
    _register(key, module, passphrase is not None)
    released = False

    def release() -> None:
        nonlocal released
        if not released:
            released = True
            _release(key)

    try:
        factory = _connection_class(module)
        if read_only:
            connection = module.connect(f"file:{Path(key).as_uri()[len('file://'):]}?mode=ro", uri=True,
                                        timeout=timeout, factory=factory, check_same_thread=check_same_thread)
        else:
            connection = module.connect(key, timeout=timeout, isolation_level=None, factory=factory,
                                        check_same_thread=check_same_thread)
    except BaseException:
        release()
        raise
    connection._slpterm_release = release
    # A connection dropped without close() is closed by SQLite when collected; count it gone then.
    weakref.finalize(connection, release)
    if passphrase is not None:
        try:
            apply_key(connection, passphrase)
        except BaseException:
            connection.close()
            raise
    # SQLCipher's connection has the same interface as sqlite3's.
    return cast(sqlite3.Connection, connection)


def _quote(passphrase: str) -> str:
    return "'" + passphrase.replace("'", "''") + "'"


def apply_key(connection: sqlite3.Connection, passphrase: str | None) -> None:
    """Key a fresh SQLCipher connection; must run before any other statement. ``cipher_log_level`` is
    silenced first because SQLCipher otherwise writes to stderr, which would corrupt the screen."""
    if passphrase is None:
        return
    connection.execute("PRAGMA cipher_log_level = NONE")
    connection.execute(f"PRAGMA key = {_quote(passphrase)}")
    connection.execute("PRAGMA temp_store = MEMORY")


def has_connections(path: Path | str) -> bool:
    with _mutex:
        holder = _holders.get(_key(path))
        return holder is not None and holder.count > 0


# -- plain bytes, only while no connection exists -----------------------------------------------------

class _PlainAccess:
    """Inside this block the process may open ``path`` plainly: it is refused if a connection to it
    exists, and no connection to it can be made until the block ends."""

    def __init__(self, path: Path | str) -> None:
        self.key = _key(path)

    def __enter__(self) -> _PlainAccess:
        _mutex.acquire()
        if self.key in _holders:
            _mutex.release()
            raise PlainAccessRefused(f"{self.key} has an open SQLite connection in this process; it is not read "
                                     "plainly (that would drop SQLite's locks).")
        allowed = getattr(_plain_access, "keys", None)
        if allowed is None:
            allowed = _plain_access.keys = set()
        allowed.add(self.key)
        return self

    def __exit__(self, *_exc: object) -> None:
        _plain_access.keys.discard(self.key)
        _mutex.release()


def _classify(path: Path) -> FileHeader:
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        return FileHeader(MISSING, 0)
    if size == 0:
        return FileHeader(EMPTY, 0)
    with path.open("rb") as handle:
        head = handle.read(SQLITE_HEADER_SIZE)
    if head.startswith(SQLITE_HEADER):
        return FileHeader(_plain_kind(head, size), size)
    if SQLITE_HEADER.startswith(head):
        return FileHeader(TRUNCATED, size)
    return FileHeader(ENCRYPTED if size % ENCRYPTED_PAGE_MULTIPLE == 0 else NOT_SQLITE, size)


def _plain_kind(head: bytes, size: int) -> str:
    """PLAIN, or TRUNCATED when the file is shorter than its header says."""
    if len(head) < SQLITE_HEADER_SIZE:
        return TRUNCATED
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or size < page_size:
        return TRUNCATED
    pages = int.from_bytes(head[28:32], "big")
    # The page count is valid only when written by the same change as the change counter.
    if head[24:28] == head[92:96] and pages and size < pages * page_size:
        return TRUNCATED
    return PLAIN


def read_header(path: Path | str) -> FileHeader:
    """What kind of file ``path`` is, without ever opening a file this process has a connection to."""
    path = Path(path)
    for attempt in range(3):
        with _mutex:
            holder = _holders.get(_key(path))
            if holder is not None:
                try:
                    size = os.stat(path).st_size
                except FileNotFoundError:
                    size = 0
                return FileHeader(ENCRYPTED if holder.keyed else PLAIN, size)
            with _PlainAccess(path):
                header = _classify(path)
        if header.kind != TRUNCATED or attempt == 2:
            return header
        # Another process checkpointing writes the first page before the file grows: look again.
        time.sleep(0.05)
    return header


def fsync(path: Path | str) -> None:
    """Flush a file that this process has finished writing through SQLite (a backup, a copy)."""
    with _PlainAccess(path):
        with Path(path).open("rb") as handle:
            os.fsync(handle.fileno())


def copy_bytes(source: Path | str, target: Path | str) -> None:
    """A byte-for-byte copy of a data file SQLite cannot read (kept as found, e.g. before a restore)."""
    with _PlainAccess(source):
        with Path(source).open("rb") as reading, open_private(Path(target)) as writing:
            while chunk := reading.read(1 << 20):
                writing.write(chunk)
            writing.flush()
            os.fsync(writing.fileno())


# -- the runtime guard ----------------------------------------------------------------------------------

def _database_key_of(name: str) -> str:
    for suffix in COMPANION_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _guard(event: str, args: tuple[Any, ...]) -> None:
    if event != "open" or not _holders:
        return
    target = args[0]
    if isinstance(target, int) or target is None:
        return
    try:
        name = os.fsdecode(os.fspath(target))
    except TypeError:
        return
    base = _database_key_of(os.path.basename(name))
    if not any(os.path.basename(key) == base for key in tuple(_holders)):
        return
    key = _key(_database_key_of(name))
    if key in _holders and key not in getattr(_plain_access, "keys", ()):
        raise PlainAccessRefused(
            f"{name} belongs to an SQLite database this process has open; a plain open would drop SQLite's "
            "locks on it. Read it through slpterm.store.datafile instead.")


def _install_guard() -> None:
    global _hook_installed
    if not _hook_installed:
        _hook_installed = True
        sys.addaudithook(_guard)

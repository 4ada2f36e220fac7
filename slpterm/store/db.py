"""Opening an slpterm data file: checks, migrations and the durability settings of SQLite.

Every write runs in a transaction that starts with ``BEGIN IMMEDIATE`` so that a second running
instance waits for the write lock (up to the busy timeout) instead of working on stale data, and
every commit is flushed to disk (WAL with ``synchronous=FULL``).
"""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine

from slpterm.store import models  # noqa: F401  (registers the tables)
from slpterm.store.errors import (
    CorruptDatabase,
    DataDirectoryUnusable,
    NotAnSlptermDatabase,
    SchemaTooNew,
)
from slpterm.store.triggers import immutability_triggers

DATABASE_FILE_NAME = "slpterm.sqlite3"
APPLICATION_ID = 0x534C5054  # "SLPT"
SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_SECONDS = 30


def _migrate_1_to_2(connection: sqlite3.Connection) -> None:
    """Version 2 added other providers' therapy amounts (KX) and the timer heartbeat."""
    connection.execute("ALTER TABLE session ADD COLUMN heartbeat_at DATETIME")
    table = SQLModel.metadata.tables["therapyyearamount"]
    from sqlalchemy.schema import CreateIndex, CreateTable
    from sqlalchemy.dialects import sqlite as sqlite_dialect

    dialect = sqlite_dialect.dialect()
    connection.execute(str(CreateTable(table).compile(dialect=dialect)))
    for index in table.indexes:
        connection.execute(str(CreateIndex(index).compile(dialect=dialect)))


# Each step takes a database at version N to N + 1 inside one transaction.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _migrate_1_to_2}
SCHEMA_VERSION = max(MIGRATIONS) + 1


def _inspect(path: Path) -> tuple[int, int, int]:
    """Return (application_id, user_version, table count) without changing the file."""
    if path.stat().st_size == 0:
        return 0, 0, 0
    with path.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise NotAnSlptermDatabase(
            f"{path} is not an slpterm database (it is not an SQLite file at all). "
            "Choose another data directory or move the file away. The file was not changed."
        )
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_SECONDS)
        try:
            app_id = connection.execute("PRAGMA application_id").fetchone()[0]
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            tables = connection.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0]
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise CorruptDatabase(
            f"{path} cannot be read ({error}); it is damaged. Restore it from a backup "
            "(slpterm restore FILE). The file was not changed."
        ) from error
    return app_id, version, tables


def _backup_copy(path: Path, version: int) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.stem}.schema{version}-backup-{stamp}{path.suffix}")
    copy_database(path, target)
    return target


def _migrate(path: Path, version: int) -> Path:
    backup = _backup_copy(path, version)
    connection = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        for step in range(version, SCHEMA_VERSION):
            connection.execute("BEGIN IMMEDIATE")
            try:
                MIGRATIONS[step](connection)
                connection.execute(f"PRAGMA user_version = {step + 1}")
                connection.execute("COMMIT")
            except Exception:
                connection.execute("ROLLBACK")
                raise
    finally:
        connection.close()
    return backup


def _configure_connection(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    # Let SQLAlchemy's begin event issue BEGIN itself (pysqlite's own BEGIN would be deferred).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.close()


def _make_engine(path: Path, begin_statement: str) -> Engine:
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
    )
    event.listen(engine, "connect", _configure_connection)

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:  # noqa: ANN001
        connection.exec_driver_sql(begin_statement)

    return engine


class Database:
    """An open data file with separate engines for reading and writing."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.migration_backup: Path | None = None
        self._prepare()
        self.read_engine = _make_engine(path, "BEGIN")
        self.write_engine = _make_engine(path, "BEGIN IMMEDIATE")

    def _prepare(self) -> None:
        path = self.path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DataDirectoryUnusable(
                f"The data directory {path.parent} cannot be created ({error.strerror}). "
                "Choose another with --data-dir DIR or SLPTERM_DATA_DIR."
            ) from error
        if path.exists():
            app_id, version, tables = _inspect(path)
            if tables and app_id != APPLICATION_ID:
                raise NotAnSlptermDatabase(
                    f"{path} is an SQLite database of another program, not slpterm's. "
                    "Choose another data directory. The file was not changed."
                )
            if tables:
                if version > SCHEMA_VERSION:
                    raise SchemaTooNew(str(path), version, SCHEMA_VERSION)
                if version < SCHEMA_VERSION:
                    self.migration_backup = _migrate(path, version)
                return
        self._create(path)

    @staticmethod
    def _create(path: Path) -> None:
        try:
            connection = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS)
        except sqlite3.OperationalError as error:
            raise DataDirectoryUnusable(
                f"Cannot create {path} ({error}). Check that the folder is writable, "
                "or choose another with --data-dir DIR."
            ) from error
        connection.close()
        engine = create_engine(f"sqlite:///{path}")
        try:
            with engine.begin() as connection:
                SQLModel.metadata.create_all(connection)
                for statement in immutability_triggers():
                    connection.exec_driver_sql(statement)
                connection.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
                connection.exec_driver_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")
        finally:
            engine.dispose()

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.read_engine, expire_on_commit=False) as session:
            yield session

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction (BEGIN IMMEDIATE), committed durably when the block ends."""
        with Session(self.write_engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def schema_version(self) -> int:
        with self.read_engine.connect() as connection:
            return connection.exec_driver_sql("PRAGMA user_version").scalar_one()

    def integrity_problems(self) -> list[str]:
        with self.read_engine.connect() as connection:
            rows = connection.execute(text("PRAGMA integrity_check")).scalars().all()
        return [] if rows == ["ok"] else list(rows)

    def close(self) -> None:
        self.read_engine.dispose()
        self.write_engine.dispose()


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's online backup (safe while the app writes)."""
    source_connection = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        target_connection = sqlite3.connect(target)
        try:
            source_connection.backup(target_connection)
        finally:
            target_connection.close()
    finally:
        source_connection.close()

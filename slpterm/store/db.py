"""Opening an slpterm data file: checks, migrations, encryption and SQLite's durability settings.

Every write runs in a transaction that starts with ``BEGIN IMMEDIATE`` so that a second running
instance waits for the write lock (up to the busy timeout) instead of working on stale data, and
every commit is flushed to disk (WAL with ``synchronous=FULL``). With a passphrase the file is
encrypted by SQLCipher; without one it is plain SQLite.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from sqlalchemy import event, exc, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, SQLModel, create_engine

from slpterm.paths import create_private_file, owner_only, private_folder, write_private
from slpterm.store import (
    crypto,
    datafile,
    models,  # noqa: F401  (registers the tables)
)
from slpterm.store.changes import SESSION_INFO_KEY, ChangeLog
from slpterm.store.datafile import SqliteConnection
from slpterm.store.errors import (
    CorruptDatabase,
    DataDirectoryUnusable,
    LockedRecord,
    NotAnSlptermDatabase,
    PassphraseRequired,
    SchemaTooNew,
    StorageUnavailable,
    StoreError,
    WrongPassphraseOrDamaged,
)
from slpterm.store.triggers import immutability_triggers

DATABASE_FILE_NAME = "slpterm.sqlite3"
# Written beside an encrypted data file, so that a missing or emptied file is never mistaken for a
# new, empty (and unencrypted) one.
ENCRYPTED_MARKER_NAME = "slpterm.encrypted"
APPLICATION_ID = 0x534C5054  # "SLPT"
BUSY_TIMEOUT_SECONDS = 30


def _migrate_1_to_2(connection: SqliteConnection) -> None:
    """Version 2 added other providers' therapy amounts (KX) and the timer heartbeat."""
    connection.execute("ALTER TABLE session ADD COLUMN heartbeat_at DATETIME")
    table = SQLModel.metadata.tables["therapyyearamount"]
    from sqlalchemy.dialects import sqlite as sqlite_dialect
    from sqlalchemy.schema import CreateIndex, CreateTable

    dialect = sqlite_dialect.dialect()
    connection.execute(str(CreateTable(table, if_not_exists=True).compile(dialect=dialect)))
    for index in table.indexes:
        connection.execute(str(CreateIndex(index, if_not_exists=True).compile(dialect=dialect)))


def _migrate_2_to_3(connection: SqliteConnection) -> None:
    """Version 3 records which AAC device a treatment session used (SGD or not)."""
    connection.execute("ALTER TABLE session ADD COLUMN aac_device VARCHAR")


def _create_table(connection: SqliteConnection, name: str) -> None:
    from sqlalchemy.dialects import sqlite as sqlite_dialect
    from sqlalchemy.schema import CreateIndex, CreateTable

    table = SQLModel.metadata.tables[name]
    dialect = sqlite_dialect.dialect()
    connection.execute(str(CreateTable(table, if_not_exists=True).compile(dialect=dialect)))
    for index in table.indexes:
        connection.execute(str(CreateIndex(index, if_not_exists=True).compile(dialect=dialect)))


def _migrate_3_to_4(connection: SqliteConnection) -> None:
    """Version 4 records a session's billing facts, the plan's habilitative or rehabilitative
    status, why a progress report is backdated, and the charge billed on each exported line."""
    connection.execute("ALTER TABLE planofcare ADD COLUMN rehabilitative BOOLEAN")
    connection.execute("ALTER TABLE progressreport ADD COLUMN backdate_reason VARCHAR NOT NULL DEFAULT ''")
    _create_table(connection, "sessionbillingfacts")
    _create_table(connection, "exportedclaimline")


def _migrate_4_to_5(connection: SqliteConnection) -> None:
    """Version 5 records each 837P's interchange control number and the installation that issued it,
    and the claim number (CLM01) each exported line went out on."""
    from sqlalchemy.dialects import sqlite as sqlite_dialect
    from sqlalchemy.schema import CreateIndex

    connection.execute("ALTER TABLE exportbatch ADD COLUMN interchange_control INTEGER")
    connection.execute("ALTER TABLE exportbatch ADD COLUMN installation_id VARCHAR NOT NULL DEFAULT ''")
    # A file that came from version 3 got exportedclaimline as version 5 has it (step 3 -> 4 creates it).
    if "claim_number" not in {row[1] for row in connection.execute("PRAGMA table_info(exportedclaimline)")}:
        connection.execute("ALTER TABLE exportedclaimline ADD COLUMN claim_number VARCHAR NOT NULL DEFAULT ''")
    for index in SQLModel.metadata.tables["exportedclaimline"].indexes:
        if [column.name for column in index.columns] == ["claim_number"]:
            connection.execute(str(CreateIndex(index, if_not_exists=True).compile(dialect=sqlite_dialect.dialect())))


def _migrate_5_to_6(connection: SqliteConnection) -> None:
    """Version 6 keeps the claims register: every claim an 837P billed, with its status (exported,
    as the claims an earlier version exported stand), and the payer's claim control number."""
    _create_table(connection, "claimrecord")
    connection.execute(
        "INSERT INTO claimrecord (claim_number, patient_id, date_of_service, status, batch_id, frequency, "
        "payer_claim_number, needs_replacement, status_note, status_at) "
        "SELECT claim.number, claim.patient_id, claim.day, 'exported', "
        "(SELECT batch.id FROM exportbatchitem item JOIN exportbatch batch ON batch.id = item.batch_id "
        " WHERE item.participant_id = claim.participant_id AND batch.format = 'x12' "
        " ORDER BY batch.control_number DESC LIMIT 1), '1', '', '', '', claim.first_at "
        "FROM (SELECT line.claim_number AS number, min(line.patient_id) AS patient_id, "
        "      min(line.date_of_service) AS day, min(line.participant_id) AS participant_id, "
        "      min(batch.created_at) AS first_at "
        "      FROM exportedclaimline line JOIN exportbatch batch ON batch.id = line.batch_id "
        "      WHERE line.claim_number != '' GROUP BY line.claim_number) AS claim")


def _migrate_6_to_7(connection: SqliteConnection) -> None:
    """Version 7 records imported remittances (835) and acknowledgements (999, 277CA)."""
    for name in ("remittance", "remittanceclaimpayment", "remittanceadjustment", "acknowledgement"):
        _create_table(connection, name)


def _migrate_7_to_8(connection: SqliteConnection) -> None:
    """Version 8 keeps the schedule (appointments, their members) and attendance (cancelled, no-show,
    made up)."""
    for name in ("appointment", "appointmentmember", "attendance"):
        _create_table(connection, name)


# Each step takes a database at version N to N + 1 inside one transaction.
MIGRATIONS: dict[int, Callable[[SqliteConnection], None]] = {
    1: _migrate_1_to_2, 2: _migrate_2_to_3, 3: _migrate_3_to_4, 4: _migrate_4_to_5, 5: _migrate_5_to_6,
    6: _migrate_6_to_7, 7: _migrate_7_to_8}
SCHEMA_VERSION = max(MIGRATIONS) + 1


def _inspect(path: Path, passphrase: str | None) -> tuple[int, int, int]:
    """Return (application_id, user_version, table count) without changing the file; refuse a file
    that is empty, truncated or not SQLite."""
    header = datafile.read_header(path)
    if not header.usable:
        raise _unusable_file_error(path, header)
    encrypted = header.encrypted
    if encrypted and passphrase is None:
        raise PassphraseRequired(f"{path} is encrypted; enter its passphrase to open it.")
    if not encrypted and passphrase is not None:
        passphrase = None  # a plain file opens as it is; setting a passphrase encrypts it later
    module = crypto.driver(passphrase)
    try:
        connection = datafile.connect(path, passphrase, read_only=True, timeout=BUSY_TIMEOUT_SECONDS)
        try:
            app_id = connection.execute("PRAGMA application_id").fetchone()[0]
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            tables = connection.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0]
        finally:
            connection.close()
    except module.DatabaseError as error:
        if encrypted:
            raise WrongPassphraseOrDamaged(
                f"{path} could not be opened: either the passphrase is wrong or the file is damaged "
                "(SQLCipher cannot tell these apart). Try the passphrase again; if it is right, restore "
                "the file from a backup (slpterm restore FILE). The file was not changed."
            ) from error
        raise CorruptDatabase(
            f"{path} cannot be read ({error}); it is damaged. Restore it from a backup "
            "(slpterm restore FILE). The file was not changed."
        ) from error
    return app_id, version, tables


def _not_sqlite_message(path: Path) -> str:
    return (f"{path} is not an slpterm database (it is not an SQLite file at all). "
            "Choose another data directory or move the file away. The file was not changed.")


def _unusable_file_error(path: Path, header: datafile.FileHeader) -> StoreError:
    """A plain refusal of a file that is no database to open (it is left untouched)."""
    if header.kind == datafile.MISSING:
        return StoreError(f"{path} does not exist.")
    if header.kind == datafile.EMPTY:
        return CorruptDatabase(
            f"{path} is empty (0 bytes), so it holds no clinic; slpterm will not turn it into a new, empty one. "
            "Restore your latest backup (slpterm restore FILE), or, to really start a new clinic, delete the "
            "empty file. The file was not changed.")
    if header.kind == datafile.TRUNCATED:
        return CorruptDatabase(
            f"{path} is cut short ({header.size} bytes; it is shorter than its own header says): it was damaged, "
            "for example by an interrupted copy. Restore your latest backup (slpterm restore FILE). "
            "The file was not changed.")
    return NotAnSlptermDatabase(_not_sqlite_message(path))


def _backup_copy(path: Path, version: int, passphrase: str | None) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.stem}.schema{version}-backup-{stamp}{path.suffix}")
    crypto.copy(path, passphrase, target)
    return target


def _migrate(path: Path, version: int, passphrase: str | None) -> Path:
    backup = _backup_copy(path, version, passphrase)
    connection = crypto.connect(path, passphrase, timeout=BUSY_TIMEOUT_SECONDS)
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


def _storage_error(error: Exception, path: Path) -> StorageUnavailable:
    reason = str(getattr(error, "orig", error)).lower()
    if "full" in reason:
        return StorageUnavailable(
            "The disk is full, so the last change was not saved. Free some space; slpterm keeps what is on "
            "screen and saves it again.")
    if "readonly" in reason or "read-only" in reason or "permission" in reason:
        return StorageUnavailable(
            f"The data file {path} is read-only, so the last change was not saved. Make the folder writable "
            "or open another data directory with --data-dir.")
    if "locked" in reason or "busy" in reason:
        return StorageUnavailable(
            "Another slpterm is writing to the same data file and did not finish in time; the change was not "
            "saved. Try again in a moment.")
    return StorageUnavailable(f"The change could not be saved ({reason}). Nothing was written.")


class Database:
    """An open data file with separate engines for reading and writing."""

    def __init__(self, path: Path, passphrase: str | None = None) -> None:
        self.path = path
        self.migration_backup: Path | None = None
        self.passphrase = passphrase
        self.generation = 0
        self.changes = ChangeLog()  # which records each committed write changed
        # Replaced by the store with its folder lock's ``exclusive``: no other slpterm may use the file
        # while it is replaced.
        self.exclusive_access: Callable[[str], contextlib.AbstractContextManager[object]] = \
            lambda _what: contextlib.nullcontext()
        self._prepare()
        self.encrypted = crypto.is_encrypted_file(path)
        if not self.encrypted:
            self.passphrase = None
        self.mark_encryption()
        self._identity = self._file_identity()
        self.read_engine = self._make_engine("BEGIN")
        self.write_engine = self._make_engine("BEGIN IMMEDIATE")

    def mark_encryption(self) -> None:
        marker = self.path.with_name(ENCRYPTED_MARKER_NAME)
        if self.encrypted:
            write_private(marker, "The slpterm data file in this folder is encrypted. Keep this file with it.\n")
        else:
            marker.unlink(missing_ok=True)

    def _file_identity(self) -> tuple[int, int] | None:
        try:
            status = os.stat(self.path)
        except FileNotFoundError:
            return None
        return status.st_dev, status.st_ino

    def _prepare(self) -> None:
        path = self.path
        try:
            if not path.parent.exists():
                private_folder(path.parent)
        except OSError as error:
            raise DataDirectoryUnusable(
                f"The data directory {path.parent} cannot be created ({error.strerror}). "
                "Choose another with --data-dir DIR or SLPTERM_DATA_DIR."
            ) from error
        marker = path.with_name(ENCRYPTED_MARKER_NAME)
        if marker.exists() and datafile.read_header(path).kind in (datafile.MISSING, datafile.EMPTY):
            raise DataDirectoryUnusable(
                f"The encrypted data file {path} is missing or empty. slpterm will not start a new, empty file "
                "in its place. Restore your latest backup (slpterm restore FILE), or remove "
                f"{marker.name} from {path.parent} to start afresh."
            )
        header = datafile.read_header(path)
        if header.kind != datafile.MISSING:
            if header.encrypted and self.passphrase is None and not crypto.encryption_available():
                raise NotAnSlptermDatabase(_not_sqlite_message(path))
            app_id, version, tables = _inspect(path, self.passphrase)
            passphrase = self.passphrase if header.encrypted else None
            if tables and app_id != APPLICATION_ID:
                raise NotAnSlptermDatabase(
                    f"{path} is an SQLite database of another program, not slpterm's. "
                    "Choose another data directory. The file was not changed."
                )
            if tables:
                if version > SCHEMA_VERSION:
                    raise SchemaTooNew(str(path), version, SCHEMA_VERSION)
                if version < SCHEMA_VERSION:
                    self.migration_backup = _migrate(path, version, passphrase)
                return
        self._create(path)

    @staticmethod
    def _create(path: Path) -> None:
        """Write a new data file beside ``path`` and move it into place whole, so that a crash while
        creating never leaves an empty or half-made file where the clinic's data belongs."""
        partial = path.with_name(path.name + ".creating")
        for leftover in (partial, *(Path(str(partial) + suffix) for suffix in datafile.COMPANION_SUFFIXES)):
            leftover.unlink(missing_ok=True)
        creation_errors: tuple[type[BaseException], ...] = (OSError, *datafile.database_errors())
        try:
            create_private_file(partial)  # SQLite keeps the mode and gives it to the -wal and -shm files
            datafile.connect(partial, None, timeout=BUSY_TIMEOUT_SECONDS).close()
        except creation_errors as error:
            raise DataDirectoryUnusable(
                f"Cannot create {path} ({error}). Check that the folder is writable, "
                "or choose another with --data-dir DIR."
            ) from error
        owner_only(partial)
        engine = _engine(partial, None, "BEGIN IMMEDIATE", journal_mode="DELETE")
        try:
            with engine.begin() as connection:
                SQLModel.metadata.create_all(connection)
                for statement in immutability_triggers():
                    connection.exec_driver_sql(statement)
                # The file's lasting identity (ClinicRepository.identity); older files get one when first asked.
                connection.exec_driver_sql("INSERT INTO appsetting (key, value) VALUES ('data_file_identity', ?)",
                                           (str(uuid.uuid4()),))
                connection.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
                connection.exec_driver_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")
        finally:
            engine.dispose()
        datafile.fsync(partial)
        os.replace(partial, path)

    def _make_engine(self, begin_statement: str) -> Engine:
        return _engine(self.path, self.passphrase, begin_statement)

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.read_engine, expire_on_commit=False) as session:
            yield session

    def check_file_unchanged(self) -> None:
        """Refuse to write into a file that was deleted or replaced while slpterm had it open."""
        if self._file_identity() != self._identity:
            raise StorageUnavailable(
                f"The data file {self.path} was deleted or replaced while slpterm was running, so nothing "
                "more is written to it. Quit slpterm and start it again to open the file that is there now "
                "(or restore a backup)."
            )

    @contextlib.contextmanager
    def write(self, *, changes_records: bool = True) -> Iterator[Session]:
        """A write transaction (BEGIN IMMEDIATE), committed durably when the block ends.

        ``generation`` counts committed writes that change records (not audit-only entries), so
        screens can tell whether what they show is out of date.
        """
        self.check_file_unchanged()
        with Session(self.write_engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
                if changes_records:
                    self.generation += 1
                    self.changes.committed(session.info.pop(SESSION_INFO_KEY, None))
            except exc.OperationalError as error:
                session.rollback()
                raise _storage_error(error, self.path) from error
            except exc.IntegrityError as error:
                session.rollback()
                if "locked" in str(error.orig) or "never change" in str(error.orig):
                    raise LockedRecord("This session is signed and locked; corrections are addenda (F10).") from error
                raise
            except BaseException:
                session.rollback()
                raise

    def schema_version(self) -> int:
        with self.read_engine.connect() as connection:
            version: int = connection.exec_driver_sql("PRAGMA user_version").scalar_one()
            return version

    def integrity_problems(self) -> list[str]:
        with self.read_engine.connect() as connection:
            rows = connection.execute(text("PRAGMA integrity_check")).scalars().all()
        return [] if rows == ["ok"] else list(rows)

    def close(self) -> None:
        self.read_engine.dispose()
        self.write_engine.dispose()

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the main file (before copying or re-keying it)."""
        connection = crypto.connect(self.path, self.passphrase, timeout=BUSY_TIMEOUT_SECONDS)
        try:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            connection.close()

    def rekey(self, new_passphrase: str | None,
              prepare_copy: Callable[[SqliteConnection], None] | None = None) -> None:
        """Encrypt, re-encrypt under a new passphrase, or decrypt (None) the file in place.

        A complete copy is written under the new key, checked, then renamed over the file, so an
        interruption leaves the old file as it was. ``prepare_copy`` runs on a connection to the
        copy, in one transaction, before it replaces the file (the audit trail is re-sealed there).
        """
        self.check_file_unchanged()
        with self.exclusive_access("Changing the passphrase"):
            self.close()
            try:
                self.checkpoint()
                temporary = self.path.with_name(self.path.name + ".rekey")
                try:
                    crypto.export_copy(self.path, self.passphrase, temporary, new_passphrase)
                    if prepare_copy is not None:
                        connection = crypto.connect(temporary, new_passphrase, timeout=BUSY_TIMEOUT_SECONDS)
                        try:
                            connection.execute("BEGIN IMMEDIATE")
                            prepare_copy(connection)
                            connection.execute("COMMIT")
                        finally:
                            connection.close()
                    _inspect(temporary, new_passphrase)
                    os.replace(temporary, self.path)
                finally:
                    temporary.unlink(missing_ok=True)
                # The old file's log and index (checkpointed above, and no other slpterm has it open).
                for suffix in ("-wal", "-shm"):
                    Path(str(self.path) + suffix).unlink(missing_ok=True)
            except BaseException:
                self.read_engine = self._make_engine("BEGIN")
                self.write_engine = self._make_engine("BEGIN IMMEDIATE")
                raise
        self.passphrase = new_passphrase
        self.encrypted = new_passphrase is not None
        self.mark_encryption()
        self._identity = self._file_identity()
        self.read_engine = self._make_engine("BEGIN")
        self.write_engine = self._make_engine("BEGIN IMMEDIATE")


def _engine(path: Path, passphrase: str | None, begin_statement: str, journal_mode: str = "WAL") -> Engine:
    """An engine whose connections come from ``datafile.connect`` (never straight from the driver)."""
    engine = create_engine(
        f"sqlite:///{path}",  # the URL picks the pool (as for any file); ``creator`` makes the connections
        module=crypto.driver(passphrase),
        creator=lambda: datafile.connect(path, passphrase, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False),
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: SqliteConnection, _record: object) -> None:
        # Let the begin event issue BEGIN itself (the driver's own BEGIN would be deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.execute(f"PRAGMA journal_mode = {journal_mode}")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql(begin_statement)

    return engine


def copy_database(source: Path, target: Path, passphrase: str | None = None) -> None:
    """A consistent copy through SQLite's online backup (safe while the app writes)."""
    crypto.copy(source, passphrase, target)

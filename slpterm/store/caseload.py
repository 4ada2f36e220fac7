"""The caseload: one light row per patient, read with a few flat queries so 100,000 rows load quickly.

``read_caseload_rows(path)`` reads the rows with the standard library's ``sqlite3`` alone, so the
app can show the caseload before SQLAlchemy is even imported; ``CaseloadRepository.rows()`` gives
the same rows through the open store (plus each patient's last session date).
``CaseloadPreviewReader`` reads just the counts and the first screenful in a background thread
started with the process, so the first frame already shows the caseload. Nothing here imports
SQLAlchemy at module level.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable

_PATIENTS_SQL = """
SELECT id, last_name, first_name, external_id, date_of_birth, school, grade, archived_at IS NOT NULL
FROM patient {where}
ORDER BY last_name COLLATE NOCASE, first_name COLLATE NOCASE {limit}
"""
_ACTIVE = "WHERE archived_at IS NULL"
# The lowest rank is the primary coverage; among equal ranks the first written wins.
_COVERAGE_SQL = "SELECT patient_id, payer_kind, payer_name FROM coverage {where} ORDER BY rank DESC, rowid DESC"
_DIAGNOSES_SQL = "SELECT patient_id, code FROM diagnosis WHERE active {also} ORDER BY rank, rowid"
_DRAFTS_SQL = "SELECT patient_id, COUNT(*) FROM sessionparticipant WHERE status = 'draft' {also} GROUP BY patient_id"
_COUNTS_SQL = """
SELECT (SELECT COUNT(*) FROM patient WHERE archived_at IS NULL),
       (SELECT COUNT(*) FROM sessionparticipant sp JOIN patient p ON p.id = sp.patient_id
        WHERE sp.status = 'draft' AND p.archived_at IS NULL)
"""
PREVIEW_ROWS = 150
# Sessions first, then their participants: a sequential scan of the session table instead of one
# random lookup per participant.
_LAST_SEEN_SQL = """
SELECT sp.patient_id, MAX(s.date_of_service)
FROM session s CROSS JOIN sessionparticipant sp ON sp.session_id = s.id
GROUP BY sp.patient_id
"""


@dataclass(slots=True)
class CaseloadRow:
    patient_id: str
    name: str
    external_id: str
    date_of_birth: date | None
    school: str
    payer: str
    diagnoses: str
    archived: bool
    drafts: int = 0
    last_seen: date | None = None
    due: str = ""
    search_text: str = field(default="", repr=False)

    def matches(self, words: list[str]) -> bool:
        return all(word in self.search_text for word in words)


def _as_date(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value  # type: ignore[return-value]
    return date.fromisoformat(str(value)[:10])


def build_rows(execute: Callable[[str], Any], include_archived: bool = False,
               last_seen: bool = True, limit: int | None = None) -> list[CaseloadRow]:
    """Caseload rows from ``execute(sql) -> iterable of tuples`` (any DB-API cursor's execute);
    with ``limit``, only the first rows in caseload order."""
    where = "" if include_archived else _ACTIVE
    page = "" if limit is None else f"LIMIT {int(limit)}"
    patients = list(execute(_PATIENTS_SQL.format(where=where, limit=page)))
    if limit is None:
        only, also = "", ""
    else:
        ids = ", ".join("'" + str(patient[0]).replace("'", "''") + "'" for patient in patients)
        only, also = f"WHERE patient_id IN ({ids})", f"AND patient_id IN ({ids})"
    payers: dict[str, tuple[str, str]] = {}
    for patient_id, payer_kind, payer_name in execute(_COVERAGE_SQL.format(where=only)):
        payers[patient_id] = (payer_kind or "", payer_name or "")
    codes: dict[str, list[str]] = {}
    for patient_id, code in execute(_DIAGNOSES_SQL.format(also=also)):
        codes.setdefault(patient_id, []).append(code)
    drafts = dict(execute(_DRAFTS_SQL.format(also=also)))
    seen = dict(execute(_LAST_SEEN_SQL)) if last_seen else {}
    rows = []
    for patient_id, last_name, first_name, external_id, dob, school, grade, archived in patients:
        name = f"{last_name}, {first_name}".strip(", ")
        payer_kind, payer_name = payers.get(patient_id, ("", ""))
        diagnoses = " ".join(codes.get(patient_id, ()))
        school_text = f"{school} gr {grade}".strip() if grade else school
        rows.append(CaseloadRow(
            patient_id=patient_id,
            name=name,
            external_id=external_id,
            date_of_birth=_as_date(dob),
            school=school_text,
            payer=payer_kind,
            diagnoses=diagnoses,
            archived=bool(archived),
            drafts=drafts.get(patient_id, 0),
            last_seen=_as_date(seen.get(patient_id)),
            search_text=" ".join(
                part for part in (name, f"{first_name} {last_name}", external_id, school, payer_name, diagnoses)
                if part
            ).lower(),
        ))
    return rows


def _read_only(database: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{Path(database).resolve()}?mode=ro", uri=True, check_same_thread=False)


def read_caseload_rows(database: Path, include_archived: bool = False) -> list[CaseloadRow]:
    """The caseload straight from a plain (unencrypted) data file, read-only, without the store.

    ``last_seen`` is left empty (it needs the largest scan). Raises ``sqlite3.Error`` when the file
    cannot be read this way (encrypted, missing, not yet migrated); callers then use the store.
    """
    connection = _read_only(database)
    try:
        return build_rows(lambda sql: connection.execute(sql), include_archived, last_seen=False)
    finally:
        connection.close()


@dataclass(frozen=True)
class CaseloadPreview:
    """What the first frame shows: the active patients' and unsigned drafts' counts and the first
    rows in caseload order."""

    total: int
    drafts: int
    rows: list[CaseloadRow]


def read_caseload_preview(database: Path, limit: int = PREVIEW_ROWS) -> CaseloadPreview:
    """The counts and first ``limit`` active rows of a plain data file (``sqlite3.Error`` as above)."""
    connection = _read_only(database)
    try:
        total, drafts = connection.execute(_COUNTS_SQL).fetchone()
        rows = build_rows(lambda sql: connection.execute(sql), last_seen=False, limit=limit)
        return CaseloadPreview(total=total, drafts=drafts, rows=rows)
    finally:
        connection.close()


class CaseloadPreviewReader:
    """Reads the caseload preview in a background thread from the moment it is made, so the
    read overlaps the interpreter importing the user interface (SQLite releases the GIL while it
    works). ``result()`` is None when the file could not be read this way."""

    def __init__(self, database: Path, limit: int = PREVIEW_ROWS) -> None:
        self._database = Path(database)
        self._limit = limit
        self._preview: CaseloadPreview | None = None
        self._done = threading.Event()
        threading.Thread(target=self._read, name="caseload-preview", daemon=True).start()

    def _read(self) -> None:
        try:
            if self._database.is_file():
                self._preview = read_caseload_preview(self._database, self._limit)
        except Exception:  # noqa: BLE001 - encrypted, old or damaged files are left to the store
            self._preview = None
        finally:
            self._done.set()

    def done(self) -> bool:
        return self._done.is_set()

    def result(self, timeout: float | None = None) -> CaseloadPreview | None:
        self._done.wait(timeout)
        return self._preview


class CaseloadRepository:
    """The caseload through the open store (``store.caseload``)."""

    def __init__(self, store) -> None:  # noqa: ANN001
        self.store = store

    @property
    def db(self):  # noqa: ANN201
        return self.store.db

    def rows(self, include_archived: bool = False) -> list[CaseloadRow]:
        with self.db.read() as session:
            cursor = session.connection().connection.dbapi_connection.cursor()
            try:
                return build_rows(lambda sql: cursor.execute(sql).fetchall(), include_archived)
            finally:
                cursor.close()


def filter_rows(rows: list[CaseloadRow], query: str) -> list[CaseloadRow]:
    """Rows whose name, ID, school, payer or diagnoses contain every word of the query."""
    words = query.lower().split()
    if not words:
        return rows
    if len(words) == 1:
        word = words[0]
        return [row for row in rows if word in row.search_text]
    return [row for row in rows if row.matches(words)]

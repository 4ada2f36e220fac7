"""The caseload, read so that 100,000 patients stay light in memory and quick to show.

- ``CaseloadIndex``: every patient's id and lowercase search text in caseload order, which is all
  the filter needs (about 250 bytes a patient), plus the counts for the status line and, filled in
  later, each patient's "Needs" and trend cells.
- ``details(ids)``: the displayed row (``CaseloadRow``) of just the patients on screen.
- ``CaseloadPreviewReader``: the counts and the first screenful, read in a background thread started
  with the process, so the first frame already shows the caseload.

Every reading is plain SQL through a DB-API ``execute``, so a connection from ``datafile.connect``
can do it before SQLAlchemy is even imported (``CaseloadFile``, plain files only: the same SQLite
library as the store's) and the store's connection afterwards (``CaseloadRepository``). ``CaseloadRepository.rows()`` still gives every patient's full row, for
commands and reports. Nothing here imports SQLAlchemy at module level.
"""

from __future__ import annotations

import csv
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

Execute = Callable[[str, Sequence[Any]], Iterable[tuple[Any, ...]]]
T = TypeVar("T")

if TYPE_CHECKING:
    from slpterm.store.datafile import SqliteConnection
    from slpterm.store.store import Store

# The lowest rank is the primary coverage; among equal ranks the first written wins. Kind and name
# travel in one value (split on the unit separator) so each patient costs one coverage lookup.
_ROWS_SQL = """
SELECT p.id, p.last_name, p.first_name, p.external_id, p.date_of_birth, p.school, p.grade,
       p.archived_at IS NOT NULL,
       (SELECT coalesce(c.payer_kind, '') || char(31) || coalesce(c.payer_name, '') FROM coverage c
        WHERE c.patient_id = p.id ORDER BY c.rank, c.rowid LIMIT 1),
       (SELECT group_concat(d.code, ' ') FROM
           (SELECT code FROM diagnosis WHERE patient_id = p.id AND active ORDER BY rank, rowid) d),
       (SELECT group_concat(d.description, ' ') FROM diagnosis d WHERE d.patient_id = p.id AND d.active)
FROM {patients} p {where}
{order}
"""
_ORDER = "ORDER BY p.last_name COLLATE NOCASE, p.first_name COLLATE NOCASE"
_ACTIVE = "WHERE p.archived_at IS NULL"
_DRAFTS_SQL = """
SELECT sp.patient_id, COUNT(*) FROM sessionparticipant sp JOIN patient p ON p.id = sp.patient_id
WHERE sp.status = 'draft' {also} GROUP BY sp.patient_id
"""
# "+status": look the few patients up by id rather than scan every draft.
_PATIENT_DRAFTS_SQL = """
SELECT patient_id, COUNT(*) FROM sessionparticipant WHERE patient_id IN ({marks}) AND +status = 'draft'
GROUP BY patient_id
"""
_ACTIVE_COUNT_SQL = "SELECT COUNT(*) FROM patient WHERE archived_at IS NULL"
PREVIEW_ROWS = 150
_DETAILS_BATCH = 500  # ids per query (SQLite's default limit on parameters is far above)


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
    search_text: str = field(default="", repr=False)


def _as_date(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _display_name(last_name: str, first_name: str) -> str:
    return f"{last_name}, {first_name}".strip(", ")


def _split_payer(value: str | None) -> tuple[str, str]:
    kind, _, name = (value or "").partition("\x1f")
    return kind, name


# The bundled ICD-10-CM list (slpterm.clinical.icd10 reads it too; that module is heavier to import).
_CODE_LIST = Path(__file__).resolve().parent.parent / "rules" / "icd10_slp.csv"


@lru_cache(maxsize=1)
def _catalog_descriptions() -> dict[str, str]:
    """Code → lowercase description from the bundled list ({} if it cannot be read: the filter
    then matches the stored descriptions only)."""
    try:
        with _CODE_LIST.open(newline="", encoding="utf-8") as handle:
            return {row["code"].strip().upper(): row["description"].strip().lower()
                    for row in csv.DictReader(handle) if row.get("code") and row.get("description")}
    except (OSError, KeyError, csv.Error):
        return {}


@lru_cache(maxsize=8192)
def _catalog_words(codes: str) -> tuple[str, ...]:
    """The catalog descriptions of a patient's codes (lists of codes repeat across a caseload)."""
    catalog = _catalog_descriptions()
    return tuple(catalog[code] for code in codes.upper().split() if code in catalog)


def _diagnosis_text(codes: str | None, described: str | None) -> str:
    """Codes, the descriptions stored with them, and the catalog's description of each code that
    the stored one does not already contain (a clinic's own wording may leave out e.g. "stuttering")."""
    codes, described = codes or "", described or ""
    stored = described.lower()
    extra = " ".join(words for words in _catalog_words(codes) if words not in stored)
    return " ".join(part for part in (codes, described, extra) if part)


def _search_text(name: str, external_id: str, school: str, payer_kind: str, payer_name: str,
                 diagnoses: str) -> str:
    payer = payer_name if payer_kind.lower() in payer_name.lower() else f"{payer_kind} {payer_name}"
    return " ".join(part for part in (name, external_id, school, payer.strip(), diagnoses) if part).lower()


def _drafts(execute: Execute, include_archived: bool) -> dict[str, int]:
    """Unsigned draft notes per patient (only patients that have any)."""
    sql = _DRAFTS_SQL.format(also="" if include_archived else "AND p.archived_at IS NULL")
    return {patient_id: count for patient_id, count in execute(sql, ())}


def _row(values: tuple[Any, ...], drafts: dict[str, int]) -> CaseloadRow:
    patient_id, last_name, first_name, external_id, dob, school, grade, archived, payer, diagnoses, described = values
    payer_kind, payer_name = _split_payer(payer)
    name = _display_name(last_name, first_name)
    diagnoses = diagnoses or ""
    return CaseloadRow(
        patient_id=patient_id,
        name=name,
        external_id=external_id,
        date_of_birth=_as_date(dob),
        # Schools, payers and diagnosis lists repeat across a caseload: keep one copy of each.
        school=sys.intern(f"{school} gr {grade}".strip() if grade else school),
        payer=sys.intern(payer_kind),
        diagnoses=sys.intern(diagnoses),
        archived=bool(archived),
        drafts=drafts.get(patient_id, 0),
        search_text=_search_text(name, external_id, school, payer_kind, payer_name, _diagnosis_text(diagnoses, described)),
    )


def _patients(execute: Execute, include_archived: bool, limit: int | None = None) -> Iterable[tuple[Any, ...]]:
    where = "" if include_archived else _ACTIVE
    if limit is None:
        return execute(_ROWS_SQL.format(patients="patient", where=where, order=_ORDER), ())
    # The page is chosen first, so the per-patient lookups run for its rows only.
    page = f"(SELECT * FROM patient p {where} {_ORDER} LIMIT {int(limit)})"
    return execute(_ROWS_SQL.format(patients=page, where="", order=_ORDER), ())


def build_rows(execute: Execute, include_archived: bool = False, limit: int | None = None) -> list[CaseloadRow]:
    """Full caseload rows in caseload order (the first ``limit`` with a limit)."""
    if limit is not None:
        page = list(_patients(execute, include_archived, limit))
        drafts = _page_drafts(execute, [values[0] for values in page])
        return [_row(values, drafts) for values in page]
    drafts = _drafts(execute, include_archived)
    return [_row(values, drafts) for values in _patients(execute, include_archived)]


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


def _page_drafts(execute: Execute, patient_ids: list[str]) -> dict[str, int]:
    if not patient_ids:
        return {}
    return dict(execute(_PATIENT_DRAFTS_SQL.format(marks=_marks(patient_ids)), patient_ids))


def build_details(execute: Execute, patient_ids: Sequence[str]) -> dict[str, CaseloadRow]:
    """The rows of just these patients (archived or not), keyed by patient id."""
    found: dict[str, CaseloadRow] = {}
    for start in range(0, len(patient_ids), _DETAILS_BATCH):
        batch = list(patient_ids[start:start + _DETAILS_BATCH])
        drafts = _page_drafts(execute, batch)
        where = f"WHERE p.id IN ({_marks(batch)})"
        for values in execute(_ROWS_SQL.format(patients="patient", where=where, order=""), batch):
            row = _row(values, drafts)
            found[row.patient_id] = row
    return found


@dataclass
class CaseloadIndex:
    """The caseload in order, as parallel lists indexed by position: what filtering needs, and the
    cells filled in after the rows ("Needs", trend). ``total`` can exceed ``len(ids)`` for a preview."""

    ids: list[str]
    search: list[str]
    archived: bytearray
    drafts: dict[str, int]
    total: int
    complete: bool = True
    needs: list[str] = field(default_factory=list)
    trends: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.needs = self.needs or [""] * len(self.ids)
        self.trends = self.trends or [""] * len(self.ids)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def draft_count(self) -> int:
        return sum(self.drafts.values())

    def positions(self) -> dict[str, int]:
        return {patient_id: position for position, patient_id in enumerate(self.ids)}

    def fill(self, cells: Iterable[tuple[str, str]], column: list[str],
             positions: dict[str, int] | None = None) -> None:
        """Put ``(patient_id, text)`` pairs into ``column`` (``needs`` or ``trends``)."""
        positions = positions if positions is not None else self.positions()
        for patient_id, text in cells:
            position = positions.get(patient_id)
            if position is not None:
                column[position] = sys.intern(text)

    def filter(self, query: str, within: Sequence[int] | None = None) -> Sequence[int]:
        """Positions of the patients whose name, ID, school, payer, diagnosis codes or descriptions contain every word
        of ``query`` (case-insensitive); ``within`` narrows an earlier result."""
        words = query.lower().split()
        if not words:
            return range(len(self.ids)) if within is None else within
        search = self.search
        if len(words) == 1:
            word = words[0]
            if within is None:
                return [position for position, text in enumerate(search) if word in text]
            return [position for position in within if word in search[position]]
        candidates = range(len(self.ids)) if within is None else within
        return [position for position in candidates if all(word in search[position] for word in words)]


def build_index(execute: Execute, include_archived: bool = False,
                previous: CaseloadIndex | None = None) -> CaseloadIndex:
    """The index in caseload order. With ``previous`` (the index shown until now), unchanged ids and
    search texts are the previous objects, so reading again does not hold two copies, and each
    patient keeps their trend until it is worked out again ("Needs" are left to be recomputed)."""
    earlier = previous.positions() if previous is not None else {}
    ids: list[str] = []
    search: list[str] = []
    trends: list[str] = []
    archived = bytearray()
    for (patient_id, last_name, first_name, external_id, _dob, school, _grade, is_archived, payer,
         diagnoses, described) in _patients(execute, include_archived):
        payer_kind, payer_name = _split_payer(payer)
        text = _search_text(_display_name(last_name, first_name), external_id, school, payer_kind, payer_name,
                            _diagnosis_text(diagnoses, described))
        at = earlier.get(patient_id)
        if at is None or previous is None:
            trends.append("")
        else:
            patient_id = previous.ids[at]
            text = previous.search[at] if previous.search[at] == text else text
            trends.append(previous.trends[at])
        ids.append(patient_id)
        search.append(text)
        archived.append(1 if is_archived else 0)
    drafts = _drafts(execute, include_archived)
    return CaseloadIndex(ids=ids, search=search, archived=archived, drafts=drafts, total=len(ids), trends=trends)


@dataclass(frozen=True)
class CaseloadPreview:
    """What the first frame shows: a partial index (the first rows in caseload order, with the whole
    caseload's patient count) and those rows' cells."""

    index: CaseloadIndex
    rows: dict[str, CaseloadRow]


def build_preview(execute: Execute, limit: int = PREVIEW_ROWS) -> CaseloadPreview:
    # Without the unsigned drafts: counting them takes longer than the rest, and the full index brings them.
    rows = build_rows(execute, limit=limit)
    (total,), = execute(_ACTIVE_COUNT_SQL, ())
    index = CaseloadIndex(
        ids=[row.patient_id for row in rows], search=[row.search_text for row in rows],
        archived=bytearray(len(rows)), drafts={}, total=total, complete=False,
    )
    return CaseloadPreview(index=index, rows={row.patient_id: row for row in rows})


class _CaseloadReadings:
    """The readings, given ``_run(work)`` that calls ``work(execute)`` inside a read."""

    def _run(self, work: Callable[[Execute], T]) -> T:
        raise NotImplementedError

    def rows(self, include_archived: bool = False) -> list[CaseloadRow]:
        return self._run(lambda execute: build_rows(execute, include_archived))

    def index(self, include_archived: bool = False, previous: CaseloadIndex | None = None) -> CaseloadIndex:
        return self._run(lambda execute: build_index(execute, include_archived, previous))

    def details(self, patient_ids: Sequence[str]) -> dict[str, CaseloadRow]:
        return self._run(lambda execute: build_details(execute, patient_ids))

    def close(self) -> None:
        """Let go of anything kept open between readings (nothing, unless a subclass keeps it)."""


class CaseloadFileUnreadable(Exception):
    """The data file cannot be read without the store (missing, empty, encrypted, not SQLite)."""


class CaseloadFile(_CaseloadReadings):
    """The caseload straight from a plain (unencrypted) data file, read-only, without the store.

    Raises ``CaseloadFileUnreadable`` (or the SQLite library's error, e.g. for a file not yet
    migrated) when the file cannot be read this way; callers then use the store.
    """

    def __init__(self, database: Path) -> None:
        self.database = Path(database)
        self._details_connection: SqliteConnection | None = None

    def _connect(self) -> SqliteConnection:
        from slpterm.store import datafile

        header = datafile.read_header(self.database)
        if header.kind != datafile.PLAIN:
            raise CaseloadFileUnreadable(f"{self.database} is {header.kind}; the store reads it")
        return datafile.connect(self.database, None, read_only=True, check_same_thread=False)

    def _run(self, work: Callable[[Execute], T]) -> T:
        connection = self._connect()
        try:
            return work(lambda sql, params: connection.execute(sql, params))
        finally:
            connection.close()

    def details(self, patient_ids: Sequence[str]) -> dict[str, CaseloadRow]:
        """Kept on one connection of its own: details are read a screenful at a time while scrolling."""
        if self._details_connection is None:
            self._details_connection = self._connect()
        connection = self._details_connection
        return build_details(lambda sql, params: connection.execute(sql, params), patient_ids)

    def close(self) -> None:
        if self._details_connection is not None:
            self._details_connection.close()
            self._details_connection = None

    def preview(self, limit: int = PREVIEW_ROWS) -> CaseloadPreview:
        return self._run(lambda execute: build_preview(execute, limit))


class CaseloadPreviewReader:
    """Reads the caseload preview in a background thread from the moment it is made, so the
    read overlaps the interpreter importing the user interface (SQLite releases the GIL while it
    works). ``result()`` is None when the file could not be read this way."""

    def __init__(self, database: Path, limit: int = PREVIEW_ROWS) -> None:
        self._file = CaseloadFile(database)
        self._limit = limit
        self._preview: CaseloadPreview | None = None
        self._done = threading.Event()
        threading.Thread(target=self._read, name="caseload-preview", daemon=True).start()

    def _read(self) -> None:
        try:
            self._preview = self._file.preview(self._limit)
        except Exception:  # noqa: BLE001 - encrypted, old or damaged files are left to the store
            self._preview = None
        finally:
            self._done.set()

    def done(self) -> bool:
        return self._done.is_set()

    def result(self, timeout: float | None = None) -> CaseloadPreview | None:
        self._done.wait(timeout)
        return self._preview


class CaseloadRepository(_CaseloadReadings):
    """The caseload through the open store (``store.caseload``)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _run(self, work: Callable[[Execute], T]) -> T:
        with self.store.db.read() as session:
            connection = session.connection().connection.dbapi_connection
            assert connection is not None, "a session in a transaction has its driver connection"
            cursor = connection.cursor()
            try:
                # Rows are streamed from the cursor, never all fetched at once.
                return work(lambda sql, params: cursor.execute(sql, params))
            finally:
                cursor.close()

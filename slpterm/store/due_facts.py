"""The records behind "what is due", read with a fixed number of queries (``store.due_facts``).

One patient (the chart) and a whole slice of the caseload are read by the same queries, so the
caseload costs the same few queries whatever its size. The records are the stored values, typed;
which of them count (episodes, report periods, IEP periods, KX) is decided by
``slpterm.services.due`` with the rules in ``slpterm.clinical``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import TextClause

    from slpterm.store.store import Store

_COVERAGE_SQL = "SELECT patient_id, payer_kind, payer_id FROM coverage {where} ORDER BY patient_id, rank"

_PLANS_SQL = """
SELECT p.id, p.patient_id, p.start_date, p.end_date, p.status, p.certified_on, p.previous_plan_id
FROM planofcare p
WHERE p.status != 'discharged' {and_patient}
"""

# Per plan not discharged: the distinct dates of the patient's sessions from ``lookback`` days before
# its start to its end, in one pass over the patient's sessions.
_PLAN_SESSIONS_SQL = """
SELECT p.id, group_concat(DISTINCT s.date_of_service)
FROM planofcare p
JOIN sessionparticipant sp ON sp.patient_id = p.patient_id
JOIN session s ON s.id = sp.session_id
WHERE p.status != 'discharged' {and_patient}
  AND s.date_of_service >= date(p.start_date, '-{lookback} days') AND s.date_of_service <= p.end_date
GROUP BY p.id
"""

_REPORT_DATES_SQL = """
SELECT r.plan_id, r.written_on FROM progressreport r JOIN planofcare p ON p.id = r.plan_id
WHERE r.signed_at IS NOT NULL AND p.status != 'discharged' {and_patient}
"""

_IEP_SQL = """
SELECT patient_id, minutes_required, period, kind FROM iepservice
WHERE (start_date IS NULL OR start_date <= :today) AND (end_date IS NULL OR end_date >= :today) {and_patient}
"""

_IEP_MINUTES_SQL = """
SELECT sp.patient_id,
       SUM(CASE WHEN s.date_of_service >= :week_start THEN
           (julianday(t.ended_at) - julianday(t.started_at)) * 1440.0 ELSE 0 END),
       SUM(CASE WHEN s.date_of_service >= :month_start THEN
           (julianday(t.ended_at) - julianday(t.started_at)) * 1440.0 ELSE 0 END)
FROM sessionparticipant sp
JOIN session s ON s.id = sp.session_id
JOIN timesegment t ON t.session_id = s.id AND t.ended_at IS NOT NULL
WHERE s.date_of_service >= :since AND s.date_of_service <= :today {and_patient}
  AND sp.patient_id IN (SELECT patient_id FROM iepservice)
GROUP BY sp.patient_id
"""

_VISITS_SQL = """
SELECT sp.patient_id, COUNT(DISTINCT s.date_of_service)
FROM sessionparticipant sp JOIN session s ON s.id = sp.session_id
WHERE s.date_of_service >= :year_start AND s.date_of_service <= :today {and_patient}
  AND sp.patient_id IN (SELECT patient_id FROM coverage WHERE payer_kind = 'medicare')
GROUP BY sp.patient_id
"""

_OTHER_PROVIDERS_SQL = """
SELECT patient_id, other_providers_cents FROM therapyyearamount WHERE year = :year {and_patient}
"""

_ARCHIVED_SQL = "SELECT id FROM patient WHERE archived_at IS NOT NULL {and_patient}"

# Every n-th patient id (by id), read from the index rather than holding every id.
_CHUNK_STARTS_SQL = ("SELECT id FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS n FROM patient) "
                     "WHERE n % :chunk = 0 ORDER BY id")


def _date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _optional_date(value: object) -> date | None:
    return None if value is None else _date(value)


@dataclass(frozen=True, slots=True)
class DuePlan:
    """A plan of care that is not discharged, as stored (``status`` is the stored text)."""

    plan_id: str
    patient_id: str
    start: date
    end: date
    status: str
    certified_on: date | None
    previous_plan_id: str | None


@dataclass(frozen=True, slots=True)
class DueIepService:
    """An IEP service in force on the day read, as stored (``period`` and ``kind`` are the stored text)."""

    minutes_required: int
    period: str
    kind: str


@dataclass
class DueRecords:
    """Everything "what is due" reads for a set of patients, keyed by patient id (or plan id)."""

    archived: set[str] = field(default_factory=set)
    # The lowest-ranked coverage of each patient: (payer kind as stored, payer id).
    primary_coverage: dict[str, tuple[str, str]] = field(default_factory=dict)
    plans: dict[str, list[DuePlan]] = field(default_factory=lambda: defaultdict(list))
    # Per plan: dates its signed progress reports were written.
    report_dates: dict[str, list[date]] = field(default_factory=lambda: defaultdict(list))
    # Per plan: distinct session dates from ``lookback_days`` before its start to its end.
    session_dates: dict[str, list[date]] = field(default_factory=dict)
    iep_services: dict[str, list[DueIepService]] = field(default_factory=lambda: defaultdict(list))
    # Clock minutes of each student's sessions since the week's and since the month's first day.
    iep_minutes: dict[str, tuple[float, float]] = field(default_factory=dict)
    # Medicare patients: distinct session dates this calendar year through the day read.
    medicare_visit_days: dict[str, int] = field(default_factory=dict)
    # What other providers billed this calendar year, in cents.
    other_providers_cents: dict[str, int] = field(default_factory=dict)


class DueFactsReader:
    """``store.due_facts``: the stored records "what is due" is computed from."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def chunk_starts(self, chunk: int) -> list[str]:
        """The first patient id of every ``chunk`` patients in id order."""
        from sqlalchemy import text

        with self.store.db.read() as session:
            return [row[0] for row in session.connection().execute(text(_CHUNK_STARTS_SQL), {"chunk": chunk})]

    def read(self, today: date, *, week_start: date, month_start: date, lookback_days: int,
             patient_id: str | None = None, id_range: tuple[str, str | None] | None = None) -> DueRecords:
        """The records of every patient (or the one given, or those whose id is in ``id_range``, from
        the first id up to but not including the second).

        ``week_start``/``month_start`` start the IEP periods counted; ``lookback_days`` reaches back
        before a plan's start for the sessions (the evaluation) that may begin its episode. Archived
        patients are listed in ``archived`` unless one patient is asked for by id.
        """
        from sqlalchemy import text

        params: dict[str, object] = {"today": today.isoformat()}
        if patient_id is not None:
            params["patient_id"] = patient_id
        elif id_range is not None:
            params["low_id"], params["high_id"] = id_range

        def sql(template: str, column: str, *, where: bool = False) -> TextClause:
            joiner = "WHERE" if where else "AND"
            if patient_id is not None:
                clause = f"{joiner} {column} = :patient_id"
            elif id_range is not None:
                clause = f"{joiner} {column} >= :low_id" + (f" AND {column} < :high_id" if id_range[1] else "")
            else:
                clause = ""
            return text(template.format(and_patient=clause, where=clause, lookback=int(lookback_days)))

        records = DueRecords()
        with self.store.db.read() as session:
            connection = session.connection()
            if patient_id is None:
                records.archived = {row[0] for row in connection.execute(sql(_ARCHIVED_SQL, "id"), params)}
            for pid, kind, payer_id in connection.execute(sql(_COVERAGE_SQL, "patient_id", where=True), params):
                records.primary_coverage.setdefault(pid, (kind, payer_id or ""))
            for plan_id, pid, start, end, status, certified_on, previous in connection.execute(
                    sql(_PLANS_SQL, "p.patient_id"), params):
                records.plans[pid].append(DuePlan(plan_id, pid, _date(start), _date(end), status,
                                                  _optional_date(certified_on), previous))
            for plan_id, written in connection.execute(sql(_REPORT_DATES_SQL, "p.patient_id"), params):
                records.report_dates[plan_id].append(_date(written))
            for plan_id, days in connection.execute(sql(_PLAN_SESSIONS_SQL, "p.patient_id"), params):
                records.session_dates[plan_id] = [_date(day) for day in days.split(",")] if days else []
            for pid, minutes, period, kind in connection.execute(sql(_IEP_SQL, "patient_id"), params):
                records.iep_services[pid].append(DueIepService(minutes, period, kind))
            if records.iep_services:
                iep_params = {**params, "week_start": week_start.isoformat(), "month_start": month_start.isoformat(),
                              "since": min(week_start, month_start).isoformat()}
                for pid, week, month in connection.execute(sql(_IEP_MINUTES_SQL, "sp.patient_id"), iep_params):
                    records.iep_minutes[pid] = (week or 0.0, month or 0.0)
            year_start = date(today.year, 1, 1).isoformat()
            records.medicare_visit_days = dict(connection.execute(
                sql(_VISITS_SQL, "sp.patient_id"), {**params, "year_start": year_start}).all())
            records.other_providers_cents = dict(connection.execute(
                sql(_OTHER_PROVIDERS_SQL, "patient_id"), {**params, "year": today.year}).all())
        return records

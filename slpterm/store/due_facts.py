"""The records behind "what is due", read with a fixed number of queries (``store.due_facts``).

One patient (the chart) and a whole slice of the caseload are read by the same queries, so the
caseload costs the same few queries whatever its size. The records are the stored values, typed;
which of them count (episodes, report periods, IEP periods, KX) is decided by
``slpterm.services.due`` with the rules in ``slpterm.clinical``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import groupby
from operator import itemgetter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import TextClause

    from slpterm.store.changes import Change
    from slpterm.store.store import Store

_COVERAGE_SQL = "SELECT patient_id, payer_kind, payer_id FROM coverage {where} ORDER BY patient_id, rank"

_PLANS_SQL = """
SELECT p.id, p.patient_id, p.start_date, p.end_date, p.status, p.certified_on, p.previous_plan_id
FROM planofcare p
WHERE p.status != 'discharged' {and_patient}
"""

# The distinct dates of the sessions of every patient with a plan that is not discharged, in one
# pass over their sessions; each plan's dates are cut from them (a join on the plans would read a
# patient's whole history once per plan, and plans accumulate with the history).
_PATIENT_SESSION_DATES_SQL = """
SELECT DISTINCT sp.patient_id, substr(s.date_of_service, 1, 10)
FROM sessionparticipant sp
JOIN session s ON s.id = sp.session_id
WHERE sp.patient_id IN (SELECT p.patient_id FROM planofcare p WHERE p.status != 'discharged' {and_patient})
  {and_participant}
ORDER BY 1, 2
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


def _plan_session_dates(rows: Iterable[tuple[str, str]], plans: dict[str, list[DuePlan]],
                        lookback_days: int) -> dict[str, list[date]]:
    """Per plan: the distinct session dates from ``lookback_days`` before its start to its end, cut
    from ``rows`` (patient id, ISO date), sorted by patient and date."""
    session_dates: dict[str, list[date]] = {}
    for patient_id, group in groupby(rows, key=itemgetter(0)):
        patient_plans = plans.get(patient_id)
        if not patient_plans:
            continue
        days = [date.fromisoformat(day) for _, day in group]
        for plan in patient_plans:
            low = bisect_left(days, plan.start - timedelta(days=lookback_days))
            high = bisect_right(days, plan.end)
            if high > low:
                session_dates[plan.plan_id] = days[low:high]
    return session_dates


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
             patient_id: str | None = None, id_range: tuple[str, str | None] | None = None,
             patient_ids: Collection[str] | None = None) -> DueRecords:
        """The records of every patient (or the one given, or those whose id is in ``id_range``, from
        the first id up to but not including the second, or those in ``patient_ids``).

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
        elif patient_ids is not None:
            params.update({f"pid{n}": value for n, value in enumerate(patient_ids)})
            listed = ", ".join(f":pid{n}" for n in range(len(patient_ids))) or "NULL"

        def clause(column: str, joiner: str = "AND") -> str:
            if patient_id is not None:
                return f"{joiner} {column} = :patient_id"
            if id_range is not None:
                return f"{joiner} {column} >= :low_id" + (f" AND {column} < :high_id" if id_range[1] else "")
            if patient_ids is not None:
                return f"{joiner} {column} IN ({listed})"
            return ""

        def sql(template: str, column: str, *, where: bool = False) -> TextClause:
            chosen = clause(column, "WHERE" if where else "AND")
            return text(template.format(and_patient=chosen, where=chosen, lookback=int(lookback_days),
                                        and_participant=clause("sp.patient_id")))

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
            if records.plans:
                records.session_dates = _plan_session_dates(
                    connection.execute(sql(_PATIENT_SESSION_DATES_SQL, "p.patient_id"), params), records.plans,
                    lookback_days)
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


# How a changed record leads to its patient: a table with the patient's id, or one whose id (or
# the entity id the audit names) leads there through a participant, a plan or a session.
_PATIENT_OF = {
    "patient": "SELECT id, id FROM patient WHERE id IN ({ids})",
    "coverage": "SELECT id, patient_id FROM coverage WHERE id IN ({ids})",
    "diagnosis": "SELECT id, patient_id FROM diagnosis WHERE id IN ({ids})",
    "planofcare": "SELECT id, patient_id FROM planofcare WHERE id IN ({ids})",
    "iepservice": "SELECT id, patient_id FROM iepservice WHERE id IN ({ids})",
    "therapyyearamount": "SELECT id, patient_id FROM therapyyearamount WHERE id IN ({ids})",
    "goal": "SELECT g.id, p.patient_id FROM goal g JOIN planofcare p ON p.id = g.plan_id WHERE g.id IN ({ids})",
    "progressreport": ("SELECT r.id, p.patient_id FROM progressreport r JOIN planofcare p ON p.id = r.plan_id "
                       "WHERE r.id IN ({ids})"),
    "session": "SELECT session_id, patient_id FROM sessionparticipant WHERE session_id IN ({ids})",
    **{entity: "SELECT id, patient_id FROM sessionparticipant WHERE id IN ({ids})"
       for entity in ("sessionparticipant", "techniqueused", "goaladdressed", "sessionbillingfacts")},
    **{entity: (f"SELECT t.id, sp.patient_id FROM {entity} t JOIN sessionparticipant sp ON sp.id = t.participant_id "
                "WHERE t.id IN ({ids})")
       for entity in ("trialrecord", "soapnote", "signature", "addendum")},
}


def _named_patient(detail: object) -> str | None:
    if isinstance(detail, dict):
        named = detail.get("patient_id") or detail.get("patient")
        return named if isinstance(named, str) else None
    return None


def patients_changed(store: Store, changes: Iterable[Change]) -> set[str] | None:
    """The patients whose records ``changes`` (``slpterm.store.changes.Change``) touched, or None
    when one of them may concern every patient (a setting, the fee schedule, a clinician, an export)
    or names a record that cannot be traced to its patient any more."""
    from sqlalchemy import text

    patients: set[str] = set()
    wanted: dict[str, set[str]] = defaultdict(set)
    for change in changes:
        if change.entity not in _PATIENT_OF:
            return None
        named = _named_patient(change.detail)
        if named is not None:
            patients.add(named)
        else:
            wanted[change.entity].add(change.entity_id)
    if not wanted:
        return patients
    with store.db.read() as session:
        connection = session.connection()
        for entity, ids in wanted.items():
            found: set[str] = set()
            ordered = sorted(ids)
            for start in range(0, len(ordered), 500):
                chunk = ordered[start:start + 500]
                names = {f"id{n}": value for n, value in enumerate(chunk)}
                sql = _PATIENT_OF[entity].format(ids=", ".join(f":{name}" for name in names))
                for record_id, patient_id in connection.execute(text(sql), names):
                    found.add(record_id)
                    patients.add(patient_id)
            if found != ids:
                return None  # removed since: its patient is not known any more
    return patients

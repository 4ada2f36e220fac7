"""The bulk read behind coding: charts, histories and session details for many patients at once.

One path per question, each with a fixed number of queries whatever the number of patients:

- :meth:`BillingReadRepository.patients_of_participants`: which patients some participants belong to;
- :meth:`BillingReadRepository.read`: their charts, every session of theirs (the history, light
  rows) and, in the same snapshot, the details of the participants the caller names;
- :meth:`BillingReadRepository.load_details`: more details for a read already made;
- :meth:`BillingReadRepository.trial_counts`: per participant and goal, the trials not voided.

Rows come back as light read-only records with the attributes of the store's models (the columns
that were read), not as ORM objects: a whole clinic is read in seconds.
"""

from __future__ import annotations

import contextlib
import json
from collections import defaultdict, namedtuple
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Boolean, Column, Date, DateTime
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from slpterm.domain.bulk import paused_gc
from slpterm.store import models as store_models
from slpterm.store.base import Repository
from slpterm.store.models import UtcDateTime, table_name
from slpterm.store.patients import PatientChart
from slpterm.store.sessions import ParticipantDetail


def _to_date(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _to_utc(value: object) -> datetime | None:
    """Stored UTC (no offset, as ``UtcDateTime`` writes it) as an aware datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value + "+00:00")
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _to_bool(value: object) -> bool | None:
    return None if value is None else bool(value)


# Built at run time from the columns read, so only their instances are typed (as Any).
_RECORD_TYPES: dict[tuple[str, tuple[str, ...]], Any] = {}


def _record_type(table_name: str, names: tuple[str, ...]) -> Any:
    """A light read-only row type with the attributes of a store model (the columns that were read)."""
    key = (table_name, names)
    if key not in _RECORD_TYPES:
        _RECORD_TYPES[key] = namedtuple(f"{table_name.capitalize()}Row", names)
    return _RECORD_TYPES[key]


def _converter(column: Column[Any]) -> Callable[[object], object] | None:
    if isinstance(column.type, Date):
        return _to_date
    if isinstance(column.type, (DateTime, UtcDateTime)):
        return _to_utc
    if isinstance(column.type, Boolean):
        return _to_bool
    return None


def _read(connection: Connection, model: type[SQLModel], sql: str, params: dict[str, Any],
          columns: Sequence[str] | None = None, alias: str = "t") -> list[Any]:
    """Rows of ``model`` as light records; ``sql`` follows ``SELECT <columns> FROM <table> <alias>``."""
    table = SQLModel.metadata.tables[table_name(model)]
    names = tuple(columns or table.columns.keys())
    converters = [(index, converter) for index, converter in
                  ((index, _converter(table.columns[name])) for index, name in enumerate(names))
                  if converter is not None]
    make = _record_type(table.name, names)._make
    select_list = ", ".join(f"{alias}.{name}" for name in names)
    rows = connection.exec_driver_sql(f"SELECT {select_list} FROM {table.name} {alias} {sql}", params).cursor.fetchall()
    if not converters:
        return [make(row) for row in rows]
    records = []
    for row in rows:
        values = list(row)
        for index, convert in converters:
            if values[index] is not None:
                values[index] = convert(values[index])
        records.append(make(values))
    return records


_SESSION_COLUMNS = ("id", "date_of_service", "session_type", "evaluation_kind", "setting", "clinician_id",
                    "started_at", "stopped_at", "heartbeat_at", "manual_time", "aac_device", "group_rationale")
_PARTICIPANT_COLUMNS = ("id", "session_id", "patient_id", "status", "distinct_service_note", "rehabilitative")
_PATIENTS_OF_PARTICIPANTS_SQL = "SELECT DISTINCT patient_id FROM sessionparticipant WHERE id IN (SELECT value FROM json_each(?))"
_IN_LIST = "IN (SELECT value FROM json_each(:{name}))"

# The history needs only when and what each session was; the rest is read for the sessions coded.
HistoryParticipant = namedtuple("HistoryParticipant", ("id", "session_id", "patient_id"))
HistorySession = namedtuple("HistorySession", ("id", "date_of_service", "session_type"))
HistoryRow = tuple[Any, Any]  # (HistoryParticipant, HistorySession)


class BillingRead:
    """What one :meth:`BillingReadRepository.read` returned, for a set of patients (``None``: all).

    ``charts`` by patient id; ``history`` by patient id: light (participant, session) rows, newest
    first, with participant ``id``, ``session_id``, ``patient_id`` and session ``id``,
    ``date_of_service``, ``session_type``; ``rows`` by participant id, the same rows; ``details`` by
    participant id: a :class:`ParticipantDetail` whose ``note`` is empty and whose ``trials`` are not
    read. For a whole-clinic read every participant has its details and every chart all its goals;
    otherwise the charts hold the goals of the sessions whose details were read.
    """

    def __init__(self, patient_ids: Sequence[str] | None) -> None:
        self.patient_ids = None if patient_ids is None else list(dict.fromkeys(patient_ids))
        self.charts: dict[str, PatientChart] = {}
        self.history: dict[str, list[HistoryRow]] = {}
        self.rows: dict[str, HistoryRow] = {}
        self.details: dict[str, ParticipantDetail] = {}
        self._plan_patient: dict[str, str] = {}
        self._goal_ids: set[str] = set()

    def filter(self, column: str, keyword: str = "WHERE") -> tuple[str, dict[str, Any]]:
        """The SQL condition (and its parameters) that limits ``column`` to these patients."""
        if self.patient_ids is None:
            return "", {}
        return f"{keyword} {column} {_IN_LIST.format(name='patients')}", {"patients": json.dumps(self.patient_ids)}


class BillingReadRepository(Repository):
    """The bulk read behind coding (see the module's paths)."""

    @contextlib.contextmanager
    def _connection(self) -> Iterator[Connection]:
        """A connection in one read transaction (a consistent snapshot for every query)."""
        with self.db.read() as session:
            yield session.connection()

    def patients_of_participants(self, participant_ids: Sequence[str]) -> list[str]:
        """The distinct patients of ``participant_ids`` (unknown ids are left out)."""
        with self._connection() as connection:
            rows = connection.exec_driver_sql(_PATIENTS_OF_PARTICIPANTS_SQL, (json.dumps(list(participant_ids)),)).fetchall()
        return [patient_id for (patient_id,) in rows]

    def read(self, patient_ids: Sequence[str] | None,
             details_for: Callable[[BillingRead], Iterable[str]] | None = None) -> BillingRead:
        """Charts and histories of ``patient_ids`` (``None``: every patient, archived ones included,
        with every participant's details); then, in the same snapshot, the details of the
        participants that ``details_for`` names once it has seen the charts and histories."""
        data = BillingRead(patient_ids)
        with paused_gc(), self._connection() as connection:
            self._load(data, connection)
            if data.patient_ids is None:
                self._load_details(data, list(data.rows), connection)
            elif details_for is not None:
                self._load_details(data, details_for(data), connection)
        return data

    def load_details(self, data: BillingRead, participant_ids: Iterable[str]) -> None:
        """Read the details of those of ``participant_ids`` (of the read's patients) not read yet, and
        the goals they addressed, with a fixed number of queries."""
        with paused_gc(), self._connection() as connection:
            self._load_details(data, participant_ids, connection)

    @staticmethod
    def _load(data: BillingRead, connection: Connection) -> None:
        """Charts and histories of the patients."""
        where, params = data.filter("t.id")
        patients = _read(connection, store_models.Patient, where, params)
        where, params = data.filter("t.patient_id")
        coverages = _read(connection, store_models.Coverage, f"{where} ORDER BY t.patient_id, t.rank, t.rowid", params)
        diagnoses = _read(connection, store_models.Diagnosis, f"{where} ORDER BY t.patient_id, t.rank, t.rowid", params)
        plans = _read(connection, store_models.PlanOfCare, f"{where} ORDER BY t.patient_id, t.start_date, t.rowid", params)
        amounts = _read(connection, store_models.TherapyYearAmount, f"{where} ORDER BY t.patient_id, t.rowid", params)
        where, params = data.filter("p.patient_id", "AND")
        reports = _read(connection, store_models.ProgressReport, f"JOIN planofcare p ON p.id = t.plan_id WHERE 1 {where} "
                                                    "ORDER BY t.written_on, t.rowid", params)
        where, params = data.filter("sp.patient_id")
        history = connection.exec_driver_sql(
            "SELECT sp.id, sp.session_id, sp.patient_id, s.date_of_service, s.session_type "
            f"FROM sessionparticipant sp JOIN session s ON s.id = sp.session_id {where}", params).cursor.fetchall()

        charts = data.charts
        for patient in patients:
            charts[patient.id] = PatientChart(patient=patient)
        for coverage in coverages:
            charts[coverage.patient_id].coverages.append(coverage)
        for diagnosis in diagnoses:
            charts[diagnosis.patient_id].diagnoses.append(diagnosis)
        plan_patient = data._plan_patient
        for plan in plans:
            charts[plan.patient_id].plans.append(plan)
            charts[plan.patient_id].goals_by_plan[plan.id] = []
            plan_patient[plan.id] = plan.patient_id
        for report in reports:
            charts[plan_patient[report.plan_id]].progress_reports.append(report)
        for amount in amounts:
            charts[amount.patient_id].therapy_amounts.append(amount)

        dates: dict[object, date | None] = {}
        rows: list[HistoryRow] = []
        for participant_id, session_id, patient_id, day, session_type in history:
            when = dates.get(day)
            if when is None:
                when = dates[day] = _to_date(day)
            rows.append((HistoryParticipant(participant_id, session_id, patient_id),
                         HistorySession(session_id, when, session_type)))
        # Newest first, as the store lists a patient's sessions (the order does not change the coding).
        rows.sort(key=lambda row: row[1].date_of_service, reverse=True)
        rows_by_patient: dict[str, list[HistoryRow]] = defaultdict(list)
        for row in rows:
            rows_by_patient[row[0].patient_id].append(row)
            data.rows[row[0].id] = row
        for patient_id in charts:
            data.history[patient_id] = rows_by_patient.get(patient_id, [])

    @staticmethod
    def _load_details(data: BillingRead, participant_ids: Iterable[str], connection: Connection) -> None:
        missing = [participant_id for participant_id in dict.fromkeys(participant_ids)
                   if participant_id not in data.details and participant_id in data.rows]
        if not missing:
            return
        everyone = data.patient_ids is None and len(missing) == len(data.rows)
        session_ids = list(dict.fromkeys(data.rows[participant_id][0].session_id for participant_id in missing))
        if everyone:
            by_participant, by_session, params = "", "", {}
            goal_filter = data.filter("p.patient_id", "AND")[0]
        else:
            by_participant = f"WHERE t.participant_id {_IN_LIST.format(name='participants')} "
            by_session = f"WHERE t.session_id {_IN_LIST.format(name='sessions')} "
            params = {"participants": json.dumps(missing), "sessions": json.dumps(session_ids)}
        participants = _read(connection, store_models.SessionParticipant,
                             by_participant.replace("t.participant_id", "t.id"), params, _PARTICIPANT_COLUMNS)
        sessions = _read(connection, store_models.TherapySession, by_session.replace("t.session_id", "t.id"),
                         params, _SESSION_COLUMNS)
        segments = _read(connection, store_models.TimeSegment, f"{by_session}ORDER BY t.session_id, "
                         "t.started_at, t.rowid", params, ("session_id", "disorder_area", "started_at", "ended_at"))
        corrections = _read(connection, store_models.AreaMinutesCorrection, f"{by_session}ORDER BY t.session_id, "
                            "t.corrected_at, t.rowid", params, ("session_id", "disorder_area", "minutes", "corrected_at"))
        techniques = connection.exec_driver_sql(
            f"SELECT t.participant_id, t.technique_id FROM techniqueused t {by_participant}"
            "ORDER BY t.participant_id, t.rowid", params).cursor.fetchall()
        goal_links = connection.exec_driver_sql(
            f"SELECT t.participant_id, t.goal_id FROM goaladdressed t {by_participant}"
            "ORDER BY t.participant_id, t.rowid", params).cursor.fetchall()
        billing_rows = _read(connection, store_models.SessionBillingFacts, by_participant, params)
        signatures = _read(connection, store_models.Signature, by_participant, params,
                           ("participant_id", "signer_name", "credentials", "signed_at", "clinician_id"))
        group_sizes = dict(connection.exec_driver_sql(
            f"SELECT t.session_id, COUNT(*) FROM sessionparticipant t {by_session}GROUP BY t.session_id",
            params).cursor.fetchall())
        if everyone:
            goals = _read(connection, store_models.Goal, f"JOIN planofcare p ON p.id = t.plan_id WHERE 1 {goal_filter} "
                          "ORDER BY t.plan_id, t.rank, t.rowid", {})
        else:
            new_goals = sorted({goal_id for _, goal_id in goal_links} - data._goal_ids)
            goals = _read(connection, store_models.Goal, f"WHERE t.id {_IN_LIST.format(name='goals')} "
                          "ORDER BY t.plan_id, t.rank, t.rowid", {"goals": json.dumps(new_goals)}) if new_goals else []

        for goal in goals:
            patient_id = data._plan_patient.get(goal.plan_id)
            if patient_id is not None and goal.id not in data._goal_ids:
                data.charts[patient_id].goals_by_plan[goal.plan_id].append(goal)
                data._goal_ids.add(goal.id)

        sessions_by_id = {record.id: record for record in sessions}
        segments_by_session: dict[str, list[Any]] = defaultdict(list)
        for segment in segments:
            segments_by_session[segment.session_id].append(segment)
        corrections_by_session: dict[str, list[Any]] = defaultdict(list)
        for correction in corrections:
            corrections_by_session[correction.session_id].append(correction)
        techniques_by_participant: dict[str, list[str]] = defaultdict(list)
        for participant_id, technique_id in techniques:
            techniques_by_participant[participant_id].append(technique_id)
        goals_by_participant: dict[str, list[str]] = defaultdict(list)
        for participant_id, goal_id in goal_links:
            goals_by_participant[participant_id].append(goal_id)
        signature_by_participant = {signature.participant_id: signature for signature in signatures}
        billing_by_participant = {row.participant_id: row for row in billing_rows}

        known = data.rows
        for participant in participants:
            if participant.id not in known:
                continue
            therapy_session = sessions_by_id.get(participant.session_id)
            if therapy_session is None:
                continue
            data.details[participant.id] = ParticipantDetail(
                participant=participant, session=therapy_session,
                segments=segments_by_session.get(therapy_session.id, []),
                corrections=corrections_by_session.get(therapy_session.id, []),
                techniques=techniques_by_participant.get(participant.id, []),
                goal_ids=goals_by_participant.get(participant.id, []),
                trials=[], note=None, signature=signature_by_participant.get(participant.id),
                group_size=group_sizes.get(therapy_session.id, 1),
                billing=billing_by_participant.get(participant.id),
            )

    def trial_counts(self, participant_ids: Sequence[str]) -> dict[str, dict[str, tuple[int, int]]]:
        """Per participant and goal: (correct, total) trials that are not voided, in one query."""
        counts: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
        with self._connection() as connection:
            rows = connection.exec_driver_sql(
                "SELECT participant_id, goal_id, SUM(result = 'correct'), COUNT(*) FROM trialrecord "
                "WHERE voided_at IS NULL AND participant_id IN (SELECT value FROM json_each(?)) "
                "GROUP BY participant_id, goal_id", (json.dumps(list(participant_ids)),))
            for participant_id, goal_id, correct, total in rows:
                counts[participant_id][goal_id] = (int(correct or 0), int(total))
        return counts

"""Progress reports and school minutes: the records behind them (``store.progress``).

Each question is one method with a fixed number of queries; the numbers (accuracy, minutes
delivered against required, report periods) are computed by ``slpterm.services.progress`` with
``slpterm.clinical`` and ``slpterm.reports``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from sqlmodel import col, select

from slpterm.store.base import Repository
from slpterm.store.errors import LockedRecord, NotFound
from slpterm.store.models import (
    Goal,
    GoalAddressed,
    IepService,
    Patient,
    PlanOfCare,
    ProgressReport,
    SessionParticipant,
    Signature,
    TherapySession,
    TrialRecord,
)

if TYPE_CHECKING:
    from datetime import datetime

_ACCURACY_SQL = """
SELECT sp.patient_id, s.date_of_service,
       SUM(CASE WHEN t.result = 'correct' THEN 1 ELSE 0 END), COUNT(*)
FROM trialrecord t
JOIN sessionparticipant sp ON sp.id = t.participant_id
JOIN session s ON s.id = sp.session_id
WHERE t.voided_at IS NULL AND s.date_of_service >= :since AND s.date_of_service <= :today
GROUP BY sp.id
ORDER BY sp.patient_id, s.date_of_service
"""

_STUDENT_SQL = """
SELECT p.id, p.last_name, p.first_name, p.external_id, p.school, p.grade,
       i.minutes_required, i.period, i.kind, i.start_date, i.end_date
FROM iepservice i JOIN patient p ON p.id = i.patient_id
WHERE p.archived_at IS NULL
ORDER BY p.last_name COLLATE NOCASE, p.first_name COLLATE NOCASE, i.kind
"""

_MINUTES_SQL = """
SELECT sp.patient_id, s.date_of_service,
       SUM((julianday(t.ended_at) - julianday(t.started_at)) * 1440.0)
FROM sessionparticipant sp
JOIN session s ON s.id = sp.session_id
JOIN timesegment t ON t.session_id = s.id AND t.ended_at IS NOT NULL
WHERE s.date_of_service >= :start AND s.date_of_service <= :end
  AND sp.patient_id IN (SELECT patient_id FROM iepservice)
GROUP BY sp.patient_id, s.date_of_service
"""


def _date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _optional_date(value: object) -> date | None:
    return None if value is None else _date(value)


def _audit_value(value: object) -> object:
    """How a changed report field is written in the audit trail: text by its length, dates as ISO."""
    if isinstance(value, str):
        return len(value)
    return value.isoformat() if isinstance(value, date) else value


@dataclass(frozen=True, slots=True)
class SessionAccuracy:
    """One participant's trials in one session: how many were correct of how many."""

    patient_id: str
    day: date
    correct: int
    total: int


@dataclass(frozen=True, slots=True)
class StudentService:
    """A student (not archived) and one of their IEP services, as stored."""

    patient_id: str
    last_name: str
    first_name: str
    external_id: str
    school: str
    grade: str
    minutes_required: int
    period: str
    kind: str
    start: date | None
    end: date | None


@dataclass
class PeriodSessions:
    """A patient's sessions in a period (date order) and the live trials of the signed ones (by seq)."""

    sessions: list[tuple[SessionParticipant, TherapySession]]
    signed_trials: list[TrialRecord]


@dataclass
class StudentSessions:
    """Students' sessions in a date range with what a service log shows of each."""

    sessions: list[tuple[SessionParticipant, TherapySession]] = field(default_factory=list)
    patients: dict[str, Patient] = field(default_factory=dict)
    signatures: dict[str, Signature] = field(default_factory=dict)
    group_sizes: dict[str, int] = field(default_factory=dict)
    # Per participant: the goals addressed, as stored (any order).
    goals_addressed: dict[str, list[Goal]] = field(default_factory=dict)


class ProgressReadings(Repository):
    """``store.progress``: progress reports, trends and school minutes."""

    def plan(self, plan_id: str) -> PlanOfCare:
        with self.db.read() as session:
            plan = session.get(PlanOfCare, plan_id)
            if plan is None:
                raise NotFound(f"No plan of care with id {plan_id}; it may have been removed.")
            return plan

    def reports_for_plan(self, plan_id: str) -> list[ProgressReport]:
        """The plan's reports, by period end then date written."""
        with self.db.read() as session:
            return list(session.exec(
                select(ProgressReport).where(ProgressReport.plan_id == plan_id)
                .order_by(col(ProgressReport.period_end), col(ProgressReport.written_on))
            ))

    def sessions_in_period(self, patient_id: str, start: date, end: date) -> PeriodSessions:
        with self.db.read() as session:
            rows = list(session.exec(
                select(SessionParticipant, TherapySession)
                .join(TherapySession, col(TherapySession.id) == SessionParticipant.session_id)
                .where(SessionParticipant.patient_id == patient_id,
                       TherapySession.date_of_service >= start, TherapySession.date_of_service <= end)
                .order_by(col(TherapySession.date_of_service))
            ))
            signed_ids = [participant.id for participant, _ in rows if participant.status == "signed"]
            trials = list(session.exec(
                select(TrialRecord).where(col(TrialRecord.participant_id).in_(signed_ids),
                                          col(TrialRecord.voided_at).is_(None))
                .order_by(col(TrialRecord.seq))
            )) if signed_ids else []
        return PeriodSessions(rows, trials)

    def update_report(self, report_id: str, values: dict[str, object]) -> None:
        """Change an unsigned report (only what differs is written and audited); a signed one is locked."""
        with self.db.write() as session:
            record = self.require(session, ProgressReport, report_id)
            if record.signed_at is not None:
                raise LockedRecord("This progress report is signed and locked; write a new report for changes.")
            changed = {key: value for key, value in values.items() if getattr(record, key) != value}
            for key, value in changed.items():
                setattr(record, key, value)
            if changed:
                session.add(record)
                self.audit(session, "update", "progressreport", record.id,
                           {key: _audit_value(value) for key, value in changed.items()})

    def sign_report(self, report_id: str, signer_name: str, signed_at: datetime) -> None:
        """Sign a report; from then on it is locked."""
        with self.db.write() as session:
            record = self.require(session, ProgressReport, report_id)
            if record.signed_at is not None:
                raise LockedRecord("This progress report is already signed.")
            record.signed_at = signed_at
            record.signer_name = signer_name
            session.add(record)
            self.audit(session, "sign", "progressreport", record.id, {"signer": signer_name})

    def iter_session_accuracy(self, since: date, today: date) -> Iterator[SessionAccuracy]:
        """Each participant's trial counts per session from ``since`` to ``today``, by patient then
        date, streamed from one query."""
        from sqlalchemy import text

        with self.db.read() as session:
            rows = session.connection().execute(text(_ACCURACY_SQL),
                                                {"since": since.isoformat(), "today": today.isoformat()})
            for patient_id, day, correct, total in rows:
                yield SessionAccuracy(patient_id, _date(day), correct or 0, total)

    def student_services(self) -> list[StudentService]:
        """Every IEP service of a student not archived, by student name then kind."""
        from sqlalchemy import text

        with self.db.read() as session:
            rows = session.connection().execute(text(_STUDENT_SQL)).all()
        return [StudentService(pid, last or "", first or "", external_id or "", school or "", grade or "",
                               required, period, kind, _optional_date(start), _optional_date(end))
                for pid, last, first, external_id, school, grade, required, period, kind, start, end in rows]

    def student_minutes_by_day(self, start: date, end: date) -> dict[str, dict[date, float]]:
        """Clock minutes of each student's sessions per day from ``start`` to ``end``."""
        from sqlalchemy import text

        minutes: dict[str, dict[date, float]] = defaultdict(dict)
        with self.db.read() as session:
            for patient_id, day, total in session.connection().execute(
                    text(_MINUTES_SQL), {"start": start.isoformat(), "end": end.isoformat()}):
                minutes[patient_id][_date(day)] = total or 0.0
        return dict(minutes)

    def student_sessions(self, date_from: date, date_to: date) -> StudentSessions:
        """Sessions of students (patients with IEP services) with DOS in the range."""
        result = StudentSessions()
        with self.db.read() as session:
            student_ids = set(session.exec(select(IepService.patient_id)))
            rows = list(session.exec(
                select(SessionParticipant, TherapySession)
                .join(TherapySession, col(TherapySession.id) == SessionParticipant.session_id)
                .where(TherapySession.date_of_service >= date_from, TherapySession.date_of_service <= date_to)
            ))
            result.sessions = [(p, s) for p, s in rows if p.patient_id in student_ids]
            participant_ids = [p.id for p, _ in result.sessions]
            session_ids = list({s.id for _, s in result.sessions})
            result.patients = {p.id: p for p in session.exec(
                select(Patient).where(col(Patient.id).in_(list(student_ids))))}
            result.signatures = {sig.participant_id: sig for sig in session.exec(
                select(Signature).where(col(Signature.participant_id).in_(participant_ids)))}
            group_sizes: dict[str, int] = defaultdict(int)
            for participant in session.exec(
                    select(SessionParticipant).where(col(SessionParticipant.session_id).in_(session_ids))):
                group_sizes[participant.session_id] += 1
            result.group_sizes = dict(group_sizes)
            addressed: dict[str, list[str]] = defaultdict(list)
            for row in session.exec(select(GoalAddressed).where(col(GoalAddressed.participant_id).in_(participant_ids))):
                addressed[row.participant_id].append(row.goal_id)
            goal_ids = {goal_id for goal_ids in addressed.values() for goal_id in goal_ids}
            goals = {g.id: g for g in session.exec(select(Goal).where(col(Goal.id).in_(list(goal_ids))))}
        result.goals_addressed = {pid: [goals[g] for g in ids if g in goals] for pid, ids in addressed.items()}
        return result

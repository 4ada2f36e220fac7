"""The schedule and attendance: appointments (one-off or weekly), their members, missed visits."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlmodel import col, func, select

from slpterm.domain.schedule import (
    AppointmentFacts,
    AttendanceFacts,
    AttendanceStatus,
    CancelledBy,
    Recurrence,
    parse_weekdays,
)
from slpterm.store.base import Repository
from slpterm.store.models import (
    Appointment,
    AppointmentMember,
    Attendance,
    SessionParticipant,
    TherapySession,
    utc_now,
)


@dataclass(frozen=True)
class VisitOnDay:
    """A session a patient had on a day (to show an appointment as started or signed)."""

    participant_id: str
    patient_id: str
    session_type: str
    status: str


def _facts(appointment: Appointment, patient_ids: list[str]) -> AppointmentFacts:
    recurrence = None
    if appointment.weekdays:
        recurrence = Recurrence(parse_weekdays(appointment.weekdays), max(1, appointment.interval_weeks),
                                appointment.until)
    hours, _, minutes = appointment.start_time.partition(":")
    return AppointmentFacts(
        id=appointment.id, title=appointment.title, first_day=appointment.first_day,
        start=dt.time(int(hours), int(minutes or 0)), minutes=appointment.minutes,
        session_type=appointment.session_type, setting=appointment.setting, patient_ids=tuple(patient_ids),
        recurrence=recurrence, clinician_id=appointment.clinician_id, uid=appointment.uid,
        location=appointment.location,
    )


def _attendance(row: Attendance) -> AttendanceFacts:
    return AttendanceFacts(
        id=row.id, patient_id=row.patient_id, day=row.day, status=AttendanceStatus(row.status),
        minutes=row.minutes, cancelled_by=CancelledBy(row.cancelled_by) if row.cancelled_by else None,
        reason=row.reason, appointment_id=row.appointment_id, made_up_by=row.made_up_by,
    )


class ScheduleRepository(Repository):
    # -- appointments -----------------------------------------------------------------------------
    def add_appointment(self, *, title: str, first_day: dt.date, start: dt.time, minutes: int, session_type: str,
                        setting: str, patient_ids: list[str], recurrence: Recurrence | None = None,
                        clinician_id: str | None = None, uid: str = "", location: str = "") -> AppointmentFacts:
        appointment = Appointment(
            uid=uid, title=title, first_day=first_day, start_time=start.strftime("%H:%M"), minutes=minutes,
            weekdays=recurrence.byday if recurrence else "", interval_weeks=recurrence.interval_weeks if recurrence else 1,
            until=recurrence.until if recurrence else None, session_type=session_type, setting=setting,
            clinician_id=clinician_id, location=location,
        )
        if not appointment.uid:
            appointment.uid = f"{appointment.id}@slpterm"
        with self.db.write() as session:
            session.add(appointment)
            session.flush()
            for rank, patient_id in enumerate(patient_ids, start=1):
                session.add(AppointmentMember(appointment_id=appointment.id, patient_id=patient_id, rank=rank))
            session.flush()
            values = appointment.model_dump(mode="json")
            values["patient_ids"] = list(patient_ids)
            self.audit(session, "create", "appointment", appointment.id, values)
            return _facts(appointment, list(patient_ids))

    def remove_appointment(self, appointment_id: str) -> None:
        """Take an appointment off the schedule (kept, marked removed; its attendance stays)."""
        self._update(Appointment, appointment_id, {"removed_at": utc_now()})

    def appointments(self) -> list[AppointmentFacts]:
        """Every appointment on the schedule (removed ones left out), earliest first."""
        with self.db.read() as session:
            rows = list(session.exec(select(Appointment).where(col(Appointment.removed_at).is_(None))
                                     .order_by(col(Appointment.first_day), col(Appointment.start_time))))
            members: dict[str, list[str]] = defaultdict(list)
            for member in session.exec(select(AppointmentMember).order_by(col(AppointmentMember.rank))):
                members[member.appointment_id].append(member.patient_id)
        return [_facts(row, members.get(row.id, [])) for row in rows]

    def uids(self) -> set[str]:
        with self.db.read() as session:
            return {uid for uid in session.exec(select(Appointment.uid).where(col(Appointment.removed_at).is_(None)))}

    # -- attendance -------------------------------------------------------------------------------
    def record_missed(self, *, patient_id: str, day: dt.date, status: AttendanceStatus, minutes: int,
                      cancelled_by: CancelledBy | None = None, reason: str = "",
                      appointment_id: str | None = None) -> AttendanceFacts:
        row = Attendance(patient_id=patient_id, day=day, status=status.value, minutes=minutes,
                         cancelled_by=cancelled_by.value if cancelled_by else "", reason=reason,
                         appointment_id=appointment_id, recorded_by=self.store.actor)
        return _attendance(self._insert(row))

    def undo_missed(self, attendance_id: str) -> None:
        """Remove a missed-visit record entered by mistake (the audit trail keeps what it said)."""
        with self.db.write() as session:
            row = self.require(session, Attendance, attendance_id)
            values = row.model_dump(mode="json")
            session.delete(row)
            session.flush()
            self.audit(session, "delete", "attendance", attendance_id, values)

    def mark_made_up(self, attendance_id: str, participant_id: str) -> None:
        self._update(Attendance, attendance_id, {"made_up_by": participant_id})

    def missed(self, *, patient_id: str | None = None, date_from: dt.date | None = None,
               date_to: dt.date | None = None) -> list[AttendanceFacts]:
        query = select(Attendance)
        if patient_id is not None:
            query = query.where(Attendance.patient_id == patient_id)
        if date_from is not None:
            query = query.where(Attendance.day >= date_from)
        if date_to is not None:
            query = query.where(Attendance.day <= date_to)
        with self.db.read() as session:
            return [_attendance(row) for row in session.exec(query.order_by(col(Attendance.day)))]

    def visits_on(self, day: dt.date) -> list[VisitOnDay]:
        with self.db.read() as session:
            rows = session.exec(
                select(SessionParticipant, TherapySession)
                .join(TherapySession, col(TherapySession.id) == SessionParticipant.session_id)
                .where(TherapySession.date_of_service == day))
            return [VisitOnDay(participant.id, participant.patient_id, therapy.session_type, participant.status)
                    for participant, therapy in rows]

    def sessions_attended(self, patient_id: str) -> int:
        """How many sessions the patient took part in (drafts included: they came)."""
        with self.db.read() as session:
            return int(session.exec(select(func.count()).select_from(SessionParticipant)
                                    .where(SessionParticipant.patient_id == patient_id)).one())

"""Today's schedule and attendance: what the Today screen and ``slpterm schedule`` do.

- ``day(day)``: every appointment falling on the day, earliest first, each with its members' names
  and what became of the visit (scheduled, started, signed, cancelled, no-show).
- ``start(row)``: starts the appointment's session (its type, setting and the members present; a
  group of which only one came becomes an individual session).
- ``cancel`` / ``no_show``: the missed visit of each member, never a session, so never coded or
  exported; ``make_up`` starts a session that makes up a member's earliest missed visit.
- ``import_ics`` / ``export_ics``: iCalendar files (slpterm.services.calendar_ics).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from slpterm.domain.errors import ValidationFailed
from slpterm.domain.schedule import (
    AppointmentFacts,
    AttendanceFacts,
    AttendanceStatus,
    CancelledBy,
    Recurrence,
    attendance_rate,
)
from slpterm.domain.vocab import SessionType

if TYPE_CHECKING:
    from slpterm.domain.clock import Clock
    from slpterm.services.calendar_ics import ImportOutcome
    from slpterm.store.store import Store


@dataclass(frozen=True)
class MemberToday:
    patient_id: str
    name: str
    external_id: str
    state: str  # "scheduled", "started", "signed", "cancelled", "no_show"
    missed: AttendanceFacts | None = None
    participant_id: str | None = None  # the session of the day, when started


@dataclass(frozen=True)
class TodayRow:
    appointment: AppointmentFacts
    day: dt.date
    members: tuple[MemberToday, ...]

    @property
    def who(self) -> str:
        return "; ".join(member.name for member in self.members) or "(no patient)"

    @property
    def state(self) -> str:
        """The visit as a whole: every member's state when they agree, else "mixed"."""
        states = {member.state for member in self.members}
        return states.pop() if len(states) == 1 else "mixed"

    @property
    def status_text(self) -> str:
        labels = {member.missed.label if member.missed else member.state for member in self.members}
        if len(labels) == 1:
            return labels.pop()
        parts = []
        for member in self.members:
            text = member.missed.label if member.missed else member.state
            parts.append(text if len(self.members) == 1 else f"{member.name.split(',')[0]}: {text}")
        return "; ".join(parts)

    @property
    def present(self) -> list[str]:
        """The members not recorded as missing the visit."""
        return [member.patient_id for member in self.members if member.missed is None]


@dataclass(frozen=True)
class Attendance:
    """A patient's attendance, for the chart."""

    attended: int
    missed: tuple[AttendanceFacts, ...] = field(default_factory=tuple)

    @property
    def rate(self) -> float | None:
        return attendance_rate(self.attended, len(self.missed))

    @property
    def text(self) -> str:
        if self.rate is None:
            return "no visits yet"
        cancelled = sum(1 for missed in self.missed if missed.status == AttendanceStatus.CANCELLED)
        no_shows = len(self.missed) - cancelled
        return (f"{self.rate:.0%} kept ({self.attended} attended, {cancelled} cancelled, "
                f"{no_shows} no-show{'s' if no_shows != 1 else ''})")


class ScheduleService:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    # -- the day ----------------------------------------------------------------------------------
    def day(self, day: dt.date | None = None) -> list[TodayRow]:
        day = day or self._clock.today()
        store = self._store
        appointments = [appointment for appointment in store.schedule.appointments() if appointment.falls_on(day)]
        ids = sorted({patient_id for appointment in appointments for patient_id in appointment.patient_ids})
        details = store.caseload.details(ids) if ids else {}
        missed = {(row.appointment_id, row.patient_id): row for row in store.schedule.missed(date_from=day, date_to=day)}
        visits = {visit.patient_id: visit for visit in store.schedule.visits_on(day)}
        rows = []
        for appointment in sorted(appointments, key=lambda a: (a.start, a.title)):
            members = []
            for patient_id in appointment.patient_ids:
                detail = details.get(patient_id)
                miss = missed.get((appointment.id, patient_id))
                visit = visits.get(patient_id)
                if miss is not None:
                    state = miss.status.value
                elif visit is not None:
                    state = "signed" if visit.status == "signed" else "started"
                else:
                    state = "scheduled"
                members.append(MemberToday(patient_id, detail.name if detail else "(unknown patient)",
                                           detail.external_id if detail else "", state, miss,
                                           visit.participant_id if visit and miss is None else None))
            rows.append(TodayRow(appointment, day, tuple(members)))
        return rows

    # -- adding -----------------------------------------------------------------------------------
    def add(self, *, patient_ids: list[str], first_day: dt.date, start: dt.time, minutes: int,
            session_type: str | None = None, setting: str | None = None, recurrence: Recurrence | None = None,
            title: str = "", clinician_id: str | None = None, uid: str = "", location: str = "") -> AppointmentFacts:
        """Put an appointment on the schedule; raises ValidationFailed naming the field."""
        problems: list[tuple[str, str]] = []
        if not patient_ids:
            problems.append(("Patients", "name at least one patient (ID or 'Last, First')"))
        if not 5 <= minutes <= 480:
            problems.append(("Minutes", f"{minutes} is not a visit length; give 5 to 480 minutes"))
        kind = session_type or (SessionType.GROUP_TREATMENT.value if len(patient_ids) > 1 else
                                SessionType.INDIVIDUAL_TREATMENT.value)
        try:
            SessionType(kind)
        except ValueError:
            problems.append(("Type", f"{kind!r} is not a session type; use one of "
                                     + ", ".join(member.value for member in SessionType)))
        if problems:
            raise ValidationFailed(problems)
        details = self._store.caseload.details(patient_ids)
        if not title:
            title = " + ".join(f"{details[p].name} ({details[p].external_id})" if p in details and details[p].external_id
                               else (details[p].name if p in details else p) for p in patient_ids)
        if setting is None:
            setting = "school" if all(p in details and details[p].school for p in patient_ids) else "office"
        if clinician_id is None:
            clinicians = self._store.clinic.clinicians()
            clinician_id = clinicians[0].id if clinicians else None
        return self._store.schedule.add_appointment(
            title=title, first_day=first_day, start=start, minutes=minutes, session_type=kind, setting=setting,
            patient_ids=patient_ids, recurrence=recurrence, clinician_id=clinician_id, uid=uid, location=location)

    def remove(self, appointment_id: str) -> None:
        self._store.schedule.remove_appointment(appointment_id)

    def appointments(self) -> list[AppointmentFacts]:
        return self._store.schedule.appointments()

    def find_patient(self, text: str) -> str | None:
        """The patient with ID ``text``, or the one patient named ``Last, First`` (or ``First Last``)."""
        store = self._store
        patient = store.patients.find_by_external_id(text.strip())
        if patient is not None:
            return patient.id
        wanted = " ".join(text.replace(",", " ").lower().split())
        matches = [row.patient_id for row in store.caseload.rows(include_archived=False)
                   if wanted in (" ".join(row.name.replace(",", " ").lower().split()),
                                 " ".join(reversed(row.name.lower().split(", "))))]
        return matches[0] if len(matches) == 1 else None

    # -- attendance -------------------------------------------------------------------------------
    def cancel(self, row: TodayRow, cancelled_by: CancelledBy, reason: str,
               patient_ids: list[str] | None = None) -> list[AttendanceFacts]:
        """Record the visit as cancelled for ``patient_ids`` (every member present by default)."""
        if not reason.strip():
            raise ValidationFailed([("Reason", "say why the visit was cancelled (e.g. 'ill', 'field trip')")])
        return self._missed(row, AttendanceStatus.CANCELLED, cancelled_by, reason.strip(), patient_ids)

    def no_show(self, row: TodayRow, patient_ids: list[str] | None = None) -> list[AttendanceFacts]:
        return self._missed(row, AttendanceStatus.NO_SHOW, None, "", patient_ids)

    def _missed(self, row: TodayRow, status: AttendanceStatus, cancelled_by: CancelledBy | None, reason: str,
                patient_ids: list[str] | None) -> list[AttendanceFacts]:
        members = {member.patient_id: member for member in row.members}
        wanted = patient_ids if patient_ids is not None else [m.patient_id for m in row.members if m.missed is None]
        started = [members[p].name for p in wanted if p in members and members[p].state in ("started", "signed")]
        if started:
            raise ValidationFailed([("Attendance", f"{', '.join(started)} already has a session today; "
                                                   "discard the draft first if the visit did not happen")])
        if not wanted:
            raise ValidationFailed([("Attendance", "every member's attendance is already recorded; u undoes it")])
        return [self._store.schedule.record_missed(patient_id=patient_id, day=row.day, status=status,
                                                   minutes=row.appointment.minutes, cancelled_by=cancelled_by,
                                                   reason=reason, appointment_id=row.appointment.id)
                for patient_id in wanted]

    def undo(self, row: TodayRow) -> int:
        """Remove the row's missed-visit records (entered by mistake); how many were removed."""
        removed = 0
        for member in row.members:
            if member.missed is not None:
                self._store.schedule.undo_missed(member.missed.id)
                removed += 1
        return removed

    def attendance(self, patient_id: str) -> Attendance:
        return Attendance(self._store.schedule.sessions_attended(patient_id),
                          tuple(self._store.schedule.missed(patient_id=patient_id)))

    def owed(self, patient_id: str) -> list[AttendanceFacts]:
        """The patient's missed visits not yet made up, those the school owes back first."""
        missed = [row for row in self._store.schedule.missed(patient_id=patient_id) if row.made_up_by is None]
        return sorted(missed, key=lambda row: (not row.owes_make_up, row.day))

    # -- starting ---------------------------------------------------------------------------------
    def session_request(self, row: TodayRow) -> tuple[list[str], str]:
        """The members to start the session with and its type; raises ValidationFailed when none came."""
        present = row.present
        if not present:
            raise ValidationFailed([("Attendance", "every member is recorded as missing this visit; u undoes it")])
        kind = row.appointment.session_type
        if SessionType(kind).is_group and len(present) == 1:
            kind = SessionType.INDIVIDUAL_TREATMENT.value
        return present, kind

    def start(self, row: TodayRow) -> list[str]:
        """Start the appointment's session today; the participant ids. Raises ValidationFailed."""
        from slpterm.services.session_flow import SessionFlow

        present, kind = self.session_request(row)
        clinician_id = row.appointment.clinician_id
        if clinician_id is None:
            clinicians = self._store.clinic.clinicians()
            clinician_id = clinicians[0].id if clinicians else None
        return SessionFlow(self._store, self._clock).start(
            patient_ids=present, session_type=kind, setting=row.appointment.setting, date_text=row.day.isoformat(),
            clinician_id=clinician_id, evaluation_kind=None)

    def make_up(self, row: TodayRow) -> tuple[list[str], list[AttendanceFacts]]:
        """Start the session and let it make up each present member's earliest owed missed visit."""
        present, _ = self.session_request(row)
        owed = {patient_id: self.owed(patient_id) for patient_id in present}
        if not any(owed.values()):
            raise ValidationFailed([("Make-up", "no missed visit of these patients is waiting to be made up")])
        participants = self.start(row)
        made_up = []
        for patient_id, participant_id in zip(present, participants, strict=True):  # created in that order
            if owed.get(patient_id):
                missed = owed[patient_id][0]
                self._store.schedule.mark_made_up(missed.id, participant_id)
                made_up.append(missed)
        return participants, made_up

    # -- iCalendar --------------------------------------------------------------------------------
    def import_ics(self, path: Path) -> ImportOutcome:
        from slpterm.services.calendar_ics import import_calendar

        return import_calendar(self, Path(path).read_bytes())

    def export_ics(self, path: Path) -> int:
        from slpterm.paths import private_folder, write_private
        from slpterm.services.calendar_ics import calendar_bytes

        appointments = self.appointments()
        ids = sorted({p for appointment in appointments for p in appointment.patient_ids})
        external_ids = {p: row.external_id for p, row in self._store.caseload.details(ids).items()} if ids else {}
        path = Path(path)
        private_folder(path.parent)
        write_private(path, calendar_bytes(appointments, external_ids))
        return len(appointments)

    def patients_for_matching(self) -> list[tuple[str, str, str, str]]:
        """(id, external id, first name, last name) of every active patient."""
        return [(row.patient_id, row.external_id, *_first_last(row.name))
                for row in self._store.caseload.rows(include_archived=False)]


def _first_last(display_name: str) -> tuple[str, str]:
    last, _, first = display_name.partition(", ")
    return first, last

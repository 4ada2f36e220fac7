"""Appointments and attendance: plain data and the rules for when a weekly appointment falls.

An appointment is one-off or repeats weekly on some weekdays (every ``interval_weeks`` weeks, until
an optional last day), as an iCalendar ``RRULE:FREQ=WEEKLY`` does. A missed occurrence is an
attendance record (cancelled, by whom and why, or a no-show): never a session, so never billed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


class AttendanceStatus(StrEnum):
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class CancelledBy(StrEnum):
    PATIENT = "patient"  # the patient or the family
    CLINICIAN = "clinician"
    FACILITY = "facility"  # the school or facility (closure, assembly, testing day)


CANCELLED_BY_LABELS = {
    CancelledBy.PATIENT: "Patient/family",
    CancelledBy.CLINICIAN: "Clinician",
    CancelledBy.FACILITY: "School/facility",
}


@dataclass(frozen=True)
class Recurrence:
    """Weekly on ``weekdays`` (0 Monday .. 6 Sunday) from ``first_day``; ``None`` on an appointment
    means it happens once."""

    weekdays: frozenset[int]
    interval_weeks: int = 1
    until: dt.date | None = None

    def falls_on(self, first_day: dt.date, day: dt.date) -> bool:
        if day < first_day or (self.until is not None and day > self.until) or day.weekday() not in self.weekdays:
            return False
        first_monday = first_day - dt.timedelta(days=first_day.weekday())
        weeks = (day - first_monday).days // 7
        return weeks % self.interval_weeks == 0

    @property
    def byday(self) -> str:
        """The weekdays as iCalendar writes them: ``MO,WE``."""
        return ",".join(WEEKDAY_CODES[weekday] for weekday in sorted(self.weekdays))

    @property
    def label(self) -> str:
        names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
        every = "weekly" if self.interval_weeks == 1 else f"every {self.interval_weeks} weeks"
        days = "/".join(names[weekday] for weekday in sorted(self.weekdays))
        return f"{every} {days}" + (f" until {self.until.isoformat()}" if self.until else "")


def parse_weekdays(text: str) -> frozenset[int]:
    """``MO,WE`` (or ``mon wed``) -> weekday numbers; raises ValueError naming what is wrong."""
    days = set()
    for token in text.replace(",", " ").split():
        code = token.strip().upper()[:2]
        if code not in WEEKDAY_CODES:
            raise ValueError(f"{token!r} is not a weekday; use MO TU WE TH FR SA SU")
        days.add(WEEKDAY_CODES.index(code))
    if not days:
        raise ValueError("name at least one weekday, e.g. MO,WE")
    return frozenset(days)


@dataclass(frozen=True)
class AppointmentFacts:
    """An appointment as the schedule holds it."""

    id: str
    title: str
    first_day: dt.date
    start: dt.time
    minutes: int
    session_type: str
    setting: str
    patient_ids: tuple[str, ...]
    recurrence: Recurrence | None = None
    clinician_id: str | None = None
    uid: str = ""
    location: str = ""

    def falls_on(self, day: dt.date) -> bool:
        if self.recurrence is None:
            return day == self.first_day
        return self.recurrence.falls_on(self.first_day, day)

    @property
    def is_group(self) -> bool:
        return len(self.patient_ids) > 1


@dataclass(frozen=True)
class AttendanceFacts:
    """A missed occurrence of an appointment for one patient."""

    id: str
    patient_id: str
    day: dt.date
    status: AttendanceStatus
    minutes: int
    cancelled_by: CancelledBy | None = None
    reason: str = ""
    appointment_id: str | None = None
    made_up_by: str | None = None  # the participant (session) that made it up

    @property
    def label(self) -> str:
        if self.status == AttendanceStatus.NO_SHOW:
            text = "No-show"
        else:
            who = CANCELLED_BY_LABELS[self.cancelled_by] if self.cancelled_by else "?"
            text = f"Cancelled ({who.lower()})"
        if self.reason:
            text += f": {self.reason}"
        return text

    @property
    def owes_make_up(self) -> bool:
        """Missed through no fault of the student: a school owes these minutes back (IDEA practice)."""
        return (self.status == AttendanceStatus.CANCELLED and self.cancelled_by in (CancelledBy.CLINICIAN,
                                                                                    CancelledBy.FACILITY)
                and self.made_up_by is None)


def attendance_rate(attended: int, missed: int) -> float | None:
    """Share of scheduled visits kept (attended / (attended + missed)); None when nothing is known."""
    total = attended + missed
    return attended / total if total else None

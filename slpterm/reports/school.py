"""School services: IEP minutes required versus delivered, and the service log schools bill from.

Minutes delivered are the clock minutes of the student's sessions (the same minutes the claim
uses). Weeks run Monday to Sunday; a month view shows the weeks that begin in that month. The
current period's shortfall is pro-rated by school days, as the caseload's "IEP behind" flag is.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from slpterm.clinical.due import iep_expected_minutes
from slpterm.domain.vocab import IepPeriod, IepServiceKind


@dataclass(frozen=True)
class IepRequirement:
    minutes_required: int
    period: IepPeriod
    kind: IepServiceKind = IepServiceKind.DIRECT
    start: dt.date | None = None
    end: dt.date | None = None

    def in_force(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    @property
    def label(self) -> str:
        return f"{self.minutes_required}/{'wk' if self.period == IepPeriod.WEEK else 'mo'} {self.kind.value}"


@dataclass(frozen=True)
class PeriodMinutes:
    label: str
    start: dt.date
    end: dt.date
    required: int
    delivered: int

    @property
    def text(self) -> str:
        return f"{self.delivered}/{self.required}"


@dataclass(frozen=True)
class StudentMinutes:
    patient_id: str
    name: str
    external_id: str
    school: str
    requirement: IepRequirement
    periods: tuple[PeriodMinutes, ...]
    month_required: int
    month_delivered: int
    status: str
    month_missed: int = 0  # minutes of cancelled and no-show visits (slpterm.domain.schedule)
    make_up_owed: int = 0  # of those, minutes missed by the clinician or the school and not yet made up

    @property
    def status_text(self) -> str:
        text = self.status
        if self.month_missed:
            text += f" · {self.month_missed} missed"
        if self.make_up_owed:
            text += f", {self.make_up_owed} owed"
        return text


def month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    start = day.replace(day=1)
    following = (start + dt.timedelta(days=32)).replace(day=1)
    return start, following - dt.timedelta(days=1)


def weeks_of_month(day: dt.date) -> list[tuple[dt.date, dt.date]]:
    """(Monday, Sunday) of every week whose Monday falls in the month of ``day``."""
    start, end = month_bounds(day)
    monday = start + dt.timedelta(days=(7 - start.weekday()) % 7)
    weeks = []
    while monday <= end:
        weeks.append((monday, monday + dt.timedelta(days=6)))
        monday += dt.timedelta(days=7)
    return weeks


def _delivered(minutes_by_day: dict[dt.date, int], start: dt.date, end: dt.date) -> int:
    return sum(minutes for day, minutes in minutes_by_day.items() if start <= day <= end)


def student_minutes(*, patient_id: str, name: str, external_id: str, school: str, requirement: IepRequirement,
                    minutes_by_day: dict[dt.date, int], month: dt.date, today: dt.date,
                    school_weekdays: frozenset[int] = frozenset({1, 2, 3, 4, 5})) -> StudentMinutes:
    """One student's required and delivered minutes for the month of ``month``."""
    month_start, month_end = month_bounds(month)
    if requirement.kind == IepServiceKind.CONSULT:
        # Consultation is not logged as sessions; session minutes are direct service.
        minutes_by_day = {}
    if requirement.period == IepPeriod.WEEK:
        periods = tuple(
            PeriodMinutes(f"wk {monday.strftime('%m-%d')}", monday, sunday,
                          requirement.minutes_required if requirement.in_force(monday) or requirement.in_force(sunday) else 0,
                          _delivered(minutes_by_day, monday, sunday))
            for monday, sunday in weeks_of_month(month)
        )
    else:
        periods = (PeriodMinutes(month_start.strftime("%b"), month_start, month_end,
                                 requirement.minutes_required if requirement.in_force(month_end)
                                 or requirement.in_force(month_start) else 0,
                                 _delivered(minutes_by_day, month_start, month_end)),)
    required = sum(period.required for period in periods)
    delivered = sum(period.delivered for period in periods)
    if requirement.kind == IepServiceKind.CONSULT:
        status = "consult"
    elif not requirement.in_force(today) and month_start <= today <= month_end:
        status = "not in force"
    else:
        status = _status(requirement, periods, today, school_weekdays)
    return StudentMinutes(patient_id, name, external_id, school, requirement, periods, required, delivered, status)


def _status(requirement: IepRequirement, periods: Sequence[PeriodMinutes], today: dt.date,
            school_weekdays: frozenset[int]) -> str:
    short = 0
    for period in periods:
        if period.start > today:
            continue
        if period.end < today:
            expected = period.required
        else:
            expected = iep_expected_minutes(period.required, requirement.period, today, school_weekdays)
        short += max(expected - period.delivered, 0)
    return f"behind {short}" if short > 0 else "on track"


# -- service log ------------------------------------------------------------------------------

SERVICE_LOG_COLUMNS = (
    "Student Name", "Student ID", "Date of Service", "Start Time", "Stop Time", "Minutes", "Service Type",
    "Group Size", "IEP Goal/Objective", "Clinician", "Credentials", "Note Signed Date", "Attendance",
    "Make-up Owed",
)


@dataclass(frozen=True)
class ServiceLogEntry:
    """One student's part of one session, as a school Medicaid service log lists it."""

    student_name: str
    student_id: str
    day: dt.date
    start: dt.time | None
    stop: dt.time | None
    minutes: int
    service_type: str  # "Direct" or "Consult"
    group_size: int
    goals: Sequence[str] = field(default_factory=tuple)
    clinician: str = ""
    credentials: str = ""
    signed_on: dt.date | None = None
    # "Delivered", "Make-up for <date>", or a missed visit ("Cancelled (clinician): ill", "No-show"),
    # which has no minutes and is never billed; the minutes the school owes back for it.
    attendance: str = "Delivered"
    make_up_owed: int = 0

    def row(self) -> list[str]:
        return [
            self.student_name, self.student_id, self.day.isoformat(),
            self.start.strftime("%H:%M") if self.start else "", self.stop.strftime("%H:%M") if self.stop else "",
            str(self.minutes), self.service_type, str(self.group_size), "; ".join(self.goals),
            self.clinician, self.credentials, self.signed_on.isoformat() if self.signed_on else "",
            self.attendance, str(self.make_up_owed) if self.make_up_owed else "",
        ]


def service_log_csv(entries: Iterable[ServiceLogEntry]) -> str:
    """The service log as CSV text (header row first, CRLF line ends as spreadsheets expect)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(SERVICE_LOG_COLUMNS)
    for entry in sorted(entries, key=lambda e: (e.day, e.start or dt.time(0), e.student_name)):
        writer.writerow(entry.row())
    return buffer.getvalue()

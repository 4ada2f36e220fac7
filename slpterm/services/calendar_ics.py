"""The schedule as iCalendar (RFC 5545), read and written with the ``icalendar`` library.

Matching rule for events read from a clinic or school calendar: an event belongs to every active
patient whose ID (MRN or student ID) appears as a whole word in its SUMMARY or DESCRIPTION; when
no ID appears, to the patient whose full name ("First Last" or "Last, First") appears in its
SUMMARY, and only when exactly one patient's name does. Every event that matches no patient, repeats
other than weekly, or cannot be read is reported by the import, never dropped in silence.

Times are written as floating local times (no zone), as a day's schedule is meant; a time with a
zone that is read is turned into this computer's local time. slpterm's own facts travel as
``X-SLPTERM-SESSION-TYPE`` and ``X-SLPTERM-SETTING``, so an exported file comes back the same.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import icalendar

from slpterm.domain.errors import ValidationFailed
from slpterm.domain.schedule import WEEKDAY_CODES, AppointmentFacts, Recurrence

if TYPE_CHECKING:
    from slpterm.services.schedule import ScheduleService

DEFAULT_MINUTES = 30


@dataclass(frozen=True)
class SkippedEvent:
    summary: str
    day: dt.date | None
    reason: str

    @property
    def text(self) -> str:
        return f"{self.day.isoformat() if self.day else '?'}  {self.summary or '(no summary)'}: {self.reason}"


@dataclass
class ImportOutcome:
    added: list[AppointmentFacts] = field(default_factory=list)
    skipped: list[SkippedEvent] = field(default_factory=list)


def _local(value: dt.datetime) -> dt.datetime:
    return value.astimezone().replace(tzinfo=None) if value.tzinfo is not None else value


def _words(text: str) -> set[str]:
    return {word.lower() for word in re.findall(r"[\w-]+", text)}


def match_patients(summary: str, description: str,
                   patients: Sequence[tuple[str, str, str, str]]) -> list[str]:
    """The patients an event belongs to (the rule in the module docstring); ``patients`` are
    (id, external id, first name, last name)."""
    text = f"{summary} {description}"
    words = _words(text)
    by_id = [(text.lower().find(external_id.lower()), patient_id) for patient_id, external_id, _, _ in patients
             if external_id and external_id.lower() in words]
    if by_id:
        return [patient_id for _, patient_id in sorted(by_id)]  # in the order the event names them
    flat = " ".join(summary.lower().replace(",", " , ").split())
    by_name = [patient_id for patient_id, _, first, last in patients
               if first and last and (f"{first} {last}".lower() in flat or f"{last} , {first}".lower() in flat)]
    return by_name if len(by_name) == 1 else []


def _recurrence(event: icalendar.cal.Component, first_day: dt.date) -> Recurrence | None:
    rule = event.get("RRULE")
    if rule is None:
        return None
    frequency = [str(value).upper() for value in rule.get("FREQ", [])]
    if frequency != ["WEEKLY"]:
        raise ValueError(f"repeats {'/'.join(frequency).lower() or 'without a frequency'}; only weekly "
                         "appointments are kept")
    days = [str(day)[-2:].upper() for day in rule.get("BYDAY", [])] or [WEEKDAY_CODES[first_day.weekday()]]
    unknown = [day for day in days if day not in WEEKDAY_CODES]
    if unknown:
        raise ValueError(f"BYDAY {','.join(unknown)} is not a weekday")
    interval = int(rule.get("INTERVAL", [1])[0])
    until: dt.date | None = None
    if rule.get("UNTIL"):
        value = rule["UNTIL"][0]
        until = _local(value).date() if isinstance(value, dt.datetime) else value
    elif rule.get("COUNT"):
        weekdays = sorted(WEEKDAY_CODES.index(day) for day in days)
        count, day, seen = int(rule["COUNT"][0]), first_day, 0
        probe = Recurrence(frozenset(weekdays), interval)
        while seen < count:
            if probe.falls_on(first_day, day):
                seen += 1
                until = day
            day += dt.timedelta(days=1)
    return Recurrence(frozenset(WEEKDAY_CODES.index(day) for day in days), max(1, interval), until)


def import_calendar(schedule: ScheduleService, data: bytes) -> ImportOutcome:
    """Add every event of the calendar ``data`` that matches patients to the schedule."""
    outcome = ImportOutcome()
    try:
        calendars = icalendar.Calendar.from_ical(data, multiple=True)
    except ValueError as error:
        raise ValidationFailed([("Calendar file", f"not an iCalendar file ({error})")]) from None
    patients = schedule.patients_for_matching()
    known_uids = {appointment.uid for appointment in schedule.appointments()}
    for calendar in calendars:
        for event in calendar.walk("VEVENT"):
            summary = str(event.get("SUMMARY", "")).strip()
            start_value = event.decoded("DTSTART", None)
            day = start_value.date() if isinstance(start_value, dt.datetime) else start_value
            if day is None:
                outcome.skipped.append(SkippedEvent(summary, None, "has no start (DTSTART)"))
                continue
            uid = str(event.get("UID", "")).strip()
            if uid and uid in known_uids:
                outcome.skipped.append(SkippedEvent(summary, day, "already on the schedule (same UID)"))
                continue
            if str(event.get("STATUS", "")).upper() == "CANCELLED":
                outcome.skipped.append(SkippedEvent(summary, day, "cancelled in the calendar"))
                continue
            if not isinstance(start_value, dt.datetime):
                outcome.skipped.append(SkippedEvent(summary, day, "an all-day event has no visit time"))
                continue
            start = _local(start_value)
            matched = match_patients(summary, str(event.get("DESCRIPTION", "")), patients)
            if not matched:
                outcome.skipped.append(SkippedEvent(summary, day, "no patient's ID or full name in the summary"))
                continue
            end_value = event.decoded("DTEND", None)
            duration = event.decoded("DURATION", None)
            if isinstance(end_value, dt.datetime):
                minutes = round((_local(end_value) - start).total_seconds() / 60)
            elif isinstance(duration, dt.timedelta):
                minutes = round(duration.total_seconds() / 60)
            else:
                minutes = DEFAULT_MINUTES
            try:
                recurrence = _recurrence(event, start.date())
                added = schedule.add(
                    patient_ids=matched, first_day=start.date(), start=start.time().replace(second=0, microsecond=0),
                    minutes=minutes, session_type=str(event.get("X-SLPTERM-SESSION-TYPE", "")) or None,
                    setting=str(event.get("X-SLPTERM-SETTING", "")) or None, recurrence=recurrence,
                    title=summary, uid=uid, location=str(event.get("LOCATION", "")))
            except (ValueError, ValidationFailed) as error:
                outcome.skipped.append(SkippedEvent(summary, day, str(error)))
                continue
            known_uids.add(added.uid)
            outcome.added.append(added)
    return outcome


def calendar_bytes(appointments: Iterable[AppointmentFacts], external_ids: dict[str, str]) -> bytes:
    """The appointments as an iCalendar file; the DESCRIPTION names each member's ID, so the file
    is matched to the same patients when it is read again."""
    calendar = icalendar.Calendar()
    calendar.add("PRODID", "-//slpterm//schedule//EN")
    calendar.add("VERSION", "2.0")
    stamp = dt.datetime.now(dt.UTC).replace(microsecond=0)
    for appointment in appointments:
        event = icalendar.Event()
        start = dt.datetime.combine(appointment.first_day, appointment.start)
        event.add("UID", appointment.uid or f"{appointment.id}@slpterm")
        event.add("DTSTAMP", stamp)
        event.add("SUMMARY", appointment.title)
        event.add("DTSTART", start)
        event.add("DTEND", start + dt.timedelta(minutes=appointment.minutes))
        ids = [external_ids.get(patient_id, "") for patient_id in appointment.patient_ids]
        event.add("DESCRIPTION", "Patient IDs: " + ", ".join(i for i in ids if i))
        if appointment.location:
            event.add("LOCATION", appointment.location)
        if appointment.recurrence is not None:
            rule: dict[str, object] = {"FREQ": "WEEKLY", "BYDAY": appointment.recurrence.byday.split(",")}
            if appointment.recurrence.interval_weeks > 1:
                rule["INTERVAL"] = appointment.recurrence.interval_weeks
            if appointment.recurrence.until is not None:
                rule["UNTIL"] = dt.datetime.combine(appointment.recurrence.until, dt.time(23, 59, 59))
            event.add("RRULE", rule)
        event.add("X-SLPTERM-SESSION-TYPE", appointment.session_type)
        event.add("X-SLPTERM-SETTING", appointment.setting)
        calendar.add_component(event)
    return bytes(calendar.to_ical())

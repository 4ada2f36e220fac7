"""``slpterm schedule``: import and export iCalendar files, add an appointment, list a day."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from slpterm.domain.errors import ValidationFailed
from slpterm.domain.schedule import Recurrence, parse_weekdays
from slpterm.services.report_commands import date_argument as _date

if TYPE_CHECKING:
    from slpterm.services.clinic import ClinicServices


def _time(text: str) -> dt.time:
    try:
        return dt.time.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time; use HH:MM (24-hour)") from None


def add_schedule_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    schedule = subparsers.add_parser(
        "schedule", help="the appointment schedule: import/export iCalendar, add, list",
        description="The schedule the Today screen shows (F7 on the caseload). An imported event belongs to "
                    "the patients whose ID appears in its summary or description, else to the one patient whose "
                    "full name appears in its summary; every other event is reported.")
    actions = schedule.add_subparsers(dest="schedule_command", metavar="ACTION", required=True)
    importing = actions.add_parser("import", help="add the events of an .ics file (weekly RRULEs kept)")
    importing.add_argument("file", metavar="FILE.ics")
    exporting = actions.add_parser("export", help="write every appointment to an .ics file")
    exporting.add_argument("file", metavar="FILE.ics")
    adding = actions.add_parser("add", help="put an appointment on the schedule")
    adding.add_argument("--patient", action="append", required=True, metavar="ID",
                        help="patient ID or 'Last, First'; give it again for each member of a group")
    adding.add_argument("--date", type=_date, required=True, help="the (first) day, YYYY-MM-DD")
    adding.add_argument("--time", type=_time, required=True, help="start time, HH:MM")
    adding.add_argument("--minutes", type=int, default=30)
    adding.add_argument("--weekly", metavar="DAYS", help="repeat weekly on these days, e.g. MO,WE")
    adding.add_argument("--every", type=int, default=1, metavar="N", help="every N weeks (with --weekly)")
    adding.add_argument("--until", type=_date, metavar="DATE", help="last day of a weekly appointment")
    adding.add_argument("--type", dest="session_type", help="session type (default: individual, or group for several)")
    adding.add_argument("--setting", help="office, school, home, telehealth_home or telehealth_other")
    listing = actions.add_parser("list", help="the appointments of a day and their attendance")
    listing.add_argument("--date", type=_date, help="the day (default today)")


def run_schedule(args: argparse.Namespace, services: ClinicServices) -> int:
    schedule = services.schedule
    try:
        if args.schedule_command == "import":
            outcome = schedule.import_ics(Path(args.file))
            print(f"Added {len(outcome.added)} appointment(s) from {args.file}.")
            if outcome.skipped:
                print(f"Not added ({len(outcome.skipped)}):")
                for skipped in outcome.skipped:
                    print(f"  {skipped.text}")
            return 0 if not outcome.skipped else 1
        if args.schedule_command == "export":
            count = schedule.export_ics(Path(args.file))
            print(f"Wrote {count} appointment(s) to {args.file}.")
            return 0
        if args.schedule_command == "add":
            return _add(args, services)
        return _list(args.date or services.clock.today(), services)
    except ValidationFailed as error:
        print(f"slpterm: {error}")
        return 2


def _add(args: argparse.Namespace, services: ClinicServices) -> int:
    schedule = services.schedule
    patient_ids = []
    for text in args.patient:
        patient_id = schedule.find_patient(text)
        if patient_id is None:
            print(f"slpterm: no single patient with ID or name {text!r}; use the ID shown on the caseload, "
                  "or the name as 'Last, First'.")
            return 1
        patient_ids.append(patient_id)
    recurrence = None
    if args.weekly:
        try:
            recurrence = Recurrence(parse_weekdays(args.weekly), max(1, args.every), args.until)
        except ValueError as error:
            print(f"slpterm: --weekly: {error}")
            return 2
    appointment = schedule.add(patient_ids=patient_ids, first_day=args.date, start=args.time, minutes=args.minutes,
                               session_type=args.session_type, setting=args.setting, recurrence=recurrence)
    repeats = appointment.recurrence.label if appointment.recurrence else "once"
    print(f"Added {appointment.first_day} {appointment.start:%H:%M} {appointment.minutes} min "
          f"{appointment.session_type.replace('_', ' ')}, {repeats}: {appointment.title}")
    return 0


def _list(day: dt.date, services: ClinicServices) -> int:
    rows = services.schedule.day(day)
    print(f"{day:%A %Y-%m-%d}: {len(rows)} appointment(s)")
    for row in rows:
        appointment = row.appointment
        print(f"  {appointment.start:%H:%M} {appointment.minutes:>3} min  {appointment.session_type.replace('_', ' '):<20} "
              f"{row.who}  [{row.status_text}]")
    return 0

"""Command-line access to progress reports and the school service log."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from slpterm.store.store import Store


def date_argument(text: str) -> dt.date:
    """A command-line date (YYYY-MM-DD); argparse names the option in its message."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD") from None


def add_report_parsers(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = subparsers.add_parser(
        "report", help="write a patient's progress report as Markdown and PDF",
        description="Write the progress report of a patient's current plan of care as Markdown and PDF. "
                    "Uses the unsigned draft if there is one, else drafts one for the period since the last "
                    "report (or --from/--to). Signing is done in the app (chart, w).")
    report.add_argument("--patient", required=True, metavar="ID",
                        help="the patient/student ID shown on the caseload, or the name as 'Last, First'")
    report.add_argument("--from", dest="date_from", type=date_argument, metavar="DATE", help="first day of the period")
    report.add_argument("--to", dest="date_to", type=date_argument, metavar="DATE", help="last day of the period")
    report.add_argument("--out", required=True, metavar="DIR", help="folder for the two files")
    log = subparsers.add_parser(
        "service-log", help="write the school service log (start, stop, minutes, IEP goal) as CSV",
        description="Write the signed school sessions in a date range as the service log school Medicaid "
                    "programs ask for: student, ID, date, start and stop time, minutes, service type, group "
                    "size, IEP goal, clinician and credentials.")
    log.add_argument("--from", dest="date_from", type=date_argument, required=True, metavar="DATE")
    log.add_argument("--to", dest="date_to", type=date_argument, required=True, metavar="DATE")
    log.add_argument("--out", required=True, metavar="FILE")


def run_report(args: argparse.Namespace, store: Store) -> int:
    from slpterm.services.billing import plan_in_force
    from slpterm.services.progress import export_report, new_draft, open_report

    today = dt.date.today()
    patient = store.patients.find_by_external_id(args.patient)
    if patient is None:
        wanted = " ".join(args.patient.replace(",", " ").lower().split())
        matches = [row for row in store.caseload.rows(include_archived=True)
                   if wanted in (" ".join(row.name.replace(",", " ").lower().split()),
                                 " ".join(reversed(row.name.lower().split(", "))))]
        if len(matches) == 1:
            patient = store.patients.chart(matches[0].patient_id).patient
        else:
            print(f"slpterm: no {'single ' if matches else ''}patient with ID or name {args.patient!r}; use the ID "
                  "shown on the caseload, or the name as 'Last, First'.")
            return 1
    chart = store.patients.chart(patient.id)
    plan = plan_in_force(chart, args.date_to or today)
    if plan is None:
        print(f"slpterm: {patient.display_name} has no plan of care; progress reports belong to a plan.")
        return 1
    if args.date_from or args.date_to:
        period = (args.date_from or plan.start_date, args.date_to or today)
        state = new_draft(store, plan.id, today, period)
    else:
        state = open_report(store, plan.id, today)
    markdown, pdf = export_report(state, Path(args.out).expanduser())
    status = "signed" if state.data.source.signed_at is not None else "draft (not signed)"
    print(f"Wrote the {status} progress report of {patient.display_name}:\n  {markdown}\n  {pdf}")
    return 0


def run_service_log(args: argparse.Namespace, store: Store) -> int:
    from slpterm.services.progress import write_service_log

    if args.date_to < args.date_from:
        print("slpterm: --to is before --from.")
        return 2
    written, unsigned = write_service_log(store, args.date_from, args.date_to, Path(args.out).expanduser())
    print(f"Wrote {written} service log row(s) to {args.out}.")
    if unsigned:
        print(f"{unsigned} unsigned session(s) in the range were left out; sign them and write the log again.")
    return 0 if written else 1

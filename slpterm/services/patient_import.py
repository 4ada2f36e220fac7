"""CSV import of a patient list, store side: a dry run against the IDs already present, then commit.

The columns and the row checks are ``slpterm.clinical.patient_import`` (its docstring documents
the column set). A dry run writes nothing; :func:`commit_import` writes the rows the dry run found
good in one transaction (all or nothing); rows whose ID is already present are reported, never
duplicated.

For the command line: :func:`add_import_parser` adds ``import-patients FILE [--commit]`` and
:func:`run_import` runs it (dry run unless ``--commit``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from slpterm.clinical.patient_import import COLUMNS, REQUIRED_COLUMNS, ImportedPatient, ImportResult, read_patient_csv

if TYPE_CHECKING:
    from slpterm.store.store import Store


@dataclass
class CommitReport:
    created: int = 0
    skipped_ids: list[str] = field(default_factory=list)


def dry_run(store: Store, path: Path, today: dt.date) -> ImportResult:
    """Read and check every row of ``path``; nothing is written."""
    return read_patient_csv(Path(path), today=today, existing_ids=store.patients.external_ids())


def _chart_fields(patient: ImportedPatient) -> tuple[dict[str, Any], dict[str, Any] | None, list[dict[str, Any]]]:
    patient_fields = {
        "external_id": patient.external_id, "first_name": patient.first_name, "last_name": patient.last_name,
        "date_of_birth": patient.date_of_birth, "sex": str(patient.sex), "phone": patient.phone,
        "address_line1": patient.address_line1, "address_line2": patient.address_line2, "city": patient.city,
        "state": patient.state, "postal_code": patient.postal_code, "guardian_name": patient.guardian,
        "school": patient.school, "grade": patient.grade,
    }
    coverage = None
    if patient.coverage is not None:
        coverage = {
            "rank": 1, "payer_kind": str(patient.coverage.payer_kind), "payer_name": patient.coverage.payer_name,
            "payer_id": patient.coverage.payer_id, "member_id": patient.coverage.member_id,
        }
    diagnoses = [
        {"code": diagnosis.code, "role": str(diagnosis.role), "rank": diagnosis.rank,
         "description": diagnosis.description or ""}
        for diagnosis in patient.diagnoses
    ]
    return patient_fields, coverage, diagnoses


def commit_import(store: Store, result: ImportResult) -> CommitReport:
    """Write the good rows of a dry run (one transaction); IDs present by now are skipped."""
    from slpterm.services import chart

    created, skipped = chart.import_charts(store, [_chart_fields(patient) for patient in result.patients])
    return CommitReport(created=len(created), skipped_ids=skipped)


def report_lines(result: ImportResult) -> list[str]:
    """The dry run in words: file problems, then every bad row and duplicate with its line number."""
    lines = [f"Dry run: {result.summary()}."]
    lines.extend(f"File: {problem}" for problem in result.file_errors)
    lines.extend(f"Note: {notice}" for notice in result.notices)
    for problem in sorted(result.errors, key=lambda problem: problem.line):
        who = f" ({problem.external_id})" if problem.external_id else ""
        lines.append(f"Line {problem.line}{who}: {problem.reason}")
    for problem in sorted(result.duplicates, key=lambda problem: problem.line):
        lines.append(f"Line {problem.line}: already present: {problem.reason}")
    for patient in result.patients:
        for warning in patient.warnings:
            lines.append(f"Line {patient.line} ({patient.external_id}) warning: {warning}")
    return lines


def column_help() -> str:
    """The column set in one paragraph (required columns marked)."""
    return ", ".join(f"{column}{' (required)' if column in REQUIRED_COLUMNS else ''}" for column in COLUMNS)


def add_import_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add ``import-patients FILE [--commit]`` to the CLI's subparsers."""
    parser = subparsers.add_parser(
        "import-patients",
        help="import a CSV patient list (dry run unless --commit)",
        description="Check a CSV patient list and report every bad row with its line number; with "
                    "--commit, write the good rows. Rows whose ID is already present are reported, not "
                    f"duplicated. Columns: {column_help()}.",
    )
    parser.add_argument("file", metavar="FILE", help="UTF-8 CSV file with a header row")
    parser.add_argument("--commit", action="store_true", help="write the good rows (default: dry run only)")
    return parser


def run_import(args: argparse.Namespace, store: Store, *, today: dt.date | None = None,
               out: TextIO | None = None) -> int:
    """Run ``import-patients``: 0 when every row is good, 1 when some rows were refused, 2 when the
    file cannot be used."""
    out = out or sys.stdout
    today = today or dt.date.today()
    result = dry_run(store, Path(args.file).expanduser(), today)
    for line in report_lines(result):
        print(line, file=out)
    if result.file_errors:
        return 2
    if not args.commit:
        if result.patients:
            print(f"Nothing was written. Run again with --commit to import {len(result.patients)} patient(s).",
                  file=out)
        return 0 if result.ok else 1
    report = commit_import(store, result)
    print(f"Imported {report.created} patient(s).", file=out)
    for external_id in report.skipped_ids:
        print(f"Skipped {external_id}: already present.", file=out)
    return 0 if result.ok else 1

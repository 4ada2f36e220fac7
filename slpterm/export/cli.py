"""``slpterm export``: its arguments. Imports stay inside the functions so ``slpterm --help`` does
not load the exporters; the command itself is :func:`slpterm.services.exporting.run_export_command`."""

from __future__ import annotations

import argparse
from typing import Any


def _date(text: str):  # noqa: ANN202
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write it as YYYY-MM-DD") from None


def add_export_parser(commands: Any) -> argparse.ArgumentParser:
    """Add the ``export`` subcommand to the ``slpterm`` subparsers."""
    parser = commands.add_parser(
        "export", help="write signed, coded sessions as CSV, JSON, FHIR R4, X12 837P or superbills",
        description="Write the signed sessions in a date range (default: everything signed and not yet "
                    "exported) into DIR. Sessions with scrubber errors are held back and listed; sessions "
                    "already in an earlier export are skipped unless --include-exported is given. "
                    "Exit status 1 when nothing could be exported.",
    )
    from slpterm.export.formats import format_help, format_ids

    parser.add_argument("--format", required=True, choices=format_ids(), help=format_help())
    parser.add_argument("--from", dest="date_from", type=_date, metavar="DATE", help="first date of service")
    parser.add_argument("--to", dest="date_to", type=_date, metavar="DATE", help="last date of service")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the files (created if missing)")
    parser.add_argument("--include-exported", action="store_true",
                        help="also export sessions that are already in an earlier batch (resubmission)")
    parser.add_argument("--test", action="store_true", help="mark an X12 file as a test file (ISA15 = T)")
    return parser

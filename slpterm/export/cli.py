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


def add_claims_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``claims list`` and ``claims import`` to the ``slpterm`` subparsers."""
    parser = commands.add_parser("claims", help="the claims register: every claim an 837P billed, and its status",
                                 description="List every claim an 837P billed: claim number "
                                             "(CLM01, what remittances come back with), patient, date of "
                                             "service, charge and the batches that carried it.")
    claims_commands = parser.add_subparsers(dest="claims_command", metavar="COMMAND", required=True)
    claims_commands.add_parser("list", help="print the claims register, oldest date of service first")
    importing = claims_commands.add_parser(
        "import", help="post 835 payments and 999 / 277CA acknowledgements to the claims they answer",
        description="Read each FILE (an X12 835 payment, 999 or 277CA acknowledgement), match it to the claims "
                    "by claim number, record what was paid, allowed and owed by the patient with every adjustment "
                    "reason explained, and list the claims that need work (denied, rejected, partly paid). "
                    "The same 835 (same trace number) is never posted twice. Exit status 1 when a file could "
                    "not be read.")
    importing.add_argument("files", nargs="+", metavar="FILE")
    return parser


def run_claims(args: argparse.Namespace, store: Any) -> int:
    """Run ``slpterm claims list``. Returns the exit status."""
    from slpterm.export.formats import billing_format_ids

    claims = store.exports.claims(billing_format_ids())
    if not claims:
        print("No claims billed yet: an 837P export (slpterm export --format x12) adds them here.")
        return 0
    print(f"{'Claim number':<20}  {'Date':<10}  {'Patient':<28}  {'Charge':>9}  Status")
    for claim in claims:
        print(f"{claim.claim_number:<20}  {claim.date_of_service.isoformat():<10}  {claim.patient_name[:28]:<28}  "
              f"{claim.charge_cents / 100:>9.2f}  {claim.status}")
    print(f"{len(claims)} claim(s).")
    return 0

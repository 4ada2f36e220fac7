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
    parser.add_argument("--claim", dest="claims", action="append", metavar="NUMBER",
                        help="re-send the claim with this claim number (CLM01) as it was billed; repeat for "
                             "several (instead of a date range)")
    parser.add_argument("--test", action="store_true", help="mark an X12 file as a test file (ISA15 = T)")
    return parser


def add_claims_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``claims list|replace|void|import`` to the ``slpterm`` subparsers."""
    parser = commands.add_parser("claims", help="the claims register: every claim, its status, and corrections",
                                 description="The claims register: every claim an 837P billed (and those ready for "
                                             "the next one) with its claim number (CLM01, what remittances come "
                                             "back with), patient, date of service, charge and status; "
                                             "replacements and voids of billed claims.")
    claims_commands = parser.add_subparsers(dest="claims_command", metavar="COMMAND", required=True)
    listing = claims_commands.add_parser("list", help="print the claims register, oldest date of service first")
    from slpterm.domain.claims import ClaimStatus

    listing.add_argument("--status", metavar="STATUS",
                         help="only claims with this status: " + ", ".join(s.label for s in ClaimStatus)
                              + ", or 'needs replacement'")
    listing.add_argument("--patient", metavar="TEXT", help="only claims of patients whose name contains TEXT")
    listing.add_argument("--claim", metavar="NUMBER", help="only the claim with this claim number")
    for name, summary in (("replace", "write an 837P that replaces a billed claim (frequency 7), "
                                      "the session coded as it stands now"),
                          ("void", "write an 837P that voids a billed claim (frequency 8)")):
        correction = claims_commands.add_parser(name, help=summary, description=summary[0].upper() + summary[1:]
                                                + ". It keeps the claim number and carries the payer's claim control "
                                                  "number (REF*F8).")
        correction.add_argument("claim_number", metavar="CLAIM_NUMBER", help="the claim number (CLM01)")
        correction.add_argument("--out", required=True, metavar="DIR", help="folder for the file (created if missing)")
        correction.add_argument("--payer-claim-number", metavar="NUMBER",
                                help="the payer's claim control number for the claim (from its remittance or "
                                     "claim status report); kept in the register for next time")
        correction.add_argument("--test", action="store_true", help="mark the file as a test file (ISA15 = T)")
    importing = claims_commands.add_parser(
        "import", help="post 835 payments and 999 / 277CA acknowledgements to the claims they answer",
        description="Read each FILE (an X12 835 payment, 999 or 277CA acknowledgement), match it to the claims "
                    "by claim number, record what was paid, allowed and owed by the patient with every adjustment "
                    "reason explained, and list the claims that need work (denied, rejected, partly paid). "
                    "The same 835 (same trace number) is never posted twice. Exit status 1 when a file could "
                    "not be read.")
    importing.add_argument("files", nargs="+", metavar="FILE")
    return parser

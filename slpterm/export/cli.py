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
    """Add ``claims list|replace|void`` to the ``slpterm`` subparsers."""
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
    return parser


def run_claims(args: argparse.Namespace, store: Any) -> int:
    """Run ``slpterm claims list|replace|void``. Returns the exit status."""
    if args.claims_command in ("replace", "void"):
        return _run_correction(args, store)
    return _run_list(args, store)


def _run_list(args: argparse.Namespace, store: Any) -> int:
    import sys
    from datetime import date

    from slpterm.domain.claims import claim_status
    from slpterm.export.formats import billing_format_ids
    from slpterm.services.claims import ready_claims

    wanted_status = (getattr(args, "status", None) or "").strip().lower()
    needs_replacement = wanted_status in ("needs replacement", "needs_replacement", "needs-replacement")
    status = None
    if wanted_status and not needs_replacement:
        try:
            status = claim_status(wanted_status)
        except ValueError as error:
            print(f"slpterm: --status: {error}", file=sys.stderr)
            return 2
    claims = store.claims.register(billing_format_ids())
    if status is None or status == "ready":
        claims = sorted(claims + ready_claims(store, date.today()),
                        key=lambda claim: (claim.date_of_service, claim.claim_number))
    if not claims:
        print("No claims yet: sign sessions, then an 837P export (slpterm export --format x12) bills them.")
        return 0
    patient = (getattr(args, "patient", None) or "").strip().casefold()
    number = (getattr(args, "claim", None) or "").strip().upper()
    shown = [claim for claim in claims
             if (status is None or claim.status == status) and (not needs_replacement or claim.needs_replacement)
             and (not patient or patient in claim.patient_name.casefold()) and (not number or claim.claim_number == number)]
    if not shown:
        print("No claim matches (slpterm claims list without filters shows them all).")
        return 0
    print(f"{'Claim number':<20}  {'Date':<10}  {'Patient':<28}  {'Charge':>9}  Status")
    for claim in shown:
        print(f"{claim.claim_number:<20}  {claim.date_of_service.isoformat():<10}  {claim.patient_name[:28]:<28}  "
              f"{claim.charge_cents / 100:>9.2f}  {claim.status_text}")
    print(f"{len(shown)} claim(s).")
    return 0


def _run_correction(args: argparse.Namespace, store: Any) -> int:
    import sys
    from pathlib import Path

    from slpterm.export.common import ExportError
    from slpterm.services.claims import correct_claim

    try:
        outcome = correct_claim(store, args.claim_number, args.claims_command, Path(args.out).expanduser(),
                                payer_claim_number=args.payer_claim_number, production=not args.test)
    except ExportError as error:
        print(f"slpterm: {error}", file=sys.stderr)
        return 1
    for path in outcome.files:
        print(f"Wrote {path}")
    if outcome.anchor_file is not None:
        print(f"Audit anchor (the trail's head after this batch): {outcome.anchor_file}")
    kind = "Void" if args.claims_command == "void" else "Replacement"
    print(f"Batch {outcome.control_number:06d}: {kind.lower()} of claim {args.claim_number.strip().upper()}, "
          f"sha256 {outcome.checksum}")
    return 0

"""The claims register's work: the claims ready for the next 837P, corrections (a replacement,
frequency 7, or a void, frequency 8, with the payer's claim control number in REF*F8), re-sends
picked by claim number, and the check after an addendum or a billing-facts change that marks a
billed claim as needing replacement.

``slpterm claims`` (:func:`run_claims`; its arguments are :mod:`slpterm.export.cli`'s) and :mod:`slpterm.services.session_flow` call here.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slpterm.domain.claims import REPLACEMENT_FREQUENCY, VOID_FREQUENCY, ClaimStatus
from slpterm.domain.encounter import EncounterRecord

if TYPE_CHECKING:
    from slpterm.domain.claim import ClaimLine
    from slpterm.export.batch import ExportOutcome
    from slpterm.store.claims import ClaimEntry
    from slpterm.store.models import ExportedClaimLine
    from slpterm.store.store import Store

PAYER_CLAIM_NUMBER_OPTION = "--payer-claim-number"


def ready_claims(store: Store, today: date) -> list[ClaimEntry]:
    """The claims the next 837P would send: signed, clean, not billed yet (status ready)."""
    from slpterm.export.batch import select_encounters
    from slpterm.export.x12 import claim_numbers
    from slpterm.services.encounters import load_encounters
    from slpterm.store.claims import ClaimEntry

    encounters = load_encounters(store, date_from=None, date_to=None, include_exported=False, today=today)
    ready = select_encounters(encounters, "x12", exported_ids=store.exports.exported_formats()).ready
    numbers = claim_numbers(ready)
    found: dict[str, ClaimEntry] = {}
    for encounter in ready:
        number = numbers[encounter.participant_id]
        cents = sum(_cents(line.charge) for line in encounter.coding.lines)
        known = found.get(number)
        found[number] = ClaimEntry(
            number, encounter.patient.id,
            f"{encounter.patient.last_name}, {encounter.patient.first_name}".strip(", "),
            encounter.date_of_service, cents + (known.charge_cents if known else 0), (), status=ClaimStatus.READY)
    return sorted(found.values(), key=lambda claim: (claim.date_of_service, claim.claim_number))


def claim_encounters(store: Store, claim_numbers: Sequence[str], today: date) -> list[EncounterRecord]:
    """The sessions of the claims, read and coded as they stand now (for a re-send or a replacement).
    Raises ExportError naming a claim number the register does not know."""
    from slpterm.export.common import ExportError
    from slpterm.services.billing import BillingService
    from slpterm.services.encounters import billed_participant_ids, encounter_records

    wanted: list[str] = []
    for number in claim_numbers:
        ids = store.claims.participant_ids(number)
        if not ids:
            raise ExportError(f"No claim numbered {number.strip().upper()} in the claims register; "
                              "`slpterm claims list` shows the claim numbers.")
        wanted += [participant_id for participant_id in ids if participant_id not in wanted]
    return encounter_records(BillingService(store, today), wanted, billed_participant_ids(store))


def correct_claim(store: Store, claim_number: str, kind: str, out_dir: Path, *,
                  payer_claim_number: str | None = None, now: datetime | None = None, production: bool = True,
                  today: date | None = None) -> ExportOutcome:
    """Write and record an 837P that replaces (``kind`` "replace") or voids ("void") a billed claim.

    A replacement re-codes the claim's sessions as they stand now; a void repeats the lines billed.
    Both keep the claim number (CLM01) and carry the payer's claim control number in REF*F8: the one
    given, else the one the register keeps. Raises ExportError (no file, no batch) saying what to do.
    """
    from slpterm.export.batch import (
        ExportOutcome,
        billed_line_rows,
        write_files_atomically,
    )
    from slpterm.export.common import BatchInfo, ExportError
    from slpterm.export.formats import EXPORT_FORMATS
    from slpterm.export.x12 import (
        build_claims,
        claim_problems,
        clean_text,
        encounter_problems,
        render_claims,
    )
    from slpterm.services.exporting import write_batch_anchor

    today = today or date.today()
    number = claim_number.strip().upper()
    record = store.claims.claim(number)
    if record is None:
        raise ExportError(f"No claim numbered {number} in the claims register; `slpterm claims list` shows them.")
    if record.status == ClaimStatus.VOIDED:
        raise ExportError(f"Claim {number} was voided; a voided claim cannot be replaced or voided again.")
    payer_number = (payer_claim_number or "").strip() or record.payer_claim_number
    if not payer_number:
        raise ExportError(
            f"Claim {number} has no payer claim control number on file (the payer's number for the claim, on its "
            f"remittance or claim status report). Give it with {PAYER_CLAIM_NUMBER_OPTION} NUMBER.")
    if not clean_text(payer_number, 50):
        raise ExportError(f"{PAYER_CLAIM_NUMBER_OPTION} {payer_number!r} has no letters or digits an 837P can "
                          "carry; type the number as the payer prints it.")
    voiding = kind == "void"
    frequency = VOID_FREQUENCY if voiding else REPLACEMENT_FREQUENCY
    encounters = claim_encounters(store, [number], today)
    if voiding:
        encounters = _as_billed(encounters, store)
        problems = [problem for encounter in encounters for problem in encounter_problems(encounter)]
    else:
        problems = _replacement_problems(encounters)
    claims, refused = build_claims(encounters) if not problems else ([], [])
    problems += [reason for _, reason in refused]
    if not problems and len(claims) != 1:
        problems.append("its sessions now make more than one claim (the coverage changed?); void it and bill the "
                        "sessions again")
    if problems:
        raise ExportError(f"Claim {number} cannot be {'voided' if voiding else 'replaced'}: " + " ".join(problems))
    claim = replace(claims[0], frequency=frequency, payer_claim_number=payer_number, number=number)
    checked = claim_problems(claim)
    if checked:
        raise ExportError(f"Claim {number} fails the 837P checks: " + " ".join(checked))
    created_at = now or datetime.now().astimezone()
    planned = store.exports.next_control_number()
    interchange = store.exports.plan_interchange(created_at)
    batch = BatchInfo(number=planned, created_at=created_at, production=production,
                      interchange_control=interchange.control)
    name = EXPORT_FORMATS["x12"].file_name.format(label=batch.label)
    try:
        data = render_claims([claim], batch).encode("ascii")
    except ValueError as error:
        raise ExportError(f"Claim {number}'s 837P could not be written: {error}.") from error
    written = write_files_atomically(Path(out_dir), [(name, data)])
    from slpterm.export.batch import checksum

    digest = checksum([(name, data)])
    participant_ids = [encounter.participant_id for encounter in encounters]
    try:
        recorded = store.exports.record_batch(
            format="x12", participant_ids=participant_ids, file_names=[name], checksum=digest,
            billed_lines=billed_line_rows(encounters, dict.fromkeys(participant_ids, number)),
            control_number=planned, interchange=interchange, frequency=frequency)
        if payer_number != record.payer_claim_number:
            store.claims.set_payer_claim_number(number, payer_number)
    except Exception as error:
        for path in written:
            path.unlink(missing_ok=True)
        raise ExportError(f"The correction could not be recorded ({error}); the file was removed again.") from error
    outcome = ExportOutcome(format="x12", files=written, exported_ids=participant_ids, batch_id=recorded.id,
                            control_number=recorded.control_number, checksum=digest, batch_label=batch.label)
    write_batch_anchor(store, Path(out_dir).expanduser(), outcome)
    return outcome


def _replacement_problems(encounters: Sequence[EncounterRecord]) -> list[str]:
    from slpterm.export.batch import hold_reasons

    problems = []
    for encounter in encounters:
        if not encounter.coding.lines and not encounter.coding.errors:
            problems.append(f"the session of {encounter.date_of_service.isoformat()} has no billable lines now; "
                            "void the claim instead (slpterm claims void).")
            continue
        problems += [str(reason) for reason in hold_reasons(encounter, "x12")]
    return problems


def _as_billed(encounters: Sequence[EncounterRecord], store: Store) -> list[EncounterRecord]:
    """The encounters with the lines that were billed (a void repeats the original claim)."""
    voided = []
    for encounter in encounters:
        billed = store.exports.billed_lines(encounter.participant_id)
        lines = tuple(_billed_claim_line(row, encounter) for row in billed)
        voided.append(replace(encounter, coding=replace(encounter.coding, lines=lines)))
    return voided


def _billed_claim_line(row: ExportedClaimLine, encounter: EncounterRecord) -> ClaimLine:
    from slpterm.domain.claim import ClaimLine

    now = next((line for line in encounter.coding.lines if line.code == row.code), None)
    pointers = now.diagnosis_pointers if now else ((1,) if encounter.coding.diagnoses or encounter.diagnoses else ())
    return ClaimLine(code=row.code, modifiers=tuple(row.modifiers.split()), units=row.units,
                     charge=Decimal(row.charge_cents) / 100,
                     place_of_service=now.place_of_service if now else encounter.coding.place_of_service,
                     diagnosis_pointers=pointers, rendering_npi=now.rendering_npi if now else encounter.clinician.npi,
                     minutes=now.minutes if now else 0, date_of_service=row.date_of_service)


def recheck_billed_claim(store: Store, participant_id: str, today: date) -> str | None:
    """After an addendum or a billing-facts change: when the session, coded now, differs from what
    its claim billed, mark the claim "needs replacement" and return its number (None when nothing
    was billed or nothing changed; a mark that no longer holds is cleared)."""
    from slpterm.services.billing import BillingService

    billed = store.exports.billed_lines(participant_id)
    numbers = {row.claim_number for row in billed if row.claim_number}
    if len(numbers) != 1:
        return None
    number = numbers.pop()
    record = store.claims.claim(number)
    if record is None or record.status == ClaimStatus.VOIDED:
        return None
    coding = BillingService(store, today).code_participant(participant_id)
    now = sorted((line.code, " ".join(line.modifiers), line.units, _cents(line.charge)) for line in coding.lines)
    then = sorted((row.code, row.modifiers, row.units, row.charge_cents) for row in billed)
    if now == then:
        if record.needs_replacement:
            store.claims.mark_needs_replacement(number, "")
        return None
    reason = f"the session now codes as {_describe(now)}; the claim billed {_describe(then)}"
    if reason != record.needs_replacement:
        store.claims.mark_needs_replacement(number, reason)
    return number


def needs_replacement_notice(claim_number: str) -> str:
    """What a screen says when a change makes a billed claim out of date."""
    return (f"Claim {claim_number} was billed before this change and now differs; send a replacement "
            f"(slpterm claims replace {claim_number}).")


def _describe(lines: Sequence[tuple[str, str, int, int]]) -> str:
    if not lines:
        return "no billable lines"
    return ", ".join(f"{code}{' ' + modifiers if modifiers else ''} x{units} {cents / 100:.2f}"
                     for code, modifiers, units, cents in lines)


def _cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def run_claims(args: argparse.Namespace, store: Any) -> int:
    """Run ``slpterm claims list|replace|void``. Returns the exit status."""
    if args.claims_command in ("replace", "void"):
        return _run_correction(args, store)
    return _run_list(args, store)


def _run_list(args: argparse.Namespace, store: Any) -> int:
    from slpterm.domain.claims import claim_status
    from slpterm.export.formats import billing_format_ids

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
    from slpterm.export.common import ExportError
    from slpterm.services.exporting import print_written

    try:
        outcome = correct_claim(store, args.claim_number, args.claims_command, Path(args.out).expanduser(),
                                payer_claim_number=args.payer_claim_number, production=not args.test)
    except ExportError as error:
        print(f"slpterm: {error}", file=sys.stderr)
        return 1
    print_written(outcome)
    kind = "Void" if args.claims_command == "void" else "Replacement"
    print(f"Batch {outcome.control_number:06d}: {kind.lower()} of claim {args.claim_number.strip().upper()}, "
          f"sha256 {outcome.checksum}")
    return 0

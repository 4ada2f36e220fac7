"""Remittances in: importing 835 payments and 999 / 277CA acknowledgements, matching them to the
claims slpterm billed by claim number, and what needs work (denied, rejected, partly paid,
reversed), each reason explained (:mod:`slpterm.export.remittance_codes`).

``slpterm claims import FILE`` (:func:`run_import_command`) and any screen import through
:class:`RemittanceService`. Once a remittance posted a claim, the year-to-date therapy amount (KX)
counts the claim's allowed amount instead of its charge (:class:`slpterm.services.billing.BulkData`).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from slpterm.domain.remittance import (
    CLAIM_STATUS_WORDS,
    GROUP_WORDS,
    NEEDS_WORK,
    PAYMENT,
    ClaimAcknowledgement,
    ClaimPayment,
    claim_outcome,
)

if TYPE_CHECKING:
    from slpterm.store.claims import ClaimEntry
    from slpterm.store.remittances import PostedPayment
    from slpterm.store.store import Store


class ImportProblem(Exception):
    """A file that cannot be imported; the message names the file and the problem."""


@dataclass
class ClaimReview:
    """One claim and what came back for it, with every reason in words."""

    claim_number: str
    outcome: str
    patient_name: str = ""
    date_of_service: date | None = None
    charge_cents: int = 0
    paid_cents: int = 0
    allowed_cents: int = 0
    patient_cents: int = 0
    payer_claim_control: str = ""
    reasons: list[str] = field(default_factory=list)
    billed: bool = False  # the claims register knows the claim number


@dataclass
class ImportReport:
    """What one imported file did."""

    file_name: str
    kind: str
    summaries: list[str] = field(default_factory=list)  # one line per payment or acknowledgement
    duplicates: list[str] = field(default_factory=list)  # what was already imported, posted nothing
    unmatched: list[str] = field(default_factory=list)  # claim numbers slpterm did not bill
    outcomes: Counter[str] = field(default_factory=Counter)
    needs_work: list[ClaimReview] = field(default_factory=list)


def _money(cents: int) -> str:
    return f"${cents / 100:,.2f}"


def _adjustment_words(payment: ClaimPayment) -> list[str]:
    from slpterm.export.remittance_codes import explain_carc, explain_rarc

    words = []
    for adjustment in payment.adjustments:
        where = f" on {adjustment.procedure}" if adjustment.procedure else ""
        group = GROUP_WORDS.get(adjustment.group, f"group {adjustment.group}")
        words.append(f"{adjustment.group}-{adjustment.reason} {_money(adjustment.amount_cents)}{where}, {group}: "
                     f"{explain_carc(adjustment.reason)}")
    words.extend(explain_rarc(code) for code in payment.remarks)
    return words


class RemittanceService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def import_file(self, path: Path) -> ImportReport:
        """Read ``path`` (an 835, 999 or 277CA) and record what it says. Raises :class:`ImportProblem`."""
        from slpterm.export.remittance import ReturnedFileError, read_returned_file

        path = Path(path).expanduser()
        name = path.name
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ImportProblem(f"{path} does not exist. Give the path of the 835, 999 or 277CA file.") from None
        except IsADirectoryError:
            raise ImportProblem(f"{path} is a folder; give the path of one 835, 999 or 277CA file.") from None
        except OSError as error:
            raise ImportProblem(f"{path} cannot be read: {error.strerror or error}.") from None
        try:
            text = data.decode("utf-8").lstrip("\ufeff \t\r\n")
        except UnicodeDecodeError:
            raise ImportProblem(f"{name} is not a text file, so it is no X12 835, 999 or 277CA file.") from None
        if not text:
            raise ImportProblem(f"{name} is empty.")
        try:
            returned = read_returned_file(text, name)
        except ReturnedFileError as error:
            raise ImportProblem(str(error)) from None
        checksum = hashlib.sha256(data).hexdigest()
        report = ImportReport(file_name=name, kind=returned.kind)
        touched: set[str] = set()
        if returned.kind == PAYMENT:
            known = self.store.remittances.known_claim_numbers()
            for payment in returned.payments:
                label = f"payment {payment.trace_number} from {payment.payer_name or payment.payer_id or 'the payer'}"
                earlier = self.store.remittances.earlier_import(payment.trace_number, payment.payer_id)
                if earlier is not None or self.store.remittances.post(payment, name, checksum) is None:
                    when = f" on {earlier.imported_at:%Y-%m-%d}" + (f" ({earlier.file_name})" if earlier.file_name else "") \
                        if earlier else ""
                    report.duplicates.append(f"{label} was already imported{when}; nothing was posted twice.")
                    continue
                dated = f" dated {payment.payment_date.isoformat()}" if payment.payment_date else ""
                report.summaries.append(f"{label} of {_money(payment.paid_cents)}{dated}: "
                                        f"{len(payment.claims)} claim(s) posted.")
                numbers = [claim.claim_number for claim in payment.claims]
                touched.update(numbers)
                report.unmatched.extend(number for number in dict.fromkeys(numbers) if number not in known)
        else:
            known = self.store.remittances.known_claim_numbers()
            for acknowledgement in returned.acknowledgements:
                if not self.store.remittances.record_acknowledgements(acknowledgement, name, checksum):
                    report.duplicates.append(f"{name} was already imported; nothing was recorded twice.")
                    break
                controls = {verdict.batch_control for verdict in acknowledgement.verdicts if verdict.batch_control is not None}
                batches = self.store.remittances.interchange_claims(controls)
                accepted = sum(verdict.accepted for verdict in acknowledgement.verdicts)
                report.summaries.append(f"{acknowledgement.kind} {acknowledgement.control}: "
                                        f"{accepted} accepted, {len(acknowledgement.verdicts) - accepted} rejected.")
                for verdict in acknowledgement.verdicts:
                    if verdict.batch_control is not None:
                        claims = batches.get(verdict.batch_control, set())
                        if not claims:
                            report.unmatched.append(f"837P {verdict.batch_control:09d}")
                        touched.update(claims)
                    elif verdict.claim_number:
                        touched.add(verdict.claim_number)
                        if verdict.claim_number not in known:
                            report.unmatched.append(verdict.claim_number)
        reviews = self.reviews(touched)
        self._enter_in_register(reviews)
        report.outcomes = Counter(review.outcome for review in reviews if review.outcome)
        report.needs_work = [review for review in reviews if review.outcome in NEEDS_WORK]
        return report

    def _enter_in_register(self, reviews: list[ClaimReview]) -> None:
        """The claims register takes each answered claim's outcome (a reversed payment leaves the
        status as it was) and the payer's claim control number, for a later replacement or void."""
        from slpterm.domain.claims import PAYER_STATUSES, claim_status

        for review in reviews:
            if not review.billed:
                continue
            try:
                status = claim_status(review.outcome) if review.outcome else None
            except ValueError:
                status = None
            note = "; ".join(review.reasons[1:] or review.reasons)
            if status in PAYER_STATUSES:
                self.store.claims.set_claim_status(review.claim_number, str(status),
                                                   payer_claim_number=review.payer_claim_control or None, note=note)
            elif review.payer_claim_control:
                self.store.claims.set_payer_claim_number(review.claim_number, review.payer_claim_control)

    def reviews(self, claim_numbers: set[str] | None = None) -> list[ClaimReview]:
        """Every claim with something back (or those of ``claim_numbers``): its outcome and reasons,
        by date of service."""
        from slpterm.export.formats import billing_format_ids

        register = {entry.claim_number: entry for entry in self.store.claims.register(billing_format_ids())}
        payments = self.store.remittances.payments(claim_numbers)
        verdicts = self.store.remittances.acknowledgements()
        by_claim: dict[str, list[ClaimAcknowledgement]] = {}
        controls: dict[int, set[str]] = {}
        for entry in register.values():
            for _number, control in entry.batches:
                if control is not None:
                    controls.setdefault(control, set()).add(entry.claim_number)
        for verdict in verdicts:
            for number in ({verdict.claim_number} if verdict.claim_number else controls.get(verdict.batch_control or -1, set())):
                by_claim.setdefault(number, []).append(verdict)
        wanted = claim_numbers if claim_numbers is not None else set(payments) | set(by_claim)
        reviews = [self._review(number, register.get(number), payments.get(number, []), by_claim.get(number, []))
                   for number in wanted]
        return sorted(reviews, key=lambda review: (review.date_of_service or date.min, review.claim_number))

    def outcomes(self) -> dict[str, str]:
        """claim number -> paid, partly paid, denied, payment reversed, accepted or rejected, for
        every claim something came back for."""
        return {review.claim_number: review.outcome for review in self.reviews()}

    def needs_work(self) -> list[ClaimReview]:
        return [review for review in self.reviews() if review.outcome in NEEDS_WORK]

    @staticmethod
    def _review(number: str, entry: ClaimEntry | None, payments: list[PostedPayment],
                verdicts: list[ClaimAcknowledgement]) -> ClaimReview:
        review = ClaimReview(claim_number=number, outcome=claim_outcome([p.payment for p in payments], verdicts))
        if entry is not None:
            review.billed = True
            review.patient_name, review.date_of_service, review.charge_cents = (
                entry.patient_name, entry.date_of_service, entry.charge_cents)
        else:
            review.reasons.append("not a claim slpterm billed (no export carries this claim number)")
        if payments:
            posted = payments[-1]
            payment = posted.payment
            review.charge_cents = payment.charge_cents
            review.paid_cents, review.allowed_cents = payment.paid_cents, payment.allowed_cents
            review.patient_cents = payment.patient_responsibility_cents
            review.payer_claim_control = payment.payer_claim_control
            status = CLAIM_STATUS_WORDS.get(payment.status_code, f"claim status {payment.status_code}")
            review.reasons.append(f"{posted.payer_name or 'payer'} {posted.trace_number}: {status}")
            review.reasons.extend(_adjustment_words(payment))
        elif verdicts:
            last = verdicts[-1]
            review.payer_claim_control = last.payer_claim_control
            review.reasons.append(f"{'accepted' if last.accepted else 'rejected'}: {last.message}")
        return review


def run_import_command(args: object, store: Store) -> int:
    """``slpterm claims import FILE...``: import each file, print what it posted and what needs work.
    Exit status 1 when a file could not be imported."""
    import sys

    service = RemittanceService(store)
    status = 0
    for file_name in getattr(args, "files", []):
        try:
            report = service.import_file(Path(file_name))
        except ImportProblem as error:
            print(f"slpterm: {error} Nothing was imported from it.", file=sys.stderr)
            status = 1
            continue
        for line in report.summaries + report.duplicates:
            print(f"{report.file_name}: {line}")
        if report.outcomes:
            print("  " + ", ".join(f"{outcome} {count}" for outcome, count in sorted(report.outcomes.items())))
        if report.unmatched:
            print(f"  Not claims slpterm billed (recorded, matched to nothing): {', '.join(report.unmatched)}")
        print_reviews(report.needs_work)
    return status


def print_reviews(reviews: list[ClaimReview]) -> None:
    if not reviews:
        return
    print(f"Needs work ({len(reviews)}):")
    for review in reviews:
        day = review.date_of_service.isoformat() if review.date_of_service else "?"
        print(f"  {review.claim_number}  {day}  {review.patient_name or '?'}  {review.outcome}: charge "
              f"{_money(review.charge_cents)}, allowed {_money(review.allowed_cents)}, paid {_money(review.paid_cents)}, "
              f"patient owes {_money(review.patient_cents)}"
              + (f", payer's claim number {review.payer_claim_control}" if review.payer_claim_control else ""))
        for reason in review.reasons:
            print(f"      {reason}")

"""What comes back for a claim: a payer's payment (835) with its adjustments, and the
acknowledgements (999, 277CA) that accept or reject it; and the claim's outcome they make.

The files are read by :mod:`slpterm.export.remittance`; these records are what it gives and what
the store keeps. Amounts are integer cents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

PAYMENT = "835"
IMPLEMENTATION_ACK = "999"
CLAIM_ACK = "277CA"

# CLP02 claim status codes (005010X221A1).
CLAIM_STATUS_WORDS = {
    "1": "processed as primary", "2": "processed as secondary", "3": "processed as tertiary",
    "4": "denied", "19": "processed as primary, forwarded to another payer",
    "20": "processed as secondary, forwarded to another payer",
    "21": "processed as tertiary, forwarded to another payer", "22": "reversal of an earlier payment",
    "23": "not our claim, forwarded to another payer", "25": "predetermination pricing only, no payment",
}
DENIED_STATUS = "4"
REVERSAL_STATUS = "22"
# CAS01 claim adjustment group codes.
GROUP_WORDS = {"CO": "contractual obligation (the practice writes it off)",
               "PR": "patient responsibility (bill the patient)",
               "OA": "other adjustment", "PI": "payer initiated reduction",
               "CR": "correction or reversal"}
# STC01-1 claim status category codes of a 277CA: accepted into adjudication or rejected.
ACCEPTED_CATEGORIES = frozenset({"A1", "A2"})
REJECTED_CATEGORIES = frozenset({"A3", "A6", "A7", "A4", "A8"})
# IK5 / AK9 codes of a 999: A accepted, E accepted with errors, the others rejected.
ACCEPTED_ACK_CODES = frozenset({"A", "E"})


@dataclass(frozen=True)
class Adjustment:
    """One CAS reason: group (CO, PR, OA, PI, CR), CARC, amount; ``procedure`` is the service
    line's procedure code, or empty for a claim-level adjustment."""

    group: str
    reason: str
    amount_cents: int
    procedure: str = ""


@dataclass
class ClaimPayment:
    """One CLP loop of an 835: what the payer decided on one claim."""

    claim_number: str
    status_code: str
    charge_cents: int
    paid_cents: int
    patient_responsibility_cents: int
    payer_claim_control: str = ""
    adjustments: list[Adjustment] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)  # RARCs from MOA, MIA and LQ*HE
    line_allowed_cents: list[int | None] = field(default_factory=list)  # AMT*B6 of each SVC, None if absent
    service_date: date | None = None
    recorded_allowed_cents: int | None = None  # as posted; None: from the lines and adjustments

    @property
    def allowed_cents(self) -> int:
        """The amount the payer allowed: as posted, else the service lines' allowed amounts (AMT*B6)
        where every line gives one, else what was paid plus what the patient owes plus sequestration (CARC 253),
        which reduces the payment, not the allowance."""
        if self.recorded_allowed_cents is not None:
            return self.recorded_allowed_cents
        if self.line_allowed_cents and all(amount is not None for amount in self.line_allowed_cents):
            return sum(amount or 0 for amount in self.line_allowed_cents)
        sequestration = sum(a.amount_cents for a in self.adjustments if a.reason == "253" and a.group != "PR")
        patient = sum(a.amount_cents for a in self.adjustments if a.group == "PR")
        return self.paid_cents + max(patient, self.patient_responsibility_cents) + sequestration


@dataclass
class PaymentFile:
    """One 835 transaction: the payment (BPR), its trace (TRN) and the claims it pays."""

    trace_number: str  # TRN02: the check or EFT number; with the payer's id it names the payment
    payer_id: str  # TRN03
    payer_name: str
    payment_date: date | None
    paid_cents: int
    method: str  # BPR04: CHK, ACH, NON, ...
    claims: list[ClaimPayment] = field(default_factory=list)


@dataclass(frozen=True)
class ClaimAcknowledgement:
    """One verdict of a 999 or 277CA. A 999 speaks of a whole 837P transaction (``batch_control``,
    its ST02/ISA13); a 277CA of one claim (``claim_number``)."""

    accepted: bool
    status_code: str
    message: str
    claim_number: str = ""
    batch_control: int | None = None
    payer_claim_control: str = ""


@dataclass
class AcknowledgementFile:
    kind: str  # IMPLEMENTATION_ACK or CLAIM_ACK
    control: str  # the acknowledgement's own ISA13
    created: date | None
    verdicts: list[ClaimAcknowledgement] = field(default_factory=list)


@dataclass
class ReturnedFile:
    """What one file holds: its payments or its acknowledgements."""

    kind: str
    payments: list[PaymentFile] = field(default_factory=list)
    acknowledgements: list[AcknowledgementFile] = field(default_factory=list)



# A claim's outcome once something came back for it.
PAID = "paid"
PARTLY_PAID = "partly paid"
DENIED = "denied"
REVERSED = "payment reversed"
ACCEPTED = "accepted"
REJECTED = "rejected"
NEEDS_WORK = frozenset({PARTLY_PAID, DENIED, REVERSED, REJECTED})
# Reductions that are part of an ordinary payment, not a denial of part of the claim: the
# contractual write-off (45), Medicare's sequestration (253), a prior payer's share (23).
ORDINARY_REDUCTIONS = frozenset({"45", "253", "23"})


def payment_outcome(payment: ClaimPayment) -> str:
    """Paid, partly paid, denied or reversed, from one CLP loop. What the patient owes counts as
    paid (it is billable); a reduction other than :data:`ORDINARY_REDUCTIONS` outside the patient's
    share makes a claim that was paid at all partly paid."""
    if payment.status_code == REVERSAL_STATUS:
        return REVERSED
    owed = payment.paid_cents + payment.patient_responsibility_cents
    if payment.status_code == DENIED_STATUS or (owed <= 0 and payment.charge_cents > 0):
        return DENIED
    refused = sum(adjustment.amount_cents for adjustment in payment.adjustments
                  if adjustment.group != "PR" and adjustment.reason not in ORDINARY_REDUCTIONS)
    return PARTLY_PAID if refused > 0 else PAID


def claim_outcome(payments: Sequence[ClaimPayment], acknowledgements: Sequence[ClaimAcknowledgement]) -> str:
    """The outcome of a claim from what came back for it, both oldest first ("" when nothing did):
    a payment decides; before one, the last acknowledgement accepts or rejects."""
    if payments:
        return payment_outcome(payments[-1])
    if acknowledgements:
        return ACCEPTED if acknowledgements[-1].accepted else REJECTED
    return ""

"""Remittances (835) and acknowledgements (999, 277CA) as imported, and what they say per claim.

Each is kept as it came: a payment is recorded once (its trace number and payer name it; a second
import of the same 835 posts nothing), an acknowledgement file once (by its checksum). A claim's
outcome is derived from them (:func:`slpterm.domain.remittance.claim_outcome`), never stored.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import insert
from sqlalchemy import select as sa_select
from sqlmodel import col, func, select

from slpterm.domain.remittance import (
    REVERSAL_STATUS,
    AcknowledgementFile,
    Adjustment,
    ClaimAcknowledgement,
    ClaimPayment,
    PaymentFile,
)
from slpterm.store.base import Repository
from slpterm.store.models import (
    Acknowledgement,
    ExportBatch,
    ExportBatchItem,
    ExportedClaimLine,
    Remittance,
    RemittanceAdjustment,
    RemittanceClaimPayment,
    new_id,
)


@dataclass(frozen=True)
class PostedPayment:
    """A claim payment as posted, with the remittance that carried it."""

    payment: ClaimPayment
    payer_name: str
    trace_number: str
    payment_date: date | None


@dataclass(frozen=True)
class EarlierImport:
    """The remittance an 835 duplicates: when it was imported, from which file."""

    imported_at: datetime
    file_name: str


def _in_chunks(values: Sequence[str], size: int = 900) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


class RemittanceRepository(Repository):
    def earlier_import(self, trace_number: str, payer_id: str) -> EarlierImport | None:
        with self.db.read() as session:
            row = session.exec(select(Remittance).where(Remittance.trace_number == trace_number,
                                                        Remittance.payer_id == payer_id)).first()
        return EarlierImport(row.imported_at, row.file_name) if row is not None else None

    def acknowledgement_file_imported(self, checksum: str) -> bool:
        with self.db.read() as session:
            return session.exec(select(Acknowledgement.id).where(Acknowledgement.file_checksum == checksum)).first() is not None

    def known_claim_numbers(self) -> set[str]:
        """Every claim number an export recorded (CLM01 of an 837P)."""
        with self.db.read() as session:
            return set(session.exec(select(ExportedClaimLine.claim_number).where(
                col(ExportedClaimLine.claim_number) != "").distinct()))

    def interchange_claims(self, controls: Collection[int]) -> dict[int, set[str]]:
        """Interchange control number -> the claim numbers the 837P with that number carried."""
        found: dict[int, set[str]] = {}
        if not controls:
            return found
        with self.db.read() as session:
            for control, number in session.exec(
                    select(ExportBatch.interchange_control, ExportedClaimLine.claim_number)
                    .join(ExportBatchItem, col(ExportBatchItem.batch_id) == col(ExportBatch.id))
                    .join(ExportedClaimLine, col(ExportedClaimLine.participant_id) == col(ExportBatchItem.participant_id))
                    .where(col(ExportBatch.interchange_control).in_(list(controls)),
                           col(ExportedClaimLine.claim_number) != "")):
                if control is not None:
                    found.setdefault(control, set()).add(number)
        return found

    def post(self, payment: PaymentFile, file_name: str, checksum: str) -> str | None:
        """Record one 835 payment and its claims; the remittance's id, or None when a payment with the
        same trace number from the same payer was recorded before (nothing is posted twice)."""
        with self.db.write() as session:
            if session.exec(select(Remittance.id).where(Remittance.trace_number == payment.trace_number,
                                                        Remittance.payer_id == payment.payer_id)).first():
                return None
            remittance = Remittance(trace_number=payment.trace_number, payer_id=payment.payer_id,
                                    payer_name=payment.payer_name, payment_date=payment.payment_date,
                                    paid_cents=payment.paid_cents, method=payment.method, file_name=file_name,
                                    checksum=checksum, imported_by=self.store.actor)
            session.add(remittance)
            session.flush()
            claim_rows: list[dict[str, object]] = []
            adjustment_rows: list[dict[str, object]] = []
            for seq, claim in enumerate(payment.claims):
                payment_id = new_id()
                claim_rows.append({
                    "id": payment_id, "remittance_id": remittance.id, "claim_number": claim.claim_number,
                    "status_code": claim.status_code, "charge_cents": claim.charge_cents,
                    "paid_cents": claim.paid_cents, "allowed_cents": claim.allowed_cents,
                    "patient_responsibility_cents": claim.patient_responsibility_cents,
                    "payer_claim_control": claim.payer_claim_control, "remarks": " ".join(claim.remarks), "seq": seq})
                adjustment_rows.extend({"id": new_id(), "payment_id": payment_id, "group_code": adjustment.group,
                                        "reason_code": adjustment.reason, "amount_cents": adjustment.amount_cents,
                                        "procedure": adjustment.procedure} for adjustment in claim.adjustments)
            if claim_rows:
                session.execute(insert(RemittanceClaimPayment), claim_rows)
            if adjustment_rows:
                session.execute(insert(RemittanceAdjustment), adjustment_rows)
            self.audit(session, "import", "remittance", remittance.id,
                       {"trace_number": payment.trace_number, "payer": payment.payer_name or payment.payer_id,
                        "claims": len(claim_rows), "paid_cents": payment.paid_cents, "file": file_name})
            return remittance.id

    def record_acknowledgements(self, acknowledgement: AcknowledgementFile, file_name: str, checksum: str) -> bool:
        """Record an acknowledgement file's verdicts; False when the same file was recorded before."""
        with self.db.write() as session:
            if session.exec(select(Acknowledgement.id).where(Acknowledgement.file_checksum == checksum)).first():
                return False
            seq = session.exec(select(func.max(Acknowledgement.seq))).one() or 0
            rows = [{"id": new_id(), "kind": acknowledgement.kind, "file_checksum": checksum, "file_name": file_name,
                     "claim_number": verdict.claim_number, "batch_control": verdict.batch_control,
                     "accepted": verdict.accepted, "status_code": verdict.status_code, "message": verdict.message,
                     "payer_claim_control": verdict.payer_claim_control, "seq": seq + index}
                    for index, verdict in enumerate(acknowledgement.verdicts, start=1)]
            if rows:
                session.execute(insert(Acknowledgement), rows)
            self.audit(session, "import", "acknowledgement", checksum,
                       {"kind": acknowledgement.kind, "verdicts": len(rows), "file": file_name})
            return True

    def payments(self, claim_numbers: Collection[str] | None = None) -> dict[str, list[PostedPayment]]:
        """claim number -> its posted payments, oldest first (by payment date, then import)."""
        query = (sa_select(RemittanceClaimPayment, col(Remittance.payer_name), col(Remittance.trace_number),
                           col(Remittance.payment_date))
                 .join(Remittance, col(Remittance.id) == col(RemittanceClaimPayment.remittance_id))
                 .order_by(col(Remittance.payment_date), col(Remittance.imported_at), col(RemittanceClaimPayment.seq)))
        with self.db.read() as session:
            rows = list(session.execute(query if claim_numbers is None else query.where(
                col(RemittanceClaimPayment.claim_number).in_(list(claim_numbers)))))
            adjustments: dict[str, list[Adjustment]] = {}
            wanted = [row[0].id for row in rows]
            for chunk in _in_chunks(wanted):
                for adjustment in session.exec(select(RemittanceAdjustment).where(
                        col(RemittanceAdjustment.payment_id).in_(list(chunk)))):
                    adjustments.setdefault(adjustment.payment_id, []).append(Adjustment(
                        adjustment.group_code, adjustment.reason_code, adjustment.amount_cents, adjustment.procedure))
        found: dict[str, list[PostedPayment]] = {}
        for row, payer_name, trace_number, payment_date in rows:
            claim = ClaimPayment(claim_number=row.claim_number, status_code=row.status_code,
                                 charge_cents=row.charge_cents, paid_cents=row.paid_cents,
                                 patient_responsibility_cents=row.patient_responsibility_cents,
                                 payer_claim_control=row.payer_claim_control,
                                 adjustments=adjustments.get(row.id, []), remarks=row.remarks.split(),
                                 recorded_allowed_cents=row.allowed_cents)
            found.setdefault(row.claim_number, []).append(PostedPayment(claim, payer_name, trace_number, payment_date))
        return found

    def acknowledgements(self) -> list[ClaimAcknowledgement]:
        """Every verdict recorded, oldest first: a 277CA's names its claim, a 999's the 837P's
        interchange control number."""
        with self.db.read() as session:
            return [ClaimAcknowledgement(accepted=row.accepted, status_code=row.status_code, message=row.message,
                                         claim_number=row.claim_number, batch_control=row.batch_control,
                                         payer_claim_control=row.payer_claim_control)
                    for row in session.exec(select(Acknowledgement).order_by(col(Acknowledgement.seq)))]

    def allowed_by_participant(self, patient_ids: Sequence[str] | None = None) -> dict[str, dict[str, int]]:
        """Allowed amounts of claims a remittance adjudicated, split over the sessions the claim
        carried in proportion to their charges: patient id -> participant id -> cents (every patient
        when None). A claim whose last payment was reversed has no allowed amount."""
        last: dict[str, tuple[str, int]] = {}
        with self.db.read() as session:
            if session.exec(select(RemittanceClaimPayment.id)).first() is None:
                return {}
            query = select(ExportedClaimLine.claim_number, ExportedClaimLine.patient_id, ExportedClaimLine.participant_id,
                           ExportedClaimLine.charge_cents).where(col(ExportedClaimLine.claim_number) != "")
            if patient_ids is not None:
                query = query.where(col(ExportedClaimLine.patient_id).in_(list(patient_ids)))
            lines = list(session.exec(query))
            payments = (select(RemittanceClaimPayment.claim_number, RemittanceClaimPayment.status_code,
                               RemittanceClaimPayment.allowed_cents)
                        .join(Remittance, col(Remittance.id) == col(RemittanceClaimPayment.remittance_id))
                        .order_by(col(Remittance.payment_date), col(Remittance.imported_at),
                                  col(RemittanceClaimPayment.seq)))
            numbers = sorted({line[0] for line in lines})
            for chunk in ([None] if patient_ids is None else list(_in_chunks(numbers))):
                chosen = payments if chunk is None else payments.where(
                    col(RemittanceClaimPayment.claim_number).in_(list(chunk)))
                for number, status, allowed in session.exec(chosen):
                    last[number] = (status, allowed)
        charges: dict[str, dict[tuple[str, str], int]] = {}
        for number, patient_id, participant_id, cents in lines:
            if number in last and last[number][0] != REVERSAL_STATUS:
                shares = charges.setdefault(number, {})
                shares[(patient_id, participant_id)] = shares.get((patient_id, participant_id), 0) + cents
        out: dict[str, dict[str, int]] = {}
        for number, shares in charges.items():
            allowed, total = last[number][1], sum(shares.values())
            given = 0
            for index, ((patient_id, participant_id), cents) in enumerate(sorted(shares.items())):
                share = allowed - given if index == len(shares) - 1 else (allowed * cents // total if total else 0)
                given += share
                out.setdefault(patient_id, {})[participant_id] = share
        return out

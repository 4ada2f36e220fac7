"""The claims register: every claim an 837P billed, by claim number (CLM01), with its status.

An 837P batch enters its claims as ``exported`` (:func:`record_sent`, inside the batch's own
transaction); a correction marks them ``replaced`` or ``voided``; the payer's answers (835
remittances, 999 and 277CA acknowledgements) set theirs through :meth:`ClaimRegister.set_claim_status`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from slpterm.domain.claims import PAYER_STATUSES, ClaimStatus, claim_status
from slpterm.store.base import Repository
from slpterm.store.errors import NotFound, ValidationFailed
from slpterm.store.models import (
    ClaimRecord,
    ExportBatch,
    ExportBatchItem,
    ExportedClaimLine,
    Patient,
    utc_now,
)


@dataclass(frozen=True)
class ClaimEntry:
    """One claim of the register: its number, whose and when, what it charged, its status, and the
    batches (batch number, interchange control number) that carried it, first one first."""

    claim_number: str
    patient_id: str
    patient_name: str
    date_of_service: date
    charge_cents: int
    batches: tuple[tuple[int, int | None], ...]
    status: ClaimStatus = ClaimStatus.EXPORTED
    payer_claim_number: str = ""
    needs_replacement: str = ""  # why it should be replaced ("" when it need not)
    status_note: str = ""

    @property
    def status_text(self) -> str:
        """'exported in batch 000001', 'replaced in batch 000004', 'paid', ... and what needs doing."""
        labels = [f"{number:06d}" for number, _ in self.batches]
        if self.status == ClaimStatus.EXPORTED:
            if len(labels) > 1:
                text = f"exported in batches {', '.join(labels)} (re-sent)"
            else:
                text = f"exported in batch {labels[0]}" if labels else "exported"
        elif self.status in (ClaimStatus.REPLACED, ClaimStatus.VOIDED) and labels:
            text = f"{self.status.label} in batch {labels[-1]}"
        else:
            text = self.status.label
        if self.status_note:
            text += f" ({self.status_note})"
        if self.needs_replacement:
            text += f"; needs replacement: {self.needs_replacement}"
        return text


def record_sent(session: Session, claim_numbers: Iterable[tuple[str, str, date]], batch_id: str,
                frequency: str = "1") -> None:
    """Enter or update the claims one 837P carried ((claim number, patient id, date of service)),
    in the batch's transaction: an original or re-send is ``exported``, a replacement ``replaced``,
    a void ``voided``; a correction sent clears "needs replacement"."""
    status = {"7": ClaimStatus.REPLACED, "8": ClaimStatus.VOIDED}.get(frequency, ClaimStatus.EXPORTED)
    for number, patient_id, day in claim_numbers:
        record = session.get(ClaimRecord, number)
        if record is None:
            record = ClaimRecord(claim_number=number, patient_id=patient_id, date_of_service=day)
        record.status = str(status)
        record.batch_id = batch_id
        record.frequency = frequency
        record.status_note = ""
        record.status_at = utc_now()
        if frequency != "1":
            record.needs_replacement = ""
        session.add(record)


class ClaimRegister(Repository):
    def register(self, formats: Collection[str]) -> list[ClaimEntry]:
        """Every claim a batch of ``formats`` billed, by date of service and claim number."""
        with self.db.read() as session:
            lines = list(session.execute(  # sqlmodel's select is typed for at most four columns
                sa_select(col(ExportedClaimLine.claim_number), col(ExportedClaimLine.participant_id),
                          col(ExportedClaimLine.patient_id), col(ExportedClaimLine.date_of_service),
                          col(ExportedClaimLine.charge_cents), col(Patient.last_name), col(Patient.first_name))
                .join(Patient, col(Patient.id) == col(ExportedClaimLine.patient_id))
                .where(col(ExportedClaimLine.claim_number) != "")))
            sent = list(session.exec(
                select(ExportBatchItem.participant_id, ExportBatch.control_number, ExportBatch.interchange_control)
                .join(ExportBatch, col(ExportBatch.id) == col(ExportBatchItem.batch_id))
                .where(col(ExportBatch.format).in_(list(formats)))
                .order_by(col(ExportBatch.control_number))))
            records = {record.claim_number: record for record in session.exec(select(ClaimRecord))}
        batches_of: dict[str, list[tuple[int, int | None]]] = {}
        for participant_id, number, control in sent:
            batches_of.setdefault(participant_id, []).append((int(number or 0), control))
        found: dict[str, dict[str, Any]] = {}
        for claim_number, participant_id, patient_id, day, cents, last, first in lines:
            entry = found.setdefault(claim_number, {"patient_id": patient_id, "name": f"{last}, {first}".strip(", "),
                                                    "day": day, "cents": 0, "batches": []})
            entry["cents"] += cents
            for batch in batches_of.get(participant_id, []):
                if batch not in entry["batches"]:
                    entry["batches"].append(batch)
        claims = []
        for claim_number, entry in found.items():
            record = records.get(claim_number)
            claims.append(ClaimEntry(
                claim_number, entry["patient_id"], entry["name"], entry["day"], entry["cents"], tuple(sorted(entry["batches"])),
                status=ClaimStatus(record.status) if record else ClaimStatus.EXPORTED,
                payer_claim_number=record.payer_claim_number if record else "",
                needs_replacement=record.needs_replacement if record else "",
                status_note=record.status_note if record else ""))
        return sorted(claims, key=lambda claim: (claim.date_of_service, claim.claim_number))

    def claim(self, claim_number: str) -> ClaimRecord | None:
        with self.db.read() as session:
            return session.get(ClaimRecord, claim_number.strip().upper())

    def participant_ids(self, claim_number: str) -> list[str]:
        """The sessions (participant ids) whose lines went out on the claim, in a stable order."""
        with self.db.read() as session:
            return sorted(set(session.exec(select(ExportedClaimLine.participant_id).where(
                ExportedClaimLine.claim_number == claim_number.strip().upper()))))

    def by_participant(self, participant_ids: Collection[str] | None = None) -> dict[str, tuple[str, ClaimStatus]]:
        """participant id -> (the claim number its lines went out on, that claim's status)."""
        query = (select(ExportedClaimLine.participant_id, ExportedClaimLine.claim_number, ClaimRecord.status)
                 .join(ClaimRecord, col(ClaimRecord.claim_number) == col(ExportedClaimLine.claim_number)))
        if participant_ids is not None:
            query = query.where(col(ExportedClaimLine.participant_id).in_(list(participant_ids)))
        with self.db.read() as session:
            return {participant_id: (number, ClaimStatus(status)) for participant_id, number, status in session.exec(query)}

    def set_claim_status(self, claim_number: str, status: str, *, payer_claim_number: str | None = None,
                         note: str = "") -> ClaimRecord:
        """Record the payer's answer on a claim: ``status`` is one of accepted, rejected, paid,
        partly paid (``partly_paid``) or denied; ``payer_claim_number`` (835 CLP07, 277CA) is kept
        for a later replacement or void (REF*F8); ``note`` is shown with the status (e.g. a denial
        reason in plain words). Raises NotFound for an unknown claim number, ValidationFailed for
        another status."""
        try:
            wanted = claim_status(status)
        except ValueError as error:
            raise ValidationFailed([("Claim status", str(error))]) from None
        if wanted not in PAYER_STATUSES:
            allowed = ", ".join(sorted(s.label for s in PAYER_STATUSES))
            raise ValidationFailed([("Claim status", f"{wanted.label!r} is set by slpterm itself; a payer's answer "
                                                     f"is one of {allowed}.")])
        changes: dict[str, Any] = {"status": str(wanted), "status_note": note.strip(), "status_at": utc_now()}
        if payer_claim_number is not None and payer_claim_number.strip():
            changes["payer_claim_number"] = payer_claim_number.strip()
        return self._change(claim_number, changes)

    def set_payer_claim_number(self, claim_number: str, payer_claim_number: str) -> ClaimRecord:
        """Keep the payer's claim control number for the claim (REF*F8 of its corrections)."""
        if not payer_claim_number.strip():
            raise ValidationFailed([("Payer claim number", "type the number the payer gave the claim")])
        return self._change(claim_number, {"payer_claim_number": payer_claim_number.strip()})

    def mark_needs_replacement(self, claim_number: str, reason: str) -> ClaimRecord:
        """Mark the claim as needing a replacement, with why (an empty reason clears the mark)."""
        return self._change(claim_number, {"needs_replacement": reason.strip()})

    def _change(self, claim_number: str, changes: dict[str, Any]) -> ClaimRecord:
        number = claim_number.strip().upper()
        with self.db.write() as session:
            record = session.get(ClaimRecord, number)
            if record is None:
                raise NotFound(f"No claim numbered {number} in the claims register; `slpterm claims list` shows them.")
            before = {key: getattr(record, key) for key in changes}
            if before == changes:
                return record
            for key, value in changes.items():
                setattr(record, key, value)
            session.add(record)
            session.flush()
            self.audit(session, "update", "claimrecord", number,
                       {"before": {k: v for k, v in before.items() if k != "status_at"},
                        "after": {k: v for k, v in changes.items() if k != "status_at"}})
            return record

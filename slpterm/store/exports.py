"""Export batches: which signed sessions went out, when, in what file."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, insert
from sqlmodel import col, func, select

from slpterm.store import installation as installations
from slpterm.store.base import Repository
from slpterm.store.claims import record_sent
from slpterm.store.errors import LockedRecord
from slpterm.store.models import (
    ClaimRecord,
    ExportBatch,
    ExportBatchItem,
    ExportedClaimLine,
    new_id,
)


@dataclass(frozen=True)
class PlannedInterchange:
    """The control number an 837P is about to carry, and the installation issuing it."""

    control: int
    installation_id: str


class ExportRepository(Repository):
    def plan_interchange(self, now: datetime) -> PlannedInterchange:
        """The next interchange control number (ISA13/GS06/ST02) this installation may use: one no
        batch in this data file carries, on a slot no other installation recorded here uses, past
        what this installation issued before (its config folder remembers, whatever backup is
        restored) and past the clock."""
        with self.db.read() as session:
            issued = list(session.exec(select(ExportBatch.installation_id, ExportBatch.interchange_control).where(
                col(ExportBatch.interchange_control).is_not(None))))
        here = installations.load_installation()
        taken = {installations.slot_of(control) for owner, control in issued if owner != here.id and control is not None}
        here = installations.free_slot(here, taken)
        control = installations.next_control(here, [control for _, control in issued if control is not None], now)
        return PlannedInterchange(control=control, installation_id=here.id)

    def record_batch(
        self,
        *,
        format: str,
        participant_ids: list[str],
        file_names: list[str],
        checksum: str,
        range_from: date | None = None,
        range_to: date | None = None,
        control_number: int | None = None,
        billed_lines: list[dict[str, Any]] | None = None,
        interchange: PlannedInterchange | None = None,
        frequency: str = "1",
    ) -> ExportBatch:
        """Record a written export; ``control_number`` is the one printed in the files, if planned.
        ``billed_lines`` are the claim lines as exported, each with its charge in cents: the first
        export of a participant's lines is what was billed (a re-export does not change it), until a
        replacement (``frequency`` "7") bills its lines instead; a void ("8") keeps them, voided.
        The claims of the lines (their claim numbers) enter the claims register."""
        with self.db.write() as session:
            control = session.exec(select(func.max(ExportBatch.control_number))).one() or 0
            if control_number is not None and control_number <= control:
                raise LockedRecord(
                    f"Batch number {control_number} is already used (another export was recorded meanwhile); "
                    "export again to get a new number."
                )
            if interchange is not None and session.exec(select(ExportBatch.id).where(
                    ExportBatch.interchange_control == interchange.control)).first() is not None:
                raise LockedRecord(f"Interchange control number {interchange.control:09d} is already used; "
                                   "export again to get a new one.")
            batch = ExportBatch(
                created_by=self.store.actor,
                format=format,
                range_from=range_from,
                range_to=range_to,
                file_names="\n".join(file_names),
                checksum=checksum,
                control_number=control_number if control_number is not None else control + 1,
                interchange_control=interchange.control if interchange else None,
                installation_id=interchange.installation_id if interchange else "",
            )
            session.add(batch)
            session.flush()
            if participant_ids:
                session.execute(insert(ExportBatchItem), [
                    {"id": new_id(), "batch_id": batch.id, "participant_id": participant_id}
                    for participant_id in participant_ids
                ])
            participants = {line["participant_id"] for line in billed_lines or ()}
            if frequency == "7" and participants:
                session.execute(delete(ExportedClaimLine).where(col(ExportedClaimLine.participant_id).in_(participants)))
            already = set() if frequency == "7" else set(session.exec(select(ExportedClaimLine.participant_id).where(
                col(ExportedClaimLine.participant_id).in_(participants))))
            fresh = [line for line in billed_lines or () if line["participant_id"] not in already]
            if fresh and frequency != "8":
                session.execute(insert(ExportedClaimLine), [{"id": new_id(), "batch_id": batch.id, **line} for line in fresh])
            claims = {line["claim_number"]: (line["claim_number"], line["patient_id"], line["date_of_service"])
                      for line in billed_lines or () if line.get("claim_number")}
            record_sent(session, claims.values(), batch.id, frequency)
            self.audit(session, "export", "exportbatch", batch.id,
                       {"format": format, "sessions": len(participant_ids), "files": file_names,
                        **({"frequency": frequency, "claims": sorted(claims)} if frequency != "1" else {})})
        installations.remember_batch_number(self.store.clinic.identity(), batch.control_number or 0)
        if interchange is not None:
            installations.remember_control(installations.load_installation(), interchange.control)
        return batch

    def next_control_number(self) -> int:
        """The next batch number (the label in file names): past every batch in the data file and past
        what this installation numbered for it before (so a restored backup does not start again)."""
        with self.db.read() as session:
            recorded = session.exec(select(func.max(ExportBatch.control_number))).one() or 0
        return max(recorded, installations.last_batch_number(self.store.clinic.identity())) + 1

    def batches(self) -> list[ExportBatch]:
        with self.db.read() as session:
            return list(session.exec(select(ExportBatch).order_by(col(ExportBatch.created_at).desc())))

    def exported_participant_ids(self, formats: Collection[str] | None = None) -> set[str]:
        """Participants in a batch of one of ``formats`` (of any format when None)."""
        query = select(ExportBatchItem.participant_id)
        if formats is not None:
            query = query.join(ExportBatch, col(ExportBatch.id) == col(ExportBatchItem.batch_id)).where(
                col(ExportBatch.format).in_(list(formats)))
        with self.db.read() as session:
            return set(session.exec(query))

    def exported_formats(self) -> dict[str, frozenset[str]]:
        """participant id -> the formats of the batches it went out in."""
        found: dict[str, set[str]] = {}
        with self.db.read() as session:
            for participant_id, format in session.exec(select(ExportBatchItem.participant_id, ExportBatch.format).join(
                    ExportBatch, col(ExportBatch.id) == col(ExportBatchItem.batch_id))):
                found.setdefault(participant_id, set()).add(format)
        return {participant_id: frozenset(formats) for participant_id, formats in found.items()}

    def items(self, batch_id: str) -> list[str]:
        with self.db.read() as session:
            return list(session.exec(select(ExportBatchItem.participant_id).where(ExportBatchItem.batch_id == batch_id)))

    def billed_by_participant(self, patient_ids: list[str] | None = None) -> dict[str, dict[str, int]]:
        """Charges billed (exported): patient id -> participant id -> cents (every patient when None)."""
        out: dict[str, dict[str, int]] = {}
        query = (select(ExportedClaimLine.patient_id, ExportedClaimLine.participant_id, func.sum(ExportedClaimLine.charge_cents))
                 .outerjoin(ClaimRecord, col(ClaimRecord.claim_number) == col(ExportedClaimLine.claim_number))
                 .where(col(ClaimRecord.status).is_(None) | (col(ClaimRecord.status) != "voided")))  # a void bills nothing
        if patient_ids is not None:
            query = query.where(col(ExportedClaimLine.patient_id).in_(patient_ids))
        with self.db.read() as session:
            for patient_id, participant_id, cents in session.exec(
                    query.group_by(ExportedClaimLine.patient_id, ExportedClaimLine.participant_id)):
                out.setdefault(patient_id, {})[participant_id] = int(cents or 0)
        return out

    def billed_lines(self, participant_id: str) -> list[ExportedClaimLine]:
        with self.db.read() as session:
            return list(session.exec(select(ExportedClaimLine).where(ExportedClaimLine.participant_id == participant_id)))

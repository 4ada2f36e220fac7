"""Export batches: which signed sessions went out, when, in what file."""

from __future__ import annotations

from datetime import date

from sqlalchemy import insert
from sqlmodel import col, func, select

from slpterm.store.base import Repository
from slpterm.store.errors import LockedRecord
from slpterm.store.models import ExportBatch, ExportBatchItem, new_id


class ExportRepository(Repository):
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
    ) -> ExportBatch:
        """Record a written export; ``control_number`` is the one printed in the files, if planned."""
        with self.db.write() as session:
            control = session.exec(select(func.max(ExportBatch.control_number))).one() or 0
            if control_number is not None and control_number <= control:
                raise LockedRecord(
                    f"Batch number {control_number} is already used (another export was recorded meanwhile); "
                    "export again to get a new number."
                )
            batch = ExportBatch(
                created_by=self.store.actor,
                format=format,
                range_from=range_from,
                range_to=range_to,
                file_names="\n".join(file_names),
                checksum=checksum,
                control_number=control_number if control_number is not None else control + 1,
            )
            session.add(batch)
            session.flush()
            if participant_ids:
                session.execute(insert(ExportBatchItem), [
                    {"id": new_id(), "batch_id": batch.id, "participant_id": participant_id}
                    for participant_id in participant_ids
                ])
            self.audit(session, "export", "exportbatch", batch.id,
                       {"format": format, "sessions": len(participant_ids), "files": file_names})
            return batch

    def next_control_number(self) -> int:
        with self.db.read() as session:
            return (session.exec(select(func.max(ExportBatch.control_number))).one() or 0) + 1

    def batches(self) -> list[ExportBatch]:
        with self.db.read() as session:
            return list(session.exec(select(ExportBatch).order_by(col(ExportBatch.created_at).desc())))

    def exported_participant_ids(self) -> set[str]:
        with self.db.read() as session:
            return set(session.exec(select(ExportBatchItem.participant_id)))

    def items(self, batch_id: str) -> list[str]:
        with self.db.read() as session:
            return list(session.exec(select(ExportBatchItem.participant_id).where(ExportBatchItem.batch_id == batch_id)))

"""Helpers shared by the exporters: formats, money text, ordering and file naming."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from slpterm.domain.encounter import EncounterRecord
from slpterm.export.formats import ExportFormat  # noqa: F401  (re-exported: its home is formats.py)

CENT = Decimal("0.01")


class ExportError(Exception):
    """An export that cannot be written; the message says what to do."""


@dataclass(frozen=True)
class BatchInfo:
    """What every file of one export carries: the batch number, when, and the chosen range."""

    number: int
    created_at: datetime
    range_from: date | None = None
    range_to: date | None = None
    production: bool = True
    # ISA13/GS06/ST02 of an 837P (nine digits, never reused: the store plans it); the batch number
    # when not given.
    interchange_control: int | None = None

    @property
    def control(self) -> int:
        return (self.interchange_control if self.interchange_control is not None else self.number) % 1_000_000_000

    @property
    def label(self) -> str:
        """The batch ID printed in files; equals ExportBatch.control_number."""
        return f"{self.number:06d}"


def claim_status(encounter: EncounterRecord) -> str:
    """What CSV and JSON say of the encounter's claim: its status in the claims register ('exported',
    'paid', ...), 'billed' when a superbill carried it, else 'not billed'."""
    if encounter.claim_status:
        return encounter.claim_status.replace("_", " ")
    return "billed" if encounter.exported_before else "not billed"


def money(amount: Decimal | int) -> str:
    """Money as text with two decimals: Decimal('145') -> '145.00'."""
    return str(Decimal(amount).quantize(CENT))


def patient_name(encounter: EncounterRecord) -> str:
    return f"{encounter.patient.last_name}, {encounter.patient.first_name}".strip(", ")


def sort_encounters(encounters: Iterable[EncounterRecord]) -> list[EncounterRecord]:
    """Stable order for every file: date, patient name, patient, session."""
    return sorted(encounters, key=lambda e: (e.date_of_service, e.patient.last_name.casefold(),
                                             e.patient.first_name.casefold(), e.patient.id,
                                             e.started_at.isoformat() if e.started_at else "", e.session_id,
                                             e.participant_id))


def line_diagnosis_codes(encounter: EncounterRecord, pointers: Sequence[int]) -> list[str]:
    """The ICD-10-CM codes a line's 1-based pointers name, in pointer order (unknown pointers skipped)."""
    codes = diagnosis_codes(encounter)
    return [codes[p - 1] for p in pointers if 1 <= p <= len(codes)]


def diagnosis_codes(encounter: EncounterRecord) -> list[str]:
    """The encounter's diagnoses in pointer order (the coding result's order wins when present)."""
    if encounter.coding.diagnoses:
        return list(encounter.coding.diagnoses)
    return [d.code for d in encounter.diagnoses]


def diagnosis_description(encounter: EncounterRecord, code: str) -> str:
    for diagnosis in encounter.diagnoses:
        if diagnosis.code == code:
            return diagnosis.description
    return ""


def diagnosis_role(encounter: EncounterRecord, code: str) -> str:
    for diagnosis in encounter.diagnoses:
        if diagnosis.code == code:
            return diagnosis.role
    return ""

"""CSV: one row per claim line, UTF-8 with a byte-order mark so spreadsheets open it cleanly.

Cells that a spreadsheet would read as a formula (text starting with =, +, -, @, tab or carriage
return) are prefixed with a single quote.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from slpterm.domain.encounter import EncounterRecord
from slpterm.export.common import (
    BatchInfo,
    claim_status,
    line_diagnosis_codes,
    money,
    sort_encounters,
)

COLUMNS = (
    "patient_id", "patient_last_name", "patient_first_name", "patient_date_of_birth",
    "date_of_service", "place_of_service", "cpt", "modifier_1", "modifier_2", "modifier_3", "modifier_4",
    "units", "charge", "diagnosis_1", "diagnosis_2", "diagnosis_3", "diagnosis_4",
    "rendering_npi", "rendering_clinician", "payer_name", "payer_id", "member_id",
    "session_id", "participant_id", "batch_id", "claim_number", "claim_status",
)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """Prefix formula-looking text with a single quote so a spreadsheet shows it as text."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def csv_rows(encounters: Sequence[EncounterRecord], batch: BatchInfo) -> list[list[str]]:
    """The data rows (header excluded), before formula neutralisation."""
    return _rows(sort_encounters(encounters), batch)


def _rows(ordered: Sequence[EncounterRecord], batch: BatchInfo) -> list[list[str]]:
    rows = []
    for encounter in ordered:
        patient = encounter.patient
        coverage = encounter.coverage
        clinician = encounter.clinician
        for item in encounter.coding.lines:
            modifiers = list(item.modifiers[:4]) + [""] * (4 - len(item.modifiers[:4]))
            codes = line_diagnosis_codes(encounter, item.diagnosis_pointers)[:4]
            codes += [""] * (4 - len(codes))
            rows.append([
                patient.external_id or patient.id, patient.last_name, patient.first_name,
                patient.date_of_birth.isoformat() if patient.date_of_birth else "",
                item.date_of_service.isoformat(), item.place_of_service, item.code, *modifiers,
                str(item.units), money(item.charge), *codes,
                item.rendering_npi, f"{clinician.first_name} {clinician.last_name}".strip(),
                coverage.payer_name if coverage else "", coverage.payer_id if coverage else "",
                coverage.member_id if coverage else "",
                encounter.session_id, encounter.participant_id, batch.label,
                encounter.claim_number, claim_status(encounter),
            ])
    return rows


class CsvStream:
    """The CSV file written in pieces: :meth:`add` each run of encounters in file order, then
    :meth:`finish`. The pieces joined are :func:`render_csv`'s bytes for all of them."""

    def __init__(self, batch: BatchInfo) -> None:
        self.batch = batch
        self.started = False

    def _text(self, rows: Sequence[Sequence[str]]) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        if not self.started:
            writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([neutralise(cell) for cell in row])
        text = buffer.getvalue().encode("utf-8-sig" if not self.started else "utf-8")
        self.started = True
        return text

    def add(self, encounters: Sequence[EncounterRecord]) -> bytes:
        return self._text(_rows(encounters, self.batch)) if encounters else b""

    def finish(self) -> bytes:
        return b"" if self.started else self._text([])


def render_csv(encounters: Sequence[EncounterRecord], batch: BatchInfo) -> bytes:
    """The CSV file's bytes (UTF-8 with BOM, CRLF line ends, every cell quoted)."""
    stream = CsvStream(batch)
    return stream.add(sort_encounters(encounters)) + stream.finish()

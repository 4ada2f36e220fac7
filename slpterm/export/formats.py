"""Every export format in one registry: a new format is one ``ExportFormatSpec`` entry here.

The CLI's ``--format`` choices, the export screen's format list, the batch runner's file names and
renderer, and the benchmark all read ``EXPORT_FORMATS``. Importing this module loads no renderer:
each spec's ``render`` imports its exporter when called, so ``slpterm --help`` stays light.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from slpterm.domain.encounter import EncounterRecord
    from slpterm.export.common import BatchInfo

ExportFile = tuple[str, bytes]


class ExportFormat(StrEnum):
    """The ids of the shipped formats, for code that names one (e.g. the X12 checks)."""

    CSV = "csv"
    JSON = "json"
    FHIR = "fhir"
    X12 = "x12"
    SUPERBILL = "superbill"

    @property
    def label(self) -> str:
        return EXPORT_FORMATS[self.value].label


@dataclass(frozen=True)
class ExportFormatSpec:
    """One export format.

    ``per_batch`` formats write one file named ``file_name`` (``{label}`` is the batch ID) with the
    bytes ``render`` returns; the others (one file per patient) get ``render``'s list of files.
    ``stream`` (per-batch formats) makes the writer ``slpterm export`` feeds a run of days at a time;
    the bytes it writes are those ``render`` returns for the whole batch. ``bills``: an export in
    this format is a billing act (an 837P sent, a superbill handed over): it records what was billed,
    and the next billing export skips those sessions. The others are copies and change nothing billed.
    """

    id: str
    label: str  # shown in the export screen's list
    summary: str  # the CLI's help phrase, e.g. "x12 (837P claim file)"
    render: Callable[[Sequence[EncounterRecord], BatchInfo], bytes | list[ExportFile]]
    file_name: str = ""
    per_batch: bool = True
    stream: Callable[[BatchInfo], Any] | None = None
    bills: bool = False

    def files(self, encounters: Sequence[EncounterRecord], batch: BatchInfo) -> list[ExportFile]:
        """The files of one export as (file name, content) pairs."""
        rendered = self.render(encounters, batch)
        if self.per_batch:
            assert isinstance(rendered, bytes)
            return [(self.file_name.format(label=batch.label), rendered)]
        assert isinstance(rendered, list)
        return rendered


def _render_csv(encounters: Sequence[EncounterRecord], batch: BatchInfo) -> bytes:
    from slpterm.export.csv_export import render_csv

    return render_csv(encounters, batch)


def _render_json(encounters: Sequence[EncounterRecord], batch: BatchInfo) -> bytes:
    from slpterm.export.json_export import render_json

    return render_json(encounters, batch)


def _render_fhir(encounters: Sequence[EncounterRecord], batch: BatchInfo) -> bytes:
    from slpterm.export.fhir import render_fhir

    return render_fhir(encounters, batch)


def _render_x12(encounters: Sequence[EncounterRecord], batch: BatchInfo) -> bytes:
    from slpterm.export.x12 import render_837p

    text, _ = render_837p(encounters, batch)
    return text.encode("ascii")


def _csv_stream(batch: BatchInfo) -> Any:
    from slpterm.export.csv_export import CsvStream

    return CsvStream(batch)


def _json_stream(batch: BatchInfo) -> Any:
    from slpterm.export.json_export import JsonStream

    return JsonStream(batch)


def _fhir_stream(batch: BatchInfo) -> Any:
    from slpterm.export.fhir import FhirStream

    return FhirStream(batch)


def _x12_stream(batch: BatchInfo) -> Any:
    from slpterm.export.x12 import X12Stream

    return X12Stream(batch)


def _render_superbills(encounters: Sequence[EncounterRecord], batch: BatchInfo) -> list[ExportFile]:
    from slpterm.export.superbill import (
        group_by_patient,
        render_superbill,
        superbill_file_stem,
    )

    files = []
    used: set[str] = set()
    for patient_id, patient_encounters in group_by_patient(encounters).items():
        stem = superbill_file_stem(patient_encounters[0], batch)
        if stem in used:
            stem = f"{stem}-{patient_id[:8]}"
        used.add(stem)
        files.append((f"{stem}.md", render_superbill(patient_encounters, batch).encode("utf-8")))
    return files


EXPORT_FORMATS: dict[str, ExportFormatSpec] = {spec.id: spec for spec in (
    ExportFormatSpec("csv", "CSV (one row per claim line)", "csv", _render_csv,
                     file_name="slpterm-encounters-{label}.csv", stream=_csv_stream),
    ExportFormatSpec("json", "JSON (slpterm-encounters v1)", "json", _render_json,
                     file_name="slpterm-encounters-{label}.json", stream=_json_stream),
    ExportFormatSpec("fhir", "FHIR R4 Bundle", "fhir (R4 Bundle)", _render_fhir,
                     file_name="slpterm-fhir-{label}.json", stream=_fhir_stream),
    ExportFormatSpec("x12", "X12 837P claim file", "x12 (837P claim file)", _render_x12,
                     file_name="slpterm-837p-{label}.x12", stream=_x12_stream, bills=True),
    ExportFormatSpec("superbill", "Superbill per patient (Markdown)", "superbill (one per patient)",
                     _render_superbills, per_batch=False, bills=True),
)}


def billing_format_ids() -> frozenset[str]:
    """The formats whose export is a billing act (837P, superbill)."""
    return frozenset(spec.id for spec in EXPORT_FORMATS.values() if spec.bills)


def skipping_formats(format: str) -> frozenset[str]:
    """The formats whose earlier batches a ``format`` export skips: every billing format for a billing
    format (a claim is billed once), the format itself for a copy (CSV after CSV)."""
    return billing_format_ids() if EXPORT_FORMATS[format].bills else frozenset({format})


def format_ids() -> tuple[str, ...]:
    """The registered formats' ids, in registry order (the CLI's ``--format`` choices)."""
    return tuple(EXPORT_FORMATS)


def format_options() -> list[tuple[str, str]]:
    """(label, id) pairs for a Select, in registry order."""
    return [(spec.label, spec.id) for spec in EXPORT_FORMATS.values()]


def format_help() -> str:
    """The CLI's help for ``--format``: every format's summary phrase."""
    summaries = [spec.summary for spec in EXPORT_FORMATS.values()]
    return ", ".join(summaries[:-1]) + " or " + summaries[-1] if len(summaries) > 1 else "".join(summaries)


def export_format(format: str) -> str:
    """``format`` checked against the registry (raises ValueError naming the choices when unknown)."""
    if format not in EXPORT_FORMATS:
        raise ValueError(f"{format!r} is not an export format; choose one of {', '.join(EXPORT_FORMATS)}.")
    return str(format)

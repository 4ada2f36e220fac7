"""Superbill: a Markdown statement per patient for a date range, for families who file their own claims."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from slpterm.domain.encounter import EncounterRecord
from slpterm.domain.text import file_name_part
from slpterm.export.common import (
    BatchInfo,
    diagnosis_codes,
    diagnosis_description,
    money,
    sort_encounters,
)

_PLACES = {"11": "Office", "12": "Home", "03": "School", "02": "Telehealth (not in home)",
           "10": "Telehealth in patient's home"}


def _cell(value: str) -> str:
    text = re.sub(r"[\x00-\x1f\x7f]+", " ", value or "")
    return text.replace("\\", "\\\\").replace("|", "\\|").strip()


def group_by_patient(encounters: Sequence[EncounterRecord]) -> dict[str, list[EncounterRecord]]:
    """Encounters keyed by patient id, each list in date order."""
    grouped: dict[str, list[EncounterRecord]] = {}
    for encounter in sort_encounters(encounters):
        grouped.setdefault(encounter.patient.id, []).append(encounter)
    return grouped


def superbill_file_stem(encounter: EncounterRecord, batch: BatchInfo) -> str:
    """A file name stem with the patient's ID, never the name: superbill-000042-P-0002."""
    patient = encounter.patient
    return f"superbill-{batch.label}-{file_name_part(patient.external_id, patient.id[:8])}"


def render_superbill(encounters: Sequence[EncounterRecord], batch: BatchInfo) -> str:
    """One patient's superbill as Markdown; ``encounters`` must all belong to that patient."""
    ordered = sort_encounters(encounters)
    if not ordered:
        raise ValueError("a superbill needs at least one encounter")
    if len({e.patient.id for e in ordered}) != 1:
        raise ValueError("a superbill covers exactly one patient")
    first = ordered[0]
    clinic, patient, coverage = first.clinic, first.patient, first.coverage
    start: date = batch.range_from or ordered[0].date_of_service
    end: date = batch.range_to or ordered[-1].date_of_service

    diagnoses: list[tuple[str, str]] = []
    for encounter in ordered:
        for code in diagnosis_codes(encounter):
            if code not in [c for c, _ in diagnoses]:
                diagnoses.append((code, diagnosis_description(encounter, code)))
    letter_of = {code: chr(ord("A") + index) if index < 26 else str(index + 1)
                 for index, (code, _) in enumerate(diagnoses)}

    out = [f"# Superbill: {_cell(clinic.name)}", ""]
    address = ", ".join(part for part in (clinic.address_line1, clinic.address_line2,
                                          f"{clinic.city}, {clinic.state} {clinic.postal_code}".strip(", ")) if part)
    out += [f"{_cell(address)}  ", f"Phone: {_cell(clinic.phone)}  ",
            f"Billing NPI: {clinic.npi} · Tax ID: {_cell(clinic.tax_id)} · Taxonomy: {_cell(clinic.taxonomy_code)}",
            "", f"Statement period: {start.isoformat()} to {end.isoformat()} · Statement {batch.label} · "
            f"Prepared {batch.created_at.date().isoformat()}", "", "## Patient", ""]
    out.append(f"Name: {_cell(patient.first_name)} {_cell(patient.last_name)}  ")
    out.append(f"Date of birth: {patient.date_of_birth.isoformat() if patient.date_of_birth else 'not recorded'}  ")
    patient_address = ", ".join(part for part in (patient.address_line1, patient.address_line2,
                                                  f"{patient.city}, {patient.state} {patient.postal_code}".strip(", "))
                                if part)
    if patient_address:
        out.append(f"Address: {_cell(patient_address)}  ")
    if coverage is not None and coverage.payer_kind != "self_pay":
        out.append(f"Insurance: {_cell(coverage.payer_name)} · Member ID: {_cell(coverage.member_id)}"
                   + (f" · Group: {_cell(coverage.group_number)}" if coverage.group_number else "") + "  ")
        if coverage.subscriber_relationship != "self":
            out.append(f"Subscriber: {_cell(coverage.subscriber_first_name)} "
                       f"{_cell(coverage.subscriber_last_name)} ({_cell(coverage.subscriber_relationship)})  ")
    out += ["", "## Diagnoses (ICD-10-CM)", "", "| Ref | Code | Description |", "|---|---|---|"]
    out += [f"| {letter_of[code]} | {code} | {_cell(description)} |" for code, description in diagnoses]
    out += ["", "## Services", "",
            "| Date | Place | CPT | Modifiers | Units | Diagnosis | Rendering provider (NPI) | Charge |",
            "|---|---|---|---|---|---|---|---:|"]
    total = Decimal("0")
    for encounter in ordered:
        codes = diagnosis_codes(encounter)
        provider = f"{encounter.clinician.first_name} {encounter.clinician.last_name}, {encounter.clinician.credentials}"
        for item in encounter.coding.lines:
            refs = ",".join(letter_of[codes[p - 1]] for p in item.diagnosis_pointers if 1 <= p <= len(codes))
            place = f"{item.place_of_service} {_PLACES.get(item.place_of_service, '')}".strip()
            out.append(f"| {item.date_of_service.isoformat()} | {_cell(place)} | {item.code} | "
                       f"{' '.join(item.modifiers)} | {item.units} | {refs} | {_cell(provider)} ({item.rendering_npi}) "
                       f"| ${money(item.charge)} |")
            total += item.charge
    out += ["", f"**Total charges: ${money(total)}**", "",
            "Amount paid: ______________    Balance due: ______________", "",
            "I certify that the services listed above were medically necessary and were provided by me or "
            "under my direct supervision.", ""]
    signers = []
    for encounter in ordered:
        name = f"{encounter.clinician.first_name} {encounter.clinician.last_name}, {encounter.clinician.credentials}"
        if name not in signers:
            signers.append(name)
    for name in signers:
        out += ["Signature: ________________________________  Date: ____________  ", f"{_cell(name)}", ""]
    return "\n".join(out)

"""JSON: one document per batch, schema "slpterm-encounters" version 1 (docs/export-json-schema.md).

Money is a string with two decimals ("145.00"); dates are ISO 8601; diagnosis codes keep their dot.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from slpterm.domain.encounter import ClinicInfo, EncounterRecord
from slpterm.export.common import (
    BatchInfo,
    claim_status,
    diagnosis_codes,
    diagnosis_description,
    diagnosis_role,
    line_diagnosis_codes,
    money,
    sort_encounters,
)
from slpterm.export.jsontext import array_end, array_items, dumps_indented, split_around

SCHEMA_NAME = "slpterm-encounters"
SCHEMA_VERSION = 1


def _iso(value) -> str | None:  # noqa: ANN001
    return value.isoformat() if value is not None else None


def encounter_document(encounter: EncounterRecord) -> dict[str, Any]:
    """One encounter, with the claim number and status the claims register keeps for it."""
    patient = encounter.patient
    coverage = encounter.coverage
    clinician = encounter.clinician
    codes = diagnosis_codes(encounter)
    return {
        "participant_id": encounter.participant_id,
        "session_id": encounter.session_id,
        "claim_number": encounter.claim_number,
        "claim_status": claim_status(encounter),
        "date_of_service": encounter.date_of_service.isoformat(),
        "session_type": encounter.session_type,
        "setting": encounter.setting,
        "place_of_service": encounter.coding.place_of_service,
        "started_at": _iso(encounter.started_at),
        "stopped_at": _iso(encounter.stopped_at),
        "total_minutes": encounter.total_minutes,
        "signed_at": _iso(encounter.signed_at),
        "signer": encounter.signer,
        "patient": {
            "id": patient.id, "external_id": patient.external_id, "first_name": patient.first_name,
            "last_name": patient.last_name, "date_of_birth": _iso(patient.date_of_birth), "sex": patient.sex,
            "address_line1": patient.address_line1, "address_line2": patient.address_line2, "city": patient.city,
            "state": patient.state, "postal_code": patient.postal_code, "phone": patient.phone,
        },
        "coverage": None if coverage is None else {
            "payer_name": coverage.payer_name, "payer_kind": coverage.payer_kind, "payer_id": coverage.payer_id,
            "member_id": coverage.member_id, "group_number": coverage.group_number,
            "subscriber_relationship": coverage.subscriber_relationship,
            "subscriber_first_name": coverage.subscriber_first_name,
            "subscriber_last_name": coverage.subscriber_last_name,
            "subscriber_date_of_birth": _iso(coverage.subscriber_date_of_birth),
        },
        "clinician": {
            "id": clinician.id, "first_name": clinician.first_name, "last_name": clinician.last_name,
            "credentials": clinician.credentials, "npi": clinician.npi,
        },
        "certifying_physician": {"name": encounter.certifying_physician_name,
                                 "npi": encounter.certifying_physician_npi},
        "diagnoses": [
            {"pointer": index, "code": code, "description": diagnosis_description(encounter, code),
             "role": diagnosis_role(encounter, code)}
            for index, code in enumerate(codes, start=1)
        ],
        "lines": [
            {
                "line": index, "code": item.code, "modifiers": list(item.modifiers), "units": item.units,
                "charge": money(item.charge), "place_of_service": item.place_of_service,
                "diagnosis_pointers": list(item.diagnosis_pointers),
                "diagnosis_codes": line_diagnosis_codes(encounter, item.diagnosis_pointers),
                "rendering_npi": item.rendering_npi, "minutes": item.minutes,
                "date_of_service": item.date_of_service.isoformat(),
            }
            for index, item in enumerate(encounter.coding.lines, start=1)
        ],
        "total_charge": money(encounter.coding.total_charge),
        "goal_results": [
            {"goal_id": goal.goal_id, "text": goal.text, "disorder_area": goal.disorder_area,
             "correct": goal.correct, "trials": goal.trials,
             "accuracy_percent": None if goal.accuracy_percent is None else str(goal.accuracy_percent)}
            for goal in encounter.goal_results
        ],
        "findings": [
            {"severity": str(finding.severity), "code": finding.code, "message": finding.message, "fix": finding.fix}
            for finding in encounter.coding.findings
        ],
    }


def encounters_document(encounters: Sequence[EncounterRecord], batch: BatchInfo) -> dict[str, Any]:
    """The whole batch as a JSON-ready dict."""
    ordered = sort_encounters(encounters)
    document = _document(ordered[0].clinic if ordered else None, batch,
                         sum((e.coding.total_charge for e in ordered), start=0))
    document["encounters"] = [encounter_document(encounter) for encounter in ordered]
    return document


def _document(clinic: ClinicInfo | None, batch: BatchInfo, total_charge: Decimal | int) -> dict[str, Any]:
    return {
        "schema": SCHEMA_NAME,
        "version": SCHEMA_VERSION,
        "batch": {
            "id": batch.label, "created_at": batch.created_at.isoformat(),
            "range_from": _iso(batch.range_from), "range_to": _iso(batch.range_to),
        },
        "clinic": None if clinic is None else {
            "name": clinic.name, "npi": clinic.npi, "tax_id": clinic.tax_id, "taxonomy_code": clinic.taxonomy_code,
            "address_line1": clinic.address_line1, "address_line2": clinic.address_line2, "city": clinic.city,
            "state": clinic.state, "postal_code": clinic.postal_code, "phone": clinic.phone,
        },
        "encounters": [_PLACEHOLDER],
        "total_charge": money(total_charge),
    }


_PLACEHOLDER = "slpterm-encounters-go-here"


class JsonStream:
    """The JSON file written in pieces: :meth:`add` each run of encounters in file order, then
    :meth:`finish`. The pieces joined are :func:`render_json`'s bytes for all of them."""

    def __init__(self, batch: BatchInfo) -> None:
        self.batch = batch
        self.clinic: ClinicInfo | None = None
        self.total: Decimal | int = 0
        self.first = True

    def add(self, encounters: Sequence[EncounterRecord]) -> bytes:
        if not encounters:
            return b""
        text = ""
        if self.first:
            self.clinic = encounters[0].clinic
            text = split_around(dumps_indented(_document(self.clinic, self.batch, 0)), _PLACEHOLDER)[0]
        for encounter in encounters:
            self.total += encounter.coding.total_charge
        items, self.first = array_items((encounter_document(e) for e in encounters), 1, self.first)
        return (text + items).encode("utf-8")

    def finish(self) -> bytes:
        document = _document(self.clinic, self.batch, self.total)
        if self.first:
            document["encounters"] = []
            return (dumps_indented(document) + "\n").encode("utf-8")
        after = split_around(dumps_indented(document), _PLACEHOLDER)[1]
        return (array_end(1, False) + after + "\n").encode("utf-8")


def render_json(encounters: Sequence[EncounterRecord], batch: BatchInfo) -> bytes:
    """The JSON file's bytes (UTF-8, indented, keys in a fixed order)."""
    stream = JsonStream(batch)
    return stream.add(sort_encounters(encounters)) + stream.finish()

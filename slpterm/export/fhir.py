"""FHIR R4: one Bundle (type collection) per batch.

Entries: Organization (clinic, payers), Practitioner, Patient, Coverage, Encounter, Condition,
Procedure, Claim and goal-accuracy Observations. Every entry has a ``urn:uuid:`` fullUrl derived
from stable ids, so re-exporting the same data gives the same ids, and every reference points at
an entry of the same Bundle.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from slpterm.domain.encounter import EncounterRecord
from slpterm.export.common import (
    BatchInfo,
    diagnosis_codes,
    diagnosis_description,
    money,
    sort_encounters,
)
from slpterm.export.jsontext import array_end, array_items, dumps_indented, split_around

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
POS = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
NPI = "http://hl7.org/fhir/sid/us-npi"
EIN = "urn:oid:2.16.840.1.113883.4.4"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
PROCESS_PRIORITY = "http://terminology.hl7.org/CodeSystem/processpriority"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
SELF_PAY = "http://terminology.hl7.org/CodeSystem/coverage-selfpay"
SUBSCRIBER_RELATIONSHIP = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
UCUM = "http://unitsofmeasure.org"

# Modifiers defined by CPT are two digits (52, 59, 95, 96, 97); letters are HCPCS level II (GN, KX, XS).
_CPT_MODIFIER = re.compile(r"^\d{2}$")
_NAMESPACE = uuid.UUID("6f1c3a52-2f6b-4d8e-9a51-5c0e1f7d2b90")
_DECIMAL_MARK = "\u0000decimal:"
_SEX = {"F": "female", "M": "male"}
_RELATIONSHIP = {"self": "self", "spouse": "spouse", "child": "child", "other": "other"}


def modifier_system(modifier: str) -> str:
    """The code system of a claim-line modifier: CPT for two digits, HCPCS otherwise."""
    return CPT if _CPT_MODIFIER.match(modifier) else HCPCS


_NAMESPACE_BYTES = _NAMESPACE.bytes


def _urn(kind: str, key: str) -> str:
    """``urn:uuid:`` and ``uuid.uuid5(_NAMESPACE, "kind:key")``, without building a UUID object."""
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + f"{kind}:{key}".encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = digest.hex()
    return f"urn:uuid:{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _decimal(amount: Decimal) -> str:
    return f"{_DECIMAL_MARK}{money(amount)}"


def _ref(url: str) -> dict[str, str]:
    return {"reference": url}


def _address(line1: str, line2: str, city: str, state: str, postal_code: str) -> list[dict[str, Any]]:
    lines = [text for text in (line1, line2) if text.strip()]
    address = {key: value for key, value in
               (("line", lines), ("city", city), ("state", state), ("postalCode", postal_code)) if value}
    return [address] if address else []


class _BundleBuilder:
    """Entries added since :meth:`take`; an entry already added (in any earlier run) is not added again."""

    def __init__(self) -> None:
        self.entries: dict[str, dict[str, Any]] = {}
        self.seen: set[str] = set()

    def __contains__(self, url: str) -> bool:
        return url in self.seen

    def add(self, url: str, resource: dict[str, Any]) -> str:
        if url not in self.seen:
            self.seen.add(url)
            resource = {"resourceType": resource.pop("resourceType"), "id": url.rsplit(":", 1)[1], **resource}
            self.entries[url] = {"fullUrl": url, "resource": resource}
        return url

    def take(self) -> list[dict[str, Any]]:
        entries, self.entries = list(self.entries.values()), {}
        return entries


def _bundle(batch: BatchInfo, entries: list[Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid5(_NAMESPACE, f"batch:{batch.label}:{batch.created_at.isoformat()}")),
        "identifier": {"system": "urn:ietf:rfc:3986",
                       "value": _urn("batch", f"{batch.label}:{batch.created_at.isoformat()}")},
        "type": "collection",
        "timestamp": batch.created_at.isoformat(),
        "entry": entries,
    }


def build_bundle(encounters: Sequence[EncounterRecord], batch: BatchInfo) -> dict[str, Any]:
    """The Bundle as a dict; money values are marked and become JSON numbers in :func:`render_fhir`."""
    builder = _BundleBuilder()
    for encounter in sort_encounters(encounters):
        _add_encounter(builder, encounter, batch)
    return _bundle(batch, builder.take())


def _add_encounter(builder: _BundleBuilder, encounter: EncounterRecord, batch: BatchInfo) -> None:
    clinic = encounter.clinic
    organization = _urn("organization", clinic.npi or clinic.name)
    if organization not in builder:
        _add_organization(builder, organization, encounter)
    clinician = encounter.clinician
    practitioner = _urn("practitioner", clinician.id)
    if practitioner not in builder:
        _add_practitioner(builder, practitioner, encounter)
    patient_info = encounter.patient
    patient = _urn("patient", patient_info.id)
    if patient not in builder:
        _add_patient(builder, patient, encounter)
    coverage = _add_coverage(builder, patient, encounter)
    _add_clinical(builder, encounter, batch, organization, practitioner, patient, coverage)


def _add_organization(builder: _BundleBuilder, url: str, encounter: EncounterRecord) -> None:
    clinic = encounter.clinic
    builder.add(url, {
        "resourceType": "Organization",
        "identifier": [identifier for identifier in (
            {"system": NPI, "value": clinic.npi} if clinic.npi else None,
            {"system": EIN, "value": clinic.tax_id.replace("-", "")} if clinic.tax_id else None,
        ) if identifier],
        "active": True,
        "name": clinic.name or "Clinic",
        "telecom": [{"system": "phone", "value": clinic.phone}] if clinic.phone else [],
        "address": _address(clinic.address_line1, clinic.address_line2, clinic.city, clinic.state,
                            clinic.postal_code),
    })


def _add_practitioner(builder: _BundleBuilder, url: str, encounter: EncounterRecord) -> None:
    clinician = encounter.clinician
    builder.add(url, {
        "resourceType": "Practitioner",
        "identifier": [{"system": NPI, "value": clinician.npi}] if clinician.npi else [],
        "name": [{"family": clinician.last_name, "given": [clinician.first_name] if clinician.first_name else [],
                  "suffix": [clinician.credentials] if clinician.credentials else []}],
        "qualification": [{"code": {"text": clinician.credentials}}] if clinician.credentials else [],
    })


def _add_patient(builder: _BundleBuilder, url: str, encounter: EncounterRecord) -> None:
    patient_info = encounter.patient
    builder.add(url, {
        "resourceType": "Patient",
        "identifier": [{"type": {"text": "Chart ID"}, "value": patient_info.external_id}]
        if patient_info.external_id else [],
        "name": [{"family": patient_info.last_name,
                  "given": [patient_info.first_name] if patient_info.first_name else []}],
        "telecom": [{"system": "phone", "value": patient_info.phone}] if patient_info.phone else [],
        "gender": _SEX.get(patient_info.sex.upper(), "unknown"),
        **({"birthDate": patient_info.date_of_birth.isoformat()} if patient_info.date_of_birth else {}),
        "address": _address(patient_info.address_line1, patient_info.address_line2, patient_info.city,
                            patient_info.state, patient_info.postal_code),
    })


def _add_coverage(builder: _BundleBuilder, patient: str, encounter: EncounterRecord) -> str:
    """The patient's Coverage entry (and its payer's Organization), added once; returns its url."""
    patient_info = encounter.patient
    coverage_info = encounter.coverage
    if coverage_info is None or coverage_info.payer_kind == "self_pay":
        coverage = _urn("coverage", f"{patient_info.id}:self-pay")
        if coverage not in builder:
            builder.add(coverage, {
            "resourceType": "Coverage", "status": "active",
            "type": {"coding": [{"system": SELF_PAY, "code": "pay", "display": "PAY"}]},
            "beneficiary": _ref(patient), "payor": [_ref(patient)],
            })
        return coverage
    coverage = _urn("coverage", f"{patient_info.id}:{coverage_info.payer_id}:{coverage_info.member_id}")
    payer = _urn("payer", coverage_info.payer_id or coverage_info.payer_name)
    if payer not in builder:
        builder.add(payer, {
            "resourceType": "Organization",
            "identifier": [{"type": {"text": "Payer ID"}, "value": coverage_info.payer_id}]
            if coverage_info.payer_id else [],
            "active": True,
            "name": coverage_info.payer_name or coverage_info.payer_id,
        })
    if coverage not in builder:
        relationship = _RELATIONSHIP.get(coverage_info.subscriber_relationship, "other")
        builder.add(coverage, {
            "resourceType": "Coverage", "status": "active",
            "type": {"text": coverage_info.payer_kind},
            "subscriberId": coverage_info.member_id or None,
            "beneficiary": _ref(patient),
            "relationship": {"coding": [{"system": SUBSCRIBER_RELATIONSHIP, "code": relationship}]},
            "payor": [_ref(payer)],
            "class": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/coverage-class",
                                            "code": "group"}]},
                       "value": coverage_info.group_number}] if coverage_info.group_number else [],
        })
    return coverage


def _add_clinical(builder: _BundleBuilder, encounter: EncounterRecord, batch: BatchInfo, organization: str,
                  practitioner: str, patient: str, coverage: str) -> None:
    """The encounter's own entries: Encounter, Conditions, Procedures, Claim and Observations."""
    patient_info = encounter.patient
    telehealth = encounter.setting.startswith("telehealth")
    period = {"start": encounter.started_at.isoformat()} if encounter.started_at else {
        "start": encounter.date_of_service.isoformat()}
    if encounter.stopped_at:
        period["end"] = encounter.stopped_at.isoformat()
    fhir_encounter = builder.add(_urn("encounter", encounter.participant_id), {
        "resourceType": "Encounter", "status": "finished",
        "class": {"system": ACT_CODE, "code": "VR" if telehealth else "AMB",
                  "display": "virtual" if telehealth else "ambulatory"},
        "type": [{"text": encounter.session_type.replace("_", " ")}],
        "subject": _ref(patient),
        "participant": [{"individual": _ref(practitioner)}],
        "period": period,
        "length": {"value": encounter.total_minutes, "unit": "min", "system": UCUM, "code": "min"},
        "serviceProvider": _ref(organization),
    })

    codes = diagnosis_codes(encounter)
    conditions = []
    for code in codes:
        conditions.append(builder.add(_urn("condition", f"{patient_info.id}:{code}"), {
            "resourceType": "Condition",
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                           "code": "active"}]},
            "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "encounter-diagnosis"}]}],
            "code": {"coding": [{"system": ICD10CM, "code": code,
                                 **({"display": d} if (d := diagnosis_description(encounter, code)) else {})}]},
            "subject": _ref(patient),
        }))

    procedures = []
    for index, item in enumerate(encounter.coding.lines, start=1):
        procedures.append(builder.add(_urn("procedure", f"{encounter.participant_id}:{index}"), {
            "resourceType": "Procedure", "status": "completed",
            "code": {"coding": [{"system": CPT, "code": item.code}]},
            "subject": _ref(patient), "encounter": _ref(fhir_encounter),
            "performedDateTime": item.date_of_service.isoformat(),
            "performer": [{"actor": _ref(practitioner)}],
            "reasonReference": [_ref(conditions[p - 1]) for p in item.diagnosis_pointers if 1 <= p <= len(conditions)],
        }))

    items = []
    for index, item in enumerate(encounter.coding.lines, start=1):
        items.append({
            "sequence": index,
            "diagnosisSequence": [p for p in item.diagnosis_pointers if 1 <= p <= len(codes)],
            "productOrService": {"coding": [{"system": CPT, "code": item.code}]},
            "modifier": [{"coding": [{"system": modifier_system(m), "code": m}]} for m in item.modifiers],
            "servicedDate": item.date_of_service.isoformat(),
            "locationCodeableConcept": {"coding": [{"system": POS, "code": item.place_of_service}]},
            "quantity": {"value": item.units},
            "net": {"value": _decimal(item.charge), "currency": "USD"},
            "encounter": [_ref(fhir_encounter)],
        })
    builder.add(_urn("claim", encounter.participant_id), {
        "resourceType": "Claim", "status": "active",
        "type": {"coding": [{"system": CLAIM_TYPE, "code": "professional"}]},
        "use": "claim", "patient": _ref(patient),
        "billablePeriod": {"start": encounter.date_of_service.isoformat(),
                           "end": encounter.date_of_service.isoformat()},
        "created": batch.created_at.isoformat(),
        "provider": _ref(organization),
        "priority": {"coding": [{"system": PROCESS_PRIORITY, "code": "normal"}]},
        "careTeam": [{"sequence": 1, "provider": _ref(practitioner)}],
        "diagnosis": [{"sequence": number, "diagnosisReference": _ref(condition)}
                      for number, condition in enumerate(conditions, start=1)],
        "procedure": [{"sequence": number, "procedureReference": _ref(procedure)}
                      for number, procedure in enumerate(procedures, start=1)],
        "insurance": [{"sequence": 1, "focal": True, "coverage": _ref(coverage)}],
        "item": items,
        "total": {"value": _decimal(encounter.coding.total_charge), "currency": "USD"},
    })

    for goal in encounter.goal_results:
        accuracy = goal.accuracy_percent
        if accuracy is None:
            continue
        builder.add(_urn("observation", f"{encounter.participant_id}:{goal.goal_id}"), {
            "resourceType": "Observation", "status": "final",
            "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "therapy"}]}],
            "code": {"text": f"Goal accuracy: {goal.text}"},
            "subject": _ref(patient), "encounter": _ref(fhir_encounter),
            "effectiveDateTime": encounter.date_of_service.isoformat(),
            "performer": [_ref(practitioner)],
            "valueQuantity": {"value": _decimal(accuracy), "unit": "%", "system": UCUM, "code": "%"},
            "component": [
                {"code": {"text": "correct trials"}, "valueInteger": goal.correct},
                {"code": {"text": "total trials"}, "valueInteger": goal.trials},
            ],
        })


_PLACEHOLDER = "slpterm-entries-go-here"
_JSON_OPTIONS: dict[str, Any] = {"strip_empty": True, "number_mark": _DECIMAL_MARK}


class FhirStream:
    """The Bundle file written in pieces: :meth:`add` each run of encounters in file order, then
    :meth:`finish`. The pieces joined are :func:`render_fhir`'s bytes for all of them; only the
    urls of the entries written so far are kept."""

    def __init__(self, batch: BatchInfo) -> None:
        self.batch = batch
        self.builder = _BundleBuilder()
        self.first = True

    def add(self, encounters: Sequence[EncounterRecord]) -> bytes:
        for encounter in encounters:
            _add_encounter(self.builder, encounter, self.batch)
        entries = self.builder.take()
        if not entries:
            return b""
        text = ""
        if self.first:
            text = split_around(dumps_indented(_bundle(self.batch, [_PLACEHOLDER]), **_JSON_OPTIONS), _PLACEHOLDER)[0]
        items, self.first = array_items(entries, 1, self.first, **_JSON_OPTIONS)
        return (text + items).encode("utf-8")

    def finish(self) -> bytes:
        if self.first:  # no entry: the Bundle without its (empty) entry list
            return (dumps_indented(_bundle(self.batch, []), **_JSON_OPTIONS) + "\n").encode("utf-8")
        after = split_around(dumps_indented(_bundle(self.batch, [_PLACEHOLDER]), **_JSON_OPTIONS), _PLACEHOLDER)[1]
        return (array_end(1, False) + after + "\n").encode("utf-8")


def render_fhir(encounters: Sequence[EncounterRecord], batch: BatchInfo) -> bytes:
    """The Bundle as JSON bytes; money keeps its two decimals as a JSON number (145.00)."""
    stream = FhirStream(batch)
    return stream.add(sort_encounters(encounters)) + stream.finish()

"""Every format from the table-driven scenarios, checked by independent validators and our own rules."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from slpterm.export.common import BatchInfo
from slpterm.export.csv_export import COLUMNS, render_csv
from slpterm.export.fhir import CPT, HCPCS, ICD10CM, POS, render_fhir
from slpterm.export.json_export import render_json
from slpterm.export.superbill import render_superbill
from slpterm.export.x12 import render_837p
from export.checks import claims_of, fhir_problems, own_x12_problems, pyx12_errors, segments
from export.conftest import SCENARIOS, all_scenarios, make_encounter

BATCH = BatchInfo(number=42, created_at=datetime(2026, 3, 20, 9, 30, tzinfo=timezone.utc),
                  range_from=date(2026, 3, 1), range_to=date(2026, 3, 31))
NAMES = list(SCENARIOS)


@pytest.mark.parametrize("name", NAMES)
def test_csv_has_one_row_per_claim_line_with_codes_in_pointer_order(name):
    encounter = make_encounter(name)
    data = render_csv([encounter], BATCH)
    assert data.startswith("\ufeff".encode("utf-8"))
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == len(encounter.coding.lines)
    for row, line in zip(rows, encounter.coding.lines):
        assert row["cpt"] == line.code
        assert [row[f"modifier_{i}"] for i in range(1, 5)] == list(line.modifiers) + [""] * (4 - len(line.modifiers))
        assert row["units"] == str(line.units)
        assert row["charge"] == f"{line.charge:.2f}"
        expected = [encounter.coding.diagnoses[p - 1] for p in line.diagnosis_pointers]
        assert [row[f"diagnosis_{i}"] for i in range(1, 5) if row[f"diagnosis_{i}"]] == expected
        assert row["place_of_service"] == line.place_of_service
        assert row["rendering_npi"] == line.rendering_npi
        assert row["member_id"] == encounter.coverage.member_id
        assert row["session_id"] == encounter.session_id and row["batch_id"] == "000042"
        assert row["date_of_service"] == encounter.date_of_service.isoformat()


def test_csv_header_and_quoting():
    text = render_csv(all_scenarios(), BATCH).decode("utf-8-sig")
    header = text.splitlines()[0]
    assert header == ",".join(f'"{column}"' for column in COLUMNS)
    assert "\r\n" in text


@pytest.mark.parametrize("hostile, shown", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("+1+2", "'+1+2"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tTab", "'\tTab"),
    ("\rReturn", "'\rReturn"),
    ("O'Neil-Smith", "O'Neil-Smith"),
])
def test_csv_neutralises_formula_looking_text(hostile, shown):
    encounter = make_encounter("evaluation_92523_52")
    patient = encounter.patient.__class__(**{**encounter.patient.__dict__, "last_name": hostile})
    data = render_csv([make_encounter("evaluation_92523_52", patient=patient)], BATCH)
    row = next(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert row["patient_last_name"] == shown


@pytest.mark.parametrize("name", NAMES)
def test_json_document_is_versioned_and_money_is_text(name):
    encounter = make_encounter(name)
    document = json.loads(render_json([encounter], BATCH), parse_float=lambda text: pytest.fail(f"float {text}"))
    assert document["schema"] == "slpterm-encounters" and document["version"] == 1
    assert document["batch"]["id"] == "000042" and document["batch"]["range_from"] == "2026-03-01"
    (exported,) = document["encounters"]
    assert exported["participant_id"] == encounter.participant_id
    assert [d["code"] for d in exported["diagnoses"]] == list(encounter.coding.diagnoses)
    assert [d["pointer"] for d in exported["diagnoses"]] == list(range(1, len(encounter.coding.diagnoses) + 1))
    assert [(l["code"], l["modifiers"], l["units"], l["charge"]) for l in exported["lines"]] == [
        (l.code, list(l.modifiers), l.units, f"{l.charge:.2f}") for l in encounter.coding.lines]
    assert exported["total_charge"] == f"{encounter.total_charge:.2f}"
    assert Decimal(document["total_charge"]) == encounter.total_charge
    for line in exported["lines"]:
        assert line["diagnosis_codes"] == [encounter.coding.diagnoses[p - 1] for p in line["diagnosis_pointers"]]


@pytest.mark.parametrize("name", NAMES)
def test_fhir_bundle_validates_and_references_resolve(name):
    encounter = make_encounter(name)
    bundle = json.loads(render_fhir([encounter], BATCH))
    assert fhir_problems(bundle) == []
    assert bundle["type"] == "collection"
    by_type: dict[str, list[dict]] = {}
    for entry in bundle["entry"]:
        by_type.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"])
    assert {"Patient", "Practitioner", "Organization", "Coverage", "Encounter", "Condition", "Procedure",
            "Claim"} <= set(by_type)
    assert [c["code"]["coding"][0] for c in by_type["Condition"]] == [
        {"system": ICD10CM, "code": code, "display": d.description}
        for code, d in zip(encounter.coding.diagnoses, encounter.diagnoses)]
    assert all("." in c["code"]["coding"][0]["code"] for c in by_type["Condition"] if len(
        c["code"]["coding"][0]["code"]) > 3)
    assert [p["code"]["coding"][0] for p in by_type["Procedure"]] == [
        {"system": CPT, "code": line.code} for line in encounter.coding.lines]
    (claim,) = by_type["Claim"]
    assert Decimal(str(claim["total"]["value"])) == encounter.total_charge
    for item, line in zip(claim["item"], encounter.coding.lines, strict=True):
        assert item["productOrService"]["coding"][0] == {"system": CPT, "code": line.code}
        assert item["diagnosisSequence"] == list(line.diagnosis_pointers)
        assert item["locationCodeableConcept"]["coding"][0] == {"system": POS, "code": line.place_of_service}
        systems = {m["coding"][0]["code"]: m["coding"][0]["system"] for m in item.get("modifier", [])}
        assert systems == {m: (CPT if m.isdigit() else HCPCS) for m in line.modifiers}
        assert Decimal(str(item["net"]["value"])) == line.charge
    assert len(by_type.get("Observation", [])) == len(encounter.goal_results)


def test_fhir_money_keeps_two_decimals_as_numbers():
    text = render_fhir([make_encounter("individual_92507_gn")], BATCH).decode()
    assert '"value": 145.00' in text
    goal = make_encounter("individual_92507_gn").goal_results[0]
    observation = [e["resource"] for e in json.loads(text)["entry"] if e["resource"]["resourceType"] == "Observation"]
    assert observation[0]["valueQuantity"]["value"] == goal.accuracy_percent == 80


def test_fhir_bundle_of_every_scenario_is_valid_and_shares_patients():
    bundle = json.loads(render_fhir(all_scenarios(), BATCH))
    assert fhir_problems(bundle) == []
    patients = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert len(patients) == 3
    assert json.loads(render_fhir(all_scenarios(), BATCH)) == bundle  # stable ids


@pytest.mark.parametrize("name", NAMES)
def test_x12_scenario_is_valid_for_pyx12_and_our_rules(name):
    encounter = make_encounter(name)
    text, claims = render_837p([encounter], BATCH)
    assert pyx12_errors(text) == []
    assert own_x12_problems(text) == []
    (claim,) = claims_of(text)
    assert [line[1] for line in claim["lines"]] == [
        ":".join(["HC", line.code, *line.modifiers]) for line in encounter.coding.lines]
    assert [line[4] for line in claim["lines"]] == [str(line.units) for line in encounter.coding.lines]
    assert claim["hi"] == [code.replace(".", "") for code in encounter.coding.diagnoses]
    assert claim["clm"][5] == f"{encounter.coding.place_of_service}:B:1"
    dates = [s[3] for s in segments(text) if s[0] == "DTP" and s[1] == "472"]
    assert dates == [encounter.date_of_service.strftime("%Y%m%d")] * len(encounter.coding.lines)


@pytest.mark.parametrize("name, filing_code", [
    ("individual_92507_gn", "MB"), ("group_92508", "MC"), ("evaluation_92523_52", "CI")])
def test_x12_claim_filing_indicator_follows_the_payer_kind(name, filing_code):
    text, _ = render_837p([make_encounter(name)], BATCH)
    (sbr,) = [s for s in segments(text) if s[0] == "SBR"]
    assert sbr[9] == filing_code


def test_x12_dependent_patient_gets_a_patient_loop():
    text, _ = render_837p([make_encounter("group_92508")], BATCH)
    tags = [s[0] for s in segments(text)]
    assert ["PAT"] == [t for t in tags if t == "PAT"]
    assert any(s[:3] == ["NM1", "QC", "1"] and s[3] == "QUILLFEATHER" for s in segments(text))
    assert any(s[:3] == ["NM1", "IL", "1"] and s[3] == "QUILLFEATHER" and s[4] == "HAZEL" for s in segments(text))


def test_x12_every_scenario_in_one_file():
    text, claims = render_837p(all_scenarios(), BATCH)
    assert pyx12_errors(text) == []
    assert own_x12_problems(text) == []
    assert len(claims) == len(SCENARIOS)
    isa = segments(text)[0]
    assert isa[13] == "000000042" and segments(text)[-1] == ["IEA", "1", "000000042"]


@pytest.mark.parametrize("name", NAMES)
def test_superbill_lists_codes_charges_and_a_signature_line(name):
    encounter = make_encounter(name)
    text = render_superbill([encounter], BATCH)
    assert encounter.clinic.name in text and encounter.patient.last_name in text
    for line in encounter.coding.lines:
        assert f"| {line.code} |" in text and f"${line.charge:.2f}" in text
    for code in encounter.coding.diagnoses:
        assert f"| {code} |" in text
    assert f"Total charges: ${encounter.total_charge:.2f}" in text
    assert "Signature: ____" in text
    assert "2026-03-01 to 2026-03-31" in text


def test_every_json_field_is_documented_in_the_schema_document():
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "export-json-schema.md").read_text()
    documented = set(re.findall(r"`([a-z0-9_]+)`", doc))

    def keys(node) -> set[str]:
        found = set()
        if isinstance(node, dict):
            for key, value in node.items():
                found.add(key)
                found |= keys(value)
        elif isinstance(node, list):
            for item in node:
                found |= keys(item)
        return found

    document = json.loads(render_json(all_scenarios(), BATCH))
    assert keys(document) - documented == set()
    assert '"schema": "slpterm-encounters"' in doc and '"version": 1' in doc

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from slpterm.clinical.patient_import import COLUMNS, parse_patient_csv, read_patient_csv
from slpterm.domain.vocab import DiagnosisRole, PayerKind, Sex

TODAY = dt.date(2026, 3, 11)
HEADER = ",".join(COLUMNS)


def row(**values: str) -> str:
    base = {
        "external_id": "S-100",
        "last_name": "Quill",
        "first_name": "Avery",
        "date_of_birth": "2017-04-02",
        "guardian": "Robin Quill",
        "school": "Maple Elementary",
        "grade": "3rd",
        "payer_kind": "medicaid",
        "payer_name": "State Medicaid",
        "member_id": "MCD123456",
        "diagnosis_codes": "F80.0; F80.1",
    }
    base.update(values)
    return ",".join(_quote(base.get(column, "")) for column in COLUMNS)


def _quote(value: str) -> str:
    return f'"{value}"' if "," in value else value


def parse(*rows: str, existing=()):
    return parse_patient_csv("\n".join([HEADER, *rows]) + "\n", today=TODAY, existing_ids=existing)


def test_good_row_becomes_a_plain_patient():
    result = parse(row())
    assert result.ok and not result.errors and not result.duplicates
    (patient,) = result.patients
    assert patient.line == 2
    assert (patient.external_id, patient.last_name, patient.first_name) == ("S-100", "Quill", "Avery")
    assert patient.date_of_birth == dt.date(2017, 4, 2)
    assert patient.sex == Sex.UNKNOWN
    assert patient.grade == "3"
    assert patient.coverage.payer_kind == PayerKind.MEDICAID
    assert [(d.code, d.role, d.rank) for d in patient.diagnoses] == [
        ("F80.0", DiagnosisRole.TREATMENT, 1),
        ("F80.1", DiagnosisRole.TREATMENT, 2),
    ]
    assert patient.warnings == ()


@pytest.mark.parametrize(
    ("values", "reason_fragment"),
    [
        ({"external_id": ""}, "External ID: required"),
        ({"last_name": ""}, "Last name: required"),
        ({"date_of_birth": "2017-02-30"}, "Date of birth: 2017-02-30 is not a real date"),
        ({"date_of_birth": "2027-01-01"}, "is in the future"),
        ({"sex": "x"}, "Sex: 'x' is not recognised"),
        ({"phone": "555-1234"}, "Phone: 555-1234 has 7 digits"),
        ({"state": "Texas"}, "State: 'Texas' must be the two-letter state code"),
        ({"postal_code": "7870"}, "Postal code: '7870' must be a ZIP code"),
        ({"grade": "purple"}, "Grade: 'purple' is not a grade"),
        ({"payer_kind": ""}, "Payer kind: required when other payer columns are filled"),
        ({"payer_kind": "hmo"}, "Payer kind: choose one of"),
        ({"member_id": ""}, "Member ID: required"),
        ({"payer_kind": "medicare", "member_id": "12345"}, "Medicare ID (MBI)"),
        ({"diagnosis_codes": "R13.1"}, "R13.1 is a category header, not a billable code; choose one of R13.10"),
        ({"diagnosis_codes": "F80.0 13.12"}, "13.12 is not an ICD-10-CM code"),
    ],
)
def test_bad_rows_are_reported_with_line_and_reason(values, reason_fragment):
    result = parse(row(external_id="S-1"), row(**{"external_id": "S-2", **values}))
    assert [p.external_id for p in result.patients] == ["S-1"]
    assert not result.ok
    (problem,) = result.errors
    assert problem.line == 3
    assert reason_fragment in problem.reason


@pytest.mark.parametrize(
    ("values", "warning_fragment"),
    [
        ({"guardian": ""}, "Guardian: the patient is a minor"),
        ({"diagnosis_codes": "M54.50"}, "M54.50 is not in slpterm's list"),
        ({"diagnosis_codes": "F80.0 R47.01"}, "F80.0 with R47.01"),
        ({"payer_kind": "iep", "member_id": "", "payer_name": ""}, "Member ID: empty"),
    ],
)
def test_warnings_stay_on_imported_rows(values, warning_fragment):
    result = parse(row(**values))
    assert result.ok
    (patient,) = result.patients
    assert any(warning_fragment in warning for warning in patient.warnings)


@pytest.mark.parametrize(
    ("values", "check"),
    [
        ({"sex": "female"}, lambda p: p.sex == Sex.FEMALE),
        ({"payer_kind": "Self-Pay", "member_id": "", "payer_name": ""}, lambda p: p.coverage.payer_kind == PayerKind.SELF_PAY),
        ({"payer_kind": "", "payer_name": "", "member_id": ""}, lambda p: p.coverage is None),
        ({"date_of_birth": "04/02/2017"}, lambda p: p.date_of_birth == dt.date(2017, 4, 2)),
        ({"state": "tx", "postal_code": "78701-1234"}, lambda p: (p.state, p.postal_code) == ("TX", "78701-1234")),
        (
            {"diagnosis_codes": "i69391|R1312", "medical_diagnosis_codes": "I69.391, G20.A1", "date_of_birth": "1950-01-01"},
            lambda p: [(d.code, d.role, d.rank) for d in p.diagnoses]
            == [
                ("I69.391", DiagnosisRole.TREATMENT, 1),
                ("R13.12", DiagnosisRole.TREATMENT, 2),
                ("I69.391", DiagnosisRole.MEDICAL, 3),
                ("G20.A1", DiagnosisRole.MEDICAL, 4),
            ],
        ),
        ({"address_line1": "12 Elm St, Apt 4"}, lambda p: p.address_line1 == "12 Elm St, Apt 4"),
    ],
)
def test_values_are_normalised(values, check):
    result = parse(row(**values))
    assert result.ok, result.errors
    assert check(result.patients[0])


def test_existing_ids_are_duplicates_and_ids_repeated_in_file_are_errors():
    result = parse(row(external_id="S-1"), row(external_id="S-2"), row(external_id="S-1"), existing={"S-2"})
    assert [p.external_id for p in result.patients] == ["S-1"]
    assert [(d.line, d.external_id) for d in result.duplicates] == [(3, "S-2")]
    assert [(e.line, e.reason) for e in result.errors] == [(4, "external_id S-1 is already used on line 2")]
    assert result.summary() == "1 to import, 1 with errors, 1 already present"


def test_line_numbers_follow_blank_lines_and_quoted_newlines():
    text = "\n".join([HEADER, row(external_id="A", address_line2='"Unit 1\nRear"'), "", row(external_id="B", last_name="")])
    result = parse_patient_csv(text + "\n", today=TODAY)
    assert result.patients[0].address_line2 == "Unit 1\nRear"
    assert [(e.line, e.external_id) for e in result.errors] == [(5, "B")]


def test_too_many_values_is_an_error():
    result = parse(row() + ",extra")
    assert result.errors[0].line == 2 and "unquoted comma" in result.errors[0].reason


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "The file is empty"),
        ("external_id,last_name\nA,B\n", "Missing column(s): first_name, date_of_birth"),
        ("external_id,last_name,first_name,date_of_birth,last_name\n", "Column(s) named twice: last_name"),
    ],
)
def test_file_errors(text, fragment):
    result = parse_patient_csv(text, today=TODAY)
    assert not result.ok and not result.patients
    assert fragment in result.file_errors[0]


def test_header_is_forgiving_and_unknown_columns_are_noticed():
    text = "\ufeffExternal ID, Last Name,first-name,DATE_OF_BIRTH,Favourite Colour\nA1,Quill,Avery,1980-01-01,teal\n"
    result = parse_patient_csv(text, today=TODAY)
    assert result.ok
    assert result.patients[0].external_id == "A1"
    assert result.notices == ["Ignored column(s): Favourite Colour"]


def test_read_from_disk(tmp_path: Path):
    path = tmp_path / "patients.csv"
    path.write_text("\ufeff" + HEADER + "\n" + row() + "\n", encoding="utf-8")
    assert len(read_patient_csv(path, today=TODAY).patients) == 1
    bad = tmp_path / "latin1.csv"
    bad.write_bytes((HEADER + "\nS-1,M\xfcller,Avery,1980-01-01\n").encode("latin-1"))
    assert "not UTF-8" in read_patient_csv(bad, today=TODAY).file_errors[0]
    assert "does not exist" in read_patient_csv(tmp_path / "none.csv", today=TODAY).file_errors[0]

from __future__ import annotations

import datetime as dt

import pytest

from slpterm.clinical.validation import (
    DateInputError,
    FieldError,
    Frequency,
    Level,
    has_errors,
    mbi_problem,
    normalize_grade,
    parse_date,
    parse_frequency,
    validate_coverage,
    validate_goal,
    validate_patient,
    validate_plan,
)
from slpterm.domain.identifiers import make_npi
from slpterm.domain.vocab import IepPeriod, PayerKind

TODAY = dt.date(2026, 3, 11)
GOOD_NPI = make_npi("123456789")


def fields(problems: list[FieldError]) -> list[tuple[str, str]]:
    return [(problem.field, problem.level.value) for problem in problems]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-11", dt.date(2026, 3, 11)),
        (" 2026-3-1 ", dt.date(2026, 3, 1)),
        ("03/11/2026", dt.date(2026, 3, 11)),
        ("3/1/2026", dt.date(2026, 3, 1)),
        ("2024-02-29", dt.date(2024, 2, 29)),
    ],
)
def test_parse_date_accepts_iso_and_us(text, expected):
    assert parse_date(text, "Date of birth") == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-02-30", "Date of birth: 2026-02-30 is not a real date; use YYYY-MM-DD"),
        ("02/30/2026", "Date of birth: 02/30/2026 is not a real date; use MM/DD/YYYY or YYYY-MM-DD"),
        ("2025-02-29", "Date of birth: 2025-02-29 is not a real date; use YYYY-MM-DD"),
        ("2/3/26", "Date of birth: write the year with 4 digits, e.g. 02/03/2026"),
        ("", "Date of birth: required; use YYYY-MM-DD"),
        ("March 3", "Date of birth: 'March 3' is not a date; use YYYY-MM-DD or MM/DD/YYYY"),
        ("2026-13-01", "Date of birth: 2026-13-01 is not a real date; use YYYY-MM-DD"),
    ],
)
def test_parse_date_messages(text, message):
    with pytest.raises(DateInputError) as error:
        parse_date(text, "Date of birth")
    assert str(error.value) == message


def patient(**overrides):
    values = dict(first_name="Avery", last_name="Quill", date_of_birth="1950-06-01", today=TODAY)
    values.update(overrides)
    return validate_patient(**values)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, []),
        ({"first_name": " "}, [("first_name", "error")]),
        ({"last_name": ""}, [("last_name", "error")]),
        ({"date_of_birth": None}, [("date_of_birth", "error")]),
        ({"date_of_birth": "2026-02-30"}, [("date_of_birth", "error")]),
        ({"date_of_birth": dt.date(2026, 3, 12)}, [("date_of_birth", "error")]),
        ({"date_of_birth": "1899-12-31"}, [("date_of_birth", "error")]),
        ({"date_of_birth": "2018-05-05"}, [("guardian", "warning")]),
        ({"date_of_birth": "2018-05-05", "guardian": "Robin Quill"}, []),
        ({"date_of_birth": "2008-03-11"}, []),  # 18 today
        ({"date_of_birth": "2008-03-12"}, [("guardian", "warning")]),  # 18 tomorrow
        ({"phone": "(555) 123-4567"}, []),
        ({"phone": "+1 555.123.4567"}, []),
        ({"phone": "555-1234"}, [("phone", "error")]),
        ({"phone": "(055) 123-4567"}, [("phone", "error")]),
        ({"phone": "555-CALL-NOW"}, [("phone", "error")]),
        ({"sex": "X"}, [("sex", "error")]),
        ({"sex": "f"}, []),
        ({"school": "Maple Elementary", "date_of_birth": "2018-05-05", "guardian": "R. Quill"}, [("grade", "warning")]),
        ({"school": "Maple Elementary", "grade": "2nd", "date_of_birth": "2018-05-05", "guardian": "R. Quill"}, []),
        ({"grade": "purple"}, [("grade", "error")]),
        ({"is_student": True, "grade": "K"}, [("school", "warning")]),
    ],
)
def test_validate_patient(overrides, expected):
    assert fields(patient(**overrides)) == expected


def test_patient_messages_name_the_field_and_fix():
    problems = patient(date_of_birth="2026-02-30", phone="555-12")
    messages = [problem.message for problem in problems]
    assert "Date of birth: 2026-02-30 is not a real date; use YYYY-MM-DD" in messages
    assert "Phone: 555-12 has 5 digits; enter a 10-digit US number such as (555) 123-4567" in messages
    assert has_errors(problems)
    assert not has_errors(patient(date_of_birth="2018-05-05"))


@pytest.mark.parametrize(
    ("text", "grade"),
    [("K", "K"), ("kindergarten", "K"), ("Pre-K", "PK"), ("3rd", "3"), ("Grade 11", "11"), ("03", "3"), ("13", None), ("", None)],
)
def test_normalize_grade(text, grade):
    assert normalize_grade(text) == grade


@pytest.mark.parametrize(
    ("mbi", "ok"),
    [("1EG4-TE5-MK73", True), ("1EG4TE5MK73", True), ("1SG4TE5MK73", False), ("0EG4TE5MK73", False), ("1EG4TE5MK7", False)],
)
def test_mbi(mbi, ok):
    assert (mbi_problem(mbi) is None) == ok


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"payer_kind": "medicare", "member_id": "1EG4-TE5-MK73", "payer_name": "Medicare"}, []),
        ({"payer_kind": "medicare", "member_id": "", "payer_name": "Medicare"}, [("member_id", "error")]),
        ({"payer_kind": "medicare", "member_id": "123456789A", "payer_name": "Medicare"}, [("member_id", "error")]),
        ({"payer_kind": "commercial", "member_id": "XQZ 1234-55", "payer_name": "Acme Health"}, []),
        ({"payer_kind": "commercial", "member_id": "X#1", "payer_name": "Acme Health"}, [("member_id", "error")]),
        ({"payer_kind": "commercial", "member_id": "X1"}, [("payer_name", "warning")]),
        ({"payer_kind": "self_pay"}, []),
        ({"payer_kind": "school"}, [("member_id", "warning")]),
        ({"payer_kind": "hmo", "member_id": "1"}, [("payer_kind", "error")]),
        (
            {"payer_kind": "self_pay", "effective_from": "2026-02-01", "effective_to": "01/01/2026"},
            [("effective_to", "error")],
        ),
        ({"payer_kind": "self_pay", "effective_from": "2026-02-31"}, [("effective_from", "error")]),
        ({"payer_kind": PayerKind.SELF_PAY, "effective_from": "2026-01-01", "effective_to": "2026-12-31"}, []),
    ],
)
def test_validate_coverage(values, expected):
    assert fields(validate_coverage(**values)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2x/week", Frequency(2, IepPeriod.WEEK)),
        ("2X/WK", Frequency(2, IepPeriod.WEEK)),
        ("2 x per week", Frequency(2, IepPeriod.WEEK)),
        ("3 times a month", Frequency(3, IepPeriod.MONTH)),
        ("twice a week", Frequency(2, IepPeriod.WEEK)),
        ("once weekly", Frequency(1, IepPeriod.WEEK)),
        ("2/wk", Frequency(2, IepPeriod.WEEK)),
        ("1x/mo", Frequency(1, IepPeriod.MONTH)),
        ("BIW", Frequency(2, IepPeriod.WEEK)),
        ("weekly", Frequency(1, IepPeriod.WEEK)),
        ("2-3x/week", None),
        ("often", None),
        ("", None),
        ("0x/week", None),
        ("2x/day", None),
    ],
)
def test_parse_frequency(text, expected):
    assert parse_frequency(text) == expected


def test_frequency_text():
    assert str(Frequency(2, IepPeriod.WEEK)) == "2x/week"


def plan(**overrides):
    values = dict(
        start="2026-03-02",
        end="2026-05-29",
        today=TODAY,
        payer_kind=PayerKind.MEDICARE,
        frequency="2x/week",
        duration_weeks=12,
        certifying_npi=GOOD_NPI,
        certified_on="2026-03-05",
        first_treatment_date=dt.date(2026, 3, 2),
    )
    values.update(overrides)
    return validate_plan(**values)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, []),
        ({"end": "2026-03-02", "certified_on": None}, [("end", "error")]),
        ({"end": "2026-05-30"}, []),  # 90 days inclusive
        ({"end": "2026-05-31"}, [("end", "error")]),
        ({"end": "2026-07-31", "payer_kind": "commercial", "duration_weeks": 21}, []),
        ({"start": None}, [("start", "error")]),
        ({"frequency": "lots"}, [("frequency", "error")]),
        ({"frequency": ""}, [("frequency", "error")]),
        ({"duration_weeks": "0"}, [("duration_weeks", "error")]),
        ({"duration_weeks": "12 weeks"}, []),
        ({"duration_weeks": 20}, [("duration_weeks", "warning")]),
        ({"duration_weeks": None}, [("duration_weeks", "error")]),
        ({"certifying_npi": "1234567890"}, [("certifying_npi", "error")]),
        ({"certifying_npi": ""}, [("certifying_npi", "error")]),
        ({"certifying_npi": "", "payer_kind": "commercial", "certified_on": None}, []),
        ({"certifying_npi": "", "payer_kind": "commercial"}, [("certifying_npi", "warning")]),
        ({"certified_on": "2026-03-01"}, [("certified_on", "error")]),
        ({"certified_on": "2026-03-12"}, [("certified_on", "error")]),
        ({"certified_on": "2026-04-10", "today": dt.date(2026, 4, 20)}, [("certified_on", "warning")]),
        ({"certified_on": "2026-06-10", "today": dt.date(2026, 7, 1), "first_treatment_date": None}, [("certified_on", "error")]),
    ],
)
def test_validate_plan(overrides, expected):
    assert fields(plan(**overrides)) == expected


def test_plan_messages():
    messages = [problem.message for problem in plan(end="2026-06-30", certifying_npi="12345")]
    assert any("Medicare certifies at most 90 days, so end it by 2026-05-30" in m for m in messages)
    assert "Certifying physician NPI: NPI must be exactly 10 digits" in messages


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"text": "Produce /r/ in words", "target_accuracy": 80, "consecutive_sessions": 3}, []),
        ({"text": "", "target_accuracy": 80}, [("text", "error")]),
        ({"text": "x", "target_accuracy": "90%"}, []),
        ({"text": "x", "target_accuracy": 0}, [("target_accuracy", "error")]),
        ({"text": "x", "target_accuracy": 101}, [("target_accuracy", "error")]),
        ({"text": "x", "target_accuracy": "eighty"}, [("target_accuracy", "error")]),
        ({"text": "x", "target_accuracy": 80, "consecutive_sessions": 0}, [("consecutive_sessions", "error")]),
        ({"text": "x", "target_accuracy": 80, "consecutive_sessions": "2"}, []),
        ({"text": "x", "target_accuracy": 80, "consecutive_sessions": 30}, [("consecutive_sessions", "warning")]),
    ],
)
def test_validate_goal(values, expected):
    assert fields(validate_goal(**values)) == expected


def test_levels_are_stable_strings():
    assert Level.ERROR == "error" and Level.WARNING == "warning"

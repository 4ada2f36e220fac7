from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from slpterm.clinical import icd10
from slpterm.clinical.data import ClinicalDataError
from slpterm.clinical.icd10 import CodeStatus, check_code, companion_warnings, excludes1_conflicts, search, x12_format

SECTION_7_CODES = [
    "F80.0", "F80.1", "F80.2", "F80.4", "F80.81", "F80.82", "F80.89", "F80.9", "F98.5", "F84.0",
    "R47.01", "R47.02", "R47.1", "R47.81", "R47.82", "R47.89", "R48.2", "R48.8", "R49.0", "R49.1",
    "R49.21", "R49.22", "R49.8", "R13.0", "R13.10", "R13.11", "R13.12", "R13.13", "R13.14", "R13.19",
    "R41.840", "R41.841", "R41.844", "I69.320", "I69.321", "I69.322", "I69.323", "I69.328", "I69.391",
    "H93.25",
]


@pytest.mark.parametrize("code", SECTION_7_CODES)
def test_every_section_7_code_is_billable(code):
    result = check_code(code)
    assert result.status == CodeStatus.BILLABLE
    assert result.description
    assert result.reason is None
    assert result.usable


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("r1312", "R13.12"),
        ("  r13.12 ", "R13.12"),
        ("F800", "F80.0"),
        ("i69391", "I69.391"),
        ("F70", "F70"),
        ("R13.12.", "R13.12"),
    ],
)
def test_normalisation(raw, normalized):
    assert check_code(raw).code == normalized


@pytest.mark.parametrize(
    ("header", "first_choices"),
    [
        ("R13.1", "R13.10, R13.11, R13.12"),
        ("R41.84", "R41.840, R41.841"),
        ("I69.32", "I69.320, I69.321"),
        ("R47", "R47.01, R47.02"),
        ("F80", "F80.0, F80.1"),
        ("R49.2", "R49.21, R49.22"),
        ("G20", "G20.A1, G20.A2"),
    ],
)
def test_headers_are_rejected_with_choices(header, first_choices):
    result = check_code(header)
    assert result.status == CodeStatus.NOT_BILLABLE
    assert not result.usable
    assert result.reason.startswith(f"{header} is a category header, not a billable code; choose one of {first_choices}")


def test_header_reason_matches_the_documented_wording():
    assert check_code("R13.1").reason == (
        "R13.1 is a category header, not a billable code; choose one of R13.10, R13.11, R13.12, R13.13, R13.14, R13.19"
    )


@pytest.mark.parametrize("raw", ["", "   ", "13.12", "RR3.12", "R1", "R13.12345", "R13-12", "R1.312", "R13.1!"])
def test_malformed(raw):
    result = check_code(raw)
    assert result.status == CodeStatus.MALFORMED
    assert result.reason
    assert result.description is None


def test_outside_the_slp_list_without_the_full_code_set_is_a_warning():
    result = check_code("M54.50", consult_full_code_set=False)
    assert result.status == CodeStatus.UNLISTED_VALID_FORMAT
    assert result.usable
    assert "not in slpterm's list" in result.reason
    assert "current ICD-10-CM" in result.reason


@pytest.mark.parametrize(
    ("code", "status", "reason_start"),
    [
        ("M54.50", CodeStatus.BILLABLE, None),
        ("M54.5", CodeStatus.NOT_BILLABLE, "M54.5 is a category header, not a billable code; choose one of M54.50, M54.51, M54.59"),
        ("M54.99", CodeStatus.NOT_BILLABLE, "M54.99 is not a code in the ICD-10-CM code set in force on 2026-03-10"),
        ("S01.00XA", CodeStatus.BILLABLE, None),
    ],
)
def test_the_whole_code_set_is_shipped(code, status, reason_start):
    result = check_code(code, on=dt.date(2026, 3, 10)) if reason_start is None or "in force" in reason_start else check_code(code)
    assert result.status == status
    if reason_start is None:
        assert result.reason is None and result.description
    else:
        assert result.reason.startswith(reason_start)


# FY2027 (DOS from 2026-10-01) against FY2026: the differences billing-2027.md names.
FISCAL_YEAR_ROWS = [
    ("Z87.890", dt.date(2026, 9, 30), CodeStatus.BILLABLE, None),
    ("Z87.890", dt.date(2026, 10, 1), CodeStatus.NOT_BILLABLE, "Z87.8901"),
    ("Z87.8901", dt.date(2026, 9, 30), CodeStatus.NOT_BILLABLE, "not valid for claims on 2026-09-30"),
    ("Z87.8901", dt.date(2026, 10, 1), CodeStatus.BILLABLE, None),
    ("C78.31", dt.date(2026, 9, 30), CodeStatus.NOT_BILLABLE, "not valid for claims on 2026-09-30 (ICD-10-CM FY2026)"),
    ("C78.31", dt.date(2026, 10, 1), CodeStatus.BILLABLE, None),
    ("C78.32", dt.date(2026, 10, 1), CodeStatus.BILLABLE, None),
    ("C79.83", dt.date(2026, 10, 1), CodeStatus.BILLABLE, None),
    ("I42.0", dt.date(2026, 9, 30), CodeStatus.BILLABLE, None),
    ("I42.0", dt.date(2026, 10, 1), CodeStatus.NOT_BILLABLE, "I42.00, I42.01, I42.09"),
    ("R13.12", dt.date(2026, 10, 1), CodeStatus.BILLABLE, None),
    ("F80.2", dt.date(2027, 1, 5), CodeStatus.BILLABLE, None),
]


@pytest.mark.parametrize(("code", "day", "status", "reason_part"), FISCAL_YEAR_ROWS)
def test_the_code_set_in_force_on_the_date_of_service(code, day, status, reason_part):
    result = check_code(code, on=day)
    assert result.status == status, result.reason
    if reason_part is None:
        assert result.reason is None
    else:
        assert reason_part in result.reason


def test_a_date_past_the_known_releases_says_what_to_install():
    assert icd10.release_note(dt.date(2027, 9, 30)) is None
    note = icd10.release_note(dt.date(2027, 10, 1))
    assert "FY2028" in note and "slpterm rules install" in note


@pytest.mark.parametrize(("code", "x12"), [("R13.12", "R1312"), ("r1312", "R1312"), ("F70", "F70"), ("I69.391", "I69391")])
def test_x12_format(code, x12):
    assert x12_format(code) == x12


def test_x12_format_rejects_malformed():
    with pytest.raises(ValueError):
        x12_format("13.12")


@pytest.mark.parametrize(
    ("text", "expected_first", "must_contain"),
    [
        ("R13", "R13.0", {"R13.12", "R13.1"}),
        ("r131", "R13.10", {"R13.19"}),
        ("dysph", "I69.021", {"R13.12", "R47.02"}),
        ("oropharyngeal", "R13.12", {"R13.12"}),
        ("fluency", "F80.81", {"F98.5", "R47.82"}),
        ("cleft soft", "Q35.3", {"Q37.2"}),
    ],
)
def test_search(text, expected_first, must_contain):
    results = search(text, limit=50)
    codes = [entry.code for entry in results]
    assert codes[0] == expected_first
    assert must_contain <= set(codes)


def test_search_puts_billable_first_and_respects_limit():
    results = search("R13", limit=20)
    flags = [entry.billable for entry in results]
    assert flags == sorted(flags, reverse=True)
    assert len(search("a", limit=5)) == 5
    assert search("") == []


@pytest.mark.parametrize(
    ("codes", "expected_pairs"),
    [
        (["F80.0", "R47.01"], {("F80.0", "R47.01")}),
        (["R48.2", "F80.0"], {("F80.0", "R48.2")}),
        (["R47.01", "I69.320"], {("R47.01", "I69.320")}),
        (["R47.01", "I69.120"], {("R47.01", "I69.120")}),
        (["R41.841", "I69.311"], {("R41.841", "I69.311")}),
        (["r41844", "I69.914"], {("R41.844", "I69.914")}),
        (["R47.01", "I69.321"], set()),
        (["F80.0", "F80.1"], set()),
        (["F80.0", "R47.01", "R48.2"], {("F80.0", "R47.01"), ("F80.0", "R48.2")}),
    ],
)
def test_excludes1(codes, expected_pairs):
    conflicts = excludes1_conflicts(codes, rules=icd10.load_excludes1())
    assert {(a, b) for a, b, _ in conflicts} == expected_pairs
    assert all(reason for _, _, reason in conflicts)


@pytest.mark.parametrize(
    ("codes", "warned"),
    [
        (["I69.391"], ["I69.391"]),
        (["I69.391", "R13.12"], []),
        (["I69.191", "I69.391", "R13.10"], []),
        (["I69.191", "F80.0"], ["I69.191"]),
        (["R13.12"], []),
    ],
)
def test_companion_warnings(codes, warned):
    result = companion_warnings(codes)
    assert [code for code, _ in result] == warned
    for code, message in result:
        assert code in message and "R13.1" in message


def test_bundled_list_is_consistent():
    entries = icd10.all_codes()
    assert len(entries) >= 150
    for entry in entries:
        if not entry.billable:
            assert any(other.code.startswith(entry.code) and other.billable for other in entries), entry.code


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("code,description\nR13.12,x\n", "header must be"),
        ("code,description,billable,category\n13.12,x,true,swallowing\n", "line 2"),
        ("code,description,billable,category\nR13.12,x,yes,swallowing\n", "billable must be true or false"),
        ("code,description,billable,category\nR13.12,x,true,teeth\n", "category 'teeth' is unknown"),
        ("code,description,billable,category\nR13.12,x,true,swallowing\nR1312,y,true,swallowing\n", "listed twice"),
    ],
)
def test_code_list_validation(tmp_path: Path, content, fragment):
    path = tmp_path / "codes.csv"
    path.write_text(content)
    with pytest.raises(ClinicalDataError) as error:
        icd10.load_code_list(path)
    assert fragment in str(error.value)
    assert "codes.csv" in str(error.value)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ('source = "s"\n[[excludes1]]\na = "F80.0"\nreason = "r"\n', "'b' must be"),
        ('source = "s"\n[[excludes1]]\na = "F80.0"\nb = "r47-01"\nreason = "r"\n', "is not a code pattern"),
        ('[[excludes1]]\na = "F80.0"\nb = "R47.01"\nreason = "r"\n', "'source'"),
        ('source = "s"\n', "no [[excludes1]] entries"),
        ('source = "s"\n[[excludes1]]\na = "F80.0"\nb = "R47.01"\nreason = "r"\nvalid_from = "soon"\n', "valid_from"),
    ],
)
def test_excludes1_validation(tmp_path: Path, content, fragment):
    path = tmp_path / "excludes1.toml"
    path.write_text(content)
    with pytest.raises(ClinicalDataError) as error:
        icd10.load_excludes1(path)
    assert fragment in str(error.value)


def test_excludes1_respects_dates(tmp_path: Path):
    import datetime as dt

    path = tmp_path / "excludes1.toml"
    path.write_text('source = "s"\n[[excludes1]]\na = "F80.0"\nb = "R47.01"\nreason = "r"\nvalid_to = 2025-09-30\n')
    rules = icd10.load_excludes1(path)
    assert excludes1_conflicts(["F80.0", "R47.01"], on=dt.date(2025, 9, 1), rules=rules)
    assert excludes1_conflicts(["F80.0", "R47.01"], on=dt.date(2026, 1, 5), rules=rules) == []


@pytest.mark.parametrize(
    ("codes", "expected_pair"),
    [
        (["R48.2", "I69.390"], ("R48.2", "I69.390")),  # apraxia; apraxia after cerebral infarction
        (["R47.1", "I69.322"], ("R47.1", "I69.322")),  # dysarthria; dysarthria after cerebral infarction
        (["R47.02", "I69.121"], ("R47.02", "I69.121")),
        (["R47.81", "F80.0"], ("R47.81", "F80.0")),  # R47 excludes F80.- (subcodes included)
    ],
)
def test_excludes1_from_the_tabular(codes, expected_pair):
    conflicts = excludes1_conflicts(codes, on=dt.date(2026, 3, 10))
    assert expected_pair in {(a, b) for a, b, _ in conflicts}
    assert all("tabular" in reason or reason for _, _, reason in conflicts)


def test_excludes1_from_the_tabular_keeps_compatible_codes():
    assert excludes1_conflicts(["R13.12", "I69.391"], on=dt.date(2026, 3, 10)) == []
    assert excludes1_conflicts(["R47.01", "I69.321"], on=dt.date(2026, 3, 10)) == []

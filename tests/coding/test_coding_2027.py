"""The 2027 structure: timed treatment codes per disorder area, installed as a code-set file.
The example file uses fake code numbers (9X001...) and exists for these tests and the docs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from slpterm.coding import code_encounter, load_rulebook
from slpterm.domain.vocab import DisorderArea, EvaluationKind, SessionType

from .factory import install_example_2027, line_texts, make_facts

DOS_2027 = date(2027, 2, 3)
PLAN_2027 = {"plan_start": date(2027, 1, 18), "plan_end": date(2027, 4, 15), "plan_first_treatment_date": date(2027, 1, 18),
             "plan_certified_on": date(2027, 1, 20)}
FEES = {f"9X00{n}": Decimal("50") for n in range(1, 9)}


def facts_2027(**overrides):
    base = {"date_of_service": DOS_2027, "today": date(2027, 2, 4), **PLAN_2027}
    base.update(overrides)
    return make_facts(**base)


@pytest.fixture
def rulebook_2027_priced(tmp_path):
    install_example_2027(tmp_path)
    return load_rulebook(tmp_path, fee_overrides=FEES)


AREA_ROWS = [
    ({DisorderArea.LANGUAGE: 15}, []),
    ({DisorderArea.LANGUAGE: 16}, ["9X003-GN x1"]),
    ({DisorderArea.LANGUAGE: 37}, ["9X003-GN x1"]),
    ({DisorderArea.LANGUAGE: 38}, ["9X003-GN x1", "9X004-GN x1"]),
    ({DisorderArea.LANGUAGE: 52}, ["9X003-GN x1", "9X004-GN x1"]),
    ({DisorderArea.LANGUAGE: 53}, ["9X003-GN x1", "9X004-GN x2"]),
    ({DisorderArea.LANGUAGE: 30, DisorderArea.SPEECH_SOUND: 20}, ["9X003-GN x1", "9X001-GN x1"]),
    ({DisorderArea.FLUENCY: 45, DisorderArea.VOICE: 10}, ["9X005-GN x1", "9X006-GN x1"]),
    ({DisorderArea.VOICE: 60}, ["9X007-GN x1", "9X008-GN x2"]),
    ({DisorderArea.SPEECH_SOUND: 10, DisorderArea.LANGUAGE: 10}, []),
]


@pytest.mark.parametrize("minutes, expected", AREA_ROWS)
def test_2027_timed_per_area_coding(rulebook_2027_priced, minutes, expected):
    total = sum(minutes.values())
    result = code_encounter(facts_2027(minutes_by_area=minutes, total_minutes=total), rulebook_2027_priced)
    assert line_texts(result) == expected
    assert all(line.code != "92507" for line in result.lines)
    if not expected:
        assert "time-below-minimum" in result.finding_codes


def test_2027_without_the_file_refuses_to_invent_a_code(rulebook):
    result = code_encounter(facts_2027(minutes_by_area={DisorderArea.LANGUAGE: 45}), rulebook)
    assert result.lines == ()
    finding = next(f for f in result.findings if f.code == "treatment-codes-not-installed")
    assert "92507 is deleted" in finding.message and result.blocked
    for what in ("slpterm rules install", "PPRRVU2027_JAN.csv", "f1-f4", "MUE", "TOML"):
        assert what in finding.fix


def test_2027_file_inherits_untouched_codes(rulebook_2027_priced):
    evaluation = code_encounter(facts_2027(session_type=SessionType.EVALUATION, evaluation_kind=EvaluationKind.FLUENCY), rulebook_2027_priced)
    assert line_texts(evaluation) == ["92521-GN x1"]
    group = code_encounter(facts_2027(session_type=SessionType.GROUP_TREATMENT, group_size=2), rulebook_2027_priced)
    assert line_texts(group) == ["92508-GN x1"]


def test_2027_explicit_92507_is_not_in_the_code_set(rulebook_2027_priced):
    result = code_encounter(facts_2027(minutes_by_code={"92507": 45}), rulebook_2027_priced)
    assert result.lines == ()
    finding = next(f for f in result.findings if f.code == "code-not-in-codeset")
    assert "92507" in finding.message


def test_2027_needs_minutes_per_area(rulebook_2027_priced):
    result = code_encounter(facts_2027(minutes_by_area={}, total_minutes=45), rulebook_2027_priced)
    assert "no-minutes-by-area" in result.finding_codes and result.lines == ()


def test_2027_area_without_code_is_reported(rulebook_2027_priced):
    result = code_encounter(facts_2027(minutes_by_area={DisorderArea.LANGUAGE: 30, DisorderArea.SWALLOWING: 20}, total_minutes=50),
                            rulebook_2027_priced)
    assert line_texts(result) == ["9X003-GN x1"]
    assert "area-not-coded" in result.finding_codes


@pytest.mark.parametrize("area, what", [(DisorderArea.HEARING, "aural rehabilitation"),
                                        (DisorderArea.AUDITORY_PROCESSING, "auditory-processing treatment"),
                                        (DisorderArea.VOICE_PROSTHESIS, "voice-prosthesis training")])
def test_2027_services_that_left_92507_have_no_mapped_code(rulebook_2027_priced, area, what):
    result = code_encounter(facts_2027(minutes_by_area={DisorderArea.LANGUAGE: 30, area: 20}, total_minutes=50),
                            rulebook_2027_priced)
    assert line_texts(result) == ["9X003-GN x1"]
    finding = next(f for f in result.findings if f.code == "no-mapped-code")
    assert what in finding.message and "no mapped code in the code set" in finding.message


def test_2027_codes_without_fee_warn(rulebook_2027):
    result = code_encounter(facts_2027(minutes_by_area={DisorderArea.LANGUAGE: 30}), rulebook_2027)
    assert "missing-fee" in result.finding_codes
    assert result.lines[0].charge == Decimal("0")


def test_2026_sessions_unchanged_with_2027_file_installed(rulebook_2027):
    assert line_texts(code_encounter(make_facts(), rulebook_2027)) == ["92507-GN x1"]

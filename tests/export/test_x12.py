"""837P specifics: same-day merging, pointer re-basing, hostile text, refusals."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timezone

import pytest

from slpterm.export.common import BatchInfo
from slpterm.export.x12 import build_claims, clean_text, clinic_problems, encounter_problems, render_837p
from export.checks import claims_of, own_x12_problems, pyx12_errors, segments
from export.conftest import ADA, CLINIC, COMMERCIAL, PATIENTS, Scenario, line, make_encounter

BATCH = BatchInfo(number=7, created_at=datetime(2026, 3, 20, 9, 30, tzinfo=timezone.utc))


def test_the_validator_helper_reports_broken_files():
    text, _ = render_837p([make_encounter("individual_92507_gn")], BATCH)
    broken = text.replace("DMG*D8*19480214", "DMG*D8*19481314").replace("\nSE*", "\nSE*9")
    errors = pyx12_errors(broken)
    assert any("DMG02" in error for error in errors) and any("SE count" in error for error in errors)


def test_same_day_encounters_of_one_patient_merge_into_one_claim_with_rebased_pointers():
    morning = make_encounter("individual_92507_gn", name="morning", start_hour=9)  # I69.320, R47.01; 92507 -> 1:2
    afternoon = make_encounter("same_day_92507_92526", name="afternoon", start_hour=14)  # I69.391, R13.12, R47.01
    text, claims = render_837p([morning, afternoon], BATCH)
    assert pyx12_errors(text) == [] and own_x12_problems(text) == []
    (claim,) = claims_of(text)
    assert claim["hi"] == ["I69320", "R4701", "I69391", "R1312"]
    # afternoon 92507 pointed at (I69.391, R47.01) -> 3:2; 92526 at (I69.391, R13.12) -> 3:4
    assert [(l[1], l[7]) for l in claim["lines"]] == [("HC:92507:GN", "1:2"), ("HC:92507:GN", "3:2"),
                                                     ("HC:92526:GN", "3:4")]
    assert claim["clm"][2] == "450.00"
    assert claims[0].participant_ids == [morning.participant_id, afternoon.participant_id]


def test_different_days_and_patients_are_separate_claims():
    encounters = [make_encounter("individual_92507_gn", dos=date(2026, 3, 2)),
                  make_encounter("individual_92507_gn", dos=date(2026, 3, 3)),
                  make_encounter("evaluation_92523_52", dos=date(2026, 3, 3))]
    claims, refused = build_claims(encounters)
    assert refused == [] and len(claims) == 3


def test_a_line_by_another_clinician_gets_its_own_rendering_provider():
    rosa = make_encounter("individual_92507_gn", name="rosa", start_hour=9)
    ada = make_encounter("same_day_92507_92526", name="ada", clinician=ADA, start_hour=14)
    text, _ = render_837p([rosa, ada], BATCH)
    assert pyx12_errors(text) == [] and own_x12_problems(text) == []
    rendering = [s for s in segments(text) if s[:2] == ["NM1", "82"]]
    assert [(s[3], s[9]) for s in rendering] == [("FENNIMORE", rosa.clinician.npi), ("MOSS", ADA.npi),
                                                 ("MOSS", ADA.npi)]


def test_more_than_four_pointers_are_cut_to_four():
    many = Scenario("june", COMMERCIAL, "evaluation", "office", "11",
                    tuple((f"F80.{n}", "", "treatment") for n in (0, 1, 2, 4, 9)),
                    (line("92523", modifiers=(), charge="210.00", pointers=(1, 2, 3, 4, 5)),))
    text, _ = render_837p([make_encounter(many, name="many")], BATCH)
    assert pyx12_errors(text) == [] and own_x12_problems(text) == []
    assert claims_of(text)[0]["lines"][0][7] == "1:2:3:4"


def test_more_than_twelve_diagnoses_on_one_day_is_refused_with_a_reason():
    codes = [f"F80.{n}" for n in (0, 1, 2, 4, 9)] + [f"R47.{n}" for n in ("01", "02", "1", "81", "82", "89")]
    first = Scenario("june", COMMERCIAL, "evaluation", "office", "11",
                     tuple((code, "", "treatment") for code in codes), (line("92523", modifiers=()),))
    second = Scenario("june", COMMERCIAL, "individual_treatment", "office", "11",
                      (("R48.2", "", "treatment"), ("R49.0", "", "treatment")), (line("92507"),))
    claims, refused = build_claims([make_encounter(first, name="a"), make_encounter(second, name="b")])
    assert claims == [] and len(refused) == 2
    assert "13 diagnoses" in refused[0][1] and "at most 12" in refused[0][1]


HOSTILE = "O'Brien~*:^\x07\r\nSmith"


def test_hostile_text_in_names_and_addresses_cannot_break_the_file():
    patient = dataclasses.replace(PATIENTS["walt"], last_name=HOSTILE, first_name="Wal~ter*",
                                  address_line1="1 Main St ^ Apt:2~", city="Asto*ria\x00")
    clinic = dataclasses.replace(CLINIC, name="Harbor ~Speech* & Swallow:", submitter_contact="Rosa^Fen~nimore")
    encounter = make_encounter("individual_92507_gn", patient=patient, clinic=clinic)
    text, _ = render_837p([encounter], BATCH)
    assert pyx12_errors(text) == [] and own_x12_problems(text) == []
    nm1 = next(s for s in segments(text) if s[:2] == ["NM1", "IL"])
    assert nm1[3] == "O'BRIEN SMITH" and nm1[4] == "WAL TER"
    assert "\x07" not in text and "\x00" not in text
    assert len(segments(text)[0]) == 17  # ISA still has its 16 elements


@pytest.mark.parametrize("raw, cleaned", [("Zoë Ñúñez", "ZOE NUNEZ"), ("a~b*c:d^e", "A B C D E"),
                                          ("tab\there", "TAB HERE"), ("  ", "")])
def test_clean_text(raw, cleaned):
    assert clean_text(raw) == cleaned


@pytest.mark.parametrize("field, setting", [
    ("submitter_id", "Submitter ID"), ("submitter_contact", "Submitter contact"), ("receiver_id", "Receiver ID"),
    ("receiver_name", "Receiver name"), ("phone", "Clinic phone"), ("npi", "NPI"), ("tax_id", "tax ID"),
])
def test_missing_clinic_settings_are_named(field, setting):
    problems = clinic_problems(dataclasses.replace(CLINIC, **{field: ""}))
    assert len(problems) == 1 and setting in problems[0] and "Settings (F5)" in problems[0]
    with pytest.raises(ValueError, match=setting):
        render_837p([make_encounter("individual_92507_gn", clinic=dataclasses.replace(CLINIC, **{field: ""}))],
                    BATCH)


def test_clinic_with_every_setting_has_no_problems():
    assert clinic_problems(CLINIC) == []


@pytest.mark.parametrize("change, expected", [
    ({"coverage": None}, "No coverage"),
    ({"coverage": dataclasses.replace(COMMERCIAL, member_id="")}, "Member ID"),
    ({"coverage": dataclasses.replace(COMMERCIAL, payer_id="")}, "Payer ID"),
    ({"coverage": dataclasses.replace(COMMERCIAL, payer_kind="self_pay")}, "Self-pay"),
    ({"patient": dataclasses.replace(PATIENTS["june"], date_of_birth=None)}, "date of birth"),
])
def test_encounter_problems_name_the_missing_claim_data(change, expected):
    encounter = dataclasses.replace(make_encounter("evaluation_92523_52"), **change)
    problems = encounter_problems(encounter)
    assert any(expected in problem for problem in problems), problems

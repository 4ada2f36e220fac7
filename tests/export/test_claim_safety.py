"""Each claim is checked alone before it enters an 837P batch: names in any script are transliterated,
a clinic without ZIP+4 holds its claims with the fix, a claim that would be rejected is held back
while the others go out, and nothing a validator would reject is reported as a success."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from slpterm.export.batch import select_encounters
from slpterm.services.exporting import run_export
from slpterm.export.x12 import clean_text, clinic_problems, encounter_problems, render_837p
from export.checks import own_x12_problems, pyx12_errors, segments
from export.conftest import CLINIC, DOS, MEDICAID_CHILD, PATIENTS, ROSA, make_encounter
from export.test_x12 import BATCH


@pytest.mark.parametrize("typed, sent", [
    ("Ødegård", "ODEGARD"), ("Łukasz", "LUKASZ"), ("Straße", "STRASSE"), ("Æsa", "AESA"),
    ("Иванов", "IVANOV"), ("王", "WANG"), ("O'Brien-Smith", "O'BRIEN-SMITH"), ("Suite #4", "SUITE 4"),
])
def test_names_are_transliterated_into_the_x12_basic_character_set(typed, sent):
    assert clean_text(typed) == sent


@pytest.mark.parametrize("typed", ["כהן", "عباس", "Иванов", "王"])
def test_every_script_leaves_a_name_an_837p_can_carry(typed):
    assert clean_text(typed) and clean_text(typed).isascii()


NAMES = [("Brightwater", "Walter"), ("Иванов", "Пётр"), ("Ødegård", "Łukasz"), ("Straße", "Zoë"),
         ("Ashdown", "June")]


def _five_patients_one_cyrillic(store):
    """Five stored patients (one Cyrillic, the others with letters ASCII lacks), a session each."""
    clinician = store.clinic.add_clinician(first_name=ROSA.first_name, last_name=ROSA.last_name, npi=ROSA.npi)
    encounters = []
    for n, (last, first) in enumerate(NAMES):
        stored = store.patients.create(first_name=first, last_name=last, external_id=f"P-10{n}",
                                       date_of_birth=PATIENTS["walt"].date_of_birth)
        session, (participant,) = store.sessions.create(
            date_of_service=DOS, session_type="individual_treatment", setting="office", patient_ids=[stored.id],
            clinician_id=clinician.id)
        person = dataclasses.replace(PATIENTS["walt"], id=stored.id, external_id=f"P-10{n}", last_name=last,
                                     first_name=first)
        encounters.append(make_encounter("individual_92507_gn", participant_id=participant.id,
                                         session_id=session.id, patient=person))
    return encounters


def test_a_batch_with_a_cyrillic_name_sends_every_claim_transliterated(store, tmp_path):
    encounters = _five_patients_one_cyrillic(store)
    outcome = run_export(store, encounters, "x12", tmp_path / "out")
    assert outcome.ok and outcome.held == [] and len(outcome.exported_ids) == 5
    text = outcome.files[0].read_text()
    assert pyx12_errors(text) == [] and own_x12_problems(text) == []
    names = [(s[3], s[4]) for s in segments(text) if s[:2] == ["NM1", "IL"]]
    assert ("IVANOV", "PETR") in names and ("ODEGARD", "LUKASZ") in names and ("STRASSE", "ZOE") in names


def test_a_clinic_with_a_five_digit_zip_holds_its_claims_with_the_fix(store, tmp_path):
    clinic = dataclasses.replace(CLINIC, postal_code="97103")
    encounters = [dataclasses.replace(e, clinic=clinic) for e in _five_patients_one_cyrillic(store)]
    outcome = run_export(store, encounters, "x12", tmp_path / "out")
    assert not outcome.ok and outcome.files == [] and not (tmp_path / "out").exists()
    assert len(outcome.held) == 5
    for held in outcome.held:
        assert any("ZIP+4" in str(reason) and "Settings (F5)" in str(reason) for reason in held.reasons)
    assert sum("ZIP+4" in problem for problem in outcome.problems) == 1  # the one fix, said once
    assert store.exports.batches() == []


def test_zip_plus_4_with_a_dash_is_accepted():
    assert clinic_problems(dataclasses.replace(CLINIC, postal_code="97103-1234")) == []
    (problem,) = clinic_problems(dataclasses.replace(CLINIC, postal_code="97103"))
    assert "9-digit ZIP+4" in problem and "Settings (F5), Electronic claims" in problem


def test_one_claim_that_would_be_rejected_is_held_back_and_the_others_go_out(store, tmp_path):
    encounters = _five_patients_one_cyrillic(store)
    broken = dataclasses.replace(encounters[2].patient, postal_code="12")  # N403 takes 3 to 15
    encounters[2] = dataclasses.replace(encounters[2], patient=broken)
    outcome = run_export(store, encounters, "x12", tmp_path / "out")
    assert outcome.ok and len(outcome.exported_ids) == 4
    (held,) = outcome.held
    assert held.encounter.participant_id == encounters[2].participant_id
    assert "N403 (subscriber ZIP code) has 2 characters" in str(held.reasons[0]) and "Fix:" in str(held.reasons[0])
    text = outcome.files[0].read_text()
    assert pyx12_errors(text) == [] and "ODEGARD" not in text


def test_a_name_with_no_letters_left_holds_the_claim_naming_the_field():
    patient = dataclasses.replace(PATIENTS["walt"], last_name="\u200b")
    encounter = make_encounter("individual_92507_gn", patient=patient)
    problems = encounter_problems(encounter)
    assert any(problem.startswith("Patient last name") and "Latin letters" in problem for problem in problems)
    selection = select_encounters([encounter, make_encounter("evaluation_92523_52")], "x12")
    assert [h.encounter.participant_id for h in selection.held] == [encounter.participant_id]
    assert len(selection.ready) == 1


def test_a_subscriber_name_with_no_letters_left_names_the_subscriber():
    coverage = dataclasses.replace(MEDICAID_CHILD, subscriber_last_name="\ufe0f")
    encounter = dataclasses.replace(make_encounter("group_92508"), coverage=coverage)
    assert any(problem.startswith("Subscriber last name") for problem in encounter_problems(encounter))


def test_a_phone_with_plus_one_is_sent_as_ten_digits():
    clinic = dataclasses.replace(CLINIC, phone="+1 (503) 555-0100")
    assert clinic_problems(clinic) == []
    text, _ = render_837p([make_encounter("individual_92507_gn", clinic=clinic)], BATCH)
    per = next(s for s in segments(text) if s[0] == "PER")
    assert per[4] == "5035550100" and pyx12_errors(text) == []
    (problem,) = clinic_problems(dataclasses.replace(CLINIC, phone="555-0100"))
    assert "10-digit" in problem


def test_for_a_dependent_the_subscribers_birth_date_and_sex_are_not_sent():
    encounter = dataclasses.replace(make_encounter("individual_92507_gn", patient=PATIENTS["milo"]),
                                    coverage=MEDICAID_CHILD)
    text, _ = render_837p([encounter], BATCH)
    assert pyx12_errors(text) == [] and own_x12_problems(text) == []
    tags = [s[0] if s[0] != "NM1" else f"NM1*{s[1]}" for s in segments(text)]
    subscriber = tags[tags.index("NM1*IL"):tags.index("NM1*PR")]
    assert "DMG" not in subscriber
    patient = tags[tags.index("NM1*QC"):tags.index("CLM")]
    assert "DMG" in patient
    dmg = [s for s in segments(text) if s[0] == "DMG"]
    assert dmg == [["DMG", "D8", "20180409", "M"]]


def test_import_patients_keeps_names_in_any_script_as_typed(store, tmp_path):
    from slpterm.services.patient_import import commit_import, dry_run

    csv = tmp_path / "patients.csv"
    csv.write_text("external_id,last_name,first_name,date_of_birth\n"
                   "S-1,Иванов,Пётр,2017-04-02\nS-2,Ødegård,Łukasz,2016-05-03\nS-3,王,小明,2015-06-04\n",
                   encoding="utf-8")
    result = dry_run(store, csv, date(2026, 3, 11))
    assert result.ok, result.errors
    commit_import(store, result)
    names = {(p.last_name, p.first_name) for p in map(store.patients.find_by_external_id, ("S-1", "S-2", "S-3"))}
    assert names == {("Иванов", "Пётр"), ("Ødegård", "Łukasz"), ("王", "小明")}

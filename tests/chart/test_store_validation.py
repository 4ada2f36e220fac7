"""Chart writes (slpterm.services.chart) refuse what the chart forms refuse: one row per rule, on a real SQLite file."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from slpterm.services import chart
from slpterm.store.errors import ValidationFailed

PAST = date(2016, 3, 14)


@pytest.fixture
def medicare_patient(store):
    patient = chart.create_patient(store, first_name="Wendell", last_name="Parrish", external_id="M-1",
                                    date_of_birth=date(1950, 5, 1))
    chart.add_coverage(store, patient_id=patient.id, payer_kind="medicare", payer_name="Medicare Part B",
                                member_id="1EG4TE5MK73")
    return patient


@pytest.mark.parametrize(("fields", "field_label", "words"), [
    ({"first_name": " ", "last_name": ""}, "Name", "first or last name"),
    ({"first_name": "Ada", "last_name": "Finch", "date_of_birth": date.today() + timedelta(days=3)},
     "Date of birth", "in the future"),
    ({"first_name": "Ada", "last_name": "Finch", "date_of_birth": date(1890, 1, 1)}, "Date of birth", "before 1900"),
    ({"first_name": "Ada", "last_name": "Finch", "phone": "555-12"}, "Phone", "10-digit"),
    ({"first_name": "Ada", "last_name": "Finch", "phone": "call mum"}, "Phone", "digits only"),
    ({"first_name": "Ada", "last_name": "Finch", "sex": "X"}, "Sex", "F, M"),
    ({"first_name": "Ada", "last_name": "Finch", "grade": "13"}, "Grade", "PK, TK, K or 1-12"),
])
def test_a_bad_patient_is_refused_naming_the_field(store, fields, field_label, words):
    with pytest.raises(ValidationFailed) as raised:
        chart.create_patient(store, **fields)
    labels = [label for label, _ in raised.value.problems]
    assert field_label in labels
    assert words in str(raised.value)


def test_a_good_patient_is_saved_and_a_later_bad_correction_is_refused(store):
    patient = chart.create_patient(store, first_name="Ada", last_name="Finch", date_of_birth=PAST, phone="(503) 555-0142",
                                    school="Cedar Elementary", grade="3", guardian_name="Mara Finch")
    with pytest.raises(ValidationFailed, match="Date of birth"):
        chart.update_patient(store, patient.id, date_of_birth=date.today() + timedelta(days=1))
    assert store.patients.chart(patient.id).patient.date_of_birth == PAST
    chart.update_patient(store, patient.id, phone="503-555-0199")
    assert store.patients.chart(patient.id).patient.phone == "503-555-0199"


def test_a_patient_id_is_used_once(store):
    chart.create_patient(store, first_name="Ada", last_name="Finch", external_id="S-1")
    with pytest.raises(ValidationFailed, match="S-1 is already the ID of Finch, Ada"):
        chart.create_patient(store, first_name="Bo", last_name="Lark", external_id="S-1")


@pytest.mark.parametrize(("fields", "words"), [
    ({"payer_kind": "barter", "member_id": "X1"}, "Payer kind"),
    ({"payer_kind": "medicare", "member_id": "12345"}, "Medicare ID"),
    ({"payer_kind": "commercial", "member_id": "AB#12"}, "letters, digits and dashes"),
    ({"payer_kind": "commercial", "member_id": "AB12", "effective_from": date(2026, 5, 1),
      "effective_to": date(2026, 4, 1)}, "before the start"),
    ({"payer_kind": "commercial", "member_id": "AB12", "rank": 3}, "secondary"),
    ({"payer_kind": "commercial", "member_id": "AB12", "subscriber_relationship": "cousin"}, "Subscriber"),
])
def test_bad_coverage_is_refused(store, patient, fields, words):
    with pytest.raises(ValidationFailed, match=words):
        chart.add_coverage(store, patient_id=patient.id, **fields)


@pytest.mark.parametrize(("code", "words"), [
    ("R13.1", "R13.1 is a category header"),
    ("R41.84", "R41.84 is a category header"),
    ("I69.32", "I69.32 is a category header"),
    ("13.X", "is not an ICD-10-CM code"),
    ("", "enter an ICD-10-CM code"),
])
def test_unbillable_or_malformed_codes_are_refused_with_the_reason(store, patient, code, words):
    with pytest.raises(ValidationFailed, match=words):
        chart.add_diagnosis(store, patient_id=patient.id, code=code)


@pytest.mark.parametrize(("code", "stored", "description"), [
    ("r13.12", "R13.12", "Dysphagia, oropharyngeal phase"),
    ("F8081", "F80.81", None),
    ("Z99.89", "Z99.89", "Dependence on other enabling machines and devices"),  # outside the SLP list: the whole code set knows it
])
def test_usable_codes_are_normalized_and_described(store, patient, code, stored, description):
    diagnosis = chart.add_diagnosis(store, patient_id=patient.id, code=code, role="treatment")
    assert diagnosis.code == stored
    if description is not None:
        assert diagnosis.description == description


def test_a_diagnosis_role_must_be_medical_or_treatment(store, patient):
    with pytest.raises(ValidationFailed, match="Role"):
        chart.add_diagnosis(store, patient_id=patient.id, code="F80.0", role="primary")


@pytest.mark.parametrize(("fields", "words"), [
    ({"start_date": date(2026, 1, 1), "end_date": date(2026, 4, 30)}, "Medicare certifies at most 90 days"),
    ({"start_date": date(2026, 1, 1), "end_date": date(2025, 12, 1)}, "must be after the start"),
    ({"start_date": date(2026, 1, 1), "end_date": date(2026, 3, 1), "certifying_physician_npi": "1234567890"},
     "check digit"),
    ({"start_date": date(2026, 1, 1), "end_date": date(2026, 3, 1), "frequency": "now and then"}, "not understood"),
    ({"start_date": date(2026, 1, 1), "end_date": date(2026, 3, 1), "duration_weeks": 80}, "1 to 52"),
    ({"start_date": date(2026, 1, 1), "end_date": date(2026, 3, 1), "status": "approved"}, "Status"),
    ({"start_date": date(2026, 1, 1), "end_date": date(2026, 3, 1), "certified_on": date(2025, 12, 1)},
     "before the plan starts"),
])
def test_a_bad_plan_of_care_is_refused(store, medicare_patient, fields, words):
    with pytest.raises(ValidationFailed, match=words):
        chart.add_plan(store, patient_id=medicare_patient.id, **fields)


def test_a_long_plan_is_fine_for_a_payer_without_the_90_day_limit(store, patient):
    plan = chart.add_plan(store, patient_id=patient.id, start_date=date(2026, 1, 1), end_date=date(2026, 6, 30),
                                   frequency="2x/week", duration_weeks=24)
    assert plan.end_date == date(2026, 6, 30)


@pytest.mark.parametrize(("fields", "words"), [
    ({"text": "", "target_accuracy": 80}, "Goal text"),
    ({"text": "Name items", "target_accuracy": 0}, "Target accuracy"),
    ({"text": "Name items", "target_accuracy": 150}, "Target accuracy"),
    ({"text": "Name items", "criterion_sessions": 0}, "Consecutive sessions"),
    ({"text": "Name items", "term": "medium"}, "Term"),
    ({"text": "Name items", "disorder_area": "juggling"}, "Disorder area"),
    ({"text": "Name items", "status": "paused"}, "Status"),
])
def test_a_bad_goal_is_refused(store, patient, fields, words):
    plan = chart.add_plan(store, patient_id=patient.id, start_date=date(2026, 1, 1), end_date=date(2026, 3, 1))
    with pytest.raises(ValidationFailed, match=words):
        chart.add_goal(store, plan_id=plan.id, **fields)


@pytest.mark.parametrize(("fields", "words"), [
    ({"minutes_required": 0}, "Minutes"),
    ({"minutes_required": 60, "period": "year"}, "Period"),
    ({"minutes_required": 60, "kind": "group"}, "Kind"),
    ({"minutes_required": 60, "start_date": date(2026, 5, 1), "end_date": date(2026, 1, 1)}, "before the start"),
])
def test_bad_iep_minutes_are_refused(store, patient, fields, words):
    with pytest.raises(ValidationFailed, match=words):
        store.patients.add_iep_service(patient_id=patient.id, **fields)


def test_recertification_carries_active_goals_and_keeps_short_term_goals_under_their_long_term_goal(store, patient):
    plan = chart.add_plan(store, patient_id=patient.id, start_date=date(2026, 1, 1), end_date=date(2026, 3, 31),
                                   frequency="2x/week", duration_weeks=12, certifying_physician_name="Dr. Lena Ortiz",
                                   certifying_physician_npi="1234567893", certified_on=date(2026, 1, 5),
                                   status="certified")
    long_goal = chart.add_goal(store, plan_id=plan.id, term="long", text="Intelligible speech in conversation")
    chart.add_goal(store, plan_id=plan.id, term="short", parent_goal_id=long_goal.id, rank=2,
                            text="/r/ initial position, word level", baseline="40%")
    chart.add_goal(store, plan_id=plan.id, term="short", parent_goal_id=long_goal.id, rank=3,
                            text="/s/ blends, word level", status="met")

    new_plan = chart.recertify_plan(store, plan.id)

    saved = store.patients.chart(patient.id)
    assert new_plan.previous_plan_id == plan.id
    assert (new_plan.start_date, new_plan.end_date) == (date(2026, 4, 1), date(2026, 6, 29))
    assert new_plan.certified_on is None and new_plan.status == "draft"
    assert new_plan.certifying_physician_npi == "1234567893"
    carried = saved.goals_by_plan[new_plan.id]
    assert [goal.text for goal in carried] == ["Intelligible speech in conversation", "/r/ initial position, word level"]
    new_long = next(goal for goal in carried if goal.term == "long")
    assert next(goal for goal in carried if goal.term == "short").parent_goal_id == new_long.id
    assert len(saved.goals_by_plan[plan.id]) == 3


def test_a_recertification_for_medicare_is_checked_like_any_plan(store, medicare_patient):
    plan = chart.add_plan(store, patient_id=medicare_patient.id, start_date=date(2026, 1, 1),
                                   end_date=date(2026, 3, 31))
    with pytest.raises(ValidationFailed, match="at most 90 days"):
        chart.recertify_plan(store, plan.id, start_date=date(2026, 4, 1), end_date=date(2026, 8, 1))
    assert len(store.patients.chart(medicare_patient.id).plans) == 1

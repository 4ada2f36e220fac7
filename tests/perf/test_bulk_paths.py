"""Coding through the store's bulk read, and the encounter records built on it: what they give."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from slpterm.services.billing import BillingService, BulkData
from slpterm.services.encounters import encounter_records, load_encounters
from slpterm.store import NotFound, open_store

TODAY = date(2026, 3, 20)


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    from slpterm.demo import generate_demo

    folder = tmp_path_factory.mktemp("demo") / "data"
    generate_demo(folder, today=TODAY)
    store = open_store(folder)
    yield store
    store.close()


@pytest.fixture(scope="module")
def synthetic_store(tmp_path_factory):
    """Groups, Medicare year-to-date amounts, drafts and several plans per patient."""
    from slpterm.demo import generate_synthetic

    folder = tmp_path_factory.mktemp("synthetic") / "data"
    generate_synthetic(folder, patients=60, sessions=900, seed=7, today=TODAY)
    store = open_store(folder)
    yield store
    store.close()


def _all_participant_ids(store) -> list[str]:  # noqa: ANN001
    return [participant.id for participant, _ in store.sessions.unsigned_drafts()] + [
        participant.id for participant, _ in store.sessions.signed_between(None, None)]


def test_coding_every_session_at_once_equals_coding_each_alone(synthetic_store):
    billing = BillingService(synthetic_store, TODAY)
    ids = _all_participant_ids(synthetic_store)
    assert len(ids) > 200
    bulk = billing.code_many(ids)
    assert list(bulk) == ids
    alone = BillingService(synthetic_store, TODAY, now=billing.now)
    differing = [participant_id for participant_id in ids if bulk[participant_id] != alone.code_participant(participant_id)]
    assert differing == []


def test_whole_clinic_coding_bills_signed_sessions_and_holds_drafts(demo_store):
    billing = BillingService(demo_store, TODAY)
    data = BulkData.whole_clinic(demo_store)
    results = billing.code_many(list(data.details), data)
    drafts = {participant.id for participant, _ in demo_store.sessions.unsigned_drafts()}
    assert drafts and all("note-unsigned" in results[participant_id].finding_codes for participant_id in drafts)
    billed = [result for participant_id, result in results.items() if participant_id not in drafts and not result.blocked]
    assert len(billed) > 100
    for result in billed:
        detail = data.details[result.session_id]
        assert result.lines and result.diagnoses and result.place_of_service
        assert all(line.units >= 1 and line.date_of_service == detail.session.date_of_service for line in result.lines)
        assert all(1 <= pointer <= len(result.diagnoses) for line in result.lines for pointer in line.diagnosis_pointers)


def test_medicare_year_to_date_adds_the_years_coded_charges(synthetic_store):
    billing = BillingService(synthetic_store, TODAY)
    data = BulkData.whole_clinic(synthetic_store)
    results = billing.code_many(list(data.details), data)
    medicare = [patient_id for patient_id, chart in data.charts.items()
                if chart.primary_coverage is not None and chart.primary_coverage.payer_kind == "medicare"
                and any(row[1].date_of_service.year == TODAY.year for row in data.histories[patient_id].rows)]
    assert medicare
    for patient_id in medicare[:10]:
        chart, billed = data.charts[patient_id], data.billed.get(patient_id, {})
        expected = sum((Decimal(row.other_providers_cents) / 100 for row in chart.therapy_amounts if row.year == TODAY.year),
                       Decimal("0"))
        for participant, therapy_session in data.histories[patient_id].rows:
            if therapy_session.date_of_service.year == TODAY.year and therapy_session.date_of_service <= TODAY:
                cents = billed.get(participant.id)
                expected += Decimal(cents) / 100 if cents is not None else results[participant.id].total_charge
        assert billing.year_to_date_through(patient_id, TODAY) == expected
        assert billing.years_to_date_through([patient_id], TODAY) == {patient_id: expected}


NOVEMBER_2 = date(2026, 11, 2)


@pytest.fixture(scope="module")
def two_visits(tmp_path_factory):
    """A clinic written through the API: Milo (Medicaid) 30 minutes, 3 of 4 correct; Ada (a
    commercial plan) 45 minutes, 1 of 2 correct. Both signed on 2 November 2026."""
    from slpterm.api import open_clinic
    from slpterm.domain.clock import FakeClock

    folder = tmp_path_factory.mktemp("two-visits") / "data"
    clock = FakeClock(datetime(2026, 11, 2, 18, 0, tzinfo=UTC))
    visits = {}
    with open_clinic(folder, clock=clock) as clinic:
        clinic.set_up(name="Harbor Speech", npi="1234567893", tax_id="12-3456789", address_line1="1 Pier Rd",
                      city="Astoria", state="OR", postal_code="97103")
        clinic.add_clinician(first_name="Rosa", last_name="Fennimore", npi="1234567893")
        for first, last, kind, payer, minutes, results in (
                ("Milo", "Quillfeather", "medicaid", "Oregon Health Plan", 30, ["correct", "correct", "incorrect", "correct"]),
                ("Ada", "Brightwater", "commercial", "Cascade Mutual", 45, ["incorrect", "correct"])):
            patient = clinic.add_patient(first_name=first, last_name=last, date_of_birth=date(2018, 4, 9))
            clinic.add_coverage(patient, payer_kind=kind, payer_name=payer, payer_id="P01", member_id=f"M-{last}")
            clinic.add_diagnosis(patient, code="F80.0")
            plan = clinic.add_plan(patient, start_date=date(2026, 10, 1), end_date=date(2026, 12, 29),
                                   frequency="2x/week", status="certified", certified_on=date(2026, 10, 3),
                                   certifying_physician_name="Dr. Lena Ortiz", certifying_physician_npi="1234567893")
            goal = clinic.add_goal(plan, disorder_area="speech_sound", text=f"/r/ for {first}")
            (visit,) = clinic.start_session([patient], date_of_service=NOVEMBER_2)
            start = datetime(2026, 11, 2, 16, 0, tzinfo=UTC)
            clinic.set_times(visit, start=start, stop=start + timedelta(minutes=minutes))
            for result in results:
                clinic.tally(visit, goal, result)
            clinic.use_technique(visit, clinic.techniques(visit)[0][0])
            clinic.write_note(visit, subjective="Ready to work.", objective=clinic.draft_objective(visit),
                              assessment="Steady gains.", plan="Continue.")
            clinic.sign(visit)
            visits[first] = (visit, patient, goal)
    store = open_store(folder)
    yield store, visits
    store.close()


def test_encounter_records_carry_each_sessions_patient_coverage_goals_and_signature(two_visits):
    store, visits = two_visits
    (milo, milo_patient, milo_goal), (ada, _, ada_goal) = visits["Milo"], visits["Ada"]
    billing = BillingService(store, NOVEMBER_2)
    records = encounter_records(billing, [ada, milo], exported_ids={milo})
    assert [record.participant_id for record in records] == [ada, milo]
    by_name = {record.patient.first_name: record for record in records}
    milo_record, ada_record = by_name["Milo"], by_name["Ada"]
    assert (milo_record.patient.id, milo_record.patient.last_name) == (milo_patient, "Quillfeather")
    assert (milo_record.coverage.payer_kind, milo_record.coverage.payer_name, milo_record.coverage.member_id) == (
        "medicaid", "Oregon Health Plan", "M-Quillfeather")
    assert ada_record.coverage.payer_name == "Cascade Mutual"
    assert [(goal.goal_id, goal.correct, goal.trials) for goal in milo_record.goal_results] == [(milo_goal, 3, 4)]
    assert [(goal.goal_id, goal.correct, goal.trials) for goal in ada_record.goal_results] == [(ada_goal, 1, 2)]
    assert (milo_record.total_minutes, ada_record.total_minutes) == (30, 45)
    assert [diagnosis.code for diagnosis in milo_record.diagnoses] == ["F80.0"]
    assert milo_record.clinic.name == "Harbor Speech" and milo_record.clinic.postal_code == "97103"
    assert (milo_record.clinician.first_name, milo_record.clinician.last_name) == ("Rosa", "Fennimore")
    assert milo_record.signer.startswith("Rosa Fennimore") and milo_record.signed_at is not None
    assert milo_record.certifying_physician_name == "Dr. Lena Ortiz"
    assert all(record.date_of_service == NOVEMBER_2 for record in records)
    assert (milo_record.exported_before, ada_record.exported_before) == (True, False)
    assert [line.code for line in milo_record.coding.lines] == ["92507"]


def test_one_sessions_record_is_the_same_as_in_a_batch(two_visits):
    store, visits = two_visits
    billing = BillingService(store, NOVEMBER_2)
    milo = visits["Milo"][0]
    (alone,) = encounter_records(billing, [milo], exported_ids=set())
    assert alone.participant_id == milo and alone.patient.first_name == "Milo"
    assert [(goal.correct, goal.trials) for goal in alone.goal_results] == [(3, 4)]
    assert encounter_records(billing, [], exported_ids=set()) == []


def test_load_encounters_selects_the_signed_sessions_in_the_range(demo_store):
    date_from, date_to = date(2026, 1, 1), date(2026, 2, 28)
    records = load_encounters(demo_store, date_from=date_from, date_to=date_to, include_exported=True, today=TODAY)
    expected = [participant.id for participant, _ in demo_store.sessions.signed_between(date_from, date_to)]
    assert expected
    assert [record.participant_id for record in records] == expected
    assert all(date_from <= record.date_of_service <= date_to and record.signed_at for record in records)


def test_load_encounters_leaves_out_billed_sessions_unless_asked(demo_store, tmp_path):
    everything = load_encounters(demo_store, date_from=None, date_to=None, include_exported=True, today=TODAY)
    exported = {record.participant_id for record in everything[:3]}
    copied = {record.participant_id for record in everything[3:5]}
    demo_store.exports.record_batch(format="csv", participant_ids=sorted(copied), file_names=["y.csv"],
                                    checksum="0" * 64)  # a copy: not billed, still offered
    demo_store.exports.record_batch(format="x12", participant_ids=sorted(exported), file_names=["x.x12"],
                                    checksum="0" * 64)
    fresh = load_encounters(demo_store, date_from=None, date_to=None, include_exported=False, today=TODAY)
    again = load_encounters(demo_store, date_from=None, date_to=None, include_exported=True, today=TODAY)
    assert {record.participant_id for record in fresh} == {r.participant_id for r in everything} - exported
    assert {record.participant_id for record in again if record.exported_before} == exported


def test_bulk_data_for_some_patients_holds_their_whole_history(synthetic_store):
    ids = [participant.id for participant, _ in synthetic_store.sessions.signed_between(None, None)][:20]
    data = BulkData.for_participants(synthetic_store, ids)
    patients = {data.details[participant_id].participant.patient_id for participant_id in ids}
    assert set(data.charts) == patients
    for patient_id in patients:
        stored = synthetic_store.sessions.for_patient(patient_id)
        assert sorted(p.id for p, _ in data.histories[patient_id].rows) == sorted(p.id for p, _ in stored)


def test_code_many_refuses_an_unknown_participant(demo_store):
    billing = BillingService(demo_store, TODAY)
    with pytest.raises(NotFound):
        billing.code_many(["no-such-participant"])
    assert billing.code_many([]) == {}

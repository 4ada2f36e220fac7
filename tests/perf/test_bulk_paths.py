"""Coding through the store's bulk read: what it gives, and the same for a batch as one session at a time."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from slpterm.services.billing import BillingService, BulkData
from slpterm.services.encounters import encounter_record, encounter_records, load_encounters
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


@pytest.mark.parametrize("clinic", ["demo_store", "synthetic_store"])
def test_encounter_records_agree_with_the_per_session_records(clinic, request):
    store = request.getfixturevalue(clinic)
    billing = BillingService(store, TODAY)
    ids = [participant.id for participant, _ in store.sessions.signed_between(None, None)]
    bulk = encounter_records(billing, ids, exported_ids=set(ids[:5]))
    reference = [encounter_record(billing, participant_id, set(ids[:5])) for participant_id in ids]
    assert [record.participant_id for record in bulk] == ids
    mismatched = [a.participant_id for a, b in zip(bulk, reference) if a != b]
    assert mismatched == []
    assert sum(1 for record in bulk if record.exported_before) == 5
    assert any(result.trials for record in bulk for result in record.goal_results)


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

"""The bulk coding path (batched queries) gives exactly what the per-session path gives."""

from __future__ import annotations

from datetime import date

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


@pytest.mark.parametrize("clinic", ["demo_store", "synthetic_store"])
def test_code_many_agrees_with_code_participant_for_every_session(clinic, request):
    store = request.getfixturevalue(clinic)
    billing = BillingService(store, TODAY)
    ids = _all_participant_ids(store)
    assert len(ids) > 200
    bulk = billing.code_many(ids)
    assert list(bulk) == ids
    one_by_one = {participant_id: billing.code_participant(participant_id) for participant_id in ids}
    differing = [participant_id for participant_id in ids if bulk[participant_id] != one_by_one[participant_id]]
    assert differing == []
    assert any(result.lines for result in bulk.values())
    assert any(result.findings for result in bulk.values())


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


def test_load_encounters_leaves_out_exported_sessions_unless_asked(demo_store, tmp_path):
    everything = load_encounters(demo_store, date_from=None, date_to=None, include_exported=True, today=TODAY)
    exported = {record.participant_id for record in everything[:3]}
    demo_store.exports.record_batch(format="csv", participant_ids=sorted(exported), file_names=["x.csv"],
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

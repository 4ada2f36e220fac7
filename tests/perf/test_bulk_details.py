"""The bulk path reads participants' details only for the patient-days its coding needs, and still
codes exactly as the per-session path does."""

from __future__ import annotations

from datetime import date

import pytest

from slpterm.domain.vocab import PayerKind
from slpterm.services.billing import BillingService, BulkData
from slpterm.services.encounters import encounter_records
from slpterm.store import open_store

TODAY = date(2026, 3, 20)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Groups, Medicare year-to-date amounts, drafts and several plans per patient."""
    from slpterm.demo import generate_synthetic

    folder = tmp_path_factory.mktemp("synthetic-details") / "data"
    generate_synthetic(folder, patients=60, sessions=900, seed=11, today=TODAY)
    store = open_store(folder)
    yield store
    store.close()


def _signed_newest_first(store) -> list[str]:  # noqa: ANN001
    rows = store.sessions.signed_between(None, None)
    return [participant.id for participant, _ in reversed(rows)]


def _is_medicare(data: BulkData, patient_id: str) -> bool:
    coverage = data.charts[patient_id].primary_coverage
    return coverage is not None and coverage.payer_kind == PayerKind.MEDICARE


def test_details_cover_same_day_sessions_and_medicare_earlier_days_only(store):
    wanted = _signed_newest_first(store)[:25]
    data = BulkData.for_participants(store, wanted)
    assert set(wanted) <= set(data.details)
    every_row = sum(len(history.rows) for history in data.histories.values())
    assert len(data.details) < every_row

    medicare_checked = 0
    for participant_id in wanted:
        detail = data.details[participant_id]
        patient_id = detail.participant.patient_id
        day = detail.session.date_of_service
        rows = data.histories[patient_id].rows
        same_day = {participant.id for participant, session in rows if session.date_of_service == day}
        assert same_day <= set(data.details)
        if _is_medicare(data, patient_id):
            earlier = {participant.id for participant, session in rows
                       if session.date_of_service.year == day.year and session.date_of_service < day}
            assert earlier <= set(data.details)
            medicare_checked += bool(earlier)
    assert medicare_checked, "the sample should hold a Medicare patient with earlier sessions that year"


def test_whole_clinic_data_has_every_participant(store):
    data = BulkData.whole_clinic(store)
    every_row = {participant.id for history in data.histories.values() for participant, _ in history.rows}
    assert set(data.details) == every_row
    assert all(chart.goals_by_plan for chart in data.charts.values() if chart.plans)


def test_code_many_reads_more_details_when_given_data_for_other_sessions(store):
    newest = _signed_newest_first(store)
    data = BulkData.for_participants(store, newest[:3])
    patients = {data.details[participant_id].participant.patient_id for participant_id in newest[:3]}
    others = [participant.id for patient_id in patients for participant, _ in data.histories[patient_id].rows
              if participant.id not in data.details][:40]
    assert others
    billing = BillingService(store, TODAY)
    bulk = billing.code_many(others, data)
    assert set(others) <= set(data.details)
    assert {participant_id: billing.code_participant(participant_id) for participant_id in others} == bulk


def test_encounter_records_of_recent_sessions_hold_what_each_session_stored(store):
    wanted = _signed_newest_first(store)[:60]
    records = encounter_records(BillingService(store, TODAY), wanted, exported_ids=set())
    assert [record.participant_id for record in records] == wanted
    for record in records:
        stored = store.sessions.detail(record.participant_id)
        assert (record.session_id, record.date_of_service) == (stored.session.id, stored.session.date_of_service)
        assert record.patient.id == stored.participant.patient_id
        assert record.signed_at == stored.signature.signed_at
        kept = [trial for trial in stored.trials if trial.voided_at is None]
        assert sum(goal.trials for goal in record.goal_results) == len(kept)
        assert sum(goal.correct for goal in record.goal_results) == sum(trial.result == "correct" for trial in kept)
    assert any(record.goal_results for record in records)

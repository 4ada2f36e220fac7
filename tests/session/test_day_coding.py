"""The session screen's coding panel re-codes only the day; what it shows equals a full re-code."""

from __future__ import annotations

from datetime import date

import pytest

from slpterm.bench import add_long_history_patient
from slpterm.domain.clock import Clock
from slpterm.services.billing import BillingService
from slpterm.services.session_flow import SessionFlow
from slpterm.store import open_store


@pytest.fixture(scope="module")
def long_history(tmp_path_factory):
    """The demo clinic with a Medicare patient who had 150 sessions, many of them this year."""
    from slpterm.demo import generate_demo

    folder = tmp_path_factory.mktemp("demo") / "data"
    generate_demo(folder)
    patient_id = add_long_history_patient(folder, sessions=150, payer_kind="medicare")
    return folder, patient_id


def _open_session(store, patient_id):  # noqa: ANN001, ANN202
    flow = SessionFlow(store, Clock())
    participant_id = flow.start(patient_ids=[patient_id], session_type="individual_treatment", setting="office",
                                date_text=date.today().isoformat(), clinician_id=store.clinic.clinicians()[0].id,
                                evaluation_kind=None)[0]
    return flow, participant_id


def _copy(long_history, tmp_path):  # noqa: ANN001, ANN202
    import shutil

    folder, patient_id = long_history
    shutil.copytree(folder, tmp_path / "data")
    return open_store(tmp_path / "data"), patient_id


def test_tallies_recoded_by_the_day_equal_a_full_recode(long_history, tmp_path):
    store, patient_id = _copy(long_history, tmp_path)
    try:
        flow, participant_id = _open_session(store, patient_id)
        goal_id = flow.view(participant_id).goal_lines[0].goal_id
        flow.panel_coding_text(participant_id)  # the session opens
        coder = flow._day_coders[participant_id]
        assert coder.year_to_date_before > 0  # Medicare: the year's earlier sessions count
        for index, result in enumerate(["correct", "incorrect", "correct"]):
            store.sessions.record_trial(participant_id, goal_id, result, "independent")
            if index == 1:
                flow.toggle_timer(flow.view(participant_id).session_id)  # minutes start to count
            shown = flow.panel_coding_text(participant_id)
            full = BillingService(store, date.today()).code_participant(participant_id)
            assert coder.code() == full
            assert shown == flow.coding_text(participant_id, full)
        assert "KX" in shown
    finally:
        store.close()


def test_a_fresh_panel_sees_a_change_outside_the_day(long_history, tmp_path):
    store, patient_id = _copy(long_history, tmp_path)
    try:
        flow, participant_id = _open_session(store, patient_id)
        before = flow.panel_coding_text(participant_id)
        store.patients.set_other_providers_amount(patient_id, date.today().year, 500_000)
        full = BillingService(store, date.today()).code_participant(participant_id)
        assert flow.panel_coding_text(participant_id, fresh=True) == flow.coding_text(participant_id, full)
        assert flow.panel_coding_text(participant_id, fresh=True) != before
    finally:
        store.close()

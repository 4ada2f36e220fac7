"""Minutes come from the session's per-area time, so times entered by hand default to the timer's
area or the plan's goals' area, never silently to language."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from slpterm.services.session_flow import SessionFlow, TimeEdit
from slpterm.store import open_store


@pytest.fixture
def flow_store(clinic_dir, clock):
    store = open_store(clinic_dir)
    yield store, SessionFlow(store, clock)
    store.close()


def _start(store, flow, row=0, session_type="individual_treatment"):
    patient_id = store.caseload.rows()[row].patient_id
    return flow.start(patient_ids=[patient_id], session_type=session_type, setting="office", date_text="2026-11-02",
                      clinician_id=store.clinic.clinicians()[0].id, evaluation_kind=None)


def test_the_default_area_comes_from_the_plans_goals_then_the_timer(flow_store):
    store, flow = flow_store
    (participant_id,) = _start(store, flow)
    session_id = store.sessions.detail(participant_id).session.id
    goal_areas = [line.area for line in flow.view(participant_id).goal_lines]
    status = flow.time_edit_status(session_id)
    assert status.default_area == (goal_areas[0] if goal_areas else None)
    start = datetime(2026, 11, 2, 16, 0, tzinfo=timezone.utc)
    flow.apply_time_edit(session_id, TimeEdit(start=start, stop=start + timedelta(minutes=20), area="voice"))
    assert flow.time_edit_status(session_id).default_area == "voice"  # the timer's last area wins


def test_a_swallowing_session_defaults_to_swallowing(flow_store):
    store, flow = flow_store
    (participant_id,) = _start(store, flow, session_type="swallowing_treatment")
    session_id = store.sessions.detail(participant_id).session.id
    goal_areas = {line.area for line in flow.view(participant_id).goal_lines}
    default = flow.time_edit_status(session_id).default_area
    assert default in goal_areas | {"swallowing"}
    assert default != "language" or "language" in goal_areas

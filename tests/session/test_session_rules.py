"""Session rules through the real screens and the session flow: refusals, groups, addenda, times."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from slpterm.services.session_flow import SessionFlow, TimeEdit
from slpterm.store import ValidationFailed, open_store
from slpterm.ui.app import build_app
from slpterm.ui.screens.new_session import NewSessionScreen
from slpterm.ui.screens.session import SessionScreen
from slpterm.ui.screens.session_dialogs import AddendumScreen, SignScreen
from conftest import settle_app

SIZE = (120, 40)




@pytest.fixture
def flow_store(clinic_dir, clock):
    store = open_store(clinic_dir)
    yield store, SessionFlow(store, clock)
    store.close()


def _start(store, flow, **changes):
    patient_id = store.caseload.rows()[0].patient_id
    arguments = dict(patient_ids=[patient_id], session_type="individual_treatment", setting="office",
                     date_text="2026-11-02", clinician_id=store.clinic.clinicians()[0].id, evaluation_kind=None)
    arguments.update(changes)
    return flow.start(**arguments)


@pytest.mark.parametrize(
    ("changes", "field", "wording"),
    [
        ({"date_text": "2026-11-03"}, "Date of service", "in the future"),
        ({"date_text": "2026-02-30"}, "Date of service", "not a real date"),
        ({"session_type": "group_treatment"}, "Patients", "2 or more"),
        ({"session_type": "evaluation"}, "Evaluation of", "choose what the evaluation assesses"),
        ({"clinician_id": None}, "Clinician", "Settings"),
    ],
)
def test_starting_a_session_refuses_bad_input_naming_the_field(flow_store, changes, field, wording):
    store, flow = flow_store
    with pytest.raises(ValidationFailed) as raised:
        _start(store, flow, **changes)
    fields = dict(raised.value.problems)
    assert field in fields and wording in fields[field]


def test_signing_is_refused_with_every_missing_element_listed(flow_store):
    store, flow = flow_store
    (participant_id,) = _start(store, flow)
    problems = flow.sign_check(participant_id).problems
    assert any("No time is recorded" in p for p in problems)
    assert any("No intervention" in p for p in problems)
    assert any("No goal was addressed" in p for p in problems)
    assert any("note is empty" in p for p in problems)
    with pytest.raises(ValidationFailed):
        flow.sign(participant_id)
    assert not store.sessions.detail(participant_id).signed


def test_time_entered_by_hand_and_minutes_corrected_with_a_reason(flow_store):
    store, flow = flow_store
    (participant_id,) = _start(store, flow)
    session_id = store.sessions.detail(participant_id).session.id
    start = datetime(2026, 11, 2, 16, 0, tzinfo=timezone.utc)
    flow.apply_time_edit(session_id, TimeEdit(start=start, stop=start + timedelta(minutes=40), area="speech_sound"))
    assert flow.timer_status(session_id).minutes_by_area == {"speech_sound": 40}
    flow.apply_time_edit(session_id, TimeEdit(corrections={"speech_sound": 25, "language": 15},
                                              reason="split between the two goals"))
    assert flow.timer_status(session_id).minutes_by_area == {"speech_sound": 25, "language": 15}
    assert "15 minutes" not in flow.draft_objective(participant_id)
    assert "40 minutes total (speech sound 25, language 15)" in flow.draft_objective(participant_id)


def test_a_sleeping_laptop_does_not_count_twice(flow_store, clock):
    store, flow = flow_store
    (participant_id,) = _start(store, flow)
    session_id = store.sessions.detail(participant_id).session.id
    flow.toggle_timer(session_id)
    clock.advance(minutes=10)
    store.sessions.heartbeat(session_id, clock.now())
    clock.advance(hours=2)  # lid closed
    assert flow.timer_status(session_id).elapsed_seconds == 600
    assert flow.suspend_if_stale(session_id) == 120
    status = flow.timer_status(session_id)
    assert not status.running and status.minutes_by_area == {"speech_sound": 10}


async def test_group_session_keeps_a_note_per_patient(clinic_dir, clock):
    store = open_store(clinic_dir)
    for first in ("Juniper", "Pip"):
        store.patients.create(first_name=first, last_name="Groupwell")
    store.close()
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        await pilot.press(*"quill")
        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(app.screen, NewSessionScreen)
        await pilot.press("ctrl+g", *"juniper", "enter")
        await pilot.press(*"pip", "enter")
        await pilot.pause()
        assert [name for _, name in app.screen.patients] == [
            "Quillfeather, Milo", "Groupwell, Juniper", "Groupwell, Pip"]
        await pilot.press("ctrl+s")
        await settle_app(app, pilot)
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        names = []
        for index in range(3):
            names.append(screen.sub_title)
            await pilot.press("f9", *f"note {index}")
            await pilot.pause(0.7)
            await pilot.press("f11")
            await settle_app(app, pilot)
        assert names == ["Quillfeather, Milo", "Groupwell, Juniper", "Groupwell, Pip"]
    store = open_store(clinic_dir)
    drafts = store.sessions.unsigned_drafts()
    notes = sorted(store.sessions.detail(participant.id).note.subjective for participant, _ in drafts)
    assert notes == ["note 0", "note 1", "note 2"]
    assert {therapy_session.session_type for _, therapy_session in drafts} == {"group_treatment"}
    store.close()


async def test_signed_note_is_locked_and_takes_addenda(clinic_dir, clock):
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        await pilot.press("f3")
        await pilot.pause()
        await pilot.press("enter")
        await settle_app(app, pilot)
        screen = app.screen
        await pilot.press("ctrl+t", "c", "c")
        clock.advance(minutes=25)
        await pilot.press("ctrl+e", "f8", "space", "ctrl+d")
        await pilot.pause()
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert isinstance(app.screen, SignScreen)
        await pilot.press("ctrl+y")  # the note's empty sections are asked about; signed as it is
        await settle_app(app, pilot)
        assert screen.view.signed
        await pilot.press("f7", "c")
        await pilot.pause()
        assert screen.view.goal_lines[0].total == 2
        assert screen.query_one("#note-objective").read_only
        await pilot.press("f10")
        await pilot.pause()
        assert isinstance(app.screen, AddendumScreen)
        await pilot.press(*"Mother reports carryover at home.", "ctrl+s")
        await settle_app(app, pilot)
        assert "Mother reports carryover at home." in str(screen.query_one("#addenda").render())
    store = open_store(clinic_dir)
    (participant, _), = store.sessions.for_patient(store.caseload.rows()[0].patient_id)
    detail = store.sessions.detail(participant.id)
    assert detail.signed and [a.text for a in detail.addenda] == ["Mother reports carryover at home."]
    store.close()

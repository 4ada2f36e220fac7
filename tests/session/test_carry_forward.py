"""Carry-forward: a follow-up session started from the last signed one.

The keystroke counts of an ordinary follow-up visit (start, the same two goals with 20 tallies,
note, sign) are measured here through the real app, with and without carry-forward; the README
quotes them.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from slpterm.services.carry_forward import apply, last_signed
from slpterm.services.session_flow import SessionFlow
from slpterm.store import open_store
from slpterm.ui.app import build_app

README = Path(__file__).resolve().parents[2] / "README.md"
TRIALS_GOAL_1 = list("cccccccccx")
TRIALS_GOAL_2 = list("ccccccccxn")
LAST_PLAN = "Continue the plan of care 2x/week; fade cues on wh- questions."
LAST_TECHNIQUES = ("ss.minimal_pairs", "ss.auditory_bombardment", "lang.modeling")
# Measured below; the README quotes both.
KEYS_WITHOUT_CARRY_FORWARD = 29
KEYS_WITH_CARRY_FORWARD = 19


def _last_session(clinic_dir) -> dict[str, str]:
    """Last week's signed session: both goals worked on (the second at minimal cues), three
    techniques, a Plan. Returns the goal ids by rank."""
    store = open_store(clinic_dir)
    patient_id = store.caseload.rows()[0].patient_id
    clinician_id = store.clinic.clinicians()[0].id
    chart = store.patients.chart(patient_id)
    first, second = chart.goals_by_plan[chart.plans[0].id]
    therapy_session, (participant,) = store.sessions.create(
        date_of_service=date(2026, 10, 26), session_type="individual_treatment", setting="office",
        patient_ids=[patient_id], clinician_id=clinician_id)
    start = datetime(2026, 10, 26, 16, 0, tzinfo=timezone.utc)
    store.sessions.set_manual_time(therapy_session.id, "speech_sound", start, start + timedelta(minutes=30))
    for technique_id in LAST_TECHNIQUES:
        store.sessions.toggle_technique(participant.id, technique_id)
    for result in ("correct", "incorrect", "incorrect", "correct"):
        store.sessions.record_trial(participant.id, first.id, result, "independent")
    for result in ("correct", "incorrect", "correct"):
        store.sessions.record_trial(participant.id, second.id, result, "moderate")
    store.sessions.record_trial(participant.id, second.id, "correct", "minimal")
    store.sessions.save_note(participant.id, subjective="Came in tired.", objective="2/4 trials",
                             assessment="Emerging.", plan=LAST_PLAN)
    store.sessions.sign(participant.id, clinician_id)
    store.close()
    return {"first": first.id, "second": second.id}


def test_the_last_signed_session_offers_goals_techniques_cues_and_plan(clinic_dir, clock):
    goals = _last_session(clinic_dir)
    store = open_store(clinic_dir)
    try:
        patient_id = store.caseload.rows()[0].patient_id
        offer = last_signed(store, patient_id)
        assert offer is not None
        assert offer.day == date(2026, 10, 26)
        assert set(offer.goal_ids) == {goals["first"], goals["second"]}
        assert set(offer.technique_ids) == set(LAST_TECHNIQUES)
        assert offer.cue_levels == {goals["first"]: "independent", goals["second"]: "minimal"}
        assert offer.plan == LAST_PLAN
        assert offer.summary == "2026-10-26: 2 goals (cues ind, min), 3 techniques, Plan"
        flow = SessionFlow(store, clock)
        assert flow.start_choices(patient_id).carry_forward == offer
    finally:
        store.close()


def test_an_unsigned_draft_is_never_the_starting_point_and_a_new_patient_has_none(clinic_dir, clock):
    store = open_store(clinic_dir)
    try:
        patient_id = store.caseload.rows()[0].patient_id
        flow = SessionFlow(store, clock)
        assert flow.start_choices(patient_id).carry_forward is None
        (participant_id,) = flow.start(patient_ids=[patient_id], session_type="individual_treatment",
                                       setting="office", date_text="2026-11-02",
                                       clinician_id=store.clinic.clinicians()[0].id, evaluation_kind=None)
        flow.save_note(participant_id, plan="Draft plan, not signed.")
        assert last_signed(store, patient_id) is None
    finally:
        store.close()


def test_carrying_forward_fills_the_draft_but_never_the_objective_or_a_signature(clinic_dir, clock):
    goals = _last_session(clinic_dir)
    store = open_store(clinic_dir)
    try:
        patient_id = store.caseload.rows()[0].patient_id
        flow = SessionFlow(store, clock)
        offer = flow.start_choices(patient_id).carry_forward
        assert offer is not None
        (participant_id,) = flow.start(patient_ids=[patient_id], session_type="individual_treatment",
                                       setting="office", date_text="2026-11-02",
                                       clinician_id=store.clinic.clinicians()[0].id, evaluation_kind=None)
        carried = flow.carry_forward(participant_id, offer)
        assert carried.plan and carried.left_out_goals == 0
        assert carried.cue_levels == {goals["first"]: "independent", goals["second"]: "minimal"}
        detail = store.sessions.detail(participant_id)
        assert not detail.signed
        assert set(detail.goal_ids) == {goals["first"], goals["second"]}
        assert set(detail.techniques) == set(LAST_TECHNIQUES)
        assert detail.note.plan == LAST_PLAN
        assert detail.note.objective == "" and detail.note.subjective == "" and detail.note.assessment == ""
        assert [t for t in detail.trials] == []
        store.sessions.record_trial(participant_id, goals["first"], "correct", "independent")
        objective = flow.draft_objective(participant_id)
        assert "1/1" in objective and "2/4" not in objective and "4/4" not in objective
        # Everything stays editable: a technique unticked, the Plan rewritten.
        assert flow.toggle_technique(participant_id, LAST_TECHNIQUES[0]) is False
        flow.save_note(participant_id, plan="New plan.")
        assert store.sessions.detail(participant_id).note.plan == "New plan."
        # Applying again keeps what the draft has (the Plan written is not replaced).
        again = apply(store, participant_id, offer, {goals["first"], goals["second"]})
        assert not again.plan
        assert store.sessions.detail(participant_id).note.plan == "New plan."
    finally:
        store.close()


def test_goals_no_longer_on_the_plan_are_left_out(clinic_dir, clock):
    goals = _last_session(clinic_dir)
    store = open_store(clinic_dir)
    try:
        patient_id = store.caseload.rows()[0].patient_id
        offer = last_signed(store, patient_id)
        assert offer is not None
        (participant_id,) = SessionFlow(store, clock).start(
            patient_ids=[patient_id], session_type="individual_treatment", setting="office", date_text="2026-11-02",
            clinician_id=store.clinic.clinicians()[0].id, evaluation_kind=None)
        carried = apply(store, participant_id, offer, {goals["second"]})
        assert carried.goal_ids == (goals["second"],) and carried.left_out_goals == 1
        assert store.sessions.detail(participant_id).goal_ids == [goals["second"]]
    finally:
        store.close()


async def _follow_up_visit(clinic_dir, clock, *, carry_forward: bool) -> list[str]:
    """Drive the app from the caseload to a signed note; returns the keys counted (trials aside)."""
    app = build_app(clinic_dir, clock=clock)
    counted: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()

        async def press(*keys: str) -> None:
            counted.extend(keys)
            for key in keys:
                await pilot.press(key)
                await pilot.pause()

        await press(*"quil", "f3")  # find the patient, open the start dialog
        await press("f3" if carry_forward else "enter")  # start from the last session, or blank
        await press("ctrl+t")  # timer on
        await pilot.press(*TRIALS_GOAL_1)
        if carry_forward:
            await press("down")  # the next goal starts at the minimal cues it ended on last time
        else:
            await press("2", "down")  # minimal cues, next goal
        await pilot.press(*TRIALS_GOAL_2)
        clock.advance(minutes=32)
        await press("ctrl+e")  # timer off
        if not carry_forward:
            await press("f8", "space", "down", "space", "down", "space")  # three techniques
        await press("ctrl+d")  # Objective drafted from today's tallies
        await press("f9", "ctrl+r", "enter")  # Subjective from a phrase
        await press("tab", "tab", "ctrl+r", "enter")  # Assessment from a phrase
        if not carry_forward:
            await press("tab", "ctrl+r", "enter")  # Plan from a phrase
        await press("ctrl+g", "enter")  # sign
        await app.workers.wait_for_complete()
        await pilot.pause()
    return counted


def _signed_follow_up(clinic_dir):
    store = open_store(clinic_dir)
    (participant, _), _last = store.sessions.for_patient(store.caseload.rows()[0].patient_id)
    detail = store.sessions.detail(participant.id)
    store.close()
    return detail


async def test_a_follow_up_visit_from_the_last_session_takes_fewer_keystrokes(clinic_dir, clock):
    goals = _last_session(clinic_dir)
    counted = await _follow_up_visit(clinic_dir, clock, carry_forward=True)
    assert len(counted) == KEYS_WITH_CARRY_FORWARD, counted

    detail = _signed_follow_up(clinic_dir)
    assert detail.signed and detail.session.date_of_service == date(2026, 11, 2)
    assert set(detail.techniques) == set(LAST_TECHNIQUES)
    assert set(detail.goal_ids) == {goals["first"], goals["second"]}
    live = [t for t in detail.trials if t.voided_at is None]
    assert len(live) == 20
    assert {t.cue_level for t in live if t.goal_id == goals["first"]} == {"independent"}
    assert {t.cue_level for t in live if t.goal_id == goals["second"]} == {"minimal"}
    note = detail.note
    assert note.plan == LAST_PLAN
    assert "9/10 trials (90%) independently" in note.objective and "8/10" in note.objective
    assert "2/4" not in note.objective and "32 minutes total" in note.objective
    assert note.subjective.strip() and note.assessment.strip()


async def test_a_follow_up_visit_started_blank_takes_todays_keystrokes(clinic_dir, clock):
    _last_session(clinic_dir)
    counted = await _follow_up_visit(clinic_dir, clock, carry_forward=False)
    assert len(counted) == KEYS_WITHOUT_CARRY_FORWARD, counted

    detail = _signed_follow_up(clinic_dir)
    assert detail.signed
    assert len(detail.techniques) == 3
    assert len([t for t in detail.trials if t.voided_at is None]) == 20
    assert detail.note.plan != LAST_PLAN and "2x/week" in detail.note.plan


def test_the_readme_quotes_the_measured_counts():
    text = README.read_text(encoding="utf-8")
    assert f"takes {KEYS_WITHOUT_CARRY_FORWARD} keystrokes besides the trials" in text
    assert re.search(rf"\b{KEYS_WITH_CARRY_FORWARD} keystrokes\b", text)

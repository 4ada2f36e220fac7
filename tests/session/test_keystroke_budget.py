"""From the caseload to a signed note in at most 40 keystrokes besides the trials themselves.

The sequence is the one documented in the README.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from slpterm.store import open_store
from slpterm.ui.app import build_app

BUDGET = 40
TRIALS_GOAL_1 = list("cccccccccx")
TRIALS_GOAL_2 = list("ccccccccxn")


def _last_weeks_session(clinic_dir) -> None:
    """An ordinary session follows earlier ones; its phrases compare with the last one."""
    store = open_store(clinic_dir)
    patient_id = store.caseload.rows()[0].patient_id
    clinician_id = store.clinic.clinicians()[0].id
    chart = store.patients.chart(patient_id)
    goal = chart.goals_by_plan[chart.plans[0].id][0]
    therapy_session, (participant,) = store.sessions.create(
        date_of_service=date(2026, 10, 26), session_type="individual_treatment", setting="office",
        patient_ids=[patient_id], clinician_id=clinician_id)
    start = datetime(2026, 10, 26, 16, 0, tzinfo=timezone.utc)
    store.sessions.set_manual_time(therapy_session.id, "speech_sound", start, start + timedelta(minutes=30))
    store.sessions.toggle_technique(participant.id, "ss.minimal_pairs")
    for result in ("correct", "incorrect", "incorrect", "correct"):
        store.sessions.record_trial(participant.id, goal.id, result, "minimal")
    store.sessions.save_note(participant.id, objective="2/4 trials")
    store.sessions.sign(participant.id, clinician_id)
    store.close()


async def test_ordinary_individual_session_fits_the_keystroke_budget(clinic_dir, clock):
    _last_weeks_session(clinic_dir)
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

        await press(*"quil", "f3", "enter")  # find the patient, start the session
        await press("ctrl+t")  # timer on
        await pilot.press(*TRIALS_GOAL_1)
        await press("2", "down")  # minimal cues, next goal
        await pilot.press(*TRIALS_GOAL_2)
        clock.advance(minutes=32)
        await press("ctrl+e")  # timer off
        await press("f8", "space", "down", "space", "down", "space")  # three techniques
        await press("ctrl+d")  # Objective drafted from the tallies
        await press("f9", "ctrl+r", "enter")  # Subjective from a phrase
        await press("tab", "tab", "ctrl+r", "enter")  # Assessment from a phrase
        await press("tab", "ctrl+r", "enter")  # Plan from a phrase
        await press("ctrl+g", "enter")  # sign
        await app.workers.wait_for_complete()
        await pilot.pause()

    assert len(counted) <= BUDGET, f"{len(counted)} keystrokes: {counted}"
    store = open_store(clinic_dir)
    (participant, _), _earlier = store.sessions.for_patient(store.caseload.rows()[0].patient_id)
    detail = store.sessions.detail(participant.id)
    assert detail.signed
    assert len(detail.techniques) == 3
    assert len([t for t in detail.trials if t.voided_at is None]) == 20
    note = detail.note
    assert all(text.strip() for text in (note.subjective, note.objective, note.assessment, note.plan))
    assert "9/10 trials (90%) independently" in note.objective
    assert "32 minutes total" in note.objective
    assert "Milo" in note.subjective and "from 50% to 85%" in note.assessment and "2x/week" in note.plan
    assert "{" not in note.subjective + note.assessment + note.plan
    store.close()

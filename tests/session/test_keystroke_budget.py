"""From the caseload to a signed note in at most 40 keystrokes besides the trials themselves.

The sequence is the one documented in the README.
"""

from __future__ import annotations

from slpterm.store import open_store
from slpterm.ui.app import build_app

BUDGET = 40
TRIALS_GOAL_1 = list("cccccccccx")
TRIALS_GOAL_2 = list("ccccccccxn")


async def test_ordinary_individual_session_fits_the_keystroke_budget(clinic_dir, clock):
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
    (participant, _), = store.sessions.for_patient(store.caseload.rows()[0].patient_id)
    detail = store.sessions.detail(participant.id)
    assert detail.signed
    assert len(detail.techniques) == 3
    assert len([t for t in detail.trials if t.voided_at is None]) == 20
    note = detail.note
    assert all(text.strip() for text in (note.subjective, note.objective, note.assessment, note.plan))
    assert "9/10 trials (90%) independently" in note.objective
    assert "32 minutes total" in note.objective
    store.close()

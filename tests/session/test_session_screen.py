"""A whole session from the keyboard: start, timer, techniques, tallies, note, sign."""

from __future__ import annotations

from slpterm.store import open_store
from slpterm.ui.app import build_app
from slpterm.ui.screens.caseload import CaseloadScreen
from slpterm.ui.screens.session import SessionScreen
from slpterm.ui.screens.session_dialogs import SignScreen
from conftest import settle_app

SIZE = (120, 40)




async def test_whole_session_from_the_keyboard(clinic_dir, clock):
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        assert isinstance(app.screen, CaseloadScreen)
        await pilot.press("f3")
        await pilot.pause()
        await pilot.press("enter")
        await settle_app(app, pilot)
        screen = app.screen
        assert isinstance(screen, SessionScreen)

        await pilot.press("ctrl+t")
        clock.advance(minutes=1)
        for key in "ccxc":
            await pilot.press(key)
        await pilot.press("2", "c", "n")
        await pilot.press("down", "c", "c", "x")
        clock.advance(minutes=30)
        await pilot.press("ctrl+e")
        await pilot.press("f8", "space", "down", "space")
        await pilot.pause()
        await pilot.press("ctrl+d")
        await pilot.pause()
        objective = screen.query_one("#note-objective").text
        assert "Goal 1, /r/ initial position, word level: 4/6 trials (67%)" in objective
        assert "Goal 2, Answers wh- questions: 2/3 trials (67%) with minimal cues" in objective
        assert "31 minutes total" in objective
        await pilot.press("f9", *"Happy to come today.")
        await pilot.pause(0.7)
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert isinstance(app.screen, SignScreen)
        await pilot.press("ctrl+y")  # the note's empty sections are asked about; signed as it is
        await settle_app(app, pilot)
        assert app.screen is screen
        assert screen.view.signed

    store = open_store(clinic_dir)
    (participant, _), = store.sessions.for_patient(store.caseload.rows()[0].patient_id)
    detail = store.sessions.detail(participant.id)
    assert detail.signed
    assert len(detail.techniques) == 2
    assert [(t.result, t.cue_level) for t in detail.trials if t.voided_at is None] == [
        ("correct", "independent"), ("correct", "independent"), ("incorrect", "independent"),
        ("correct", "independent"), ("correct", "minimal"), ("no_response", "minimal"),
        ("correct", "minimal"), ("correct", "minimal"), ("incorrect", "minimal")]
    assert detail.note.subjective == "Happy to come today."
    assert detail.note.objective == objective
    store.close()

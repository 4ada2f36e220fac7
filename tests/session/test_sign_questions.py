"""Signing asks about what looks like a slip: empty sections, a phrase twice, tallied goals not
marked worked on, an implausibly short time. Enter goes back to the note; ctrl+y signs as it is."""

from __future__ import annotations

from slpterm.clinical.note_check import TalliedGoal, note_questions
from slpterm.store import open_store
from slpterm.ui.app import build_app
from slpterm.ui.screens.session import SessionScreen
from slpterm.ui.screens.session_dialogs import SignScreen
from conftest import settle_app, type_burst

SIZE = (120, 40)
FULL = {"subjective": "Came happily.", "objective": "Produced /r/ in 8 of 10 words.",
        "assessment": "Progressing.", "plan": "Continue twice weekly."}


def test_a_complete_note_raises_no_question():
    assert note_questions(FULL, [TalliedGoal("/r/ words", 10, True)], minutes=30, treatment=True) == []


def test_each_slip_is_one_question_naming_the_fix():
    sections = dict(FULL, assessment="", plan="",
                    objective="Produced /r/ in 8 of 10 words. Produced /r/ in 8 of 10 words.")
    questions = note_questions(sections, [TalliedGoal("/r/ words", 10, False), TalliedGoal("wh- questions", 0, False)],
                               minutes=3, treatment=True)
    assert questions == [
        "The Assessment is empty: sign without it? (F9, Tab to reach it)",
        "The Plan is empty: sign without it? (F9, Tab to reach it)",
        "The Objective says “Produced /r/ in 8 of 10 words.” twice: keep both?",
        "Goal “/r/ words” has 10 tallied trials but is not marked worked on (F7, space marks it).",
        "Only 3 minutes of treatment is recorded: is that the whole session? (ctrl+k enters the times by hand)",
    ]
    # An evaluation is not timed treatment: its length is not questioned.
    assert not any("minute" in q for q in note_questions(FULL, [], minutes=3, treatment=False))


async def test_the_sign_dialog_asks_and_enter_goes_back_to_the_note(clinic_dir, clock):
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        # space unmarks the tallied goal; the second goal is marked without a trial
        await type_burst(app, ["f3", "enter", "ctrl+t", "c", "c", "space", "down", "space"])
        clock.advance(minutes=3)
        await type_burst(app, ["ctrl+e", "f8", "space", "f9", *"Came happily.", "ctrl+g"])
        await settle_app(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, SignScreen)
        asked = str(dialog.query_one("#sign-questions").render())
        assert "The Objective is empty" in asked and "The Plan is empty" in asked
        assert "has 2 tallied trials but is not marked worked on" in asked
        assert "Only 3 minutes" in asked
        assert "Claim lines:" in str(dialog.query_one(".coding").render())  # with the scrubber's findings
        await type_burst(app, ["enter"])
        await settle_app(app, pilot)
        screen = app.screen
        assert isinstance(screen, SessionScreen) and not screen.view.signed
        await type_burst(app, ["ctrl+g", "ctrl+y"])
        await settle_app(app, pilot)
        assert screen.view.signed
    store = open_store(clinic_dir)
    (participant, _), = store.sessions.for_patient(store.caseload.rows()[0].patient_id)
    assert store.sessions.detail(participant.id).signed
    store.close()

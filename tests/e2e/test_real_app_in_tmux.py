"""The real slpterm command in a real terminal (tmux): it starts, shows the caseload, and a
session killed with SIGKILL mid-way comes back with its tallies and note text."""

from __future__ import annotations

import os
import signal
import time

import pytest
from tmux_terminal import Terminal, needs_tmux, slpterm_terminal

from slpterm.store import open_store

pytestmark = needs_tmux


@pytest.fixture
def terminal():
    opened: list[Terminal] = []

    def start(*args: str):  # noqa: ANN202
        term = slpterm_terminal(*args)
        opened.append(term)
        return term

    yield start
    for term in opened:
        term.close()


def test_demo_opens_on_the_caseload(terminal):
    term = terminal("--demo")
    screen = term.wait_for("patients", timeout=60)
    assert "Patient" in screen and "Payer" in screen
    term.keys("C-q")


def test_a_killed_session_comes_back_with_its_tallies_and_note(terminal, clinic_dir):
    term = terminal("--data-dir", str(clinic_dir))
    term.wait_for("Quillfeather")
    term.press_until("F3", "Start a session")
    term.keys("Enter")
    term.wait_for("Goals F7")
    term.keys("C-t", "c", "c", "x", "2", "c")
    term.wait_for("3/4")
    term.keys("F9")
    term.keys("Kept working after the fire drill.", pause=0.05)
    term.wait_for("fire drill.")
    term.wait_gone("unsaved")  # the app says the text is stored: a kill now must not lose it
    os.kill(term.pid(), signal.SIGKILL)
    time.sleep(0.5)

    store = open_store(clinic_dir)
    (participant, therapy_session), = store.sessions.unsigned_drafts()
    detail = store.sessions.detail(participant.id)
    assert [(t.result, t.cue_level) for t in detail.trials if t.voided_at is None] == [
        ("correct", "independent"), ("correct", "independent"), ("incorrect", "independent"),
        ("correct", "minimal")]
    assert detail.note.subjective == "Kept working after the fire drill."
    assert detail.segments and detail.segments[0].ended_at is None  # the timer was running
    store.close()

    again = terminal("--data-dir", str(clinic_dir))
    again.wait_for("Quillfeather")
    again.press_until("F3", "resume an unsigned draft")
    again.keys("C-o", "Enter")
    screen = again.wait_for("3/4")
    assert "Kept working after the fire drill." in screen
    assert "running" in screen
    again.keys("C-q")

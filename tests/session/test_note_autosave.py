"""Note text is saved while it is typed: at most about a second behind steady typing, and at once when
the note loses focus, another screen covers it or the app quits. The section title says "unsaved"
exactly while text waits to be stored."""

from __future__ import annotations

import asyncio
import time

from textual.widgets import Label

from slpterm.store import open_store
from slpterm.ui.app import build_app
from slpterm.ui.screens import session as session_screen
from slpterm.ui.screens.session import AUTOSAVE_MAX_WAIT_SECONDS, UNSAVED_MARK, SessionScreen
from conftest import settle_app

SIZE = (120, 40)


async def _session(app, pilot) -> SessionScreen:  # noqa: ANN001
    await settle_app(app, pilot)
    await pilot.press("f3")
    await pilot.pause()
    await pilot.press("enter")
    await settle_app(app, pilot)
    assert isinstance(app.screen, SessionScreen)
    await pilot.press("f9")
    return app.screen


def _stored(app, screen) -> str:  # noqa: ANN001
    return app.store.sessions.detail(screen.participant_id).note.subjective


def _title(screen) -> str:  # noqa: ANN001
    return str(screen.query_one("#note-title-subjective", Label).render())


async def test_steady_typing_is_saved_while_it_goes_on(clinic_dir, clock):
    """Keys come faster than the idle wait, so only the at-most-a-second rule can save mid-typing.
    How far behind it runs on a busy machine is the bench's business, not an assertion here."""
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _session(app, pilot)
        typed = ""
        saved_while_typing = False
        started = time.monotonic()
        while time.monotonic() - started < 3 * AUTOSAVE_MAX_WAIT_SECONDS:
            key = "abcdefghij"[len(typed) % 10]
            await pilot.press(key)
            typed += key
            stored = _stored(app, screen)
            assert typed.startswith(stored)
            saved_while_typing = saved_while_typing or 0 < len(stored) < len(typed)
            if stored != typed:
                assert UNSAVED_MARK.strip() in _title(screen)
            await asyncio.sleep(0.08)
        assert saved_while_typing
        await pilot.pause(AUTOSAVE_MAX_WAIT_SECONDS + 0.3)
        assert _stored(app, screen) == typed
        assert UNSAVED_MARK.strip() not in _title(screen)


async def test_leaving_the_note_saves_it_at_once(clinic_dir, clock, monkeypatch):
    # The timers are pushed out of the test's reach: whatever is stored here was saved by leaving.
    monkeypatch.setattr(session_screen, "AUTOSAVE_SECONDS", 600.0)
    monkeypatch.setattr(session_screen, "AUTOSAVE_MAX_WAIT_SECONDS", 600.0)
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _session(app, pilot)
        await pilot.press(*"Tired")
        await pilot.pause()
        assert UNSAVED_MARK.strip() in _title(screen) and _stored(app, screen) == ""
        await pilot.press("tab")  # focus goes to the next section
        await pilot.pause()
        assert _stored(app, screen) == "Tired"
        assert UNSAVED_MARK.strip() not in _title(screen)
        await pilot.press("shift+tab", *" today", "f1")  # help covers the session screen
        await pilot.pause()
        assert _stored(app, screen) == "Tired today"


async def test_quitting_saves_what_waits(clinic_dir, clock):
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _session(app, pilot)
        participant_id = screen.participant_id
        await pilot.press(*"Last words", "ctrl+q")
        await pilot.pause()
    store = open_store(clinic_dir)
    try:
        assert store.sessions.detail(participant_id).note.subjective == "Last words"
    finally:
        store.close()

"""The lock against whoever holds the laptop: every key, binding and command tried over it leaves it
locked; PIN attempts are limited and each failure is in the audit trail at once; quitting from
the lock saves what was typed; nothing of a patient shows while it is up."""

from __future__ import annotations

import json

import pytest

from slpterm.store import open_store
from slpterm.store.crypto import encryption_available
from slpterm.store.security import FAILED_UNLOCKS_FILE_NAME, PIN_ATTEMPTS
from slpterm.ui.app import build_app
from slpterm.ui.screens.security import LockScreen, UnlockScreen
from slpterm.ui.screens.session import SessionScreen
from conftest import settle_app

PIN = "2468"
PASSPHRASE = "blue heron at dawn"
SIZE = (120, 40)
needs_sqlcipher = pytest.mark.skipif(not encryption_available(), reason="sqlcipher3 is not installed")


def _protect(data_dir, *, passphrase: str | None = None) -> None:
    store = open_store(data_dir)
    store.security.set_pin(PIN)
    if passphrase:
        store.security.set_passphrase(passphrase)
    store.close()


def _audit(data_dir, passphrase: str | None = None) -> list[str]:
    store = open_store(data_dir, passphrase)
    try:
        return [entry.action for entry in store.security.audit_entries(limit=10_000)]
    finally:
        store.close()


async def _open_session(app, pilot) -> SessionScreen:
    await settle_app(app, pilot)
    await pilot.press("f3")
    await pilot.pause()
    await pilot.press("enter")
    await settle_app(app, pilot)
    assert isinstance(app.screen, SessionScreen)
    return app.screen


def _every_key_bound(app) -> list[str]:
    """Each key bound anywhere in the app: the app, every screen on the stack and their widgets."""
    keys = set(app._bindings.key_to_bindings)
    for screen in app.screen_stack:
        for node in [screen, *screen.walk_children()]:
            keys.update(node._bindings.key_to_bindings)
    keys.update(["ctrl+p", "escape", "tab", "shift+tab", "ctrl+c", *(f"f{n}" for n in range(1, 13))])
    keys.discard("ctrl+q")  # the lock's own: save and quit (tested below)
    return sorted(keys)


async def test_every_binding_and_palette_command_over_the_lock_leaves_it_locked(clinic_dir, clock):
    _protect(clinic_dir)
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        session_screen = await _open_session(app, pilot)
        await pilot.press("f9", *"Half-typed thought")
        await settle_app(app, pilot)
        commands = list(app.get_system_commands(app.screen))
        assert commands
        keys = _every_key_bound(app)
        await pilot.press("ctrl+l")
        await settle_app(app, pilot)
        lock = app.screen
        assert isinstance(lock, LockScreen) and app.is_locked
        stack = list(app.screen_stack)
        before = _audit(clinic_dir)

        def still_locked(tried: str) -> None:
            assert app.screen is lock and list(app.screen_stack) == stack, f"{tried} changed the screens"
            assert app.is_locked, tried

        for key in keys:
            lock.query_one("#lock-secret").value = ""  # an empty field: Enter submits nothing
            await pilot.press(key)
            await settle_app(app, pilot)
            still_locked(key)
        assert list(app.get_system_commands(app.screen)) == []
        for command in commands:  # chosen in a palette opened before the lock
            command.callback()
            await settle_app(app, pilot)
            still_locked(command.title)
        for bindings in app._bindings.key_to_bindings.values():
            for binding in bindings:
                assert not await app.run_action(binding.action, app), binding.action
                still_locked(binding.action)

        assert app.sub_title == "locked"
        # Nothing was done underneath: only the lock itself is in the trail since it came up.
        assert [action for action in _audit(clinic_dir) if action not in before] == []
        assert len(_audit(clinic_dir)) == len(before)

        lock.query_one("#lock-secret").value = ""
        await pilot.press(*PIN, "enter")
        await settle_app(app, pilot)
        assert app.screen is session_screen and not app.is_locked
        assert session_screen.query_one("#note-subjective").text == "Half-typed thought"


async def test_the_start_up_passphrase_prompt_refuses_the_palette_too(tmp_path):
    if not encryption_available():
        pytest.skip("sqlcipher3 is not installed")
    data_dir = tmp_path / "data"
    store = open_store(data_dir)
    store.patients.create(first_name="Milo", last_name="Quillfeather", external_id="P-1")
    store.security.set_passphrase(PASSPHRASE)
    store.close()
    app = build_app(data_dir)
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        prompt = app.screen
        assert isinstance(prompt, UnlockScreen) and app.is_locked
        for key in ("ctrl+p", "f2", "f4", "f12", "ctrl+l", "ctrl+b", "escape"):
            await pilot.press(key)
            await settle_app(app, pilot)
            assert app.screen is prompt, key

        await pilot.press(*"wrong passphrase", "enter")
        await settle_app(app, pilot)
        assert app.screen is prompt
        # Noted at once, although the encrypted file cannot be written without the passphrase.
        (noted,) = (data_dir / FAILED_UNLOCKS_FILE_NAME).read_text().splitlines()
        assert json.loads(noted)["where"] == "app"
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code in (0, None)

    store = open_store(data_dir, PASSPHRASE)
    assert store.security.collect_start_failures() == 1
    failed = store.security.audit_entries("unlock-failed", limit=5)
    assert len(failed) == 1 and "wrong_passphrase_at_start" in failed[0].detail
    assert not (data_dir / FAILED_UNLOCKS_FILE_NAME).exists()
    store.close()


@needs_sqlcipher
async def test_after_five_wrong_pins_only_the_passphrase_unlocks_and_each_failure_is_audited_at_once(clinic_dir,
                                                                                                   clock):
    _protect(clinic_dir, passphrase=PASSPHRASE)
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        app.screen.query_one("#unlock-passphrase").value = PASSPHRASE
        await pilot.press("enter")
        await settle_app(app, pilot)
        await pilot.press("escape")
        await pilot.press("ctrl+l")
        await settle_app(app, pilot)
        lock = app.screen
        assert isinstance(lock, LockScreen)
        for attempt in range(1, PIN_ATTEMPTS + 1):
            await pilot.press(*"1111", "enter")
            await settle_app(app, pilot)
            assert app.screen is lock
            assert _audit(clinic_dir, PASSPHRASE).count("unlock-failed") == attempt  # on disk before the next try
        problem = str(lock.query_one("#lock-problem").render())
        assert "the PIN no longer unlocks" in problem
        await pilot.press(*PIN, "enter")  # the right PIN, too late
        await settle_app(app, pilot)
        assert app.screen is lock and app.is_locked
        await pilot.press(*PASSPHRASE, "enter")
        await settle_app(app, pilot)
        assert not app.is_locked and not isinstance(app.screen, LockScreen)
    actions = _audit(clinic_dir, PASSPHRASE)
    assert actions.count("unlock-failed") == PIN_ATTEMPTS + 1 and actions.count("pin-locked-out") == 1


async def test_ctrl_q_on_the_lock_saves_the_half_typed_note_and_quits(clinic_dir, clock):
    _protect(clinic_dir)
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        session_screen = await _open_session(app, pilot)
        participant_id = session_screen.participant_id
        await pilot.press("f9", *"Said /r/ in 8 of 10 words")
        await pilot.press("ctrl+l")  # at once: the note's autosave has not run yet
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)
        await pilot.press("ctrl+q")
        await pilot.pause()
    store = open_store(clinic_dir)
    assert store.sessions.detail(participant_id).note.subjective == "Said /r/ in 8 of 10 words"
    store.close()


async def test_nothing_of_a_patient_shows_while_locked(clinic_dir, clock):
    _protect(clinic_dir)
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        await pilot.press("enter")  # the chart of Milo Quillfeather
        await settle_app(app, pilot)
        assert "Quillfeather" in app.export_screenshot()
        await pilot.press("ctrl+l")
        await settle_app(app, pilot)
        app.notify("Backup of Quillfeather, Milo written")  # e.g. a worker finishing underneath
        await settle_app(app, pilot)
        shown = app.export_screenshot()
        assert "Quillfeather" not in shown and "Milo" not in shown
        assert (app.title, app.sub_title) == ("slpterm", "locked")
        await pilot.press(*PIN, "enter")
        await settle_app(app, pilot)
        assert not app.is_locked
        assert any("Quillfeather" in notification.message for notification in app._notifications)

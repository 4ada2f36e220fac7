"""The Security screen (F12): the PIN and the encryption change only with the current passphrase,
and backups made before encryption are offered for encryption or deletion."""

from __future__ import annotations

import pytest

from slpterm.store import open_store
from slpterm.store.backup import backup_store
from slpterm.store.crypto import encryption_available, is_encrypted_file, is_plain_sqlite_file
from slpterm.ui.app import build_app
from slpterm.ui.screens.security import ChoiceScreen, ConfirmScreen, SecurityScreen
from conftest import settle_app

PASSPHRASE = "blue heron at dawn"
pytestmark = pytest.mark.skipif(not encryption_available(), reason="sqlcipher3 is not installed")


async def _security_screen(app, pilot) -> SecurityScreen:
    await settle_app(app, pilot)
    await pilot.press("f12")
    await settle_app(app, pilot)
    assert isinstance(app.screen, SecurityScreen)
    return app.screen


def _fill(screen, **values: str) -> None:
    for name, value in values.items():
        screen.query_one(f"#{name.replace('_', '-')}").value = value


async def test_encrypting_offers_the_older_plain_backups_and_encrypts_them(clinic_dir, clock):
    store = open_store(clinic_dir)
    old_backup = backup_store(store)
    store.close()
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _security_screen(app, pilot)
        _fill(screen, passphrase=PASSPHRASE, passphrase_again=PASSPHRASE)
        await pilot.press("ctrl+s")
        await settle_app(app, pilot)
        assert isinstance(app.screen, ChoiceScreen)
        assert str(old_backup) in str(app.screen.query_one("Static").render())
        await pilot.press("enter")  # Encrypt them
        await settle_app(app, pilot)
        assert app.screen is screen
    assert is_encrypted_file(old_backup) and not is_plain_sqlite_file(old_backup)
    store = open_store(clinic_dir, PASSPHRASE)
    actions = [entry.action for entry in store.security.audit_entries(limit=20)]
    assert "backup-encrypted" in actions and "passphrase-set" in actions
    store.close()


async def test_the_pin_and_the_encryption_change_only_with_the_current_passphrase(clinic_dir, clock):
    store = open_store(clinic_dir)
    store.security.set_passphrase(PASSPHRASE)
    store.close()
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle_app(app, pilot)
        app.screen.query_one("#unlock-passphrase").value = PASSPHRASE
        await pilot.press("enter")
        await settle_app(app, pilot)
        screen = await _security_screen(app, pilot)
        _fill(screen, pin="1357", idle_minutes="240")
        await pilot.press("ctrl+s")
        await settle_app(app, pilot)
        problems = str(screen.query_one("#security-problems").render())
        assert "Current passphrase" in problems
        assert not app.store.security.has_pin() and app.store.security.idle_minutes() == 5  # nothing changed

        screen.query_one("#decrypt").press()
        await settle_app(app, pilot)
        assert app.screen is screen and app.store.security.encrypted  # no confirmation without the passphrase

        _fill(screen, current_secret=PASSPHRASE, pin="1357")
        await pilot.press("ctrl+s")
        await settle_app(app, pilot)
        assert app.store.security.has_pin()
        _fill(screen, current_secret=PASSPHRASE)
        screen.query_one("#decrypt").press()
        await settle_app(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")
        await settle_app(app, pilot)
        assert not app.store.security.encrypted
    store = open_store(clinic_dir)
    actions = [entry.action for entry in store.security.audit_entries(limit=30)]
    store.close()
    assert "security-refused" in actions and "pin-set" in actions and "passphrase-removed" in actions

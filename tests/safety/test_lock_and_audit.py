"""The idle lock with a fake clock, the audit trail (app, screen and command line)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

from slpterm.store import open_store
from slpterm.store.db import DATABASE_FILE_NAME
from slpterm.ui.app import build_app
from slpterm.ui.screens.security import AuditScreen, LockScreen
from slpterm.ui.screens.session import SessionScreen
from conftest import settle_app




async def test_idle_lock_covers_the_session_and_keeps_typed_text_and_the_timer(clinic_dir, clock):
    store = open_store(clinic_dir)
    store.security.set_pin("2468")
    store.security.set_idle_minutes(5)
    store.close()
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle_app(app, pilot)
        await pilot.press("f3")
        await pilot.pause()
        await pilot.press("enter")
        await settle_app(app, pilot)
        session_screen = app.screen
        assert isinstance(session_screen, SessionScreen)
        await pilot.press("ctrl+t", "f9", *"Half-typed thought")
        await pilot.pause(0.7)

        def minutes_pass(count: int) -> None:
            for _ in range(count):  # the screen's heartbeat ticks while the clinician is away
                clock.advance(minutes=1)
                session_screen._tick()
                app.check_idle_lock()

        minutes_pass(4)
        await pilot.pause()
        assert not isinstance(app.screen, LockScreen)
        minutes_pass(2)
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)
        await pilot.press(*"1111", "enter")
        await settle_app(app, pilot)
        assert isinstance(app.screen, LockScreen)
        await pilot.press(*"2468", "enter")
        await settle_app(app, pilot)
        assert app.screen is session_screen
        assert session_screen.query_one("#note-subjective").text == "Half-typed thought"
        status = session_screen.flow.timer_status(session_screen.view.session_id)
        assert status.running and status.elapsed_seconds >= 6 * 60
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)
    store = open_store(clinic_dir)
    actions = [entry.action for entry in store.security.audit_entries()]
    assert "open" in actions and actions.count("lock") == 2
    assert actions.count("unlock-failed") == 1 and actions.count("unlock") == 1
    store.close()


async def test_audit_screen_filters_and_records_chart_views(clinic_dir, clock):
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle_app(app, pilot)
        await pilot.press("enter")
        await settle_app(app, pilot)
        await pilot.press("escape")
        await pilot.pause()
        app.action_audit()
        await settle_app(app, pilot)
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        await pilot.press(*"view")
        await settle_app(app, pilot)
        table = screen.query_one("#audit-table")
        assert table.row_count >= 2  # the chart view and this screen's own view
    store = open_store(clinic_dir)
    assert any(e.action == "view" and e.entity == "patient" for e in store.security.audit_entries())
    store.close()


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "slpterm", *args], capture_output=True, text=True)


def test_audit_verify_names_an_inserted_entry(clinic_dir):
    assert _cli("--data-dir", str(clinic_dir), "audit", "verify").returncode == 0
    connection = sqlite3.connect(clinic_dir / DATABASE_FILE_NAME)
    connection.execute("UPDATE auditevent SET seq = -seq WHERE seq >= 3")
    connection.execute("UPDATE auditevent SET seq = 1 - seq WHERE seq < 0")
    connection.execute(
        "INSERT INTO auditevent (id, seq, at, actor, action, entity, entity_id, detail, prev_hash, hash) "
        "VALUES ('forged', 3, '2026-11-02 10:00:00', 'someone', 'sign', 'x', 'y', '', 'abc', 'def')")
    connection.commit()
    connection.close()
    result = _cli("--data-dir", str(clinic_dir), "audit", "verify")
    assert result.returncode == 1
    assert "first is at entry 3" in result.stdout

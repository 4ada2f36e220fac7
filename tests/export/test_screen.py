"""The export screen driven headless: lists ready and held-back sessions, writes a file, lists the batch."""

from __future__ import annotations

import csv
import io
import sys
import types

from slpterm.store import open_store
from slpterm.ui.app import build_app
from slpterm.ui.screens.export import ExportScreen
from slpterm.ui.widgets.virtual_table import VirtualTable
from export.conftest import CLINIC, HELD_BACK, make_encounter, stored_encounters

SIZE = (120, 40)


def _seed(data_dir):
    store = open_store(data_dir)
    store.clinic.save_clinic(name=CLINIC.name, npi=CLINIC.npi, tax_id=CLINIC.tax_id)
    ready = stored_encounters(store, ["individual_92507_gn", "evaluation_92523_52"])
    held = make_encounter(HELD_BACK, name="held", participant_id=ready[1].participant_id + "-x",
                          patient=ready[1].patient)
    store.close()
    return ready, held


def _install_loader(monkeypatch, encounters):
    module = types.ModuleType("slpterm.services.encounters")
    module.load_encounters = lambda store, *, date_from, date_to, include_exported, today: list(encounters)
    monkeypatch.setitem(sys.modules, "slpterm.services.encounters", module)


async def _settle(app, pilot):
    for _ in range(3):
        await pilot.pause()
        await app.workers.wait_for_complete()
    await pilot.pause()


async def test_export_screen_writes_a_file_and_lists_the_batch(tmp_path, monkeypatch):
    ready, held = _seed(tmp_path / "data")
    _install_loader(monkeypatch, [*ready, held])
    app = build_app(tmp_path / "data")
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        await pilot.press("f4")
        await _settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        sessions = screen.query_one("#export-sessions", VirtualTable)
        assert sorted(row[0] for row in sessions._rows) == ["HELD", "ready", "ready"]
        held_index = [row[0] for row in sessions._rows].index("HELD")
        assert sessions._rows[held_index][5] == "GN modifier missing on 92507"
        sessions.cursor = held_index
        await pilot.pause()
        assert "Fix: Add GN" in str(screen.query_one("#export-detail").render())
        assert "2 ready · 1 held back" in str(screen.query_one("#export-summary").render())

        screen.query_one("#export-folder").value = str(tmp_path / "out")
        await pilot.press("ctrl+e")
        await _settle(app, pilot)
        assert "Batch 000001: wrote 2 session(s)" in screen.result_text
        (written,) = (tmp_path / "out").glob("*.csv")
        rows = list(csv.DictReader(io.StringIO(written.read_text(encoding="utf-8-sig"))))
        assert sorted(r["participant_id"] for r in rows) == sorted(e.participant_id for e in ready)
        batches = screen.query_one("#export-batches", VirtualTable)
        assert [row[0] for row in batches._rows] == ["000001"]
        assert written.name in batches._rows[0][5]
        # the exported sessions are now marked and a second export writes nothing
        assert sorted(row[0] for row in sessions._rows) == ["HELD", "exported", "exported"]
        await pilot.press("ctrl+e")
        await _settle(app, pilot)
        assert screen.result_text.startswith("Nothing was exported.")
        assert len(list((tmp_path / "out").glob("*.csv"))) == 1

        # re-export is an explicit choice
        screen.query_one("#export-include").value = True
        await _settle(app, pilot)
        assert sorted(row[0] for row in sessions._rows) == ["HELD", "ready", "ready"]
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ExportScreen)
    store = open_store(tmp_path / "data")
    assert [b.control_number for b in store.exports.batches()] == [1]
    store.close()


async def test_export_screen_reports_missing_x12_settings(tmp_path, monkeypatch):
    import dataclasses

    ready, _ = _seed(tmp_path / "data")
    no_receiver = [dataclasses.replace(e, clinic=dataclasses.replace(CLINIC, receiver_id="")) for e in ready]
    _install_loader(monkeypatch, no_receiver)
    app = build_app(tmp_path / "data")
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        await pilot.press("f4")
        await _settle(app, pilot)
        screen = app.screen
        screen.query_one("#export-format").value = "x12"
        screen.query_one("#export-folder").value = str(tmp_path / "out")
        await _settle(app, pilot)
        await pilot.press("ctrl+e")
        await _settle(app, pilot)
        assert "Receiver ID" in screen.result_text and "Settings (F5)" in screen.result_text
        assert not (tmp_path / "out").exists()


async def test_export_screen_refuses_a_bad_date(tmp_path, monkeypatch):
    ready, _ = _seed(tmp_path / "data")
    _install_loader(monkeypatch, ready)
    app = build_app(tmp_path / "data")
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        await pilot.press("f4")
        await _settle(app, pilot)
        screen = app.screen
        screen.query_one("#export-from").value = "March 1"
        await pilot.press("ctrl+r")
        await _settle(app, pilot)
        assert "YYYY-MM-DD" in screen.result_text

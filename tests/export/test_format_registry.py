"""The export-format registry: one entry is all a new format needs (CLI, screen, batch runner)."""

from __future__ import annotations

import argparse
import sys
import types

import pytest

from slpterm.services.exporting import run_export
from slpterm.export.cli import add_export_parser
from slpterm.export.formats import EXPORT_FORMATS, ExportFormat, ExportFormatSpec, format_ids, format_options
from slpterm.store import open_store
from slpterm.ui.app import build_app
from slpterm.ui.screens.export import ExportScreen
from export.conftest import CLINIC, stored_encounters


def _render_plain(encounters, batch) -> bytes:
    return "".join(f"{e.date_of_service} {e.participant_id}\n" for e in encounters).encode()


PLAIN = ExportFormatSpec("plain", "Plain text (one line per session)", "plain (one line per session)",
                         _render_plain, file_name="slpterm-plain-{label}.txt")


@pytest.fixture
def plain_format(monkeypatch):
    monkeypatch.setitem(EXPORT_FORMATS, PLAIN.id, PLAIN)
    return PLAIN


def test_the_shipped_formats_are_registered_in_order():
    assert format_ids() == tuple(f.value for f in ExportFormat) == ("csv", "json", "fhir", "x12", "superbill")
    assert ExportFormat.X12.label == "X12 837P claim file"
    assert [spec.per_batch for spec in EXPORT_FORMATS.values()] == [True, True, True, True, False]


def test_a_registered_format_is_a_cli_choice_with_its_help(plain_format):
    parser = argparse.ArgumentParser(prog="slpterm")
    commands = parser.add_subparsers(dest="command")
    export_parser = add_export_parser(commands)
    args = parser.parse_args(["export", "--format", "plain", "--out", "x"])
    assert args.format == "plain"
    assert "plain (one line per session)" in " ".join(export_parser.format_help().split())


def test_an_unknown_format_is_refused_with_the_choices(store, tmp_path):
    with pytest.raises(ValueError, match="'pdf' is not an export format; choose one of csv, json"):
        run_export(store, [], "pdf", tmp_path)


def test_a_registered_format_exports_and_records_its_batch(store, tmp_path, plain_format):
    encounters = stored_encounters(store, ["individual_92507_gn"])
    outcome = run_export(store, encounters, "plain", tmp_path / "out")
    assert outcome.ok
    assert [path.name for path in outcome.files] == ["slpterm-plain-000001.txt"]
    assert outcome.files[0].read_text() == f"{encounters[0].date_of_service} {encounters[0].participant_id}\n"
    (recorded,) = store.exports.batches()
    assert recorded.format == "plain"


async def test_a_registered_format_is_offered_by_the_export_screen(tmp_path, monkeypatch, plain_format):
    assert ("Plain text (one line per session)", "plain") in format_options()
    store = open_store(tmp_path / "data")
    store.clinic.save_clinic(name=CLINIC.name, npi=CLINIC.npi, tax_id=CLINIC.tax_id)
    store.close()
    loader = types.ModuleType("slpterm.services.encounters")
    loader.load_encounters = lambda store, *, date_from, date_to, include_exported, today: []
    monkeypatch.setitem(sys.modules, "slpterm.services.encounters", loader)
    app = build_app(tmp_path / "data")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("f4")
        for _ in range(3):
            await pilot.pause()
            await app.workers.wait_for_complete()
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        select = screen.query_one("#export-format")
        select.value = "plain"  # a Select refuses a value it does not offer
        await pilot.pause()
        assert screen.format == "plain"

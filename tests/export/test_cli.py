"""``slpterm export`` from a terminal: files, exit status and the list of problems."""

from __future__ import annotations

import argparse
import sys
import types
from datetime import date

import pytest

from slpterm.export.cli import add_export_parser
from slpterm.services.exporting import run_export_command as run_export
from export.checks import pyx12_errors
from export.conftest import HELD_BACK, make_encounter, stored_encounters


def _parse(argv):
    parser = argparse.ArgumentParser(prog="slpterm")
    add_export_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


@pytest.fixture
def loaded(monkeypatch):
    """Stands in for the store-backed loader; records what it was asked."""
    calls = []
    encounters: list = []

    def encounter_chunks(store, *, date_from, date_to, today, chunk_sessions=1000):
        calls.append({"date_from": date_from, "date_to": date_to})
        chunk = [e for e in encounters if (date_from is None or e.date_of_service >= date_from)
                 and (date_to is None or e.date_of_service <= date_to)]
        return [chunk] if chunk else []

    module = types.ModuleType("slpterm.services.encounters")
    module.encounter_chunks = encounter_chunks
    monkeypatch.setitem(sys.modules, "slpterm.services.encounters", module)
    return encounters, calls


def test_cli_writes_an_837p_file_and_then_reports_nothing_new(store, tmp_path, loaded, capsys):
    encounters, calls = loaded
    encounters += stored_encounters(store, ["individual_92507_gn", "group_92508"])
    args = _parse(["export", "--format", "x12", "--from", "2026-03-01", "--to", "2026-03-31",
                   "--out", str(tmp_path / "claims")])
    assert run_export(args, store) == 0
    out = capsys.readouterr().out
    assert "Wrote" in out and "Batch 000001: 2 session(s)" in out
    (written,) = (tmp_path / "claims").glob("*.x12")
    assert pyx12_errors(written.read_text()) == []
    assert calls[0] == {"date_from": date(2026, 3, 1), "date_to": date(2026, 3, 31)}

    assert run_export(args, store) == 1
    captured = capsys.readouterr()
    assert "Skipped 2 session(s) already exported" in captured.out
    assert "nothing was exported" in captured.err and "--include-exported" in captured.err

    again = _parse(["export", "--format", "x12", "--out", str(tmp_path / "again"), "--include-exported"])
    assert run_export(again, store) == 0
    assert len(store.exports.batches()) == 2


def test_cli_lists_held_back_sessions_with_reasons_and_fails_when_nothing_is_ready(store, tmp_path, loaded,
                                                                                  capsys):
    encounters, _ = loaded
    encounters.append(make_encounter(HELD_BACK, name="held"))
    args = _parse(["export", "--format", "csv", "--out", str(tmp_path / "out")])
    assert run_export(args, store) == 1
    err = capsys.readouterr().err
    assert "Held back 1 session(s)" in err
    assert "GN modifier missing on 92507" in err and "Fix: Add GN" in err
    assert "Juniper" in err or "Ashdown" in err
    assert not (tmp_path / "out").exists()


def test_cli_names_the_missing_x12_setting(store, tmp_path, loaded, capsys):
    import dataclasses

    encounters, _ = loaded
    (encounter,) = stored_encounters(store, ["individual_92507_gn"])
    encounters.append(dataclasses.replace(encounter, clinic=dataclasses.replace(encounter.clinic, receiver_name="")))
    assert run_export(_parse(["export", "--format", "x12", "--out", str(tmp_path)]), store) == 1
    err = capsys.readouterr().err
    assert "Receiver name (1000B) is empty" in err and "Settings (F5)" in err


def test_cli_rejects_a_bad_date_and_a_reversed_range(store, tmp_path, loaded, capsys):
    with pytest.raises(SystemExit):
        _parse(["export", "--format", "csv", "--from", "03/01/2026", "--out", str(tmp_path)])
    assert "YYYY-MM-DD" in capsys.readouterr().err
    args = _parse(["export", "--format", "csv", "--from", "2026-03-31", "--to", "2026-03-01", "--out", str(tmp_path)])
    assert run_export(args, store) == 2


def test_cli_reports_an_unwritable_folder(store, tmp_path, loaded, capsys):
    encounters, _ = loaded
    encounters += stored_encounters(store, ["individual_92507_gn"])
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert run_export(_parse(["export", "--format", "json", "--out", str(blocker / "sub")]), store) == 1
    assert "cannot be created" in capsys.readouterr().err
    assert store.exports.batches() == []

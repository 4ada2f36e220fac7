"""Exports per format are separate: only an 837P (or a superbill handed over) bills; CSV, JSON and
FHIR copies never change what is billed. CSV and JSON carry the claim number and its status."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timezone

import pytest

from slpterm.export.batch import select_encounters
from slpterm.services.exporting import export_signed, run_export
from slpterm.services.encounters import load_encounters
from export.checks import claims_of, pyx12_errors
from export.conftest import signed_clinic, stored_encounters

NOW = datetime(2026, 3, 20, 9, 30, tzinfo=timezone.utc)
NAMES = ["individual_92507_gn", "group_92508"]


def _csv_rows(path):
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


@pytest.mark.parametrize("copy", ["csv", "json", "fhir"])
def test_an_837p_after_a_copy_still_bills_and_the_copy_billed_nothing(store, tmp_path, copy):
    encounters = stored_encounters(store, NAMES)
    copied = run_export(store, encounters, copy, tmp_path / "copy", now=NOW)
    assert copied.ok and len(copied.exported_ids) == 2
    assert store.exports.billed_by_participant() == {}  # a copy bills nothing (KX and YTD unchanged)
    billed = run_export(store, encounters, "x12", tmp_path / "x12", now=NOW)
    assert billed.ok and billed.skipped_exported == [] and len(billed.exported_ids) == 2
    assert pyx12_errors(billed.files[0].read_text()) == []
    assert sum(len(lines) for lines in store.exports.billed_by_participant().values()) == 2


TODAY = date(2026, 11, 27)


def test_a_csv_after_an_837p_still_exports_and_says_billed(store, tmp_path):
    signed_clinic(store)
    billed = export_signed(store, "x12", tmp_path / "x12", now=NOW, today=TODAY)
    assert billed.ok and len(billed.exported_ids) == 2
    text = billed.files[0].read_text()
    assert pyx12_errors(text) == [] and "ODEGARD*LUKASZ" in text
    numbers = [claim["clm"][1] for claim in claims_of(text)]
    copied = export_signed(store, "csv", tmp_path / "csv", now=NOW, today=TODAY)
    assert copied.ok and copied.skipped_exported == [] and len(copied.exported_ids) == 2
    rows = _csv_rows(copied.files[0])
    assert sorted(row["claim_number"] for row in rows) == sorted(numbers)
    assert {row["claim_status"] for row in rows} == {"exported"}
    assert rows[0]["patient_last_name"] == "Ødegård"  # a copy keeps the name as typed
    # A second CSV skips what the first CSV wrote; a second 837P skips what was billed.
    assert not export_signed(store, "csv", tmp_path / "csv2", now=NOW, today=TODAY).ok
    again = export_signed(store, "x12", tmp_path / "x12b", now=NOW, today=TODAY)
    assert not again.ok and len(again.skipped_exported) == 2


def test_an_837p_after_a_csv_on_the_command_line_path_still_bills(store, tmp_path):
    signed_clinic(store)
    assert export_signed(store, "csv", tmp_path / "csv", now=NOW, today=TODAY).ok
    assert load_encounters(store, date_from=None, date_to=None, include_exported=False, today=TODAY)
    billed = export_signed(store, "x12", tmp_path / "x12", now=NOW, today=TODAY)
    assert billed.ok and len(billed.exported_ids) == 2
    assert pyx12_errors(billed.files[0].read_text()) == []


def test_json_carries_the_registers_claim_number_and_status(store, tmp_path):
    signed_clinic(store)
    before = json.loads(export_signed(store, "json", tmp_path / "a", now=NOW, today=TODAY).files[0].read_text())
    assert {(item["claim_number"], item["claim_status"]) for item in before["encounters"]} == {("", "not billed")}
    billed = export_signed(store, "x12", tmp_path / "x12", now=NOW, today=TODAY)
    numbers = sorted(claim["clm"][1] for claim in claims_of(billed.files[0].read_text()))
    (first, _) = numbers
    store.claims.set_claim_status(first, "partly paid", payer_claim_number="PCN-1")
    after = json.loads(export_signed(store, "json", tmp_path / "b", now=NOW, today=TODAY,
                                     include_exported=True).files[0].read_text())
    assert sorted((item["claim_number"], item["claim_status"]) for item in after["encounters"]) == [
        (first, "partly paid"), (numbers[1], "exported")]


def test_the_export_screen_selection_treats_copies_as_copies(store, tmp_path):
    encounters = stored_encounters(store, NAMES)
    run_export(store, encounters, "csv", tmp_path / "csv", now=NOW)
    exported = store.exports.exported_formats()
    assert select_encounters(encounters, "csv", exported_ids=exported).ready == []
    assert len(select_encounters(encounters, "x12", exported_ids=exported).ready) == 2
    run_export(store, encounters, "superbill", tmp_path / "superbill", now=NOW)
    exported = store.exports.exported_formats()
    assert select_encounters(encounters, "x12", exported_ids=exported).ready == []  # a superbill billed them
    assert len(select_encounters(encounters, "fhir", exported_ids=exported).ready) == 2


def test_claims_list_shows_each_billed_claim_with_its_number_and_batches(store, tmp_path, capsys):
    import argparse

    from slpterm.export.cli import add_claims_parser
    from slpterm.services.claims import run_claims

    parser = argparse.ArgumentParser(prog="slpterm")
    add_claims_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["claims", "list"])
    assert run_claims(args, store) == 0 and "No claims yet" in capsys.readouterr().out
    signed_clinic(store)
    first = export_signed(store, "x12", tmp_path / "a", now=NOW, today=TODAY)
    export_signed(store, "csv", tmp_path / "copy", now=NOW, today=TODAY)  # a copy adds no claim
    resent = export_signed(store, "x12", tmp_path / "b", now=NOW, today=TODAY, include_exported=True)
    numbers = [claim["clm"][1] for claim in claims_of(first.files[0].read_text())]
    assert numbers == [claim["clm"][1] for claim in claims_of(resent.files[0].read_text())]
    claims = store.claims.register({"x12", "superbill"})
    assert [claim.claim_number for claim in claims] == numbers
    assert all(claim.status_text == "exported in batches 000001, 000003 (re-sent)" for claim in claims)
    assert run_claims(args, store) == 0
    out = capsys.readouterr().out
    assert all(number in out for number in numbers) and "Ødegård, Łukasz" in out and "2 claim(s)." in out

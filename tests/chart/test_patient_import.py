"""CSV import: the dry run writes nothing, commit writes the good rows, duplicates are reported."""

from __future__ import annotations

import argparse
import io
from datetime import date

from slpterm.services.patient_import import add_import_parser, commit_import, dry_run, report_lines, run_import

CSV = """external_id,last_name,first_name,date_of_birth,sex,phone,guardian,school,grade,payer_kind,member_id,diagnosis_codes
S-1,Quillfeather,Milo,2018-04-09,M,(503) 555-0142,Ana Quillfeather,Cedar Elementary,2,medicaid,MQ123456,F80.0
S-2,Brightwater,Juniper,2030-01-01,F,,,,,,,
S-3,Ashdown,Pip,2017-02-02,U,,Lee Ashdown,Cedar Elementary,K,school,,R13.1
P-0001,Marrowby,Tess,2015-06-06,F,,Jo Marrowby,,,self_pay,,F80.2
S-5,Lark,Bo,2016-07-07,M,,Kim Lark,,,,,F80.81 R47.1
"""
TODAY = date(2026, 11, 18)


def _write(tmp_path, text: str = CSV):
    path = tmp_path / "patients.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_dry_run_reports_every_bad_row_and_writes_nothing(store, patient, tmp_path):
    before = len(store.caseload.rows())

    result = dry_run(store, _write(tmp_path), TODAY)

    assert [p.external_id for p in result.patients] == ["S-1", "S-5"]
    assert [(problem.line, problem.external_id) for problem in result.errors] == [(3, "S-2"), (4, "S-3")]
    assert "future" in result.errors[0].reason and "R13.1" in result.errors[1].reason
    assert [(problem.line, problem.external_id) for problem in result.duplicates] == [(5, "P-0001")]
    text = "\n".join(report_lines(result))
    assert "Line 3 (S-2)" in text and "Line 5: already present" in text
    assert len(store.caseload.rows()) == before


def test_commit_writes_the_good_rows_with_coverage_and_diagnoses(store, patient, tmp_path):
    result = dry_run(store, _write(tmp_path), TODAY)

    report = commit_import(store, result)

    assert report.created == 2 and report.skipped_ids == []
    rows = {row.external_id: row for row in store.caseload.rows()}
    assert set(rows) == {"P-0001", "S-1", "S-5"}
    assert rows["S-1"].payer == "medicaid" and rows["S-1"].diagnoses == "F80.0"
    assert rows["S-5"].diagnoses == "F80.81 R47.1"
    assert store.patients.chart(patient.id).patient.first_name == "Milo"  # the existing P-0001 is untouched


def test_importing_the_same_file_twice_does_not_duplicate(store, tmp_path):
    path = _write(tmp_path)
    commit_import(store, dry_run(store, path, TODAY))
    second = dry_run(store, path, TODAY)
    assert second.patients == []
    assert {problem.external_id for problem in second.duplicates} >= {"S-1", "S-5"}
    assert commit_import(store, second).created == 0
    assert len(store.caseload.rows()) == 3


def test_rows_added_since_the_dry_run_are_skipped_not_duplicated(store, tmp_path):
    result = dry_run(store, _write(tmp_path), TODAY)
    store.patients.create(first_name="Milo", last_name="Quillfeather", external_id="S-1")
    report = commit_import(store, result)
    assert report.created == 2 and report.skipped_ids == ["S-1"]
    assert len(store.caseload.rows()) == 3


def _args(path, commit: bool) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_import_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["import-patients", str(path)] + (["--commit"] if commit else []))


def test_the_command_is_a_dry_run_unless_told_to_commit(store, tmp_path):
    path = _write(tmp_path)
    out = io.StringIO()
    assert run_import(_args(path, commit=False), store, today=TODAY, out=out) == 1
    assert "Nothing was written" in out.getvalue() and store.caseload.rows() == []

    out = io.StringIO()
    assert run_import(_args(path, commit=True), store, today=TODAY, out=out) == 1
    assert "Imported 3 patient(s)." in out.getvalue()
    assert len(store.caseload.rows()) == 3


def test_an_unusable_file_returns_2(store, tmp_path):
    out = io.StringIO()
    assert run_import(_args(tmp_path / "missing.csv", commit=True), store, today=TODAY, out=out) == 2
    assert "does not exist" in out.getvalue()

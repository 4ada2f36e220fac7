"""`slpterm rules check|show|import-ptp`, called through the parser the app wires them into."""

from __future__ import annotations

import argparse
import io
import zipfile
from datetime import date
from pathlib import Path

import pytest

from slpterm.coding import add_rules_parser, import_cms_ptp, load_rulebook, run_rules
from slpterm.coding.rulebook import SHIPPED_RULES_DIR

from .factory import EXAMPLE_2027, install_example_2027


def run(argv: list[str], rules_dir: Path | None) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="slpterm")
    add_rules_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    out = io.StringIO()
    status = run_rules(args, rules_dir, out=out)
    return status, out.getvalue()


def test_check_accepts_the_2027_example(tmp_path):
    status, text = run(["rules", "check", str(EXAMPLE_2027)], tmp_path)
    assert status == 0
    assert text.startswith("OK: ") and "example-2027" in text and "8 codes" in text


@pytest.mark.parametrize("name", ["codesets/slp-cpt-2026.toml", "payers.toml", "kx_thresholds.toml", "ncci.csv", "pos.toml", "fees.toml"])
def test_check_accepts_every_shipped_file(name):
    status, text = run(["rules", "check", str(SHIPPED_RULES_DIR / name)], None)
    assert status == 0, text
    assert text.startswith("OK: ")


def test_check_reports_each_problem_with_file_entry_and_fix(tmp_path):
    broken = tmp_path / "codeset-broken.toml"
    broken.write_text(
        'kind = "codeset"\nid = "broken"\nname = "Broken"\nvalid_from = 2027-01-01\nsource = "test"\n\n'
        '[[code]]\ncode = "9X001"\nparaphrase = "x"\nkind = "treatment"\ntimed = true\nunit_rule = "first_unit"\n\n'
        '[[code]]\ncode = "9X002"\nparaphrase = "y"\nkind = "treatment"\ntimed = false\nunit_rule = "once_per_day"\nmin_minute = 8\n',
        encoding="utf-8",
    )
    status, text = run(["rules", "check", str(broken)], tmp_path)
    assert status == 1
    assert "code #1 (9X001): unit_rule 'first_unit' needs min_minutes and unit_minutes" in text
    assert "code #2 (9X002): unknown key 'min_minute'" in text
    assert text.count("fix: ") == text.count("PROBLEM ") >= 2
    assert str(broken) in text


def test_check_reports_missing_inherited_set(tmp_path):
    orphan = tmp_path / "codeset-orphan.toml"
    orphan.write_text(EXAMPLE_2027.read_text().replace('inherits = "slp-cpt-2027"', 'inherits = "slp-cpt-2025"'), encoding="utf-8")
    status, text = run(["rules", "check", str(orphan)], None)
    assert status == 1 and "inherits 'slp-cpt-2025', which is not installed" in text


def test_check_missing_file(tmp_path):
    status, text = run(["rules", "check", str(tmp_path / "nope.toml")], None)
    assert status == 1 and "does not exist" in text


def test_show_2026_lists_codes_policies_and_kx():
    status, text = run(["rules", "show", "--date", "2026-03-10"], None)
    assert status == 0
    for expected in ("92507", "97129", "medicare: GN required", "$2,480.00", "confidence R", "$3,000.00", "refused: 92506"):
        assert expected in text


def test_show_2027_shows_the_continuing_codes_and_what_to_install():
    status, text = run(["rules", "show", "--date", "2027-01-04"], None)
    assert status == 0
    assert "Code set: slp-cpt-2027" in text and "inherits slp-cpt-2026" in text
    assert "not carried from slp-cpt-2026: 92507" in text
    assert "92526" in text and "97129" in text and "92508" in text
    assert "individual treatment: not installed" in text and "slpterm rules install" in text
    assert "provisional" in text and "$2,480.00" in text


def test_show_2028_says_no_code_set_and_fails():
    status, text = run(["rules", "show", "--date", "2028-01-04"], None)
    assert status == 1
    assert "No installed code set covers 2028-01-04" in text
    assert "none installed for 2028" in text


def test_show_2027_with_example_installed(tmp_path):
    install_example_2027(tmp_path)
    status, text = run(["rules", "show", "--date", "2027-01-04"], tmp_path)
    assert status == 0
    assert "9X001" in text and "not carried from slp-cpt-2026: 92507" in text


def test_show_reports_broken_clinic_files(tmp_path):
    (tmp_path / "fees.toml").write_text('kind = "fees"\nsource = "x"\n[fees]\n"92507" = 120.5\n', encoding="utf-8")
    status, text = run(["rules", "show", "--date", "2026-03-10"], tmp_path)
    assert status == 1 and "fees 92507" in text and "in quotes" in text


def test_bad_date_is_rejected_by_the_parser():
    with pytest.raises(SystemExit):
        run(["rules", "show", "--date", "10/03/2026"], None)


PTP_TEXT = (
    "CPT codes, descriptions and other data only are copyright 2025 American Medical Association.\n"
    "Column 1\tColumn 2\t*=in existence\tEffective\tDeletion\tModifier\tPTP Edit Rationale\n"
    "\t\tprior to 1996\tDate\tDate\t0=not allowed\t\n"
    "\t\t\t\t*=no data\t1=allowed\t\n"
    "\t\t\t\t\t9=not applicable\t\n"
    "92523\t92522\t\t20140101\t*\t0\tMutually exclusive procedures\n"
    "92523\t96125\t\t20140101\t*\t1\tStandards of medical / surgical practice\n"
    "92610\t92526\t\t20150101\t*\t1\tMisuse of column two code with column one code\n"
    "92507\t92526\t\t20100101\t20200101\t1\tDeleted edit\n"
    "99213\t92507\t\t20100101\t*\t1\tNot an SLP pair\n"
)


def test_import_cms_ptp_from_txt_and_zip(tmp_path):
    txt = tmp_path / "ptp.txt"
    txt.write_text(PTP_TEXT, encoding="latin-1")
    archive = tmp_path / "medicare-ncci-2026q2-practitioner-ptp-edits-ccipra-v321r0-f1.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ccipra-v321r0-f1.TXT", PTP_TEXT)
    for source in (txt, archive):
        pairs = import_cms_ptp(source)
        assert [(p.column1, p.column2, p.indicator) for p in pairs] == [
            ("92523", "92522", "0"), ("92523", "96125", "1"), ("92610", "92526", "1"), ("92507", "92526", "1")]
        assert pairs[3].valid_to == date(2019, 12, 31)


def test_import_ptp_command_writes_a_file_the_rulebook_uses(tmp_path):
    txt = tmp_path / "ptp.txt"
    txt.write_text(PTP_TEXT, encoding="latin-1")
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    status, text = run(["rules", "import-ptp", str(txt)], rules_dir)
    assert status == 0 and "imported 4 NCCI pairs" in text
    rulebook = load_rulebook(rules_dir)
    assert rulebook.ncci_pair("92526", "92610", date(2026, 3, 10)).indicator == "1"
    assert rulebook.ncci_pair("92507", "92526", date(2026, 3, 10)) is None  # the CMS row ended 2019
    status, _ = run(["rules", "check", str(rules_dir / "ncci-cms-import.csv")], rules_dir)
    assert status == 0


def test_import_ptp_needs_a_rules_folder(tmp_path):
    txt = tmp_path / "ptp.txt"
    txt.write_text(PTP_TEXT, encoding="latin-1")
    status, text = run(["rules", "import-ptp", str(txt)], None)
    assert status == 1 and "rules folder" in text

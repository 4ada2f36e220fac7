"""Rules data files: validated on load with errors naming the file, the entry and the fix."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from slpterm.coding import RuleBookError, load_rulebook
from slpterm.coding.rulebook import SHIPPED_RULES_DIR, parse_rules_file
from slpterm.domain.vocab import PayerKind

from .factory import EXAMPLE_2027

BROKEN_FILES = [
    ("codeset-a.toml", 'kind = "codeset"\nid = "a"\nname = "A"\nsource = "s"\n[[code]]\ncode = "92507"\n',
     ["header: missing 'valid_from'", "code #1 (92507): missing 'paraphrase'"]),
    ("codeset-b.toml", 'kind = "codeset"\nid = "b"\nname = "B"\nvalid_from = 2027-01-01\nvalid_to = 2026-01-01\nsource = "s"\n'
                       '[[code]]\ncode = "9X1"\nparaphrase = "p"\nkind = "therapy"\ntimed = false\nunit_rule = "once_per_day"\n',
     ["valid_to 2026-01-01 is before valid_from 2027-01-01", "'code' has the invalid value '9X1'", "'kind' has the invalid value 'therapy'"]),
    ("codeset-c.toml", 'kind = "codeset"\nid = "c"\nname = "C"\nvalid_from = 2027-01-01\nsource = "s"\n'
                       '[[code]]\ncode = "9X002"\nparaphrase = "p"\nkind = "treatment"\ntimed = true\nunit_rule = "addon"\n'
                       'addon_to = "9X001"\nmin_minutes = 8\nunit_minutes = 15\n'
                       '[[service]]\nsession_type = "individual_treatment"\ncode = "9X003"\n',
     ["addon_to names 9X001, which is not in the code set", "the service selects 9X003, which is not in the code set"]),
    ("codeset-d.toml", 'kind = "codeset"\nid = "d"\nname = "D"\nvalid_from = 2027-01-01\nsource = "s"\n'
                       '[[code]]\ncode = "9X001"\nparaphrase = "p"\nkind = "treatment"\ntimed = true\nunit_rule = "first_unit"\n'
                       'min_minutes = 40\nunit_minutes = 30\n[[service]]\nsession_type = "evaluation"\ncode = "9X001"\n',
     ["min_minutes is larger than unit_minutes", "session_type 'evaluation' is an evaluation"]),
    ("payers.toml", 'kind = "payers"\nsource = "s"\n[[policy]]\npayer_kind = "medicare"\nsource = "s"\ngn_required = "yes"\n',
     ["policy #1 (medicare): 'gn_required' has the invalid value 'yes'", "policy #1 (medicare): missing 'units_method'"]),
    ("payers-x.toml", 'kind = "payers"\nsource = "s"\n[[override]]\npayer_id = "X"\nsource = "s"\nunits_method = "midpoint"\n',
     ["override #1 (X): 'units_method' has the invalid value 'midpoint'"]),
    ("kx_thresholds.toml", 'kind = "kx_thresholds"\nsource = "s"\n[[threshold]]\nyear = 2027\namount = 2550.5\nconfidence = "R"\nsource = "s"\n',
     ["threshold #1 (2027): 'amount' has the invalid value 2550.5", "in quotes"]),
    ("pos.toml", 'kind = "pos"\nsource = "s"\n[[pos]]\nsetting = "clinic"\ncode = "1"\nname = "x"\n',
     ["'setting' has the invalid value 'clinic'", "place of service '1' is not two digits"]),
    ("fees.toml", 'kind = "fees"\nsource = "s"\n[fees]\n"92507" = "-5"\n"abc" = "1"\n',
     ["the charge '-5' is not a valid amount", "'abc' is not a procedure code"]),
    ("ncci-x.csv", "column1,column2,indicator,valid_from,valid_to,confidence,source\n92507,92507,2,2026-13-01,,X,\n",
     ["row 2 (92507+92507): a pair needs two different codes", "indicator '2' is not 0, 1, 9 or U",
      "valid_from '2026-13-01' is not a date", "confidence 'X' is not C, R or U", "the source is empty"]),
    ("ncci-y.csv", "a,b\n", ["unexpected columns"]),
    ("codeset-syntax.toml", 'kind = "codeset"\nid = \n', ["not valid TOML"]),
    ("codeset-kind.toml", 'kind = "cpt"\n', ["unknown or missing kind 'cpt'"]),
]


@pytest.mark.parametrize("name, text, messages", BROKEN_FILES, ids=[row[0] for row in BROKEN_FILES])
def test_broken_clinic_files_give_clear_errors(tmp_path, name, text, messages):
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(RuleBookError) as caught:
        load_rulebook(tmp_path)
    report = str(caught.value)
    for message in messages:
        assert message in report
    for problem in caught.value.problems:
        assert problem.file.endswith(name) and problem.entry and problem.fix


def test_settings_overrides_are_validated():
    with pytest.raises(RuleBookError) as caught:
        load_rulebook(fee_overrides={"92507": "lots"}, payer_overrides={"ACME": {"gn_requird": True, "max_group_size": 1}})
    report = str(caught.value)
    assert "fee_overrides (settings)" in report and "payer 'ACME': unknown key 'gn_requird'" in report
    assert "max_group_size must be at least 2" in report


def test_missing_rules_dir_is_an_error(tmp_path):
    with pytest.raises(RuleBookError, match="does not exist"):
        load_rulebook(tmp_path / "missing")


def test_other_files_in_the_rules_dir_are_ignored(tmp_path):
    (tmp_path / "excludes1.toml").write_text('kind = "excludes1"\n', encoding="utf-8")
    (tmp_path / "notes.csv").write_text("anything\n", encoding="utf-8")
    assert load_rulebook(tmp_path).codeset_for(date(2026, 1, 5)) is not None


def test_clinic_codeset_with_the_shipped_id_replaces_it(tmp_path):
    shipped = (SHIPPED_RULES_DIR / "codesets" / "slp-cpt-2026.toml").read_text(encoding="utf-8")
    (tmp_path / "codeset-update.toml").write_text(shipped.replace("valid_to = 2026-12-31    #", "valid_to = 2027-06-30    #"), encoding="utf-8")
    rulebook = load_rulebook(tmp_path)
    view = rulebook.codeset_for(date(2027, 3, 1))
    assert view is not None and "92507" not in view.codes and "92523" in view.codes
    assert {cs.id for cs in rulebook.codesets} == {"slp-cpt-2026", "slp-cpt-2027"}


def test_shipped_data_is_complete():
    rulebook = load_rulebook()
    assert load_rulebook() is rulebook  # parsed once per process
    assert {t.year: t.amount for t in rulebook.kx_thresholds.values()} == {
        2021: Decimal("2110.00"), 2022: Decimal("2150.00"), 2023: Decimal("2230.00"),
        2024: Decimal("2330.00"), 2025: Decimal("2410.00"), 2026: Decimal("2480.00"), 2027: None}
    assert rulebook.kx_threshold(2024).confidence == "C" and rulebook.kx_threshold(2026).confidence == "R"
    provisional = rulebook.kx_threshold(2027)
    assert provisional.amount == Decimal("2480.00") and provisional.provisional_from == 2026 and provisional.confidence == "U"
    assert rulebook.targeted_review_amount(date(2027, 12, 31)) == Decimal("3000.00")
    assert rulebook.targeted_review_amount(date(2028, 1, 1)) is None  # raised by the MEI from 2028
    for kind in PayerKind:
        assert rulebook.policy_for(kind, "", date(2026, 3, 10)) is not None
    view = rulebook.codeset_for(date(2026, 3, 10))
    assert view.codes["92507"].valid_to == date(2026, 12, 31)
    assert rulebook.codeset_for(date(2027, 1, 1)).codeset.id == "slp-cpt-2027"
    assert rulebook.codeset_for(date(2028, 1, 1)) is None
    assert set(rulebook.fees) >= set(view.codes)
    for code in view.codes.values():
        assert code.paraphrase and len(code.paraphrase) < 120


def test_every_shipped_file_parses_alone():
    for path in [*SHIPPED_RULES_DIR.glob("codesets/*.toml"), EXAMPLE_2027]:
        assert parse_rules_file(path).kind == "codeset"


def test_coding_imports_without_ui_or_database():
    script = (
        "import sys\nimport slpterm.coding, slpterm.coding.bench\n"
        "from slpterm.coding import load_rulebook\nload_rulebook()\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich', 'sqlalchemy', 'sqlmodel'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_measure_throughput_returns_a_rate():
    from slpterm.coding.bench import measure_throughput

    assert measure_throughput(300) > 0

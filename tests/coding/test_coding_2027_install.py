"""2027: what codes out of the box with the shipped data, and what `slpterm rules install` adds
from fixture files in the CMS layouts (made-up new code numbers 9X101-9X110)."""

from __future__ import annotations

import argparse
import io
import json
import shutil
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from slpterm.coding import add_rules_parser, code_encounter, code_patient_day, load_rulebook, run_rules
from slpterm.coding.install import apply_install, plan_install, read_manifest, rollback_last
from slpterm.domain.vocab import DisorderArea, EvaluationKind, PayerKind, SessionType

from .factory import line_texts, make_facts

FIXTURES = Path(__file__).parent / "fixtures" / "cms-2027"
DOS = date(2027, 1, 5)
PLAN = {"plan_start": date(2026, 12, 1), "plan_end": date(2027, 2, 26), "plan_first_treatment_date": date(2026, 12, 1),
        "plan_certified_on": date(2026, 12, 3)}
T = SessionType


def facts(**overrides):
    base = {"date_of_service": DOS, "today": date(2027, 1, 6), **PLAN}
    base.update(overrides)
    return make_facts(**base)


# -- out of the box ---------------------------------------------------------------------------

SHIPPED_ROWS = [
    ({"session_type": T.EVALUATION, "evaluation_kind": EvaluationKind.LANGUAGE_ONLY}, ["92523-52-GN x1"]),
    ({"session_type": T.EVALUATION, "evaluation_kind": EvaluationKind.SWALLOWING_CLINICAL}, ["92610-GN x1"]),
    ({"session_type": T.RE_EVALUATION, "evaluation_kind": EvaluationKind.FLUENCY}, ["92521-GN x1"]),
    ({"session_type": T.SWALLOWING_TREATMENT}, ["92526-GN x1"]),
    ({"session_type": T.GROUP_TREATMENT, "group_size": 3}, ["92508-GN x1"]),
    ({"session_type": T.COGNITIVE_TREATMENT, "total_minutes": 40}, ["97129-GN x1", "97130-GN x2"]),
    ({"session_type": T.COGNITIVE_TREATMENT, "total_minutes": 40, "payer_kind": PayerKind.COMMERCIAL}, ["97129-GN x1", "97130-GN x2"]),
    ({"session_type": T.EVALUATION, "evaluation_kind": EvaluationKind.COGNITIVE_TESTING, "total_minutes": 95}, ["96125-GN x2"]),
    ({"session_type": T.AAC_TREATMENT, "speech_generating_device": True}, ["92609-GN x1"]),
]


@pytest.mark.parametrize("overrides, expected", SHIPPED_ROWS)
def test_2027_continuing_codes_code_with_the_shipped_data(rulebook, overrides, expected):
    result = code_encounter(facts(**overrides), rulebook)
    assert line_texts(result) == expected
    assert "no-codeset-for-dos" not in result.finding_codes and "treatment-codes-not-installed" not in result.finding_codes
    assert not result.blocked, result.errors


def test_2027_group_code_is_marked_unconfirmed(rulebook):
    result = code_encounter(facts(session_type=T.GROUP_TREATMENT, group_size=2), rulebook)
    finding = next(f for f in result.findings if f.code == "code-unconfirmed")
    assert "92508" in finding.message and "revised" in finding.message


def test_2027_individual_treatment_is_held_with_the_install_message(rulebook):
    result = code_encounter(facts(minutes_by_area={DisorderArea.LANGUAGE: 40}, total_minutes=40), rulebook)
    assert result.lines == () and result.blocked
    finding = next(f for f in result.findings if f.code == "treatment-codes-not-installed")
    assert "slp-cpt-2027" in finding.message
    assert "slpterm rules install" in finding.fix and "PPRRVU2027_JAN.csv" in finding.fix and "cms.gov" in finding.fix


def test_2027_code_set_inherits_explicitly(rulebook):
    view = rulebook.codeset_for(DOS)
    assert view.codeset.id == "slp-cpt-2027" and view.codeset.inherits == "slp-cpt-2026"
    assert "92507" not in view.codes and "92507" not in view.all_codes
    assert view.origin_of["92526"] == "slp-cpt-2026" and view.origin_of["92508"] == "slp-cpt-2027"
    for code in ("92521", "92522", "92523", "92524", "92526", "92610", "92607", "92608", "92609", "97129", "97130", "96125", "92605", "92606"):
        assert code in view.codes


# -- installing the fixture files ---------------------------------------------------------------

def _ptp_files(folder: Path) -> list[Path]:
    """The four segments as CMS ships them: f1 and f2 zipped, f3 and f4 as the bare text table."""
    out = []
    for number in range(1, 5):
        text = FIXTURES / f"medicare-ncci-2027q1-practitioner-ptp-edits-ccipra-v331r0-f{number}.txt"
        if number <= 2:
            archive = folder / text.with_suffix(".zip").name
            with zipfile.ZipFile(archive, "w") as zf:
                zf.write(text, text.name.upper().replace(".TXT", ".txt"))
            out.append(archive)
        else:
            out.append(Path(shutil.copy(text, folder / text.name)))
    return out


def _plan(rules_dir: Path, tmp_path: Path, ptp: list[Path] | None = None):
    return plan_install(rules_dir, rvu=FIXTURES / "PPRRVU2027_JAN.csv", ptp=ptp if ptp is not None else _ptp_files(tmp_path),
                        mue=FIXTURES / "MCR_MUE_PractitionerServices_Eff_01-01-2027.csv", spec=FIXTURES / "clinic-install-2027.toml")


@pytest.fixture
def installed(tmp_path):
    rules_dir = tmp_path / "rules"
    plan = _plan(rules_dir, tmp_path)
    assert plan.problems == [] and plan.ok
    apply_install(plan, rules_dir, actor="Test Biller")
    fees = {f"9X1{n:02d}": Decimal("40") for n in range(1, 11)}
    return load_rulebook(rules_dir, fee_overrides=fees)


def test_the_plan_proposes_areas_from_the_descriptors_and_marks_them(tmp_path):
    plan = _plan(tmp_path / "rules", tmp_path)
    mapping = {m.code: m for m in plan.mapping}
    assert (mapping["9X101"].area, mapping["9X101"].role, mapping["9X101"].from_clinic) == (DisorderArea.LANGUAGE, "base", True)
    # not in the clinic TOML at all, or without area and role: proposed from the RVU short descriptor
    assert (mapping["9X106"].area, mapping["9X106"].role, mapping["9X106"].from_clinic) == (DisorderArea.FLUENCY, "base", False)
    assert (mapping["9X107"].role, mapping["9X107"].addon_to) == ("addon", "9X106")
    assert (mapping["9X104"].area, mapping["9X105"].addon_to) == (DisorderArea.SPEECH_SOUND, "9X104")
    assert plan.needs_confirmation
    assert len(mapping) == 10 and "92507" not in mapping and "92508" not in mapping
    assert any("individual treatment is coded per disorder area" in change for change in plan.changes)
    assert any(change.startswith("From 2027-01-01: + 9X101 language base") for change in plan.changes)


INSTALLED_ROWS = [
    # language 40 min: base (first 30 from 16) + add-on (each further 15 from 8), under both methods
    (PayerKind.MEDICARE, {DisorderArea.LANGUAGE: 40}, ["9X101-GN x1", "9X102-GN x1"]),
    (PayerKind.COMMERCIAL, {DisorderArea.LANGUAGE: 40}, ["9X101-GN x1", "9X102-GN x1"]),
    (PayerKind.COMMERCIAL, {DisorderArea.LANGUAGE: 15}, []),
    (PayerKind.COMMERCIAL, {DisorderArea.LANGUAGE: 16}, ["9X101-GN x1"]),
    # two add-on kinds: the first capped at 2 a day, the rest to the second kind
    (PayerKind.COMMERCIAL, {DisorderArea.LANGUAGE: 80}, ["9X101-GN x1", "9X102-GN x2", "9X103-GN x1"]),
    (PayerKind.MEDICARE, {DisorderArea.LANGUAGE: 80}, ["9X101-GN x1", "9X102-GN x2", "9X103-GN x1"]),
    # proposed from the descriptors and confirmed: fluency base + add-on
    (PayerKind.COMMERCIAL, {DisorderArea.FLUENCY: 45}, ["9X106-GN x1", "9X107-GN x1"]),
    # the set's same-day rule (one_base_pooled): the other area's minutes go on the largest area's codes
    (PayerKind.COMMERCIAL, {DisorderArea.LANGUAGE: 30, DisorderArea.VOICE: 20}, ["9X101-GN x1", "9X102-GN x1"]),
]


@pytest.mark.parametrize("payer, minutes, expected", INSTALLED_ROWS)
def test_installed_2027_treatment_codes(installed, payer, minutes, expected):
    result = code_encounter(facts(payer_kind=payer, minutes_by_area=minutes, total_minutes=sum(minutes.values())), installed)
    assert line_texts(result) == expected
    if len(minutes) > 1:
        assert "area-minutes-pooled" in result.finding_codes


def test_two_areas_in_two_sessions_of_one_day_follow_the_same_day_rule(installed):
    morning = facts(session_id="S-1", minutes_by_area={DisorderArea.VOICE: 20}, total_minutes=20, payer_kind=PayerKind.COMMERCIAL)
    later = facts(session_id="S-2", minutes_by_area={DisorderArea.LANGUAGE: 35}, total_minutes=35, payer_kind=PayerKind.COMMERCIAL,
                  start_time=None, stop_time=None)
    results = code_patient_day([morning, later], installed)
    assert line_texts(results["S-2"]) == ["9X101-GN x1", "9X102-GN x2"]  # 55 minutes on language: 30 + 15 + 10
    assert line_texts(results["S-1"]) == []
    assert "area-minutes-pooled" in results["S-1"].finding_codes


@pytest.mark.parametrize("payer, language_lines, cognitive_lines", [
    # Medicare pools the day's timed minutes: 38 + 10 = 48 min -> 3 units: two for the 30-minute base, one to 97129
    (PayerKind.MEDICARE, ["9X101-GN x1"], ["97129-GN x1"]),
    # per-code counting: 38 min = base + an add-on (8 further minutes), 10 min of 97129 = one unit
    (PayerKind.COMMERCIAL, ["9X101-GN x1", "9X102-GN x1"], ["97129-GN x1"]),
])
def test_total_time_pooling_versus_per_code_counting(installed, payer, language_lines, cognitive_lines):
    language = facts(session_id="S-1", payer_kind=payer, minutes_by_area={DisorderArea.LANGUAGE: 38}, total_minutes=38)
    cognitive = facts(session_id="S-2", payer_kind=payer, session_type=T.COGNITIVE_TREATMENT, total_minutes=10,
                      minutes_by_area={DisorderArea.COGNITION: 10}, start_time=None, stop_time=None)
    results = code_patient_day([language, cognitive], installed)
    assert line_texts(results["S-1"]) == language_lines
    assert line_texts(results["S-2"]) == cognitive_lines


def test_mue_caps_the_units(installed):
    result = code_encounter(facts(payer_kind=PayerKind.COMMERCIAL, minutes_by_area={DisorderArea.VOICE: 75}, total_minutes=75), installed)
    assert line_texts(result) == ["9X108-GN x1", "9X109-GN x1", "9X110-GN x1"]  # 9X109 would be 2; its MUE is 1
    finding = next(f for f in result.findings if f.code == "units-capped-by-mue")
    assert "9X109" in finding.message and "MUE" in finding.message
    assert installed.mue_for("92610", DOS).units == 1 and installed.mue_for("99213", DOS) is None


@pytest.mark.parametrize("pair, indicator", [
    (("92508", "97150"), "0"),  # f1
    (("92610", "92526"), "1"),  # f2
    (("97129", "9X101"), "1"),  # f3
    (("9X101", "9X104"), "1"),  # f4
])
def test_ptp_pairs_from_all_four_segments(installed, pair, indicator):
    found = installed.ncci_pair(*pair, DOS)
    assert found is not None and found.indicator == indicator and "ptp" in found.source.lower()


def test_the_installed_2027_codes_carry_no_92507_and_still_code_evaluations(installed):
    view = installed.codeset_for(DOS)
    assert view.codeset.id == "clinic-cpt-2027" and "92507" not in view.codes
    assert line_texts(code_encounter(facts(session_type=T.EVALUATION, evaluation_kind=EvaluationKind.VOICE), installed)) == ["92524-GN x1"]
    assert code_encounter(facts(minutes_by_code={"92507": 30}), installed).finding_codes.count("code-not-in-codeset") == 1


def test_a_partial_ptp_import_is_refused(tmp_path):
    plan = _plan(tmp_path / "rules", tmp_path, ptp=_ptp_files(tmp_path)[:3])
    assert any("f4 missing" in p.message for p in plan.problems)
    assert not plan.ok or plan.problems


def test_rollback_restores_what_was_there(tmp_path):
    rules_dir = tmp_path / "rules"
    first = _plan(rules_dir, tmp_path)
    apply_install(first, rules_dir)
    (rules_dir / "codesets" / "codeset-installed-2027.toml").read_text()
    second = _plan(rules_dir, tmp_path)
    entry = apply_install(second, rules_dir)
    assert "codesets/codeset-installed-2027.toml" in entry["replaced"]
    rollback_last(rules_dir)
    assert (rules_dir / "codesets" / "codeset-installed-2027.toml").is_file()  # the first install's file is back
    rollback_last(rules_dir)
    assert not (rules_dir / "codesets" / "codeset-installed-2027.toml").exists()
    assert [bool(e["rolled_back"]) for e in read_manifest(rules_dir)] == [True, True]
    assert rollback_last(rules_dir) is None
    rulebook = load_rulebook(rules_dir)
    held = code_encounter(facts(minutes_by_area={DisorderArea.LANGUAGE: 40}), rulebook)
    assert "treatment-codes-not-installed" in held.finding_codes


# -- the whole set is validated -------------------------------------------------------------------

def test_92507_in_force_after_2026_is_refused(tmp_path):
    rules_dir = tmp_path / "rules"
    (rules_dir / "codesets").mkdir(parents=True)
    (rules_dir / "codesets" / "codeset-keep-92507.toml").write_text(
        'kind = "codeset"\nid = "keep-92507"\nname = "Wrong"\nvalid_from = 2027-01-01\nvalid_to = 2027-12-31\n'
        'source = "test"\n\n[[code]]\ncode = "92507"\nparaphrase = "x"\nkind = "treatment"\ntimed = false\nunit_rule = "once_per_day"\n',
        encoding="utf-8")
    plan = _plan(rules_dir, tmp_path)
    assert any(p.entry == "code 92507" and "deleted for dates of service from 2027-01-01" in p.message for p in plan.problems)


def test_an_area_with_a_base_and_no_add_on_is_refused(tmp_path):
    spec = tmp_path / "clinic.toml"
    spec.write_text((FIXTURES / "clinic-install-2027.toml").read_text().replace(
        'area = "voice"\nrole = "addon"', 'area = "voice"\nrole = "addon"\nnote = "x"'), encoding="utf-8")
    rvu = tmp_path / "PPRRVU2027_JAN.csv"
    rvu.write_text("\n".join(line for line in (FIXTURES / "PPRRVU2027_JAN.csv").read_text().splitlines()
                             if not line.startswith(("9X109", "9X110"))) + "\n", encoding="utf-8")
    text = spec.read_text()
    for code in ("9X109", "9X110"):
        start = text.index(f'code = "{code}"')
        end = text.find("[[code]]", start)
        text = text[:text.rindex("[[code]]", 0, start)] + (text[end:] if end != -1 else "")
    spec.write_text(text, encoding="utf-8")
    plan = plan_install(tmp_path / "rules", rvu=rvu, spec=spec)
    assert any(p.entry == "area voice" and "no add-on" in p.message for p in plan.problems)


def test_a_payer_override_naming_a_code_that_is_not_valid_on_its_dates_is_flagged(tmp_path):
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    (rules_dir / "payers-clinic.toml").write_text(
        'kind = "payers"\nsource = "test"\n\n[[override]]\npayer_id = "TX-MEDICAID"\nsource = "test"\nvalid_from = 2027-01-01\n'
        'untimed_units_by_code = { "92507" = "fifteen_minute" }\n', encoding="utf-8")
    plan = _plan(rules_dir, tmp_path)
    assert any(p.file == "payer override TX-MEDICAID" and "92507" in p.message for p in plan.problems)


# -- the command, the confirmation and the audit trail -----------------------------------------------

def _run(argv, rules_dir, confirm=None):
    parser = argparse.ArgumentParser(prog="slpterm")
    add_rules_parser(parser.add_subparsers(dest="command"))
    out, audit = io.StringIO(), []
    status = run_rules(parser.parse_args(argv), rules_dir, out=out, record=lambda *a: audit.append(a), confirm=confirm)
    return status, out.getvalue(), audit


def _install_argv(tmp_path, *extra):
    return ["rules", "install", "--rvu", str(FIXTURES / "PPRRVU2027_JAN.csv"),
            "--mue", str(FIXTURES / "MCR_MUE_PractitionerServices_Eff_01-01-2027.csv"),
            "--clinic", str(FIXTURES / "clinic-install-2027.toml"), "--ptp", *map(str, _ptp_files(tmp_path)), *extra]


def test_install_asks_to_confirm_the_proposed_mapping(tmp_path):
    rules_dir = tmp_path / "rules"
    status, text, audit = _run(_install_argv(tmp_path), rules_dir, confirm=lambda question: False)
    assert status == 1 and "Not installed" in text and "proposed from the descriptor" in text
    assert audit == [] and read_manifest(rules_dir) == []
    status, text, audit = _run(_install_argv(tmp_path), rules_dir, confirm=lambda question: True)
    assert status == 0 and "Installed" in text
    assert audit[0][0] == "rules-install" and "codesets/codeset-installed-2027.toml" in audit[0][3]["files"]
    status, text, audit = _run(["rules", "rollback"], rules_dir)
    assert status == 0 and audit[0][0] == "rules-rollback"


def test_install_dry_run_writes_nothing(tmp_path):
    rules_dir = tmp_path / "rules"
    status, text, _ = _run(_install_argv(tmp_path, "--dry-run"), rules_dir)
    assert status == 0 and "Dry run" in text and "What changes on which date" in text
    assert not rules_dir.exists()


def test_install_reports_bad_files(tmp_path):
    bad = tmp_path / "PPRRVU2027_JAN.csv"
    bad.write_text("just,some,text\n1,2,3\n", encoding="utf-8")
    status, text, _ = _run(["rules", "install", "--rvu", str(bad)], tmp_path / "rules")
    assert status == 1 and "no header row found" in text and "fix:" in text


# -- a future ICD-10-CM fiscal year ------------------------------------------------------------------

@pytest.fixture
def clinic_config(tmp_path, monkeypatch):
    from slpterm.clinical import icd10

    monkeypatch.setenv("SLPTERM_CONFIG_DIR", str(tmp_path / "config"))
    icd10.reload_releases()
    yield tmp_path / "config" / "rules"
    icd10.reload_releases()


def test_install_a_future_icd10_release(clinic_config, tmp_path):
    from slpterm.clinical.icd10 import CodeStatus, check_code, excludes1_conflicts

    status, text, audit = _run(["rules", "install", "--icd10-order", str(FIXTURES / "icd10cm_order_2028.txt"),
                                "--icd10-tabular", str(FIXTURES / "icd10cm_tabular_2028.xml")], clinic_config)
    assert status == 0, text
    assert "From 2027-10-01: ICD-10-CM FY2028" in text
    assert audit and "icd10cm/fy2028/codes.zip" in audit[0][3]["files"]
    after, before = date(2027, 10, 2), date(2027, 9, 30)
    assert check_code("Z99.ZZ9", on=after).status == CodeStatus.BILLABLE
    assert check_code("Z99.ZZ9", on=before).status == CodeStatus.NOT_BILLABLE
    assert check_code("R13.12", on=after).status == CodeStatus.BILLABLE
    assert check_code("F80.2", on=after).status == CodeStatus.NOT_BILLABLE  # not in this (fixture) release
    assert check_code("F80.2", on=before).status == CodeStatus.BILLABLE
    assert ("Z99.ZZ9", "R13.12") in {(a, b) for a, b, _ in excludes1_conflicts(["Z99.ZZ9", "R13.12"], on=after)}
    manifest = json.loads((clinic_config / "installs.json").read_text())
    assert manifest[0]["year"] is None or isinstance(manifest[0]["year"], int)
    status, _, _ = _run(["rules", "rollback"], clinic_config)
    assert status == 0 and check_code("F80.2", on=after).status == CodeStatus.BILLABLE


def test_rules_check_reads_the_install_toml(tmp_path):
    status, text, _ = _run(["rules", "check", str(FIXTURES / "clinic-install-2027.toml")], tmp_path)
    assert status == 0 and "install TOML for 2027, 8 codes" in text
    broken = tmp_path / "clinic.toml"
    broken.write_text('kind = "codeset_install"\nyear = 2027\nsource = "x"\n[[code]]\ncode = "9X101"\narea = "lungs"\n', encoding="utf-8")
    status, text, _ = _run(["rules", "check", str(broken)], tmp_path)
    assert status == 1 and "area 'lungs' is unknown" in text and "fix:" in text

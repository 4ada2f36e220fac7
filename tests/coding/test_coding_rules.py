"""One row per coding rule of billing-rules.md sections 1-5 and 7: session -> claim lines."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from pathlib import Path

import pytest

from slpterm.coding import code_encounter, code_patient_day, load_rulebook
from slpterm.coding.rulebook import RuleBookError
from slpterm.domain.vocab import (
    ClinicianRole,
    DisorderArea,
    EvaluationKind,
    PayerKind,
    SessionType,
    Setting,
)

from .factory import line_texts, make_facts

EVAL = SessionType.EVALUATION
T = SessionType

RULE_ROWS = [
    # section 1: which code a session selects (Medicare adds GN)
    ("92507 individual treatment", {}, ["92507-GN x1"]),
    ("92507 once per day whatever the length", {"total_minutes": 120}, ["92507-GN x1"]),
    ("92508 per group participant", {"session_type": T.GROUP_TREATMENT, "group_size": 3}, ["92508-GN x1"]),
    ("92526 swallowing treatment", {"session_type": T.SWALLOWING_TREATMENT}, ["92526-GN x1"]),
    ("92609 AAC treatment with an SGD", {"session_type": T.AAC_TREATMENT, "speech_generating_device": True}, ["92609-GN x1"]),
    ("92606 AAC treatment, non-SGD", {"session_type": T.AAC_TREATMENT, "speech_generating_device": False}, ["92606-GN x1"]),
    ("97129/97130 cognitive treatment 45 min", {"session_type": T.COGNITIVE_TREATMENT, "total_minutes": 45}, ["97129-GN x1", "97130-GN x2"]),
    ("97129 alone at 15 min", {"session_type": T.COGNITIVE_TREATMENT, "total_minutes": 15}, ["97129-GN x1"]),
    ("cognitive minutes by area win over total", {"session_type": T.COGNITIVE_TREATMENT, "total_minutes": 60,
                                                  "minutes_by_area": {DisorderArea.COGNITION: 20}}, ["97129-GN x1"]),
    ("92521 fluency evaluation", {"session_type": EVAL, "evaluation_kind": EvaluationKind.FLUENCY}, ["92521-GN x1"]),
    ("92522 speech sound evaluation", {"session_type": EVAL, "evaluation_kind": EvaluationKind.SPEECH_SOUND}, ["92522-GN x1"]),
    ("92523 speech and language evaluation", {"session_type": EVAL, "evaluation_kind": EvaluationKind.SPEECH_SOUND_AND_LANGUAGE}, ["92523-GN x1"]),
    ("92523-52 language-only evaluation, GN second", {"session_type": EVAL, "evaluation_kind": EvaluationKind.LANGUAGE_ONLY}, ["92523-52-GN x1"]),
    ("92524 voice evaluation", {"session_type": EVAL, "evaluation_kind": EvaluationKind.VOICE}, ["92524-GN x1"]),
    ("92610 clinical swallow evaluation", {"session_type": EVAL, "evaluation_kind": EvaluationKind.SWALLOWING_CLINICAL}, ["92610-GN x1"]),
    ("92597 voice prosthetic evaluation", {"session_type": EVAL, "evaluation_kind": EvaluationKind.VOICE_PROSTHETIC}, ["92597-GN x1"]),
    ("re-evaluation uses the evaluation code", {"session_type": T.RE_EVALUATION, "evaluation_kind": EvaluationKind.LANGUAGE_ONLY}, ["92523-52-GN x1"]),
    ("92607 SGD evaluation 75 min: add-on needs 16 more", {"session_type": T.AAC_EVALUATION, "evaluation_kind": EvaluationKind.AAC_SGD, "total_minutes": 75}, ["92607-GN x1"]),
    ("92607+92608 SGD evaluation 76 min", {"session_type": T.AAC_EVALUATION, "evaluation_kind": EvaluationKind.AAC_SGD, "total_minutes": 76}, ["92607-GN x1", "92608-GN x1"]),
    ("92607+92608 x2 at 106 min", {"session_type": T.AAC_EVALUATION, "evaluation_kind": EvaluationKind.AAC_SGD, "total_minutes": 106}, ["92607-GN x1", "92608-GN x2"]),
    ("92605 non-SGD evaluation from 31 min", {"session_type": T.AAC_EVALUATION, "evaluation_kind": EvaluationKind.AAC_NON_SGD, "total_minutes": 31}, ["92605-GN x1"]),
    ("92605 not billed at 30 min", {"session_type": T.AAC_EVALUATION, "evaluation_kind": EvaluationKind.AAC_NON_SGD, "total_minutes": 30}, []),
    ("92605+92618 at 76 min", {"session_type": T.AAC_EVALUATION, "evaluation_kind": EvaluationKind.AAC_NON_SGD, "total_minutes": 76}, ["92605-GN x1", "92618-GN x1"]),
    ("92626 alone at 67 min", {"minutes_by_code": {"92626": 67}, "session_type": EVAL, "evaluation_kind": EvaluationKind.FLUENCY}, ["92626-GN x1"]),
    ("92626+92627 at 68 min (15-min add-on from 8)", {"minutes_by_code": {"92626": 68}, "session_type": EVAL}, ["92626-GN x1", "92627-GN x1"]),
    ("96105 aphasia 30 min: nothing", {"session_type": EVAL, "evaluation_kind": EvaluationKind.APHASIA, "total_minutes": 30}, []),
    ("96105 aphasia 31 min", {"session_type": EVAL, "evaluation_kind": EvaluationKind.APHASIA, "total_minutes": 31}, ["96105-GN x1"]),
    ("96105 aphasia 91 min: 2 units", {"session_type": EVAL, "evaluation_kind": EvaluationKind.APHASIA, "total_minutes": 91}, ["96105-GN x2"]),
    ("96125 30 min: nothing", {"session_type": EVAL, "evaluation_kind": EvaluationKind.COGNITIVE_TESTING, "total_minutes": 30}, []),
    ("96125 31 min: 1 unit", {"session_type": EVAL, "evaluation_kind": EvaluationKind.COGNITIVE_TESTING, "total_minutes": 31}, ["96125-GN x1"]),
    ("96125 90 min: 1 unit", {"session_type": EVAL, "evaluation_kind": EvaluationKind.COGNITIVE_TESTING, "total_minutes": 90}, ["96125-GN x1"]),
    ("96125 91 min: 2 units", {"session_type": EVAL, "evaluation_kind": EvaluationKind.COGNITIVE_TESTING, "total_minutes": 91}, ["96125-GN x2"]),
    ("explicit codes replace the session type's code", {"minutes_by_code": {"92526": 30}}, ["92526-GN x1"]),
    ("an add-on named alone folds into its primary", {"minutes_by_code": {"97130": 25}}, ["97129-GN x1", "97130-GN x1"]),
    ("92506 refused", {"minutes_by_code": {"92506": 30}}, []),
    ("97110 refused for SLP", {"minutes_by_code": {"97110": 30}}, []),
    ("97112 refused for SLP", {"minutes_by_code": {"97112": 30}}, []),
    ("97150 refused for SLP", {"minutes_by_code": {"97150": 30}}, []),
    ("97530 refused for SLP", {"minutes_by_code": {"97530": 30}}, []),
    ("2027 DOS without a 2027 code set: no code", {"date_of_service": date(2027, 1, 4), "today": date(2027, 1, 5)}, []),
    ("92507 still billed on 2026-12-31", {"date_of_service": date(2026, 12, 31), "today": date(2027, 1, 5),
                                          "plan_end": date(2027, 2, 1), "plan_recertified_on": date(2026, 12, 1)}, ["92507-GN x1"]),
    # section 3: modifiers by payer
    ("no GN for a payer that does not require it", {"payer_kind": PayerKind.SCHOOL}, ["92507 x1"]),
    ("GN for commercial by default", {"payer_kind": PayerKind.COMMERCIAL}, ["92507-GN x1"]),
    ("KX when YTD + claim reaches the 2026 threshold", {"ytd_therapy_amount": Decimal("2360.00")}, ["92507-GN-KX x1"]),
    ("no KX just below the threshold", {"ytd_therapy_amount": Decimal("2359.99")}, ["92507-GN x1"]),
    ("KX uses the DOS's year (2025: $2,410)", {"date_of_service": date(2025, 9, 10), "plan_start": date(2025, 9, 1),
                                               "plan_end": date(2025, 11, 28), "plan_first_treatment_date": date(2025, 9, 1),
                                               "plan_certified_on": date(2025, 9, 2), "ytd_therapy_amount": Decimal("2290.00")},
     ["92507-GN-KX x1"]),
    ("no KX for commercial", {"payer_kind": PayerKind.COMMERCIAL, "ytd_therapy_amount": Decimal("9000")}, ["92507-GN x1"]),
    ("95 for Medicare telehealth", {"setting": Setting.TELEHEALTH_HOME}, ["92507-GN-95 x1"]),
    ("assistant on Medicaid: never CQ/CO", {"payer_kind": PayerKind.MEDICAID, "role": ClinicianRole.ASSISTANT}, ["92507-GN x1"]),
]


@pytest.mark.parametrize("overrides, expected", [row[1:] for row in RULE_ROWS], ids=[row[0] for row in RULE_ROWS])
def test_rule_table(rulebook, overrides, expected):
    result = code_encounter(make_facts(**overrides), rulebook)
    assert line_texts(result) == expected
    for line in result.lines:
        assert not {"CQ", "CO", "GP", "GO"} & set(line.modifiers)
        assert len(line.modifiers) <= 4


REFUSAL_ROWS = [
    ({"minutes_by_code": {"92506": 30}}, "code-deleted"),
    ({"minutes_by_code": {"97110": 30}}, "slp-code-not-allowed"),
    ({"minutes_by_code": {"97530": 30, "92507": 30}}, "slp-code-not-allowed"),
    ({"minutes_by_code": {"92999": 30}}, "code-not-in-codeset"),
]


@pytest.mark.parametrize("overrides, code", REFUSAL_ROWS)
def test_refused_codes_are_errors(rulebook, overrides, code):
    result = code_encounter(make_facts(**overrides), rulebook)
    assert code in result.finding_codes
    assert result.blocked
    assert all(line.code not in ("92506", "97110", "97530", "92999") for line in result.lines)


# section 2: CMS total-time (8-minute rule) table, and the per-code method
CMS_TABLE = [(7, 0), (8, 1), (22, 1), (23, 2), (37, 2), (38, 3), (52, 3), (53, 4), (67, 4), (68, 5), (82, 5), (83, 6)]


@pytest.mark.parametrize("minutes, units", CMS_TABLE)
def test_cms_eight_minute_rule_table(rulebook, minutes, units):
    result = code_encounter(make_facts(session_type=T.COGNITIVE_TREATMENT, total_minutes=minutes), rulebook)
    assert sum(line.units for line in result.lines) == units
    if units:
        assert result.lines[0].code == "97129" and result.lines[0].units == 1
    else:
        assert "time-below-minimum" in result.finding_codes


POOL_CODESET = """
kind = "codeset"
id = "test-pool-2026"
name = "Test set with a second 15-minute code"
valid_from = 2026-01-01
valid_to = 2026-12-31
inherits = "slp-cpt-2026"
carries = "all"
source = "test only"

[[code]]
code = "9Y001"
paraphrase = "Test 15-minute timed code"
kind = "treatment"
timed = true
unit_rule = "first_unit"
min_minutes = 8
unit_minutes = 15
max_units = 8
cms_fifteen_minute = true
"""


@pytest.mark.parametrize(
    "payer, minutes, expected",
    [
        # CMS pools the day's 15-minute codes: 7 + 7 = 14 min -> one unit, to the code with more time
        (PayerKind.MEDICARE, {"97129": 7, "9Y001": 6}, ["97129-GN x1"]),
        (PayerKind.COMMERCIAL, {"97129": 7, "9Y001": 6}, []),
        # 33 + 7 = 40 min -> 3 units: two for 97129's full 30 min, the third to the larger remainder
        (PayerKind.MEDICARE, {"97129": 33, "9Y001": 7}, ["97129-GN x1", "97130-GN x1", "9Y001-GN x1"]),
        (PayerKind.COMMERCIAL, {"97129": 33, "9Y001": 7}, ["97129-GN x1", "97130-GN x1"]),
    ],
)
def test_total_time_versus_per_code(tmp_path: Path, payer, minutes, expected):
    (tmp_path / "codeset-test.toml").write_text(POOL_CODESET, encoding="utf-8")
    rulebook = load_rulebook(tmp_path, fee_overrides={"9Y001": Decimal("10")})
    result = code_encounter(make_facts(payer_kind=payer, minutes_by_code=minutes, session_type=T.COGNITIVE_TREATMENT), rulebook)
    assert line_texts(result) == expected


@pytest.mark.parametrize(
    "override, minutes, expected, finding",
    [
        ({"untimed_units": "fifteen_minute", "untimed_units_codes": ["92507"]}, 40, ["92507-GN x3"], None),
        ({"untimed_units": "fifteen_minute", "untimed_units_codes": ["92507"]}, 7, [], "time-below-minimum"),
        ({"untimed_units_by_code": {"92507": "fifteen_minute"}}, 23, ["92507-GN x2"], None),
        ({"untimed_min_minutes": 15}, 10, [], "time-below-minimum"),
        ({"untimed_min_minutes": 15}, 15, ["92507-GN x1"], None),
    ],
)
def test_untimed_unit_policy_per_payer(override, minutes, expected, finding):
    rulebook = load_rulebook(payer_overrides={"TX-MCD": override})
    facts = make_facts(payer_kind=PayerKind.MEDICAID, payer_id="TX-MCD", total_minutes=minutes)
    result = code_encounter(facts, rulebook)
    assert line_texts(result) == expected
    if finding:
        assert finding in result.finding_codes


def test_a_unit_policy_without_codes_is_refused_by_name():
    with pytest.raises(RuleBookError, match="names no code"):
        load_rulebook(payer_overrides={"TX-MCD": {"untimed_units": "fifteen_minute"}})


def test_clinic_payers_file_overrides_by_payer_id(tmp_path: Path):
    (tmp_path / "payers.toml").write_text(
        'kind = "payers"\nsource = "clinic contract 2026"\n\n[[override]]\npayer_id = "ND-MCD"\n'
        'source = "ND Medicaid 2026-02-01"\nvalid_from = 2026-02-01\nuntimed_min_minutes = 23\n',
        encoding="utf-8",
    )
    rulebook = load_rulebook(tmp_path)
    before = make_facts(payer_kind=PayerKind.MEDICAID, payer_id="ND-MCD", total_minutes=20, date_of_service=date(2026, 1, 20),
                        plan_start=date(2026, 1, 5), plan_first_treatment_date=date(2026, 1, 5))
    after = make_facts(payer_kind=PayerKind.MEDICAID, payer_id="ND-MCD", total_minutes=20)
    other_payer = make_facts(payer_kind=PayerKind.MEDICAID, payer_id="OR-MCD", total_minutes=20)
    assert line_texts(code_encounter(before, rulebook)) == ["92507-GN x1"]
    assert line_texts(code_encounter(after, rulebook)) == []
    assert line_texts(code_encounter(other_payer, rulebook)) == ["92507-GN x1"]


# section 1: untimed codes once per day across same-day sessions
def test_same_day_untimed_sessions_bill_one_unit_on_the_earliest(rulebook):
    morning = make_facts(session_id="S-B", start_time=time(9, 0), stop_time=time(9, 30), total_minutes=30)
    afternoon = make_facts(session_id="S-A", start_time=time(14, 0), stop_time=time(14, 30), total_minutes=30)
    results = code_patient_day([afternoon, morning], rulebook)
    assert line_texts(results["S-B"]) == ["92507-GN x1"]
    assert results["S-B"].lines[0].minutes == 60
    assert line_texts(results["S-A"]) == []
    assert "billed-on-other-session" in results["S-A"].finding_codes
    assert not results["S-A"].blocked
    assert code_encounter(afternoon, rulebook, same_day=[morning]) == results["S-A"]


def test_same_day_without_start_times_falls_back_to_session_id(rulebook):
    first = make_facts(session_id="S-1", start_time=None, stop_time=None)
    second = make_facts(session_id="S-2", start_time=None, stop_time=None)
    results = code_patient_day([second, first], rulebook)
    assert line_texts(results["S-1"]) == ["92507-GN x1"] and line_texts(results["S-2"]) == []


def test_same_day_timed_minutes_are_pooled(rulebook):
    first = make_facts(session_id="S-1", session_type=T.COGNITIVE_TREATMENT, total_minutes=5, start_time=time(9, 0))
    second = make_facts(session_id="S-2", session_type=T.COGNITIVE_TREATMENT, total_minutes=5, start_time=time(13, 0))
    results = code_patient_day([first, second], rulebook)
    assert line_texts(results["S-1"]) == ["97129-GN x1"]
    assert line_texts(results["S-2"]) == []


def test_day_rejects_mixed_dates(rulebook):
    with pytest.raises(ValueError):
        code_patient_day([make_facts(session_id="a"), make_facts(session_id="b", date_of_service=date(2026, 3, 11))], rulebook)


# section 3: KX, targeted review, telehealth, 96/97, four modifiers
def test_kx_counts_the_whole_day_and_warns(rulebook):
    result = code_encounter(make_facts(ytd_therapy_amount=Decimal("2400")), rulebook)
    assert "kx-needed" in result.finding_codes and not result.blocked


def test_targeted_review_warning_above_3000(rulebook):
    under = code_encounter(make_facts(ytd_therapy_amount=Decimal("2880")), rulebook)
    over = code_encounter(make_facts(ytd_therapy_amount=Decimal("2881")), rulebook)
    assert "targeted-review-risk" not in under.finding_codes
    assert "targeted-review-risk" in over.finding_codes


@pytest.mark.parametrize("ytd, kx", [(Decimal("0"), False), (Decimal("2400.00"), True)])
def test_kx_2027_is_provisional_on_the_last_known_amount(rulebook, ytd, kx):
    facts = make_facts(date_of_service=date(2027, 2, 1), today=date(2027, 2, 2), session_type=EVAL,
                       evaluation_kind=EvaluationKind.FLUENCY, ytd_therapy_amount=ytd,
                       plan_start=date(2027, 1, 20), plan_end=date(2027, 4, 1), plan_certified_on=date(2027, 1, 22),
                       plan_first_treatment_date=date(2027, 1, 20))
    result = code_encounter(facts, rulebook)
    finding = next(f for f in result.findings if f.code == "kx-threshold-provisional")
    assert "2026" in finding.message and "$2,480.00" in finding.message and "2027" in finding.fix
    assert ("KX" in result.lines[0].modifiers) is kx


def test_kx_threshold_missing_for_year_warns(tmp_path):
    (tmp_path / "kx_thresholds-2027.toml").write_text(
        'kind = "kx_thresholds"\nsource = "test"\n', encoding="utf-8")
    rulebook = load_rulebook(tmp_path)
    del rulebook.kx_thresholds[2027]
    facts = make_facts(date_of_service=date(2027, 2, 1), today=date(2027, 2, 2), session_type=EVAL,
                       evaluation_kind=EvaluationKind.FLUENCY, plan_start=date(2027, 1, 20), plan_end=date(2027, 4, 1),
                       plan_certified_on=date(2027, 1, 22), plan_first_treatment_date=date(2027, 1, 20))
    assert "kx-threshold-unknown" in code_encounter(facts, rulebook).finding_codes


@pytest.mark.parametrize(
    "setting, pos, modifier",
    [
        (Setting.OFFICE, "11", None),
        (Setting.HOME, "12", None),
        (Setting.SCHOOL, "03", None),
        (Setting.TELEHEALTH_OTHER, "02", "95"),
        (Setting.TELEHEALTH_HOME, "10", "95"),
    ],
)
def test_place_of_service_from_setting(rulebook, setting, pos, modifier):
    result = code_encounter(make_facts(setting=setting), rulebook)
    assert result.place_of_service == pos
    assert result.lines[0].place_of_service == pos
    assert ("95" in result.lines[0].modifiers) == (modifier == "95")


def test_pos_10_did_not_exist_before_2022():
    rulebook = load_rulebook()
    assert rulebook.pos_for(Setting.TELEHEALTH_HOME, date(2021, 6, 1)).code == "02"
    assert rulebook.pos_for(Setting.TELEHEALTH_HOME, date(2022, 1, 1)).code == "10"


def test_gt_instead_of_95_per_payer():
    rulebook = load_rulebook(payer_overrides={"AK-MCD": {"telehealth_modifier": "GT"}})
    facts = make_facts(payer_kind=PayerKind.MEDICAID, payer_id="AK-MCD", setting=Setting.TELEHEALTH_HOME)
    assert line_texts(code_encounter(facts, rulebook)) == ["92507-GN-GT x1"]


def test_medicare_telehealth_authority_end_is_data():
    rulebook = load_rulebook(payer_overrides={"MCR-TX": {"telehealth_covered_until": "2026-01-31"}})
    result = code_encounter(make_facts(setting=Setting.TELEHEALTH_HOME), rulebook)
    assert "telehealth-not-covered" in result.finding_codes and result.blocked
    assert load_rulebook().policy_for(PayerKind.MEDICARE, "", date(2026, 1, 1)).telehealth_covered_until == date(2027, 12, 31)


@pytest.mark.parametrize(
    "rehabilitative, expected, finding",
    [(True, ["92507-GN-97 x1"], None), (False, ["92507-GN-96 x1"], None), (None, ["92507-GN x1"], "missing-hab-rehab")],
)
def test_habilitative_rehabilitative_modifier(rehabilitative, expected, finding):
    rulebook = load_rulebook(payer_overrides={"ACME": {"hab_rehab_modifier_required": True}})
    facts = make_facts(payer_kind=PayerKind.COMMERCIAL, payer_id="ACME", rehabilitative=rehabilitative)
    result = code_encounter(facts, rulebook)
    assert line_texts(result) == expected
    assert (finding in result.finding_codes) if finding else not result.blocked


def test_at_most_four_modifiers():
    rulebook = load_rulebook(payer_overrides={"MCR-TX": {"hab_rehab_modifier_required": True}})
    facts = make_facts(session_type=EVAL, evaluation_kind=EvaluationKind.LANGUAGE_ONLY, setting=Setting.TELEHEALTH_HOME,
                       ytd_therapy_amount=Decimal("5000"), rehabilitative=True)
    result = code_encounter(facts, rulebook)
    assert line_texts(result) == ["92523-52-GN-95-KX x1"]
    assert "too-many-modifiers" in result.finding_codes and result.blocked


# section 4: NCCI pairs
@pytest.mark.parametrize(
    "documented, preference, expected_96125",
    [(True, None, "96125-GN-XU x1"), (True, "XS", "96125-GN-XS x1"), (True, "59", "96125-GN-59 x1"), (False, None, "96125-GN x1")],
)
def test_ncci_indicator_1_needs_distinct_service(rulebook, documented, preference, expected_96125):
    facts = make_facts(session_type=EVAL, minutes_by_code={"92523": 60, "96125": 60},
                       distinct_service_documented=documented, distinct_modifier=preference)
    result = code_encounter(facts, rulebook)
    assert line_texts(result) == ["92523-GN x1", expected_96125]
    line = result.lines[1]
    assert not ("59" in line.modifiers and {"XE", "XS", "XP", "XU"} & set(line.modifiers))
    assert ("ncci-needs-distinct-service" in result.finding_codes) == (not documented)


def test_ncci_indicator_1_across_sessions_prefers_xe(rulebook):
    evaluation = make_facts(session_id="S-1", session_type=EVAL, evaluation_kind=EvaluationKind.SPEECH_SOUND_AND_LANGUAGE,
                            start_time=time(9, 0))
    testing = make_facts(session_id="S-2", session_type=EVAL, evaluation_kind=EvaluationKind.COGNITIVE_TESTING,
                         total_minutes=60, start_time=time(13, 0), distinct_service_documented=True)
    results = code_patient_day([evaluation, testing], rulebook)
    assert line_texts(results["S-2"]) == ["96125-GN-XE x1"]


def test_ncci_indicator_0_is_refused(rulebook):
    result = code_encounter(make_facts(session_type=EVAL, minutes_by_code={"92522": 45, "92523": 45},
                                       distinct_service_documented=True), rulebook)
    finding = next(f for f in result.findings if f.code == "ncci-pair-not-allowed")
    assert result.lines[finding.line].code == "92522"
    assert result.blocked


@pytest.mark.parametrize("codes", [("92507", "92526"), ("92526", "92610"), ("92607", "92597"), ("92523", "92507")])
def test_unconfirmed_ncci_pairs_warn_without_guessing(rulebook, codes):
    result = code_encounter(make_facts(minutes_by_code={codes[0]: 40, codes[1]: 40}, distinct_service_documented=True), rulebook)
    assert "ncci-pair-unconfirmed" in result.finding_codes
    assert not result.blocked
    assert all(not {"59", "XE", "XS", "XP", "XU"} & set(line.modifiers) for line in result.lines)


# section 7: diagnoses and pointers
@pytest.mark.parametrize(
    "codes, diagnoses, pointers",
    [
        (("I69.391:medical", "R13.12"), ("R13.12", "I69.391"), (1, 2)),
        (("R13.12", "R47.1", "R49.0", "R41.841", "R48.2", "I69.391:medical"),
         ("R13.12", "R47.1", "R49.0", "R41.841", "R48.2", "I69.391"), (1, 2, 3, 6)),
        (("r1312", "I69.391:medical"), ("R13.12", "I69.391"), (1, 2)),
    ],
)
def test_diagnosis_order_and_pointers(rulebook, codes, diagnoses, pointers):
    result = code_encounter(make_facts(dx=codes), rulebook)
    assert result.diagnoses == diagnoses
    assert result.lines[0].diagnosis_pointers == pointers


def test_commercial_pointers_are_the_first_four(rulebook):
    facts = make_facts(payer_kind=PayerKind.COMMERCIAL, dx=("F80.2", "F80.1", "F80.0", "R47.1", "R48.2"))
    result = code_encounter(facts, rulebook)
    assert result.lines[0].diagnosis_pointers == (1, 2, 3, 4)


def test_fee_schedule_and_overrides():
    assert code_encounter(make_facts(), load_rulebook()).lines[0].charge == Decimal("120.00")
    rulebook = load_rulebook(fee_overrides={"92507": Decimal("99.50"), "97130": "30"})
    assert code_encounter(make_facts(), rulebook).lines[0].charge == Decimal("99.50")
    cognitive = code_encounter(make_facts(session_type=T.COGNITIVE_TREATMENT, total_minutes=45), rulebook)
    assert [line.charge for line in cognitive.lines] == [Decimal("40.00"), Decimal("60")]

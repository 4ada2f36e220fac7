"""One row per scrubber finding (billing-rules.md sections 6-7 and the issue's list):
session -> the finding's stable code and severity."""

from __future__ import annotations

from datetime import date, time

import pytest

from slpterm.coding import Severity, code_encounter, load_rulebook
from slpterm.domain.vocab import ClinicianRole, EvaluationKind, PayerKind, PlanStatus, SessionType, Setting

from .factory import BAD_NPI, line_texts, make_facts

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO
EVAL = SessionType.EVALUATION

FINDING_ROWS = [
    ("note-unsigned", E, {"signed": False}),
    ("no-time-recorded", E, {"total_minutes": 0}),
    ("area-minutes-exceed-total", W, {"total_minutes": 30, "minutes_by_area": {"language": 40}}),
    ("stop-before-start", E, {"start_time": time(10, 0), "stop_time": time(9, 0)}),
    ("dos-in-future", E, {"today": date(2026, 3, 9)}),
    ("no-codeset-for-dos", E, {"date_of_service": date(2028, 1, 4), "today": date(2028, 1, 5)}),
    ("treatment-codes-not-installed", E, {"date_of_service": date(2027, 1, 4), "today": date(2027, 1, 5)}),
    ("no-codeset-for-dos", E, {"date_of_service": date(2019, 6, 3), "today": date(2026, 1, 5)}),
    ("no-diagnosis", E, {"diagnoses": ()}),
    ("invalid-icd10", E, {"dx": ("R13.12", "I69.391:medical", "13X")}),
    ("icd10-not-billable", E, {"dx": ("R13.1", "I69.391:medical")}),
    ("icd10-not-billable", E, {"dx": ("R13.12", "I69.391:medical", "Z99.899")}),  # not a code at all
    ("excludes1-conflict", E, {"dx": ("R47.1", "I69.322:medical")}),  # the tabular's note at R47.1
    ("excludes1-conflict", E, {"dx": ("F80.0", "R47.01", "I69.391:medical")}),
    ("diagnosis-companion-missing", W, {"dx": ("R47.1", "I69.391:medical")}),
    ("missing-medical-diagnosis", E, {"dx": ("R13.12",)}),
    ("missing-treatment-diagnosis", E, {"dx": ("I69.391:medical",)}),
    ("no-plan-of-care", E, {"plan": None}),
    ("poc-expired", E, {"plan_end": date(2026, 3, 1)}),
    ("poc-expired", E, {"plan_status": PlanStatus.DISCHARGED}),
    ("poc-not-started", E, {"plan_start": date(2026, 3, 11)}),
    ("poc-not-certified", E, {"plan_certified_on": None, "plan_status": PlanStatus.DRAFT}),
    ("poc-certification-pending", W, {"plan_certified_on": None, "plan_first_treatment_date": date(2026, 3, 2)}),
    ("poc-certified-late", W, {"plan_certified_on": date(2026, 3, 9)}),
    ("poc-recert-needed", E, {"plan_start": date(2025, 12, 10), "plan_first_treatment_date": date(2025, 12, 10),
                              "plan_certified_on": date(2025, 12, 12)}),
    ("missing-certifying-npi", E, {"plan_certifying_npi": None}),
    ("invalid-certifying-npi", E, {"plan_certifying_npi": BAD_NPI}),
    ("progress-report-overdue", E, {"treatment_days_since_progress_report": 10}),
    ("progress-report-due", I, {"treatment_days_since_progress_report": 9}),
    ("frequency-exceeded", W, {"visits_this_week": 3}),
    ("no-goals-addressed", W, {"goals_addressed": 0}),
    ("no-interventions-recorded", W, {"techniques": ()}),
    ("kx-needed", W, {"ytd_therapy_amount": "2400"}),
    ("targeted-review-risk", W, {"ytd_therapy_amount": "2950"}),
    ("group-too-large", E, {"session_type": SessionType.GROUP_TREATMENT, "group_size": 5}),
    ("group-too-small", E, {"session_type": SessionType.GROUP_TREATMENT, "group_size": 1}),
    ("invalid-rendering-npi", E, {"rendering_npi": BAD_NPI}),
    ("invalid-rendering-npi", E, {"rendering_npi": "12345"}),
    ("invalid-billing-npi", E, {"billing_npi": BAD_NPI}),
    ("invalid-billing-npi", W, {"billing_npi": BAD_NPI, "payer_kind": PayerKind.SELF_PAY}),
    ("missing-billing-tax-id", E, {"tax_id": ""}),
    ("invalid-billing-tax-id", E, {"tax_id": "12-34"}),
    ("missing-billing-address", E, {"city": ""}),
    ("missing-member-id", E, {"member_id": ""}),
    ("missing-start-stop-times", E, {"payer_kind": PayerKind.SCHOOL, "start_time": None}),
    ("assistant-not-billable", E, {"role": ClinicianRole.ASSISTANT}),
    ("clinical-fellow-check-state", W, {"role": ClinicianRole.CLINICAL_FELLOW}),
    ("clinical-fellow-not-billable", E, {"role": ClinicianRole.CLINICAL_FELLOW, "date_of_service": date(2025, 7, 28),
                                          "plan_start": date(2025, 7, 1), "plan_end": date(2025, 9, 1),
                                          "plan_first_treatment_date": date(2025, 7, 1), "plan_certified_on": date(2025, 7, 3)}),
    ("home-health-episode", E, {"setting": Setting.HOME, "under_home_health_plan": True}),
    ("missing-evaluation-kind", E, {"session_type": EVAL}),
    ("missing-aac-device-kind", E, {"session_type": SessionType.AAC_TREATMENT}),
    ("payability-unconfirmed", W, {"session_type": SessionType.AAC_TREATMENT, "speech_generating_device": False}),
    ("time-below-minimum", W, {"session_type": SessionType.COGNITIVE_TREATMENT, "total_minutes": 7}),
    ("code-not-in-codeset", E, {"minutes_by_code": {"92999": 30}}),
    ("slp-code-not-allowed", E, {"minutes_by_code": {"97530": 30}}),
    ("code-deleted", E, {"minutes_by_code": {"92506": 30}}),
    ("ncci-pair-not-allowed", E, {"minutes_by_code": {"92522": 30, "92523": 30}}),
    ("ncci-needs-distinct-service", E, {"minutes_by_code": {"92523": 30, "96125": 60}}),
    ("distinct-service-modifier", I, {"minutes_by_code": {"92523": 30, "96125": 60}, "distinct_service_documented": True}),
    ("ncci-pair-unconfirmed", W, {"minutes_by_code": {"92507": 30, "92526": 30}}),
]


def _apply_text_amounts(overrides):
    from decimal import Decimal

    if isinstance(overrides.get("ytd_therapy_amount"), str):
        overrides = {**overrides, "ytd_therapy_amount": Decimal(overrides["ytd_therapy_amount"])}
    return overrides


@pytest.mark.parametrize(
    "code, severity, overrides", [row for row in FINDING_ROWS], ids=[f"{row[0]}-{i}" for i, row in enumerate(FINDING_ROWS)]
)
def test_finding_table(rulebook, code, severity, overrides):
    result = code_encounter(make_facts(**_apply_text_amounts(overrides)), rulebook)
    matches = [f for f in result.findings if f.code == code]
    assert matches, f"expected {code}, got {result.finding_codes}"
    finding = matches[0]
    assert finding.severity is severity
    assert finding.message.strip() and finding.fix.strip()
    assert result.blocked == any(f.severity is E for f in result.findings)
    if severity is E:
        assert result.blocked


def test_default_session_is_clean(rulebook):
    result = code_encounter(make_facts(), rulebook)
    assert result.findings == ()
    assert line_texts(result) == ["92507-GN x1"]
    assert not result.blocked


@pytest.mark.parametrize(
    "overrides",
    [
        {"payer_kind": PayerKind.SELF_PAY, "member_id": ""},
        {"session_type": EVAL, "evaluation_kind": EvaluationKind.FLUENCY, "plan": None},
        {"payer_kind": PayerKind.COMMERCIAL, "dx": ("F80.2",)},
        {"payer_kind": PayerKind.MEDICAID, "role": ClinicianRole.ASSISTANT},
        {"payer_kind": PayerKind.COMMERCIAL, "role": ClinicianRole.CLINICAL_FELLOW},
        {"payer_kind": PayerKind.COMMERCIAL, "treatment_days_since_progress_report": 25},
    ],
    ids=["self-pay needs no member id", "evaluations need no plan", "commercial needs no medical dx",
         "medicaid accepts assistants", "commercial accepts fellows", "progress interval is Medicare's"],
)
def test_rules_that_do_not_apply_stay_quiet(rulebook, overrides):
    result = code_encounter(make_facts(**overrides), rulebook)
    assert not result.blocked, result.findings


def test_plan_certification_boundaries(rulebook):
    # certified within 30 days of the first treatment day: fine; 90 days from start: recertify
    on_time = make_facts(plan_certified_on=date(2026, 3, 4), plan_first_treatment_date=date(2026, 2, 2))
    assert "poc-certified-late" not in code_encounter(on_time, rulebook).finding_codes
    day_89 = make_facts(plan_start=date(2025, 12, 11), plan_first_treatment_date=date(2025, 12, 11), plan_certified_on=date(2025, 12, 12))
    day_90 = make_facts(plan_start=date(2025, 12, 10), plan_first_treatment_date=date(2025, 12, 10), plan_certified_on=date(2025, 12, 12))
    assert "poc-recert-needed" not in code_encounter(day_89, rulebook).finding_codes
    assert "poc-recert-needed" in code_encounter(day_90, rulebook).finding_codes
    recertified = make_facts(plan_start=date(2025, 12, 10), plan_first_treatment_date=date(2025, 12, 10),
                             plan_certified_on=date(2025, 12, 12), plan_recertified_on=date(2026, 3, 1))
    assert "poc-recert-needed" not in code_encounter(recertified, rulebook).finding_codes


def test_progress_interval_is_data():
    rulebook = load_rulebook(payer_overrides={"MCR-TX": {"progress_report_interval": 5}})
    result = code_encounter(make_facts(treatment_days_since_progress_report=5), rulebook)
    assert "progress-report-overdue" in result.finding_codes


def test_group_size_limit_is_data():
    rulebook = load_rulebook(payer_overrides={"MCR-TX": {"max_group_size": 6}})
    result = code_encounter(make_facts(session_type=SessionType.GROUP_TREATMENT, group_size=5), rulebook)
    assert "group-too-large" not in result.finding_codes


def test_findings_are_sorted_errors_first(rulebook):
    result = code_encounter(make_facts(signed=False, goals_addressed=0, treatment_days_since_progress_report=9), rulebook)
    severities = [f.severity for f in result.findings]
    assert severities == sorted(severities, key=[E, W, I].index)
    assert {"note-unsigned", "no-goals-addressed", "progress-report-due"} <= set(result.finding_codes)

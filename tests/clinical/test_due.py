from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from slpterm.clinical.data import ClinicalDataError
from slpterm.clinical.due import (
    DueItem,
    DueKind,
    IepDueFacts,
    KxDueFacts,
    PatientDueFacts,
    PlanDueFacts,
    ProgressReportMode,
    Severity,
    default_rules,
    due_items,
    iep_expected_minutes,
    iep_period_bounds,
    load_documentation_rules,
    summarize,
    with_progress_mode,
)
from slpterm.domain.vocab import IepPeriod, IepServiceKind, PayerKind, PlanStatus

TODAY = dt.date(2026, 3, 11)  # a Wednesday


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def plan(**overrides) -> PlanDueFacts:
    values = dict(
        plan_id="p1",
        start=d("2026-02-01"),
        end=d("2026-04-30"),
        status=PlanStatus.CERTIFIED,
        certified_on=d("2026-02-03"),
        first_treatment_date=d("2026-02-02"),
        treatment_dates_since_progress_report=(),
    )
    values.update(overrides)
    return PlanDueFacts(**values)


def treatment_days(count: int, *, ending: dt.date = TODAY - dt.timedelta(days=1)) -> tuple[dt.date, ...]:
    return tuple(ending - dt.timedelta(days=2 * i) for i in range(count))


def kinds(items: list[DueItem]) -> list[tuple[str, str, str]]:
    return [(item.kind.value, item.severity.value, item.short_label) for item in items]


@pytest.mark.parametrize(
    ("plans", "payer", "expected"),
    [
        ([plan()], PayerKind.MEDICARE, []),
        ([plan(end=d("2026-03-16"))], PayerKind.MEDICARE, [("plan_expiring", "warning", "POC 5d")]),
        ([plan(end=d("2026-03-25"))], PayerKind.COMMERCIAL, [("plan_expiring", "warning", "POC 14d")]),
        ([plan(end=d("2026-03-26"))], PayerKind.COMMERCIAL, []),
        ([plan(end=TODAY)], PayerKind.COMMERCIAL, [("plan_expiring", "warning", "POC today")]),
        ([plan(end=d("2026-03-10"))], PayerKind.COMMERCIAL, [("plan_expired", "error", "POC expired")]),
        (
            [plan(end=d("2026-03-01"), status=PlanStatus.EXPIRED), plan(plan_id="p2", start=d("2026-03-02"), end=d("2026-05-29"))],
            PayerKind.COMMERCIAL,
            [],
        ),
        ([plan(end=d("2026-03-01"), status=PlanStatus.DISCHARGED)], PayerKind.COMMERCIAL, []),
        # 2026-02-01 .. 2026-05-01 is 90 days inclusive: allowed; one more day is not.
        ([plan(end=d("2026-05-01"))], PayerKind.MEDICARE, []),
        ([plan(end=d("2026-05-02"))], PayerKind.MEDICARE, [("plan_too_long", "error", "POC >90d")]),
        ([plan(end=d("2026-05-02"))], PayerKind.COMMERCIAL, []),
    ],
)
def test_plan_of_care(plans, payer, expected):
    facts = PatientDueFacts(today=TODAY, payer_kind=payer, plans=tuple(plans))
    assert kinds(due_items(facts)) == expected


@pytest.mark.parametrize(
    ("first_treatment", "certified_on", "payer", "requires", "expected"),
    [
        ("2026-02-02", None, PayerKind.MEDICARE, None, [("certification_overdue", "error", "Cert late")]),
        ("2026-02-08", None, PayerKind.MEDICARE, None, [("certification_overdue", "error", "Cert late")]),
        ("2026-02-09", None, PayerKind.MEDICARE, None, [("certification_due", "warning", "Cert today")]),
        ("2026-02-10", None, PayerKind.MEDICARE, None, [("certification_due", "warning", "Cert 1d")]),
        ("2026-02-16", None, PayerKind.MEDICARE, None, [("certification_due", "warning", "Cert 7d")]),
        ("2026-02-17", None, PayerKind.MEDICARE, None, []),
        ("2026-02-09", "2026-02-20", PayerKind.MEDICARE, None, []),
        ("2026-02-02", None, PayerKind.COMMERCIAL, None, []),
        ("2026-02-02", None, PayerKind.COMMERCIAL, True, [("certification_overdue", "error", "Cert late")]),
        ("2026-02-02", None, PayerKind.MEDICARE, False, []),
        ("2026-02-20", None, PayerKind.MEDICARE, None, []),
    ],
)
def test_certification(first_treatment, certified_on, payer, requires, expected):
    facts = PatientDueFacts(
        today=TODAY,
        payer_kind=payer,
        plans=(plan(first_treatment_date=d(first_treatment), certified_on=d(certified_on) if certified_on else None),),
        requires_certification=requires,
    )
    assert kinds(due_items(facts)) == expected


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (treatment_days(0), []),
        (treatment_days(7), []),
        # 8 done, not today: the next session is the 9th.
        (treatment_days(8), []),
        # 9 done, not today: this (next) session is the 10th.
        (treatment_days(9), [("progress_report_due", "warning", "PR due")]),
        # Today is the 10th treatment day.
        (treatment_days(10, ending=TODAY), [("progress_report_due", "warning", "PR due")]),
        # Today is the 9th: the next one will be the 10th, not yet due.
        (treatment_days(9, ending=TODAY), []),
        # 10 done without a report and another session would be the 11th.
        (treatment_days(10), [("progress_report_overdue", "error", "PR late")]),
        (treatment_days(12, ending=TODAY), [("progress_report_overdue", "error", "PR late")]),
        # Duplicate dates count once; future dates are ignored.
        (treatment_days(8) + treatment_days(8) + (TODAY + dt.timedelta(days=3),), []),
    ],
)
def test_progress_report_treatment_days(dates, expected):
    facts = PatientDueFacts(
        today=TODAY, payer_kind=PayerKind.MEDICARE, plans=(plan(treatment_dates_since_progress_report=dates),)
    )
    assert kinds(due_items(facts)) == expected


def test_progress_report_is_counted_per_plan():
    plans = (
        plan(plan_id="voice", treatment_dates_since_progress_report=treatment_days(5)),
        plan(plan_id="swallow", treatment_dates_since_progress_report=treatment_days(9)),
    )
    items = due_items(PatientDueFacts(today=TODAY, payer_kind=PayerKind.MEDICARE, plans=plans))
    assert [(item.kind, item.plan_id) for item in items] == [(DueKind.PROGRESS_REPORT_DUE, "swallow")]


@pytest.mark.parametrize(
    ("payer", "interval", "count", "expected_kinds"),
    [
        (PayerKind.COMMERCIAL, None, 12, []),
        (PayerKind.COMMERCIAL, 10, 12, ["progress_report_overdue"]),
        (PayerKind.MEDICARE, 0, 12, []),
        (PayerKind.MEDICAID, 6, 5, ["progress_report_due"]),
    ],
)
def test_progress_report_follows_payer_policy(payer, interval, count, expected_kinds):
    facts = PatientDueFacts(
        today=TODAY,
        payer_kind=payer,
        plans=(plan(treatment_dates_since_progress_report=treatment_days(count)),),
        progress_report_interval=interval,
    )
    assert [item.kind.value for item in due_items(facts)] == expected_kinds


@pytest.mark.parametrize(
    ("last_report", "expected"),
    [
        ("2026-03-01", []),
        ("2026-02-11", [("progress_report_due", "warning", "PR 2d")]),
        ("2026-02-09", [("progress_report_due", "warning", "PR due")]),
        ("2026-02-08", [("progress_report_overdue", "error", "PR late")]),
    ],
)
def test_progress_report_calendar_mode(last_report, expected):
    rules = with_progress_mode(default_rules(), ProgressReportMode.CALENDAR_DAYS)
    facts = PatientDueFacts(
        today=TODAY, payer_kind=PayerKind.MEDICARE, plans=(plan(last_progress_report_on=d(last_report)),)
    )
    assert kinds(due_items(facts, rules)) == expected


@pytest.mark.parametrize(
    ("today", "period", "bounds"),
    [
        ("2026-03-11", IepPeriod.WEEK, ("2026-03-09", "2026-03-15")),
        ("2026-03-15", IepPeriod.WEEK, ("2026-03-09", "2026-03-15")),
        ("2026-03-11", IepPeriod.MONTH, ("2026-03-01", "2026-03-31")),
        ("2026-02-28", IepPeriod.MONTH, ("2026-02-01", "2026-02-28")),
        ("2026-12-31", IepPeriod.MONTH, ("2026-12-01", "2026-12-31")),
    ],
)
def test_iep_period_bounds(today, period, bounds):
    assert iep_period_bounds(d(today), period) == (d(bounds[0]), d(bounds[1]))


@pytest.mark.parametrize(
    ("required", "period", "today", "expected"),
    [
        (60, IepPeriod.WEEK, "2026-03-09", 12),  # Monday: 1 of 5 school days
        (60, IepPeriod.WEEK, "2026-03-11", 36),
        (60, IepPeriod.WEEK, "2026-03-13", 60),
        (60, IepPeriod.WEEK, "2026-03-14", 60),  # Saturday
        (120, IepPeriod.MONTH, "2026-03-11", 44),  # 8 of 22 school days
        (120, IepPeriod.MONTH, "2026-03-01", 0),  # Sunday before the first school day
    ],
)
def test_iep_expected_minutes(required, period, today, expected):
    assert iep_expected_minutes(required, period, d(today)) == expected


@pytest.mark.parametrize(
    ("requirement", "expected"),
    [
        (IepDueFacts(60, IepPeriod.WEEK, IepServiceKind.DIRECT, 30), [("iep_minutes_behind", "warning", "IEP -6m")]),
        (IepDueFacts(60, IepPeriod.WEEK, IepServiceKind.DIRECT, 36), []),
        (IepDueFacts(60, IepPeriod.WEEK, IepServiceKind.DIRECT, 90), []),
        (IepDueFacts(120, IepPeriod.MONTH, IepServiceKind.DIRECT, 0), [("iep_minutes_behind", "warning", "IEP -44m")]),
        (IepDueFacts(30, IepPeriod.MONTH, IepServiceKind.CONSULT, 0), [("iep_minutes_behind", "warning", "IEPc -11m")]),
        (IepDueFacts(0, IepPeriod.MONTH, IepServiceKind.CONSULT, 0), []),
    ],
)
def test_iep_minutes(requirement, expected):
    facts = PatientDueFacts(today=TODAY, payer_kind=PayerKind.SCHOOL, iep=(requirement,))
    items = due_items(facts)
    assert kinds(items) == expected
    for item in items:
        assert f"{requirement.delivered_minutes} of {requirement.required_minutes}" in item.message


@pytest.mark.parametrize(
    ("payer", "kx", "expected"),
    [
        (PayerKind.MEDICARE, KxDueFacts(Decimal("2410.00"), Decimal("2000.00")), []),
        (PayerKind.MEDICARE, KxDueFacts(Decimal("2410.00"), Decimal("2169.00")), [("kx_near", "info", "KX near")]),
        (PayerKind.MEDICARE, KxDueFacts(Decimal("2410.00"), Decimal("2410.00")), [("kx_crossed", "warning", "KX")]),
        (PayerKind.MEDICARE, KxDueFacts(Decimal("2410.00"), Decimal("3100.50")), [("kx_crossed", "warning", "KX")]),
        (PayerKind.COMMERCIAL, KxDueFacts(Decimal("2410.00"), Decimal("3100.50")), []),
        (PayerKind.MEDICARE, KxDueFacts(visit_count=19, visit_threshold=20), [("kx_near", "info", "KX near")]),
        (PayerKind.MEDICARE, KxDueFacts(visit_count=10, visit_threshold=20), []),
        (PayerKind.MEDICARE, KxDueFacts(Decimal("2410.00"), None), []),
    ],
)
def test_kx(payer, kx, expected):
    items = due_items(PatientDueFacts(today=TODAY, payer_kind=payer, kx=kx))
    assert kinds(items) == expected


def test_kx_message_shows_money():
    items = due_items(
        PatientDueFacts(today=TODAY, payer_kind=PayerKind.MEDICARE, kx=KxDueFacts(Decimal("2410"), Decimal("2200")))
    )
    assert "$2,200.00 of the $2,410.00 KX threshold (91%)" in items[0].message


def _item(label: str, severity: Severity) -> DueItem:
    return DueItem(DueKind.KX_NEAR, severity, "m", label)


@pytest.mark.parametrize(
    ("items", "max_length", "expected"),
    [
        ([], 24, ""),
        ([_item("KX near", Severity.INFO)], 24, "KX near"),
        ([_item("KX near", Severity.INFO), _item("PR due", Severity.WARNING)], 24, "PR due · KX near"),
        (
            [_item("POC 5d", Severity.WARNING), _item("PR late", Severity.ERROR), _item("KX near", Severity.INFO)],
            24,
            "PR late · POC 5d +1",
        ),
        ([_item("PR late", Severity.ERROR), _item("POC 5d", Severity.WARNING)], 8, "PR late +1"),
        ([_item("PR due", Severity.WARNING), _item("PR due", Severity.WARNING)], 24, "PR due"),
    ],
)
def test_summarize(items, max_length, expected):
    assert summarize(items, max_length) == expected


def test_everything_at_once_is_sorted_by_severity():
    facts = PatientDueFacts(
        today=TODAY,
        payer_kind=PayerKind.MEDICARE,
        plans=(plan(end=d("2026-03-20"), treatment_dates_since_progress_report=treatment_days(11)),),
        kx=KxDueFacts(Decimal("2410"), Decimal("2300")),
    )
    items = due_items(facts)
    assert [item.kind for item in items] == [DueKind.PROGRESS_REPORT_OVERDUE, DueKind.PLAN_EXPIRING, DueKind.KX_NEAR]
    assert summarize(items) == "PR late · POC 9d +1"


def test_shipped_rules_match_billing_rules():
    rules = load_documentation_rules()
    assert rules.progress_mode == ProgressReportMode.TREATMENT_DAYS
    assert rules.progress_treatment_days == 10
    assert rules.plan_expiring_window_days == 14
    assert rules.certification_due_days == 30
    assert rules.max_plan_length_days == 90
    assert rules.kx_near_fraction == Decimal("0.90")


def test_clinic_override_replaces_single_keys(tmp_path: Path):
    (tmp_path / "documentation.toml").write_text('[progress_report]\nmode = "calendar_days"\n')
    rules = load_documentation_rules(clinic_dir=tmp_path)
    assert rules.progress_mode == ProgressReportMode.CALENDAR_DAYS
    assert rules.progress_treatment_days == 10


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ('[progress_report]\nmode = "weekly"\n', "mode = 'weekly' is unknown"),
        ("[plan_of_care]\nexpiring_window_days = -1\n", "expiring_window_days"),
        ('[kx]\nnear_fraction = "1.5"\n', "near_fraction"),
        ('[kx]\npayer_kinds = ["medicare", "hmo"]\n', "payer_kinds"),
        ("[iep]\nschool_weekdays = [0, 1]\n", "school_weekdays"),
        ('kx = "none"\n', "[kx] table is missing"),
    ],
)
def test_invalid_override_is_reported(tmp_path: Path, override, fragment):
    (tmp_path / "documentation.toml").write_text(override)
    with pytest.raises(ClinicalDataError) as error:
        load_documentation_rules(clinic_dir=tmp_path)
    assert fragment in str(error.value)
    assert "documentation.toml" in str(error.value)

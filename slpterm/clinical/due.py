"""What is due for a patient: plan of care, certification, progress report, IEP minutes, KX.

The store gathers plain facts (:class:`PatientDueFacts`); :func:`due_items` turns them into
:class:`DueItem` rows using the windows in ``slpterm/rules/documentation.toml``; :func:`summarize`
folds them into one short caseload cell such as ``"PR due · POC 5d"``.

Conventions:

- Progress reports are counted per plan of care: each :class:`PlanDueFacts` carries the distinct
  treatment dates since that plan's last progress report (or since the plan began).
- "Due at this session": the current session (today, if today is among the dates) or else the
  next session would be the Nth treatment day.
- IEP minutes are pro-rated by school days: expected = required x (school days of the period up to
  and including today) / (school days in the period). Weeks run Monday to Sunday, months are
  calendar months; use :func:`iep_period_bounds` to sum delivered minutes over the same window.
- KX: "near" from ``near_fraction`` of the threshold, "crossed" once year-to-date therapy reaches
  the threshold (the next claim line needs KX). With charges unknown, a visit count may be
  compared with a visit threshold the caller derives (e.g. threshold / typical visit charge).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Any

from slpterm.clinical.data import (
    ClinicalDataError,
    read_toml,
    require_int,
    require_str,
    rules_path,
)
from slpterm.clinical.episode import (
    CERTIFICATION_DUE_DAYS,
    PLAN_LIMIT_DAYS,
    certification_deadline,
    plan_exceeds_limit,
    plan_limit_last_day,
    progress_period,
    treatment_day_number,
)
from slpterm.domain.vocab import (
    IepPeriod,
    IepServiceKind,
    PayerKind,
    PlanStatus,
    Severity,
)

DOCUMENTATION_FILE = "documentation.toml"


class ProgressReportMode(StrEnum):
    TREATMENT_DAYS = "treatment_days"
    CALENDAR_DAYS = "calendar_days"


_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


class DueKind(StrEnum):
    PLAN_EXPIRED = "plan_expired"
    PLAN_EXPIRING = "plan_expiring"
    PLAN_TOO_LONG = "plan_too_long"
    CERTIFICATION_OVERDUE = "certification_overdue"
    CERTIFICATION_DUE = "certification_due"
    PROGRESS_REPORT_OVERDUE = "progress_report_overdue"
    PROGRESS_REPORT_DUE = "progress_report_due"
    IEP_MINUTES_BEHIND = "iep_minutes_behind"
    KX_CROSSED = "kx_crossed"
    KX_NEAR = "kx_near"


# ---------------------------------------------------------------------------------------------
# Rules


@dataclass(frozen=True)
class DocumentationRules:
    progress_mode: ProgressReportMode = ProgressReportMode.TREATMENT_DAYS
    progress_treatment_days: int = 10
    progress_calendar_days: int = 30
    progress_calendar_warn_days: int = 7
    progress_payer_kinds: frozenset[str] = frozenset({PayerKind.MEDICARE})
    plan_expiring_window_days: int = 14
    certification_due_days: int = CERTIFICATION_DUE_DAYS
    certification_warn_days: int = 7
    certification_payer_kinds: frozenset[str] = frozenset({PayerKind.MEDICARE})
    max_plan_length_days: int = PLAN_LIMIT_DAYS
    max_plan_length_payer_kinds: frozenset[str] = frozenset({PayerKind.MEDICARE})
    kx_near_fraction: Decimal = Decimal("0.90")
    kx_payer_kinds: frozenset[str] = frozenset({PayerKind.MEDICARE})
    iep_behind_tolerance_minutes: int = 0
    school_weekdays: frozenset[int] = frozenset({1, 2, 3, 4, 5})


def _payer_kinds(path: Path, entry: str, table: dict[str, Any], key: str) -> frozenset[str]:
    value = table.get(key)
    valid = {kind.value for kind in PayerKind}
    if not isinstance(value, list) or not all(isinstance(item, str) and item in valid for item in value):
        raise ClinicalDataError(path, f"'{key}' must be a list of payer kinds from {', '.join(sorted(valid))}", entry)
    return frozenset(value)


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def load_documentation_rules(path: Path | None = None, *, clinic_dir: Path | None = None) -> DocumentationRules:
    """Read documentation.toml; a same-named file in ``clinic_dir`` overrides individual keys."""
    path = path or rules_path(DOCUMENTATION_FILE)
    data = read_toml(path)
    if clinic_dir is not None and (clinic_dir / DOCUMENTATION_FILE).exists():
        path = clinic_dir / DOCUMENTATION_FILE
        data = _merge(data, read_toml(path))
    require_str(path, "top level", data, "source")
    sections = {}
    for name in ("progress_report", "plan_of_care", "kx", "iep"):
        section = data.get(name)
        if not isinstance(section, dict):
            raise ClinicalDataError(path, f"the [{name}] table is missing; copy it from the shipped file")
        sections[name] = section
    progress, plan, kx, iep = (sections[n] for n in ("progress_report", "plan_of_care", "kx", "iep"))
    mode_text = progress.get("mode")
    try:
        mode = ProgressReportMode(str(mode_text))
    except ValueError:
        raise ClinicalDataError(
            path, f"mode = {mode_text!r} is unknown; use 'treatment_days' or 'calendar_days'", "[progress_report]"
        ) from None
    try:
        near = Decimal(str(kx.get("near_fraction")))
    except InvalidOperation:
        near = Decimal(-1)
    if not Decimal(0) < near <= Decimal(1):
        raise ClinicalDataError(path, "near_fraction must be a decimal between 0 and 1, e.g. \"0.90\"", "[kx]")
    weekdays = iep.get("school_weekdays")
    if not isinstance(weekdays, list) or not weekdays or not all(
        isinstance(day, int) and not isinstance(day, bool) and 1 <= day <= 7 for day in weekdays
    ):
        raise ClinicalDataError(path, "school_weekdays must list day numbers 1 (Monday) to 7 (Sunday)", "[iep]")
    return DocumentationRules(
        progress_mode=mode,
        progress_treatment_days=require_int(path, "[progress_report]", progress, "treatment_days", minimum=1, maximum=100),
        progress_calendar_days=require_int(path, "[progress_report]", progress, "calendar_days", minimum=1, maximum=365),
        progress_calendar_warn_days=require_int(
            path, "[progress_report]", progress, "calendar_warn_days", minimum=0, maximum=60
        ),
        progress_payer_kinds=_payer_kinds(path, "[progress_report]", progress, "payer_kinds"),
        plan_expiring_window_days=require_int(path, "[plan_of_care]", plan, "expiring_window_days", minimum=0, maximum=120),
        certification_due_days=require_int(path, "[plan_of_care]", plan, "certification_due_days", minimum=1, maximum=365),
        certification_warn_days=require_int(path, "[plan_of_care]", plan, "certification_warn_days", minimum=0, maximum=60),
        certification_payer_kinds=_payer_kinds(path, "[plan_of_care]", plan, "certification_payer_kinds"),
        max_plan_length_days=require_int(path, "[plan_of_care]", plan, "max_length_days", minimum=1, maximum=3660),
        max_plan_length_payer_kinds=_payer_kinds(path, "[plan_of_care]", plan, "max_length_payer_kinds"),
        kx_near_fraction=near,
        kx_payer_kinds=_payer_kinds(path, "[kx]", kx, "payer_kinds"),
        iep_behind_tolerance_minutes=require_int(path, "[iep]", iep, "behind_tolerance_minutes", minimum=0, maximum=600),
        school_weekdays=frozenset(weekdays),
    )


_default_rules: DocumentationRules | None = None


def default_rules() -> DocumentationRules:
    """The shipped documentation rules (read once)."""
    global _default_rules
    if _default_rules is None:
        _default_rules = load_documentation_rules()
    return _default_rules


# ---------------------------------------------------------------------------------------------
# Facts


@dataclass(frozen=True)
class PlanDueFacts:
    """One plan of care as the due rules see it."""

    plan_id: str
    start: dt.date
    end: dt.date
    status: PlanStatus
    certified_on: dt.date | None = None
    first_treatment_date: dt.date | None = None
    # Distinct treatment dates of this plan since its last progress report (or since it began);
    # used when ``visits`` is empty.
    treatment_dates_since_progress_report: tuple[dt.date, ...] = ()
    last_progress_report_on: dt.date | None = None
    # The episode's visits (slpterm.clinical.episode.episode_visits) and its signed reports' dates.
    visits: tuple[dt.date, ...] = ()
    report_dates: tuple[dt.date, ...] = ()
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or f"Plan of care {self.plan_id}"


@dataclass(frozen=True)
class IepDueFacts:
    """One IEP service requirement and the minutes delivered in the current period."""

    required_minutes: int
    period: IepPeriod
    kind: IepServiceKind = IepServiceKind.DIRECT
    delivered_minutes: int = 0


@dataclass(frozen=True)
class KxDueFacts:
    """Medicare therapy spending this calendar year against the KX threshold."""

    threshold_amount: Decimal | None = None
    year_to_date_amount: Decimal | None = None
    # When charges are unknown: visits so far and a visit threshold the caller derives.
    visit_count: int | None = None
    visit_threshold: int | None = None


@dataclass(frozen=True)
class PatientDueFacts:
    today: dt.date
    payer_kind: PayerKind | None = None
    plans: tuple[PlanDueFacts, ...] = ()
    iep: tuple[IepDueFacts, ...] = ()
    kx: KxDueFacts | None = None
    # From the payer policy when known (payers.toml); None = documentation.toml's payer kinds.
    progress_report_interval: int | None = None
    requires_certification: bool | None = None


@dataclass(frozen=True)
class DueItem:
    kind: DueKind
    severity: Severity
    message: str
    short_label: str
    plan_id: str | None = field(default=None, compare=False)


# ---------------------------------------------------------------------------------------------
# Rules applied


def plan_length_days(start: dt.date, end: dt.date) -> int:
    """Days a plan of care covers, counting its first and last day."""
    return (end - start).days + 1


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def _payer_name(kind: PayerKind | None) -> str:
    return str(kind or "the payer").replace("_", " ").capitalize()


def _current_plans(facts: PatientDueFacts) -> list[PlanDueFacts]:
    return [plan for plan in facts.plans if plan.status != PlanStatus.DISCHARGED]


def _plan_items(facts: PatientDueFacts, rules: DocumentationRules) -> list[DueItem]:
    today = facts.today
    items: list[DueItem] = []
    plans = _current_plans(facts)
    for plan in plans:
        if plan.end < today:
            superseded = any(other is not plan and other.end >= today for other in plans)
            if superseded:
                continue
            ago = (today - plan.end).days
            items.append(
                DueItem(
                    DueKind.PLAN_EXPIRED,
                    Severity.ERROR,
                    f"{plan.name} ended on {plan.end.isoformat()} ({_days(ago)} ago); write a recertification "
                    "or a new plan before the next treatment",
                    "POC expired",
                    plan.plan_id,
                )
            )
        else:
            left = (plan.end - today).days
            if left <= rules.plan_expiring_window_days:
                when = "today" if left == 0 else f"in {_days(left)}"
                items.append(
                    DueItem(
                        DueKind.PLAN_EXPIRING,
                        Severity.WARNING,
                        f"{plan.name} ends {when} ({plan.end.isoformat()}); plan the recertification",
                        "POC today" if left == 0 else f"POC {left}d",
                        plan.plan_id,
                    )
                )
        if facts.payer_kind in rules.max_plan_length_payer_kinds:
            length = plan_length_days(plan.start, plan.end)
            if plan_exceeds_limit(plan.start, plan.end, rules.max_plan_length_days) and plan.end >= today:
                last_day = plan_limit_last_day(plan.start, rules.max_plan_length_days)
                items.append(
                    DueItem(
                        DueKind.PLAN_TOO_LONG,
                        Severity.ERROR,
                        f"{plan.name} runs {length} days; {_payer_name(facts.payer_kind)} certifies at most "
                        f"{rules.max_plan_length_days} days: end it by {last_day.isoformat()} and recertify",
                        "POC >90d" if rules.max_plan_length_days == 90 else f"POC >{rules.max_plan_length_days}d",
                        plan.plan_id,
                    )
                )
    return items


def _certification_items(facts: PatientDueFacts, rules: DocumentationRules) -> list[DueItem]:
    required = facts.requires_certification
    if required is None:
        required = facts.payer_kind in rules.certification_payer_kinds
    if not required:
        return []
    items: list[DueItem] = []
    for plan in _current_plans(facts):
        if plan.certified_on is not None or plan.first_treatment_date is None or plan.end < facts.today:
            continue
        deadline = certification_deadline(plan.first_treatment_date, rules.certification_due_days)
        left = (deadline - facts.today).days
        if left < 0:
            items.append(
                DueItem(
                    DueKind.CERTIFICATION_OVERDUE,
                    Severity.ERROR,
                    f"{plan.name} is not certified and the {rules.certification_due_days}-day deadline passed on "
                    f"{deadline.isoformat()}; get the physician's signature and record the certification date",
                    "Cert late",
                    plan.plan_id,
                )
            )
        elif left <= rules.certification_warn_days:
            items.append(
                DueItem(
                    DueKind.CERTIFICATION_DUE,
                    Severity.WARNING,
                    f"{plan.name} needs the physician's certification by {deadline.isoformat()} "
                    f"({_days(left)} left)",
                    "Cert today" if left == 0 else f"Cert {left}d",
                    plan.plan_id,
                )
            )
    return items


def _progress_items(facts: PatientDueFacts, rules: DocumentationRules) -> list[DueItem]:
    interval = facts.progress_report_interval
    if interval is None:
        interval = rules.progress_treatment_days if facts.payer_kind in rules.progress_payer_kinds else 0
    if interval <= 0:
        return []
    today = facts.today
    items: list[DueItem] = []
    for plan in _current_plans(facts):
        if plan.start > today or plan.end < today:
            continue
        if rules.progress_mode == ProgressReportMode.TREATMENT_DAYS:
            if plan.visits:
                dates = set(progress_period(plan.visits, plan.report_dates, today))
                session_number = treatment_day_number(plan.visits, plan.report_dates, today)
            else:
                dates = {day for day in plan.treatment_dates_since_progress_report if day <= today}
                session_number = len(dates) if today in dates else len(dates) + 1
            if session_number > interval:
                items.append(
                    DueItem(
                        DueKind.PROGRESS_REPORT_OVERDUE,
                        Severity.ERROR,
                        f"{plan.name}: {len(dates)} treatment days since the last progress report (limit {interval}); "
                        "write the progress report now",
                        "PR late",
                        plan.plan_id,
                    )
                )
            elif session_number == interval:
                items.append(
                    DueItem(
                        DueKind.PROGRESS_REPORT_DUE,
                        Severity.WARNING,
                        f"{plan.name}: this session is treatment day {interval} since the last progress report; "
                        "write the progress report at this session",
                        "PR due",
                        plan.plan_id,
                    )
                )
        else:
            reference = plan.last_progress_report_on or plan.first_treatment_date
            if reference is None:
                continue
            deadline = reference + dt.timedelta(days=rules.progress_calendar_days)
            left = (deadline - today).days
            if left < 0:
                items.append(
                    DueItem(
                        DueKind.PROGRESS_REPORT_OVERDUE,
                        Severity.ERROR,
                        f"{plan.name}: the progress report was due on {deadline.isoformat()}; write it now",
                        "PR late",
                        plan.plan_id,
                    )
                )
            elif left <= rules.progress_calendar_warn_days:
                items.append(
                    DueItem(
                        DueKind.PROGRESS_REPORT_DUE,
                        Severity.WARNING,
                        f"{plan.name}: progress report due by {deadline.isoformat()} ({_days(left)} left)",
                        "PR due" if left == 0 else f"PR {left}d",
                        plan.plan_id,
                    )
                )
    return items


def iep_period_bounds(today: dt.date, period: IepPeriod) -> tuple[dt.date, dt.date]:
    """First and last day of the IEP period containing ``today`` (Monday-Sunday week, calendar month)."""
    if period == IepPeriod.WEEK:
        start = today - dt.timedelta(days=today.weekday())
        return start, start + dt.timedelta(days=6)
    start = today.replace(day=1)
    next_month = (start + dt.timedelta(days=32)).replace(day=1)
    return start, next_month - dt.timedelta(days=1)


def iep_expected_minutes(
    required_minutes: int, period: IepPeriod, today: dt.date, school_weekdays: frozenset[int] = frozenset({1, 2, 3, 4, 5})
) -> int:
    """Minutes that should be delivered by the end of ``today``, pro-rated by school days."""
    start, end = iep_period_bounds(today, period)
    total = elapsed = 0
    day = start
    while day <= end:
        if day.isoweekday() in school_weekdays:
            total += 1
            if day <= today:
                elapsed += 1
        day += dt.timedelta(days=1)
    if total == 0:
        return required_minutes
    return round(Decimal(required_minutes) * elapsed / total)


def _iep_items(facts: PatientDueFacts, rules: DocumentationRules) -> list[DueItem]:
    items: list[DueItem] = []
    for requirement in facts.iep:
        if requirement.required_minutes <= 0:
            continue
        expected = iep_expected_minutes(requirement.required_minutes, requirement.period, facts.today, rules.school_weekdays)
        behind = expected - requirement.delivered_minutes
        if behind > rules.iep_behind_tolerance_minutes:
            kind_word = "consult" if requirement.kind == IepServiceKind.CONSULT else "direct"
            prefix = "IEP" if requirement.kind == IepServiceKind.DIRECT else "IEPc"
            items.append(
                DueItem(
                    DueKind.IEP_MINUTES_BEHIND,
                    Severity.WARNING,
                    f"IEP {kind_word} minutes: {requirement.delivered_minutes} of {requirement.required_minutes} "
                    f"delivered this {requirement.period}; {expected} expected by today ({behind} behind)",
                    f"{prefix} -{behind}m",
                )
            )
    return items


def _kx_items(facts: PatientDueFacts, rules: DocumentationRules) -> list[DueItem]:
    kx = facts.kx
    if kx is None or facts.payer_kind not in rules.kx_payer_kinds:
        return []
    if kx.threshold_amount is not None and kx.year_to_date_amount is not None and kx.threshold_amount > 0:
        used, limit = kx.year_to_date_amount, kx.threshold_amount
        detail = f"about ${used:,.2f} of the ${limit:,.2f} KX threshold"
    elif kx.visit_count is not None and kx.visit_threshold:
        used, limit = Decimal(kx.visit_count), Decimal(kx.visit_threshold)
        detail = f"{kx.visit_count} visits of about {kx.visit_threshold} that reach the KX threshold"
    else:
        return []
    percent = int(used * 100 / limit)
    if used >= limit:
        return [
            DueItem(
                DueKind.KX_CROSSED,
                Severity.WARNING,
                f"Medicare therapy this year: {detail} ({percent}%); add KX to claim lines and document "
                "medical necessity in every note",
                "KX",
            )
        ]
    if used >= limit * rules.kx_near_fraction:
        return [
            DueItem(
                DueKind.KX_NEAR,
                Severity.INFO,
                f"Medicare therapy this year: {detail} ({percent}%); KX will be needed soon",
                "KX near",
            )
        ]
    return []


def due_items(facts: PatientDueFacts, rules: DocumentationRules | None = None) -> list[DueItem]:
    """Everything due for one patient, most urgent first."""
    rules = rules or default_rules()
    items = (
        _plan_items(facts, rules)
        + _certification_items(facts, rules)
        + _progress_items(facts, rules)
        + _iep_items(facts, rules)
        + _kx_items(facts, rules)
    )
    return sorted(items, key=lambda item: _SEVERITY_ORDER[item.severity])


def summarize(items: list[DueItem], max_length: int = 24) -> str:
    """One caseload cell: the short labels, most urgent first, with ``+N`` for what does not fit."""
    ordered = sorted(items, key=lambda item: _SEVERITY_ORDER[item.severity])
    labels = list(dict.fromkeys(item.short_label for item in ordered))
    text = ""
    for index, label in enumerate(labels):
        candidate = label if not text else f"{text} · {label}"
        rest = len(labels) - index - 1
        suffix = f" +{rest}" if rest else ""
        if len(candidate + suffix) > max_length and text:
            return f"{text} +{len(labels) - index}"
        text = candidate
    return text


def with_progress_mode(rules: DocumentationRules, mode: ProgressReportMode) -> DocumentationRules:
    """The same rules with the progress report mode set (the clinic setting)."""
    return replace(rules, progress_mode=mode)

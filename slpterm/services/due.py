"""What is due, from the store: gathers :class:`slpterm.clinical.due.PatientDueFacts` and applies the rules.

One patient (the chart) and the whole caseload use the same few batched queries, so the caseload
costs a fixed number of queries whatever its size:

- payer kind and payer id come from the patient's lowest-ranked coverage; the payer policy
  (``slpterm.coding``) says whether progress reports and certification are tracked;
- plans of care: those not discharged that end today or later, or else the latest one (so an
  expired plan that nothing replaced is reported); a plan that a recertification follows is left
  out (its successor carries what is due);
- treatment days: distinct dates of the patient's sessions (evaluations included, drafts
  included: the visit happened) inside the plan's dates and after the last progress report's
  period end;
- first treatment day of a plan (for the certification deadline): the first session in the
  plan's dates, or up to 60 days before a first plan's start (the evaluation that led to it);
- IEP minutes: direct services in force today, with clock minutes of the student's sessions in the
  current week or month. Consult minutes are not logged as sessions, so they are not tracked;
- KX: Medicare patients' year-to-date therapy amount through today against the year's threshold,
  by the same rule as the scrubber (billed charges of exported sessions, coded charges of the
  others, plus what other providers billed).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterator

from sqlalchemy import text

from slpterm.clinical.due import (
    DocumentationRules,
    DueItem,
    IepDueFacts,
    KxDueFacts,
    PatientDueFacts,
    PlanDueFacts,
    ProgressReportMode,
    default_rules,
    due_items,
    iep_period_bounds,
    load_documentation_rules,
    summarize,
    with_progress_mode,
)
from slpterm.clinical.episode import (
    EVALUATION_LOOKBACK_DAYS,
    episode_visits,
    first_treatment_day,
    latest_report_covering,
    progress_period,
)
from slpterm.domain.vocab import IepPeriod, IepServiceKind, PayerKind, PlanStatus

PROGRESS_MODE_SETTING = "progress_report_mode"
TYPICAL_VISIT_CODE = "92507"

_COVERAGE_SQL = "SELECT patient_id, payer_kind, payer_id FROM coverage {where} ORDER BY patient_id, rank"

_PLANS_SQL = """
SELECT p.id, p.patient_id, p.start_date, p.end_date, p.status, p.certified_on, p.previous_plan_id,
       r.last_end, r.last_written
FROM planofcare p
LEFT JOIN (SELECT plan_id, MAX(period_end) AS last_end, MAX(written_on) AS last_written
           FROM progressreport WHERE signed_at IS NOT NULL GROUP BY plan_id) r ON r.plan_id = p.id
WHERE p.status != 'discharged' {and_patient}
"""

# Per current plan: its first treatment day and the distinct treatment dates since its last progress
# report, in one pass over the patient's sessions.
_PLAN_SESSIONS_SQL = """
SELECT p.id, p.start_date, p.end_date, p.previous_plan_id, group_concat(DISTINCT s.date_of_service)
FROM planofcare p
JOIN sessionparticipant sp ON sp.patient_id = p.patient_id
JOIN session s ON s.id = sp.session_id
WHERE p.status != 'discharged' {and_patient}
  AND s.date_of_service >= date(p.start_date, '-{lookback} days') AND s.date_of_service <= p.end_date
GROUP BY p.id
"""

_REPORT_DATES_SQL = """
SELECT r.plan_id, r.written_on FROM progressreport r JOIN planofcare p ON p.id = r.plan_id
WHERE r.signed_at IS NOT NULL AND p.status != 'discharged' {and_patient}
"""

_IEP_SQL = """
SELECT patient_id, minutes_required, period, kind FROM iepservice
WHERE (start_date IS NULL OR start_date <= :today) AND (end_date IS NULL OR end_date >= :today) {and_patient}
"""

_IEP_MINUTES_SQL = """
SELECT sp.patient_id,
       SUM(CASE WHEN s.date_of_service >= :week_start THEN
           (julianday(t.ended_at) - julianday(t.started_at)) * 1440.0 ELSE 0 END),
       SUM(CASE WHEN s.date_of_service >= :month_start THEN
           (julianday(t.ended_at) - julianday(t.started_at)) * 1440.0 ELSE 0 END)
FROM sessionparticipant sp
JOIN session s ON s.id = sp.session_id
JOIN timesegment t ON t.session_id = s.id AND t.ended_at IS NOT NULL
WHERE s.date_of_service >= :since AND s.date_of_service <= :today {and_patient}
  AND sp.patient_id IN (SELECT patient_id FROM iepservice)
GROUP BY sp.patient_id
"""

_VISITS_SQL = """
SELECT sp.patient_id, COUNT(DISTINCT s.date_of_service)
FROM sessionparticipant sp JOIN session s ON s.id = sp.session_id
WHERE s.date_of_service >= :year_start AND s.date_of_service <= :today {and_patient}
  AND sp.patient_id IN (SELECT patient_id FROM coverage WHERE payer_kind = 'medicare')
GROUP BY sp.patient_id
"""

_OTHER_PROVIDERS_SQL = """
SELECT patient_id, other_providers_cents FROM therapyyearamount WHERE year = :year {and_patient}
"""

_ARCHIVED_SQL = "SELECT id FROM patient WHERE archived_at IS NOT NULL {and_patient}"


def _date(value: object) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value  # type: ignore[return-value]
    return dt.date.fromisoformat(str(value)[:10])


@dataclass
class DueContext:
    """What the rules need besides the facts: documentation rules and the payer policies."""

    rules: DocumentationRules
    rulebook: object | None = None
    typical_visit_charge: Decimal | None = None
    _policies: dict = field(default_factory=dict)
    _billing: object | None = None
    _year_to_date: dict = field(default_factory=dict)

    def policy(self, payer_kind: PayerKind | None, payer_id: str, today: dt.date):  # noqa: ANN201
        if self.rulebook is None or payer_kind is None:
            return None
        key = (payer_kind, payer_id)
        if key not in self._policies:
            try:
                self._policies[key] = self.rulebook.policy_for(payer_kind, payer_id, today)
            except Exception:  # noqa: BLE001 - a bad clinic override must not hide what is due
                self._policies[key] = None
        return self._policies[key]

    def kx_threshold(self, year: int) -> Decimal | None:
        if self.rulebook is None:
            return None
        threshold = self.rulebook.kx_threshold(year)
        return threshold.amount if threshold is not None else None


def due_context(store) -> DueContext:  # noqa: ANN001
    """Documentation rules (shipped, the clinic's file, the progress-report mode setting) and rulebook."""
    rules = default_rules()
    rulebook = None
    try:
        from slpterm.paths import clinic_rules_dir

        rules_dir = clinic_rules_dir()
        if rules_dir.is_dir():
            rules = load_documentation_rules(clinic_dir=rules_dir)
    except Exception:  # noqa: BLE001 - a broken clinic file falls back to the shipped rules
        rules = default_rules()
    mode = store.clinic.get_setting(PROGRESS_MODE_SETTING)
    if mode in {m.value for m in ProgressReportMode}:
        rules = with_progress_mode(rules, ProgressReportMode(mode))
    try:
        from slpterm.services.billing import rulebook_for

        rulebook = rulebook_for(store)
    except Exception:  # noqa: BLE001
        try:
            from slpterm.coding.rulebook import load_rulebook

            rulebook = load_rulebook()
        except Exception:  # noqa: BLE001
            rulebook = None
    charge = None
    if rulebook is not None:
        charge = rulebook.fee(TYPICAL_VISIT_CODE)
    return DueContext(rules=rules, rulebook=rulebook, typical_visit_charge=charge)


def gather_facts(store, today: dt.date, patient_id: str | None = None,  # noqa: ANN001
                 context: DueContext | None = None,
                 id_range: tuple[str, str | None] | None = None) -> dict[str, PatientDueFacts]:
    """Due facts for every active patient (or the one given, or those whose id is in ``id_range``,
    from the first id up to but not including the second), keyed by patient id.

    Archived patients are left out unless asked for by id.
    """
    context = context or due_context(store)
    params: dict[str, object] = {"today": today.isoformat()}
    if patient_id is not None:
        params["patient_id"] = patient_id
    elif id_range is not None:
        params["low_id"], params["high_id"] = id_range

    def sql(template: str, column: str, *, where: bool = False) -> object:
        joiner = "WHERE" if where else "AND"
        if patient_id is not None:
            clause = f"{joiner} {column} = :patient_id"
        elif id_range is not None:
            clause = f"{joiner} {column} >= :low_id" + (f" AND {column} < :high_id" if id_range[1] else "")
        else:
            clause = ""
        return text(template.format(and_patient=clause, where=clause, lookback=EVALUATION_LOOKBACK_DAYS))

    week_start, _ = iep_period_bounds(today, IepPeriod.WEEK)
    month_start, _ = iep_period_bounds(today, IepPeriod.MONTH)
    year_start = dt.date(today.year, 1, 1)

    with store.db.read() as session:
        connection = session.connection()
        archived = set() if patient_id is not None else {
            row[0] for row in connection.execute(sql(_ARCHIVED_SQL, "id"), params)
        }
        coverage: dict[str, tuple[PayerKind | None, str]] = {}
        for pid, kind, payer_id in connection.execute(sql(_COVERAGE_SQL, "patient_id", where=True), params).all():
            if pid not in coverage:
                try:
                    coverage[pid] = (PayerKind(kind), payer_id or "")
                except ValueError:
                    coverage[pid] = (None, payer_id or "")
        plans_by_patient: dict[str, list[tuple]] = defaultdict(list)
        for row in connection.execute(sql(_PLANS_SQL, "p.patient_id"), params).all():
            plans_by_patient[row[1]].append(row)
        reports_by_plan: dict[str, list[dt.date]] = defaultdict(list)
        for plan_id, written in connection.execute(sql(_REPORT_DATES_SQL, "p.patient_id"), params).all():
            reports_by_plan[plan_id].append(_date(written))
        visits_by_plan: dict[str, tuple[dt.date, ...]] = {}
        for plan_id, start, end, previous, days in connection.execute(sql(_PLAN_SESSIONS_SQL, "p.patient_id"), params).all():
            dates = [dt.date.fromisoformat(day[:10]) for day in days.split(",")] if days else []
            visits_by_plan[plan_id] = episode_visits(dates, _date(start), _date(end), first_plan=previous is None)
        iep_by_patient: dict[str, list[tuple]] = defaultdict(list)
        for pid, minutes, period, kind in connection.execute(sql(_IEP_SQL, "patient_id"), params):
            iep_by_patient[pid].append((minutes, period, kind))
        iep_minutes: dict[str, tuple[float, float]] = {}
        if iep_by_patient:
            iep_params = {**params, "week_start": week_start.isoformat(), "month_start": month_start.isoformat(),
                          "since": min(week_start, month_start).isoformat()}
            for pid, week, month in connection.execute(sql(_IEP_MINUTES_SQL, "sp.patient_id"), iep_params):
                iep_minutes[pid] = (week or 0.0, month or 0.0)
        visits = {
            pid: count for pid, count in connection.execute(
                sql(_VISITS_SQL, "sp.patient_id"), {**params, "year_start": year_start.isoformat()}
            )
        }
        other_cents = {
            pid: cents for pid, cents in connection.execute(
                sql(_OTHER_PROVIDERS_SQL, "patient_id"), {**params, "year": today.year}
            )
        }

    kx_threshold = context.kx_threshold(today.year)
    patient_ids = set(plans_by_patient) | set(iep_by_patient) | {
        pid for pid, (kind, _) in coverage.items() if kind == PayerKind.MEDICARE
    }
    if patient_id is not None:
        patient_ids = {patient_id}
    if patient_id is None and kx_threshold and context.rulebook is not None:
        _prefetch_years_to_date(store, context, today, [
            pid for pid in patient_ids - archived if coverage.get(pid, (None, ""))[0] == PayerKind.MEDICARE and visits.get(pid)])
    facts: dict[str, PatientDueFacts] = {}
    for pid in patient_ids - archived:
        payer_kind, payer_id = coverage.get(pid, (None, ""))
        plans = _plan_facts(plans_by_patient.get(pid, []), visits_by_plan, reports_by_plan, today)
        iep = _iep_facts(iep_by_patient.get(pid, []), iep_minutes.get(pid, (0.0, 0.0)))
        kx = None
        if payer_kind == PayerKind.MEDICARE and kx_threshold and context.rulebook is not None:
            kx = KxDueFacts(threshold_amount=kx_threshold,
                            year_to_date_amount=_year_to_date(store, context, pid, today, visits.get(pid, 0),
                                                              Decimal(other_cents.get(pid, 0)) / 100))
        policy = context.policy(payer_kind, payer_id, today)
        facts[pid] = PatientDueFacts(
            today=today,
            payer_kind=payer_kind,
            plans=tuple(plans),
            iep=tuple(iep),
            kx=kx,
            progress_report_interval=policy.progress_report_interval if policy is not None else None,
            requires_certification=policy.requires_poc_certification if policy is not None else None,
        )
    return facts


def _year_to_date(store, context: DueContext, patient_id: str, today: dt.date, visits: int,  # noqa: ANN001
                  other: Decimal) -> Decimal:
    """The year-to-date therapy amount by the one rule (slpterm.services.billing.day_amount): billed
    charges of exported sessions, coded charges of the others, other providers' amount."""
    if not visits:
        return other
    from slpterm.services.billing import BillingService

    if context._billing is None:
        context._billing = BillingService(store, today, rulebook=context.rulebook)
    if (patient_id, today) in context._year_to_date:
        return context._year_to_date[(patient_id, today)]
    try:
        return context._billing.year_to_date_through(patient_id, today)
    except Exception:  # noqa: BLE001 - what is due must show even when a session cannot be coded
        return other


def _prefetch_years_to_date(store, context: DueContext, today: dt.date, patient_ids: list[str]) -> None:  # noqa: ANN001
    """The caseload's year-to-date amounts in one batched read (the same rule as one patient's)."""
    from slpterm.services.billing import BillingService

    if not patient_ids:
        return
    if context._billing is None:
        context._billing = BillingService(store, today, rulebook=context.rulebook)
    try:
        amounts = context._billing.years_to_date_through(patient_ids, today)
    except Exception:  # noqa: BLE001 - fall back to one patient at a time
        return
    context._year_to_date.update({(pid, today): amount for pid, amount in amounts.items()})


def _plan_facts(rows: list[tuple], visits_by_plan: dict, reports_by_plan: dict, today: dt.date) -> list[PlanDueFacts]:
    succeeded = {row[6] for row in rows if row[6]}
    rows = [row for row in rows if row[0] not in succeeded]
    current = [row for row in rows if _date(row[3]) >= today]
    if not current and rows:
        current = [max(rows, key=lambda row: _date(row[3]))]
    plans = []
    for plan_id, _pid, start, end, status, certified_on, _previous, last_end, last_written in current:
        start_date, end_date = _date(start), _date(end)
        visits = visits_by_plan.get(plan_id, ())
        reports = tuple(sorted(reports_by_plan.get(plan_id, [])))
        try:
            plan_status = PlanStatus(status)
        except ValueError:
            plan_status = PlanStatus.DRAFT
        plans.append(PlanDueFacts(
            plan_id=plan_id,
            start=start_date,
            end=end_date,
            status=plan_status,
            certified_on=_date(certified_on),
            first_treatment_date=first_treatment_day(visits),
            treatment_dates_since_progress_report=progress_period(visits, reports, today),
            last_progress_report_on=latest_report_covering(reports, today),
            visits=visits,
            report_dates=reports,
            label=f"Plan of care {start_date.isoformat()} to {end_date.isoformat()}",
        ))
    return plans


def _iep_facts(rows: list[tuple], minutes: tuple[float, float]) -> list[IepDueFacts]:
    facts = []
    for required, period, kind in rows:
        if kind != IepServiceKind.DIRECT:
            continue
        try:
            period_value = IepPeriod(period)
        except ValueError:
            continue
        delivered = minutes[0] if period_value == IepPeriod.WEEK else minutes[1]
        facts.append(IepDueFacts(required_minutes=required, period=period_value, kind=IepServiceKind.DIRECT,
                                 delivered_minutes=round(delivered)))
    return facts


def patient_due(store, patient_id: str, today: dt.date, context: DueContext | None = None) -> list[DueItem]:  # noqa: ANN001
    """Everything due for one patient, most urgent first (for the chart)."""
    context = context or due_context(store)
    facts = gather_facts(store, today, patient_id, context).get(patient_id)
    return due_items(facts, context.rules) if facts is not None else []


CHUNK_PATIENTS = 5000


def iter_caseload_due(store, today: dt.date, context: DueContext | None = None) -> Iterator[tuple[str, list[DueItem]]]:  # noqa: ANN001
    """``(patient id, due items)`` of every active patient that has any.

    Patients are taken a few thousand at a time, so a very large caseload never holds every
    patient's facts in memory at once.
    """
    context = context or due_context(store)
    with store.db.read() as session:
        # Every CHUNK_PATIENTS-th id (by id), read from the index rather than holding every id.
        bounds = [row[0] for row in session.connection().execute(text(
            "SELECT id FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS n FROM patient) "
            "WHERE n % :chunk = 0 ORDER BY id"), {"chunk": CHUNK_PATIENTS})]
    for low, high in zip(bounds, [*bounds[1:], None]):
        for pid, facts in gather_facts(store, today, None, context, id_range=(low, high)).items():
            items = due_items(facts, context.rules)
            if items:
                yield pid, items


def caseload_due(store, today: dt.date, context: DueContext | None = None) -> dict[str, list[DueItem]]:  # noqa: ANN001
    """Due items of every active patient that has any, keyed by patient id."""
    return dict(iter_caseload_due(store, today, context))


def iter_due_summaries(store, today: dt.date, max_length: int = 24) -> Iterator[tuple[str, str]]:  # noqa: ANN001
    """One short "Needs" cell per patient with something due, e.g. ``"PR due · POC 5d"``."""
    for pid, items in iter_caseload_due(store, today):
        yield pid, summarize(items, max_length)


def caseload_due_summaries(store, today: dt.date, max_length: int = 24) -> dict[str, str]:  # noqa: ANN001
    """The "Needs" cells of every patient with something due, keyed by patient id."""
    return dict(iter_due_summaries(store, today, max_length))


__all__ = [
    "DueContext",
    "caseload_due",
    "caseload_due_summaries",
    "iter_caseload_due",
    "iter_due_summaries",
    "due_context",
    "gather_facts",
    "patient_due",
]

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
import threading
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

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
from slpterm.store.due_facts import DueIepService, DuePlan, patients_changed

if TYPE_CHECKING:
    from slpterm.coding.rulebook import PayerPolicy, RuleBook
    from slpterm.services.billing import BillingService
    from slpterm.store.store import Store

PROGRESS_MODE_SETTING = "progress_report_mode"
TYPICAL_VISIT_CODE = "92507"

@dataclass
class DueContext:
    """What the rules need besides the facts: documentation rules and the payer policies."""

    rules: DocumentationRules
    rulebook: RuleBook | None = None
    typical_visit_charge: Decimal | None = None
    _policies: dict[tuple[PayerKind, str], PayerPolicy | None] = field(default_factory=dict)
    _billing: BillingService | None = None
    _year_to_date: dict[tuple[str, dt.date], Decimal] = field(default_factory=dict)

    def policy(self, payer_kind: PayerKind | None, payer_id: str, today: dt.date) -> PayerPolicy | None:
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


def due_context(store: Store) -> DueContext:
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


def gather_facts(store: Store, today: dt.date, patient_id: str | None = None,
                 context: DueContext | None = None,
                 id_range: tuple[str, str | None] | None = None,
                 patient_ids: Collection[str] | None = None) -> dict[str, PatientDueFacts]:
    """Due facts for every active patient (or the one given, or those whose id is in ``id_range``,
    from the first id up to but not including the second, or the active ones of ``patient_ids``),
    keyed by patient id.

    Archived patients are left out unless asked for by id (``patient_id``).
    """
    context = context or due_context(store)
    week_start, _ = iep_period_bounds(today, IepPeriod.WEEK)
    month_start, _ = iep_period_bounds(today, IepPeriod.MONTH)
    records = store.due_facts.read(today, week_start=week_start, month_start=month_start,
                                   lookback_days=EVALUATION_LOOKBACK_DAYS, patient_id=patient_id, id_range=id_range,
                                   patient_ids=patient_ids)
    archived = records.archived
    visits = records.medicare_visit_days
    other_cents = records.other_providers_cents
    plans_by_patient = records.plans
    iep_by_patient = records.iep_services
    iep_minutes = records.iep_minutes
    coverage: dict[str, tuple[PayerKind | None, str]] = {}
    for pid, (kind, payer_id) in records.primary_coverage.items():
        try:
            coverage[pid] = (PayerKind(kind), payer_id)
        except ValueError:
            coverage[pid] = (None, payer_id)
    plans_by_id = {plan.plan_id: plan for plans in plans_by_patient.values() for plan in plans}
    visits_by_plan: dict[str, tuple[dt.date, ...]] = {
        plan_id: episode_visits(dates, plans_by_id[plan_id].start, plans_by_id[plan_id].end,
                                first_plan=plans_by_id[plan_id].previous_plan_id is None)
        for plan_id, dates in records.session_dates.items() if plan_id in plans_by_id
    }
    reports_by_plan = records.report_dates

    kx_threshold = context.kx_threshold(today.year)
    candidates = set(plans_by_patient) | set(iep_by_patient) | {
        pid for pid, (kind, _) in coverage.items() if kind == PayerKind.MEDICARE
    }
    if patient_id is not None:
        candidates = {patient_id}
    if patient_id is None and kx_threshold and context.rulebook is not None:
        _prefetch_years_to_date(store, context, today, [
            pid for pid in candidates - archived if coverage.get(pid, (None, ""))[0] == PayerKind.MEDICARE and visits.get(pid)])
    facts: dict[str, PatientDueFacts] = {}
    for pid in candidates - archived:
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


def _year_to_date(store: Store, context: DueContext, patient_id: str, today: dt.date, visits: int,
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


def _prefetch_years_to_date(store: Store, context: DueContext, today: dt.date, patient_ids: list[str]) -> None:
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


def _plan_facts(rows: list[DuePlan], visits_by_plan: dict[str, tuple[dt.date, ...]],
                reports_by_plan: dict[str, list[dt.date]], today: dt.date) -> list[PlanDueFacts]:
    succeeded = {plan.previous_plan_id for plan in rows if plan.previous_plan_id}
    rows = [plan for plan in rows if plan.plan_id not in succeeded]
    current = [plan for plan in rows if plan.end >= today]
    if not current and rows:
        current = [max(rows, key=lambda plan: plan.end)]
    plans = []
    for plan in current:
        visits = visits_by_plan.get(plan.plan_id, ())
        reports = tuple(sorted(reports_by_plan.get(plan.plan_id, [])))
        try:
            plan_status = PlanStatus(plan.status)
        except ValueError:
            plan_status = PlanStatus.DRAFT
        plans.append(PlanDueFacts(
            plan_id=plan.plan_id,
            start=plan.start,
            end=plan.end,
            status=plan_status,
            certified_on=plan.certified_on,
            first_treatment_date=first_treatment_day(visits),
            treatment_dates_since_progress_report=progress_period(visits, reports, today),
            last_progress_report_on=latest_report_covering(reports, today),
            visits=visits,
            report_dates=reports,
            label=f"Plan of care {plan.start.isoformat()} to {plan.end.isoformat()}",
        ))
    return plans


def _iep_facts(rows: list[DueIepService], minutes: tuple[float, float]) -> list[IepDueFacts]:
    facts = []
    for service in rows:
        if service.kind != IepServiceKind.DIRECT:
            continue
        try:
            period_value = IepPeriod(service.period)
        except ValueError:
            continue
        delivered = minutes[0] if period_value == IepPeriod.WEEK else minutes[1]
        facts.append(IepDueFacts(required_minutes=service.minutes_required, period=period_value,
                                 kind=IepServiceKind.DIRECT, delivered_minutes=round(delivered)))
    return facts


def patient_due(store: Store, patient_id: str, today: dt.date, context: DueContext | None = None) -> list[DueItem]:
    """Everything due for one patient, most urgent first (for the chart)."""
    context = context or due_context(store)
    facts = gather_facts(store, today, patient_id, context).get(patient_id)
    return due_items(facts, context.rules) if facts is not None else []


CHUNK_PATIENTS = 5000


def iter_caseload_due(store: Store, today: dt.date, context: DueContext | None = None) -> Iterator[tuple[str, list[DueItem]]]:
    """``(patient id, due items)`` of every active patient that has any.

    Patients are taken a few thousand at a time, so a very large caseload never holds every
    patient's facts in memory at once.
    """
    context = context or due_context(store)
    bounds = store.due_facts.chunk_starts(CHUNK_PATIENTS)
    for low, high in zip(bounds, [*bounds[1:], None]):
        for pid, facts in gather_facts(store, today, None, context, id_range=(low, high)).items():
            items = due_items(facts, context.rules)
            if items:
                yield pid, items


def caseload_due(store: Store, today: dt.date, context: DueContext | None = None) -> dict[str, list[DueItem]]:
    """Due items of every active patient that has any, keyed by patient id."""
    return dict(iter_caseload_due(store, today, context))


def iter_due_summaries(store: Store, today: dt.date, max_length: int = 24) -> Iterator[tuple[str, str]]:
    """One short "Needs" cell per patient with something due, e.g. ``"PR due · POC 5d"``."""
    for pid, items in iter_caseload_due(store, today):
        yield pid, summarize(items, max_length)


def caseload_due_summaries(store: Store, today: dt.date, max_length: int = 24) -> dict[str, str]:
    """The "Needs" cells of every patient with something due, keyed by patient id."""
    return dict(iter_due_summaries(store, today, max_length))


def _clinic_rules_stamp() -> tuple[object, ...]:
    """The clinic's rule files as (name, size, modified) so that editing one is noticed."""
    try:
        from slpterm.paths import clinic_rules_dir

        folder = clinic_rules_dir()
        if not folder.is_dir():
            return ()
        return tuple(sorted((str(path), stat.st_size, stat.st_mtime_ns)
                            for path in folder.rglob("*") if path.is_file() for stat in [path.stat()]))
    except OSError:
        return ("unreadable",)


# More patients changed than this since the last look: read the whole caseload again instead.
RECOMPUTE_ONE_BY_ONE = 200


class DueCache:
    """What is due per patient, kept between looks and recomputed only for the patients that the
    writes since touched (``store.db.changes``): a session, a plan, a goal, a coverage, a diagnosis,
    a progress report. Everything is recomputed when the date changes (midnight), when a write
    concerns every patient (a setting, the fee schedule, a clinician) or the clinic's rule files
    changed. The caseload and the chart read through the same cache, so the chart of a patient the
    caseload just looked at shows what is due at once.

    Results equal a full recompute (:func:`caseload_due`, :func:`patient_due`). Thread-safe: the
    caseload and the chart compute in their own workers.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.RLock()
        self._position = store.db.changes.position
        self._today: dt.date | None = None
        self._rules_stamp: tuple[object, ...] | None = None
        self._context: DueContext | None = None
        self._complete = False  # every active patient's facts were computed
        self._known: set[str] = set()  # patients computed (nothing due when not in _items)
        self._items: dict[str, list[DueItem]] = {}  # active patients with something due
        self._charts: dict[str, list[DueItem]] = {}  # the chart's answer (archived patients too)
        self._stale: set[str] = set()
        self.recomputed: list[str] = []  # the patients the last caseload look computed (every one: ["*"])

    def _sync(self, today: dt.date) -> None:
        """Forget what the writes since the last look made stale."""
        stamp = _clinic_rules_stamp()
        since = self.store.db.changes.since(self._position)
        self._position = since.position
        touched = None if since.anything else patients_changed(self.store, since.changes)
        if today != self._today or stamp != self._rules_stamp or touched is None:
            self._today, self._rules_stamp = today, stamp
            self._context = None
            self._complete = False
            self._known.clear()
            self._items.clear()
            self._charts.clear()
            self._stale.clear()
            return
        for patient_id in touched:
            self._items.pop(patient_id, None)
            self._charts.pop(patient_id, None)
            self._known.discard(patient_id)
            if self._context is not None:
                self._context._year_to_date.pop((patient_id, today), None)
        self._stale |= touched  # (also while a whole look runs: what it read of them may be older)

    def _context_for(self) -> DueContext:
        if self._context is None:
            self._context = due_context(self.store)
        return self._context

    def _keep(self, facts: dict[str, PatientDueFacts], context: DueContext, asked: Collection[str] = ()) -> None:
        for patient_id in asked:  # an asked patient without facts has nothing due (or is archived)
            self._items.pop(patient_id, None)
            self._known.discard(patient_id)
        for patient_id, patient_facts in facts.items():
            items = due_items(patient_facts, context.rules)
            self._known.add(patient_id)
            if items:
                self._items[patient_id] = items
            else:
                self._items.pop(patient_id, None)

    def known(self, patient_id: str, today: dt.date) -> list[DueItem] | None:
        """What :meth:`patient` answers when it is kept (nothing changed it since), else None."""
        with self._lock:
            self._sync(today)
            if patient_id in self._charts:
                return self._charts[patient_id]
            if self._complete and patient_id in self._known and patient_id not in self._stale:
                return self._items.get(patient_id, [])
            return None

    def patient(self, patient_id: str, today: dt.date) -> list[DueItem]:
        """Everything due for one patient, most urgent first (the chart; archived patients too)."""
        with self._lock:
            kept = self.known(patient_id, today)
            if kept is not None:
                return kept
            context, position = self._context_for(), self._position
        items = patient_due(self.store, patient_id, today, context)
        with self._lock:
            if self._context is context and self._position == position:
                self._charts[patient_id] = items
        return items

    def summaries(self, today: dt.date, first: Sequence[str] = (),
                  max_length: int = 24) -> Iterator[tuple[str, str]]:
        """``(patient id, "Needs" cell)`` of every active patient with something due: the patients
        in ``first`` (the rows on screen) come first, then, on the first look or after a change that
        concerns everyone, the whole caseload; otherwise only the patients changed since are
        computed again and the rest come from the cache."""
        with self._lock:
            self._sync(today)
            context, position = self._context_for(), self._position
            complete = self._complete
            stale = set(self._stale)
        if complete and len(stale) <= RECOMPUTE_ONE_BY_ONE:
            if stale:
                facts = gather_facts(self.store, today, None, context, patient_ids=sorted(stale))
                with self._lock:
                    if self._context is context and self._position == position:
                        self._keep(facts, context, asked=stale)
                        self._stale -= stale
            self.recomputed = sorted(stale)
        else:
            self.recomputed = ["*"]
            yield from self._compute_all(today, context, first, max_length)
            return
        with self._lock:
            cells = [(patient_id, summarize(items, max_length)) for patient_id, items in self._items.items()]
        yield from cells

    def _compute_all(self, today: dt.date, context: DueContext, first: Sequence[str],
                     max_length: int) -> Iterator[tuple[str, str]]:
        with self._lock:
            self._complete = False
            self._known.clear()
            self._items.clear()
            self._stale.clear()
        done: set[str] = set()
        if first:
            facts = gather_facts(self.store, today, None, context, patient_ids=list(first))
            with self._lock:
                if self._context is context:
                    self._keep(facts, context, asked=first)
            for patient_id, patient_facts in facts.items():
                items = due_items(patient_facts, context.rules)
                if items:
                    yield patient_id, summarize(items, max_length)
            done.update(first)
        bounds = self.store.due_facts.chunk_starts(CHUNK_PATIENTS)
        for low, high in zip(bounds, [*bounds[1:], None]):
            facts = gather_facts(self.store, today, None, context, id_range=(low, high))
            with self._lock:
                if self._context is context:
                    self._keep({pid: f for pid, f in facts.items() if pid not in done}, context)
            for patient_id, patient_facts in facts.items():
                if patient_id in done:
                    continue
                items = due_items(patient_facts, context.rules)
                if items:
                    yield patient_id, summarize(items, max_length)
        with self._lock:
            # Patients written meanwhile were marked stale (see _sync): the next look computes them.
            self._complete = self._context is context


__all__ = [
    "DueCache",
    "DueContext",
    "caseload_due",
    "caseload_due_summaries",
    "iter_caseload_due",
    "iter_due_summaries",
    "due_context",
    "gather_facts",
    "patient_due",
]

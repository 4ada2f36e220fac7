"""From stored sessions to the coding engine's facts, and back as coded results.

The engine codes one patient's day at a time, so a patient's same-day sessions are always coded
together (untimed codes once per day, NCCI pairs across sessions).

Every question takes one path: the store's bulk read (:mod:`slpterm.store.billing_reads`, a fixed
number of queries whatever the number of sessions) into :class:`BulkData`, then each patient-day
coded once. ``BillingService.code_participant`` codes one session (the session screen),
``BillingService.code_many`` any number (exports, whole-clinic runs); this module holds no SQL.
"""

from __future__ import annotations

import json
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from slpterm.clinical import timer
from slpterm.clinical.episode import (
    episode_visits,
    first_treatment_day,
    treatment_day_number_in_order,
)
from slpterm.clinical.timer import TimeSegment
from slpterm.coding.engine import code_patient_day
from slpterm.coding.model import (
    BillingProviderFacts,
    ClinicianFacts,
    CodingResult,
    CoverageFacts,
    DiagnosisFact,
    EncounterFacts,
    PlanFacts,
)
from slpterm.coding.rulebook import RuleBook, load_rulebook
from slpterm.domain.bulk import paused_gc
from slpterm.domain.vocab import (
    ClinicianRole,
    DiagnosisRole,
    DisorderArea,
    EvaluationKind,
    PayerKind,
    PlanStatus,
    SessionType,
    Setting,
)
from slpterm.store.billing_facts import effective_billing_facts
from slpterm.store.billing_reads import BillingRead, HistoryRow
from slpterm.store.errors import NotFound
from slpterm.store.models import Clinic, Clinician, PlanOfCare
from slpterm.store.patients import PatientChart
from slpterm.store.sessions import ParticipantDetail, SessionTiming

if TYPE_CHECKING:
    from slpterm.store.store import Store

_E = TypeVar("_E", bound=Enum)


def rulebook_for(store: Store, rules_dir: Path | None = None) -> RuleBook:
    """The shipped rules, the clinic's rule files, then the fee schedule and payer overrides in settings."""
    if rules_dir is None:
        from slpterm.paths import clinic_rules_dir

        rules_dir = clinic_rules_dir()
    overrides = {}
    for payer_id, settings_json in store.clinic.payer_overrides().items():
        try:
            overrides[payer_id] = json.loads(settings_json)
        except json.JSONDecodeError:
            continue
    return load_rulebook(rules_dir if rules_dir.exists() else None,
                         fee_overrides=store.clinic.fee_schedule() or None,
                         payer_overrides=overrides or None)


def clock_segments(detail: ParticipantDetail | SessionTiming) -> list[TimeSegment]:
    return [TimeSegment(_member(DisorderArea, s.disorder_area), s.started_at, s.ended_at) for s in detail.segments]


def minutes_by_area(detail: ParticipantDetail | SessionTiming, now: datetime | None = None) -> dict[DisorderArea, int]:
    """Clock minutes per disorder area, with later hand corrections taking precedence."""
    minutes = timer.minutes_by_area(clock_segments(detail), now or datetime.now(UTC),
                                    last_seen_at=detail.session.heartbeat_at)
    for correction in detail.corrections:
        minutes[_member(DisorderArea, correction.disorder_area)] = correction.minutes
    return {area: value for area, value in minutes.items() if value > 0}


def plan_in_force(chart: PatientChart, day: date) -> PlanOfCare | None:
    """The latest-starting plan that covers ``day``, else the latest that started before it
    (discharged plans left out; on equal start dates the first listed)."""
    covering: PlanOfCare | None = None
    started: PlanOfCare | None = None
    for plan in chart.plans:
        if plan.start_date > day or plan.status == PlanStatus.DISCHARGED:
            continue
        if started is None or plan.start_date > started.start_date:
            started = plan
        if plan.end_date >= day and (covering is None or plan.start_date > covering.start_date):
            covering = plan
    return covering or started


def report_dates(chart: PatientChart, plan: PlanOfCare | None) -> tuple[date, ...]:
    """The dates the plan's signed progress reports were written (or backdated to)."""
    if plan is None:
        return ()
    return tuple(report.written_on for report in chart.progress_reports
                 if report.plan_id == plan.id and report.signed_at is not None)


@lru_cache(maxsize=256)
def _frequency_per_week(text: str) -> int | None:
    from slpterm.clinical.validation import parse_frequency

    frequency = parse_frequency(text) if text else None
    if frequency is None:
        return None
    return frequency.times if frequency.per == "week" else max(1, round(frequency.times / 4))


def _member(kind: type[_E], value: object) -> _E:
    """``kind(value)`` by a dictionary look-up (the enum call costs more than the rest of a fact)."""
    member = kind._value2member_map_.get(value)
    return member if isinstance(member, kind) else kind(value)


class PatientHistory:
    """The patient's sessions as (participant, session) rows, for counting visits and days; the
    questions are answered from the session dates sorted once (bisect), not by scanning the rows."""

    def __init__(self, rows: list[HistoryRow]) -> None:
        self.rows = rows
        self._visit_dates: list[date] | None = None
        self._session_dates: list[date] | None = None
        self._episodes: dict[tuple[date, date, bool], tuple[date, ...]] = {}

    def visit_dates(self) -> list[date]:
        """Every distinct date with a session, in order."""
        if self._visit_dates is None:
            self._visit_dates = sorted({therapy_session.date_of_service for _, therapy_session in self.rows})
        return self._visit_dates

    def episode_visits(self, plan: PlanOfCare) -> tuple[date, ...]:
        """The plan's visits by the one rule (slpterm.clinical.episode)."""
        key = (plan.start_date, plan.end_date, plan.previous_plan_id is None)
        visits = self._episodes.get(key)
        if visits is None:
            visits = self._episodes[key] = episode_visits(self.visit_dates(), *key)
        return visits

    def visits_in_week_of(self, day: date) -> int:
        """Sessions from the Monday of ``day``'s week up to ``day``."""
        if self._session_dates is None:
            self._session_dates = sorted({therapy_session.id: therapy_session.date_of_service
                                          for _, therapy_session in self.rows}.values())
        monday = day - timedelta(days=day.weekday())
        return bisect_right(self._session_dates, day) - bisect_left(self._session_dates, monday)


class PatientFacts:
    """What the facts of every session of one patient share, derived once from the chart and the
    history: coverage, diagnoses, and per plan of care its visits, progress reports and facts."""

    def __init__(self, chart: PatientChart, history: PatientHistory) -> None:
        self.chart = chart
        self.history = history
        coverage = chart.primary_coverage
        self.coverage = CoverageFacts(
            payer_kind=_member(PayerKind, coverage.payer_kind) if coverage else PayerKind.SELF_PAY,
            payer_id=coverage.payer_id if coverage else "",
            payer_name=coverage.payer_name if coverage else "",
            member_id=coverage.member_id if coverage else "",
        )
        self.diagnoses = tuple(DiagnosisFact(diagnosis.code, _member(DiagnosisRole, diagnosis.role))
                               for diagnosis in chart.diagnoses if diagnosis.active)
        self._plans: dict[date, PlanOfCare | None] = {}
        self._plan_facts: dict[str, tuple[tuple[date, ...], tuple[date, ...], PlanFacts]] = {}

    def plan_on(self, day: date) -> PlanOfCare | None:
        if day not in self._plans:
            self._plans[day] = plan_in_force(self.chart, day)
        return self._plans[day]

    def plan_facts(self, plan: PlanOfCare) -> tuple[tuple[date, ...], tuple[date, ...], PlanFacts]:
        """The plan's episode visits, its signed progress reports' dates (both in order) and its facts."""
        found = self._plan_facts.get(plan.id)
        if found is None:
            visits = self.history.episode_visits(plan)
            found = self._plan_facts[plan.id] = (visits, tuple(sorted(report_dates(self.chart, plan))), PlanFacts(
                start=plan.start_date,
                end=plan.end_date,
                status=_member(PlanStatus, plan.status),
                certified_on=plan.certified_on,
                certifying_npi=plan.certifying_physician_npi or None,
                frequency_per_week=_frequency_per_week(plan.frequency),
                first_treatment_date=first_treatment_day(visits),
            ))
        return found


def day_amount(coded: dict[str, CodingResult], billed_cents: dict[str, int]) -> Decimal:
    """What one earlier day adds to the year-to-date therapy amount: the charge billed for each
    session already exported (the allowed amount once a remittance posted it), the coded charge of
    the others (the one rule, on every screen)."""
    total = Decimal("0")
    for participant_id, result in coded.items():
        cents = billed_cents.get(participant_id)
        total += Decimal(cents) / 100 if cents is not None else result.total_charge
    return total


def clinician_facts(clinician: Clinician | None) -> ClinicianFacts:
    return ClinicianFacts(
        name=f"{clinician.first_name} {clinician.last_name}".strip() if clinician else "",
        npi=clinician.npi if clinician else "",
        role=ClinicianRole(clinician.role) if clinician else ClinicianRole.SLP,
        credentials=clinician.credentials if clinician else "",
    )


def billing_provider_facts(clinic: Clinic | None) -> BillingProviderFacts:
    return BillingProviderFacts(
        name=clinic.name if clinic else "",
        npi=clinic.npi if clinic else "",
        tax_id=clinic.tax_id if clinic else "",
        address_line1=clinic.address_line1 if clinic else "",
        city=clinic.city if clinic else "",
        state=clinic.state if clinic else "",
        postal_code=clinic.postal_code if clinic else "",
    )


def build_facts(
    *,
    detail: ParticipantDetail,
    patient: PatientFacts,
    today: date | None,
    clinician: ClinicianFacts,
    billing_provider: BillingProviderFacts,
    ytd_other_amount: Decimal = Decimal("0"),
    now: datetime | None = None,
    local_clock: timer.LocalClock | None = None,
) -> EncounterFacts:
    """The engine's facts for one session of the patient whose shared facts are ``patient``."""
    clock = local_clock or timer.LocalClock()
    therapy_session = detail.session
    day = therapy_session.date_of_service
    plan = patient.plan_on(day)
    if plan is not None:
        visits, reports, plan_facts = patient.plan_facts(plan)
        day_number = treatment_day_number_in_order(visits, reports, day)
    else:
        plan_facts, day_number = None, 0
    area_minutes = minutes_by_area(detail, now)
    billing_facts = effective_billing_facts(detail.billing, detail.participant,
                                            plan.rehabilitative if plan is not None else None)
    return EncounterFacts(
        session_id=detail.participant.id,
        patient_id=patient.chart.patient.id,
        date_of_service=day,
        today=today,
        session_type=_member(SessionType, therapy_session.session_type),
        evaluation_kind=_member(EvaluationKind, therapy_session.evaluation_kind) if therapy_session.evaluation_kind else None,
        setting=_member(Setting, therapy_session.setting),
        signed=detail.signed,
        start_time=clock.time_of(therapy_session.started_at) if therapy_session.started_at else None,
        stop_time=clock.time_of(therapy_session.stopped_at) if therapy_session.stopped_at else None,
        total_minutes=sum(area_minutes.values()),
        minutes_by_area=area_minutes,
        techniques=tuple(detail.techniques),
        goals_addressed=len(detail.goal_ids),
        group_size=detail.group_size,
        diagnoses=patient.diagnoses,
        plan=plan_facts,
        treatment_days_since_progress_report=max(0, day_number - 1),
        visits_this_week=patient.history.visits_in_week_of(day),
        coverage=patient.coverage,
        clinician=clinician,
        billing=billing_provider,
        ytd_therapy_amount=ytd_other_amount,
        distinct_service_documented=billing_facts.distinct_service_documented,
        distinct_modifier=billing_facts.distinct_modifier,
        rehabilitative=billing_facts.rehabilitative,
        audio_only=billing_facts.audio_only,
        speech_generating_device=(
            None if therapy_session.aac_device is None else therapy_session.aac_device == "sgd"
        ),
    )


class BillingService:
    """Codes stored sessions; one instance per unit of work (it caches rules, the clinic and the clock).

    ``now`` is the instant that a still-running timer is measured up to; it is fixed for the
    instance so that every session it codes sees the same clock.
    """

    def __init__(self, store: Store, today: date, rulebook: RuleBook | None = None,
                 now: datetime | None = None) -> None:
        self.store = store
        self.today = today
        self.now = now or datetime.now(UTC)
        self.rulebook = rulebook or rulebook_for(store)
        self.clinic = store.clinic.get_clinic()
        self.clinicians = {c.id: c for c in store.clinic.clinicians(include_inactive=True)}
        self._clinician_facts: dict[str, ClinicianFacts] = {}
        self._billing_facts = billing_provider_facts(self.clinic)
        self._local_clock = timer.LocalClock()

    def facts(self, detail: ParticipantDetail, patient: PatientFacts, ytd: Decimal = Decimal("0")) -> EncounterFacts:
        """The engine's facts for one participant (``detail``) of the patient whose shared facts are ``patient``."""
        clinician_id = detail.session.clinician_id or ""
        clinician = self._clinician_facts.get(clinician_id)
        if clinician is None:
            clinician = self._clinician_facts[clinician_id] = clinician_facts(self.clinicians.get(clinician_id))
        return build_facts(detail=detail, patient=patient, today=self.today, clinician=clinician,
                           billing_provider=self._billing_facts, ytd_other_amount=ytd, now=self.now,
                           local_clock=self._local_clock)

    @staticmethod
    def _other_providers(chart: PatientChart, year: int) -> Decimal:
        return sum((Decimal(row.other_providers_cents) / 100 for row in chart.therapy_amounts if row.year == year),
                   Decimal("0"))

    @staticmethod
    def _counts_own_charges(chart: PatientChart) -> bool:
        """Medicare's therapy threshold (KX) counts this clinic's earlier charges of the year too."""
        return chart.primary_coverage is not None and chart.primary_coverage.payer_kind == PayerKind.MEDICARE

    def year_to_date_through(self, patient_id: str, day: date) -> Decimal:
        """The patient's year-to-date therapy amount with ``day`` included (the chart's figure; a
        session's KX finding shows the amount before its day plus its day's claim)."""
        amounts = self.years_to_date_through([patient_id], day)
        if patient_id not in amounts:
            raise NotFound(f"No patient with id {patient_id}; it may have been removed.")
        return amounts[patient_id]

    def years_to_date_through(self, patient_ids: Sequence[str], day: date) -> dict[str, Decimal]:
        """:meth:`year_to_date_through` for many patients with a fixed number of queries."""
        wanted = list(dict.fromkeys(patient_ids))
        if not wanted:
            return {}
        data = BulkData(self.store, wanted)
        needed = [participant.id for patient_id in wanted for participant, therapy_session in
                  data.histories.get(patient_id, PatientHistory([])).rows
                  if therapy_session.date_of_service.year == day.year and therapy_session.date_of_service <= day]
        data.load_details(needed)
        return {patient_id: self.amount_through(data, patient_id, day)
                for patient_id in wanted if patient_id in data.charts and patient_id in data.histories}

    def amount_through(self, data: BulkData, patient_id: str, day: date) -> Decimal:
        """The patient's year-to-date therapy amount through ``day`` from ``data``, which holds the
        details of the patient's sessions of that year up to ``day``."""
        chart, history = data.charts[patient_id], data.histories[patient_id]
        total = self._other_providers(chart, day.year)
        if not self._counts_own_charges(chart):
            return total
        patient = PatientFacts(chart, history)
        by_day: dict[date, list[str]] = defaultdict(list)
        for participant, therapy_session in history.rows:
            if therapy_session.date_of_service.year == day.year and therapy_session.date_of_service <= day:
                by_day[therapy_session.date_of_service].append(participant.id)
        for ids in by_day.values():
            facts = [self.facts(data.details[i], patient) for i in ids if i in data.details]
            total += day_amount(code_patient_day(facts, self.rulebook), data.billed.get(patient_id, {}))
        return total

    def code_participant(self, participant_id: str) -> CodingResult:
        """The coded lines and findings for one patient in one session (same-day sessions included)."""
        return self.code_many([participant_id])[participant_id]

    # -- many sessions at once -------------------------------------------------------------------
    def code_many(self, participant_ids: Iterable[str], data: BulkData | None = None) -> dict[str, CodingResult]:
        """Code many participants with a fixed number of queries; each the same result as coding it
        alone (:meth:`code_participant`). Raises ``NotFound`` for an unknown participant id.

        ``data`` may be passed when it is already loaded (it must cover the participants' patients).
        """
        wanted = list(dict.fromkeys(participant_ids))
        if not wanted:
            return {}
        with paused_gc():
            return self._code_many(wanted, data)

    def _code_many(self, wanted: list[str], data: BulkData | None) -> dict[str, CodingResult]:
        if data is None:
            data = BulkData.for_participants(self.store, wanted)
        elif not data._prepared_for.issuperset(wanted):
            data.load_details(data.participants_to_code(wanted))
        results: dict[str, CodingResult] = {}
        days_by_patient: dict[str, set[date]] = defaultdict(set)
        for participant_id in wanted:
            detail = data.details.get(participant_id)
            if detail is None:
                raise NotFound(f"No sessionparticipant with id {participant_id}; it may have been removed.")
            days_by_patient[detail.participant.patient_id].add(detail.session.date_of_service)
        for patient_id, days in days_by_patient.items():
            results.update(self._code_patient_days(data, patient_id, days))
        return {participant_id: results[participant_id] for participant_id in wanted}

    def _code_patient_days(self, data: BulkData, patient_id: str, days: set[date]) -> dict[str, CodingResult]:
        """Code the patient's ``days``. Where the year-to-date amount counts this clinic's own
        charges (Medicare), the days of each year are coded in order, each once, up to the last
        one wanted: a day's charges do not depend on the amount before it, so its coded amount adds
        to the running total of the days after it."""
        patient = PatientFacts(data.charts[patient_id], data.histories[patient_id])
        by_day: dict[date, list[str]] = defaultdict(list)
        for participant, therapy_session in patient.history.rows:
            by_day[therapy_session.date_of_service].append(participant.id)

        def code_day(day: date, ytd: Decimal) -> dict[str, CodingResult]:
            return code_patient_day([self.facts(data.details[participant_id], patient, ytd)
                                     for participant_id in by_day[day]], self.rulebook)

        chart = patient.chart
        other_providers_by_year: dict[int, Decimal] = {}

        def other_providers(year: int) -> Decimal:
            if year not in other_providers_by_year:
                other_providers_by_year[year] = self._other_providers(chart, year)
            return other_providers_by_year[year]

        results: dict[str, CodingResult] = {}
        if not self._counts_own_charges(chart):
            for day in sorted(days):
                results.update(code_day(day, other_providers(day.year)))
            return results
        last_wanted: dict[int, date] = {}
        for day in days:
            if day > last_wanted.get(day.year, date.min):
                last_wanted[day.year] = day
        billed = data.billed.get(patient_id, {})
        year, own = 0, Decimal("0")
        for day in sorted(by_day):
            if day > last_wanted.get(day.year, date.min):
                continue
            if day.year != year:
                year, own = day.year, Decimal("0")
            coded = code_day(day, other_providers(day.year) + own)
            if day in days:
                results.update(coded)
            own += day_amount(coded, billed)
        return results


# -- many patients' data at once ----------------------------------------------------------------

class BulkData:
    """Everything coding and encounter records need for a set of patients, from the store's bulk
    read (:mod:`slpterm.store.billing_reads`, a fixed number of queries): charts, every session of
    theirs (``histories``) and participants' ``details``; ``billed`` holds the exported charges
    (allowed amounts where a remittance posted the claim).

    For :meth:`whole_clinic` every participant has its details and every chart all its goals. For
    :meth:`for_participants` only the participants that coding those participants needs have
    details (see :meth:`participants_to_code`), and charts hold the goals those sessions addressed;
    :meth:`load_details` reads more when needed.
    """

    def __init__(self, store: Store, patient_ids: Sequence[str] | None,
                 participant_ids: Sequence[str] | None = None) -> None:
        self.store = store
        self._prepared_for: set[str] = set(participant_ids or ())
        wanted = None if patient_ids is None else list(dict.fromkeys(patient_ids))
        self.billed: dict[str, dict[str, int]] = store.exports.billed_by_participant(wanted)
        # Once a remittance posted a claim, its allowed amount counts instead of the charge billed.
        for patient_id, allowed in store.remittances.allowed_by_participant(wanted).items():
            self.billed.setdefault(patient_id, {}).update(allowed)
        self.histories: dict[str, PatientHistory] = {}

        def details_for(read: BillingRead) -> list[str]:
            self._take(read)
            return self.participants_to_code(participant_ids) if participant_ids is not None else []

        self._take(store.billing_reads.read(wanted, details_for))
        if wanted is None:
            self._prepared_for = set(self.details)

    def _take(self, read: BillingRead) -> None:
        self._read = read
        self.charts = read.charts
        self.details = read.details
        if not self.histories:
            self.histories = {patient_id: PatientHistory(rows) for patient_id, rows in read.history.items()}

    @classmethod
    def for_participants(cls, store: Store, participant_ids: Sequence[str]) -> BulkData:
        """The data for coding ``participant_ids`` (unknown ids are simply absent): their patients'
        charts and histories, and the details of every participant their coding reads."""
        wanted = list(participant_ids)
        return cls(store, store.billing_reads.patients_of_participants(wanted), wanted)

    @classmethod
    def whole_clinic(cls, store: Store) -> BulkData:
        """The data for every patient, archived ones included, with every participant's details."""
        return cls(store, None)

    def participants_to_code(self, participant_ids: Iterable[str]) -> list[str]:
        """The participants whose facts coding ``participant_ids`` reads: every participant on the
        same patient-day, and for patients whose year-to-date amount counts this clinic's own
        charges (Medicare), every participant on their earlier days of the year. Unknown ids are
        left out."""
        days_by_patient: dict[str, set[date]] = defaultdict(set)
        for participant_id in participant_ids:
            row = self._read.rows.get(participant_id)
            if row is not None:
                days_by_patient[row[0].patient_id].add(row[1].date_of_service)
        needed: list[str] = []
        for patient_id, days in days_by_patient.items():
            latest_by_year: dict[int, date] = {}
            if BillingService._counts_own_charges(self.charts[patient_id]):
                for day in days:
                    if day > latest_by_year.get(day.year, date.min):
                        latest_by_year[day.year] = day
            for participant, therapy_session in self.histories[patient_id].rows:
                day = therapy_session.date_of_service
                if day in days or day < latest_by_year.get(day.year, date.min):
                    needed.append(participant.id)
        return needed

    def load_details(self, participant_ids: Iterable[str]) -> None:
        """Read the details of those of ``participant_ids`` (of these patients) not read yet."""
        self.store.billing_reads.load_details(self._read, participant_ids)

    def trial_counts(self, participant_ids: Sequence[str]) -> dict[str, dict[str, tuple[int, int]]]:
        """Per participant and goal: (correct, total) trials that are not voided."""
        return self.store.billing_reads.trial_counts(participant_ids)

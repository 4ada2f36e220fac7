"""From stored sessions to the coding engine's facts, and back as coded results.

The engine codes one patient's day at a time, so a patient's same-day sessions are always coded
together (untimed codes once per day, NCCI pairs across sessions).

Two paths give the same results:

- ``BillingService.code_participant(participant_id)``: one session, read through the store API
  (a few dozen small queries; right for the session screen).
- ``BillingService.code_many(participant_ids)``: any number of sessions, read with a fixed number
  of batched queries (:class:`BulkData`), each patient-day coded once; right for exports and
  whole-clinic runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from slpterm.clinical import timer
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
from slpterm.domain.vocab import ClinicianRole, DiagnosisRole, DisorderArea, EvaluationKind, PayerKind, PlanStatus, SessionType, Setting
from slpterm.store.models import Clinic, Clinician, PlanOfCare
from slpterm.store.patients import PatientChart
from slpterm.store.sessions import ParticipantDetail

TREATMENT_TYPES = {
    SessionType.INDIVIDUAL_TREATMENT, SessionType.GROUP_TREATMENT, SessionType.SWALLOWING_TREATMENT,
    SessionType.AAC_TREATMENT, SessionType.COGNITIVE_TREATMENT,
}


def rulebook_for(store, rules_dir: Path | None = None) -> RuleBook:  # noqa: ANN001
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


def clock_segments(detail: ParticipantDetail) -> list[TimeSegment]:
    return [TimeSegment(DisorderArea(s.disorder_area), s.started_at, s.ended_at) for s in detail.segments]


def minutes_by_area(detail: ParticipantDetail, now: datetime | None = None) -> dict[DisorderArea, int]:
    """Clock minutes per disorder area, with later hand corrections taking precedence."""
    minutes = timer.minutes_by_area(clock_segments(detail), now or datetime.now(timezone.utc),
                                    last_seen_at=detail.session.heartbeat_at)
    for correction in detail.corrections:
        minutes[DisorderArea(correction.disorder_area)] = correction.minutes
    return {area: value for area, value in minutes.items() if value > 0}


def plan_in_force(chart: PatientChart, day: date) -> PlanOfCare | None:
    candidates = [plan for plan in chart.plans if plan.start_date <= day and plan.status != PlanStatus.DISCHARGED]
    covering = [plan for plan in candidates if plan.end_date >= day]
    pool = covering or candidates
    return max(pool, key=lambda plan: plan.start_date, default=None)


def _frequency_per_week(text: str) -> int | None:
    from slpterm.clinical.validation import parse_frequency

    frequency = parse_frequency(text) if text else None
    if frequency is None:
        return None
    return frequency.times if frequency.per == "week" else max(1, round(frequency.times / 4))


@dataclass
class PatientHistory:
    """The patient's sessions as (participant, session) rows, for counting visits and days."""

    rows: list

    def treatment_dates(self, plan: PlanOfCare | None, before: date) -> list[date]:
        return sorted({
            therapy_session.date_of_service for participant, therapy_session in self.rows
            if therapy_session.session_type in TREATMENT_TYPES and therapy_session.date_of_service < before
            and (plan is None or plan.start_date <= therapy_session.date_of_service)
        })

    def first_visit(self, plan: PlanOfCare | None) -> date | None:
        dates = [therapy_session.date_of_service for _, therapy_session in self.rows
                 if plan is None or therapy_session.date_of_service >= plan.start_date]
        return min(dates, default=None)

    def visits_in_week_of(self, day: date) -> int:
        monday = day - timedelta(days=day.weekday())
        return len({(therapy_session.id) for _, therapy_session in self.rows
                    if monday <= therapy_session.date_of_service <= day})


def build_facts(
    *,
    detail: ParticipantDetail,
    chart: PatientChart,
    history: PatientHistory,
    clinic: Clinic | None,
    clinician: Clinician | None,
    today: date | None,
    ytd_other_amount: Decimal = Decimal("0"),
    now: datetime | None = None,
) -> EncounterFacts:
    therapy_session = detail.session
    day = therapy_session.date_of_service
    coverage = chart.primary_coverage
    plan = plan_in_force(chart, day)
    last_report = max((report.written_on for report in chart.progress_reports
                       if plan is not None and report.plan_id == plan.id and report.written_on < day), default=None)
    treatment_days = [d for d in history.treatment_dates(plan, day) if last_report is None or d > last_report]
    area_minutes = minutes_by_area(detail, now)
    total = sum(area_minutes.values())
    return EncounterFacts(
        session_id=detail.participant.id,
        patient_id=chart.patient.id,
        date_of_service=day,
        today=today,
        session_type=SessionType(therapy_session.session_type),
        evaluation_kind=EvaluationKind(therapy_session.evaluation_kind) if therapy_session.evaluation_kind else None,
        setting=Setting(therapy_session.setting),
        signed=detail.signed,
        start_time=therapy_session.started_at.astimezone().time() if therapy_session.started_at else None,
        stop_time=therapy_session.stopped_at.astimezone().time() if therapy_session.stopped_at else None,
        total_minutes=total,
        minutes_by_area=area_minutes,
        techniques=tuple(detail.techniques),
        goals_addressed=len(detail.goal_ids),
        group_size=detail.group_size,
        diagnoses=tuple(
            DiagnosisFact(diagnosis.code, DiagnosisRole(diagnosis.role))
            for diagnosis in chart.diagnoses if diagnosis.active
        ),
        plan=PlanFacts(
            start=plan.start_date,
            end=plan.end_date,
            status=PlanStatus(plan.status),
            certified_on=plan.certified_on,
            certifying_npi=plan.certifying_physician_npi or None,
            frequency_per_week=_frequency_per_week(plan.frequency),
            first_treatment_date=history.first_visit(plan),
        ) if plan is not None else None,
        treatment_days_since_progress_report=len(treatment_days),
        visits_this_week=history.visits_in_week_of(day),
        coverage=CoverageFacts(
            payer_kind=PayerKind(coverage.payer_kind) if coverage else PayerKind.SELF_PAY,
            payer_id=coverage.payer_id if coverage else "",
            payer_name=coverage.payer_name if coverage else "",
            member_id=coverage.member_id if coverage else "",
        ),
        clinician=ClinicianFacts(
            name=f"{clinician.first_name} {clinician.last_name}".strip() if clinician else "",
            npi=clinician.npi if clinician else "",
            role=ClinicianRole(clinician.role) if clinician else ClinicianRole.SLP,
            credentials=clinician.credentials if clinician else "",
        ),
        billing=BillingProviderFacts(
            name=clinic.name if clinic else "",
            npi=clinic.npi if clinic else "",
            tax_id=clinic.tax_id if clinic else "",
            address_line1=clinic.address_line1 if clinic else "",
            city=clinic.city if clinic else "",
            state=clinic.state if clinic else "",
            postal_code=clinic.postal_code if clinic else "",
        ),
        ytd_therapy_amount=ytd_other_amount,
        distinct_service_documented=bool(detail.participant.distinct_service_note.strip()),
        rehabilitative=detail.participant.rehabilitative,
        speech_generating_device=(
            None if therapy_session.aac_device is None else therapy_session.aac_device == "sgd"
        ),
    )


class BillingService:
    """Codes stored sessions; one instance per unit of work (it caches rules and the clinic)."""

    def __init__(self, store, today: date, rulebook: RuleBook | None = None) -> None:  # noqa: ANN001
        self.store = store
        self.today = today
        self.rulebook = rulebook or rulebook_for(store)
        self.clinic = store.clinic.get_clinic()
        self.clinicians = {c.id: c for c in store.clinic.clinicians(include_inactive=True)}

    def _facts_for_patient_day(self, chart: PatientChart, history: PatientHistory, day: date,
                               ytd: Decimal) -> list[EncounterFacts]:
        facts = []
        for participant, therapy_session in history.rows:
            if therapy_session.date_of_service != day:
                continue
            detail = self.store.sessions.detail(participant.id)
            facts.append(build_facts(detail=detail, chart=chart, history=history, clinic=self.clinic,
                                     clinician=self.clinicians.get(therapy_session.clinician_id or ""),
                                     today=self.today, ytd_other_amount=ytd))
        return facts

    def _year_to_date(self, chart: PatientChart, history: PatientHistory, day: date) -> Decimal:
        """Other providers' amount this year plus this clinic's charges on earlier days this year."""
        other = sum((Decimal(row.other_providers_cents) / 100 for row in chart.therapy_amounts if row.year == day.year),
                    Decimal("0"))
        if chart.primary_coverage is None or chart.primary_coverage.payer_kind != PayerKind.MEDICARE:
            return other
        earlier_days = sorted({s.date_of_service for _, s in history.rows
                               if s.date_of_service.year == day.year and s.date_of_service < day})
        own = Decimal("0")
        for earlier in earlier_days:
            results = code_patient_day(self._facts_for_patient_day(chart, history, earlier, Decimal("0")),
                                       self.rulebook)
            own += sum((result.total_charge for result in results.values()), Decimal("0"))
        return other + own

    def code_participant(self, participant_id: str) -> CodingResult:
        """The coded lines and findings for one patient in one session (same-day sessions included)."""
        detail = self.store.sessions.detail(participant_id)
        patient_id = detail.participant.patient_id
        chart = self.store.patients.chart(patient_id)
        history = PatientHistory(self.store.sessions.for_patient(patient_id))
        day = detail.session.date_of_service
        ytd = self._year_to_date(chart, history, day)
        results = code_patient_day(self._facts_for_patient_day(chart, history, day, ytd), self.rulebook)
        return results[participant_id]

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
from collections import defaultdict, namedtuple
from functools import lru_cache
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Iterable, Sequence

from slpterm.clinical import timer
from slpterm.clinical.episode import episode_visits, first_treatment_day, treatment_day_number
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
from slpterm.domain.vocab import ClinicianRole, DiagnosisRole, DisorderArea, EvaluationKind, PayerKind, PlanStatus, SessionType, Setting
from slpterm.store import models as store_models
from slpterm.store.billing_facts import effective_billing_facts
from slpterm.store.errors import NotFound
from slpterm.store.models import Clinic, Clinician, PlanOfCare, UtcDateTime
from slpterm.store.patients import PatientChart
from slpterm.store.sessions import ParticipantDetail, SessionTiming

TREATMENT_TYPES = {kind for kind in SessionType if not kind.is_evaluation}


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


def clock_segments(detail: ParticipantDetail | SessionTiming) -> list[TimeSegment]:
    return [TimeSegment(DisorderArea(s.disorder_area), s.started_at, s.ended_at) for s in detail.segments]


def minutes_by_area(detail: ParticipantDetail | SessionTiming, now: datetime | None = None) -> dict[DisorderArea, int]:
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

    def episode_visits(self, plan: PlanOfCare) -> tuple[date, ...]:
        """The plan's visits by the one rule (slpterm.clinical.episode)."""
        return episode_visits((therapy_session.date_of_service for _, therapy_session in self.rows),
                              plan.start_date, plan.end_date, first_plan=plan.previous_plan_id is None)

    def first_visit(self, plan: PlanOfCare | None) -> date | None:
        dates = [therapy_session.date_of_service for _, therapy_session in self.rows
                 if plan is None or therapy_session.date_of_service >= plan.start_date]
        return min(dates, default=None)

    def visits_in_week_of(self, day: date) -> int:
        monday = day - timedelta(days=day.weekday())
        return len({(therapy_session.id) for _, therapy_session in self.rows
                    if monday <= therapy_session.date_of_service <= day})


def day_amount(coded: dict[str, CodingResult], billed_cents: dict[str, int]) -> Decimal:
    """What one earlier day adds to the year-to-date therapy amount: the charge billed for each
    session already exported, the coded charge of the others (the one rule, on every screen)."""
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
    chart: PatientChart,
    history: PatientHistory,
    clinic: Clinic | None,
    clinician: Clinician | None,
    today: date | None,
    ytd_other_amount: Decimal = Decimal("0"),
    now: datetime | None = None,
    clinician_facts_value: ClinicianFacts | None = None,
    billing_facts_value: BillingProviderFacts | None = None,
) -> EncounterFacts:
    """The engine's facts for one session; the ``*_facts_value`` arguments, when given, are used
    instead of deriving them again from ``clinician`` and ``clinic``."""
    therapy_session = detail.session
    day = therapy_session.date_of_service
    coverage = chart.primary_coverage
    plan = plan_in_force(chart, day)
    visits = history.episode_visits(plan) if plan is not None else ()
    day_number = treatment_day_number(visits, report_dates(chart, plan), day) if plan is not None else 0
    area_minutes = minutes_by_area(detail, now)
    total = sum(area_minutes.values())
    billing_facts = effective_billing_facts(detail.billing, detail.participant,
                                            plan.rehabilitative if plan is not None else None)
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
            first_treatment_date=first_treatment_day(visits),
        ) if plan is not None else None,
        treatment_days_since_progress_report=max(0, day_number - 1),
        visits_this_week=history.visits_in_week_of(day),
        coverage=CoverageFacts(
            payer_kind=PayerKind(coverage.payer_kind) if coverage else PayerKind.SELF_PAY,
            payer_id=coverage.payer_id if coverage else "",
            payer_name=coverage.payer_name if coverage else "",
            member_id=coverage.member_id if coverage else "",
        ),
        clinician=clinician_facts_value or clinician_facts(clinician),
        billing=billing_facts_value or billing_provider_facts(clinic),
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

    def __init__(self, store, today: date, rulebook: RuleBook | None = None,  # noqa: ANN001
                 now: datetime | None = None) -> None:
        self.store = store
        self.today = today
        self.now = now or datetime.now(timezone.utc)
        self.rulebook = rulebook or rulebook_for(store)
        self.clinic = store.clinic.get_clinic()
        self.clinicians = {c.id: c for c in store.clinic.clinicians(include_inactive=True)}
        self._clinician_facts: dict[str, ClinicianFacts] = {}
        self._billing_facts = billing_provider_facts(self.clinic)

    def facts(self, detail: ParticipantDetail, chart: PatientChart, history: PatientHistory,
              ytd: Decimal = Decimal("0")) -> EncounterFacts:
        """The engine's facts for one participant (``detail``) of the patient in ``chart``."""
        clinician_id = detail.session.clinician_id or ""
        clinician = self._clinician_facts.get(clinician_id)
        if clinician is None:
            clinician = self._clinician_facts[clinician_id] = clinician_facts(self.clinicians.get(clinician_id))
        return build_facts(detail=detail, chart=chart, history=history, clinic=self.clinic, clinician=None,
                           today=self.today, ytd_other_amount=ytd, now=self.now,
                           clinician_facts_value=clinician, billing_facts_value=self._billing_facts)

    def _facts_for_patient_day(self, chart: PatientChart, history: PatientHistory, day: date,
                               ytd: Decimal) -> list[EncounterFacts]:
        return [self.facts(self.store.sessions.detail(participant.id), chart, history, ytd)
                for participant, therapy_session in history.rows if therapy_session.date_of_service == day]

    @staticmethod
    def _other_providers(chart: PatientChart, year: int) -> Decimal:
        return sum((Decimal(row.other_providers_cents) / 100 for row in chart.therapy_amounts if row.year == year),
                   Decimal("0"))

    @staticmethod
    def _counts_own_charges(chart: PatientChart) -> bool:
        """Medicare's therapy threshold (KX) counts this clinic's earlier charges of the year too."""
        return chart.primary_coverage is not None and chart.primary_coverage.payer_kind == PayerKind.MEDICARE

    def _year_to_date(self, chart: PatientChart, history: PatientHistory, day: date) -> Decimal:
        """Other providers' amount this year plus this clinic's charges on earlier days this year."""
        other = self._other_providers(chart, day.year)
        if not self._counts_own_charges(chart):
            return other
        earlier_days = sorted({s.date_of_service for _, s in history.rows
                               if s.date_of_service.year == day.year and s.date_of_service < day})
        billed = self.store.exports.billed_by_participant([chart.patient.id]).get(chart.patient.id, {})
        own = Decimal("0")
        for earlier in earlier_days:
            results = code_patient_day(self._facts_for_patient_day(chart, history, earlier, Decimal("0")),
                                       self.rulebook)
            own += day_amount(results, billed)
        return other + own

    def year_to_date_through(self, patient_id: str, day: date) -> Decimal:
        """The patient's year-to-date therapy amount with ``day`` included (the chart's figure; a
        session's KX finding shows the amount before its day plus its day's claim)."""
        chart = self.store.patients.chart(patient_id)
        history = PatientHistory(self.store.sessions.for_patient(patient_id))
        return self._year_to_date(chart, history, day + timedelta(days=1))

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
        out: dict[str, Decimal] = {}
        for patient_id in wanted:
            chart, history = data.charts.get(patient_id), data.histories.get(patient_id)
            if chart is None or history is None:
                continue
            total = self._other_providers(chart, day.year)
            if self._counts_own_charges(chart):
                by_day: dict[date, list[str]] = defaultdict(list)
                for participant, therapy_session in history.rows:
                    if therapy_session.date_of_service.year == day.year and therapy_session.date_of_service <= day:
                        by_day[therapy_session.date_of_service].append(participant.id)
                for ids in by_day.values():
                    facts = [self.facts(data.details[i], chart, history) for i in ids if i in data.details]
                    total += day_amount(code_patient_day(facts, self.rulebook), data.billed.get(patient_id, {}))
            out[patient_id] = total
        return out

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

    # -- many sessions at once -------------------------------------------------------------------
    def code_many(self, participant_ids: Iterable[str], data: "BulkData | None" = None) -> dict[str, CodingResult]:
        """Code many participants with a fixed number of queries; the same results as
        :meth:`code_participant` for each. Raises ``NotFound`` for an unknown participant id.

        ``data`` may be passed when it is already loaded (it must cover the participants' patients).
        """
        wanted = list(dict.fromkeys(participant_ids))
        if not wanted:
            return {}
        with paused_gc():
            return self._code_many(wanted, data)

    def _code_many(self, wanted: list[str], data: "BulkData | None") -> dict[str, CodingResult]:
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

    def _code_patient_days(self, data: "BulkData", patient_id: str, days: set[date]) -> dict[str, CodingResult]:
        chart = data.charts[patient_id]
        history = data.histories[patient_id]
        facts_cache: dict[str, EncounterFacts] = {}
        by_day: dict[date, list[str]] = defaultdict(list)
        for participant, therapy_session in history.rows:
            by_day[therapy_session.date_of_service].append(participant.id)

        def day_facts(day: date, ytd: Decimal) -> list[EncounterFacts]:
            facts = []
            for participant_id in by_day[day]:
                cached = facts_cache.get(participant_id)
                if cached is None:
                    cached = facts_cache[participant_id] = self.facts(data.details[participant_id], chart, history)
                facts.append(cached if cached.ytd_therapy_amount == ytd else replace(cached, ytd_therapy_amount=ytd))
            return facts

        counts_own = self._counts_own_charges(chart)
        zero_day_totals: dict[date, Decimal] = {}

        def own_before(day: date) -> Decimal:
            own = Decimal("0")
            for earlier in sorted(d for d in by_day if d.year == day.year and d < day):
                if earlier not in zero_day_totals:
                    coded = code_patient_day(day_facts(earlier, Decimal("0")), self.rulebook)
                    zero_day_totals[earlier] = day_amount(coded, data.billed.get(patient_id, {}))
                own += zero_day_totals[earlier]
            return own

        results: dict[str, CodingResult] = {}
        for day in sorted(days):
            ytd = self._other_providers(chart, day.year)
            if counts_own:
                ytd += own_before(day)
            results.update(code_patient_day(day_facts(day, ytd), self.rulebook))
        return results


# -- batched reading ---------------------------------------------------------------------------------

def _to_date(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value  # type: ignore[return-value]
    return date.fromisoformat(str(value)[:10])


def _to_utc(value: object) -> datetime | None:
    """Stored UTC (no offset, as ``UtcDateTime`` writes it) as an aware datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value + "+00:00")
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def _to_bool(value: object) -> bool | None:
    return None if value is None else bool(value)


_RECORD_TYPES: dict[tuple[str, tuple[str, ...]], type] = {}


def _record_type(table_name: str, names: tuple[str, ...]) -> type:
    """A light read-only row type with the attributes of a store model (the columns that were read)."""
    key = (table_name, names)
    if key not in _RECORD_TYPES:
        _RECORD_TYPES[key] = namedtuple(f"{table_name.capitalize()}Row", names)  # type: ignore[misc]
    return _RECORD_TYPES[key]


def _converter(column):  # noqa: ANN001, ANN202
    from sqlalchemy import Boolean, Date, DateTime

    if isinstance(column.type, Date):
        return _to_date
    if isinstance(column.type, (DateTime, UtcDateTime)):
        return _to_utc
    if isinstance(column.type, Boolean):
        return _to_bool
    return None


def _read(connection, model, sql: str, params: dict, columns: Sequence[str] | None = None,  # noqa: ANN001
          alias: str = "t") -> list:
    """Rows of ``model`` as light records; ``sql`` follows ``SELECT <columns> FROM <table> <alias>``."""
    table = model.__table__
    names = tuple(columns or table.columns.keys())
    converters = [(index, converter) for index, converter in
                  ((index, _converter(table.columns[name])) for index, name in enumerate(names))
                  if converter is not None]
    make = _record_type(table.name, names)._make
    select_list = ", ".join(f"{alias}.{name}" for name in names)
    rows = connection.exec_driver_sql(f"SELECT {select_list} FROM {table.name} {alias} {sql}", params).cursor.fetchall()
    if not converters:
        return [make(row) for row in rows]
    records = []
    for row in rows:
        values = list(row)
        for index, convert in converters:
            if values[index] is not None:
                values[index] = convert(values[index])
        records.append(make(values))
    return records


_SESSION_COLUMNS = ("id", "date_of_service", "session_type", "evaluation_kind", "setting", "clinician_id",
                    "started_at", "stopped_at", "heartbeat_at", "manual_time", "aac_device", "group_rationale")
_PARTICIPANT_COLUMNS = ("id", "session_id", "patient_id", "status", "distinct_service_note", "rehabilitative")
_PATIENTS_OF_PARTICIPANTS_SQL = "SELECT DISTINCT patient_id FROM sessionparticipant WHERE id IN (SELECT value FROM json_each(?))"
_IN_LIST = "IN (SELECT value FROM json_each(:{name}))"

# The history needs only when and what each session was; the rest is read for the sessions coded.
HistoryParticipant = namedtuple("HistoryParticipant", ("id", "session_id", "patient_id"))
HistorySession = namedtuple("HistorySession", ("id", "date_of_service", "session_type"))


class BulkData:
    """Everything coding and encounter records need for a set of patients, read in a fixed number of
    queries: charts, every session of theirs (their history), and participants' details.

    ``histories`` holds light (participant, session) rows with the attributes the history needs
    (participant ``id``, ``session_id``, ``patient_id``; session ``id``, ``date_of_service``,
    ``session_type``). ``details`` maps participant id to a :class:`ParticipantDetail` whose ``note``
    is empty and whose ``trials`` are not read (``trial_counts(...)`` gives them per goal).

    For :meth:`whole_clinic` every participant has its details and every chart all its goals. For
    :meth:`for_participants` only the participants that coding those participants needs have
    details (see :meth:`participants_to_code`), and charts hold the goals those sessions addressed;
    :meth:`load_details` reads more when needed.
    """

    def __init__(self, store, patient_ids: Sequence[str] | None,  # noqa: ANN001
                 participant_ids: Sequence[str] | None = None) -> None:
        self.store = store
        self.patient_ids = None if patient_ids is None else list(dict.fromkeys(patient_ids))
        self.charts: dict[str, PatientChart] = {}
        self.histories: dict[str, PatientHistory] = {}
        self.details: dict[str, ParticipantDetail] = {}
        self._history_rows: dict[str, tuple] = {}
        self._plan_patient: dict[str, str] = {}
        self._goal_ids: set[str] = set()
        self._prepared_for: set[str] = set(participant_ids or ())
        self.billed: dict[str, dict[str, int]] = store.exports.billed_by_participant(self.patient_ids)
        with paused_gc(), self.db_read() as connection:  # one snapshot for the charts and the details
            self._load(connection)
            if self.patient_ids is None:
                self.load_details(list(self._history_rows), connection)
                self._prepared_for = set(self.details)
            elif participant_ids is not None:
                self.load_details(self.participants_to_code(participant_ids), connection)

    @classmethod
    def for_participants(cls, store, participant_ids: Sequence[str]) -> "BulkData":  # noqa: ANN001
        """The data for coding ``participant_ids`` (unknown ids are simply absent): their patients'
        charts and histories, and the details of every participant their coding reads."""
        wanted = list(participant_ids)
        with store.db.read() as session:
            rows = session.connection().exec_driver_sql(
                _PATIENTS_OF_PARTICIPANTS_SQL, (json.dumps(wanted),)).fetchall()
        return cls(store, [patient_id for (patient_id,) in rows], wanted)

    @classmethod
    def whole_clinic(cls, store) -> "BulkData":  # noqa: ANN001
        """The data for every patient, archived ones included, with every participant's details."""
        return cls(store, None)

    def participants_to_code(self, participant_ids: Iterable[str]) -> list[str]:
        """The participants whose facts coding ``participant_ids`` reads: every participant on the
        same patient-day, and for patients whose year-to-date amount counts this clinic's own
        charges (Medicare), every participant on their earlier days of the year. Unknown ids are
        left out."""
        days_by_patient: dict[str, set[date]] = defaultdict(set)
        for participant_id in participant_ids:
            row = self._history_rows.get(participant_id)
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

    def _filter(self, column: str, keyword: str = "WHERE") -> tuple[str, dict]:
        if self.patient_ids is None:
            return "", {}
        return f"{keyword} {column} {_IN_LIST.format(name='patients')}", {"patients": json.dumps(self.patient_ids)}

    def _load(self, connection) -> None:  # noqa: ANN001
        """Charts and histories of the patients."""
        where, params = self._filter("t.id")
        patients = _read(connection, store_models.Patient, where, params)
        where, params = self._filter("t.patient_id")
        coverages = _read(connection, store_models.Coverage, f"{where} ORDER BY t.patient_id, t.rank, t.rowid", params)
        diagnoses = _read(connection, store_models.Diagnosis, f"{where} ORDER BY t.patient_id, t.rank, t.rowid", params)
        plans = _read(connection, store_models.PlanOfCare, f"{where} ORDER BY t.patient_id, t.start_date, t.rowid", params)
        amounts = _read(connection, store_models.TherapyYearAmount, f"{where} ORDER BY t.patient_id, t.rowid", params)
        where, params = self._filter("p.patient_id", "AND")
        reports = _read(connection, store_models.ProgressReport, f"JOIN planofcare p ON p.id = t.plan_id WHERE 1 {where} "
                                                    "ORDER BY t.written_on, t.rowid", params)
        where, params = self._filter("sp.patient_id")
        history = connection.exec_driver_sql(
            "SELECT sp.id, sp.session_id, sp.patient_id, s.date_of_service, s.session_type "
            f"FROM sessionparticipant sp JOIN session s ON s.id = sp.session_id {where}", params).cursor.fetchall()

        charts = self.charts
        for patient in patients:
            charts[patient.id] = PatientChart(patient=patient)
        for coverage in coverages:
            charts[coverage.patient_id].coverages.append(coverage)
        for diagnosis in diagnoses:
            charts[diagnosis.patient_id].diagnoses.append(diagnosis)
        plan_patient = self._plan_patient
        for plan in plans:
            charts[plan.patient_id].plans.append(plan)
            charts[plan.patient_id].goals_by_plan[plan.id] = []
            plan_patient[plan.id] = plan.patient_id
        for report in reports:
            charts[plan_patient[report.plan_id]].progress_reports.append(report)
        for amount in amounts:
            charts[amount.patient_id].therapy_amounts.append(amount)

        dates: dict[object, date] = {}
        rows = []
        for participant_id, session_id, patient_id, day, session_type in history:
            when = dates.get(day)
            if when is None:
                when = dates[day] = _to_date(day)
            rows.append((HistoryParticipant(participant_id, session_id, patient_id),
                         HistorySession(session_id, when, session_type)))
        # Newest first, as the store lists a patient's sessions (the order does not change the coding).
        rows.sort(key=lambda row: row[1].date_of_service, reverse=True)
        rows_by_patient: dict[str, list] = defaultdict(list)
        for row in rows:
            rows_by_patient[row[0].patient_id].append(row)
            self._history_rows[row[0].id] = row
        for patient_id in charts:
            self.histories[patient_id] = PatientHistory(rows_by_patient.get(patient_id, []))

    def load_details(self, participant_ids: Iterable[str], connection=None) -> None:  # noqa: ANN001
        """Read the details of those of ``participant_ids`` (of these patients) not read yet, and the
        goals they addressed, with a fixed number of queries."""
        if connection is None:
            with self.db_read() as connection:
                self.load_details(participant_ids, connection)
            return
        missing = [participant_id for participant_id in dict.fromkeys(participant_ids)
                   if participant_id not in self.details and participant_id in self._history_rows]
        if not missing:
            return
        everyone = self.patient_ids is None and len(missing) == len(self._history_rows)
        session_ids = list(dict.fromkeys(self._history_rows[participant_id][0].session_id for participant_id in missing))
        if everyone:
            by_participant, by_session, params = "", "", {}
            goal_filter = self._filter("p.patient_id", "AND")[0]
        else:
            by_participant = f"WHERE t.participant_id {_IN_LIST.format(name='participants')} "
            by_session = f"WHERE t.session_id {_IN_LIST.format(name='sessions')} "
            params = {"participants": json.dumps(missing), "sessions": json.dumps(session_ids)}
        participants = _read(connection, store_models.SessionParticipant,
                             by_participant.replace("t.participant_id", "t.id"), params, _PARTICIPANT_COLUMNS)
        sessions = _read(connection, store_models.TherapySession, by_session.replace("t.session_id", "t.id"),
                         params, _SESSION_COLUMNS)
        segments = _read(connection, store_models.TimeSegment, f"{by_session}ORDER BY t.session_id, "
                         "t.started_at, t.rowid", params, ("session_id", "disorder_area", "started_at", "ended_at"))
        corrections = _read(connection, store_models.AreaMinutesCorrection, f"{by_session}ORDER BY t.session_id, "
                            "t.corrected_at, t.rowid", params, ("session_id", "disorder_area", "minutes", "corrected_at"))
        techniques = connection.exec_driver_sql(
            f"SELECT t.participant_id, t.technique_id FROM techniqueused t {by_participant}"
            "ORDER BY t.participant_id, t.rowid", params).cursor.fetchall()
        goal_links = connection.exec_driver_sql(
            f"SELECT t.participant_id, t.goal_id FROM goaladdressed t {by_participant}"
            "ORDER BY t.participant_id, t.rowid", params).cursor.fetchall()
        billing_rows = _read(connection, store_models.SessionBillingFacts, by_participant, params)
        signatures = _read(connection, store_models.Signature, by_participant, params,
                           ("participant_id", "signer_name", "credentials", "signed_at", "clinician_id"))
        group_sizes = dict(connection.exec_driver_sql(
            f"SELECT t.session_id, COUNT(*) FROM sessionparticipant t {by_session}GROUP BY t.session_id",
            params).cursor.fetchall())
        if everyone:
            goals = _read(connection, store_models.Goal, f"JOIN planofcare p ON p.id = t.plan_id WHERE 1 {goal_filter} "
                          "ORDER BY t.plan_id, t.rank, t.rowid", {})
        else:
            new_goals = sorted({goal_id for _, goal_id in goal_links} - self._goal_ids)
            goals = _read(connection, store_models.Goal, f"WHERE t.id {_IN_LIST.format(name='goals')} "
                          "ORDER BY t.plan_id, t.rank, t.rowid", {"goals": json.dumps(new_goals)}) if new_goals else []

        for goal in goals:
            patient_id = self._plan_patient.get(goal.plan_id)
            if patient_id is not None and goal.id not in self._goal_ids:
                self.charts[patient_id].goals_by_plan[goal.plan_id].append(goal)
                self._goal_ids.add(goal.id)

        sessions_by_id = {record.id: record for record in sessions}
        segments_by_session: dict[str, list] = defaultdict(list)
        for segment in segments:
            segments_by_session[segment.session_id].append(segment)
        corrections_by_session: dict[str, list] = defaultdict(list)
        for correction in corrections:
            corrections_by_session[correction.session_id].append(correction)
        techniques_by_participant: dict[str, list[str]] = defaultdict(list)
        for participant_id, technique_id in techniques:
            techniques_by_participant[participant_id].append(technique_id)
        goals_by_participant: dict[str, list[str]] = defaultdict(list)
        for participant_id, goal_id in goal_links:
            goals_by_participant[participant_id].append(goal_id)
        signature_by_participant = {signature.participant_id: signature for signature in signatures}
        billing_by_participant = {row.participant_id: row for row in billing_rows}

        known = self._history_rows
        for participant in participants:
            if participant.id not in known:
                continue
            therapy_session = sessions_by_id.get(participant.session_id)
            if therapy_session is None:
                continue
            self.details[participant.id] = ParticipantDetail(
                participant=participant, session=therapy_session,
                segments=segments_by_session.get(therapy_session.id, []),
                corrections=corrections_by_session.get(therapy_session.id, []),
                techniques=techniques_by_participant.get(participant.id, []),
                goal_ids=goals_by_participant.get(participant.id, []),
                trials=[], note=None, signature=signature_by_participant.get(participant.id),
                group_size=group_sizes.get(therapy_session.id, 1),
                billing=billing_by_participant.get(participant.id),
            )

    def db_read(self):  # noqa: ANN201
        """A connection in one read transaction (a consistent snapshot for every query)."""
        import contextlib

        @contextlib.contextmanager
        def connection():  # noqa: ANN202
            with self.store.db.read() as session:
                yield session.connection()

        return connection()

    def trial_counts(self, participant_ids: Sequence[str]) -> dict[str, dict[str, tuple[int, int]]]:
        """Per participant and goal: (correct, total) trials that are not voided, in one query."""
        counts: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
        with self.db_read() as connection:
            rows = connection.exec_driver_sql(
                "SELECT participant_id, goal_id, SUM(result = 'correct'), COUNT(*) FROM trialrecord "
                "WHERE voided_at IS NULL AND participant_id IN (SELECT value FROM json_each(?)) "
                "GROUP BY participant_id, goal_id", (json.dumps(list(participant_ids)),))
            for participant_id, goal_id, correct, total in rows:
                counts[participant_id][goal_id] = (int(correct or 0), int(total))
        return counts

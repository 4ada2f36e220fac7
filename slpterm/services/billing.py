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
from slpterm.store import models as store_models
from slpterm.store.errors import NotFound
from slpterm.store.models import Clinic, Clinician, PlanOfCare, UtcDateTime
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

    def first_visit(self, plan: PlanOfCare | None) -> date | None:
        dates = [therapy_session.date_of_service for _, therapy_session in self.rows
                 if plan is None or therapy_session.date_of_service >= plan.start_date]
        return min(dates, default=None)

    def visits_in_week_of(self, day: date) -> int:
        monday = day - timedelta(days=day.weekday())
        return len({(therapy_session.id) for _, therapy_session in self.rows
                    if monday <= therapy_session.date_of_service <= day})


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
    last_report = max((report.written_on for report in chart.progress_reports
                       if plan is not None and report.plan_id == plan.id and report.written_on < day
                       and report.signed_at is not None), default=None)
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
        clinician=clinician_facts_value or clinician_facts(clinician),
        billing=billing_facts_value or billing_provider_facts(clinic),
        ytd_therapy_amount=ytd_other_amount,
        distinct_service_documented=bool(detail.participant.distinct_service_note.strip()),
        rehabilitative=detail.participant.rehabilitative,
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

    # -- many sessions at once -------------------------------------------------------------------
    def code_many(self, participant_ids: Iterable[str], data: "BulkData | None" = None) -> dict[str, CodingResult]:
        """Code many participants with a fixed number of queries; the same results as
        :meth:`code_participant` for each. Raises ``NotFound`` for an unknown participant id.

        ``data`` may be passed when it is already loaded (it must cover the participants' patients).
        """
        wanted = list(dict.fromkeys(participant_ids))
        if not wanted:
            return {}
        if data is None:
            data = BulkData.for_participants(self.store, wanted)
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
                    zero_day_totals[earlier] = sum((result.total_charge for result in coded.values()), Decimal("0"))
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
_PATIENTS_OF_PARTICIPANTS_SQL = "SELECT DISTINCT patient_id FROM sessionparticipant WHERE id IN (SELECT value FROM json_each(?))"


class BulkData:
    """Everything coding and encounter records need for a set of patients, read in a fixed number of
    queries: charts, every session of theirs (their history), and each participant's details.

    ``details`` maps participant id to a :class:`ParticipantDetail` whose ``note`` is empty and whose
    ``trials`` are not read (``trial_counts(...)`` gives them per goal).
    """

    def __init__(self, store, patient_ids: Sequence[str] | None) -> None:  # noqa: ANN001
        self.store = store
        self.patient_ids = None if patient_ids is None else list(dict.fromkeys(patient_ids))
        self.charts: dict[str, PatientChart] = {}
        self.histories: dict[str, PatientHistory] = {}
        self.details: dict[str, ParticipantDetail] = {}
        self._load()

    @classmethod
    def for_participants(cls, store, participant_ids: Sequence[str]) -> "BulkData":  # noqa: ANN001
        """The data for the patients of ``participant_ids`` (unknown ids are simply absent)."""
        with store.db.read() as session:
            rows = session.connection().exec_driver_sql(
                _PATIENTS_OF_PARTICIPANTS_SQL, (json.dumps(list(participant_ids)),)).fetchall()
        return cls(store, [patient_id for (patient_id,) in rows])

    @classmethod
    def whole_clinic(cls, store) -> "BulkData":  # noqa: ANN001
        """The data for every patient, archived ones included."""
        return cls(store, None)

    def _filter(self, column: str, keyword: str = "WHERE") -> tuple[str, dict]:
        if self.patient_ids is None:
            return "", {}
        return f"{keyword} {column} IN (SELECT value FROM json_each(:patients))", {"patients": json.dumps(self.patient_ids)}

    def _load(self) -> None:
        with self.db_read() as connection:
            where, params = self._filter("t.id")
            patients = _read(connection, store_models.Patient, where, params)
            where, params = self._filter("t.patient_id")
            coverages = _read(connection, store_models.Coverage, f"{where} ORDER BY t.patient_id, t.rank, t.rowid", params)
            diagnoses = _read(connection, store_models.Diagnosis, f"{where} ORDER BY t.patient_id, t.rank, t.rowid", params)
            plans = _read(connection, store_models.PlanOfCare, f"{where} ORDER BY t.patient_id, t.start_date, t.rowid", params)
            amounts = _read(connection, store_models.TherapyYearAmount, f"{where} ORDER BY t.patient_id, t.rowid", params)
            where, params = self._filter("p.patient_id", "AND")
            goals = _read(connection, store_models.Goal, f"JOIN planofcare p ON p.id = t.plan_id WHERE 1 {where} "
                                            "ORDER BY t.plan_id, t.rank, t.rowid", params)
            reports = _read(connection, store_models.ProgressReport, f"JOIN planofcare p ON p.id = t.plan_id WHERE 1 {where} "
                                                        "ORDER BY t.written_on, t.rowid", params)
            where, params = self._filter("t.patient_id")
            participants = _read(connection, store_models.SessionParticipant, where, params,
                                 ("id", "session_id", "patient_id", "status", "distinct_service_note", "rehabilitative"))
            where, params = self._filter("sp.patient_id", "AND")
            mine = f"(SELECT sp.session_id FROM sessionparticipant sp WHERE 1 {where})"
            mine_participants = f"(SELECT sp.id FROM sessionparticipant sp WHERE 1 {where})"
            sessions = _read(connection, store_models.TherapySession, f"WHERE t.id IN {mine}" if self.patient_ids is not None else "",
                             params, _SESSION_COLUMNS)
            segments = _read(connection, store_models.TimeSegment, f"WHERE t.session_id IN {mine} ORDER BY t.session_id, "
                             "t.started_at, t.rowid" if self.patient_ids is not None else
                             "ORDER BY t.session_id, t.started_at, t.rowid", params,
                             ("session_id", "disorder_area", "started_at", "ended_at"))
            corrections = _read(connection, store_models.AreaMinutesCorrection, (f"WHERE t.session_id IN {mine} " if self.patient_ids
                                is not None else "") + "ORDER BY t.session_id, t.corrected_at, t.rowid", params,
                                ("session_id", "disorder_area", "minutes", "corrected_at"))
            by_participant = f"WHERE t.participant_id IN {mine_participants} " if self.patient_ids is not None else ""
            techniques = connection.exec_driver_sql(
                f"SELECT t.participant_id, t.technique_id FROM techniqueused t {by_participant}"
                "ORDER BY t.participant_id, t.rowid", params).cursor.fetchall()
            goal_links = connection.exec_driver_sql(
                f"SELECT t.participant_id, t.goal_id FROM goaladdressed t {by_participant}"
                "ORDER BY t.participant_id, t.rowid", params).cursor.fetchall()
            signatures = _read(connection, store_models.Signature, by_participant, params,
                               ("participant_id", "signer_name", "credentials", "signed_at", "clinician_id"))
            group_sizes = dict(connection.exec_driver_sql(
                (f"SELECT session_id, COUNT(*) FROM sessionparticipant WHERE session_id IN {mine} GROUP BY session_id"
                 if self.patient_ids is not None else
                 "SELECT session_id, COUNT(*) FROM sessionparticipant GROUP BY session_id"), params).cursor.fetchall())

        charts = self.charts
        for patient in patients:
            charts[patient.id] = PatientChart(patient=patient)
        for coverage in coverages:
            charts[coverage.patient_id].coverages.append(coverage)
        for diagnosis in diagnoses:
            charts[diagnosis.patient_id].diagnoses.append(diagnosis)
        plan_patient = {}
        for plan in plans:
            charts[plan.patient_id].plans.append(plan)
            charts[plan.patient_id].goals_by_plan[plan.id] = []
            plan_patient[plan.id] = plan.patient_id
        for goal in goals:
            charts[plan_patient[goal.plan_id]].goals_by_plan[goal.plan_id].append(goal)
        for report in reports:
            charts[plan_patient[report.plan_id]].progress_reports.append(report)
        for amount in amounts:
            charts[amount.patient_id].therapy_amounts.append(amount)

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

        rows_by_patient: dict[str, list] = defaultdict(list)
        # Newest first, as the store lists a patient's sessions (the order does not change the coding).
        participants.sort(key=lambda participant: sessions_by_id[participant.session_id].date_of_service,
                          reverse=True)
        for participant in participants:
            therapy_session = sessions_by_id[participant.session_id]
            rows_by_patient[participant.patient_id].append((participant, therapy_session))
            self.details[participant.id] = ParticipantDetail(
                participant=participant, session=therapy_session,
                segments=segments_by_session.get(therapy_session.id, []),
                corrections=corrections_by_session.get(therapy_session.id, []),
                techniques=techniques_by_participant.get(participant.id, []),
                goal_ids=goals_by_participant.get(participant.id, []),
                trials=[], note=None, signature=signature_by_participant.get(participant.id),
                group_size=group_sizes.get(therapy_session.id, 1),
            )
        for patient_id in charts:
            self.histories[patient_id] = PatientHistory(rows_by_patient.get(patient_id, []))

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

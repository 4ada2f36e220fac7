"""Patients and their charts: coverage, diagnoses, plans of care, goals, IEP minutes.

The store refuses values that do not fit its records: vocabulary it does not know, a patient with
no name, a patient ID already in use, a coverage rank other than 1 or 2, IEP minutes out of range.
The clinical rules (birth dates, phone numbers, member IDs, ICD-10-CM codes, plan lengths, goal
targets) are checked before the write by ``slpterm.services.chart``, as the chart forms do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from typing import Any

from sqlmodel import Session, col, func, select

from slpterm.store.base import ModelT, Repository
from slpterm.store.errors import LockedRecord, ValidationFailed
from slpterm.store.models import (
    Coverage,
    Diagnosis,
    Goal,
    IepService,
    Patient,
    PlanOfCare,
    ProgressReport,
    SessionParticipant,
    TherapyYearAmount,
    utc_now,
)


@dataclass
class PatientChart:
    patient: Patient
    coverages: list[Coverage] = field(default_factory=list)
    diagnoses: list[Diagnosis] = field(default_factory=list)
    plans: list[PlanOfCare] = field(default_factory=list)
    goals_by_plan: dict[str, list[Goal]] = field(default_factory=dict)
    iep_services: list[IepService] = field(default_factory=list)
    therapy_amounts: list[TherapyYearAmount] = field(default_factory=list)
    progress_reports: list[ProgressReport] = field(default_factory=list)

    @property
    def primary_coverage(self) -> Coverage | None:
        return min(self.coverages, key=lambda coverage: coverage.rank, default=None)


# Goals that a recertification carries over to the new plan.
_CARRIED_GOAL_STATUSES = ("active", "modified")
# Medicare's longest certification; a recertification proposes a plan of this length.
RECERTIFICATION_DAYS = 90


def _enum_problems(values: dict[str, object], enums: dict[str, tuple[str, type[Enum]]]) -> list[tuple[str, str]]:
    problems = []
    for key, (label, enum) in enums.items():
        value = values.get(key)
        if value is None:
            continue
        allowed = [member.value for member in enum]
        if str(value) not in allowed:
            problems.append((label, f"{value!r} is not one of {', '.join(allowed)}"))
    return problems


def _check_enums(values: dict[str, object], enums: dict[str, tuple[str, type[Enum]]]) -> None:
    problems = _enum_problems(values, enums)
    if problems:
        raise ValidationFailed(problems)


def _patient_enums() -> dict[str, tuple[str, type[Enum]]]:
    from slpterm.domain.vocab import Sex

    return {"sex": ("Sex", Sex)}


def _coverage_enums() -> dict[str, tuple[str, type[Enum]]]:
    from slpterm.domain.vocab import PayerKind, SubscriberRelationship

    return {"payer_kind": ("Payer kind", PayerKind),
            "subscriber_relationship": ("Subscriber relationship", SubscriberRelationship)}


def _plan_enums() -> dict[str, tuple[str, type[Enum]]]:
    from slpterm.domain.vocab import PlanStatus

    return {"status": ("Status", PlanStatus)}


def _goal_enums() -> dict[str, tuple[str, type[Enum]]]:
    from slpterm.domain.vocab import DisorderArea, GoalStatus, GoalTerm

    return {"term": ("Term", GoalTerm), "disorder_area": ("Disorder area", DisorderArea),
            "status": ("Status", GoalStatus)}


def _iep_enums() -> dict[str, tuple[str, type[Enum]]]:
    from slpterm.domain.vocab import IepPeriod, IepServiceKind

    return {"period": ("Period", IepPeriod), "kind": ("Kind", IepServiceKind)}


class PatientRepository(Repository):
    # -- checks ---------------------------------------------------------------------------------
    def check_patient(self, record: Patient, changed: set[str]) -> None:
        """Refuse a patient with no name or with vocabulary the store does not know."""
        if not (record.first_name.strip() or record.last_name.strip()):
            raise ValidationFailed([("Name", "enter the patient's first or last name")])
        _check_enums({key: getattr(record, key) for key in changed}, _patient_enums())

    def check_coverage(self, record: Coverage, changed: set[str]) -> None:
        _check_enums({key: getattr(record, key) for key in changed}, _coverage_enums())
        if record.rank not in (1, 2):
            raise ValidationFailed([("Rank", "use 1 for the primary coverage or 2 for the secondary")])

    def check_diagnosis(self, record: Diagnosis) -> None:
        from slpterm.domain.vocab import DiagnosisRole

        _check_enums({"role": record.role}, {"role": ("Role", DiagnosisRole)})
        if not (record.code or "").strip():
            raise ValidationFailed([("Code", "enter an ICD-10-CM code, e.g. F80.0")])

    @staticmethod
    def _payer_kind(session: Session, patient_id: str) -> str | None:
        coverage = session.exec(
            select(Coverage).where(Coverage.patient_id == patient_id).order_by(col(Coverage.rank))
        ).first()
        return coverage.payer_kind if coverage is not None else None

    def primary_payer_kind(self, patient_id: str) -> str | None:
        """The payer kind of the patient's lowest-ranked coverage (None without coverage)."""
        with self.db.read() as session:
            return self._payer_kind(session, patient_id)

    def check_plan(self, record: PlanOfCare, changed: set[str]) -> None:
        _check_enums({key: getattr(record, key) for key in changed}, _plan_enums())

    def check_goal(self, record: Goal, changed: set[str]) -> None:
        _check_enums({key: getattr(record, key) for key in changed}, _goal_enums())

    def check_iep_service(self, record: IepService, changed: set[str]) -> None:
        _check_enums({key: getattr(record, key) for key in changed}, _iep_enums())
        if not isinstance(record.minutes_required, int) or not 1 <= record.minutes_required <= 3000:
            raise ValidationFailed([("Minutes", "enter the required minutes as a whole number, e.g. 60")])
        if record.start_date and record.end_date and record.end_date < record.start_date:
            raise ValidationFailed([("End date", "is before the start date; correct one of them")])

    def _checked_update(self, model: type[ModelT], record_id: str, changes: dict[str, Any],
                        check: Callable[[ModelT, set[str]], None]) -> ModelT:
        """Apply ``changes`` to a copy, run ``check(copy, changed_keys)``, then save."""
        with self.db.read() as session:
            current = self.require(session, model, record_id)
            candidate = model(**{**current.model_dump(), **changes})
        check(candidate, set(changes))
        return self._update(model, record_id, changes)

    # -- patients ---------------------------------------------------------------------------
    def _check_unique_external_id(self, external_id: str, patient_id: str) -> None:
        other = self.find_by_external_id(external_id or "")
        if other is not None and other.id != patient_id:
            raise ValidationFailed([("Patient ID", f"{external_id.strip()} is already the ID of {other.display_name}; "
                                                   "use another ID or open that chart")])

    def create(self, **fields: Any) -> Patient:
        patient = Patient(**fields)
        self.check_patient(patient, set(fields))
        self._check_unique_external_id(patient.external_id, patient.id)
        return self._insert(patient)

    def update(self, patient_id: str, **fields: Any) -> Patient:
        if "external_id" in fields:
            self._check_unique_external_id(str(fields["external_id"] or ""), patient_id)
        return self._checked_update(Patient, patient_id, {**fields, "updated_at": utc_now()},
                                    lambda record, changed: self.check_patient(record, changed))

    def find_by_external_id(self, external_id: str) -> Patient | None:
        """The patient with this patient/student ID (archived ones included), or None."""
        if not external_id.strip():
            return None
        with self.db.read() as session:
            return session.exec(select(Patient).where(Patient.external_id == external_id.strip())).first()

    def archive(self, patient_id: str) -> Patient:
        return self._update(Patient, patient_id, {"archived_at": utc_now()})

    def unarchive(self, patient_id: str) -> Patient:
        return self._update(Patient, patient_id, {"archived_at": None})
    def session_count(self, patient_id: str) -> int:
        with self.db.read() as session:
            return session.exec(
                select(func.count()).select_from(SessionParticipant).where(SessionParticipant.patient_id == patient_id)
            ).one()

    def delete(self, patient_id: str) -> None:
        """Delete a patient who has no sessions; one with sessions can only be archived."""
        with self.db.write() as session:
            patient = self.require(session, Patient, patient_id)
            sessions = session.exec(
                select(func.count()).select_from(SessionParticipant).where(SessionParticipant.patient_id == patient_id)
            ).one()
            if sessions:
                raise LockedRecord(
                    f"{patient.display_name} has {sessions} session(s) on record, so the chart cannot be "
                    "deleted (clinical records must be kept). Archive the patient instead."
                )
            plan_ids = [plan.id for plan in session.exec(select(PlanOfCare).where(PlanOfCare.patient_id == patient_id))]
            for model, column, values in (
                (Goal, Goal.plan_id, plan_ids),
                (ProgressReport, ProgressReport.plan_id, plan_ids),
            ):
                for record in session.exec(select(model).where(col(column).in_(values))):
                    session.delete(record)
            session.flush()
            for owned in (PlanOfCare, Coverage, Diagnosis, IepService, TherapyYearAmount):
                for record in session.exec(select(owned).where(owned.patient_id == patient_id)):
                    session.delete(record)
            session.flush()
            session.delete(patient)
            self.audit(session, "delete", "patient", patient_id, {"name": patient.display_name})

    def chart(self, patient_id: str) -> PatientChart:
        with self.db.read() as session:
            patient = self.require(session, Patient, patient_id)
            plans = list(session.exec(
                select(PlanOfCare).where(PlanOfCare.patient_id == patient_id).order_by(col(PlanOfCare.start_date))
            ))
            plan_ids = [plan.id for plan in plans]
            goals_by_plan: dict[str, list[Goal]] = {plan_id: [] for plan_id in plan_ids}
            for goal in session.exec(select(Goal).where(col(Goal.plan_id).in_(plan_ids)).order_by(col(Goal.rank))):
                goals_by_plan[goal.plan_id].append(goal)
            return PatientChart(
                patient=patient,
                coverages=list(session.exec(
                    select(Coverage).where(Coverage.patient_id == patient_id).order_by(col(Coverage.rank))
                )),
                diagnoses=list(session.exec(
                    select(Diagnosis).where(Diagnosis.patient_id == patient_id).order_by(col(Diagnosis.rank))
                )),
                plans=plans,
                goals_by_plan=goals_by_plan,
                iep_services=list(session.exec(select(IepService).where(IepService.patient_id == patient_id))),
                therapy_amounts=list(session.exec(
                    select(TherapyYearAmount).where(TherapyYearAmount.patient_id == patient_id)
                )),
                progress_reports=list(session.exec(
                    select(ProgressReport).where(col(ProgressReport.plan_id).in_(plan_ids))
                    .order_by(col(ProgressReport.written_on))
                )),
            )

    # -- chart parts --------------------------------------------------------------------------
    def payers(self) -> list[tuple[str, str, str]]:
        """The distinct (payer ID, payer name, payer kind) on the patients' coverages."""
        with self.db.read() as session:
            rows = session.exec(select(Coverage.payer_id, Coverage.payer_name, Coverage.payer_kind).distinct())
            return sorted(set(rows))

    def add_coverage(self, **fields: Any) -> Coverage:
        coverage = Coverage(**fields)
        self.check_coverage(coverage, set(fields))
        return self._insert(coverage)

    def update_coverage(self, coverage_id: str, **fields: Any) -> Coverage:
        return self._checked_update(Coverage, coverage_id, fields,
                                    lambda record, changed: self.check_coverage(record, changed))

    def remove_coverage(self, coverage_id: str) -> None:
        with self.db.write() as session:
            coverage = self.require(session, Coverage, coverage_id)
            session.delete(coverage)
            self.audit(session, "delete", "coverage", coverage_id, coverage.model_dump(mode="json"))

    def add_diagnosis(self, **fields: Any) -> Diagnosis:
        diagnosis = Diagnosis(**fields)
        self.check_diagnosis(diagnosis)
        return self._insert(diagnosis)

    def update_diagnosis(self, diagnosis_id: str, **fields: Any) -> Diagnosis:
        return self._checked_update(Diagnosis, diagnosis_id, fields,
                                    lambda record, changed: self.check_diagnosis(record))

    def add_plan(self, **fields: Any) -> PlanOfCare:
        plan = PlanOfCare(**fields)
        self.check_plan(plan, set(fields))
        return self._insert(plan)

    def update_plan(self, plan_id: str, **fields: Any) -> PlanOfCare:
        return self._checked_update(PlanOfCare, plan_id, fields, self.check_plan)

    def recertification(self, plan_id: str, **fields: Any) -> PlanOfCare:
        """The plan of care (not saved) that ``recertify_plan(plan_id, **fields)`` would write."""
        return self._recertification(self.get(PlanOfCare, plan_id), fields)

    @staticmethod
    def _recertification(previous: PlanOfCare, fields: dict[str, Any]) -> PlanOfCare:
        start = previous.end_date + timedelta(days=1)
        values = {
            "patient_id": previous.patient_id,
            "start_date": start,
            "end_date": start + timedelta(days=RECERTIFICATION_DAYS - 1),
            "frequency": previous.frequency,
            "duration_weeks": previous.duration_weeks,
            "certifying_physician_name": previous.certifying_physician_name,
            "certifying_physician_npi": previous.certifying_physician_npi,
            "certified_on": None,
            "status": "draft",
            **fields,
            "previous_plan_id": previous.id,
        }
        return PlanOfCare(**values)

    def recertify_plan(self, plan_id: str, **fields: Any) -> PlanOfCare:
        """A new plan of care following ``plan_id``, with its active and modified goals carried over.

        ``fields`` are the new plan's values (start_date and end_date at least); unset ones are
        copied from the previous plan except the certification, which the new plan needs anew.
        Short-term goals stay under their carried long-term goals.
        """
        with self.db.read() as session:
            previous = self.require(session, PlanOfCare, plan_id)
            goals = list(session.exec(select(Goal).where(Goal.plan_id == plan_id).order_by(col(Goal.rank))))
        plan = self._recertification(previous, fields)
        self.check_plan(plan, set(fields) | {"start_date", "end_date"})
        with self.db.write() as session:
            session.add(plan)
            session.flush()
            new_ids: dict[str, str] = {}
            carried = [goal for goal in goals if goal.status in _CARRIED_GOAL_STATUSES]
            # Long-term goals first so that short-term ones can point at their copies.
            for goal in sorted(carried, key=lambda goal: goal.parent_goal_id is not None):
                copy = Goal(**{
                    **goal.model_dump(exclude={"id", "plan_id", "parent_goal_id"}),
                    "plan_id": plan.id,
                    "parent_goal_id": new_ids.get(goal.parent_goal_id) if goal.parent_goal_id else None,
                    "status": "active",
                })
                session.add(copy)
                session.flush()
                new_ids[goal.id] = copy.id
            self.audit(session, "recertify", "planofcare", plan.id,
                       {**plan.model_dump(mode="json"), "goals_carried": len(new_ids)})
        return plan

    def add_goal(self, **fields: Any) -> Goal:
        goal = Goal(**fields)
        self.check_goal(goal, set(fields) | {"text"})
        return self._insert(goal)

    def update_goal(self, goal_id: str, **fields: Any) -> Goal:
        return self._checked_update(Goal, goal_id, fields,
                                    lambda record, changed: self.check_goal(record, changed))

    def add_iep_service(self, **fields: Any) -> IepService:
        service = IepService(**fields)
        self.check_iep_service(service, set(fields))
        return self._insert(service)

    def update_iep_service(self, service_id: str, **fields: Any) -> IepService:
        return self._checked_update(IepService, service_id, fields,
                                    lambda record, changed: self.check_iep_service(record, changed))

    def remove_iep_service(self, service_id: str) -> None:
        with self.db.write() as session:
            service = self.require(session, IepService, service_id)
            session.delete(service)
            self.audit(session, "delete", "iepservice", service_id, service.model_dump(mode="json"))

    def set_other_providers_amount(self, patient_id: str, year: int, cents: int) -> TherapyYearAmount:
        with self.db.write() as session:
            row = session.exec(
                select(TherapyYearAmount).where(
                    TherapyYearAmount.patient_id == patient_id, TherapyYearAmount.year == year
                )
            ).first() or TherapyYearAmount(patient_id=patient_id, year=year)
            row.other_providers_cents = cents
            session.add(row)
            session.flush()
            self.audit(session, "update", "therapyyearamount", row.id, {"year": year, "cents": cents})
            return row

    def add_progress_report(self, **fields: Any) -> ProgressReport:
        return self._insert(ProgressReport(**fields))

    # -- import -------------------------------------------------------------------------------
    def external_ids(self) -> set[str]:
        """Every patient/student ID in use (archived patients included)."""
        with self.db.read() as session:
            return {value for value in session.exec(select(Patient.external_id)) if value}

    def import_charts(self, charts: list[tuple[dict[str, Any], dict[str, Any] | None, list[dict[str, Any]]]]) -> tuple[list[Patient], list[str]]:
        """Create patients with their coverage and diagnoses in one transaction.

        Each entry is (patient fields, coverage fields or None, diagnosis fields). Every record is
        checked first (the clinical checks come before, in ``slpterm.services.chart.import_charts``);
        if any is refused, ValidationFailed names it and nothing is written. An ID already present is
        skipped and returned in the second list, never duplicated.
        """
        existing = self.external_ids()
        planned: list[tuple[Patient, Coverage | None, list[Diagnosis]]] = []
        skipped: list[str] = []
        for patient_fields, coverage_fields, diagnosis_fields in charts:
            patient = Patient(**patient_fields)
            if patient.external_id and patient.external_id in existing:
                skipped.append(patient.external_id)
                continue
            label = patient.external_id or patient.display_name
            try:
                self.check_patient(patient, set(patient_fields))
                coverage = None
                if coverage_fields is not None:
                    coverage = Coverage(patient_id=patient.id, **coverage_fields)
                    self.check_coverage(coverage, set(coverage_fields))
                diagnoses = []
                for fields in diagnosis_fields:
                    diagnosis = Diagnosis(patient_id=patient.id, **fields)
                    self.check_diagnosis(diagnosis)
                    diagnoses.append(diagnosis)
            except ValidationFailed as error:
                raise ValidationFailed([(f"{label} {name}", message) for name, message in error.problems]) from None
            if patient.external_id:
                existing.add(patient.external_id)
            planned.append((patient, coverage, diagnoses))
        with self.db.write() as session:
            for patient, _coverage, _diagnoses in planned:
                session.add(patient)
            session.flush()
            for _patient, coverage, diagnoses in planned:
                for record in ([coverage] if coverage is not None else []) + diagnoses:
                    session.add(record)
            session.flush()
            for patient, coverage, diagnoses in planned:
                self.audit(session, "import", "patient", patient.id, {
                    **patient.model_dump(mode="json"),
                    "coverage": coverage.model_dump(mode="json") if coverage is not None else None,
                    "diagnoses": [diagnosis.code for diagnosis in diagnoses],
                })
        return [patient for patient, _, _ in planned], skipped

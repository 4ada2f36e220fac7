"""Patients and their charts: coverage, diagnoses, plans of care, goals, IEP minutes."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import col, func, select

from slpterm.store.base import Repository
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


class PatientRepository(Repository):
    # -- patients ---------------------------------------------------------------------------
    def create(self, **fields: object) -> Patient:
        patient = Patient(**fields)
        if not (patient.first_name.strip() or patient.last_name.strip()):
            raise ValidationFailed([("Name", "enter the patient's first or last name")])
        return self._insert(patient)

    def update(self, patient_id: str, **fields: object) -> Patient:
        return self._update(Patient, patient_id, {**fields, "updated_at": utc_now()})

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
            for model in (PlanOfCare, Coverage, Diagnosis, IepService, TherapyYearAmount):
                for record in session.exec(select(model).where(model.patient_id == patient_id)):
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
    def add_coverage(self, **fields: object) -> Coverage:
        return self._insert(Coverage(**fields))

    def update_coverage(self, coverage_id: str, **fields: object) -> Coverage:
        return self._update(Coverage, coverage_id, fields)

    def add_diagnosis(self, **fields: object) -> Diagnosis:
        return self._insert(Diagnosis(**fields))

    def update_diagnosis(self, diagnosis_id: str, **fields: object) -> Diagnosis:
        return self._update(Diagnosis, diagnosis_id, fields)

    def add_plan(self, **fields: object) -> PlanOfCare:
        return self._insert(PlanOfCare(**fields))

    def update_plan(self, plan_id: str, **fields: object) -> PlanOfCare:
        return self._update(PlanOfCare, plan_id, fields)

    def add_goal(self, **fields: object) -> Goal:
        return self._insert(Goal(**fields))

    def update_goal(self, goal_id: str, **fields: object) -> Goal:
        return self._update(Goal, goal_id, fields)

    def add_iep_service(self, **fields: object) -> IepService:
        return self._insert(IepService(**fields))

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

    def add_progress_report(self, **fields: object) -> ProgressReport:
        return self._insert(ProgressReport(**fields))

"""Chart writes checked by the clinical rules first: patients, coverage, diagnoses, plans, goals.

Each function refuses what the chart forms refuse (``slpterm.clinical.validation`` and
``slpterm.clinical.icd10``), naming the field (``ValidationFailed``), then writes through the
store, which refuses what does not fit its records (unknown vocabulary, no name, a patient ID in
use). Only the fields given a value are checked: which fields are required is the form's business
(a record created from a script may leave the date of birth or the frequency empty).

Screens import this module on their first frame, so the database models are imported on first use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from slpterm.store.errors import ValidationFailed

if TYPE_CHECKING:
    from slpterm.clinical.validation import FieldError
    from slpterm.store.base import ModelT
    from slpterm.store.models import Coverage, Diagnosis, Goal, Patient, PlanOfCare
    from slpterm.store.store import Store


def _today(store: Store) -> date:
    clock = getattr(store, "clock", None)
    return clock.today() if clock is not None else date.today()


def _given(value: object) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _split_message(message: str) -> tuple[str, str]:
    label, sep, rest = message.partition(": ")
    return (label, rest) if sep else ("Value", message)


def _refuse(problems: Iterable[FieldError], checked: Mapping[str, object]) -> None:
    """Raise ValidationFailed for the blocking problems about fields that were given a value.

    ``checked`` maps a validator's field key to the value the caller supplied; errors about a field
    left empty are the form's concern (it decides what is required).
    """
    from slpterm.clinical.validation import Level

    refused = [
        _split_message(problem.message)
        for problem in problems
        if problem.level == Level.ERROR and problem.field in checked and _given(checked[problem.field])
    ]
    if refused:
        raise ValidationFailed(refused)


# -- the checks, one per record --------------------------------------------------------------------

def check_patient(store: Store, record: Patient, changed: set[str]) -> None:
    """Refuse a patient whose changed fields are invalid (no name, future birth date, bad phone)."""
    from slpterm.clinical.validation import validate_patient

    store.patients.check_patient(record, changed)
    problems = validate_patient(
        first_name=record.first_name or "-", last_name=record.last_name or "-",
        date_of_birth=record.date_of_birth, today=_today(store), phone=record.phone,
        guardian=record.guardian_name, school=record.school, grade=record.grade, sex=record.sex,
    )
    _refuse(problems, {key: getattr(record, key) for key in changed} | (
        {"guardian": record.guardian_name} if "guardian_name" in changed else {}))


def check_coverage(store: Store, record: Coverage, changed: set[str]) -> None:
    from slpterm.clinical.validation import validate_coverage

    store.patients.check_coverage(record, changed)
    problems = validate_coverage(
        payer_kind=record.payer_kind, member_id=record.member_id, payer_name=record.payer_name,
        effective_from=record.effective_from, effective_to=record.effective_to,
    )
    _refuse(problems, {key: getattr(record, key) for key in changed})


def checked_diagnosis(store: Store, record: Diagnosis) -> Diagnosis:
    """The diagnosis with its code normalized (and its description filled in when empty); refuses a
    malformed code, a category header that is not billable, or an onset date in the future."""
    from slpterm.clinical.icd10 import check_code, normalize_code

    store.patients.check_diagnosis(record)
    record.code = normalize_code(record.code or "")
    if not record.code:
        raise ValidationFailed([("Code", "enter an ICD-10-CM code, e.g. F80.0")])
    result = check_code(record.code)
    if not result.usable:
        raise ValidationFailed([("Code", result.reason or f"{record.code} cannot be billed")])
    if not record.description and result.description:
        record.description = result.description
    if record.onset_date is not None and record.onset_date > _today(store):
        raise ValidationFailed([("Onset date", f"{record.onset_date.isoformat()} is in the future; check the date")])
    return record


def check_plan(store: Store, record: PlanOfCare, changed: set[str]) -> None:
    from slpterm.clinical.validation import validate_plan

    store.patients.check_plan(record, changed)
    problems = validate_plan(
        start=record.start_date, end=record.end_date, today=_today(store),
        payer_kind=store.patients.primary_payer_kind(record.patient_id),
        frequency=record.frequency, duration_weeks=record.duration_weeks,
        certifying_npi=record.certifying_physician_npi, certified_on=record.certified_on,
    )
    aliases = {"start_date": "start", "end_date": "end", "certifying_physician_npi": "certifying_npi"}
    checked = {aliases.get(key, key): getattr(record, key) for key in changed}
    # The 90-day limit and the date order concern both dates whichever one changed.
    if "start" in checked or "end" in checked:
        checked["start"] = checked["end"] = True
    _refuse(problems, checked)


def check_goal(store: Store, record: Goal, changed: set[str]) -> None:
    from slpterm.clinical.validation import validate_goal

    store.patients.check_goal(record, changed)
    problems = validate_goal(text=record.text, target_accuracy=record.target_accuracy,
                             consecutive_sessions=record.criterion_sessions)
    checked = {"text": True if "text" in changed else None,
               "target_accuracy": record.target_accuracy, "consecutive_sessions": record.criterion_sessions}
    _refuse(problems, checked)


def _candidate(store: Store, model: type[ModelT], record_id: str, changes: Mapping[str, Any]) -> ModelT:
    current = store.patients.get(model, record_id)
    return model(**{**current.model_dump(), **changes})


# -- the writes ------------------------------------------------------------------------------------

def create_patient(store: Store, **fields: Any) -> Patient:
    from slpterm.store.models import Patient

    check_patient(store, Patient(**fields), set(fields))
    return store.patients.create(**fields)


def update_patient(store: Store, patient_id: str, **fields: Any) -> Patient:
    from slpterm.store.models import Patient

    check_patient(store, _candidate(store, Patient, patient_id, fields), set(fields))
    return store.patients.update(patient_id, **fields)


def add_coverage(store: Store, **fields: Any) -> Coverage:
    from slpterm.store.models import Coverage

    check_coverage(store, Coverage(**fields), set(fields))
    return store.patients.add_coverage(**fields)


def update_coverage(store: Store, coverage_id: str, **fields: Any) -> Coverage:
    from slpterm.store.models import Coverage

    check_coverage(store, _candidate(store, Coverage, coverage_id, fields), set(fields))
    return store.patients.update_coverage(coverage_id, **fields)


def add_diagnosis(store: Store, **fields: Any) -> Diagnosis:
    from slpterm.store.models import Diagnosis

    diagnosis = checked_diagnosis(store, Diagnosis(**fields))
    return store.patients.add_diagnosis(**{**fields, "code": diagnosis.code, "description": diagnosis.description})


def update_diagnosis(store: Store, diagnosis_id: str, **fields: Any) -> Diagnosis:
    from slpterm.store.models import Diagnosis

    candidate = _candidate(store, Diagnosis, diagnosis_id, fields)
    if "code" in fields:
        if not fields.get("description"):
            candidate.description = ""
        candidate = checked_diagnosis(store, candidate)
        fields = {**fields, "code": candidate.code, "description": candidate.description}
    else:
        checked_diagnosis(store, candidate)
    return store.patients.update_diagnosis(diagnosis_id, **fields)


def add_plan(store: Store, **fields: Any) -> PlanOfCare:
    from slpterm.store.models import PlanOfCare

    check_plan(store, PlanOfCare(**fields), set(fields))
    return store.patients.add_plan(**fields)


def update_plan(store: Store, plan_id: str, **fields: Any) -> PlanOfCare:
    from slpterm.store.models import PlanOfCare

    check_plan(store, _candidate(store, PlanOfCare, plan_id, fields), set(fields))
    return store.patients.update_plan(plan_id, **fields)


def recertify_plan(store: Store, plan_id: str, **fields: Any) -> PlanOfCare:
    """A new plan of care following ``plan_id`` with its active and modified goals carried over
    (see ``PatientRepository.recertify_plan``)."""
    check_plan(store, store.patients.recertification(plan_id, **fields), set(fields) | {"start_date", "end_date"})
    return store.patients.recertify_plan(plan_id, **fields)


def add_goal(store: Store, **fields: Any) -> Goal:
    from slpterm.store.models import Goal

    check_goal(store, Goal(**fields), set(fields) | {"text"})
    return store.patients.add_goal(**fields)


def update_goal(store: Store, goal_id: str, **fields: Any) -> Goal:
    from slpterm.store.models import Goal

    check_goal(store, _candidate(store, Goal, goal_id, fields), set(fields))
    return store.patients.update_goal(goal_id, **fields)


def import_charts(store: Store, charts: list[tuple[dict[str, Any], dict[str, Any] | None, list[dict[str, Any]]]]) -> tuple[list[Patient], list[str]]:
    """Create patients with their coverage and diagnoses in one transaction.

    Each entry is (patient fields, coverage fields or None, diagnosis fields). Every record is
    checked first; if any is refused, ValidationFailed names it and nothing is written. An ID
    already present is skipped and returned in the second list, never duplicated.
    """
    from slpterm.store.models import Coverage, Diagnosis, Patient

    existing = store.patients.external_ids()
    checked: list[tuple[dict[str, Any], dict[str, Any] | None, list[dict[str, Any]]]] = []
    for patient_fields, coverage_fields, diagnosis_fields in charts:
        patient = Patient(**patient_fields)
        if patient.external_id and patient.external_id in existing:
            checked.append((patient_fields, coverage_fields, diagnosis_fields))
            continue
        label = patient.external_id or patient.display_name
        try:
            check_patient(store, patient, set(patient_fields))
            if coverage_fields is not None:
                check_coverage(store, Coverage(patient_id=patient.id, **coverage_fields), set(coverage_fields))
            diagnoses = []
            for fields in diagnosis_fields:
                diagnosis = checked_diagnosis(store, Diagnosis(patient_id=patient.id, **fields))
                diagnoses.append({**fields, "code": diagnosis.code, "description": diagnosis.description})
        except ValidationFailed as error:
            raise ValidationFailed([(f"{label} {name}", message) for name, message in error.problems]) from None
        if patient.external_id:
            existing.add(patient.external_id)
        checked.append((patient_fields, coverage_fields, diagnoses))
    return store.patients.import_charts(checked)

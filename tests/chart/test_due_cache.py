"""What is due is kept per patient and recomputed only for the patients a write touched; what the
cache answers always equals a full recompute."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from slpterm.services.due import DueCache, caseload_due_summaries, patient_due
from .seed import TODAY, add_session, seed_medicare_patient, seed_student


def _seeded(store):  # noqa: ANN001, ANN202
    patient, plan = seed_medicare_patient(store)
    student = seed_student(store)
    return patient, plan, student


def _look(cache: DueCache, store, today=TODAY) -> dict[str, str]:  # noqa: ANN001
    cells = dict(cache.summaries(today))
    assert cells == caseload_due_summaries(store, today)  # equals a full recompute
    return cells


def test_only_the_patient_a_write_touched_is_recomputed(store):
    patient, plan, student = _seeded(store)
    cache = DueCache(store)
    first = _look(cache, store)
    assert cache.recomputed == ["*"]  # the first look computes everyone
    assert set(first) == {patient.id, student.id}

    _look(cache, store)
    assert cache.recomputed == []  # nothing written: nothing computed

    writes = [
        lambda: store.patients.update_plan(plan.id, certified_on=plan.start_date + timedelta(days=3),
                                           certifying_physician_npi="1234567893", status="certified"),
        lambda: store.patients.add_progress_report(
            plan_id=plan.id, period_start=plan.start_date, period_end=TODAY - timedelta(days=2),
            written_on=TODAY - timedelta(days=2), signed_at=datetime(2026, 11, 16, tzinfo=timezone.utc),
            signer_name="Rosa Fennimore"),
        lambda: store.patients.add_diagnosis(patient_id=patient.id, code="R13.12", role="treatment", rank=1),
        lambda: store.patients.add_goal(plan_id=plan.id, text="Swallows thin liquids safely", rank=1),
        lambda: add_session(store, patient.id, TODAY),
    ]
    for write in writes:
        write()
        _look(cache, store)
        assert cache.recomputed == [patient.id]

    add_session(store, student.id, TODAY, minutes=45)  # the IEP minutes catch up
    cells = _look(cache, store)
    assert cache.recomputed == [student.id]
    assert student.id not in cells


def test_the_chart_reads_the_same_cache(store):
    patient, plan, student = _seeded(store)
    cache = DueCache(store)
    _look(cache, store)
    assert cache.patient(patient.id, TODAY) == patient_due(store, patient.id, TODAY)
    store.patients.update_plan(plan.id, end_date=TODAY + timedelta(days=40))
    assert cache.patient(patient.id, TODAY) == patient_due(store, patient.id, TODAY)
    store.patients.archive(student.id)  # an archived patient's chart still says what is due
    assert cache.patient(student.id, TODAY) == patient_due(store, student.id, TODAY) != []
    cells = _look(cache, store)
    assert student.id not in cells
    assert cache.recomputed == sorted([patient.id, student.id])  # the caseload's cells of both are recomputed


def test_a_new_day_or_a_setting_recomputes_everyone(store):
    _seeded(store)
    cache = DueCache(store)
    _look(cache, store)
    _look(cache, store, TODAY + timedelta(days=1))  # midnight
    assert cache.recomputed == ["*"]
    store.clinic.set_setting("progress_report_mode", "calendar_days")
    _look(cache, store, TODAY + timedelta(days=1))
    assert cache.recomputed == ["*"]

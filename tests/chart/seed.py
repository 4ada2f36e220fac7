"""Seeding helpers for the chart tests (fictional people only)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

TODAY = date(2026, 11, 18)  # a Wednesday


def add_session(store, patient_id: str, day: date, minutes: int = 30, session_type: str = "individual_treatment"):
    """A session on ``day`` with ``minutes`` of clock time."""
    therapy_session, participants = store.sessions.create(date_of_service=day, session_type=session_type,
                                                          setting="office", patient_ids=[patient_id])
    start = datetime.combine(day, time(9, 0), tzinfo=timezone.utc)
    store.sessions.set_manual_time(therapy_session.id, "language", start, start + timedelta(minutes=minutes))
    return participants[0]


def seed_medicare_patient(store, today: date = TODAY):
    """An uncertified Medicare plan ending in 5 days, 9 treatment days since it began."""
    patient = store.patients.create(first_name="Wendell", last_name="Parrish", external_id="M-100",
                                    date_of_birth=date(1949, 2, 3))
    store.patients.add_coverage(patient_id=patient.id, payer_kind="medicare", payer_name="Medicare Part B",
                                member_id="1EG4TE5MK73")
    start = today - timedelta(days=84)
    plan = store.patients.add_plan(patient_id=patient.id, start_date=start, end_date=today + timedelta(days=5),
                                   frequency="1x/week", duration_weeks=12)
    for week in range(9):
        add_session(store, patient.id, start + timedelta(days=7 * week + 1))
    return patient, plan


def seed_student(store, today: date = TODAY, delivered_minutes: int = 20):
    """A student with 60 direct IEP minutes a week and one session this week."""
    student = store.patients.create(first_name="Juniper", last_name="Ashdown", external_id="S-200",
                                    date_of_birth=date(2017, 9, 1), school="Cedar Elementary", grade="3",
                                    guardian_name="Rue Ashdown")
    store.patients.add_iep_service(patient_id=student.id, minutes_required=60, period="week", kind="direct")
    store.patients.add_iep_service(patient_id=student.id, minutes_required=30, period="month", kind="consult")
    monday = today - timedelta(days=today.weekday())
    add_session(store, student.id, monday, minutes=delivered_minutes)
    return student

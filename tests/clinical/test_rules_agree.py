"""The due panel and the scrubber count the episode the same way, for every patient of the demo
and of a seeded synthetic clinic of 1,000 patients (slpterm.clinical.episode is their one home)."""

from __future__ import annotations

from datetime import date

from slpterm.clinical.episode import treatment_day_number
from slpterm.demo import generate_demo, generate_synthetic
from slpterm.services.billing import BillingService, BulkData, PatientFacts
from slpterm.services.due import due_context, gather_facts
from slpterm.store import open_store

TODAY = date(2026, 11, 16)


def _disagreements(store, today: date) -> tuple[int, list[str]]:
    facts_by_patient = gather_facts(store, today, context=due_context(store))
    data = BulkData.whole_clinic(store)
    billing = BillingService(store, today)
    compared, problems = 0, []
    for patient_id, due in facts_by_patient.items():
        history = data.histories.get(patient_id)
        if history is None:
            continue
        for plan in due.plans:
            in_plan = [(participant, s) for participant, s in history.rows
                       if plan.start <= s.date_of_service <= min(plan.end, today)]
            if not in_plan:
                continue
            participant, latest = max(in_plan, key=lambda row: (row[1].date_of_service, row[0].id))
            detail = data.details[participant.id]
            facts = billing.facts(detail, PatientFacts(data.charts[patient_id], history))
            if facts.plan is None or facts.plan.start != plan.start:
                continue
            compared += 1
            due_number = treatment_day_number(plan.visits, plan.report_dates, latest.date_of_service)
            scrubber_number = facts.treatment_days_since_progress_report + 1 if due_number else 1
            if max(due_number, 1) != scrubber_number:
                problems.append(f"{patient_id}: due panel day {due_number}, scrubber day {scrubber_number}")
            if plan.first_treatment_date != facts.plan.first_treatment_date:
                problems.append(f"{patient_id}: first treatment day {plan.first_treatment_date} vs "
                                f"{facts.plan.first_treatment_date}")
    return compared, problems


def test_due_panel_and_scrubber_agree_for_every_demo_patient(tmp_path):
    generate_demo(tmp_path / "demo", today=TODAY)
    store = open_store(tmp_path / "demo")
    try:
        compared, problems = _disagreements(store, TODAY)
    finally:
        store.close()
    assert compared >= 8 and problems == []


def test_due_panel_and_scrubber_agree_over_1000_synthetic_patients(tmp_path):
    generate_synthetic(tmp_path / "synthetic", patients=1000, sessions=6000, seed=16, today=TODAY)
    store = open_store(tmp_path / "synthetic")
    try:
        store_patients = store.caseload.rows()
        compared, problems = _disagreements(store, TODAY)
    finally:
        store.close()
    assert len(store_patients) >= 1000 and compared >= 800 and problems[:5] == []


def test_treatment_day_number_by_bisection_agrees_with_the_rule():
    import random
    from datetime import timedelta

    from slpterm.clinical.episode import treatment_day_number_in_order

    chooser = random.Random(21)
    start = date(2026, 1, 5)
    for _ in range(300):
        visits = tuple(sorted({start + timedelta(days=chooser.randrange(120)) for _ in range(chooser.randrange(0, 30))}))
        reports = sorted(start + timedelta(days=chooser.randrange(-10, 130)) for _ in range(chooser.randrange(0, 4)))
        for offset in range(-12, 132):
            day = start + timedelta(days=offset)
            assert treatment_day_number_in_order(visits, reports, day) == treatment_day_number(visits, reports, day)

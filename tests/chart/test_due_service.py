"""What is due, read from the store in batched queries, agrees with the clinical due rules."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from slpterm.clinical.due import DueKind, due_items, summarize
from slpterm.services.due import caseload_due, caseload_due_summaries, gather_facts, patient_due
from .seed import TODAY, add_session, seed_medicare_patient, seed_student


def test_a_medicare_patient_owes_certification_progress_report_and_recertification(store):
    patient, plan = seed_medicare_patient(store)

    kinds = {item.kind for item in patient_due(store, patient.id, TODAY)}

    assert kinds == {DueKind.CERTIFICATION_OVERDUE, DueKind.PLAN_EXPIRING, DueKind.PROGRESS_REPORT_DUE}
    facts = gather_facts(store, TODAY, patient.id)[patient.id]
    assert len(facts.plans[0].treatment_dates_since_progress_report) == 9
    assert facts.plans[0].first_treatment_date == plan.start_date + timedelta(days=1)
    assert facts.progress_report_interval == 10 and facts.requires_certification is True


def test_a_progress_report_restarts_the_count_and_a_certification_clears_it(store):
    patient, plan = seed_medicare_patient(store)
    store.patients.add_progress_report(plan_id=plan.id, period_start=plan.start_date,
                                       period_end=TODAY - timedelta(days=20), written_on=TODAY - timedelta(days=20),
                                       signed_at=datetime(2026, 1, 1, tzinfo=timezone.utc), signer_name="Rosa Fennimore")
    store.patients.update_plan(plan.id, certified_on=plan.start_date + timedelta(days=3),
                               certifying_physician_npi="1234567893", status="certified")

    kinds = {item.kind for item in patient_due(store, patient.id, TODAY)}

    assert kinds == {DueKind.PLAN_EXPIRING}


def test_a_recertified_plan_no_longer_reports_its_predecessor_expiring(store):
    patient, plan = seed_medicare_patient(store)
    store.patients.recertify_plan(plan.id)

    kinds = [item.kind for item in patient_due(store, patient.id, TODAY)]

    assert DueKind.PLAN_EXPIRING not in kinds


def test_iep_minutes_behind_count_direct_session_minutes_of_this_week(store):
    student = seed_student(store, delivered_minutes=20)

    items = patient_due(store, student.id, TODAY)

    # Wednesday: 3 of 5 school days -> 36 of 60 minutes expected, 20 delivered.
    assert [(item.kind, item.short_label) for item in items] == [(DueKind.IEP_MINUTES_BEHIND, "IEP -16m")]


def test_kx_estimates_this_years_spending_from_visits_and_other_providers(store):
    patient = store.patients.create(first_name="Ida", last_name="Moorcroft", date_of_birth=date(1944, 1, 1))
    store.patients.add_coverage(patient_id=patient.id, payer_kind="medicare", member_id="1EG4TE5MK73")
    store.patients.set_other_providers_amount(patient.id, TODAY.year, 200_000)  # $2,000 of the threshold used
    for week in range(4):
        add_session(store, patient.id, date(TODAY.year, 10, 1) + timedelta(days=7 * week))

    facts = gather_facts(store, TODAY, patient.id)[patient.id]
    items = patient_due(store, patient.id, TODAY)

    context_charge = (facts.kx.year_to_date_amount - 2000) / 4
    assert context_charge > 0
    assert facts.kx.year_to_date_amount == 2000 + 4 * context_charge
    assert facts.kx.threshold_amount > 2000
    kx_items = [item for item in items if item.kind in {DueKind.KX_CROSSED, DueKind.KX_NEAR}]
    assert kx_items and "of the $" in kx_items[0].message


def test_the_caseload_summaries_are_the_rules_summaries_and_skip_archived_patients(store):
    patient, _plan = seed_medicare_patient(store)
    student = seed_student(store)
    archived = store.patients.create(first_name="Old", last_name="Chart", date_of_birth=date(2010, 1, 1))
    store.patients.add_iep_service(patient_id=archived.id, minutes_required=60, period="week")
    store.patients.archive(archived.id)
    quiet = store.patients.create(first_name="Nothing", last_name="Due", date_of_birth=date(2012, 1, 1))

    summaries = caseload_due_summaries(store, TODAY)
    facts = gather_facts(store, TODAY)

    assert summaries[patient.id] == summarize(due_items(facts[patient.id]), 24)
    assert summaries[patient.id].startswith("Cert late")
    assert summaries[student.id] == "IEP -16m"
    assert archived.id not in summaries and quiet.id not in summaries
    assert set(caseload_due(store, TODAY)) == {patient.id, student.id}


def test_an_evaluation_only_patient_has_nothing_due(store, patient):
    add_session(store, patient.id, TODAY - timedelta(days=3), session_type="evaluation")
    assert patient_due(store, patient.id, TODAY) == []


def test_the_caseload_is_worked_out_in_chunks_with_the_same_result(store, monkeypatch):
    from slpterm.services import due as due_service
    from slpterm.services.due import due_context
    from slpterm.clinical.due import due_items

    seed_medicare_patient(store)
    seed_student(store)
    for index in range(5):
        patient = store.patients.create(first_name=f"Chunk{index}", last_name="Tester", date_of_birth=date(1950, 1, 1))
        store.patients.add_coverage(patient_id=patient.id, payer_kind="medicare", member_id="1EG4TE5MK73")
        store.patients.set_other_providers_amount(patient.id, TODAY.year, 240_000)
    context = due_context(store)
    whole = {pid: due_items(facts, context.rules) for pid, facts in gather_facts(store, TODAY, None, context).items()}
    whole = {pid: items for pid, items in whole.items() if items}
    monkeypatch.setattr(due_service, "CHUNK_PATIENTS", 2)
    assert due_service.caseload_due(store, TODAY) == whole
    assert len(whole) >= 6

"""Every table goes in and comes back out through the store API unchanged."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from slpterm.store import LockedRecord, ValidationFailed, open_store

T0 = datetime(2026, 11, 2, 15, 0, tzinfo=timezone.utc)


def test_clinic_clinician_settings_fees_and_overrides_round_trip(store, tmp_path):
    store.clinic.save_clinic(name="Harbor Speech & Swallow", npi="1234567893", tax_id="12-3456789",
                             address_line1="12 Pier Rd", city="Astoria", state="OR", postal_code="97103")
    store.clinic.save_clinic(name="Harbor Speech and Swallow", npi="1234567893", tax_id="12-3456789",
                             address_line1="12 Pier Rd", city="Astoria", state="OR", postal_code="97103")
    store.clinic.add_clinician(first_name="Ada", last_name="Moss", credentials="CF-SLP", role="clinical_fellow",
                               npi="1234567893")
    store.clinic.set_setting("idle_lock_minutes", "5")
    store.clinic.set_fee("92507", Decimal("145.50"))
    store.clinic.set_payer_override("OHP01", '{"gn_required": true}')
    store.close()

    reopened = open_store(tmp_path / "data")
    clinic = reopened.clinic.get_clinic()
    assert clinic.name == "Harbor Speech and Swallow" and clinic.tax_id == "12-3456789"
    assert [c.display_name for c in reopened.clinic.clinicians()] == ["Ada Moss, CF-SLP"]
    assert reopened.clinic.get_setting("idle_lock_minutes") == "5"
    assert reopened.clinic.fee_schedule() == {"92507": Decimal("145.50")}
    assert isinstance(reopened.clinic.fee_schedule()["92507"], Decimal)
    assert reopened.clinic.payer_overrides() == {"OHP01": '{"gn_required": true}'}
    reopened.close()


def test_chart_round_trip(store, patient):
    plan = store.patients.add_plan(patient_id=patient.id, start_date=date(2026, 9, 1), end_date=date(2026, 11, 29),
                                   frequency="2x/week", duration_weeks=12, certifying_physician_name="Dr. Lena Ortiz",
                                   certifying_physician_npi="1234567893", certified_on=date(2026, 9, 10),
                                   status="certified")
    long_goal = store.patients.add_goal(plan_id=plan.id, term="long", disorder_area="speech_sound",
                                        text="Intelligible speech in conversation", target_accuracy=90)
    short_goal = store.patients.add_goal(plan_id=plan.id, term="short", parent_goal_id=long_goal.id, rank=2,
                                         disorder_area="speech_sound", text="/r/ initial position, word level",
                                         baseline="40%", target_accuracy=80, criterion_sessions=3)
    store.patients.add_iep_service(patient_id=patient.id, minutes_required=60, period="week", kind="direct")
    store.patients.set_other_providers_amount(patient.id, 2026, 123456)
    store.patients.add_coverage(patient_id=patient.id, rank=2, payer_kind="commercial", payer_name="Blue Plan",
                                member_id="B-77")
    store.patients.add_progress_report(plan_id=plan.id, period_start=date(2026, 9, 1), period_end=date(2026, 10, 1),
                                       written_on=date(2026, 10, 2))
    store.patients.update(patient.id, phone="503-555-0142")

    chart = store.patients.chart(patient.id)
    assert chart.patient.phone == "503-555-0142"
    assert chart.primary_coverage.member_id == "MQ123456"
    assert [c.rank for c in chart.coverages] == [1, 2]
    assert [d.code for d in chart.diagnoses] == ["F80.0"]
    assert chart.plans[0].certified_on == date(2026, 9, 10)
    assert [g.id for g in chart.goals_by_plan[plan.id]] == [long_goal.id, short_goal.id]
    assert chart.goals_by_plan[plan.id][1].parent_goal_id == long_goal.id
    assert chart.iep_services[0].minutes_required == 60
    assert chart.therapy_amounts[0].other_providers_cents == 123456
    assert chart.progress_reports[0].written_on == date(2026, 10, 2)


def _session_with_everything(store, patient, clinician):
    chart = store.patients.chart(patient.id)
    plan = store.patients.add_plan(patient_id=patient.id, start_date=date(2026, 9, 1), end_date=date(2026, 11, 29))
    goal = store.patients.add_goal(plan_id=plan.id, text="/s/ blends at phrase level")
    therapy_session, (participant,) = store.sessions.create(
        date_of_service=date(2026, 11, 2), session_type="individual_treatment", setting="office",
        patient_ids=[chart.patient.id], clinician_id=clinician.id)
    store.sessions.start_timer(therapy_session.id, "speech_sound", T0)
    store.sessions.start_timer(therapy_session.id, "language", T0 + timedelta(minutes=20))
    store.sessions.pause_timer(therapy_session.id, T0 + timedelta(minutes=30), stop=True)
    store.sessions.correct_area_minutes(therapy_session.id, "language", 12, "timer left on language too long")
    assert store.sessions.toggle_technique(participant.id, "minimal_pairs") is True
    store.sessions.toggle_technique(participant.id, "cycles")
    assert store.sessions.toggle_technique(participant.id, "cycles") is False
    for result in ("correct", "correct", "incorrect", "no_response"):
        store.sessions.record_trial(participant.id, goal.id, result, "minimal")
    store.sessions.undo_last_trial(participant.id, goal.id)
    store.sessions.save_note(participant.id, subjective="Eager to start 🙂", objective="3/4 trials",
                             assessment="Progressing", plan="Continue 2x/week")
    return therapy_session, participant, goal


def test_session_round_trip_sign_and_addendum(store, patient, clinician):
    therapy_session, participant, goal = _session_with_everything(store, patient, clinician)
    signature = store.sessions.sign(participant.id, clinician.id, now=T0 + timedelta(hours=1))
    store.sessions.add_addendum(participant.id, "Parent reported an ear infection last week.", "Rosa Fennimore",
                                clinician.id)

    detail = store.sessions.detail(participant.id)
    assert detail.session.started_at == T0
    assert detail.session.stopped_at == T0 + timedelta(minutes=30)
    assert [(s.disorder_area, s.ended_at - s.started_at) for s in detail.segments] == [
        ("speech_sound", timedelta(minutes=20)), ("language", timedelta(minutes=10))]
    assert [(c.disorder_area, c.minutes) for c in detail.corrections] == [("language", 12)]
    assert detail.techniques == ["minimal_pairs"]
    assert detail.goal_ids == [goal.id]
    assert [(t.result, t.voided_at is None) for t in detail.trials] == [
        ("correct", True), ("correct", True), ("incorrect", True), ("no_response", False)]
    assert detail.note.subjective == "Eager to start 🙂"
    assert detail.signature.signer_name == "Rosa Fennimore" and detail.signature.credentials == "CCC-SLP"
    assert detail.signature.content_hash == signature.content_hash == store.sessions.content_hash(detail)
    assert [a.text for a in detail.addenda] == ["Parent reported an ear infection last week."]
    assert detail.participant.status == "signed"


def test_signed_session_refuses_every_change_through_the_store(store, patient, clinician):
    therapy_session, participant, goal = _session_with_everything(store, patient, clinician)
    store.sessions.sign(participant.id, clinician.id)
    attempts = [
        lambda: store.sessions.save_note(participant.id, subjective="changed"),
        lambda: store.sessions.record_trial(participant.id, goal.id, "correct", "independent"),
        lambda: store.sessions.undo_last_trial(participant.id),
        lambda: store.sessions.toggle_technique(participant.id, "modeling"),
        lambda: store.sessions.start_timer(therapy_session.id, "language", T0 + timedelta(hours=2)),
        lambda: store.sessions.correct_area_minutes(therapy_session.id, "language", 5, "late change"),
        lambda: store.sessions.sign(participant.id, clinician.id),
    ]
    for attempt in attempts:
        with pytest.raises(Exception) as raised:
            attempt()
        assert isinstance(raised.value, LockedRecord) or "locked" in str(raised.value)


def test_group_session_keeps_one_note_per_patient(store, clinician):
    patients = [store.patients.create(first_name=f"Kid{i}", last_name="Testwood") for i in range(3)]
    therapy_session, participants = store.sessions.create(
        date_of_service=date(2026, 11, 3), session_type="group_treatment", setting="school",
        patient_ids=[p.id for p in patients], clinician_id=clinician.id)
    for index, participant in enumerate(participants):
        store.sessions.save_note(participant.id, subjective=f"note {index}")
    assert [store.sessions.detail(p.id).note.subjective for p in participants] == ["note 0", "note 1", "note 2"]
    assert len(store.sessions.participants(therapy_session.id)) == 3


def test_export_batches_number_their_control_numbers(store, patient, clinician):
    _, participant, _ = _session_with_everything(store, patient, clinician)
    first = store.exports.record_batch(format="x12", participant_ids=[participant.id], file_names=["a.x12"],
                                       checksum="abc", range_from=date(2026, 11, 1), range_to=date(2026, 11, 30))
    second = store.exports.record_batch(format="csv", participant_ids=[], file_names=["b.csv"], checksum="def")
    assert (first.control_number, second.control_number) == (1, 2)
    assert store.exports.exported_participant_ids() == {participant.id}
    assert store.exports.items(first.id) == [participant.id]
    assert [b.format for b in store.exports.batches()] == ["csv", "x12"]


def test_patients_with_sessions_are_archived_not_deleted(store, patient, clinician):
    _session_with_everything(store, patient, clinician)
    with pytest.raises(LockedRecord, match="Archive the patient instead"):
        store.patients.delete(patient.id)
    store.patients.archive(patient.id)
    assert store.caseload.rows() == []
    assert [row.archived for row in store.caseload.rows(include_archived=True)] == [True]

    loner = store.patients.create(first_name="Solo", last_name="Entry")
    store.patients.add_coverage(patient_id=loner.id, payer_kind="self_pay")
    store.patients.delete(loner.id)
    assert all(row.patient_id != loner.id for row in store.caseload.rows(include_archived=True))


def test_a_nameless_patient_is_refused_with_the_field_named(store):
    with pytest.raises(ValidationFailed) as raised:
        store.patients.create(first_name="  ", last_name="")
    assert raised.value.problems[0][0] == "Name"


def test_every_change_is_in_the_audit_chain(store, patient, clinician):
    _session_with_everything(store, patient, clinician)
    assert store.verify_audit_chain() == []

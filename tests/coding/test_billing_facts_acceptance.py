"""Billing facts and the one-home rules, through the store and the real signing path."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest

from slpterm.services.billing import BillingService
from slpterm.services.due import patient_due
from slpterm.services.session_flow import SessionFlow, TimeEdit
from slpterm.store import open_store


@pytest.fixture
def clinic(clinic_dir, clock):
    store = open_store(clinic_dir)
    yield store, SessionFlow(store, clock)
    store.close()


def _patient(store):
    return store.caseload.rows()[0].patient_id


def _signed_session(store, flow, day: date, *, session_type="individual_treatment", setting="office",
                    evaluation_kind=None, minutes=30, area="speech_sound") -> str:
    patient_id = _patient(store)
    (participant_id,) = flow.start(patient_ids=[patient_id], session_type=session_type, setting=setting,
                                   date_text=day.isoformat(), clinician_id=store.clinic.clinicians()[0].id,
                                   evaluation_kind=evaluation_kind)
    detail = store.sessions.detail(participant_id)
    start = datetime(day.year, day.month, day.day, 16, 0, tzinfo=timezone.utc)
    flow.apply_time_edit(detail.session.id, TimeEdit(start=start, stop=start + timedelta(minutes=minutes), area=area))
    chart = store.patients.chart(patient_id)
    goal = next(iter(chart.goals_by_plan.values()))[0]
    store.sessions.toggle_goal(participant_id, goal.id)
    store.sessions.toggle_technique(participant_id, "minimal_pairs")
    store.sessions.save_note(participant_id, objective="Worked on the goal; 8/10 correct.")
    flow.sign(participant_id)
    return participant_id


def _override(store, values: dict) -> None:
    store.clinic.set_payer_override("OHP01", json.dumps(values))


def _code(store, participant_id: str, today: date = date(2026, 11, 2)):
    return BillingService(store, today).code_participant(participant_id)


def _texts(result) -> list[str]:
    return [f"{line.code}-{'-'.join(line.modifiers)} x{line.units}" for line in result.lines]


def test_distinct_service_recorded_after_signing_exports_with_the_payers_modifier(clinic):
    store, flow = clinic
    _override(store, {"distinct_service_modifier": "59"})
    day = date(2026, 10, 20)
    _signed_session(store, flow, day, session_type="evaluation", evaluation_kind="speech_sound_and_language", minutes=60)
    cognitive = _signed_session(store, flow, day, session_type="evaluation", evaluation_kind="cognitive_testing",
                                minutes=60, area="cognition")
    before = _code(store, cognitive)
    if "ncci-needs-distinct-service" not in before.finding_codes:
        pytest.skip("the installed NCCI pairs do not bundle 96125 with 92523")
    store.billing_facts.record(cognitive, distinct_service_note="Cognitive testing in a separate session after a break.")
    after = _code(store, cognitive)
    assert not after.blocked or "ncci-needs-distinct-service" not in after.finding_codes
    assert any("59" in line.modifiers for line in after.lines if line.code == "96125")
    store.billing_facts.record(cognitive, distinct_service_note="Separate session.", distinct_modifier="XU")
    assert any("XU" in line.modifiers for line in _code(store, cognitive).lines if line.code == "96125")


def test_habilitative_plan_answers_the_payers_96_97_requirement(clinic):
    store, flow = clinic
    _override(store, {"hab_rehab_modifier_required": True})
    participant_id = _signed_session(store, flow, date(2026, 10, 20))
    assert "missing-hab-rehab" in _code(store, participant_id).finding_codes
    plan = store.patients.chart(_patient(store)).plans[0]
    store.patients.update_plan(plan.id, rehabilitative=False)
    result = _code(store, participant_id)
    assert "missing-hab-rehab" not in result.finding_codes
    assert all("96" in line.modifiers for line in result.lines) and result.lines
    assert store.billing_facts.facts(participant_id).rehabilitative_from_plan


def test_audio_only_telehealth_carries_the_payers_audio_only_modifier(clinic):
    store, flow = clinic
    _override(store, {"audio_only_modifier": "93"})
    participant_id = _signed_session(store, flow, date(2026, 10, 20), setting="telehealth_home")
    assert all("95" in line.modifiers for line in _code(store, participant_id).lines)
    store.billing_facts.record(participant_id, audio_only=True)
    modifiers = [line.modifiers for line in _code(store, participant_id).lines]
    assert modifiers and all("93" in m and "95" not in m for m in modifiers)


def test_a_progress_report_written_at_the_visit_unblocks_it_and_the_due_panel_agrees(clinic):
    store, flow = clinic
    _override(store, {"progress_report_interval": 10})
    days = [date(2026, 10, 1) + timedelta(days=offset) for offset in range(11)]
    participants = [_signed_session(store, flow, day) for day in days]
    last = participants[-1]
    assert "progress-report-overdue" in _code(store, last).finding_codes
    plan = store.patients.chart(_patient(store)).plans[0]
    report = store.patients.add_progress_report(plan_id=plan.id, period_start=days[0], period_end=days[-1],
                                                written_on=days[-1], backdate_reason="written at the visit")
    store.patients.update_progress_report(report.id, signed_at=datetime(2026, 10, 11, 18, tzinfo=timezone.utc)) \
        if hasattr(store.patients, "update_progress_report") else _sign_report(store, report.id)
    assert "progress-report-overdue" not in _code(store, last).finding_codes


def _sign_report(store, report_id: str) -> None:
    from slpterm.store.models import ProgressReport

    with store.db.write() as session:
        record = session.get(ProgressReport, report_id)
        record.signed_at = datetime(2026, 10, 11, 18, tzinfo=timezone.utc)
        record.signer_name = "Rosa Fennimore"
        session.add(record)


def test_the_evaluation_is_day_1_so_the_10th_treatment_day_is_overdue(clinic):
    store, flow = clinic
    _override(store, {"progress_report_interval": 10})
    plan = store.patients.chart(_patient(store)).plans[0]
    evaluation_day = plan.start_date - timedelta(days=3)
    _signed_session(store, flow, evaluation_day, session_type="evaluation", evaluation_kind="speech_sound_and_language")
    days = [plan.start_date + timedelta(days=offset) for offset in range(10)]
    participants = [_signed_session(store, flow, day) for day in days]
    assert "progress-report-due" in _code(store, participants[8]).finding_codes
    assert "progress-report-overdue" in _code(store, participants[9]).finding_codes
    due = patient_due(store, _patient(store), days[9])
    assert any(item.kind == "progress_report_overdue" for item in due)


def test_a_60_minute_92523_stays_1_unit_under_a_15_minute_92507_policy(clinic):
    store, flow = clinic
    _override(store, {"untimed_units": "fifteen_minute", "untimed_units_codes": ["92507"]})
    evaluation = _signed_session(store, flow, date(2026, 10, 20), session_type="evaluation",
                                 evaluation_kind="speech_sound_and_language", minutes=60)
    assert [line.units for line in _code(store, evaluation).lines if line.code == "92523"] == [1]
    treatment = _signed_session(store, flow, date(2026, 10, 21), minutes=40)
    assert [line.units for line in _code(store, treatment).lines if line.code == "92507"] == [3]


def test_the_caseload_filter_matches_diagnosis_descriptions(clinic):
    store, _ = clinic
    patient_id = _patient(store)
    store.patients.add_diagnosis(patient_id=patient_id, code="F80.81", description="Childhood onset fluency disorder (stuttering)",
                                 role="treatment")
    rows = store.caseload.rows()
    assert any("stutter" in row.search_text for row in rows if row.patient_id == patient_id)


@pytest.mark.parametrize(("override", "severity"), [({}, "error"), ({"severity": {"group-too-large": "warning"}}, "warning")])
def test_a_group_of_5_has_one_severity_from_the_rules_data(override, severity):
    from slpterm.coding import code_encounter, load_rulebook
    from slpterm.domain.vocab import PayerKind, SessionType

    from .factory import make_facts

    rulebook = load_rulebook(payer_overrides={"OHP01": override} if override else None)
    facts = make_facts(payer_kind=PayerKind.MEDICAID, payer_id="OHP01", session_type=SessionType.GROUP_TREATMENT,
                       group_size=5, total_minutes=30)
    found = [f for f in code_encounter(facts, rulebook).findings if f.code == "group-too-large"]
    assert [str(f.severity) for f in found] == [severity]

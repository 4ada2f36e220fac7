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


def _exported_csv(store, day: date, tmp_path) -> str:
    from slpterm.services.exporting import run_export
    from slpterm.services.encounters import load_encounters

    encounters = load_encounters(store, date_from=day, date_to=day, include_exported=True, today=date(2026, 11, 2))
    outcome = run_export(store, encounters, "csv", tmp_path / "out", range_from=day, range_to=day,
                         now=datetime(2026, 11, 2, 18, tzinfo=timezone.utc))
    assert outcome.ok, outcome.problems
    return "\n".join(path.read_text(encoding="utf-8") for path in outcome.files)


def _distinct_service_exports(store, flow, tmp_path, payer_choice: str | None, chosen: str | None, expected: str) -> None:
    """96125 after a 92523 evaluation the same day, the distinct service recorded after signing."""
    if payer_choice:
        _override(store, {"distinct_service_modifier": payer_choice})
    day = date(2026, 10, 20)
    _signed_session(store, flow, day, session_type="evaluation", evaluation_kind="speech_sound_and_language", minutes=60)
    cognitive = _signed_session(store, flow, day, session_type="evaluation", evaluation_kind="cognitive_testing",
                                minutes=60, area="cognition")
    assert "ncci-needs-distinct-service" in _code(store, cognitive).finding_codes
    store.billing_facts.record(cognitive, distinct_service_note="Cognitive testing in a separate session after a break.",
                               distinct_modifier=chosen)
    after = _code(store, cognitive)
    assert "ncci-needs-distinct-service" not in after.finding_codes and not after.blocked
    assert [line.modifiers for line in after.lines if line.code == "96125"][0].count(expected) == 1
    rows = [row for row in _exported_csv(store, day, tmp_path).splitlines() if "96125" in row]
    assert rows and all(expected in row for row in rows)


def _habilitative_plan_answers_the_payers_96_97_requirement(store, flow) -> None:
    _override(store, {"hab_rehab_modifier_required": True})
    participant_id = _signed_session(store, flow, date(2026, 10, 20))
    assert "missing-hab-rehab" in _code(store, participant_id).finding_codes
    plan = store.patients.chart(_patient(store)).plans[0]
    store.patients.update_plan(plan.id, rehabilitative=False)
    result = _code(store, participant_id)
    assert "missing-hab-rehab" not in result.finding_codes
    assert all("96" in line.modifiers for line in result.lines) and result.lines
    assert store.billing_facts.facts(participant_id).rehabilitative_from_plan


def _audio_only_telehealth_carries_the_payers_93(store, flow) -> None:
    _override(store, {"audio_only_modifier": "93"})
    participant_id = _signed_session(store, flow, date(2026, 10, 20), setting="telehealth_home")
    assert all("95" in line.modifiers for line in _code(store, participant_id).lines)
    store.billing_facts.record(participant_id, audio_only=True)
    modifiers = [line.modifiers for line in _code(store, participant_id).lines]
    assert modifiers and all("93" in m and "95" not in m for m in modifiers)


def _progress_report_written_the_same_day_unblocks_the_visit(store, flow) -> None:
    """The report is written at the 11th visit and entered the next day, backdated with a reason,
    through the progress-report service the screen uses."""
    from slpterm.services import progress

    _override(store, {"progress_report_interval": 10})
    days = [date(2026, 10, 1) + timedelta(days=offset) for offset in range(11)]
    participants = [_signed_session(store, flow, day) for day in days]
    last = participants[-1]
    assert "progress-report-overdue" in _code(store, last).finding_codes
    assert any(item.kind == "progress_report_overdue" for item in patient_due(store, _patient(store), days[-1]))
    plan = store.patients.chart(_patient(store)).plans[0]
    entered_on = days[-1] + timedelta(days=1)
    state = progress.new_draft(store, plan.id, entered_on, period=(days[0], days[-1]))
    state = progress.date_written(state, days[-1], "written at the visit, entered the next day", entered_on)
    progress.sign_report(store, state, store.clinic.clinicians()[0].id,
                         now=datetime(2026, 10, 12, 18, tzinfo=timezone.utc))
    assert not {"progress-report-overdue", "progress-report-due"} & set(_code(store, last).finding_codes)
    assert not any(item.kind.startswith("progress_report") for item in patient_due(store, _patient(store), days[-1]))


def _evaluation_is_day_1_so_the_10th_treatment_day_is_overdue(store, flow) -> None:
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


def _certification_32_days_after_an_evaluation_before_the_plan(store, flow) -> None:
    """The 30-day certification clock starts at the evaluation, not at the plan's start."""
    _override(store, {"requires_poc_certification": True})
    plan = store.patients.chart(_patient(store)).plans[0]
    store.patients.update_plan(plan.id, certified_on=None, status="draft")
    evaluation_day = plan.start_date - timedelta(days=3)
    _signed_session(store, flow, evaluation_day, session_type="evaluation", evaluation_kind="speech_sound_and_language")
    first = _signed_session(store, flow, plan.start_date)
    visit = _signed_session(store, flow, evaluation_day + timedelta(days=32))
    assert "poc-certification-pending" in _code(store, first).finding_codes
    assert "poc-not-certified" in _code(store, visit).finding_codes  # from the plan's start it would be day 29
    due = patient_due(store, _patient(store), evaluation_day + timedelta(days=32))
    assert any(item.kind == "certification_overdue" for item in due)


def _a_60_minute_92523_stays_1_unit_under_a_15_minute_92507_policy(store, flow) -> None:
    _override(store, {"untimed_units": "fifteen_minute", "untimed_units_codes": ["92507"]})
    evaluation = _signed_session(store, flow, date(2026, 10, 20), session_type="evaluation",
                                 evaluation_kind="speech_sound_and_language", minutes=60)
    assert [line.units for line in _code(store, evaluation).lines if line.code == "92523"] == [1]
    treatment = _signed_session(store, flow, date(2026, 10, 21), minutes=40)
    assert [line.units for line in _code(store, treatment).lines if line.code == "92507"] == [3]


def _group_of_5_has_one_severity_everywhere(store, flow, override: dict, severity: str) -> None:
    """Sign dialog, session panel, scrubber and export screen show group-too-large alike."""
    from slpterm.export.batch import select_encounters
    from slpterm.services.encounters import load_encounters

    if override:
        _override(store, override)
    day = date(2026, 10, 20)
    patient_ids = [_patient(store)]
    for number in range(4):
        patient = store.patients.create(first_name=f"Member{number}", last_name="Groupwell", external_id=f"G-{number}")
        store.patients.add_coverage(patient_id=patient.id, payer_kind="medicaid", payer_name="Oregon Health Plan",
                                    payer_id="OHP01", member_id=f"G{number}")
        store.patients.add_diagnosis(patient_id=patient.id, code="F80.0", role="treatment")
        plan = store.patients.add_plan(patient_id=patient.id, start_date=date(2026, 10, 1), end_date=date(2026, 12, 29),
                                       frequency="1x/week", certified_on=date(2026, 10, 3), status="certified",
                                       certifying_physician_name="Dr. Lena Ortiz", certifying_physician_npi="1234567893")
        store.patients.add_goal(plan_id=plan.id, disorder_area="language", text="Answers wh- questions", rank=1)
        patient_ids.append(patient.id)
    participants = flow.start(patient_ids=patient_ids, session_type="group_treatment", setting="office",
                              date_text=day.isoformat(), clinician_id=store.clinic.clinicians()[0].id,
                              evaluation_kind=None)
    session_id = store.sessions.detail(participants[0]).session.id
    start = datetime(2026, 10, 20, 16, 0, tzinfo=timezone.utc)
    flow.apply_time_edit(session_id, TimeEdit(start=start, stop=start + timedelta(minutes=45), area="language"))
    for participant_id, patient_id in zip(participants, patient_ids):
        goal = next(iter(store.patients.chart(patient_id).goals_by_plan.values()))[0]
        store.sessions.toggle_goal(participant_id, goal.id)
        store.sessions.toggle_technique(participant_id, "minimal_pairs")
        store.sessions.save_note(participant_id, objective="Group of 5 answered wh- questions.")
    mark = {"error": "✗", "warning": "!"}[severity]
    for participant_id in participants:
        check = flow.sign_check(participant_id)
        assert [str(f.severity) for f in check.findings if f.code == "group-too-large"] == [severity]
        assert f"{mark} The group had 5 patients" in check.coding_text  # the sign dialog and the session panel
        flow.sign(participant_id)
        assert [str(f.severity) for f in _code(store, participant_id).findings if f.code == "group-too-large"] == [severity]
    selection = select_encounters(load_encounters(store, date_from=day, date_to=day, include_exported=False,
                                                  today=date(2026, 11, 2)), "csv")
    held = {item.encounter.participant_id for item in selection.held}
    assert (held == set(participants)) == (severity == "error")


# One row per bullet of the acceptance list; each runs through the store and the real signing path.
ACCEPTANCE = {
    "distinct service, by context (XE: a separate session)": lambda store, flow, tmp: _distinct_service_exports(store, flow, tmp, None, None, "XE"),
    "distinct service, the user's XU": lambda store, flow, tmp: _distinct_service_exports(store, flow, tmp, None, "XU", "XU"),
    "distinct service, the payer's 59": lambda store, flow, tmp: _distinct_service_exports(store, flow, tmp, "59", None, "59"),
    "96/97 required, habilitative plan": lambda store, flow, tmp: _habilitative_plan_answers_the_payers_96_97_requirement(store, flow),
    "audio-only, payer wants 93": lambda store, flow, tmp: _audio_only_telehealth_carries_the_payers_93(store, flow),
    "progress report written the same day": lambda store, flow, tmp: _progress_report_written_the_same_day_unblocks_the_visit(store, flow),
    "evaluation is day 1": lambda store, flow, tmp: _evaluation_is_day_1_so_the_10th_treatment_day_is_overdue(store, flow),
    "certification 32 days after an earlier evaluation": lambda store, flow, tmp: _certification_32_days_after_an_evaluation_before_the_plan(store, flow),
    "60-minute 92523 under a 15-minute 92507 policy": lambda store, flow, tmp: _a_60_minute_92523_stays_1_unit_under_a_15_minute_92507_policy(store, flow),
    "group of 5, the rules' severity": lambda store, flow, tmp: _group_of_5_has_one_severity_everywhere(store, flow, {}, "error"),
    "group of 5, the payer's severity": lambda store, flow, tmp: _group_of_5_has_one_severity_everywhere(
        store, flow, {"severity": {"group-too-large": "warning"}}, "warning"),
}


@pytest.mark.parametrize("bullet", list(ACCEPTANCE))
def test_acceptance(clinic, tmp_path, bullet):
    store, flow = clinic
    ACCEPTANCE[bullet](store, flow, tmp_path)


@pytest.mark.parametrize(("code", "stored_description", "word"), [
    ("F80.81", "Childhood onset fluency disorder", "stutter"),  # the demo's own wording
    ("F98.5", "Adult fluency", "stutter"),
    ("I69.320", "Language after CVA", "aphasia"),
    ("R47.01", "", "aphasia"),
])
def test_the_caseload_filter_matches_the_catalog_description_of_each_code(clinic, code, stored_description, word):
    from slpterm.store.caseload import CaseloadFile

    store, _ = clinic
    patient_id = _patient(store)
    other = store.patients.create(first_name="Ada", last_name="Brightwater", external_id="P-2")
    store.patients.add_diagnosis(patient_id=other.id, code="F80.0", description="Phonological disorder", role="treatment")
    store.patients.add_diagnosis(patient_id=patient_id, code=code, description=stored_description, role="treatment")
    index = store.caseload.index()
    assert [index.ids[position] for position in index.filter(word)] == [patient_id]
    assert [index.ids[position] for position in index.filter(code)] == [patient_id]
    assert [row.patient_id for row in store.caseload.rows() if word in row.search_text] == [patient_id]
    first_frame = CaseloadFile(store.db.path).preview()  # the plain-file reader of the first frame
    assert [first_frame.index.ids[position] for position in first_frame.index.filter(word)] == [patient_id]


def test_stutter_and_aphasia_find_the_demo_patients_with_those_diagnoses(tmp_path):
    from slpterm import screenshots

    store = open_store(screenshots.make_demo(tmp_path))
    try:
        index = store.caseload.index()
        details = store.caseload.details(index.ids)
        found = {word: sorted(details[index.ids[position]].diagnoses for position in index.filter(word))
                 for word in ("stutter", "aphasia")}
        assert found == {"stutter": ["F98.5"], "aphasia": ["I69.391 R47.01 R13.12"]}
    finally:
        store.close()

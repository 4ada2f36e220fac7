"""Progress reports from a real store: numbers, saving, signing (locked), PDF, the due counter, school log."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from slpterm.services import progress
from slpterm.store.errors import LockedRecord, ValidationFailed

UTC = dt.timezone.utc
PLAN_START = dt.date(2026, 9, 1)
TODAY = dt.date(2026, 10, 20)


def _session(store, clinician, patient_id, day, results, minutes=30, sign=True, goal_id=None):
    _, (participant,) = store.sessions.create(date_of_service=day, session_type="individual_treatment",
                                              setting="office", patient_ids=[patient_id], clinician_id=clinician.id)
    start = dt.datetime.combine(day, dt.time(15, 0), UTC)
    store.sessions.set_manual_time(participant.session_id, "speech_sound", start, start + dt.timedelta(minutes=minutes))
    for result, cue in results:
        store.sessions.record_trial(participant.id, goal_id, result, cue)
    if sign:
        store.sessions.sign(participant.id, clinician.id, now=start + dt.timedelta(hours=1))
    return participant


@pytest.fixture
def medicare_plan(store, clinician):
    patient = store.patients.create(first_name="Tess", last_name="Marrowby", external_id="P-0042",
                                    date_of_birth=dt.date(1950, 2, 3))
    store.patients.add_coverage(patient_id=patient.id, payer_kind="medicare", payer_name="Medicare Part B",
                                payer_id="MCR01", member_id="1EG4TE5MK73")
    store.patients.add_diagnosis(patient_id=patient.id, code="R47.01", role="treatment")
    plan = store.patients.add_plan(patient_id=patient.id, start_date=PLAN_START, end_date=dt.date(2026, 11, 29),
                                   frequency="2x/week", certified_on=dt.date(2026, 9, 2), status="certified",
                                   certifying_physician_name="Dr. Lena Ortiz", certifying_physician_npi="1234567893")
    goal = store.patients.add_goal(plan_id=plan.id, disorder_area="speech_sound", text="/r/ initial, word level",
                                   baseline="40% on 2026-09-01", target_accuracy=80, criterion_sessions=3)
    # 10 treatment days; accuracies 50, 60, ..., then 80, 90, 80: criterion met on the 10th
    accuracies = [50, 50, 60, 60, 70, 70, 70, 80, 90, 80]
    for index, accuracy in enumerate(accuracies):
        correct = accuracy // 10
        results = [("correct", "minimal")] * correct + [("incorrect", "minimal")] * (10 - correct)
        _session(store, clinician, patient.id, PLAN_START + dt.timedelta(days=2 + 3 * index), results,
                 minutes=30 + index, goal_id=goal.id)
    # an unsigned draft in the period is counted apart
    _session(store, clinician, patient.id, dt.date(2026, 10, 19), [("correct", "independent")], sign=False,
             goal_id=goal.id)
    return patient, plan, goal


def test_a_new_report_computes_the_numbers(store, medicare_plan):
    patient, plan, goal = medicare_plan
    state = progress.open_report(store, plan.id, TODAY)
    data = state.data
    assert state.report_id is None
    assert (data.source.period_start, data.source.period_end) == (PLAN_START, TODAY)
    assert (data.session_count, data.treatment_days, data.total_minutes) == (10, 10, sum(30 + i for i in range(10)))
    assert data.source.unsigned_sessions == 1
    (report_goal,) = data.goals
    assert report_goal.accuracies == [50, 50, 60, 60, 70, 70, 70, 80, 90, 80]
    assert report_goal.criterion_met and report_goal.met_on == dt.date(2026, 9, 30)
    assert report_goal.trend.value == "improving"
    assert "50% -> 80% over 10 sessions" in data.source.assessment


def test_saving_and_signing_locks_the_report_and_clears_pr_due(store, clinician, medicare_plan):
    from slpterm.services.due import patient_due

    patient, plan, _ = medicare_plan
    assert any("progress" in item.message.lower() for item in patient_due(store, patient.id, TODAY))
    state = progress.open_report(store, plan.id, TODAY)
    state = progress.save_report(store, progress.recompute(store, state, assessment="Good progress."))
    assert progress.open_report(store, plan.id, TODAY).data.source.assessment == "Good progress."
    signed = progress.sign_report(store, state, clinician.id, now=dt.datetime(2026, 10, 20, 17, tzinfo=UTC))
    assert signed.signed and signed.data.source.signer_name == "Rosa Fennimore, CCC-SLP"
    with pytest.raises(LockedRecord):
        progress.save_report(store, progress.recompute(store, signed, assessment="changed"))
    with pytest.raises(LockedRecord):
        progress.sign_report(store, progress.recompute(store, signed, assessment="x"), clinician.id)
    (record,) = progress.reports_for_plan(store, plan.id)
    assert record.assessment == "Good progress." and record.signed_at is not None
    assert not any("progress" in item.message.lower() for item in patient_due(store, patient.id, TODAY))
    # the report signed today is what the chart opens again
    assert progress.open_report(store, plan.id, TODAY).report_id == record.id


def test_signing_needs_an_assessment_and_dates_in_order(store, clinician, medicare_plan):
    _, plan, _ = medicare_plan
    state = progress.recompute(store, progress.open_report(store, plan.id, TODAY), assessment="  ")
    with pytest.raises(ValidationFailed):
        progress.sign_report(store, state, clinician.id)
    backwards = progress.recompute(store, state, period_start=dt.date(2026, 10, 10), period_end=dt.date(2026, 10, 1))
    with pytest.raises(ValidationFailed):
        progress.save_report(store, backwards)


def test_markdown_and_pdf_export(store, medicare_plan, tmp_path):
    from pypdf import PdfReader

    _, plan, _ = medicare_plan
    state = progress.open_report(store, plan.id, TODAY)
    markdown_path, pdf_path = progress.export_report(state, tmp_path / "out")
    assert "# Progress report: Tess Marrowby" in markdown_path.read_text(encoding="utf-8")
    data = pdf_path.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 2000
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "Progress report: Tess Marrowby" in text
    assert "Reporting period: 2026-09-01 to 2026-10-20" in text
    assert "met on 2026-09-30" in text
    assert "target 80%" in text


def test_caseload_trends_and_school_service_log(store, clinician, patient, tmp_path):
    store.patients.add_iep_service(patient_id=patient.id, minutes_required=60, period="week", kind="direct",
                                   start_date=dt.date(2026, 9, 1), end_date=dt.date(2027, 6, 1))
    plan = store.patients.add_plan(patient_id=patient.id, start_date=dt.date(2026, 9, 1), end_date=dt.date(2027, 6, 1),
                                   frequency="1x/week")
    goal = store.patients.add_goal(plan_id=plan.id, disorder_area="speech_sound", text="/s/ blends in words")
    _session(store, clinician, patient.id, dt.date(2026, 11, 3), [("correct", "independent")] * 3
             + [("incorrect", "independent")], minutes=30, goal_id=goal.id)
    _session(store, clinician, patient.id, dt.date(2026, 11, 5), [("correct", "independent")] * 4,
             minutes=25, goal_id=goal.id, sign=False)
    assert progress.caseload_trends(store, dt.date(2026, 11, 6)) == {patient.id: "▇█"}
    (student,) = progress.school_minutes(store, dt.date(2026, 11, 1), dt.date(2026, 11, 6))
    assert student.periods[0].text == "55/60"
    written, unsigned = progress.write_service_log(store, dt.date(2026, 11, 1), dt.date(2026, 11, 30),
                                                   tmp_path / "log.csv")
    assert (written, unsigned) == (1, 1)
    row = (tmp_path / "log.csv").read_text(encoding="utf-8").splitlines()[1]
    assert row.startswith('"Quillfeather, Milo",P-0001,2026-11-03,')
    assert ",30,Direct,1,/s/ blends in words,Rosa Fennimore,CCC-SLP,2026-11-03" in row


@pytest.mark.skipif(__import__("slpterm.reports.pdf", fromlist=["unicode_font"]).unicode_font() is None,
                    reason="no Unicode TrueType font (e.g. fonts-dejavu-core) is installed on this machine")
def test_pdf_keeps_names_in_any_script(store, medicare_plan, tmp_path):
    from pypdf import PdfReader

    patient, plan, _ = medicare_plan
    store.patients.update(patient.id, first_name="Zoë", last_name="שלום")
    state = progress.open_report(store, plan.id, TODAY)
    _, pdf_path = progress.export_report(state, tmp_path / "out")
    text = "\n".join(page.extract_text() for page in PdfReader(pdf_path).pages)
    assert "Zoë" in text and "?" not in text.split("\n")[0]

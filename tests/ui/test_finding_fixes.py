"""Every finding whose fix is to record something opens, from where it is shown, the screen that
records it (ctrl+f, then a digit when several places are named); after saving it is checked again."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import settle_app
from slpterm.coding.model import Finding, Severity
from slpterm.services.session_flow import FINDING_FIXES, FixPlace, SessionFlow, SignCheck, TimeEdit
from slpterm.store import open_store
from slpterm.ui.app import build_app

DAY = date(2026, 10, 20)


def _screen_for(place: FixPlace):  # noqa: ANN202
    from slpterm.ui.screens.billing_facts import BillingFactsScreen
    from slpterm.ui.screens.billing_settings import BillingSettingsScreen
    from slpterm.ui.screens.correct_session import CorrectSessionScreen
    from slpterm.ui.screens.chart_forms import CoverageForm, DiagnosisForm, PlanForm
    from slpterm.ui.screens.patient import PatientScreen
    from slpterm.ui.screens.progress_report import ProgressReportScreen
    from slpterm.ui.screens.session_dialogs import TimeEditScreen
    from slpterm.ui.screens.settings import SettingsScreen

    return {
        FixPlace.BILLING_FACTS: BillingFactsScreen, FixPlace.COVERAGE: CoverageForm,
        FixPlace.NEW_DIAGNOSIS: DiagnosisForm, FixPlace.CHART: PatientScreen, FixPlace.PLAN: PlanForm,
        FixPlace.RECERTIFY: PlanForm, FixPlace.PROGRESS_REPORT: ProgressReportScreen,
        FixPlace.CLINIC: SettingsScreen, FixPlace.CLINICIAN: SettingsScreen, FixPlace.TIMES: TimeEditScreen,
        FixPlace.SESSION_FACTS: CorrectSessionScreen, FixPlace.FEES: BillingSettingsScreen,
    }[place]


def test_every_finding_in_the_mapping_is_one_the_engine_reports():
    import slpterm.coding.engine as engine

    source = Path(engine.__file__).read_text(encoding="utf-8")
    assert [code for code in FINDING_FIXES if f'"{code}"' not in source] == []


def _session(store, clock, *, signed: bool, day: date = DAY) -> str:
    flow = SessionFlow(store, clock)
    patient_id = store.caseload.rows()[0].patient_id
    (participant_id,) = flow.start(patient_ids=[patient_id], session_type="individual_treatment", setting="office",
                                   date_text=day.isoformat(), clinician_id=store.clinic.clinicians()[0].id,
                                   evaluation_kind=None)
    detail = store.sessions.detail(participant_id)
    start = datetime(day.year, day.month, day.day, 16, 0, tzinfo=timezone.utc)
    flow.apply_time_edit(detail.session.id, TimeEdit(start=start, stop=start + timedelta(minutes=30), area="speech_sound"))
    goal = next(iter(store.patients.chart(patient_id).goals_by_plan.values()))[0]
    store.sessions.toggle_goal(participant_id, goal.id)
    store.sessions.toggle_technique(participant_id, "minimal_pairs")
    store.sessions.save_note(participant_id, objective="Worked on the goal; 8/10 correct.")
    if signed:
        flow.sign(participant_id)
    return participant_id


@pytest.mark.parametrize("code", sorted(FINDING_FIXES))
async def test_ctrl_f_in_the_sign_dialog_opens_where_the_finding_is_fixed(clinic_dir, clock, code):
    from slpterm.ui.screens.session import SessionScreen
    from slpterm.ui.screens.session_dialogs import SignScreen

    store = open_store(clinic_dir)
    participant_id = _session(store, clock, signed=False)
    store.close()
    place = FINDING_FIXES[code]
    finding = Finding(Severity.ERROR, code, f"The finding {code}.", "Record it.")
    check = SignCheck(problems=[], warnings=[], coding_text=f"✗ {finding.message}", findings=(finding,))
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle_app(app, pilot)
        session = SessionScreen(app.services, participant_id)
        app.push_screen(session)
        await settle_app(app, pilot)
        app.push_screen(SignScreen(check), session._sign_dialog_closed)
        await settle_app(app, pilot)
        await pilot.press("ctrl+f")
        await settle_app(app, pilot)
        if place is not FixPlace.BILLING_FACTS:  # two places: this one and the billing facts
            assert [p for p in app.screen.places] == [place, FixPlace.BILLING_FACTS]
            await pilot.press("1")
            await settle_app(app, pilot)
        assert isinstance(app.screen, _screen_for(place))
        if place is FixPlace.RECERTIFY:
            assert app.screen.recertify_from is not None
        if place in (FixPlace.CLINIC, FixPlace.CLINICIAN):
            assert app.screen.focused.id == ("clinic_npi" if place is FixPlace.CLINIC else "clinician_npi")


@pytest.mark.parametrize("where", ["session panel", "sign dialog", "export screen"])
async def test_a_missing_member_id_is_recorded_from_where_it_is_shown_and_checked_again(clinic_dir, clock, where):
    from slpterm.ui.screens.chart_forms import CoverageForm
    from slpterm.ui.screens.export import ExportScreen
    from slpterm.ui.screens.session import SessionScreen
    from slpterm.ui.screens.session_dialogs import SignScreen

    store = open_store(clinic_dir)
    participant_id = _session(store, clock, signed=where == "export screen")
    coverage = store.patients.chart(store.caseload.rows()[0].patient_id).primary_coverage
    store.patients.update_coverage(coverage.id, member_id="")
    store.close()
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle_app(app, pilot)
        if where == "export screen":
            screen = ExportScreen(app.services)
            app.push_screen(screen)
            await settle_app(app, pilot)
            detail = lambda: str(screen.query_one("#export-detail").render())  # noqa: E731
        else:
            screen = SessionScreen(app.services, participant_id)
            app.push_screen(screen)
            await settle_app(app, pilot)
            detail = lambda: str(screen.query_one("#session-coding").render())  # noqa: E731
            if where == "sign dialog":
                await pilot.press("ctrl+g")
                await settle_app(app, pilot)
                assert isinstance(app.screen, SignScreen)
                detail = lambda: str(app.screen.query_one(".coding").render())  # noqa: E731
        assert "no member ID" in detail() and "ctrl+f fixes: coverage" in detail()
        await pilot.press("ctrl+f")
        await settle_app(app, pilot)
        await pilot.press("1")
        await settle_app(app, pilot)
        form = app.screen
        assert isinstance(form, CoverageForm)
        form.query_one("#f-member_id").value = "MQ999"
        await pilot.press("ctrl+s")
        await settle_app(app, pilot)
        await settle_app(app, pilot)
        if where == "sign dialog":  # back in the sign dialog, checked again
            assert isinstance(app.screen, SignScreen)
            detail = lambda: str(app.screen.query_one(".coding").render())  # noqa: E731
        else:
            assert app.screen is screen
        assert "no member ID" not in detail()
    store = open_store(clinic_dir)
    assert store.patients.chart(store.caseload.rows()[0].patient_id).primary_coverage.member_id == "MQ999"
    store.close()


async def test_an_overdue_progress_report_is_written_from_the_session_dated_at_the_visit(clinic_dir, clock):
    import json

    from slpterm.ui.screens.progress_report import ProgressReportScreen
    from slpterm.ui.screens.session import SessionScreen

    store = open_store(clinic_dir)
    store.clinic.set_payer_override("OHP01", json.dumps({"progress_report_interval": 10}))
    days = [date(2026, 10, 1) + timedelta(days=offset) for offset in range(11)]
    flow = SessionFlow(store, clock)
    for day in days[:-1]:
        _session(store, clock, signed=True, day=day)
    participant_id = _session(store, clock, signed=False, day=days[-1])
    assert "progress-report-overdue" in flow.coding_result(participant_id).finding_codes
    store.close()
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle_app(app, pilot)
        session = SessionScreen(app.services, participant_id)
        app.push_screen(session)
        await settle_app(app, pilot)
        assert "ctrl+f fixes: progress report" in str(session.query_one("#session-coding").render())
        await pilot.press("ctrl+f")
        await settle_app(app, pilot)
        await pilot.press("1")
        await settle_app(app, pilot)
        report = app.screen
        assert isinstance(report, ProgressReportScreen)
        assert report.query_one("#report-written-on").value == days[-1].isoformat()
        report.query_one("#report-backdate-reason").value = "written at the visit, entered later"
        await pilot.press("ctrl+s")
        await settle_app(app, pilot)
        await pilot.press("ctrl+g")
        await settle_app(app, pilot)
        await pilot.press("enter")
        await settle_app(app, pilot)
        assert report.state.signed and report.state.data.source.written_on == days[-1]
        await pilot.press("escape")
        await settle_app(app, pilot)
        await settle_app(app, pilot)
        assert app.screen is session
        assert "progress report" not in str(session.query_one("#session-coding").render())

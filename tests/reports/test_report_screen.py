"""The progress report and school screens driven from the keyboard on the demo clinic."""

from __future__ import annotations

import datetime as dt

from slpterm import screenshots
from slpterm.store import open_store
from slpterm.ui.screens.progress_report import ProgressReportScreen
from slpterm.ui.screens.school import SchoolScreen


async def test_write_and_sign_a_progress_report_from_the_chart(tmp_path):
    data_dir = screenshots.make_demo(tmp_path)
    app = screenshots.build_demo_app(data_dir)
    async with app.run_test(size=screenshots.SIZE) as pilot:
        await screenshots.progress_report(app, pilot)
        screen = app.screen
        assert isinstance(screen, ProgressReportScreen)
        assert screen.state.data.session_count == 10
        await pilot.press("ctrl+g")
        await screenshots.settle(app, pilot)
        await pilot.press("enter")
        await screenshots.settle(app, pilot)
        assert app.screen is screen and screen.state.signed
        assert screen.query_one("#report-assessment").read_only
        await pilot.press("escape")
        await screenshots.settle(app, pilot)
        assert "PR late" not in str(app.screen.query_one("#chart-items").get_option_at_index(1).prompt)
    store = open_store(data_dir)
    from slpterm.services.due import patient_due

    patient = next(row for row in store.caseload.rows() if row.name.startswith("Kettleburn"))
    assert not any(item.kind.startswith("progress_report") for item in patient_due(store, patient.patient_id,
                                                                                   screenshots.DEMO_TODAY))
    store.close()


async def test_school_view_lists_iep_minutes(tmp_path):
    app = screenshots.build_demo_app(screenshots.make_demo(tmp_path))
    async with app.run_test(size=screenshots.SIZE) as pilot:
        await screenshots.school(app, pilot)
        screen = app.screen
        assert isinstance(screen, SchoolScreen)
        assert {student.requirement.label for student in screen.students} == {"30/mo consult", "60/wk direct"}
        await pilot.press("left")
        await screenshots.settle(app, pilot)
        assert screen.month.month == 10


async def _type(pilot, field_id: str, text: str) -> None:  # noqa: ANN001
    field = pilot.app.screen.query_one(field_id)
    field.focus()
    field.value = ""
    await pilot.press(*text)


async def test_a_progress_report_is_dated_today_or_backdated_with_a_reason(tmp_path):
    from slpterm.services.progress import reports_for_plan

    data_dir = screenshots.make_demo(tmp_path)
    app = screenshots.build_demo_app(data_dir)
    async with app.run_test(size=screenshots.SIZE) as pilot:
        await screenshots.progress_report(app, pilot)
        screen = app.screen
        assert screen.query_one("#report-written-on").value == screenshots.DEMO_TODAY.isoformat()
        plan_id = screen.plan_id
        earlier = {r.id for r in reports_for_plan(app.store, plan_id)}

        await _type(pilot, "#report-written-on", "2026-10-3x")
        await pilot.press("ctrl+s")
        await screenshots.settle(app, pilot)
        status = str(screen.query_one("#report-status").render())
        assert "Written on" in status and "YYYY-MM-DD" in status

        await _type(pilot, "#report-written-on", "2026-10-29")
        await pilot.press("ctrl+s")
        await screenshots.settle(app, pilot)
        status = str(screen.query_one("#report-status").render())
        assert "Backdate reason" in status and "say why" in status
        (draft,) = [r for r in reports_for_plan(app.store, plan_id) if r.id == screen.state.report_id]
        assert draft.id not in earlier
        assert draft.written_on == screenshots.DEMO_TODAY  # the text is kept, with the date it had

        await _type(pilot, "#report-backdate-reason", "written at the visit, entered later")
        await pilot.press("enter")
        await screenshots.settle(app, pilot)
        (draft,) = [r for r in reports_for_plan(app.store, plan_id) if r.id == screen.state.report_id]
        assert (draft.written_on, draft.backdate_reason) == (dt.date(2026, 10, 29), "written at the visit, entered later")
        assert draft.period_end == dt.date(2026, 10, 29)  # a report covers the days up to when it was written
        assert "period now ends" in str(screen.query_one("#report-status").render())

        await pilot.press("ctrl+g")
        await screenshots.settle(app, pilot)
        await pilot.press("enter")
        await screenshots.settle(app, pilot)
        assert screen.state.signed and screen.query_one("#report-written-on").disabled
        report_id = screen.state.report_id
    store = open_store(data_dir)
    (signed,) = [r for r in reports_for_plan(store, plan_id) if r.id == report_id]
    assert signed.signed_at is not None and signed.written_on == dt.date(2026, 10, 29)
    assert signed.backdate_reason == "written at the visit, entered later"
    store.close()


async def test_a_report_cannot_be_dated_in_the_future(tmp_path):
    app = screenshots.build_demo_app(screenshots.make_demo(tmp_path))
    async with app.run_test(size=screenshots.SIZE) as pilot:
        await screenshots.progress_report(app, pilot)
        screen = app.screen
        await _type(pilot, "#report-written-on", "2026-11-09")
        await pilot.press("ctrl+g")
        await screenshots.settle(app, pilot)
        assert app.screen is screen and not screen.state.signed
        status = str(screen.query_one("#report-status").render())
        assert "Written on" in status and "future" in status

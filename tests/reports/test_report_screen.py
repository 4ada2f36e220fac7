"""The progress report and school screens driven from the keyboard on the demo clinic."""

from __future__ import annotations

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

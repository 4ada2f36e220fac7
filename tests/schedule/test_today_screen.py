"""The Today screen in the running app: F7 from the caseload, Enter starts a visit, c and n record
attendance (never a session)."""

from __future__ import annotations

from slpterm import screenshots


async def test_today_lists_the_demo_day_and_enter_starts_the_group_session(tmp_path):
    from slpterm.ui.screens.session import SessionScreen
    from slpterm.ui.screens.today import TodayScreen

    app = screenshots.build_demo_app(screenshots.make_demo(tmp_path))
    async with app.run_test(size=screenshots.SIZE) as pilot:
        await screenshots.caseload(app, pilot)
        await pilot.press("f7")
        await screenshots.settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, TodayScreen) and len(screen.rows) == 9
        group = next(i for i, row in enumerate(screen.rows) if row.appointment.is_group)
        screen.table.cursor = group
        await pilot.press("enter")
        await screenshots.settle(app, pilot)
        assert isinstance(app.screen, SessionScreen)
        facts = app.services.session_flow().facts(app.screen.participant_id)
        assert facts.session_type == "group_treatment" and len(screen.rows[group].members) == 3
        await pilot.press("escape")
        await screenshots.settle(app, pilot)
        assert app.screen is screen and screen.rows[group].state == "started"


async def test_c_and_n_record_a_cancellation_and_a_no_show_in_a_few_keys(tmp_path):
    from slpterm.ui.screens.today import TodayScreen

    app = screenshots.build_demo_app(screenshots.make_demo(tmp_path))
    async with app.run_test(size=screenshots.SIZE) as pilot:
        await screenshots.caseload(app, pilot)
        await pilot.press("f7")
        await screenshots.settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, TodayScreen)
        scheduled = [i for i, row in enumerate(screen.rows) if row.state == "scheduled" and not row.appointment.is_group]
        screen.table.cursor = scheduled[0]
        await pilot.press("c", "down", "enter", *"clinician ill", "enter")
        await screenshots.settle(app, pilot)
        assert app.screen is screen
        assert screen.rows[scheduled[0]].status_text == "Cancelled (clinician): clinician ill"
        screen.table.cursor = scheduled[1]
        await pilot.press("n")
        await screenshots.settle(app, pilot)
        assert screen.rows[scheduled[1]].status_text == "No-show"
        await pilot.press("u")
        await screenshots.settle(app, pilot)
        assert screen.rows[scheduled[1]].state == "scheduled"

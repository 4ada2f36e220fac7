"""The session's coding reads the chart (and the year-to-date amount) again only after a screen that
can edit the chart, not after a dialog of the session itself."""

from __future__ import annotations

from slpterm.ui.app import build_app
from slpterm.ui.screens.patient import PatientScreen
from slpterm.ui.screens.session import SessionScreen
from slpterm.ui.screens.session_dialogs import SignScreen
from conftest import settle_app

SIZE = (120, 40)


async def test_a_dialog_keeps_the_chart_read_a_chart_screen_reads_it_again(clinic_dir, clock):
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        await pilot.press("f3")
        await pilot.pause()
        await pilot.press("enter")
        await settle_app(app, pilot)
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        flow, participant_id = screen.flow, screen.participant_id

        async def tally() -> object:
            await pilot.press("c")
            await settle_app(app, pilot)
            return flow._day_coders[participant_id].data  # what the coder read of the chart

        read = await tally()
        assert await tally() is read  # a tally re-codes the day only

        await pilot.press("ctrl+g")
        await pilot.pause()
        assert isinstance(app.screen, SignScreen)
        await pilot.press("escape")
        await settle_app(app, pilot)
        assert app.screen is screen
        assert await tally() is read  # the sign dialog edits nothing outside the day

        patient_id = app.store.sessions.detail(participant_id).participant.patient_id
        app.push_screen(PatientScreen(app.services, patient_id))
        await settle_app(app, pilot)
        app.pop_screen()
        await settle_app(app, pilot)
        assert app.screen is screen
        assert await tally() is not read  # the chart may have been edited: read again

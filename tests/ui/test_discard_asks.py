"""Esc on a form, an addendum or times typed and not saved asks first; Enter or Esc keeps them."""

from __future__ import annotations

from slpterm.store import open_store
from slpterm.ui.app import build_app
from slpterm.ui.screens.caseload import CaseloadScreen
from slpterm.ui.screens.chart_forms import PatientForm
from slpterm.ui.screens.discard import DiscardScreen
from slpterm.ui.screens.session import SessionScreen
from slpterm.ui.screens.session_dialogs import AddendumScreen, TimeEditScreen
from conftest import settle_app, type_burst

SIZE = (120, 40)


async def test_a_new_patient_form_typed_into_asks_before_esc_discards_it(clinic_dir, clock):
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        await type_burst(app, ["ctrl+n", "escape"])  # nothing typed: closes at once
        assert isinstance(app.screen, CaseloadScreen)
        await type_burst(app, ["ctrl+n", *"Ada", "escape", "escape"])  # a second Esc keeps editing
        form = app.screen
        assert isinstance(form, PatientForm) and form.values()["first_name"] == "Ada"
        await type_burst(app, ["escape"])
        assert isinstance(app.screen, DiscardScreen)
        await type_burst(app, ["ctrl+y"])
        assert isinstance(app.screen, CaseloadScreen)
    store = open_store(clinic_dir)
    assert [row.name for row in store.caseload.rows()] == ["Quillfeather, Milo"]
    store.close()


async def test_an_addendum_and_times_by_hand_are_kept_on_esc(clinic_dir, clock):
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        await type_burst(app, ["f3", "enter", "ctrl+k", *"0930", "escape"])
        assert isinstance(app.screen, DiscardScreen)
        await type_burst(app, ["enter"])
        assert isinstance(app.screen, TimeEditScreen)
        await type_burst(app, ["escape", "ctrl+y"])
        assert isinstance(app.screen, SessionScreen)
        session = app.screen
        await type_burst(app, ["ctrl+t", "c"])
        clock.advance(minutes=20)
        await type_burst(app, ["ctrl+e", "f8", "space", "ctrl+d"])
        session.flow.sign(session.participant_id)
        session.reload()
        await type_burst(app, ["f10", *"Mother called.", "escape", "escape"])
        assert isinstance(app.screen, AddendumScreen)
        await type_burst(app, ["ctrl+s"])
        await settle_app(app, pilot)
        assert app.screen is session
    store = open_store(clinic_dir)
    (participant, _), = store.sessions.for_patient(store.caseload.rows()[0].patient_id)
    assert [a.text for a in store.sessions.detail(participant.id).addenda] == ["Mother called."]
    store.close()

"""Keys typed faster than screens, dialogs and panels open land where they were meant, in order."""

from __future__ import annotations

from textual.binding import Binding
from textual.widget import Widget

from slpterm.store import open_store
from slpterm.ui.app import build_app
from slpterm.ui.screens.chart_forms import PatientForm
from slpterm.ui.screens.help import HelpScreen, editor_bindings
from slpterm.ui.screens.session import SessionScreen
from slpterm.ui.screens.session_dialogs import PhraseScreen, SignScreen, TimeEditScreen
from slpterm.ui.widgets.goal_tally import GoalTally
from conftest import settle_app, type_burst

SIZE = (120, 40)


def _participant(clinic_dir):
    store = open_store(clinic_dir)
    (participant, _), = store.sessions.for_patient(store.caseload.rows()[0].patient_id)
    detail = store.sessions.detail(participant.id)
    store.close()
    return detail


async def test_keys_typed_while_the_store_opens_filter_start_and_tally(clinic_dir, clock):
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        # From the very first frame: the filter takes the name, F3 and Enter wait for the store.
        await type_burst(app, [*"quil", "f3", "enter", "c", "c", "x"])
        await settle_app(app, pilot)
        assert isinstance(app.screen, SessionScreen)
        assert app.screen_stack[0].query_one("#filter").value == "quil"
    detail = _participant(clinic_dir)
    assert [trial.result for trial in detail.trials] == ["correct", "correct", "incorrect"]


async def test_panel_switch_then_space_ticks_techniques_not_goals(clinic_dir, clock):
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        await type_burst(app, ["f3", "enter", "f8", "space", "down", "space", "down", "space"])
        await settle_app(app, pilot)
        screen = app.screen
        assert len(screen.query_one("#techniques").selected) == 3
        assert not any(line.addressed for line in screen.view.goal_lines)
    assert len(_participant(clinic_dir).techniques) == 3


async def test_goals_key_from_the_note_moves_to_the_tallies(clinic_dir, clock):
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        await type_burst(app, ["f3", "enter", "f9", *"ok", "f7", "c", "f9", "tab", *"fine", "f6", "f7", "x"])
        await settle_app(app, pilot)
        screen = app.screen
        assert screen.query_one("#note-subjective").text == "ok"
        assert screen.query_one("#note-objective").text == "fine"
    assert [trial.result for trial in _participant(clinic_dir).trials] == ["correct", "incorrect"]


async def test_tab_after_a_phrase_goes_to_the_next_section(clinic_dir, clock):
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        await type_burst(app, ["f3", "enter", "f9", "ctrl+r", "enter", "tab", "tab", "ctrl+r", "enter",
                               "tab", "ctrl+r", "enter"])
        await settle_app(app, pilot)
        screen = app.screen
        texts = {name: screen.query_one(f"#note-{name}").text for name in ("subjective", "objective",
                                                                          "assessment", "plan")}
        assert texts["subjective"] and texts["assessment"] and texts["plan"]
        assert texts["objective"] == ""


async def test_next_group_member_puts_focus_on_the_tallies(clinic_dir, clock):
    store = open_store(clinic_dir)
    store.patients.create(first_name="Juniper", last_name="Groupwell")
    store.close()
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        await type_burst(app, [*"quill", "f3", "ctrl+g", *"juniper", "enter", "ctrl+s",
                               "f9", *"first", "f11", "c", "x"])
        await settle_app(app, pilot)
        screen = app.screen
        assert isinstance(screen, SessionScreen) and screen.sub_title == "Groupwell, Juniper"
        assert screen.query_one("#note-subjective").text == ""  # c and x were tallies, not note text
        assert isinstance(screen.focused, GoalTally)


async def test_a_form_just_opened_gets_every_key_in_its_field(clinic_dir, clock):
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        await type_burst(app, ["ctrl+n", *"Ada", "tab", *"Fernsby", "tab", *"2019-03-04", "tab", "tab",
                               *"P-77"])
        await settle_app(app, pilot)
        form = app.screen
        assert isinstance(form, PatientForm)
        values = form.values()
        assert (values["first_name"], values["last_name"], values["date_of_birth"], values["external_id"]) == (
            "Ada", "Fernsby", "2019-03-04", "P-77")


def _keys(owner) -> set[str]:
    return {key for binding in owner.BINDINGS if isinstance(binding, Binding) for key in binding.key.split(",")}


def _widget_keys(widget: Widget) -> set[str]:
    keys = set()
    for cls in type(widget).__mro__:
        if isinstance(cls, type) and issubclass(cls, Widget):
            keys |= _keys(cls) if "BINDINGS" in vars(cls) else set()
    return keys


async def test_no_focusable_widget_shadows_a_key_the_footer_shows(clinic_dir, clock):
    """Every key a screen (or the app) shows works whatever has focus: either no widget on the
    screen binds it, or the screen's binding has priority."""
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        checked = []
        await pilot.press("f3", "enter")
        await settle_app(app, pilot)
        session = app.screen
        for opener, dialog in ((None, SessionScreen), ("ctrl+r", PhraseScreen), ("ctrl+k", TimeEditScreen),
                               ("ctrl+g", SignScreen)):
            if opener:
                await pilot.press(opener)
                await settle_app(app, pilot)
            screen = app.screen
            assert isinstance(screen, dialog)
            shown = [binding for owner in (type(app), type(screen)) for binding in owner.BINDINGS
                     if isinstance(binding, Binding) and binding.show and not binding.priority]
            for widget in screen.query("*"):
                if widget.focusable:
                    clash = {binding.key for binding in shown} & _widget_keys(widget)
                    assert not clash, f"{type(widget).__name__} on {dialog.__name__} takes {clash}"
                    checked.append(type(widget).__name__)
            if opener:
                await pilot.press("escape")
                await settle_app(app, pilot)
        assert app.screen is session and "TextArea" in checked


async def test_help_names_the_editors_own_keys(clinic_dir, clock):
    keys = {binding.key: binding.description for binding in editor_bindings()}
    assert keys["ctrl+z"] == "Undo" and keys["ctrl+y"] == "Redo"
    assert "ctrl+e" not in keys and "f6" not in keys  # the session's own keys, even in the note
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        await pilot.press("f1")
        await settle_app(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(str(static.render()) for static in app.screen.query(".section-body"))
        assert "Undo" in text and "^z" in text or "ctrl+z" in text


async def test_a_key_typed_while_the_last_one_settles_is_delivered_without_another(clinic_dir, clock):
    import asyncio

    from conftest import key_event

    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        app.typeahead.hold(key_event("f3"))
        while app.typeahead.pending:  # F3 is delivered; the dialog is still opening
            await asyncio.sleep(0)
        app.typeahead.hold(key_event("enter"))
        await asyncio.wait_for(app.typeahead.wait_delivered(), timeout=20)
        await settle_app(app, pilot)
        assert isinstance(app.screen, SessionScreen)

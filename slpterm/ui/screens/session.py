"""The point-of-care session: timer, techniques, goal tallies, SOAP note, signing, coded lines.

Every change is stored the moment it is made (trials, techniques, timer); note text half a second
after typing pauses and at most a second after a change even while typing goes on, and whenever the
note loses focus, another screen covers this one or the app quits. A section's title says
"unsaved" while its text waits to be stored.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, Label, SelectionList, Static, TextArea
from textual.widgets.selection_list import Selection

from slpterm.domain.errors import StoreError
from slpterm.ui.widgets.goal_tally import GoalTally

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable

    from slpterm.services.clinic import ClinicServices
    from slpterm.services.session_flow import (
        FixPlace,
        SessionFlow,
        SessionView,
        TimeEdit,
    )
    from slpterm.ui.screens.correct_session import CorrectionOutcome

NOTE_SECTIONS = (("subjective", "S  Subjective"), ("objective", "O  Objective"),
                 ("assessment", "A  Assessment"), ("plan", "P  Plan"))
AUTOSAVE_SECONDS = 0.5  # after the last key
AUTOSAVE_MAX_WAIT_SECONDS = 1.0  # after the first unsaved key, however fast the typing goes on
UNSAVED_MARK = "  ● unsaved"
NOT_SAVED_MARK = "  ✗ not saved yet (retrying)"
HEARTBEAT_SECONDS = 20


def _leaves_chart_alone(screen: object) -> bool:
    """Whether ``screen`` (shown over the session) only answers the session and writes nothing
    outside its day: the sign, phrase, time, addendum and discard dialogs, help, messages, the
    command palette."""
    from textual.command import CommandPalette

    from slpterm.ui.screens.discard import DiscardScreen
    from slpterm.ui.screens.help import HelpScreen, WalkthroughScreen
    from slpterm.ui.screens.message import MessageScreen
    from slpterm.ui.screens.session_dialogs import (
        AddendumScreen,
        PhraseScreen,
        SignScreen,
        TimeEditScreen,
    )

    return isinstance(screen, (SignScreen, PhraseScreen, TimeEditScreen, AddendumScreen, DiscardScreen,
                               HelpScreen, WalkthroughScreen, MessageScreen, CommandPalette))


class SessionScreen(Screen):
    """One patient of one session (a group session switches between its patients with F11)."""

    BINDINGS = [
        Binding("ctrl+t", "timer_toggle", "Start/pause timer", id="session.timer"),
        # priority: these also work while typing in the note (instead of the editor's end-of-line etc.)
        Binding("ctrl+e", "timer_stop", "Stop timer", id="session.timer_stop", priority=True),
        # priority: the note's editor would otherwise take F6 and F7 (select line, select all), and the
        # next tally key would replace the selected note text
        Binding("f6", "next_area", "Next area", id="session.area", priority=True),
        Binding("f7", "focus_goals", "Goals", id="session.goals", priority=True),
        Binding("f8", "focus_techniques", "Techniques", id="session.techniques"),
        Binding("f9", "focus_note", "Note", id="session.note"),
        Binding("ctrl+d", "draft_objective", "Draft objective", id="session.draft", priority=True),
        Binding("ctrl+r", "phrase", "Phrase", id="session.phrase"),
        Binding("ctrl+g", "sign", "Sign", id="session.sign"),
        Binding("f10", "addendum", "Addendum", id="session.addendum"),
        Binding("ctrl+k", "edit_time", "Times by hand", id="session.manual_time", priority=True),
        Binding("f11", "next_member", "Next group member", id="session.next_member"),
        Binding("ctrl+o", "correct_session", "Correct/discard", id="session.correct"),
        Binding("ctrl+f", "billing_facts", "Fix / billing facts", id="session.billing_facts", priority=True),
        Binding("escape", "back", "Caseload", id="session.back"),
    ]

    def __init__(self, services: ClinicServices, participant_id: str, start_cues: dict[str, str] | None = None) -> None:
        super().__init__()
        self._start_cues = dict(start_cues or {})  # goal id -> cue level carried forward from the last session
        self.services = services
        self.flow: SessionFlow = services.session_flow()
        # Both None once the last patient's unsigned note was discarded: nothing left to show, save or time.
        self._participant_id: str | None = participant_id
        self._view: SessionView | None = None
        self._pending_note: dict[str, str] = {}
        self._autosave: Timer | None = None
        self._unsaved_since: float | None = None
        self._last_heartbeat: dt.datetime | None = None
        self._chart_may_have_changed = True
        self._covered_by: object | None = None  # the screen pushed over this one, until it is back

    @property
    def participant_id(self) -> str:
        """The patient whose part of the session is shown."""
        if self._participant_id is None:
            raise LookupError("this session's note was discarded")
        return self._participant_id

    @participant_id.setter
    def participant_id(self, participant_id: str) -> None:
        self._participant_id = participant_id

    @property
    def view(self) -> SessionView:
        """What the screen shows of the patient's part of the session (read on mount)."""
        if self._view is None:
            raise LookupError("this session's note is not shown (not yet read, or discarded)")
        return self._view

    # -- layout ---------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="session-banner")
        yield Static("", id="session-timer")
        with Horizontal(id="session-body"):
            with Vertical(id="session-left"):
                yield Label("Goals F7: c correct x incorrect n none u undo", classes="panel-title")
                with VerticalScroll(id="goals-scroll"):
                    yield GoalTally(id="goals")
                yield Label("Techniques F8: space toggles", classes="panel-title")
                yield SelectionList[str](id="techniques")
            with VerticalScroll(id="session-note"):
                for name, title in NOTE_SECTIONS:
                    yield Label(title, classes="panel-title", id=f"note-title-{name}")
                    yield TextArea("", id=f"note-{name}", classes="note-section", soft_wrap=True,
                                   tab_behavior="focus", compact=True)
                yield Static("", id="addenda")
        yield Static("", id="session-coding")
        yield Footer()

    def on_mount(self) -> None:
        self.reload()
        suspended = self.flow.suspend_if_stale(self.view.session_id)
        if suspended is not None:
            self.notify(f"The timer was paused for {suspended} min while the laptop slept or slpterm was closed; "
                        "that time is not counted. ctrl+t resumes.", timeout=10)
            self._tick()
        self.set_interval(1, self._tick)
        self.set_focus(self.query_one("#goals", GoalTally))

    def reload(self) -> None:
        view = self._view = self.flow.view(self.participant_id)
        self.sub_title = view.title
        self.query_one("#session-banner", Static).update(view.banner)
        goals = self.query_one("#goals", GoalTally)
        goals.locked = view.signed
        if view.last_cue_level and goals.cue_level == "independent":
            goals.cue_level = view.last_cue_level  # carry on with the cue level of the last trial
        goals.start_cues = self._start_cues
        goals.show(view.goal_lines)
        techniques = self.query_one("#techniques", SelectionList)
        techniques.clear_options()
        techniques.add_options([
            Selection(label, technique_id, technique_id in view.techniques_checked)
            for technique_id, label in view.technique_choices
        ])
        techniques.disabled = view.signed
        for name, _ in NOTE_SECTIONS:
            area = self.query_one(f"#note-{name}", TextArea)
            text = getattr(view.note, name)
            if area.text != text and name not in self._pending_note:
                area.load_text(text)
                area.move_cursor(area.document.end)  # a resumed draft goes on where it stopped
            area.read_only = view.signed
        self.query_one("#addenda", Static).update(view.addenda_text)
        self._tick()
        self.refresh_coding(fresh=True)

    # -- timer ------------------------------------------------------------------------------------
    def _tick(self) -> None:
        if self._view is None:
            return
        session_id = self._view.session_id
        status = self.flow.timer_status(session_id)
        self.query_one("#session-timer", Static).update(status.text)
        if status.running:
            now = self.services.clock.now()
            if self._last_heartbeat is None or (now - self._last_heartbeat).total_seconds() >= HEARTBEAT_SECONDS:
                self._last_heartbeat = now
                self._guard(lambda: self.flow.heartbeat(session_id))

    def _guard(self, action: Callable[[], object]) -> bool:
        """Run a store call; show a plain message instead of a traceback when it is refused."""
        try:
            action()
        except StoreError as error:
            self.notify(str(error), severity="error", timeout=8)
            return False
        except OSError as error:
            self.notify(f"Could not save: {error}. Your text stays on screen; it is saved when space returns.",
                        severity="error", timeout=10)
            return False
        return True

    def _time_locked(self) -> bool:
        if self._view is not None and self._view.signed:
            self.notify("This note is signed: its time is locked. Corrections are addenda (F10).",
                        severity="warning")
            return True
        return False

    def action_timer_toggle(self) -> None:
        if self._time_locked():
            return
        if self._guard(lambda: self.flow.toggle_timer(self.view.session_id)):
            self._tick()

    def action_timer_stop(self) -> None:
        if self._time_locked():
            return
        if self._guard(lambda: self.flow.stop_timer(self.view.session_id)):
            self._tick()
            self.refresh_coding()

    def action_next_area(self) -> None:
        if self._time_locked():
            return
        if self._guard(lambda: self.flow.next_area(self.view.session_id)):
            self._tick()

    def action_edit_time(self) -> None:
        from slpterm.ui.screens.session_dialogs import TimeEditScreen

        if self._time_locked():
            return
        status = self.flow.time_edit_status(self.view.session_id)

        def done(result: TimeEdit | None) -> None:
            if result is not None and self._guard(lambda: self.flow.apply_time_edit(self.view.session_id, result)):
                self.reload()

        self.app.push_screen(TimeEditScreen(status, self.services.clock.today()), done)

    # -- goals and techniques ------------------------------------------------------------------------
    @on(GoalTally.Trial)
    def _trial(self, event: GoalTally.Trial) -> None:
        if self._guard(lambda: self.flow.record_trial(self.participant_id, event.goal_id, event.result,
                                                      event.cue_level)):
            self._refresh_goals()

    @on(GoalTally.Undo)
    def _undo(self, event: GoalTally.Undo) -> None:
        undone = []
        if self._guard(lambda: undone.append(self.flow.undo_last_trial(self.participant_id, event.goal_id))):
            if undone and not undone[0]:
                self.notify("No trial to undo on this goal.")
            self._refresh_goals()

    @on(GoalTally.ToggleAddressed)
    def _toggle_goal(self, event: GoalTally.ToggleAddressed) -> None:
        if self._guard(lambda: self.flow.toggle_goal(self.participant_id, event.goal_id)):
            self._refresh_goals()

    def _refresh_goals(self) -> None:
        self._view = self.flow.view(self.participant_id)
        self.query_one("#goals", GoalTally).show(self._view.goal_lines)
        self.refresh_coding()

    @on(SelectionList.SelectionToggled, "#techniques")
    def _technique_toggled(self, event: SelectionList.SelectionToggled) -> None:
        technique_id = str(event.selection.value)
        if not self._guard(lambda: self.flow.toggle_technique(self.participant_id, technique_id)):
            self.reload()
            return
        self.refresh_coding()

    # -- note ---------------------------------------------------------------------------------------
    @on(TextArea.Changed, ".note-section")
    def _note_changed(self, event: TextArea.Changed) -> None:
        if self._view is None or self._view.signed:
            return
        name = (event.text_area.id or "").removeprefix("note-")
        if getattr(self._view.note, name, None) == event.text_area.text and name not in self._pending_note:
            return
        self._pending_note[name] = event.text_area.text
        now = time.monotonic()
        if self._unsaved_since is None:
            self._unsaved_since = now
        self._show_note_state(name, UNSAVED_MARK)
        if self._autosave is not None:
            self._autosave.stop()
        due = min(AUTOSAVE_SECONDS, self._unsaved_since + AUTOSAVE_MAX_WAIT_SECONDS - now)
        self._autosave = self.set_timer(max(due, 0.01), self.save_note)  # Textual divides by the delay

    def _show_note_state(self, name: str, mark: str) -> None:
        from textual.css.query import NoMatches

        try:
            self.query_one(f"#note-title-{name}", Label).update(dict(NOTE_SECTIONS)[name] + mark)
        except NoMatches:
            pass  # the screen is being taken down

    def save_note(self) -> bool:
        if not self._pending_note:
            return True
        if self._autosave is not None:
            self._autosave.stop()
            self._autosave = None
        pending = dict(self._pending_note)
        if self._guard(lambda: self.flow.save_note(self.participant_id, **pending)):
            for name, text in pending.items():
                if self._pending_note.get(name) == text:
                    del self._pending_note[name]
                    self._show_note_state(name, "")
                setattr(self.view.note, name, text)
            self._unsaved_since = time.monotonic() if self._pending_note else None
            return True
        for name in pending:
            self._show_note_state(name, NOT_SAVED_MARK)
        self._autosave = self.set_timer(5, self.save_note)
        return False

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        if isinstance(event.widget, TextArea):
            self.save_note()

    def action_draft_objective(self) -> None:
        text = self.flow.draft_objective(self.participant_id)
        area = self.query_one("#note-objective", TextArea)
        if self.view.signed:
            self.notify("The note is signed; add an addendum instead.", severity="warning")
            return
        area.load_text(text)
        self._pending_note["objective"] = text
        self.save_note()
        self.notify("Objective drafted from the tallies and time; edit as needed.")

    # Keys typed right after F7/F8/F9 wait for this focus (slpterm.ui.typeahead), so they go where
    # F7/F8/F9 sent them, not into the note or as a tally.
    def action_focus_goals(self) -> None:
        self.set_focus(self.query_one("#goals", GoalTally))

    def action_focus_techniques(self) -> None:
        techniques = self.query_one("#techniques", SelectionList)
        if techniques.highlighted is None and techniques.option_count:
            techniques.highlighted = 0
        self.set_focus(techniques)

    def action_focus_note(self) -> None:
        self.set_focus(self.query_one("#note-subjective", TextArea))

    def action_phrase(self) -> None:
        from slpterm.ui.screens.session_dialogs import PhraseScreen

        focused = self.focused
        section = "subjective"
        if isinstance(focused, TextArea) and focused.id and focused.id.startswith("note-"):
            section = focused.id.removeprefix("note-")
        target = self.query_one(f"#note-{section}", TextArea)
        if self.view.signed:
            self.notify("The note is signed; add an addendum instead.", severity="warning")
            return

        def insert(text: str | None) -> None:
            if text:
                target.insert(text if not target.text or target.text.endswith((" ", "\n")) else " " + text)
                target.focus()

        self.app.push_screen(PhraseScreen(section, self.flow.phrases(section, self.participant_id)), insert)

    # -- sign, addenda -------------------------------------------------------------------------------
    def action_sign(self) -> None:
        from slpterm.ui.screens.session_dialogs import SignScreen

        self.save_note()
        if self.view.signed:
            self.notify("Already signed. Corrections are addenda (F10).")
            return
        check = self.flow.sign_check(self.participant_id)
        self.app.push_screen(SignScreen(check), self._sign_dialog_closed)

    def _sign_dialog_closed(self, confirmed: bool | FixPlace | None) -> None:
        if isinstance(confirmed, str):  # a FixPlace: where a finding is fixed, then the dialog again
            self._open_fix(confirmed, then_sign=True)
            return
        if confirmed and self._guard(lambda: self.flow.sign(self.participant_id)):
            self.notify("Signed and locked.")
            self.reload()

    def action_billing_facts(self) -> None:
        """Open where the coding panel's findings are fixed (the billing facts when none asks)."""
        from slpterm.services.session_flow import fix_places
        from slpterm.ui.screens.finding_fixes import choose_fix

        result = self.flow.coding_result(self.participant_id)
        places = fix_places(result.findings if result is not None else (), signed=self.view.signed)
        choose_fix(self, places, self._open_fix)

    def _open_fix(self, place: FixPlace, then_sign: bool = False) -> None:
        from slpterm.services.session_flow import FixPlace
        from slpterm.ui.screens.finding_fixes import open_fix

        def checked_again() -> None:
            self.refresh_coding()
            if then_sign:
                self.action_sign()

        open_fix(self, self.services, self.flow, self.participant_id, place, checked_again,
                 local={FixPlace.TIMES: self.action_edit_time, FixPlace.SESSION_FACTS: self.action_correct_session})

    def on_screen_suspend(self) -> None:
        """Another screen covers this one (a dialog, help, the lock screen): store the text first."""
        self.save_note()
        self._covered_by = self.app.screen  # the screen pushed over this one (handled after the push)

    def on_screen_resume(self) -> None:
        covered_by, self._covered_by = self._covered_by, None
        if covered_by is self or not _leaves_chart_alone(covered_by):
            # Back from a screen that can edit the chart (a form, the chart, a correction): the next
            # coding reads the chart and the year-to-date amount again, not after a mere dialog.
            self._chart_may_have_changed = True
        if getattr(self, "_when_back", None) is not None:  # a form opened to fix a finding was left
            from slpterm.ui.screens.finding_fixes import back_on

            back_on(self)

    def action_addendum(self) -> None:
        from slpterm.ui.screens.session_dialogs import AddendumScreen

        if not self.view.signed:
            self.notify("Addenda are for signed notes; this note can still be edited.")
            return

        def done(text: str | None) -> None:
            notices: list[str | None] = []
            if text and self._guard(lambda: notices.append(self.flow.add_addendum(self.participant_id, text))):
                self.reload()
                if notices and notices[0]:
                    self.notify(notices[0], severity="warning", timeout=12)

        self.app.push_screen(AddendumScreen(), done)

    def action_next_member(self) -> None:
        following = self.flow.next_member(self.participant_id)
        if following is None:
            self.notify("This session has one patient.")
            return
        if not self.save_note():
            return  # the text stays on screen, and with it this patient
        self.participant_id = following
        self._pending_note.clear()
        self.reload()
        self.set_focus(self.query_one("#goals", GoalTally))  # the next keys are this patient's tallies

    # -- correcting and discarding an unsigned session ------------------------------------------------
    def action_correct_session(self) -> None:
        from slpterm.ui.screens.correct_session import (
            BillingFactsGroup,
            CorrectSessionScreen,
            FactsGroup,
            ParticipantsGroup,
            TimesGroup,
        )

        if self.view.signed:
            self.notify("This note is signed: its facts are locked. Corrections are addenda (F10).",
                        severity="warning")
            return
        if not self.save_note():
            return
        facts = self.flow.facts(self.participant_id)
        groups = [FactsGroup(facts, self._place_of_service),
                  TimesGroup(self.flow.timer_status(self.view.session_id)),
                  ParticipantsGroup(facts, self._find_patients),
                  BillingFactsGroup(self.flow.billing_facts(self.participant_id))]

        def done(outcome: CorrectionOutcome | None) -> None:
            if outcome is None:
                return
            if outcome.discard:
                self._ask_discard()
                return
            if outcome.participant_id is not None:
                self.participant_id = outcome.participant_id
            self._pending_note.clear()
            self.reload()
            self.notify("Session corrected; the audit trail records what changed.")

        self.app.push_screen(CorrectSessionScreen(groups, lambda correction: self.flow.correct(
            self.participant_id, correction)), done)

    def _find_patients(self, text: str, leave_out: set[str], limit: int = 8) -> list[tuple[str, str]]:
        return self.services.caseload.find_patients(text, leave_out, limit)

    def _place_of_service(self, setting: str, date_text: str) -> str:
        from datetime import date

        try:
            day = date.fromisoformat(date_text)
        except ValueError:
            day = self.services.clock.today()
        return self.flow.place_of_service(setting, day)

    def _ask_discard(self) -> None:
        from slpterm.ui.screens.discard import DiscardScreen

        view = self.view
        trials = sum(line.total for line in view.goal_lines)
        question = (f"Discard this unsigned note of {view.title} ({trials} trial{'s' if trials != 1 else ''} and its "
                    "note text)? It is removed for good; the audit trail records the discard.")

        def answered(discard: bool | None) -> None:
            if not discard:
                return
            following = self.flow.next_member(self.participant_id)
            self._pending_note.clear()
            if not self._guard(lambda: self.flow.discard(self.participant_id, "discarded by the clinician")):
                return
            self.notify("Unsigned note discarded.")
            if following is not None and following != self.participant_id:
                self.participant_id = following
                self.reload()
                return
            self._participant_id = self._view = None  # nothing left to show, save or time
            self.app.pop_screen()

        self.app.push_screen(DiscardScreen("this unsigned note", question), answered)

    # -- coded lines ------------------------------------------------------------------------------------
    def refresh_coding(self, fresh: bool = False) -> None:
        """Re-code the session's day; ``fresh`` reads the chart and the year-to-date amount again."""
        self._code(fresh or self._chart_may_have_changed)
        self._chart_may_have_changed = False

    @work(thread=True, exclusive=True, group="session-coding")
    def _code(self, fresh: bool) -> None:
        text = self.flow.panel_coding_text(self.participant_id, fresh=fresh, signed=getattr(self._view, "signed", None))
        self.app.call_from_thread(self._show_coding, text)

    def _show_coding(self, text: str) -> None:
        from textual.css.query import NoMatches

        try:
            self.query_one("#session-coding", Static).update(text)
        except NoMatches:
            pass  # the screen was closed while the lines were coded

    def action_back(self) -> None:
        self.save_note()
        self.app.pop_screen()

    def on_unmount(self) -> None:
        if self._participant_id is not None:
            self.save_note()

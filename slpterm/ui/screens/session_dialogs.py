"""Small dialogs of the session screen: phrases, times by hand, signing, addenda."""

from __future__ import annotations

from datetime import date, datetime

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option

from slpterm.domain.vocab import DisorderArea
from slpterm.services.session_flow import SignCheck, TimeEdit, TimerStatus
from slpterm.ui.screens.new_session import DialogScroll


class PhraseScreen(ModalScreen[str | None]):
    """Reusable phrases for one note section; Enter inserts the highlighted one."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="phrase.cancel")]

    def __init__(self, section: str, phrases: list[str]) -> None:
        super().__init__()
        self._section = section
        self._phrases = phrases

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(f"Phrases for {self._section.capitalize()} (↑↓, Enter inserts, Esc cancels)",
                         classes="section-title")
            if self._phrases:
                yield OptionList(*[Option(text, id=str(index)) for index, text in enumerate(self._phrases)],
                                 id="phrases")
            else:
                yield Static("No phrases for this section. Add some in phrases.toml in the clinic rules folder.")

    def on_mount(self) -> None:
        if self._phrases:
            options = self.query_one("#phrases", OptionList)
            options.highlighted = 0
            options.focus()

    @on(OptionList.OptionSelected, "#phrases")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._phrases[int(str(event.option.id))])

    def action_cancel(self) -> None:
        self.dismiss(None)


class TimeEditScreen(ModalScreen[TimeEdit | None]):
    """Start and stop times for a session documented afterwards, or minutes per area corrected."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="time_edit.cancel"),
                Binding("ctrl+s", "save", "Save", id="time_edit.save")]

    def __init__(self, status: TimerStatus, today: date) -> None:
        super().__init__()
        self._status = status
        self._today = today

    def compose(self) -> ComposeResult:
        local = lambda moment: moment.astimezone().strftime("%H:%M") if moment else ""  # noqa: E731
        self._original = {"start": local(self._status.started_at), "stop": local(self._status.stopped_at)}
        with Vertical(classes="dialog"):
            yield Static("Times by hand (HH:MM, local time) or corrected minutes per area. ctrl+s saves.",
                         classes="section-title")
            with Grid(classes="form-grid"):
                yield Label("Start", classes="field-label")
                yield Input(local(self._status.started_at), placeholder="e.g. 09:30", compact=True, id="start")
                yield Label("Stop", classes="field-label")
                yield Input(local(self._status.stopped_at), placeholder="e.g. 10:02", compact=True, id="stop")
                yield Label("Area", classes="field-label")
                default_area = self._status.area or self._status.default_area
                yield Select([(area.value.replace("_", " "), area.value) for area in DisorderArea],
                             value=default_area or Select.BLANK, allow_blank=default_area is None,
                             compact=True, id="area")
                for area in DisorderArea:
                    yield Label(f"{area.value.replace('_', ' ')} min", classes="field-label")
                    current = self._status.minutes_by_area.get(area.value, 0)
                    yield Input(str(current) if current else "", compact=True, id=f"minutes-{area.value}")
                yield Label("Reason", classes="field-label")
                yield Input(placeholder="why the minutes are corrected (kept in the audit trail)",
                            compact=True, id="reason")
            yield Static("", id="time-problems")
            with Horizontal(classes="buttons"):
                yield Button("Save (ctrl+s)", id="save", variant="primary")
                yield Button("Cancel (Esc)", id="cancel")

    def _clock_text(self, field: str) -> str:
        return self.query_one(f"#{field}", Input).value.strip()

    def _time(self, field: str) -> datetime | None:
        text = self._clock_text(field)
        if not text:
            return None
        moment = datetime.strptime(text, "%H:%M").time()
        return datetime.combine(self._today, moment).astimezone()

    def action_save(self) -> None:
        problems = []
        try:
            start, stop = self._time("start"), self._time("stop")
        except ValueError:
            problems.append("Start/Stop: write times as HH:MM, e.g. 09:30")
            start = stop = None
        if (start is None) != (stop is None):
            problems.append("Start/Stop: give both times, or neither")
        if start and stop and stop <= start:
            problems.append("Stop: must be after Start")
        if self._clock_text("start") == self._original["start"] and self._clock_text("stop") == self._original["stop"]:
            start = stop = None  # unchanged clock times: keep the timer's own segments
        corrections: dict[str, int] = {}
        for area in DisorderArea:
            text = self.query_one(f"#minutes-{area.value}", Input).value.strip()
            current = self._status.minutes_by_area.get(area.value, 0)
            if not text:
                if current:
                    corrections[area.value] = 0
                continue
            if not text.isdigit():
                problems.append(f"{area.value.replace('_', ' ')} minutes: a whole number of minutes, e.g. 20")
                continue
            if int(text) != current:
                corrections[area.value] = int(text)
        reason = self.query_one("#reason", Input).value.strip()
        if corrections and start is None and not reason:
            problems.append("Reason: say why the minutes are corrected; it is kept in the audit trail")
        if problems:
            self.query_one("#time-problems", Static).update("\n".join(f"• {p}" for p in problems))
            return
        chosen = self.query_one("#area", Select).value
        if start is not None and chosen is Select.BLANK:
            self.query_one("#time-problems", Static).update("• Area: choose the disorder area these times belong to")
            return
        area = None if chosen is Select.BLANK else str(chosen)
        if start is not None:
            corrections = {}
        self.dismiss(TimeEdit(start=start, stop=stop, area=area, corrections=corrections,
                              reason=reason or "times entered by hand"))

    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.action_cancel()

    def on_mount(self) -> None:
        self._as_opened = self._typed()

    def _typed(self) -> list[str]:
        return [field.value for field in self.query(Input)]

    def action_cancel(self) -> None:
        from slpterm.ui.screens.discard import close_unless_kept

        close_unless_kept(self, dirty=self._typed() != self._as_opened, what="the times you typed",
                          close=lambda: self.dismiss(None))


class SignScreen(ModalScreen["bool | FixPlace"]):
    """Shows what signing would lock, what blocks it, what to check first and what the claim will
    look like. With questions open, Enter goes back to the note; ctrl+y signs as it is."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="sign.cancel"),
                Binding("ctrl+y", "sign_anyway", "Sign as it is", id="sign.anyway"),
                Binding("ctrl+f", "billing_facts", "Fix a finding", id="sign.billing_facts", priority=True)]

    def __init__(self, check: SignCheck) -> None:
        super().__init__()
        self._check = check

    def compose(self) -> ComposeResult:
        check = self._check
        with DialogScroll(classes="dialog", id="sign-box"):
            if check.problems:
                yield Static("Cannot sign yet:", classes="section-title")
                yield Static("\n".join(f"• {p}" for p in check.problems), classes="problems", markup=False)
            elif check.questions:
                yield Static("Check before signing (Enter goes back to the note, ctrl+y signs as it is):",
                             classes="section-title")
            else:
                yield Static("Sign this note? Signing locks it; later corrections are addenda.",
                             classes="section-title")
            if check.questions:
                yield Static("\n".join(f"? {q}" for q in check.questions), id="sign-questions", markup=False)
            if check.warnings:
                yield Static("\n".join(f"! {w}" for w in check.warnings), markup=False)
            yield Static(check.coding_text, classes="coding", markup=False)
            with Horizontal(classes="buttons"):
                if check.problems:
                    yield Button("Back (Esc)", id="cancel")
                elif check.questions:
                    yield Button("Back to the note (Enter)", id="cancel", variant="primary")
                    yield Button("Sign as it is (ctrl+y)", id="sign", variant="warning")
                else:
                    yield Button("Sign (Enter)", id="sign", variant="success")
                    yield Button("Back (Esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one(Button).focus()

    @on(Button.Pressed, "#sign")
    def _sign(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(False)

    def action_sign_anyway(self) -> None:
        if not self._check.problems:
            self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)

    def action_billing_facts(self) -> None:
        """Dismissed with the place that fixes a finding (the session screen opens it, then this dialog again)."""
        from slpterm.ui.screens.finding_fixes import choose_fix

        choose_fix(self, self._check.fixes, self.dismiss)


class AddendumScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="addendum.cancel"),
                Binding("ctrl+s", "save", "Save addendum", id="addendum.save")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Addendum to the signed note (ctrl+s saves; it is signed with your name and time).",
                         classes="section-title")
            yield TextArea("", id="addendum-text")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_save(self) -> None:
        text = self.query_one(TextArea).text.strip()
        if not text:
            self.notify("Type the addendum first.", severity="warning")
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        from slpterm.ui.screens.discard import close_unless_kept

        close_unless_kept(self, dirty=bool(self.query_one(TextArea).text.strip()), what="this addendum",
                          close=lambda: self.dismiss(None))

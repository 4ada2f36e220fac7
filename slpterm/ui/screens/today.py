"""Today: the day's appointments, earliest first. Enter starts the visit's session (its type, setting
and the members present); c cancels (by whom, why), n records a no-show, m starts a make-up session,
u undoes a cancellation or no-show; ← → change the day. The screen has no text field, so plain keys
are safe; the cancel dialog has one.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Header, Input, OptionList, Static
from textual.widgets.option_list import Option

from slpterm.domain.errors import StoreError, ValidationFailed
from slpterm.domain.schedule import CANCELLED_BY_LABELS, CancelledBy
from slpterm.ui import screens
from slpterm.ui.widgets.virtual_table import Column, VirtualTable

if TYPE_CHECKING:
    from slpterm.services.clinic import ClinicServices
    from slpterm.services.schedule import TodayRow

COLUMNS = [
    Column("Time", 11),
    Column("Patients", 30),
    Column("Type", 20),
    Column("Setting", 15, hide_order=1),
    Column("Repeats", 14, hide_order=2),
    Column("Status", 0),
]


def row_cells(row: TodayRow) -> tuple[str, ...]:
    appointment = row.appointment
    end = (dt.datetime.combine(row.day, appointment.start) + dt.timedelta(minutes=appointment.minutes)).time()
    who = row.who if not appointment.is_group else f"Group: {row.who}"
    return (f"{appointment.start:%H:%M}-{end:%H:%M}", who, appointment.session_type.replace("_", " "),
            appointment.setting.replace("_", " "), appointment.recurrence.label if appointment.recurrence else "once",
            row.status_text)


class CancelDialog(ModalScreen["tuple[CancelledBy, str] | None"]):
    """Who cancelled (Enter picks) and why (Enter saves); Escape leaves the visit as it was."""

    BINDINGS = [Binding("escape", "cancel", "Back", id="today.cancel_dialog.back")]
    DEFAULT_CSS = """
    CancelDialog { align: center middle; }
    #cancel-box { width: 64; height: auto; border: round $accent; padding: 0 1; background: $surface; }
    #cancel-by { height: auto; max-height: 5; }
    """

    def __init__(self, what: str) -> None:
        super().__init__()
        self._what = what
        self._by: CancelledBy | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="cancel-box"):
            yield Static(f"Cancel {self._what}\nCancelled by:", markup=False)
            yield OptionList(*[Option(label, id=who.value) for who, label in CANCELLED_BY_LABELS.items()],
                             id="cancel-by")
            yield Static("Reason (Enter saves):")
            yield Input(placeholder="e.g. ill, field trip, clinician at training", id="cancel-reason")

    def on_mount(self) -> None:
        self.query_one("#cancel-by", OptionList).focus()

    @on(OptionList.OptionSelected, "#cancel-by")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self._by = CancelledBy(str(event.option.id))
        self.query_one("#cancel-reason", Input).focus()

    @on(Input.Submitted, "#cancel-reason")
    def _save(self, event: Input.Submitted) -> None:
        by = self._by
        if by is None:
            highlighted = self.query_one("#cancel-by", OptionList).highlighted
            by = list(CancelledBy)[highlighted or 0]
        if not event.value.strip():
            self.notify("Reason: say why the visit was cancelled (e.g. 'ill', 'field trip').", severity="warning")
            return
        self.dismiss((by, event.value.strip()))

    def action_cancel(self) -> None:
        self.dismiss(None)


class TodayScreen(Screen):
    """The day's appointments; Enter starts one; c n m u record attendance."""

    DEFAULT_CSS = """
    #today { height: 1fr; }
    #today-title { height: 1; padding: 0 2; text-style: bold; color: $text-accent; }
    #today-table { height: 1fr; margin: 0 1; }
    #today-status { height: 2; padding: 0 2; color: $text-muted; }
    """
    BINDINGS = [
        Binding("c", "cancel_visit", "Cancelled", id="today.cancel"),
        Binding("n", "no_show", "No-show", id="today.no_show"),
        Binding("m", "make_up", "Make-up", id="today.make_up"),
        Binding("u", "undo", "Undo attendance", id="today.undo"),
        Binding("left", "day(-1)", "Previous day", id="today.previous"),
        Binding("right", "day(1)", "Next day", id="today.next"),
        Binding("t", "back_to_today", "Today", show=False, id="today.today"),
        Binding("escape", "back", "Back", id="today.back"),
    ]

    def __init__(self, services: ClinicServices) -> None:
        super().__init__()
        self.services = services
        self.schedule = services.schedule
        self.day = services.clock.today()
        self.rows: list[TodayRow] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="today"):
            yield Static("", id="today-title", markup=False)
            yield VirtualTable(COLUMNS, id="today-table")
            yield Static("", id="today-status", markup=False)
        yield Footer()

    @property
    def table(self) -> VirtualTable:
        return self.query_one("#today-table", VirtualTable)

    def on_mount(self) -> None:
        self.sub_title = "Today"
        self.table.focus()
        self.reload()

    def on_screen_resume(self) -> None:
        self.reload()

    def reload(self) -> None:
        try:
            self.rows = self.schedule.day(self.day)
        except StoreError as error:
            self.notify(f"The schedule could not be read: {error}", severity="error")
            self.rows = []
        cursor = self.table.cursor
        self.table.set_rows([row_cells(row) for row in self.rows],
                            muted={i for i, row in enumerate(self.rows) if row.state in ("cancelled", "no_show")})
        self.table.cursor = min(cursor, max(len(self.rows) - 1, 0))
        today = self.services.clock.today()
        label = "Today" if self.day == today else self.day.strftime("%A")
        self.query_one("#today-title", Static).update(f"{label}, {self.day:%A %d %B %Y}: {len(self.rows)} "
                                                      f"appointment{'s' if len(self.rows) != 1 else ''}")
        done = sum(1 for row in self.rows if row.state in ("started", "signed"))
        missed = sum(1 for row in self.rows if row.state in ("cancelled", "no_show"))
        self.query_one("#today-status", Static).update(
            (f"{done} seen · {missed} missed · {len(self.rows) - done - missed} to go · missed visits are "
             "never billed\n" if self.rows else
             "Nothing scheduled. Add appointments with `slpterm schedule add` or import a calendar "
             "(`slpterm schedule import FILE.ics`).\n")
            + "Enter start · c cancelled · n no-show · m make-up · u undo · ← → day")

    def _current(self) -> TodayRow | None:
        if not self.rows:
            self.notify("Nothing scheduled on this day.", severity="warning")
            return None
        return self.rows[min(self.table.cursor, len(self.rows) - 1)]

    def _refuse(self, error: StoreError) -> None:
        self.notify(str(error), severity="warning", timeout=8)

    # -- starting ---------------------------------------------------------------------------------
    @on(VirtualTable.RowChosen, "#today-table")
    def _chosen(self) -> None:
        row = self._current()
        if row is None:
            return
        opened = next((member.participant_id for member in row.members if member.participant_id), None)
        if opened is not None:  # started already: open it again
            self.app.push_screen(screens.SessionScreen(self.services, opened))
            return
        if self.day != self.services.clock.today():
            self.notify("Sessions start on their day; ← → back to today.", severity="warning")
            return
        self._start(row, make_up=False)

    def action_make_up(self) -> None:
        row = self._current()
        if row is not None:
            self._start(row, make_up=True)

    def _start(self, row: TodayRow, *, make_up: bool) -> None:
        try:
            if make_up:
                participants, made_up = self.schedule.make_up(row)
                self.notify("Make-up for " + ", ".join(f"{missed.day:%a %d %b}" for missed in made_up), timeout=6)
            else:
                participants = self.schedule.start(row)
        except ValidationFailed as error:
            if any(field in ("Evaluation of", "AAC device") for field, _ in error.problems):
                self._open_dialog(row)  # what the appointment cannot say is asked in the start dialog
                return
            self._refuse(error)
            return
        except StoreError as error:
            self._refuse(error)
            return
        self.app.push_screen(screens.SessionScreen(self.services, participants[0]))

    def _open_dialog(self, row: TodayRow) -> None:
        present, kind = self.schedule.session_request(row)
        names = {member.patient_id: member.name for member in row.members}
        self.app.open_session_dialog(  # type: ignore[attr-defined]  # SlpTermApp
            patients=[(patient_id, names[patient_id]) for patient_id in present], default_type=kind,
            default_setting=row.appointment.setting)

    # -- attendance -------------------------------------------------------------------------------
    def action_cancel_visit(self) -> None:
        row = self._current()
        if row is None:
            return

        def cancelled(answer: tuple[CancelledBy, str] | None) -> None:
            if answer is None:
                return
            try:
                self.schedule.cancel(row, answer[0], answer[1])
            except StoreError as error:
                self._refuse(error)
            self.reload()

        self.app.push_screen(CancelDialog(f"{row.appointment.start:%H:%M} {row.who}"), cancelled)

    def action_no_show(self) -> None:
        row = self._current()
        if row is None:
            return
        try:
            self.schedule.no_show(row)
        except StoreError as error:
            self._refuse(error)
        self.reload()

    def action_undo(self) -> None:
        row = self._current()
        if row is None:
            return
        try:
            removed = self.schedule.undo(row)
        except StoreError as error:
            self._refuse(error)
            return
        if not removed:
            self.notify("No cancellation or no-show recorded for this visit.", severity="warning")
        self.reload()

    # -- moving -----------------------------------------------------------------------------------
    def action_day(self, delta: int) -> None:
        self.day += dt.timedelta(days=delta)
        self.reload()

    def action_back_to_today(self) -> None:
        self.day = self.services.clock.today()
        self.reload()

    def action_back(self) -> None:
        self.app.pop_screen()

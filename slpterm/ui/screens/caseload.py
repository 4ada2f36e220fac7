"""The caseload: every patient, filtered as you type; Enter opens the chart."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static

from slpterm.ui.widgets.virtual_table import Column, VirtualTable

COLUMNS = [
    Column("Patient", 26),
    Column("ID", 10),
    Column("Born", 10),
    Column("School", 18),
    Column("Payer", 10),
    Column("Diagnoses", 16),
    Column("Needs", 0),
]


def _row_cells(row) -> tuple[str, ...]:  # noqa: ANN001
    needs = []
    if row.drafts:
        needs.append(f"{row.drafts} draft{'s' if row.drafts > 1 else ''}")
    if row.due:
        needs.append(row.due)
    if row.archived:
        needs.append("archived")
    return (
        row.name,
        row.external_id,
        row.date_of_birth.isoformat() if row.date_of_birth else "",
        row.school,
        row.payer.replace("_", "-"),
        row.diagnoses,
        ", ".join(needs),
    )


class CaseloadScreen(Screen):
    """Type to filter by name, ID, school, payer or diagnosis; arrows move; Enter opens."""

    BINDINGS = [
        Binding("escape", "clear_filter", "Clear filter", id="caseload.clear"),
        Binding("ctrl+r", "toggle_archived", "Show archived", id="caseload.archived"),
        Binding("up", "move(-1)", "Up", show=False, id="caseload.up"),
        Binding("down", "move(1)", "Down", show=False, id="caseload.down"),
        Binding("pageup", "move(-20)", "Page up", show=False, id="caseload.page_up"),
        Binding("pagedown", "move(20)", "Page down", show=False, id="caseload.page_down"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._all_rows: list = []
        self._shown: list = []
        self._include_archived = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="caseload"):
            yield Input(placeholder="Type to filter: name, ID, school, payer or diagnosis", id="filter")
            yield VirtualTable(COLUMNS, id="patients")
            yield Static("Opening data…", id="caseload-status")
        yield Footer()

    @property
    def table(self) -> VirtualTable:
        return self.query_one("#patients", VirtualTable)

    def reload(self) -> None:
        self._load_rows()

    @work(thread=True, exclusive=True, group="caseload-load")
    def _load_rows(self) -> None:
        store = self.app.store
        if store is None:
            return
        rows = store.caseload.rows(include_archived=self._include_archived)
        self.app.call_from_thread(self._rows_loaded, rows)

    def _rows_loaded(self, rows: list) -> None:
        self._all_rows = rows
        self._apply_filter()

    def _apply_filter(self) -> None:
        from slpterm.store.caseload import filter_rows

        query = self.query_one("#filter", Input).value
        self._shown = filter_rows(self._all_rows, query)
        self.table.set_rows([_row_cells(row) for row in self._shown],
                            muted={index for index, row in enumerate(self._shown) if row.archived})
        total = len(self._all_rows)
        shown = len(self._shown)
        drafts = sum(row.drafts for row in self._all_rows)
        status = f"{shown} of {total} patients" if query.strip() else f"{total} patients"
        if drafts:
            status += f" · {drafts} unsigned draft note{'s' if drafts > 1 else ''}"
        if self._include_archived:
            status += " · archived shown"
        if total == 0:
            status = "No patients yet."
        self.query_one("#caseload-status", Static).update(status)

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self._apply_filter()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self._open_current()

    @on(VirtualTable.RowChosen)
    def _row_chosen(self) -> None:
        self._open_current()

    def _open_current(self) -> None:
        if not self._shown:
            self.notify("No patient matches the filter.", severity="warning")
            return
        row = self._shown[self.table.cursor]
        from slpterm.ui.screens.patient import PatientScreen

        self.app.push_screen(PatientScreen(row.patient_id))

    @property
    def selected_patient_id(self) -> str | None:
        return self._shown[self.table.cursor].patient_id if self._shown else None

    def action_move(self, delta: int) -> None:
        self.table.move_cursor(delta)

    def action_clear_filter(self) -> None:
        self.query_one("#filter", Input).value = ""

    def action_toggle_archived(self) -> None:
        self._include_archived = not self._include_archived
        self.reload()

    def on_screen_resume(self) -> None:
        if self.app.store is not None:
            self.reload()
        self.query_one("#filter", Input).focus()

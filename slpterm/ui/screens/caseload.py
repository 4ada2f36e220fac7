"""The caseload: every patient, filtered as you type; Enter opens the chart.

The first frame shows the preview read while the app was starting (counts and the first
screenful); then all rows; then what each patient needs next (the "Needs" column, from
``slpterm.services.due``), computed in the same worker and filled in.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static

from slpterm.ui.widgets.virtual_table import Column, VirtualTable

PREVIEW_WAIT_SECONDS = 0.2
COLUMNS = [
    Column("Patient", 24),
    Column("ID", 10),
    Column("Born", 10),
    Column("School", 14),
    Column("Payer", 10),
    Column("Diagnoses", 15),
    Column("Trend", 8),
    Column("Needs", 0),
]


def _row_cells(row, trend: str = "") -> tuple[str, ...]:  # noqa: ANN001
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
        trend,
        ", ".join(needs),
    )


class CaseloadScreen(Screen):
    """Type to filter by name, ID, school, payer or diagnosis; arrows move; Enter opens."""

    BINDINGS = [
        Binding("escape", "clear_filter", "Clear filter", id="caseload.clear"),
        Binding("ctrl+n", "new_patient", "New patient", id="caseload.new_patient"),
        Binding("ctrl+o", "import_patients", "Import CSV", id="caseload.import"),
        Binding("ctrl+r", "toggle_archived", "Show archived", id="caseload.archived"),
        Binding("f6", "school", "School minutes", id="caseload.school"),
        Binding("up", "move(-1)", "Up", show=False, id="caseload.up"),
        Binding("down", "move(1)", "Down", show=False, id="caseload.down"),
        Binding("pageup", "move(-20)", "Page up", show=False, id="caseload.page_up"),
        Binding("pagedown", "move(20)", "Page down", show=False, id="caseload.page_down"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._all_rows: list = []
        self._all_rows_read = False
        self._preview = None
        self._shown: list = []
        self._shown_query: str | None = None
        self._loaded_generation = -1
        self._include_archived = False
        self._trends: dict[str, str] = {}

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

    def on_mount(self) -> None:
        reader = getattr(self.app, "caseload_preview", None)
        if reader is None:
            return
        self.app.caseload_preview = None  # only the first caseload of the process uses it
        # A short wait here puts the caseload in the very first frame instead of the next one.
        if reader.done() or reader.result(timeout=PREVIEW_WAIT_SECONDS) is not None:
            self._show_preview(reader.result())
        else:
            self._wait_for_preview(reader)

    @work(thread=True, group="caseload-preview")
    def _wait_for_preview(self, reader) -> None:  # noqa: ANN001
        preview = reader.result(timeout=30)
        self.app.call_from_thread(self._show_preview, preview)

    def _show_preview(self, preview) -> None:  # noqa: ANN001
        if preview is None or self._all_rows_read:
            return
        self._preview = preview
        self._apply_filter(keep_cursor=True)

    def reload(self) -> None:
        self._load_rows()

    @work(thread=True, exclusive=True, group="caseload-load")
    def _load_rows(self) -> None:
        store = self.app.store
        if store is None:
            return
        self._loaded_generation = store.db.generation
        rows = store.caseload.rows(include_archived=self._include_archived)
        self.app.call_from_thread(self._rows_loaded, rows)
        try:
            from slpterm.services.due import caseload_due_summaries

            summaries = caseload_due_summaries(store, self.app.clock.today())
        except Exception as error:  # noqa: BLE001 - the caseload stays usable without the due column
            self.app.call_from_thread(self.notify, f"What is due could not be computed: {error}", severity="warning")
            return
        self.app.call_from_thread(self._due_loaded, rows, summaries)
        try:
            from slpterm.services.progress import caseload_trends

            trends = caseload_trends(store, self.app.clock.today())
        except Exception:  # noqa: BLE001 - the trend column is a convenience; the caseload stays usable
            return
        self.app.call_from_thread(self._trends_loaded, rows, trends)

    def _trends_loaded(self, rows: list, trends: dict[str, str]) -> None:
        if rows is not self._all_rows:
            return
        self._trends = trends
        self._apply_filter(keep_cursor=True)

    def _rows_loaded(self, rows: list) -> None:
        self._all_rows = rows
        self._all_rows_read = True
        self._preview = None
        self._apply_filter(keep_cursor=True)

    def _due_loaded(self, rows: list, summaries: dict[str, str]) -> None:
        if rows is not self._all_rows:
            return
        for row in rows:
            row.due = summaries.get(row.patient_id, "")
        self._apply_filter(keep_cursor=True)

    def _apply_filter(self, keep_cursor: bool = False) -> None:
        from slpterm.store.caseload import filter_rows

        query = self.query_one("#filter", Input).value
        selected = self.selected_patient_id if keep_cursor else None
        preview = None if self._all_rows_read else self._preview
        rows = preview.rows if preview is not None else self._all_rows
        # Typing more narrows the rows already shown; anything else filters the whole caseload.
        narrowing = (not keep_cursor and self._shown_query is not None and query.startswith(self._shown_query)
                     and len(query.split()) >= len(self._shown_query.split()))
        self._shown = filter_rows(self._shown if narrowing else rows, query)
        self._shown_query = query
        trends = self._trends
        self.table.set_rows(self._shown, cells=lambda row: _row_cells(row, trends.get(row.patient_id, "")),
                            is_muted=lambda row: row.archived)
        if selected is not None:
            index = next((i for i, row in enumerate(self._shown) if row.patient_id == selected), None)
            if index is not None:
                self.table.cursor = index
        self.query_one("#caseload-status", Static).update(self._status(query, preview))

    def _status(self, query: str, preview) -> str:  # noqa: ANN001
        if preview is not None:
            total, drafts = preview.total, preview.drafts
        elif self._all_rows_read:
            total, drafts = len(self._all_rows), sum(row.drafts for row in self._all_rows)
        else:
            return "Opening data…"
        if total == 0:
            return "No patients yet."
        status = f"{len(self._shown)} of {total} patients" if query.strip() else f"{total} patients"
        if preview is not None and query.strip():
            status = f"{len(self._shown)} of the first {len(preview.rows)} of {total} patients (reading the rest…)"
        if drafts:
            status += f" · {drafts} unsigned draft note{'s' if drafts > 1 else ''}"
        if self._include_archived:
            status += " · archived shown"
        return status

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

        self.app.when_ready(lambda: self.app.push_screen(PatientScreen(row.patient_id, row.name)))

    @property
    def selected_patient_id(self) -> str | None:
        if not self._shown:
            return None
        return self._shown[min(self.table.cursor, len(self._shown) - 1)].patient_id

    def action_new_patient(self) -> None:
        if self.app.store is None:
            self.app.when_ready(self.action_new_patient)
            return
        from slpterm.ui.screens.chart_forms import PatientForm

        self.app.push_screen(PatientForm(), self._patient_created)

    def _patient_created(self, patient_id: str | None) -> None:
        if patient_id:
            from slpterm.ui.screens.patient import PatientScreen

            self.app.push_screen(PatientScreen(patient_id))

    def action_import_patients(self) -> None:
        if self.app.store is None:
            self.app.when_ready(self.action_import_patients)
            return
        from slpterm.ui.screens.chart_import import ImportScreen

        self.app.push_screen(ImportScreen())

    def action_school(self) -> None:
        if self.app.store is None:
            self.app.when_ready(self.action_school)
            return
        from slpterm.ui.screens.school import SchoolScreen

        self.app.push_screen(SchoolScreen())

    def action_move(self, delta: int) -> None:
        self.table.move_cursor(delta)

    def action_clear_filter(self) -> None:
        self.query_one("#filter", Input).value = ""

    def action_toggle_archived(self) -> None:
        self._include_archived = not self._include_archived
        self.reload()

    def on_screen_resume(self) -> None:
        store = self.app.store
        if store is not None and store.db.generation != self._loaded_generation:
            self.reload()
        self.query_one("#filter", Input).focus()

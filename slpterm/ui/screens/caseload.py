"""The caseload: every patient, filtered as you type; Enter opens the chart.

The first frame shows the preview read while the app was starting (counts and the first
screenful); then the whole caseload's index (ids and search text, all the filter needs); then
what each patient needs next (the "Needs" column, from ``slpterm.services.due``) and their trend,
filled in by the same worker. The cells of a row are read only when it scrolls into view, so
100,000 patients cost little memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static

from slpterm.ui import screens
from slpterm.ui.host import slpterm_app
from slpterm.ui.widgets.virtual_table import Column, VirtualTable

if TYPE_CHECKING:
    from slpterm.services.caseload import CaseloadIndex, CaseloadRow, CaseloadService
    from slpterm.services.clinic import ClinicServices
    from slpterm.services.opening import CaseloadFile, CaseloadPreviewReader

PREVIEW_WAIT_SECONDS = 0.2
DETAILS_AHEAD = 60  # rows read beyond the visible ones, so scrolling reads seldom
DETAILS_KEPT = 5_000
# Name and Needs matter first: on a narrow terminal Born goes first, then School, Trend, Diagnoses.
COLUMNS = [
    Column("Patient", 24),
    Column("ID", 10),
    Column("Born", 10, hide_order=4),
    Column("School", 14, hide_order=3),
    Column("Payer", 10),
    Column("Diagnoses", 15, hide_order=1),
    Column("Trend", 8, hide_order=2),
    Column("Needs", 0),
]
UNREADABLE_ROW = ("(could not be read)", "", "", "", "", "", "", "")


def _needs_cell(drafts: int, due: str, archived: bool) -> str:
    needs = []
    if drafts:
        needs.append(f"{drafts} draft{'s' if drafts > 1 else ''}")
    if due:
        needs.append(due)
    if archived:
        needs.append("archived")
    return ", ".join(needs)


class CaseloadScreen(Screen):
    """Type to filter by name, ID, school, payer or diagnosis; arrows move; Enter opens."""

    BINDINGS = [
        Binding("escape", "clear_filter", "Clear filter", id="caseload.clear"),
        Binding("ctrl+n", "new_patient", "New patient", id="caseload.new_patient"),
        Binding("ctrl+o", "import_patients", "Import CSV", id="caseload.import"),
        Binding("ctrl+r", "toggle_archived", "Show archived", id="caseload.archived"),
        Binding("f6", "school", "School minutes", id="caseload.school"),
        Binding("f7", "today", "Today", id="caseload.today"),
        Binding("up", "move(-1)", "Up", show=False, id="caseload.up"),
        Binding("down", "move(1)", "Down", show=False, id="caseload.down"),
        Binding("pageup", "move(-20)", "Page up", show=False, id="caseload.page_up"),
        Binding("pagedown", "move(20)", "Page down", show=False, id="caseload.page_down"),
    ]

    def __init__(self, preview: CaseloadPreviewReader | None = None) -> None:
        super().__init__()
        self._preview = preview  # read while the app was starting (slpterm.cli), shown in the first frame
        self._index: CaseloadIndex | None = None
        # Reads rows' cells: a CaseloadFile until the store opens, then the caseload service.
        self._source: CaseloadFile | CaseloadService | None = None
        self._details: dict[str, CaseloadRow] = {}  # patient id -> row, for rows that were on screen
        self._shown: Sequence[int] = range(0)  # positions in the index
        self._shown_query: str | None = None
        self._loaded_generation = -1
        self._include_archived = False
        self.services: ClinicServices | None = None  # handed over by the app once the data file is open

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

    # -- loading ------------------------------------------------------------------------------
    def on_mount(self) -> None:
        reader, self._preview = self._preview, None
        if reader is None:
            return
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
        if preview is not None and self._index is None:
            self.show_index(preview.index, None, preview.rows)

    def show_index(self, index, source, details: dict | None = None) -> None:  # noqa: ANN001
        """Show ``index``; ``source.details(ids)`` reads the cells of rows as they come into view."""
        if self._source is not None and self._source is not source:
            self._source.close()
        selected = self.selected_patient_id
        self._index = index
        self._source = source
        self._details = dict(details or {})
        self._shown = range(0)
        self._apply_filter(keep_cursor=True, selected=selected)

    def reload(self) -> None:
        self._load(read_index=True)

    def store_opened(self, services: ClinicServices) -> None:
        """The data file is open: read through its services from now on. An index already read from
        this very file is kept (reading it again would hold two at once); what is due and trends follow."""
        self.services = services
        if self._index is not None and self._index.complete and self._source is not None and not self._include_archived:
            self.show_index(self._index, services.caseload, self._details)
            self._load(read_index=False)
        else:
            self.reload()

    @work(thread=True, exclusive=True, group="caseload-load")
    def _load(self, read_index: bool) -> None:
        if self.services is None:
            return
        caseload = self.services.caseload
        self._loaded_generation = caseload.generation()
        index = self._index
        if read_index or index is None:
            index = caseload.index(include_archived=self._include_archived, previous=index)
            self.app.call_from_thread(self.show_index, index, caseload)
        today = self.services.clock.today()
        positions = index.positions()
        try:
            first = self.app.call_from_thread(self._ids_on_screen)
            index.fill(caseload.due_summaries(today, first), index.needs, positions)
        except Exception as error:  # noqa: BLE001 - the caseload stays usable without the due column
            self.app.call_from_thread(self.notify, f"What is due could not be computed: {error}", severity="warning")
            return
        self.app.call_from_thread(self._refresh_cells, index)
        try:
            index.fill(caseload.trends(today), index.trends, positions)
        except Exception:  # noqa: BLE001 - the trend column is a convenience; the caseload stays usable
            return
        self.app.call_from_thread(self._refresh_cells, index)

    def _ids_on_screen(self) -> list[str]:
        """The patients of the rows on screen (their "Needs" cells are computed first)."""
        if self._index is None:
            return []
        table, shown, ids = self.table, self._shown, self._index.ids
        top = round(table.scroll_offset.y)
        return [ids[shown[i]] for i in range(max(0, top), min(len(shown), top + table.size.height))]

    def _refresh_cells(self, index) -> None:  # noqa: ANN001
        if index is self._index:
            self.table.refresh()

    # -- rows -----------------------------------------------------------------------------------
    @property
    def _shown_index(self) -> CaseloadIndex:
        """The index whose rows are shown (rows, and so this, exist only once one is)."""
        if self._index is None:
            raise LookupError("the caseload shows no index yet")
        return self._index

    def _row(self, position: int) -> CaseloadRow | None:
        """The row at ``position``, read with the rows around it when not yet read."""
        patient_id = self._shown_index.ids[position]
        row = self._details.get(patient_id)
        if row is None and self._source is not None:
            self._read_details_around(position)
            row = self._details.get(patient_id)
        return row

    def _read_details_around(self, position: int) -> None:
        table = self.table
        shown = self._shown
        top = round(table.scroll_offset.y)
        window = [shown[i] for i in range(max(0, top - 10), min(len(shown), top + table.size.height + DETAILS_AHEAD))]
        if position not in window:
            window.append(position)
        ids = self._shown_index.ids
        wanted = [ids[i] for i in window if ids[i] not in self._details]
        if len(self._details) + len(wanted) > DETAILS_KEPT:
            self._details.clear()
            wanted = [ids[i] for i in window]
        if self._source is None:
            return
        try:
            self._details.update(self._source.details(wanted))
        except Exception:  # noqa: BLE001 - a row that cannot be read is shown as such, never a crash
            return

    def _cells(self, position: int) -> tuple[str, ...]:
        index = self._shown_index
        row = self._row(position)
        if row is None:
            return UNREADABLE_ROW
        return (
            row.name,
            row.external_id,
            row.date_of_birth.isoformat() if row.date_of_birth else "",
            row.school,
            row.payer.replace("_", "-"),
            row.diagnoses,
            index.trends[position],
            _needs_cell(row.drafts, index.needs[position], row.archived),
        )

    def _is_muted(self, position: int) -> bool:
        return bool(self._shown_index.archived[position])

    def _apply_filter(self, keep_cursor: bool = False, selected: str | None = None) -> None:
        index = self._index
        if index is None:
            return
        query = self.query_one("#filter", Input).value
        if keep_cursor and selected is None:
            selected = self.selected_patient_id
        # Typing more narrows the rows already shown; anything else filters the whole caseload.
        narrowing = (not keep_cursor and self._shown_query is not None and query.startswith(self._shown_query)
                     and len(query.split()) >= len(self._shown_query.split()))
        self._shown = index.filter(query, within=self._shown if narrowing else None)
        self._shown_query = query
        self.table.set_rows(self._shown, cells=self._cells, is_muted=self._is_muted)
        if selected is not None:
            position = next((i for i, at in enumerate(self._shown) if index.ids[at] == selected), None)
            if position is not None:
                self.table.cursor = position
        self.query_one("#caseload-status", Static).update(self._status(query))

    def _status(self, query: str) -> str:
        index = self._shown_index
        if index.total == 0:
            return "No patients yet."
        shown = len(self._shown)
        if not query.strip():
            status = f"{index.total} patients"
        elif index.complete:
            status = f"{shown} of {index.total} patients"
        else:
            status = f"{shown} of the first {len(index)} of {index.total} patients (reading the rest…)"
        drafts = index.draft_count
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
        position = self._cursor_position()
        patient_id = self._shown_index.ids[position]
        row = self._row(position)
        name = row.name if row is not None else ""

        def open_chart() -> None:
            if self.services is not None:
                self.app.push_screen(screens.PatientScreen(self.services, patient_id, name))

        slpterm_app(self).when_ready(open_chart)

    def _cursor_position(self) -> int:
        """The index position of the row under the cursor (there must be shown rows)."""
        return self._shown[min(self.table.cursor, len(self._shown) - 1)]

    @property
    def patient_in_view(self) -> str | None:
        """The highlighted patient (F3 starts a session for them)."""
        return self.selected_patient_id

    @property
    def selected_patient_id(self) -> str | None:
        if self._index is None or not self._shown:
            return None
        return self._index.ids[self._cursor_position()]

    def find_patients(self, text: str, leave_out: set[str], limit: int = 8) -> list[tuple[str, str]]:
        """``(id, name)`` of up to ``limit`` active patients matching ``text`` as the filter does
        (for choosing group members); needs the data file to be open."""
        if self.services is None:
            raise LookupError("the data file is not open yet")
        return self.services.caseload.find_patients(text, leave_out, limit, index=self._index)

    def action_new_patient(self) -> None:
        if self.services is None:
            slpterm_app(self).when_ready(self.action_new_patient)
            return
        self.app.push_screen(screens.PatientForm().handed(self.services.charts), self._patient_created)

    def _patient_created(self, patient_id: str | None) -> None:
        if patient_id and self.services is not None:
            self.app.push_screen(screens.PatientScreen(self.services, patient_id))

    def action_import_patients(self) -> None:
        if self.services is None:
            slpterm_app(self).when_ready(self.action_import_patients)
            return
        self.app.push_screen(screens.ImportScreen(self.services.charts))

    def action_school(self) -> None:
        if self.services is None:
            slpterm_app(self).when_ready(self.action_school)
            return
        self.app.push_screen(screens.SchoolScreen(self.services))

    def action_today(self) -> None:
        if self.services is None:
            slpterm_app(self).when_ready(self.action_today)
            return
        self.app.push_screen(screens.TodayScreen(self.services))

    def action_move(self, delta: int) -> None:
        self.table.move_cursor(delta)

    def action_clear_filter(self) -> None:
        self.query_one("#filter", Input).value = ""

    def action_toggle_archived(self) -> None:
        self._include_archived = not self._include_archived
        self.reload()

    def on_screen_resume(self) -> None:
        if self.services is not None and self.services.caseload.generation() != self._loaded_generation:
            self.reload()
        self.query_one("#filter", Input).focus()

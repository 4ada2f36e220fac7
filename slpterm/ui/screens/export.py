"""The export screen: choose a range and a format, see what is ready or held back, write the files."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import (
    Button,
    Checkbox,
    Footer,
    Header,
    Input,
    Label,
    Select,
    Static,
)

from slpterm.export.formats import format_options
from slpterm.services.session_flow import FINDING_FIXES, fix_hint, fix_places
from slpterm.ui.widgets.virtual_table import Column, VirtualTable

if TYPE_CHECKING:
    from slpterm.services.clinic import ClinicServices

FOLDER_SETTING = "export_folder"
SESSION_COLUMNS = [
    Column("Status", 10),
    Column("Date", 10),
    Column("Patient", 24),
    Column("Codes", 26, hide_order=2),
    Column("Charge", 9, hide_order=1),
    Column("Reason", 0),
]
BATCH_COLUMNS = [
    Column("Batch", 7),
    Column("When", 16),
    Column("Format", 9),
    Column("Range", 23),
    Column("By", 20),
    Column("Files", 0),
]


def default_folder() -> Path:
    return Path.home() / "slpterm-exports"


def _parse_date(text: str, label: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{label} date {text!r} is not a date: write it as YYYY-MM-DD, or leave it empty.") from None


class ExportScreen(Screen):
    """Empty dates mean everything signed; ctrl+r reloads, ctrl+e writes the files."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="export.back"),
        Binding("ctrl+e", "export", "Export", id="export.run", priority=True),
        Binding("ctrl+r", "reload", "Reload", id="export.reload", priority=True),
        Binding("ctrl+f", "billing_facts", "Fix a finding", id="export.billing_facts", priority=True),
    ]
    DEFAULT_CSS = """
    #export { height: 1fr; padding: 0 1; }
    #export-options, #export-target { height: auto; }
    #export-include { margin: 0 1; }
    #export-options Label, #export-target Label { padding: 0 1; color: $text-muted; }
    #export-from, #export-to { width: 14; }
    #export-format { width: 36; }
    #export-folder { width: 1fr; }
    #export-target Button { margin-left: 1; min-width: 16; }
    #export-summary { height: auto; }
    #export-sessions { height: 2fr; min-height: 4; }
    #export-detail { height: auto; max-height: 6; color: $text-muted; padding: 0 1; }
    #export-result { height: auto; padding: 0 1; }
    #export-result.failed { color: $error; }
    #export-batches-title { text-style: bold; color: $text-accent; }
    #export-batches { height: 1fr; min-height: 3; max-height: 8; }
    """

    def __init__(self, services: ClinicServices) -> None:
        super().__init__()
        self.services = services
        self._encounters: list = []
        self._rows: list[tuple] = []  # (status, encounter, reasons)
        self._exported_ids: set[str] = set()
        self._loaded_range: tuple[date | None, date | None] = (None, None)
        self.result_text = ""
        self._result_failed = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="export"):
            with Horizontal(id="export-options"):
                yield Label("From")
                yield Input(placeholder="YYYY-MM-DD", id="export-from", compact=True)
                yield Label("To")
                yield Input(placeholder="YYYY-MM-DD", id="export-to", compact=True)
                yield Label("Format")
                yield Select(format_options(), value="csv", allow_blank=False, id="export-format", compact=True)
            yield Checkbox("Include already exported", id="export-include", compact=True)
            with Horizontal(id="export-target"):
                yield Label("Folder")
                yield Input(str(default_folder()), id="export-folder", compact=True)
                yield Button("Reload (ctrl+r)", id="export-reload", compact=True)
                yield Button("Export (ctrl+e)", id="export-run", variant="primary", compact=True)
            yield Static("Loading signed sessions…", id="export-summary")
            yield VirtualTable(SESSION_COLUMNS, id="export-sessions")
            yield Static("", id="export-detail", markup=False)
            yield Static("", id="export-result", markup=False)
            yield Static("Past batches", id="export-batches-title")
            yield VirtualTable(BATCH_COLUMNS, id="export-batches")
        yield Footer()

    # -- loading ------------------------------------------------------------------------------
    def on_mount(self) -> None:
        folder = self.services.clinic.setting(FOLDER_SETTING)
        if folder:
            self.query_one("#export-folder", Input).value = folder
        self.action_reload()

    def _date_range(self) -> tuple[date | None, date | None] | None:
        """The From/To dates as typed, or None after showing what is wrong with them."""
        try:
            date_from = _parse_date(self.query_one("#export-from", Input).value, "From")
            date_to = _parse_date(self.query_one("#export-to", Input).value, "To")
        except ValueError as error:
            self._show_result(str(error), failed=True)
            return None
        if date_from and date_to and date_from > date_to:
            self._show_result("The From date is after the To date.", failed=True)
            return None
        return date_from, date_to

    def action_reload(self) -> None:
        chosen = self._date_range()
        if chosen is None:
            return
        date_from, date_to = chosen
        self._show_result("")
        self.query_one("#export-summary", Static).update("Loading signed sessions…")
        self._load(date_from, date_to)

    @work(thread=True, exclusive=True, group="export-load")
    def _load(self, date_from: date | None, date_to: date | None) -> None:
        exports = self.services.exports
        batches = exports.batches()
        exported = exports.exported_participant_ids()
        try:
            # every signed encounter in the range, exported or not (the screen marks the exported ones)
            encounters = exports.encounters(date_from, date_to, include_exported=True)
        except ImportError:
            encounters = None
        except Exception as error:  # noqa: BLE001 - shown to the user instead of closing the app
            self.app.call_from_thread(self._show_result, f"The signed sessions could not be loaded: {error}", True)
            encounters = []
        self.app.call_from_thread(self._loaded, encounters, exported, batches, (date_from, date_to))

    def _loaded(self, encounters, exported: set[str], batches: list, loaded_range) -> None:  # noqa: ANN001
        if encounters is None:
            self.query_one("#export-summary", Static).update(
                "Coded sessions cannot be loaded in this installation.")
            encounters = []
        self._encounters = list(encounters)
        self._exported_ids = exported
        self._loaded_range = loaded_range
        self._fill_sessions()
        self._fill_batches(batches)

    # -- the session list -----------------------------------------------------------------------
    @property
    def format(self) -> str:
        value = self.query_one("#export-format", Select).value
        return value if isinstance(value, str) else "csv"

    @property
    def include_exported(self) -> bool:
        return self.query_one("#export-include", Checkbox).value

    def _fill_sessions(self) -> None:
        from slpterm.export.batch import select_encounters
        from slpterm.export.common import money, patient_name

        selection = select_encounters(self._encounters, self.format, include_exported=self.include_exported,
                                      exported_ids=self._exported_ids)
        rows: list[tuple] = []
        rows += [("ready", encounter, ()) for encounter in selection.ready]
        rows += [("held", held.encounter, held.reasons) for held in selection.held]
        rows += [("exported", encounter, ()) for encounter in selection.already_exported]
        rows.sort(key=lambda row: (row[1].date_of_service, patient_name(row[1]), row[1].participant_id))
        self._rows = rows
        cells = []
        for status, encounter, reasons in rows:
            codes = " ".join(line.code + ("-" + "-".join(line.modifiers) if line.modifiers else "")
                             for line in encounter.coding.lines)
            reason = reasons[0].message if reasons else ("in an earlier batch" if status == "exported" else "")
            label = {"ready": "ready", "held": "HELD", "exported": "exported"}[status]
            cells.append((label, encounter.date_of_service.isoformat(), patient_name(encounter), codes,
                          money(encounter.total_charge), reason))
        table = self.query_one("#export-sessions", VirtualTable)
        table.set_rows(cells, muted={i for i, row in enumerate(rows) if row[0] == "exported"})
        summary = (f"{len(selection.ready)} ready · {len(selection.held)} held back by scrubber errors or missing "
                   f"data · {len(selection.already_exported)} already exported")
        if not self._encounters:
            summary = "No signed sessions in this range."
        self.query_one("#export-summary", Static).update(summary)
        self._show_detail(table.cursor)

    def _show_detail(self, index: int) -> None:
        detail = self.query_one("#export-detail", Static)
        if not 0 <= index < len(self._rows):
            detail.update("")
            return
        status, encounter, reasons = self._rows[index]
        shown = self._shown_findings(index)
        hint = ("\n" + fix_hint(shown, signed=True)) if any(f.code in FINDING_FIXES for f in shown) else ""
        if reasons:
            detail.update("\n".join(f"• {reason.message}" + (f"  Fix: {reason.fix}" if reason.fix else "")
                                    for reason in reasons) + hint)
        elif status == "exported":
            detail.update("Already in an earlier batch; tick 'Include already exported' to send it again.")
        else:
            warnings = encounter.coding.warnings
            detail.update("\n".join(f"Warning: {w.message}" for w in warnings) + hint if warnings else "")

    def _shown_findings(self, index: int) -> tuple:
        """The findings the detail shows for row ``index``: a held claim's errors, else its warnings."""
        status, encounter, _ = self._rows[index]
        if status == "exported":
            return ()
        return tuple(encounter.coding.errors if status == "held" else encounter.coding.warnings)

    @on(VirtualTable.CursorMoved)
    def _cursor_moved(self, event: VirtualTable.CursorMoved) -> None:
        if event.table.id == "export-sessions":
            self._show_detail(event.index)

    def _fill_batches(self, batches: list) -> None:
        rows = []
        for batch in batches:
            created = batch.created_at.astimezone().strftime("%Y-%m-%d %H:%M") if batch.created_at else ""
            span = f"{batch.range_from or '…'} to {batch.range_to or '…'}"
            rows.append((f"{batch.control_number or 0:06d}", created, batch.format, span, batch.created_by,
                         batch.file_names.replace("\n", ", ")))
        self.query_one("#export-batches", VirtualTable).set_rows(rows)

    @on(Select.Changed, "#export-format")
    @on(Checkbox.Changed, "#export-include")
    def _options_changed(self) -> None:
        self._fill_sessions()

    @on(Input.Submitted, "#export-from")
    @on(Input.Submitted, "#export-to")
    @on(Button.Pressed, "#export-reload")
    def _reload_requested(self) -> None:
        self.action_reload()

    # -- exporting ------------------------------------------------------------------------------
    @on(Button.Pressed, "#export-run")
    def _export_pressed(self) -> None:
        self.action_export()

    def action_export(self) -> None:
        chosen = self._date_range()
        if chosen is None:
            return
        date_from, date_to = chosen
        if (date_from, date_to) != self._loaded_range:
            self._show_result("The dates changed since the list was loaded: press ctrl+r to reload first.",
                              failed=True)
            return
        folder = self.query_one("#export-folder", Input).value.strip()
        if not folder:
            self._show_result("Choose a folder for the files.", failed=True)
            return
        self._show_result("Exporting…")
        self._run_export(list(self._encounters), self.format, Path(folder).expanduser(), date_from, date_to,
                         self.include_exported)

    @work(thread=True, exclusive=True, group="export-run")
    def _run_export(self, encounters: list, format: str, folder: Path, date_from: date | None,
                    date_to: date | None, include_exported: bool) -> None:
        from slpterm.export.batch import describe_held
        from slpterm.export.common import ExportError

        try:
            outcome = self.services.exports.run(encounters, format, folder, date_from=date_from, date_to=date_to,
                                                include_exported=include_exported)
        except ExportError as error:
            self.app.call_from_thread(self._show_result, str(error), True)
            return
        except Exception as error:  # noqa: BLE001 - shown to the user instead of closing the app
            self.app.call_from_thread(self._show_result, f"The export failed: {error}. Nothing was recorded.", True)
            return
        if outcome.ok:
            self.services.clinic.set_setting(FOLDER_SETTING, str(folder))
            lines = [f"Batch {outcome.control_number:06d}: wrote {len(outcome.exported_ids)} session(s) to "
                     + ", ".join(str(path) for path in outcome.files)]
            if outcome.held:
                lines.append(f"{len(outcome.held)} held back (listed above).")
            lines += [f"Warning: {warning}" for warning in outcome.warnings]
            self.app.call_from_thread(self._show_result, "\n".join(lines), False)
        else:
            lines = ["Nothing was exported."] + [f"• {problem}" for problem in outcome.problems]
            lines += [f"• {describe_held(held)}" for held in outcome.held[:3]]
            self.app.call_from_thread(self._show_result, "\n".join(lines), True)
        self.app.call_from_thread(self.action_reload_keep_result)

    def action_reload_keep_result(self) -> None:
        text, failed = self.result_text, self._result_failed
        self.action_reload()
        self._show_result(text, failed, notify=False)

    def _show_result(self, text: str, failed: bool = False, notify: bool = True) -> None:
        self.result_text, self._result_failed = text, failed
        result = self.query_one("#export-result", Static)
        result.update(text)
        result.set_class(failed, "failed")
        if text and failed and notify:
            self.notify(text.splitlines()[0], severity="error")

    def action_billing_facts(self) -> None:
        """Open where the highlighted claim's findings are fixed (its billing facts when none asks),
        then check it again."""
        from slpterm.ui.screens.finding_fixes import choose_fix, open_fix

        index = self.query_one("#export-sessions", VirtualTable).cursor
        if not 0 <= index < len(self._rows) or self._rows[index][0] == "exported":
            self.notify("Highlight a HELD or ready claim to fix what its findings ask for.")
            return
        participant_id = self._rows[index][1].participant_id
        choose_fix(self, fix_places(self._shown_findings(index), signed=True),
                   lambda place: open_fix(self, self.services, self.services.session_flow(), participant_id, place,
                                            self.action_reload))

    def on_screen_resume(self) -> None:
        if getattr(self, "_when_back", None) is not None:  # a form opened to fix a finding was left
            from slpterm.ui.screens.finding_fixes import back_on

            back_on(self)

    def action_back(self) -> None:
        self.app.pop_screen()

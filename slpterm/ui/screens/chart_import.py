"""Import a CSV patient list: a dry run lists every bad row; nothing is written until ctrl+s confirms."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static

if TYPE_CHECKING:
    from slpterm.services.charts import ChartService


class ImportScreen(Screen):
    """Enter (or ctrl+t) checks the file; ctrl+s imports the good rows; Esc goes back."""

    BINDINGS = [
        Binding("ctrl+t", "dry_run", "Check file", id="import.dry_run"),
        Binding("ctrl+s", "commit", "Import good rows", id="import.commit"),
        Binding("escape", "back", "Back", id="import.back"),
    ]

    def __init__(self, charts: ChartService) -> None:
        super().__init__()
        self.charts = charts
        self.result = None
        self._checked_path: Path | None = None

    def compose(self) -> ComposeResult:
        from slpterm.services.patient_import import column_help

        yield Header()
        with VerticalScroll(classes="chart-form"):
            yield Static("Import patients from a CSV file", classes="chart-form-title")
            yield Static(f"UTF-8 CSV with a header row. Columns: {column_help()}. Rows whose ID is already in "
                         "slpterm are reported, not duplicated.", classes="chart-form-intro", markup=False)
            yield Input(placeholder="path to the CSV file, then Enter", id="import-path")
            yield Static("", id="import-report", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#import-path", Input).focus()

    @on(Input.Submitted, "#import-path")
    def action_dry_run(self) -> None:
        text = self.query_one("#import-path", Input).value.strip()
        if not text:
            self._report("Type the path of the CSV file first.")
            return
        self.result = None
        self._report("Checking…")
        self._check(Path(text).expanduser())

    @work(thread=True, exclusive=True, group="import")
    def _check(self, path: Path) -> None:
        from slpterm.domain.errors import StoreError
        from slpterm.services.patient_import import report_lines

        try:
            result = self.charts.check_import(path)
        except (StoreError, OSError) as error:
            self.app.call_from_thread(self._report, f"The file cannot be checked: {error}")
            return
        lines = report_lines(result)
        if result.patients:
            lines.append(f"Nothing was written yet. Press ctrl+s to import the {len(result.patients)} good row(s).")
        else:
            lines.append("There is nothing to import.")
        self.app.call_from_thread(self._checked, path, result, "\n".join(lines))

    def _checked(self, path: Path, result, text: str) -> None:  # noqa: ANN001
        self.result = result
        self._checked_path = path
        self._report(text)

    def _report(self, text: str) -> None:
        self.query_one("#import-report", Static).update(text)

    def action_commit(self) -> None:
        current = Path(self.query_one("#import-path", Input).value.strip()).expanduser()
        if self.result is None or current != self._checked_path:
            self.notify("Check the file first (Enter): the import writes only rows a dry run found good.",
                        severity="warning")
            return
        if not self.result.patients:
            self.notify("There are no good rows to import.", severity="warning")
            return
        self._commit(self.result)

    @work(thread=True, exclusive=True, group="import")
    def _commit(self, result) -> None:  # noqa: ANN001
        from slpterm.domain.errors import StoreError

        try:
            report = self.charts.commit_import(result)
        except StoreError as error:
            self.app.call_from_thread(self._report, f"Nothing was imported: {error}")
            return
        message = f"Imported {report.created} patient(s)."
        if report.skipped_ids:
            message += f" Skipped (already present): {', '.join(report.skipped_ids)}."
        self.app.call_from_thread(self._committed, message)

    def _committed(self, message: str) -> None:
        self.result = None
        self._report(message)
        self.notify(message)

    def action_back(self) -> None:
        self.app.pop_screen()

"""The export screen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

PLANNED = """The export screen will write the coded encounter records of signed sessions
for a date range as CSV, JSON, a FHIR R4 Bundle or an X12 837P claim file, list the
sessions held back by scrubber errors with the reasons, and show past export batches
so nothing is billed twice.

It is not built yet."""


class ExportScreen(Screen):
    BINDINGS = [Binding("escape", "back", "Back", id="export.back")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(PLANNED, classes="placeholder", markup=False)
        yield Footer()

    def action_back(self) -> None:
        self.app.pop_screen()

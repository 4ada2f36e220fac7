"""The point-of-care session screen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

PLANNED = """The session screen will run a session while the patient is in the room:
a timer with minutes per disorder area, the techniques checklist, the patient's goals with
one-key trial tallies (correct, incorrect, no response; cue level) and live accuracy,
the SOAP note drafted from the tallies, signing, addenda, and the coded claim lines with
the scrubber's findings.

It is not built yet. Until then, signed sessions from the demo clinic can be read in
each patient's chart (Enter on the caseload)."""


class SessionScreen(Screen):
    BINDINGS = [Binding("escape", "back", "Back", id="session.back")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(PLANNED, classes="placeholder", markup=False)
        yield Footer()

    def action_back(self) -> None:
        self.app.pop_screen()

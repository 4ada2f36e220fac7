"""Every key of every screen, generated from the bindings themselves."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

INTRO = """slpterm keys. Global keys work everywhere; screen keys where the screen is shown.
Ctrl+P opens the command palette with every action. Esc closes this help."""


def _screens() -> list[tuple[str, type]]:
    from slpterm.ui.screens.caseload import CaseloadScreen
    from slpterm.ui.screens.export import ExportScreen
    from slpterm.ui.screens.patient import PatientScreen
    from slpterm.ui.screens.session import SessionScreen
    from slpterm.ui.screens.settings import FirstRunScreen, SettingsScreen
    from slpterm.ui.widgets.virtual_table import VirtualTable

    return [
        ("Caseload", CaseloadScreen),
        ("Patient list (caseload table)", VirtualTable),
        ("Patient chart", PatientScreen),
        ("Session", SessionScreen),
        ("Export", ExportScreen),
        ("Settings", SettingsScreen),
        ("First run", FirstRunScreen),
    ]


def _bindings(owner: type) -> list[Binding]:
    return [binding for binding in owner.BINDINGS if isinstance(binding, Binding)]


def key_sections(app) -> list[tuple[str, list[tuple[str, str]]]]:  # noqa: ANN001
    """(section title, [(key, description)]) for the app and each screen."""
    def rows(bindings: list[Binding]) -> list[tuple[str, str]]:
        return [(app.get_key_display(binding), binding.description) for binding in bindings]

    sections = [("Everywhere", rows(_bindings(type(app))) + [("ctrl+p", "Command palette")])]
    sections.extend((title, rows(_bindings(owner))) for title, owner in _screens())
    return sections


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "close", "Close help", id="help.close"),
                Binding("f1", "close", "Close help", show=False, id="help.close_f1")]

    def __init__(self, current: Screen | None = None) -> None:
        super().__init__()
        self._current = current

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(INTRO, id="help-intro", markup=False)
            for title, keys in key_sections(self.app):
                marker = " (this screen)" if self._current is not None and title.lower().startswith(
                    type(self._current).__name__.replace("Screen", "").lower()) else ""
                yield Static(f"{title}{marker}", classes="section-title")
                yield Static("\n".join(f"  {key:<14} {description}" for key, description in keys),
                             classes="section-body", markup=False)

    def on_mount(self) -> None:
        self.query_one("#help-box").focus()

    def action_close(self) -> None:
        self.dismiss()

"""Asked when the app is opened on a data directory that holds no clinic: a mistyped --data-dir
must not quietly become a new, empty clinic."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class NewClinicScreen(ModalScreen[bool]):
    """Dismissed with True to create a new clinic in the folder, False to quit."""

    DEFAULT_CSS = """
    NewClinicScreen { align: center middle; }
    #new-clinic-box { width: 80; height: auto; border: thick $warning; background: $panel; padding: 1 2; }
    #new-clinic-title { text-style: bold; margin-bottom: 1; }
    #new-clinic-text { margin-bottom: 1; }
    #new-clinic-buttons { height: auto; }
    #new-clinic-buttons Button { margin-right: 2; }
    """
    BINDINGS = [
        Binding("n", "create", "New clinic here", id="new_clinic.create"),
        Binding("q,escape", "quit_app", "Quit", id="new_clinic.quit"),
    ]

    def __init__(self, data_dir: Path) -> None:
        super().__init__()
        self.data_dir = data_dir

    def compose(self) -> ComposeResult:
        where = "does not exist" if not self.data_dir.exists() else "holds no slpterm data file"
        with Vertical(id="new-clinic-box"):
            yield Static("No clinic here", id="new-clinic-title")
            yield Static(
                f"The data directory {self.data_dir} {where}. If you meant your existing data, quit and check "
                "--data-dir or SLPTERM_DATA_DIR. To start a new, empty clinic in this folder, choose "
                "'New clinic here'.", id="new-clinic-text", markup=False)
            with Horizontal(id="new-clinic-buttons"):
                yield Button("Quit (q)", id="new-clinic-quit", variant="primary")
                yield Button("New clinic here (n)", id="new-clinic-create")

    def on_mount(self) -> None:
        self.query_one("#new-clinic-quit", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "new-clinic-create")

    def action_create(self) -> None:
        self.dismiss(True)

    def action_quit_app(self) -> None:
        self.dismiss(False)

"""A modal that states a problem in plain words."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class MessageScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "close", "Close", id="message.close")]

    def __init__(self, title: str, message: str, *, quit_on_close: bool = False) -> None:
        super().__init__()
        self._title = title
        self._message = message
        self._quit_on_close = quit_on_close

    def compose(self) -> ComposeResult:
        with Vertical(id="message-box"):
            yield Static(self._title, id="message-title")
            yield Static(self._message, id="message-text", markup=False)
            yield Button("Quit" if self._quit_on_close else "Close", id="message-close", variant="primary")

    def on_mount(self) -> None:
        self.query_one(Button).focus()

    def on_button_pressed(self) -> None:
        self.action_close()

    def action_close(self) -> None:
        if self._quit_on_close:
            self.app.exit(return_code=2, message=self._message)
        else:
            self.dismiss()

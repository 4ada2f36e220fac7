"""Esc on something typed and not saved asks first: nothing typed is thrown away by one key."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Static


class DiscardScreen(ModalScreen[bool]):
    """Enter or Esc keeps editing (so a second Esc typed ahead never discards); ctrl+y discards."""

    BINDINGS = [
        Binding("escape", "keep", "Keep editing", id="discard.keep"),
        Binding("enter", "keep", "Keep editing", show=False, id="discard.keep_enter"),
        Binding("ctrl+y", "discard", "Discard", id="discard.discard"),
    ]

    def __init__(self, what: str, question: str | None = None) -> None:
        super().__init__()
        self.what = what
        self.question = question or f"Discard {what}? It is not saved."

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="discard-box"):
            yield Static(self.question, classes="section-title", markup=False)
            yield Static("Enter or Esc: keep editing    ctrl+y: discard it", markup=False)

    def action_keep(self) -> None:
        self.dismiss(False)

    def action_discard(self) -> None:
        self.dismiss(True)


def close_unless_kept(screen: Screen, *, dirty: bool, what: str, close: Callable[[], object]) -> None:
    """Run ``close`` at once when nothing was typed, else once the clinician chose to discard."""
    if not dirty:
        close()
        return
    def chosen(discard: bool | None) -> None:
        if discard:
            close()

    screen.app.push_screen(DiscardScreen(what), chosen)

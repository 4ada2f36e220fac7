"""A read-only table that renders only the rows on screen, so 100,000 rows cost nothing to show."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.segment import Segment
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from slpterm.domain.text import printable


@dataclass(frozen=True)
class Column:
    title: str
    width: int  # 0 = take the remaining width
    # On a narrow terminal columns are hidden, highest first, until the flexible ones get at
    # least MIN_FLEXIBLE_WIDTH; 0 = always shown.
    hide_order: int = 0


MIN_FLEXIBLE_WIDTH = 14


class VirtualTable(ScrollView, can_focus=True):
    """Rows are tuples of strings; the cursor row is highlighted; Enter chooses it."""

    DEFAULT_CSS = """
    VirtualTable { background: $surface; }
    VirtualTable > .virtual-table--header { text-style: bold; color: $text-accent; }
    VirtualTable > .virtual-table--cursor { background: $accent 40%; text-style: bold; }
    VirtualTable:focus > .virtual-table--cursor { background: $accent; color: $text; }
    VirtualTable > .virtual-table--muted { color: $text-muted; }
    """
    COMPONENT_CLASSES = {"virtual-table--header", "virtual-table--cursor", "virtual-table--muted"}
    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False, id="table.up"),
        Binding("down", "cursor(1)", "Down", show=False, id="table.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="table.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="table.page_down"),
        Binding("home", "jump(0)", "First", show=False, id="table.first"),
        Binding("end", "jump(-1)", "Last", show=False, id="table.last"),
        Binding("enter", "choose", "Open", id="table.choose"),
    ]

    cursor = reactive(0, always_update=True)

    class RowChosen(Message):
        def __init__(self, table: VirtualTable, index: int) -> None:
            super().__init__()
            self.table = table
            self.index = index

        @property
        def control(self) -> VirtualTable:
            return self.table

    class CursorMoved(Message):
        def __init__(self, table: VirtualTable, index: int) -> None:
            super().__init__()
            self.table = table
            self.index = index

        @property
        def control(self) -> VirtualTable:
            return self.table

    def __init__(self, columns: Sequence[Column], *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.columns = list(columns)
        self._rows: Sequence = []
        self._muted: set[int] = set()
        self._cells: Callable[[Any], Sequence[str]] | None = None
        self._is_muted: Callable[[Any], bool] | None = None

    @property
    def row_count(self) -> int:
        return len(self._rows)

    def set_rows(self, rows: Sequence, muted: set[int] | None = None, *,
                 cells: Callable[[Any], Sequence[str]] | None = None,
                 is_muted: Callable[[Any], bool] | None = None) -> None:
        """Show ``rows``: tuples of strings, or any objects with ``cells(row)`` giving their strings.

        With ``cells`` the rows are formatted only when drawn, so 100,000 rows cost nothing to show.
        """
        self._rows = rows
        self._muted = muted or set()
        self._cells = cells
        self._is_muted = is_muted
        self.virtual_size = Size(self.size.width, len(rows) + 1)
        self.cursor = min(self.cursor, max(len(rows) - 1, 0))
        self.scroll_to(y=0, animate=False)
        self.refresh()

    # -- geometry ---------------------------------------------------------------------------
    def _widths(self) -> list[int]:
        """Each column's width; 0 for a column hidden because the terminal is too narrow."""
        shown = list(self.columns)
        flexible = [column for column in self.columns if not column.width]
        for column in sorted((c for c in self.columns if c.hide_order), key=lambda c: -c.hide_order):
            fixed = sum(c.width + 1 for c in shown if c.width)
            if self.size.width - fixed >= MIN_FLEXIBLE_WIDTH * max(len(flexible), 1):
                break
            shown.remove(column)
        fixed = sum(column.width + 1 for column in shown if column.width)
        remaining = max(self.size.width - fixed, 10)
        share = remaining // max(len(flexible), 1)
        return [(column.width or share) if column in shown else 0 for column in self.columns]

    def _format(self, cells: Sequence[str]) -> str:
        parts = []
        for cell, width in zip(cells, self._widths()):
            if not width:
                continue
            text = printable(cell)
            parts.append(text[: width - 1] + "…" if len(text) > width else text.ljust(width))
        return " ".join(parts)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            style = self.get_component_rich_style("virtual-table--header")
            text = self._format([column.title for column in self.columns])
            return Strip([Segment(text[:width].ljust(width), style)])
        scroll_y = round(self.scroll_offset.y)
        index = scroll_y + y - 1
        base = self.rich_style
        if index >= len(self._rows):
            return Strip([Segment(" " * width, base)])
        row = self._rows[index]
        text = self._format(self._cells(row) if self._cells else row)[:width].ljust(width)
        if index == self.cursor:
            style = base + self.get_component_rich_style("virtual-table--cursor")
        elif index in self._muted or (self._is_muted is not None and self._is_muted(row)):
            style = base + self.get_component_rich_style("virtual-table--muted")
        else:
            style = base
        return Strip([Segment(text, style)])

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(event.size.width, len(self._rows) + 1)

    # -- cursor -----------------------------------------------------------------------------
    @property
    def _visible_rows(self) -> int:
        return max(self.size.height - 1, 1)

    def watch_cursor(self, old: int, new: int) -> None:
        top = round(self.scroll_offset.y)
        if new < top:
            self.scroll_to(y=new, animate=False)
        elif new >= top + self._visible_rows:
            self.scroll_to(y=new - self._visible_rows + 1, animate=False)
        self.refresh()
        self.post_message(self.CursorMoved(self, new))

    def move_cursor(self, delta: int) -> None:
        if self._rows:
            self.cursor = max(0, min(len(self._rows) - 1, self.cursor + delta))

    def action_cursor(self, delta: int) -> None:
        self.move_cursor(delta)

    def action_page(self, direction: int) -> None:
        self.move_cursor(direction * self._visible_rows)

    def action_jump(self, where: int) -> None:
        if self._rows:
            self.cursor = 0 if where == 0 else len(self._rows) - 1

    def action_choose(self) -> None:
        if self._rows:
            self.post_message(self.RowChosen(self, self.cursor))

    def on_click(self, event: events.Click) -> None:
        index = round(self.scroll_offset.y) + event.y - 1
        if 0 <= index < len(self._rows):
            self.cursor = index
            if event.chain >= 2:
                self.action_choose()

"""Accuracy per session as a small bar chart with the goal's target as a dotted line."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

from slpterm.reports.charts import AXIS, BAR, BAR_MET, TARGET, plot_cells

_STYLES = {BAR: "bold #e0a030", BAR_MET: "bold #3cb371", TARGET: "#e05050", AXIS: "dim"}


def chart_text(values: Sequence[int], target: int, height: int = 6, dates: Sequence[str] = ()) -> Text:
    """The chart as Rich text; ``dates`` (MM-DD) label the first and last bar under the axis."""
    text = Text()
    for row in plot_cells(values, target, height):
        for char, kind in row:
            text.append(char, _STYLES.get(kind, ""))
        text.append("\n")
    if dates:
        axis = "     " + dates[0]
        if len(dates) > 1:
            end = 5 + 3 * (len(dates) - 1)
            axis = axis.ljust(max(end, len(axis) + 1)) + dates[-1]
        text.append(axis, "dim")
    else:
        text.append("     no sessions with trials in the period", "dim")
    return text


class ProgressChart(Static):
    """Displays one goal's accuracies; call ``show(values, target, dates)`` to redraw."""

    DEFAULT_CSS = "ProgressChart { height: auto; padding: 0 1; }"

    def __init__(self, values: Sequence[int] = (), target: int = 80, dates: Sequence[str] = (),
                 *, height: int = 6, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(chart_text(values, target, height, dates), id=id, classes=classes)
        self._height = height

    def show(self, values: Sequence[int], target: int, dates: Sequence[str] = ()) -> None:
        self.update(chart_text(values, target, self._height, dates))

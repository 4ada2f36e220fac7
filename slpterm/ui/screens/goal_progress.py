"""One goal's progress, opened with t from a goal on the chart: accuracy per signed session as a
bar chart with the criterion line, the cue level of each session, and when the criterion was met."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from slpterm.reports.charts import (
    AXIS,
    BAR,
    BAR_MET,
    CUE,
    MET,
    TARGET,
    goal_chart_cells,
)

if TYPE_CHECKING:
    from slpterm.reports.goal_series import GoalSeries
    from slpterm.services.charts import ChartService

CHART_HEIGHT = 10
_STYLES = {BAR: "bold #e0a030", BAR_MET: "bold #3cb371", TARGET: "#e05050", AXIS: "dim", CUE: "bold",
           MET: "bold #3cb371"}
CUE_LEGEND = "cue (most given in the session): 1 independent · 2 minimal · 3 moderate · 4 maximal"


def chart_text(series: GoalSeries, width: int) -> Text:
    """The goal's chart as Rich text: bars, the criterion line, the cue row, the met marker, dates."""
    text = Text()
    if not series.points:
        text.append("No signed session has trials on this goal yet.", "dim")
        return text
    rows, first, step = goal_chart_cells(series.accuracies, series.target, series.cue_digits, series.met_index,
                                         height=CHART_HEIGHT, width=width)
    for row in rows:
        for char, kind in row:
            text.append(char, _STYLES.get(kind, ""))
        text.append("\n")
    shown = series.points[first:]
    axis = "     " + shown[0].day.isoformat()
    if len(shown) > 1:
        last = shown[-1].day.isoformat()
        last_column = 5 + step * (len(shown) - 1) + step - 1  # the right edge of the newest bar
        axis = axis.ljust(max(last_column + 1 - len(last), len(axis) + 2)) + last
    text.append(axis + "\n", "dim")
    if first:
        text.append(f"     the newest {len(shown)} of {len(series.points)} sessions\n", "dim")
    return text


def sessions_text(series: GoalSeries) -> Text:
    """The numbers behind the chart, one session a line, newest first."""
    text = Text()
    for index in reversed(range(len(series.points))):
        point = series.points[index]
        cue = point.cue.value if point.cue else "—"
        line = f"  {point.day.isoformat()}  {point.correct:>3}/{point.total:<3} {point.accuracy:>3}%  {cue}"
        text.append(line, "bold" if point.accuracy >= series.target else "")
        if index == series.met_index:
            text.append(f"  ▲ criterion met ({series.criterion_sessions} in a row at {series.target}% or more)",
                        "bold #3cb371")
        text.append("\n")
    return text


class GoalProgressScreen(Screen):
    """Esc goes back to the chart."""

    BINDINGS = [Binding("escape", "back", "Back to chart", id="goal_progress.back")]

    def __init__(self, charts: ChartService, patient_id: str, goal_id: str, name: str = "") -> None:
        super().__init__()
        self.charts = charts
        self.patient_id = patient_id
        self.goal_id = goal_id
        self.series: GoalSeries | None = None
        self._pending = True
        if name:
            self.sub_title = name

    @property
    def holds_keys(self) -> bool:
        return self._pending

    @property
    def patient_in_view(self) -> str | None:
        return self.patient_id

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="goal-progress"):
            yield Static("Reading the goal's sessions…", id="goal-progress-title")
            yield Static("", id="goal-progress-chart")
            yield Static(CUE_LEGEND, id="goal-progress-legend")
            yield Static("", id="goal-progress-sessions")
        yield Footer()

    def on_mount(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="goal-progress")
    def _load(self) -> None:
        from slpterm.domain.errors import StoreError

        try:
            series = self.charts.goal_series(self.patient_id, self.goal_id)
        except StoreError as error:
            self.app.call_from_thread(self._failed, str(error))
            return
        self.app.call_from_thread(self._loaded, series)

    def _failed(self, message: str) -> None:
        self._pending = False
        self.query_one("#goal-progress-title", Static).update(message)
        self.notify(message, severity="error")

    def _loaded(self, series: GoalSeries) -> None:
        self._pending = False
        self.series = series
        title = Text(series.text + "\n", "bold")
        title.append(series.criterion_text, "bold #3cb371" if series.met_on else "")
        title.append(f" · {len(series.points)} signed session{'s' if len(series.points) != 1 else ''} with trials")
        self.query_one("#goal-progress-title", Static).update(title)
        self._draw()
        self.query_one("#goal-progress-sessions", Static).update(sessions_text(series))

    def _draw(self) -> None:
        if self.series is not None:
            width = max(self.size.width - 4, 20)
            self.query_one("#goal-progress-chart", Static).update(chart_text(self.series, width))

    def on_resize(self, event: events.Resize) -> None:
        self._draw()

    def action_back(self) -> None:
        self.app.pop_screen()

"""The goals of the session with one-key trial tallies.

The widget only displays and posts messages; the session screen stores each trial.
"""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.geometry import Region
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from slpterm.services.session_flow import GoalLine

CUE_KEYS = {"1": "independent", "2": "minimal", "3": "moderate", "4": "maximal"}


class GoalTally(Widget, can_focus=True):
    """↑/↓ choose a goal; c correct, x incorrect, n no response; 1-4 cue level; u or ⌫ undo."""

    DEFAULT_CSS = """
    GoalTally { height: auto; min-height: 3; padding: 0 1; }
    GoalTally:focus { background: $boost; }
    """
    BINDINGS = [
        Binding("up", "move(-1)", "Previous goal", show=False, id="tally.up"),
        Binding("down", "move(1)", "Next goal", show=False, id="tally.down"),
        Binding("c", "trial('correct')", "Correct", show=False, id="tally.correct"),
        Binding("x", "trial('incorrect')", "Incorrect", show=False, id="tally.incorrect"),
        Binding("n", "trial('no_response')", "No response", show=False, id="tally.no_response"),
        Binding("1", "cue('1')", "Independent", show=False, id="tally.cue_independent"),
        Binding("2", "cue('2')", "Minimal cues", show=False, id="tally.cue_minimal"),
        Binding("3", "cue('3')", "Moderate cues", show=False, id="tally.cue_moderate"),
        Binding("4", "cue('4')", "Maximal cues", show=False, id="tally.cue_maximal"),
        Binding("u,backspace", "undo", "Undo trial", show=False, id="tally.undo"),
        Binding("space", "toggle_addressed", "Worked on", show=False, id="tally.addressed"),
    ]

    cursor = reactive(0)
    cue_level = reactive("independent")
    locked = reactive(False)

    class Trial(Message):
        def __init__(self, goal_id: str, result: str, cue_level: str) -> None:
            super().__init__()
            self.goal_id = goal_id
            self.result = result
            self.cue_level = cue_level

    class Undo(Message):
        def __init__(self, goal_id: str) -> None:
            super().__init__()
            self.goal_id = goal_id

    class ToggleAddressed(Message):
        def __init__(self, goal_id: str) -> None:
            super().__init__()
            self.goal_id = goal_id

    class CueChanged(Message):
        def __init__(self, cue_level: str) -> None:
            super().__init__()
            self.cue_level = cue_level

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: list[GoalLine] = []
        # goal id -> the cue level a goal starts at (carried forward from the last session): the
        # cursor reaching a goal without trials today sets it
        self.start_cues: dict[str, str] = {}
        self._shown = False

    def show(self, lines: list[GoalLine]) -> None:
        self.lines = lines
        self.cursor = min(self.cursor, max(len(lines) - 1, 0))
        if not self._shown:
            self._shown = True
            self._start_cue()
        self.refresh(layout=True)

    def _start_cue(self) -> None:
        line = self.selected
        if line is not None and not line.total and line.goal_id in self.start_cues:
            self.cue_level = self.start_cues[line.goal_id]

    @property
    def selected(self) -> GoalLine | None:
        return self.lines[self.cursor] if self.lines else None

    def render(self) -> Text:
        text = Text()
        if not self.lines:
            text.append("No active plan-of-care goals. Add goals in the patient's chart.", style="italic")
            return text
        text.append(f"Cue for next trials: {self.cue_level} (1-4)\n", style="bold")
        for index, line in enumerate(self.lines):
            marker = "▶" if index == self.cursor else " "
            check = "✓" if line.addressed else " "
            style = "reverse" if index == self.cursor and self.has_focus else ("bold" if index == self.cursor else "")
            # One line per goal (the full text is in the chart), so every goal and its tally stay in view.
            label = f"{marker}{check} {index + 1}. {line.label}"
            width = max(self.size.width, 20)
            if len(label) > width:
                label = label[: width - 1] + "…"
            text.append(label + "\n", style=style)
            detail = f"     {line.correct}/{line.total} {line.accuracy}"
            if line.by_cue:
                detail += f"  ({line.by_cue})"
            text.append(detail + "\n", style="dim" if not line.total else "")
        return text

    def get_content_height(self, container, viewport, width) -> int:  # noqa: ANN001
        return 1 + 2 * max(len(self.lines), 1)

    def action_move(self, delta: int) -> None:
        if self.lines:
            self.cursor = max(0, min(len(self.lines) - 1, self.cursor + delta))
            self._start_cue()
            self.refresh()

    def watch_cursor(self, cursor: int) -> None:
        if isinstance(self.parent, Widget) and self.lines:
            self.parent.scroll_to_region(Region(0, 1 + 2 * cursor, max(self.size.width, 1), 2), animate=False)

    def _post_for_goal(self, message_type, *args) -> None:  # noqa: ANN001
        if self.locked:
            self.notify("This note is signed; trials cannot change.", severity="warning")
            return
        if self.selected is None:
            self.notify("No goal to tally; add goals to the plan of care first.", severity="warning")
            return
        self.post_message(message_type(self.selected.goal_id, *args))

    def action_trial(self, result: str) -> None:
        self._post_for_goal(self.Trial, result, self.cue_level)

    def action_undo(self) -> None:
        self._post_for_goal(self.Undo)

    def action_toggle_addressed(self) -> None:
        self._post_for_goal(self.ToggleAddressed)

    def action_cue(self, key: str) -> None:
        self.cue_level = CUE_KEYS[key]
        self.post_message(self.CueChanged(self.cue_level))

    def watch_cue_level(self) -> None:
        self.refresh()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

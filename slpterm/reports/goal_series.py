"""One goal's accuracy over time, for the chart's goal progress view (plain data, no UI).

Each point is one session with trials on the goal, in date order: its accuracy (as defined in
``slpterm.reports.model``) and the cue level given most often in it. ``met_on`` is the date of the
session that completed the first run of ``criterion_sessions`` consecutive sessions at or above the
target (the goal's criterion, e.g. 80% over 3 consecutive sessions); ``met_index`` is that point.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from slpterm.clinical.tally import percent, tally
from slpterm.domain.vocab import CueLevel
from slpterm.reports.model import GoalInput, criterion_index, main_cue

# One digit per cue level, the keys that set it when tallying.
CUE_DIGITS = {CueLevel.INDEPENDENT: "1", CueLevel.MINIMAL: "2", CueLevel.MODERATE: "3", CueLevel.MAXIMAL: "4"}


@dataclass(frozen=True)
class SeriesPoint:
    day: dt.date
    correct: int
    total: int
    cue: CueLevel | None

    @property
    def accuracy(self) -> int:
        return percent(self.correct, self.total) or 0


@dataclass(frozen=True)
class GoalSeries:
    goal_id: str
    text: str
    target: int
    criterion_sessions: int
    points: tuple[SeriesPoint, ...]
    met_index: int | None  # the point that met the criterion

    @property
    def met_on(self) -> dt.date | None:
        return None if self.met_index is None else self.points[self.met_index].day

    @property
    def accuracies(self) -> list[int]:
        return [point.accuracy for point in self.points]

    @property
    def cue_digits(self) -> str:
        """One digit per session: the cue level given most often (1 independent ... 4 maximal)."""
        return "".join(CUE_DIGITS[point.cue] if point.cue else " " for point in self.points)

    @property
    def criterion_text(self) -> str:
        rule = f"{self.target}% over {self.criterion_sessions} consecutive session{'s' if self.criterion_sessions != 1 else ''}"
        if self.met_on is not None:
            return f"criterion {rule}: met on {self.met_on.isoformat()}"
        return f"criterion {rule}: not met yet"


def goal_series(goal: GoalInput) -> GoalSeries:
    """The goal's accuracy and main cue level per session, and when its criterion was met."""
    points = []
    for session in sorted((session for session in goal.sessions if session.trials), key=lambda session: session.day):
        counted = tally(session.trials)
        points.append(SeriesPoint(session.day, counted.correct, counted.total, main_cue(session.trials)))
    met_index = criterion_index([point.accuracy for point in points], goal.target_accuracy, goal.criterion_sessions)
    return GoalSeries(goal_id=goal.goal_id, text=goal.text, target=goal.target_accuracy,
                      criterion_sessions=goal.criterion_sessions, points=tuple(points), met_index=met_index)

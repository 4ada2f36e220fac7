"""A progress report computed from plain data: the numbers of every goal over a reporting period.

Definitions used throughout:

- **Session accuracy**: correct trials / all trials of the goal in that session (no response counts
  as not correct), whole percent rounded half up. Sessions without trials on the goal are left out.
- **Trend**: the least-squares slope of session accuracy against session order, in percentage
  points per session. With fewer than two sessions there is no trend. ``improving`` from
  +``TREND_THRESHOLD`` up, ``declining`` from -``TREND_THRESHOLD`` down, ``stable`` between.
- **Criterion met**: ``criterion_sessions`` consecutive sessions (of those with trials, in date
  order) each at or above the target accuracy, anywhere in the period. ``met_on`` is the date of the
  session that completed the first such run.
- **Cue levels**: trials per cue level over the period, and the cue level given most often in the
  first and in the last session (the fading of support the report describes).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from slpterm.clinical.tally import (
    CUE_ORDER,
    Tally,
    TrialLike,
    percent,
    tally,
    tally_by_cue,
)
from slpterm.domain.vocab import CueLevel

TREND_THRESHOLD = 1.0  # percentage points per session


class Trend(StrEnum):
    IMPROVING = "improving"
    STABLE = "stable"
    DECLINING = "declining"
    NOT_ENOUGH_DATA = "not enough data"


@dataclass(frozen=True)
class GoalSession:
    """One session's trials on one goal."""

    day: dt.date
    trials: Sequence[TrialLike] = ()


@dataclass(frozen=True)
class GoalInput:
    goal_id: str
    text: str
    disorder_area: str = "language"
    baseline: str = ""
    target_accuracy: int = 80
    criterion_sessions: int = 3
    status: str = "active"
    term: str = "short"
    sessions: Sequence[GoalSession] = ()


@dataclass(frozen=True)
class SessionMinutes:
    """A session delivered in the period and its minutes (all disorder areas)."""

    day: dt.date
    minutes: int
    session_type: str = "individual_treatment"


@dataclass(frozen=True)
class ReportInput:
    """Everything a progress report needs, as plain values (the service gathers it from the store)."""

    patient_name: str
    period_start: dt.date
    period_end: dt.date
    written_on: dt.date
    goals: Sequence[GoalInput] = ()
    sessions: Sequence[SessionMinutes] = ()
    patient_id_text: str = ""
    date_of_birth: dt.date | None = None
    diagnoses: Sequence[str] = ()
    plan_start: dt.date | None = None
    plan_end: dt.date | None = None
    frequency: str = ""
    certifying_physician: str = ""
    clinic_name: str = ""
    clinician: str = ""
    assessment: str = ""
    plan_text: str = ""
    signed_at: dt.datetime | None = None
    signer_name: str = ""
    unsigned_sessions: int = 0


@dataclass(frozen=True)
class SessionPoint:
    day: dt.date
    correct: int
    total: int

    @property
    def accuracy(self) -> int:
        return percent(self.correct, self.total) or 0


@dataclass(frozen=True)
class GoalProgress:
    goal: GoalInput
    points: tuple[SessionPoint, ...]
    trend: Trend
    slope: float | None
    criterion_met: bool
    met_on: dt.date | None
    overall: Tally
    by_cue: dict[CueLevel, Tally] = field(default_factory=dict)
    first_cue: CueLevel | None = None
    last_cue: CueLevel | None = None

    @property
    def accuracies(self) -> list[int]:
        return [point.accuracy for point in self.points]

    @property
    def latest(self) -> int | None:
        return self.points[-1].accuracy if self.points else None

    @property
    def criterion_text(self) -> str:
        goal = self.goal
        rule = f"{goal.target_accuracy}% over {goal.criterion_sessions} consecutive sessions"
        if self.met_on is not None:
            return f"met on {self.met_on.isoformat()} ({rule})"
        return f"not met ({rule})"

    @property
    def cue_text(self) -> str:
        """E.g. 'moderate 12/20 (60%), minimal 18/20 (90%); moderate -> minimal'."""
        if not self.by_cue:
            return "no trials"
        parts = ", ".join(f"{cue.value} {part.fraction_text()}" for cue, part in self.by_cue.items())
        if self.first_cue and self.last_cue and self.first_cue != self.last_cue:
            parts += f"; support {self.first_cue.value} -> {self.last_cue.value}"
        return parts

    @property
    def trend_text(self) -> str:
        if self.slope is None:
            return self.trend.value
        return f"{self.trend.value} ({self.slope:+.1f} points per session)"


@dataclass(frozen=True)
class ProgressReportData:
    source: ReportInput
    goals: tuple[GoalProgress, ...]
    session_count: int
    total_minutes: int
    treatment_days: int

    @property
    def signed(self) -> bool:
        return self.source.signed_at is not None


def trend_of(accuracies: Sequence[int], threshold: float = TREND_THRESHOLD) -> tuple[Trend, float | None]:
    """The trend and least-squares slope (points per session) of a series of accuracies."""
    n = len(accuracies)
    if n < 2:
        return Trend.NOT_ENOUGH_DATA, None
    mean_x = (n - 1) / 2
    mean_y = sum(accuracies) / n
    numerator = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(accuracies))
    denominator = sum((x - mean_x) ** 2 for x in range(n))
    slope = numerator / denominator
    if slope >= threshold:
        return Trend.IMPROVING, slope
    if slope <= -threshold:
        return Trend.DECLINING, slope
    return Trend.STABLE, slope


def criterion_index(accuracies: Sequence[int], target: int, sessions: int) -> int | None:
    """Index of the session completing the first run of ``sessions`` consecutive sessions >= target."""
    run = 0
    for index, accuracy in enumerate(accuracies):
        run = run + 1 if accuracy >= target else 0
        if run >= max(sessions, 1):
            return index
    return None


def criterion_run(points: Sequence[SessionPoint], target: int, sessions: int) -> dt.date | None:
    """Date of the session completing the first run of ``sessions`` consecutive sessions >= target."""
    index = criterion_index([point.accuracy for point in points], target, sessions)
    return None if index is None else points[index].day


def main_cue(trials: Sequence[TrialLike]) -> CueLevel | None:
    counts = Counter(CueLevel(trial.cue) for trial in trials)
    if not counts:
        return None
    most = max(counts.values())
    # On a tie the more supportive level is named: the report must not overstate independence.
    return next(cue for cue in reversed(CUE_ORDER) if counts.get(cue) == most)


def goal_progress(goal: GoalInput, period_start: dt.date | None = None,
                  period_end: dt.date | None = None) -> GoalProgress:
    """The numbers of one goal over the sessions given (limited to the period when one is given)."""
    sessions = sorted(
        (s for s in goal.sessions if s.trials
         and (period_start is None or s.day >= period_start) and (period_end is None or s.day <= period_end)),
        key=lambda s: s.day,
    )
    points = []
    for session in sessions:
        counted = tally(session.trials)
        points.append(SessionPoint(session.day, counted.correct, counted.total))
    all_trials = [trial for session in sessions for trial in session.trials]
    trend, slope = trend_of([point.accuracy for point in points])
    met_on = criterion_run(points, goal.target_accuracy, goal.criterion_sessions)
    return GoalProgress(
        goal=goal,
        points=tuple(points),
        trend=trend,
        slope=slope,
        criterion_met=met_on is not None,
        met_on=met_on,
        overall=tally(all_trials),
        by_cue=tally_by_cue(all_trials),
        first_cue=main_cue(sessions[0].trials) if sessions else None,
        last_cue=main_cue(sessions[-1].trials) if sessions else None,
    )


def compute_report(source: ReportInput) -> ProgressReportData:
    """Every goal's progress and the sessions and minutes delivered in the period."""
    in_period = [s for s in source.sessions if source.period_start <= s.day <= source.period_end]
    return ProgressReportData(
        source=source,
        goals=tuple(goal_progress(goal, source.period_start, source.period_end) for goal in source.goals),
        session_count=len(in_period),
        total_minutes=sum(s.minutes for s in in_period),
        treatment_days=len({s.day for s in in_period}),
    )


def draft_assessment(report: ProgressReportData) -> str:
    """A first wording of the assessment from the numbers; the clinician edits it."""
    lines = []
    for number, goal in enumerate(report.goals, start=1):
        if not goal.points:
            lines.append(f"Goal {number} ({goal.goal.text}): not addressed with trial data this period.")
            continue
        first, last = goal.points[0].accuracy, goal.points[-1].accuracy
        status = "met criterion" if goal.criterion_met else "not yet at criterion"
        lines.append(
            f"Goal {number} ({goal.goal.text}): {first}% -> {last}% over {len(goal.points)} sessions, "
            f"{goal.trend.value}; {status}"
            + (f"; baseline {goal.goal.baseline}" if goal.goal.baseline else "") + "."
        )
    if any(goal.points for goal in report.goals):
        lines.append("Continued skilled intervention is medically necessary to reach the remaining goals.")
    return "\n".join(lines)


def draft_plan(report: ProgressReportData, frequency: str = "") -> str:
    met = [str(number) for number, goal in enumerate(report.goals, start=1) if goal.criterion_met]
    text = f"Continue the plan of care{(' ' + frequency) if frequency else ''}."
    if met:
        text += f" Goal{'s' if len(met) > 1 else ''} {', '.join(met)} met: advance or replace with the next step."
    else:
        text += " No goal changes."
    return text

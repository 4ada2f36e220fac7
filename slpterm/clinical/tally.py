"""Trial tallies: counts and accuracy per goal and per cue level.

A trial is anything with ``result`` (TrialResult) and ``cue`` (CueLevel) attributes; the store's
rows work as they are. "No response" counts as a trial that was not correct.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol, TypeVar

from slpterm.domain.vocab import CueLevel, TrialResult

CUE_ORDER: tuple[CueLevel, ...] = (CueLevel.INDEPENDENT, CueLevel.MINIMAL, CueLevel.MODERATE, CueLevel.MAXIMAL)

K = TypeVar("K", bound=Hashable)


class TrialLike(Protocol):
    @property
    def result(self) -> TrialResult: ...

    @property
    def cue(self) -> CueLevel: ...


@dataclass(frozen=True)
class Trial:
    result: TrialResult
    cue: CueLevel = CueLevel.INDEPENDENT


def percent(correct: int, total: int) -> int | None:
    """Whole percent, rounded half up (2/3 -> 67); None when there are no trials."""
    if total <= 0:
        return None
    return int((Decimal(correct) * 100 / Decimal(total)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Tally:
    correct: int = 0
    incorrect: int = 0
    no_response: int = 0

    @property
    def total(self) -> int:
        return self.correct + self.incorrect + self.no_response

    @property
    def accuracy(self) -> int | None:
        """Percent correct of all trials (no-response counts as not correct)."""
        return percent(self.correct, self.total)

    def fraction_text(self) -> str:
        """'18/20 (90%)', or '0/0' without trials."""
        accuracy = self.accuracy
        return f"{self.correct}/{self.total}" + ("" if accuracy is None else f" ({accuracy}%)")

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.correct + other.correct, self.incorrect + other.incorrect, self.no_response + other.no_response)


def tally(trials: Iterable[TrialLike]) -> Tally:
    """Count correct, incorrect and no-response trials."""
    correct = incorrect = no_response = 0
    for trial in trials:
        result = TrialResult(trial.result)
        if result == TrialResult.CORRECT:
            correct += 1
        elif result == TrialResult.INCORRECT:
            incorrect += 1
        else:
            no_response += 1
    return Tally(correct, incorrect, no_response)


def tally_by_cue(trials: Iterable[TrialLike]) -> dict[CueLevel, Tally]:
    """Tallies per cue level present, from independent to maximal."""
    groups: dict[CueLevel, list[TrialLike]] = {}
    for trial in trials:
        groups.setdefault(CueLevel(trial.cue), []).append(trial)
    return {cue: tally(groups[cue]) for cue in CUE_ORDER if cue in groups}


def tally_by_goal(trials_by_goal: Mapping[K, Iterable[TrialLike]]) -> dict[K, Tally]:
    """Tallies per goal key, in the mapping's order."""
    return {goal: tally(trials) for goal, trials in trials_by_goal.items()}

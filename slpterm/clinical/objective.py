"""Drafting the Objective part of a SOAP note from trial tallies and timed minutes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from slpterm.clinical.tally import TrialLike, tally, tally_by_cue
from slpterm.domain.vocab import CueLevel, DisorderArea

_AREA_WORDS = {
    DisorderArea.SPEECH_SOUND: "speech sound",
    DisorderArea.AAC: "AAC",
}


@dataclass(frozen=True)
class GoalTrials:
    """One goal worked on in a session and its trials.

    ``cue_type`` qualifies cue levels in the text ("verbal" -> "with minimal verbal cues").
    """

    label: str
    trials: Sequence[TrialLike] = field(default_factory=tuple)
    number: int | None = None
    cue_type: str = ""


def cue_phrase(cue: CueLevel, cue_type: str = "") -> str:
    """'independently' or 'with moderate verbal cues'."""
    if cue == CueLevel.INDEPENDENT:
        return "independently"
    words = " ".join(part for part in (cue.value, cue_type.strip(), "cues") if part)
    return f"with {words}"


def area_words(area: DisorderArea | str) -> str:
    area = DisorderArea(area)
    return _AREA_WORDS.get(area, area.value.replace("_", " "))


def goal_line(goal: GoalTrials) -> str:
    """One goal's result, e.g. 'Goal 2, /r/ initial: 18/20 trials (90%) with minimal verbal cues'."""
    label = goal.label.rstrip(" .")
    name = f"Goal {goal.number}, {label}" if goal.number is not None else label
    overall = tally(goal.trials)
    if overall.total == 0:
        return f"{name}: addressed; no trial data recorded"
    by_cue = tally_by_cue(goal.trials)
    text = f"{name}: {overall.fraction_text().replace(' (', ' trials (', 1)}"
    if len(by_cue) == 1:
        (cue,) = by_cue
        text += f" {cue_phrase(cue, goal.cue_type)}"
    else:
        parts = [f"{part.fraction_text()} {cue_phrase(cue, goal.cue_type)}" for cue, part in by_cue.items()]
        text += ": " + ", ".join(parts)
    if overall.no_response:
        text += f"; {overall.no_response} no response" + ("s" if overall.no_response > 1 else "")
    return text


def minutes_text(total_minutes: int | None, minutes_by_area: Mapping[DisorderArea | str, int] | None = None) -> str:
    """'32 minutes total' with a per-area breakdown when more than one area has minutes."""
    if not total_minutes:
        return ""
    unit = "minute" if total_minutes == 1 else "minutes"
    text = f"{total_minutes} {unit} total"
    areas = [(area, minutes) for area, minutes in (minutes_by_area or {}).items() if minutes > 0]
    if len(areas) > 1:
        text += " (" + ", ".join(f"{area_words(area)} {minutes}" for area, minutes in areas) + ")"
    return text


def draft_objective(
    goals_with_trials: Sequence[GoalTrials],
    total_minutes: int | None,
    minutes_by_area: Mapping[DisorderArea | str, int] | None = None,
) -> str:
    """The Objective draft: one line per goal, then the minutes.

    With a single goal the minutes join its line:
    'Goal 2, /r/ initial position at word level: 18/20 trials (90%) with minimal verbal cues; 32 minutes total'.
    """
    lines = [goal_line(goal) for goal in goals_with_trials]
    minutes = minutes_text(total_minutes, minutes_by_area)
    if not minutes:
        return "\n".join(lines)
    if len(lines) == 1:
        return f"{lines[0]}; {minutes}"
    return "\n".join([*lines, minutes[0].upper() + minutes[1:]])

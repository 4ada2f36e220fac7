"""Questions to put to the clinician before a note is signed: what is allowed but looks like a slip.

Nothing here blocks signing (the session flow's problems do that); each question names what looks
wrong and how to fix it, and the clinician answers by going back or by signing as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NOTE_SECTIONS = ("subjective", "objective", "assessment", "plan")
# Fewer minutes than this for a treatment session is more likely a timer stopped by mistake.
SHORT_SESSION_MINUTES = 8
# A sentence this long that appears twice in one section was most likely inserted twice.
REPEATED_SENTENCE_CHARACTERS = 20
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True)
class TalliedGoal:
    label: str
    trials: int
    marked_worked_on: bool


def note_questions(sections: dict[str, str], goals: list[TalliedGoal], minutes: int, treatment: bool) -> list[str]:
    """The questions for a note whose ``sections`` (name -> text) are written as given. (A treatment
    note without a technique is not asked about: the session flow refuses to sign it.)"""
    questions = []
    written = [name for name in NOTE_SECTIONS if sections.get(name, "").strip()]
    if written:  # a wholly empty note is a problem of its own
        for name in NOTE_SECTIONS:
            if name not in written:
                questions.append(f"The {name.capitalize()} is empty: sign without it? (F9, Tab to reach it)")
    for name in written:
        repeated = _repeated_sentence(sections[name])
        if repeated:
            questions.append(f"The {name.capitalize()} says “{_shorten(repeated)}” twice: keep both?")
    for goal in goals:
        if goal.trials and not goal.marked_worked_on:
            questions.append(f"Goal “{_shorten(goal.label)}” has {goal.trials} tallied trial"
                             f"{'s' if goal.trials > 1 else ''} but is not marked worked on (F7, space marks it).")
    if treatment and 0 < minutes < SHORT_SESSION_MINUTES:
        questions.append(f"Only {minutes} minute{'s' if minutes > 1 else ''} of treatment is recorded: is that the "
                         "whole session? (ctrl+k enters the times by hand)")
    return questions


def _repeated_sentence(text: str) -> str | None:
    seen = set()
    for sentence in SENTENCE_END.split(text):
        key = " ".join(sentence.split()).lower()
        if len(key) < REPEATED_SENTENCE_CHARACTERS:
            continue
        if key in seen:
            return " ".join(sentence.split())
        seen.add(key)
    return None


def _shorten(text: str, length: int = 50) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"

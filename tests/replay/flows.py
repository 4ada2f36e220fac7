"""The flows the replay harness types, as Textual key names, on a copy of the demo clinic.

Each flow starts on the caseload with the data file open and the caseload drawn. Times are typed by
hand (the timer's minutes depend on the wall clock, which differs between a fast and a slow run).
"""

from __future__ import annotations

from dataclasses import dataclass

TRIALS_GOAL_1 = ["c", "c", "x", "c", "n", "c"]
TRIALS_GOAL_2 = ["c", "x", "c", "c"]
# Times by hand: Start and Stop on the times dialog (whose fields show the timer's times, cleared
# first with ctrl+u), then ctrl+s.
TIMES_BY_HAND = ["ctrl+k", "ctrl+u", *"00:05", "tab", "ctrl+u", *"00:35", "ctrl+s"]


@dataclass(frozen=True)
class Flow:
    name: str
    keys: list[str]


def _text(text: str) -> list[str]:
    return ["space" if character == " " else character for character in text]


README_SESSION = Flow("readme-session", [
    *"holl", "f3", "enter", "ctrl+t", *TRIALS_GOAL_1, "2", "down", *TRIALS_GOAL_2, "ctrl+e",
    "f8", "space", "down", "space", "down", "space", *TIMES_BY_HAND, "ctrl+d",
    "f9", "ctrl+r", "enter", "tab", "tab", "ctrl+r", "enter", "tab", "ctrl+r", "enter", "ctrl+g", "enter",
])

GROUP_SESSION = Flow("group-session", [
    *"holl", "f3", "ctrl+g", *"gumdrop", "enter", "ctrl+s",
    "c", "x", "c", "f9", *_text("Pip joined late."), "f11",
    "c", "c", "down", "x", "f9", *_text("Tilly took turns well."), "f11",
    "f8", "space", "f7", "n",
])

NEW_PATIENT = Flow("new-patient", [
    "ctrl+n", *"Ada", "tab", *"Fernsby", "tab", *"2019-03-04", "tab", "tab", *"NP-7", "ctrl+s", "ctrl+s",
    # coverage: Medicare (the form's first payer kind), so an 11-character MBI
    "c", "tab", "tab", *_text("Harbor Health"), "tab", *"HH01", "tab", *"1EG4TE5MK73", "ctrl+s", "ctrl+s",
    "d", *"F80.0", "ctrl+s", "ctrl+s",
    # plan: the dates are filled in; frequency, duration and the certifying physician are typed
    "p", "tab", "tab", *"2x/week", "tab", *"12", "tab", *_text("Dr Lena Ortiz"), "tab", *"1234567893",
    "ctrl+s", "ctrl+s",
    "g", "tab", "tab", "tab", "tab", *_text("Produces /k/ in words"), "ctrl+s", "ctrl+s",
])

TIMES_BY_HAND_FLOW = Flow("times-by-hand", [
    *"holl", "f3", "enter", "c", "x", *TIMES_BY_HAND, "f9", *_text("Seen after school."), "f7", "c",
])

ADDENDUM = Flow("addendum", [
    *"holl", "f3", "enter", "c", "c", "f8", "space", *TIMES_BY_HAND, "ctrl+d",
    "f9", *_text("Good day."), "tab", "tab", *_text("Steady."), "tab", *_text("Continue."), "ctrl+g", "enter",
    "f10", *_text("Mother called: practised at home."), "ctrl+s",
])

FLOWS = [README_SESSION, GROUP_SESSION, NEW_PATIENT, TIMES_BY_HAND_FLOW, ADDENDUM]

TMUX_KEYS = {"enter": "Enter", "tab": "Tab", "space": "Space", "escape": "Escape", "down": "Down", "up": "Up",
             "backspace": "BSpace"}


def tmux_key(key: str) -> tuple[str, bool]:
    """The tmux send-keys name of a Textual key, and whether it is sent literally (-l)."""
    if len(key) == 1:
        return key, True
    if key in TMUX_KEYS:
        return TMUX_KEYS[key], False
    if key.startswith("ctrl+"):
        return "C-" + key.removeprefix("ctrl+"), False
    if key.startswith("f") and key[1:].isdigit():
        return key.upper(), False
    raise ValueError(f"no tmux name for {key!r}")

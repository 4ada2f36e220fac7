"""The user's own preferences, kept in the config folder: remapped keys and the chosen theme.

``keymap.toml`` is written by the user: one line per binding to move, binding id = key(s)::

    "session.sign" = "ctrl+y"
    "app.help" = "f1,question_mark"

(a TOML table works too: ``[session]`` then ``sign = "ctrl+y"``). ``preferences.json`` is written
by slpterm (the theme chosen in the command palette). Nothing here may stop the app from starting:
a bad file gives messages naming the line or binding id and the fix, and the rest is used.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from slpterm import paths

KEYMAP_FILE_NAME = "keymap.toml"
PREFERENCES_FILE_NAME = "preferences.json"
# One key as Textual names it: "f5", "ctrl+s", "shift+tab", "question_mark", "a".
_KEY = re.compile(r"^(?:(?:ctrl|shift|alt|meta|super|hyper)\+)*[a-z0-9_]+$")


@dataclass(frozen=True)
class KeymapReading:
    """The keymap read from the file (binding id -> comma-separated keys) and what was wrong in it."""

    keymap: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    path: Path | None = None


def keymap_path() -> Path:
    return paths.config_dir() / KEYMAP_FILE_NAME


def _flatten(table: Mapping[str, object], prefix: str = "") -> Iterable[tuple[str, object]]:
    for name, value in table.items():
        binding_id = f"{prefix}{name}"
        if isinstance(value, dict):
            yield from _flatten(value, binding_id + ".")
        else:
            yield binding_id, value


def _key_problem(binding_id: str, value: object) -> str | None:
    if not isinstance(value, str):
        return f"{binding_id}: give the key as text in quotes, e.g. {binding_id} = \"ctrl+y\""
    keys = [key.strip() for key in value.split(",")]
    if not value.strip() or any(not key for key in keys):
        return f"{binding_id}: no key given; write one or more keys separated by commas, e.g. \"ctrl+y\" or \"f1,f2\""
    wrong = [key for key in keys if not _KEY.match(key)]
    if wrong:
        return (f"{binding_id}: {wrong[0]!r} is not a key name; write keys as Textual names them, e.g. \"ctrl+y\", "
                "\"f6\", \"shift+tab\", \"question_mark\" (lower case, no spaces)")
    return None


def read_keymap(path: Path | None = None) -> KeymapReading:
    """The user's keymap; a missing file is an empty keymap. Never raises for what is in the file."""
    path = path or keymap_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return KeymapReading(path=path)
    except (OSError, UnicodeDecodeError) as error:
        return KeymapReading(problems=[f"{path} cannot be read ({error}); fix or remove it"], path=path)
    import tomllib

    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        return KeymapReading(problems=[f"{path} is not valid TOML ({error}); write one binding per line, "
                                       "e.g. \"session.sign\" = \"ctrl+y\""], path=path)
    keymap: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, value in _flatten(table):
        problem = _key_problem(binding_id, value)
        if problem:
            problems.append(problem)
        else:
            keymap[binding_id] = ",".join(key.strip() for key in str(value).split(","))
    return KeymapReading(keymap=keymap, problems=problems, path=path)


def unknown_binding_problems(keymap: Mapping[str, str], known_ids: Iterable[str]) -> list[str]:
    """A message for each binding id of ``keymap`` that no binding has (with the nearest real id)."""
    known = sorted(set(known_ids))
    problems = []
    for binding_id in keymap:
        if binding_id in known:
            continue
        close = difflib.get_close_matches(binding_id, known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else "the ids are listed in docs/keymap.md"
        problems.append(f"{binding_id}: no binding has this id; {hint}")
    return problems


# -- preferences.json: written by slpterm -----------------------------------------------------------
def preferences_path() -> Path:
    return paths.config_dir() / PREFERENCES_FILE_NAME


def read_preferences(path: Path | None = None) -> dict[str, object]:
    """What slpterm remembered ({} when nothing, or when the file is damaged: it is rewritten)."""
    try:
        values = json.loads((path or preferences_path()).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return values if isinstance(values, dict) else {}


def remembered_theme(path: Path | None = None) -> str | None:
    theme = read_preferences(path).get("theme")
    return theme if isinstance(theme, str) and theme else None


def remember_theme(theme: str, path: Path | None = None) -> None:
    """Keep ``theme`` for the next start (the other preferences are kept as they are)."""
    path = path or preferences_path()
    values = read_preferences(path)
    if values.get("theme") == theme:
        return
    values["theme"] = theme
    paths.private_folder(path.parent)
    paths.write_private(path, json.dumps(values, indent=2) + "\n")

"""Text from patient records made safe to show on a terminal.

Names and notes come from typing, imported CSV files and restored backups. A terminal obeys
escape sequences and control characters wherever they appear, so an imported name could re-title
the terminal window, clear the screen or hide text; bidirectional overrides can make text read
differently from what is stored. :func:`printable` is the one place that removes all of these
before anything is shown or printed. What is stored stays as it was typed.
"""

from __future__ import annotations

import re

# Escape sequences as terminals parse them (ECMA-48): CSI (ESC [ or the one-byte 0x9b) with its
# parameters; OSC, DCS, SOS, PM and APC strings up to their terminator (BEL or ST) or the end of
# the line; and the two-character ESC sequences.
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)

# Characters that are never shown: C0 controls, DEL, C1 controls, and the bidirectional
# embeddings, overrides, isolates and marks.
_BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
CONTROL_CHARACTERS = frozenset(
    [chr(code) for code in range(0x00, 0x20)] + ["\x7f"] + [chr(code) for code in range(0x80, 0xA0)]
    + list(_BIDI_CONTROLS)
)
_REMOVE_ALL = {ord(char): None for char in CONTROL_CHARACTERS}
_REMOVE_ALL_BUT_LAYOUT = {code: value for code, value in _REMOVE_ALL.items() if code not in (0x09, 0x0A)}
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x0b\x0c\x85]")


def printable(text: object, *, multiline: bool = False) -> str:
    """``text`` without escape sequences, control characters or bidirectional controls.

    With ``multiline`` line breaks become ``\\n`` and tabs stay (for notes and command output);
    otherwise every line break and tab becomes a space (for names and one-line fields).
    """
    value = "" if text is None else str(text)
    if value.isprintable():
        return value
    value = _ESCAPE_SEQUENCE.sub("", value)
    value = _LINE_BREAKS.sub("\n", value)
    if multiline:
        return value.translate(_REMOVE_ALL_BUT_LAYOUT)
    return value.replace("\n", " ").replace("\t", " ").translate(_REMOVE_ALL)


def without_control_characters(text: str) -> str:
    """Only the control characters removed, each of which takes no room on screen, so text that is
    already laid out keeps its width (what is left of an escape sequence shows as plain text)."""
    if text.isprintable():
        return text
    return text.translate(_REMOVE_ALL)


def file_name_part(text: str, fallback: str) -> str:
    """``text`` as a piece of a file name: letters, digits and dashes only (``fallback`` if nothing
    is left). Used for patient IDs in file names; names never go into file names."""
    cleaned = re.sub(r"[^A-Za-z0-9]+", "-", printable(text)).strip("-")
    return cleaned or re.sub(r"[^A-Za-z0-9]+", "-", fallback).strip("-")

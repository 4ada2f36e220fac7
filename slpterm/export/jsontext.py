"""Indented JSON text, fast: the same text as ``json.dumps(value, indent=2, ensure_ascii=False)``.

The standard library writes indented JSON with its pure-Python encoder, one generator step per
value; for an export of thousands of encounters that is most of the export's time. This writer
appends to one list instead and can also drop empty values (FHIR forbids them) and write marked
money strings as JSON numbers in the same pass.
"""

from __future__ import annotations

import json
import re
from typing import Any

try:
    from _json import encode_basestring as _quote  # the C escaper that json.dumps uses
except ImportError:  # pragma: no cover - every CPython has it
    from json.encoder import py_encode_basestring as _quote

INDENT = "  "
_EMPTY: tuple[object, ...] = (None, "", [], {})
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def dumps_indented(value: Any, *, strip_empty: bool = False, number_mark: str | None = None, level: int = 0) -> str:
    """``value`` as JSON text indented by two spaces, non-ASCII characters kept.

    With ``strip_empty``, ``None``, ``""``, ``[]`` and ``{}`` are left out of objects and arrays,
    also where they become empty only once their own empty members are left out (tuples are
    written as they are). A string that is ``number_mark`` followed by a decimal number is written
    as that number. Raises TypeError for a value JSON cannot hold, as ``json.dumps`` does.
    ``level`` indents the text as a value nested that deep (its first line is not indented).
    """
    parts: list[str] = []
    append = parts.append
    indents = ["\n" + INDENT * level for level in range(64)]
    mark = number_mark
    mark_length = len(mark) if mark else 0
    number = _NUMBER.fullmatch

    def scalar(item: Any) -> str:
        if isinstance(item, str):
            if mark and item.startswith(mark) and number(item, mark_length):
                return item[mark_length:]
            return _quote(item)
        if item is None:
            return "null"
        if item is True:
            return "true"
        if item is False:
            return "false"
        if isinstance(item, int):
            return int.__repr__(item)
        if isinstance(item, float):
            return json.dumps(item)
        raise TypeError(f"Object of type {type(item).__name__} is not JSON serializable")

    keys: dict[str, str] = {}

    def key_text(key: Any) -> str:
        text = keys.get(key) if type(key) is str else None
        if text is None:
            text = _key(key) + ": "
            if type(key) is str:
                keys[key] = text
        return text

    def plain(item: Any, level: int) -> None:
        if isinstance(item, dict):
            if not item:
                append("{}")
                return
            inner = indents[level + 1] if level + 1 < 64 else "\n" + INDENT * (level + 1)
            separator = "{" + inner
            for key, child in item.items():
                kind = type(child)
                if kind is str:
                    append(separator + (keys.get(key) or key_text(key)) + scalar(child))
                elif kind is dict or kind is list or isinstance(child, (dict, list, tuple)):
                    append(separator + (keys.get(key) or key_text(key)))
                    plain(child, level + 1)
                else:
                    append(separator + (keys.get(key) or key_text(key)) + scalar(child))
                separator = "," + inner
            append((indents[level] if level < 64 else "\n" + INDENT * level) + "}")
        elif isinstance(item, (list, tuple)):
            if not item:
                append("[]")
                return
            inner = indents[level + 1] if level + 1 < 64 else "\n" + INDENT * (level + 1)
            separator = "[" + inner
            for child in item:
                if isinstance(child, (dict, list, tuple)):
                    append(separator)
                    plain(child, level + 1)
                else:
                    append(separator + scalar(child))
                separator = "," + inner
            append((indents[level] if level < 64 else "\n" + INDENT * level) + "]")
        else:
            append(scalar(item))

    def stripped(item: Any, level: int) -> bool:
        """Write ``item`` without its empty members; False (and nothing written) when it is empty."""
        if isinstance(item, dict):
            start = len(parts)
            inner = indents[level + 1] if level + 1 < 64 else "\n" + INDENT * (level + 1)
            separator = "{" + inner
            for key, child in item.items():
                kind = type(child)
                if kind is str:
                    if not child:
                        continue
                    if mark and child.startswith(mark) and number(child, mark_length):
                        append(separator + (keys.get(key) or key_text(key)) + child[mark_length:])
                    else:
                        append(separator + (keys.get(key) or key_text(key)) + _quote(child))
                elif kind is dict or kind is list or isinstance(child, (dict, list)):
                    before = len(parts)
                    append(separator + (keys.get(key) or key_text(key)))
                    if not stripped(child, level + 1):
                        del parts[before:]
                        continue
                elif child is None:
                    continue
                elif isinstance(child, tuple):
                    append(separator + (keys.get(key) or key_text(key)))
                    plain(child, level + 1)
                elif child == "":
                    continue
                else:
                    append(separator + (keys.get(key) or key_text(key)) + scalar(child))
                separator = "," + inner
            if len(parts) == start:
                return False
            append((indents[level] if level < 64 else "\n" + INDENT * level) + "}")
            return True
        if isinstance(item, list):
            start = len(parts)
            inner = indents[level + 1] if level + 1 < 64 else "\n" + INDENT * (level + 1)
            separator = "[" + inner
            for child in item:
                kind = type(child)
                if kind is str:
                    if not child:
                        continue
                    append(separator + scalar(child))
                elif kind is dict or kind is list or isinstance(child, (dict, list)):
                    before = len(parts)
                    append(separator)
                    if not stripped(child, level + 1):
                        del parts[before:]
                        continue
                elif child is None:
                    continue
                elif isinstance(child, tuple):
                    append(separator)
                    plain(child, level + 1)
                elif child == "":
                    continue
                else:
                    append(separator + scalar(child))
                separator = "," + inner
            if len(parts) == start:
                return False
            append((indents[level] if level < 64 else "\n" + INDENT * level) + "]")
            return True
        if isinstance(item, tuple):
            plain(item, level)
            return True
        if item is None or item == "":
            return False
        append(scalar(item))
        return True

    if strip_empty:
        if not stripped(value, level):
            plain({} if isinstance(value, dict) else [] if isinstance(value, list) else value, level)
    else:
        plain(value, level)
    text = "".join(parts)
    # The nested writers refer to themselves; emptying their cells lets reference counting free
    # them at once (an export holds the collector off while it writes thousands of entries).
    plain = stripped = None  # type: ignore[assignment]
    return text


def split_around(text: str, placeholder: str) -> tuple[str, str]:
    """The JSON ``text`` before and after the one array whose only element is the string
    ``placeholder``: the before part ends with the array's key (``"entry": ``), the after part
    starts after its closing bracket. A file writer puts the array's elements between them."""
    quoted = _quote(placeholder)
    at = text.index(quoted)
    opening = text.rindex("[", 0, at)
    closing = text.index("]", at + len(quoted))
    return text[:opening], text[closing + 1:]


def array_items(items: Any, level: int, first: bool, **options: Any) -> tuple[str, bool]:
    """Elements of a JSON array nested ``level`` deep, as ``dumps_indented`` writes them, for
    streaming: ``first`` says whether the array has no element yet. Returns the text and the new
    ``first``. Close the array with :func:`array_end`."""
    inner = "\n" + INDENT * (level + 1)
    parts = []
    for item in items:
        parts.append(("[" if first else ",") + inner + dumps_indented(item, level=level + 1, **options))
        first = False
    return "".join(parts), first


def array_end(level: int, first: bool) -> str:
    """What closes an array begun with :func:`array_items` (``[]`` when it got no element)."""
    return "[]" if first else "\n" + INDENT * level + "]"


def _key(key: Any) -> str:
    if isinstance(key, str):
        return _quote(key)
    if key is True:
        return '"true"'
    if key is False:
        return '"false"'
    if key is None:
        return '"null"'
    if isinstance(key, int):
        return _quote(int.__repr__(key))
    if isinstance(key, float):
        return _quote(json.dumps(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")

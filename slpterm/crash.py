"""Crash reports that never carry patient data or secrets.

An unexpected error is written to a private log in the user's state folder: the exception types
and where in slpterm's code they happened, nothing else. Messages and local variables are left
out, because they can hold a note's text, a name or the passphrase (a database error, for one,
repeats the values it was given). Only messages known to be free of data are kept: SQLite's own,
and the operating system's reason for a failed file operation. The terminal gets one plain line.
"""

from __future__ import annotations

import sys
import traceback
from datetime import datetime, UTC
from pathlib import Path

from slpterm import __version__
from slpterm.paths import crash_log_path, open_private, private_folder

WITHHELD = "(message left out: it can contain patient data)"


def _safe_message(error: BaseException) -> str:
    original = getattr(error, "orig", None)  # SQLAlchemy wraps the driver's error with the SQL and its values
    if isinstance(original, BaseException):
        return f"{type(original).__name__}: {_safe_message(original)}"
    module = type(error).__module__ or ""
    if module.startswith(("sqlite3", "sqlcipher3")):
        return str(error)
    if isinstance(error, OSError):
        return f"[Errno {error.errno}] {error.strerror}" if error.strerror else WITHHELD
    return WITHHELD


def describe(error: BaseException) -> list[str]:
    """The report lines: each exception of the chain, innermost last, with its frames."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    lines: list[str] = []
    for exception in reversed(chain):
        if lines:
            lines.append("which led to:")
        lines.append(f"{type(exception).__module__}.{type(exception).__qualname__}: {_safe_message(exception)}")
        for frame in traceback.extract_tb(exception.__traceback__):
            lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
            if frame.line:
                lines.append(f"    {frame.line.strip()}")
    return lines


def write_crash_report(error: BaseException) -> Path | None:
    """Append a report of ``error`` to the private crash log; None when it cannot be written."""
    path = crash_log_path()
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    text = "\n".join([f"--- {stamp} slpterm {__version__}, Python {sys.version.split()[0]}", *describe(error), ""])
    try:
        private_folder(path.parent)
        with open_private(path, append=True) as handle:
            handle.write(text.encode("utf-8", "replace"))
    except OSError:
        return None
    return path


def where_reported(path: Path | None) -> str:
    return f"A report without patient data is in {path}." if path else "No report could be written."


def crash_line(path: Path | None) -> str:
    """The one line the terminal shows after the app stopped on an unexpected error."""
    return f"slpterm stopped after an unexpected error; what was shown as saved is in the data file. {where_reported(path)}"

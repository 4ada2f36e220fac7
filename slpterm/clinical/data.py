"""Locating and reading the clinical rules files (TOML and CSV) with clear errors."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"


class ClinicalDataError(ValueError):
    """A clinical rules file is missing, unreadable or has an invalid entry.

    The message names the file, the entry and what to change.
    """

    def __init__(self, path: Path | str, problem: str, entry: str | None = None) -> None:
        self.path = Path(path)
        self.entry = entry
        self.problem = problem
        where = f"{self.path}" + (f", {entry}" if entry else "")
        super().__init__(f"{where}: {problem}")


def rules_path(name: str) -> Path:
    """Path of a shipped rules file."""
    return RULES_DIR / name


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file, turning parse errors into ClinicalDataError."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ClinicalDataError(path, "file not found; reinstall slpterm or remove the clinic override") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ClinicalDataError(path, f"not valid TOML ({exc}); fix the syntax") from exc


def require_str(path: Path, entry: str, table: dict[str, Any], key: str, *, allow_empty: bool = False) -> str:
    value = table.get(key)
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise ClinicalDataError(path, f"'{key}' must be a non-empty text value", entry)
    return value.strip()


def require_int(path: Path, entry: str, table: dict[str, Any], key: str, *, minimum: int, maximum: int) -> int:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise ClinicalDataError(path, f"'{key}' must be a whole number from {minimum} to {maximum}", entry)
    return value


def optional_date(path: Path, entry: str, table: dict[str, Any], key: str) -> dt.date | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ClinicalDataError(path, f"'{key}' must be a date written YYYY-MM-DD", entry)


def in_force(valid_from: dt.date | None, valid_to: dt.date | None, on: dt.date | None) -> bool:
    """True when a dated rule applies on `on` (None means: ignore dates)."""
    if on is None:
        return True
    if valid_from is not None and on < valid_from:
        return False
    if valid_to is not None and on > valid_to:
        return False
    return True

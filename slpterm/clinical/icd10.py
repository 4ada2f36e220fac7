"""ICD-10-CM diagnosis codes for speech-language pathology.

slpterm bundles the codes SLPs use (``slpterm/rules/icd10_slp.csv``: columns code, description,
billable, category; descriptions are plain-language paraphrases, the code list follows the
FY2026 ICD-10-CM tabular and the ASHA ICD-10-CM list for SLP). Category headers such as R13.1
are in the file with ``billable=false`` so they can be rejected with a helpful message.

A code that is well formed but not in the bundled list is accepted with a warning
(``unlisted_valid_format``). When the optional ``simple-icd-10-cm`` package is installed, such a
code is looked up in the full CMS code set instead; the import (about 2 s) happens only in that
branch, or ahead of time through :func:`preload_full_code_set` from a worker thread.

Excludes1 pairs and "wants a companion code" rules live in ``slpterm/rules/excludes1.toml``.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import threading
import warnings
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

from slpterm.clinical.data import (
    ClinicalDataError,
    in_force,
    optional_date,
    read_toml,
    require_str,
    rules_path,
)

CODE_LIST_FILE = "icd10_slp.csv"
EXCLUDES1_FILE = "excludes1.toml"
CODE_CATEGORIES = frozenset(
    {
        "speech_sound",
        "language",
        "fluency",
        "voice",
        "swallowing",
        "cognition",
        "hearing",
        "developmental",
        "intellectual_disability",
        "neurologic",
        "stroke",
        "craniofacial",
        "genetic",
    }
)

_FORMAT = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")
_MAX_CHOICES_SHOWN = 8


class CodeStatus(StrEnum):
    BILLABLE = "billable"
    UNLISTED_VALID_FORMAT = "unlisted_valid_format"
    NOT_BILLABLE = "not_billable"
    MALFORMED = "malformed"


@dataclass(frozen=True)
class CodeEntry:
    code: str
    description: str
    billable: bool
    category: str


@dataclass(frozen=True)
class CodeCheck:
    """Result of checking one diagnosis code.

    ``usable`` is True for billable and for unlisted-but-well-formed codes (the latter carry a
    warning in ``reason``).
    """

    code: str
    status: CodeStatus
    description: str | None
    reason: str | None

    @property
    def usable(self) -> bool:
        return self.status in (CodeStatus.BILLABLE, CodeStatus.UNLISTED_VALID_FORMAT)


# ---------------------------------------------------------------------------------------------
# Normalising and formatting


def normalize_code(text: str) -> str:
    """Strip, upper-case and insert the dot after the third character if it is missing."""
    value = (text or "").strip().upper().replace(" ", "")
    if value.endswith("."):
        value = value[:-1]
    if "." not in value and len(value) > 3:
        value = value[:3] + "." + value[3:]
    return value


def is_well_formed(code: str) -> bool:
    return bool(_FORMAT.match(normalize_code(code)))


def x12_format(code: str) -> str:
    """The code as X12 transmits it: normalised, without the dot (R13.12 -> R1312)."""
    value = normalize_code(code)
    if not _FORMAT.match(value):
        raise ValueError(f"{code!r} is not a well-formed ICD-10-CM code")
    return value.replace(".", "")


# ---------------------------------------------------------------------------------------------
# The bundled code list


def load_code_list(path: Path | None = None) -> dict[str, CodeEntry]:
    """Read and validate a code list CSV; returns entries keyed by normalised code."""
    path = path or rules_path(CODE_LIST_FILE)
    entries: dict[str, CodeEntry] = {}
    try:
        handle = path.open(newline="", encoding="utf-8")
    except FileNotFoundError as exc:
        raise ClinicalDataError(path, "file not found; reinstall slpterm") from exc
    with handle:
        reader = csv.DictReader(handle)
        expected = ["code", "description", "billable", "category"]
        if reader.fieldnames != expected:
            raise ClinicalDataError(path, f"header must be {','.join(expected)}; found {reader.fieldnames}")
        for line_number, row in enumerate(reader, start=2):
            entry = f"line {line_number}"
            code = normalize_code(row["code"] or "")
            if not _FORMAT.match(code):
                raise ClinicalDataError(path, f"code {row['code']!r} is not a well-formed ICD-10-CM code", entry)
            if code in entries:
                raise ClinicalDataError(path, f"code {code} is listed twice; keep one row", entry)
            description = (row["description"] or "").strip()
            if not description:
                raise ClinicalDataError(path, f"code {code} has no description", entry)
            billable_text = (row["billable"] or "").strip().lower()
            if billable_text not in ("true", "false"):
                raise ClinicalDataError(path, f"billable must be true or false, not {row['billable']!r}", entry)
            category = (row["category"] or "").strip()
            if category not in CODE_CATEGORIES:
                raise ClinicalDataError(
                    path, f"category {category!r} is unknown; use one of {', '.join(sorted(CODE_CATEGORIES))}", entry
                )
            entries[code] = CodeEntry(code, description, billable_text == "true", category)
    return entries


@lru_cache(maxsize=1)
def _codes() -> dict[str, CodeEntry]:
    return load_code_list()


def all_codes() -> list[CodeEntry]:
    """Every bundled code (headers included), in file order."""
    return list(_codes().values())


def lookup(code: str) -> CodeEntry | None:
    """The bundled entry for a code, or None."""
    return _codes().get(normalize_code(code))


def _listed_children(header: str) -> list[str]:
    return [entry.code for entry in _codes().values() if entry.billable and entry.code.startswith(header) and entry.code != header]


def _header_reason(code: str, choices: list[str]) -> str:
    if not choices:
        return f"{code} is a category header, not a billable code; choose a more specific code under {code}"
    shown = ", ".join(choices[:_MAX_CHOICES_SHOWN])
    more = ", ..." if len(choices) > _MAX_CHOICES_SHOWN else ""
    return f"{code} is a category header, not a billable code; choose one of {shown}{more}"


# ---------------------------------------------------------------------------------------------
# Optional full code set (simple-icd-10-cm)

_full_lock = threading.Lock()
_full_module: ModuleType | None = None
_full_tried = False


def _full_code_set() -> ModuleType | None:
    global _full_module, _full_tried
    with _full_lock:
        if not _full_tried:
            _full_tried = True
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    import simple_icd_10_cm  # type: ignore[import-not-found]
            except Exception:  # absent or broken: the bundled list is enough
                _full_module = None
            else:
                _full_module = simple_icd_10_cm
        return _full_module


def preload_full_code_set() -> bool:
    """Import the optional full code set now (call from a worker thread); True if available."""
    return _full_code_set() is not None


def _reset_full_code_set_cache() -> None:
    """Forget the import attempt (used by tests)."""
    global _full_module, _full_tried
    with _full_lock:
        _full_module = None
        _full_tried = False


def _check_in_full_set(module: Any, code: str) -> CodeCheck | None:
    try:
        if not module.is_valid_item(code):
            return CodeCheck(
                code,
                CodeStatus.NOT_BILLABLE,
                None,
                f"{code} is not a code in the installed ICD-10-CM code set; check it for a typo",
            )
        description = module.get_description(code)
        if module.is_leaf(code):
            return CodeCheck(code, CodeStatus.BILLABLE, description, None)
        children = [child for child in module.get_descendants(code) if module.is_leaf(child)]
        return CodeCheck(code, CodeStatus.NOT_BILLABLE, description, _header_reason(code, children))
    except Exception:
        return None


# ---------------------------------------------------------------------------------------------
# Public checks


def check_code(code: str, *, consult_full_code_set: bool = True) -> CodeCheck:
    """Check a diagnosis code: billable, unlisted but well formed, a header, or malformed.

    Pass ``consult_full_code_set=False`` where a 2-second import would block the user (the UI
    thread before :func:`preload_full_code_set` has run).
    """
    raw = (code or "").strip()
    normalized = normalize_code(raw)
    if not normalized:
        return CodeCheck("", CodeStatus.MALFORMED, None, "Diagnosis code is empty; enter an ICD-10-CM code such as R13.12")
    if not _FORMAT.match(normalized):
        return CodeCheck(
            normalized,
            CodeStatus.MALFORMED,
            None,
            f"{raw} is not an ICD-10-CM code: use a letter, a digit, a digit or letter, then optionally "
            "a dot and 1-4 letters or digits (e.g. R13.12)",
        )
    entry = _codes().get(normalized)
    if entry is not None:
        if entry.billable:
            return CodeCheck(normalized, CodeStatus.BILLABLE, entry.description, None)
        return CodeCheck(
            normalized, CodeStatus.NOT_BILLABLE, entry.description, _header_reason(normalized, _listed_children(normalized))
        )
    if consult_full_code_set:
        module = _full_code_set()
        if module is not None:
            result = _check_in_full_set(module, normalized)
            if result is not None:
                return result
    return CodeCheck(
        normalized,
        CodeStatus.UNLISTED_VALID_FORMAT,
        None,
        f"{normalized} is not in slpterm's list of SLP codes; check it against the current ICD-10-CM "
        "before billing",
    )


def search(text: str, limit: int = 20) -> list[CodeEntry]:
    """Type-ahead over the bundled codes.

    Matches a code prefix (with or without the dot) or, for words, every word as the start of a
    word in the description. Billable codes come first, then code-prefix matches, then code order.
    """
    query = (text or "").strip()
    if not query or limit <= 0:
        return []
    code_query = query.upper().replace(".", "").replace(" ", "")
    words = [word for word in re.split(r"[^a-z0-9]+", query.lower()) if word]
    scored: list[tuple[tuple[int, int, str], CodeEntry]] = []
    for entry in _codes().values():
        code_match = entry.code.replace(".", "").startswith(code_query)
        description_words = re.split(r"[^a-z0-9]+", entry.description.lower())
        word_match = bool(words) and all(any(dw.startswith(word) for dw in description_words) for word in words)
        if code_match or word_match:
            scored.append(((0 if entry.billable else 1, 0 if code_match else 1, entry.code), entry))
    scored.sort(key=lambda item: item[0])
    return [entry for _, entry in scored[:limit]]


# ---------------------------------------------------------------------------------------------
# Excludes1 and companion codes


@dataclass(frozen=True)
class CodePairRule:
    """Two code patterns that must not be reported together (``x`` = any one character)."""

    a: str
    b: str
    reason: str
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None


@dataclass(frozen=True)
class CompanionRule:
    """A code (pattern ``when``) that should be reported with a code matching ``wants``."""

    when: str
    wants: str
    message: str
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None


@dataclass(frozen=True)
class Excludes1Rules:
    pairs: tuple[CodePairRule, ...]
    companions: tuple[CompanionRule, ...]


_PATTERN = re.compile(r"^[A-Z][0-9x][0-9A-Zx](\.[0-9A-Zx]{1,4})?$")


def pattern_matches(pattern: str, code: str) -> bool:
    """True when a code fits a pattern where a lower-case ``x`` stands for any one character."""
    normalized = normalize_code(code)
    if len(pattern) != len(normalized):
        return False
    return all(p == "x" or p == c for p, c in zip(pattern, normalized))


def _pattern(path: Path, entry: str, table: dict[str, Any], key: str) -> str:
    value = require_str(path, entry, table, key)
    if not _PATTERN.match(value):
        raise ClinicalDataError(
            path, f"'{key}' = {value!r} is not a code pattern; write a code with a dot, lower-case x for any character", entry
        )
    return value


def load_excludes1(path: Path | None = None) -> Excludes1Rules:
    """Read and validate an Excludes1 rules file."""
    path = path or rules_path(EXCLUDES1_FILE)
    data = read_toml(path)
    require_str(path, "top level", data, "source")
    pairs: list[CodePairRule] = []
    for index, table in enumerate(data.get("excludes1", []), start=1):
        entry = f"[[excludes1]] #{index}"
        if not isinstance(table, dict):
            raise ClinicalDataError(path, "each [[excludes1]] must be a table", entry)
        pairs.append(
            CodePairRule(
                a=_pattern(path, entry, table, "a"),
                b=_pattern(path, entry, table, "b"),
                reason=require_str(path, entry, table, "reason"),
                valid_from=optional_date(path, entry, table, "valid_from"),
                valid_to=optional_date(path, entry, table, "valid_to"),
            )
        )
    companions: list[CompanionRule] = []
    for index, table in enumerate(data.get("companion", []), start=1):
        entry = f"[[companion]] #{index}"
        if not isinstance(table, dict):
            raise ClinicalDataError(path, "each [[companion]] must be a table", entry)
        companions.append(
            CompanionRule(
                when=_pattern(path, entry, table, "when"),
                wants=_pattern(path, entry, table, "wants"),
                message=require_str(path, entry, table, "message"),
                valid_from=optional_date(path, entry, table, "valid_from"),
                valid_to=optional_date(path, entry, table, "valid_to"),
            )
        )
    if not pairs:
        raise ClinicalDataError(path, "no [[excludes1]] entries; the file must list at least one pair")
    return Excludes1Rules(tuple(pairs), tuple(companions))


@lru_cache(maxsize=1)
def _excludes1() -> Excludes1Rules:
    return load_excludes1()


def excludes1_conflicts(
    codes: list[str], *, on: dt.date | None = None, rules: Excludes1Rules | None = None
) -> list[tuple[str, str, str]]:
    """Pairs of codes that an Excludes1 note forbids together: (code_a, code_b, reason)."""
    rules = rules or _excludes1()
    normalized = list(dict.fromkeys(normalize_code(code) for code in codes if code and code.strip()))
    found: list[tuple[str, str, str]] = []
    seen: set[tuple[str, str]] = set()
    for rule in rules.pairs:
        if not in_force(rule.valid_from, rule.valid_to, on):
            continue
        for first in normalized:
            for second in normalized:
                if first == second:
                    continue
                pair = (first, second)
                if pattern_matches(rule.a, first) and pattern_matches(rule.b, second) and pair not in seen:
                    seen.add(pair)
                    seen.add((second, first))
                    found.append((first, second, rule.reason))
    return found


def companion_warnings(
    codes: list[str], *, on: dt.date | None = None, rules: Excludes1Rules | None = None
) -> list[tuple[str, str]]:
    """Codes that want a companion code that is missing: (code, message)."""
    rules = rules or _excludes1()
    normalized = list(dict.fromkeys(normalize_code(code) for code in codes if code and code.strip()))
    warnings_found: list[tuple[str, str]] = []
    for rule in rules.companions:
        if not in_force(rule.valid_from, rule.valid_to, on):
            continue
        for code in normalized:
            if pattern_matches(rule.when, code) and not any(pattern_matches(rule.wants, other) for other in normalized):
                warnings_found.append((code, rule.message.replace("{code}", code)))
    return warnings_found

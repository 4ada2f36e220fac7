"""ICD-10-CM diagnosis codes for speech-language pathology, checked by date of service.

Two sources, both shipped in the package:

- slpterm's list of the codes SLPs use (``slpterm/rules/icd10_slp.csv``: columns code,
  description, billable, category; plain-language paraphrases, following the ASHA ICD-10-CM list
  for SLP), used for type-ahead search and the descriptions the forms show;
- the whole ICD-10-CM code set (``slpterm/rules/icd10cm/``, built by ``scripts/build_icd10cm.py``
  from CMS data): every billable code with the dates of service it is valid on (FY2016-FY2027,
  October 1 boundaries and April updates), the tabular's titles, and the tabular's Excludes1 notes
  that involve codes an SLP meets. Releases for later fiscal years installed with
  ``slpterm rules install`` (CMS order file and tabular XML) sit in the clinic's rules folder and
  answer for dates of service from their effective date.

A code is checked against the release in force on the date of service: billable there, a header
(a longer code valid on that date starts with it), not valid on that date, or malformed. Codes are
read by their first two characters, so the first look-up takes milliseconds and little memory.

Excludes1 pairs and "wants a companion code" rules also live in ``slpterm/rules/excludes1.toml``,
which a clinic may correct.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import re
import threading
import zipfile
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from slpterm.clinical.data import (
    RULES_DIR,
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


def _header_reason(code: str, choices: list[str], on: dt.date | None = None) -> str:
    when = f" on {on}" if on else ""
    if not choices:
        return f"{code} is a category header, not a billable code{when}; choose a more specific code under {code}"
    shown = ", ".join(choices[:_MAX_CHOICES_SHOWN])
    more = ", ..." if len(choices) > _MAX_CHOICES_SHOWN else ""
    return f"{code} is a category header, not a billable code{when}; choose one of {shown}{more}"


# ---------------------------------------------------------------------------------------------
# The whole code set, by date of service


class Release:
    """One ICD-10-CM release on disk: its billable codes with their dates of service, and titles.

    ``effective`` is the first date of service it answers for (the shipped data covers every date
    from 2015-10-01 with per-code dates); ``known_through`` the last date its source vouches for.
    Codes and titles are read by their first two characters, when first asked for.
    """

    def __init__(self, folder: Path, effective: dt.date, known_through: dt.date | None) -> None:
        self.name = folder.name
        self.folder = folder
        self.effective = effective
        self.known_through = known_through
        self._letters: dict[str, list[str]] = {}
        self._titles: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def _lines(self, store: dict[str, list[str]], file: str, letter: str) -> list[str]:
        found = store.get(letter)
        if found is None:
            from slpterm.clinical.icd10_sources import read_letter

            path = self.folder / file
            with self._lock:
                found = store.get(letter)
                if found is None:
                    found = store[letter] = read_letter(path, letter) if path.is_file() else []
        return found

    def _code_lines(self, key: str) -> list[str]:
        return self._lines(self._letters, "codes.zip", key[:2])

    @staticmethod
    def _valid(line: str, day: int) -> bool:
        _, start, end = line.split(" ")
        return (start == "-" or int(start) <= day) and (end == "-" or day <= int(end))

    def billable_on(self, code: str, day: dt.date) -> bool:
        key, when = code.replace(".", ""), _ymd(day)
        lines = self._code_lines(key)
        index = bisect.bisect_left(lines, key + " ")
        while index < len(lines) and lines[index].startswith(key + " "):
            if self._valid(lines[index], when):
                return True
            index += 1
        return False

    def ever_listed(self, code: str) -> bool:
        key = code.replace(".", "")
        lines = self._code_lines(key)
        index = bisect.bisect_left(lines, key)
        return index < len(lines) and lines[index].startswith(key)

    def children_on(self, code: str, day: dt.date, limit: int = 200) -> list[str]:
        """Billable codes under a header on a date (dotted), in code order."""
        key, when = code.replace(".", ""), _ymd(day)
        lines = self._code_lines(key)
        out: list[str] = []
        index = bisect.bisect_left(lines, key)
        while index < len(lines) and lines[index].startswith(key) and len(out) < limit:
            line = lines[index]
            child = normalize_code(line.split(" ", 1)[0])
            if child != normalize_code(key) and self._valid(line, when) and (not out or out[-1] != child):
                out.append(child)
            index += 1
        return out

    def title(self, code: str) -> str | None:
        key = code.replace(".", "")
        lines = self._lines(self._titles, "titles.zip", key[:2])
        index = bisect.bisect_left(lines, key + "\t")
        if index < len(lines) and lines[index].startswith(key + "\t"):
            return lines[index].split("\t", 1)[1]
        return None


def _ymd(day: dt.date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


SHIPPED_RELEASE_DIR = RULES_DIR / "icd10cm"
SHIPPED_EFFECTIVE = dt.date(2015, 10, 1)
_release_lock = threading.Lock()
_release_cache: dict[str, tuple[Release, ...]] = {}


def _read_release(folder: Path, default_effective: dt.date) -> Release:
    from slpterm.clinical.icd10_sources import read_header

    effective, known = default_effective, None
    for line in read_header(folder / "codes.zip"):
        words = line.split()
        if len(words) == 2 and words[0] == "effective":
            effective = dt.date.fromisoformat(words[1])
        if len(words) == 2 and words[0] == "known-through":
            known = dt.date.fromisoformat(words[1])
    return Release(folder, effective, known)


_release_dirs: dict[str | None, Path] = {}


def clinic_release_dir() -> Path:
    """Where ``slpterm rules install`` puts later ICD-10-CM releases (one folder per release)."""
    import os

    from slpterm.paths import CONFIG_DIR_VARIABLE, clinic_rules_dir

    key = os.environ.get(CONFIG_DIR_VARIABLE)
    found = _release_dirs.get(key)
    if found is None:
        found = _release_dirs[key] = clinic_rules_dir() / "icd10cm"
    return found


def releases() -> tuple[Release, ...]:
    """The shipped release and every release installed in the clinic's rules folder, oldest first."""
    folder = clinic_release_dir()
    key = str(folder)
    with _release_lock:
        found = _release_cache.get(key)
        if found is None:
            loaded = [_read_release(SHIPPED_RELEASE_DIR, SHIPPED_EFFECTIVE)]
            if folder.is_dir():
                for sub in sorted(p for p in folder.iterdir() if (p / "codes.zip").is_file()):
                    try:
                        loaded.append(_read_release(sub, SHIPPED_EFFECTIVE))
                    except (OSError, ValueError, zipfile.BadZipFile):
                        continue  # a damaged install is refused by 'slpterm rules check'; the shipped set answers
            found = _release_cache[key] = tuple(sorted(loaded, key=lambda r: r.effective))
        return found


def reload_releases() -> None:
    """Forget the loaded releases (after an install or a rollback)."""
    from slpterm.clinical.icd10_sources import forget_archives

    with _release_lock:
        _release_cache.clear()
        _release_for_day.clear()
        _tabular_for_day.clear()
        forget_archives()
    _tabular_excludes1.cache_clear()


_release_for_day: dict[tuple[str, dt.date], Release] = {}


def release_for(day: dt.date | None) -> Release:
    """The release that answers for a date of service (today when None)."""
    day = day or dt.date.today()
    key = (str(clinic_release_dir()), day)
    found = _release_for_day.get(key)
    if found is None:
        found = releases()[0]
        for release in releases():
            if release.effective <= day:
                found = release
        if len(_release_for_day) > 10_000:
            _release_for_day.clear()
        _release_for_day[key] = found
    return found


def title(code: str, on: dt.date | None = None) -> str | None:
    """The tabular title of a code (dotted or not), or None when the installed sources lack it."""
    key = normalize_code(code)
    for release in reversed([r for r in releases() if r.effective <= (on or dt.date.today())] or releases()[:1]):
        found = release.title(key)
        if found:
            return found
    return None


def release_note(on: dt.date | None) -> str | None:
    """A warning when the date of service lies after what the installed releases vouch for."""
    release = release_for(on)
    if on is not None and release.known_through is not None and on > release.known_through:
        fiscal_year = on.year + (1 if on.month >= 10 else 0)
        return (f"the installed ICD-10-CM code set is known through {release.known_through}; the FY{fiscal_year} "
                f"release applies on {on}: install it with 'slpterm rules install' (CMS order file and tabular XML)")
    return None


def preload_full_code_set() -> bool:
    """Load the whole code set now (a few milliseconds); True when it is there."""
    return releases()[0].ever_listed("R13.12")


def _reset_full_code_set_cache() -> None:
    """Forget loaded releases (used by tests)."""
    reload_releases()


def _check_in_full_set(code: str, on: dt.date | None, describe: bool = True) -> CodeCheck:
    day = on or dt.date.today()
    release = release_for(day)

    def description_of() -> str | None:
        if not describe:
            return None
        listed = _codes().get(code)
        return listed.description if listed else title(code, day)

    if release.billable_on(code, day):
        return CodeCheck(code, CodeStatus.BILLABLE, description_of(), None)
    children = release.children_on(code, day)
    description = description_of()
    if children:
        return CodeCheck(code, CodeStatus.NOT_BILLABLE, description, _header_reason(code, children, day if on else None))
    if release.ever_listed(code):
        return CodeCheck(code, CodeStatus.NOT_BILLABLE, description,
                         f"{code} is not valid for claims on {day} (ICD-10-CM {_fiscal_year_name(day)}); "
                         "use the code in force on the date of service")
    return CodeCheck(code, CodeStatus.NOT_BILLABLE, None,
                     f"{code} is not a code in the ICD-10-CM code set in force on {day}; check it for a typo")


def _fiscal_year_name(day: dt.date) -> str:
    return f"FY{day.year + (1 if day.month >= 10 else 0)}"


# ---------------------------------------------------------------------------------------------
# Public checks


def check_code(code: str, *, on: dt.date | None = None, consult_full_code_set: bool = True, describe: bool = True) -> CodeCheck:
    """Check a diagnosis code on a date of service (today when None): billable, a header, not a
    code on that date, or malformed.

    With ``consult_full_code_set=False`` only slpterm's list of SLP codes is consulted, and a code
    outside it is ``unlisted_valid_format`` (a warning). ``describe=False`` leaves out the title
    (the coding engine needs only the status).
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
    if consult_full_code_set:
        return _check_in_full_set(normalized, on, describe)
    entry = _codes().get(normalized)
    if entry is not None:
        if entry.billable:
            return CodeCheck(normalized, CodeStatus.BILLABLE, entry.description, None)
        return CodeCheck(
            normalized, CodeStatus.NOT_BILLABLE, entry.description, _header_reason(normalized, _listed_children(normalized))
        )
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


@lru_cache(maxsize=8)
def _tabular_excludes1(folder: Path) -> dict[str, tuple[tuple[str, str, str], ...]]:
    """The tabular's Excludes1 rules of a release, by the category of the code carrying the note."""
    from slpterm.clinical.icd10_sources import read_excludes1

    path = folder / "excludes1.tsv"
    if not path.is_file():
        return {}
    by_category: dict[str, list[tuple[str, str, str]]] = {}
    for rule in read_excludes1(path):
        by_category.setdefault(rule.a[:3], []).append((rule.a, rule.b, rule.note))
    return {key: tuple(value) for key, value in by_category.items()}


_tabular_for_day: dict[Release, dict[str, tuple[tuple[str, str, str], ...]]] = {}


def _tabular_rules_for(on: dt.date | None) -> dict[str, tuple[tuple[str, str, str], ...]]:
    """The Excludes1 notes of the release in force, else of the latest earlier release that has them."""
    answering = release_for(on)
    found = _tabular_for_day.get(answering)
    if found is None:
        found = {}
        candidates = [r for r in releases() if r.effective <= answering.effective] or list(releases()[:1])
        for release in reversed(candidates):
            found = _tabular_excludes1(release.folder)
            if found:
                break
        _tabular_for_day[answering] = found
    return found


def _covers(pattern: str, code: str) -> bool:
    return len(code) >= len(pattern) and all(p == "x" or p == c for p, c in zip(pattern, code))


def excludes1_conflicts(
    codes: list[str], *, on: dt.date | None = None, rules: Excludes1Rules | None = None
) -> list[tuple[str, str, str]]:
    """Pairs of codes that an Excludes1 note forbids together: (code_a, code_b, reason).

    Without ``rules``: the clinic-correctable ``excludes1.toml`` and the tabular's notes of the
    release in force on ``on`` (a note on a code applies to its subcodes, as in the tabular).
    """
    explicit = rules is not None
    rules = rules or _excludes1()
    normalized = list(dict.fromkeys(normalize_code(code) for code in codes if code and code.strip()))
    found: list[tuple[str, str, str]] = []
    seen: set[tuple[str, str]] = set()

    def add(first: str, second: str, reason: str) -> None:
        if (first, second) not in seen:
            seen.add((first, second))
            seen.add((second, first))
            found.append((first, second, reason))

    for rule in rules.pairs:
        if not in_force(rule.valid_from, rule.valid_to, on):
            continue
        for first in normalized:
            for second in normalized:
                if first != second and pattern_matches(rule.a, first) and pattern_matches(rule.b, second):
                    add(first, second, rule.reason)
    if not explicit and len(normalized) > 1:
        tabular = _tabular_rules_for(on)
        for first in normalized:
            for a, b, note in tabular.get(first[:3], ()):
                if not _covers(a, first):
                    continue
                for second in normalized:
                    if second != first and _covers(b, second):
                        add(first, second, f"the ICD-10-CM tabular's Excludes1 note at {a}: {note}")
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

"""Catalogs the session screens offer: the goal bank, the techniques checklist and SOAP phrases.

Each catalog is a TOML file shipped in ``slpterm/rules/`` (goal_bank.toml, techniques.toml,
phrases.toml). A clinic rules folder may hold a file of the same name: its entries are added to
the shipped ones, and an entry whose ``id`` matches a shipped entry replaces it. Files are
validated on load; problems raise :class:`~slpterm.clinical.data.ClinicalDataError` naming the
file, the entry and the fix.

Formats (every file has a top-level ``source``):

- goal_bank.toml: ``[[goal]]`` with id, area (DisorderArea), term (long|short), text (template;
  placeholders from :data:`GOAL_PLACEHOLDERS`), target_accuracy (1-100), consecutive_sessions
  (>= 1), criterion (how it is measured), optional default_cue (CueLevel).
- techniques.toml: ``[[procedure]]`` with id, name, area; ``[[technique]]`` with id, procedure
  (a procedure id), area, name, note (wording for the treatment note).
- phrases.toml: ``[[phrase]]`` with id, section (subjective|objective|assessment|plan), text
  (placeholders in braces are left for the clinician).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from slpterm.clinical.data import (
    ClinicalDataError,
    read_toml,
    require_int,
    require_str,
    rules_path,
)
from slpterm.domain.vocab import CueLevel, DisorderArea, GoalTerm

GOAL_BANK_FILE = "goal_bank.toml"
TECHNIQUES_FILE = "techniques.toml"
PHRASES_FILE = "phrases.toml"

GOAL_PLACEHOLDERS = frozenset(
    {"patient", "target", "position", "level", "cue", "accuracy", "sessions", "context", "strategy"}
)


class SoapSection(StrEnum):
    SUBJECTIVE = "subjective"
    OBJECTIVE = "objective"
    ASSESSMENT = "assessment"
    PLAN = "plan"


@dataclass(frozen=True)
class GoalTemplate:
    id: str
    area: DisorderArea
    term: GoalTerm
    text: str
    target_accuracy: int
    consecutive_sessions: int
    criterion: str
    default_cue: CueLevel | None = None

    @property
    def placeholders(self) -> list[str]:
        return _placeholders(self.text)

    def render(self, **values: object) -> str:
        """Fill the template; accuracy, sessions and cue default to the goal's own values.

        Placeholders without a value stay in braces so the clinician sees what to fill in.
        """
        filled: dict[str, object] = {
            "accuracy": self.target_accuracy,
            "sessions": self.consecutive_sessions,
        }
        if self.default_cue is not None:
            filled["cue"] = self.default_cue.value
        filled.update({key: value for key, value in values.items() if value is not None and value != ""})
        return self.text.format_map(_KeepMissing(filled))


class _KeepMissing(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class Procedure:
    id: str
    name: str
    area: DisorderArea


@dataclass(frozen=True)
class Technique:
    id: str
    procedure: str
    area: DisorderArea
    name: str
    note: str


@dataclass(frozen=True)
class TechniqueCatalog:
    procedures: tuple[Procedure, ...]
    techniques: tuple[Technique, ...]

    def by_id(self, technique_id: str) -> Technique | None:
        return next((t for t in self.techniques if t.id == technique_id), None)

    def for_procedure(self, procedure_id: str) -> list[Technique]:
        return [t for t in self.techniques if t.procedure == procedure_id]

    def for_area(self, area: DisorderArea | str) -> list[Technique]:
        return [t for t in self.techniques if t.area == area]


@dataclass(frozen=True)
class Phrase:
    id: str
    section: SoapSection
    text: str


# ---------------------------------------------------------------------------------------------
# Loading helpers


def _placeholders(text: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


def _check_template(path: Path, entry: str, text: str, allowed: frozenset[str] | None) -> None:
    try:
        names = _placeholders(text)
    except ValueError as exc:
        raise ClinicalDataError(path, f"text has unbalanced braces ({exc}); write placeholders as {{name}}", entry) from None
    for name in names:
        if not name.isidentifier():
            raise ClinicalDataError(path, f"placeholder {{{name}}} is not a simple name", entry)
        if allowed is not None and name not in allowed:
            raise ClinicalDataError(
                path, f"placeholder {{{name}}} is unknown; use one of {', '.join(sorted(allowed))}", entry
            )


def _enum(path: Path, entry: str, table: dict[str, Any], key: str, enum: type[StrEnum]) -> Any:
    value = table.get(key)
    try:
        return enum(str(value))
    except ValueError:
        choices = ", ".join(member.value for member in enum)  # type: ignore[attr-defined]
        raise ClinicalDataError(path, f"{key} = {value!r} is unknown; use one of {choices}", entry) from None


def _entries(path: Path, data: dict[str, Any], table_name: str) -> list[tuple[str, dict[str, Any]]]:
    items = data.get(table_name, [])
    if not isinstance(items, list):
        raise ClinicalDataError(path, f"'{table_name}' must be written as [[{table_name}]] tables")
    result = []
    for index, item in enumerate(items, start=1):
        label = f"[[{table_name}]] #{index}"
        if not isinstance(item, dict):
            raise ClinicalDataError(path, f"each [[{table_name}]] must be a table", label)
        if isinstance(item.get("id"), str) and item["id"].strip():
            label = f"[[{table_name}]] id={item['id']!r}"
        result.append((label, item))
    return result


def _sources(name: str, clinic_dir: Path | None) -> list[Path]:
    paths = [rules_path(name)]
    if clinic_dir is not None and (clinic_dir / name).exists():
        paths.append(clinic_dir / name)
    return paths


def _merge_by_id(existing: dict[str, Any], path: Path, label: str, item_id: str, value: Any, seen_here: set[str]) -> None:
    if item_id in seen_here:
        raise ClinicalDataError(path, f"id {item_id!r} is used twice in this file; give each entry its own id", label)
    seen_here.add(item_id)
    existing[item_id] = value


# ---------------------------------------------------------------------------------------------
# Goal bank


def load_goal_bank(clinic_dir: Path | None = None, *, path: Path | None = None) -> list[GoalTemplate]:
    """The goal bank: shipped goals plus a clinic's (same id = replacement)."""
    goals: dict[str, GoalTemplate] = {}
    for source in [path] if path else _sources(GOAL_BANK_FILE, clinic_dir):
        data = read_toml(source)
        require_str(source, "top level", data, "source")
        seen: set[str] = set()
        for label, table in _entries(source, data, "goal"):
            goal_id = require_str(source, label, table, "id")
            text = require_str(source, label, table, "text")
            _check_template(source, label, text, GOAL_PLACEHOLDERS)
            cue = table.get("default_cue")
            goal = GoalTemplate(
                id=goal_id,
                area=_enum(source, label, table, "area", DisorderArea),
                term=_enum(source, label, table, "term", GoalTerm),
                text=text,
                target_accuracy=require_int(source, label, table, "target_accuracy", minimum=1, maximum=100),
                consecutive_sessions=require_int(source, label, table, "consecutive_sessions", minimum=1, maximum=50),
                criterion=require_str(source, label, table, "criterion"),
                default_cue=None if cue is None else _enum(source, label, table, "default_cue", CueLevel),
            )
            _merge_by_id(goals, source, label, goal_id, goal, seen)
    return list(goals.values())


def goals_for_area(goals: list[GoalTemplate], area: DisorderArea | str, term: GoalTerm | str | None = None) -> list[GoalTemplate]:
    """Goals of one disorder area (and term, if given), long-term goals first."""
    chosen = [g for g in goals if g.area == area and (term is None or g.term == term)]
    return sorted(chosen, key=lambda g: 0 if g.term == GoalTerm.LONG else 1)


# ---------------------------------------------------------------------------------------------
# Techniques


def load_techniques(clinic_dir: Path | None = None, *, path: Path | None = None) -> TechniqueCatalog:
    """The techniques checklist: shipped procedures and techniques plus a clinic's."""
    procedures: dict[str, Procedure] = {}
    techniques: dict[str, Technique] = {}
    pending: list[tuple[Path, str, Technique]] = []
    for source in [path] if path else _sources(TECHNIQUES_FILE, clinic_dir):
        data = read_toml(source)
        require_str(source, "top level", data, "source")
        seen_procedures: set[str] = set()
        for label, table in _entries(source, data, "procedure"):
            procedure_id = require_str(source, label, table, "id")
            procedure = Procedure(
                procedure_id, require_str(source, label, table, "name"), _enum(source, label, table, "area", DisorderArea)
            )
            _merge_by_id(procedures, source, label, procedure_id, procedure, seen_procedures)
        seen_techniques: set[str] = set()
        for label, table in _entries(source, data, "technique"):
            technique_id = require_str(source, label, table, "id")
            technique = Technique(
                id=technique_id,
                procedure=require_str(source, label, table, "procedure"),
                area=_enum(source, label, table, "area", DisorderArea),
                name=require_str(source, label, table, "name"),
                note=require_str(source, label, table, "note"),
            )
            _merge_by_id(techniques, source, label, technique_id, technique, seen_techniques)
            pending.append((source, label, technique))
    for source, label, technique in pending:
        if technique.procedure not in procedures:
            raise ClinicalDataError(
                source,
                f"procedure {technique.procedure!r} is not defined; add a [[procedure]] with that id or use one of "
                f"{', '.join(sorted(procedures))}",
                label,
            )
    return TechniqueCatalog(tuple(procedures.values()), tuple(techniques.values()))


# ---------------------------------------------------------------------------------------------
# Phrases


def load_phrases(clinic_dir: Path | None = None, *, path: Path | None = None) -> dict[SoapSection, list[Phrase]]:
    """SOAP phrases by section (every section present, possibly empty)."""
    phrases: dict[str, Phrase] = {}
    for source in [path] if path else _sources(PHRASES_FILE, clinic_dir):
        data = read_toml(source)
        require_str(source, "top level", data, "source")
        seen: set[str] = set()
        for label, table in _entries(source, data, "phrase"):
            phrase_id = require_str(source, label, table, "id")
            text = require_str(source, label, table, "text")
            _check_template(source, label, text, None)
            phrase = Phrase(phrase_id, _enum(source, label, table, "section", SoapSection), text)
            _merge_by_id(phrases, source, label, phrase_id, phrase, seen)
    by_section: dict[SoapSection, list[Phrase]] = {section: [] for section in SoapSection}
    for phrase in phrases.values():
        by_section[phrase.section].append(phrase)
    return by_section

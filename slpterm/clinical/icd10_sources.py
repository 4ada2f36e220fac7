"""Reading the CMS ICD-10-CM release files into slpterm's compact code-set files.

Used at build time (``scripts/build_icd10cm.py`` writes the shipped files under
``slpterm/rules/icd10cm/``) and by ``slpterm rules install`` for a future fiscal year's CMS files
(the order file and the tabular XML), which are written into the clinic's rules folder.

The compact files (format in docs/rules-format.md, "ICD-10-CM"):

- ``codes.zip``: one billable code a line, ``CODE FROM TO`` (code without its dot, dates as
  YYYYMMDD, ``-`` for open), sorted by code: every code valid for claims on some date, with the
  dates of service it is valid on. Headers are not listed; a code is a header on a date when a
  longer code valid on that date starts with it.
- ``titles.zip``: ``CODE<TAB>title`` sorted by code, from the tabular.

Both zips hold one member per first two characters of the code, so a look-up reads only its own, and header.txt.
- ``excludes1.tsv``: the tabular's Excludes1 notes that involve the codes an SLP meets, as
  ``A<TAB>B<TAB>note``: A is the code carrying the note (it and its subcodes), B the excluded code
  or pattern (it and its subcodes; a lower-case x stands for any one character).

Nothing here imports Textual or the store.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

OPEN = "-"
CODE_TOKEN = re.compile(r"\b([A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{0,4})?)(-?)")
FINAL_CHARACTERS = re.compile(r"\b([A-Z][0-9][0-9A-Z])\. with final characters -([0-9A-Z]{1,3})")
RANGE = re.compile(r"\b([A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?)-([A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?)\b")


def undotted(code: str) -> str:
    return code.replace(".", "").strip().upper()


def dotted(code: str) -> str:
    code = undotted(code)
    return code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"


@dataclass(frozen=True, slots=True)
class CodeRecord:
    """A billable code and the dates of service it is valid on (None = open)."""

    code: str  # without the dot
    valid_from: date | None
    valid_to: date | None


@dataclass(frozen=True, slots=True)
class ExcludesRule:
    a: str  # dotted code, applies to its subcodes too
    b: str  # dotted code or pattern with x wildcards, subcodes included
    note: str


class SourceError(ValueError):
    """A CMS file is not in the layout expected; the message names the file and the line."""


def _ymd(value: date | None) -> str:
    return value.strftime("%Y%m%d") if value else OPEN


def _parse_ymd(text: str) -> date | None:
    if text == OPEN:
        return None
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


# ---------------------------------------------------------------------------------------------
# Writing and reading the compact files


def write_codes(records: Iterable[CodeRecord], target: Path, header: Iterable[str]) -> None:
    lines = [f"{r.code} {_ymd(r.valid_from)} {_ymd(r.valid_to)}" for r in sorted(records, key=lambda r: (r.code, _ymd(r.valid_from)))]
    _write_by_letter(target, lines, header)


def write_titles(titles: dict[str, str], target: Path) -> None:
    _write_by_letter(target, [f"{code}\t{titles[code]}" for code in sorted(titles)], ["titles by code"])


def write_excludes1(rules: Iterable[ExcludesRule], target: Path, header: Iterable[str]) -> None:
    body = [f"# {line}" for line in header]
    body += [f"{r.a}\t{r.b}\t{r.note}" for r in sorted(set(rules), key=lambda r: (r.a, r.b, r.note))]
    target.write_text("\n".join(body) + "\n", encoding="utf-8")


def _write_by_letter(target: Path, lines: list[str], header: Iterable[str]) -> None:
    """A zip with one member per first two characters (a look-up reads only its own) and a header."""
    by_letter: dict[str, list[str]] = {}
    for line in lines:
        by_letter.setdefault(line[:2], []).append(line)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        _write_member(archive, "header.txt", "".join(f"{line}\n" for line in header))
        for letter in sorted(by_letter):
            _write_member(archive, f"{letter}.txt", "\n".join(by_letter[letter]) + "\n")


def _write_member(archive: zipfile.ZipFile, name: str, text: str) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))  # fixed: a rebuild of the same data is byte-identical
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, text.encode("utf-8"), compresslevel=9)


_archives: dict[Path, zipfile.ZipFile] = {}


def _archive(path: Path) -> zipfile.ZipFile:
    """The open zip (its directory is read once per process; zip reads are thread-safe)."""
    found = _archives.get(path)
    if found is None:
        found = _archives[path] = zipfile.ZipFile(path)
    return found


def forget_archives() -> None:
    """Close the open zips (after an install or a rollback replaced them)."""
    for archive in _archives.values():
        archive.close()
    _archives.clear()


def read_header(path: Path) -> list[str]:
    return _archive(path).read("header.txt").decode("utf-8").splitlines()


def read_letter(path: Path, letter: str) -> list[str]:
    """The sorted lines of codes starting with `letter` (the first two characters; [] when none)."""
    try:
        return _archive(path).read(f"{letter}.txt").decode("utf-8").splitlines()
    except KeyError:
        return []


def read_code_records(path: Path) -> list[CodeRecord]:
    out = []
    members = sorted(name[:-4] for name in _archive(path).namelist() if name != "header.txt")
    for letter in members:
        for line in read_letter(path, letter):
            code, start, end = line.split(" ")
            out.append(CodeRecord(code, _parse_ymd(start), _parse_ymd(end)))
    return out


def read_excludes1(path: Path) -> list[ExcludesRule]:
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise SourceError(f"{path}: line {number}: expected A<TAB>B<TAB>note")
        out.append(ExcludesRule(*parts))
    return out


# ---------------------------------------------------------------------------------------------
# CMS order file (icd10cm_order_YYYY.txt): fixed columns


def read_order_file(path: Path) -> tuple[set[str], set[str], dict[str, str]]:
    """The CMS order file: order number (5), code (7), billable flag 0/1 (1), short and long titles.

    Returns (billable codes, header codes, long titles), codes without dots.
    """
    billable: set[str] = set()
    headers: set[str] = set()
    titles: dict[str, str] = {}
    try:
        text = path.read_text(encoding="latin-1")
    except OSError as exc:
        raise SourceError(f"{path}: cannot be read ({exc})") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if len(line) < 16 or not line[:5].strip().isdigit() or line[14] not in "01":
            raise SourceError(f"{path}: line {number} is not in the CMS order-file layout "
                              "(order number, code, billable flag 0/1, short title, long title)")
        code = line[6:13].strip()
        if not re.fullmatch(r"[A-Z][0-9][0-9A-Z][0-9A-Z]{0,4}", code):
            raise SourceError(f"{path}: line {number}: '{code}' is not an ICD-10-CM code")
        (billable if line[14] == "1" else headers).add(code)
        long_title = line[77:].strip() if len(line) > 77 else line[16:76].strip()
        titles[code] = long_title or line[16:76].strip()
    if not billable:
        raise SourceError(f"{path}: no billable codes found; is this the CMS ICD-10-CM order file?")
    return billable, headers, titles


# ---------------------------------------------------------------------------------------------
# Tabular XML


def _notes(element: ET.Element, tag: str) -> list[str]:
    found = element.find(tag)
    return [note.text.strip() for note in found.findall("note") if note.text] if found is not None else []


def read_tabular(source: Path | bytes) -> tuple[dict[str, str], dict[str, list[str]], dict[str, dict[str, str]]]:
    """The tabular XML: titles by dotted code, Excludes1 notes by dotted code, and the 7th-character
    definitions by the dotted code that declares them."""
    import xml.etree.ElementTree as ET

    titles: dict[str, str] = {}
    excludes: dict[str, list[str]] = {}
    seventh: dict[str, dict[str, str]] = {}
    try:
        stream = io.BytesIO(source) if isinstance(source, bytes) else source.open("rb")
        with stream:
            for _, element in ET.iterparse(stream, events=("end",)):
                if element.tag != "diag":
                    continue
                name = (element.findtext("name") or "").strip()
                if not name:
                    continue
                titles[name] = (element.findtext("desc") or "").strip()
                notes = _notes(element, "excludes1")
                if notes:
                    excludes[name] = notes
                definition = element.find("sevenChrDef")
                if definition is not None:
                    seventh[name] = {ext.get("char", ""): (ext.text or "").strip() for ext in definition.findall("extension")}
                for child in list(element):
                    if child.tag == "diag":
                        element.remove(child)  # keep memory flat on a 10 MB file
    except ET.ParseError as exc:
        raise SourceError(f"{source if isinstance(source, Path) else 'tabular XML'}: not valid XML ({exc})") from None
    if not titles:
        raise SourceError("the tabular XML has no <diag> entries; is this the CMS ICD-10-CM tabular?")
    return titles, excludes, seventh


def title_for(code: str, titles: dict[str, str], seventh: dict[str, dict[str, str]]) -> str | None:
    """A code's title; a code with a 7th character gets its parent's title and the character's meaning."""
    key = dotted(code)
    if key in titles:
        return titles[key]
    if len(undotted(code)) == 7:
        char = undotted(code)[6]
        probe = dotted(undotted(code)[:6])
        while probe and probe not in titles:
            probe = probe[:-1].rstrip(".")
        base = titles.get(probe)
        ancestor = probe
        while ancestor and base:
            if char in seventh.get(ancestor, {}):
                return f"{base}, {seventh[ancestor][char]}"
            ancestor = ancestor[:-1].rstrip(".")
    return None


def _category_range(start: str, end: str, categories: list[str]) -> list[str]:
    return [c for c in categories if start[:3] <= c <= end[:3]]


def excluded_patterns(note: str, categories: list[str]) -> list[str]:
    """The codes or patterns a note names in its parentheses: exact codes, X.- (subcodes), ranges of
    categories, and 'I69. with final characters -20' (I69.x20)."""
    found: list[str] = []
    for group in re.findall(r"\(([^()]*)\)", note):
        for match in FINAL_CHARACTERS.finditer(group):
            tail = match.group(2)
            found.append(f"{match.group(1)}." + "x" * max(0, 3 - len(tail)) + tail)
        group = FINAL_CHARACTERS.sub(" ", group)
        for match in RANGE.finditer(group):
            found.extend(_category_range(match.group(1), match.group(2), categories))
        group = RANGE.sub(" ", group)
        for match in CODE_TOKEN.finditer(group):
            found.append(match.group(1).rstrip("."))
    return list(dict.fromkeys(found))


def pattern_covers(pattern: str, code: str) -> bool:
    """True when `code` (dotted) is `pattern` or one of its subcodes; x stands for any character."""
    return len(code) >= len(pattern) and all(p == "x" or p == c for p, c in zip(pattern, code))


def excludes_rules(excludes: dict[str, list[str]], categories: list[str]) -> Iterator[ExcludesRule]:
    for code, notes in excludes.items():
        for note in notes:
            for pattern in excluded_patterns(note, categories):
                if pattern != code:
                    yield ExcludesRule(code, pattern, note)


def relevant_rules(rules: Iterable[ExcludesRule], slp_codes: Iterable[str]) -> list[ExcludesRule]:
    """The rules where the code carrying the note, or the excluded code, covers a code an SLP meets."""
    slp = list(slp_codes)
    return [r for r in rules if any(pattern_covers(r.a, c) or pattern_covers(r.b, c) for c in slp)]

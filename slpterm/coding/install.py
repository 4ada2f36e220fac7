"""Installing a year's billing rules from the files clinics get (`slpterm rules install`).

Inputs, each optional but together what a new year needs:

- the CMS Physician Fee Schedule relative value file (``PPRRVU<YYYY>_JAN.csv`` in the RVU zip):
  a few title lines, then a header row starting ``HCPCS``; the columns used are HCPCS, MOD,
  DESCRIPTION (short descriptor) and STATUS CODE (A = active and paid);
- the four CMS NCCI practitioner PTP files of a quarter (``...-f1.zip`` to ``-f4.zip``, each a
  tab-delimited table split by code range), read in one run;
- the CMS practitioner MUE file (``MCR_MUE_PractitionerServices_Eff_MM-DD-YYYY.csv``): title
  lines, then a header row starting with the HCPCS column; code, MUE value, adjudication
  indicator, rationale;
- the clinic's own rules TOML (``kind = "codeset_install"``, docs/rules-format.md): what those
  files do not say, i.e. which new code is which disorder area and whether it is a base code or
  an add-on, its minutes, its therapy status and the same-day rule;
- for ICD-10-CM, a fiscal year's CMS order file and tabular XML.

`plan_install` reads them and returns an `InstallPlan`: the proposed area mapping (from the
descriptors where the TOML is silent; the user confirms it), the generated rules files, every
problem found when the whole rule book is validated with them, and what changes on which date.
`apply_install` writes the files into the clinic's rules folder, keeping what they replace, and
adds the install to the folder's manifest (``installs.json``); `rollback_last` undoes the latest
install. Recording in the audit trail is the caller's (it holds the store). No Textual here.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import tomllib
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, UTC
from pathlib import Path
from typing import Any
from collections.abc import Iterable, Mapping

from slpterm.coding.rulebook import (
    CODE_PATTERN,
    CONFIDENCE,
    SAME_DAY_RULES,
    THERAPY_KINDS,
    MueLimit,
    NcciPair,
    RuleBook,
    RuleBookError,
    RuleProblem,
    load_rulebook,
)
from slpterm.domain.vocab import DisorderArea

MANIFEST = "installs.json"
BACKUPS = ".installs"
TREATMENT_AREAS = (DisorderArea.FLUENCY, DisorderArea.SPEECH_SOUND, DisorderArea.LANGUAGE, DisorderArea.VOICE)
ROLES = ("base", "addon", "untimed")
ACTIVE_STATUSES = ("A", "T")  # A: active and paid; T: paid only as part of other services (still valid)

# Words in a short descriptor that suggest a disorder area, and that a code is an add-on.
_AREA_WORDS = (
    (DisorderArea.FLUENCY, re.compile(r"fluen|stutter", re.I)),
    (DisorderArea.SPEECH_SOUND, re.compile(r"speech\s*s(ou)?nd|sp\s*snd|artic|phonol", re.I)),
    (DisorderArea.VOICE, re.compile(r"voic|\bvox\b", re.I)),
    (DisorderArea.LANGUAGE, re.compile(r"lang|\blng\b", re.I)),
)
_ADDON_WORDS = re.compile(r"\bea(ch)?\s*add|\baddl\b|add-on|\bea\s*15\b|\beach\s*additional", re.I)
_BASE_WORDS = re.compile(r"\b1st\b|first|\binit", re.I)
_TREATMENT_WORDS = re.compile(r"\btx\b|\btrmt\b|\btreat|\bther", re.I)


class InstallError(Exception):
    """A file cannot be read as what it should be; `problems` name the file, line and fix."""

    def __init__(self, problems: Iterable[RuleProblem]):
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


# ---------------------------------------------------------------------------------------------
# Reading the CMS files


@dataclass(frozen=True, slots=True)
class RvuRow:
    code: str
    modifier: str
    description: str
    status: str


def _csv_rows(path: Path) -> list[list[str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = path.read_text(encoding="latin-1")
    except OSError as exc:
        raise InstallError([RuleProblem(str(path), "file", f"cannot be read ({exc})", "check the path")]) from None
    return list(csv.reader(io.StringIO(text)))


def _header_index(rows: list[list[str]], first_cell: re.Pattern[str], path: Path, what: str) -> int:
    for index, row in enumerate(rows):
        if row and first_cell.match(row[0].strip()):
            return index
    raise InstallError([RuleProblem(str(path), "header", f"no header row found; is this the {what}?",
                                    f"give the {what} as published by CMS (title lines, then the header row)")])


def read_rvu_file(path: Path) -> dict[str, RvuRow]:
    """The PFS relative value file: rows without a modifier, by code (title lines are skipped)."""
    rows = _csv_rows(path)
    start = _header_index(rows, re.compile(r"^HCPCS$", re.I), path, "CMS PFS relative value file (PPRRVU...csv)")
    header = [cell.strip().upper() for cell in rows[start]]
    needed: dict[str, int] = {}
    for name in ("HCPCS", "MOD", "DESCRIPTION", "STATUS CODE"):
        if name not in header:
            raise InstallError([RuleProblem(str(path), "header", f"the column '{name}' is missing",
                                            "give the PPRRVU CSV from the CMS RVU zip")])
        needed[name] = header.index(name)
    out: dict[str, RvuRow] = {}
    for row in rows[start + 1:]:
        if len(row) <= max(needed.values()):
            continue
        code = row[needed["HCPCS"]].strip().upper()
        modifier = row[needed["MOD"]].strip().upper()
        if not CODE_PATTERN.match(code) or modifier:
            continue
        out[code] = RvuRow(code, modifier, row[needed["DESCRIPTION"]].strip(), row[needed["STATUS CODE"]].strip().upper())
    if not out:
        raise InstallError([RuleProblem(str(path), "rows", "no code rows found", "give the PPRRVU CSV from the CMS RVU zip")])
    return out


_SEGMENT = re.compile(r"-f([1-4])\b|_f([1-4])\b|f([1-4])\.(zip|txt)$", re.I)


def ptp_segment(path: Path) -> int | None:
    match = _SEGMENT.search(path.name)
    return int(next(g for g in match.groups() if g and g.isdigit())) if match else None


def read_ptp_files(paths: Iterable[Path], codes: Iterable[str]) -> tuple[list[NcciPair], dict[int, int], list[RuleProblem]]:
    """The pairs between `codes` in a quarter's practitioner PTP files, the rows kept per segment,
    and the problems (a missing or repeated segment, an unreadable file)."""
    from slpterm.coding.cli import import_cms_ptp

    keep = set(codes)
    pairs: list[NcciPair] = []
    per_segment: dict[int, int] = {}
    problems: list[RuleProblem] = []
    for path in paths:
        segment = ptp_segment(path)
        if segment is None:
            problems.append(RuleProblem(str(path), "file name", "the name does not say which of the four segments (f1-f4) it is",
                                        "give the CMS files as named, e.g. ...-practitioner-ptp-edits-...-f1.zip"))
            continue
        if segment in per_segment:
            problems.append(RuleProblem(str(path), "file name", f"segment f{segment} is given twice", "give each of f1-f4 once"))
            continue
        try:
            found = import_cms_ptp(path, keep)
        except (OSError, zipfile.BadZipFile) as exc:
            problems.append(RuleProblem(str(path), "file", f"cannot be read ({exc})", "download the file again"))
            continue
        per_segment[segment] = len(found)
        pairs.extend(found)
    if per_segment:
        missing = [f"f{n}" for n in range(1, 5) if n not in per_segment]
        if missing:
            problems.append(RuleProblem("PTP files", "segments", f"{', '.join(missing)} missing: the quarter's edits are split "
                                        "over four files by code range, and a partial import misses pairs",
                                        "give all four practitioner PTP files of the quarter in one run"))
    return pairs, per_segment, problems


_MUE_DATE = re.compile(r"Eff_(\d{2})-(\d{2})-(\d{4})", re.I)


def read_mue_file(path: Path) -> list[MueLimit]:
    """The practitioner MUE CSV: title lines, a header whose first column names the HCPCS code,
    then code, MUE value, adjudication indicator, rationale. The effective date comes from the
    file name (Eff_MM-DD-YYYY)."""
    rows = _csv_rows(path)
    start = _header_index(rows, re.compile(r"^HCPCS", re.I), path, "CMS practitioner MUE file")
    match = _MUE_DATE.search(path.name)
    effective = date(int(match.group(3)), int(match.group(1)), int(match.group(2))) if match else None
    out = []
    for row in rows[start + 1:]:
        if len(row) < 3:
            continue
        code, value, adjudication = (cell.strip() for cell in row[:3])
        if CODE_PATTERN.match(code.upper()) and value.isdigit():
            rationale = row[3].strip() if len(row) > 3 else ""
            out.append(MueLimit(code.upper(), int(value), adjudication[:1], effective, None,
                                f"CMS practitioner MUE {path.name}" + (f": {rationale}" if rationale else "")))
    if not out:
        raise InstallError([RuleProblem(str(path), "rows", "no MUE rows found", "give the CMS practitioner services MUE CSV")])
    return out


# ---------------------------------------------------------------------------------------------
# The clinic's install TOML


@dataclass(frozen=True, slots=True)
class NewCode:
    """One code as the clinic describes it; None fields are proposed from the descriptors."""

    code: str
    area: DisorderArea | None
    role: str | None
    paraphrase: str | None = None
    min_minutes: int | None = None
    unit_minutes: int | None = None
    max_units: int | None = None
    addon_to: str | None = None
    addon_order: int = 0
    therapy: str = "unknown"
    confidence: str = "C"
    pooled: bool = False
    note: str = ""


@dataclass(frozen=True)
class ClinicSpec:
    year: int
    source: str
    codes: tuple[NewCode, ...]
    same_day_areas: str | None
    same_day_confidence: str
    session_type: str
    mue_confidence: str = "C"


_SPEC_CODE_KEYS = ("code", "area", "role", "paraphrase", "min_minutes", "unit_minutes", "max_units", "addon_to", "addon_order",
                   "therapy", "confidence", "pooled", "note")


def read_clinic_spec(path: Path) -> ClinicSpec:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InstallError([RuleProblem(str(path), "file", f"cannot be read ({exc})", "check the path")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise InstallError([RuleProblem(str(path), "syntax", f"not valid TOML ({exc})", "correct the syntax at the position shown")]) from None
    problems: list[RuleProblem] = []

    def problem(entry: str, message: str, fix: str) -> None:
        problems.append(RuleProblem(str(path), entry, message, fix))

    if data.get("kind") != "codeset_install":
        problem("header", f"kind is {data.get('kind')!r}", 'start the file with kind = "codeset_install"')
    for key in data:
        if key not in ("kind", "year", "source", "same_day_areas", "same_day_confidence", "session_type", "code"):
            problem("header", f"unknown key '{key}'", "see docs/rules-format.md, 'Installing a new year'")
    year = data.get("year")
    if not isinstance(year, int) or not 2020 <= year <= 2100:
        problem("header", "year is missing or not a year", "write year = 2027")
    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        problem("header", "source is missing", 'say where the codes come from, e.g. source = "CPT 2027 data file"')
    same_day = data.get("same_day_areas")
    if same_day is not None and same_day not in SAME_DAY_RULES:
        problem("header", f"same_day_areas {same_day!r} is unknown", f"use one of {', '.join(SAME_DAY_RULES)}")
    same_day_confidence = data.get("same_day_confidence", "C")
    if same_day_confidence not in CONFIDENCE:
        problem("header", "same_day_confidence must be C, R or U", 'write same_day_confidence = "R"')
    codes = []
    for index, table in enumerate(data.get("code", [])):
        entry = f"code #{index + 1}" + (f" ({table.get('code')})" if isinstance(table.get("code"), str) else "")
        for key in table:
            if key not in _SPEC_CODE_KEYS:
                problem(entry, f"unknown key '{key}'", f"use one of: {', '.join(_SPEC_CODE_KEYS)}")
        code = str(table.get("code", "")).strip().upper()
        if not CODE_PATTERN.match(code):
            problem(entry, "code is missing or not five characters", 'write code = "9X001" as in the CPT file')
            continue
        area = table.get("area")
        if area is not None and area not in {a.value for a in DisorderArea}:
            problem(entry, f"area {area!r} is unknown", f"use one of {', '.join(a.value for a in DisorderArea)}")
            continue
        role = table.get("role")
        if role is not None and role not in ROLES:
            problem(entry, f"role {role!r} is unknown", "use base, addon or untimed")
            continue
        therapy = table.get("therapy", "unknown")
        if therapy not in THERAPY_KINDS:
            problem(entry, f"therapy {therapy!r} is unknown", f"use one of {', '.join(THERAPY_KINDS)}")
            continue
        numbers = {}
        for key in ("min_minutes", "unit_minutes", "max_units", "addon_order"):
            value = table.get(key)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                problem(entry, f"{key} must be a whole number", f"write {key} = 15")
                value = None
            numbers[key] = value
        addon_to = table.get("addon_to")
        if addon_to is not None and not CODE_PATTERN.match(str(addon_to)):
            problem(entry, "addon_to is not a code", 'write addon_to = "9X001"')
            addon_to = None
        codes.append(NewCode(code, DisorderArea(area) if area else None, role, table.get("paraphrase"),
                             numbers["min_minutes"], numbers["unit_minutes"], numbers["max_units"], addon_to,
                             numbers["addon_order"] or 0, therapy, table.get("confidence", "C"), bool(table.get("pooled", False)),
                             str(table.get("note", ""))))
    if problems:
        raise InstallError(problems)
    assert isinstance(year, int) and isinstance(source, str)  # the header checks above found no problem
    return ClinicSpec(year, source.strip(), tuple(codes), same_day, same_day_confidence,
                      str(data.get("session_type", "individual_treatment")))


# ---------------------------------------------------------------------------------------------
# Proposing the area mapping


@dataclass(frozen=True, slots=True)
class Mapping_:
    code: str
    area: DisorderArea | None
    role: str | None
    addon_to: str | None
    descriptor: str
    from_clinic: bool

    def text(self) -> str:
        what = f"{self.area.value if self.area else '?'} {self.role or '?'}"
        tail = f" of {self.addon_to}" if self.addon_to else ""
        origin = "clinic TOML" if self.from_clinic else "proposed from the descriptor"
        return f"{self.code}  {what}{tail}  ({origin}: {self.descriptor or 'no descriptor'})"


def propose_area(descriptor: str) -> DisorderArea | None:
    for area, words in _AREA_WORDS:
        if words.search(descriptor):
            return area
    return None


def propose_role(descriptor: str) -> str | None:
    if _ADDON_WORDS.search(descriptor):
        return "addon"
    if _BASE_WORDS.search(descriptor) or _TREATMENT_WORDS.search(descriptor):
        return "base"
    return None


def candidate_codes(rvu: Mapping[str, RvuRow], known: Iterable[str]) -> list[str]:
    """RVU codes that look like new SLP treatment codes: in the medicine section (9xxxx), not known
    to the installed sets, active, and described as speech, language, fluency or voice treatment."""
    known = set(known)
    return sorted(code for code, row in rvu.items()
                  if code.startswith("9") and code not in known and row.status in ACTIVE_STATUSES
                  and propose_area(row.description) is not None and _TREATMENT_WORDS.search(row.description) is not None)


def propose_mapping(spec: ClinicSpec | None, rvu: Mapping[str, RvuRow], known: Iterable[str]) -> list[Mapping_]:
    """Area and role for every new code: the clinic's word where it gives one, else a proposal
    from the short descriptor; an add-on with no addon_to goes to its area's base code."""
    by_code = {c.code: c for c in (spec.codes if spec else ())}
    codes = list(dict.fromkeys([*by_code, *candidate_codes(rvu, known)]))
    out = []
    for code in codes:
        given = by_code.get(code)
        descriptor = rvu[code].description if code in rvu else ""
        area = given.area if given and given.area else propose_area(descriptor)
        role = given.role if given and given.role else propose_role(descriptor)
        from_clinic = bool(given and given.area and given.role) or bool(given and given.role == "untimed")
        out.append(Mapping_(code, area, role, given.addon_to if given else None, descriptor, from_clinic))
    bases: dict[DisorderArea | None, str] = {}
    for item in out:
        if item.role == "base" and item.area is not None:
            bases.setdefault(item.area, item.code)
    return [item if item.role != "addon" or item.addon_to else
            Mapping_(item.code, item.area, item.role, bases.get(item.area), item.descriptor, item.from_clinic) for item in out]


# ---------------------------------------------------------------------------------------------
# The plan


@dataclass
class InstallPlan:
    year: int | None
    mapping: list[Mapping_] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # path relative to the rules folder -> text
    release_files: dict[str, Path] = field(default_factory=dict)  # ICD-10-CM release files built in a scratch folder
    problems: list[RuleProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)

    @property
    def needs_confirmation(self) -> bool:
        return any(not m.from_clinic for m in self.mapping)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.files or self.release_files)


def _toml_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _codeset_text(spec: ClinicSpec, mapping: list[Mapping_], rvu: Mapping[str, RvuRow], parent: str, valid_from: date,
                  valid_to: date) -> str:
    by_code = {c.code: c for c in spec.codes}
    lines = [
        f"# Installed by 'slpterm rules install' for {spec.year}. Do not edit by hand: change the clinic's",
        "# install TOML and install again (the previous files are kept and 'slpterm rules rollback' restores them).",
        'kind = "codeset"',
        f'id = "clinic-cpt-{spec.year}"',
        f'name = {_toml_str(f"SLP procedure codes, {spec.year} (installed)")}',
        f"valid_from = {valid_from.isoformat()}",
        f"valid_to = {valid_to.isoformat()}",
        f'inherits = "{parent}"',
        'carries = "all"',
        f"source = {_toml_str(spec.source)}",
    ]
    if spec.same_day_areas:
        lines += [f'same_day_areas = "{spec.same_day_areas}"', f'same_day_confidence = "{spec.same_day_confidence}"']
    services = []
    for item in mapping:
        given = by_code.get(item.code) or NewCode(item.code, None, None)
        descriptor = rvu[item.code].description if item.code in rvu else ""
        paraphrase = given.paraphrase or (f"{descriptor} (CMS short descriptor)" if descriptor else f"Code {item.code}")
        lines += ["", "[[code]]", f'code = "{item.code}"', f"paraphrase = {_toml_str(paraphrase[:118])}", 'kind = "treatment"']
        if item.role == "untimed":
            lines += ["timed = false", 'unit_rule = "once_per_day"']
        elif item.role == "addon":
            lines += ["timed = true", 'unit_rule = "addon"', f'addon_to = "{item.addon_to}"',
                      f"min_minutes = {given.min_minutes or 8}", f"unit_minutes = {given.unit_minutes or 15}"]
            if given.max_units:
                lines.append(f"max_units = {given.max_units}")
            if given.addon_order:
                lines.append(f"addon_order = {given.addon_order}")
        else:
            lines += ["timed = true", 'unit_rule = "first_unit"', f"min_minutes = {given.min_minutes or 16}",
                      f"unit_minutes = {given.unit_minutes or 30}", f"max_units = {given.max_units or 1}"]
        if item.area is not None:
            lines.append(f'area = "{item.area.value}"')
        if given.pooled:
            lines.append("cms_fifteen_minute = true")
        lines += [f'therapy = "{given.therapy}"', f'confidence = "{given.confidence if given.confidence in CONFIDENCE else "C"}"',
                  f"valid_from = {valid_from.isoformat()}"]
        if given.note:
            lines.append(f"note = {_toml_str(given.note)}")
        if item.role == "base" and item.area is not None:
            services.append((item.area, item.code))
    for area, code in services:
        lines += ["", "[[service]]", f'session_type = "{spec.session_type}"', f'area = "{area.value}"', f'code = "{code}"']
    return "\n".join(lines) + "\n"


def _mue_text(limits: list[MueLimit], codes: set[str], source: str) -> str:
    out = io.StringIO()
    out.write(f"# {source}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["code", "mue", "adjudication", "valid_from", "valid_to", "source"])
    for limit in limits:
        if limit.code in codes:
            writer.writerow([limit.code, limit.units, limit.adjudication, limit.valid_from.isoformat() if limit.valid_from else "",
                             "", limit.source])
    return out.getvalue()


def _ncci_text(pairs: list[NcciPair], note: str) -> str:
    from slpterm.coding.cli import ncci_csv_text

    unique = list({(p.column1, p.column2, p.valid_from): p for p in pairs}.values())
    return ncci_csv_text(unique, note)


_RVU_YEAR = re.compile(r"RVU(\d{4})|(\d{4})", re.I)
_QUARTER = re.compile(r"(\d{4})q([1-4])", re.I)
_ORDER_YEAR = re.compile(r"(\d{4})")


def _year_from_name(path: Path | None) -> int | None:
    if path is None:
        return None
    match = _RVU_YEAR.search(path.name)
    return int(next(g for g in match.groups() if g)) if match else None


def plan_install(
    rules_dir: Path,
    *,
    rvu: Path | None = None,
    ptp: Iterable[Path] = (),
    mue: Path | None = None,
    spec: Path | None = None,
    icd_order: Path | None = None,
    icd_tabular: Path | None = None,
    icd_effective: date | None = None,
) -> InstallPlan:
    """Read the given files and work out what installing them would do; nothing is written."""
    ptp = [Path(p) for p in ptp]
    plan = InstallPlan(year=None)
    try:
        clinic = read_clinic_spec(spec) if spec else None
        rvu_rows = read_rvu_file(rvu) if rvu else {}
        limits = read_mue_file(mue) if mue else []
    except InstallError as exc:
        plan.problems.extend(exc.problems)
        return plan
    try:
        base = load_rulebook(rules_dir if rules_dir.is_dir() else None)
    except RuleBookError as exc:
        plan.problems.extend(exc.problems)
        return plan
    year = clinic.year if clinic else _year_from_name(rvu) or _year_from_name(mue) or _year_from_name(ptp[0] if ptp else None)
    plan.year = year
    known = base.known_codes()
    new_codes: set[str] = set()
    if clinic or rvu_rows:
        if year is None:
            plan.problems.append(RuleProblem(str(rvu), "year", "the year cannot be told from the files", "give the clinic TOML with year = ..."))
            return plan
        _plan_codeset(plan, base, clinic, rvu_rows, known, year)
        new_codes = {m.code for m in plan.mapping}
    codes = known | new_codes
    if ptp:
        pairs, per_segment, problems = read_ptp_files(ptp, codes)
        plan.problems.extend(problems)
        quarter = next((m for m in (_QUARTER.search(p.name) for p in ptp) if m), None)
        label = f"{quarter.group(1)}q{quarter.group(2)}" if quarter else str(year or "import")
        if pairs:
            plan.files[f"ncci-cms-{label}.csv"] = _ncci_text(pairs, f"CMS practitioner PTP edits {label} ({', '.join(p.name for p in ptp)}), "
                                                                     "the pairs between slpterm's codes")
        plan.summary.append(f"NCCI PTP {label}: {len(pairs)} pairs between slpterm's codes, from "
                            + ", ".join(f"f{n}: {per_segment[n]}" for n in sorted(per_segment)))
    if limits:
        kept = [limit for limit in limits if limit.code in codes]
        label = limits[0].valid_from.isoformat() if limits[0].valid_from else str(year)
        plan.files[f"mue-cms-{label}.csv"] = _mue_text(kept, codes, f"CMS practitioner MUE {mue.name if mue else ''}")
        plan.summary.append(f"MUE: limits for {len(kept)} of slpterm's codes (of {len(limits)} in the file)")
    if icd_order or icd_tabular:
        _plan_icd10(plan, icd_order, icd_tabular, icd_effective)
    if plan.files:
        _validate(plan, rules_dir, base, year)
    return plan


def _plan_codeset(plan: InstallPlan, base: RuleBook, clinic: ClinicSpec | None, rvu: Mapping[str, RvuRow], known: set[str],
                  year: int) -> None:
    start, end = date(year, 1, 1), date(year, 12, 31)
    view = base.codeset_for(start)
    if view is None:
        plan.problems.append(RuleProblem("code sets", str(year), f"no installed code set covers {start} to build on",
                                         "update slpterm, or install the code set of that year first"))
        return
    parent = view.codeset.id if not view.codeset.id.startswith("clinic-cpt-") else (view.codeset.inherits or view.codeset.id)
    spec = clinic or ClinicSpec(year, f"CMS PFS relative value file {year}", (), None, "U", "individual_treatment")
    plan.mapping = propose_mapping(spec, rvu, known)
    for item in plan.mapping:
        if item.area is None or item.role is None:
            plan.problems.append(RuleProblem("area mapping", item.code, "the disorder area or the role (base, addon) cannot be "
                                             f"told from the descriptor '{item.descriptor}'",
                                             f"say it in the clinic TOML: [[code]] code = \"{item.code}\" area = ... role = ..."))
        elif item.role == "addon" and item.addon_to is None:
            plan.problems.append(RuleProblem("area mapping", item.code, f"the add-on has no base code in {item.area.value}",
                                             'name its base in the clinic TOML: addon_to = "..."'))
        if rvu:
            row = rvu.get(item.code)
            if row is None:
                plan.problems.append(RuleProblem("PFS relative value file", item.code, "the code is not in the file",
                                                 "check the code number against the CPT file, or give the right year's RVU file"))
            elif row.status not in ACTIVE_STATUSES:
                plan.problems.append(RuleProblem("PFS relative value file", item.code, f"status '{row.status}' is not active for Medicare",
                                                 "keep the code out of the install or check the RVU file's status"))
    if not plan.mapping:
        plan.warnings.append(f"No new treatment codes were found for {year}: give the clinic TOML naming them.")
        return
    plan.files[f"codesets/codeset-installed-{year}.toml"] = _codeset_text(spec, plan.mapping, rvu, parent, start, end)
    plan.summary.append(f"code set clinic-cpt-{year}: {len(plan.mapping)} new codes on top of {parent}")


def _plan_icd10(plan: InstallPlan, order: Path | None, tabular: Path | None, effective: date | None) -> None:
    import tempfile

    from slpterm.clinical import icd10
    from slpterm.clinical.icd10_sources import (
        CodeRecord,
        SourceError,
        excludes_rules,
        read_order_file,
        read_tabular,
        relevant_rules,
        write_codes,
        write_excludes1,
        write_titles,
    )

    if order is None:
        plan.problems.append(RuleProblem("ICD-10-CM", "order file", "the tabular XML needs the order file with it",
                                         "give both the CMS order file (icd10cm_order_YYYY.txt) and the tabular XML"))
        return
    if effective is None:
        match = _ORDER_YEAR.search(order.name)
        if match is None:
            plan.problems.append(RuleProblem(str(order), "year", "the fiscal year cannot be told from the file name",
                                             "give the effective date (the October 1 it starts)"))
            return
        effective = date(int(match.group(1)) - 1, 10, 1)
    if effective.day != 1:
        plan.problems.append(RuleProblem("ICD-10-CM", "effective date", f"{effective} is not the first of a month",
                                         "ICD-10-CM releases take effect on the first of a month (October 1, April 1)"))
        return
    try:
        billable, _headers, titles = read_order_file(order)
        rules = []
        if tabular is not None:
            tab_titles, excludes, _seventh = read_tabular(tabular)
            categories = sorted({c[:3] for c in tab_titles})
            rules = relevant_rules(excludes_rules(excludes, categories), [e.code for e in icd10.all_codes()])
    except SourceError as exc:
        plan.problems.append(RuleProblem("ICD-10-CM", "file", str(exc), "give the CMS files of the fiscal year as published"))
        return
    fiscal = f"fy{effective.year + 1 if effective.month >= 10 else effective.year}"
    scratch = Path(tempfile.mkdtemp(prefix="slpterm-icd-"))
    write_codes([CodeRecord(code, effective, None) for code in billable], scratch / "codes.zip",
                [f"ICD-10-CM {fiscal.upper()} from {order.name}", f"effective {effective.isoformat()}"])
    write_titles(titles, scratch / "titles.zip")
    plan.release_files[f"icd10cm/{fiscal}/codes.zip"] = scratch / "codes.zip"
    plan.release_files[f"icd10cm/{fiscal}/titles.zip"] = scratch / "titles.zip"
    if rules and tabular is not None:
        write_excludes1(rules, scratch / "excludes1.tsv", [f"Excludes1 notes of {tabular.name} that involve codes an SLP meets"])
        plan.release_files[f"icd10cm/{fiscal}/excludes1.tsv"] = scratch / "excludes1.tsv"
    before = icd10.release_for(effective - timedelta(days=1))
    day_before = effective - timedelta(days=1)
    dotted = {icd10.normalize_code(c) for c in billable}
    gone = [c for c in (icd10.normalize_code(c) for c in _sample_billable(before, day_before)) if c not in dotted]
    new = [c for c in sorted(dotted) if not before.billable_on(c, day_before)]
    plan.summary.append(f"ICD-10-CM {fiscal.upper()}: {len(billable)} billable codes, {len(rules)} Excludes1 notes for SLP codes")
    plan.changes.append(f"From {effective}: ICD-10-CM {fiscal.upper()} answers for diagnoses: {len(new)} codes become billable"
                        + (f" (e.g. {', '.join(new[:5])})" if new else "") + f", {len(gone)} of slpterm's SLP codes stop being billable"
                        + (f" ({', '.join(gone[:5])})" if gone else ""))


def _sample_billable(release: Any, day: date) -> list[str]:
    from slpterm.clinical import icd10

    return [entry.code for entry in icd10.all_codes() if entry.billable and release.billable_on(entry.code, day)]


def _validate(plan: InstallPlan, rules_dir: Path, base: RuleBook, year: int | None) -> None:
    """Load the whole rule book with the new files and check it; record what changes on which date."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="slpterm-rules-") as scratch:
        candidate = Path(scratch) / "rules"
        if rules_dir.is_dir():
            shutil.copytree(rules_dir, candidate, ignore=shutil.ignore_patterns(BACKUPS, "icd10cm"))
        candidate.mkdir(parents=True, exist_ok=True)
        for relative, text in plan.files.items():
            target = candidate / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        try:
            after = load_rulebook(candidate)
        except RuleBookError as exc:
            plan.problems.extend(exc.problems)
            return
    plan.problems.extend(validate_rulebook(after))
    if year is not None:
        plan.changes[:0] = describe_changes(base, after, year)


def validate_rulebook(book: RuleBook) -> list[RuleProblem]:
    """Checks of the whole rule book: each disorder area coded per area has a base code and its
    add-ons, no code of a set is in force outside the set's dates, 92507 is not billable after
    2026-12-31, and payer overrides name only codes valid on their dates."""
    problems: list[RuleProblem] = []
    deleted_from = date(2027, 1, 1)
    for cs in book.codesets:
        for code_def in cs.codes.values():
            if (code_def.valid_from and code_def.valid_from < cs.valid_from) or (code_def.valid_to and cs.valid_to and code_def.valid_to > cs.valid_to):
                problems.append(RuleProblem(cs.origin, f"code {code_def.code}", f"its dates ({code_def.valid_from} to {code_def.valid_to}) reach outside "
                                            f"the code set's ({cs.valid_from} to {cs.valid_to})", "keep each code's dates inside its set's"))
        day = max(cs.valid_from, deleted_from)
        if cs.valid_to is None or cs.valid_to >= deleted_from:
            view = book.codeset_for(day)
            if view is not None and view.codeset is cs and "92507" in view.codes:
                problems.append(RuleProblem(cs.origin, "code 92507", f"92507 is in force on {day}; it is deleted for dates of service from 2027-01-01",
                                            'end it: valid_to = 2026-12-31, or leave it out of carries'))
        view = book.codeset_for(cs.valid_from)
        if view is None or view.codeset is not cs:
            continue
        per_area = {(s.session_type, s.area): s.code for s in view.services if s.area is not None}
        for (_session_type, area), code in per_area.items():
            definition = view.codes.get(code)
            if definition is None:
                continue
            if definition.timed and not view.addons_for.get(code):
                problems.append(RuleProblem(cs.origin, f"area {area}", f"the base code {code} has no add-on code",
                                            f"give the add-on code(s) of {area} with addon_to = \"{code}\""))
            for addon in view.addons_for.get(code, ()):
                if addon.area is not None and addon.area != area:
                    problems.append(RuleProblem(cs.origin, f"code {addon.code}", f"the add-on is for {addon.area}, its base {code} for {area}",
                                                "point the add-on at the base code of its own area"))
        coded_areas = {area for (_, area) in per_area}
        for definition in view.codes.values():
            if definition.area in TREATMENT_AREAS and definition.unit_rule == "first_unit" and definition.area not in coded_areas \
                    and definition.kind == "treatment":
                problems.append(RuleProblem(cs.origin, f"code {definition.code}", f"the base code for {definition.area} is selected by no session",
                                            f"add a [[service]] with area = \"{definition.area}\" (the install does this for base codes)"))
    for override in book.overrides:
        codes = dict(override.values.get("untimed_units_by_code", {}))
        days = [d for d in (override.valid_from, override.valid_to) if d] or [date.today()]
        for code in codes:
            valid = [d for d in days if (v := book.codeset_for(d)) is not None and code in v.codes]
            if not valid:
                problems.append(RuleProblem(f"payer override {override.payer_id}", f"code {code}",
                                            f"names {code}, which no code set in force on {', '.join(map(str, days))} bills",
                                            f"give the override dates ending before {code} ended, or name the code that replaced it"))
    return problems


def describe_changes(before: RuleBook, after: RuleBook, year: int) -> list[str]:
    """What differs between two rule books on the dates the new year's rules take effect."""
    out = []
    day = date(year, 1, 1)
    old, new = before.codeset_for(day), after.codeset_for(day)
    if new is not None:
        old_codes = set(old.codes) if old else set()
        added = [new.codes[c] for c in sorted(set(new.codes) - old_codes)]
        removed = sorted(old_codes - set(new.codes))
        for definition in added:
            role = ("add-on of " + definition.addon_to if definition.addon_to
                    else ("base" if definition.unit_rule == "first_unit" else definition.unit_rule))
            out.append(f"From {day}: + {definition.code} {definition.area or ''} {role} ({definition.paraphrase})".replace("  ", " "))
        for code in removed:
            out.append(f"From {day}: - {code} no longer billed")
        for session_type in sorted(set(old.pending if old else ()) - set(new.pending)):
            areas = sorted(str(s.area) for s in new.services if s.session_type == session_type and s.area)
            out.append(f"From {day}: {session_type.replace('_', ' ')} is coded per disorder area ({', '.join(areas)}); until now it "
                       "was held with the install message")
        if old is not None and (old.same_day_areas, old.same_day_confidence) != (new.same_day_areas, new.same_day_confidence):
            out.append(f"From {day}: several areas on one day: {new.same_day_areas} (confidence {new.same_day_confidence})")
    new_pairs: dict[date | None, int] = {}
    for key, pairs in after.ncci.items():
        for pair in pairs:
            if pair not in before.ncci.get(key, ()):
                new_pairs[pair.valid_from] = new_pairs.get(pair.valid_from, 0) + 1
    for when, count in sorted(new_pairs.items(), key=lambda item: item[0] or date.min):
        out.append(f"From {when or 'any date'}: {count} NCCI pair(s) added or changed")
    for code, limits in sorted(after.mue.items()):
        for limit in limits:
            if limit not in before.mue.get(code, []):
                out.append(f"From {limit.valid_from or 'any date'}: {code} at most {limit.units} unit(s) a day (MUE)")
    return out


# ---------------------------------------------------------------------------------------------
# Writing, the manifest and rollback


def read_manifest(rules_dir: Path) -> list[dict[str, Any]]:
    path = rules_dir / MANIFEST
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return []
    return data if isinstance(data, list) else []


def _write_manifest(rules_dir: Path, entries: list[dict[str, Any]]) -> None:
    path = rules_dir / MANIFEST
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(entries, indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)


def apply_install(plan: InstallPlan, rules_dir: Path, *, actor: str = "", now: datetime | None = None) -> dict[str, Any]:
    """Write the plan's files into the rules folder; the files they replace are kept for rollback."""
    if not plan.ok:
        raise InstallError(plan.problems or [RuleProblem(str(rules_dir), "install", "nothing to install", "give the files to install")])
    now = now or datetime.now(UTC)
    install_id = now.strftime("%Y%m%dT%H%M%S%fZ")
    backup = rules_dir / BACKUPS / install_id
    rules_dir.mkdir(parents=True, exist_ok=True)
    written, replaced = [], []
    sources: dict[str, Any] = {**plan.files, **plan.release_files}
    for relative, content in sources.items():
        target = rules_dir / relative
        if target.exists():
            keep = backup / relative
            keep.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(target, keep)
            replaced.append(relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(target.name + ".tmp")
        if isinstance(content, Path):
            shutil.copyfile(content, temporary)
        else:
            temporary.write_text(content, encoding="utf-8")
        temporary.replace(target)
        written.append(relative)
    entry = {"id": install_id, "at": now.isoformat(), "by": actor, "year": plan.year, "files": written, "replaced": replaced,
             "summary": plan.summary, "changes": plan.changes, "rolled_back": None}
    entries = read_manifest(rules_dir)
    entries.append(entry)
    _write_manifest(rules_dir, entries)
    _forget_caches()
    return entry


def rollback_last(rules_dir: Path, *, now: datetime | None = None) -> dict[str, Any] | None:
    """Undo the latest install that is not rolled back: its files go, the files it replaced return."""
    entries = read_manifest(rules_dir)
    live = [e for e in entries if not e.get("rolled_back")]
    if not live:
        return None
    entry = live[-1]
    backup = rules_dir / BACKUPS / entry["id"]
    for relative in entry["files"]:
        target = rules_dir / relative
        if relative in entry["replaced"] and (backup / relative).is_file():
            shutil.copy2(backup / relative, target)
        elif target.exists():
            target.unlink()
    entry["rolled_back"] = (now or datetime.now(UTC)).isoformat()
    _write_manifest(rules_dir, entries)
    _forget_caches()
    return entry


def record_install(record: Any, entry: Mapping[str, Any]) -> None:
    """Write an install into the audit trail through `record(action, entity, entity_id, detail)`."""
    record("rules-install", "rules", entry["id"], {"year": entry["year"], "files": entry["files"],
                                                  "replaced": entry["replaced"], "summary": entry["summary"]})


def record_rollback(record: Any, entry: Mapping[str, Any]) -> None:
    record("rules-rollback", "rules", entry["id"], {"files": entry["files"], "restored": entry["replaced"]})


def _forget_caches() -> None:
    from slpterm.coding.engine import clear_caches

    clear_caches()
    from slpterm.clinical import icd10

    icd10.reload_releases()


"""The coding engine and claim scrubber.

`code_patient_day` codes all sessions of one patient on one date of service together (untimed codes
once per day, timed minutes pooled per day, NCCI pairs across sessions); `code_encounter` codes one
session, optionally with its same-day siblings. `check_lines` re-checks claim lines that were edited
by hand. Every rule comes from the RuleBook; nothing here depends on the UI or the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from datetime import date, time
from decimal import Decimal
from typing import Any
from collections.abc import Callable, Iterable, Sequence

from slpterm.clinical.episode import CERTIFICATION_DUE_DAYS, PLAN_LIMIT_DAYS, certification_deadline, plan_limit_last_day
from slpterm.coding.model import (
    DISTINCT_SERVICE_MODIFIERS,
    ClaimLine,
    CodingResult,
    EncounterFacts,
    Finding,
    Severity,
)
from slpterm.coding.rulebook import CodeDef, CodeSetView, PayerPolicy, RuleBook
from slpterm.domain.identifiers import ein_problem, npi_problem

from slpterm.domain.vocab import (
    ClinicianRole,
    DiagnosisRole,
    PayerKind,
    PlanStatus,
    SessionType,
    Setting,
)

# Pure checks of the same few identifiers on every claim.
_npi_problem = lru_cache(maxsize=4096)(npi_problem)
_ein_problem = lru_cache(maxsize=1024)(ein_problem)

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
MAX_MODIFIERS = 4
MAX_POINTERS = 4
MAX_DIAGNOSES = 12
CERTIFICATION_DAYS = CERTIFICATION_DUE_DAYS
CERTIFICATION_LENGTH_DAYS = PLAN_LIMIT_DAYS
NEVER_ON_SLP_LINES = ("CQ", "CO", "GP", "GO")
_ZERO = Decimal("0")
_SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}


# ---------------------------------------------------------------------------------------------
# ICD-10-CM checks (slpterm.clinical.icd10, imported on first use and memoised)


@dataclass(frozen=True, slots=True)
class _DxCheck:
    code: str
    status: str
    reason: str | None


class _Icd10:
    def __init__(self) -> None:
        self.module: Any = None
        self.checks: dict[tuple[str, date], _DxCheck] = {}
        self.notes: dict[date, str | None] = {}
        self.pairs: dict[tuple[tuple[str, ...], date], tuple[tuple[str, str, str], ...]] = {}
        self.companions: dict[tuple[tuple[str, ...], date], tuple[tuple[str, str], ...]] = {}
        self.claims: dict[tuple[Any, ...], tuple[tuple[Finding, ...], tuple[str, ...], tuple[int, ...]]] = {}

    def _load(self) -> Any:
        if self.module is None:
            from slpterm.clinical import icd10

            self.module = icd10
        return self.module

    # ICD-10-CM validity changes only on the first of a month (October 1, April 1; installed
    # releases are refused otherwise), so answers are memoised per code and month.

    def check(self, code: str, day: date) -> _DxCheck:
        key = (code, day.replace(day=1))
        found = self.checks.get(key)
        if found is None:
            result = self._load().check_code(code, on=day, describe=False)
            found = _DxCheck(result.code, str(result.status), result.reason)
            if len(self.checks) > 50_000:
                self.checks.clear()
            self.checks[key] = found
        return found

    def release_note(self, day: date) -> str | None:
        month = day.replace(day=1)
        if month not in self.notes:
            self.notes[month] = self._load().release_note(day)
        return self.notes[month]

    def excludes1(self, codes: tuple[str, ...], day: date) -> tuple[tuple[str, str, str], ...]:
        key = (codes, day.replace(day=1))
        found = self.pairs.get(key)
        if found is None:
            module = self._load()
            try:
                found = tuple(module.excludes1_conflicts(list(codes), on=day))
            except TypeError:
                found = tuple(module.excludes1_conflicts(list(codes)))
            if len(self.pairs) > 50_000:
                self.pairs.clear()
            self.pairs[key] = found
        return found

    def companion(self, codes: tuple[str, ...], day: date) -> tuple[tuple[str, str], ...]:
        key = (codes, day.replace(day=1))
        found = self.companions.get(key)
        if found is None:
            function: Callable[..., Any] | None = getattr(self._load(), "companion_warnings", None)
            found = tuple(function(list(codes), on=day)) if function else ()
            if len(self.companions) > 50_000:
                self.companions.clear()
            self.companions[key] = found
        return found


_ICD10 = _Icd10()


def clear_caches() -> None:
    """Forget memoised ICD-10-CM answers (call after installing a new ICD-10-CM release)."""
    if _ICD10.module is not None:
        _ICD10.module.reload_releases()
    _ICD10.checks.clear()
    _ICD10.notes.clear()
    _ICD10.pairs.clear()
    _ICD10.companions.clear()
    _ICD10.claims.clear()


# ---------------------------------------------------------------------------------------------
# Working records


@dataclass(slots=True)
class _Item:
    """A code family (a primary code and its add-on kinds, in order) one session asks to bill.
    `per_area` marks a family chosen by minutes per disorder area (the set's same-day rule applies)."""

    primary: CodeDef
    addons: tuple[CodeDef, ...]
    minutes: int
    modifiers: tuple[str, ...] = ()
    per_area: bool = False


@dataclass(slots=True)
class _Line:
    code: CodeDef
    units: int
    minutes: int
    pricing_modifiers: tuple[str, ...] = ()
    distinct_modifier: str | None = None
    charge: Decimal = _ZERO


@dataclass(slots=True)
class _Session:
    facts: EncounterFacts
    policy: PayerPolicy | None
    view: CodeSetView | None
    findings: list[Finding] = field(default_factory=list)
    items: list[_Item] = field(default_factory=list)
    lines: list[_Line] = field(default_factory=list)

    def add(self, severity: Severity, code: str, message: str, fix: str, line: int | None = None) -> None:
        self.findings.append(Finding(severity, code, message, fix, line))


def _session_order(facts: EncounterFacts) -> tuple[Any, ...]:
    return (facts.start_time is None, facts.start_time or time.min, facts.session_id)


# ---------------------------------------------------------------------------------------------
# Public API


def code_encounter(facts: EncounterFacts, rulebook: RuleBook, same_day: Sequence[EncounterFacts] = ()) -> CodingResult:
    """Code one session. Pass the patient's other sessions of the same date in `same_day` so that
    untimed codes are billed once per day, timed minutes are pooled and NCCI pairs are checked."""
    others = tuple(s for s in same_day if s.session_id != facts.session_id)
    return code_patient_day((facts, *others), rulebook)[facts.session_id]


def code_patient_day(sessions: Sequence[EncounterFacts], rulebook: RuleBook) -> dict[str, CodingResult]:
    """Code all sessions of one patient on one date of service; returns results by session id.

    A code billed once per day (untimed) or by pooled minutes (timed) is carried by the earliest
    session that has it (by start time, sessions without a start time last, then session id);
    the other sessions get an info finding `billed-on-other-session`.
    """
    if not sessions:
        return {}
    first = sessions[0]
    for facts in sessions[1:]:
        if facts.date_of_service != first.date_of_service:
            raise ValueError("code_patient_day takes sessions of one date of service")
        if facts.patient_id != first.patient_id:
            raise ValueError("code_patient_day takes sessions of one patient")
    if len(sessions) == 1:
        ordered: Sequence[EncounterFacts] = sessions
    else:
        ordered = sorted(sessions, key=_session_order)
        if len({f.session_id for f in ordered}) != len(ordered):
            raise ValueError("session ids must be unique")
    work = [_prepare(facts, rulebook) for facts in ordered]
    _bill_day(work, rulebook)
    _apply_ncci(work, rulebook)
    for session in work:
        _price(session, rulebook)
    day_total = sum((line.charge for s in work for line in s.lines), _ZERO)
    return {s.facts.session_id: _finish(s, rulebook, day_total) for s in work}


# ---------------------------------------------------------------------------------------------
# Step 1: which code families each session asks for


def _prepare(facts: EncounterFacts, rulebook: RuleBook) -> _Session:
    dos = facts.date_of_service
    view = rulebook.codeset_for(dos)
    policy = rulebook.policy_for(facts.coverage.payer_kind, facts.coverage.payer_id, dos)
    session = _Session(facts, policy, view)
    if policy is None:
        session.add(ERROR, "no-payer-policy", f"No payer policy for {facts.coverage.payer_kind} is in force on {dos}.",
                    "Install a payers.toml with a policy for this payer kind covering the date of service.")
    if view is None:
        session.add(ERROR, "no-codeset-for-dos",
                    f"No installed code set covers the date of service {dos}; no code is billed rather than guessing one.",
                    f"Install the {dos.year} code-set file into the clinic's rules folder (check it first with "
                    "'slpterm rules check FILE').")
        return session
    if facts.minutes_by_code:
        _items_from_codes(session, view)
    else:
        _items_from_session_type(session, view)
    return session


def _family(view: CodeSetView, code: CodeDef) -> tuple[CodeDef, tuple[CodeDef, ...]]:
    return code, view.addons_for.get(code.code, ())


def _missing_code_finding(view: CodeSetView, dos: date, code: str, what: str) -> tuple[Severity, str, str, str]:
    known = view.all_codes.get(code)
    if known is not None:
        ends = f" (valid {known.valid_from or 'open'} to {known.valid_to or 'open'})"
        message = f"{code} is not valid on {dos}{ends}; the code set '{view.codeset.id}' has no code for {what} on that date."
    else:
        message = f"{code} is not in the code set '{view.codeset.id}' in force on {dos}."
    return (ERROR, "code-not-in-codeset", message, f"Install the code-set file for {dos.year} that covers {what}, or correct the code.")


def _missing_code(session: _Session, view: CodeSetView, code: str, what: str) -> None:
    session.add(*_missing_code_finding(view, session.facts.date_of_service, code, what))


def _items_from_codes(session: _Session, view: CodeSetView) -> None:
    families: dict[str, _Item] = {}
    for raw_code, minutes in session.facts.minutes_by_code.items():
        code = raw_code.strip().upper()
        refused = view.refused.get(code)
        if refused is not None:
            session.add(ERROR, refused.finding, refused.reason + ".", refused.fix + ".")
            continue
        definition = view.codes.get(code)
        if definition is None:
            _missing_code(session, view, code, f"code {code}")
            continue
        primary = view.codes.get(definition.addon_to) if definition.addon_to else definition
        if primary is None:
            _missing_code(session, view, definition.addon_to or code, f"the primary code of {code}")
            continue
        item = families.get(primary.code)
        if item is None:
            primary, addons = _family(view, primary)
            item = families[primary.code] = _Item(primary, addons, 0)
        item.minutes += max(0, int(minutes))
    session.items.extend(families.values())


@dataclass(frozen=True, slots=True)
class _TypeChoice:
    """What sessions of one type (evaluation kind, AAC device) ask to bill in the code set of one
    day: a finding saying why nothing can be billed, services chosen per disorder area, or one code
    family. It is the same for every such session, so it is worked out once per view."""

    refusal: tuple[Severity, str, str, str] | None = None
    per_area: tuple[tuple[Any, ...], str] | None = None  # (services, what they bill)
    family: tuple[CodeDef, tuple[CodeDef, ...], tuple[str, ...]] | None = None  # primary, add-ons, modifiers


def _items_from_session_type(session: _Session, view: CodeSetView) -> None:
    facts = session.facts
    key = ("session-type", facts.session_type, facts.evaluation_kind, facts.speech_generating_device)
    choice = view.derived.get(key)
    if choice is None:
        choice = view.derived[key] = _type_choice(view, facts.session_type, facts.evaluation_kind,
                                                  facts.speech_generating_device)
    if choice.refusal is not None:
        session.add(*choice.refusal)
    elif choice.per_area is not None:
        _items_per_area(session, view, *choice.per_area)
    elif choice.family is not None:
        primary, addons, modifiers = choice.family
        minutes = facts.total_minutes
        if primary.area is not None and facts.minutes_by_area.get(primary.area):
            minutes = facts.minutes_by_area[primary.area]
        session.items.append(_Item(primary, addons, max(0, minutes), modifiers))


def _type_choice(view: CodeSetView, session_type: SessionType, evaluation_kind: Any,
                 speech_generating_device: bool | None) -> _TypeChoice:
    dos = view.day
    if session_type.is_evaluation:
        if evaluation_kind is None:
            return _TypeChoice(refusal=(ERROR, "missing-evaluation-kind", "The evaluation does not say what was assessed, so no evaluation code can be chosen.",
                                        "Choose the evaluation kind (fluency, speech sound, language only, voice, swallowing, AAC, ...)."))
        key: tuple[Any, Any] = (None, evaluation_kind)
        what = f"a {str(evaluation_kind).replace('_', ' ')} evaluation"
    else:
        key = (session_type, None)
        what = str(session_type).replace("_", " ")
    services = view.services_for(key)
    pending = view.pending.get(session_type) if not session_type.is_evaluation else None
    if not services and pending is not None:
        return _TypeChoice(refusal=(ERROR, "treatment-codes-not-installed",
                                    f"{pending.message} (code set '{view.codeset.id}' in force on {dos}).", pending.install))
    if session_type.facts.aac_device:
        if speech_generating_device is None:
            return _TypeChoice(refusal=(ERROR, "missing-aac-device-kind", "The AAC treatment does not say whether a speech-generating device was used.",
                                        "Mark the session as SGD (92609) or non-SGD device (92606) treatment."))
        device = "sgd" if speech_generating_device else "non_sgd"
        services = tuple(s for s in services if s.device in (None, device))
    if not services:
        return _TypeChoice(refusal=(ERROR, "code-not-in-codeset",
                                    f"The code set '{view.codeset.id}' in force on {dos} has no code for {what}.",
                                    f"Install a code-set file for {dos.year} that covers {what}."))
    if any(s.area is not None for s in services):
        return _TypeChoice(per_area=(services, what))
    service = next((s for s in services if s.code in view.codes), services[0])
    definition = view.codes.get(service.code)
    if definition is None:
        return _TypeChoice(refusal=_missing_code_finding(view, dos, service.code, what))
    primary, addons = _family(view, definition)
    return _TypeChoice(family=(primary, addons, service.modifiers))


def _items_per_area(session: _Session, view: CodeSetView, services: Iterable[Any], what: str) -> None:
    facts = session.facts
    by_area = {s.area: s for s in services if s.area is not None}
    minutes_by_area = {area: m for area, m in facts.minutes_by_area.items() if m > 0}
    if not minutes_by_area:
        session.add(ERROR, "no-minutes-by-area",
                    f"The code set '{view.codeset.id}' bills {what} by minutes per disorder area, and this session has none recorded.",
                    "Record the minutes spent on each disorder area (language, speech sound, fluency, voice, ...).")
        return
    for area in sorted(minutes_by_area, key=lambda a: (-minutes_by_area[a], str(a))):
        service = by_area.get(area)
        unmapped = view.unmapped.get(area)
        if service is None and unmapped is not None:
            session.add(WARNING, "no-mapped-code",
                        f"{minutes_by_area[area]} minutes of {unmapped.what}: no mapped code in the code set '{view.codeset.id}'; they are not billed.",
                        "Install a code set that maps this service (its rules TOML names the code), or document the time under "
                        "the service that bills it." + (f" {unmapped.note}" if unmapped.note else ""))
            continue
        if service is None:
            session.add(WARNING, "area-not-coded",
                        f"{minutes_by_area[area]} minutes on {area} have no {what} code in '{view.codeset.id}' and are not billed.",
                        "Record that time under the session type that bills it, or check the installed code set.")
            continue
        definition = view.codes.get(service.code)
        if definition is None:
            _missing_code(session, view, service.code, f"{what} ({area})")
            continue
        primary, addons = _family(view, definition)
        session.items.append(_Item(primary, addons, minutes_by_area[area], service.modifiers, per_area=True))


# ---------------------------------------------------------------------------------------------
# Step 2: units for the day


def _timed_units(primary: CodeDef, minutes: int) -> int:
    if minutes < primary.min_minutes:
        return 0
    units = 1 + (minutes - primary.min_minutes) // primary.unit_minutes
    return min(units, primary.max_units) if primary.max_units else units


def _addon_units(primary: CodeDef, primary_units: int, addons: tuple[CodeDef, ...], minutes: int) -> list[int]:
    """Units of each add-on kind, in order: the minutes beyond the primary's fill the first kind up
    to its daily cap, then the next (a kind earns a unit from its min_minutes, then per unit_minutes)."""
    out = [0] * len(addons)
    if primary_units == 0:
        return out
    remaining = minutes - primary_units * primary.unit_minutes
    for index, addon in enumerate(addons):
        if remaining < addon.min_minutes:
            break
        units = 1 + (remaining - addon.min_minutes) // addon.unit_minutes
        if addon.max_units:
            units = min(units, addon.max_units)
        out[index] = units
        remaining -= units * addon.unit_minutes
    return out


def cms_total_time_units(total_minutes: int) -> int:
    """Units for the day's 15-minute timed codes under the CMS 8-minute rule (8-22 = 1, 23-37 = 2, ...)."""
    return 0 if total_minutes < 8 else (total_minutes + 7) // 15


def _untimed_units(policy: PayerPolicy | None, code: CodeDef, minutes: int) -> tuple[int, str | None]:
    method = policy.untimed_units_for(code.code) if policy else "per_session"
    minimum = policy.untimed_min_minutes if policy else 0
    if method == "fifteen_minute":
        minimum = max(minimum, 8)
        if minutes < minimum:
            return 0, f"{code.code} is billed in 15-minute units by this payer and needs at least {minimum} minutes; {minutes} were recorded"
        return (minutes + 7) // 15, None
    if minutes < minimum:
        return 0, f"this payer pays {code.code} only from {minimum} minutes; {minutes} were recorded"
    return 1, None


def _bill_day(work: list[_Session], rulebook: RuleBook) -> None:
    carriers: dict[str, tuple[_Session, _Item]] = {}
    for session in work:
        for item in session.items:
            carried = carriers.get(item.primary.code)
            if carried is None:
                carriers[item.primary.code] = (session, _Item(item.primary, item.addons, item.minutes, item.modifiers, item.per_area))
            else:
                carried[1].minutes += item.minutes
                session.add(INFO, "billed-on-other-session",
                            f"{item.primary.code} is billed once for the day, on session {carried[0].facts.session_id}; "
                            f"this session's {item.minutes} minutes are counted there.",
                            "Nothing to do: same-day sessions are combined on one claim line.")
    _same_day_areas(carriers, work[0].view if work else None)
    pooled: list[tuple[_Session, _Item]] = []
    for session, item in carriers.values():
        policy = session.policy
        primary = item.primary
        if not primary.timed:
            units, why = _untimed_units(policy, primary, item.minutes)
            if why:
                session.add(WARNING, "time-below-minimum", f"{primary.code} is not billed: {why}.",
                            "Check the recorded minutes; if they are right, the service is not billable to this payer.")
            if units:
                session.lines.append(_Line(primary, units, item.minutes, item.modifiers))
            continue
        if primary.cms_fifteen_minute and policy is not None and policy.units_method == "cms_total_time":
            pooled.append((session, item))
            continue
        primary_units = _timed_units(primary, item.minutes)
        _add_timed_lines(session, item, primary_units, _addon_units(primary, primary_units, item.addons, item.minutes))
    if pooled:
        _bill_pooled(pooled)


def _same_day_areas(carriers: dict[str, tuple[_Session, _Item]], view: CodeSetView | None) -> None:
    """Several disorder areas on one day, by the code set's rule: each area its own base code
    (each_area), only the area with the most minutes (largest_area), or every area's minutes on
    the largest area's codes (one_base_pooled)."""
    rule = view.same_day_areas if view is not None else "each_area"
    per_area = [(code, pair) for code, pair in carriers.items() if pair[1].per_area]
    if rule == "each_area" or len(per_area) < 2:
        return
    (keep_code, (keep_session, keep)), *others = sorted(per_area, key=lambda p: (-p[1][1].minutes, p[0]))
    unconfirmed = " (this same-day rule is unconfirmed in the code set)" if view is not None and view.same_day_confidence != "C" else ""
    for code, (session, item) in others:
        del carriers[code]
        if rule == "largest_area":
            session.add(WARNING, "area-not-billed-same-day",
                        f"{item.minutes} minutes for {code} ({item.primary.area}) are not billed: the code set bills one disorder area a day, "
                        f"and {keep_code} ({keep.primary.area}) has the most minutes{unconfirmed}.",
                        "Nothing to change if the code set's rule is right; check the installed code set otherwise.")
        else:
            keep.minutes += item.minutes
            session.add(INFO, "area-minutes-pooled",
                        f"{item.minutes} minutes on {item.primary.area} are billed on {keep_code} ({keep.primary.area}): the code set bills "
                        f"one base code a day with the other areas' minutes as add-ons{unconfirmed}.",
                        "Nothing to do.")


def _blocks(code: CodeDef) -> int:
    """How many 15-minute units of the total-time method one unit of the code stands for."""
    return max(1, code.unit_minutes // 15)


def _bill_pooled(pooled: list[tuple[_Session, _Item]]) -> None:
    """Medicare's total-time method: the day's minutes of pooled timed codes give the day's
    15-minute units (8-22 = 1, 23-37 = 2, ...), shared out by whole 15 minutes, then by the largest
    remainder; a family's units go to its primary (a 30-minute primary takes two), then its add-ons."""
    total = sum(item.minutes for _, item in pooled)
    units_left = cms_total_time_units(total)
    shares = {item.primary.code: item.minutes // 15 for _, item in pooled}
    units_left -= sum(shares.values())
    by_remainder = sorted(pooled, key=lambda p: (-(p[1].minutes % 15), -p[1].minutes, p[1].primary.code))
    while units_left > 0 and by_remainder:
        for _, item in by_remainder:
            if units_left == 0:
                break
            shares[item.primary.code] += 1
            units_left -= 1
    for session, item in pooled:
        blocks = shares[item.primary.code]
        primary = item.primary
        per_unit = _blocks(primary)
        if blocks == 0 or (per_unit > 1 and item.minutes < primary.min_minutes):
            primary_units = 0
        else:
            primary_units = max(1, blocks // per_unit)
            if primary.max_units:
                primary_units = min(primary_units, primary.max_units)
        left = max(0, blocks - primary_units * per_unit)
        addon_units = []
        for addon in item.addons:
            units = left // _blocks(addon)
            if addon.max_units:
                units = min(units, addon.max_units)
            addon_units.append(units)
            left -= units * _blocks(addon)
        _add_timed_lines(session, item, primary_units, addon_units, lost=left // per_unit if primary_units else 0)


def _add_timed_lines(session: _Session, item: _Item, primary_units: int, addon_units: list[int], lost: int = 0) -> None:
    primary = item.primary
    if primary_units == 0:
        session.add(WARNING, "time-below-minimum",
                    f"{primary.code} is not billed: it needs at least {primary.min_minutes} minutes and {item.minutes} were recorded.",
                    "Check the recorded minutes; a timed service below its minimum is not billable.")
        return
    if lost:
        session.add(WARNING, "units-capped", f"{primary.code} is limited to {primary.max_units} unit(s) a day; {lost} more unit(s) are not billed.",
                    "Nothing to bill differently; the extra time still counts as treatment time in the note.")
    billed_addons = [(addon, units) for addon, units in zip(item.addons, addon_units) if units]
    covered = min(item.minutes, primary_units * primary.unit_minutes) if billed_addons else item.minutes
    session.lines.append(_Line(primary, primary_units, covered, item.modifiers))
    left = item.minutes - covered
    for position, (addon, units) in enumerate(billed_addons):
        minutes = left if position == len(billed_addons) - 1 else min(left, units * addon.unit_minutes)
        session.lines.append(_Line(addon, units, minutes))
        left -= minutes


# ---------------------------------------------------------------------------------------------
# Step 3: NCCI pairs across the day


def _apply_ncci(work: list[_Session], rulebook: RuleBook) -> None:
    placed = [(session, line) for session in work for line in session.lines]
    if len(placed) < 2:
        return
    dos = work[0].facts.date_of_service
    for i in range(len(placed)):
        for j in range(i + 1, len(placed)):
            (s_a, l_a), (s_b, l_b) = placed[i], placed[j]
            if l_a.code.code == l_b.code.code:
                continue
            pair = rulebook.ncci_pair(l_a.code.code, l_b.code.code, dos)
            if pair is None or pair.indicator == "9":
                continue
            if pair.column2 == l_a.code.code:
                (s_a, l_a), (s_b, l_b) = (s_b, l_b), (s_a, l_a)
            col1, col2 = l_a.code.code, l_b.code.code
            session = s_b
            line_index = next(k for k, candidate in enumerate(session.lines) if candidate is l_b)
            if pair.indicator == "0":
                session.add(ERROR, "ncci-pair-not-allowed",
                            f"{col2} cannot be billed with {col1} on the same day (NCCI edit, modifier indicator 0; {pair.source}).",
                            f"Bill only one of {col1} and {col2} for this date of service.", line_index)
            elif pair.indicator == "U":
                session.add(WARNING, "ncci-pair-unconfirmed",
                            f"{col1} and {col2} on the same day may be an NCCI edit whose modifier indicator is unconfirmed ({pair.source}).",
                            "Check the current CMS practitioner PTP table (or import it with 'slpterm rules import-ptp') before billing both.",
                            line_index)
            elif session.facts.distinct_service_documented:
                preferred = (session.facts.distinct_modifier or "").upper()
                if preferred not in DISTINCT_SERVICE_MODIFIERS and session.policy is not None:
                    preferred = session.policy.distinct_service_modifier
                if preferred not in DISTINCT_SERVICE_MODIFIERS:
                    preferred = "XE" if s_a is not s_b else "XU"
                l_b.distinct_modifier = preferred
                session.add(INFO, "distinct-service-modifier",
                            f"{preferred} added to {col2}: NCCI pairs it with {col1} and the note documents a distinct service.",
                            "Make sure the note says why the two services were separate.", line_index)
            else:
                session.add(ERROR, "ncci-needs-distinct-service",
                            f"{col2} is bundled into {col1} on the same day unless a distinct service is documented (NCCI modifier indicator 1).",
                            f"Record the distinct service (ctrl+f, billing facts): why {col2} was separate, and its modifier; or do not bill {col2}.",
                            line_index)


# ---------------------------------------------------------------------------------------------
# Step 4: modifiers, charges, diagnoses and the scrubber


def _price(session: _Session, rulebook: RuleBook) -> None:
    policy = session.policy
    for index, line in enumerate(session.lines):
        if line.code.mue is not None and line.units > line.code.mue:
            session.add(WARNING, "units-capped-by-mue",
                        f"{line.code.code} had {line.units} units; the daily limit (MUE) is {line.code.mue}, so {line.code.mue} are billed.",
                        "Nothing to do unless the payer allows more; the note keeps the full time.", index)
            line.units = line.code.mue
        fee = rulebook.fee(line.code.code)
        if fee is None:
            session.add(WARNING, "missing-fee", f"The clinic has no charge set for {line.code.code}; the line is priced at 0.00.",
                        f"Enter the clinic's charge for {line.code.code} in settings (fee schedule).", index)
            fee = _ZERO
        line.charge = fee * line.units
        if policy is not None and str(policy.payer_kind) in line.code.unconfirmed_payers:
            session.add(WARNING, "payability-unconfirmed",
                        f"Whether {policy.payer_kind} pays {line.code.code} is unconfirmed.",
                        "Check the payer's coverage for this code before billing it.", index)
        if line.code.confidence == "U":
            session.add(WARNING, "code-unconfirmed", f"{line.code.code} is billed from unconfirmed rules: {line.code.note or 'see the code set'}",
                        "Install the year's rules for this code (slpterm rules install) or confirm it with the payer.", index)
        if line.code.therapy == "unknown" and policy is not None and policy.gn_required:
            session.add(WARNING, "therapy-status-unconfirmed",
                        f"Whether {line.code.code} is an 'always therapy' code is unconfirmed; GN is added as for every SLP service under a plan of care.",
                        "Check the CMS annual therapy code list and set therapy in the code set's rules file.", index)


def _finish(session: _Session, rulebook: RuleBook, day_total: Decimal) -> CodingResult:
    facts = session.facts
    dos = facts.date_of_service
    pos = rulebook.pos_for(facts.setting, dos)
    place = pos.code if pos else ""
    if pos is None:
        session.add(ERROR, "no-place-of-service", f"No place-of-service code is defined for the setting '{facts.setting}' on {dos}.",
                    "Add the setting to pos.toml in the clinic's rules folder.")
    kx = _kx(session, rulebook, day_total)
    diagnoses, pointers = _diagnoses(session)
    lines = tuple(_claim_line(session, index, line, kx, place, pointers) for index, line in enumerate(session.lines))
    _scrub(session)
    findings = tuple(sorted(_with_rule_severities(session.findings, session.policy), key=lambda f: _SEVERITY_ORDER[f.severity]))
    return CodingResult(facts.session_id, lines, findings, diagnoses, place)


def _with_rule_severities(findings: list[Finding], policy: PayerPolicy | None) -> list[Finding]:
    """Each finding at the severity the rules data (and the payer's override) give its code."""
    if policy is None or not policy.severity:
        return findings
    out = []
    for finding in findings:
        wanted = policy.severity.get(finding.code)
        out.append(replace(finding, severity=Severity(wanted)) if wanted and wanted != finding.severity else finding)
    return out


def _claim_line(session: _Session, index: int, line: _Line, kx: bool, place: str, pointers: tuple[int, ...]) -> ClaimLine:
    facts = session.facts
    therapy = line.code.therapy != "never"
    view = session.view
    key = ("modifiers", id(session.policy), line.pricing_modifiers, therapy, line.distinct_modifier, facts.setting,
           facts.audio_only, kx, facts.rehabilitative)
    found = view.derived.get(key) if view is not None else None
    if found is None or found[0] is not session.policy:
        found = (session.policy, _line_modifiers(session.policy, facts, line, therapy, kx))
        if view is not None:
            view.derived[key] = found
    modifiers = found[1]
    if len(modifiers) > MAX_MODIFIERS:
        dropped = ", ".join(modifiers[MAX_MODIFIERS:])
        session.add(ERROR, "too-many-modifiers",
                    f"{line.code.code} needs {len(modifiers)} modifiers ({', '.join(modifiers)}); a claim line holds four, so {dropped} was left off.",
                    "Split the service over two lines as the payer instructs, or check which modifier the payer does not need.", index)
        modifiers = modifiers[:MAX_MODIFIERS]
    return ClaimLine(
        code=line.code.code, modifiers=modifiers, units=line.units, charge=line.charge,
        place_of_service=place, diagnosis_pointers=pointers, rendering_npi=facts.clinician.npi,
        minutes=line.minutes, date_of_service=facts.date_of_service,
    )


def _line_modifiers(policy: PayerPolicy | None, facts: EncounterFacts, line: _Line, therapy: bool, kx: bool) -> tuple[str, ...]:
    """The line's modifiers in claim order, before the four-modifier limit."""
    modifiers: list[str] = list(line.pricing_modifiers)
    if policy is not None and policy.gn_required and therapy:
        modifiers.insert(min(1, len(modifiers)), "GN")
    if line.distinct_modifier:
        modifiers.append(line.distinct_modifier)
    if facts.setting.is_telehealth and policy is not None:
        telehealth = policy.audio_only_modifier if facts.audio_only else policy.telehealth_modifier
        if telehealth:
            modifiers.append(telehealth)
    if kx and therapy:
        modifiers.append("KX")
    if policy is not None and policy.hab_rehab_modifier_required and facts.rehabilitative is not None:
        modifiers.append("97" if facts.rehabilitative else "96")
    return tuple(dict.fromkeys(m for m in modifiers if m not in NEVER_ON_SLP_LINES))


def _money(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def _kx(session: _Session, rulebook: RuleBook, day_total: Decimal) -> bool:
    facts, policy = session.facts, session.policy
    if policy is None or not policy.kx_threshold_applies or not session.lines:
        return False
    year = facts.date_of_service.year
    running = facts.ytd_therapy_amount + day_total
    review = rulebook.targeted_review_amount(facts.date_of_service)
    if review is not None and running > review:
        session.add(WARNING, "targeted-review-risk",
                    f"Year-to-date therapy amount with this claim is {_money(running)}, above {_money(review)}: the claim may be chosen for targeted medical review.",
                    "Make sure the plan of care and notes document medical necessity in detail.")
    threshold = rulebook.kx_threshold(year)
    if threshold is None or threshold.amount is None:
        session.add(WARNING, "kx-threshold-unknown", f"No KX threshold for {year} is installed, so KX cannot be decided.",
                    f"Add the {year} threshold to kx_thresholds.toml in the clinic's rules folder.")
        return False
    if threshold.provisional_from is not None:
        session.add(WARNING, "kx-threshold-provisional",
                    f"The {year} KX threshold is not installed; KX is decided on the {threshold.provisional_from} amount "
                    f"{_money(threshold.amount)}, so the {year} amount is provisional.",
                    f"Install the {year} amount from the CMS CY{year} physician fee schedule final rule (kx_thresholds.toml in the clinic rules folder).")
    if running >= threshold.amount:
        unconfirmed = " (threshold amount reported by secondary sources)" if threshold.confidence != "C" else ""
        session.add(WARNING, "kx-needed",
                    f"KX added: year-to-date therapy {_money(facts.ytd_therapy_amount)} plus this claim {_money(day_total)} reaches the {year} threshold {_money(threshold.amount)}{unconfirmed}.",
                    "Make sure the note documents why continued therapy is medically necessary; KX attests to it.")
        return True
    return False


def _diagnoses(session: _Session) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The claim's diagnoses in order and the lines' pointers, with their findings. They depend only
    on the diagnoses, the month of service (ICD-10-CM validity changes on the first of a month) and
    whether the payer requires a medical diagnosis, so they are worked out once per combination."""
    facts = session.facts
    requires_medical = session.policy is not None and session.policy.requires_medical_diagnosis
    key = (tuple(facts.diagnoses), facts.date_of_service.replace(day=1), requires_medical)
    found = _ICD10.claims.get(key)
    if found is None:
        if len(_ICD10.claims) > 50_000:
            _ICD10.claims.clear()
        found = _ICD10.claims[key] = _check_diagnoses(key[0], facts.date_of_service, requires_medical)
    session.findings.extend(found[0])
    return found[1], found[2]


def _check_diagnoses(diagnoses: tuple[Any, ...], dos: date, requires_medical: bool
                     ) -> tuple[tuple[Finding, ...], tuple[str, ...], tuple[int, ...]]:
    findings: list[Finding] = []

    def add(severity: Severity, code: str, message: str, fix: str) -> None:
        findings.append(Finding(severity, code, message, fix))

    if not diagnoses:
        add(ERROR, "no-diagnosis", "The session has no diagnosis.", "Add the treatment diagnosis (and the medical diagnosis for Medicare).")
        return tuple(findings), (), ()
    treatment: list[str] = []
    medical: list[str] = []
    usable: dict[str, bool] = {}
    note = _ICD10.release_note(dos)
    if note:
        add(WARNING, "icd10-release-not-installed", f"Diagnoses are checked against an older code set: {note}.",
            "Install the ICD-10-CM release for the date of service (CMS order file and tabular XML).")
    for dx in diagnoses:
        check = _ICD10.check(dx.code, dos)
        code = check.code or dx.code.strip().upper()
        if code not in usable:
            usable[code] = check.status in ("billable", "unlisted_valid_format")
            if check.status == "malformed":
                add(ERROR, "invalid-icd10", check.reason or f"Diagnosis '{dx.code}' is not a valid ICD-10-CM code.",
                    "Correct the code (a letter, a digit, a digit or letter, then a dot and up to four characters).")
            elif check.status == "not_billable":
                add(ERROR, "icd10-not-billable", check.reason or f"Diagnosis {code} is a category header, not a billable code.",
                    f"Choose the more specific code under {code}.")
            elif check.status == "unlisted_valid_format":
                add(WARNING, "icd10-unlisted", f"Diagnosis {code} is not in the installed ICD-10-CM list.",
                    f"Check {code} against the current ICD-10-CM code set before billing.")
        target = treatment if dx.role is DiagnosisRole.TREATMENT else medical
        if code not in treatment and code not in medical:
            target.append(code)
    ordered = treatment + medical
    if requires_medical:
        if not medical:
            add(ERROR, "missing-medical-diagnosis", "The claim has no medical diagnosis; this payer expects the physician's diagnosis (e.g. I69.391, G20).",
                "Add the medical diagnosis from the referral or plan of care.")
        if not treatment:
            add(ERROR, "missing-treatment-diagnosis", "The claim has no treatment diagnosis; this payer expects the SLP's diagnosis (e.g. R13.12).",
                "Add the treatment diagnosis that the session addressed.")
    valid_codes = tuple(sorted(c for c in ordered if usable.get(c)))
    if len(valid_codes) > 1:
        for code_a, code_b, reason in _ICD10.excludes1(valid_codes, dos):
            add(ERROR, "excludes1-conflict", f"{code_a} and {code_b} cannot be reported together (Excludes1): {reason}",
                f"Keep the code that describes the condition best and remove {code_b} or {code_a}.")
    if valid_codes:
        for code, message in _ICD10.companion(valid_codes, dos):
            add(WARNING, "diagnosis-companion-missing", message, f"Add the code that {code} asks for beside it.")
    if len(ordered) > MAX_DIAGNOSES:
        add(WARNING, "too-many-diagnoses", f"The claim holds {MAX_DIAGNOSES} diagnoses; {len(ordered) - MAX_DIAGNOSES} are left off.",
            "Keep the diagnoses the services address.")
        ordered = ordered[:MAX_DIAGNOSES]
    pointers = list(range(1, min(MAX_POINTERS, len(ordered)) + 1))
    if medical and requires_medical:
        medical_pointer = ordered.index(medical[0]) + 1
        if medical_pointer not in pointers:
            pointers[-1] = medical_pointer
    return tuple(findings), tuple(ordered), tuple(pointers)


def _scrub(session: _Session) -> None:
    facts, policy = session.facts, session.policy
    dos = facts.date_of_service
    treatment = not facts.session_type.is_evaluation
    strict = ERROR if policy is None or policy.requires_claim_identifiers else WARNING
    if not facts.signed:
        session.add(ERROR, "note-unsigned", "The session note is not signed.", "Sign the note; unsigned notes cannot be billed.")
    if facts.today is not None and dos > facts.today:
        session.add(ERROR, "dos-in-future", f"The date of service {dos} is in the future.", "Correct the date of service.")
    has_time = facts.total_minutes > 0 or any(m > 0 for m in facts.minutes_by_area.values()) or any(m > 0 for m in facts.minutes_by_code.values())
    if not has_time:
        session.add(ERROR, "no-time-recorded", "No treatment time is recorded for the session.", "Enter the session's minutes (or start and stop times).")
    elif facts.total_minutes and sum(facts.minutes_by_area.values()) > facts.total_minutes:
        session.add(WARNING, "area-minutes-exceed-total",
                    f"Minutes by disorder area add up to {sum(facts.minutes_by_area.values())}, more than the session's {facts.total_minutes}.",
                    "Correct the minutes per area or the session length.")
    if facts.start_time and facts.stop_time and facts.stop_time < facts.start_time:
        session.add(ERROR, "stop-before-start", "The stop time is before the start time.", "Correct the start or stop time.")
    if policy is not None and policy.requires_start_stop_times and (facts.start_time is None or facts.stop_time is None):
        session.add(ERROR, "missing-start-stop-times", "This payer requires start and stop times in the session log.", "Enter the start and stop times.")
    if facts.session_type.is_group:
        limit = policy.max_group_size if policy else 4
        if facts.group_size > limit:
            session.add(ERROR, "group-too-large", f"The group had {facts.group_size} patients; this payer allows at most {limit}.",
                        f"Bill groups of at most {limit}, or bill individual treatment where that is what was given.")
        elif facts.group_size < 2:
            session.add(ERROR, "group-too-small", "A group session needs at least two patients.", "Record the group size, or code the session as individual treatment.")
    if treatment:
        _scrub_treatment(session)
    _scrub_people(session, strict)
    if facts.audio_only and not facts.setting.is_telehealth:
        session.add(ERROR, "audio-only-not-telehealth", f"The session is marked audio-only but its setting is {facts.setting}.",
                    "Choose a telehealth setting, or clear audio-only (ctrl+f, billing facts).")
    if facts.setting.is_telehealth and policy is not None and policy.telehealth_covered_until and dos > policy.telehealth_covered_until:
        session.add(ERROR, "telehealth-not-covered", f"This payer's telehealth authority for SLP services ended on {policy.telehealth_covered_until}.",
                    "See the patient in person, or confirm a later extension and update payers.toml.")
    if facts.setting is Setting.HOME and facts.under_home_health_plan and policy is not None and policy.payer_kind is PayerKind.MEDICARE:
        session.add(ERROR, "home-health-episode", "Part B therapy cannot be billed while the patient is under a home-health plan of care.",
                    "Bill the home-health agency's episode instead, or correct the home-health status.")
    if policy is not None and policy.hab_rehab_modifier_required and facts.rehabilitative is None and session.lines:
        session.add(ERROR, "missing-hab-rehab", "This payer requires modifier 96 (habilitative) or 97 (rehabilitative), and the session does not say which.",
                    "Record habilitative or rehabilitative (ctrl+f, billing facts), or on the plan of care.")


def _scrub_treatment(session: _Session) -> None:
    facts, policy = session.facts, session.policy
    dos = facts.date_of_service
    if facts.goals_addressed <= 0:
        session.add(WARNING, "no-goals-addressed", "The note does not link the session to any plan-of-care goal.",
                    "Mark the goals worked on; it documents medical necessity.")
    if not facts.techniques:
        session.add(WARNING, "no-interventions-recorded", "The note names no intervention.", "Check off the techniques used in the session.")
    if policy is not None and policy.progress_report_interval:
        interval = policy.progress_report_interval
        if facts.treatment_days_since_progress_report >= interval:
            session.add(ERROR, "progress-report-overdue",
                        f"{facts.treatment_days_since_progress_report} treatment days have passed since the last progress report; one is due every {interval}.",
                        "Write the progress report, then code this session.")
        elif facts.treatment_days_since_progress_report == interval - 1:
            session.add(INFO, "progress-report-due", f"This is treatment day {interval} since the last progress report.", "Write the progress report with this visit.")
    plan = facts.plan
    if policy is None or not policy.requires_plan_of_care:
        return
    if plan is None:
        session.add(ERROR, "no-plan-of-care", f"No plan of care covers {dos}.", "Write and certify a plan of care before billing treatment.")
        return
    if dos < plan.start:
        session.add(ERROR, "poc-not-started", f"The plan of care starts on {plan.start}, after the date of service {dos}.", "Correct the plan dates or the date of service.")
    elif dos > plan.end or plan.status in (PlanStatus.EXPIRED, PlanStatus.DISCHARGED):
        session.add(ERROR, "poc-expired", f"The plan of care ({plan.start} to {plan.end}, {plan.status}) is not in force on {dos}.",
                    "Recertify or write a new plan of care covering the date of service.")
    if plan.frequency_per_week and facts.visits_this_week > plan.frequency_per_week:
        session.add(WARNING, "frequency-exceeded",
                    f"This is visit {facts.visits_this_week} this week; the plan of care orders {plan.frequency_per_week} a week.",
                    "Update the plan's frequency (with the physician's signature) or document why the extra visit was needed.")
    if not policy.requires_poc_certification:
        return
    first_day = plan.first_treatment_date or plan.start
    deadline = certification_deadline(first_day)
    if plan.certified_on is None:
        if dos > deadline:
            session.add(ERROR, "poc-not-certified", f"The plan of care was not certified within {CERTIFICATION_DAYS} days of the first treatment day ({first_day}).",
                        "Get the physician's or NPP's signature on the plan (a delayed certification needs a reason in the record).")
        else:
            session.add(WARNING, "poc-certification-pending", f"The plan of care is not certified yet; it must be by {deadline}.",
                        "Send the plan to the physician or NPP for signature.")
    elif plan.certified_on > deadline:
        session.add(WARNING, "poc-certified-late", f"The plan of care was certified on {plan.certified_on}, more than {CERTIFICATION_DAYS} days after the first treatment day ({first_day}).",
                    "Keep the physician's reason for the delayed certification in the record.")
    basis = plan.recertified_on or plan.start
    if dos > plan_limit_last_day(basis):
        session.add(ERROR, "poc-recert-needed", f"The plan's certification from {basis} is older than {CERTIFICATION_LENGTH_DAYS} days on {dos}.",
                    "Get the plan recertified by the physician or NPP.")
    problem = _npi_problem(plan.certifying_npi or "")
    if not (plan.certifying_npi or "").strip():
        session.add(ERROR, "missing-certifying-npi", "The plan of care has no certifying physician NPI; Medicare claims carry it.",
                    "Enter the certifying physician's or NPP's NPI on the plan of care.")
    elif problem:
        session.add(ERROR, "invalid-certifying-npi", f"The certifying provider's NPI {plan.certifying_npi} is invalid: {problem}.",
                    "Re-enter the certifying physician's NPI from the referral or NPPES.")


def _scrub_people(session: _Session, strict: Severity) -> None:
    """The findings about the people on the claim. They depend only on the clinician, the billing
    provider, the payer's policy and whether the coverage has a member ID, so within one day's code
    set they are worked out once per combination."""
    facts, policy, view = session.facts, session.policy, session.view
    coverage = facts.coverage
    if view is None:
        session.findings.extend(_people_findings(facts, policy, strict))
        return
    key = ("people", id(policy), strict, facts.clinician, facts.billing, coverage.payer_kind, coverage.payer_name,
           not (coverage.member_id or "").strip())
    found = view.derived.get(key)
    if found is None or found[0] is not policy:
        found = view.derived[key] = (policy, _people_findings(facts, policy, strict))
    session.findings.extend(found[1])


def _people_findings(facts: EncounterFacts, policy: PayerPolicy | None, strict: Severity) -> tuple[Finding, ...]:
    findings: list[Finding] = []

    def add(severity: Severity, code: str, message: str, fix: str) -> None:
        findings.append(Finding(severity, code, message, fix))

    clinician, billing = facts.clinician, facts.billing
    problem = _npi_problem(clinician.npi)
    if problem:
        add(strict, "invalid-rendering-npi", f"The rendering clinician {clinician.name}'s NPI is unusable: {problem}.",
            "Correct the clinician's NPI in settings.")
    problem = _npi_problem(billing.npi)
    if problem:
        add(strict, "invalid-billing-npi", f"The billing provider {billing.name}'s NPI is unusable: {problem}.", "Correct the clinic's NPI in settings.")
    problem = _ein_problem(billing.tax_id)
    if problem:
        code = "missing-billing-tax-id" if not (billing.tax_id or "").strip() else "invalid-billing-tax-id"
        add(strict, code, f"The billing provider {billing.name}: {problem}.", "Enter the clinic's tax ID (EIN) in settings.")
    missing = [name for name, value in (("street", billing.address_line1), ("city", billing.city), ("state", billing.state), ("ZIP code", billing.postal_code)) if not (value or "").strip()]
    if missing:
        add(strict, "missing-billing-address", f"The billing provider's address lacks the {', '.join(missing)}.", "Complete the clinic's address in settings.")
    if policy is not None and policy.requires_member_id and not (facts.coverage.member_id or "").strip():
        add(ERROR, "missing-member-id", f"The coverage with {facts.coverage.payer_name or facts.coverage.payer_kind} has no member ID.",
            "Enter the member ID from the patient's insurance card.")
    if policy is None:
        return tuple(findings)
    if clinician.role is ClinicianRole.ASSISTANT and not policy.assistant_may_bill:
        add(ERROR, "assistant-not-billable", f"{clinician.name} is an SLP assistant; {policy.payer_kind} does not recognise SLP assistant services.",
            "Services must be given and billed by a licensed SLP for this payer.")
    if clinician.role is ClinicianRole.CLINICAL_FELLOW and policy.clinical_fellow_may_bill_from is not None:
        if facts.date_of_service >= policy.clinical_fellow_may_bill_from:
            add(WARNING, "clinical-fellow-check-state",
                f"{clinician.name} is a clinical fellow: billable from {policy.clinical_fellow_may_bill_from} where state rules allow.",
                "Check that the state licence (provisional) allows the clinical fellow to bill independently.")
        else:
            add(ERROR, "clinical-fellow-not-billable",
                f"Clinical fellows could not bill this payer before {policy.clinical_fellow_may_bill_from}.",
                "Bill under the supervising SLP as the payer allowed at the time, or not at all.")
    return tuple(findings)


# ---------------------------------------------------------------------------------------------
# Re-checking edited claim lines


def check_lines(facts: EncounterFacts, lines: Sequence[ClaimLine], rulebook: RuleBook, diagnoses_count: int | None = None) -> list[Finding]:
    """Check claim lines (e.g. edited by hand) against the rules for the session: codes valid on
    the DOS, GN in position 1 or 2 when required, no CQ/CO/GP/GO, at most four modifiers, never 59
    with an X modifier, add-ons with their primary, one unit of untimed codes, pointers in range."""
    findings: list[Finding] = []
    dos = facts.date_of_service
    view = rulebook.codeset_for(dos)
    policy = rulebook.policy_for(facts.coverage.payer_kind, facts.coverage.payer_id, dos)

    def add(severity: Severity, code: str, message: str, fix: str, index: int) -> None:
        findings.append(Finding(severity, code, message, fix, index))

    billed = {line.code for line in lines}
    for index, line in enumerate(lines):
        definition = view.codes.get(line.code) if view else None
        if view is None:
            add(ERROR, "no-codeset-for-dos", f"No installed code set covers {dos}.", f"Install the {dos.year} code-set file.", index)
        elif line.code in view.refused:
            refused = view.refused[line.code]
            add(ERROR, refused.finding, refused.reason + ".", refused.fix + ".", index)
        elif definition is None:
            add(ERROR, "code-not-in-codeset", f"{line.code} is not valid on {dos}.", "Use a code from the code set in force on the date of service.", index)
        if policy is not None and policy.gn_required and "GN" not in line.modifiers[:2] and (definition is None or definition.therapy != "never"):
            code = "missing-gn" if "GN" not in line.modifiers else "gn-position"
            add(ERROR, code, f"{line.code} needs modifier GN in position 1 or 2 for this payer.", "Put GN first (or second after a pricing modifier such as 52).", index)
        for modifier in line.modifiers:
            if modifier in NEVER_ON_SLP_LINES:
                add(ERROR, "modifier-not-for-slp", f"Modifier {modifier} is never used on SLP lines.", f"Remove {modifier}.", index)
        if len(line.modifiers) > MAX_MODIFIERS:
            add(ERROR, "too-many-modifiers", f"{line.code} has {len(line.modifiers)} modifiers; a line holds four.", "Remove the modifiers the payer does not need.", index)
        if "59" in line.modifiers and any(m in line.modifiers for m in ("XE", "XS", "XP", "XU")):
            add(ERROR, "59-with-x-modifier", f"{line.code} carries 59 together with an X modifier.", "Keep only the specific X modifier.", index)
        if definition is not None and definition.addon_to and definition.addon_to not in billed:
            add(ERROR, "addon-without-primary", f"Add-on {line.code} is billed without its primary code {definition.addon_to}.",
                f"Bill {definition.addon_to} on the same claim or remove {line.code}.", index)
        if definition is not None and not definition.timed and line.units != 1 and (policy is None or policy.untimed_units_for(line.code) == "per_session"):
            add(ERROR, "untimed-units", f"{line.code} is untimed and is billed once per day, not {line.units} units.", "Bill 1 unit.", index)
        if line.units < 1:
            add(ERROR, "zero-units", f"{line.code} has no units.", "Remove the line or correct the units.", index)
        if not 1 <= len(line.diagnosis_pointers) <= MAX_POINTERS or (
            diagnoses_count is not None and any(not 1 <= p <= diagnoses_count for p in line.diagnosis_pointers)
        ):
            add(ERROR, "bad-diagnosis-pointer", f"{line.code} needs 1 to 4 pointers to the claim's diagnoses.", "Point the line at the diagnoses it treats.", index)
    return findings

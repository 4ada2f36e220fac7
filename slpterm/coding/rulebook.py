"""Loading and validating the rules data: code sets, payer policies, KX thresholds, NCCI pairs,
places of service and fees.

The shipped files live in `slpterm/rules/`; a clinic's rules directory may add files of the same
kinds (recognised by their `kind` key, or the CSV header for NCCI pairs) that override or extend the
shipped ones. Every problem found while loading is reported with the file, the entry and a fix.
The file formats are described in docs/rules-format.md.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from dataclasses import MISSING, dataclass, field, fields, replace
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from collections.abc import Iterable, Iterator, Mapping

from slpterm.domain.vocab import DisorderArea, EvaluationKind, PayerKind, SessionType, Setting

SHIPPED_RULES_DIR = Path(__file__).resolve().parent.parent / "rules"

CODE_PATTERN = re.compile(r"^[0-9A-Z]{5}$")
MODIFIER_PATTERN = re.compile(r"^[0-9A-Z]{2}$")
UNIT_RULES = ("once_per_day", "first_unit", "per_unit", "addon")
TIMED_UNIT_RULES = ("first_unit", "per_unit", "addon")
CODE_KINDS = ("treatment", "evaluation")
CONFIDENCE = ("C", "R", "U")
REFUSAL_FINDINGS = ("code-deleted", "slp-code-not-allowed", "code-refused")
NCCI_INDICATORS = ("0", "1", "9", "U")
NCCI_HEADER = ["column1", "column2", "indicator", "valid_from", "valid_to", "confidence", "source"]
FILE_KINDS = ("codeset", "payers", "kx_thresholds", "pos", "fees", "ncci", "mue")
THERAPY_KINDS = ("always", "sometimes", "unknown", "never")
SAME_DAY_RULES = ("each_area", "largest_area", "one_base_pooled")
MUE_HEADER = ["code", "mue", "adjudication", "valid_from", "valid_to", "source"]
DEVICES = ("sgd", "non_sgd")


# ---------------------------------------------------------------------------------------------
# Errors


@dataclass(frozen=True, slots=True)
class RuleProblem:
    """One problem in a rules file: where it is and how to fix it."""

    file: str
    entry: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.file}: {self.entry}: {self.message}. Fix: {self.fix}"


class RuleBookError(Exception):
    """Raised when rules data is invalid; `problems` lists every problem found."""

    def __init__(self, problems: Iterable[RuleProblem]):
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


# ---------------------------------------------------------------------------------------------
# Records


def _in_range(day: date, start: date | None, end: date | None) -> bool:
    return (start is None or day >= start) and (end is None or day <= end)


def _fmt_range(start: date | None, end: date | None) -> str:
    return f"{start.isoformat() if start else 'open'}..{end.isoformat() if end else 'open'}"


@dataclass(frozen=True, slots=True)
class CodeDef:
    """One procedure code. Timed codes bill by minutes following `unit_rule`:

    - `once_per_day`: untimed, one unit per patient per day;
    - `first_unit`: first unit from `min_minutes`, standing for `unit_minutes`, at most `max_units`;
    - `per_unit`: a unit from `min_minutes`, each further unit `min_minutes` past a full unit;
    - `addon`: bills the minutes beyond its primary (`addon_to`): a unit per `unit_minutes`,
      the first from `min_minutes` past the primary's time.
    """

    code: str
    paraphrase: str
    kind: str
    timed: bool
    unit_rule: str
    min_minutes: int = 0
    unit_minutes: int = 0
    max_units: int | None = None
    addon_to: str | None = None
    cms_fifteen_minute: bool = False
    area: DisorderArea | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    confidence: str = "C"
    unconfirmed_payers: frozenset[str] = frozenset()
    mue: int | None = None
    note: str = ""
    therapy: str = "always"
    addon_order: int = 0

    def valid_on(self, day: date) -> bool:
        return _in_range(day, self.valid_from, self.valid_to)


@dataclass(frozen=True, slots=True)
class PendingService:
    """A session type whose codes a code set knows are coming but does not carry: coding such a
    session says what to install and where it comes from."""

    session_type: SessionType
    message: str
    install: str


@dataclass(frozen=True, slots=True)
class UnmappedArea:
    """A disorder area whose treatment has no code in the set (e.g. aural rehabilitation in 2027)."""

    area: DisorderArea
    what: str
    note: str


@dataclass(frozen=True, slots=True)
class MueLimit:
    """A practitioner MUE: at most `units` of `code` per patient per day of service."""

    code: str
    units: int
    adjudication: str
    valid_from: date | None
    valid_to: date | None
    source: str

    def valid_on(self, day: date) -> bool:
        return _in_range(day, self.valid_from, self.valid_to)


@dataclass(frozen=True, slots=True)
class ServiceDef:
    """Which code a session selects: by session type (treatment) or evaluation kind (evaluations),
    optionally per disorder area (timed per-area code sets) or AAC device kind."""

    code: str
    session_type: SessionType | None = None
    evaluation_kind: EvaluationKind | None = None
    area: DisorderArea | None = None
    device: str | None = None
    modifiers: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[Any, Any]:
        return (self.session_type, self.evaluation_kind)


@dataclass(frozen=True, slots=True)
class RefusedCode:
    code: str
    finding: str
    reason: str
    fix: str


@dataclass(frozen=True)
class CodeSet:
    id: str
    name: str
    valid_from: date
    valid_to: date | None
    source: str
    origin: str
    codes: Mapping[str, CodeDef]
    services: tuple[ServiceDef, ...]
    refused: Mapping[str, RefusedCode]
    inherits: str | None = None
    carries: frozenset[str] | None = None  # None with inherits: every inherited code (carries = "all")
    same_day_areas: str | None = None
    same_day_confidence: str = "C"
    pending: tuple[PendingService, ...] = ()
    unmapped: tuple[UnmappedArea, ...] = ()

    def covers(self, day: date) -> bool:
        return _in_range(day, self.valid_from, self.valid_to)


@dataclass(frozen=True)
class _Merged:
    codes: dict[str, CodeDef]
    services: list[ServiceDef]
    refused: dict[str, RefusedCode]
    pending: dict[SessionType, PendingService]
    unmapped: dict[DisorderArea, UnmappedArea]
    same_day: str
    same_day_confidence: str
    origin: dict[str, str]


@dataclass(frozen=True)
class CodeSetView:
    """The code set in force on one date, inheritance resolved, codes filtered by their dates."""

    day: date
    codeset: CodeSet
    codes: Mapping[str, CodeDef]
    all_codes: Mapping[str, CodeDef]
    services: tuple[ServiceDef, ...]
    refused: Mapping[str, RefusedCode]
    addons_for: Mapping[str, tuple[CodeDef, ...]]
    pending: Mapping[SessionType, PendingService] = field(default_factory=dict)
    unmapped: Mapping[DisorderArea, UnmappedArea] = field(default_factory=dict)
    same_day_areas: str = "each_area"
    same_day_confidence: str = "C"
    origin_of: Mapping[str, str] = field(default_factory=dict)  # code -> id of the set that defines it
    _services_by_key: dict[tuple[Any, Any], tuple[ServiceDef, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False)
    # What the engine derives from this view alone (the same for every session of the day), kept
    # with the view so that it is worked out once per code set and day.
    derived: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def services_for(self, key: tuple[Any, Any]) -> tuple[ServiceDef, ...]:
        found = self._services_by_key.get(key)
        if found is None:
            found = self._services_by_key[key] = tuple(s for s in self.services if s.key == key)
        return found


SEVERITY_NAMES = ("error", "warning", "info")


@dataclass(frozen=True, slots=True)
class PolicyField:
    """One payer-policy field as declared on PayerPolicy: what the rules files, the settings screen
    and docs/rules-format.md know of it.

    kind: "bool", "int", "choice" (one of ``choices``), "date", "codes" (a list of codes),
    "units_by_code" (code -> unit policy) or "severities" (finding code -> severity).
    """

    name: str
    kind: str
    label: str
    help: str
    choices: tuple[str, ...] = ()
    required: bool = True
    editable: bool = False  # offered on the payer-rules screen (the rest stay in rules files)
    minimum: int = 0
    none_means_blank: bool = False  # "none" is stored as "" (no modifier)

    @property
    def example(self) -> str:
        return {"bool": "true or false", "int": f"a whole number such as {max(self.minimum, 8)}",
                "date": "a date such as 2026-01-01", "codes": '["92507"]',
                "units_by_code": '{ "92507" = "fifteen_minute" }',
                "severities": '{ "group-too-large" = "error" }'}.get(self.kind) or " or ".join(
                    f'"{choice}"' for choice in self.choices)


def _rule(kind: str, label: str, help: str, *, choices: tuple[str, ...] = (), editable: bool = False,
          minimum: int = 0, none_means_blank: bool = False, default: Any = MISSING,
          default_factory: Any = MISSING) -> Any:
    """A PayerPolicy field that rules files set (its declaration; a default makes it optional).
    Labels fit the payer-rules screen's label column (26 characters)."""
    info = {"kind": kind, "label": label, "help": help, "choices": choices, "editable": editable,
            "minimum": minimum, "none_means_blank": none_means_blank,
            "required": default is MISSING and default_factory is MISSING}
    return field(default=default, default_factory=default_factory, metadata={"policy": info})


@dataclass(frozen=True, slots=True)
class PayerPolicy:
    """How one kind of payer (or one payer, after overrides) wants SLP services billed.

    The fields declared with ``_rule`` are the policy fields: a new one is one line here (its kind,
    label and help), and the rules-file schema, the payer-rules screen (``editable=True``) and the
    table in docs/rules-format.md follow from it.
    """

    payer_kind: PayerKind
    gn_required: bool = _rule("bool", "GN modifier required", "Every therapy line carries GN.", editable=True)
    units_method: str = _rule("choice", "Timed units", "cms_total_time pools the 15-minute codes' minutes "
                              "(the CMS 8-minute rule); per_code counts each code alone.",
                              choices=("cms_total_time", "per_code"), editable=True)
    untimed_units: str = _rule("choice", "Untimed units", "per_session: one unit; fifteen_minute: 8-22 minutes "
                               "is 1 unit, ... for the codes in untimed_units_codes.",
                               choices=("per_session", "fifteen_minute"), editable=True)
    untimed_min_minutes: int = _rule("int", "Untimed minimum minutes",
                                     "The payer's minimum minutes for an untimed code (0: none).", editable=True)
    telehealth_modifier: str = _rule("choice", "Telehealth modifier", "The modifier on telehealth lines.",
                                     choices=("95", "GT", "none"), editable=True, none_means_blank=True)
    hab_rehab_modifier_required: bool = _rule("bool", "Hab/rehab modifier (96/97)",
                                              "Lines carry 96 (habilitative) or 97 (rehabilitative).", editable=True)
    kx_threshold_applies: bool = _rule("bool", "KX threshold applies",
                                       "The yearly therapy threshold and the KX modifier apply.", editable=True)
    requires_medical_diagnosis: bool = _rule("bool", "Medical diagnosis required",
                                             "A medical (not only a treatment) diagnosis is required.", editable=True)
    requires_plan_of_care: bool = _rule("bool", "Plan of care required", "Treatment needs a plan of care.")
    requires_poc_certification: bool = _rule("bool", "Certified plan required",
                                             "30-day certification, 90-day recertification, certifying NPI.",
                                             editable=True)
    progress_report_interval: int = _rule("int", "Progress report interval",
                                          "Treatment days between progress reports; 0 = no check.", editable=True)
    max_group_size: int = _rule("int", "Largest group", "The most patients a group session may bill.",
                                editable=True, minimum=2)
    assistant_may_bill: bool = _rule("bool", "Assistants may bill", "An SLP assistant's sessions may be billed.")
    requires_member_id: bool = _rule("bool", "Member ID required", "Claims need the coverage's member ID.")
    requires_start_stop_times: bool = _rule("bool", "Start/stop times required",
                                            "Notes need the session's start and stop times.")
    requires_claim_identifiers: bool = _rule("bool", "Claim identifiers required",
                                             "NPI / tax ID / address problems are errors (else warnings).")
    untimed_units_by_code: Mapping[str, str] = _rule(
        "units_by_code", "Untimed units per code", "Per code: per_session or fifteen_minute.",
        default_factory=dict)
    # The codes a policy-wide untimed_units = "fifteen_minute" applies to (other codes: per session).
    untimed_units_codes: frozenset[str] = _rule(
        "codes", "15-minute untimed codes", 'Required with untimed_units = "fifteen_minute": a unit '
        "policy applies only to the codes it names.", default=frozenset(), editable=True)
    audio_only_modifier: str = _rule("choice", "Audio-only modifier", "The modifier on audio-only telehealth lines.",
                                     choices=("93", "FQ", "95", "none"), none_means_blank=True, default="93")
    # The modifier of a distinct service on an NCCI pair: by_context (XE for another session, XU
    # otherwise) or the one this payer wants.
    distinct_service_modifier: str = _rule(
        "choice", "Distinct-service modifier", "On an NCCI pair: by_context (XE for another session, else XU) "
        "or the one this payer wants.", choices=("by_context", "59", "XE", "XS", "XP", "XU"), default="by_context")
    # Finding code -> severity: the shipped [severity] table, the policy's, then the payer's.
    severity: Mapping[str, str] = _rule("severities", "Severity per finding",
                                        "Finding code -> error, warning or info for this payer.",
                                        default_factory=dict)
    telehealth_covered_until: date | None = _rule("date", "Telehealth covered until",
                                                  "The last date telehealth is covered.", default=None)
    clinical_fellow_may_bill_from: date | None = _rule(
        "date", "Fellows may bill from", "A clinical fellow's claims: errors before this date, a warning from then on.", default=None)
    valid_from: date | None = None
    valid_to: date | None = None
    source: str = ""
    payer_id: str = ""

    def untimed_units_for(self, code: str) -> str:
        """A unit policy applies only to the codes it names."""
        if code in self.untimed_units_by_code:
            return self.untimed_units_by_code[code]
        if self.untimed_units == "fifteen_minute" and code in self.untimed_units_codes:
            return "fifteen_minute"
        return "per_session"

    def severity_of(self, finding: str, default: str) -> str:
        return self.severity.get(finding, default)


@lru_cache(maxsize=1)
def policy_fields() -> dict[str, PolicyField]:
    """The policy fields in declaration order, read from PayerPolicy."""
    return {f.name: PolicyField(f.name, **f.metadata["policy"]) for f in fields(PayerPolicy) if "policy" in f.metadata}


def policy_fields_markdown() -> str:
    """The table of policy fields in docs/rules-format.md (a test keeps the page equal to it)."""
    rows = ["| Field | Value | Required in a policy | Meaning |", "| --- | --- | --- | --- |"]
    for spec in policy_fields().values():
        rows.append(f"| `{spec.name}` | {spec.example.replace('|', '/')} | {'yes' if spec.required else 'no'} "
                    f"| {spec.label}: {spec.help} |")
    return "\n".join(rows) + "\n"


@dataclass(frozen=True, slots=True)
class PayerOverride:
    payer_id: str
    values: Mapping[str, Any]
    source: str
    valid_from: date | None = None
    valid_to: date | None = None


@dataclass(frozen=True, slots=True)
class KxThreshold:
    """A year's KX threshold. A provisional year (amount not published yet) carries `amount` None in
    the file; the rule book answers with the last known year's amount and `provisional_from` set."""

    year: int
    amount: Decimal | None
    confidence: str
    source: str
    provisional_from: int | None = None


@dataclass(frozen=True, slots=True)
class TargetedReview:
    amount: Decimal
    valid_from: date | None
    valid_to: date | None
    confidence: str
    source: str


@dataclass(frozen=True, slots=True)
class NcciPair:
    """An NCCI procedure-to-procedure edit. indicator: "0", "1", "9" or "U" (unconfirmed)."""

    column1: str
    column2: str
    indicator: str
    valid_from: date | None = None
    valid_to: date | None = None
    confidence: str = "C"
    source: str = ""

    def valid_on(self, day: date) -> bool:
        return _in_range(day, self.valid_from, self.valid_to)


@dataclass(frozen=True, slots=True)
class PosCode:
    setting: Setting
    code: str
    name: str
    valid_from: date | None = None
    valid_to: date | None = None
    note: str = ""


@dataclass(frozen=True)
class RulesFile:
    """One parsed rules file: its kind and the records it holds."""

    kind: str
    path: str
    source: str
    codeset: CodeSet | None = None
    policies: tuple[PayerPolicy, ...] = ()
    overrides: tuple[PayerOverride, ...] = ()
    thresholds: tuple[KxThreshold, ...] = ()
    targeted_review: TargetedReview | None = None
    pairs: tuple[NcciPair, ...] = ()
    pos: tuple[PosCode, ...] = ()
    fees: Mapping[str, Decimal] = field(default_factory=dict)
    mue: tuple[MueLimit, ...] = ()
    severities: Mapping[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        if self.kind == "codeset" and self.codeset:
            cs = self.codeset
            carried = "" if not cs.inherits else (" (all its codes)" if cs.carries is None else f" ({len(cs.carries)} codes carried)")
            return (
                f"code set '{cs.id}' ({cs.name}): {len(cs.codes)} codes, {len(cs.services)} services, "
                f"{len(cs.refused)} refused codes, valid {_fmt_range(cs.valid_from, cs.valid_to)}"
                + (f", inherits '{cs.inherits}'{carried}" if cs.inherits else "")
            )
        if self.kind == "payers":
            return f"payer rules: {len(self.policies)} policies, {len(self.overrides)} payer overrides"
        if self.kind == "kx_thresholds":
            years = ", ".join(f"{t.year}{' (provisional)' if t.amount is None else ''}" for t in self.thresholds)
            return f"KX thresholds for {years or 'no years'}"
        if self.kind == "ncci":
            return f"NCCI pairs: {len(self.pairs)}"
        if self.kind == "mue":
            return f"MUE limits for {len(self.mue)} codes"
        if self.kind == "pos":
            return f"places of service: {len(self.pos)}"
        return f"fees for {len(self.fees)} codes"


# ---------------------------------------------------------------------------------------------
# Parsers, one per file kind. The fields of every entry are checked by the schema in
# rules_schema.py; what relates several fields, entries or files is checked here.


class _Checker:
    """Collects the problems of one rules file; ``entry`` validates one table against the schema."""

    def __init__(self, file: str, problems: list[RuleProblem]):
        self.file = file
        self.problems = problems

    def problem(self, entry: str, message: str, fix: str) -> None:
        self.problems.append(RuleProblem(self.file, entry, message, fix))

    def entry(self, model: Any, table: Any, entry: str) -> Any:
        # pydantic is imported here, when a rules file is read, and not with this module.
        from slpterm.coding.rules_schema import check_entry

        return check_entry(model, table, self.file, entry, self.problems)

    def tables(self, raw: Any, name: str) -> list[Any]:
        """An array of tables ([[name]]); a problem when it is something else."""
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.problem("header", f"{name} must be an array of tables", f"write each entry as [[{name}]]")
            return []
        return raw


def _check_range(ck: _Checker, entry: str, start: date | None, end: date | None) -> None:
    if start and end and end < start:
        ck.problem(entry, f"valid_to {end} is before valid_from {start}", "swap or correct the dates")


def _named(label: str, index: int, table: Any, key: str, kind: type = str) -> str:
    """The entry's name in problems: "code #3 (92507)"."""
    name = table.get(key) if isinstance(table, Mapping) else None
    return f"{label} #{index + 1}" + (f" ({name})" if isinstance(name, kind) and not isinstance(name, bool) else "")


def _parse_code(ck: _Checker, table: Any, index: int) -> CodeDef | None:
    from slpterm.coding.rules_schema import CodeEntry

    entry = _named("code", index, table, "code")
    record = ck.entry(CodeEntry, table, entry)
    if record is None:
        return None
    before = len(ck.problems)
    _check_range(ck, entry, record.valid_from, record.valid_to)
    timed, unit_rule = record.timed, record.unit_rule
    if timed != (unit_rule in TIMED_UNIT_RULES):
        ck.problem(entry, f"timed = {str(timed).lower()} does not match unit_rule '{unit_rule}'",
                   "untimed codes use unit_rule = \"once_per_day\"; timed codes use first_unit, per_unit or addon")
    if unit_rule in TIMED_UNIT_RULES and (not record.min_minutes or not record.unit_minutes):
        ck.problem(entry, f"unit_rule '{unit_rule}' needs min_minutes and unit_minutes",
                   "add both, e.g. min_minutes = 8 and unit_minutes = 15")
    if unit_rule in TIMED_UNIT_RULES and record.min_minutes and record.unit_minutes \
            and record.min_minutes > record.unit_minutes:
        ck.problem(entry, "min_minutes is larger than unit_minutes",
                   "min_minutes is the time that earns a unit; it cannot exceed the unit's length")
    if unit_rule == "addon" and not record.addon_to:
        ck.problem(entry, "an add-on code needs addon_to", 'add addon_to = "<primary code>"')
    if unit_rule != "addon" and record.addon_to:
        ck.problem(entry, "addon_to is only for unit_rule = \"addon\"", "remove addon_to or set unit_rule = \"addon\"")
    for payer in sorted(record.unconfirmed_payers):
        if payer not in {k.value for k in PayerKind}:
            ck.problem(entry, f"unconfirmed_payers names unknown payer kind '{payer}'",
                       "use medicare, medicaid, commercial, school or self_pay")
    if len(ck.problems) > before:
        return None
    max_units = 1 if unit_rule == "first_unit" and record.max_units is None else record.max_units
    return CodeDef(
        code=record.code, paraphrase=record.paraphrase, kind=record.kind, timed=timed, unit_rule=unit_rule,
        min_minutes=record.min_minutes, unit_minutes=record.unit_minutes, max_units=max_units,
        addon_to=record.addon_to, cms_fifteen_minute=record.cms_fifteen_minute, area=record.area,
        valid_from=record.valid_from, valid_to=record.valid_to, confidence=record.confidence,
        unconfirmed_payers=record.unconfirmed_payers, mue=record.mue,
        note=record.note if isinstance(record.note, str) else "", therapy=record.therapy,
        addon_order=record.addon_order,
    )


def _parse_service(ck: _Checker, table: Any, index: int) -> ServiceDef | None:
    from slpterm.coding.rules_schema import ServiceEntry

    entry = _named("service", index, table, "code")
    record = ck.entry(ServiceEntry, table, entry)
    if record is None:
        return None
    session_type, evaluation_kind = record.session_type, record.evaluation_kind
    before = len(ck.problems)
    if session_type is None and evaluation_kind is None:
        ck.problem(entry, "a service needs session_type (treatment) or evaluation_kind (evaluation)",
                   'add session_type = "individual_treatment" or evaluation_kind = "fluency"')
    if session_type is not None and evaluation_kind is not None:
        ck.problem(entry, "give either session_type or evaluation_kind, not both",
                   "evaluations are selected by evaluation_kind alone")
    if session_type is not None and session_type.is_evaluation:
        ck.problem(entry, f"session_type '{session_type}' is an evaluation", "select evaluation codes with evaluation_kind")
    if len(ck.problems) > before:
        return None
    return ServiceDef(code=record.code, session_type=session_type, evaluation_kind=evaluation_kind, area=record.area,
                      device=record.device, modifiers=record.modifiers)


def _parse_codeset(ck: _Checker, data: Mapping[str, Any], path: str) -> CodeSet | None:
    from slpterm.coding.rules_schema import CodeSetHeader, PendingEntry, RefusedEntry, UnmappedEntry

    before = len(ck.problems)
    header = ck.entry(CodeSetHeader, data, "header")
    inherits = header.inherits if header is not None else (
        data.get("inherits") if isinstance(data.get("inherits"), str) else None)
    carries = _parse_carries(ck, data, inherits)
    if header is not None:
        _check_range(ck, "header", header.valid_from, header.valid_to)
    pending = tuple(PendingService(r.session_type, r.message, r.install)
                    for index, table in enumerate(ck.tables(data.get("pending"), "pending"))
                    if (r := ck.entry(PendingEntry, table, f"pending #{index + 1}")) is not None)
    unmapped = tuple(UnmappedArea(r.area, r.what, r.note if isinstance(r.note, str) else "")
                     for index, table in enumerate(ck.tables(data.get("unmapped"), "unmapped"))
                     if (r := ck.entry(UnmappedEntry, table, f"unmapped #{index + 1}")) is not None)
    raw_codes = data.get("code", [])
    raw_services = data.get("service", [])
    raw_refused = data.get("refused", [])
    if not isinstance(raw_codes, list) or not isinstance(raw_services, list) or not isinstance(raw_refused, list):
        ck.problem("header", "code, service and refused must be arrays of tables",
                   "write each entry as [[code]], [[service]] or [[refused]]")
        return None
    if not raw_codes and not inherits:
        ck.problem("header", "the code set has no [[code]] entries",
                   "add the codes, or inherit another set with inherits = \"<id>\"")
    codes: dict[str, CodeDef] = {}
    for index, table in enumerate(raw_codes):
        parsed = _parse_code(ck, table, index)
        if parsed is None:
            continue
        if parsed.code in codes:
            ck.problem(f"code #{index + 1} ({parsed.code})", "the code is listed twice", "keep one entry per code")
        codes[parsed.code] = parsed
    services = [service for index, table in enumerate(raw_services)
                if (service := _parse_service(ck, table, index)) is not None]
    refused: dict[str, RefusedCode] = {}
    for index, table in enumerate(raw_refused):
        entry = f"refused #{index + 1}"
        record = ck.entry(RefusedEntry, table, entry)
        if record is not None:
            refused[record.code] = RefusedCode(record.code, record.finding, record.reason, record.fix)
            if record.code in codes:
                ck.problem(entry, f"{record.code} is both a billable code and a refused code",
                           "remove it from one of the lists")
    if not inherits:
        _check_codeset_links(ck, codes, services)
    if len(ck.problems) > before or header is None:
        return None
    return CodeSet(
        id=header.id, name=header.name, valid_from=header.valid_from, valid_to=header.valid_to,
        source=header.source, origin=path, codes=codes, services=tuple(services), refused=refused,
        inherits=inherits, carries=carries, same_day_areas=header.same_day_areas,
        same_day_confidence=header.same_day_confidence, pending=pending, unmapped=unmapped,
    )


def _parse_carries(ck: _Checker, data: Mapping[str, Any], inherits: str | None) -> frozenset[str] | None:
    raw = data.get("carries")
    if inherits is None:
        if raw is not None:
            ck.problem("header", "carries is only for a code set that inherits another", "remove carries or add inherits")
        return None
    if raw is None:
        ck.problem("header", f"inherits '{inherits}' without saying which codes continue",
                   'add carries = ["92521", ...] naming each code that continues, or carries = "all"')
        return None
    if raw == "all":
        return None
    if not isinstance(raw, list) or not all(isinstance(c, str) and CODE_PATTERN.match(c) for c in raw):
        ck.problem("header", "carries must list five-character codes, or be \"all\"", 'write carries = ["92521", "92522"]')
        return None
    return frozenset(raw)


def _check_codeset_links(ck: _Checker, codes: Mapping[str, CodeDef], services: Iterable[ServiceDef]) -> None:
    for code in codes.values():
        if code.addon_to:
            primary = codes.get(code.addon_to)
            if primary is None:
                ck.problem(f"code {code.code}", f"addon_to names {code.addon_to}, which is not in the code set", f"add {code.addon_to} or correct addon_to")
            elif primary.unit_rule != "first_unit":
                ck.problem(f"code {code.code}", f"addon_to names {code.addon_to}, whose unit_rule is not first_unit", "an add-on follows a first_unit code")
    for service in services:
        if service.code not in codes:
            ck.problem(f"service ({service.code})", f"the service selects {service.code}, which is not in the code set", f"add a [[code]] entry for {service.code}")
        elif codes[service.code].unit_rule == "addon":
            ck.problem(f"service ({service.code})", f"{service.code} is an add-on code", "select the primary code; its add-on follows from the minutes")


def _policy_values(ck: _Checker, record: Any, entry: str, *, whole_policy: bool) -> dict[str, Any] | None:
    """The policy fields an entry gives, as PayerPolicy holds them; None when they do not fit together."""
    specs = policy_fields()
    values = {name: value for name, value in ((name, getattr(record, name)) for name in specs) if value is not None}
    for name, value in values.items():
        spec = specs[name]
        if spec.none_means_blank and value == "none":
            values[name] = ""
    if values.get("untimed_units") == "fifteen_minute" and not values.get("untimed_units_codes") \
            and (whole_policy or "untimed_units_codes" not in values):
        ck.problem(entry, 'untimed_units = "fifteen_minute" names no code; a unit policy applies only to the codes it names',
                   'add untimed_units_codes = ["92507"] (the codes the payer bills in 15-minute units), '
                   'or use untimed_units_by_code = { "92507" = "fifteen_minute" }')
    return values


def _parse_payers(ck: _Checker, data: Mapping[str, Any]) -> tuple[tuple[PayerPolicy, ...], tuple[PayerOverride, ...], dict[str, str]]:
    from slpterm.coding.rules_schema import OverrideEntry, PayersHeader, PolicyEntry

    header = ck.entry(PayersHeader, data, "header")
    severities = (header.severity if header is not None else None) or {}
    policies = [
        PayerPolicy(payer_kind=record.payer_kind, valid_from=record.valid_from, valid_to=record.valid_to,
                    source=record.source, **values)
        for record, values in _policy_entries(ck, data, "policy", "payer_kind", PolicyEntry, whole_policy=True)]
    overrides = [
        PayerOverride(record.payer_id, values, record.source, record.valid_from, record.valid_to)
        for record, values in _policy_entries(ck, data, "override", "payer_id", OverrideEntry, whole_policy=False)]
    return tuple(policies), tuple(overrides), severities


def _policy_entries(ck: _Checker, data: Mapping[str, Any], kind: str, name_key: str, schema: Any,
                    *, whole_policy: bool) -> Iterator[tuple[Any, dict[str, Any]]]:
    """The ``[[policy]]`` or ``[[override]]`` tables that pass every check, with their policy values."""
    for index, table in enumerate(ck.tables(data.get(kind), kind)):
        entry = _named(kind, index, table, name_key)
        before = len(ck.problems)
        record = ck.entry(schema, table, entry)
        if record is None:
            continue
        _check_range(ck, entry, record.valid_from, record.valid_to)
        values = _policy_values(ck, record, entry, whole_policy=whole_policy)
        if values is not None and len(ck.problems) == before:
            yield record, values


def _parse_kx(ck: _Checker, data: Mapping[str, Any]) -> tuple[tuple[KxThreshold, ...], TargetedReview | None]:
    from slpterm.coding.rules_schema import KxHeader, TargetedReviewEntry, ThresholdEntry

    ck.entry(KxHeader, data, "header")
    thresholds: list[KxThreshold] = []
    seen: set[int] = set()
    for index, table in enumerate(ck.tables(data.get("threshold"), "threshold")):
        entry = _named("threshold", index, table, "year", int)
        record = ck.entry(ThresholdEntry, table, entry)
        if record is None:
            continue
        year = record.year
        if record.amount is None and not record.provisional:
            ck.problem(entry, "missing 'amount'", 'add amount = an amount in quotes such as "2480.00"')
            continue
        if record.provisional and record.amount is not None:
            ck.problem(entry, "a provisional year has no amount", "remove provisional = true now that the amount is known")
            continue
        if not 2000 <= year <= 2100:
            ck.problem(entry, f"year {year} is out of range", "write the calendar year, e.g. 2026")
            continue
        if year in seen:
            ck.problem(entry, f"year {year} is listed twice", "keep one threshold per year")
        seen.add(year)
        thresholds.append(KxThreshold(year, record.amount, record.confidence, record.source))
    review = None
    if data.get("targeted_review") is not None:
        record = ck.entry(TargetedReviewEntry, data["targeted_review"], "targeted_review")
        if record is not None:
            _check_range(ck, "targeted_review", record.valid_from, record.valid_to)
            review = TargetedReview(record.amount, record.valid_from, record.valid_to, record.confidence, record.source)
    return tuple(thresholds), review


def _parse_pos(ck: _Checker, data: Mapping[str, Any]) -> tuple[PosCode, ...]:
    from slpterm.coding.rules_schema import PosEntry, PosHeader

    ck.entry(PosHeader, data, "header")
    out = []
    for index, table in enumerate(ck.tables(data.get("pos"), "pos")):
        entry = f"pos #{index + 1}"
        record = ck.entry(PosEntry, table, entry)
        if record is None:
            continue
        before = len(ck.problems)
        _check_range(ck, entry, record.valid_from, record.valid_to)
        if len(ck.problems) == before:
            out.append(PosCode(record.setting, record.code, record.name, record.valid_from, record.valid_to,
                               str(record.note)))
    return tuple(out)


def _parse_fee_mapping(ck: _Checker, raw: Any, entry: str) -> dict[str, Decimal]:
    from slpterm.coding.rules_schema import amount_or_none

    fees: dict[str, Decimal] = {}
    if not isinstance(raw, Mapping):
        ck.problem(entry, "fees must be a table of code = amount", 'write [fees] then "92507" = "120.00"')
        return fees
    for code, amount in raw.items():
        if not CODE_PATTERN.match(str(code)):
            ck.problem(f"{entry} {code}", f"'{code}' is not a procedure code", 'use the five-character code, e.g. "92507"')
            continue
        value = amount_or_none(amount)
        if value is None:
            ck.problem(f"{entry} {code}", f"the charge {amount!r} is not a valid amount", 'write a non-negative amount in quotes, e.g. "120.00"')
            continue
        fees[str(code)] = value
    return fees


def _parse_fees(ck: _Checker, data: Mapping[str, Any]) -> dict[str, Decimal]:
    from slpterm.coding.rules_schema import FeesHeader

    ck.entry(FeesHeader, data, "header")
    return _parse_fee_mapping(ck, data.get("fees", {}), "fees")


# What _csv_date returns for a cell that is not a date (Any: it stands where a date would).
_INVALID: Any = object()


def _csv_date(raw: str) -> date | None:
    """A CSV cell's date: None when empty, _INVALID when it is not YYYY-MM-DD."""
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return _INVALID


def _parse_ncci_text(ck: _Checker, text: str) -> tuple[NcciPair, ...]:
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        ck.problem("header", "the file has no header row", f"start with the header {','.join(NCCI_HEADER)}")
        return ()
    reader = csv.reader(io.StringIO("\n".join(lines)))
    header = [h.strip() for h in next(reader)]
    if header != NCCI_HEADER:
        ck.problem("header", f"unexpected columns {header}", f"use exactly: {','.join(NCCI_HEADER)}")
        return ()
    pairs = []
    for row_number, row in enumerate(reader, start=2):
        entry = f"row {row_number}"
        if len(row) != len(NCCI_HEADER):
            ck.problem(entry, f"{len(row)} columns instead of {len(NCCI_HEADER)}", "give every column; leave valid_to empty when open")
            continue
        c1, c2, indicator, vf, vt, confidence, source = (cell.strip() for cell in row)
        entry = f"row {row_number} ({c1}+{c2})"
        before = len(ck.problems)
        for code in (c1, c2):
            if not CODE_PATTERN.match(code):
                ck.problem(entry, f"'{code}' is not a procedure code", "use five-character codes")
        if c1 == c2:
            ck.problem(entry, "a pair needs two different codes", "correct column1 or column2")
        if indicator not in NCCI_INDICATORS:
            ck.problem(entry, f"indicator '{indicator}' is not 0, 1, 9 or U", "use 0 (never together), 1 (with 59/X), 9 (not applicable) or U (unconfirmed)")
        dates: list[date | None] = []
        for name, raw in (("valid_from", vf), ("valid_to", vt)):
            value = _csv_date(raw)
            if value is _INVALID:
                ck.problem(entry, f"{name} '{raw}' is not a date", "write YYYY-MM-DD or leave valid_to empty")
                value = None
            dates.append(value)
        if confidence not in CONFIDENCE:
            ck.problem(entry, f"confidence '{confidence}' is not C, R or U", "use C, R or U")
        if not source:
            ck.problem(entry, "the source is empty", "name where the pair comes from")
        _check_range(ck, entry, dates[0], dates[1])
        if len(ck.problems) == before:
            pairs.append(NcciPair(c1, c2, indicator, dates[0], dates[1], confidence, source))
    return tuple(pairs)


def _parse_mue_text(ck: _Checker, text: str) -> tuple[MueLimit, ...]:
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    reader = csv.reader(io.StringIO("\n".join(lines)))
    header = [h.strip() for h in next(reader, [])]
    if header != MUE_HEADER:
        ck.problem("header", f"unexpected columns {header}", f"use exactly: {','.join(MUE_HEADER)}")
        return ()
    out = []
    for row_number, row in enumerate(reader, start=2):
        entry = f"row {row_number}"
        if len(row) != len(MUE_HEADER):
            ck.problem(entry, f"{len(row)} columns instead of {len(MUE_HEADER)}", "give every column; leave valid_to empty when open")
            continue
        code, units, adjudication, vf, vt, source = (cell.strip() for cell in row)
        if not CODE_PATTERN.match(code) or not units.isdigit():
            ck.problem(entry, f"'{code}' / '{units}' is not a code and a whole number of units", "write e.g. 92610,1,2,2026-01-01,,CMS MUE")
            continue
        dates = [_csv_date(raw) for raw in (vf, vt)]
        if _INVALID in dates:
            ck.problem(entry, "valid_from or valid_to is not a date", "write YYYY-MM-DD or leave valid_to empty")
            continue
        out.append(MueLimit(code, int(units), adjudication, dates[0], dates[1], source))
    return tuple(out)


def parse_rules_text(text: str, path: str, *, csv_file: bool = False) -> RulesFile:
    """Parse and validate the text of one rules file; raise RuleBookError listing every problem."""
    problems: list[RuleProblem] = []
    ck = _Checker(path, problems)
    if csv_file and Path(path).name.lower().startswith("mue"):
        limits = _parse_mue_text(ck, text)
        if problems:
            raise RuleBookError(problems)
        return RulesFile("mue", path, "per row", mue=limits)
    if csv_file:
        pairs = _parse_ncci_text(ck, text)
        if problems:
            raise RuleBookError(problems)
        return RulesFile("ncci", path, "per row", pairs=pairs)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleBookError([RuleProblem(path, "syntax", f"not valid TOML ({exc})", "correct the syntax at the position shown")]) from None
    kind = data.get("kind")
    if kind not in FILE_KINDS or kind in ("ncci", "mue"):
        raise RuleBookError([RuleProblem(path, "header", f"unknown or missing kind {kind!r}", 'start the file with kind = "codeset", "payers", "kx_thresholds", "pos" or "fees"')])
    given_source = data.get("source")
    source = given_source if isinstance(given_source, str) else ""
    result: RulesFile
    if kind == "codeset":
        result = RulesFile(kind, path, source, codeset=_parse_codeset(ck, data, path))
    elif kind == "payers":
        policies, overrides, severities = _parse_payers(ck, data)
        result = RulesFile(kind, path, source, policies=policies, overrides=overrides, severities=severities)
    elif kind == "kx_thresholds":
        thresholds, review = _parse_kx(ck, data)
        result = RulesFile(kind, path, source, thresholds=thresholds, targeted_review=review)
    elif kind == "pos":
        result = RulesFile(kind, path, source, pos=_parse_pos(ck, data))
    else:
        result = RulesFile(kind, path, source, fees=_parse_fees(ck, data))
    if problems:
        raise RuleBookError(problems)
    return result


def parse_rules_file(path: Path) -> RulesFile:
    """Parse and validate one rules file (TOML with a `kind` key, or an NCCI pairs CSV)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleBookError([RuleProblem(str(path), "file", f"cannot be read ({exc})", "check the path and that the file is UTF-8 text")]) from None
    return parse_rules_text(text, str(path), csv_file=path.suffix.lower() == ".csv")


RULES_FILE_PATTERNS = ("codeset*.toml", "payers*.toml", "kx_thresholds*.toml", "pos*.toml", "fees*.toml", "ncci*.csv", "mue*.csv")


def _rules_files_in(directory: Path) -> list[Path]:
    """The coding rules files in a rules directory: files named after their kind at the top level
    (codeset*.toml, payers*.toml, kx_thresholds*.toml, pos*.toml, fees*.toml, ncci*.csv) and every
    *.toml in its codesets/ folder. Other files belong to other parts of the app and are ignored."""
    files: set[Path] = set()
    if directory.is_dir():
        for pattern in RULES_FILE_PATTERNS:
            files.update(p for p in directory.glob(pattern) if p.is_file())
    codesets = directory / "codesets"
    if codesets.is_dir():
        files.update(p for p in codesets.glob("*.toml") if p.is_file())
    return sorted(files, key=lambda p: (p.parent != directory, p.name))


# ---------------------------------------------------------------------------------------------
# The rule book


class RuleBook:
    """All rules in force, shipped data merged with the clinic's files and settings.

    Look-ups are keyed by date of service. Build it with `load_rulebook`.
    """

    def __init__(self, files: Iterable[RulesFile], fee_overrides: Mapping[str, Any] | None = None, payer_overrides: Mapping[str, Mapping[str, Any]] | None = None):
        files = tuple(files)
        self.files = files
        problems: list[RuleProblem] = []
        codesets: dict[str, CodeSet] = {}
        self.policies: list[PayerPolicy] = []
        self.overrides: list[PayerOverride] = []
        self.severities: dict[str, str] = {}
        self.kx_thresholds: dict[int, KxThreshold] = {}
        self.targeted_review: TargetedReview | None = None
        self.ncci: dict[tuple[str, str], tuple[NcciPair, ...]] = {}
        pos_by_setting: dict[Setting, tuple[PosCode, ...]] = {}
        self.fees: dict[str, Decimal] = {}
        for rules_file in files:
            if rules_file.codeset is not None:
                codesets.pop(rules_file.codeset.id, None)
                codesets[rules_file.codeset.id] = rules_file.codeset
            self.policies.extend(rules_file.policies)
            self.overrides.extend(rules_file.overrides)
            self.severities.update(rules_file.severities)
            for threshold in rules_file.thresholds:
                self.kx_thresholds[threshold.year] = threshold
            if rules_file.targeted_review is not None:
                self.targeted_review = rules_file.targeted_review
            file_pairs: dict[tuple[str, str], list[NcciPair]] = {}
            for pair in rules_file.pairs:
                file_pairs.setdefault((pair.column1, pair.column2), []).append(pair)
            for key, pairs in file_pairs.items():
                self.ncci.pop((key[1], key[0]), None)
                self.ncci[key] = tuple(pairs)
            file_pos: dict[Setting, list[PosCode]] = {}
            for pos in rules_file.pos:
                file_pos.setdefault(pos.setting, []).append(pos)
            pos_by_setting.update({k: tuple(v) for k, v in file_pos.items()})
            self.fees.update(rules_file.fees)
        self.codesets: tuple[CodeSet, ...] = tuple(codesets.values())
        self.pos: dict[Setting, tuple[PosCode, ...]] = pos_by_setting
        ck = _Checker("fee_overrides (settings)", problems)
        if fee_overrides:
            self.fees.update(_parse_fee_mapping(ck, dict(fee_overrides), "fee"))
        if payer_overrides:
            ck = _Checker("payer_overrides (settings)", problems)
            if not isinstance(payer_overrides, Mapping):
                ck.problem("payer_overrides", "must map a payer id to a table of settings", "pass {payer_id: {field: value}}")
            else:
                for payer_id, values in payer_overrides.items():
                    entry = f"payer '{payer_id}'"
                    if not isinstance(values, Mapping):
                        ck.problem(entry, "the override is not a table of settings", "pass {field: value}")
                        continue
                    from slpterm.coding.rules_schema import SettingsOverride

                    record = ck.entry(SettingsOverride, values, entry)
                    parsed = _policy_values(ck, record, entry, whole_policy=False) if record is not None else {}
                    self.overrides.append(PayerOverride(str(payer_id), parsed or {}, "app settings"))
        self._check_codesets(problems)
        if problems:
            raise RuleBookError(problems)
        self._views: dict[date, CodeSetView | None] = {}
        self.mue: dict[str, list[MueLimit]] = {}
        for rules_file in files:
            for limit in rules_file.mue:
                self.mue.setdefault(limit.code, []).append(limit)
        self._policy_cache: dict[tuple[str, str, date], PayerPolicy | None] = {}

    def _check_codesets(self, problems: list[RuleProblem]) -> None:
        by_id = {cs.id: cs for cs in self.codesets}
        for cs in self.codesets:
            ck = _Checker(cs.origin, problems)
            seen = {cs.id}
            parent = cs.inherits
            while parent:
                if parent in seen:
                    ck.problem("header", f"inherits forms a cycle through '{parent}'", "remove the cycle; inherit only from an older code set")
                    break
                if parent not in by_id:
                    ck.problem("header", f"inherits '{parent}', which is not installed", f"install the code set '{parent}' or correct inherits")
                    break
                seen.add(parent)
                parent = by_id[parent].inherits
            else:
                if cs.inherits:
                    codes, services, _ = self._merged(cs)
                    _check_codeset_links(ck, codes, services)

    def inherited_sets(self, codeset: CodeSet) -> list[CodeSet]:
        """The sets `codeset` inherits from, nearest first."""
        return self._chain(codeset)[::-1][1:]

    def _chain(self, codeset: CodeSet) -> list[CodeSet]:
        by_id = {cs.id: cs for cs in self.codesets}
        chain = [codeset]
        while chain[-1].inherits and len(chain) <= len(by_id):
            chain.append(by_id[chain[-1].inherits])
        return chain[::-1]

    def _merged(self, codeset: CodeSet) -> tuple[dict[str, CodeDef], list[ServiceDef], dict[str, RefusedCode]]:
        merged = self._merge_chain(codeset)
        return merged.codes, merged.services, merged.refused

    def _merge_chain(self, codeset: CodeSet) -> _Merged:
        """The set with what it inherits: at each step only the carried codes continue, services
        of dropped codes go, and a later set's services or pending entries replace earlier ones."""
        codes: dict[str, CodeDef] = {}
        origin: dict[str, str] = {}
        services: dict[tuple[Any, Any], list[ServiceDef]] = {}
        refused: dict[str, RefusedCode] = {}
        pending: dict[SessionType, PendingService] = {}
        unmapped: dict[DisorderArea, UnmappedArea] = {}
        same_day, same_day_confidence = "each_area", "C"
        for cs in self._chain(codeset):
            if cs.inherits and cs.carries is not None:
                codes = {c: d for c, d in codes.items() if c in cs.carries}
                origin = {c: o for c, o in origin.items() if c in codes}
            codes.update(cs.codes)
            origin.update({c: cs.id for c in cs.codes})
            services = {k: group for k, group in services.items() if all(s.code in codes for s in group)}
            own: dict[tuple[Any, Any], list[ServiceDef]] = {}
            for service in cs.services:
                own.setdefault(service.key, []).append(service)
            services.update(own)
            for key in own:
                if key[0] is not None:
                    pending.pop(key[0], None)
            for entry in cs.pending:
                pending[entry.session_type] = entry
                services.pop((entry.session_type, None), None)
            for gap in cs.unmapped:
                unmapped[gap.area] = gap
            for service in cs.services:
                if service.area is not None:
                    unmapped.pop(service.area, None)
            refused.update(cs.refused)
            if cs.same_day_areas:
                same_day, same_day_confidence = cs.same_day_areas, cs.same_day_confidence
        for code in codes:
            refused.pop(code, None)
        flat = [s for group in services.values() for s in group]
        return _Merged(codes, flat, refused, pending, unmapped, same_day, same_day_confidence, origin)

    def codeset_for(self, day: date) -> CodeSetView | None:
        """The code set in force on `day` (latest valid_from wins, then the last installed), or None."""
        if day in self._views:
            return self._views[day]
        candidates = [(cs.valid_from, index, cs) for index, cs in enumerate(self.codesets) if cs.covers(day)]
        view = None
        if candidates:
            codeset = max(candidates, key=lambda item: (item[0], item[1]))[2]
            merged = self._merge_chain(codeset)
            codes = {c: d for c, d in merged.codes.items() if d.valid_on(day)}
            mue = {c: limit for c in codes if (limit := self.mue_for(c, day)) is not None}
            if mue:
                codes = {c: (replace(d, mue=mue[c].units) if c in mue else d) for c, d in codes.items()}
            addons: dict[str, list[CodeDef]] = {}
            for definition in codes.values():
                if definition.addon_to:
                    addons.setdefault(definition.addon_to, []).append(definition)
            addons_for = {k: tuple(sorted(v, key=lambda d: (d.addon_order, d.code))) for k, v in addons.items()}
            view = CodeSetView(day, codeset, codes, merged.codes, tuple(merged.services), merged.refused, addons_for,
                               merged.pending, merged.unmapped, merged.same_day, merged.same_day_confidence, merged.origin)
        if len(self._views) > 4096:
            self._views.clear()
        self._views[day] = view
        return view

    def mue_for(self, code: str, day: date) -> MueLimit | None:
        """The practitioner MUE installed for a code on a date (the last file wins), or None."""
        for limit in reversed(self.mue.get(code, ())):
            if limit.valid_on(day):
                return limit
        return None

    def policy_for(self, payer_kind: PayerKind, payer_id: str, day: date) -> PayerPolicy | None:
        """The payer kind's policy on `day` with the payer's overrides applied (last entry wins)."""
        key = (payer_kind, payer_id, day)
        if key in self._policy_cache:
            return self._policy_cache[key]
        policy = None
        for candidate in self.policies:
            if candidate.payer_kind == payer_kind and _in_range(day, candidate.valid_from, candidate.valid_to):
                policy = candidate
        if policy is not None:
            values: dict[str, Any] = {}
            severity = {**self.severities, **policy.severity}
            for override in self.overrides if payer_id else ():
                if override.payer_id == payer_id and _in_range(day, override.valid_from, override.valid_to):
                    values.update(override.values)
                    severity.update(override.values.get("severity", {}))
            if values:
                values["payer_id"] = payer_id
            values["severity"] = severity
            policy = replace(policy, **values)
        if len(self._policy_cache) > 4096:
            self._policy_cache.clear()
        self._policy_cache[key] = policy
        return policy

    def kx_threshold(self, year: int) -> KxThreshold | None:
        """The year's threshold; for a provisional year, the last earlier known amount, marked so."""
        threshold = self.kx_thresholds.get(year)
        if threshold is None or threshold.amount is not None:
            return threshold
        known = [t for t in self.kx_thresholds.values() if t.year < year and t.amount is not None]
        if not known:
            return None
        last = max(known, key=lambda t: t.year)
        return replace(threshold, amount=last.amount, provisional_from=last.year)

    def targeted_review_amount(self, day: date) -> Decimal | None:
        review = self.targeted_review
        if review is None or not _in_range(day, review.valid_from, review.valid_to):
            return None
        return review.amount

    def ncci_pair(self, code_a: str, code_b: str, day: date) -> NcciPair | None:
        """The NCCI edit between two codes on `day`, in either column order, or None."""
        for key in ((code_a, code_b), (code_b, code_a)):
            for pair in self.ncci.get(key, ()):
                if pair.valid_on(day):
                    return pair
        return None

    def pos_for(self, setting: Setting, day: date) -> PosCode | None:
        for pos in self.pos.get(setting, ()):
            if _in_range(day, pos.valid_from, pos.valid_to):
                return pos
        return None

    def fee(self, code: str) -> Decimal | None:
        return self.fees.get(code)

    def known_codes(self) -> set[str]:
        """Every code any installed code set bills or refuses (used to filter NCCI imports)."""
        out: set[str] = set()
        for cs in self.codesets:
            out.update(cs.codes)
            out.update(cs.refused)
        return out


@lru_cache(maxsize=1)
def _shipped_files() -> tuple[RulesFile, ...]:
    return tuple(parse_rules_file(path) for path in _rules_files_in(SHIPPED_RULES_DIR))


@lru_cache(maxsize=1)
def _shipped_rulebook() -> RuleBook:
    return RuleBook(_shipped_files())


def load_rulebook(
    rules_dir: Path | None = None,
    fee_overrides: Mapping[str, Decimal] | None = None,
    payer_overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> RuleBook:
    """Load the shipped rules, then the clinic's `rules_dir` files, then the settings overrides.

    Files in `rules_dir` (and `rules_dir/codesets/`) are recognised by kind: a code set with a new id
    is added and one with a shipped id replaces it; NCCI rows replace shipped rows for the same
    pair; payer policies, KX years, places of service and fees replace the shipped entries they
    name. `fee_overrides` maps code -> charge; `payer_overrides` maps payer id -> policy fields.
    Raises RuleBookError naming every problem. The shipped data is parsed once per process.
    """
    if rules_dir is None and not fee_overrides and not payer_overrides:
        return _shipped_rulebook()
    files = list(_shipped_files())
    problems: list[RuleProblem] = []
    if rules_dir is not None:
        rules_dir = Path(rules_dir)
        if not rules_dir.is_dir():
            raise RuleBookError([RuleProblem(str(rules_dir), "directory", "the rules directory does not exist", "create it or correct the path in settings")])
        for path in _rules_files_in(rules_dir):
            try:
                files.append(parse_rules_file(path))
            except RuleBookError as exc:
                problems.extend(exc.problems)
    if problems:
        raise RuleBookError(problems)
    return RuleBook(files, fee_overrides=fee_overrides, payer_overrides=payer_overrides)


__all__ = [
    "CodeDef", "CodeSet", "CodeSetView", "KxThreshold", "NcciPair", "PayerPolicy", "PosCode", "RuleBook",
    "RuleBookError", "RuleProblem", "RulesFile", "ServiceDef", "TargetedReview", "load_rulebook",
    "parse_rules_file", "parse_rules_text",
]


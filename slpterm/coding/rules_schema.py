"""The schema of the rules files, declared once: one pydantic model per kind of entry.

Each field's type says what is valid and carries an ``Example`` (how to write a valid value), from
which the problems name the fix. ``check_entry`` validates one table of a rules file and turns
pydantic's errors into ``RuleProblem``s naming the file, the entry and the field; the checks that
relate several fields of an entry (e.g. ``timed`` against ``unit_rule``) stay in rulebook.py.

pydantic is already installed with SQLModel; this module is imported only when rules files are
read, never for the first frame.
"""

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Annotated, Any, Literal, TypeVar
from collections.abc import Callable, Mapping

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, ValidationError, create_model

from slpterm.coding.rulebook import (
    CODE_KINDS,
    CODE_PATTERN,
    CONFIDENCE,
    DEVICES,
    MODIFIER_PATTERN,
    REFUSAL_FINDINGS,
    SAME_DAY_RULES,
    SEVERITY_NAMES,
    THERAPY_KINDS,
    UNIT_RULES,
    PolicyField,
    RuleProblem,
    policy_fields,
)
from slpterm.domain.vocab import DisorderArea, EvaluationKind, PayerKind, SessionType, Setting


class Example:
    """How to write a valid value of a field, for the fix in a problem; ``invalid`` (with
    ``{value}``) and ``fix`` replace the general wording where a field has its own."""

    def __init__(self, text: str, *, invalid: str = "", fix: str = "") -> None:
        self.text = text
        self.invalid = invalid
        self.fix = fix


def _text(raw: Any) -> str:
    if isinstance(raw, str) and raw.strip():
        return raw.strip()
    raise ValueError("not text")


def _day(raw: Any) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str):
        return date.fromisoformat(raw.strip())
    raise ValueError("not a date")


def _amount(raw: Any) -> Decimal:
    """A non-negative amount, written in quotes or as a whole number (a float would round)."""
    if isinstance(raw, (bool, float)):
        raise ValueError("not an amount")
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise ValueError("not an amount") from None
    if not value.is_finite() or value < 0:
        raise ValueError("not an amount")
    return value


def _place_of_service(raw: Any) -> str:
    if isinstance(raw, str) and re.fullmatch(r"\d{2}", raw.strip()):
        return raw.strip()
    raise ValueError("not two digits")


def _code(raw: Any) -> str:
    if isinstance(raw, str) and CODE_PATTERN.match(raw):
        return raw
    raise ValueError("not a code")


def _strings(raw: Any) -> frozenset[str]:
    if isinstance(raw, list) and all(isinstance(item, str) for item in raw):
        return frozenset(raw)
    raise ValueError("not a list of strings")


def _modifiers(raw: Any) -> tuple[str, ...]:
    if isinstance(raw, list) and all(isinstance(item, str) and MODIFIER_PATTERN.match(item) for item in raw):
        return tuple(raw)
    raise ValueError("not a list of modifiers")


def _table(check_key: Callable[[Any], bool], values: tuple[str, ...]) -> Callable[[Any], dict[str, str]]:
    def convert(raw: Any) -> dict[str, str]:
        if isinstance(raw, Mapping) and all(check_key(key) and value in values for key, value in raw.items()):
            return {str(key): str(value) for key, value in raw.items()}
        raise ValueError("not a table of the allowed values")
    return convert


E = TypeVar("E", bound=Enum)


def _enum(kind: type[E]) -> Any:
    return Annotated[kind, BeforeValidator(kind), Example(" or ".join(f'"{k.value}"' for k in kind))]


def _choice(*values: str) -> Any:
    return Annotated[Literal[values], Example(" or ".join(f'"{v}"' for v in values))]  # type: ignore[valid-type]


Bool = Annotated[StrictBool, Example("true or false")]
Count = Annotated[StrictInt, Field(ge=0), Example("a whole number such as 8")]
Text = Annotated[str, BeforeValidator(_text), Example('"text"')]
Day = Annotated[date, BeforeValidator(_day), Example("a date such as 2026-01-01")]
Amount = Annotated[Decimal, BeforeValidator(_amount), Example('an amount in quotes such as "2480.00"')]
Code = Annotated[str, BeforeValidator(_code), Example('a five-character code such as "92507"')]
PlaceOfService = Annotated[str, BeforeValidator(_place_of_service),
                           Example('"11"', invalid="place of service '{value}' is not two digits",
                                   fix='write it as in the CMS list, e.g. code = "11"')]
Strings = Annotated[frozenset[str], BeforeValidator(_strings), Example('["medicare"]')]
Modifiers = Annotated[tuple[str, ...], BeforeValidator(_modifiers), Example('["52"]')]
Severities = Annotated[dict[str, str], BeforeValidator(_table(lambda key: isinstance(key, str), SEVERITY_NAMES)),
                       Example('{ "group-too-large" = "error" }')]
UnitsByCode = Annotated[dict[str, str], BeforeValidator(_table(lambda key: bool(CODE_PATTERN.match(str(key))),
                                                               ("per_session", "fifteen_minute"))),
                        Example('{ "92507" = "fifteen_minute" }')]
Ignored = Any  # allowed keys the loader does not read (notes) or reads elsewhere (sub-tables)


class Entry(BaseModel):
    # defer_build: a model is built when an entry of its kind is first read (most are never read).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


# -- code sets --------------------------------------------------------------------------------------

class CodeEntry(Entry):
    code: Code
    paraphrase: Text
    kind: _choice(*CODE_KINDS)
    timed: Bool
    unit_rule: _choice(*UNIT_RULES)
    min_minutes: Count = 0
    unit_minutes: Count = 0
    max_units: Count | None = None
    addon_to: Code | None = None
    cms_fifteen_minute: Bool = False
    area: _enum(DisorderArea) | None = None
    valid_from: Day | None = None
    valid_to: Day | None = None
    confidence: _choice(*CONFIDENCE) = "C"
    unconfirmed_payers: Strings = frozenset()
    mue: Count | None = None
    note: Ignored = ""
    source: Ignored = None
    therapy: _choice(*THERAPY_KINDS) = "always"
    addon_order: Count = 0


class ServiceEntry(Entry):
    code: Code
    session_type: _enum(SessionType) | None = None
    evaluation_kind: _enum(EvaluationKind) | None = None
    area: _enum(DisorderArea) | None = None
    device: _choice(*DEVICES) | None = None
    modifiers: Modifiers = ()
    note: Ignored = None


class RefusedEntry(Entry):
    code: Code
    finding: _choice(*REFUSAL_FINDINGS) = "code-refused"
    reason: Text
    fix: Text


class PendingEntry(Entry):
    session_type: _enum(SessionType)
    message: Text
    install: Text


class UnmappedEntry(Entry):
    area: _enum(DisorderArea)
    what: Text
    note: Ignored = ""


class CodeSetHeader(Entry):
    kind: Ignored = None
    id: Text
    name: Text
    valid_from: Day
    valid_to: Day | None = None
    source: Text
    inherits: Text | None = None
    carries: Ignored = None  # a list of codes or "all": checked with inherits in rulebook.py
    same_day_areas: _choice(*SAME_DAY_RULES) | None = None
    same_day_confidence: _choice(*CONFIDENCE) = "C"
    code: Ignored = None
    service: Ignored = None
    refused: Ignored = None
    pending: Ignored = None
    unmapped: Ignored = None


# -- payer policies: the policy fields come from PayerPolicy's declaration -------------------------

_POLICY_TYPES: dict[str, Any] = {
    "bool": Bool, "int": Count, "date": Day, "severities": Severities,
    "codes": Annotated[frozenset[str], BeforeValidator(_strings), Example('["92507"]')],
    "units_by_code": UnitsByCode,
}


def _policy_type(spec: PolicyField) -> Any:
    if spec.kind == "choice":
        return _choice(*spec.choices)
    if spec.kind == "int" and spec.minimum:
        return Annotated[StrictInt, Field(ge=spec.minimum), Example(spec.example)]
    return _POLICY_TYPES[spec.kind]


def _with_policy_fields(name: str, base: type[Entry], *, all_optional: bool) -> type[Entry]:
    fields: dict[str, Any] = {}
    for spec in policy_fields().values():
        annotation = _policy_type(spec)
        fields[spec.name] = (annotation, ...) if spec.required and not all_optional else (annotation | None, None)
    return create_model(name, __base__=base, **fields)


class _PolicyMeta(Entry):
    payer_kind: _enum(PayerKind)
    valid_from: Day | None = None
    valid_to: Day | None = None
    source: Text
    note: Ignored = None


class _OverrideMeta(Entry):
    payer_id: Text
    valid_from: Day | None = None
    valid_to: Day | None = None
    source: Text
    note: Ignored = None


PolicyEntry = _with_policy_fields("PolicyEntry", _PolicyMeta, all_optional=False)
OverrideEntry = _with_policy_fields("OverrideEntry", _OverrideMeta, all_optional=True)
SettingsOverride = _with_policy_fields("SettingsOverride", Entry, all_optional=True)


class PayersHeader(Entry):
    kind: Ignored = None
    source: Text
    severity: Severities | None = None
    policy: Ignored = None
    override: Ignored = None


# -- KX thresholds, places of service, fees ---------------------------------------------------------

class ThresholdEntry(Entry):
    year: Count
    amount: Amount | None = None  # required unless provisional: checked in rulebook.py
    provisional: Bool = False
    confidence: _choice(*CONFIDENCE)
    source: Text
    note: Ignored = None


class TargetedReviewEntry(Entry):
    amount: Amount
    valid_from: Day | None = None
    valid_to: Day | None = None
    confidence: _choice(*CONFIDENCE)
    source: Text
    note: Ignored = None


class KxHeader(Entry):
    kind: Ignored = None
    source: Text
    threshold: Ignored = None
    targeted_review: Ignored = None


class PosEntry(Entry):
    setting: _enum(Setting)
    code: PlaceOfService
    name: Text
    valid_from: Day | None = None
    valid_to: Day | None = None
    note: Ignored = ""


class PosHeader(Entry):
    kind: Ignored = None
    source: Text
    pos: Ignored = None


class FeesHeader(Entry):
    kind: Ignored = None
    source: Text
    fees: Ignored = None


# -- turning pydantic's errors into problems ---------------------------------------------------------

def field_example(model: type[BaseModel], key: str) -> Example:
    info = model.model_fields.get(key)
    for item in info.metadata if info is not None else ():
        if isinstance(item, Example):
            return item
    annotation = info.annotation if info is not None else None
    for member in getattr(annotation, "__args__", ()):  # X | None
        for item in getattr(member, "__metadata__", ()):
            if isinstance(item, Example):
                return item
    return Example("a value")


def example(model: type[BaseModel], key: str) -> str:
    return field_example(model, key).text


M = TypeVar("M", bound=BaseModel)


def check_entry(model: type[M], table: Any, file: str, entry: str, problems: list[RuleProblem]) -> M | None:
    """``table`` validated against ``model``; None (with every problem added) when it is not valid."""
    if not isinstance(table, Mapping):
        problems.append(RuleProblem(file, entry, "is not a table of settings", "write it as key = value lines"))
        return None
    try:
        return model.model_validate(dict(table))
    except ValidationError as error:
        reported: set[str] = set()
        for detail in error.errors():
            key = str(detail["loc"][0]) if detail["loc"] else ""
            if key in reported:
                continue
            reported.add(key)
            if detail["type"] == "missing":
                problems.append(RuleProblem(file, entry, f"missing '{key}'", f"add {key} = {example(model, key)}"))
            elif detail["type"] == "greater_than_equal" and detail["ctx"]["ge"] > 0:
                minimum = detail["ctx"]["ge"]
                problems.append(RuleProblem(file, entry, f"{key} must be at least {minimum}",
                                            f"write {key} = a whole number of at least {minimum}"))
            elif detail["type"] == "extra_forbidden":
                problems.append(RuleProblem(file, entry, f"unknown key '{key}'",
                                            f"use one of: {', '.join(sorted(model.model_fields))}"))
            else:
                own = field_example(model, key)
                message = own.invalid.format(value=table[key]) if own.invalid else \
                    f"'{key}' has the invalid value {table[key]!r}"
                problems.append(RuleProblem(file, entry, message, own.fix or f"write {key} = {own.text}"))
        return None


def given(record: BaseModel) -> dict[str, Any]:
    """The fields an entry gave (the others keep the record's defaults)."""
    return {name: getattr(record, name) for name in record.model_fields_set}


def amount_or_none(raw: Any) -> Decimal | None:
    try:
        return _amount(raw)
    except ValueError:
        return None


def day_or_none(raw: Any) -> date | None:
    try:
        return _day(raw)
    except ValueError:
        return None


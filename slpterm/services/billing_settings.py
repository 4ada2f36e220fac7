"""The clinic's fee schedule and per-payer corrections of the shipped payer policies."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from slpterm.coding.rulebook import (
    PolicyField,
    RuleBookError,
    load_rulebook,
    policy_fields,
)
from slpterm.domain.vocab import PayerKind
from slpterm.store.errors import ValidationFailed

if TYPE_CHECKING:
    from slpterm.store.store import Store

# The payer policy fields a clinic edits on screen (declared editable on PayerPolicy; the rest stay
# in rules files).
EDITABLE_POLICY_FIELDS = tuple(name for name, spec in policy_fields().items() if spec.editable)


@dataclass(frozen=True)
class FeeRow:
    code: str
    paraphrase: str
    charge: Decimal | None
    set_by_clinic: bool


@dataclass(frozen=True)
class PayerRow:
    payer_id: str
    payer_name: str
    payer_kind: str
    overrides: dict[str, Any]


def fee_rows(store: Store, today: date) -> list[FeeRow]:
    """Every code of the code set in force today with the charge the claims will carry."""
    clinic_fees = store.clinic.fee_schedule()
    shipped = load_rulebook()
    view = shipped.codeset_for(today)
    codes = view.codes if view is not None else {}
    rows = [
        FeeRow(code, definition.paraphrase, clinic_fees.get(code, shipped.fee(code)), code in clinic_fees)
        for code, definition in sorted(codes.items())
    ]
    rows += [FeeRow(code, "(not in the code set in force today)", charge, True)
             for code, charge in sorted(clinic_fees.items()) if code not in codes]
    return rows


MAX_CHARGE = Decimal("99999.99")
_AMOUNT = re.compile(r"^\d{1,5}(\.\d{1,2})?$")


def parse_charge(text: str) -> Decimal:
    cleaned = text.strip().removeprefix("$").replace(",", "")
    if not _AMOUNT.match(cleaned):
        raise ValidationFailed([("Charge", "write an amount such as 145.00 (at most 99999.99, two decimals)")])
    charge = Decimal(cleaned)
    if charge <= 0 or charge > MAX_CHARGE:
        raise ValidationFailed([("Charge", "use an amount above 0 and at most 99999.99")])
    return charge.quantize(Decimal("0.01"))


def save_fee(store: Store, code: str, text: str) -> Decimal:
    charge = parse_charge(text)
    store.clinic.set_fee(code.strip().upper(), charge)
    return charge


def payer_rows(store: Store) -> list[PayerRow]:
    overrides = {payer_id: json.loads(text or "{}") for payer_id, text in store.clinic.payer_overrides().items()}
    rows = {
        payer_id: PayerRow(payer_id, name, kind, overrides.get(payer_id, {}))
        for payer_id, name, kind in store.patients.payers() if payer_id
    }
    for payer_id, values in overrides.items():
        rows.setdefault(payer_id, PayerRow(payer_id, "(no patient has this payer now)", "", values))
    return sorted(rows.values(), key=lambda row: (row.payer_name.lower(), row.payer_id))


def effective_policy(payer_kind: str, payer_id: str, today: date, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The policy values in force for a payer: the shipped policy of its kind plus the overrides."""
    rulebook = load_rulebook(payer_overrides={payer_id: overrides} if overrides else None)
    policy = rulebook.policy_for(PayerKind(payer_kind or "commercial"), payer_id, today)
    return {name: getattr(policy, name) for name in EDITABLE_POLICY_FIELDS} if policy else {}


def policy_field(name: str) -> PolicyField:
    """A policy field's declaration: its kind, label, help and choices."""
    return policy_fields()[name]


def field_choices(name: str) -> tuple[str, ...] | type:
    """The allowed values of a policy field: a tuple of strings, or bool / int / str (typed text)."""
    spec = policy_fields()[name]
    return spec.choices if spec.kind == "choice" else {"bool": bool, "int": int}.get(spec.kind, str)


def field_text(name: str, value: object) -> str:
    """A policy value as the screen shows it ("none" for no modifier, codes separated by commas)."""
    spec = policy_fields()[name]
    if spec.kind == "bool":
        return "true" if value else "false"
    if spec.none_means_blank and value == "":
        return "none"
    if spec.kind == "codes":
        return ", ".join(sorted(value or ()))  # type: ignore[call-overload]
    if spec.kind == "date":
        return value.isoformat() if value else ""  # type: ignore[attr-defined]
    return "" if value is None else str(value)


def field_value(name: str, text: str) -> object:
    """What the screen's text for a policy field stores in the override (checked on saving)."""
    spec = policy_fields()[name]
    text = text.strip()
    if spec.kind == "bool":
        return text == "true"
    if spec.kind == "int":
        return int(text) if text.lstrip("-").isdigit() else text
    if spec.kind == "codes":
        return parse_codes(text, spec.label)
    return text


def override_values(current: dict[str, Any], in_force: dict[str, Any], texts: dict[str, str]) -> dict[str, Any]:
    """The payer's overrides after the screen: the fields changed from the policy in force, plus
    those it overrides already."""
    values = dict(current)
    for name, text in texts.items():
        if field_text(name, in_force.get(name)) != text.strip() or name in current:
            values[name] = field_value(name, text)
    return values


def parse_codes(text: str, field: str) -> list[str]:
    """The codes typed in ``field`` (commas or spaces between them), each one a code of an installed
    code set; raises ValidationFailed naming the field otherwise."""
    codes = sorted({code.upper() for code in re.split(r"[\s,;]+", text.strip()) if code})
    known = {code for codeset in load_rulebook().codesets for code in codeset.codes}
    unknown = [code for code in codes if code not in known]
    if unknown:
        example = ", ".join(sorted(known)[:2]) or "92507"
        raise ValidationFailed([(field, f"{', '.join(unknown)} {'is not a code' if len(unknown) == 1 else 'are not codes'} "
                                        f"of the installed code set; list codes such as {example}, separated by commas")])
    return codes


def save_payer_override(store: Store, payer_id: str, values: dict[str, Any]) -> None:
    """Store the payer's corrections after checking them with the rules loader."""
    if not payer_id.strip():
        raise ValidationFailed([("Payer ID", "overrides are kept per payer ID; add the payer ID in the coverage")])
    out_of_range = [name for name, value in values.items()
                    if isinstance(value, int) and not isinstance(value, bool) and not 0 <= value <= 1000]
    if out_of_range:
        raise ValidationFailed([(name.replace("_", " ").capitalize(), "use a whole number from 0 to 1000")
                                for name in out_of_range])
    try:
        load_rulebook(payer_overrides={payer_id: values})
    except RuleBookError as error:
        raise ValidationFailed([(problem.entry if hasattr(problem, "entry") else "Policy", str(problem))
                                for problem in error.problems]) from None
    store.clinic.set_payer_override(payer_id, json.dumps(values, sort_keys=True))

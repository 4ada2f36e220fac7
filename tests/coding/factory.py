"""Builders for fictional sessions: a valid Medicare individual treatment by default, with
short keyword overrides so that each table row names only what it changes."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from slpterm.coding import (
    BillingProviderFacts,
    ClinicianFacts,
    CodingResult,
    CoverageFacts,
    DiagnosisFact,
    EncounterFacts,
    PlanFacts,
)
from slpterm.domain.identifiers import make_npi
from slpterm.domain.vocab import ClinicianRole, DiagnosisRole, PayerKind, PlanStatus, SessionType

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_2027 = REPO / "docs" / "examples" / "codeset-2027-example.toml"

DOS = date(2026, 3, 10)
RENDERING_NPI = make_npi("123456789")
BILLING_NPI = make_npi("987654321")
CERTIFYING_NPI = make_npi("555555555")
BAD_NPI = RENDERING_NPI[:-1] + str((int(RENDERING_NPI[-1]) + 1) % 10)


def default_plan(**changes: Any) -> PlanFacts:
    plan = PlanFacts(
        start=date(2026, 2, 2), end=date(2026, 4, 30), status=PlanStatus.CERTIFIED,
        certified_on=date(2026, 2, 6), certifying_npi=CERTIFYING_NPI, frequency_per_week=2,
        first_treatment_date=date(2026, 2, 2),
    )
    return replace(plan, **changes)


def dx(*specs: str) -> tuple[DiagnosisFact, ...]:
    """dx("R13.12", "I69.391:medical") -> diagnosis facts (role defaults to treatment)."""
    out = []
    for spec in specs:
        code, _, role = spec.partition(":")
        out.append(DiagnosisFact(code, DiagnosisRole(role or "treatment")))
    return tuple(out)


_COVERAGE_KEYS = {"payer_kind", "payer_id", "payer_name", "member_id"}
_CLINICIAN_KEYS = {"clinician_name": "name", "rendering_npi": "npi", "role": "role", "credentials": "credentials"}
_BILLING_KEYS = {"billing_name": "name", "billing_npi": "npi", "tax_id": "tax_id", "address_line1": "address_line1",
                 "city": "city", "state": "state", "postal_code": "postal_code"}


def make_facts(**overrides: Any) -> EncounterFacts:
    """A valid, signed Medicare 92507 session on 2026-03-10; keyword overrides change it.

    Besides EncounterFacts fields: payer_kind/payer_id/member_id, role/rendering_npi,
    billing_npi/tax_id/address_line1/..., plan_<field> (changes the default plan), dx=("R13.12", ...).
    """
    coverage = CoverageFacts(PayerKind.MEDICARE, "MCR-TX", "Medicare Part B", "1EG4TE5MK73")
    clinician = ClinicianFacts("Rosa Fennimore", RENDERING_NPI, ClinicianRole.SLP, "CCC-SLP")
    billing = BillingProviderFacts("Cedar Speech Clinic", BILLING_NPI, "12-3456789", "12 Alder Way", "Austin", "TX", "78701")
    plan_changes = {k[5:]: overrides.pop(k) for k in list(overrides) if k.startswith("plan_")}
    coverage = replace(coverage, **{k: overrides.pop(k) for k in list(overrides) if k in _COVERAGE_KEYS})
    clinician = replace(clinician, **{_CLINICIAN_KEYS[k]: overrides.pop(k) for k in list(overrides) if k in _CLINICIAN_KEYS})
    billing = replace(billing, **{_BILLING_KEYS[k]: overrides.pop(k) for k in list(overrides) if k in _BILLING_KEYS})
    if "dx" in overrides:
        overrides["diagnoses"] = dx(*overrides.pop("dx"))
    plan = overrides.pop("plan", default_plan(**plan_changes))
    base = dict(
        session_id="S-1", patient_id="P-1", date_of_service=DOS, today=date(2026, 3, 11),
        session_type=SessionType.INDIVIDUAL_TREATMENT, coverage=coverage, clinician=clinician, billing=billing,
        signed=True, start_time=time(9, 0), stop_time=time(9, 45), total_minutes=45,
        techniques=("language expansion",), goals_addressed=2, diagnoses=dx("R13.12", "I69.391:medical"),
        plan=plan, treatment_days_since_progress_report=3, visits_this_week=1, ytd_therapy_amount=Decimal("0"),
    )
    base.update(overrides)
    return EncounterFacts(**base)


def line_texts(result: CodingResult) -> list[str]:
    """Lines as 'CODE-MOD-MOD xUNITS' strings, in claim order."""
    return [f"{'-'.join((line.code, *line.modifiers))} x{line.units}" for line in result.lines]


def install_example_2027(rules_dir: Path) -> Path:
    target = rules_dir / "codesets"
    target.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(EXAMPLE_2027, target / EXAMPLE_2027.name))

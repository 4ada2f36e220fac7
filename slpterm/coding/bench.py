"""Throughput of the coding engine on a synthetic mix of sessions (prints figures, asserts nothing)."""

from __future__ import annotations

import time
from datetime import date, timedelta
from decimal import Decimal

from slpterm.coding.engine import code_encounter
from slpterm.coding.model import (
    BillingProviderFacts,
    ClinicianFacts,
    CoverageFacts,
    DiagnosisFact,
    EncounterFacts,
    PlanFacts,
)
from slpterm.coding.rulebook import load_rulebook
from slpterm.domain.identifiers import make_npi
from slpterm.domain.vocab import (
    DiagnosisRole,
    DisorderArea,
    EvaluationKind,
    PayerKind,
    SessionType,
    Setting,
)

_TYPES = (
    (SessionType.INDIVIDUAL_TREATMENT, None),
    (SessionType.GROUP_TREATMENT, None),
    (SessionType.SWALLOWING_TREATMENT, None),
    (SessionType.COGNITIVE_TREATMENT, None),
    (SessionType.EVALUATION, EvaluationKind.LANGUAGE_ONLY),
    (SessionType.EVALUATION, EvaluationKind.COGNITIVE_TESTING),
    (SessionType.AAC_TREATMENT, None),
)
_DIAGNOSES = (("R13.12", "I69.391"), ("F80.2", "F80.2"), ("R47.01", "I69.320"), ("R41.841", "G30.9"))


def synthetic_sessions(n: int, start: date = date(2026, 1, 5)) -> list[EncounterFacts]:
    """n varied, fictional sessions across payer kinds, settings and session types, over 300 days from `start`."""
    clinician = ClinicianFacts("Test Clinician", make_npi("123456789"), credentials="CCC-SLP")
    billing = BillingProviderFacts("Test Clinic", make_npi("987654321"), "12-3456789", "1 Main St", "Town", "TX", "75001")
    payers = tuple(PayerKind)
    settings = tuple(Setting)
    sessions = []
    for i in range(n):
        session_type, kind = _TYPES[i % len(_TYPES)]
        dos = start + timedelta(days=i % 300)
        treatment, medical = _DIAGNOSES[i % len(_DIAGNOSES)]
        minutes = 20 + (i * 7) % 70
        sessions.append(EncounterFacts(
            session_id=f"s{i}", patient_id=f"p{i}", date_of_service=dos, today=start + timedelta(days=360),
            session_type=session_type, evaluation_kind=kind, setting=settings[i % len(settings)],
            coverage=CoverageFacts(payers[i % len(payers)], f"payer{i % 5}", "Payer", "M123"),
            clinician=clinician, billing=billing, signed=True, total_minutes=minutes,
            minutes_by_area={DisorderArea.LANGUAGE: minutes // 2, DisorderArea.SPEECH_SOUND: minutes - minutes // 2},
            techniques=("language tasks",), goals_addressed=2, group_size=3,
            diagnoses=(DiagnosisFact(treatment, DiagnosisRole.TREATMENT), DiagnosisFact(medical, DiagnosisRole.MEDICAL)),
            plan=PlanFacts(dos - timedelta(days=20), dos + timedelta(days=60), certified_on=dos - timedelta(days=15),
                           certifying_npi=make_npi("555555555"), frequency_per_week=2),
            treatment_days_since_progress_report=i % 12, visits_this_week=1 + i % 3,
            ytd_therapy_amount=Decimal(i % 4000), speech_generating_device=bool(i % 2),
        ))
    return sessions


def measure_throughput(n: int = 20_000, start: date = date(2026, 1, 5)) -> float:
    """Code n synthetic sessions (dated from `start`) with the shipped rules; sessions per second."""
    rulebook = load_rulebook()
    sessions = synthetic_sessions(n, start)
    for facts in sessions[:200]:
        code_encounter(facts, rulebook)
    started = time.perf_counter()
    for facts in sessions:
        code_encounter(facts, rulebook)
    elapsed = time.perf_counter() - started
    return n / elapsed if elapsed > 0 else float("inf")


if __name__ == "__main__":
    print(f"coding engine: {measure_throughput():,.0f} sessions/second")

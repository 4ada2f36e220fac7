"""Input and output records of the coding engine.

Inputs describe one session of one patient as plain facts (no database objects); outputs are claim
lines and findings, declared in :mod:`slpterm.domain.claim` (readers of a coded claim need not
depend on the engine) and named here too as the engine's results. All records are frozen
dataclasses except :class:`EncounterFacts` (read-only by convention: see there); money is Decimal,
dates are datetime.date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal
from collections.abc import Mapping

from slpterm.domain.claim import ClaimLine, CodingResult, Finding
from slpterm.domain.vocab import (
    ClinicianRole,
    DiagnosisRole,
    DisorderArea,
    EvaluationKind,
    PayerKind,
    PlanStatus,
    SessionType,
    Setting,
    Severity,
)

DISTINCT_SERVICE_MODIFIERS = ("XE", "XS", "XP", "XU", "59")


@dataclass(frozen=True, slots=True)
class DiagnosisFact:
    """One ICD-10-CM code on the session, with its role (medical or treatment diagnosis)."""

    code: str
    role: DiagnosisRole = DiagnosisRole.TREATMENT


@dataclass(frozen=True, slots=True)
class PlanFacts:
    """The plan of care in force for the patient (None on the encounter when there is none).

    `start`/`end` bound the plan; `certified_on` is the physician/NPP signature date (None while
    uncertified); `recertified_on` restarts the 90-day certification window;
    `first_treatment_date` is day 1 of the episode (evaluation included).
    """

    start: date
    end: date
    status: PlanStatus = PlanStatus.CERTIFIED
    certified_on: date | None = None
    certifying_npi: str | None = None
    frequency_per_week: int | None = None
    first_treatment_date: date | None = None
    recertified_on: date | None = None


@dataclass(frozen=True, slots=True)
class CoverageFacts:
    """The coverage billed for the session; `payer_id` selects the clinic's per-payer overrides."""

    payer_kind: PayerKind
    payer_id: str = ""
    payer_name: str = ""
    member_id: str = ""


@dataclass(frozen=True, slots=True)
class ClinicianFacts:
    """The rendering clinician."""

    name: str
    npi: str
    role: ClinicianRole = ClinicianRole.SLP
    credentials: str = ""


@dataclass(frozen=True, slots=True)
class BillingProviderFacts:
    """The billing provider (clinic) printed on the claim."""

    name: str
    npi: str
    tax_id: str
    address_line1: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""


@dataclass(slots=True)
class EncounterFacts:
    """Everything the engine needs to know about one session.

    Minutes: `total_minutes` is the session's treatment time; `minutes_by_area` attributes minutes
    to disorder areas (used by per-area code sets such as the 2027 structure); `minutes_by_code`,
    when not empty, names the billed codes explicitly with their minutes and replaces the codes
    the session type would select.

    `today` enables the future-DOS check (None skips it). `treatment_days_since_progress_report`
    does not count this session; `visits_this_week` does. `ytd_therapy_amount` is the patient's
    PT+SLP amount so far this calendar year, other providers included. `rehabilitative` is True for
    rehabilitative, False for habilitative, None when not stated. `speech_generating_device`
    distinguishes AAC treatment with an SGD (True) from a non-SGD device (False). `audio_only`
    marks telehealth by audio alone (the payer's audio-only modifier replaces its telehealth one);
    `distinct_modifier` None leaves the distinct-service modifier to the payer's policy.

    Nothing changes a facts record once built (use ``dataclasses.replace``). It is not frozen only
    because a frozen dataclass of this width costs four times as much to build, and coding a clinic
    builds one per session.
    """

    session_id: str
    date_of_service: date
    session_type: SessionType
    coverage: CoverageFacts
    clinician: ClinicianFacts
    billing: BillingProviderFacts
    patient_id: str = ""
    today: date | None = None
    setting: Setting = Setting.OFFICE
    evaluation_kind: EvaluationKind | None = None
    signed: bool = False
    start_time: time | None = None
    stop_time: time | None = None
    total_minutes: int = 0
    minutes_by_area: Mapping[DisorderArea, int] = field(default_factory=dict)
    minutes_by_code: Mapping[str, int] = field(default_factory=dict)
    techniques: tuple[str, ...] = ()
    goals_addressed: int = 0
    group_size: int = 1
    diagnoses: tuple[DiagnosisFact, ...] = ()
    plan: PlanFacts | None = None
    treatment_days_since_progress_report: int = 0
    visits_this_week: int = 1
    ytd_therapy_amount: Decimal = Decimal("0")
    distinct_service_documented: bool = False
    distinct_modifier: str | None = None
    rehabilitative: bool | None = None
    speech_generating_device: bool | None = None
    under_home_health_plan: bool = False
    audio_only: bool = False


__all__ = [
    "DISTINCT_SERVICE_MODIFIERS", "BillingProviderFacts", "ClaimLine", "ClinicianFacts", "CodingResult",
    "CoverageFacts", "DiagnosisFact", "EncounterFacts", "Finding", "PlanFacts", "Severity",
]

"""A signed, coded encounter with everything an export needs, as plain data.

Built from the store by ``slpterm.services.encounters``; consumed by the exporters, which never
touch the database. One record is one patient in one session (a group session gives one record
per participant).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from slpterm.domain.claim import CodingResult


@dataclass(frozen=True)
class PatientInfo:
    id: str
    external_id: str
    first_name: str
    last_name: str
    date_of_birth: date | None
    sex: str  # F, M or U
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    phone: str = ""


@dataclass(frozen=True)
class CoverageInfo:
    payer_name: str
    payer_kind: str
    payer_id: str
    member_id: str
    group_number: str = ""
    subscriber_relationship: str = "self"  # self, spouse, child, other
    subscriber_first_name: str = ""
    subscriber_last_name: str = ""
    subscriber_date_of_birth: date | None = None


@dataclass(frozen=True)
class ClinicInfo:
    """The billing provider and the clinic's electronic-claims identifiers."""

    name: str
    npi: str
    tax_id: str
    taxonomy_code: str
    address_line1: str
    address_line2: str
    city: str
    state: str
    postal_code: str
    phone: str
    submitter_id: str
    submitter_contact: str
    receiver_id: str
    receiver_name: str


@dataclass(frozen=True)
class ClinicianInfo:
    id: str
    first_name: str
    last_name: str
    credentials: str
    npi: str


@dataclass(frozen=True)
class DiagnosisInfo:
    code: str  # ICD-10-CM with its dot, e.g. R47.01
    description: str
    role: str  # medical or treatment


@dataclass(frozen=True)
class GoalResult:
    goal_id: str
    text: str
    disorder_area: str
    correct: int
    trials: int

    @property
    def accuracy_percent(self) -> Decimal | None:
        if not self.trials:
            return None
        return (Decimal(self.correct) * 100 / Decimal(self.trials)).quantize(Decimal("1"))


@dataclass(frozen=True)
class EncounterRecord:
    participant_id: str
    session_id: str
    date_of_service: date
    session_type: str
    setting: str
    started_at: datetime | None
    stopped_at: datetime | None
    total_minutes: int
    patient: PatientInfo
    coverage: CoverageInfo | None
    clinic: ClinicInfo
    clinician: ClinicianInfo
    diagnoses: tuple[DiagnosisInfo, ...]  # in claim pointer order (pointer 1 = first)
    coding: CodingResult
    goal_results: tuple[GoalResult, ...] = ()
    signed_at: datetime | None = None
    signer: str = ""
    certifying_physician_name: str = ""
    certifying_physician_npi: str = ""
    exported_before: bool = False  # billed before: in an 837P or superbill batch (copies do not count)
    claim_number: str = ""  # the claims register's: CLM01 of the 837P claim that billed it ("" when none)
    claim_status: str = ""  # that claim's status (``slpterm.domain.claims.ClaimStatus``)
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def total_charge(self) -> Decimal:
        return self.coding.total_charge

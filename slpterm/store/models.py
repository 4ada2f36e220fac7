"""The tables of an slpterm data file.

Identifiers are UUID strings so that records written on several laptops can be merged later.
Money is stored as integer cents. Timestamps are UTC. Enumerated values are the stable strings of
``slpterm.domain.vocab``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import DateTime, Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UtcDateTime(TypeDecorator[datetime]):
    """Stores UTC without an offset and gives back timezone-aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def new_id() -> str:
    return str(uuid.uuid4())


def utc_now() -> datetime:
    return datetime.now(UTC)


def table_name(model: type[SQLModel]) -> str:
    """The name of the table ``model`` maps to. SQLModel declares ``__tablename__`` as a name or a
    function that makes one; on a mapped table class it is always the name."""
    name = model.__tablename__
    assert isinstance(name, str), model
    return name


class Clinic(SQLModel, table=True):
    """The practice; it is also the billing provider on claims."""

    id: str = Field(default_factory=new_id, primary_key=True)
    name: str = ""
    npi: str = ""
    tax_id: str = ""
    taxonomy_code: str = "235Z00000X"
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    phone: str = ""
    submitter_id: str = ""
    submitter_contact: str = ""
    receiver_id: str = ""
    receiver_name: str = ""
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)


class Clinician(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True)
    first_name: str = ""
    last_name: str = ""
    credentials: str = "CCC-SLP"
    role: str = "slp"
    npi: str = ""
    license_number: str = ""
    active: bool = True
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)

    @property
    def display_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return f"{name}, {self.credentials}" if self.credentials else name


class Patient(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True)
    external_id: str = Field(default="", index=True)
    first_name: str = ""
    last_name: str = Field(default="", index=True)
    date_of_birth: date | None = None
    sex: str = "U"
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    phone: str = ""
    guardian_name: str = ""
    guardian_phone: str = ""
    school: str = ""
    grade: str = ""
    archived_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)

    @property
    def display_name(self) -> str:
        return f"{self.last_name}, {self.first_name}".strip(", ")


class Coverage(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True)
    patient_id: str = Field(foreign_key="patient.id", index=True)
    rank: int = 1  # 1 primary, 2 secondary
    payer_name: str = ""
    payer_kind: str = "commercial"
    payer_id: str = ""
    member_id: str = ""
    group_number: str = ""
    subscriber_relationship: str = "self"
    subscriber_first_name: str = ""
    subscriber_last_name: str = ""
    subscriber_date_of_birth: date | None = None
    effective_from: date | None = None
    effective_to: date | None = None


class Diagnosis(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True)
    patient_id: str = Field(foreign_key="patient.id", index=True)
    code: str
    description: str = ""
    role: str = "treatment"
    onset_date: date | None = None
    rank: int = 1
    active: bool = True


class PlanOfCare(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True)
    patient_id: str = Field(foreign_key="patient.id", index=True)
    start_date: date
    end_date: date
    frequency: str = ""  # as written, e.g. "2x/week"
    duration_weeks: int | None = None
    certifying_physician_name: str = ""
    certifying_physician_npi: str = ""
    certified_on: date | None = None
    status: str = "draft"
    previous_plan_id: str | None = Field(default=None, foreign_key="planofcare.id")
    # True rehabilitative (modifier 97), False habilitative (96), None not stated; sessions default to it.
    rehabilitative: bool | None = None
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)


class Goal(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True)
    plan_id: str = Field(foreign_key="planofcare.id", index=True)
    parent_goal_id: str | None = Field(default=None, foreign_key="goal.id")
    term: str = "short"
    disorder_area: str = "language"
    text: str = ""
    baseline: str = ""
    target_accuracy: int = 80
    criterion_sessions: int = 3
    status: str = "active"
    rank: int = 1


class IepService(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True)
    patient_id: str = Field(foreign_key="patient.id", index=True)
    minutes_required: int
    period: str = "week"
    kind: str = "direct"
    start_date: date | None = None
    end_date: date | None = None


class TherapyYearAmount(SQLModel, table=True):
    """PT+SLP amounts billed by other providers this year (from the payer's eligibility data)."""

    id: str = Field(default_factory=new_id, primary_key=True)
    patient_id: str = Field(foreign_key="patient.id", index=True)
    year: int
    other_providers_cents: int = 0


class TherapySession(SQLModel, table=True):
    """One encounter: its time, type and setting. Patients take part through participants."""

    __tablename__ = "session"

    id: str = Field(default_factory=new_id, primary_key=True)
    date_of_service: date = Field(index=True)
    session_type: str = "individual_treatment"
    evaluation_kind: str | None = None
    setting: str = "office"
    clinician_id: str | None = Field(default=None, foreign_key="clinician.id")
    started_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    stopped_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    heartbeat_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    manual_time: bool = False
    aac_device: str | None = None  # "sgd" or "non_sgd" for AAC treatment (selects 92609 or 92606)
    group_rationale: str = ""
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)


class SessionParticipant(SQLModel, table=True):
    """A patient in a session; carries that patient's note, tallies and signature."""

    id: str = Field(default_factory=new_id, primary_key=True)
    session_id: str = Field(foreign_key="session.id", index=True)
    patient_id: str = Field(foreign_key="patient.id", index=True)
    status: str = Field(default="draft", index=True)
    distinct_service_note: str = ""
    rehabilitative: bool | None = None


class TimeSegment(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True)
    session_id: str = Field(foreign_key="session.id", index=True)
    disorder_area: str = "language"
    started_at: datetime = Field(sa_type=UtcDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class AreaMinutesCorrection(SQLModel, table=True):
    """Minutes per disorder area set by hand after the session, with the reason."""

    id: str = Field(default_factory=new_id, primary_key=True)
    session_id: str = Field(foreign_key="session.id", index=True)
    disorder_area: str
    minutes: int
    reason: str
    corrected_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)


class TechniqueUsed(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True)
    participant_id: str = Field(foreign_key="sessionparticipant.id", index=True)
    technique_id: str


class GoalAddressed(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True)
    participant_id: str = Field(foreign_key="sessionparticipant.id", index=True)
    goal_id: str = Field(foreign_key="goal.id")


class TrialRecord(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True)
    participant_id: str = Field(foreign_key="sessionparticipant.id", index=True)
    goal_id: str = Field(foreign_key="goal.id", index=True)
    seq: int
    result: str
    cue_level: str = "independent"
    recorded_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
    voided_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class SoapNote(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True)
    participant_id: str = Field(foreign_key="sessionparticipant.id", unique=True)
    subjective: str = ""
    objective: str = ""
    assessment: str = ""
    plan: str = ""
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)


class Signature(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True)
    participant_id: str = Field(foreign_key="sessionparticipant.id", unique=True)
    clinician_id: str | None = Field(default=None, foreign_key="clinician.id")
    signer_name: str
    credentials: str
    signed_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
    content_hash: str = ""


class Addendum(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True)
    participant_id: str = Field(foreign_key="sessionparticipant.id", index=True)
    author_clinician_id: str | None = Field(default=None, foreign_key="clinician.id")
    author_name: str
    text: str
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)


class ProgressReport(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True)
    plan_id: str = Field(foreign_key="planofcare.id", index=True)
    period_start: date
    period_end: date
    written_on: date
    backdate_reason: str = ""  # why written_on is earlier than the day the report was entered
    assessment: str = ""
    plan_text: str = ""
    signed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    signer_name: str = ""


class SessionBillingFacts(SQLModel, table=True):
    """The facts a claim needs that the note does not carry: distinct service and its modifier,
    habilitative or rehabilitative, audio-only telehealth. Kept apart from the signed record so that
    a held claim can be completed after signing (every change is audited)."""

    participant_id: str = Field(foreign_key="sessionparticipant.id", primary_key=True)
    distinct_service_note: str = ""
    distinct_modifier: str | None = None  # 59, XE, XS, XP or XU; None: the payer's choice
    rehabilitative: bool | None = None  # None: from the plan of care
    audio_only: bool = False
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)


class ExportedClaimLine(SQLModel, table=True):
    """A claim line as it was exported, with the charge billed (year-to-date figures add these)."""

    id: str = Field(default_factory=new_id, primary_key=True)
    batch_id: str = Field(foreign_key="exportbatch.id", index=True)
    participant_id: str = Field(foreign_key="sessionparticipant.id", index=True)
    patient_id: str = Field(foreign_key="patient.id", index=True)
    date_of_service: date
    code: str
    modifiers: str = ""  # space separated
    units: int = 1
    charge_cents: int = 0
    claim_number: str = Field(default="", index=True)  # CLM01 of the claim the line went out on


class ClaimRecord(SQLModel, table=True):
    """One claim of the claims register (one per claim number, CLM01): where it stands with the payer.

    ``status`` is one of ``slpterm.domain.claims.ClaimStatus``; an 837P sets ``exported``, a
    correction ``replaced`` or ``voided``, and remittances and acknowledgements the payer's answer
    (``ClaimRegister.set_claim_status``)."""

    claim_number: str = Field(primary_key=True)
    patient_id: str = Field(foreign_key="patient.id", index=True)
    date_of_service: date
    status: str = Field(default="exported", index=True)
    batch_id: str | None = Field(default=None, foreign_key="exportbatch.id")  # the last 837P that carried it
    frequency: str = "1"  # CLM05-3 of that 837P: 1 original, 7 replacement, 8 void
    payer_claim_number: str = ""  # the payer's claim control number (835 CLP07, 277CA): REF*F8 of a correction
    needs_replacement: str = ""  # why the session, coded now, differs from what was billed ("" when it does not)
    status_note: str = ""  # the payer's words with the status (a denial reason, say)
    status_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)


class ExportBatch(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
    created_by: str = ""
    format: str
    range_from: date | None = None
    range_to: date | None = None
    file_names: str = ""  # newline separated
    checksum: str = ""
    control_number: int | None = None  # the batch ID (local, sequential; in the file names)
    # ISA13/GS06/ST02 of an 837P: never reused, also after a restore or on another installation
    # (slpterm/store/installation.py); the installation that issued it.
    interchange_control: int | None = None
    installation_id: str = ""


class ExportBatchItem(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True)
    batch_id: str = Field(foreign_key="exportbatch.id", index=True)
    participant_id: str = Field(foreign_key="sessionparticipant.id", index=True)


class FeeScheduleEntry(SQLModel, table=True):
    code: str = Field(primary_key=True)
    charge_cents: int


class PayerPolicyOverride(SQLModel, table=True):
    """A clinic's correction of the shipped payer policy for one payer (settings as JSON)."""

    payer_id: str = Field(primary_key=True)
    settings_json: str = "{}"


class AppSetting(SQLModel, table=True):
    key: str = Field(primary_key=True)
    value: str = ""


class AuditEvent(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True)
    seq: int = Field(index=True, unique=True)
    at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
    actor: str = ""
    action: str
    entity: str = ""
    entity_id: str = ""
    detail: str = ""
    prev_hash: str = ""
    hash: str = ""


class Remittance(SQLModel, table=True):
    """An imported 835 payment: who paid, its trace number (TRN02, with TRN03 what names it: the
    same payment is never posted twice) and the file it came in."""

    id: str = Field(default_factory=new_id, primary_key=True)
    trace_number: str = Field(index=True)
    payer_id: str = ""
    payer_name: str = ""
    payment_date: date | None = None
    paid_cents: int = 0
    method: str = ""  # BPR04: CHK, ACH, NON
    file_name: str = ""
    checksum: str = ""
    imported_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
    imported_by: str = ""


class RemittanceClaimPayment(SQLModel, table=True):
    """What a remittance says about one claim (CLP): charge, paid, allowed, what the patient owes."""

    id: str = Field(default_factory=new_id, primary_key=True)
    remittance_id: str = Field(foreign_key="remittance.id", index=True)
    claim_number: str = Field(index=True)  # CLP01 = the CLM01 slpterm sent
    status_code: str = ""  # CLP02
    charge_cents: int = 0
    paid_cents: int = 0
    allowed_cents: int = 0
    patient_responsibility_cents: int = 0
    payer_claim_control: str = ""  # CLP07, the payer's number for a replacement or void (REF*F8)
    remarks: str = ""  # RARCs, space separated
    seq: int = 0  # order within the remittance


class RemittanceAdjustment(SQLModel, table=True):
    """One CAS reason on a claim or one of its service lines (``procedure``)."""

    id: str = Field(default_factory=new_id, primary_key=True)
    payment_id: str = Field(foreign_key="remittanceclaimpayment.id", index=True)
    group_code: str = ""
    reason_code: str = ""
    amount_cents: int = 0
    procedure: str = ""


class Acknowledgement(SQLModel, table=True):
    """One verdict of an imported 999 (on a whole 837P, by its control number) or 277CA (on one claim)."""

    id: str = Field(default_factory=new_id, primary_key=True)
    kind: str = ""  # "999" or "277CA"
    file_checksum: str = Field(default="", index=True)
    file_name: str = ""
    claim_number: str = Field(default="", index=True)
    batch_control: int | None = Field(default=None, index=True)  # ST02/ISA13 of the 837P a 999 answers
    accepted: bool = False
    status_code: str = ""
    message: str = ""
    payer_claim_control: str = ""
    imported_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
    seq: int = 0
class Appointment(SQLModel, table=True):
    """A scheduled visit: once, or weekly on ``weekdays`` (``MO,WE``) until ``until``."""

    id: str = Field(default_factory=new_id, primary_key=True)
    uid: str = Field(default="", index=True)  # the iCalendar UID it came from or goes out as
    title: str = ""
    first_day: date = Field(index=True)
    start_time: str = "09:00"  # local wall-clock time, HH:MM
    minutes: int = 30
    weekdays: str = ""  # empty: one-off
    interval_weeks: int = 1
    until: date | None = None
    session_type: str = "individual_treatment"
    setting: str = "office"
    clinician_id: str | None = Field(default=None, foreign_key="clinician.id")
    location: str = ""
    removed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)


class AppointmentMember(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True)
    appointment_id: str = Field(foreign_key="appointment.id", index=True)
    patient_id: str = Field(foreign_key="patient.id", index=True)
    rank: int = 1  # the members' order, as given


class Attendance(SQLModel, table=True):
    """A missed visit of one patient: cancelled (by whom, why) or a no-show. Never a session, so
    never coded or exported; counted against IEP minutes and in the chart's attendance rate."""

    id: str = Field(default_factory=new_id, primary_key=True)
    patient_id: str = Field(foreign_key="patient.id", index=True)
    day: date = Field(index=True)
    status: str  # slpterm.domain.schedule.AttendanceStatus
    cancelled_by: str = ""
    reason: str = ""
    minutes: int = 0  # the minutes the visit was scheduled for
    appointment_id: str | None = Field(default=None, foreign_key="appointment.id")
    made_up_by: str | None = Field(default=None, foreign_key="sessionparticipant.id")
    recorded_by: str = ""
    recorded_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)

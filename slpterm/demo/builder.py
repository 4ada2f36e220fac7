"""Clinic records built as plain rows, written with bulk inserts.

Both the demo clinic and the synthetic benchmark clinics are made here: a :class:`ClinicBuilder`
turns patients, plans and appointments into one dict per table row, and :func:`write_rows` inserts
them in dependency order. Signatures go in last because the file refuses new tallies, techniques
or goals for a participant once a signature exists.

Everything is drawn from one seeded ``random.Random`` (identifiers included), so the same seed and
the same ``today`` give the same records.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, UTC
from operator import itemgetter
from types import SimpleNamespace
from typing import Any
from collections.abc import Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic_core import PydanticUndefined
from sqlmodel import Session, SQLModel

from slpterm.demo import content
from slpterm.demo.content import GoalTemplate, Profile
from slpterm.domain.identifiers import make_npi
from slpterm.domain.vocab import (
    CueLevel,
    DiagnosisRole,
    DisorderArea,
    EvaluationKind,
    GoalStatus,
    GoalTerm,
    PayerKind,
    PlanStatus,
    SessionStatus,
    SessionType,
    Setting,
    TrialResult,
)
from slpterm.store.models import (
    Addendum,
    AppointmentMember,
    Attendance,
    Clinic,
    Clinician,
    Coverage,
    Diagnosis,
    FeeScheduleEntry,
    Goal,
    GoalAddressed,
    IepService,
    Patient,
    PlanOfCare,
    ProgressReport,
    SessionParticipant,
    Signature,
    SoapNote,
    TechniqueUsed,
    TherapySession,
    TherapyYearAmount,
    TimeSegment,
    TrialRecord,
    table_name,
)
from slpterm.store.models import Appointment as ScheduledAppointment
from slpterm.store.sessions import SessionRepository

try:
    CLINIC_TZ: Any = ZoneInfo("America/Chicago")
except ZoneInfoNotFoundError:  # a system without time-zone data
    CLINIC_TZ = timezone(timedelta(hours=-6))

# Parents before children: foreign keys are checked row by row.
TABLE_ORDER: tuple[type[SQLModel], ...] = (
    Clinic, Clinician, FeeScheduleEntry, Patient, Coverage, Diagnosis, PlanOfCare, Goal, IepService,
    TherapyYearAmount, ProgressReport, TherapySession, SessionParticipant, SoapNote, TimeSegment,
    TechniqueUsed, GoalAddressed, TrialRecord, Signature, Addendum, ScheduledAppointment, AppointmentMember,
    Attendance,
)
INSERT_BATCH = 5000
EPISODE_DAYS = 90  # a certification lasts at most 90 days

CUE_PHRASES = {
    CueLevel.INDEPENDENT: "independently",
    CueLevel.MINIMAL: "with minimal verbal cues",
    CueLevel.MODERATE: "with moderate verbal and visual cues",
    CueLevel.MAXIMAL: "with maximal cues (model and tactile)",
}
_CUES = (CueLevel.INDEPENDENT, CueLevel.MINIMAL, CueLevel.MODERATE, CueLevel.MAXIMAL)


_LOW_62_BITS = (1 << 62) - 1


class SeededIds:
    """Time-ordered UUID strings (RFC 9562 version 7 layout) from a seeded generator.

    The timestamp part is the record's own time, so ids grow as the clinic's history runs forward:
    rows written in date order land at the end of each index instead of all over it, which keeps
    large generations fast and the file compact. The random part comes from the seeded generator,
    so a generation can be repeated exactly.
    """

    def __init__(self, rng: random.Random, default_at: datetime) -> None:
        self._bits = rng.getrandbits
        self._default_ms = int(default_at.timestamp() * 1000)

    def __call__(self, at: datetime | None = None) -> str:
        millis = self._default_ms if at is None else int(at.timestamp() * 1000)
        random_bits = self._bits(74)
        value = ((millis << 80) | ((0x7000 | (random_bits >> 62)) << 64)
                 | (0x2 << 62) | (random_bits & _LOW_62_BITS))
        text = f"{value:032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _static_defaults(model: type[SQLModel]) -> dict[str, Any]:
    return {
        name: info.default
        for name, info in model.model_fields.items()
        if info.default is not PydanticUndefined and info.default_factory is None
    }


_DEFAULTS = {table_name(model): _static_defaults(model) for model in TABLE_ORDER}
_NAMES = {model: table_name(model) for model in TABLE_ORDER}


class Rows:
    """Rows waiting to be inserted, one list of dicts per table."""

    def __init__(self) -> None:
        self.tables: dict[str, list[dict[str, Any]]] = {table_name(model): [] for model in TABLE_ORDER}

    def add(self, model: type[SQLModel], **values: Any) -> dict[str, Any]:
        name = _NAMES[model]
        row = {**_DEFAULTS[name], **values}
        self.tables[name].append(row)
        return row

    def count(self, model: type[SQLModel]) -> int:
        return len(self.tables[_NAMES[model]])

    def clear(self) -> None:
        for rows in self.tables.values():
            rows.clear()

    def __bool__(self) -> bool:
        return any(self.tables.values())


def _insert_plan(session: Session, table: Any) -> tuple[str, list[tuple[str, Any]]]:
    """The driver-level INSERT for ``table`` and each column's own bind conversion (as SQLAlchemy does it)."""
    dialect = session.get_bind().dialect
    columns = [(column.name, column.type.dialect_impl(dialect).bind_processor(dialect)) for column in table.columns]
    names = ", ".join(f'"{name}"' for name, _convert in columns)
    marks = ", ".join("?" for _ in columns)
    return f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', columns


def write_rows(session: Session, rows: Rows, batch_size: int = INSERT_BATCH) -> None:
    """Insert every row of ``rows`` inside the caller's write transaction, then forget them.

    Values go through each column type's own conversion (UTC datetimes, dates, booleans) exactly as
    an ORM write would; only SQLAlchemy's per-statement bookkeeping is skipped, which is most of the
    cost at a million rows.
    """
    connection = session.connection()
    for model in TABLE_ORDER:
        table = model.__table__  # type: ignore[attr-defined]
        items = rows.tables[table.name]
        if not items:
            continue
        missing = set(table.columns.keys()) - set(items[0])
        if missing:
            raise ValueError(f"rows for table {table.name} lack columns {sorted(missing)}")
        statement, columns = _insert_plan(session, table)
        pick = itemgetter(*(name for name, _convert in columns))
        # Memoised per batch: a clinic's timestamps and dates repeat a great deal.
        conversions = [(index, functools.lru_cache(maxsize=None)(convert))
                       for index, (_name, convert) in enumerate(columns) if convert is not None]
        for start in range(0, len(items), batch_size):
            batch = []
            for row in items[start:start + batch_size]:
                values = list(pick(row))
                for index, convert in conversions:
                    value = values[index]
                    if value is not None:
                        values[index] = convert(value)
                batch.append(tuple(values))
            connection.exec_driver_sql(statement, batch)
    rows.clear()


def local_to_utc(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=CLINIC_TZ).astimezone(UTC)


def morning_utc(day: date) -> datetime:
    return local_to_utc(day, time(7, 30))


# -- the in-memory picture of the clinic that sessions are drawn from ------------------------------

@dataclass
class ClinicianInfo:
    id: str
    first_name: str
    last_name: str
    credentials: str
    role: str

    @property
    def signer_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass
class GoalState:
    id: str
    template: GoalTemplate
    history: list[tuple[date, int]] = field(default_factory=list)

    @property
    def area(self) -> DisorderArea:
        return self.template.area


@dataclass
class PlanState:
    id: str
    start: date
    end: date
    goals: list[GoalState]
    physician: str = ""
    certified_on: date | None = None


@dataclass
class PatientState:
    id: str
    first_name: str
    last_name: str
    profile: Profile
    payer_kind: PayerKind
    episode_start: date
    plans: list[PlanState] = field(default_factory=list)
    treatment_days: list[date] = field(default_factory=list)

    def plan_on(self, day: date) -> PlanState | None:
        """The plan in force on ``day``; after the last plan ends, still that plan (an expired one)."""
        current = None
        for plan in self.plans:
            if plan.start <= day:
                current = plan
        return current or (self.plans[0] if self.plans else None)


@dataclass(slots=True)
class Appointment:
    """One session to write: when, what, who; the same object serves every member of a group."""

    day: date
    start: time
    session_type: SessionType
    setting: Setting
    clinician: ClinicianInfo
    area_minutes: list[tuple[DisorderArea, int]]
    patients: list[PatientState]
    evaluation_kind: EvaluationKind | None = None
    signed: bool = True
    partial_note: bool = False  # a draft still being written: no assessment or plan yet
    group_rationale: str = ""
    distinct_service_note: str = ""
    session_id: str | None = None
    session_row: dict[str, Any] = field(default_factory=dict)
    segments: list[SimpleNamespace] = field(default_factory=list)

    @property
    def minutes(self) -> int:
        return sum(minutes for _area, minutes in self.area_minutes)


@dataclass
class Counts:
    patients: int = 0
    sessions: int = 0
    participants: int = 0
    signed: int = 0
    drafts: int = 0
    trials: int = 0


def _technique_words(technique_id: str) -> str:
    """``dys.chin_tuck`` -> ``chin tuck`` (the note's wording; the catalog keeps the full names)."""
    return technique_id.rpartition(".")[2].replace("_", " ")


class ClinicBuilder:
    """Turns the picture of a clinic into rows; see the module docstring."""

    def __init__(self, rng: random.Random, today: date, *,
                 trials_per_goal: tuple[int, int] = (10, 30),
                 goals_per_session: tuple[int, int] = (1, 3)) -> None:
        self.rng = rng
        self.new_id = SeededIds(rng, morning_utc(today))
        self.today = today
        self.rows = Rows()
        self.counts = Counts()
        self.trials_per_goal = trials_per_goal
        self.goals_per_session = goals_per_session

    def take_rows(self) -> Rows:
        """Hand over the rows built so far (to be written) and start a fresh set."""
        taken, self.rows = self.rows, Rows()
        return taken

    # -- identifiers --------------------------------------------------------------------------------
    def npi(self, leading: str = "1") -> str:
        return make_npi(leading + f"{self.rng.randrange(10**8):08d}")

    def member_id(self, kind: PayerKind) -> str:
        rng = self.rng
        if kind == PayerKind.MEDICARE:
            letters = "ACDEFGHJKMNPQRTUVWXY"
            alnum = letters + "0123456789"
            pattern = "NAXNAXNAANN"
            chars = [
                str(rng.randint(1, 9)) if index == 0 and kind_char == "N" else
                rng.choice("0123456789") if kind_char == "N" else
                rng.choice(letters) if kind_char == "A" else rng.choice(alnum)
                for index, kind_char in enumerate(pattern)
            ]
            return "".join(chars)
        if kind == PayerKind.MEDICAID:
            return f"RB{rng.randrange(10**9):09d}"
        if kind == PayerKind.COMMERCIAL:
            return f"BLU{rng.randrange(10**9):09d}"
        if kind == PayerKind.SCHOOL:
            return f"STU{rng.randrange(10**6):06d}"
        return ""

    # -- the clinic ---------------------------------------------------------------------------------
    def add_clinic(self, name: str) -> str:
        stamp = morning_utc(self.today - timedelta(days=120))
        clinic_id = self.new_id(stamp)
        self.rows.add(
            Clinic, id=clinic_id, name=name, npi=self.npi("1"), tax_id="47-" + f"{self.rng.randrange(10**7):07d}",
            address_line1="100 Lantern Way", address_line2="Suite 2", city=content.CITY, state=content.STATE,
            postal_code=content.POSTAL_CODES[0] + "-0100",  # ZIP+4: the 837P billing provider needs it
            phone="217-555-0100", submitter_id="DEMOSLP01",
            submitter_contact="Front Desk, 217-555-0100", receiver_id="DEMOCLEAR", receiver_name="Demo Clearinghouse",
            created_at=stamp, updated_at=stamp,
        )
        for code, cents in content.FEE_SCHEDULE_CENTS.items():
            self.rows.add(FeeScheduleEntry, code=code, charge_cents=cents)
        return clinic_id

    def add_clinician(self, first_name: str, last_name: str, credentials: str, role: str) -> ClinicianInfo:
        created = morning_utc(self.today - timedelta(days=120))
        info = ClinicianInfo(self.new_id(created), first_name, last_name, credentials, role)
        self.rows.add(
            Clinician, id=info.id, first_name=first_name, last_name=last_name, credentials=credentials, role=role,
            npi=self.npi("1"), license_number=f"SLP-{self.rng.randrange(10**6):06d}", active=True,
            created_at=created,
        )
        return info

    # -- charts -------------------------------------------------------------------------------------
    def add_patient(
        self,
        profile: Profile,
        first_name: str,
        last_name: str,
        *,
        external_id: str,
        age: int,
        payer_kind: PayerKind,
        episode_start: date,
        school: str = "",
        grade: str = "",
        member_id: str | None = None,
        archived: bool = False,
        secondary: PayerKind | None = None,
    ) -> PatientState:
        rng = self.rng
        created = morning_utc(episode_start - timedelta(days=rng.randrange(3, 15)))
        patient_id = self.new_id(created)
        birth = self.today.replace(year=self.today.year - age, day=1) - timedelta(days=rng.randrange(0, 330))
        child = age < 18
        guardian = f"{rng.choice(content.FIRST_NAMES)} {last_name}" if child else ""
        self.rows.add(
            Patient, id=patient_id, external_id=external_id, first_name=first_name, last_name=last_name,
            date_of_birth=birth, sex=rng.choice("FM"),
            address_line1=f"{rng.randrange(10, 999)} {rng.choice(content.STREETS)}", address_line2="",
            city=content.CITY, state=content.STATE, postal_code=rng.choice(content.POSTAL_CODES),
            phone=f"217-555-01{rng.randrange(100):02d}", guardian_name=guardian,
            guardian_phone=f"217-555-01{rng.randrange(100):02d}" if child else "",
            school=school, grade=grade,
            archived_at=morning_utc(self.today - timedelta(days=10)) if archived else None,
            created_at=created, updated_at=created,
        )
        for rank, kind in enumerate((payer_kind, secondary), start=1):
            if kind is None:
                continue
            payer_name, payer_id = content.PAYERS[kind]
            dependent = child and kind == PayerKind.COMMERCIAL
            self.rows.add(
                Coverage, id=self.new_id(created), patient_id=patient_id, rank=rank, payer_name=payer_name,
                payer_kind=kind.value, payer_id=payer_id,
                member_id=self.member_id(kind) if (member_id is None or rank > 1) else member_id,
                group_number=f"GRP{rng.randrange(10**5):05d}" if kind == PayerKind.COMMERCIAL else "",
                subscriber_relationship="child" if dependent else "self",
                subscriber_first_name=guardian.split(" ")[0] if dependent else first_name,
                subscriber_last_name=last_name,
                subscriber_date_of_birth=(birth - timedelta(days=365 * 30)) if dependent else birth,
                effective_from=date(self.today.year - 1, 1, 1), effective_to=None,
            )
        for rank, (code, description, role) in enumerate(profile.diagnoses, start=1):
            self.rows.add(
                Diagnosis, id=self.new_id(created), patient_id=patient_id, code=code, description=description,
                role=role.value, onset_date=episode_start - timedelta(days=rng.randrange(20, 400)),
                rank=rank, active=True,
            )
        self.counts.patients += 1
        return PatientState(patient_id, first_name, last_name, profile, payer_kind, episode_start)

    def add_plan(
        self,
        patient: PatientState,
        start: date,
        *,
        days: int = EPISODE_DAYS,
        certified_on: date | None = None,
        physician: str | None = None,
        status: PlanStatus = PlanStatus.CERTIFIED,
        goals: Iterable[GoalTemplate] | None = None,
        goal_status: GoalStatus = GoalStatus.ACTIVE,
    ) -> PlanState:
        """A plan of care (``days`` long, 90 at most for Medicare) with a long-term goal per area."""
        rng = self.rng
        created = morning_utc(start)
        plan_id = self.new_id(created)
        previous = patient.plans[-1] if patient.plans else None
        physician = rng.choice(content.PHYSICIANS) if physician is None else physician
        weeks = max(1, days // 7)
        self.rows.add(
            PlanOfCare, id=plan_id, patient_id=patient.id, start_date=start, end_date=start + timedelta(days=days - 1),
            frequency=patient.profile.frequency, duration_weeks=weeks, certifying_physician_name=physician,
            certifying_physician_npi=self.npi("1") if physician else "", certified_on=certified_on,
            status=status.value, previous_plan_id=previous.id if previous else None,
            created_at=created,
        )
        templates = list(goals if goals is not None else patient.profile.goals)
        states: list[GoalState] = []
        rank = 1
        for area in dict.fromkeys(template.area for template in templates):
            long_id = self.new_id(created)
            self.rows.add(
                Goal, id=long_id, plan_id=plan_id, parent_goal_id=None, term=GoalTerm.LONG.value,
                disorder_area=area.value, text=patient.profile.long_goals.get(area, ""), baseline="",
                target_accuracy=80, criterion_sessions=3, status=goal_status.value, rank=rank,
            )
            rank += 1
            for template in (t for t in templates if t.area == area):
                carried = next((g for g in (previous.goals if previous else []) if g.template == template), None)
                baseline = carried.history[-1][1] if carried and carried.history else template.baseline
                goal = GoalState(self.new_id(created), template, list(carried.history) if carried else [])
                self.rows.add(
                    Goal, id=goal.id, plan_id=plan_id, parent_goal_id=long_id, term=GoalTerm.SHORT.value,
                    disorder_area=area.value, text=template.text,
                    baseline=f"{baseline}% accuracy on {start.isoformat()}",
                    target_accuracy=template.target, criterion_sessions=3, status=goal_status.value, rank=rank,
                )
                rank += 1
                states.append(goal)
        plan = PlanState(plan_id, start, start + timedelta(days=days - 1), states, physician, certified_on)
        patient.plans.append(plan)
        return plan

    def add_iep_service(self, patient: PatientState, minutes: int, *, period: str = "week", kind: str = "direct",
                        start: date) -> None:
        self.rows.add(IepService, id=self.new_id(morning_utc(start)), patient_id=patient.id, minutes_required=minutes,
                      period=period,
                      kind=kind, start_date=start, end_date=start + timedelta(days=364))

    def add_scheduled(self, patients: list[PatientState], at: time, minutes: int, session_type: SessionType,
                      setting: Setting, clinician: ClinicianInfo, *, weekly: bool = True,
                      missed: tuple[tuple[int, str, str, str], ...] = ()) -> None:
        """An appointment today (weekly on today's weekday from four weeks back, or once); ``missed``
        are (weeks ago, status, cancelled by, reason) of visits it lost."""
        first_day = self.today - timedelta(weeks=4) if weekly else self.today
        appointment_id = self.new_id(morning_utc(first_day))
        names = " + ".join(f"{patient.first_name} {patient.last_name}" for patient in patients)
        self.rows.add(ScheduledAppointment, id=appointment_id, uid=f"{appointment_id}@slpterm", title=names,
                      first_day=first_day, start_time=at.strftime("%H:%M"), minutes=minutes,
                      weekdays=("MO", "TU", "WE", "TH", "FR", "SA", "SU")[self.today.weekday()] if weekly else "",
                      session_type=session_type.value, setting=setting.value, clinician_id=clinician.id,
                      created_at=morning_utc(first_day))
        for rank, patient in enumerate(patients, start=1):
            self.rows.add(AppointmentMember, id=self.new_id(), appointment_id=appointment_id, patient_id=patient.id,
                          rank=rank)
            for weeks_ago, status, cancelled_by, reason in missed:
                day = self.today - timedelta(weeks=weeks_ago)
                if (patient.id, day) in self._days_seen():
                    continue  # the demo saw the patient that day after all: no missed visit to record
                self.rows.add(Attendance, id=self.new_id(morning_utc(day)), patient_id=patient.id, day=day,
                              status=status, cancelled_by=cancelled_by, reason=reason, minutes=minutes,
                              appointment_id=appointment_id, recorded_by=clinician.signer_name,
                              recorded_at=morning_utc(day))

    def _days_seen(self) -> set[tuple[str, date]]:
        """(patient id, day) of every session built so far."""
        days = {row["id"]: row["date_of_service"] for row in self.rows.tables[table_name(TherapySession)]}
        return {(row["patient_id"], days[row["session_id"]])
                for row in self.rows.tables[table_name(SessionParticipant)] if row["session_id"] in days}

    def add_other_providers_amount(self, patient: PatientState, year: int, cents: int) -> None:
        self.rows.add(TherapyYearAmount, id=self.new_id(), patient_id=patient.id, year=year,
                      other_providers_cents=cents)

    def add_progress_reports(self, patient: PatientState, signer: ClinicianInfo, *, every: int = 10,
                             limit: int | None = None) -> int:
        """A progress report on every ``every``-th treatment day of each plan (at most ``limit``)."""
        written = 0
        for plan in patient.plans:
            days = sorted(day for day in set(patient.treatment_days) if plan.start <= day <= plan.end)
            period_start = plan.start
            for index in range(every - 1, len(days), every):
                if limit is not None and written >= limit:
                    return written
                day = days[index]
                signed_at = local_to_utc(day, time(17, 30))
                lines = []
                for goal in plan.goals:
                    seen = [accuracy for when, accuracy in goal.history if when <= day]
                    if seen:
                        lines.append(f"{goal.template.label}: {seen[-1]}% (baseline {goal.template.baseline}%, "
                                     f"target {goal.template.target}%)")
                self.rows.add(
                    ProgressReport, id=self.new_id(signed_at), plan_id=plan.id, period_start=period_start,
                    period_end=day,
                    written_on=day,
                    assessment="Objective status of goals: " + "; ".join(lines) + ". Progressing toward goals; "
                               "continued skilled intervention is medically necessary.",
                    plan_text=f"Continue plan of care {patient.profile.frequency}; no goal changes.",
                    signed_at=signed_at, signer_name=f"{signer.signer_name}, {signer.credentials}",
                )
                written += 1
                period_start = day + timedelta(days=1)
        return written

    # -- sessions -----------------------------------------------------------------------------------
    def _build_session(self, appointment: Appointment) -> None:
        rng = self.rng
        cursor = local_to_utc(appointment.day, appointment.start)
        session_id = self.new_id(cursor)
        started = cursor
        segments = []
        for area, minutes in appointment.area_minutes:
            end = cursor + timedelta(minutes=minutes)
            segment_id = self.new_id(cursor)
            self.rows.add(TimeSegment, id=segment_id, session_id=session_id, disorder_area=area.value,
                          started_at=cursor, ended_at=end)
            segments.append(SimpleNamespace(disorder_area=area.value, started_at=cursor, ended_at=end))
            cursor = end + timedelta(minutes=rng.choice((0, 0, 1)))
        stopped = segments[-1].ended_at if segments else cursor
        appointment.session_row = self.rows.add(
            TherapySession, id=session_id, date_of_service=appointment.day,
            session_type=appointment.session_type.value,
            evaluation_kind=appointment.evaluation_kind.value if appointment.evaluation_kind else None,
            aac_device="sgd" if appointment.session_type == SessionType.AAC_TREATMENT else None,
            setting=appointment.setting.value, clinician_id=appointment.clinician.id, started_at=started,
            stopped_at=stopped, heartbeat_at=None, manual_time=False, group_rationale=appointment.group_rationale,
            created_at=started - timedelta(minutes=2), updated_at=stopped,
        )
        appointment.session_id = session_id
        appointment.segments = segments
        self.counts.sessions += 1

    def _trials(self, participant_id: str, goal: GoalState, progress: float, count: int, seq: int,
                start: datetime) -> tuple[list[dict[str, Any]], int, int, int, CueLevel]:
        """Tallies for one goal; accuracy and independence rise with ``progress`` (0 at baseline, 1 at the end)."""
        rng = self.rng
        template = goal.template
        expected = template.baseline + (template.target + 8 - template.baseline) * progress
        chance = min(97.0, max(5.0, expected + rng.gauss(0, 7))) / 100
        weights = (0.05 + 0.6 * progress, 0.25 + 0.15 * progress, 0.1 + 0.4 * (1 - progress),
                   0.02 + 0.4 * (1 - progress) ** 2)
        cues = rng.choices(_CUES, weights, k=count)
        rows = []
        correct = tallied = 0
        cue_counts = dict.fromkeys(_CUES, 0)
        at = start
        for cue in cues:
            if rng.random() < 0.02:  # a mis-keyed tally, voided with undo
                seq += 1
                rows.append({"id": self.new_id(at), "participant_id": participant_id, "goal_id": goal.id, "seq": seq,
                             "result": TrialResult.INCORRECT.value, "cue_level": cue.value, "recorded_at": at,
                             "voided_at": at + timedelta(seconds=4)})
                at += timedelta(seconds=6)
            roll = rng.random()
            if roll < chance:
                result = TrialResult.CORRECT
                correct += 1
            elif roll < chance + (1 - chance) * 0.12:
                result = TrialResult.NO_RESPONSE
            else:
                result = TrialResult.INCORRECT
            seq += 1
            tallied += 1
            cue_counts[cue] += 1
            rows.append({"id": self.new_id(at), "participant_id": participant_id, "goal_id": goal.id, "seq": seq,
                         "result": result.value, "cue_level": cue.value, "recorded_at": at, "voided_at": None})
            at += timedelta(seconds=rng.randrange(20, 75))
        dominant = max(_CUES, key=lambda level: cue_counts[level])
        return rows, seq, correct, tallied, dominant

    def _time_line(self, appointment: Appointment) -> str:
        parts = ", ".join(f"{content.AREA_WORDS.get(area, area.value)} {minutes} min"
                          for area, minutes in appointment.area_minutes)
        start = datetime.combine(appointment.day, appointment.start)
        stop = start + timedelta(minutes=appointment.minutes)
        return (f"Session {start:%H:%M}-{stop:%H:%M}; total treatment time {appointment.minutes} min "
                f"({parts}).")

    def _evaluation_note(self, appointment: Appointment, patient: PatientState) -> dict[str, str]:
        profile = patient.profile
        plan = patient.plan_on(appointment.day)
        referral = f"Referred by {plan.physician}" if plan and plan.physician else "Referred by family/school team"
        treatment = [f"{description} ({code})" for code, description, role in profile.diagnoses
                     if role == DiagnosisRole.TREATMENT]
        kind = appointment.evaluation_kind
        return {
            "subjective": f"{referral} for a {', '.join(content.AREA_WORDS.get(a, a.value) for a in profile.areas)} "
                          f"evaluation. {self.rng.choice(profile.subjective).format(first=patient.first_name)}",
            "objective": (content.EVALUATION_FINDINGS.get(kind, "Standardized and informal measures completed.")
                          if kind else "Standardized and informal measures completed.")
                         + " " + self._time_line(appointment),
            "assessment": "Results support the diagnosis of " + "; ".join(treatment)
                          + ". Prognosis good given family support and stimulability.",
            "plan": f"Recommend skilled treatment {profile.frequency} for 12 weeks; goals written; plan of care "
                    "sent to the physician for certification.",
        }

    def add_participation(self, appointment: Appointment, patient: PatientState) -> None:
        """The patient's part of ``appointment``: note, techniques, goals, tallies and (if signed) signature."""
        if appointment.session_id is None:
            self._build_session(appointment)
        rng = self.rng
        rows = self.rows
        began = appointment.segments[0].started_at
        participant_id = self.new_id(began)
        session_id = appointment.session_id
        profile = patient.profile
        status = SessionStatus.SIGNED if appointment.signed else SessionStatus.DRAFT
        participant_row = rows.add(SessionParticipant, id=participant_id, session_id=session_id,
                                   patient_id=patient.id, status=status.value,
                                   distinct_service_note=appointment.distinct_service_note,
                                   rehabilitative=profile.rehabilitative)
        self.counts.participants += 1
        if appointment.signed:
            self.counts.signed += 1
        else:
            self.counts.drafts += 1

        techniques: list[str] = []
        goal_ids: list[str] = []
        trials: list[dict[str, Any]] = []
        if appointment.session_type.is_evaluation:
            note = self._evaluation_note(appointment, patient)
        else:
            patient.treatment_days.append(appointment.day)
            areas = [area for area, _minutes in appointment.area_minutes]
            plan = patient.plan_on(appointment.day)
            candidates = [goal for goal in (plan.goals if plan else []) if goal.area in areas]
            low, high = self.goals_per_session
            chosen = rng.sample(candidates, min(len(candidates), rng.randint(low, high))) if candidates else []
            chosen.sort(key=lambda goal: plan.goals.index(goal))  # type: ignore[union-attr]
            progress = min(1.0, max(0.0, (appointment.day - patient.episode_start).days / 100))
            seq = 0
            at = began + timedelta(minutes=3)
            lines = []
            assessment_goal = None
            for goal in chosen:
                count = rng.randint(*self.trials_per_goal)
                goal_rows, seq, correct, tallied, cue = self._trials(participant_id, goal, progress, count, seq, at)
                trials.extend(goal_rows)
                at = goal_rows[-1]["recorded_at"] + timedelta(minutes=2)
                accuracy = round(100 * correct / tallied) if tallied else 0
                previous = goal.history[-1][1] if goal.history else goal.template.baseline
                goal.history.append((appointment.day, accuracy))
                lines.append(f"{goal.template.label}: {correct}/{tallied} ({accuracy}%) {CUE_PHRASES[cue]}.")
                goal_ids.append(goal.id)
                if assessment_goal is None:
                    assessment_goal = (goal, previous, accuracy, cue)
            for area in areas:
                pool = content.TECHNIQUES.get(area, ())
                techniques.extend(rng.sample(pool, min(len(pool), rng.randint(1, 3))))
            technique_text = ", ".join(_technique_words(t) for t in techniques)
            first = patient.first_name
            area_words = " and ".join(content.AREA_WORDS.get(area, area.value) for area in areas)
            if assessment_goal is not None:
                goal, previous, accuracy, cue = assessment_goal
                phrases = content.ASSESSMENT_GAINS if accuracy >= previous else content.ASSESSMENT_DIPS
                assessment = rng.choice(phrases).format(
                    first=first, area=area_words, label=goal.template.label, previous=previous,
                    accuracy=accuracy, cue=cue.value)
            else:
                assessment = f"{first} participated in {area_words} treatment; see objective measures."
            note = {
                "subjective": rng.choice(profile.subjective).format(first=first),
                "objective": " ".join(lines + ([f"Techniques: {technique_text}."] if technique_text else [])
                                      + [self._time_line(appointment)]),
                "assessment": assessment,
                "plan": rng.choice(content.PLAN_PHRASES).format(frequency=profile.frequency, area=area_words),
            }
            if appointment.group_rationale:
                note["assessment"] += " Group format supports carry-over with peers per the plan of care."
        if appointment.partial_note:
            note["assessment"] = note["plan"] = ""

        stopped = appointment.segments[-1].ended_at
        rows.add(SoapNote, id=self.new_id(stopped), participant_id=participant_id,
                 updated_at=stopped + timedelta(minutes=3), **note)
        for technique in techniques:
            rows.add(TechniqueUsed, id=self.new_id(began), participant_id=participant_id, technique_id=technique)
        for goal_id in goal_ids:
            rows.add(GoalAddressed, id=self.new_id(began), participant_id=participant_id, goal_id=goal_id)
        self.rows.tables[_NAMES[TrialRecord]].extend(trials)
        self.counts.trials += len(trials)

        if appointment.signed:
            clinician = appointment.clinician
            detail = SimpleNamespace(
                note=SimpleNamespace(**note),
                trials=[SimpleNamespace(**trial) for trial in trials],
                techniques=techniques,
                goal_ids=goal_ids,
                segments=appointment.segments,
                corrections=[],
                session=SimpleNamespace(**appointment.session_row),
                participant=SimpleNamespace(**participant_row),
            )
            signed_at = stopped + timedelta(minutes=rng.randrange(5, 120))
            rows.add(
                Signature, id=self.new_id(signed_at), participant_id=participant_id, clinician_id=clinician.id,
                signer_name=clinician.signer_name, credentials=clinician.credentials, signed_at=signed_at,
                content_hash=SessionRepository.content_hash(detail),  # type: ignore[arg-type]
            )

    def add_addendum(self, appointment: Appointment, patient_index: int, text: str) -> None:
        """An addendum to an already signed participant (written after the signature)."""
        participants = [row for row in self.rows.tables[_NAMES[SessionParticipant]]
                        if row["session_id"] == appointment.session_id]
        participant = participants[patient_index]
        clinician = appointment.clinician
        created = appointment.segments[-1].ended_at + timedelta(hours=20)
        self.rows.add(Addendum, id=self.new_id(created), participant_id=participant["id"],
                      author_clinician_id=clinician.id, author_name=f"{clinician.signer_name}, {clinician.credentials}",
                      text=text, created_at=created)

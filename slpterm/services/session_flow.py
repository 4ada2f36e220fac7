"""What the session screen shows and does, as plain Python over the store.

The screen stays thin: it turns keys into calls here and renders the returned views.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TYPE_CHECKING
from collections.abc import Iterable, Mapping, Sequence

from slpterm.clinical.objective import GoalTrials, draft_objective
from slpterm.clinical.tally import Trial, percent, tally, tally_by_cue
from slpterm.domain.clock import Clock
from slpterm.domain.vocab import SESSION_TYPES, CueLevel, DisorderArea, SessionType, TrialResult
from slpterm.store.errors import ValidationFailed

if TYPE_CHECKING:
    from slpterm.coding.model import CodingResult
    from slpterm.domain.billing_facts import BillingFacts
    from slpterm.services.carry_forward import CarriedForward, CarryForward
    from slpterm.clinical.catalogs import TechniqueCatalog
    from slpterm.domain.claim import Finding
    from slpterm.services.day_coding import DayCoder
    from slpterm.store.models import SoapNote, TrialRecord
    from slpterm.store.sessions import ParticipantDetail
    from slpterm.store.store import Store


PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
CUE_SHORT = {CueLevel.INDEPENDENT: "ind", CueLevel.MINIMAL: "min", CueLevel.MODERATE: "mod", CueLevel.MAXIMAL: "max"}
AREA_ORDER = [DisorderArea.LANGUAGE, DisorderArea.SPEECH_SOUND, DisorderArea.FLUENCY, DisorderArea.VOICE,
              DisorderArea.SWALLOWING, DisorderArea.COGNITION, DisorderArea.AAC, DisorderArea.HEARING,
              DisorderArea.AUDITORY_PROCESSING, DisorderArea.VOICE_PROSTHESIS]
TYPE_AREAS = {kind: facts.area for kind, facts in SESSION_TYPES.items() if facts.area is not None}


@dataclass(frozen=True)
class GoalLine:
    goal_id: str
    label: str
    area: str
    correct: int
    total: int
    by_cue: str  # e.g. "min 8/10 · ind 4/5"
    addressed: bool

    @property
    def accuracy(self) -> str:
        value = percent(self.correct, self.total)
        return "—" if value is None else f"{value}%"


@dataclass
class SessionView:
    participant_id: str
    session_id: str
    title: str
    banner: str
    signed: bool
    goal_lines: list[GoalLine]
    technique_choices: list[tuple[str, str]]
    techniques_checked: set[str]
    note: SoapNote
    addenda_text: str
    areas: list[DisorderArea] = field(default_factory=list)
    last_cue_level: str | None = None


@dataclass(frozen=True)
class TimerStatus:
    running: bool
    started: bool
    stopped: bool
    elapsed_seconds: int
    area: str | None
    started_at: datetime | None
    stopped_at: datetime | None
    minutes_by_area: dict[str, int]
    default_area: str | None = None  # for times entered by hand: the timer's area, else the plan's goals' (see time_edit_status)

    @property
    def text(self) -> str:
        minutes, seconds = divmod(self.elapsed_seconds, 60)
        clock = f"{minutes:02d}:{seconds:02d}"
        if not self.started:
            return f"⏱ {clock}  not started · ctrl+t starts the timer · ctrl+k enters times by hand"
        state = "● running" if self.running else ("■ stopped" if self.stopped else "‖ paused")

        def local(moment: datetime | None) -> str:
            return moment.astimezone().strftime("%H:%M") if moment else "—"

        areas = ", ".join(f"{area.replace('_', ' ')} {value}m" for area, value in self.minutes_by_area.items() if value)
        area = f" · area: {self.area.replace('_', ' ')} (F6 next)" if self.running and self.area else ""
        return f"⏱ {clock} {state}{area} · {local(self.started_at)}–{local(self.stopped_at)} · {areas or 'no minutes yet'}"


@dataclass(frozen=True)
class TimeEdit:
    """Times entered by hand (session documented afterwards) or minutes per area corrected."""

    start: datetime | None = None
    stop: datetime | None = None
    area: str | None = None
    corrections: dict[str, int] = field(default_factory=dict)
    reason: str = ""


@dataclass(frozen=True)
class SessionFacts:
    """What the correction dialog shows of an unsigned session."""

    session_type: str
    setting: str
    date_text: str
    evaluation_kind: str | None = None
    aac_device: str | None = None
    participants: list[tuple[str, str]] = field(default_factory=list)  # (participant id, name)
    patient_ids: list[str] = field(default_factory=list)  # of those participants
    signed: bool = False


@dataclass(frozen=True)
class SessionCorrection:
    """A correction of an unsigned session; each field group of the dialog fills its part."""

    facts: SessionFacts
    times: TimeEdit | None = None
    add_patient_ids: tuple[str, ...] = ()
    remove_participant_ids: tuple[str, ...] = ()
    reason: str = ""
    # Keyword arguments of ``store.billing_facts.record`` for the participant shown (None: unchanged).
    billing_facts: dict[str, object] | None = None


@dataclass(frozen=True)
class SignCheck:
    """What stops signing (``problems``) and the claim as the engine codes it: its findings carry
    the one severity the rules data give each fact (shown in ``coding_text``)."""

    problems: list[str]
    warnings: list[str]
    coding_text: str
    findings: tuple[Finding, ...] = ()
    # What is allowed but looks like a slip (slpterm.clinical.note_check): asked before signing.
    questions: list[str] = field(default_factory=list)

    @property
    def fixes(self) -> list[FixPlace]:
        """Where the findings are fixed (ctrl+f in the sign dialog)."""
        return fix_places(self.findings)


class FixPlace(StrEnum):
    """Where what a finding asks for is recorded."""

    BILLING_FACTS = "billing_facts"      # the session's billing-facts dialog
    COVERAGE = "coverage"                # the patient's primary coverage (member ID, payer)
    NEW_DIAGNOSIS = "new_diagnosis"      # a diagnosis added to the chart
    CHART = "chart"                      # the chart's diagnosis list (a code to correct or remove)
    PLAN = "plan"                        # the plan of care in force on the date of service (a new one if none)
    RECERTIFY = "recertify"              # a recertification of that plan
    PROGRESS_REPORT = "progress_report"  # the progress report of that plan
    CLINIC = "clinic"                    # Settings: the clinic as billing provider
    CLINICIAN = "clinician"              # Settings: the clinician
    TIMES = "times"                      # the session's times by hand (an unsigned session only)
    SESSION_FACTS = "session_facts"      # the session's correction dialog (an unsigned session only)
    FEES = "fees"                        # Settings: the fee schedule


FIX_LABELS: Mapping[FixPlace, str] = {
    FixPlace.BILLING_FACTS: "billing facts",
    FixPlace.COVERAGE: "coverage",
    FixPlace.NEW_DIAGNOSIS: "add a diagnosis",
    FixPlace.CHART: "the chart's diagnoses",
    FixPlace.PLAN: "plan of care",
    FixPlace.RECERTIFY: "recertify the plan",
    FixPlace.PROGRESS_REPORT: "progress report",
    FixPlace.CLINIC: "clinic settings",
    FixPlace.CLINICIAN: "clinician settings",
    FixPlace.TIMES: "times by hand",
    FixPlace.SESSION_FACTS: "correct the session",
    FixPlace.FEES: "fee schedule",
}

# Every finding whose fix is to record or correct something the user can enter, and where.
FINDING_FIXES: Mapping[str, FixPlace] = {
    "ncci-needs-distinct-service": FixPlace.BILLING_FACTS,
    "missing-hab-rehab": FixPlace.BILLING_FACTS,
    "audio-only-not-telehealth": FixPlace.BILLING_FACTS,
    "missing-member-id": FixPlace.COVERAGE,
    "no-diagnosis": FixPlace.NEW_DIAGNOSIS,
    "missing-medical-diagnosis": FixPlace.NEW_DIAGNOSIS,
    "missing-treatment-diagnosis": FixPlace.NEW_DIAGNOSIS,
    "diagnosis-companion-missing": FixPlace.NEW_DIAGNOSIS,
    "invalid-icd10": FixPlace.CHART,
    "icd10-not-billable": FixPlace.CHART,
    "excludes1-conflict": FixPlace.CHART,
    "no-plan-of-care": FixPlace.PLAN,
    "poc-not-started": FixPlace.PLAN,
    "poc-not-certified": FixPlace.PLAN,
    "poc-certification-pending": FixPlace.PLAN,
    "poc-certified-late": FixPlace.PLAN,
    "missing-certifying-npi": FixPlace.PLAN,
    "invalid-certifying-npi": FixPlace.PLAN,
    "frequency-exceeded": FixPlace.PLAN,
    "poc-expired": FixPlace.RECERTIFY,
    "poc-recert-needed": FixPlace.RECERTIFY,
    "progress-report-overdue": FixPlace.PROGRESS_REPORT,
    "progress-report-due": FixPlace.PROGRESS_REPORT,
    "invalid-billing-npi": FixPlace.CLINIC,
    "missing-billing-tax-id": FixPlace.CLINIC,
    "invalid-billing-tax-id": FixPlace.CLINIC,
    "missing-billing-address": FixPlace.CLINIC,
    "invalid-rendering-npi": FixPlace.CLINICIAN,
    "no-time-recorded": FixPlace.TIMES,
    "missing-start-stop-times": FixPlace.TIMES,
    "stop-before-start": FixPlace.TIMES,
    "no-minutes-by-area": FixPlace.TIMES,
    "area-minutes-exceed-total": FixPlace.TIMES,
    "missing-evaluation-kind": FixPlace.SESSION_FACTS,
    "missing-aac-device-kind": FixPlace.SESSION_FACTS,
    "group-too-small": FixPlace.SESSION_FACTS,
    "missing-fee": FixPlace.FEES,
}
BILLING_FACT_FINDINGS = frozenset(code for code, place in FINDING_FIXES.items() if place is FixPlace.BILLING_FACTS)
# Places that change the session itself: a signed session's times are locked.
UNSIGNED_ONLY_PLACES = frozenset({FixPlace.TIMES, FixPlace.SESSION_FACTS})


def fix_places(findings: Iterable[Finding], *, signed: bool = False) -> list[FixPlace]:
    """Where the ``findings`` are fixed, in the order of the findings, each place once; the
    billing-facts dialog is always offered (a fact may be recorded before any finding asks)."""
    places = [FINDING_FIXES[finding.code] for finding in findings if finding.code in FINDING_FIXES]
    places.append(FixPlace.BILLING_FACTS)
    return [place for place in dict.fromkeys(places) if not (signed and place in UNSIGNED_ONLY_PLACES)]


def fix_hint(findings: Sequence[Finding], *, signed: bool = False, key: str = "ctrl+f") -> str:
    """The line that tells where the findings are fixed, e.g. "ctrl+f fixes: coverage · billing facts"."""
    places = fix_places(findings, signed=signed)
    if places == [FixPlace.BILLING_FACTS] and not any(f.code in BILLING_FACT_FINDINGS for f in findings):
        return f"{key}: billing facts (distinct service, habilitative/rehabilitative, audio-only)."
    return f"{key} fixes: " + " · ".join(FIX_LABELS[place] for place in places) + "."


@dataclass(frozen=True)
class FixTarget:
    """What a fix place opens for one participant: the records the form edits."""

    place: FixPlace
    participant_id: str
    patient_id: str
    plan: object | None = None        # the plan of care in force on the date of service
    coverage: object | None = None    # the primary coverage
    payer_kind: str | None = None
    diagnosis_codes: tuple[str, ...] = ()
    next_diagnosis_rank: int = 1
    next_coverage_rank: int = 1
    date_of_service: object | None = None


def fix_target(store: Store, participant_id: str, place: FixPlace) -> FixTarget:
    from slpterm.services.billing import plan_in_force

    detail = store.sessions.detail(participant_id)
    chart = store.patients.chart(detail.participant.patient_id)
    coverage = chart.primary_coverage
    return FixTarget(
        place=place, participant_id=participant_id, patient_id=chart.patient.id,
        plan=plan_in_force(chart, detail.session.date_of_service), coverage=coverage,
        payer_kind=coverage.payer_kind if coverage is not None else None,
        diagnosis_codes=tuple(d.code for d in chart.diagnoses if d.active),
        next_diagnosis_rank=max((d.rank for d in chart.diagnoses), default=0) + 1,
        next_coverage_rank=len(chart.coverages) + 1, date_of_service=detail.session.date_of_service)
@dataclass(frozen=True)
class StartChoices:
    """What the start dialog (F3) offers: ``(id, name)`` of the patient in view, ``(participant id,
    label)`` of unsigned drafts, ``(name, id)`` of clinicians, and the defaults."""

    patients: list[tuple[str, str]]
    drafts: list[tuple[str, str]]
    clinicians: list[tuple[str, str]]
    default_type: str = "individual_treatment"
    default_setting: str = "office"
    # The last signed session of the patient in view, offered as the new session's starting point.
    carry_forward: CarryForward | None = None



def _written_note(detail: ParticipantDetail) -> SoapNote:
    """The note of a detail read by ``SessionRepository.detail``, which always has one (empty when
    nothing was written; only the bulk billing read leaves notes out)."""
    assert detail.note is not None
    return detail.note


def _trial(record: TrialRecord) -> Trial:
    return Trial(TrialResult(record.result), CueLevel(record.cue_level))


class SessionFlow:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._techniques: TechniqueCatalog | None = None
        self._day_coders: dict[str, DayCoder] = {}

    # -- starting ---------------------------------------------------------------------------------
    def start(self, *, patient_ids: list[str], session_type: str, setting: str, date_text: str,
              clinician_id: str | None, evaluation_kind: str | None, aac_device: str | None = None) -> list[str]:
        """Create the session; returns participant ids. Raises ValidationFailed naming the field."""
        day = self._check_facts(patient_count=len(patient_ids), session_type=session_type, date_text=date_text,
                                clinician_id=clinician_id, evaluation_kind=evaluation_kind, aac_device=aac_device)
        kind = SessionType(session_type)
        _, participants = self.store.sessions.create(
            date_of_service=day, session_type=kind.value, setting=setting, patient_ids=patient_ids,
            clinician_id=clinician_id, evaluation_kind=evaluation_kind if kind.is_evaluation else None,
            aac_device=aac_device if kind.facts.aac_device else None,
        )
        return [participant.id for participant in participants]

    def _check_facts(self, *, patient_count: int, session_type: str, date_text: str, clinician_id: str | None,
                     evaluation_kind: str | None, aac_device: str | None) -> date:
        """The date of service, once the facts of a session (new or corrected) hold together;
        raises ValidationFailed naming each field that does not."""
        from slpterm.clinical.validation import parse_date

        problems: list[tuple[str, str]] = []
        try:
            day = parse_date(date_text, "Date of service")
        except ValueError as error:
            problems.append(("Date of service", str(error)))
            day = None
        if day is not None and day > self.clock.today():
            problems.append(("Date of service", f"{day.isoformat()} is in the future; sessions are documented on or "
                                                 "after the day they happen"))
        kind = SessionType(session_type)
        if kind.is_group and patient_count < 2:
            problems.append(("Patients", "a group session needs 2 or more patients; add members with ctrl+g"))
        if not kind.is_group and patient_count > 1:
            problems.append(("Type", "several patients make a group session; choose Group treatment"))
        if kind.is_evaluation and not evaluation_kind:
            problems.append(("Evaluation of", "choose what the evaluation assesses; it selects the code"))
        if not clinician_id:
            problems.append(("Clinician", "add yourself as clinician in Settings (F5) first"))
        if kind.facts.aac_device and aac_device not in ("sgd", "non_sgd"):
            problems.append(("AAC device", "say whether the device is speech-generating; it selects 92609 or 92606"))
        if problems:
            raise ValidationFailed(problems)
        assert day is not None  # a date that does not parse is one of the problems
        return day

    # -- correcting and discarding an unsigned session ------------------------------------------------
    def facts(self, participant_id: str) -> SessionFacts:
        detail = self.store.sessions.detail(participant_id)
        therapy_session = detail.session
        participants = self.store.sessions.participants(therapy_session.id)
        rows = self.store.caseload.details([p.patient_id for p in participants])
        return SessionFacts(
            session_type=therapy_session.session_type, setting=therapy_session.setting,
            date_text=therapy_session.date_of_service.isoformat(), evaluation_kind=therapy_session.evaluation_kind,
            aac_device=therapy_session.aac_device,
            participants=[(p.id, rows[p.patient_id].name if p.patient_id in rows else p.patient_id)
                          for p in participants],
            patient_ids=[p.patient_id for p in participants], signed=detail.signed)

    def correct(self, participant_id: str, correction: SessionCorrection) -> str:
        """Apply ``correction`` to the unsigned session of ``participant_id``; returns the participant
        to show next (the same one, or the first left when it was removed). Raises ValidationFailed."""
        detail = self.store.sessions.detail(participant_id)
        therapy_session = detail.session
        facts = correction.facts
        kept = len(self.store.sessions.participants(therapy_session.id)) - len(correction.remove_participant_ids)
        day = self._check_facts(patient_count=kept + len(correction.add_patient_ids),
                                session_type=facts.session_type, date_text=facts.date_text,
                                clinician_id=therapy_session.clinician_id, evaluation_kind=facts.evaluation_kind,
                                aac_device=facts.aac_device)
        kind = SessionType(facts.session_type)
        changes: dict[str, object] = {"session_type": kind.value, "setting": facts.setting, "date_of_service": day,
                   "evaluation_kind": facts.evaluation_kind if kind.is_evaluation else None,
                   "aac_device": facts.aac_device if kind.facts.aac_device else None}
        changed = {key: value for key, value in changes.items() if getattr(therapy_session, key) != value}
        left = self.store.sessions.correct_session(
            therapy_session.id, changes=changed, add_patient_ids=list(correction.add_patient_ids),
            remove_participant_ids=list(correction.remove_participant_ids), reason=correction.reason)
        if correction.times is not None:
            self.apply_time_edit(therapy_session.id, correction.times)
        shown = participant_id if participant_id in left else left[0]
        if correction.billing_facts is not None and shown == participant_id:
            self._record_billing_facts(participant_id, correction.billing_facts)
        return shown

    def _record_billing_facts(self, participant_id: str, wanted: dict[str, Any]) -> None:
        current = self.store.billing_facts.facts(participant_id)
        as_recorded = {"distinct_service_note": current.distinct_service_note,
                       "distinct_modifier": current.distinct_modifier,
                       "rehabilitative": None if current.rehabilitative_from_plan else current.rehabilitative,
                       "audio_only": current.audio_only}
        if {**as_recorded, **wanted} != as_recorded:  # the trail records a change, never a re-save
            self.store.billing_facts.record(participant_id, **wanted)
            self.recheck_billed_claim(participant_id)

    def discard(self, participant_id: str, reason: str = "") -> None:
        self.store.sessions.discard(participant_id, reason)

    def place_of_service(self, setting: str, day: date) -> str:
        """The place-of-service code and name a setting bills under on ``day`` ("" when none)."""
        from slpterm.domain.vocab import Setting
        from slpterm.services.billing import rulebook_for

        try:
            pos = rulebook_for(self.store).pos_for(Setting(setting), day)
        except Exception:  # noqa: BLE001 - a hint in a dialog; the claim lines say it again
            return ""
        return f"{pos.code} {pos.name}" if pos is not None else ""

    # -- point of care: every key is stored the moment it is pressed ---------------------------------
    def record_trial(self, participant_id: str, goal_id: str, result: str, cue_level: str) -> None:
        """One tally on a goal (correct, incorrect or no response, at a cue level), stored at once."""
        self.store.sessions.record_trial(participant_id, goal_id, result, cue_level, now=self.clock.now())

    def undo_last_trial(self, participant_id: str, goal_id: str | None = None) -> bool:
        """Void the last trial (on ``goal_id`` when given); False when there was none."""
        return self.store.sessions.undo_last_trial(participant_id, goal_id) is not None

    def toggle_goal(self, participant_id: str, goal_id: str) -> bool:
        """Mark the goal worked on (or not); returns whether it now is."""
        return self.store.sessions.toggle_goal(participant_id, goal_id)

    def toggle_technique(self, participant_id: str, technique_id: str) -> bool:
        return self.store.sessions.toggle_technique(participant_id, technique_id)

    def save_note(self, participant_id: str, **sections: str) -> None:
        """Store SOAP sections (``subjective``, ``objective``, ``assessment``, ``plan``) of an unsigned note."""
        self.store.sessions.save_note(participant_id, **sections)

    def session_id(self, participant_id: str) -> str:
        """The session ``participant_id`` belongs to (a group session has several participants)."""
        return self.store.sessions.detail(participant_id).session.id

    def heartbeat(self, session_id: str) -> None:
        """The running timer is still watched (a gap without one is time the laptop slept)."""
        self.store.sessions.heartbeat(session_id, self.clock.now())

    # -- billing facts ------------------------------------------------------------------------------
    def fix_target(self, participant_id: str, place: FixPlace) -> FixTarget:
        """The records the form that fixes ``place`` edits for the participant."""
        return fix_target(self.store, participant_id, place)

    def billing_facts(self, participant_id: str) -> BillingFacts:
        """The billing facts in force for the participant (the plan's default included)."""
        return self.store.billing_facts.facts(participant_id)

    def record_billing_facts(self, participant_id: str, **facts: Any) -> None:
        """Store the participant's billing facts (keyword arguments of ``BillingFactsInput.as_record_arguments``)."""
        self.store.billing_facts.record(participant_id, **facts)
        self.recheck_billed_claim(participant_id)

    def record_billing_facts_for_session(self, participant_id: str, **facts: Any) -> None:
        """The same billing facts for every patient of ``participant_id``'s session."""
        session_id = self.store.sessions.detail(participant_id).session.id
        for participant in self.store.sessions.participants(session_id):
            self.store.billing_facts.record(participant.id, **facts)
            self.recheck_billed_claim(participant.id)

    # -- what the start dialog offers -------------------------------------------------------------------
    def start_choices(self, patient_id: str | None) -> StartChoices:
        """The patient in view (when active), the unsigned drafts to resume, the clinicians, and the
        type and setting of the patient's last session as defaults."""
        unsigned = self.store.sessions.unsigned_drafts()
        wanted = ([patient_id] if patient_id else []) + [participant.patient_id for participant, _ in unsigned]
        rows = self.store.caseload.details(wanted)
        names = {row.patient_id: row.name for row in rows.values() if not row.archived}
        chosen = [(patient_id, names[patient_id])] if patient_id is not None and patient_id in names else []
        drafts = []
        for participant, therapy_session in unsigned:
            name = names.get(participant.patient_id, "archived patient")
            drafts.append((participant.id, f"{therapy_session.date_of_service.isoformat()}  {name}  "
                                           f"{therapy_session.session_type.replace('_', ' ')}"))
        last = self.store.sessions.for_patient(patient_id) if patient_id is not None and chosen else []
        return StartChoices(
            patients=chosen, drafts=drafts,
            clinicians=[(clinician.display_name, clinician.id) for clinician in self.store.clinic.clinicians()],
            default_type=last[0][1].session_type if last else "individual_treatment",
            default_setting=last[0][1].setting if last else "office",
            carry_forward=self.carry_forward_offer(patient_id) if last and patient_id is not None else None,
        )

    def carry_forward_offer(self, patient_id: str, leave_out: str | None = None) -> CarryForward | None:
        """The patient's last signed session as a starting point (None when there is none)."""
        from slpterm.services.carry_forward import last_signed

        return last_signed(self.store, patient_id, leave_out)

    def carry_forward(self, participant_id: str, carried: CarryForward) -> CarriedForward:
        """Start the unsigned draft from ``carried``: its goals (those on today's plan), techniques
        and Plan are stored in the draft, still editable; the cue levels are returned for the tally."""
        from slpterm.services.carry_forward import apply

        goals = {line.goal_id for line in self.view(participant_id).goal_lines}
        return apply(self.store, participant_id, carried, goals)

    # -- the view ---------------------------------------------------------------------------------
    def _catalog(self) -> TechniqueCatalog:
        """The techniques checklist, read once per flow (each tally redraws the view)."""
        if self._techniques is None:
            from slpterm.clinical.catalogs import load_techniques
            from slpterm.paths import clinic_rules_dir

            rules_dir = clinic_rules_dir()
            self._techniques = load_techniques(rules_dir if rules_dir.exists() else None)
        return self._techniques

    def view(self, participant_id: str) -> SessionView:
        store = self.store
        detail = store.sessions.detail(participant_id)
        chart = store.patients.chart(detail.participant.patient_id)
        therapy_session = detail.session
        from slpterm.services.billing import plan_in_force

        plan = plan_in_force(chart, therapy_session.date_of_service)
        goals = [goal for goal in (chart.goals_by_plan.get(plan.id, []) if plan else [])
                 if goal.status == "active" or goal.id in detail.goal_ids]
        session_area = TYPE_AREAS.get(SessionType(therapy_session.session_type))
        if session_area is not None:  # e.g. a swallowing session lists the swallowing goals first
            goals.sort(key=lambda goal: goal.disorder_area != session_area)
        live = [trial for trial in detail.trials if trial.voided_at is None]
        lines = []
        for goal in goals:
            trials = [_trial(t) for t in live if t.goal_id == goal.id]
            overall = tally(trials)
            by_cue = " · ".join(f"{CUE_SHORT[cue]} {part.correct}/{part.total}"
                                for cue, part in tally_by_cue(trials).items())
            lines.append(GoalLine(goal.id, goal.text, goal.disorder_area, overall.correct, overall.total,
                                  by_cue if len(tally_by_cue(trials)) > 1 else "", goal.id in detail.goal_ids))
        catalog = self._catalog()
        goal_areas = {goal.disorder_area for goal in goals} | {TYPE_AREAS.get(SessionType(therapy_session.session_type))}
        techniques = sorted(catalog.techniques,
                            key=lambda t: (t.area not in goal_areas, t.id not in detail.techniques))
        choices = [(t.id, t.name) for t in techniques]
        known = {t.id for t in techniques}
        choices += [(technique_id, technique_id) for technique_id in detail.techniques if technique_id not in known]
        patient = chart.patient
        clinician = next((c for c in store.clinic.clinicians(include_inactive=True)
                          if c.id == therapy_session.clinician_id), None)
        group = f" · group of {detail.group_size} (F11 next)" if detail.group_size > 1 else ""
        status = "SIGNED " + detail.signature.signed_at.astimezone().strftime("%Y-%m-%d %H:%M") + \
            f" by {detail.signature.signer_name}, {detail.signature.credentials} · locked; F10 adds an addendum" \
            if detail.signature else "draft · saved as you go"
        banner = (f"{patient.first_name} {patient.last_name} · {therapy_session.session_type.replace('_', ' ')} · "
                  f"{therapy_session.setting.replace('_', ' ')} · {therapy_session.date_of_service.isoformat()} · "
                  f"{clinician.display_name if clinician else 'no clinician'}{group}\n{status}")
        addenda = "\n".join(
            f"Addendum {a.created_at.astimezone().strftime('%Y-%m-%d %H:%M')} by {a.author_name}: {a.text}"
            for a in detail.addenda
        )
        first_areas = list(dict.fromkeys(
            [DisorderArea(goal.disorder_area) for goal in goals]
            + ([TYPE_AREAS[SessionType(therapy_session.session_type)]]
               if SessionType(therapy_session.session_type) in TYPE_AREAS else [])
        ))
        areas = first_areas + [area for area in AREA_ORDER if area not in first_areas]
        return SessionView(
            participant_id=participant_id, session_id=therapy_session.id,
            title=f"{patient.last_name}, {patient.first_name}", banner=banner, signed=detail.signed,
            goal_lines=lines, technique_choices=choices, techniques_checked=set(detail.techniques),
            note=_written_note(detail), addenda_text=addenda, areas=areas,
            last_cue_level=live[-1].cue_level if live else None,
        )

    # -- timer ------------------------------------------------------------------------------------
    def timer_status(self, session_id: str) -> TimerStatus:
        from slpterm.clinical import timer
        from slpterm.services.billing import clock_segments, minutes_by_area

        detail = self.store.sessions.timing(session_id)
        segments = clock_segments(detail)
        now = self.clock.now()
        heartbeat = detail.session.heartbeat_at
        running = timer.is_running(segments) and not timer.is_stale(segments, now, heartbeat)
        current = timer.open_segment(segments)
        return TimerStatus(
            running=running,
            started=bool(segments),
            stopped=detail.session.stopped_at is not None,
            elapsed_seconds=timer.elapsed_seconds(segments, now, last_seen_at=heartbeat),
            area=current.area.value if current is not None else None,
            started_at=detail.session.started_at,
            stopped_at=detail.session.stopped_at,
            minutes_by_area={area.value: value for area, value in minutes_by_area(detail, now).items()},
        )

    def suspend_if_stale(self, session_id: str) -> int | None:
        """After sleep or a long restart: stop counting at the last heartbeat; returns the minutes not counted."""
        from slpterm.clinical import timer
        from slpterm.services.billing import clock_segments

        detail = self.store.sessions.timing(session_id)
        check = timer.close_stale_segment(clock_segments(detail), self.clock.now(), detail.session.heartbeat_at)
        if check.suspended is None:
            return None
        assert detail.session.heartbeat_at is not None  # only a heartbeat makes a segment stale
        self.store.sessions.pause_timer(session_id, detail.session.heartbeat_at)
        return int(check.suspended.total_seconds() // 60)

    def time_edit_status(self, session_id: str) -> TimerStatus:
        """The timer status with the area that times entered by hand belong to by default: the
        timer's current or last area, else the area of the plan's goals or of the session type;
        None when nothing says (the user then chooses; never silently language)."""
        from dataclasses import replace

        status = self.timer_status(session_id)
        participant = self.store.sessions.participants(session_id)[0]
        detail = self.store.sessions.detail(participant.id)
        area = status.area or (detail.segments[-1].disorder_area if detail.segments else None)
        if area is None:
            view = self.view(participant.id)
            known = {line.area for line in view.goal_lines}
            session_area = TYPE_AREAS.get(SessionType(detail.session.session_type))
            area = next((a.value for a in view.areas if a.value in known or a == session_area), None)
        return replace(status, default_area=area)

    def _default_area(self, session_id: str) -> str:
        participant = self.store.sessions.participants(session_id)[0]
        view = self.view(participant.id)
        detail = self.store.sessions.detail(participant.id)
        if detail.segments:
            return detail.segments[-1].disorder_area
        return view.areas[0].value if view.areas else DisorderArea.LANGUAGE.value

    def toggle_timer(self, session_id: str) -> None:
        status = self.timer_status(session_id)
        if status.running:
            self.store.sessions.pause_timer(session_id, self.clock.now())
        else:
            self.store.sessions.start_timer(session_id, self._default_area(session_id), self.clock.now())

    def stop_timer(self, session_id: str) -> None:
        self.store.sessions.pause_timer(session_id, self.clock.now(), stop=True)

    def next_area(self, session_id: str) -> str:
        status = self.timer_status(session_id)
        participant = self.store.sessions.participants(session_id)[0]
        areas = [area.value for area in self.view(participant.id).areas]
        current = status.area or self._default_area(session_id)
        following = areas[(areas.index(current) + 1) % len(areas)] if current in areas else areas[0]
        if status.running:
            self.store.sessions.start_timer(session_id, following, self.clock.now())
        return following

    def apply_time_edit(self, session_id: str, edit: TimeEdit) -> None:
        if edit.start is not None and edit.stop is not None:
            self.store.sessions.set_manual_time(session_id, edit.area or self._default_area(session_id),
                                                edit.start, edit.stop)
        for area, minutes in edit.corrections.items():
            self.store.sessions.correct_area_minutes(session_id, area, minutes, edit.reason)

    # -- note -------------------------------------------------------------------------------------
    def draft_objective(self, participant_id: str) -> str:
        detail = self.store.sessions.detail(participant_id)
        view = self.view(participant_id)
        live = [t for t in detail.trials if t.voided_at is None]
        goals = []
        for number, line in enumerate(view.goal_lines, start=1):
            trials = [_trial(t) for t in live if t.goal_id == line.goal_id]
            if trials or line.addressed:
                goals.append(GoalTrials(label=line.label, trials=trials, number=number))
        status = self.timer_status(view.session_id)
        total = sum(status.minutes_by_area.values())
        return draft_objective(goals, total, status.minutes_by_area)

    def phrases(self, section: str, participant_id: str | None = None) -> list[str]:
        """The section's reusable phrases, with what the session already knows filled in."""
        from slpterm.clinical.catalogs import SoapSection, load_phrases
        from slpterm.paths import clinic_rules_dir

        rules_dir = clinic_rules_dir()
        phrases = load_phrases(rules_dir if rules_dir.exists() else None)
        values = self._phrase_values(participant_id) if participant_id else {}
        return [PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), phrase.text)
                for phrase in phrases.get(SoapSection(section), [])]

    def _phrase_values(self, participant_id: str) -> dict[str, str]:
        from slpterm.services.billing import plan_in_force

        detail = self.store.sessions.detail(participant_id)
        chart = self.store.patients.chart(detail.participant.patient_id)
        values = {"patient": chart.patient.first_name or chart.patient.last_name}
        plan = plan_in_force(chart, detail.session.date_of_service)
        if plan is not None and plan.frequency:
            values["frequency"] = plan.frequency
        if plan is not None and plan.certifying_physician_name:
            values["physician"] = plan.certifying_physician_name
        minutes = sum(self.timer_status(detail.session.id).minutes_by_area.values())
        if minutes:
            values["minutes"] = str(minutes)
        today = tally(_trial(t) for t in detail.trials if t.voided_at is None)
        if today.accuracy is not None:
            values["after"] = str(today.accuracy)
        for participant, earlier in self.store.sessions.for_patient(chart.patient.id):
            if participant.id == participant_id or earlier.date_of_service > detail.session.date_of_service:
                continue
            before = tally(_trial(t) for t in self.store.sessions.detail(participant.id).trials
                           if t.voided_at is None)
            if before.accuracy is not None:
                values["before"] = str(before.accuracy)
                break
        return values

    # -- signing ----------------------------------------------------------------------------------
    def sign_check(self, participant_id: str) -> SignCheck:
        detail = self.store.sessions.detail(participant_id)
        chart = self.store.patients.chart(detail.participant.patient_id)
        kind = SessionType(detail.session.session_type)
        status = self.timer_status(detail.session.id)
        problems = []
        if status.running:
            problems.append("The timer is still running: stop it with ctrl+e.")
        if not status.minutes_by_area:
            problems.append("No time is recorded: run the timer (ctrl+t) or enter the times by hand (ctrl+k).")
        if not detail.techniques and not kind.is_evaluation:
            problems.append("No intervention is checked: tick the techniques used (F8, space).")
        if not [d for d in chart.diagnoses if d.active]:
            problems.append("The patient has no diagnosis: add one in the chart.")
        treatment = not kind.is_evaluation
        if treatment and not detail.goal_ids:
            problems.append("No goal was addressed: tally trials on a goal or mark it worked on (F7, space).")
        note = _written_note(detail)
        if not (note.subjective.strip() or note.objective.strip() or note.assessment.strip() or note.plan.strip()):
            problems.append("The note is empty: write at least the Objective (ctrl+d drafts it).")
        for section in ("subjective", "objective", "assessment", "plan"):
            blanks = sorted(set(PLACEHOLDER.findall(getattr(note, section))))
            if blanks:
                problems.append(f"The {section.capitalize()} still has blanks to fill in: "
                                + ", ".join("{" + blank + "}" for blank in blanks) + ".")
        clinician = next((c for c in self.store.clinic.clinicians(include_inactive=True)
                          if c.id == detail.session.clinician_id), None)
        if clinician is None:
            problems.append("No clinician is recorded for the session: add yourself in Settings (F5).")
        result = self.coding_result(participant_id)
        findings = tuple(result.findings) if result is not None else ()
        questions = self._note_questions(participant_id, detail, status, treatment)
        return SignCheck(problems, [], self.coding_text(participant_id, result, signed=detail.signed), findings, questions)

    def _note_questions(self, participant_id: str, detail: ParticipantDetail, status: TimerStatus,
                        treatment: bool) -> list[str]:
        from slpterm.clinical.note_check import NOTE_SECTIONS, TalliedGoal, note_questions

        goals = [TalliedGoal(line.label, line.total, line.addressed) for line in self.view(participant_id).goal_lines]
        sections = {name: getattr(detail.note, name) for name in NOTE_SECTIONS}
        return note_questions(sections, goals, sum(status.minutes_by_area.values()), treatment=treatment)

    def sign(self, participant_id: str) -> None:
        check = self.sign_check(participant_id)
        if check.problems:
            raise ValidationFailed([("Signing", problem) for problem in check.problems])
        clinician_id = self.store.sessions.detail(participant_id).session.clinician_id
        assert clinician_id is not None  # sign_check refuses a session without its clinician
        self.store.sessions.sign(participant_id, clinician_id, now=self.clock.now())

    def add_addendum(self, participant_id: str, text: str) -> str | None:
        """Store an addendum; when the session was billed and now codes differently, its claim is
        marked "needs replacement" and the notice offering the replacement is returned."""
        clinicians = self.store.clinic.clinicians()
        author = clinicians[0] if clinicians else None
        self.store.sessions.add_addendum(participant_id, text, author.display_name if author else self.store.actor,
                                         author.id if author else None)
        return self.recheck_billed_claim(participant_id)

    def recheck_billed_claim(self, participant_id: str) -> str | None:
        """After a change to a signed session: the notice offering a replacement when its billed claim
        no longer matches (the register marks the claim), else None."""
        from slpterm.services.claims import needs_replacement_notice, recheck_billed_claim

        try:
            number = recheck_billed_claim(self.store, participant_id, self.clock.today())
        except Exception:  # noqa: BLE001 - the change itself is saved; the check must not take it back
            return None
        return needs_replacement_notice(number) if number else None

    def next_member(self, participant_id: str) -> str | None:
        detail = self.store.sessions.detail(participant_id)
        members = [p.id for p in self.store.sessions.participants(detail.session.id)]
        if len(members) < 2:
            return None
        return members[(members.index(participant_id) + 1) % len(members)]

    # -- coding -----------------------------------------------------------------------------------
    def code(self, participant_id: str) -> CodingResult:
        """The claim lines and findings of the participant's session as the engine codes it today."""
        from slpterm.services.billing import BillingService

        return BillingService(self.store, self.clock.today()).code_participant(participant_id)

    def coding_result(self, participant_id: str) -> CodingResult | None:
        try:
            return self.code(participant_id)
        except Exception:  # noqa: BLE001 - the panel must never take the screen down
            return None

    def panel_coding_text(self, participant_id: str, *, fresh: bool = False, signed: bool | None = None) -> str:
        """:meth:`coding_text` for the open session's panel at the cost of its day: the chart,
        history and year-to-date amount are read when the session opens and again with ``fresh``
        (see ``DayCoder``); each tally re-codes only the day."""
        from slpterm.services.day_coding import DayCoder

        try:
            today = self.clock.today()
            coder = self._day_coders.get(participant_id)
            if coder is None or coder.today != today:
                coder = self._day_coders[participant_id] = DayCoder(self.store, participant_id, today)
            elif fresh:
                coder.refresh()
            result = coder.code()
        except Exception as error:  # noqa: BLE001 - the panel must never take the screen down
            self._day_coders.pop(participant_id, None)
            return f"Coding is unavailable: {error}"
        return self.coding_text(participant_id, result, signed=signed)

    def coding_text(self, participant_id: str, result: CodingResult | None = None, signed: bool | None = None) -> str:
        """The claim lines and findings as the coding panel shows them; ``signed`` (read when not
        given) leaves out the fixes a signed session cannot take."""
        from slpterm.services.billing import BillingService

        if result is None:
            try:
                result = BillingService(self.store, self.clock.today()).code_participant(participant_id)
            except Exception as error:  # noqa: BLE001 - the panel must never take the screen down
                return f"Coding is unavailable: {error}"
        lines = [
            f"{line.code}{'-' + '-'.join(line.modifiers) if line.modifiers else ''} × {line.units}  "
            f"${line.charge:.2f}  POS {line.place_of_service}  dx {','.join(map(str, line.diagnosis_pointers))}"
            for line in result.lines
        ] or ["No billable lines yet."]
        marks = {"error": "✗", "warning": "!", "info": "·"}
        findings = [f"{marks.get(f.severity.value, '·')} {f.message} → {f.fix}" for f in result.findings]
        if any(f.code in FINDING_FIXES for f in result.findings):
            if signed is None:
                signed = self.store.sessions.detail(participant_id).signed
            findings.append(fix_hint(result.findings, signed=signed))
        return "Claim lines: " + " | ".join(lines) + ("\n" + "\n".join(findings) if findings else "\nNo findings.")

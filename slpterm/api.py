"""slpterm's public Python API, for clinics that script or integrate.

Open a data folder with :func:`open_clinic` and work through the returned :class:`Clinic`: set the
clinic up, add clinicians and patient charts, run sessions (start, time, tally, note, sign,
correct), then code, scrub and export them. The names here are stable; everything else in the
``slpterm`` package may change between versions.

This is a thin layer over the same services the screens and the command line use
(:mod:`slpterm.services`), so what a script writes is checked, audited and stored exactly as if it
had been typed: a refused value raises :class:`ValidationFailed` naming each field and its fix,
and a signed note stays locked (correct it with an addendum).

Importing remittances (835 files) is not part of slpterm yet, so it is not part of this API.

Example::

    from slpterm.api import open_clinic

    with open_clinic("~/clinic-data") as clinic:
        for encounter in clinic.encounters(date_from=date(2026, 11, 1)):
            print(encounter.date_of_service, encounter.patient.name, encounter.total_charge)

A worked example from an empty folder to an exported claim is in docs/api.md.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from slpterm.domain.clock import Clock
from slpterm.store.errors import (
    LockedRecord,
    NotFound,
    PassphraseRequired,
    StoreError,
    ValidationFailed,
)

if TYPE_CHECKING:
    from slpterm.coding.model import CodingResult
    from slpterm.domain.encounter import EncounterRecord
    from slpterm.export.batch import ExportOutcome, Selection
    from slpterm.services.clinic import ClinicServices
    from slpterm.services.session_flow import (
        SessionCorrection,
        SessionFacts,
        SessionView,
        SignCheck,
        TimerStatus,
    )
    from slpterm.store.patients import PatientChart

__all__ = [
    "Clinic",
    "LockedRecord",
    "NotFound",
    "PassphraseRequired",
    "StoreError",
    "ValidationFailed",
    "open_clinic",
]


def open_clinic(data_dir: str | Path, passphrase: str | None = None, *, clock: Clock | None = None) -> Clinic:
    """Open (or create) the slpterm data folder ``data_dir``.

    ``passphrase`` is needed when the data file is encrypted (:class:`PassphraseRequired` says so
    otherwise). ``clock`` fixes "now" (for tests and back-dated scripts); the real clock by default.
    Close the clinic when done, or use it as a context manager.
    """
    from slpterm.services.clinic import build_services
    from slpterm.store import open_store

    store = open_store(Path(data_dir).expanduser(), passphrase)
    try:
        services = build_services(store, clock)
        services.clinic.act_as_first_clinician()
        services.security.opened("api")
    except BaseException:
        store.close()
        raise
    return Clinic(services)


class Clinic:
    """One open data folder. Ids are the strings the methods return; dates are ``datetime.date``."""

    def __init__(self, services: ClinicServices) -> None:
        self._services = services

    # -- open and close ---------------------------------------------------------------------------
    def close(self) -> None:
        """Write the audit trail's anchor and close the data file."""
        self._services.close()

    def __enter__(self) -> Clinic:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    # -- the clinic and its clinicians ---------------------------------------------------------------
    def set_up(self, *, name: str, npi: str, tax_id: str, state: str = "", **fields: str) -> None:
        """Save the clinic (the billing provider on every claim). ``fields`` are the other clinic
        fields: ``address_line1``, ``city``, ``postal_code``, ``phone``, ``submitter_id``,
        ``receiver_id``... (as in Settings, F5)."""
        self._services.clinic.save_clinic(name=name, npi=npi, tax_id=tax_id, state=state.upper(), **fields)

    def add_clinician(self, *, first_name: str, last_name: str, npi: str, credentials: str = "CCC-SLP") -> str:
        """Add a clinician; the first one signs notes and is named in the audit trail."""
        from slpterm.domain.clinic_setup import role_for_credentials

        clinician = self._services.clinic.add_clinician(
            first_name=first_name, last_name=last_name, npi=npi, credentials=credentials,
            role=role_for_credentials(credentials).value)
        self._services.clinic.act_as_first_clinician()
        return clinician.id

    def clinicians(self) -> list[tuple[str, str]]:
        """``(id, display name)`` of every active clinician."""
        return [(clinician.id, clinician.display_name) for clinician in self._services.clinic.clinicians()]

    # -- charts ------------------------------------------------------------------------------------
    def add_patient(self, *, first_name: str, last_name: str, date_of_birth: dt.date | None = None,
                    **fields: object) -> str:
        """Create a patient; ``fields`` are ``sex``, ``external_id``, ``phone``, ``school``, ``grade``,
        ``guardian_name``, address fields... Returns the patient id."""
        return self._services.charts.create_patient(first_name=first_name, last_name=last_name,
                                                    date_of_birth=date_of_birth, **fields)

    def add_coverage(self, patient_id: str, *, payer_kind: str, payer_name: str, payer_id: str = "",
                     member_id: str = "", rank: int = 1, **fields: object) -> str:
        """Add insurance: ``payer_kind`` is ``medicare``, ``medicaid``, ``commercial``, ``school`` or
        ``self_pay``; ``rank`` 1 is primary."""
        return self._services.charts.add_coverage(patient_id, payer_kind=payer_kind, payer_name=payer_name,
                                                  payer_id=payer_id, member_id=member_id, rank=rank, **fields)

    def add_diagnosis(self, patient_id: str, *, code: str, role: str = "treatment", **fields: object) -> str:
        """Add an ICD-10-CM diagnosis (checked against the code set); ``role`` is ``treatment`` or
        ``medical``. The first added is the claim's first pointer."""
        rank = len(self.chart(patient_id).diagnoses) + 1
        return self._services.charts.add_diagnosis(patient_id, code=code, role=role, rank=rank, **fields)

    def add_plan(self, patient_id: str, *, start_date: dt.date, end_date: dt.date, frequency: str = "",
                 status: str = "draft", **fields: object) -> str:
        """Add a plan of care; a ``certified`` plan needs ``certified_on`` and the certifying
        physician (``certifying_physician_name``, ``certifying_physician_npi``)."""
        return self._services.charts.add_plan(patient_id, start_date=start_date, end_date=end_date,
                                              frequency=frequency, status=status, **fields)

    def add_goal(self, plan_id: str, *, disorder_area: str, text: str, rank: int = 1, **fields: object) -> str:
        """Add a goal to a plan of care: ``disorder_area`` such as ``speech_sound``, ``language`` or
        ``fluency``; ``rank`` orders the plan's goals; ``term``, ``parent_goal_id``,
        ``target_accuracy``, ``baseline``... in ``fields``."""
        return self._services.charts.add_goal(plan_id, disorder_area=disorder_area, text=text, rank=rank, **fields)

    def chart(self, patient_id: str) -> PatientChart:
        """The whole chart: ``patient``, ``coverages``, ``diagnoses``, ``plans``, ``goals_by_plan``, ``iep_services``."""
        return self._services.charts.chart(patient_id)

    def find_patients(self, text: str, limit: int = 8) -> list[tuple[str, str]]:
        """``(id, name)`` of active patients matching ``text`` as the caseload filter does."""
        return self._services.caseload.find_patients(text, set(), limit)

    # -- sessions ---------------------------------------------------------------------------------------
    def start_session(self, patient_ids: list[str], *, date_of_service: dt.date, session_type: str = "individual_treatment",
                      setting: str = "office", clinician_id: str | None = None, evaluation_kind: str | None = None,
                      aac_device: str | None = None) -> list[str]:
        """Start a session (a group session with two or more patients); returns one participant id
        per patient, in order. The first clinician runs it unless ``clinician_id`` says otherwise."""
        if clinician_id is None:
            clinicians = self._services.clinic.clinicians()
            clinician_id = clinicians[0].id if clinicians else None
        return self._services.session_flow().start(
            patient_ids=patient_ids, session_type=session_type, setting=setting,
            date_text=date_of_service.isoformat(), clinician_id=clinician_id, evaluation_kind=evaluation_kind,
            aac_device=aac_device)

    def set_times(self, participant_id: str, *, start: dt.datetime, stop: dt.datetime, area: str | None = None) -> None:
        """Record the session's time by hand (timezone-aware datetimes); ``area`` defaults to the plan's."""
        from slpterm.services.session_flow import TimeEdit

        flow = self._services.session_flow()
        flow.apply_time_edit(flow.session_id(participant_id), TimeEdit(start=start, stop=stop, area=area))

    def start_timer(self, participant_id: str) -> None:
        """Start (or resume) the session's timer now."""
        flow = self._services.session_flow()
        session_id = flow.session_id(participant_id)
        if not flow.timer_status(session_id).running:
            flow.toggle_timer(session_id)

    def stop_timer(self, participant_id: str) -> None:
        flow = self._services.session_flow()
        flow.stop_timer(flow.session_id(participant_id))

    def timer(self, participant_id: str) -> TimerStatus:
        """Elapsed time, minutes per area, running or not."""
        flow = self._services.session_flow()
        return flow.timer_status(flow.session_id(participant_id))

    def tally(self, participant_id: str, goal_id: str, result: str, cue_level: str = "independent") -> None:
        """One trial on a goal: ``result`` is ``correct``, ``incorrect`` or ``no_response``; ``cue_level``
        is ``independent``, ``minimal``, ``moderate`` or ``maximal``."""
        self._services.session_flow().record_trial(participant_id, goal_id, result, cue_level)

    def undo_tally(self, participant_id: str, goal_id: str | None = None) -> bool:
        """Void the last trial (on ``goal_id`` when given); False when there was none."""
        return self._services.session_flow().undo_last_trial(participant_id, goal_id)

    def techniques(self, participant_id: str) -> list[tuple[str, str]]:
        """``(technique id, label)`` of the interventions the note can list (the catalog in force)."""
        return self._services.session_flow().view(participant_id).technique_choices

    def use_technique(self, participant_id: str, technique_id: str, used: bool = True) -> None:
        """Tick (or untick) an intervention used in the session; signing needs at least one."""
        flow = self._services.session_flow()
        if (technique_id in flow.view(participant_id).techniques_checked) != used:
            flow.toggle_technique(participant_id, technique_id)

    def write_note(self, participant_id: str, *, subjective: str | None = None, objective: str | None = None,
                   assessment: str | None = None, plan: str | None = None) -> None:
        """Store SOAP sections of an unsigned note (a section left None keeps its text)."""
        sections = {"subjective": subjective, "objective": objective, "assessment": assessment, "plan": plan}
        self._services.session_flow().save_note(
            participant_id, **{name: text for name, text in sections.items() if text is not None})

    def draft_objective(self, participant_id: str) -> str:
        """The objective section drafted from the tallies and time (not stored: pass it to write_note)."""
        return self._services.session_flow().draft_objective(participant_id)

    def session(self, participant_id: str) -> SessionView:
        """What the session screen shows: goals with their tallies, the note, signed or not."""
        return self._services.session_flow().view(participant_id)

    def check_before_signing(self, participant_id: str) -> SignCheck:
        """What stops signing (``problems``), what looks like a slip (``questions``) and the coded claim."""
        return self._services.session_flow().sign_check(participant_id)

    def sign(self, participant_id: str) -> None:
        """Sign and lock the note (raises ValidationFailed with what stops it)."""
        self._services.session_flow().sign(participant_id)

    def add_addendum(self, participant_id: str, text: str) -> None:
        """Correct a signed note: the addendum is dated, signed by the first clinician and audited."""
        self._services.session_flow().add_addendum(participant_id, text)

    def correct_session(self, participant_id: str, correction: SessionCorrection) -> str:
        """Correct an unsigned session's facts, times or members (``SessionCorrection`` from
        :mod:`slpterm.services.session_flow`; start from :meth:`session_facts`). Returns the
        participant id to go on with."""
        return self._services.session_flow().correct(participant_id, correction)

    def session_facts(self, participant_id: str) -> SessionFacts:
        """The facts of an unsigned session as the correction starts from them."""
        return self._services.session_flow().facts(participant_id)

    def record_billing_facts(self, participant_id: str, *, distinct_service_note: str = "",
                             distinct_modifier: str | None = None, rehabilitative: bool | None = None,
                             audio_only: bool = False) -> None:
        """The billing facts a claim may need: a distinct service (59/XU...), habilitative or
        rehabilitative (None: from the plan of care), audio-only telehealth."""
        self._services.session_flow().record_billing_facts(
            participant_id, distinct_service_note=distinct_service_note, distinct_modifier=distinct_modifier,
            rehabilitative=rehabilitative, audio_only=audio_only)

    def discard_session(self, participant_id: str, reason: str = "") -> None:
        """Remove an unsigned draft for good (audited); a signed note cannot be discarded."""
        self._services.session_flow().discard(participant_id, reason)

    # -- coding, scrubbing, exporting ----------------------------------------------------------------------
    def code(self, participant_id: str) -> CodingResult:
        """The claim lines (CPT, modifiers, units, charge) and findings of one participant's session."""
        return self._services.session_flow().code(participant_id)

    def encounters(self, *, date_from: dt.date | None = None, date_to: dt.date | None = None,
                   include_exported: bool = False) -> list[EncounterRecord]:
        """Every signed encounter in the range (both ends included; None: unbounded), coded."""
        return self._services.exports.encounters(date_from, date_to, include_exported=include_exported)

    def scrub(self, format: str = "x12", *, date_from: dt.date | None = None, date_to: dt.date | None = None,
              include_exported: bool = False) -> Selection:
        """The claim scrubber: which encounters are ``ready`` for ``format`` and which are ``held``
        back, each with its reasons and fixes (nothing is written)."""
        encounters = self.encounters(date_from=date_from, date_to=date_to, include_exported=include_exported)
        return self._services.exports.scrub(encounters, format, include_exported=include_exported)

    def export(self, format: str, folder: str | Path, *, date_from: dt.date | None = None,
               date_to: dt.date | None = None, include_exported: bool = False) -> ExportOutcome:
        """Write the ready encounters as ``csv``, ``json``, ``fhir``, ``x12`` or ``superbill`` into
        ``folder`` and record the batch (``outcome.files``, ``outcome.held``; ``outcome.problems`` says
        why nothing was written)."""
        encounters = self.encounters(date_from=date_from, date_to=date_to, include_exported=include_exported)
        return self._services.exports.run(encounters, format, Path(folder).expanduser(), date_from=date_from,
                                          date_to=date_to, include_exported=include_exported)

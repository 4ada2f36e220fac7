"""Hand-built coded encounters (fictional people, valid NPIs) for the export tests.

Each scenario is one row of SCENARIOS: the claim lines are written out by hand so the export tests
do not depend on the coding engine.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from slpterm.coding.model import ClaimLine, CodingResult, Finding, Severity
from slpterm.domain.encounter import (
    ClinicInfo,
    ClinicianInfo,
    CoverageInfo,
    DiagnosisInfo,
    EncounterRecord,
    GoalResult,
    PatientInfo,
)
from slpterm.domain.identifiers import make_npi

CLINIC_NPI = make_npi("123456789")
ROSA_NPI = make_npi("198765432")
ADA_NPI = make_npi("155544433")
PHYSICIAN_NPI = make_npi("177788899")
DOS = date(2026, 3, 9)

CLINIC = ClinicInfo(
    name="Harbor Speech & Swallow", npi=CLINIC_NPI, tax_id="12-3456789", taxonomy_code="235Z00000X",
    address_line1="12 Pier Road", address_line2="Suite 4", city="Astoria", state="OR", postal_code="971031234",
    phone="503-555-0100", submitter_id="HARBOR01", submitter_contact="Rosa Fennimore",
    receiver_id="CLEARHOUSE1", receiver_name="Cascade Clearinghouse",
)
ROSA = ClinicianInfo(id="c-rosa", first_name="Rosa", last_name="Fennimore", credentials="CCC-SLP", npi=ROSA_NPI)
ADA = ClinicianInfo(id="c-ada", first_name="Ada", last_name="Moss", credentials="CF-SLP", npi=ADA_NPI)

MEDICARE = CoverageInfo(payer_name="Medicare Part B Oregon", payer_kind="medicare", payer_id="02402",
                        member_id="1EG4TE5MK73")
MEDICAID_CHILD = CoverageInfo(payer_name="Oregon Health Plan", payer_kind="medicaid", payer_id="OHP01",
                              member_id="MQ123456", subscriber_relationship="child",
                              subscriber_first_name="Hazel", subscriber_last_name="Quillfeather",
                              subscriber_date_of_birth=date(1988, 6, 1))
COMMERCIAL = CoverageInfo(payer_name="Blue Meadow Health", payer_kind="commercial", payer_id="BMH77",
                          member_id="BM-556677", group_number="G-100")

PATIENTS = {
    "walt": PatientInfo(id="p-walt", external_id="P-0001", first_name="Walter", last_name="Brightwater",
                        date_of_birth=date(1948, 2, 14), sex="M", address_line1="44 Spruce Lane", city="Astoria",
                        state="OR", postal_code="97103", phone="503-555-0142"),
    "milo": PatientInfo(id="p-milo", external_id="P-0002", first_name="Milo", last_name="Quillfeather",
                        date_of_birth=date(2018, 4, 9), sex="M", address_line1="7 Cedar Court", city="Warrenton",
                        state="OR", postal_code="97146"),
    "june": PatientInfo(id="p-june", external_id="P-0003", first_name="Juniper", last_name="Ashdown",
                        date_of_birth=date(2015, 9, 30), sex="F", address_line1="1 Harbor View", city="Astoria",
                        state="OR", postal_code="97103"),
}

GN = ("GN",)


def line(code, modifiers=GN, units=1, charge="145.00", pos="11", pointers=(1,), npi=ROSA_NPI, minutes=30,
         dos=DOS) -> ClaimLine:
    return ClaimLine(code=code, modifiers=tuple(modifiers), units=units, charge=Decimal(charge),
                     place_of_service=pos, diagnosis_pointers=tuple(pointers), rendering_npi=npi, minutes=minutes,
                     date_of_service=dos)


@dataclass(frozen=True)
class Scenario:
    patient: str
    coverage: CoverageInfo | None
    session_type: str
    setting: str
    pos: str
    diagnoses: tuple[tuple[str, str, str], ...]  # code, description, role
    lines: tuple[ClaimLine, ...]
    findings: tuple[Finding, ...] = ()
    goals: tuple[GoalResult, ...] = ()


SCENARIOS: dict[str, Scenario] = {
    "individual_92507_gn": Scenario(
        "walt", MEDICARE, "individual_treatment", "office", "11",
        (("I69.320", "Aphasia following cerebral infarction", "medical"), ("R47.01", "Aphasia", "treatment")),
        (line("92507", pointers=(1, 2)),),
        goals=(GoalResult("g1", "Name 20 common objects with minimal cues", "language", 8, 10),),
    ),
    "same_day_92507_92526": Scenario(
        "walt", MEDICARE, "individual_treatment", "office", "11",
        (("I69.391", "Dysphagia following cerebral infarction", "medical"),
         ("R13.12", "Dysphagia, oropharyngeal phase", "treatment"), ("R47.01", "Aphasia", "treatment")),
        (line("92507", pointers=(1, 3)), line("92526", charge="160.00", pointers=(1, 2))),
    ),
    "group_92508": Scenario(
        "milo", MEDICAID_CHILD, "group_treatment", "school", "03",
        (("F80.0", "Phonological disorder", "treatment"),),
        (line("92508", charge="60.00", pos="03"),),
        goals=(GoalResult("g2", "/r/ initial position at word level", "speech_sound", 14, 20),),
    ),
    "evaluation_92523_52": Scenario(
        "june", COMMERCIAL, "evaluation", "office", "11",
        (("F80.2", "Mixed receptive-expressive language disorder", "treatment"),),
        (line("92523", modifiers=("52",), charge="210.00", minutes=60),),
    ),
    "telehealth_95_pos10": Scenario(
        "walt", MEDICARE, "individual_treatment", "telehealth_home", "10",
        (("R47.01", "Aphasia", "treatment"),),
        (line("92507", modifiers=("GN", "95"), pos="10"),),
    ),
    "kx_over_threshold": Scenario(
        "walt", MEDICARE, "individual_treatment", "office", "11",
        (("R47.01", "Aphasia", "treatment"),),
        (line("92507", modifiers=("GN", "KX")),),
        findings=(Finding(Severity.WARNING, "kx-threshold", "Therapy amount over the KX threshold",
                          "Document medical necessity"),),
    ),
    "cognitive_97129_97130": Scenario(
        "walt", MEDICARE, "cognitive_treatment", "office", "11",
        (("I69.81", "Cognitive deficits following other cerebrovascular disease", "medical"),
         ("R41.841", "Cognitive communication deficit", "treatment")),
        # 38 timed minutes = 3 units by the 8-minute rule: 97129 x1 + 97130 x2
        (line("97129", charge="95.00", pointers=(2, 1), minutes=15),
         line("97130", units=2, charge="150.00", pointers=(2, 1), minutes=23)),
    ),
}

HELD_BACK = Scenario(
    "june", COMMERCIAL, "individual_treatment", "office", "11",
    (("F80.2", "Mixed receptive-expressive language disorder", "treatment"),),
    (line("92507", modifiers=()),),
    findings=(Finding(Severity.ERROR, "gn-missing", "GN modifier missing on 92507",
                      "Add GN: the payer requires it on SLP therapy lines", line=0),),
)


def make_encounter(scenario: Scenario | str, *, participant_id: str | None = None, session_id: str | None = None,
                   dos: date = DOS, patient: PatientInfo | None = None, clinician: ClinicianInfo = ROSA,
                   clinic: ClinicInfo = CLINIC, exported_before: bool = False, signed: bool = True,
                   name: str = "", start_hour: int = 16) -> EncounterRecord:
    if isinstance(scenario, str):
        name = name or scenario
        scenario = SCENARIOS[scenario]
    name = name or "scenario"
    session_id = session_id or f"s-{name}-{dos.isoformat()}"
    participant_id = participant_id or f"sp-{name}-{dos.isoformat()}"
    lines = tuple(replace(item, date_of_service=dos, rendering_npi=clinician.npi) for item in scenario.lines)
    coding = CodingResult(session_id=session_id, lines=lines, findings=scenario.findings,
                          diagnoses=tuple(code for code, _, _ in scenario.diagnoses),
                          place_of_service=scenario.pos)
    minutes = sum(item.minutes for item in lines)
    start = datetime(dos.year, dos.month, dos.day, start_hour, 0, tzinfo=timezone.utc)
    return EncounterRecord(
        participant_id=participant_id, session_id=session_id, date_of_service=dos,
        session_type=scenario.session_type, setting=scenario.setting, started_at=start, stopped_at=None,
        total_minutes=minutes, patient=patient or PATIENTS[scenario.patient], coverage=scenario.coverage,
        clinic=clinic, clinician=clinician,
        diagnoses=tuple(DiagnosisInfo(code, description, role) for code, description, role in scenario.diagnoses),
        coding=coding, goal_results=scenario.goals,
        signed_at=datetime(dos.year, dos.month, dos.day, 18, 0, tzinfo=timezone.utc) if signed else None,
        signer=f"{clinician.first_name} {clinician.last_name}, {clinician.credentials}",
        certifying_physician_name="Dr. Lena Ortiz", certifying_physician_npi=PHYSICIAN_NPI,
        exported_before=exported_before,
    )


def all_scenarios() -> list[EncounterRecord]:
    """One encounter per scenario, each on its own day so no two are merged."""
    return [make_encounter(name, dos=date(2026, 3, 2 + index)) for index, name in enumerate(SCENARIOS)]


@pytest.fixture
def scenarios() -> list[EncounterRecord]:
    return all_scenarios()


def stored_encounters(store, names: list[str], *, dos: date = DOS) -> list[EncounterRecord]:
    """Create the patients and sessions in a real store and return encounters carrying their ids."""
    clinician = store.clinic.add_clinician(first_name=ROSA.first_name, last_name=ROSA.last_name,
                                           credentials=ROSA.credentials, npi=ROSA.npi)
    patient_ids: dict[str, str] = {}
    encounters = []
    for index, name in enumerate(names):
        scenario = SCENARIOS[name]
        info = PATIENTS[scenario.patient]
        if scenario.patient not in patient_ids:
            patient_ids[scenario.patient] = store.patients.create(
                first_name=info.first_name, last_name=info.last_name, external_id=info.external_id,
                date_of_birth=info.date_of_birth).id
        patient = replace(info, id=patient_ids[scenario.patient])
        day = date.fromordinal(dos.toordinal() + index)
        session, (participant,) = store.sessions.create(
            date_of_service=day, session_type=scenario.session_type, setting=scenario.setting,
            patient_ids=[patient.id], clinician_id=clinician.id)
        encounters.append(make_encounter(name, participant_id=participant.id, session_id=session.id, dos=day,
                                         patient=patient))
    return encounters


def signed_clinic(store):
    """A clinic ready for 837Ps with one patient and two signed sessions on different days."""
    from datetime import timedelta

    store.clinic.save_clinic(name="Harbor Speech", npi="1234567893", tax_id="12-3456789", address_line1="1 Pier Rd",
                             city="Astoria", state="OR", postal_code="971031234", phone="+1 503 555 0100",
                             submitter_id="HARBOR01", submitter_contact="Rosa Fennimore", receiver_id="CLEAR1",
                             receiver_name="Clearing House")
    clinician = store.clinic.add_clinician(first_name="Rosa", last_name="Fennimore", npi="1234567893")
    patient = store.patients.create(first_name="Łukasz", last_name="Ødegård", external_id="P-77",
                                    date_of_birth=date(2018, 4, 9), sex="M", address_line1="9 Elm St",
                                    city="Astoria", state="OR", postal_code="97103")
    store.patients.add_coverage(patient_id=patient.id, payer_kind="medicaid", payer_name="Oregon Health Plan",
                                payer_id="OHP01", member_id="MQ123")
    store.patients.add_diagnosis(patient_id=patient.id, code="F80.0", role="treatment")
    plan = store.patients.add_plan(patient_id=patient.id, start_date=date(2026, 10, 1), end_date=date(2026, 12, 29),
                                   frequency="2x/week", certified_on=date(2026, 10, 3), status="certified",
                                   certifying_physician_npi="1234567893")
    goal = store.patients.add_goal(plan_id=plan.id, text="/r/ initial, word level")
    for day in (date(2026, 11, 2), date(2026, 11, 4)):
        therapy_session, (participant,) = store.sessions.create(
            date_of_service=day, session_type="individual_treatment", setting="office",
            patient_ids=[patient.id], clinician_id=clinician.id)
        start = datetime(day.year, day.month, day.day, 15, tzinfo=timezone.utc)
        store.sessions.set_manual_time(therapy_session.id, "speech_sound", start, start + timedelta(minutes=30))
        store.sessions.toggle_technique(participant.id, "ss.minimal_pairs")
        store.sessions.record_trial(participant.id, goal.id, "correct", "independent")
        store.sessions.save_note(participant.id, objective="1/1 trials")
        store.sessions.sign(participant.id, clinician.id)

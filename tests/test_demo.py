"""The demo clinic and the synthetic benchmark clinics, checked in real SQLite files."""

from __future__ import annotations

import sqlite3
import uuid
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from slpterm.demo import DemoTargetNotEmpty, generate_demo, generate_synthetic
from slpterm.domain.identifiers import ein_problem, npi_is_valid
from slpterm.domain.vocab import ClinicianRole, PayerKind, SessionType, Setting
from slpterm.store import LockedRecord, open_store
from slpterm.store.models import (
    AuditEvent,
    Clinic,
    Clinician,
    Coverage,
    Diagnosis,
    Goal,
    IepService,
    Patient,
    PlanOfCare,
    ProgressReport,
    SessionParticipant,
    Signature,
    TherapySession,
    TherapyYearAmount,
    TimeSegment,
    TrialRecord,
)

TODAY = date(2026, 3, 18)  # a Wednesday


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("demo")
    generate_demo(directory, today=TODAY)
    return directory


@pytest.fixture()
def store(demo_dir: Path):  # noqa: ANN201
    opened = open_store(demo_dir)
    yield opened
    opened.close()


def _all(store, model):  # noqa: ANN001, ANN202
    with store.db.read() as session:
        return list(session.exec(select(model)))


def _patient(store, first_name: str) -> Patient:  # noqa: ANN001
    return next(p for p in _all(store, Patient) if p.first_name == first_name)


def _sessions_of(store, patient_id: str) -> list[TherapySession]:  # noqa: ANN001
    return [session for _participant, session in store.sessions.for_patient(patient_id)]


def _treatment_days(store, patient_id: str) -> list[date]:  # noqa: ANN001
    return sorted({s.date_of_service for s in _sessions_of(store, patient_id)
                   if not SessionType(s.session_type).is_evaluation})


def _minutes(store, session_id: str) -> int:  # noqa: ANN001
    with store.db.read() as session:
        segments = session.exec(select(TimeSegment).where(TimeSegment.session_id == session_id)).all()
    return sum(round((s.ended_at - s.started_at).total_seconds() / 60) for s in segments)


# -- what the demo contains -------------------------------------------------------------------------

def test_summary_matches_the_file(tmp_path: Path) -> None:
    summary = generate_demo(tmp_path, today=TODAY)
    opened = open_store(tmp_path)
    try:
        assert summary.patients == len(_all(opened, Patient)) == 12
        assert summary.sessions == len(_all(opened, TherapySession))
        assert summary.trials == len(_all(opened, TrialRecord)) > 1000
        assert summary.signed + summary.drafts == summary.participants == len(_all(opened, SessionParticipant))
        assert summary.path == tmp_path / "slpterm.sqlite3" and summary.file_bytes > 0
    finally:
        opened.close()


def test_clinic_is_a_complete_billing_provider(store) -> None:  # noqa: ANN001
    (clinic,) = _all(store, Clinic)
    assert npi_is_valid(clinic.npi)
    assert ein_problem(clinic.tax_id) is None
    assert all((clinic.address_line1, clinic.city, clinic.state, clinic.postal_code))
    assert clinic.submitter_id and clinic.receiver_id and clinic.receiver_name


def test_clinicians_include_a_certified_slp_and_a_clinical_fellow(store) -> None:  # noqa: ANN001
    clinicians = _all(store, Clinician)
    assert 2 <= len(clinicians) <= 3
    assert all(npi_is_valid(c.npi) for c in clinicians)
    assert any(c.role == ClinicianRole.SLP and "CCC-SLP" in c.credentials for c in clinicians)
    assert any(c.role == ClinicianRole.CLINICAL_FELLOW and "CF-SLP" in c.credentials for c in clinicians)


def test_every_payer_kind_is_present(store) -> None:  # noqa: ANN001
    assert {coverage.payer_kind for coverage in _all(store, Coverage)} == {kind.value for kind in PayerKind}


@pytest.mark.parametrize("code", ["I69.391", "R47.01", "R13.12", "F80.0", "F80.2", "F98.5", "R49.0",
                                  "R41.841", "G80.0"])
def test_diagnosis_is_on_some_chart(store, code: str) -> None:  # noqa: ANN001
    assert code in {diagnosis.code for diagnosis in _all(store, Diagnosis)}


def test_stroke_patient_has_medical_and_treatment_diagnoses_and_same_day_sessions(store) -> None:  # noqa: ANN001
    wendell = _patient(store, "Wendell")
    roles = {d.code: d.role for d in _all(store, Diagnosis) if d.patient_id == wendell.id}
    assert roles == {"I69.391": "medical", "R47.01": "treatment", "R13.12": "treatment"}
    by_day = defaultdict(set)
    for session in _sessions_of(store, wendell.id):
        by_day[session.date_of_service].add(session.session_type)
    same_day = [day for day, kinds in by_day.items()
                if {SessionType.INDIVIDUAL_TREATMENT, SessionType.SWALLOWING_TREATMENT} <= kinds]
    assert len(same_day) >= 5
    chart = store.patients.chart(wendell.id)
    plan = chart.plans[-1]
    assert plan.certified_on is not None and npi_is_valid(plan.certifying_physician_npi)
    assert (plan.end_date - plan.start_date).days < 90
    areas = {goal.disorder_area for goal in chart.goals_by_plan[plan.id]}
    assert {"language", "swallowing"} <= areas


def test_phonological_child_works_on_r_at_word_level(store) -> None:  # noqa: ANN001
    pip = _patient(store, "Pip")
    chart = store.patients.chart(pip.id)
    assert chart.primary_coverage.payer_kind == PayerKind.MEDICAID
    goals = [g.text for goals in chart.goals_by_plan.values() for g in goals]
    assert any("/r/" in text and "initial position" in text for text in goals)


def test_school_student_has_iep_minutes_and_is_behind_this_week(store) -> None:  # noqa: ANN001
    juniper = _patient(store, "Juniper")
    assert juniper.school and juniper.grade
    chart = store.patients.chart(juniper.id)
    assert chart.primary_coverage.payer_kind == PayerKind.SCHOOL
    weekly = [s for s in chart.iep_services if s.period == "week" and s.kind == "direct"]
    assert weekly and weekly[0].minutes_required == 60
    week_start = TODAY - timedelta(days=TODAY.weekday())
    this_week = sum(_minutes(store, s.id) for s in _sessions_of(store, juniper.id) if s.date_of_service >= week_start)
    assert 0 < this_week < 60
    assert all(s.setting == Setting.SCHOOL for s in _sessions_of(store, juniper.id))


def test_group_sessions_have_three_participants_with_their_own_records(store) -> None:  # noqa: ANN001
    groups = [s for s in _all(store, TherapySession) if s.session_type == SessionType.GROUP_TREATMENT]
    assert len(groups) >= 6
    for group in groups:
        assert group.group_rationale
        participants = store.sessions.participants(group.id)
        assert len(participants) == 3
        details = [store.sessions.detail(p.id) for p in participants]
        assert len({p.patient_id for p in participants}) == 3
        assert all(d.note.subjective and d.note.objective for d in details)
        assert all(d.trials and d.goal_ids for d in details)
        goal_sets = [set(d.goal_ids) for d in details]
        assert not (goal_sets[0] & goal_sets[1]) and not (goal_sets[1] & goal_sets[2])


@pytest.mark.parametrize(("first_name", "session_type", "payer"), [
    ("Barnaby", SessionType.INDIVIDUAL_TREATMENT, PayerKind.COMMERCIAL),
    ("Marigold", SessionType.INDIVIDUAL_TREATMENT, PayerKind.MEDICARE),
    ("Rowan", SessionType.AAC_TREATMENT, PayerKind.MEDICAID),
    ("Cornelius", SessionType.COGNITIVE_TREATMENT, PayerKind.MEDICARE),
])
def test_patient_kinds_have_their_sessions(  # noqa: ANN001
    store, first_name: str, session_type: str, payer: str
) -> None:
    patient = _patient(store, first_name)
    assert store.patients.chart(patient.id).primary_coverage.payer_kind == payer
    sessions = [s for s in _sessions_of(store, patient.id) if s.session_type == session_type]
    assert len(sessions) >= 5


def test_cognitive_sessions_are_long_enough_for_timed_codes_and_by_telehealth(store) -> None:  # noqa: ANN001
    cornelius = _patient(store, "Cornelius")
    sessions = [s for s in _sessions_of(store, cornelius.id) if s.session_type == SessionType.COGNITIVE_TREATMENT]
    assert all(s.setting == Setting.TELEHEALTH_HOME for s in sessions)
    assert all(_minutes(store, s.id) >= 23 for s in sessions)  # 97129 plus at least one 97130


def test_a_language_only_evaluation_exists(store) -> None:  # noqa: ANN001
    evaluations = [s for s in _all(store, TherapySession) if s.evaluation_kind == "language_only"]
    assert evaluations and all(s.session_type == SessionType.EVALUATION for s in evaluations)


def test_sessions_have_realistic_time_segments(store) -> None:  # noqa: ANN001
    for session in _all(store, TherapySession):
        assert 20 <= _minutes(store, session.id) <= 90
        assert session.started_at < session.stopped_at


# -- the problems the caseload and scrubber should find ----------------------------------------------

def test_an_expired_plan_is_still_in_use(store) -> None:  # noqa: ANN001
    found = []
    for patient in _all(store, Patient):
        plans = store.patients.chart(patient.id).plans
        if patient.archived_at is None and plans and plans[-1].end_date < TODAY:
            later = [s for s in _sessions_of(store, patient.id) if s.date_of_service > plans[-1].end_date]
            if later:
                found.append(patient.first_name)
    assert found == ["Barnaby"]


def test_a_progress_report_is_overdue(store) -> None:  # noqa: ANN001
    cornelius = _patient(store, "Cornelius")
    chart = store.patients.chart(cornelius.id)
    reports = chart.progress_reports
    assert len(reports) == 1
    since = [day for day in _treatment_days(store, cornelius.id) if day > reports[-1].written_on]
    assert len(since) >= 10


def test_a_medicare_patient_has_other_providers_therapy_amount(store) -> None:  # noqa: ANN001
    amounts = _all(store, TherapyYearAmount)
    assert any(a.year == TODAY.year and a.other_providers_cents >= 150000 for a in amounts)
    wendell = _patient(store, "Wendell")
    assert any(a.patient_id == wendell.id for a in amounts)


def test_a_medicare_plan_is_uncertified_more_than_30_days_after_first_treatment(store) -> None:  # noqa: ANN001
    marigold = _patient(store, "Marigold")
    plan = store.patients.chart(marigold.id).plans[-1]
    assert plan.certified_on is None
    first_day = min(s.date_of_service for s in _sessions_of(store, marigold.id))
    assert (TODAY - first_day).days > 30


def test_one_insured_coverage_lacks_a_member_id(store) -> None:  # noqa: ANN001
    missing = [c for c in _all(store, Coverage) if not c.member_id and c.payer_kind != PayerKind.SELF_PAY]
    assert len(missing) == 1


def test_drafts_from_today_and_yesterday_show_on_the_caseload(store) -> None:  # noqa: ANN001
    drafts = store.sessions.unsigned_drafts()
    assert len(drafts) == 2
    assert {session.date_of_service for _participant, session in drafts} == {TODAY, TODAY - timedelta(days=1)}
    rows = store.caseload.rows()
    assert sum(row.drafts for row in rows) == 2
    assert len(rows) == 11  # the discharged patient is archived


# -- clinical records ---------------------------------------------------------------------------------

def test_every_signed_participant_has_a_signature_note_and_matching_hash(store) -> None:  # noqa: ANN001
    signatures = {s.participant_id: s for s in _all(store, Signature)}
    clinicians = {c.id: c for c in _all(store, Clinician)}
    signed = [p for p in _all(store, SessionParticipant) if p.status == "signed"]
    assert len(signed) > 150 and len(signatures) == len(signed)
    for participant in signed:
        detail = store.sessions.detail(participant.id)
        signature = signatures[participant.id]
        assert all((detail.note.subjective, detail.note.objective, detail.note.assessment, detail.note.plan))
        assert signature.credentials == clinicians[signature.clinician_id].credentials
        assert signature.signed_at > detail.session.stopped_at
        assert store.sessions.content_hash(detail) == signature.content_hash


def test_treatment_notes_carry_trials_techniques_and_goals(store) -> None:  # noqa: ANN001
    treatments = [p for p in _all(store, SessionParticipant)]
    checked = 0
    for participant in treatments:
        detail = store.sessions.detail(participant.id)
        if SessionType(detail.session.session_type).is_evaluation:
            assert not detail.trials
            continue
        assert detail.techniques and detail.goal_ids
        per_goal = defaultdict(int)
        for trial in detail.trials:
            if trial.voided_at is None:
                per_goal[trial.goal_id] += 1
        assert set(per_goal) == set(detail.goal_ids)
        assert all(10 <= count <= 30 for count in per_goal.values())
        assert [t.seq for t in detail.trials] == list(range(1, len(detail.trials) + 1))
        assert "%" in detail.note.objective and "min" in detail.note.objective
        checked += 1
    assert checked > 150


def test_techniques_come_from_the_shipped_catalog(store) -> None:  # noqa: ANN001
    from slpterm.clinical.catalogs import load_techniques
    from slpterm.store.models import TechniqueUsed

    catalog = load_techniques()
    used = {row.technique_id for row in _all(store, TechniqueUsed)}
    assert len(used) >= 20
    assert all(catalog.by_id(technique_id) is not None for technique_id in used)


def test_diagnoses_are_billable_codes_of_the_slp_list(store) -> None:  # noqa: ANN001
    import csv

    from slpterm.clinical.data import rules_path

    with rules_path("icd10_slp.csv").open(encoding="utf-8", newline="") as handle:
        billable = {row["code"] for row in csv.DictReader(handle) if row["billable"] == "true"}
    assert {d.code for d in _all(store, Diagnosis)} <= billable


def test_accuracy_improves_over_the_quarter(store) -> None:  # noqa: ANN001
    with store.db.read() as session:
        rows = session.connection().exec_driver_sql(
            "SELECT s.date_of_service, t.result FROM trialrecord t "
            "JOIN sessionparticipant p ON p.id = t.participant_id JOIN session s ON s.id = p.session_id "
            "WHERE t.voided_at IS NULL").fetchall()
    cutoff_early = (TODAY - timedelta(days=60)).isoformat()
    cutoff_late = (TODAY - timedelta(days=21)).isoformat()

    def accuracy(selected: list[str]) -> float:
        return sum(result == "correct" for result in selected) / len(selected)

    early = accuracy([result for day, result in rows if str(day) < cutoff_early])
    late = accuracy([result for day, result in rows if str(day) >= cutoff_late])
    assert late > early + 0.15


def test_goals_belong_to_the_plans_of_their_patients(store) -> None:  # noqa: ANN001
    plans = {p.id: p for p in _all(store, PlanOfCare)}
    goals = {g.id: g for g in _all(store, Goal)}
    participants = {p.id: p for p in _all(store, SessionParticipant)}
    for trial in _all(store, TrialRecord):
        plan = plans[goals[trial.goal_id].plan_id]
        assert plan.patient_id == participants[trial.participant_id].patient_id
    assert all(g.parent_goal_id for g in goals.values() if g.term == "short")


def test_signed_demo_records_are_locked(store) -> None:  # noqa: ANN001
    participant = next(p for p in _all(store, SessionParticipant) if p.status == "signed")
    goal_id = store.sessions.detail(participant.id).goal_ids
    with pytest.raises(LockedRecord):
        store.sessions.record_trial(participant.id, goal_id[0] if goal_id else "x", "correct", "independent")


def test_file_integrity_and_foreign_keys(demo_dir: Path) -> None:
    connection = sqlite3.connect(demo_dir / "slpterm.sqlite3")
    try:
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        connection.close()


def test_progress_reports_are_signed_with_goal_status(store) -> None:  # noqa: ANN001
    reports = _all(store, ProgressReport)
    assert len(reports) >= 5
    assert all(r.signed_at and r.signer_name and "%" in r.assessment for r in reports)


# -- the audit trail and reproducibility ------------------------------------------------------------

def test_one_audit_event_records_the_generation_and_the_chain_verifies(store) -> None:  # noqa: ANN001
    assert store.verify_audit_chain() == []
    events = _all(store, AuditEvent)
    assert [e.action for e in events] == ["demo-generate"]
    assert '"seed": 2026' in events[0].detail


def test_ids_are_uuids(store) -> None:  # noqa: ANN001
    for patient in _all(store, Patient):
        assert str(uuid.UUID(patient.id)) == patient.id


def _dump(directory: Path) -> dict[str, list[tuple]]:
    connection = sqlite3.connect(directory / "slpterm.sqlite3")
    try:
        tables = [name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name != 'auditevent' ORDER BY name")]
        dump = {table: sorted(connection.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)
                for table in tables}
        # Every data file has an identity of its own (so one clinic's backup is told from another's).
        dump["appsetting"] = [row for row in dump["appsetting"] if row[0] != "data_file_identity"]
        return dump
    finally:
        connection.close()


def test_same_seed_and_day_give_the_same_clinic(tmp_path: Path, demo_dir: Path) -> None:
    generate_demo(tmp_path, today=TODAY)
    first, second = _dump(demo_dir), _dump(tmp_path)
    assert first["patient"] and first == second


def test_another_seed_gives_other_ids(tmp_path: Path, demo_dir: Path) -> None:
    generate_demo(tmp_path, today=TODAY, seed=7)
    assert {row[0] for row in _dump(tmp_path)["patient"]}.isdisjoint({row[0] for row in _dump(demo_dir)["patient"]})


def test_refuses_a_data_directory_that_already_has_a_clinic(demo_dir: Path) -> None:
    with pytest.raises(DemoTargetNotEmpty, match="empty data directory"):
        generate_demo(demo_dir, today=TODAY)


# -- synthetic clinics -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    directory = tmp_path_factory.mktemp("synthetic")
    return directory, generate_synthetic(directory, patients=200, sessions=2000, seed=3, today=TODAY)


def test_synthetic_clinic_has_the_requested_counts(synthetic) -> None:  # noqa: ANN001
    directory, summary = synthetic
    opened = open_store(directory)
    try:
        assert summary.patients == len(_all(opened, Patient)) == 200
        assert summary.sessions == len(_all(opened, TherapySession)) == 2000
        assert summary.participants == len(_all(opened, SessionParticipant))
        assert summary.trials == len(_all(opened, TrialRecord)) > 10000
        assert summary.signed == len(_all(opened, Signature))
        assert summary.drafts == summary.participants - summary.signed > 0
        assert opened.verify_audit_chain() == []
        assert [e.action for e in _all(opened, AuditEvent)] == ["synthetic-generate"]
        assert len(opened.caseload.rows()) == 200
    finally:
        opened.close()


def test_synthetic_clinic_is_varied(synthetic) -> None:  # noqa: ANN001
    directory, _summary = synthetic
    opened = open_store(directory)
    try:
        patients = _all(opened, Patient)
        assert len({p.external_id for p in patients}) == 200
        assert len({p.school for p in patients if p.school}) >= 3
        assert {c.payer_kind for c in _all(opened, Coverage)} == {kind.value for kind in PayerKind}
        assert len({d.code for d in _all(opened, Diagnosis)}) >= 10
        groups = [s for s in _all(opened, TherapySession) if s.session_type == SessionType.GROUP_TREATMENT]
        assert len(groups) == 2000 // 20
        assert all(2 <= len(opened.sessions.participants(g.id)) <= 4 for g in groups)
        assert _all(opened, IepService) and _all(opened, TherapyYearAmount)
    finally:
        opened.close()
    connection = sqlite3.connect(directory / "slpterm.sqlite3")
    try:
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        connection.close()


def test_synthetic_signatures_match_their_records(synthetic) -> None:  # noqa: ANN001
    directory, _summary = synthetic
    opened = open_store(directory)
    try:
        signatures = _all(opened, Signature)[:200]
        for signature in signatures:
            detail = opened.sessions.detail(signature.participant_id)
            assert opened.sessions.content_hash(detail) == signature.content_hash
            assert detail.note.objective
    finally:
        opened.close()


def test_synthetic_is_reproducible(tmp_path: Path) -> None:
    generate_synthetic(tmp_path / "a", patients=30, sessions=200, seed=11, today=TODAY)
    generate_synthetic(tmp_path / "b", patients=30, sessions=200, seed=11, today=TODAY)
    generate_synthetic(tmp_path / "c", patients=30, sessions=200, seed=12, today=TODAY)
    assert _dump(tmp_path / "a") == _dump(tmp_path / "b")
    assert _dump(tmp_path / "a")["patient"] != _dump(tmp_path / "c")["patient"]


@pytest.mark.parametrize(("patients", "sessions"), [(1, 0), (1, 5), (3, 1)])
def test_synthetic_handles_tiny_clinics(tmp_path: Path, patients: int, sessions: int) -> None:
    summary = generate_synthetic(tmp_path, patients=patients, sessions=sessions, today=TODAY)
    assert (summary.patients, summary.sessions) == (patients, sessions)


@pytest.mark.parametrize(("patients", "sessions"), [(0, 10), (5, -1)])
def test_synthetic_rejects_impossible_sizes(tmp_path: Path, patients: int, sessions: int) -> None:
    with pytest.raises(ValueError):
        generate_synthetic(tmp_path, patients=patients, sessions=sessions, today=TODAY)

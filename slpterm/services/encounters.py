"""Signed sessions as coded encounter records, ready for the exporters.

``load_encounters`` reads everything with a fixed number of batched queries (``BulkData``) and
codes each patient-day once; ``encounter_chunks`` gives the same records a few days at a time, so
an export of any size holds one chunk in memory. There is one path: a single session's record is
``encounter_records(billing, [participant_id], ...)``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

from slpterm.domain.bulk import paused_gc
from slpterm.domain.claim import CodingResult
from slpterm.domain.encounter import (
    ClinicianInfo,
    ClinicInfo,
    CoverageInfo,
    DiagnosisInfo,
    EncounterRecord,
    GoalResult,
    PatientInfo,
)
from slpterm.services.billing import (
    BillingService,
    BulkData,
    minutes_by_area,
    plan_in_force,
)
from slpterm.store.patients import PatientChart
from slpterm.store.sessions import ParticipantDetail

if TYPE_CHECKING:
    from slpterm.store.models import Clinic
    from slpterm.store.store import Store


def _clinic_info(clinic: Clinic | None) -> ClinicInfo:
    fields = ("name", "npi", "tax_id", "taxonomy_code", "address_line1", "address_line2", "city", "state",
              "postal_code", "phone", "submitter_id", "submitter_contact", "receiver_id", "receiver_name")
    return ClinicInfo(**{name: (getattr(clinic, name) if clinic else "") or "" for name in fields})


def _trial_counts(detail: ParticipantDetail) -> dict[str, tuple[int, int]]:
    counts: dict[str, tuple[int, int]] = {}
    for trial in detail.trials:
        if trial.voided_at is not None:
            continue
        correct, total = counts.get(trial.goal_id, (0, 0))
        counts[trial.goal_id] = (correct + (trial.result == "correct"), total + 1)
    return counts


def _record(billing: BillingService, detail: ParticipantDetail, chart: PatientChart, coding: CodingResult,
            trial_counts: Mapping[str, tuple[int, int]], exported_ids: set[str],
            clinic_info: ClinicInfo | None = None) -> EncounterRecord:
    participant_id = detail.participant.id
    patient = chart.patient
    coverage = chart.primary_coverage
    clinician = billing.clinicians.get(detail.session.clinician_id or "")
    descriptions = {d.code: d for d in chart.diagnoses}
    goals = {goal.id: goal for goals in chart.goals_by_plan.values() for goal in goals}
    goal_results = []
    for goal_id in detail.goal_ids:
        correct, total = trial_counts.get(goal_id, (0, 0))
        goal = goals.get(goal_id)
        goal_results.append(GoalResult(
            goal_id=goal_id, text=goal.text if goal else "", disorder_area=goal.disorder_area if goal else "",
            correct=correct, trials=total,
        ))
    plan = plan_in_force(chart, detail.session.date_of_service)
    return EncounterRecord(
        participant_id=participant_id,
        session_id=detail.session.id,
        date_of_service=detail.session.date_of_service,
        session_type=detail.session.session_type,
        setting=detail.session.setting,
        started_at=detail.session.started_at,
        stopped_at=detail.session.stopped_at,
        total_minutes=sum(minutes_by_area(detail, billing.now).values()),
        patient=PatientInfo(
            id=patient.id, external_id=patient.external_id, first_name=patient.first_name,
            last_name=patient.last_name, date_of_birth=patient.date_of_birth, sex=patient.sex,
            address_line1=patient.address_line1, address_line2=patient.address_line2, city=patient.city,
            state=patient.state, postal_code=patient.postal_code, phone=patient.phone,
        ),
        coverage=CoverageInfo(
            payer_name=coverage.payer_name, payer_kind=coverage.payer_kind, payer_id=coverage.payer_id,
            member_id=coverage.member_id, group_number=coverage.group_number,
            subscriber_relationship=coverage.subscriber_relationship,
            subscriber_first_name=coverage.subscriber_first_name, subscriber_last_name=coverage.subscriber_last_name,
            subscriber_date_of_birth=coverage.subscriber_date_of_birth,
        ) if coverage else None,
        clinic=clinic_info or _clinic_info(billing.clinic),
        clinician=ClinicianInfo(
            id=clinician.id if clinician else "", first_name=clinician.first_name if clinician else "",
            last_name=clinician.last_name if clinician else "", credentials=clinician.credentials if clinician else "",
            npi=clinician.npi if clinician else "",
        ),
        diagnoses=tuple(
            DiagnosisInfo(code=code, description=descriptions[code].description if code in descriptions else "",
                          role=descriptions[code].role if code in descriptions else "treatment")
            for code in coding.diagnoses
        ),
        coding=coding,
        goal_results=tuple(goal_results),
        signed_at=detail.signature.signed_at if detail.signature else None,
        signer=f"{detail.signature.signer_name}, {detail.signature.credentials}" if detail.signature else "",
        certifying_physician_name=plan.certifying_physician_name if plan else "",
        certifying_physician_npi=plan.certifying_physician_npi if plan else "",
        exported_before=participant_id in exported_ids,
    )


def encounter_records(billing: BillingService, participant_ids: list[str], exported_ids: set[str],
                      data: BulkData | None = None,
                      claims: Mapping[str, tuple[str, str]] | None = None) -> list[EncounterRecord]:
    """Encounter records for many participants with a fixed number of queries, in the order given.
    ``claims``: participant id -> (claim number, status) from the claims register; read from the
    store when not given."""
    if not participant_ids:
        return []
    if claims is None:
        claims = billing.store.claims.by_participant(participant_ids)
    with paused_gc():
        records = _encounter_records(billing, participant_ids, exported_ids, data)
    return [_with_claim(record, claims.get(record.participant_id)) for record in records]


def _with_claim(record: EncounterRecord, claim: tuple[str, str] | None) -> EncounterRecord:
    if claim is None:
        return record
    return replace(record, claim_number=claim[0], claim_status=str(claim[1]))


def _encounter_records(billing: BillingService, participant_ids: list[str], exported_ids: set[str],
                       data: BulkData | None) -> list[EncounterRecord]:
    data = data or BulkData.for_participants(billing.store, participant_ids)
    codings = billing.code_many(participant_ids, data)
    trials = data.trial_counts(participant_ids)
    clinic_info = _clinic_info(billing.clinic)
    records = []
    for participant_id in participant_ids:
        detail = data.details[participant_id]
        records.append(_record(billing, detail, data.charts[detail.participant.patient_id], codings[participant_id],
                               trials.get(participant_id, {}), exported_ids, clinic_info))
    return records


def load_encounters(store: Store, *, date_from: date | None, date_to: date | None, include_exported: bool,
                    today: date) -> list[EncounterRecord]:
    """Signed encounters with DOS in the range, coded; already billed ones (837P, superbill) only when
    asked for."""
    billing = BillingService(store, today)
    exported = billed_participant_ids(store)
    wanted = [participant_id for participant_id in signed_participant_ids(store, date_from, date_to)
              if include_exported or participant_id not in exported]
    return encounter_records(billing, wanted, exported)


def billed_participant_ids(store: Store) -> set[str]:
    """The participants an 837P or a superbill billed (``EncounterRecord.exported_before``); CSV, JSON
    and FHIR copies do not count."""
    from slpterm.export.formats import billing_format_ids

    return store.exports.exported_participant_ids(billing_format_ids())


def signed_participant_ids(store: Store, date_from: date | None, date_to: date | None) -> list[str]:
    """Ids of the signed participants with DOS in the range, in date order (as ``signed_between``)."""
    return store.sessions.signed_participant_ids(date_from, date_to)


CHUNK_SESSIONS = 1000


def encounter_chunks(store: Store, *, date_from: date | None, date_to: date | None, today: date,
                     chunk_sessions: int = CHUNK_SESSIONS) -> Iterator[list[EncounterRecord]]:
    """The records ``load_encounters(..., include_exported=True)`` gives, in runs of whole days of
    service (about ``chunk_sessions`` sessions each; a busier day makes a bigger run), in date order.
    Every chunk is read and coded on its own: memory holds one chunk, whatever the range."""
    billing = BillingService(store, today)
    exported = billed_participant_ids(store)
    claims = store.claims.by_participant()
    for days in _day_runs(store, date_from, date_to, chunk_sessions):
        ids = signed_participant_ids(store, days[0], days[-1])
        if ids:
            yield encounter_records(billing, ids, exported, claims=claims)


def _day_runs(store: Store, date_from: date | None, date_to: date | None,
              chunk_sessions: int) -> Iterator[list[date]]:
    """Consecutive days of service with signed sessions, grouped into runs of about ``chunk_sessions``."""
    counts = store.sessions.signed_counts_by_day(date_from, date_to)
    run: list[date] = []
    size = 0
    for day, count in counts:
        run.append(day)
        size += count
        if size >= chunk_sessions:
            yield run
            run, size = [], 0
    if run:
        yield run

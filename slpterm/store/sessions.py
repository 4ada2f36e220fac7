"""Sessions: participants, the timer's segments, techniques, goals, trials, notes, signatures, addenda.

Each call is its own durable transaction, so every keystroke that changes clinical data is on disk
before the next one is handled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, col, func, select

from slpterm.store import signing
from slpterm.store.base import Repository
from slpterm.store.errors import LockedRecord, ValidationFailed
from slpterm.store.models import (
    Addendum,
    AreaMinutesCorrection,
    Clinician,
    GoalAddressed,
    SessionBillingFacts,
    SessionParticipant,
    Signature,
    SoapNote,
    TechniqueUsed,
    TherapySession,
    TimeSegment,
    TrialRecord,
    table_name,
    utc_now,
)

NOTE_SECTIONS = signing.NOTE_SECTIONS


@dataclass
class SessionTiming:
    """A session's clock segments and hand corrections (ParticipantDetail carries the same fields)."""

    session: TherapySession
    segments: list[TimeSegment]
    corrections: list[AreaMinutesCorrection]


@dataclass
class ParticipantDetail:
    participant: SessionParticipant
    session: TherapySession
    segments: list[TimeSegment]
    corrections: list[AreaMinutesCorrection]
    techniques: list[str]
    goal_ids: list[str]
    trials: list[TrialRecord]
    note: SoapNote | None  # None where only the billing facts were read
    signature: Signature | None
    addenda: list[Addendum] = field(default_factory=list)
    group_size: int = 1
    billing: SessionBillingFacts | None = None

    @property
    def signed(self) -> bool:
        return self.signature is not None


class SessionRepository(Repository):
    # -- creation ---------------------------------------------------------------------------
    def create(
        self,
        *,
        date_of_service: date,
        session_type: str,
        setting: str,
        patient_ids: list[str],
        clinician_id: str | None = None,
        evaluation_kind: str | None = None,
        aac_device: str | None = None,
        group_rationale: str = "",
    ) -> tuple[TherapySession, list[SessionParticipant]]:
        if not patient_ids:
            raise ValidationFailed([("Patients", "choose at least one patient for the session")])
        if len(set(patient_ids)) != len(patient_ids):
            raise ValidationFailed([("Patients", "a patient is listed twice; remove the duplicate")])
        with self.db.write() as session:
            therapy_session = TherapySession(
                date_of_service=date_of_service,
                session_type=session_type,
                evaluation_kind=evaluation_kind,
                aac_device=aac_device,
                setting=setting,
                clinician_id=clinician_id,
                group_rationale=group_rationale,
            )
            session.add(therapy_session)
            session.flush()
            participants = []
            for patient_id in patient_ids:
                participant = SessionParticipant(session_id=therapy_session.id, patient_id=patient_id)
                session.add(participant)
                session.flush()
                session.add(SoapNote(participant_id=participant.id))
                participants.append(participant)
            session.flush()
            self.audit(session, "create", "session", therapy_session.id,
                       {**therapy_session.model_dump(mode="json"), "patients": patient_ids})
            return therapy_session, participants

    def update_session(self, session_id: str, **fields: object) -> TherapySession:
        return self._update(TherapySession, session_id, {**fields, "updated_at": utc_now()})

    # -- timer --------------------------------------------------------------------------------
    def _open_segment(self, session: Session, session_id: str) -> TimeSegment | None:
        return session.exec(
            select(TimeSegment).where(TimeSegment.session_id == session_id, col(TimeSegment.ended_at).is_(None))
        ).first()

    def start_timer(self, session_id: str, area: str, now: datetime) -> TimeSegment:
        """Start or resume the clock on ``area``; an already running clock switches area."""
        with self.db.write() as session:
            therapy_session = self.require(session, TherapySession, session_id)
            running = self._open_segment(session, session_id)
            if running is not None:
                running.ended_at = max(now, running.started_at)
                session.add(running)
            segment = TimeSegment(session_id=session_id, disorder_area=area, started_at=now)
            session.add(segment)
            if therapy_session.started_at is None:
                therapy_session.started_at = now
            therapy_session.stopped_at = None
            therapy_session.heartbeat_at = now
            session.add(therapy_session)
            session.flush()
            self.audit(session, "timer-start", "session", session_id, {"area": area, "at": now.isoformat()})
            return segment

    def pause_timer(self, session_id: str, now: datetime, *, stop: bool = False) -> None:
        with self.db.write() as session:
            therapy_session = self.require(session, TherapySession, session_id)
            running = self._open_segment(session, session_id)
            if running is not None:
                running.ended_at = max(now, running.started_at)
                session.add(running)
            if stop:
                therapy_session.stopped_at = running.ended_at if running is not None else now
            therapy_session.heartbeat_at = None
            session.add(therapy_session)
            self.audit(session, "timer-stop" if stop else "timer-pause", "session", session_id, {"at": now.isoformat()})

    def heartbeat(self, session_id: str, now: datetime) -> None:
        with self.db.write() as session:
            therapy_session = self.require(session, TherapySession, session_id)
            therapy_session.heartbeat_at = now
            session.add(therapy_session)

    def set_manual_time(self, session_id: str, area: str, started_at: datetime, stopped_at: datetime) -> None:
        """Record the time of a session documented afterwards (replaces any clock segments)."""
        if stopped_at <= started_at:
            raise ValidationFailed([("Stop time", "must be after the start time")])
        with self.db.write() as session:
            therapy_session = self.require(session, TherapySession, session_id)
            for segment in session.exec(select(TimeSegment).where(TimeSegment.session_id == session_id)):
                session.delete(segment)
            session.add(TimeSegment(session_id=session_id, disorder_area=area, started_at=started_at, ended_at=stopped_at))
            therapy_session.started_at = started_at
            therapy_session.stopped_at = stopped_at
            therapy_session.manual_time = True
            therapy_session.heartbeat_at = None
            session.add(therapy_session)
            self.audit(session, "time-manual", "session", session_id,
                       {"area": area, "start": started_at.isoformat(), "stop": stopped_at.isoformat()})

    def correct_area_minutes(self, session_id: str, area: str, minutes: int, reason: str) -> AreaMinutesCorrection:
        if not reason.strip():
            raise ValidationFailed([("Reason", "say why the minutes are corrected; it is kept in the audit trail")])
        if minutes < 0:
            raise ValidationFailed([("Minutes", "must be zero or more")])
        return self._insert(
            AreaMinutesCorrection(session_id=session_id, disorder_area=area, minutes=minutes, reason=reason.strip()),
            action="minutes-correct",
        )

    # -- techniques, goals, trials -------------------------------------------------------------
    def _toggle(self, model: type[TechniqueUsed] | type[GoalAddressed], participant_id: str,
                field_name: str, value: str) -> bool:
        with self.db.write() as session:
            existing = session.exec(
                select(model).where(col(model.participant_id) == participant_id, getattr(model, field_name) == value)
            ).first()
            if existing is not None:
                session.delete(existing)
                self.audit(session, "uncheck", table_name(model), participant_id, {"value": value})
                return False
            session.add(model(participant_id=participant_id, **{field_name: value}))
            self.audit(session, "check", table_name(model), participant_id, {"value": value})
            return True

    def toggle_technique(self, participant_id: str, technique_id: str) -> bool:
        return self._toggle(TechniqueUsed, participant_id, "technique_id", technique_id)

    def toggle_goal(self, participant_id: str, goal_id: str) -> bool:
        return self._toggle(GoalAddressed, participant_id, "goal_id", goal_id)

    def record_trial(self, participant_id: str, goal_id: str, result: str, cue_level: str,
                     now: datetime | None = None) -> TrialRecord:
        with self.db.write() as session:
            last_seq = session.exec(
                select(func.max(TrialRecord.seq)).where(TrialRecord.participant_id == participant_id)
            ).one()
            addressed = session.exec(
                select(GoalAddressed).where(GoalAddressed.participant_id == participant_id,
                                            GoalAddressed.goal_id == goal_id)
            ).first()
            if addressed is None:
                session.add(GoalAddressed(participant_id=participant_id, goal_id=goal_id))
            trial = TrialRecord(participant_id=participant_id, goal_id=goal_id, seq=(last_seq or 0) + 1,
                                result=result, cue_level=cue_level, recorded_at=now or utc_now())
            session.add(trial)
            session.flush()
            self.audit(session, "trial", "trialrecord", trial.id,
                       {"goal": goal_id, "result": result, "cue": cue_level})
            return trial

    def undo_last_trial(self, participant_id: str, goal_id: str | None = None) -> TrialRecord | None:
        """Void the most recent trial (of one goal, if given); it stays in the file as voided."""
        with self.db.write() as session:
            query = select(TrialRecord).where(TrialRecord.participant_id == participant_id,
                                              col(TrialRecord.voided_at).is_(None))
            if goal_id is not None:
                query = query.where(TrialRecord.goal_id == goal_id)
            trial = session.exec(query.order_by(col(TrialRecord.seq).desc()).limit(1)).first()
            if trial is None:
                return None
            trial.voided_at = utc_now()
            session.add(trial)
            self.audit(session, "trial-undo", "trialrecord", trial.id, {"goal": trial.goal_id})
            return trial

    # -- note, signature, addenda ---------------------------------------------------------------
    def save_note(self, participant_id: str, **sections: str) -> SoapNote:
        unknown = set(sections) - set(NOTE_SECTIONS)
        if unknown:
            raise ValueError(f"unknown note sections: {sorted(unknown)}")
        with self.db.write() as session:
            note = session.exec(select(SoapNote).where(SoapNote.participant_id == participant_id)).first()
            if note is None:
                note = SoapNote(participant_id=participant_id)
            if session.exec(select(Signature).where(Signature.participant_id == participant_id)).first():
                raise LockedRecord("This note is signed and locked; add an addendum instead.")
            changed = {key: value for key, value in sections.items() if getattr(note, key) != value}
            if not changed and note.id and session.get(SoapNote, note.id) is not None:
                return note
            for key, value in changed.items():
                setattr(note, key, value)
            note.updated_at = utc_now()
            session.add(note)
            session.flush()
            self.audit(session, "note-save", "soapnote", note.id,
                       {key: len(value) for key, value in changed.items()})
            return note

    def detail(self, participant_id: str) -> ParticipantDetail:
        with self.db.read() as session:
            participant = self.require(session, SessionParticipant, participant_id)
            therapy_session = self.require(session, TherapySession, participant.session_id)
            return ParticipantDetail(
                participant=participant,
                session=therapy_session,
                segments=self._segments(session, therapy_session.id),
                corrections=self._corrections(session, therapy_session.id),
                techniques=[row.technique_id for row in session.exec(
                    select(TechniqueUsed).where(TechniqueUsed.participant_id == participant_id))],
                goal_ids=[row.goal_id for row in session.exec(
                    select(GoalAddressed).where(GoalAddressed.participant_id == participant_id))],
                trials=list(session.exec(
                    select(TrialRecord).where(TrialRecord.participant_id == participant_id)
                    .order_by(col(TrialRecord.seq))
                )),
                note=session.exec(select(SoapNote).where(SoapNote.participant_id == participant_id)).first()
                or SoapNote(participant_id=participant_id),
                signature=session.exec(select(Signature).where(Signature.participant_id == participant_id)).first(),
                addenda=list(session.exec(
                    select(Addendum).where(Addendum.participant_id == participant_id)
                    .order_by(col(Addendum.created_at))
                )),
                group_size=session.exec(
                    select(func.count()).select_from(SessionParticipant)
                    .where(SessionParticipant.session_id == therapy_session.id)
                ).one(),
                billing=session.get(SessionBillingFacts, participant_id),
            )

    @staticmethod
    def _segments(session: Session, session_id: str) -> list[TimeSegment]:
        return list(session.exec(
            select(TimeSegment).where(TimeSegment.session_id == session_id).order_by(col(TimeSegment.started_at))
        ))

    @staticmethod
    def _corrections(session: Session, session_id: str) -> list[AreaMinutesCorrection]:
        return list(session.exec(
            select(AreaMinutesCorrection).where(AreaMinutesCorrection.session_id == session_id)
            .order_by(col(AreaMinutesCorrection.corrected_at))
        ))

    def timing(self, session_id: str) -> SessionTiming:
        """Just the session's time: what the running clock reads every second."""
        with self.db.read() as session:
            therapy_session = self.require(session, TherapySession, session_id)
            return SessionTiming(therapy_session, self._segments(session, session_id),
                                 self._corrections(session, session_id))

    def participants(self, session_id: str) -> list[SessionParticipant]:
        with self.db.read() as session:
            return list(session.exec(
                select(SessionParticipant).where(SessionParticipant.session_id == session_id)
            ))

    @staticmethod
    def content_hash(detail: ParticipantDetail) -> str:
        """A fingerprint of what is signed: note, tallies, techniques, goals, time and the session's
        claim facts (see :mod:`slpterm.store.signing`, which ``slpterm audit verify`` checks)."""
        return signing.content_hash(signing.content_of(detail))

    def sign(self, participant_id: str, clinician_id: str, now: datetime | None = None) -> Signature:
        detail = self.detail(participant_id)
        if detail.signature is not None:
            raise LockedRecord("This note is already signed.")
        with self.db.write() as session:
            clinician = self.require(session, Clinician, clinician_id)
            participant = self.require(session, SessionParticipant, participant_id)
            participant.status = "signed"
            session.add(participant)
            session.flush()
            content = signing.content_of(detail)
            signature = Signature(
                participant_id=participant_id,
                clinician_id=clinician_id,
                signer_name=f"{clinician.first_name} {clinician.last_name}".strip(),
                credentials=clinician.credentials,
                signed_at=now or utc_now(),
                content_hash=signing.content_hash(content),
            )
            session.add(signature)
            session.flush()
            self.audit(session, "sign", "sessionparticipant", participant_id, signing.sign_detail(
                content, signer=signature.signer_name, credentials=signature.credentials, clinician_id=clinician_id,
                signed_at=signature.signed_at))
            return signature

    def add_addendum(self, participant_id: str, text: str, author_name: str,
                     author_clinician_id: str | None = None) -> Addendum:
        if not text.strip():
            raise ValidationFailed([("Addendum", "type the correction or addition before saving")])
        return self._insert(
            Addendum(participant_id=participant_id, text=text, author_name=author_name,
                     author_clinician_id=author_clinician_id),
            action="addendum",
        )

    def unsigned_drafts(self) -> list[tuple[SessionParticipant, TherapySession]]:
        with self.db.read() as session:
            rows = session.exec(
                select(SessionParticipant, TherapySession)
                .join(TherapySession, col(TherapySession.id) == SessionParticipant.session_id)
                .where(SessionParticipant.status == "draft")
                .order_by(col(TherapySession.date_of_service))
            )
            return list(rows)

    def signed_between(self, date_from: date | None, date_to: date | None) -> list[tuple[SessionParticipant, TherapySession]]:
        with self.db.read() as session:
            query = (
                select(SessionParticipant, TherapySession)
                .join(TherapySession, col(TherapySession.id) == SessionParticipant.session_id)
                .where(SessionParticipant.status == "signed")
            )
            if date_from is not None:
                query = query.where(TherapySession.date_of_service >= date_from)
            if date_to is not None:
                query = query.where(TherapySession.date_of_service <= date_to)
            return list(session.exec(query.order_by(col(TherapySession.date_of_service))))

    def signed_participant_ids(self, date_from: date | None, date_to: date | None) -> list[str]:
        """Ids of the signed participants with DOS in the range, in date order (as ``signed_between``)."""
        query = (
            select(SessionParticipant.id)
            .join(TherapySession, col(TherapySession.id) == SessionParticipant.session_id)
            .where(SessionParticipant.status == "signed")
        )
        if date_from is not None:
            query = query.where(TherapySession.date_of_service >= date_from)
        if date_to is not None:
            query = query.where(TherapySession.date_of_service <= date_to)
        with self.db.read() as session:
            return list(session.exec(query.order_by(col(TherapySession.date_of_service))))

    def signed_counts_by_day(self, date_from: date | None, date_to: date | None) -> list[tuple[date, int]]:
        """``(date of service, signed participants)`` for each day in the range that has any, in date order."""
        query = (
            select(col(TherapySession.date_of_service), func.count())
            .join(SessionParticipant, col(SessionParticipant.session_id) == TherapySession.id)
            .where(SessionParticipant.status == "signed")
        )
        if date_from is not None:
            query = query.where(TherapySession.date_of_service >= date_from)
        if date_to is not None:
            query = query.where(TherapySession.date_of_service <= date_to)
        query = query.group_by(col(TherapySession.date_of_service)).order_by(col(TherapySession.date_of_service))
        with self.db.read() as session:
            return [(day, count) for day, count in session.exec(query)]

    def for_patient(self, patient_id: str, limit: int | None = None) -> list[tuple[SessionParticipant, TherapySession]]:
        """The patient's sessions, newest first (only the newest ``limit`` when given)."""
        query = (
            select(SessionParticipant, TherapySession)
            .join(TherapySession, col(TherapySession.id) == SessionParticipant.session_id)
            .where(SessionParticipant.patient_id == patient_id)
            .order_by(col(TherapySession.date_of_service).desc())
        )
        if limit is not None:
            query = query.limit(limit)
        with self.db.read() as session:
            return list(session.exec(query))

    def count_for_patient(self, patient_id: str) -> int:
        """How many sessions the patient took part in (read from the index, not the rows)."""
        with self.db.read() as session:
            return session.exec(
                select(func.count()).select_from(SessionParticipant).where(SessionParticipant.patient_id == patient_id)
            ).one()

    # -- correcting and discarding what is not signed yet ------------------------------------------
    @staticmethod
    def _refuse_if_signed(session: Session, session_id: str) -> None:
        signed = session.exec(
            select(Signature).join(SessionParticipant, col(SessionParticipant.id) == Signature.participant_id)
            .where(SessionParticipant.session_id == session_id)
        ).first()
        if signed is not None:
            raise LockedRecord("This session has a signed note, so its facts are locked: correct it with an "
                               "addendum (F10).")

    @staticmethod
    def _delete_participant(session: Session, participant: SessionParticipant) -> dict[str, int]:
        """Remove an unsigned participant with its note and tallies; returns what was removed."""
        removed: dict[str, int] = {}
        for model in (TrialRecord, TechniqueUsed, GoalAddressed, SoapNote):
            rows = list(session.exec(select(model).where(model.participant_id == participant.id)))
            removed[table_name(model)] = len(rows)
            for row in rows:
                session.delete(row)
        session.flush()
        session.delete(participant)
        session.flush()
        return removed

    def correct_session(self, session_id: str, *, changes: dict[str, object], add_patient_ids: Sequence[str] = (),
                        remove_participant_ids: Sequence[str] = (), reason: str = "") -> list[str]:
        """Change an unsigned session's facts (date, type, setting...) and who takes part, in one
        transaction recorded in the audit trail. Returns the participant ids left."""
        with self.db.write() as session:
            self._refuse_if_signed(session, session_id)
            record = self.require(session, TherapySession, session_id)
            participants = list(session.exec(select(SessionParticipant)
                                             .where(SessionParticipant.session_id == session_id)))
            present = {participant.patient_id for participant in participants}
            remaining = [p for p in participants if p.id not in remove_participant_ids]
            if len(remaining) + len(add_patient_ids) < 1:
                raise ValidationFailed([("Patients", "a session needs a patient; discard it instead (ctrl+x)")])
            if present & set(add_patient_ids) or len(set(add_patient_ids)) != len(add_patient_ids):
                raise ValidationFailed([("Patients", "a patient is listed twice; remove the duplicate")])
            before = {key: _plain(getattr(record, key)) for key in changes}
            for key, value in changes.items():
                setattr(record, key, value)
            record.updated_at = utc_now()
            session.add(record)
            removed = {}
            for participant in participants:
                if participant.id in remove_participant_ids:
                    removed[participant.patient_id] = self._delete_participant(session, participant)
            for patient_id in add_patient_ids:
                participant = SessionParticipant(session_id=session_id, patient_id=patient_id)
                session.add(participant)
                session.flush()
                session.add(SoapNote(participant_id=participant.id))
                remaining.append(participant)
            session.flush()
            self.audit(session, "correct", "session", session_id,
                       {"before": before, "after": {key: _plain(value) for key, value in changes.items()},
                        "added_patients": list(add_patient_ids), "removed": removed, "reason": reason})
            return [participant.id for participant in remaining]

    def discard(self, participant_id: str, reason: str = "") -> None:
        """Remove an unsigned note started by mistake (the whole session once no patient is left).
        The audit trail keeps what was discarded: the session's facts and how much it held."""
        with self.db.write() as session:
            participant = self.require(session, SessionParticipant, participant_id)
            if session.exec(select(Signature).where(Signature.participant_id == participant_id)).first():
                raise LockedRecord("This note is signed and cannot be discarded: correct it with an addendum (F10).")
            record = self.require(session, TherapySession, participant.session_id)
            note = session.exec(select(SoapNote).where(SoapNote.participant_id == participant_id)).first()
            note_characters = sum(len(getattr(note, name) or "") for name in NOTE_SECTIONS) if note else 0
            removed = self._delete_participant(session, participant)
            left = session.exec(select(SessionParticipant)
                                .where(SessionParticipant.session_id == record.id)).first()
            if left is None:
                for model in (TimeSegment, AreaMinutesCorrection):
                    for row in session.exec(select(model).where(model.session_id == record.id)):
                        session.delete(row)
                session.flush()
                session.delete(record)
            session.flush()
            self.audit(session, "discard", "sessionparticipant", participant_id, {
                "patient": participant.patient_id, "session": record.id,
                "date_of_service": record.date_of_service.isoformat(), "session_type": record.session_type,
                "setting": record.setting, "trials": removed["trialrecord"],
                "techniques": removed["techniqueused"], "note_characters": note_characters,
                "whole_session": left is None, "reason": reason,
            })


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, (date, datetime)) else value

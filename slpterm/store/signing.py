"""What a signature covers, and checking every signed note against it.

Signing stores a content hash over the note, its tallies, techniques, goals, time and the facts a
claim is coded from (date of service, session type, setting, clinician, patient). The audit entry
of the signature records that hash and one short digest per part. SQLite triggers refuse changes
to signed records, but whoever drops the triggers can change the rows; :func:`check_signatures`
recomputes every signature's hash from what the file holds now and names the note and the part
that no longer matches, or a signature that was replaced, removed or added outside slpterm.

Format ``v2:<sha256>`` (current) covers all of the above; a bare hex hash (``v1``, older notes)
covers the note, tallies, techniques, goals and time only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from slpterm.store.audit import Row
from slpterm.store.models import SessionParticipant, TherapySession

if TYPE_CHECKING:
    from slpterm.store.datafile import SqliteConnection

NOTE_SECTIONS = ("subjective", "objective", "assessment", "plan")
CONTENT_HASH_VERSION = "v2"
PART_DIGEST_LENGTH = 16
SESSION_FACTS = ("date_of_service", "session_type", "evaluation_kind", "setting", "aac_device", "clinician_id",
                 "group_rationale", "manual_time", "started_at", "stopped_at")
PARTICIPANT_FACTS = ("patient_id", "session_id", "distinct_service_note", "rehabilitative")
BOOLEAN_FACTS = ("manual_time", "rehabilitative")
PART_NAMES = {"note": "the note text", "tallies": "the tallies", "techniques": "the techniques",
              "goals": "the goals addressed", "time": "the time", "session": "the session facts (date, type, "
              "setting, clinician or patient)"}
GENERATION_ACTIONS = ("demo-generate", "synthetic-generate")
_DEFAULTS = {**{name: TherapySession.model_fields[name].default for name in SESSION_FACTS},
             **{name: SessionParticipant.model_fields[name].default for name in PARTICIPANT_FACTS}}


def _when(value: object) -> str | None:
    """A date or time as text: times in UTC ISO 8601, as the model gives them back."""
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) == 10:
            return value
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _fact(name: str, value: Any) -> Any:
    if name in BOOLEAN_FACTS:
        return None if value is None else bool(value)
    if name in ("date_of_service", "started_at", "stopped_at"):
        return _when(value)
    return value


@dataclass
class SignedContent:
    """A participant's signed records as plain values (from the models or read straight from SQLite)."""

    note: dict[str, str]
    trials: list[tuple[Any, ...]]  # (goal_id, seq, result, cue_level, voided)
    techniques: list[str]
    goal_ids: list[str]
    segments: list[tuple[Any, ...]]  # (disorder_area, started_at, ended_at) as text
    corrections: list[tuple[Any, ...]]  # (disorder_area, minutes, reason)
    facts: dict[str, Any] = field(default_factory=dict)


def content_of(detail: Any) -> SignedContent:
    """From a :class:`ParticipantDetail` (or any object with the same attributes)."""
    session = getattr(detail, "session", None)
    participant = getattr(detail, "participant", None)
    facts = {}
    for names, source in ((SESSION_FACTS, session), (PARTICIPANT_FACTS, participant)):
        for name in names:
            facts[name] = _fact(name, _DEFAULTS[name] if source is None else getattr(source, name, _DEFAULTS[name]))
    return SignedContent(
        note={key: getattr(detail.note, key) for key in NOTE_SECTIONS},
        trials=[(t.goal_id, t.seq, t.result, t.cue_level, t.voided_at is not None) for t in detail.trials],
        techniques=list(detail.techniques),
        goal_ids=list(detail.goal_ids),
        segments=[(s.disorder_area, _when(s.started_at), _when(s.ended_at)) for s in detail.segments],
        corrections=[(c.disorder_area, c.minutes, getattr(c, "reason", "")) for c in detail.corrections],
        facts=facts,
    )


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def content_parts(content: SignedContent) -> dict[str, str]:
    """One digest per part a signature covers, so a mismatch can say which part changed."""
    return {
        "note": _digest(content.note),
        "tallies": _digest([list(trial) for trial in content.trials]),
        "techniques": _digest(sorted(content.techniques)),
        "goals": _digest(sorted(content.goal_ids)),
        "time": _digest({"segments": [list(s) for s in content.segments],
                         "corrections": [list(c) for c in content.corrections],
                         **{name: content.facts.get(name) for name in ("manual_time", "started_at", "stopped_at")}}),
        "session": _digest({name: value for name, value in content.facts.items()
                            if name not in ("manual_time", "started_at", "stopped_at")}),
    }


def content_hash(content: SignedContent) -> str:
    return f"{CONTENT_HASH_VERSION}:{_digest(content_parts(content))}"


def legacy_content_hash(content: SignedContent) -> str:
    """The v1 fingerprint, still checked for notes signed before v2."""
    payload = {
        "note": content.note,
        "trials": [list(trial) for trial in content.trials],
        "techniques": sorted(content.techniques),
        "goals": sorted(content.goal_ids),
        "segments": [list(s) for s in content.segments],
        "corrections": [[area, minutes] for area, minutes, _reason in content.corrections],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()


def recompute(content: SignedContent, stored_hash: str) -> str:
    """The hash ``content`` has in the format of ``stored_hash``."""
    if stored_hash.startswith(f"{CONTENT_HASH_VERSION}:"):
        return content_hash(content)
    return legacy_content_hash(content)


def short_parts(content: SignedContent) -> dict[str, str]:
    return {name: digest[:PART_DIGEST_LENGTH] for name, digest in content_parts(content).items()}


def sign_detail(content: SignedContent, *, signer: str, credentials: str, clinician_id: str | None,
                signed_at: datetime) -> dict[str, Any]:
    """What the audit entry of a signature records."""
    return {"signer": signer, "credentials": credentials, "clinician": clinician_id, "signed_at": _when(signed_at),
            "hash": content_hash(content), "parts": short_parts(content)}


# -- checking ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignEntry:
    seq: int
    detail: dict[str, Any]


@dataclass
class SignatureCollector:
    """Fed every audit row during the one walk over the trail; remembers the signature entries."""

    entries: dict[str, SignEntry] = field(default_factory=dict)
    generated: int | None = 0  # signatures written by the demo generators (None: not counted)

    def __call__(self, row: Row) -> None:
        action, entity = row[3], row[4]
        if action == "sign" and entity == "sessionparticipant":
            self.entries[row[5]] = SignEntry(int(row[0]), _json(row[6]))
        elif action in GENERATION_ACTIONS and self.generated is not None:
            signed = _json(row[6]).get("signed")
            self.generated = None if signed is None else self.generated + int(signed)


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class SignatureProblem:
    seq: int
    reason: str


BATCH = 500


def _signed_batches(connection: SqliteConnection) -> Iterator[list[tuple[Any, ...]]]:
    after = ""
    while True:
        rows = connection.execute(
            "SELECT s.participant_id, s.content_hash, s.signer_name, s.credentials, s.clinician_id, s.signed_at, "
            "p.session_id, p.patient_id, p.distinct_service_note, p.rehabilitative, pt.external_id "
            "FROM signature s LEFT JOIN sessionparticipant p ON p.id = s.participant_id "
            "LEFT JOIN patient pt ON pt.id = p.patient_id "
            "WHERE s.participant_id > ? ORDER BY s.participant_id LIMIT ?", (after, BATCH)).fetchall()
        if not rows:
            return
        yield rows
        after = rows[-1][0]


def _grouped(connection: SqliteConnection, sql: str, keys: list[str]) -> dict[str, list[tuple[Any, ...]]]:
    grouped: dict[str, list[tuple[Any, ...]]] = {}
    if not keys:
        return grouped
    marks = ", ".join("?" for _ in keys)
    for row in connection.execute(sql.format(marks=marks), tuple(keys)):
        grouped.setdefault(row[0], []).append(tuple(row[1:]))
    return grouped


def _contents(connection: SqliteConnection, rows: list[tuple[Any, ...]]) -> dict[str, SignedContent]:
    """The signed content of one batch of signatures, read with a few queries."""
    participant_ids = [row[0] for row in rows]
    session_ids = sorted({row[6] for row in rows if row[6]})
    notes = _grouped(connection, "SELECT participant_id, subjective, objective, assessment, plan FROM soapnote "
                                 "WHERE participant_id IN ({marks})", participant_ids)
    trials = _grouped(connection, "SELECT participant_id, goal_id, seq, result, cue_level, voided_at IS NOT NULL "
                                  "FROM trialrecord WHERE participant_id IN ({marks}) ORDER BY participant_id, seq",
                      participant_ids)
    techniques = _grouped(connection, "SELECT participant_id, technique_id FROM techniqueused "
                                      "WHERE participant_id IN ({marks})", participant_ids)
    goals = _grouped(connection, "SELECT participant_id, goal_id FROM goaladdressed WHERE participant_id IN ({marks})",
                     participant_ids)
    segments = _grouped(connection, "SELECT session_id, disorder_area, started_at, ended_at FROM timesegment "
                                    "WHERE session_id IN ({marks}) ORDER BY session_id, started_at", session_ids)
    corrections = _grouped(connection, "SELECT session_id, disorder_area, minutes, reason FROM areaminutescorrection "
                                       "WHERE session_id IN ({marks}) ORDER BY session_id, corrected_at", session_ids)
    sessions = _grouped(connection, f"SELECT id, {', '.join(SESSION_FACTS)} FROM session WHERE id IN ({{marks}})",
                        session_ids)
    contents = {}
    for row in rows:
        participant_id, session_id = row[0], row[6]
        note = (notes.get(participant_id) or [("", "", "", "")])[0]
        session = (sessions.get(session_id) or [tuple(_DEFAULTS[name] for name in SESSION_FACTS)])[0]
        facts = {name: _fact(name, value) for name, value in zip(SESSION_FACTS, session)}
        facts.update({name: _fact(name, value) for name, value in zip(PARTICIPANT_FACTS, (row[7], row[6], row[8], row[9]))})
        contents[participant_id] = SignedContent(
            note=dict(zip(NOTE_SECTIONS, note)),
            trials=[(goal, seq, result, cue, bool(voided)) for goal, seq, result, cue, voided
                    in trials.get(participant_id, [])],
            techniques=[technique for (technique,) in techniques.get(participant_id, [])],
            goal_ids=[goal for (goal,) in goals.get(participant_id, [])],
            segments=[(area, _when(start), _when(end)) for area, start, end in segments.get(session_id, [])],
            corrections=[(area, minutes, reason) for area, minutes, reason in corrections.get(session_id, [])],
            facts=facts,
        )
    return contents


def _changed_parts(content: SignedContent, entry: SignEntry | None) -> str:
    recorded = (entry.detail.get("parts") if entry else None) or {}
    if not recorded:
        return "its note, tallies, techniques, goals or time"
    now = short_parts(content)
    changed = [PART_NAMES[name] for name in PART_NAMES if recorded.get(name) and recorded.get(name) != now[name]]
    return ", ".join(changed) or "what it covers"


def check_signatures(connection: SqliteConnection, collector: SignatureCollector) -> list[SignatureProblem]:
    """Every signature against what the file holds now and against its entry in the audit trail
    (``connection``: a DB-API connection, read in batches of plain rows)."""
    problems: list[SignatureProblem] = []
    entries = dict(collector.entries)
    without_entry = 0
    for rows in _signed_batches(connection):
        contents = _contents(connection, rows)
        for participant_id, stored, signer, credentials, clinician_id, signed_at, _s, _p, _d, _r, external_id in rows:
            who = f"the signed note of patient {external_id or '(unknown)'} (session {participant_id[:8]})"
            entry = entries.pop(participant_id, None)
            seq = entry.seq if entry else 0
            content = contents[participant_id]
            if recompute(content, stored) != stored:
                problems.append(SignatureProblem(seq, f"{who} was changed after it was signed: "
                                                      f"{_changed_parts(content, entry)} no longer match the signature"))
            if entry is None:
                without_entry += 1
                if collector.generated is None or without_entry <= collector.generated:
                    continue  # written by the demo generator, which records one entry for all of them
                problems.append(SignatureProblem(0, f"{who} has a signature that no audit entry records: it was "
                                                     "added outside slpterm"))
                continue
            if entry.detail.get("hash") != stored:
                problems.append(SignatureProblem(seq, f"{who} carries another fingerprint than entry {seq} recorded "
                                                      "when it was signed: the signature was replaced"))
            expected = {"signer": signer, "credentials": credentials, "clinician": clinician_id,
                        "signed_at": _when(signed_at)}
            differs = [name for name, value in expected.items()
                       if name in entry.detail and entry.detail[name] != value]
            if differs:
                problems.append(SignatureProblem(seq, f"{who} names another {' and '.join(differs)} than entry {seq} "
                                                      "recorded when it was signed"))
    for participant_id, entry in entries.items():
        problems.append(SignatureProblem(entry.seq, f"the signature recorded in entry {entry.seq} (session "
                                                    f"{participant_id[:8]}) is gone from the file"))
    return problems


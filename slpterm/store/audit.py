"""The audit trail: every change is an event chained to the previous one by its hash."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from slpterm.store.models import AuditEvent, utc_now


def _digest(event: AuditEvent) -> str:
    payload = json.dumps(
        [event.seq, event.at.isoformat(), event.actor, event.action, event.entity, event.entity_id,
         event.detail, event.prev_hash],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def record_event(
    session: Session,
    actor: str,
    action: str,
    entity: str = "",
    entity_id: str = "",
    detail: dict | str = "",
    at: datetime | None = None,
) -> AuditEvent:
    """Append one event inside the caller's write transaction."""
    last = session.exec(select(AuditEvent).order_by(col(AuditEvent.seq).desc()).limit(1)).first()
    event = AuditEvent(
        seq=(last.seq + 1) if last else 1,
        at=at or utc_now(),
        actor=actor,
        action=action,
        entity=entity,
        entity_id=entity_id,
        detail=detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True),
        prev_hash=last.hash if last else "",
    )
    event.hash = _digest(event)
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def verify_chain(session: Session) -> list[ChainBreak]:
    """Walk the chain in order; report each place where it does not hold."""
    breaks: list[ChainBreak] = []
    previous_hash = ""
    expected_seq = 1
    for event in session.exec(select(AuditEvent).order_by(col(AuditEvent.seq))):
        if event.seq != expected_seq:
            breaks.append(ChainBreak(event.seq, f"entry {expected_seq} is missing before entry {event.seq}"))
        if event.prev_hash != previous_hash:
            breaks.append(ChainBreak(event.seq, f"entry {event.seq} does not follow the entry before it"))
        if _digest(event) != event.hash:
            breaks.append(ChainBreak(event.seq, f"entry {event.seq} was changed after it was written"))
        previous_hash = event.hash
        expected_seq = event.seq + 1
        session.expunge(event)
    return breaks

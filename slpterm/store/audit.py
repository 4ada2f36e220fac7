"""The audit trail: every change is an event chained to the previous one by its hash.

Each entry's hash covers its fields and the previous entry's hash. In a plain data file the hash
is SHA-256, which anyone can recompute; in an encrypted data file it is an HMAC (shown as
``hmac:<hex>``) with a key derived from the passphrase, so an entry cannot be re-hashed without
it. The chain's head (sequence number and hash) is also kept outside the file (see
:mod:`slpterm.store.anchors`), which is what reveals a trail cut short or rewritten as a whole.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.encoder import encode_basestring as _json_string
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from slpterm.store.models import AuditEvent, utc_now

if TYPE_CHECKING:
    from slpterm.store.datafile import SqliteConnection

KEYED_PREFIX = "hmac:"
AUDIT_COLUMNS = "seq, at, actor, action, entity, entity_id, detail, prev_hash, hash"
_KEY_CONTEXT = b"slpterm audit chain v1\x00"


def derive_audit_key(passphrase: str, identity: str) -> bytes:
    """The chain's key: bound to the passphrase and to this data file's lasting identity."""
    return hmac.new(passphrase.encode("utf-8"), _KEY_CONTEXT + identity.encode("utf-8"), hashlib.sha256).digest()


def key_id(key: bytes | None) -> str:
    """A short name of a key (empty for the unkeyed chain); tells anchors of different keys apart."""
    return "" if key is None else hmac.new(key, b"key id", hashlib.sha256).hexdigest()[:16]


def _iso(at: datetime | str) -> str:
    """The time as the chain hashes it: ISO 8601 in UTC (rows read straight from SQLite carry text)."""
    if isinstance(at, str):
        if len(at) == 26 and at[10] == " ":  # how the model stores UTC: YYYY-MM-DD HH:MM:SS.ffffff
            fraction = at[19:]
            return f"{at[:10]}T{at[11:19]}{'' if fraction == '.000000' else fraction}+00:00"
        at = datetime.fromisoformat(at)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat()


def seal_payload(seq: int, at: datetime | str, actor: str, action: str, entity: str, entity_id: str, detail: str,
                 prev_hash: str) -> bytes:
    """What is hashed: exactly ``json.dumps([seq, at, ...], ensure_ascii=False, separators=(",", ":"))``,
    built from the C string escaper directly (half the time; verify seals every entry again)."""
    q = _json_string
    return (f"[{int(seq)},{q(_iso(at))},{q(actor)},{q(action)},{q(entity)},{q(entity_id)},{q(detail)},"
            f"{q(prev_hash)}]").encode()


def seal(seq: int, at: datetime | str, actor: str, action: str, entity: str, entity_id: str, detail: str,
         prev_hash: str, key: bytes | None) -> str:
    payload = seal_payload(seq, at, actor, action, entity, entity_id, detail, prev_hash)
    if key is None:
        return hashlib.sha256(payload).hexdigest()
    return KEYED_PREFIX + hmac.new(key, payload, hashlib.sha256).hexdigest()


def record_event(
    session: Session,
    actor: str,
    action: str,
    entity: str = "",
    entity_id: str = "",
    detail: dict[str, Any] | str = "",
    at: datetime | None = None,
    *,
    key: bytes | None = None,
) -> AuditEvent:
    """Append one event inside the caller's write transaction (``key``: the store's ``audit_key``)."""
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
    event.hash = seal(event.seq, event.at, event.actor, event.action, event.entity, event.entity_id, event.detail,
                      event.prev_hash, key)
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


@dataclass(frozen=True)
class Anchor:
    """The head of a trail as it was at one moment, kept outside the data file."""

    seq: int
    hash: str
    key_id: str
    at: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash, "key_id": self.key_id, "at": self.at, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Anchor:
        return cls(int(data["seq"]), str(data["hash"]), str(data.get("key_id", "")), str(data.get("at", "")),
                   str(data.get("reason", "")))

    @property
    def when(self) -> str:
        return self.at[:16].replace("T", " ") or "an unknown time"


MAX_BREAKS_LISTED = 200


@dataclass
class ChainReport:
    """What one walk over the chain found (the first breaks; ``break_count`` counts them all)."""

    entries: int = 0
    head_seq: int = 0
    head_hash: str = ""
    breaks: list[ChainBreak] = field(default_factory=list)
    break_count: int = 0
    anchors_checked: int = 0

    def add(self, seq: int, reason: str) -> None:
        self.break_count += 1
        if len(self.breaks) < MAX_BREAKS_LISTED:
            self.breaks.append(ChainBreak(seq, reason))


Row = Sequence[Any]  # (seq, at, actor, action, entity, entity_id, detail, prev_hash, hash)


def audit_rows(connection: SqliteConnection | Connection) -> Iterator[Row]:
    """Every entry in order, read as plain rows without loading them all (a DB-API or SQLAlchemy connection)."""
    query = f"SELECT {AUDIT_COLUMNS} FROM auditevent ORDER BY seq"
    if isinstance(connection, Connection):
        yield from connection.exec_driver_sql(query)
    else:
        yield from connection.execute(query)


def walk_chain(rows: Iterable[Row], key: bytes | None, anchors: Sequence[Anchor] = (),
               observe: Callable[[Row], None] | None = None) -> ChainReport:
    """Check the chain in one pass: order, links, each entry's seal (keyed when ``key`` is given),
    and each anchor: an anchor of the same key must name an entry with the same hash; one of any
    key must not be further along than the trail. ``observe`` sees each row."""
    report = ChainReport()
    pending = sorted(anchors, key=lambda anchor: anchor.seq)
    current_key_id = key_id(key)
    matched: Anchor | None = None
    previous_hash = ""
    expected_seq = 1
    for row in rows:
        seq, at, actor, action, entity, entity_id, detail, prev_hash, stored = row
        if seq != expected_seq:
            report.add(seq, f"entry {expected_seq} is missing before entry {seq}")
        if prev_hash != previous_hash:
            report.add(seq, f"entry {seq} does not follow the entry before it")
        if key is not None and not stored.startswith(KEYED_PREFIX):
            report.add(seq, f"entry {seq} is not sealed with this data file's key: it was written or re-hashed "
                            "without the passphrase")
        elif key is None and stored.startswith(KEYED_PREFIX):
            report.add(seq, f"entry {seq} is sealed with a key, but this data file is not encrypted, so the seal "
                            "cannot be checked")
        elif not hmac.compare_digest(seal(seq, at, actor, action, entity, entity_id, detail, prev_hash, key), stored):
            report.add(seq, f"entry {seq} was changed after it was written")
        while pending and pending[0].seq <= seq:
            anchor = pending.pop(0)
            if anchor.key_id != current_key_id or anchor.seq < seq:
                continue  # made under another passphrase, or its entry is missing (reported above)
            report.anchors_checked += 1
            if hmac.compare_digest(anchor.hash, stored):
                matched = anchor
                continue
            since = f" (after entry {matched.seq}, which matches its anchor of {matched.when})" if matched else ""
            report.add(seq, f"entry {seq} is not the entry anchored on {anchor.when} ({anchor.reason}): the trail "
                            f"was rewritten at or before entry {seq}{since}")
        if observe is not None:
            observe(row)
        previous_hash = stored
        expected_seq = seq + 1
        report.entries += 1
        report.head_seq, report.head_hash = seq, stored
    if pending:
        report.anchors_checked += len(pending)
        furthest = pending[-1]
        if report.head_seq == 0:
            reason = (f"the trail is empty, but on {furthest.when} ({furthest.reason}) it had reached entry "
                      f"{furthest.seq}: every entry was removed")
        else:
            reason = (f"the trail ends at entry {report.head_seq}, but on {furthest.when} ({furthest.reason}) it "
                      f"had reached entry {furthest.seq}: entries {report.head_seq + 1}-{furthest.seq} were removed")
        report.add(report.head_seq + 1, reason)
    return report


def dbapi_connection(session: Session) -> SqliteConnection:
    """The driver's own connection under a session: plain rows, read lazily, without per-row overhead."""
    connection = session.connection().connection.dbapi_connection
    assert connection is not None, "a session in a transaction has its driver connection"
    # SQLAlchemy types it as any DB-API connection; ours are sqlite3's (or SQLCipher's, alike).
    return cast("SqliteConnection", connection)


def verify_chain(session: Session, key: bytes | None = None, anchors: Sequence[Anchor] = (),
                 observe: Callable[[Row], None] | None = None) -> ChainReport:
    return walk_chain(audit_rows(dbapi_connection(session)), key, anchors, observe)


@dataclass
class ResealResult:
    entries: int
    breaks: list[ChainBreak]
    new_hashes: dict[int, tuple[str, str]]  # seq -> (hash before, hash after), for the seqs asked for


RESEAL_BATCH = 2000


def reseal_chain(connection: SqliteConnection, old_key: bytes | None, new_key: bytes | None,
                 keep_seqs: Iterable[int] = ()) -> ResealResult:
    """Re-hash every entry under ``new_key`` on a DB-API ``connection`` inside the caller's
    transaction, after checking each under ``old_key``. What did not hold is returned, so that it
    is recorded in the trail rather than silently sealed over."""
    wanted = set(keep_seqs)
    seen: dict[int, tuple[str, str]] = {}
    updates: list[tuple[str, str, int]] = []
    previous_new = ""

    def flush() -> None:
        connection.executemany("UPDATE auditevent SET prev_hash = ?, hash = ? WHERE seq = ?", updates)
        updates.clear()

    def resealed(rows: Iterable[Row]) -> Iterator[Row]:
        nonlocal previous_new
        for row in rows:
            seq, at, actor, action, entity, entity_id, detail, _prev, stored = row
            new_hash = seal(seq, at, actor, action, entity, entity_id, detail, previous_new, new_key)
            updates.append((previous_new, new_hash, seq))
            if seq in wanted:
                seen[seq] = (stored, new_hash)
            previous_new = new_hash
            if len(updates) >= RESEAL_BATCH:
                flush()
            yield row

    report = walk_chain(resealed(audit_rows(connection)), old_key)
    flush()
    return ResealResult(report.entries, report.breaks, seen)


def head(session: Session) -> tuple[int, str]:
    """The last entry's sequence number and hash ((0, "") for an empty trail)."""
    row = session.connection().exec_driver_sql("SELECT seq, hash FROM auditevent ORDER BY seq DESC LIMIT 1").first()
    return (int(row[0]), str(row[1])) if row else (0, "")

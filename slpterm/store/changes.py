"""Which records each committed write changed, for readers that keep what they computed from them
(``store.db.changes``; "what is due" per patient is the first).

Every write of the store names what it changed in the audit trail (entity and id); the same names
are noted here when the write commits. A write that changed records without naming any (a bulk
write, a new kind of write) is noted as "anything may have changed", so a reader never keeps a
result that a write made stale. Only the newest entries are kept; a reader that fell further behind
is told that anything may have changed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlmodel import Session

SESSION_INFO_KEY = "slpterm.changed"
KEPT = 20_000


@dataclass(frozen=True, slots=True)
class Change:
    """One record a write changed, as the audit trail names it (``detail`` is the audit's detail)."""

    entity: str
    entity_id: str
    detail: object = None


@dataclass(frozen=True, slots=True)
class ChangesSince:
    """What was written after a reader's position: ``changes``, unless ``anything`` may have changed."""

    position: int
    changes: tuple[Change, ...]
    anything: bool


class ChangeLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[tuple[int, Change | None]] = []  # (position, change or None for "anything")
        self._position = 0

    @property
    def position(self) -> int:
        """The position after the newest write; a reader starts here."""
        return self._position

    def committed(self, changes: list[Change] | None) -> None:
        """A write committed; ``changes`` are the records it named (None or empty: unknown)."""
        with self._lock:
            self._position += 1
            if changes:
                self._entries.extend((self._position, change) for change in changes)
            else:
                self._entries.append((self._position, None))
            if len(self._entries) > KEPT:
                del self._entries[: len(self._entries) - KEPT // 2]

    def anything_changed(self) -> None:
        """Something outside the records' writes changed what readers computed (e.g. the rules)."""
        self.committed(None)

    def since(self, position: int) -> ChangesSince:
        """The changes written after ``position`` (from :attr:`position` or an earlier ``since``)."""
        with self._lock:
            now = self._position
            if position >= now:
                return ChangesSince(now, (), False)
            oldest = self._entries[0][0] if self._entries else now + 1
            if position + 1 < oldest:
                return ChangesSince(now, (), True)
            newer = [change for at, change in self._entries if at > position]
        if any(change is None for change in newer):
            return ChangesSince(now, (), True)
        return ChangesSince(now, tuple(change for change in newer if change is not None), False)


def note(session: Session, entity: str, entity_id: str, detail: object = None) -> None:
    """Note inside a write transaction that it changes ``entity`` ``entity_id``."""
    session.info.setdefault(SESSION_INFO_KEY, []).append(Change(entity, entity_id, detail))

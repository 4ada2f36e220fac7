"""Protecting one open data file: passphrase, lock PIN, idle lock, audit trail, backups.

The app's lifecycle (open, lock, unlock, close) and the security and audit screens go through
:class:`SecurityService`; the store's security repository does the work.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from slpterm.domain.clock import Clock
    from slpterm.store.audit import Anchor
    from slpterm.store.security import AuditEntry, TrailReport, UnlockResult
    from slpterm.store.store import Store


class SecurityService:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    # -- the data file ----------------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        return self._store.data_dir

    @property
    def encrypted(self) -> bool:
        return self._store.security.encrypted

    def opened(self, where: str = "app") -> str | None:
        """Record the opening (and failed starts before it) in the audit trail; a message when the
        trail no longer matches its last anchor (it was changed behind slpterm's back), else None."""
        security = self._store.security
        security.collect_start_failures()
        security.record("open", where, "", {"data_file": str(self._store.path)})
        return security.check_last_anchor()

    def opened_for_a_command(self) -> str | None:
        """A command opened the data file: failed starts before it go into the trail (the opening
        itself is not an entry); a message when the trail no longer matches its last anchor."""
        security = self._store.security
        security.collect_start_failures()
        return security.check_last_anchor()

    def close(self) -> None:
        """Write the trail's anchor and close the data file."""
        self._store.security.write_anchor("close")
        self._store.close()

    def write_anchor(self, reason: str) -> Anchor | None:
        """Keep the audit trail's head outside the data file (it shows later tampering)."""
        return self._store.security.write_anchor(reason)

    # -- passphrase, PIN, idle lock -----------------------------------------------------------------
    @staticmethod
    def encryption_available() -> bool:
        """Whether this machine can encrypt a data file (the SQLCipher package is installed)."""
        from slpterm.store.crypto import encryption_available

        return encryption_available()

    def is_passphrase(self, secret: str | None) -> bool:
        return self._store.security.is_passphrase(secret)

    def require_current(self, current: str | None, what: str) -> None:
        """Raise ValidationFailed unless ``current`` is the passphrase (or PIN) changing ``what`` needs."""
        self._store.security.require_current(current, what)

    def set_passphrase(self, new_passphrase: str | None, *, current: str | None = None) -> dict[str, Any]:
        """Encrypt with ``new_passphrase`` (None removes the encryption)."""
        return self._store.security.set_passphrase(new_passphrase, current=current)

    def has_pin(self) -> bool:
        return self._store.security.has_pin()

    def set_pin(self, pin: str | None, *, current: str | None = None) -> None:
        self._store.security.set_pin(pin, current=current)

    @property
    def pin_locked_out(self) -> bool:
        return self._store.security.pin_locked_out

    def can_verify_unlock(self) -> bool:
        return self._store.security.can_verify_unlock()

    def unlock(self, secret: str) -> UnlockResult:
        return self._store.security.unlock(secret)

    def idle_minutes(self) -> int:
        return self._store.security.idle_minutes()

    def set_idle_minutes(self, minutes: int) -> None:
        self._store.security.set_idle_minutes(minutes)

    # -- the audit trail ------------------------------------------------------------------------------
    def record(self, action: str, entity: str, entity_id: str, detail: dict[str, Any] | str = "") -> None:
        self._store.security.record(action, entity, entity_id, detail)

    def audit_entries(self, text: str = "", limit: int = 5000) -> list[AuditEntry]:
        return self._store.security.audit_entries(text, limit=limit)

    def verify(self, extra_anchors: Sequence[Anchor] = ()) -> TrailReport:
        """The whole trail checked, against its own anchors and ``extra_anchors`` (from export
        batches or backups)."""
        return self._store.security.verify(extra_anchors=extra_anchors)

    # -- backups ----------------------------------------------------------------------------------------
    def backup(self, out: Path | None = None) -> Path:
        """A consistent copy of the data file, encrypted when the data is."""
        from slpterm.store.backup import backup_store

        return backup_store(self._store, out)

    def backup_is_due(self) -> bool:
        from slpterm.store.backup import backup_is_due

        return backup_is_due(self._store, self._clock.now())

    def plaintext_backups(self) -> list[Path]:
        """Unencrypted copies of the data beside an encrypted data file."""
        from slpterm.store.backup import plaintext_backups

        return plaintext_backups(self._store)

    def encrypt_backup(self, path: Path) -> None:
        from slpterm.store.backup import encrypt_backup

        encrypt_backup(self._store, path)

    def delete_backup(self, path: Path) -> None:
        from slpterm.store.backup import delete_backup

        delete_backup(self._store, path)

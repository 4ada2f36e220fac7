"""Passphrase, PIN, idle lock and the audit trail as the app and the command line use them."""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from slpterm.store.audit import record_event
from slpterm.store.base import Repository
from slpterm.store.crypto import encryption_available
from slpterm.store.errors import EncryptionUnavailable, ValidationFailed
from slpterm.store.models import AuditEvent

DEFAULT_IDLE_MINUTES = 5
MIN_PASSPHRASE_LENGTH = 8
PIN_SETTING = "lock_pin_hash"
IDLE_SETTING = "idle_lock_minutes"


def _hash_secret(secret: str, salt: bytes) -> str:
    digest = hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=2**14, r=8, p=1)
    return salt.hex() + ":" + digest.hex()


def _matches(secret: str, stored: str) -> bool:
    salt_hex, _, _ = stored.partition(":")
    try:
        salt = bytes.fromhex(salt_hex)
    except ValueError:
        return False
    return hmac.compare_digest(_hash_secret(secret, salt), stored)


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    detail: str


class SecurityRepository(Repository):
    # -- passphrase and PIN -----------------------------------------------------------------
    @property
    def encrypted(self) -> bool:
        return self.db.encrypted

    def set_passphrase(self, new_passphrase: str | None) -> None:
        """Encrypt the file with a new passphrase (or remove encryption with None); recorded in the audit."""
        if new_passphrase is not None:
            if len(new_passphrase) < MIN_PASSPHRASE_LENGTH:
                raise ValidationFailed([("Passphrase", f"use at least {MIN_PASSPHRASE_LENGTH} characters; a few "
                                                       "words are easier to remember than symbols")])
            if not encryption_available():
                raise EncryptionUnavailable(
                    "Encryption needs SQLCipher (the sqlcipher3 package), which is not installed here: "
                    "pip install sqlcipher3")
        self.db.rekey(new_passphrase)
        with self.db.write() as session:
            record_event(session, self.store.actor, "passphrase-set" if new_passphrase else "passphrase-removed",
                         "datafile", str(self.db.path.name))

    def set_pin(self, pin: str | None) -> None:
        if pin is not None and (not pin.isdigit() or not 4 <= len(pin) <= 12):
            raise ValidationFailed([("PIN", "use 4 to 12 digits")])
        value = _hash_secret(pin, os.urandom(16)) if pin else ""
        self.store.clinic.set_setting(PIN_SETTING, value)

    def has_pin(self) -> bool:
        return bool(self.store.clinic.get_setting(PIN_SETTING))

    def unlock(self, secret: str) -> bool:
        """True when ``secret`` is the file's passphrase or the lock PIN; every attempt is audited."""
        stored_pin = self.store.clinic.get_setting(PIN_SETTING)
        passphrase = self.db.passphrase
        ok = bool(secret) and (
            (passphrase is not None and hmac.compare_digest(secret.encode(), passphrase.encode()))
            or (bool(stored_pin) and _matches(secret, stored_pin))
        )
        self.record("unlock" if ok else "unlock-failed", "app", "")
        return ok

    def can_verify_unlock(self) -> bool:
        return self.db.passphrase is not None or self.has_pin()

    def idle_minutes(self) -> int:
        value = self.store.clinic.get_setting(IDLE_SETTING, str(DEFAULT_IDLE_MINUTES))
        return int(value) if value.isdigit() else DEFAULT_IDLE_MINUTES

    def set_idle_minutes(self, minutes: int) -> None:
        if not 1 <= minutes <= 240:
            raise ValidationFailed([("Lock after", "choose between 1 and 240 minutes")])
        self.store.clinic.set_setting(IDLE_SETTING, str(minutes))

    # -- audit ----------------------------------------------------------------------------------
    def record(self, action: str, entity: str, entity_id: str, detail: dict | str = "") -> None:
        with self.db.write(changes_records=False) as session:
            record_event(session, self.store.actor, action, entity, entity_id, detail)

    def audit_entries(self, text: str = "", limit: int = 5000) -> list[AuditEntry]:
        """Newest first; ``text`` filters on actor, action, entity and detail (case-insensitive)."""
        with self.db.read() as session:
            query = select(AuditEvent).order_by(col(AuditEvent.seq).desc())
            for word in text.lower().split():
                pattern = f"%{word}%"
                query = query.where(
                    col(AuditEvent.actor).ilike(pattern) | col(AuditEvent.action).ilike(pattern)
                    | col(AuditEvent.entity).ilike(pattern) | col(AuditEvent.detail).ilike(pattern)
                    | col(AuditEvent.entity_id).ilike(pattern)
                )
            return [
                AuditEntry(e.seq, e.at, e.actor, e.action, e.entity, e.entity_id, e.detail)
                for e in session.exec(query.limit(limit))
            ]

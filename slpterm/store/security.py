"""Passphrase, PIN, idle lock and the audit trail as the app and the command line use them."""

from __future__ import annotations

import getpass
import hashlib
import hmac
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select

from slpterm.paths import open_private
from slpterm.store.anchors import AnchorBook, AnchorUnreadable, now_text, others_at
from slpterm.store.audit import (
    KEYED_PREFIX,
    Anchor,
    ChainBreak,
    ChainReport,
    ResealResult,
    dbapi_connection,
    derive_audit_key,
    head,
    key_id,
    record_event,
    reseal_chain,
    verify_chain,
)
from slpterm.store.base import Repository
from slpterm.store.crypto import encryption_available
from slpterm.store.errors import EncryptionUnavailable, StoreError, ValidationFailed
from slpterm.store.models import AppSetting, AuditEvent
from slpterm.store.signing import SignatureCollector, SignatureProblem, check_signatures

if TYPE_CHECKING:
    from slpterm.store.datafile import SqliteConnection
    from slpterm.store.store import Store

DEFAULT_IDLE_MINUTES = 5
MIN_PASSPHRASE_LENGTH = 8
PIN_ATTEMPTS = 5
PIN_SETTING = "lock_pin_hash"
IDLE_SETTING = "idle_lock_minutes"
# Beside the data file: failed passphrases at start-up, written at once (the encrypted file cannot
# be written without the passphrase) and moved into the audit trail at the next successful open.
FAILED_UNLOCKS_FILE_NAME = "slpterm.failed-unlocks"
BREAKS_RECORDED = 20


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


def _same(secret: str | None, known: str | None) -> bool:
    return bool(secret and known is not None and hmac.compare_digest(secret.encode("utf-8"), known.encode("utf-8")))


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name on this system
        return ""


def record_failed_start(data_dir: Path, where: str) -> None:
    """Note a wrong passphrase at start-up at once, beside the data file (best effort)."""
    line = json.dumps({"at": datetime.now(UTC).isoformat(), "user": _os_user(), "where": where}) + "\n"
    try:
        with open_private(Path(data_dir) / FAILED_UNLOCKS_FILE_NAME, append=True) as handle:
            handle.write(line.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
    except OSError:
        pass


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    detail: str


@dataclass(frozen=True)
class UnlockResult:
    ok: bool
    message: str = ""
    pin_locked_out: bool = False


@dataclass
class TrailReport:
    """``slpterm audit verify``: the chain, the anchors and every signature, checked in one go."""

    chain: ChainReport
    signature_problems: list[SignatureProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    keyed: bool = False

    @property
    def breaks(self) -> list[ChainBreak]:
        return self.chain.breaks + [ChainBreak(problem.seq, problem.reason) for problem in self.signature_problems]

    @property
    def problem_count(self) -> int:
        return self.chain.break_count + len(self.signature_problems)

    @property
    def ok(self) -> bool:
        return self.problem_count == 0


class SecurityRepository(Repository):
    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self._failed_pin_attempts = 0

    # -- passphrase and PIN -----------------------------------------------------------------
    @property
    def encrypted(self) -> bool:
        return self.db.encrypted

    def is_passphrase(self, secret: str | None) -> bool:
        return _same(secret, self.db.passphrase)

    def require_current(self, current: str | None, what: str) -> None:
        """Changing the PIN or the encryption needs the passphrase (the PIN when there is none)."""
        if self.db.passphrase is not None:
            if self.is_passphrase(current):
                return
            self.record("security-refused", "app", "", {"change": what, "reason": "wrong or missing passphrase"})
            raise ValidationFailed([("Current passphrase", f"type the data file's passphrase to change {what}")])
        stored_pin = self.store.clinic.get_setting(PIN_SETTING)
        if stored_pin and not (current and _matches(current, stored_pin)):
            self.record("security-refused", "app", "", {"change": what, "reason": "wrong or missing PIN"})
            raise ValidationFailed([("Current passphrase", f"no passphrase is set: type the current PIN to change "
                                                           f"{what}")])

    def set_passphrase(self, new_passphrase: str | None, *, current: str | None = None) -> dict[str, Any]:
        """Encrypt the file with a new passphrase (or remove encryption with None). An encrypted file
        needs its current passphrase. The audit trail is checked and re-sealed under the new key in
        the same step; what the check found is recorded. Returns that record."""
        if new_passphrase is not None:
            if len(new_passphrase) < MIN_PASSPHRASE_LENGTH:
                raise ValidationFailed([("Passphrase", f"use at least {MIN_PASSPHRASE_LENGTH} characters; a few "
                                                       "words are easier to remember than symbols")])
            if not encryption_available():
                raise EncryptionUnavailable(
                    "Encryption needs SQLCipher (the sqlcipher3 package), which is not installed here: "
                    "pip install sqlcipher3")
        if self.db.passphrase is not None:
            self.require_current(current, "the encryption")
        identity = self.store.clinic.identity()
        old_key = self.store.audit_key
        new_key = derive_audit_key(new_passphrase, identity) if new_passphrase else None
        book = self.anchor_book()
        anchored = self._readable_anchors(book)
        resealed: dict[str, ResealResult] = {}

        def reseal(connection: SqliteConnection) -> None:
            resealed["result"] = reseal_chain(connection, old_key, new_key, [anchor.seq for anchor in anchored])

        self.db.rekey(new_passphrase, prepare_copy=reseal)
        self.store.audit_key = new_key
        result = resealed.get("result")
        detail = self._reseal_detail(result)
        self.record("passphrase-set" if new_passphrase else "passphrase-removed", "datafile", str(self.db.path.name),
                    detail)
        if result is not None and anchored:
            book.replace_hashes(result.new_hashes, key_id(new_key))
        self.write_anchor("passphrase change")
        return detail

    @staticmethod
    def _reseal_detail(result: ResealResult | None) -> dict[str, Any]:
        if result is None:
            return {}
        return {"resealed_entries": result.entries, "problems_found": len(result.breaks),
                "problems": [f"{item.seq}: {item.reason}" for item in result.breaks[:BREAKS_RECORDED]]}

    def set_pin(self, pin: str | None, *, current: str | None = None) -> None:
        """Set (or with None remove) the lock PIN; needs the passphrase, or the old PIN without one."""
        if pin is not None and (not pin.isdigit() or not 4 <= len(pin) <= 12):
            raise ValidationFailed([("PIN", "use 4 to 12 digits")])
        self.require_current(current, "the lock PIN")
        value = _hash_secret(pin, os.urandom(16)) if pin else ""
        with self.db.write() as session:
            setting = session.get(AppSetting, PIN_SETTING) or AppSetting(key=PIN_SETTING)
            setting.value = value
            session.add(setting)
            self.audit(session, "pin-set" if pin else "pin-removed", "appsetting", PIN_SETTING)
        self._failed_pin_attempts = 0

    def has_pin(self) -> bool:
        return bool(self.store.clinic.get_setting(PIN_SETTING))

    @property
    def pin_locked_out(self) -> bool:
        return self._failed_pin_attempts >= PIN_ATTEMPTS

    def unlock(self, secret: str) -> UnlockResult:
        """Check ``secret`` against the passphrase and the lock PIN; every attempt is audited at once.
        After ``PIN_ATTEMPTS`` wrong attempts in a row only the passphrase unlocks."""
        if self.is_passphrase(secret):
            self._failed_pin_attempts = 0
            self.record("unlock", "app", "", {"with": "passphrase"})
            return UnlockResult(True)
        stored_pin = self.store.clinic.get_setting(PIN_SETTING)
        if stored_pin and not self.pin_locked_out and secret and _matches(secret, stored_pin):
            self._failed_pin_attempts = 0
            self.record("unlock", "app", "", {"with": "PIN"})
            return UnlockResult(True)
        was_locked_out = self.pin_locked_out
        self._failed_pin_attempts += 1
        self.record("unlock-failed", "app", "", {"failed_attempts": self._failed_pin_attempts})
        if self.pin_locked_out and not was_locked_out and stored_pin:
            self.record("pin-locked-out", "app", "", {"after_attempts": PIN_ATTEMPTS})
        if not self.pin_locked_out or not stored_pin:
            left = PIN_ATTEMPTS - self._failed_pin_attempts
            hint = f" {left} more tr{'y' if left == 1 else 'ies'} with the PIN." if stored_pin and left > 0 else ""
            return UnlockResult(False, "That is not the passphrase or PIN." + hint)
        if self.db.passphrase is not None:
            return UnlockResult(False, "Too many wrong attempts: the PIN no longer unlocks. Enter the passphrase "
                                       "of the data file.", pin_locked_out=True)
        return UnlockResult(False, "Too many wrong attempts: the PIN no longer unlocks, and this data file has no "
                                   "passphrase. ctrl+q saves what you typed and quits.", pin_locked_out=True)

    def can_verify_unlock(self) -> bool:
        return self.db.passphrase is not None or self.has_pin()

    def idle_minutes(self) -> int:
        value = self.store.clinic.get_setting(IDLE_SETTING, str(DEFAULT_IDLE_MINUTES))
        return int(value) if value.isdigit() else DEFAULT_IDLE_MINUTES

    def set_idle_minutes(self, minutes: int) -> None:
        if not 1 <= minutes <= 240:
            raise ValidationFailed([("Lock after", "choose between 1 and 240 minutes")])
        self.store.clinic.set_setting(IDLE_SETTING, str(minutes))

    def collect_start_failures(self) -> int:
        """Move the failed start-up passphrases noted beside the data file into the audit trail."""
        path = self.store.data_dir / FAILED_UNLOCKS_FILE_NAME
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return 0
        recorded = 0
        with self.db.write(changes_records=False) as session:
            for line in lines:
                try:
                    noted = json.loads(line)
                    at = datetime.fromisoformat(noted["at"])
                except (ValueError, KeyError, TypeError):
                    continue
                record_event(session, noted.get("user") or self.store.actor, "unlock-failed", "app", "",
                             {"wrong_passphrase_at_start": noted.get("where", "")}, at=at, key=self.store.audit_key)
                recorded += 1
        path.unlink(missing_ok=True)
        return recorded

    # -- audit ----------------------------------------------------------------------------------
    def record(self, action: str, entity: str, entity_id: str, detail: dict[str, Any] | str = "") -> None:
        with self.db.write(changes_records=False) as session:
            self.audit(session, action, entity, entity_id, detail)

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

    # -- the keyed, anchored trail -------------------------------------------------------------
    def prepare_trail(self) -> None:
        """On opening: derive the chain's key from the passphrase of an encrypted file, and seal a
        trail written before the file was encrypted (or by an older slpterm) under it."""
        if not self.db.encrypted or self.db.passphrase is None:
            self.store.audit_key = None
            return
        identity = self.store.clinic.identity()
        self.store.audit_key = derive_audit_key(self.db.passphrase, identity)
        with self.db.read() as session:
            last_seq, last_hash = head(session)
            if not last_seq or last_hash.startswith(KEYED_PREFIX):
                return
            # Only a trail that was never keyed is sealed (one from before encryption, from an older
            # slpterm, or a plain backup restored); one keyed in part is left for verify to report.
            partly_keyed = session.connection().exec_driver_sql(
                "SELECT 1 FROM auditevent WHERE hash LIKE ? LIMIT 1", (KEYED_PREFIX + "%",)).first()
        if partly_keyed is None:
            self._seal_unkeyed_trail()

    def _seal_unkeyed_trail(self) -> None:
        book = self.anchor_book()
        anchored = self._readable_anchors(book)
        with self.db.write(changes_records=False) as session:
            anchored_seqs = [anchor.seq for anchor in anchored]
            result = reseal_chain(dbapi_connection(session), None, self.store.audit_key, anchored_seqs)
            self.audit(session, "audit-sealed", "auditevent", "", self._reseal_detail(result))
        if anchored:
            book.replace_hashes(result.new_hashes, key_id(self.store.audit_key))

    def anchor_book(self) -> AnchorBook:
        return AnchorBook(self.store.anchor_folder, self.store.clinic.identity())

    @staticmethod
    def _readable_anchors(book: AnchorBook) -> list[Anchor]:
        try:
            return book.anchors()
        except AnchorUnreadable:
            return []

    def head_anchor(self, reason: str) -> Anchor | None:
        """The trail's head now, as an anchor (None for an empty trail)."""
        with self.db.read() as session:
            seq, hash_ = head(session)
        if not seq:
            return None
        return Anchor(seq, hash_, key_id(self.store.audit_key), now_text(), reason)

    def write_anchor(self, reason: str) -> Anchor | None:
        """Write the head into the anchor file in the user's config folder (best effort: a folder
        that cannot be written leaves the previous anchor in place)."""
        try:
            anchor = self.head_anchor(reason)
            if anchor is not None:
                self.anchor_book().add(anchor, self.db.path)
        except (OSError, AnchorUnreadable, StoreError, SQLAlchemyError):
            return None
        return anchor

    def check_last_anchor(self) -> str | None:
        """A quick look on opening: does the trail still reach the last anchor, with the same entry?
        (The full check is :meth:`verify`.) Returns what is wrong, or None."""
        try:
            anchors = self.anchor_book().anchors()
        except (OSError, AnchorUnreadable):
            return None
        current = key_id(self.store.audit_key)
        latest = max(anchors, key=lambda anchor: anchor.seq, default=None)
        if latest is None:
            return None
        with self.db.read() as session:
            row = session.connection().exec_driver_sql("SELECT hash FROM auditevent WHERE seq = ?",
                                                       (latest.seq,)).first()
        if row is None:
            return (f"The audit trail is shorter than on {latest.when}, when it reached entry {latest.seq}: entries "
                    "were removed from the data file. Run slpterm audit verify for the details.")
        if latest.key_id == current and row[0] != latest.hash:
            return (f"Entry {latest.seq} of the audit trail is not the one anchored on {latest.when}: the trail was "
                    "rewritten. Run slpterm audit verify for the details.")
        return None

    def verify(self, extra_anchors: Sequence[Anchor] = ()) -> TrailReport:
        """One pass over the trail (order, links, seals, anchors), then every signature."""
        notes: list[str] = []
        book = self.anchor_book()
        try:
            anchors = book.anchors()
        except AnchorUnreadable as error:
            anchors = []
            notes.append(f"{error} Only what the data file itself holds was checked.")
        if not anchors:
            notes.append(f"No anchor of this trail was found in {book.folder}: a trail cut short or rewritten as a "
                         "whole cannot be ruled out. The app and the commands write one when they close the file.")
            others = others_at(book.folder, self.db.path, book.identity)
            if others:
                notes.append(f"Another data file was anchored at {self.db.path} before (identity {others[0]}): this "
                             "file may have been replaced.")
        collector = SignatureCollector()
        with self.db.read() as session:
            chain = verify_chain(session, self.store.audit_key, [*anchors, *extra_anchors], observe=collector)
            problems = check_signatures(dbapi_connection(session), collector)
        return TrailReport(chain, problems, notes, keyed=self.store.audit_key is not None)

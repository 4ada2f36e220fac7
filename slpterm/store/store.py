"""The store API that screens and commands call; they never build SQL themselves."""

from __future__ import annotations

import os
from pathlib import Path

from slpterm import paths
from slpterm.store.audit import ChainBreak
from slpterm.store.billing_facts import BillingFactsRepository
from slpterm.store.billing_reads import BillingReadRepository
from slpterm.store.caseload import CaseloadRepository
from slpterm.store.claims import ClaimRegister
from slpterm.store.clinic import ClinicRepository
from slpterm.store.db import DATABASE_FILE_NAME, Database
from slpterm.store.due_facts import DueFactsReader
from slpterm.store.exports import ExportRepository
from slpterm.store.folder_lock import DataFolderLock
from slpterm.store.patients import PatientRepository
from slpterm.store.progress import ProgressReadings
from slpterm.store.remittances import RemittanceRepository
from slpterm.store.schedule import ScheduleRepository
from slpterm.store.security import SecurityRepository
from slpterm.store.sessions import SessionRepository


def default_actor() -> str:
    return os.environ.get("USER") or os.environ.get("USERNAME") or "clinician"


class Store:
    """One open data directory.

    ``actor`` names who makes the changes in the audit trail; the app sets it to the signed-in
    clinician once known. ``audit_key`` seals the audit trail of an encrypted file (derived from
    its passphrase); ``anchor_folder`` is where the trail's head is written down outside the file.
    """

    def __init__(self, data_dir: Path, passphrase: str | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.db = Database(self.data_dir / DATABASE_FILE_NAME, passphrase)
        # Held while open, so no other slpterm replaces the file (restore, passphrase change) under it.
        self.folder_lock = DataFolderLock(self.data_dir)
        self.db.exclusive_access = self.folder_lock.exclusive
        self.actor = default_actor()
        self.audit_key: bytes | None = None
        self.anchor_folder = paths.anchor_dir()
        self.clinic = ClinicRepository(self)
        self.patients = PatientRepository(self)
        self.caseload = CaseloadRepository(self)
        self.sessions = SessionRepository(self)
        self.exports = ExportRepository(self)
        self.claims = ClaimRegister(self)
        self.security = SecurityRepository(self)
        self.billing_facts = BillingFactsRepository(self)
        self.billing_reads = BillingReadRepository(self)
        self.due_facts = DueFactsReader(self)
        self.progress = ProgressReadings(self)
        self.remittances = RemittanceRepository(self)
        self.schedule = ScheduleRepository(self)
        try:
            self.security.prepare_trail()
        except BaseException:
            self.db.close()
            raise

    @property
    def path(self) -> Path:
        return self.db.path

    def verify_audit_chain(self) -> list[ChainBreak]:
        """Every problem ``slpterm audit verify`` finds (empty when the trail holds)."""
        return self.security.verify().breaks

    def close(self) -> None:
        self.db.close()
        self.folder_lock.close()


def open_store(data_dir: Path, passphrase: str | None = None) -> Store:
    """Open (or create) the data file in ``data_dir``; an encrypted file needs its passphrase.

    This Python API creates a new data file in a folder without one (the demo generator and the
    tests rely on it); the ``slpterm`` app asks first and its commands refuse (``slpterm.cli``).
    """
    return Store(data_dir, passphrase)

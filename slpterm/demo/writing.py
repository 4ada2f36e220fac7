"""Opening the target data file and writing generated rows into it quickly."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import func, select

from slpterm.demo.builder import ClinicBuilder, Rows, write_rows
from slpterm.store import Store, datafile, open_store
from slpterm.store.audit import record_event
from slpterm.store.models import Clinic, Patient

# Pages kept in memory while generating (negative = KiB); large generations touch the same index
# pages again and again.
GENERATION_CACHE_KIB = 262144


class DemoTargetNotEmpty(Exception):
    """The chosen data directory already holds a clinic; demo data is only written into an empty one."""


@dataclass(frozen=True)
class DemoSummary:
    """What a generation wrote (for tests, the command line and benchmarks)."""

    path: Path
    clinicians: int
    patients: int
    sessions: int
    participants: int
    signed: int
    drafts: int
    trials: int
    seconds: float
    file_bytes: int


def open_empty_store(data_dir: Path) -> Store:
    """Open (creating) the data file in ``data_dir``; refuse one that already has a clinic or patients."""
    store = open_store(Path(data_dir))
    with store.db.read() as session:
        clinics = session.exec(select(func.count()).select_from(Clinic)).one()
        patients = session.exec(select(func.count()).select_from(Patient)).one()
    if clinics or patients:
        store.close()
        raise DemoTargetNotEmpty(
            f"{store.path} already holds a clinic ({patients} patients). Demo data is only written into an "
            "empty data directory; choose another folder (for example slpterm demo --out DIR)."
        )
    return store


def write_batch(store: Store, rows: Rows, audit: dict[str, Any] | None = None) -> None:
    """Write ``rows`` in one durable transaction, with the generation's audit event if given."""
    with store.db.write() as session:
        session.connection().exec_driver_sql(f"PRAGMA cache_size = -{GENERATION_CACHE_KIB}")
        write_rows(session, rows)
        if audit is not None:
            details = dict(audit)
            record_event(session, store.actor, details.pop("action"), "clinic", details.pop("clinic_id"), details,
                         key=store.audit_key)


def finish(store: Store, builder: ClinicBuilder, started: float, clinicians: int) -> DemoSummary:
    """Close the store, fold the write-ahead log into the file and report what was written."""
    path = store.path
    store.close()
    connection = datafile.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    counts = builder.counts
    return DemoSummary(
        path=path, clinicians=clinicians, patients=counts.patients, sessions=counts.sessions,
        participants=counts.participants, signed=counts.signed, drafts=counts.drafts, trials=counts.trials,
        seconds=round(time.perf_counter() - started, 3), file_bytes=path.stat().st_size,
    )

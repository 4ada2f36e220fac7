"""The services of one open data file, built once by :func:`build_services`.

Screens and :mod:`slpterm.api` are handed these; none of them reaches the store itself. The
modules doing the work (due items, progress, coding, export) are imported on a service's first
call, so building the services when the data file opens costs next to nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slpterm.domain.clock import Clock
from slpterm.services.caseload import CaseloadService
from slpterm.services.charts import ChartService
from slpterm.services.schedule import ScheduleService
from slpterm.services.security import SecurityService

if TYPE_CHECKING:
    from slpterm.domain.encounter import EncounterRecord
    from slpterm.export.batch import ExportOutcome, Selection
    from slpterm.reports.school import StudentMinutes
    from slpterm.services.billing_settings import FeeRow, PayerRow
    from slpterm.services.due import DueCache
    from slpterm.services.progress import ReportState
    from slpterm.services.session_flow import SessionFlow
    from slpterm.store.models import Clinic, Clinician, ExportBatch
    from slpterm.store.store import Store


class ClinicSettings:
    """The clinic, its clinicians, and the name the audit trail gives to what is done."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def clinic(self) -> Clinic | None:
        return self._store.clinic.get_clinic()

    def clinicians(self) -> list[Clinician]:
        return self._store.clinic.clinicians()

    def is_set_up(self) -> bool:
        return self._store.clinic.is_set_up()

    def save_clinic(self, **fields: object) -> Clinic:
        return self._store.clinic.save_clinic(**fields)

    def add_clinician(self, **fields: object) -> Clinician:
        return self._store.clinic.add_clinician(**fields)

    def update_clinician(self, clinician_id: str, **fields: object) -> Clinician:
        return self._store.clinic.update_clinician(clinician_id, **fields)

    @property
    def actor(self) -> str:
        """Who the audit trail says did what is done from now on."""
        return self._store.actor

    @actor.setter
    def actor(self, name: str) -> None:
        self._store.actor = name

    def act_as_first_clinician(self) -> None:
        """The audit trail names the clinic's first clinician (when there is one)."""
        clinicians = self.clinicians()
        if clinicians:
            self.actor = clinicians[0].display_name

    def setting(self, key: str, default: str = "") -> str:
        return self._store.clinic.get_setting(key, default)

    def set_setting(self, key: str, value: str) -> None:
        self._store.clinic.set_setting(key, value)

    def skip_setup(self) -> None:
        """The first-run questions were skipped; they are not asked again."""
        self.set_setting("setup_skipped", "yes")


class BillingSettings:
    """The clinic's fee schedule and its corrections to each payer's shipped policy."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def fee_rows(self) -> list[FeeRow]:
        from slpterm.services.billing_settings import fee_rows

        return fee_rows(self._store, self._clock.today())

    def payer_rows(self) -> list[PayerRow]:
        from slpterm.services.billing_settings import payer_rows

        return payer_rows(self._store)

    def save_fee(self, code: str, text: str) -> Decimal:
        """Set the charge of ``code`` from ``text``; raises ValidationFailed naming the charge."""
        from slpterm.services.billing_settings import save_fee

        return save_fee(self._store, code, text)

    def save_payer_override(self, payer_id: str, values: dict[str, Any]) -> None:
        from slpterm.services.billing_settings import save_payer_override

        save_payer_override(self._store, payer_id, values)

    def effective_policy(self, payer_kind: str, payer_id: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """The policy values in force today for a payer (shipped policy plus ``overrides``)."""
        from slpterm.services.billing_settings import effective_policy

        return effective_policy(payer_kind, payer_id, self._clock.today(), overrides)


class Reports:
    """Progress reports of a plan of care, and the school's monthly IEP minutes."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def report(self, plan_id: str, report_id: str | None = None) -> ReportState:
        """The plan's report ``report_id``, else its draft, else a new draft for the due period."""
        from slpterm.services.progress import open_report

        return open_report(self._store, plan_id, self._clock.today(), report_id)

    def recompute(self, state: ReportState, *, period_start: dt.date | None = None,
                  period_end: dt.date | None = None, assessment: str | None = None,
                  plan_text: str | None = None) -> ReportState:
        from slpterm.services.progress import recompute

        return recompute(self._store, state, period_start=period_start, period_end=period_end,
                         assessment=assessment, plan_text=plan_text)

    def date_written(self, state: ReportState, written_on: dt.date, reason: str) -> ReportState:
        """``state`` dated ``written_on``; a date before today needs a ``reason`` (ValidationFailed
        names the field otherwise)."""
        from slpterm.services.progress import date_written

        return date_written(state, written_on, reason, self._clock.today())

    def save(self, state: ReportState) -> ReportState:
        from slpterm.services.progress import save_report

        return save_report(self._store, state)

    def clinicians(self) -> list[Clinician]:
        """Who may sign a report (the first signs)."""
        return self._store.clinic.clinicians()

    def sign(self, state: ReportState, clinician_id: str) -> ReportState:
        from slpterm.services.progress import sign_report

        return sign_report(self._store, state, clinician_id, now=self._clock.now())

    def export(self, state: ReportState) -> tuple[Path, Path]:
        """Write the report as Markdown and PDF into the export folder; returns both paths."""
        from slpterm.services.progress import export_report

        return export_report(state, self.export_folder())

    def export_folder(self) -> Path:
        from slpterm.services.progress import export_folder

        return export_folder(self._store)

    def school_minutes(self, month: dt.date) -> list[StudentMinutes]:
        """IEP minutes required vs delivered for every student, for the month starting ``month``."""
        from slpterm.services.progress import school_minutes

        return school_minutes(self._store, month, self._clock.today())

    def write_service_log(self, date_from: dt.date, date_to: dt.date, path: Path) -> tuple[int, int]:
        """Write the school service log CSV; ``(services written, unsigned left out)``."""
        from slpterm.services.progress import write_service_log

        return write_service_log(self._store, date_from, date_to, path)


class Exports:
    """Coded encounters and the batches they were exported in."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def batches(self) -> list[ExportBatch]:
        return self._store.exports.batches()

    def exported_participant_ids(self) -> dict[str, frozenset[str]]:
        """participant id -> the formats it was exported in (a copy never counts as billed)."""
        return self._store.exports.exported_formats()

    def encounters(self, date_from: dt.date | None, date_to: dt.date | None, *,
                   include_exported: bool = True) -> list[EncounterRecord]:
        """Every signed encounter of the range, coded and scrubbed (the exported ones too unless asked)."""
        from slpterm.services.encounters import load_encounters

        return load_encounters(self._store, date_from=date_from, date_to=date_to, include_exported=include_exported,
                               today=self._clock.today())

    def scrub(self, encounters: list[EncounterRecord], format: str, *, include_exported: bool = False) -> Selection:
        """Split ``encounters`` into ready, held back (each with its reasons and fixes) and already
        exported, for ``format``: what an export of them would write."""
        from slpterm.export.batch import select_encounters

        return select_encounters(encounters, format, include_exported=include_exported,
                                 exported_ids=self.exported_participant_ids())

    def run(self, encounters: list[EncounterRecord], format: str, folder: Path, *, date_from: dt.date | None = None,
            date_to: dt.date | None = None, include_exported: bool = False) -> ExportOutcome:
        """Write the ready encounters in ``format`` to ``folder`` and record the batch."""
        from slpterm.services.exporting import run_export

        return run_export(self._store, encounters, format, folder, range_from=date_from, range_to=date_to,
                          include_exported=include_exported, now=self._clock.now().astimezone())


class ClinicServices:
    """Everything screens and scripts may do with one open data file."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self.clock = clock
        self._due_cache: DueCache | None = None
        # The caseload and the chart share what is due per patient (each recomputes only what changed).
        self.caseload: CaseloadService = CaseloadService(store, clock, due_cache=self.due_cache)
        self.charts: ChartService = ChartService(store, clock, due_cache=self.due_cache)
        self.security: SecurityService = SecurityService(store, clock)
        self.clinic = ClinicSettings(store)
        self.billing_settings = BillingSettings(store, clock)
        self.reports = Reports(store, clock)
        self.exports = Exports(store, clock)
        self.schedule: ScheduleService = ScheduleService(store, clock)

    def due_cache(self) -> DueCache:
        """What is due per patient, kept between looks (built on first use: its rules load then)."""
        if self._due_cache is None:
            from slpterm.services.due import DueCache

            self._due_cache = DueCache(self._store)
        return self._due_cache

    def session_flow(self) -> SessionFlow:
        """A session flow of its own (it keeps the technique list it read)."""
        from slpterm.services.session_flow import SessionFlow

        return SessionFlow(self._store, self.clock)

    def close(self) -> None:
        self.security.close()


def build_services(store: Store, clock: Clock | None = None) -> ClinicServices:
    """The services over ``store``; ``clock`` is the real clock unless a test gives its own."""
    return ClinicServices(store, clock or Clock())

"""A patient's chart: reading it, and writing its parts (checked clinically by ``slpterm.services.chart``
before the store writes them).

Each ``add_*``/``update_*`` takes the fields the store's record has (see ``slpterm.store.models``)
and returns the id of the record written; a refused field raises ``ValidationFailed`` naming it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from slpterm.services import chart
from slpterm.services.caseload import lazy_due_cache

if TYPE_CHECKING:
    from slpterm.clinical.due import DueItem
    from slpterm.clinical.patient_import import ImportResult
    from slpterm.domain.clock import Clock
    from slpterm.reports.goal_series import GoalSeries
    from slpterm.services.due import DueCache
    from slpterm.services.patient_import import CommitReport
    from slpterm.store.models import SessionParticipant, TherapySession
    from slpterm.store.patients import PatientChart
    from slpterm.store.store import Store


class ChartService:
    def __init__(self, store: Store, clock: Clock, due_cache: Callable[[], DueCache] | None = None) -> None:
        self._store = store
        self._clock = clock
        self._due_cache = due_cache or lazy_due_cache(store)

    def today(self) -> dt.date:
        return self._clock.today()

    # -- reading ------------------------------------------------------------------------------
    def chart(self, patient_id: str) -> PatientChart:
        return self._store.patients.chart(patient_id)

    def sessions(self, patient_id: str, limit: int | None = None) -> list[tuple[SessionParticipant, TherapySession]]:
        """The patient's sessions, newest first (only the newest ``limit`` when given)."""
        return self._store.sessions.for_patient(patient_id, limit)

    def session_count(self, patient_id: str) -> int:
        return self._store.sessions.count_for_patient(patient_id)

    def due(self, patient_id: str) -> list[DueItem]:
        """What the patient's chart needs next (plans to recertify, reports due, visit limits)."""
        return self._due_cache().patient(patient_id, self._clock.today())

    def due_if_kept(self, patient_id: str) -> list[DueItem] | None:
        """:meth:`due` when it is known without computing (nothing changed it since), else None."""
        return self._due_cache().known(patient_id, self._clock.today())

    def goal_series(self, patient_id: str, goal_id: str) -> GoalSeries:
        """One goal's accuracy per signed session, its cue levels and when its criterion was met."""
        from slpterm.services.progress import goal_series_of

        return goal_series_of(self._store, patient_id, goal_id)

    def record_view(self, patient_id: str) -> None:
        """Note in the audit trail that the chart was opened."""
        self._store.security.record("view", "patient", patient_id)

    # -- the patient ----------------------------------------------------------------------------
    def create_patient(self, **fields: object) -> str:
        return chart.create_patient(self._store, **fields).id

    def update_patient(self, patient_id: str, **fields: object) -> str:
        return chart.update_patient(self._store, patient_id, **fields).id

    def archive(self, patient_id: str) -> None:
        """Hide the patient from the caseload; the chart is kept."""
        self._store.patients.archive(patient_id)

    def unarchive(self, patient_id: str) -> None:
        self._store.patients.unarchive(patient_id)

    def delete(self, patient_id: str) -> None:
        """Delete the patient and the chart; refused for a patient with sessions."""
        self._store.patients.delete(patient_id)

    # -- the chart's parts ------------------------------------------------------------------------
    def add_coverage(self, patient_id: str, **fields: object) -> str:
        return chart.add_coverage(self._store, patient_id=patient_id, **fields).id

    def update_coverage(self, coverage_id: str, **fields: object) -> str:
        return chart.update_coverage(self._store, coverage_id, **fields).id

    def add_diagnosis(self, patient_id: str, **fields: object) -> str:
        return chart.add_diagnosis(self._store, patient_id=patient_id, **fields).id

    def update_diagnosis(self, diagnosis_id: str, **fields: object) -> str:
        return chart.update_diagnosis(self._store, diagnosis_id, **fields).id

    def add_plan(self, patient_id: str, **fields: object) -> str:
        return chart.add_plan(self._store, patient_id=patient_id, **fields).id

    def update_plan(self, plan_id: str, **fields: object) -> str:
        return chart.update_plan(self._store, plan_id, **fields).id

    def recertify_plan(self, plan_id: str, **fields: object) -> str:
        """A new plan of care continuing ``plan_id`` (its goals carried over)."""
        return chart.recertify_plan(self._store, plan_id, **fields).id

    def add_goal(self, plan_id: str, **fields: object) -> str:
        return chart.add_goal(self._store, plan_id=plan_id, **fields).id

    def update_goal(self, goal_id: str, **fields: object) -> str:
        return chart.update_goal(self._store, goal_id, **fields).id

    def add_iep_service(self, patient_id: str, **fields: object) -> str:
        return self._store.patients.add_iep_service(patient_id=patient_id, **fields).id

    def update_iep_service(self, service_id: str, **fields: object) -> str:
        return self._store.patients.update_iep_service(service_id, **fields).id

    # -- importing a patient list --------------------------------------------------------------------
    def check_import(self, path: Path) -> ImportResult:
        """What importing the CSV at ``path`` would do, without writing anything."""
        from slpterm.services.patient_import import dry_run

        return dry_run(self._store, path, self._clock.today())

    def commit_import(self, result: ImportResult) -> CommitReport:
        """Write the patients a checked import found acceptable."""
        from slpterm.services.patient_import import commit_import

        return commit_import(self._store, result)

"""The caseload as screens and scripts read it: the filter index, row cells, what is due, trends."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from slpterm.domain.clock import Clock
    from slpterm.services.due import DueCache
    from slpterm.store.caseload import CaseloadIndex as CaseloadIndex
    from slpterm.store.caseload import CaseloadRow as CaseloadRow
    from slpterm.store.store import Store


def lazy_due_cache(store: Store) -> Callable[[], DueCache]:
    """A due cache of one's own, built on first use."""
    built: list[DueCache] = []

    def due_cache() -> DueCache:
        if not built:
            from slpterm.services.due import DueCache

            built.append(DueCache(store))
        return built[0]

    return due_cache


class CaseloadService:
    """Reads the caseload of one open data file; ``details`` and ``close`` make it a row source."""

    def __init__(self, store: Store, clock: Clock, due_cache: Callable[[], DueCache] | None = None) -> None:
        self._store = store
        self._clock = clock
        self._due_cache = due_cache or lazy_due_cache(store)
        self._active: tuple[int, CaseloadIndex] | None = None  # the last complete index of active patients

    def index(self, *, include_archived: bool = False, previous: CaseloadIndex | None = None) -> CaseloadIndex:
        """Ids and search text of every patient (archived ones too when asked), for the filter."""
        generation = self.generation()
        index = self._store.caseload.index(include_archived=include_archived, previous=previous)
        if index.complete and not include_archived:
            self._active = (generation, index)
        return index

    def _current_index(self) -> CaseloadIndex:
        """The last index read, unless the data file changed since (then it is read again)."""
        if self._active is not None and self._active[0] == self.generation():
            return self._active[1]
        return self.index()

    def details(self, patient_ids: Sequence[str]) -> dict[str, CaseloadRow]:
        """The cells of the rows of ``patient_ids`` (those that exist)."""
        return self._store.caseload.details(patient_ids)

    def close(self) -> None:
        """Nothing to let go of: the store closes its readers itself."""
        self._store.caseload.close()

    def generation(self) -> int:
        """Changes whenever the data file is written (a caseload read before is then stale)."""
        return self._store.db.generation

    def due_summaries(self, today: dt.date, first: Sequence[str] = ()) -> Iterator[tuple[str, str]]:
        """``(patient id, what is due next)`` for every patient with something due; the patients in
        ``first`` (the rows on screen) first. Only the patients changed since the last call are
        computed again (see ``slpterm.services.due.DueCache``)."""
        return self._due_cache().summaries(today, first)

    def trends(self, today: dt.date) -> Iterator[tuple[str, str]]:
        """``(patient id, trend sparkline)`` of recent accuracy."""
        from slpterm.services.progress import iter_caseload_trends

        return iter_caseload_trends(self._store, today)

    def find_patients(self, text: str, leave_out: set[str], limit: int = 8,
                      index: CaseloadIndex | None = None) -> list[tuple[str, str]]:
        """``(id, name)`` of up to ``limit`` active patients matching ``text`` as the caseload filter
        does; ``index`` is a complete index already read, else one is read."""
        if index is None or not index.complete:
            index = self._current_index()
        found = []
        for position in index.filter(text):
            patient_id = index.ids[position]
            if patient_id not in leave_out and not index.archived[position]:
                found.append(patient_id)
                if len(found) == limit:
                    break
        rows = self.details(found)
        return [(patient_id, rows[patient_id].name) for patient_id in found if patient_id in rows]

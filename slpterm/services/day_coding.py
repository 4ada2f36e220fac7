"""The coding of one open session, re-coded at the cost of its day, not of the patient's history.

A tally, a technique or a stopped timer changes only the session's own day. What coding that day
reads from the rest of the chart is read once, when the session opens: the chart, the history of
sessions and the year-to-date therapy amount before the day (for Medicare's KX threshold: other
providers' amount plus this clinic's earlier days of the year, each of them coded). Every change
then re-codes the day alone with that amount; the year-to-date figure the KX finding shows is that
amount plus the day's own claim, so it follows the day's change. The results equal
``BillingService.code_participant`` as long as nothing outside the day changed; call
:meth:`DayCoder.refresh` (or make a new one) when something may have (the screen came back from
the chart, a correction).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from slpterm.coding.engine import code_patient_day
from slpterm.domain.claim import CodingResult
from slpterm.services.billing import (
    BillingService,
    BulkData,
    PatientFacts,
    rulebook_for,
)

if TYPE_CHECKING:
    from slpterm.store.store import Store


class DayCoder:
    def __init__(self, store: Store, participant_id: str, today: date) -> None:
        self.store = store
        self.participant_id = participant_id
        self.today = today
        self.refresh()

    def refresh(self) -> None:
        """Read the chart, the history and the year-to-date amount before the day again."""
        self.rulebook = rulebook_for(self.store)
        self.billing = BillingService(self.store, self.today, rulebook=self.rulebook)
        # The bulk reader: the patient's chart and history, and the details of the sessions coding
        # the day reads (that day's, and for Medicare every earlier day of its year).
        self.data = BulkData.for_participants(self.store, [self.participant_id])
        detail = self.data.details.get(self.participant_id)
        if detail is None:
            raise LookupError(f"No session participant {self.participant_id}; it may have been removed.")
        self.patient_id = detail.participant.patient_id
        self.day = detail.session.date_of_service
        self.patient = PatientFacts(self.data.charts[self.patient_id], self.data.histories[self.patient_id])
        self.day_participants = [participant.id for participant, therapy_session in self.patient.history.rows
                                 if therapy_session.date_of_service == self.day]
        self.year_to_date_before: Decimal = self._year_to_date_before()

    def _year_to_date_before(self) -> Decimal:
        if self.day.timetuple().tm_yday == 1:  # no earlier day this year
            return BillingService._other_providers(self.patient.chart, self.day.year)
        return self.billing.amount_through(self.data, self.patient_id, self.day - timedelta(days=1))

    def code(self, now: datetime | None = None) -> CodingResult:
        """The session's lines and findings now (a running timer counts up to ``now``)."""
        self.billing.now = now or datetime.now(UTC)
        # Only the day's own sessions are read again: what a tally, a toggle or the timer changed.
        for participant_id in self.day_participants:
            self.data.details.pop(participant_id, None)
        self.data.load_details(self.day_participants)
        facts = [self.billing.facts(self.data.details[participant_id], self.patient, self.year_to_date_before)
                 for participant_id in self.day_participants if participant_id in self.data.details]
        return code_patient_day(facts, self.rulebook)[self.participant_id]

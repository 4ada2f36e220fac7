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

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from slpterm.coding.engine import code_patient_day
from slpterm.coding.model import CodingResult
from slpterm.services.billing import (
    BillingService,
    HistoryParticipant,
    HistorySession,
    PatientHistory,
    rulebook_for,
)


class DayCoder:
    def __init__(self, store, participant_id: str, today: date) -> None:  # noqa: ANN001
        self.store = store
        self.participant_id = participant_id
        self.today = today
        self.refresh()

    def refresh(self) -> None:
        """Read the chart, the history and the year-to-date amount before the day again."""
        store = self.store
        self.rulebook = rulebook_for(store)
        detail = store.sessions.detail(self.participant_id)
        self.patient_id = detail.participant.patient_id
        self.day = detail.session.date_of_service
        self.chart = store.patients.chart(self.patient_id)
        # The light rows the bulk reader gives: reading attributes of 2,000 ORM rows on every
        # tally would cost more than coding the day.
        self.history = PatientHistory([
            (HistoryParticipant(participant.id, participant.session_id, participant.patient_id),
             HistorySession(therapy_session.id, therapy_session.date_of_service, therapy_session.session_type))
            for participant, therapy_session in store.sessions.for_patient(self.patient_id)])
        self.billing = BillingService(store, self.today, rulebook=self.rulebook)
        self.year_to_date_before: Decimal = self._year_to_date_before()

    def _year_to_date_before(self) -> Decimal:
        if self.day.timetuple().tm_yday == 1:  # no earlier day this year
            return BillingService._other_providers(self.chart, self.day.year)
        # The bulk reader codes the earlier days with a fixed number of queries.
        day_before = self.day - timedelta(days=1)
        return self.billing.years_to_date_through([self.patient_id], day_before)[self.patient_id]

    def code(self, now: datetime | None = None) -> CodingResult:
        """The session's lines and findings now (a running timer counts up to ``now``)."""
        self.billing.now = now or datetime.now(timezone.utc)
        facts = self.billing._facts_for_patient_day(self.chart, self.history, self.day, self.year_to_date_before)
        return code_patient_day(facts, self.rulebook)[self.participant_id]

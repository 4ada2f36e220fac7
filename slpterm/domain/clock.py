"""Time as the app sees it; tests pass a FakeClock to control it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta


class Clock:
    def now(self) -> datetime:
        """The current moment as an aware UTC datetime."""
        return datetime.now(UTC)

    def today(self) -> date:
        """Today's date where the clinician is (local time)."""
        return self.now().astimezone().date()


class FakeClock(Clock):
    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        self._now = start

    def now(self) -> datetime:
        return self._now

    def today(self) -> date:
        return self._now.date()

    def advance(self, **delta: float) -> None:
        self._now += timedelta(**delta)

    def set(self, moment: datetime) -> None:
        self._now = moment if moment.tzinfo else moment.replace(tzinfo=UTC)

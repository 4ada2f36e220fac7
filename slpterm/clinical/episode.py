"""The counting rules of an episode of care, each in one place.

The due panel, the caseload, the scrubber and the reports all call these functions, so they agree:

- the episode's visits: every session date (evaluations included) from the plan's start to its
  end; for a patient's first plan also the visits up to ``EVALUATION_LOOKBACK_DAYS`` before its
  start (the evaluation that led to it). The first of them is day 1 (:func:`first_treatment_day`);
- the certification clock: the plan must be certified within ``CERTIFICATION_DUE_DAYS`` days of day 1;
- the progress-report period: a signed report written (or backdated) on or before a visit covers
  that visit; the period of a visit is the episode's visits after the latest such report, up to and
  including the visit;
- the plan's limit: a certification covers ``PLAN_LIMIT_DAYS`` days counting its first day.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterable, Sequence

EVALUATION_LOOKBACK_DAYS = 60
CERTIFICATION_DUE_DAYS = 30
PLAN_LIMIT_DAYS = 90


def episode_visits(visit_dates: Iterable[dt.date], plan_start: dt.date, plan_end: dt.date,
                   first_plan: bool) -> tuple[dt.date, ...]:
    """The plan's visit dates, distinct and in order (see the module's conventions)."""
    earliest = plan_start - dt.timedelta(days=EVALUATION_LOOKBACK_DAYS) if first_plan else plan_start
    return tuple(sorted({day for day in visit_dates if earliest <= day <= plan_end}))


def first_treatment_day(visits: tuple[dt.date, ...]) -> dt.date | None:
    """Day 1 of the episode: its first visit (an evaluation before the plan's start included)."""
    return visits[0] if visits else None


def certification_deadline(first_day: dt.date, due_days: int = CERTIFICATION_DUE_DAYS) -> dt.date:
    """The last day on which the plan may be certified on time."""
    return first_day + dt.timedelta(days=due_days)


def latest_report_covering(report_dates: Iterable[dt.date], day: dt.date) -> dt.date | None:
    """The latest report written on or before ``day`` (a report written at a visit covers it)."""
    return max((written for written in report_dates if written <= day), default=None)


def progress_period(visits: tuple[dt.date, ...], report_dates: Iterable[dt.date], day: dt.date) -> tuple[dt.date, ...]:
    """The visits of the current progress-report period up to and including ``day``."""
    last = latest_report_covering(report_dates, day)
    return tuple(visit for visit in visits if visit <= day and (last is None or visit > last))


def treatment_day_number(visits: tuple[dt.date, ...], report_dates: Iterable[dt.date], day: dt.date) -> int:
    """Which treatment day of its progress-report period a visit on ``day`` is (0: a report covers it).

    A visit on a day with no session yet (the next visit) counts as one more day."""
    period = progress_period(visits, report_dates, day)
    last = latest_report_covering(report_dates, day)
    if last == day:
        return 0
    return len(period) if day in period else len(period) + 1


def treatment_day_number_in_order(visits: tuple[dt.date, ...], report_dates: Sequence[dt.date], day: dt.date) -> int:
    """:func:`treatment_day_number` for distinct visits and report dates both in ascending order,
    by bisection: every session of a patient asks it, so it must not grow with the history."""
    covering = bisect_right(report_dates, day)
    last = report_dates[covering - 1] if covering else None
    if last == day:
        return 0
    through_day = bisect_right(visits, day)
    in_period = through_day - (bisect_right(visits, last) if last is not None else 0)
    visit_on_day = through_day > 0 and visits[through_day - 1] == day
    return in_period if visit_on_day else in_period + 1


def plan_limit_last_day(start: dt.date, limit_days: int = PLAN_LIMIT_DAYS) -> dt.date:
    """The last day a certification from ``start`` covers."""
    return start + dt.timedelta(days=limit_days - 1)


def plan_exceeds_limit(start: dt.date, end: dt.date, limit_days: int = PLAN_LIMIT_DAYS) -> bool:
    return end > plan_limit_last_day(start, limit_days)

"""Session timer arithmetic over stored segments.

A session's time is a list of :class:`TimeSegment` (disorder area, start, end or None while
running), all aware UTC datetimes. Pausing closes the open segment, resuming or switching the
disorder area opens a new one; nothing is kept in memory only, so an app restart mid-session
continues from the stored segments.

Sleep and clock changes:

- While the timer runs, the store writes a heartbeat ``last_seen_at`` (every ~30 s). If ``now``
  is more than ``sleep_gap`` (default 5 minutes) after the last heartbeat, the laptop slept or
  the app was closed: time after the heartbeat is not counted. :func:`close_stale_segment`
  turns that into data (closes the open segment at the heartbeat) and reports the gap, so the
  screen can say "timer suspended for 42 min" and resume with a new segment.
- Segments never overlap: a segment starting before the previous one ended is clipped.
- A clock that jumped backwards never yields negative time: a segment whose end is before its
  start counts 0, and new segments never start before the previous end.

Minutes: the total is converted to whole minutes (default ``floor``: whole minutes actually
spent, so a billing unit is never earned on rounded-up time; ``nearest`` rounds half up), then
split over areas by largest remainder, so the area minutes add up exactly to the total.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum

from slpterm.domain.vocab import DisorderArea

DEFAULT_SLEEP_GAP = dt.timedelta(minutes=5)
HEARTBEAT_INTERVAL = dt.timedelta(seconds=30)


class MinuteRounding(StrEnum):
    FLOOR = "floor"
    NEAREST = "nearest"


@dataclass(frozen=True)
class TimeSegment:
    area: DisorderArea
    started_at: dt.datetime
    ended_at: dt.datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True)
class Interval:
    """A segment as counted: clipped, never negative."""

    area: DisorderArea
    start: dt.datetime
    end: dt.datetime

    @property
    def seconds(self) -> float:
        return max(0.0, (self.end - self.start).total_seconds())


def _ordered(segments: list[TimeSegment]) -> list[TimeSegment]:
    return sorted(segments, key=lambda segment: segment.started_at)


def _open_end(
    segment: TimeSegment, now: dt.datetime, last_seen_at: dt.datetime | None, sleep_gap: dt.timedelta
) -> dt.datetime:
    if last_seen_at is not None and now - last_seen_at > sleep_gap:
        return max(last_seen_at, segment.started_at)
    return now


def intervals(
    segments: list[TimeSegment],
    now: dt.datetime,
    last_seen_at: dt.datetime | None = None,
    sleep_gap: dt.timedelta = DEFAULT_SLEEP_GAP,
) -> list[Interval]:
    """The counted intervals: open segment ended at ``now`` (or at a stale heartbeat), overlaps clipped."""
    result: list[Interval] = []
    previous_end: dt.datetime | None = None
    for segment in _ordered(segments):
        end = segment.ended_at if segment.ended_at is not None else _open_end(segment, now, last_seen_at, sleep_gap)
        start = segment.started_at if previous_end is None else max(segment.started_at, previous_end)
        end = max(end, start)
        result.append(Interval(segment.area, start, end))
        previous_end = end if previous_end is None else max(previous_end, end)
    return result


def elapsed_seconds(
    segments: list[TimeSegment],
    now: dt.datetime,
    last_seen_at: dt.datetime | None = None,
    sleep_gap: dt.timedelta = DEFAULT_SLEEP_GAP,
) -> int:
    """Whole seconds counted so far (what the running clock shows)."""
    return int(sum(interval.seconds for interval in intervals(segments, now, last_seen_at, sleep_gap)))


def seconds_by_area(
    segments: list[TimeSegment],
    now: dt.datetime,
    last_seen_at: dt.datetime | None = None,
    sleep_gap: dt.timedelta = DEFAULT_SLEEP_GAP,
) -> dict[DisorderArea, float]:
    """Seconds per disorder area, in order of first use (the intervals of :func:`intervals`,
    summed as they are clipped, without building them: whole clinics are coded from this)."""
    totals: dict[DisorderArea, float] = {}
    previous_end: dt.datetime | None = None
    for segment in _ordered(segments) if len(segments) > 1 else segments:
        end = segment.ended_at if segment.ended_at is not None else _open_end(segment, now, last_seen_at, sleep_gap)
        start = segment.started_at if previous_end is None or segment.started_at >= previous_end else previous_end
        if end < start:
            end = start
        totals[segment.area] = totals.get(segment.area, 0.0) + max(0.0, (end - start).total_seconds())
        previous_end = end if previous_end is None or end > previous_end else previous_end
    return totals


def _whole_minutes(seconds: float, rounding: MinuteRounding) -> int:
    if rounding == MinuteRounding.NEAREST:
        return int((seconds + 30) // 60)
    return int(seconds // 60)


def minutes_by_area(
    segments: list[TimeSegment],
    now: dt.datetime,
    last_seen_at: dt.datetime | None = None,
    sleep_gap: dt.timedelta = DEFAULT_SLEEP_GAP,
    rounding: MinuteRounding = MinuteRounding.FLOOR,
) -> dict[DisorderArea, int]:
    """Whole minutes per area (areas with 0 minutes left out); they add up to :func:`total_minutes`."""
    if len(segments) == 1 and (ended_at := segments[0].ended_at) is not None:  # most stored sessions
        minutes = _whole_minutes(max(0.0, (ended_at - segments[0].started_at).total_seconds()), rounding)
        return {segments[0].area: minutes} if minutes > 0 else {}
    seconds = seconds_by_area(segments, now, last_seen_at, sleep_gap)
    total = _whole_minutes(sum(seconds.values()), rounding)
    base = {area: int(value // 60) for area, value in seconds.items()}
    short = total - sum(base.values())
    if short > 0:
        by_remainder = sorted(seconds, key=lambda area: seconds[area] % 60, reverse=True)
        for area in by_remainder[:short]:
            base[area] += 1
    return {area: minutes for area, minutes in base.items() if minutes > 0}


def total_minutes(
    segments: list[TimeSegment],
    now: dt.datetime,
    last_seen_at: dt.datetime | None = None,
    sleep_gap: dt.timedelta = DEFAULT_SLEEP_GAP,
    rounding: MinuteRounding = MinuteRounding.FLOOR,
) -> int:
    """Whole minutes of the session."""
    return _whole_minutes(sum(seconds_by_area(segments, now, last_seen_at, sleep_gap).values()), rounding)


def start_and_stop(
    segments: list[TimeSegment],
    now: dt.datetime,
    last_seen_at: dt.datetime | None = None,
    sleep_gap: dt.timedelta = DEFAULT_SLEEP_GAP,
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Clock times for the note: first start and last end (None while the timer runs)."""
    if not segments:
        return None, None
    ordered = intervals(segments, now, last_seen_at, sleep_gap)
    running = any(segment.is_open for segment in segments) and not is_stale(segments, now, last_seen_at, sleep_gap)
    return ordered[0].start, None if running else max(interval.end for interval in ordered)


def format_clock(moment: dt.datetime | None, tz: dt.tzinfo | None = None) -> str:
    """'14:05' in the given zone (the machine's local zone by default); '' for None."""
    if moment is None:
        return ""
    return moment.astimezone(tz).strftime("%H:%M")


class LocalClock:
    """Wall-clock times in the machine's local zone, as ``moment.astimezone().time()`` gives them,
    for many UTC moments: the zone's offset is looked up once per UTC hour (a zone's offset does
    not change within an hour it starts and ends with the same offset) instead of per moment."""

    _HOUR_END = dt.timedelta(hours=1, microseconds=-1)

    def __init__(self) -> None:
        self._offsets: dict[int, dt.timedelta | None] = {}

    def time_of(self, moment: dt.datetime) -> dt.time:
        if moment.tzinfo is not dt.UTC:
            return moment.astimezone().time()
        # The UTC hour as a number: building the hour's datetime costs ten times more.
        key = moment.toordinal() * 24 + moment.hour
        if key not in self._offsets:
            hour = moment.replace(minute=0, second=0, microsecond=0)
            first, last = hour.astimezone().utcoffset(), (hour + self._HOUR_END).astimezone().utcoffset()
            self._offsets[key] = first if first == last else None
        offset = self._offsets[key]
        return (moment + offset).time() if offset is not None else moment.astimezone().time()


def format_elapsed(seconds: int) -> str:
    """'4:05' or '1:02:05' for the running clock."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


# ---------------------------------------------------------------------------------------------
# Changing the segment list (pure: each returns a new list for the store to save)


def open_segment(segments: list[TimeSegment]) -> TimeSegment | None:
    return next((segment for segment in reversed(_ordered(segments)) if segment.is_open), None)


def is_running(segments: list[TimeSegment]) -> bool:
    return open_segment(segments) is not None


def is_stale(
    segments: list[TimeSegment],
    now: dt.datetime,
    last_seen_at: dt.datetime | None,
    sleep_gap: dt.timedelta = DEFAULT_SLEEP_GAP,
) -> bool:
    """True when a segment is open but the heartbeat is older than the sleep gap."""
    return is_running(segments) and last_seen_at is not None and now - last_seen_at > sleep_gap


def _latest_end(segments: list[TimeSegment]) -> dt.datetime | None:
    ends = [segment.ended_at for segment in segments if segment.ended_at is not None]
    starts = [segment.started_at for segment in segments]
    moments = ends + starts
    return max(moments) if moments else None


def stop(segments: list[TimeSegment], now: dt.datetime) -> list[TimeSegment]:
    """Pause: close the open segment at ``now`` (never before its start)."""
    return [
        replace(segment, ended_at=max(now, segment.started_at)) if segment.is_open else segment
        for segment in segments
    ]


def start(segments: list[TimeSegment], area: DisorderArea, now: dt.datetime) -> list[TimeSegment]:
    """Start or resume in ``area``; an open segment is closed first (switching area).

    The new segment never starts before the previous one ended, even if the clock went back.
    """
    closed = stop(segments, now)
    latest = _latest_end(closed)
    begin = now if latest is None else max(now, latest)
    return [*closed, TimeSegment(DisorderArea(area), begin)]


def switch_area(segments: list[TimeSegment], area: DisorderArea, now: dt.datetime) -> list[TimeSegment]:
    """Attribute time from ``now`` on to another disorder area (the timer keeps running)."""
    current = open_segment(segments)
    if current is not None and current.area == area:
        return list(segments)
    return start(segments, area, now)


def resume(segments: list[TimeSegment], now: dt.datetime, default_area: DisorderArea) -> list[TimeSegment]:
    """Resume in the last area used (or ``default_area`` for a new session)."""
    if is_running(segments):
        return list(segments)
    ordered = _ordered(segments)
    return start(segments, ordered[-1].area if ordered else default_area, now)


@dataclass(frozen=True)
class StaleCheck:
    segments: list[TimeSegment]
    suspended: dt.timedelta | None  # the gap not counted, or None if nothing was stale


def close_stale_segment(
    segments: list[TimeSegment],
    now: dt.datetime,
    last_seen_at: dt.datetime | None,
    sleep_gap: dt.timedelta = DEFAULT_SLEEP_GAP,
) -> StaleCheck:
    """After sleep or a long app restart: close the open segment at the last heartbeat.

    The caller saves ``segments`` and, if the clinician wants, resumes with :func:`resume`.
    """
    if not is_stale(segments, now, last_seen_at, sleep_gap):
        return StaleCheck(list(segments), None)
    assert last_seen_at is not None
    closed = [
        replace(segment, ended_at=max(last_seen_at, segment.started_at)) if segment.is_open else segment
        for segment in segments
    ]
    return StaleCheck(closed, now - last_seen_at)

from __future__ import annotations

import datetime as dt

import pytest

from slpterm.clinical.timer import (
    MinuteRounding,
    TimeSegment,
    close_stale_segment,
    elapsed_seconds,
    format_clock,
    format_elapsed,
    is_running,
    minutes_by_area,
    resume,
    start,
    start_and_stop,
    stop,
    switch_area,
    total_minutes,
)
from slpterm.domain.clock import FakeClock
from slpterm.domain.vocab import DisorderArea

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 11, 14, 0, tzinfo=UTC)
SS, LANG, SW = DisorderArea.SPEECH_SOUND, DisorderArea.LANGUAGE, DisorderArea.SWALLOWING


def at(minutes: float = 0, seconds: float = 0) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes, seconds=seconds)


def seg(area: DisorderArea, begin: float, end: float | None = None) -> TimeSegment:
    return TimeSegment(area, at(begin), None if end is None else at(end))


@pytest.mark.parametrize(
    ("name", "segments", "now", "last_seen", "expected_seconds"),
    [
        ("nothing yet", [], at(5), None, 0),
        ("running", [seg(SS, 0)], at(12, 30), None, 750),
        ("paused and resumed", [seg(SS, 0, 10), seg(SS, 15)], at(20), None, 900),
        ("stopped", [seg(SS, 0, 10), seg(LANG, 10, 25)], at(60), None, 1500),
        ("clock jumped back before the start", [seg(SS, 10)], at(5), None, 0),
        ("ended before started (clock change)", [seg(SS, 10, 4)], at(30), None, 0),
        ("overlap counted once", [seg(SS, 0, 10), seg(LANG, 5, 15)], at(30), None, 900),
        ("contained segment counted once", [seg(SS, 0, 20), seg(LANG, 5, 10)], at(30), None, 1200),
        ("heartbeat fresh", [seg(SS, 0)], at(20), at(19, 40), 1200),
        ("heartbeat exactly at the gap", [seg(SS, 0)], at(20), at(15), 1200),
        ("asleep: time after the heartbeat is not counted", [seg(SS, 0)], at(60), at(12), 720),
        ("heartbeat from the future (clock back)", [seg(SS, 0)], at(10), at(11), 600),
        ("stale heartbeat ignored for closed segments", [seg(SS, 0, 10)], at(60), at(1), 600),
    ],
)
def test_elapsed_seconds(name, segments, now, last_seen, expected_seconds):
    assert elapsed_seconds(segments, now, last_seen) == expected_seconds


@pytest.mark.parametrize(
    ("segments", "now", "rounding", "expected_total", "expected_areas"),
    [
        ([seg(SS, 0, 32)], at(40), MinuteRounding.FLOOR, 32, {SS: 32}),
        ([TimeSegment(SS, at(0), at(29, 58))], at(40), MinuteRounding.FLOOR, 29, {SS: 29}),
        ([TimeSegment(SS, at(0), at(29, 58))], at(40), MinuteRounding.NEAREST, 30, {SS: 30}),
        ([TimeSegment(SS, at(0), at(7, 30))], at(40), MinuteRounding.FLOOR, 7, {SS: 7}),
        ([TimeSegment(SS, at(0), at(7, 30))], at(40), MinuteRounding.NEAREST, 8, {SS: 8}),
        # 10:40 + 10:40 + 10:40 = 32:00 -> areas split 11/11/10 by largest remainder, sum 32.
        (
            [
                TimeSegment(SS, at(0), at(10, 40)),
                TimeSegment(LANG, at(10, 40), at(21, 20)),
                TimeSegment(SW, at(21, 20), at(32)),
            ],
            at(40),
            MinuteRounding.FLOOR,
            32,
            {SS: 11, LANG: 11, SW: 10},
        ),
        # Same area twice adds up before rounding.
        ([TimeSegment(SS, at(0), at(0, 40)), TimeSegment(SS, at(5), at(5, 40))], at(40), MinuteRounding.FLOOR, 1, {SS: 1}),
        # A few seconds in an area do not make a minute.
        ([TimeSegment(SS, at(0), at(20)), TimeSegment(LANG, at(20), at(20, 10))], at(40), MinuteRounding.FLOOR, 20, {SS: 20}),
    ],
)
def test_minutes(segments, now, rounding, expected_total, expected_areas):
    assert total_minutes(segments, now, rounding=rounding) == expected_total
    areas = minutes_by_area(segments, now, rounding=rounding)
    assert areas == expected_areas
    assert sum(areas.values()) == expected_total


def test_session_with_fake_clock_pause_resume_switch_and_restart():
    clock = FakeClock(T0)
    segments: list[TimeSegment] = []
    segments = start(segments, SS, clock.now())
    clock.advance(minutes=12)
    segments = switch_area(segments, LANG, clock.now())
    clock.advance(minutes=8)
    segments = stop(segments, clock.now())  # pause for a phone call
    assert not is_running(segments)
    clock.advance(minutes=5)
    assert elapsed_seconds(segments, clock.now()) == 20 * 60
    segments = resume(segments, clock.now(), SS)
    assert segments[-1].area == LANG
    clock.advance(minutes=3)
    # The app restarts: only the stored list survives; the heartbeat is 40 s old.
    stored = list(segments)
    last_seen = clock.now() - dt.timedelta(seconds=40)
    clock.advance(minutes=1)
    check = close_stale_segment(stored, clock.now(), last_seen)
    assert check.suspended is None
    assert elapsed_seconds(check.segments, clock.now(), last_seen) == 24 * 60
    clock.advance(minutes=6)
    segments = stop(check.segments, clock.now())
    assert minutes_by_area(segments, clock.now()) == {SS: 12, LANG: 18}
    begin, end = start_and_stop(segments, clock.now())
    assert (begin, end) == (T0, at(35))


def test_sleeping_laptop_is_suspended_and_resumed():
    clock = FakeClock(T0)
    segments = start([], SW, clock.now())
    clock.advance(minutes=10)
    last_seen = clock.now()
    clock.advance(minutes=47)  # lid closed
    assert elapsed_seconds(segments, clock.now(), last_seen) == 600
    assert start_and_stop(segments, clock.now(), last_seen) == (T0, at(10))
    check = close_stale_segment(segments, clock.now(), last_seen)
    assert check.suspended == dt.timedelta(minutes=47)
    assert check.segments[0].ended_at == at(10)
    segments = resume(check.segments, clock.now(), SS)
    clock.advance(minutes=5)
    assert elapsed_seconds(segments, clock.now(), clock.now()) == 15 * 60
    assert start_and_stop(segments, clock.now(), clock.now()) == (T0, None)


def test_clock_going_back_never_overlaps_new_segments():
    segments = [seg(SS, 0, 10)]
    segments = start(segments, LANG, at(8))  # clock moved back two minutes
    assert segments[-1].started_at == at(10)
    segments = stop(segments, at(9))
    assert segments[-1].ended_at == at(10)
    assert elapsed_seconds(segments, at(30)) == 600


@pytest.mark.parametrize(
    ("segments", "area", "expected_count"),
    [([], SS, 1), ([seg(SS, 0)], SS, 1), ([seg(SS, 0)], LANG, 2), ([seg(SS, 0, 5)], LANG, 2)],
)
def test_switch_area(segments, area, expected_count):
    result = switch_area(segments, area, at(6))
    assert len(result) == expected_count
    assert result[-1].area == area and result[-1].is_open
    assert sum(1 for s in result if s.is_open) == 1


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0:00"), (65, "1:05"), (3599, "59:59"), (3725, "1:02:05"), (-5, "0:00")]
)
def test_format_elapsed(seconds, text):
    assert format_elapsed(seconds) == text


def test_format_clock():
    assert format_clock(at(5), UTC) == "14:05"
    assert format_clock(at(5), dt.timezone(dt.timedelta(hours=-5))) == "09:05"
    assert format_clock(None) == ""


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"])
def test_local_clock_gives_the_same_wall_times_as_astimezone(zone, monkeypatch):
    import time

    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        from slpterm.clinical.timer import LocalClock

        clock = LocalClock()
        start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        # every 7 minutes 13 seconds through a year: both DST changes, every hour of the day
        moments = [start + dt.timedelta(seconds=433 * step) for step in range(0, 73_000)]
        assert [clock.time_of(m) for m in moments] == [m.astimezone().time() for m in moments]
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()

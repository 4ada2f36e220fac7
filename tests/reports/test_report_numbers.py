"""Progress-report numbers from known sessions: accuracy, trend, criterion, cues and minutes."""

from __future__ import annotations

import datetime as dt
import sys

import pytest

from slpterm.clinical.tally import Trial
from slpterm.domain.vocab import CueLevel, TrialResult
from slpterm.reports.charts import plot_text, sparkline
from slpterm.reports.markdown import render_markdown
from slpterm.reports.model import (
    GoalInput,
    GoalSession,
    ReportInput,
    SessionMinutes,
    Trend,
    compute_report,
    criterion_run,
    draft_assessment,
    goal_progress,
    trend_of,
)
from slpterm.reports.school import (
    IepRequirement,
    ServiceLogEntry,
    service_log_csv,
    student_minutes,
    weeks_of_month,
)
from slpterm.domain.vocab import IepPeriod, IepServiceKind

DAY = dt.date(2026, 10, 1)
C, X, N = TrialResult.CORRECT, TrialResult.INCORRECT, TrialResult.NO_RESPONSE


def session(offset: int, correct: int, total: int, cue: CueLevel = CueLevel.INDEPENDENT, no_response: int = 0):
    trials = [Trial(C, cue)] * correct + [Trial(N, cue)] * no_response
    trials += [Trial(X, cue)] * (total - correct - no_response)
    return GoalSession(DAY + dt.timedelta(days=offset), tuple(trials))


@pytest.mark.parametrize(("sessions", "accuracies", "trend", "met_on"), [
    # rising to criterion on the last three sessions
    ([(0, 5, 10), (2, 7, 10), (4, 8, 10), (6, 9, 10), (8, 17, 20)], [50, 70, 80, 90, 85], Trend.IMPROVING, 8),
    # at target twice, a dip, then twice: never three in a row (slope +2.0)
    ([(0, 8, 10), (1, 8, 10), (2, 7, 10), (3, 8, 10), (4, 9, 10)], [80, 80, 70, 80, 90], Trend.IMPROVING, None),
    # flat around the target, a dip in the middle resets the run
    ([(0, 8, 10), (1, 8, 10), (2, 7, 10), (3, 8, 10), (4, 8, 10)], [80, 80, 70, 80, 80], Trend.STABLE, None),
    # falling
    ([(0, 9, 10), (1, 7, 10), (2, 5, 10)], [90, 70, 50], Trend.DECLINING, None),
    # one session: no trend
    ([(0, 10, 10)], [100], Trend.NOT_ENOUGH_DATA, None),
    # 2/3 rounds half up to 67
    ([(0, 2, 3), (1, 2, 3)], [67, 67], Trend.STABLE, None),
    # no sessions at all
    ([], [], Trend.NOT_ENOUGH_DATA, None),
])
def test_goal_numbers(sessions, accuracies, trend, met_on):
    goal = GoalInput("g1", "/r/ initial", target_accuracy=80, criterion_sessions=3,
                     sessions=tuple(session(o, c, t) for o, c, t in sessions))
    progress = goal_progress(goal)
    assert progress.accuracies == accuracies
    assert progress.trend == trend
    assert progress.criterion_met is (met_on is not None)
    assert progress.met_on == (DAY + dt.timedelta(days=met_on) if met_on is not None else None)


@pytest.mark.parametrize(("values", "trend", "slope"), [
    ([10, 20, 30], Trend.IMPROVING, 10.0),
    ([50, 50.5, 51], Trend.STABLE, 0.5),
    ([60, 50], Trend.DECLINING, -10.0),
    ([70, 72], Trend.IMPROVING, 2.0),
])
def test_trend_is_the_least_squares_slope(values, trend, slope):
    assert trend_of(values) == (trend, pytest.approx(slope))


def test_no_response_counts_as_not_correct():
    progress = goal_progress(GoalInput("g", "x", sessions=(session(0, 6, 10, no_response=2),)))
    assert progress.accuracies == [60]
    assert (progress.overall.no_response, progress.overall.incorrect) == (2, 2)


def test_criterion_counts_only_consecutive_sessions():
    goal = GoalInput("g", "x", target_accuracy=90, criterion_sessions=2,
                     sessions=(session(0, 9, 10), session(1, 8, 10), session(2, 9, 10), session(3, 10, 10)))
    assert criterion_run(goal_progress(goal).points, 90, 2) == DAY + dt.timedelta(days=3)


def test_cue_levels_and_fading_support():
    goal = GoalInput("g", "wh- questions", sessions=(
        session(0, 4, 10, CueLevel.MODERATE), session(3, 8, 10, CueLevel.MINIMAL),
        GoalSession(DAY + dt.timedelta(days=5), (Trial(C, CueLevel.INDEPENDENT), Trial(C, CueLevel.MINIMAL),
                                                  Trial(X, CueLevel.INDEPENDENT), Trial(C, CueLevel.INDEPENDENT))),
    ))
    progress = goal_progress(goal)
    assert [cue.value for cue in progress.by_cue] == ["independent", "minimal", "moderate"]
    assert progress.by_cue[CueLevel.MODERATE].fraction_text() == "4/10 (40%)"
    assert progress.first_cue == CueLevel.MODERATE and progress.last_cue == CueLevel.INDEPENDENT
    assert "support moderate -> independent" in progress.cue_text


def test_period_limits_sessions_goals_and_minutes():
    goal = GoalInput("g", "x", sessions=(session(-5, 1, 10), session(0, 6, 10), session(3, 8, 10)))
    source = ReportInput(
        patient_name="Milo Quillfeather", period_start=DAY, period_end=DAY + dt.timedelta(days=9),
        written_on=DAY + dt.timedelta(days=9), goals=(goal,),
        sessions=(SessionMinutes(DAY - dt.timedelta(days=5), 30), SessionMinutes(DAY, 30),
                  SessionMinutes(DAY + dt.timedelta(days=3), 45), SessionMinutes(DAY + dt.timedelta(days=3), 15)),
    )
    report = compute_report(source)
    assert report.goals[0].accuracies == [60, 80]
    assert (report.session_count, report.treatment_days, report.total_minutes) == (3, 2, 90)
    assert "60% -> 80% over 2 sessions, improving" in draft_assessment(report)
    markdown = render_markdown(report)
    assert "Reporting period: 2026-10-01 to 2026-10-10" in markdown
    assert "3 sessions on 2 treatment days, 90 minutes" in markdown
    assert "| 2026-10-04 | 8/10 | 80% | at or above |" in markdown
    assert "DRAFT: not signed" in markdown


def test_charts_draw_the_target_line():
    assert sparkline([0, 50, 100, None]) == "▁▅█ "
    text = plot_text([40, 90], 80, height=5)
    rows = text.splitlines()
    assert rows[0].startswith(" 80 │") and "┈" in rows[0]
    assert rows[-1].startswith("  0 │██")


def test_school_minutes_week_by_week():
    today = dt.date(2026, 11, 18)  # a Wednesday
    weeks = weeks_of_month(today)
    assert [monday.isoformat() for monday, _ in weeks] == ["2026-11-02", "2026-11-09", "2026-11-16",
                                                           "2026-11-23", "2026-11-30"]
    minutes = {dt.date(2026, 11, 3): 30, dt.date(2026, 11, 5): 30, dt.date(2026, 11, 10): 30,
               dt.date(2026, 11, 16): 20}
    student = student_minutes(patient_id="p", name="Ashdown, Pip", external_id="S-1", school="Cedar",
                              requirement=IepRequirement(60, IepPeriod.WEEK), minutes_by_day=minutes,
                              month=today, today=today)
    assert [p.text for p in student.periods] == ["60/60", "30/60", "20/60", "0/60", "0/60"]
    # week 2 short by 30; this week 3 of 5 school days expect 36, 20 delivered: 16 short
    assert student.status == "behind 46"
    consult = student_minutes(patient_id="p", name="Ashdown, Pip", external_id="S-1", school="Cedar",
                              requirement=IepRequirement(30, IepPeriod.MONTH, IepServiceKind.CONSULT),
                              minutes_by_day=minutes, month=today, today=today)
    assert consult.month_delivered == 0 and consult.status == "consult"


def test_service_log_csv_columns():
    entry = ServiceLogEntry("Ashdown, Pip", "S-1", dt.date(2026, 11, 3), dt.time(9, 0), dt.time(9, 30), 30,
                            "Direct", 2, ("Answers wh- questions", "/s/ blends"), "Rosa Fennimore", "CCC-SLP",
                            dt.date(2026, 11, 3))
    lines = service_log_csv([entry]).splitlines()
    assert lines[0] == ("Student Name,Student ID,Date of Service,Start Time,Stop Time,Minutes,Service Type,"
                        "Group Size,IEP Goal/Objective,Clinician,Credentials,Note Signed Date,Attendance,"
                        "Make-up Owed")
    assert lines[1] == ('"Ashdown, Pip",S-1,2026-11-03,09:00,09:30,30,Direct,2,'
                        "Answers wh- questions; /s/ blends,Rosa Fennimore,CCC-SLP,2026-11-03,Delivered,")


def test_reports_package_is_headless():
    import slpterm.reports.charts  # noqa: F401
    import slpterm.reports.markdown  # noqa: F401
    import slpterm.reports.model  # noqa: F401
    import slpterm.reports.school  # noqa: F401

    for module in ("slpterm.reports.model", "slpterm.reports.charts", "slpterm.reports.school"):
        source = sys.modules[module].__file__
        text = open(source, encoding="utf-8").read()
        assert "import textual" not in text and "from textual" not in text and "sqlmodel" not in text

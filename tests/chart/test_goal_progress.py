"""Per-goal progress on the chart: the series (exact values), its text chart, and the screen."""

from __future__ import annotations

from datetime import date

from slpterm.clinical.tally import Trial
from slpterm.domain.vocab import CueLevel, TrialResult
from slpterm.reports.charts import goal_chart_text
from slpterm.reports.goal_series import goal_series
from slpterm.reports.model import GoalInput, GoalSession

C, X = TrialResult.CORRECT, TrialResult.INCORRECT


def _session(day: int, correct: int, total: int, cue: CueLevel) -> GoalSession:
    return GoalSession(date(2026, 10, day), tuple([Trial(C, cue)] * correct + [Trial(X, cue)] * (total - correct)))


def test_the_series_has_accuracy_and_cue_per_session_and_the_day_the_criterion_was_met():
    goal = GoalInput(goal_id="g", text="/r/ initial", target_accuracy=80, criterion_sessions=3, sessions=(
        _session(9, 8, 10, CueLevel.MINIMAL), _session(2, 3, 10, CueLevel.MODERATE),
        _session(16, 9, 10, CueLevel.INDEPENDENT), GoalSession(date(2026, 10, 20)),
        _session(23, 17, 20, CueLevel.INDEPENDENT), _session(30, 10, 10, CueLevel.INDEPENDENT)))
    series = goal_series(goal)
    assert [point.day.day for point in series.points] == [2, 9, 16, 23, 30]
    assert series.accuracies == [30, 80, 90, 85, 100]
    assert series.cue_digits == "32111"
    assert series.met_index == 3 and series.met_on == date(2026, 10, 23)
    assert series.criterion_text == "criterion 80% over 3 consecutive sessions: met on 2026-10-23"


def test_a_goal_not_yet_at_criterion_says_so():
    goal = GoalInput(goal_id="g", text="t", target_accuracy=90, criterion_sessions=2,
                     sessions=(_session(2, 9, 10, CueLevel.MINIMAL), _session(9, 5, 10, CueLevel.MINIMAL)))
    series = goal_series(goal)
    assert series.met_on is None and series.met_index is None
    assert series.criterion_text == "criterion 90% over 2 consecutive sessions: not met yet"


def test_the_chart_draws_the_criterion_line_the_cues_and_the_met_marker():
    text = goal_chart_text([30, 80, 90, 85, 100], 80, "32111", 3, height=5, width=40)
    assert text.splitlines() == [
        " 80 │┈┈┈┈┈┈▄▄┈▂▂┈██┈",
        "    │   ██ ██ ██ ██",
        "    │   ██ ██ ██ ██",
        "    │▄▄ ██ ██ ██ ██",
        "  0 │██ ██ ██ ██ ██",
        "cue │3  2  1  1  1",
        "    │         ▲",
    ]


def test_only_the_newest_sessions_that_fit_are_drawn():
    text = goal_chart_text(list(range(20)), 80, "1" * 20, None, height=4, width=15)
    assert text.splitlines()[-2] == "cue │1111111111"


def test_the_demo_clinic_shows_a_goal_rising_to_its_criterion(tmp_path):
    from slpterm.cli import main
    from slpterm.services.progress import goal_series_of
    from slpterm.store import open_store

    main(["demo", "--out", str(tmp_path / "demo")])
    store = open_store(tmp_path / "demo")
    try:
        met = []
        for row in store.caseload.rows():
            chart = store.patients.chart(row.patient_id)
            for goals in chart.goals_by_plan.values():
                for goal in goals:
                    series = goal_series_of(store, row.patient_id, goal.id)
                    if series.met_on and series.accuracies[-1] - series.accuracies[0] >= 40:
                        met.append(series)
        assert met
    finally:
        store.close()


async def test_t_on_a_goal_of_the_chart_opens_its_progress(clinic_dir, clock):
    from conftest import settle_app

    from slpterm.store import open_store
    from slpterm.ui.app import build_app
    from slpterm.ui.screens.goal_progress import GoalProgressScreen
    from slpterm.ui.screens.patient import PatientScreen

    store = open_store(clinic_dir)
    patient_id = store.caseload.rows()[0].patient_id
    clinician_id = store.clinic.clinicians()[0].id
    chart = store.patients.chart(patient_id)
    goal = chart.goals_by_plan[chart.plans[0].id][0]
    for day, correct in ((5, 2), (12, 4)):
        _, (participant,) = store.sessions.create(date_of_service=date(2026, 10, day), session_type="individual_treatment",
                                                  setting="office", patient_ids=[patient_id], clinician_id=clinician_id)
        for index in range(5):
            store.sessions.record_trial(participant.id, goal.id, "correct" if index < correct else "incorrect", "minimal")
        store.sessions.toggle_technique(participant.id, "ss.minimal_pairs")
        store.sessions.save_note(participant.id, objective="o", subjective="s", assessment="a", plan="p")
        store.sessions.sign(participant.id, clinician_id)
    store.close()

    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle_app(app, pilot)
        await pilot.press("enter")
        await settle_app(app, pilot)
        screen = app.screen
        assert isinstance(screen, PatientScreen)
        items = screen.query_one("#chart-items")
        items.highlighted = next(i for i in range(items.option_count)
                                 if (items.get_option_at_index(i).id or "").startswith(f"goal:{goal.id}"))
        await pilot.press("t")
        await settle_app(app, pilot)
        assert isinstance(app.screen, GoalProgressScreen)
        series = app.screen.series
        assert series is not None and series.accuracies == [40, 80] and series.cue_digits == "22"
        sessions = str(app.screen.query_one("#goal-progress-sessions").render())
        assert "2026-10-12    4/5    80%  minimal" in sessions
        await pilot.press("escape")
        await settle_app(app, pilot)
        assert isinstance(app.screen, PatientScreen)

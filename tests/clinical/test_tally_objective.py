from __future__ import annotations

import pytest

from slpterm.clinical.objective import GoalTrials, cue_phrase, draft_objective, goal_line, minutes_text
from slpterm.clinical.tally import Tally, Trial, percent, tally, tally_by_cue, tally_by_goal
from slpterm.domain.vocab import CueLevel, DisorderArea, TrialResult

C, I, N = TrialResult.CORRECT, TrialResult.INCORRECT, TrialResult.NO_RESPONSE
IND, MIN, MOD, MAX = CueLevel.INDEPENDENT, CueLevel.MINIMAL, CueLevel.MODERATE, CueLevel.MAXIMAL


def trials(spec: str, cue: CueLevel = MIN) -> list[Trial]:
    """'cci-' -> correct, correct, incorrect, no response."""
    mapping = {"c": C, "i": I, "-": N}
    return [Trial(mapping[char], cue) for char in spec]


@pytest.mark.parametrize(
    ("correct", "total", "expected"),
    [(18, 20, 90), (2, 3, 67), (1, 3, 33), (1, 8, 13), (0, 5, 0), (5, 5, 100), (0, 0, None), (1, 200, 1)],
)
def test_percent(correct, total, expected):
    assert percent(correct, total) == expected


@pytest.mark.parametrize(
    ("spec", "expected", "accuracy"),
    [
        ("", Tally(0, 0, 0), None),
        ("ccc", Tally(3, 0, 0), 100),
        ("cci", Tally(2, 1, 0), 67),
        ("cc--", Tally(2, 0, 2), 50),
        ("---", Tally(0, 0, 3), 0),
    ],
)
def test_tally(spec, expected, accuracy):
    result = tally(trials(spec))
    assert result == expected
    assert result.accuracy == accuracy
    assert result.total == len(spec)


def test_tally_by_cue_orders_levels_and_separates_counts():
    mixed = trials("ci", MAX) + trials("cccc", IND) + trials("ci-", MIN)
    result = tally_by_cue(mixed)
    assert list(result) == [IND, MIN, MAX]
    assert result[IND] == Tally(4, 0, 0)
    assert result[MIN] == Tally(1, 1, 1)
    assert result[MAX].accuracy == 50


def test_tally_by_goal_and_addition():
    result = tally_by_goal({"g1": trials("cc"), "g2": trials("i-")})
    assert result == {"g1": Tally(2, 0, 0), "g2": Tally(0, 1, 1)}
    assert result["g1"] + result["g2"] == Tally(2, 1, 1)


def test_trials_with_plain_string_values_are_accepted():
    class Row:
        def __init__(self, result: str, cue: str) -> None:
            self.result, self.cue = result, cue

    assert tally([Row("correct", "minimal"), Row("no_response", "maximal")]) == Tally(1, 0, 1)
    assert list(tally_by_cue([Row("correct", "moderate")])) == [MOD]


@pytest.mark.parametrize(
    ("cue", "cue_type", "expected"),
    [(IND, "verbal", "independently"), (MIN, "verbal", "with minimal verbal cues"), (MAX, "", "with maximal cues")],
)
def test_cue_phrase(cue, cue_type, expected):
    assert cue_phrase(cue, cue_type) == expected


@pytest.mark.parametrize(
    ("goal", "expected"),
    [
        (
            GoalTrials("/r/ initial position at word level", trials("c" * 18 + "ii"), 2, "verbal"),
            "Goal 2, /r/ initial position at word level: 18/20 trials (90%) with minimal verbal cues",
        ),
        (
            GoalTrials("/s/ blends", trials("c" * 10, IND) + trials("c" * 8 + "ii", MIN), 1, "verbal"),
            "Goal 1, /s/ blends: 18/20 trials (90%): 10/10 (100%) independently, 8/10 (80%) with minimal verbal cues",
        ),
        (
            GoalTrials("answers wh- questions", trials("cci-", MOD)),
            "answers wh- questions: 2/4 trials (50%) with moderate cues; 1 no response",
        ),
        (
            GoalTrials("chin tuck with thin liquids", trials("c--", MAX), 3, "tactile"),
            "Goal 3, chin tuck with thin liquids: 1/3 trials (33%) with maximal tactile cues; 2 no responses",
        ),
        (GoalTrials("narrative retell", (), 4), "Goal 4, narrative retell: addressed; no trial data recorded"),
    ],
)
def test_goal_line(goal, expected):
    assert goal_line(goal) == expected


@pytest.mark.parametrize(
    ("total", "by_area", "expected"),
    [
        (32, {DisorderArea.SPEECH_SOUND: 32}, "32 minutes total"),
        (1, {}, "1 minute total"),
        (0, {}, ""),
        (None, None, ""),
        (
            45,
            {DisorderArea.SPEECH_SOUND: 20, DisorderArea.LANGUAGE: 25, DisorderArea.AAC: 0},
            "45 minutes total (speech sound 20, language 25)",
        ),
        (30, {"aac": 10, "swallowing": 20}, "30 minutes total (AAC 10, swallowing 20)"),
    ],
)
def test_minutes_text(total, by_area, expected):
    assert minutes_text(total, by_area) == expected


def test_draft_objective_single_goal_matches_the_product_example():
    goal = GoalTrials("/r/ initial position at word level", trials("c" * 18 + "ii"), 2, "verbal")
    assert draft_objective([goal], 32, {DisorderArea.SPEECH_SOUND: 32}) == (
        "Goal 2, /r/ initial position at word level: 18/20 trials (90%) with minimal verbal cues; 32 minutes total"
    )


def test_draft_objective_several_goals():
    goals = [
        GoalTrials("/r/ words", trials("ccci"), 1),
        GoalTrials("following 2-step directions", trials("cc", IND), 2),
    ]
    text = draft_objective(goals, 40, {DisorderArea.SPEECH_SOUND: 25, DisorderArea.LANGUAGE: 15})
    assert text.splitlines() == [
        "Goal 1, /r/ words: 3/4 trials (75%) with minimal cues",
        "Goal 2, following 2-step directions: 2/2 trials (100%) independently",
        "40 minutes total (speech sound 25, language 15)",
    ]
    assert draft_objective(goals, None) == "\n".join(text.splitlines()[:2])
    assert draft_objective([], 20) == "20 minutes total"

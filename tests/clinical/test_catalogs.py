from __future__ import annotations

from pathlib import Path

import pytest

from slpterm.clinical.catalogs import (
    SoapSection,
    goals_for_area,
    load_goal_bank,
    load_phrases,
    load_techniques,
)
from slpterm.clinical.data import ClinicalDataError
from slpterm.domain.vocab import CueLevel, DisorderArea, GoalTerm

PROCEDURES = [
    "speech_sound", "fluency_shaping", "stuttering_modification", "language", "voice", "dysphagia_strategies",
    "diet_changes", "aac_training", "cognitive_communication", "auditory_rehabilitation",
]
TECHNIQUES = [
    ("ss.minimal_pairs", "speech_sound"),
    ("ss.cycles", "speech_sound"),
    ("fl.easy_onset", "fluency"),
    ("fl.cancellation", "fluency"),
    ("fl.pull_out", "fluency"),
    ("voice.vocal_function_exercises", "voice"),
    ("voice.loud_voice", "voice"),
    ("voice.resonant_voice", "voice"),
    ("dys.chin_tuck", "swallowing"),
    ("dys.effortful_swallow", "swallowing"),
    ("dys.mendelsohn", "swallowing"),
    ("dys.supraglottic_swallow", "swallowing"),
    ("dys.thermal_tactile", "swallowing"),
    ("diet.iddsi_liquids", "swallowing"),
    ("lang.modeling", "language"),
    ("lang.expansion", "language"),
    ("lang.recasting", "language"),
    ("aac.core_vocabulary", "aac"),
    ("aac.aided_language_stimulation", "aac"),
    ("cog.spaced_retrieval", "cognition"),
    ("cog.errorless_learning", "cognition"),
    ("aud.auditory_training", "hearing"),
]


@pytest.mark.parametrize("area", list(DisorderArea))
def test_goal_bank_covers_every_area_with_long_and_short_goals(area):
    goals = goals_for_area(load_goal_bank(), area)
    terms = [goal.term for goal in goals]
    assert GoalTerm.LONG in terms and terms.count(GoalTerm.SHORT) >= 2
    assert terms[0] == GoalTerm.LONG
    for goal in goals:
        assert "{patient}" in goal.text
        assert 1 <= goal.target_accuracy <= 100 and goal.consecutive_sessions >= 1 and goal.criterion


def test_goal_render_fills_defaults_and_keeps_missing_placeholders():
    goal = next(g for g in load_goal_bank() if g.id == "speech_sound.stg.word_position")
    assert goal.default_cue == CueLevel.MINIMAL
    assert goal.render(patient="Avery", target="/r/", position="initial") == (
        "Avery will produce /r/ in the initial position of words with 80% accuracy given minimal cues "
        "across 3 consecutive sessions."
    )
    partial = goal.render(patient="Avery", accuracy=90)
    assert "{target}" in partial and "90%" in partial


@pytest.mark.parametrize("procedure", PROCEDURES)
def test_procedures_exist_and_have_techniques(procedure):
    catalog = load_techniques()
    assert procedure in {p.id for p in catalog.procedures}
    assert len(catalog.for_procedure(procedure)) >= 2


@pytest.mark.parametrize(("technique_id", "area"), TECHNIQUES)
def test_named_techniques(technique_id, area):
    technique = load_techniques().by_id(technique_id)
    assert technique is not None
    assert technique.area == area
    assert technique.note and technique.name


def test_technique_ids_are_unique_and_areas_match_procedures():
    catalog = load_techniques()
    ids = [t.id for t in catalog.techniques]
    assert len(ids) == len(set(ids))
    procedures = {p.id: p for p in catalog.procedures}
    for technique in catalog.techniques:
        assert procedures[technique.procedure].area == technique.area
    assert catalog.for_area(DisorderArea.HEARING)


@pytest.mark.parametrize("section", list(SoapSection))
def test_phrases_per_section(section):
    phrases = load_phrases()[section]
    assert len(phrases) >= 5
    assert all(phrase.section == section and phrase.text for phrase in phrases)


def test_clinic_files_extend_and_replace(tmp_path: Path):
    (tmp_path / "goal_bank.toml").write_text(
        'source = "Clinic"\n'
        '[[goal]]\nid = "voice.ltg.functional"\narea = "voice"\nterm = "long"\n'
        'text = "{patient} will teach a class without vocal fatigue."\ntarget_accuracy = 100\n'
        'consecutive_sessions = 2\ncriterion = "self-report"\n'
        '[[goal]]\nid = "clinic.voice.singing"\narea = "voice"\nterm = "short"\n'
        'text = "{patient} will sing {target} with easy onset."\ntarget_accuracy = 80\n'
        'consecutive_sessions = 3\ncriterion = "trials"\n'
    )
    (tmp_path / "techniques.toml").write_text(
        'source = "Clinic"\n[[technique]]\nid = "voice.clinic_humming"\nprocedure = "voice"\narea = "voice"\n'
        'name = "Humming warm-up"\nnote = "humming warm-up"\n'
    )
    (tmp_path / "phrases.toml").write_text(
        'source = "Clinic"\n[[phrase]]\nid = "p.clinic_call"\nsection = "plan"\ntext = "Call {caregiver} on Friday."\n'
    )
    shipped_goals = load_goal_bank()
    goals = load_goal_bank(tmp_path)
    assert len(goals) == len(shipped_goals) + 1
    replaced = next(g for g in goals if g.id == "voice.ltg.functional")
    assert replaced.text.endswith("without vocal fatigue.")
    assert load_techniques(tmp_path).by_id("voice.clinic_humming") is not None
    assert [p.id for p in load_phrases(tmp_path)[SoapSection.PLAN]][-1] == "p.clinic_call"


GOAL = (
    'source = "s"\n[[goal]]\nid = "g1"\narea = "voice"\nterm = "long"\ntext = "{patient} will talk."\n'
    'target_accuracy = 80\nconsecutive_sessions = 3\ncriterion = "c"\n'
)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (GOAL.replace('area = "voice"', 'area = "teeth"'), "area = 'teeth' is unknown"),
        (GOAL.replace('term = "long"', 'term = "medium"'), "term = 'medium' is unknown"),
        (GOAL.replace("target_accuracy = 80", "target_accuracy = 120"), "'target_accuracy' must be a whole number from 1 to 100"),
        (GOAL.replace("consecutive_sessions = 3", "consecutive_sessions = 0"), "consecutive_sessions"),
        (GOAL.replace("{patient} will talk.", "{patient} will {sing}."), "placeholder {sing} is unknown"),
        (GOAL.replace("{patient} will talk.", "{patient will talk."), "unbalanced braces"),
        (GOAL.replace('criterion = "c"\n', ""), "'criterion' must be"),
        (GOAL + GOAL.replace('source = "s"\n', ""), "id 'g1' is used twice"),
        (GOAL.replace('source = "s"\n', ""), "'source'"),
        (GOAL + 'default_cue = "loud"\n', "default_cue = 'loud' is unknown"),
    ],
)
def test_goal_bank_validation(tmp_path: Path, content, fragment):
    path = tmp_path / "goal_bank.toml"
    path.write_text(content)
    with pytest.raises(ClinicalDataError) as error:
        load_goal_bank(path=path)
    assert fragment in str(error.value)
    assert "goal_bank.toml" in str(error.value)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (
            'source = "s"\n[[technique]]\nid = "t"\nprocedure = "nowhere"\narea = "voice"\nname = "n"\nnote = "n"\n',
            "procedure 'nowhere' is not defined",
        ),
        ('source = "s"\n[[procedure]]\nid = "p"\nname = "n"\narea = "mime"\n', "area = 'mime' is unknown"),
        ('source = "s"\ntechnique = "x"\n', "must be written as [[technique]]"),
    ],
)
def test_techniques_validation(tmp_path: Path, content, fragment):
    path = tmp_path / "techniques.toml"
    path.write_text(content)
    with pytest.raises(ClinicalDataError) as error:
        load_techniques(path=path)
    assert fragment in str(error.value)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ('source = "s"\n[[phrase]]\nid = "x"\nsection = "summary"\ntext = "t"\n', "section = 'summary' is unknown"),
        ('source = "s"\n[[phrase]]\nid = "x"\nsection = "plan"\ntext = ""\n', "'text' must be"),
        ('source = "s"\n[[phrase]]\nid = "x"\nsection = "plan"\ntext = "{a b}"\n', "not a simple name"),
    ],
)
def test_phrases_validation(tmp_path: Path, content, fragment):
    path = tmp_path / "phrases.toml"
    path.write_text(content)
    with pytest.raises(ClinicalDataError) as error:
        load_phrases(path=path)
    assert fragment in str(error.value)


def test_broken_clinic_file_is_named(tmp_path: Path):
    (tmp_path / "phrases.toml").write_text("source = \n")
    with pytest.raises(ClinicalDataError) as error:
        load_phrases(tmp_path)
    assert str(tmp_path / "phrases.toml") in str(error.value)

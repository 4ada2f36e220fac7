"""The fictional material the demo and synthetic clinics are made of.

Patient profiles (diagnoses, disorder areas, goals, techniques and note phrases), names, schools and
payers. Every person and organisation here is invented; the names are deliberately whimsical so that
nobody mistakes a demo chart for a real one.
"""

from __future__ import annotations

from dataclasses import dataclass

from slpterm.domain.vocab import (
    DiagnosisRole,
    DisorderArea,
    EvaluationKind,
    PayerKind,
    SessionType,
    Setting,
)

FIRST_NAMES = (
    "Ambrose", "Bellamy", "Clementine", "Dorian", "Elowen", "Fennimore", "Gwendolyn", "Horatio",
    "Isadora", "Jasper", "Kestrel", "Lavender", "Montgomery", "Nettie", "Octavia", "Peregrine",
    "Quincy", "Rosalind", "Sylvester", "Tabitha", "Ulysses", "Verbena", "Wilhelmina", "Xavier",
    "Yarrow", "Zinnia", "Archibald", "Bramble", "Cordelia", "Desmond", "Ebenezer", "Florentine",
    "Gideon", "Hyacinth", "Ignatius", "Juniper", "Leopold", "Mirabel", "Nimbus", "Ophelia",
    "Percival", "Rutherford", "Saffron", "Thaddeus", "Ursula", "Valentina", "Winifred", "Zephyr",
)

LAST_NAMES = (
    "Applethwaite", "Bumblecrest", "Cobblewick", "Dandelionne", "Elderberry", "Fiddlesworth",
    "Gingersnap", "Hollyhock", "Inkwhistle", "Jellicoe-Pond", "Kettleburn", "Lumberwhit",
    "Marmalade", "Nettlefold", "Oakenshaw", "Puddingstone", "Quibbleton", "Rumbleford",
    "Snickerdoodle", "Thimbleberry", "Umbergrove", "Vellichor", "Wafflestone", "Yarnspinner",
    "Zucchelli-Moon", "Acornfield", "Biscuitwood", "Crumpetton", "Dewdrop", "Figglesby",
    "Gumdrop", "Honeysett", "Jamjar", "Kipperling", "Lollyworth", "Muffinshire", "Noodleham",
    "Pickleberry", "Quillsby", "Ribbonwood", "Sprocketts", "Tumbleweed", "Wobblesworth",
)

CITY = "Riverbend"
STATE = "IL"
POSTAL_CODES = ("62990", "62991", "62992")
STREETS = ("Birch Lane", "Lantern Way", "Pebble Court", "Meadowlark Road", "Quarry Street",
           "Willow Bend", "Old Mill Road", "Harbor View Drive")

SCHOOLS = (
    "Maple Grove Elementary", "Kite Hill Elementary", "Lighthouse Middle School",
    "Cedar Hollow Elementary", "Riverbend High School", "Sunflower Academy",
)

# Fictional payers: (name, payer id used on claims).
PAYERS: dict[PayerKind, tuple[str, str]] = {
    PayerKind.MEDICARE: ("Medicare Part B (Demo Contractor)", "DMCR1"),
    PayerKind.MEDICAID: ("Riverbend State Medicaid (Demo)", "DMCD1"),
    PayerKind.COMMERCIAL: ("Bluebird Health Plan (Demo)", "DBLU1"),
    PayerKind.SCHOOL: ("Riverbend Unified School District (Demo)", "DSCH1"),
    PayerKind.SELF_PAY: ("Self-pay", ""),
}

PHYSICIANS = (
    "Dr. Cornelius Featherby, MD", "Dr. Octavia Lanternfish, DO", "Dr. Humphrey Quayle, MD",
    "Pippa Moonfield, NP",
)

# Charges per code in cents (a demo fee schedule, not any payer's rates).
FEE_SCHEDULE_CENTS = {
    "92507": 13500, "92508": 6500, "92526": 14500, "92606": 12000, "92609": 14000,
    "97129": 7500, "97130": 6000, "92521": 24000, "92522": 21000, "92523": 26000, "92524": 23000,
    "92610": 22000, "92605": 26000, "92607": 28000, "96105": 16000, "96125": 17000,
}

# Techniques by disorder area: ids of the shipped techniques catalog (slpterm/rules/techniques.toml).
TECHNIQUES: dict[DisorderArea, tuple[str, ...]] = {
    DisorderArea.SPEECH_SOUND: ("ss.minimal_pairs", "ss.phonetic_placement", "ss.auditory_bombardment",
                                "ss.cycles", "ss.shaping"),
    DisorderArea.LANGUAGE: ("lang.modeling", "lang.expansion", "lang.recasting", "lang.visual_supports",
                            "lang.semantic_feature_analysis", "lang.story_grammar"),
    DisorderArea.FLUENCY: ("fl.easy_onset", "fl.light_contact", "fl.pausing_phrasing", "fl.cancellation",
                           "fl.pull_out", "fl.identification"),
    DisorderArea.VOICE: ("voice.resonant_voice", "voice.vocal_function_exercises", "voice.loud_voice",
                         "voice.vocal_hygiene", "voice.breath_support"),
    DisorderArea.SWALLOWING: ("dys.chin_tuck", "dys.effortful_swallow", "dys.supraglottic_swallow",
                              "dys.mendelsohn", "dys.pacing_small_bites"),
    DisorderArea.COGNITION: ("cog.spaced_retrieval", "cog.external_memory_aids", "cog.executive_function",
                             "cog.attention_process_training", "cog.problem_solving"),
    DisorderArea.AAC: ("aac.core_vocabulary", "aac.aided_language_stimulation", "aac.device_navigation",
                       "aac.partner_training"),
}

AREA_WORDS: dict[DisorderArea, str] = {
    DisorderArea.SPEECH_SOUND: "speech sound production",
    DisorderArea.LANGUAGE: "language",
    DisorderArea.FLUENCY: "fluency",
    DisorderArea.VOICE: "voice",
    DisorderArea.SWALLOWING: "swallowing",
    DisorderArea.COGNITION: "cognitive-communication",
    DisorderArea.AAC: "AAC",
}


@dataclass(frozen=True)
class GoalTemplate:
    """A short-term goal: ``label`` is what the objective line names, ``baseline`` the start accuracy."""

    area: DisorderArea
    label: str
    text: str
    baseline: int
    target: int = 80


@dataclass(frozen=True)
class Profile:
    """A kind of patient the clinic sees, with what charting that patient needs."""

    key: str
    ages: tuple[int, int]
    diagnoses: tuple[tuple[str, str, DiagnosisRole], ...]
    long_goals: dict[DisorderArea, str]
    goals: tuple[GoalTemplate, ...]
    session_types: tuple[SessionType, ...]
    evaluation: tuple[SessionType, EvaluationKind]
    payers: tuple[tuple[PayerKind, int], ...]  # kind, weight
    settings: tuple[Setting, ...]
    subjective: tuple[str, ...]
    group_ok: bool = False
    school_age: bool = False
    frequency: str = "2x/week"
    rehabilitative: bool | None = None  # True rehabilitative (97), False habilitative (96)

    @property
    def areas(self) -> tuple[DisorderArea, ...]:
        return tuple(dict.fromkeys(goal.area for goal in self.goals))

    def area_for(self, session_type: SessionType) -> tuple[DisorderArea, ...]:
        """The disorder areas a treatment session of this type works on."""
        if session_type == SessionType.SWALLOWING_TREATMENT:
            return (DisorderArea.SWALLOWING,)
        if session_type == SessionType.COGNITIVE_TREATMENT:
            return (DisorderArea.COGNITION,)
        if session_type == SessionType.AAC_TREATMENT:
            return (DisorderArea.AAC,)
        areas = tuple(area for area in self.areas
                      if area not in (DisorderArea.SWALLOWING, DisorderArea.COGNITION, DisorderArea.AAC))
        return areas or self.areas


T = DiagnosisRole.TREATMENT
M = DiagnosisRole.MEDICAL
A = DisorderArea

_CHILD_SUBJECTIVE = (
    "{first} arrived with mother, cheerful and ready to work.",
    "Father reports {first} practiced the home list on 3 of 5 days this week.",
    "{first} was tired after school today but participated with frequent breaks.",
    "Mother reports teachers are understanding {first} better in class.",
    "{first} separated easily from caregiver and chose the sticker chart as reinforcer.",
    "Caregiver reports a cold earlier this week; {first} alert and cooperative today.",
)
_ADULT_SUBJECTIVE = (
    "Pt arrived on time, alert and cooperative; reports good week.",
    "Pt reports practicing home exercises daily; no new medical concerns.",
    "Pt reports fatigue after poor sleep; participated fully.",
    "Spouse present for session and reports carry-over at home.",
    "Pt motivated; states goal of returning to community activities.",
)

PROFILES: dict[str, Profile] = {profile.key: profile for profile in (
    Profile(
        key="phonological_child", ages=(4, 8),
        diagnoses=(("F80.0", "Phonological disorder", T),),
        long_goals={A.SPEECH_SOUND: "Improve speech intelligibility to 80% with unfamiliar listeners in conversation."},
        goals=(
            GoalTemplate(A.SPEECH_SOUND, "/r/ initial position, word level",
                         "Produce /r/ in the initial position of words with 80% accuracy given minimal cues "
                         "across 3 consecutive sessions.", 30),
            GoalTemplate(A.SPEECH_SOUND, "final consonants, phrase level",
                         "Produce final consonants in 3-4 word phrases (no final consonant deletion) with "
                         "80% accuracy across 3 consecutive sessions.", 45),
            GoalTemplate(A.SPEECH_SOUND, "/k/ and /g/ initial position, word level",
                         "Produce velars /k/ and /g/ in word-initial position (no fronting) with 80% accuracy "
                         "given minimal cues.", 35),
        ),
        session_types=(SessionType.INDIVIDUAL_TREATMENT,),
        evaluation=(SessionType.EVALUATION, EvaluationKind.SPEECH_SOUND),
        payers=((PayerKind.MEDICAID, 5), (PayerKind.COMMERCIAL, 3), (PayerKind.SELF_PAY, 1), (PayerKind.SCHOOL, 2)),
        settings=(Setting.OFFICE, Setting.SCHOOL),
        subjective=_CHILD_SUBJECTIVE, group_ok=True, rehabilitative=False,
    ),
    Profile(
        key="expressive_language_child", ages=(3, 7),
        diagnoses=(("F80.1", "Expressive language disorder", T),),
        long_goals={A.LANGUAGE: "Use age-appropriate sentences to request, comment and answer questions at home and school."},
        goals=(
            GoalTemplate(A.LANGUAGE, "2-3 word utterances in play",
                         "Use 2-3 word utterances to request and comment during play in 80% of opportunities.", 35),
            GoalTemplate(A.LANGUAGE, "regular past tense -ed, sentence level",
                         "Use regular past tense -ed in sentences describing pictures with 80% accuracy.", 25),
            GoalTemplate(A.LANGUAGE, "pronouns he/she, sentence level",
                         "Use subjective pronouns he/she correctly in sentences with 80% accuracy.", 40),
        ),
        session_types=(SessionType.INDIVIDUAL_TREATMENT,),
        evaluation=(SessionType.EVALUATION, EvaluationKind.LANGUAGE_ONLY),
        payers=((PayerKind.MEDICAID, 5), (PayerKind.COMMERCIAL, 3), (PayerKind.SELF_PAY, 1)),
        settings=(Setting.OFFICE, Setting.HOME),
        subjective=_CHILD_SUBJECTIVE, group_ok=True, rehabilitative=False,
    ),
    Profile(
        key="mixed_language_school", ages=(6, 14),
        diagnoses=(("F80.2", "Mixed receptive-expressive language disorder", T),),
        long_goals={A.LANGUAGE: "Understand and use grade-level language to access the general education curriculum."},
        goals=(
            GoalTemplate(A.LANGUAGE, "2-step directions with basic concepts",
                         "Follow 2-step directions containing basic concepts (before/after, first/then) with "
                         "80% accuracy in 3 of 4 sessions.", 45),
            GoalTemplate(A.LANGUAGE, "wh- questions about a short story",
                         "Answer who/what/where/why questions about a grade-level story with 80% accuracy.", 40),
            GoalTemplate(A.LANGUAGE, "story retell with beginning, middle, end",
                         "Retell a short story including beginning, middle and end with 80% of story elements.", 30),
            GoalTemplate(A.LANGUAGE, "grade-level vocabulary definitions",
                         "Define grade-level curriculum vocabulary using category and 2 attributes with 80% accuracy.", 35),
        ),
        session_types=(SessionType.INDIVIDUAL_TREATMENT,),
        evaluation=(SessionType.EVALUATION, EvaluationKind.LANGUAGE_ONLY),
        payers=((PayerKind.SCHOOL, 6), (PayerKind.MEDICAID, 3)),
        settings=(Setting.SCHOOL,),
        subjective=_CHILD_SUBJECTIVE, group_ok=True, school_age=True, rehabilitative=False,
    ),
    Profile(
        key="child_fluency", ages=(5, 15),
        diagnoses=(("F80.81", "Childhood onset fluency disorder", T),),
        long_goals={A.FLUENCY: "Communicate effectively in class and at home using fluency strategies."},
        goals=(
            GoalTemplate(A.FLUENCY, "easy onset, sentence level",
                         "Use easy onset at sentence level with 80% accuracy given minimal cues.", 35),
            GoalTemplate(A.FLUENCY, "light contact in structured conversation",
                         "Use light articulatory contact in structured conversation in 80% of opportunities.", 30),
        ),
        session_types=(SessionType.INDIVIDUAL_TREATMENT,),
        evaluation=(SessionType.EVALUATION, EvaluationKind.FLUENCY),
        payers=((PayerKind.COMMERCIAL, 4), (PayerKind.MEDICAID, 3), (PayerKind.SCHOOL, 2)),
        settings=(Setting.OFFICE, Setting.SCHOOL),
        subjective=_CHILD_SUBJECTIVE, school_age=True, frequency="1x/week", rehabilitative=False,
    ),
    Profile(
        key="adult_fluency", ages=(20, 60),
        diagnoses=(("F98.5", "Adult onset fluency disorder", T),),
        long_goals={A.FLUENCY: "Speak with self-rated ease of 7/10 or better in work and social situations."},
        goals=(
            GoalTemplate(A.FLUENCY, "easy onset in structured conversation",
                         "Use easy onset on phrase-initial words in structured conversation in 80% of opportunities.", 30),
            GoalTemplate(A.FLUENCY, "cancellation after a stuttering moment",
                         "Use cancellation after a stuttering moment in conversation in 80% of opportunities.", 20),
            GoalTemplate(A.FLUENCY, "fluency strategies in phone calls",
                         "Use pausing and easy onset during role-played phone calls in 80% of opportunities.", 25),
        ),
        session_types=(SessionType.INDIVIDUAL_TREATMENT,),
        evaluation=(SessionType.EVALUATION, EvaluationKind.FLUENCY),
        payers=((PayerKind.COMMERCIAL, 6), (PayerKind.SELF_PAY, 2), (PayerKind.MEDICAID, 1)),
        settings=(Setting.OFFICE, Setting.TELEHEALTH_HOME),
        subjective=_ADULT_SUBJECTIVE, frequency="1x/week",
    ),
    Profile(
        key="voice_nodules", ages=(24, 58),
        diagnoses=(("J38.2", "Nodules of vocal cords", M), ("R49.0", "Dysphonia", T)),
        long_goals={A.VOICE: "Use a healthy, resonant voice for a full work day without fatigue."},
        goals=(
            GoalTemplate(A.VOICE, "resonant voice, sentence level",
                         "Produce sentences with forward resonant voice in 80% of trials.", 35),
            GoalTemplate(A.VOICE, "vocal function exercises",
                         "Complete vocal function exercise sequence with target duration in 80% of trials.", 40),
        ),
        session_types=(SessionType.INDIVIDUAL_TREATMENT,),
        evaluation=(SessionType.EVALUATION, EvaluationKind.VOICE),
        payers=((PayerKind.COMMERCIAL, 6), (PayerKind.MEDICARE, 1), (PayerKind.SELF_PAY, 1)),
        settings=(Setting.OFFICE,),
        subjective=_ADULT_SUBJECTIVE, frequency="1x/week", rehabilitative=True,
    ),
    Profile(
        key="parkinson_voice", ages=(62, 86),
        diagnoses=(("G20.A1", "Parkinson's disease without dyskinesia, without mention of fluctuations", M),
                   ("R49.0", "Dysphonia", T)),
        long_goals={A.VOICE: "Be heard by family and in community settings without requests to repeat."},
        goals=(
            GoalTemplate(A.VOICE, "functional phrases at target loudness",
                         "Produce 10 functional phrases at target loudness (>= 72 dB SPL at 30 cm) in 80% of trials.", 30),
            GoalTemplate(A.VOICE, "conversation at target loudness",
                         "Maintain target loudness in 5-minute conversation in 80% of utterances.", 20),
        ),
        session_types=(SessionType.INDIVIDUAL_TREATMENT,),
        evaluation=(SessionType.EVALUATION, EvaluationKind.VOICE),
        payers=((PayerKind.MEDICARE, 1),),
        settings=(Setting.OFFICE,),
        subjective=_ADULT_SUBJECTIVE, rehabilitative=True,
    ),
    Profile(
        key="stroke_aphasia_dysphagia", ages=(58, 88),
        diagnoses=(("I69.391", "Dysphagia following cerebral infarction", M),
                   ("R47.01", "Aphasia", T), ("R13.12", "Dysphagia, oropharyngeal phase", T)),
        long_goals={
            A.LANGUAGE: "Communicate basic needs and wants to family and caregivers with minimal support.",
            A.SWALLOWING: "Safely consume the least restrictive diet without signs of aspiration.",
        },
        goals=(
            GoalTemplate(A.LANGUAGE, "naming common objects",
                         "Name common objects with semantic cues in 80% of trials.", 25),
            GoalTemplate(A.LANGUAGE, "yes/no questions, personal information",
                         "Answer personal yes/no questions accurately in 90% of trials.", 50, 90),
            GoalTemplate(A.SWALLOWING, "chin tuck with thin liquids by cup",
                         "Use chin tuck with thin liquid cup sips with no overt signs of aspiration in 90% of trials.",
                         40, 90),
            GoalTemplate(A.SWALLOWING, "effortful swallow with puree",
                         "Perform effortful swallow with puree boluses with reduced residue in 80% of trials.", 35),
        ),
        session_types=(SessionType.INDIVIDUAL_TREATMENT, SessionType.SWALLOWING_TREATMENT),
        evaluation=(SessionType.EVALUATION, EvaluationKind.APHASIA),
        payers=((PayerKind.MEDICARE, 5), (PayerKind.COMMERCIAL, 1)),
        settings=(Setting.OFFICE,),
        subjective=_ADULT_SUBJECTIVE, rehabilitative=True,
    ),
    Profile(
        key="dysphagia_parkinson", ages=(65, 90),
        diagnoses=(("G20.A1", "Parkinson's disease without dyskinesia, without mention of fluctuations", M),
                   ("R13.13", "Dysphagia, pharyngeal phase", T)),
        long_goals={A.SWALLOWING: "Maintain nutrition and hydration on a regular diet with safe-swallow strategies."},
        goals=(
            GoalTemplate(A.SWALLOWING, "supraglottic swallow with thin liquids",
                         "Perform the supraglottic swallow sequence with thin liquids in 80% of trials.", 30),
            GoalTemplate(A.SWALLOWING, "alternating solids and liquids",
                         "Alternate solids and liquids to clear residue during a meal in 80% of opportunities.", 40),
        ),
        session_types=(SessionType.SWALLOWING_TREATMENT,),
        evaluation=(SessionType.EVALUATION, EvaluationKind.SWALLOWING_CLINICAL),
        payers=((PayerKind.MEDICARE, 1),),
        settings=(Setting.OFFICE, Setting.HOME),
        subjective=_ADULT_SUBJECTIVE, rehabilitative=True,
    ),
    Profile(
        key="cognitive_adult", ages=(35, 80),
        diagnoses=(("S06.9X0S", "Unspecified intracranial injury without loss of consciousness, sequela", M),
                   ("R41.841", "Cognitive communication deficit", T)),
        long_goals={A.COGNITION: "Manage appointments, medications and household tasks independently with external aids."},
        goals=(
            GoalTemplate(A.COGNITION, "daily planner for appointments",
                         "Use a daily planner to recall 3 upcoming appointments with 80% accuracy.", 30),
            GoalTemplate(A.COGNITION, "delayed recall of 4-step instructions",
                         "Recall 4-step instructions after a 10-minute delay using a strategy in 80% of trials.", 25),
            GoalTemplate(A.COGNITION, "planning a multi-step task",
                         "Plan and sequence a multi-step task (e.g. a simple meal) with 80% of steps correct.", 35),
        ),
        session_types=(SessionType.COGNITIVE_TREATMENT,),
        evaluation=(SessionType.EVALUATION, EvaluationKind.COGNITIVE_TESTING),
        payers=((PayerKind.MEDICARE, 3), (PayerKind.COMMERCIAL, 3)),
        settings=(Setting.OFFICE, Setting.TELEHEALTH_HOME),
        subjective=_ADULT_SUBJECTIVE, rehabilitative=True,
    ),
    Profile(
        key="aac_cerebral_palsy", ages=(6, 25),
        diagnoses=(("G80.0", "Spastic quadriplegic cerebral palsy", M), ("R47.1", "Dysarthria and anarthria", T)),
        long_goals={A.AAC: "Communicate novel messages across settings using a speech-generating device."},
        goals=(
            GoalTemplate(A.AAC, "2-symbol combinations on SGD",
                         "Combine 2 or more symbols on the speech-generating device to comment or request in "
                         "80% of opportunities.", 25),
            GoalTemplate(A.AAC, "navigating to vocabulary folders",
                         "Navigate to the correct vocabulary folder on the device within 2 attempts in 80% of trials.", 35),
            GoalTemplate(A.AAC, "initiating conversation with SGD",
                         "Initiate a conversational turn with a peer using the device in 80% of opportunities.", 20),
        ),
        session_types=(SessionType.AAC_TREATMENT,),
        evaluation=(SessionType.AAC_EVALUATION, EvaluationKind.AAC_SGD),
        payers=((PayerKind.MEDICAID, 5), (PayerKind.COMMERCIAL, 2)),
        settings=(Setting.OFFICE, Setting.SCHOOL),
        subjective=_CHILD_SUBJECTIVE, frequency="1x/week", rehabilitative=False,
    ),
    Profile(
        key="aac_autism", ages=(4, 12),
        diagnoses=(("F84.0", "Autistic disorder", M), ("F80.2", "Mixed receptive-expressive language disorder", T)),
        long_goals={A.AAC: "Use aided language to request, protest and comment across the school day."},
        goals=(
            GoalTemplate(A.AAC, "requesting with core words on SGD",
                         "Request preferred items with core words (want, more, go) on the device in 80% of opportunities.", 30),
            GoalTemplate(A.AAC, "protesting with 'stop' or 'all done'",
                         "Use 'stop' or 'all done' on the device to protest in 80% of opportunities.", 20),
        ),
        session_types=(SessionType.AAC_TREATMENT,),
        evaluation=(SessionType.AAC_EVALUATION, EvaluationKind.AAC_SGD),
        payers=((PayerKind.MEDICAID, 4), (PayerKind.SCHOOL, 3), (PayerKind.COMMERCIAL, 2)),
        settings=(Setting.SCHOOL, Setting.OFFICE),
        subjective=_CHILD_SUBJECTIVE, school_age=True, rehabilitative=False,
    ),
)}

# How often each profile appears in a synthetic clinic.
PROFILE_WEIGHTS: dict[str, int] = {
    "phonological_child": 18, "expressive_language_child": 14, "mixed_language_school": 16,
    "child_fluency": 6, "adult_fluency": 4, "voice_nodules": 4, "parkinson_voice": 5,
    "stroke_aphasia_dysphagia": 10, "dysphagia_parkinson": 6, "cognitive_adult": 8,
    "aac_cerebral_palsy": 4, "aac_autism": 5,
}

ASSESSMENT_GAINS = (
    "{first} continues to make steady gains toward {area} goals and benefits from skilled intervention.",
    "Performance on {label} improved from {previous}% to {accuracy}%; cueing faded to {cue}.",
    "Progress is consistent with the plan of care; skilled cueing and feedback remain necessary.",
    "{first} required fewer cues than last session; carry-over emerging outside of structured tasks.",
)
ASSESSMENT_DIPS = (
    "Performance on {label} was {accuracy}% (previously {previous}%), variable today; skilled cueing "
    "remains necessary to consolidate gains.",
    "{first} was less consistent than last session ({accuracy}% vs {previous}%); overall trend toward "
    "{area} goals remains positive.",
)

PLAN_PHRASES = (
    "Continue plan of care {frequency}. Next session: increase complexity once 80% is reached across 3 sessions.",
    "Continue current goals; home practice sheet provided; review carry-over next session.",
    "Continue {frequency}; fade cues to minimal and introduce {area} targets in less structured tasks.",
)

EVALUATION_FINDINGS: dict[EvaluationKind, str] = {
    EvaluationKind.SPEECH_SOUND: "GFTA-3 standard score 72 (below average); stimulable for /k/, /g/, /r/ at word level.",
    EvaluationKind.LANGUAGE_ONLY: "CELF-5 core language standard score 76; receptive index 79, expressive index 74. "
                                  "Articulation judged within normal limits by screening.",
    EvaluationKind.FLUENCY: "SSI-4 total score 27 (moderate); 9% syllables stuttered in conversation; OASES impact moderate.",
    EvaluationKind.VOICE: "Perceptual CAPE-V overall severity 45/100 (moderate); MPT 8 s; s/z ratio 1.5.",
    EvaluationKind.APHASIA: "WAB-R aphasia quotient 58 (moderate, anomic/Broca features); bedside swallow screen failed "
                            "with thin liquids.",
    EvaluationKind.SWALLOWING_CLINICAL: "Clinical swallow evaluation: delayed swallow initiation and wet voice after thin "
                                        "liquids; safe with nectar-thick liquids and soft solids.",
    EvaluationKind.COGNITIVE_TESTING: "SCATBI moderate deficits in organisation and recall; RBANS delayed memory index 74.",
    EvaluationKind.AAC_SGD: "Feature matching completed; accesses a 60-location grid by direct selection; "
                            "trial of SGD showed 2-symbol combinations with modeling.",
}

GROUP_RATIONALE = (
    "Peer models and turn-taking practice; each child's plan of care targets carry-over of {area} "
    "skills into conversation with peers."
)

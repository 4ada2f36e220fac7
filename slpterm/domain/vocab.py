"""The controlled vocabularies of slpterm.

Values are stored in the database and written to exports, so they are stable strings:
never rename a value, only add new ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PayerKind(StrEnum):
    MEDICARE = "medicare"
    MEDICAID = "medicaid"
    COMMERCIAL = "commercial"
    SCHOOL = "school"
    SELF_PAY = "self_pay"


class DiagnosisRole(StrEnum):
    MEDICAL = "medical"
    TREATMENT = "treatment"


class DisorderArea(StrEnum):
    SPEECH_SOUND = "speech_sound"
    LANGUAGE = "language"
    FLUENCY = "fluency"
    VOICE = "voice"
    SWALLOWING = "swallowing"
    COGNITION = "cognition"
    AAC = "aac"
    HEARING = "hearing"  # aural (auditory) rehabilitation
    AUDITORY_PROCESSING = "auditory_processing"
    VOICE_PROSTHESIS = "voice_prosthesis"  # training in the use of a voice prosthesis


class SessionType(StrEnum):
    INDIVIDUAL_TREATMENT = "individual_treatment"
    GROUP_TREATMENT = "group_treatment"
    EVALUATION = "evaluation"
    RE_EVALUATION = "re_evaluation"
    SWALLOWING_TREATMENT = "swallowing_treatment"
    AAC_EVALUATION = "aac_evaluation"
    AAC_TREATMENT = "aac_treatment"
    COGNITIVE_TREATMENT = "cognitive_treatment"

    @property
    def facts(self) -> SessionTypeFacts:
        return SESSION_TYPES[self]

    @property
    def is_evaluation(self) -> bool:
        return SESSION_TYPES[self].evaluation

    @property
    def is_group(self) -> bool:
        return SESSION_TYPES[self].group

    @property
    def label(self) -> str:
        return SESSION_TYPES[self].label


@dataclass(frozen=True, slots=True)
class SessionTypeFacts:
    """What the app knows of a session type. The codes it bills are rules data (the code sets'
    ``[[service]]`` entries select them by session type or evaluation kind), not facts here."""

    label: str  # in the start and correction dialogs, in this order
    evaluation: bool = False  # an evaluation: its code follows the evaluation kind
    group: bool = False  # two or more patients
    area: DisorderArea | None = None  # the disorder area the type itself implies (goals, notes)
    aac_device: bool = False  # records whether a speech-generating device was used


SESSION_TYPES: dict[SessionType, SessionTypeFacts] = {
    SessionType.INDIVIDUAL_TREATMENT: SessionTypeFacts("Individual treatment"),
    SessionType.GROUP_TREATMENT: SessionTypeFacts("Group treatment", group=True),
    SessionType.EVALUATION: SessionTypeFacts("Evaluation", evaluation=True),
    SessionType.RE_EVALUATION: SessionTypeFacts("Re-evaluation", evaluation=True),
    SessionType.SWALLOWING_TREATMENT: SessionTypeFacts("Swallowing treatment", area=DisorderArea.SWALLOWING),
    SessionType.AAC_EVALUATION: SessionTypeFacts("AAC evaluation", evaluation=True, area=DisorderArea.AAC),
    SessionType.AAC_TREATMENT: SessionTypeFacts("AAC treatment", area=DisorderArea.AAC, aac_device=True),
    SessionType.COGNITIVE_TREATMENT: SessionTypeFacts("Cognitive treatment", area=DisorderArea.COGNITION),
}


class EvaluationKind(StrEnum):
    """What an evaluation session assessed; selects the evaluation code."""

    FLUENCY = "fluency"  # 92521
    SPEECH_SOUND = "speech_sound"  # 92522
    SPEECH_SOUND_AND_LANGUAGE = "speech_sound_and_language"  # 92523
    LANGUAGE_ONLY = "language_only"  # 92523-52
    VOICE = "voice"  # 92524
    SWALLOWING_CLINICAL = "swallowing_clinical"  # 92610
    AAC_NON_SGD = "aac_non_sgd"  # 92605/92618
    AAC_SGD = "aac_sgd"  # 92607/92608
    APHASIA = "aphasia"  # 96105
    COGNITIVE_TESTING = "cognitive_testing"  # 96125
    VOICE_PROSTHETIC = "voice_prosthetic"  # 92597


class Setting(StrEnum):
    OFFICE = "office"
    SCHOOL = "school"
    HOME = "home"
    TELEHEALTH_HOME = "telehealth_home"
    TELEHEALTH_OTHER = "telehealth_other"

    @property
    def is_telehealth(self) -> bool:
        return self in (Setting.TELEHEALTH_HOME, Setting.TELEHEALTH_OTHER)


class SessionStatus(StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"


class TrialResult(StrEnum):
    CORRECT = "correct"
    INCORRECT = "incorrect"
    NO_RESPONSE = "no_response"


class CueLevel(StrEnum):
    INDEPENDENT = "independent"
    MINIMAL = "minimal"
    MODERATE = "moderate"
    MAXIMAL = "maximal"


class PlanStatus(StrEnum):
    DRAFT = "draft"
    CERTIFIED = "certified"
    EXPIRED = "expired"
    DISCHARGED = "discharged"


class GoalTerm(StrEnum):
    LONG = "long"
    SHORT = "short"


class GoalStatus(StrEnum):
    ACTIVE = "active"
    MET = "met"
    DISCONTINUED = "discontinued"
    MODIFIED = "modified"


class ClinicianRole(StrEnum):
    """Who may bill: a licensed SLP, a clinical fellow, or an assistant (never Medicare)."""

    SLP = "slp"
    CLINICAL_FELLOW = "clinical_fellow"
    ASSISTANT = "assistant"


class IepServiceKind(StrEnum):
    DIRECT = "direct"
    CONSULT = "consult"


class IepPeriod(StrEnum):
    WEEK = "week"
    MONTH = "month"


class SubscriberRelationship(StrEnum):
    SELF = "self"
    SPOUSE = "spouse"
    CHILD = "child"
    OTHER = "other"


class Sex(StrEnum):
    FEMALE = "F"
    MALE = "M"
    UNKNOWN = "U"


class Severity(StrEnum):
    """How much a finding or a due item matters: errors block, warnings explain."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

"""Form validation for patients, coverage, plans of care and goals.

Every check returns a list of :class:`FieldError`; ``field`` is the form field's key (for focusing
it), ``message`` names the field in words and says how to fix it, ``level`` is "error" (blocks
saving) or "warning" (saving allowed). Inputs are what a form holds: text or already-parsed
values; dates may be given as ``date`` or as text in ISO (YYYY-MM-DD) or US (MM/DD/YYYY) form.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

from slpterm.clinical.due import plan_length_days
from slpterm.clinical.episode import (
    CERTIFICATION_DUE_DAYS,
    PLAN_LIMIT_DAYS,
    certification_deadline,
    plan_exceeds_limit,
    plan_limit_last_day,
)
from slpterm.domain.identifiers import npi_problem
from slpterm.domain.vocab import IepPeriod, PayerKind, Sex

EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)
ADULT_AGE = 18
MAX_PLAN_DAYS_BY_PAYER = {PayerKind.MEDICARE: PLAN_LIMIT_DAYS}
PAYERS_REQUIRING_CERTIFICATION = frozenset({PayerKind.MEDICARE})


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    level: Level = Level.ERROR


def has_errors(problems: list[FieldError]) -> bool:
    """True when any problem blocks saving."""
    return any(problem.level == Level.ERROR for problem in problems)


# ---------------------------------------------------------------------------------------------
# Dates


class DateInputError(ValueError):
    """A date typed by the user could not be read; the message says why and how to write it."""


_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_US = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})$")


def parse_date(text: str, field: str) -> dt.date:
    """Read a date written YYYY-MM-DD or MM/DD/YYYY; raise DateInputError with a plain message."""
    value = (text or "").strip()
    if not value:
        raise DateInputError(f"{field}: required; use YYYY-MM-DD")
    iso = _ISO.match(value)
    us = _US.match(value)
    if iso:
        year, month, day = (int(part) for part in iso.groups())
        hint = "use YYYY-MM-DD"
    elif us:
        month_text, day_text, year_text = us.groups()
        if len(year_text) == 2:
            raise DateInputError(f"{field}: write the year with 4 digits, e.g. {int(month_text):02d}/{int(day_text):02d}/20{year_text}")
        year, month, day = int(year_text), int(month_text), int(day_text)
        hint = "use MM/DD/YYYY or YYYY-MM-DD"
    else:
        raise DateInputError(f"{field}: {value!r} is not a date; use YYYY-MM-DD or MM/DD/YYYY")
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise DateInputError(f"{field}: {value} is not a real date; {hint}") from None


def _date_value(
    problems: list[FieldError], key: str, label: str, value: dt.date | str | None, *, required: bool
) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if value is None or not str(value).strip():
        if required:
            problems.append(FieldError(key, f"{label}: required; use YYYY-MM-DD"))
        return None
    try:
        return parse_date(str(value), label)
    except DateInputError as exc:
        problems.append(FieldError(key, str(exc)))
        return None


def age_on(birth: dt.date, on: dt.date) -> int:
    """Age in whole years on a given day."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


# ---------------------------------------------------------------------------------------------
# Patient


_GRADES = {"PK", "TK", "K"} | {str(n) for n in range(1, 13)}
_GRADE_WORDS = {"PREK": "PK", "PRE-K": "PK", "PRESCHOOL": "PK", "KINDERGARTEN": "K", "KG": "K"}


def normalize_grade(text: str) -> str | None:
    """A school grade as PK, TK, K or 1-12 (accepts '3rd', 'Grade 3', 'Pre-K'); None if unreadable."""
    value = (text or "").strip().upper().replace("GRADE", "").strip()
    value = _GRADE_WORDS.get(value, value)
    value = re.sub(r"^(\d{1,2})(ST|ND|RD|TH)$", r"\1", value).lstrip("0") or value
    return value if value in _GRADES else None


def phone_problem(text: str) -> str | None:
    """Why a US phone number is unusable (formatting like (555) 123-4567 is fine), or None."""
    digits = re.sub(r"\D", "", text or "")
    if re.search(r"[^\d\s().+\-]", text or ""):
        return "use digits only, e.g. (555) 123-4567"
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10:
        return f"has {len(digits)} digits; enter a 10-digit US number such as (555) 123-4567"
    if digits[0] in "01":
        return "the area code cannot start with 0 or 1"
    return None


def validate_patient(
    *,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date | str | None,
    today: dt.date,
    phone: str = "",
    guardian: str = "",
    school: str = "",
    grade: str = "",
    sex: str = "",
    is_student: bool = False,
) -> list[FieldError]:
    """Check a patient form. A patient with a school or ``is_student`` is a student."""
    problems: list[FieldError] = []
    if not (first_name or "").strip():
        problems.append(FieldError("first_name", "First name: required"))
    if not (last_name or "").strip():
        problems.append(FieldError("last_name", "Last name: required"))
    birth = _date_value(problems, "date_of_birth", "Date of birth", date_of_birth, required=True)
    if birth is not None:
        if birth > today:
            problems.append(FieldError("date_of_birth", f"Date of birth: {birth.isoformat()} is in the future; check the year"))
        elif birth < EARLIEST_BIRTH_DATE:
            problems.append(
                FieldError("date_of_birth", f"Date of birth: {birth.isoformat()} is before 1900; check the year")
            )
        elif age_on(birth, today) < ADULT_AGE and not (guardian or "").strip():
            problems.append(
                FieldError(
                    "guardian",
                    f"Guardian: the patient is a minor (age {age_on(birth, today)}); add a parent or guardian",
                    Level.WARNING,
                )
            )
    if (phone or "").strip():
        problem = phone_problem(phone)
        if problem:
            problems.append(FieldError("phone", f"Phone: {phone.strip()} {problem}" if problem.startswith("has") else f"Phone: {problem}"))
    if (sex or "").strip() and sex.strip().upper() not in {s.value for s in Sex}:
        problems.append(FieldError("sex", f"Sex: {sex!r} is not recognised; use F, M or U (unknown)"))
    student = is_student or bool((school or "").strip())
    if (grade or "").strip():
        if normalize_grade(grade) is None:
            problems.append(FieldError("grade", f"Grade: {grade.strip()!r} is not a grade; use PK, TK, K or 1-12"))
    elif student:
        problems.append(FieldError("grade", "Grade: add the student's grade (PK, TK, K or 1-12)", Level.WARNING))
    if is_student and not (school or "").strip():
        problems.append(FieldError("school", "School: add the student's school", Level.WARNING))
    return problems


# ---------------------------------------------------------------------------------------------
# Coverage

# Medicare Beneficiary Identifier: 11 characters; letters exclude S, L, O, I, B, Z.
_MBI_LETTER = "AC-HJKMNP-RT-Y"
_MBI = re.compile(
    rf"^[1-9][{_MBI_LETTER}][{_MBI_LETTER}0-9][0-9][{_MBI_LETTER}][{_MBI_LETTER}0-9][0-9]"
    rf"[{_MBI_LETTER}][{_MBI_LETTER}][0-9][0-9]$"
)


def mbi_problem(member_id: str) -> str | None:
    """Why a Medicare Beneficiary Identifier is malformed, or None (dashes and spaces are ignored)."""
    value = re.sub(r"[\s-]", "", member_id or "").upper()
    if len(value) != 11:
        return f"a Medicare ID (MBI) has 11 characters, this has {len(value)}"
    if not _MBI.match(value):
        return "not a valid Medicare ID (MBI): check it against the patient's Medicare card (no S, L, O, I, B or Z)"
    return None


def _payer_kind(value: PayerKind | str | None) -> PayerKind | None:
    try:
        return PayerKind(value) if value else None
    except ValueError:
        return None


def validate_coverage(
    *,
    payer_kind: PayerKind | str | None,
    member_id: str = "",
    payer_name: str = "",
    effective_from: dt.date | str | None = None,
    effective_to: dt.date | str | None = None,
) -> list[FieldError]:
    """Check a coverage form: payer kind, member ID (not needed for self-pay), date order."""
    problems: list[FieldError] = []
    kind = _payer_kind(payer_kind)
    if kind is None:
        choices = ", ".join(k.value for k in PayerKind)
        problems.append(FieldError("payer_kind", f"Payer kind: choose one of {choices}"))
    member = (member_id or "").strip()
    if kind not in (PayerKind.SELF_PAY, None):
        if not member:
            if kind == PayerKind.SCHOOL:
                problems.append(
                    FieldError("member_id", "Member ID: empty; add the student's Medicaid ID if the district bills Medicaid", Level.WARNING)
                )
            else:
                problems.append(FieldError("member_id", "Member ID: required for this payer; copy it from the insurance card"))
        elif not re.fullmatch(r"[A-Za-z0-9\- ]+", member):
            problems.append(FieldError("member_id", "Member ID: use letters, digits and dashes only"))
        elif kind == PayerKind.MEDICARE and (problem := mbi_problem(member)):
            problems.append(FieldError("member_id", f"Member ID: {problem}"))
        if not (payer_name or "").strip() and kind != PayerKind.SCHOOL:
            problems.append(FieldError("payer_name", "Payer name: add the insurer's name as it appears on the card", Level.WARNING))
    start = _date_value(problems, "effective_from", "Coverage start", effective_from, required=False)
    end = _date_value(problems, "effective_to", "Coverage end", effective_to, required=False)
    if start and end and end < start:
        problems.append(
            FieldError("effective_to", f"Coverage end: {end.isoformat()} is before the start {start.isoformat()}; swap or correct them")
        )
    return problems


# ---------------------------------------------------------------------------------------------
# Plan of care


@dataclass(frozen=True)
class Frequency:
    """How often treatment happens; ``per`` reuses IepPeriod (week or month)."""

    times: int
    per: IepPeriod

    def __str__(self) -> str:
        return f"{self.times}x/{self.per.value}"


_NUMBER_WORDS = {
    "once": 1, "one": 1, "twice": 2, "two": 2, "thrice": 3, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10,
}
_PERIOD_WORDS = {
    "week": IepPeriod.WEEK, "weeks": IepPeriod.WEEK, "wk": IepPeriod.WEEK, "wks": IepPeriod.WEEK, "w": IepPeriod.WEEK,
    "weekly": IepPeriod.WEEK, "month": IepPeriod.MONTH, "months": IepPeriod.MONTH, "mo": IepPeriod.MONTH,
    "mos": IepPeriod.MONTH, "mth": IepPeriod.MONTH, "m": IepPeriod.MONTH, "monthly": IepPeriod.MONTH,
}
_ABBREVIATIONS = {"qw": "1x/week", "biw": "2x/week", "tiw": "3x/week", "weekly": "1x/week", "monthly": "1x/month"}
_FREQUENCY = re.compile(
    r"^(?P<times>\d{1,2}|[a-z]+)\s*(?:x|times?)?\s*(?:/|per|a|an|every|each|)\s*(?P<per>[a-z]+)$"
)


def parse_frequency(text: str) -> Frequency | None:
    """Read '2x/week', '2 x per wk', 'twice a week', '3x/month', 'BIW', 'weekly'; None if unreadable.

    Ranges such as '2-3x/week' are not accepted: a plan of care states one frequency.
    """
    value = re.sub(r"\s+", " ", (text or "").strip().lower()).replace(".", "")
    value = _ABBREVIATIONS.get(value, value)
    match = _FREQUENCY.match(value)
    if not match:
        return None
    times_text, per_text = match.group("times"), match.group("per")
    times = int(times_text) if times_text.isdigit() else _NUMBER_WORDS.get(times_text)
    per = _PERIOD_WORDS.get(per_text)
    if times is None or per is None or not 1 <= times <= 31:
        return None
    return Frequency(times, per)


def validate_plan(
    *,
    start: dt.date | str | None,
    end: dt.date | str | None,
    today: dt.date,
    payer_kind: PayerKind | str | None = None,
    frequency: str = "",
    duration_weeks: int | str | None = None,
    certifying_npi: str = "",
    certified_on: dt.date | str | None = None,
    first_treatment_date: dt.date | None = None,
) -> list[FieldError]:
    """Check a plan-of-care form: dates, Medicare's 90-day limit, frequency, duration, certification."""
    problems: list[FieldError] = []
    kind = _payer_kind(payer_kind)
    start_date = _date_value(problems, "start", "Plan start", start, required=True)
    end_date = _date_value(problems, "end", "Plan end", end, required=True)
    length: int | None = None
    if start_date and end_date:
        if end_date <= start_date:
            problems.append(
                FieldError("end", f"Plan end: {end_date.isoformat()} must be after the start {start_date.isoformat()}")
            )
        else:
            length = plan_length_days(start_date, end_date)
            limit = MAX_PLAN_DAYS_BY_PAYER.get(kind) if kind else None
            if limit and plan_exceeds_limit(start_date, end_date, limit):
                last = plan_limit_last_day(start_date, limit)
                problems.append(
                    FieldError(
                        "end",
                        f"Plan end: the plan runs {length} days; Medicare certifies at most {limit} days, "
                        f"so end it by {last.isoformat()} and recertify",
                    )
                )
    if not (frequency or "").strip():
        problems.append(FieldError("frequency", "Frequency: required, e.g. 2x/week"))
    elif parse_frequency(frequency) is None:
        problems.append(
            FieldError("frequency", f"Frequency: {frequency.strip()!r} is not understood; write e.g. 2x/week or 3x/month")
        )
    weeks: int | None = None
    if duration_weeks is None or str(duration_weeks).strip() == "":
        problems.append(FieldError("duration_weeks", "Duration: required, in weeks (e.g. 12)"))
    else:
        text = str(duration_weeks).strip().lower().removesuffix("weeks").removesuffix("wks").strip()
        if not text.isdigit() or not 1 <= int(text) <= 52:
            problems.append(FieldError("duration_weeks", f"Duration: {duration_weeks!r} must be a number of weeks from 1 to 52"))
        else:
            weeks = int(text)
    if weeks and length and weeks * 7 > length + 6:
        problems.append(
            FieldError(
                "duration_weeks",
                f"Duration: {weeks} weeks is longer than the plan's dates ({length} days); make them agree",
                Level.WARNING,
            )
        )
    npi = (certifying_npi or "").strip()
    if npi:
        problem = npi_problem(npi)
        if problem:
            problems.append(FieldError("certifying_npi", f"Certifying physician NPI: {problem}"))
    elif kind in PAYERS_REQUIRING_CERTIFICATION:
        problems.append(
            FieldError("certifying_npi", "Certifying physician NPI: required for Medicare; claims carry the certifying physician's NPI")
        )
    cert = _date_value(problems, "certified_on", "Certification date", certified_on, required=False)
    if cert:
        if cert > today:
            problems.append(FieldError("certified_on", f"Certification date: {cert.isoformat()} is in the future; enter the day it was signed"))
        if start_date and cert < start_date:
            problems.append(
                FieldError(
                    "certified_on",
                    f"Certification date: {cert.isoformat()} is before the plan starts ({start_date.isoformat()}); "
                    "a physician certifies a written plan, check the date",
                )
            )
        if end_date and cert > end_date:
            problems.append(
                FieldError("certified_on", f"Certification date: {cert.isoformat()} is after the plan ended ({end_date.isoformat()})")
            )
        if first_treatment_date and cert > certification_deadline(first_treatment_date):
            problems.append(
                FieldError(
                    "certified_on",
                    f"Certification date: signed more than {CERTIFICATION_DUE_DAYS} days after the first treatment day "
                    f"({first_treatment_date.isoformat()}); document the reason for the delayed certification",
                    Level.WARNING,
                )
            )
    if cert and npi == "" and kind not in PAYERS_REQUIRING_CERTIFICATION:
        problems.append(FieldError("certifying_npi", "Certifying physician NPI: add the NPI of the physician who signed", Level.WARNING))
    return problems


# ---------------------------------------------------------------------------------------------
# Goals


def _whole_number(value: int | str | None) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value or "").strip().removesuffix("%").strip()
    return int(text) if text.isdigit() else None


def validate_goal(
    *, text: str, target_accuracy: int | str | None, consecutive_sessions: int | str | None = 1
) -> list[FieldError]:
    """Check a goal form: text, target accuracy 1-100 %, consecutive sessions at least 1."""
    problems: list[FieldError] = []
    if not (text or "").strip():
        problems.append(FieldError("text", "Goal text: required; say what the patient will do, how well and with what support"))
    accuracy = _whole_number(target_accuracy)
    if accuracy is None or not 1 <= accuracy <= 100:
        problems.append(FieldError("target_accuracy", "Target accuracy: enter a whole percent from 1 to 100 (e.g. 80)"))
    sessions = _whole_number(consecutive_sessions)
    if sessions is None or sessions < 1:
        problems.append(FieldError("consecutive_sessions", "Consecutive sessions: enter a whole number, at least 1"))
    elif sessions > 20:
        problems.append(
            FieldError("consecutive_sessions", f"Consecutive sessions: {sessions} is unusually many; check the number", Level.WARNING)
        )
    return problems

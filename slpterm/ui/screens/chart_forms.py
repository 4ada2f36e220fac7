"""The chart's forms: patient, coverage, diagnosis, plan of care (and recertification), goal, IEP minutes.

Each form is a screen pushed with a callback: it is dismissed with the saved record's id, or with
None when cancelled. ctrl+s checks the form with ``slpterm.clinical.validation`` and lists every
problem naming the field and the fix; warnings are shown once and a second ctrl+s saves anyway.
The store checks again and its refusals are shown the same way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Header, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    from slpterm.services.charts import ChartService

from slpterm.domain.vocab import (
    DiagnosisRole,
    DisorderArea,
    GoalStatus,
    GoalTerm,
    IepPeriod,
    IepServiceKind,
    PayerKind,
    PlanStatus,
    Sex,
    SubscriberRelationship,
)

NONE_CHOICE = "-"


def _words(value: str) -> str:
    return value.replace("_", " ").capitalize()


def _choices(enum: type) -> list[tuple[str, str]]:
    return [(_words(member.value) if len(member.value) > 1 else member.value, member.value) for member in enum]


@dataclass
class FieldSpec:
    """One form field: ``key`` is also the validator's field key, so problems can focus it."""

    key: str
    label: str
    choices: list[tuple[str, str]] | None = None
    placeholder: str = ""
    wide: bool = False
    aliases: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Problem:
    field: str
    message: str
    blocking: bool = True


def problems_from(field_errors) -> list[Problem]:  # noqa: ANN001
    """Validation FieldErrors as form problems."""
    from slpterm.clinical.validation import Level

    return [Problem(error.field, error.message, error.level == Level.ERROR) for error in field_errors]


def _date_or_none(text: str, label: str) -> dt.date | None:
    from slpterm.clinical.validation import parse_date

    return parse_date(text, label) if text.strip() else None


def _iso(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


class ChartForm(Screen[str | None]):
    """A keyboard form: Tab between fields, ctrl+s saves, Esc cancels."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="chart_form.save"),
        Binding("escape", "cancel", "Cancel", id="chart_form.cancel"),
    ]
    form_title = "Form"
    intro = ""
    FIELDS: list[FieldSpec] = []
    charts: ChartService | None = None  # handed over by the screen that opens the form
    patient_id: str | None = None

    def __init__(self, initial: dict[str, str] | None = None) -> None:
        super().__init__()
        self.initial = initial or {}
        self._warned: tuple[str, ...] | None = None
        self._saving = False

    # -- layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(classes="chart-form"):
            yield Static(self.form_title, classes="chart-form-title")
            if self.intro:
                yield Static(self.intro, classes="chart-form-intro", markup=False)
            yield from self.compose_before_fields()
            with Grid(classes="chart-form-grid"):
                for spec in self.FIELDS:
                    yield Label(spec.label, classes="field-label" + (" wide-label" if spec.wide else ""))
                    yield self._field_widget(spec)
            yield from self.compose_after_fields()
            yield Static("", id="form-problems", markup=False)
        yield Footer()

    def compose_before_fields(self) -> ComposeResult:
        yield from ()

    def compose_after_fields(self) -> ComposeResult:
        yield from ()

    def _field_widget(self, spec: FieldSpec):  # noqa: ANN202
        value = self.initial.get(spec.key, "")
        classes = "wide-field" if spec.wide else ""
        if spec.choices is not None:
            options = [(label, choice) for label, choice in spec.choices]
            values = [choice for _, choice in options]
            return Select(options, value=value if value in values else values[0], allow_blank=False, compact=True,
                          id=f"f-{spec.key}", classes=classes)
        return Input(value=value, placeholder=spec.placeholder, compact=True, id=f"f-{spec.key}", classes=classes)

    def on_mount(self) -> None:
        self._as_opened = self.values()
        if self.FIELDS:
            self.query_one(f"#f-{self.FIELDS[0].key}").focus()

    # -- values and problems -----------------------------------------------------------------------
    def values(self) -> dict[str, str]:
        result = {}
        for spec in self.FIELDS:
            widget = self.query_one(f"#f-{spec.key}")
            result[spec.key] = str(widget.value) if isinstance(widget, Select) else widget.value.strip()
        return result

    def check(self, values: dict[str, str]) -> list[Problem]:
        """Problems with the form as filled; subclasses call the clinical validators."""
        return []

    def persist(self, values: dict[str, str]) -> str:
        """Save through the store (runs in a worker thread); returns the record id."""
        raise NotImplementedError

    def show_problems(self, problems: list[Problem], note: str = "") -> None:
        view = self.query_one("#form-problems", Static)
        lines = [f"{'•' if problem.blocking else '!'} {problem.message}" for problem in problems]
        if note:
            lines.append(note)
        view.update("\n".join(lines))
        view.set_class(any(problem.blocking for problem in problems), "has-problems")
        view.set_class(bool(problems) and not any(problem.blocking for problem in problems), "has-warnings")

    def _focus_field(self, key: str) -> None:
        for spec in self.FIELDS:
            if spec.key == key or key in spec.aliases:
                self.query_one(f"#f-{spec.key}").focus()
                return

    @property
    def holds_keys(self) -> bool:
        """While the form is saved (in a thread) keys wait: they are meant for the chart it returns to."""
        return self._saving

    def action_save(self) -> None:
        if self._saving:
            return
        values = self.values()
        try:
            problems = self.check(values)
        except Exception as error:  # noqa: BLE001 - a checker failing must not lose the form
            problems = [Problem("", f"The form could not be checked: {error}")]
        blocking = [problem for problem in problems if problem.blocking]
        if blocking:
            self.show_problems(problems, "Correct the fields marked • and press ctrl+s again.")
            self._focus_field(blocking[0].field)
            self._warned = None
            return
        signature = tuple(problem.message for problem in problems)
        if problems and self._warned != signature:
            self._warned = signature
            self.show_problems(problems, "These are warnings: press ctrl+s again to save anyway, or correct them.")
            return
        self._saving = True
        self.show_problems([], "Saving…")
        self._persist_worker(values)

    @work(thread=True, exclusive=True, group="chart-form-save")
    def _persist_worker(self, values: dict[str, str]) -> None:
        from slpterm.clinical.validation import DateInputError
        from slpterm.domain.errors import StoreError, ValidationFailed

        try:
            record_id = self.persist(values)
        except ValidationFailed as error:
            problems = [Problem(field_name, f"{field_name}: {message}") for field_name, message in error.problems]
            self.app.call_from_thread(self._save_failed, problems)
            return
        except DateInputError as error:
            self.app.call_from_thread(self._save_failed, [Problem("", str(error))])
            return
        except StoreError as error:
            self.app.call_from_thread(self._save_failed, [Problem("", str(error))])
            return
        self.app.call_from_thread(self._saved, record_id)

    def _save_failed(self, problems: list[Problem]) -> None:
        self._saving = False
        self.show_problems(problems, "Nothing was saved. Correct the fields and press ctrl+s again.")

    def _saved(self, record_id: str) -> None:
        self._saving = False
        self.notify(f"{self.form_title}: saved.")
        self.dismiss(record_id)

    def action_cancel(self) -> None:
        from slpterm.ui.screens.discard import close_unless_kept

        dirty = self.values() != getattr(self, "_as_opened", self.values())
        close_unless_kept(self, dirty=dirty, what=f"what you typed in {self.form_title}",
                          close=lambda: self.dismiss(None))

    def handed(self, charts: ChartService) -> ChartForm:
        """This form, writing through ``charts`` (the screen that opens it hands it over)."""
        self.charts = charts
        return self

    @property
    def patient_in_view(self) -> str | None:
        return self.patient_id

    @property
    def today(self) -> dt.date:
        return self.charts.today() if self.charts is not None else dt.date.today()


# ---------------------------------------------------------------------------------------------
# Patient


class PatientForm(ChartForm):
    form_title = "Patient"
    intro = "Name and date of birth are required; a minor needs a guardian; students need school and grade."
    FIELDS = [
        FieldSpec("first_name", "First name"),
        FieldSpec("last_name", "Last name"),
        FieldSpec("date_of_birth", "Date of birth", placeholder="YYYY-MM-DD"),
        FieldSpec("sex", "Sex", choices=[("Unknown", Sex.UNKNOWN.value), ("Female", Sex.FEMALE.value),
                                         ("Male", Sex.MALE.value)]),
        FieldSpec("external_id", "Patient/student ID"),
        FieldSpec("phone", "Phone", placeholder="(555) 123-4567"),
        FieldSpec("address_line1", "Street address"),
        FieldSpec("city", "City"),
        FieldSpec("state", "State", placeholder="OR"),
        FieldSpec("postal_code", "ZIP"),
        FieldSpec("guardian", "Guardian (minors)"),
        FieldSpec("guardian_phone", "Guardian phone"),
        FieldSpec("school", "School (students)"),
        FieldSpec("grade", "Grade", placeholder="PK, K, 1-12"),
    ]

    def __init__(self, patient=None) -> None:  # noqa: ANN001
        self.patient_id = patient.id if patient is not None else None
        initial = {}
        if patient is not None:
            initial = {
                "first_name": patient.first_name, "last_name": patient.last_name,
                "date_of_birth": _iso(patient.date_of_birth), "sex": patient.sex, "external_id": patient.external_id,
                "phone": patient.phone, "address_line1": patient.address_line1, "city": patient.city,
                "state": patient.state, "postal_code": patient.postal_code, "guardian": patient.guardian_name,
                "guardian_phone": patient.guardian_phone, "school": patient.school, "grade": patient.grade,
            }
            self.form_title = f"Patient: {patient.display_name}"
        else:
            self.form_title = "New patient"
        super().__init__(initial)

    def check(self, values: dict[str, str]) -> list[Problem]:
        from slpterm.clinical.validation import phone_problem, validate_patient

        problems = problems_from(validate_patient(
            first_name=values["first_name"], last_name=values["last_name"], date_of_birth=values["date_of_birth"],
            today=self.today, phone=values["phone"], guardian=values["guardian"], school=values["school"],
            grade=values["grade"], sex=values["sex"],
        ))
        if values["guardian_phone"] and (problem := phone_problem(values["guardian_phone"])):
            problems.append(Problem("guardian_phone", f"Guardian phone: {problem}"))
        if values["state"] and not (len(values["state"]) == 2 and values["state"].isalpha()):
            problems.append(Problem("state", "State: use the two-letter code, e.g. OR"))
        return problems

    def persist(self, values: dict[str, str]) -> str:
        from slpterm.clinical.validation import normalize_grade

        fields = {
            "first_name": values["first_name"], "last_name": values["last_name"],
            "date_of_birth": _date_or_none(values["date_of_birth"], "Date of birth"), "sex": values["sex"],
            "external_id": values["external_id"], "phone": values["phone"], "address_line1": values["address_line1"],
            "city": values["city"], "state": values["state"].upper(), "postal_code": values["postal_code"],
            "guardian_name": values["guardian"], "guardian_phone": values["guardian_phone"],
            "school": values["school"], "grade": normalize_grade(values["grade"]) or values["grade"],
        }
        if self.patient_id is None:
            return self.charts.create_patient(**fields)
        return self.charts.update_patient(self.patient_id, **fields)


# ---------------------------------------------------------------------------------------------
# Coverage


def policy_summary(payer_kind: str, today: dt.date) -> str:
    """The payer policy the coding engine applies for this payer kind, in one line."""
    try:
        from slpterm.coding.rulebook import load_rulebook

        policy = load_rulebook().policy_for(PayerKind(payer_kind), "", today)
    except Exception as error:  # noqa: BLE001 - the summary is informative only
        return f"Payer policy unavailable: {error}"
    if policy is None:
        return "No payer policy is defined for this payer kind on this date."
    parts = [
        "GN modifier" if policy.gn_required else "no GN",
        "KX threshold applies" if policy.kx_threshold_applies else "no KX threshold",
        "plan of care certified by a physician" if policy.requires_poc_certification
        else ("plan of care required" if policy.requires_plan_of_care else "no plan of care required"),
        f"progress report every {policy.progress_report_interval} treatment days"
        if policy.progress_report_interval else "no progress report interval",
        "member ID required" if policy.requires_member_id else "member ID optional",
    ]
    return f"{_words(payer_kind)} policy: " + ", ".join(parts) + "."


class CoverageForm(ChartForm):
    form_title = "Coverage"
    intro = "The payer kind selects the billing policy; rank 2 is the secondary coverage."
    FIELDS = [
        FieldSpec("rank", "Rank", choices=[("Primary", "1"), ("Secondary", "2")]),
        FieldSpec("payer_kind", "Payer kind", choices=_choices(PayerKind)),
        FieldSpec("payer_name", "Payer name"),
        FieldSpec("payer_id", "Payer ID (electronic)"),
        FieldSpec("member_id", "Member ID"),
        FieldSpec("group_number", "Group number"),
        FieldSpec("subscriber_relationship", "Subscriber is", choices=_choices(SubscriberRelationship)),
        FieldSpec("effective_from", "Effective from", placeholder="YYYY-MM-DD"),
        FieldSpec("effective_to", "Effective to", placeholder="YYYY-MM-DD (empty = open)"),
    ]

    def __init__(self, patient_id: str, coverage=None, *, next_rank: int = 1) -> None:  # noqa: ANN001
        self.patient_id = patient_id
        self.coverage_id = coverage.id if coverage is not None else None
        if coverage is not None:
            initial = {
                "rank": str(coverage.rank), "payer_kind": coverage.payer_kind, "payer_name": coverage.payer_name,
                "payer_id": coverage.payer_id, "member_id": coverage.member_id, "group_number": coverage.group_number,
                "subscriber_relationship": coverage.subscriber_relationship,
                "effective_from": _iso(coverage.effective_from), "effective_to": _iso(coverage.effective_to),
            }
            self.form_title = "Edit coverage"
        else:
            initial = {"rank": str(min(next_rank, 2))}
            self.form_title = "Add coverage"
        super().__init__(initial)

    def compose_after_fields(self) -> ComposeResult:
        yield Static("", id="policy-summary", classes="chart-form-note", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        self._show_policy()

    @on(Select.Changed, "#f-payer_kind")
    def _show_policy(self) -> None:
        kind = str(self.query_one("#f-payer_kind", Select).value)
        self.query_one("#policy-summary", Static).update(policy_summary(kind, self.today))

    def check(self, values: dict[str, str]) -> list[Problem]:
        from slpterm.clinical.validation import validate_coverage

        return problems_from(validate_coverage(
            payer_kind=values["payer_kind"], member_id=values["member_id"], payer_name=values["payer_name"],
            effective_from=values["effective_from"], effective_to=values["effective_to"],
        ))

    def persist(self, values: dict[str, str]) -> str:
        fields = {
            "rank": int(values["rank"]), "payer_kind": values["payer_kind"], "payer_name": values["payer_name"],
            "payer_id": values["payer_id"], "member_id": values["member_id"], "group_number": values["group_number"],
            "subscriber_relationship": values["subscriber_relationship"],
            "effective_from": _date_or_none(values["effective_from"], "Coverage start"),
            "effective_to": _date_or_none(values["effective_to"], "Coverage end"),
        }
        if self.coverage_id is None:
            return self.charts.add_coverage(self.patient_id, **fields)
        return self.charts.update_coverage(self.coverage_id, **fields)


# ---------------------------------------------------------------------------------------------
# Diagnosis


class CodeInput(Input):
    """The code field: ↓ moves into the suggestions below it."""

    BINDINGS = [Binding("down", "screen.suggestions", "Suggestions", show=False, id="diagnosis_form.suggestions")]


class DiagnosisForm(ChartForm):
    form_title = "Diagnosis"
    intro = ("Type a code or words (e.g. 'dysphagia'); ↓ moves into the suggestions, Enter picks one. "
             "Medicare wants both the physician's medical diagnosis and the SLP's treatment diagnosis.")
    FIELDS = [
        FieldSpec("code", "ICD-10-CM code", placeholder="code or words, e.g. R13.12 or aphasia"),
        FieldSpec("role", "Role", choices=_choices(DiagnosisRole)),
        FieldSpec("onset_date", "Onset date", placeholder="YYYY-MM-DD (optional)"),
        FieldSpec("active", "Active", choices=[("Yes", "yes"), ("No (resolved)", "no")]),
    ]

    def __init__(self, patient_id: str, diagnosis=None, *, other_codes: list[str] | None = None,  # noqa: ANN001
                 next_rank: int = 1) -> None:
        self.patient_id = patient_id
        self.diagnosis_id = diagnosis.id if diagnosis is not None else None
        self.other_codes = [code for code in (other_codes or []) if diagnosis is None or code != diagnosis.code]
        self.next_rank = next_rank
        if diagnosis is not None:
            initial = {"code": diagnosis.code, "role": diagnosis.role, "onset_date": _iso(diagnosis.onset_date),
                       "active": "yes" if diagnosis.active else "no"}
            self.form_title = f"Edit diagnosis {diagnosis.code}"
        else:
            initial = {"role": DiagnosisRole.TREATMENT.value, "active": "yes"}
            self.form_title = "Add diagnosis"
        super().__init__(initial)

    def _field_widget(self, spec: FieldSpec):  # noqa: ANN202
        if spec.key == "code":
            return CodeInput(value=self.initial.get("code", ""), placeholder=spec.placeholder, compact=True,
                             id="f-code")
        return super()._field_widget(spec)

    def compose_after_fields(self) -> ComposeResult:
        yield Static("", id="code-status", classes="chart-form-note", markup=False)
        yield OptionList(id="code-suggestions")

    def on_mount(self) -> None:
        super().on_mount()
        self._update_suggestions(self.query_one("#f-code", Input).value)

    @on(Input.Changed, "#f-code")
    def _code_changed(self, event: Input.Changed) -> None:
        self._update_suggestions(event.value)

    def _update_suggestions(self, text: str) -> None:
        from slpterm.clinical.icd10 import check_code, search

        suggestions = self.query_one("#code-suggestions", OptionList)
        suggestions.clear_options()
        entries = search(text, limit=12) if text.strip() else []
        for entry in entries:
            marker = "" if entry.billable else "  (header: not billable)"
            suggestions.add_option(Option(Text(f"{entry.code:<9} {entry.description}{marker}"), id=entry.code))
        suggestions.display = bool(entries)
        status = self.query_one("#code-status", Static)
        code = text.strip()
        if len(code) < 3 or not (code[0].isalpha() and code[1].isdigit()) or " " in code:
            status.update("")
            return
        result = check_code(code, consult_full_code_set=False)
        if result.status == "billable":
            status.update(f"✓ {result.code} {result.description}")
        else:
            status.update(f"{'!' if result.usable else '•'} {result.reason}")

    def action_suggestions(self) -> None:
        suggestions = self.query_one("#code-suggestions", OptionList)
        if suggestions.display and suggestions.option_count:
            suggestions.focus()
            suggestions.highlighted = 0

    @on(OptionList.OptionSelected, "#code-suggestions")
    def _suggestion_chosen(self, event: OptionList.OptionSelected) -> None:
        code_input = self.query_one("#f-code", Input)
        code_input.value = event.option.id or ""
        self.query_one("#f-role", Select).focus()

    def check(self, values: dict[str, str]) -> list[Problem]:
        from slpterm.clinical.icd10 import (
            check_code,
            companion_warnings,
            excludes1_conflicts,
        )
        from slpterm.clinical.validation import DateInputError

        problems: list[Problem] = []
        code = values["code"]
        if not code:
            return [Problem("code", "ICD-10-CM code: required; type a code or words and pick a suggestion")]
        result = check_code(code)
        if not result.usable:
            problems.append(Problem("code", f"ICD-10-CM code: {result.reason}"))
        elif result.reason:
            problems.append(Problem("code", f"ICD-10-CM code: {result.reason}", blocking=False))
        try:
            onset = _date_or_none(values["onset_date"], "Onset date")
            if onset and onset > self.today:
                problems.append(Problem("onset_date", f"Onset date: {onset.isoformat()} is in the future; check the date"))
        except DateInputError as error:
            problems.append(Problem("onset_date", str(error)))
        if result.usable and values["active"] == "yes":
            codes = self.other_codes + [result.code]
            for first, second, reason in excludes1_conflicts(codes, on=self.today):
                if result.code in (first, second):
                    problems.append(Problem("code", f"Excludes1: {reason}", blocking=False))
            for _flagged, message in companion_warnings(codes, on=self.today):
                problems.append(Problem("code", f"Companion code: {message}", blocking=False))
        return problems

    def persist(self, values: dict[str, str]) -> str:
        fields = {
            "code": values["code"], "role": values["role"],
            "onset_date": _date_or_none(values["onset_date"], "Onset date"), "active": values["active"] == "yes",
        }
        if self.diagnosis_id is None:
            return self.charts.add_diagnosis(self.patient_id, rank=self.next_rank, **fields)
        return self.charts.update_diagnosis(self.diagnosis_id, **fields)


# ---------------------------------------------------------------------------------------------
# Plan of care


class PlanForm(ChartForm):
    form_title = "Plan of care"
    intro = ("Dates, frequency and duration as certified; Medicare certifies at most 90 days. "
             "The certifying physician's NPI goes on claims. Evaluation-only episodes need no plan.")
    FIELDS = [
        FieldSpec("start", "Start date", placeholder="YYYY-MM-DD"),
        FieldSpec("end", "End date", placeholder="YYYY-MM-DD"),
        FieldSpec("frequency", "Frequency", placeholder="2x/week"),
        FieldSpec("duration_weeks", "Duration (weeks)", placeholder="12"),
        FieldSpec("physician", "Certifying physician"),
        FieldSpec("certifying_npi", "Physician NPI", placeholder="10 digits"),
        FieldSpec("certified_on", "Certified on", placeholder="YYYY-MM-DD (when signed)"),
        FieldSpec("status", "Status", choices=_choices(PlanStatus)),
    ]

    def __init__(self, patient_id: str, plan=None, *, payer_kind: str | None = None,  # noqa: ANN001
                 recertify_from=None, today: dt.date | None = None) -> None:  # noqa: ANN001
        self.patient_id = patient_id
        self.plan_id = plan.id if plan is not None else None
        self.payer_kind = payer_kind
        self.recertify_from = recertify_from
        initial: dict[str, str] = {"status": PlanStatus.DRAFT.value}
        if plan is not None:
            initial = {
                "start": _iso(plan.start_date), "end": _iso(plan.end_date), "frequency": plan.frequency,
                "duration_weeks": str(plan.duration_weeks or ""), "physician": plan.certifying_physician_name,
                "certifying_npi": plan.certifying_physician_npi, "certified_on": _iso(plan.certified_on),
                "status": plan.status,
            }
            self.form_title = "Edit plan of care"
        elif recertify_from is not None:
            start = recertify_from.end_date + dt.timedelta(days=1)
            initial = {
                "start": _iso(start), "end": _iso(start + dt.timedelta(days=89)),
                "frequency": recertify_from.frequency, "duration_weeks": str(recertify_from.duration_weeks or ""),
                "physician": recertify_from.certifying_physician_name,
                "certifying_npi": recertify_from.certifying_physician_npi, "status": PlanStatus.DRAFT.value,
            }
            self.form_title = "Recertify: new plan of care (active goals carried over)"
        else:
            start = today or dt.date.today()
            initial.update(start=_iso(start), end=_iso(start + dt.timedelta(days=89)))
            self.form_title = "New plan of care"
        super().__init__(initial)

    def check(self, values: dict[str, str]) -> list[Problem]:
        from slpterm.clinical.validation import validate_plan

        problems = problems_from(validate_plan(
            start=values["start"], end=values["end"], today=self.today, payer_kind=self.payer_kind,
            frequency=values["frequency"], duration_weeks=values["duration_weeks"],
            certifying_npi=values["certifying_npi"], certified_on=values["certified_on"],
        ))
        if values["status"] == PlanStatus.CERTIFIED and not values["certified_on"]:
            problems.append(Problem("certified_on", "Certified on: a certified plan needs the date the physician signed"))
        if values["certified_on"] and not values["physician"]:
            problems.append(Problem("physician", "Certifying physician: add the name of the physician who signed",
                                    blocking=False))
        return problems

    def persist(self, values: dict[str, str]) -> str:
        from slpterm.clinical.validation import parse_date

        weeks = values["duration_weeks"].lower().removesuffix("weeks").removesuffix("wks").strip()
        fields = {
            "start_date": parse_date(values["start"], "Plan start"), "end_date": parse_date(values["end"], "Plan end"),
            "frequency": values["frequency"], "duration_weeks": int(weeks) if weeks.isdigit() else None,
            "certifying_physician_name": values["physician"], "certifying_physician_npi": values["certifying_npi"],
            "certified_on": _date_or_none(values["certified_on"], "Certification date"), "status": values["status"],
        }
        if self.recertify_from is not None:
            return self.charts.recertify_plan(self.recertify_from.id, **fields)
        if self.plan_id is None:
            return self.charts.add_plan(self.patient_id, **fields)
        return self.charts.update_plan(self.plan_id, **fields)


# ---------------------------------------------------------------------------------------------
# Goals


class GoalBankScreen(ModalScreen[object]):
    """Pick a well-formed example goal of one disorder area; Enter takes it, Esc closes."""

    BINDINGS = [Binding("escape", "close", "Close", id="goal_bank.close")]

    def __init__(self, area: str, term: str | None, patient: str | None = None) -> None:
        super().__init__()
        self.area = area
        self.term = term
        self.patient = patient
        self.templates: list = []

    def compose(self) -> ComposeResult:
        from slpterm.clinical.catalogs import goals_for_area, load_goal_bank

        try:
            self.templates = goals_for_area(load_goal_bank(), self.area)
            problem = ""
        except Exception as error:  # noqa: BLE001 - a broken bank file is reported, not raised
            self.templates, problem = [], f"The goal bank could not be read: {error}"
        with VerticalScroll(id="goal-bank-box"):
            yield Static(f"Goal bank: {_words(self.area)} (Enter picks, Esc closes)", classes="chart-form-title")
            if problem or not self.templates:
                yield Static(problem or "No goals in the bank for this area.", markup=False)
            options = [
                Option(Text(f"{'LTG' if template.term == GoalTerm.LONG else 'STG'}  {template.render(patient=self.patient)}"
                            f"  ({template.criterion})"), id=str(index))
                for index, template in enumerate(self.templates)
            ]
            yield OptionList(*options, id="goal-bank-list")

    def on_mount(self) -> None:
        self.query_one("#goal-bank-list", OptionList).focus()

    @on(OptionList.OptionSelected, "#goal-bank-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.templates[int(event.option.id or 0)])

    def action_close(self) -> None:
        self.dismiss(None)


class GoalForm(ChartForm):
    form_title = "Goal"
    intro = ("ctrl+b opens the goal bank for the chosen disorder area; edit the text to fit the patient "
             "(fill any {braces}). Short-term goals sit under a long-term goal.")
    BINDINGS = [Binding("ctrl+b", "goal_bank", "Goal bank", id="goal_form.bank")]

    def __init__(self, plan_id: str, goal=None, *, long_term_goals: list | None = None,  # noqa: ANN001
                 parent_id: str | None = None, next_rank: int = 1, area: str | None = None,
                 patient_name: str | None = None) -> None:
        self.plan_id = plan_id
        self.patient_name = patient_name
        self.goal_id = goal.id if goal is not None else None
        self.next_rank = next_rank
        parents = [(NONE_CHOICE, NONE_CHOICE)] + [
            (f"LTG: {ltg.text[:50]}", ltg.id) for ltg in (long_term_goals or [])
            if goal is None or ltg.id != goal.id
        ]
        self.FIELDS = [
            FieldSpec("term", "Term", choices=[("Short-term", GoalTerm.SHORT.value), ("Long-term", GoalTerm.LONG.value)]),
            FieldSpec("parent", "Under long-term goal", choices=parents),
            FieldSpec("disorder_area", "Disorder area", choices=_choices(DisorderArea)),
            FieldSpec("status", "Status", choices=_choices(GoalStatus)),
            FieldSpec("text", "Goal", wide=True, placeholder="what the patient will do, how well, with what support"),
            FieldSpec("baseline", "Baseline", placeholder="e.g. 40% at word level"),
            FieldSpec("target_accuracy", "Target accuracy %", placeholder="80"),
            FieldSpec("consecutive_sessions", "Sessions in a row", placeholder="3"),
        ]
        if goal is not None:
            initial = {
                "term": goal.term, "parent": goal.parent_goal_id or NONE_CHOICE, "disorder_area": goal.disorder_area,
                "text": goal.text, "baseline": goal.baseline, "target_accuracy": str(goal.target_accuracy),
                "consecutive_sessions": str(goal.criterion_sessions), "status": goal.status,
            }
            self.form_title = "Edit goal"
        else:
            term = GoalTerm.SHORT.value if parent_id or long_term_goals else GoalTerm.LONG.value
            initial = {"term": term, "parent": parent_id or NONE_CHOICE, "target_accuracy": "80",
                       "consecutive_sessions": "3", "status": GoalStatus.ACTIVE.value,
                       "disorder_area": area or DisorderArea.LANGUAGE.value}
            self.form_title = "Add goal"
        super().__init__(initial)

    def action_goal_bank(self) -> None:
        values = self.values()
        self.app.push_screen(GoalBankScreen(values["disorder_area"], values["term"], self.patient_name),
                             self._bank_chosen)

    def _bank_chosen(self, template) -> None:  # noqa: ANN001
        if template is None:
            return
        self.query_one("#f-text", Input).value = template.render(patient=self.patient_name)
        self.query_one("#f-term", Select).value = str(template.term)
        self.query_one("#f-target_accuracy", Input).value = str(template.target_accuracy)
        self.query_one("#f-consecutive_sessions", Input).value = str(template.consecutive_sessions)
        self.query_one("#f-text", Input).focus()

    def check(self, values: dict[str, str]) -> list[Problem]:
        from slpterm.clinical.validation import validate_goal

        problems = problems_from(validate_goal(
            text=values["text"], target_accuracy=values["target_accuracy"],
            consecutive_sessions=values["consecutive_sessions"],
        ))
        if "{" in values["text"] and "}" in values["text"]:
            problems.append(Problem("text", "Goal: fill in the {placeholders} taken from the goal bank"))
        if values["term"] == GoalTerm.LONG and values["parent"] != NONE_CHOICE:
            problems.append(Problem("parent", "Under long-term goal: a long-term goal has no parent; choose '-'"))
        return problems

    def persist(self, values: dict[str, str]) -> str:
        fields = {
            "term": values["term"],
            "parent_goal_id": None if values["parent"] == NONE_CHOICE else values["parent"],
            "disorder_area": values["disorder_area"], "text": values["text"], "baseline": values["baseline"],
            "target_accuracy": int(values["target_accuracy"].removesuffix("%").strip()),
            "criterion_sessions": int(values["consecutive_sessions"]), "status": values["status"],
        }
        if self.goal_id is None:
            return self.charts.add_goal(self.plan_id, rank=self.next_rank, **fields)
        return self.charts.update_goal(self.goal_id, **fields)


# ---------------------------------------------------------------------------------------------
# IEP minutes


class IepForm(ChartForm):
    form_title = "IEP service minutes"
    intro = "Minutes the IEP requires per week or month; direct (with the student) or consult."
    FIELDS = [
        FieldSpec("minutes_required", "Required minutes", placeholder="60"),
        FieldSpec("period", "Per", choices=_choices(IepPeriod)),
        FieldSpec("kind", "Kind", choices=_choices(IepServiceKind)),
        FieldSpec("start_date", "IEP start", placeholder="YYYY-MM-DD (optional)"),
        FieldSpec("end_date", "IEP end", placeholder="YYYY-MM-DD (optional)"),
    ]

    def __init__(self, patient_id: str, service=None) -> None:  # noqa: ANN001
        self.patient_id = patient_id
        self.service_id = service.id if service is not None else None
        initial = {}
        if service is not None:
            initial = {"minutes_required": str(service.minutes_required), "period": service.period,
                       "kind": service.kind, "start_date": _iso(service.start_date), "end_date": _iso(service.end_date)}
            self.form_title = "Edit IEP service minutes"
        super().__init__(initial)

    def check(self, values: dict[str, str]) -> list[Problem]:
        from slpterm.clinical.validation import DateInputError

        problems = []
        minutes = values["minutes_required"]
        if not minutes.isdigit() or not 1 <= int(minutes) <= 3000:
            problems.append(Problem("minutes_required", "Required minutes: enter a whole number of minutes, e.g. 60"))
        dates = {}
        for key, label in (("start_date", "IEP start"), ("end_date", "IEP end")):
            try:
                dates[key] = _date_or_none(values[key], label)
            except DateInputError as error:
                problems.append(Problem(key, str(error)))
        if dates.get("start_date") and dates.get("end_date") and dates["end_date"] < dates["start_date"]:
            problems.append(Problem("end_date", "IEP end: is before the IEP start; correct one of them"))
        return problems

    def persist(self, values: dict[str, str]) -> str:
        fields = {
            "minutes_required": int(values["minutes_required"]), "period": values["period"], "kind": values["kind"],
            "start_date": _date_or_none(values["start_date"], "IEP start"),
            "end_date": _date_or_none(values["end_date"], "IEP end"),
        }
        if self.service_id is None:
            return self.charts.add_iep_service(self.patient_id, **fields)
        return self.charts.update_iep_service(self.service_id, **fields)


class ConfirmScreen(ModalScreen[bool]):
    """Asks a yes/no question: ctrl+y confirms, Esc cancels."""

    BINDINGS = [
        Binding("ctrl+y", "confirm", "Yes", id="confirm.yes"),
        Binding("enter", "confirm", "Yes", show=False, id="confirm.enter"),
        Binding("escape", "cancel", "No", id="confirm.no"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="confirm-box"):
            yield Static(self.question, markup=False)
            yield Static("Enter or ctrl+y: yes    Esc: no", classes="chart-form-note")
        yield Footer()

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)

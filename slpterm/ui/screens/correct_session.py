"""Correcting an unsigned session: its facts (type, setting and so place of service, date), its
times, who took part and the billing facts of the patient shown; or discarding it. A signed session is corrected only by addendum.

The dialog is a column of field groups. Each group composes its own fields and adds its part to
the correction; another group is added by writing one more :class:`FieldGroup` and listing it in
``CorrectSessionScreen.GROUPS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, SelectionList, Static
from textual.widgets.selection_list import Selection

from slpterm.domain.billing_facts import BillingFacts, check_billing_facts
from slpterm.domain.vocab import DisorderArea
from slpterm.services.session_flow import (
    SessionCorrection,
    SessionFacts,
    TimeEdit,
    TimerStatus,
)
from slpterm.ui.screens.billing_facts import BillingFactsFields
from slpterm.ui.screens.new_session import (
    EVALUATION_LABELS,
    SESSION_TYPE_LABELS,
    SETTING_LABELS,
    DialogScroll,
)


@dataclass(frozen=True)
class CorrectionOutcome:
    participant_id: str | None = None  # the participant to show after a saved correction
    discard: bool = False  # the clinician asked to discard the session (asked again before it is)


@dataclass
class CorrectionParts:
    """The parts of a :class:`SessionCorrection` the field groups have filled in so far (the
    session's facts group comes first)."""

    facts: SessionFacts | None = None
    times: TimeEdit | None = None
    add_patient_ids: tuple[str, ...] = ()
    remove_participant_ids: tuple[str, ...] = ()
    billing_facts: dict[str, object] | None = None

    def correction(self) -> SessionCorrection:
        if self.facts is None:
            raise ValueError("no field group filled in the session's facts")
        return SessionCorrection(facts=self.facts, times=self.times, add_patient_ids=self.add_patient_ids,
                                 remove_participant_ids=self.remove_participant_ids,
                                 billing_facts=self.billing_facts)


class FieldGroup(Vertical):
    """A titled group of fields; ``fill`` adds this group's part of the correction to ``parts``
    and returns the problems found."""

    title = ""

    def fill(self, parts: CorrectionParts) -> list[str]:
        raise NotImplementedError


class FactsGroup(FieldGroup):
    title = "Session"

    def __init__(self, facts: SessionFacts, place_of_service: Callable[[str, str], str]) -> None:
        super().__init__(classes="correction-group")
        self._facts = facts
        self._place_of_service = place_of_service

    def compose(self) -> ComposeResult:
        facts = self._facts
        with Grid(classes="form-grid"):
            yield Label("Type", classes="field-label")
            yield Select([(label, value.value) for value, label in SESSION_TYPE_LABELS.items()],
                         value=facts.session_type, allow_blank=False, compact=True, id="correct-type")
            yield Label("Setting", classes="field-label")
            yield Select([(label, value.value) for value, label in SETTING_LABELS.items()],
                         value=facts.setting, allow_blank=False, compact=True, id="correct-setting")
            yield Label("Place of service", classes="field-label")
            yield Static("", id="correct-pos")
            yield Label("Date of service", classes="field-label")
            yield Input(facts.date_text, compact=True, id="correct-date")
            yield Label("Evaluation of", classes="field-label")
            yield Select([(label, value.value) for value, label in EVALUATION_LABELS.items()],
                         value=facts.evaluation_kind or Select.NULL, allow_blank=True, compact=True,
                         id="correct-evaluation")
            yield Label("AAC device", classes="field-label")
            yield Select([("Speech-generating device (92609)", "sgd"),
                          ("Non-speech-generating device (92606)", "non_sgd")],
                         value=facts.aac_device or Select.NULL, allow_blank=True, compact=True, id="correct-aac")

    def on_mount(self) -> None:
        self._show_place_of_service()

    @on(Select.Changed, "#correct-setting")
    @on(Input.Changed, "#correct-date")
    def _show_place_of_service(self) -> None:
        setting = str(self.query_one("#correct-setting", Select).value)
        pos = self._place_of_service(setting, self.query_one("#correct-date", Input).value.strip())
        self.query_one("#correct-pos", Static).update(pos or "(follows the setting and date)")

    def fill(self, parts: CorrectionParts) -> list[str]:
        def chosen(widget_id: str) -> str | None:
            value = self.query_one(widget_id, Select).value
            return None if value is Select.NULL else str(value)

        parts.facts = SessionFacts(
            session_type=chosen("#correct-type") or self._facts.session_type,
            setting=chosen("#correct-setting") or self._facts.setting,
            date_text=self.query_one("#correct-date", Input).value.strip(),
            evaluation_kind=chosen("#correct-evaluation"), aac_device=chosen("#correct-aac"))
        return []


class TimesGroup(FieldGroup):
    title = "Times (HH:MM on the date of service; leave as shown to keep the timer's)"

    def __init__(self, status: TimerStatus) -> None:
        super().__init__(classes="correction-group")
        self._status = status
        local = lambda moment: moment.astimezone().strftime("%H:%M") if moment else ""  # noqa: E731
        self._original = (local(status.started_at), local(status.stopped_at))

    def compose(self) -> ComposeResult:
        with Grid(classes="form-grid"):
            yield Label("Start", classes="field-label")
            yield Input(self._original[0], placeholder="e.g. 09:30", compact=True, id="correct-start")
            yield Label("Stop", classes="field-label")
            yield Input(self._original[1], placeholder="e.g. 10:02", compact=True, id="correct-stop")
            yield Label("Area", classes="field-label")
            area = self._status.area or self._status.default_area
            yield Select([(a.value.replace("_", " "), a.value) for a in DisorderArea], value=area or Select.NULL,
                         allow_blank=area is None, compact=True, id="correct-area")

    def fill(self, parts: CorrectionParts) -> list[str]:
        start_text = self.query_one("#correct-start", Input).value.strip()
        stop_text = self.query_one("#correct-stop", Input).value.strip()
        if (start_text, stop_text) == self._original:
            return []
        facts = parts.facts
        if facts is None:
            return []  # no date to put the times on; the facts group names what is missing
        try:
            day = date.fromisoformat(facts.date_text)
        except ValueError:
            return []  # the date's own problem is named when the facts are checked
        try:
            start, stop = (datetime.combine(day, datetime.strptime(text, "%H:%M").time()).astimezone()
                           for text in (start_text, stop_text))
        except ValueError:
            return ["Start/Stop: write both times as HH:MM, e.g. 09:30"]
        if stop <= start:
            return ["Stop: must be after Start"]
        area = self.query_one("#correct-area", Select).value
        if area is Select.NULL:
            return ["Area: choose the disorder area these times belong to"]
        parts.times = TimeEdit(start=start, stop=stop, area=str(area), reason="times corrected by hand")
        return []


class ParticipantsGroup(FieldGroup):
    title = "Patients (space unticks one taken in by mistake; type a name to add one, Enter adds)"

    def __init__(self, facts: SessionFacts, find_patients: Callable[[str, set[str]], list[tuple[str, str]]]) -> None:
        super().__init__(classes="correction-group")
        self._participants = facts.participants
        self._present = set(facts.patient_ids)
        self._find_patients = find_patients
        self._added: list[tuple[str, str]] = []

    def compose(self) -> ComposeResult:
        yield SelectionList[str](*[Selection(name, participant_id, True)
                                   for participant_id, name in self._participants], id="correct-participants")
        yield Input(placeholder="Add a patient: type part of the name, Enter adds the first match",
                    compact=True, id="correct-add")
        yield Static("", id="correct-added")

    @on(Input.Submitted, "#correct-add")
    def _add(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            return
        matches = self._find_patients(text, self._present | {patient_id for patient_id, _ in self._added})
        if not matches:
            self.query_one("#correct-added", Static).update(f"No active patient matches “{text}”.")
            return
        self._added.append(matches[0])
        event.input.value = ""
        self.query_one("#correct-added", Static).update("Adding: " + ", ".join(name for _, name in self._added))

    def fill(self, parts: CorrectionParts) -> list[str]:
        kept = set(self.query_one("#correct-participants", SelectionList).selected)
        parts.remove_participant_ids = tuple(pid for pid, _ in self._participants if pid not in kept)
        parts.add_patient_ids = tuple(patient_id for patient_id, _ in self._added)
        return []


class BillingFactsGroup(FieldGroup):
    """The billing facts of the participant shown (the same field group as the start dialog's)."""

    title = "Billing facts"

    def __init__(self, facts: BillingFacts) -> None:
        super().__init__(classes="correction-group")
        self._facts = facts

    def compose(self) -> ComposeResult:
        yield BillingFactsFields(self._facts)

    def fill(self, parts: CorrectionParts) -> list[str]:
        value = self.query_one(BillingFactsFields).value()
        problems = check_billing_facts(value.distinct_service_note, value.distinct_modifier)
        parts.billing_facts = value.as_record_arguments()
        return [f"{field}: {fix}" for field, fix in problems]


class CorrectSessionScreen(ModalScreen["CorrectionOutcome | None"]):
    """ctrl+s saves the correction, ctrl+x discards the session, Esc leaves it as it was."""

    BINDINGS = [Binding("ctrl+s", "save", "Save correction", id="correct.save"),
                Binding("ctrl+x", "discard", "Discard session", id="correct.discard", priority=True),
                Binding("escape", "cancel", "Cancel", id="correct.cancel")]

    def __init__(self, groups: list[FieldGroup], apply: Callable[[SessionCorrection], str]) -> None:
        super().__init__()
        self._groups = groups
        self._apply = apply  # stores the correction, returns the participant to show; raises ValidationFailed

    def compose(self) -> ComposeResult:
        with DialogScroll(classes="dialog", id="correct-box"):
            yield Static("Correct this unsigned session (ctrl+s saves; ctrl+x discards it; Esc cancels)",
                         classes="section-title")
            for group in self._groups:
                yield Static(group.title, classes="panel-title")
                yield group
            yield Static("", id="correct-problems", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Save (ctrl+s)", id="correct-save", variant="primary")
                yield Button("Discard session (ctrl+x)", id="correct-discard", variant="error")
                yield Button("Cancel (Esc)", id="correct-cancel")

    def on_mount(self) -> None:
        self.query_one("#correct-type").focus()

    def action_save(self) -> None:
        parts = CorrectionParts()
        problems = [problem for group in self._groups for problem in group.fill(parts)]
        if not problems:
            from slpterm.domain.errors import StoreError, ValidationFailed

            try:
                participant_id = self._apply(parts.correction())
            except ValidationFailed as error:
                problems = [f"{field}: {message}" for field, message in error.problems]
            except StoreError as error:
                problems = [str(error)]
            else:
                self.dismiss(CorrectionOutcome(participant_id=participant_id))
                return
        self.query_one("#correct-problems", Static).update("\n".join(f"• {p}" for p in problems))

    def action_discard(self) -> None:
        self.dismiss(CorrectionOutcome(discard=True))

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#correct-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#correct-discard")
    def _discard_pressed(self) -> None:
        self.action_discard()

    @on(Button.Pressed, "#correct-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

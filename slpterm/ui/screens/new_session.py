"""Starting a session: who, what kind, where, when, by whom; or resuming an unsigned draft."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from slpterm.domain.vocab import SESSION_TYPES, EvaluationKind, SessionType, Setting
from slpterm.ui.screens.billing_facts import BillingFactsFields, BillingFactsInput

if TYPE_CHECKING:
    from slpterm.services.session_flow import SessionFlow


SESSION_TYPE_LABELS = {kind: facts.label for kind, facts in SESSION_TYPES.items()}
SETTING_LABELS = {
    Setting.OFFICE: "Office",
    Setting.SCHOOL: "School",
    Setting.HOME: "Home",
    Setting.TELEHEALTH_HOME: "Telehealth, patient at home",
    Setting.TELEHEALTH_OTHER: "Telehealth, patient elsewhere",
}
EVALUATION_LABELS = {
    EvaluationKind.FLUENCY: "Fluency (92521)",
    EvaluationKind.SPEECH_SOUND: "Speech sound production (92522)",
    EvaluationKind.SPEECH_SOUND_AND_LANGUAGE: "Speech sound + language (92523)",
    EvaluationKind.LANGUAGE_ONLY: "Language only (92523-52)",
    EvaluationKind.VOICE: "Voice and resonance (92524)",
    EvaluationKind.SWALLOWING_CLINICAL: "Clinical swallowing (92610)",
    EvaluationKind.AAC_NON_SGD: "AAC, non-speech-generating (92605)",
    EvaluationKind.AAC_SGD: "AAC, speech-generating device (92607)",
    EvaluationKind.APHASIA: "Aphasia assessment (96105)",
    EvaluationKind.COGNITIVE_TESTING: "Standardized cognitive testing (96125)",
    EvaluationKind.VOICE_PROSTHETIC: "Voice prosthetic (92597)",
}


@dataclass(frozen=True)
class SessionRequest:
    patient_ids: list[str]
    session_type: str
    setting: str
    date_of_service_text: str
    clinician_id: str | None
    evaluation_kind: str | None
    aac_device: str | None = None
    # Start from the patient's last signed session (goals worked on, techniques, cue levels, Plan).
    carry_forward: bool = False


class DialogScroll(VerticalScroll, can_focus=False):
    """A dialog's body that scrolls on a short terminal; the focused field is scrolled into view,
    and the scroll itself never takes focus (Enter goes to the dialog's button)."""


class NewSessionScreen(ModalScreen["str | None"]):
    """Enter starts a session with the shown choices; a draft in the list can be resumed instead.

    Dismissed with the participant id to open, or None when cancelled.
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="new_session.cancel"),
        Binding("ctrl+s", "start", "Start session", id="new_session.start"),
        Binding("f3", "start_carried", "Start from last session", id="new_session.carry_forward"),
        Binding("ctrl+g", "add_patient", "Add group member", id="new_session.add_patient"),
        Binding("ctrl+o", "focus_drafts", "Resume a draft", id="new_session.drafts"),
        Binding("ctrl+x", "discard_draft", "Discard the draft", id="new_session.discard_draft", priority=True),
    ]

    def __init__(self, flow: SessionFlow, *, start: Callable[[SessionRequest], str], patients: list[tuple[str, str]],
                 find_patients: Callable[[str, set[str]], list[tuple[str, str]]],
                 drafts: list[tuple[str, str]], clinicians: list[tuple[str, str]], today: date,
                 default_type: str, default_setting: str,
                 discard_draft: Callable[[str], None] | None = None, carry_forward: str | None = None) -> None:
        super().__init__()
        self._carry_forward = carry_forward  # what the last signed session offers, in one line
        self.flow = flow  # records the start dialog's billing facts
        self._discard_draft = discard_draft  # removes an unsigned draft (audited); raises StoreError
        self._start = start  # creates the session, returns the participant to open; raises ValidationFailed
        self.patients = list(patients)  # (id, name) chosen
        self._find_patients = find_patients  # (text, ids to leave out) -> (id, name) of group member candidates
        self._drafts = drafts  # (participant id, description)
        self._clinicians = clinicians
        self._today = today
        self._default_type = default_type
        self._default_setting = default_setting

    def compose(self) -> ComposeResult:
        with DialogScroll(id="new-session-box"):  # scrolls on a short terminal; Tab reaches every button
            yield Static("Start a session", classes="section-title")
            yield Static(self._patients_text(), id="new-session-patients")
            with Grid(id="new-session-grid"):
                yield Label("Type", classes="field-label")
                yield Select([(label, value.value) for value, label in SESSION_TYPE_LABELS.items()],
                             value=self._default_type, allow_blank=False, compact=True, id="session-type")
                yield Label("Setting", classes="field-label")
                yield Select([(label, value.value) for value, label in SETTING_LABELS.items()],
                             value=self._default_setting, allow_blank=False, compact=True, id="session-setting")
                yield Label("Date of service", classes="field-label")
                yield Input(self._today.isoformat(), compact=True, id="session-date")
                yield Label("Clinician", classes="field-label")
                yield Select(self._clinicians, value=self._clinicians[0][1] if self._clinicians else Select.BLANK,
                             allow_blank=not self._clinicians, compact=True, id="session-clinician")
                yield Label("Evaluation of", classes="field-label")
                yield Select([(label, value.value) for value, label in EVALUATION_LABELS.items()],
                             allow_blank=True, compact=True, id="evaluation-kind")
                yield Label("AAC device", classes="field-label")
                yield Select([("Speech-generating device (92609)", "sgd"),
                              ("Non-speech-generating device (92606)", "non_sgd")],
                             allow_blank=True, compact=True, id="aac-device")
            yield BillingFactsFields(id="new-session-billing")
            yield Static("", id="new-session-problems")
            if self._carry_forward:
                yield Static(f"F3 starts from the last signed session, {self._carry_forward} "
                             "(all still editable; Enter starts blank)", id="new-session-carry-forward", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Start (Enter)", id="start", variant="primary")
                if self._carry_forward:
                    yield Button("From last session (F3)", id="start-carried")
                yield Button("Add group member (ctrl+g)", id="add-patient")
                yield Button("Cancel (Esc)", id="cancel")
            if self._drafts:
                yield Static("Or resume an unsigned draft (ctrl+o, then Enter; ctrl+x discards the highlighted one):",
                             classes="section-title", id="drafts-title")
                yield OptionList(*[Option(text, id=participant_id) for participant_id, text in self._drafts],
                                 id="drafts")
            yield Input(placeholder="Type a name to add to the group, Enter adds", id="group-filter",
                        classes="hidden")
            yield OptionList(id="group-candidates", classes="hidden")

    def _patients_text(self) -> str:
        names = ", ".join(name for _, name in self.patients)
        warning = ""
        if len(self.patients) > 4:
            warning = "  (more than 4: Medicare contractors cap groups at 4)"
        return f"Patient{'s' if len(self.patients) > 1 else ''}: {names}{warning}"

    def on_mount(self) -> None:
        if self.patients or not self._drafts:
            self.query_one("#start", Button).focus()
        else:
            self.action_focus_drafts()

    def action_focus_drafts(self) -> None:
        if self._drafts:
            drafts = self.query_one("#drafts", OptionList)
            drafts.highlighted = 0
            drafts.focus()

    def _problems(self, problems: list[str]) -> None:
        self.query_one("#new-session-problems", Static).update("\n".join(f"• {p}" for p in problems))

    def action_start_carried(self) -> None:
        if not self._carry_forward:
            self.notify("This patient has no signed session to start from; Enter starts a blank one.")
            return
        self.action_start(carry_forward=True)

    def action_start(self, carry_forward: bool = False) -> None:
        session_type = str(self.query_one("#session-type", Select).value)
        evaluation = self.query_one("#evaluation-kind", Select).value
        clinician = self.query_one("#session-clinician", Select).value
        device = self.query_one("#aac-device", Select).value
        request = SessionRequest(
            patient_ids=[patient_id for patient_id, _ in self.patients],
            session_type=session_type,
            setting=str(self.query_one("#session-setting", Select).value),
            date_of_service_text=self.query_one("#session-date", Input).value,
            clinician_id=None if clinician is Select.BLANK else str(clinician),
            evaluation_kind=None if evaluation is Select.BLANK else str(evaluation),
            aac_device=None if device is Select.BLANK else str(device),
            carry_forward=carry_forward,
        )
        from slpterm.domain.errors import StoreError, ValidationFailed

        try:
            participant_id = self._start(request)
        except ValidationFailed as error:
            self._problems([f"{field}: {message}" for field, message in error.problems])
            return
        except StoreError as error:
            self._problems([str(error)])
            return
        self._record_billing_facts(participant_id)
        self.dismiss(participant_id)

    def _record_billing_facts(self, participant_id: str) -> None:
        """The start dialog's billing facts, for every patient of the new session (when any is set)."""
        facts = self.query_one(BillingFactsFields).value()
        if facts == BillingFactsInput():
            return
        from slpterm.domain.errors import ValidationFailed

        try:
            self.flow.record_billing_facts_for_session(participant_id, **facts.as_record_arguments())
        except ValidationFailed as error:
            self.notify("Billing facts not recorded: " + "; ".join(f"{f}: {m}" for f, m in error.problems)
                        + " (ctrl+f in the session records them).", severity="warning")

    @on(Button.Pressed, "#start")
    def _start_pressed(self) -> None:
        self.action_start()

    @on(Button.Pressed, "#start-carried")
    def _start_carried_pressed(self) -> None:
        self.action_start_carried()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @on(Button.Pressed, "#add-patient")
    def _add_pressed(self) -> None:
        self.action_add_patient()

    @on(Input.Submitted, "#session-date")
    def _date_submitted(self) -> None:
        self.action_start()

    def action_discard_draft(self) -> None:
        from slpterm.ui.screens.discard import DiscardScreen

        drafts = self.query("#drafts").first(OptionList) if self._drafts else None
        if drafts is None or self.focused is not drafts or drafts.highlighted is None or self._discard_draft is None:
            self.notify("Highlight a draft in the list first (ctrl+o), then ctrl+x discards it.")
            return
        option = drafts.get_option_at_index(drafts.highlighted)
        participant_id = str(option.id)
        discard_draft = self._discard_draft

        def answered(discard: bool | None) -> None:
            from slpterm.domain.errors import StoreError

            if not discard:
                return
            try:
                discard_draft(participant_id)
            except StoreError as error:
                self._problems([str(error)])
                return
            self._drafts = [(pid, text) for pid, text in self._drafts if pid != participant_id]
            drafts.remove_option(participant_id)
            self.notify("Draft discarded; the audit trail records it.")
            if not self._drafts:
                drafts.display = False
                self.query_one("#drafts-title").display = False
                self.query_one("#start", Button).focus()

        question = (f"Discard the unsigned draft {option.prompt}? Its tallies and note text are removed for good; "
                    "the audit trail records the discard.")
        self.app.push_screen(DiscardScreen("this draft", question), answered)

    @on(OptionList.OptionSelected, "#drafts")
    def _draft_chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(str(event.option.id))

    # -- group members ------------------------------------------------------------------------
    def action_add_patient(self) -> None:
        search = self.query_one("#group-filter", Input)
        search.remove_class("hidden")
        self.query_one("#group-candidates", OptionList).remove_class("hidden")
        self._refresh_candidates("")
        search.focus()

    def _refresh_candidates(self, text: str) -> None:
        matches = self._find_patients(text, {patient_id for patient_id, _ in self.patients})
        options = self.query_one("#group-candidates", OptionList)
        options.clear_options()
        options.add_options([Option(name, id=patient_id) for patient_id, name in matches])
        if matches:
            options.highlighted = 0

    @on(Input.Changed, "#group-filter")
    def _group_filter_changed(self, event: Input.Changed) -> None:
        self._refresh_candidates(event.value)

    @on(Input.Submitted, "#group-filter")
    def _group_filter_submitted(self) -> None:
        options = self.query_one("#group-candidates", OptionList)
        if options.highlighted is None:
            return
        option = options.get_option_at_index(options.highlighted)
        self._add_member(str(option.id), str(option.prompt))

    @on(OptionList.OptionSelected, "#group-candidates")
    def _candidate_chosen(self, event: OptionList.OptionSelected) -> None:
        self._add_member(str(event.option.id), str(event.option.prompt))

    def _add_member(self, patient_id: str, name: str) -> None:
        self.patients.append((patient_id, name))
        self.query_one("#new-session-patients", Static).update(self._patients_text())
        if len(self.patients) >= 2:
            self.query_one("#session-type", Select).value = SessionType.GROUP_TREATMENT.value
        search = self.query_one("#group-filter", Input)
        search.value = ""
        self._refresh_candidates("")

    def action_cancel(self) -> None:
        self.dismiss(None)

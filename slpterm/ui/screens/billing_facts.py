"""The billing facts of a session: distinct service and its modifier, habilitative or
rehabilitative, audio-only telehealth. ``BillingFactsFields`` is the field group (the start dialog
uses it too); ``BillingFactsScreen`` records them for one participant (ctrl+f on the session
screen, in the sign dialog, and for a held claim on the export screen)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Select, Static

from slpterm.domain.billing_facts import DISTINCT_MODIFIER_CHOICES, BillingFacts

if TYPE_CHECKING:
    from slpterm.services.session_flow import SessionFlow

_PAYER_CHOICE = "payer"
_REHAB_CHOICES = [("From the plan of care", "plan"), ("Rehabilitative (97)", "rehab"), ("Habilitative (96)", "hab")]


@dataclass(frozen=True)
class BillingFactsInput:
    distinct_service_note: str = ""
    distinct_modifier: str | None = None
    rehabilitative: bool | None = None
    audio_only: bool = False

    def as_record_arguments(self) -> dict[str, object]:
        """Keyword arguments of ``store.billing_facts.record``."""
        return asdict(self)


class BillingFactsFields(Vertical):
    """The compact field group; ``value()`` reads it back."""

    DEFAULT_CSS = "BillingFactsFields { height: auto; } BillingFactsFields Horizontal { height: auto; }"

    def __init__(self, facts: BillingFacts | None = None, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._facts = facts or BillingFacts()

    def compose(self) -> ComposeResult:
        facts = self._facts
        yield Input(facts.distinct_service_note, placeholder="Distinct service: why it was separate (NCCI pair)",
                    id="bf-distinct-note")
        with Horizontal():
            yield Select([("Modifier: the payer's choice", _PAYER_CHOICE)] + [(m, m) for m in DISTINCT_MODIFIER_CHOICES],
                         value=facts.distinct_modifier or _PAYER_CHOICE, allow_blank=False, id="bf-distinct-modifier")
            rehab = "plan" if facts.rehabilitative is None or facts.rehabilitative_from_plan else (
                "rehab" if facts.rehabilitative else "hab")
            yield Select(_REHAB_CHOICES, value=rehab, allow_blank=False, id="bf-rehab")
            yield Checkbox("Audio-only telehealth", facts.audio_only, id="bf-audio-only")

    def value(self) -> BillingFactsInput:
        modifier = self.query_one("#bf-distinct-modifier", Select).value
        rehab = self.query_one("#bf-rehab", Select).value
        return BillingFactsInput(
            distinct_service_note=self.query_one("#bf-distinct-note", Input).value,
            distinct_modifier=None if modifier == _PAYER_CHOICE else str(modifier),
            rehabilitative=None if rehab == "plan" else rehab == "rehab",
            audio_only=self.query_one("#bf-audio-only", Checkbox).value,
        )


class BillingFactsScreen(ModalScreen[BillingFactsInput | None]):
    """Ctrl+s records the facts, Esc leaves them as they were."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="billing_facts.cancel"),
                Binding("ctrl+s", "save", "Save", id="billing_facts.save", priority=True)]

    def __init__(self, facts: BillingFacts, title: str = "Billing facts") -> None:
        super().__init__()
        self._facts = facts
        self._title = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(f"{self._title} (ctrl+s saves, Esc cancels)", classes="section-title", markup=False)
            if self._facts.rehabilitative_from_plan:
                kind = "rehabilitative" if self._facts.rehabilitative else "habilitative"
                yield Static(f"The plan of care says {kind}.", markup=False)
            yield BillingFactsFields(self._facts, id="billing-facts-fields")
            yield Static("", id="billing-facts-problem", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Save (ctrl+s)", id="save", variant="success")
                yield Button("Back (Esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#bf-distinct-note", Input).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()

    def show_problem(self, text: str) -> None:
        self.query_one("#billing-facts-problem", Static).update(text)

    def action_save(self) -> None:
        self.dismiss(self.query_one(BillingFactsFields).value())

    def action_cancel(self) -> None:
        self.dismiss(None)


def record_billing_facts(screen, flow: SessionFlow, participant_id: str, done=None) -> None:  # noqa: ANN001
    """Open the dialog for ``participant_id`` from ``screen`` and store what is saved; ``done`` runs after."""
    from slpterm.domain.errors import ValidationFailed

    facts = flow.billing_facts(participant_id)

    def saved(value: BillingFactsInput | None) -> None:
        if value is None:
            return
        try:
            flow.record_billing_facts(participant_id, **value.as_record_arguments())
        except ValidationFailed as error:
            screen.notify("; ".join(f"{field}: {fix}" for field, fix in error.problems), severity="error")
            return
        screen.notify("Billing facts recorded.")
        if done is not None:
            done()

    screen.app.push_screen(BillingFactsScreen(facts), saved)

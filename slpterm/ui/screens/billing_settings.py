"""Fee schedule and payer rules: what the clinic charges per code and how each payer wants it billed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Header, Input, Label, Select, Static

from slpterm.domain.errors import StoreError, ValidationFailed
from slpterm.services import billing_settings as service
from slpterm.ui.widgets.virtual_table import Column, VirtualTable

if TYPE_CHECKING:
    from slpterm.services.clinic import BillingSettings, ClinicServices


def _problem_text(error: Exception) -> str:
    if isinstance(error, ValidationFailed):
        return "\n".join(f"• {message}" if field in message else f"• {field}: {message}"
                         for field, message in error.problems)
    return str(error)


class FeeScreen(ModalScreen["str | None"]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="fee.cancel")]

    def __init__(self, settings: BillingSettings, row: service.FeeRow) -> None:
        super().__init__()
        self.settings = settings
        self.row = row

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(f"Charge for {self.row.code}: {self.row.paraphrase}", classes="section-title", markup=False)
            yield Input(f"{self.row.charge:.2f}" if self.row.charge is not None else "", id="fee-charge",
                        placeholder="e.g. 145.00")
            yield Static("Enter saves; Esc cancels. Claims carry this charge from now on.", classes="field-label")
            yield Static("", id="fee-problem", classes="problems", markup=False)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _save(self, event: Input.Submitted) -> None:
        try:
            self.settings.save_fee(self.row.code, event.value)
        except (ValidationFailed, StoreError) as error:
            self.query_one("#fee-problem", Static).update(_problem_text(error))
            return
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class PayerPolicyScreen(ModalScreen["bool | None"]):
    """Each field shows the value in force; choosing another value records an override for this payer."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="payer_policy.cancel"),
                Binding("ctrl+s", "save", "Save", id="payer_policy.save")]

    def __init__(self, settings: BillingSettings, row: service.PayerRow, in_force: dict) -> None:
        super().__init__()
        self.settings = settings
        self.row = row
        self.in_force = in_force

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(f"Billing rules for {self.row.payer_name} (payer ID {self.row.payer_id}, "
                         f"{self.row.payer_kind or 'unknown kind'}). Changed fields override the shipped "
                         "policy for this payer only. ctrl+s saves.", classes="section-title", markup=False)
            with VerticalScroll(id="policy-fields"):
                with Grid(classes="form-grid"):
                    for name in service.EDITABLE_POLICY_FIELDS:
                        spec = service.policy_field(name)
                        yield Label(spec.label, classes="field-label")
                        kind = service.field_choices(name)
                        value = service.field_text(name, self.in_force.get(name))
                        if kind is bool:
                            yield Select([("yes", "true"), ("no", "false")], value=value,
                                         allow_blank=False, compact=True, id=f"policy-{name}")
                        elif isinstance(kind, tuple):
                            yield Select([(choice, choice) for choice in kind], value=value,
                                         allow_blank=False, compact=True, id=f"policy-{name}")
                        else:
                            yield Input(value, compact=True, id=f"policy-{name}")
            yield Static("", id="policy-problems", classes="problems", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Save (ctrl+s)", id="policy-save", variant="primary")
                yield Button("Back to the shipped policy", id="policy-reset")

    def _values(self) -> dict:
        texts = {name: str(self.query_one(f"#policy-{name}").value)  # type: ignore[attr-defined]
                 for name in service.EDITABLE_POLICY_FIELDS}
        return service.override_values(self.row.overrides, self.in_force, texts)

    def action_save(self) -> None:
        try:
            self.settings.save_payer_override(self.row.payer_id, self._values())
        except (ValidationFailed, StoreError) as error:
            self.query_one("#policy-problems", Static).update(_problem_text(error))
            return
        self.dismiss(True)

    @on(Button.Pressed, "#policy-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#policy-reset")
    def _reset(self) -> None:
        self.settings.save_payer_override(self.row.payer_id, {})
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(None)


class BillingSettingsScreen(Screen):
    """Tab moves between the two lists; Enter edits the highlighted fee or payer."""

    BINDINGS = [Binding("escape", "back", "Back", id="billing_settings.back")]

    def __init__(self, services: ClinicServices) -> None:
        super().__init__()
        self.settings = services.billing_settings

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Fee schedule: the clinic's charge per code (Enter edits). * = set by the clinic.",
                     classes="panel-title")
        yield VirtualTable([Column("Code", 7), Column("Charge", 10), Column("Set", 4), Column("Code meaning", 0)],
                           id="fees")
        yield Static("Payers: how each payer wants SLP services billed (Enter edits its rules).",
                     classes="panel-title")
        yield VirtualTable([Column("Payer ID", 10), Column("Payer", 36), Column("Kind", 11),
                            Column("Overrides", 0)], id="payers")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#fees", VirtualTable).focus()
        self._load()

    @work(thread=True, exclusive=True)
    def _load(self) -> None:
        fees = self.settings.fee_rows()
        payers = self.settings.payer_rows()
        self.app.call_from_thread(self._show, fees, payers)

    def _show(self, fees: list, payers: list) -> None:
        self._fees, self._payers = fees, payers
        self.query_one("#fees", VirtualTable).set_rows([
            (row.code, f"{row.charge:.2f}" if row.charge is not None else "none", "*" if row.set_by_clinic else "",
             row.paraphrase) for row in fees])
        self.query_one("#payers", VirtualTable).set_rows([
            (row.payer_id, row.payer_name, row.payer_kind,
             ", ".join(f"{key}={', '.join(sorted(value)) if isinstance(value, list) else value}"
                       for key, value in sorted(row.overrides.items())) or "shipped policy")
            for row in payers])

    @on(VirtualTable.RowChosen, "#fees")
    def _edit_fee(self, event: VirtualTable.RowChosen) -> None:
        self.app.push_screen(FeeScreen(self.settings, self._fees[event.index]),
                             lambda changed: changed and self._load())

    @on(VirtualTable.RowChosen, "#payers")
    def _edit_payer(self, event: VirtualTable.RowChosen) -> None:
        row = self._payers[event.index]
        in_force = self.settings.effective_policy(row.payer_kind, row.payer_id, row.overrides)
        self.app.push_screen(PayerPolicyScreen(self.settings, row, in_force), lambda changed: changed and self._load())

    def action_back(self) -> None:
        self.app.pop_screen()

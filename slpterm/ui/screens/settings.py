"""Clinic and clinician settings; the same form greets a new user on first run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, Select, Static

from slpterm.domain.clinic_setup import (
    CREDENTIAL_CHOICES,
    ClinicSetup,
    role_for_credentials,
    setup_problems,
)

if TYPE_CHECKING:
    from slpterm.services.clinic import ClinicServices

FIELDS = [
    ("clinic_name", "Clinic name"),
    ("clinic_npi", "Clinic NPI (billing)"),
    ("tax_id", "Tax ID (EIN)"),
    ("address_line1", "Street address"),
    ("city", "City"),
    ("state", "State"),
    ("postal_code", "ZIP"),
    ("phone", "Phone"),
    ("clinician_first_name", "Your first name"),
    ("clinician_last_name", "Your last name"),
    ("credentials", "Credentials"),
    ("clinician_npi", "Your NPI"),
    ("submitter_id", "Claims: submitter ID"),
    ("submitter_contact", "Claims: contact name"),
    ("receiver_id", "Claims: receiver ID"),
    ("receiver_name", "Claims: receiver name"),
]
CLINIC_FIELDS = ("address_line1", "city", "postal_code", "phone", "submitter_id", "submitter_contact",
                 "receiver_id", "receiver_name")


class SettingsScreen(Screen):
    """Edits the clinic (billing provider) and the first clinician."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="settings.save"),
        Binding("ctrl+f", "billing", "Fees and payer rules", id="settings.billing"),
        Binding("ctrl+r", "rules", "Billing rules", id="settings.rules"),
        Binding("escape", "back", "Back", id="settings.back"),
    ]
    intro = ("Clinic and clinician. The NPIs and tax ID go on every claim; they are checked as you save. "
             "The claims IDs come from your clearinghouse and are needed for X12 837P files.")

    def __init__(self, services: ClinicServices, focus: str = "clinic_name") -> None:
        super().__init__()
        self.services = services
        self.clinic = services.clinic
        self._first_focus = focus  # e.g. "clinic_npi" when opened to fix a finding about it

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="settings-form"):
            yield Static(self.intro, id="settings-intro")
            with Grid(id="settings-grid"):
                for name, label in FIELDS:
                    yield Label(label, classes="field-label")
                    if name == "credentials":
                        yield Select([(choice, choice) for choice in CREDENTIAL_CHOICES], value="CCC-SLP", compact=True,
                                     allow_blank=False, id=name)
                    else:
                        yield Input(id=name, compact=True)
            yield Static("", id="settings-problems")
            with Horizontal(id="settings-buttons"):
                yield from self.buttons()
        yield Footer()

    def buttons(self) -> ComposeResult:
        yield Button("Save (ctrl+s)", id="save", variant="primary")

    def on_mount(self) -> None:
        self._fill()
        self.query_one(f"#{self._first_focus}", Input).focus()

    def _fill(self) -> None:
        clinic = self.clinic.clinic()
        clinicians = self.clinic.clinicians()
        values: dict[str, str] = {}
        if clinic is not None:
            values.update(clinic_name=clinic.name, clinic_npi=clinic.npi, tax_id=clinic.tax_id, state=clinic.state,
                          **{name: getattr(clinic, name) for name in CLINIC_FIELDS})
        if clinicians:
            first = clinicians[0]
            values.update(clinician_first_name=first.first_name, clinician_last_name=first.last_name,
                          clinician_npi=first.npi)
            if first.credentials in CREDENTIAL_CHOICES:
                self.query_one("#credentials", Select).value = first.credentials
        for name, value in values.items():
            if name != "credentials":
                self.query_one(f"#{name}", Input).value = value or ""

    def _collect(self) -> ClinicSetup:
        values = {name: self.query_one(f"#{name}", Input).value for name, _ in FIELDS if name != "credentials"}
        credentials = self.query_one("#credentials", Select).value
        return ClinicSetup(**values, credentials=str(credentials))

    def action_save(self) -> None:
        setup = self._collect()
        problems = setup_problems(setup)
        problem_view = self.query_one("#settings-problems", Static)
        if problems:
            problem_view.update("\n".join(f"• {field}: {message}" for field, message in problems))
            problem_view.add_class("has-problems")
            return
        problem_view.update("")
        problem_view.remove_class("has-problems")
        self.clinic.save_clinic(
            name=setup.clinic_name.strip(), npi=setup.clinic_npi.strip(), tax_id=setup.tax_id.strip(),
            state=setup.state.strip().upper(),
            **{name: getattr(setup, name).strip() for name in CLINIC_FIELDS},
        )
        clinician_fields = dict(
            first_name=setup.clinician_first_name.strip(), last_name=setup.clinician_last_name.strip(),
            credentials=setup.credentials, role=role_for_credentials(setup.credentials).value,
            npi=setup.clinician_npi.strip(),
        )
        clinicians = self.clinic.clinicians()
        if clinicians:
            clinician = self.clinic.update_clinician(clinicians[0].id, **clinician_fields)
        else:
            clinician = self.clinic.add_clinician(**clinician_fields)
        self.clinic.actor = clinician.display_name
        self.notify("Saved.")
        self.saved()

    def action_billing(self) -> None:
        from slpterm.ui.screens.billing_settings import BillingSettingsScreen

        self.app.push_screen(BillingSettingsScreen(self.services))

    def action_rules(self) -> None:
        self.app.action_rules()

    def saved(self) -> None:
        self.app.pop_screen()

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    def action_back(self) -> None:
        self.app.pop_screen()


class FirstRunScreen(SettingsScreen):
    """Asks for the clinic and the clinician on an empty data directory; can be skipped."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="first_run.save"),
        Binding("escape", "skip", "Skip for now", id="first_run.skip"),
    ]
    intro = (
        "Welcome to slpterm. Tell it about your clinic and yourself; claims need these. "
        "You can skip this (Esc) and finish later in Settings (F5)."
    )

    def buttons(self) -> ComposeResult:
        yield Button("Save (ctrl+s)", id="save", variant="primary")
        yield Button("Skip for now (Esc)", id="skip")

    @on(Button.Pressed, "#skip")
    def _skip_pressed(self) -> None:
        self.action_skip()

    def action_skip(self) -> None:
        self.clinic.skip_setup()
        self.app.pop_screen()

    def action_back(self) -> None:
        self.action_skip()

"""Where a finding is fixed, opened from where it is shown (the sign dialog, the session's coding
panel, the export screen): ctrl+f opens the one place the findings name, or a short list to pick
from with a digit. Which finding is fixed where is data: ``slpterm.services.session_flow.FINDING_FIXES``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from slpterm.services.session_flow import FIX_LABELS, FixPlace

if TYPE_CHECKING:
    from datetime import date

    from slpterm.services.clinic import ClinicServices
    from slpterm.services.session_flow import FixTarget, SessionFlow


class FixChooserScreen(ModalScreen[FixPlace | None]):
    """A digit (or ↑↓ and Enter) opens the place; Esc goes back."""

    BINDINGS = [Binding("escape", "cancel", "Back", id="fix_chooser.cancel")]

    def __init__(self, places: list[FixPlace]) -> None:
        super().__init__()
        self.places = places

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="fix-chooser"):
            yield Static("Fix a finding: press its number (Esc goes back).", classes="section-title")
            yield OptionList(*[Option(f"{number}  {FIX_LABELS[place]}", id=place.value)
                               for number, place in enumerate(self.places, start=1)], id="fix-places")

    def on_mount(self) -> None:
        options = self.query_one("#fix-places", OptionList)
        options.highlighted = 0
        options.focus()

    def on_key(self, event) -> None:  # noqa: ANN001
        if event.character and event.character.isdigit() and 1 <= int(event.character) <= len(self.places):
            event.stop()
            self.dismiss(self.places[int(event.character) - 1])

    @on(OptionList.OptionSelected, "#fix-places")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(FixPlace(str(event.option.id)))

    def action_cancel(self) -> None:
        self.dismiss(None)


def choose_fix(screen: Screen, places: list[FixPlace], chosen: Callable[[FixPlace], None]) -> None:
    """One place: ``chosen`` at once; several: after the user picks one."""
    if len(places) == 1:
        chosen(places[0])
        return
    screen.app.push_screen(FixChooserScreen(places), lambda place: chosen(place) if place else None)


def fix_screen(services: ClinicServices, flow: SessionFlow, participant_id: str, place: FixPlace) -> Screen | str:
    """The screen that records what ``place`` stands for, or a sentence saying why there is none."""
    target = flow.fix_target(participant_id, place)
    plan = target.plan
    form = _chart_form(place, target, services.clock.today())
    if form is not None:
        return form.handed(services.charts)
    if place is FixPlace.CHART:
        from slpterm.ui.screens.patient import PatientScreen

        return PatientScreen(services, target.patient_id)
    if place is FixPlace.PROGRESS_REPORT:
        if plan is None:
            return "A progress report belongs to a plan of care; write the plan first."
        from slpterm.ui.screens.progress_report import ProgressReportScreen

        return ProgressReportScreen(services.reports, plan.id, visit_date=target.date_of_service)
    if place in (FixPlace.CLINIC, FixPlace.CLINICIAN):
        from slpterm.ui.screens.settings import SettingsScreen

        return SettingsScreen(services, focus="clinic_npi" if place is FixPlace.CLINIC else "clinician_npi")
    if place is FixPlace.FEES:
        from slpterm.ui.screens.billing_settings import BillingSettingsScreen

        return BillingSettingsScreen(services)
    return f"{FIX_LABELS[place].capitalize()} is recorded on the session screen."


def _chart_form(place: FixPlace, target: FixTarget, today: date):  # noqa: ANN202
    """The chart form that records ``place``, or None when another screen does."""
    from slpterm.ui.screens import chart_forms as forms

    plan = target.plan
    if place is FixPlace.COVERAGE:
        if target.coverage is not None:
            return forms.CoverageForm(target.patient_id, target.coverage)
        return forms.CoverageForm(target.patient_id, next_rank=target.next_coverage_rank)
    if place is FixPlace.NEW_DIAGNOSIS:
        return forms.DiagnosisForm(target.patient_id, other_codes=list(target.diagnosis_codes),
                                   next_rank=target.next_diagnosis_rank)
    if place is FixPlace.PLAN:
        if plan is not None:
            return forms.PlanForm(target.patient_id, plan, payer_kind=target.payer_kind)
        # A plan for the visit that needs one starts on its date of service.
        return forms.PlanForm(target.patient_id, payer_kind=target.payer_kind, today=target.date_of_service or today)
    if place is FixPlace.RECERTIFY:
        if plan is None:
            return forms.PlanForm(target.patient_id, payer_kind=target.payer_kind,
                                  today=target.date_of_service or today)
        return forms.PlanForm(target.patient_id, payer_kind=target.payer_kind, recertify_from=plan)
    return None


def open_fix(screen: Screen, services: ClinicServices, flow: SessionFlow, participant_id: str, place: FixPlace,
             checked_again: Callable[[], None], local: dict[FixPlace, Callable[[], None]] | None = None) -> None:
    """Open where ``place`` is recorded for ``participant_id``; ``checked_again`` runs when the user is
    back on ``screen`` (the form saved or was left), so the findings are checked again.

    ``local`` holds the places the screen opens itself (the session screen's times)."""
    if local and place in local:
        local[place]()
        return
    if place is FixPlace.BILLING_FACTS:
        from slpterm.ui.screens.billing_facts import record_billing_facts

        record_billing_facts(screen, flow, participant_id, checked_again)
        return
    opened = fix_screen(services, flow, participant_id, place)
    if isinstance(opened, str):
        screen.notify(opened, severity="warning")
        return
    when_back(screen, checked_again)
    screen.app.push_screen(opened)


def when_back(screen: Screen, action: Callable[[], None]) -> None:
    """Run ``action`` once, the next time ``screen`` is shown again (see ``back_on``)."""
    screen._when_back = action  # noqa: SLF001


def back_on(screen: Screen) -> None:
    """Call from the screen's ``on_screen_resume``: runs what ``when_back`` left."""
    action = getattr(screen, "_when_back", None)
    # A dialog closing just before the form opened resumes the screen too: wait for the form.
    if action is not None and screen.app.screen is screen:
        screen._when_back = None  # noqa: SLF001
        action()

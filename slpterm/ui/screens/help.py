"""Every key of every screen, generated from the bindings themselves."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

INTRO = """slpterm keys. Global keys work everywhere; screen keys where the screen is shown.
Ctrl+P opens the command palette with every action. w shows the first-session walkthrough.
Esc closes this help."""

WALKTHROUGH = """First session, from opening slpterm to a signed note and an export

 1. slpterm                 start the app (slpterm demo --out DIR makes a fictional clinic to try).
                            On an empty data folder the first-run form asks for the clinic and you:
                            fill it in, ctrl+s saves (Esc skips; F5 opens Settings later).
 2. ctrl+n                  on the caseload: a new patient. Fill in the form, ctrl+s saves and opens
                            the chart. In the chart: c coverage, d diagnosis, p plan of care,
                            g goal (each form saves with ctrl+s, Esc goes back).
 3. Esc, then type a name   back on the caseload, typing filters by name, ID, school or diagnosis;
                            ↑ ↓ choose, Enter opens the chart.
 4. F3  Enter               start a session for the patient: the type and setting of the last visit,
                            today, you. ctrl+o in that dialog resumes an unsigned draft instead.
 5. ctrl+t                  start the timer (ctrl+t again pauses; F6 moves the minutes to the next
                            disorder area).
 6. c x n                   tally trials on the highlighted goal: correct, incorrect, no response.
                            1-4 set the cue level (independent, minimal, moderate, maximal),
                            ↑ ↓ change goal, u undoes the last trial, space marks a goal worked on.
 7. ctrl+e                  stop the timer. ctrl+k enters start and stop times by hand instead.
 8. F8  space  ↓  space     tick the techniques used.
 9. ctrl+d                  draft the Objective from the tallies and minutes.
10. F9, type; Tab           write Subjective, Assessment and Plan; ctrl+r inserts a reusable phrase.
                            Everything is saved as you type.
11. ctrl+g  Enter           check and sign: what blocks signing is listed with its fix; once signed
                            the note is locked (F10 adds an addendum) and the claim lines are shown.
12. F4                      the export screen: type the date range, choose the format
                            (CSV, JSON, FHIR R4, X12 837P, superbill), ctrl+e writes the files.

After ten treatment days the caseload shows "PR due": open the chart, w writes the progress report
(ctrl+d redrafts its text from the numbers, ctrl+g signs it, ctrl+e writes Markdown and PDF).
F6 on the caseload shows IEP minutes per student; l there writes the month's service log.
Esc closes this walkthrough."""


def _screens() -> list[tuple[str, type]]:
    from slpterm.ui.screens.billing_settings import (
        BillingSettingsScreen,
        PayerPolicyScreen,
    )
    from slpterm.ui.screens.caseload import CaseloadScreen
    from slpterm.ui.screens.correct_session import CorrectSessionScreen
    from slpterm.ui.screens.export import ExportScreen
    from slpterm.ui.screens.goal_progress import GoalProgressScreen
    from slpterm.ui.screens.new_session import NewSessionScreen
    from slpterm.ui.screens.patient import PatientScreen
    from slpterm.ui.screens.progress_report import PeriodScreen, ProgressReportScreen
    from slpterm.ui.screens.rules import RulesScreen
    from slpterm.ui.screens.school import SchoolScreen
    from slpterm.ui.screens.security import AuditScreen, SecurityScreen
    from slpterm.ui.screens.session import SessionScreen
    from slpterm.ui.screens.session_dialogs import (
        AddendumScreen,
        SignScreen,
        TimeEditScreen,
    )
    from slpterm.ui.screens.settings import FirstRunScreen, SettingsScreen
    from slpterm.ui.widgets.goal_tally import GoalTally
    from slpterm.ui.widgets.virtual_table import VirtualTable

    return [
        ("Caseload", CaseloadScreen),
        ("Patient list (caseload table)", VirtualTable),
        ("Patient chart", PatientScreen),
        ("Goal progress", GoalProgressScreen),
        ("Start a session", NewSessionScreen),
        ("Session", SessionScreen),
        ("Times by hand", TimeEditScreen),
        ("Sign (check and sign)", SignScreen),
        ("Correct or discard an unsigned session", CorrectSessionScreen),
        ("Addendum", AddendumScreen),
        ("Session goals (trial tallies)", GoalTally),
        ("Progress report", ProgressReportScreen),
        ("Progress report period", PeriodScreen),
        ("School minutes", SchoolScreen),
        ("Export", ExportScreen),
        ("Settings", SettingsScreen),
        ("First run", FirstRunScreen),
        ("Fees and payer rules", BillingSettingsScreen),
        ("Payer rules", PayerPolicyScreen),
        ("Billing rules (install a year)", RulesScreen),
        ("Security", SecurityScreen),
        ("Audit trail", AuditScreen),
    ]


def _bindings(owner: type[DOMNode]) -> list[Binding]:
    return [binding for binding in owner.BINDINGS if isinstance(binding, Binding)]


def editor_bindings() -> list[Binding]:
    """The note editor's own ctrl keys that reach it, one binding per key (arrows, Home and End do
    what they say; the session's own keys, such as ctrl+e and F6, stay the session's while typing)."""
    from textual.widgets import TextArea

    from slpterm.ui.screens.session import SessionScreen

    taken = {key for binding in _bindings(SessionScreen) for key in binding.key.split(",")}
    keys = []
    for binding in TextArea.BINDINGS:
        if not isinstance(binding, Binding) or not binding.description:
            continue
        for key in binding.key.split(","):
            arrow_like = any(part in key for part in ("left", "right", "backspace"))
            if key.startswith("ctrl+") and key not in taken and not arrow_like:
                keys.append(Binding(key, binding.action, binding.description))
    return keys


def key_sections(app) -> list[tuple[str, list[tuple[str, str]]]]:  # noqa: ANN001
    """(section title, [(key, description)]) for the app and each screen."""
    keymap = app._keymap  # the user's keymap file (slpterm.preferences), as Textual applies it

    def shown(binding: Binding) -> Binding:
        remapped = keymap.get(binding.id) if binding.id else None
        return binding.with_key(remapped.split(",")[0]) if remapped else binding

    def rows(bindings: list[Binding]) -> list[tuple[str, str]]:
        return [(app.get_key_display(shown(binding)), binding.description) for binding in bindings]

    sections = [("Everywhere", rows(_bindings(type(app))) + [("ctrl+p", "Command palette")])]
    sections.extend((title, rows(_bindings(owner))) for title, owner in _screens())
    sections.append(("Typing in a note or an addendum (the editor's own keys)", rows(editor_bindings())))
    return sections


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "close", "Close help", id="help.close"),
                Binding("f1", "close", "Close help", show=False, id="help.close_f1"),
                Binding("w", "walkthrough", "First-session walkthrough", id="help.walkthrough")]

    def __init__(self, current: Screen | None = None) -> None:
        super().__init__()
        self._current = current

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(INTRO, id="help-intro", markup=False)
            for title, keys in key_sections(self.app):
                marker = " (this screen)" if self._current is not None and title.lower().startswith(
                    type(self._current).__name__.replace("Screen", "").lower()) else ""
                yield Static(f"{title}{marker}", classes="section-title")
                yield Static("\n".join(f"  {key:<14} {description}" for key, description in keys),
                             classes="section-body", markup=False)

    def on_mount(self) -> None:
        self.query_one("#help-box").focus()

    def action_close(self) -> None:
        self.dismiss()

    def action_walkthrough(self) -> None:
        self.app.push_screen(WalkthroughScreen())


class WalkthroughScreen(ModalScreen[None]):
    """The keystrokes from opening slpterm to a signed note and an export."""

    DEFAULT_CSS = """
    WalkthroughScreen { align: center middle; }
    #walkthrough-box { width: 114; height: 90%; border: round $accent; background: $panel; padding: 0 2; }
    """
    BINDINGS = [Binding("escape", "close", "Back to the keys", id="walkthrough.close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="walkthrough-box"):
            yield Static(WALKTHROUGH, markup=False)

    def on_mount(self) -> None:
        self.query_one("#walkthrough-box").focus()

    def action_close(self) -> None:
        self.dismiss()

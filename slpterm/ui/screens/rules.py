"""Billing rules: what is in force, and installing a new year's files (the screen of `slpterm rules install`)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Label, Static

if TYPE_CHECKING:
    from slpterm.services.clinic import ClinicServices

FIELDS = [
    ("rvu", "PFS relative value CSV", "e.g. ~/Downloads/RVU27A/PPRRVU2027_JAN.csv"),
    ("ptp", "PTP files f1-f4", "the four ...-practitioner-ptp-edits-...-f1.zip to -f4.zip, separated by spaces"),
    ("mue", "MUE CSV", "MCR_MUE_PractitionerServices_Eff_MM-DD-YYYY.csv"),
    ("clinic", "Clinic install TOML", "the clinic's codeset_install file (docs/rules-format.md)"),
    ("icd10_order", "ICD-10-CM order file", "icd10cm_order_YYYY.txt (a new fiscal year)"),
    ("icd10_tabular", "ICD-10-CM tabular XML", "icd10cm_tabular_YYYY.xml"),
]


def rules_overview(rules_dir: Path, today: date) -> str:
    """What is in force today and on the next January 1, the installs made, the ICD-10-CM releases."""
    from slpterm.clinical import icd10
    from slpterm.coding.install import read_manifest
    from slpterm.coding.rulebook import RuleBookError, load_rulebook

    lines = []
    try:
        book = load_rulebook(rules_dir if rules_dir.is_dir() else None)
    except RuleBookError as error:
        return "The clinic's rules files have problems:\n" + "\n".join(f"• {p}" for p in error.problems)
    for day in (today, date(today.year + 1, 1, 1)):
        view = book.codeset_for(day)
        if view is None:
            lines.append(f"{day}: no code set installed; nothing can be coded for that date.")
            continue
        lines.append(f"{day}: code set {view.codeset.id} ({len(view.codes)} codes)"
                     + (f", inherits {view.codeset.inherits}" if view.codeset.inherits else ""))
        for session_type, pending in sorted(view.pending.items()):
            lines.append(f"   {session_type.replace('_', ' ')}: NOT INSTALLED. {pending.install}")
        threshold = book.kx_threshold(day.year)
        if threshold is not None and threshold.provisional_from is not None:
            lines.append(f"   KX threshold {day.year}: provisional, ${threshold.amount:,.2f} from {threshold.provisional_from}")
    release = icd10.release_for(today)
    lines.append(f"ICD-10-CM: release '{release.name}' answers for {today}"
                 + (f" (known through {release.known_through})" if release.known_through else ""))
    entries = read_manifest(rules_dir)
    lines.append(f"Installs in {rules_dir}: " + ("none" if not entries else ""))
    for entry in entries[-5:]:
        state = f"rolled back {entry['rolled_back'][:10]}" if entry.get("rolled_back") else "in force"
        lines.append(f"   {entry['at'][:16]} {entry.get('year') or ''} {state}: {', '.join(entry['files'])}")
    return "\n".join(lines)


class RulesScreen(Screen):
    """ctrl+r checks the files named below and shows the plan; ctrl+s installs it; ctrl+z rolls back."""

    BINDINGS = [
        Binding("ctrl+r", "check", "Check files", id="rules.check"),
        Binding("ctrl+s", "install", "Install", id="rules.install"),
        Binding("ctrl+z", "rollback", "Roll back last install", id="rules.rollback"),
        Binding("escape", "back", "Back", id="rules.back"),
    ]

    def __init__(self, services: ClinicServices) -> None:
        super().__init__()
        self.services = services
        self._plan = None

    def _rules_dir(self) -> Path:
        from slpterm.paths import clinic_rules_dir

        return clinic_rules_dir()

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="rules-body"):
            yield Static("", id="rules-overview", markup=False)
            yield Static("Install a new year: name the files, ctrl+r checks them and shows what would change; "
                         "ctrl+s installs (recorded in the audit trail); ctrl+z rolls the latest install back.",
                         classes="section-title")
            with Grid(classes="form-grid", id="rules-form"):
                for name, label, placeholder in FIELDS:
                    yield Label(label, classes="field-label")
                    yield Input(placeholder=placeholder, compact=True, id=f"rules-{name}")
            yield Static("", id="rules-plan", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self._show_overview()
        self.query_one("#rules-rvu", Input).focus()

    def _show_overview(self) -> None:
        self.query_one("#rules-overview", Static).update(rules_overview(self._rules_dir(), self.services.clock.today()))

    def _paths(self) -> dict:
        values = {name: self.query_one(f"#rules-{name}", Input).value.strip() for name, _, _ in FIELDS}
        paths = {name: (Path(value).expanduser() if value else None) for name, value in values.items() if name != "ptp"}
        paths["ptp"] = [Path(part).expanduser() for part in values["ptp"].split()]
        return paths

    def action_check(self) -> None:
        paths = self._paths()
        missing = [str(p) for p in [*paths["ptp"], *(v for k, v in paths.items() if k != "ptp")] if p is not None and not p.is_file()]
        if missing:
            self._plan = None
            self.query_one("#rules-plan", Static).update("• " + "\n• ".join(f"{p}: no such file" for p in missing))
            return
        self.query_one("#rules-plan", Static).update("Checking the files ...")
        self._check(paths)

    @work(thread=True, exclusive=True)
    def _check(self, paths: dict) -> None:
        from slpterm.coding.install import plan_install
        from slpterm.coding.install_cli import plan_text

        plan = plan_install(self._rules_dir(), rvu=paths["rvu"], ptp=paths["ptp"], mue=paths["mue"], spec=paths["clinic"],
                            icd_order=paths["icd10_order"], icd_tabular=paths["icd10_tabular"])
        text = "\n".join(plan_text(plan))
        if plan.ok:
            text += ("\n\nctrl+s installs" + (" with the area mapping above (proposed rows included)" if plan.needs_confirmation else "") + ".")
        self.app.call_from_thread(self._planned, plan, text)

    def _planned(self, plan, text: str) -> None:  # noqa: ANN001
        self._plan = plan if plan.ok else None
        self.query_one("#rules-plan", Static).update(text)

    def action_install(self) -> None:
        from slpterm.coding.install import InstallError, apply_install, record_install

        if self._plan is None:
            self.notify("Check the files first (ctrl+r); only a plan without problems can be installed.", severity="warning")
            return
        try:
            entry = apply_install(self._plan, self._rules_dir(), actor=self.services.clinic.actor)
        except (InstallError, OSError) as error:
            self.query_one("#rules-plan", Static).update(f"Not installed: {error}")
            return
        record_install(self.services.security.record, entry)
        self._plan = None
        self.query_one("#rules-plan", Static).update("Installed: " + ", ".join(entry["files"]))
        self._show_overview()
        self.notify("Rules installed.")

    def action_rollback(self) -> None:
        from slpterm.coding.install import record_rollback, rollback_last

        entry = rollback_last(self._rules_dir())
        if entry is None:
            self.notify("Nothing to roll back.", severity="warning")
            return
        record_rollback(self.services.security.record, entry)
        self.query_one("#rules-plan", Static).update("Rolled back: " + ", ".join(entry["files"]))
        self._show_overview()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_check()

    def action_back(self) -> None:
        self.app.pop_screen()

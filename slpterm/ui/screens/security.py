"""Unlocking, the idle lock, passphrase and PIN settings, backups and the audit trail."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Header, Input, Label, Static

from slpterm.domain.errors import StoreError, ValidationFailed
from slpterm.ui.widgets.virtual_table import Column, VirtualTable

if TYPE_CHECKING:
    from slpterm.services.clinic import ClinicServices
    from slpterm.services.security import SecurityService, UnlockResult


FAILED_UNLOCK_PAUSE_SECONDS = 0.5  # after each wrong passphrase or PIN: guessing stays slow


class UnlockScreen(ModalScreen[str]):
    """Asks for the passphrase of an encrypted data file before anything is shown; ctrl+q quits."""

    BINDINGS = [Binding("ctrl+q", "quit", "Quit", id="unlock.quit", priority=True)]

    def __init__(self, message: str, try_passphrase: Callable[[str], str | None]) -> None:
        super().__init__()
        self._message = message
        self._try = try_passphrase  # returns None when opened, else the reason it failed

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("slpterm is locked", classes="section-title")
            yield Static(self._message, id="unlock-message", markup=False)
            yield Input(password=True, placeholder="passphrase", id="unlock-passphrase")
            yield Static("", id="unlock-problem", classes="problems", markup=False)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def action_quit(self) -> None:
        self.app.exit()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.input.disabled = True
        self.query_one("#unlock-problem", Static).update("Opening…")
        self._attempt(event.value)

    @work(thread=True, exclusive=True)
    def _attempt(self, passphrase: str) -> None:
        problem = self._try(passphrase)
        self.app.call_from_thread(self._result, problem)

    def _result(self, problem: str | None) -> None:
        if problem is None:
            self.dismiss("opened")
            return
        box = self.query_one(Input)
        box.value = ""
        box.disabled = False
        box.focus()
        self.query_one("#unlock-problem", Static).update(problem)


class LockScreen(ModalScreen[None]):
    """Covers everything after the idle time (or ctrl+l) until the passphrase or PIN is entered.

    While it is up nothing else responds: the app refuses every other action and command (see
    ``SlpTermApp.check_action``), no notification shows, and ctrl+q saves what is pending and
    quits. The work underneath goes on untouched.
    """

    BINDINGS = [Binding("ctrl+q", "quit_saving", "Save and quit", id="lock.quit", priority=True)]
    DEFAULT_CSS = """
    LockScreen { background: $background 100%; }
    LockScreen #textual-toastrack { display: none; }
    """

    def __init__(self, security: SecurityService) -> None:
        super().__init__()
        self.security = security

    def compose(self) -> ComposeResult:
        security = self.security
        self._protected = security.can_verify_unlock()
        with Vertical(classes="dialog"):
            yield Static("slpterm is locked", classes="section-title")
            if self._protected:
                yield Static("Enter your passphrase or PIN to continue. A running session timer keeps running; "
                             "nothing you typed is lost.")
                yield Input(password=True, placeholder=self._placeholder(), id="lock-secret")
            else:
                yield Static("The screen is covered, but no PIN or passphrase is set, so Enter uncovers it. Set "
                             "one in Security (F12) so that only you can.")
                yield Button("Continue (Enter)", id="lock-continue", variant="primary")
            if not security.encrypted:
                yield Static("The data file is not encrypted: anyone with this laptop can read it after quitting.",
                             classes="problems")
            yield Static("", id="lock-problem", classes="problems", markup=False)
            yield Static("ctrl+q: save what you typed and quit", classes="chart-form-note")

    def _placeholder(self) -> str:
        return "passphrase" if self.security.pin_locked_out else "passphrase or PIN"

    def on_mount(self) -> None:
        (self.query_one("#lock-secret") if self._protected else self.query_one("#lock-continue")).focus()

    def action_quit_saving(self) -> None:
        problem = self.app.quit_saving_work()
        if problem:
            self.query_one("#lock-problem", Static).update(problem)

    @on(Input.Submitted, "#lock-secret")
    def _submitted(self, event: Input.Submitted) -> None:
        if not event.value:
            return
        event.input.disabled = True
        self._attempt(event.value)

    @work(thread=True, exclusive=True, group="unlock")
    def _attempt(self, secret: str) -> None:
        result = self.security.unlock(secret)
        if not result.ok:
            time.sleep(FAILED_UNLOCK_PAUSE_SECONDS)
        self.app.call_from_thread(self._result, result)

    def _result(self, result: UnlockResult) -> None:
        if result.ok:
            self.dismiss()
            self.app.mark_unlocked()
            return
        box = self.query_one("#lock-secret", Input)
        box.value = ""
        box.placeholder = self._placeholder()
        box.disabled = False
        box.focus()
        self.query_one("#lock-problem", Static).update(result.message)

    @on(Button.Pressed, "#lock-continue")
    def _continue(self) -> None:
        self.security.record("unlock", "app", "", {"with": "nothing (no PIN or passphrase set)"})
        self.dismiss()
        self.app.mark_unlocked()


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [Binding("escape", "no", "Later", id="confirm.no")]

    def __init__(self, question: str, yes: str = "Yes (Enter)", no: str = "Later (Esc)") -> None:
        super().__init__()
        self._question, self._yes, self._no = question, yes, no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self._question, markup=False)
            with Horizontal(classes="buttons"):
                yield Button(self._yes, id="yes", variant="primary")
                yield Button(self._no, id="no")

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()

    @on(Button.Pressed, "#yes")
    def _yes_pressed(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def _no_pressed(self) -> None:
        self.dismiss(False)

    def action_no(self) -> None:
        self.dismiss(False)


class SecurityScreen(Screen):
    """Passphrase (encryption at rest), lock PIN and idle lock time. Changing the PIN or the
    encryption needs the current passphrase (the current PIN when no passphrase is set)."""

    BINDINGS = [Binding("ctrl+s", "save", "Save", id="security.save"),
                Binding("escape", "back", "Back", id="security.back")]

    def __init__(self, services: ClinicServices) -> None:
        super().__init__()
        self.security = services.security

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="security-form"):
            yield Static("", id="security-status")
            with Grid(classes="form-grid"):
                yield Label("Current passphrase", classes="field-label", id="current-label")
                yield Input(password=True, compact=True, id="current-secret",
                            placeholder="needed to change the PIN or the encryption")
                yield Label("New passphrase", classes="field-label")
                yield Input(password=True, compact=True, id="passphrase",
                            placeholder="at least 8 characters; leave empty to keep the current one")
                yield Label("Repeat passphrase", classes="field-label")
                yield Input(password=True, compact=True, id="passphrase-again")
                yield Label("Lock PIN", classes="field-label")
                yield Input(password=True, compact=True, id="pin", placeholder="4-12 digits; empty keeps it")
                yield Label("Lock after (minutes)", classes="field-label")
                yield Input(compact=True, id="idle-minutes")
            yield Static("", id="security-problems", classes="problems")
            with Horizontal(classes="buttons"):
                yield Button("Save (ctrl+s)", id="save", variant="primary")
                yield Button("Remove encryption", id="decrypt")
                yield Button("Unencrypted backups…", id="plain-backups")
        yield Footer()

    def on_mount(self) -> None:
        security = self.security
        self.query_one("#idle-minutes", Input).value = str(security.idle_minutes())
        self._show_status()
        self.query_one("#current-secret" if self._needs_current() else "#passphrase", Input).focus()

    def _needs_current(self) -> bool:
        security = self.security
        return security.encrypted or security.has_pin()

    def _show_status(self) -> None:
        security = self.security
        if security.encrypted:
            status = "The data file is encrypted (SQLCipher). Changing the passphrase re-encrypts it."
        elif security.encryption_available():
            status = "⚠ The data file is NOT encrypted. Set a passphrase to encrypt it at rest."
        else:
            status = ("⚠ The data file is NOT encrypted, and this machine cannot encrypt it: install the "
                      "sqlcipher3 package (pip install sqlcipher3).")
        status += f"  Lock PIN: {'set' if security.has_pin() else 'not set'}."
        if security.has_pin() and not security.encrypted:
            status += " Without a passphrase the PIN only covers the screen: the file stays readable."
        self._plain_backups = security.plaintext_backups() if security.encrypted else []
        if self._plain_backups:
            status += (f"\n⚠ {len(self._plain_backups)} backup(s) made before encryption are not encrypted: "
                       "encrypt or delete them (Unencrypted backups…).")
        self.query_one("#plain-backups", Button).display = bool(self._plain_backups)
        self.query_one("#security-status", Static).update(status)
        label = "Current passphrase" if security.encrypted else "Current PIN"
        self.query_one("#current-label", Label).update(label)
        current = self.query_one("#current-secret", Input)
        current.placeholder = f"needed to change the PIN{' or the encryption' if security.encrypted else ''}"
        self.query_one("#current-label").display = current.display = self._needs_current()

    def _problems(self, lines: list[str]) -> None:
        self.query_one("#security-problems", Static).update("\n".join(f"• {line}" for line in lines))

    def action_save(self) -> None:
        security = self.security
        current = self.query_one("#current-secret", Input).value
        passphrase = self.query_one("#passphrase", Input).value
        again = self.query_one("#passphrase-again", Input).value
        pin = self.query_one("#pin", Input).value.strip()
        minutes = self.query_one("#idle-minutes", Input).value.strip()
        problems = []
        if passphrase != again:
            problems.append("Repeat passphrase: the two passphrases differ; type them again")
        if not minutes.isdigit():
            problems.append("Lock after: a whole number of minutes, e.g. 5")
        if problems:
            self._problems(problems)
            return
        was_encrypted = security.encrypted
        try:
            if pin or (passphrase and was_encrypted):  # checked before anything is changed
                security.require_current(current, "the lock PIN" if pin else "the encryption")
            if int(minutes) != security.idle_minutes():
                security.set_idle_minutes(int(minutes))
            if pin:
                security.set_pin(pin, current=current)
            if passphrase:
                security.set_passphrase(passphrase, current=current)
        except ValidationFailed as error:
            self._problems([f"{field}: {message}" for field, message in error.problems])
            return
        except StoreError as error:
            self._problems([str(error)])
            return
        for name in ("current-secret", "passphrase", "passphrase-again", "pin"):
            self.query_one(f"#{name}", Input).value = ""
        self._problems([])
        self._show_status()
        self.app.refresh_security_banner()
        if passphrase and not was_encrypted:
            self.notify("Saved. The data file is now encrypted.")
            if self._plain_backups:
                self._offer_plain_backups()
        elif passphrase:
            self.notify("Saved. The data file is re-encrypted with the new passphrase.")
        else:
            self.notify("Saved.")

    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#plain-backups")
    def _offer_plain_backups(self) -> None:
        backups = self._plain_backups
        if not backups:
            return
        listing = "\n".join(f"  {path}" for path in backups[:12]) + ("\n  …" if len(backups) > 12 else "")
        question = (f"These {len(backups)} backup(s) were made before the data file was encrypted; anyone with the "
                    f"laptop can read them:\n{listing}\nEncrypt them with the data file's passphrase, or delete them?")

        def answer(choice: str | None) -> None:
            if choice in ("encrypt", "delete"):
                self._treat_plain_backups(backups, choice)

        self.app.push_screen(ChoiceScreen(question, [("encrypt", "Encrypt them (Enter)"), ("delete", "Delete them"),
                                                     ("keep", "Keep them as they are (Esc)")]), answer)

    def _treat_plain_backups(self, backups: list[Path], choice: str) -> None:
        failed = []
        for path in backups:
            try:
                (self.security.encrypt_backup if choice == "encrypt" else self.security.delete_backup)(path)
            except StoreError as error:
                failed.append(str(error))
        self._show_status()
        done = "encrypted" if choice == "encrypt" else "deleted"
        if failed:
            self._problems(failed)
        self.notify(f"{len(backups) - len(failed)} backup(s) {done}.", severity="error" if failed else "information")

    @on(Button.Pressed, "#decrypt")
    def _decrypt(self) -> None:
        if not self.security.encrypted:
            self.notify("The data file is not encrypted.")
            return
        current = self.query_one("#current-secret", Input).value
        if not self.security.is_passphrase(current):
            self._problems(["Current passphrase: type the data file's passphrase to remove the encryption"])
            self.query_one("#current-secret", Input).focus()
            return

        def answer(yes: bool | None) -> None:
            if yes:
                try:
                    self.security.set_passphrase(None, current=current)
                except StoreError as error:
                    self._problems([str(error)])
                    return
                self.query_one("#current-secret", Input).value = ""
                self._problems([])
                self._show_status()
                self.app.refresh_security_banner()
                self.notify("The data file is no longer encrypted.", severity="warning")

        self.app.push_screen(ConfirmScreen("Remove encryption? Anyone with the laptop could then read the notes.",
                                           yes="Remove", no="Keep it (Esc)"), answer)

    def action_back(self) -> None:
        self.app.pop_screen()


class ChoiceScreen(ModalScreen[str]):
    """A question with a few answers as buttons; Esc gives the last one."""

    BINDINGS = [Binding("escape", "last", "Cancel", id="choice.cancel")]

    def __init__(self, question: str, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self._question, self._choices = question, choices

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self._question, markup=False)
            with Horizontal(classes="buttons"):
                for index, (value, label) in enumerate(self._choices):
                    yield Button(label, id=f"choice-{value}", variant="primary" if index == 0 else "default")

    def on_mount(self) -> None:
        self.query_one(Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss((event.button.id or "").removeprefix("choice-"))

    def action_last(self) -> None:
        self.dismiss(self._choices[-1][0])


class AuditScreen(Screen):
    """The audit trail, newest first, filtered as you type; ctrl+v verifies the hash chain."""

    BINDINGS = [Binding("escape", "back", "Back", id="audit.back"),
                Binding("ctrl+v", "verify", "Verify", id="audit.verify", priority=True),  # before the filter's paste
                Binding("up", "move(-1)", "Up", show=False, id="audit.up"),
                Binding("down", "move(1)", "Down", show=False, id="audit.down"),
                Binding("pageup", "move(-20)", "Page up", show=False, id="audit.page_up"),
                Binding("pagedown", "move(20)", "Page down", show=False, id="audit.page_down")]

    def __init__(self, services: ClinicServices) -> None:
        super().__init__()
        self.security = services.security

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="Filter: who, action, record or detail", id="audit-filter")
        yield VirtualTable([Column("#", 7), Column("When", 19), Column("Who", 24), Column("Action", 16),
                            Column("Record", 20), Column("Detail", 0)], id="audit-table")
        yield Static("", id="audit-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.security.record("view", "audit", "")
        self._load("")
        self.query_one(Input).focus()

    @on(Input.Changed, "#audit-filter")
    def _changed(self, event: Input.Changed) -> None:
        self._load(event.value)

    @work(thread=True, exclusive=True)
    def _load(self, text: str) -> None:
        entries = self.security.audit_entries(text, limit=5000)
        rows = [(str(e.seq), e.at.astimezone().strftime("%Y-%m-%d %H:%M:%S"), e.actor, e.action,
                 f"{e.entity} {e.entity_id[:8]}".strip(), e.detail.replace("\n", " ")) for e in entries]
        self.app.call_from_thread(self._show, rows)

    def _show(self, rows: list[tuple[str, ...]]) -> None:
        self.query_one(VirtualTable).set_rows(rows)
        self.query_one("#audit-status", Static).update(f"{len(rows)} entries shown (newest first)")

    def action_move(self, delta: int) -> None:
        self.query_one(VirtualTable).move_cursor(delta)

    def action_verify(self) -> None:
        self.query_one("#audit-status", Static).update("Checking the trail, its anchors and every signature…")
        self._verify()

    @work(thread=True, exclusive=True, group="audit-verify")
    def _verify(self) -> None:
        report = self.security.verify()
        self.app.call_from_thread(self._verified, report)

    def _verified(self, report) -> None:  # noqa: ANN001
        notes = " ".join(report.notes)
        if report.ok:
            self.notify(f"The audit trail holds: {report.chain.entries} entries, {report.chain.anchors_checked} "
                        f"anchor(s) and every signed note check out. {notes}".strip(), timeout=10)
        else:
            first = report.breaks[0]
            self.notify(f"The audit trail does not hold ({report.problem_count} problem(s)). First: {first.reason}",
                        severity="error", timeout=20)
        self.query_one("#audit-status", Static).update(
            "Verified: " + ("no problem found." if report.ok else f"{report.problem_count} problem(s); run "
                            "slpterm audit verify for the full list.") + (f" {notes}" if notes else ""))

    def action_back(self) -> None:
        self.app.pop_screen()

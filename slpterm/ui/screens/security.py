"""Unlocking, the idle lock, passphrase and PIN settings, backups and the audit trail."""

from __future__ import annotations

from typing import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Header, Input, Label, Static

from slpterm.store.errors import StoreError, ValidationFailed
from slpterm.ui.widgets.virtual_table import Column, VirtualTable


class UnlockScreen(ModalScreen[str]):
    """Asks for the passphrase of an encrypted data file before anything is shown."""

    BINDINGS = [Binding("ctrl+q", "app.quit", "Quit", id="unlock.quit", priority=True)]

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

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
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
        box.focus()
        self.query_one("#unlock-problem", Static).update(problem)


class LockScreen(ModalScreen[None]):
    """Covers the screen after the idle time (or ctrl+l); the work underneath goes on untouched."""

    BINDINGS = [Binding("ctrl+q", "noop", "", show=False, id="lock.no_quit", priority=True)]
    DEFAULT_CSS = "LockScreen { background: $background 100%; }"

    def compose(self) -> ComposeResult:
        store = self.app.store
        self._protected = store.security.can_verify_unlock()
        with Vertical(classes="dialog"):
            yield Static("slpterm is locked", classes="section-title")
            if self._protected:
                yield Static("Enter your passphrase or PIN to continue. A running session timer keeps running; "
                             "nothing you typed is lost.")
                yield Input(password=True, placeholder="passphrase or PIN", id="lock-secret")
            else:
                yield Static("The screen is covered. No PIN or passphrase is set, so Enter unlocks; set one in "
                             "Security (F12) so that only you can.")
                yield Button("Continue (Enter)", id="lock-continue", variant="primary")
            yield Static("", id="lock-problem", classes="problems")

    def on_mount(self) -> None:
        (self.query_one("#lock-secret") if self._protected else self.query_one("#lock-continue")).focus()

    def action_noop(self) -> None:
        self.query_one("#lock-problem", Static).update("Unlock first; quitting is possible once unlocked.")

    @on(Input.Submitted, "#lock-secret")
    def _submitted(self, event: Input.Submitted) -> None:
        if self.app.store.security.unlock(event.value):
            self.app.mark_unlocked()
            self.dismiss()
            return
        event.input.value = ""
        self.query_one("#lock-problem", Static).update("That is not the passphrase or PIN. Try again.")

    @on(Button.Pressed, "#lock-continue")
    def _continue(self) -> None:
        self.app.store.security.record("unlock", "app", "")
        self.app.mark_unlocked()
        self.dismiss()


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
    """Passphrase (encryption at rest), lock PIN and idle lock time."""

    BINDINGS = [Binding("ctrl+s", "save", "Save", id="security.save"),
                Binding("escape", "back", "Back", id="security.back")]

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="security-form"):
            yield Static("", id="security-status")
            with Grid(classes="form-grid"):
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
        yield Footer()

    def on_mount(self) -> None:
        security = self.app.store.security
        self.query_one("#idle-minutes", Input).value = str(security.idle_minutes())
        self._show_status()
        self.query_one("#passphrase", Input).focus()

    def _show_status(self) -> None:
        security = self.app.store.security
        from slpterm.store.crypto import encryption_available

        if security.encrypted:
            status = "The data file is encrypted (SQLCipher). Changing the passphrase re-encrypts it."
        elif encryption_available():
            status = "⚠ The data file is NOT encrypted. Set a passphrase to encrypt it at rest."
        else:
            status = ("⚠ The data file is NOT encrypted, and this machine cannot encrypt it: install the "
                      "sqlcipher3 package (pip install sqlcipher3).")
        status += f"  Lock PIN: {'set' if security.has_pin() else 'not set'}."
        self.query_one("#security-status", Static).update(status)

    def _problems(self, lines: list[str]) -> None:
        self.query_one("#security-problems", Static).update("\n".join(f"• {line}" for line in lines))

    def action_save(self) -> None:
        security = self.app.store.security
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
        try:
            security.set_idle_minutes(int(minutes))
            if pin:
                security.set_pin(pin)
            if passphrase:
                security.set_passphrase(passphrase)
        except ValidationFailed as error:
            self._problems([f"{field}: {message}" for field, message in error.problems])
            return
        except StoreError as error:
            self._problems([str(error)])
            return
        for name in ("passphrase", "passphrase-again", "pin"):
            self.query_one(f"#{name}", Input).value = ""
        self._problems([])
        self._show_status()
        self.app.refresh_security_banner()
        self.notify("Saved." + (" The data file is now encrypted." if passphrase else ""))

    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#decrypt")
    def _decrypt(self) -> None:
        if not self.app.store.security.encrypted:
            self.notify("The data file is not encrypted.")
            return

        def answer(yes: bool | None) -> None:
            if yes:
                try:
                    self.app.store.security.set_passphrase(None)
                except StoreError as error:
                    self._problems([str(error)])
                    return
                self._show_status()
                self.app.refresh_security_banner()

        self.app.push_screen(ConfirmScreen("Remove encryption? Anyone with the laptop could then read the notes.",
                                           yes="Remove", no="Keep it (Esc)"), answer)

    def action_back(self) -> None:
        self.app.pop_screen()


class AuditScreen(Screen):
    """The audit trail, newest first, filtered as you type; ctrl+v verifies the hash chain."""

    BINDINGS = [Binding("escape", "back", "Back", id="audit.back"),
                Binding("ctrl+v", "verify", "Verify chain", id="audit.verify"),
                Binding("up", "move(-1)", "Up", show=False, id="audit.up"),
                Binding("down", "move(1)", "Down", show=False, id="audit.down"),
                Binding("pageup", "move(-20)", "Page up", show=False, id="audit.page_up"),
                Binding("pagedown", "move(20)", "Page down", show=False, id="audit.page_down")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="Filter: who, action, record or detail", id="audit-filter")
        yield VirtualTable([Column("#", 7), Column("When", 19), Column("Who", 24), Column("Action", 16),
                            Column("Record", 20), Column("Detail", 0)], id="audit-table")
        yield Static("", id="audit-status")
        yield Footer()

    def on_mount(self) -> None:
        self.app.store.security.record("view", "audit", "")
        self._load("")
        self.query_one(Input).focus()

    @on(Input.Changed, "#audit-filter")
    def _changed(self, event: Input.Changed) -> None:
        self._load(event.value)

    @work(thread=True, exclusive=True)
    def _load(self, text: str) -> None:
        entries = self.app.store.security.audit_entries(text, limit=5000)
        rows = [(str(e.seq), e.at.astimezone().strftime("%Y-%m-%d %H:%M:%S"), e.actor, e.action,
                 f"{e.entity} {e.entity_id[:8]}".strip(), e.detail.replace("\n", " ")) for e in entries]
        self.app.call_from_thread(self._show, rows)

    def _show(self, rows: list[tuple[str, ...]]) -> None:
        self.query_one(VirtualTable).set_rows(rows)
        self.query_one("#audit-status", Static).update(f"{len(rows)} entries shown (newest first)")

    def action_move(self, delta: int) -> None:
        self.query_one(VirtualTable).move_cursor(delta)

    def action_verify(self) -> None:
        breaks = self.app.store.verify_audit_chain()
        if not breaks:
            self.notify("The audit trail is intact: every entry follows the one before it.")
        else:
            self.notify(f"The audit trail is broken at entry {breaks[0].seq}: {breaks[0].reason}",
                        severity="error", timeout=15)

    def action_back(self) -> None:
        self.app.pop_screen()

"""The slpterm application: navigation, the store's lifecycle and global keys."""

from __future__ import annotations

import gc
import sys
import threading
from pathlib import Path
from typing import Callable, Iterable

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from slpterm.domain.clock import Clock
from slpterm.store.caseload import CaseloadPreviewReader
from slpterm.ui.screens.caseload import CaseloadScreen
from slpterm.ui.screens.message import MessageScreen

# The other screens are imported when first shown, so the first frame comes sooner.

StorePreparer = Callable[[], "object"]
SWITCH_INTERVAL_SECONDS = 0.001


class SlpTermApp(App):
    """Build with :func:`build_app`; the store opens in a worker after the first frame."""

    TITLE = "slpterm"
    CSS_PATH = "slpterm.tcss"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("f1", "help", "Help", id="app.help"),
        Binding("f2", "caseload", "Caseload", id="app.caseload"),
        Binding("f3", "session", "Session", id="app.session"),
        Binding("f4", "export", "Export", id="app.export"),
        Binding("f5", "settings", "Settings", id="app.settings"),
        Binding("f12", "security", "Security", show=False, id="app.security"),
        Binding("ctrl+l", "lock", "Lock", show=False, id="app.lock", priority=True),
        Binding("ctrl+b", "backup", "Back up now", show=False, id="app.backup"),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
    ]
    IDLE_CHECK_SECONDS = 5

    def __init__(self, prepare_store: StorePreparer, *, clock: Clock | None = None,
                 demo: bool = False, open_with_passphrase: Callable[[str], object] | None = None,
                 caseload_preview: CaseloadPreviewReader | None = None, owns_process: bool = False,
                 ask_before_creating: bool = False) -> None:
        super().__init__()
        # The data directory was named (--data-dir, SLPTERM_DATA_DIR) and holds no data file yet: ask
        # before making a new clinic there (a mistyped folder must not become one quietly).
        self._ask_before_creating = ask_before_creating
        self._presence = None
        self.caseload_preview = caseload_preview
        # True when this app is the whole process (``slpterm``; never in tests, which run many apps in
        # one process): the cyclic collector was paused for start-up and is tuned for a long run, and
        # threads take turns every millisecond instead of every five, so a worker that reads the
        # database between short holds of the interpreter is not kept waiting while the screen draws.
        self._owns_process = owns_process
        if owns_process:
            sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
        self._prepare_store = prepare_store
        self._open_with_passphrase = open_with_passphrase
        self.clock = clock or Clock()
        self.demo = demo
        self.store = None
        self._last_input = self.clock.now()
        self._locked = False
        self._failed_unlocks = 0
        self._pending_actions: list[Callable[[], object]] = []
        if demo:
            self.sub_title = "demo clinic (fictional data, discarded on exit)"

    # -- start-up ---------------------------------------------------------------------------
    def get_default_screen(self) -> Screen:
        # The caseload is the bottom of the stack, so it is composed into the very first frame.
        return CaseloadScreen()

    def on_mount(self) -> None:
        self.call_after_refresh(self._first_frame_painted)

    def _first_frame_painted(self) -> None:
        if self._owns_process:
            gc.enable()  # paused by ``slpterm.cli`` while the interface was built
        # Start reading only now, so reading and the first frame do not compete.
        self.run_worker(self._open_store, thread=True, name="open-store", exit_on_error=False)

    def _open_store(self) -> None:
        from slpterm.store import PassphraseRequired, StoreError

        try:
            if self._ask_before_creating and not self._prepare_store.database.exists():
                self.call_from_thread(self._ask_new_clinic)
                return
            self._show_caseload_early()
            store = self._prepare_store()
        except PassphraseRequired as error:
            self.call_from_thread(self._ask_passphrase, str(error))
            return
        except StoreError as error:
            self.call_from_thread(self._store_failed, str(error))
            return
        except OSError as error:
            self.call_from_thread(self._store_failed, f"The data directory cannot be used: {error}")
            return
        self.call_from_thread(self._store_ready, store)

    def _show_caseload_early(self) -> None:
        """Show the caseload read straight from a plain data file while the store layer loads
        (an encrypted, missing or unreadable file is simply left to the store)."""
        database = getattr(self._prepare_store, "database", None)
        if database is None:
            return
        from slpterm.store.caseload import CaseloadFile

        source = CaseloadFile(database)
        try:
            index = source.index()
        except Exception:  # noqa: BLE001 - the store opens the file properly right after
            return
        painted = threading.Event()

        def show() -> None:
            self._early_index(index, source)
            self.call_after_refresh(painted.set)

        self.call_from_thread(show)
        # Let that frame be painted before the store's imports compete for the interpreter.
        painted.wait(timeout=2)

    def _early_index(self, index, source) -> None:  # noqa: ANN001
        from textual.css.query import NoMatches

        caseload = self._caseload_screen()
        if caseload is None or self.store is not None:
            source.close()
            return
        try:
            caseload.show_index(index, source)
        except NoMatches:
            source.close()  # not composed yet; the store's index follows

    def _ask_new_clinic(self) -> None:
        from slpterm.ui.screens.new_clinic import NewClinicScreen

        def answered(create: bool | None) -> None:
            if not create:
                self.exit(return_code=1, message=f"No clinic was created in {self._prepare_store.database.parent}.")
                return
            self._ask_before_creating = False
            self.run_worker(self._open_store, thread=True, name="open-store", exit_on_error=False)

        self.push_screen(NewClinicScreen(self._prepare_store.database.parent), answered)

    def _store_failed(self, message: str) -> None:
        self.push_screen(MessageScreen("slpterm cannot open its data", message, quit_on_close=True))

    def _ask_passphrase(self, message: str) -> None:
        from slpterm.ui.screens.security import UnlockScreen

        def attempt(passphrase: str) -> str | None:
            from slpterm.store import StoreError

            try:
                store = self._open_with_passphrase(passphrase)
            except StoreError as error:
                self._failed_unlocks += 1
                return str(error)
            self.call_from_thread(self._store_ready, store)
            return None

        self.push_screen(UnlockScreen(message, attempt))

    def _store_ready(self, store) -> None:  # noqa: ANN001
        from slpterm.store.errors import StoreError

        self.store = store
        if self._owns_process:
            self._freeze_long_lived_objects()
        clinicians = store.clinic.clinicians()
        if clinicians:
            store.actor = clinicians[0].display_name
        try:
            for _ in range(self._failed_unlocks):
                store.security.record("unlock-failed", "app", "", "wrong passphrase at start")
            store.security.record("open", "app", "", {"data_file": str(store.path)})
        except StoreError as error:
            self.notify(str(error), severity="error", timeout=10)
        self._failed_unlocks = 0
        self._note_other_app(store)
        self.refresh_security_banner()
        self._last_input = self.clock.now()
        self.set_interval(self.IDLE_CHECK_SECONDS, self.check_idle_lock)
        caseload = self._caseload_screen()
        if caseload is not None:
            caseload.store_opened()
        if not store.clinic.is_set_up():
            from slpterm.ui.screens.settings import FirstRunScreen

            self.push_screen(FirstRunScreen())
        elif not self.demo:
            self._offer_backup()

    def _note_other_app(self, store) -> None:  # noqa: ANN001
        if self.demo:
            return
        from slpterm.store.folder_lock import AppPresence

        self._presence = AppPresence(store.data_dir)
        if not self._presence.first:
            self.notify("Another slpterm app is already open on this data. Both can work safely: every change is "
                        "saved at once and the other sees it when it reads again. Avoid editing the same note in "
                        "both.", title="Open twice", severity="warning", timeout=20)

    async def action_quit(self) -> None:
        """Store any note text still waiting for its autosave, then quit."""
        for screen in self.screen_stack:
            save_note = getattr(screen, "save_note", None)
            if save_note is not None and self.store is not None:
                save_note()
        self.exit()

    @staticmethod
    def _freeze_long_lived_objects() -> None:
        """What is alive once the store is open (modules, the store, the first screen) lives as long
        as the app. Leaving it out of later collections keeps each full collection short, so a
        keystroke that meets one hardly waits (at 100,000 patients: 80 ms -> a few ms)."""
        import slpterm.services.due  # noqa: F401 - used by the caseload right after; frozen with the rest
        import slpterm.services.progress  # noqa: F401

        gc.collect()
        gc.freeze()

    def _offer_backup(self) -> None:
        from slpterm.store.backup import backup_is_due

        if backup_is_due(self.store, self.clock.now()):
            self.notify("The last backup is more than a week old (or there is none). Press ctrl+b to back up now; "
                        "the copy is encrypted like your data.", title="Backup", timeout=15)

    def refresh_security_banner(self) -> None:
        if self.demo or self.store is None:
            return
        self.sub_title = "" if self.store.security.encrypted else "⚠ data not encrypted: set a passphrase (F12)"

    # -- idle lock ------------------------------------------------------------------------------
    async def on_event(self, event) -> None:  # noqa: ANN001
        from textual import events

        if isinstance(event, (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp)):
            self._last_input = self.clock.now()
        await super().on_event(event)

    def check_idle_lock(self) -> None:
        if self.store is None or self._locked:
            return
        idle = (self.clock.now() - self._last_input).total_seconds()
        if idle >= self.store.security.idle_minutes() * 60:
            self.action_lock()

    def action_lock(self) -> None:
        if self.store is None or self._locked:
            return
        from slpterm.ui.screens.security import LockScreen

        self._locked = True
        self.store.security.record("lock", "app", "")
        self.push_screen(LockScreen())

    def mark_unlocked(self) -> None:
        self._locked = False
        self._last_input = self.clock.now()

    @property
    def is_locked(self) -> bool:
        return self._locked

    def action_billing_settings(self) -> None:
        from slpterm.ui.screens.billing_settings import BillingSettingsScreen

        self._show(BillingSettingsScreen, BillingSettingsScreen)

    def action_school(self) -> None:
        from slpterm.ui.screens.school import SchoolScreen

        self._show(SchoolScreen, SchoolScreen)

    def action_walkthrough(self) -> None:
        from slpterm.ui.screens.help import WalkthroughScreen

        self.push_screen(WalkthroughScreen())

    def action_security(self) -> None:
        from slpterm.ui.screens.security import SecurityScreen

        self._show(SecurityScreen, SecurityScreen)

    def action_audit(self) -> None:
        from slpterm.ui.screens.security import AuditScreen

        self._show(AuditScreen, AuditScreen)

    def action_backup(self) -> None:
        if self.store is None:
            return
        self._backup()

    @work(thread=True, exclusive=True, group="backup")
    def _backup(self) -> None:
        from slpterm.store.backup import backup_store
        from slpterm.store.errors import StoreError

        try:
            target = backup_store(self.store)
        except StoreError as error:
            self.call_from_thread(self.notify, str(error), severity="error", timeout=10)
            return
        self.call_from_thread(self.notify, f"Backup written to {target}", timeout=8)

    def _caseload_screen(self) -> CaseloadScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, CaseloadScreen):
                return screen
        return None

    # -- navigation ---------------------------------------------------------------------------
    def when_ready(self, action: Callable[[], object]) -> None:
        """Run ``action`` now, or as soon as the data file is open (the caseload can show earlier)."""
        if self.store is not None:
            action()
        else:
            self._pending_actions.append(action)

    def _show(self, screen_type: type[Screen], factory: Callable[[], Screen]) -> None:
        if isinstance(self.screen, screen_type):
            return
        self.when_ready(lambda: None if isinstance(self.screen, screen_type) else self.push_screen(factory()))

    def _on_caseload(self, action: str) -> None:
        self.action_caseload()
        caseload = self._caseload_screen()
        if caseload is not None and self.store is not None:
            getattr(caseload, action)()

    def action_caseload(self) -> None:
        while len(self.screen_stack) > 1 and not isinstance(self.screen, CaseloadScreen):
            self.pop_screen()

    def action_session(self) -> None:
        """Start a session for the patient in view, or resume an unsigned draft."""
        from slpterm.ui.screens.session import SessionScreen

        if isinstance(self.screen, SessionScreen):
            return
        if self.store is None:
            self.when_ready(self.action_session)
            return
        from slpterm.services.session_flow import SessionFlow
        from slpterm.ui.screens.new_session import NewSessionScreen, SessionRequest

        store = self.store
        patient_id = getattr(self.screen, "selected_patient_id", None) or getattr(self.screen, "patient_id", None)
        unsigned = store.sessions.unsigned_drafts()
        wanted = ([patient_id] if patient_id else []) + [participant.patient_id for participant, _ in unsigned]
        rows = store.caseload.details(wanted)
        names = {row.patient_id: row.name for row in rows.values() if not row.archived}
        chosen = [(patient_id, names[patient_id])] if patient_id in names else []
        drafts = []
        for participant, therapy_session in unsigned:
            name = names.get(participant.patient_id, "archived patient")
            drafts.append((participant.id, f"{therapy_session.date_of_service.isoformat()}  {name}  "
                                           f"{therapy_session.session_type.replace('_', ' ')}"))
        if not chosen and not drafts:
            self.notify("Choose a patient on the caseload first (F2), then press F3.", severity="warning")
            return
        last = store.sessions.for_patient(patient_id) if chosen else []
        default_type = last[0][1].session_type if last else "individual_treatment"
        default_setting = last[0][1].setting if last else "office"
        flow = SessionFlow(store, self.clock)

        def start(request: SessionRequest) -> str:
            participants = flow.start(
                patient_ids=request.patient_ids, session_type=request.session_type, setting=request.setting,
                date_text=request.date_of_service_text, clinician_id=request.clinician_id,
                evaluation_kind=request.evaluation_kind, aac_device=request.aac_device,
            )
            return participants[0]

        def opened(participant_id: str | None) -> None:
            if participant_id:
                self.push_screen(SessionScreen(participant_id))

        self.push_screen(NewSessionScreen(
            start=start, patients=chosen, find_patients=self._caseload_screen().find_patients, drafts=drafts,
            clinicians=[(c.display_name, c.id) for c in store.clinic.clinicians()], today=self.clock.today(),
            default_type=default_type if chosen else "individual_treatment",
            default_setting=default_setting if chosen else "office",
        ), opened)

    def action_export(self) -> None:
        from slpterm.ui.screens.export import ExportScreen

        self._show(ExportScreen, ExportScreen)

    def action_settings(self) -> None:
        from slpterm.ui.screens.settings import SettingsScreen

        self._show(SettingsScreen, SettingsScreen)

    def action_help(self) -> None:
        from slpterm.ui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Caseload", "Go to the caseload (F2)", self.action_caseload)
        yield SystemCommand("New patient", "Create a patient chart (ctrl+n on the caseload)",
                            lambda: self._on_caseload("action_new_patient"))
        yield SystemCommand("Import patients", "Check and import a CSV patient list (ctrl+o on the caseload)",
                            lambda: self._on_caseload("action_import_patients"))
        yield SystemCommand("Session", "Open the session screen (F3)", self.action_session)
        yield SystemCommand("Export", "Export coded encounters (F4)", self.action_export)
        yield SystemCommand("School minutes", "IEP minutes required vs delivered; service log (F6 on the caseload)",
                            self.action_school)
        yield SystemCommand("First-session walkthrough", "Step by step from opening slpterm to a signed note",
                            self.action_walkthrough)
        if hasattr(screen, "action_progress_report"):
            yield SystemCommand("Progress report", "Write or open this patient's progress report (w)",
                                screen.action_progress_report)
        yield SystemCommand("Settings", "Clinic, clinicians and billing settings (F5)", self.action_settings)
        yield SystemCommand("Keys and help", "Every key on every screen (F1)", self.action_help)
        yield SystemCommand("Fees and payer rules", "The fee schedule and each payer's billing policy",
                            self.action_billing_settings)
        yield SystemCommand("Security", "Passphrase (encryption), lock PIN and idle lock (F12)", self.action_security)
        yield SystemCommand("Lock now", "Cover the screen until the passphrase or PIN is entered (ctrl+l)",
                            self.action_lock)
        yield SystemCommand("Back up now", "Write a consistent, encrypted copy of the data file", self.action_backup)
        yield SystemCommand("Audit trail", "Who did what and when; verify the hash chain", self.action_audit)

    def on_unmount(self) -> None:
        if self.store is not None:
            self.store.close()
        if self._presence is not None:
            self._presence.close()


def build_app(data_dir: Path, *, clock: Clock | None = None, demo_source: Path | None = None,
              caseload_preview: CaseloadPreviewReader | None = None, owns_process: bool = False,
              ask_before_creating: bool = False) -> SlpTermApp:
    """The app on ``data_dir``; with ``demo_source`` set, the demo clinic is generated there first.
    ``caseload_preview`` is a reader already started on the data file and ``owns_process`` says the
    app is the whole ``slpterm`` process (both from ``slpterm.cli``); ``ask_before_creating`` asks
    before a new clinic is made in a ``data_dir`` without a data file."""

    def open_with_passphrase(passphrase: str):  # noqa: ANN202
        from slpterm.store import open_store

        return open_store(data_dir, passphrase)

    def prepare():  # noqa: ANN202
        from slpterm.store import open_store

        if demo_source is not None:
            from slpterm.demo import generate_demo

            generate_demo(demo_source)
            return open_store(demo_source)
        return open_store(data_dir)

    if demo_source is None:
        prepare.database = Path(data_dir) / "slpterm.sqlite3"  # the store's DATABASE_FILE_NAME
    return SlpTermApp(prepare, clock=clock, demo=demo_source is not None, open_with_passphrase=open_with_passphrase,
                      caseload_preview=caseload_preview, owns_process=owns_process,
                      ask_before_creating=ask_before_creating and demo_source is None)

"""The slpterm application: navigation, the store's lifecycle and global keys."""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from rich.segment import Segment
from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.color import Color
from textual.filter import LineFilter
from textual.notifications import SeverityLevel
from textual.screen import Screen

from slpterm.domain.clock import Clock
from slpterm.domain.errors import PassphraseRequired, StoreError
from slpterm.domain.text import without_control_characters
from slpterm.services.opening import (
    AppPresence,
    CaseloadFile,
    CaseloadPreviewReader,
    database_file,
    open_data_folder,
    open_throwaway_folder,
)
from slpterm.ui import screens
from slpterm.ui.roles import HoldsUnsavedText, ShowsAPatient, WritesProgressReports
from slpterm.ui.screens.caseload import CaseloadScreen
from slpterm.ui.screens.message import MessageScreen
from slpterm.ui.typeahead import TypeAhead

if TYPE_CHECKING:
    from slpterm.services.clinic import ClinicServices
    from slpterm.services.opening import Store

# The other screens are imported when first shown, so the first frame comes sooner.

StorePreparer = Callable[[], "Store"]
SWITCH_INTERVAL_SECONDS = 0.001
ANCHOR_EVERY_SECONDS = 60
# What still works while the lock (or the passphrase prompt at start) covers the screen: moving
# between its own fields. Its unlock field and its ctrl+q (save and quit) are its own.
ACTIONS_WHILE_LOCKED = frozenset({"focus_next", "focus_previous"})
LOCKED_SUB_TITLE = "locked"
FILTER_EDITING_KEYS = frozenset({"backspace", "delete", "left", "right", "home", "end"})


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
                 demo: bool = False, open_with_passphrase: Callable[[str], Store] | None = None,
                 caseload_preview: CaseloadPreviewReader | None = None, owns_process: bool = False,
                 ask_before_creating: bool = False, database: Path | None = None) -> None:
        super().__init__()
        # The data directory was named (--data-dir, SLPTERM_DATA_DIR) and holds no data file yet: ask
        # before making a new clinic there (a mistyped folder must not become one quietly).
        self._ask_before_creating = ask_before_creating
        self._presence: AppPresence | None = None
        # The data file (None for the demo, generated first): read for the first frame, and asked
        # about before a new clinic is made there.
        self._database = database
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
        self._store: Store | None = None
        # Built once the data file is open; screens are handed these (never the store).
        self.services: ClinicServices | None = None
        self._last_input = self.clock.now()
        self._locked = False
        self._awaiting_passphrase = False
        self._held_notifications: list[tuple[str, dict]] = []
        self._titles_while_unlocked: tuple[str, str] | None = None
        self._last_anchor_at = self.clock.now()
        self._crash: BaseException | None = None
        self._printable_lines = PrintableLines()
        self._pending_actions: list[Callable[[], object]] = []
        self.typeahead = TypeAhead(self, self._may_deliver)
        if demo:
            self.sub_title = "demo clinic (fictional data, discarded on exit)"

    # -- start-up ---------------------------------------------------------------------------
    def get_default_screen(self) -> Screen:
        # The caseload is the bottom of the stack, so it is composed into the very first frame.
        preview, self.caseload_preview = self.caseload_preview, None  # only the first caseload uses it
        return CaseloadScreen(preview)

    def on_mount(self) -> None:
        self._apply_preferences()
        self.call_after_refresh(self._first_frame_painted)

    # -- the user's keymap and theme (slpterm.preferences) ---------------------------------------------
    def _apply_preferences(self) -> None:
        from slpterm.preferences import read_keymap, remembered_theme

        theme = remembered_theme()
        if theme in self.available_themes:
            self.theme = theme
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        reading = read_keymap()
        self._keymap_reading = reading
        if reading.keymap:
            self.set_keymap(reading.keymap)
        if reading.problems:
            self._keymap_problems(reading.problems)

    def _theme_changed(self, theme) -> None:  # noqa: ANN001 - textual.theme.Theme
        from slpterm.preferences import remember_theme

        try:
            remember_theme(theme.name)
        except OSError as error:
            self.notify(f"The theme could not be remembered for next time: {error}", severity="warning")

    def _check_keymap_ids(self) -> None:
        """After the first frame: every binding id in the keymap file must name a binding."""
        reading = getattr(self, "_keymap_reading", None)
        if reading is None or not reading.keymap:
            return
        from slpterm.preferences import unknown_binding_problems
        from slpterm.ui.keymap import binding_ids

        problems = unknown_binding_problems(reading.keymap, binding_ids())
        if problems:
            self._keymap_problems(problems)

    def _keymap_problems(self, problems: list[str]) -> None:
        path = self._keymap_reading.path
        self.notify("\n".join(f"• {problem}" for problem in problems) + f"\n(in {path}; the other keys apply)",
                    title="Keymap", severity="error", timeout=30, markup=False)

    def handle_bindings_clash(self, clashed_bindings: set[Binding], node) -> None:  # noqa: ANN001
        """A remapped key took the key of another binding: say which lost its key, once."""
        lost = sorted(binding.id or binding.action for binding in clashed_bindings)
        reported = self.__dict__.setdefault("_clashes_reported", set())
        if tuple(lost) in reported:
            return
        reported.add(tuple(lost))
        self.notify(f"The keymap gives the key of {', '.join(lost)} to another binding, so it has no key now; "
                    "give it a key of its own in the keymap file.", title="Keymap", severity="warning",
                    timeout=20, markup=False)

    def _first_frame_painted(self) -> None:
        if self._owns_process:
            gc.enable()  # paused by ``slpterm.cli`` while the interface was built
        # Start reading only now, so reading and the first frame do not compete.
        self.run_worker(self._open_store, thread=True, name="open-store", exit_on_error=False)

    def _open_store(self) -> None:
        try:
            if self._ask_before_creating and self._database is not None and not self._database.exists():
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
        database = self._database
        if database is None:
            return
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
        if caseload is None or self.services is not None:
            source.close()
            return
        try:
            caseload.show_index(index, source)
        except NoMatches:
            source.close()  # not composed yet; the store's index follows

    def _ask_new_clinic(self) -> None:
        assert self._database is not None  # asked only about a named data file
        folder = self._database.parent

        def answered(create: bool | None) -> None:
            if not create:
                self.exit(return_code=1, message=f"No clinic was created in {folder}.")
                return
            self._ask_before_creating = False
            self.run_worker(self._open_store, thread=True, name="open-store", exit_on_error=False)

        self.push_screen(screens.NewClinicScreen(folder), answered)

    def _store_failed(self, message: str) -> None:
        self.push_screen(MessageScreen("slpterm cannot open its data", message, quit_on_close=True))

    def _ask_passphrase(self, message: str) -> None:
        open_with_passphrase = self._open_with_passphrase
        assert open_with_passphrase is not None  # asked only by an app that can open with one

        def attempt(passphrase: str) -> str | None:
            try:
                store = open_with_passphrase(passphrase)  # a wrong one is noted at once (build_app)
            except StoreError as error:
                return str(error)
            self.call_from_thread(self._store_ready, store)
            return None

        self._awaiting_passphrase = True
        self.push_screen(screens.UnlockScreen(message, attempt))

    @property
    def store(self) -> Store | None:
        """The open data file's store, for tests and ``slpterm.bench``; screens use :attr:`services`."""
        return self._store

    def _store_ready(self, store: Store) -> None:
        from slpterm.services.clinic import build_services

        services = build_services(store, self.clock)
        self._store, self.services = store, services
        self._awaiting_passphrase = False
        if self._owns_process:
            self._freeze_long_lived_objects()
        services.clinic.act_as_first_clinician()
        try:
            tampered = services.security.opened()
            if tampered:
                self.notify(tampered, title="Audit trail", severity="error", timeout=30)
        except StoreError as error:
            self.notify(str(error), severity="error", timeout=10)
        self._release_notifications()
        self._note_other_app(services)
        self.refresh_security_banner()
        self._last_input = self.clock.now()
        self.set_interval(self.IDLE_CHECK_SECONDS, self.check_idle_lock)
        caseload = self._caseload_screen()
        if caseload is not None:
            caseload.store_opened(services)
        if not services.clinic.is_set_up():
            self.push_screen(screens.FirstRunScreen(services))
        elif not self.demo:
            self._offer_backup()
        pending, self._pending_actions = self._pending_actions, []
        for action in pending:
            action()
        self._check_keymap_ids()

    def _note_other_app(self, services: ClinicServices) -> None:
        if self.demo:
            return
        self._presence = AppPresence(services.security.data_dir)
        if not self._presence.first:
            self.notify("Another slpterm app is already open on this data. Both can work safely: every change is "
                        "saved at once and the other sees it when it reads again. Avoid editing the same note in "
                        "both.", title="Open twice", severity="warning", timeout=20)

    async def action_quit(self) -> None:
        """Store any note text still waiting for its autosave, then quit."""
        for screen in self.screen_stack:
            if isinstance(screen, HoldsUnsavedText) and self.services is not None:
                screen.save_note()
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
        if self.services is None:
            return
        security = self.services.security
        if security.backup_is_due():
            protection = ("the copy is encrypted with your passphrase, like your data" if security.encrypted
                          else "like your data, the copy is not encrypted until you set a passphrase (F12)")
            self.notify("The last backup is more than a week old (or there is none). Press ctrl+b to back up now; "
                        f"{protection}.", title="Backup", timeout=15)

    def refresh_security_banner(self) -> None:
        if self.demo or self.services is None:
            return
        banner = "" if self.services.security.encrypted else "⚠ data not encrypted: set a passphrase (F12)"
        if self._titles_while_unlocked is not None:
            self._titles_while_unlocked = (self._titles_while_unlocked[0], banner)
        else:
            self.sub_title = banner

    # -- idle lock ------------------------------------------------------------------------------
    async def on_event(self, event) -> None:  # noqa: ANN001
        from textual import events

        if isinstance(event, (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp)):
            self._last_input = self.clock.now()
        if self.typeahead.wants(event) and not self.typeahead.is_released(event):
            self.typeahead.hold(event)  # delivered, in order, once what the keys before it set off is done
            return
        await super().on_event(event)

    def _may_deliver(self, event) -> bool:  # noqa: ANN001
        """Until the data file is open the caseload takes only typing into its filter; any other key
        waits for the store (F3, Enter and the like need it), and so do the keys typed after it."""
        if self.services is not None or not isinstance(self.screen, CaseloadScreen):
            return True
        from textual import events
        from textual.widgets import Input

        return (isinstance(event, events.Key) and isinstance(self.focused, Input)
                and (event.is_printable or event.key in FILTER_EDITING_KEYS))

    def check_idle_lock(self) -> None:
        if self.services is None:
            return
        if self._locked:
            self._keep_locked()
            return
        now = self.clock.now()
        if (now - self._last_anchor_at).total_seconds() >= ANCHOR_EVERY_SECONDS:
            self._anchor("running")
        idle = (now - self._last_input).total_seconds()
        if idle >= self.services.security.idle_minutes() * 60:
            self.action_lock()

    def action_lock(self) -> None:
        if self.services is None or self._locked:
            return
        self._locked = True
        self.clear_notifications()
        self._titles_while_unlocked = (self.title, self.sub_title)
        self.title, self.sub_title = self.TITLE, LOCKED_SUB_TITLE
        self.push_screen(screens.LockScreen(self.services.security))
        try:
            self.services.security.record("lock", "app", "")
        except StoreError as error:
            self.notify(str(error), severity="error", timeout=10)  # held until unlocked
        self._anchor("lock")

    def _keep_locked(self) -> None:
        """The lock screen is the top screen for as long as the app is locked, whatever happened."""
        if self.services is not None and not any(isinstance(screen, screens.LockScreen)
                                                 for screen in self.screen_stack):
            self.push_screen(screens.LockScreen(self.services.security))

    def mark_unlocked(self) -> None:
        self._locked = False
        self._last_input = self.clock.now()
        if self._titles_while_unlocked is not None:
            self.title, self.sub_title = self._titles_while_unlocked
            self._titles_while_unlocked = None
        self._release_notifications()

    @property
    def is_locked(self) -> bool:
        """True while the lock or the start-up passphrase prompt covers the screen."""
        return self._locked or self._awaiting_passphrase

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.is_locked and action not in ACTIONS_WHILE_LOCKED:
            return False
        return super().check_action(action, parameters)

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",  # type: ignore[override]
               timeout: float | None = None, markup: bool = True) -> None:
        """Messages that arrive while locked wait until it is unlocked (they may name a patient)."""
        if self.is_locked:
            self._held_notifications.append((message, {"title": title, "severity": severity, "timeout": timeout,
                                                       "markup": markup}))
            return
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def _release_notifications(self) -> None:
        held, self._held_notifications = self._held_notifications, []
        for message, options in held:
            self.notify(message, **options)

    def save_pending_work(self) -> bool:
        """Save what screens hold unsaved (their own save paths); False when something could not be saved."""
        saved = True
        for screen in self.screen_stack:
            if isinstance(screen, HoldsUnsavedText) and screen.save_note() is False:
                saved = False
        return saved

    def quit_saving_work(self) -> str | None:
        """Quit after saving what is pending; returns why not when something could not be saved."""
        if not self.save_pending_work():
            return ("What you typed could not be saved, so slpterm stays open and keeps it. Unlock to see why "
                    "and save again.")
        self.exit()  # the audit anchor is written as the store closes
        return None

    def _anchor(self, reason: str) -> None:
        """Write the audit trail's head outside the data file, in a thread."""
        if self.services is None:
            return
        self._last_anchor_at = self.clock.now()
        security = self.services.security
        self.run_worker(lambda: security.write_anchor(reason), thread=True, group="anchor", exit_on_error=False)

    def get_line_filters(self):  # noqa: ANN201
        # Whatever a widget shows, control characters from the data never reach the terminal.
        return [*super().get_line_filters(), self._printable_lines]

    def _handle_exception(self, error: Exception) -> None:
        self._crash = error
        super()._handle_exception(error)

    def _fatal_error(self) -> None:
        """An unexpected error: a private report without patient data, and one plain line on the
        terminal (never a traceback with local variables, which can hold notes and the passphrase)."""
        from rich.text import Text

        from slpterm.crash import crash_line, write_crash_report

        self.bell()
        self.panic(Text(crash_line(write_crash_report(self._crash) if self._crash is not None else None)))

    def action_billing_settings(self) -> None:
        self._show(screens.BillingSettingsScreen)

    def action_rules(self) -> None:
        self._show(screens.RulesScreen)

    def action_school(self) -> None:
        self._show(screens.SchoolScreen)

    def action_walkthrough(self) -> None:
        self.push_screen(screens.WalkthroughScreen())

    def action_security(self) -> None:
        self._show(screens.SecurityScreen)

    def action_audit(self) -> None:
        self._show(screens.AuditScreen)

    def action_backup(self) -> None:
        if self.services is None:
            return
        self._backup()

    @work(thread=True, exclusive=True, group="backup")
    def _backup(self) -> None:
        if self.services is None:
            return
        security = self.services.security
        try:
            target = security.backup()
        except StoreError as error:
            self.call_from_thread(self.notify, str(error), severity="error", timeout=10)
            return
        protection = "encrypted" if security.encrypted else "not encrypted: the data file has no passphrase"
        self.call_from_thread(self.notify, f"Backup written to {target} ({protection})", timeout=8)

    def _caseload_screen(self) -> CaseloadScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, CaseloadScreen):
                return screen
        return None

    # -- navigation ---------------------------------------------------------------------------
    def when_ready(self, action: Callable[[], object]) -> None:
        """Run ``action`` now, or as soon as the data file is open (the caseload can show earlier)."""
        if self.services is not None:
            action()
        else:
            self._pending_actions.append(action)

    def _show(self, screen_type: Callable[[ClinicServices], Screen]) -> None:
        """Push ``screen_type`` (handed the services) unless it is on top; waits for the data file."""
        if isinstance(self.screen, screen_type):  # type: ignore[arg-type]  # a Screen class
            return

        def show() -> None:
            if self.services is not None and not isinstance(self.screen, screen_type):  # type: ignore[arg-type]
                self.push_screen(screen_type(self.services))

        self.when_ready(show)

    def _on_caseload(self, action: Callable[[CaseloadScreen], object]) -> None:
        self.action_caseload()
        caseload = self._caseload_screen()
        if caseload is not None and self.services is not None:
            action(caseload)

    def action_caseload(self) -> None:
        while len(self.screen_stack) > 1 and not isinstance(self.screen, CaseloadScreen):
            self.pop_screen()

    def action_session(self) -> None:
        """Start a session for the patient in view, or resume an unsigned draft."""
        if isinstance(self.screen, screens.SessionScreen):
            return
        if self.services is None:
            self.when_ready(self.action_session)
            return
        self.open_session_dialog()

    def open_session_dialog(self, patients: list[tuple[str, str]] | None = None, default_type: str | None = None,
                            default_setting: str | None = None) -> None:
        """The start dialog for the patient in view, or for ``patients`` with the given type and
        setting (an appointment of the Today screen)."""
        services = self.services
        assert services is not None
        patient_id = self.screen.patient_in_view if isinstance(self.screen, ShowsAPatient) else None
        flow = services.session_flow()
        choices = flow.start_choices(patient_id if patients is None else None)
        if patients is not None:
            choices = replace(choices, patients=patients, default_type=default_type or choices.default_type,
                              default_setting=default_setting or choices.default_setting)
        if not choices.patients and not choices.drafts:
            self.notify("Choose a patient on the caseload first (F2), then press F3.", severity="warning")
            return

        carried_cues: dict[str, str] = {}

        def start(request: screens.SessionRequest) -> str:
            participants = flow.start(
                patient_ids=request.patient_ids, session_type=request.session_type, setting=request.setting,
                date_text=request.date_of_service_text, clinician_id=request.clinician_id,
                evaluation_kind=request.evaluation_kind, aac_device=request.aac_device,
            )
            if request.carry_forward and choices.carry_forward is not None:
                carried = flow.carry_forward(participants[0], choices.carry_forward)
                carried_cues.update(carried.cue_levels)
            return participants[0]

        def opened(participant_id: str | None) -> None:
            if participant_id:
                self.push_screen(screens.SessionScreen(services, participant_id, start_cues=carried_cues))

        caseload = self._caseload_screen()
        assert caseload is not None  # the bottom of the stack
        self.push_screen(screens.NewSessionScreen(
            flow, start=start, patients=choices.patients, find_patients=caseload.find_patients,
            drafts=choices.drafts, clinicians=choices.clinicians, today=self.clock.today(),
            default_type=choices.default_type, default_setting=choices.default_setting,
            discard_draft=lambda participant_id: flow.discard(participant_id, "draft discarded by the clinician"),
            carry_forward=choices.carry_forward.summary if choices.carry_forward is not None else None,
        ), opened)

    def action_export(self) -> None:
        self._show(screens.ExportScreen)

    def action_today(self) -> None:
        self._show(screens.TodayScreen)

    def action_settings(self) -> None:
        self._show(screens.SettingsScreen)

    def action_help(self) -> None:
        if not isinstance(self.screen, screens.HelpScreen):
            self.push_screen(screens.HelpScreen(self.screen))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        if self.is_locked:
            return
        for command in self._system_commands(screen):
            yield command._replace(callback=self._unless_locked(command.callback))

    def _unless_locked(self, callback: Callable[[], object]) -> Callable[[], object]:
        def run() -> object:
            return None if self.is_locked else callback()

        return run

    def _system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Caseload", "Go to the caseload (F2)", self.action_caseload)
        yield SystemCommand("New patient", "Create a patient chart (ctrl+n on the caseload)",
                            lambda: self._on_caseload(CaseloadScreen.action_new_patient))
        yield SystemCommand("Import patients", "Check and import a CSV patient list (ctrl+o on the caseload)",
                            lambda: self._on_caseload(CaseloadScreen.action_import_patients))
        yield SystemCommand("Session", "Open the session screen (F3)", self.action_session)
        yield SystemCommand("Today", "Today's appointments: start a visit, record a cancellation or no-show "
                            "(F7 on the caseload)", self.action_today)
        yield SystemCommand("Export", "Export coded encounters (F4)", self.action_export)
        yield SystemCommand("School minutes", "IEP minutes required vs delivered; service log (F6 on the caseload)",
                            self.action_school)
        yield SystemCommand("First-session walkthrough", "Step by step from opening slpterm to a signed note",
                            self.action_walkthrough)
        if isinstance(screen, WritesProgressReports):
            yield SystemCommand("Progress report", "Write or open this patient's progress report (w)",
                                screen.action_progress_report)
        yield SystemCommand("Settings", "Clinic, clinicians and billing settings (F5)", self.action_settings)
        yield SystemCommand("Keys and help", "Every key on every screen (F1)", self.action_help)
        yield SystemCommand("Fees and payer rules", "The fee schedule and each payer's billing policy",
                            self.action_billing_settings)
        yield SystemCommand("Billing rules", "Code sets in force; install a new year's CMS files, roll an install back (ctrl+r in F5)",
                            self.action_rules)
        yield SystemCommand("Security", "Passphrase (encryption), lock PIN and idle lock (F12)", self.action_security)
        yield SystemCommand("Lock now", "Cover the screen until the passphrase or PIN is entered (ctrl+l)",
                            self.action_lock)
        yield SystemCommand("Back up now", "Write a consistent copy of the data file (encrypted when the data is)",
                            self.action_backup)
        yield SystemCommand("Audit trail", "Who did what and when; verify the hash chain", self.action_audit)

    def on_unmount(self) -> None:
        if self.services is not None:
            self.services.close()
        if self._presence is not None:
            self._presence.close()


def build_app(data_dir: Path, *, clock: Clock | None = None, demo_source: Path | None = None,
              caseload_preview: CaseloadPreviewReader | None = None, owns_process: bool = False,
              ask_before_creating: bool = False) -> SlpTermApp:
    """The app on ``data_dir``; with ``demo_source`` set, the demo clinic is generated there first.
    ``caseload_preview`` is a reader already started on the data file and ``owns_process`` says the
    app is the whole ``slpterm`` process (both from ``slpterm.cli``); ``ask_before_creating`` asks
    before a new clinic is made in a ``data_dir`` without a data file."""

    def open_with_passphrase(passphrase: str) -> Store:
        return open_data_folder(data_dir, passphrase, where="app")  # a wrong one is noted at once

    def prepare() -> Store:
        if demo_source is not None:
            from slpterm.demo import generate_demo

            generate_demo(demo_source)
            return open_throwaway_folder(demo_source)
        return open_data_folder(data_dir)

    return SlpTermApp(prepare, clock=clock, demo=demo_source is not None, open_with_passphrase=open_with_passphrase,
                      database=database_file(data_dir) if demo_source is None else None,
                      caseload_preview=caseload_preview, owns_process=owns_process,
                      ask_before_creating=ask_before_creating and demo_source is None)


class PrintableLines(LineFilter):
    """Takes control characters (escape, bell, bidirectional overrides...) out of every line drawn.
    Each takes no room on screen, so the layout is unchanged; nothing of an escape sequence in a
    name or a note can reach the terminal, whichever widget shows it."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        if all(control or text.isprintable() for text, _style, control in segments):
            return segments
        cleaned = []
        for segment in segments:
            text, style, control = segment
            if control or text.isprintable():
                cleaned.append(segment)
            else:
                text = without_control_characters(text)
                if text:
                    cleaned.append(Segment(text, style, control))
        return cleaned

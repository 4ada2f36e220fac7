"""The slpterm application: navigation, the store's lifecycle and global keys."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from slpterm.domain.clock import Clock
from slpterm.ui.screens.caseload import CaseloadScreen
from slpterm.ui.screens.export import ExportScreen
from slpterm.ui.screens.help import HelpScreen
from slpterm.ui.screens.message import MessageScreen
from slpterm.ui.screens.session import SessionScreen
from slpterm.ui.screens.settings import FirstRunScreen, SettingsScreen

StorePreparer = Callable[[], "object"]


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
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
    ]

    def __init__(self, prepare_store: StorePreparer, *, clock: Clock | None = None,
                 demo: bool = False) -> None:
        super().__init__()
        self._prepare_store = prepare_store
        self.clock = clock or Clock()
        self.demo = demo
        self.store = None
        if demo:
            self.sub_title = "demo clinic (fictional data, discarded on exit)"

    # -- start-up ---------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.push_screen(CaseloadScreen())
        self.run_worker(self._open_store, thread=True, name="open-store", exit_on_error=False)

    def _open_store(self) -> None:
        from slpterm.store import StoreError

        try:
            store = self._prepare_store()
        except StoreError as error:
            self.call_from_thread(self._store_failed, str(error))
            return
        except OSError as error:
            self.call_from_thread(self._store_failed, f"The data directory cannot be used: {error}")
            return
        self.call_from_thread(self._store_ready, store)

    def _store_failed(self, message: str) -> None:
        self.push_screen(MessageScreen("slpterm cannot open its data", message, quit_on_close=True))

    def _store_ready(self, store) -> None:  # noqa: ANN001
        self.store = store
        clinicians = store.clinic.clinicians()
        if clinicians:
            store.actor = clinicians[0].display_name
        caseload = self._caseload_screen()
        if caseload is not None:
            caseload.reload()
        if not store.clinic.is_set_up():
            self.push_screen(FirstRunScreen())

    def _caseload_screen(self) -> CaseloadScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, CaseloadScreen):
                return screen
        return None

    # -- navigation ---------------------------------------------------------------------------
    def _show(self, screen_type: type[Screen], factory: Callable[[], Screen]) -> None:
        if isinstance(self.screen, screen_type):
            return
        if self.store is None:
            self.notify("Still opening the data file…", severity="warning")
            return
        self.push_screen(factory())

    def _on_caseload(self, action: str) -> None:
        self.action_caseload()
        caseload = self._caseload_screen()
        if caseload is not None and self.store is not None:
            getattr(caseload, action)()

    def action_caseload(self) -> None:
        while len(self.screen_stack) > 2 and not isinstance(self.screen, CaseloadScreen):
            self.pop_screen()

    def action_session(self) -> None:
        """Start a session for the patient in view, or resume an unsigned draft."""
        if isinstance(self.screen, SessionScreen):
            return
        if self.store is None:
            self.notify("Still opening the data file…", severity="warning")
            return
        from slpterm.services.session_flow import SessionFlow
        from slpterm.ui.screens.new_session import NewSessionScreen, SessionRequest

        store = self.store
        patient_id = getattr(self.screen, "selected_patient_id", None) or getattr(self.screen, "patient_id", None)
        rows = store.caseload.rows()
        names = {row.patient_id: row.name for row in rows}
        chosen = [(patient_id, names[patient_id])] if patient_id in names else []
        drafts = []
        for participant, therapy_session in store.sessions.unsigned_drafts():
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
            start=start, patients=chosen, candidates=[(row.patient_id, row.name) for row in rows], drafts=drafts,
            clinicians=[(c.display_name, c.id) for c in store.clinic.clinicians()], today=self.clock.today(),
            default_type=default_type if chosen else "individual_treatment",
            default_setting=default_setting if chosen else "office",
        ), opened)

    def action_export(self) -> None:
        self._show(ExportScreen, ExportScreen)

    def action_settings(self) -> None:
        self._show(SettingsScreen, SettingsScreen)

    def action_help(self) -> None:
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
        yield SystemCommand("Settings", "Clinic, clinicians and billing settings (F5)", self.action_settings)
        yield SystemCommand("Keys and help", "Every key on every screen (F1)", self.action_help)

    def on_unmount(self) -> None:
        if self.store is not None:
            self.store.close()


def build_app(data_dir: Path, *, clock: Clock | None = None, demo_source: Path | None = None) -> SlpTermApp:
    """The app on ``data_dir``; with ``demo_source`` set, the demo clinic is generated there first."""

    def prepare():  # noqa: ANN202
        from slpterm.store import open_store

        if demo_source is not None:
            from slpterm.demo import generate_demo

            generate_demo(demo_source)
            return open_store(demo_source)
        return open_store(data_dir)

    return SlpTermApp(prepare, clock=clock, demo=demo_source is not None)

"""The app driven headless: first run, caseload filtering, opening a chart, navigation, help."""

from __future__ import annotations

from datetime import date

from slpterm.store import open_store
from slpterm.ui.app import build_app
from slpterm.ui.screens.caseload import CaseloadScreen
from slpterm.ui.screens.help import HelpScreen
from slpterm.ui.screens.patient import PatientScreen
from slpterm.ui.screens.settings import FirstRunScreen
from conftest import settle_app

SIZE = (120, 40)




def _seed(data_dir):
    store = open_store(data_dir)
    store.clinic.save_clinic(name="Harbor Speech")
    store.clinic.add_clinician(first_name="Rosa", last_name="Fennimore", npi="1234567893")
    names = [("Quillfeather", "Milo", "Cedar Elementary", "F80.0"), ("Brightwater", "Juniper", "", "R47.01"),
             ("Ashdown", "Pip", "Cedar Elementary", "F80.81"), ("Marrowby", "Tess", "Lakeside Middle", "F80.2")]
    for index, (last, first, school, code) in enumerate(names):
        patient = store.patients.create(first_name=first, last_name=last, external_id=f"S-{index:03}",
                                        school=school, date_of_birth=date(2016, 1, 1 + index))
        store.patients.add_diagnosis(patient_id=patient.id, code=code)
    store.close()


async def test_empty_data_directory_asks_for_the_clinic_and_can_be_skipped(tmp_path):
    app = build_app(tmp_path / "new")
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        assert isinstance(app.screen, FirstRunScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CaseloadScreen)
        assert "No patients yet" in str(app.screen.query_one("#caseload-status").render())
    store = open_store(tmp_path / "new")
    assert store.clinic.is_set_up()
    store.close()


async def test_first_run_refuses_a_bad_npi_then_saves(tmp_path):
    app = build_app(tmp_path / "new")
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        screen = app.screen
        screen.query_one("#clinic_name").value = "Harbor Speech"
        screen.query_one("#clinic_npi").value = "1234567890"
        screen.query_one("#clinician_first_name").value = "Rosa"
        screen.query_one("#clinician_last_name").value = "Fennimore"
        await pilot.press("ctrl+s")
        await pilot.pause()
        problems = str(screen.query_one("#settings-problems").render())
        assert "Clinic NPI" in problems and "check digit" in problems
        assert isinstance(app.screen, FirstRunScreen)
        screen.query_one("#clinic_npi").value = "1234567893"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, CaseloadScreen)
    store = open_store(tmp_path / "new")
    assert store.clinic.get_clinic().npi == "1234567893"
    assert store.clinic.clinicians()[0].display_name == "Rosa Fennimore, CCC-SLP"
    store.close()


async def test_typing_filters_the_caseload_and_enter_opens_the_chart(tmp_path):
    _seed(tmp_path / "data")
    app = build_app(tmp_path / "data")
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        caseload = app.screen
        assert isinstance(caseload, CaseloadScreen)
        assert caseload.table.row_count == 4
        await pilot.press(*"cedar")
        await pilot.pause()
        assert caseload.table.row_count == 2
        await pilot.press("down")
        selected = caseload.selected_patient_id
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PatientScreen)
        assert app.screen.patient_id == selected
        assert app.screen.sub_title == "Quillfeather, Milo"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is caseload
        await pilot.press("escape")
        await pilot.press(*"r47")
        await pilot.pause()
        assert caseload.table.row_count == 1


async def test_help_lists_keys_of_every_screen(tmp_path):
    _seed(tmp_path / "data")
    app = build_app(tmp_path / "data")
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(str(widget.render()) for widget in app.screen.query(".section-body"))
        for description in ("Caseload", "Clear filter", "Back to caseload", "Save"):
            assert description in text
        await pilot.press("escape")
        await pilot.press("f5")
        await pilot.pause()
        assert app.screen.query_one("#clinic_name").value == "Harbor Speech"


async def test_unreadable_data_file_shows_a_message_not_a_traceback(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "slpterm.sqlite3").write_text("this is a shopping list, not a database\n" * 20)
    app = build_app(data_dir)
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        message = str(app.screen.query_one("#message-text").render())
        assert "not an slpterm database" in message
        await pilot.press("enter")
        await pilot.pause()
    assert app.return_code == 2


async def test_first_frame_shows_the_preview_before_the_store_opens(tmp_path):
    import threading

    from slpterm.store.caseload import CaseloadPreviewReader
    from slpterm.ui.app import SlpTermApp

    _seed(tmp_path / "data")
    release = threading.Event()

    def prepare():
        release.wait(30)
        return open_store(tmp_path / "data")

    preview = CaseloadPreviewReader(tmp_path / "data" / "slpterm.sqlite3", limit=2)
    app = SlpTermApp(prepare, caseload_preview=preview)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        caseload = app.screen
        status = caseload.query_one("#caseload-status")
        assert app.store is None
        assert isinstance(caseload, CaseloadScreen) and caseload.table.row_count == 2
        assert str(status.render()) == "4 patients"
        await pilot.press(*"ashdown")
        await pilot.pause()
        assert "reading the rest" in str(status.render())
        release.set()
        await settle_app(app, pilot)
        assert app.store is not None
        assert caseload.table.row_count == 1
        assert str(status.render()) == "1 of 4 patients"
        await pilot.press("escape")
        await pilot.pause()
        assert caseload.table.row_count == 4


async def test_the_command_app_resumes_the_collector_freezes_the_long_lived_and_shortens_turns(tmp_path):
    import gc

    import sys

    from slpterm.ui.app import SWITCH_INTERVAL_SECONDS

    _seed(tmp_path / "data")
    switch_interval = sys.getswitchinterval()
    app = build_app(tmp_path / "data", owns_process=True)
    gc.disable()  # as slpterm.cli does before building the interface
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle_app(app, pilot)
            assert gc.isenabled()
            assert app.store is not None and gc.get_freeze_count() > 0
            assert sys.getswitchinterval() == SWITCH_INTERVAL_SECONDS
    finally:
        gc.unfreeze()
        gc.enable()
        sys.setswitchinterval(switch_interval)

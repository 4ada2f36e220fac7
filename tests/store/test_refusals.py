"""What is surely a mistake is refused: another clinic's backup, a restore under a running slpterm,
a command on a data directory that holds no clinic, and a new clinic made without asking."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest

import slpterm.cli as cli
from slpterm.store import open_store
from slpterm.store.backup import OtherClinicBackup, backup_store, restore_store
from slpterm.store.db import DATABASE_FILE_NAME
from slpterm.store.folder_lock import AppPresence, DataInUse
from slpterm.ui.app import build_app
from slpterm.ui.screens.caseload import CaseloadScreen
from slpterm.ui.screens.new_clinic import NewClinicScreen
from conftest import settle_app


def _clinic(data_dir, name: str):
    store = open_store(data_dir)
    store.clinic.save_clinic(name=name)
    store.patients.create(first_name="Ada", last_name=name, external_id=name, date_of_birth=date(2017, 5, 1))
    return store


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _patients(data_dir) -> list[str]:
    store = open_store(data_dir)
    try:
        return [row.name for row in store.caseload.rows()]
    finally:
        store.close()


def _ours_and_their_backup(tmp_path):
    """Our clinic's data directory, and a backup of another clinic's data file."""
    store = _clinic(tmp_path / "theirs", "Theirs")
    their_backup = backup_store(store, tmp_path / "theirs.sqlite3")
    store.close()
    _clinic(tmp_path / "ours", "Ours").close()
    return tmp_path / "ours", their_backup


def test_a_backup_of_another_clinic_needs_confirmation(tmp_path):
    ours, their_backup = _ours_and_their_backup(tmp_path)
    before = _digest(ours / DATABASE_FILE_NAME)

    with pytest.raises(OtherClinicBackup, match="another clinic"):
        restore_store(ours, their_backup, None)
    assert _digest(ours / DATABASE_FILE_NAME) == before
    assert _patients(ours) == ["Ours, Ada"]

    report = restore_store(ours, their_backup, None, other_clinic=True)
    assert report.replaced_copy is not None and report.replaced_copy.exists()
    assert _patients(ours) == ["Theirs, Ada"]


def test_a_backup_of_the_same_clinic_restores_without_a_question(tmp_path):
    data_dir = tmp_path / "data"
    store = _clinic(data_dir, "Same")
    backup = backup_store(store, tmp_path / "same.sqlite3")
    store.patients.create(first_name="Later", last_name="Added")
    store.close()
    restore_store(data_dir, backup, None)
    assert _patients(data_dir) == ["Same, Ada"]


def test_the_command_refuses_another_clinics_backup_without_the_flag(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SLPTERM_PASSPHRASE", raising=False)
    ours, backup = _ours_and_their_backup(tmp_path)
    assert cli.main(["restore", str(backup), "--data-dir", str(ours)]) == 2
    assert "--other-clinic" in capsys.readouterr().err
    assert _patients(ours) == ["Ours, Ada"]
    assert cli.main(["restore", str(backup), "--other-clinic", "--data-dir", str(ours)]) == 0
    assert _patients(ours) == ["Theirs, Ada"]


def test_no_restore_while_another_slpterm_has_the_data_open(tmp_path):
    data_dir = tmp_path / "data"
    store = _clinic(data_dir, "Busy")
    backup = backup_store(store, tmp_path / "busy.sqlite3")
    store.patients.create(first_name="Still", last_name="Typing")
    try:
        with pytest.raises(DataInUse, match="Quit the other slpterm"):
            restore_store(data_dir, backup, None)
        # The running store goes on writing into the file it has, and its log is where it was.
        store.patients.create(first_name="After", last_name="Refusal")
        assert (data_dir / f"{DATABASE_FILE_NAME}-wal").exists()
    finally:
        store.close()
    assert sorted(_patients(data_dir)) == ["Busy, Ada", "Refusal, After", "Typing, Still"]


def test_no_passphrase_change_while_another_slpterm_has_the_data_open(tmp_path):
    from slpterm.store import datafile

    if not datafile.encryption_available():
        pytest.skip("sqlcipher3 is not installed here")
    data_dir = tmp_path / "data"
    first = _clinic(data_dir, "Two")
    second = open_store(data_dir)
    try:
        with pytest.raises(DataInUse, match="Changing the passphrase"):
            first.db.rekey("correct horse battery")
        first.patients.create(first_name="Still", last_name="Works")  # the engines were kept
        assert not first.db.encrypted
    finally:
        second.close()
        first.close()


@pytest.mark.parametrize("command", [["backup"], ["audit", "verify"], ["export", "--format", "csv", "--from",
                                     "2026-01-01", "--to", "2026-12-31", "--out", "OUT"]])
def test_commands_on_a_folder_without_a_clinic_fail_and_create_nothing(tmp_path, capsys, command):
    missing = tmp_path / "mistyped"
    args = [part.replace("OUT", str(tmp_path / "out")) for part in command]
    assert cli.main(["--data-dir", str(missing), *args]) == 2
    message = capsys.readouterr().err
    assert "does not exist" in message and "slpterm --new --data-dir" in message
    assert not missing.exists()
    missing.mkdir()
    assert cli.main(["--data-dir", str(missing), *args]) == 2
    assert "holds no slpterm.sqlite3" in capsys.readouterr().err
    assert list(missing.iterdir()) == []


async def test_the_app_asks_before_making_a_new_clinic_and_quits_untouched(tmp_path):
    missing = tmp_path / "mistyped"
    app = build_app(missing, ask_before_creating=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle_app(app, pilot)
        assert isinstance(app.screen, NewClinicScreen)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 1 and not missing.exists()


async def test_the_app_makes_the_new_clinic_when_asked_to(tmp_path):
    missing = tmp_path / "new-clinic"
    app = build_app(missing, ask_before_creating=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle_app(app, pilot)
        await pilot.press("n")
        await settle_app(app, pilot)
        assert app.store is not None and (missing / DATABASE_FILE_NAME).exists()
        await pilot.press("escape")  # the first-run clinic form
        await pilot.pause()
        assert isinstance(app.screen, CaseloadScreen)


async def test_a_second_app_on_the_same_data_is_told(clinic_dir):
    first = AppPresence(clinic_dir)
    assert first.first
    try:
        app = build_app(clinic_dir)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle_app(app, pilot)
            assert any("Another slpterm app is already open" in note.message
                       for note in app._notifications)
    finally:
        first.close()
    alone = build_app(clinic_dir)
    async with alone.run_test(size=(120, 40)) as pilot:
        await settle_app(alone, pilot)
        assert not any("Another slpterm" in note.message for note in alone._notifications)

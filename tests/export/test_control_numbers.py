"""Interchange, group and transaction control numbers (ISA13/GS06/ST02) are never reused: across
batches, after a backup is restored, and on a second installation; claim numbers (CLM01) are
stable per claim and unique."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone

from slpterm.services.exporting import run_export
from slpterm.store import open_store
from slpterm.store.backup import backup_store, restore_store
from export.checks import own_x12_problems, pyx12_errors, segments
from export.conftest import stored_encounters

START = datetime(2026, 3, 20, 9, 30, tzinfo=timezone.utc)
NAMES = ["individual_92507_gn", "group_92508", "evaluation_92523_52"]


def _controls(path) -> tuple[str, str, str]:
    """ISA13, GS06 and ST02 of one 837P file, after checking it with pyx12 and our own checks."""
    text = path.read_text()
    assert pyx12_errors(text) == [] and own_x12_problems(text) == []
    isa, gs, st = segments(text)[:3]
    return isa[13], gs[6], st[2]


def _claim_numbers(path) -> list[str]:
    return [s[1] for s in segments(path.read_text()) if s[0] == "CLM"]


def _export(store, encounters, out, now):
    outcome = run_export(store, encounters, "x12", out, include_exported=True, now=now)
    assert outcome.ok, outcome.problems
    return outcome.files[0]


def _use_installation(monkeypatch, folder):
    monkeypatch.setenv("SLPTERM_CONFIG_DIR", str(folder))


def test_twenty_batches_never_share_a_control_number_and_claims_keep_their_numbers(store, tmp_path):
    encounters = stored_encounters(store, NAMES)
    files = [_export(store, encounters, tmp_path / f"out{n}", START + timedelta(seconds=n)) for n in range(20)]
    controls = [_controls(path) for path in files]
    interchange = [isa for isa, _, _ in controls]
    assert len(set(interchange)) == 20 and all(len(c) == 9 and c.isdigit() for c in interchange)
    assert all(int(gs) == int(isa) and st == isa for isa, gs, st in controls)
    # The same claims re-sent carry the same claim numbers, each claim its own.
    numbers = [_claim_numbers(path) for path in files]
    assert all(batch == numbers[0] for batch in numbers)
    assert len(set(numbers[0])) == 3 and all(len(number) <= 20 for number in numbers[0])
    assert numbers[0][0].startswith("P0001-")  # the chart ID leads, so a person can read it


def test_a_restored_backup_does_not_reuse_control_numbers(tmp_path):
    data = tmp_path / "data"
    store = open_store(data)
    encounters = stored_encounters(store, NAMES)
    before = [_export(store, encounters, tmp_path / "a", START)]
    backup = backup_store(store, tmp_path / "backup.sqlite3")
    before += [_export(store, encounters, tmp_path / f"b{n}", START + timedelta(minutes=n)) for n in range(3)]
    store.close()
    restore_store(data, backup, None)
    store = open_store(data)
    try:
        after = _export(store, encounters, tmp_path / "after", START + timedelta(minutes=5))
    finally:
        store.close()
    sent = {_controls(path)[0] for path in before}
    assert len(sent) == 4 and _controls(after)[0] not in sent
    assert after.read_bytes() not in {path.read_bytes() for path in before}


def test_a_restore_onto_a_laptop_that_lost_its_config_folder_still_gets_new_numbers(tmp_path, monkeypatch):
    _use_installation(monkeypatch, tmp_path / "config-old")
    data = tmp_path / "data"
    store = open_store(data)
    encounters = stored_encounters(store, NAMES)
    sent = {_controls(_export(store, encounters, tmp_path / "a", START))[0]}
    backup = backup_store(store, tmp_path / "backup.sqlite3")  # knows the old installation's slot
    sent |= {_controls(_export(store, encounters, tmp_path / f"a{n}", START + timedelta(minutes=n)))[0]
             for n in range(1, 3)}
    store.close()
    _use_installation(monkeypatch, tmp_path / "config-new")  # a reinstalled laptop: new identity
    restore_store(data, backup, None)
    store = open_store(data)
    try:
        again = _controls(_export(store, encounters, tmp_path / "again", START + timedelta(minutes=3)))[0]
    finally:
        store.close()
    assert again not in sent


def test_two_installations_sharing_a_clinics_data_never_issue_the_same_number(tmp_path, monkeypatch):
    _use_installation(monkeypatch, tmp_path / "laptop-1")
    first = open_store(tmp_path / "first")
    encounters = stored_encounters(first, NAMES)
    sent = [_export(first, encounters, tmp_path / "one-a", START)]
    backup = backup_store(first, tmp_path / "copy.sqlite3")
    # The second laptop starts from a copy of the first laptop's data and exports at the same time.
    _use_installation(monkeypatch, tmp_path / "laptop-2")
    second_dir = tmp_path / "second"
    second_dir.mkdir()
    shutil.copy(backup, second_dir / "slpterm.sqlite3")
    second = open_store(second_dir)
    sent += [_export(second, encounters, tmp_path / f"two-{n}", START + timedelta(seconds=n)) for n in range(5)]
    second.close()
    _use_installation(monkeypatch, tmp_path / "laptop-1")
    sent += [_export(first, encounters, tmp_path / f"one-{n}", START + timedelta(seconds=n)) for n in range(5)]
    first.close()
    controls = [_controls(path)[0] for path in sent]
    assert len(set(controls)) == len(controls) == 11
    assert len({control[:3] for control in controls}) == 2  # one slot per installation


def test_claim_numbers_differ_for_different_claims_of_the_same_day(store, tmp_path):
    from slpterm.export.x12 import claim_number

    assert claim_number("P-0001", ["a", "b"]) == claim_number("P-0001", ["b", "a"])
    assert claim_number("P-0001", ["a"]) != claim_number("P-0001", ["a", "b"])
    assert len(claim_number("A-VERY-LONG-CHART-ID-123", ["a"])) <= 20


def test_the_installation_file_is_private_and_a_damaged_one_is_kept_aside(tmp_path, monkeypatch):
    import os
    import stat

    from slpterm.store.installation import installation_file, load_installation

    _use_installation(monkeypatch, tmp_path / "config")
    first = load_installation()
    assert stat.S_IMODE(os.stat(installation_file()).st_mode) == 0o600
    assert load_installation() == first
    installation_file().write_text("{not json")
    again = load_installation()
    assert again.id != first.id and installation_file().with_suffix(".damaged").exists()

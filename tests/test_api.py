"""docs/api.md's worked example runs as written, on a fresh data folder, and leaves a real clinic behind."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from slpterm.api import NotFound, PassphraseRequired, open_clinic

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def _example() -> str:
    (block,) = re.findall(r"```python\n(.*?)\n```", DOC.read_text(), flags=re.S)
    return block


def test_the_worked_example_signs_codes_and_exports_a_session(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(_example(), str(DOC), "exec"), namespace)  # noqa: S102 - our own documentation
    printed = capsys.readouterr().out
    assert "('Code', 'F80.09X is not a code in the ICD-10-CM code set" in printed
    assert "1 ready, 0 held back" in printed
    (exported,) = namespace["outcome"].files
    rows = list(csv.DictReader((tmp_path / exported).open(encoding="utf-8-sig")))
    assert [(row["patient_last_name"], row["cpt"], row["modifier_1"]) for row in rows] == [("Quillfeather", "92507", "GN")]
    with open_clinic(tmp_path / "clinic-data") as clinic:
        (encounter,) = clinic.encounters(include_exported=True)
        assert not encounter.exported_before and encounter.signer  # a CSV is a copy: nothing was billed
        assert [line.code for line in encounter.coding.lines] == ["92507"]
        view = clinic.session(encounter.participant_id)
        assert view.signed and "practice at home" in view.addenda_text
        assert view.goal_lines[0].correct == 3 and view.goal_lines[0].total == 4


def test_an_encrypted_folder_asks_for_its_passphrase(tmp_path):
    folder = tmp_path / "data"
    from slpterm.store import open_store

    store = open_store(folder)
    try:
        store.security.set_passphrase("correct horse battery")
    except Exception as error:  # noqa: BLE001 - SQLCipher missing on this machine
        store.close()
        pytest.skip(f"encryption is not available here: {error}")
    store.close()
    with pytest.raises(PassphraseRequired):
        open_clinic(folder)
    with open_clinic(folder, "correct horse battery") as clinic:
        assert clinic.clinicians() == []


def test_an_unknown_patient_is_named(tmp_path):
    with open_clinic(tmp_path / "data") as clinic, pytest.raises(NotFound):
        clinic.chart("no-such-patient")

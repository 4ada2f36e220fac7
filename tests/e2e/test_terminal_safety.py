"""The real slpterm in a real terminal (tmux) showing a name that carries escape sequences: the
terminal's title stays, the screen is not cleared, and the lock covers the name."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date

import pytest

from slpterm.store import open_store
from test_real_app_in_tmux import Terminal

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def test_an_imported_name_cannot_retitle_or_clear_the_terminal(tmp_path):
    data_dir = tmp_path / "data"
    store = open_store(data_dir)
    store.clinic.save_clinic(name="Harbor Speech")
    store.clinic.add_clinician(first_name="Rosa", last_name="Fennimore", npi="1234567893")
    store.patients.create(first_name="Milo\x1b]2;PWNED\x07", last_name="Quill\x1b[2J\x1b[Hfeather", external_id="P-1",
                          school="Cedar\u202eyradnoces", date_of_birth=date(2018, 4, 9))
    store.security.set_pin("2468")
    store.close()
    env = {"TERM": "xterm-256color", "PYTHONPATH": os.pathsep.join(sys.path)}
    term = Terminal([sys.executable, "-m", "slpterm", "--data-dir", str(data_dir)], env)
    try:
        screen = term.wait_for("Quill")
        title = subprocess.run(["tmux", "-L", term.socket, "display", "-p", "-t", term.session, "#{pane_title}"],
                               capture_output=True, text=True).stdout
        assert "PWNED" not in title
        assert "Patient" in screen and "Quillfeather, Milo" in screen  # nothing cleared, the sequences are gone
        locked = term.press_until("C-l", "slpterm is locked")  # once the data file is open
        assert "Quill" not in locked
        term.keys("2", "4", "6", "8", "Enter")
        term.wait_for("Quillfeather")
        term.keys("C-q")
    finally:
        term.close()

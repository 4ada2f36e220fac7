"""The real slpterm command in a real terminal (tmux): it starts, shows the caseload, and a
session killed with SIGKILL mid-way comes back with its tallies and note text."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid

import pytest

from slpterm.store import open_store

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Terminal:
    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.socket = f"slpterm-test-{uuid.uuid4().hex[:8]}"
        self.session = "app"
        line = " ".join(f"'{part}'" for part in command)
        subprocess.run(
            ["tmux", "-L", self.socket, "new-session", "-d", "-s", self.session, "-x", "120", "-y", "40",
             f"exec env -u COLUMNS -u LINES {' '.join(f'{k}={v}' for k, v in env.items())} {line}"],
            check=True,
        )
        subprocess.run(["tmux", "-L", self.socket, "resize-window", "-t", self.session, "-x", "120", "-y", "40"],
                       capture_output=True)

    def screen(self) -> str:
        return subprocess.run(["tmux", "-L", self.socket, "capture-pane", "-p", "-t", self.session],
                              capture_output=True, text=True).stdout

    def wait_for(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} did not appear; the screen shows:\n{self.screen()}")

    def keys(self, *keys: str, pause: float = 0.15) -> None:
        for key in keys:
            subprocess.run(["tmux", "-L", self.socket, "send-keys", "-t", self.session, key], check=True)
            time.sleep(pause)

    def press_until(self, key: str, text: str, attempts: int = 3) -> str:
        """Press ``key`` until ``text`` shows (a key sent while the app is still starting may be dropped)."""
        for _ in range(attempts - 1):
            self.keys(key)
            try:
                return self.wait_for(text, timeout=5)
            except AssertionError:
                continue
        self.keys(key)
        return self.wait_for(text)

    def pid(self) -> int:
        out = subprocess.run(["tmux", "-L", self.socket, "display", "-p", "-t", self.session, "#{pane_pid}"],
                             capture_output=True, text=True, check=True).stdout
        return int(out.strip())

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def terminal():
    opened: list[Terminal] = []

    def start(*args: str) -> Terminal:
        env = {"TERM": "xterm-256color", "PYTHONPATH": os.pathsep.join(sys.path)}
        term = Terminal([sys.executable, "-m", "slpterm", *args], env)
        opened.append(term)
        return term

    yield start
    for term in opened:
        term.close()


def test_demo_opens_on_the_caseload(terminal):
    term = terminal("--demo")
    screen = term.wait_for("patients", timeout=60)
    assert "Patient" in screen and "Payer" in screen
    term.keys("C-q")


def test_a_killed_session_comes_back_with_its_tallies_and_note(terminal, clinic_dir):
    term = terminal("--data-dir", str(clinic_dir))
    term.wait_for("Quillfeather")
    term.press_until("F3", "Start a session")
    term.keys("Enter")
    term.wait_for("Goals F7")
    term.keys("C-t", "c", "c", "x", "2", "c")
    term.wait_for("3/4")
    term.keys("F9")
    term.keys("Kept working after the fire drill.", pause=0.05)
    time.sleep(1.5)  # autosave runs half a second after typing stops
    os.kill(term.pid(), signal.SIGKILL)
    time.sleep(0.5)

    store = open_store(clinic_dir)
    (participant, therapy_session), = store.sessions.unsigned_drafts()
    detail = store.sessions.detail(participant.id)
    assert [(t.result, t.cue_level) for t in detail.trials if t.voided_at is None] == [
        ("correct", "independent"), ("correct", "independent"), ("incorrect", "independent"),
        ("correct", "minimal")]
    assert detail.note.subjective == "Kept working after the fire drill."
    assert detail.segments and detail.segments[0].ended_at is None  # the timer was running
    store.close()

    again = terminal("--data-dir", str(clinic_dir))
    again.wait_for("Quillfeather")
    again.press_until("F3", "resume an unsigned draft")
    again.keys("C-o", "Enter")
    screen = again.wait_for("3/4")
    assert "Kept working after the fire drill." in screen
    assert "running" in screen
    again.keys("C-q")

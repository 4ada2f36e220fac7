"""The real ``slpterm`` process in a real terminal: a tmux session of its own (own socket), typed into
with send-keys and read with capture-pane. Shared by the end-to-end tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest

needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


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

    def wait_gone(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text not in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} did not go away; the screen shows:\n{self.screen()}")

    def wait_quiet(self, quiet: float = 0.3, timeout: float = 20) -> str:
        """Wait until the screen's text has not changed for ``quiet`` seconds: the app has handled
        the keys sent so far (each one it handles changes what is shown)."""
        deadline = time.monotonic() + timeout
        screen, since = self.screen(), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            now = self.screen()
            if now != screen:
                screen, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return screen
        return screen

    def keys(self, *keys: str, pause: float = 0.15) -> None:
        for key in keys:
            subprocess.run(["tmux", "-L", self.socket, "send-keys", "-t", self.session, key], check=True)
            time.sleep(pause)

    def type(self, text: str) -> None:
        """Send ``text`` literally in one go, as fast as a terminal delivers it."""
        subprocess.run(["tmux", "-L", self.socket, "send-keys", "-t", self.session, "-l", text], check=True)

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

    def alive(self) -> bool:
        return subprocess.run(["tmux", "-L", self.socket, "has-session", "-t", self.session],
                              capture_output=True).returncode == 0

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


def slpterm_terminal(*args: str, env: dict[str, str] | None = None) -> Terminal:
    """``python -m slpterm ARGS`` in a new terminal, importing this checkout's slpterm."""
    environment = {"TERM": "xterm-256color", "PYTHONPATH": os.pathsep.join(sys.path), **(env or {})}
    return Terminal([sys.executable, "-m", "slpterm", *args], environment)

"""Nothing shown as saved is lost while other processes use the data file, then a kill -9.

The real ``slpterm`` app runs in tmux on a real data file, plain and encrypted. A clinician keeps
typing the note and tallying trials while, at random moments, each of these runs beside it:
``slpterm backup``, ``slpterm audit verify``, ``slpterm export``, a read-only SQLite connection that
opens and closes the file, and a second app that starts and quits. Then the app is killed with
SIGKILL and started again. After each restart: every tally that was shown is stored, the note
lost at most the last second or so of typing, ``PRAGMA integrity_check`` is ok, ``audit verify``
passes, and every backup taken meanwhile restores to a store holding every tally shown before it.

The counts (iterations, tallies shown vs stored, characters typed vs stored) are printed at the end
of each mode (``pytest -s`` shows them). Focus keys (F7 to the goals, F9 back to the note) wait until
the app has shown what was typed before them: what happens to keys typed ahead of a focus change is
not this test's subject.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tmux_terminal import Terminal, needs_tmux, slpterm_terminal

from slpterm.store import datafile, open_store
from slpterm.store.backup import restore_store

pytestmark = needs_tmux

# App lifetimes per mode, each ended by kill -9, and iterations in each (one fault each, in turn);
# raise them for a longer soak, e.g. SLPTERM_FAULT_ITERATIONS=75 runs every fault 30 times a mode.
ROUNDS = int(os.environ.get("SLPTERM_FAULT_ROUNDS", "2"))
ITERATIONS_PER_ROUND = int(os.environ.get("SLPTERM_FAULT_ITERATIONS", "15"))
PASSPHRASE = "harbor seal 42"
WORDS = ("speech", "sound", "drill", "cue", "rate", "pacing", "carryover", "word", "initial", "final")
# The note may lose what was typed in the last second before the kill, plus the time keys take to
# travel through tmux on a busy machine.
NOTE_LOSS_SECONDS = 1.0 + 0.6
FOCUS_SECONDS = 0.3  # after F7/F9, before the next key (see Clinician.tally)
FAULTS = ("backup", "audit verify", "export", "read-only sqlite", "second app")
# The first goal's line and its "correct/total" figures on the session screen.
GOAL_COUNT = re.compile(r"1\. /r/ initial position[^\n]*\n\s*(\d+)/(\d+)")

READ_ONLY_PEEK = """
import sys
path, passphrase = sys.argv[1], sys.argv[2]
if passphrase:
    from sqlcipher3 import dbapi2 as sqlite
else:
    import sqlite3 as sqlite
connection = sqlite.connect("file:" + path + "?mode=ro", uri=True)
if passphrase:
    connection.execute("PRAGMA cipher_log_level = NONE")
    connection.execute("PRAGMA key = '" + passphrase + "'")
print(connection.execute("SELECT count(*) FROM trialrecord").fetchone()[0])
connection.close()
"""


@dataclass
class Tally:
    iterations: int = 0
    shown: int = 0
    stored: int = 0
    typed: int = 0
    kept: int = 0
    lost_at_kill: list[int] = field(default_factory=list)
    never_reached: int = 0  # words sent that the note never showed (keys lost ahead of a focus change)
    faults: dict[str, int] = field(default_factory=lambda: {name: 0 for name in FAULTS})
    backups: list[tuple[Path, int]] = field(default_factory=list)  # (file, tallies shown before it began)


class Clinician:
    """Types and tallies in the app, keeping what the screen confirmed."""

    def __init__(self, term: Terminal, note: str, shown: int) -> None:
        self.term = term
        self.note = note
        self.shown = shown
        self.typing: list[tuple[float, int]] = []  # (when sent, note length after it)
        self._lock = threading.Lock()

    def type_words(self, rng: random.Random) -> None:
        for _ in range(rng.randint(1, 3)):
            chunk = " " + rng.choice(WORDS)
            self.term.type(chunk)
            self.note += chunk
            self.typing.append((time.monotonic(), len(self.note)))
            time.sleep(rng.uniform(0.02, 0.25))

    def tally(self, rng: random.Random) -> None:
        # Typing and tallying go on without looking, but a focus key waits until the app has shown what
        # was typed: keys sent ahead of a focus change are the type-ahead tests' subject, not this one's.
        self.term.wait_quiet()
        self.term.keys("F7", pause=FOCUS_SECONDS)
        for _ in range(rng.randint(1, 3)):
            self.term.keys(rng.choice("cx"), pause=0.02)
            self._wait_for_total(self.shown + 1)
            with self._lock:
                self.shown += 1
        self.term.keys("F9", pause=FOCUS_SECONDS)  # the note keeps its cursor where typing left it
        self.term.wait_quiet()

    def start_in_the_note(self) -> None:
        """F9 until the note has the focus: a full stop (nothing on the goals) marks it unsaved. Right
        after the session screen opens the focus may still move (a key typed ahead of it is another
        test's subject), so F9 is pressed again until the mark shows. The note is checked against what
        the screen shows, so a stray full stop counts nowhere."""
        for _attempt in range(5):
            self.term.keys("F9", pause=FOCUS_SECONDS)
            self.term.type(".")
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline:
                if "● unsaved" in self.term.screen():
                    self.note += "."
                    self.typing.append((time.monotonic(), len(self.note)))
                    return
                time.sleep(0.02)
        raise AssertionError(f"F9 did not reach the note:\n{self.term.screen()}")

    def shown_now(self) -> int:
        with self._lock:
            return self.shown

    def _wait_for_total(self, total: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = GOAL_COUNT.search(self.term.screen())
            if match and int(match.group(2)) >= total:
                assert int(match.group(2)) == total, "a tally was counted twice"
                return
            time.sleep(0.03)
        raise AssertionError(f"the tally did not show; the screen shows:\n{self.term.screen()}")


def _command(data_dir: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "slpterm", *args, "--data-dir", str(data_dir)], env=env,
                          capture_output=True, text=True, timeout=120)


def _check_command(result: subprocess.CompletedProcess, *, allowed: tuple[int, ...] = (0,)) -> None:
    output = result.stdout + result.stderr
    assert result.returncode in allowed, output
    assert "Traceback" not in output and "unexpected error" not in output and "disk I/O" not in output, output


def _open_app(data_dir: Path, encrypted: bool) -> Terminal:
    term = slpterm_terminal("--data-dir", str(data_dir))
    if encrypted:
        term.wait_for("slpterm is locked", timeout=60)
        term.type(PASSPHRASE)
        term.keys("Enter")
    term.wait_for("Quillfeather", timeout=60)
    return term


def _run_fault(name: str, data_dir: Path, env: dict[str, str], encrypted: bool, clinician: Clinician,
               tally: Tally, scratch: Path) -> None:
    if name == "backup":
        before = clinician.shown_now()
        result = _command(data_dir, env, "backup", "--out", str(scratch / f"backup-{len(tally.backups)}.sqlite3"))
        _check_command(result)
        tally.backups.append((Path(result.stdout.split("Backup written to ", 1)[1].split()[0]), before))
    elif name == "audit verify":
        result = _command(data_dir, env, "audit", "verify")
        _check_command(result)
        assert result.stdout.startswith("OK"), result.stdout
    elif name == "export":
        # No signed session yet: the export reads everything and says there is nothing to export.
        _check_command(_command(data_dir, env, "export", "--format", "csv", "--from", "2026-01-01",
                                "--to", "2027-12-31", "--out", str(scratch / "export")), allowed=(0, 1))
    elif name == "read-only sqlite":
        peek = subprocess.run([sys.executable, "-c", READ_ONLY_PEEK, str(data_dir / "slpterm.sqlite3"),
                               PASSPHRASE if encrypted else ""], env=env, capture_output=True, text=True, timeout=60)
        assert peek.returncode == 0, peek.stderr
    else:
        second = _open_app(data_dir, encrypted)
        try:
            second.wait_for("patients", timeout=60)
            second.keys("C-q")
            deadline = time.monotonic() + 30
            while second.alive() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not second.alive(), "the second app did not quit"
        finally:
            second.close()
    tally.faults[name] += 1


SCROLLBAR = "▁▂▃▄▅▆▇█▔▏▕"


def _note_on_screen(screen: str) -> str:
    """The Subjective section's text as the screen shows it (its rows joined)."""
    lines = screen.splitlines()
    top = next(index for index, line in enumerate(lines) if "S  Subjective" in line)
    column = lines[top].index("S  Subjective")
    rows = []
    for line in lines[top + 1:]:
        if "O  Objective" in line:
            break
        rows.append(line[column:].rstrip().rstrip(SCROLLBAR).strip())
    return " ".join(row for row in rows if row)


def _first_difference(stored: str, typed: str) -> str:
    at = next((index for index, (a, b) in enumerate(zip(stored, typed)) if a != b), min(len(stored), len(typed)))
    return (f"the stored note is not what was shown, from character {at} of {len(typed)}: stored "
            f"{stored[max(0, at - 40):at + 40]!r}, typed {typed[max(0, at - 40):at + 40]!r}")


def _stored(data_dir: Path, passphrase: str | None) -> tuple[str, int, str]:
    store = open_store(data_dir, passphrase)
    try:
        assert store.db.integrity_problems() == []
        (participant, _), = store.sessions.unsigned_drafts()
        detail = store.sessions.detail(participant.id)
        return participant.id, len([t for t in detail.trials if t.voided_at is None]), detail.note.subjective
    finally:
        store.close()


def _trials_in(data_dir: Path, passphrase: str | None) -> int:
    store = open_store(data_dir, passphrase)
    try:
        assert store.db.integrity_problems() == []
        (participant, _), = store.sessions.unsigned_drafts()
        return len([t for t in store.sessions.detail(participant.id).trials if t.voided_at is None])
    finally:
        store.close()


@pytest.mark.parametrize("mode", ["plain", "encrypted"])
def test_nothing_shown_as_saved_is_lost_beside_other_processes_and_a_kill(mode, clinic_dir, tmp_path):
    encrypted = mode == "encrypted"
    if encrypted and not datafile.encryption_available():
        pytest.skip("sqlcipher3 is not installed here")
    passphrase = PASSPHRASE if encrypted else None
    if encrypted:
        store = open_store(clinic_dir)
        store.security.set_passphrase(PASSPHRASE)
        store.close()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "SLPTERM_PASSPHRASE": PASSPHRASE}
    if not encrypted:
        env.pop("SLPTERM_PASSPHRASE")
    rng = random.Random(f"fault-harness-{mode}")
    tally = Tally()
    note, shown = "", 0
    started = time.monotonic()

    for round_number in range(ROUNDS):
        term = _open_app(clinic_dir, encrypted)
        try:
            if round_number == 0:
                term.press_until("F3", "Start a session")
                term.keys("Enter")
            else:
                term.press_until("F3", "resume an unsigned draft")
                term.keys("C-o", "Enter")
            term.wait_for("Goals F7")
            time.sleep(1.5)
            term.wait_quiet()
            clinician = Clinician(term, note, shown)
            clinician.start_in_the_note()
            for iteration in range(ITERATIONS_PER_ROUND):
                fault_name = FAULTS[(round_number * ITERATIONS_PER_ROUND + iteration) % len(FAULTS)]
                errors: list[BaseException] = []

                delay = rng.uniform(0, 0.6)

                def fault(name: str = fault_name, delay: float = delay) -> None:
                    time.sleep(delay)
                    try:
                        _run_fault(name, clinic_dir, env, encrypted, clinician, tally, tmp_path)
                    except BaseException as error:  # noqa: BLE001 - raised in the test's thread below
                        errors.append(error)

                worker = threading.Thread(target=fault)
                worker.start()
                while worker.is_alive():
                    clinician.type_words(rng)
                    if worker.is_alive():
                        clinician.tally(rng)
                worker.join()
                if errors:
                    raise errors[0]
                tally.iterations += 1
            clinician.type_words(rng)
            time.sleep(rng.uniform(0, 1.2))
            shown_note = _note_on_screen(term.screen())
            killed_at = time.monotonic()
            os.kill(term.pid(), signal.SIGKILL)
        finally:
            term.close()
        time.sleep(0.3)

        participant_id, stored_trials, stored_note = _stored(clinic_dir, passphrase)
        assert stored_trials == clinician.shown, "a tally shown on screen is not in the store"
        # What the note showed just before the kill is the truth to keep; the words typed (sent) are
        # also compared, and a word that never reached the note is counted apart, not as lost.
        # The screen shows the end of the note (it scrolls with the cursor): the stored note must end
        # with the shown words, but for the last ones typed.
        shown_words, stored_words = shown_note.split(), stored_note.split()
        kept = next((count for count in range(len(shown_words), -1, -1)
                     if count == 0 or stored_words[-count:] == shown_words[:count]), 0)
        assert kept or not stored_words or not shown_words, _first_difference(stored_note, shown_note)
        unsaved_words = shown_words[kept:]
        lost = len(" ".join(unsaved_words)) + (1 if unsaved_words else 0)
        typed_lately = len(clinician.note) - max(
            [length for at, length in clinician.typing if at < killed_at - NOTE_LOSS_SECONDS] or [len(note)])
        assert lost <= typed_lately, f"{lost} characters lost, {typed_lately} typed in the last second"
        tally.never_reached += len(clinician.note.split()) - len(stored_words) - len(unsaved_words)
        audit = _command(clinic_dir, env, "audit", "verify")
        _check_command(audit)
        tally.shown, tally.stored = clinician.shown, stored_trials
        tally.typed += len(clinician.note) - len(note)
        tally.kept = len(stored_note)
        tally.lost_at_kill.append(lost)
        note, shown = stored_note, stored_trials  # typing goes on from what was kept

    assert tally.iterations >= min(30, ROUNDS * ITERATIONS_PER_ROUND) and all(tally.faults.values())
    for number, (backup, shown_before) in enumerate(tally.backups):
        restored = tmp_path / f"restored-{number}"
        restore_store(restored, backup, passphrase)
        assert _trials_in(restored, passphrase) >= shown_before, f"backup {backup.name} misses tallies"
    seconds = time.monotonic() - started
    print(f"\nfault harness ({mode}): {tally.iterations} iterations in {seconds:.0f} s; faults {tally.faults}; "
          f"tallies shown {tally.shown}, stored {tally.stored}; note characters typed {tally.typed}, "
          f"stored {tally.kept} (lost at the kills: {tally.lost_at_kill}; words that never reached the note: "
          f"{tally.never_reached}); {len(tally.backups)} backups "
          f"restored with every tally shown before them")

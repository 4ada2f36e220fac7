"""The bench's painted-frame measurements: the real app in a pseudo-terminal, keys written as bytes,
and a figure ends when the terminal output that shows the result has arrived.

Every output chunk is timestamped when it is read and fed to a terminal emulator (``pyte``); a
figure ends at the chunk after which the emulated screen shows the result (the filtered rows with
their count, the new tally count, the chart's session list). Bare Textual apps measured the same
way in the same run are the floor: a label's first frame, an Input that echoes a key, a Static
updated on a key; slpterm and its floor are alternated so both see the same load.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import sqlite3
import statistics
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SCREEN_SIZE = (120, 40)
BURST_INTERVAL = 0.08  # 12.5 keys per second
NAME_SHOWN = 20  # characters of a patient's name that the caseload always shows
IDLE_CPU_SHARE = 0.05  # an app using less CPU than this has finished its work
LABEL_TEXT = "slpterm bench floor"
ECHO_PREFIX = "echo:"
COUNT_PREFIX = "count "

LABEL_APP = f'''
from textual.app import App
from textual.widgets import Static


class Floor(App):
    def compose(self):
        yield Static("{LABEL_TEXT}")


Floor().run()
'''

ECHO_APP = f'''
from textual.app import App
from textual.widgets import Input, Static


class Echo(App):
    def compose(self):
        yield Input(id="typed")
        yield Static("{ECHO_PREFIX}|", id="echo", markup=False)

    def on_input_changed(self, event):
        self.query_one("#echo", Static).update("{ECHO_PREFIX}" + event.value + "|")


Echo().run()
'''

COUNT_APP = f'''
from textual.app import App
from textual.widgets import Static


class Count(App):
    BINDINGS = [("c", "count", "Count")]
    count = 0

    def compose(self):
        yield Static("{COUNT_PREFIX}0|", id="count")

    def action_count(self):
        self.count += 1
        self.query_one("#count", Static).update(f"{COUNT_PREFIX}{{self.count}}|")


Count().run()
'''

KEY_BYTES = {"enter": b"\r", "f3": b"\x1bOR", "clear": b"\x15", "escape": b"\x1b"}


def terminal_environment() -> dict[str, str]:
    """The caller's environment for an app in the pseudo-terminal: without COLUMNS/LINES (the app
    would size itself by them instead of by the terminal) and with a terminal type Textual knows."""
    environment = {name: value for name, value in os.environ.items() if name not in ("COLUMNS", "LINES")}
    environment["TERM"] = "xterm-256color"
    return environment


class PtyApp:
    """One process on its own pseudo-terminal; ``screen`` is what the terminal would show."""

    def __init__(self, command: list[str], environment: dict[str, str] | None = None,
                 size: tuple[int, int] = SCREEN_SIZE) -> None:
        import pyte

        width, height = size
        self.screen = pyte.Screen(width, height)
        self._stream = pyte.ByteStream(self.screen)
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
        self._master = master
        self.started = time.perf_counter()
        self.process = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, close_fds=True,
                                        env=environment or terminal_environment(), start_new_session=True)
        os.close(slave)
        self.last_output = self.started

    @property
    def lines(self) -> list[str]:
        return self.screen.display

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def pump(self, timeout: float) -> float | None:
        """Read what the app wrote within ``timeout`` s into the screen; the time it arrived, or None."""
        ready, _, _ = select.select([self._master], [], [], max(0.0, timeout))
        if not ready:
            return None
        arrived = time.perf_counter()
        chunks = []
        while True:
            try:
                chunk = os.read(self._master, 1 << 20)
            except OSError:  # the app has exited
                break
            if not chunk:
                break
            chunks.append(chunk)
            if not select.select([self._master], [], [], 0)[0]:
                break
        if not chunks:
            if self.process.poll() is not None:
                raise RuntimeError(f"the app exited ({self.process.returncode}); screen:\n{self.text()}")
            return None
        self._stream.feed(b"".join(chunks))
        self.last_output = arrived
        return arrived

    def wait_for(self, shown: Callable[[list[str]], bool], timeout: float = 120,
                 also: Callable[[], None] | None = None) -> float:
        """The time at which output arrived after which ``shown(lines)`` holds (now, if it already does)."""
        if shown(self.lines):
            return time.perf_counter()
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            arrived = self.pump(0.001 if also else 0.05)
            if also is not None:
                also()
            if arrived is not None and shown(self.lines):
                return arrived
        raise RuntimeError(f"not shown within {timeout:.0f} s; screen:\n{self.text()}")

    def settle(self, quiet: float = 0.5, timeout: float = 120) -> None:
        """Wait until the app used almost no CPU for ``quiet`` s (its background work is done; a
        blinking cursor still writes and costs a little), reading what it writes meanwhile."""
        deadline = time.perf_counter() + timeout
        ticks_per_second = os.sysconf("SC_CLK_TCK")
        allowed = max(1, int(quiet * ticks_per_second * IDLE_CPU_SHARE))
        while time.perf_counter() < deadline:
            ticks = _cpu_ticks(self.process.pid)
            window_end = time.perf_counter() + quiet
            while time.perf_counter() < window_end:
                self.pump(min(0.05, max(0.0, window_end - time.perf_counter())))
            if _cpu_ticks(self.process.pid) - ticks <= allowed:
                return
        raise RuntimeError(f"the app did not go idle within {timeout:.0f} s")

    def send(self, data: bytes) -> float:
        sent = time.perf_counter()
        os.write(self._master, data)
        return sent

    def close(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGHUP)
        except ProcessLookupError:
            pass
        deadline = time.perf_counter() + 10
        while self.process.poll() is None and time.perf_counter() < deadline:
            try:
                self.pump(0.05)
            except RuntimeError:
                break
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        os.close(self._master)


def _cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return -1
    return int(fields[11]) + int(fields[12])


def _contains(text: str) -> Callable[[list[str]], bool]:
    return lambda lines: any(text in line for line in lines)


# -- the bare Textual floor -----------------------------------------------------------------------------

@dataclass
class FloorApps:
    folder: Path

    def script(self, name: str, source: str) -> list[str]:
        path = self.folder / f"floor_{name}.py"
        if not path.exists() or path.read_text() != source:
            path.write_text(source)
        return [sys.executable, str(path)]

    def first_frame(self) -> float:
        """Seconds from launch until a bare app's label is on the screen."""
        app = PtyApp(self.script("label", LABEL_APP))
        try:
            return app.wait_for(_contains(LABEL_TEXT)) - app.started
        finally:
            app.close()

    def open_echo(self) -> PtyApp:
        app = PtyApp(self.script("echo", ECHO_APP))
        app.wait_for(_contains(ECHO_PREFIX + "|"))
        app.settle(quiet=0.2)
        return app

    def open_count(self) -> PtyApp:
        app = PtyApp(self.script("count", COUNT_APP))
        app.wait_for(_contains(COUNT_PREFIX + "0|"))
        app.settle(quiet=0.2)
        return app


def echo_keystrokes(app: PtyApp, text: str) -> list[float]:
    """Each key typed into the bare Input until its echo is painted; then the Input is cleared."""
    samples = []
    typed = ""
    for char in text:
        typed += char
        sent = app.send(char.encode())
        samples.append(app.wait_for(_contains(f"{ECHO_PREFIX}{typed}|")) - sent)
        app.settle(quiet=0.05)
    app.send(KEY_BYTES["clear"])
    app.wait_for(_contains(ECHO_PREFIX + "|"))
    app.settle(quiet=0.05)
    return samples


def count_burst(app: PtyApp, presses: int, shown_count: Callable[[list[str]], int | None],
                on_disk: Callable[[], int] | None = None) -> tuple[list[float], list[float]]:
    """``presses`` keys ``c`` at 12.5 per second; per key, seconds until the count it makes is painted
    (``shown_count`` reads it off the screen) and, with ``on_disk``, until it is committed."""
    before = shown_count(app.lines)
    if before is None:
        raise RuntimeError(f"no count on the screen:\n{app.text()}")
    disk_before = on_disk() if on_disk else 0
    sent_at: list[float] = []
    painted: dict[int, float] = {}
    committed: dict[int, float] = {}
    start = time.perf_counter()
    deadline = None
    while len(painted) < presses or (on_disk and len(committed) < presses):
        now = time.perf_counter()
        if len(sent_at) < presses and now >= start + len(sent_at) * BURST_INTERVAL:
            sent_at.append(app.send(b"c"))
            if len(sent_at) == presses:
                deadline = time.perf_counter() + 60
        if deadline is not None and time.perf_counter() > deadline:
            raise RuntimeError(f"{len(painted)} of {presses} counts painted, {len(committed)} committed; "
                               f"screen:\n{app.text()}")
        arrived = app.pump(0.001)
        if arrived is not None:
            count = shown_count(app.lines)
            if count is not None:
                for key in range(len(sent_at)):
                    if key not in painted and count >= before + key + 1:
                        painted[key] = arrived
        if on_disk:
            checked = time.perf_counter()
            rows = on_disk() - disk_before
            for key in range(len(sent_at)):
                if key not in committed and rows >= key + 1:
                    committed[key] = checked
    frames = [painted[key] - sent_at[key] for key in range(presses)]
    commits = [committed[key] - sent_at[key] for key in range(presses)] if on_disk else []
    app.settle(quiet=0.2)
    return frames, commits


def floor_count(lines: list[str]) -> int | None:
    for line in lines:
        match = re.search(rf"{COUNT_PREFIX}(\d+)\|", line)
        if match:
            return int(match.group(1))
    return None


def bare_commits(folder: Path, commits: int) -> list[float]:
    """A bare SQLite INSERT + COMMIT with the store's durability (WAL, synchronous=FULL, BEGIN
    IMMEDIATE), in a file beside the data file (same disk), one row at a time."""
    path = folder / "bare-commit.sqlite3"
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = FULL")
        connection.execute("CREATE TABLE IF NOT EXISTS trial (id TEXT PRIMARY KEY, goal TEXT, result TEXT, at TEXT)")
        samples = []
        for _ in range(commits):
            started = time.perf_counter()
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("INSERT INTO trial VALUES (?, ?, ?, ?)",
                               (os.urandom(16).hex(), "goal", "correct", time.strftime("%Y-%m-%d %H:%M:%S")))
            connection.execute("COMMIT")
            samples.append(time.perf_counter() - started)
            time.sleep(BURST_INTERVAL / 4)
        return samples
    finally:
        connection.close()


# -- slpterm in the pseudo-terminal --------------------------------------------------------------------

def slpterm_command(data_dir: Path) -> list[str]:
    return [sys.executable, "-m", "slpterm", "--data-dir", str(data_dir)]


def caseload_status(total: int, shown: int | None = None) -> re.Pattern:
    """The caseload's status line: every patient, or ``shown`` of them once the whole index is read."""
    if shown is None:
        return re.compile(rf"(?<![\d,]){total} patients")
    return re.compile(rf"(?<![\d,]){shown} of {total} patients(?! \(reading)")


def filter_result(total: int, shown: int, top_name: str | None) -> Callable[[list[str]], bool]:
    """The frame with a filter's result: its count in the status line and its first row's name on
    the first line under the column headings."""
    status = caseload_status(total, shown)

    def painted(lines: list[str]) -> bool:
        if not any(status.search(line) for line in lines):
            return False
        if top_name is None:
            return True
        heading = next((at for at, line in enumerate(lines) if "Patient" in line and "Needs" in line), None)
        # A long name is cut to the column's width with an ellipsis.
        return (heading is not None and heading + 1 < len(lines)
                and lines[heading + 1].strip().startswith(top_name[:NAME_SHOWN]))
    return painted


def table_rows(lines: list[str], without: tuple[str, ...] = ("Trend",)) -> list[str] | None:
    """The caseload table's rows on the screen (heading and rows), with the named columns blanked."""
    heading = next((at for at, line in enumerate(lines) if "Patient" in line and "Needs" in line), None)
    if heading is None:
        return None
    header = lines[heading]
    spans = []
    for name in without:
        start = header.find(name)
        if start >= 0:
            following = [header.find(other) for other in ("Needs",) if header.find(other) > start]
            spans.append((start, min(following) if following else len(header)))
    rows = []
    for line in lines[heading + 1:]:
        if not line.strip() or "patients" in line:
            break
        for start, end in spans:
            line = line[:start] + " " * (end - start) + line[end:]
        rows.append(line.rstrip())
    return rows


def launch_to_caseload(data_dir: Path, total: int) -> tuple[PtyApp, float]:
    """slpterm started in the pseudo-terminal; seconds until the caseload with every patient is painted."""
    app = PtyApp(slpterm_command(data_dir))
    status = caseload_status(total)
    try:
        first = app.wait_for(lambda lines: any(status.search(line) for line in lines)) - app.started
    except BaseException:
        app.close()
        raise
    return app, first


def type_filter(app: PtyApp, text: str, total: int, shown: int, top_name: str | None) -> float:
    """Type ``text`` all at once into the filter; the time its result was painted."""
    app.send(text.encode())
    return app.wait_for(filter_result(total, shown, top_name))


def clear_filter(app: PtyApp, total: int) -> None:
    app.send(KEY_BYTES["clear"])
    status = caseload_status(total)
    app.wait_for(lambda lines: any(status.search(line) and " of " not in line for line in lines))
    app.settle(quiet=0.1)


def filter_keystrokes(app: PtyApp, word: str, total: int, expected: Callable[[str], tuple[int, str | None]]) -> list[float]:
    """Each key of ``word`` typed into the filter until the frame with its rows is painted."""
    samples = []
    typed = ""
    for char in word:
        typed += char
        shown, top = expected(typed)
        sent = app.send(char.encode())
        samples.append(app.wait_for(filter_result(total, shown, top)) - sent)
        app.settle(quiet=0.05)
    clear_filter(app, total)
    return samples


_GOAL_COUNT = re.compile(r"^\s+(\d+)/(\d+)\b")


def tally_count(lines: list[str]) -> int | None:
    """The highlighted goal's trial count on the session screen (the line under the ``▶`` goal)."""
    for at, line in enumerate(lines[:-1]):
        if "▶" in line:
            match = _GOAL_COUNT.match(lines[at + 1])
            return int(match.group(2)) if match else None
    return None


def trial_rows(database: Path) -> Callable[[], int]:
    """The number of trial rows committed, read through a connection of our own."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, isolation_level=None,
                                 check_same_thread=False)
    base = connection.execute("SELECT coalesce(max(rowid), 0) FROM trialrecord").fetchone()[0]

    def count() -> int:
        return int(connection.execute("SELECT count(*) FROM trialrecord WHERE rowid > ?", (base,)).fetchone()[0])
    return count


def open_session(app: PtyApp) -> None:
    """From the caseload with the patient highlighted: F3, Enter (a session with the defaults)."""
    app.send(KEY_BYTES["f3"])
    app.wait_for(_contains("Start a session"))
    app.settle(quiet=0.1)
    app.send(KEY_BYTES["enter"])
    app.wait_for(lambda lines: tally_count(lines) is not None)
    app.settle(quiet=0.3)


# -- the measurements (each adds its lines to the bench's table) --------------------------------------

def _results():  # noqa: ANN202 - slpterm.bench imports this module lazily; no cycle at import time
    from slpterm import bench

    return bench


def _caseload_probe(data_dir: Path) -> tuple[int, list[tuple[str, int, str]]]:
    """The number of patients, and one-key filters with their expected result ``(key, rows, first
    row's name)``: the first letters of the names at the index's end (read last at start-up)."""
    from slpterm.store import open_store

    store = open_store(data_dir)
    try:
        index = store.caseload.index()
        probes: list[tuple[str, int, str]] = []
        for position in range(len(index) - 1, max(-1, len(index) - 40), -1):
            name = store.caseload.details([index.ids[position]])[index.ids[position]].name
            key = name[:1].lower()
            if not key.isalpha() or any(key == probe[0] for probe in probes):
                continue
            rows = index.filter(key)
            top = store.caseload.details([index.ids[rows[0]]])[index.ids[rows[0]]].name
            probes.append((key, len(rows), top))
        return len(index), probes
    finally:
        store.close()


def _needs_filled(rows: list[str] | None, header: str) -> bool:
    start = header.find("Needs")
    return rows is not None and start >= 0 and any(row[start:].strip() for row in rows)


def _startup_reference(data_dir: Path, total: int,
                       probes: list[tuple[str, int, str]]) -> tuple[tuple[str, int, str], list[str] | None]:
    """A one-key filter whose rows on screen have something in the Needs column, and the caseload's
    table for it once the app has finished its start-up work (what "fully interactive" shows)."""
    app, _ = launch_to_caseload(data_dir, total)
    try:
        app.settle(quiet=1.0, timeout=600)
        chosen: tuple[tuple[str, int, str], list[str] | None] | None = None
        for probe in probes[:5]:
            key, shown, top = probe
            type_filter(app, key, total, shown, top)
            app.settle(quiet=0.5)
            rows = table_rows(app.lines)
            header = next(line for line in app.lines if "Patient" in line and "Needs" in line)
            if chosen is None or _needs_filled(rows, header):
                chosen = (probe, rows)
            if _needs_filled(rows, header):
                break
            clear_filter(app, total)
        if chosen is None:
            raise RuntimeError("no filter to probe the caseload with")
        return chosen
    finally:
        app.close()


def measure_painted_startup(bench, clinic) -> None:  # noqa: ANN001
    """Time to first frame and to fully interactive: one filter key typed as soon as the caseload is
    painted, until its rows over every patient are painted, then until their Needs cells are as when
    the start-up work is done; each run paired with a bare label's first frame and a bare Input's echo."""
    b = _results()
    b.ensure_bytecode()
    total, probes = _caseload_probe(clinic.folder)
    if not probes:
        raise RuntimeError("no patient to filter for")
    probe, expected_rows = _startup_reference(clinic.folder, total, probes)
    key, shown, top = probe
    floors = FloorApps(bench.root)
    label, first, everyone, interactive, typed, echo = [], [], [], [], [], []
    for _ in range(bench.repeats):
        label.append(floors.first_frame())
        echo_app = floors.open_echo()
        try:
            echo.extend(echo_keystrokes(echo_app, "slpt"))
        finally:
            echo_app.close()
        app, first_frame = launch_to_caseload(clinic.folder, total)
        try:
            first.append(first_frame)
            sent = app.send(key.encode())
            found = app.wait_for(filter_result(total, shown, top), timeout=600)
            typed.append(found - sent)
            everyone.append(found - app.started)
            filled = app.wait_for(lambda lines: table_rows(lines) == expected_rows, timeout=600)
            interactive.append(filled - app.started)
        finally:
            app.close()
    where = clinic.label
    label_median = statistics.median(label)
    bench.add(b.Result("start-up (painted): bare Textual label, first frame", where, label,
                       note="pseudo-terminal; launch until the label's bytes arrived"))
    bench.add(b.Result("start-up (painted): slpterm first frame, caseload shown", where, first,
                       note="until the status line with every patient's count is painted"))
    bench.add(b.Result("... first frame / bare first frame", where, [statistics.median(first) / label_median],
                       unit="x", note=f"per-run {_range([app_s / bare for app_s, bare in zip(first, label)])}"))
    bench.add(b.Result("start-up (painted): filter over every patient", where, everyone,
                       note=f"{key!r} typed at the first frame until its {shown:,} of {total:,} rows are painted"))
    interactive_ratio = statistics.median(interactive) / label_median
    bench.add(b.Result("start-up (painted): fully interactive", where, interactive,
                       note="those rows painted with their Needs cells as when the start-up work is done"))
    bench.add(b.Result("... fully interactive / bare first frame", where, [interactive_ratio], unit="x",
                       target="<= 1.2x", met=interactive_ratio <= 1.2,
                       note=f"per-run {_range([app_s / bare for app_s, bare in zip(interactive, label)])}"))
    bench.add(b.Result("keystroke floor (painted): bare Input echo", "-", echo,
                       note="key bytes written until the echo's bytes arrived; paired with the runs above"))
    typed_ratio = statistics.median(typed) / statistics.median(echo)
    bench.add(b.Result("filter key typed at the first frame -> its rows painted", where, typed,
                       note="the key's rows over every patient, while the start-up work runs"))
    bench.add(b.Result("... / bare Input echo", where, [typed_ratio], unit="x", target="<= 1.1x",
                       met=typed_ratio <= 1.1))


def _range(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}x" if values else ""


def measure_painted_filter(bench, clinic) -> None:  # noqa: ANN001
    """Filter keys typed one at a time (each after the last one's frame), until the frame with the
    filtered rows is painted; alternated with a bare Input's echo."""
    from slpterm.store import open_store

    b = _results()
    b.ensure_bytecode()
    store = open_store(clinic.folder)
    try:
        index = store.caseload.index()
        middle_id = index.ids[len(index) // 3]
        words = b._filter_words(store.caseload.details([middle_id])[middle_id])
        expected: dict[str, tuple[int, str | None]] = {}
        for word in words:
            for end in range(1, len(word) + 1):
                rows = index.filter(word[:end])
                top = store.caseload.details([index.ids[rows[0]]])[index.ids[rows[0]]].name if rows else None
                expected[word[:end]] = (len(rows), top)
    finally:
        store.close()
    total = len(index)
    floors = FloorApps(bench.root)
    echo_app = floors.open_echo()
    keystrokes, echoes = [], []
    try:
        app, _ = launch_to_caseload(clinic.folder, total)
        try:
            app.settle(quiet=1.0, timeout=300)
            for _ in range(bench.repeats):
                for word in words:
                    echoes.extend(echo_keystrokes(echo_app, word))
                    keystrokes.extend(filter_keystrokes(app, word, total, expected.__getitem__))
        finally:
            app.close()
    finally:
        echo_app.close()
    where = clinic.label
    bench.add(b.Result("keystroke floor (painted): bare Input echo", "-", echoes,
                       note="key bytes written until the echo's bytes arrived; alternated with the filter below"))
    bench.add(b.Result("filter keystroke -> frame painted", where, keystrokes,
                       note=f"{len(keystrokes)} keys over {total:,} patients, each until its rows and count are "
                            f"painted; max {max(keystrokes) * 1000:.0f} ms"))
    value = statistics.median(keystrokes) / statistics.median(echoes)
    bench.add(b.Result("... / bare Input echo", where, [value], unit="x", target="<= 1.1x", met=value <= 1.1))


def patient_with_goals(data_dir: Path) -> str:
    """A patient of the clinic with plan-of-care goals to tally (a probe session is discarded)."""
    from slpterm.domain.clock import Clock
    from slpterm.services.session_flow import SessionFlow
    from slpterm.store import open_store

    store = open_store(data_dir)
    try:
        clock = Clock()
        flow = SessionFlow(store, clock)
        clinician_id = store.clinic.clinicians()[0].id
        for patient_id in store.caseload.index().ids[:200]:
            participant = flow.start(patient_ids=[patient_id], session_type="individual_treatment", setting="office",
                                     date_text=clock.today().isoformat(), clinician_id=clinician_id,
                                     evaluation_kind=None)[0]
            has_goals = bool(flow.view(participant).goal_lines)
            flow.discard(participant, "bench probe")
            if has_goals:
                return patient_id
        raise RuntimeError("no patient with plan-of-care goals among the first 200")
    finally:
        store.close()


def measure_painted_tally(bench, clinic, scratch: Path, patient_id: str, sessions: int | None = None,  # noqa: ANN001
                          chart: bool = False) -> None:
    """From the caseload: filter to the patient (and open the chart, Esc, when ``chart``), F3 Enter, then
    bursts of ``c`` at 12.5 keys/s until each count is painted and each trial committed; alternated
    with a bare Static updated on a key and a bare durable INSERT + COMMIT."""
    from slpterm.store import open_store

    b = _results()
    b.ensure_bytecode()
    store = open_store(scratch)
    try:
        index = store.caseload.index()
        row = store.caseload.details([patient_id])[patient_id]
        last, _, first = row.name.partition(", ")
        text = f"{first} {last}".lower()
        rows = index.filter(text)
        top = store.caseload.details([index.ids[rows[0]]])[index.ids[rows[0]]].name
        external_id = row.external_id
        history = sessions if sessions is not None else _count_sessions(store, patient_id)
    finally:
        store.close()
    if top != row.name:
        raise RuntimeError(f"{text!r} does not put {row.name} first ({top})")
    total = len(index)
    database = scratch / "slpterm.sqlite3"
    presses = max(10, bench.repeats * 2)
    floors = FloorApps(bench.root)
    frames, commits, floor_frames, bare, charts = [], [], [], [], []
    app, _ = launch_to_caseload(scratch, total)
    try:
        app.settle(quiet=1.0, timeout=300)
        type_filter(app, text, total, len(rows), top)
        app.settle(quiet=0.3)
        if chart:
            for _ in range(bench.repeats):
                charts.append(open_chart_painted(app, external_id))
        open_session(app)
        on_disk = trial_rows(database)
        count_app = floors.open_count()
        try:
            for _ in range(2):
                floor_frames.extend(count_burst(count_app, presses, floor_count)[0])
                bare.extend(bare_commits(scratch, presses))
                painted, committed = count_burst(app, presses, tally_count, on_disk)
                frames.extend(painted)
                commits.extend(committed)
        finally:
            count_app.close()
    finally:
        app.close()
    where = clinic.label
    who = f"patient with {history} sessions"
    bench.add(b.Result("tally floor (painted): bare Static updated on a key", "-", floor_frames,
                       note=f"bursts at 12.5 keys/s, alternated with the {who}"))
    bench.add(b.Result(f"tally keystroke -> count painted, {who}", where, frames, target="<= 16 ms",
                       met=statistics.median(frames) <= 0.016,
                       note=f"{len(frames)} keys in bursts at 12.5/s; max {max(frames) * 1000:.0f} ms; "
                            f"{statistics.median(frames) / statistics.median(floor_frames):.1f}x the bare Static"))
    bench.add(b.Result("bare SQLite INSERT + COMMIT (WAL, synchronous=FULL)", "-", bare,
                       note="one row per transaction, beside the data file"))
    commit_ratio = statistics.median(commits) / statistics.median(bare)
    bench.add(b.Result(f"tally keystroke -> trial committed, {who}", where, commits,
                       note=f"seen through a connection of the bench's own; max {max(commits) * 1000:.0f} ms"))
    bench.add(b.Result("... / bare commit", where, [commit_ratio], unit="x", target="<= 2x", met=commit_ratio <= 2))
    if charts:
        bench.add(b.Result(f"chart painted, {who}", where, charts, target="< 200 ms",
                           met=statistics.median(charts) < 0.2,
                           note="Enter on the caseload until the chart's patient line is painted"))


def _count_sessions(store, patient_id: str) -> int:  # noqa: ANN001
    from slpterm.store import datafile

    connection = datafile.connect(store.path, read_only=True)
    try:
        return int(connection.execute("SELECT count(*) FROM sessionparticipant WHERE patient_id = ?",
                                      (patient_id,)).fetchone()[0])
    finally:
        connection.close()


def open_chart_painted(app: PtyApp, external_id: str) -> float:
    """Enter on the highlighted patient until the chart with the patient's line is painted; Esc back."""
    sent = app.send(KEY_BYTES["enter"])
    painted = app.wait_for(lambda lines: any(f"ID {external_id}" in line for line in lines)
                           and not any("Loading the chart" in line for line in lines))
    app.settle(quiet=0.2)
    app.send(KEY_BYTES["escape"])
    app.wait_for(lambda lines: any("Patient" in line and "Needs" in line for line in lines))
    app.settle(quiet=0.2)
    return painted - sent

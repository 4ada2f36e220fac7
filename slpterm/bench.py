"""slpterm's benchmark: how fast it is on a big synthetic clinic. Prints a table of medians; asserts nothing.

Run ``python -m slpterm.bench`` (``--help`` for the options). It generates a seeded synthetic clinic
(10,000 patients / 100,000 sessions by default) once into ``--data-root`` and reuses it on later
runs; writes (trial tallies, exports) go to a scratch copy that is thrown away. ``--big`` adds a
100,000-patient / 1,000,000-session clinic for start-up, the filter, memory and file size.

Measurements (``--only`` takes these names):

- ``startup``: a real ``slpterm`` process in tmux, from launch until the caseload status line shows
  the patient count; the same for a bare Textual app showing one label (the floor); the ratio.
  slpterm's modules are compiled to bytecode first, as an install does.
- ``memory``: peak resident memory (VmHWM) of that process once the caseload and its "Needs"
  column are loaded and the process is idle.
- ``filter``: in ``App.run_test``, one key event typed into the caseload filter until the table
  holds the filtered rows and the screen was refreshed; also the caseload index's filter alone.
  Keys are sent as the terminal driver sends them (``pilot.press`` would add its waits for an
  idle CPU).
  ``keystroke floor`` is the same for a bare Textual Input.
- ``tally``: the same for one trial key (``c``) on the session screen until the goal's count on
  screen went up; the trial is committed (``synchronous=FULL``) before the screen updates, and the
  bench checks it through a separate connection after each press.
- ``patient``: opening the chart of a patient with 500 past sessions, and of a Medicare patient with
  2,000, until it is filled in (``tally`` also runs on that 2,000-session patient).
- ``coding``: reading, coding and scrubbing every session of the clinic (sessions per second).
- ``export``: ``slpterm export`` as a whole process of the first 10,000 signed encounters (by date
  of service, whole days) in each format: wall and CPU time, peak memory (VmHWM).
- ``dbsize``: the data file's size per 100,000 sessions.
- ``remittance``: ``RemittanceService.import_file`` of a synthetic 835 (005010X221A1) paying 10,000
  claims (generated claim numbers, each with a service line, a write-off and a coinsurance) into a
  fresh data file: reading, posting and listing what needs work.
- ``icd10``: in a fresh process with slpterm's ICD-10-CM module imported, the first check of a
  diagnosis code outside the SLP list (the whole code set is read for that code's letter) and the
  process's peak memory; also the engine alone coding synthetic sessions dated in 2027 (the shipped
  2027 code set and the FY2027 ICD-10-CM release).

``startup``, ``filter``, ``tally`` and ``patient`` also measure what the user sees: the real app in a
pseudo-terminal, key bytes in, until the painted frame with the result has arrived, beside bare
Textual apps measured the same way and printed as ratios to them (``slpterm.bench_frames``).
``--compare FILE`` prints each figure's change from an earlier ``--json FILE`` (``slpterm.bench_compare``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from collections.abc import Callable

from slpterm import bench_compare, bench_frames
from slpterm.export.formats import format_ids

MEASUREMENTS = ("startup", "memory", "filter", "tally", "patient", "coding", "export", "dbsize", "icd10", "audit",
                "remittance")
BIG_MEASUREMENTS = ("startup", "memory", "filter", "dbsize")
EXPORT_FORMATS = format_ids()
EXPORT_COUNT = 10_000
LONG_HISTORY_SESSIONS = 500
# Patients with a long history added to the clinic: sessions and payer (a Medicare patient's
# year-to-date amount counts every earlier session of the year, so coding reads all of them).
LONG_HISTORIES = ((500, "commercial"), (2000, "medicare"))
# One tmux server per bench process: two benches on one machine must not share (or kill) a server.
TMUX_SOCKET = f"slpterm-bench-{os.getpid()}"
SCREEN_SIZE = (120, 40)


@dataclass
class Result:
    """One line of the table: the median of ``samples`` (seconds unless ``unit`` says otherwise)."""

    name: str
    clinic: str
    samples: list[float]
    unit: str = "ms"
    target: str = ""
    met: bool | None = None
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else float("nan")

    def shown(self) -> str:
        value = self.median
        if self.unit == "ms":
            return f"{value * 1000:,.1f} ms"
        if self.unit == "s":
            return f"{value:,.2f} s"
        if self.unit == "x":
            return f"{value:.2f}x"
        if self.unit == "/s":
            return f"{value:,.0f} /s"
        if self.unit == "MB":
            return f"{value:,.0f} MB"
        return f"{value:,.2f} {self.unit}"


@dataclass
class Clinic:
    label: str
    folder: Path
    patients: int
    sessions: int
    generation_seconds: float | None
    generated_now: bool

    @property
    def database(self) -> Path:
        return self.folder / "slpterm.sqlite3"


@dataclass
class Bench:
    repeats: int
    heavy_repeats: int
    root: Path
    results: list[Result] = field(default_factory=list)

    def add(self, result: Result) -> Result:
        self.results.append(result)
        value = result.shown()
        print(f"  {result.name} [{result.clinic}]: {value}" + (f"  ({result.note})" if result.note else ""),
              file=sys.stderr, flush=True)
        return result


# -- clinics ----------------------------------------------------------------------------------------

def _label(patients: int, sessions: int) -> str:
    def short(n: int) -> str:
        return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else (
            f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n))
    return f"{short(patients)}/{short(sessions)}"


def ensure_clinic(root: Path, patients: int, sessions: int, seed: int) -> Clinic:
    """The synthetic clinic of that size, generated once (the generation time is kept in a marker)."""
    folder = root / f"clinic-{patients}p-{sessions}s-seed{seed}"
    marker = folder / "bench-complete.json"
    label = _label(patients, sessions)
    if marker.exists():
        info = json.loads(marker.read_text())
        return Clinic(label, folder, patients, sessions, info.get("seconds"), False)
    if folder.exists():
        shutil.rmtree(folder)
    from slpterm.demo import generate_synthetic

    print(f"Generating the {label} clinic in {folder} (once)…", file=sys.stderr, flush=True)
    started = time.perf_counter()
    summary = generate_synthetic(folder, patients=patients, sessions=sessions, seed=seed)
    seconds = time.perf_counter() - started
    marker.write_text(json.dumps({"seconds": seconds, "participants": summary.participants,
                                  "file_bytes": summary.file_bytes, "generated": datetime.now().isoformat()}))
    return Clinic(label, folder, patients, sessions, seconds, True)


def scratch_copy(clinic: Clinic, root: Path) -> Path:
    """A throw-away copy of the clinic's data directory for measurements that write."""
    target = root / f"scratch-{clinic.folder.name}"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    from slpterm.store.db import copy_database

    copy_database(clinic.database, target / clinic.database.name)
    return target


def _count(database: Path, sql: str, params: tuple = ()) -> int:
    from slpterm.store import datafile

    connection = datafile.connect(database, read_only=True)
    try:
        return int(connection.execute(sql, params).fetchone()[0])
    finally:
        connection.close()


def add_long_history_patient(data_dir: Path, sessions: int = LONG_HISTORY_SESSIONS, seed: int = 500,
                             payer_kind: str = "commercial") -> str:
    """Chart one more patient with ``sessions`` signed past sessions on weekdays up to yesterday
    (the demo builder writes them); a Medicare patient's year-to-date amount counts every earlier
    session of the year."""
    import random
    from datetime import timedelta

    from slpterm.demo import content
    from slpterm.demo.builder import ClinicBuilder, ClinicianInfo
    from slpterm.demo.synthetic import _SyntheticClinic, _weekdays
    from slpterm.demo.writing import write_batch
    from slpterm.domain.vocab import PayerKind, PlanStatus
    from slpterm.store import open_store

    store = open_store(data_dir)
    try:
        today = date.today()
        clinician = store.clinic.clinicians()[0]
        builder = ClinicBuilder(random.Random(seed), today, trials_per_goal=(6, 12), goals_per_session=(1, 2))
        info = ClinicianInfo(clinician.id, clinician.first_name, clinician.last_name, clinician.credentials,
                             clinician.role)
        days = _weekdays(today - timedelta(days=int(sessions * 7 / 5) + 30), today - timedelta(days=1))
        start = days[0] - timedelta(days=14)
        profile_key = next(key for key, profile in content.PROFILES.items() if not profile.school_age)
        profile = content.PROFILES[profile_key]
        patient = builder.add_patient(profile, "Longhistory", f"Benchmark{sessions}", external_id=f"BENCH-{sessions}",
                                      age=70, payer_kind=PayerKind(payer_kind), episode_start=start)
        plan_start = start
        while plan_start <= today:
            plan = builder.add_plan(patient, plan_start, days=90, certified_on=plan_start + timedelta(days=3),
                                    status=PlanStatus.CERTIFIED)
            plan_start = plan.end + timedelta(days=1)
        writer = _SyntheticClinic(builder, [info])
        for day in days[-sessions:]:
            appointment = writer._appointment(patient, day, info, False)
            builder.add_participation(appointment, patient)
        write_batch(store, builder.take_rows())
        return patient.id
    finally:
        store.close()


# -- start-up and memory (real processes in tmux) -----------------------------------------------------

def _tmux(*args: str) -> subprocess.CompletedProcess:
    # A pane inherits the server's environment: with COLUMNS/LINES from the caller's terminal the app
    # would size itself by them instead of by the pane.
    environment = {name: value for name, value in os.environ.items() if name not in ("COLUMNS", "LINES")}
    return subprocess.run(["tmux", "-L", TMUX_SOCKET, "-f", "/dev/null", *args], capture_output=True, text=True,
                          env=environment)


class Terminal:
    """A private tmux server (its own socket) that runs one command per session."""

    def __init__(self) -> None:
        if shutil.which("tmux") is None:
            raise RuntimeError("tmux is not installed; the start-up measurement needs it")
        _tmux("new-session", "-d", "-s", "keepalive", "-x", "80", "-y", "24", "sleep 86400")
        self.socket = _tmux("display-message", "-p", "-t", "keepalive", "#{socket_path}").stdout.strip()
        self.serial = 0

    def run_until(self, command: list[str], pattern: re.Pattern, timeout: float = 120,
                  after: Callable[[int], float | None] | None = None) -> tuple[float, float | None]:
        """Seconds from launch until ``pattern`` is on the screen, and ``after(pid)``'s value."""
        self.serial += 1
        name = f"run{self.serial}"
        width, height = SCREEN_SIZE
        shell_command = "exec " + " ".join(_quote(part) for part in command)
        started = time.perf_counter()
        _tmux("new-session", "-d", "-s", name, "-x", str(width), "-y", str(height), shell_command)
        try:
            while True:
                screen = _tmux("capture-pane", "-p", "-t", name).stdout
                if pattern.search(screen):
                    elapsed = time.perf_counter() - started
                    break
                if time.perf_counter() - started > timeout:
                    raise RuntimeError(f"{pattern.pattern!r} did not appear within {timeout:.0f} s; screen:\n{screen}")
                time.sleep(0.005)
            extra = None
            if after is not None:
                pid = int(_tmux("display-message", "-p", "-t", name, "#{pane_pid}").stdout.strip())
                extra = after(pid)
            return elapsed, extra
        finally:
            _tmux("kill-session", "-t", name)

    def close(self) -> None:
        _tmux("kill-server")
        # The server leaves its socket behind; each bench process has its own, so remove it.
        if self.socket:
            Path(self.socket).unlink(missing_ok=True)


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def peak_rss_when_idle(pid: int, quiet_seconds: float = 1.0, timeout: float = 120) -> float:
    """Peak resident memory (MB) of ``pid`` once it used no CPU for ``quiet_seconds``."""
    deadline = time.perf_counter() + timeout
    last = _cpu_ticks(pid)
    quiet_since = time.perf_counter()
    while time.perf_counter() < deadline:
        time.sleep(0.1)
        ticks = _cpu_ticks(pid)
        if ticks != last:
            last, quiet_since = ticks, time.perf_counter()
        elif time.perf_counter() - quiet_since >= quiet_seconds:
            break
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc (Linux only)")


def ensure_bytecode() -> None:
    """Compile slpterm's modules, as installing a package does. The floor imports only installed,
    compiled packages; an editable install run with PYTHONDONTWRITEBYTECODE set would otherwise
    compile slpterm from source at every start and measure the compiler, not the app."""
    import compileall

    import slpterm

    compileall.compile_dir(Path(slpterm.__file__).parent, quiet=1)


def measure_startup(bench: Bench, clinic: Clinic, *, memory: bool, startup: bool) -> None:
    ensure_bytecode()
    expected = _count(clinic.database, "SELECT count(*) FROM patient WHERE archived_at IS NULL")
    pattern = re.compile(rf"\b{expected} patients")
    floor_script = bench.root / "floor_app.py"
    floor_script.write_text(bench_frames.LABEL_APP)
    terminal = Terminal()
    floors: list[float] = []
    apps: list[float] = []
    peaks: list[float] = []
    try:
        for run in range(bench.repeats if startup else 1):
            if startup:
                seconds, _ = terminal.run_until([sys.executable, str(floor_script)], re.compile(bench_frames.LABEL_TEXT))
                floors.append(seconds)
            # Memory is read on the first run only (it waits for the process to go idle).
            watch = memory and run == 0
            seconds, peak = terminal.run_until(
                [sys.executable, "-m", "slpterm", "--data-dir", str(clinic.folder)], pattern,
                after=peak_rss_when_idle if watch else None)
            apps.append(seconds)
            if peak is not None:
                peaks.append(peak)
    finally:
        terminal.close()
    if startup:
        bench.add(Result("start-up: bare Textual app (floor)", clinic.label, floors))
        bench.add(Result("start-up: slpterm to caseload shown", clinic.label, apps))
        ratios = [app / floor for app, floor in zip(apps, floors)]
        ratio = statistics.median(apps) / statistics.median(floors)
        bench.add(Result("start-up ratio slpterm / floor", clinic.label, [ratio], unit="x", target="<= 1.5x",
                         met=ratio <= 1.5, note=f"per-run ratios {min(ratios):.2f}-{max(ratios):.2f}"))
    if memory:
        bench.add(Result("peak memory (RSS), caseload open", clinic.label, peaks, unit="MB", target="< 150 MB",
                         met=statistics.median(peaks) < 150, note="VmHWM once idle, needs column loaded"))


# -- Pilot measurements -------------------------------------------------------------------------------

async def _settle(app, pilot) -> None:  # noqa: ANN001
    await pilot.pause()
    for _ in range(100):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not any(worker.is_running for worker in app.workers):
            return


async def _wait(pilot, condition: Callable[..., bool], timeout: float = 30) -> None:  # noqa: ANN001
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise RuntimeError("the screen did not update in time")
        # A plain sleep: Pilot's pause waits for the CPU to go idle, which a worker thread keeps busy.
        await asyncio.sleep(0.001)


def _send_key(app, key: str) -> None:  # noqa: ANN001
    """Deliver one key as the terminal driver would, without Pilot's waits for the process to go idle
    (``pilot.press`` sleeps until the CPU is quiet, which adds tens of milliseconds to every key)."""
    from textual import events

    char = key if len(key) == 1 else {"space": " "}.get(key)
    event = events.Key(key, char)
    event.set_sender(app)
    app._driver.send_message(event)


async def _keystroke(app, pilot, key: str, done: Callable[..., bool]) -> float:  # noqa: ANN001
    """Seconds from the key event to ``done()`` holding, including the screen update that follows
    (``pilot.pause(0)`` drains every widget's queue, then refreshes the screen)."""
    started = time.perf_counter()
    _send_key(app, key)
    await _wait(pilot, done)
    return time.perf_counter() - started


def _filter_words(middle) -> list[str]:  # noqa: ANN001
    """What a clinician types: a surname prefix, a full first and last name, an ID fragment."""
    last, _, first = middle.name.partition(", ")
    words = [last.lower()[:4], f"{first.lower()} {last.lower()}"[:14]]
    digits = "".join(char for char in middle.external_id if char.isdigit())
    if digits:
        words.append(digits[-4:])
    return [word for word in words if word]


async def _measure_pilot_floor(presses: int) -> list[float]:
    """A keystroke into an Input of a bare Textual app: what Pilot and Textual cost by themselves."""
    from textual.app import App
    from textual.widgets import Input, Static

    class Floor(App):
        def compose(self):  # noqa: ANN202
            yield Input(id="floor-input")
            yield Static("", id="floor-echo")

        def on_input_changed(self, event: Input.Changed) -> None:
            self.query_one("#floor-echo", Static).update(event.value)

    app = Floor()
    samples: list[float] = []
    async with app.run_test(size=SCREEN_SIZE) as pilot:
        await pilot.pause()
        field_ = app.query_one("#floor-input", Input)
        for index in range(presses):
            expected = len(field_.value) + 1
            samples.append(await _keystroke(app, pilot, "abcdefghij"[index % 10],
                                            lambda expected=expected: len(field_.value) == expected))
    return samples


def measure_pilot_floor(bench: Bench) -> None:
    samples = asyncio.run(_measure_pilot_floor(max(20, bench.repeats * 4)))
    bench.add(Result("keystroke floor: bare Textual Input", "-", samples,
                     note="key event -> Input changed, label updated, screen refreshed"))


_KEY_NAMES = {" ": "space", "-": "minus", ".": "full_stop", "'": "apostrophe", ",": "comma"}


async def _measure_filter(data_dir: Path, repeats: int) -> tuple[list[float], list[float], list[float], int]:
    from slpterm.store import open_store
    from slpterm.ui.app import build_app
    from slpterm.ui.widgets.virtual_table import VirtualTable

    store = open_store(data_dir)
    try:
        index = store.caseload.index()
        middle_id = index.ids[len(index) // 3]
        words = _filter_words(store.caseload.details([middle_id])[middle_id])
    finally:
        store.close()
    app = build_app(data_dir, owns_process=True)  # as the slpterm command runs it
    keystrokes: list[float] = []
    clears: list[float] = []
    pure: list[float] = []
    async with app.run_test(size=SCREEN_SIZE) as pilot:
        await _settle(app, pilot)
        screen = app.screen
        table = screen.query_one("#patients", VirtualTable)
        await _wait(pilot, lambda: table.row_count == len(index))
        for _ in range(repeats):
            for word in words:
                typed = ""
                for char in word:
                    typed += char
                    expected = len(index.filter(typed))
                    started = time.perf_counter()
                    index.filter(typed)
                    pure.append(time.perf_counter() - started)
                    keystrokes.append(await _keystroke(app, pilot, _KEY_NAMES.get(char, char),
                                                       lambda expected=expected: table.row_count == expected))
                    await _settle(app, pilot)
                clears.append(await _keystroke(app, pilot, "escape", lambda: table.row_count == len(index)))
                await _settle(app, pilot)
    return keystrokes, clears, pure, len(index)


def measure_filter(bench: Bench, clinic: Clinic, target_ms: float) -> None:
    keystrokes, clears, pure, total = asyncio.run(_measure_filter(clinic.folder, bench.repeats))
    met = statistics.median(keystrokes) * 1000 < target_ms
    bench.add(Result("filter keystroke -> rows shown", clinic.label, keystrokes, target=f"< {target_ms:.0f} ms",
                     met=met, note=f"{len(keystrokes)} keystrokes over {total:,} patients; "
                                   f"max {max(keystrokes) * 1000:.0f} ms"))
    bench.add(Result("filter: Esc back to every patient", clinic.label, clears))
    bench.add(Result("filter: the index's filter alone", clinic.label, pure))


async def _measure_tally(data_dir: Path, presses: int, patient_id: str | None = None) -> tuple[list[float], int]:
    from slpterm.services.session_flow import SessionFlow
    from slpterm.ui.app import build_app
    from slpterm.ui.screens.session import SessionScreen
    from slpterm.ui.widgets.goal_tally import GoalTally

    app = build_app(data_dir, owns_process=True)  # as the slpterm command runs it
    samples: list[float] = []
    async with app.run_test(size=SCREEN_SIZE) as pilot:
        await _settle(app, pilot)
        store, services = app.store, app.services
        assert store is not None and services is not None, "the demo clinic is open"
        flow = SessionFlow(store, app.clock)
        clinician_id = store.clinic.clinicians()[0].id
        participant_id = None
        for candidate_patient in [patient_id] if patient_id else store.caseload.index().ids[:200]:
            candidate = flow.start(patient_ids=[candidate_patient], session_type="individual_treatment",
                                   setting="office", date_text=app.clock.today().isoformat(),
                                   clinician_id=clinician_id, evaluation_kind=None)[0]
            if flow.view(candidate).goal_lines:
                participant_id = candidate
                break
        if participant_id is None:
            raise RuntimeError("no patient with plan-of-care goals among the first 200")
        app.push_screen(SessionScreen(services, participant_id))
        await _settle(app, pilot)
        tally = app.screen.query_one("#goals", GoalTally)
        tally.focus()
        await _settle(app, pilot)
        for _ in range(presses):
            before = tally.lines[tally.cursor].total
            samples.append(await _keystroke(app, pilot, "c",
                                            lambda before=before: tally.lines[tally.cursor].total == before + 1))
            on_disk = _count(store.path, "SELECT count(*) FROM trialrecord WHERE participant_id = ? "
                                         "AND voided_at IS NULL AND goal_id = ?",
                             (participant_id, tally.lines[tally.cursor].goal_id))
            if on_disk != before + 1:
                raise RuntimeError(f"the trial is on screen but not on disk ({on_disk} != {before + 1})")
            await _settle(app, pilot)
    return samples, presses


def measure_tally(bench: Bench, clinic: Clinic, scratch: Path, patient_id: str | None = None,
                  sessions: int = 0) -> None:
    samples, presses = asyncio.run(_measure_tally(scratch, max(bench.repeats * 4, 10), patient_id))
    name = "tally keystroke -> count shown + committed"
    if patient_id:
        name += f", patient with {sessions} sessions"
    bench.add(Result(name, clinic.label, samples, target="< 30 ms", met=statistics.median(samples) * 1000 < 30,
                     note=f"{presses} presses; checked on disk through another connection; the coding panel "
                          "re-codes the day in a worker meanwhile"))


async def _measure_patient(data_dir: Path, patient_id: str, sessions: int,
                           repeats: int) -> tuple[list[float], list[float]]:
    """Times until the chart's lines are shown, and until its "what is due" part is filled in too."""
    from textual.widgets import OptionList

    from slpterm.ui.app import build_app
    from slpterm.ui.screens.patient import PatientScreen

    app = build_app(data_dir, owns_process=True)  # as the slpterm command runs it
    shown: list[float] = []
    complete: list[float] = []
    async with app.run_test(size=SCREEN_SIZE) as pilot:
        await _settle(app, pilot)
        services = app.services
        assert services is not None, "the demo clinic is open"
        for _ in range(repeats):
            screen = PatientScreen(services, patient_id)
            started = time.perf_counter()
            app.push_screen(screen)
            await _wait(pilot, lambda screen=screen: screen.chart is not None)
            shown.append(time.perf_counter() - started)
            await _wait(pilot, lambda screen=screen: screen.chart is not None and screen.due is not None)
            complete.append(time.perf_counter() - started)
            items = screen.query_one("#chart-items", OptionList)
            headings = [str(items.get_option_at_index(index).prompt) for index in range(items.option_count)]
            if f"Sessions ({sessions})" not in headings:
                raise RuntimeError(f"the chart does not list {sessions} sessions: {headings[:40]}")
            app.pop_screen()
            await _settle(app, pilot)
    return shown, complete


def measure_patient(bench: Bench, clinic: Clinic, scratch: Path, patient_id: str, sessions: int) -> None:
    shown, complete = asyncio.run(_measure_patient(scratch, patient_id, sessions, bench.repeats))
    bench.add(Result(f"open a patient with {sessions} sessions", clinic.label, shown,
                     target="< 200 ms", met=statistics.median(shown) * 1000 < 200,
                     note="Pilot: push the chart until its lines are shown"))
    bench.add(Result("... and what is due filled in", clinic.label, complete,
                     target="< 200 ms", met=statistics.median(complete) * 1000 < 200,
                     note="the due rules run after the chart is on screen"))


# -- throughput -------------------------------------------------------------------------------------

def measure_coding(bench: Bench, clinic: Clinic) -> None:
    from slpterm.domain.bulk import paused_gc
    from slpterm.services.billing import BillingService, BulkData
    from slpterm.store import open_store

    store = open_store(clinic.folder)
    rates: list[float] = []
    cpu_rates: list[float] = []
    try:
        count = 0
        for _ in range(bench.heavy_repeats):
            started, cpu_started = time.perf_counter(), time.process_time()
            with paused_gc():  # read and coded in one pause, as an export's encounter records are
                billing = BillingService(store, date.today())
                data = BulkData.whole_clinic(store)
                results = billing.code_many(list(data.details), data)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            count = len(results)
            rates.append(count / elapsed)
            cpu_rates.append(count / cpu if cpu > 0 else float("inf"))
            del data, results
    finally:
        store.close()
    bench.add(Result("coding + scrubbing every session", clinic.label, rates, unit="/s", target=">= 5,000 /s",
                     met=statistics.median(rates) >= 5000,
                     note=f"{count:,} session-participants, read + coded, drafts included"))
    bench.add(Result("... per CPU-second (less swayed by a loaded machine)", clinic.label, cpu_rates,
                     unit="/s", note=f"{count:,} session-participants over the process's CPU time"))


ICD_PROBE = """
import datetime, json, resource, sys, time
from slpterm.clinical import icd10
started = time.perf_counter()
result = icd10.check_code(sys.argv[1], on=datetime.date(2026, 11, 2))
elapsed = time.perf_counter() - started
with open("/proc/self/status") as handle:
    peak = next((int(line.split()[1]) / 1024 for line in handle if line.startswith("VmHWM")), None)
print(json.dumps({"seconds": elapsed, "status": str(result.status), "peak_mb": peak}))
"""
ICD_PROBE_CODES = ("M54.50", "S01.00XA", "C78.31", "Z87.8901", "E11.9")


def measure_icd10(bench: Bench) -> None:
    ensure_bytecode()
    seconds, peaks = [], []
    for index in range(max(5, bench.repeats)):
        code = ICD_PROBE_CODES[index % len(ICD_PROBE_CODES)]
        done = subprocess.run([sys.executable, "-c", ICD_PROBE, code], capture_output=True, text=True, check=True)
        answer = json.loads(done.stdout)
        seconds.append(answer["seconds"])
        if answer["peak_mb"] is not None:
            peaks.append(answer["peak_mb"])
    bench.add(Result("first ICD-10-CM look-up of a code outside the SLP list", "-", seconds, target="< 50 ms",
                     met=statistics.median(seconds) < 0.050,
                     note=f"fresh process each, module imported; max {max(seconds) * 1000:.0f} ms; codes {', '.join(ICD_PROBE_CODES)}"))
    if peaks:
        bench.add(Result("peak memory (RSS) after that look-up", "-", peaks, unit="MB", target="< 150 MB",
                         met=max(peaks) < 150, note="VmHWM of the probe process"))
    from slpterm.coding.bench import measure_throughput

    rates = [measure_throughput(20_000, start=date(2027, 1, 4)) for _ in range(bench.heavy_repeats)]
    bench.add(Result("coding engine alone, sessions dated 2027", "-", rates, unit="/s", target=">= 5,000 /s",
                     met=statistics.median(rates) >= 5000,
                     note="synthetic mix, shipped rules: continuing codes billed, individual treatment held for the install"))


EXPORT_PROBE = """
import contextlib, io, json, resource, sys, time
started = time.perf_counter()
from slpterm.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    status = main(["export", *sys.argv[1:]])
elapsed = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_SELF)
with open("/proc/self/status") as handle:
    peak = next((int(line.split()[1]) / 1024 for line in handle if line.startswith("VmHWM")), None)
batch = next((line for line in out.getvalue().splitlines() if line.startswith("Batch ")), "")
print(json.dumps({"seconds": elapsed, "cpu": usage.ru_utime + usage.ru_stime, "status": status,
                  "peak_mb": peak, "batch": batch}), file=sys.stderr)
"""


def _export_last_day(database: Path, count: int) -> str | None:
    """The date of service of the ``count``-th signed session (None when there are fewer)."""
    from slpterm.store import datafile

    connection = datafile.connect(database, read_only=True)
    try:
        row = connection.execute(
            "SELECT s.date_of_service FROM sessionparticipant sp JOIN session s ON s.id = sp.session_id "
            "WHERE sp.status = 'signed' ORDER BY s.date_of_service LIMIT 1 OFFSET ?", (count - 1,)).fetchone()
    finally:
        connection.close()
    return None if row is None else str(row[0])[:10]


def measure_export(bench: Bench, clinic: Clinic, scratch: Path) -> None:
    ensure_bytecode()
    last_day = _export_last_day(scratch / clinic.database.name, EXPORT_COUNT)
    range_arguments = ["--to", last_day] if last_day else []
    sessions = _count(scratch / clinic.database.name,
                      "SELECT count(*) FROM sessionparticipant sp JOIN session s ON s.id = sp.session_id "
                      "WHERE sp.status = 'signed'" + (" AND s.date_of_service <= ?" if last_day else ""),
                      (last_day,) if last_day else ())
    out = Path(tempfile.mkdtemp(prefix="export-", dir=scratch))
    environment = {**os.environ, "SLPTERM_CONFIG_DIR": str(out / "config")}
    try:
        for name in EXPORT_FORMATS:
            seconds, cpu, peaks, batch = [], [], [], ""
            for run in range(bench.heavy_repeats):
                done = subprocess.run([sys.executable, "-c", EXPORT_PROBE, "--format", name, "--include-exported",
                                       "--out", str(out / f"{name}-{run}"), "--data-dir", str(scratch),
                                       *range_arguments], capture_output=True, text=True, env=environment)
                answer = json.loads(done.stderr.strip().splitlines()[-1])
                if answer["status"] != 0:
                    raise RuntimeError(f"slpterm export --format {name} failed:\n{done.stderr}")
                seconds.append(answer["seconds"])
                cpu.append(answer["cpu"])
                batch = answer["batch"]
                if answer["peak_mb"] is not None:
                    peaks.append(answer["peak_mb"])
            label = "837P" if name == "x12" else name
            written = batch.split(":", 1)[1].split(",", 1)[0].strip() if ":" in batch else "?"
            is_837p = name == "x12"
            bench.add(Result(f"export {label}: whole process", clinic.label, seconds, unit="s",
                             target="< 2 s" if is_837p else "",
                             met=statistics.median(seconds) < 2 if is_837p else None,
                             note=f"{sessions:,} signed sessions read, coded and checked; {written} written; "
                                  f"CPU {statistics.median(cpu):.2f} s"))
            if peaks:
                bench.add(Result("... its peak memory (RSS)", clinic.label, peaks, unit="MB",
                                 target="< 100 MiB" if is_837p else "",
                                 met=max(peaks) < 100 if is_837p else None, note="VmHWM of that process"))
    finally:
        shutil.rmtree(out, ignore_errors=True)


AUDIT_BATCH = 20_000
AUDIT_PROBE = """
import json, os, sys, time
from slpterm.cli import main
started = time.perf_counter()
status = main(["audit", "verify", "--data-dir", sys.argv[1]])
elapsed = time.perf_counter() - started
with open("/proc/self/status") as handle:
    peak = next((int(line.split()[1]) / 1024 for line in handle if line.startswith("VmHWM")), None)
print(json.dumps({"seconds": elapsed, "status": status, "peak_mb": peak}), file=sys.stderr)
"""


def _trail_environment(folder: Path) -> dict[str, str]:
    # The trail's anchors are kept beside it, not in the user's config folder.
    return {**os.environ, "SLPTERM_CONFIG_DIR": str(folder.with_name(folder.name + "-config"))}


def ensure_long_trail(root: Path, entries: int) -> Path:
    """The demo clinic with its audit trail grown to ``entries`` sealed, chained entries (made once)."""
    from slpterm.store import datafile
    from slpterm.store.audit import AUDIT_COLUMNS, seal
    from slpterm.store.models import new_id

    folder = root / f"audit-trail-{entries}"
    done = folder / ".complete"
    if done.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(_trail_environment(folder)["SLPTERM_CONFIG_DIR"], ignore_errors=True)
    print(f"Writing an audit trail of {entries:,} entries in {folder} (once)…", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "slpterm", "demo", "--out", str(folder)], check=True,
                   capture_output=True, env=_trail_environment(folder))
    connection = datafile.connect(folder / "slpterm.sqlite3")
    try:
        seq, previous = connection.execute("SELECT seq, hash FROM auditevent ORDER BY seq DESC LIMIT 1").fetchone()
        at = "2026-06-01 12:00:00.000000"
        columns = AUDIT_COLUMNS
        while seq < entries:
            rows = []
            batch_start = seq + 1
            for seq in range(batch_start, min(entries, batch_start - 1 + AUDIT_BATCH) + 1):
                detail = json.dumps({"field": "subjective", "characters": seq % 997})
                stored = seal(seq, at, "clinician", "note-saved", "soapnote", f"note-{seq % 5000}", detail,
                              previous, None)
                rows.append((new_id(), seq, at, "clinician", "note-saved", "soapnote", f"note-{seq % 5000}", detail,
                             previous, stored))
                previous = stored
            connection.execute("BEGIN")
            connection.executemany(f"INSERT INTO auditevent (id, {columns}) VALUES ({', '.join('?' * 10)})", rows)
            connection.execute("COMMIT")
    finally:
        connection.close()
    done.write_text("")
    return folder


def measure_audit(bench: Bench, entries: int) -> None:
    """``slpterm audit verify`` as a whole process on a trail of ``entries``: time and peak memory."""
    ensure_bytecode()
    folder = ensure_long_trail(bench.root, entries)
    seconds, peaks = [], []
    for _ in range(bench.heavy_repeats):
        done = subprocess.run([sys.executable, "-c", AUDIT_PROBE, str(folder)], capture_output=True, text=True,
                              env=_trail_environment(folder))
        answer = json.loads(done.stderr.strip().splitlines()[-1])
        if answer["status"] != 0:
            raise RuntimeError(f"audit verify failed on the benchmark's trail:\n{done.stdout}{done.stderr}")
        seconds.append(answer["seconds"])
        if answer["peak_mb"] is not None:
            peaks.append(answer["peak_mb"])
    label = f"{entries:,} entries"
    bench.add(Result("audit verify: chain, seals, anchors and signatures", label, seconds, unit="s",
                     target="< 10 s at 1M", met=statistics.median(seconds) < 10 * max(entries, 1) / 1_000_000,
                     note="a whole process (slpterm audit verify)"))
    if peaks:
        bench.add(Result("... its peak memory (RSS)", label, peaks, unit="MB", target="< 64 MB",
                         met=max(peaks) < 64, note="VmHWM of that process"))


REMITTANCE_CLAIMS = 10_000


def synthetic_835(claims: int) -> str:
    """An 835 paying ``claims`` generated claims (fictional payer and patients)."""
    body = ["BPR*I*0*C*CHK************20261120", "TRN*1*BENCH0001*1512345678", "N1*PR*BENCH PAYER",
            "N1*PE*BENCH CLINIC*XX*1234567893", "LX*1"]
    for number in range(claims):
        denied = number % 10 == 0
        body += [f"CLP*B{number:06d}-BENCH*{4 if denied else 1}*145.00*{0 if denied else 92.80}*"
                 f"{0 if denied else 23.20}*MB*PCN{number}*11*1",
                 f"NM1*QC*1*PATIENT{number}*BENCH****MI*M{number}", "DTM*232*20261102",
                 f"SVC*HC:92507:GN*145.00*{0 if denied else 92.80}**1", "DTM*472*20261102"]
        body += ["CAS*CO*50*145.00", "AMT*B6*0", "LQ*HE*N115"] if denied else \
            ["CAS*CO*45*29.00", "CAS*PR*2*23.20", "AMT*B6*116.00"]
    segments = ["ISA*00*          *00*          *ZZ*BENCHPAYER     *ZZ*BENCHCLINIC    *261120*0930*^*00501*"
                "000000001*0*P*:", "GS*HP*BENCHPAYER*BENCHCLINIC*20261120*0930*1*X*005010X221A1",
                "ST*835*0001*005010X221A1", *body, f"SE*{len(body) + 2}*0001", "GE*1*1", "IEA*1*000000001"]
    return "".join(segment + "~\n" for segment in segments)


def measure_remittance(bench: Bench) -> None:
    """Importing an 835 of ``REMITTANCE_CLAIMS`` claim payments into a fresh data file, each run."""
    from slpterm.services.remittances import RemittanceService
    from slpterm.store import open_store

    folder = Path(tempfile.mkdtemp(prefix="remittance-", dir=bench.root))
    try:
        era = folder / "bench.835"
        era.write_text(synthetic_835(REMITTANCE_CLAIMS), encoding="ascii")
        seconds, posted = [], 0
        for run in range(bench.heavy_repeats):
            store = open_store(folder / f"data-{run}")
            try:
                started = time.perf_counter()
                report = RemittanceService(store).import_file(era)
                seconds.append(time.perf_counter() - started)
                posted = sum(report.outcomes.values())
            finally:
                store.close()
        bench.add(Result(f"claims import: an 835 of {REMITTANCE_CLAIMS:,} claim payments", "835", seconds, unit="s",
                         target="< 5 s", met=statistics.median(seconds) < 5,
                         note=f"read (pyx12 RawX12File), posted, {posted:,} outcomes and what needs work listed"))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def measure_dbsize(bench: Bench, clinic: Clinic) -> None:
    size = sum(path.stat().st_size for path in clinic.folder.glob("slpterm.sqlite3*"))
    per = size / clinic.sessions * 100_000 / 1_000_000
    bench.add(Result("database size per 100,000 sessions", clinic.label, [per], unit="MB",
                     note=f"file {size / 1_000_000:,.0f} MB for {clinic.sessions:,} sessions"))


# -- the run -----------------------------------------------------------------------------------------

def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f", {pages / 2**30:.0f} GiB RAM"
    except (ValueError, OSError):
        pass
    import textual

    from slpterm.store import datafile

    return (f"{cpu or platform.processor() or platform.machine()}, {os.cpu_count()} CPUs{memory}; "
            f"{platform.system()} {platform.release()}; Python {platform.python_version()}, "
            f"Textual {textual.__version__}, SQLite {datafile.SQLITE_VERSION}")


def format_table(results: list[Result]) -> str:
    """The results as a Markdown table."""
    lines = ["| Measurement | Clinic | Median | Runs | Target | Met | Note |",
             "|---|---|---:|---:|---|---|---|"]
    for result in results:
        met = "" if result.met is None else ("yes" if result.met else "**no**")
        lines.append(f"| {result.name} | {result.clinic} | {result.shown()} | {len(result.samples)} | "
                     f"{result.target} | {met} | {result.note} |")
    return "\n".join(lines)


def _histories(text: str) -> tuple[tuple[int, str], ...]:
    histories = []
    for part in text.split(","):
        sessions, _, payer = part.strip().partition(":")
        try:
            histories.append((int(sessions), payer or "commercial"))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{part!r}: write SESSIONS:PAYER, e.g. 2000:medicare") from None
    return tuple(histories)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m slpterm.bench",
        description="Measure slpterm on a synthetic clinic and print a table of medians (no asserts).",
    )
    parser.add_argument("--patients", type=int, default=10_000, help="patients in the main clinic (10000)")
    parser.add_argument("--sessions", type=int, default=100_000, help="sessions in the main clinic (100000)")
    parser.add_argument("--big", action="store_true",
                        help="also measure start-up, filter, memory and size on a 100k-patient / 1M-session clinic "
                             "(generated once: about 15 minutes and 8 GB)")
    parser.add_argument("--big-patients", type=int, default=100_000, help=argparse.SUPPRESS)
    parser.add_argument("--big-sessions", type=int, default=1_000_000, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=1, help="generator seed (1)")
    parser.add_argument("--repeats", type=int, default=5, help="runs per quick measurement (5)")
    parser.add_argument("--heavy-repeats", type=int, default=3, help="runs of coding and export (3)")
    parser.add_argument("--only", default=",".join(MEASUREMENTS),
                        help=f"comma-separated measurements to run ({','.join(MEASUREMENTS)})")
    parser.add_argument("--data-root", type=Path,
                        default=Path(tempfile.gettempdir()) / "slpterm-bench",
                        help="where the generated clinics are kept between runs (%(default)s)")
    parser.add_argument("--audit-entries", type=int, default=1_000_000,
                        help="length of the audit trail that audit verify is measured on (1000000)")
    parser.add_argument("--long-histories", type=_histories, default=LONG_HISTORIES, metavar="N:PAYER,...",
                        help="patients with a long history added for the chart and tally figures "
                             "(500:commercial,2000:medicare)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write every sample as JSON")
    parser.add_argument("--compare", type=Path, metavar="FILE",
                        help="also print each figure's change in percent from an earlier run's --json FILE")
    return parser


def run(args: argparse.Namespace) -> list[Result]:
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(MEASUREMENTS))
    if unknown:
        raise SystemExit(f"unknown measurement(s): {', '.join(unknown)}; choose from {', '.join(MEASUREMENTS)}")
    args.data_root.mkdir(parents=True, exist_ok=True)
    bench = Bench(repeats=max(1, args.repeats), heavy_repeats=max(1, args.heavy_repeats), root=args.data_root)
    if not set(chosen) - {"icd10", "audit", "remittance"}:  # need no synthetic clinic
        if "icd10" in chosen:
            measure_icd10(bench)
        if "audit" in chosen:
            measure_audit(bench, args.audit_entries)
        if "remittance" in chosen:
            measure_remittance(bench)
        return bench.results
    clinics = [ensure_clinic(args.data_root, args.patients, args.sessions, args.seed)]
    if args.big:
        clinics.append(ensure_clinic(args.data_root, args.big_patients, args.big_sessions, args.seed))
    for clinic in clinics:
        if clinic.generation_seconds is not None:
            bench.add(Result("generate the synthetic clinic (once)", clinic.label, [clinic.generation_seconds],
                             unit="s", note="this run" if clinic.generated_now else "cached from an earlier run"))
    main = clinics[0]
    print(f"Measuring on the {main.label} clinic…", file=sys.stderr, flush=True)
    if "startup" in chosen or "memory" in chosen:
        measure_startup(bench, main, memory="memory" in chosen, startup="startup" in chosen)
    if "startup" in chosen:
        bench_frames.measure_painted_startup(bench, main)
    if {"filter", "tally"} & set(chosen):
        measure_pilot_floor(bench)
    if "filter" in chosen:
        measure_filter(bench, main, target_ms=50)
        bench_frames.measure_painted_filter(bench, main)
    if {"tally", "patient", "export"} & set(chosen):
        scratch = scratch_copy(main, args.data_root)
        try:
            if "tally" in chosen:
                measure_tally(bench, main, scratch)
                bench_frames.measure_painted_tally(bench, main, scratch, bench_frames.patient_with_goals(scratch))
            if {"tally", "patient"} & set(chosen):
                long_histories = [(sessions, add_long_history_patient(scratch, sessions, payer_kind=payer))
                                  for sessions, payer in args.long_histories]
                for sessions, patient_id in long_histories:
                    if "patient" in chosen:
                        measure_patient(bench, main, scratch, patient_id, sessions)
                if "tally" in chosen and long_histories:
                    sessions, patient_id = long_histories[-1]
                    measure_tally(bench, main, scratch, patient_id, sessions)
                    bench_frames.measure_painted_tally(bench, main, scratch, patient_id, sessions,
                                                       chart="patient" in chosen)
            if "export" in chosen:
                measure_export(bench, main, scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    if "coding" in chosen:
        measure_coding(bench, main)
    if "dbsize" in chosen:
        measure_dbsize(bench, main)
    if "icd10" in chosen:
        measure_icd10(bench)
    if "audit" in chosen:
        measure_audit(bench, args.audit_entries)
    if "remittance" in chosen:
        measure_remittance(bench)
    for big in clinics[1:]:
        print(f"Measuring on the {big.label} clinic…", file=sys.stderr, flush=True)
        if "startup" in chosen or "memory" in chosen:
            measure_startup(bench, big, memory="memory" in chosen, startup="startup" in chosen)
        if "startup" in chosen:
            bench_frames.measure_painted_startup(bench, big)
        if "filter" in chosen:
            measure_filter(bench, big, target_ms=150)
            bench_frames.measure_painted_filter(bench, big)
        if "dbsize" in chosen:
            measure_dbsize(bench, big)
    return bench.results


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    earlier = bench_compare.read_earlier(args.compare) if args.compare else None
    started = time.perf_counter()
    results = run(args)
    print(f"slpterm benchmark, {datetime.now().strftime('%Y-%m-%d %H:%M')}; {machine()}")
    print(f"medians of {args.repeats} runs ({args.heavy_repeats} for coding and export); "
          f"whole run {time.perf_counter() - started:,.0f} s")
    print()
    print(format_table(results))
    if args.json:
        args.json.write_text(json.dumps([{**result.__dict__, "median": result.median} for result in results],
                                        indent=2))
    if earlier is not None:
        print()
        print(f"Change from {args.compare} (beyond 10% in bold):")
        print()
        print(bench_compare.comparison_table(earlier, results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

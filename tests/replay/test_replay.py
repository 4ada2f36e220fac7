"""Whole flows typed faster than any clinician store exactly what the same keys store typed slowly.

Each flow of ``flows.py`` is typed on a fresh copy of the demo clinic:
- once slowly (Pilot, each key after the app has settled from the one before): the reference;
- SLPTERM_REPLAY_PILOT times (default 2) with no pause at all between keys (Pilot);
- SLPTERM_REPLAY_TMUX times (default 8) through the real ``slpterm`` process in tmux at 20 ms per
  key while two processes keep both cores busy (SLPTERM_REPLAY_LANES processes at a time, default 3).
Every stored result must equal the reference. With 5 flows the defaults make 50 fast replays; the
counts are printed (``pytest -s``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from slpterm.ui.app import build_app
from conftest import settle_app, type_burst
from replay.flows import FLOWS, Flow, tmux_key
from replay.result import participant_ids, stored_result

PILOT_RUNS = int(os.environ.get("SLPTERM_REPLAY_PILOT", "2"))
TMUX_RUNS = int(os.environ.get("SLPTERM_REPLAY_TMUX", "8"))
# tmux replays run this many at a time (each its own slpterm process), which keeps the run short
# and the cores busier still.
TMUX_LANES = int(os.environ.get("SLPTERM_REPLAY_LANES", "3"))
TMUX_KEY_SECONDS = 0.02
SIZE = (120, 40)
COUNTS: dict[str, int] = {"pilot": 0, "tmux": 0, "differences": 0}


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory) -> Path:
    from slpterm.demo import generate_demo

    folder = tmp_path_factory.mktemp("demo-template") / "data"
    generate_demo(folder)
    return folder


class Replay:
    def __init__(self, template: Path, root: Path) -> None:
        self.template = template
        self.root = root
        self.leave_out = participant_ids(template)
        self.runs = 0
        self._lock = threading.Lock()

    def fresh(self) -> tuple[Path, Path]:
        """A copy of the demo clinic and a config folder of its own (its audit anchors)."""
        with self._lock:
            self.runs += 1
            run = self.root / f"run-{self.runs}"
        shutil.copytree(self.template, run / "data")
        return run / "data", run / "config"

    def result(self, data_dir: Path) -> dict:
        return stored_result(data_dir, self.leave_out)


async def _pilot(replay: Replay, flow: Flow, *, slow: bool, monkeypatch) -> dict:
    data_dir, config = replay.fresh()
    monkeypatch.setenv("SLPTERM_CONFIG_DIR", str(config))
    app = build_app(data_dir)
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        if slow:
            for key in flow.keys:
                await type_burst(app, [key])  # delivered once the app settled from the key before
                await app.workers.wait_for_complete()
        else:
            await type_burst(app, flow.keys)
        await settle_app(app, pilot)
        assert app.save_pending_work()
    return replay.result(data_dir)


@pytest.fixture(scope="module")
def references(demo_template, tmp_path_factory) -> dict[str, dict]:
    import asyncio

    replay = Replay(demo_template, tmp_path_factory.mktemp("reference"))
    monkeypatch = pytest.MonkeyPatch()
    try:
        return {flow.name: asyncio.run(_pilot(replay, flow, slow=True, monkeypatch=monkeypatch)) for flow in FLOWS}
    finally:
        monkeypatch.undo()


def test_the_slow_references_did_what_each_flow_means(references):
    readme = references["readme-session"]["sessions"]
    assert len(readme) == 1 and readme[0]["signed"] and readme[0]["patient"] == "Hollyhock, Pip"
    assert len(readme[0]["techniques"]) == 3 and len(readme[0]["trials"]) == 10
    assert all(readme[0]["note"].values())
    group = references["group-session"]["sessions"]
    assert [s["group_size"] for s in group] == [2, 2] and all(s["note"]["subjective"] for s in group)
    chart = references["new-patient"]["charts"]["Fernsby, Ada"]
    assert chart["coverage"] and chart["diagnoses"] == ["F80.0"] and chart["plans"] and chart["goals"]
    times, = references["times-by-hand"]["sessions"]
    assert times["manual_segments"] and len(times["trials"]) == 3
    addendum, = references["addendum"]["sessions"]
    assert addendum["signed"] and addendum["addenda"] == ["Mother called: practised at home."]


@pytest.mark.parametrize("flow", FLOWS, ids=[flow.name for flow in FLOWS])
async def test_no_pause_between_keys_stores_what_slow_typing_stores(flow, references, demo_template, tmp_path,
                                                                   monkeypatch):
    replay = Replay(demo_template, tmp_path)
    for _ in range(PILOT_RUNS):
        result = await _pilot(replay, flow, slow=False, monkeypatch=monkeypatch)
        COUNTS["pilot"] += 1
        COUNTS["differences"] += result != references[flow.name]
        assert result == references[flow.name]
    print(f"\n{flow.name}: {PILOT_RUNS} Pilot replays with no pause, all equal to the slow run")


# -- the real process in tmux ----------------------------------------------------------------------
needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
BURNER = "while True: pass"


@pytest.fixture(scope="module")
def busy_cores():
    """Two processes that keep both cores busy for as long as the tmux replays run."""
    burners = [subprocess.Popen([sys.executable, "-c", BURNER]) for _ in range(2)]
    yield
    for burner in burners:
        burner.kill()
        burner.wait()


def _tmux_replay(replay: Replay, flow: Flow) -> dict:
    from tmux_terminal import slpterm_terminal

    data_dir, config = replay.fresh()
    terminal = slpterm_terminal("--data-dir", str(data_dir), env={
        "SLPTERM_CONFIG_DIR": str(config), "SLPTERM_STATE_DIR": str(config.parent / "state")})
    try:
        terminal.wait_for("patients", timeout=60)  # the caseload is drawn: type at once
        for key in [*flow.keys, "ctrl+q"]:
            name, literal = tmux_key(key)
            subprocess.run(["tmux", "-L", terminal.socket, "send-keys", "-t", terminal.session,
                            *(["-l"] if literal else []), name], check=True)
            time.sleep(TMUX_KEY_SECONDS)
        deadline = time.monotonic() + 120
        while terminal.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not terminal.alive(), f"slpterm did not quit; the screen shows:\n{terminal.screen()}"
    finally:
        terminal.close()
    return replay.result(data_dir)


@needs_tmux
@pytest.mark.parametrize("flow", FLOWS, ids=[flow.name for flow in FLOWS])
def test_the_real_app_at_20ms_a_key_on_busy_cores_stores_what_slow_typing_stores(flow, references, demo_template,
                                                                                tmp_path, busy_cores):
    sys.path.insert(0, str(Path(__file__).parent.parent / "e2e"))
    from concurrent.futures import ThreadPoolExecutor

    replay = Replay(demo_template, tmp_path)
    with ThreadPoolExecutor(max_workers=TMUX_LANES) as lanes:
        results = list(lanes.map(lambda _: _tmux_replay(replay, flow), range(TMUX_RUNS)))
    COUNTS["tmux"] += len(results)
    differing = sum(result != references[flow.name] for result in results)
    COUNTS["differences"] += differing
    assert differing == 0, next(result for result in results if result != references[flow.name])
    print(f"\n{flow.name}: {TMUX_RUNS} tmux replays at 20 ms a key, both cores busy, all equal to the slow run")


def test_counts(references):
    """Printed last: how many replays ran and how many differed (``pytest -s``)."""
    print(f"\nreplays: {COUNTS['pilot']} Pilot (no pause) + {COUNTS['tmux']} tmux (20 ms/key, busy cores) = "
          f"{COUNTS['pilot'] + COUNTS['tmux']}; differences from the slow runs: {COUNTS['differences']}")
    assert COUNTS["differences"] == 0

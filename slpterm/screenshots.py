"""Screenshots of every main screen, taken from the real app on the demo clinic.

``python scripts/screenshots.py [OUT_DIR]`` writes one SVG per scene (120x40) into ``screenshots/``.
The demo clinic is generated with a fixed ``today`` and seed, the clock is a FakeClock, times are
shown in UTC and cursors do not blink, so the same code gives the same pictures. The scenes are
also used by the snapshot tests.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from pathlib import Path
from collections.abc import Awaitable, Callable

DEMO_TODAY = dt.date(2026, 11, 2)
DEMO_SEED = 2026
FROZEN_NOW = dt.datetime(2026, 11, 2, 15, 0, tzinfo=dt.UTC)
SIZE = (120, 40)
PATIENT_FILTER = "kettl"  # Cornelius Kettleburn: Medicare, progress report overdue


def use_utc() -> None:
    """Show times in UTC so pictures do not depend on the machine's zone."""
    os.environ["TZ"] = "UTC"
    time.tzset()


def make_demo(folder: Path) -> Path:
    from slpterm.demo import generate_demo

    data_dir = Path(folder) / "demo"
    generate_demo(data_dir, today=DEMO_TODAY, seed=DEMO_SEED)
    return data_dir


def build_demo_app(data_dir: Path):  # noqa: ANN201
    from slpterm.domain.clock import FakeClock
    from slpterm.ui.app import build_app

    return build_app(data_dir, clock=FakeClock(FROZEN_NOW))


async def settle(app, pilot) -> None:  # noqa: ANN001
    """Wait for every worker and a refresh, then stop cursors blinking."""
    for _ in range(3):
        await pilot.pause()
        await app.workers.wait_for_complete()
        for screen in app.screen_stack:
            await screen.workers.wait_for_complete()
    await pilot.pause()
    from textual.widgets import Input, TextArea

    for widget in app.screen.query(Input):
        widget.cursor_blink = False
    for widget in app.screen.query(TextArea):
        widget.cursor_blink = False
    app.clear_notifications()
    await pilot.pause()


async def caseload(app, pilot) -> None:  # noqa: ANN001
    from slpterm.ui.screens.caseload import CaseloadScreen

    await settle(app, pilot)
    for _ in range(4):
        if isinstance(app.screen, CaseloadScreen):
            break
        await pilot.press("escape")  # start-up prompts (backup reminder)
        await settle(app, pilot)
    await settle(app, pilot)


async def chart(app, pilot) -> None:  # noqa: ANN001
    await caseload(app, pilot)
    await pilot.press(*PATIENT_FILTER, "enter")
    await settle(app, pilot)


async def progress_report(app, pilot) -> None:  # noqa: ANN001
    from textual.widgets import TextArea

    await chart(app, pilot)
    await pilot.press("w")
    await settle(app, pilot)
    # The report is read in a thread and then focuses its first text: take the picture after that.
    for _ in range(50):
        if isinstance(app.focused, TextArea):
            break
        await pilot.pause(0.05)
    await settle(app, pilot)


async def session(app, pilot) -> None:  # noqa: ANN001
    """A new session with the timer run for 24 minutes, trials tallied and a technique ticked."""
    await caseload(app, pilot)
    await pilot.press(*PATIENT_FILTER, "f3")
    await settle(app, pilot)
    await pilot.press("enter")
    await settle(app, pilot)
    await pilot.press("ctrl+t")
    await settle(app, pilot)
    app.clock.advance(minutes=12)
    await pilot.press(*"ccxcc", "2", *"cnc", "down", *"ccxcx")
    app.clock.advance(minutes=12)
    await pilot.press("ctrl+e")
    await settle(app, pilot)
    await pilot.press("f8", "space", "ctrl+d")
    await settle(app, pilot)
    await pilot.press("f7")
    await settle(app, pilot)


async def start_dialog(app, pilot) -> None:  # noqa: ANN001
    await caseload(app, pilot)
    await pilot.press(*PATIENT_FILTER, "f3")
    await settle(app, pilot)


async def sign_dialog(app, pilot) -> None:  # noqa: ANN001
    await session(app, pilot)
    await pilot.press("ctrl+g")
    await settle(app, pilot)


async def export(app, pilot) -> None:  # noqa: ANN001
    await caseload(app, pilot)
    await pilot.press("f4")
    await settle(app, pilot)


async def settings(app, pilot) -> None:  # noqa: ANN001
    await caseload(app, pilot)
    await pilot.press("f5")
    await settle(app, pilot)


async def help_keys(app, pilot) -> None:  # noqa: ANN001
    await caseload(app, pilot)
    await pilot.press("f1")
    await settle(app, pilot)


async def walkthrough(app, pilot) -> None:  # noqa: ANN001
    await help_keys(app, pilot)
    await pilot.press("w")
    await settle(app, pilot)


async def school(app, pilot) -> None:  # noqa: ANN001
    await caseload(app, pilot)
    await pilot.press("f6")
    await settle(app, pilot)


Scene = Callable[..., Awaitable[None]]
SCENES: dict[str, Scene] = {
    "caseload": caseload,
    "chart": chart,
    "session": session,
    "start-dialog": start_dialog,
    "sign-dialog": sign_dialog,
    "export": export,
    "settings": settings,
    "help": help_keys,
    "walkthrough": walkthrough,
    "progress-report": progress_report,
    "school": school,
}


async def take(name: str, scene: Scene, out_dir: Path, work_dir: Path) -> Path:
    """Run one scene on a fresh demo clinic and save its SVG."""
    data_dir = make_demo(work_dir / name)
    app = build_demo_app(data_dir)
    async with app.run_test(size=SIZE) as pilot:
        await scene(app, pilot)
        path = out_dir / f"{name}.svg"
        path.write_text(app.export_screenshot(title=f"slpterm: {name.replace('-', ' ')}"), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    import argparse
    import asyncio

    parser = argparse.ArgumentParser(description="Write an SVG of every main screen (demo clinic, 120x40).")
    parser.add_argument("out_dir", nargs="?", default="screenshots", help="folder for the SVG files")
    parser.add_argument("--only", action="append", choices=sorted(SCENES), help="take only these scenes")
    args = parser.parse_args(argv)
    use_utc()
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="slpterm-shots-") as work:
        for name, scene in SCENES.items():
            if args.only and name not in args.only:
                continue
            path = asyncio.run(take(name, scene, out_dir, Path(work)))
            print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Snapshot tests of the main screens on the demo clinic (fixed today, seed and clock; UTC; no blink).

Regenerate after a deliberate UI change with ``pytest tests/snapshots --snapshot-update``.
"""

from __future__ import annotations

import os
import time

import pytest

from slpterm import screenshots

SCENES = ["caseload", "chart", "progress-report", "school", "walkthrough", "sign-dialog"]


@pytest.fixture
def utc():
    before = os.environ.get("TZ")
    screenshots.use_utc()
    yield
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.mark.parametrize("scene", SCENES)
def test_screen(scene, snap_compare, tmp_path, utc):
    app = screenshots.build_demo_app(screenshots.make_demo(tmp_path))

    async def run_before(pilot) -> None:
        await pilot.pause()
        await screenshots.SCENES[scene](pilot.app, pilot)

    assert snap_compare(app, terminal_size=screenshots.SIZE, run_before=run_before)


# The screens a clinician uses at the point of care, on a common laptop terminal and a roomy one.
SIZED_SCENES = ["caseload", "start-dialog", "session", "sign-dialog", "export"]
SIZES = [(80, 24), (120, 40)]


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("scene", SIZED_SCENES)
def test_screen_at_size(scene, size, snap_compare, tmp_path, utc):
    app = screenshots.build_demo_app(screenshots.make_demo(tmp_path))

    async def run_before(pilot) -> None:
        await pilot.pause()
        await screenshots.SCENES[scene](pilot.app, pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)

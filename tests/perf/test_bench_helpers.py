"""The benchmark's arithmetic and table, and a smoke run of every measurement on a tiny clinic."""

from __future__ import annotations

import json

from slpterm.bench import MEASUREMENTS, Result, _label, build_parser, format_table
from slpterm.bench_compare import comparison_table, read_earlier
from slpterm.bench_frames import caseload_status, filter_result, table_rows, tally_count


def test_result_reports_the_median_in_its_unit():
    assert Result("x", "c", [0.010, 0.030, 0.020]).shown() == "20.0 ms"
    assert Result("x", "c", [2.0, 4.0]).median == 3.0
    assert Result("x", "c", [5123.4], unit="/s").shown() == "5,123 /s"
    assert Result("x", "c", [1.234], unit="x").shown() == "1.23x"


def test_clinic_labels_are_short():
    assert _label(10_000, 100_000) == "10k/100k"
    assert _label(100_000, 1_000_000) == "100k/1M"
    assert _label(250, 2_500) == "250/2500"


def test_table_marks_missed_targets():
    table = format_table([Result("filter", "10k/100k", [0.04], target="< 50 ms", met=True),
                          Result("tally", "10k/100k", [0.05], target="< 30 ms", met=False)])
    lines = table.splitlines()
    assert lines[0].startswith("| Measurement |")
    assert "| yes |" in lines[2] and "| **no** |" in lines[3]


def test_parser_defaults_to_every_measurement_on_the_10k_clinic():
    args = build_parser().parse_args([])
    assert (args.patients, args.sessions, args.big) == (10_000, 100_000, False)
    assert args.only.split(",") == list(MEASUREMENTS)


def test_compare_prints_each_figures_change_from_an_earlier_json(tmp_path):
    earlier = tmp_path / "earlier.json"
    earlier.write_text(json.dumps([
        {"name": "filter", "clinic": "10k/100k", "median": 0.040, "unit": "ms", "samples": [0.040]},
        {"name": "... its peak memory (RSS)", "clinic": "10k/100k", "median": 100.0, "unit": "MB"},
        {"name": "... its peak memory (RSS)", "clinic": "10k/100k", "median": 200.0, "unit": "MB"},
        {"name": "gone", "clinic": "-", "median": 1.0, "unit": "s"},
    ]))
    now = [Result("filter", "10k/100k", [0.042]), Result("... its peak memory (RSS)", "10k/100k", [100.0], unit="MB"),
           Result("... its peak memory (RSS)", "10k/100k", [300.0], unit="MB"), Result("new one", "-", [0.5], unit="x")]
    lines = comparison_table(read_earlier(earlier), now).splitlines()
    assert lines[2] == "| filter | 10k/100k | 40.0 ms | 42.0 ms | +5.0% |"
    assert lines[3].endswith("| 100 MB | 100 MB | +0.0% |")
    assert lines[4].endswith("| 200 MB | 300 MB | **+50.0%** |")
    assert lines[5] == "| new one | - | | 0.50x | new |"
    assert lines[6] == "| gone | - | 1.00 s | | not measured now |"


def test_compare_names_a_file_that_is_not_bench_output(tmp_path):
    import pytest

    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"a": 1}')
    with pytest.raises(SystemExit, match="not the bench's --json output"):
        read_earlier(wrong)


SESSION_SCREEN = [
    " Goals F7: c correct x incorrect n none u undo",
    "    1. Improve speech intelligibility",
    "      3/4 75%",
    " ▶✓ 2. Produce /r/ in the initial position",
    "      7/12 58%",
]
CASELOAD_SCREEN = [
    " Patient                  ID         Born       School         Payer      Diagnoses       Trend    Needs",
    " Benchmark2000, Longhisto… BENCH-2000 1956-04-06                medicare   F80.0           ███▇█▇██ 1 draft",
    " Abbott, Ann              P-0002     2019-02-25                medicaid   F80.0                    ",
    "",
    "  2 of 10000 patients · 3 unsigned draft notes",
]


def test_the_painted_screen_is_read_as_the_user_sees_it():
    assert tally_count(SESSION_SCREEN) == 12
    assert tally_count(SESSION_SCREEN[:3]) is None
    assert filter_result(10000, 2, "Benchmark2000, Longhistory")(CASELOAD_SCREEN)
    assert not filter_result(10000, 2, "Abbott, Ann")(CASELOAD_SCREEN)
    assert not filter_result(10000, 12, None)(CASELOAD_SCREEN)
    assert not caseload_status(10000, 2).search("2 of the first 500 of 10000 patients (reading the rest…)")
    assert caseload_status(10000).search("10000 patients") and not caseload_status(10000).search("110000 patients")
    rows = table_rows(CASELOAD_SCREEN)
    assert len(rows) == 2 and "███" not in rows[0] and rows[0].endswith("1 draft")


def test_every_measurement_runs_on_a_tiny_clinic(tmp_path, capsys, monkeypatch):
    """A smoke run of the whole benchmark (timings are printed, never asserted), from a terminal
    that exports its size (the apps in tmux must size themselves by their pane, not by these)."""
    import gc
    import math
    import sys
    import shutil

    from slpterm.bench import build_parser, run

    monkeypatch.setenv("COLUMNS", "20")
    monkeypatch.setenv("LINES", "5")
    measurements = "filter,tally,patient,coding,export,dbsize,audit"
    if shutil.which("tmux"):
        measurements += ",startup,memory"
    args = build_parser().parse_args(["--patients", "30", "--sessions", "150", "--repeats", "1", "--heavy-repeats", "1",
                                      "--audit-entries", "3000", "--long-histories", "40:commercial,60:medicare",
                                      "--only", measurements, "--data-root", str(tmp_path)])
    switch_interval = sys.getswitchinterval()
    try:
        results = run(args)
    finally:
        # The bench runs its apps as the slpterm command does, which tunes the whole process.
        gc.unfreeze()
        sys.setswitchinterval(switch_interval)
    names = {result.name for result in results}
    for expected in ("filter keystroke -> rows shown", "tally keystroke -> count shown + committed",
                     "tally keystroke -> count shown + committed, patient with 60 sessions",
                     "open a patient with 40 sessions", "open a patient with 60 sessions",
                     "coding + scrubbing every session", "export 837P: whole process",
                     "database size per 100,000 sessions",
                     "audit verify: chain, seals, anchors and signatures"):
        assert expected in names
    painted = {"keystroke floor (painted): bare Input echo", "filter keystroke -> frame painted",
               "tally floor (painted): bare Static updated on a key",
               "bare SQLite INSERT + COMMIT (WAL, synchronous=FULL)",
               "tally keystroke -> count painted, patient with 60 sessions",
               "tally keystroke -> trial committed, patient with 60 sessions", "chart painted, patient with 60 sessions"}
    assert painted <= names
    assert any(name.startswith("tally keystroke -> count painted, patient with") and "60" not in name for name in names)
    if "startup" in measurements:
        assert {"start-up ratio slpterm / floor", "peak memory (RSS), caseload open",
                "start-up (painted): slpterm first frame, caseload shown", "start-up (painted): fully interactive",
                "... fully interactive / bare first frame", "filter key typed at the first frame -> its rows painted"} <= names
    ratios = [result for result in results if result.unit == "x"]
    assert ratios and all(result.median > 0 for result in ratios)
    painted_times = [result for result in results if "painted" in result.name and result.unit == "ms"]
    assert painted_times and all(min(result.samples) > 0 for result in painted_times)
    assert all(result.samples and all(math.isfinite(value) and value >= 0 for value in result.samples)
               for result in results)

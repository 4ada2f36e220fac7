"""The benchmark's arithmetic and table, and a smoke run of every measurement on a tiny clinic."""

from __future__ import annotations

from slpterm.bench import MEASUREMENTS, Result, _label, build_parser, format_table


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
    if "startup" in measurements:
        assert {"start-up ratio slpterm / floor", "peak memory (RSS), caseload open"} <= names
    assert all(result.samples and all(math.isfinite(value) and value >= 0 for value in result.samples)
               for result in results)

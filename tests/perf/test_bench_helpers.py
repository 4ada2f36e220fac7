"""The benchmark's own arithmetic and table (the measurements themselves are not run in tests)."""

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

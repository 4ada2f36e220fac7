"""The bench's figures beside an earlier run's (``python -m slpterm.bench --compare FILE``).

FILE is what ``--json`` wrote on that run. Figures are matched by measurement, clinic and their order
among lines of the same name (several exports each have a "... its peak memory" line)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

WITHIN = 0.10  # restructuring should keep every figure within 10% of the earlier run's


def _keyed(figures: Iterable[tuple[str, str, Any]]) -> dict[tuple[str, str, int], Any]:
    seen: dict[tuple[str, str], int] = {}
    keyed = {}
    for name, clinic, value in figures:
        occurrence = seen.get((name, clinic), 0)
        seen[(name, clinic)] = occurrence + 1
        keyed[(name, clinic, occurrence)] = value
    return keyed


def read_earlier(path: Path) -> list[dict]:
    try:
        earlier = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise SystemExit(f"--compare {path}: cannot be read as the bench's --json output ({error})") from None
    if not isinstance(earlier, list) or not all(isinstance(item, dict) and "name" in item for item in earlier):
        raise SystemExit(f"--compare {path}: not the bench's --json output (a list of figures)")
    return earlier


def comparison_table(earlier: list[dict], results: list) -> str:  # results: list[slpterm.bench.Result]
    """Each figure of this run beside the earlier one, with the change in percent (beyond 10% in bold)."""
    from slpterm.bench import Result

    before = _keyed((item["name"], item.get("clinic", ""), item) for item in earlier)
    now = _keyed((result.name, result.clinic, result) for result in results)
    lines = ["| Measurement | Clinic | Earlier | Now | Change |", "|---|---|---:|---:|---:|"]
    for key, result in now.items():
        name, clinic, _ = key
        old = before.get(key)
        if old is None or old.get("median") is None:
            lines.append(f"| {name} | {clinic} | | {result.shown()} | new |")
            continue
        old_result = Result(name, clinic, [float(old["median"])], unit=old.get("unit", result.unit))
        if not old_result.median or old_result.unit != result.unit:
            change = "not comparable"
        else:
            percent = (result.median - old_result.median) / old_result.median * 100
            change = f"{percent:+.1f}%"
            if abs(percent) > WITHIN * 100:
                change = f"**{change}**"
        lines.append(f"| {name} | {clinic} | {old_result.shown()} | {result.shown()} | {change} |")
    for key, old in before.items():
        if key not in now:
            shown = Result(key[0], key[1], [float(old["median"])], unit=old.get("unit", "ms")).shown()
            lines.append(f"| {key[0]} | {key[1]} | {shown} | | not measured now |")
    return "\n".join(lines)

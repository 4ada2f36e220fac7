"""Accuracy charts drawn with text characters (terminal, Markdown) as plain data.

``sparkline`` gives one character per session; ``plot_cells`` gives a grid of (character, kind)
cells for a small bar chart with the target line, which a widget colours by kind.
"""

from __future__ import annotations

from collections.abc import Sequence

SPARK_LEVELS = "▁▂▃▄▅▆▇█"
BAR_EIGHTHS = " ▁▂▃▄▅▆▇█"
TARGET_CHAR = "┈"

# Cell kinds for plot_cells
BAR = "bar"
BAR_MET = "bar-met"
TARGET = "target"
AXIS = "axis"
BLANK = "blank"


def sparkline(values: Sequence[int | None], low: int = 0, high: int = 100) -> str:
    """One block character per value on a fixed 0-100 scale; None (no data) is a space."""
    span = max(high - low, 1)
    chars = []
    for value in values:
        if value is None:
            chars.append(" ")
            continue
        clamped = min(max(value, low), high)
        index = min(int((clamped - low) * len(SPARK_LEVELS) / span), len(SPARK_LEVELS) - 1)
        chars.append(SPARK_LEVELS[index])
    return "".join(chars)


def plot_cells(values: Sequence[int], target: int, height: int = 6, bar_width: int = 2,
               gap: int = 1) -> list[list[tuple[str, str]]]:
    """Rows (top first) of cells for a bar chart of accuracies (0-100) with the target as a line.

    Each row starts with a 4-character axis label ("100 ", the target, "  0 "). Bars use eighth
    blocks, so ``height`` rows resolve 8 x ``height`` levels.
    """
    height = max(height, 2)
    levels = height * 8
    target_row = height - 1 - min(int(target * height / 100), height - 1)
    rows: list[list[tuple[str, str]]] = []
    for row in range(height):
        if row == target_row:
            label = f"{target:>3} "
        elif row == 0:
            label = "100 "
        elif row == height - 1:
            label = "  0 "
        else:
            label = "    "
        cells = [(char, AXIS) for char in label] + [("│", AXIS)]
        row_from_bottom = height - 1 - row
        for value in values:
            filled = round(min(max(value, 0), 100) * levels / 100)
            eighths = min(max(filled - row_from_bottom * 8, 0), 8)
            kind = BAR_MET if value >= target else BAR
            for _ in range(bar_width):
                if eighths > 0:
                    cells.append((BAR_EIGHTHS[eighths], kind))
                elif row == target_row:
                    cells.append((TARGET_CHAR, TARGET))
                else:
                    cells.append((" ", BLANK))
            for _ in range(gap):
                cells.append((TARGET_CHAR, TARGET) if row == target_row else (" ", BLANK))
        rows.append(cells)
    return rows


def plot_text(values: Sequence[int], target: int, height: int = 6) -> str:
    """The bar chart as plain text lines (for Markdown and tests)."""
    return "\n".join("".join(char for char, _ in row).rstrip() for row in plot_cells(values, target, height))


CUE = "cue"
MET = "met"
AXIS_WIDTH = 5  # "100 │"


def goal_chart_cells(values: Sequence[int], target: int, cues: str, met_index: int | None, *, height: int = 8,
                     width: int = 80) -> tuple[list[list[tuple[str, str]]], int, int]:
    """A goal's bar chart (see :func:`plot_cells`) with two rows under it: the cue level of each
    session (``cues``, one digit per value) and ``▲`` under the session that met the criterion.

    Only the newest values that fit in ``width`` columns are drawn (bars two columns wide with a gap,
    one column wide without when two do not fit); returns the rows, the index of the first value
    drawn and the columns each value takes.
    """
    room = max(width - AXIS_WIDTH, 1)
    bar_width, gap = (2, 1) if len(values) * 3 <= room else (1, 0)
    first = max(len(values) - room // (bar_width + gap), 0)
    shown = list(values[first:])
    rows = plot_cells(shown, target, height, bar_width, gap)
    cue_row: list[tuple[str, str]] = [(char, AXIS) for char in "cue │"]
    met_row: list[tuple[str, str]] = [(char, AXIS) for char in "    │"]
    for index in range(first, len(values)):
        cue = cues[index] if index < len(cues) else " "
        cue_row += [(cue, CUE)] + [(" ", BLANK)] * (bar_width - 1 + gap)
        met_row += [("▲", MET) if index == met_index else (" ", BLANK)] + [(" ", BLANK)] * (bar_width - 1 + gap)
    return rows + [cue_row, met_row], first, bar_width + gap


def goal_chart_text(values: Sequence[int], target: int, cues: str, met_index: int | None, *, height: int = 8,
                    width: int = 80) -> str:
    """The goal chart as plain text lines (for tests)."""
    rows, _first, _step = goal_chart_cells(values, target, cues, met_index, height=height, width=width)
    return "\n".join("".join(char for char, _ in row).rstrip() for row in rows)

"""A progress report as a printable PDF (US Letter), with each goal's accuracy chart drawn in lines.

fpdf2 is used because it is pure Python (no system libraries, works offline on any laptop) and writes
PDF directly with vector lines for the charts. Names and notes may be in any script, so a Unicode
font installed on the machine (DejaVu Sans, Noto Sans, Arial Unicode, Segoe UI, ...) is embedded
when one is found; otherwise the built-in Helvetica is used, which covers Latin-1 only.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from slpterm.reports.markdown import signature_line
from slpterm.reports.model import GoalProgress, ProgressReportData

_REPLACEMENTS = {"—": "-", "–": "-", "→": "->", "≥": ">=", "≤": "<=", "…": "...", "‘": "'", "’": "'",
                 "“": '"', "”": '"', "•": "-", "✓": "v", "✗": "x"}

CHART_HEIGHT = 32.0  # mm
CHART_WIDTH = 120.0


UNICODE_FONT_CANDIDATES = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/TTF/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf", "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf"),
    ("/System/Library/Fonts/Supplemental/Arial Unicode.ttf", None),
    ("/Library/Fonts/Arial Unicode.ttf", None),
    ("C:/Windows/Fonts/segoeui.ttf", "C:/Windows/Fonts/segoeuib.ttf"),
    ("C:/Windows/Fonts/arial.ttf", "C:/Windows/Fonts/arialbd.ttf"),
)


def unicode_font() -> tuple[Path, Path | None] | None:
    """A Unicode TrueType font on this machine (regular, bold or None), or None."""
    for regular, bold in UNICODE_FONT_CANDIDATES:
        if Path(regular).is_file():
            return Path(regular), Path(bold) if bold and Path(bold).is_file() else None
    return None


def latin1(text: str) -> str:
    for source, target in _REPLACEMENTS.items():
        text = text.replace(source, target)
    return text.encode("latin-1", "replace").decode("latin-1")


def _date(value) -> str:  # noqa: ANN001
    return value.isoformat() if value else "-"


def _chart(pdf, goal: GoalProgress) -> None:  # noqa: ANN001
    """Accuracy per session as bars, the target as a dashed line, on a 0-100% axis."""
    if pdf.will_page_break(CHART_HEIGHT + 12):
        pdf.add_page()
    left = pdf.l_margin + 12
    top = pdf.get_y() + 2
    bottom = top + CHART_HEIGHT
    target = goal.goal.target_accuracy
    pdf.set_draw_color(80, 80, 80)
    pdf.set_line_width(0.3)
    pdf.line(left, top, left, bottom)
    pdf.line(left, bottom, left + CHART_WIDTH, bottom)
    pdf.set_font("Helvetica", size=7)
    for value in (0, 50, 100):
        y = bottom - CHART_HEIGHT * value / 100
        pdf.text(left - 9, y + 1, f"{value}%")
        pdf.line(left - 1, y, left, y)
    points = goal.points
    count = max(len(points), 1)
    slot = CHART_WIDTH / count
    bar = min(slot * 0.6, 10)
    for index, point in enumerate(points):
        x = left + slot * index + (slot - bar) / 2
        height = CHART_HEIGHT * point.accuracy / 100
        if point.accuracy >= target:
            pdf.set_fill_color(46, 139, 87)
        else:
            pdf.set_fill_color(150, 170, 200)
        if height > 0:
            pdf.rect(x, bottom - height, bar, height, style="F")
        pdf.text(x, bottom - height - 1, f"{point.accuracy}")
        if count <= 12 or index % max(count // 8, 1) == 0:
            pdf.text(x - 1, bottom + 4, point.day.strftime("%m-%d"))
    target_y = bottom - CHART_HEIGHT * target / 100
    pdf.set_draw_color(200, 40, 40)
    pdf.set_line_width(0.4)
    with pdf.local_context():
        pdf.set_dash_pattern(dash=1.5, gap=1)
        pdf.line(left, target_y, left + CHART_WIDTH, target_y)
    pdf.set_text_color(200, 40, 40)
    pdf.text(left + CHART_WIDTH + 2, target_y + 1, f"target {target}%")
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_y(bottom + 7)


def render_pdf(report: ProgressReportData, path: Path | None = None,
               created: dt.datetime | None = None) -> bytes:
    """The PDF as bytes; also written to ``path`` when given. ``created`` fixes the creation date."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    source = report.source
    pdf = FPDF(format="letter", unit="mm")
    family, clean = "Helvetica", latin1
    font = unicode_font()
    if font is not None:
        family, clean = "Body", (lambda text: text)
        pdf.add_font(family, "", str(font[0]))
        pdf.add_font(family, "B", str(font[1] or font[0]))
    pdf.set_title(clean(f"Progress report: {source.patient_name}"))
    pdf.set_creator("slpterm")
    pdf.set_creation_date(created or dt.datetime.combine(source.written_on, dt.time(12), dt.UTC))
    pdf.set_auto_page_break(True, margin=15)
    pdf.set_margins(18, 15, 18)
    pdf.add_page()

    def line(text: str, size: float = 10, style: str = "", height: float = 5) -> None:
        pdf.set_font(family, style=style, size=size)
        pdf.multi_cell(0, height, clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    line(f"Progress report: {source.patient_name}", size=15, style="B", height=8)
    if source.clinic_name:
        line(source.clinic_name, size=9)
    pdf.ln(2)
    facts = [
        f"Patient ID: {source.patient_id_text or '-'}    Date of birth: {_date(source.date_of_birth)}",
        f"Diagnoses: {', '.join(source.diagnoses) or '-'}",
        f"Plan of care: {_date(source.plan_start)} to {_date(source.plan_end)}"
        + (f", {source.frequency}" if source.frequency else "")
        + (f"; certified by {source.certifying_physician}" if source.certifying_physician else ""),
        f"Reporting period: {_date(source.period_start)} to {_date(source.period_end)}    "
        f"Written: {_date(source.written_on)}",
        f"Delivered: {report.session_count} sessions on {report.treatment_days} treatment days, "
        f"{report.total_minutes} minutes",
    ]
    if source.clinician:
        facts.append(f"Clinician: {source.clinician}")
    if source.unsigned_sessions:
        facts.append(f"Not counted: {source.unsigned_sessions} unsigned note(s) in the period")
    for fact in facts:
        line(fact, size=10)
    for number, goal in enumerate(report.goals, start=1):
        g = goal.goal
        pdf.ln(3)
        if pdf.will_page_break(30):
            pdf.add_page()
        line(f"Goal {number}: {g.text}", size=11, style="B", height=6)
        line(f"Baseline: {g.baseline or '-'}    Criterion: {goal.criterion_text}", size=9, height=4.5)
        line(f"Trend: {goal.trend_text}    Cue levels: {goal.cue_text}", size=9, height=4.5)
        if goal.points:
            sessions = ", ".join(f"{p.day.strftime('%m-%d')} {p.correct}/{p.total} ({p.accuracy}%)"
                                 for p in goal.points)
            line(f"Sessions: {sessions}", size=8, height=4)
            _chart(pdf, goal)
        else:
            line("No trial data in this period.", size=9, height=4.5)
    for title, text in (("Assessment", source.assessment), ("Plan", source.plan_text)):
        pdf.ln(3)
        line(title, size=12, style="B", height=7)
        line(text.strip() or "-", size=10)
    pdf.ln(6)
    line(signature_line(report), size=10, style="B")
    data = bytes(pdf.output())
    if path is not None:
        Path(path).write_bytes(data)
    return data

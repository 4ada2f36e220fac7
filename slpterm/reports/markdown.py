"""A progress report as Markdown."""

from __future__ import annotations

from slpterm.reports.charts import sparkline
from slpterm.reports.model import ProgressReportData


def _date(value) -> str:  # noqa: ANN001
    return value.isoformat() if value else "—"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def signature_line(report: ProgressReportData) -> str:
    source = report.source
    if source.signed_at is None:
        return "DRAFT: not signed"
    return f"Signed {source.signed_at.astimezone().strftime('%Y-%m-%d %H:%M')} by {source.signer_name}"


def render_markdown(report: ProgressReportData) -> str:
    """The whole report: header, period, delivered sessions, one section per goal, assessment, plan."""
    source = report.source
    lines = [
        f"# Progress report: {source.patient_name}",
        "",
        f"- Patient ID: {source.patient_id_text or '—'}; date of birth: {_date(source.date_of_birth)}",
        f"- Diagnoses: {', '.join(source.diagnoses) or '—'}",
        f"- Plan of care: {_date(source.plan_start)} to {_date(source.plan_end)}"
        + (f", {source.frequency}" if source.frequency else "")
        + (f"; certified by {source.certifying_physician}" if source.certifying_physician else ""),
        f"- Reporting period: {_date(source.period_start)} to {_date(source.period_end)}; "
        f"written {_date(source.written_on)}",
        f"- Delivered: {report.session_count} session{'s' if report.session_count != 1 else ''} on "
        f"{report.treatment_days} treatment day{'s' if report.treatment_days != 1 else ''}, "
        f"{report.total_minutes} minutes",
    ]
    if source.clinic_name or source.clinician:
        lines.append(f"- Clinician: {', '.join(part for part in (source.clinician, source.clinic_name) if part)}")
    if source.unsigned_sessions:
        lines.append(f"- Not counted: {source.unsigned_sessions} unsigned note(s) in the period")
    lines += ["", "## Goals", ""]
    if not report.goals:
        lines.append("No goals on the plan of care.")
    for number, goal in enumerate(report.goals, start=1):
        g = goal.goal
        lines += [
            f"### Goal {number}: {g.text}",
            "",
            f"- Area: {g.disorder_area.replace('_', ' ')}; {'long' if g.term == 'long' else 'short'}-term; "
            f"status {g.status}",
            f"- Baseline: {g.baseline or '—'}",
            f"- Criterion: {goal.criterion_text}",
            f"- Trend: {goal.trend_text}" + (f"  `{sparkline(goal.accuracies)}`" if goal.points else ""),
            f"- Cue levels: {goal.cue_text}",
            f"- Period total: {goal.overall.fraction_text() if goal.overall.total else 'no trials'}",
            "",
        ]
        if goal.points:
            lines += ["| Session | Trials | Accuracy | Target |", "|---|---|---|---|"]
            for point in goal.points:
                mark = "at or above" if point.accuracy >= g.target_accuracy else "below"
                lines.append(f"| {point.day.isoformat()} | {point.correct}/{point.total} | {point.accuracy}% | {mark} |")
            lines.append("")
    lines += ["## Assessment", "", source.assessment.strip() or "—", "",
              "## Plan", "", source.plan_text.strip() or "—", "",
              "---", "", signature_line(report), ""]
    return "\n".join(lines)

"""Progress reports, accuracy charts and school service logs, from plain data (no UI, no database).

Public API:

- ``model``: ``ReportInput`` (patient, plan, period, ``GoalInput`` with ``GoalSession`` trials,
  ``SessionMinutes``, assessment/plan text, signature) -> ``compute_report(source) ->
  ProgressReportData`` with one ``GoalProgress`` per goal (``points``: accuracy per session,
  ``trend``/``slope``, ``criterion_met``/``met_on``, ``by_cue``, ``first_cue``/``last_cue``);
  ``trend_of(accuracies)``, ``criterion_run(points, target, sessions)``,
  ``draft_assessment(report)``, ``draft_plan(report, frequency)``. The definitions are in the
  module docstring of ``slpterm.reports.model``.
- ``markdown.render_markdown(report) -> str``.
- ``pdf.render_pdf(report, path=None, created=None) -> bytes`` (fpdf2; US Letter; charts drawn
  with lines).
- ``charts.sparkline(values) -> str``; ``charts.plot_cells(values, target, height)`` (cells for a
  bar chart with the target line); ``charts.plot_text(...)``.
- ``school``: ``IepRequirement``, ``student_minutes(...) -> StudentMinutes`` (required vs delivered
  per week/month), ``ServiceLogEntry``, ``SERVICE_LOG_COLUMNS``, ``service_log_csv(entries) -> str``.
"""

from slpterm.reports.model import (
    GoalInput,
    GoalProgress,
    GoalSession,
    ProgressReportData,
    ReportInput,
    SessionMinutes,
    Trend,
    compute_report,
)

__all__ = [
    "GoalInput",
    "GoalProgress",
    "GoalSession",
    "ProgressReportData",
    "ReportInput",
    "SessionMinutes",
    "Trend",
    "compute_report",
]

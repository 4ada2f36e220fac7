"""A progress report for one plan of care: every goal's numbers and chart, editable assessment and
plan, signing and export to Markdown and PDF.

The numbers come from ``slpterm.services.progress``; typing autosaves the draft; a signed report is
shown locked.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Header, Input, Label, Static, TextArea

from slpterm.ui.widgets.progress_chart import ProgressChart

if TYPE_CHECKING:
    from slpterm.services.clinic import Reports

AUTOSAVE_SECONDS = 0.8


def goal_summary(number: int, goal) -> str:  # noqa: ANN001
    """The text block above a goal's chart."""
    g = goal.goal
    sessions = "  ".join(f"{p.day.strftime('%m-%d')} {p.accuracy}%" for p in goal.points[-8:])
    if len(goal.points) > 8:
        sessions = f"… {sessions}"
    return (
        f"Goal {number} [{g.disorder_area.replace('_', ' ')}] {g.text}\n"
        f"  Baseline {g.baseline or '—'} · target {g.target_accuracy}% over {g.criterion_sessions} sessions\n"
        f"  Sessions: {sessions or 'no trial data in the period'}\n"
        f"  Trend: {goal.trend_text} · criterion {goal.criterion_text}\n"
        f"  Cues: {goal.cue_text}"
    )


class PeriodScreen(ModalScreen[tuple[dt.date, dt.date] | None]):
    """Change the reporting period (e.g. to an IEP grading period)."""

    DEFAULT_CSS = """
    PeriodScreen { align: center middle; }
    #period-box { width: 70; height: auto; border: round $accent; background: $panel; padding: 1 2; }
    #period-box Input { margin-bottom: 1; }
    #period-problems { color: $error; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="period.cancel"),
                Binding("ctrl+s", "save", "Use these dates", id="period.save")]

    def __init__(self, start: dt.date, end: dt.date) -> None:
        super().__init__()
        self._start = start
        self._end = end

    def compose(self) -> ComposeResult:
        with Vertical(id="period-box"):
            yield Static("Reporting period (YYYY-MM-DD). ctrl+s uses the dates, Esc keeps the old ones.")
            yield Label("From")
            yield Input(self._start.isoformat(), id="period-start")
            yield Label("To")
            yield Input(self._end.isoformat(), id="period-end")
            yield Static("", id="period-problems")
        yield Footer()

    def action_save(self) -> None:
        try:
            start = dt.date.fromisoformat(self.query_one("#period-start", Input).value.strip())
            end = dt.date.fromisoformat(self.query_one("#period-end", Input).value.strip())
        except ValueError:
            self.query_one("#period-problems", Static).update("Write both dates as YYYY-MM-DD, e.g. 2026-10-05.")
            return
        if end < start:
            self.query_one("#period-problems", Static).update("The period ends before it starts.")
            return
        self.dismiss((start, end))

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()

    def action_cancel(self) -> None:
        self.dismiss(None)


class ProgressReportScreen(Screen):
    """Progress report of one plan; ctrl+g signs, ctrl+e writes Markdown and PDF."""

    DEFAULT_CSS = """
    #report-banner { height: 3; padding: 0 1; background: $boost; }
    #report-body { height: 1fr; }
    #report-goals { width: 1fr; padding: 0 1; }
    .goal-summary { margin-top: 1; }
    #report-text { width: 52; padding: 0 1; }
    #report-assessment { height: 1fr; }
    #report-plan { height: 8; }
    #report-status { height: auto; max-height: 3; padding: 0 1; color: $text-muted; }
    #report-status.problem { color: $error; }
    #report-dating { height: auto; }
    #report-written-on { width: 12; }
    #report-backdate-reason { width: 1fr; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="report.save"),
        Binding("ctrl+g", "sign", "Sign", id="report.sign"),
        Binding("ctrl+e", "export", "Export MD+PDF", id="report.export", priority=True),
        Binding("ctrl+d", "redraft", "Redraft text", id="report.redraft", priority=True),
        Binding("ctrl+k", "period", "Period", id="report.period", priority=True),
        Binding("escape", "back", "Back", id="report.back"),
    ]

    def __init__(self, reports: Reports, plan_id: str, report_id: str | None = None, *,
                 visit_date: dt.date | None = None) -> None:
        """``visit_date``: the report is for that visit (opened from its finding) and is offered
        dated that day."""
        super().__init__()
        self.reports = reports
        self.plan_id = plan_id
        self._report_id = report_id
        self._visit_date = visit_date
        self.state = None
        self._loaded_text: tuple[str, str] | None = None
        self._date_problem = ""
        self._left_with_bad_date: tuple[str, str] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading the progress report…", id="report-banner", markup=False)
        with Horizontal(id="report-body"):
            yield VerticalScroll(id="report-goals")
            with Vertical(id="report-text"):
                yield Label("Written on · reason, if dated before today")
                with Horizontal(id="report-dating"):
                    yield Input(id="report-written-on", placeholder="YYYY-MM-DD", compact=True)
                    yield Input(id="report-backdate-reason", compact=True,
                                placeholder="e.g. written at the visit")
                yield Label("Assessment of progress")
                yield TextArea(id="report-assessment", soft_wrap=True)
                yield Label("Plan (goal changes, frequency)")
                yield TextArea(id="report-plan", soft_wrap=True)
        yield Static("", id="report-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self._load()

    # -- loading -------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="report-load")
    def _load(self, period: tuple[dt.date, dt.date] | None = None) -> None:
        from slpterm.domain.errors import StoreError

        try:
            if period is not None and self.state is not None and not self.state.signed:
                state = self.reports.recompute(self.state, period_start=period[0], period_end=period[1])
            else:
                state = self.reports.report(self.plan_id, self._report_id)
        except StoreError as error:
            self.app.call_from_thread(self.notify, str(error), severity="error")
            return
        self.app.call_from_thread(self._show, state)

    def _show(self, state) -> None:  # noqa: ANN001
        self.state = state
        self._report_id = state.report_id
        data = state.data
        source = data.source
        status = (f"SIGNED {source.signed_at.astimezone().strftime('%Y-%m-%d %H:%M')} by {source.signer_name} · locked"
                  if data.signed else ("draft · saved as you type" if state.report_id else "new draft · not saved yet"))
        self.sub_title = f"Progress report · {source.patient_name}"
        self.query_one("#report-banner", Static).update(
            f"{source.patient_name} · plan {source.plan_start} to {source.plan_end} {source.frequency} · {status}\n"
            f"Period {source.period_start} to {source.period_end} (ctrl+k changes) · written {source.written_on}\n"
            f"Delivered: {data.session_count} signed sessions on {data.treatment_days} treatment days, "
            f"{data.total_minutes} min" + (f" · {source.unsigned_sessions} unsigned note(s) not counted"
                                            if source.unsigned_sessions else "")
        )
        goals = self.query_one("#report-goals", VerticalScroll)
        goals.remove_children()
        widgets = []
        for number, goal in enumerate(data.goals, start=1):
            widgets.append(Static(goal_summary(number, goal), classes="goal-summary", markup=False))
            if goal.points:
                widgets.append(ProgressChart(goal.accuracies, goal.goal.target_accuracy,
                                             [p.day.strftime("%m-%d") for p in goal.points], height=5))
        if not widgets:
            widgets.append(Static("This plan of care has no goals yet; add them in the chart (g).", markup=False))
        goals.mount_all(widgets)
        self._loaded_text = (source.assessment, source.plan_text)
        for widget_id, value in (("#report-assessment", source.assessment), ("#report-plan", source.plan_text)):
            area = self.query_one(widget_id, TextArea)
            if area.text != value:
                area.load_text(value)
            area.read_only = data.signed
        written_on, reason = self.query_one("#report-written-on", Input), self.query_one("#report-backdate-reason", Input)
        written_on.value, reason.value = source.written_on.isoformat(), state.backdate_reason
        written_on.disabled = reason.disabled = data.signed
        self._left_with_bad_date = None
        self._show_status(
            "Locked: a signed report never changes." if data.signed else
            "ctrl+s saves · ctrl+g signs · ctrl+e writes Markdown and PDF · ctrl+d redrafts the text from the numbers")
        visit, self._visit_date = self._visit_date, None
        if visit is not None and not data.signed and visit != source.written_on:
            written_on.value = visit.isoformat()
            self._show_status(f"Dated {visit}, the visit it is due at: a report written at that visit covers it. "
                              "Give the reason (or change the date), then ctrl+s.")
        if not data.signed:
            self.query_one("#report-assessment", TextArea).focus()

    # -- editing -------------------------------------------------------------------------------
    @on(TextArea.Changed)
    def _changed(self) -> None:
        if self.state is None or self.state.signed:
            return
        # load_text posts Changed too, and under load it arrives late: only a real edit saves.
        if self._texts() == self._loaded_text:
            return
        self._autosave_timer = getattr(self, "_autosave_timer", None)
        if self._autosave_timer is not None:
            self._autosave_timer.stop()
        self._autosave_timer = self.set_timer(AUTOSAVE_SECONDS, self._autosave)

    def _texts(self) -> tuple[str, str]:
        return (self.query_one("#report-assessment", TextArea).text,
                self.query_one("#report-plan", TextArea).text)

    def _with_text(self):  # noqa: ANN202
        assessment, plan_text = self._texts()
        return self.reports.recompute(self.state, assessment=assessment, plan_text=plan_text)

    def _typed_date(self) -> tuple[str, str]:
        return (self.query_one("#report-written-on", Input).value.strip(),
                self.query_one("#report-backdate-reason", Input).value.strip())

    def _dated(self, state):  # noqa: ANN001, ANN202
        """``state`` dated as the date fields say (raises ValidationFailed naming the field). A report
        dated before its period ends covers the period up to that day."""
        from slpterm.domain.errors import ValidationFailed

        text, reason = self._typed_date()
        source = state.data.source
        if (text, reason) == (source.written_on.isoformat(), state.backdate_reason):
            return state
        try:
            written_on = dt.date.fromisoformat(text)
        except ValueError:
            raise ValidationFailed([("Written on", f"{text!r} is not a date; write it as YYYY-MM-DD, "
                                                   "e.g. 2026-10-05")]) from None
        if source.period_start <= written_on < source.period_end:
            state = self.reports.recompute(state, period_end=written_on)
        return self.reports.date_written(state, written_on, reason)

    def _current(self, *, quiet: bool = False):  # noqa: ANN202
        """The report as typed: its text, and its date when the date fields hold together. A date
        that does not is shown (unless ``quiet``) and the report keeps its earlier date."""
        from slpterm.domain.errors import ValidationFailed

        state = self._with_text()
        try:
            return self._dated(state), True
        except ValidationFailed as error:
            self._date_problem = str(error)
            if not quiet:
                self._show_status(self._date_problem, problem=True)
            return state, False

    def _show_status(self, text: str, *, problem: bool = False) -> None:
        status = self.query_one("#report-status", Static)
        status.update(text)
        status.set_class(problem, "problem")

    @on(Input.Submitted, "#report-written-on, #report-backdate-reason")
    def _date_submitted(self) -> None:
        self.action_save()

    def action_save(self, quiet: bool = False) -> None:
        if self.state is None or self.state.signed:
            return
        state, dated = self._current(quiet=quiet)
        self._save(state, dated and not quiet)

    def _autosave(self) -> None:
        self.action_save(quiet=True)

    @work(thread=True, exclusive=True, group="report-save")
    def _save(self, state, announce: bool = True) -> None:  # noqa: ANN001
        from slpterm.domain.errors import StoreError

        try:
            saved = self.reports.save(state)
        except StoreError as error:
            self.app.call_from_thread(self.notify, str(error), severity="error")
            return
        self.app.call_from_thread(self._saved, saved, announce)

    def _saved(self, state, announce: bool = True) -> None:  # noqa: ANN001
        if self.state is None or self.state.signed:
            return
        period_end = self.state.data.source.period_end
        self.state = state
        self._report_id = state.report_id
        self._loaded_text = (state.data.source.assessment, state.data.source.plan_text)
        source = state.data.source
        if source.period_end != period_end:
            self._show(state)
            self._show_status(f"Saved, dated {source.written_on}: the period now ends that day.")
        elif announce:
            self._show_status(f"Saved, dated {source.written_on}"
                              + (f" ({state.backdate_reason})." if state.backdate_reason else "."))

    def action_redraft(self) -> None:
        if self.state is None or self.state.signed:
            return
        from slpterm.reports.model import draft_assessment, draft_plan

        self.query_one("#report-assessment", TextArea).load_text(draft_assessment(self.state.data))
        self.query_one("#report-plan", TextArea).load_text(draft_plan(self.state.data, self.state.data.source.frequency))
        self.action_save()

    def action_period(self) -> None:
        if self.state is None:
            return
        if self.state.signed:
            self.notify("A signed report keeps its period.", severity="warning")
            return
        source = self.state.data.source
        self.app.push_screen(PeriodScreen(source.period_start, source.period_end), self._period_chosen)

    def _period_chosen(self, period) -> None:  # noqa: ANN001
        if period:
            self.state, _ = self._current(quiet=True)
            self._load(period)

    # -- signing and export ------------------------------------------------------------------------
    def action_sign(self) -> None:
        if self.state is None:
            return
        if self.state.signed:
            self.notify("This report is already signed.")
            return
        state, dated = self._current()
        if not dated:
            self.notify("Correct the report's date first (see below).", severity="warning")
            return
        if not state.data.source.assessment.strip():
            self.notify("Write the assessment of progress first (ctrl+d drafts it).", severity="warning")
            return
        clinicians = self.reports.clinicians()
        if not clinicians:
            self.notify("Add yourself as clinician in Settings (F5) first.", severity="warning")
            return
        from slpterm.ui.screens.chart_forms import ConfirmScreen

        source = state.data.source
        dated_text = f"dated {source.written_on}" + (f" ({state.backdate_reason})" if state.backdate_reason else "")
        question = (f"Sign this progress report as {clinicians[0].display_name}, {dated_text}? Signing locks it: the "
                    "period, the numbers, the assessment and the plan cannot change afterwards. The report date "
                    "resets the progress report count for visits on or after it.")
        self.app.push_screen(ConfirmScreen(question), lambda yes: self._sign(state, clinicians[0].id) if yes else None)

    @work(thread=True, exclusive=True, group="report-save")
    def _sign(self, state, clinician_id: str) -> None:  # noqa: ANN001
        from slpterm.domain.errors import StoreError

        try:
            signed = self.reports.sign(state, clinician_id)
        except StoreError as error:
            self.app.call_from_thread(self.notify, str(error), severity="error")
            return
        self.app.call_from_thread(self._show, signed)
        self.app.call_from_thread(self.notify, "Progress report signed and locked.")

    def action_export(self) -> None:
        if self.state is not None:
            self._export(self.state if self.state.signed else self._with_text())

    @work(thread=True, exclusive=True, group="report-export")
    def _export(self, state) -> None:  # noqa: ANN001
        try:
            markdown_path, pdf_path = self.reports.export(state)
        except OSError as error:
            self.app.call_from_thread(self.notify, f"The report could not be written: {error}", severity="error")
            return
        note = "" if state.signed else " (DRAFT: sign before sending)"
        self.app.call_from_thread(self.notify, f"Wrote {markdown_path.name} and {pdf_path.name} in "
                                               f"{pdf_path.parent}{note}", timeout=8)
        self.app.call_from_thread(self.query_one("#report-status", Static).update, f"Exported to {pdf_path}")

    def action_back(self) -> None:
        if self.state is not None and not self.state.signed:
            state, dated = self._current()
            if not dated and self._left_with_bad_date != self._typed_date():
                self._left_with_bad_date = self._typed_date()
                self._show_status(f"{self._date_problem}\nEsc again leaves; the text is kept with the earlier date.",
                                  problem=True)
                self._save(state, False)
                return
            source, before = state.data.source, self.state.data.source
            typed = (source.assessment, source.plan_text, source.written_on, state.backdate_reason) != (
                before.assessment, before.plan_text, before.written_on, self.state.backdate_reason)
            if state.report_id is not None or typed:
                from slpterm.domain.errors import StoreError

                try:
                    self.reports.save(state)
                except StoreError as error:
                    self.notify(str(error), severity="error")
                    return
        self.app.pop_screen()

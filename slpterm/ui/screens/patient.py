"""A patient's chart: what is due, who they are, coverage, diagnoses, plans of care with goals, IEP
minutes and sessions. Arrows move through the chart, Enter edits the line under the cursor, and one
key adds each kind of record (the chart has no text field, so plain letters are safe here).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from slpterm.domain.vocab import GoalTerm, PlanStatus

if TYPE_CHECKING:
    from slpterm.services.clinic import ClinicServices
    from slpterm.ui.screens.chart_forms import ChartForm


def _date(value) -> str:  # noqa: ANN001
    return value.isoformat() if value else "—"


def _words(value: str) -> str:
    return value.replace("_", " ")


SESSIONS_LISTED = 30
ATTENDANCE_LISTED = 5  # the latest missed visits listed under the attendance rate
# The newest plans of care are listed with their goals; older ones (a long history has dozens) are
# counted on one line, so the chart of a long history has as many lines as a short one.
PLANS_LISTED = 6


def chart_lines(chart, sessions, due, session_count: int | None = None,  # noqa: ANN001
                attendance=None) -> list[tuple[str | None, str]]:  # noqa: ANN001
    """(item id or None for a heading, text) for every line of the chart, in display order.

    Item ids are ``kind:record_id`` (patient, coverage, diagnosis, plan, goal, iep, session, due).
    ``sessions`` are the newest first; ``session_count`` is how many there are in all when only the
    newest were read.
    """
    total = len(sessions) if session_count is None else session_count
    patient = chart.patient
    lines: list[tuple[str | None, str]] = []

    def heading(text: str) -> None:
        lines.append((None, text))

    heading("What is due")
    if due is None:
        lines.append(("due:none", "  Working out what is due…"))
    elif due:
        marks = {"error": "✗", "warning": "!", "info": "·"}
        for index, item in enumerate(due):
            lines.append((f"due:{index}", f"  {marks.get(str(item.severity), '·')} {item.message}"))
    else:
        lines.append(("due:none", "  Nothing due."))

    heading("Patient (e edits)")
    who = f"  {patient.first_name} {patient.last_name}   ID {patient.external_id or '—'}   born {_date(patient.date_of_birth)}" \
          f"   sex {patient.sex}   phone {patient.phone or '—'}"
    lines.append((f"patient:{patient.id}", who))
    address = ", ".join(part for part in (patient.address_line1, patient.city, patient.state, patient.postal_code) if part)
    details = []
    if address:
        details.append(f"address {address}")
    if patient.guardian_name:
        details.append(f"guardian {patient.guardian_name} {patient.guardian_phone}".rstrip())
    if patient.school:
        details.append(f"school {patient.school}, grade {patient.grade or '—'}")
    if patient.archived_at:
        details.append(f"ARCHIVED {patient.archived_at.date().isoformat()}")
    if details:
        lines.append((f"patient:{patient.id}", "    " + "   ".join(details)))

    heading("Coverage (c adds)")
    for coverage in chart.coverages:
        lines.append((
            f"coverage:{coverage.id}",
            f"  {'Primary' if coverage.rank == 1 else 'Secondary'}: {coverage.payer_name or '—'}"
            f" ({_words(coverage.payer_kind)})  member {coverage.member_id or 'MISSING'}"
            f"  group {coverage.group_number or '—'}  payer ID {coverage.payer_id or '—'}"
            f"  {_date(coverage.effective_from)} to {_date(coverage.effective_to)}",
        ))
    if not chart.coverages:
        lines.append(("coverage:", "  No coverage on file."))

    heading("Diagnoses (d adds)")
    for diagnosis in chart.diagnoses:
        state = "" if diagnosis.active else "  (resolved)"
        lines.append((
            f"diagnosis:{diagnosis.id}",
            f"  {diagnosis.code:<9} {diagnosis.role:<9} {diagnosis.description}  onset {_date(diagnosis.onset_date)}{state}",
        ))
    if not chart.diagnoses:
        lines.append(("diagnosis:", "  No diagnoses on file."))
    else:
        from slpterm.clinical.icd10 import companion_warnings, excludes1_conflicts

        active = [diagnosis.code for diagnosis in chart.diagnoses if diagnosis.active]
        for _first, _second, reason in excludes1_conflicts(active):
            lines.append(("diagnosis:", f"  ! Excludes1: {reason}"))
        for _code, message in companion_warnings(active):
            lines.append(("diagnosis:", f"  ! {message}"))

    heading("Plans of care and goals (p adds a plan, g a goal, t a goal's progress, r recertifies, w progress report)")
    newest_first = list(reversed(chart.plans))
    for plan in newest_first[:PLANS_LISTED]:
        certified = f"certified {_date(plan.certified_on)}" if plan.certified_on else "NOT certified"
        lines.append((
            f"plan:{plan.id}",
            f"  {_date(plan.start_date)} to {_date(plan.end_date)}  {plan.frequency or '—'}"
            f" for {plan.duration_weeks or '—'} wk  {plan.status}, {certified}"
            f" by {plan.certifying_physician_name or '—'} (NPI {plan.certifying_physician_npi or '—'})",
        ))
        goals = chart.goals_by_plan.get(plan.id, [])
        long_ids = {goal.id for goal in goals if goal.term == GoalTerm.LONG}
        ordered = []
        for goal in goals:
            if goal.parent_goal_id in long_ids:
                continue
            ordered.append(goal)
            ordered.extend(child for child in goals if child.parent_goal_id == goal.id)
        for goal in ordered:
            indent = "      " if goal.parent_goal_id else "    "
            baseline = f" baseline {goal.baseline};" if goal.baseline else ""
            lines.append((
                f"goal:{goal.id}",
                f"{indent}{'LTG' if goal.term == GoalTerm.LONG else 'STG'} [{_words(goal.disorder_area)}] {goal.text}"
                f" —{baseline} {goal.target_accuracy}% over {goal.criterion_sessions} sessions, {goal.status}",
            ))
    earlier = newest_first[PLANS_LISTED:]
    if earlier:
        lines.append(("plan:", f"  … and {len(earlier)} earlier plan{'s' if len(earlier) != 1 else ''} of care, "
                               f"{_date(earlier[-1].start_date)} to {_date(earlier[0].end_date)}"))
    if not chart.plans:
        lines.append(("plan:", "  No plan of care (evaluation-only episodes need none)."))

    heading("IEP service minutes (m adds)")
    for service in chart.iep_services:
        span = f"  {_date(service.start_date)} to {_date(service.end_date)}" if service.start_date or service.end_date else ""
        lines.append((f"iep:{service.id}", f"  {service.minutes_required} min per {service.period}, {service.kind}{span}"))
    if not chart.iep_services:
        lines.append(("iep:", "  None."))

    heading(f"Sessions ({total})")
    for participant, therapy_session in sessions[:SESSIONS_LISTED]:
        lines.append((
            f"session:{participant.id}",
            f"  {_date(therapy_session.date_of_service)}  {_words(therapy_session.session_type):<22}"
            f"  {_words(therapy_session.setting):<16} {participant.status}",
        ))
    listed = min(len(sessions), SESSIONS_LISTED)
    if total > listed:
        lines.append(("session:", f"  … and {total - listed} earlier sessions"))
    if not total:
        lines.append(("session:", "  No sessions yet."))
    if attendance is not None:
        heading(f"Attendance: {attendance.text}")
        for missed in list(reversed(attendance.missed))[:ATTENDANCE_LISTED]:
            made_up = " · made up" if missed.made_up_by else (" · make-up owed" if missed.owes_make_up else "")
            lines.append((f"attendance:{missed.id}", f"  {_date(missed.day)}  {missed.label}{made_up}"))
    return lines


class PatientScreen(Screen):
    """The chart. Enter edits the highlighted line; letters add records; Esc goes back."""

    BINDINGS = [
        Binding("escape", "back", "Back to caseload", id="patient.back"),
        Binding("e", "edit_patient", "Edit patient", id="patient.edit"),
        Binding("c", "add_coverage", "Coverage", id="patient.coverage"),
        Binding("d", "add_diagnosis", "Diagnosis", id="patient.diagnosis"),
        Binding("p", "add_plan", "Plan", id="patient.plan"),
        Binding("g", "add_goal", "Goal", id="patient.goal"),
        # Shown in the chart's headings and in help rather than in the footer.
        Binding("r", "recertify", "Recertify", show=False, id="patient.recertify"),
        Binding("m", "add_iep", "IEP minutes", show=False, id="patient.iep"),
        Binding("a", "toggle_archive", "Archive", id="patient.archive"),
        Binding("w", "progress_report", "Progress report", id="patient.progress_report"),
        Binding("t", "goal_progress", "Goal progress", show=False, id="patient.goal_progress"),
        Binding("delete", "delete_patient", "Delete patient", show=False, id="patient.delete"),
    ]

    def __init__(self, services: ClinicServices, patient_id: str, name: str = "") -> None:
        super().__init__()
        self.services = services
        self.charts = services.charts
        self.patient_id = patient_id
        self.chart = None
        self.due: list = []
        if name:
            self.sub_title = name

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="chart"):
            yield OptionList(id="chart-items")
            yield Static("Loading the chart…", id="chart-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#chart-items", OptionList).focus()
        self._record_view()
        self.reload()

    @work(thread=True, group="chart-audit")
    def _record_view(self) -> None:
        from slpterm.domain.errors import StoreError

        try:
            self.charts.record_view(self.patient_id)
        except StoreError:
            pass  # reading a chart never fails because the audit could not be written

    # -- loading ---------------------------------------------------------------------------------
    def reload(self) -> None:
        self._chart_pending = True
        self._load()

    @property
    def patient_in_view(self) -> str | None:
        return self.patient_id

    @property
    def holds_keys(self) -> bool:
        """Keys wait while the chart is read (after a form saved, say): ``g`` must find the plan just added."""
        return getattr(self, "_chart_pending", True)

    @work(thread=True, exclusive=True, group="chart-load")
    def _load(self) -> None:
        from slpterm.domain.errors import StoreError

        charts = self.charts
        try:
            chart = charts.chart(self.patient_id)
            # Only the sessions listed are read, so a long history opens as fast as a short one.
            sessions = (charts.sessions(self.patient_id, SESSIONS_LISTED), charts.session_count(self.patient_id),
                        self.services.schedule.attendance(self.patient_id))
        except StoreError as error:
            self.app.call_from_thread(self._failed, str(error))
            return
        kept = charts.due_if_kept(self.patient_id)
        if kept is not None:  # what is due was known already: the chart is drawn once
            self.app.call_from_thread(self._loaded, chart, sessions, kept)
            return
        self.app.call_from_thread(self._loaded, chart, sessions, None)  # the chart first, what is due next
        try:
            due = charts.due(self.patient_id)
        except Exception as error:  # noqa: BLE001 - the chart stays usable if the rules cannot be read
            due = []
            self.app.call_from_thread(self.notify, f"What is due could not be computed: {error}", severity="warning")
        self.app.call_from_thread(self._loaded, chart, sessions, due)

    def _failed(self, message: str) -> None:
        self._chart_pending = False
        self.query_one("#chart-status", Static).update(message)
        self.notify(message, severity="error")

    def _loaded(self, chart, sessions, due) -> None:  # noqa: ANN001
        self._chart_pending = False
        self.chart = chart
        self.due = due
        self.sub_title = chart.patient.display_name
        items = self.query_one("#chart-items", OptionList)
        highlighted = self.highlighted_id
        items.clear_options()
        options = []
        listed, count, attendance = sessions
        for item_id, text in chart_lines(chart, listed, due, count, attendance):
            if item_id is None:
                options.append(Option(Text(text), disabled=True))
            else:
                options.append(Option(Text(text), id=f"{item_id}#{len(options)}"))
        items.add_options(options)
        restore = next((index for index, option in enumerate(options)
                        if option.id and highlighted and option.id.split("#")[0] == highlighted), None)
        items.highlighted = restore if restore is not None else next(
            (index for index, option in enumerate(options) if option.id and option.id.startswith("patient:")), 0)
        state = "archived" if chart.patient.archived_at else "active"
        count = "checking what is due" if due is None else f"{len(due)} item{'s' if len(due) != 1 else ''} due"
        self.query_one("#chart-status", Static).update(
            f"{chart.patient.display_name} ({state}) · Enter edits the highlighted line · {count}"
        )

    @property
    def highlighted_id(self) -> str | None:
        items = self.query_one("#chart-items", OptionList)
        if items.highlighted is None or items.option_count == 0:
            return None
        option = items.get_option_at_index(items.highlighted)
        return option.id.split("#")[0] if option.id else None

    def _highlighted(self) -> tuple[str, str]:
        kind, _, record_id = (self.highlighted_id or "").partition(":")
        return kind, record_id

    # -- helpers -----------------------------------------------------------------------------------
    def _open(self, form: ChartForm) -> None:
        self.app.push_screen(form.handed(self.charts), self._form_closed)

    def _form_closed(self, record_id: str | None) -> None:
        if record_id:
            self.reload()

    def _ready(self) -> bool:
        if self.chart is None:
            self.notify("The chart is still loading.", severity="warning")
            return False
        return True

    def _payer_kind(self) -> str | None:
        coverage = self.chart.primary_coverage if self.chart else None
        return coverage.payer_kind if coverage is not None else None

    def _find(self, records, record_id: str):  # noqa: ANN001, ANN202
        return next((record for record in records if record.id == record_id), None)

    def _all_goals(self) -> list:
        return [goal for goals in self.chart.goals_by_plan.values() for goal in goals]

    def _current_plan(self):  # noqa: ANN202
        kind, record_id = self._highlighted()
        if kind == "plan" and record_id:
            return self._find(self.chart.plans, record_id)
        if kind == "goal" and record_id:
            goal = self._find(self._all_goals(), record_id)
            if goal is not None:
                return self._find(self.chart.plans, goal.plan_id)
        open_plans = [plan for plan in self.chart.plans if plan.status != PlanStatus.DISCHARGED]
        return max(open_plans or self.chart.plans, key=lambda plan: plan.start_date, default=None)

    # -- actions -----------------------------------------------------------------------------------
    @on(OptionList.OptionSelected, "#chart-items")
    def _selected(self) -> None:
        self.action_edit_selected()

    def action_edit_selected(self) -> None:
        if not self._ready():
            return
        from slpterm.ui.screens import chart_forms as forms

        kind, record_id = self._highlighted()
        chart = self.chart
        if kind == "patient":
            self.action_edit_patient()
        elif kind == "coverage":
            coverage = self._find(chart.coverages, record_id)
            if coverage is None:
                self.action_add_coverage()
            else:
                self._open(forms.CoverageForm(self.patient_id, coverage))
        elif kind == "diagnosis":
            diagnosis = self._find(chart.diagnoses, record_id)
            if diagnosis is None:
                self.action_add_diagnosis()
            else:
                codes = [d.code for d in chart.diagnoses if d.active]
                self._open(forms.DiagnosisForm(self.patient_id, diagnosis, other_codes=codes))
        elif kind == "plan":
            plan = self._find(chart.plans, record_id)
            if plan is None:
                self.action_add_plan()
            else:
                self._open(forms.PlanForm(self.patient_id, plan, payer_kind=self._payer_kind()))
        elif kind == "goal":
            goal = self._find(self._all_goals(), record_id)
            if goal is not None:
                long_terms = [g for g in chart.goals_by_plan.get(goal.plan_id, []) if g.term == GoalTerm.LONG]
                self._open(forms.GoalForm(goal.plan_id, goal, long_term_goals=long_terms,
                                          patient_name=chart.patient.first_name))
        elif kind == "iep":
            service = self._find(chart.iep_services, record_id)
            if service is None:
                self.action_add_iep()
            else:
                self._open(forms.IepForm(self.patient_id, service))
        elif kind == "session":
            if record_id:
                from slpterm.ui.screens.session import SessionScreen

                self.app.push_screen(SessionScreen(self.services, record_id))
            else:
                self.notify("F3 starts a new session for this patient.")

    def action_edit_patient(self) -> None:
        if self._ready():
            from slpterm.ui.screens.chart_forms import PatientForm

            self._open(PatientForm(self.chart.patient))

    def action_add_coverage(self) -> None:
        if self._ready():
            from slpterm.ui.screens.chart_forms import CoverageForm

            self._open(CoverageForm(self.patient_id, next_rank=len(self.chart.coverages) + 1))

    def action_add_diagnosis(self) -> None:
        if self._ready():
            from slpterm.ui.screens.chart_forms import DiagnosisForm

            codes = [d.code for d in self.chart.diagnoses if d.active]
            rank = max((d.rank for d in self.chart.diagnoses), default=0) + 1
            self._open(DiagnosisForm(self.patient_id, other_codes=codes, next_rank=rank))

    def action_add_plan(self) -> None:
        if self._ready():
            from slpterm.ui.screens.chart_forms import PlanForm

            self._open(PlanForm(self.patient_id, payer_kind=self._payer_kind(), today=self.charts.today()))

    def action_add_goal(self) -> None:
        if not self._ready():
            return
        from slpterm.ui.screens.chart_forms import GoalForm

        plan = self._current_plan()
        if plan is None:
            self.notify("Add a plan of care first (p); goals belong to a plan.", severity="warning")
            return
        goals = self.chart.goals_by_plan.get(plan.id, [])
        long_terms = [goal for goal in goals if goal.term == GoalTerm.LONG]
        parent_id = area = None
        kind, record_id = self._highlighted()
        if kind == "goal":
            goal = self._find(goals, record_id)
            if goal is not None:
                parent_id = goal.id if goal.term == GoalTerm.LONG else goal.parent_goal_id
                area = goal.disorder_area
        rank = max((goal.rank for goal in goals), default=0) + 1
        self._open(GoalForm(plan.id, long_term_goals=long_terms, parent_id=parent_id, next_rank=rank, area=area,
                            patient_name=self.chart.patient.first_name))

    def action_recertify(self) -> None:
        if not self._ready():
            return
        from slpterm.ui.screens.chart_forms import PlanForm

        plan = self._current_plan()
        if plan is None:
            self.notify("There is no plan of care to recertify; add one with p.", severity="warning")
            return
        self._open(PlanForm(self.patient_id, payer_kind=self._payer_kind(), recertify_from=plan))

    def action_add_iep(self) -> None:
        if self._ready():
            from slpterm.ui.screens.chart_forms import IepForm

            self._open(IepForm(self.patient_id))

    def action_toggle_archive(self) -> None:
        if not self._ready():
            return
        from slpterm.ui.screens.chart_forms import ConfirmScreen

        patient = self.chart.patient
        if patient.archived_at:
            self._archive(False)
            return
        open_plans = [plan for plan in self.chart.plans if plan.status in (PlanStatus.DRAFT, PlanStatus.CERTIFIED)
                      and plan.end_date >= self.charts.today()]
        question = (f"Archive {patient.display_name}? The chart is kept (nothing is deleted) and hidden from the "
                    "caseload; ctrl+r on the caseload shows archived patients.")
        if open_plans:
            question += (f"\n\nThe plan of care ending {open_plans[-1].end_date.isoformat()} is still "
                         f"{open_plans[-1].status}; set it to discharged first if the patient was discharged.")
        self.app.push_screen(ConfirmScreen(question), lambda yes: self._archive(True) if yes else None)

    @work(thread=True, group="chart-write")
    def _archive(self, archive: bool) -> None:
        from slpterm.domain.errors import StoreError

        try:
            if archive:
                self.charts.archive(self.patient_id)
            else:
                self.charts.unarchive(self.patient_id)
        except StoreError as error:
            self.app.call_from_thread(self.notify, str(error), severity="error")
            return
        self.app.call_from_thread(self.notify, "Archived." if archive else "Back on the caseload.")
        self.app.call_from_thread(self.reload)

    def action_delete_patient(self) -> None:
        if not self._ready():
            return
        from slpterm.ui.screens.chart_forms import ConfirmScreen

        question = (f"Delete {self.chart.patient.display_name} and the whole chart? This cannot be undone. "
                    "A patient with sessions cannot be deleted, only archived.")
        self.app.push_screen(ConfirmScreen(question), lambda yes: self._delete() if yes else None)

    @work(thread=True, group="chart-write")
    def _delete(self) -> None:
        from slpterm.domain.errors import StoreError

        try:
            self.charts.delete(self.patient_id)
        except StoreError as error:
            self.app.call_from_thread(self.notify, str(error), severity="error", timeout=10)
            return
        self.app.call_from_thread(self.notify, "Patient deleted.")
        self.app.call_from_thread(self.app.pop_screen)

    def action_progress_report(self) -> None:
        """Write (or view) the progress report of the highlighted or current plan of care."""
        if not self._ready():
            return
        plan = self._current_plan()
        if plan is None:
            self.notify("A progress report belongs to a plan of care; add one with p.", severity="warning")
            return
        from slpterm.ui.screens.progress_report import ProgressReportScreen

        self.app.push_screen(ProgressReportScreen(self.services.reports, plan.id), lambda _: self.reload())

    def action_goal_progress(self) -> None:
        """The highlighted goal's accuracy over time with its criterion, cue levels and date met."""
        if not self._ready():
            return
        kind, record_id = self._highlighted()
        goal = self._find(self._all_goals(), record_id) if kind == "goal" else None
        if goal is None:
            self.notify("Highlight a goal (under Plans of care and goals), then t shows its progress.",
                        severity="warning")
            return
        from slpterm.ui.screens.goal_progress import GoalProgressScreen

        self.app.push_screen(GoalProgressScreen(self.charts, self.patient_id, goal.id, self.chart.patient.display_name))

    def action_back(self) -> None:
        self.app.pop_screen()

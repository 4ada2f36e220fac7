"""Progress reports, caseload trends and school minutes, from the store.

- ``open_report(store, plan_id, today)``: the plan's unsigned draft if there is one, else a report
  signed today, else a new (unsaved) draft over the suggested period with the assessment and plan
  drafted from the numbers.
- ``suggest_period(store, plan_id, today)``: from the day after the plan's last report (or the
  plan's start) to today. For a student (the patient has IEP services) with grading periods in the
  ``iep_grading_periods`` setting (lines ``YYYY-MM-DD..YYYY-MM-DD``), the grading period containing
  today, else the latest one ended.
- ``save_report`` / ``sign_report``: a signed report is locked; both refuse to change it
  (``LockedRecord``). The store enforces the lock (``store.progress``); a database trigger would need a
  schema change.
- Only signed session notes count in a report (unsigned notes in the period are counted apart).
- The due panel and the scrubber count treatment days after the latest signed report written on or
  before the visit (``written_on``; :func:`date_written` backdates it with a reason), so a report
  written at today's visit covers it (slpterm.clinical.episode).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from itertools import groupby
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING

from slpterm.clinical.tally import Trial
from slpterm.domain.text import file_name_part
from slpterm.domain.vocab import CueLevel, IepPeriod, IepServiceKind, TrialResult
from slpterm.paths import private_folder, write_private
from slpterm.reports.model import (
    GoalInput,
    GoalSession,
    ProgressReportData,
    ReportInput,
    SessionMinutes,
    compute_report,
    draft_assessment,
    draft_plan,
)
from slpterm.store.errors import LockedRecord, NotFound, ValidationFailed
from slpterm.store.models import Goal, PlanOfCare, ProgressReport, utc_now

if TYPE_CHECKING:
    from slpterm.domain.schedule import AttendanceFacts
    from slpterm.reports.goal_series import GoalSeries
    from slpterm.reports.school import ServiceLogEntry, StudentMinutes
    from slpterm.store.progress import PeriodSessions
    from slpterm.store.sessions import ParticipantDetail
    from slpterm.store.store import Store

GRADING_PERIODS_SETTING = "iep_grading_periods"


@dataclass(frozen=True)
class ReportState:
    """A report as the screen edits it; ``report_id`` is None until first saved."""

    plan_id: str
    report_id: str | None
    data: ProgressReportData
    backdate_reason: str = ""

    @property
    def signed(self) -> bool:
        return self.data.signed


def grading_periods(store: Store) -> list[tuple[dt.date, dt.date]]:
    """The school grading periods from settings; malformed lines are skipped."""
    periods = []
    for line in store.clinic.get_setting(GRADING_PERIODS_SETTING).splitlines():
        start, sep, end = line.strip().partition("..")
        try:
            if sep:
                periods.append((dt.date.fromisoformat(start.strip()), dt.date.fromisoformat(end.strip())))
        except ValueError:
            continue
    return sorted(periods)


def reports_for_plan(store: Store, plan_id: str) -> list[ProgressReport]:
    return store.progress.reports_for_plan(plan_id)


def _plan(store: Store, plan_id: str) -> PlanOfCare:
    return store.progress.plan(plan_id)


def suggest_period(store: Store, plan_id: str, today: dt.date) -> tuple[dt.date, dt.date]:
    plan = _plan(store, plan_id)
    end = min(today, plan.end_date)
    chart = store.patients.chart(plan.patient_id)
    if chart.iep_services:
        periods = grading_periods(store)
        current = [p for p in periods if p[0] <= today <= p[1]] or [p for p in periods if p[1] < today][-1:]
        if current:
            start, finish = current[0]
            return max(start, plan.start_date), min(finish, today, plan.end_date)
    signed_ends = [r.period_end for r in reports_for_plan(store, plan_id) if r.period_end < end]
    start = max(signed_ends) + dt.timedelta(days=1) if signed_ends else plan.start_date
    return min(start, end), end


def _minutes(detail: ParticipantDetail) -> int:
    from slpterm.services.billing import minutes_by_area

    ended = max((s.ended_at for s in detail.segments if s.ended_at), default=None)
    return sum(minutes_by_area(detail, ended).values()) if ended or detail.corrections else 0


def _trials_by_goal_day(period: PeriodSessions) -> dict[str, dict[dt.date, list[Trial]]]:
    """The live trials of the signed sessions of ``period``, by goal and date of service."""
    day_of = {p.id: s.date_of_service for p, s in period.sessions if p.status == "signed"}
    by_goal_day: dict[str, dict[dt.date, list[Trial]]] = defaultdict(lambda: defaultdict(list))
    for record in period.signed_trials:
        by_goal_day[record.goal_id][day_of[record.participant_id]].append(
            Trial(TrialResult(record.result), CueLevel(record.cue_level)))
    return by_goal_day


def _goal_input(goal: Goal, days: dict[dt.date, list[Trial]]) -> GoalInput:
    return GoalInput(goal_id=goal.id, text=goal.text, disorder_area=goal.disorder_area, baseline=goal.baseline,
                     target_accuracy=goal.target_accuracy, criterion_sessions=goal.criterion_sessions,
                     status=goal.status, term=goal.term,
                     sessions=tuple(GoalSession(day, tuple(day_trials)) for day, day_trials in sorted(days.items())))


def goal_series_of(store: Store, patient_id: str, goal_id: str) -> GoalSeries:
    """One goal's accuracy and cue level per signed session over the whole chart, and the date its
    criterion was met (the chart's goal progress view)."""
    from slpterm.reports.goal_series import goal_series

    chart = store.patients.chart(patient_id)
    goal = next((goal for goals in chart.goals_by_plan.values() for goal in goals if goal.id == goal_id), None)
    if goal is None:
        raise NotFound(f"No goal with id {goal_id} on this chart; it may have been removed.")
    period = store.progress.sessions_in_period(patient_id, dt.date.min, dt.date.max)
    return goal_series(_goal_input(goal, _trials_by_goal_day(period).get(goal_id, {})))


def load_report_input(store: Store, plan_id: str, period_start: dt.date, period_end: dt.date,
                      written_on: dt.date, *, assessment: str = "", plan_text: str = "",
                      signed_at: dt.datetime | None = None, signer_name: str = "") -> ReportInput:
    """Gather the plan's goals and the patient's signed sessions in the period."""
    plan = _plan(store, plan_id)
    chart = store.patients.chart(plan.patient_id)
    patient = chart.patient
    goals = chart.goals_by_plan.get(plan_id, [])
    period = store.progress.sessions_in_period(patient.id, period_start, period_end)
    rows = period.sessions
    signed = [(p, s) for p, s in rows if p.status == "signed"]
    by_goal_day = _trials_by_goal_day(period)
    sessions = []
    clinician_id = None
    for participant, therapy_session in signed:
        sessions.append(SessionMinutes(therapy_session.date_of_service, _minutes(store.sessions.detail(participant.id)),
                                       therapy_session.session_type))
        clinician_id = therapy_session.clinician_id or clinician_id
    clinicians = {c.id: c for c in store.clinic.clinicians(include_inactive=True)}
    clinic = store.clinic.get_clinic()
    goal_inputs = [
        _goal_input(goal, by_goal_day.get(goal.id, {}))
        for goal in goals
        if goal.status in ("active", "modified", "met") or goal.id in by_goal_day
    ]
    return ReportInput(
        patient_name=f"{patient.first_name} {patient.last_name}".strip(),
        patient_id_text=patient.external_id,
        date_of_birth=patient.date_of_birth,
        diagnoses=tuple(f"{d.code} {d.description}".strip() for d in chart.diagnoses if d.active),
        plan_start=plan.start_date,
        plan_end=plan.end_date,
        frequency=plan.frequency,
        certifying_physician=plan.certifying_physician_name,
        clinic_name=clinic.name if clinic else "",
        clinician=clinicians[clinician_id].display_name if clinician_id in clinicians else "",
        period_start=period_start,
        period_end=period_end,
        written_on=written_on,
        goals=tuple(goal_inputs),
        sessions=tuple(sessions),
        assessment=assessment,
        plan_text=plan_text,
        signed_at=signed_at,
        signer_name=signer_name,
        unsigned_sessions=len(rows) - len(signed),
    )


def _state_of(store: Store, record: ProgressReport) -> ReportState:
    source = load_report_input(store, record.plan_id, record.period_start, record.period_end, record.written_on,
                               assessment=record.assessment, plan_text=record.plan_text,
                               signed_at=record.signed_at, signer_name=record.signer_name)
    return ReportState(record.plan_id, record.id, compute_report(source), record.backdate_reason)


def open_report(store: Store, plan_id: str, today: dt.date, report_id: str | None = None) -> ReportState:
    """The report to show for a plan (see the module docstring for which one)."""
    reports = reports_for_plan(store, plan_id)
    if report_id is not None:
        chosen = next((r for r in reports if r.id == report_id), None)
        if chosen is None:
            raise NotFound(f"No progress report with id {report_id}.")
        return _state_of(store, chosen)
    draft = next((r for r in reversed(reports) if r.signed_at is None), None)
    if draft is not None:
        return _state_of(store, draft)
    signed_today = next((r for r in reversed(reports) if r.written_on == today), None)
    if signed_today is not None:
        return _state_of(store, signed_today)
    return new_draft(store, plan_id, today)


def new_draft(store: Store, plan_id: str, today: dt.date, period: tuple[dt.date, dt.date] | None = None) -> ReportState:
    """An unsaved report over ``period`` (or the suggested one) with assessment and plan drafted."""
    start, end = period or suggest_period(store, plan_id, today)
    source = load_report_input(store, plan_id, start, end, today)
    data = compute_report(source)
    drafted = replace(source, assessment=draft_assessment(data), plan_text=draft_plan(data, source.frequency))
    return ReportState(plan_id, None, compute_report(drafted))


def recompute(store: Store, state: ReportState, *, period_start: dt.date | None = None,
              period_end: dt.date | None = None, assessment: str | None = None,
              plan_text: str | None = None) -> ReportState:
    """The same report with other dates or text (numbers recomputed when the dates change)."""
    source = state.data.source
    start = period_start or source.period_start
    end = period_end or source.period_end
    if (start, end) != (source.period_start, source.period_end):
        source = load_report_input(store, state.plan_id, start, end, source.written_on,
                                   assessment=source.assessment, plan_text=source.plan_text)
    source = replace(source, assessment=source.assessment if assessment is None else assessment,
                     plan_text=source.plan_text if plan_text is None else plan_text)
    return ReportState(state.plan_id, state.report_id, compute_report(source), state.backdate_reason)


def date_written(state: ReportState, written_on: dt.date, reason: str, today: dt.date) -> ReportState:
    """The report dated ``written_on``: today, or an earlier day with the reason it is backdated
    (a report written at a visit and entered later covers that visit, see slpterm.clinical.episode)."""
    problems = []
    if state.signed:
        raise LockedRecord("This progress report is signed and locked; write a new report for changes.")
    if written_on > today:
        problems.append(("Written on", f"{written_on.isoformat()} is in the future; date the report when it was written"))
    if written_on < today and not reason.strip():
        problems.append(("Backdate reason", f"say why the report is dated {written_on.isoformat()} and not today "
                                            "(e.g. written at that visit, entered later)"))
    if written_on < state.data.source.period_end:
        problems.append(("Written on", "a report cannot be written before its period ends; change the period (ctrl+k)"))
    if problems:
        raise ValidationFailed(problems)
    source = replace(state.data.source, written_on=written_on)
    return ReportState(state.plan_id, state.report_id, compute_report(source),
                       reason.strip() if written_on < today else "")


def _check_dates(start: dt.date, end: dt.date, written_on: dt.date) -> None:
    problems = []
    if end < start:
        problems.append(("Period", f"ends {end.isoformat()} before it starts {start.isoformat()}"))
    if written_on < end:
        problems.append(("Written on", "a report cannot be written before its period ends"))
    if problems:
        raise ValidationFailed(problems)


def save_report(store: Store, state: ReportState) -> ReportState:
    """Insert or update the draft; refuses a signed report (LockedRecord)."""
    source = state.data.source
    _check_dates(source.period_start, source.period_end, source.written_on)
    values = {"period_start": source.period_start, "period_end": source.period_end,
              "written_on": source.written_on, "assessment": source.assessment, "plan_text": source.plan_text,
              "backdate_reason": state.backdate_reason}
    if state.report_id is None:
        record = store.patients.add_progress_report(plan_id=state.plan_id, **values)
        return replace(state, report_id=record.id)
    store.progress.update_report(state.report_id, values)
    return state


def sign_report(store: Store, state: ReportState, clinician_id: str, now: dt.datetime | None = None) -> ReportState:
    """Save and sign: the report is locked from then on; signer name carries the credentials."""
    source = state.data.source
    if state.signed:
        raise LockedRecord("This progress report is already signed.")
    if not source.assessment.strip():
        raise ValidationFailed([("Assessment", "write the assessment of progress before signing")])
    state = save_report(store, state)
    clinician = next((c for c in store.clinic.clinicians(include_inactive=True) if c.id == clinician_id), None)
    if clinician is None:
        raise ValidationFailed([("Signer", "add yourself as clinician in Settings (F5) first")])
    signed_at = now or utc_now()
    assert state.report_id is not None  # saved just above
    store.progress.sign_report(state.report_id, clinician.display_name, signed_at)
    signed = replace(source, signed_at=signed_at, signer_name=clinician.display_name)
    return ReportState(state.plan_id, state.report_id, compute_report(signed), state.backdate_reason)


def report_file_stem(state: ReportState) -> str:
    """``progress-report-<patient ID>-<period end>``: the ID, never the name, goes into file names."""
    source = state.data.source
    return f"progress-report-{file_name_part(source.patient_id_text, state.plan_id[:8])}-{source.period_end.isoformat()}"


def export_report(state: ReportState, folder: Path) -> tuple[Path, Path]:
    """Write the report as Markdown and PDF into ``folder``; returns both paths."""
    from slpterm.reports.markdown import render_markdown
    from slpterm.reports.pdf import render_pdf

    folder = private_folder(Path(folder))
    stem = report_file_stem(state)
    markdown_path = folder / f"{stem}.md"
    pdf_path = folder / f"{stem}.pdf"
    write_private(markdown_path, render_markdown(state.data))
    write_private(pdf_path, render_pdf(state.data))
    return markdown_path, pdf_path


EXPORT_FOLDER_SETTING = "export_folder"


def export_folder(store: Store) -> Path:
    """The export folder from settings (the export screen's), or ~/slpterm-exports."""
    configured = store.clinic.get_setting(EXPORT_FOLDER_SETTING)
    return Path(configured).expanduser() if configured else Path.home() / "slpterm-exports"


# -- caseload trends -----------------------------------------------------------------------------

def iter_caseload_trends(store: Store, today: dt.date, sessions: int = 8, days: int = 120) -> Iterator[tuple[str, str]]:
    """``(patient id, sparkline)`` of the overall accuracy of each patient's last ``sessions``
    sessions, streamed one patient at a time from one query."""
    from slpterm.clinical.tally import percent
    from slpterm.reports.charts import sparkline

    since = today - dt.timedelta(days=days)
    rows = store.progress.iter_session_accuracy(since, today)
    for patient_id, patient_rows in groupby(rows, key=attrgetter("patient_id")):
        values = [percent(row.correct, row.total) or 0 for row in patient_rows]
        yield patient_id, sparkline(values[-sessions:])


def caseload_trends(store: Store, today: dt.date, sessions: int = 8, days: int = 120) -> dict[str, str]:
    """A sparkline of the overall accuracy of each patient's last ``sessions`` sessions (one query)."""
    return dict(iter_caseload_trends(store, today, sessions, days))


# -- school --------------------------------------------------------------------------------------

def school_minutes(store: Store, month: dt.date, today: dt.date) -> list[StudentMinutes]:
    """IEP minutes required vs delivered for every student with IEP services, for one month (two queries)."""
    from slpterm.clinical.due import default_rules
    from slpterm.reports.school import (
        IepRequirement,
        month_bounds,
        student_minutes,
        weeks_of_month,
    )

    start, end = month_bounds(month)
    weeks = weeks_of_month(month)
    if weeks:
        end = max(end, weeks[-1][1])
    students = store.progress.student_services()
    minutes = {patient_id: {day: round(total) for day, total in days.items()}
               for patient_id, days in store.progress.student_minutes_by_day(start, end).items()}
    rules = default_rules()
    missed: dict[str, list[AttendanceFacts]] = defaultdict(list)
    for visit in store.schedule.missed(date_from=start, date_to=end):
        missed[visit.patient_id].append(visit)
    result = []
    for student in students:
        try:
            requirement = IepRequirement(int(student.minutes_required), IepPeriod(student.period),
                                         IepServiceKind(student.kind), student.start, student.end)
        except ValueError:
            continue
        school, grade = student.school, student.grade
        counted = student_minutes(
            patient_id=student.patient_id, name=f"{student.last_name}, {student.first_name}".strip(", "),
            external_id=student.external_id, school=f"{school} gr {grade}".strip() if grade else school,
            requirement=requirement, minutes_by_day=dict(minutes.get(student.patient_id, {})), month=month,
            today=today, school_weekdays=rules.school_weekdays,
        )
        if requirement.kind == IepServiceKind.DIRECT:
            lost = missed.get(student.patient_id, [])
            counted = replace(counted, month_missed=sum(visit.minutes for visit in lost),
                              make_up_owed=sum(visit.minutes for visit in lost if visit.owes_make_up))
        result.append(counted)
    return result


def service_log_entries(store: Store, date_from: dt.date, date_to: dt.date) -> tuple[list[ServiceLogEntry], int]:
    """Service log rows of the signed sessions of students (patients with IEP services) in the range.

    Returns (entries, unsigned) where ``unsigned`` counts student sessions left out for lack of a
    signature. Times are local clock times.
    """
    from slpterm.reports.school import ServiceLogEntry

    students = store.progress.student_sessions(date_from, date_to)
    rows, patients, signatures = students.sessions, students.patients, students.signatures
    group_sizes = students.group_sizes
    clinicians = {c.id: c for c in store.clinic.clinicians(include_inactive=True)}
    made_up = {visit.made_up_by: visit.day for visit in store.schedule.missed() if visit.made_up_by}
    entries = []
    unsigned = 0
    for participant, therapy_session in rows:
        signature = signatures.get(participant.id)
        if signature is None:
            unsigned += 1
            continue
        patient = patients[participant.patient_id]
        detail = store.sessions.detail(participant.id)
        clinician = clinicians.get(therapy_session.clinician_id or "")
        goal_texts = sorted(students.goals_addressed.get(participant.id, []), key=lambda goal: goal.rank)
        entries.append(ServiceLogEntry(
            student_name=f"{patient.last_name}, {patient.first_name}".strip(", "),
            student_id=patient.external_id,
            day=therapy_session.date_of_service,
            start=therapy_session.started_at.astimezone().time() if therapy_session.started_at else None,
            stop=therapy_session.stopped_at.astimezone().time() if therapy_session.stopped_at else None,
            minutes=_minutes(detail),
            service_type="Direct",
            group_size=group_sizes.get(therapy_session.id, 1),
            goals=tuple(goal.text for goal in goal_texts),
            clinician=f"{clinician.first_name} {clinician.last_name}".strip() if clinician else signature.signer_name,
            credentials=clinician.credentials if clinician else signature.credentials,
            signed_on=signature.signed_at.astimezone().date(),
            attendance=f"Make-up for {made_up[participant.id].isoformat()}" if participant.id in made_up else "Delivered",
        ))
    entries.extend(_missed_visits(store, date_from, date_to, {student.patient_id for student in store.progress.student_services()}))
    return entries, unsigned


def _missed_visits(store: Store, date_from: dt.date, date_to: dt.date, student_ids: set[str]) -> list[ServiceLogEntry]:
    """The cancelled and no-show visits of students: listed with no minutes, never billed."""
    from slpterm.reports.school import ServiceLogEntry

    missed = [visit for visit in store.schedule.missed(date_from=date_from, date_to=date_to)
              if visit.patient_id in student_ids]
    details = store.caseload.details(sorted({visit.patient_id for visit in missed})) if missed else {}
    return [ServiceLogEntry(
        student_name=details[visit.patient_id].name if visit.patient_id in details else "",
        student_id=details[visit.patient_id].external_id if visit.patient_id in details else "",
        day=visit.day, start=None, stop=None, minutes=0, service_type="Direct", group_size=1,
        attendance=visit.label, make_up_owed=visit.minutes if visit.owes_make_up else 0,
    ) for visit in missed]


def write_service_log(store: Store, date_from: dt.date, date_to: dt.date, path: Path) -> tuple[int, int]:
    """Write the service log CSV; returns (rows written, unsigned sessions left out)."""
    from slpterm.reports.school import service_log_csv

    entries, unsigned = service_log_entries(store, date_from, date_to)
    path = Path(path)
    private_folder(path.parent)
    write_private(path, service_log_csv(entries))
    return len(entries), unsigned

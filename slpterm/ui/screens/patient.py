"""A patient's chart: who they are, coverage, diagnoses, plans of care with goals, sessions."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static


def _date(value) -> str:  # noqa: ANN001
    return value.isoformat() if value else "—"


def chart_sections(chart, sessions) -> list[tuple[str, str]]:  # noqa: ANN001
    """(title, body) pairs describing a chart in plain text."""
    patient = chart.patient
    who = [
        f"{patient.first_name} {patient.last_name}    ID {patient.external_id or '—'}",
        f"Born {_date(patient.date_of_birth)}    Sex {patient.sex}    Phone {patient.phone or '—'}",
    ]
    address = ", ".join(part for part in (patient.address_line1, patient.city, patient.state, patient.postal_code) if part)
    if address:
        who.append(f"Address {address}")
    if patient.guardian_name:
        who.append(f"Guardian {patient.guardian_name} {patient.guardian_phone}".rstrip())
    if patient.school:
        who.append(f"School {patient.school}    Grade {patient.grade or '—'}")
    if patient.archived_at:
        who.append(f"Archived {patient.archived_at.date().isoformat()}")

    coverage_lines = [
        f"{'Primary' if c.rank == 1 else 'Secondary'}: {c.payer_name or '—'} ({c.payer_kind.replace('_', '-')})"
        f"  member {c.member_id or 'MISSING'}  group {c.group_number or '—'}"
        f"  effective {_date(c.effective_from)} to {_date(c.effective_to)}"
        for c in chart.coverages
    ] or ["No coverage on file."]

    diagnosis_lines = [
        f"{d.code:<9} {d.role:<9} {d.description}  (onset {_date(d.onset_date)})" for d in chart.diagnoses
    ] or ["No diagnoses on file."]

    plan_lines: list[str] = []
    for plan in reversed(chart.plans):
        certified = f"certified {_date(plan.certified_on)}" if plan.certified_on else "NOT certified"
        plan_lines.append(
            f"{_date(plan.start_date)} to {_date(plan.end_date)}  {plan.frequency or ''}  {plan.status}, {certified}"
            f"  by {plan.certifying_physician_name or '—'} (NPI {plan.certifying_physician_npi or '—'})"
        )
        for goal in chart.goals_by_plan.get(plan.id, []):
            indent = "    " if goal.parent_goal_id else "  "
            plan_lines.append(
                f"{indent}[{goal.term[0].upper()}TG {goal.disorder_area}] {goal.text}"
                f" — target {goal.target_accuracy}% x{goal.criterion_sessions}, {goal.status}"
            )
    if not plan_lines:
        plan_lines = ["No plan of care (evaluation-only episodes need none)."]

    iep_lines = [
        f"{service.minutes_required} min per {service.period}, {service.kind}" for service in chart.iep_services
    ]
    session_lines = [
        f"{_date(therapy_session.date_of_service)}  {therapy_session.session_type.replace('_', ' '):<22}"
        f"  {therapy_session.setting.replace('_', ' '):<16} {participant.status}"
        for participant, therapy_session in sessions[:20]
    ] or ["No sessions yet."]
    if len(sessions) > 20:
        session_lines.append(f"… and {len(sessions) - 20} earlier sessions")

    sections = [("Patient", "\n".join(who)), ("Coverage", "\n".join(coverage_lines)),
                ("Diagnoses", "\n".join(diagnosis_lines)), ("Plans of care and goals", "\n".join(plan_lines))]
    if iep_lines:
        sections.append(("IEP service minutes", "\n".join(iep_lines)))
    sections.append((f"Sessions ({len(sessions)})", "\n".join(session_lines)))
    return sections


class PatientScreen(Screen):
    BINDINGS = [Binding("escape", "back", "Back to caseload", id="patient.back")]

    def __init__(self, patient_id: str) -> None:
        super().__init__()
        self.patient_id = patient_id

    def compose(self) -> ComposeResult:
        yield Header()
        yield VerticalScroll(id="chart")
        yield Footer()

    def on_mount(self) -> None:
        store = self.app.store
        chart = store.patients.chart(self.patient_id)
        sessions = store.sessions.for_patient(self.patient_id)
        self.sub_title = chart.patient.display_name
        container = self.query_one("#chart", VerticalScroll)
        for title, body in chart_sections(chart, sessions):
            container.mount(Static(title, classes="section-title"))
            container.mount(Static(body, classes="section-body", markup=False))
        container.focus()

    def action_back(self) -> None:
        self.app.pop_screen()

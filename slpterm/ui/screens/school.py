"""School view: IEP minutes required versus delivered per student, week by week, and the service log.

The month shown starts at today's; ← and → change it. l writes the month's service log (CSV
with start and stop times, minutes and IEP goals, as school Medicaid programs ask) to the export
folder. Enter opens the student's chart. The screen has no text field, so plain keys are safe.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from slpterm.ui.widgets.virtual_table import Column, VirtualTable

if TYPE_CHECKING:
    from slpterm.services.clinic import ClinicServices

WEEK_COLUMNS = 5
COLUMNS = [
    Column("Student", 20),
    Column("ID", 9),
    Column("School", 12),
    Column("IEP service", 13),
    *[Column(f"Week {n}", 7) for n in range(1, WEEK_COLUMNS + 1)],
    Column("Month", 8),
    Column("Status", 0),
]


def _shift_month(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def student_cells(student) -> tuple[str, ...]:  # noqa: ANN001
    weekly = [period.text for period in student.periods] if len(student.periods) > 1 else []
    if len(student.periods) == 1:
        weekly = ["—"] * WEEK_COLUMNS
    weekly = (weekly + [""] * WEEK_COLUMNS)[:WEEK_COLUMNS]
    return (student.name, student.external_id, student.school, student.requirement.label, *weekly,
            f"{student.month_delivered}/{student.month_required}", student.status_text)


class SchoolScreen(Screen):
    """IEP minutes per student for one month; ← → change the month; l exports the service log."""

    DEFAULT_CSS = """
    #school { height: 1fr; }
    #school-title { height: 1; padding: 0 2; text-style: bold; color: $text-accent; }
    #school-table { height: 1fr; margin: 0 1; }
    #school-status { height: 3; padding: 0 2; color: $text-muted; }
    """
    BINDINGS = [
        Binding("left", "month(-1)", "Previous month", id="school.previous"),
        Binding("right", "month(1)", "Next month", id="school.next"),
        Binding("l", "service_log", "Service log CSV", id="school.service_log"),
        Binding("escape", "back", "Back", id="school.back"),
    ]

    def __init__(self, services: ClinicServices) -> None:
        super().__init__()
        self.services = services
        self.reports = services.reports
        self.month: dt.date | None = None
        self.students: list = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="school"):
            yield Static("", id="school-title", markup=False)
            yield VirtualTable(COLUMNS, id="school-table")
            yield Static("Loading IEP minutes…", id="school-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "School: IEP minutes"
        self.month = self.services.clock.today().replace(day=1)
        self.query_one("#school-table", VirtualTable).focus()
        self._load(self.month)

    @work(thread=True, exclusive=True, group="school-load")
    def _load(self, month: dt.date) -> None:
        students = self.reports.school_minutes(month)
        self.app.call_from_thread(self._loaded, month, students)

    def _loaded(self, month: dt.date, students: list) -> None:
        if month != self.month:
            return
        self.students = students
        table = self.query_one("#school-table", VirtualTable)
        table.set_rows([student_cells(student) for student in students],
                       muted={i for i, s in enumerate(students) if s.status.startswith("consult")})
        from slpterm.reports.school import weeks_of_month

        weeks = weeks_of_month(month)
        titles = [monday.strftime("%m-%d") for monday, _ in weeks] + [""] * WEEK_COLUMNS
        table.columns = [*COLUMNS[:4], *[Column(title, 7) for title in titles[:WEEK_COLUMNS]], *COLUMNS[-2:]]
        table.refresh()
        self.query_one("#school-title", Static).update(
            f"IEP minutes delivered/required, {month.strftime('%B %Y')} (weeks Monday to Sunday, by their Monday)")
        behind = sum(1 for s in students if s.status.startswith("behind"))
        self.query_one("#school-status", Static).update(
            f"{len(students)} IEP services · {behind} behind · delivered = clock minutes of sessions; "
            "consult minutes are logged by hand; missed = cancelled and no-show minutes, owed = missed by the "
            "clinician or the school and not yet made up (m on Today)\n← → month · Enter opens the chart · l writes the month's "
            "service log (CSV)" if students else "No student has IEP service minutes; add them in a chart (m).")

    def action_month(self, delta: int) -> None:
        if self.month is None:
            return
        self.month = _shift_month(self.month, delta)
        self._load(self.month)

    @on(VirtualTable.RowChosen, "#school-table")
    def _open(self, event: VirtualTable.RowChosen) -> None:
        if 0 <= event.index < len(self.students):
            from slpterm.ui.screens.patient import PatientScreen

            student = self.students[event.index]
            self.app.push_screen(PatientScreen(self.services, student.patient_id, student.name))

    def action_service_log(self) -> None:
        if self.month is not None:
            self._write_log(self.month)

    @work(thread=True, exclusive=True, group="school-log")
    def _write_log(self, month: dt.date) -> None:
        from slpterm.reports.school import month_bounds

        start, end = month_bounds(month)
        path = self.reports.export_folder() / f"service-log-{month.strftime('%Y-%m')}.csv"
        try:
            written, unsigned = self.reports.write_service_log(start, end, path)
        except OSError as error:
            self.app.call_from_thread(self.notify, f"The service log could not be written: {error}", severity="error")
            return
        note = f"; {unsigned} unsigned note(s) left out: sign them first" if unsigned else ""
        self.app.call_from_thread(self.notify, f"Wrote {written} service(s) to {path}{note}", timeout=8)

    def action_back(self) -> None:
        self.app.pop_screen()

"""A cancelled or missed visit is never a session: it reaches no export in any format, is counted
against the student's IEP minutes and listed on the school service log."""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from slpterm.domain.clock import FakeClock
from slpterm.domain.schedule import AttendanceStatus, CancelledBy
from slpterm.services.clinic import build_services
from slpterm.store import open_store

TODAY = dt.date(2026, 12, 2)  # a Wednesday: the demo's school student is seen Tuesdays and Thursdays


@pytest.fixture(scope="module")
def demo_clinic(tmp_path_factory):
    from slpterm.demo import generate_demo

    folder = tmp_path_factory.mktemp("demo") / "data"
    generate_demo(folder, today=TODAY)
    return folder


@pytest.fixture
def services(tmp_path, demo_clinic):
    import shutil

    shutil.copytree(demo_clinic, tmp_path / "demo")
    store = open_store(tmp_path / "demo")
    yield build_services(store, FakeClock(dt.datetime(2026, 12, 2, 17, 0, tzinfo=dt.UTC)))
    store.close()


def _record_todays_misses(services) -> set[tuple[str, dt.date]]:
    schedule = services.schedule
    rows = {row.appointment.start: row for row in schedule.day()}
    schedule.cancel(rows[dt.time(14, 0)], CancelledBy.CLINICIAN, "clinician ill")
    schedule.no_show(rows[dt.time(15, 30)])
    schedule.cancel(rows[dt.time(10, 0)], CancelledBy.FACILITY, "fire drill")  # a whole group
    return {(missed.patient_id, missed.day) for missed in services.schedule._store.schedule.missed()}


@pytest.mark.parametrize("format", ["csv", "json", "fhir", "x12", "superbill"])
def test_a_cancelled_or_missed_visit_never_reaches_an_export(tmp_path, services, format):
    missed = _record_todays_misses(services)
    assert len(missed) >= 8  # the demo's own and today's: a clinician, a no-show, a group of three
    encounters = services.exports.encounters(None, None)
    assert encounters and not {(e.patient.id, e.date_of_service) for e in encounters} & missed
    outcome = services.exports.run(encounters, format, tmp_path / "out")
    assert outcome.files and not outcome.problems
    exported = {e.participant_id for e in encounters if e.participant_id in set(outcome.exported_ids)}
    assert exported == set(outcome.exported_ids)  # every exported line is one of the sessions, nothing else


def test_missed_minutes_count_against_iep_minutes_and_appear_on_the_service_log(tmp_path, services):
    today = services.clock.today()
    juniper = services.schedule.find_patient("DEMO-0003")
    [row] = [row for row in services.schedule.day(today) if row.members[0].patient_id == juniper]
    week_ago = today - dt.timedelta(days=7)
    students = {s.patient_id: s for s in services.reports.school_minutes(week_ago.replace(day=1))}
    assert students[juniper].month_missed == 30 and students[juniper].make_up_owed == 30
    path = tmp_path / "log.csv"
    services.reports.write_service_log(week_ago, week_ago, path)
    lines = list(csv.DictReader(path.open()))
    [missed] = [line for line in lines if line["Student ID"] == "DEMO-0003"]
    assert (missed["Minutes"], missed["Attendance"]) == ("0", "Cancelled (school/facility): state testing day")
    assert missed["Make-up Owed"] == "30"
    services.schedule.make_up(row)
    students = {s.patient_id: s for s in services.reports.school_minutes(week_ago.replace(day=1))}
    assert students[juniper].make_up_owed == 0 or today.month != week_ago.month


def test_the_chart_shows_the_attendance_rate(services):
    pip = services.schedule.find_patient("DEMO-0002")
    attendance = services.schedule.attendance(pip)
    assert attendance.missed[0].status == AttendanceStatus.NO_SHOW
    assert attendance.rate is not None and 0 < attendance.rate < 1
    assert "1 no-show" in attendance.text

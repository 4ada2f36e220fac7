"""The schedule: weekly recurrence, starting a visit's session, attendance, and the .ics round trip."""

from __future__ import annotations

import datetime as dt

import pytest

from slpterm.domain.errors import ValidationFailed
from slpterm.domain.schedule import AttendanceStatus, CancelledBy, Recurrence, parse_weekdays
from slpterm.services.clinic import build_services
from slpterm.store import open_store
from slpterm.store.db import SCHEMA_VERSION

MONDAY = dt.date(2026, 11, 2)


@pytest.fixture
def services(tmp_path, clock):
    store = open_store(tmp_path / "data")
    store.clinic.add_clinician(first_name="Rosa", last_name="Fennimore", npi="1234567893")
    for first, last, mrn in (("Milo", "Quillfeather", "P-1"), ("Ada", "Brightwater", "P-2"), ("Noor", "Kestrel", "P-3")):
        store.patients.create(first_name=first, last_name=last, external_id=mrn, school="Cedar Elementary")
    built = build_services(store, clock)
    yield built
    store.close()


def patient(services, mrn):
    return services.schedule.find_patient(mrn)


def test_weekly_recurrence_falls_on_its_weekdays_every_n_weeks():
    rule = Recurrence(parse_weekdays("MO,WE"), interval_weeks=2, until=dt.date(2026, 12, 31))
    days = [MONDAY + dt.timedelta(days=n) for n in range(21)]
    assert [day for day in days if rule.falls_on(MONDAY, day)] == [
        MONDAY, MONDAY + dt.timedelta(days=2), MONDAY + dt.timedelta(days=14), MONDAY + dt.timedelta(days=16)]
    assert not rule.falls_on(MONDAY, dt.date(2027, 1, 4))


def test_a_group_slot_starts_a_group_session_with_its_members(services):
    schedule = services.schedule
    members = [patient(services, "P-1"), patient(services, "P-2")]
    schedule.add(patient_ids=members, first_day=MONDAY - dt.timedelta(days=7), start=dt.time(9, 30), minutes=30,
                 recurrence=Recurrence(parse_weekdays("MO")))
    [row] = schedule.day(MONDAY)
    assert row.appointment.session_type == "group_treatment" and row.state == "scheduled"
    participants = schedule.start(row)
    assert len(participants) == 2
    [row] = schedule.day(MONDAY)
    assert row.state == "started"
    facts = services.session_flow().facts(participants[0])
    assert facts.session_type == "group_treatment"


def test_a_cancelled_member_is_left_out_and_a_lone_member_gets_an_individual_session(services):
    schedule = services.schedule
    members = [patient(services, "P-1"), patient(services, "P-2")]
    schedule.add(patient_ids=members, first_day=MONDAY, start=dt.time(10, 0), minutes=30)
    [row] = schedule.day(MONDAY)
    [missed] = schedule.cancel(row, CancelledBy.PATIENT, "ill", patient_ids=[members[1]])
    assert missed.status == AttendanceStatus.CANCELLED and missed.minutes == 30
    [row] = schedule.day(MONDAY)
    assert row.state == "mixed" and "Cancelled (patient/family): ill" in row.status_text
    assert schedule.session_request(row) == ([members[0]], "individual_treatment")


def test_a_cancellation_needs_a_reason_and_a_started_visit_cannot_be_a_no_show(services):
    schedule = services.schedule
    schedule.add(patient_ids=[patient(services, "P-3")], first_day=MONDAY, start=dt.time(11, 0), minutes=45)
    [row] = schedule.day(MONDAY)
    with pytest.raises(ValidationFailed, match="Reason"):
        schedule.cancel(row, CancelledBy.CLINICIAN, "  ")
    schedule.start(row)
    [row] = schedule.day(MONDAY)
    with pytest.raises(ValidationFailed, match="already has a session"):
        schedule.no_show(row)


def test_make_up_links_the_earliest_owed_visit_and_the_chart_rate_counts_it(services, clock):
    schedule = services.schedule
    milo = patient(services, "P-1")
    schedule.add(patient_ids=[milo], first_day=MONDAY - dt.timedelta(days=7), start=dt.time(9, 0), minutes=30,
                 recurrence=Recurrence(parse_weekdays("MO")))
    [last_week] = schedule.day(MONDAY - dt.timedelta(days=7))
    schedule.cancel(last_week, CancelledBy.FACILITY, "school assembly")
    assert [row.owes_make_up for row in schedule.owed(milo)] == [True]
    [today] = schedule.day(MONDAY)
    participants, made_up = schedule.make_up(today)
    assert len(participants) == 1 and made_up[0].day == MONDAY - dt.timedelta(days=7)
    assert schedule.owed(milo) == []
    attendance = schedule.attendance(milo)
    assert (attendance.attended, len(attendance.missed)) == (1, 1)
    assert attendance.text.startswith("50% kept (1 attended, 1 cancelled, 0 no-shows)")


def test_ics_round_trip_keeps_times_recurrence_and_members(services, tmp_path):
    schedule = services.schedule
    members = [patient(services, "P-1"), patient(services, "P-2")]
    schedule.add(patient_ids=members, first_day=MONDAY, start=dt.time(9, 30), minutes=30, setting="school",
                 recurrence=Recurrence(parse_weekdays("MO,TH"), 1, dt.date(2027, 1, 28)))
    schedule.add(patient_ids=[patient(services, "P-3")], first_day=MONDAY, start=dt.time(13, 15), minutes=45,
                 session_type="evaluation", setting="office")
    path = tmp_path / "out" / "schedule.ics"
    assert schedule.export_ics(path) == 2
    before = schedule.appointments()
    for appointment in before:
        schedule.remove(appointment.id)
    outcome = schedule.import_ics(path)
    assert outcome.skipped == []
    after = schedule.appointments()
    fields = lambda a: (a.title, a.first_day, a.start, a.minutes, a.session_type, a.setting, a.patient_ids,  # noqa: E731
                        a.recurrence, a.uid)
    assert sorted(map(fields, after)) == sorted(map(fields, before))
    assert schedule.import_ics(path).skipped[0].reason == "already on the schedule (same UID)"


def test_ics_import_matches_by_id_or_name_and_reports_the_rest(services, tmp_path):
    calendar = "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Cedar Elementary//EN",
        "BEGIN:VEVENT", "UID:a1", "DTSTAMP:20261101T000000Z", "SUMMARY:Speech - Noor Kestrel",
        "DTSTART:20261102T083000", "DURATION:PT20M", "RRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=4", "END:VEVENT",
        "BEGIN:VEVENT", "UID:a2", "DTSTAMP:20261101T000000Z", "SUMMARY:Artic group P-1 P-2",
        "DTSTART:20261103T100000", "DTEND:20261103T103000", "END:VEVENT",
        "BEGIN:VEVENT", "UID:a3", "DTSTAMP:20261101T000000Z", "SUMMARY:Staff meeting",
        "DTSTART:20261103T150000", "DTEND:20261103T160000", "END:VEVENT",
        "BEGIN:VEVENT", "UID:a4", "DTSTAMP:20261101T000000Z", "SUMMARY:Milo Quillfeather",
        "DTSTART:20261104T100000", "DTEND:20261104T103000", "RRULE:FREQ=DAILY", "END:VEVENT",
        "END:VCALENDAR", ""])
    path = tmp_path / "school.ics"
    path.write_text(calendar)
    outcome = services.schedule.import_ics(path)
    assert [(a.title, len(a.patient_ids), a.session_type) for a in outcome.added] == [
        ("Speech - Noor Kestrel", 1, "individual_treatment"), ("Artic group P-1 P-2", 2, "group_treatment")]
    noor = outcome.added[0]
    assert noor.minutes == 20 and noor.recurrence.until == dt.date(2026, 11, 11)
    assert [(s.summary, s.reason.split(";")[0]) for s in outcome.skipped] == [
        ("Staff meeting", "no patient's ID or full name in the summary"),
        ("Milo Quillfeather", "repeats daily")]


def test_schema_version_holds_the_schedule_tables(services):
    import sqlite3

    path = services.schedule._store.path
    with sqlite3.connect(path) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        version = connection.execute("PRAGMA user_version").fetchone()[0]
    assert {"appointment", "appointmentmember", "attendance"} <= tables and version == SCHEMA_VERSION

"""Prints how long the caseload takes to load with what is due, for 10,000 patients.

Run: /work/venv/bin/python tests/chart/bench_due.py  (not a test: timings are figures, not asserts)
"""

from __future__ import annotations

import random
import sqlite3
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

from slpterm.store import open_store

PATIENTS = 10_000
SESSIONS_PER_PATIENT = 24


def _seed(data_dir: Path, today: date) -> None:
    store = open_store(data_dir)
    path = store.path
    store.close()
    rng = random.Random(7)
    connection = sqlite3.connect(path)
    patients, coverages, plans, sessions, participants, segments, ieps = [], [], [], [], [], [], []
    for index in range(PATIENTS):
        pid = str(uuid.uuid4())
        now = datetime(2026, 1, 1).isoformat(" ")
        patients.append((pid, f"B-{index:05}", f"First{index}", f"Last{index}", "2015-01-01", "U", now, now))
        kind = rng.choice(["medicare", "medicaid", "commercial", "school"])
        coverages.append((str(uuid.uuid4()), pid, 1, kind, kind.title(), "", "M1"))
        start = today - timedelta(days=rng.randint(10, 100))
        plan_id = str(uuid.uuid4())
        plans.append((plan_id, pid, start.isoformat(), (start + timedelta(days=89)).isoformat(), "2x/week", 12,
                      "certified" if rng.random() < 0.7 else "draft", now))
        if kind == "school":
            ieps.append((str(uuid.uuid4()), pid, 60, "week", "direct"))
        for _ in range(SESSIONS_PER_PATIENT):
            day = today - timedelta(days=rng.randint(0, 150))
            sid, spid = str(uuid.uuid4()), str(uuid.uuid4())
            begin = datetime.combine(day, datetime.min.time()) + timedelta(hours=9)
            sessions.append((sid, day.isoformat(), "individual_treatment", "office", 0, "", now, now))
            participants.append((spid, sid, pid, "signed", "", None))
            segments.append((str(uuid.uuid4()), sid, "language", begin.isoformat(" "),
                             (begin + timedelta(minutes=30)).isoformat(" ")))
    connection.executemany("INSERT INTO patient (id, external_id, first_name, last_name, date_of_birth, sex, "
                           "address_line1, address_line2, city, state, postal_code, phone, guardian_name, "
                           "guardian_phone, school, grade, created_at, updated_at) "
                           "VALUES (?,?,?,?,?,?,'','','','','','','','','','',?,?)", patients)
    connection.executemany("INSERT INTO coverage (id, patient_id, rank, payer_kind, payer_name, payer_id, member_id, "
                           "group_number, subscriber_relationship, subscriber_first_name, subscriber_last_name) "
                           "VALUES (?,?,?,?,?,?,?,'','self','','')", coverages)
    connection.executemany("INSERT INTO planofcare (id, patient_id, start_date, end_date, frequency, duration_weeks, "
                           "status, certifying_physician_name, certifying_physician_npi, created_at) "
                           "VALUES (?,?,?,?,?,?,?,'','',?)", plans)
    connection.executemany("INSERT INTO iepservice (id, patient_id, minutes_required, period, kind) VALUES (?,?,?,?,?)",
                           ieps)
    connection.executemany("INSERT INTO session (id, date_of_service, session_type, setting, manual_time, "
                           "group_rationale, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)", sessions)
    connection.executemany("INSERT INTO sessionparticipant (id, session_id, patient_id, status, "
                           "distinct_service_note, rehabilitative) VALUES (?,?,?,?,?,?)", participants)
    connection.executemany("INSERT INTO timesegment (id, session_id, disorder_area, started_at, ended_at) "
                           "VALUES (?,?,?,?,?)", segments)
    connection.commit()
    connection.close()


def main() -> None:
    from slpterm.services.due import caseload_due_summaries

    today = date(2026, 11, 27)
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        started = time.perf_counter()
        _seed(data_dir, today)
        print(f"seeded {PATIENTS} patients, {PATIENTS * SESSIONS_PER_PATIENT} sessions "
              f"in {time.perf_counter() - started:.1f} s")
        store = open_store(data_dir)
        started = time.perf_counter()
        rows = store.caseload.rows()
        rows_time = time.perf_counter() - started
        started = time.perf_counter()
        summaries = caseload_due_summaries(store, today)
        due_time = time.perf_counter() - started
        print(f"caseload rows: {len(rows)} in {rows_time:.2f} s")
        print(f"due summaries: {len(summaries)} patients with something due in {due_time:.2f} s")
        print(f"total: {rows_time + due_time:.2f} s")
        store.close()


if __name__ == "__main__":
    main()

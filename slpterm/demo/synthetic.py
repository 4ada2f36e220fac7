"""Large seeded clinics for benchmarks (10,000 patients / 100,000 sessions and up).

Patients are drawn from the same profiles as the demo clinic and charted by the same builder; the
rows are written in time order, about 5,000 sessions per transaction of bulk inserts, so that the
time-ordered identifiers land at the end of every index.
"""

from __future__ import annotations

import random
import time as clock
from datetime import date, time, timedelta
from pathlib import Path

from slpterm.demo import content
from slpterm.demo.builder import Appointment, ClinicBuilder, ClinicianInfo, PatientState
from slpterm.demo.writing import DemoSummary, finish, open_empty_store, write_batch
from slpterm.store import Store
from slpterm.domain.vocab import (
    ClinicianRole,
    IepPeriod,
    IepServiceKind,
    PayerKind,
    PlanStatus,
    SessionType,
    Setting,
)

WINDOW_DAYS = 91  # sessions fall in the three months before today
SESSIONS_PER_WRITE = 5000  # one transaction of bulk inserts per this many sessions
CHARTS_PER_WRITE = 5000
GROUP_SHARE = 20  # one session in 20 is a group
PATIENTS_PER_CLINICIAN = 60
_PROFILE_KEYS = list(content.PROFILE_WEIGHTS)
_PROFILE_WEIGHTS = [content.PROFILE_WEIGHTS[key] for key in _PROFILE_KEYS]
_SLOTS = [time(hour, minute) for hour in range(8, 17) for minute in (0, 15, 30, 45)]


def _grade(age: int) -> str:
    return "K" if age <= 5 else str(min(12, age - 5))


def _weekdays(start: date, end: date) -> list[date]:
    days = []
    day = start
    while day <= end:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


class _SyntheticClinic:
    def __init__(self, builder: ClinicBuilder, clinicians: list[ClinicianInfo]) -> None:
        self.b = builder
        self.rng = builder.rng
        self.today = builder.today
        self.window_start = builder.today - timedelta(days=WINDOW_DAYS)
        self.last_working_day = _weekdays(self.today - timedelta(days=7), self.today - timedelta(days=1))[-1]
        self.clinicians = clinicians
        self.serial = 0

    def _chart(self) -> PatientState:
        b, rng, today = self.b, self.rng, self.today
        profile = content.PROFILES[rng.choices(_PROFILE_KEYS, _PROFILE_WEIGHTS)[0]]
        kinds, weights = zip(*profile.payers)
        payer = rng.choices(kinds, weights)[0]
        age = rng.randint(*profile.ages)
        school_age = profile.school_age or payer == PayerKind.SCHOOL
        school = rng.choice(content.SCHOOLS) if school_age or (5 <= age <= 17 and rng.random() < 0.5) else ""
        secondary = None
        if payer == PayerKind.MEDICARE and rng.random() < 0.1 or payer == PayerKind.SCHOOL and rng.random() < 0.3:
            secondary = PayerKind.MEDICAID
        missing_member = payer != PayerKind.SELF_PAY and rng.random() < 0.02
        self.serial += 1
        episode_start = today - timedelta(days=rng.randrange(30, 200))
        patient = b.add_patient(
            profile, rng.choice(content.FIRST_NAMES), rng.choice(content.LAST_NAMES),
            external_id=f"SYN-{self.serial:07d}", age=age, payer_kind=payer, episode_start=episode_start,
            school=school, grade=_grade(age) if school else "", member_id="" if missing_member else None,
            secondary=secondary,
        )
        school_plan = payer == PayerKind.SCHOOL
        start = episode_start
        while True:
            uncertified = payer == PayerKind.MEDICARE and rng.random() < 0.04
            days = 365 if school_plan else 90
            signed_after = rng.randrange(0 if school_plan else 2, 12)
            plan = b.add_plan(
                patient, start, days=days,
                certified_on=None if uncertified else start + timedelta(days=signed_after),
                physician="" if school_plan else None,
                status=PlanStatus.DRAFT if uncertified else PlanStatus.CERTIFIED,
            )
            # Most episodes are recertified when the plan runs out; a few lapse (an expired plan in use).
            if plan.end >= today or rng.random() < 0.05:
                break
            start = plan.end + timedelta(days=1)
        if school_plan:
            if rng.random() < 0.8:
                b.add_iep_service(patient, rng.choice((30, 60, 60, 90, 120)), period=IepPeriod.WEEK.value,
                                  kind=IepServiceKind.DIRECT.value, start=episode_start)
            else:
                b.add_iep_service(patient, rng.choice((120, 240)), period=IepPeriod.MONTH.value,
                                  kind=IepServiceKind.DIRECT.value, start=episode_start)
        if payer == PayerKind.MEDICARE and rng.random() < 0.3:
            b.add_other_providers_amount(patient, today.year, rng.randrange(0, 260000, 500))
        return patient

    def _appointment(self, patient: PatientState, day: date, clinician: ClinicianInfo,
                     evaluation: bool) -> Appointment:
        rng = self.rng
        profile = patient.profile
        setting = Setting.SCHOOL if patient.payer_kind == PayerKind.SCHOOL else rng.choice(profile.settings)
        if evaluation:
            session_type, kind = profile.evaluation
            return Appointment(day, rng.choice(_SLOTS), session_type, setting, clinician,
                               [(profile.areas[0], rng.choice((45, 60, 60, 75)))], [patient], evaluation_kind=kind)
        session_type = rng.choice(profile.session_types)
        areas = profile.area_for(session_type)
        total = rng.choice((30, 30, 45, 45, 60)) if session_type != SessionType.COGNITIVE_TREATMENT else \
            rng.choice((30, 38, 45, 53, 60))
        if len(areas) > 1 and rng.random() < 0.4:
            first = total // 2 + rng.choice((-5, 0, 5))
            area_minutes = [(areas[0], first), (areas[1], total - first)]
        else:
            area_minutes = [(rng.choice(areas), total)]
        return Appointment(day, rng.choice(_SLOTS), session_type, setting, clinician, area_minutes, [patient])

    def _signed(self, day: date) -> bool:
        """Half of the last working day's sessions are still unsigned drafts."""
        return not (day >= self.last_working_day and self.rng.random() < 0.5)

    def charts(self, count: int, store: Store) -> list[PatientState]:
        """Chart ``count`` patients, written every few thousand."""
        charts = []
        for index in range(count):
            charts.append(self._chart())
            if index % CHARTS_PER_WRITE == CHARTS_PER_WRITE - 1:
                write_batch(store, self.b.take_rows())
        write_batch(store, self.b.take_rows())
        return charts

    def visits(self, charts: list[PatientState], individual: int,
               groups: int) -> list[tuple[Appointment, PatientState]]:
        """Exactly ``individual`` + ``groups`` sessions, as (appointment, patient) pairs in time order."""
        rng, today = self.rng, self.today
        own_clinician = {chart.id: rng.choice(self.clinicians) for chart in charts}
        self.own_clinician = own_clinician
        eligible = [chart for chart in charts if chart.profile.group_ok]
        if len(eligible) < 2:
            individual, groups = individual + groups, 0
        per_patient = [0] * len(charts)
        for index in rng.choices(range(len(charts)), k=individual):
            per_patient[index] += 1

        yesterday = today - timedelta(days=1)
        all_days = _weekdays(self.window_start, yesterday) or [yesterday]
        visits: list[tuple[Appointment, PatientState]] = []
        for chart, count in zip(charts, per_patient):
            if not count:
                continue
            clinician = own_clinician[chart.id]
            evaluation_first = chart.episode_start >= self.window_start
            first_day = max(chart.episode_start + timedelta(days=1), self.window_start)
            days = [day for day in all_days if day >= first_day] or [yesterday]
            treatment_count = count - 1 if evaluation_first else count
            if treatment_count <= len(days):
                chosen = sorted(rng.sample(days, treatment_count))
            else:
                chosen = sorted(rng.choices(days, k=treatment_count))
            if evaluation_first:
                visits.append((self._appointment(chart, chart.episode_start, clinician, True), chart))
            for day in chosen:
                appointment = self._appointment(chart, day, clinician, False)
                appointment.signed = self._signed(day)
                visits.append((appointment, chart))

        for _ in range(groups):
            members = rng.sample(eligible, min(len(eligible), rng.choice((2, 3, 3, 3, 4))))
            first_day = max(max(member.episode_start for member in members) + timedelta(days=1), self.window_start)
            day = rng.choice([day for day in all_days if day >= first_day] or [yesterday])
            areas = list(dict.fromkeys(member.profile.areas[0] for member in members))[:2]
            if len(areas) == 2:
                area_minutes = [(areas[0], 25), (areas[1], 20)]
            else:
                area_minutes = [(areas[0], rng.choice((30, 45)))]
            appointment = Appointment(
                day, rng.choice(_SLOTS), SessionType.GROUP_TREATMENT,
                Setting.SCHOOL if all(m.payer_kind == PayerKind.SCHOOL for m in members) else Setting.OFFICE,
                own_clinician[members[0].id], area_minutes, members,
                group_rationale=content.GROUP_RATIONALE.format(
                    area=" and ".join(content.AREA_WORDS[area] for area in areas)),
            )
            appointment.signed = self._signed(day)
            visits.extend((appointment, member) for member in members)
        visits.sort(key=lambda item: (item[0].day, item[0].start))
        return visits

    def chart_sessions(self, visits: list[tuple[Appointment, PatientState]], store: Store) -> None:
        """Chart the visits in time order, written about every ``SESSIONS_PER_WRITE`` sessions."""
        b = self.b
        written = b.counts.sessions
        for appointment, chart in visits:
            b.add_participation(appointment, chart)
            if b.counts.sessions - written >= SESSIONS_PER_WRITE:
                write_batch(store, b.take_rows())
                written = b.counts.sessions

    def progress_reports(self, charts: list[PatientState]) -> None:
        for chart in charts:
            if chart.payer_kind in (PayerKind.MEDICARE, PayerKind.COMMERCIAL):
                self.b.add_progress_reports(chart, self.own_clinician[chart.id],
                                            limit=1 if self.rng.random() < 0.1 else None)


def _clinicians(builder: ClinicBuilder, patients: int) -> list[ClinicianInfo]:
    rng = builder.rng
    made = []
    for index in range(max(3, -(-patients // PATIENTS_PER_CLINICIAN))):
        fellow = index % 6 == 1
        made.append(builder.add_clinician(
            rng.choice(content.FIRST_NAMES), rng.choice(content.LAST_NAMES),
            "MS, CF-SLP" if fellow else "MS, CCC-SLP",
            ClinicianRole.CLINICAL_FELLOW.value if fellow else ClinicianRole.SLP.value,
        ))
    return made


def generate_synthetic(data_dir: Path, *, patients: int, sessions: int, seed: int = 1,
                       today: date | None = None) -> DemoSummary:
    """Write a seeded synthetic clinic of ``patients`` patients and exactly ``sessions`` sessions.

    About one session in twenty is a group of 2-4 children; about half the sessions of the last
    working day are left as unsigned drafts. ``data_dir`` must not hold a clinic yet.
    """
    if patients < 1:
        raise ValueError("a synthetic clinic needs at least one patient")
    if sessions < 0:
        raise ValueError("the number of sessions cannot be negative")
    started = clock.perf_counter()
    today = today or date.today()
    store = open_empty_store(Path(data_dir))
    try:
        builder = ClinicBuilder(random.Random(seed), today, trials_per_goal=(6, 12), goals_per_session=(1, 2))
        clinic_id = builder.add_clinic("Riverbend Synthetic Clinic")
        clinicians = _clinicians(builder, patients)
        clinic = _SyntheticClinic(builder, clinicians)
        groups_total = sessions // GROUP_SHARE if patients >= 2 else 0
        charts = clinic.charts(patients, store)
        visits = clinic.visits(charts, sessions - groups_total, groups_total)
        clinic.chart_sessions(visits, store)
        del visits
        clinic.progress_reports(charts)
        counts = builder.counts
        write_batch(store, builder.take_rows(), audit={
            "action": "synthetic-generate", "clinic_id": clinic_id, "kind": "synthetic", "seed": seed,
            "today": today.isoformat(), "patients": counts.patients, "sessions": counts.sessions,
            "trials": counts.trials, "signed": counts.signed,
        })
    except BaseException:
        store.close()
        raise
    return finish(store, builder, started, clinicians=len(clinicians))

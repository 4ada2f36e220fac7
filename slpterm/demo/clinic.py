"""The ready-made demo clinic: a dozen fictional patients who exercise the whole product.

Besides ordinary charts it holds the problems the caseload and the claim scrubber exist to find:
an expired plan of care still in use, an overdue progress report, a Medicare patient near the KX
threshold, a plan never certified 30+ days after the first treatment, a coverage without a member
ID, IEP minutes behind this week and unsigned drafts.
"""

from __future__ import annotations

import random
import time as clock
from datetime import date, time, timedelta
from pathlib import Path
from collections.abc import Iterator
from typing import TypedDict

from slpterm.demo import content
from slpterm.demo.builder import Appointment, ClinicBuilder, ClinicianInfo, PatientState
from slpterm.demo.writing import DemoSummary, finish, open_empty_store, write_batch
from slpterm.domain.vocab import (
    ClinicianRole,
    DisorderArea,
    EvaluationKind,
    GoalStatus,
    IepPeriod,
    IepServiceKind,
    PayerKind,
    PlanStatus,
    SessionType,
    Setting,
)

A = DisorderArea
MON, TUE, WED, THU, FRI = range(5)
CLINIC_NAME = "Riverbend Speech & Swallowing (Demo Clinic)"


def _weekdays(start: date, end: date, weekdays: set[int]) -> Iterator[date]:
    day = start
    while day <= end:
        if day.weekday() in weekdays:
            yield day
        day += timedelta(days=1)


class _DemoFacts(TypedDict):
    clinic_id: str
    clinicians: int


class _DemoClinic:
    def __init__(self, builder: ClinicBuilder) -> None:
        self.b = builder
        self.rng = builder.rng
        self.today = builder.today
        self.yesterday = builder.today - timedelta(days=1)
        self.visits: list[tuple[Appointment, PatientState]] = []

    # -- helpers --------------------------------------------------------------------------------
    def visit(self, appointment: Appointment) -> Appointment:
        for patient in appointment.patients:
            self.visits.append((appointment, patient))
        return appointment

    def evaluation(self, patient: PatientState, day: date, at: time, clinician: ClinicianInfo,
                   kind: EvaluationKind, area: DisorderArea, minutes: int = 60,
                   setting: Setting = Setting.OFFICE) -> Appointment:
        session_type = (SessionType.AAC_EVALUATION if kind in (EvaluationKind.AAC_SGD, EvaluationKind.AAC_NON_SGD)
                        else SessionType.EVALUATION)
        return self.visit(Appointment(day, at, session_type, setting, clinician, [(area, minutes)], [patient],
                                      evaluation_kind=kind))

    def series(self, patient: PatientState, start: date, end: date, weekdays: set[int], at: time,
               clinician: ClinicianInfo, session_type: SessionType, areas: list[tuple[DisorderArea, int]],
               setting: Setting = Setting.OFFICE, skip_chance: float = 0.08) -> list[Appointment]:
        """Weekly treatment on ``weekdays`` from ``start`` to ``end``, with the odd cancellation."""
        made = []
        for day in _weekdays(start, end, weekdays):
            if self.rng.random() < skip_chance:
                continue
            jitter = [(area, max(20, minutes + self.rng.choice((-5, 0, 0, 0, 5)))) for area, minutes in areas]
            made.append(self.visit(Appointment(day, at, session_type, setting, clinician, jitter, [patient])))
        return made

    # -- the clinic -----------------------------------------------------------------------------
    def build(self) -> _DemoFacts:
        b, today, yesterday = self.b, self.today, self.yesterday
        clinic_id = b.add_clinic(CLINIC_NAME)
        harriet = b.add_clinician("Harriet", "Quillfeather", "MS, CCC-SLP", ClinicianRole.SLP.value)
        milo = b.add_clinician("Milo", "Fernsby", "MS, CF-SLP", ClinicianRole.CLINICAL_FELLOW.value)
        saffron = b.add_clinician("Saffron", "Tumbleweed", "MA, CCC-SLP", ClinicianRole.SLP.value)
        profiles = content.PROFILES
        serial = iter(range(1, 100))

        def patient(profile: str, first: str, last: str, age: int, payer: PayerKind, start: date,
                    **extra: object) -> PatientState:
            return b.add_patient(profiles[profile], first, last, external_id=f"DEMO-{next(serial):04d}", age=age,
                                 payer_kind=payer, episode_start=start, **extra)  # type: ignore[arg-type]

        # 1. Medicare, after a stroke: aphasia and dysphagia; language and swallowing on the same day.
        start = today - timedelta(days=84)
        wendell = patient("stroke_aphasia_dysphagia", "Wendell", "Puddingstone", 74, PayerKind.MEDICARE, start)
        b.add_plan(wendell, start, certified_on=start + timedelta(days=6), physician=content.PHYSICIANS[0])
        b.add_other_providers_amount(wendell, today.year, 198500)
        self.evaluation(wendell, start, time(9, 0), harriet, EvaluationKind.APHASIA, A.LANGUAGE, 60)
        self.evaluation(wendell, start, time(10, 15), harriet, EvaluationKind.SWALLOWING_CLINICAL, A.SWALLOWING, 40)
        first_treatment = start + timedelta(days=3)
        self.series(wendell, first_treatment, yesterday - timedelta(days=1), {MON}, time(10, 0), harriet,
                    SessionType.INDIVIDUAL_TREATMENT, [(A.LANGUAGE, 45)])
        self.series(wendell, first_treatment, yesterday - timedelta(days=1), {THU}, time(10, 0), harriet,
                    SessionType.INDIVIDUAL_TREATMENT, [(A.LANGUAGE, 30)], skip_chance=0)
        for appointment in self.series(wendell, first_treatment, yesterday - timedelta(days=1), {THU}, time(11, 0),
                                       harriet, SessionType.SWALLOWING_TREATMENT, [(A.SWALLOWING, 30)],
                                       skip_chance=0):
            appointment.distinct_service_note = (
                "Swallowing treatment given in a separate session at 11:00, after the 10:00 language session.")
        self.visit(Appointment(yesterday, time(11, 0), SessionType.SWALLOWING_TREATMENT,
                                               Setting.OFFICE, harriet, [(A.SWALLOWING, 30)], [wendell],
                                               signed=False))

        # 2. Medicaid child with a phonological disorder, seen by the clinical fellow.
        start = today - timedelta(days=88)
        pip = patient("phonological_child", "Pip", "Hollyhock", 7, PayerKind.MEDICAID, start)
        b.add_plan(pip, start, certified_on=start + timedelta(days=7), physician=content.PHYSICIANS[3])
        self.evaluation(pip, start, time(15, 30), milo, EvaluationKind.SPEECH_SOUND, A.SPEECH_SOUND, 60)
        self.series(pip, start + timedelta(days=2), yesterday, {TUE, FRI}, time(15, 30), milo,
                    SessionType.INDIVIDUAL_TREATMENT, [(A.SPEECH_SOUND, 30)])

        # 3. School student with IEP minutes, behind this week; language-only re-evaluation.
        start = today - timedelta(days=85)
        juniper = patient("mixed_language_school", "Juniper", "Snickerdoodle", 9, PayerKind.SCHOOL, start,
                          school="Maple Grove Elementary", grade="4", secondary=PayerKind.MEDICAID)
        b.add_plan(juniper, start, days=365, certified_on=start, physician="")
        b.add_iep_service(juniper, 60, period=IepPeriod.WEEK.value, kind=IepServiceKind.DIRECT.value, start=start)
        b.add_iep_service(juniper, 30, period=IepPeriod.MONTH.value, kind=IepServiceKind.CONSULT.value, start=start)
        self.evaluation(juniper, start, time(9, 0), saffron, EvaluationKind.LANGUAGE_ONLY, A.LANGUAGE, 60,
                        setting=Setting.SCHOOL)
        week_start = today - timedelta(days=today.weekday())
        self.series(juniper, start + timedelta(days=1), week_start - timedelta(days=1), {TUE, THU}, time(13, 0),
                    saffron, SessionType.INDIVIDUAL_TREATMENT, [(A.LANGUAGE, 30)], setting=Setting.SCHOOL,
                    skip_chance=0.12)
        self.visit(Appointment(today, time(8, 0), SessionType.INDIVIDUAL_TREATMENT, Setting.SCHOOL, saffron,
                               [(A.LANGUAGE, 20)], [juniper], signed=False, partial_note=True))

        # 4. Commercially insured adult who stutters; plan ended two weeks ago but visits go on.
        start = today - timedelta(days=98)
        barnaby = patient("adult_fluency", "Barnaby", "Quibbleton", 34, PayerKind.COMMERCIAL, start)
        b.add_plan(barnaby, start, days=84, certified_on=start + timedelta(days=5), physician=content.PHYSICIANS[2])
        self.evaluation(barnaby, start, time(17, 0), harriet, EvaluationKind.FLUENCY, A.FLUENCY, 60)
        self.series(barnaby, start + timedelta(days=1), yesterday, {WED}, time(17, 0), harriet,
                    SessionType.INDIVIDUAL_TREATMENT, [(A.FLUENCY, 45)], skip_chance=0)

        # 5. Medicare voice patient (Parkinson's hypophonia): plan sent but never certified.
        start = today - timedelta(days=50)
        marigold = patient("parkinson_voice", "Marigold", "Wafflestone", 71, PayerKind.MEDICARE, start)
        b.add_plan(marigold, start, certified_on=None, physician=content.PHYSICIANS[1], status=PlanStatus.DRAFT)
        self.evaluation(marigold, start, time(14, 0), harriet, EvaluationKind.VOICE, A.VOICE, 60)
        self.series(marigold, start + timedelta(days=3), yesterday, {TUE, FRI}, time(14, 0), harriet,
                    SessionType.INDIVIDUAL_TREATMENT, [(A.VOICE, 45)])

        # 6. AAC user (cerebral palsy, Medicaid); recertified plan.
        start = today - timedelta(days=130)
        rowan = patient("aac_cerebral_palsy", "Rowan", "Inkwhistle", 15, PayerKind.MEDICAID, start)
        b.add_plan(rowan, start, certified_on=start + timedelta(days=4), physician=content.PHYSICIANS[0],
                   status=PlanStatus.EXPIRED)
        recert = start + timedelta(days=90)
        self.evaluation(rowan, start, time(16, 0), milo, EvaluationKind.AAC_SGD, A.AAC, 75)
        self.series(rowan, start + timedelta(days=3), recert - timedelta(days=1), {MON}, time(16, 0), milo,
                    SessionType.AAC_TREATMENT, [(A.AAC, 45)])
        rowan_recert = self.series(rowan, recert, yesterday, {MON}, time(16, 0), milo,
                                   SessionType.AAC_TREATMENT, [(A.AAC, 45)])

        # 7-9. Three children seen as a group (and individually), each with their own goals.
        start = today - timedelta(days=80)
        tilly = patient("expressive_language_child", "Tilly", "Gumdrop", 5, PayerKind.MEDICAID, start,
                        member_id="")
        oswin = patient("phonological_child", "Oswin", "Crumpetton", 6, PayerKind.COMMERCIAL, start)
        hazel = patient("expressive_language_child", "Hazel", "Biscuitwood", 6, PayerKind.SELF_PAY, start)
        for index, child in enumerate((tilly, oswin, hazel)):
            b.add_plan(child, start + timedelta(days=index), certified_on=start + timedelta(days=index + 6),
                       physician=content.PHYSICIANS[3])
            kind = (EvaluationKind.SPEECH_SOUND if child is oswin else EvaluationKind.LANGUAGE_ONLY)
            area = A.SPEECH_SOUND if child is oswin else A.LANGUAGE
            self.evaluation(child, start + timedelta(days=index), time(9, 0), milo, kind, area, 60)
            self.series(child, start + timedelta(days=7), yesterday, {FRI}, (time(13, 0), time(13, 45),
                        time(14, 30))[index], milo, SessionType.INDIVIDUAL_TREATMENT, [(area, 30)])
        rationale = content.GROUP_RATIONALE.format(area="language and speech sound")
        for day in _weekdays(start + timedelta(days=8), yesterday, {WED}):
            if self.rng.random() < 0.08:
                continue
            self.visit(Appointment(day, time(10, 0), SessionType.GROUP_TREATMENT, Setting.OFFICE, milo,
                                   [(A.LANGUAGE, 25), (A.SPEECH_SOUND, 20)], [tilly, oswin, hazel],
                                   group_rationale=rationale))

        # 10. Cognitive-communication adult by telehealth at home; progress report overdue.
        start = today - timedelta(days=75)
        cornelius = patient("cognitive_adult", "Cornelius", "Kettleburn", 58, PayerKind.MEDICARE, start)
        b.add_plan(cornelius, start, certified_on=start + timedelta(days=5), physician=content.PHYSICIANS[2])
        self.evaluation(cornelius, start, time(13, 0), harriet, EvaluationKind.COGNITIVE_TESTING, A.COGNITION, 75)
        self.series(cornelius, start + timedelta(days=2), yesterday, {TUE, THU}, time(13, 0), harriet,
                    SessionType.COGNITIVE_TREATMENT, [(A.COGNITION, 45)], setting=Setting.TELEHEALTH_HOME,
                    skip_chance=0.03)

        # 11. Toddler seen at home (Medicaid).
        start = today - timedelta(days=60)
        ivy = patient("expressive_language_child", "Ivy", "Dewdrop", 3, PayerKind.MEDICAID, start)
        b.add_plan(ivy, start, certified_on=start + timedelta(days=5), physician=content.PHYSICIANS[3])
        self.evaluation(ivy, start, time(11, 0), milo, EvaluationKind.LANGUAGE_ONLY, A.LANGUAGE, 60,
                        setting=Setting.HOME)
        self.series(ivy, start + timedelta(days=3), yesterday, {THU}, time(11, 0), milo,
                    SessionType.INDIVIDUAL_TREATMENT, [(A.LANGUAGE, 45)], setting=Setting.HOME)

        # 12. Discharged last season, goals met, chart archived.
        start = today - timedelta(days=200)
        percival = patient("child_fluency", "Percival", "Noodleham", 11, PayerKind.COMMERCIAL, start,
                           archived=True)
        b.add_plan(percival, start, days=84, certified_on=start + timedelta(days=3), physician=content.PHYSICIANS[2],
                   status=PlanStatus.DISCHARGED, goal_status=GoalStatus.MET)
        self.evaluation(percival, start, time(16, 30), harriet, EvaluationKind.FLUENCY, A.FLUENCY, 60)
        self.series(percival, start + timedelta(days=3), start + timedelta(days=83), {MON}, time(16, 30), harriet,
                    SessionType.INDIVIDUAL_TREATMENT, [(A.FLUENCY, 45)])

        # Charting in date order so that each goal's history runs forward.
        self.visits.sort(key=lambda item: (item[0].day, item[0].start))
        for appointment, visitor in self.visits:
            # The AAC plan was recertified with the goals updated to where Rowan had got to.
            if rowan_recert and appointment is rowan_recert[0] and len(rowan.plans) == 1:
                b.add_plan(rowan, recert, certified_on=recert + timedelta(days=4), physician=content.PHYSICIANS[0])
            b.add_participation(appointment, visitor)
        if len(rowan.plans) == 1:
            b.add_plan(rowan, recert, certified_on=recert + timedelta(days=4), physician=content.PHYSICIANS[0])

        first_signed = next(a for a, p in self.visits if p is wendell and a.signed
                            and a.session_type == SessionType.SWALLOWING_TREATMENT)
        b.add_addendum(first_signed, 0, "Addendum: spouse joined for the last 10 minutes; swallow precautions "
                                        "(chin tuck, small sips, upright 30 min after meals) reviewed with her.")
        for chart in (wendell, pip, barnaby, marigold, rowan, tilly, oswin, hazel, ivy, percival):
            b.add_progress_reports(chart, milo if chart in (pip, rowan, tilly, oswin, hazel, ivy) else harriet)
        b.add_progress_reports(cornelius, harriet, limit=1)

        # Today's schedule (F7 on the caseload), weekly slots with the visits they lost.
        office, school = Setting.OFFICE, Setting.SCHOOL
        b.add_scheduled([juniper], time(8, 0), 30, SessionType.INDIVIDUAL_TREATMENT, school, saffron,
                        missed=((1, "cancelled", "facility", "state testing day"),))
        b.add_scheduled([wendell], time(9, 0), 45, SessionType.INDIVIDUAL_TREATMENT, office, harriet)
        b.add_scheduled([tilly, oswin, hazel], time(10, 0), 45, SessionType.GROUP_TREATMENT, office, milo,
                        missed=((3, "cancelled", "clinician", "clinician at training"),))
        b.add_scheduled([ivy], time(11, 0), 45, SessionType.INDIVIDUAL_TREATMENT, Setting.HOME, milo,
                        missed=((0, "cancelled", "patient", "ill: fever since last night"),))
        b.add_scheduled([cornelius], time(13, 0), 45, SessionType.COGNITIVE_TREATMENT, Setting.TELEHEALTH_HOME,
                        harriet)
        b.add_scheduled([marigold], time(14, 0), 45, SessionType.INDIVIDUAL_TREATMENT, office, harriet)
        b.add_scheduled([pip], time(15, 30), 30, SessionType.INDIVIDUAL_TREATMENT, office, milo,
                        missed=((2, "no_show", "", ""),))
        b.add_scheduled([rowan], time(16, 15), 45, SessionType.AAC_TREATMENT, office, milo)
        b.add_scheduled([barnaby], time(17, 15), 45, SessionType.INDIVIDUAL_TREATMENT, office, harriet, weekly=False)
        return {"clinic_id": clinic_id, "clinicians": 3}


def generate_demo(data_dir: Path, *, today: date | None = None, seed: int = 2026) -> DemoSummary:
    """Write the fictional demo clinic into ``data_dir`` (which must not hold a clinic yet).

    The same ``seed`` and ``today`` always give the same records (identifiers included); only the
    audit event that records the generation carries the real time.
    """
    started = clock.perf_counter()
    today = today or date.today()
    store = open_empty_store(Path(data_dir))
    try:
        builder = ClinicBuilder(random.Random(seed), today, trials_per_goal=(10, 30), goals_per_session=(1, 3))
        facts = _DemoClinic(builder).build()
        counts = builder.counts
        write_batch(store, builder.take_rows(), audit={
            "action": "demo-generate", "clinic_id": facts["clinic_id"], "kind": "demo", "seed": seed,
            "today": today.isoformat(), "patients": counts.patients, "sessions": counts.sessions,
            "trials": counts.trials, "signed": counts.signed,
        })
    except BaseException:
        store.close()
        raise
    return finish(store, builder, started, clinicians=facts["clinicians"])

"""Property tests: the engine never crashes and never bills a code that is not valid on the DOS."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings, strategies as st

from slpterm.coding import Severity, check_lines, code_encounter, code_patient_day, load_rulebook
from slpterm.domain.vocab import ClinicianRole, DisorderArea, EvaluationKind, PayerKind, PlanStatus, SessionType, Setting

from .factory import BAD_NPI, CERTIFYING_NPI, make_facts

SHIPPED = load_rulebook()
CODES = ["92507", "92508", "92526", "97129", "97130", "92523", "96125", "92522", "92607", "92608", "92506", "97110", "9X001", "ABCDE"]
DX = ["R13.12", "I69.391:medical", "F80.0", "R47.01", "R13.1", "13X", "Z99.89", "G20:medical", "F80.2"]

dates = st.dates(min_value=date(2018, 1, 1), max_value=date(2028, 12, 31))
small = st.integers(min_value=0, max_value=400)


@st.composite
def sessions(draw, session_id="S-1", dos=None):
    dos = dos or draw(dates)
    plan = draw(st.none() | st.fixed_dictionaries({}))
    overrides = dict(
        session_id=session_id,
        date_of_service=dos,
        today=dos + timedelta(days=draw(st.integers(-3, 30))),
        session_type=draw(st.sampled_from(list(SessionType))),
        evaluation_kind=draw(st.none() | st.sampled_from(list(EvaluationKind))),
        setting=draw(st.sampled_from(list(Setting))),
        signed=draw(st.booleans()),
        start_time=draw(st.none() | st.times()),
        stop_time=draw(st.none() | st.times()),
        total_minutes=draw(small),
        minutes_by_area=draw(st.dictionaries(st.sampled_from(list(DisorderArea)), small, max_size=4)),
        minutes_by_code=draw(st.dictionaries(st.sampled_from(CODES), small, max_size=3)),
        techniques=tuple(draw(st.lists(st.sampled_from(["drills", "aac"]), max_size=2))),
        goals_addressed=draw(st.integers(0, 5)),
        group_size=draw(st.integers(0, 8)),
        dx=tuple(draw(st.lists(st.sampled_from(DX), max_size=14))),
        treatment_days_since_progress_report=draw(st.integers(0, 30)),
        visits_this_week=draw(st.integers(0, 7)),
        ytd_therapy_amount=Decimal(draw(st.integers(0, 600000))) / 100,
        distinct_service_documented=draw(st.booleans()),
        distinct_modifier=draw(st.none() | st.sampled_from(["XE", "XS", "XP", "XU", "59", "ZZ"])),
        rehabilitative=draw(st.none() | st.booleans()),
        speech_generating_device=draw(st.none() | st.booleans()),
        under_home_health_plan=draw(st.booleans()),
        payer_kind=draw(st.sampled_from(list(PayerKind))),
        payer_id=draw(st.sampled_from(["", "MCR-TX", "ACME"])),
        member_id=draw(st.sampled_from(["", "M1"])),
        role=draw(st.sampled_from(list(ClinicianRole))),
        rendering_npi=draw(st.sampled_from([BAD_NPI, CERTIFYING_NPI, "", "abc"])),
    )
    if plan is None:
        overrides["plan"] = None
    else:
        start = dos - timedelta(days=draw(st.integers(-10, 200)))
        overrides.update(plan_start=start, plan_end=start + timedelta(days=draw(st.integers(0, 200))),
                         plan_status=draw(st.sampled_from(list(PlanStatus))),
                         plan_certified_on=draw(st.none() | st.just(start + timedelta(days=3))),
                         plan_first_treatment_date=draw(st.none() | st.just(start)),
                         plan_frequency_per_week=draw(st.none() | st.integers(0, 5)))
    return make_facts(**overrides)


def _assert_sane(result, facts, rulebook):
    view = rulebook.codeset_for(facts.date_of_service)
    for line in result.lines:
        assert view is not None and line.code in view.codes, f"{line.code} not valid on {facts.date_of_service}"
        assert line.units >= 1
        assert len(line.modifiers) <= 4
        assert not {"CQ", "CO", "GP", "GO"} & set(line.modifiers)
        assert not ("59" in line.modifiers and {"XE", "XS", "XP", "XU"} & set(line.modifiers))
        assert 1 <= len(line.diagnosis_pointers) <= 4 or not result.diagnoses
        assert all(1 <= p <= len(result.diagnoses) for p in line.diagnosis_pointers)
    if facts.date_of_service >= date(2027, 1, 1):
        assert all(line.code != "92507" for line in result.lines)
    for finding in result.findings:
        assert finding.code and finding.code == finding.code.lower() and " " not in finding.code
        assert finding.message and finding.fix
    assert result.blocked == any(f.severity is Severity.ERROR for f in result.findings)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sessions())
def test_engine_never_crashes_and_bills_only_valid_codes(facts):
    result = code_encounter(facts, SHIPPED)
    _assert_sane(result, facts, SHIPPED)
    if result.lines and not result.blocked:
        hand_check = check_lines(facts, result.lines, SHIPPED, len(result.diagnoses))
        assert [f for f in hand_check if f.severity is Severity.ERROR] == []


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.data())
def test_same_day_sessions_are_consistent(data):
    dos = data.draw(dates)
    day = [data.draw(sessions(session_id=f"S-{i}", dos=dos)) for i in range(data.draw(st.integers(1, 3)))]
    results = code_patient_day(day, SHIPPED)
    assert set(results) == {f.session_id for f in day}
    billed = [line.code for r in results.values() for line in r.lines]
    untimed = [c for c in billed if not SHIPPED.codeset_for(dos).codes[c].timed]
    assert len(untimed) == len(set(untimed)), "an untimed code was billed twice on one day"
    for facts in day:
        _assert_sane(results[facts.session_id], facts, SHIPPED)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts=sessions(dos=date(2027, 3, 2)))
def test_2027_never_bills_92507_even_with_the_example_file(shared_rulebook_2027, facts):
    _assert_sane(code_encounter(facts, shared_rulebook_2027), facts, shared_rulebook_2027)

"""The chart driven from the keyboard: create a patient, fill the chart, find it on the caseload."""

from __future__ import annotations

from datetime import datetime, timezone

from slpterm.domain.clock import FakeClock
from slpterm.store import open_store
from slpterm.ui.app import build_app
from slpterm.ui.screens.caseload import CaseloadScreen
from slpterm.ui.screens.chart_forms import CoverageForm, DiagnosisForm, GoalForm, PatientForm, PlanForm
from slpterm.ui.screens.chart_import import ImportScreen
from slpterm.ui.screens.patient import PatientScreen

from .seed import TODAY, seed_medicare_patient, seed_student

SIZE = (120, 40)


def _clock() -> FakeClock:
    return FakeClock(datetime(TODAY.year, TODAY.month, TODAY.day, 15, 0, tzinfo=timezone.utc))


def _prepared(data_dir):
    store = open_store(data_dir)
    store.clinic.save_clinic(name="Harbor Speech")
    store.clinic.add_clinician(first_name="Rosa", last_name="Fennimore", npi="1234567893")
    return store


async def _settle(app, pilot):
    for _ in range(3):
        await pilot.pause()
        await app.workers.wait_for_complete()
        for screen in app.screen_stack:
            await screen.workers.wait_for_complete()
    await pilot.pause()


async def _fill(app, pilot, values: dict[str, str]):
    for key, value in values.items():
        widget = app.screen.query_one(f"#f-{key}")
        widget.value = value
    await pilot.pause()


async def _save(app, pilot):
    await pilot.press("ctrl+s")
    await _settle(app, pilot)


def _problems(app) -> str:
    return str(app.screen.query_one("#form-problems").render())


async def test_a_patient_is_created_and_charted_from_the_keyboard_then_found_on_the_caseload(tmp_path):
    _prepared(tmp_path / "data").close()
    app = build_app(tmp_path / "data", clock=_clock())
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        assert isinstance(app.screen, CaseloadScreen)

        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, PatientForm)
        await pilot.press(*"Odalys")
        await pilot.press("tab", *"Penhallow", "tab", *"2099-01-01")
        await _save(app, pilot)
        assert isinstance(app.screen, PatientForm)
        assert "Date of birth: 2099-01-01 is in the future" in _problems(app)
        await _fill(app, pilot, {"date_of_birth": "1948-07-02", "external_id": "P-9001", "phone": "555"})
        await _save(app, pilot)
        assert "Phone" in _problems(app)
        await _fill(app, pilot, {"phone": "(503) 555-0142"})
        await _save(app, pilot)
        chart_screen = app.screen
        assert isinstance(chart_screen, PatientScreen)

        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, CoverageForm)
        await _fill(app, pilot, {"payer_kind": "medicare", "payer_name": "Medicare Part B", "member_id": "1EG4TE5MK73"})
        assert "Medicare policy" in str(app.screen.query_one("#policy-summary").render())
        await _save(app, pilot)
        assert app.screen is chart_screen

        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, DiagnosisForm)
        await pilot.press(*"R13.1")
        await _save(app, pilot)
        assert "R13.1 is a category header" in _problems(app)
        await _fill(app, pilot, {"code": ""})
        await pilot.press(*"dysphagia orophar", "down", "enter")
        await pilot.pause()
        assert app.screen.query_one("#f-code").value == "R13.12"
        await _save(app, pilot)
        await pilot.press("d")
        await pilot.pause()
        await _fill(app, pilot, {"code": "I69.391", "role": "medical", "onset_date": "2026-03-19"})
        await _save(app, pilot)
        assert app.screen is chart_screen

        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, PlanForm)
        await _fill(app, pilot, {"start": "2026-11-02", "end": "2027-03-01", "frequency": "2x/week",
                                 "duration_weeks": "12", "physician": "Dr. Lena Ortiz", "certifying_npi": "1234567893"})
        await _save(app, pilot)
        assert "Medicare certifies at most 90 days" in _problems(app)
        await _fill(app, pilot, {"end": "2027-01-30"})
        await _save(app, pilot)
        assert app.screen is chart_screen

        await pilot.press("g")
        await pilot.pause()
        assert isinstance(app.screen, GoalForm)
        await _fill(app, pilot, {"term": "long", "disorder_area": "swallowing"})
        await pilot.press("ctrl+b")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert "Odalys" in app.screen.query_one("#f-text").value
        await _fill(app, pilot, {"text": "Odalys will eat a soft diet safely with no signs of aspiration."})
        await _save(app, pilot)
        assert app.screen is chart_screen
        await pilot.press("g")
        await pilot.pause()
        await _fill(app, pilot, {"term": "short", "disorder_area": "swallowing", "baseline": "40%",
                                 "text": "Use a chin tuck on thin liquid sips in 90% of trials.",
                                 "target_accuracy": "90", "consecutive_sessions": "3"})
        long_goal_id = next(value for _, value in app.screen.FIELDS[1].choices if value != "-")
        await _fill(app, pilot, {"parent": long_goal_id})
        await _save(app, pilot)
        assert app.screen is chart_screen

        chart = chart_screen.chart
        assert chart.patient.external_id == "P-9001"
        assert [c.payer_kind for c in chart.coverages] == ["medicare"]
        assert sorted((d.code, d.role) for d in chart.diagnoses) == [("I69.391", "medical"), ("R13.12", "treatment")]
        goals = chart.goals_by_plan[chart.plans[0].id]
        assert [goal.term for goal in goals] == ["long", "short"]
        assert goals[1].parent_goal_id == goals[0].id

        await pilot.press("escape")
        await _settle(app, pilot)
        caseload = app.screen
        assert isinstance(caseload, CaseloadScreen)
        await pilot.press(*"penhal")
        await pilot.pause()
        assert caseload.table.row_count == 1
        assert caseload.selected_patient_id == chart.patient.id


async def test_the_needs_column_shows_what_the_due_rules_say(tmp_path):
    store = _prepared(tmp_path / "data")
    patient, _plan = seed_medicare_patient(store)
    student = seed_student(store)
    store.close()
    app = build_app(tmp_path / "data", clock=_clock())
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        caseload = app.screen
        needs = dict(zip(caseload._index.ids, caseload._index.needs))
        assert needs[patient.id] == "Cert late · POC 5d +1"
        assert needs[student.id] == "IEP -16m"
        shown = "\n".join(caseload.table.render_line(y).text for y in range(1, caseload.table.row_count + 1))
        assert "9 drafts, Cert late" in shown and "IEP -16m" in shown
        await pilot.press(*"parrish", "enter")
        await _settle(app, pilot)
        assert isinstance(app.screen, PatientScreen)
        text = "\n".join(str(app.screen.query_one("#chart-items").get_option_at_index(i).prompt)
                         for i in range(app.screen.query_one("#chart-items").option_count))
        assert "is not certified and the 30-day deadline passed" in text
        assert "write the progress report at this session" in text


async def test_a_patient_with_sessions_cannot_be_deleted_and_archiving_hides_them(tmp_path):
    store = _prepared(tmp_path / "data")
    patient, _plan = seed_medicare_patient(store)
    store.close()
    app = build_app(tmp_path / "data", clock=_clock())
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        await pilot.press("enter")
        await _settle(app, pilot)
        await pilot.press("delete")
        await pilot.pause()
        await pilot.press("enter")
        await _settle(app, pilot)
        assert isinstance(app.screen, PatientScreen)
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("enter")
        await _settle(app, pilot)
        assert app.screen.chart.patient.archived_at is not None
        await pilot.press("escape")
        await _settle(app, pilot)
        assert app.screen.table.row_count == 0
        await pilot.press("ctrl+r")
        await _settle(app, pilot)
        assert app.screen.table.row_count == 1


async def test_the_import_screen_writes_nothing_until_confirmed(tmp_path):
    _prepared(tmp_path / "data").close()
    csv_path = tmp_path / "list.csv"
    csv_path.write_text("external_id,last_name,first_name,date_of_birth,guardian\n"
                        "S-1,Quill,Milo,2018-04-09,Ana Quill\nS-2,Lark,Bo,2040-01-01,\n", encoding="utf-8")
    app = build_app(tmp_path / "data", clock=_clock())
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, ImportScreen)
        app.screen.query_one("#import-path").value = str(csv_path)
        await pilot.press("enter")
        await _settle(app, pilot)
        report = str(app.screen.query_one("#import-report").render())
        assert "Line 3 (S-2)" in report and "Nothing was written yet" in report
        assert app.store.caseload.rows() == []
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
        assert "Imported 1 patient(s)." in str(app.screen.query_one("#import-report").render())
        assert [row.external_id for row in app.store.caseload.rows()] == ["S-1"]

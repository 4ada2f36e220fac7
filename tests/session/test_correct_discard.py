"""An unsigned session can be corrected (type, setting and place of service, date, times, patients)
and discarded, each recorded in the audit trail; a signed one only by addendum."""

from __future__ import annotations

from datetime import date

import pytest

from slpterm.services.session_flow import SessionCorrection, SessionFlow
from slpterm.store import LockedRecord, open_store
from slpterm.ui.app import build_app
from slpterm.ui.screens.caseload import CaseloadScreen
from slpterm.ui.screens.correct_session import CorrectSessionScreen
from slpterm.ui.screens.discard import DiscardScreen
from slpterm.ui.screens.new_session import NewSessionScreen
from slpterm.ui.screens.session import SessionScreen
from conftest import settle_app, type_burst

SIZE = (120, 40)


async def test_the_correction_dialog_changes_type_setting_date_times_and_patients(clinic_dir, clock):
    store = open_store(clinic_dir)
    juniper = store.patients.create(first_name="Juniper", last_name="Groupwell")
    store.close()
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        await type_burst(app, [*"quil", "f3", "enter", "ctrl+t", "c", "ctrl+o"])
        await settle_app(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, CorrectSessionScreen)
        dialog.query_one("#correct-type").value = "group_treatment"
        dialog.query_one("#correct-setting").value = "school"
        dialog.query_one("#correct-date").value = "2026-10-30"
        dialog.query_one("#correct-start").value = "09:30"
        dialog.query_one("#correct-stop").value = "10:05"
        await settle_app(app, pilot)
        assert "03" in str(dialog.query_one("#correct-pos").render())  # school: place of service 03
        await type_burst(app, ["ctrl+s"])  # a group of one is refused, naming the field
        assert app.screen is dialog
        assert "Patients: a group session needs 2 or more" in str(dialog.query_one("#correct-problems").render())
        dialog.query_one("#correct-add").focus()
        await type_burst(app, [*"juniper", "enter", "ctrl+s"])
        await settle_app(app, pilot)
        assert isinstance(app.screen, SessionScreen)
    store = open_store(clinic_dir)
    drafts = store.sessions.unsigned_drafts()
    milo = next(row.patient_id for row in store.caseload.rows() if row.name.startswith("Quillfeather"))
    assert sorted(p.patient_id for p, _ in drafts) == sorted([milo, juniper.id])
    (_, therapy_session), *_ = drafts
    assert (therapy_session.session_type, therapy_session.setting, therapy_session.date_of_service) == (
        "group_treatment", "school", date(2026, 10, 30))
    assert len(drafts) == 2
    detail = store.sessions.detail(drafts[0][0].id)
    assert [(s.started_at.astimezone().strftime("%H:%M"), s.ended_at.astimezone().strftime("%H:%M"))
            for s in detail.segments] == [("09:30", "10:05")]
    store.close()


async def test_discarding_an_unsigned_session_asks_removes_it_and_is_audited(clinic_dir, clock):
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        await type_burst(app, ["f3", "enter", "c", "c", "ctrl+o", "ctrl+x"])
        assert isinstance(app.screen, DiscardScreen)
        await type_burst(app, ["enter"])  # keeps it
        assert isinstance(app.screen, SessionScreen)
        await type_burst(app, ["ctrl+o", "ctrl+x", "ctrl+y"])
        await settle_app(app, pilot)
        assert isinstance(app.screen, CaseloadScreen)
    store = open_store(clinic_dir)
    assert store.sessions.unsigned_drafts() == []
    store.close()
    import sqlite3

    connection = sqlite3.connect(clinic_dir / "slpterm.sqlite3")
    discards = connection.execute("SELECT detail FROM auditevent WHERE action = 'discard'").fetchall()
    connection.close()
    assert len(discards) == 1 and '"trials": 2' in discards[0][0] and '"whole_session": true' in discards[0][0]


async def test_a_draft_started_by_mistake_is_discarded_from_the_start_dialog(clinic_dir, clock):
    store = open_store(clinic_dir)
    flow = SessionFlow(store, clock)
    patient_id = store.caseload.rows()[0].patient_id
    for _ in range(2):  # two identical drafts for one child and day
        flow.start(patient_ids=[patient_id], session_type="individual_treatment", setting="office",
                   date_text="2026-11-02", clinician_id=store.clinic.clinicians()[0].id, evaluation_kind=None)
    store.close()
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        await type_burst(app, ["f3", "ctrl+o", "ctrl+x", "ctrl+y"])
        await settle_app(app, pilot)
        assert isinstance(app.screen, NewSessionScreen)
        assert len(app.screen.query_one("#drafts").options) == 1
    store = open_store(clinic_dir)
    assert len(store.sessions.unsigned_drafts()) == 1
    store.close()


def test_a_signed_session_is_corrected_only_by_addendum(clinic_dir, clock):
    store = open_store(clinic_dir)
    flow = SessionFlow(store, clock)
    patient_id = store.caseload.rows()[0].patient_id
    participant_id, = flow.start(patient_ids=[patient_id], session_type="individual_treatment", setting="office",
                                 date_text="2026-11-02", clinician_id=store.clinic.clinicians()[0].id,
                                 evaluation_kind=None)
    store.sessions.save_note(participant_id, objective="Worked on /r/.")
    store.sessions.sign(participant_id, store.clinic.clinicians()[0].id)
    facts = flow.facts(participant_id)
    with pytest.raises(LockedRecord, match="addendum"):
        flow.correct(participant_id, SessionCorrection(facts=facts))
    with pytest.raises(LockedRecord, match="addendum"):
        flow.discard(participant_id)
    assert store.sessions.detail(participant_id).signed
    store.close()


async def test_the_correction_dialog_records_the_billing_facts_once(clinic_dir, clock):
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        await type_burst(app, [*"quil", "f3", "enter", "c", "ctrl+o"])
        await settle_app(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, CorrectSessionScreen)
        dialog.query_one("#correct-setting").value = "telehealth_home"
        dialog.query_one("#bf-distinct-note").value = "Swallow screen at a separate visit in the afternoon"
        dialog.query_one("#bf-distinct-modifier").value = "XU"
        dialog.query_one("#bf-audio-only").value = True
        await type_burst(app, ["ctrl+s"])
        await settle_app(app, pilot)
        assert isinstance(app.screen, SessionScreen)
        participant_id = app.screen.participant_id
        await type_burst(app, ["ctrl+o", "ctrl+s"])  # saved again unchanged: no second entry
        await settle_app(app, pilot)
        assert isinstance(app.screen, SessionScreen)
    store = open_store(clinic_dir)
    facts = store.billing_facts.facts(participant_id)
    assert (facts.distinct_service_note, facts.distinct_modifier, facts.audio_only) == (
        "Swallow screen at a separate visit in the afternoon", "XU", True)
    entries = [entry for entry in store.security.audit_entries() if entry.entity == "sessionbillingfacts"]
    assert [entry.entity_id for entry in entries] == [participant_id]
    store.close()


async def test_a_modifier_without_its_reason_is_refused_in_the_correction_dialog(clinic_dir, clock):
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        await type_burst(app, [*"quil", "f3", "enter", "ctrl+o"])
        await settle_app(app, pilot)
        dialog = app.screen
        dialog.query_one("#bf-distinct-modifier").value = "59"
        await type_burst(app, ["ctrl+s"])
        await settle_app(app, pilot)
        assert app.screen is dialog
        assert "Distinct service: say why" in str(dialog.query_one("#correct-problems").render())

"""Signed records cannot be changed even by SQL aimed straight at the file; the audit chain notices edits."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest

from slpterm.store.db import DATABASE_FILE_NAME


@pytest.fixture
def signed(store, patient, clinician):
    plan = store.patients.add_plan(patient_id=patient.id, start_date=date(2026, 10, 1), end_date=date(2026, 12, 29))
    goal = store.patients.add_goal(plan_id=plan.id, text="/k/ final position")
    therapy_session, (participant,) = store.sessions.create(
        date_of_service=date(2026, 11, 2), session_type="individual_treatment", setting="office",
        patient_ids=[patient.id], clinician_id=clinician.id)
    store.sessions.record_trial(participant.id, goal.id, "correct", "independent")
    store.sessions.save_note(participant.id, objective="1/1")
    store.sessions.sign(participant.id, clinician.id)
    return therapy_session, participant, goal


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE soapnote SET objective = 'forged'",
        "DELETE FROM soapnote",
        "UPDATE trialrecord SET result = 'incorrect'",
        "DELETE FROM trialrecord",
        "INSERT INTO trialrecord (id, participant_id, goal_id, seq, result, cue_level, recorded_at) "
        "VALUES ('x', :participant, :goal, 9, 'correct', 'independent', '2026-11-02 10:00:00')",
        "UPDATE session SET setting = 'home'",
        "UPDATE signature SET signer_name = 'Someone Else'",
        "DELETE FROM signature",
        "UPDATE sessionparticipant SET status = 'draft'",
    ],
)
def test_signed_records_refuse_direct_sql(store, signed, statement):
    _, participant, goal = signed
    connection = sqlite3.connect(store.data_dir / DATABASE_FILE_NAME)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="locked|never change"):
            connection.execute(statement, {"participant": participant.id, "goal": goal.id})
    finally:
        connection.close()


def test_audit_chain_names_an_edited_entry(store, signed):
    assert store.verify_audit_chain() == []
    connection = sqlite3.connect(store.data_dir / DATABASE_FILE_NAME)
    connection.execute("UPDATE auditevent SET detail = 'nothing happened' WHERE seq = 3")
    connection.commit()
    connection.close()
    breaks = store.verify_audit_chain()
    assert breaks and breaks[0].seq == 3 and "changed" in breaks[0].reason


def test_audit_chain_names_a_deleted_entry(store, signed):
    connection = sqlite3.connect(store.data_dir / DATABASE_FILE_NAME)
    connection.execute("DELETE FROM auditevent WHERE seq = 4")
    connection.commit()
    connection.close()
    breaks = store.verify_audit_chain()
    assert breaks and breaks[0].seq == 5 and "missing" in breaks[0].reason

"""The audit trail against someone who edits the data file: keyed seals, anchors outside the file,
and every signature checked against what the file holds. Each attack is named by verify."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta, timezone

import pytest

from slpterm.store import open_store
from slpterm.store.audit import KEYED_PREFIX, seal
from slpterm.store.backup import backup_store, restore_store
from slpterm.store.crypto import encryption_available
from slpterm.store.db import DATABASE_FILE_NAME

PASSPHRASE = "seven quiet otters"
needs_sqlcipher = pytest.mark.skipif(not encryption_available(), reason="sqlcipher3 is not installed")


def _clinic(data_dir, passphrase=None):
    """A data directory with one signed session (two trials, a note) and an unsigned one."""
    store = open_store(data_dir)
    clinician = store.clinic.add_clinician(first_name="Rosa", last_name="Fennimore", npi="1234567893")
    patient = store.patients.create(first_name="Milo", last_name="Quillfeather", external_id="P-0001")
    plan = store.patients.add_plan(patient_id=patient.id, start_date=date(2026, 10, 1), end_date=date(2026, 12, 29))
    goal = store.patients.add_goal(plan_id=plan.id, text="/k/ final position")
    for day in (date(2026, 11, 2), date(2026, 11, 4)):
        session, (participant,) = store.sessions.create(date_of_service=day, session_type="individual_treatment",
                                                        setting="office", patient_ids=[patient.id],
                                                        clinician_id=clinician.id)
        start = datetime(day.year, day.month, day.day, 16, 0, tzinfo=timezone.utc)
        store.sessions.set_manual_time(session.id, "speech_sound", start, start + timedelta(minutes=30))
        store.sessions.record_trial(participant.id, goal.id, "correct", "independent")
        store.sessions.record_trial(participant.id, goal.id, "incorrect", "minimal")
        store.sessions.save_note(participant.id, objective="1/2 correct", plan="Continue")
    store.sessions.sign(participant.id, clinician.id)
    if passphrase:
        store.security.set_passphrase(passphrase)
    store.security.write_anchor("test")
    store.close()
    return participant.id


def _sql(data_dir, *statements, passphrase=None):
    """Change the file behind slpterm's back, as someone with the sqlite3 shell (and the passphrase) would."""
    from slpterm.store import crypto

    connection = crypto.connect(data_dir / DATABASE_FILE_NAME, passphrase)
    try:
        for statement in statements:
            connection.execute(statement)
    finally:
        connection.close()


def _drop_triggers(data_dir, passphrase=None):
    from slpterm.store import crypto

    connection = crypto.connect(data_dir / DATABASE_FILE_NAME, passphrase)
    try:
        for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            connection.execute(f'DROP TRIGGER "{name}"')
    finally:
        connection.close()


def _rehash_from(data_dir, first_seq, key_prefix="", passphrase=None):
    """Recompute every hash from ``first_seq`` on with the app's own (unkeyed) formula."""
    from slpterm.store import crypto

    connection = crypto.connect(data_dir / DATABASE_FILE_NAME, passphrase)
    try:
        rows = connection.execute("SELECT seq, at, actor, action, entity, entity_id, detail, prev_hash, hash "
                                  "FROM auditevent ORDER BY seq").fetchall()
        previous = ""
        for seq, at, actor, action, entity, entity_id, detail, prev_hash, stored in rows:
            if seq >= first_seq:
                prev_hash = previous
                stored = key_prefix + seal(seq, at, actor, action, entity, entity_id, detail, prev_hash, None)
                connection.execute("UPDATE auditevent SET prev_hash = ?, hash = ? WHERE seq = ?", (prev_hash, stored, seq))
            previous = stored
    finally:
        connection.close()


def _verify(data_dir, passphrase=None):
    store = open_store(data_dir, passphrase)
    try:
        return store.security.verify()
    finally:
        store.close()


def _reasons(report) -> str:
    return "\n".join(problem.reason for problem in report.breaks)


@pytest.mark.parametrize("passphrase", [None, pytest.param(PASSPHRASE, marks=needs_sqlcipher)])
def test_a_clean_trail_verifies_with_its_anchor(tmp_path, passphrase):
    _clinic(tmp_path, passphrase)
    report = _verify(tmp_path, passphrase)
    assert report.ok, _reasons(report)
    assert report.chain.anchors_checked >= 1 and report.notes == []
    assert report.keyed is (passphrase is not None)


def test_tail_truncation_is_named_against_the_anchor(tmp_path):
    _clinic(tmp_path)
    head = _verify(tmp_path).chain.head_seq
    _sql(tmp_path, f"DELETE FROM auditevent WHERE seq > {head - 3}")
    report = _verify(tmp_path)
    assert not report.ok
    assert f"the trail ends at entry {head - 3}" in _reasons(report)
    assert f"entries {head - 2}-{head} were removed" in _reasons(report)


def test_deleting_every_entry_is_named(tmp_path):
    _clinic(tmp_path)
    _sql(tmp_path, "DELETE FROM auditevent")
    report = _verify(tmp_path)
    assert "the trail is empty" in _reasons(report) and "every entry was removed" in _reasons(report)


def test_an_entry_edited_and_re_hashed_with_the_apps_formula_is_named_by_the_anchor(tmp_path):
    _clinic(tmp_path)
    _sql(tmp_path, "UPDATE auditevent SET detail = '{\"note\": \"nothing happened\"}' WHERE seq = 5")
    _rehash_from(tmp_path, 5)
    report = _verify(tmp_path)
    assert not report.ok
    # The chain itself is consistent again; only the anchor kept outside the file gives it away.
    assert "was rewritten at or before entry" in _reasons(report)


@needs_sqlcipher
def test_in_an_encrypted_file_a_re_hashed_entry_is_named_at_once(tmp_path):
    _clinic(tmp_path, PASSPHRASE)
    _sql(tmp_path, "UPDATE auditevent SET detail = '{}' WHERE seq = 5", passphrase=PASSPHRASE)
    _rehash_from(tmp_path, 5, passphrase=PASSPHRASE)
    report = _verify(tmp_path, PASSPHRASE)
    assert report.breaks[0].seq == 5 and "not sealed with this data file's key" in report.breaks[0].reason


@needs_sqlcipher
def test_in_an_encrypted_file_a_forged_seal_is_named(tmp_path):
    _clinic(tmp_path, PASSPHRASE)
    _sql(tmp_path, "UPDATE auditevent SET detail = '{}' WHERE seq = 5", passphrase=PASSPHRASE)
    _rehash_from(tmp_path, 5, key_prefix=KEYED_PREFIX, passphrase=PASSPHRASE)
    report = _verify(tmp_path, PASSPHRASE)
    assert report.breaks[0].seq == 5 and report.breaks[0].reason == "entry 5 was changed after it was written"


@pytest.mark.parametrize(("statement", "named"), [
    ("UPDATE soapnote SET objective = '2/2 correct' WHERE participant_id = :p", "the note text"),
    ("UPDATE trialrecord SET result = 'correct' WHERE participant_id = :p", "the tallies"),
    ("UPDATE session SET date_of_service = '2026-11-05' WHERE id = (SELECT session_id FROM sessionparticipant "
     "WHERE id = :p)", "the session facts"),
    ("UPDATE timesegment SET disorder_area = 'language'", "the time"),
    ("INSERT INTO timesegment (id, session_id, disorder_area, started_at, ended_at) SELECT 'forged', session_id, "
     "'fluency', '2026-11-04 10:00:00.000000', '2026-11-04 10:40:00.000000' FROM sessionparticipant WHERE id = :p",
     "the time"),
])
def test_a_signed_note_changed_with_the_triggers_dropped_is_named(tmp_path, statement, named):
    participant_id = _clinic(tmp_path)
    _drop_triggers(tmp_path)
    _sql(tmp_path, statement.replace(":p", f"'{participant_id}'"))
    report = _verify(tmp_path)
    assert not report.ok
    reason = _reasons(report)
    assert "the signed note of patient P-0001" in reason and "was changed after it was signed" in reason
    assert named in reason


def test_a_signature_re_fingerprinted_to_match_the_edit_is_named(tmp_path):
    participant_id = _clinic(tmp_path)
    _drop_triggers(tmp_path)
    _sql(tmp_path, f"UPDATE soapnote SET objective = '2/2 correct' WHERE participant_id = '{participant_id}'")
    store = open_store(tmp_path)
    forged = store.sessions.content_hash(store.sessions.detail(participant_id))
    store.close()
    _sql(tmp_path, f"UPDATE signature SET content_hash = '{forged}', signer_name = 'Someone Else'")
    reason = _reasons(_verify(tmp_path))
    assert "carries another fingerprint than entry" in reason and "the signature was replaced" in reason
    assert "names another signer" in reason


def test_a_removed_signature_and_an_added_one_are_named(tmp_path):
    participant_id = _clinic(tmp_path)
    _drop_triggers(tmp_path)
    _sql(tmp_path, "DELETE FROM signature")
    assert f"(session {participant_id[:8]}) is gone from the file" in _reasons(_verify(tmp_path))

    other = tmp_path / "other"
    _clinic(other)
    _drop_triggers(other)
    _sql(other, "INSERT INTO signature (id, participant_id, signer_name, credentials, signed_at, content_hash) "
                "SELECT 'forged', id, 'Someone', 'CCC-SLP', '2026-11-02 12:00:00.000000', '' FROM sessionparticipant "
                "WHERE status = 'draft'", "UPDATE sessionparticipant SET status = 'signed'")
    assert "has a signature that no audit entry records" in _reasons(_verify(other))


@pytest.mark.parametrize("passphrase", [None, pytest.param(PASSPHRASE, marks=needs_sqlcipher)])
def test_a_restored_backup_verifies(tmp_path, passphrase):
    data = tmp_path / "data"
    _clinic(data, passphrase)
    store = open_store(data, passphrase)
    backup = backup_store(store, tmp_path / "backup.sqlite3")
    store.patients.create(first_name="Juniper", last_name="Ashdown", external_id="P-0002")
    store.close()
    restore_store(data, backup, passphrase)
    report = _verify(data, passphrase)
    assert report.ok, _reasons(report)
    restored = open_store(data, passphrase)
    restore_entry = restored.security.audit_entries("restore", limit=1)[0]
    assert '"replaced_trail_head"' in restore_entry.detail and '"seq"' in restore_entry.detail
    restored.close()


@needs_sqlcipher
def test_a_plain_backup_restored_into_an_encrypted_store_is_encrypted_and_sealed(tmp_path):
    data = tmp_path / "data"
    _clinic(data)
    store = open_store(data)
    backup = backup_store(store, tmp_path / "plain-backup.sqlite3")
    store.security.set_passphrase(PASSPHRASE)
    store.close()
    report = restore_store(data, backup, PASSPHRASE)
    assert report.encrypted_on_restore
    assert b"Quillfeather" not in (data / DATABASE_FILE_NAME).read_bytes()
    verified = _verify(data, PASSPHRASE)
    assert verified.ok and verified.keyed, _reasons(verified)
    store = open_store(data, PASSPHRASE)
    actions = [entry.action for entry in store.security.audit_entries(limit=5)]
    assert actions[0] == "restore" and "audit-sealed" in actions
    store.close()


@needs_sqlcipher
def test_changing_the_passphrase_re_seals_the_trail_and_keeps_the_anchors_comparable(tmp_path):
    _clinic(tmp_path, PASSPHRASE)
    store = open_store(tmp_path, PASSPHRASE)
    store.security.set_passphrase("blue heron at dawn", current=PASSPHRASE)
    store.close()
    report = _verify(tmp_path, "blue heron at dawn")
    assert report.ok and report.keyed, _reasons(report)
    assert report.chain.anchors_checked >= 2  # the anchor from before the change still counts

    _sql(tmp_path, "DELETE FROM auditevent WHERE seq > 3", passphrase="blue heron at dawn")
    assert "were removed" in _reasons(_verify(tmp_path, "blue heron at dawn"))


@needs_sqlcipher
def test_an_encrypted_file_with_a_trail_from_before_keying_is_sealed_when_opened(tmp_path):
    _clinic(tmp_path, PASSPHRASE)
    _rehash_from(tmp_path, 1, passphrase=PASSPHRASE)  # as an older slpterm wrote it: plain SHA-256
    store = open_store(tmp_path, PASSPHRASE)
    sealed = store.security.audit_entries("audit-sealed", limit=1)[0]
    assert '"problems_found": 0' in sealed.detail
    report = store.security.verify()
    store.close()
    assert report.ok and report.keyed, _reasons(report)


def test_an_export_anchor_and_a_backup_reveal_a_trail_cut_short_when_the_anchor_file_is_gone(tmp_path,
                                                                                            private_user_folders):
    from slpterm.cli import _anchor_from
    from slpterm.store.anchors import anchor_record, write_anchor_record

    data = tmp_path / "data"
    _clinic(data)
    store = open_store(data)
    store.patients.create(first_name="Juniper", last_name="Ashdown", external_id="P-0002")
    store.patients.create(first_name="Pip", last_name="Hollyhock", external_id="P-0003")
    anchor = store.security.head_anchor("export batch 000001")
    exported = write_anchor_record(tmp_path / "slpterm-batch-000001.anchor.json",
                                   anchor_record(store.clinic.identity(), anchor))
    backup = backup_store(store, tmp_path / "backup.sqlite3")
    store.close()
    for kept in (private_user_folders / "config" / "anchors").glob("*.json"):
        kept.unlink()
    _sql(data, f"DELETE FROM auditevent WHERE seq > {anchor.seq - 2}")
    store = open_store(data)
    try:
        assert store.security.verify().ok  # nothing inside the file gives it away
        for evidence in (exported, backup):
            report = store.security.verify(extra_anchors=[_anchor_from(evidence, store)])
            assert not report.ok and "were removed" in _reasons(report)
    finally:
        store.close()


def test_a_data_file_replaced_by_another_is_noticed(tmp_path):
    _clinic(tmp_path / "data")
    (tmp_path / "data" / DATABASE_FILE_NAME).unlink()
    store = open_store(tmp_path / "data")
    store.patients.create(first_name="Pip", last_name="Hollyhock")
    report = store.security.verify()
    store.close()
    assert any("may have been replaced" in note for note in report.notes)


def test_verify_reads_the_trail_once(tmp_path, monkeypatch):
    """One pass over the entries in order (no second load to count them), so it can stream."""
    from slpterm.store import audit

    _clinic(tmp_path)
    calls = []
    original = audit.audit_rows
    monkeypatch.setattr(audit, "audit_rows", lambda connection: calls.append(1) or original(connection))
    report = _verify(tmp_path)
    assert calls == [1] and report.chain.entries == report.chain.head_seq > 10


def test_the_chain_seal_is_what_record_event_writes(tmp_path):
    store = open_store(tmp_path)
    store.patients.create(first_name="Ada", last_name="Moss")
    connection = sqlite3.connect(tmp_path / DATABASE_FILE_NAME)
    rows = connection.execute("SELECT seq, at, actor, action, entity, entity_id, detail, prev_hash, hash "
                              "FROM auditevent ORDER BY seq").fetchall()
    connection.close()
    store.close()
    for row in rows:
        assert seal(*row[:8], None) == row[8]


def test_opening_the_file_notices_a_trail_cut_short_even_after_new_entries_fill_the_gap(tmp_path):
    _clinic(tmp_path)
    store = open_store(tmp_path)
    assert store.security.check_last_anchor() is None
    head = store.security.verify().chain.head_seq
    store.close()
    _sql(tmp_path, f"DELETE FROM auditevent WHERE seq > {head - 4}")
    store = open_store(tmp_path)
    assert "entries were removed" in store.security.check_last_anchor()
    for name in ("Ada", "Bo", "Cy", "Di", "Ed", "Flo"):  # the app goes on writing, and anchors again
        store.patients.create(first_name=name, last_name="Moss")
    store.security.write_anchor("close")  # the earlier anchor of that entry is kept as evidence
    report = store.security.verify()
    store.close()
    assert f"entry {head} is not the entry anchored on" in _reasons(report)


@pytest.mark.parametrize("text", ["", "plain", 'quote " and \\ backslash', "tab\tnew\nline\r", "\x00\x1b[31m\x7f",
                                  "Zoë Ñúñez 李 \u202e \ud7ff \U0001f600", "a~b*c:d^e"])
def test_the_seal_hashes_exactly_what_json_dumps_writes(text):
    import json

    from slpterm.store.audit import seal_payload

    fields = [987654, "2026-11-02T09:15:00.123456+00:00", text, "sign", text, "id-" + text, text, "ab" * 32]
    expected = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    assert seal_payload(*fields) == expected

"""The claims register: every claim with its status (ready, exported, the payer's answers,
replaced, voided), filters, corrections (replacement 7 and void 8 with REF*F8), re-sends by claim
number, the mark an addendum that changes billing leaves, and batch numbers after a restore."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from slpterm.domain.claims import ClaimStatus
from slpterm.export.cli import add_claims_parser, add_export_parser
from slpterm.services.claims import correct_claim, recheck_billed_claim, run_claims
from slpterm.services.exporting import export_signed, run_export_command
from slpterm.store.errors import NotFound, ValidationFailed
from export.checks import claims_of, own_x12_problems, pyx12_errors, segments
from export.conftest import signed_clinic

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=timezone.utc)
TODAY = NOW.date()


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="slpterm")
    commands = parser.add_subparsers(dest="command")
    add_claims_parser(commands)
    add_export_parser(commands)
    return parser.parse_args(list(argv))


def _billed(store, tmp_path) -> list[str]:
    signed_clinic(store)
    store.clinic.set_fee("92507", Decimal("120.00"))
    outcome = export_signed(store, "x12", tmp_path / "x12", now=NOW, today=TODAY)
    assert outcome.ok
    return [claim["clm"][1] for claim in claims_of(outcome.files[0].read_text())]


def _valid(path) -> str:
    text = path.read_text()
    assert pyx12_errors(text) == [] and own_x12_problems(text) == []
    return text


def _clm(text: str) -> list[str]:
    (clm,) = [s for s in segments(text) if s[0] == "CLM"]
    return clm


def test_claims_list_shows_ready_then_exported_and_the_payers_answers_with_filters(store, tmp_path, capsys):
    signed_clinic(store)
    assert run_claims(_parse("claims", "list"), store) == 0
    out = capsys.readouterr().out
    assert out.count(" ready") == 2 and "2 claim(s)." in out
    outcome = export_signed(store, "x12", tmp_path / "x12", now=NOW, today=TODAY)
    first, second = [claim["clm"][1] for claim in claims_of(outcome.files[0].read_text())]
    assert [c.status for c in store.claims.register({"x12"})] == [ClaimStatus.EXPORTED] * 2
    store.claims.set_claim_status(first, "paid", payer_claim_number="2026331000123")
    store.claims.set_claim_status(second, "denied", note="CO-50: not deemed medically necessary")
    assert store.claims.claim(first).payer_claim_number == "2026331000123"
    assert run_claims(_parse("claims", "list", "--status", "paid"), store) == 0
    out = capsys.readouterr().out
    assert first in out and second not in out and "1 claim(s)." in out
    assert run_claims(_parse("claims", "list", "--status", "denied"), store) == 0
    assert "denied (CO-50: not deemed medically necessary)" in capsys.readouterr().out
    assert run_claims(_parse("claims", "list", "--patient", "ØDEG"), store) == 0
    assert "2 claim(s)." in capsys.readouterr().out
    assert run_claims(_parse("claims", "list", "--claim", second.lower()), store) == 0
    out = capsys.readouterr().out
    assert second in out and first not in out
    assert run_claims(_parse("claims", "list", "--status", "lost"), store) == 2
    assert "is not a claim status" in capsys.readouterr().err
    with pytest.raises(ValidationFailed, match="set by slpterm itself"):
        store.claims.set_claim_status(first, "voided")
    with pytest.raises(NotFound, match="No claim numbered"):
        store.claims.set_claim_status("P77-NOSUCHCLAIM", "paid")


def test_a_replacement_re_codes_the_session_keeps_the_claim_number_and_carries_ref_f8(store, tmp_path, capsys):
    first, _ = _billed(store, tmp_path)
    args = _parse("claims", "replace", first, "--out", str(tmp_path / "fix"))
    assert run_claims(args, store) == 1
    assert "--payer-claim-number" in capsys.readouterr().err and not (tmp_path / "fix").exists()
    store.clinic.set_fee("92507", Decimal("135.00"))  # the session now bills differently
    args = _parse("claims", "replace", first, "--out", str(tmp_path / "fix"), "--payer-claim-number", "PCN-0042")
    assert run_claims(args, store) == 0
    (path,) = (tmp_path / "fix").glob("*.x12")
    text = _valid(path)
    clm = _clm(text)
    assert clm[1] == first and clm[5].endswith(":B:7") and clm[2] == "135.00"
    assert ["REF", "F8", "PCN-0042"] in segments(text)
    record = store.claims.claim(first)
    assert record.status == ClaimStatus.REPLACED and record.payer_claim_number == "PCN-0042"
    assert record.frequency == "7"
    assert sum(line.charge_cents for line in store.exports.billed_lines(
        store.claims.participant_ids(first)[0])) == 13500  # what is billed now is the replacement
    (entry,) = [c for c in store.claims.register({"x12"}) if c.claim_number == first]
    assert entry.status_text == "replaced in batch 000002"


def test_a_void_uses_the_stored_payer_number_validates_and_stops_counting_the_charge(store, tmp_path):
    first, second = _billed(store, tmp_path)
    store.claims.set_claim_status(second, "paid", payer_claim_number="PCN-77")
    assert len(store.exports.billed_by_participant()[store.claims.claim(second).patient_id]) == 2
    outcome = correct_claim(store, second, "void", tmp_path / "void", now=NOW, today=TODAY)
    text = _valid(outcome.files[0])
    clm = _clm(text)
    assert clm[1] == second and clm[5].endswith(":B:8") and clm[2] == "120.00"
    assert ["REF", "F8", "PCN-77"] in segments(text)
    assert store.claims.claim(second).status == ClaimStatus.VOIDED
    billed = store.exports.billed_by_participant()[store.claims.claim(second).patient_id]
    assert list(billed) == store.claims.participant_ids(first)  # a void bills nothing (KX, year to date)
    from slpterm.export.common import ExportError

    with pytest.raises(ExportError, match="was voided"):
        correct_claim(store, second, "replace", tmp_path / "again", now=NOW, today=TODAY)


def test_a_change_that_alters_billing_marks_the_claim_and_claims_list_says_so(store, tmp_path, capsys):
    from slpterm.domain.clock import FakeClock
    from slpterm.services.session_flow import SessionFlow

    first, second = _billed(store, tmp_path)
    participant = store.claims.participant_ids(first)[0]
    flow = SessionFlow(store, clock=FakeClock(NOW))
    assert flow.add_addendum(participant, "Parent present for the last five minutes.") is None
    assert store.claims.claim(first).needs_replacement == ""
    store.clinic.set_fee("92507", Decimal("135.00"))
    notice = flow.add_addendum(participant, "Corrected: the session ran the full 45 minutes.")
    assert notice is not None and f"slpterm claims replace {first}" in notice
    assert "135.00" in store.claims.claim(first).needs_replacement
    assert run_claims(_parse("claims", "list", "--status", "needs replacement"), store) == 0
    out = capsys.readouterr().out
    assert first in out and "needs replacement" in out and "1 claim(s)." in out
    correct_claim(store, first, "replace", tmp_path / "fix", payer_claim_number="PCN-1", now=NOW, today=TODAY)
    assert store.claims.claim(first).needs_replacement == ""
    assert recheck_billed_claim(store, participant, TODAY) is None  # the replacement billed it as it stands


def test_claims_are_re_sent_by_claim_number_alone(store, tmp_path, capsys):
    first, second = _billed(store, tmp_path)
    args = _parse("export", "--format", "x12", "--out", str(tmp_path / "resend"), "--claim", second)
    assert run_export_command(args, store) == 0
    (path,) = (tmp_path / "resend").glob("*.x12")
    clm = _clm(_valid(path))
    assert clm[1] == second and clm[5].endswith(":B:1")
    unknown = _parse("export", "--format", "x12", "--out", str(tmp_path / "x"), "--claim", "NOPE-1")
    assert run_export_command(unknown, store) == 1
    assert "No claim numbered NOPE-1" in capsys.readouterr().err


def test_batch_numbers_do_not_start_again_after_a_restore(tmp_path):
    from slpterm.store import open_store
    from slpterm.store.backup import backup_store, restore_store

    data = tmp_path / "data"
    store = open_store(data)
    signed_clinic(store)
    labels = [export_signed(store, "csv", tmp_path / "a", now=NOW, today=TODAY).batch_label]
    backup = backup_store(store, tmp_path / "backup.sqlite3")
    labels.append(export_signed(store, "x12", tmp_path / "b", now=NOW, today=TODAY).batch_label)
    store.close()
    restore_store(data, backup, None)
    store = open_store(data)
    try:
        after = export_signed(store, "x12", tmp_path / "c", now=NOW, today=TODAY)
    finally:
        store.close()
    assert labels == ["000001", "000002"] and after.batch_label == "000003"
    assert after.files[0].name == "slpterm-837p-000003.x12"


def test_the_register_migration_enters_the_claims_an_earlier_version_exported(tmp_path):
    import sqlite3

    from slpterm.store import open_store
    from slpterm.store.db import DATABASE_FILE_NAME, MIGRATIONS

    store = open_store(tmp_path / "data")
    first, second = _billed(store, tmp_path)
    batch_id = store.claims.claim(first).batch_id
    store.close()
    path = tmp_path / "data" / DATABASE_FILE_NAME
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("DROP TABLE claimrecord")  # as the version before the register left the file
    register_step = next(step for step in MIGRATIONS.values() if "claims register" in (step.__doc__ or ""))
    register_step(connection)  # the step that adds the register, whatever number it has
    connection.close()
    store = open_store(tmp_path / "data")
    try:
        claims = store.claims.register({"x12"})
        assert [(c.claim_number, c.status, c.status_text) for c in claims] == [
            (first, ClaimStatus.EXPORTED, "exported in batch 000001"),
            (second, ClaimStatus.EXPORTED, "exported in batch 000001")]
        assert store.claims.claim(first).batch_id == batch_id
    finally:
        store.close()

"""SQLite triggers that make signed clinical records immutable in the file itself.

A note, its tallies, techniques, goals and the session's time can change only while no signature
exists for them; signatures and addenda can never change. Only new addenda may be added.
"""

from __future__ import annotations

_SIGNED_PARTICIPANT = "EXISTS (SELECT 1 FROM signature WHERE signature.participant_id = {ref})"
_SIGNED_SESSION = (
    "EXISTS (SELECT 1 FROM signature JOIN sessionparticipant "
    "ON sessionparticipant.id = signature.participant_id WHERE sessionparticipant.session_id = {ref})"
)


def _guard(name: str, timing: str, table: str, condition: str, message: str) -> str:
    when = f" WHEN {condition}" if condition else ""
    return (
        f"CREATE TRIGGER IF NOT EXISTS {name} {timing} ON {table}{when} "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
    )


def immutability_triggers() -> list[str]:
    locked = "signed record is locked; add an addendum instead"
    statements: list[str] = []
    for table in ("soapnote", "trialrecord", "techniqueused", "goaladdressed"):
        statements.append(
            _guard(f"{table}_signed_no_update", "BEFORE UPDATE", table,
                   _SIGNED_PARTICIPANT.format(ref="OLD.participant_id"), locked)
        )
        statements.append(
            _guard(f"{table}_signed_no_delete", "BEFORE DELETE", table,
                   _SIGNED_PARTICIPANT.format(ref="OLD.participant_id"), locked)
        )
        if table != "soapnote":
            statements.append(
                _guard(f"{table}_signed_no_insert", "BEFORE INSERT", table,
                       _SIGNED_PARTICIPANT.format(ref="NEW.participant_id"), locked)
            )
    statements.append(
        _guard("sessionparticipant_signed_no_update", "BEFORE UPDATE", "sessionparticipant",
               _SIGNED_PARTICIPANT.format(ref="OLD.id"), locked)
    )
    statements.append(
        _guard("sessionparticipant_signed_no_delete", "BEFORE DELETE", "sessionparticipant",
               _SIGNED_PARTICIPANT.format(ref="OLD.id"), locked)
    )
    for table in ("timesegment", "areaminutescorrection"):
        for timing, ref in (("UPDATE", "OLD.session_id"), ("DELETE", "OLD.session_id"), ("INSERT", "NEW.session_id")):
            statements.append(
                _guard(f"{table}_signed_no_{timing.lower()}", f"BEFORE {timing}", table,
                       _SIGNED_SESSION.format(ref=ref), locked)
            )
    statements.append(
        _guard("session_signed_no_update", "BEFORE UPDATE", "session", _SIGNED_SESSION.format(ref="OLD.id"), locked)
    )
    statements.append(
        _guard("session_signed_no_delete", "BEFORE DELETE", "session", _SIGNED_SESSION.format(ref="OLD.id"), locked)
    )
    for table in ("signature", "addendum"):
        statements.append(_guard(f"{table}_no_update", "BEFORE UPDATE", table, "", f"{table} records never change"))
        statements.append(_guard(f"{table}_no_delete", "BEFORE DELETE", table, "", f"{table} records never change"))
    return statements

"""Names and notes carrying control characters, escape sequences, bidirectional overrides and X12
delimiters, fed through import, the screens, the command output, reports and exports: nothing of
them reaches the terminal as a control character, and the 837P file still validates."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import re
import tempfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from slpterm import cli
from slpterm.domain.text import CONTROL_CHARACTERS, printable
from slpterm.store import open_store
from slpterm.ui.app import build_app
from slpterm.ui.screens.security import AuditScreen
from slpterm.ui.screens.session import SessionScreen
from conftest import settle_app
from export.checks import pyx12_errors

HOSTILE = ["\x1b]0;PWNED\x07", "\x1b]2;PWNED\x1b\\", "\x1b[2J", "\x1b[31m", "\x1b[1A\x1b[K", "\x9b2J", "\x1bc",
           "\x07", "\x1b", "\x08", "\r", "\x0b", "\x7f", "\x85", "\u202e", "\u2066", "\u200f", "\u061c", "\t", "\n",
           "~", "*", ":", "^", "'", '"', ","]
hostile_text = st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(alphabet="abcXYZéü -", min_size=1, max_size=4)),
                        min_size=1, max_size=6).map("".join)
hostile_name = st.builds(lambda start, rest: start + rest, st.sampled_from(["Milo", "Ivy", "Os"]), hostile_text)
LAYOUT_CONTROLS = {"\n", "\t"}
# What Textual itself writes between the lines: SGR styles and cursor moves (CSI ... letter).
TEXTUAL_SEQUENCE = re.compile(r"\x1b\[[0-9;:?]*[A-Za-z]")
CLINIC = dict(name="Harbor Speech", npi="1234567893", tax_id="12-3456789", address_line1="1 Pier Rd",
              city="Astoria", state="OR", postal_code="971031234", phone="503-555-0100", submitter_id="HARBOR01",
              submitter_contact="Rosa Fennimore", receiver_id="CLEARHOUSE1", receiver_name="Cascade Clearinghouse")


def _import_csv(folder: Path, first: str, last: str, school: str, guardian: str) -> Path:
    path = folder / "patients.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["external_id", "last_name", "first_name", "date_of_birth", "sex", "school", "guardian",
                         "payer_kind", "payer_name", "payer_id", "member_id", "diagnosis_codes", "address_line1",
                         "city", "state", "postal_code"])
        writer.writerow(["P-0001", last, first, "2018-04-09", "M", school, guardian, "medicaid",
                         "Oregon Health Plan", "OHP01", "MQ123456", "F80.0", "7 Cedar Ct", "Astoria", "OR", "97103"])
    return path


def _command(*args: str) -> str:
    """Run ``slpterm ARGS`` in this process; everything it wrote to the terminal."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        cli.main(list(args))
    return out.getvalue() + err.getvalue()


def _no_controls(text: str, where: str, allowed: set[str] = frozenset()) -> None:
    found = sorted({repr(char) for char in text if char in CONTROL_CHARACTERS and char not in allowed})
    assert not found, f"{where} carries {', '.join(found)}: {text!r}"


def _terminal_output(app, where: str) -> str:
    """What the driver would write for the whole screen, checked piece by piece."""
    update = app.screen._compositor.render_update(full=True)
    for line in update.strips:
        for strip in line:
            for text, _style, control in strip:
                if not control:
                    _no_controls(text, f"{where}: the text of a line")
    output = update.render_segments(app.console)
    _no_controls(TEXTUAL_SEQUENCE.sub("", output), f"{where}: the terminal output", {"\n", "\r"})
    return output


async def _look_at_every_screen(data_dir: Path, participant_id: str, note: str) -> None:
    app = build_app(data_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle_app(app, pilot)
        _terminal_output(app, "caseload")
        await pilot.press("enter")
        await settle_app(app, pilot)
        _terminal_output(app, "chart")
        app.push_screen(SessionScreen(app.services, participant_id))
        await settle_app(app, pilot)
        assert printable(note.splitlines()[0]) in printable(app.screen.query_one("#note-objective").text)
        _terminal_output(app, "session")
        app.notify(f"Signed the note of {note}")
        app.action_audit()
        await settle_app(app, pilot)
        assert isinstance(app.screen, AuditScreen)
        _terminal_output(app, "audit trail with a notification")


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(first="Milo\x1b]0;PWNED\x07", last="Quill\x1b[2J\u202efeather", school="Cedar*~:^", guardian="\x9b2J\x07",
         note="Said /r/\x1b[31m in\r\n8/10\x1b]2;PWNED\x1b\\ ~*:^")
@given(first=hostile_name, last=hostile_name, school=hostile_text, guardian=hostile_text, note=hostile_name)
def test_hostile_names_and_notes_never_drive_the_terminal_and_the_837p_still_validates(first, last, school, guardian,
                                                                                      note):
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        data_dir = folder / "data"
        store = open_store(data_dir)
        store.clinic.save_clinic(**CLINIC)
        clinician = store.clinic.add_clinician(first_name="Rosa", last_name="Fennimore", npi="1234567893")
        store.close()

        imported = _command("import-patients", str(_import_csv(folder, first, last, school, guardian)), "--commit",
                            "--data-dir", str(data_dir))
        _no_controls(imported, "import-patients", LAYOUT_CONTROLS)
        store = open_store(data_dir)
        patient = store.patients.find_by_external_id("P-0001")
        assert patient is not None, imported
        assert patient.last_name == last.strip()  # stored as given: only showing it is made safe
        plan = store.patients.add_plan(patient_id=patient.id, start_date=date(2026, 10, 1), end_date=date(2026, 12, 29),
                                       frequency="2x/week", certified_on=date(2026, 10, 3), status="certified",
                                       certifying_physician_name="Dr. Lena Ortiz",
                                       certifying_physician_npi="1234567893")
        goal = store.patients.add_goal(plan_id=plan.id, disorder_area="speech_sound", text=note)
        session, (participant,) = store.sessions.create(
            date_of_service=date(2026, 11, 2), session_type="individual_treatment", setting="office",
            patient_ids=[patient.id], clinician_id=clinician.id)
        start = datetime(2026, 11, 2, 16, 0, tzinfo=timezone.utc)
        store.sessions.set_manual_time(session.id, "speech_sound", start, start + timedelta(minutes=30))
        store.sessions.record_trial(participant.id, goal.id, "correct", "independent")
        store.sessions.save_note(participant.id, subjective=note, objective=note, assessment=note, plan=note)
        store.sessions.sign(participant.id, clinician.id)
        store.close()

        asyncio.run(_look_at_every_screen(data_dir, participant.id, note))

        exported = _command("export", "--format", "x12", "--out", str(folder / "claims"), "--data-dir", str(data_dir))
        _no_controls(exported, "export", LAYOUT_CONTROLS)
        (claim_file,) = (folder / "claims").glob("*.x12")
        assert pyx12_errors(claim_file.read_text(encoding="ascii")) == []
        for format in ("csv", "json", "fhir", "superbill"):
            _command("export", "--format", format, "--include-exported", "--out", str(folder / format),
                     "--data-dir", str(data_dir))
        reported = _command("report", "--patient", "P-0001", "--out", str(folder / "reports"),
                            "--data-dir", str(data_dir))
        _no_controls(reported, "report", LAYOUT_CONTROLS)
        reports = sorted(path.name for path in (folder / "reports").iterdir())
        assert len(reports) == 2 and all(name.startswith("progress-report-P-0001-") for name in reports)
        listed = _command("--data-dir", str(data_dir), "audit", "list", "--limit", "500")
        _no_controls(listed, "audit list", LAYOUT_CONTROLS)
        assert "sign" in listed

"""Shared fixtures: a real store in a temporary folder, never a stand-in."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from slpterm.domain.clock import FakeClock
from slpterm.store import Store, open_store


@pytest.fixture(autouse=True)
def private_user_folders(tmp_path_factory, monkeypatch):
    """Audit anchors (config folder) and crash logs (state folder) go to temporary folders, never
    to the user's own; commands run as subprocesses inherit them."""
    folders = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("SLPTERM_CONFIG_DIR", str(folders / "config"))
    monkeypatch.setenv("SLPTERM_STATE_DIR", str(folders / "state"))
    return folders


@pytest.fixture
def store(tmp_path) -> Store:
    opened = open_store(tmp_path / "data")
    yield opened
    opened.close()


@pytest.fixture
def clinician(store):
    return store.clinic.add_clinician(first_name="Rosa", last_name="Fennimore", credentials="CCC-SLP",
                                      role="slp", npi="1234567893")


@pytest.fixture
def patient(store):
    patient = store.patients.create(first_name="Milo", last_name="Quillfeather", external_id="P-0001",
                                    date_of_birth=date(2018, 4, 9), school="Cedar Elementary", grade="2")
    store.patients.add_coverage(patient_id=patient.id, payer_kind="medicaid", payer_name="Oregon Health Plan",
                                payer_id="OHP01", member_id="MQ123456")
    store.patients.add_diagnosis(patient_id=patient.id, code="F80.0", role="treatment",
                                 description="Phonological disorder")
    return patient



@pytest.fixture
def clinic_dir(tmp_path):
    """A data directory with a clinic, a clinician and one Medicaid child with a certified plan and two goals."""
    return make_clinic(tmp_path / "data")


def make_clinic(data_dir):
    """What ``clinic_dir`` holds, written into ``data_dir``."""
    store = open_store(data_dir)
    store.clinic.save_clinic(name="Harbor Speech", npi="1234567893", tax_id="12-3456789", address_line1="1 Pier Rd",
                             city="Astoria", state="OR", postal_code="97103")
    store.clinic.add_clinician(first_name="Rosa", last_name="Fennimore", npi="1234567893")
    patient = store.patients.create(first_name="Milo", last_name="Quillfeather", external_id="P-1",
                                    date_of_birth=date(2018, 4, 9))
    store.patients.add_coverage(patient_id=patient.id, payer_kind="medicaid", payer_name="Oregon Health Plan",
                                payer_id="OHP01", member_id="MQ123")
    store.patients.add_diagnosis(patient_id=patient.id, code="F80.0", role="treatment")
    plan = store.patients.add_plan(patient_id=patient.id, start_date=date(2026, 10, 1), end_date=date(2026, 12, 29),
                                   frequency="2x/week", certified_on=date(2026, 10, 3),
                                   certifying_physician_name="Dr. Lena Ortiz", certifying_physician_npi="1234567893",
                                   status="certified")
    store.patients.add_goal(plan_id=plan.id, disorder_area="speech_sound", text="/r/ initial position, word level",
                            rank=1)
    store.patients.add_goal(plan_id=plan.id, disorder_area="language", text="Answers wh- questions", rank=2)
    store.close()
    return data_dir


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 11, 2, 17, 0, tzinfo=timezone.utc))


async def settle_app(app, pilot) -> None:
    """Wait until the app and every screen's workers are idle and the screen has been redrawn."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    for screen in app.screen_stack:
        await screen.workers.wait_for_complete()
    await pilot.pause()


def key_event(key: str):
    """The Textual key event a terminal sends for ``key`` (a Textual key name or one character)."""
    from textual import events

    characters = {"space": " ", "tab": "\t", "enter": "\r"}
    return events.Key(key, key if len(key) == 1 else characters.get(key))


async def type_burst(app, keys) -> None:
    """Send every key at once, with no pause between them (faster than any typist), then wait
    until each was delivered and what it set off is done."""
    import asyncio

    for key in keys:
        app.post_message(key_event(key))
    while not app._message_queue.empty():
        await asyncio.sleep(0.001)
    await app.typeahead.wait_delivered()

"""Shared fixtures: a real store in a temporary folder, never a stand-in."""

from __future__ import annotations

from datetime import date

import pytest

from slpterm.store import Store, open_store


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

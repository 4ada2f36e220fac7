"""Checking what a clinic enters about itself and its clinicians before it is saved."""

from __future__ import annotations

import re
from dataclasses import dataclass

from slpterm.domain.identifiers import ein_problem, npi_problem
from slpterm.domain.vocab import ClinicianRole

CREDENTIAL_CHOICES = ("CCC-SLP", "CF-SLP", "SLPA", "SLP")
_ZIP = re.compile(r"^\d{5}(-?\d{4})?$")
_STATE = re.compile(r"^[A-Za-z]{2}$")
_X12_ID = re.compile(r"^[A-Za-z0-9]{2,15}$")


def role_for_credentials(credentials: str) -> ClinicianRole:
    text = credentials.upper()
    if "CF" in text:
        return ClinicianRole.CLINICAL_FELLOW
    if "SLPA" in text or "ASSISTANT" in text:
        return ClinicianRole.ASSISTANT
    return ClinicianRole.SLP


@dataclass
class ClinicSetup:
    clinic_name: str = ""
    clinic_npi: str = ""
    tax_id: str = ""
    address_line1: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    phone: str = ""
    clinician_first_name: str = ""
    clinician_last_name: str = ""
    credentials: str = "CCC-SLP"
    clinician_npi: str = ""
    submitter_id: str = ""
    submitter_contact: str = ""
    receiver_id: str = ""
    receiver_name: str = ""


def setup_problems(setup: ClinicSetup) -> list[tuple[str, str]]:
    """(field label, what to fix) for everything that is wrong; empty optional fields are fine."""
    problems: list[tuple[str, str]] = []
    if not setup.clinic_name.strip():
        problems.append(("Clinic name", "enter the practice's name as it appears on claims"))
    if setup.clinic_npi.strip() and (problem := npi_problem(setup.clinic_npi)):
        problems.append(("Clinic NPI", problem))
    if setup.tax_id.strip() and (problem := ein_problem(setup.tax_id)):
        problems.append(("Tax ID", problem))
    if setup.state.strip() and not _STATE.match(setup.state.strip()):
        problems.append(("State", "use the two-letter code, e.g. OR"))
    if setup.postal_code.strip() and not _ZIP.match(setup.postal_code.strip()):
        problems.append(("ZIP", "use 5 digits or ZIP+4 (NNNNN-NNNN)"))
    if not (setup.clinician_first_name.strip() and setup.clinician_last_name.strip()):
        problems.append(("Clinician name", "enter your first and last name"))
    if setup.credentials.strip() not in CREDENTIAL_CHOICES:
        problems.append(("Credentials", f"choose one of {', '.join(CREDENTIAL_CHOICES)}"))
    if setup.clinician_npi.strip() and (problem := npi_problem(setup.clinician_npi)):
        problems.append(("Clinician NPI", problem))
    for label, value in (("Submitter ID", setup.submitter_id), ("Receiver ID", setup.receiver_id)):
        if value.strip() and not _X12_ID.match(value.strip()):
            problems.append((label, "use 2-15 letters or digits, as the clearinghouse gave it to you"))
    return problems

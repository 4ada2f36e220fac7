"""ANSI X12 837P (005010X222A1) professional claims from coded encounters.

One claim (loop 2300) per patient, date of service and coverage: a patient's same-day encounters
are merged and their diagnosis pointers re-based onto the merged HI list (at most 12 diagnoses,
at most 4 pointers per line). Free text is transliterated to ASCII (``anyascii``: Ødegård ->
ODEGARD, Иванов -> IVANOV) and kept to the X12 basic character set, so a name can never break the
file. Each claim's segments are checked on their own (:func:`claim_problems`) before it enters a
batch, so one bad claim is held back with its reason while the others go out.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from anyascii import anyascii

from slpterm.domain.claim import ClaimLine
from slpterm.domain.encounter import ClinicInfo, EncounterRecord
from slpterm.domain.identifiers import ein_problem, npi_problem
from slpterm.export.common import BatchInfo, diagnosis_codes, money, sort_encounters

SEGMENT_TERMINATOR = "~"
ELEMENT_SEPARATOR = "*"
COMPONENT_SEPARATOR = ":"
REPETITION_SEPARATOR = "^"
IMPLEMENTATION = "005010X222A1"
MAX_DIAGNOSES = 12
MAX_POINTERS = 4
SLP_TAXONOMY = "235Z00000X"
SETTINGS_HINT = "Settings (F5), Electronic claims"

# SBR09 claim filing indicator by payer kind.
CLAIM_FILING_CODES = {
    "medicare": "MB",
    "medicaid": "MC",
    "commercial": "CI",
    "school": "MC",  # school-based services are billed to the state Medicaid program
    "self_pay": "09",
}
# PAT01 / SBR02 individual relationship codes.
RELATIONSHIP_CODES = {"spouse": "01", "child": "19", "other": "G8"}

# The X12 basic character set without this file's delimiters (~ * : ^): upper-case letters, digits,
# space and ! " & ' ( ) + , - . / ; ? =
_BASIC_CHARACTERS = r"""A-Z0-9 !"&'()+,\-./;?="""
_NOT_BASIC = re.compile(f"[^{_BASIC_CHARACTERS}]+")
_BASIC_ELEMENT = re.compile(f"[{_BASIC_CHARACTERS}]*")
_SPACES = re.compile(r" {2,}")


@lru_cache(maxsize=65536)  # names, addresses and payers repeat on every claim of a batch
def clean_text(value: str, limit: int | None = None) -> str:
    """``value`` transliterated to upper-case ASCII in the X12 basic character set (anything else,
    delimiters and control characters included, becomes a space), trimmed to ``limit``."""
    text = _SPACES.sub(" ", _NOT_BASIC.sub(" ", anyascii(value or "").upper())).strip()
    return text[:limit].rstrip() if limit else text


_NOT_DIGITS = re.compile(r"\D")


def digits(value: str) -> str:
    return _NOT_DIGITS.sub("", value or "")


def phone_digits(value: str) -> str:
    """A North American phone number's 10 digits: '+1 (503) 555-0100' -> '5035550100'."""
    number = digits(value)
    return number[1:] if len(number) == 11 and number.startswith("1") else number


@lru_cache(maxsize=4096)
def _npi_problem(npi: str) -> str | None:
    """``npi_problem``, remembered: a batch checks the same few NPIs on every line."""
    return npi_problem(npi)


def icd_without_dot(code: str) -> str:
    return code.replace(".", "").strip().upper()


def _x12_money(amount: Decimal) -> str:
    return money(amount)


@dataclass
class ClaimLineOut:
    line: ClaimLine
    pointers: tuple[int, ...]


@dataclass
class Claim:
    """One 2300 loop: a patient's coded lines on one date of service for one coverage."""

    encounters: list[EncounterRecord]
    diagnoses: list[str] = field(default_factory=list)  # with dots, in HI order
    lines: list[ClaimLineOut] = field(default_factory=list)
    frequency: str = "1"  # CLM05-3: 1 original, 7 replacement, 8 void
    payer_claim_number: str = ""  # REF*F8 of a replacement or void: the payer's number for the original
    number: str = ""  # CLM01 when fixed by the register (a correction keeps the original's); else derived

    @property
    def first(self) -> EncounterRecord:
        return self.encounters[0]

    @property
    def date_of_service(self) -> date:
        return self.first.date_of_service

    @property
    def total_charge(self) -> Decimal:
        return sum((out.line.charge for out in self.lines), Decimal("0"))

    @property
    def place_of_service(self) -> str:
        return self.first.coding.place_of_service or (self.lines[0].line.place_of_service if self.lines else "")

    @property
    def participant_ids(self) -> list[str]:
        return [e.participant_id for e in self.encounters]


def _claim_key(encounter: EncounterRecord) -> tuple:
    coverage = encounter.coverage
    coverage_key = (coverage.payer_id, coverage.member_id) if coverage else ("", "")
    return (encounter.patient.id, encounter.date_of_service, coverage_key)


def build_claims(encounters: Sequence[EncounterRecord]) -> tuple[list[Claim], list[tuple[EncounterRecord, str]]]:
    """Merge encounters into claims; returns the claims and the encounters that cannot be claimed, with why."""
    grouped: dict[tuple, list[EncounterRecord]] = {}
    for encounter in sort_encounters(encounters):
        grouped.setdefault(_claim_key(encounter), []).append(encounter)
    claims: list[Claim] = []
    refused: list[tuple[EncounterRecord, str]] = []
    for group in grouped.values():
        claim = Claim(encounters=group)
        for encounter in group:
            codes = diagnosis_codes(encounter)
            for code in codes:
                if code not in claim.diagnoses:
                    claim.diagnoses.append(code)
            for line in encounter.coding.lines:
                rebased: list[int] = []
                for pointer in line.diagnosis_pointers:
                    if 1 <= pointer <= len(codes):
                        new_pointer = claim.diagnoses.index(codes[pointer - 1]) + 1
                        if new_pointer not in rebased:
                            rebased.append(new_pointer)
                claim.lines.append(ClaimLineOut(line, tuple(rebased[:MAX_POINTERS])))
        if len(claim.diagnoses) > MAX_DIAGNOSES:
            reason = (f"{len(claim.diagnoses)} diagnoses on one day's claim; an 837P claim carries at most "
                      f"{MAX_DIAGNOSES}. Remove inactive diagnoses from the chart.")
            refused.extend((encounter, reason) for encounter in group)
            continue
        unpointed = [out.line.code for out in claim.lines if not out.pointers]
        if unpointed:
            reason = f"line {', '.join(unpointed)} points at no diagnosis; add a diagnosis to the session."
            refused.extend((encounter, reason) for encounter in group)
            continue
        claims.append(claim)
    return claims, refused


def clinic_problems(clinic: ClinicInfo) -> list[str]:
    """Why the clinic's settings cannot produce an 837P file (empty when they can)."""
    return list(_clinic_problems(clinic))


@lru_cache(maxsize=64)  # asked once per encounter; every encounter of a batch has the same clinic
def _clinic_problems(clinic: ClinicInfo) -> tuple[str, ...]:
    problems = []
    required = [
        ("submitter_id", "Submitter ID (ISA06/1000A, from your clearinghouse)"),
        ("submitter_contact", "Submitter contact name (1000A PER)"),
        ("receiver_id", "Receiver ID (ISA08/1000B, from your clearinghouse)"),
        ("receiver_name", "Receiver name (1000B)"),
        ("name", "Clinic name"),
        ("address_line1", "Clinic street address"),
        ("city", "Clinic city"),
        ("state", "Clinic state"),
        ("postal_code", "Clinic ZIP code"),
    ]
    for attribute, label in required:
        if not clean_text(getattr(clinic, attribute)):
            problems.append(f"{label} is empty: fill it in under {SETTINGS_HINT}.")
    if not digits(clinic.phone):
        problems.append(f"Clinic phone is empty (needed for the submitter contact): fill it in under {SETTINGS_HINT}.")
    elif len(phone_digits(clinic.phone)) != 10:
        problems.append(f"Clinic phone {clinic.phone.strip()!r} is not a 10-digit number (area code and number): "
                        f"correct it under {SETTINGS_HINT}.")
    zip_digits = digits(clinic.postal_code)
    if zip_digits and len(zip_digits) != 9:
        problems.append(f"Clinic ZIP code {clinic.postal_code.strip()!r} has {len(zip_digits)} digits; the billing "
                        "provider's address on an 837P needs the 9-digit ZIP+4 (N403), and clearinghouses reject "
                        f"the claims without it. Enter the ZIP+4 (e.g. 97103-1234) under {SETTINGS_HINT}.")
    npi = npi_problem(clinic.npi)
    if npi:
        problems.append(f"Clinic (billing provider) NPI: {npi}. Fix it under {SETTINGS_HINT}.")
    ein = ein_problem(clinic.tax_id)
    if ein:
        problems.append(f"Clinic tax ID: {ein}. Fix it under {SETTINGS_HINT}.")
    if len(clinic.submitter_id.strip()) > 15 or len(clinic.receiver_id.strip()) > 15:
        problems.append(f"Submitter and receiver IDs are at most 15 characters: check them under {SETTINGS_HINT}.")
    if not problems:
        header = Interchange(clinic, _CHECK_BATCH).header()
        problems += [f"{problem} Check the clinic under {SETTINGS_HINT}." for problem in
                     segment_problems([segment.strip() for segment in header.split(SEGMENT_TERMINATOR)[1:]
                                       if segment.strip()])]
    return tuple(problems)


def encounter_problems(encounter: EncounterRecord) -> list[str]:
    """Why one encounter cannot go on an 837P claim (empty when it can)."""
    problems = []
    coverage = encounter.coverage
    if coverage is None:
        problems.append("No coverage on file: add the patient's payer in the chart, or give the family a superbill.")
    else:
        if coverage.payer_kind == "self_pay":
            problems.append("Self-pay coverage: there is no payer to send a claim to; use a superbill.")
        if not clean_text(coverage.member_id):
            problems.append("Member ID is empty on the patient's coverage: add it in the chart.")
        if not clean_text(coverage.payer_id):
            problems.append("Payer ID is empty on the patient's coverage: add the payer's electronic ID in the chart.")
        if coverage.subscriber_relationship != "self" and not coverage.subscriber_last_name.strip():
            problems.append("The subscriber is not the patient but has no name: add the subscriber in the chart.")
        elif coverage.subscriber_relationship != "self" and not clean_text(coverage.subscriber_last_name):
            problems.append(_untransliterable("Subscriber last name", coverage.subscriber_last_name,
                                              "the subscriber on the patient's coverage"))
    if not clean_text(encounter.patient.last_name):
        problems.append(_untransliterable("Patient last name", encounter.patient.last_name, "the chart"))
    if not clean_text(encounter.clinician.last_name):
        problems.append(_untransliterable("Rendering clinician last name", encounter.clinician.last_name,
                                          "Settings (F5), Your last name"))
    if encounter.patient.date_of_birth is None:
        problems.append("Patient date of birth is missing: add it in the chart.")
    if not encounter.coding.lines:
        problems.append("No billable claim lines.")
    for line in encounter.coding.lines:
        problem = _npi_problem(line.rendering_npi)
        if problem:
            problems.append(f"Rendering NPI on {line.code}: {problem}.")
            break
    return problems


def _untransliterable(field_name: str, value: str, where: str) -> str:
    if not value.strip():
        return f"{field_name} is empty: fill it in in {where}."
    return (f"{field_name} {value.strip()!r} has no letters an 837P can carry (A-Z after transliteration): "
            f"add the name in Latin letters as the payer has it, in {where}.")


def _split_person_name(name: str) -> tuple[str, str]:
    """'Dr. Lena Ortiz, MD' -> ('ORTIZ', 'LENA')."""
    text = name.split(",")[0]
    words = [w for w in text.replace(".", " ").split() if w.lower() not in ("dr", "doctor", "mr", "mrs", "ms")]
    if not words:
        return "", ""
    return words[-1], " ".join(words[:-1])


class _Writer:
    def __init__(self) -> None:
        self.segments: list[str] = []

    def add(self, *elements: str) -> None:
        parts = list(elements)
        while len(parts) > 1 and parts[-1] == "":
            parts.pop()
        self.segments.append(ELEMENT_SEPARATOR.join(parts))


def _address(writer: _Writer, line1: str, line2: str, city: str, state: str, postal_code: str) -> None:
    if clean_text(line1):
        writer.add("N3", clean_text(line1, 55), clean_text(line2, 55))
        writer.add("N4", clean_text(city, 30), clean_text(state, 2), digits(postal_code)[:9])


def _demographics(writer: _Writer, birth: date | None, sex: str) -> None:
    if birth is not None:
        gender = sex.upper() if sex and sex.upper() in ("F", "M") else "U"
        writer.add("DMG", "D8", birth.strftime("%Y%m%d"), gender)


def render_837p(encounters: Sequence[EncounterRecord], batch: BatchInfo) -> tuple[str, list[Claim]]:
    """The 837P interchange text for ``encounters`` and the claims it holds.

    Raises ValueError when the clinic or an encounter cannot be claimed; run
    :func:`clinic_problems` and :func:`encounter_problems` first.
    """
    if not encounters:
        raise ValueError("no encounters to claim")
    clinic = encounters[0].clinic
    problems = clinic_problems(clinic)
    for encounter in encounters:
        problems.extend(encounter_problems(encounter))
    claims, refused = build_claims(encounters)
    problems.extend(reason for _, reason in refused)
    if problems:
        raise ValueError("; ".join(problems))
    interchange = Interchange(clinic, batch)
    return interchange.header() + interchange.claims(claims) + interchange.trailer(), claims


class Interchange:
    """One 837P interchange written in pieces: :meth:`header`, :meth:`claims` for each run of claims
    (in file order; a patient-day's encounters in one run), then :meth:`trailer`. The pieces joined
    are the text :func:`render_837p` gives for all the claims at once."""

    def __init__(self, clinic: ClinicInfo, batch: BatchInfo) -> None:
        self.clinic = clinic
        self.batch = batch
        self.control = f"{batch.control:09d}"
        self.transaction_segments = 0  # ST through the last claim's segments
        self.hl = 1

    def _text(self, writer: _Writer) -> str:
        return "".join(segment + SEGMENT_TERMINATOR + "\n" for segment in writer.segments)

    def header(self) -> str:
        clinic, batch, control = self.clinic, self.batch, self.control
        stamp = batch.created_at
        writer = _Writer()
        submitter_id = clean_text(clinic.submitter_id, 15)
        receiver_id = clean_text(clinic.receiver_id, 15)
        writer.add("ISA", "00", " " * 10, "00", " " * 10, "ZZ", submitter_id.ljust(15), "ZZ", receiver_id.ljust(15),
                   stamp.strftime("%y%m%d"), stamp.strftime("%H%M"), REPETITION_SEPARATOR, "00501", control, "0",
                   "P" if batch.production else "T", COMPONENT_SEPARATOR)
        writer.add("GS", "HC", submitter_id, receiver_id, stamp.strftime("%Y%m%d"), stamp.strftime("%H%M"),
                   str(batch.control), "X", IMPLEMENTATION)
        st_start = len(writer.segments)
        writer.add("ST", "837", control, IMPLEMENTATION)
        writer.add("BHT", "0019", "00", f"SLP{control}", stamp.strftime("%Y%m%d"), stamp.strftime("%H%M"), "CH")
        writer.add("NM1", "41", "2", clean_text(clinic.name, 60), "", "", "", "", "46", submitter_id)
        writer.add("PER", "IC", clean_text(clinic.submitter_contact, 60), "TE", phone_digits(clinic.phone))
        writer.add("NM1", "40", "2", clean_text(clinic.receiver_name, 60), "", "", "", "", "46", receiver_id)

        writer.add("HL", "1", "", "20", "1")
        writer.add("PRV", "BI", "PXC", clean_text(clinic.taxonomy_code or SLP_TAXONOMY, 10))
        writer.add("NM1", "85", "2", clean_text(clinic.name, 60), "", "", "", "", "XX", clinic.npi.strip())
        _address(writer, clinic.address_line1, clinic.address_line2, clinic.city, clinic.state, clinic.postal_code)
        writer.add("REF", "EI", digits(clinic.tax_id))
        self.transaction_segments += len(writer.segments) - st_start
        return self._text(writer)

    def claims(self, claims: Sequence[Claim]) -> str:
        writer = _Writer()
        for claim in claims:
            self._claim(writer, claim)
        self.transaction_segments += len(writer.segments)
        return self._text(writer)

    def _claim(self, writer: _Writer, claim: Claim) -> None:
        first = claim.first
        coverage = first.coverage
        patient = first.patient
        assert coverage is not None
        is_self = coverage.subscriber_relationship == "self"
        self.hl += 1
        subscriber_hl = self.hl
        writer.add("HL", str(subscriber_hl), "1", "22", "0" if is_self else "1")
        writer.add("SBR", "P", "18" if is_self else "", clean_text(coverage.group_number, 50), "", "", "", "", "",
                   CLAIM_FILING_CODES.get(coverage.payer_kind, "CI"))
        if is_self:
            writer.add("NM1", "IL", "1", clean_text(patient.last_name, 60), clean_text(patient.first_name, 35), "",
                       "", "", "MI", clean_text(coverage.member_id, 80))
            _address(writer, patient.address_line1, patient.address_line2, patient.city, patient.state,
                     patient.postal_code)
            _demographics(writer, patient.date_of_birth, patient.sex)
        else:
            writer.add("NM1", "IL", "1", clean_text(coverage.subscriber_last_name, 60),
                       clean_text(coverage.subscriber_first_name, 35), "", "", "", "MI",
                       clean_text(coverage.member_id, 80))
            # 2010BA DMG is sent only when the subscriber is the patient ("if not required by this
            # implementation guide, do not send"); the patient's own DMG goes in 2010CA below.
        writer.add("NM1", "PR", "2", clean_text(coverage.payer_name, 60) or clean_text(coverage.payer_id, 60), "",
                   "", "", "", "PI", clean_text(coverage.payer_id, 80))
        if not is_self:
            self.hl += 1
            writer.add("HL", str(self.hl), str(subscriber_hl), "23", "0")
            writer.add("PAT", RELATIONSHIP_CODES.get(coverage.subscriber_relationship, "G8"))
            writer.add("NM1", "QC", "1", clean_text(patient.last_name, 60), clean_text(patient.first_name, 35))
            _address(writer, patient.address_line1, patient.address_line2, patient.city, patient.state,
                     patient.postal_code)
            _demographics(writer, patient.date_of_birth, patient.sex)

        account = claim.number or claim_account_number(claim)
        writer.add("CLM", account, _x12_money(claim.total_charge), "", "",
                   COMPONENT_SEPARATOR.join((claim.place_of_service, "B", claim.frequency)), "Y", "A", "Y", "Y")
        if claim.payer_claim_number:
            writer.add("REF", "F8", clean_text(claim.payer_claim_number, 50))
        hi = [("ABK" if index == 0 else "ABF") + COMPONENT_SEPARATOR + icd_without_dot(code)
              for index, code in enumerate(claim.diagnoses)]
        writer.add("HI", *hi)
        physician_npi = first.certifying_physician_npi.strip()
        physician_last, physician_first = _split_person_name(first.certifying_physician_name)
        if physician_npi and not _npi_problem(physician_npi) and physician_last:
            writer.add("NM1", "DN", "1", clean_text(physician_last, 60), clean_text(physician_first, 35), "", "",
                       "", "XX", physician_npi)
        rendering = first.clinician
        claim_rendering_npi = claim.lines[0].line.rendering_npi.strip() if claim.lines else rendering.npi
        writer.add("NM1", "82", "1", clean_text(rendering.last_name, 60), clean_text(rendering.first_name, 35), "",
                   "", "", "XX", claim_rendering_npi)
        writer.add("PRV", "PE", "PXC", SLP_TAXONOMY)
        for number, out in enumerate(claim.lines, start=1):
            line = out.line
            procedure = COMPONENT_SEPARATOR.join(["HC", line.code, *line.modifiers[:4]])
            line_pos = line.place_of_service if line.place_of_service != claim.place_of_service else ""
            writer.add("LX", str(number))
            writer.add("SV1", procedure, _x12_money(line.charge), "UN", str(line.units), line_pos, "",
                       COMPONENT_SEPARATOR.join(str(p) for p in out.pointers))
            writer.add("DTP", "472", "D8", line.date_of_service.strftime("%Y%m%d"))
            if line.rendering_npi.strip() != claim_rendering_npi:
                other = _clinician_for_npi(claim, line.rendering_npi)
                writer.add("NM1", "82", "1", clean_text(other[0], 60), clean_text(other[1], 35), "", "", "", "XX",
                           line.rendering_npi.strip())

    def trailer(self) -> str:
        writer = _Writer()
        writer.add("SE", str(self.transaction_segments + 1), self.control)
        writer.add("GE", "1", str(self.batch.control))
        writer.add("IEA", "1", self.control)
        return self._text(writer)


# NM101 entity codes, for messages about a name element.
_ENTITY_NAMES = {"IL": "subscriber", "QC": "patient", "82": "rendering provider", "85": "billing provider",
                 "PR": "payer", "DN": "referring provider", "41": "submitter", "40": "receiver"}
# (segment, element number) -> (minimum, maximum length) of the elements the claim loops carry,
# as the 005010X222A1 guide sizes them; a minimum of 1 or more makes the element required.
_ELEMENT_SIZES = {
    ("NM1", 3): (1, 60), ("NM1", 4): (0, 35), ("NM1", 9): (0, 80),
    ("N3", 1): (1, 55), ("N3", 2): (0, 55), ("N4", 1): (2, 30), ("N4", 2): (2, 2), ("N4", 3): (3, 15),
    ("SBR", 9): (1, 2), ("DMG", 2): (8, 8), ("PAT", 1): (2, 2), ("CLM", 1): (1, 20), ("CLM", 2): (1, 18),
    ("HI", 1): (1, 30), ("SV1", 1): (1, 48), ("SV1", 2): (1, 18), ("SV1", 4): (1, 15), ("DTP", 3): (8, 8),
    ("REF", 2): (1, 50), ("PRV", 3): (10, 10),
}
_SIZES_BY_TAG: dict[str, list[tuple[int, int, int]]] = {}
for (_tag, _number), (_least, _most) in _ELEMENT_SIZES.items():
    _SIZES_BY_TAG.setdefault(_tag, []).append((_number, _least, _most))
# A whole segment in the basic set, its delimiters included: the fast path for a clean segment.
_BASIC_SEGMENT = re.compile(f"[{_BASIC_CHARACTERS}*:^]*")


_ELEMENT_LABELS = {("NM1", 3): "last or organization name", ("NM1", 4): "first name", ("NM1", 9): "identifier",
                   ("N3", 1): "street address", ("N3", 2): "address line 2", ("N4", 1): "city", ("N4", 2): "state",
                   ("N4", 3): "ZIP code", ("DMG", 2): "birth date", ("CLM", 1): "claim number",
                   ("SBR", 9): "claim filing indicator", ("PRV", 3): "taxonomy code"}


def _element_name(tag: str, number: int, party: str) -> str:
    """'N403 (patient ZIP code)': the element, what it holds and whose it is."""
    label = _ELEMENT_LABELS.get((tag, number))
    whose = f"{party} " if party and tag in ("NM1", "N3", "N4", "DMG") else ""
    return f"{tag}{number:02d}" + (f" ({whose}{label})" if label else "")


def segment_problems(segments: Sequence[str]) -> list[str]:
    """What a validator would reject in ``segments`` (without their terminators): characters
    outside the X12 basic set, and required elements that are empty, too short or too long. Each
    problem names the element, what it holds and whose it is (the person or party of the NM1 before)."""
    problems = []
    party = ""
    for segment in segments:
        elements = segment.split(ELEMENT_SEPARATOR)
        tag = elements[0]
        if tag == "NM1" and len(elements) > 1:
            party = _ENTITY_NAMES.get(elements[1], elements[1])
        elif tag in ("CLM", "HL", "LX"):
            party = ""
        if not _BASIC_SEGMENT.fullmatch(segment):
            for number, value in enumerate(elements[1:], start=1):
                for component in value.split(COMPONENT_SEPARATOR):
                    if not _BASIC_ELEMENT.fullmatch(component):
                        problems.append(f"{_element_name(tag, number, party)} {component!r} has characters "
                                        "outside the X12 basic character set.")
        for number, least, most in _SIZES_BY_TAG.get(tag, ()):
            value = elements[number] if number < len(elements) else ""
            if not least <= len(value) <= most:
                state = "is empty" if not value else f"has {len(value)} characters"
                problems.append(f"{_element_name(tag, number, party)} {state}; it takes {least} to {most}.")
        if tag == "NM1" and len(elements) > 8 and elements[8] and len(elements[9] if len(elements) > 9 else "") < 2:
            problems.append(f"{_element_name(tag, 9, party)} is missing although NM108 announces one.")
    return problems


_CHECK_BATCH = BatchInfo(number=1, created_at=datetime(2000, 1, 1))


def claim_problems(claim: Claim) -> list[str]:
    """What a validator would reject in ``claim``'s own segments (loops 2000B to 2400), checked
    alone, so that one bad claim can be held back while the batch goes out."""
    writer = _Writer()
    Interchange(claim.first.clinic, _CHECK_BATCH)._claim(writer, claim)
    return segment_problems(writer.segments)


def _clinician_for_npi(claim: Claim, npi: str) -> tuple[str, str]:
    for encounter in claim.encounters:
        if encounter.clinician.npi.strip() == npi.strip():
            return encounter.clinician.last_name, encounter.clinician.first_name
    return claim.first.clinician.last_name, claim.first.clinician.first_name


def claim_account_number(claim: Claim) -> str:
    """CLM01, the claim number remittances come back with: :func:`claim_number` of its encounters."""
    return claim_number(claim.first.patient.external_id or claim.first.patient.id, claim.participant_ids)


def claim_number(chart_id: str, participant_ids: Sequence[str]) -> str:
    """A claim's number (at most 20 characters): up to six characters of the chart ID, then 13 of a
    hash of the claim's sessions (their random ids). The same sessions always give the same number
    (a re-send is recognisable), other sessions a different one, on any installation."""
    prefix = re.sub(r"[^A-Z0-9]", "", clean_text(chart_id))[:6] or "C"
    digest = hashlib.sha256("\n".join(sorted(participant_ids)).encode("utf-8")).digest()
    return f"{prefix}-{base64.b32encode(digest).decode('ascii')[:13]}"


def claim_numbers(encounters: Sequence[EncounterRecord]) -> dict[str, str]:
    """participant id -> the claim number its encounter goes out on, grouped as :func:`build_claims`
    groups them (whole patient-days must be in ``encounters``)."""
    grouped: dict[tuple, list[EncounterRecord]] = {}
    for encounter in encounters:
        grouped.setdefault(_claim_key(encounter), []).append(encounter)
    numbers: dict[str, str] = {}
    for group in grouped.values():
        number = claim_number(group[0].patient.external_id or group[0].patient.id,
                              [e.participant_id for e in group])
        numbers.update((e.participant_id, number) for e in group)
    return numbers


def render_claims(claims: Sequence[Claim], batch: BatchInfo) -> str:
    """One 837P interchange holding ``claims`` as built (corrections: their frequency and REF*F8 set)."""
    if not claims:
        raise ValueError("no claims to send")
    interchange = Interchange(claims[0].first.clinic, batch)
    return interchange.header() + interchange.claims(claims) + interchange.trailer()


class X12Stream:
    """The 837P file written in pieces: :meth:`add` each run of encounters in file order (a
    patient-day's encounters in one run, every one claimable), then :meth:`finish`. The pieces
    joined are :func:`render_837p`'s text for all of them."""

    def __init__(self, batch: BatchInfo) -> None:
        self.batch = batch
        self.interchange: Interchange | None = None

    def add(self, encounters: Sequence[EncounterRecord]) -> bytes:
        if not encounters:
            return b""
        text = ""
        if self.interchange is None:
            self.interchange = Interchange(encounters[0].clinic, self.batch)
            text = self.interchange.header()
        claims, refused = build_claims(encounters)
        if refused:
            raise ValueError("; ".join(reason for _, reason in refused))
        return (text + self.interchange.claims(claims)).encode("ascii")

    def finish(self) -> bytes:
        if self.interchange is None:
            raise ValueError("no encounters to claim")
        return self.interchange.trailer().encode("ascii")

"""CSV patient import: parse and check every row before anything is saved (a dry run).

The file is UTF-8 (a byte-order mark is fine), comma-separated, with a header row. Header names
are matched without regard to case, surrounding spaces, or spaces versus underscores. Columns:

=========================  ========  ====================================================================
column                     required  content
=========================  ========  ====================================================================
external_id                yes       the clinic's or district's patient/student ID; unique in the file;
                                     IDs already in slpterm are reported as duplicates and skipped
last_name                  yes
first_name                 yes
date_of_birth              yes       YYYY-MM-DD or MM/DD/YYYY
sex                                  F, M or U (female/male/unknown accepted); empty = U
phone                                US 10-digit number, any formatting: (555) 123-4567
address_line1
address_line2
city
state                                two-letter state code
postal_code                          ZIP: 12345 or 12345-6789
guardian                             parent or guardian name (expected for patients under 18)
school
grade                                PK, TK, K or 1-12 (3rd, Grade 3, Pre-K accepted)
payer_kind                           medicare, medicaid, commercial, school or self_pay
                                     (self-pay, private and iep accepted); required when any payer
                                     column is filled
payer_name                           the insurer's name
payer_id                             the payer's electronic (clearinghouse) ID
member_id                            required unless payer_kind is self_pay (school: optional)
diagnosis_codes                      treatment diagnoses (ICD-10-CM), separated by spaces, commas,
                                     semicolons or |; the first is primary
medical_diagnosis_codes              the physician's medical diagnoses, same format
=========================  ========  ====================================================================

Other columns are ignored and named in :attr:`ImportResult.notices`. Each data row gets its file
line number (the header is line 1). A row with any error is not imported; warnings (a minor
without a guardian, a code not in slpterm's list, ...) are kept on the imported row.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from slpterm.clinical.icd10 import CodeStatus, check_code, excludes1_conflicts
from slpterm.clinical.validation import (
    Level,
    normalize_grade,
    parse_date,
    validate_coverage,
    validate_patient,
)
from slpterm.domain.vocab import DiagnosisRole, PayerKind, Sex

COLUMNS: tuple[str, ...] = (
    "external_id",
    "last_name",
    "first_name",
    "date_of_birth",
    "sex",
    "phone",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "guardian",
    "school",
    "grade",
    "payer_kind",
    "payer_name",
    "payer_id",
    "member_id",
    "diagnosis_codes",
    "medical_diagnosis_codes",
)
REQUIRED_COLUMNS: tuple[str, ...] = ("external_id", "last_name", "first_name", "date_of_birth")

_SEX_WORDS = {"f": Sex.FEMALE, "female": Sex.FEMALE, "m": Sex.MALE, "male": Sex.MALE, "u": Sex.UNKNOWN, "unknown": Sex.UNKNOWN, "": Sex.UNKNOWN}
_PAYER_WORDS = {
    "self-pay": PayerKind.SELF_PAY, "self pay": PayerKind.SELF_PAY, "selfpay": PayerKind.SELF_PAY,
    "private": PayerKind.COMMERCIAL, "iep": PayerKind.SCHOOL,
}
_STATE = re.compile(r"^[A-Z]{2}$")
_ZIP = re.compile(r"^\d{5}(-?\d{4})?$")
_CODE_SPLIT = re.compile(r"[\s,;|]+")


@dataclass(frozen=True)
class ImportedCoverage:
    payer_kind: PayerKind
    payer_name: str
    payer_id: str
    member_id: str


@dataclass(frozen=True)
class ImportedDiagnosis:
    code: str
    role: DiagnosisRole
    rank: int
    description: str | None


@dataclass(frozen=True)
class ImportedPatient:
    line: int
    external_id: str
    last_name: str
    first_name: str
    date_of_birth: dt.date
    sex: Sex
    phone: str = ""
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    guardian: str = ""
    school: str = ""
    grade: str = ""
    coverage: ImportedCoverage | None = None
    diagnoses: tuple[ImportedDiagnosis, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class RowProblem:
    line: int
    external_id: str
    reason: str


@dataclass
class ImportResult:
    patients: list[ImportedPatient] = field(default_factory=list)
    errors: list[RowProblem] = field(default_factory=list)
    duplicates: list[RowProblem] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the file could be read and no row has an error (duplicates are fine)."""
        return not self.file_errors and not self.errors

    def summary(self) -> str:
        """'12 to import, 2 with errors, 1 already present'."""
        if self.file_errors:
            return "; ".join(self.file_errors)
        return (
            f"{len(self.patients)} to import, {len(self.errors)} with errors, "
            f"{len(self.duplicates)} already present"
        )


def _header_key(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", (name or "").strip().lower())


def _parse_codes(text: str, role: DiagnosisRole, start_rank: int, errors: list[str], warnings: list[str]) -> list[ImportedDiagnosis]:
    diagnoses: list[ImportedDiagnosis] = []
    column = "Diagnosis codes" if role == DiagnosisRole.TREATMENT else "Medical diagnosis codes"
    for raw in (part for part in _CODE_SPLIT.split(text.strip()) if part):
        result = check_code(raw, consult_full_code_set=False)
        if result.status in (CodeStatus.MALFORMED, CodeStatus.NOT_BILLABLE):
            errors.append(f"{column}: {result.reason}")
            continue
        if result.status == CodeStatus.UNLISTED_VALID_FORMAT and result.reason:
            warnings.append(f"{column}: {result.reason}")
        if any(existing.code == result.code for existing in diagnoses):
            continue
        diagnoses.append(ImportedDiagnosis(result.code, role, start_rank + len(diagnoses), result.description))
    return diagnoses


def _row(values: dict[str, str], line: int, today: dt.date) -> tuple[ImportedPatient | None, list[str]]:
    errors: list[str] = []
    warnings: list[str] = []

    def get(column: str) -> str:
        return (values.get(column) or "").strip()

    if not get("external_id"):
        errors.append("External ID: required; give every patient the ID used in your records")
    sex = _SEX_WORDS.get(get("sex").lower())
    if sex is None:
        errors.append(f"Sex: {get('sex')!r} is not recognised; use F, M or U")
    grade = get("grade")
    for problem in validate_patient(  # sex is checked above, with the words a spreadsheet may hold
        first_name=get("first_name"),
        last_name=get("last_name"),
        date_of_birth=get("date_of_birth"),
        today=today,
        phone=get("phone"),
        guardian=get("guardian"),
        school=get("school"),
        grade=grade,
    ):
        (errors if problem.level == Level.ERROR else warnings).append(problem.message)
    state = get("state").upper()
    if state and not _STATE.match(state):
        errors.append(f"State: {get('state')!r} must be the two-letter state code, e.g. TX")
    postal = get("postal_code")
    if postal and not _ZIP.match(postal):
        errors.append(f"Postal code: {postal!r} must be a ZIP code: 12345 or 12345-6789")

    coverage: ImportedCoverage | None = None
    payer_columns = [get(c) for c in ("payer_kind", "payer_name", "payer_id", "member_id")]
    if any(payer_columns):
        kind_text = get("payer_kind").lower()
        kind_value = _PAYER_WORDS.get(kind_text, kind_text)
        for problem in validate_coverage(payer_kind=kind_value or None, member_id=get("member_id"), payer_name=get("payer_name")):
            message = problem.message
            if problem.field == "payer_kind" and not kind_text:
                message = "Payer kind: required when other payer columns are filled; " + message.split(": ", 1)[1]
            (errors if problem.level == Level.ERROR else warnings).append(message)
        if kind_value in {kind.value for kind in PayerKind}:
            coverage = ImportedCoverage(PayerKind(kind_value), get("payer_name"), get("payer_id"), get("member_id"))

    diagnoses = _parse_codes(get("diagnosis_codes"), DiagnosisRole.TREATMENT, 1, errors, warnings)
    diagnoses += _parse_codes(get("medical_diagnosis_codes"), DiagnosisRole.MEDICAL, len(diagnoses) + 1, errors, warnings)
    for code_a, code_b, reason in excludes1_conflicts([d.code for d in diagnoses]):
        warnings.append(f"Diagnoses: {code_a} with {code_b}: {reason}")

    if errors:
        return None, errors
    birth = parse_date(get("date_of_birth"), "Date of birth")
    return (
        ImportedPatient(
            line=line,
            external_id=get("external_id"),
            last_name=get("last_name"),
            first_name=get("first_name"),
            date_of_birth=birth,
            sex=sex or Sex.UNKNOWN,
            phone=get("phone"),
            address_line1=get("address_line1"),
            address_line2=get("address_line2"),
            city=get("city"),
            state=state,
            postal_code=postal,
            guardian=get("guardian"),
            school=get("school"),
            grade=(normalize_grade(grade) or "") if grade else "",
            coverage=coverage,
            diagnoses=tuple(diagnoses),
            warnings=tuple(warnings),
        ),
        [],
    )


def parse_patient_csv(
    source: str | TextIO, *, today: dt.date, existing_ids: Collection[str] = ()
) -> ImportResult:
    """Dry-run a patient CSV (text or an open text file); nothing is saved."""
    handle = io.StringIO(source) if isinstance(source, str) else source
    result = ImportResult()
    reader = csv.reader(handle)
    try:
        header = next(reader)
    except StopIteration:
        result.file_errors.append("The file is empty; the first line must name the columns")
        return result
    except csv.Error as exc:
        result.file_errors.append(f"Line 1: cannot read the header ({exc})")
        return result
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    keys = [_header_key(name) for name in header]
    missing = [column for column in REQUIRED_COLUMNS if column not in keys]
    if missing:
        result.file_errors.append(
            f"Missing column(s): {', '.join(missing)}; the first line must name the columns (see the import help)"
        )
        return result
    repeated = sorted({key for key in keys if key and keys.count(key) > 1})
    if repeated:
        result.file_errors.append(f"Column(s) named twice: {', '.join(repeated)}; keep one of each")
        return result
    unknown = [name for name, key in zip(header, keys) if key not in COLUMNS]
    if unknown:
        result.notices.append(f"Ignored column(s): {', '.join(unknown)}")

    existing = {identifier.strip() for identifier in existing_ids}
    seen_in_file: dict[str, int] = {}
    while True:
        start_line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            result.errors.append(RowProblem(start_line, "", f"cannot read this line ({exc})"))
            break
        line = start_line
        if not any(cell.strip() for cell in cells):
            continue
        external_id = cells[keys.index("external_id")].strip() if len(cells) > keys.index("external_id") else ""
        if len(cells) > len(keys):
            result.errors.append(
                RowProblem(line, external_id, f"has {len(cells)} values but the header names {len(keys)} columns; check for an unquoted comma")
            )
            continue
        values = {key: cells[index] if index < len(cells) else "" for index, key in enumerate(keys) if key in COLUMNS}
        if external_id and external_id in existing:
            result.duplicates.append(RowProblem(line, external_id, f"{external_id} is already in slpterm; not imported"))
            continue
        if external_id and external_id in seen_in_file:
            result.errors.append(
                RowProblem(line, external_id, f"external_id {external_id} is already used on line {seen_in_file[external_id]}")
            )
            continue
        patient, problems = _row(values, line, today)
        if patient is None:
            result.errors.append(RowProblem(line, external_id, "; ".join(problems)))
        else:
            result.patients.append(patient)
        if external_id:
            seen_in_file[external_id] = line
    return result


def read_patient_csv(path: Path, *, today: dt.date, existing_ids: Collection[str] = ()) -> ImportResult:
    """Dry-run a patient CSV file on disk."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return parse_patient_csv(handle, today=today, existing_ids=existing_ids)
    except UnicodeDecodeError:
        result = ImportResult()
        result.file_errors.append(f"{path.name} is not UTF-8 text; save it from the spreadsheet as 'CSV UTF-8'")
        return result
    except FileNotFoundError:
        result = ImportResult()
        result.file_errors.append(f"{path} does not exist")
        return result

"""The coded claim: service lines, scrubber findings and the result of coding one encounter.

The coding engine (``slpterm.coding``) produces these records; encounter records
(``slpterm.domain.encounter``) and the exporters read them. They live on the ground floor so
that readers need not depend on the engine. Money is Decimal, dates are datetime.date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from slpterm.domain.vocab import Severity


@dataclass(frozen=True, slots=True)
class ClaimLine:
    """One service line: code, up to four modifiers, units, total charge and pointers (1-based)."""

    code: str
    modifiers: tuple[str, ...]
    units: int
    charge: Decimal
    place_of_service: str
    diagnosis_pointers: tuple[int, ...]
    rendering_npi: str
    minutes: int
    date_of_service: date


@dataclass(frozen=True, slots=True)
class Finding:
    """A scrubber finding. `code` is a stable kebab-case identifier; `line` indexes `lines`."""

    severity: Severity
    code: str
    message: str
    fix: str
    line: int | None = None


@dataclass(frozen=True, slots=True)
class CodingResult:
    """The coded encounter: claim lines, findings and the diagnoses in pointer order."""

    session_id: str
    lines: tuple[ClaimLine, ...]
    findings: tuple[Finding, ...]
    diagnoses: tuple[str, ...]
    place_of_service: str

    @property
    def blocked(self) -> bool:
        """True when any finding is an error: the encounter must not be exported."""
        return any(f.severity is Severity.ERROR for f in self.findings)

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.WARNING)

    @property
    def finding_codes(self) -> tuple[str, ...]:
        return tuple(f.code for f in self.findings)

    @property
    def total_charge(self) -> Decimal:
        return sum((line.charge for line in self.lines), Decimal("0"))

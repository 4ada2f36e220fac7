"""Checks for the identifiers that payers reject when malformed (NPI, EIN)."""

from __future__ import annotations

import re
from functools import lru_cache

_NPI_PATTERN = re.compile(r"^\d{10}$")
_EIN_PATTERN = re.compile(r"^\d{2}-?\d{7}$")


def _luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


@lru_cache(maxsize=4096)  # a clinic has a few NPIs, checked once per claim
def npi_problem(npi: str) -> str | None:
    """Return why an NPI is unusable, or None when it is a well-formed NPI.

    An NPI is 10 digits whose last digit is a Luhn check digit computed over the
    prefix 80840 followed by the first nine digits.
    """
    value = (npi or "").strip()
    if not value:
        return "NPI is empty; enter the 10-digit National Provider Identifier"
    if not _NPI_PATTERN.match(value):
        return "NPI must be exactly 10 digits"
    if not _luhn_valid("80840" + value):
        return "NPI check digit is wrong; re-check the number on the NPPES record"
    return None


def npi_is_valid(npi: str) -> bool:
    return npi_problem(npi) is None


def ein_problem(ein: str) -> str | None:
    """Return why a federal tax ID (EIN) is unusable, or None when it is well formed."""
    value = (ein or "").strip()
    if not value:
        return "Tax ID is empty; enter the 9-digit EIN (NN-NNNNNNN)"
    if not _EIN_PATTERN.match(value):
        return "Tax ID must be 9 digits, written NN-NNNNNNN"
    return None


def make_npi(first_nine: str) -> str:
    """Complete nine digits into a valid NPI by appending the check digit (used by the demo)."""
    if not re.fullmatch(r"\d{9}", first_nine):
        raise ValueError("an NPI prefix is nine digits")
    for check in range(10):
        candidate = first_nine + str(check)
        if _luhn_valid("80840" + candidate):
            return candidate
    raise AssertionError("unreachable: one check digit always fits")

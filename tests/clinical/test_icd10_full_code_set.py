"""Cross-checks the bundled SLP list against the shipped whole code set (FY2026 and FY2027)."""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from slpterm.clinical import icd10
from slpterm.clinical.data import rules_path


def _rows():
    with rules_path("icd10_slp.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("day", [dt.date(2026, 9, 30), dt.date(2026, 10, 1)])
def test_bundled_codes_exist_and_billable_flags_match_the_whole_code_set(day):
    wrong = [row["code"] for row in _rows()
             if (icd10.check_code(row["code"], on=day).status == icd10.CodeStatus.BILLABLE) != (row["billable"] == "true")]
    assert wrong == []

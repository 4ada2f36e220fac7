"""Cross-checks the bundled list against the full CMS code set when simple-icd-10-cm is installed."""

from __future__ import annotations

import csv
import warnings

import pytest

from slpterm.clinical.data import rules_path


def test_bundled_codes_exist_and_billable_flags_match_the_cms_code_set():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cm = pytest.importorskip("simple_icd_10_cm")
    with rules_path("icd10_slp.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    wrong = [
        row["code"]
        for row in rows
        if not cm.is_valid_item(row["code"]) or cm.is_leaf(row["code"]) != (row["billable"] == "true")
    ]
    assert wrong == []

"""check_lines: claim lines edited by hand are held to the same rules."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from slpterm.coding import ClaimLine, check_lines, code_encounter
from slpterm.domain.vocab import PayerKind

from .factory import DOS, RENDERING_NPI, make_facts


def line(code="92507", modifiers=("GN",), units=1, pointers=(1, 2)) -> ClaimLine:
    return ClaimLine(code, tuple(modifiers), units, Decimal("120"), "11", tuple(pointers), RENDERING_NPI, 45, DOS)


ROWS = [
    ([line(modifiers=())], "missing-gn"),
    ([line(modifiers=("KX", "95", "GN"))], "gn-position"),
    ([line(modifiers=("GN", "CQ"))], "modifier-not-for-slp"),
    ([line(modifiers=("GN", "GP"))], "modifier-not-for-slp"),
    ([line(modifiers=("GN", "XU", "95", "KX", "97"))], "too-many-modifiers"),
    ([line(code="96125", modifiers=("GN", "59", "XU"))], "59-with-x-modifier"),
    ([line(code="97130")], "addon-without-primary"),
    ([line(units=2)], "untimed-units"),
    ([line(units=0)], "zero-units"),
    ([line(code="92999")], "code-not-in-codeset"),
    ([line(code="97530")], "slp-code-not-allowed"),
    ([line(pointers=())], "bad-diagnosis-pointer"),
    ([line(pointers=(1, 3))], "bad-diagnosis-pointer"),
]


@pytest.mark.parametrize("lines, code", ROWS, ids=[row[1] + f"-{i}" for i, row in enumerate(ROWS)])
def test_edited_lines_are_checked(rulebook, lines, code):
    findings = check_lines(make_facts(), lines, rulebook, diagnoses_count=2)
    assert code in [f.code for f in findings]
    assert all(f.line == 0 for f in findings)


def test_engine_output_passes_check_lines(rulebook):
    facts = make_facts()
    result = code_encounter(facts, rulebook)
    assert check_lines(facts, result.lines, rulebook, len(result.diagnoses)) == []


def test_gn_not_demanded_when_payer_does_not_require_it(rulebook):
    facts = make_facts(payer_kind=PayerKind.SCHOOL)
    assert check_lines(facts, [replace(line(), modifiers=())], rulebook, 2) == []

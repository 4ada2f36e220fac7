"""Payer-policy fields are declared once on PayerPolicy: the rules-file schema, the payer-rules
screen's form and the docs table follow from the declaration."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from slpterm.coding.rulebook import PayerPolicy, RuleBookError, load_rulebook, policy_fields, policy_fields_markdown
from slpterm.services import billing_settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules-format.md"


def test_the_docs_table_is_the_declaration():
    text = DOCS.read_text(encoding="utf-8")
    table = re.search(r"<!-- policy-fields:start -->\n(.*?)<!-- policy-fields:end -->", text, re.S)
    assert table is not None and table.group(1) == policy_fields_markdown(), (
        "docs/rules-format.md's policy-field table is out of date: put the text of "
        "slpterm.coding.rulebook.policy_fields_markdown() between its policy-fields markers")


def test_every_policy_field_is_a_declared_payer_policy_field():
    declared = policy_fields()
    attributes = {f.name for f in dataclasses.fields(PayerPolicy)}
    assert set(declared) == attributes - {"payer_kind", "valid_from", "valid_to", "source", "payer_id"}
    assert all(spec.label and len(spec.label) <= 26 and spec.help for spec in declared.values())
    assert billing_settings.EDITABLE_POLICY_FIELDS == tuple(name for name, spec in declared.items() if spec.editable)


def test_an_override_of_each_kind_is_checked_by_the_declaration():
    with pytest.raises(RuleBookError) as caught:
        load_rulebook(payer_overrides={"ACME": {"telehealth_modifier": "GQ", "untimed_units_codes": "92507",
                                                "telehealth_covered_until": "soon", "max_group_size": 1}})
    report = str(caught.value)
    assert "payer 'ACME': 'telehealth_modifier' has the invalid value 'GQ'. Fix: write telehealth_modifier = " \
           '"95" or "GT" or "none"' in report
    assert "'untimed_units_codes' has the invalid value '92507'. Fix: write untimed_units_codes = [\"92507\"]" in report
    assert "'telehealth_covered_until' has the invalid value 'soon'" in report
    assert "max_group_size must be at least 2" in report
    book = load_rulebook(payer_overrides={"ACME": {"telehealth_modifier": "none", "untimed_units": "fifteen_minute",
                                                   "untimed_units_codes": ["92507"]}})
    (override,) = [o for o in book.overrides if o.payer_id == "ACME"]
    assert override.values == {"telehealth_modifier": "", "untimed_units": "fifteen_minute",
                               "untimed_units_codes": frozenset({"92507"})}


def test_the_screen_texts_round_trip_for_every_kind():
    in_force = {"gn_required": True, "telehealth_modifier": "", "untimed_units_codes": frozenset({"92507"}),
                "max_group_size": 4}
    texts = {"gn_required": "true", "telehealth_modifier": "none", "untimed_units_codes": "92507, 92526",
             "max_group_size": "4"}
    assert billing_settings.override_values({}, in_force, texts) == {"untimed_units_codes": ["92507", "92526"]}
    assert billing_settings.field_text("untimed_units_codes", frozenset({"92526", "92507"})) == "92507, 92526"


async def test_a_field_marked_editable_is_on_the_payer_rules_screen_for_free(tmp_path, monkeypatch):
    """The screen builds its form from the declaration: an editable codes field gets a text input
    showing the codes in force, and what is typed there becomes the payer's override."""
    from datetime import date

    from slpterm.store import open_store
    from slpterm.ui.app import build_app
    from slpterm.ui.screens.billing_settings import PayerPolicyScreen

    specs = dict(policy_fields())
    specs["untimed_units_codes"] = dataclasses.replace(specs["untimed_units_codes"], editable=True)
    monkeypatch.setattr(billing_settings, "EDITABLE_POLICY_FIELDS", tuple(n for n, s in specs.items() if s.editable))
    monkeypatch.setattr(billing_settings, "policy_fields", lambda: specs)
    store = open_store(tmp_path / "data")
    store.clinic.save_clinic(name="Fictional Speech Clinic", npi="1234567893", tax_id="123456789")
    store.close()
    row = billing_settings.PayerRow("OHP01", "Oregon Health Plan", "medicaid", {})
    in_force = billing_settings.effective_policy("medicaid", "OHP01", date(2026, 3, 2))
    in_force["untimed_units_codes"] = frozenset({"92507"})
    app = build_app(tmp_path / "data")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = PayerPolicyScreen(app.services.billing_settings, row, in_force)
        await app.push_screen(screen)
        await pilot.pause()
        codes = screen.query_one("#policy-untimed_units_codes")
        assert codes.value == "92507"
        assert "15-minute untimed codes" in [str(label.render()) for label in screen.query("Label")]
        codes.value = "92507, 92526"
        assert screen._values() == {"untimed_units_codes": ["92507", "92526"]}

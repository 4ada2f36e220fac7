"""The fee schedule and payer overrides set in settings reach the claim lines."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from conftest import settle_app
from slpterm.services import billing_settings
from slpterm.services.billing import BillingService
from slpterm.store import ValidationFailed, open_store
from slpterm.ui.app import build_app
from slpterm.ui.screens.billing_settings import BillingSettingsScreen, FeeScreen

DAY = date(2026, 11, 2)


def _signed_session(store):
    patient_id = store.caseload.rows()[0].patient_id
    clinician_id = store.clinic.clinicians()[0].id
    chart = store.patients.chart(patient_id)
    goal = chart.goals_by_plan[chart.plans[0].id][0]
    therapy_session, (participant,) = store.sessions.create(
        date_of_service=DAY, session_type="individual_treatment", setting="office", patient_ids=[patient_id],
        clinician_id=clinician_id)
    start = datetime(2026, 11, 2, 16, 0, tzinfo=timezone.utc)
    store.sessions.set_manual_time(therapy_session.id, "speech_sound", start, start + timedelta(minutes=30))
    store.sessions.toggle_technique(participant.id, "ss.minimal_pairs")
    store.sessions.record_trial(participant.id, goal.id, "correct", "independent")
    store.sessions.save_note(participant.id, objective="1/1")
    store.sessions.sign(participant.id, clinician_id)
    return participant.id


@pytest.mark.parametrize("text", ["abc", "-5", "0", "12.345", "nan", "Infinity", ""])
def test_bad_charges_are_refused_naming_the_field(text):
    with pytest.raises(ValidationFailed) as raised:
        billing_settings.parse_charge(text)
    assert raised.value.problems[0][0] == "Charge"


def test_fee_and_payer_override_reach_the_claim_lines(clinic_dir):
    store = open_store(clinic_dir)
    participant_id = _signed_session(store)
    line = BillingService(store, DAY).code_participant(participant_id).lines[0]
    assert line.code == "92507" and "GN" in line.modifiers
    billing_settings.save_fee(store, "92507", "$152.50")
    billing_settings.save_payer_override(store, "OHP01", {"gn_required": False})
    line = BillingService(store, DAY).code_participant(participant_id).lines[0]
    assert line.charge == Decimal("152.50") and "GN" not in line.modifiers
    with pytest.raises(ValidationFailed):
        billing_settings.save_payer_override(store, "OHP01", {"units_method": "whenever"})
    assert [row.overrides for row in billing_settings.payer_rows(store)] == [{"gn_required": False}]
    store.close()


async def test_editing_a_fee_on_screen(clinic_dir, clock):
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle_app(app, pilot)
        app.action_billing_settings()
        await settle_app(app, pilot)
        assert isinstance(app.screen, BillingSettingsScreen)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, FeeScreen)
        code = app.screen.row.code
        app.screen.query_one("#fee-charge").value = "99.5"
        await pilot.press("enter")
        await settle_app(app, pilot)
        assert isinstance(app.screen, BillingSettingsScreen)
    store = open_store(clinic_dir)
    assert store.clinic.fee_schedule()[code] == Decimal("99.50")
    store.close()


async def test_a_payers_15_minute_codes_are_edited_checked_stored_and_shown(clinic_dir, clock):
    from slpterm.ui.screens.billing_settings import PayerPolicyScreen

    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle_app(app, pilot)
        app.action_billing_settings()
        await settle_app(app, pilot)
        settings = app.screen
        settings.query_one("#payers").focus()
        await pilot.press("enter")
        await settle_app(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, PayerPolicyScreen) and dialog.row.payer_id == "OHP01"
        codes = dialog.query_one("#policy-untimed_units_codes")
        dialog.query_one("#policy-untimed_units").value = "fifteen_minute"
        codes.value = "92507, 92999"
        await pilot.press("ctrl+s")
        await settle_app(app, pilot)
        assert app.screen is dialog
        problems = str(dialog.query_one("#policy-problems").render())
        assert "15-minute untimed codes" in problems and "92999 is not a code" in problems
        codes.value = ""
        await pilot.press("ctrl+s")
        await settle_app(app, pilot)
        assert app.screen is dialog and "untimed_units_codes" in str(dialog.query_one("#policy-problems").render())
        codes.value = "92507"
        await pilot.press("ctrl+s")
        await settle_app(app, pilot)
        assert app.screen is settings
        assert "untimed_units_codes=92507" in " ".join(settings.query_one("#payers")._rows[0])
        await pilot.press("enter")
        await settle_app(app, pilot)
        assert app.screen.query_one("#policy-untimed_units_codes").value == "92507"
    store = open_store(clinic_dir)
    (row,) = billing_settings.payer_rows(store)
    assert row.overrides == {"untimed_units": "fifteen_minute", "untimed_units_codes": ["92507"]}
    store.close()

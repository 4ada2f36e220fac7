"""The Rules screen (F5 then ctrl+r, or the command palette): check, install and roll back the
fixture files, recorded in the audit trail."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Static

from slpterm.store import open_store
from slpterm.ui.app import build_app
from slpterm.ui.screens.rules import RulesScreen
from conftest import settle_app

FIXTURES = Path(__file__).parent / "fixtures" / "cms-2027"


async def test_install_and_roll_back_from_the_rules_screen(clinic_dir, clock, tmp_path, monkeypatch):
    monkeypatch.setenv("SLPTERM_CONFIG_DIR", str(tmp_path / "config"))
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle_app(app, pilot)
        await pilot.press("f5")
        await settle_app(app, pilot)
        await pilot.press("ctrl+r")
        await settle_app(app, pilot)
        screen = app.screen
        assert isinstance(screen, RulesScreen)
        overview = str(screen.query_one("#rules-overview", Static).render())
        assert "individual treatment: NOT INSTALLED" in overview
        values = {"rvu": FIXTURES / "PPRRVU2027_JAN.csv", "mue": FIXTURES / "MCR_MUE_PractitionerServices_Eff_01-01-2027.csv",
                  "clinic": FIXTURES / "clinic-install-2027.toml"}
        for name, path in values.items():
            screen.query_one(f"#rules-{name}", Input).value = str(path)
        screen.query_one("#rules-ptp", Input).value = " ".join(
            str(FIXTURES / f"medicare-ncci-2027q1-practitioner-ptp-edits-ccipra-v331r0-f{n}.txt") for n in range(1, 5))
        await pilot.press("ctrl+r")
        await settle_app(app, pilot)
        plan = str(screen.query_one("#rules-plan", Static).render())
        assert "9X106  fluency base  (proposed from the descriptor" in plan and "ctrl+s installs" in plan
        await pilot.press("ctrl+s")
        await settle_app(app, pilot)
        assert "clinic-cpt-2027" in str(screen.query_one("#rules-overview", Static).render())
        await pilot.press("ctrl+z")
        await settle_app(app, pilot)
        assert "individual treatment: NOT INSTALLED" in str(screen.query_one("#rules-overview", Static).render())
    store = open_store(clinic_dir)
    actions = [entry.action for entry in store.security.audit_entries("rules")]
    store.close()
    assert actions[:2] == ["rules-rollback", "rules-install"]

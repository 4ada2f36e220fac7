"""The user's keymap file remaps keys by binding id; a bad file is named, never a traceback; the
chosen theme is remembered across runs."""

from __future__ import annotations

import os
from pathlib import Path

from slpterm.preferences import read_keymap, remembered_theme, unknown_binding_problems
from slpterm.ui.app import build_app
from slpterm.ui.keymap import binding_ids, keymap_reference
from slpterm.ui.screens.caseload import CaseloadScreen
from slpterm.ui.screens.help import HelpScreen, key_sections
from conftest import settle_app

SIZE = (120, 40)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "keymap.md"


def _config() -> Path:
    folder = Path(os.environ["SLPTERM_CONFIG_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _messages(app) -> str:
    return "\n".join(str(notification.message) for notification in app._notifications)


async def test_a_remapped_key_does_what_the_binding_did_and_the_old_key_no_longer_does(clinic_dir, clock):
    (_config() / "keymap.toml").write_text('"app.help" = "f11"\n[app]\nexport = "f9"\n')
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        await pilot.press("f1")
        await settle_app(app, pilot)
        assert isinstance(app.screen, CaseloadScreen)
        await pilot.press("f11")
        await settle_app(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        everywhere = dict((description, key) for key, description in key_sections(app)[0][1])
        assert everywhere["Help"].lower() == "f11" and everywhere["Export"].lower() == "f9"
        await pilot.press("escape")
        await settle_app(app, pilot)
        await pilot.press("f9")
        await settle_app(app, pilot)
        assert type(app.screen).__name__ == "ExportScreen"
        assert "Keymap" not in [notification.title for notification in app._notifications]


async def test_a_bad_keymap_names_each_binding_id_and_the_fix_and_the_good_lines_apply(clinic_dir, clock):
    (_config() / "keymap.toml").write_text('"sesion.sign" = "ctrl+y"\n"app.export" = "ctrl y"\n'
                                           '"app.help" = 7\n"app.settings" = "f11"\n')
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        messages = _messages(app)
        assert "sesion.sign: no binding has this id; did you mean 'session.sign'?" in messages
        assert "app.export: 'ctrl y' is not a key name" in messages
        assert 'app.help: give the key as text in quotes, e.g. app.help = "ctrl+y"' in messages
        await pilot.press("f11")
        await settle_app(app, pilot)
        assert type(app.screen).__name__ == "SettingsScreen"


async def test_a_keymap_that_is_not_toml_is_named_and_the_app_runs_with_its_own_keys(clinic_dir, clock):
    (_config() / "keymap.toml").write_text('app.help = "f11\n')
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        assert "keymap.toml is not valid TOML" in _messages(app)
        await pilot.press("f1")
        await settle_app(app, pilot)
        assert isinstance(app.screen, HelpScreen)


async def test_the_chosen_theme_is_remembered_for_the_next_start(clinic_dir, clock):
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        app.theme = "nord"
        await settle_app(app, pilot)
    assert remembered_theme() == "nord"
    again = build_app(clinic_dir, clock=clock)
    async with again.run_test(size=SIZE) as pilot:
        await settle_app(again, pilot)
        assert again.theme == "nord"


async def test_a_remembered_theme_that_no_longer_exists_is_left_alone(clinic_dir, clock):
    (_config() / "preferences.json").write_text('{"theme": "no-such-theme"}')
    app = build_app(clinic_dir, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle_app(app, pilot)
        assert app.theme == "textual-dark"


def test_keymap_tables_flatten_to_binding_ids(tmp_path):
    path = tmp_path / "keymap.toml"
    path.write_text('[session]\nsign = "ctrl+y"\ntimer = "f5, ctrl+t"\n')
    reading = read_keymap(path)
    assert reading.keymap == {"session.sign": "ctrl+y", "session.timer": "f5,ctrl+t"}
    assert reading.problems == []
    assert unknown_binding_problems(reading.keymap, binding_ids()) == []


def test_the_binding_ids_page_lists_every_binding():
    assert DOCS.read_text().endswith(keymap_reference())

"""Every command takes ``--data-dir`` after its own name as well as before it."""

from __future__ import annotations

import pytest

import slpterm.cli as cli


def _commands(parser, prefix=()):  # noqa: ANN001, ANN202
    for action in parser._actions:
        for name, subcommand in getattr(action, "_name_parser_map", {}).items():
            path = (*prefix, name)
            nested = [a for a in subcommand._actions if getattr(a, "_name_parser_map", None)]
            if nested:
                yield from _commands(subcommand, path)
            else:
                yield path, subcommand


PARSERS = dict(_commands(cli.build_parser()))
COMMANDS = sorted(PARSERS)


def test_the_commands_are_found_at_every_depth():
    assert ("audit", "verify") in COMMANDS and ("rules", "installs") in COMMANDS and ("backup",) in COMMANDS


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_data_dir_is_taken_after_the_command_name(command):
    assert "--data-dir" in PARSERS[command]._option_string_actions


def test_a_data_dir_after_the_command_is_the_one_used(tmp_path, capsys, private_user_folders):
    from slpterm.demo import generate_demo

    generate_demo(tmp_path / "clinic")
    assert cli.main(["audit", "verify", "--data-dir", str(tmp_path / "clinic")]) == 0
    assert cli.main(["backup", "--data-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "b.sqlite3")]) == 2
    assert "nowhere" in capsys.readouterr().err
    assert cli.main(["backup", "--out", str(tmp_path / "b.sqlite3"), "--data-dir", str(tmp_path / "clinic")]) == 0
    assert (tmp_path / "b.sqlite3").exists()

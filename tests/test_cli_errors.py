"""The command turns unexpected failures into one plain line, never a traceback."""

from __future__ import annotations

import pytest

import slpterm.cli as cli


def _failing(*_args, **_kwargs):
    raise RuntimeError("disk gremlins")


def test_an_unexpected_error_is_one_line_and_status_1(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(cli, "_run_restore", _failing)
    monkeypatch.delenv("SLPTERM_DEBUG", raising=False)
    assert cli.main(["restore", str(tmp_path / "backup.sqlite3")]) == 1
    message = capsys.readouterr().err
    assert "unexpected error (RuntimeError: disk gremlins)" in message and "SLPTERM_DEBUG=1" in message
    assert "Traceback" not in message


def test_slpterm_debug_shows_the_details(monkeypatch, tmp_path):
    monkeypatch.setattr(cli, "_run_restore", _failing)
    monkeypatch.setenv("SLPTERM_DEBUG", "1")
    with pytest.raises(RuntimeError, match="disk gremlins"):
        cli.main(["restore", str(tmp_path / "backup.sqlite3")])

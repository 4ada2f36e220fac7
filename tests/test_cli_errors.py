"""The command turns unexpected failures into one plain line, never a traceback; the details go to
a private crash log that carries neither the passphrase nor patient text."""

from __future__ import annotations

import stat

import slpterm.cli as cli

SECRET_NOTE = "Milo cried about his grandmother today"
PASSPHRASE = "hunter22 in the larch"


def _failing(*_args, **_kwargs):
    raise RuntimeError(f"disk gremlins ate {SECRET_NOTE!r}")


def test_an_unexpected_error_is_one_line_and_the_details_go_to_a_private_log(monkeypatch, capsys, tmp_path,
                                                                            private_user_folders):
    monkeypatch.setattr(cli, "_run_restore", _failing)
    assert cli.main(["restore", str(tmp_path / "backup.sqlite3")]) == 1
    message = capsys.readouterr().err
    assert message.count("\n") == 1 and "unexpected error (RuntimeError)" in message
    assert "Traceback" not in message and SECRET_NOTE not in message
    log = private_user_folders / "state" / "crash.log"
    assert str(log) in message
    report = log.read_text()
    assert "RuntimeError" in report and "_failing" in report and SECRET_NOTE not in report
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700


def test_a_database_error_keeps_only_what_sqlite_says_not_the_values(tmp_path, private_user_folders):
    import sqlalchemy.exc

    from slpterm.crash import write_crash_report

    file_name = str(tmp_path / f"{SECRET_NOTE}.md")
    statement, values = "UPDATE soapnote SET plan = ?", (SECRET_NOTE, PASSPHRASE)
    try:
        try:
            raise OSError(28, "No space left on device", file_name)
        except OSError as disk:
            raise sqlalchemy.exc.OperationalError(statement, values, disk) from disk
    except sqlalchemy.exc.OperationalError as error:
        path = write_crash_report(error)
    report = path.read_text()
    assert "No space left on device" in report
    assert SECRET_NOTE not in report and PASSPHRASE not in report and "UPDATE soapnote" not in report
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

"""The ``slpterm`` command: the app by default, and subcommands for scripts."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from slpterm import __version__

if TYPE_CHECKING:
    from slpterm.services.clinic import ClinicServices
    from slpterm.store.store import Store

DESCRIPTION = """\
slpterm: point-of-care notes and claim coding for speech-language pathologists.

Without a command, opens the app on your data directory (see --data-dir).
"""

EPILOG = """\
data directory: --data-dir DIR, else $SLPTERM_DATA_DIR, else the platform's user data folder.
clinic rule files (code sets, NCCI, payer policies): $SLPTERM_CONFIG_DIR/rules, else the
platform's user config folder + /rules.

examples:
  slpterm --demo                          try slpterm on a throwaway fictional clinic
  slpterm demo --out ~/slp-demo           write the demo clinic as a data directory
  slpterm --data-dir ~/slp-demo           open it like real data
  slpterm demo --patients 10000 --sessions 100000 --out /tmp/big   a synthetic clinic
"""


def _only_opens_the_app(argv: list[str]) -> bool:
    """True for the plain app start-up (``slpterm [--data-dir DIR] [--demo]``), which can skip
    importing the subcommands' modules (rules, export, import) to show the first frame sooner."""
    tokens = iter(argv)
    for token in tokens:
        if token == "--data-dir":
            if next(tokens, None) is None:
                return False
        elif not (token in ("--demo", "--new") or token.startswith("--data-dir=")):
            return False
    return True


def build_parser(with_all_commands: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="slpterm", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"slpterm {__version__}")
    parser.add_argument("--data-dir", metavar="DIR", help="folder holding slpterm.sqlite3")
    parser.add_argument("--demo", action="store_true",
                        help="open a throwaway copy of the fictional demo clinic; your data is not touched")
    parser.add_argument("--new", action="store_true",
                        help="start a new, empty clinic in the data directory if it holds none (without it, "
                             "the app asks first, except at the platform's default location)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser(
        "demo", help="write the demo clinic (or a larger synthetic one) into a data directory",
        description="Write the fictional demo clinic into DIR; with --patients/--sessions, a seeded "
                    "synthetic clinic of that size for benchmarks.",
    )
    demo.add_argument("--out", metavar="DIR", required=True, help="data directory to create (must be empty)")
    demo.add_argument("--patients", type=int, metavar="N", help="number of synthetic patients")
    demo.add_argument("--sessions", type=int, metavar="N", help="number of synthetic sessions")
    demo.add_argument("--seed", type=int, default=None, help="random seed (same seed, same clinic)")

    if with_all_commands:
        from slpterm.coding.cli import add_rules_parser
        from slpterm.export.cli import add_claims_parser, add_export_parser
        from slpterm.services.patient_import import add_import_parser
        from slpterm.services.report_commands import add_report_parsers
        from slpterm.services.schedule_commands import add_schedule_parser

        add_rules_parser(commands)
        add_export_parser(commands)
        add_claims_parser(commands)
        add_import_parser(commands)
        add_report_parsers(commands)
        add_schedule_parser(commands)

    backup = commands.add_parser("backup", help="write a consistent copy of the data file (safe while the app runs)",
                                 description="Write a consistent copy of the data file, encrypted like the data. "
                                             "Default: DATA_DIR/backups/slpterm-backup-<time>.sqlite3.")
    backup.add_argument("--out", metavar="FILE", help="where to write the backup")
    restore = commands.add_parser("restore", help="replace the data file with a checked backup",
                                  description="Check FILE (integrity, schema version, passphrase) and only then "
                                              "replace the data file with it; the replaced file is kept beside it.")
    restore.add_argument("file", metavar="FILE")
    restore.add_argument("--other-clinic", action="store_true",
                         help="restore even though FILE is a backup of another clinic's data file")
    audit = commands.add_parser("audit", help="verify or list the tamper-evident audit trail")
    audit_commands = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = audit_commands.add_parser(
        "verify", help="check the chain, its anchors and every signature; names each problem",
        description="Check the audit trail in one pass (order, links, seals, the anchors kept outside the data "
                    "file) and every signed note against its signature. Exit status 1 when anything does not hold.")
    verify.add_argument("--anchor", metavar="FILE", action="append", default=[],
                        help="also check against an anchor written beside an export batch, or against a backup "
                             "file (may be given more than once)")
    listing = audit_commands.add_parser("list", help="print audit entries, newest first")
    listing.add_argument("--filter", default="", help="only entries whose actor, action or detail contain this")
    listing.add_argument("--limit", type=int, default=50)
    for subcommand in _every_subcommand(parser):
        subcommand.add_argument("--data-dir", metavar="DIR", default=argparse.SUPPRESS,
                                help="data directory (as for the app)")
    return parser


def _every_subcommand(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """Each command's parser at any depth, so that ``--data-dir`` is taken after any command name."""
    for action in parser._actions:
        for subcommand in getattr(action, "_name_parser_map", {}).values():
            yield subcommand
            yield from _every_subcommand(subcommand)


def _fail(message: str, status: int = 2) -> int:
    print(f"slpterm: {message}", file=sys.stderr)
    return status


def _run_demo_command(args: argparse.Namespace) -> int:
    from slpterm.demo import DemoTargetNotEmpty, generate_demo, generate_synthetic

    out = Path(args.out).expanduser()
    if out.exists() and any(out.iterdir()):
        return _fail(f"{out} is not empty; choose a new folder for the demo clinic.")
    if (args.patients is None) != (args.sessions is None):
        return _fail("give both --patients and --sessions for a synthetic clinic, or neither for the demo.")
    if args.patients is not None and (args.patients < 1 or args.sessions < 0):
        return _fail("--patients must be at least 1 and --sessions zero or more.")
    seed_args = {} if args.seed is None else {"seed": args.seed}
    try:
        if args.patients is None:
            summary = generate_demo(out, **seed_args)
        else:
            summary = generate_synthetic(out, patients=args.patients, sessions=args.sessions, **seed_args)
    except DemoTargetNotEmpty as error:
        return _fail(str(error))
    print(f"Wrote a clinic of {summary.patients} patients, {summary.sessions} sessions and {summary.trials} trials "
          f"to {out} in {summary.seconds:.1f} s ({summary.file_bytes / 1e6:.1f} MB).")
    print(f"Open it with: slpterm --data-dir {out}")
    return 0


PASSPHRASE_VARIABLE = "SLPTERM_PASSPHRASE"


def _passphrase(prompt: str = "Passphrase of the slpterm data file: ") -> str | None:
    """From $SLPTERM_PASSPHRASE, else asked on the terminal; None when neither is possible."""
    if os.environ.get(PASSPHRASE_VARIABLE):
        return os.environ[PASSPHRASE_VARIABLE]
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass(prompt)
    return None


def _no_clinic_message(data_dir: Path) -> str | None:
    """Commands never start a new clinic: a data directory without a data file is a mistake to report."""
    from slpterm.store.db import DATABASE_FILE_NAME, ENCRYPTED_MARKER_NAME

    if (data_dir / DATABASE_FILE_NAME).exists() or (data_dir / ENCRYPTED_MARKER_NAME).exists():
        return None  # the store checks the file itself (and refuses an emptied encrypted one)
    where = "does not exist" if not data_dir.exists() else f"holds no {DATABASE_FILE_NAME}"
    return (f"the data directory {data_dir} {where}, so there is no clinic to use. Check --data-dir or "
            f"SLPTERM_DATA_DIR; to start a new clinic there, open the app with: slpterm --new --data-dir {data_dir}")


def _open_for_command(data_dir: Path) -> Store:
    from slpterm.domain.errors import PassphraseRequired, StoreError
    from slpterm.services.opening import open_data_folder

    problem = _no_clinic_message(data_dir)
    if problem is not None:
        raise StoreError(problem)
    try:
        return open_data_folder(data_dir)
    except PassphraseRequired:
        passphrase = _passphrase()
        if passphrase is None:
            raise PassphraseRequired(
                f"The data file in {data_dir} is encrypted: set {PASSPHRASE_VARIABLE} or run the command in a "
                "terminal to be asked for the passphrase."
            ) from None
        return open_data_folder(data_dir, passphrase, where="command")  # a wrong one is noted at once


def _with_store(args: argparse.Namespace, module_name: str, function_name: str) -> int:
    """Run a command function ``(args, store) -> int`` on the data directory."""
    import importlib

    command = getattr(importlib.import_module(module_name), function_name)
    return _with_services(args, lambda services, store: command(args, store))


def _with_services(args: argparse.Namespace, command: Callable[[ClinicServices, Store], int]) -> int:
    """Run ``command(services, store)`` on the data directory, its audit trail checked first and
    anchored after. The services are what a command uses; the store is still handed to the command
    modules (export, report, import) that take it."""
    from slpterm import paths
    from slpterm.services.clinic import build_services

    store = _open_for_command(paths.data_dir(args.data_dir))
    services = build_services(store)
    try:
        tampered = services.security.opened_for_a_command()
        if tampered and args.command != "audit":
            print(f"slpterm: warning: {tampered}", file=sys.stderr)
        return command(services, store)
    finally:
        services.security.write_anchor(f"slpterm {args.command}")
        store.close()


def _run_backup(args: argparse.Namespace, services: ClinicServices) -> int:
    security = services.security
    target = security.backup(Path(args.out).expanduser() if args.out else None)
    print(f"Backup written to {target}" + (" (encrypted with the data file's passphrase)" if security.encrypted
                                           else " (not encrypted: the data file has no passphrase)"))
    unprotected = security.plaintext_backups() if security.encrypted else []
    if unprotected:
        print(f"{len(unprotected)} older backup(s) in {unprotected[0].parent} were made before encryption and are "
              "not encrypted; re-encrypt or delete them under Security (F12) in the app.")
    return 0


def _run_audit(args: argparse.Namespace, services: ClinicServices, store: Store) -> int:
    security = services.security
    if args.audit_command == "verify":
        extra = [_anchor_from(Path(name).expanduser(), store) for name in args.anchor]
        report = security.verify(extra_anchors=extra)
        for note in report.notes:
            print(f"Note: {note}")
        chain = report.chain
        sealed = "sealed with the passphrase's key" if report.keyed else "hashed (not keyed: no passphrase)"
        if report.ok:
            print(f"OK: the audit trail's {chain.entries} entries form an unbroken chain, {sealed}; "
                  f"{chain.anchors_checked} anchor(s) match and every signed note matches its signature.")
            return 0
        first = report.breaks[0]
        print(f"The audit trail does not hold ({report.problem_count} problem(s)); the first is at entry {first.seq}:")
        for problem in report.breaks:
            print(f"  entry {problem.seq}: {problem.reason}" if problem.seq else f"  {problem.reason}")
        if report.problem_count > len(report.breaks):
            print(f"  ... and {report.problem_count - len(report.breaks)} more")
        return 1
    for entry in security.audit_entries(args.filter, limit=args.limit):
        local = entry.at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        print(f"{entry.seq:>7}  {local}  {entry.actor:<24.24}  {entry.action:<16.16}  {entry.entity:<18.18}  "
              f"{entry.detail[:60]}")
    return 0


def _anchor_from(path: Path, store):  # noqa: ANN001, ANN202
    """The anchor in FILE: one written beside an export batch, or the head of a backup's trail."""
    from slpterm.store import crypto
    from slpterm.store.anchors import read_anchor_record
    from slpterm.store.backup import backup_head
    from slpterm.store.errors import StoreError

    if not path.is_file():
        raise StoreError(f"{path} does not exist.")
    if crypto.is_encrypted_file(path) or crypto.is_plain_sqlite_file(path):
        passphrase = store.db.passphrase if crypto.is_encrypted_file(path) else None
        identity, anchor = backup_head(path, passphrase)
    else:
        try:
            identity, anchor = read_anchor_record(path)
        except ValueError as error:
            raise StoreError(f"{path} is neither an slpterm backup nor an audit anchor.") from error
    if identity and identity != store.clinic.identity():
        raise StoreError(f"{path} belongs to another data file (identity {identity}); it says nothing about this one.")
    return anchor


def _run_restore(args: argparse.Namespace) -> int:
    from slpterm import paths
    from slpterm.store import crypto
    from slpterm.store.backup import OtherClinicBackup, restore_store
    from slpterm.store.db import DATABASE_FILE_NAME, ENCRYPTED_MARKER_NAME

    file = Path(args.file).expanduser()
    data_dir = paths.data_dir(args.data_dir)
    current = data_dir / DATABASE_FILE_NAME
    current_encrypted = crypto.is_encrypted_file(current) or (data_dir / ENCRYPTED_MARKER_NAME).exists()
    passphrase = None
    if file.is_file() and crypto.is_encrypted_file(file):
        passphrase = _passphrase("Passphrase of the backup: ")
        if passphrase is None:
            return _fail(f"{file} is encrypted: set {PASSPHRASE_VARIABLE} or run the command in a terminal to be "
                         "asked for its passphrase. Nothing was changed.")
    elif file.is_file() and current_encrypted:
        passphrase = _passphrase("Passphrase of the slpterm data file (the restored copy is encrypted with it): ")
        if passphrase is None:
            return _fail(f"The data file is encrypted and {file} is not: set {PASSPHRASE_VARIABLE} or run the command "
                         "in a terminal to be asked for the passphrase, so the restored copy is encrypted too. "
                         "Nothing was changed.")
    try:
        report = restore_store(data_dir, file, passphrase, other_clinic=args.other_clinic)
    except OtherClinicBackup as error:
        if not sys.stdin.isatty():
            raise
        print(f"slpterm: {error}", file=sys.stderr)
        try:
            answer = input("Restore this other clinic's backup anyway? Type yes to go on: ")
        except EOFError:
            answer = ""
        if answer.strip().lower() != "yes":
            return _fail("nothing was changed.", status=1)
        report = restore_store(data_dir, file, passphrase, other_clinic=True)
    print(f"Restored from {report.restored_from} (schema version {report.schema_version}).")
    if report.encrypted_on_restore:
        print("The backup was not encrypted; the restored data file is encrypted with the data file's passphrase.")
    if report.replaced_copy:
        print(f"The replaced data file is kept as {report.replaced_copy}")
    return 0


def _run_app(args: argparse.Namespace) -> int:
    import gc

    from slpterm import paths

    # Building the interface makes many objects and little garbage, so the cyclic collector waits
    # until the first frame is painted (the app turns it back on then).
    gc.disable()
    preview = None
    if not args.demo:
        from slpterm.services.opening import CaseloadPreviewReader, database_file

        # Started before the user interface is imported, so reading overlaps importing.
        preview = CaseloadPreviewReader(database_file(paths.data_dir(args.data_dir)))
    from slpterm.ui.app import build_app

    if args.demo:
        import signal

        with tempfile.TemporaryDirectory(prefix="slpterm-demo-") as scratch:
            app = build_app(Path(scratch), demo_source=Path(scratch), owns_process=True)
            # A closed terminal or a kill still ends the app normally, so the throwaway copy is removed.
            for number in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
                if number is not None:
                    signal.signal(number, lambda *_: app.exit())
            app.run()
            return app.return_code or 0
    # A folder named on purpose (--data-dir, $SLPTERM_DATA_DIR) without a clinic is asked about first;
    # the platform's default location is simply the first run.
    named = bool(args.data_dir or os.environ.get(paths.DATA_DIR_VARIABLE))
    app = build_app(paths.data_dir(args.data_dir), caseload_preview=preview, owns_process=True,
                    ask_before_creating=named and not args.new)
    app.run()
    return app.return_code or 0


def main(argv: list[str] | None = None) -> int:
    from slpterm import paths

    paths.restrict_new_files()
    parser = build_parser(with_all_commands=not _only_opens_the_app(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(argv)
    if args.command is None:
        threading.excepthook = _log_thread_crash  # a traceback printed from a thread would land on the screen
        return _run(args)
    with _printable_output():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    try:
        if args.command == "demo":
            return _run_demo_command(args)
        if args.command == "export":
            return _with_store(args, "slpterm.services.exporting", "run_export_command")
        if args.command == "claims" and args.claims_command == "import":
            return _with_store(args, "slpterm.services.remittances", "run_import_command")
        if args.command == "claims":
            return _with_store(args, "slpterm.services.claims", "run_claims")
        if args.command == "report":
            return _with_store(args, "slpterm.services.report_commands", "run_report")
        if args.command == "service-log":
            return _with_store(args, "slpterm.services.report_commands", "run_service_log")
        if args.command == "schedule":
            from slpterm.services.schedule_commands import run_schedule

            return _with_services(args, lambda services, _store: run_schedule(args, services))
        if args.command == "import-patients":
            return _with_store(args, "slpterm.services.patient_import", "run_import")
        if args.command == "backup":
            return _with_services(args, lambda services, _store: _run_backup(args, services))
        if args.command == "audit":
            return _with_services(args, lambda services, store: _run_audit(args, services, store))
        if args.command == "restore":
            return _run_restore(args)
        if args.command == "rules":
            from slpterm import paths
            from slpterm.coding.cli import run_rules

            if args.rules_command in ("install", "rollback"):  # recorded in the data file's audit trail
                from slpterm.services.clinic import build_services

                store = _open_for_command(paths.data_dir(getattr(args, "data_dir", None)))
                services = build_services(store)
                try:
                    args.actor = services.clinic.actor
                    return run_rules(args, paths.clinic_rules_dir(), record=services.security.record)
                finally:
                    store.close()
            return run_rules(args, paths.clinic_rules_dir())
        return _run_app(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `slpterm audit list | head`): stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except IsADirectoryError as error:
        return _fail(f"{error.filename} is a folder; give a file name, e.g. {error.filename}/file.csv")
    except OSError as error:
        return _fail(f"{error.filename or 'a file'}: {error.strerror or error}")
    except Exception as error:  # noqa: BLE001
        from slpterm.domain.errors import StoreError

        if isinstance(error, StoreError):
            return _fail(str(error))
        from slpterm.crash import where_reported, write_crash_report

        return _fail(f"unexpected error ({type(error).__name__}); nothing more was changed. "
                     f"{where_reported(write_crash_report(error))}", status=1)


def _log_thread_crash(hook_args) -> None:  # noqa: ANN001
    from slpterm.crash import write_crash_report

    if hook_args.exc_value is not None and not isinstance(hook_args.exc_value, SystemExit):
        write_crash_report(hook_args.exc_value)


class _PrintableStream(io.TextIOBase):
    """Command output with escape sequences and control characters of the data taken out, so a
    name or a note can never drive the terminal (see :func:`slpterm.domain.text.printable`)."""

    def __init__(self, stream) -> None:  # noqa: ANN001
        super().__init__()
        self._stream = stream

    def write(self, text: str) -> int:
        from slpterm.domain.text import printable

        self._stream.write(printable(text, multiline=True))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def fileno(self) -> int:
        return self._stream.fileno()

    def isatty(self) -> bool:
        return self._stream.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", "utf-8")

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self._stream, "errors", None)

    def writable(self) -> bool:
        return True


@contextlib.contextmanager
def _printable_output():  # noqa: ANN202
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _PrintableStream(sys.stdout), _PrintableStream(sys.stderr)
    try:
        yield
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        sys.stdout, sys.stderr = saved


if __name__ == "__main__":
    sys.exit(main())

"""The ``slpterm`` command: the app by default, and subcommands for scripts."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from slpterm import __version__

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="slpterm", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"slpterm {__version__}")
    parser.add_argument("--data-dir", metavar="DIR", help="folder holding slpterm.sqlite3 (created if missing)")
    parser.add_argument("--demo", action="store_true",
                        help="open a throwaway copy of the fictional demo clinic; your data is not touched")
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

    from slpterm.coding.cli import add_rules_parser
    from slpterm.export.cli import add_export_parser
    from slpterm.services.patient_import import add_import_parser

    add_rules_parser(commands)
    add_export_parser(commands)
    add_import_parser(commands)
    for subcommand in commands.choices.values():
        subcommand.add_argument("--data-dir", metavar="DIR", default=argparse.SUPPRESS,
                                help="data directory (as for the app)")
    return parser


def _fail(message: str, status: int = 2) -> int:
    print(f"slpterm: {message}", file=sys.stderr)
    return status


def _run_demo_command(args: argparse.Namespace) -> int:
    from slpterm.demo import generate_demo, generate_synthetic

    out = Path(args.out).expanduser()
    if out.exists() and any(out.iterdir()):
        return _fail(f"{out} is not empty; choose a new folder for the demo clinic.")
    if (args.patients is None) != (args.sessions is None):
        return _fail("give both --patients and --sessions for a synthetic clinic, or neither for the demo.")
    if args.patients is not None and (args.patients < 1 or args.sessions < 0):
        return _fail("--patients must be at least 1 and --sessions zero or more.")
    seed_args = {} if args.seed is None else {"seed": args.seed}
    if args.patients is None:
        summary = generate_demo(out, **seed_args)
    else:
        summary = generate_synthetic(out, patients=args.patients, sessions=args.sessions, **seed_args)
    print(f"Wrote {summary} to {out}")
    print(f"Open it with: slpterm --data-dir {out}")
    return 0


def _with_store(args: argparse.Namespace, module_name: str, function_name: str) -> int:
    """Run a command function ``(args, store) -> int`` on the data directory."""
    import importlib

    from slpterm import paths
    from slpterm.store import open_store

    store = open_store(paths.data_dir(args.data_dir))
    try:
        return getattr(importlib.import_module(module_name), function_name)(args, store)
    finally:
        store.close()


def _run_app(args: argparse.Namespace) -> int:
    from slpterm import paths
    from slpterm.ui.app import build_app

    if args.demo:
        with tempfile.TemporaryDirectory(prefix="slpterm-demo-") as scratch:
            app = build_app(Path(scratch), demo_source=Path(scratch))
            app.run()
            return app.return_code or 0
    app = build_app(paths.data_dir(args.data_dir))
    app.run()
    return app.return_code or 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            return _run_demo_command(args)
        if args.command == "export":
            return _with_store(args, "slpterm.export.cli", "run_export")
        if args.command == "import-patients":
            return _with_store(args, "slpterm.services.patient_import", "run_import")
        if args.command == "rules":
            from slpterm import paths
            from slpterm.coding.cli import run_rules

            return run_rules(args, paths.clinic_rules_dir())
        return _run_app(args)
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # noqa: BLE001
        from slpterm.store.errors import StoreError

        if isinstance(error, StoreError):
            return _fail(str(error))
        raise


if __name__ == "__main__":
    sys.exit(main())

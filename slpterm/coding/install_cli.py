"""`slpterm rules install | rollback | installs`: the command-line face of slpterm.coding.install."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO
from collections.abc import Callable

from slpterm.coding.install import (
    InstallPlan,
    apply_install,
    plan_install,
    read_manifest,
    record_install,
    record_rollback,
    rollback_last,
)


def _ask(question: str) -> bool:
    if not sys.stdin.isatty():
        return False
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def plan_text(plan: InstallPlan) -> list[str]:
    """The plan as lines for a terminal or the Rules screen."""
    lines = [f"Install for {plan.year or 'an unknown year'}:"]
    lines += [f"  {line}" for line in plan.summary]
    if plan.mapping:
        lines.append("Disorder area and role of each new code:")
        lines += [f"  {m.text()}" for m in plan.mapping]
    if plan.changes:
        lines.append("What changes on which date:")
        lines += [f"  {line}" for line in plan.changes]
    for warning in plan.warnings:
        lines.append(f"NOTE: {warning}")
    for problem in plan.problems:
        lines.append(f"PROBLEM {problem.file}: {problem.entry}: {problem.message}")
        lines.append(f"  fix: {problem.fix}")
    return lines


def run(command: str, args: argparse.Namespace, rules_dir: Path, out: TextIO,
        record: Callable[..., None] | None, confirm: Callable[[str], bool] | None) -> int:
    if command == "installs":
        entries = read_manifest(rules_dir)
        if not entries:
            print(f"No installs in {rules_dir}.", file=out)
        for entry in entries:
            state = f"rolled back {entry['rolled_back']}" if entry.get("rolled_back") else "in force"
            print(f"{entry['id']}  {entry.get('year')}  {state}  by {entry.get('by') or '?'}: {', '.join(entry['files'])}", file=out)
        return 0
    if command == "rollback":
        rolled_back = rollback_last(rules_dir)
        if rolled_back is None:
            print("Nothing to roll back: no install is in force.", file=out)
            return 1
        if record is not None:
            record_rollback(record, rolled_back)
        print(f"Rolled back install {rolled_back['id']}: removed or restored {', '.join(rolled_back['files'])}.", file=out)
        return 0
    given = [args.rvu, args.mue, args.clinic, args.icd10_order, args.icd10_tabular, *args.ptp]
    missing = [str(p) for p in given if p is not None and not Path(p).is_file()]
    if missing:
        print(f"PROBLEM: {', '.join(missing)}: the file does not exist", file=out)
        return 1
    if not any(given):
        print("Give the files to install: --rvu, --ptp (f1-f4), --mue, --clinic, --icd10-order/--icd10-tabular "
              "(see docs/rules-format.md, 'Making slpterm ready for a new year').", file=out)
        return 2
    plan = plan_install(rules_dir, rvu=args.rvu, ptp=args.ptp, mue=args.mue, spec=args.clinic,
                        icd_order=args.icd10_order, icd_tabular=args.icd10_tabular, icd_effective=args.icd10_effective)
    for line in plan_text(plan):
        print(line, file=out)
    if plan.problems:
        print(f"{len(plan.problems)} problem(s): nothing was installed.", file=out)
        return 1
    if not plan.ok:
        print("Nothing to install.", file=out)
        return 1
    if args.dry_run:
        print("Dry run: nothing was written.", file=out)
        return 0
    if plan.needs_confirmation and not args.yes:
        ask = confirm or _ask
        if not ask("Some areas or roles above are proposed from the descriptors. Install with this mapping?"):
            print("Not installed. Confirm with --yes, or write each code's area and role in the clinic TOML.", file=out)
            return 1
    entry = apply_install(plan, rules_dir, actor=getattr(args, "actor", ""))
    if record is not None:
        record_install(record, entry)
    print(f"Installed ({entry['id']}): {', '.join(entry['files'])} in {rules_dir}. 'slpterm rules rollback' undoes it.", file=out)
    return 0

"""The `slpterm rules ...` commands: check a rules file, show the rules in force on a date, and
import the CMS practitioner PTP (NCCI) table.

The app's argument parser calls `add_rules_parser(subparsers)`; its main calls
`run_rules(args, rules_dir)` when `args.command == "rules"`.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import zipfile
from datetime import date, timedelta
from pathlib import Path
from typing import TextIO
from collections.abc import Callable, Iterable

from slpterm.coding.rulebook import (
    CODE_PATTERN,
    NCCI_HEADER,
    NcciPair,
    RuleBook,
    RuleBookError,
    RuleProblem,
    load_rulebook,
    parse_rules_file,
)

IMPORT_FILE_NAME = "ncci-cms-import.csv"


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date; write YYYY-MM-DD") from None


def add_rules_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `rules check FILE`, `rules show [--date YYYY-MM-DD]` and `rules import-ptp FILE`."""
    rules = subparsers.add_parser(
        "rules", help="check, show or import billing rules (code sets, NCCI pairs, payer policies)",
        description="Billing rules are data files: the ones shipped with slpterm plus the clinic's rules folder.",
    )
    commands = rules.add_subparsers(dest="rules_command", metavar="RULES_COMMAND", required=True)
    check = commands.add_parser("check", help="validate a rules file before installing it",
                                description="Validate one rules file (code set, NCCI pairs, payers, KX thresholds, "
                                            "places of service or fees) against the installed rules.")
    check.add_argument("file", type=Path, metavar="FILE")
    show = commands.add_parser("show", help="list the codes, payer policies and KX thresholds in force on a date")
    show.add_argument("--date", type=_iso_date, default=None, metavar="YYYY-MM-DD", help="date of service (default: today)")
    imp = commands.add_parser("import-ptp", help="import the CMS practitioner PTP (NCCI) tables into the rules folder",
                              description="Read the CMS practitioner PTP edits (.zip or tab-delimited .txt; give all four "
                                          "files f1-f4 of a quarter), keep the pairs between codes slpterm knows, and write "
                                          f"{IMPORT_FILE_NAME} into the rules folder.")
    imp.add_argument("file", type=Path, metavar="FILE", nargs="+")
    install = commands.add_parser(
        "install", help="install a year's codes, NCCI pairs, MUE limits and ICD-10-CM release from the CMS files",
        description="Read the files a clinic gets for a new year, propose which new code is which disorder area (you "
                    "confirm it), validate the whole rule set, show what changes on which date, then write the rules "
                    "into the clinic's rules folder (recorded in the audit trail; 'slpterm rules rollback' undoes it).")
    install.add_argument("--rvu", type=Path, metavar="CSV", help="CMS PFS relative value file, e.g. PPRRVU2027_JAN.csv")
    install.add_argument("--ptp", type=Path, metavar="FILE", nargs="+", default=[],
                         help="the four CMS practitioner PTP files of a quarter (...-f1.zip to -f4.zip)")
    install.add_argument("--mue", type=Path, metavar="CSV", help="CMS practitioner MUE file, MCR_MUE_PractitionerServices_Eff_...csv")
    install.add_argument("--clinic", type=Path, metavar="TOML", help="the clinic's install TOML: area and role of each new code")
    install.add_argument("--icd10-order", type=Path, metavar="TXT", help="CMS ICD-10-CM order file of a fiscal year")
    install.add_argument("--icd10-tabular", type=Path, metavar="XML", help="CMS ICD-10-CM tabular XML of the same year")
    install.add_argument("--icd10-effective", type=_iso_date, metavar="YYYY-MM-DD",
                         help="first date of service of that release (default: October 1 before the fiscal year)")
    install.add_argument("--yes", action="store_true", help="accept the proposed area mapping without asking")
    install.add_argument("--dry-run", action="store_true", help="show the plan and the checks; write nothing")
    commands.add_parser("rollback", help="undo the latest 'rules install' (its files go, the files it replaced return)")
    commands.add_parser("installs", help="list the installs made in the clinic's rules folder")
    return rules


def run_rules(args: argparse.Namespace, rules_dir: Path | None, out: TextIO | None = None,
              record: Callable[..., None] | None = None, confirm: Callable[[str], bool] | None = None) -> int:
    """Run a `rules` subcommand; print to stdout and return the exit status (0 ok, 1 problems).

    `record(action, entity, entity_id, detail)` writes the audit trail (install and rollback);
    `confirm(question)` asks the user (default: a y/N prompt on a terminal, else no)."""
    out = out or sys.stdout
    command = getattr(args, "rules_command", None)
    if command == "check":
        return _check(Path(args.file), rules_dir, out)
    if command == "show":
        return _show(args.date or date.today(), rules_dir, out)
    if command == "import-ptp":
        return _import([Path(f) for f in args.file], rules_dir, out)
    if command in ("install", "rollback", "installs"):
        if rules_dir is None:
            print("No clinic rules folder is configured; set one first.", file=out)
            return 1
        from slpterm.coding import install_cli

        return install_cli.run(command, args, Path(rules_dir), out, record, confirm)
    print("Choose a rules command: check, show, import-ptp, install, rollback or installs.", file=out)
    return 2


def _print_problems(problems: Iterable[RuleProblem], out: TextIO) -> None:
    problems = list(problems)
    for problem in problems:
        print(f"PROBLEM {problem.file}: {problem.entry}: {problem.message}", file=out)
        print(f"  fix: {problem.fix}", file=out)
    print(f"{len(problems)} problem(s) found.", file=out)


def _check(path: Path, rules_dir: Path | None, out: TextIO) -> int:
    if not path.is_file():
        _print_problems([RuleProblem(str(path), "file", "does not exist", "check the path")], out)
        return 1
    if path.suffix.lower() == ".toml" and 'kind = "codeset_install"' in path.read_text(encoding="utf-8", errors="replace"):
        from slpterm.coding.install import InstallError, read_clinic_spec

        try:
            spec = read_clinic_spec(path)
        except InstallError as exc:
            _print_problems(exc.problems, out)
            return 1
        print(f"OK: {path}: install TOML for {spec.year}, {len(spec.codes)} codes (install it with 'slpterm rules install --clinic')", file=out)
        return 0
    try:
        parsed = parse_rules_file(path)
        base = load_rulebook(rules_dir) if rules_dir is not None and Path(rules_dir).is_dir() else load_rulebook()
        files = [f for f in base.files if Path(f.path).resolve() != path.resolve()]
        RuleBook([*files, parsed])
    except RuleBookError as exc:
        _print_problems(exc.problems, out)
        return 1
    print(f"OK: {path}: {parsed.summary()}", file=out)
    return 0


def _units_text(code) -> str:
    if code.unit_rule == "once_per_day":
        return "untimed, once per day"
    if code.unit_rule == "addon":
        return f"timed add-on to {code.addon_to}: a unit per {code.unit_minutes} min, from {code.min_minutes} min"
    cap = f", at most {code.max_units}/day" if code.max_units else ""
    return f"timed: {code.unit_minutes}-min units from {code.min_minutes} min{cap}"


def _show(day: date, rules_dir: Path | None, out: TextIO) -> int:
    try:
        rulebook = load_rulebook(rules_dir) if rules_dir is not None and Path(rules_dir).is_dir() else load_rulebook()
    except RuleBookError as exc:
        _print_problems(exc.problems, out)
        return 1
    status = 0
    print(f"Rules in force on {day.isoformat()}", file=out)
    view = rulebook.codeset_for(day)
    if view is None:
        print(f"\nNo installed code set covers {day.isoformat()}. No code can be billed for that date until a "
              f"code-set file for {day.year} is installed in the clinic's rules folder "
              "(see docs/rules-format.md; check it with 'slpterm rules check FILE').", file=out)
        status = 1
    else:
        cs = view.codeset
        inherits = f"; inherits {cs.inherits}" if cs.inherits else ""
        print(f"\nCode set: {cs.id} ({cs.name}), {cs.valid_from} to {cs.valid_to or 'open'}{inherits}", file=out)
        print(f"  source: {cs.source}", file=out)
        for code in sorted(view.codes.values(), key=lambda c: (c.kind != "treatment", c.code)):
            flag = "" if code.confidence == "C" else f" [{code.confidence}]"
            origin = view.origin_of.get(code.code, cs.id)
            inherited = f"  (from {origin})" if origin != cs.id else ""
            print(f"  {code.code}  {code.kind:<10}  {code.paraphrase}{flag}{inherited}", file=out)
            print(f"         {_units_text(code)}", file=out)
        ended = sorted(c for c, d in view.all_codes.items() if c not in view.codes)
        if ended:
            print(f"  not valid on this date: {', '.join(ended)}", file=out)
        for parent in rulebook.inherited_sets(cs):
            dropped = sorted(c for c in parent.codes if c not in view.all_codes)
            if dropped:
                print(f"  not carried from {parent.id}: {', '.join(dropped)}", file=out)
        for session_type, pending in sorted(view.pending.items()):
            print(f"  {session_type.replace('_', ' ')}: not installed. {pending.message}.", file=out)
            print(f"         {pending.install}", file=out)
        for area, unmapped in sorted(view.unmapped.items()):
            print(f"  {unmapped.what} ({area}): no mapped code in this set", file=out)
        if view.same_day_areas != "each_area" or view.same_day_confidence != "C":
            print(f"  several disorder areas on one day: {view.same_day_areas} (confidence {view.same_day_confidence})", file=out)
        if view.refused:
            print(f"  refused: {', '.join(sorted(view.refused))}", file=out)
    print("\nPayer policies:", file=out)
    kinds = []
    for policy in rulebook.policies:
        if policy.payer_kind not in kinds:
            kinds.append(policy.payer_kind)
    for kind in kinds:
        in_force = rulebook.policy_for(kind, "", day)
        if in_force is None:
            print(f"  {kind}: no policy in force", file=out)
            continue
        print(f"  {kind}: {_policy_text(in_force)}", file=out)
    overrides = sorted({o.payer_id for o in rulebook.overrides})
    for payer_id in overrides:
        print(f"  override for payer '{payer_id}': "
              + ", ".join(f"{k}={v}" for o in rulebook.overrides if o.payer_id == payer_id for k, v in o.values.items()), file=out)
    threshold = rulebook.kx_threshold(day.year)
    print("\nKX threshold:", file=out)
    if threshold is None:
        print(f"  none installed for {day.year}", file=out)
    elif threshold.provisional_from is not None:
        print(f"  {day.year}: provisional, ${threshold.amount:,.2f} (the {threshold.provisional_from} amount) until the "
              f"{day.year} amount is installed ({threshold.source})", file=out)
    else:
        print(f"  {day.year}: ${threshold.amount:,.2f} (confidence {threshold.confidence}; {threshold.source})", file=out)
    review = rulebook.targeted_review_amount(day)
    if review is not None:
        print(f"  targeted medical review above ${review:,.2f}", file=out)
    return status


def _policy_text(policy) -> str:
    parts = [
        "GN required" if policy.gn_required else "GN not required",
        f"timed units {policy.units_method}",
        f"untimed units {policy.untimed_units}" + (f" (min {policy.untimed_min_minutes} min)" if policy.untimed_min_minutes else ""),
        f"telehealth modifier {policy.telehealth_modifier or 'none'}"
        + (f" until {policy.telehealth_covered_until}" if policy.telehealth_covered_until else ""),
        "96/97 required" if policy.hab_rehab_modifier_required else "96/97 not required",
        "KX threshold applies" if policy.kx_threshold_applies else "no KX",
    ]
    if policy.progress_report_interval:
        parts.append(f"progress report every {policy.progress_report_interval} treatment days")
    return "; ".join(parts)


# ---------------------------------------------------------------------------------------------
# CMS practitioner PTP import


def _yyyymmdd(text: str) -> date | None:
    text = text.strip()
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _ptp_lines(path: Path) -> Iterable[str]:
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if name.lower().endswith(".txt"):
                    with archive.open(name) as handle:
                        yield from io.TextIOWrapper(handle, encoding="latin-1", newline="")
        return
    with path.open(encoding="latin-1", newline="") as handle:
        yield from handle


def import_cms_ptp(path: Path | str, codes: Iterable[str] | None = None) -> list[NcciPair]:
    """Read a CMS practitioner PTP table (.zip holding the tab-delimited .txt, or the .txt itself)
    and return the pairs whose two codes are both in `codes` (default: every code the installed
    code sets bill or refuse). Copyright and header rows are skipped; a deletion date D means the
    edit applies up to D - 1 day."""
    path = Path(path)
    keep = set(codes) if codes is not None else load_rulebook().known_codes()
    source = f"CMS practitioner PTP table {path.name}"
    pairs: list[NcciPair] = []
    for line in _ptp_lines(path):
        cells = [cell.strip() for cell in line.rstrip("\r\n").split("\t")]
        if len(cells) < 6:
            continue
        column1, column2, _prior_1996, effective, deletion, indicator = cells[:6]
        if not (CODE_PATTERN.match(column1) and CODE_PATTERN.match(column2)) or indicator not in ("0", "1", "9"):
            continue
        valid_from = _yyyymmdd(effective)
        if valid_from is None:
            continue
        valid_to = None
        if deletion and deletion != "*":
            deleted = _yyyymmdd(deletion)
            if deleted is None:
                continue
            valid_to = deleted - timedelta(days=1)
        if column1 in keep and column2 in keep:
            rationale = cells[6] if len(cells) > 6 and cells[6] else ""
            pairs.append(NcciPair(column1, column2, indicator, valid_from, valid_to, "C", f"{source}{': ' + rationale if rationale else ''}"))
    return pairs


def ncci_csv_text(pairs: Iterable[NcciPair], note: str) -> str:
    """Pairs in the ncci*.csv format of the rules folder."""
    buffer = io.StringIO()
    buffer.write(f"# {note}\n")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(NCCI_HEADER)
    for pair in pairs:
        writer.writerow([
            pair.column1, pair.column2, pair.indicator,
            pair.valid_from.isoformat() if pair.valid_from else "",
            pair.valid_to.isoformat() if pair.valid_to else "",
            pair.confidence, pair.source.replace("\n", " "),
        ])
    return buffer.getvalue()


def write_ncci_csv(pairs: Iterable[NcciPair], target: Path, note: str) -> None:
    """Write pairs in the ncci*.csv format of the rules folder."""
    target.write_text(ncci_csv_text(pairs, note), encoding="utf-8")


def _import(paths: list[Path], rules_dir: Path | None, out: TextIO) -> int:
    if rules_dir is None:
        print("No clinic rules folder is configured; set one before importing.", file=out)
        return 1
    for path in paths:
        if not path.is_file():
            print(f"PROBLEM {path}: the file does not exist", file=out)
            return 1
    try:
        rulebook = load_rulebook(rules_dir) if Path(rules_dir).is_dir() else load_rulebook()
        known = rulebook.known_codes()
        pairs = [pair for path in paths for pair in import_cms_ptp(path, known)]
    except RuleBookError as exc:
        _print_problems(exc.problems, out)
        return 1
    except (OSError, zipfile.BadZipFile) as exc:
        print(f"PROBLEM {exc}: cannot be read", file=out)
        return 1
    if not pairs:
        print(f"PROBLEM {', '.join(p.name for p in paths)}: no PTP rows between slpterm's codes were found; "
              "is this the practitioner PTP table?", file=out)
        return 1
    from slpterm.coding.install import ptp_segment

    segments = sorted({s for s in (ptp_segment(p) for p in paths) if s})
    if len(paths) > 1 or segments:
        missing = [f"f{n}" for n in range(1, 5) if n not in segments]
        if missing:
            print(f"NOTE: {', '.join(missing)} not given; a quarter's edits are split over four files, so pairs in them are "
                  "missing (give all four, or use 'slpterm rules install --ptp').", file=out)
    Path(rules_dir).mkdir(parents=True, exist_ok=True)
    target = Path(rules_dir) / IMPORT_FILE_NAME
    names = ", ".join(p.name for p in paths)
    write_ncci_csv(pairs, target, f"Imported from {names} on {date.today().isoformat()}; replaces shipped rows for the same pairs")
    print(f"OK: imported {len(pairs)} NCCI pairs from {names} into {target}", file=out)
    return 0

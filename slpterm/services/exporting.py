"""Exporting signed sessions: read and code them a run of days at a time, hand each run to the
exporters (:mod:`slpterm.export.batch`), and anchor the audit trail beside the batch.

The export screen (through :class:`slpterm.services.clinic.Exports`), :mod:`slpterm.api` and
``slpterm export`` (:func:`run_export_command`) all export through here.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from slpterm.domain.encounter import EncounterRecord

if TYPE_CHECKING:
    from slpterm.export.batch import ExportOutcome
    from slpterm.store.store import Store

ANCHOR_FILE_NAME = "slpterm-batch-{label}.anchor.json"


def run_export(store: Store, encounters: Sequence[EncounterRecord], format: str, out_dir: Path, *,
               range_from: date | None = None, range_to: date | None = None, include_exported: bool = False,
               now: datetime | None = None, production: bool = True) -> ExportOutcome:
    """Export the ready encounters to ``out_dir``, record the batch in ``store`` and write the audit
    trail's head beside the files.

    Returns the outcome; when nothing can be exported, ``outcome.problems`` says why and no file is
    written. Raises ExportError when the files cannot be written or the batch cannot be recorded
    (in both cases no file is left and no batch is recorded).
    """
    from slpterm.export.batch import write_export

    outcome = write_export(store, encounters, format, Path(out_dir), range_from=range_from, range_to=range_to,
                           include_exported=include_exported, now=now, production=production)
    write_batch_anchor(store, Path(out_dir).expanduser(), outcome)
    return outcome


def export_signed(store: Store, format: str, out_dir: Path, *, range_from: date | None = None,
                  range_to: date | None = None, include_exported: bool = False, now: datetime | None = None,
                  production: bool = True, today: date | None = None,
                  chunk_sessions: int | None = None) -> ExportOutcome:
    """:func:`run_export` of the signed sessions with a date of service in the range, read, coded and
    written a few days at a time: memory holds one run of days, not the batch. The files are the
    same as ``run_export(store, load_encounters(...), ...)`` writes."""
    from slpterm.export.batch import write_export_runs
    from slpterm.services.encounters import encounter_chunks

    sizing = {} if chunk_sessions is None else {"chunk_sessions": chunk_sessions}
    chunks = encounter_chunks(store, date_from=range_from, date_to=range_to, today=today or date.today(), **sizing)
    outcome = write_export_runs(store, chunks, format, Path(out_dir), range_from=range_from, range_to=range_to,
                                include_exported=include_exported, now=now, production=production)
    write_batch_anchor(store, Path(out_dir).expanduser(), outcome)
    return outcome


def write_batch_anchor(store: Store, folder: Path, outcome: ExportOutcome) -> None:
    """Write the trail's head (which now includes this batch) beside the files and into the user's
    anchor file, so the batch also vouches for the audit trail as it was."""
    if not outcome.batch_label:
        return  # nothing was recorded
    from slpterm.store.anchors import anchor_record, write_anchor_record

    reason = f"export batch {outcome.batch_label}"
    anchor = store.security.write_anchor(reason) or store.security.head_anchor(reason)
    if anchor is None:
        return
    path = folder / ANCHOR_FILE_NAME.format(label=outcome.batch_label)
    try:
        outcome.anchor_file = write_anchor_record(path, anchor_record(
            store.clinic.identity(), anchor, batch=outcome.batch_label, checksum=outcome.checksum,
            files=[file.name for file in outcome.files]))
    except OSError as error:
        outcome.warnings.append(f"The audit anchor could not be written beside the files ({error.strerror or error}); "
                                "the export itself is complete.")


def print_written(outcome: ExportOutcome) -> None:
    """The files a batch wrote and the audit anchor beside them, one line each."""
    for path in outcome.files:
        print(f"Wrote {path}")
    if outcome.anchor_file is not None:
        print(f"Audit anchor (the trail's head after this batch): {outcome.anchor_file}")


def run_export_command(args: argparse.Namespace, store: Store) -> int:
    """Run ``slpterm export``; prints what was written and what was held back. Returns the exit status."""
    from slpterm.export.batch import describe_held
    from slpterm.export.common import ExportError

    if args.date_from and args.date_to and args.date_from > args.date_to:
        print("slpterm: --from is after --to.", file=sys.stderr)
        return 2
    claims = getattr(args, "claims", None) or []
    if claims and (args.date_from or args.date_to):
        print("slpterm: --claim picks the claims itself; leave out --from and --to.", file=sys.stderr)
        return 2
    try:
        if claims:
            from slpterm.services.claims import claim_encounters

            outcome = run_export(store, claim_encounters(store, claims, date.today()), args.format,
                                 Path(args.out).expanduser(), include_exported=True,
                                 production=not getattr(args, "test", False))
        else:
            outcome = export_signed(store, args.format, Path(args.out).expanduser(), range_from=args.date_from,
                                    range_to=args.date_to, include_exported=args.include_exported,
                                    production=not getattr(args, "test", False), today=date.today())
    except ExportError as error:
        print(f"slpterm: {error}", file=sys.stderr)
        return 1
    print_written(outcome)
    if outcome.ok:
        print(f"Batch {outcome.control_number:06d}: {len(outcome.exported_ids)} session(s), sha256 {outcome.checksum}")
    if outcome.skipped_exported:
        print(f"Skipped {len(outcome.skipped_exported)} session(s) already exported "
              "(use --include-exported to export them again).")
    stream = sys.stdout if outcome.ok else sys.stderr
    if outcome.held:
        print(f"Held back {len(outcome.held)} session(s):", file=stream)
        for held in outcome.held:
            print(f"  - {describe_held(held)}", file=stream)
    for warning in outcome.warnings:
        print(f"Warning: {warning}", file=stream)
    if not outcome.ok:
        print("slpterm: nothing was exported.", file=sys.stderr)
        for problem in outcome.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    return 0

"""One export run: choose the encounters, write the files safely, record the batch.

Order of work, so that a failure never leaves a half-written file or a batch without its file:
select (signed, no scrubber errors, not exported before unless asked) -> render every file in
memory -> write each to a temporary name in the target folder, fsync, rename -> record the batch
in the store -> if recording fails, remove the files again.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from slpterm.domain.bulk import paused_gc
from slpterm.domain.encounter import EncounterRecord
from slpterm.export.common import BatchInfo, ExportError, patient_name, sort_encounters
from slpterm.export.formats import EXPORT_FORMATS, ExportFormat, export_format
from slpterm.paths import private_folder

ANCHOR_FILE_NAME = "slpterm-batch-{label}.anchor.json"


@dataclass(frozen=True)
class Reason:
    message: str
    fix: str = ""

    def __str__(self) -> str:
        return f"{self.message} Fix: {self.fix}" if self.fix else self.message


@dataclass(frozen=True)
class HeldBack:
    """An encounter that is not exported, with every reason."""

    encounter: EncounterRecord
    reasons: tuple[Reason, ...]


@dataclass
class Selection:
    ready: list[EncounterRecord] = field(default_factory=list)
    held: list[HeldBack] = field(default_factory=list)
    already_exported: list[EncounterRecord] = field(default_factory=list)
    # Same-day sessions whose minutes are billed on a ready session's line: they go into the batch
    # (so they are not offered again) but add no lines of their own.
    combined: list[EncounterRecord] = field(default_factory=list)


def _combined_into_another(encounter: EncounterRecord) -> bool:
    coding = encounter.coding
    return (not coding.lines and not coding.errors
            and any(finding.code == "billed-on-other-session" for finding in coding.findings))


@dataclass
class ExportOutcome:
    """What an export did. ``problems`` explains why nothing was written (empty on success)."""

    format: str
    files: list[Path] = field(default_factory=list)
    exported_ids: list[str] = field(default_factory=list)
    held: list[HeldBack] = field(default_factory=list)
    skipped_exported: list[EncounterRecord] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    batch_id: str | None = None
    control_number: int | None = None
    checksum: str = ""
    anchor_file: Path | None = None  # the audit trail's head after the batch, written beside the files

    @property
    def ok(self) -> bool:
        return bool(self.files) and not self.problems


def hold_reasons(encounter: EncounterRecord, format: str) -> list[Reason]:
    """Why ``encounter`` cannot go into a ``format`` export (empty when it can)."""
    reasons: list[Reason] = []
    if encounter.signed_at is None:
        reasons.append(Reason("The note is not signed.", "Sign the session (F3) first."))
    reasons += [Reason(finding.message, finding.fix) for finding in encounter.coding.errors]
    if not encounter.coding.lines and not encounter.coding.errors:
        reasons.append(Reason("The session has no billable claim lines.",
                              "Check the session type and the minutes recorded."))
    if format == ExportFormat.X12:
        from slpterm.export.x12 import encounter_problems

        if encounter.coding.lines:
            reasons += [Reason(problem) for problem in encounter_problems(encounter)
                        if problem != "No billable claim lines."]
    return reasons


def select_encounters(encounters: Iterable[EncounterRecord], format: str, *,
                      include_exported: bool = False, exported_ids: Iterable[str] = ()) -> Selection:
    """Split encounters into ready, held back (with reasons) and already exported (skipped)."""
    with paused_gc():
        return _select_encounters(encounters, export_format(format), include_exported, exported_ids)


def _select_encounters(encounters: Iterable[EncounterRecord], format: str, include_exported: bool,
                       exported_ids: Iterable[str]) -> Selection:
    exported = set(exported_ids)
    selection = Selection()
    riders: list[EncounterRecord] = []
    for encounter in sort_encounters(encounters):
        if encounter.signed_at is not None and _combined_into_another(encounter):
            riders.append(encounter)
            continue
        reasons = hold_reasons(encounter, format)
        if reasons:
            selection.held.append(HeldBack(encounter, tuple(reasons)))
        elif not include_exported and (encounter.exported_before or encounter.participant_id in exported):
            selection.already_exported.append(encounter)
        else:
            selection.ready.append(encounter)
    if format == ExportFormat.X12 and selection.ready:
        from slpterm.export.x12 import build_claims

        _, refused = build_claims(selection.ready)
        refused_ids = {encounter.participant_id for encounter, _ in refused}
        selection.ready = [e for e in selection.ready if e.participant_id not in refused_ids]
        selection.held += [HeldBack(encounter, (Reason(reason),)) for encounter, reason in refused]
    carriers = {(e.patient.id, e.date_of_service) for e in selection.ready}
    for rider in riders:
        if not include_exported and (rider.exported_before or rider.participant_id in exported):
            selection.already_exported.append(rider)
        elif (rider.patient.id, rider.date_of_service) in carriers:
            selection.combined.append(rider)
        else:
            selection.held.append(HeldBack(rider, (Reason(
                "Its minutes are billed on another session of the same day, which is not in this export.",
                "Export that session (fix what holds it back first); this one goes with it."),)))
    return selection


def render_files(encounters: Sequence[EncounterRecord], format: str,
                 batch: BatchInfo) -> list[tuple[str, bytes]]:
    """The files of one export as (file name, content) pairs, rendered in memory."""
    with paused_gc():
        return _render_files(encounters, export_format(format), batch)


def _render_files(encounters: Sequence[EncounterRecord], format: str,
                  batch: BatchInfo) -> list[tuple[str, bytes]]:
    return EXPORT_FORMATS[format].files(encounters, batch)


def checksum(files: Sequence[tuple[str, bytes]]) -> str:
    """sha256 of the file for one file; for several, sha256 of the manifest
    ``<sha256>  <name>`` lines sorted by name (the output of ``sha256sum`` on them, sorted)."""
    if len(files) == 1:
        return hashlib.sha256(files[0][1]).hexdigest()
    manifest = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files))
    return hashlib.sha256(manifest.encode("utf-8")).hexdigest()


def _fsync_directory(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # not supported on this platform
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def write_files_atomically(out_dir: Path, files: Sequence[tuple[str, bytes]]) -> list[Path]:
    """Write every file under a temporary name, fsync, then rename; on any failure remove them all.

    Raises ExportError naming the folder when it cannot be created or written, or when a file of
    the same name is already there (nothing is overwritten).
    """
    folder = Path(out_dir).expanduser()
    try:
        private_folder(folder)
    except OSError as error:
        raise ExportError(f"The folder {folder} cannot be created: {error.strerror or error}. "
                          "Choose a folder you can write to.") from error
    if not folder.is_dir():
        raise ExportError(f"{folder} is not a folder. Choose a folder for the export files.")
    targets = [folder / name for name, _ in files]
    existing = [target.name for target in targets if target.exists()]
    if existing:
        raise ExportError(f"{', '.join(existing)} already exists in {folder}; nothing was overwritten. "
                          "Choose another folder or move the old file.")
    temporaries: list[Path] = []
    renamed: list[Path] = []
    try:
        for name, data in files:
            descriptor, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
            temporaries.append(Path(temporary))
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        for temporary, target in zip(temporaries, targets):
            os.replace(temporary, target)
            renamed.append(target)
        _fsync_directory(folder)
    except BaseException as error:
        for path in temporaries + renamed:
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass
        if isinstance(error, OSError):
            raise ExportError(f"Could not write the export files to {folder}: {error.strerror or error}. "
                              "No file was left behind and no batch was recorded.") from error
        raise
    return targets


def next_control_number(store: Any) -> int:
    """The control number the next recorded batch will get (X12 ISA13/GS06 and the batch ID)."""
    return int(store.exports.next_control_number())


def run_export(store: Any, encounters: Sequence[EncounterRecord], format: str, out_dir: Path, *,
               range_from: date | None = None, range_to: date | None = None, include_exported: bool = False,
               now: datetime | None = None, production: bool = True) -> ExportOutcome:
    """Export the ready encounters to ``out_dir`` and record the batch in ``store``.

    Returns the outcome; when nothing can be exported, ``outcome.problems`` says why and no file is
    written. Raises ExportError when the files cannot be written or the batch cannot be recorded
    (in both cases no file is left and no batch is recorded).
    """
    with paused_gc():
        return _run_export(store, encounters, export_format(format), Path(out_dir), range_from=range_from,
                           range_to=range_to, include_exported=include_exported, now=now, production=production)


def _run_export(store: Any, encounters: Sequence[EncounterRecord], format: str, out_dir: Path, *,
                range_from: date | None, range_to: date | None, include_exported: bool, now: datetime | None,
                production: bool) -> ExportOutcome:
    selection = select_encounters(encounters, format, include_exported=include_exported,
                                  exported_ids=store.exports.exported_participant_ids())
    outcome = ExportOutcome(format=format, held=selection.held, skipped_exported=selection.already_exported)
    if not selection.ready:
        outcome.problems.append(_nothing_to_export(encounters, selection))
        return outcome
    if format == ExportFormat.X12:
        from slpterm.export.x12 import clinic_problems

        outcome.problems += clinic_problems(selection.ready[0].clinic)
        if outcome.problems:
            return outcome
        if len(_digits(selection.ready[0].clinic.postal_code)) != 9:
            outcome.warnings.append("The clinic ZIP code has 5 digits; most payers want the 9-digit ZIP+4 for "
                                    "the billing provider. Add it under Settings (F5).")

    created_at = (now or datetime.now().astimezone())
    planned = next_control_number(store)
    batch = BatchInfo(number=planned, created_at=created_at, range_from=range_from, range_to=range_to,
                      production=production)
    files = render_files(selection.ready, format, batch)
    written = write_files_atomically(Path(out_dir), files)
    digest = checksum(files)
    exported_ids = [encounter.participant_id for encounter in selection.ready + selection.combined]
    try:
        billed = [{"participant_id": encounter.participant_id, "patient_id": encounter.patient.id,
                   "date_of_service": line.date_of_service, "code": line.code, "modifiers": " ".join(line.modifiers),
                   "units": line.units, "charge_cents": int((line.charge * 100).to_integral_value())}
                  for encounter in selection.ready + selection.combined for line in encounter.coding.lines]
        recorded = store.exports.record_batch(format=str(format), participant_ids=exported_ids, billed_lines=billed,
                                              file_names=[path.name for path in written], checksum=digest,
                                              range_from=range_from, range_to=range_to,
                                              control_number=planned)
    except Exception as error:
        for path in written:
            path.unlink(missing_ok=True)
        raise ExportError(f"The export batch could not be recorded ({error}); the files were removed again. "
                          "Nothing was exported.") from error
    outcome.files = written
    outcome.exported_ids = exported_ids
    outcome.checksum = digest
    outcome.batch_id = recorded.id
    outcome.control_number = recorded.control_number
    _write_batch_anchor(store, Path(out_dir).expanduser(), batch, outcome)
    return outcome


def _write_batch_anchor(store: Any, folder: Path, batch: BatchInfo, outcome: ExportOutcome) -> None:
    """Write the trail's head (which now includes this batch) beside the files and into the user's
    anchor file, so the batch also vouches for the audit trail as it was."""
    from slpterm.store.anchors import anchor_record, write_anchor_record

    reason = f"export batch {batch.label}"
    anchor = store.security.write_anchor(reason) or store.security.head_anchor(reason)
    if anchor is None:
        return
    path = folder / ANCHOR_FILE_NAME.format(label=batch.label)
    try:
        outcome.anchor_file = write_anchor_record(path, anchor_record(
            store.clinic.identity(), anchor, batch=batch.label, checksum=outcome.checksum,
            files=[file.name for file in outcome.files]))
    except OSError as error:
        outcome.warnings.append(f"The audit anchor could not be written beside the files ({error.strerror or error}); "
                                "the export itself is complete.")


def _digits(value: str) -> str:
    return "".join(char for char in value or "" if char.isdigit())


def _nothing_to_export(encounters: Sequence[EncounterRecord], selection: Selection) -> str:
    if not encounters:
        return "No signed sessions in the chosen date range."
    parts = []
    if selection.held:
        parts.append(f"{len(selection.held)} held back by scrubber errors or missing data")
    if selection.already_exported:
        parts.append(f"{len(selection.already_exported)} already exported (re-export them with --include-exported)")
    return "Nothing to export: " + "; ".join(parts) + "."


def describe_held(held: HeldBack) -> str:
    """One readable line per held-back encounter: who, when, and every reason."""
    encounter = held.encounter
    reasons = " ".join(str(reason) for reason in held.reasons)
    return f"{encounter.date_of_service.isoformat()} {patient_name(encounter)} (session {encounter.session_id}): {reasons}"

"""One export run: choose the encounters, write the files safely, record the batch.

Order of work, so that a failure never leaves a half-written file or a batch without its file:
select (signed, no scrubber errors, not exported before unless asked) -> render and write to a
temporary name in the target folder, a run of days at a time (superbills: every file at the end)
-> fsync, rename -> record the batch in the store -> if recording fails, remove the files again.
Reading and coding the sessions, and anchoring the audit trail after the batch, are
:mod:`slpterm.services.exporting`'s.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from slpterm.domain.bulk import paused_gc
from slpterm.domain.encounter import EncounterRecord
from slpterm.export.common import BatchInfo, ExportError, patient_name, sort_encounters
from slpterm.export.formats import (
    EXPORT_FORMATS,
    ExportFormat,
    export_format,
    skipping_formats,
)
from slpterm.paths import private_folder

CLAIM_CHECK_FIX = ("Correct the named data (the patient's chart, the coverage, or the clinic under Settings (F5)) "
                   "and export again.")


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
    batch_label: str = ""  # the batch ID printed in its files, once recorded
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
        from slpterm.export.x12 import clinic_problems, encounter_problems

        if encounter.coding.lines:
            reasons += [Reason(problem) for problem in clinic_problems(encounter.clinic)]
            reasons += [Reason(problem) for problem in encounter_problems(encounter)
                        if problem != "No billable claim lines."]
    return reasons


def select_encounters(encounters: Iterable[EncounterRecord], format: str, *,
                      include_exported: bool = False,
                      exported_ids: Iterable[str] | Mapping[str, Collection[str]] = ()) -> Selection:
    """Split encounters into ready, held back (with reasons) and already exported (skipped).

    ``exported_ids``: the participants in earlier batches, as ids (taken as batches of ``format``)
    or as id -> formats (``store.exports.exported_formats()``): a copy (CSV, JSON, FHIR) skips what
    went out in its own format only, a billing format what was billed in any."""
    with paused_gc():
        format = export_format(format)
        picking = _Picking(format, include_exported, _exported_before_in(format, exported_ids), keep_ready=True)
        picking.add(sort_encounters(encounters))
        return picking.selection()


def _exported_before_in(format: str, exported: Iterable[str] | Mapping[str, Collection[str]]) -> set[str]:
    """The participants a ``format`` export skips, from ids or id -> formats."""
    if isinstance(exported, Mapping):
        skipping = skipping_formats(format)
        return {participant_id for participant_id, formats in exported.items() if skipping.intersection(formats)}
    return set(exported)


class _Picking:
    """The selection made a run of encounters at a time (runs in file order, each holding whole
    patient-days): :meth:`add` returns the run's ready and combined encounters; the held back and
    skipped ones are kept, in the order one selection over every encounter lists them."""

    def __init__(self, format: str, include_exported: bool, exported: set[str],
                 keep_ready: bool = False) -> None:
        self.format = format
        self.include_exported = include_exported
        self.exported = exported
        self.keep_ready = keep_ready
        self.seen = 0
        self.ready_count = 0
        self.ready: list[EncounterRecord] = []
        self.combined: list[EncounterRecord] = []
        self.held: list[HeldBack] = []
        self.refused: list[HeldBack] = []
        self.riders_held: list[HeldBack] = []
        self.skipped: list[EncounterRecord] = []
        self.riders_skipped: list[EncounterRecord] = []

    def _exported_before(self, encounter: EncounterRecord) -> bool:
        # ``exported_before`` on the record means billed: a copy format does not skip it.
        billed = encounter.exported_before and EXPORT_FORMATS[self.format].bills
        return not self.include_exported and (billed or encounter.participant_id in self.exported)

    def add(self, ordered: Sequence[EncounterRecord]) -> tuple[list[EncounterRecord], list[EncounterRecord]]:
        self.seen += len(ordered)
        ready: list[EncounterRecord] = []
        riders: list[EncounterRecord] = []
        for encounter in ordered:
            if encounter.signed_at is not None and _combined_into_another(encounter):
                riders.append(encounter)
                continue
            reasons = hold_reasons(encounter, self.format)
            if reasons:
                self.held.append(HeldBack(encounter, tuple(reasons)))
            elif self._exported_before(encounter):
                self.skipped.append(encounter)
            else:
                ready.append(encounter)
        if self.format == ExportFormat.X12 and ready:
            from slpterm.export.x12 import build_claims, claim_problems

            claims, refused = build_claims(ready)
            held = [HeldBack(encounter, (Reason(reason),)) for encounter, reason in refused]
            for claim in claims:
                problems = claim_problems(claim)
                if problems:
                    failed = Reason("The claim fails the 837P checks, so it is held back while the rest of the "
                                    "batch goes out: " + " ".join(problems), CLAIM_CHECK_FIX)
                    held += [HeldBack(encounter, (failed,)) for encounter in claim.encounters]
            held_ids = {item.encounter.participant_id for item in held}
            ready = [e for e in ready if e.participant_id not in held_ids]
            self.refused += held
        carriers = {(e.patient.id, e.date_of_service) for e in ready}
        combined: list[EncounterRecord] = []
        for rider in riders:
            if self._exported_before(rider):
                self.riders_skipped.append(rider)
            elif (rider.patient.id, rider.date_of_service) in carriers:
                combined.append(rider)
            else:
                self.riders_held.append(HeldBack(rider, (Reason(
                    "Its minutes are billed on another session of the same day, which is not in this export.",
                    "Export that session (fix what holds it back first); this one goes with it."),)))
        self.ready_count += len(ready)
        if self.keep_ready:
            self.ready += ready
            self.combined += combined
        return ready, combined

    def all_held(self) -> list[HeldBack]:
        return self.held + self.refused + self.riders_held

    def all_skipped(self) -> list[EncounterRecord]:
        return self.skipped + self.riders_skipped

    def selection(self) -> Selection:
        return Selection(ready=self.ready, held=self.all_held(), already_exported=self.all_skipped(),
                         combined=self.combined)


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
    folder = _prepared_folder(out_dir, [name for name, _ in files])
    targets = [folder / name for name, _ in files]
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
        for part, target in zip(temporaries, targets):
            os.replace(part, target)
            renamed.append(target)
        _fsync_directory(folder)
    except BaseException as error:
        for path in temporaries + renamed:
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass
        if isinstance(error, OSError):
            raise _write_error(folder, error) from error
        raise
    return targets


def next_control_number(store: Any) -> int:
    """The control number the next recorded batch will get (X12 ISA13/GS06 and the batch ID)."""
    return int(store.exports.next_control_number())


def write_export(store: Any, encounters: Sequence[EncounterRecord], format: str, out_dir: Path, *,
                 range_from: date | None = None, range_to: date | None = None, include_exported: bool = False,
                 now: datetime | None = None, production: bool = True) -> ExportOutcome:
    """Write the ready encounters to ``out_dir`` and record the batch in ``store.exports``.

    Returns the outcome; when nothing can be exported, ``outcome.problems`` says why and no file is
    written. Raises ExportError when the files cannot be written or the batch cannot be recorded
    (in both cases no file is left and no batch is recorded). The audit anchor beside the files is
    the caller's (:mod:`slpterm.services.exporting`).
    """
    return write_export_runs(store, [encounters], format, out_dir, range_from=range_from, range_to=range_to,
                             include_exported=include_exported, now=now, production=production)


def write_export_runs(store: Any, runs: Iterable[Sequence[EncounterRecord]], format: str, out_dir: Path, *,
                      range_from: date | None = None, range_to: date | None = None,
                      include_exported: bool = False, now: datetime | None = None,
                      production: bool = True) -> ExportOutcome:
    """:func:`write_export` of runs of encounters given one at a time (each holding whole
    patient-days): memory holds one run, not the batch, and the files are the same."""
    with paused_gc():
        return _export_runs(store, (sort_encounters(run) for run in runs), export_format(format), Path(out_dir),
                            range_from=range_from, range_to=range_to, include_exported=include_exported, now=now,
                            production=production)


def _stream_for(format: str, batch: BatchInfo):  # noqa: ANN202
    """The format's writer of runs of encounters into one file, or None (one file per patient,
    rendered at the end)."""
    stream = EXPORT_FORMATS[format].stream
    return stream(batch) if stream is not None else None


class _PartFile:
    """One export file written under a temporary name in its folder and hashed as it grows;
    :meth:`commit` fsyncs and renames it, :meth:`discard` removes it."""

    def __init__(self, folder: Path, name: str) -> None:
        self.target = folder / name
        descriptor, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
        self.temporary = Path(temporary)
        self.handle = os.fdopen(descriptor, "wb")
        self.digest = hashlib.sha256()
        self.committed = False

    def write(self, data: bytes) -> None:
        if data:
            self.handle.write(data)
            self.digest.update(data)

    def commit(self) -> Path:
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        os.replace(self.temporary, self.target)
        self.committed = True
        _fsync_directory(self.target.parent)
        return self.target

    def discard(self) -> None:
        try:
            self.handle.close()
        except OSError:
            pass
        for path in (self.temporary, self.target) if self.committed else (self.temporary,):
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass


def _prepared_folder(out_dir: Path, names: Sequence[str]) -> Path:
    """The export folder, created if missing; ExportError when it cannot be, or when a file of one
    of ``names`` is already there (nothing is overwritten)."""
    folder = Path(out_dir).expanduser()
    try:
        private_folder(folder)
    except OSError as error:
        raise ExportError(f"The folder {folder} cannot be created: {error.strerror or error}. "
                          "Choose a folder you can write to.") from error
    if not folder.is_dir():
        raise ExportError(f"{folder} is not a folder. Choose a folder for the export files.")
    existing = [name for name in names if (folder / name).exists()]
    if existing:
        raise ExportError(f"{', '.join(existing)} already exists in {folder}; nothing was overwritten. "
                          "Choose another folder or move the old file.")
    return folder


def _write_error(folder: Path, error: OSError) -> ExportError:
    return ExportError(f"Could not write the export files to {folder}: {error.strerror or error}. "
                       "No file was left behind and no batch was recorded.")


def _billed_lines(encounters: Sequence[EncounterRecord], format: str) -> list[dict]:
    numbers: dict[str, str] = {}
    if format == ExportFormat.X12:
        from slpterm.export.x12 import claim_numbers

        numbers = claim_numbers(encounters)
    return billed_line_rows(encounters, numbers)


def billed_line_rows(encounters: Sequence[EncounterRecord], claim_numbers: Mapping[str, str]) -> list[dict]:
    """The encounters' claim lines as ``record_batch`` keeps them; ``claim_numbers``: participant id ->
    the claim number its lines go out on."""
    return [{"participant_id": encounter.participant_id, "patient_id": encounter.patient.id,
             "date_of_service": line.date_of_service, "code": line.code, "modifiers": " ".join(line.modifiers),
             "units": line.units, "charge_cents": int((line.charge * 100).to_integral_value()),
             "claim_number": claim_numbers.get(encounter.participant_id, "")}
            for encounter in encounters for line in encounter.coding.lines]


def _export_runs(store: Any, runs: Iterable[Sequence[EncounterRecord]], format: str, out_dir: Path, *,
                 range_from: date | None, range_to: date | None, include_exported: bool, now: datetime | None,
                 production: bool) -> ExportOutcome:
    """Select, render and write runs of encounters (each in file order, holding whole patient-days)
    as they come; the one file grows under a temporary name and is renamed once complete."""
    # A format without a writer of runs (superbills) is rendered at the end from every ready encounter.
    picking = _Picking(format, include_exported, store.exports.exported_participant_ids(skipping_formats(format)),
                       keep_ready=EXPORT_FORMATS[format].stream is None)
    created_at = (now or datetime.now().astimezone())
    planned = next_control_number(store)
    # Only an 837P carries interchange control numbers; planning one reads the installation file.
    interchange = store.exports.plan_interchange(created_at) if format == ExportFormat.X12 else None
    batch = BatchInfo(number=planned, created_at=created_at, range_from=range_from, range_to=range_to,
                      production=production, interchange_control=interchange.control if interchange else None)
    stream = _stream_for(format, batch)
    name = EXPORT_FORMATS[format].file_name.format(label=batch.label) if stream is not None else ""
    part: _PartFile | None = None
    folder = Path(out_dir).expanduser()
    exported_ids: list[str] = []
    combined_ids: list[str] = []
    billed: list[dict] = []
    billed_combined: list[dict] = []
    try:
        for run in runs:
            ready, combined = picking.add(run)
            if not ready:
                continue
            exported_ids += [encounter.participant_id for encounter in ready]
            combined_ids += [encounter.participant_id for encounter in combined]
            if EXPORT_FORMATS[format].bills:  # a copy (CSV, JSON, FHIR) changes nothing billed
                billed += _billed_lines(ready, format)
                billed_combined += _billed_lines(combined, format)
            if stream is None:
                continue
            if part is None:
                folder = _prepared_folder(out_dir, [name])
                try:
                    part = _PartFile(folder, name)
                except OSError as error:
                    raise _write_error(folder, error) from error
            try:
                part.write(stream.add(ready))
            except OSError as error:
                raise _write_error(folder, error) from error
            except ValueError as error:  # a check the selection missed: never a file that would be rejected
                raise _render_error(format, error) from error
        outcome = ExportOutcome(format=format, held=picking.all_held(), skipped_exported=picking.all_skipped())
        if not picking.ready_count:
            outcome.problems.append(_nothing_to_export(picking.seen, outcome))
            outcome.problems += _shared_reasons(outcome.held)
            return outcome
        if part is not None:
            try:
                part.write(stream.finish())
                written = [part.commit()]
            except OSError as error:
                raise _write_error(folder, error) from error
            except ValueError as error:
                raise _render_error(format, error) from error
            digest = part.digest.hexdigest()
        else:
            try:
                files = render_files(picking.ready, format, batch)
            except ValueError as error:
                raise _render_error(format, error) from error
            written = write_files_atomically(Path(out_dir), files)
            digest = checksum(files)
    except BaseException:
        if part is not None:
            part.discard()
        raise
    exported_ids += combined_ids
    try:
        recorded = store.exports.record_batch(format=str(format), participant_ids=exported_ids,
                                              billed_lines=billed + billed_combined,
                                              file_names=[path.name for path in written], checksum=digest,
                                              range_from=range_from, range_to=range_to,
                                              control_number=planned, interchange=interchange)
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
    outcome.batch_label = batch.label
    return outcome


def _render_error(format: str, error: ValueError) -> ExportError:
    return ExportError(f"The {EXPORT_FORMATS[format].label} could not be written: {error}. No file was left "
                       "behind and no batch was recorded; fix what is named and export again.")


def _shared_reasons(held: Sequence[HeldBack]) -> list[str]:
    """The reasons every held-back encounter shares (a clinic setting, say), each once: the one fix
    that would release the whole batch."""
    if not held:
        return []
    shared = set(held[0].reasons).intersection(*(set(h.reasons) for h in held[1:]))
    return [str(reason) for reason in held[0].reasons if reason in shared]


def _nothing_to_export(seen: int, outcome: ExportOutcome) -> str:
    if not seen:
        return "No signed sessions in the chosen date range."
    parts = []
    if outcome.held:
        parts.append(f"{len(outcome.held)} held back by scrubber errors or missing data")
    if outcome.skipped_exported:
        parts.append(f"{len(outcome.skipped_exported)} already exported (re-export them with --include-exported)")
    return "Nothing to export: " + "; ".join(parts) + "."


def describe_held(held: HeldBack) -> str:
    """One readable line per held-back encounter: who, when, and every reason."""
    encounter = held.encounter
    reasons = " ".join(str(reason) for reason in held.reasons)
    return f"{encounter.date_of_service.isoformat()} {patient_name(encounter)} (session {encounter.session_id}): {reasons}"

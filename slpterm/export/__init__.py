"""Exports of signed, coded encounters: CSV, JSON, FHIR R4, X12 837P and superbills.

Input is a list of ``slpterm.domain.encounter.EncounterRecord``; nothing here touches the database
except :func:`slpterm.export.batch.write_export`, which asks ``store.exports`` for exported ids and
records the batch (through the store object it is handed; nothing here imports the store). Reading
and coding the sessions and anchoring the audit trail after a batch are
:mod:`slpterm.services.exporting`'s (``run_export``, ``export_signed``). No UI toolkit is imported.

Public API
----------
``slpterm.export.batch``
    ``write_export(store, encounters, format, out_dir, *, range_from=None, range_to=None,
    include_exported=False, now=None, production=True) -> ExportOutcome``
        select, render, write atomically, record the batch. Raises ``ExportError`` when files cannot
        be written or recorded (then nothing is left behind).
    ``write_export_runs(store, runs, format, out_dir, ...) -> ExportOutcome``
        the same for runs of encounters given one at a time (``services.exporting.export_signed``
        hands it the signed sessions a few days at a time): the same files, memory for one run.
    ``select_encounters(encounters, format, *, include_exported=False, exported_ids=()) -> Selection``
        ``Selection.ready`` / ``.held`` (``HeldBack(encounter, reasons)``) / ``.already_exported``;
        ``exported_ids`` may be ``store.exports.exported_formats()`` (id -> formats): only an 837P or
        a superbill bills (``ExportFormatSpec.bills``), a copy skips only its own format's batches.
    ``render_files(encounters, format, batch) -> list[tuple[str, bytes]]``
    ``write_files_atomically(out_dir, files) -> list[Path]``, ``checksum(files) -> str``,
    ``next_control_number(store) -> int``, ``describe_held(held) -> str``.
``slpterm.export.formats``: ``EXPORT_FORMATS``, the registry (one ``ExportFormatSpec`` per format:
    id, label, CLI summary, renderer, file name, per batch or per patient); a new format is one entry
    there. ``ExportFormat`` names the shipped ones (csv, json, fhir, x12, superbill).
``slpterm.export.common``: ``BatchInfo``, ``ExportError``.
Per format (pure, in memory): ``csv_export.render_csv``, ``json_export.render_json`` (schema
    "slpterm-encounters" v1, docs/export-json-schema.md), ``fhir.render_fhir`` / ``fhir.build_bundle``,
    ``x12.render_837p`` (+ ``x12.clinic_problems``, ``x12.encounter_problems``, ``x12.build_claims``,
    ``x12.claim_problems`` (one claim's segments checked alone), ``x12.claim_numbers`` (CLM01)),
    ``superbill.render_superbill``; each takes ``(encounters, batch: BatchInfo)``. ``CsvStream``,
    ``JsonStream``, ``FhirStream`` and ``X12Stream`` write the same bytes in pieces (``add`` each run
    of encounters in file order, then ``finish``).
``slpterm.export.cli``: ``add_export_parser(commands)`` (the command is
    ``slpterm.services.exporting.run_export_command(args, store) -> int``).
"""

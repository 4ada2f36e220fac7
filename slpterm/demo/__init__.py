"""Fictional clinics for trying slpterm out and for benchmarks.

Public API:

- ``generate_demo(data_dir, *, today=None, seed=2026) -> DemoSummary``: the ready-made demo
  clinic (3 clinicians, 12 fictional patients, about three months of signed sessions, drafts and
  the problems the caseload and scrubber should find).
- ``generate_synthetic(data_dir, *, patients, sessions, seed=1, today=None) -> DemoSummary``: a
  large seeded clinic for benchmarks (e.g. 10,000 patients / 100,000 sessions), written with bulk
  inserts.
- ``DemoSummary``: counts of what was written, the file path and size, and the seconds it took.
- ``DemoTargetNotEmpty``: raised when ``data_dir`` already holds a clinic or patients.

Both write ``slpterm.sqlite3`` in ``data_dir`` (through ``slpterm.store.open_store``), record one
audit event for the generation, and give identical records for the same seed and ``today``.
"""

from slpterm.demo.clinic import generate_demo
from slpterm.demo.synthetic import generate_synthetic
from slpterm.demo.writing import DemoSummary, DemoTargetNotEmpty

__all__ = ["DemoSummary", "DemoTargetNotEmpty", "generate_demo", "generate_synthetic"]

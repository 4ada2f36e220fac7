"""The local store: one SQLite file per data directory, reached only through the store API.

``open_store(data_dir)`` returns a :class:`Store` whose repositories (``clinic``, ``patients``,
``caseload``, ``sessions``, ``exports``) are what screens and commands call.
"""

from slpterm.store.errors import (
    CorruptDatabase,
    DataDirectoryUnusable,
    LockedRecord,
    NotAnSlptermDatabase,
    NotFound,
    SchemaTooNew,
    StoreError,
    ValidationFailed,
)
from slpterm.store.store import Store, open_store

__all__ = [
    "CorruptDatabase",
    "DataDirectoryUnusable",
    "LockedRecord",
    "NotAnSlptermDatabase",
    "NotFound",
    "SchemaTooNew",
    "Store",
    "StoreError",
    "ValidationFailed",
    "open_store",
]

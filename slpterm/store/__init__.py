"""The local store: one SQLite file per data directory, reached only through the store API.

``open_store(data_dir)`` returns a :class:`Store` whose repositories (``clinic``, ``patients``,
``caseload``, ``sessions``, ``exports``) are what screens and commands call. The database layer is
imported on first use, so importing the error types stays cheap for the first frame.
"""

from typing import TYPE_CHECKING

from slpterm.store.errors import (
    CorruptDatabase,
    DataDirectoryUnusable,
    LockedRecord,
    NotAnSlptermDatabase,
    NotFound,
    PassphraseRequired,
    SchemaTooNew,
    StorageUnavailable,
    StoreError,
    ValidationFailed,
)

__all__ = [
    "CorruptDatabase",
    "DataDirectoryUnusable",
    "LockedRecord",
    "NotAnSlptermDatabase",
    "NotFound",
    "PassphraseRequired",
    "SchemaTooNew",
    "StorageUnavailable",
    "Store",
    "StoreError",
    "ValidationFailed",
    "open_store",
]

if TYPE_CHECKING:
    from slpterm.store.store import Store, open_store


def __getattr__(name: str) -> object:
    if name in ("Store", "open_store"):
        from slpterm.store import store

        return getattr(store, name)
    raise AttributeError(name)

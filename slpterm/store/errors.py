"""The errors the store raises: the ones of :mod:`slpterm.domain.errors`, by their store names."""

from slpterm.domain.errors import (
    CorruptDatabase,
    DataDirectoryUnusable,
    EncryptionUnavailable,
    LockedRecord,
    NotAnSlptermDatabase,
    NotFound,
    PassphraseRequired,
    SchemaTooNew,
    StorageUnavailable,
    StoreError,
    ValidationFailed,
    WrongPassphraseOrDamaged,
)

__all__ = [
    "CorruptDatabase",
    "DataDirectoryUnusable",
    "EncryptionUnavailable",
    "LockedRecord",
    "NotAnSlptermDatabase",
    "NotFound",
    "PassphraseRequired",
    "SchemaTooNew",
    "StorageUnavailable",
    "StoreError",
    "ValidationFailed",
    "WrongPassphraseOrDamaged",
]

"""Errors the store and the services raise; each carries a message fit to show a user as it is.

They live on the ground floor so that every layer (the screens and the command line included)
can catch them without importing the store.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base class: the message says what happened and what to do."""


class NotAnSlptermDatabase(StoreError):
    pass


class CorruptDatabase(StoreError):
    pass


class SchemaTooNew(StoreError):
    def __init__(self, path: str, found: int, supported: int) -> None:
        self.found = found
        self.supported = supported
        super().__init__(
            f"{path} was written by a newer slpterm (schema version {found}); this slpterm "
            f"understands schema version {supported} at most. Install the newer slpterm to open it. "
            "The file was not changed."
        )


class DataDirectoryUnusable(StoreError):
    pass


class LockedRecord(StoreError):
    """A signed record was asked to change; only addenda may be added."""


class ValidationFailed(StoreError):
    """Input refused; ``problems`` lists (field, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems))


class NotFound(StoreError):
    pass


class PassphraseRequired(StoreError):
    """The data file is encrypted; open it with its passphrase."""


class WrongPassphraseOrDamaged(StoreError):
    pass


class EncryptionUnavailable(StoreError):
    pass


class StorageUnavailable(StoreError):
    """A write could not reach the disk (full, read-only, file replaced); nothing was written."""

"""Who else has this data folder open: lock files beside the data file, held with ``flock``.

- ``slpterm.lock``: every open store holds a shared lock on it for as long as it is open (the app,
  ``backup``, ``export``, ``audit``...). Replacing the data file (``restore``, a passphrase change)
  needs it exclusively, so a file is never replaced, and its write-ahead log never removed, under a
  process that is using it.
- ``slpterm.app.lock``: the interactive app holds it exclusively, so a second app on the same data
  knows it is the second and says so.

``flock`` locks on these files are separate from SQLite's ``fcntl`` locks on the data file: taking
or dropping them never touches the database's locks. Where ``fcntl`` does not exist (Windows) the
locks are not taken; SQLite's own locking there does not have the POSIX pitfall this guards.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from slpterm.store.errors import StoreError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

LOCK_FILE_NAME = "slpterm.lock"
APP_LOCK_FILE_NAME = "slpterm.app.lock"
SHARED_WAIT_SECONDS = 30


class DataInUse(StoreError):
    """The data file is in use by another slpterm process, so it is not replaced."""


def _open(path: Path) -> int | None:
    if fcntl is None:
        return None
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.set_inheritable(descriptor, False)
    return descriptor


def _try(descriptor: int | None, operation: int) -> bool:
    if descriptor is None:
        return True
    try:
        fcntl.flock(descriptor, operation | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class DataFolderLock:
    """The shared lock an open store holds on its folder (see the module's docstring)."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / LOCK_FILE_NAME
        self._descriptor = _open(self.path)
        deadline = time.monotonic() + SHARED_WAIT_SECONDS
        # Only a restore or a passphrase change holds it exclusively, for seconds at most.
        while not _try(self._descriptor, fcntl.LOCK_SH if fcntl else 0):
            if time.monotonic() > deadline:
                self.close()
                raise DataInUse(f"The data file in {folder} is being replaced (a restore or a passphrase change) "
                                "and that did not finish in time. Try again in a moment.")
            time.sleep(0.05)

    @contextlib.contextmanager
    def exclusive(self, what: str) -> Iterator[None]:
        """Hold the folder alone while ``what`` replaces the data file; refused while others use it."""
        if not _try(self._descriptor, fcntl.LOCK_EX if fcntl else 0):
            self._share_again()
            raise DataInUse(
                f"{what} needs the data file to itself, but another slpterm (the app or a command such as a "
                "backup) has it open. Quit the other slpterm, then try again. Nothing was changed.")
        try:
            yield
        finally:
            self._share_again()

    def _share_again(self) -> None:
        # Converting a flock is not atomic: a failed or finished exclusive lock may have dropped the shared one.
        if self._descriptor is not None:
            fcntl.flock(self._descriptor, fcntl.LOCK_SH)

    def close(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None


@contextlib.contextmanager
def folder_alone(folder: Path, what: str) -> Iterator[None]:
    """For a process that has no store open on ``folder``: hold it alone while ``what`` runs."""
    lock = DataFolderLock(folder)
    try:
        with lock.exclusive(what):
            yield
    finally:
        lock.close()


class AppPresence:
    """Held by the interactive app; ``first`` is False when another app already has the folder."""

    def __init__(self, folder: Path) -> None:
        self._descriptor = _open(Path(folder) / APP_LOCK_FILE_NAME)
        self.first = _try(self._descriptor, fcntl.LOCK_EX if fcntl else 0)

    def close(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None

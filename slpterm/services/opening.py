"""Opening a data folder: what the app and the commands do before any service exists.

The app's first frame shows the caseload read straight from a plain data file
(:class:`CaseloadPreviewReader` and :class:`CaseloadFile`, plain SQLite, no SQLAlchemy), so this
module imports nothing heavy; the store itself is imported when :func:`open_data_folder` runs,
after that frame. Callers build the services on what it returns (:func:`slpterm.services.clinic.build_services`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from slpterm.domain.errors import WrongPassphraseOrDamaged
from slpterm.store.caseload import CaseloadFile as CaseloadFile
from slpterm.store.caseload import CaseloadPreviewReader as CaseloadPreviewReader
from slpterm.store.folder_lock import AppPresence as AppPresence

if TYPE_CHECKING:
    from slpterm.store.store import Store as Store

DATABASE_FILE_NAME = "slpterm.sqlite3"  # as the store names it (slpterm.store.db), without importing it


def database_file(data_dir: Path) -> Path:
    """The data file of the data folder ``data_dir`` (it may not exist yet)."""
    return Path(data_dir) / DATABASE_FILE_NAME


def open_data_folder(data_dir: Path, passphrase: str | None = None, *, where: str = "app") -> Store:
    """The store of ``data_dir`` (created when the folder holds none). A wrong passphrase is noted
    beside the data file at once, as ``where`` ("app", "command") tried it, before it is raised."""
    from slpterm.store import open_store

    if passphrase is None:
        return open_store(data_dir)
    try:
        return open_store(data_dir, passphrase)
    except WrongPassphraseOrDamaged:
        from slpterm.store.security import record_failed_start

        record_failed_start(data_dir, where)
        raise


def open_throwaway_folder(folder: Path) -> Store:
    """The store of a throwaway data folder (the generated demo clinic); everything it writes
    (audit anchors, exports) stays in that folder."""
    from slpterm.services.progress import EXPORT_FOLDER_SETTING
    from slpterm.store import open_store

    store = open_store(folder)
    store.anchor_folder = folder / "anchors"
    store.clinic.set_setting(EXPORT_FOLDER_SETTING, str(folder / "exports"))
    return store

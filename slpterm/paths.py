"""Where slpterm keeps its data and the clinic's rule files."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "slpterm"
DATA_DIR_VARIABLE = "SLPTERM_DATA_DIR"
CONFIG_DIR_VARIABLE = "SLPTERM_CONFIG_DIR"
STATE_DIR_VARIABLE = "SLPTERM_STATE_DIR"
PRIVATE_FILE_MODE = 0o600
PRIVATE_FOLDER_MODE = 0o700


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--data-dir`` wins, then ``SLPTERM_DATA_DIR``, then the platform's user data directory."""
    if explicit:
        return Path(explicit).expanduser()
    from_environment = os.environ.get(DATA_DIR_VARIABLE)
    if from_environment:
        return Path(from_environment).expanduser()
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False)


def config_dir() -> Path:
    from_environment = os.environ.get(CONFIG_DIR_VARIABLE)
    if from_environment:
        return Path(from_environment).expanduser()
    from platformdirs import user_config_path

    return user_config_path(APP_NAME, appauthor=False)


def state_dir() -> Path:
    """Where slpterm keeps its own logs: ``SLPTERM_STATE_DIR``, else the platform's user state folder."""
    from_environment = os.environ.get(STATE_DIR_VARIABLE)
    if from_environment:
        return Path(from_environment).expanduser()
    from platformdirs import user_state_path

    return user_state_path(APP_NAME, appauthor=False)


def anchor_dir() -> Path:
    """The audit anchors: the last known head of each data file's audit trail, outside the file."""
    return config_dir() / "anchors"


def crash_log_path() -> Path:
    return state_dir() / "crash.log"


def clinic_rules_dir() -> Path:
    """The folder where a clinic drops updated code-set, NCCI or payer-policy files."""
    return config_dir() / "rules"


def restrict_new_files() -> None:
    """From now on every file this process creates is readable by its owner only, and every folder
    is the owner's only, whoever creates it (SQLite, the PDF writer, a library)."""
    os.umask(0o077)


def private_folder(path: Path) -> Path:
    """Create ``path`` (and missing parents) as folders only their owner can enter."""
    path = Path(path)
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_FOLDER_MODE)
        except FileExistsError:
            continue
    return path


def create_private_file(path: Path) -> Path:
    """Create ``path`` empty and readable by its owner only; it must not exist yet. SQLite files
    are created this way before SQLite opens them, so SQLite (and its -wal and -shm files, which
    take the main file's mode) never write patient data into a file others could read."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    os.close(descriptor)
    return Path(path)


def open_private(path: Path, *, append: bool = False):  # noqa: ANN201
    """A binary file open for writing that only its owner can read, from its first byte on. An
    existing file is made private before anything is written to it."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    descriptor = os.open(path, flags, PRIVATE_FILE_MODE)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(descriptor, PRIVATE_FILE_MODE)
        return os.fdopen(descriptor, "ab" if append else "wb")
    except BaseException:
        os.close(descriptor)
        raise


def write_private(path: Path, data: bytes | str, *, durable: bool = False) -> Path:
    """Write ``data`` (text as UTF-8) into ``path``, readable by its owner only from the start."""
    with open_private(path) as handle:
        handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        if durable:
            handle.flush()
            os.fsync(handle.fileno())
    return Path(path)


def owner_only(path: Path) -> None:
    """Make a file of patient data readable by its owner only (on systems with POSIX permissions)."""
    try:
        os.chmod(path, 0o700 if Path(path).is_dir() else 0o600)
    except OSError:
        pass

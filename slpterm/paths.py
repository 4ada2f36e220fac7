"""Where slpterm keeps its data and the clinic's rule files."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "slpterm"
DATA_DIR_VARIABLE = "SLPTERM_DATA_DIR"
CONFIG_DIR_VARIABLE = "SLPTERM_CONFIG_DIR"


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


def clinic_rules_dir() -> Path:
    """The folder where a clinic drops updated code-set, NCCI or payer-policy files."""
    return config_dir() / "rules"


def owner_only(path: Path) -> None:
    """Make a file of patient data readable by its owner only (on systems with POSIX permissions)."""
    try:
        os.chmod(path, 0o700 if Path(path).is_dir() else 0o600)
    except OSError:
        pass

"""This installation's identity and the X12 control numbers it hands out, kept in the config folder
(outside the data file), so a restored backup or a copy of the data on a second laptop never makes
an installation issue a control number again.

A control number (ISA13, GS06, ST02: nine digits) is the installation's slot (three digits, chosen
at random when the installation is first used and re-chosen when the data file shows another
installation already uses it) followed by a six-digit counter. The counter never goes back: it is
one past the highest this installation issued (its own file, and the data file), and at least the
number of ten-minute periods since 2026-01-01 UTC, so even an installation that lost its config
folder and restored an old backup starts beyond what it sent before (for 19 years).

The file also remembers, per data file (its lasting identity), the last batch number (the label in
export file names) given there, so a restored backup does not number batches from 000001 again.
"""

from __future__ import annotations

import json
import os
import secrets
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from slpterm import paths

INSTALLATION_FILE_NAME = "installation.json"
SLOTS = 1000
COUNTER_LIMIT = 1_000_000
CLOCK_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
CLOCK_TICK_SECONDS = 600


@dataclass(frozen=True)
class Installation:
    id: str
    slot: int
    last_control: int = 0  # the last control number this installation issued (0: none)
    batch_numbers: dict[str, int] = field(default_factory=dict)  # data file identity -> last batch number


def installation_file() -> Path:
    return paths.config_dir() / INSTALLATION_FILE_NAME


def load_installation() -> Installation:
    """This installation, created (with a new id and a random slot) on first use."""
    path = installation_file()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Installation(id=str(data["id"]), slot=int(data["slot"]) % SLOTS,
                            last_control=int(data.get("last_control", 0)),
                            batch_numbers={str(key): int(value) for key, value in data.get("batch_numbers", {}).items()})
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError, TypeError):
        # An unreadable file: keep it for inspection and start a new identity (a new slot, so its
        # numbers cannot meet the old one's).
        try:
            os.replace(path, path.with_suffix(".damaged"))
        except OSError:
            pass
    installation = Installation(id=uuid.uuid4().hex, slot=secrets.randbelow(SLOTS - 1) + 1)
    save_installation(installation)
    return installation


def save_installation(installation: Installation) -> None:
    path = installation_file()
    paths.private_folder(path.parent)
    temporary = path.with_suffix(".tmp")
    text = json.dumps({"id": installation.id, "slot": installation.slot, "last_control": installation.last_control,
                       "batch_numbers": installation.batch_numbers})
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, paths.PRIVATE_FILE_MODE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def slot_of(control: int) -> int:
    return control // COUNTER_LIMIT


def counter_of(control: int) -> int:
    return control % COUNTER_LIMIT


def clock_counter(now: datetime) -> int:
    """Ten-minute periods since 2026-01-01 UTC: the lowest counter an installation may use at ``now``."""
    elapsed = (now.astimezone(UTC) - CLOCK_EPOCH).total_seconds()
    return max(0, int(elapsed // CLOCK_TICK_SECONDS)) % COUNTER_LIMIT


def free_slot(installation: Installation, taken: Collection[int]) -> Installation:
    """``installation`` on a slot no other installation in ``taken`` uses (re-chosen and saved if needed)."""
    if installation.slot not in taken:
        return installation
    free = [slot for slot in range(1, SLOTS) if slot not in taken]
    if not free:
        raise ValueError("every installation slot is taken")
    moved = replace(installation, slot=free[secrets.randbelow(len(free))], last_control=0)
    save_installation(moved)
    return moved


def next_control(installation: Installation, issued_here: Collection[int], now: datetime) -> int:
    """The next control number for ``installation``: past every number it issued (``issued_here``
    holds those the data file records for it) and past the clock."""
    counters = [counter_of(c) for c in issued_here if slot_of(c) == installation.slot]
    if slot_of(installation.last_control) == installation.slot:
        counters.append(counter_of(installation.last_control))
    counter = max([clock_counter(now) - 1, *counters]) + 1
    if counter >= COUNTER_LIMIT:
        raise ValueError("this installation's control numbers are used up; reinstall to get a new slot")
    return installation.slot * COUNTER_LIMIT + counter


def remember_control(installation: Installation, control: int) -> None:
    """Record ``control`` as issued, so it is never handed out again, whatever the data file says."""
    current = load_installation()
    if current.id == installation.id and control > current.last_control:
        save_installation(replace(current, last_control=control))


def last_batch_number(data_file_identity: str) -> int:
    """The last batch number this installation gave in the data file of that identity (0: none, or
    no readable installation file; reading never creates one)."""
    try:
        data = json.loads(installation_file().read_text(encoding="utf-8"))
        return int(data.get("batch_numbers", {}).get(data_file_identity, 0))
    except (OSError, ValueError, TypeError, AttributeError):
        return 0


def remember_batch_number(data_file_identity: str, number: int) -> None:
    """Record ``number`` as given in that data file, so a restored backup numbers past it. Best
    effort: the batch is recorded already, and the data file keeps its numbers in order anyway."""
    try:
        current = load_installation()
        if number > current.batch_numbers.get(data_file_identity, 0):
            save_installation(replace(current, batch_numbers={**current.batch_numbers, data_file_identity: number}))
    except OSError:
        pass

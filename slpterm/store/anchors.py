"""Anchors: the head of a data file's audit trail written down outside the file.

An anchor is a sequence number and the entry's hash at that moment. slpterm keeps the latest ones
in a small file per data file in the user's config folder (``anchors/<identity>.json``), and
writes one beside every export batch and into every backup. An anchor that names an entry the
trail no longer has, or an entry with another hash, shows that the trail was cut short or
rewritten, even when what is left in the data file is consistent.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from slpterm.paths import open_private, private_folder
from slpterm.store.audit import Anchor

ANCHORS_KEPT = 64
ANCHOR_FORMAT = "slpterm-audit-anchor"


def _file_name(identity: str) -> str:
    try:
        return f"{uuid.UUID(identity)}.json"
    except ValueError:  # an identity that is not ours: never let it shape a path
        return "other-" + re.sub(r"[^A-Za-z0-9]+", "-", identity)[:60] + ".json"


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Replace ``path`` with ``data`` in one step, readable by its owner only."""
    private_folder(path.parent)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open_private(temporary) as handle:
            handle.write(json.dumps(data, indent=1, sort_keys=True).encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


@dataclass
class AnchorFile:
    """What the anchor file of one data file holds."""

    identity: str
    data_file: str = ""
    anchors: list[Anchor] = field(default_factory=list)
    superseded: list[dict[str, Any]] = field(default_factory=list)  # anchors set aside by a restore, with its time


class AnchorBook:
    """The anchor file of one data file (by its lasting identity) in ``folder``."""

    def __init__(self, folder: Path, identity: str) -> None:
        self.folder = Path(folder)
        self.identity = identity
        self.path = self.folder / _file_name(identity)

    def read(self) -> AnchorFile:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return AnchorFile(self.identity)
        except (OSError, ValueError) as error:
            raise AnchorUnreadable(f"The audit anchor file {self.path} cannot be read ({error}).") from error
        return AnchorFile(
            identity=str(data.get("identity", self.identity)),
            data_file=str(data.get("data_file", "")),
            anchors=[Anchor.from_dict(item) for item in data.get("anchors", [])],
            superseded=list(data.get("superseded", [])),
        )

    def anchors(self) -> list[Anchor]:
        return self.read().anchors

    def _write(self, content: AnchorFile) -> None:
        _write_json(self.path, {
            "format": ANCHOR_FORMAT, "identity": content.identity, "data_file": content.data_file,
            "anchors": [anchor.as_dict() for anchor in content.anchors], "superseded": content.superseded[-ANCHORS_KEPT:],
        })

    def add(self, anchor: Anchor, data_file: Path) -> bool:
        """Keep ``anchor`` (unless the same head is already kept); True when the file was written. An
        earlier anchor of the same entry with another hash is kept too: it is evidence."""
        content = self.read()
        if any((item.seq, item.hash) == (anchor.seq, anchor.hash) for item in content.anchors):
            return False
        content.anchors = sorted([*content.anchors, anchor], key=lambda item: item.seq)[-ANCHORS_KEPT:]
        content.data_file = str(data_file)
        self._write(content)
        return True

    def replace_hashes(self, new_hashes: dict[int, tuple[str, str]], new_key_id: str) -> None:
        """After the trail was re-sealed under a new key: anchors whose entry still had the anchored
        hash get the entry's new hash, so they stay comparable."""
        content = self.read()
        if not content.anchors:
            return
        changed = []
        for anchor in content.anchors:
            before_after = new_hashes.get(anchor.seq)
            if before_after is not None and before_after[0] == anchor.hash:
                anchor = Anchor(anchor.seq, before_after[1], new_key_id, anchor.at, anchor.reason)
            changed.append(anchor)
        content.anchors = changed
        self._write(content)

    def set_aside(self, after_seq: int, reason: str) -> None:
        """A restore went back to an older copy of the trail, which ends at ``after_seq``: the anchors
        beyond it belong to the replaced trail; they are kept as a record, but no longer checked."""
        content = self.read()
        beyond = [anchor for anchor in content.anchors if anchor.seq > after_seq]
        if not beyond:
            return
        content.superseded += [{**anchor.as_dict(), "set_aside": now_text(), "because": reason} for anchor in beyond]
        content.anchors = [anchor for anchor in content.anchors if anchor.seq <= after_seq]
        self._write(content)


class AnchorUnreadable(Exception):
    pass


def others_at(folder: Path, data_file: Path, identity: str) -> list[str]:
    """Identities of other data files that were anchored at the same path (a file replaced wholesale
    has a new identity and so no anchor of its own)."""
    found: list[str] = []
    try:
        candidates = sorted(Path(folder).glob("*.json"))
    except OSError:
        return found
    for candidate in candidates:
        try:
            data = json.loads(candidate.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if data.get("data_file") == str(data_file) and data.get("identity") != identity and data.get("anchors"):
            found.append(str(data.get("identity")))
    return found


def anchor_record(identity: str, anchor: Anchor, **extra: object) -> dict[str, Any]:
    """An anchor as written beside an export batch (no path or name: the folder may be sent on)."""
    return {"format": ANCHOR_FORMAT, "identity": identity, **anchor.as_dict(), **extra}


def write_anchor_record(path: Path, record: dict[str, Any]) -> Path:
    _write_json(path, record)
    return path


def read_anchor_record(path: Path) -> tuple[str, Anchor]:
    """(identity, anchor) from a file written by :func:`write_anchor_record`."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if data.get("format") != ANCHOR_FORMAT or "seq" not in data:
        raise ValueError(f"{path} is not an slpterm audit anchor")
    return str(data.get("identity", "")), Anchor.from_dict(data)

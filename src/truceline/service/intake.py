"""New FIRMS data into the lake: from the FIRMS API or from a drop folder.

Both paths end in :meth:`Lake.ingest_firms`, so a fetched or dropped file gets the same
validation, quarantine of bad rows and ledger entry as ``truceline ingest firms``; a
file the ledger already records is skipped. A drop folder is taken one file at a time,
so one malformed file cannot hold back the others: it is moved to ``DROP/rejected/``
with a ``.reason.txt`` beside it, and the rest go in.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from truceline.errors import InputError
from truceline.lake.store import Lake
from truceline.sources.fetch import AreaRequest, RemoteSource, download

REJECTED_DIR = "rejected"


@dataclass
class IntakeResult:
    """What one intake did: files read, detections added, files set aside and why."""

    files: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, str]] = field(default_factory=list)

    @property
    def added(self) -> int:
        return int(sum(f.get("added", 0) for f in self.files))

    @property
    def new_files(self) -> int:
        return len(self.files)

    def to_dict(self) -> dict[str, Any]:
        return {"files": self.files, "skipped": self.skipped, "rejected": self.rejected,
                "added": self.added}


def fetch_into_lake(lake: Lake, source: RemoteSource, requests: list[AreaRequest],
                    folder: Path) -> IntakeResult:
    """Download each request to ``folder`` and ingest the answers in one transaction."""
    saved = download(source, requests, folder)
    result = IntakeResult()
    with_rows = [d.path for d in saved]
    summary = lake.ingest_firms(with_rows)
    result.files, result.skipped = summary.files, summary.skipped
    return result


def drop_into_lake(lake: Lake, folder: Path) -> IntakeResult:
    """Ingest every FIRMS file in ``folder`` the ledger does not already record.

    Files are taken in name order, one transaction each; names starting with ``.`` or
    ending in ``.part``/``.tmp`` are still being written and wait for the next call.
    """
    if not folder.is_dir():
        raise InputError(f"--drop {folder}: no such folder")
    files = sorted(p for p in folder.iterdir() if p.is_file()
                   and not p.name.startswith(".") and p.suffix.lower() in (".csv", ".txt")
                   and not p.name.endswith(".reason.txt"))
    result = IntakeResult()
    for f in files:
        try:
            summary = lake.ingest_firms([f])
        except InputError as exc:
            result.rejected.append(_set_aside(folder, f, str(exc)))
            continue
        result.files += summary.files
        result.skipped += summary.skipped
    return result


def _set_aside(folder: Path, f: Path, reason: str) -> dict[str, str]:
    """Move a file the lake refused to ``folder/rejected`` with the reason beside it."""
    target_dir = folder / REJECTED_DIR
    target_dir.mkdir(exist_ok=True)
    target = target_dir / f.name
    os.replace(f, target)
    (target_dir / (f.name + ".reason.txt")).write_text(reason + "\n", encoding="utf-8")
    return {"file": f.name, "moved_to": str(target), "reason": reason}

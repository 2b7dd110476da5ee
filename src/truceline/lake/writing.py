"""What every write to the lake shares: its progress callback, what an ingest reports,
and the write in progress (its id and the table versions it committed).

Why apart: the lake's tables are written by :mod:`truceline.lake.store` (the lock, the
ledger, recovery) and by the ingests that live beside it
(:mod:`truceline.lake.firms_tables`, :mod:`truceline.lake.control_tables`); these pieces
are what they pass between them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from truceline.lake.store import Lake

Progress = Callable[[str, int, int], None]


def _no_progress(label: str, done: int, total: int) -> None:
    return None


@dataclass
class IngestSummary:
    """What one ingest call did, per file and in total (also what the ledger records)."""

    files: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    txn: str | None = None

    def total(self, key: str) -> int:
        return int(sum(f.get(key, 0) for f in self.files))


def _deltalake() -> Any:
    import deltalake

    return deltalake


class _Write:
    """One write in progress: its id and the table versions it has committed so far."""

    def __init__(self, lake: Lake) -> None:
        self.id = uuid.uuid4().hex[:16]
        self.lake = lake
        self.before = lake.table_versions()
        self.after: dict[str, int] = {}

    def commit_props(self) -> Any:
        return _deltalake().CommitProperties(custom_metadata={"truceline_txn": self.id})

    def wrote(self, name: str) -> None:
        self.after[name] = self.lake._latest_version(name)

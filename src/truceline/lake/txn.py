"""All-or-nothing changes to the lake's files.

A change is staged in ``.txn/<id>/new/`` beside the lake, its plan written to
``.txn/<id>/plan.json``, then each target is swapped in with ``os.replace`` (atomic on
one file system) while the file it replaces is kept in ``.txn/<id>/old/``. The ledger
entry carrying the transaction id is the commit point. If anything fails before it, the
swaps are undone at once; if the process dies, the next :func:`recover` (run whenever
the lake is opened) undoes them. A reader therefore never sees half an ingest for longer
than the crash itself.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

TXN_DIR = ".txn"


def _move(src: Path, dst: Path) -> None:
    """One atomic rename (a separate function so tests can inject a failure here)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    os.replace(src, dst)


class Transaction:
    """Stage new files and deletions, then swap them into the lake together."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.id = uuid.uuid4().hex[:16]
        self.dir = root / TXN_DIR / self.id
        self.targets: list[str] = []
        self.deletions: list[str] = []

    def stage(self, rel: str) -> Path:
        """Path to write the new version of lake file ``rel`` to; staging a file again
        (two inputs for one lake file) rewrites it there: the last write wins."""
        path = self.dir / "new" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if rel not in self.targets:
            self.targets.append(rel)
        return path

    def delete(self, rel: str) -> None:
        """Remove lake file ``rel`` when the transaction commits."""
        self.deletions.append(rel)

    def commit(self, on_commit: Callable[[str], None]) -> None:
        """Swap every staged file in, then call ``on_commit(txn_id)`` (the ledger append).

        Any exception undoes the swaps and is re-raised; the lake is as it was.
        """
        plan = [{"rel": rel, "existed": (self.root / rel).exists(), "delete": False}
                for rel in self.targets]
        plan += [{"rel": rel, "existed": True, "delete": True} for rel in self.deletions]
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "plan.json").write_text(json.dumps(plan))
        try:
            for step in plan:
                target = self.root / step["rel"]
                if step["existed"] and target.exists():
                    _move(target, self.dir / "old" / step["rel"])
                if not step["delete"]:
                    _move(self.dir / "new" / step["rel"], target)
            on_commit(self.id)
        except BaseException:
            rollback(self.root, self.dir)
            raise
        shutil.rmtree(self.dir, ignore_errors=True)

    def abandon(self) -> None:
        """Drop staged files that were never swapped in."""
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Transaction:
        return self

    def __exit__(self, *exc: object) -> None:
        """Leaving the block, committed or not, drops what is still staged."""
        self.abandon()


def rollback(root: Path, txn_dir: Path) -> None:
    """Undo a transaction's swaps: restore replaced files, remove added ones."""
    plan_file = txn_dir / "plan.json"
    if plan_file.exists():
        for step in reversed(json.loads(plan_file.read_text())):
            target = root / step["rel"]
            old = txn_dir / "old" / step["rel"]
            new = txn_dir / "new" / step["rel"]
            if step["existed"]:
                if old.exists():
                    os.replace(old, target)
            elif not step["delete"] and target.exists() and not new.exists():
                target.unlink()
    shutil.rmtree(txn_dir, ignore_errors=True)


def recover(root: Path, committed: set[str]) -> list[str]:
    """Finish or undo transactions a crash left behind; return what was done.

    ``committed`` holds the transaction ids the ledger records: those only need their
    leftovers removed; any other is rolled back.
    """
    done = []
    base = root / TXN_DIR
    if not base.is_dir():
        return done
    for txn_dir in sorted(p for p in base.iterdir() if p.is_dir()):
        if txn_dir.name in committed:
            shutil.rmtree(txn_dir, ignore_errors=True)
            done.append(f"cleaned committed transaction {txn_dir.name}")
        else:
            rollback(root, txn_dir)
            done.append(f"rolled back unfinished transaction {txn_dir.name}")
    return done

"""The lake's append-only, hash-chained ledger (JSON lines).

Each entry records what happened (an ingest, a published finding) and carries
``prev`` (the hash of the entry before it, or 64 zeros for the first) and ``hash``
(SHA-256 of the entry's canonical JSON without ``hash``). A sidecar file
``ledger.head`` holds the number of entries and the last hash, so that a deleted last
entry is caught too. Any edit, deletion or reordering breaks the chain:
:func:`verify_ledger` names the first line where it breaks.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from truceline.errors import IntegrityError

GENESIS = "0" * 64


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no spaces: the exact bytes a hash is taken over."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


def entry_hash(entry: dict[str, Any]) -> str:
    """SHA-256 of an entry's canonical JSON, ``hash`` itself left out."""
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


@dataclass
class LedgerCheck:
    """Outcome of a ledger verification: ok, entries read, and every problem found."""

    ok: bool
    entries: int
    head: str
    problems: list[str] = field(default_factory=list)


def read_entries(path: Path) -> list[dict[str, Any]]:
    """All ledger entries, in file order (an absent ledger is empty)."""
    if not path.exists():
        return []
    out = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise IntegrityError(f"{path}:{i}: not valid JSON ({exc.msg})") from exc
    return out


def head_of(entries: list[dict[str, Any]]) -> str:
    return entries[-1]["hash"] if entries else GENESIS


def make_entry(prev_entries: list[dict[str, Any]], kind: str, **fields: Any) -> dict[str, Any]:
    """A new entry chained onto ``prev_entries`` (not yet written)."""
    entry = {
        "seq": len(prev_entries) + 1,
        "time_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "kind": kind,
        **fields,
        "prev": head_of(prev_entries),
    }
    # round-trip so the stored entry hashes to exactly what we record
    entry = json.loads(canonical_json(entry))
    entry["hash"] = entry_hash(entry)
    return entry


def append_entries(path: Path, entries: list[dict[str, Any]]) -> None:
    """Append entries in one write, then move the head file forward.

    The head file is the commit point: lines past the count it records belong to a
    write that never finished, and :func:`drop_uncommitted` removes them.
    """
    if not entries:
        return
    with open(path, "a", encoding="utf-8") as f:
        f.write("".join(canonical_json(e) + "\n" for e in entries))
        f.flush()
        os.fsync(f.fileno())
    head = path.with_suffix(".head")
    tmp = head.with_suffix(".head.tmp")
    last = entries[-1]
    tmp.write_text(canonical_json({"entries": last["seq"], "hash": last["hash"]}) + "\n")
    os.replace(tmp, head)


def append_entry(path: Path, entry: dict[str, Any]) -> None:
    """Append one entry (see :func:`append_entries`)."""
    append_entries(path, [entry])


def drop_uncommitted(path: Path) -> int:
    """Cut ledger lines written after the last committed head; return how many."""
    head_file = path.with_suffix(".head")
    if not path.exists():
        return 0
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    n = json.loads(head_file.read_text())["entries"] if head_file.exists() else 0
    if len(lines) <= n:
        return 0
    tmp = path.with_suffix(".jsonl.tmp")
    tmp.write_text("".join(lines[:n]), encoding="utf-8")
    os.replace(tmp, path)
    return len(lines) - n


def verify_ledger(path: Path) -> LedgerCheck:
    """Re-walk the chain; report every broken link, edited entry or missing tail."""
    try:
        entries = read_entries(path)
    except IntegrityError as exc:
        return LedgerCheck(False, 0, GENESIS, [str(exc)])
    problems: list[str] = []
    prev = GENESIS
    for i, e in enumerate(entries, start=1):
        if e.get("seq") != i:
            problems.append(f"line {i}: sequence number {e.get('seq')} where {i} was expected "
                            "(an entry was deleted or moved)")
        if e.get("prev") != prev:
            problems.append(f"line {i}: 'prev' does not match the hash of the entry before it "
                            "(an entry was deleted, inserted or moved)")
        if entry_hash(e) != e.get("hash"):
            problems.append(f"line {i}: content does not match its hash (the entry was edited)")
        prev = e.get("hash", "")
    head_file = path.with_suffix(".head")
    if head_file.exists():
        head = json.loads(head_file.read_text())
        if head.get("entries") != len(entries) or head.get("hash") != prev:
            problems.append(f"{head_file.name}: records {head.get('entries')} entries ending in "
                            f"{str(head.get('hash'))[:12]}…, the ledger has {len(entries)} ending "
                            f"in {prev[:12]}… (entries were removed from the end or added)")
    elif entries:
        problems.append(f"{head_file.name} is missing")
    return LedgerCheck(not problems, len(entries), prev, problems)

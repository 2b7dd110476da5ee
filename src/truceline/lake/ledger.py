"""The lake's append-only, hash-chained ledger (JSON lines), and its commit protocol.

Each entry records what happened (an ingest, a published finding) and carries
``prev`` (the hash of the entry before it, or 64 zeros for the first) and ``hash``
(SHA-256 of the entry's canonical JSON without ``hash``). ``ledger.head`` holds the
number of entries and the last hash: the commit point. Any edit, deletion, reordering,
blank line, missing or garbled head, or head older than the ledger is an integrity
problem that :func:`verify_ledger` names; nothing here ever "repairs" one by cutting the
ledger.

Appending (:func:`append_entries`) is crash-safe:

1. ``ledger.pending`` records the ledger's size and head before the write and the head
   the write will reach (written whole: temporary file, fsync, rename);
2. the new lines are appended and fsynced;
3. ``ledger.head`` moves forward (temporary file, fsync, rename, fsync of the folder);
4. ``ledger.pending`` is removed.

After a crash, :func:`finish_pending` (run by the next writer, never by a reader) either
completes step 3 when every promised line reached the disk, or cuts exactly the bytes the
interrupted write added (those past the recorded size). Readers take the entries the head
counts and never wait.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from truceline.errors import IntegrityError

GENESIS = "0" * 64
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


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


def head_path(path: Path) -> Path:
    return path.with_suffix(".head")


def pending_path(path: Path) -> Path:
    return path.with_suffix(".pending")


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new file in ``folder`` durable (a no-op where unsupported)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_durably(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` all at once: temporary file, fsync, rename, fsync."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def read_head(path: Path) -> tuple[int, str] | None:
    """The committed (entries, hash) from ``ledger.head``; None when there is none.

    A head that is present but not what this module writes is an integrity error.
    """
    hp = head_path(path)
    try:
        text = hp.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as exc:
        raise IntegrityError(f"{hp}: garbled (not UTF-8 text); the ledger cannot be "
                             "trusted: run `truceline ledger verify`") from exc
    try:
        head = json.loads(text)
        n, h = head["entries"], head["hash"]
        if not isinstance(n, int) or isinstance(n, bool) or n < 0 or not _HEX64.match(h):
            raise ValueError
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise IntegrityError(f"{hp}: garbled (expected {{\"entries\": N, \"hash\": 64 hex "
                             f"digits}}, found {text[:80]!r}); the ledger cannot be trusted: "
                             "run `truceline ledger verify`") from exc
    return n, h


def _parse_lines(path: Path, data: bytes, first_line: int = 1) -> list[dict[str, Any]]:
    out = []
    text = data.decode("utf-8", errors="strict")
    for i, line in enumerate(text.split("\n")[:-1] if text.endswith("\n") else
                             text.split("\n"), start=first_line):
        if not line.strip():
            raise IntegrityError(f"{path}:{i}: blank line (an entry was removed or the file "
                                 "was edited)")
        try:
            e = json.loads(line)
        except json.JSONDecodeError as exc:
            raise IntegrityError(f"{path}:{i}: not valid JSON ({exc.msg})") from exc
        if not isinstance(e, dict):
            raise IntegrityError(f"{path}:{i}: not a JSON object")
        out.append(e)
    return out


def read_entries(path: Path) -> list[dict[str, Any]]:
    """The committed entries: as many lines as ``ledger.head`` counts, checked against it.

    An absent ledger with no head is empty. A ledger without a head, a garbled head, a
    ledger shorter than its head or whose last counted entry does not hash to the head,
    blank or non-JSON lines are integrity errors (exit 4). Lines past the head belong to
    a write in progress (or to tampering, which :func:`verify_ledger` reports) and are
    not returned.
    """
    head = read_head(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        data = b""
    if head is None:
        pending = _pending_size(path)
        if pending is not None:  # the very first append is in progress (or was killed)
            data = data[:pending]
        if data.strip():
            raise IntegrityError(f"{head_path(path)} is missing while {path.name} holds "
                                 "entries: the ledger cannot be trusted (run `truceline "
                                 "ledger verify`; compare with a published anchor)")
        return []
    n, h = head
    lines = data.split(b"\n")
    if len(lines) - 1 < n:  # the last element is what follows the last newline
        raise IntegrityError(f"{head_path(path)} counts {n} entries, {path.name} has "
                             f"{max(len(lines) - 1, 0)}: entries were removed")
    try:
        entries = _parse_lines(path, b"\n".join(lines[:n]) + (b"\n" if n else b""))
    except UnicodeDecodeError as exc:
        raise IntegrityError(f"{path}: not UTF-8 text") from exc
    if (entries[-1].get("hash") if entries else GENESIS) != h or (
            entries and entry_hash(entries[-1]) != h):
        raise IntegrityError(f"{path}: entry {n} does not match the hash {h[:12]}… that "
                             f"{head_path(path).name} records: run `truceline ledger verify`")
    return entries


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


def _head_bytes(n: int, h: str) -> bytes:
    return (canonical_json({"entries": n, "hash": h}) + "\n").encode()


def append_entries(path: Path, entries: list[dict[str, Any]],
                   before: list[dict[str, Any]] | None = None) -> None:
    """Append entries (chained onto ``before``, the committed entries) crash-safely.

    See the module docstring for the steps; the caller holds the lake's write lock.
    """
    if not entries:
        return
    if before is None:
        before = read_entries(path)
    size = path.stat().st_size if path.exists() else 0
    last = entries[-1]
    pending = {"size_before": size, "entries_before": len(before), "hash_before": head_of(before),
               "entries_after": last["seq"], "hash_after": last["hash"]}
    write_durably(pending_path(path), (canonical_json(pending) + "\n").encode())
    with open(path, "ab") as f:
        f.write("".join(canonical_json(e) + "\n" for e in entries).encode())
        f.flush()
        os.fsync(f.fileno())
    write_durably(head_path(path), _head_bytes(last["seq"], last["hash"]))
    pending_path(path).unlink()
    fsync_dir(path.parent)


def append_entry(path: Path, entry: dict[str, Any]) -> None:
    """Append one entry (see :func:`append_entries`)."""
    append_entries(path, [entry])


def finish_pending(path: Path) -> str | None:
    """Complete or undo an append a crash interrupted; say which (None: nothing to do).

    Runs under the write lock. Only the bytes past the size ``ledger.pending`` recorded
    are ever cut, and only when they are not the whole promised write.
    """
    pp = pending_path(path)
    try:
        pending = json.loads(pp.read_text(encoding="utf-8"))
        size = int(pending["size_before"])
        n0, h0 = int(pending["entries_before"]), str(pending["hash_before"])
        n1, h1 = int(pending["entries_after"]), str(pending["hash_after"])
    except FileNotFoundError:
        return None
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, UnicodeDecodeError) as exc:
        raise IntegrityError(f"{pp}: garbled; the ledger cannot be trusted") from exc
    head = read_head(path)
    if head == (n1, h1):  # the head moved: only the marker was left
        pp.unlink()
        return "finished an interrupted ledger commit (its head had moved)"
    if head != (n0, h0) and not (head is None and n0 == 0):
        raise IntegrityError(f"{pp} records a commit from {n0} to {n1} entries but "
                             f"{head_path(path).name} is at {head}: the ledger cannot be trusted")
    data = path.read_bytes() if path.exists() else b""
    tail = data[size:]
    try:
        new = _parse_lines(path, tail) if tail.endswith(b"\n") else []
    except (IntegrityError, UnicodeDecodeError):
        new = []
    whole = (len(new) == n1 - n0 and new and new[-1].get("hash") == h1
             and entry_hash(new[-1]) == h1)
    if whole:
        write_durably(head_path(path), _head_bytes(n1, h1))
        msg = f"finished an interrupted ledger commit ({n1 - n0} entries)"
    else:
        if path.exists():  # killed before the first append created the file: nothing to cut
            with open(path, "r+b") as f:
                f.truncate(size)
                f.flush()
                os.fsync(f.fileno())
        msg = f"undid an interrupted ledger commit ({len(tail)} bytes past entry {n0})"
    pp.unlink()
    fsync_dir(path.parent)
    return msg


def _pending_size(path: Path) -> int | None:
    """The ledger size ``ledger.pending`` records before an append still in progress (its
    head has not moved), if any: the bytes past it are not committed yet."""
    try:
        p = json.loads(pending_path(path).read_text(encoding="utf-8"))
        size, after = int(p["size_before"]), (int(p["entries_after"]), str(p["hash_after"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        if read_head(path) == after:  # killed after the head moved: committed
            return None
    except IntegrityError:
        pass
    return size


def parse_anchor(anchor: str) -> tuple[int | None, str]:
    """``HASH`` or ``SEQ:HASH`` (what `truceline ledger anchor` prints) as (seq, hash)."""
    seq_text, _, h = anchor.strip().rpartition(":")
    h = h.lower()
    if not _HEX64.match(h) or (seq_text and not seq_text.isdigit()):
        from truceline.errors import InputError

        raise InputError(f"--anchor {anchor!r}: expected the 64 hex digits of a ledger hash, "
                         "optionally after its entry number (SEQ:HASH), as `truceline "
                         "ledger anchor` prints it")
    return (int(seq_text) if seq_text else None), h


def verify_ledger(path: Path, anchor: str | None = None) -> LedgerCheck:
    """Re-walk the chain; report every broken link, edited entry, blank line, missing or
    garbled head, entries past the head, and (with ``anchor``) a missing anchor."""
    problems: list[str] = []
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        data = b""
    entries: list[dict[str, Any]] = []
    pending = _pending_size(path)
    if pending is not None:  # a write in progress (or killed): its bytes are not judged
        data = data[:pending]
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    elif lines and text:
        problems.append(f"line {len(lines)}: not terminated by a newline (a write was cut)")
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            problems.append(f"line {i}: blank (an entry was removed or the file was edited)")
            continue
        try:
            e = json.loads(line)
            if not isinstance(e, dict):
                raise ValueError
        except (json.JSONDecodeError, ValueError):
            problems.append(f"line {i}: not a JSON object")
            continue
        entries.append(e)
    prev = GENESIS
    for i, e in enumerate(entries, start=1):
        if e.get("seq") != i:
            problems.append(f"entry {i}: sequence number {e.get('seq')} where {i} was expected "
                            "(an entry was deleted or moved)")
        if e.get("prev") != prev:
            problems.append(f"entry {i}: 'prev' does not match the hash of the entry before it "
                            "(an entry was deleted, inserted or moved)")
        if entry_hash(e) != e.get("hash"):
            problems.append(f"entry {i}: content does not match its hash (the entry was edited)")
        prev = str(e.get("hash", ""))
    hp = head_path(path)
    try:
        head = read_head(path)
    except IntegrityError as exc:
        problems.append(str(exc))
        head = None
    else:
        if head is None and entries:
            problems.append(f"{hp.name} is missing")
    if head is not None:
        n, h = head
        if n > len(entries):
            problems.append(f"{hp.name}: records {n} entries ending in {h[:12]}…, the ledger "
                            f"has {len(entries)} (entries were removed from the end)")
        elif (entries[n - 1].get("hash") if n else GENESIS) != h:
            problems.append(f"{hp.name}: entry {n} should hash to {h[:12]}… and does not "
                            "(the head or the ledger was replaced)")
        elif n < len(entries):
            problems.append(f"{hp.name}: records {n} entries, the ledger has {len(entries)} "
                            "(the head is older than the ledger, or entries were added "
                            "without a commit)")
    if anchor is not None:
        seq, want = parse_anchor(anchor)
        at = [i for i, e in enumerate(entries, start=1) if e.get("hash") == want]
        if not at:
            problems.append(f"anchor {want[:12]}… is not in the ledger (the chain was rewritten "
                            "or cut since the anchor was published)")
        elif seq is not None and seq not in at:
            problems.append(f"anchor {want[:12]}… is entry {at[0]}, not entry {seq}")
    return LedgerCheck(not problems, len(entries), prev, problems)

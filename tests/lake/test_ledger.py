"""The ledger: never cut or reset by the tool, every tampering an integrity error (exit 4),
crash-safe appends, and anchors that catch a rewritten chain (issue 12, items 2, 3, 13)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from truceline.cli import app
from truceline.errors import IntegrityError, TrucelineError
from truceline.lake import ledger as ledger_mod
from truceline.lake.store import Lake


def _lake(tmp_path: Path, n: int = 3) -> Lake:
    lake = Lake(tmp_path / "lake")
    for i in range(n):
        lake.record("test-finding", note=f"finding {i}")
    return lake


class _Result:
    """A CLI run with the exit code `truceline` (cli.main) gives a library error."""

    def __init__(self, args: list[str]) -> None:
        r = CliRunner().invoke(app, args)
        self.output = r.output + (str(r.exception) if isinstance(r.exception,
                                                                 TrucelineError) else "")
        self.exit_code = (r.exception.exit_code if isinstance(r.exception, TrucelineError)
                          else r.exit_code)


def _run(*args: str) -> _Result:
    return _Result(list(args))


def _files(lake: Lake) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in lake.root.glob("ledger.*")}


def test_missing_head_is_an_integrity_error_not_a_reset(tmp_path):
    lake = _lake(tmp_path)
    lake.ledger_path.with_suffix(".head").unlink()
    before = _files(lake)
    with pytest.raises(IntegrityError, match="ledger.head is missing"):
        lake.ledger_entries()
    for cmd in (["lake", "info"], ["ledger", "verify"]):
        r = _run(*cmd, "--lake", str(lake.root))
        assert r.exit_code == 4, r.output
    with pytest.raises(IntegrityError):
        lake.record("test-finding", note="more")
    assert _files(lake) == before  # not truncated, not "repaired"


def test_garbled_head_is_exit_4_with_a_message(tmp_path):
    lake = _lake(tmp_path)
    lake.ledger_path.with_suffix(".head").write_text("{not json")
    before = _files(lake)
    r = _run("lake", "info", "--lake", str(lake.root))
    assert r.exit_code == 4 and "ledger.head: garbled" in r.output
    r = _run("ledger", "verify", "--lake", str(lake.root))
    assert r.exit_code == 4 and "garbled" in r.output
    assert _files(lake) == before


def test_blank_line_is_detected_and_nothing_is_deleted(tmp_path):
    lake = _lake(tmp_path)
    lines = lake.ledger_path.read_text().splitlines(keepends=True)
    lake.ledger_path.write_text(lines[0] + "\n" + "".join(lines[1:]))
    before = _files(lake)
    check = lake.verify_ledger()
    assert not check.ok and any("blank" in p for p in check.problems)
    with pytest.raises(IntegrityError):
        lake.record("test-finding", note="more")
    assert _files(lake) == before


def test_older_head_is_detected_not_used_to_drop_entries(tmp_path):
    lake = _lake(tmp_path, 2)
    old_head = lake.ledger_path.with_suffix(".head").read_bytes()
    lake.record("test-finding", note="newer")
    lake.ledger_path.with_suffix(".head").write_bytes(old_head)
    before = _files(lake)
    check = lake.verify_ledger()
    assert not check.ok and any("older than the ledger" in p for p in check.problems)
    with pytest.raises(IntegrityError, match="fails verification"):
        lake.record("test-finding", note="more")
    assert _files(lake) == before
    assert len(lake.ledger_path.read_text().splitlines()) == 3


def test_anchor_catches_a_ledger_rewritten_with_recomputed_hashes(tmp_path):
    lake = _lake(tmp_path)
    r = _run("ledger", "anchor", "--lake", str(lake.root))
    anchor = r.output.strip()
    seq, h = anchor.split(":")
    assert r.exit_code == 0 and seq == "3" and len(h) == 64
    lake.record("test-finding", note="later")
    assert _run("ledger", "verify", "--lake", str(lake.root), "--anchor", anchor).exit_code == 0
    # an attacker edits entry 2 and recomputes every hash and the head
    entries = [json.loads(x) for x in lake.ledger_path.read_text().splitlines()]
    entries[1]["note"] = "nothing happened"
    chain: list[dict] = []
    for e in entries:
        fields = {k: v for k, v in e.items() if k not in ("seq", "prev", "hash", "kind",
                                                          "time_utc")}
        new = ledger_mod.make_entry(chain, e["kind"], **fields)
        chain.append(new)
    lake.ledger_path.write_text("".join(ledger_mod.canonical_json(e) + "\n" for e in chain))
    lake.ledger_path.with_suffix(".head").write_text(ledger_mod.canonical_json(
        {"entries": len(chain), "hash": chain[-1]["hash"]}) + "\n")
    assert lake.verify_ledger().ok  # the chain alone cannot tell
    r = _run("ledger", "verify", "--lake", str(lake.root), "--anchor", anchor)
    assert r.exit_code == 4 and "not in the ledger" in r.output
    r = _run("ledger", "verify", "--lake", str(lake.root), "--anchor", "xyz")
    assert r.exit_code == 2


def _interrupted_append(lake: Lake, whole: bool) -> list[dict]:
    """Leave the ledger as a process killed during append_entries would."""
    before = lake.ledger_entries()
    new = [ledger_mod.make_entry(before, "test-finding", note="interrupted")]
    size = lake.ledger_path.stat().st_size
    ledger_mod.write_durably(ledger_mod.pending_path(lake.ledger_path), json.dumps(
        {"size_before": size, "entries_before": len(before),
         "hash_before": ledger_mod.head_of(before), "entries_after": new[-1]["seq"],
         "hash_after": new[-1]["hash"]}).encode())
    line = ledger_mod.canonical_json(new[0]) + "\n"
    with open(lake.ledger_path, "a") as f:
        f.write(line if whole else line[: len(line) // 2])
    return before


@pytest.mark.parametrize("whole", [True, False])
def test_append_killed_before_the_head_moved(tmp_path, whole):
    lake = _lake(tmp_path)
    before = _interrupted_append(lake, whole)
    reader = Lake(lake.root)  # readers see the committed entries, and never write
    assert reader.ledger_entries() == before and reader.verify_ledger().ok
    lake.record("test-finding", note="next")  # the next writer finishes or undoes it
    notes = [e.get("note") for e in lake.ledger_entries()]
    assert notes == ["finding 0", "finding 1", "finding 2",
                     *(["interrupted"] if whole else []), "next"]
    assert lake.verify_ledger().ok
    assert not ledger_mod.pending_path(lake.ledger_path).exists()


def test_temporary_files_of_a_killed_write_do_not_stop_the_lake(tmp_path):
    lake = _lake(tmp_path)
    (lake.root / "ledger.head.tmp").write_text('{"entr')  # killed while writing the head
    (lake.root / "ledger.pending.tmp").write_text("")
    (lake.root / "lake.json.tmp").write_text("")
    assert Lake(lake.root).verify_ledger().ok
    lake.record("test-finding", note="next")
    assert lake.verify_ledger().ok and len(lake.ledger_entries()) == 4


def test_append_killed_after_the_head_moved(tmp_path):
    lake = _lake(tmp_path, 2)
    before = lake.ledger_entries()
    size = lake.ledger_path.stat().st_size
    lake.record("test-finding", note="committed")
    last = lake.ledger_entries()[-1]
    ledger_mod.write_durably(ledger_mod.pending_path(lake.ledger_path), json.dumps(
        {"size_before": size, "entries_before": len(before),
         "hash_before": ledger_mod.head_of(before), "entries_after": 3,
         "hash_after": last["hash"]}).encode())  # only the marker was left behind
    reader = Lake(lake.root)
    assert reader.ledger_entries()[-1] == last and reader.verify_ledger().ok
    lake.record("test-finding", note="next")
    assert [e.get("note") for e in lake.ledger_entries()][-2:] == ["committed", "next"]
    assert not ledger_mod.pending_path(lake.ledger_path).exists()


def test_first_append_killed_before_the_ledger_file_existed(tmp_path):
    """Killed after `ledger.pending` was written but before `ledger.jsonl` was created (the
    lake's very first write): the lake opens empty and the next writer goes on (a kill
    timing tests/lake/test_kill.py hit once under load)."""
    lake = _lake(tmp_path, 0)
    lake.root.mkdir(parents=True, exist_ok=True)
    first = ledger_mod.make_entry([], "test-finding", note="interrupted")
    ledger_mod.write_durably(ledger_mod.pending_path(lake.ledger_path), json.dumps(
        {"size_before": 0, "entries_before": 0, "hash_before": ledger_mod.head_of([]),
         "entries_after": first["seq"], "hash_after": first["hash"]}).encode())
    assert not lake.ledger_path.exists()
    reader = Lake(lake.root)
    assert reader.ledger_entries() == [] and reader.verify_ledger().ok
    lake.record("test-finding", note="next")
    assert [e.get("note") for e in lake.ledger_entries()] == ["next"]
    assert lake.verify_ledger().ok
    assert not ledger_mod.pending_path(lake.ledger_path).exists()

"""Service tokens: a name tells live tokens apart, so no two share one."""

from __future__ import annotations

import subprocess
import sys

import pytest

from truceline.errors import InputError
from truceline.lake.store import Lake
from truceline.service.tokens import TOKENS_FILE, create_token, read_tokens, revoke_token


def test_a_live_tokens_name_is_not_given_twice(tmp_path):
    lake = Lake(tmp_path / "lake")
    _, first = create_token(lake, "read", "newsroom")
    stored = (lake.root / TOKENS_FILE).read_bytes()
    entries = len(lake.ledger_entries())
    with pytest.raises(InputError, match=rf"--name 'newsroom': token {first['id']} already "
                       "has that name"):
        create_token(lake, "write", "newsroom")
    # the CLI says so with exit 2 (InputError) and stores nothing either
    proc = subprocess.run([sys.executable, "-c", "from truceline.cli import main; main()",
                           "tokens", "create", "--scope", "read", "--name", "newsroom",
                           "--lake", str(lake.root)], capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert "--name 'newsroom'" in proc.stderr and "already has that name" in proc.stderr
    assert (lake.root / TOKENS_FILE).read_bytes() == stored
    assert len(lake.ledger_entries()) == entries
    # unnamed tokens as many as wanted; a revoked token's name is free again
    create_token(lake, "read")
    create_token(lake, "write")
    revoke_token(lake, first["id"])
    create_token(lake, "write", "newsroom")
    assert sorted(t["name"] for t in read_tokens(lake)) == ["", "", "newsroom"]


@pytest.mark.parametrize("race_at_read", [1, 2])
def test_two_creates_at_once_never_lose_a_token(tmp_path, monkeypatch, race_at_read):
    """A second `tokens create` that runs while the first has read the tokens but not yet
    written them (at its check before the lock, or at its read under it): it either gets
    in first and is kept, or is refused with a clear error; it never returns a token the
    first one's write then drops."""
    from truceline.errors import LakeError
    from truceline.service import tokens as tk

    lake = Lake(tmp_path / "lake")
    made, refused, reads = [], [], []
    real_read = tk.read_tokens

    def read_then_race(lk):
        current = real_read(lk)
        reads.append(1)
        if len(reads) == race_at_read:  # the first create's read: the second runs now
            try:
                made.append(create_token(Lake(lk.root), "read", "second")[1]["id"])
            except LakeError as exc:
                refused.append(str(exc))
        return current

    monkeypatch.setattr(tk, "read_tokens", read_then_race)
    made.append(create_token(lake, "write", "first")[1]["id"])
    stored = {t["id"] for t in real_read(lake)}
    assert set(made) <= stored  # every token handed out is kept
    assert len(made) == 2 or "another truceline process is writing" in refused[0]

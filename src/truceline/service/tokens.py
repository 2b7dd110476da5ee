"""Bearer tokens for the service, kept in the lake as SHA-256 hashes only.

A token is shown once, when made (``truceline tokens create --scope read|write``); the
lake keeps its id, name, scope and hash in ``service/tokens.json`` (written through the
lake's logged transactions, so creating or revoking one is in the ledger). A ``write``
token can also read. Tokens are 256 random bits, so a plain hash is enough: there is
nothing to guess.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from truceline.errors import InputError, LakeError
from truceline.lake.store import Lake

TOKENS_FILE = "service/tokens.json"
SCOPES = ("read", "write")
PREFIX = "tl_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def read_tokens(lake: Lake) -> list[dict[str, Any]]:
    path = lake.root / TOKENS_FILE
    if not path.is_file():
        return []
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _update(lake: Lake, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
            action: str, token_id: str) -> None:
    """Read the tokens, change them and write them back under the lake's write lock, so
    two `tokens create` at once never keep only one of the two tokens. The change is
    tried once before taking the lock too, so a bad name or id is named as such even
    while another writer holds it (or on a lake that cannot be written)."""
    change(read_tokens(lake))

    def files() -> dict[str, bytes]:
        tokens = change(read_tokens(lake))
        return {TOKENS_FILE: json.dumps(tokens, indent=1, sort_keys=True).encode()}

    lake.write_files(files, kind="service-tokens", action=action, token_id=token_id)


def create_token(lake: Lake, scope: str, name: str = "") -> tuple[str, dict[str, Any]]:
    """Make a token; returns the secret (shown once) and its stored record.

    A name is what `tokens list` shows to tell tokens apart, so two live tokens may not
    share one (which of them to revoke would be a guess); a revoked token's record is
    gone, so its name is free again. Unnamed tokens are allowed any number of times.
    """
    if scope not in SCOPES:
        raise InputError(f"--scope {scope!r}: expected one of {', '.join(SCOPES)}")
    if len(name) > 80:
        raise InputError("--name: at most 80 characters")
    secret = PREFIX + secrets.token_urlsafe(32)
    record = {"id": "tok-" + secrets.token_hex(4), "name": name, "scope": scope,
              "sha256": _hash(secret),
              "created_utc": datetime.now(UTC).replace(microsecond=0).isoformat()}

    def add(tokens: list[dict[str, Any]]) -> list[dict[str, Any]]:
        same = [t["id"] for t in tokens if name and t.get("name") == name]
        if same:
            raise InputError(f"--name {name!r}: token {same[0]} already has that name; "
                             "choose another, or revoke it first (truceline tokens revoke "
                             f"{same[0]})")
        return [*tokens, record]

    _update(lake, add, "create", record["id"])
    return secret, record


def revoke_token(lake: Lake, token_id: str) -> None:
    def drop(tokens: list[dict[str, Any]]) -> list[dict[str, Any]]:
        kept = [t for t in tokens if t["id"] != token_id]
        if len(kept) == len(tokens):
            raise LakeError(f"no token {token_id!r} in {lake.root}")
        return kept

    _update(lake, drop, "revoke", token_id)


def scope_of(tokens: list[dict[str, Any]], presented: str) -> str | None:
    """The scope of a presented token, or None when it is unknown."""
    digest = _hash(presented)
    for t in tokens:
        if hmac.compare_digest(t["sha256"], digest):
            return str(t["scope"])
    return None

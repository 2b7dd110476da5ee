"""Query parameters parsed and checked once, and the access rule, as FastAPI dependencies."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from typing import Annotated

import pandas as pd
from fastapi import Depends, Header, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from truceline.errors import InputError
from truceline.service.answers import State
from truceline.service.settings import Settings
from truceline.service.tokens import scope_of
from truceline.service.views import LakeViews, day_span, iso_day

BBOX_PATTERN = r"^-?\d{1,3}(\.\d+)?,-?\d{1,2}(\.\d+)?,-?\d{1,3}(\.\d+)?,-?\d{1,2}(\.\d+)?$"
SOURCE_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"
STATE_PATTERN = r"^\d{1,12}(:[0-9a-f]{64})?$"
STATE_HEADER = "X-Truceline-State"
STALE_HEADER = "X-Truceline-Stale"


# Every dependency is ``async``: FastAPI runs a plain ``def`` one in a worker thread,
# and those hand-offs cost more than the check itself (and wait for the GIL while a
# computation runs). None of them blocks: whatever may take time goes to a thread.

async def get_views(request: Request) -> LakeViews:
    return request.app.state.views  # type: ignore[no-any-return]


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


Views = Annotated[LakeViews, Depends(get_views)]


class _Access:
    """Bearer-token check for one scope; tokens are re-read when the lake changes."""

    def __init__(self, scope: str) -> None:
        self.scope = scope

    async def __call__(self, request: Request, views: Views) -> str:
        settings: Settings = request.app.state.settings
        if self.scope == "read" and settings.public_read:
            return "public"
        header = request.headers.get("authorization", "")
        scheme, _, presented = header.partition(" ")
        if scheme.lower() != "bearer" or not presented:
            raise HTTPException(401, f"this endpoint needs a {self.scope} token: send "
                                "'Authorization: Bearer <token>' (truceline tokens create)",
                                headers={"WWW-Authenticate": "Bearer"})
        records = views.cached_tokens()
        if records is None:  # first request since a write: read them in a thread
            records = await run_in_threadpool(views.tokens)
        scope = scope_of(records, presented.strip())
        if scope is None:
            raise HTTPException(401, "unknown or revoked token",
                                headers={"WWW-Authenticate": "Bearer"})
        if self.scope == "write" and scope != "write":
            raise HTTPException(403, "this endpoint needs a write token; yours is read-only")
        return scope


require_read = _Access("read")
require_write = _Access("write")


async def bbox_param(bbox: Annotated[str | None, Query(
        pattern=BBOX_PATTERN, max_length=80,
        description="W,S,E,N in degrees (WGS84).", examples=["36,47,39,49"])] = None,
        ) -> tuple[float, float, float, float] | None:
    if bbox is None:
        return None
    w, s, e, n = (float(v) for v in bbox.split(","))
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise InputError(f"bbox {bbox!r}: expected W < E within -180..180 and S < N within "
                         "-90..90")
    return (w, s, e, n)


def _iso_day(value: object) -> object:
    """Let only ``YYYY-MM-DD`` through to pydantic's date, which would also take
    ``1672531200`` as a Unix time: a 422 naming the parameter instead (its ``where``)."""
    if value is None or isinstance(value, date):
        return value
    try:
        return iso_day(str(value)).date()
    except InputError:
        raise PydanticCustomError("iso_day", "expected a day YYYY-MM-DD, e.g. 2025-08-21, "
                                  "not '{value}'", {"value": str(value)}) from None


#: A UTC day in a query or form field, in the one form the API documents (format: date).
Day = Annotated[date, BeforeValidator(_iso_day)]


@dataclass(frozen=True)
class DaySpan:
    start: pd.Timestamp
    end: pd.Timestamp


async def span_param(start: Annotated[Day, Query(description="First UTC day, YYYY-MM-DD.",
                                                 examples=["2025-08-21"])],
                     end: Annotated[Day, Query(description="Last UTC day (inclusive), "
                                               "YYYY-MM-DD.", examples=["2025-08-27"])]
                     ) -> DaySpan:
    s, e = day_span(start.isoformat(), end.isoformat())
    return DaySpan(s, e)


async def source_param(request: Request, source: Annotated[str | None, Query(
        pattern=SOURCE_PATTERN, description="Control map source (deepstate, liveuamap, "
        "isw, other). Default: the latest map of any source in force each day, as "
        "`truceline detect` and `assess` take it.")] = None) -> str | None:
    return source or request.app.state.settings.control_source  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


async def page_param(limit: Annotated[int, Query(ge=1, le=1000)] = 100,
               offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> Page:
    return Page(limit, offset)


@dataclass(frozen=True)
class Freshness:
    """The lake state when the request came in, and the oldest state the client accepts
    (None: any state that has an answer; the newest is computed in the background)."""

    current: State
    need: int | None


async def freshness_param(views: Views, cache_control: Annotated[str | None, Header(
        max_length=200, description="`no-cache` or `max-age=0`: an answer of the lake's "
        "state now, even if it has to be computed.")] = None,
        x_truceline_min_state: Annotated[str | None, Header(
            pattern=STATE_PATTERN, description="An answer of this lake state or a later "
            "one: `SEQ` or `SEQ:HASH` as the X-Truceline-State header of an answer (of a "
            "write, for its follow-up) gives it.")] = None) -> Freshness:
    """How fresh an answer must be. By default the answer of the newest lake state that
    has one is served at once, with its state in ``X-Truceline-State``."""
    current = views.state()
    need = None
    directives = {d.strip().lower() for d in (cache_control or "").split(",")}
    if directives & {"no-cache", "max-age=0"}:
        need = current.seq
    if x_truceline_min_state is not None:
        seq = int(x_truceline_min_state.partition(":")[0])
        if seq > current.seq:
            raise InputError(f"X-Truceline-Min-State {seq}: the lake is at state "
                             f"{current.seq}; it has no state {seq} (yet)")
        need = max(seq, need or 0)
    return Freshness(current, need)


#: The media types an agreement's TOML is accepted as (TOML's own and plain text), UTF-8
AGREEMENT_TYPES = ("text/plain", "application/toml")
MAX_AGREEMENT_CHARS = 200_000


async def agreement_text(request: Request) -> str:
    """The agreement TOML sent as the request body, checked before it is read.

    Why not a ``Body`` parameter: FastAPI would take a JSON string or a form-encoded body
    as the TOML as well, guessing what a client meant; a body of any other type than
    :data:`AGREEMENT_TYPES` is a 415 naming the header and the accepted types instead,
    and nothing is read or written.
    """
    header = request.headers.get("content-type")
    kind, _, params = (header or "").partition(";")
    charset = next((v.strip().strip('"').lower() for k, _, v in
                    (p.partition("=") for p in params.split(";"))
                    if k.strip().lower() == "charset"), "utf-8")
    if kind.strip().lower() not in AGREEMENT_TYPES or charset not in ("utf-8", "utf8"):
        raise HTTPException(415, f"Content-Type {header!r}: expected "
                            f"{' or '.join(AGREEMENT_TYPES)} (UTF-8), the agreement TOML "
                            "as the body")
    data, text = bytearray(), ""
    async for chunk in request.stream():
        data += chunk
        if len(data) > 4 * MAX_AGREEMENT_CHARS:  # 4 bytes: the longest UTF-8 character
            break
    try:
        text = data.decode("utf-8")
        problem = ("empty: expected the agreement TOML" if not text else
                   f"at most {MAX_AGREEMENT_CHARS} characters" if len(text) >
                   MAX_AGREEMENT_CHARS else None)
    except UnicodeDecodeError as exc:
        problem = (f"at most {MAX_AGREEMENT_CHARS} characters" if len(data) >
                   4 * MAX_AGREEMENT_CHARS else f"not UTF-8 text (byte {exc.start})")
    if problem is not None:
        raise RequestValidationError([{"loc": ("body",), "msg": problem,
                                       "type": "value_error"}])
    return text


class RateLimit:
    """A token bucket per client (token or address): beyond the rate, a clean 429."""

    def __init__(self, per_minute: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = max(per_minute / 6.0, 10.0)
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, client: str) -> bool:
        now = time.monotonic()
        tokens, last = self._buckets.get(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self._buckets[client] = (tokens, now)
            return False
        self._buckets[client] = (tokens - 1.0, now)
        if len(self._buckets) > 100_000:  # bounded memory under many addresses
            self._buckets.clear()
        return True

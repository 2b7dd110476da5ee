"""Fetch FIRMS detections from a remote source: the FIRMS area API.

The API answers ``GET {base}/api/area/csv/{MAP_KEY}/{SOURCE}/{W,S,E,N}/{DAYS}[/{DATE}]``
with a FIRMS CSV (one of the layouts :mod:`truceline.sources.firms` reads) covering DAYS
days from DATE (or ending today without it); DAYS is 1 to 5, so a longer span is asked
for in several requests. A refused key comes back as a short text ("Invalid MAP_KEY."),
the rate limit (transactions per 10 minutes) as a text naming the limit or HTTP 429.

Only this module talks to the network. It writes each answer to a download folder (the
raw evidence) and hands back the paths; the caller ingests them through the lake like
any other FIRMS file, so validation, quarantine and the ledger are the same. The source
is a small interface (:class:`RemoteSource`) so tests and other services can stand in.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Protocol

import httpx

from truceline.errors import InputError, RemoteError

FIRMS_BASE_URL = "https://firms.modaps.eosdis.nasa.gov"
BASE_URL_ENV = "TRUCELINE_FIRMS_URL"
MAP_KEY_ENV = "MAP_KEY"
#: FIRMS products the area API serves (NRT: near real time; SP: standard processing)
FIRMS_PRODUCTS = ("VIIRS_NOAA20_NRT", "VIIRS_NOAA21_NRT", "VIIRS_SNPP_NRT", "MODIS_NRT",
                  "VIIRS_NOAA20_SP", "VIIRS_SNPP_SP", "MODIS_SP", "LANDSAT_NRT")
MAX_DAYS_PER_REQUEST = 5
#: Ukraine and the Russian side of the front, W,S,E,N in degrees
DEFAULT_AREA = (22.0, 44.0, 41.0, 53.0)
_KEY_RE = re.compile(r"^[A-Za-z0-9]{8,64}$")


def parse_area(text: str) -> tuple[float, float, float, float]:
    """A bounding box ``W,S,E,N`` in degrees, checked.

    >>> parse_area("22,44,41,53.5")
    (22.0, 44.0, 41.0, 53.5)
    """
    parts = text.split(",")
    try:
        w, s, e, n = (float(p) for p in parts)
    except ValueError:
        raise InputError(f"--area {text!r}: expected four numbers W,S,E,N in degrees, "
                         "e.g. 22,44,41,53") from None
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise InputError(f"--area {text!r}: expected -180 <= W < E <= 180 and "
                         "-90 <= S < N <= 90")
    return (w, s, e, n)


def check_product(name: str) -> str:
    """The FIRMS product name, upper-cased, or an error listing the allowed ones."""
    up = name.upper()
    if up not in FIRMS_PRODUCTS:
        raise InputError(f"--sensor {name!r}: expected one of {', '.join(FIRMS_PRODUCTS)}")
    return up


@dataclass(frozen=True)
class AreaRequest:
    """One area-API request: a product, a box and ``days`` days from ``start``."""

    product: str
    area: tuple[float, float, float, float]
    days: int
    start: date

    def area_text(self) -> str:
        return ",".join(f"{v:g}" for v in self.area)

    def file_name(self, fetched: datetime) -> str:
        """Names the product, box, days and fetch time: a re-fetch never overwrites."""
        box = "_".join(f"{v:g}" for v in self.area)
        return (f"FIRMS_{self.product}_{box}_{self.start.isoformat()}_{self.days}d_"
                f"fetched{fetched:%Y%m%dT%H%M%SZ}.csv")


def plan_requests(product: str, area: tuple[float, float, float, float], days: int,
                  end: date) -> list[AreaRequest]:
    """The requests covering the ``days`` days ending with ``end``, at most 5 days each.

    >>> [(r.start.isoformat(), r.days) for r in plan_requests(
    ...     "VIIRS_NOAA20_NRT", DEFAULT_AREA, 7, date(2025, 8, 31))]
    [('2025-08-25', 5), ('2025-08-30', 2)]
    """
    if not 1 <= days <= 366:
        raise InputError(f"--days {days}: expected 1 to 366")
    first = end - timedelta(days=days - 1)
    out = []
    while first <= end:
        n = min(MAX_DAYS_PER_REQUEST, (end - first).days + 1)
        out.append(AreaRequest(product, area, n, first))
        first += timedelta(days=n)
    return out


class RemoteSource(Protocol):
    """Anything that answers an :class:`AreaRequest` with the bytes of a FIRMS CSV."""

    def get(self, request: AreaRequest) -> bytes: ...


def map_key_from_env(env: dict[str, str] | None = None) -> str:
    """The FIRMS MAP_KEY from the environment, or a message saying how to get one."""
    value = (env if env is not None else os.environ).get(MAP_KEY_ENV, "").strip()
    if not value:
        raise InputError(f"no FIRMS key: set {MAP_KEY_ENV} to your FIRMS MAP_KEY (free, "
                         "from the FIRMS website's API page: 'Get MAP_KEY')")
    if not _KEY_RE.match(value):
        raise InputError(f"{MAP_KEY_ENV}: expected 8 to 64 letters and digits, as FIRMS "
                         "issues them")
    return value


def base_url_from_env(env: dict[str, str] | None = None) -> str:
    """The API's base URL: ``$TRUCELINE_FIRMS_URL`` (tests, mirrors) or FIRMS itself."""
    url = (env if env is not None else os.environ).get(BASE_URL_ENV, "") or FIRMS_BASE_URL
    if not url.startswith(("http://", "https://")):
        raise InputError(f"{BASE_URL_ENV} {url!r}: expected an http:// or https:// URL")
    return url.rstrip("/")


class FirmsAreaApi:
    """The FIRMS area API over HTTP, with retries and backoff on transient failures.

    Retried: connection errors, timeouts, HTTP 5xx and the rate limit (waiting
    ``Retry-After`` when given, else ``backoff * 2**attempt`` seconds). Not retried: a
    refused key or a request FIRMS calls invalid. Every failure is a
    :class:`~truceline.errors.RemoteError` that says what happened and what to do; the
    key never appears in a message.
    """

    def __init__(self, map_key: str, base_url: str = FIRMS_BASE_URL, *, retries: int = 4,
                 backoff: float = 2.0, timeout: float = 60.0,
                 client: httpx.Client | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.map_key = map_key
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep
        self.client = client or httpx.Client(timeout=timeout, follow_redirects=True)

    def url(self, r: AreaRequest, key: str | None = None) -> str:
        return (f"{self.base_url}/api/area/csv/{key or self.map_key}/{r.product}/"
                f"{r.area_text()}/{r.days}/{r.start.isoformat()}")

    def get(self, request: AreaRequest) -> bytes:
        shown = self.url(request, key="***")
        last = ""
        for attempt in range(self.retries + 1):
            wait = self.backoff * 2 ** attempt
            try:
                resp = self.client.get(self.url(request))
            except httpx.TransportError as exc:
                last = (f"{self.base_url} is unreachable ({type(exc).__name__}: "
                        f"{str(exc).replace(self.map_key, '***')})")
            else:
                kind, message = classify_response(resp.status_code, resp.content)
                if kind == "ok":
                    return resp.content
                if kind == "fatal":
                    raise RemoteError(f"{shown}: {message}")
                last = message
                after = resp.headers.get("retry-after", "")
                if after.isdigit():
                    wait = max(wait, float(after))
            if attempt < self.retries:
                self.sleep(wait)
        raise RemoteError(f"{shown}: {last}; gave up after {self.retries + 1} attempts")


def classify_response(status: int, body: bytes) -> tuple[str, str]:
    """``("ok" | "retry" | "fatal", message)`` for an API answer.

    >>> classify_response(200, b"Invalid MAP_KEY.")[0]
    'fatal'
    >>> classify_response(429, b"")[0]
    'retry'
    >>> classify_response(200, b"latitude,longitude,acq_date\\n")[0]
    'ok'
    """
    text = body[:300].decode("utf-8", "replace").strip()
    low = text.lower()
    if status in (401, 403) or "invalid map_key" in low or "invalid api" in low:
        return "fatal", (f"FIRMS refused the MAP_KEY (HTTP {status}: {text[:120]!r}); check "
                         f"${MAP_KEY_ENV}, or get a new key from the FIRMS API page")
    if status == 429 or "transaction limit" in low or "exceeding" in low:
        return "retry", (f"FIRMS rate limit reached (HTTP {status}: {text[:120]!r}); the "
                         "key allows a fixed number of requests per 10 minutes, try later")
    if status >= 500:
        return "retry", f"FIRMS answered HTTP {status} ({text[:120]!r})"
    if status != 200:
        return "fatal", f"FIRMS answered HTTP {status}: {text[:200]!r}"
    first = low.splitlines()[0] if low else ""
    if "latitude" not in first:
        return "fatal", (f"FIRMS answered with something that is not a FIRMS CSV: "
                         f"{text[:200]!r}")
    return "ok", ""


@dataclass
class Download:
    """One answer saved to disk."""

    request: AreaRequest
    path: Path
    rows: int


def download(source: RemoteSource, requests: list[AreaRequest], folder: Path, *,
             now: datetime | None = None) -> list[Download]:
    """Ask ``source`` for each request and save each answer under ``folder``.

    An answer is written to a temporary name and renamed, so a file in ``folder`` is
    always whole. Every request is made before anything is kept: a failure part-way
    raises and leaves only the complete answers already saved.
    """
    folder.mkdir(parents=True, exist_ok=True)
    fetched = (now or datetime.now(UTC)).astimezone(UTC)
    out = []
    for r in requests:
        data = source.get(r)
        target = folder / r.file_name(fetched)
        tmp = target.with_suffix(".part")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        out.append(Download(r, target, max(data.count(b"\n") - 1, 0)))
    return out

"""The agreement file: a ceasefire's terms in TOML, parsed and checked before any work.

An assessment is only as defensible as the terms it judges against, so the terms live in
a small human-written file (schema and examples: ``docs/AGREEMENTS.md`` and
``examples/agreements/``) rather than in command-line flags. Everything is checked at
load time: a typo in a key, an impossible local time or a band that overlaps the control
band is refused with a message naming the file, the key, the value and what was
expected, instead of silently producing a verdict on the wrong window.

Agreements are untrusted input. A file they name (``scope.polygons``,
``scope.exclusions``, ``prohibited.protected_sites``) is a relative path that must
resolve inside the agreement's folder, or else inside the data folder
(``$TRUCELINE_DATA``, see `truceline.config.data_dir`); it must be a regular file of at
most :data:`MAX_REFERENCED_BYTES`, and no error message repeats what such a file holds.
Every file read is listed in ``Agreement.files`` so that a report can carry a copy.
Years outside :data:`YEARS` are refused (no datetime arithmetic overflows later).

Times are written as local wall-clock times with an explicit IANA zone, because that is
how agreements are announced ("from 18:00 Moscow time"); ``24:00`` means the end of that
day, as in ``ceasefires.csv``. Helpers give the UTC instants the rest of the pipeline
uses (FIRMS times are UTC). Windows are half-open: ``start <= t < end``.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from truceline.errors import InputError
from truceline.files import read_limited
from truceline.sources.sniff import sniff_text

__all__ = [
    "CONTROL_SOURCES",
    "DEFAULT_CONTROL_BAND_KM",
    "DEFAULT_FRONT_BAND_KM",
    "SCHEMA_VERSION",
    "Agreement",
    "Party",
    "Prohibited",
    "Scope",
    "Window",
    "load_agreement",
    "parse_agreement",
]

SCHEMA_VERSION = 1
#: years an agreement's times may fall in: wide, but far from datetime's limits
YEARS = (1900, 2200)
#: largest file an agreement may name (a sites CSV or polygons GeoJSON)
MAX_REFERENCED_BYTES = 50 * 1024 * 1024
CONTROL_SOURCES = ("deepstate", "liveuamap", "isw")
# Front band: where shelling, drones and assaults on the line show up as fire. Control
# band: far enough from the line to be quiet, near enough to share season and weather.
DEFAULT_FRONT_BAND_KM = (0.0, 30.0)
DEFAULT_CONTROL_BAND_KM = (60.0, 150.0)

_ID_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_LOCAL_RE = re.compile(
    r"^(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})"
    r"(?:[ T](?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?)?$"
)
_LOCAL_EXPECTED = (
    "a local date-time 'YYYY-MM-DD HH:MM' (24:00 = end of that day) or a date "
    "'YYYY-MM-DD', without a UTC offset (the zone comes from 'time_zone')"
)


@dataclass(frozen=True)
class Party:
    """A signatory or a side: `id` is the short code used in tables (``ua``, ``ru``)."""

    id: str
    name: str


@dataclass(frozen=True)
class Window:
    """A half-open period ``[start, end)`` with zone-aware ends (in the agreement's zone)."""

    start: datetime
    end: datetime

    @property
    def start_utc(self) -> datetime:
        """The start as a UTC instant, the clock FIRMS detections are stamped in."""
        return self.start.astimezone(UTC)

    @property
    def end_utc(self) -> datetime:
        """The end as a UTC instant (exclusive)."""
        return self.end.astimezone(UTC)

    @property
    def duration(self) -> timedelta:
        """Elapsed time between the two instants (DST-safe)."""
        return self.end_utc - self.start_utc

    def contains(self, t_utc: Any) -> np.ndarray:
        """Boolean array: which of the times fall in the window (naive times are UTC).

        Vectorised so that a whole detections column can be tested at once.

        Example
        -------
        >>> w = Window(datetime(2023, 1, 6, 12, tzinfo=ZoneInfo("Europe/Moscow")),
        ...            datetime(2023, 1, 8, 0, tzinfo=ZoneInfo("Europe/Moscow")))
        >>> w.contains(["2023-01-06 08:59", "2023-01-06 09:00", "2023-01-07 21:00"]).tolist()
        [False, True, False]
        """
        if isinstance(t_utc, str | datetime | pd.Timestamp):
            t_utc = [t_utc]
        t = pd.DatetimeIndex(pd.to_datetime(t_utc, utc=True, format="ISO8601"))
        return np.asarray((t >= self.start_utc) & (t < self.end_utc), dtype=bool)


@dataclass(frozen=True)
class Scope:
    """Where the agreement applies; every given constraint must hold (they intersect).

    No sectors and no polygons means the whole line. Distances are signed-distance
    magnitudes to the line of contact in km, on either side.
    """

    sectors: tuple[str, ...] = ()
    band_km: tuple[float, float] = DEFAULT_FRONT_BAND_KM
    polygons: BaseGeometry | None = None
    exclusions: BaseGeometry | None = None

    @property
    def whole_line(self) -> bool:
        """True when the agreement covers the whole line (no sectors, no polygons)."""
        return not self.sectors and self.polygons is None

    def mask(
        self,
        distance_km: Any,
        sector: Any = None,
        lon: Any = None,
        lat: Any = None,
    ) -> np.ndarray:
        """Which detections are in scope: one vectorised rule for every stage that asks.

        `distance_km` is the signed distance to the line (either sign counts); the band
        is half-open ``[min, max)`` like the enrichment bands; NaN is out of scope.
        `sector` is needed when sectors are named, `lon`/`lat` when polygons or
        exclusions are given.

        Example
        -------
        >>> Scope(band_km=(0.0, 15.0)).mask([-3.0, 14.9, 15.0, float("nan")]).tolist()
        [True, True, False, False]
        """
        d = np.abs(np.asarray(distance_km, dtype=float))
        with np.errstate(invalid="ignore"):
            out: np.ndarray = (d >= self.band_km[0]) & (d < self.band_km[1])
        if self.sectors:
            if sector is None:
                raise InputError(f"scope names sectors {list(self.sectors)}: expected a "
                                 "sector for each detection")
            wanted = {s.casefold() for s in self.sectors}
            sec = pd.Series(np.asarray(sector, dtype=object)).astype("string").str.casefold()
            out &= sec.isin(wanted).to_numpy(dtype=bool)
        if self.polygons is not None or self.exclusions is not None:
            if lon is None or lat is None:
                raise InputError("scope has polygons or exclusions: expected lon and lat for "
                                 "each detection")
            x = np.asarray(lon, dtype=float)
            y = np.asarray(lat, dtype=float)
            if self.polygons is not None:
                shapely.prepare(self.polygons)
                out &= shapely.contains_xy(self.polygons, x, y)
            if self.exclusions is not None:
                shapely.prepare(self.exclusions)
                out &= ~shapely.contains_xy(self.exclusions, x, y)
        return out

    def describe(self) -> str:
        """One line for reports: what ground the verdict is about."""
        parts = ["whole line" if self.whole_line else ""]
        if self.sectors:
            parts.append("sectors " + ", ".join(self.sectors))
        if self.polygons is not None:
            parts.append("inside the given polygons")
        lo, hi = self.band_km
        parts.append(f"{lo:g}-{hi:g} km from the line")
        if self.exclusions is not None:
            parts.append("excluding the given zones")
        return "; ".join(p for p in parts if p)


@dataclass(frozen=True)
class Prohibited:
    """What counts as a violation: fire near the line, and/or strikes on listed sites.

    ``protected_sites`` is the resolved file to read; ``protected_sites_ref`` the path as
    the agreement writes it (relative: what reports show).
    """

    fire_near_line: bool = True
    protected_sites: Path | None = None
    protected_sites_ref: str | None = None


@dataclass(frozen=True)
class Agreement:
    """A ceasefire's terms, validated; times are zone-aware in `time_zone`."""

    name: str
    parties: tuple[Party, ...]
    time_zone: str
    start: datetime
    end: datetime
    comparison: Window
    scope: Scope = field(default_factory=Scope)
    prohibited: Prohibited = field(default_factory=Prohibited)
    control_band_km: tuple[float, float] = DEFAULT_CONTROL_BAND_KM
    control_source: str | None = None
    open_ended: bool = False
    declared_by: tuple[str, ...] = ()
    accepted_by: tuple[str, ...] = ()
    notes: str = ""
    hypothetical: bool = False
    path: Path | None = None
    files: tuple[tuple[str, Path], ...] = ()
    """Files the agreement names: (path as written, relative; the file read)."""

    @property
    def window(self) -> Window:
        """The agreement period as a `Window`."""
        return Window(self.start, self.end)

    @property
    def start_utc(self) -> datetime:
        """Start of the agreement as a UTC instant."""
        return self.window.start_utc

    @property
    def end_utc(self) -> datetime:
        """End of the agreement (or of the monitored period if open-ended), UTC, exclusive."""
        return self.window.end_utc

    @property
    def duration(self) -> timedelta:
        """Elapsed length of the agreement window."""
        return self.window.duration

    def control_mask(self, distance_km: Any) -> np.ndarray:
        """Which detections lie in the control band (half-open, either side; NaN: no)."""
        d = np.abs(np.asarray(distance_km, dtype=float))
        with np.errstate(invalid="ignore"):
            out: np.ndarray = (d >= self.control_band_km[0]) & (d < self.control_band_km[1])
        return out

    @property
    def party_ids(self) -> tuple[str, ...]:
        """The parties' short codes, in file order."""
        return tuple(p.id for p in self.parties)


# --------------------------------------------------------------------------- loading


def load_agreement(path: str | Path, *, data_dir: str | Path | None = None) -> Agreement:
    """Read and validate an agreement file; any problem raises `InputError`.

    Relative paths inside the file (polygons, protected sites) are resolved against the
    file's folder, else the data folder (``data_dir``, default
    `truceline.config.data_dir`), so an agreement and its sites file can travel together.
    """
    p = Path(path)
    raw = read_limited(p, "an agreement file", MAX_REFERENCED_BYTES)
    if raw is None:
        raise InputError(f"{p}: agreement file not found")
    sniff_text(p, raw[:4096], expected="an agreement TOML file", allow_json=True)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{p}: not UTF-8 text (byte {e.start}): expected a TOML file") from None
    if data_dir is None:
        from truceline.config import data_dir as default_data_dir

        data_dir = default_data_dir()
    return parse_agreement(text, source=p, base_dir=p.parent, data_dir=data_dir)


def parse_agreement(
    text: str, *, source: str | Path = "<agreement>", base_dir: str | Path | None = None,
    data_dir: str | Path | None = None,
) -> Agreement:
    """Validate agreement TOML given as text; `source` names it in error messages; files
    it names are looked for in `base_dir` (default: the working folder), then `data_dir`."""
    ctx = _Ctx(str(source), Path(base_dir) if base_dir is not None else Path.cwd(),
               Path(data_dir) if data_dir is not None else None)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{ctx.name}: not valid TOML: {e}") from None
    agreement = replace(_build(doc, ctx), files=tuple(ctx.files))
    return replace(agreement, path=source) if isinstance(source, Path) else agreement


# --------------------------------------------------------------------------- validation

_TOP_KEYS = {
    "schema": "the schema version, 1",
    "name": "a non-empty string",
    "notes": "a string",
    "hypothetical": "true or false",
    "parties": "an array of tables [[parties]] with 'id' and 'name'",
    "declared_by": "an array of party ids",
    "accepted_by": "an array of party ids",
    "time_zone": "an IANA time zone name such as 'Europe/Kyiv', 'Europe/Moscow' or 'UTC'",
    "start": _LOCAL_EXPECTED,
    "end": _LOCAL_EXPECTED,
    "duration_hours": "a positive number of hours",
    "duration_days": "a positive number of days",
    "open_ended": "true or false",
    "control_source": "one of " + ", ".join(repr(s) for s in CONTROL_SOURCES),
    "scope": "a table [scope]",
    "prohibited": "a table [prohibited]",
    "comparison": "a table [comparison]",
    "control_band": "a table [control_band]",
}
_SCOPE_KEYS = ("sectors", "band_km", "polygons", "exclusions")
_PROHIBITED_KEYS = ("fire_near_line", "protected_sites")
_COMPARISON_KEYS = ("start", "end")
_CONTROL_BAND_KEYS = ("band_km",)
_PARTY_KEYS = ("id", "name")


@dataclass
class _Ctx:
    """Names the file in every message and resolves relative paths."""

    name: str
    base_dir: Path
    data_dir: Path | None = None
    files: list[tuple[str, Path]] = field(default_factory=list)

    def resolve(self, key: str, value: str, expected: str) -> tuple[str, bytes]:
        """A file the agreement names: (the path as written, normalised; its bytes).

        Relative paths only; found in the agreement's folder, else the data folder, and
        never outside the folder it was found in (``..`` and links that leave it are
        refused). Messages name the key and the path, never the file's content.
        """
        rel = value.strip().replace("\\", "/")
        parts = [p for p in rel.split("/") if p not in ("", ".")]
        if not parts or rel.startswith("/") or ":" in parts[0] or ".." in parts:
            raise self.fail(key, value, f"{expected}, as a relative path without '..' "
                                        "inside the agreement's folder or the data folder")
        name = "/".join(parts)
        roots = [r for r in (self.base_dir, self.data_dir) if r is not None]
        for root in roots:
            top = root.resolve()
            full = (top / name).resolve()
            if top != full and top not in full.parents:
                raise self.fail(key, value, f"{expected} inside {root} (it links outside)")
            data = read_limited(full, f"a file named by '{key}'", MAX_REFERENCED_BYTES)
            if data is not None:
                self.files.append((name, full))
                return name, data
        looked = " or ".join(str(r) for r in roots)
        raise self.fail(key, value, f"{expected} (not found in {looked})")

    def fail(self, key: str, value: Any, expected: str) -> InputError:
        return InputError(f"{self.name}: key '{key}' = {_show(value)}: expected {expected}")

    def missing(self, key: str, expected: str) -> InputError:
        return InputError(f"{self.name}: key '{key}' is missing: expected {expected}")

    def unknown(self, table: Mapping[str, Any], allowed: tuple[str, ...] | list[str],
                prefix: str = "") -> None:
        for key, value in table.items():
            if key not in allowed:
                hint = difflib.get_close_matches(key, allowed, n=1)
                did = f" (did you mean '{prefix}{hint[0]}'?)" if hint else ""
                if prefix and key in _TOP_KEYS:
                    did = (f" ('{key}' is a top-level key: in TOML it must come before the "
                           "first [table] or [[parties]] header)")
                raise InputError(
                    f"{self.name}: unknown key '{prefix}{key}' = {_show(value)}: expected "
                    f"one of {', '.join(sorted(allowed))}{did}"
                )


def _show(value: Any) -> str:
    """A short rendering of a TOML value for messages."""
    if isinstance(value, dict):
        s = "{" + ", ".join(f"{k} = {_show(v)}" for k, v in value.items()) + "}"
    elif isinstance(value, str):
        s = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, bool):
        s = "true" if value else "false"
    elif isinstance(value, list):
        s = "[" + ", ".join(_show(v) for v in value) + "]"
    else:
        s = str(value)
    return s if len(s) <= 80 else s[:77] + "..."


def _build(doc: dict[str, Any], ctx: _Ctx) -> Agreement:
    ctx.unknown(doc, list(_TOP_KEYS))

    schema = doc.get("schema", SCHEMA_VERSION)
    if schema != SCHEMA_VERSION or isinstance(schema, bool):
        raise ctx.fail("schema", schema, f"{SCHEMA_VERSION} (the only schema version so far)")

    name = _required_string(doc, "name", ctx)
    notes = _string(doc, "notes", ctx) or ""
    parties = _parties(doc, ctx)
    ids = tuple(p.id for p in parties)
    declared_by = _party_refs(doc, "declared_by", ids, ctx)
    accepted_by = _party_refs(doc, "accepted_by", ids, ctx)

    zone_name = _required_string(doc, "time_zone", ctx)
    zone = _zone(zone_name, ctx)

    if "start" not in doc:
        raise ctx.missing("start", _LOCAL_EXPECTED)
    start = _local_time(doc["start"], "start", zone, ctx)
    end = _end(doc, start, zone, ctx)

    open_ended = doc.get("open_ended", False)
    if not isinstance(open_ended, bool):
        raise ctx.fail("open_ended", open_ended, "true or false")
    hypothetical = doc.get("hypothetical", False)
    if not isinstance(hypothetical, bool):
        raise ctx.fail("hypothetical", hypothetical, "true or false")

    control_source = doc.get("control_source")
    if control_source is not None and control_source not in CONTROL_SOURCES:
        raise ctx.fail("control_source", control_source, _TOP_KEYS["control_source"])

    scope = _scope(_table(doc, "scope", ctx), ctx)
    prohibited = _prohibited(_table(doc, "prohibited", ctx), ctx)
    comparison = _comparison(_table(doc, "comparison", ctx), start, end, zone, ctx)

    cb = _table(doc, "control_band", ctx)
    ctx.unknown(cb, _CONTROL_BAND_KEYS, "control_band.")
    control_band = _band(cb.get("band_km", list(DEFAULT_CONTROL_BAND_KM)),
                         "control_band.band_km", ctx)
    if prohibited.fire_near_line and control_band[0] < scope.band_km[1]:
        raise ctx.fail(
            "control_band.band_km", cb.get("band_km", list(DEFAULT_CONTROL_BAND_KM)),
            f"a band beyond the front band scope.band_km = {_show(list(scope.band_km))} "
            "(minimum at least its maximum), so that front and control do not overlap",
        )

    return Agreement(
        name=name,
        parties=parties,
        time_zone=zone_name,
        start=start,
        end=end,
        comparison=comparison,
        scope=scope,
        prohibited=prohibited,
        control_band_km=control_band,
        control_source=control_source,
        open_ended=open_ended,
        declared_by=declared_by,
        accepted_by=accepted_by,
        notes=notes,
        hypothetical=hypothetical,
    )


def _string(doc: Mapping[str, Any], key: str, ctx: _Ctx, *, required: bool = False,
            label: str | None = None) -> str | None:
    label = label or key
    if key not in doc:
        if required:
            raise ctx.missing(label, "a non-empty string")
        return None
    value = doc[key]
    if not isinstance(value, str) or (required and not value.strip()):
        raise ctx.fail(label, value, "a non-empty string" if required else "a string")
    return value.strip() if required else value


def _required_string(doc: Mapping[str, Any], key: str, ctx: _Ctx,
                     label: str | None = None) -> str:
    value = _string(doc, key, ctx, required=True, label=label)
    assert value is not None  # _string raised otherwise
    return value


def _table(doc: Mapping[str, Any], key: str, ctx: _Ctx) -> dict[str, Any]:
    value = doc.get(key, {})
    if not isinstance(value, dict):
        raise ctx.fail(key, value, f"a table [{key}]")
    return value


def _parties(doc: Mapping[str, Any], ctx: _Ctx) -> tuple[Party, ...]:
    expected = "an array of at least two tables [[parties]], each with 'id' and 'name'"
    if "parties" not in doc:
        raise ctx.missing("parties", expected)
    raw = doc["parties"]
    if not isinstance(raw, list) or len(raw) < 2 or not all(isinstance(r, dict) for r in raw):
        raise ctx.fail("parties", raw, expected)
    out: list[Party] = []
    seen: set[str] = set()
    for i, r in enumerate(raw):
        prefix = f"parties[{i}]."
        ctx.unknown(r, _PARTY_KEYS, prefix)
        pid = r.get("id")
        if pid is None:
            raise ctx.missing(prefix + "id", "a short lower-case code such as 'ua' or 'ru'")
        if not isinstance(pid, str) or not _ID_RE.match(pid):
            raise ctx.fail(prefix + "id", pid,
                           "a short lower-case code such as 'ua' or 'ru' (a-z, 0-9, _ or -)")
        if pid in seen:
            raise ctx.fail(prefix + "id", pid, "an id not used by another party")
        seen.add(pid)
        out.append(Party(pid, _required_string(r, "name", ctx, label=prefix + "name")))
    return tuple(out)


def _party_refs(doc: Mapping[str, Any], key: str, ids: tuple[str, ...],
                ctx: _Ctx) -> tuple[str, ...]:
    value = doc.get(key, [])
    expected = "an array of party ids from [[parties]]: " + ", ".join(repr(i) for i in ids)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ctx.fail(key, value, expected)
    for v in value:
        if v not in ids:
            raise ctx.fail(key, value, expected + f" ({_show(v)} is not one)")
    return tuple(value)


def _zone(name: str, ctx: _Ctx) -> ZoneInfo:
    try:
        if not name or name != name.strip():
            raise ValueError
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ctx.fail("time_zone", name, _TOP_KEYS["time_zone"]) from None


def _local_time(value: Any, key: str, zone: ZoneInfo, ctx: _Ctx) -> datetime:
    """A local wall-clock value in `zone`, refusing offsets, gaps and ambiguous times."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise ctx.fail(key, value, _LOCAL_EXPECTED)
        naive = value
    elif isinstance(value, date):
        naive = datetime.combine(value, time())
    elif isinstance(value, str):
        m = _LOCAL_RE.match(value.strip())
        if not m:
            raise ctx.fail(key, value, _LOCAL_EXPECTED)
        h, mi, s = (int(m[g]) if m[g] else 0 for g in ("h", "mi", "s"))
        try:
            day = date(int(m["y"]), int(m["mo"]), int(m["d"]))
            if h == 24 and mi == 0 and s == 0:
                naive = datetime.combine(day + timedelta(days=1), time())
            else:
                naive = datetime.combine(day, time(h, mi, s))
        except ValueError as e:
            raise ctx.fail(key, value, f"{_LOCAL_EXPECTED} ({e})") from None
    else:
        raise ctx.fail(key, value, _LOCAL_EXPECTED)

    if not YEARS[0] <= naive.year <= YEARS[1]:
        raise ctx.fail(key, value, f"a time in the years {YEARS[0]} to {YEARS[1]}")
    aware = naive.replace(tzinfo=zone)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise ctx.fail(key, value, f"a time that exists in {zone.key} (clocks jump over it "
                                   "that day); write it in the zone's time after the change")
    if aware.utcoffset() != aware.replace(fold=1).utcoffset():
        raise ctx.fail(key, value, f"a time that happens only once in {zone.key} (it repeats "
                                   "when clocks go back that day); give it in UTC instead")
    return aware


def _positive(doc: Mapping[str, Any], key: str, ctx: _Ctx) -> float:
    v = doc[key]
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
        raise ctx.fail(key, v, _TOP_KEYS[key])
    return float(v)


def _end(doc: Mapping[str, Any], start: datetime, zone: ZoneInfo, ctx: _Ctx) -> datetime:
    given = [k for k in ("end", "duration_hours", "duration_days") if k in doc]
    if not given:
        raise ctx.missing("end", "an end time, or 'duration_hours' or 'duration_days' "
                                 "(for an open-ended agreement, the end of the period to monitor)")
    if len(given) > 1:
        raise InputError(f"{ctx.name}: {', '.join(repr(g) for g in given)} are given "
                         "together: expected only one of 'end', 'duration_hours', "
                         "'duration_days'")
    key = given[0]
    if key == "end":
        end = _local_time(doc["end"], "end", zone, ctx)
        if end.astimezone(UTC) <= start.astimezone(UTC):
            raise ctx.fail("end", doc["end"], f"a time after start ({start:%Y-%m-%d %H:%M} "
                                              f"{zone.key})")
        return end
    hours = _positive(doc, key, ctx) * (24.0 if key == "duration_days" else 1.0)
    # Elapsed time, added in UTC: '10 days' is 240 hours even across a DST change.
    try:
        end = (start.astimezone(UTC) + timedelta(hours=hours)).astimezone(zone)
    except OverflowError:
        end = datetime.max.replace(tzinfo=UTC)
    if end.year > YEARS[1]:
        raise ctx.fail(key, doc[key], f"{_TOP_KEYS[key]} ending by the year {YEARS[1]}")
    return end


def _band(value: Any, key: str, ctx: _Ctx) -> tuple[float, float]:
    expected = "[min_km, max_km] with 0 <= min_km < max_km"
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        or not all(math.isfinite(v) for v in value)
    ):
        raise ctx.fail(key, value, expected)
    lo, hi = float(value[0]), float(value[1])
    if lo < 0 or lo >= hi:
        raise ctx.fail(key, value, expected)
    return lo, hi


def _scope(table: dict[str, Any], ctx: _Ctx) -> Scope:
    ctx.unknown(table, _SCOPE_KEYS, "scope.")
    sectors = table.get("sectors", [])
    if not isinstance(sectors, list) or not all(isinstance(s, str) and s.strip()
                                                for s in sectors):
        raise ctx.fail("scope.sectors", sectors,
                       "an array of sector names (empty or absent for the whole line)")
    if len({s.strip().casefold() for s in sectors}) != len(sectors):
        raise ctx.fail("scope.sectors", sectors, "sector names without repeats")
    band = _band(table.get("band_km", list(DEFAULT_FRONT_BAND_KM)), "scope.band_km", ctx)
    polygons = _polygons(table["polygons"], "scope.polygons", ctx) if "polygons" in table \
        else None
    exclusions = _polygons(table["exclusions"], "scope.exclusions", ctx) \
        if "exclusions" in table else None
    return Scope(tuple(s.strip() for s in sectors), band, polygons, exclusions)


_POLY_EXPECTED = (
    "a GeoJSON file path (relative to the agreement file) or inline GeoJSON "
    "(Polygon, MultiPolygon, Feature or FeatureCollection of them) in lon/lat WGS84"
)


def _polygons(value: Any, key: str, ctx: _Ctx) -> BaseGeometry:
    """Polygons from a GeoJSON file or inline GeoJSON tables, valid and in lon/lat range."""
    if isinstance(value, str):
        _, raw = ctx.resolve(key, value, "an existing GeoJSON file")
        try:
            obj = json.loads(raw.decode("utf-8-sig"))
        except UnicodeDecodeError as e:
            raise ctx.fail(key, value, f"a GeoJSON file in UTF-8 (byte {e.start} is not "
                                       "UTF-8)") from None
        except json.JSONDecodeError as e:
            raise ctx.fail(key, value, f"a GeoJSON file (not JSON at line {e.lineno}, "
                                       f"column {e.colno}: {e.msg})") from None
        except RecursionError:
            raise ctx.fail(key, value, "a GeoJSON file (nested too deeply)") from None
    elif isinstance(value, dict | list):
        obj = value
    else:
        raise ctx.fail(key, value, _POLY_EXPECTED)

    geoms = _geojson_polygons(obj, key, value, ctx)
    if not geoms:
        raise ctx.fail(key, value, _POLY_EXPECTED + " with at least one polygon")
    for g in geoms:
        if not g.is_valid:
            raise ctx.fail(key, value, f"valid polygons ({shapely.is_valid_reason(g)})")
        minx, miny, maxx, maxy = g.bounds
        if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
            raise ctx.fail(key, value, "longitudes in [-180, 180] and latitudes in [-90, 90] "
                                       "(GeoJSON is lon/lat WGS84)")
    return shapely.union_all(geoms) if len(geoms) > 1 else geoms[0]


def _geojson_polygons(obj: Any, key: str, value: Any, ctx: _Ctx) -> list[BaseGeometry]:
    if isinstance(obj, list):
        return [g for item in obj for g in _geojson_polygons(item, key, value, ctx)]
    if not isinstance(obj, dict):
        raise ctx.fail(key, value, _POLY_EXPECTED)
    kind = obj.get("type")
    if kind == "FeatureCollection":
        return _geojson_polygons(obj.get("features", []), key, value, ctx)
    if kind == "Feature":
        return _geojson_polygons(obj.get("geometry"), key, value, ctx)
    if kind in ("Polygon", "MultiPolygon"):
        try:
            return [shape(obj)]
        except (KeyError, TypeError, ValueError, IndexError,
                shapely.errors.GEOSException) as e:
            raise ctx.fail(key, value, f"{_POLY_EXPECTED} ({kind} coordinates: {e})") from None
    raise ctx.fail(key, value, _POLY_EXPECTED + f" (got type {_show(kind)})")


def _prohibited(table: dict[str, Any], ctx: _Ctx) -> Prohibited:
    ctx.unknown(table, _PROHIBITED_KEYS, "prohibited.")
    fire = table.get("fire_near_line", True)
    if not isinstance(fire, bool):
        raise ctx.fail("prohibited.fire_near_line", fire, "true or false")
    sites: Path | None = None
    ref: str | None = None
    if "protected_sites" in table:
        raw = table["protected_sites"]
        expected = ("a path to a sites CSV (name, lon, lat, radius_m, kind), relative to "
                    "the agreement file")
        if not isinstance(raw, str) or not raw.strip():
            raise ctx.fail("prohibited.protected_sites", raw, expected)
        ref, _ = ctx.resolve("prohibited.protected_sites", raw, "an existing sites CSV file")
        sites = ctx.files[-1][1]
        from truceline.sources.sites import load_sites

        load_sites(sites)  # a bad row is named now, not once a judgement has begun
    if not fire and sites is None:
        raise ctx.fail("prohibited.fire_near_line", fire,
                       "true, or a 'prohibited.protected_sites' file: otherwise the "
                       "agreement prohibits nothing that can be monitored")
    return Prohibited(fire, sites, ref)


def _comparison(table: dict[str, Any], start: datetime, end: datetime, zone: ZoneInfo,
                ctx: _Ctx) -> Window:
    """The comparison window: as given, else the same elapsed length just before."""
    ctx.unknown(table, _COMPARISON_KEYS, "comparison.")
    given = [k for k in _COMPARISON_KEYS if k in table]
    if not given:
        length = end.astimezone(UTC) - start.astimezone(UTC)
        return Window((start.astimezone(UTC) - length).astimezone(zone), start)
    if len(given) == 1:
        missing = "comparison.end" if given[0] == "start" else "comparison.start"
        raise ctx.missing(missing, "both comparison.start and comparison.end, or neither "
                                   "(the default: the same length just before)")
    c_start = _local_time(table["start"], "comparison.start", zone, ctx)
    c_end = _local_time(table["end"], "comparison.end", zone, ctx)
    if c_end.astimezone(UTC) <= c_start.astimezone(UTC):
        raise ctx.fail("comparison.end", table["end"], "a time after comparison.start")
    # compare instants, not wall clocks: aware datetimes sharing a tzinfo compare naively
    if c_start.astimezone(UTC) < end.astimezone(UTC) and \
            start.astimezone(UTC) < c_end.astimezone(UTC):
        raise ctx.fail("comparison.start", table["start"],
                       "a comparison window that does not overlap the agreement window "
                       f"({start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} {zone.key})")
    return Window(c_start, c_end)

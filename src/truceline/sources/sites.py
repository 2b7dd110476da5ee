"""Protected sites: the CSV of places a strike moratorium covers, checked row by row.

A strike moratorium (energy infrastructure, hospitals, a nuclear plant) is judged by
whether fire is seen *at a listed site*, wherever it is relative to the line. The list
is written by people, often in a spreadsheet, so every row is checked and a bad one is
refused with the file, line, field, value and what was expected, rather than dropped.

Layout (UTF-8 CSV, header row, case-insensitive column names)::

    name,lon,lat,radius_m,kind[,any other columns]
    Kursk Nuclear Power Plant,35.607,51.675,2000,nuclear_power_plant

- ``lon``/``lat``: WGS84 degrees; ``radius_m``: metres (0 < r <= 50 000), the ground around
  the point that counts as the site; ``kind``: free text, lower-cased (suggested:
  ``nuclear_power_plant``, ``thermal_power_plant``, ``hydro_power_plant``,
  ``substation``, ``gas_facility``, ``oil_facility``, ``hospital``).
- Extra columns (``note``, ``source``) are kept as text. Lines starting with ``#`` and
  blank lines are skipped. Names must be unique.

Distances are geodesic (WGS84 ellipsoid, `pyproj.Geod`), never degrees.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod

from truceline.errors import InputError
from truceline.files import read_limited
from truceline.sources.sniff import sniff_text

__all__ = [
    "MAX_RADIUS_M",
    "SITE_COLUMNS",
    "load_sites",
    "match_sites",
    "parse_sites",
    "site_zones",
    "write_sites",
]

SITE_COLUMNS = ("name", "lon", "lat", "radius_m", "kind")
MAX_RADIUS_M = 50_000.0
MAX_SITES_BYTES = 50 * 1024 * 1024  # a sites list is kilobytes; the cap refuses a device
_GEOD = Geod(ellps="WGS84")
_CIRCLE_VERTICES = 72


def load_sites(path: str | Path) -> gpd.GeoDataFrame:
    """Read and validate a protected-sites CSV into a GeoDataFrame of points (EPSG:4326).

    Columns: name, kind, lon, lat, radius_m, line (the row's line in the file, for
    evidence), any extra columns, geometry.
    """
    p = Path(path)
    raw = read_limited(p, "a protected-sites CSV file", MAX_SITES_BYTES)
    if raw is None:
        raise InputError(f"{p}: protected-sites file not found")
    sniff_text(p, raw[:4096], expected="a protected-sites CSV file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"{p}: not UTF-8 text (byte {e.start}): expected a CSV file") from None
    return parse_sites(text, source=str(p))


def parse_sites(text: str, *, source: str = "<sites>") -> gpd.GeoDataFrame:
    """Validate protected-sites CSV text; `source` names it in error messages."""
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    header_line = 0
    rows: list[tuple[int, list[str]]] = []
    for cells in reader:
        if not cells or all(not c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
            continue
        if header is None:
            header = [c.strip().lower() for c in cells]
            header_line = reader.line_num
            continue
        rows.append((reader.line_num, cells))

    expected = ", ".join(SITE_COLUMNS)
    if header is None:
        raise InputError(f"{source}: empty protected-sites file: expected a header row "
                         f"with columns {expected}")
    missing = [c for c in SITE_COLUMNS if c not in header]
    if missing:
        raise InputError(f"{source}: line {header_line}: header {','.join(header)} lacks "
                         f"column(s) {', '.join(missing)}: expected columns {expected}")
    dupes = sorted({c for c in header if header.count(c) > 1})
    if dupes or "" in header or "line" in header or "geometry" in header:
        bad = dupes or [c for c in header if c in ("", "line", "geometry")]
        raise InputError(f"{source}: line {header_line}: column name(s) {bad} repeated, "
                         "empty or reserved: expected distinct names other than line, geometry")
    if not rows:
        raise InputError(f"{source}: no sites after the header: expected at least one row")

    records = [_row(source, line, header, cells) for line, cells in rows]
    seen: dict[str, int] = {}
    for rec in records:
        key = rec["name"].casefold()
        if key in seen:
            raise InputError(f"{source}: line {rec['line']}: field 'name' = {rec['name']!r}: "
                             f"expected a unique name (already used on line {seen[key]})")
        seen[key] = rec["line"]

    extra = [c for c in header if c not in SITE_COLUMNS]
    df = pd.DataFrame.from_records(records, columns=[*SITE_COLUMNS, "line", *extra])
    df = df[["name", "kind", "lon", "lat", "radius_m", "line", *extra]]
    df["line"] = df["line"].astype("int64")
    geometry = gpd.points_from_xy(df["lon"], df["lat"], crs="EPSG:4326")
    return gpd.GeoDataFrame(df, geometry=geometry, crs="EPSG:4326")


def _row(source: str, line: int, header: list[str], cells: list[str]) -> dict[str, Any]:
    where = f"{source}: line {line}"
    if len(cells) != len(header):
        raise InputError(f"{where}: {len(cells)} fields: expected {len(header)} "
                         f"({','.join(header)})")
    raw = {h: c.strip() for h, c in zip(header, cells, strict=True)}

    def fail(field: str, expected: str) -> InputError:
        return InputError(f"{where}: field '{field}' = {raw[field]!r}: expected {expected}")

    def number(field: str, lo: float, hi: float, expected: str, *, open_lo: bool = False
               ) -> float:
        try:
            v = float(raw[field])
        except ValueError:
            raise fail(field, expected) from None
        if not math.isfinite(v) or v < lo or v > hi or (open_lo and v == lo):
            raise fail(field, expected)
        return v

    if not raw["name"]:
        raise fail("name", "a non-empty site name")
    if not raw["kind"]:
        raise fail("kind", "a non-empty kind such as 'thermal_power_plant' or 'substation'")
    rec: dict[str, Any] = dict(raw)
    rec["lon"] = number("lon", -180, 180, "a longitude in degrees within [-180, 180]")
    rec["lat"] = number("lat", -90, 90, "a latitude in degrees within [-90, 90]")
    rec["radius_m"] = number("radius_m", 0, MAX_RADIUS_M,
                             f"a radius in metres, above 0 and at most {MAX_RADIUS_M:,.0f}",
                             open_lo=True)
    rec["kind"] = raw["kind"].lower()
    rec["line"] = line
    return rec


def write_sites(sites: gpd.GeoDataFrame | pd.DataFrame, path: str | Path) -> Path:
    """Write sites back to the CSV layout `load_sites` reads (round-trips)."""
    missing = [c for c in SITE_COLUMNS if c not in sites.columns]
    if missing:
        raise InputError(f"sites table lacks column(s) {', '.join(missing)}: expected "
                         f"{', '.join(SITE_COLUMNS)}")
    extra = [c for c in sites.columns if c not in (*SITE_COLUMNS, "line", "geometry")]
    out = pd.DataFrame(sites[[*SITE_COLUMNS, *extra]])
    p = Path(path)
    out.to_csv(p, index=False, lineterminator="\n", float_format="%.6f")
    return p


def site_zones(sites: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Each site's ground as a geodesic circle of `radius_m` (polygons, EPSG:4326).

    Built on the ellipsoid so that a 2 km site is 2 km wide at any latitude; for maps
    and for joining incidents polygons.
    """
    n = len(sites)
    if n == 0:
        return gpd.GeoSeries([], crs="EPSG:4326", index=sites.index)
    az = np.linspace(0.0, 360.0, _CIRCLE_VERTICES, endpoint=False)
    lon = np.repeat(sites["lon"].to_numpy(float), _CIRCLE_VERTICES)
    lat = np.repeat(sites["lat"].to_numpy(float), _CIRCLE_VERTICES)
    dist = np.repeat(sites["radius_m"].to_numpy(float), _CIRCLE_VERTICES)
    x, y, _ = _GEOD.fwd(lon, lat, np.tile(az, n), dist)
    ring = np.stack([x, y], axis=-1).reshape(n, _CIRCLE_VERTICES, 2)
    ring = np.concatenate([ring, ring[:, :1]], axis=1)  # close each ring
    return gpd.GeoSeries(shapely.polygons(ring), crs="EPSG:4326", index=sites.index)


def match_sites(sites: gpd.GeoDataFrame, lon: np.ndarray, lat: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """For each point, the position of the nearest site whose radius covers it, or -1.

    Returns ``(site_position, distance_m)``; distance is NaN where no site matches.
    Loops over sites (few), never over points: each site tests all points inside a
    generous lon/lat box first, then geodesic distances on the candidates only.

    Example
    -------
    >>> s = parse_sites("name,lon,lat,radius_m,kind\\nA,30.0,50.0,1000,substation\\n")
    >>> pos, d = match_sites(s, np.array([30.0, 30.01, 31.0]), np.array([50.0, 50.0, 50.0]))
    >>> pos.tolist()
    [0, 0, -1]
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    if lon.shape != lat.shape:
        raise InputError(f"lon and lat differ in shape: {lon.shape} vs {lat.shape}")
    best = np.full(lon.shape, -1, dtype=np.int64)
    best_d = np.full(lon.shape, np.nan)
    s_lon = sites["lon"].to_numpy(float)
    s_lat = sites["lat"].to_numpy(float)
    s_r = sites["radius_m"].to_numpy(float)
    for i in range(len(sites)):
        # 1 degree of latitude is at least 110.5 km; pad the box by 10%.
        dlat = s_r[i] / 110_574.0 * 1.1
        dlon = dlat / max(math.cos(math.radians(min(abs(s_lat[i]) + dlat, 89.9))), 1e-6)
        dx = np.abs((lon - s_lon[i] + 180.0) % 360.0 - 180.0)
        cand = np.flatnonzero((np.abs(lat - s_lat[i]) <= dlat) & (dx <= dlon))
        if cand.size == 0:
            continue
        _, _, d = _GEOD.inv(np.full(cand.size, s_lon[i]), np.full(cand.size, s_lat[i]),
                            lon[cand], lat[cand])
        d = np.asarray(d)
        hit = d <= s_r[i]
        closer = hit & ~(best_d[cand] <= d)  # NaN (no match yet) compares False
        best[cand[closer]] = i
        best_d[cand[closer]] = d[closer]
    return best, best_d

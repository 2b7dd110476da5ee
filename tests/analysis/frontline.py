"""Distance to the line of contact for validation, from the liveuamap (NZZ) maps.

A stand-in for `truceline.geo` in the validation only. For each map: Russian-held ground
is nochange ∪ gains plus Crimea (NZZ leaves it out; taken from the 0.1° oblast grid).
The line is the part of its boundary that faces Ukrainian-held land: boundary points
(every ~1 km) where points 3 and 6 km (or 12 and 16 km) outward, in some direction,
both lie on land of the 0.1° grid (water share < 50 %, eroded 0.03°) outside
Russian-held ground; that drops coasts and the borders with Russia and Belarus.
Where Ukrainian-held ground meets Russia, the state
border (an approximate polyline, ~10 km accurate) is added. Distances are metric (EPSG:3035).
Good to a few km: enough to separate 0-15 km from > 150 km.
"""

from __future__ import annotations

import json
from functools import lru_cache

import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy.spatial import cKDTree

from conftest import data_root, oblast_grid  # type: ignore[import-not-found]

_TO_M = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:3035", always_xy=True)

# Ukraine-Russia land border, Belarus tripoint to the Sea of Azov (approximate).
RU_BORDER = [
    (31.78, 52.10), (32.40, 52.30), (33.20, 52.35), (33.80, 52.35), (34.10, 51.70),
    (34.40, 51.25), (35.10, 51.20), (35.40, 50.60), (36.20, 50.40), (37.50, 50.35),
    (38.20, 50.05), (39.20, 49.90), (40.10, 49.60), (40.20, 49.00), (39.80, 48.50),
    (40.00, 48.00), (39.80, 47.80), (38.80, 47.80), (38.30, 47.50), (38.20, 47.10),
]


def to_metres(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    x, y = _TO_M.transform(np.asarray(lon), np.asarray(lat))
    return np.c_[x, y]


@lru_cache(maxsize=1)
def _land_and_crimea() -> tuple[shapely.Geometry, shapely.Geometry]:
    root = data_root()
    g = oblast_grid()
    lu = pd.read_csv(root / "context" / "land_use" / "ukr_land_use_2022_10km.csv")
    g = g.merge(lu, on=["LATITUDE", "LONGITUDE"], how="left")
    water = g["LAND_USE_CLASS_0"].fillna(0).to_numpy()
    boxes = shapely.box(g.LONGITUDE - 0.05, g.LATITUDE - 0.05, g.LONGITUDE + 0.05,
                        g.LATITUDE + 0.05)
    land = shapely.union_all(boxes[water < 0.5]).buffer(0.001).buffer(-0.03)
    crimea = shapely.union_all(boxes[g.OBLAST_ID.isin(["UA43", "UA40"]).to_numpy()])
    return land, crimea.buffer(0.001)


def nzz_files() -> list[tuple[pd.Timestamp, str]]:
    """Control maps by date: liveuamap/NZZ up to mid-2024, DeepStateMap after (NZZ's 2025
    maps leave out the ground held since 2014, DeepState's include it)."""
    root = data_root()
    files = sorted((root / "frontline" / "liveuamap_nzz").glob("nzz_*.json"))
    out = [(pd.Timestamp(f.stem[4:]), str(f)) for f in files]
    ds = sorted((root / "frontline" / "deepstate").glob("deepstatemap_data_*.geojson"))
    out = [x for x in out if x[0] < pd.Timestamp("2024-07-08")]
    out += [(pd.Timestamp(f.stem.split("_")[-1]), str(f)) for f in ds]
    out.sort()
    # Weekly is enough to place fires within a few km: thin the daily runs.
    thinned: list[tuple[pd.Timestamp, str]] = []
    for d, f in out:
        if not thinned or (d - thinned[-1][0]).days >= 6 or d >= pd.Timestamp("2025-08-01"):
            thinned.append((d, f))
    return thinned


@lru_cache(maxsize=256)
def line_points(path: str) -> np.ndarray:
    """Line-of-contact points (metres, EPSG:3035) of one NZZ map."""
    with open(path) as fh:
        doc = json.load(fh)
    fc = doc.get("value", doc)
    geoms = [shapely.geometry.shape(f["geometry"]) for f in fc["features"]
             if (f.get("properties") or {}).get("type", "nochange") in ("nochange", "gains")]
    land, crimea = _land_and_crimea()
    held = shapely.make_valid(shapely.union_all(geoms + [crimea]))
    held = held.buffer(0.01, quad_segs=1).buffer(-0.01, quad_segs=1)  # close slivers
    ua = shapely.difference(land, held)
    shapely.prepare(ua)
    bnd = shapely.segmentize(shapely.boundary(held), 0.015)
    pts = shapely.get_coordinates(bnd)
    keep = np.zeros(len(pts), dtype=bool)
    coslat = np.cos(np.radians(pts[:, 1]))
    for ang in np.linspace(0, 2 * np.pi, 8, endpoint=False):
        for pair in ((3.0, 6.0), (12.0, 16.0)):  # the second steps over the reservoirs
            ok = np.ones(len(pts), dtype=bool)
            for km in pair:
                dx = km / 111.32 * np.cos(ang) / coslat
                dy = km / 111.32 * np.sin(ang)
                ok &= shapely.contains_xy(ua, pts[:, 0] + dx, pts[:, 1] + dy)
            keep |= ok
    line = pts[keep]
    border = shapely.segmentize(shapely.LineString(RU_BORDER), 0.01)
    bpts = shapely.get_coordinates(border)
    shapely.prepare(held)
    bpts = bpts[~shapely.dwithin(held, shapely.points(bpts), 0.02)]
    return to_metres(*np.r_[line, bpts].T)


def distance_to_line_km(lon: np.ndarray, lat: np.ndarray, dates: pd.Series) -> np.ndarray:
    """Distance (km) of each point to the line on the latest NZZ map at or before its date
    (the first map for earlier dates)."""
    files = nzz_files()
    fdates = np.array([d for d, _ in files], dtype="datetime64[ns]")
    t = pd.to_datetime(pd.Series(dates)).to_numpy().astype("datetime64[ns]")
    which = np.clip(np.searchsorted(fdates, t, side="right") - 1, 0, len(files) - 1)
    xy = to_metres(lon, lat)
    out = np.full(len(t), np.nan)
    for i in np.unique(which):
        sel = which == i
        tree = cKDTree(line_points(files[i][1]))
        out[sel] = tree.query(xy[sel])[0] / 1000.0
    return out

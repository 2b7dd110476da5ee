"""Areas of control for one snapshot: who holds which ground (pure functions).

A control source draws only the ground Russia holds inside Ukraine, and draws it
approximately: it follows the state border and the coast within a few hundred metres
(up to ~2 km in places). Left alone, the thin strips between a source's polygon and
Natural Earth's border would count as Ukrainian-held ground and grow a false "front"
along the whole occupied border and coast. Two repairs, both documented in docs/GEO.md:

1. *snap*: held ground is grown by ``sliver_m`` but only inside a band of
   ``2 * sliver_m`` along Ukraine's border and coast, which closes those strips and
   leaves the front itself where the source drew it;
2. *pockets*: islands of Ukrainian-held ground under ``pocket_km2``, cut off from the
   main body and touching held ground (wider strips, the "grey zone" holes some sources
   leave), are counted as held.

Everything is computed in the theatre's metric CRS (metres).

Four areas, disjoint and covering the theatre window:

- ``ua``: Ukraine's outline minus Russian-held ground;
- ``ru``: Russian-held ground in Ukraine (plus Crimea when the source leaves it out)
  together with Russia itself;
- ``third``: the other countries (Belarus, Moldova, Romania, Poland, ...);
- ``sea``: everything else (seas, and land outside the theatre's outlines).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from truceline.errors import InputError
from truceline.geo import _overlay, outlines

__all__ = ["POCKET_KM2", "SLIVER_M", "ControlAreas", "control_areas", "held_in_ukraine"]

#: Snap distance (metres): strips between held ground and Ukraine's border or coast
#: narrower than this are closed. Source polygons follow Natural Earth 10m's border and
#: coast to within ~0.5 km mostly, 1–2.5 km in places (measured on DeepState 2025).
SLIVER_M = 1_500.0

#: Ukrainian-held islands smaller than this (km²), cut off from the main body and
#: touching held ground, are counted as held: they are source slivers or grey-zone holes,
#: not pockets a map of this scale can show.
POCKET_KM2 = 100.0

#: Smallest Russian-held area (km²) inside Ukraine that a snapshot must have.
MIN_HELD_KM2 = 1.0


@dataclass(frozen=True)
class ControlAreas:
    """The four areas of one snapshot, in the theatre's metric CRS (metres).

    ``held`` is the Russian-held part of Ukraine alone (a part of ``ru``).
    """

    snapshot_id: str
    ua: BaseGeometry
    held: BaseGeometry
    third: BaseGeometry
    #: Ukrainian-held islands kept (>= pocket_km2), cut off from the main body and
    #: surrounded by Russian-held ground: (km², lon, lat of a point inside), largest first.
    #: A real encirclement, or a source that leaves out ground held since 2014.
    pockets: tuple[tuple[float, float, float], ...] = ()

    @cached_property
    def ru(self) -> BaseGeometry:
        """Russian-held ground: held Ukraine and Russia (built on first use)."""
        g = shapely.union(self.held, outlines.outline_m("RUS"))
        shapely.prepare(g)
        return g

    def areas_km2(self) -> dict[str, float]:
        """Area of each land class in km² (sea is unbounded and left out)."""
        return {
            "ua": self.ua.area / 1e6,
            "held": self.held.area / 1e6,
            "ru": self.ru.area / 1e6,
            "third": self.third.area / 1e6,
        }


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Keep only the polygons of a (possibly mixed) geometry, as one MultiPolygon."""
    parts = shapely.get_parts(geom)
    keep = parts[shapely.get_type_id(parts) >= 3]
    keep = keep[shapely.get_type_id(keep) != 7]
    polys = shapely.get_parts(keep)
    polys = polys[(shapely.get_type_id(polys) == 3) & ~shapely.is_empty(polys)]
    return shapely.multipolygons(polys)


def held_in_ukraine(
    geometry: BaseGeometry, *, crimea_missing: bool = False, snapshot_id: str = "?"
) -> BaseGeometry:
    """Russian-held ground in Ukraine (metric CRS) from a source's lon/lat polygon.

    Repairs invalid rings, adds Crimea when the source leaves it out, clips to Ukraine.
    Raises InputError when the result covers (almost) nothing of Ukraine, because a
    snapshot that puts the whole country on one side is a wrong file, not a finding.
    """
    if geometry is None or shapely.is_empty(geometry):
        raise InputError(f"control snapshot {snapshot_id!r} has an empty geometry")
    g = outlines.to_metric(_polygonal(shapely.make_valid(geometry)))
    if not shapely.is_valid(g):  # reprojection can make a ring touch itself
        g = _polygonal(shapely.make_valid(g))
    if crimea_missing:
        g = _overlay.union(g, outlines.crimea_fill_m())
    ukr = outlines.outline_m("UKR")
    held = _polygonal(_overlay.intersection(g, ukr))
    km2 = held.area / 1e6
    if km2 < MIN_HELD_KM2:
        raise InputError(
            f"control snapshot {snapshot_id!r} covers {km2:.3f} km² of Ukraine "
            f"(at least {MIN_HELD_KM2} km² expected): is it in lon/lat (EPSG:4326) and "
            "does it draw Russian-held ground in Ukraine?"
        )
    return held


@lru_cache(maxsize=4)
def _edge_band(sliver_m: float) -> BaseGeometry:
    """Ground within 2 * sliver_m of Ukraine's border or coast (cached)."""
    band = shapely.buffer(shapely.boundary(outlines.outline_m("UKR")), 2 * sliver_m, quad_segs=2)
    shapely.prepare(band)
    return band


@lru_cache(maxsize=1)
def _third_m() -> BaseGeometry:
    others = [outlines.outline_m(c) for c in outlines.countries() if c not in ("UKR", "RUS")]
    g = shapely.union_all(others)
    shapely.prepare(g)
    return g


def control_areas(
    geometry: BaseGeometry,
    *,
    crimea_missing: bool = False,
    snapshot_id: str = "?",
    sliver_m: float = SLIVER_M,
    pocket_km2: float = POCKET_KM2,
) -> ControlAreas:
    """The areas of control (ua, ru, third; sea is the rest) for one snapshot.

    Example: a snapshot holding a 20 km square around Donetsk.

    >>> from shapely import box
    >>> a = control_areas(box(37.7, 47.9, 38.0, 48.1), snapshot_id="demo")
    >>> round(a.held.area / 1e6, -2)
    500.0
    """
    held = held_in_ukraine(geometry, crimea_missing=crimea_missing, snapshot_id=snapshot_id)
    ukr = outlines.outline_m("UKR")
    if sliver_m > 0:
        # snap: held ground grows by sliver_m, but only within 2 * sliver_m of Ukraine's
        # border or coast, closing the strips a source leaves along them
        grow = _overlay.intersection(
            shapely.buffer(held, sliver_m, quad_segs=2), _edge_band(sliver_m)
        )
        held = _polygonal(_overlay.intersection(_overlay.union(held, grow), ukr))
    ua = _overlay.difference(ukr, held)
    pockets: tuple[tuple[float, float, float], ...] = ()
    if pocket_km2 > 0:
        # islands of ua ground cut off from the main body and touching held ground:
        # strips wider than the snap, and the "grey zone" holes some sources leave
        parts = shapely.get_parts(ua)
        area = shapely.area(parts)
        small = (area < pocket_km2 * 1e6) & (area < area.max())
        shapely.prepare(held)
        small[small] = shapely.dwithin(parts[small], held, 1.0)
        if small.any():
            held = _polygonal(_overlay.union(held, shapely.union_all(parts[small])))
            ua = shapely.multipolygons(parts[~small])
        big = ~small & (area < area.max())
        big[big] = shapely.dwithin(parts[big], held, 1.0)
        order = np.flatnonzero(big)[np.argsort(-area[big])]
        if len(order):
            inner = outlines.to_lonlat(shapely.point_on_surface(parts[order]))
            pockets = tuple(
                (float(a / 1e6), float(x), float(y))
                for a, (x, y) in zip(area[order], shapely.get_coordinates(inner), strict=True)
            )  # one per pocket, a handful at most
    for g in (ua, held):
        shapely.prepare(g)
    return ControlAreas(
        snapshot_id=snapshot_id, ua=ua, held=held, third=_third_m(), pockets=pockets
    )

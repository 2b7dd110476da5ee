"""The line of contact: where Ukrainian-held ground meets Russian-held ground.

It is the part of the boundary of ``ua`` that lies within ``tolerance_m`` of ``ru``
(Russian-held Ukraine or Russia itself), i.e. everything but the coast and the borders
with third countries. So it follows the front through Ukraine, and the
Ukraine–Russia state border wherever free Ukraine faces Russia (Sumy, Kharkiv, Chernihiv),
and it leaves out every coast and every border with a third country, because no Russian
ground lies there. The state border inside Russian-held ground is not on it: no ``ua``
ground touches it.

One exception to "no coast": free coast facing held ground across narrow water (within
``across_water_m``, 10 km: the lower Dnipro, the Kinburn–Ochakiv strait) is a front too,
and is on the line as its ``water`` part.

The line is split into the part inside Ukraine (the front) and the part along the state
border (within ``tolerance_m`` of Russia's outline); lengths are computed in the theatre's
Lambert conformal CRS, whose scale error over Ukraine is below 0.3%.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from truceline.geo import _overlay, outlines
from truceline.geo.control import ControlAreas

__all__ = [
    "ACROSS_WATER_M",
    "CONTACT_TOLERANCE_M",
    "ContactLine",
    "contact_geojson",
    "contact_line",
]

#: How far a stretch of ``ua``'s boundary may be from ``ru`` and still be on the line.
#: After the sliver repair in :mod:`truceline.geo.control` the two touch exactly; the
#: tolerance only absorbs floating-point noise and Natural Earth's shared border vertices.
CONTACT_TOLERANCE_M = 100.0

#: Free coast this close (metres) to held ground across water is on the line: the
#: Dnipro below Kherson and the Dnipro–Buh estuary are water in Natural Earth 10m, and
#: the two banks face each other there as much as across any field.
ACROSS_WATER_M = 10_000.0


@dataclass(frozen=True)
class ContactLine:
    """The line of contact of one snapshot, in the theatre's metric CRS (metres)."""

    snapshot_id: str
    line: BaseGeometry
    inside: BaseGeometry
    border: BaseGeometry
    water: BaseGeometry = shapely.MultiLineString()

    @property
    def length_km(self) -> float:
        """Whole length in km."""
        return self.line.length / 1000.0

    @property
    def inside_km(self) -> float:
        """Length in km of the part inside Ukraine (the front proper)."""
        return self.inside.length / 1000.0

    @property
    def border_km(self) -> float:
        """Length in km of the part along the Ukraine–Russia state border."""
        return self.border.length / 1000.0

    @property
    def water_km(self) -> float:
        """Length in km of free coast facing held coast across narrow water (in ``inside``)."""
        return self.water.length / 1000.0

    def lengths_km(self) -> dict[str, float]:
        """The lengths, for reports and `--json` output (``water`` is part of ``inside``)."""
        return {
            "total": self.length_km,
            "inside": self.inside_km,
            "border": self.border_km,
            "water": self.water_km,
        }


@lru_cache(maxsize=4)
def _russia_band(tolerance_m: float) -> BaseGeometry:
    g = shapely.buffer(outlines.outline_m("RUS"), tolerance_m)
    shapely.prepare(g)
    return g


def _lines(geom: BaseGeometry) -> BaseGeometry:
    """Keep only the linear parts, merged into as few lines as possible."""
    parts = shapely.get_parts(shapely.get_parts(geom))
    parts = parts[shapely.get_type_id(parts) == 1]
    if len(parts) == 0:
        return shapely.MultiLineString()
    merged = shapely.line_merge(shapely.multilinestrings(parts))
    return shapely.multilinestrings(shapely.get_parts(merged))


@lru_cache(maxsize=4)
def _not_russia_band(tolerance_m: float) -> BaseGeometry:
    """Ukraine's coast and third-country borders, widened by ``tolerance_m`` (cached)."""
    ukr_edge = shapely.boundary(outlines.outline_m("UKR"))
    other = shapely.difference(ukr_edge, _russia_band(tolerance_m))
    g = shapely.buffer(other, tolerance_m, quad_segs=2)
    shapely.prepare(g)
    return g


@lru_cache(maxsize=4)
def _coast(tolerance_m: float, reach_m: float) -> tuple[BaseGeometry, BaseGeometry]:
    """Ukraine's sea coast (no land border with any country) and a band of ``reach_m``
    plus 2 km around it (both cached)."""
    ukr_edge = shapely.boundary(outlines.outline_m("UKR"))
    others = [outlines.outline_m(c) for c in outlines.countries() if c != "UKR"]
    land = shapely.buffer(shapely.union_all(others), tolerance_m, quad_segs=2)
    coast = shapely.difference(ukr_edge, land)
    band = shapely.buffer(coast, reach_m + 2_000.0, quad_segs=2)
    shapely.prepare(coast)
    shapely.prepare(band)
    return coast, band


def _across_water(held: BaseGeometry, tolerance_m: float, reach_m: float) -> BaseGeometry:
    """Free coast within ``reach_m`` of held ground: only held ground near the coast is
    buffered, which keeps this at a few milliseconds."""
    coast, band = _coast(tolerance_m, reach_m)
    near = _overlay.intersection(shapely.simplify(held, tolerance_m), band)
    if near.is_empty:
        return shapely.MultiLineString()
    facing = _overlay.intersection(coast, shapely.buffer(near, reach_m, quad_segs=2))
    own = shapely.buffer(near, tolerance_m, quad_segs=2)  # held ground's own coast
    return _lines(_overlay.difference(facing, own))


def contact_line(
    areas: ControlAreas,
    *,
    tolerance_m: float = CONTACT_TOLERANCE_M,
    across_water_m: float = ACROSS_WATER_M,
) -> ContactLine:
    """The line of contact of one snapshot, split into inside-Ukraine and state-border parts.

    ``ua``'s boundary is made of the front (facing held ground), the state border with
    Russia, the coast and borders with third countries; the last two are a fixed set, so
    the line is the boundary minus that set widened by ``tolerance_m`` (one overlay).
    Free coast within ``across_water_m`` of held ground faces it across narrow water
    (the lower Dnipro, Kinburn–Ochakiv) and is on the line too (``water``, counted in
    ``inside``); 0 leaves it out.
    """
    edge = shapely.boundary(areas.ua)
    russia = _russia_band(tolerance_m)
    line = _overlay.difference(edge, _not_russia_band(tolerance_m))
    water = shapely.MultiLineString()
    if across_water_m > 0:
        water = _across_water(areas.held, tolerance_m, across_water_m)
        line = _overlay.union(line, water)
    line = _lines(line)
    border = _lines(_overlay.intersection(line, russia))
    inside = _lines(_overlay.difference(line, russia))
    return ContactLine(
        snapshot_id=areas.snapshot_id, line=line, inside=inside, border=border, water=water
    )


def contact_geojson(contact: ContactLine, *, properties: dict[str, Any] | None = None) -> str:
    """The line as a GeoJSON FeatureCollection (lon/lat), one feature per part.

    Each feature carries ``part`` (``inside`` or ``border``), ``length_km``,
    ``across_water_km`` (the part of ``inside`` that faces held ground across water) and
    the snapshot id, so QGIS or a browser map can style the front and the border apart.
    """
    feats = []
    for part, geom in (("inside", contact.inside), ("border", contact.border)):
        feats.append(
            {
                "type": "Feature",
                "properties": {
                    "snapshot_id": contact.snapshot_id,
                    "part": part,
                    "length_km": round(geom.length / 1000.0, 3),
                    "across_water_km": round(contact.water_km if part == "inside" else 0.0, 3),
                    **(properties or {}),
                },
                "geometry": json.loads(shapely.to_geojson(outlines.to_lonlat(geom))),
            }
        )
    return json.dumps({"type": "FeatureCollection", "features": feats})

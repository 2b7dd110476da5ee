"""Overlay operations that survive GEOS topology errors.

Real control maps are hand-drawn: after repair and reprojection a ring can still touch
itself within floating-point noise, and GEOS then stops an overlay with "TopologyException:
side location conflict". Each operation here retries once on repaired inputs
(``make_valid``), then with snap-rounding to a 1 mm grid, which moves nothing that
matters at the scale of a front line.
"""

from __future__ import annotations

from collections.abc import Callable

import shapely
from shapely.errors import GEOSException
from shapely.geometry.base import BaseGeometry

__all__ = ["difference", "intersection", "union"]

GRID_M = 0.001


def _robust(op: Callable[..., BaseGeometry], a: BaseGeometry, b: BaseGeometry) -> BaseGeometry:
    try:
        return op(a, b)
    except GEOSException:
        pass
    a2, b2 = shapely.make_valid(a), shapely.make_valid(b)
    try:
        return op(a2, b2)
    except GEOSException:
        return op(a2, b2, grid_size=GRID_M)


def union(a: BaseGeometry, b: BaseGeometry) -> BaseGeometry:
    """``a ∪ b``, retried on repaired inputs, then on a 1 mm grid."""
    return _robust(shapely.union, a, b)


def intersection(a: BaseGeometry, b: BaseGeometry) -> BaseGeometry:
    """``a ∩ b``, retried on repaired inputs, then on a 1 mm grid."""
    return _robust(shapely.intersection, a, b)


def difference(a: BaseGeometry, b: BaseGeometry) -> BaseGeometry:
    """``a − b``, retried on repaired inputs, then on a 1 mm grid."""
    return _robust(shapely.difference, a, b)

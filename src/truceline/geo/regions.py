"""Fixed regions more than one stage needs: why here, below ``sources`` and ``analysis``,
so that neither imports the other for a polygon."""

from __future__ import annotations

import shapely

__all__ = ["DONBAS"]

# Donetsk and Luhansk oblasts, approximated: concave hull of the 0.1° oblast grid cells
# (context/oblasts, UA14 + UA09), buffered by 0.06° and simplified to 0.05°. Good to a
# few km at the oblast border, which is all a climatology exclusion or a map repair needs.
_DONBAS_RING = [
    (36.75, 48.67), (36.77, 48.85), (37.09, 48.86), (37.67, 49.25), (37.86, 49.26),
    (37.93, 49.39), (37.84, 49.52), (38.04, 49.81), (38.05, 50.03), (38.18, 50.16),
    (38.42, 50.16), (38.91, 49.96), (39.22, 49.96), (39.81, 49.66), (40.26, 49.62),
    (40.26, 49.28), (40.07, 49.09), (40.16, 48.88), (39.96, 48.59), (40.06, 48.19),
    (39.85, 47.76), (39.49, 47.74), (39.30, 47.83), (39.09, 47.74), (38.94, 47.84),
    (38.83, 47.65), (38.44, 47.54), (38.35, 47.17), (38.12, 46.94), (37.71, 47.04),
    (37.42, 46.84), (37.05, 46.86), (36.94, 47.31), (37.13, 47.41), (37.06, 47.56),
    (36.76, 47.66), (36.64, 47.89), (36.66, 48.15), (36.89, 48.07), (36.94, 48.12),
    (36.75, 48.67),
]

#: Donetsk and Luhansk oblasts (lon/lat, WGS84), approximate (see ``_DONBAS_RING``).
DONBAS: shapely.Polygon = shapely.Polygon(_DONBAS_RING)

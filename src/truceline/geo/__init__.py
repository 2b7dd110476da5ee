"""geo stage of the truceline pipeline: who holds which ground, the line of contact, and
where every detection stands (see docs/GEO.md).

Pure functions of (Geo)DataFrames and Shapely geometries; the only data read are the
Natural Earth outlines and GeoNames places that PyPI packages ship.
"""

from truceline.geo.contact import ContactLine, contact_geojson, contact_line
from truceline.geo.control import ControlAreas, control_areas
from truceline.geo.enrich import (
    BANDS,
    FLAGS,
    SIDES,
    PreparedSnapshot,
    clear_cache,
    enrich,
    prepare_snapshot,
    warm_up,
)
from truceline.geo.grid import h3_cells, h3_to_str
from truceline.geo.outlines import THEATRE_BBOX, THEATRE_CRS

__all__ = [
    "BANDS",
    "ContactLine",
    "ControlAreas",
    "FLAGS",
    "PreparedSnapshot",
    "SIDES",
    "THEATRE_BBOX",
    "THEATRE_CRS",
    "clear_cache",
    "contact_geojson",
    "contact_line",
    "control_areas",
    "enrich",
    "h3_cells",
    "h3_to_str",
    "prepare_snapshot",
    "warm_up",
]

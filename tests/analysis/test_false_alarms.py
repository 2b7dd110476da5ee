"""The false-incident rate's yardstick areas: the grid measure of the scope and the
control band against the same bands drawn with Shapely."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely import box

from truceline.analysis.false_alarms import area_ratio, area_ratios
from truceline.geo import outlines
from truceline.geo.enrich import prepare_snapshot
from truceline.sources.agreements import parse_agreement

AGREEMENT = ('name = "t"\ntime_zone = "UTC"\nstart = "2025-08-21 00:00"\nduration_days = 7\n'
             '[[parties]]\nid = "ru"\nname = "R"\n[[parties]]\nid = "ua"\nname = "U"\n')


def test_area_ratio_matches_the_bands_drawn_around_the_line() -> None:
    """A held square in central Ukraine: the line is its edge and the state border with
    Russia (as ``enrich`` measures distance); the 0-30 km scope over the 60-150 km control
    band, inside Ukraine, must match the areas of buffers drawn around that line (the
    grid is 5 km, so within a few per cent), and a narrower scope shrinks it in proportion."""
    square = box(32.5, 49.3, 33.5, 49.9)
    snap = gpd.GeoDataFrame([{"snapshot_id": "sq", "source": "test", "party": "ru",
                              "valid_from": pd.Timestamp("2025-08-01"), "geometry": square,
                              "crimea_missing": False}], geometry="geometry", crs="EPSG:4326")
    line = prepare_snapshot("sq", square).contact.line
    ukr = outlines.outline_m("UKR")

    def band(lo_km: float, hi_km: float) -> float:
        ring = shapely.difference(shapely.buffer(line, hi_km * 1000),
                                  shapely.buffer(line, lo_km * 1000))
        return float(shapely.intersection(ring, ukr).area)

    whole = area_ratio(snap, parse_agreement(AGREEMENT))
    assert whole == pytest.approx(band(0, 30) / band(60, 150), rel=0.05)
    near = area_ratio(snap, parse_agreement(AGREEMENT + "[scope]\nband_km = [0, 10]\n"))
    assert near == pytest.approx(band(0, 10) / band(60, 150), rel=0.08)
    assert near < whole / 2
    # the contact zone (within 5 km of the line) that rule V1 also tests on its own
    zone = area_ratios(snap, parse_agreement(AGREEMENT))
    assert zone["scope"] == whole
    assert zone["near"] == pytest.approx(band(0, 5) / band(60, 150), rel=0.2)

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


def test_war_ground_share_matches_the_ground_drawn() -> None:
    """The share of the scope off ground at war (the yardsticks scale by it) is the area
    of the 0-30 km band east of 33.2°E over the whole band's, drawn with Shapely."""
    import datetime as dt

    from truceline.analysis.baseline import Exclusion

    square = box(32.5, 49.3, 33.5, 49.9)
    snap = gpd.GeoDataFrame([{"snapshot_id": "sq", "source": "test", "party": "ru",
                              "valid_from": pd.Timestamp("2025-08-01"), "geometry": square,
                              "crimea_missing": False}], geometry="geometry", crs="EPSG:4326")
    west = Exclusion("west", box(20.0, 40.0, 33.2, 56.0), dt.date(2014, 3, 1))
    r = area_ratios(snap, parse_agreement(AGREEMENT), exclusions=[west])
    line = prepare_snapshot("sq", square).contact.line
    band = shapely.intersection(shapely.buffer(line, 30_000), outlines.outline_m("UKR"))
    east = outlines.to_metric(shapely.intersection(outlines.to_lonlat(band),
                                                   box(33.2, 45.0, 41.0, 53.0)))
    assert r["war_ground"].share() == pytest.approx(east.area / band.area, abs=0.05)
    assert 0.2 < r["war_ground"].share() < 0.8
    assert r["scope"] == area_ratio(snap, parse_agreement(AGREEMENT))  # unchanged

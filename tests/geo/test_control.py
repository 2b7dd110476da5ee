"""Areas of control: synthetic known answers, bad input, real snapshots."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from shapely import box

from truceline.errors import InputError
from truceline.geo import control, outlines


def test_inland_square_is_held_and_nothing_else_moves() -> None:
    # 0.3° x 0.2° square around Donetsk, far from any border or coast
    a = control.control_areas(box(37.7, 47.9, 38.0, 48.1), snapshot_id="sq")
    assert a.held.area / 1e6 == pytest.approx(22.4 * 22.25, rel=0.02)
    assert shapely.contains_xy(a.ru, *outlines._TO_M.transform(37.85, 48.0))
    assert not shapely.contains_xy(a.ua, *outlines._TO_M.transform(37.85, 48.0))
    ukr = outlines.outline_m("UKR").area
    assert (a.ua.area + a.held.area) == pytest.approx(ukr, rel=1e-6)


def test_snapshot_outside_ukraine_is_an_error_naming_it() -> None:
    with pytest.raises(InputError, match="'poland-only' covers 0.000 km² of Ukraine"):
        control.control_areas(box(20.0, 52.0, 21.0, 53.0), snapshot_id="poland-only")


def test_empty_snapshot_is_an_error() -> None:
    with pytest.raises(InputError, match="'empty' has an empty geometry"):
        control.control_areas(shapely.Polygon(), snapshot_id="empty")


def test_invalid_bowtie_is_repaired() -> None:
    bowtie = shapely.Polygon([(37.0, 47.9), (37.4, 48.2), (37.4, 47.9), (37.0, 48.2)])
    assert not bowtie.is_valid
    a = control.control_areas(bowtie, snapshot_id="bowtie")
    assert a.held.area > 0 and a.held.is_valid


def test_crimea_missing_adds_crimea() -> None:
    sq = box(37.7, 47.9, 38.0, 48.1)
    without = control.control_areas(sq, snapshot_id="a")
    with_c = control.control_areas(sq, snapshot_id="a", crimea_missing=True)
    added = (with_c.held.area - without.held.area) / 1e6
    assert 26_000 < added < 31_000
    assert shapely.contains_xy(with_c.ru, *outlines._TO_M.transform(34.10, 44.95))


def test_sliver_along_the_border_is_closed() -> None:
    # held ground drawn 800 m short of the Russian border must not leave a free strip
    ukr = outlines.outline_m("UKR")
    rus = outlines.outline_m("RUS")
    near_border = shapely.intersection(
        ukr, shapely.buffer(shapely.intersection(shapely.boundary(ukr), rus.buffer(10)), 20_000)
    )
    drawn = shapely.difference(near_border, shapely.buffer(rus, 800))
    drawn = shapely.intersection(drawn, outlines.to_metric(box(39.0, 47.8, 40.0, 48.8)))
    a = control.control_areas(outlines.to_lonlat(drawn), snapshot_id="strip")
    strip = shapely.intersection(
        shapely.buffer(rus, 700), outlines.to_metric(box(39.2, 48.0, 39.8, 48.6))
    )
    assert shapely.intersection(a.ua, strip).area < 1e5  # < 0.1 km² left free


@pytest.mark.slow
def test_real_deepstate_2025_area(ds2025: gpd.GeoDataFrame) -> None:
    row = ds2025.iloc[0]
    a = control.control_areas(row.geometry, snapshot_id=row.snapshot_id)
    # DeepState reported ~113-114 thousand km² (Crimea included) in August 2025
    assert 108_000 < a.areas_km2()["held"] < 118_000


@pytest.mark.slow
def test_real_liveuamap_christmas_2023_area(frontlines) -> None:
    row = frontlines.liveuamap("2023-01-05").iloc[0]
    assert row.crimea_missing
    a = control.control_areas(row.geometry, crimea_missing=True, snapshot_id=row.snapshot_id)
    # SOURCES.md: with Crimea, about 110,000 km² (the source repository's own table)
    assert a.areas_km2()["held"] == pytest.approx(110_000, rel=0.05)


@pytest.mark.slow
def test_liveuamap_2025_omits_2014_ground_and_says_so(frontlines) -> None:
    # NZZ's liveuamap maps from March 2024 leave out the Donbas ground held since 2014
    row = frontlines.liveuamap("2025-08-15").iloc[0]
    a = control.control_areas(row.geometry, crimea_missing=True, snapshot_id=row.snapshot_id)
    km2, lon, lat = a.pockets[0]
    assert 15_000 < km2 < 18_000
    assert 37.5 < lon < 40.0 and 47.0 < lat < 48.8

"""Line of contact: known answers on synthetic snapshots, facts on real ones, GeoJSON."""

from __future__ import annotations

import json

import geopandas as gpd
import pyproj
import pytest
import shapely
from shapely import box

from truceline.geo import contact, control, outlines

GEOD = pyproj.Geod(ellps="WGS84")


def _line(geom, **kw) -> contact.ContactLine:
    return contact.contact_line(control.control_areas(geom, snapshot_id="t", **kw))


def test_inland_square_line_is_its_perimeter() -> None:
    sq = box(33.0, 49.4, 33.2, 49.6)  # Poltava oblast, far from borders and coasts
    c = _line(sq)
    geodesic_km = abs(GEOD.geometry_length(sq)) / 1000.0
    assert c.inside_km == pytest.approx(geodesic_km, rel=0.005)
    # the rest is the free Ukraine-Russia state border, all of it facing free ground
    assert c.length_km == pytest.approx(c.inside_km + c.border_km)
    assert 1_300 < c.border_km < 2_000


def test_square_on_the_coast_has_no_coastal_front() -> None:
    # held ground reaching the Azov coast: the coast is not part of the line
    sq = box(36.6, 46.6, 37.0, 47.2)  # Berdiansk coast
    held = control.control_areas(sq, snapshot_id="t").held
    c = _line(sq)
    coast = shapely.difference(shapely.boundary(held), shapely.buffer(c.line, 10))
    assert coast.length > 20_000  # a good stretch of held boundary is coast...
    assert c.inside_km < shapely.boundary(held).length / 1000 - 20  # ...and not on the line


def test_square_on_russian_border_faces_russia_along_border() -> None:
    # Sumy region square touching the Kursk border: the border beside free ground is on
    # the line, the border beside the held square is not
    sq = box(34.8, 51.0, 35.2, 51.4)
    c = _line(sq)
    assert c.border_km > 300  # the whole free Ukraine-Russia border, Chernihiv to Luhansk
    held = control.control_areas(sq, snapshot_id="t").held
    rus = shapely.buffer(outlines.outline_m("RUS"), 50)
    shared = shapely.intersection(shapely.boundary(held), rus).length
    assert shared > 20_000  # the square holds ~46 km of the state border
    # that stretch is not on the line: only the few places where the wiggling border
    # leaves and re-enters the square come within 300 m of it
    assert shapely.intersection(c.border, shapely.buffer(held, 300)).length < 0.25 * shared


def test_across_water_can_be_switched_off() -> None:
    a = control.control_areas(box(31.5, 46.4, 32.6, 46.62), snapshot_id="kinburn")
    with_water = contact.contact_line(a)
    without = contact.contact_line(a, across_water_m=0)
    assert without.water_km == 0
    assert with_water.water_km > 5  # Ochakiv's coast faces the held spit across the strait
    assert with_water.inside_km == pytest.approx(without.inside_km + with_water.water_km, rel=0.02)


def test_line_avoids_belarus_and_the_sea() -> None:
    c = _line(box(37.7, 47.9, 38.0, 48.1))
    blr = outlines.outline_m("BLR")
    assert (
        shapely.intersection(c.line, shapely.buffer(blr, 2_000)).length < 3_000
    )  # only the end at the tripoint


def test_geojson_export_round_trips() -> None:
    c = _line(box(33.0, 49.4, 33.2, 49.6))
    fc = json.loads(contact.contact_geojson(c, properties={"source": "test"}))
    assert fc["type"] == "FeatureCollection"
    parts = {f["properties"]["part"]: f for f in fc["features"]}
    assert set(parts) == {"inside", "border"}
    g = shapely.geometry.shape(parts["inside"]["geometry"])
    assert g.bounds[0] == pytest.approx(33.0, abs=0.01)
    assert parts["inside"]["properties"]["source"] == "test"
    total = sum(f["properties"]["length_km"] for f in fc["features"])
    assert total == pytest.approx(c.length_km, rel=1e-3)


@pytest.mark.slow
def test_real_deepstate_2025_lengths(ds2025: gpd.GeoDataFrame) -> None:
    row = ds2025.iloc[0]
    c = contact.contact_line(control.control_areas(row.geometry, snapshot_id=row.snapshot_id))
    # the front proper is about 1,200-1,300 km in summer 2025 (plus Sumy/Kharkiv pockets
    # and ~100 km of free coast facing Kinburn and the Dnipro mouth across water)
    assert 1_150 < c.inside_km < 1_550
    assert 50 < c.water_km < 150
    # the free Ukraine-Russia border (Chernihiv, Sumy, Kharkiv), less held stretches
    assert 550 < c.border_km < 850
    # Kherson (on the Dnipro) is near the line; Simferopol is not: the coast is no front
    xy = outlines._TO_M.transform
    assert c.line.distance(shapely.Point(xy(32.60, 46.655))) < 6_000
    assert c.line.distance(shapely.Point(xy(34.10, 44.95))) > 100_000


@pytest.mark.slow
def test_real_isw_2023_lengths(frontlines) -> None:
    row = frontlines.isw().iloc[0]
    c = contact.contact_line(control.control_areas(row.geometry, snapshot_id=row.snapshot_id))
    assert 800 < c.inside_km < 1_100
    assert 650 < c.border_km < 900

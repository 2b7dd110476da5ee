"""Control maps are untrusted: impossible maps are refused at ingest with the file and
the reason, odd-but-legal maps come with a warning, and nothing reaches the lake that
would make a later command fail (NaN areas, metres read as degrees)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from truceline.errors import InputError
from truceline.sources.frontlines import check_lonlat, parse_control

# ~2,800 km² of Russian-held ground near Donetsk: a plausible small map
DONETSK = [[37.5, 47.8], [38.2, 47.8], [38.2, 48.2], [37.5, 48.2], [37.5, 47.8]]


def fc(rings: list, **extra) -> dict:
    return {"type": "FeatureCollection", **extra, "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon",
                                                           "coordinates": [r]}}
        for r in rings]}


def write(tmp_path: Path, name: str, doc) -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(doc))
    return p


def test_a_plausible_map_has_no_warning(tmp_path):
    cf = parse_control(write(tmp_path, "deepstatemap_data_20250820.geojson", fc([DONETSK])))
    assert cf.warnings == []
    assert 2_000 < cf.snapshot["area_km2"].iat[0] < 4_000


def test_latitude_999_is_refused(tmp_path):
    ring = [[37.5, 47.8], [38.2, 999.0], [37.5, 48.2], [37.5, 47.8]]
    p = write(tmp_path, "deepstatemap_data_20250820.geojson", fc([ring]))
    with pytest.raises(InputError, match=r"deepstatemap_data_20250820.geojson: coordinates "
                                         r"x 37.5 to 38.2, y 47.8 to 999 are not lon/lat"):
        parse_control(p)


def test_metres_without_a_crs_are_refused(tmp_path):
    metres = [[4_180_000.0, 6_080_000.0], [4_250_000.0, 6_080_000.0],
              [4_250_000.0, 6_140_000.0], [4_180_000.0, 6_080_000.0]]
    p = write(tmp_path, "map.geojson", fc([metres]))
    with pytest.raises(InputError, match="projected coordinates need a CRS"):
        parse_control(p, source="other", valid_from="2025-08-20")
    with pytest.raises(InputError, match="projected coordinates need a CRS"):
        parse_control(write(tmp_path, "deepstatemap_data_20250820.geojson", fc([metres])))


def test_a_deepstate_crs_member_is_honoured(tmp_path):
    from pyproj import Transformer

    to_m = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    ring = [list(to_m.transform(x, y)) for x, y in DONETSK]
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}
    projected = parse_control(write(tmp_path, "deepstatemap_data_20250820.geojson",
                                    fc([ring], crs=crs)))
    plain = parse_control(write(tmp_path, "deepstatemap_data_20250821.geojson", fc([DONETSK])))
    assert projected.snapshot["area_km2"].iat[0] == pytest.approx(
        plain.snapshot["area_km2"].iat[0], rel=1e-6)
    assert shapely.equals_exact(projected.snapshot.geometry.iat[0],
                                plain.snapshot.geometry.iat[0], tolerance=1e-7)


def test_an_unknown_crs_member_is_named(tmp_path):
    crs = {"type": "name", "properties": {"name": "EPSG:999999"}}
    p = write(tmp_path, "deepstatemap_data_20250820.geojson", fc([DONETSK], crs=crs))
    with pytest.raises(InputError, match="crs name 'EPSG:999999' is not a coordinate"):
        parse_control(p)


def test_nan_coordinates_never_reach_the_snapshot(tmp_path):
    p = tmp_path / "deepstatemap_data_20250820.geojson"
    p.write_text(json.dumps(fc([DONETSK])).replace("38.2, 47.8", "NaN, 47.8"))
    with pytest.raises(InputError, match=r"features\[0\].geometry is not valid GeoJSON"):
        parse_control(p)
    with np.errstate(invalid="ignore"):
        ring = shapely.Polygon([(37.5, 47.8), (float("nan"), 47.8), (37.5, 48.2)])
    with pytest.raises(InputError, match="m.shp: 1 vertices have coordinates that are not "
                                         "finite numbers"):
        check_lonlat(ring, Path("m.shp"))


def test_a_map_covering_everything_warns(tmp_path):
    world = [[-180, -90], [180, -90], [180, 90], [-180, 90], [-180, -90]]
    cf = parse_control(write(tmp_path, "deepstatemap_data_20250820.geojson", fc([world])))
    assert any("covers 100% of Ukraine, so the line of contact is 0 km" in w
               for w in cf.warnings), cf.warnings


def test_a_map_covering_everything_is_clipped_to_the_theatre(tmp_path):
    world = [[-180, -90], [180, -90], [180, 90], [-180, 90], [-180, -90]]
    cf = parse_control(write(tmp_path, "deepstatemap_data_20250820.geojson", fc([world])))
    assert cf.snapshot.geometry.iat[0].bounds == (16.0, 40.0, 48.0, 58.0)
    assert any("km² of the held ground lie outside the theatre window and were left out"
               in w for w in cf.warnings), cf.warnings


def test_a_map_outside_ukraine_warns(tmp_path):
    voronezh = [[39, 51], [40, 51], [40, 52], [39, 52], [39, 51]]
    cf = parse_control(write(tmp_path, "deepstatemap_data_20250820.geojson", fc([voronezh])))
    assert any("lies outside Ukraine, so the line of contact is 0 km" in w
               for w in cf.warnings), cf.warnings


def test_a_map_outside_the_theatre_is_refused(tmp_path):
    sahara = [[10, 20], [12, 20], [12, 22], [10, 22], [10, 20]]
    with pytest.raises(InputError, match=r"the held ground lies wholly outside the theatre "
                                         r"\(lon 16 to 48, lat 40 to 58\)"):
        parse_control(write(tmp_path, "deepstatemap_data_20250820.geojson", fc([sahara])))


def test_a_future_date_warns(tmp_path):
    cf = parse_control(write(tmp_path, "deepstatemap_data_20990101.geojson", fc([DONETSK])))
    assert any("dated 2099-01-01, after today" in w for w in cf.warnings), cf.warnings
    assert cf.snapshot["valid_from"].iat[0] == pd.Timestamp("2099-01-01")


@pytest.mark.parametrize("value, expected", [
    ("garbage", "not a day; expected YYYY-MM-DD"), ("2025-02-30", "not a day"),
    ("0001-01-01", "expected a day between 1900-01-01 and 2200-12-31"),
    ("9999-12-31", "expected a day between 1900-01-01 and 2200-12-31")])
def test_valid_from_garbage_is_refused(tmp_path, value, expected):
    p = write(tmp_path, "map.geojson", fc([DONETSK]))
    with pytest.raises(InputError, match=f"--valid-from '{value}': {expected}"):
        parse_control(p, source="other", valid_from=value)


def test_properties_null_is_valid_geojson(tmp_path):
    doc = fc([DONETSK])
    doc["features"][0]["properties"] = None
    assert parse_control(write(tmp_path, "deepstatemap_data_20250820.geojson", doc)
                         ).warnings == []
    nzz = {"value": {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": None, "geometry": None},
        {"type": "Feature", "properties": {"type": "nochange", "date": "2023-01-05"},
         "geometry": {"type": "Polygon", "coordinates": [DONETSK]}}]}}
    cf = parse_control(write(tmp_path, "nzz_2023-01-06.json", nzz))
    assert str(cf.snapshot["valid_from"].iat[0].date()) == "2023-01-05"


@pytest.mark.parametrize("doc, message", [
    ([fc([DONETSK])], r"holds a list at the top level: expected an object"),
    ({"type": "FeatureCollection", "features": {"a": 1}},
     r"member 'features' is dict: expected a list of GeoJSON features"),
    ({"type": "FeatureCollection", "features": [1]},
     r"features\[0\] is a int: expected a GeoJSON Feature object"),
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": [],
                                                 "geometry": None}]},
     r"features\[0\].properties is a list: expected an object or null"),
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
                                                 "geometry": {"type": "Polygon",
                                                              "coordinates": "x"}}]},
     r"features\[0\].geometry is not valid GeoJSON"),
    ({"type": "Topology"}, r"member 'type' = 'Topology': expected a GeoJSON FeatureCollection"),
])
def test_malformed_geojson_is_named(tmp_path, doc, message):
    with pytest.raises(InputError, match=message):
        parse_control(write(tmp_path, "deepstatemap_data_20250820.geojson", doc))


def test_liveuamap_garbage_date_is_named(tmp_path):
    nzz = {"value": {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"type": "gains", "date": "yesterday"},
         "geometry": {"type": "Polygon", "coordinates": [DONETSK]}}]}}
    with pytest.raises(InputError, match=r"nzz_2023-01-06.json: properties.date 'yesterday'"):
        parse_control(write(tmp_path, "nzz_2023-01-06.json", nzz))


@pytest.mark.parametrize("encode, message", [
    (lambda b: gzip.compress(b), r"is gzip-compressed: expected a GeoJSON .* gunzip -k"),
    (lambda b: b.decode().encode("utf-16"), r"is UTF-16 text: expected a GeoJSON"),
    (lambda b: b"\x00\x01binary" + b, r"holds binary data"),
    (lambda b: b"PK\x03\x04" + b, r"is a zip archive"),
])
def test_wrong_kinds_of_file_get_a_hint(tmp_path, encode, message):
    p = tmp_path / "deepstatemap_data_20250820.geojson"
    p.write_bytes(encode(json.dumps(fc([DONETSK])).encode()))
    with pytest.raises(InputError, match=message):
        parse_control(p)
    with pytest.raises(InputError, match=message):
        parse_control(p, source="other", valid_from="2025-08-20")


def test_an_unknown_crs_member_is_named_whatever_the_source(tmp_path):
    """The `other`/`isw` route reads through GDAL, which takes a crs it does not know
    for lon/lat: the member is checked first, as on the deepstate route."""
    crs = {"type": "name", "properties": {"name": "EPSG:99999"}}
    p = write(tmp_path, "held.geojson", fc([DONETSK], crs=crs))
    with pytest.raises(InputError, match="held.geojson: crs name 'EPSG:99999' is not a "
                                         "coordinate reference system"):
        parse_control(p, source="other", valid_from="2025-08-20")


def test_a_party_other_than_russia_is_refused_before_anything_is_stored(tmp_path):
    """Every later command reads a map as the ground Russia holds and refuses any other
    party, so a typo in --party must stop the ingest, not the enrichment weeks later."""
    from truceline.lake.store import Lake

    p = write(tmp_path, "deepstatemap_data_20250820.geojson", fc([DONETSK]))
    with pytest.raises(InputError, match=r"--party 'Bad Party!': expected 'ru'"):
        parse_control(p, party="Bad Party!")
    lake = Lake(tmp_path / "lake")
    with pytest.raises(InputError, match=r"--party 'ua': expected 'ru'"):
        lake.ingest_control([p], party="ua")
    assert lake.table_versions().get("control") is None  # nothing written


def test_a_map_of_points_names_what_it_holds(tmp_path):
    doc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
           "geometry": {"type": "Point", "coordinates": [37.5, 47.8]}}]}
    with pytest.raises(InputError, match=r"holds no polygons \(only Point\); expected "
                                         "Polygon or MultiPolygon"):
        parse_control(write(tmp_path, "points.geojson", doc), source="other",
                      valid_from="2025-08-20")

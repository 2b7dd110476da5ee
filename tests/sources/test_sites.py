"""Protected-sites CSV: valid files become points, bad rows are named, distances in metres."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from pyproj import Geod

from truceline.errors import InputError
from truceline.sources.sites import load_sites, match_sites, parse_sites, site_zones, write_sites

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "agreements" / \
    "energy_sites_2025.csv"

GOOD = """\
# a comment line
name,lon,lat,radius_m,kind,note
Plant A,30.0,50.0,1000,Thermal_Power_Plant,approximate

Substation B,36.0,49.0,500,substation,
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "sites.csv"
    p.write_text(text, encoding="utf-8")
    return p


def test_good_file_becomes_points(tmp_path: Path) -> None:
    s = load_sites(write(tmp_path, GOOD))
    assert isinstance(s, gpd.GeoDataFrame)
    assert s.crs.to_epsg() == 4326
    assert s["name"].tolist() == ["Plant A", "Substation B"]
    assert s["kind"].tolist() == ["thermal_power_plant", "substation"]  # lower-cased
    assert s["line"].tolist() == [3, 5]  # file lines, for evidence
    assert s["note"].tolist() == ["approximate", ""]
    assert s.geometry.x.tolist() == [30.0, 36.0]
    assert s["radius_m"].dtype == np.float64


def test_example_sites_file_loads_and_is_marked_approximate() -> None:
    s = load_sites(EXAMPLE)
    assert len(s) >= 8
    assert (s["note"] == "approximate").all()
    assert {"nuclear_power_plant", "thermal_power_plant"} <= set(s["kind"])
    # all in Ukraine or European Russia
    assert s["lon"].between(22, 50).all() and s["lat"].between(44, 56).all()


HEADER = "name,lon,lat,radius_m,kind\n"


@pytest.mark.parametrize(
    ("row", "pattern"),
    [
        ("A,30.5,91,1000,x", r"line 2: field 'lat' = '91': expected a latitude in degrees "
                             r"within \[-90, 90\]"),
        ("A,east,50,1000,x", r"line 2: field 'lon' = 'east': expected a longitude"),
        ("A,181,50,1000,x", r"line 2: field 'lon' = '181'"),
        ("A,30,50,0,x", r"line 2: field 'radius_m' = '0': expected a radius in metres, above 0"),
        ("A,30,50,-5,x", r"field 'radius_m' = '-5'"),
        ("A,30,50,90000,x", r"field 'radius_m' = '90000': .*at most 50,000"),
        ("A,30,50,nan,x", r"field 'radius_m' = 'nan'"),
        (",30,50,100,x", r"line 2: field 'name' = '': expected a non-empty site name"),
        ("A,30,50,100,", r"line 2: field 'kind' = '': expected a non-empty kind"),
        ("A,30,50,100", r"line 2: 4 fields: expected 5 \(name,lon,lat,radius_m,kind\)"),
        ("A,30,50,100,x\nB,31,50,100,x\na,32,50,100,x",
         r"line 4: field 'name' = 'a': expected a unique name \(already used on line 2\)"),
    ],
)
def test_bad_rows_name_file_line_field_value(tmp_path: Path, row: str, pattern: str) -> None:
    path = write(tmp_path, HEADER + row + "\n")
    with pytest.raises(InputError, match=pattern) as info:
        load_sites(path)
    assert str(info.value).startswith(f"{path}: line ")


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("", r"empty protected-sites file: expected a header row with columns name, lon, lat"),
        ("name,lon,lat,kind\nA,1,2,x\n",
         r"line 1: header name,lon,lat,kind lacks column\(s\) radius_m"),
        (HEADER, r"no sites after the header"),
        ("name,lon,lat,radius_m,kind,line\n", r"repeated, empty or reserved"),
    ],
)
def test_bad_files(tmp_path: Path, text: str, pattern: str) -> None:
    with pytest.raises(InputError, match=pattern):
        load_sites(write(tmp_path, text))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.csv: protected-sites file not found"):
        load_sites(tmp_path / "nope.csv")


def test_headers_are_case_insensitive_and_bom_is_ignored(tmp_path: Path) -> None:
    p = tmp_path / "s.csv"
    p.write_text("\ufeffName,LON,Lat,Radius_M,KIND\nA,30,50,100,x\n", encoding="utf-8")
    assert load_sites(p)["name"].tolist() == ["A"]


def test_write_round_trips(tmp_path: Path) -> None:
    s = load_sites(write(tmp_path, GOOD))
    back = load_sites(write_sites(s, tmp_path / "out.csv"))
    cols = ["name", "kind", "lon", "lat", "radius_m", "note"]
    assert back[cols].equals(s[cols])


def test_site_zones_are_metric_circles(tmp_path: Path) -> None:
    s = parse_sites(HEADER + "North,30,65,2000,x\nSouth,30,45,2000,x\n")
    zones = site_zones(s)
    geod = Geod(ellps="WGS84")
    for z in zones:
        area, _ = geod.geometry_area_perimeter(z)
        assert abs(area) == pytest.approx(np.pi * 2000**2, rel=0.01)
    # the same 2 km spans more longitude degrees further north
    assert zones.iloc[0].bounds[2] - zones.iloc[0].bounds[0] > \
        zones.iloc[1].bounds[2] - zones.iloc[1].bounds[0]


def test_match_sites_uses_metres_and_picks_the_nearest() -> None:
    s = parse_sites(HEADER + "Big,30,50,5000,x\nSmall,30.02,50,1000,x\n")
    geod = Geod(ellps="WGS84")
    # points due east of (30, 50) at known distances
    dists = np.array([0.0, 900.0, 4_900.0, 5_100.0, 20_000.0])
    lon, lat, _ = geod.fwd(np.full(5, 30.0), np.full(5, 50.0), np.full(5, 90.0), dists)
    pos, d = match_sites(s, lon, lat)
    # 900 m east is ~530 m from Small's centre (1.43 km east): nearer site wins
    assert pos.tolist() == [0, 1, 0, -1, -1]
    assert d[2] == pytest.approx(4_900.0, abs=0.5)
    assert np.isnan(d[3])  # 5.1 km: outside Big's 5 km
    # at (30.02, 50) Small is nearer than Big's centre
    pos2, d2 = match_sites(s, np.array([30.02]), np.array([50.0]))
    assert pos2.tolist() == [1] and d2[0] == pytest.approx(0.0)


def test_match_sites_shape_mismatch() -> None:
    s = parse_sites(HEADER + "A,30,50,100,x\n")
    with pytest.raises(InputError, match="lon and lat differ in shape"):
        match_sites(s, np.zeros(2), np.zeros(3))

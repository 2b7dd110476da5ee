"""Incident exports: every format round-trips, and real clients (ogrinfo) open them."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely import LineString, MultiLineString

from truceline.errors import InputError
from truceline.publish import exports
from truceline.publish.exports import (
    INCIDENT_FORMATS,
    export_frame,
    jsonable,
    read_incidents,
    write_assessment_json,
    write_exports,
    write_incidents,
    write_line_geojson,
)

LINE = LineString([(37.0, 48.0), (38.3, 48.3)])


def _incidents(n: int = 4) -> gpd.GeoDataFrame:
    """The incident contract on a few rows, with both list and ';'-joined detection ids."""
    t0 = pd.Timestamp("2023-01-06 09:00", tz="UTC")
    lon = np.linspace(37.1, 38.2, n)
    lat = np.linspace(48.05, 48.3, n)
    ids: list[object] = [[f"VIIRS-{i}-{k}" for k in range(i + 1)] for i in range(n)]
    ids[-1] = "MODIS-a;MODIS-b"
    return gpd.GeoDataFrame({
        "incident_id": [f"2023-01-06-{i:03d}" for i in range(n)],
        "t_start": [t0 + pd.Timedelta(hours=3 * i) for i in range(n)],
        "t_end": [t0 + pd.Timedelta(hours=3 * i + 20) for i in range(n)],
        "n_detections": np.arange(1, n + 1),
        "lon": lon, "lat": lat,
        "side": (["ua", "ru", "third", "sea"] * n)[:n],
        "dist_km": np.linspace(-12.5, 40.0, n),
        "band": (["5-15", "0-5", "30-60", "15-30"] * n)[:n],
        "sector": "Bakhmut",
        "place": (["Bakhmut", "Soledar", "Kramatorsk — Краматорськ", "Opytne"] * n)[:n],
        "p_min": np.geomspace(1e-6, 0.02, n),
        "confidence": (["high", "medium", "low", "high"] * n)[:n],
        "detection_ids": ids,
        "sensors": "VIIRS+MODIS",
    }, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


def _ogr_count(path: Path) -> int:
    out = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(path)], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    return sum(int(n) for n in re.findall(r"Feature Count:\s*(\d+)", out))


needs_ogrinfo = pytest.mark.skipif(shutil.which("ogrinfo") is None,
                                   reason="ogrinfo not installed (Debian: gdal-bin)")


@pytest.mark.parametrize("fmt", list(INCIDENT_FORMATS))
def test_each_format_round_trips(tmp_path: Path, fmt: str) -> None:
    inc = _incidents()
    (path,) = write_incidents(tmp_path, inc, [fmt])
    back = read_incidents(path)
    assert len(back) == len(inc)
    back = back.set_index("incident_id").loc[inc["incident_id"]]
    assert list(back["detection_ids"]) == [
        ["VIIRS-0-0"], ["VIIRS-1-0", "VIIRS-1-1"], ["VIIRS-2-0", "VIIRS-2-1", "VIIRS-2-2"],
        ["MODIS-a", "MODIS-b"]]
    assert (back["t_start"].to_numpy() == inc["t_start"].to_numpy()).all()
    assert str(back["t_end"].dt.tz) == "UTC"
    np.testing.assert_allclose(back["dist_km"], inc["dist_km"])
    np.testing.assert_allclose(back["p_min"], inc["p_min"], rtol=1e-9)
    assert list(back["n_detections"]) == [1, 2, 3, 4]
    assert list(back["place"]) == list(inc["place"])  # UTF-8 survives every format
    np.testing.assert_allclose(back.geometry.x, inc["lon"], atol=1e-6)


@needs_ogrinfo
def test_ogrinfo_opens_gpkg_and_kml_and_counts_incidents(tmp_path: Path) -> None:
    paths = write_exports(tmp_path, _incidents(7), LINE, {"verdict": "violated"})
    by_name = {p.name: p for p in paths}
    assert _ogr_count(by_name["incidents.gpkg"]) == 7
    assert _ogr_count(by_name["incidents.kml"]) == 7
    assert _ogr_count(by_name["incidents.geojson"]) == 7
    assert _ogr_count(by_name["line_of_contact.geojson"]) == 1


def test_kml_without_gdal_driver_is_written_by_hand(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pyogrio, "list_drivers",
                        lambda **kw: {"GPKG": "rw", "GeoJSON": "rw"})
    (path,) = write_incidents(tmp_path, _incidents(), ["kml"])
    root = ET.parse(path).getroot()
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    marks = root.findall(".//k:Placemark", ns)
    assert len(marks) == 4
    assert marks[0].find("k:name", ns).text == "2023-01-06-000"
    assert "12.5 km from the line on Ukrainian-held ground" in marks[0].find(
        "k:description", ns).text
    monkeypatch.undo()
    back = read_incidents(path)
    assert len(back) == 4 and back["detection_ids"].iloc[1] == ["VIIRS-1-0", "VIIRS-1-1"]
    if shutil.which("ogrinfo"):
        assert _ogr_count(path) == 4


def test_empty_incidents_give_valid_empty_files(tmp_path: Path) -> None:
    paths = write_incidents(tmp_path, _incidents().iloc[0:0])
    for p in paths:
        assert len(read_incidents(p)) == 0, p.name
        if shutil.which("ogrinfo") and p.suffix in (".gpkg", ".geojson"):
            assert _ogr_count(p) == 0


def test_outputs_are_reproducible(tmp_path: Path) -> None:
    def digests(d: Path) -> dict[str, str]:
        write_exports(d, _incidents(), LINE, {"verdict": "held", "b": [1, 2], "a": None})
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in d.iterdir()}

    assert digests(tmp_path / "one") == digests(tmp_path / "two")


def test_export_frame_joins_lists_and_accepts_plain_frames() -> None:
    df = pd.DataFrame(_incidents().drop(columns="geometry"))
    df["tags"] = [{"b", "a"}, ("x",), [], None]
    out = export_frame(df)
    assert out.crs.equals("EPSG:4326")
    assert list(out["tags"].fillna("<NA>")) == ["a;b", "x", "", "<NA>"]
    assert list(out.columns[:3]) == ["incident_id", "t_start", "t_end"]
    assert out.geometry.x.tolist() == pytest.approx(df["lon"].tolist())


def test_export_frame_names_what_is_wrong() -> None:
    with pytest.raises(InputError, match="expected a GeoDataFrame"):
        export_frame([1, 2])  # type: ignore[arg-type]
    with pytest.raises(InputError, match="no geometry and no lon/lat"):
        export_frame(pd.DataFrame({"incident_id": ["a"]}))
    bad = _incidents()
    bad["t_start"] = "not a time"
    with pytest.raises(InputError, match="'t_start'"):
        export_frame(bad)
    with pytest.raises(InputError, match="formats"):
        write_incidents("/tmp", _incidents(), ["shp"])
    with pytest.raises(InputError, match="unknown suffix"):
        read_incidents(Path(__file__))


def test_assessment_json_is_canonical_and_has_no_nan(tmp_path: Path) -> None:
    a = {"verdict": "violated", "rate_ratio": {"estimate": np.float64(1.5),
                                               "ci_low": float("nan")},
         "window": (pd.Timestamp("2023-01-06 12:00", tz="Europe/Moscow"), None),
         "n": np.int64(3), "flag": np.bool_(True), "line": LINE}
    path = write_assessment_json(tmp_path / "assessment.json", a)
    text = path.read_text(encoding="utf-8")
    doc = json.loads(text)
    assert doc["rate_ratio"] == {"ci_low": None, "estimate": 1.5}
    assert doc["window"] == ["2023-01-06T09:00:00Z", None]
    assert doc["n"] == 3 and doc["flag"] is True
    assert doc["line"]["type"] == "LineString"
    assert list(doc) == sorted(doc) and text.endswith("\n")
    with pytest.raises(InputError, match="expected a dict"):
        write_assessment_json(tmp_path / "x.json", ["violated"])  # type: ignore[arg-type]


def test_line_geojson_has_length_and_properties(tmp_path: Path) -> None:
    multi = MultiLineString([[(37.0, 48.0), (37.5, 48.1)], [(37.6, 48.1), (38.3, 48.3)]])
    path = write_line_geojson(tmp_path / "l.geojson", multi, {"control_source": "isw"})
    doc = json.loads(path.read_text())
    feat = doc["features"][0]
    assert feat["geometry"]["type"] == "MultiLineString"
    assert feat["properties"]["control_source"] == "isw"
    assert 80 < feat["properties"]["length_km"] < 110
    empty = json.loads(write_line_geojson(tmp_path / "e.geojson", None).read_text())
    assert empty["features"][0]["geometry"] is None


def test_write_exports_names_the_control_map(tmp_path: Path) -> None:
    paths = write_exports(tmp_path, _incidents(), LINE, {"control_source": "deepstate"})
    assert [p.name for p in paths] == ["incidents.geojson", "incidents.gpkg",
                                       "incidents.kml", "incidents.csv",
                                       "line_of_contact.geojson", "assessment.json"]
    line = json.loads((tmp_path / "line_of_contact.geojson").read_text())
    assert line["features"][0]["properties"]["control_source"] == "deepstate"


def test_jsonable_leaves_plain_values_alone() -> None:
    assert jsonable({"a": [1, "x", True, None]}) == {"a": [1, "x", True, None]}
    assert jsonable(float("inf")) is None
    assert jsonable(pd.Timestamp("2023-01-06")) == "2023-01-06T00:00:00"
    assert exports.LIST_SEPARATOR == ";"

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


def _ogr_count(path: Path, layer: str | None = None) -> int:
    """Features ogrinfo counts (in `layer`, or in all layers); it must say nothing else."""
    args = ["ogrinfo", "-ro", "-so"] + ([str(path), layer] if layer else ["-al", str(path)])
    run = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True)
    assert run.stderr.strip() == "", run.stderr  # no warning, as GDAL 3.6 users see it
    assert "Warning" not in run.stdout, run.stdout
    return sum(int(n) for n in re.findall(r"Feature Count:\s*(\d+)", run.stdout))


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
    assert _ogr_count(by_name["incidents.gpkg"], "incidents") == 7
    assert _ogr_count(by_name["incidents.gpkg"], "line_of_contact") == 1
    assert _ogr_count(by_name["incidents.kml"], "incidents") == 7
    assert _ogr_count(by_name["incidents.geojson"]) == 7
    assert _ogr_count(by_name["line_of_contact.geojson"]) == 1
    assert _ogr_count(by_name["incidents.csv"]) == 7


def test_kml_has_time_spans_styles_and_the_line(tmp_path: Path) -> None:
    inc = _incidents()
    inc["t_first"] = inc["t_start"] + pd.Timedelta(minutes=47)
    (path,) = write_incidents(tmp_path, inc, ["kml"], line=LINE, line_date="2023-01-05",
                              credits=["Fire detections: NASA FIRMS"])
    root = ET.parse(path).getroot()
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    assert "NASA FIRMS" in root.find("k:Document/k:description", ns).text
    styles = {st.get("id") for st in root.findall(".//k:Style", ns)}
    assert {"confidence-high", "confidence-medium", "confidence-low",
            "line-of-contact"} <= styles
    folders = {f.find("k:name", ns).text: f for f in root.findall(".//k:Folder", ns)}
    marks = folders["incidents"].findall("k:Placemark", ns)
    assert len(marks) == 4
    assert marks[0].find("k:name", ns).text == "2023-01-06-000"
    assert marks[0].find("k:TimeSpan/k:begin", ns).text == "2023-01-06T09:47:00Z"
    assert marks[0].find("k:TimeSpan/k:end", ns).text == "2023-01-07T05:00:00Z"
    assert marks[0].find("k:styleUrl", ns).text == "#confidence-high"
    assert "12.5 km from the line on Ukrainian-held ground" in marks[0].find(
        "k:description", ns).text
    line = folders["line_of_contact"].find("k:Placemark", ns)
    assert line.find("k:MultiGeometry/k:LineString/k:coordinates", ns).text.startswith(
        "37.000000,48.000000 ")
    back = read_incidents(path)
    assert len(back) == 4 and back["detection_ids"].iloc[1] == ["VIIRS-1-0", "VIIRS-1-1"]
    if shutil.which("ogrinfo"):
        assert _ogr_count(path, "incidents") == 4
        assert _ogr_count(path, "line_of_contact") == 1


def test_csv_is_what_a_spreadsheet_wants(tmp_path: Path) -> None:
    inc = _incidents()
    inc["distance_km"] = inc["dist_km"]  # the same figure under its enrichment name
    inc["lon"] = inc["lon"] + 1.23456789e-7
    (path,) = write_incidents(tmp_path, inc, ["csv"])
    df = pd.read_csv(path, dtype=str)
    assert "distance_km" not in df.columns and "dist_km" in df.columns
    assert all(len(v.split(".")[1]) <= 6 for v in df["lon"])
    assert df["side_name"].tolist() == ["Ukrainian-held ground", "Russian-held ground",
                                        "a third country's ground", "the sea"]


def test_empty_incidents_give_valid_empty_files(tmp_path: Path) -> None:
    paths = write_incidents(tmp_path, _incidents().iloc[0:0])
    for p in paths:
        assert len(read_incidents(p)) == 0, p.name
        if shutil.which("ogrinfo") and p.suffix in (".gpkg", ".geojson"):
            assert _ogr_count(p) == 0
    if shutil.which("ogrinfo"):  # a point layer, even empty: QGIS shows it as points
        out = subprocess.run(["ogrinfo", "-ro", "-so", str(tmp_path / "incidents.gpkg"),
                              "incidents"], capture_output=True, text=True, check=True).stdout
        assert "Geometry: Point" in out


def _detections() -> pd.DataFrame:
    from truceline.publish.evidence import detection_table

    t = pd.to_datetime(["2023-01-06 09:47", "2023-01-06 10:01", "2023-01-04 10:00"], utc=True)
    det = pd.DataFrame({
        "detection_id": ["VIIRS-0-0", "VIIRS-1-0", "x"], "lon": [37.1, 37.5, 38.0],
        "lat": [48.05, 48.1, 48.2], "acq_date": t.tz_localize(None).normalize(), "t_utc": t,
        "sensor": "VIIRS", "satellite": "N20", "frp": [3.5, 12.25, 1.0], "daynight": "D",
        "side": ["ua", "ru", "ua"], "distance_km": [12.5, -3.0, 40.0],
        "p_natural": [1e-4, 2e-3, 0.5], "war": [True, True, False]})
    return detection_table(det, ("2023-01-06T09:00Z", "2023-01-07T21:00Z"),
                           ("2023-01-04T21:00Z", "2023-01-06T09:00Z"))


def test_detections_and_line_are_layers_and_csvs(tmp_path: Path) -> None:
    from truceline.publish.evidence import evidence_rows

    det = _detections()
    ev = evidence_rows(_incidents(), det.rename(columns={"latitude": "lat",
                                                         "longitude": "lon"}))
    held = LINE.buffer(0.3, single_sided=True)
    paths = write_exports(tmp_path, _incidents(), LINE, {"verdict": "violated"},
                          held=held, detections=det, evidence=ev,
                          line_properties={"snapshot_id": "isw:2023-01-05",
                                           "date": "2023-01-05", "source": "isw"},
                          credits=["Fire detections: NASA FIRMS", "Control map: ISW"])
    names = [p.name for p in paths]
    assert "detections.csv" in names and "incident_detections.csv" in names
    csv = pd.read_csv(tmp_path / "detections.csv", dtype=str)
    assert csv["war_fire"].tolist() == ["False", "True", "True"]
    assert csv["period"].tolist() == ["margin", "window", "window"]
    line = json.loads((tmp_path / "line_of_contact.geojson").read_text())
    kinds = [f["properties"]["kind"] for f in line["features"]]
    assert kinds == ["line_of_contact", "held_ground"]
    assert line["features"][0]["properties"]["date"] == "2023-01-05"
    assert line["features"][1]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert line["metadata"]["credits"][1] == "Control map: ISW"
    doc = json.loads((tmp_path / "assessment.json").read_text())
    assert doc["credits"][0].startswith("Fire detections")
    gpkg = tmp_path / "incidents.gpkg"
    assert set(pyogrio.list_layers(gpkg)[:, 0]) == {
        "incidents", "detections", "incident_detections", "line_of_contact", "held_ground"}
    if shutil.which("ogrinfo"):
        for p in paths:
            if p.suffix != ".json":
                _ogr_count(p)  # every export opens without a warning
        assert _ogr_count(gpkg, "detections") == 3
        assert _ogr_count(gpkg, "held_ground") == 1
        meta = subprocess.run(["ogrinfo", "-ro", "-so", str(gpkg), "detections"],
                              capture_output=True, text=True, check=True).stdout
        assert "NASA FIRMS" in meta


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

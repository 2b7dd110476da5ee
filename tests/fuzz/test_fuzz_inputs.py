"""Fuzzing the three readers of untrusted files (FIRMS parser, control-map reader,
agreement loader): whatever the bytes, each either returns something sound or raises
InputError, never another exception; and a refused file leaves the lake as it was.

Derandomized (the same examples on every run, so CI cannot flake) and kept to a few
hundred examples in all: about 30 s on a loaded machine.
"""

from __future__ import annotations

import hashlib
import json
import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firms_text import MODIS_HEADER, VIIRS_HEADER
from truceline.errors import InputError
from truceline.sources.agreements import parse_agreement
from truceline.sources.firms import parse_firms
from truceline.sources.frontlines import parse_control

# GDAL says what it skips in odd GeoJSON (the 'other' source reads through it)
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning:pyogrio")

FUZZ = settings(max_examples=120, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])

HEADERS = (VIIRS_HEADER, MODIS_HEADER, "LATITUDE,LONGITUDE,ACQ_DATE",
           "LATITUDE,LONGITUDE,ACQ_TIME,date", "latitude[/x],longitude,acq_date", "lat;lon;date",
           "")
GOOD = {"latitude": "48.40647", "longitude": "37.19036", "bright_ti4": "337.59",
        "brightness": "337.5", "scan": "0.49", "track": "0.48", "acq_date": "2025-08-18",
        "date": "2025-08-18", "acq_time": "0013", "satellite": "N20", "confidence": "h",
        "version": "2.0NRT", "bright_ti5": "289.87", "bright_t31": "290.1", "frp": "4.26",
        "daynight": "N", "instrument": "VIIRS", "type": "0"}
ODD = st.sampled_from(["", "nan", "NaN", "inf", "-inf", "-9999", "1e308", "999", "-91",
                       "X", "MODIS", "Terra", "2099-01-01", "0000-00-00", "24:61", "h",
                       '"', '""', "\u00e9", "[/x]", " ", "1,5", "0x10", "--1"])
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


def _write(folder: Path, name: str, data: bytes | str) -> Path:
    p = folder / name
    p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return p


@st.composite
def firms_text(draw: st.DrawFn) -> str:
    header = draw(st.sampled_from(HEADERS))
    cols = [c.strip().lower() for c in header.split(",")]
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        cells = [draw(st.one_of(st.just(GOOD.get(c, "1")), ODD, TEXT)) for c in cols]
        if draw(st.booleans()):  # a wrong field count now and then
            cells = cells[: draw(st.integers(0, len(cells)))]
        rows.append(",".join(cells))
    end = draw(st.sampled_from(["\n", "\r\n", ""]))
    return header + "\n" + end.join(rows) + end


def _check_firms(path: Path) -> None:
    try:
        f = parse_firms(path)
    except InputError:
        return
    d = f.detections
    assert f.n_rows == len(d) + len(f.rejected)
    assert np.isfinite(d["lat"]).all() and d["lat"].between(-90, 90).all()
    assert np.isfinite(d["lon"]).all() and d["lon"].between(-180, 180).all()
    assert not np.isinf(d["frp"]).any() and not (d["frp"] < 0).any()
    assert set(d["daynight"].dropna()) <= {"D", "N"}
    assert f.rejected["reason"].map(bool).all()


@FUZZ
@given(firms_text(), st.sampled_from(["fire_archive_J1V-C2_1.csv", "ukr_fire_data_2020.csv",
                                      "MODIS_C6_1_Global_MCD14DL_NRT_2025230.txt"]))
def test_firms_parser_never_raises_anything_but_input_error(text, name):
    with tempfile.TemporaryDirectory() as d:
        _check_firms(_write(Path(d), name, text))


@FUZZ
@given(st.binary(max_size=300))
def test_firms_parser_on_raw_bytes(data):
    with tempfile.TemporaryDirectory() as d:
        _check_firms(_write(Path(d), "fire_nrt_SV-C2_1.csv", data))


NUMBER = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                   st.floats(min_value=-200, max_value=200), st.integers(-10**7, 10**7))
COORD = st.lists(NUMBER, min_size=0, max_size=3)
RING = st.lists(COORD, min_size=0, max_size=6)
JSONISH = st.recursive(st.none() | st.booleans() | NUMBER | TEXT,
                       lambda kids: st.lists(kids, max_size=3) |
                       st.dictionaries(TEXT, kids, max_size=3), max_leaves=8)


@st.composite
def geometry(draw: st.DrawFn) -> object:
    kind = draw(st.sampled_from(["Polygon", "MultiPolygon", "Point", "LineString", "Bogus"]))
    rings = draw(st.lists(RING, max_size=2))
    if draw(st.booleans()):  # a closed ring inside the theatre, sometimes
        x, y = draw(st.floats(20, 45)), draw(st.floats(42, 55))
        rings = [[[x, y], [x + 1, y], [x + 1, y + 1], [x, y]], *rings]
    coords = [rings] if kind == "MultiPolygon" else rings
    return draw(st.one_of(st.just({"type": kind, "coordinates": coords}), JSONISH))


@st.composite
def control_doc(draw: st.DrawFn) -> object:
    feats = [{"type": "Feature", "properties": draw(st.one_of(
        st.none(), st.just({"type": "nochange", "date": "2023-01-05"}), JSONISH)),
        "geometry": draw(st.one_of(st.none(), geometry()))}
        for _ in range(draw(st.integers(0, 3)))]
    fc = {"type": draw(st.sampled_from(["FeatureCollection", "Feature", "x"])),
          "features": draw(st.one_of(st.just(feats), JSONISH))}
    if draw(st.booleans()):
        name = draw(st.sampled_from(["EPSG:3857", "EPSG:4326", "EPSG:0", "nonsense",
                                     "urn:ogc:def:crs:OGC:1.3:CRS84"]))
        fc["crs"] = draw(st.one_of(JSONISH, st.just(
            {"type": "name", "properties": {"name": name}})))
    return draw(st.one_of(st.just(fc), st.just({"value": fc}), st.just([fc]), JSONISH))


def _check_control(path: Path, **kwargs: object) -> None:
    try:
        cf = parse_control(path, **kwargs)
    except InputError:
        return
    row = cf.snapshot.iloc[0]
    assert math.isfinite(row["area_km2"]) and row["area_km2"] > 0
    assert math.isfinite(row["repair_area_km2"])
    x0, y0, x1, y1 = cf.snapshot.geometry.iat[0].bounds
    assert -180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90


@FUZZ
@given(control_doc(), st.sampled_from(["deepstatemap_data_20250820.geojson",
                                       "nzz_2023-01-06.json", "map.geojson"]))
def test_control_map_reader_never_raises_anything_but_input_error(doc, name):
    with tempfile.TemporaryDirectory() as d:
        path = _write(Path(d), name, json.dumps(doc, allow_nan=True))
        kwargs = {"source": "other", "valid_from": "2025-08-20"} if name == "map.geojson" \
            else {}
        _check_control(path, **kwargs)


@FUZZ
@given(st.binary(max_size=200))
def test_control_map_reader_on_raw_bytes(data):
    with tempfile.TemporaryDirectory() as d:
        _check_control(_write(Path(d), "deepstatemap_data_20250820.geojson", data))


TOML_VALUE = st.one_of(
    st.sampled_from(['"2025-08-21 00:00"', '"0001-01-01"', '"9999-12-31 23:59"', "1e300",
                     "-1", "0", "nan", "inf", "true", "[]", "[0, 30]", "[60, 1e400]",
                     '"Europe/Kyiv"', '"Mars/Olympus"', '"../x.csv"', '"/proc/self/environ"',
                     '"/dev/urandom"', '"sites.csv"', "2025-08-21T00:00:00",
                     "2025-08-21T00:00:00+03:00", '{ type = "Polygon", coordinates = 1 }',
                     '"24:00"', '"2025-02-30"', '"ua"', '["ua", "xx"]']),
    TEXT.map(json.dumps))
KEYS = ("name", "time_zone", "start", "end", "duration_days", "duration_hours",
        "open_ended", "control_source", "schema", "declared_by", "nonsense")
TABLE_KEYS = {"scope": ("sectors", "band_km", "polygons", "exclusions"),
              "prohibited": ("fire_near_line", "protected_sites"),
              "comparison": ("start", "end"), "control_band": ("band_km",)}


@st.composite
def agreement_text(draw: st.DrawFn) -> str:
    lines = ['name = "T"', 'time_zone = "Europe/Kyiv"', 'start = "2025-08-21 00:00"',
             "duration_days = 2"]
    for key in draw(st.lists(st.sampled_from(KEYS), max_size=4, unique=True)):
        lines = [ln for ln in lines if not ln.startswith(key + " ")]
        lines.append(f"{key} = {draw(TOML_VALUE)}")
    for pid in draw(st.sampled_from([("ua", "ru"), ("ua",), ("ua", "ua"), ("UA!", "ru")])):
        lines += ["", "[[parties]]", f'id = "{pid}"', f'name = "{pid}"']
    for table in draw(st.lists(st.sampled_from(sorted(TABLE_KEYS)), max_size=2, unique=True)):
        lines += ["", f"[{table}]"]
        for key in draw(st.lists(st.sampled_from(TABLE_KEYS[table]), max_size=2,
                                 unique=True)):
            lines.append(f"{key} = {draw(TOML_VALUE)}")
    if draw(st.booleans()):
        lines.insert(draw(st.integers(0, len(lines))), draw(TEXT))
    return "\n".join(lines) + "\n"


@FUZZ
@given(agreement_text())
def test_agreement_loader_never_raises_anything_but_input_error(text):
    with tempfile.TemporaryDirectory() as d:
        _write(Path(d), "sites.csv", "name,lon,lat,radius_m,kind\nA,30,50,1000,substation\n")
        try:
            a = parse_agreement(text, base_dir=d, data_dir=Path(d) / "nodata")
        except InputError:
            return
        assert a.start_utc < a.end_utc and 1900 <= a.start.year <= 2200
        assert all(Path(d).resolve() in full.parents for _, full in a.files)


def _lake_bytes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.name.startswith(".")}


@settings(max_examples=15, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(firms_text(), control_doc())
def test_a_refused_file_leaves_the_lake_as_it_was(firms, doc):
    from truceline.lake.store import Lake

    with tempfile.TemporaryDirectory() as d:
        lake = Lake(Path(d) / "lake")
        seed = _write(Path(d), "fire_archive_J1V-C2_1.csv",
                      VIIRS_HEADER + "\n"
                      + ",".join(GOOD[c] for c in VIIRS_HEADER.split(",")) + "\n")
        lake.ingest_firms([seed])
        for ingest, path in (
                (lake.ingest_firms, _write(Path(d), "fire_nrt_J1V-C2_2.csv", firms)),
                (lake.ingest_control,
                 _write(Path(d), "deepstatemap_data_20250820.geojson", json.dumps(doc)))):
            before = _lake_bytes(lake.root)
            try:
                ingest([path])
            except InputError:
                assert _lake_bytes(lake.root) == before
            assert lake.verify_ledger().ok

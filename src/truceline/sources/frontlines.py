"""Parse control maps (who holds which ground) into control snapshots.

A snapshot is one row: the ground held by ``party`` (Russia, for every source here) on
``valid_from``, with its ``source`` and the file's SHA-256. Supported:

* ``deepstate``: DeepStateMap daily GeoJSON (one MultiPolygon of occupied Ukraine,
  Crimea included); the date comes from the file name or the collection's ``name``.
* ``liveuamap``: the liveuamap maps NZZ publishes, ``{"value": FeatureCollection}``;
  held ground is ``nochange`` ∪ ``gains`` on the features' ``date``. NZZ leaves Crimea
  out, so the snapshot says ``crimea_missing`` and the geometry stage adds it.
* ``isw``: the ISW shapefile of assessed Russian control (EPSG:3857, reprojected to
  WGS84); valid from the earliest creation date in its attribute table unless given,
  with the last edit date kept as ``content_date``.
* any GeoJSON, GeoPackage or shapefile, given ``valid_from``.

Invalid polygons are repaired with ``make_valid`` and the area the repair changed is
recorded, never hidden.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from truceline.errors import InputError
from truceline.hashing import sha256_file

SOURCES = ("deepstate", "liveuamap", "isw", "other")
_EQUAL_AREA = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:3035", always_xy=True)
_DATE_IN_NAME = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")

SNAPSHOT_COLUMNS = ("snapshot_id", "source", "valid_from", "party", "crimea_missing",
                    "content_date", "area_km2", "repaired", "repair_area_km2",
                    "filled_2014_km2", "filled_from", "source_file", "source_sha256")

#: Donetsk city centre: held by Russia's forces since 2014. A map of Russian-held ground
#: that leaves it out leaves out the ground held since 2014 (the liveuamap maps NZZ
#: publishes do so from 2024-03-14 on: about 16,500 km² missing).
HELD_SINCE_2014 = shapely.Point(37.8028, 48.0159)


@dataclass
class ControlFile:
    """A parsed control map: one snapshot row (GeoDataFrame) and the file's hash."""

    path: Path
    sha256: str
    snapshot: gpd.GeoDataFrame


def area_km2(geom: shapely.Geometry) -> float:
    """Area in km² in the ETRS89 Lambert equal-area projection (never in degrees)."""
    projected = shapely.transform(geom, lambda xy: np.column_stack(
        _EQUAL_AREA.transform(xy[:, 0], xy[:, 1])))
    return float(shapely.area(projected)) / 1e6


def repair(geom: shapely.Geometry) -> tuple[shapely.Geometry, bool, float]:
    """Valid polygonal geometry, whether it was repaired, and the area it changed (km²)."""
    if shapely.is_valid(geom):
        return geom, False, 0.0
    fixed = shapely.make_valid(geom)
    polys = shapely.get_parts(fixed)
    polys = polys[np.isin(shapely.get_type_id(polys), (3, 6))]
    fixed = shapely.union_all(polys) if len(polys) else shapely.Polygon()
    # area of an invalid ring as GEOS computes it vs. the valid result
    changed = abs(area_km2(fixed) - area_km2(geom))
    return fixed, True, changed


def _date_from_name(name: str) -> pd.Timestamp | None:
    m = _DATE_IN_NAME.search(name)
    if not m:
        return None
    try:
        return pd.Timestamp(f"{m.group(1)}-{m.group(2)}-{m.group(3)}")
    except ValueError:
        return None


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from exc


def guess_source(path: Path) -> str:
    """Which known source a file comes from, by name and content; 'other' if none."""
    name = path.name.lower()
    if name.startswith("deepstatemap") or "deepstate" in name:
        return "deepstate"
    if name.startswith("nzz_") or "liveuamap" in name:
        return "liveuamap"
    if path.suffix.lower() in (".shp", ".dbf") and "rus_control" in name:
        return "isw"
    if path.suffix.lower() in (".json", ".geojson"):
        head = path.open("rb").read(200).lstrip()
        if head.startswith(b'{"value"'):
            return "liveuamap"
    return "other"


def _polygons(geoms: np.ndarray, path: Path) -> shapely.Geometry:
    geoms = geoms[~shapely.is_missing(geoms)]
    if len(geoms) == 0:
        raise InputError(f"{path}: holds no geometry; expected polygons of held ground")
    parts = shapely.get_parts(geoms)
    polys = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
    if len(polys) == 0:
        kinds = sorted(set(shapely.get_type_id(parts).tolist()))
        raise InputError(f"{path}: holds no polygons (geometry type ids {kinds}); "
                         "expected Polygon or MultiPolygon features of held ground")
    return shapely.multipolygons(shapely.get_parts(polys))


def _parse_deepstate(path: Path) -> tuple[shapely.Geometry, pd.Timestamp | None, dict]:
    doc = _read_json(path)
    if doc.get("type") != "FeatureCollection":
        raise InputError(f"{path}: expected a GeoJSON FeatureCollection")
    date = _date_from_name(path.name) or _date_from_name(str(doc.get("name", "")))
    geoms = shapely.from_geojson([json.dumps(f["geometry"]) for f in doc.get("features", [])
                                  if f.get("geometry")])
    return _polygons(np.asarray(geoms), path), date, {}


def _parse_liveuamap(path: Path) -> tuple[shapely.Geometry, pd.Timestamp | None, dict]:
    doc = _read_json(path)
    fc = doc.get("value", doc)
    feats = fc.get("features") if isinstance(fc, dict) else None
    if not feats:
        raise InputError(f"{path}: expected {{'value': FeatureCollection}} with features "
                         "of type nochange/gains/losses")
    held = [f for f in feats if f.get("properties", {}).get("type") in ("nochange", "gains")]
    if not held:
        raise InputError(f"{path}: no feature has properties.type 'nochange' or 'gains'")
    dates = sorted({f["properties"].get("date") for f in held if f["properties"].get("date")})
    date = pd.Timestamp(dates[-1]) if dates else _date_from_name(path.name)
    geoms = shapely.from_geojson([json.dumps(f["geometry"]) for f in held])
    extra = {"crimea_missing": True, "file_date": str(_date_from_name(path.name) or "")}
    return _polygons(np.asarray(geoms), path), date, extra


def _parse_vector(path: Path) -> tuple[shapely.Geometry, gpd.GeoDataFrame]:
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputError(f"{path}: cannot be read as GeoJSON, GeoPackage or shapefile "
                         f"({exc})") from exc
    if frame.crs is None:
        raise InputError(f"{path}: has no coordinate reference system; expected one "
                         "(e.g. EPSG:4326 or EPSG:3857)")
    frame = frame.to_crs("EPSG:4326")
    return _polygons(np.asarray(frame.geometry.values), path), frame


def check_source(source: str) -> None:
    """``--source``: auto or one of :data:`SOURCES`, else InputError."""
    if source != "auto" and source not in SOURCES:
        raise InputError(f"--source {source!r}: expected auto or one of {', '.join(SOURCES)}")


def parse_control(path: str | Path, *, source: str = "auto", party: str = "ru",
                  valid_from: str | pd.Timestamp | None = None,
                  sha256: str | None = None) -> ControlFile:
    """Parse one control map into a snapshot of the ground ``party`` holds (``sha256``: the
    file's hash when the caller has it)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if source == "auto":
        source = guess_source(path)
    check_source(source)
    vf = pd.Timestamp(valid_from) if valid_from is not None else None
    extra: dict = {}
    content_date = None
    if source == "deepstate":
        geom, date, extra = _parse_deepstate(path)
    elif source == "liveuamap":
        geom, date, extra = _parse_liveuamap(path)
    else:
        geom, frame = _parse_vector(path)
        date = None
        if source == "isw" and {"CreationDa", "EditDate"} <= set(frame.columns):
            date = pd.to_datetime(frame["CreationDa"]).min()
            content_date = pd.to_datetime(frame["EditDate"]).max()
    valid = vf if vf is not None else date
    if valid is None or pd.isna(valid):
        raise InputError(f"{path}: no date found in the file name or content; give "
                         "--valid-from YYYY-MM-DD")
    valid = pd.Timestamp(valid).normalize()
    geom, repaired, changed = repair(geom)
    if geom.is_empty:
        raise InputError(f"{path}: the held ground is empty after repair")
    digest = sha256 or sha256_file(path)
    row = {
        "snapshot_id": f"{source}:{valid.date()}",
        "source": source,
        "valid_from": valid,
        "party": party,
        "crimea_missing": bool(extra.get("crimea_missing", False)),
        "content_date": pd.Timestamp(content_date or valid).normalize(),
        "area_km2": area_km2(geom),
        "repaired": repaired,
        "repair_area_km2": changed,
        "filled_2014_km2": 0.0,
        "filled_from": "",
        "source_file": path.name,
        "source_sha256": digest,
    }
    snap = gpd.GeoDataFrame([row], geometry=[geom], crs="EPSG:4326")
    for col in ("valid_from", "content_date"):  # one unit in every file
        snap[col] = snap[col].astype("datetime64[us]")
    return ControlFile(path=path, sha256=digest, snapshot=snap)


def misses_2014_ground(geom: shapely.Geometry) -> bool:
    """True when held ground leaves out Donetsk city, held since 2014 (see above)."""
    return not shapely.contains_xy(geom, HELD_SINCE_2014.x, HELD_SINCE_2014.y)


def fill_2014_ground(geom: shapely.Geometry, reference: shapely.Geometry
                     ) -> tuple[shapely.Geometry, float]:
    """Add the Donetsk and Luhansk ground an earlier map of the same source holds.

    Why this reference: the ground held since 2014 lies inside the two oblasts, and the
    last map that still draws it also draws what was taken in 2022-2024 there, which the
    faulty maps keep anyway; Russia's forces lost almost no ground there since, so the
    union is close to the truth. Returns the filled geometry and the km² added.
    """
    from truceline.analysis.baseline import DONBAS_2014  # the two oblasts, approximate

    add = shapely.intersection(reference, DONBAS_2014.geometry)
    filled = shapely.union(geom, add)
    return filled, max(area_km2(filled) - area_km2(geom), 0.0)


def find_control_files(paths: list[str | Path]) -> list[Path]:
    """Expand files and folders into the control maps they hold, sorted."""
    exts = (".geojson", ".json", ".gpkg", ".shp")
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob("*") if q.suffix.lower() in exts))
        elif p.exists():
            out.append(p)
        else:
            raise InputError(f"{p}: no such file or folder")
    return out

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
recorded, never hidden. Maps are untrusted input: coordinates must be finite and in
lon/lat range after reprojection (projected coordinates need a CRS: a ``crs`` member in
a GeoJSON file is honoured), the area must be a positive number, and a map that covers
all of Ukraine, holds no ground in it (either way the line of contact is 0 km) or is
dated in the future comes back with a warning (``ControlFile.warnings``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from truceline.errors import InputError
from truceline.hashing import sha256_file
from truceline.sources.sniff import sniff_text

SOURCES = ("deepstate", "liveuamap", "isw", "other")
_EQUAL_AREA = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:3035", always_xy=True)
_WORLD_AREA = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:6933", always_xy=True)
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
    warnings: list[str] = field(default_factory=list)


def area_km2(geom: shapely.Geometry) -> float:
    """Area in km² in the ETRS89 Lambert equal-area projection (never in degrees); for
    ground that projection cannot hold (a map of the whole globe), in the world
    cylindrical equal-area projection between 86° S and 86° N."""
    area = _projected_area_km2(geom, _EQUAL_AREA)
    if np.isfinite(area) and (area > 0 or shapely.area(geom) == 0):
        return area
    return _projected_area_km2(shapely.clip_by_rect(geom, -180, -86, 180, 86), _WORLD_AREA)


def _projected_area_km2(geom: shapely.Geometry, tr: pyproj.Transformer) -> float:
    with np.errstate(invalid="ignore"):
        projected = shapely.transform(geom, lambda xy: np.column_stack(
            tr.transform(xy[:, 0], xy[:, 1])))
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
    """The JSON object in a file, or an InputError that says what the file looks like."""
    raw = path.read_bytes()
    sniff_text(path, raw, expected="a GeoJSON (UTF-8 JSON) file", allow_json=True)
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start}): expected a GeoJSON "
                         "file") from None
    except (json.JSONDecodeError, RecursionError) as exc:
        where = (f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
                 if isinstance(exc, json.JSONDecodeError) else "nested too deeply")
        raise InputError(f"{path}: not valid JSON ({where})") from None
    if not isinstance(doc, dict):
        raise InputError(f"{path}: the JSON holds a {type(doc).__name__} at the top level: "
                         "expected an object (a GeoJSON FeatureCollection)")
    return doc


def _features(path: Path, fc: object, key: str = "features") -> list[dict]:
    """The features of a collection, each a dict with a dict (or null) ``properties``."""
    feats = fc.get(key) if isinstance(fc, dict) else None
    if not isinstance(feats, list):
        raise InputError(f"{path}: member '{key}' is {type(feats).__name__}: expected a "
                         "list of GeoJSON features")
    for i, f in enumerate(feats):
        if not isinstance(f, dict):
            raise InputError(f"{path}: {key}[{i}] is a {type(f).__name__}: expected a "
                             "GeoJSON Feature object")
        props = f.get("properties")
        if props is not None and not isinstance(props, dict):
            raise InputError(f"{path}: {key}[{i}].properties is a {type(props).__name__}: "
                             "expected an object or null")
    return feats


def _geometries(path: Path, feats: list[dict], crs: pyproj.CRS | None) -> np.ndarray:
    """Shapely geometries of the features (null geometries dropped), in lon/lat."""
    texts, where = [], []
    for i, f in enumerate(feats):
        g = f.get("geometry")
        if g is None:
            continue
        if not isinstance(g, dict):
            raise InputError(f"{path}: features[{i}].geometry is a {type(g).__name__}: "
                             "expected a GeoJSON geometry object or null")
        texts.append(json.dumps(g, allow_nan=True))
        where.append(i)
    try:
        geoms = np.asarray(shapely.from_geojson(texts, on_invalid="raise"))
    except (shapely.errors.GEOSException, ValueError, TypeError):
        for i, t in zip(where, texts, strict=True):  # name the first bad one
            try:
                shapely.from_geojson(t, on_invalid="raise")
            except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
                raise InputError(f"{path}: features[{i}].geometry is not valid GeoJSON "
                                 f"({str(exc)[:120]})") from None
        raise
    return _to_lonlat(geoms, crs, path)


def _geojson_crs(path: Path, doc: dict) -> pyproj.CRS | None:
    """The CRS a GeoJSON document's (pre-RFC 7946) ``crs`` member names, or None.

    RFC 7946 dropped the member, but QGIS and older tools still write it for projected
    files; ignoring it reads metres as degrees.
    """
    member = doc.get("crs")
    if member is None:
        return None
    name = member.get("properties", {}).get("name") if isinstance(member, dict) and \
        isinstance(member.get("properties"), dict) else None
    if not isinstance(name, str):
        raise InputError(f"{path}: member 'crs' = {json.dumps(member)[:80]}: expected "
                         '{"type": "name", "properties": {"name": "EPSG:..."}}')
    try:
        crs = pyproj.CRS.from_user_input(name)
    except pyproj.exceptions.CRSError:
        raise InputError(f"{path}: crs name {name[:80]!r} is not a coordinate reference "
                         "system pyproj knows: expected e.g. EPSG:4326 or EPSG:3857") from None
    return None if crs.is_geographic and crs.equals("EPSG:4326", ignore_axis_order=True) \
        or "CRS84" in name.upper() else crs


def _to_lonlat(geoms: np.ndarray, crs: pyproj.CRS | None, path: Path) -> np.ndarray:
    """Geometries reprojected from ``crs`` to lon/lat (always x=lon, y=lat)."""
    if crs is None or len(geoms) == 0:
        return geoms
    tr = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    with np.errstate(invalid="ignore"):
        return shapely.transform(geoms, lambda xy: np.column_stack(
            tr.transform(xy[:, 0], xy[:, 1])))


def check_lonlat(geom: shapely.Geometry, path: Path) -> None:
    """Refuse coordinates that are not finite lon/lat: metres read as degrees, NaN.

    >>> check_lonlat(shapely.box(30, 45, 40, 52), Path("ok.geojson"))
    >>> check_lonlat(shapely.box(3.3e6, 5.6e6, 4.4e6, 6.8e6), Path("m.geojson"))
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    truceline.errors.InputError: m.geojson: coordinates x 3300000 to 4400000, ...
    """
    xy = shapely.get_coordinates(geom)
    if not np.isfinite(xy).all():
        raise InputError(f"{path}: {int((~np.isfinite(xy)).any(axis=1).sum())} vertices have "
                         "coordinates that are not finite numbers (NaN or infinity): "
                         "expected lon/lat degrees")
    x0, y0 = xy.min(axis=0) if len(xy) else (0.0, 0.0)
    x1, y1 = xy.max(axis=0) if len(xy) else (0.0, 0.0)
    if x0 < -180 or x1 > 180 or y0 < -90 or y1 > 90:
        raise InputError(f"{path}: coordinates x {x0:.10g} to {x1:.10g}, y {y0:.10g} to "
                         f"{y1:.10g} are not lon/lat degrees (x in [-180, 180], y in "
                         "[-90, 90]): projected coordinates need a CRS (a GeoJSON 'crs' "
                         "member, or a GeoPackage/shapefile with its .prj)")


def parse_day(value: str | pd.Timestamp, what: str) -> pd.Timestamp:
    """A day given by a user or a file (`truceline.checks.day`), in the years a map can
    be about, or an InputError naming the option or field and the value.

    >>> parse_day("2025-08-20", "--valid-from")
    Timestamp('2025-08-20 00:00:00')
    >>> parse_day("0001-01-01", "--valid-from")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    truceline.errors.InputError: --valid-from '0001-01-01': expected a day between ...
    """
    from truceline.checks import day

    d = day(value, what)
    if not 1900 <= d.year <= 2200:
        raise InputError(f"{what} {str(value)[:80]!r}: expected a day between 1900-01-01 "
                         "and 2200-12-31")
    return pd.Timestamp(d)


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
        with path.open("rb") as f:
            head = f.read(200).lstrip()
        if head.startswith(b'{"value"'):
            return "liveuamap"
    return "other"


#: GeoJSON names of the geometry types a map may hold instead of polygons.
_TYPE_NAMES = {0: "Point", 1: "LineString", 2: "LinearRing", 4: "MultiPoint",
               5: "MultiLineString", 7: "GeometryCollection"}


def _polygons(geoms: np.ndarray, path: Path) -> shapely.Geometry:
    geoms = geoms[~shapely.is_missing(geoms)]
    if len(geoms) == 0:
        raise InputError(f"{path}: holds no geometry; expected polygons of held ground")
    parts = shapely.get_parts(geoms)
    polys = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
    if len(polys) == 0:
        kinds = sorted(set(shapely.get_type_id(parts).tolist()))
        names = ", ".join(_TYPE_NAMES.get(k, str(k)) for k in kinds)
        raise InputError(f"{path}: holds no polygons (only {names}); "
                         "expected Polygon or MultiPolygon features of held ground")
    return shapely.multipolygons(shapely.get_parts(polys))


def _parse_deepstate(path: Path) -> tuple[shapely.Geometry, pd.Timestamp | None, dict]:
    doc = _read_json(path)
    if doc.get("type") != "FeatureCollection":
        raise InputError(f"{path}: member 'type' = {str(doc.get('type'))[:40]!r}: expected "
                         "a GeoJSON FeatureCollection")
    date = _date_from_name(path.name) or _date_from_name(str(doc.get("name", "")))
    geoms = _geometries(path, _features(path, doc), _geojson_crs(path, doc))
    return _polygons(geoms, path), date, {}


def _parse_liveuamap(path: Path) -> tuple[shapely.Geometry, pd.Timestamp | None, dict]:
    doc = _read_json(path)
    fc = doc.get("value", doc)
    if not isinstance(fc, dict) or not fc.get("features"):
        raise InputError(f"{path}: expected {{'value': FeatureCollection}} with features "
                         "of type nochange/gains/losses")
    feats = _features(path, fc)
    props = [f.get("properties") or {} for f in feats]
    held = [f for f, p in zip(feats, props, strict=True)
            if p.get("type") in ("nochange", "gains")]
    if not held:
        raise InputError(f"{path}: no feature has properties.type 'nochange' or 'gains'")
    dates = sorted({str(p["date"]) for p in props if p.get("type") in ("nochange", "gains")
                    and p.get("date")})
    date = (parse_day(dates[-1], f"{path}: properties.date") if dates
            else _date_from_name(path.name))
    geoms = _geometries(path, held, _geojson_crs(path, fc))
    extra = {"crimea_missing": True, "file_date": str(_date_from_name(path.name) or "")}
    return _polygons(geoms, path), date, extra


def _parse_vector(path: Path) -> tuple[shapely.Geometry, gpd.GeoDataFrame]:
    if path.suffix.lower() in (".json", ".geojson"):
        with path.open("rb") as f:
            sniff_text(path, f.read(4096), expected="a GeoJSON (UTF-8 JSON) file",
                       allow_json=True)
        try:  # a crs member GDAL does not know would be read as lon/lat: refuse it
            doc = json.loads(path.read_bytes())
        except (ValueError, UnicodeDecodeError):
            doc = None  # GDAL says what is wrong with it, below
        if isinstance(doc, dict):
            _geojson_crs(path, doc)
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputError(f"{path}: cannot be read as GeoJSON, GeoPackage or shapefile "
                         f"({str(exc)[:200]})") from None
    if frame.crs is None:
        raise InputError(f"{path}: has no coordinate reference system; expected one "
                         "(e.g. EPSG:4326 or EPSG:3857)")
    frame = frame.to_crs("EPSG:4326")
    return _polygons(np.asarray(frame.geometry.values), path), frame


def check_source(source: str) -> None:
    """``--source``: auto or one of :data:`SOURCES`, else InputError."""
    if source != "auto" and source not in SOURCES:
        raise InputError(f"--source {source!r}: expected auto or one of {', '.join(SOURCES)}")


#: The parties whose held ground a control map may draw: Russia's, for every source here
#: (the side, the line and the verdicts read the map as the ground Russia holds).
PARTIES = ("ru",)


def check_party(party: str) -> None:
    """``--party``: one of :data:`PARTIES`, else InputError (before anything is stored:
    a snapshot of another party would be refused by every later command)."""
    if party not in PARTIES:
        raise InputError(f"--party {party!r}: expected {' or '.join(map(repr, PARTIES))}: "
                         "a control map is read as the ground Russia holds; draw that "
                         "ground (the rest of Ukraine is then the other side)")


def parse_control(path: str | Path, *, source: str = "auto", party: str = "ru",
                  valid_from: str | pd.Timestamp | None = None,
                  sha256: str | None = None) -> ControlFile:
    """Parse one control map into a snapshot of the ground ``party`` holds (``sha256``: the
    file's hash when the caller has it)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    check_source(source)
    check_party(party)
    vf = parse_day(valid_from, "--valid-from") if valid_from is not None else None
    if source == "auto":
        source = guess_source(path)
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
            date = pd.to_datetime(frame["CreationDa"], errors="coerce").min()
            content_date = pd.to_datetime(frame["EditDate"], errors="coerce").max()
            content_date = None if pd.isna(content_date) else content_date
    valid = vf if vf is not None else date
    if valid is None or pd.isna(valid):
        raise InputError(f"{path}: no date found in the file name or content; give "
                         "--valid-from YYYY-MM-DD")
    valid = parse_day(valid, f"{path}: date")
    check_lonlat(geom, path)
    geom, repaired, changed = repair(geom)
    if geom.is_empty:
        raise InputError(f"{path}: the held ground is empty after repair")
    geom, outside_km2 = clip_to_theatre(geom)
    if geom.is_empty:
        x0, y0, x1, y1 = _theatre_bbox()
        raise InputError(f"{path}: the held ground lies wholly outside the theatre (lon "
                         f"{x0:g} to {x1:g}, lat {y0:g} to {y1:g}): check the coordinates "
                         "and the CRS")
    area = area_km2(geom)
    if not (np.isfinite(area) and area > 0 and np.isfinite(changed)):
        raise InputError(f"{path}: the held ground has no measurable area ({area} km²): "
                         "expected polygons of held ground in lon/lat")
    digest = sha256 or sha256_file(path)
    row = {
        "snapshot_id": f"{source}:{valid.date()}",
        "source": source,
        "valid_from": valid,
        "party": party,
        "crimea_missing": bool(extra.get("crimea_missing", False)),
        "content_date": pd.Timestamp(content_date or valid).normalize(),
        "area_km2": area,
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
    warns = plausibility_warnings(path, geom, valid)
    if outside_km2 > 0:
        warns.append(f"{path}: {outside_km2:,.0f} km² of the held ground lie outside the "
                     "theatre window and were left out (they cannot be placed against the "
                     "line of contact)")
    return ControlFile(path=path, sha256=digest, snapshot=snap, warnings=warns)


def clip_to_theatre(geom: shapely.Geometry) -> tuple[shapely.Geometry, float]:
    """Held ground inside the theatre window, and the km² left out.

    The geometry stage works in the theatre's metric CRS, which cannot hold the poles
    (a map of the whole globe gives NaN there and GEOS fails later); ground outside the
    window is never compared with anything, so it is dropped here, and said.
    """
    box = _theatre_bbox()
    x0, y0, x1, y1 = geom.bounds
    if x0 >= box[0] and y0 >= box[1] and x1 <= box[2] and y1 <= box[3]:
        return geom, 0.0
    clipped = shapely.clip_by_rect(geom, *box)
    parts = shapely.get_parts(clipped)
    parts = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
    inside = shapely.union_all(parts) if len(parts) else shapely.Polygon()
    return inside, max(area_km2(geom) - (area_km2(inside) if not inside.is_empty else 0), 0.0)


#: share of Ukraine a map may cover before it is taken to cover all of it
_COVERS_ALL = 0.99


def plausibility_warnings(path: Path, geom: shapely.Geometry, valid_from: pd.Timestamp,
                          today: pd.Timestamp | None = None) -> list[str]:
    """Warnings for a map that parses but is probably wrong: held ground covering all of
    Ukraine or none of it (the line of contact is then 0 km) or a date in the future.
    Why warnings, not errors: such a map is legal and may be meant (a test, a what-if),
    but every verdict made with it would be nonsense."""
    out: list[str] = []
    ukraine = _ukraine()
    share = area_km2(shapely.intersection(geom, ukraine)) / area_km2(ukraine)
    if share >= _COVERS_ALL:
        out.append(f"{path}: the held ground covers {share:.0%} of Ukraine, so the line "
                   "of contact is 0 km: check the map is of the ground one party holds")
    elif share * area_km2(ukraine) < 1.0:
        out.append(f"{path}: the held ground lies outside Ukraine, so the line of contact "
                   "is 0 km: check the coordinates and the CRS")
    today = today or pd.Timestamp.now().normalize()
    if valid_from > today:
        out.append(f"{path}: dated {valid_from.date()}, after today ({today.date()}): a "
                   "map of the future is used for no day before then")
    return out


def _theatre_bbox() -> tuple[float, float, float, float]:
    from truceline.geo.outlines import THEATRE_BBOX  # lazy: geo sits above sources

    return THEATRE_BBOX


@lru_cache(maxsize=1)
def _ukraine() -> shapely.Geometry:
    """Ukraine's outline simplified to ~1 km: 6 ms a map instead of 40."""
    from truceline.geo.outlines import outline  # lazy: reading it costs ~0.25 s once

    return shapely.simplify(outline("UKR"), 0.01)


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
    from truceline.geo.regions import DONBAS  # the two oblasts, approximate

    add = shapely.intersection(reference, DONBAS)
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

"""Export files for the tools readers already use: QGIS, Google Earth, spreadsheets, code.

A report folder carries the incidents as GeoJSON (web maps, code), GeoPackage (QGIS),
KML (Google Earth) and CSV (spreadsheets), the line of contact as GeoJSON, and the
assessment as JSON. Every format holds the same rows and the same columns, with two
conversions that the simpler formats force on us:

- list columns (``detection_ids``) become one ``;``-joined string, because GeoPackage,
  KML and CSV have no list type;
- timestamps are UTC: native datetimes in GeoPackage and GeoJSON, ISO 8601 text ending
  in ``Z`` in CSV and KML.

`read_incidents` reads any of the four back into the incident contract (lists restored,
times in UTC), so each codec has a round-trip test. Outputs are byte-reproducible where
the format allows it (GeoPackage's own change date is pinned; JSON is canonical), so a
re-made report can be compared with a signed one.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from truceline.errors import InputError
from truceline.publish.credits import credit_sentence
from truceline.publish.evidence import TIMINGS
from truceline.publish.manifest import canonical_json

__all__ = [
    "EVIDENCE_COLUMNS",
    "INCIDENT_COLUMNS",
    "DETECTION_FILES",
    "INCIDENT_FORMATS",
    "LIST_SEPARATOR",
    "export_frame",
    "jsonable",
    "read_incidents",
    "write_assessment_json",
    "write_exports",
    "write_incidents",
    "write_line_geojson",
]

#: The incident contract, in the order exports use; other columns follow, unchanged.
INCIDENT_COLUMNS: tuple[str, ...] = (
    "incident_id", "t_start", "t_end", "n_detections", "lon", "lat", "side", "dist_km",
    "band", "sector", "place", "p_min", "confidence", "detection_ids", "sensors",
)
#: What the detections add (`truceline.publish.evidence.incident_evidence`), after the
#: contract: first/last UTC minute, timing against the window, FRP, satellites.
EVIDENCE_COLUMNS: tuple[str, ...] = (
    "t_first", "t_last", "time_known", "timing", "n_in_window", "n_possibly_in_window",
    "frp_total", "frp_max", "satellites", "daynight", "side_name",
)
#: File name of each incident export, by format.
INCIDENT_FORMATS: Mapping[str, str] = {
    "geojson": "incidents.geojson",
    "gpkg": "incidents.gpkg",
    "kml": "incidents.kml",
    "csv": "incidents.csv",
}
LIST_SEPARATOR = ";"
_TIME_COLUMNS = ("t_start", "t_end", "t_first", "t_last")
_LIST_COLUMNS = ("detection_ids",)
# GeoPackage stamps its change date into the file; pin it so the bytes are reproducible
_GPKG_DATE = "2000-01-01T00:00:00Z"


# --------------------------------------------------------------------------- frames


def export_frame(incidents: pd.DataFrame) -> gpd.GeoDataFrame:
    """The incidents ready for flat formats: EPSG:4326 points, lists joined, times UTC.

    Accepts a GeoDataFrame of points or a DataFrame with lon/lat; contract columns come
    first. Missing lon/lat are filled from the geometry (and the reverse).

    >>> import pandas as pd
    >>> df = pd.DataFrame({"incident_id": ["a"], "lon": [37.5], "lat": [48.1],
    ...                    "detection_ids": [["d1", "d2"]]})
    >>> export_frame(df)[["incident_id", "detection_ids"]].to_dict("records")
    [{'incident_id': 'a', 'detection_ids': 'd1;d2'}]
    """
    if not isinstance(incidents, pd.DataFrame):
        raise InputError(f"incidents = {type(incidents).__name__}: expected a GeoDataFrame "
                         "of incident points (EPSG:4326)")
    df = pd.DataFrame(incidents).copy()
    geom_col = incidents.geometry.name if isinstance(incidents, gpd.GeoDataFrame) and \
        incidents._geometry_column_name in incidents.columns else None
    if geom_col is not None:
        geoms = gpd.GeoSeries(incidents.geometry, crs=incidents.crs)
        if geoms.crs is not None and not geoms.crs.equals("EPSG:4326"):
            geoms = geoms.to_crs(4326)
        df = df.drop(columns=[geom_col])
        geometry = geoms.to_numpy()
    elif {"lon", "lat"} <= set(df.columns):
        geometry = shapely.points(pd.to_numeric(df["lon"], errors="coerce").to_numpy(),
                                  pd.to_numeric(df["lat"], errors="coerce").to_numpy())
    else:
        raise InputError("incidents: no geometry and no lon/lat columns: expected a "
                         "GeoDataFrame of points (EPSG:4326) or lon and lat columns")
    reps = shapely.point_on_surface(np.asarray(geometry, dtype=object))
    if "lon" not in df:
        df["lon"] = shapely.get_x(reps)
    if "lat" not in df:
        df["lat"] = shapely.get_y(reps)
    for col in df.columns:
        if col in _LIST_COLUMNS or _has_lists(df[col]):
            df[col] = df[col].map(_join_list).astype("string")
    for col in _TIME_COLUMNS:
        if col in df:
            df[col] = _utc(df[col], col)
    if "dist_km" in df and "distance_km" in df:  # the same figure under two names
        df = df.drop(columns=["distance_km"])
    for col in ("lon", "lat"):  # 6 decimals: 0.1 m, finer than any satellite pixel
        df[col] = pd.to_numeric(df[col], errors="coerce").round(6)
    if "dist_km" in df:  # metres are more than the line's own accuracy
        df["dist_km"] = pd.to_numeric(df["dist_km"], errors="coerce").round(3)
    if "side" in df and "side_name" not in df:
        df["side_name"] = df["side"].map(lambda v: _SIDE_TEXT.get(str(v), str(v))
                                         if not _missing(v) else pd.NA).astype("string")
    known = (*INCIDENT_COLUMNS, *EVIDENCE_COLUMNS)
    order = [c for c in known if c in df] + [c for c in df if c not in known]
    return gpd.GeoDataFrame(df[order].reset_index(drop=True), geometry=list(geometry),
                            crs="EPSG:4326")


def _has_lists(col: pd.Series) -> bool:
    if col.dtype != object:
        return False
    return bool(col.map(lambda v: isinstance(v, (list, tuple, set, np.ndarray))).any())


def _join_list(value: Any) -> Any:
    if isinstance(value, (list, tuple, set, np.ndarray)):
        items = sorted(value) if isinstance(value, set) else list(value)
        return LIST_SEPARATOR.join(str(v) for v in items)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return pd.NA
    return str(value)


def _utc(col: pd.Series, name: str) -> pd.Series:
    try:
        with warnings.catch_warnings():  # mixed formats parse one by one: fine here
            warnings.simplefilter("ignore", UserWarning)
            t = pd.to_datetime(col, utc=True)
    except (ValueError, TypeError) as exc:
        raise InputError(f"incidents column {name!r}: {exc}: expected UTC timestamps") from exc
    return t.dt.as_unit("s") if hasattr(t.dt, "as_unit") else t


def _iso_z(col: pd.Series) -> pd.Series:
    out = col.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return out.astype("string")


# --------------------------------------------------------------------------- writers


def write_incidents(out_dir: str | Path, incidents: pd.DataFrame,
                    formats: Iterable[str] = tuple(INCIDENT_FORMATS), *,
                    credits: Sequence[str] = (), line: BaseGeometry | None = None,
                    line_date: Any = None) -> list[Path]:
    """Write the incidents in each of `formats` (geojson, gpkg, kml, csv); return paths.

    An empty table still gives valid, empty files, so a reader can tell "no incidents"
    from "no export". `credits` go into each format's own metadata (GeoJSON
    ``metadata``, GeoPackage layer description, KML document description); the KML also
    draws the `line` of contact (dated `line_date`).
    """
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    frame = export_frame(incidents)
    written = []
    for fmt in formats:
        if fmt not in INCIDENT_FORMATS:
            raise InputError(f"formats: {fmt!r}: expected one of {', '.join(INCIDENT_FORMATS)}")
        path = d / INCIDENT_FORMATS[fmt]
        _WRITERS[fmt](path, frame, credits=credits, line=line, line_date=line_date)
        written.append(path)
    return written


def _unlink(path: Path) -> None:
    if path.exists():
        path.unlink()


def _write_geojson(path: Path, frame: gpd.GeoDataFrame, *, credits: Sequence[str] = (),
                   name: str = "incidents", **_: Any) -> None:
    """RFC 7946 GeoJSON, written by hand so the bytes do not depend on the GDAL build.

    The credits go in a ``metadata`` foreign member (RFC 7946 §6.1), which GIS tools
    ignore and people reading the file see.
    """
    props = frame.drop(columns=[frame.geometry.name])
    for col in _TIME_COLUMNS:
        if col in props:
            props[col] = _iso_z(props[col])
    features = []
    for geom, row in zip(frame.geometry, props.to_dict("records"), strict=True):
        features.append({
            "type": "Feature",
            "properties": {k: jsonable(v) for k, v in row.items()},
            "geometry": _geojson_geometry(geom),
        })
    doc: dict[str, Any] = {"type": "FeatureCollection", "name": name}
    if credits:
        doc["metadata"] = {"credits": list(credits)}
    doc["features"] = features
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1, allow_nan=False) + "\n",
                    encoding="utf-8")


def _write_gpkg(path: Path, frame: gpd.GeoDataFrame, *, credits: Sequence[str] = (),
                **_: Any) -> None:
    _unlink(path)
    write_gpkg_layer(path, frame, "incidents", geometry_type="Point",
                     description=_describe("Incidents", credits))


def _describe(what: str, credits: Sequence[str]) -> str:
    return what + (". " + credit_sentence(credits) if credits else ".")


def write_gpkg_layer(path: str | Path, frame: gpd.GeoDataFrame, layer: str, *,
                     geometry_type: str, description: str = "") -> Path:
    """Add one layer to a GeoPackage that GDAL 3.6 (Debian 12, QGIS LTR) opens quietly.

    GeoPackage 1.2 (GDAL 3.6 warns on the 1.4 files newer GDALs write by default), the
    geometry type declared even for an empty layer, and the file's change date pinned so
    the bytes are reproducible.
    """
    path = Path(path)
    old = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": _GPKG_DATE})
    try:
        pyogrio.write_dataframe(
            _plain(frame, times_as_text=False), path, layer=layer, driver="GPKG",
            geometry_type=geometry_type, append=path.exists(),
            dataset_options=None if path.exists() else {"VERSION": "1.2"},
            layer_options={"DESCRIPTION": description} if description else None)
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": old})
    return path


def _write_csv(path: Path, frame: gpd.GeoDataFrame, **_: Any) -> None:
    df = _plain(frame, times_as_text=True).drop(columns=[frame.geometry.name])
    df.to_csv(path, index=False, lineterminator="\n")


def _write_kml(path: Path, frame: gpd.GeoDataFrame, *, credits: Sequence[str] = (),
               line: BaseGeometry | None = None, line_date: Any = None, **_: Any) -> None:
    from truceline.publish.kml import write_kml

    flat = _plain(frame, times_as_text=True)
    flat.insert(0, "Description", _kml_descriptions(flat))
    write_kml(path, flat, line=line, line_date=line_date, credits=credits)


def _kml_descriptions(flat: pd.DataFrame) -> pd.Series:
    """One plain sentence per incident for the KML balloon: what, when, where, how sure."""
    out = []
    for row in flat.to_dict("records"):
        parts = []
        if not _missing(row.get("n_detections")):
            text = f"{row['n_detections']} fire detections"
            if not _missing(row.get("n_in_window")):
                text += f" ({row['n_in_window']} inside the agreement window)"
            parts.append(text)
        start = row.get("t_first", row.get("t_start"))
        if not _missing(start):
            end = row.get("t_last", row.get("t_end"))
            parts.append(f"from {start}" + ("" if _missing(end) else f" to {end}") + " UTC")
        if not _missing(row.get("timing")) and row["timing"] != "unknown":
            parts.append(TIMINGS.get(str(row["timing"]), str(row["timing"])))
        if not _missing(row.get("place")):
            parts.append(f"near {row['place']}")
        if not _missing(row.get("dist_km")) and not _missing(row.get("side")):
            parts.append(f"{abs(float(row['dist_km'])):.1f} km from the line on "
                         f"{_SIDE_TEXT.get(str(row['side']), str(row['side']))}")
        if not _missing(row.get("frp_total")):
            parts.append(f"fire radiative power {float(row['frp_total']):.1f} MW in all")
        if not _missing(row.get("confidence")):
            parts.append(f"{row['confidence']} confidence")
        out.append("; ".join(parts))
    return pd.Series(out, index=flat.index, dtype="string")


_SIDE_TEXT = {"ua": "Ukrainian-held ground", "ru": "Russian-held ground",
              "third": "a third country's ground", "sea": "the sea"}


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(isinstance(value, float) and math.isnan(value))
    except TypeError:
        return False


def _plain(frame: gpd.GeoDataFrame, *, times_as_text: bool) -> gpd.GeoDataFrame:
    """Columns every driver accepts: str/int/float/bool/datetime, no lists or objects."""
    out = frame.copy()
    for col in out.columns:
        if col == frame.geometry.name:
            continue
        s = out[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            out[col] = _iso_z(_utc(s, col)) if times_as_text else _utc(s, col)
        elif s.dtype == object:
            out[col] = s.map(lambda v: v if _missing(v) else
                             (v if isinstance(v, str) else str(v))).astype("string")
    return out


# fields GDAL's KML and LIBKML readers add on their own; not part of our rows
_KML_FIELDS = ("Name", "Description", "name", "description", "id", "timestamp", "begin",
               "end", "altitudeMode", "tessellate", "extrude", "visibility", "drawOrder",
               "icon", "snippet")

_WRITERS = {"geojson": _write_geojson, "gpkg": _write_gpkg, "kml": _write_kml,
            "csv": _write_csv}


def write_line_geojson(path: str | Path, line_of_contact: BaseGeometry | None,
                       properties: Mapping[str, Any] | None = None, *,
                       held: BaseGeometry | None = None, held_by: str = "Russia",
                       credits: Sequence[str] = ()) -> Path:
    """The line of contact (and the ground held) as GeoJSON in lon/lat.

    The first feature is the line, with its geodesic length in km (so a reader can check
    it is the line the report describes) and `properties` such as the snapshot's
    ``snapshot_id``, ``date`` and ``source``; the second, when `held` is given, is the
    ground held by `held_by` on that snapshot, as (multi)polygons.
    """
    path = Path(path)
    props: dict[str, Any] = {"name": "line of contact", "kind": "line_of_contact"}
    geometry = None
    if line_of_contact is not None and not shapely.is_empty(line_of_contact):
        if not isinstance(line_of_contact, BaseGeometry):
            raise InputError(f"line_of_contact = {type(line_of_contact).__name__}: expected "
                             "a shapely (Multi)LineString in lon/lat")
        props["length_km"] = round(pyproj.Geod(ellps="WGS84").geometry_length(
            line_of_contact) / 1000.0, 3)
        geometry = _geojson_geometry(line_of_contact)
    extra = {str(k): jsonable(v) for k, v in (properties or {}).items()}
    props.update(extra)
    features = [{"type": "Feature", "properties": props, "geometry": geometry}]
    if held is not None and not shapely.is_empty(held):
        if not isinstance(held, BaseGeometry):
            raise InputError(f"held = {type(held).__name__}: expected shapely polygons")
        area = abs(pyproj.Geod(ellps="WGS84").geometry_area_perimeter(
            shapely.orient_polygons(held) if hasattr(shapely, "orient_polygons") else held
        )[0]) / 1e6
        features.append({"type": "Feature", "properties": {
            **extra, "name": f"ground held by {held_by}", "kind": "held_ground",
            "held_by": held_by, "area_km2": round(area, 1)},
            "geometry": _geojson_geometry(held)})
    doc: dict[str, Any] = {"type": "FeatureCollection", "name": "line_of_contact"}
    if credits:
        doc["metadata"] = {"credits": list(credits)}
    doc["features"] = features
    path.write_text(json.dumps(doc, ensure_ascii=False, allow_nan=False) + "\n",
                    encoding="utf-8")
    return path


def _geojson_geometry(geom: BaseGeometry | None) -> dict[str, Any] | None:
    if geom is None or shapely.is_empty(geom):
        return None
    out: dict[str, Any] = json.loads(shapely.to_geojson(shapely.set_precision(geom, 1e-6)))
    return out


def write_assessment_json(path: str | Path, assessment: Mapping[str, Any]) -> Path:
    """The assessment as canonical JSON (sorted keys, UTF-8, no NaN: missing is null)."""
    if not isinstance(assessment, Mapping):
        raise InputError(f"assessment = {type(assessment).__name__}: expected a dict")
    path = Path(path)
    path.write_bytes(canonical_json(jsonable(assessment)))
    return path


def jsonable(value: Any) -> Any:
    """`value` as plain JSON types: NaN/NaT to null, times to ISO 8601 UTC ``Z``, arrays to
    lists, geometries to GeoJSON; anything else unknown becomes its ``str``.

    >>> import numpy as np, pandas as pd
    >>> jsonable({"a": np.float64("nan"), "t": pd.Timestamp("2023-01-06 09:00", tz="UTC")})
    {'a': None, 't': '2023-01-06T09:00:00Z'}
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (pd.Timestamp, datetime)):
        ts = pd.Timestamp(value)
        if ts.tzinfo is not None:
            ts = ts.tz_convert("UTC")
            return ts.strftime("%Y-%m-%dT%H:%M:%S") + (
                f".{ts.microsecond:06d}" if ts.microsecond else "") + "Z"
        return ts.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, pd.Timedelta):
        return value.isoformat()
    if isinstance(value, BaseGeometry):
        return _geojson_geometry(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, pd.DataFrame):
        return [jsonable(r) for r in value.to_dict("records")]
    if isinstance(value, (pd.Series, pd.Index)):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [jsonable(v) for v in items]
    if isinstance(value, Path):
        return value.as_posix()
    return str(value)


#: The detection exports, by format.
DETECTION_FILES: Mapping[str, str] = {"csv": "detections.csv",
                                      "evidence_csv": "incident_detections.csv"}


def write_exports(
    out_dir: str | Path,
    incidents: pd.DataFrame,
    line_of_contact: BaseGeometry | None,
    assessment: Mapping[str, Any],
    *,
    formats: Iterable[str] = tuple(INCIDENT_FORMATS),
    line_properties: Mapping[str, Any] | None = None,
    held: BaseGeometry | None = None,
    held_by: str = "Russia",
    detections: pd.DataFrame | None = None,
    evidence: pd.DataFrame | None = None,
    credits: Sequence[str] = (),
) -> list[Path]:
    """Write every data export of a report folder; return the paths, in writing order.

    Incidents in each of `formats`; the line of contact (with `held` ground) as GeoJSON;
    the assessment as JSON; and, when given, the `detections` table
    (`truceline.publish.evidence.detection_table`) as ``detections.csv`` and the
    `evidence` rows (`evidence_rows`) as ``incident_detections.csv``, both also layers of
    ``incidents.gpkg`` beside the line and the held ground.
    """
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    props = dict(line_properties or {})
    if "control_source" in assessment and "control_source" not in props:
        props["control_source"] = assessment["control_source"]
    fmts = list(formats)
    paths = write_incidents(d, incidents, fmts, credits=credits, line=line_of_contact,
                            line_date=props.get("date"))
    paths.append(write_line_geojson(d / "line_of_contact.geojson", line_of_contact, props,
                                    held=held, held_by=held_by, credits=credits))
    if detections is not None:
        paths.append(_write_table_csv(d / DETECTION_FILES["csv"], detections))
    if evidence is not None:
        paths.append(_write_table_csv(d / DETECTION_FILES["evidence_csv"], evidence))
    if "gpkg" in fmts:
        _gpkg_extra_layers(d / INCIDENT_FORMATS["gpkg"], line_of_contact, held, props,
                           detections, evidence, credits)
    doc = dict(assessment)
    if credits and "credits" not in doc:
        doc["credits"] = list(credits)
    paths.append(write_assessment_json(d / "assessment.json", doc))
    return paths


def _write_table_csv(path: Path, table: pd.DataFrame) -> Path:
    table.to_csv(path, index=False, lineterminator="\n")
    return path


def _points(table: pd.DataFrame) -> gpd.GeoDataFrame:
    lon = pd.to_numeric(table["longitude"], errors="coerce").to_numpy()
    lat = pd.to_numeric(table["latitude"], errors="coerce").to_numpy()
    return gpd.GeoDataFrame(table.reset_index(drop=True), geometry=shapely.points(lon, lat),
                            crs="EPSG:4326")


def _multi(geom: BaseGeometry, gtype: str) -> BaseGeometry:
    """The lines (or polygons) of `geom` as one Multi* geometry, as the layer declares."""
    parts = shapely.get_parts(shapely.get_parts(shapely.make_valid(geom)))
    if gtype == "MultiLineString":
        return shapely.multilinestrings(parts[np.isin(shapely.get_type_id(parts), (1, 2))])
    return shapely.multipolygons(parts[shapely.get_type_id(parts) == 3])


def _gpkg_extra_layers(path: Path, line: BaseGeometry | None, held: BaseGeometry | None,
                       props: Mapping[str, Any], detections: pd.DataFrame | None,
                       evidence: pd.DataFrame | None, credits: Sequence[str]) -> None:
    """The detections, the evidence rows, the line and the held ground as more layers."""
    if detections is not None:
        write_gpkg_layer(path, _points(detections), "detections", geometry_type="Point",
                         description=_describe("Fire detections the assessment rests on, "
                                               "with the war-fire call", credits))
    if evidence is not None:
        write_gpkg_layer(path, _points(evidence), "incident_detections",
                         geometry_type="Point",
                         description=_describe("The FIRMS rows of each incident", credits))
    meta = {k: str(jsonable(v)) for k, v in props.items() if not isinstance(v, Mapping)}
    for layer, geom, gtype, what in (
            ("line_of_contact", line, "MultiLineString", "Line of contact"),
            ("held_ground", held, "MultiPolygon", "Ground held by Russia (control map)")):
        parts = [] if geom is None or geom.is_empty else [_multi(geom, gtype)]
        frame = gpd.GeoDataFrame(pd.DataFrame({k: [v] * len(parts) for k, v in meta.items()}),
                                 geometry=parts, crs="EPSG:4326")
        write_gpkg_layer(path, frame, layer, geometry_type=gtype,
                         description=_describe(what, credits))


# --------------------------------------------------------------------------- reader


def read_incidents(path: str | Path) -> gpd.GeoDataFrame:
    """Read an incident export (GeoJSON, GeoPackage, KML or CSV) back to the contract.

    ``detection_ids`` become lists again and times are UTC timestamps; KML's extra
    Name/Description fields are dropped.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        df = pd.read_csv(path, dtype={"incident_id": "string", "detection_ids": "string",
                                      "band": "string"}, keep_default_na=True)
        frame = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]),
                                 crs="EPSG:4326")
    elif suffix in (".geojson", ".json", ".gpkg", ".kml"):
        layers = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
        frame = pyogrio.read_dataframe(path, layer="incidents" if "incidents" in layers
                                       else None)
        if frame.crs is None:
            frame = frame.set_crs(4326)
        frame = frame.drop(columns=[c for c in _KML_FIELDS if c in frame.columns
                                    and c not in INCIDENT_COLUMNS])
    else:
        raise InputError(f"{path}: unknown suffix {suffix!r}: expected .geojson, .gpkg, "
                         ".kml or .csv")
    for col in _TIME_COLUMNS:
        if col in frame:
            frame[col] = pd.to_datetime(frame[col], utc=True)
    for col in _LIST_COLUMNS:
        if col in frame:
            frame[col] = frame[col].map(_split_list)
    for col in ("n_detections",):
        if col in frame:
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("Int64")
    for col in ("lon", "lat", "dist_km", "p_min"):
        if col in frame:
            frame[col] = pd.to_numeric(frame[col], errors="coerce")
    return frame


def _split_list(value: Any) -> list[str]:
    if _missing(value) or value == "":
        return []
    if isinstance(value, (list, tuple, np.ndarray)):
        return [str(v) for v in value]
    return str(value).split(LIST_SEPARATOR)


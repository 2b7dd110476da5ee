"""The lake's tables: names, schemas, partitioning, and Arrow conversion both ways.

Every table is a Delta Lake table (``deltalake``, delta-rs) under ``LAKE/tables/<name>``:
a folder of Parquet files plus ``_delta_log/``, the transaction log that makes each
write one atomic commit and keeps every earlier version readable. DuckDB
(``delta_scan``), Spark, Dask (``dask-deltatable``) and Polars read them as they are.

Delta has no geometry or unsigned types, so on the way in:

* a GeoDataFrame's geometry becomes a WKB ``geometry`` column (EPSG:4326, recorded in the
  table's description, a small JSON object: ``{"geometry": "WKB, EPSG:4326"}``);
  detections and enriched detections store no geometry at all, their points are rebuilt
  from ``lon``/``lat`` on the way out;
* unsigned 64-bit columns (H3 cell ids) are stored bit for bit as signed 64-bit and
  listed in the description's ``uint64``, so readers turn them back (delta-rs refuses
  table properties outside its own ``delta.*`` set);
* Arrow ``null`` columns (a file whose ``daynight`` is empty) are stored as strings, so
  every file of a table has one schema (issue 12, item 5).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

TABLES_DIR = "tables"
DETECTIONS = "detections"
CONTROL = "control"
QUARANTINE = "quarantine"
ENRICHED = "enriched"
#: tables whose layout is fixed here; ``write_table`` adds keyed tables (incidents, ...)
PARTITIONS: dict[str, list[str]] = {
    DETECTIONS: ["sensor", "year", "month"],
    CONTROL: ["source", "day"],
    QUARANTINE: [],
    ENRICHED: ["control", "sensor", "year", "month"],
}
KEYED_PARTITIONS = ["key"]
TABLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
GEOMETRY_PROPERTY = "geometry"
UINT64_PROPERTY = "uint64"
WKB_4326 = "WKB, EPSG:4326"

DETECTION_SCHEMA = pa.schema([
    ("detection_id", pa.string()), ("lon", pa.float64()), ("lat", pa.float64()),
    ("acq_date", pa.timestamp("us")), ("t_utc", pa.timestamp("us", "UTC")),
    ("time_known", pa.bool_()), ("sensor", pa.string()), ("satellite", pa.string()),
    ("confidence", pa.float64()), ("frp", pa.float64()), ("brightness", pa.float64()),
    ("daynight", pa.string()), ("version", pa.string()), ("is_nrt", pa.bool_()),
    ("sensor_inferred", pa.bool_()), ("source_file", pa.string()),
    ("source_line", pa.int64()), ("source_sha256", pa.string()),
    ("year", pa.int32()), ("month", pa.int32()),
])
SNAPSHOT_SCHEMA = pa.schema([
    ("snapshot_id", pa.string()), ("source", pa.string()), ("valid_from", pa.timestamp("us")),
    ("party", pa.string()), ("crimea_missing", pa.bool_()),
    ("content_date", pa.timestamp("us")), ("area_km2", pa.float64()),
    ("repaired", pa.bool_()), ("repair_area_km2", pa.float64()),
    ("filled_2014_km2", pa.float64()), ("filled_from", pa.string()),
    ("source_file", pa.string()), ("source_sha256", pa.string()),
    ("geometry", pa.binary()), ("day", pa.string()),
])
QUARANTINE_SCHEMA = pa.schema([
    ("file", pa.string()), ("line", pa.int64()), ("raw", pa.string()), ("reason", pa.string()),
    ("file_sha256", pa.string()), ("txn", pa.string()),
])
FIXED_SCHEMAS = {DETECTIONS: DETECTION_SCHEMA, CONTROL: SNAPSHOT_SCHEMA,
                 QUARANTINE: QUARANTINE_SCHEMA}


def writer_properties() -> Any:
    """ZSTD; no statistics or dictionary for WKB geometry (its min/max would copy a whole
    polygon into every file footer and the log), statistics of other text cut to 64 bytes."""
    import deltalake as dl

    return dl.WriterProperties(
        compression="ZSTD", statistics_truncate_length=64,
        column_properties={"geometry": dl.ColumnProperties(statistics_enabled="NONE",
                                                           dictionary_enabled=False)})


def check_table_name(name: str) -> str:
    """Table names become folder names: lower-case letters, digits and ``_`` only."""
    if not TABLE_NAME.match(name):
        raise ValueError(f"table name {name!r}: expected lower-case letters, digits and _")
    return name


def sql_str(value: str) -> str:
    """A string literal for a Delta predicate (quotes doubled)."""
    return "'" + str(value).replace("'", "''") + "'"


def _arrow_type(t: pa.DataType) -> pa.DataType:
    """The type Delta stores for ``t``."""
    if pa.types.is_null(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_large_binary(t):
        return pa.binary()
    if pa.types.is_dictionary(t):
        return _arrow_type(t.value_type)
    if pa.types.is_timestamp(t):
        return pa.timestamp("us", "UTC" if t.tz else None)
    if pa.types.is_date64(t):
        return pa.date32()
    if pa.types.is_uint8(t):
        return pa.int16()
    if pa.types.is_uint16(t):
        return pa.int32()
    if pa.types.is_uint32(t) or pa.types.is_uint64(t):
        return pa.int64()
    if pa.types.is_float16(t):
        return pa.float32()
    return t


def to_delta_arrow(table: pa.Table) -> tuple[pa.Table, list[str]]:
    """``table`` in types Delta stores, and the names of its uint64 columns (see module)."""
    cols, fields, uint64 = [], [], []
    for f, col in zip(table.schema, table.columns, strict=True):
        t = _arrow_type(f.type)
        if pa.types.is_dictionary(f.type):
            col = col.cast(f.type.value_type)
        if pa.types.is_uint64(f.type):
            uint64.append(f.name)
            col = pc.cast(col, pa.int64(), safe=False)  # same 64 bits
        elif t != col.type:
            col = col.cast(t)
        cols.append(col)
        fields.append(pa.field(f.name, t))
    return pa.Table.from_arrays(cols, schema=pa.schema(fields)), uint64


def frame_to_arrow(frame: pd.DataFrame) -> pa.Table:
    """A (Geo)DataFrame as Arrow, geometry as WKB (EPSG:4326), index dropped."""
    import geopandas as gpd

    if isinstance(frame, gpd.GeoDataFrame):
        geo = frame.geometry
        if geo.crs is not None and geo.crs.to_epsg() != 4326:
            geo = geo.to_crs(4326)
        name = frame.geometry.name
        frame = pd.DataFrame(frame.drop(columns=[name])).assign(
            geometry=geo.to_wkb().to_numpy())
    return pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with exactly ``schema``'s columns and types (missing ones null)."""
    cols = []
    for f in schema:
        if f.name in table.column_names:
            cols.append(table.column(f.name).cast(f.type))
        else:
            cols.append(pa.nulls(len(table), f.type))
    return pa.Table.from_arrays(cols, schema=schema)


def detections_arrow(frame: pd.DataFrame | pa.Table) -> pa.Table:
    """Canonical detections (sources.firms) as the detections table's rows."""
    table = (frame if isinstance(frame, pa.Table)
             else pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False))
    day = pc.cast(table.column("acq_date"), pa.timestamp("us"))
    table = table.append_column("year", pc.cast(pc.year(day), pa.int32()))
    table = table.append_column("month", pc.cast(pc.month(day), pa.int32()))
    return conform(table, DETECTION_SCHEMA)


def describe(properties: dict[str, Any]) -> str:
    """A table's description: the properties above as canonical JSON."""
    import json

    return json.dumps(properties, sort_keys=True, separators=(",", ":"))


def properties_of(description: str | None) -> dict[str, Any]:
    """Undo :func:`describe` (anything else: no properties)."""
    import json

    try:
        out = json.loads(description or "{}")
    except ValueError:
        return {}
    return out if isinstance(out, dict) else {}


def from_delta_arrow(table: pa.Table, properties: dict[str, Any]) -> pa.Table:
    """Undo :func:`to_delta_arrow`: uint64 columns back to uint64."""
    names = [n for n in properties.get(UINT64_PROPERTY) or [] if isinstance(n, str)]
    for n in names:
        if n in table.column_names:
            i = table.column_names.index(n)
            table = table.set_column(i, n, pc.cast(table.column(n), pa.uint64(), safe=False))
    return table


def to_frame(table: pa.Table, drop: list[str] | tuple[str, ...] = (),
             geometry: str | None = None) -> pd.DataFrame:
    """Arrow rows as a DataFrame; ``geometry='wkb'`` decodes the WKB column,
    ``geometry='lonlat'`` builds points from ``lon``/``lat`` (EPSG:4326)."""
    import geopandas as gpd
    import shapely

    keep = [c for c in table.column_names if c not in drop and c != "geometry"]
    frame = table.select(keep).to_pandas()
    if geometry == "wkb" and "geometry" in table.column_names:
        geoms = shapely.from_wkb(table.column("geometry").to_numpy(zero_copy_only=False))
        return gpd.GeoDataFrame(frame, geometry=geoms, crs="EPSG:4326")
    if geometry == "lonlat" and {"lon", "lat"} <= set(frame.columns):
        return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
                                crs="EPSG:4326")
    return frame

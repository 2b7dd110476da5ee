"""Every detection of a period with its war-fire call, for the tools readers use.

`truceline detect ... --detections FILE` writes one row per detection, war or not, so a
reader can check a call against the fire around it, or count what a test removed:
lon, lat, acq_date, t_utc (UTC, empty when the file gave only a date), sensor,
satellite, frp, p_natural, ``war`` (boolean), ``test`` (the test that decided the call,
:data:`truceline.analysis.anomaly.TESTS`), incident_id, and where a control map was in
force side, distance_km, ``moved`` (the ground changed hands within 14 days either
side: :mod:`truceline.geo.moved`), sector and place (empty where none was).

The format follows the file name: ``.parquet`` (GeoParquet points), ``.csv`` (times as
ISO 8601 text ending in ``Z``) or ``.geojson``. The file is written beside its target
and moved into place, so a failed write never leaves half a file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from truceline.errors import InputError

__all__ = ["DETECTION_EXPORT_COLUMNS", "FORMATS", "detection_table", "write_detections"]

#: Columns of the export, in order; the last five come from the control maps.
DETECTION_EXPORT_COLUMNS = (
    "detection_id", "lon", "lat", "acq_date", "t_utc", "sensor", "satellite", "frp",
    "p_natural", "war", "test", "incident_id", "side", "distance_km", "moved", "sector",
    "place",
)

FORMATS = (".parquet", ".csv", ".geojson")


def detection_table(detections: pd.DataFrame) -> pd.DataFrame:
    """The export's columns from classified detections (missing ones empty).

    >>> t = detection_table(pd.DataFrame({"lon": [30.5], "lat": [50.4],
    ...     "acq_date": pd.to_datetime(["2023-01-06"]), "war": [True]}))
    >>> bool(t.loc[0, "war"]), t.loc[0, "acq_date"], t.loc[0, "incident_id"]
    (True, '2023-01-06', None)
    """
    out = pd.DataFrame(index=detections.index)
    for c in DETECTION_EXPORT_COLUMNS:
        if c in detections:
            col = detections[c]
            out[c] = col.astype(object).where(col.notna(), None) if isinstance(
                col.dtype, pd.CategoricalDtype) else col
        else:
            out[c] = None
    out["acq_date"] = pd.to_datetime(out["acq_date"]).dt.strftime("%Y-%m-%d")
    t = pd.to_datetime(out["t_utc"], utc=True) if out["t_utc"].notna().any() else None
    out["t_utc"] = (t.dt.strftime("%Y-%m-%dT%H:%M:%SZ").where(t.notna(), None)
                    if t is not None else None)
    out["war"] = out["war"].fillna(False).astype(bool)
    out["moved"] = out["moved"].fillna(False).astype(bool)
    for c in ("lon", "lat", "frp", "p_natural", "distance_km"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(np.float64)
    return out.reset_index(drop=True)


def check_detections_path(path: str | Path) -> Path:
    """``--detections``: a known suffix in a folder that exists, else InputError; checked
    before any work, so a path that cannot be written stores nothing."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"--detections {path}: unknown format {suffix or '(none)'!r}; "
                         f"name the file with one of {', '.join(FORMATS)}")
    if not path.parent.is_dir():
        raise InputError(f"--detections {path}: folder {path.parent} does not exist")
    return path


def write_detections(detections: pd.DataFrame, path: str | Path) -> Path:
    """Write :func:`detection_table` of ``detections`` to ``path`` (format by suffix)."""
    path = check_detections_path(path)
    suffix = path.suffix.lower()
    table = detection_table(detections)
    fd, tmp = tempfile.mkstemp(suffix=suffix, dir=path.parent, prefix=".detections-")
    os.close(fd)
    try:
        if suffix == ".csv":
            table.to_csv(tmp, index=False)
        else:
            gdf = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(table["lon"],
                                                                      table["lat"]),
                                   crs="EPSG:4326")
            if suffix == ".parquet":
                gdf.to_parquet(tmp, index=False, compression="zstd")
            else:
                os.unlink(tmp)  # the GeoJSON driver will not overwrite a file
                gdf.to_file(tmp, driver="GeoJSON")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path

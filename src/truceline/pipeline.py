"""The stages wired together over a lake: enrich, baseline, detect, assess.

Each function reads what it needs from the lake, calls the pure stage functions
(`geo`, `analysis`) and hands results back; storing them is the caller's choice, so the
same code serves the CLI, the demo, the REST service and the tests.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd

from truceline.errors import InputError, LakeError
from truceline.lake.store import Lake


def _day(value: str | pd.Timestamp | None, name: str) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        return pd.Timestamp(value).normalize()
    except (ValueError, TypeError) as exc:
        raise InputError(f"{name} {value!r}: expected a date YYYY-MM-DD") from exc


def control_snapshots(lake: Lake, source: str | None = None) -> gpd.GeoDataFrame:
    """Control snapshots of one source, or of every source (the latest in force wins)."""
    snaps = lake.read_control(source)
    if source is None:
        # one snapshot per date: on a day two sources share, keep the one ingested last
        snaps = snaps.drop_duplicates("valid_from", keep="last").reset_index(drop=True)
    return snaps


def enrich_detections(lake: Lake, start: str | pd.Timestamp | None = None,
                      end: str | pd.Timestamp | None = None, *,
                      control_source: str | None = None, h3_resolution: int = 7,
                      sectors: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Detections in [start, end] with side, signed distance, band, H3, sector, place."""
    from truceline.geo.enrich import enrich

    s, e = _day(start, "--from"), _day(end, "--to")
    if s is not None and e is not None and e < s:
        raise InputError(f"--to {e.date()} is before --from {s.date()}")
    det = lake.read_detections(s, e)
    if det.empty:
        raise LakeError(f"no detections in {lake.root} between {start or 'the first'} and "
                        f"{end or 'the last'} day; run `truceline ingest firms` first")
    snaps = control_snapshots(lake, control_source)
    return enrich(det, snaps, h3_resolution=h3_resolution, sectors=sectors)


def enrichment_summary(frame: pd.DataFrame) -> dict[str, Any]:
    """Counts by side, band and flag: what a user checks after `truceline enrich`."""
    out: dict[str, Any] = {"rows": int(len(frame))}
    for col in ("side", "band", "flag"):
        if col in frame:
            out[col] = {str(k): int(v) for k, v in
                        frame[col].astype(str).value_counts(dropna=False).items()}
    if "snapshot_id" in frame:
        out["snapshots_used"] = int(frame["snapshot_id"].nunique())
    return out

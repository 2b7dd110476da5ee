"""The detection columns the assessment reads, under one set of names, and when each
detection lies in a window (certainly or possibly, for rows with a date only)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from truceline.analysis.coverage import utc_dates, utc_times
from truceline.errors import InputError

__all__ = ["SIDES_LINE", "clean", "normalise", "timing", "within_km"]

#: The sides of the line of contact (ground held by one party or the other).
SIDES_LINE = ("ua", "ru")


def _col(det: pd.DataFrame, *names: str) -> str | None:
    for n in names:
        if n in det.columns:
            return n
    return None


def normalise(det: pd.DataFrame) -> pd.DataFrame:
    """The columns assess needs, under one set of names; missing optional ones filled."""
    for req in ("lon", "lat", "acq_date", "side"):
        if req not in det.columns:
            raise InputError(f"assess: detections lack column '{req}': expected enriched "
                             "detections (geo.enrich) with lon, lat, acq_date, side, "
                             "dist_km (or distance_km)")
    dist = _col(det, "dist_km", "distance_km")
    if dist is None:
        raise InputError("assess: detections lack 'dist_km' (or 'distance_km'): expected "
                         "the signed distance to the line from geo.enrich")
    out = pd.DataFrame(index=det.index)
    out["lon"] = det["lon"].astype(float)
    out["lat"] = det["lat"].astype(float)
    out["date"] = utc_dates(det)
    out["t"] = utc_times(det)  # NaT where the file gave a date only
    out["side"] = det["side"].astype(object).where(det["side"].notna(), None)
    out["dist_km"] = det[dist].astype(float)
    out["sector"] = det["sector"].astype(object) if "sector" in det else None
    out["p_natural"] = det["p_natural"].astype(float) if "p_natural" in det else np.nan
    war = _col(det, "is_war", "war")
    out["is_war"] = det[war].fillna(False).astype(bool) if war else False
    out["incident_id"] = det["incident_id"].astype(object).where(
        det["incident_id"].notna(), None) if "incident_id" in det else None
    out["detection_id"] = det["detection_id"].astype(str) if "detection_id" in det else \
        pd.Series(np.arange(len(det)).astype(str), index=det.index)
    out["snapshot_id"] = det["snapshot_id"].astype(object) if "snapshot_id" in det else None
    # the ground changed hands within 14 days (geo.moved); unknown counts as not
    out["moved"] = det["moved"].fillna(False).astype(bool) if "moved" in det else False
    # whether the maps reach 14 days either side, so `moved` could be seen (geo.moved);
    # detections enriched before this column count as known (the rule before it)
    out["moved_known"] = det["moved_known"].fillna(True).astype(bool) \
        if "moved_known" in det else True
    # the test that decided a war call (analysis.anomaly), when the detector said
    out["test"] = det["test"].astype(object).where(det["test"].notna(), None) \
        if "test" in det else None
    return out


def within_km(det: pd.DataFrame, km: float | None) -> np.ndarray:
    """Rows of a frame from :func:`normalise` within ``km`` of the line (all when None):
    the contact zone rule V1 and ``held`` look at on its own."""
    if km is None:
        return np.ones(len(det), dtype=bool)
    return np.abs(det["dist_km"].to_numpy(dtype=float)) < km


def timing(det: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp
            ) -> tuple[np.ndarray, np.ndarray]:
    """(certainly inside, possibly inside) the window ``[start, end)``, per detection."""
    t = det["t"]
    timed = t.notna().to_numpy()
    tin = ((t >= start) & (t < end)).to_numpy(dtype=bool)
    day0 = det["date"].dt.tz_localize("UTC")
    day1 = day0 + pd.Timedelta(days=1)
    whole = ((day0 >= start) & (day1 <= end)).to_numpy(dtype=bool)
    overlap = ((day0 < end) & (day1 > start)).to_numpy(dtype=bool)
    certain = np.where(timed, tin, whole)
    possible = np.where(timed, tin, overlap)
    return certain, possible


def clean(v: Any) -> Any:
    """JSON-able: NaN/inf to None, numpy scalars to Python, timestamps to ISO strings."""
    if isinstance(v, dict):
        return {str(k): clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [clean(x) for x in v]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, pd.Timestamp | datetime):
        return None if pd.isna(v) else v.isoformat()
    if v is pd.NaT or (not isinstance(v, str | bool | int) and v is not None and pd.isna(v)):
        return None
    return v



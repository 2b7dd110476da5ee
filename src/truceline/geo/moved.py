"""Ground that changed hands: where the front passed over a detection within days.

Why: near a moving front the burn-season tests excuse improbable fire as farm burning
(September 2022 in Kharkiv oblast: the counteroffensive ran through the harvest burns).
Nobody burns stubble while the front rolls over the field: ground held by one side some
days before a fire and by the other some days after it is at war whatever the season.
A line forced valid over peacetime never moves, so a placebo cannot gain from this.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from truceline.geo import outlines
from truceline.geo.enrich import MAX_STALENESS_DAYS, prepare_snapshot

__all__ = ["MOVED_DAYS", "changed_hands", "maps_reach"]

#: Days before and after a detection at which its ground's holders are compared.
MOVED_DAYS = 14


def changed_hands(detections: pd.DataFrame, snapshots: gpd.GeoDataFrame,
                  days: int = MOVED_DAYS) -> np.ndarray:
    """True where a detection's ground was Ukrainian-held ``days`` before its date and
    Russian-held ``days`` after, or the reverse, by the snapshots in force on those two
    dates. False where either date has no snapshot in force, or only one older than
    :data:`~truceline.geo.enrich.MAX_STALENESS_DAYS` (the maps do not reach that day yet:
    the call may change when they do), and off Ukraine.

    >>> from shapely.geometry import box
    >>> snaps = gpd.GeoDataFrame({"snapshot_id": ["a", "b"],
    ...     "valid_from": pd.to_datetime(["2022-09-01", "2022-09-15"])},
    ...     geometry=[box(36.0, 49.0, 38.5, 50.5), box(37.5, 49.0, 38.5, 50.5)],
    ...     crs="EPSG:4326")
    >>> det = pd.DataFrame({"lon": [37.0, 38.0, 37.0], "lat": [49.7, 49.7, 49.7],
    ...     "acq_date": pd.to_datetime(["2022-09-15", "2022-09-15", "2022-10-20"])})
    >>> changed_hands(det, snaps).tolist()  # taken back; held throughout; maps too old
    [True, False, False]
    """
    n = len(detections)
    if n == 0 or snapshots is None or len(snapshots) == 0:
        return np.zeros(n, dtype=bool)
    lon = detections["lon"].to_numpy(dtype=np.float64)
    lat = detections["lat"].to_numpy(dtype=np.float64)
    x, y = outlines._TO_M.transform(lon, lat)
    day = _days(detections)
    snaps = snapshots.sort_values("valid_from", kind="stable").reset_index(drop=True)
    starts = _starts(snaps)
    before = _holder(x, y, day - np.timedelta64(days, "D"), snaps, starts)
    after = _holder(x, y, day + np.timedelta64(days, "D"), snaps, starts)
    return (before >= 0) & (after >= 0) & (before != after)


def maps_reach(detections: pd.DataFrame, snapshots: gpd.GeoDataFrame | None,
               days: int = MOVED_DAYS) -> np.ndarray:
    """True where a map no older than :data:`~truceline.geo.enrich.MAX_STALENESS_DAYS`
    is in force ``days`` before a detection's date and another ``days`` after it, and the
    maps run on to that day, so :func:`changed_hands` could see the line move under it.

    Why: on a truce's latest days the maps of two weeks later do not exist yet (or a lake
    holds one map, forced valid), and :func:`changed_hands` then says False, meaning
    "not seen to move", not "did not move"; ``held`` must not rest on it.

    >>> from shapely.geometry import box
    >>> snaps = gpd.GeoDataFrame({"valid_from": pd.date_range("2022-09-01", "2022-10-11",
    ...     freq="10D")}, geometry=[box(36, 49, 38, 50)] * 5, crs="EPSG:4326")
    >>> det = pd.DataFrame({"acq_date": pd.to_datetime(["2022-09-10", "2022-09-16",
    ...                                                 "2022-10-01"])})
    >>> maps_reach(det, snaps).tolist()  # too soon after the first; reached; too late
    [False, True, False]
    >>> gap = snaps.iloc[[0, 4]]  # 1 September and 11 October: 30 days without a map
    >>> maps_reach(det, gap).tolist()  # 14 days after 16 September: a stale map
    [False, False, False]
    """
    n = len(detections)
    if n == 0 or snapshots is None or len(snapshots) == 0:
        return np.zeros(n, dtype=bool)
    day = _days(detections)
    starts = np.sort(_starts(snapshots))
    reach = np.timedelta64(days, "D")
    return (_fresh_map(day - reach, starts) >= 0) & (_fresh_map(day + reach, starts) >= 0) \
        & (starts[-1] >= day + reach)


def _days(detections: pd.DataFrame) -> np.ndarray:
    """Each detection's UTC day (NaT where it has none), as datetime64[D]."""
    dates = pd.to_datetime(detections["acq_date"])
    if getattr(dates.dtype, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    return dates.dt.normalize().to_numpy().astype("datetime64[D]")


def _starts(snapshots: pd.DataFrame) -> np.ndarray:
    return pd.to_datetime(snapshots["valid_from"]).to_numpy().astype("datetime64[D]")


def _fresh_map(when: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Index of the map in force ``when`` (``starts`` sorted), or -1 where none is, or
    only one older than :data:`~truceline.geo.enrich.MAX_STALENESS_DAYS`, or no date."""
    which = np.searchsorted(starts, when, side="right") - 1
    known = (which >= 0) & ~np.isnat(when)
    stale = np.zeros(len(which), dtype=bool)
    stale[known] = (when[known] - starts[which[known]]) > np.timedelta64(
        MAX_STALENESS_DAYS, "D")
    return np.where(known & ~stale, which, -1)


def _holder(x: np.ndarray, y: np.ndarray, when: np.ndarray, snaps: gpd.GeoDataFrame,
            starts: np.ndarray) -> np.ndarray:
    """1 Russian-held, 0 Ukrainian-held, -1 unknown, by the snapshot in force ``when``;
    one vectorised query per snapshot (never per detection)."""
    which = _fresh_map(when, starts)  # a detection without a date: unknown
    out = np.full(len(x), -1, dtype=np.int8)
    todo = np.flatnonzero(which >= 0)
    if len(todo) == 0:
        return out
    todo = todo[np.argsort(which[todo], kind="stable")]
    cuts = np.flatnonzero(np.diff(which[todo])) + 1
    crimea = snaps["crimea_missing"] if "crimea_missing" in snaps else None
    for rows in np.split(todo, cuts):
        k = int(which[rows[0]])
        prep = prepare_snapshot(str(snaps["snapshot_id"].iat[k]), snaps.geometry.iat[k],
                                crimea_missing=bool(crimea.iat[k]) if crimea is not None
                                else False)
        held = shapely.contains_xy(prep.areas.held, x[rows], y[rows])
        ua = shapely.contains_xy(prep.areas.ua, x[rows], y[rows])
        out[rows] = np.where(held, 1, np.where(ua, 0, -1))
    return out

"""Daily activity near the line and in the control band, as a table and a figure.

A verdict compresses a window into one word; the timeline shows what it rests on: fire
per day in each distance band from the line and in the control band, with the
agreement windows shaded, so a reader sees whether a drop is a drop near the line or
a drop everywhere (cloud, season, an outage).

:func:`daily_series` is pure and :func:`write_csv` the small writer at the edge; the
figure is drawn by :func:`truceline.publish.maps.timeline_chart`, the same one the
reports show (``truceline timeline`` calls both).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from truceline.analysis.coverage import naive_day, utc_dates
from truceline.errors import InputError
from truceline.sources.agreements import DEFAULT_CONTROL_BAND_KM

__all__ = ["FRONT_BANDS_KM", "daily_series", "to_wide", "write_csv"]

#: Distance bands (km, either side of the line) shown separately; same edges as
#: ``geo.enrich`` so the two agree.
FRONT_BANDS_KM: tuple[tuple[float, float], ...] = ((0, 5), (5, 15), (15, 30), (30, 60))
_COLUMNS = ["date", "band", "n_detections", "n_war"]

def _label(lo: float, hi: float) -> str:
    return f"{lo:g}-{hi:g} km"


def daily_series(
    detections: pd.DataFrame,
    *,
    start: Any,
    end: Any,
    bands_km: Sequence[tuple[float, float]] = FRONT_BANDS_KM,
    control_band_km: tuple[float, float] = DEFAULT_CONTROL_BAND_KM,
    sector: str | None = None,
) -> pd.DataFrame:
    """Detections per UTC day and band, ``start`` to ``end`` inclusive, zero-filled.

    Returns a long table: ``date``, ``band`` (``'0-5 km'`` ... and ``'control 60-150 km'``),
    ``n_detections``, ``n_war`` (war-flagged, when the detections carry ``is_war`` or
    ``war``). Only ground held by a party to the line (side ``ua`` or ``ru``) counts.
    ``sector`` keeps one named stretch of the line (case-insensitive); the control band
    then keeps the same sector name (its nearest stretch of the line).

    Example
    -------
    >>> d = pd.DataFrame({"acq_date": ["2025-08-21", "2025-08-21", "2025-08-22"],
    ...                   "dist_km": [3.0, -80.0, 12.0], "side": ["ua", "ru", "ru"]})
    >>> s = daily_series(d, start="2025-08-21", end="2025-08-22")
    >>> to_wide(s)["0-5 km"].tolist(), to_wide(s)["control 60-150 km"].tolist()
    ([1, 0], [1, 0])
    """
    dist_col = next((c for c in ("dist_km", "distance_km") if c in detections), None)
    if dist_col is None or "acq_date" not in detections or "side" not in detections:
        raise InputError("daily_series: detections need acq_date, side and dist_km (or "
                         f"distance_km); got {list(detections.columns)}")
    d0, d1 = naive_day(start), naive_day(end)
    if d1 < d0:
        raise InputError(f"daily_series: end {d1.date()} is before start {d0.date()}")
    det = detections
    if sector is not None:
        if "sector" not in det:
            raise InputError(f"daily_series: sector {sector!r} asked but detections have no "
                             "'sector' column")
        det = det[det["sector"].astype("string").str.casefold() == sector.casefold()]
    date = utc_dates(det)
    dist = np.abs(det[dist_col].to_numpy(dtype=float))
    line = det["side"].astype(object).isin(["ua", "ru"]).to_numpy()
    in_range = ((date >= d0) & (date <= d1)).to_numpy()
    war_col = next((c for c in ("is_war", "war") if c in det), None)
    war = det[war_col].fillna(False).to_numpy(dtype=bool) if war_col else \
        np.zeros(len(det), dtype=bool)
    days = pd.date_range(d0, d1, freq="D")
    parts = []
    bands = [(_label(lo, hi), lo, hi) for lo, hi in bands_km]
    bands.append(("control " + _label(*control_band_km), *control_band_km))
    for name, lo, hi in bands:
        with np.errstate(invalid="ignore"):
            m = line & in_range & (dist >= lo) & (dist < hi)
        n = pd.Series(1, index=date[m]).groupby(level=0).sum().reindex(days, fill_value=0)
        w = pd.Series(war[m].astype(int), index=date[m]).groupby(level=0).sum() \
            .reindex(days, fill_value=0)
        parts.append(pd.DataFrame({"date": days, "band": name, "n_detections": n.to_numpy(),
                                   "n_war": w.to_numpy()}))
    out = pd.concat(parts, ignore_index=True)
    out["band"] = pd.Categorical(out["band"], categories=[b[0] for b in bands], ordered=True)
    return out[_COLUMNS]


def to_wide(series: pd.DataFrame, value: str = "n_detections") -> pd.DataFrame:
    """One row per day, one column per band (for spreadsheets and plotting)."""
    return series.pivot(index="date", columns="band", values=value).rename_axis(
        columns=None)


def write_csv(series: pd.DataFrame, path: str | Path) -> Path:
    """Write the long table as CSV (ISO dates); returns the path."""
    p = Path(path)
    out = series.copy()
    out["date"] = pd.to_datetime(out["date"]).dt.strftime("%Y-%m-%d")
    out.to_csv(p, index=False)
    return p



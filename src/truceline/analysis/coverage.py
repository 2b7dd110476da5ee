"""Satellite coverage of an agreement window: could the satellites have seen fire at all?

A quiet window means nothing if the satellites delivered no data or looked at cloud. So
before any verdict of ``held`` we measure coverage from two things:

- **the detections themselves**: a satellite pass "delivered data" when at least one
  detection carries its satellite and time. Passes are counted per UTC day as distinct
  (satellite, date, overpass) where detections of one satellite less than
  :data:`PASS_GAP_MINUTES` apart belong to the same overpass (one swath crosses Ukraine
  in a few minutes; consecutive orbits are ~100 minutes apart). Rows with a date but no
  time count one pass per (satellite or sensor, day): a lower bound, said so in the
  report. A day with no detection at all in the frame is named. Pass the whole theatre's
  detections here, not only the front band: a pass over the rear proves the satellite
  was working.
- **cloud cover per oblast** from the Open-Meteo daily table in the user's data folder
  (``context/weather/ukr_weather_data_YYYY.csv``, 2015-2024). Outside those years the
  report says the cloud is unknown and why; it never guesses.

:func:`assess_coverage` turns both into a :class:`Coverage` with ``adequate`` and the
reasons; the thresholds are module constants so a report can quote them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from truceline.errors import InputError

__all__ = [
    "MAX_CLOUD_PCT",
    "MAX_EMPTY_DAY_SHARE",
    "MIN_PASSES_PER_DAY",
    "PASS_GAP_MINUTES",
    "WEATHER_YEARS",
    "CloudCover",
    "Coverage",
    "assess_coverage",
    "count_passes",
    "naive_day",
    "oblast_of",
    "read_cloud_cover",
    "to_utc",
    "utc_dates",
    "utc_times",
    "window_days",
]

#: Detections of one satellite closer in time than this belong to one overpass.
PASS_GAP_MINUTES = 40.0
#: Coverage is poor when the mean number of passes with data per window day is below this.
MIN_PASSES_PER_DAY = 2.0
#: ... or when more than this share of window days have no detection at all ...
MAX_EMPTY_DAY_SHARE = 1.0 / 3.0
#: ... or when mean cloud cover over the scope's oblasts during the window exceeds this.
MAX_CLOUD_PCT = 70.0
#: Years the bundled-by-the-user weather table covers.
WEATHER_YEARS = (2015, 2024)

_CLOUD_COL = "CLOUD_COVER (%)"


def window_days(start_utc: datetime | pd.Timestamp, end_utc: datetime | pd.Timestamp
                ) -> pd.DatetimeIndex:
    """UTC dates that overlap the half-open window ``[start, end)`` (outer rounding).

    Why outer: a date-only detection on a partly covered day may belong to the window, so
    coverage and day-resolution rates look at every such day.

    Example
    -------
    >>> window_days(pd.Timestamp("2023-01-06 09:00", tz="UTC"),
    ...             pd.Timestamp("2023-01-07 21:00", tz="UTC")).strftime("%m-%d").tolist()
    ['01-06', '01-07']
    """
    s, e = to_utc(start_utc), to_utc(end_utc)
    first = s.normalize()
    last = (e - pd.Timedelta(1, "ns")).normalize()
    return pd.date_range(first.tz_localize(None), last.tz_localize(None), freq="D")


def to_utc(value: Any) -> pd.Timestamp:
    """A date or instant as a UTC timestamp (a naive one is taken to be UTC already)."""
    t = pd.Timestamp(value)
    return t.tz_convert("UTC") if t.tzinfo else t.tz_localize("UTC")


def utc_times(det: pd.DataFrame) -> pd.Series:
    """Detection times in UTC; NaT where the file gave a date only."""
    if "t_utc" not in det:
        return pd.Series(pd.NaT, index=det.index, dtype="datetime64[ns, UTC]")
    t = pd.to_datetime(det["t_utc"], utc=True)
    if "time_known" in det:  # the lake's flag for rows that had a date only
        t = t.where(det["time_known"].fillna(False).astype(bool))
    return t


def utc_dates(det: pd.DataFrame) -> pd.Series:
    """UTC calendar dates (naive, midnight) of ``acq_date``."""
    d = pd.to_datetime(det["acq_date"])
    if d.dt.tz is not None:
        d = d.dt.tz_convert("UTC").dt.tz_localize(None)
    return d.dt.normalize()


def naive_day(value: Any) -> pd.Timestamp:
    """A date or instant as a naive UTC midnight."""
    t = pd.Timestamp(value)
    if t.tzinfo is not None:
        t = t.tz_convert("UTC").tz_localize(None)
    return t.normalize()


def count_passes(detections: pd.DataFrame, gap_minutes: float = PASS_GAP_MINUTES
                 ) -> pd.DataFrame:
    """Passes that delivered data, per UTC day: columns date, n_passes, n_detections,
    timed (bool: pass count from times; False: a per-satellite-day lower bound).

    Example
    -------
    >>> d = pd.DataFrame({"acq_date": ["2025-08-11"] * 3, "satellite": ["N20"] * 3,
    ...     "t_utc": pd.to_datetime(["2025-08-11 00:45", "2025-08-11 00:47",
    ...                              "2025-08-11 11:10"], utc=True)})
    >>> count_passes(d)[["n_passes", "n_detections"]].values.tolist()
    [[2, 3]]
    """
    if "acq_date" not in detections:
        raise InputError("detections: column 'acq_date' is missing: expected a UTC date "
                         "per detection")
    if detections.empty:
        return pd.DataFrame({"date": pd.Series(dtype="datetime64[ns]"),
                             "n_passes": pd.Series(dtype=int),
                             "n_detections": pd.Series(dtype=int),
                             "timed": pd.Series(dtype=bool)})
    sat = _satellite(detections)
    t = utc_times(detections)
    date = utc_dates(detections)
    timed = t.notna().to_numpy()
    # Overpass ids for timed rows: sort per satellite, new pass after a gap.
    pass_id = np.full(len(detections), -1, dtype=np.int64)
    if timed.any():
        tt = pd.DataFrame({"sat": sat[timed], "t": t[timed].to_numpy()},
                          index=np.flatnonzero(timed)).sort_values(["sat", "t"])
        gap = tt["t"].diff() > pd.Timedelta(minutes=gap_minutes)
        new = gap.to_numpy() | (tt["sat"].to_numpy() != np.roll(tt["sat"].to_numpy(), 1))
        new[0] = True
        pass_id[tt.index.to_numpy()] = np.cumsum(new)
    frame = pd.DataFrame({"date": date.to_numpy(), "sat": sat, "timed": timed,
                          "pass_id": pass_id})
    timed_passes = (frame[frame["timed"]].groupby("date")["pass_id"].nunique())
    # Date-only rows: one pass per (satellite, day) not already seen with a time.
    untimed = frame[~frame["timed"]].drop_duplicates(["date", "sat"])
    if len(untimed):
        seen = pd.MultiIndex.from_frame(frame.loc[frame["timed"], ["date", "sat"]])
        untimed = untimed[~pd.MultiIndex.from_frame(untimed[["date", "sat"]]).isin(seen)]
    untimed_passes = untimed.groupby("date").size()
    out = frame.groupby("date").agg(n_detections=("sat", "size"),
                                    timed=("timed", "all")).reset_index()
    out["n_passes"] = (out["date"].map(timed_passes).fillna(0)
                       + out["date"].map(untimed_passes).fillna(0)).astype(int)
    return out[["date", "n_passes", "n_detections", "timed"]]


def _satellite(det: pd.DataFrame) -> np.ndarray:
    """Satellite name, else sensor, else 'unknown' (a pass needs some platform key)."""
    n = len(det)
    sat = pd.Series(["unknown"] * n, index=det.index, dtype=object)
    if "sensor" in det:
        sen = det["sensor"].astype(object)
        sat = sat.where(sen.isna(), sen.astype(str))
    if "satellite" in det:
        s = det["satellite"].astype(object)
        ok = s.notna() & (s.astype(str).str.lower() != "unknown") & (s.astype(str) != "")
        sat = sat.where(~ok, s.astype(str))
    out: np.ndarray = sat.to_numpy(dtype=object)
    return out


# --------------------------------------------------------------------------- cloud


@dataclass(frozen=True)
class CloudCover:
    """Daily cloud cover per oblast (or why it is unknown).

    ``status``: ``ok``; ``partial`` (some dates outside the table's years);
    ``out_of_range`` (no date within them); ``missing`` (no folder or files).
    """

    status: str
    message: str
    table: pd.DataFrame = field(repr=False)  # oblast_id, oblast, date, cloud_pct

    def mean_by_oblast(self) -> pd.DataFrame:
        """Mean cloud per oblast over the dates read (oblast_id, oblast, cloud_pct, n_days)."""
        if self.table.empty:
            return pd.DataFrame(columns=["oblast_id", "oblast", "cloud_pct", "n_days"])
        return (self.table.groupby(["oblast_id", "oblast"], dropna=False)["cloud_pct"]
                .agg(cloud_pct="mean", n_days="count").reset_index())


def _weather_folder(data_dir: str | Path) -> Path:
    """Accept the data root, its ``context`` folder or the ``weather`` folder itself."""
    p = Path(data_dir)
    for cand in (p, p / "weather", p / "context" / "weather"):
        if any(cand.glob("ukr_weather_data_*.csv")):
            return cand
    return p


def _oblast_names(weather_dir: Path) -> dict[str, str]:
    for cand in (weather_dir.parent / "oblasts" / "ukr_oblasts_ids.csv",
                 weather_dir / "ukr_oblasts_ids.csv"):
        if cand.is_file():
            names = pd.read_csv(cand, dtype=str)
            col = "SUBDIVISION_NAME_EN" if "SUBDIVISION_NAME_EN" in names else "NAME_EN"
            return dict(zip(names["OBLAST_ID"], names[col], strict=True))
    return {}


def read_cloud_cover(data_dir: str | Path, start: Any, end: Any,
                     oblasts: Iterable[str] | None = None) -> CloudCover:
    """Daily cloud cover per oblast for the UTC dates ``start`` to ``end`` (inclusive).

    ``data_dir`` is the user's data folder (its root, ``context/`` or ``context/weather/``):
    weather is data the user supplies, not package data. ``oblasts``: ids such as
    ``UA23`` (default: all). Never raises for dates out of range: the returned status and
    message say which dates the table does not cover.
    """
    d0 = naive_day(start)
    d1 = naive_day(end)
    if d1 < d0:
        raise InputError(f"read_cloud_cover: end {d1.date()} is before start {d0.date()}")
    empty = pd.DataFrame({"oblast_id": pd.Series(dtype=object),
                          "oblast": pd.Series(dtype=object),
                          "date": pd.Series(dtype="datetime64[ns]"),
                          "cloud_pct": pd.Series(dtype=float)})
    folder = _weather_folder(data_dir)
    if not folder.is_dir():
        return CloudCover("missing", f"cloud cover unknown: weather folder {folder} not found",
                          empty)
    lo, hi = WEATHER_YEARS
    years = range(d0.year, d1.year + 1)
    frames = []
    absent: list[int] = []
    for y in years:
        f = folder / f"ukr_weather_data_{y}.csv"
        if not f.is_file():
            absent.append(y)
            continue
        w = pd.read_csv(f, usecols=lambda c: c in ("OBLAST_ID", "ACQ_DATE", "date",
                                                    _CLOUD_COL))
        date_col = "ACQ_DATE" if "ACQ_DATE" in w else "date"
        if _CLOUD_COL not in w or date_col not in w or "OBLAST_ID" not in w:
            raise InputError(f"{f}: expected columns OBLAST_ID, ACQ_DATE (or date) and "
                             f"'{_CLOUD_COL}'; got {list(w.columns)}")
        w = w.rename(columns={date_col: "date", _CLOUD_COL: "cloud_pct",
                              "OBLAST_ID": "oblast_id"})
        w["date"] = pd.to_datetime(w["date"])
        frames.append(w[(w["date"] >= d0) & (w["date"] <= d1)])
    table = pd.concat(frames, ignore_index=True) if frames else empty.copy()
    if oblasts is not None:
        table = table[table["oblast_id"].isin(list(oblasts))]
    names = _oblast_names(folder)
    table = table.assign(oblast=table["oblast_id"].map(names))
    table = table[["oblast_id", "oblast", "date", "cloud_pct"]].reset_index(drop=True)

    wanted = pd.date_range(d0, d1, freq="D")
    have = set(table["date"].unique()) if not table.empty else set()
    missing_days = [d for d in wanted if d not in have]
    span = f"{d0.date()} to {d1.date()}"
    if not missing_days:
        return CloudCover("ok", f"cloud cover from {folder} for {span}", table)
    if len(missing_days) == len(wanted):
        why = (f"the weather table covers {lo}-{hi}" if (d1.year < lo or d0.year > hi)
               else f"no weather rows for these dates (files absent for years {absent})"
               if absent else "no weather rows for these dates")
        return CloudCover("out_of_range", f"cloud cover unknown for {span}: {why}", table)
    return CloudCover("partial", f"cloud cover known for {len(wanted) - len(missing_days)} of "
                                 f"{len(wanted)} days of {span}; missing: "
                                 + ", ".join(str(d.date()) for d in missing_days[:10])
                                 + (" ..." if len(missing_days) > 10 else ""), table)


def oblast_of(lon: Any, lat: Any, data_dir: str | Path, max_deg: float = 0.15) -> np.ndarray:
    """Oblast id of each point from the 0.1 degree grid (``context/oblasts``); None when
    no grid point lies within ``max_deg`` (outside Ukraine)."""
    folder = _weather_folder(data_dir).parent / "oblasts"
    grid_file = folder / "ukr_oblasts_10km.csv"
    if not grid_file.is_file():
        raise InputError(f"{grid_file}: oblast grid not found: expected the data folder's "
                         "context/oblasts/ukr_oblasts_10km.csv")
    g = pd.read_csv(grid_file)
    tree = cKDTree(np.c_[g["LONGITUDE"].to_numpy(float), g["LATITUDE"].to_numpy(float)])
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    out = np.full(x.shape, None, dtype=object)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.any():
        dist, j = tree.query(np.c_[x[ok], y[ok]], distance_upper_bound=max_deg)
        hit = np.isfinite(dist)
        ids = g["OBLAST_ID"].to_numpy(dtype=object)
        vals = np.full(ok.sum(), None, dtype=object)
        vals[hit] = ids[j[hit]]
        out[ok] = vals
    return out


# --------------------------------------------------------------------------- coverage


@dataclass(frozen=True)
class Coverage:
    """What the satellites delivered during a window, and whether that is enough."""

    start_utc: pd.Timestamp
    end_utc: pd.Timestamp
    days: pd.DataFrame = field(repr=False)  # date, n_passes, n_detections, timed
    days_without_data: tuple[str, ...]
    mean_passes_per_day: float
    passes_timed: bool
    cloud: CloudCover | None
    mean_cloud_pct: float | None
    adequate: bool
    reasons: tuple[str, ...]
    thresholds: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary for reports."""
        cloud_rows: list[dict[str, Any]] = []
        if self.cloud is not None:
            for r in self.cloud.mean_by_oblast().itertuples(index=False):
                cloud_rows.append({"oblast_id": r.oblast_id,
                                   "oblast": None if pd.isna(r.oblast) else r.oblast,
                                   "cloud_pct": round(float(r.cloud_pct), 1),
                                   "n_days": int(r.n_days)})
        return {
            "start_utc": self.start_utc.isoformat(),
            "end_utc": self.end_utc.isoformat(),
            "days": [{"date": str(pd.Timestamp(r.date).date()), "n_passes": int(r.n_passes),
                      "n_detections": int(r.n_detections), "timed": bool(r.timed)}
                     for r in self.days.itertuples(index=False)],
            "days_without_data": list(self.days_without_data),
            "mean_passes_per_day": round(self.mean_passes_per_day, 3),
            "passes_timed": self.passes_timed,
            "cloud_status": None if self.cloud is None else self.cloud.status,
            "cloud_message": None if self.cloud is None else self.cloud.message,
            "cloud_by_oblast": cloud_rows,
            "mean_cloud_pct": None if self.mean_cloud_pct is None
            else round(self.mean_cloud_pct, 1),
            "adequate": self.adequate,
            "reasons": list(self.reasons),
            "thresholds": dict(self.thresholds),
        }


def assess_coverage(
    detections: pd.DataFrame,
    start_utc: Any,
    end_utc: Any,
    *,
    weather_dir: str | Path | None = None,
    oblasts: Sequence[str] | None = None,
    min_passes_per_day: float = MIN_PASSES_PER_DAY,
    max_empty_day_share: float = MAX_EMPTY_DAY_SHARE,
    max_cloud_pct: float = MAX_CLOUD_PCT,
) -> Coverage:
    """Coverage of the window ``[start_utc, end_utc)`` from the detections (whole theatre)
    and, with ``weather_dir``, cloud over ``oblasts`` (default: the oblasts where the
    detections given lie; pass the scope's oblasts when the window has none).

    Poor coverage (``adequate`` False) when any of: mean passes with data per window day
    < ``min_passes_per_day``; share of window days with no detection >
    ``max_empty_day_share``; mean cloud over the oblasts > ``max_cloud_pct``. Unknown
    cloud does not make coverage poor by itself, but the reasons say it is unknown.
    """
    s, e = to_utc(start_utc), to_utc(end_utc)
    if e <= s:
        raise InputError(f"coverage window: end {e} is not after start {s}")
    days = window_days(s, e)
    if len(detections):
        date = utc_dates(detections)
        inside = date.isin(days).to_numpy()
        per_day = count_passes(detections[inside])
    else:
        per_day = count_passes(detections)
    per_day = (pd.DataFrame({"date": days}).merge(per_day, on="date", how="left")
               .fillna({"n_passes": 0, "n_detections": 0, "timed": True}))
    per_day["n_passes"] = per_day["n_passes"].astype(int)
    per_day["n_detections"] = per_day["n_detections"].astype(int)
    per_day["timed"] = per_day["timed"].astype(bool)
    empty = tuple(str(d.date()) for d in per_day.loc[per_day["n_detections"] == 0, "date"])
    mean_passes = float(per_day["n_passes"].mean()) if len(per_day) else 0.0
    timed = bool(per_day.loc[per_day["n_detections"] > 0, "timed"].all()) \
        if (per_day["n_detections"] > 0).any() else True
    reasons: list[str] = []
    ok = True
    if mean_passes < min_passes_per_day:
        ok = False
        reasons.append(f"poor coverage: {mean_passes:.2f} satellite passes with data per "
                       f"window day (minimum {min_passes_per_day:g})")
    share = len(empty) / max(len(per_day), 1)
    if share > max_empty_day_share:
        ok = False
        reasons.append(f"poor coverage: {len(empty)} of {len(per_day)} window days without "
                       f"any detection ({', '.join(empty)}; maximum share "
                       f"{max_empty_day_share:.2f})")
    if not timed:
        reasons.append("some days have dates without times: their pass count is a lower "
                       "bound (one per satellite or sensor and day)")

    cloud = None
    mean_cloud = None
    if weather_dir is not None:
        obl = list(oblasts) if oblasts is not None else None
        if obl is None and len(detections):
            found = oblast_of(detections["lon"], detections["lat"], weather_dir)
            obl = sorted({o for o in found if o is not None})
        cloud = read_cloud_cover(weather_dir, days[0], days[-1], obl)
        if not cloud.table.empty:
            mean_cloud = float(cloud.table["cloud_pct"].mean())
            if mean_cloud > max_cloud_pct:
                ok = False
                reasons.append(f"poor coverage: mean cloud cover {mean_cloud:.0f}% over "
                               f"{cloud.table['oblast_id'].nunique()} oblasts in the window "
                               f"(maximum {max_cloud_pct:g}%)")
        if cloud.status != "ok":
            reasons.append(cloud.message)
    else:
        reasons.append("cloud cover not checked (no weather folder given)")
    if ok:
        reasons.insert(0, f"adequate coverage: {mean_passes:.2f} passes per window day, "
                          f"{len(empty)} of {len(per_day)} days without data"
                       + (f", mean cloud {mean_cloud:.0f}%" if mean_cloud is not None else ""))
    return Coverage(
        start_utc=s, end_utc=e, days=per_day, days_without_data=empty,
        mean_passes_per_day=mean_passes, passes_timed=timed, cloud=cloud,
        mean_cloud_pct=mean_cloud, adequate=ok, reasons=tuple(reasons),
        thresholds={"min_passes_per_day": float(min_passes_per_day),
                    "max_empty_day_share": float(max_empty_day_share),
                    "max_cloud_pct": float(max_cloud_pct),
                    "pass_gap_minutes": float(PASS_GAP_MINUTES)},
    )

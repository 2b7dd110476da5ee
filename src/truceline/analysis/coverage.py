"""Satellite coverage of an agreement window: could the satellites have seen fire at all?

A quiet window means nothing if the satellites delivered no data or looked at cloud.
:func:`assess_coverage` measures it from the sky (``method="sky"``, the default; details
in :mod:`truceline.analysis.sky`):

- **passes** per platform and UTC day from the *whole theatre's* detections of that
  platform (with times: distinct overpasses, detections of one satellite less than
  :data:`PASS_GAP_MINUTES` apart being one; with dates only: the orbit's usual passes
  a day over Ukraine, credited when the platform saw fire anywhere that day);
- **feed gaps**: a platform-day whose theatre-wide detections fall far below what its
  neighbouring days and the cloud predict is missing data, not calm: its passes do
  not count;
- **cloud**: the finest daily source that covers each day (Open-Meteo per oblast to
  October 2024, The Economist's daily share of eastern Ukraine 2022-2026);
- a day's coverage is its passes x clear share; a window's, its clear-sky passes
  against the same calendar window in a typical year on the same cloud source.

The first method (``method="detections"``: passes "with data" and days with any
detection, mean cloud per oblast) is kept to compare with. Thresholds are module
constants so a report can quote them. A window whose cloud is unknown is judged on
passes alone and is never ``held`` (``Coverage.held_allowed``).
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

from truceline.config import portable_path
from truceline.errors import InputError

__all__ = [
    "GOOD_TYPICAL_RATIO",
    "MAX_CLOUD_PCT",
    "MAX_EMPTY_DAY_SHARE",
    "METHODS",
    "MIN_CLEAR_PASSES_PER_DAY",
    "MIN_COUNTING_SHARE",
    "MIN_PASSES_NO_CLOUD",
    "MIN_PASSES_PER_DAY",
    "MIN_TYPICAL_RATIO",
    "PASS_GAP_MINUTES",
    "WEATHER_YEARS",
    "CloudCover",
    "Coverage",
    "assess_coverage",
    "count_passes",
    "naive_day",
    "oblast_of",
    "read_cloud_cover",
    "read_weather_file",
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
    from truceline.analysis.sky import overpass_ids, platform_of

    sat = platform_of(detections)
    t = utc_times(detections)
    date = utc_dates(detections)
    timed = t.notna().to_numpy()
    frame = pd.DataFrame({"date": date.to_numpy(), "sat": sat, "timed": timed,
                          "pass_id": overpass_ids(sat, t, gap_minutes)})
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


def read_weather_file(path: str | Path) -> pd.DataFrame:
    """One yearly weather table's cloud (oblast_id, date, cloud_pct 0-100 as written,
    empty cells NaN), for :func:`read_cloud_cover` and :mod:`truceline.analysis.sky`:
    :func:`truceline.sources.context.read_weather_file` reads it."""
    from truceline.sources.context import read_weather_file as read

    return read(path, [_CLOUD_COL])


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
        return CloudCover("missing", "cloud cover unknown: weather folder "
                          f"{portable_path(folder)} not found", empty)
    lo, hi = WEATHER_YEARS
    years = range(d0.year, d1.year + 1)
    frames = []
    absent: list[int] = []
    for y in years:
        f = folder / f"ukr_weather_data_{y}.csv"
        if not f.is_file():
            absent.append(y)
            continue
        w = read_weather_file(f)
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
        return CloudCover("ok", f"cloud cover from {portable_path(folder)} for {span}", table)
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

#: Sky method: a day counts when its passes x clear share reach this (half a clear pass) ...
MIN_CLEAR_PASSES_PER_DAY = 0.5
#: ... or, with no cloud data for the day, when it had this many passes (passes alone).
MIN_PASSES_NO_CLOUD = 2.0
#: A window is adequately covered when at least this share of its days count ...
MIN_COUNTING_SHARE = 2.0 / 3.0
#: ... and its clear-sky passes reach this share of the same window in a typical year.
MIN_TYPICAL_RATIO = 0.5
#: Coverage class ``good`` from this share of a typical year (``fair`` below it).
GOOD_TYPICAL_RATIO = 0.8
METHODS = ("sky", "detections")


@dataclass(frozen=True)
class Coverage:
    """What the satellites could see during a window, and whether that is enough.

    ``method`` ``sky`` (default): passes from the theatre's detections times the clear
    share of the sky (:mod:`truceline.analysis.sky`); ``detections``: the first method,
    passes with data and days with any detection (kept to compare). ``held_allowed`` is
    False when coverage is poor or when the cloud was unknown on some window day: a
    window judged on passes alone is never ``held``.
    """

    start_utc: pd.Timestamp
    end_utc: pd.Timestamp
    days: pd.DataFrame = field(repr=False)
    days_without_data: tuple[str, ...]
    mean_passes_per_day: float
    passes_timed: bool
    cloud: CloudCover | None
    mean_cloud_pct: float | None
    adequate: bool
    reasons: tuple[str, ...]
    thresholds: dict[str, float]
    method: str = "sky"
    cloud_known: bool = False
    held_allowed: bool = False
    clear_passes: float | None = None
    typical_clear_passes: float | None = None
    typical_years: tuple[int, ...] = ()
    ratio_to_typical: float | None = None
    coverage_class: str = "poor"
    days_counting: int = 0
    feed_gaps: tuple[str, ...] = ()
    sources: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary for reports."""
        cloud_rows: list[dict[str, Any]] = []
        if self.cloud is not None:
            for r in self.cloud.mean_by_oblast().itertuples(index=False):
                cloud_rows.append({"oblast_id": r.oblast_id,
                                   "oblast": None if pd.isna(r.oblast) else r.oblast,
                                   "cloud_pct": round(float(r.cloud_pct), 1),
                                   "n_days": int(r.n_days)})
        days = []
        for r in self.days.to_dict("records"):
            row = {"date": str(pd.Timestamp(r["date"]).date()),
                   "n_passes": _num(r.get("n_passes")),
                   "n_detections": int(r.get("n_detections", 0)),
                   "timed": bool(r.get("timed", True))}
            for k in ("cloud", "cloud_source", "clear_passes", "feed_gap", "counts"):
                if k in r:
                    row[k] = _num(r[k]) if k in ("cloud", "clear_passes") else (
                        None if r[k] is None or (isinstance(r[k], float) and pd.isna(r[k]))
                        else r[k] if k == "cloud_source" else bool(r[k]))
            days.append(row)
        return {
            "method": self.method,
            "start_utc": self.start_utc.isoformat(),
            "end_utc": self.end_utc.isoformat(),
            "days": days,
            "days_without_data": list(self.days_without_data),
            "mean_passes_per_day": round(self.mean_passes_per_day, 3),
            "passes_timed": self.passes_timed,
            "cloud_status": None if self.cloud is None else self.cloud.status,
            "cloud_message": None if self.cloud is None else self.cloud.message,
            "cloud_by_oblast": cloud_rows,
            "mean_cloud_pct": None if self.mean_cloud_pct is None
            else round(self.mean_cloud_pct, 1),
            "cloud_known": self.cloud_known,
            "clear_passes": _num(self.clear_passes),
            "typical_clear_passes": _num(self.typical_clear_passes),
            "typical_years": list(self.typical_years),
            "ratio_to_typical": _num(self.ratio_to_typical),
            "coverage_class": self.coverage_class,
            "days_counting": self.days_counting,
            "feed_gaps": list(self.feed_gaps),
            "sources": dict(self.sources),
            "adequate": self.adequate,
            "held_allowed": self.held_allowed,
            "reasons": list(self.reasons),
            "thresholds": dict(self.thresholds),
        }


def _num(v: Any) -> float | None:
    if v is None:
        return None
    f = float(v)
    return round(f, 3) if np.isfinite(f) else None


def assess_coverage(
    detections: pd.DataFrame,
    start_utc: Any,
    end_utc: Any,
    *,
    weather_dir: str | Path | None = None,
    oblasts: Sequence[str] | None = None,
    method: str = "sky",
    region: str = "east",
    cloud: pd.Series | None = None,
    min_passes_per_day: float = MIN_PASSES_PER_DAY,
    max_empty_day_share: float = MAX_EMPTY_DAY_SHARE,
    max_cloud_pct: float = MAX_CLOUD_PCT,
) -> Coverage:
    """Coverage of the window ``[start_utc, end_utc)``.

    ``detections``: the *whole theatre's* detections of every platform, including the
    days around the window (feed gaps are judged against them). ``weather_dir``: the
    user's data folder (its root, ``context/`` or ``context/weather/``); cloud is read
    from it. ``oblasts``: the scope's oblasts (default: the oblasts of the detections).
    ``cloud``: a daily cloud share (0..1) indexed by date, given by the caller instead of
    the data folder's tables (no typical year is then known).

    ``method="sky"``: each day's passes (theatre-wide, per platform; feed-gap days do not
    count) times its clear share; a day counts with at least
    :data:`MIN_CLEAR_PASSES_PER_DAY` clear passes (or :data:`MIN_PASSES_NO_CLOUD` passes
    when its cloud is unknown). Adequate when at least :data:`MIN_COUNTING_SHARE` of the
    days count and the window's clear passes reach :data:`MIN_TYPICAL_RATIO` of the same
    calendar window in a typical year. ``method="detections"``: the first method (passes
    with data, days without any detection, mean cloud per oblast).
    """
    if method not in METHODS:
        raise InputError(f"coverage method {method!r}: expected one of {', '.join(METHODS)}")
    s, e = to_utc(start_utc), to_utc(end_utc)
    if e <= s:
        raise InputError(f"coverage window: end {e} is not after start {s}")
    days = window_days(s, e)
    obl = list(oblasts) if oblasts is not None else None
    if obl is None and weather_dir is not None and len(detections):
        found = oblast_of(detections["lon"], detections["lat"], weather_dir)
        obl = sorted({o for o in found if o is not None})
    if method == "detections":
        return _detection_coverage(detections, s, e, days, weather_dir, obl,
                                   min_passes_per_day, max_empty_day_share, max_cloud_pct)
    return _sky_coverage(detections, s, e, days, weather_dir, obl, region, cloud)


def _sky_coverage(detections: pd.DataFrame, s: pd.Timestamp, e: pd.Timestamp,
                  days: pd.DatetimeIndex, data_dir: str | Path | None,
                  oblasts: list[str] | None, region: str,
                  given: pd.Series | None = None) -> Coverage:
    from truceline.analysis import sky

    span = pd.date_range(days[0] - pd.Timedelta(days=sky.GAP_HALF_SPAN),
                         days[-1] + pd.Timedelta(days=sky.GAP_HALF_SPAN), freq="D")
    if len(detections):
        dates = utc_dates(detections)
        near = dates.isin(span).to_numpy()
        det = detections[near]
        # neighbours only where the frame holds data at all (days beyond it are unknown,
        # not empty); window days beyond it still count as days without passes
        if near.any():
            lo, hi = dates[near].min(), dates[near].max()
            span = span[((span >= lo) & (span <= hi)) | span.isin(days)]
    else:
        det = detections
    plat = sky.platform_passes(det, span)
    if given is not None:
        g_cloud = pd.Series(given, dtype=float)
        g_cloud.index = pd.DatetimeIndex(pd.to_datetime(g_cloud.index)).normalize()
        vals = g_cloud.reindex(span)
        cloud_span = pd.DataFrame({"date": span, "cloud": vals.to_numpy(),
                                   "source": np.where(vals.notna(), "given", None)})
    else:
        cloud_span = sky.daily_cloud(data_dir, span, oblasts, region)
    clear = (1.0 - cloud_span.set_index("date")["cloud"]).astype(float)
    if len(plat):
        plat["feed_gap"] = sky.feed_gaps(plat, clear)
        plat = plat[plat["date"].isin(days)]
    in_days = plat if len(plat) else pd.DataFrame(
        {"date": days, "platform": "none", "sensor": "none", "n_detections": 0,
         "n_passes": 0.0, "timed": True, "feed_gap": False})
    in_days = in_days.assign(counted=np.where(in_days["feed_gap"], 0.0,
                                              in_days["n_passes"].astype(float)))
    g = in_days.groupby("date")
    per_day = pd.DataFrame({
        "n_passes": g["counted"].sum(), "n_detections": g["n_detections"].sum(),
        "timed": g["timed"].all(), "feed_gap": g["feed_gap"].any(),
    }).reindex(days).rename_axis("date").reset_index()
    per_day = per_day.fillna({"n_passes": 0.0, "n_detections": 0, "timed": True,
                              "feed_gap": False})
    cl = cloud_span.set_index("date").reindex(days)
    per_day["cloud"] = cl["cloud"].to_numpy(dtype=float)
    per_day["cloud_source"] = cl["source"].to_numpy(dtype=object)
    per_day["clear_passes"] = per_day["n_passes"] * (1.0 - per_day["cloud"])
    known = per_day["cloud"].notna().to_numpy()
    per_day["counts"] = np.where(known, per_day["clear_passes"] >= MIN_CLEAR_PASSES_PER_DAY,
                                 per_day["n_passes"] >= MIN_PASSES_NO_CLOUD)
    n_days = len(per_day)
    counting = int(per_day["counts"].sum())
    cloud_known = bool(known.all())
    clear_total = float(per_day["clear_passes"].sum()) if cloud_known else None
    seen = in_days.loc[in_days["n_passes"] > 0].drop_duplicates("platform")
    sensors = sorted(set(seen["sensor"]))
    nominal = float(sum(sky.PASSES_PER_DAY.get(str(x), 1.0) for x in seen["sensor"]))
    typical, years = sky.typical_clear_passes(
        data_dir, days, list(per_day["cloud_source"]), nominal, oblasts, region) \
        if cloud_known else (None, [])
    ratio = clear_total / typical if (clear_total is not None and typical) else None
    gaps = tuple(f"{pd.Timestamp(r.date).date()} {r.platform}" for r in
                 in_days[in_days["feed_gap"]].itertuples(index=False))
    usual = nominal * n_days
    pass_ratio = float(per_day["n_passes"].sum()) / usual if usual else 0.0
    reasons: list[str] = []
    ok = counting >= MIN_COUNTING_SHARE * n_days
    if pass_ratio < MIN_TYPICAL_RATIO:
        ok = False
        reasons.append(f"poor coverage: {per_day['n_passes'].sum():g} passes in "
                       f"{n_days} days, {pass_ratio:.0%} of the {usual:g} the platforms "
                       f"seen ({', '.join(sensors) or 'none'}) usually make (minimum "
                       f"{MIN_TYPICAL_RATIO:.0%})")
    if not counting >= MIN_COUNTING_SHARE * n_days:
        reasons.append(f"poor coverage: {counting} of {n_days} UTC days of the window had at least "
                       f"{MIN_CLEAR_PASSES_PER_DAY:g} clear-sky passes (minimum share "
                       f"{MIN_COUNTING_SHARE:.2f})")
    if ratio is not None and ratio < MIN_TYPICAL_RATIO:
        ok = False
        reasons.append(f"poor coverage: {clear_total:.1f} clear-sky passes, {ratio:.0%} of "
                       f"the same window in a typical year ({typical:.1f}; minimum "
                       f"{MIN_TYPICAL_RATIO:.0%})")
    if gaps:
        reasons.append("feed gap: theatre-wide detections fell far below what the "
                       "neighbouring days and the cloud predict on " + ", ".join(gaps)
                       + " (missing data, not calm; those passes do not count)")
    kinds = sorted({k for k in per_day["cloud_source"] if k})
    src_text = [sky.source_text(k, region, oblasts) for k in kinds]
    pass_text = ("passes counted from the times of the whole theatre's detections"
                 if bool(per_day["timed"].all()) else
                 "passes credited from the whole theatre's date-only detections "
                 f"({', '.join(f'{k} {v:g}/day' for k, v in sky.PASSES_PER_DAY.items())} "
                 "per platform with data that day)")
    sources = {"passes": pass_text, "cloud": src_text,
               "typical_years": years, "oblasts": list(oblasts or [])}
    if not cloud_known:
        missing = [str(d.date()) for d, k in zip(per_day["date"], known, strict=True) if not k]
        reasons.append(f"cloud cover unknown on {len(missing)} of {n_days} UTC days of the window ("
                       + ", ".join(missing[:6]) + (" ..." if len(missing) > 6 else "")
                       + "): coverage judged on passes alone, which never supports 'held'")
    cls = ("poor" if not ok else "passes only" if not cloud_known else
           "good" if (ratio is None or ratio >= GOOD_TYPICAL_RATIO) else "fair")
    if ok:
        reasons.insert(0, f"adequate coverage ({cls}): {counting} of {n_days} days count, "
                          + (f"{clear_total:.1f} clear-sky passes" if clear_total is not None
                             else "cloud unknown")
                          + (f", {ratio:.0%} of a typical year" if ratio is not None else "")
                          + "; sources: " + "; ".join([pass_text, *src_text]))
    else:
        reasons.append("coverage sources: " + "; ".join([pass_text, *src_text]))
    per_cloud = None
    if data_dir is not None and "weather" in kinds:
        per_cloud = read_cloud_cover(data_dir, days[0], days[-1], oblasts)
    mean_cloud = float(np.nanmean(per_day["cloud"])) * 100 if known.any() else None
    # a day without data: no detection at all, or a feed gap (shaded alike in the charts)
    empty = tuple(str(d.date()) for d in per_day.loc[(per_day["n_detections"] == 0)
                                                     | per_day["feed_gap"], "date"])
    return Coverage(
        start_utc=s, end_utc=e, days=per_day, days_without_data=empty,
        mean_passes_per_day=float(per_day["n_passes"].mean()) if n_days else 0.0,
        passes_timed=bool(per_day["timed"].all()), cloud=per_cloud,
        mean_cloud_pct=mean_cloud, adequate=ok, reasons=tuple(reasons),
        thresholds={"min_clear_passes_per_day": MIN_CLEAR_PASSES_PER_DAY,
                    "min_passes_no_cloud": MIN_PASSES_NO_CLOUD,
                    "min_counting_share": MIN_COUNTING_SHARE,
                    "min_typical_ratio": MIN_TYPICAL_RATIO,
                    "good_typical_ratio": GOOD_TYPICAL_RATIO,
                    "gap_factor": sky.GAP_FACTOR, "gap_min_median": sky.GAP_MIN_MEDIAN,
                    "pass_gap_minutes": float(PASS_GAP_MINUTES)},
        method="sky", cloud_known=cloud_known, held_allowed=ok and cloud_known,
        clear_passes=clear_total, typical_clear_passes=typical, typical_years=tuple(years),
        ratio_to_typical=ratio, coverage_class=cls, days_counting=counting,
        feed_gaps=gaps, sources=sources)


def _detection_coverage(detections: pd.DataFrame, s: pd.Timestamp, e: pd.Timestamp,
                        days: pd.DatetimeIndex, weather_dir: str | Path | None,
                        obl: list[str] | None, min_passes_per_day: float,
                        max_empty_day_share: float, max_cloud_pct: float) -> Coverage:
    """The first method: passes with data and days with any detection, mean cloud per
    oblast. Unknown cloud does not make coverage poor by itself."""
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
        reasons.append(f"poor coverage: {len(empty)} of {len(per_day)} UTC days of the "
                       f"window without any detection ({', '.join(empty)}; maximum share "
                       f"{max_empty_day_share:.2f})")
    if not timed:
        reasons.append("some days have dates without times: their pass count is a lower "
                       "bound (one per satellite or sensor and day)")
    cloud = None
    mean_cloud = None
    if weather_dir is not None:
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
        method="detections", cloud_known=mean_cloud is not None, held_allowed=ok,
        coverage_class="fair" if ok else "poor",
        days_counting=len(per_day) - len(empty))

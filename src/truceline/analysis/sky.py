"""What the satellites could see each day: passes over the theatre, the clear share of the
sky, and feed gaps that cloud does not explain.

Coverage must come from the sky, not from the fires: a clear, quiet week is well covered,
a cloudy week with a few fires is not. Three pieces, each said in the report:

- **passes** per platform and UTC day, from the *whole theatre's* detections of that
  platform that day (a pass exists when the satellite saw fire anywhere in the theatre,
  not only in the scope). Rows with times are grouped into overpasses (detections of one
  satellite less than 40 minutes apart). Rows with a date only (the FIRMS yearly lists)
  cannot be told apart: a platform with any detection in the theatre that day is
  credited its orbit's usual number of passes over Ukraine, :data:`PASSES_PER_DAY`
  (VIIRS: measured on the timed NOAA-20 files of August 2025, the same orbit as S-NPP:
  median 4 a day; MODIS: Terra or Aqua alone, that figure scaled by the narrower swath,
  2,330 against 3,040 km, to 3). No orbit is propagated: there are no historical orbit
  elements offline.
- **cloud**, the finest source that covers the day (:func:`daily_cloud`): Open-Meteo's
  cloud cover per oblast (``context/weather``, 2015 to 15 October 2024) over the scope's
  oblasts, else The Economist's daily cloud share of eastern Ukraine
  (``context/cloud_daily``, 2022-01-01 to 2026-09-11). The two differ (the second reads
  about 14 points cloudier on the days both cover), so a window is compared with a typical
  year on the same source.
- **feed gaps** (:func:`feed_gaps`): a day on which a platform's theatre-wide detections
  fall below a quarter of what its neighbouring days and that day's clear share predict
  is a gap in the data (NOAA-20, 23-27 August 2025), not calm; its passes do not count.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from truceline.errors import InputError

__all__ = [
    "CLOUD_DAILY_FILE",
    "GAP_FACTOR",
    "GAP_MIN_MEDIAN",
    "PASSES_PER_DAY",
    "SOURCE_DAILY",
    "SOURCE_WEATHER",
    "daily_cloud",
    "feed_gaps",
    "overpass_ids",
    "platform_of",
    "platform_passes",
    "typical_clear_passes",
]

#: Usual passes a day over Ukraine of one platform when only dates are known.
PASSES_PER_DAY = {"VIIRS": 4.0, "MODIS": 3.0}
#: A platform-day is a feed gap below this share of its expected theatre-wide count ...
GAP_FACTOR = 0.25
#: ... when its neighbouring days have at least this median count (else noise rules).
GAP_MIN_MEDIAN = 50.0
#: Neighbouring days on each side that set a platform's expected count.
GAP_HALF_SPAN = 15
CLOUD_DAILY_FILE = Path("context") / "cloud_daily" / "ukraine_cloud_cover_daily.csv"
WEATHER_DIR = Path("context") / "weather"
SOURCE_WEATHER = "Open-Meteo cloud cover per oblast (context/weather)"
SOURCE_DAILY = "The Economist's daily cloud share of {region} (context/cloud_daily)"
_REGION_COL = {"east": "cloud_cover_in_east_of_country", "country": "cloud_cover_in_country"}
_REGION_TEXT = {"east": "eastern Ukraine", "country": "Ukraine"}


def _root(data_dir: str | Path) -> Path:
    """Accept the data root, its ``context`` folder or ``context/weather``."""
    p = Path(data_dir)
    for cand in (p, p.parent, p.parent.parent):
        if (cand / "context").is_dir():
            return cand
    return p


@lru_cache(maxsize=8)
def _weather(root: str) -> pd.DataFrame:
    """All years of the per-oblast weather table: oblast_id, date, cloud (0..1)."""
    from truceline.analysis.coverage import read_weather_file

    folder = Path(root) / WEATHER_DIR
    frames = []
    for f in sorted(folder.glob("ukr_weather_data_*.csv")):
        w = read_weather_file(f)
        frames.append(pd.DataFrame({"oblast_id": w["oblast_id"].astype(str),
                                    "date": w["date"],
                                    "cloud": w["cloud_pct"].astype(float) / 100.0}))
    if not frames:
        return pd.DataFrame({"oblast_id": pd.Series(dtype=object),
                             "date": pd.Series(dtype="datetime64[ns]"),
                             "cloud": pd.Series(dtype=float)})
    return pd.concat(frames, ignore_index=True).dropna(subset=["cloud"])


@lru_cache(maxsize=8)
def _daily(root: str) -> pd.DataFrame:
    """The daily cloud shares (date index; east, country), ``NA`` rows dropped."""
    f = Path(root) / CLOUD_DAILY_FILE
    if not f.is_file():
        return pd.DataFrame(columns=["east", "country"], dtype=float)
    c = pd.read_csv(f, na_values=["NA"])
    missing = {"date", *_REGION_COL.values()} - set(c.columns)
    if missing:
        raise InputError(f"{f}: columns {sorted(missing)} are missing: expected date, "
                         "cloud_cover_in_country, cloud_cover_in_east_of_country")
    c = c.dropna(subset=["date"])
    c["date"] = pd.to_datetime(c["date"])
    return pd.DataFrame({"east": c[_REGION_COL["east"]].astype(float).to_numpy(),
                         "country": c[_REGION_COL["country"]].astype(float).to_numpy()},
                        index=pd.DatetimeIndex(c["date"])).groupby(level=0).mean()


def daily_cloud(data_dir: str | Path | None, days: Sequence[Any] | pd.DatetimeIndex,
                oblasts: Sequence[str] | None = None, region: str = "east") -> pd.DataFrame:
    """Cloud share (0..1) per day from the finest source that covers it.

    Returns columns date, cloud (NaN when no source covers the day), source (``weather``,
    ``daily`` or ``None``). ``oblasts``: the scope's oblast ids (e.g. ``UA23``); on days
    the weather table lacks them, the daily share of ``region`` (``east`` or ``country``).
    Without oblasts the daily share comes first, then the weather mean of all oblasts.

    Example
    -------
    >>> daily_cloud(None, ["2025-08-21"]).source.tolist()
    [None]
    """
    if region not in _REGION_COL:
        raise InputError(f"daily_cloud: region {region!r}: expected 'east' or 'country'")
    idx = pd.DatetimeIndex(pd.to_datetime(list(days))).normalize()
    out = pd.DataFrame({"date": idx, "cloud": np.nan, "source": None})
    if data_dir is None:
        return out
    root = str(_root(data_dir))
    if oblasts:
        w = _weather(root)
        w = w[w["oblast_id"].isin(list(oblasts)) & w["date"].isin(idx)]
        mean = w.groupby("date")["cloud"].mean()
        got = out["date"].map(mean)
        have = got.notna().to_numpy()
        out.loc[have, "cloud"] = got[have].to_numpy()
        out.loc[have, "source"] = "weather"
    d = _daily(root)
    if len(d):
        rest = out["cloud"].isna().to_numpy()
        got = out["date"].map(d[region])
        fill = rest & got.notna().to_numpy()
        out.loc[fill, "cloud"] = got[fill].to_numpy()
        out.loc[fill, "source"] = "daily"
    if not oblasts and out["cloud"].isna().any():  # no scope oblasts: all of Ukraine
        mean = _weather(root).groupby("date")["cloud"].mean()
        got = out["date"].map(mean)
        fill = out["cloud"].isna().to_numpy() & got.notna().to_numpy()
        out.loc[fill, "cloud"] = got[fill].to_numpy()
        out.loc[fill, "source"] = "weather"
    return out


def source_text(kind: str | None, region: str = "east", oblasts: Sequence[str] | None = None
                ) -> str | None:
    """The words a report uses for a cloud source kind."""
    if kind == "weather":
        return SOURCE_WEATHER + (f" over {', '.join(oblasts)}" if oblasts else "")
    if kind == "daily":
        return SOURCE_DAILY.format(region=_REGION_TEXT[region])
    if kind == "given":
        return "cloud share given by the caller"
    return None


def typical_clear_passes(data_dir: str | Path | None, days: pd.DatetimeIndex,
                         kinds: Sequence[str | None], passes_per_day: float,
                         oblasts: Sequence[str] | None = None, region: str = "east"
                         ) -> tuple[float | None, list[int]]:
    """Clear-sky passes the same calendar days have in a typical year: the median, over
    the other years the same cloud source covers, of the sum over the days of
    ``passes_per_day`` x clear share. Returns (median, years used); None without years.

    Why the same source: the two cloud tables disagree by about 14 points, so a window
    judged on one is compared with years on that one.
    """
    if data_dir is None or len(days) == 0 or passes_per_day <= 0:
        return None, []
    root = str(_root(data_dir))
    kind = "weather" if "weather" in kinds else ("daily" if "daily" in kinds else None)
    if kind is None:
        return None, []
    if kind == "weather":
        w = _weather(root)
        w = w[w["oblast_id"].isin(list(oblasts))] if oblasts else w
        per_day = w.groupby("date")["cloud"].mean()
    else:  # the daily table
        per_day = _daily(root)[region].dropna()
    years = sorted(set(per_day.index.year))
    own = {int(d.year) for d in days}
    totals, used = [], []
    month_day = [(int(d.month), min(int(d.day), 28) if int(d.month) == 2 else int(d.day))
                 for d in days]
    for y in years:
        if y in own:
            continue
        when = pd.DatetimeIndex([pd.Timestamp(y, m, dd) for m, dd in month_day])
        clear = 1.0 - per_day.reindex(when)
        if clear.isna().any():
            continue
        totals.append(float(clear.sum()) * passes_per_day)
        used.append(y)
    if not totals:
        return None, []
    return float(np.median(totals)), used


def platform_of(det: pd.DataFrame) -> np.ndarray:
    """Platform key per detection: the satellite when named, else the sensor."""
    n = len(det)
    key = pd.Series(["unknown"] * n, index=det.index, dtype=object)
    if "sensor" in det:
        sen = det["sensor"].astype(object)
        key = key.where(sen.isna(), sen.astype(str))
    if "satellite" in det:
        s = det["satellite"].astype(object)
        ok = s.notna() & ~s.astype(str).str.lower().isin(["unknown", "", "none", "nan"])
        key = key.where(~ok, s.astype(str))
    out: np.ndarray = key.to_numpy(dtype=object)
    return out


def overpass_ids(platform: np.ndarray, t: pd.Series, gap_minutes: float = 40.0
                 ) -> np.ndarray:
    """Overpass number of each detection with a time (-1 where it has none): per platform
    in time order, a new overpass after more than ``gap_minutes`` without a detection.

    Example
    -------
    >>> t = pd.Series(pd.to_datetime(["2025-08-11 00:45", "2025-08-11 00:47",
    ...                               "2025-08-11 11:10", None], utc=True))
    >>> overpass_ids(np.array(["N20"] * 4, dtype=object), t).tolist()
    [1, 1, 2, -1]
    """
    ids = np.full(len(t), -1, dtype=np.int64)
    timed = t.notna().to_numpy()
    if timed.any():
        tt = pd.DataFrame({"platform": platform[timed], "t": t[timed].to_numpy()},
                          index=np.flatnonzero(timed)).sort_values(["platform", "t"])
        p = tt["platform"].to_numpy()
        new = (tt["t"].diff() > pd.Timedelta(minutes=gap_minutes)).to_numpy() \
            | (p != np.roll(p, 1))
        new[0] = True
        ids[tt.index.to_numpy()] = np.cumsum(new)
    return ids


def _sensor_of(platform: str, sensors: pd.Series) -> str:
    return str(sensors.get(platform, platform))


def platform_passes(detections: pd.DataFrame, days: pd.DatetimeIndex,
                    gap_minutes: float = 40.0) -> pd.DataFrame:
    """Passes per platform and day over the theatre, for every day in ``days``.

    Columns date, platform, sensor, n_detections, n_passes, timed (passes counted from
    times; False: the platform's usual :data:`PASSES_PER_DAY` credited on a day with a
    date-only detection). A platform appears for every day once it has data anywhere in
    ``detections``, so a day without any of its detections shows as 0 passes.
    """
    from truceline.analysis.coverage import utc_dates, utc_times

    cols = ["date", "platform", "sensor", "n_detections", "n_passes", "timed"]
    if detections.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    plat = platform_of(detections)
    sensor = detections["sensor"].astype(str).to_numpy() if "sensor" in detections \
        else plat
    date = utc_dates(detections).to_numpy()
    t = utc_times(detections)
    frame = pd.DataFrame({"date": date, "platform": plat, "sensor": sensor,
                          "timed": t.notna().to_numpy(),
                          "pass_id": overpass_ids(plat, t, gap_minutes)})
    sensors = frame.drop_duplicates("platform").set_index("platform")["sensor"]
    g = frame.groupby(["date", "platform"])
    counted = pd.DataFrame({
        "n_detections": g.size(),
        "timed_passes": frame[frame["timed"]].groupby(["date", "platform"])["pass_id"]
        .nunique(),
        "any_untimed": (~frame["timed"]).groupby([frame["date"], frame["platform"]]).any(),
    }).fillna({"timed_passes": 0, "any_untimed": False})
    full = pd.MultiIndex.from_product([pd.DatetimeIndex(days), sorted(set(plat))],
                                      names=["date", "platform"])
    out = counted.reindex(full).reset_index()
    out["n_detections"] = out["n_detections"].fillna(0).astype(int)
    out["sensor"] = [_sensor_of(p, sensors) for p in out["platform"]]  # a few platforms
    nominal = out["sensor"].map(PASSES_PER_DAY).fillna(1.0).to_numpy(dtype=float)
    untimed = out["any_untimed"].fillna(False).astype(bool).to_numpy() \
        & (out["timed_passes"].fillna(0).to_numpy() == 0)
    out["timed"] = ~untimed
    out["n_passes"] = np.where(untimed, nominal, out["timed_passes"].fillna(0).to_numpy())
    return out[cols]


def feed_gaps(daily: pd.DataFrame, clear: pd.Series | None = None, *,
              factor: float = GAP_FACTOR, min_median: float = GAP_MIN_MEDIAN,
              half_span: int = GAP_HALF_SPAN) -> pd.Series:
    """Whether each platform-day of ``daily`` (date, platform, n_detections; consecutive
    days, the window and its neighbours) is a feed gap: fewer theatre-wide detections
    than ``factor`` x the median of the platform's days within ``half_span`` days, scaled
    by the day's clear share over those days' median clear share (``clear``: share
    indexed by date; without it no scaling), when that median is at least ``min_median``.
    A gap extends to adjacent days below ``factor`` x the median whatever the cloud
    (outages are contiguous; a cloudy day beside one cannot tell cloud from outage).

    Why: a country-wide fall that cloud does not explain is missing data, and a monitor
    that read it as calm would call a ceasefire where the satellites saw nothing.

    Example
    -------
    >>> d = pd.DataFrame({"date": pd.date_range("2025-08-01", periods=9),
    ...                   "platform": "N20", "n_detections": [600] * 4 + [40] + [600] * 4})
    >>> feed_gaps(d).tolist()
    [False, False, False, False, True, False, False, False, False]
    """
    if daily.empty:
        return pd.Series(dtype=bool)
    d = daily[["date", "platform", "n_detections"]].copy()
    d["date"] = pd.to_datetime(d["date"])
    d["clear"] = np.nan if clear is None else d["date"].map(clear).astype(float)
    d = d.sort_values(["platform", "date"])
    span = 2 * half_span + 1
    g = d.groupby("platform", sort=False)
    med_n = g["n_detections"].transform(
        lambda s: s.rolling(span, center=True, min_periods=3).median())
    med_c = g["clear"].transform(
        lambda s: s.rolling(span, center=True, min_periods=3).median())
    scale = (d["clear"].clip(lower=0.05) / med_c.clip(lower=0.05)).clip(upper=1.0)
    expected = med_n * scale.fillna(1.0)
    enough = med_n >= min_median
    gap = enough & (d["n_detections"] < factor * expected)
    # an outage runs over days: a day next to a gap whose count is also below ``factor``
    # of its neighbours' median, whatever the cloud, belongs to the same gap
    low = enough & (d["n_detections"] < factor * med_n)
    same = d["platform"].to_numpy()
    for _ in range(half_span):  # a few rounds, each spreading one day; not per detection
        prev = gap.shift(1, fill_value=False) & (np.roll(same, 1) == same)
        nxt = gap.shift(-1, fill_value=False) & (np.roll(same, -1) == same)
        grown = gap | (low & (prev | nxt))
        if bool((grown == gap).all()):
            break
        gap = grown
    return gap.reindex(daily.index).fillna(False).astype(bool)

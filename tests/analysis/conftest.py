"""Real-data fixtures for the analysis tests, loaded once per session.

Detections come from the project's own ingest parser, `truceline.sources.firms.
parse_firms` (sensor split of the mixed yearly lists by coordinate precision, repeated
rows dropped), cut to the columns the analysis stage needs. When that parser cannot be
imported, a minimal stand-in here applies the same precision rule (FIRMS writes MODIS
coordinates with at most 4 decimals, VIIRS with 5 or 6; ../shared/data/SOURCES.md).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

DETECTION_COLUMNS = [
    "lon", "lat", "acq_date", "sensor", "satellite", "frp", "confidence", "detection_id",
]


def data_root() -> Path | None:
    """$TRUCELINE_DATA, else /work/shared/data or ../shared/data; None when absent."""
    env = os.environ.get("TRUCELINE_DATA")
    here = Path(__file__).resolve()
    candidates = [Path(env)] if env else []
    candidates += [here.parents[3] / "shared" / "data", Path("/work/shared/data")]
    for c in candidates:
        if (c / "firms" / "ukraine_yearly").is_dir():
            return c
    return None


def _decimals(text: pd.Series) -> np.ndarray:
    """Digits after the decimal point of each coordinate as written in the file."""
    s = text.str.strip()
    dot = s.str.find(".")
    return np.where(dot < 0, 0, s.str.len() - dot - 1)


def _parse(path: Path) -> pd.DataFrame | None:
    """The ingest's parser, cut to the analysis columns; None when it is unavailable."""
    try:
        from truceline.sources.firms import parse_firms
    except ImportError:
        return None
    det = parse_firms(path).detections
    out = det[DETECTION_COLUMNS].copy()
    out["sensor"] = out["sensor"].astype(object)
    out["satellite"] = out["satellite"].astype(object)
    out["detection_id"] = out["detection_id"].astype(object)
    out["acq_date"] = pd.to_datetime(out["acq_date"]).astype("datetime64[s]")
    return out.reset_index(drop=True)


@lru_cache(maxsize=64)
def load_yearly(year: int) -> pd.DataFrame:
    """One FIRMS yearly list (LATITUDE, LONGITUDE, ACQ_DATE) as canonical detections."""
    root = data_root()
    if root is None:
        raise FileNotFoundError("shared data not found")
    path = root / "firms" / "ukraine_yearly" / f"ukr_fire_data_{year}.csv"
    parsed = _parse(path)
    if parsed is not None:
        return parsed
    raw = pd.read_csv(path, dtype=str)
    raw.columns = [c.upper() for c in raw.columns]
    lat_dec = _decimals(raw["LATITUDE"])
    lon_dec = _decimals(raw["LONGITUDE"])
    modis = (lat_dec <= 4) & (lon_dec <= 4)
    if year == 2023:  # the 2023 list is all VIIRS (SOURCES.md)
        modis[:] = False
    sensor = np.where(modis, "MODIS", "VIIRS")
    frame = pd.DataFrame({
        "lon": raw["LONGITUDE"].astype("float64").to_numpy(),
        "lat": raw["LATITUDE"].astype("float64").to_numpy(),
        "acq_date": pd.to_datetime(raw["ACQ_DATE"]).to_numpy().astype("datetime64[D]"),
        "sensor": sensor,
        "satellite": np.where(modis, "unknown", "N"),
        "frp": np.nan,
        "confidence": np.nan,
    })
    frame["acq_date"] = frame["acq_date"].astype("datetime64[s]")
    frame["detection_id"] = [f"y{year}-{i}" for i in range(len(frame))]
    return frame


def load_years(years: list[int] | range) -> pd.DataFrame:
    """Several yearly lists concatenated (missing years skipped)."""
    root = data_root()
    assert root is not None
    frames = [load_yearly(y) for y in years
              if (root / "firms" / "ukraine_yearly" / f"ukr_fire_data_{y}.csv").exists()]
    return pd.concat(frames, ignore_index=True)


#: The peacetime years the placebo studies judge; the leave-out climatology omits them.
PLACEBO_YEARS = (2018, 2019, 2020, 2021)


@lru_cache(maxsize=1)
def leave_out_climatologies() -> dict:
    """Per-sensor climatologies from the 2000-2023 lists without 2018-2021, built once per
    session: the detection validation and the placebo study both judge those years with
    it (one build is ~15 s on 2 cores)."""
    from truceline.analysis.baseline import DEFAULT_YEARS, build_climatologies

    years = {s: tuple(y for y in DEFAULT_YEARS[s] if y not in PLACEBO_YEARS)
             for s in DEFAULT_YEARS}
    return build_climatologies(load_years(range(2000, 2024)), years=years)


@lru_cache(maxsize=1)
def load_noaa20_2025() -> pd.DataFrame:
    """The NOAA-20 VIIRS NRT days of August 2025 as canonical detections."""
    root = data_root()
    assert root is not None
    files = sorted((root / "firms" / "viirs_noaa20_nrt_2025").glob("*.csv"))
    parsed = [_parse(f) for f in files]
    if all(p is not None for p in parsed):
        return pd.concat(parsed, ignore_index=True)
    raw = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    conf = raw["confidence"].astype(str).str[0].str.lower().map({"l": 0.2, "n": 0.6, "h": 0.9})
    frame = pd.DataFrame({
        "lon": raw["longitude"].astype("float64"),
        "lat": raw["latitude"].astype("float64"),
        "acq_date": pd.to_datetime(raw["acq_date"]).astype("datetime64[s]"),
        "sensor": "VIIRS",
        "satellite": raw["satellite"].astype(str),
        "frp": raw["frp"].astype("float64"),
        "confidence": conf.astype("float64"),
    })
    frame["detection_id"] = [f"n20-{i}" for i in range(len(frame))]
    return frame


@lru_cache(maxsize=1)
def oblast_grid() -> pd.DataFrame:
    """0.1° grid cell centres with their oblast id (context/oblasts)."""
    root = data_root()
    assert root is not None
    return pd.read_csv(root / "context" / "oblasts" / "ukr_oblasts_10km.csv")


def oblast_of(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Oblast id of each point by its nearest 0.1° grid centre ('' off the grid)."""
    grid = oblast_grid()
    key = (np.round(grid["LATITUDE"].to_numpy() * 10).astype(np.int64) * 10000
           + np.round(grid["LONGITUDE"].to_numpy() * 10).astype(np.int64))
    lut = pd.Series(grid["OBLAST_ID"].to_numpy(), index=key)
    lut = lut[~lut.index.duplicated()]
    q = (np.round(np.asarray(lat) * 10).astype(np.int64) * 10000
         + np.round(np.asarray(lon) * 10).astype(np.int64))
    return lut.reindex(q).fillna("").to_numpy(dtype=object)


requires_data = pytest.mark.skipif(data_root() is None, reason="shared real data not found")

"""The context tables of the data folder: values on a 0.1 degree grid, weather by oblast.

Why a reader of its own: land use (``context/land_use``), population density
(``context/pop_density``) and the daily weather per oblast (``context/weather``) are
data the user supplies, laid out as ``../shared/data/SOURCES.md`` describes. Every
reader here names the file and the column it expected when one is missing, and a point
off the grid gets NaN, never a neighbour's value.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from truceline.errors import InputError

__all__ = ["LAND_USE", "POPULATION", "WEATHER", "context_folder", "grid_values",
           "read_weather", "read_weather_file"]

#: Share of each 0.1 degree cell per land-use class (Impact Observatory 2022):
#: 3 crops, 4 built area (the file's README).
LAND_USE = Path("land_use") / "ukr_land_use_2022_10km.csv"
#: People per km² of each 0.1 degree cell (2020).
POPULATION = Path("pop_density") / "ukr_pop_density_2020_10km.csv"
#: The daily weather per oblast, one file a year; our names for the columns we read.
WEATHER = {"TEMPERATURE_2M_MAX (°C)": "tmax_c", "RAIN_SUM (MM)": "rain_mm",
           "SNOWFALL_SUM (CM)": "snow_cm", "CLOUD_COVER (%)": "cloud_pct"}


def context_folder(data_dir: str | Path) -> Path:
    """The ``context`` folder of a data folder (its root or ``context/`` itself)."""
    p = Path(data_dir)
    return p / "context" if (p / "context").is_dir() else p


def _cell_key(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """One integer per 0.1 degree cell centre (the grid's LATITUDE/LONGITUDE)."""
    return (np.round(np.asarray(lat, dtype=float) * 10).astype(np.int64) * 10000
            + np.round(np.asarray(lon, dtype=float) * 10).astype(np.int64))


def grid_values(data_dir: str | Path, table: str | Path, columns: Sequence[str],
                lon: np.ndarray, lat: np.ndarray) -> pd.DataFrame:
    """The ``columns`` of the 0.1 degree cell of each point (NaN off the grid)."""
    path = context_folder(data_dir) / table
    if not path.is_file():
        raise InputError(f"{path}: not found: expected the data folder's context/{table}")
    g = pd.read_csv(path)
    missing = [c for c in ("LATITUDE", "LONGITUDE", *columns) if c not in g.columns]
    if missing:
        raise InputError(f"{path}: expected columns {', '.join(missing)}; got "
                         f"{', '.join(map(str, g.columns))}")
    key = _cell_key(g["LATITUDE"].to_numpy(), g["LONGITUDE"].to_numpy())
    lut = g[list(columns)].set_index(key)
    lut = lut[~lut.index.duplicated()]
    x, y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    q = np.where(ok, _cell_key(np.where(ok, y, 0.0), np.where(ok, x, 0.0)), -1)
    return lut.reindex(q).reset_index(drop=True).astype(float)


def read_weather_file(path: str | Path, columns: Iterable[str] = tuple(WEATHER)
                      ) -> pd.DataFrame:
    """One yearly weather table (``ukr_weather_data_YYYY.csv``): oblast_id, date and the
    file's ``columns`` (keys of :data:`WEATHER`) under our names, empty cells NaN. The
    one reader of those files (the coverage's cloud and the context gates' weather).
    The day may be headed ``ACQ_DATE`` or ``date``; a missing column, or a day that is
    not YYYY-MM-DD, is refused naming the file, line and column."""
    columns = list(columns)
    w = pd.read_csv(path, na_values=["NA"], usecols=lambda c: c in (
        "OBLAST_ID", "ACQ_DATE", "date", *columns))
    date_col = "ACQ_DATE" if "ACQ_DATE" in w else "date"
    missing = [c for c in ("OBLAST_ID", date_col, *columns) if c not in w.columns]
    if missing:
        raise InputError(f"{path}: expected columns OBLAST_ID, ACQ_DATE (or date) and "
                         f"{', '.join(map(repr, columns))}; missing {', '.join(missing)}")
    day = pd.to_datetime(w[date_col], format="%Y-%m-%d", errors="coerce")
    if day.isna().any():
        bad = int(np.flatnonzero(day.isna().to_numpy())[0])
        raise InputError(f"{path}, line {bad + 2}, column {date_col}: expected a day "
                         f"YYYY-MM-DD, got {w[date_col].iat[bad]!r}")
    return pd.DataFrame({"oblast_id": w["OBLAST_ID"].astype(str), "date": day,
                         **{WEATHER[c]: pd.to_numeric(w[c], errors="coerce")
                            for c in columns}})


def read_weather(data_dir: str | Path, years: Iterable[int]) -> pd.DataFrame:
    """Daily weather per oblast for ``years``: oblast_id, date and the columns of
    :data:`WEATHER` under our names (empty cells NaN). A year without its file is
    left out (its days then have no weather), a file without a column is refused."""
    folder = context_folder(data_dir) / "weather"
    frames = [read_weather_file(f) for y in years
              if (f := folder / f"ukr_weather_data_{y}.csv").is_file()]
    if not frames:
        return pd.DataFrame(columns=["oblast_id", "date", *WEATHER.values()])
    return pd.concat(frames, ignore_index=True)

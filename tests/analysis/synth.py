"""Tiny synthetic detection histories with known answers."""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd

ORIGIN = h3.latlng_to_cell(48.0, 30.0, 6)


def ring_cells(k: int = 4) -> list[str]:
    """A patch of res-6 cells around ORIGIN, ORIGIN first."""
    cells = sorted(h3.grid_disk(ORIGIN, k))
    cells.remove(ORIGIN)
    return [ORIGIN, *cells]


def frame(rows: list[tuple[str, str, int]], sensor: str = "VIIRS") -> pd.DataFrame:
    """Detections at cell centres from (cell, date, count) rows."""
    lon, lat, dates = [], [], []
    for cell, date, count in rows:
        la, lo = h3.cell_to_latlng(cell)
        for i in range(count):
            lat.append(la + 1e-4 * i)
            lon.append(lo)
            dates.append(date)
    n = len(lon)
    return pd.DataFrame({
        "lon": np.array(lon, dtype=float), "lat": np.array(lat, dtype=float),
        "acq_date": pd.to_datetime(dates).astype("datetime64[s]"),
        "sensor": sensor, "satellite": "N", "frp": np.nan, "confidence": np.nan,
        "detection_id": [f"d{i}" for i in range(n)],
    })


def history(years: range = range(2001, 2011), seed: int = 1) -> pd.DataFrame:
    """Peacetime: every cell of the patch burns one random day in April each year, and
    ORIGIN's neighbour 'farm' burns on several days of a July burn season."""
    rng = np.random.default_rng(seed)
    cells = ring_cells()
    rows = []
    for y in years:
        for c in cells:
            rows.append((c, f"{y}-04-{rng.integers(1, 29):02d}", 1))
    return frame(rows)

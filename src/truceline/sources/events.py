"""Independent war events (e.g. UCDP) to check the detector against: any CSV with
``date``, ``date_end``, ``lat`` and ``lon``.

Why a reader of its own: the recall and lift figures of `truceline validate detection`
rest on these rows, so a row whose date or position does not parse must stop the run
with the line and column at fault, never be skipped quietly. Other columns (event id,
source, type, place, ...) are kept as they are.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from truceline.errors import InputError

__all__ = ["EVENT_COLUMNS", "read_events"]

#: The columns an events file must have.
EVENT_COLUMNS = ("date", "date_end", "lat", "lon")


def read_events(path: str | Path) -> pd.DataFrame:
    """Events with ``date``/``date_end`` as days and ``lat``/``lon`` as floats (WGS84).

    An empty ``date_end`` means a one-day event. Raises :class:`InputError` naming the
    file, the line (1 is the header) and the column of the first value that does not
    parse, or the columns that are missing.
    """
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise InputError(f"--events {path}: no such file") from None
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"--events {path}: not a readable CSV ({exc})") from None
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in EVENT_COLUMNS if c not in raw.columns]
    if missing:
        raise InputError(f"--events {path}: missing column(s) {missing}; an events file "
                         f"needs {list(EVENT_COLUMNS)} (columns found: {list(raw.columns)})")
    if raw.empty:
        raise InputError(f"--events {path}: no events under the header")
    out = raw.copy()
    end = raw["date_end"].str.strip().where(raw["date_end"].str.strip() != "", raw["date"])
    for col, values in (("date", raw["date"]), ("date_end", end)):
        parsed = pd.to_datetime(values.str.strip(), errors="coerce", format="%Y-%m-%d")
        _fail(path, raw, col, parsed.isna().to_numpy(), "a date YYYY-MM-DD")
        out[col] = parsed
    for col, lo, hi in (("lat", -90.0, 90.0), ("lon", -180.0, 180.0)):
        num = pd.to_numeric(raw[col].str.strip(), errors="coerce")
        bad = num.isna().to_numpy() | ~np.isfinite(num.to_numpy(dtype=float, na_value=np.nan))
        bad |= ~num.between(lo, hi).to_numpy()
        _fail(path, raw, col, bad, f"a number from {lo:g} to {hi:g} (degrees, WGS84)")
        out[col] = num.astype(np.float64)
    _fail(path, raw, "date_end", (out["date_end"] < out["date"]).to_numpy(),
          "a day on or after 'date'")
    return out.reset_index(drop=True)


def _fail(path: Path, raw: pd.DataFrame, col: str, bad: np.ndarray, expected: str) -> None:
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"--events {path}, line {i + 2}, column {col!r}: "
                         f"{raw[col].iat[i]!r} is not {expected} "
                         f"({int(bad.sum())} such row(s))")

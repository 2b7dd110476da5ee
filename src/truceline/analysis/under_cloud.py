"""Fire seen under cloud: did the window's fire fall on the days the sky hid most?

Why: a party that fights only when cloud hides the front leaves a mark a quiet window
cannot: the little fire that leaks through the cloud is seen on the cloudiest days, while
the clear days show none. Fire that burns at a steady or weather-driven rate does the
opposite: it is seen in proportion to the clear sky (farm fires burn on dry, clear days).
``held`` needs no such mark (:mod:`truceline.analysis.rules`).

The test conditions on the number of detections seen in scope during the window and asks
how they would spread over the window days if each day's share followed its clear-sky
passes (passes x clear share, :mod:`truceline.analysis.coverage`). Its statistic is the
mean cloud share of the days the fire was seen on; its P-value is the share of 20,000
seeded multinomial draws at least as cloudy (the same data always give the same answer).
Fire comes in bursts (a field burnt on one day, not spread over the window), so a large
count can make a small shift "significant": the mark also needs the fire's days to be at
least :data:`MIN_CLOUD_SHIFT` cloudier than the clear-sky passes place them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ALPHA_UNDER_CLOUD", "MIN_CLOUD_SHIFT", "fire_under_cloud"]

#: The fire's days must be this improbably cloudy under the clear-sky spread ...
ALPHA_UNDER_CLOUD = 0.01
#: ... and their mean cloud share at least this much above the clear-sky expectation
#: (0.10 = ten points of cloud): burst-sized shifts stay below it (docs/VALIDATION.md).
MIN_CLOUD_SHIFT = 0.10
_DRAWS = 20_000
_SEED = 20250311  # fixed: the test is part of a verdict and must be reproducible


def fire_under_cloud(days: pd.DataFrame, fire_dates: pd.Series | pd.DatetimeIndex,
                     *, draws: int = _DRAWS) -> dict[str, Any] | None:
    """Test whether ``fire_dates`` (the UTC day of each detection in scope during the
    window) fall on cloudier days than the clear-sky passes predict.

    ``days``: the coverage's day table (``date``, ``cloud`` share 0-1, ``clear_passes``).
    Days without a clear pass (or unknown cloud) predict nothing; their detections are
    left out and counted in ``n_left_out``. ``None`` when the table has no cloud.

    >>> days = pd.DataFrame({"date": pd.date_range("2023-01-01", periods=6),
    ...                      "cloud": [0.1, 0.1, 0.1, 0.1, 0.8, 0.9],
    ...                      "clear_passes": [3.6, 3.6, 3.6, 3.6, 0.8, 0.4]})
    >>> hidden = fire_under_cloud(days, pd.DatetimeIndex(["2023-01-05"] * 3 + ["2023-01-06"]))
    >>> hidden["flagged"], round(hidden["shift"], 2)
    (True, 0.67)
    >>> fire_under_cloud(days, pd.DatetimeIndex(["2023-01-01", "2023-01-02"]))["flagged"]
    False
    """
    if not {"cloud", "clear_passes"} <= set(days.columns):
        return None
    dates = pd.DatetimeIndex(pd.to_datetime(days["date"])).normalize()
    cloud = days["cloud"].to_numpy(dtype=float)
    exposure = days["clear_passes"].to_numpy(dtype=float)
    usable = np.isfinite(cloud) & np.isfinite(exposure) & (exposure > 0)
    fire = pd.DatetimeIndex(pd.to_datetime(fire_dates)).normalize()
    counts = pd.Series(1, index=fire).groupby(level=0).sum().reindex(dates, fill_value=0) \
        .to_numpy(dtype=np.int64)
    x, c, e = counts[usable], cloud[usable], exposure[usable]
    n = int(x.sum())
    out: dict[str, Any] = {"n": n, "n_left_out": int(len(fire) - n),
                           "days_usable": int(usable.sum()), "mean_cloud_fire": None,
                           "mean_cloud_expected": None, "shift": None, "p_value": 1.0,
                           "alpha": ALPHA_UNDER_CLOUD, "min_shift": MIN_CLOUD_SHIFT,
                           "flagged": False}
    if n == 0 or usable.sum() < 2:
        return out
    share = e / e.sum()
    observed = float(x @ c) / n
    expected = float(share @ c)
    sims = np.random.default_rng(_SEED).multinomial(n, share, size=draws) @ c / n
    p = float((1 + np.count_nonzero(sims >= observed - 1e-12)) / (draws + 1))
    out.update(mean_cloud_fire=observed, mean_cloud_expected=expected,
               shift=observed - expected, p_value=p,
               flagged=bool(p < ALPHA_UNDER_CLOUD and observed - expected >= MIN_CLOUD_SHIFT))
    return out

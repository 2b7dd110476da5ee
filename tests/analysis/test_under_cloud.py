"""The fire-under-cloud test (truceline.analysis.under_cloud): what it flags and what it
must not: fire seen in proportion to the clear sky, and farm fire's bursts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from truceline.analysis.under_cloud import MIN_CLOUD_SHIFT, fire_under_cloud

DATES = pd.date_range("2023-11-01", periods=12)
CLOUD = np.array([0.2, 0.3, 0.1, 0.4, 0.2, 0.3, 0.5, 0.2, 0.8, 0.85, 0.9, 0.8])
DAYS = pd.DataFrame({"date": DATES, "cloud": CLOUD, "clear_passes": 4 * (1 - CLOUD)})


def fires(counts: list[int] | np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(np.repeat(DATES.to_numpy(), counts))


def test_a_handful_of_fires_on_the_cloudiest_days_is_flagged() -> None:
    out = fire_under_cloud(DAYS, fires([0] * 8 + [2, 1, 0, 1]))
    assert out["flagged"] and out["n"] == 4 and out["p_value"] < 0.01
    assert out["mean_cloud_fire"] > out["mean_cloud_expected"] + MIN_CLOUD_SHIFT


def test_fire_seen_in_proportion_to_the_clear_sky_is_not() -> None:
    expected = np.round(200 * DAYS["clear_passes"] / DAYS["clear_passes"].sum()).astype(int)
    out = fire_under_cloud(DAYS, fires(expected.to_numpy()))
    assert not out["flagged"] and abs(out["shift"]) < 0.02 and out["p_value"] > 0.2


def test_a_burst_on_a_half_cloudy_day_is_significant_but_too_small_a_shift() -> None:
    """300 fires spread with the clear sky plus a field burnt on the 50 %-cloud day: the
    shift is real for the multinomial model (P < 0.01) but a few points of cloud, what farm
    fire's bursts do; the test needs ten."""
    base = np.round(300 * DAYS["clear_passes"] / DAYS["clear_passes"].sum()).astype(int)
    counts = base.to_numpy().copy()
    counts[6] += 60
    out = fire_under_cloud(DAYS, fires(counts))
    assert out["p_value"] < 0.01 and 0 < out["shift"] < MIN_CLOUD_SHIFT
    assert not out["flagged"]


def test_days_without_a_clear_pass_predict_nothing_and_are_counted_out() -> None:
    days = DAYS.assign(clear_passes=np.where(DATES == DATES[-1], 0.0, DAYS["clear_passes"]))
    out = fire_under_cloud(days, fires([1] * 11 + [5]))
    assert out["n"] == 11 and out["n_left_out"] == 5 and out["days_usable"] == 11
    assert fire_under_cloud(DAYS.drop(columns="cloud"), fires([1] * 12)) is None
    assert fire_under_cloud(DAYS, fires([0] * 12))["p_value"] == 1.0

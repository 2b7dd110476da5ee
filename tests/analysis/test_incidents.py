"""Known-answer tests for truceline.analysis.incidents."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from truceline.analysis.incidents import cluster_incidents, confidence_class
from truceline.errors import InputError


def _dets(points: list[tuple[float, float, str, float]], **extra: list) -> pd.DataFrame:
    lon, lat, date, p = zip(*points, strict=True)
    f = pd.DataFrame({"lon": lon, "lat": lat,
                      "acq_date": pd.to_datetime(list(date)).astype("datetime64[s]"),
                      "sensor": "VIIRS", "p_natural": p, "war": True,
                      "detection_id": [f"d{i}" for i in range(len(lon))]})
    for k, v in extra.items():
        f[k] = v
    return f


def test_space_and_time_split_incidents() -> None:
    km = 1 / 111.32
    pts = [
        (35.0, 47.0, "2022-08-01", 1e-4), (35.0 + 2 * km, 47.0, "2022-08-02", 0.02),
        (35.0 + 4 * km, 47.0, "2022-08-04", 0.03),  # chained to the first: 1 incident
        (36.0, 47.0, "2022-08-01", 0.004),  # ~76 km away: its own incident
        (35.0, 47.0, "2022-08-20", 0.04),  # same place, 16 days later: its own
    ]
    inc, of = cluster_incidents(_dets(pts, side=["UA"] * 4 + ["RU"], dist_km=[1, 2, 3, 40, 5]),
                                radius_km=3, gap_days=3)
    assert len(inc) == 3
    first = inc.sort_values("n_detections").iloc[-1]
    assert first["n_detections"] == 3 and first["detection_ids"] == ["d0", "d1", "d2"]
    assert first["t_start"] == pd.Timestamp("2022-08-01")
    assert first["t_end"] == pd.Timestamp("2022-08-04")
    assert first["p_min"] == 1e-4 and first["confidence"] == "high"
    assert first["side"] == "UA" and first["dist_km"] == 2
    assert abs(first["lon"] - (35.0 + 2 * km)) < 1e-9
    assert set(inc["confidence"]) == {"high", "medium", "low"}
    assert of.loc[0] == of.loc[2] != of.loc[3]
    assert inc["incident_id"].is_unique


def test_non_war_rows_are_ignored_and_empty_is_empty() -> None:
    d = _dets([(35.0, 47.0, "2022-08-01", 0.01)])
    d["war"] = False
    inc, of = cluster_incidents(d)
    assert inc.empty and of.empty and "incident_id" in inc.columns


def test_ids_are_stable_under_row_order() -> None:
    pts = [(35.0 + 0.01 * i, 47.0, "2022-08-01", 0.01) for i in range(5)]
    d = _dets(pts)
    a, _ = cluster_incidents(d)
    b, _ = cluster_incidents(d.iloc[::-1])
    assert a["incident_id"].tolist() == b["incident_id"].tolist()


def test_vectorised_on_many_points() -> None:
    rng = np.random.default_rng(0)
    n = 20000
    d = _dets(list(zip(rng.uniform(30, 40, n), rng.uniform(45, 52, n),
                       pd.date_range("2022-01-01", periods=365).strftime("%Y-%m-%d")
                       .to_numpy()[rng.integers(0, 365, n)],
                       rng.uniform(0, 0.05, n), strict=True)))
    inc, of = cluster_incidents(d)
    assert inc["n_detections"].sum() == n == len(of)


def test_confidence_and_errors() -> None:
    assert confidence_class([0.0005, 0.002, 0.5]).tolist() == ["high", "medium", "low"]
    with pytest.raises(InputError, match=r"lack column\(s\) \['p_natural'\]"):
        cluster_incidents(_dets([(35.0, 47.0, "2022-08-01", 0.01)]).drop(columns="p_natural"))
    one = _dets([(35.0, 47.0, "2022-08-01", 0.01)])
    for bad in (0, float("nan"), float("inf")):  # nan and inf used to reach the k-d tree
        with pytest.raises(InputError, match="expected a finite radius above 0 km and a "
                                             "finite gap of 0"):
            cluster_incidents(one, radius_km=bad)
    with pytest.raises(InputError, match=r"--gap-days '3': expected a finite radius"):
        cluster_incidents(one, gap_days="3")


def test_incidents_count_the_tests_that_decided_their_calls() -> None:
    km = 1 / 111.32
    d = _dets([(35.0, 47.0, "2022-08-01", 1e-4), (35.0 + km, 47.0, "2022-08-01", 0.02),
               (35.0 + 2 * km, 47.0, "2022-08-02", 0.03), (36.0, 47.0, "2022-08-01", 0.004)])
    d["test"] = pd.Categorical(["excess", "moved", "moved", "follow-on"],
                               categories=["excess", "follow-on", "moved", "season"])
    inc, _ = cluster_incidents(d, radius_km=3, gap_days=3)
    by_size = inc.sort_values("n_detections")["tests"].tolist()
    assert by_size == ["follow-on 1", "moved 2, excess 1"]  # most first, none at zero

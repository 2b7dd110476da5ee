"""Tests for truceline.analysis.coverage: passes from the detections, named empty days,
the poor-coverage rules, and the cloud reader on the real weather table."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from truceline.analysis.coverage import (
    assess_coverage,
    count_passes,
    oblast_of,
    read_cloud_cover,
    window_days,
)
from truceline.errors import InputError


def _data_root() -> Path | None:
    env = os.environ.get("TRUCELINE_DATA")
    for c in ([Path(env)] if env else []) + [Path("/work/shared/data")]:
        if (c / "context" / "weather").is_dir():
            return c
    return None


DATA = _data_root()
needs_data = pytest.mark.skipif(DATA is None, reason="shared data not found "
                                "(set TRUCELINE_DATA)")


def tiny() -> pd.DataFrame:
    """Two satellites; N20 passes twice on the 21st (one pass split over 3 minutes),
    Aqua once; nothing on the 22nd; a date-only MODIS row on the 23rd."""
    t = pd.to_datetime(["2025-08-21 00:45", "2025-08-21 00:48", "2025-08-21 11:10",
                        "2025-08-21 10:30", None], utc=True)
    return pd.DataFrame({
        "acq_date": pd.to_datetime(["2025-08-21"] * 4 + ["2025-08-23"]),
        "t_utc": t, "satellite": ["N20", "N20", "N20", "Aqua", None],
        "sensor": ["VIIRS", "VIIRS", "VIIRS", "MODIS", "MODIS"],
        "lon": [37.5] * 5, "lat": [47.9] * 5,
    })


def test_count_passes_tiny_frame() -> None:
    p = count_passes(tiny()).set_index("date")
    assert p.loc["2025-08-21", "n_passes"] == 3  # N20 x2, Aqua x1
    assert p.loc["2025-08-21", "n_detections"] == 4
    assert bool(p.loc["2025-08-21", "timed"])
    assert p.loc["2025-08-23", "n_passes"] == 1 and not bool(p.loc["2025-08-23", "timed"])


def test_coverage_names_empty_days_and_judges() -> None:
    cov = assess_coverage(tiny(), "2025-08-21", "2025-08-24", method="detections")
    assert cov.days_without_data == ("2025-08-22",)
    assert cov.mean_passes_per_day == pytest.approx(4 / 3)
    assert not cov.adequate
    assert any("passes with data per window day" in r for r in cov.reasons)
    assert any("lower bound" in r for r in cov.reasons)
    assert cov.to_dict()["days"][1] == {"date": "2025-08-22", "n_passes": 0,
                                        "n_detections": 0, "timed": True}
    # one day with three passes: adequate
    one = assess_coverage(tiny(), "2025-08-21 00:00+00:00", "2025-08-22 00:00+00:00",
                          method="detections")
    assert one.adequate and one.days_without_data == ()
    with pytest.raises(InputError, match="not after start"):
        assess_coverage(tiny(), "2025-08-22", "2025-08-21")


def test_window_days_outer_rounding() -> None:
    d = window_days(pd.Timestamp("2023-01-06 09:00", tz="UTC"),
                    pd.Timestamp("2023-01-08 00:00", tz="UTC"))
    assert [str(x.date()) for x in d] == ["2023-01-06", "2023-01-07"]


def test_cloud_missing_folder(tmp_path: Path) -> None:
    c = read_cloud_cover(tmp_path / "nowhere", "2023-01-06", "2023-01-07")
    assert c.status == "missing" and "not found" in c.message


@needs_data
def test_cloud_reader_real_file() -> None:
    assert DATA is not None
    c = read_cloud_cover(DATA, "2023-01-06", "2023-01-07", ["UA14", "UA23", "UA65"])
    assert c.status == "ok"
    m = c.mean_by_oblast().set_index("oblast_id")
    assert set(m.index) == {"UA14", "UA23", "UA65"}
    assert m.loc["UA23", "oblast"] == "Zaporizhzhia"
    assert (m["n_days"] == 2).all()
    assert ((m["cloud_pct"] >= 0) & (m["cloud_pct"] <= 100)).all()
    out = read_cloud_cover(DATA / "context" / "weather", "2025-08-21", "2025-08-30")
    assert out.status == "out_of_range" and "2015-2024" in out.message
    part = read_cloud_cover(DATA, "2024-10-14", "2024-10-20")
    assert part.status == "partial" and "2024-10-16" in part.message


@needs_data
def test_coverage_with_cloud_real_file() -> None:
    assert DATA is not None
    ids = oblast_of([37.8, 35.1, 24.0, 40.5], [48.0, 47.8, 49.8, 50.5], DATA)
    assert ids.tolist() == ["UA14", "UA23", "UA46", None]
    det = tiny().assign(acq_date=pd.to_datetime("2023-01-06"),
                        t_utc=pd.Timestamp("2023-01-06 10:00", tz="UTC"))
    cov = assess_coverage(det, "2023-01-06", "2023-01-07", weather_dir=DATA,
                          max_cloud_pct=0.0, method="detections")
    assert cov.cloud is not None and cov.cloud.status == "ok"
    assert cov.mean_cloud_pct is not None and not cov.adequate
    assert any("mean cloud cover" in r for r in cov.reasons)


def test_time_known_false_means_date_only() -> None:
    d = tiny().iloc[:3].assign(time_known=[True, True, False])
    p = count_passes(d).set_index("date")
    assert p.loc["2025-08-21", "n_passes"] == 1 and not bool(p.loc["2025-08-21", "timed"])


# --------------------------------------------------------------------------- the sky


def _theatre(days: int = 21, per_day: int = 600, gap: tuple[int, ...] = (),
             timed: bool = True) -> pd.DataFrame:
    """One VIIRS platform over the theatre: ``per_day`` detections in four passes a day,
    a tenth of that on the ``gap`` days (a feed outage)."""
    rows = []
    for i, day in enumerate(pd.date_range("2025-08-11", periods=days)):
        n = per_day // 10 if i in gap else per_day
        for h in ("00:10", "01:50", "10:40", "12:20"):
            k = n // 4
            rows.append(pd.DataFrame({"acq_date": day, "lon": 36.0, "lat": 48.0,
                                      "t_utc": pd.Timestamp(f"{day.date()} {h}", tz="UTC")
                                      if timed else pd.NaT,
                                      "satellite": "N20", "sensor": "VIIRS"}, index=range(k)))
    return pd.concat(rows, ignore_index=True)


def test_sky_coverage_counts_clear_passes_and_flags_feed_gaps() -> None:
    clear = pd.Series(0.25, index=pd.date_range("2025-08-01", "2025-09-30"))
    cov = assess_coverage(_theatre(gap=(12, 13, 14)), "2025-08-21", "2025-08-31",
                          cloud=clear)
    assert cov.method == "sky" and cov.cloud_known
    assert cov.feed_gaps == ("2025-08-23 N20", "2025-08-24 N20", "2025-08-25 N20")
    d = cov.days.set_index("date")
    assert d.loc["2025-08-23", "n_passes"] == 0 and bool(d.loc["2025-08-23", "feed_gap"])
    assert d.loc["2025-08-21", "clear_passes"] == pytest.approx(4 * 0.75)
    assert cov.days_counting == 7 and cov.adequate  # 7 of 10 >= 2/3
    assert any("not calm" in r for r in cov.reasons)
    # the same gap inside a 4-day window leaves too few days that count
    short = assess_coverage(_theatre(gap=(12, 13, 14)), "2025-08-22", "2025-08-26",
                            cloud=clear)
    assert not short.adequate and not short.held_allowed
    # a quiet theatre under the same sky is not a gap: coverage does not need fire
    quiet = assess_coverage(_theatre(per_day=20), "2025-08-21", "2025-08-31", cloud=clear)
    assert quiet.feed_gaps == () and quiet.adequate


def test_sky_coverage_without_cloud_is_never_enough_for_held() -> None:
    cov = assess_coverage(_theatre(), "2025-08-21", "2025-08-24")
    assert cov.adequate and not cov.cloud_known and not cov.held_allowed
    assert cov.coverage_class == "passes only"
    assert any("passes alone" in r for r in cov.reasons)


def test_date_only_platform_is_credited_its_usual_passes() -> None:
    clear = pd.Series(0.5, index=pd.date_range("2025-08-01", "2025-09-30"))
    cov = assess_coverage(_theatre(timed=False), "2025-08-21", "2025-08-23", cloud=clear)
    assert (cov.days["n_passes"] == 4.0).all() and not cov.passes_timed
    assert cov.adequate and any("credited" in r for r in cov.reasons)


@needs_data
def test_sky_cloud_sources_on_the_real_tables() -> None:
    from truceline.analysis.sky import daily_cloud

    assert DATA is not None
    c = daily_cloud(DATA, ["2020-07-27", "2024-10-20", "2025-08-25", "2026-12-01"],
                    ["UA14"])
    assert c["source"].tolist() == ["weather", "daily", "daily", None]
    assert c.loc[2, "cloud"] == pytest.approx(0.445625)  # the east's share that day
    # August 2025: NOAA-20's outage of 23-27 August is flagged, and the window is poor
    from truceline.sources.firms import parse_firms

    files = sorted((DATA / "firms" / "viirs_noaa20_nrt_2025").glob("*.csv"))
    det = pd.concat([parse_firms(f).detections for f in files], ignore_index=True)
    cov = assess_coverage(det, "2025-08-21", "2025-08-31", weather_dir=DATA,
                          oblasts=["UA14"])
    assert [g[:10] for g in cov.feed_gaps] == [f"2025-08-2{i}" for i in range(3, 8)]
    assert not cov.adequate and cov.typical_clear_passes is not None
    assert "The Economist" in " ".join(cov.sources["cloud"])

"""Tests for truceline.analysis.timeline: daily counts per band, CSV and figures."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from truceline.analysis.timeline import daily_series, to_wide, write_csv
from truceline.errors import InputError
from truceline.sources.agreements import parse_agreement


def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "acq_date": ["2025-08-20", "2025-08-21", "2025-08-21", "2025-08-21", "2025-08-23",
                     "2025-08-23"],
        "distance_km": [2.0, -7.0, 14.9, 100.0, -3.0, 200.0],
        "side": ["ua", "ru", "ua", "ua", "sea", "ua"],
        "sector": ["Pokrovsk", "Pokrovsk", "Tokmak", "Pokrovsk", "Pokrovsk", "Pokrovsk"],
        "is_war": [True, True, False, False, True, False],
    })


def test_daily_series_counts() -> None:
    s = daily_series(frame(), start="2025-08-20", end="2025-08-23")
    w = to_wide(s)
    assert list(w.columns) == ["0-5 km", "5-15 km", "15-30 km", "30-60 km",
                               "control 60-150 km"]
    assert w["0-5 km"].tolist() == [1, 0, 0, 0]  # the sea row does not count
    assert w["5-15 km"].tolist() == [0, 2, 0, 0]
    assert w["control 60-150 km"].tolist() == [0, 1, 0, 0]  # 200 km is beyond it
    assert to_wide(s, "n_war")["5-15 km"].tolist() == [0, 1, 0, 0]
    one = to_wide(daily_series(frame(), start="2025-08-20", end="2025-08-23",
                               sector="tokmak"))
    assert one["5-15 km"].tolist() == [0, 1, 0, 0]
    with pytest.raises(InputError, match="before start"):
        daily_series(frame(), start="2025-08-23", end="2025-08-20")


def test_csv_and_figures(tmp_path: Path) -> None:
    s = daily_series(frame(), start="2025-08-18", end="2025-08-25")
    csv = write_csv(s, tmp_path / "t.csv")
    back = pd.read_csv(csv)
    assert list(back.columns) == ["date", "band", "n_detections", "n_war"]
    assert len(back) == 8 * 5 and back["n_detections"].sum() == 4
    a = parse_agreement('name = "x"\ntime_zone = "Europe/Kyiv"\nstart = "2025-08-21 00:00"\n'
                        'duration_days = 2\n[[parties]]\nid = "ru"\nname = "R"\n'
                        '[[parties]]\nid = "ua"\nname = "U"\n')
    from truceline.publish.maps import render_figure, timeline_chart

    windows = [(a.name, a.start_utc, a.end_utc), ("other", "2025-08-24", "2025-08-25")]
    fig = timeline_chart(to_wide(s), windows=windows)
    labels = {t.get_text() for t in fig.legends[0].get_texts()}
    assert {"x", "other", "Control band (far from the line)", "0–5 km from the line"} <= labels
    out = render_figure(fig)
    assert out.png[:8] == b"\x89PNG\r\n\x1a\n" and "<svg" in out.svg[:500]

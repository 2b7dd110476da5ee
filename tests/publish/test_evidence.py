"""Evidence from the detections: minute times, timing against the window, FIRMS rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from truceline.errors import InputError
from truceline.publish.evidence import (
    DETECTION_COLUMNS,
    EVIDENCE_COLUMNS,
    detection_table,
    evidence_rows,
    incident_evidence,
    utc_window,
)

WINDOW = ("2025-08-20T21:00:00Z", "2025-08-30T21:00:00Z")
COMPARISON = ("2025-08-10T21:00:00Z", "2025-08-20T21:00:00Z")


def detections() -> pd.DataFrame:
    t = pd.to_datetime(["2025-08-19 23:37", "2025-08-21 10:45", "2025-08-21 10:45",
                        "2025-08-12 00:07", None, "2025-09-02 11:00"], utc=True)
    return pd.DataFrame({
        "detection_id": ["d1", "d2", "d3", "d4", "d5", "d6"],
        "lon": [32.87896, 32.9, 32.91, 36.0, 37.0, 38.0],
        "lat": [46.69989, 46.7, 46.71, 48.0, 48.5, 49.0],
        "acq_date": pd.to_datetime(["2025-08-19", "2025-08-21", "2025-08-21", "2025-08-12",
                                    "2025-08-30", "2025-09-02"]),
        "t_utc": t, "time_known": [True, True, True, True, False, True],
        "sensor": "VIIRS", "satellite": ["N20", "N20", "N", "N20", "unknown", "N20"],
        "frp": [1.0, 45.72, 63.46, np.nan, np.nan, 3.0],
        "daynight": ["N", "D", "D", "N", None, "D"],
        "side": ["ua", "ua", "ua", "ru", "ru", "third"],
        "distance_km": [1.04, 0.9, 0.8, -3.4, -1.0, 200.0],
        "p_natural": [0.004, 1e-4, 1e-4, 0.2, 0.03, 0.5],
        "war": [True, True, True, False, True, False],
        "source_file": "J1_VIIRS_C2_Global_VJ114IMGTDL_NRT_2025233.txt.csv",
        "source_line": [331, 340, 332, 19, 5, 7],
    })


def incidents() -> pd.DataFrame:
    return pd.DataFrame({
        "incident_id": ["a", "b", "c", "d"],
        "t_start": pd.to_datetime(["2025-08-19", "2025-08-12", "2025-08-30", "2025-09-02"],
                                  utc=True),
        "t_end": pd.to_datetime(["2025-08-21", "2025-08-12", "2025-08-30", "2025-09-02"],
                                utc=True),
        "detection_ids": [["d1", "d2", "d3"], "d4", ["d5"], ["d6"]],
        "n_detections": [3, 1, 1, 1], "side": ["ua", "ru", "ru", "third"],
        "lon": [32.9, 36.0, 37.0, 38.0], "lat": [46.7, 48.0, 48.5, 49.0],
    })


def test_times_to_the_minute_frp_and_satellites_come_from_the_detections() -> None:
    inc = incident_evidence(incidents(), detections(), WINDOW).set_index("incident_id")
    assert inc.at["a", "t_first"] == pd.Timestamp("2025-08-19 23:37", tz="UTC")
    assert inc.at["a", "t_last"] == pd.Timestamp("2025-08-21 10:45", tz="UTC")
    assert inc.at["a", "n_in_window"] == 2  # the 19 August detection is before the window
    assert inc.at["a", "frp_total"] == pytest.approx(110.18)
    assert inc.at["a", "frp_max"] == pytest.approx(63.46)
    assert inc.at["a", "satellites"] == "N+N20" and inc.at["a", "daynight"] == "D+N"
    assert bool(inc.at["a", "time_known"]) and not bool(inc.at["c", "time_known"])
    assert inc.at["a", "side_name"] == "Ukrainian-held ground"


def test_timing_before_inside_possibly_after() -> None:
    inc = incident_evidence(incidents(), detections(), WINDOW).set_index("incident_id")
    assert inc["timing"].to_dict() == {"a": "inside", "b": "before",
                                       "c": "possibly inside", "d": "after"}
    # the date-only detection of 30 August overlaps the window's end (21:00 UTC)
    assert inc.at["c", "n_in_window"] == 0 and inc.at["c", "n_possibly_in_window"] == 1


def test_without_detections_the_incident_days_are_kept() -> None:
    inc = incident_evidence(incidents(), None, WINDOW).set_index("incident_id")
    assert inc.at["a", "t_first"] == pd.Timestamp("2025-08-19", tz="UTC")
    assert inc.at["a", "timing"] == "possibly inside"
    assert inc.at["b", "timing"] == "before" and pd.isna(inc.at["a", "n_in_window"])


def test_evidence_rows_are_the_firms_fields() -> None:
    ev = evidence_rows(incidents(), detections(), WINDOW)
    assert list(ev.columns) == list(EVIDENCE_COLUMNS)
    a = ev[ev.incident_id == "a"].set_index("detection_id")
    assert a.at["d1", "acq_date"] == "2025-08-19" and a.at["d1", "acq_time"] == "2337"
    assert a.at["d1", "in_window"] == "no" and a.at["d2", "in_window"] == "yes"
    assert a.at["d2", "latitude"] == 46.7 and a.at["d2", "instrument"] == "VIIRS"
    c = ev[ev.incident_id == "c"].iloc[0]
    assert pd.isna(c["acq_time"]) and c["in_window"] == "possibly"
    assert len(ev) == 6


def test_detection_table_has_the_war_call_and_the_period() -> None:
    t = detection_table(detections(), WINDOW, COMPARISON).set_index("detection_id")
    assert list(t.reset_index().columns) == list(DETECTION_COLUMNS)
    assert t["period"].to_dict() == {"d1": "comparison", "d2": "window", "d3": "window",
                                     "d4": "comparison", "d5": "window", "d6": "margin"}
    assert t["war_fire"].to_dict() == {"d4": False, "d1": True, "d2": True, "d3": True,
                                       "d5": True, "d6": False}
    assert t.index.tolist() == ["d4", "d1", "d2", "d3", "d5", "d6"]  # by time
    assert t.at["d6", "side_name"] == "a third country"
    assert t.at["d1", "t_utc"] == "2025-08-19T23:37Z"


def test_bad_window_is_named() -> None:
    with pytest.raises(InputError, match="window"):
        utc_window(("not a date", "2025-01-01"))
    with pytest.raises(InputError, match="detection_id"):
        evidence_rows(incidents(), detections().drop(columns="detection_id"), WINDOW)


def test_detections_the_table_lacks_widen_the_incident_to_its_days() -> None:
    inc = incidents()
    inc.loc[0, "detection_ids"] = ["d1", "d2", "d3", "gone"]  # 'gone': read for no day here
    inc.loc[0, "t_end"] = pd.Timestamp("2025-08-31", tz="UTC")
    out = incident_evidence(inc, detections(), WINDOW).set_index("incident_id")
    assert out.at["a", "t_first"] == pd.Timestamp("2025-08-19 23:37", tz="UTC")
    assert out.at["a", "t_last"] == pd.Timestamp("2025-08-31", tz="UTC")
    assert not bool(out.at["a", "time_known"]) and out.at["a", "n_firms_rows"] == 3
    assert bool(out.at["b", "time_known"])

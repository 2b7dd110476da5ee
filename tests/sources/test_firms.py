"""FIRMS parsing: every layout, normalisation, sensor rules and bad rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from firms_text import MODIS_HEADER, VIIRS_HEADER
from truceline.errors import InputError
from truceline.sources.firms import detection_ids, parse_firms, sensor_from_filename


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_viirs_archive_layout_normalises_fields(tmp_path):
    p = write(tmp_path, "fire_archive_SV-C2_1.csv", VIIRS_HEADER.upper() + "\n"
              "48.40647,37.19036,337.59,0.49,0.48,2025-08-18,0013,N,h,2,289.87,4.26,N,VIIRS\n"
              "47.6,35.5,319.59,0.43,0.46,2025-08-18,13:05,1,l,2,287.13,1.32,D,VIIRS\n")
    f = parse_firms(p)
    d = f.detections
    assert f.layout == "viirs" and len(d) == 2 and f.rejected.empty
    assert d["t_utc"].iloc[0] == pd.Timestamp("2025-08-18 00:13", tz="UTC")
    assert d["t_utc"].iloc[1] == pd.Timestamp("2025-08-18 13:05", tz="UTC")
    assert list(d["satellite"]) == ["N", "N20"]
    assert list(d["confidence"]) == [0.9, 0.15]
    assert d["frp"].iloc[0] == pytest.approx(4.26)
    assert d["brightness"].iloc[0] == pytest.approx(337.59)
    assert not d["is_nrt"].any()


def test_modis_layout_percent_confidence_and_satellite_names(tmp_path):
    p = write(tmp_path, "fire_archive_M-C61_9.csv", MODIS_HEADER + "\n"
              "50.1,30.2,310.5,1,1,2021-05-01,0842,Terra,MODIS,73,6.1,290,12.5,D,0\n"
              "50.2,30.3,320.5,1,1,2021-05-01,1011,A,MODIS,100,6.1NRT,291,20.0,D,0\n")
    d = parse_firms(p).detections
    assert list(d["sensor"]) == ["MODIS", "MODIS"]
    assert list(d["satellite"]) == ["Terra", "Aqua"]
    assert list(d["confidence"]) == [0.73, 1.0]
    assert list(d["is_nrt"]) == [False, True]


def test_economist_layout_and_hhmm_without_leading_zeros(tmp_path):
    p = write(tmp_path, "war_fires.csv", "LATITUDE,LONGITUDE,ACQ_TIME,date\n"
              "47.1,37.5,13,2022-03-01\n47.2,37.6,1042,2022-03-01\n")
    d = parse_firms(p, sensor="VIIRS", satellite="N").detections
    assert list(d["t_utc"].dt.strftime("%H:%M")) == ["00:13", "10:42"]
    assert (d["sensor"] == "VIIRS").all() and (d["satellite"] == "N").all()


def test_sensor_and_satellite_from_filename():
    assert sensor_from_filename("J1_VIIRS_C2_Global_VJ114IMGTDL_NRT_2025230.txt") == ("VIIRS",
                                                                                      "N20")
    assert sensor_from_filename("SUOMI_VIIRS_C2_Europe_VNP14IMGTDL_NRT_2024100.txt") == (
        "VIIRS", "N")
    assert sensor_from_filename("MODIS_C6_1_Global_MCD14DL_NRT_2024100.txt")[0] == "MODIS"
    assert sensor_from_filename("something.csv") == (None, None)


def test_bad_rows_are_quarantined_with_line_and_reason(tmp_path):
    p = write(tmp_path, "minimal.csv", "LATITUDE,LONGITUDE,ACQ_DATE\n"
              "50.1234,30.1234,2021-05-01\n"        # 2 good
              "abc,30.1,2021-05-01\n"                # 3 not a number
              "95.0,30.1,2021-05-01\n"               # 4 latitude range
              "50.0,190.0,2021-05-01\n"              # 5 longitude range
              "50.0,30.0,2021-02-30\n"               # 6 impossible date
              "\n"                                   # 7 blank line
              "50.0,30.0\n"                          # 8 too few fields
              "50.5,30.5,2021-05-02\n"               # 9 good
              "50.5,30.5,2021-05-02\n")              # 10 repeat of 9
    f = parse_firms(p, sensor="MODIS")
    assert len(f.detections) == 2
    assert list(f.detections["source_line"]) == [2, 9]
    rej = f.rejected.set_index("line")["reason"]
    assert set(rej.index) == {3, 4, 5, 6, 8, 10}
    assert "latitude value 'abc' is not a number" in rej[3]
    assert rej[4] == "latitude '95.0' outside [-90, 90]"  # with its value
    assert rej[5] == "longitude '190.0' outside [-180, 180]"
    assert "'2021-02-30' is not a real date" in rej[6]
    assert "has 2 fields, expected 3" in rej[8]
    assert "repeats line 9" in rej[10]
    assert f.rejected.set_index("line").loc[3, "raw"] == "abc,30.1,2021-05-01"
    assert f.n_rows == len(f.detections) + len(f.rejected)


def test_impossible_time_and_confidence_rejected(tmp_path):
    p = write(tmp_path, "fire_nrt_SV-C2_2.csv", VIIRS_HEADER + "\n"
              "48.4,37.1,337,0.4,0.4,2025-08-18,2475,N,n,2.0NRT,289,4.2,N,VIIRS\n"
              "48.4,37.1,337,0.4,0.4,2025-08-18,1275,N,n,2.0NRT,289,4.2,N,VIIRS\n"
              "48.4,37.1,337,0.4,0.4,2025-08-18,12h30,N,n,2.0NRT,289,4.2,N,VIIRS\n"
              "48.4,37.1,337,0.4,0.4,2025-08-18,1230,N,maybe,2.0NRT,289,4.2,N,VIIRS\n")
    f = parse_firms(p)
    assert f.detections.empty
    reasons = list(f.rejected["reason"])
    assert "impossible acq_time '2475'" in reasons[0]
    assert "impossible acq_time '1275'" in reasons[1]
    assert "'12h30' is not HHMM" in reasons[2]
    assert "confidence 'maybe'" in reasons[3]


def test_not_a_firms_file_is_refused_naming_file_and_columns(tmp_path):
    p = write(tmp_path, "weather.csv", "OBLAST_ID,date,rain\n1,2021-01-01,3\n")
    with pytest.raises(InputError, match=r"weather.csv: not a FIRMS file: columns "
                       r"\['oblast_id', 'date', 'rain'\]; expected .*latitude, longitude"):
        parse_firms(p)


def test_detection_id_stable_across_time_spellings():
    a = detection_ids(np.array(["VIIRS"]), np.array(["N20"]), np.array([100]),
                      np.array([48.406471]), np.array([37.190362]))
    b = detection_ids(np.array(["VIIRS"]), np.array(["N20"]), np.array([100]),
                      np.array([48.40647]), np.array([37.19036]))
    c = detection_ids(np.array(["MODIS"]), np.array(["N20"]), np.array([100]),
                      np.array([48.40647]), np.array([37.19036]))
    assert a[0] == b[0] != c[0]
    assert len(a[0]) == 16


def test_real_nrt_file_round_trips(data_dir):
    path = next((data_dir / "firms/viirs_noaa20_nrt_2025").glob("*2025230*"))
    raw = pd.read_csv(path)
    f = parse_firms(path)
    assert len(f.detections) == len(raw) - len(f.rejected)
    d = f.detections
    assert (d["sensor"] == "VIIRS").all() and (d["satellite"] == "N20").all()
    assert np.allclose(d["lat"], raw["latitude"]) and np.allclose(d["frp"], raw["frp"])
    hhmm = raw["acq_time"].str.slice(0, 5)
    assert list(d["t_utc"].dt.strftime("%H:%M")) == list(hhmm)


def test_yearly_precision_split_matches_sources_md(data_dir):
    """2011 is all MODIS; 2020 about 27k MODIS and 93k VIIRS; 2023 all VIIRS."""
    y = data_dir / "firms/ukraine_yearly"
    f2011 = parse_firms(y / "ukr_fire_data_2011.csv")
    assert (f2011.detections["sensor"] == "MODIS").all()
    f2020 = parse_firms(y / "ukr_fire_data_2020.csv")
    counts = f2020.detections["sensor"].value_counts()
    assert 25_000 < counts["MODIS"] < 29_000 and 90_000 < counts["VIIRS"] < 96_000
    f2023 = parse_firms(y / "ukr_fire_data_2023.csv")
    assert (f2023.detections["sensor"] == "VIIRS").all()
    assert f2023.detections["sensor_inferred"].all()
    assert "rule" in f2023.sensor_rule

"""Every detection of a period with its call, in three formats that read back alike."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from truceline.errors import InputError
from truceline.publish.detections import DETECTION_EXPORT_COLUMNS, write_detections


def _classified() -> pd.DataFrame:
    return pd.DataFrame({
        "detection_id": ["a", "b", "c"], "lon": [37.5, 37.6, 30.5],
        "lat": [47.1, 47.2, 50.4],
        "acq_date": pd.to_datetime(["2022-03-22", "2022-03-22", "2019-03-01"]),
        "t_utc": pd.to_datetime(["2022-03-22 10:41", None, None], utc=True),
        "sensor": ["VIIRS", "VIIRS", "MODIS"], "satellite": ["N", "N", "unknown"],
        "frp": [3.2, np.nan, np.nan], "p_natural": [1e-4, 2e-3, 0.4],
        "war": [True, True, False],
        "test": pd.Categorical(["excess", "follow-on", "season"]),
        "incident_id": ["i1", "i1", None],
        "side": pd.Categorical(["ru", "ru", None]), "distance_km": [-4.0, -5.5, np.nan],
        "sector": pd.Categorical(["Mariupol", "Mariupol", None]),
        "place": ["Mariupol", "Mariupol", "Kyiv"], "extra": [1, 2, 3],
    })


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".geojson"])
def test_round_trip_keeps_every_row_and_the_call(tmp_path, suffix: str) -> None:
    path = write_detections(_classified(), tmp_path / f"d{suffix}")
    back = (pd.read_csv(path, keep_default_na=False, na_values=[""]) if suffix == ".csv"
            else gpd.read_file(path) if suffix == ".geojson" else gpd.read_parquet(path))
    assert list(back.columns[:len(DETECTION_EXPORT_COLUMNS)]) == list(DETECTION_EXPORT_COLUMNS)
    assert back["war"].astype(bool).tolist() == [True, True, False]
    assert back["test"].tolist() == ["excess", "follow-on", "season"]
    assert str(back["acq_date"].iloc[2])[:10] == "2019-03-01"
    assert str(back["t_utc"].iloc[0]).startswith("2022-03-22")
    assert pd.isna(back["t_utc"].iloc[1]) and pd.isna(back["side"].iloc[2])
    assert back["incident_id"].iloc[0] == "i1" and pd.isna(back["incident_id"].iloc[2])
    assert "extra" not in back.columns
    assert not list(tmp_path.glob(".detections-*"))  # no temporary file left


def test_unknown_format_and_missing_folder(tmp_path) -> None:
    with pytest.raises(InputError, match=r"unknown format '\.xlsx'"):
        write_detections(_classified(), tmp_path / "d.xlsx")
    with pytest.raises(InputError, match="does not exist"):
        write_detections(_classified(), tmp_path / "no" / "d.csv")

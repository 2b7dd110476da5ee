"""Country outlines: the shipped Natural Earth data, Crimea, caching."""

from __future__ import annotations

import pytest
import shapely

from truceline.errors import InputError
from truceline.geo import outlines


def test_theatre_countries_present() -> None:
    c = outlines.countries()
    for code in ("UKR", "RUS", "BLR", "MDA", "ROU", "POL", "SVK", "HUN"):
        assert code in c, code


@pytest.mark.parametrize(
    ("lon", "lat", "iso3"),
    [
        (34.10, 44.95, "UKR"),  # Simferopol: German point of view, Crimea in Ukraine
        (33.52, 44.60, "UKR"),  # Sevastopol
        (30.52, 50.45, "UKR"),  # Kyiv
        (37.80, 48.00, "UKR"),  # Donetsk
        (36.59, 50.60, "RUS"),  # Belgorod
        (27.56, 53.90, "BLR"),  # Minsk
        (28.86, 47.01, "MDA"),  # Chisinau
    ],
)
def test_cities_fall_in_their_country(lon: float, lat: float, iso3: str) -> None:
    assert shapely.contains_xy(outlines.outline(iso3), lon, lat)


def test_crimea_area_matches_published_figure() -> None:
    # Autonomous Republic of Crimea + Sevastopol: about 26,900 km² (SOURCES.md: 26,689)
    km2 = outlines.crimea_m().area / 1e6
    assert 26_000 < km2 < 28_000
    assert shapely.contains_xy(outlines.crimea(), 34.10, 44.95)
    assert not shapely.contains_xy(outlines.crimea(), 33.37, 46.63)  # Nova Kakhovka


def test_crimea_fill_covers_crimea_and_its_approaches() -> None:
    fill = outlines.crimea_fill_m()
    assert fill.covers(shapely.buffer(outlines.crimea_m(), -10))
    assert fill.area / 1e6 < 31_000


def test_outlines_are_cached() -> None:
    assert outlines.countries() is outlines.countries()
    assert outlines.outline_m("UKR") is outlines.outline_m("UKR")


def test_unknown_country_is_refused() -> None:
    with pytest.raises(InputError, match="no outline for country 'XXX'"):
        outlines.outline("XXX")


def test_metric_round_trip() -> None:
    p = shapely.Point(31.0, 48.0)
    back = outlines.to_lonlat(outlines.to_metric(p))
    assert back.distance(p) < 1e-9


def test_ukraine_area_close_to_official() -> None:
    # 603,550 km² officially; Natural Earth 10m at this scale is within 1%
    km2 = outlines.outline_m("UKR").area / 1e6
    assert km2 == pytest.approx(603_550, rel=0.015)


def test_geo_exports_are_complete_and_sorted() -> None:
    import truceline.geo as geo

    assert geo.__all__ == sorted(geo.__all__)
    for name in geo.__all__:
        assert hasattr(geo, name), name

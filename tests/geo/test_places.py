"""GeoNames places and regions."""

from __future__ import annotations

import numpy as np
import pytest

from truceline.geo import outlines, places


@pytest.mark.parametrize(
    ("lon", "lat", "country", "name", "region"),
    [
        (30.52, 50.45, 0, "Kyiv", "Kyiv City"),
        (37.80, 48.00, 0, "Donetsk", "Donetsk Oblast"),  # the city, not one of its districts
        (34.10, 44.95, 0, "Simferopol", "Crimea"),
        (36.59, 50.60, 1, "Belgorod", "Belgorod Oblast"),
        (39.72, 47.24, 1, "Rostov-on-Don", "Rostov Oblast"),
    ],
)
def test_nearest_place_and_region(lon, lat, country, name, region) -> None:
    x, y = outlines._TO_M.transform(np.array([lon]), np.array([lat]))
    i, km = places.nearest_place(x, y, np.array([country]))
    row = places.places().table.iloc[i[0]]
    assert row["name"] == name
    assert row["region"] == region
    assert km[0] < 5


def test_country_restriction_keeps_the_border_honest() -> None:
    # a point in Russia 2 km from the border: with country=1 its place is Russian
    x, y = outlines._TO_M.transform(np.array([36.0]), np.array([50.47]))
    i, _ = places.nearest_place(x, y, np.array([1]))
    assert places.places().table.cc.iloc[i[0]] != "UA"


def test_region_name_fallback() -> None:
    assert places.region_name("UA", "05") == "Donetsk Oblast"
    assert places.region_name("BY", "04", "Minsk") == "BY.04 (Minsk)"


def test_city_population_is_the_city_whose_urban_area_holds_the_point() -> None:
    # Zaporizhzhia (710,052 in GeoNames, urban radius 12 m x sqrt(pop) = 10.1 km): its
    # centre and a point 6 km east are in it, a point 14 km east is not; Mariupol's
    # centre; open steppe between towns; a point with no coordinates
    lon = np.array([35.14, 35.22, 35.33, 37.55, 33.00, np.nan])
    lat = np.array([47.84, 47.84, 47.84, 47.10, 47.00, np.nan])
    pop = places.city_population(lon, lat)
    assert pop[0] == pop[1] == 710_052
    assert pop[2] == 0
    assert 400_000 > pop[3] > 300_000
    assert pop[4] == 0 and pop[5] == 0

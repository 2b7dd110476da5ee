"""Report figures: bands in metres, maps and timelines that render offline and reproducibly."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import LineString, MultiLineString, Point, box

from truceline.errors import InputError
from truceline.publish.maps import (
    RenderedFigure,
    band_rings,
    incident_map,
    render_figure,
    timeline_chart,
)

LINE = LineString([(37.0, 48.0), (38.3, 48.3)])
# Russian-held ground: the strip north of the line, with a hole (a pocket held by Ukraine)
HELD = shapely.difference(box(36.8, 48.0, 38.5, 48.8), box(37.5, 48.4, 37.6, 48.5))


def _incidents(n: int = 5) -> gpd.GeoDataFrame:
    lon = np.linspace(37.1, 38.2, n)
    lat = np.linspace(48.05, 48.3, n)
    return gpd.GeoDataFrame({
        "incident_id": [f"I{i}" for i in range(n)],
        "n_detections": np.arange(1, n + 1) * 3,
        "confidence": (["high", "medium", "low", "high", "unknown"] * n)[:n],
        "place": ["Avdiivka", "Marinka", "", "Bakhmut", "Toretsk"][:n] + [""] * max(n - 5, 0),
        "p_min": np.geomspace(1e-5, 0.04, n),
    }, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


def _timeline(days: int = 20) -> pd.DataFrame:
    idx = pd.date_range("2023-01-01", periods=days, freq="D")
    rng = np.random.default_rng(0)
    return pd.DataFrame({b: rng.poisson(k, days) for b, k in
                         [("0-5", 9), ("5-15", 6), ("15-30", 3), ("30-60", 2), ("control", 2)]},
                        index=idx)


def _no_external_refs(svg: str) -> None:
    for ref in re.findall(r'(?:xlink:href|href|src)="([^"]*)"', svg):
        assert ref.startswith(("#", "data:")), ref


def test_band_rings_are_metric_and_nested() -> None:
    rings = band_rings(LINE, (5, 15, 30, 60))
    assert [label for label, _ in rings] == ["0-5", "5-15", "15-30", "30-60"]
    # rings do not overlap, and the 0-5 ring of a straight line is a 10 km wide strip
    for (_, a), (_, b) in zip(rings, rings[1:], strict=False):
        assert shapely.area(shapely.intersection(a, b)) < 1e-9
    geod_len_km = 103.0  # the line's length on the ellipsoid, give or take
    from pyproj import Geod

    area_km2 = abs(Geod(ellps="WGS84").geometry_area_perimeter(rings[0][1])[0]) / 1e6
    expected = 10 * geod_len_km + np.pi * 25
    assert area_km2 == pytest.approx(expected, rel=0.03)


@pytest.mark.parametrize("geom", [
    LINE,
    MultiLineString([[(37.0, 48.0), (37.5, 48.1)], [(37.6, 48.1), (38.3, 48.3)]]),
    LineString([(37.0, 48.0), (37.0, 48.0001)]),
])
def test_band_rings_accept_awkward_lines(geom: shapely.Geometry) -> None:
    rings = band_rings(geom, (5, 15))
    assert len(rings) == 2 and all(not r.is_empty for _, r in rings)


def test_band_rings_refuse_metres_and_bad_bands() -> None:
    with pytest.raises(InputError, match="not lon/lat"):
        band_rings(LineString([(3e5, 5e6), (4e5, 5.1e6)]))
    with pytest.raises(InputError, match="bands_km"):
        band_rings(LINE, (0, 5))
    with pytest.raises(InputError, match="expected a shapely geometry"):
        band_rings("LINESTRING (0 0, 1 1)")  # type: ignore[arg-type]
    assert band_rings(LineString()) == []


def test_map_renders_png_and_inline_svg_reproducibly() -> None:
    a = render_figure(incident_map(_incidents(), LINE, HELD, context=box(36, 47, 39, 49)))
    b = render_figure(incident_map(_incidents(), LINE, HELD, context=box(36, 47, 39, 49)))
    assert isinstance(a, RenderedFigure)
    assert a.png.startswith(b"\x89PNG") and len(a.png) > 10_000
    assert a.svg.startswith("<svg") and "<?xml" not in a.svg and "<metadata" not in a.svg
    _no_external_refs(a.svg)
    assert a.svg == b.svg and a.png == b.png
    assert a.png_data_uri().startswith("data:image/png;base64,")


def test_map_from_lon_lat_frame_and_empty_cases() -> None:
    df = pd.DataFrame(_incidents().drop(columns="geometry"))
    df["lon"], df["lat"] = 37.5, 48.1
    assert render_figure(incident_map(df, LINE)).png.startswith(b"\x89PNG")
    empty = _incidents().iloc[0:0]
    assert render_figure(incident_map(empty, LINE, HELD)).svg.startswith("<svg")
    nothing = incident_map(None, None)
    assert "Nothing to map" in " ".join(t.get_text() for t in nothing.axes[0].texts)
    with pytest.raises(InputError, match="no geometry and no lon/lat"):
        incident_map(pd.DataFrame({"x": [1]}), LINE)
    with pytest.raises(InputError, match="extent"):
        incident_map(_incidents(), LINE, extent=(38, 48, 37, 49))


def test_map_reprojects_incidents_given_in_metres() -> None:
    inc = _incidents().to_crs(3857)
    fig = incident_map(inc, LINE)
    xs = np.concatenate([c.get_offsets()[:, 0] for c in fig.axes[0].collections
                         if len(c.get_offsets())])
    assert xs.min() > 36 and xs.max() < 39


def test_timeline_shades_window_and_missing_days() -> None:
    tl = _timeline()
    window = (pd.Timestamp("2023-01-06 09:00", tz="UTC"), pd.Timestamp("2023-01-07 21:00",
                                                                       tz="Europe/Moscow"))
    fig = timeline_chart(tl, window, no_data_days=["2023-01-10"], title="Christmas truce")
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "Agreement window" in labels and "No satellite data" in labels
    assert "0–5 km from the line" in labels and "Control band (far from the line)" in labels
    out = render_figure(fig)
    _no_external_refs(out.svg)


def test_timeline_coverage_strip_under_the_days() -> None:
    tl = _timeline()
    days = [{"date": "2023-01-06", "n_passes": 4, "cloud": 0.9, "counts": False},
            {"date": "2023-01-07", "n_passes": 4, "cloud": 0.2, "counts": True},
            {"date": "2023-01-08", "n_passes": 0, "cloud": None, "feed_gap": True}]
    fig = timeline_chart(tl, coverage_days=days)
    strip = fig.axes[1]
    heights = [b.get_height() for b in strip.patches]
    colours = [b.get_facecolor()[:3] for b in strip.patches]
    assert heights[:3] == [4, 4, 0]
    assert colours[0] != colours[1]  # a day that does not count looks different
    legend = [t.get_text() for t in strip.get_legend().get_texts()]
    assert "feed gap (no data, not calm)" in legend
    assert any(ax.get_ylabel() == "cloud %" for ax in fig.axes)
    assert len(timeline_chart(tl).axes) == 1  # no strip without coverage days


def test_timeline_accepts_string_dates_and_refuses_junk() -> None:
    tl = _timeline(5)
    tl.index = tl.index.strftime("%Y-%m-%d")
    assert render_figure(timeline_chart(tl)).png.startswith(b"\x89PNG")
    empty = timeline_chart(pd.DataFrame())
    assert "No daily counts" in empty.axes[0].texts[0].get_text()
    with pytest.raises(InputError, match="expected a DataFrame"):
        timeline_chart([1, 2, 3])  # type: ignore[arg-type]
    with pytest.raises(InputError, match="expected dates"):
        timeline_chart(pd.DataFrame({"0-5": [1]}, index=["not a date"]))


def test_point_geometry_outside_lon_lat_is_refused() -> None:
    with pytest.raises(InputError, match="ru_ground"):
        incident_map(None, LINE, Point(5e5, 5e6).buffer(10))


def test_timeline_axis_names_the_days_shown_not_the_next_month() -> None:
    """A window ending on 31 August must not read "2025-Sep" under the axis."""
    days = pd.date_range("2025-08-11", "2025-08-31")
    tl = pd.DataFrame({"0-5": np.arange(len(days))}, index=days)
    fig = timeline_chart(tl)
    fig.canvas.draw()
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.get_xticklabels()] + [ax.xaxis.get_offset_text().get_text()]
    assert not any("Sep" in t for t in texts)
    assert ax.get_xlabel().startswith("11 Aug 2025 – 31 Aug 2025")


def test_map_drops_a_name_that_would_overlap_a_more_certain_one() -> None:
    inc = _incidents(4)
    # Bakhmut's incident moved next to Avdiivka's (the most certain): its name would overlap
    inc.loc[3, "geometry"] = Point(37.1005, 48.0505)
    names = [t.get_text() for t in incident_map(inc, LINE).axes[0].texts
             if t.get_text() in ("Avdiivka", "Marinka", "Bakhmut")]
    assert "Avdiivka" in names and "Marinka" in names and "Bakhmut" not in names
    apart = [t.get_text() for t in incident_map(_incidents(4), LINE).axes[0].texts]
    assert {"Avdiivka", "Marinka", "Bakhmut"} <= set(apart)

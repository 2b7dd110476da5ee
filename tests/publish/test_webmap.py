"""The interactive map: a fragment any page can hold, offline, and a click shows the evidence.

Headless Chromium (Debian's ``chromium``; skipped, saying so, when absent) loads a page
with the map, clicks an incident with a real mouse event and reads the panel.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from browser_harness import CHROMIUM, SKIP_REASON, open_page
from shapely import LineString, box
from test_evidence import WINDOW, detections, incidents

from truceline.errors import InputError
from truceline.publish import basemap
from truceline.publish.webmap import (
    DETECTION_FIELDS,
    INCIDENT_FIELDS,
    WebMap,
    firms_map_url,
    plotly_js,
    web_map,
    worldview_url,
)

LINE = LineString([(32.5, 46.6), (33.2, 46.8), (36.5, 47.8), (38.2, 48.6)])
HELD = box(33.0, 44.5, 40.0, 47.0).union(box(36.6, 47.0, 40.0, 49.5))


def _incident_gdf() -> gpd.GeoDataFrame:
    inc = incidents()
    inc["place"] = ["Kozachi Laheri", "Marhanets", "Avdiivka", "Belgorod"]
    inc["sector"] = ["Kherson", "Zaporizhzhia", "Donetsk", "Kharkiv"]
    inc["dist_km"] = [0.74, -3.4, -1.0, 200.0]
    inc["p_min"] = [1.07e-5, 0.2, 0.03, 0.5]
    inc["confidence"] = ["high", "low", "medium", "low"]
    return gpd.GeoDataFrame(inc, geometry=gpd.points_from_xy(inc.lon, inc.lat), crs=4326)


def _spec(m: WebMap) -> dict:
    raw = re.search(r'<script type="application/json" id="[^"]+-data">(.*?)</script>',
                    m.html, re.S)
    assert raw is not None
    return json.loads(raw.group(1))


def test_the_fragment_carries_its_data_and_no_url_to_fetch() -> None:
    m = web_map(_incident_gdf(), detections(), LINE, HELD, window=WINDOW, context=False,
                credits=["Fire: NASA FIRMS"])
    spec = _spec(m)
    names = [t["name"] for t in spec["data"]]
    assert "Line of contact" in names and any(n.startswith("Incident inside") for n in names)
    assert any(n.startswith("Incident before") for n in names)
    assert any(n.startswith("Fire detection, war-fire call (4)") for n in names)
    inside = next(t for t in spec["data"] if t["name"].startswith("Incident inside"))
    row = dict(zip(INCIDENT_FIELDS, inside["customdata"][0][1:], strict=True))
    assert row["first_utc"] == "2025-08-19 23:37 UTC" and row["last_utc"] == "2025-08-21 10:45 UTC"
    assert row["in_window"] == "2" and row["frp"].startswith("110.2 MW")
    assert row["distance"] == "0.7 km from the line" and row["ground"] == "held by Ukraine"
    det = next(t for t in spec["data"] if t["name"].startswith("Fire detection, war"))
    assert len(det["customdata"][0]) == len(DETECTION_FIELDS) + 1
    assert "Fire: NASA FIRMS" in m.html
    # nothing in the fragment or our script loads anything: only links a reader may click
    for text in (m.html, m.script):
        assert not re.search(r"(src|href)\s*=\s*['\"]?https?:", text)
    assert "fetch(" not in m.script and "XMLHttpRequest" not in m.script


def test_geojson_input_and_bad_ids() -> None:
    gj = json.loads(_incident_gdf().drop(columns=["t_start", "t_end", "detection_ids"])
                    .to_json())
    m = web_map(gj, None, json.loads(gpd.GeoSeries([LINE], crs=4326).to_json()),
                context=False, element_id="dash-map")
    assert 'id="dash-map-panel"' in m.html and '"dash-map"' in m.script
    with pytest.raises(InputError, match="element_id"):
        web_map(context=False, element_id="x\"><script>")
    with pytest.raises(InputError, match="incidents"):
        web_map(incidents=[1, 2], context=False)


def test_links_to_public_viewers() -> None:
    wv = worldview_url(32.85665, 46.68152, pd.Timestamp("2025-08-21 10:45", tz="UTC"))
    assert wv.startswith("https://worldview.earthdata.nasa.gov/?v=32.6067,46.5149,33.1067,")
    assert wv.endswith("&t=2025-08-21-T10:45:00Z") and "Thermal_Anomalies" in wv
    assert firms_map_url(32.85665, 46.68152, "2025-08-21").endswith(
        "#d:2025-08-21..2025-08-21;@32.8567,46.6815,12.0z")


def test_plotly_comes_from_the_installed_package() -> None:
    js = plotly_js()
    assert len(js) > 1_000_000 and "</script" not in js


def test_basemap_has_the_state_border_apart_from_the_country_lines() -> None:
    b = basemap.basemap((30.0, 44.0, 41.0, 53.0))
    km = shapely.length(b.state_border) * 111 * 0.66
    assert 1_500 < km < 4_500, km  # Ukraine's land border inside this window
    assert not b.country_lines.is_empty and len(b.cities) > 20
    assert "Kharkiv" in set(b.cities["name"])
    # the state border is not drawn twice
    assert shapely.length(shapely.intersection(b.country_lines,
                                               shapely.buffer(b.state_border, 0.001))) < 1.0
    for layer in ("oblast_lines", "lakes", "rivers"):
        geom = getattr(b, layer)
        assert geom.is_empty == any(layer.split("_")[0][:5] in m for m in b.missing), layer


@pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON)
def test_chromium_click_on_an_incident_shows_its_evidence(tmp_path: Path) -> None:
    m = web_map(_incident_gdf(), detections(), LINE, HELD, window=WINDOW)
    path = tmp_path / "map.html"
    path.write_text(m.page("test map"), encoding="utf-8")
    with open_page(path, width=1300, height=1000) as page:
        page.wait_for("document.getElementById('truceline-map').getAttribute('data-ready')")
        # where incident 'a' (inside the window) is drawn, in page pixels
        x, y = page.evaluate("""(function () {
            var gd = document.getElementById('truceline-map'), fl = gd._fullLayout;
            var tr = gd.data.filter(function (t) { return /^Incident inside/.test(t.name); })[0];
            var r = gd.getBoundingClientRect();
            return [r.left + fl.xaxis._offset + fl.xaxis.l2p(tr.x[0]),
                    r.top + fl.yaxis._offset + fl.yaxis.l2p(tr.y[0])]; })()""")
        page.click(x + 2, y + 1)  # off-centre, on top of a detection dot: still the incident
        page.wait_for("document.getElementById('truceline-map-panel')"
                      ".getAttribute('data-selected')", timeout=10)
        fields = page.evaluate("""Object.fromEntries(Array.from(document.querySelectorAll(
            '#truceline-map-panel [data-field]')).map(function (e) {
            return [e.getAttribute('data-field'), e.href || e.textContent]; }))""")
        time.sleep(0.2)
        page.drain()
    assert fields["incident"] == "a"
    assert fields["first_utc"] == "2025-08-19 23:37 UTC"
    assert fields["last_utc"] == "2025-08-21 10:45 UTC"
    assert fields["detections"] == "3" and fields["in_window"] == "2"
    assert fields["frp"] == "110.2 MW in all, strongest 63.5 MW"
    assert fields["p_natural"] == "< 0.001"
    assert fields["place"] == "Kozachi Laheri, Kherson"
    assert fields["distance"] == "0.7 km from the line"
    assert fields["timing"] == "inside the window"
    assert fields["worldview"] == worldview_url(32.9, 46.7, "2025-08-19T23:37Z")
    assert fields["firms"].startswith("https://firms.modaps.eosdis.nasa.gov/map/#d:2025-08-19")
    leaving = [u for u in page.requests if not u.startswith(("file:", "data:", "about:"))]
    assert leaving == [], leaving
    assert not [c for c in page.console if "Content Security Policy" in c or "Refused" in c
                or '"level": "error"' in c or "exceptionDetails" in c], page.console

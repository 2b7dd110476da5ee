"""The report: self-contained HTML that opens offline in a real browser, a PDF with the verdict.

Real clients check it when they are installed (each check skips cleanly otherwise):
headless Chromium loads report.html over file:// through the DevTools protocol, records
every network request and console message, reads the rendered text and takes a
screenshot; pdftotext reads the verdict back out of report.pdf.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from browser_harness import CHROMIUM, SKIP_REASON, open_page
from shapely import LineString, box

from truceline.errors import InputError
from truceline.publish.report import (
    HTML_FILE,
    PDF_FILE,
    VERDICTS,
    render_html,
    report_content,
    write_pdf,
    write_report,
)

LINE = LineString([(37.0, 48.0), (37.6, 48.25), (38.3, 48.3)])
HELD = box(36.8, 48.0, 38.5, 48.8).difference(LineString(LINE.coords).buffer(0.0001))
GENERATED = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)


def _incidents() -> gpd.GeoDataFrame:
    t0 = pd.Timestamp("2023-01-06 10:00", tz="UTC")
    lon = np.array([37.2, 37.55, 37.9, 38.1])
    lat = np.array([48.05, 48.3, 48.25, 48.35])
    return gpd.GeoDataFrame({
        "incident_id": ["XMAS-001", "XMAS-002", "XMAS-003", "XMAS-004-with-a-very-long-id"],
        "t_start": [t0, t0 + pd.Timedelta(hours=5), t0 + pd.Timedelta(hours=20),
                    t0 + pd.Timedelta(hours=26)],
        "t_end": [t0 + pd.Timedelta(hours=2), t0 + pd.Timedelta(hours=30),
                  t0 + pd.Timedelta(hours=21), pd.NaT],
        "n_detections": [2, 7, 1, 3],
        "lon": lon, "lat": lat,
        "side": ["ua", "ru", "ru", "ua"],
        "dist_km": [3.2, -8.1, -1.0, 22.0],
        "band": ["0-5", "5-15", "0-5", "15-30"],
        "sector": ["Bakhmut", "Bakhmut", "Donetsk", "Donetsk"],
        "place": ["Chasiv Yar", "Soledar", "Opytne", "Kostiantynivka"],
        "p_min": [0.0004, 1e-6, 0.03, 0.008],
        "confidence": ["high", "high", "low", "medium"],
        "detection_ids": [["v1", "v2"], [f"v{i}" for i in range(3, 10)], "m1", "v10;v11;v12"],
        "sensors": ["VIIRS", "VIIRS+MODIS", "MODIS", "VIIRS"],
    }, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


def _timeline() -> pd.DataFrame:
    idx = pd.date_range("2023-01-01", "2023-01-10", freq="D")
    rng = np.random.default_rng(2)
    return pd.DataFrame({b: rng.poisson(k, len(idx)) for b, k in
                         [("0-5", 5), ("5-15", 3), ("15-30", 2), ("30-60", 1), ("control", 1)]},
                        index=idx)


def _assessment(**over: Any) -> dict[str, Any]:
    a: dict[str, Any] = {
        "agreement": {"name": "Orthodox Christmas truce 2023",
                      "parties": [{"id": "ru", "name": "Russia"}, "Ukraine"],
                      "start_utc": "2023-01-06T09:00:00Z", "end_utc": "2023-01-07T21:00:00Z",
                      "time_zone": "Europe/Moscow", "declared_by": "ru"},
        "control_source": {"source": "isw", "snapshot_id": "isw:2023-01-05"},
        "verdict": "violated",
        "reasons": ["2 incidents in scope with p_natural below 0.01"],
        "coverage": {"passes": 6, "days_with_data": ["2023-01-06"],
                     "days_without_data": ["2023-01-07"],
                     "cloud_pct_by_oblast": {"Donetsk": 88.0, "Luhansk": 95.5, "Kharkiv": 70}},
        "counts": {"window": {"front": 13, "control": 2, "by_sector": {"Bakhmut": 9}},
                   "comparison": {"front": 40, "control": 5, "by_sector": {"Bakhmut": 22}},
                   "days": 2},
        "rate_ratio": {"estimate": 0.65, "ci_low": 0.34, "ci_high": 1.21},
        "did": {"estimate": 0.81, "ci_low": 0.2, "ci_high": 3.3, "p_value": 0.77,
                "model": "poisson"},
        "caveats": ["Winter cloud hid most of the front on 7 January."],
        "placebo_rank": 0.42,
        "notes": {"analyst": "synthetic fixture", "nan_here": float("nan")},
    }
    a.update(over)
    return a


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("report")
    write_report(d, _assessment(), _incidents(), LINE, _timeline(), HELD,
                 context=box(36, 47, 40, 49.5), generated_utc=GENERATED)
    return d


# --------------------------------------------------------------------------- content


def test_write_report_writes_every_file(report_dir: Path) -> None:
    names = sorted(p.name for p in report_dir.iterdir())
    assert names == sorted([
        "assessment.json", "incidents.csv", "incidents.geojson", "incidents.gpkg",
        "incidents.kml", "line_of_contact.geojson", "map.png", "map.svg", "timeline.png",
        "timeline.svg", HTML_FILE, PDF_FILE])


def test_write_report_returns_its_paths(tmp_path: Path) -> None:
    paths = write_report(tmp_path, {"verdict": "held"}, None, None, None, pdf=False,
                         figures=False, exports=False)
    assert paths == [tmp_path / HTML_FILE]


class _Refs(HTMLParser):
    """Every URL-bearing attribute and every tag name in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            if value is not None and name in {"src", "href", "xlink:href", "srcset",
                                              "action", "poster", "data", "formaction",
                                              "background", "manifest", "ping"}:
                self.refs.append(value)


#: Public viewers an incident row may link to (a reader's click, never a page load).
_VIEWERS = ("https://worldview.earthdata.nasa.gov/", "https://firms.modaps.eosdis.nasa.gov/")


def test_html_is_self_contained(report_dir: Path) -> None:
    page = (report_dir / HTML_FILE).read_text(encoding="utf-8")
    parser = _Refs()
    parser.feed(page)
    assert parser.refs, "expected in-page links at least"
    bad = [r for r in parser.refs if not r.startswith(("#", "data:", *_VIEWERS))]
    assert bad == []
    assert not re.search(r"<(script|img|iframe)[^>]*\ssrc\s*=", page)  # scripts are inline
    assert not parser.tags & {"link", "iframe", "object", "embed", "img"}
    assert "@import" not in page
    # outside scripts, CSS may point only at url(#local-id); Plotly's own styles use data:
    outside = re.sub(r"<script\b.*?</script>", "", page, flags=re.S)
    assert re.findall(r"url\(\s*['\"]?([^#'\")\s])", outside) == []
    scripts = "".join(re.findall(r"<script\b.*?</script>", page, flags=re.S))
    assert not re.findall(r"url\(\s*['\"]?(?!data:|#)([a-z]+:)", scripts)
    csp = re.search(r'Content-Security-Policy" content="([^"]+)"', page)
    assert csp and "default-src 'none'" in csp.group(1) and "http" not in csp.group(1)
    assert page.count("<svg") >= 2
    # the interactive map: Plotly from the installed package, inline, and its data
    assert "truceline-map-data" in page and "Plotly.newPlot" in page
    assert len(page) > 3_000_000


def test_html_without_the_interactive_map_runs_no_script(tmp_path: Path) -> None:
    write_report(tmp_path, _assessment(), _incidents(), LINE, _timeline(), HELD,
                 generated_utc=GENERATED, pdf=False, exports=False, interactive=False)
    page = (tmp_path / HTML_FILE).read_text(encoding="utf-8")
    parser = _Refs()
    parser.feed(page)
    assert "script" not in parser.tags and "script-src" not in page
    assert len(page) < 2_000_000


def test_html_says_what_the_data_shows(report_dir: Path) -> None:
    page = (report_dir / HTML_FILE).read_text(encoding="utf-8")
    assert "Verdict: <strong>Violated</strong>" in page
    assert VERDICTS["violated"][1] in page
    assert "2 incidents in scope with p_natural below 0.01" in page
    # times in UTC and in the agreement's zone
    assert "2023-01-06 09:00 UTC (2023-01-06 12:00 Europe/Moscow)" in page
    assert "Coverage was poor" in page and "2023-01-07" in page
    assert "not who fired" in page or "not who caused it" in page
    for inc in ("XMAS-001", "XMAS-002", "Chasiv Yar", "Held by Russia, 8.1 km from the line"):
        assert inc in page
    assert "v3, v4, v5 and 4 more" in page  # long evidence folds, all ids still present
    assert "v9" in page
    assert "isw, isw:2023-01-05" in page
    # keys the renderer does not know are shown, not dropped
    assert "Other figures" in page and "placebo rank" in page and "synthetic fixture" in page
    assert "Luhansk" in page and "96%" in page


def test_minimal_assessment_still_renders(tmp_path: Path) -> None:
    content = report_content({"verdict": "inconclusive"}, None, None, None,
                             generated_utc=GENERATED)
    page = render_html(content)
    assert "Inconclusive" in page and "Unnamed agreement" in page
    assert "reported no coverage at all" in page
    assert "No incident was found" in page
    odd = render_html(report_content({"verdict": "paused", "coverage": {"passes": 40}},
                                     _incidents().iloc[:0], LINE, _timeline()))
    assert "Paused" in odd and "no recognised verdict" in odd
    assert "Coverage was poor" not in odd
    with pytest.raises(InputError, match="expected a dict"):
        report_content(["violated"], None, None, None)  # type: ignore[arg-type]


def test_good_coverage_with_one_missing_day_is_a_note_not_a_warning() -> None:
    cov = {"passes": 30, "days_with_data": [f"2025-08-{d}" for d in range(21, 30)],
           "days_without_data": ["2025-08-30"], "cloud_pct_by_oblast": {"Donetsk": 10}}
    c = report_content(_assessment(verdict="held", coverage=cov), None, LINE, None)
    assert c.coverage_warning is not None and c.coverage_warning.startswith("Note on coverage")
    assert not c.coverage_poor


def test_html_is_reproducible(tmp_path: Path) -> None:
    pages = []
    for sub in ("a", "b"):
        write_report(tmp_path / sub, _assessment(), _incidents(), LINE, _timeline(), HELD,
                     generated_utc=GENERATED, pdf=False, exports=False)
        pages.append((tmp_path / sub / HTML_FILE).read_bytes())
    assert pages[0] == pages[1]


# --------------------------------------------------------------------------- PDF


def _pdftotext(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, timeout=60, check=True).stdout


@pytest.mark.skipif(shutil.which("pdftotext") is None,
                    reason="pdftotext not installed (Debian: poppler-utils)")
def test_pdftotext_finds_the_verdict(report_dir: Path) -> None:
    text = _pdftotext(report_dir / PDF_FILE)
    assert "Verdict: Violated" in text
    assert "2 incidents in scope with p_natural below 0.01" in text
    assert "XMAS-001" in text and "Method and caveats" in text
    assert "Coverage was poor" in text


@pytest.mark.skipif(shutil.which("pdftotext") is None,
                    reason="pdftotext not installed (Debian: poppler-utils)")
def test_matplotlib_pdf_fallback_has_the_verdict(tmp_path: Path) -> None:
    content = report_content(_assessment(verdict="reduced"), _incidents(), LINE, _timeline())
    path = write_pdf(tmp_path / "r.pdf", content, engine="matplotlib")
    text = _pdftotext(path)
    assert "Verdict: Reduced" in text and "XMAS-002" in text


def test_pdf_is_reproducible(tmp_path: Path) -> None:
    pytest.importorskip("reportlab")
    content = report_content(_assessment(), _incidents(), LINE, _timeline(),
                             generated_utc=GENERATED)
    a = write_pdf(tmp_path / "a.pdf", content).read_bytes()
    b = write_pdf(tmp_path / "b.pdf", content).read_bytes()
    assert a.startswith(b"%PDF") and a == b
    with pytest.raises(InputError, match="engine"):
        write_pdf(tmp_path / "c.pdf", content, engine="chrome")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- Chromium


@pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON)
def test_chromium_opens_the_report_offline(report_dir: Path) -> None:
    with open_page(report_dir / HTML_FILE) as page:
        text = page.evaluate("document.body.innerText")
        shot = page.screenshot()
        # the report's own interactive map: click incident XMAS-002, read the panel
        page.wait_for("document.getElementById('truceline-map').getAttribute('data-ready')")
        x, y = page.evaluate("""(function () {
            var gd = document.getElementById('truceline-map'), fl = gd._fullLayout;
            gd.scrollIntoView();
            var tr = gd.data.filter(function (t) { return t.customdata && t.customdata.length
                && t.customdata[0][0] === 'incident'; })[0];
            var i = tr.customdata.findIndex(function (r) { return r[1] === 'XMAS-002'; });
            var r = gd.getBoundingClientRect();
            return [r.left + fl.xaxis._offset + fl.xaxis.l2p(tr.x[i]),
                    r.top + fl.yaxis._offset + fl.yaxis.l2p(tr.y[i])]; })()""")
        page.click(x, y)
        page.wait_for("document.getElementById('truceline-map-panel')"
                      ".getAttribute('data-selected')", timeout=10)
        fields = page.evaluate("""Object.fromEntries(Array.from(document.querySelectorAll(
            '#truceline-map-panel [data-field]')).map(function (e) {
            return [e.getAttribute('data-field'), e.href || e.textContent]; }))""")
        page.drain()
        requests, console, url = page.requests, page.console, page.url
    assert fields["incident"] == "XMAS-002" and fields["place"] == "Soledar, Bakhmut"
    assert fields["first_utc"] == "2023-01-06 15:00 UTC"
    assert fields["distance"] == "8.1 km from the line" and fields["p_natural"] == "< 0.001"
    assert fields["worldview"].startswith("https://worldview.earthdata.nasa.gov/")

    (report_dir / "requests.log").write_text("\n".join(requests) + "\n")
    (report_dir / "screenshot.png").write_bytes(shot)
    # the only request is the page itself: nothing leaves the file
    leaving = [u for u in requests if not u.startswith(("file:", "data:", "about:"))]
    assert leaving == [], leaving
    assert url in requests
    assert not [c for c in console if "Content Security Policy" in c or "Refused" in c
                or '"level": "error"' in c], console
    assert "Verdict: Violated" in text and "XMAS-002" in text
    assert shot.startswith(b"\x89PNG") and len(shot) > 20_000


def test_party_names_come_from_the_agreement() -> None:
    agreement = {"name": "Another front", "parties": [{"id": "ua", "name": "Side A"},
                                                      {"id": "ru", "name": "Side B"}]}
    c = report_content({"verdict": "violated", "agreement": agreement}, _incidents(), LINE,
                       None)
    grounds = [r["ground"] for r in c.incident_rows]
    assert grounds[0].startswith("Held by Side A, 3.2 km from the line (0–5 km band)")
    assert grounds[1].startswith("Held by Side B")
    assert any("2 on ground held by Side A" in s for s in c.summary)
    assert "ground held by Side B (tan)" in c.map_caption
    assert not any("Russia" in g or "Ukrain" in g for g in grounds)


def test_timeline_window_can_come_with_the_timeline() -> None:
    tl = _timeline()
    tl.attrs["window"] = ("2023-01-06T09:00Z", "2023-01-07T21:00Z")
    c = report_content({"verdict": "held"}, None, None, tl)
    assert c.timeline_figure is not None and "<svg" in c.timeline_figure.svg
    no_window = report_content({"verdict": "held"}, None, None, _timeline())
    assert no_window.timeline_figure is not None
    assert c.timeline_figure.svg != no_window.timeline_figure.svg


def _real_schema() -> dict[str, Any]:
    """The shape truceline.analysis.assess.Assessment.to_dict() gives (abridged)."""
    rate = {"t_window": 10.0, "t_comparison": 10.0}
    return {
        "agreement": {"name": "what-if", "start_utc": "2025-08-21T00:00:00+00:00",
                      "end_utc": "2025-08-31T00:00:00+00:00",
                      "comparison_start_utc": "2025-08-11T00:00:00+00:00",
                      "comparison_end_utc": "2025-08-21T00:00:00+00:00",
                      "time_zone": "Europe/Kyiv", "scope": "whole line; 0-30 km",
                      "control_band_km": [60.0, 150.0], "fire_near_line": True,
                      "protected_sites": None, "declared_by": ["ru"], "accepted_by": [],
                      "parties": [{"id": "ru", "name": "Russia"},
                                  {"id": "ua", "name": "Ukraine"}]},
        "control_map": {"source": "deepstate", "snapshots": ["deepstate:2025-08-20"],
                        "note": None},
        "incidents": [{"incident_id": "inc-1", "timing": "inside", "p_min": 1e-4,
                       "side": "ru", "dist_km": 8.0, "sector": "Tokmak",
                       "t_start": "2025-08-23T00:50:00+00:00",
                       "t_end": "2025-08-23T00:50:00+00:00", "lon": 37.5, "lat": 47.5,
                       "n_detections": 3}],
        "site_hits": [{"site": "Zaporizhzhia NPP", "incident_id": "inc-1", "p_min": 1e-4}],
        "rates": [{"area": "front", "by": "all", "key": "all", "x_window": 173,
                   "x_comparison": 226, "rate_window": 17.3, "rate_comparison": 22.6,
                   "ratio": 0.7655, "lo": 0.6243, "hi": 0.9372, "p_value": 0.0091, **rate},
                  {"area": "control", "by": "all", "key": "all", "x_window": 202,
                   "x_comparison": 226, "rate_window": 20.2, "rate_comparison": 22.6,
                   "ratio": 0.8938, "lo": 0.7356, "hi": 1.0854, "p_value": 0.266, **rate},
                  {"area": "front", "by": "sector", "key": "Tokmak", "x_window": 92,
                   "x_comparison": 114, "ratio": 0.807, "lo": 0.606, "hi": 1.07,
                   "p_value": 0.14, **rate}],
        "contrast": [{"side": "all", "front_window": 173, "front_comparison": 226,
                      "control_window": 202, "control_comparison": 226, "estimate": 0.857,
                      "lo": 0.619, "hi": 1.185, "p_value": 0.35, "dispersion": 1.4}],
        "war_counts": {"window_certain": 3, "window_possible": 3, "comparison": 0},
        "coverage": {"start_utc": "2025-08-21T00:00:00+00:00",
                     "days": [{"date": "2025-08-21", "n_passes": 2, "n_detections": 43},
                              {"date": "2025-08-22", "n_passes": 0, "n_detections": 0}],
                     "days_without_data": ["2025-08-22"], "mean_passes_per_day": 1.0,
                     "cloud_by_oblast": [{"oblast_id": "UA23", "oblast": "Zaporizhzhia",
                                          "cloud_pct": 81.5, "n_days": 2}],
                     "adequate": False, "reasons": ["1.00 passes per window day (< 2)"],
                     "thresholds": {"min_passes_per_day": 2.0}},
        "verdict": "inconclusive", "rule": "I",
        "rule_text": "inconclusive: none of the above",
        "reasons": ["front rate 17.30/day is above the peacetime rate 1.00/day"],
        "parameters": {"alpha_violation": 0.01},
    }


def test_the_assessment_stage_schema_renders_in_full() -> None:
    c = report_content(_real_schema(), None, LINE, _timeline(), generated_utc=GENERATED)
    page = render_html(c)
    # the verdict, the rule that decided it and the control map actually used
    assert "Rule I: inconclusive: none of the above" in page
    assert "deepstate, snapshot deepstate:2025-08-20" in page
    # headline figures come from the rates and contrast rows
    assert any(s.startswith("Rate ratio 0.77 (95% interval 0.62 to 0.94)")
               and "173 detections in the window against 226" in s for s in c.statistics)
    assert any("control band) the rate ratio was 0.89" in s for s in c.statistics)
    assert any("ratio of rate ratios 0.86" in s for s in c.statistics)
    titles = [t.title for t in c.tables]
    assert titles == ["Counts and rates, window against comparison", "Sectors with fire",
                      "Front against control band", "Site hits"]
    assert c.tables[1].rows == [["Tokmak", "1", "92", "114", "0.81 (0.61–1.07)", "0.14"]]
    assert c.tables[0].rows[0][-2:] == ["0.77 (0.62–0.94)", "0.009"]
    # coverage: passes summed from the days, the assessment's judgement wins
    assert ("Satellite passes that delivered data", "2") in c.coverage
    assert ("Days with data", "1 of 2") in c.coverage
    assert c.coverage_poor and "1.00 passes per window day (< 2)" in (c.coverage_warning or "")
    assert c.cloud == [("Zaporizhzhia", "82%")]
    assert c.coverage_days == [["2025-08-21", "2", "43", "unknown", ""],
                              ["2025-08-22", "0", "0", "unknown", ""]]
    # incidents come from the assessment when no frame is given, with their timing
    assert [r["id"] for r in c.incident_rows] == ["inc-1"]
    assert "inside the window" in c.incident_rows[0]["when_end"]
    assert c.incident_rows[0]["ground"].startswith("Held by Russia, 8.0 km")
    # agreement instants in words, party ids as names, empty values left out
    rows = dict(c.agreement)
    assert rows["Compared with the period from"].startswith("2025-08-11 00:00 UTC")
    assert rows["Declared by"] == "Russia" and "Accepted by" not in rows
    assert ("war counts › window certain", "3") in c.other
    assert "Zaporizhzhia NPP" in page


@pytest.mark.skipif(shutil.which("pdftotext") is None,
                    reason="pdftotext not installed (Debian: poppler-utils)")
def test_the_assessment_stage_schema_prints(tmp_path: Path) -> None:
    c = report_content(_real_schema(), None, LINE, _timeline(), generated_utc=GENERATED)
    text = _pdftotext(write_pdf(tmp_path / "r.pdf", c))
    assert "Verdict: Inconclusive" in text and "Front against control band" in text


def test_report_folder_signs_and_verifies(tmp_path: Path) -> None:
    from truceline.publish.manifest import sign_report, verify_report
    from truceline.publish.signing import KeySigner

    write_report(tmp_path, _assessment(), _incidents(), LINE, _timeline(), HELD,
                 generated_utc=GENERATED, pdf=False)
    signer = KeySigner.generate()
    manifest = sign_report(tmp_path, inputs=[], parameters={"agreement": "xmas"},
                           signer=signer, created=GENERATED)
    assert {o["path"] for o in manifest["outputs"]} >= {HTML_FILE, "incidents.gpkg",
                                                        "assessment.json"}
    assert verify_report(tmp_path).ok
    (tmp_path / HTML_FILE).write_text("Verdict: held", encoding="utf-8")
    assert not verify_report(tmp_path).ok


# --------------------------------------------------------------------------- plain words


def _detections() -> pd.DataFrame:
    """FIRMS-like detections behind the fixture's incidents XMAS-001 and XMAS-002."""
    t = pd.to_datetime(["2023-01-06 10:00", "2023-01-06 11:47", "2023-01-06 15:00",
                        "2023-01-05 10:10"], utc=True)
    return pd.DataFrame({
        "detection_id": ["v1", "v2", "v3", "q1"], "lon": [37.2, 37.21, 37.55, 36.5],
        "lat": [48.05, 48.06, 48.3, 48.9], "acq_date": t.tz_localize(None).normalize(),
        "t_utc": t, "time_known": True, "sensor": "VIIRS", "satellite": "N20",
        "frp": [4.5, 10.25, 2.0, 1.0], "daynight": "D", "side": ["ua", "ua", "ru", "ua"],
        "distance_km": [3.2, 3.0, -8.1, 60.0], "sector": ["Bakhmut", "Bakhmut", "Bakhmut",
                                                         "Izium"],
        "p_natural": [1e-4, 4e-4, 1e-6, 0.5], "war": [True, True, True, False],
        "incident_id": ["XMAS-001", "XMAS-001", "XMAS-002", None]})


def test_plain_words_banner_notes_credits_and_signer() -> None:
    a = _assessment()
    a["agreement"] = {**a["agreement"], "notes": "Declared by one side only.",
                      "hypothetical": True, "comparison_start_utc": "2023-01-04T21:00:00Z",
                      "comparison_end_utc": "2023-01-06T09:00:00Z"}
    a["control_map"] = {"source": "isw", "line_km": {"total": 2112.8}}
    c = report_content(a, _incidents(), LINE, _timeline(), HELD, generated_utc=GENERATED,
                       detections=_detections(), signer_fingerprint="sha256:" + "0f" * 32)
    assert c.banner and c.banner.startswith("Hypothetical agreement")
    assert ("Notes", "Declared by one side only.") in c.agreement
    assert c.plain_summary.startswith("Fire very unlikely to be natural or agricultural")
    assert "1.5 days of the agreement (6 to 7 January 2023, UTC)" in c.plain_summary
    assert "with 3 satellite fire detections inside the window" in c.plain_summary
    assert c.plain_summary.endswith("not who caused it.")
    assert c.credits[0].startswith("Fire detections: NASA FIRMS")
    assert any("Institute for the Study of War" in x for x in c.credits)
    assert any("GeoNames" in x for x in c.credits) and any("Natural Earth" in x
                                                           for x in c.credits)
    assert "sha256:" + "0f" * 32 in c.signer
    page = render_html(c)
    for text in (c.banner, "Sources and credits", "sha256:" + "0f" * 32, "2,113"):
        assert text in page
    assert "e+0" not in page.split("<script")[0]  # no exponent notation for people


def test_incident_rows_carry_the_firms_evidence() -> None:
    c = report_content(_assessment(), _incidents(), LINE, _timeline(), HELD,
                       generated_utc=GENERATED, detections=_detections(), interactive=False)
    rows = {r["id"]: r for r in c.incident_rows}
    one = rows["XMAS-001"]
    assert one["when_start"] == "2023-01-06 10:00"
    assert one["when_end"] == "to 2023-01-06 11:47 · inside the window"
    assert one["in_window"] == "2 inside the window" and one["frp"] == "14.8 MW"
    assert one["firms_rows"][0][:6] == ["2023-01-06", "1000", "48.05000", "37.20000", "N20",
                                        "VIIRS"]
    assert one["worldview"].startswith("https://worldview.earthdata.nasa.gov/?v=")
    page = render_html(c)
    assert "Evidence: 2 FIRMS rows of XMAS-001" in page and "acq_time" in page
    assert c.sector_figure is not None  # Bakhmut has incidents: its day-by-day chart


def test_a_report_with_no_incident_still_shows_its_detections(tmp_path: Path) -> None:
    a = _assessment(verdict="inconclusive")
    a["agreement"] = {**a["agreement"], "comparison_start_utc": "2023-01-04T21:00:00Z",
                      "comparison_end_utc": "2023-01-06T09:00:00Z"}
    written = write_report(tmp_path, a, None, LINE, _timeline(), HELD,
                           generated_utc=GENERATED,
                           detections=_detections(), pdf=False)
    names = {p.name for p in written}
    assert {"detections.csv", "incident_detections.csv"} <= names
    page = (tmp_path / HTML_FILE).read_text(encoding="utf-8")
    assert "Fire detection, war-fire call (3)" in page and "Fire detection, other (1)" in page
    det = pd.read_csv(tmp_path / "detections.csv", dtype=str)
    assert det["war_fire"].tolist() == ["False", "True", "True", "True"]
    assert set(det["period"]) == {"comparison", "window"}


def test_each_incident_says_which_tests_decided_its_calls() -> None:
    # an incident resting on ground that changed hands says so, beside its detections
    inc = _incidents().assign(tests=["excess 2", "moved 5, excess 2", None, ""])
    c = report_content(_assessment(), inc, LINE, _timeline(), HELD,
                       generated_utc=GENERATED, interactive=False)
    rows = {r["id"]: r for r in c.incident_rows}
    assert rows["XMAS-002"]["decided"] == "decided by moved 5, excess 2"
    assert rows["XMAS-003"]["decided"] == rows["XMAS-004-with-a-very-long-id"]["decided"] == ""
    assert "decided by moved 5, excess 2" in render_html(c)


def test_plain_words_say_when_a_violation_rests_on_the_maps() -> None:
    """A violation that would not stand without the fire only the maps' motion made war
    says so in the first paragraph, with the verdict it would be; one that stands does
    not."""
    a = _assessment()
    a["verdict"], a["rule"] = "violated", "V1"
    a["war_counts"] = {**(a.get("war_counts") or {}), "incidents_moved_test_only": 2}
    a["false_alarms"] = {**(a.get("false_alarms") or {}),
                         "without_moved_test": {"verdict": "inconclusive", "rule": "I"}}
    c = report_content(a, _incidents(), LINE, _timeline(), HELD, generated_utc=GENERATED,
                       detections=_detections(), interactive=False)
    assert ("2 of those places burned in the usual season for fire there and count as "
            "fighting only because the control maps show the ground changing hands"
            in c.plain_summary)
    assert "without them the verdict would be inconclusive" in c.plain_summary
    assert "rests on the maps" in render_html(c)
    a["false_alarms"]["without_moved_test"] = {"verdict": "violated", "rule": "V1"}
    stands = report_content(a, _incidents(), LINE, _timeline(), HELD,
                            generated_utc=GENERATED, detections=_detections(),
                            interactive=False)
    assert "control maps show" not in stands.plain_summary

"""The interactive map: zoom, pan, hover and click an incident to see its evidence, offline.

Used by the HTML report and by the dashboard (``service/``), so it is one function of
the data that returns a piece of page, not a page:

>>> import geopandas as gpd
>>> from shapely import LineString, Point
>>> inc = gpd.GeoDataFrame({"incident_id": ["a"], "n_detections": [3]},
...                        geometry=[Point(37.5, 48.15)], crs="EPSG:4326")
>>> m = web_map(incidents=inc, line_of_contact=LineString([(37, 48), (38, 48.3)]),
...             context=False)
>>> m.element_id, 'id="truceline-map-panel"' in m.html, "Plotly.newPlot" in m.script
('truceline-map', True, True)

A page shows it with three pieces, in this order: ``<script>`` + `plotly_js()` (once per
page, whatever the number of maps), then ``m.html`` where the map goes, then
``<script>`` + ``m.script``. `WebMap.page` does exactly that for a stand-alone file.

Why Plotly: its ``plotly.min.js`` ships inside the ``plotly`` wheel (MIT), works with
no network, and gives zoom, pan, hover, a legend that hides layers and PNG export. The
map is a plain x/y chart in degrees with the y axis stretched by 1/cos(latitude), so no
map projection code and no tile server are needed; the background comes from
`truceline.publish.basemap`. Nothing is fetched: the report's Content-Security-Policy
forbids it and the tests open the page in headless Chromium to check.

Clicking an incident fills the panel beside the map (``data-field`` attributes name
each value) with its first and last UTC time, detections (and how many fell inside the
window), fire radiative power, lowest p_natural, place, km to the line, whose ground it
lay on (by the control map: never who fired) and links to NASA Worldview and the FIRMS
fire map at that spot and day. Clicking a detection shows its FIRMS fields.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from truceline.errors import InputError
from truceline.publish import basemap as bm
from truceline.publish.evidence import SIDE_NAMES, TIMINGS, incident_evidence, utc_window

__all__ = [
    "CSP",
    "DEFAULT_ELEMENT_ID",
    "MAP_CSS",
    "TIMING_COLORS",
    "SEA_COLOR",
    "STYLE",
    "WebMap",
    "basemap_traces",
    "firms_map_url",
    "plotly_js",
    "web_map",
    "worldview_url",
]

DEFAULT_ELEMENT_ID = "truceline-map"
#: Incident colours by timing against the window (inside is the one that matters).
TIMING_COLORS: Mapping[str, str] = {
    "inside": "#b2182b", "possibly inside": "#f4a582", "before": "#4393c3",
    "after": "#7b3294", "unknown": "#8c8c8c",
}
_TIMING_LABELS = {
    "inside": "Incident inside the window", "possibly inside": "Incident possibly inside",
    "before": "Incident before the window", "after": "Incident after the window",
    "unknown": "Incident (window unknown)",
}
_HELD_FILL, _HELD_LINE = "rgba(196, 164, 120, 0.35)", "#b08d57"
_LAND = "#fbfaf7"
#: The plot's background where a basemap is drawn (land is filled over it).
SEA_COLOR = "#dce8f2"
#: Colours of the held ground and the line, for pages that draw them themselves.
STYLE: Mapping[str, str] = {"held_fill": _HELD_FILL, "held_line": _HELD_LINE,
                            "line": "#000000", "sea": SEA_COLOR}
_MAX_DETECTIONS = 30_000  # beyond this the page gets slow; the CSV holds them all
_WORLDVIEW_LAYERS = ",".join((
    "VIIRS_NOAA20_Thermal_Anomalies_375m_All", "VIIRS_SNPP_Thermal_Anomalies_375m_All",
    "MODIS_Combined_Thermal_Anomalies_All", "Reference_Labels_15m", "Reference_Features_15m",
    "Coastlines_15m", "VIIRS_NOAA20_CorrectedReflectance_TrueColor",
))


@dataclass(frozen=True)
class WebMap:
    """A map ready to place in a page: the fragment, our script, and where they meet."""

    html: str
    script: str
    element_id: str

    def page(self, title: str = "truceline map") -> str:
        """A stand-alone, self-contained HTML page holding only this map."""
        return (
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n"
            f"<title>{html.escape(title)}</title>\n<style>\n{MAP_CSS}</style>\n"
            f"<script>{plotly_js()}</script>\n</head>\n<body>\n<h1>{html.escape(title)}</h1>\n"
            f"{self.html}\n<script>{self.script}</script>\n</body>\n</html>\n")


#: The Content-Security-Policy a page with a map needs: inline script and style, data:
#: images, and nothing from anywhere else.
CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
       "img-src data:; font-src data:")


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """plotly.min.js as the installed ``plotly`` wheel ships it (MIT licence), for inlining."""
    try:
        path = resources.files("plotly").joinpath("package_data", "plotly.min.js")
        text = path.read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise InputError("the interactive map needs the package 'plotly' (pip install "
                         "plotly), whose wheel ships plotly.min.js") from exc
    return text.replace("</script", "<\\/script")


def worldview_url(lon: float, lat: float, when: Any, *, half_deg: float = 0.25) -> str:
    """NASA Worldview at the spot and UTC day: fire layers over true-colour imagery.

    >>> worldview_url(37.5, 48.1, "2025-08-21T10:45Z")[:62]
    'https://worldview.earthdata.nasa.gov/?v=37.2500,47.9333,37.750'
    """
    t = pd.Timestamp(when)
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    dy = half_deg / 1.5
    return (f"https://worldview.earthdata.nasa.gov/?v={lon - half_deg:.4f},{lat - dy:.4f},"
            f"{lon + half_deg:.4f},{lat + dy:.4f}&l={_WORLDVIEW_LAYERS}"
            f"&t={t.strftime('%Y-%m-%d')}-T{t.strftime('%H:%M')}:00Z")


def firms_map_url(lon: float, lat: float, when: Any) -> str:
    """NASA's FIRMS fire map at the spot, showing the UTC day's detections.

    >>> firms_map_url(37.5, 48.1, "2025-08-21")
    'https://firms.modaps.eosdis.nasa.gov/map/#d:2025-08-21..2025-08-21;@37.5000,48.1000,12.0z'
    """
    day = pd.Timestamp(when).strftime("%Y-%m-%d")
    return f"https://firms.modaps.eosdis.nasa.gov/map/#d:{day}..{day};@{lon:.4f},{lat:.4f},12.0z"


# --------------------------------------------------------------------------- geometry


def _xy(geom: BaseGeometry | None, *, rings: bool = False, digits: int = 4,
        ) -> tuple[list[float | None], list[float | None]]:
    """Plotly x/y lists for lines (or polygon rings) with None between parts."""
    if geom is None or geom.is_empty:
        return [], []
    if rings:
        polys = shapely.get_parts(shapely.get_parts(geom))
        polys = polys[shapely.get_type_id(polys) == 3]
        parts = shapely.get_exterior_ring(polys)
    else:
        lines = shapely.get_parts(shapely.get_parts(geom))
        lines = lines[np.isin(shapely.get_type_id(lines), (1, 2))]
        parts = lines
    if len(parts) == 0:
        return [], []
    coords, index = shapely.get_coordinates(parts, return_index=True)
    coords = np.round(coords, digits)
    # a NaN row after each part: Plotly breaks the line there
    breaks = np.flatnonzero(np.diff(index)) + 1
    coords = np.insert(coords, breaks, np.nan, axis=0)
    x = [None if math.isnan(v) else float(v) for v in coords[:, 0]]
    y = [None if math.isnan(v) else float(v) for v in coords[:, 1]]
    return x, y


def _geometry(value: Any, name: str) -> BaseGeometry | None:
    """A shapely geometry from a geometry, a GeoSeries/GeoDataFrame or GeoJSON."""
    if value is None:
        return None
    if isinstance(value, BaseGeometry):
        return value
    if hasattr(value, "geometry") and hasattr(value, "crs"):
        g = value.geometry
        if g.crs is not None and not g.crs.equals("EPSG:4326"):
            g = g.to_crs(4326)
        return shapely.union_all(g.to_numpy()) if len(g) else None
    if isinstance(value, Mapping):
        feats = value.get("features") if value.get("type") == "FeatureCollection" else [value]
        geoms = [shapely.from_geojson(json.dumps(f.get("geometry", f)))
                 for f in feats or [] if f and (f.get("geometry") or f.get("coordinates"))]
        return shapely.union_all(geoms) if geoms else None
    raise InputError(f"{name} = {type(value).__name__}: expected a shapely geometry, a "
                     "GeoDataFrame or GeoJSON in lon/lat")


def _frame(value: Any, name: str) -> pd.DataFrame | None:
    """A DataFrame with lon/lat columns from a (Geo)DataFrame or a GeoJSON collection."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        feats = value.get("features") or []
        rows = []
        for f in feats:
            g = shapely.from_geojson(json.dumps(f["geometry"])) if f.get("geometry") else None
            p = shapely.point_on_surface(g) if g is not None else None
            rows.append({**(f.get("properties") or {}),
                         "lon": p.x if p is not None else np.nan,
                         "lat": p.y if p is not None else np.nan})
        return pd.DataFrame(rows)
    if not isinstance(value, pd.DataFrame):
        raise InputError(f"{name} = {type(value).__name__}: expected a GeoDataFrame, a "
                         "DataFrame with lon and lat, or a GeoJSON FeatureCollection")
    df = pd.DataFrame(value).copy()
    if not {"lon", "lat"} <= set(df.columns):
        geom = getattr(value, "geometry", None)
        if geom is None:
            raise InputError(f"{name}: no lon/lat columns and no geometry")
        if geom.crs is not None and not geom.crs.equals("EPSG:4326"):
            geom = geom.to_crs(4326)
        pts = shapely.point_on_surface(geom.to_numpy())
        df["lon"], df["lat"] = shapely.get_x(pts), shapely.get_y(pts)
    geom_cols = [c for c in df.columns if str(df[c].dtype) == "geometry"]
    return df.drop(columns=geom_cols)


# --------------------------------------------------------------------------- words


def _p(v: Any) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(f):
        return ""
    return "< 0.001" if f < 0.001 else (f"{f:.3f}" if f < 0.01 else f"{f:.2f}")


def _text(v: Any) -> str:
    if v is None or (not isinstance(v, (str, list, tuple, np.ndarray)) and pd.isna(v)):
        return ""
    return str(v)


# --------------------------------------------------------------------------- traces


#: What a click shows, in order; the panel labels them in `_SCRIPT`. ``t`` (ISO UTC
#: time) only feeds the imagery links.
INCIDENT_FIELDS: tuple[str, ...] = (
    "incident", "timing", "first_utc", "last_utc", "detections", "in_window", "frp",
    "p_natural", "confidence", "place", "distance", "ground", "satellites", "t")
DETECTION_FIELDS: tuple[str, ...] = (
    "detection", "utc", "satellite", "instrument", "daynight", "frp", "p_natural", "war",
    "incident", "place", "distance", "ground", "t")


def _col(df: pd.DataFrame, name: str, *alts: str) -> pd.Series:
    for c in (name, *alts):
        if c in df:
            return df[c]
    return pd.Series([None] * len(df), index=df.index, dtype="object")


def _strings(values: pd.Series) -> pd.Series:
    """Text for display: missing values as ''."""
    return values.astype("string").fillna("").astype(str)


def _fmt(values: pd.Series, fmt: str) -> pd.Series:
    f = pd.to_numeric(values, errors="coerce")
    return f.map(lambda v: fmt.format(v) if pd.notna(v) and math.isfinite(v) else "")


def _p_col(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").map(_p)


def _utc_col(t: pd.Series, day: pd.Series | None = None) -> tuple[pd.Series, pd.Series]:
    """('2025-08-21 10:45 UTC' or '2025-08-21 (no time)', ISO instant for links)."""
    t = pd.to_datetime(t, utc=True, errors="coerce")
    text = t.dt.strftime("%Y-%m-%d %H:%M UTC")
    iso = t.dt.strftime("%Y-%m-%dT%H:%MZ")
    if day is not None:
        d = pd.to_datetime(day, errors="coerce")
        text = text.fillna(d.dt.strftime("%Y-%m-%d (no time)"))
        iso = iso.fillna(d.dt.strftime("%Y-%m-%dT12:00Z"))
    return text.fillna("").astype(str), iso.fillna("").astype(str)


def _ground_cols(side: pd.Series, km: pd.Series, names: Mapping[str, str],
                 ) -> tuple[pd.Series, pd.Series]:
    s = _strings(side)
    ground = s.map(lambda v: (f"held by {names[v]}" if v in names else SIDE_NAMES.get(v, v)))
    dist = _fmt(pd.to_numeric(km, errors="coerce").abs(), "{:,.1f} km from the line")
    return ground, dist


def _daynight(v: Any) -> str:
    t = _text(v)
    return {"D": "(day)", "N": "(night)", "D+N": "(day and night)"}.get(t, t)


def _incident_traces(inc: pd.DataFrame, names: Mapping[str, str]) -> list[dict[str, Any]]:
    if inc.empty:
        return []
    inc = inc.reset_index(drop=True)
    n = pd.to_numeric(_col(inc, "n_detections"), errors="coerce").fillna(1)
    size = (7 + 3.2 * np.sqrt(n)).clip(8, 34).round(1)
    t0 = pd.to_datetime(_col(inc, "t_first", "t_start"), utc=True, errors="coerce")
    # timed: every detection had a time, or (no detections given) the instant is not a
    # bare midnight, i.e. the incident table gave a time of day
    timed = _col(inc, "time_known").fillna(False).astype(bool) | (
        t0.notna() & (t0 != t0.dt.floor("D")))
    first, iso = _utc_col(_col(inc, "t_first", "t_start"))
    last, _ = _utc_col(_col(inc, "t_last", "t_end"))
    first = first.where(timed, first.str.slice(0, 10) + " (no time)").where(first != "", "")
    last = last.where(timed, last.str.slice(0, 10) + " (no time)").where(last != "", "")
    ground, dist = _ground_cols(_col(inc, "side"), _col(inc, "dist_km", "distance_km"), names)
    frp_total, frp_max = _fmt(_col(inc, "frp_total"), "{:,.1f}"), _fmt(_col(inc, "frp_max"),
                                                                       "{:,.1f}")
    place = (_strings(_col(inc, "place")) + ", " + _strings(_col(inc, "sector"))).str.strip(", ")
    sats = (_strings(_col(inc, "satellites")) + " "
            + _col(inc, "daynight").map(_daynight)).str.strip()
    timing = _strings(_col(inc, "timing")).replace("", "unknown")
    table = pd.DataFrame({
        "incident": _strings(_col(inc, "incident_id")),
        "timing": timing.map(lambda v: TIMINGS.get(v, v)),
        "first_utc": first, "last_utc": last,
        "detections": _fmt(_col(inc, "n_detections"), "{:,.0f}"),
        "in_window": _fmt(_col(inc, "n_in_window"), "{:,.0f}"),
        "frp": np.where(frp_total != "", frp_total + " MW in all, strongest " + frp_max
                        + " MW", ""),
        "p_natural": _p_col(_col(inc, "p_min", "p_natural_min")),
        "confidence": _strings(_col(inc, "confidence")),
        "place": place, "distance": dist, "ground": ground, "satellites": sats, "t": iso,
    })[list(INCIDENT_FIELDS)]
    hover = ("<b>" + table["incident"].map(html.escape) + "</b> · " + table["timing"]
             + "<br>" + table["first_utc"] + " → " + table["last_utc"]
             + "<br>" + table["detections"] + " detections, " + table["in_window"]
             + " in the window<br>" + table["place"].map(html.escape)
             + "<br>" + table["ground"] + ", " + table["distance"]
             + "<br>lowest p_natural " + table["p_natural"] + "<br><i>click for the evidence</i>")
    traces = []
    for key in TIMING_COLORS:
        idx = np.flatnonzero((timing == key).to_numpy())
        if not len(idx):
            continue
        traces.append({
            "type": "scatter", "mode": "markers", "name": f"{_TIMING_LABELS[key]} ({len(idx)})",
            "x": inc["lon"].iloc[idx].astype(float).round(5).tolist(),
            "y": inc["lat"].iloc[idx].astype(float).round(5).tolist(),
            "marker": {"size": size.iloc[idx].tolist(), "color": TIMING_COLORS[key],
                       "opacity": 0.85, "line": {"color": "#111", "width": 1}},
            "customdata": [["incident", *row] for row in table.iloc[idx].to_numpy().tolist()],
            "text": hover.iloc[idx].tolist(), "hoverinfo": "text",
            "hoverlabel": {"align": "left"},
        })
    return traces


def _detection_traces(det: pd.DataFrame, names: Mapping[str, str]) -> list[dict[str, Any]]:
    if det.empty:
        return []
    det = det.reset_index(drop=True)
    war = _col(det, "war").fillna(False).astype(bool)
    if len(det) > _MAX_DETECTIONS:  # keep every war call, thin the rest evenly
        rest = det.index[~war]
        step = max(1, math.ceil(len(rest) / max(_MAX_DETECTIONS - int(war.sum()), 1)))
        det = det.loc[det.index[war].union(rest[::step])].reset_index(drop=True)
        war = _col(det, "war").fillna(False).astype(bool)
    t = pd.to_datetime(_col(det, "t_utc"), utc=True, errors="coerce")
    if "time_known" in det:
        t = t.where(det["time_known"].fillna(False).astype(bool))
    when, iso = _utc_col(t, _col(det, "acq_date"))
    ground, dist = _ground_cols(_col(det, "side"), _col(det, "distance_km", "dist_km"), names)
    frp = _fmt(_col(det, "frp"), "{:,.1f}")
    table = pd.DataFrame({
        "detection": _strings(_col(det, "detection_id")), "utc": when,
        "satellite": _strings(_col(det, "satellite")).replace("unknown", ""),
        "instrument": _strings(_col(det, "sensor", "instrument")),
        "daynight": _col(det, "daynight").map(_daynight),
        "frp": np.where(frp != "", frp + " MW", "not in the FIRMS file"),
        "p_natural": _p_col(_col(det, "p_natural")),
        "war": np.where(war, "yes: very unlikely to be natural or agricultural", "no"),
        "incident": _strings(_col(det, "incident_id")),
        "place": (_strings(_col(det, "place")) + ", "
                  + _strings(_col(det, "sector"))).str.strip(", "),
        "distance": dist, "ground": ground, "t": iso,
    })[list(DETECTION_FIELDS)]
    traces = []
    for flag, name, color, size in ((False, "Fire detection, other", "#5a5a5a", 4),
                                    (True, "Fire detection, war-fire call", "#e6550d", 6)):
        idx = np.flatnonzero((war == flag).to_numpy())
        if not len(idx):
            continue
        traces.append({
            "type": "scatter", "mode": "markers", "name": f"{name} ({len(idx):,})",
            "x": det["lon"].iloc[idx].astype(float).round(5).tolist(),
            "y": det["lat"].iloc[idx].astype(float).round(5).tolist(),
            "marker": {"size": size, "color": color, "opacity": 0.8 if flag else 0.45,
                       "line": {"width": 0}},
            "customdata": [["detection", *row] for row in table.iloc[idx].to_numpy().tolist()],
            # hover from the click data itself: no second copy of the text per point
            "hovertemplate": ("%{customdata[2]} · %{customdata[3]} %{customdata[4]}<br>"
                              "FRP %{customdata[6]} · p_natural %{customdata[7]}<br>"
                              "%{customdata[10]}<extra></extra>"),
        })
    return traces


def _line(name: str, geom: BaseGeometry | None, color: str, width: float,
          dash: str = "solid", hover: bool = False, digits: int = 4) -> dict[str, Any] | None:
    x, y = _xy(geom, digits=digits)
    if not x:
        return None
    return {"type": "scatter", "mode": "lines", "name": name, "x": x, "y": y,
            "line": {"color": color, "width": width, "dash": dash},
            "hoverinfo": "name" if hover else "skip", "connectgaps": False}


def _fill(name: str, geom: BaseGeometry | None, color: str, line: str,
          show_legend: bool = True) -> dict[str, Any] | None:
    x, y = _xy(geom, rings=True)
    if not x:
        return None
    return {"type": "scatter", "mode": "lines", "name": name, "x": x, "y": y,
            "fill": "toself", "fillcolor": color, "line": {"color": line, "width": 0.5},
            "hoverinfo": "skip", "showlegend": show_legend}


def _bounds(*frames_or_geoms: Any) -> tuple[float, float, float, float]:
    xs: list[float] = []
    ys: list[float] = []
    for v in frames_or_geoms:
        if v is None:
            continue
        if isinstance(v, BaseGeometry):
            if not v.is_empty:
                x0, y0, x1, y1 = v.bounds
                xs += [x0, x1]
                ys += [y0, y1]
        elif isinstance(v, pd.DataFrame) and len(v):
            lon = pd.to_numeric(v["lon"], errors="coerce").dropna()
            lat = pd.to_numeric(v["lat"], errors="coerce").dropna()
            if len(lon) and len(lat):
                xs += [float(lon.min()), float(lon.max())]
                ys += [float(lat.min()), float(lat.max())]
    if not xs:
        return (22.0, 44.0, 41.0, 52.5)  # Ukraine
    pad = 0.3
    return (min(xs) - pad, min(ys) - pad, max(xs) + pad, max(ys) + pad)


# --------------------------------------------------------------------------- the map


def basemap_traces(base: bm.Basemap) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The background as Plotly x/y traces: those drawn under the held ground (land,
    lakes, rivers, oblast and country borders) and over it (Ukraine's state border).
    The dashboard draws the same ones (served once as JSON)."""
    under = [
        _fill("Land", base.land, _LAND, "#b9b9b9", show_legend=False),
        _fill("Lakes and reservoirs", base.lakes, "#b7d3ea", "#8fb3d3", show_legend=False),
        _line("Rivers", base.rivers, "#7fa7cf", 0.8),
        _line("Oblast borders", base.oblast_lines, "#b0a9a0", 0.6, "dot"),
        _line("Country borders and coast", base.country_lines, "#8a8a8a", 0.8),
    ]
    over = [_line("State border of Ukraine", base.state_border, "#3b3b3b", 1.6, "dashdot",
                  hover=True)]
    return [t for t in under if t is not None], [t for t in over if t is not None]



def web_map(
    incidents: Any = None,
    detections: Any = None,
    line_of_contact: Any = None,
    held: Any = None,
    *,
    window: tuple[Any, Any] | None = None,
    context: bool | bm.Basemap = True,
    party_names: Mapping[str, str] | None = None,
    held_label: str = "Ground held by Russia (control map)",
    credits: Sequence[str] = (),
    element_id: str = DEFAULT_ELEMENT_ID,
    height_px: int = 640,
) -> WebMap:
    """The interactive map of incidents, detections and the line, as a page fragment.

    Parameters
    ----------
    incidents : GeoDataFrame (points, or lon/lat columns) or GeoJSON FeatureCollection;
        columns of the incident contract (incident_id, t_start, n_detections, side,
        dist_km, place, p_min, ...). First/last time, FRP and timing are taken from
        `detections` when given (`truceline.publish.evidence.incident_evidence`).
    detections : the detections the assessment rests on (lon, lat, t_utc, satellite,
        frp, p_natural, war, ...), drawn as small dots, war-fire calls apart.
    line_of_contact, held : lines and polygons (shapely, GeoDataFrame or GeoJSON) in
        lon/lat: drawn black and shaded tan.
    window : (start, end) of the agreement, to colour incidents before/inside/after.
    context : True for the background layers of `truceline.publish.basemap`, False for
        none, or a `Basemap` made beforehand (the dashboard reuses one).
    credits : lines shown under the map, after the background's own credits.
    element_id : id of the map's ``div``; the panel is ``<id>-panel``, the data
        ``<id>-data``. Use distinct ids for several maps on one page.
    """
    if not element_id.replace("-", "").replace("_", "").isalnum():
        raise InputError(f"element_id = {element_id!r}: expected letters, digits, - and _")
    names = {"ua": "Ukraine", "ru": "Russia", **dict(party_names or {})}
    w = utc_window(window)
    det = _frame(detections, "detections")
    inc = _frame(incidents, "incidents")
    if inc is not None and len(inc):
        inc = incident_evidence(inc, detections if isinstance(detections, pd.DataFrame)
                                else det, w)
    line = _geometry(line_of_contact, "line_of_contact")
    held_g = _geometry(held, "held")
    # the view frames the line and the incidents; detections only when there is neither
    # (they cover the whole country, and the CSV holds them all)
    view = _bounds(line, inc) if line is not None or (inc is not None and len(inc)) \
        else _bounds(det)
    base: bm.Basemap | None
    if context is True:
        x0, y0, x1, y1 = view
        base = bm.basemap((x0 - 8, y0 - 3, x1 + 8, y1 + 3))  # room to widen and pan
    else:
        base = context if isinstance(context, bm.Basemap) else None
    under, over = basemap_traces(base) if base is not None else ([], [])
    traces: list[dict[str, Any] | None] = [*under]
    traces.append(_fill(held_label, shapely.simplify(held_g, 0.002)
                        if held_g is not None else None, _HELD_FILL, _HELD_LINE))
    traces += over
    traces.append(_line("Line of contact", shapely.simplify(line, 0.0005)
                        if line is not None else None, STYLE["line"], 2.2, hover=True,
                        digits=5))
    if base is not None and len(base.cities):
        big = base.cities
        traces.append({
            "type": "scatter", "mode": "markers+text", "name": "Cities",
            "x": big["lon"].round(4).tolist(), "y": big["lat"].round(4).tolist(),
            "text": [n if i < 30 else "" for i, n in enumerate(big["name"])],
            "textposition": "top right", "textfont": {"size": 10, "color": "#333"},
            "marker": {"size": 5, "color": "#777", "symbol": "square-open"},
            "hovertext": [f"{n} (population {p:,})" for n, p in
                          zip(big["name"], big["population"], strict=True)],
            "hoverinfo": "text"})
    if det is not None:
        traces += _detection_traces(det, names)
    if inc is not None:
        traces += _incident_traces(inc, names)
    data = [t for t in traces if t is not None]
    x0, y0, x1, y1 = view
    lat0 = math.radians((y0 + y1) / 2)
    layout = {
        # the x range widens to fill the box (rather than the box shrinking to the data)
        "xaxis": {"range": [x0, x1], "ticksuffix": "°E", "showgrid": True,
                  "gridcolor": "rgba(0,0,0,0.06)", "zeroline": False, "constrain": "range"},
        "yaxis": {"range": [y0, y1], "ticksuffix": "°N", "showgrid": True,
                  "gridcolor": "rgba(0,0,0,0.06)", "zeroline": False, "scaleanchor": "x",
                  "scaleratio": round(1 / math.cos(lat0), 4), "constrain": "domain"},
        "plot_bgcolor": SEA_COLOR if base is not None else "#ffffff",
        "paper_bgcolor": "#ffffff", "hovermode": "closest", "dragmode": "pan",
        "margin": {"l": 48, "r": 8, "t": 8, "b": 36}, "height": height_px,
        "legend": {"orientation": "h", "y": -0.06, "x": 0, "font": {"size": 11},
                   "itemclick": "toggle"},
        "font": {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"},
    }
    config = {"scrollZoom": True, "displaylogo": False, "responsive": True,
              "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"],
              "toImageButtonOptions": {"filename": "truceline-map", "scale": 2}}
    spec = json.dumps({"data": data, "layout": layout, "config": config,
                       "fields": {"incident": INCIDENT_FIELDS, "detection": DETECTION_FIELDS}},
                      ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    spec = spec.replace("</", "<\\/")
    all_credits = [*credits, *(bm.BASEMAP_CREDITS if base is not None else ())]
    if base is not None and base.missing:
        all_credits.append("Not drawn (package missing): " + "; ".join(base.missing))
    fragment = _FRAGMENT.format(
        id=element_id, spec=spec, credits=html.escape(" · ".join(all_credits)),
        hint=("Click an incident (large circle) or a detection (small dot) to see its "
              "evidence here. Drag to pan, scroll or pinch to zoom, double-click to reset; "
              "click a legend entry to hide that layer."))
    script = _SCRIPT.replace("__ID__", element_id).replace("__WV_LAYERS__", _WORLDVIEW_LAYERS)
    return WebMap(html=fragment, script=script,
                  element_id=element_id)


_FRAGMENT = """<div class="tl-webmap" id="{id}-wrap">
<div class="tl-webmap-map" id="{id}" role="application"
 aria-label="Interactive map of the line of contact, incidents and fire detections"></div>
<aside class="tl-webmap-panel" id="{id}-panel" aria-live="polite">
<p class="tl-hint">{hint}</p></aside>
<p class="tl-webmap-credits">{credits}</p>
<script type="application/json" id="{id}-data">{spec}</script>
</div>"""

#: Our own script (no third-party code): draw the map, fill the panel on click.
_SCRIPT = r"""(function () {
  var id = "__ID__";
  var el = document.getElementById(id);
  var panel = document.getElementById(id + "-panel");
  var spec = JSON.parse(document.getElementById(id + "-data").textContent);
  var LABELS = {
    incident: "Incident", timing: "Timing", first_utc: "First seen", last_utc: "Last seen",
    detections: "Detections", in_window: "Detections inside the window",
    frp: "Fire radiative power", p_natural: "p_natural", confidence: "Confidence",
    place: "Place", distance: "Distance", ground: "Ground (control map)",
    satellites: "Satellites", detection: "Detection", utc: "Time", satellite: "Satellite",
    instrument: "Instrument", daynight: "Pass", war: "War-fire call", coords: "Lat, lon"
  };
  var WV_LAYERS = "__WV_LAYERS__";
  function fixed(v, n) { return (Math.round(v * Math.pow(10, n)) / Math.pow(10, n)).toFixed(n); }
  function worldview(lon, lat, t) {  /* the same URL as webmap.worldview_url */
    var h = 0.25, dy = h / 1.5;
    return "https://worldview.earthdata.nasa.gov/?v=" + fixed(lon - h, 4) + "," +
      fixed(lat - dy, 4) + "," + fixed(lon + h, 4) + "," + fixed(lat + dy, 4) + "&l=" +
      WV_LAYERS + "&t=" + t.slice(0, 10) + "-T" + t.slice(11, 16) + ":00Z";
  }
  function firms(lon, lat, t) {  /* the same URL as webmap.firms_map_url */
    var day = t.slice(0, 10);
    return "https://firms.modaps.eosdis.nasa.gov/map/#d:" + day + ".." + day + ";@" +
      fixed(lon, 4) + "," + fixed(lat, 4) + ",12.0z";
  }
  function show(row, lon, lat) {
    var kind = row[0], names = spec.fields[kind] || [], d = {};
    names.forEach(function (n, i) { d[n] = row[i + 1]; });
    d.coords = fixed(lat, 5) + ", " + fixed(lon, 5);
    panel.textContent = "";
    var h = document.createElement("h3");
    h.textContent = kind === "incident" ? "Incident" : "Fire detection";
    panel.appendChild(h);
    var dl = document.createElement("dl");
    names.concat(["coords"]).forEach(function (n) {
      if (!d[n] || !LABELS[n]) { return; }
      var dt = document.createElement("dt");
      dt.textContent = (kind === "incident" && n === "p_natural") ? "Lowest p_natural"
        : LABELS[n];
      var dd = document.createElement("dd"); dd.textContent = d[n];
      dd.setAttribute("data-field", n);
      dl.appendChild(dt); dl.appendChild(dd);
    });
    panel.appendChild(dl);
    if (d.t) {
      var p = document.createElement("p"); p.className = "tl-links";
      [["worldview", "NASA Worldview: imagery and fires that day", worldview(lon, lat, d.t)],
       ["firms", "NASA FIRMS fire map at this spot", firms(lon, lat, d.t)]].forEach(function (l) {
        var a = document.createElement("a");
        a.href = l[2]; a.textContent = l[1]; a.target = "_blank";
        a.rel = "noopener noreferrer"; a.setAttribute("data-field", l[0]);
        p.appendChild(a);
      });
      panel.appendChild(p);
    }
    panel.setAttribute("data-selected", d.incident || d.detection || "");
    panel.setAttribute("data-kind", kind);
  }
  /* Plotly picks the point nearest the cursor, often a small detection dot lying on an
     incident's circle: a click inside an incident's circle selects the incident. */
  function incidentAt(mouse) {
    if (!mouse || !el._fullLayout) { return null; }
    var xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis;
    var box = el.getBoundingClientRect();
    var px = mouse.clientX - box.left - xa._offset, py = mouse.clientY - box.top - ya._offset;
    var best = null, bestD = Infinity;
    el.data.forEach(function (tr) {
      if (tr.visible === "legendonly" || !tr.customdata || !tr.customdata.length ||
          tr.customdata[0][0] !== "incident") { return; }
      tr.x.forEach(function (x, i) {
        var dx = xa.l2p(x) - px, dy = ya.l2p(tr.y[i]) - py, d = Math.sqrt(dx * dx + dy * dy);
        var r = (Array.isArray(tr.marker.size) ? tr.marker.size[i] : tr.marker.size) / 2 + 2;
        if (d <= r && d < bestD) { best = [tr.customdata[i], x, tr.y[i]]; bestD = d; }
      });
    });
    return best;
  }
  Plotly.newPlot(el, spec.data, spec.layout, spec.config).then(function () {
    el.on("plotly_click", function (ev) {
      var hit = incidentAt(ev && ev.event);
      if (hit) { show(hit[0], hit[1], hit[2]); return; }
      var pts = (ev && ev.points) || [];
      for (var i = pts.length - 1; i >= 0; i--) {
        var row = pts[i].customdata;
        if (row && spec.fields[row[0]]) { show(row, pts[i].x, pts[i].y); return; }
      }
    });
    el.setAttribute("data-ready", "1");
  });
  window.trucelineMaps = window.trucelineMaps || {};
  window.trucelineMaps[id] = {element: el, show: show, spec: spec};
})();
"""

#: The map's own styles (a page may override them): map and panel side by side on a
#: wide screen, stacked on a phone.
MAP_CSS = """.tl-webmap { display: grid; grid-template-columns: minmax(0, 1fr) 19rem;
  gap: .75rem; align-items: start; }
.tl-webmap-map { min-height: 420px; border: 1px solid #d0d7de; border-radius: 4px; }
.tl-webmap-panel { font-size: .85rem; border: 1px solid #d0d7de; border-radius: 4px;
  padding: .5rem .75rem; background: #fafbfc; max-height: 640px; overflow: auto; }
.tl-webmap-panel h3 { margin: .2rem 0 .4rem; font-size: 1rem; }
.tl-webmap-panel dl { display: grid; grid-template-columns: max-content 1fr;
  gap: .15rem .6rem; margin: 0; }
.tl-webmap-panel dt { color: #57606a; }
.tl-webmap-panel dd { margin: 0; overflow-wrap: anywhere; }
.tl-webmap-panel .tl-links a { display: block; margin-top: .35rem; }
.tl-webmap-panel .tl-hint { color: #57606a; margin: 0; }
.tl-webmap-credits { grid-column: 1 / -1; font-size: .72rem; color: #57606a; margin: 0; }
@media (max-width: 760px) { .tl-webmap { grid-template-columns: 1fr; } }
"""

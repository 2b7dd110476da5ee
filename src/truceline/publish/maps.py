"""Figures for reports: the incident map and the daily timeline, drawn from our own data.

A report has to open on a machine with no internet and be checkable by anyone, so the
map uses no tile server: it draws the line of contact, the distance bands around it,
ground held by Russia and the incidents, all from the geometries the assessment used.
Bands are buffered in metres, in a Lambert conformal CRS fitted to the line's extent,
then drawn in lon/lat with the aspect corrected at the map's middle latitude, so the
axes can carry plain degree ticks.

Figures use Matplotlib's Agg backend (no display) and render to PNG bytes and SVG text
with fixed metadata, so the same data gives the same bytes (a signed report can be
re-made and compared).

Example: a 100 km straight line with one incident 3 km from it.

>>> import geopandas as gpd
>>> from shapely import LineString, Point
>>> line = LineString([(37.0, 48.0), (38.3, 48.3)])
>>> inc = gpd.GeoDataFrame({"confidence": ["high"], "n_detections": [4]},
...                        geometry=[Point(37.5, 48.15)], crs="EPSG:4326")
>>> fig = render_figure(incident_map(inc, line))
>>> fig.png[:4], fig.svg.lstrip().startswith("<svg")
(b'\\x89PNG', True)
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyproj  # noqa: E402
import shapely  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch, PathPatch  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402
from matplotlib.text import Annotation  # noqa: E402
from shapely.geometry.base import BaseGeometry  # noqa: E402

from truceline.errors import InputError  # noqa: E402

__all__ = [
    "BAND_COLORS",
    "BANDS_KM",
    "CONFIDENCE_COLORS",
    "RenderedFigure",
    "band_rings",
    "incident_map",
    "render_figure",
    "timeline_chart",
]

#: Outer edges (km) of the distance bands drawn on both sides of the line.
BANDS_KM: tuple[float, ...] = (5.0, 15.0, 30.0, 60.0)
#: Band fills, nearest the line darkest (a single-hue ramp reads as "distance", not "side").
BAND_COLORS: tuple[str, ...] = ("#6a51a3", "#9e9ac8", "#cbc9e2", "#f2f0f7")
#: Incident marker colours by confidence class; distinguishable in greyscale print too.
CONFIDENCE_COLORS: Mapping[str, str] = {
    "high": "#b2182b",
    "medium": "#ef8a62",
    "low": "#fddbc7",
}
_UNKNOWN_CONFIDENCE = "#bdbdbd"
_HELD_COLOR = "#d9d0c1"
_LINE_COLOR = "#111111"
_TIMELINE_COLORS: Mapping[str, str] = {
    "0-5": "#54278f",
    "5-15": "#807dba",
    "15-30": "#bcbddc",
    "30-60": "#dadaeb",
}
_FIG_DPI = 150


@dataclass(frozen=True)
class RenderedFigure:
    """One figure as PNG bytes (for the PDF) and SVG text (inline in the HTML)."""

    png: bytes
    svg: str

    def png_data_uri(self) -> str:
        """The PNG as a ``data:`` URI, for an ``<img>`` that makes no request."""
        import base64

        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")

    def write(self, folder: Path, stem: str) -> list[Path]:
        """``stem``.png and ``stem``.svg in ``folder``; returns both paths."""
        png, svg = folder / f"{stem}.png", folder / f"{stem}.svg"
        png.write_bytes(self.png)
        svg.write_text(self.svg + "\n", encoding="utf-8")
        return [png, svg]


# --------------------------------------------------------------------------- geometry


def _fitted_crs(bounds: Sequence[float]) -> pyproj.CRS:
    """A Lambert conformal CRS fitted to lon/lat `bounds`: metres, small scale error."""
    minx, miny, maxx, maxy = bounds
    lat0, lon0 = (miny + maxy) / 2.0, (minx + maxx) / 2.0
    span = max(maxy - miny, 0.1)
    lat1, lat2 = miny + span / 6.0, maxy - span / 6.0
    return pyproj.CRS.from_proj4(
        f"+proj=lcc +lat_0={lat0:.4f} +lon_0={lon0:.4f} +lat_1={lat1:.4f} "
        f"+lat_2={lat2:.4f} +datum=WGS84 +units=m +no_defs"
    )


def _check_geometry(geom: Any, name: str) -> BaseGeometry | None:
    if geom is None:
        return None
    if not isinstance(geom, BaseGeometry):
        raise InputError(f"{name} = {type(geom).__name__}: expected a shapely geometry in "
                         "lon/lat (EPSG:4326) or None")
    if geom.is_empty:
        return None
    minx, miny, maxx, maxy = geom.bounds
    if not (-180.5 <= minx <= maxx <= 180.5 and -90.5 <= miny <= maxy <= 90.5):
        raise InputError(f"{name}: bounds {geom.bounds} are not lon/lat degrees: expected "
                         "a geometry in EPSG:4326")
    return geom


def band_rings(line: BaseGeometry, bands_km: Sequence[float] = BANDS_KM,
               ) -> list[tuple[str, BaseGeometry]]:
    """The distance bands around `line` as lon/lat polygons, nearest first.

    Buffers are taken in metres (a Lambert conformal CRS fitted to the line), never in
    degrees; each ring is its buffer minus the next one in. Labels are like ``'0-5'``.

    >>> from shapely import LineString
    >>> rings = band_rings(LineString([(37.0, 48.0), (38.0, 48.0)]), (5, 15))
    >>> [label for label, _ in rings]
    ['0-5', '5-15']
    """
    line = _check_geometry(line, "line_of_contact")
    edges = sorted(float(b) for b in bands_km)
    if not edges or edges[0] <= 0:
        raise InputError(f"bands_km = {list(bands_km)!r}: expected positive distances in km")
    if line is None:
        return []
    crs = _fitted_crs(line.bounds)
    fwd = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform
    back = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform
    line_m = shapely.simplify(_reproject(line, fwd), 100.0)
    buffers = [shapely.buffer(line_m, e * 1000.0, quad_segs=6) for e in edges]
    rings: list[tuple[str, BaseGeometry]] = []
    inner: BaseGeometry | None = None
    lo = 0.0
    for edge, buf in zip(edges, buffers, strict=True):
        ring = buf if inner is None else shapely.difference(buf, inner)
        rings.append((f"{_km(lo)}-{_km(edge)}", _reproject(ring, back)))
        inner, lo = buf, edge
    return rings


def _reproject(geom: BaseGeometry, func: Any) -> BaseGeometry:
    """Apply a pyproj ``transform(x, y)`` to every coordinate, vectorised."""
    return shapely.transform(geom, lambda xy: np.column_stack(func(xy[:, 0], xy[:, 1])))


def _km(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _polygon_path(geom: BaseGeometry) -> MplPath | None:
    """A compound Matplotlib path for (multi)polygons, holes included."""
    verts: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    for poly in getattr(geom, "geoms", [geom]):
        if poly.geom_type == "GeometryCollection" or poly.geom_type.startswith("Multi"):
            sub = _polygon_path(poly)
            if sub is not None:
                verts.append(np.asarray(sub.vertices))
                codes.append(np.asarray(sub.codes))
            continue
        if poly.geom_type != "Polygon" or poly.is_empty:
            continue
        for ring in (poly.exterior, *poly.interiors):
            xy = np.asarray(ring.coords)[:, :2]
            if len(xy) < 3:
                continue
            c = np.full(len(xy), MplPath.LINETO, dtype=np.uint8)
            c[0], c[-1] = MplPath.MOVETO, MplPath.CLOSEPOLY
            verts.append(xy)
            codes.append(c)
    if not verts:
        return None
    return MplPath(np.concatenate(verts), np.concatenate(codes))


def _line_parts(geom: BaseGeometry) -> list[np.ndarray]:
    parts = shapely.get_parts(shapely.line_merge(geom) if geom.geom_type != "Polygon"
                              else geom.boundary)
    return [np.asarray(p.coords)[:, :2] for p in parts if p.geom_type == "LineString"]


# --------------------------------------------------------------------------- the map


def incident_map(
    incidents: gpd.GeoDataFrame | None,
    line_of_contact: BaseGeometry | None,
    ru_ground: BaseGeometry | None = None,
    *,
    bands_km: Sequence[float] = BANDS_KM,
    context: BaseGeometry | None = None,
    title: str | None = None,
    extent: Sequence[float] | None = None,
    label_places: int = 8,
    size: tuple[float, float] | None = None,
    held_label: str = "Ground held by Russia (control map)",
    background: Any = None,
    detections: pd.DataFrame | None = None,
    credit: str | None = None,
) -> Figure:
    """The map of the line of contact, its bands, ground held by Russia and the incidents.

    `context` is any extra lon/lat geometry drawn thin and grey underneath (country
    outlines, coasts) so readers can place the front. `extent` is (minx, miny, maxx,
    maxy) in degrees; by default the line plus its outer band and every incident.
    Up to `label_places` places of the most certain incidents are named on the map.
    The legend says "ground held" (`held_label` names the party), never who fired.
    `size` (inches) defaults to one that fits the extent's shape, with the legend to
    the right of the map. `background` is a `truceline.publish.basemap.Basemap` (land,
    oblasts, water, cities, and the state border drawn apart from the line);
    `detections` (lon, lat, war) are drawn as small dots, war-fire calls in orange, so a
    map with no incident still shows the fire it rests on; `credit` is printed under it.
    """
    line = _check_geometry(line_of_contact, "line_of_contact")
    held = _check_geometry(ru_ground, "ru_ground")
    ctx = _check_geometry(context, "context")
    pts = _incident_points(incidents)

    rings = band_rings(line, bands_km) if line is not None else []
    bbox = _map_extent(extent, line, rings, pts)
    fig = Figure(figsize=size or _map_size(bbox), dpi=_FIG_DPI, layout="constrained")
    ax = fig.add_subplot()
    if bbox is None:
        ax.text(0.5, 0.5, "Nothing to map: no line of contact and no incidents",
                ha="center", va="center", transform=ax.transAxes, fontsize=12)
        ax.set_axis_off()
        return fig
    minx, miny, maxx, maxy = bbox
    window = shapely.box(minx, miny, maxx, maxy)

    handles: list[Any] = []
    if background is not None:
        handles += _draw_background(ax, background, window)
    if ctx is not None:
        for xy in _line_parts(shapely.boundary(ctx) if ctx.area > 0 else ctx):
            ax.plot(xy[:, 0], xy[:, 1], color="#9e9e9e", lw=0.6, zorder=1)
    if held is not None:
        path = _polygon_path(shapely.intersection(held, window.buffer(1.0)))
        if path is not None:
            ax.add_patch(PathPatch(path, facecolor=_HELD_COLOR, edgecolor="#a89f8f",
                                   lw=0.4, zorder=1.5))
            handles.append(Patch(facecolor=_HELD_COLOR, edgecolor="#a89f8f",
                                 label=held_label))
    colors = _band_colors(len(rings))
    for (_label, ring), color in zip(reversed(rings), reversed(colors), strict=True):
        path = _polygon_path(ring)
        if path is not None:
            ax.add_patch(PathPatch(path, facecolor=color, edgecolor="none", alpha=0.55,
                                   zorder=2))
    for (label, _), color in zip(rings, colors, strict=True):
        name = label.replace("-", "–")
        handles.append(Patch(facecolor=color, alpha=0.55, label=f"{name} km from the line"))
    if line is not None:
        for xy in _line_parts(line):
            ax.plot(xy[:, 0], xy[:, 1], color=_LINE_COLOR, lw=1.2, zorder=3)
        handles.insert(0, Line2D([], [], color=_LINE_COLOR, lw=1.2, label="Line of contact"))

    if background is not None and not background.state_border.is_empty:
        for xy in _line_parts(background.state_border):
            ax.plot(xy[:, 0], xy[:, 1], color="#3b3b3b", lw=1.0, ls=(0, (6, 2, 1, 2)),
                    zorder=2.8)
        handles.append(Line2D([], [], color="#3b3b3b", lw=1.0, ls=(0, (6, 2, 1, 2)),
                              label="State border of Ukraine"))
    if detections is not None and len(detections):
        handles += _draw_detections(ax, detections)
    if len(pts):
        handles.extend(_draw_incidents(ax, pts, label_places))
    else:
        handles.append(Line2D([], [], ls="none", label="No incidents in this period"))

    mid_lat = (miny + maxy) / 2.0
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_aspect(1.0 / max(math.cos(math.radians(mid_lat)), 0.05))
    ax.xaxis.set_major_formatter(lambda v, _pos: f"{abs(v):g}°{'E' if v >= 0 else 'W'}")
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{abs(v):g}°{'N' if v >= 0 else 'S'}")
    ax.tick_params(labelsize=8, colors="#555555")
    ax.grid(color="#e0e0e0", lw=0.5, zorder=0)
    ax.set_facecolor("white")
    _scale_bar(ax, bbox)
    fig.legend(handles=handles, loc="outside right upper", fontsize=8, frameon=False)
    if title:
        ax.set_title(title, fontsize=12, loc="left")
    if credit:
        _credit(fig, credit)
    _drop_overlapping_names(fig, ax)
    return fig


def _credit(fig: Figure, text: str) -> None:
    """Sources under the figure, wrapped: an image that travels alone keeps its credits."""
    import textwrap

    width = max(int(fig.get_figwidth() * 17), 60)
    fig.supxlabel("\n".join(textwrap.wrap(text, width)), fontsize=6, color="#57606a",
                  ha="left", x=0.01)


def _draw_background(ax: Any, base: Any, window: BaseGeometry) -> list[Any]:
    """Land, lakes, rivers, oblast and country lines, and city names under the map."""
    handles: list[Any] = []
    ax.set_facecolor("#e3edf5")  # sea
    land = _polygon_path(shapely.intersection(base.land, window.buffer(0.5)))
    if land is not None:
        ax.add_patch(PathPatch(land, facecolor="#fbfaf7", edgecolor="#b9b9b9", lw=0.4,
                               zorder=0.5))
    lakes = _polygon_path(shapely.intersection(base.lakes, window.buffer(0.5)))
    if lakes is not None:
        ax.add_patch(PathPatch(lakes, facecolor="#b7d3ea", edgecolor="#8fb3d3", lw=0.3,
                               zorder=0.7))
    for geom, color, lw, ls in ((base.rivers, "#7fa7cf", 0.5, "-"),
                                (base.oblast_lines, "#b0a9a0", 0.4, ":"),
                                (base.country_lines, "#8a8a8a", 0.5, "-")):
        for xy in _line_parts(shapely.intersection(geom, window.buffer(0.5))):
            ax.plot(xy[:, 0], xy[:, 1], color=color, lw=lw, ls=ls, zorder=0.8)
    handles.append(Line2D([], [], color="#b0a9a0", lw=0.6, ls=":", label="Oblast border"))
    cities = base.cities
    if len(cities):
        x0, y0, x1, y1 = window.bounds
        inside = cities[(cities.lon > x0) & (cities.lon < x1) & (cities.lat > y0)
                        & (cities.lat < y1)].head(25)
        ax.scatter(inside.lon, inside.lat, s=7, marker="s", facecolors="none",
                   edgecolors="#222222", linewidths=0.6, zorder=5)
        for row in inside.itertuples():
            ax.annotate(row.name, (row.lon, row.lat), xytext=(3, 2), textcoords="offset points",
                        fontsize=6, color="#333333", zorder=5)
        handles.append(Line2D([], [], ls="none", marker="s", markersize=4,
                              markerfacecolor="none", markeredgecolor="#222222",
                              label="City (50,000 people or more)"))
    return handles


def _draw_detections(ax: Any, det: pd.DataFrame) -> list[Any]:
    """Every fire detection as a small dot; war-fire calls in orange, on top."""
    lon = pd.to_numeric(det["lon"], errors="coerce").to_numpy()
    lat = pd.to_numeric(det["lat"], errors="coerce").to_numpy()
    war = det["war"].fillna(False).to_numpy(dtype=bool) if "war" in det else np.zeros(
        len(det), bool)
    handles = []
    grow = 2.5 if len(det) < 500 else 1.0  # a few dots must still be seen on a whole front
    for flag, color, label in ((False, "#6e6e6e", "Fire detection"),
                               (True, "#d95f0e", "Fire detection, war-fire call")):
        sel = war == flag
        if sel.any():
            ax.scatter(lon[sel], lat[sel], s=(2.5 if not flag else 4) * grow, c=color,
                       linewidths=0,
                       alpha=0.75, zorder=3.5 + flag * 0.1, rasterized=True)
            handles.append(Line2D([], [], ls="none", marker="o", markersize=3,
                                  markerfacecolor=color, markeredgewidth=0,
                                  label=f"{label} ({int(sel.sum()):,})"))
    return handles


def _drop_overlapping_names(fig: Figure, ax: Any) -> None:
    """Remove a place name that would overlap a more certain incident's name.

    Names are drawn most certain first; where incidents cluster (Drobysheve and Zarichne,
    August 2025) the later one is dropped rather than printed over the first. Needs the
    final layout, so the figure is drawn once here (a handful of names, not detections).
    """
    names = [t for t in ax.texts if isinstance(t, Annotation)]
    if len(names) < 2:
        return
    fig.draw_without_rendering()  # lays the figure out: the names' final places
    kept: list[Any] = []
    for t in names:
        box = t.get_window_extent()
        if any(box.overlaps(k) for k in kept):
            t.remove()
        else:
            kept.append(box)


def _incident_points(incidents: gpd.GeoDataFrame | None) -> pd.DataFrame:
    """lon, lat, confidence, n, place of each incident; accepts geometry or lon/lat."""
    cols = ["lon", "lat", "confidence", "n", "place", "p_min"]
    if incidents is None or len(incidents) == 0:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame(index=range(len(incidents)))
    geom = getattr(incidents, "geometry", None) if isinstance(incidents,
                                                              gpd.GeoDataFrame) else None
    if geom is not None and not geom.isna().all():
        if geom.crs is not None and not geom.crs.equals("EPSG:4326"):
            geom = geom.to_crs(4326)
        reps = shapely.point_on_surface(np.asarray(geom.values, dtype=object))
        df["lon"] = shapely.get_x(reps)
        df["lat"] = shapely.get_y(reps)
    elif {"lon", "lat"} <= set(incidents.columns):
        df["lon"] = pd.to_numeric(incidents["lon"], errors="coerce").to_numpy()
        df["lat"] = pd.to_numeric(incidents["lat"], errors="coerce").to_numpy()
    else:
        raise InputError("incidents: no geometry and no lon/lat columns: expected a "
                         "GeoDataFrame of points (EPSG:4326) or lon and lat columns")
    df["confidence"] = (incidents["confidence"].astype("string").str.lower().fillna("unknown")
                        .to_numpy() if "confidence" in incidents else "unknown")
    n = incidents["n_detections"] if "n_detections" in incidents else 1
    df["n"] = pd.to_numeric(pd.Series(n, index=incidents.index), errors="coerce").fillna(1
                                                                                        ).to_numpy()
    df["place"] = (incidents["place"].astype("string").fillna("").to_numpy()
                   if "place" in incidents else "")
    df["p_min"] = (pd.to_numeric(incidents["p_min"], errors="coerce").to_numpy()
                   if "p_min" in incidents else np.nan)
    return df.dropna(subset=["lon", "lat"])


def _map_extent(extent: Sequence[float] | None, line: BaseGeometry | None,
                rings: list[tuple[str, BaseGeometry]], pts: pd.DataFrame,
                ) -> tuple[float, float, float, float] | None:
    if extent is not None:
        if len(extent) != 4 or not (extent[0] < extent[2] and extent[1] < extent[3]):
            raise InputError(f"extent = {list(extent)!r}: expected (minx, miny, maxx, maxy) "
                             "in degrees with min < max")
        return (float(extent[0]), float(extent[1]), float(extent[2]), float(extent[3]))
    boxes = []
    if rings:
        boxes.append(rings[-1][1].bounds)
    elif line is not None:
        boxes.append(line.bounds)
    if len(pts):
        boxes.append((pts["lon"].min(), pts["lat"].min(), pts["lon"].max(), pts["lat"].max()))
    if not boxes:
        return None
    b = np.array(boxes, dtype=float)
    minx, miny = b[:, 0].min(), b[:, 1].min()
    maxx, maxy = b[:, 2].max(), b[:, 3].max()
    pad_x = max((maxx - minx) * 0.04, 0.05)
    pad_y = max((maxy - miny) * 0.04, 0.05)
    return (minx - pad_x, miny - pad_y, maxx + pad_x, maxy + pad_y)


def _map_size(bbox: tuple[float, float, float, float] | None) -> tuple[float, float]:
    """Figure inches that fit the extent's true shape, plus room for the legend."""
    if bbox is None:
        return (10.0, 6.0)
    minx, miny, maxx, maxy = bbox
    ratio = (maxy - miny) / max((maxx - minx) * math.cos(math.radians((miny + maxy) / 2)),
                                1e-6)
    map_w = 7.0
    return (map_w + 3.0, float(min(max(map_w * ratio, 3.5), 9.0)))


def _band_colors(n: int) -> list[str]:
    if n <= len(BAND_COLORS):
        return list(BAND_COLORS[:n])
    return list(BAND_COLORS) + [BAND_COLORS[-1]] * (n - len(BAND_COLORS))


def _draw_incidents(ax: Any, pts: pd.DataFrame, label_places: int) -> list[Any]:
    """Markers by confidence (most certain on top), sized by detections; a few names."""
    handles: list[Any] = []
    order = ["low", "medium", "high"]
    extra = sorted(set(pts["confidence"]) - set(order))
    for conf in extra + order:
        sel = pts[pts["confidence"] == conf]
        if sel.empty:
            continue
        color = CONFIDENCE_COLORS.get(conf, _UNKNOWN_CONFIDENCE)
        sizes = 14.0 + 10.0 * np.sqrt(np.clip(sel["n"].to_numpy(dtype=float), 1, 400))
        ax.scatter(sel["lon"], sel["lat"], s=sizes, c=color, edgecolors="#3b3b3b",
                   linewidths=0.5, zorder=4 + order.index(conf) * 0.1 if conf in order else 4)
    for conf in reversed(order + extra):
        k = int((pts["confidence"] == conf).sum())
        if k:
            handles.append(Line2D([], [], ls="none", marker="o", markersize=7,
                                  markerfacecolor=CONFIDENCE_COLORS.get(conf, _UNKNOWN_CONFIDENCE),
                                  markeredgecolor="#3b3b3b", markeredgewidth=0.5,
                                  label=f"Incident, {conf} confidence ({k})"))
    if label_places > 0:
        rank = pts.assign(_c=pts["confidence"].map({"high": 0, "medium": 1, "low": 2})
                          .fillna(3))
        rank = rank[rank["place"].str.len() > 0].sort_values(["_c", "p_min", "n"],
                                                             ascending=[True, True, False])
        rank = rank.drop_duplicates("place").head(label_places)
        for row in rank.itertuples():
            ax.annotate(row.place, (row.lon, row.lat), xytext=(5, 4),
                        textcoords="offset points", fontsize=7, color="#222222", zorder=6,
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                              "alpha": 0.75})
    return handles


def _scale_bar(ax: Any, bbox: tuple[float, float, float, float]) -> None:
    """A km scale bar in the lower left, sized to about a fifth of the map width."""
    minx, miny, maxx, maxy = bbox
    lat = miny + (maxy - miny) * 0.06
    km_per_deg = 111.32 * math.cos(math.radians(lat))
    if km_per_deg <= 0:
        return
    width_km = (maxx - minx) * km_per_deg
    nice = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000]
    length = max([n for n in nice if n <= width_km / 5] or [nice[0]])
    x0 = minx + (maxx - minx) * 0.04
    x1 = x0 + length / km_per_deg
    ax.plot([x0, x1], [lat, lat], color="#222222", lw=2.2, solid_capstyle="butt", zorder=7)
    ax.text((x0 + x1) / 2, lat + (maxy - miny) * 0.012, f"{length} km", ha="center",
            va="bottom", fontsize=7.5, zorder=7,
            bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7})


# --------------------------------------------------------------------------- timeline


_WINDOW_COLOURS = ("#fee08b", "#c7e9c0", "#c6dbef", "#fdd0a2", "#dadaeb")


def timeline_chart(
    timeline: pd.DataFrame,
    window: tuple[Any, Any] | None = None,
    *,
    windows: Sequence[tuple[str, Any, Any]] = (),
    no_data_days: Sequence[Any] = (),
    unit: str = "fire detections",
    title: str | None = None,
    size: tuple[float, float] = (10.0, 4.0),
    coverage_days: Sequence[Mapping[str, Any]] | None = None,
    credit: str | None = None,
) -> Figure:
    """Daily counts per distance band (stacked bars) and the control band (a line).

    Each bar spans its UTC day, so the shaded agreement `window` (start, end instants;
    naive means UTC) falls exactly where it began and ended, even mid-day. Days in
    `no_data_days` are hatched: no satellite data, not "no fire". `windows` shades more
    agreements, each as (label, start, end). `coverage_days` (the coverage's ``days``:
    date, n_passes, cloud, counts, feed_gap) adds a strip under the days: passes per day
    (green when the day counts, grey when it does not, red on a feed gap) and the cloud
    share as a line.
    """
    if not isinstance(timeline, pd.DataFrame):
        raise InputError(f"timeline = {type(timeline).__name__}: expected a DataFrame indexed "
                         "by date with one column of daily counts per band")
    df = timeline.copy()
    try:
        idx = pd.DatetimeIndex(pd.to_datetime(df.index))
    except (ValueError, TypeError) as exc:
        raise InputError(f"timeline index: {exc}: expected dates") from exc
    if idx.tz is not None:
        idx = idx.tz_convert("UTC").tz_localize(None)
    df.index = idx.normalize()
    df = df.apply(pd.to_numeric, errors="coerce").fillna(0).sort_index()
    # accept analysis.timeline's names too: "0-5 km" -> "0-5", "control 60-150 km" ->
    # "control" (the legend says "km from the line" and "control band" itself)
    df.columns = [_timeline_column(c) for c in df.columns]

    strip = [d for d in (coverage_days or []) if isinstance(d, Mapping) and d.get("date")]
    fig = Figure(figsize=(size[0], size[1] * (1.3 if strip else 1.0)), dpi=_FIG_DPI,
                 layout="constrained")
    if strip and not df.empty:
        ax, sax = fig.subplots(2, 1, sharex=True, height_ratios=[4, 1])
    else:
        ax, sax = fig.add_subplot(), None
    if df.empty:
        ax.text(0.5, 0.5, "No daily counts to show", ha="center", va="center",
                transform=ax.transAxes, fontsize=12)
        ax.set_axis_off()
        return fig

    bands = [c for c in df.columns if _band_key(c) is not None]
    bands.sort(key=lambda c: _band_key(c) or 0.0)
    lines = [c for c in df.columns if c not in bands]
    x = df.index.to_pydatetime()
    one_day = pd.Timedelta(days=1).to_pytimedelta()
    span_days = max(len(df), 1)

    if window is not None:
        start, end = (_naive_utc(w) for w in window)
        ax.axvspan(start, end, color="#fee08b", alpha=0.6, zorder=0, lw=0,
                   label="Agreement window")
    for i, (label, w0, w1) in enumerate(windows):
        ax.axvspan(_naive_utc(w0), _naive_utc(w1), color=_WINDOW_COLOURS[i % len(
            _WINDOW_COLOURS)], alpha=0.45, zorder=0, lw=0, label=str(label))
    nodata = pd.DatetimeIndex(pd.to_datetime(list(no_data_days))) if len(no_data_days) else None
    if nodata is not None:
        if nodata.tz is not None:
            nodata = nodata.tz_convert("UTC").tz_localize(None)
        for i, day in enumerate(nodata.normalize().unique()):
            ax.axvspan(day.to_pydatetime(), (day + pd.Timedelta(days=1)).to_pydatetime(),
                       facecolor="none", edgecolor="#7a7a7a", hatch="///", lw=0, zorder=2.5,
                       label="No satellite data" if i == 0 else None)

    bottom = np.zeros(len(df))
    for col in bands:
        vals = df[col].to_numpy(dtype=float)
        ax.bar(x, vals, width=one_day * 0.92, bottom=bottom, align="edge",
               color=_TIMELINE_COLORS.get(str(col), "#9e9ac8"), edgecolor="white",
               linewidth=0.3 if span_days < 120 else 0,
               label=f"{str(col).replace('-', '–')} km from the line",
               zorder=2)
        bottom += vals
    styles = ["--", ":", "-."]
    for i, col in enumerate(lines):
        label = "Control band (far from the line)" if str(col) == "control" else str(col)
        ax.step(list(x) + [x[-1] + one_day], np.r_[df[col].to_numpy(dtype=float),
                                                   df[col].iloc[-1]],
                where="post", color="#1b7837" if str(col) == "control" else "#333333",
                ls=styles[i % len(styles)], lw=1.4, label=label, zorder=3)

    if sax is not None:
        _coverage_strip(sax, strip, one_day)
    ax.set_xlim(x[0], x[-1] + one_day)
    ax.set_ylim(bottom=0)
    ax.set_ylabel(f"{unit} per day (UTC)", fontsize=9)
    ax.tick_params(labelsize=8)
    ax.grid(axis="y", color="#e6e6e6", lw=0.6, zorder=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    # no offset text: it names the month of the axis' right edge, which reads "2025-Sep"
    # under a window that ends on 31 August; the label gives the dates shown instead
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(
        locator, show_offset=False))  # type: ignore[no-untyped-call]
    first, last = pd.Timestamp(x[0]), pd.Timestamp(x[-1])
    # nor a tick on the right edge, the midnight after the last day ("Sep" under August)
    edge = mdates.date2num((last + pd.Timedelta(hours=12)).to_pydatetime())
    ax.set_xticks([t for t in locator() if t <= edge])
    (sax if sax is not None else ax).set_xlabel(
        f"{first:%-d %b %Y} – {last:%-d %b %Y} (UTC days)", fontsize=8)
    fig.legend(fontsize=8, loc="outside right upper", frameon=False)
    if title:
        ax.set_title(title, fontsize=12, loc="left")
    if credit:
        _credit(fig, credit)
    return fig


def sector_chart(detections: pd.DataFrame, incidents: pd.DataFrame,
                 window: tuple[Any, Any] | None = None, *, max_sectors: int = 12,
                 credit: str | None = None) -> Figure | None:
    """Day by day in each sector with an incident: all fire and war-fire calls, small multiples.

    Sectors are ordered by their number of incidents (then detections), at most
    `max_sectors`; each panel has its own y scale (a quiet sector stays readable) and the
    agreement `window` shaded. None when no incident has a sector.
    """
    if "sector" not in incidents or "sector" not in detections or "acq_date" not in detections:
        return None
    per = incidents["sector"].dropna().astype(str).value_counts()
    if per.empty:
        return None
    det = detections[detections["sector"].astype("string").isin(per.index)]
    day = pd.to_datetime(det["acq_date"], errors="coerce")
    if day.dt.tz is not None:
        day = day.dt.tz_localize(None)
    war = det["war"].fillna(False).astype(bool) if "war" in det else pd.Series(
        False, index=det.index)
    counts = pd.DataFrame({"sector": det["sector"].astype(str), "day": day.dt.normalize(),
                           "war": war.to_numpy()})
    allc = counts.groupby(["sector", "day"]).size().unstack("sector", fill_value=0)
    warc = counts[counts["war"]].groupby(["sector", "day"]).size().unstack(
        "sector", fill_value=0)
    if allc.empty:
        return None
    days = pd.date_range(allc.index.min(), allc.index.max(), freq="D")
    allc = allc.reindex(days, fill_value=0)
    warc = warc.reindex(index=days, columns=allc.columns, fill_value=0)
    order = sorted(allc.columns, key=lambda k: (-int(per.get(k, 0)), -int(allc[k].sum()), k))
    order = order[:max_sectors]
    ncol = 3 if len(order) > 4 else max(len(order), 1)
    nrow = math.ceil(len(order) / ncol)
    fig = Figure(figsize=(10.0, 1.9 * nrow + 0.8), dpi=_FIG_DPI, layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrow, ncol, sharex=True, squeeze=False)).ravel()
    x = days.to_pydatetime()
    one_day = pd.Timedelta(days=1).to_pytimedelta()
    import matplotlib.dates as mdates

    # whole days on short spans (AutoDateLocator has no interval for two days)
    def locator() -> Any:  # one per axis: a locator belongs to the axis it ticks
        return (mdates.DayLocator() if len(days) < 8  # type: ignore[no-untyped-call]
                else mdates.AutoDateLocator(maxticks=5))  # type: ignore[no-untyped-call]

    for ax, sector in zip(axes, order, strict=False):
        if window is not None:
            ax.axvspan(*(_naive_utc(w) for w in window), color="#fee08b", alpha=0.6, lw=0,
                       zorder=0)
        ax.bar(x, allc[sector].to_numpy(), width=one_day * 0.9, align="edge",
               color="#bdbdbd", zorder=2)
        ax.bar(x, warc[sector].to_numpy(), width=one_day * 0.9, align="edge",
               color="#d95f0e", zorder=3)
        n = int(per.get(sector, 0))
        ax.set_title(f"{sector} ({n} incident{'s' if n != 1 else ''})", fontsize=8,
                     loc="left")
        ax.tick_params(labelsize=6.5)
        ax.set_ylim(bottom=0)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%-d %b"))
        ax.xaxis.set_major_locator(locator())
    for ax in axes[len(order):]:
        ax.set_axis_off()
    fig.supylabel("fire detections per UTC day", fontsize=8)
    fig.legend(handles=[Patch(color="#bdbdbd", label="All fire"),
                        Patch(color="#d95f0e", label="War-fire call (very unlikely natural)"),
                        Patch(color="#fee08b", alpha=0.6, label="Agreement window")],
               loc="outside upper center", ncols=3, fontsize=7.5, frameon=False)
    if credit:
        _credit(fig, credit)
    return fig


def _coverage_strip(ax: Any, days: Sequence[Mapping[str, Any]], one_day: Any) -> None:
    """Passes per day coloured by whether the day counts, and the cloud share."""
    x = [pd.Timestamp(d["date"]).to_pydatetime() for d in days]
    passes = [float(d.get("n_passes") or 0) for d in days]
    colour = ["#d73027" if d.get("feed_gap") else "#1a9850" if d.get("counts", True)
              else "#bdbdbd" for d in days]
    ax.bar(x, passes, width=one_day * 0.92, align="edge", color=colour, zorder=2)
    ax.set_ylabel("passes", fontsize=7)
    ax.tick_params(labelsize=7)
    ax.set_ylim(bottom=0)
    for side in ("top",):
        ax.spines[side].set_visible(False)
    cloud = [d.get("cloud") for d in days]
    if any(c is not None for c in cloud):
        cx = ax.twinx()
        vals = [np.nan if c is None else 100.0 * float(c) for c in cloud]
        cx.step([*x, x[-1] + one_day], [*vals, vals[-1]], where="post", color="#4d4d4d",
                lw=1.0, zorder=3)
        cx.set_ylim(0, 100)
        cx.set_ylabel("cloud %", fontsize=7)
        cx.tick_params(labelsize=7)
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color="#1a9850", label="day counts"),
                       Patch(color="#bdbdbd", label="too few clear passes"),
                       Patch(color="#d73027", label="feed gap (no data, not calm)")],
              fontsize=6, loc="upper left", bbox_to_anchor=(1.06, 1.0), frameon=False)


_BAND_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*(?:km)?\s*$")


def _timeline_column(col: Any) -> str:
    name = str(col).strip()
    if name.lower().startswith("control"):
        return "control"
    return name[:-3].strip() if name.endswith(" km") and _band_key(name[:-3]) is not None \
        else name


def _band_key(col: Any) -> float | None:
    m = _BAND_RE.match(str(col))
    return float(m.group(1)) if m else None


def _naive_utc(value: Any) -> Any:
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.to_pydatetime()


# --------------------------------------------------------------------------- rendering


def render_figure(fig: Figure, *, dpi: int = _FIG_DPI) -> RenderedFigure:
    """PNG bytes and self-contained SVG text of `fig`, with reproducible metadata.

    SVG text is drawn as paths (no font files needed) and the XML prologue and metadata
    are dropped, so the SVG can be inlined in HTML as it is.
    """
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=dpi, metadata={"Software": None})
    svg = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "truceline", "svg.fonttype": "path"}):
        fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    return RenderedFigure(png=png.getvalue(), svg=_inline_svg(svg.getvalue().decode("utf-8")))


def _inline_svg(text: str) -> str:
    text = re.sub(r"^<\?xml[^>]*>\s*", "", text)
    text = re.sub(r"<!DOCTYPE[^>]*>\s*", "", text)
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    return text.strip()

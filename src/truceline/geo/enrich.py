"""Where every detection stands: snapshot, side, signed distance, band, H3, region, sector, place.

Detections are grouped by the control snapshot in force at their date (the latest
``valid_from`` on or before it); each snapshot is prepared once (areas, line of contact,
its segments and sectors, cached by content) and each group is handled with vectorised
calls: ``shapely.contains_xy`` on prepared polygons for the side, a k-d tree over the
line's segments plus an exact NumPy point-to-segment distance for the signed distance,
``h3ronpy`` for H3 and a lookup grid over GeoNames for places. No Python loop runs over
detections or vertices; the only loops are over snapshots, sector names and a handful
of candidate columns.

Distances are planar in the theatre's Lambert conformal CRS (metres): within 0.3% of the
geodesic over Ukraine (tests/geo/test_enrich.py measures it against ``pyproj.Geod``).

Flags (column ``flag``):

- ``ok``;
- ``before_first_snapshot``: the detection is dated before every snapshot (or no
  snapshot is given at all: no control map in force); it keeps its H3 cell, region and
  place, but side, distance, band and sector are missing;
- ``outside_theatre``: the point lies outside the theatre window
  (:data:`truceline.geo.outlines.THEATRE_BBOX`) where we hold no outlines; only H3 and
  the snapshot in force are given;
- ``stale``: the snapshot in force is more than ``max_staleness_days`` old (the result
  is computed but should be read with care).

A snapshot that covers nothing of Ukraine raises :class:`truceline.errors.InputError`
naming it.
"""

from __future__ import annotations

import gc
import hashlib
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from truceline.errors import InputError
from truceline.geo import grid, outlines, places
from truceline.geo.contact import ContactLine, contact_line
from truceline.geo.control import ControlAreas, control_areas
from truceline.progress import Progress, no_progress

__all__ = [
    "BANDS",
    "BAND_EDGES_KM",
    "FLAGS",
    "SIDES",
    "PreparedSnapshot",
    "clear_cache",
    "enrich",
    "prepare_snapshot",
    "signed_distance_km",
    "warm_up",
]

SIDES = ("ua", "ru", "third", "sea")
BAND_EDGES_KM = (5.0, 15.0, 30.0, 60.0, 150.0)
BANDS = ("0-5", "5-15", "15-30", "30-60", "60-150", ">150")
FLAGS = ("ok", "stale", "before_first_snapshot", "outside_theatre")

#: Longest segment of the line of contact (metres) in the distance index; see
#: :func:`_distance_to_segments` for why the distance is exact in practice and never
#: more than half a segment off.
SEGMENT_M = 100.0
NEAR_M = 5_000.0
K_NEAR = 8

#: Default sectors: GeoNames places of at least ``SECTOR_MIN_POP`` people within
#: ``SECTOR_NEAR_KM`` of the line, the largest first, keeping none within
#: ``SECTOR_SPACING_KM`` of a larger one; each stretch of the line is named after the
#: nearest such place.
SECTOR_MIN_POP = 5_000
SECTOR_NEAR_KM = 20.0
SECTOR_SPACING_KM = 30.0

MAX_STALENESS_DAYS = 14


def map_age(valid_from: Any, day: Any) -> tuple[int, bool]:
    """(days from a map's day to ``day``, whether that is older than
    :data:`MAX_STALENESS_DAYS`): what `line`, the API and the service say of a map.

    >>> map_age("2025-08-10", "2025-08-30")
    (20, True)
    """
    age = int((pd.Timestamp(day).normalize() - pd.Timestamp(valid_from).normalize()).days)
    return age, age > MAX_STALENESS_DAYS

#: A surrounded Ukrainian-held island this large (km²) in a snapshot raises a warning.
POCKET_WARN_KM2 = 1_000.0

#: Rows per task in :func:`enrich`: small enough to share the work between two threads,
#: large enough that Python's per-call overhead stays negligible.
_CHUNK = 50_000
#: Rows per call of the constructors that hold the GIL (shapely.points, h3ronpy): short
#: turns (~20 ms), so the measuring threads are never kept waiting long.
_GIL_CHUNK = 50_000


def _spatial_order(group: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Row order by ``group`` (non-negative ints), then by 0.1° cells, column by column.

    Nearby points in a row make the k-d queries 2-3x faster (measured). Both keys fit in
    16 bits, so two stable radix sorts do it (~15 ms per million rows against ~100 ms
    for one sort of a combined 64-bit key); the order among equal keys does not matter.
    Points outside the theatre window fall in its edge cells.
    """
    x0, y0, _, _ = outlines.THEATRE_BBOX
    cx = np.clip((lon - x0) * 10.0, 0, 255).astype(np.uint16)
    cy = np.clip((lat - y0) * 10.0, 0, 255).astype(np.uint16)
    order = np.argsort(cx * np.uint16(256) + cy, kind="stable")
    if len(group) and group.max() < 2**16:
        return order[np.argsort(group[order].astype(np.uint16), kind="stable")]
    return order[np.argsort(group[order], kind="stable")]


REQUIRED_SNAPSHOT_COLUMNS = ("snapshot_id", "valid_from", "geometry")
REQUIRED_DETECTION_COLUMNS = ("lon", "lat", "acq_date")


@dataclass(frozen=True)
class PreparedSnapshot:
    """One snapshot made ready for fast queries (all metric, metres)."""

    snapshot_id: str
    areas: ControlAreas
    contact: ContactLine
    seg_a: np.ndarray  # (n, 2) segment starts
    seg_b: np.ndarray  # (n, 2) segment ends
    seg_part: np.ndarray  # (n,) index of the line part each segment belongs to
    tree: cKDTree  # over segment midpoints
    sector_names: np.ndarray  # unique sector names (str)
    seg_sector_code: np.ndarray  # (n,) index of each segment's name in sector_names
    seg: _SegTable  # the same segments, laid out for the distance


@dataclass(frozen=True)
class _SegTable:
    """Segments as contiguous per-segment columns, so a point's distance gathers once.

    ``ax, ay`` the start, ``abx, aby`` the vector to the end, ``den`` its squared length
    (1 where the segment is a point), ``prev``/``next`` the neighbour on the same line part
    (itself at a part's end): computed once per segment, not once per point.
    """

    ax: np.ndarray
    ay: np.ndarray
    abx: np.ndarray
    aby: np.ndarray
    den: np.ndarray
    prev: np.ndarray
    next: np.ndarray


def _seg_table(seg_a: np.ndarray, seg_b: np.ndarray, seg_part: np.ndarray) -> _SegTable:
    m = len(seg_a)
    ax, ay = np.ascontiguousarray(seg_a[:, 0]), np.ascontiguousarray(seg_a[:, 1])
    abx, aby = seg_b[:, 0] - ax, seg_b[:, 1] - ay
    den = abx * abx + aby * aby
    i = np.arange(m, dtype=np.int64)
    nb = []
    for off in (-1, 1):
        j = np.clip(i + off, 0, max(m - 1, 0))
        nb.append(np.where(seg_part[j] == seg_part, j, i))
    return _SegTable(ax, ay, abx, aby, np.where(den > 0, den, 1.0), nb[0], nb[1])


# --------------------------------------------------------------------------- snapshot


def _kdtree(xy: np.ndarray) -> cKDTree:
    """A k-d tree tuned for many queries far from its points.

    The sliding-midpoint (unbalanced) tree with small leaves answers queries several
    kilometres away from a line 3-4x faster than SciPy's default balanced tree
    (measured: 0.33 s against 1.0-3.7 s per million points on this machine).
    """
    return cKDTree(xy, leafsize=16, balanced_tree=False, compact_nodes=False)


def _segments(line: BaseGeometry, max_len: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start, end and part index of every segment of a (multi)line, densified to ``max_len``."""
    parts = shapely.get_parts(shapely.segmentize(line, max_len))
    xy, idx = shapely.get_coordinates(parts, return_index=True)
    same = idx[1:] == idx[:-1]
    return xy[:-1][same], xy[1:][same], idx[:-1][same]


@lru_cache(maxsize=1)
def _sector_candidates() -> tuple[np.ndarray, np.ndarray]:
    """Names and metric xy of settlements big enough to name a sector, largest first."""
    pl = places.places().table
    big = pl[pl.population >= SECTOR_MIN_POP].sort_values("population", ascending=False)
    return big["name"].to_numpy(dtype=object), big[["x", "y"]].to_numpy()


def _default_sector_anchors(tree: cKDTree, table: _SegTable) -> tuple[np.ndarray, np.ndarray]:
    """Names and metric xy of the settlements that name the stretches of the line."""
    names, xy = _sector_candidates()
    d = _distance_to_segments(xy, tree, table)[0]
    near = np.flatnonzero(d <= SECTOR_NEAR_KM * 1000.0)
    pts = xy[near]
    kept: list[int] = []
    for i in range(len(near)):  # a few hundred settlements, not detections
        if not kept or np.min(np.hypot(*(pts[kept] - pts[i]).T)) >= SECTOR_SPACING_KM * 1e3:
            kept.append(i)
    return names[near[kept]], pts[kept]


def _sector_of_segments(
    seg_a: np.ndarray,
    seg_b: np.ndarray,
    tree: cKDTree | None,
    table: _SegTable,
    sectors: gpd.GeoDataFrame | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Sector names (unique) and, per segment, the index of its name (-1: none)."""
    mid = (seg_a + seg_b) / 2
    none = (np.zeros(0, dtype=object), np.full(len(mid), -1, dtype=np.int64))
    if len(mid) == 0 or tree is None:
        return none
    if sectors is None:
        names, xy = _default_sector_anchors(tree, table)
        if len(names) == 0:
            return none
        _, j = cKDTree(xy).query(mid, k=1)
    else:
        geo = sectors.geometry if sectors.crs is None else sectors.geometry.to_crs(4326)
        geoms = outlines.to_metric(geo.to_numpy())
        i_pt, j = shapely.STRtree(geoms).query_nearest(shapely.points(mid), all_matches=False)
        j = j[np.argsort(i_pt)]
        names = sectors["name"].astype(str).to_numpy(dtype=object)
    code_of_name, unique = pd.factorize(names)  # per sector, not per segment
    return np.asarray(unique, dtype=object), code_of_name[np.asarray(j, dtype=np.int64)]


def _sectors_key(sectors: gpd.GeoDataFrame) -> str:
    h = hashlib.sha1()
    for name, wkb in zip(sectors["name"].astype(str), sectors.geometry.to_wkb(), strict=True):
        h.update(name.encode() + b"\0" + bytes(wkb))
    return h.hexdigest()


_CACHE: OrderedDict[tuple[object, ...], PreparedSnapshot] = OrderedDict()
#: Prepared snapshots kept (about 1.2 MB each for a 2025 DeepState map): a year of daily
#: maps, so re-running over a year costs no preparation.
_CACHE_SIZE = 400
_CACHE_LOCK = threading.Lock()
#: Held by :func:`enrich`'s worker threads around the point-in-polygon tests: a GEOS
#: prepared geometry builds its index lazily and is not safe to query from two threads at
#: once (libgeos/geos#825).
_GEOS_LOCK = threading.Lock()


def clear_cache() -> None:
    """Forget every prepared snapshot (to free memory, or to time a cold run)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _renamed(prep: PreparedSnapshot, snapshot_id: str) -> PreparedSnapshot:
    areas = replace(prep.areas, snapshot_id=snapshot_id)
    contact = replace(prep.contact, snapshot_id=snapshot_id)
    return replace(prep, snapshot_id=snapshot_id, areas=areas, contact=contact)


def prepare_snapshot(
    snapshot_id: str,
    geometry: BaseGeometry,
    *,
    crimea_missing: bool = False,
    sectors: gpd.GeoDataFrame | None = None,
) -> PreparedSnapshot:
    """Areas, line of contact, segment index and sector names of one snapshot.

    Cached by content (geometry bytes, Crimea flag, sectors), so re-running over the same
    snapshots, or over a source that repeats an unchanged map under a new date, costs
    nothing.
    """
    key: tuple[object, ...] = (
        hashlib.sha1(shapely.to_wkb(geometry)).hexdigest(),
        bool(crimea_missing),
        None if sectors is None else _sectors_key(sectors),
    )
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
    if hit is not None:  # same map under another name (sources repeat unchanged days)
        return hit if hit.snapshot_id == snapshot_id else _renamed(hit, snapshot_id)
    areas = control_areas(geometry, crimea_missing=crimea_missing, snapshot_id=snapshot_id)
    if areas.pockets and areas.pockets[0][0] >= POCKET_WARN_KM2:
        km2, lon, lat = areas.pockets[0]
        warnings.warn(
            f"control snapshot {snapshot_id!r} leaves {km2:,.0f} km² of Ukrainian-held ground "
            f"surrounded by Russian-held ground (around {lon:.2f}°E {lat:.2f}°N): a real "
            "encirclement, or does the source leave out ground held since 2014?",
            UserWarning,
            stacklevel=2,
        )
    contact = contact_line(areas)
    seg_a, seg_b, seg_part = _segments(contact.line, SEGMENT_M)
    tree = _kdtree((seg_a + seg_b) / 2) if len(seg_a) else None
    table = _seg_table(seg_a, seg_b, seg_part)
    sector_names, seg_sector_code = _sector_of_segments(seg_a, seg_b, tree, table, sectors)
    prep = PreparedSnapshot(
        snapshot_id=snapshot_id,
        areas=areas,
        contact=contact,
        seg_a=seg_a,
        seg_b=seg_b,
        seg_part=seg_part,
        tree=tree,  # type: ignore[arg-type]
        sector_names=sector_names,
        seg_sector_code=seg_sector_code,
        seg=table,
    )
    with _CACHE_LOCK:
        _CACHE[key] = prep
        if len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return prep


def sector_table(prep: PreparedSnapshot) -> pd.DataFrame:
    """The sectors of a prepared snapshot's line: ``name``, ``line_km`` (length of line it
    names) and ``lon``/``lat`` of the middle of its stretch, by name.

    Why: a user filtering by sector needs the names in force that day, spelled as the
    enrichment spells them, and how much line each covers.
    """
    cols = ["name", "line_km", "lon", "lat"]
    code = prep.seg_sector_code
    named = code >= 0
    if not named.any():
        return pd.DataFrame({c: pd.Series(dtype=object if c == "name" else float)
                             for c in cols})
    k = len(prep.sector_names)
    length = np.hypot(*(prep.seg_b - prep.seg_a).T)
    km = np.bincount(code[named], weights=length[named], minlength=k) / 1000.0
    # the middle of a stretch: the segment whose running length first passes half its total
    rows = np.flatnonzero(named)
    order = rows[np.argsort(code[rows], kind="stable")]
    run = np.cumsum(length[order])
    first = np.searchsorted(code[order], np.arange(k))
    before = np.where(first > 0, run[np.maximum(first - 1, 0)], 0.0)
    half = np.searchsorted(run, before + km * 500.0).clip(max=len(order) - 1)
    mid = (prep.seg_a[order[half]] + prep.seg_b[order[half]]) / 2
    lon, lat = outlines._TO_LL.transform(mid[:, 0], mid[:, 1])
    out = pd.DataFrame({"name": prep.sector_names.astype(str), "line_km": km.round(1),
                        "lon": np.round(lon, 4), "lat": np.round(lat, 4)})
    return out[out["line_km"] > 0].sort_values("name", key=lambda s: s.str.casefold()
                                               ).reset_index(drop=True)


# --------------------------------------------------------------------------- per point


def _table_d2(px: np.ndarray, py: np.ndarray, tab: _SegTable, j: np.ndarray) -> np.ndarray:
    """Squared distance from each point to its segment ``j`` (one segment per point),
    with the per-segment values read from the table and few temporaries."""
    apx = px - tab.ax[j]
    apy = py - tab.ay[j]
    abx, aby = tab.abx[j], tab.aby[j]
    t = apx * abx
    t += apy * aby
    t /= tab.den[j]
    np.clip(t, 0.0, 1.0, out=t)
    abx *= t
    apx -= abx
    aby *= t
    apy -= aby
    apx *= apx
    apy *= apy
    apx += apy
    return apx


def _distance_to_segments(
    xy: np.ndarray, tree: cKDTree | None, table: _SegTable, workers: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Distance (m) from each point to the nearest segment, and that segment's index.

    Near the line (a segment midpoint within ``NEAR_M``), where its folds matter, the
    exact point-to-segment distance is taken over the ``K_NEAR`` segments with the
    nearest midpoints. Farther, over the segment with the nearest midpoint and its
    neighbours along the line: at most half a segment (50 m) too long, under 1%
    beyond ``NEAR_M`` (5 km). The loops run over candidate columns (a handful), never points.
    ``tree`` is over the midpoints of the segments in ``table`` (:func:`_seg_table`);
    ``workers`` is the k-d query's (default: all cores above 50,000 points).
    """
    n = len(xy)
    m = len(table.ax)
    if tree is None or m == 0:
        return np.full(n, np.nan), np.full(n, -1, dtype=np.int64)
    px, py = np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])
    if workers is None:
        workers = -1 if n > 50_000 else 1  # threads cost more than they save on few points
    # every point: the segment with the nearest midpoint, and its neighbours on the line
    dmid, i0 = tree.query(xy, k=1, workers=workers)
    i0 = np.asarray(i0, dtype=np.int64)
    best = _table_d2(px, py, table, i0)
    arg = i0.copy()
    for nbr in (table.prev, table.next):
        j = nbr[i0]
        d2 = _table_d2(px, py, table, j)
        better = d2 < best
        np.copyto(best, d2, where=better)
        np.copyto(arg, j, where=better)
    # near the line, where its folds matter: the K_NEAR segments with the nearest midpoints
    nr = np.flatnonzero(np.asarray(dmid) < NEAR_M)
    if len(nr):
        k = min(K_NEAR, m)
        _, cand = tree.query(xy[nr], k=k, workers=workers)
        cand = np.asarray(cand, dtype=np.int64).reshape(len(nr), k)
        nb, na = best[nr], arg[nr]
        qx, qy = px[nr], py[nr]
        for c in range(k):  # a handful of candidate columns, not points
            col = np.ascontiguousarray(cand[:, c])
            d2 = _table_d2(qx, qy, table, col)
            better = d2 < nb
            np.copyto(nb, d2, where=better)
            np.copyto(na, col, where=better)
        best[nr], arg[nr] = nb, na
    return np.sqrt(best), arg


#: Ground codes used inside this module: where a point is, finer than its side.
UA, HELD, RUSSIA, THIRD, SEA = 0, 1, 2, 3, 4
_GROUND_TO_SIDE = np.array([0, 1, 1, 2, 3], dtype=np.int8)


#: A point in the sea within this distance (metres) of land takes the side of the nearest
#: land: Natural Earth's 1:10M coast cuts through coastal towns (Kherson's centre,
#: Ochakiv), and FIRMS pixels on a shore can fall just offshore.
COAST_M = 2_000.0


@lru_cache(maxsize=2)
def _coast_bands(coast_m: float) -> tuple[BaseGeometry, BaseGeometry, BaseGeometry]:
    """Ukraine, Russia and the third countries each widened by ``coast_m`` (cached)."""
    third = [outlines.outline_m(c) for c in outlines.countries() if c not in ("UKR", "RUS")]
    out = []
    for g in (outlines.outline_m("UKR"), outlines.outline_m("RUS"), shapely.union_all(third)):
        band = shapely.buffer(g, coast_m, quad_segs=2)
        shapely.prepare(band)
        out.append(band)
    return out[0], out[1], out[2]


def _ground(prep: PreparedSnapshot, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Ground code per point (UA, HELD, RUSSIA, THIRD, SEA), tested in that order."""
    ground = np.full(len(x), SEA, dtype=np.int8)
    todo = np.arange(len(x))
    lands = (prep.areas.ua, prep.areas.held, outlines.outline_m("RUS"), prep.areas.third)
    for code, geom in enumerate(lands):  # UA, HELD, RUSSIA, THIRD
        if len(todo) == 0:
            break
        inside = shapely.contains_xy(geom, x[todo], y[todo])
        ground[todo[inside]] = code
        todo = todo[~inside]
    if len(todo) and COAST_M > 0:  # sea points: those just off a coast join that land
        ukr_band, rus_band, third_band = _coast_bands(COAST_M)
        near_ukr = shapely.contains_xy(ukr_band, x[todo], y[todo])
        rest = todo[~near_ukr]
        ground[rest[shapely.contains_xy(third_band, x[rest], y[rest])]] = THIRD
        ground[rest[shapely.contains_xy(rus_band, x[rest], y[rest])]] = RUSSIA
        cand = todo[near_ukr]  # off Ukraine's coast: free or held shore?
        if len(cand):
            pts = shapely.points(x[cand], y[cand])
            to_held = shapely.dwithin(prep.areas.held, pts, COAST_M)
            to_ua = shapely.dwithin(prep.areas.ua, pts, COAST_M)
            ground[cand[to_ua & ~to_held]] = UA
            ground[cand[to_held & ~to_ua]] = HELD
            both = to_ua & to_held  # between the two (the Dnipro): the nearer
            if both.any():
                nearer_held = shapely.distance(prep.areas.held, pts[both]) < shapely.distance(
                    prep.areas.ua, pts[both]
                )
                ground[cand[both]] = np.where(nearer_held, HELD, UA)
    return ground


def signed_distance_km(
    prep: PreparedSnapshot,
    x: np.ndarray,
    y: np.ndarray,
    workers: int | None = None,
    ground: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ground codes, signed distance (km; + on ua, - on ru, unsigned elsewhere), segment.

    ``x``, ``y`` are theatre-metric coordinates (metres). Ground codes: 0 ua, 1 held
    (Russian-held Ukraine), 2 Russia, 3 third country, 4 sea; map to sides with
    ``_GROUND_TO_SIDE``.
    """
    if ground is None:
        ground = _ground(prep, x, y)
    xy = np.column_stack([x, y])
    d, seg = _distance_to_segments(xy, prep.tree, prep.seg, workers)
    d /= 1000.0
    d[(ground == HELD) | (ground == RUSSIA)] *= -1.0
    return ground, d, seg


def warm_up() -> None:
    """Load the outlines, GeoNames and the place lookup grids now (~2-3 s, once).

    Everything is cached per process; a service or a benchmark calls this at start so
    the first request does not pay for it.
    """
    outlines.countries()
    outlines.outline_m("UKR")
    places.places()
    for code in (0, 1, 2):
        places._grid(code)


# --------------------------------------------------------------------------- validation


def _check_table(frame: object, kind: type, what: str, required: tuple[str, ...]) -> None:
    """``frame`` is a ``kind`` with the ``required`` columns, or InputError says what lacks."""
    if not isinstance(frame, kind):
        raise InputError(f"{what} must be a {kind.__name__}, got {type(frame).__name__}")
    missing = [c for c in required if c not in frame.columns]  # type: ignore[attr-defined]
    if missing:
        raise InputError(f"{what} lack column(s) {missing}; expected {list(required)}")


def _check_detections(det: pd.DataFrame) -> None:
    _check_table(det, pd.DataFrame, "detections", REQUIRED_DETECTION_COLUMNS)
    for c in ("lon", "lat"):
        if not pd.api.types.is_numeric_dtype(det[c]):
            raise InputError(f"detections column {c!r} must be numeric, got {det[c].dtype}")


def _check_sectors(sectors: gpd.GeoDataFrame | None) -> None:
    if sectors is None:
        return
    if not isinstance(sectors, gpd.GeoDataFrame):
        raise InputError(f"sectors must be a GeoDataFrame, got {type(sectors).__name__}")
    if "name" not in sectors.columns:
        raise InputError(f"sectors lack a 'name' column; columns given: {list(sectors.columns)}")
    if len(sectors) == 0 or sectors.geometry.is_empty.all():
        raise InputError("sectors has no geometry: give at least one line or polygon")


def _check_snapshots(snaps: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    _check_table(snaps, gpd.GeoDataFrame, "snapshots", REQUIRED_SNAPSHOT_COLUMNS)
    if len(snaps) == 0:  # no map in force: H3, region and place only
        return snaps
    if snaps.crs is not None and not snaps.crs.equals("EPSG:4326"):
        snaps = snaps.to_crs(4326)
    if snaps["valid_from"].isna().any():
        bad = snaps.loc[snaps["valid_from"].isna(), "snapshot_id"].tolist()
        raise InputError(f"snapshots {bad} have no valid_from date")
    geoms = snaps.geometry.to_numpy()
    ukr = outlines.outline("UKR")
    shapely.prepare(ukr)
    with _GEOS_LOCK:  # a prepared outline, shared with any other call running now
        off = shapely.is_empty(geoms) | ~shapely.intersects(ukr, shapely.make_valid(geoms))
    if off.any():  # cheap check of every snapshot, used or not; fuller one when prepared
        bad = snaps.loc[off, "snapshot_id"].astype(str).tolist()
        raise InputError(
            f"control snapshot(s) {bad} cover nothing of Ukraine: is the geometry in lon/lat "
            "(EPSG:4326) and does it draw Russian-held ground in Ukraine?"
        )
    if "party" in snaps.columns and (snaps["party"] != "ru").any():
        bad = snaps.loc[snaps["party"] != "ru", ["snapshot_id", "party"]].values.tolist()
        raise InputError(
            f"snapshots {bad}: party must be 'ru' (the geometry is the ground Russia holds "
            "in Ukraine)"
        )
    return snaps


def _days(values: pd.Series, what: str) -> np.ndarray:
    """Calendar days (datetime64[D]) of dates or timestamps; time zones are read in UTC."""
    try:
        t = pd.to_datetime(values)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{what} must hold dates, got {values.dtype}: {exc}") from exc
    if getattr(t.dt, "tz", None) is not None:
        t = t.dt.tz_convert("UTC").dt.tz_localize(None)
    return t.to_numpy().astype("datetime64[D]")


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a million geometries are made.

    Shapely geometries are tracked by the collector, so building a million of them sets
    off over a thousand collections, some of which walk every live object: building the
    points took 0.47 s with the collector on, 0.24 s with it paused (measured). Nothing
    made here is cyclic garbage; the collector is switched back on (if it was) at exit.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# --------------------------------------------------------------------------- public


def enrich(
    detections: pd.DataFrame,
    snapshots: gpd.GeoDataFrame,
    *,
    h3_resolution: int = 7,
    sectors: gpd.GeoDataFrame | None = None,
    max_staleness_days: int = MAX_STALENESS_DAYS,
    progress: Progress = no_progress,
) -> gpd.GeoDataFrame:
    """Every detection with its place relative to the front, as a GeoDataFrame (EPSG:4326).

    Adds: ``snapshot_id``, ``staleness_days``, ``side`` (ua/ru/third/sea),
    ``distance_km`` (signed: + on Ukrainian-held ground, - on Russian-held; unsigned on
    third-country ground and sea), ``band``, ``h3`` (uint64 cell id), ``region``,
    ``sector``, ``place``, ``place_km`` and ``flag`` (see the module docstring). Rows keep
    their order and index.

    ``sectors``: optional GeoDataFrame with a ``name`` column and line or polygon
    geometries; each stretch of the line takes the name of the nearest sector geometry.
    ``progress`` hears ("enrich", done, total) as snapshots are prepared and chunks of
    detections measured.
    """
    with _gc_paused():
        return _enrich(detections, snapshots, h3_resolution, sectors, max_staleness_days,
                       progress)


def _enrich(
    detections: pd.DataFrame,
    snapshots: gpd.GeoDataFrame,
    h3_resolution: int,
    sectors: gpd.GeoDataFrame | None,
    max_staleness_days: int,
    progress: Progress = no_progress,
) -> gpd.GeoDataFrame:
    """The body of :func:`enrich`, which runs it with the cyclic collector paused."""
    _check_detections(detections)
    snaps = _check_snapshots(snapshots)
    _check_sectors(sectors)
    n = len(detections)
    lon = detections["lon"].to_numpy(dtype=np.float64)
    lat = detections["lat"].to_numpy(dtype=np.float64)
    dates = _days(detections["acq_date"], "detections column 'acq_date'")

    # Scheduling, measured on 2 cores: shapely.points, h3ronpy and pyproj hold the GIL
    # (about 0.25, 0.32 and 0.11 s per million points), while the measuring (k-d
    # queries, point-in-polygon, NumPy) mostly releases it. So one thread builds the
    # point geometries and H3 cells in small chunks from the start, taking the GIL in
    # short turns, while the main thread projects and sorts and two workers measure.
    # Chunks never change a point's result.
    gil_pool = ThreadPoolExecutor(max_workers=1)
    pool = ThreadPoolExecutor(max_workers=2)
    prep_pool = ThreadPoolExecutor(max_workers=2)
    try:
        cuts = range(0, n, _GIL_CHUNK)
        coords = np.column_stack([lon, lat])
        geom_fs = [gil_pool.submit(shapely.points, coords[i : i + _GIL_CHUNK]) for i in cuts]
        h3_fs = [gil_pool.submit(grid.h3_cells, lat[i : i + _GIL_CHUNK], lon[i : i + _GIL_CHUNK],
                                 h3_resolution) for i in cuts]  # fmt: skip
        x, y = outlines._TO_M.transform(lon, lat)
        x0, y0, x1, y1 = outlines.THEATRE_BBOX
        inside = (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)

        # snapshot in force: the latest valid_from on or before the date
        starts = _days(snaps["valid_from"], "snapshots column 'valid_from'")
        order = np.argsort(starts, kind="stable")
        snaps, starts = snaps.iloc[order].reset_index(drop=True), starts[order]
        which = np.searchsorted(starts, dates, side="right") - 1
        which[np.isnat(dates)] = -1
        has_snap = which >= 0

        ground = np.full(n, -1, dtype=np.int8)
        dist = np.full(n, np.nan)
        sector_code = np.full(n, -1, dtype=np.int64)
        sector_names: dict[str, int] = {}
        pl = places.places()
        place_code = np.full(n, -1, dtype=np.int64)
        region_code = np.full(n, -1, dtype=np.int64)
        place_km = np.full(n, np.nan)

        # detections in snapshot order and, within a snapshot, nearby ones together
        todo = np.flatnonzero(inside)
        by = todo[_spatial_order(which[todo] + 1, lon[todo], lat[todo])]
        w = which[by]
        bounds = np.concatenate([[0], np.flatnonzero(np.diff(w)) + 1, [len(by)]])
        if len(by) == 0:
            bounds = bounds[:1]
        crimea = snaps["crimea_missing"] if "crimea_missing" in snaps else None
        group_snap = [int(w[b]) for b in bounds[:-1]]  # one per snapshot group

        def _prepare(k: int) -> PreparedSnapshot:
            # No lock: a preparation queries no prepared geometry that another thread
            # queries (its one predicate is on its own new polygon; the shared outlines
            # and bands only enter overlays, which read the plain, immutable geometry)
            return prepare_snapshot(
                str(snaps["snapshot_id"].iat[k]),
                snaps.geometry.iat[k],
                crimea_missing=bool(crimea.iat[k]) if crimea is not None else False,
                sectors=sectors,
            )

        def _measure(
            rows: np.ndarray, prep: PreparedSnapshot | None, to_global: np.ndarray
        ) -> None:
            xr, yr = x[rows], y[rows]
            if prep is None:  # before the first snapshot: places only, from either country
                country = np.full(len(rows), 2, dtype=np.int8)
            else:
                with _GEOS_LOCK:  # GEOS prepared geometries are not thread-safe
                    gr = _ground(prep, xr, yr)
                gr, d, seg = signed_distance_km(prep, xr, yr, workers=1, ground=gr)
                ground[rows], dist[rows] = gr, d
                code = np.where(seg >= 0, prep.seg_sector_code[np.maximum(seg, 0)], -1)
                sector_code[rows] = np.where(code >= 0, to_global[np.maximum(code, 0)], -1)
                # the nearest place in the point's own country: Ukraine, or elsewhere
                country = np.where(gr <= HELD, 0, np.where(gr <= THIRD, 1, 2))
            j, dk = places.nearest_place(xr, yr, country)
            place_code[rows] = pl.name_code[j]
            region_code[rows] = pl.region_code[j]
            place_km[rows] = dk

        # snapshots are prepared on a second pool while earlier groups are measured
        preps = [prep_pool.submit(_prepare, k) if k >= 0 else None for k in group_snap]
        sizes = np.diff(bounds)
        steps = len(group_snap) + int(np.sum(-(-sizes // _CHUNK)))  # maps, then chunks
        progress("enrich", 0, steps)
        jobs = []
        for g in range(len(bounds) - 1):  # one group per snapshot, vectorised inside
            prep = None if group_snap[g] < 0 else preps[g].result()  # type: ignore[union-attr]
            progress("enrich", g + 1, steps)
            to_global = np.zeros(0, dtype=np.int64)
            if prep is not None:
                to_global = np.array(
                    [
                        sector_names.setdefault(str(nm), len(sector_names))
                        for nm in prep.sector_names
                    ],
                    dtype=np.int64,
                )  # one entry per sector name, not per detection
            for c in range(bounds[g], bounds[g + 1], _CHUNK):
                rows = by[c : min(c + _CHUNK, bounds[g + 1])]
                jobs.append(pool.submit(_measure, rows, prep, to_global))
        for i, job in enumerate(jobs, start=len(group_snap) + 1):
            job.result()
            progress("enrich", i, steps)
        points = [f.result() for f in geom_fs]
        geometry = gpd.array.GeometryArray(
            np.concatenate(points) if points else shapely.points(coords), crs="EPSG:4326"
        )
        h3 = np.concatenate([f.result() for f in h3_fs] or [np.zeros(0, dtype=np.uint64)])
    finally:
        gil_pool.shutdown(wait=True, cancel_futures=True)
        pool.shutdown(wait=True, cancel_futures=True)
        prep_pool.shutdown(wait=True, cancel_futures=True)

    band_code = np.where(np.isfinite(dist), np.digitize(np.abs(dist), BAND_EDGES_KM), -1)
    in_force = starts[np.maximum(which, 0)] if len(starts) else dates  # no map: unused
    staleness = np.where(has_snap, (dates - in_force).astype("int64"), 0)

    flag = np.zeros(n, dtype=np.int8)
    flag[has_snap & (staleness > max_staleness_days)] = 1
    flag[~has_snap] = 2
    flag[~inside] = 3

    ids, id_code = np.unique(snaps["snapshot_id"].astype(str).to_numpy(), return_inverse=True)
    side = np.where(ground >= 0, _GROUND_TO_SIDE[np.maximum(ground, 0)], -1)
    cols = {c: detections[c] for c in detections.columns if c != "geometry"}
    cols.update({
        "snapshot_id": pd.Categorical.from_codes(
            np.where(has_snap, id_code[np.maximum(which, 0)] if len(ids) else -1, -1),
            categories=ids,
        ),
        "staleness_days": pd.arrays.IntegerArray(staleness, ~has_snap),
        "side": pd.Categorical.from_codes(side, categories=list(SIDES)),
        "distance_km": dist,
        "band": pd.Categorical.from_codes(band_code, categories=list(BANDS), ordered=True),
        "h3": h3,
        "region": pd.Categorical.from_codes(region_code, categories=pl.region_categories),
        "sector": pd.Categorical.from_codes(sector_code, categories=list(sector_names)),
        "place": pd.Categorical.from_codes(place_code, categories=pl.name_categories),
        "place_km": place_km,
        "flag": pd.Categorical.from_codes(flag, categories=list(FLAGS)),
        "geometry": geometry,
    })  # fmt: skip
    # copy=False: pandas would otherwise copy every float column into one block (~0.2 s
    # per million). The caller's columns go in as Series, so copy-on-write keeps a change
    # to the result from reaching the input (tests/geo/test_enrich.py checks it).
    out = pd.DataFrame(cols, index=detections.index, copy=False)
    return gpd.GeoDataFrame(out, geometry="geometry", copy=False)

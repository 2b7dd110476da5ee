"""Peacetime fire climatology per H3 cell and day of year, one per sensor.

Most fire in Ukraine is farming and wildfire. To call a fire "unlikely to be natural" we
need, for every place and season, how often fire happens there in a normal year. This
module learns that from peacetime years of history:

* ``p``: probability that a cell-day has at least one detection, pooled over a window of
  neighbouring days and the cell's ring-1 neighbours (H3 ``grid_disk``), then shrunk
  toward the regional-seasonal mean with a beta prior whose strength is estimated from
  the data (empirical Bayes, beta-binomial), so a sparse cell is never over-confident;
* ``nb_mean``/``nb_var``: the year-to-year mean and variance of fire cell-days in the
  cell's wider neighbourhood (``grid_disk`` k) over a wider season window: farm burn
  seasons vary a lot from year to year, and this is what the seasonal rule in
  :mod:`truceline.analysis.anomaly` tests the current year against;
* persistent industrial hot spots (fire on a large share of days all year round, across
  many months and years: steel works, flares), flagged per cell, each with its own
  peacetime model (see below);
* the distribution of detections per fire cell-day by region and month, so a cell-day
  with many detections is rarer than one with a single detection.

A hot spot is modelled, not excluded: a city fought over around its steelworks must stay
visible. Within each hot cell, the *site* is the footprint of the works: the fine H3
sub-cells (resolution ``site_resolution``, ~0.7 km²) that burned on at least
``site_share`` of the observed peacetime days. The site's own behaviour is learned as
the distribution of its detections per day (``site_sf``). Everything else, the rest of
the cell and the ring around it, is ordinary ground: the climatology (``p``, the
year-to-year statistics, the wide-area rate) is built from *off-site* fire only, so the
works neither hide fire next to them (their fire no longer leaks into the neighbours'
pooled rates) nor count as natural fire of their neighbourhood. The yearly FIRMS lists
hold no FRP or day/night flag, so the site model uses what they do hold: detections per
day and where they fall (the footprint).

Sensors are never mixed (VIIRS at 375 m sees several times more small fires than MODIS at
1 km): each climatology holds one sensor. Ground that was not at peace (Donetsk and
Luhansk oblasts after March 2014 by default) is left out through :class:`Exclusion`.

Everything here is a pure function of DataFrames; writing to the lake is the lake's job
(the lake stores a climatology's arrays as ``.npz``, ``pipeline.save_baseline``;
:meth:`Climatology.to_frame` gives a long table with metadata in ``attrs`` for reading in
pandas or QGIS).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import h3
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from truceline.errors import InputError
from truceline.geo.regions import DONBAS

__all__ = [
    "DEFAULT_YEARS",
    "DONBAS_2014",
    "EXCLUSIONS",
    "Climatology",
    "BaselineParams",
    "Exclusion",
    "build_climatologies",
    "build_climatology",
    "cells_of",
    "day_of_year",
    "exclusions_named",
    "parse_years",
]

#: Peacetime years per sensor (issue 4): MODIS from 2001, VIIRS S-NPP from 2012; 2014,
#: 2015 and 2017 are absent from the shared history, 2022 on is war.
DEFAULT_YEARS: dict[str, tuple[int, ...]] = {
    "MODIS": (*range(2001, 2014), 2016, 2018, 2019, 2020, 2021),
    "VIIRS": (2012, 2013, 2016, 2018, 2019, 2020, 2021),
}

#: Detections per cell-day above which counts are pooled (count_sf, site_sf).
MAX_COUNT = 50

#: Doy slots: day-of-year on a leap-year calendar (1..366), so 1 March is always 61 and
#: 29 February (60) exists only in leap years.
N_DOY = 366



@dataclass(frozen=True)
class Exclusion:
    """Ground that is not peacetime from ``start`` on (a polygon in lon/lat, WGS84).

    Cells whose centre lies in ``geometry`` do not count as observed trials on or after
    ``start``, so war fire there never enters the "natural" climatology.
    """

    name: str
    geometry: shapely.Geometry
    start: dt.date


#: Donetsk and Luhansk oblasts since March 2014 (approximate polygon: geo.regions.DONBAS).
DONBAS_2014 = Exclusion("Donetsk and Luhansk oblasts", DONBAS,
                        dt.date(2014, 3, 1))
#: The exclusions a climatology can name (its ``exclusions``), by name.
EXCLUSIONS: dict[str, Exclusion] = {DONBAS_2014.name: DONBAS_2014}


def exclusions_named(names: Iterable[str]) -> tuple[Exclusion, ...]:
    """The :class:`Exclusion` of each name a climatology records, in order; a name this
    version does not know is an error (its ground would silently count as peace)."""
    out = []
    for n in names:
        if n not in EXCLUSIONS:
            raise InputError(f"climatology exclusion {n!r}: expected one of "
                             f"{', '.join(map(repr, EXCLUSIONS))}")
        out.append(EXCLUSIONS[n])
    return tuple(out)


@dataclass(frozen=True)
class BaselineParams:
    """Tuning of the climatology; recorded with it so a result can be recomputed.

    day_window: half-width (days) of the circular window pooled around each day of year.
    neighbour_weight: weight of each ring-1 neighbour cell relative to the cell itself.
    region_resolution: H3 resolution of the regions whose seasonal mean is the prior.
    region_day_window: half-width (days) of the regional-seasonal prior window.
    prior_strength: beta prior strength in trials; None estimates it (method of moments).
    nb_k: grid_disk radius of the wider neighbourhood for year-to-year statistics.
    nb_day_window: half-width (days) of the season window for year-to-year statistics.
    hot_fraction: share of observed days with fire above which a cell can be a hot spot.
    hot_months: distinct calendar months with fire a hot spot must show.
    hot_year_share: share of years with fire a hot spot must show.
    wide_resolution, wide_k: the wide area (H3 parent and its grid_disk, ~100 km) whose
        fire rate this year, against peacetime, tells a region-wide burn year from a
        local anomaly.
    wide_cell_cap: most fire cell-days one cell adds to its wide area's count per
        season window, so an intense front does not pass for a region-wide burn year.
    hot_spot_sites: model each hot spot's site apart and build the climatology from
        off-site fire (False: the first version, where the works' fire entered the
        pooled rates of the cell and its neighbours and hot cells were only flagged).
    site_resolution: H3 resolution of the sub-cells that make up a site's footprint.
    site_share: share of a hot cell's observed days on which a sub-cell must burn to be
        part of the site.
    """

    day_window: int = 7
    neighbour_weight: float = 0.5
    region_resolution: int = 3
    region_day_window: int = 15
    prior_strength: float | None = None
    nb_k: int = 2
    nb_day_window: int = 15
    hot_fraction: float = 0.03
    hot_months: int = 10
    hot_year_share: float = 0.6
    wide_resolution: int = 4
    wide_k: int = 2
    wide_cell_cap: float | None = 2.0
    hot_spot_sites: bool = True
    site_resolution: int = 8
    site_share: float = 0.01


@dataclass
class Climatology:
    """A per-sensor peacetime climatology, as arrays indexed [cell, doy-1].

    ``cells`` are H3 ids (str) in a fixed order; ``p`` is the smoothed, shrunk probability
    of fire on a cell-day; ``region_p`` the regional-seasonal prior used for cells the
    history never saw; ``count_sf`` the survival function of detections per fire
    cell-day by region and month ([region, month-1, n-1] = P(N >= n | fire)).

    Hot spot sites: ``site_cells`` are the fine sub-cells of every site, ``site_of`` the
    row (in ``cells``) of the hot cell each belongs to; ``site_sf[cell, n-1]`` is
    P(N >= n) for the site's detections on an observed day (NaN rows for cells without
    a site). A climatology built with ``hot_spot_sites=False`` (or stored before sites
    existed) has none.
    """

    sensor: str
    years: tuple[int, ...]
    resolution: int
    params: BaselineParams
    cells: np.ndarray
    p: np.ndarray
    k: np.ndarray
    n: np.ndarray
    nb_mean: np.ndarray
    nb_var: np.ndarray
    hot_spot: np.ndarray
    fire_share: np.ndarray
    regions: np.ndarray
    region_of_cell: np.ndarray
    region_p: np.ndarray
    count_sf: np.ndarray
    wide_rate: np.ndarray
    prior_strength: float
    exclusions: tuple[str, ...] = ()
    site_cells: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))
    site_of: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))
    site_sf: np.ndarray = field(default_factory=lambda: np.zeros((0, MAX_COUNT)))
    _index: dict[str, int] = field(default_factory=dict, repr=False)
    _wide: tuple[sparse.csr_matrix, np.ndarray] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._index = {c: i for i, c in enumerate(self.cells.tolist())}
        self.site_cells = np.asarray(self.site_cells, dtype=object)
        self.site_of = np.asarray(self.site_of, dtype=np.int64)

    @property
    def has_sites(self) -> bool:
        """Whether hot spots carry their own site model (see the module docstring)."""
        return len(self.site_cells) > 0 and len(self.site_sf) == len(self.cells)

    def on_site(self, lon: np.ndarray, lat: np.ndarray, cells: np.ndarray) -> np.ndarray:
        """Whether each detection (res-``resolution`` cell ``cells``) falls on a hot spot's
        site footprint; only points in hot cells are indexed at the fine resolution."""
        out = np.zeros(len(cells), dtype=bool)
        if not self.has_sites or len(cells) == 0:
            return out
        ci = self.cell_index(cells)
        hot = np.flatnonzero((ci >= 0) & self.hot_spot[np.maximum(ci, 0)])
        if len(hot):
            fine = cells_of(np.asarray(lon)[hot], np.asarray(lat)[hot],
                            self.params.site_resolution)
            out[hot] = pd.Index(fine).isin(self.site_cells)
        return out

    @property
    def metadata(self) -> dict[str, object]:
        """Years, sensor, resolution and parameters: what a reader needs to trust it."""
        return {
            "sensor": self.sensor,
            "years": list(self.years),
            "resolution": self.resolution,
            "params": asdict(self.params),
            "prior_strength": self.prior_strength,
            "exclusions": list(self.exclusions),
            "n_cells": int(len(self.cells)),
            "n_hot_spots": int(self.hot_spot.sum()),
            "n_site_cells": int(len(self.site_cells)),
        }

    def cell_index(self, cells: Sequence[str] | np.ndarray) -> np.ndarray:
        """Row of each cell in the arrays, -1 for cells the history never saw."""
        get = self._index.get
        return np.fromiter((get(c, -1) for c in cells), dtype=np.int64, count=len(cells))

    def wide_operator(self) -> tuple[sparse.csr_matrix, np.ndarray]:
        """(O, parent index): O (wide parents x cells) sums each cell's wide area
        (:func:`wide_operators`); parent index maps each cell to its row. Built once: the
        detection reads it on every pass."""
        if self._wide is None:
            pm, dm, parent = wide_operators(np.asarray(self.cells, dtype=object), self.params)
            self._wide = ((dm @ pm).tocsr(), parent)
        return self._wide

    def region_index(self, cells: Sequence[str] | np.ndarray) -> np.ndarray:
        """Row of each cell's region in ``region_p``/``count_sf``, -1 when unknown."""
        reg = {r: i for i, r in enumerate(self.regions.tolist())}
        res = self.params.region_resolution
        return np.fromiter((reg.get(h3.cell_to_parent(c, res), -1) for c in cells),
                           dtype=np.int64, count=len(cells))

    def to_frame(self) -> pd.DataFrame:
        """Long table (cell, sensor, doy, p, k, n, nb_mean, nb_var, wide_rate, hot_spot,
        fire_share) for Parquet, one row per cell and day of year.

        Metadata (years, params, ...) rides in ``attrs['truceline']`` as JSON, the small
        regional arrays in ``attrs['truceline_arrays']``; :meth:`from_frame` reads both.
        """
        nc = len(self.cells)
        frame = pd.DataFrame({
            "cell": np.repeat(self.cells, N_DOY),
            "sensor": self.sensor,
            "doy": np.tile(np.arange(1, N_DOY + 1, dtype=np.int16), nc),
            "p": self.p.ravel().astype(np.float32),
            "k": self.k.ravel().astype(np.float32),
            "n": self.n.ravel().astype(np.float32),
            "nb_mean": self.nb_mean.ravel().astype(np.float32),
            "nb_var": self.nb_var.ravel().astype(np.float32),
            "wide_rate": self.wide_rate.ravel().astype(np.float32),
            "hot_spot": np.repeat(self.hot_spot, N_DOY),
            "fire_share": np.repeat(self.fire_share, N_DOY).astype(np.float32),
        })
        frame.attrs["truceline"] = json.dumps(self.metadata)
        frame.attrs["truceline_arrays"] = json.dumps({
            "regions": self.regions.tolist(),
            "region_p": np.round(self.region_p, 8).tolist(),
            "count_sf": np.round(self.count_sf, 8).tolist(),
            "site_cells": self.site_cells.tolist(),
            "site_of": [str(self.cells[i]) for i in self.site_of.tolist()],
            "site_sf": {str(self.cells[i]): np.round(self.site_sf[i], 8).tolist()
                        for i in np.flatnonzero(np.isfinite(self.site_sf[:, 0]))}
            if self.has_sites else {},
        })
        return frame

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Climatology:
        """Rebuild a climatology from :meth:`to_frame`'s table (e.g. read from Parquet).

        The metadata and the small regional arrays travel in ``frame.attrs``; a table
        without them is refused, since p alone cannot judge a cell the history never saw.
        """
        for key in ("truceline", "truceline_arrays"):
            if key not in frame.attrs:
                raise InputError(f"climatology table lacks attrs[{key!r}]: write it with "
                                 "Climatology.to_frame() and a Parquet writer that keeps "
                                 "pandas attrs")
        meta = json.loads(frame.attrs["truceline"])
        arrays = json.loads(frame.attrs["truceline_arrays"])
        f = frame.sort_values(["cell", "doy"], kind="stable")
        cells = f["cell"].to_numpy()[::N_DOY].astype(object)
        if len(f) != len(cells) * N_DOY:
            raise InputError(f"climatology table has {len(f)} rows: expected {N_DOY} per cell")

        def grid(col: str) -> np.ndarray:
            return f[col].to_numpy(dtype=np.float64).reshape(len(cells), N_DOY)

        params = BaselineParams(**meta["params"])
        index = {c: i for i, c in enumerate(cells.tolist())}
        site_sf = np.full((len(cells), MAX_COUNT), np.nan)
        for c, row in arrays.get("site_sf", {}).items():
            site_sf[index[c]] = row
        sites = {"site_cells": np.asarray(arrays.get("site_cells", []), dtype=object),
                 "site_of": np.array([index[c] for c in arrays.get("site_of", [])],
                                     dtype=np.int64),
                 "site_sf": site_sf if arrays.get("site_sf") else np.zeros((0, MAX_COUNT))}
        regions = np.asarray(arrays["regions"], dtype=object)
        reg_index = {r: i for i, r in enumerate(regions.tolist())}
        region_of_cell = np.array([reg_index[h3.cell_to_parent(c, params.region_resolution)]
                                   for c in cells.tolist()], dtype=np.int64)
        return cls(
            sensor=meta["sensor"], years=tuple(meta["years"]), resolution=meta["resolution"],
            params=params, cells=cells, p=grid("p"), k=grid("k"), n=grid("n"),
            nb_mean=grid("nb_mean"), nb_var=grid("nb_var"),
            hot_spot=f["hot_spot"].to_numpy(dtype=bool)[::N_DOY],
            fire_share=f["fire_share"].to_numpy(dtype=np.float64)[::N_DOY],
            regions=regions, region_of_cell=region_of_cell,
            region_p=np.asarray(arrays["region_p"], dtype=np.float64),
            count_sf=np.asarray(arrays["count_sf"], dtype=np.float64),
            wide_rate=grid("wide_rate"), prior_strength=float(meta["prior_strength"]),
            exclusions=tuple(meta["exclusions"]), **sites)


def parse_years(spec: str | Iterable[int]) -> tuple[int, ...]:
    """'2001-2013,2016,2018-2021' -> (2001, ..., 2013, 2016, 2018, ..., 2021).

    >>> parse_years("2012-2013,2016")
    (2012, 2013, 2016)
    """
    if not isinstance(spec, str):
        return tuple(sorted({int(y) for y in spec}))
    years: set[int] = set()
    for part in spec.replace(" ", "").split(","):
        if not part:
            continue
        try:
            if "-" in part:
                a, b = (int(x) for x in part.split("-", 1))
                if b < a:
                    raise InputError(f"years: {part!r} in {spec!r} runs backwards; "
                                     f"expected the earlier year first ('{b}-{a}')")
                years.update(range(a, b + 1))
            else:
                years.add(int(part))
        except ValueError:
            raise InputError(f"years: cannot read {part!r} in {spec!r}; "
                             "expected e.g. '2001-2013,2016'") from None
    return tuple(sorted(years))


def format_years(years: Iterable[int]) -> str:
    """The inverse of :func:`parse_years`: runs of consecutive years as ranges.

    >>> format_years([2012, 2013, 2016, 2018, 2019, 2020])
    '2012-2013, 2016, 2018-2020'
    """
    ys = sorted(set(int(y) for y in years))
    runs: list[list[int]] = []
    for y in ys:
        if runs and y == runs[-1][-1] + 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else f"{r[0]}" for r in runs)


def day_of_year(dates: pd.Series | np.ndarray) -> np.ndarray:
    """Day slot 1..366 on a leap-year calendar (1 March is always 61).

    >>> day_of_year(pd.Series(pd.to_datetime(["2021-03-01", "2020-03-01"]))).tolist()
    [61, 61]
    """
    d = pd.DatetimeIndex(pd.Series(dates).to_numpy())
    doy = d.day_of_year.to_numpy().astype(np.int64)
    late = (~d.is_leap_year) & (d.month > 2)
    return doy + late.astype(np.int64)


def cells_of(lon: np.ndarray, lat: np.ndarray, resolution: int = 6) -> np.ndarray:
    """H3 cell (str) of each point; unique points are indexed once.

    >>> cells_of(np.array([30.5]), np.array([50.45]), 6).tolist()
    ['861e6384fffffff']
    """
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    if lon.shape != lat.shape:
        raise InputError(f"lon and lat differ in length: {lon.shape} vs {lat.shape}")
    if len(lon) == 0:
        return np.array([], dtype=object)
    from truceline.geo.grid import h3_cells, h3_to_str

    codes, uniq = pd.factorize(h3_cells(lat, lon, resolution))  # format each cell once
    return h3_to_str(np.asarray(uniq)).astype(object)[codes]


def _validate(detections: pd.DataFrame, name: str = "detections") -> None:
    missing = {"lon", "lat", "acq_date", "sensor"} - set(detections.columns)
    if missing:
        raise InputError(f"{name} lacks column(s) {sorted(missing)}; "
                         "expected the canonical detection frame (lon, lat, acq_date, sensor)")


def _with_cells(detections: pd.DataFrame, resolution: int) -> np.ndarray:
    """H3 cells (str) at ``resolution``, reusing an 'h3' column (str or uint64 ids) at
    exactly that resolution so points are indexed once.

    A finer column (enrichment's resolution 7) is not used: H3 cells do not nest
    exactly, so a fine cell's parent is not always the cell that contains the point,
    and the climatology is learned on the containing cell. Near a hot spot that
    difference put a works' pixels in the neighbouring cell, as fire never seen there.
    """
    if "h3" in detections.columns and len(detections):
        col = detections["h3"]
        if col.notna().all():
            codes, uniq = pd.factorize(col)
            first = uniq[0]
            as_str = (list(uniq) if isinstance(first, str)
                      else [h3.int_to_str(int(v)) for v in uniq])
            if h3.get_resolution(as_str[0]) == resolution:
                return np.asarray(as_str, dtype=object)[codes]
    return cells_of(detections["lon"].to_numpy(), detections["lat"].to_numpy(), resolution)


def _circular_window_sum(a: np.ndarray, half: int) -> np.ndarray:
    """Sum over a circular window of +-half days along the last axis (366 slots)."""
    if half <= 0:
        return a.astype(np.float64)
    ext = np.concatenate([a[..., -half:], a, a[..., :half]], axis=-1).astype(np.float64)
    cs = np.cumsum(ext, axis=-1)
    cs = np.concatenate([np.zeros(cs.shape[:-1] + (1,)), cs], axis=-1)
    w = 2 * half + 1
    return cs[..., w:] - cs[..., :-w]


def _adjacency(cells: np.ndarray, k: int) -> sparse.csr_matrix:
    """Sparse 0/1 matrix linking each cell to its grid_disk(k) cells in the domain."""
    index = {c: i for i, c in enumerate(cells.tolist())}
    rows: list[int] = []
    cols: list[int] = []
    for i, c in enumerate(cells.tolist()):
        for nb in h3.grid_disk(c, k):
            j = index.get(nb)
            if j is not None:
                rows.append(i)
                cols.append(j)
    n = len(cells)
    return sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))


def _valid_trials(cells: np.ndarray, years: Sequence[int],
                  exclusions: Sequence[Exclusion]) -> tuple[np.ndarray, list[tuple]]:
    """valid[y, c, d]: 1 where cell c on doy d of year y is observed peacetime ground;
    and a key per year that is equal for years with the same pattern (so work that
    depends only on the pattern is done once per pattern, not once per year)."""
    ny, nc = len(years), len(cells)
    valid = np.ones((ny, nc, N_DOY), dtype=np.uint8)
    keys: list[list] = []
    for yi, y in enumerate(years):
        leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
        keys.append([leap])
        if not leap:
            valid[yi, :, 59] = 0  # no 29 February
    if not exclusions or nc == 0:
        return valid, [tuple(k) for k in keys]
    latlng = np.array([h3.cell_to_latlng(c) for c in cells.tolist()])
    for ex in exclusions:
        inside = shapely.contains_xy(ex.geometry, latlng[:, 1], latlng[:, 0])
        for yi, y in enumerate(years):
            start = pd.Timestamp(ex.start)
            if y < start.year or not inside.any():
                keys[yi].append(None)
                continue
            first = 1 if y > start.year else int(day_of_year(pd.Series([start]))[0])
            valid[yi, inside, first - 1:] = 0
            keys[yi].append(first)
    return valid, [tuple(k) for k in keys]


def build_climatology(detections: pd.DataFrame, sensor: str, *,
                      years: str | Iterable[int] | None = None,
                      resolution: int = 6,
                      exclusions: Sequence[Exclusion] = (DONBAS_2014,),
                      params: BaselineParams | None = None,
                      domain: Iterable[str] | None = None) -> Climatology:
    """Learn one sensor's peacetime climatology from a detection history.

    ``detections`` may hold any sensors and years: only rows of ``sensor`` in ``years``
    are used (default :data:`DEFAULT_YEARS`). The cells modelled are those with any
    detection in the whole frame (any sensor, any year) plus ``domain``: ground the
    satellites never saw burn carries no information a regional prior does not.
    """
    _validate(detections)
    params = params or BaselineParams()
    if sensor not in DEFAULT_YEARS and years is None:
        raise InputError(f"sensor {sensor!r} has no default years; pass years=")
    yrs = parse_years(years) if years is not None else DEFAULT_YEARS[sensor]
    if not yrs:
        raise InputError("years: empty; the climatology needs at least one peacetime year")

    all_cells = _with_cells(detections, resolution)
    dom = set(pd.unique(all_cells).tolist())
    if domain is not None:
        dom.update(domain)
    cells = np.array(sorted(dom), dtype=object)
    nc = len(cells)
    cidx = pd.Index(cells)

    dates = pd.DatetimeIndex(pd.to_datetime(detections["acq_date"]).to_numpy())
    year = dates.year.to_numpy()
    keep = (detections["sensor"].to_numpy() == sensor) & np.isin(year, yrs)
    det_cell = cidx.get_indexer(all_cells[keep])
    det_year = np.searchsorted(np.asarray(yrs), year[keep]).astype(np.int64)
    det_doy = day_of_year(dates[keep])
    det_month = dates[keep].month.to_numpy()

    valid, vkeys = _valid_trials(cells, yrs, exclusions)
    ny = len(yrs)
    # Detections per (year, cell, doy); drop rows on ground excluded at that time.
    flat = (det_year * nc + det_cell) * N_DOY + (det_doy - 1)
    ok = valid.ravel()[flat] > 0
    flat, det_month, det_cell = flat[ok], det_month[ok], det_cell[ok]
    uniq, counts = np.unique(flat, return_counts=True)
    fire = np.zeros(ny * nc * N_DOY, dtype=np.uint8)
    fire[uniq] = 1
    fire = fire.reshape(ny, nc, N_DOY)

    k = fire.sum(axis=0, dtype=np.float64)
    n = valid.sum(axis=0, dtype=np.float64)

    # Persistent industrial hot spots: fire on many days, in most months and years.
    fire_share = k.sum(axis=1) / np.maximum(n.sum(axis=1), 1.0)
    months = np.zeros((nc, 12), dtype=bool)
    months[det_cell, det_month - 1] = True
    years_with = (fire.sum(axis=2) > 0).sum(axis=0)
    years_obs = (valid.sum(axis=2) > 0).sum(axis=0)
    hot = ((fire_share >= params.hot_fraction) & (months.sum(axis=1) >= params.hot_months)
           & (years_with >= params.hot_year_share * np.maximum(years_obs, 1)))

    # Each hot spot's site (its footprint of fine sub-cells) and the site's detections
    # per day; the rest of the climatology is then learned from off-site fire only.
    sites: dict[str, np.ndarray] = {}
    if params.hot_spot_sites and hot.any():
        lon = detections["lon"].to_numpy(dtype=np.float64)[keep][ok]
        lat = detections["lat"].to_numpy(dtype=np.float64)[keep][ok]
        on, sites = _sites(flat, det_cell, lon, lat, hot, n.sum(axis=1), nc, params)
        flat, det_cell = flat[~on], det_cell[~on]
        uniq, counts = np.unique(flat, return_counts=True)
        fire = np.zeros(ny * nc * N_DOY, dtype=np.uint8)
        fire[uniq] = 1
        fire = fire.reshape(ny, nc, N_DOY)
        k = fire.sum(axis=0, dtype=np.float64)

    # Spatial then temporal pooling.
    adj1 = _adjacency(cells, 1)
    w = sparse.identity(nc, format="csr") + params.neighbour_weight * (
        adj1 - sparse.identity(nc, format="csr"))
    k_s = _circular_window_sum(np.asarray(w @ k), params.day_window)
    n_s = _circular_window_sum(np.asarray(w @ n), params.day_window)

    # Regional-seasonal prior mean.
    rres = params.region_resolution
    parent = np.array([h3.cell_to_parent(c, rres) for c in cells.tolist()], dtype=object)
    reg_codes, regions = pd.factorize(parent, sort=True)
    nr = len(regions)
    rmat = sparse.csr_matrix((np.ones(nc), (reg_codes, np.arange(nc))), shape=(nr, nc))
    rk = _circular_window_sum(np.asarray(rmat @ k), params.region_day_window)
    rn = _circular_window_sum(np.asarray(rmat @ n), params.region_day_window)
    overall = float(k.sum() / max(n.sum(), 1.0))
    region_p = np.where(rn > 0, (rk + overall) / (rn + 1.0), overall)
    m = region_p[reg_codes]

    s = params.prior_strength
    if s is None:
        s = _estimate_prior_strength(k_s, n_s, m)
    p = (k_s + s * m) / (n_s + s)

    # Year-to-year variation of fire cell-days in the wider neighbourhood and season,
    # streamed over years (sums, not stacks) to keep memory flat.
    adjk = _adjacency(cells, params.nb_k)
    h = params.nb_day_window
    by_key: dict[tuple, np.ndarray] = {}
    for i in range(ny):
        if vkeys[i] not in by_key:
            by_key[vkeys[i]] = _circular_window_sum(np.asarray(adjk @ valid[i]), h)
    vxs = [by_key[vkeys[i]] for i in range(ny)]
    full = np.maximum(np.max(list(by_key.values()), axis=0), 1e-9)
    cnt = np.zeros((nc, N_DOY))
    s1 = np.zeros((nc, N_DOY))
    s2 = np.zeros((nc, N_DOY))
    for i in range(ny):
        vx = vxs[i]
        obs = vx >= 0.5 * full  # a year counts where most trials were observed
        x = _circular_window_sum(np.asarray(adjk @ fire[i]), h)
        xs = np.where(obs, x * full / np.maximum(vx, 1e-9), 0.0)  # rescale partial years
        cnt += obs
        s1 += xs
        s2 += xs * xs
    del vxs
    nb_mean = s1 / np.maximum(cnt, 1)
    nb_var = np.where(cnt > 1, (s2 - cnt * nb_mean**2) / np.maximum(cnt - 1, 1), nb_mean)
    nb_var = np.maximum(nb_var, 0.0)

    # Peacetime fire rate of the wide area around each cell (cell-days with fire per
    # observed cell-day, +-nb_day_window days), mean over years; indexed like p.
    wide_rate = _wide_rate_history(cells, fire, valid, vkeys, params)

    # Detections per fire cell-day by region and month: P(N >= n | fire), n = 1..50.
    count_sf = _count_survival(uniq, counts, nc, reg_codes, nr)

    return Climatology(
        sensor=sensor, years=tuple(yrs), resolution=resolution, params=params,
        cells=cells, p=p, k=k, n=n, nb_mean=nb_mean, nb_var=nb_var, hot_spot=hot,
        fire_share=fire_share, regions=np.asarray(regions, dtype=object),
        region_of_cell=reg_codes, region_p=region_p, count_sf=count_sf,
        wide_rate=wide_rate, prior_strength=float(s),
        exclusions=tuple(e.name for e in exclusions), **sites)


def _sites(flat: np.ndarray, det_cell: np.ndarray, lon: np.ndarray, lat: np.ndarray,
           hot: np.ndarray, days_obs: np.ndarray, nc: int, params: BaselineParams
           ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(on-site mask of the history's detections, the site arrays of a Climatology).

    ``flat`` indexes (year, cell, doy) as in build_climatology; ``days_obs`` is each
    cell's number of observed days. A sub-cell is on the site when it burned on at least
    ``site_share`` of its hot cell's observed days.
    """
    in_hot = np.flatnonzero(hot[det_cell])
    fine = cells_of(lon[in_hot], lat[in_hot], params.site_resolution)
    fine_codes, fine_u = pd.factorize(fine)
    day = flat[in_hot] // (nc * N_DOY) * N_DOY + flat[in_hot] % N_DOY  # (year, doy)
    pairs = pd.DataFrame({"cell": det_cell[in_hot], "fine": fine_codes, "day": day})
    days_lit = pairs.drop_duplicates().groupby(["cell", "fine"]).size()
    share = days_lit.to_numpy() / np.maximum(
        days_obs[days_lit.index.get_level_values("cell")], 1.0)
    site = days_lit.index[share >= params.site_share]
    on = np.zeros(len(flat), dtype=bool)
    on[in_hot] = pd.MultiIndex.from_arrays([pairs["cell"], pairs["fine"]]).isin(site)
    site_cell = site.get_level_values("cell").to_numpy()
    # The site's detections per observed day: P(N >= n), with one pseudo-day above the
    # largest count seen, so a count the history never reached is rare, not impossible.
    uniq, counts = np.unique(flat[on], return_counts=True)
    cell = (uniq // N_DOY) % nc
    hist = np.zeros((nc, MAX_COUNT + 1))
    np.add.at(hist, (cell, np.minimum(counts, MAX_COUNT)), 1.0)
    above = np.cumsum(hist[:, ::-1], axis=1)[:, ::-1][:, 1:]  # days with N >= n
    sf = (above + 1.0) / (days_obs[:, None] + 1.0)
    sf[~np.isin(np.arange(nc), site_cell)] = np.nan
    return on, {"site_cells": np.asarray(fine_u, dtype=object)[
                    site.get_level_values("fine").to_numpy()],
                "site_of": site_cell.astype(np.int64), "site_sf": sf}



def wide_operators(cells: np.ndarray, params: BaselineParams
                   ) -> tuple[sparse.csr_matrix, sparse.csr_matrix, np.ndarray]:
    """(P, D, parent index): P sums cells into wide parents, D spreads parents over
    their grid_disk(wide_k); parent index maps each cell to its parent row."""
    wres = params.wide_resolution
    parent = np.array([h3.cell_to_parent(c, wres) for c in cells.tolist()], dtype=object)
    codes, parents = pd.factorize(parent, sort=True)
    npar = len(parents)
    pm = sparse.csr_matrix((np.ones(len(cells)), (codes, np.arange(len(cells)))),
                           shape=(npar, len(cells)))
    dm = _adjacency(np.asarray(parents, dtype=object), params.wide_k)
    return pm, dm, codes


def _wide_rate_history(cells: np.ndarray, fire: np.ndarray, valid: np.ndarray,
                       vkeys: list[tuple], params: BaselineParams) -> np.ndarray:
    pm, dm, codes = wide_operators(cells, params)
    op = dm @ pm
    h = params.nb_day_window
    cap = params.wide_cell_cap
    rates = []
    trials: dict[tuple, np.ndarray] = {}
    for i in range(fire.shape[0]):
        w = _circular_window_sum(fire[i], h)
        if cap is not None:
            w = np.minimum(w, cap)  # no single cell may dominate its wide area
        f = np.asarray(op @ w)
        if vkeys[i] not in trials:
            trials[vkeys[i]] = np.asarray(op @ _circular_window_sum(valid[i], h))
        v = trials[vkeys[i]]
        rates.append(np.where(v > 0, f / np.maximum(v, 1e-9), np.nan))
    stacked = np.stack(rates)
    seen = np.isfinite(stacked).sum(axis=0)
    # a wide area with no observed year (all NaN) has rate 0: no evidence of burning
    r = np.where(seen > 0, np.nansum(stacked, axis=0) / np.maximum(seen, 1), 0.0)
    return r[codes]


def _count_survival(flat: np.ndarray, counts: np.ndarray, nc: int, reg_codes: np.ndarray,
                    nr: int) -> np.ndarray:
    """P(N >= n | fire) per region and month, shrunk toward the all-region curve."""
    cell = (flat // N_DOY) % nc
    doy = flat % N_DOY + 1
    month = pd.DatetimeIndex(pd.Timestamp("2020-01-01") + pd.to_timedelta(doy - 1, "D")).month
    r = reg_codes[cell]
    c = np.minimum(counts, MAX_COUNT)
    hist = np.zeros((nr, 12, MAX_COUNT + 1))
    np.add.at(hist, (r, month.to_numpy() - 1, c), 1.0)
    tot_hist = hist.sum(axis=0, keepdims=True)
    # Pool with 20 pseudo-observations of the all-region shape for the month, that with
    # the all-month shape, and that with a geometric default, so no curve is empty.
    geo = np.r_[0.0, 0.5 ** np.arange(1, MAX_COUNT + 1)][None, None, :]
    allm = tot_hist.sum(axis=1, keepdims=True) + geo
    allm = allm / allm.sum(axis=2, keepdims=True)
    month_curve = tot_hist + 5.0 * allm
    prior = month_curve / month_curve.sum(axis=2, keepdims=True)
    hist = hist + 20.0 * prior
    sf = np.cumsum(hist[..., ::-1], axis=2)[..., ::-1]
    sf = sf / np.maximum(sf[..., 1:2], 1e-12)
    return sf[..., 1:]


def _estimate_prior_strength(k_s: np.ndarray, n_s: np.ndarray, m: np.ndarray) -> float:
    """Beta prior strength by the method of moments on pooled cell rates.

    Between-cell variance of rates (beyond binomial noise) around the regional mean gives
    the prior variance tau^2; strength = m(1-m)/tau^2 - 1. The median over a sample of
    cell-days keeps one noisy region from deciding it.
    """
    sel = (n_s > 0) & (m > 0)
    if not sel.any():
        return 10.0
    rate = k_s[sel] / n_s[sel]
    mm = m[sel]
    nn = n_s[sel]
    resid = (rate - mm) ** 2 - mm * (1 - mm) / nn
    tau2 = max(float(np.mean(resid)), 1e-12)
    s = float(np.mean(mm * (1 - mm))) / tau2 - 1.0
    return float(np.clip(s, 1.0, 1000.0))


def build_climatologies(detections: pd.DataFrame, *,
                        sensors: Sequence[str] = ("MODIS", "VIIRS"),
                        years: Mapping[str, str | Iterable[int]] | None = None,
                        **kwargs: object) -> dict[str, Climatology]:
    """One climatology per sensor over the same cells (see :func:`build_climatology`)."""
    years = years or {}
    res = int(kwargs.get("resolution", 6))  # type: ignore[call-overload]
    detections = detections.assign(h3=_with_cells(detections, res))  # index cells once
    return {s: build_climatology(detections, s, years=years.get(s), **kwargs)  # type: ignore[arg-type]
            for s in sensors}

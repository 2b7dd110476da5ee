"""How often would a verdict be wrong? Many what-if agreements on real war and peace,
judged by the same functions as ``truceline assess``.

``truceline validate verdicts`` prints the confusion table this module computes. Each
*ground* is a period of real FIRMS detections (the shared data's yearly lists and NRT
files, parsed by the ingest's own parser), classified and clustered as ``truceline
detect`` does (:func:`truceline.analysis.detect.detect`), enriched against a control
map (:func:`truceline.geo.enrich.enrich`):

- ``war``: 2022-2023 on the liveuamap lines (VIIRS S-NPP, dates only), August 2025 on
  the DeepState lines (VIIRS NOAA-20 with times); full peacetime climatology;
- ``peace``: 2018-2021 on the 2023 ISW line forced valid from 2012, judged with the
  climatology that leaves 2018-2021 out (the placebo's design), on ground with no
  fighting then (Donetsk and Luhansk oblasts left out) and on the whole line;
- ``donbas``: 2018 to July 2020 on the 2015-2022 Donbas contact line (low-level war).

For every window (seeded: start and length 1-30 days drawn at random) the verdict comes
from :func:`truceline.analysis.assess.assess` with coverage from the sky
(:func:`truceline.analysis.coverage.assess_coverage`), the peacetime rate of the same
ground and calendar window, and the false-incident rate measured on that ground
(:func:`truceline.analysis.peacetime.measured_false_incident_rate`). Each window is also
judged the old way (coverage from the detections, the constant 0.1 false incidents a
day), side by side.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from truceline import config
from truceline.analysis import false_alarms
from truceline.analysis.baseline import DEFAULT_YEARS, Climatology, build_climatologies
from truceline.analysis.coverage import Coverage, assess_coverage, oblast_of
from truceline.analysis.peacetime import WarGround
from truceline.analysis.proof import verdict_without_moved
from truceline.analysis.rules import NEAR_LINE_KM
from truceline.errors import InputError
from truceline.pipeline import war_exclusions
from truceline.sources.agreements import Agreement, parse_agreement
from truceline.validation.detection import (
    MOVING_SHIFT_YEARS,
    enrich_on_shifted_days,
    shifted_days,
)
from truceline.validation.yardsticks import OwnLine

__all__ = [
    "HISTORY_YEARS",
    "PLACEBO_YEARS",
    "Ground",
    "agreement_text",
    "build_ground",
    "confusion",
    "data_root",
    "format_tables",
    "judge",
    "leave_out",
    "load_history",
    "load_nrt_2025",
    "run_verdicts",
    "snapshots_from_data",
    "stress",
]

HISTORY_YEARS = range(2000, 2024)
PLACEBO_YEARS: tuple[int, ...] = (2018, 2019, 2020, 2021)
#: Columns kept from the parser's frame: what classification, enrichment, coverage and
#: assessment read.
COLUMNS = ["detection_id", "lon", "lat", "acq_date", "t_utc", "time_known", "sensor",
           "satellite", "frp", "confidence"]
ISW_2023 = Path("frontline/rus_control_2023/rus_control_2023.shp")
DONBAS = Path("frontline/donbas_2015_2022/ngca_donbas_isw_before_2022-02-24.geojson")
DONBAS_OBLASTS = ("UA14", "UA09")
SEASONS = {12: "winter", 1: "winter", 2: "winter", 3: "spring", 4: "spring", 5: "spring",
           6: "summer", 7: "summer", 8: "summer", 9: "autumn", 10: "autumn",
           11: "autumn"}
LENGTH_CLASSES = ((1, 3, "1-3 days"), (4, 7, "4-7 days"), (8, 14, "8-14 days"),
                  (15, 30, "15-30 days"))
VERDICTS = ("violated", "reduced", "held", "inconclusive")


# --------------------------------------------------------------------------- data


def data_root(path: str | os.PathLike[str] | None = None) -> Path | None:
    """The shared data folder when it holds the FIRMS yearly lists, else None."""
    root = config.data_dir(path)
    if root is None or not (root / "firms" / "ukraine_yearly").is_dir():
        return None
    return root


def load_history(root: Path, years: Iterable[int] = HISTORY_YEARS) -> pd.DataFrame:
    """The FIRMS yearly lists through the ingest's own parser (MODIS/VIIRS split by
    coordinate precision, repeated rows dropped); years without a file are skipped."""
    from truceline.sources.firms import parse_firms

    frames = []
    for y in years:
        path = root / "firms" / "ukraine_yearly" / f"ukr_fire_data_{y}.csv"
        if path.exists():
            frames.append(parse_firms(path).detections[COLUMNS])
    if not frames:
        raise InputError(f"{root}/firms/ukraine_yearly: no yearly list for {list(years)}")
    return pd.concat(frames, ignore_index=True)


def load_nrt_2025(root: Path) -> pd.DataFrame:
    """The NOAA-20 NRT days of August 2025 (with times)."""
    from truceline.sources.firms import parse_firms

    files = sorted((root / "firms" / "viirs_noaa20_nrt_2025").glob("*.csv"))
    if not files:
        raise InputError(f"{root}/firms/viirs_noaa20_nrt_2025: no NRT file")
    return pd.concat([parse_firms(f).detections[COLUMNS] for f in files], ignore_index=True)


def leave_out(years: Sequence[int] = PLACEBO_YEARS) -> dict[str, tuple[int, ...]]:
    """Each sensor's default peacetime years without ``years``: judged years must not
    judge themselves."""
    return {s: tuple(y for y in DEFAULT_YEARS[s] if y not in years) for s in DEFAULT_YEARS}


def agreement_text(start: pd.Timestamp, days: int, name: str = "what-if",
                   band_km: tuple[float, float] = (0, 30)) -> str:
    """A whole-line agreement (scope ``band_km``, control 60-150 km, comparison the same
    length just before), UTC."""
    return (f'name = "{name}"\ntime_zone = "UTC"\nstart = "{start:%Y-%m-%d} 00:00"\n'
            f"duration_days = {days}\n"
            '[[parties]]\nid = "ru"\nname = "R"\n[[parties]]\nid = "ua"\nname = "U"\n'
            f"[scope]\nband_km = [{band_km[0]:g}, {band_km[1]:g}]\n")


def snapshots_from_data(root: Path, source: str, d0: str, d1: str, step: int = 1) -> Any:
    """Control snapshots of ``source`` in force between ``d0`` and ``d1`` (every
    ``step``-th file); ISW and Donbas are single maps forced valid from 2012."""
    import geopandas as gpd

    from truceline.sources.frontlines import parse_control

    if source == "isw":
        return parse_control(root / ISW_2023, source="isw", valid_from="2012-01-01").snapshot
    if source == "donbas":
        return parse_control(root / DONBAS, source="other", valid_from="2015-02-20").snapshot
    folder, pattern = {"deepstate": ("deepstate", "*.geojson"),
                       "liveuamap": ("liveuamap_nzz", "*.json")}[source]
    lo, hi = pd.Timestamp(d0) - pd.Timedelta(days=10), pd.Timestamp(d1)
    files = [f for f in sorted((root / "frontline" / folder).glob(pattern))
             if lo <= pd.Timestamp(f.stem.split("_")[-1].replace("-", "")) <= hi]
    files = files[::step] + ([files[-1]] if files and (len(files) - 1) % step else [])
    snaps = [parse_control(f, source=source).snapshot for f in files]
    return gpd.GeoDataFrame(pd.concat(snaps, ignore_index=True), crs="EPSG:4326")


# --------------------------------------------------------------------------- grounds


@dataclass
class Ground:
    """One period of real detections on one line, scored, clustered and enriched once,
    and what every window on it needs: the whole theatre (coverage), the scope's
    oblasts (cloud), peacetime detections enriched against the same line (peacetime
    and false-incident rates)."""

    name: str
    kind: str  # war | peace | donbas
    root: Path
    detections: pd.DataFrame  # enriched, p_natural, war, incident_id (one sensor)
    incidents: pd.DataFrame
    theatre: pd.DataFrame  # every sensor's detections of the period (passes, gaps)
    oblasts: list[str]
    peace: pd.DataFrame | None  # peacetime detections scored with a leave-out climatology
    peace_years: tuple[int, ...]
    span: tuple[pd.Timestamp, pd.Timestamp]  # first and last day windows may use
    band_km: tuple[float, float] = (0, 30)
    own_year_out: bool = False  # peace: a window's own year is left out of its yardsticks
    area_ratio: float = float("nan")  # scope band over control band (false_alarms.area_ratio)
    near_ratio: float = float("nan")  # the scope's contact zone over the control band
    own_line: OwnLine | None = None  # a moving line: yardsticks per window, on its own line
    # ground at war in the peacetime years, left out of the yardsticks as assess does
    # (None: all ground, the method before; analysis.peacetime.WarGround)
    war_ground: WarGround | None = None
    # a moving line: the areas and the share off that ground measured on each window's
    # own line, as assess measures them (review of session 13, point 17 (b), and of
    # session 15); else once, on the ground's
    ratios_per_window: bool = False
    donbas_in_windows: bool = True  # False: the ground's detections leave it out already
    # the share of the scope off that ground, measured whichever way the yardsticks are
    # read (the re-judge without the Donbas fire weighs the rest against that ground alone)
    donbas_share: WarGround | None = None
    # this ground is another's without the Donbas fire (off_donbas_ground): its scope is
    # the part off that ground, its yardsticks measured there and not scaled
    off_war_ground: bool = False
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False)
    # what does not depend on the ground's detections or its war ground (coverage, the
    # windows' areas, the yardsticks' detections): one dict, the same object for this
    # ground and the ground without the Donbas fire, so neither computes it twice
    _shared: dict[Any, Any] = field(default_factory=dict, repr=False)

    def coverage(self, a: Agreement, method: str = "sky") -> Coverage:
        key = ("cov", method, a.start_utc, a.end_utc)
        if key not in self._shared:
            self._shared[key] = assess_coverage(self.theatre, a.start_utc, a.end_utc,
                                                weather_dir=self.root, oblasts=self.oblasts,
                                                method=method)
        return self._shared[key]

    def off_donbas(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The ground's detections and incidents outside Donetsk and Luhansk oblasts: a
        peace ground's violations judged again without the low-level war of 2014-2022
        (its windows' yardsticks leave that ground out, its windows do not)."""
        if "off_donbas" not in self._cache:
            d = self.detections
            ob = oblast_of(d["lon"].to_numpy(), d["lat"].to_numpy(), self.root)
            d = d[~np.isin(np.asarray(ob).astype(str), DONBAS_OBLASTS)].reset_index(drop=True)
            kept = set(d["incident_id"].dropna())
            self._cache["off_donbas"] = (d, self.incidents[
                self.incidents["incident_id"].isin(kept)].reset_index(drop=True))
        return self._cache["off_donbas"]

    def off_donbas_ground(self) -> Ground:
        """This ground as a scope without Donetsk and Luhansk: its windows' detections
        there left out (:meth:`off_donbas`), its yardsticks measured off that ground and
        not scaled (share 1), its areas the scope's part off it (on a moving line each
        window's, measured on its own line: :meth:`ratios_for`); coverage, the
        yardsticks' detections and the windows' areas shared with this ground
        (``_shared``). None of this makes a verdict easier than the window's remaining
        ground allows (review of session 13, point 17 (a))."""
        if "off_ground" not in self._cache:
            w = self.donbas_share
            assert w is not None, "off_donbas_ground: the ground measured no Donbas share"
            d, i = self.off_donbas()
            self._cache["off_ground"] = replace(
                self, detections=d, incidents=i, donbas_in_windows=False,
                war_ground=WarGround(w.exclusions, 1.0, 1.0), off_war_ground=True,
                area_ratio=self.area_ratio * w.scope_share,
                near_ratio=self.near_ratio * w.near_share,
                _cache={})  # _shared: the same dict
        return self._cache["off_ground"]

    def war_ground_for(self, a: Agreement) -> WarGround | None:
        """The ground at war the window's yardsticks leave out, with the share of the
        scope off it: on a moving line measured on the window's own line (the map in force
        on its first day, as its yardsticks are read and as `assess` measures it), else the
        ground's (without the Donbas fire: that ground, share 1)."""
        if not self.ratios_per_window or self.war_ground is None \
                or self.own_line is None or self.off_war_ground:
            return self.war_ground
        return self._window_ratios(a)["war_ground"]  # type: ignore[no-any-return]

    def ratios_for(self, a: Agreement) -> tuple[float, float]:
        """(the scope's, its contact zone's) area over the control band's: on a moving line
        measured on the window's own line as `assess` measures them (review of session
        15), else the ground's; without the Donbas fire, their parts off that ground."""
        if not self.ratios_per_window or self.own_line is None:
            return self.area_ratio, self.near_ratio
        r = self._window_ratios(a)
        if not self.off_war_ground:
            return r["scope"], r["near"]
        w = r["war_ground"]
        return r["scope"] * w.scope_share, r["near"] * w.near_share

    def _window_ratios(self, a: Agreement) -> dict[str, Any]:
        """`false_alarms.area_ratios` on the window's own line, once per window."""
        assert self.own_line is not None
        key = ("ratios", a.start_utc, a.end_utc, a.scope.band_km)
        if key not in self._shared:
            war = self.war_ground or self.donbas_share
            self._shared[key] = false_alarms.area_ratios(
                self.own_line.snapshot_for(a), a,
                exclusions=war.exclusions if war is not None else ())
        return self._shared[key]  # type: ignore[no-any-return]

    def years_for(self, a: Agreement) -> list[int]:
        y = pd.Timestamp(a.start_utc).year
        return [x for x in self.peace_years if not (self.own_year_out and x == y)]

    def yardstick_detections(self, a: Agreement) -> pd.DataFrame | None:
        """The peacetime detections the window's yardsticks are measured on: the ground's
        own (a static line), or on a moving line those read on the window's own line as
        `assess` reads them (the last window's are kept: its methods and stress tests
        ask in turn)."""
        if self.own_line is None:
            return self.peace
        key = ("own", a.start_utc, a.end_utc)
        if self._shared.get("own_key") != key:
            self._shared["own"] = self.own_line.scored(a, self.years_for(a))
            self._shared["own_key"] = key
        return self._shared["own"]

    def peacetime(self, a: Agreement, max_km: float | None = None,
                  all_ground: bool = False) -> float | None:
        """The window's peacetime rate, off the ground at war as assess reads it, or
        (``all_ground``: the old method's) on all of it, the Donbas war included."""
        from truceline.analysis.peacetime import peacetime_rate

        war = None if all_ground else self.war_ground_for(a)
        key = ("peace", a.start_utc, a.end_utc, a.scope.band_km, max_km, war is None)
        if key not in self._cache:
            det = self.yardstick_detections(a)  # None: no yardstick, so never `held`
            self._cache[key] = None if det is None else peacetime_rate(
                det, a, self.years_for(a), max_km=max_km, war_ground=war)
        return self._cache[key]

    def yardstick_incidents(self, a: Agreement) -> tuple[int, int]:
        """(war-called incidents of the window's peacetime yardstick with a detection in
        scope, those of them with one in Donetsk or Luhansk oblast): how much of the
        "peacetime" rate comes from ground at war since 2014, which the climatology
        leaves out but the yardsticks do not (docs/VALIDATION.md, Assessment point 16)."""
        key = ("yard", a.start_utc, a.end_utc, a.scope.band_km)
        if key not in self._cache:
            det = self.yardstick_detections(a)
            n = (0, 0)
            if det is not None and len(det):
                lo, hi = a.scope.band_km
                dist = det["distance_km"].abs()
                sc = det[((dist >= lo) & (dist <= hi) & det["war"]).to_numpy()]
                ob = oblast_of(sc["lon"].to_numpy(), sc["lat"].to_numpy(), self.root)
                donbas = np.isin(np.asarray(ob).astype(str), DONBAS_OBLASTS)
                n = (int(sc["incident_id"].nunique()),
                     int(sc.loc[donbas, "incident_id"].nunique()))
            self._cache[key] = n
        return self._cache[key]

    def false_rate(self, a: Agreement, zone: bool = False) -> dict[str, Any]:
        """The false-alarm rate rule V1 weighs: incidents in scope, or (``zone``) its
        contact zone's yardstick, as the product counts them."""
        from truceline.analysis.peacetime import (
            measured_false_incident_rate,
            measured_zone_false_rate,
        )

        key = ("false", a.start_utc, a.end_utc, a.scope.band_km, zone)
        if key not in self._cache:
            measure = measured_zone_false_rate if zone else measured_false_incident_rate
            self._cache[key] = measure(self.yardstick_detections(a), a, self.years_for(a),
                                       war_ground=self.war_ground_for(a))
        return self._cache[key]


def _scored(det: pd.DataFrame, clim: Mapping[str, Climatology], snaps: Any,
            every_map: Any = None, shift_years: Mapping[int, int] | None = None,
            rule: str = "seasonal") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Enrich against ``snaps``, then score, classify and cluster per year (the persistence
    rule looks back within the year, as for the placebo). Whether the ground changed hands
    (rule ``moved_ground``) is read from ``every_map`` (default ``snaps``): every map of
    the source, as the product reads them, when ``snaps`` takes one in a few.
    ``shift_years``: each day is moved by that many years (by its year) for the
    enrichment only, so peacetime fire meets the maps of a later, moving line. ``rule``:
    the war-fire rule (the default's, or one it replaced, to judge the same windows)."""
    from truceline.analysis.detect import detect

    e = pd.DataFrame(enrich_on_shifted_days(det, snaps, shift_years, every_map)
                     .drop(columns="geometry"))
    out, incs = [], []
    for y, part in e.groupby(e["acq_date"].dt.year):
        r = detect(part, clim, rule=rule)
        d = r.detections
        d["incident_id"] = d["incident_id"].astype(object).where(d["incident_id"].notna(),
                                                                 None)
        d.loc[d["incident_id"].notna(), "incident_id"] = \
            f"{y}-" + d.loc[d["incident_id"].notna(), "incident_id"].astype(str)
        inc = r.incidents.copy()
        if len(inc):
            inc["incident_id"] = f"{y}-" + inc["incident_id"].astype(str)
        out.append(d)
        incs.append(inc)
    return pd.concat(out, ignore_index=True), pd.concat(incs, ignore_index=True)


def _scope_oblasts(det: pd.DataFrame, root: Path, band_km: tuple[float, float]) -> list[str]:
    d = det[(det["distance_km"].abs() >= band_km[0]) & (det["distance_km"].abs() < band_km[1])]
    if d.empty:
        return []
    o = oblast_of(d["lon"].to_numpy(), d["lat"].to_numpy(), root)
    return sorted({str(x) for x in o if x is not None})


def build_ground(name: str, root: Path, *, history: pd.DataFrame,
                 climatologies: Mapping[str, Climatology],
                 leave_out_climatologies: Mapping[str, Climatology],
                 log: Callable[[str], None] | None = None,
                 rule: str = "seasonal", keep_war_ground: bool = False) -> Ground:
    """One of the named grounds (:data:`GROUNDS`), built from the loaded history, its
    detections and yardsticks called war by ``rule``; its yardsticks leave out the ground
    the climatology leaves out of peace, as `assess` does (``keep_war_ground``: measure
    them on all ground, the method before)."""
    if name not in GROUNDS:
        raise InputError(f"ground {name!r}: expected one of {', '.join(GROUNDS)}")
    spec = GROUNDS[name]
    say = log or (lambda _m: None)
    t = time.perf_counter()
    if spec["period"] == "2025-08":
        period = load_nrt_2025(root)
    else:
        y0, y1 = spec["period"]
        period = history[history["acq_date"].dt.year.between(y0, y1)
                         & (history["sensor"] == "VIIRS")]
    theatre = period
    shift = spec.get("shift_years")
    days = shifted_days(period["acq_date"], shift) if shift else period["acq_date"]
    d0, d1 = str(days.min().date()), str(days.max().date())
    snaps = snapshots_from_data(root, spec["source"], d0, d1, spec.get("step", 1))
    peacetime_ground = spec["kind"] in ("peace", "moving")
    clim = leave_out_climatologies if peacetime_ground else climatologies
    det = period
    if spec.get("no_donbas"):
        o = oblast_of(det["lon"].to_numpy(), det["lat"].to_numpy(), root)
        det = det[~np.isin(o.astype(str), DONBAS_OBLASTS)]
    every_map = snapshots_from_data(root, spec["source"], d0, d1) \
        if spec.get("step", 1) > 1 else None
    scored, incidents = _scored(det, clim, snaps, every_map, shift, rule=rule)
    say(f"{name}: {len(scored):,} detections, {len(incidents):,} incidents "
        f"({time.perf_counter() - t:.0f} s)")
    # peacetime yardsticks on the same line, 2018-2021 scored with the leave-out
    # climatology: a static line's once; a moving line's per window, on the line in force
    # on its first day (OwnLine), as assess reads them
    peace, own_line = None, None
    peace_years = tuple(spec.get("peace_years", PLACEBO_YEARS))
    band = tuple(spec.get("band_km", (0, 30)))
    if spec["kind"] == "peace":
        peace = scored
    elif peace_years:
        own_line = OwnLine(history[history["acq_date"].dt.year.isin(peace_years)
                                   & (history["sensor"] == "VIIRS")],
                           snaps if every_map is None else every_map,
                           leave_out_climatologies, shift, max_km=band[1], rule=rule)
    # rows no rule reads are dropped once: the yardsticks read the scope only, the
    # assessment the scope and the control band (60-150 km)
    if peace is not None:
        peace = peace[peace["distance_km"].abs() < band[1]].reset_index(drop=True)
    scored = scored[scored["distance_km"].abs() < 150.0].reset_index(drop=True)
    first = pd.Timestamp(spec["from"])
    last = pd.Timestamp(spec["to"])
    oblasts = _scope_oblasts(scored, root, band)  # type: ignore[arg-type]
    # a ground whose detections leave Donetsk and Luhansk out (no_donbas) has nothing to
    # leave out: its windows and yardsticks lie off that ground alike
    exclusions = () if spec.get("no_donbas") else war_exclusions(
        leave_out_climatologies, ["VIIRS"])
    ratios = false_alarms.area_ratios(snaps.iloc[[len(snaps) // 2]], parse_agreement(
        agreement_text(first, 1, band_km=band)),  # type: ignore[arg-type]
        exclusions=exclusions)
    return Ground(name=name, kind=spec["kind"], root=root, detections=scored,
                  incidents=incidents, theatre=theatre,
                  oblasts=oblasts,
                  peace=peace, own_line=own_line, peace_years=peace_years,
                  span=(first, last),
                  band_km=band,  # type: ignore[arg-type]
                  own_year_out=peacetime_ground, area_ratio=ratios["scope"],
                  near_ratio=ratios["near"],
                  war_ground=None if keep_war_ground else ratios.get("war_ground"),
                  ratios_per_window=own_line is not None,
                  donbas_in_windows=not spec.get("no_donbas"),
                  donbas_share=ratios.get("war_ground"))


#: The grounds the study judges windows on.
GROUNDS: dict[str, dict[str, Any]] = {
    "war-2022-2023": {"kind": "war", "period": (2022, 2023), "source": "liveuamap",
                      "step": 4, "from": "2022-03-01", "to": "2023-12-31"},
    "war-2025-08": {"kind": "war", "period": "2025-08", "source": "deepstate",
                    "from": "2025-08-11", "to": "2025-08-31"},
    "peace-no-fighting": {"kind": "peace", "period": (2018, 2021), "source": "isw",
                          "no_donbas": True, "from": "2018-01-20", "to": "2021-12-31"},
    "peace-whole-line": {"kind": "peace", "period": (2018, 2021), "source": "isw",
                         "from": "2018-01-20", "to": "2021-12-31"},
    "donbas-2018-2020": {"kind": "donbas", "period": (2018, 2020), "source": "donbas",
                         "band_km": (0, 15), "peace_years": (),
                         "from": "2018-01-20", "to": "2020-07-20"},
    # peacetime fire on the real moving line of the war: each day shifted onto the maps
    # of 2022-2023 for side, distance and moved ground (the detection's moving-line
    # placebo, docs/VALIDATION.md); yardsticks as assess builds them, on the window's
    # own line (its first day shifted) forced over peacetime, its own year left out
    "peace-moving-line": {"kind": "moving", "period": (2018, 2021), "source": "liveuamap",
                          "step": 4, "shift_years": MOVING_SHIFT_YEARS,
                          "from": "2018-03-01", "to": "2021-12-31"},
}


# --------------------------------------------------------------------------- windows


def draw_windows(ground: Ground, n: int, rng: np.random.Generator,
                 lengths: tuple[int, int] = (1, 30)) -> list[Agreement]:
    """``n`` what-if agreements whose window and comparison lie inside the ground's span."""
    first, last = ground.span
    out = []
    for _ in range(n):
        days = int(rng.integers(lengths[0], lengths[1] + 1))
        lo = first + pd.Timedelta(days=days)  # the comparison fits before the window
        hi = last - pd.Timedelta(days=days - 1)
        if hi < lo:
            days = max(1, (last - first).days // 2)
            lo, hi = first + pd.Timedelta(days=days), last - pd.Timedelta(days=days - 1)
        start = lo + pd.Timedelta(days=int(rng.integers(0, (hi - lo).days + 1)))
        out.append(parse_agreement(agreement_text(start, days, band_km=ground.band_km)))
    return out


def judge(ground: Ground, a: Agreement, *, detections: pd.DataFrame | None = None,
          incidents: pd.DataFrame | None = None, method: str = "new",
          coverage: Coverage | None = None) -> dict[str, Any]:
    """One window's verdict, the new way (sky coverage, false-incident rate measured in
    peacetime with a leave-out climatology), the old way (``method="old"``: coverage from
    the detections, the constant rate) or as ``truceline assess`` judges it
    (``method="product"``: sky coverage, the largest of the constant, the same days'
    control-band rate and the peacetime rate of ``new``,
    :func:`truceline.analysis.false_alarms.window_false_rate`)."""
    from truceline.analysis.assess import assess

    det = ground.detections if detections is None else detections
    inc = ground.incidents if detections is None else incidents
    cov = coverage or ground.coverage(a, "detections" if method == "old" else "sky")
    scope_ratio, near_ratio = ground.ratios_for(a)
    if method == "new":
        fr = ground.false_rate(a)
    elif method == "product":
        measured = ground.false_rate(a)
        near = ground.false_rate(a, zone=True)
        fr = false_alarms.window_false_rate(
            det, a, scope_ratio,
            peacetime=measured if measured["source"] == "measured" else None,
            near_ratio=near_ratio,
            near_peacetime=near if near["source"] == "measured" else None)
    else:
        fr = {"rate_per_day": None, "source": "constant"}
    # the old method is the method before the war ground left the yardsticks: its `held`
    # reads the peacetime rate on all ground (review of session 13, point 17 (g))
    peace_rate = ground.peacetime(a, all_ground=method == "old")
    res = assess(a, det, inc, coverage=cov, peacetime_rate_per_day=peace_rate,
                 false_incident_rate_per_day=fr["rate_per_day"],
                 false_incident_detail=fr if method == "product" else None,
                 peacetime_zone_rate_per_day=None if method == "old"
                 else ground.peacetime(a, max_km=NEAR_LINE_KM))
    days = (pd.Timestamp(a.end_utc) - pd.Timestamp(a.start_utc)).days
    start = pd.Timestamp(a.start_utc)
    yard = ground.yardstick_incidents(a) if method != "old" else (0, 0)
    # the same days far away: control-band incidents scaled to the scope's area, as
    # assess weighs them (false_alarms.window_false_rate)
    n_far, far = 0, 0.0
    if method == "new":
        band = false_alarms.window_false_rate(det, a, scope_ratio)
        n_far, far = band["control_incidents"], band["control_per_day"] or 0.0
    alt = res
    if method == "new" and res.verdict == "violated" and res.rule == "V1" \
            and far > res.false_alarms["rate_per_day"]:
        alt = assess(a, det, inc, coverage=cov, peacetime_rate_per_day=ground.peacetime(a),
                     false_incident_rate_per_day=far,
                     peacetime_zone_rate_per_day=ground.peacetime(a, max_km=NEAR_LINE_KM))
    # a peace ground whose windows hold the Donbas war of 2018-2021 while its yardsticks
    # leave it out: does a violation stand without the fire there?
    without_donbas = None
    if method == "product" and detections is None and ground.donbas_in_windows \
            and ground.donbas_share is not None and ground.kind in ("peace", "moving"):
        without_donbas = res.verdict
        if res.verdict == "violated":
            without_donbas = judge(ground.off_donbas_ground(), a, method="product",
                                   coverage=cov)["verdict"]
    return {"ground": ground.name, "kind": ground.kind, "method": method,
            "verdict_without_donbas": without_donbas,
            "verdict_far": alt.verdict, "rule_far": alt.rule,
            "verdict_far_without_moved": _without_moved(alt), "n_control_incidents": n_far,
            "far_rate": far,
            "start": str(start.date()), "days": days, "season": SEASONS[start.month],
            "length": next(lab for lo, hi, lab in LENGTH_CLASSES if lo <= days <= hi),
            "coverage": cov.coverage_class, "adequate": cov.adequate,
            "verdict": res.verdict, "rule": res.rule,
            # the verdict without the incidents only the moving-front test called war
            "verdict_without_moved": _without_moved(res),
            "n_proving": res.false_alarms["n_incidents_p_below_alpha"],
            "false_rate": res.false_alarms["rate_per_day"], "false_source": fr["source"],
            "yardstick_incidents": yard[0], "yardstick_incidents_donbas": yard[1],
            # the peacetime rate `held` read, and the share of the scope it was
            # measured on (None: all of it, as the old method reads it)
            "peacetime_rate": peace_rate, "area_ratio": scope_ratio,
            "yardstick_share_off": None if method == "old"
            else _share_used(ground.war_ground_for(a))}


def _share_used(war: WarGround | None) -> float | None:
    """The share of the scope the yardsticks were measured on (None: all of it)."""
    return None if war is None or not war.measurable() else war.share()


def _without_moved(res: Any) -> str:
    """The verdict without the incidents only the moving-front test called war (the
    verdict itself when none decided it)."""
    return verdict_without_moved({"false_alarms": res.false_alarms}) or res.verdict


def run_verdicts(grounds: Mapping[str, Ground], windows: Mapping[str, int], *, seed: int = 2026,
                 lengths: tuple[int, int] = (1, 30), old: bool = True,
                 log: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Every window of every ground judged the new way (and the old way): one row each."""
    say = log or (lambda _m: None)
    rows = []
    for name, ground in grounds.items():
        rng = np.random.default_rng([seed, list(GROUNDS).index(name)])
        t = time.perf_counter()
        for a in draw_windows(ground, windows.get(name, 0), rng, lengths):
            row = judge(ground, a)
            rows.append(row)
            rows.append({**row, "method": "new+far", "verdict": row["verdict_far"],
                         "rule": row["rule_far"],
                         "verdict_without_moved": row["verdict_far_without_moved"],
                         "false_rate": max(row["false_rate"], row["far_rate"])})
            rows.append(judge(ground, a, method="product"))
            if old:
                rows.append(judge(ground, a, method="old"))
        say(f"{name}: {windows.get(name, 0)} windows ({time.perf_counter() - t:.0f} s)")
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- stress


def stress(ground: Ground, n: int, *, seed: int = 2026, levels: Sequence[float] = (0.7, 0.9, 1.0),
           near_km: float = 30.0, cloudy_share: float = 1 / 3,
           lengths: tuple[int, int] = (3, 30)) -> pd.DataFrame:
    """Real war windows as if the ceasefire held (``levels``: share of the window's
    detections within ``near_km`` of the line removed, the rest of the country kept) and
    as if fighting went on only under cloud (the window's detections near the line kept
    on its cloudiest ``cloudy_share`` of days only), judged as ``truceline assess`` does
    (``method="product"``). Scores are those of the real data (not recomputed after
    removal), so what is left keeps its evidence."""
    rng = np.random.default_rng([seed, 99])
    det = ground.detections
    near = (det["distance_km"].abs() < near_km).to_numpy()
    draw = rng.random(len(det))
    day = det["acq_date"].dt.normalize()
    rows = []
    for a in draw_windows(ground, n, rng, lengths):
        w0 = pd.Timestamp(a.start_utc).tz_localize(None)
        w1 = pd.Timestamp(a.end_utc).tz_localize(None)
        in_w = ((day >= w0) & (day < w1)).to_numpy()
        cov = ground.coverage(a)
        base = {"start": str(w0.date()), "days": (w1 - w0).days, "coverage": cov.coverage_class,
                "adequate": cov.adequate}
        for lvl in levels:
            keep = ~(in_w & near & (draw < lvl))
            r = judge(ground, a, detections=det[keep], incidents=None, coverage=cov,
                      method="product")
            rows.append({**base, "test": f"remove {lvl:.0%}", "verdict": r["verdict"],
                         "rule": r["rule"]})
        cloud = cov.days.set_index("date")["cloud"]
        k = max(1, int(round(cloudy_share * len(cloud))))
        cloudy = set(cloud.sort_values(ascending=False, na_position="first").index[:k])
        keep = ~(in_w & near & ~day.isin(list(cloudy)).to_numpy())
        r = judge(ground, a, detections=det[keep], incidents=None, coverage=cov,
                      method="product")
        rows.append({**base, "test": "cloudy days only", "verdict": r["verdict"],
                     "rule": r["rule"]})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- tables


def confusion(rows: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Share of each verdict (and the window count) per kind and method, optionally split
    by ``season``, ``length`` or ``coverage``."""
    keys = ["kind", "method"] + ([by] if by else [])
    if rows.empty:
        return pd.DataFrame(columns=[*keys, "n", *VERDICTS])
    g = rows.groupby(keys)["verdict"]
    share = g.value_counts(normalize=True).unstack(fill_value=0.0)
    share = share.reindex(columns=list(VERDICTS), fill_value=0.0)
    share.insert(0, "n", g.size())
    return share.reset_index()


def targets(rows: pd.DataFrame, stress_rows: pd.DataFrame | None = None, *,
            method: str = "new") -> dict[str, Any]:
    """The issue's targets, measured for one method (default: the new one)."""
    new = rows[rows["method"] == method]
    war = new[new["kind"] == "war"]
    peace = new[new["kind"] == "peace"]
    nofight = peace[peace["ground"] == "peace-no-fighting"]

    def share(frame: pd.DataFrame, verdicts: Sequence[str], column: str = "verdict"
              ) -> float | None:
        if frame.empty or column not in frame or frame[column].isna().all():
            return None  # not measured for this method or ground
        return float(frame[column].isin(verdicts).mean())

    out: dict[str, Any] = {
        "war_windows": len(war), "war_held": share(war, ["held"]),
        "war_violated_adequate": share(war[war["adequate"]], ["violated"]),
        # the same, standing without the incidents only the moving-front test called war
        "war_violated_adequate_without_moved": share(war[war["adequate"]], ["violated"],
                                                     "verdict_without_moved"),
        "peace_windows_no_fighting": len(nofight),
        "peace_violated": share(nofight, ["violated"]),
        "peace_held_adequate": share(nofight[nofight["adequate"]], ["held"]),
        "peace_inconclusive": share(nofight, ["inconclusive"]),
        "peace_adequate": None if nofight.empty else float(nofight["adequate"].mean()),
        # the war windows' yardsticks: the share of their incidents on ground at war
        # since 2014 (Donetsk and Luhansk oblasts)
        "war_yardstick_incidents_donbas": _pooled_share(war[war["adequate"]]),
    }
    moving = new[new["kind"] == "moving"]
    if len(moving):
        out["moving_windows"] = len(moving)
        out["moving_violated"] = share(moving, ["violated"])
        out["moving_violated_adequate"] = share(moving[moving["adequate"]], ["violated"])
        out["moving_violated_without_moved"] = share(moving, ["violated"],
                                                     "verdict_without_moved")
        out["moving_violated_without_donbas"] = share(moving, ["violated"],
                                                      "verdict_without_donbas")
    whole = peace[peace["ground"] == "peace-whole-line"]
    if len(whole):
        out["whole_line_windows"] = len(whole)
        out["whole_line_violated"] = share(whole, ["violated"])
        # the same, standing without the fire in Donetsk and Luhansk (at war then)
        out["whole_line_violated_without_donbas"] = share(whole, ["violated"],
                                                          "verdict_without_donbas")
    if stress_rows is not None and len(stress_rows):
        s = stress_rows
        full = s[(s["test"] == "remove 100%") & s["adequate"]]
        out["stress_remove100_held_or_reduced_adequate"] = share(full, ["held", "reduced"])
        out["stress_cloudy_held"] = share(s[s["test"] == "cloudy days only"], ["held"])
    return out


def _pooled_share(frame: pd.DataFrame) -> float | None:
    """Yardstick incidents in Donetsk or Luhansk oblast over all, pooled over windows."""
    if frame.empty or "yardstick_incidents" not in frame:
        return None
    total = int(frame["yardstick_incidents"].sum())
    return float(frame["yardstick_incidents_donbas"].sum() / total) if total else None


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def format_tables(rows: pd.DataFrame, stress_rows: pd.DataFrame | None = None) -> str:
    """The confusion tables as Markdown (overall, by season, length and coverage)."""
    parts = []
    for by in (None, "season", "length", "coverage"):
        t = confusion(rows, by)
        head = ["kind", "method", *([by] if by else []), "n", *VERDICTS]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in t.itertuples(index=False):
            d = r._asdict()
            lines.append("| " + " | ".join(
                [str(d["kind"]), str(d["method"])] + ([str(d[by])] if by else [])
                + [str(d["n"])] + [_pct(d[v]) for v in VERDICTS]) + " |")
        parts.append(f"### {'overall' if by is None else 'by ' + by}\n\n" + "\n".join(lines))
    g = (rows.groupby(["ground", "method", "verdict"]).size()
         .unstack(fill_value=0).reindex(columns=list(VERDICTS), fill_value=0))
    lines = ["| ground | method | n | " + " | ".join(VERDICTS) + " |",
             "|---|---|---|" + "---|" * 4]
    for (name, method), r in g.iterrows():
        lines.append(f"| {name} | {method} | {int(r.sum())} | "
                     + " | ".join(str(int(r[v])) for v in VERDICTS) + " |")
    parts.append("### by ground (counts)\n\n" + "\n".join(lines))
    product = rows[rows["method"] == "product"]
    if "yardstick_incidents" in product and len(product):
        y = product.groupby("ground")[["yardstick_incidents",
                                       "yardstick_incidents_donbas"]].sum()
        lines = ["| ground | yardstick incidents | in Donetsk or Luhansk oblast |",
                 "|---|---|---|"]
        for name, r in y.iterrows():
            n, d = int(r["yardstick_incidents"]), int(r["yardstick_incidents_donbas"])
            lines.append(f"| {name} | {n} | {d} ({_pct(d / n) if n else '-'}) |")
        parts.append("### the windows' peacetime yardsticks: incidents on ground at war "
                     "since 2014\n\n" + "\n".join(lines))
    if stress_rows is not None and len(stress_rows):
        s = stress_rows.groupby(["test", "adequate"])["verdict"].value_counts(normalize=True) \
            .unstack(fill_value=0.0).reindex(columns=list(VERDICTS), fill_value=0.0)
        n = stress_rows.groupby(["test", "adequate"]).size()
        lines = ["| stress test | coverage adequate | n | " + " | ".join(VERDICTS) + " |",
                 "|---|---|---|" + "---|" * 4]
        for (test, adequate), r in s.iterrows():
            lines.append(f"| {test} | {'yes' if adequate else 'no'} | {n[(test, adequate)]} | "
                         + " | ".join(_pct(r[v]) for v in VERDICTS) + " |")
        parts.append("### stress tests (war windows, judged as assess does)\n\n" + "\n".join(lines))
    return "\n\n".join(parts)


def prepare(root: Path, names: Sequence[str], log: Callable[[str], None] | None = None,
            rule: str = "seasonal", keep_war_ground: bool = False) -> dict[str, Ground]:
    """Load the history, build both climatologies and the named grounds, with the
    war-fire ``rule`` (checked before any work) and ``keep_war_ground``
    (:func:`build_ground`)."""
    from truceline.analysis.anomaly import rule_params

    rule_params(rule)
    say = log or (lambda _m: None)
    t = time.perf_counter()
    history = load_history(root)
    say(f"history {len(history):,} detections ({time.perf_counter() - t:.0f} s)")
    full = build_climatologies(history)
    lo = build_climatologies(history, years=leave_out())
    say(f"climatologies ({time.perf_counter() - t:.0f} s)")
    return {n: build_ground(n, root, history=history, climatologies=full,
                            leave_out_climatologies=lo, log=say, rule=rule,
                            keep_war_ground=keep_war_ground) for n in names}


# --------------------------------------------------------------------------- Donbas 2020


def _cropland(root: Path, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Crop share (Impact Observatory 2022, class 3) of the 0.1° cell of each point."""
    from truceline.sources.context import LAND_USE, grid_values

    return grid_values(root, LAND_USE, ["LAND_USE_CLASS_3"], lon,
                       lat)["LAND_USE_CLASS_3"].to_numpy()


def donbas_2020(root: Path, agreement_path: Path, history: pd.DataFrame,
                leave_out_climatologies: Mapping[str, Climatology],
                peace_years: Sequence[int] = (2012, 2013),
                log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """The Donbas ceasefire of 27 July 2020 judged four ways, and its incidents described.

    - old: coverage from the detections, the constant false-incident rate;
    - new: coverage from the sky, the false-incident rate of the same ground and season
      measured in the last peacetime years of that ground (``peace_years``, 2012-2013:
      the climatology has no later year there), each year scored with a climatology that
      leaves it out; new+far: the larger of that and the same days' control-band rate;
    - product: as ``truceline assess`` judges it (sky coverage, the largest of the
      constant, the same days' control-band rate and the peacetime rate of ``new``);
    - every incident in scope inside the window with its distance to the line, side,
      crop share of its 0.1° cell and size, and the control band's incidents per day in
      the window and the comparison (field burning far from the line).
    2020 is scored with the climatology that leaves 2018-2021 out (VIIRS S-NPP).
    """
    from truceline.analysis.assess import assess
    from truceline.analysis.peacetime import (
        measured_false_incident_rate,
        measured_zone_false_rate,
    )
    from truceline.sources.agreements import load_agreement

    say = log or (lambda _m: None)
    a = load_agreement(agreement_path)
    snaps = snapshots_from_data(root, "donbas", "2015-02-20", "2022-02-23")
    year = history[history["acq_date"].dt.year == 2020]
    det, inc = _scored(year[year["sensor"] == "VIIRS"], leave_out_climatologies, snaps)
    oblasts = _scope_oblasts(det, root, a.scope.band_km)
    say(f"donbas 2020: {len(det):,} detections, {len(inc):,} incidents")
    peace_parts = []
    for y in peace_years:  # each peacetime year scored without itself
        yrs = {"VIIRS": tuple(x for x in DEFAULT_YEARS["VIIRS"] if x != y)}
        clim = build_climatologies(history[history["sensor"] == "VIIRS"], sensors=("VIIRS",),
                                   years=yrs)
        py = history[(history["acq_date"].dt.year == y) & (history["sensor"] == "VIIRS")]
        scored, _ = _scored(py, clim, snaps)
        peace_parts.append(scored)
        say(f"donbas: peacetime {y} scored ({len(scored):,} detections)")
    peace = pd.concat(peace_parts, ignore_index=True)
    fr = measured_false_incident_rate(peace, a, list(peace_years))
    fr_near = measured_zone_false_rate(peace, a, list(peace_years))
    from truceline.analysis.peacetime import peacetime_rate

    rate = peacetime_rate(peace, a, list(peace_years))
    zone_rate = peacetime_rate(peace, a, list(peace_years), max_km=NEAR_LINE_KM)
    ratios = false_alarms.area_ratios(snaps, a)
    ratio = ratios["scope"]
    product = false_alarms.window_false_rate(det, a, ratio, peacetime=fr,
                                             near_ratio=ratios["near"], near_peacetime=fr_near)
    n_far = product["control_incidents"]
    far = product["control_per_day"]
    out: dict[str, Any] = {"agreement": a.name, "oblasts": oblasts, "false_rate": fr,
                           "peacetime_rate": rate, "area_ratio": ratio,
                           "control_band_incidents_p01": n_far, "far_rate": far,
                           "product_false_rate": product}
    rates = {"old": None, "new": fr["rate_per_day"],
             "new+far": max(fr["rate_per_day"], far), "product": product["rate_per_day"]}
    for method, false_rate in rates.items():
        cov = assess_coverage(year, a.start_utc, a.end_utc, weather_dir=root,
                              oblasts=oblasts,
                              method="detections" if method == "old" else "sky")
        res = assess(a, det, inc, coverage=cov, peacetime_rate_per_day=rate,
                     false_incident_rate_per_day=false_rate,
                     false_incident_detail=product if method == "product" else None,
                     peacetime_zone_rate_per_day=None if method == "old" else zone_rate)
        d = res.to_dict()
        front = next(r for r in d["rates"] if r["area"] == "front" and r["by"] == "all")
        ctrl = next(r for r in d["rates"] if r["area"] == "control" and r["by"] == "all")
        out[method] = {"verdict": res.verdict, "rule": res.rule, "reasons": res.reasons,
                       "false_alarms": d["false_alarms"], "coverage": cov.coverage_class,
                       "coverage_adequate": cov.adequate, "front": (front["x_window"],
                                                                    front["x_comparison"]),
                       "control": (ctrl["x_window"], ctrl["x_comparison"]),
                       "contrast": {k: d["contrast"][0][k] for k in ("estimate", "lo", "hi")},
                       "incidents": d["incidents"]}
    rows = [r for r in out["new"]["incidents"] if r["timing"] == "inside"]
    if rows:
        t = pd.DataFrame(rows)
        t["crop_share"] = _cropland(root, t["lon"].to_numpy(), t["lat"].to_numpy())
        t["on_line"] = t["dist_km"].abs() <= 3.0  # the line is uncertain by ~3 km
        t["kind"] = np.where(t["on_line"], "on the line (within 3 km)",
                             np.where(t["crop_share"] >= 0.5, "cropland away from the line",
                                      "other ground away from the line"))
        out["incident_table"] = t[["incident_id", "t_start", "dist_km", "side", "sector",
                                   "p_evidence", "n_detections", "crop_share", "kind"]] \
            .to_dict("records")
        out["incident_kinds"] = t.groupby("kind").size().to_dict()
        out["incident_kinds_proving"] = t[t["p_evidence"] < 0.01].groupby("kind").size() \
            .to_dict()
    # control band incidents per day, window and comparison (field burning far away)
    ctrl_mask = a.control_mask(det["distance_km"]) & det["side"].isin(["ua", "ru"]).to_numpy()
    day = det["acq_date"].dt.normalize()
    w0 = pd.Timestamp(a.start_utc).tz_convert("UTC").tz_localize(None).normalize()
    w1 = pd.Timestamp(a.end_utc).tz_convert("UTC").tz_localize(None).normalize()
    c0 = pd.Timestamp(a.comparison.start_utc).tz_convert("UTC").tz_localize(None).normalize()
    for label, lo, hi in (("window", w0, w1), ("comparison", c0, w0)):
        m = ctrl_mask & ((day >= lo) & (day < hi)).to_numpy() & det["incident_id"].notna() \
            .to_numpy()
        out[f"control_incidents_{label}"] = int(det.loc[m, "incident_id"].nunique())
    return out

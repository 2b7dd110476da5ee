"""The stages wired together over a lake: enrich, baseline, detect, assess.

Each function reads what it needs from the lake, calls the pure stage functions
(`geo`, `analysis`) and hands results back; storing them is the caller's choice, so the
same code serves the CLI, the demo, the REST service and the tests.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from truceline.analysis.coverage import to_utc
from truceline.analysis.rules import NEAR_LINE_KM
from truceline.checks import day_range
from truceline.config import portable_path
from truceline.errors import InputError, LakeError
from truceline.lake.store import Lake
from truceline.progress import Progress, no_progress
from truceline.reports import (  # the signed report, where callers have always found it
    AGREEMENT_DIR,
    key_figures,
    lake_state,
    recompute_differences,
    verify_folder,
    write_assessment,
)


def _days(start: str | pd.Timestamp | None, end: str | pd.Timestamp | None
          ) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """[start, end] as naive days, checked (InputError naming --from/--to) before any work."""
    s, e = day_range(start, end)
    return (None if s is None else pd.Timestamp(s)), (None if e is None else pd.Timestamp(e))


def control_snapshots(lake: Lake, source: str | None = None, *,
                      start: pd.Timestamp | None = None,
                      end: pd.Timestamp | None = None,
                      required: bool = True) -> gpd.GeoDataFrame:
    """Control snapshots of one source, or of every source (the latest in force wins),
    limited to those in force some day of [start, end] when given.

    ``required=False``: a lake without any control map gives an empty frame instead of
    an error (detection runs without a map; side and distance are then left empty).
    """
    if not required and source is None and not lake.control_files():
        return no_snapshots()
    snaps = lake.read_control(source, start=start, end=end)
    if source is None:
        # one snapshot per date: on a day two sources share, keep the one ingested last
        snaps = snaps.drop_duplicates("valid_from", keep="last").reset_index(drop=True)
    return snaps


def no_snapshots() -> gpd.GeoDataFrame:
    """An empty snapshot table: enrichment with no control map in force."""
    return gpd.GeoDataFrame({"snapshot_id": pd.Series(dtype=object),
                             "valid_from": pd.Series(dtype="datetime64[us]")},
                            geometry=gpd.GeoSeries([], crs="EPSG:4326"))


def enrich_detections(lake: Lake, start: str | pd.Timestamp | None = None,
                      end: str | pd.Timestamp | None = None, *,
                      control_source: str | None = None, h3_resolution: int = 7,
                      sectors: gpd.GeoDataFrame | None = None,
                      map_required: bool = True,
                      progress: Progress = no_progress) -> gpd.GeoDataFrame:
    """Detections in [start, end] with side, signed distance, band, H3, sector, place,
    and ``moved``: whether the ground changed hands within
    :data:`~truceline.geo.moved.MOVED_DAYS` days either side (:mod:`truceline.geo.moved`),
    with ``moved_known``: whether the maps reach that far either side (else ``moved`` is
    only "not seen to move").

    Days with no control map in force keep H3, region and place; side, distance, band
    and sector stay empty (flag ``before_first_snapshot``). ``map_required=False`` also
    accepts a lake that holds no control map at all.
    """
    from truceline.geo.enrich import enrich
    from truceline.geo.moved import MOVED_DAYS, changed_hands, maps_reach

    s, e = _days(start, end)
    det = lake.read_detections(s, e, geometry=False)  # enrich makes the points
    if det.empty:  # a period the lake does not hold: the same answer as detect gives
        raise InputError(f"no FIRMS detections in {lake.root} between "
                         f"{s.date() if s is not None else 'the first day'} and "
                         f"{e.date() if e is not None else 'the last'}: ingest the FIRMS files "
                         "of that period first (`truceline ingest firms PATH`)")
    reach = pd.Timedelta(days=MOVED_DAYS)  # the maps either side that `moved` compares,
    # and two weeks more after, to see whether the maps run on past the last day's reach
    snaps = control_snapshots(lake, control_source, start=None if s is None else s - reach,
                              end=None if e is None else e + 2 * reach,
                              required=map_required)
    out = enrich(det, snaps, h3_resolution=h3_resolution, sectors=sectors,
                 progress=progress)
    out["moved"] = changed_hands(out, snaps)
    out["moved_known"] = maps_reach(out, snaps)
    return out


def no_map_note(detections: pd.DataFrame) -> dict[str, Any] | None:
    """How many detections had no control map in force, and over which days; None when
    every detection had one. Why: side and distance are empty there, and say so."""
    if "snapshot_id" not in detections or detections.empty:
        return None
    none = detections["snapshot_id"].isna().to_numpy()
    if not none.any():
        return None
    days = pd.to_datetime(detections.loc[none, "acq_date"])
    return {"detections": int(none.sum()), "first_day": str(days.min().date()),
            "last_day": str(days.max().date()),
            "note": "no control map in force: side, distance, band and sector left empty"}


def enrichment_summary(frame: pd.DataFrame) -> dict[str, Any]:
    """Counts by side, band and flag: what a user checks after `truceline enrich`."""
    out: dict[str, Any] = {"rows": int(len(frame))}
    for col in ("side", "band", "flag"):
        if col in frame:
            out[col] = {str(k): int(v) for k, v in
                        frame[col].astype(str).value_counts(dropna=False).items()}
    if "snapshot_id" in frame:
        out["snapshots_used"] = int(frame["snapshot_id"].nunique())
    return out


# --------------------------------------------------------------------------- baseline
BASELINE_DIR = "baseline"
#: Climatologies without the latest peacetime years (:func:`build_leave_out`).
LEAVE_OUT_DIR = "baseline_leave_out"
#: How many of a climatology's latest years the false-incident rate is measured on.
LEAVE_OUT_COUNT = 4
HISTORY_MARGIN_DAYS = 90  # persistence rule looks back up to 90 days
FOLLOW_ON_DAYS = 10  # fire within 10 days after an excess counts


def _climatology_bytes(clim: Any) -> bytes:
    """A climatology as an .npz: arrays as they are, the rest as JSON (no pickle)."""
    import dataclasses
    import io
    import json

    import numpy as np

    arrays: dict[str, np.ndarray] = {}
    meta: dict[str, Any] = {}
    for f in dataclasses.fields(clim):
        if f.name.startswith("_"):
            continue
        value = getattr(clim, f.name)
        if isinstance(value, np.ndarray):
            # text arrays (H3 ids) as fixed-width unicode: no pickle needed to read them
            if value.dtype == object:
                value = value.astype(str)
            elif value.dtype == np.float64 and value.ndim == 2:
                value = value.astype(np.float32)  # half the size; see load_baseline
            arrays[f.name] = value
        elif dataclasses.is_dataclass(value):
            meta[f.name] = dataclasses.asdict(value)
        else:
            meta[f.name] = list(value) if isinstance(value, tuple) else value
    buf = io.BytesIO()
    np.savez_compressed(buf, __meta__=np.array(json.dumps(meta)), **arrays)
    return buf.getvalue()


def _climatology_from_bytes(data: bytes) -> Any:
    import io
    import json

    import numpy as np

    from truceline.analysis.baseline import BaselineParams, Climatology

    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        meta = json.loads(str(z["__meta__"]))
        arrays = {k: z[k] for k in z.files if k != "__meta__"}
    arrays = {k: v.astype(object) if v.dtype.kind == "U" else
              v.astype(np.float64) if v.dtype == np.float32 else v for k, v in arrays.items()}
    meta["params"] = BaselineParams(**meta["params"])
    meta["years"] = tuple(meta["years"])
    meta["exclusions"] = tuple(meta.get("exclusions", ()))
    return Climatology(**meta, **arrays)


def build_baseline(lake: Lake, *, sensors: tuple[str, ...] = ("MODIS", "VIIRS"),
                   years: dict[str, Any] | None = None, resolution: int = 6,
                   params: Any = None, progress: Progress = no_progress) -> dict[str, Any]:
    """Peacetime climatologies per sensor from the lake's history (see analysis.baseline).

    ``progress`` hears ("baseline", step, 1 + number of sensors): the read, then each
    sensor. Every sensor is built from the same frame of all sensors (the cells modelled
    are those any sensor saw), its H3 cells indexed once. ``params``: BaselineParams.
    """
    from truceline.analysis.baseline import (
        DEFAULT_YEARS,
        build_climatologies,
        cells_of,
        format_years,
        parse_years,
    )

    chosen = {s: parse_years((years or {}).get(s) or DEFAULT_YEARS[s]) for s in sensors}
    for s, ys in chosen.items():
        # a year without data would count as a peacetime year without fire, making fire
        # look rarer than it is (more war calls), so it must be asked for on purpose
        held = sorted(lake.detection_years(s))
        missing = sorted(set(ys) - set(held))
        if missing:
            raise InputError(
                f"baseline years: the lake holds no {s} detections in "
                f"{', '.join(map(str, missing))} (it holds {s} in "
                f"{format_years(held) if held else 'no year'}): ingest those years' FIRMS "
                f"lists, or choose years it holds (`truceline baseline build --years "
                f"{s}=YEARS`)")
    last = max(y for ys in chosen.values() for y in ys)
    steps = 1 + len(sensors)
    progress("baseline", 0, steps)
    det = lake.read_detections(None, f"{last}-12-31", sensors=list(sensors),
                               columns=["detection_id", "lon", "lat", "acq_date", "sensor",
                                        "satellite", "frp", "confidence"], geometry=False)
    if det.empty:
        raise LakeError(f"no detections in {lake.root} up to {last}: ingest the FIRMS history "
                        "(e.g. ../shared/data/firms/ukraine_yearly) before building a baseline")
    det = det.assign(h3=cells_of(det["lon"].to_numpy(), det["lat"].to_numpy(), resolution))
    progress("baseline", 1, steps)
    out: dict[str, Any] = {}
    for i, sensor in enumerate(sensors, start=2):
        out |= build_climatologies(det, sensors=(sensor,), years=chosen, resolution=resolution,
                                   params=params)
        progress("baseline", i, steps)
    return out


def leave_out_years(years: Any) -> tuple[int, ...]:
    """The peacetime years whose false incidents `assess` measures: the latest
    :data:`LEAVE_OUT_COUNT` of a climatology's years, when at least two others remain
    to build a climatology without them (else none).

    Example
    -------
    >>> leave_out_years((2012, 2013, 2016, 2018, 2019, 2020, 2021))
    (2018, 2019, 2020, 2021)
    >>> leave_out_years((2018, 2019, 2020, 2021))
    ()
    """
    ys = sorted(int(y) for y in years)
    return tuple(ys[-LEAVE_OUT_COUNT:]) if len(ys) >= LEAVE_OUT_COUNT + 2 else ()


def _leave_out_of(leave_out: Any, clim: Any) -> bool:
    """Whether ``leave_out`` is ``clim`` without its latest years (:func:`build_leave_out`
    of this baseline, not of one built before it on other years)."""
    return set(leave_out.years) == set(clim.years) - set(leave_out_years(clim.years))


def build_leave_out(lake: Lake, climatologies: dict[str, Any],
                    progress: Progress = no_progress) -> dict[str, Any]:
    """Each sensor's climatology built again without its latest peacetime years
    (:func:`leave_out_years`), same resolution and parameters.

    Why: the false-incident rate of a ground and season is measured on peacetime years;
    scored with a climatology that holds them, their fire looks more natural than new
    fire would, and the rate comes out too low (docs/VALIDATION.md, the placebo).
    """
    out: dict[str, Any] = {}
    for sensor, clim in climatologies.items():
        out_years = leave_out_years(clim.years)
        if not out_years:
            continue
        keep = tuple(y for y in clim.years if y not in out_years)
        out |= build_baseline(lake, sensors=(sensor,), years={sensor: keep},
                              resolution=clim.resolution, params=clim.params,
                              progress=progress)
    return out


def save_baseline(lake: Lake, climatologies: dict[str, Any], *,
                  leave_out: dict[str, Any] | None = None) -> dict[str, Any]:
    """Store climatologies in the lake (and their leave-out twins, :func:`build_leave_out`,
    built here unless given), in one write logged with their years, sensor and parameters."""
    if leave_out is None:
        leave_out = build_leave_out(lake, climatologies)
    files = {f"{BASELINE_DIR}/{s}.npz": _climatology_bytes(c) for s, c in climatologies.items()}
    files |= {f"{LEAVE_OUT_DIR}/{s}.npz": _climatology_bytes(c) for s, c in leave_out.items()}
    return lake.write_files(files, kind="baseline",
                            climatologies={s: c.metadata for s, c in climatologies.items()},
                            leave_out={s: c.metadata for s, c in leave_out.items()})


def load_leave_out(lake: Lake) -> dict[str, Any]:
    """The leave-out climatologies stored in the lake (none in a lake built before them)."""
    return {f.stem: _climatology_from_bytes(f.read_bytes())
            for f in sorted((lake.root / LEAVE_OUT_DIR).glob("*.npz"))}


def load_baseline(lake: Lake) -> dict[str, Any] | None:
    """The climatologies stored in the lake, or None when none were built."""
    files = sorted((lake.root / BASELINE_DIR).glob("*.npz"))
    if not files:
        return None
    return {f.stem: _climatology_from_bytes(f.read_bytes()) for f in files}


def baseline(lake: Lake, progress: Progress = no_progress) -> dict[str, Any]:
    """Stored climatologies, built from the lake's history and stored on first use.

    Always read back from the lake (stored in single precision), so that every run, and
    `truceline verify --recompute`, scores against exactly the same numbers.
    """
    clims = load_baseline(lake)
    if clims is None:
        built = build_baseline(lake, progress=progress)
        save_baseline(lake, built, leave_out=build_leave_out(lake, built, progress))
        clims = load_baseline(lake)
        assert clims is not None
    old = [s for s, c in clims.items() if c.hot_spot.any() and not c.has_sites]
    if old:
        import warnings

        warnings.warn(f"the lake's {', '.join(old)} climatology predates hot spot site "
                      "models: hot spot cells are judged as ordinary ground against rates "
                      "their works inflate; run `truceline baseline build` to rebuild it",
                      stacklevel=2)
    return clims


# --------------------------------------------------------------------------- detect
def detect_period(lake: Lake, start: str | pd.Timestamp, end: str | pd.Timestamp, *,
                  control_source: str | None = None, climatologies: dict[str, Any] | None = None,
                  rule: str = "seasonal", radius_km: float = 5.0, gap_days: int = 3,
                  progress: Progress = no_progress) -> Any:
    """Enrich, score, classify and cluster detections of [start, end].

    The rules look back up to 90 days (persistence) and 10 days ahead (follow-on fire),
    so that margin is read and classified too; results are cut back to [start, end].
    ``progress`` hears the enrichment ("enrich") and then ("detect", 0/1, 1).
    """
    from truceline.analysis.anomaly import LEGACY_RULES

    s, e = _days(start, end)
    if s is None or e is None:
        raise TypeError("detect_period needs both start and end")
    if rule in LEGACY_RULES:
        warnings.warn(f"rule {rule!r} was measured against a climatology without hot spot "
                      "sites (`truceline validate detection` builds one for it); here it runs "
                      "against the lake's, so its calls differ from the figures of "
                      "docs/VALIDATION.md", stacklevel=2)
    if lake.read_detections(s, e, columns=["acq_date"]).empty:
        raise InputError(f"no FIRMS detections in {lake.root} between {s.date()} and "
                         f"{e.date()}: ingest the FIRMS files of that period first "
                         "(`truceline ingest firms PATH`)")
    enriched = enrich_detections(lake, s - pd.Timedelta(days=HISTORY_MARGIN_DAYS),
                                 e + pd.Timedelta(days=FOLLOW_ON_DAYS),
                                 control_source=control_source,
                                 map_required=control_source is not None, progress=progress)
    progress("detect", 0, 1)
    found = detect_enriched(enriched, s, e, climatologies or baseline(lake, progress),
                            rule=rule, radius_km=radius_km, gap_days=gap_days,
                            control_source=control_source)
    progress("detect", 1, 1)
    return found


def detection_context(enriched: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp,
                      climatologies: dict[str, Any]) -> pd.DataFrame:
    """The rows :func:`detect_enriched` judges: the margin days only give context, so a
    sensor without a climatology is dropped there (inside [start, end] it is an error
    that names the sensor)."""
    s, e = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    day = pd.to_datetime(enriched["acq_date"])
    context = enriched["sensor"].isin(list(climatologies)) | ((day >= s) & (day <= e))
    return enriched[context.to_numpy()]


def detect_enriched(enriched: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp,
                    climatologies: dict[str, Any], *, rule: Any = "seasonal",
                    radius_km: float = 5.0, gap_days: int = 3,
                    control_source: str | None = None,
                    scores: pd.DataFrame | None = None) -> Any:
    """The second half of :func:`detect_period`: detect on detections already enriched
    over [start - 90 days, end + 10 days], cut back to [start, end]. Validation runs
    several rules on one enrichment through it; ``scores`` (``score_cell_days`` of
    :func:`detection_context`) spares it scoring the same rows again for each rule."""
    from truceline.analysis.detect import detect

    s, e = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    result = detect(detection_context(enriched, s, e, climatologies), climatologies,
                    rule=rule, radius_km=radius_km, gap_days=gap_days, scores=scores)
    d = pd.to_datetime(result.detections["acq_date"])
    keep = ((d >= s) & (d <= e)).to_numpy()
    result.detections = result.detections[keep]
    inc = result.incidents
    if len(inc):
        overlaps = ((pd.to_datetime(inc["t_end"]) >= s) & (pd.to_datetime(inc["t_start"]) <= e))
        result.incidents = inc[overlaps.to_numpy()].reset_index(drop=True)
    result.params = {**result.params, "from": str(s.date()), "to": str(e.date()),
                     "control_source": control_source or "any"}
    note = no_map_note(result.detections)
    if note is not None:
        result.params["no_map"] = note
    return result


# --------------------------------------------------------------------------- assess
@dataclass
class AssessmentRun:
    """An assessment and everything its report shows, with the lake files it read."""

    agreement: Any
    assessment: Any
    detections: pd.DataFrame
    incidents: pd.DataFrame
    line_of_contact: Any
    ru_ground: Any
    timeline: pd.DataFrame
    control_source: str
    inputs: list[Path] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    result: Any = None  # the analysis.assess.Assessment behind ``assessment``


def line_sector_names(lake: Lake, start: pd.Timestamp | None, end: pd.Timestamp | None,
                      source: str | None = None) -> list[str]:
    """Every sector name of the lines (of ``source``, or the latest of any) in force some
    day of [start, end], sorted; the snapshots are prepared (and cached) here, so the
    enrichment that usually follows reuses them."""
    from truceline.geo.enrich import prepare_snapshot

    snaps = control_snapshots(lake, source, start=start, end=end)
    crimea = snaps["crimea_missing"] if "crimea_missing" in snaps else None
    names: set[str] = set()
    for k in range(len(snaps)):  # one per snapshot (a handful a week), not per detection
        prep = prepare_snapshot(str(snaps["snapshot_id"].iat[k]), snaps.geometry.iat[k],
                                crimea_missing=bool(crimea.iat[k]) if crimea is not None
                                else False)
        names.update(str(n) for n in prep.sector_names)
    return sorted(names, key=str.casefold)


def check_scope_sectors(lake: Lake, agreement: Any, source: str | None) -> None:
    """Every sector an agreement names must be one of the lines in force in its window:
    a misspelt name would select no ground and read as a quiet truce. InputError (exit 2)
    with the closest names otherwise."""
    from truceline.checks import match_name

    if not agreement.scope.sectors:
        return
    w0, w1 = to_utc(agreement.start_utc), to_utc(agreement.end_utc)
    d0 = w0.tz_localize(None).normalize()
    d1 = (w1 - pd.Timedelta(microseconds=1)).tz_localize(None).normalize()
    names = line_sector_names(lake, d0, d1, source)
    if not names:  # no line in force at all: snapshot_at says so, more exactly
        return
    where = f"{agreement.path}: " if agreement.path else ""
    for sector in agreement.scope.sectors:
        match_name(sector, names, option=f"{where}scope.sectors",
                   what=f"sector on the {source + ' ' if source else ''}lines in force "
                   f"from {d0.date()} to {d1.date()}",
                   hint=f"`truceline sectors --date {d0.date()}"
                   f"{' --control-source ' + source if source else ''}` lists them")


def snapshot_at(lake: Lake, source: str | None, when: pd.Timestamp) -> gpd.GeoDataFrame:
    """The one snapshot in force on day ``when`` (of ``source``, or the latest of any)."""
    snaps = control_snapshots(lake, source, start=when, end=when)
    snaps = snaps[pd.to_datetime(snaps["valid_from"]) <= when]
    if snaps.empty:
        raise LakeError(f"no control snapshot{' from ' + source if source else ''} is in "
                        f"force on {when.date()} in {lake.root}")
    return snaps.iloc[[-1]].reset_index(drop=True)


def peacetime_history(lake: Lake, agreement: Any, snapshot: gpd.GeoDataFrame, sensor: str,
                      years: list[int], before_days: int = 0, after_days: int = 0
                      ) -> dict[int, gpd.GeoDataFrame]:
    """Per peacetime year, one sensor's detections of the agreement's calendar window
    shifted to that year (widened by ``before_days`` and ``after_days``), enriched
    against ``snapshot`` forced valid: the read both peacetime yardsticks make."""
    return peacetime_frames(
        lambda s, e: lake.read_detections(s, e, sensors=[sensor], geometry=False),
        agreement, snapshot, years, before_days, after_days)


def peacetime_frames(read: Callable[[pd.Timestamp, pd.Timestamp], pd.DataFrame],
                     agreement: Any, snapshot: gpd.GeoDataFrame, years: list[int],
                     before_days: int = 0, after_days: int = 0
                     ) -> dict[int, gpd.GeoDataFrame]:
    """:func:`peacetime_history` from any reader of the detections between two days (both
    included): the lake's, or the verdict study's history in memory, so both read the
    yardsticks the same way."""
    from truceline.geo.enrich import enrich

    fixed = snapshot.assign(valid_from=pd.Timestamp("1900-01-01"))
    w0, w1 = to_utc(agreement.start_utc), to_utc(agreement.end_utc)
    out = {}
    for y in years:  # a handful of years, not detections
        shift = pd.DateOffset(years=y - w0.year)
        raw = read((w0 + shift).tz_localize(None).normalize() - pd.Timedelta(days=before_days),
                   (w1 + shift).tz_localize(None).normalize() + pd.Timedelta(days=after_days))
        if not raw.empty:
            out[y] = enrich(raw, fixed)
    return out


def detect_peacetime(history: dict[int, pd.DataFrame], agreement: Any,
                     climatologies: dict[str, Any], margin_days: int, *,
                     rule: Any = "seasonal") -> pd.DataFrame | None:
    """Each peacetime year of :func:`peacetime_history` (read with the look-back and
    follow-on days beyond ``margin_days``) detected over the agreement's calendar window
    ± ``margin_days`` shifted to that year; incident ids carry their year. None when no
    year holds a detection."""
    w0, w1 = to_utc(agreement.start_utc), to_utc(agreement.end_utc)
    scored = []
    for y, enriched in history.items():
        shift = pd.DateOffset(years=y - w0.year)
        s = (w0 + shift).tz_localize(None).normalize() - pd.Timedelta(days=margin_days)
        e = (w1 + shift).tz_localize(None).normalize() + pd.Timedelta(days=margin_days)
        d = detect_enriched(enriched, s, e, climatologies, rule=rule).detections
        d["incident_id"] = (f"{y}-" + d["incident_id"].astype(str)).where(
            d["incident_id"].notna(), None)
        scored.append(d)
    return pd.concat(scored, ignore_index=True) if scored else None


def peacetime_rate_for(lake: Lake, agreement: Any, snapshot: gpd.GeoDataFrame,
                       sensors: list[str], war_ground: Any = None
                       ) -> tuple[float | None, dict[str, Any]]:
    """Detections per day in the agreement's scope over the same calendar window in the
    peacetime years of each sensor seen in the window, against the window's own line.

    Why: `held` needs a yardstick on the same ground, in the same season, by the same
    sensors. Returns None (and why) when the lake has no such history. The detail's
    ``zone_per_day`` is the same rate for the contact zone (the scope within
    :data:`~truceline.analysis.rules.NEAR_LINE_KM` of the line). ``war_ground``
    (:class:`~truceline.analysis.peacetime.WarGround`): ground at war in those years,
    left out and the rates scaled to the whole scope (the zone's to the whole zone); the
    detail says what was done for each, ``war_ground`` and ``zone_war_ground``.
    """
    from truceline.analysis.assess import peacetime_rate
    from truceline.analysis.baseline import DEFAULT_YEARS

    w0 = to_utc(agreement.start_utc)
    total, zone_total, detail = 0.0, 0.0, {}
    for sensor in sensors:
        # peacetime years before the agreement that the lake holds for this sensor
        held = lake.detection_years(sensor)  # one walk of the lake, not one per year
        years = [y for y in DEFAULT_YEARS.get(sensor, ()) if y < w0.year and y in held]
        if not years:
            detail[sensor] = "no peacetime history of this sensor in the lake"
            return None, detail
        frames = peacetime_history(lake, agreement, snapshot, sensor, years)
        rate = zone = 0.0
        if frames:
            both = pd.concat(frames.values(), ignore_index=True)
            rate = peacetime_rate(both, agreement, years, war_ground=war_ground)
            zone = peacetime_rate(both, agreement, years, max_km=NEAR_LINE_KM,
                                  war_ground=war_ground)
        detail[sensor] = {"years": years, "per_day": round(rate, 4),
                          "within_km": NEAR_LINE_KM, "zone_per_day": round(zone, 4)}
        if war_ground is not None:  # held weighs the lower of the two readings
            # each yardstick's own reading: the contact zone's share off the ground at war
            # is its own, and may be too small where the scope's is not
            for key, near in (("war_ground", False), ("zone_war_ground", True)):
                detail[sensor][key] = war_ground.note(near) | (
                    {"rate": "the lower of all ground's and the rate off it, scaled to the "
                             f"{'contact zone' if near else 'scope'}"}
                    if war_ground.measurable(near) else {})
        total += rate
        zone_total += zone
    return total, detail | {"zone_per_day": zone_total}


def peacetime_false_rate_for(lake: Lake, agreement: Any, snapshot: gpd.GeoDataFrame,
                             sensors: list[str], climatologies: dict[str, Any], *,
                             rule: str = "seasonal", war_ground: Any = None
                             ) -> tuple[dict[str, Any], list[Path]]:
    """False incidents per day in the agreement's scope around the same calendar window
    (± 30 days) of the peacetime years each sensor's leave-out climatology leaves out,
    detected as the window is (same rule, same line) but scored without those years
    (:func:`truceline.analysis.peacetime.measured_false_incident_rate`, summed over the
    sensors seen in the window), and the leave-out files read.

    Without a leave-out climatology or such a year before the window for a sensor, the
    rate is None with ``why`` (and no file): the caller then weighs the other
    yardsticks only, and says so. ``near``: the same for the contact zone, counted as rule
    V1 counts there: days on which an incident's fire reached new ground within
    :data:`~truceline.analysis.rules.NEAR_LINE_KM` of the line, with their dispersion.
    ``war_ground``: as in :func:`peacetime_rate_for`.
    """
    from truceline.analysis.peacetime import (
        NEW_GROUND_DAY,
        measured_false_incident_rate,
        measured_zone_false_rate,
    )

    margin = 30
    leave_out = load_leave_out(lake)
    w0 = to_utc(agreement.start_utc)
    totals = {"scope": 0.0, "near": 0.0}
    by_sensor: dict[str, dict[str, Any]] = {}
    for sensor in sensors:
        held = lake.detection_years(sensor)
        years = [y for y in leave_out_years(climatologies[sensor].years)
                 if y < w0.year and y in held] if sensor in climatologies else []
        if sensor not in leave_out or (sensor in climatologies and not _leave_out_of(
                leave_out[sensor], climatologies[sensor])):
            # none, or one left from a baseline built on other years
            return {"rate_per_day": None, "why": f"the lake holds no {sensor} climatology "
                    "without its latest peacetime years (run `truceline baseline build`)"}, []
        if not years:
            return {"rate_per_day": None, "why": f"no {sensor} peacetime year left out of "
                    "the climatology lies before the window in the lake"}, []
        history = peacetime_history(lake, agreement, snapshot, sensor, years,
                                    before_days=margin + HISTORY_MARGIN_DAYS,
                                    after_days=margin + FOLLOW_ON_DAYS)
        peace = detect_peacetime(history, agreement, {sensor: leave_out[sensor]}, margin,
                                 rule=rule)
        for zone, fr in (
                ("scope", measured_false_incident_rate(peace, agreement, years,
                                                       margin_days=margin,
                                                       war_ground=war_ground)),
                ("near", measured_zone_false_rate(peace, agreement, years, margin,
                                                  war_ground=war_ground))):
            by_sensor.setdefault(zone, {})[sensor] = \
                {k: fr[k] for k in ("rate_per_day", "source", "years", "war_ground")
                 if k in fr} \
                | {k: fr[k] for k in ("pooled_count", "pooled_days", "dispersion") if k in fr}
            totals[zone] += float(fr["rate_per_day"])
    files = [lake.root / LEAVE_OUT_DIR / f"{s}.npz" for s in sensors]
    return {"rate_per_day": totals["scope"], "by_sensor": by_sensor["scope"],
            "near": {"rate_per_day": totals["near"], "km": NEAR_LINE_KM,
                     "unit": NEW_GROUND_DAY, "by_sensor": by_sensor["near"],
                     # the sensors' counts add up; the most clustered one speaks for all
                     "dispersion": max(float(v.get("dispersion", 1.0))
                                       for v in by_sensor["near"].values())}}, files


def war_exclusions(climatologies: Mapping[str, Any], sensors: Iterable[str]
                   ) -> tuple[Any, ...]:
    """The ground the climatologies of ``sensors`` leave out of peace: their exclusions
    (:class:`~truceline.analysis.baseline.Exclusion`), once each, in order."""
    from truceline.analysis.baseline import exclusions_named

    names = [n for s in sensors if s in climatologies
             for n in getattr(climatologies[s], "exclusions", ())]
    return exclusions_named(dict.fromkeys(names))


def run_assessment(lake: Lake, agreement: Any, *, control_source: str | None = None,
                   weather_dir: Path | None = None, rule: str = "seasonal",
                   climatologies: dict[str, Any] | None = None,
                   progress: Progress = no_progress) -> AssessmentRun:
    """Everything `truceline assess` computes for one agreement, from the lake.

    ``progress`` hears the detection steps, then ("assess", step, 3): coverage, the
    peacetime and false-incident rates, the verdict. The false-incident rate V1 weighs is
    measured in the window's own days (:mod:`truceline.analysis.false_alarms`).
    """
    from truceline.analysis import false_alarms
    from truceline.analysis.assess import assess
    from truceline.analysis.coverage import assess_coverage
    from truceline.analysis.timeline import daily_series, to_wide
    from truceline.geo import outlines
    from truceline.geo.enrich import prepare_snapshot

    source = control_source or agreement.control_source
    check_scope_sectors(lake, agreement, source)  # before any long computation
    w0, w1 = to_utc(agreement.start_utc), to_utc(agreement.end_utc)
    c0 = to_utc(agreement.comparison.start_utc)
    d0 = min(c0, w0).tz_localize(None).normalize()
    d1 = (w1 - pd.Timedelta(microseconds=1)).tz_localize(None).normalize()
    clims = climatologies or baseline(lake, progress)  # pass them in to read the lake once
    lake = lake.at()  # one consistent version of every table, whatever is ingested meanwhile
    state = lake_state(lake)
    found = detect_period(lake, d0, d1, control_source=source, climatologies=clims, rule=rule,
                          progress=progress)
    det = found.detections
    progress("assess", 0, 3)
    cov = assess_coverage(det, w0, w1, weather_dir=weather_dir,
                          oblasts=scope_oblasts(det, agreement, weather_dir))
    progress("assess", 1, 3)
    snap = snapshot_at(lake, source, w0.tz_localize(None).normalize())
    sensors = sorted(det.loc[_in_window(det, w0, w1), "sensor"].astype(str).unique())
    # ground the climatologies leave out of peace is left out of the yardsticks too
    ratios = false_alarms.area_ratios(snap, agreement,
                                      exclusions=war_exclusions(clims, sensors or ["VIIRS"]))
    war = ratios.get("war_ground")
    rate, rate_detail = peacetime_rate_for(lake, agreement, snap, sensors or ["VIIRS"],
                                           war_ground=war)
    peace_fr, peace_files = peacetime_false_rate_for(lake, agreement, snap,
                                                     sensors or ["VIIRS"], clims, rule=rule,
                                                     war_ground=war)
    false_rate = false_alarms.window_false_rate(det, agreement, ratios["scope"],
                                                peacetime=peace_fr, near_ratio=ratios["near"],
                                                near_peacetime=peace_fr.get("near"))
    progress("assess", 2, 3)
    result = assess(agreement, det, found.incidents, coverage=cov,
                    peacetime_rate_per_day=rate, control_source=source or "any",
                    false_incident_rate_per_day=false_rate["rate_per_day"],
                    false_incident_detail=false_rate,
                    peacetime_zone_rate_per_day=None if rate is None
                    else rate_detail["zone_per_day"])
    prep = prepare_snapshot(str(snap["snapshot_id"].iat[0]), snap.geometry.iat[0],
                            crimea_missing=bool(snap["crimea_missing"].iat[0]))
    line = outlines.to_lonlat(prep.contact.line)
    ru_ground = outlines.to_lonlat(prep.areas.held)
    series = daily_series(det, start=d0, end=d1, control_band_km=agreement.control_band_km)
    ids = {i.get("incident_id") for i in result.incidents}
    inc = found.incidents[found.incidents["incident_id"].isin(ids)].reset_index(drop=True)
    inc = gpd.GeoDataFrame(inc, geometry=gpd.points_from_xy(inc["lon"], inc["lat"]),
                           crs="EPSG:4326")
    margin = pd.Timedelta(days=HISTORY_MARGIN_DAYS)
    inputs = [*lake.detection_files(None, d0 - margin, d1 + pd.Timedelta(days=FOLLOW_ON_DAYS)),
              *_snapshot_files(lake, source, d0 - margin, d1),
              *sorted((lake.root / BASELINE_DIR).glob("*.npz")), *peace_files]
    # no local absolute path: the agreement travels in the report (AGREEMENT_DIR), the
    # lake is named by the state it was in, the weather folder relative to the data folder
    params = {"command": "assess",
              "agreement": f"{AGREEMENT_DIR}/{Path(agreement.path).name}"
              if agreement.path else None,
              "lake_state": state, "control_source": source or "any", "rule": rule,
              "weather_dir": portable_path(weather_dir) if weather_dir else None,
              "peacetime": rate_detail, "detect": found.params}
    data = result.to_dict()
    # what the report shows of the agreement's own words (docs/AGREEMENTS.md promises it)
    data["agreement"] = {**data.get("agreement", {}), "notes": agreement.notes or None,
                         "hypothetical": bool(getattr(agreement, "hypothetical", False))}
    data["parameters"] = {**data.get("parameters", {}), "pipeline": params}
    data["control_map"] = {**data.get("control_map", {}), "line_km": {
        "total": round(prep.contact.length_km, 1), "inside_ukraine": round(
            prep.contact.inside_km, 1), "state_border": round(prep.contact.border_km, 1)},
        "snapshot_at_start": str(snap["snapshot_id"].iat[0])}
    progress("assess", 3, 3)
    return AssessmentRun(agreement, data, det, inc, line, ru_ground, to_wide(series),
                         source or "any", inputs, params, result)


def scope_oblasts(det: pd.DataFrame, agreement: Any, data_dir: Path | None
                  ) -> list[str] | None:
    """The oblasts of the detections in the agreement's scope (where its cloud is read);
    None without a data folder or any detection in scope."""
    from truceline.analysis.coverage import oblast_of
    from truceline.analysis.inputs import normalise

    if data_dir is None or det.empty:
        return None
    d = normalise(det)
    m = agreement.scope.mask(d["dist_km"], d["sector"], d["lon"], d["lat"])
    if not m.any():
        return None
    try:
        found = oblast_of(d.loc[m, "lon"].to_numpy(), d.loc[m, "lat"].to_numpy(), data_dir)
    except InputError:  # a weather folder without the oblast grid: the regional share
        return None
    return sorted({str(o) for o in found if o is not None}) or None


def compare_maps(runs: dict[str, AssessmentRun]) -> dict[str, Any]:
    """How the line, the counts and the verdict change with the control map."""
    from truceline.analysis.assess import compare_control_maps

    out = compare_control_maps({name: r.result for name, r in runs.items()})
    out["line_km"] = {name: r.assessment["control_map"]["line_km"] for name, r in runs.items()}
    return out


def _in_window(det: pd.DataFrame, w0: pd.Timestamp, w1: pd.Timestamp) -> pd.Series:
    day = pd.to_datetime(det["acq_date"])
    return (day >= w0.tz_localize(None).normalize()) & (day < w1.tz_localize(None))


def _snapshot_files(lake: Lake, source: str | None, start: pd.Timestamp,
                    end: pd.Timestamp) -> list[Path]:
    return lake.snapshot_files(source, start, end)


__all__ = ["AGREEMENT_DIR", "AssessmentRun", "baseline", "build_baseline", "build_leave_out",
           "check_scope_sectors", "compare_maps", "control_snapshots", "detect_peacetime",
           "detect_period", "enrich_detections", "enrichment_summary", "key_figures", "lake_state",
           "leave_out_years", "line_sector_names", "load_baseline", "load_leave_out",
           "peacetime_false_rate_for", "peacetime_frames", "peacetime_history",
           "peacetime_rate_for", "recompute_differences", "run_assessment", "save_baseline",
           "snapshot_at", "verify_folder", "war_exclusions", "write_assessment"]

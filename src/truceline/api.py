"""The notebook API: the pipeline over a lake, as GeoDataFrames with UTC times.

``import truceline as tl`` re-exports these (and ``tl.Lake``, ``tl.load_agreement``).
They are thin: each checks its arguments first (dates, sector names) with the same
messages as the CLI, calls :mod:`truceline.pipeline`, and hands back frames a notebook
can map and filter at once: points in EPSG:4326, instants (``t_utc``, ``t_start``,
``t_end``) tz-aware in UTC; ``acq_date`` stays a plain calendar day (FIRMS's UTC day).
The CLI calls the same functions, so a notebook and ``truceline ...`` agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from truceline import _EXPORTS, config, pipeline
from truceline.checks import day, day_range, match_name
from truceline.errors import InputError
from truceline.lake.store import Lake, open_existing
from truceline.progress import Progress, no_progress

#: The names ``truceline`` re-exports from here (its table is the one list of them).
__all__ = [name for name, module in _EXPORTS.items() if module == __name__]

LakeLike = Lake | str | Path


def open_lake(lake: LakeLike | None = None) -> Lake:
    """A :class:`Lake` from a Lake, a folder, or None ($TRUCELINE_LAKE, ./truceline-lake);
    a folder that does not exist or holds no lake is an InputError, not an empty lake."""
    if isinstance(lake, Lake):
        return lake
    if lake is not None and not isinstance(lake, (str, Path)):
        raise InputError(f"lake {lake!r}: expected a Lake or a folder path, "
                         f"not {type(lake).__name__}")
    return open_existing(config.lake_dir(lake))


def utc_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its instants (``t_utc``, ``t_start``, ``t_end``) tz-aware in UTC.

    Naive values are read as UTC (FIRMS times are UTC); aware ones are converted.

    Example
    -------
    >>> f = utc_frame(pd.DataFrame({"t_start": pd.to_datetime(["2025-08-21"])}))
    >>> str(f["t_start"].dt.tz), str(f["t_start"].iat[0])
    ('UTC', '2025-08-21 00:00:00+00:00')
    """
    out = frame.copy() if any(c in frame for c in ("t_utc", "t_start", "t_end")) else frame
    for col in ("t_utc", "t_start", "t_end"):
        if col in out:
            t = pd.to_datetime(out[col])
            out[col] = t.dt.tz_localize("UTC") if t.dt.tz is None else t.dt.tz_convert("UTC")
    return out


def as_geoframe(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """``frame`` as a GeoDataFrame of lon/lat points in EPSG:4326 with UTC instants."""
    frame = utc_frame(frame)
    if isinstance(frame, gpd.GeoDataFrame) and frame.crs is not None:
        return frame.to_crs("EPSG:4326")
    if isinstance(frame, gpd.GeoDataFrame) and "geometry" in frame:
        return frame.set_crs("EPSG:4326")
    pts = gpd.points_from_xy(frame["lon"], frame["lat"]) if len(frame) else gpd.GeoSeries(
        [], crs="EPSG:4326").values
    return gpd.GeoDataFrame(frame.drop(columns=["geometry"], errors="ignore"), geometry=pts,
                            crs="EPSG:4326")


def read_detections(lake: LakeLike | None = None, start: Any = None, end: Any = None, *,
                    sensors: list[str] | None = None) -> gpd.GeoDataFrame:
    """Detections with ``acq_date`` in [start, end] (inclusive days; None: open), as
    points in EPSG:4326 with ``t_utc`` in UTC (null where FIRMS gives no time)."""
    from truceline.sources.firms import SENSORS

    s, e = day_range(start, end)
    if sensors is not None:  # a typo must not read as a sensor without detections
        if isinstance(sensors, str) or not all(isinstance(x, str) for x in sensors):
            raise InputError(f"sensors {sensors!r}: expected a list of sensor names, "
                             f"e.g. {list(SENSORS)}")
        bad = [x for x in sensors if x.upper() not in SENSORS]
        if bad:
            raise InputError(f"sensors {bad!r}: expected names among {', '.join(SENSORS)}")
        sensors = [x.upper() for x in sensors]
    return as_geoframe(open_lake(lake).read_detections(s and str(s), e and str(e),
                                                       sensors=sensors))


def enrich(lake: LakeLike | None = None, start: Any = None, end: Any = None, *,
           control_source: str | None = None, h3_resolution: int = 7,
           sector_file: gpd.GeoDataFrame | None = None,
           progress: Progress = no_progress) -> gpd.GeoDataFrame:
    """Detections of [start, end], each with its side, signed km to the line, band, H3
    cell, sector and nearest place (see :func:`truceline.geo.enrich.enrich`)."""
    frame = pipeline.enrich_detections(open_lake(lake), start, end,
                                       control_source=control_source,
                                       h3_resolution=h3_resolution, sectors=sector_file,
                                       progress=progress)
    return as_geoframe(frame)


def build_baseline(lake: LakeLike | None = None, *, years: dict[str, str] | None = None,
                   sensors: Iterable[str] | None = None, resolution: int = 6,
                   progress: Progress = no_progress) -> dict[str, Any]:
    """Learn the peacetime climatologies from the lake's history, store them in the lake
    and return them as stored (``{sensor: Climatology}``).

    ``years`` maps a sensor to its peacetime years, e.g. ``{"VIIRS": "2019-2020"}``;
    ``sensors`` defaults to the keys of ``years``, else MODIS and VIIRS with the years
    of docs/VALIDATION.md.
    """
    lk = open_lake(lake)
    chosen = tuple(sorted(s.upper() for s in (sensors or years or ("MODIS", "VIIRS"))))
    bad = [s for s in chosen if s not in ("MODIS", "VIIRS")]
    if bad:
        raise InputError(f"sensors {bad}: expected MODIS and/or VIIRS")
    yrs = {k.upper(): v for k, v in (years or {}).items()}
    pipeline.save_baseline(lk, pipeline.build_baseline(lk, sensors=chosen, years=yrs or None,
                                                       resolution=resolution,
                                                       progress=progress))
    return pipeline.baseline(lk)


@dataclass
class Detected:
    """What :func:`detect` found in a period: every detection of the period with its
    war-fire call (``war``, ``p_natural``, ``incident_id``), the incidents, and the
    parameters that made them."""

    detections: gpd.GeoDataFrame
    incidents: gpd.GeoDataFrame
    params: dict[str, Any]


def detect(lake: LakeLike | None = None, start: Any = None, end: Any = None, *,
           control_source: str | None = None, rule: str = "seasonal",
           radius_km: float = 5.0, gap_days: int = 3,
           progress: Progress = no_progress) -> Detected:
    """War-fire detections and incidents of [start, end] (both needed), scored against
    the lake's climatologies (built on first use). Nothing is stored: the CLI's
    ``truceline detect`` stores the incidents."""
    if start is None or end is None:
        raise InputError("detect needs both start and end days, YYYY-MM-DD")
    s, e = day_range(start, end)
    found = pipeline.detect_period(open_lake(lake), str(s), str(e),
                                   control_source=control_source, rule=rule,
                                   radius_km=radius_km, gap_days=gap_days, progress=progress)
    return Detected(as_geoframe(found.detections), as_geoframe(found.incidents),
                    found.params)


def assess(agreement: Any, lake: LakeLike | None = None, *,
           control_source: str | None = None, weather_dir: str | Path | None = None,
           progress: Progress = no_progress) -> pipeline.AssessmentRun:
    """Judge an agreement (an :class:`Agreement` or its TOML file) on the lake.

    The result's ``assessment["verdict"]``, ``["rule"]`` and ``["reasons"]`` say what was
    decided and why; ``incidents`` is a GeoDataFrame with UTC times; pass the result to
    :func:`write_report` for the signed report and to :func:`incident_map` for the map.
    """
    from truceline.sources.agreements import Agreement, load_agreement

    ag = agreement if isinstance(agreement, Agreement) else load_agreement(agreement)
    run = pipeline.run_assessment(open_lake(lake), ag, control_source=control_source,
                                  weather_dir=Path(weather_dir) if weather_dir else None,
                                  progress=progress)
    run.incidents = as_geoframe(run.incidents)
    return run


def write_report(run: pipeline.AssessmentRun, out_dir: str | Path,
                 lake: LakeLike | None = None, *, key: str | Path | None = None
                 ) -> dict[str, Any]:
    """Write the signed report folder of an assessment and log it in the lake's ledger.

    ``key`` is the private signing key; by default the key pair in $TRUCELINE_KEYS or
    ~/.config/truceline/keys, made on first use. Returns the manifest and ledger seq.
    """
    from truceline.publish.signing import KeySigner, default_private_key

    if key is None:
        key, _ = default_private_key(config.keys_dir())
    return pipeline.write_assessment(run, Path(out_dir), signer=KeySigner.from_file(key),
                                     lake=open_lake(lake))


def verify(report_dir: str | Path, *, public_key: str | None = None,
           recompute: bool = False, lake: LakeLike | None = None,
           progress: Progress = no_progress) -> dict[str, Any]:
    """Check a report's signature and hashes (and, with ``recompute``, re-run it against
    ``lake`` and list the figures that differ). ``ok`` is True only if everything checks;
    ``authenticated`` only if ``public_key`` was given and signed it."""
    from truceline.reports import verify_folder

    lake_dir = None if lake is None else Path(getattr(lake, "root", lake))
    found = verify_folder(Path(report_dir), public_key=public_key, recompute=recompute,
                          lake_dir=lake_dir, progress=progress)
    return {k: v for k, v in found.items() if k != "summary"}


def incident_map(run: pipeline.AssessmentRun, *, title: str | None = None) -> Any:
    """The report's map of an assessment (a Matplotlib figure): the line of contact, its
    bands, the ground held, and the incidents."""
    from truceline.publish.maps import incident_map as draw

    return draw(run.incidents, run.line_of_contact, run.ru_ground,
                title=title or run.agreement.name)


def line_of_contact(lake: LakeLike | None = None, date: Any = None, *,
                    control_source: str | None = None) -> gpd.GeoDataFrame:
    """The line of contact in force on ``date``: one row, its lengths in km, EPSG:4326."""
    from truceline.geo import outlines

    c = prepared_snapshot(open_lake(lake), date, control_source).contact
    return gpd.GeoDataFrame({"snapshot_id": [c.snapshot_id], "date": [str(day(date))],
                             "length_km": [round(c.length_km, 1)],
                             "inside_ukraine_km": [round(c.inside_km, 1)],
                             "state_border_km": [round(c.border_km, 1)]},
                            geometry=[outlines.to_lonlat(c.line)], crs="EPSG:4326")


def prepared_snapshot(lake: Lake, date: Any, control_source: str | None) -> Any:
    """The snapshot in force on ``date``, prepared (its line of contact, held ground and
    sectors): what ``line_of_contact``, ``sectors`` and ``truceline line`` read."""
    from truceline.geo.enrich import MAX_STALENESS_DAYS, map_age, prepare_snapshot

    when = pd.Timestamp(day(date, "--date"))
    snap = pipeline.snapshot_at(lake, control_source, when)
    age, stale = map_age(snap["valid_from"].iat[0], when)
    if stale:  # the map is read, as asked, but not as if it were news
        import warnings

        warnings.warn(f"the newest map in force on {when.date()} is "
                      f"{snap['snapshot_id'].iat[0]}, {age:,} days older: the line may have "
                      f"moved since (detection accepts a map up to {MAX_STALENESS_DAYS} days "
                      "old)", stacklevel=2)
    return prepare_snapshot(str(snap["snapshot_id"].iat[0]), snap.geometry.iat[0],
                            crimea_missing=bool(snap["crimea_missing"].iat[0]))


def sectors(lake: LakeLike | None = None, date: Any = None, *,
            control_source: str | None = None) -> pd.DataFrame:
    """The sectors of the line in force on ``date``: ``name`` (as enrichment spells it,
    what ``--sector`` takes), ``line_km`` and ``lon``/``lat`` of the middle of each."""
    from truceline.geo.enrich import sector_table

    if date is None:
        raise InputError("sectors needs a date, YYYY-MM-DD")
    prep = prepared_snapshot(open_lake(lake), date, control_source)
    return sector_table(prep).assign(snapshot_id=prep.snapshot_id)


def sector_names(lake: LakeLike | None = None, start: Any = None, end: Any = None, *,
                 control_source: str | None = None) -> list[str]:
    """Every sector name of the lines in force some day of [start, end], sorted.

    The snapshots are prepared (and cached) here, so the enrichment that usually
    follows reuses them.
    """
    s, e = day_range(start, end)
    return pipeline.line_sector_names(open_lake(lake), s and pd.Timestamp(s),
                                      e and pd.Timestamp(e), control_source)


def timeline(lake: LakeLike | None = None, start: Any = None, end: Any = None, *,
             sector: str | None = None, control_source: str | None = None,
             progress: Progress = no_progress) -> pd.DataFrame:
    """Detections (and war fire) per UTC day in each distance band and the control band,
    ``start`` to ``end`` inclusive: a long table (``date``, ``band``, ``n_detections``,
    ``n_war``). An unknown ``sector`` fails at once with the closest names."""
    from truceline.analysis.timeline import daily_series

    if start is None or end is None:
        raise InputError("timeline needs both start and end days, YYYY-MM-DD")
    s, e = day_range(start, end)
    lk = open_lake(lake)
    if sector is not None:
        sector = check_sector(lk, sector, s, e, control_source=control_source)
    found = pipeline.detect_period(lk, str(s), str(e), control_source=control_source,
                                   progress=progress)
    return daily_series(found.detections, start=str(s), end=str(e), sector=sector)


def check_sector(lake: LakeLike | None, sector: str, start: Any, end: Any, *,
                 control_source: str | None = None) -> str:
    """``sector`` as the lines of [start, end] spell it, else InputError (exit 2) with the
    closest names and the command that lists them all."""
    s, _ = day_range(start, end)
    names = sector_names(lake, start, end, control_source=control_source)
    src = f" --control-source {control_source}" if control_source else ""
    return match_name(sector, names, option="--sector",
                      what=f"sector on the line between {start} and {end}",
                      hint=f"`truceline sectors --date {s}{src}` lists them")

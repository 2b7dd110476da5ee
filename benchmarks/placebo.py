"""Placebo agreements over peacetime on the southern line: how often does the method cry wolf?

    python benchmarks/placebo.py [--windows 200] [--seed 2023] [--data DIR] [--cases]

Prints the placebo table of docs/VALIDATION.md ("Assessment", "Placebo", issue 5 §4)
from the real data ($TRUCELINE_DATA or ../shared/data). Nothing is asserted here:
tests/analysis/test_placebo_real.py imports :func:`build_ground` and :func:`run_placebo`
from this file and asserts the outcomes on fewer windows, so the printed figures and the
tested ones come from one builder.

The placebo, as VALIDATION.md describes it: the southern part of the 2023 ISW line
(snapshot forced valid from 2012, so peacetime years are judged against it), west of
36.8° E in Zaporizhzhia, Kherson, Crimea, Sevastopol, Mykolaiv and Dnipropetrovsk
oblasts (Donetsk and Luhansk were not at peace after 2014); 2018-2021 classified with
the climatology that leaves those years out; random windows of 1-14 whole UTC days from
20 January to 5 December of a random year; one run per sensor (like with like).

``--cases`` also runs the two real cases of issue 5 §4 (Christmas truce 2023 on the ISW
map, the August 2025 what-if on the DeepState maps) with the full climatology, prints
their verdicts and redraws docs/img/assessment_*.png.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from truceline.analysis.anomaly import classify
from truceline.analysis.assess import false_incident_rate, peacetime_rate
from truceline.analysis.baseline import Climatology, build_climatologies
from truceline.analysis.coverage import Coverage, assess_coverage, oblast_of
from truceline.analysis.incidents import cluster_incidents
from truceline.analysis.placebo import PlaceboResult, placebo_study
from truceline.geo.enrich import enrich
from truceline.sources.agreements import Agreement, parse_agreement
from truceline.sources.frontlines import parse_control
from truceline.validation.verdicts import (  # one set of loaders for every study
    ISW_2023,
    PLACEBO_YEARS,
    agreement_text,
    data_root,
    leave_out,
    load_history,
    load_nrt_2025,
    snapshots_from_data,
)

REPO = Path(__file__).resolve().parents[1]
#: Zaporizhzhia, Kherson, Crimea, Mykolaiv, Sevastopol, Dnipropetrovsk: no Donetsk or
#: Luhansk, where 2014-2021 was not peace.
SOUTH_OBLASTS: tuple[str, ...] = ("UA23", "UA65", "UA43", "UA40", "UA48", "UA12")
#: Cloud is read over the oblasts the southern line crosses.
CLOUD_OBLASTS: tuple[str, ...] = ("UA23", "UA65", "UA43", "UA48")
WEST_OF_LON = 36.8

SENSORS: tuple[str, ...] = ("VIIRS", "MODIS")
FalseRate = Literal["measured", "default", "none"]


def placebo_agreement(rng: np.random.Generator) -> Agreement:
    """One random peacetime window: year, start 20 Jan + 0..319 days, 1-14 days (UTC)."""
    y = int(rng.choice(PLACEBO_YEARS))
    start = pd.Timestamp(f"{y}-01-20") + pd.Timedelta(days=int(rng.integers(0, 320)))
    return parse_agreement(agreement_text(start, int(rng.integers(1, 15))))


@dataclass
class Ground:
    """The southern ground in peacetime, classified and enriched once, shared by every
    placebo run (the expensive part), with per-window caches: the runs of one seed draw
    the same windows, whatever the sensor or false-alarm variant."""

    root: Path
    all_sensors: pd.DataFrame  # enriched detections of both sensors (coverage)
    detections: dict[str, pd.DataFrame]  # per sensor, with war, p_natural, incident_id
    incidents: dict[str, pd.DataFrame]
    timings: dict[str, float] = field(default_factory=dict)
    _coverage: dict[tuple[Any, Any], Coverage] = field(default_factory=dict, init=False,
                                                       repr=False)
    _peace: dict[tuple[str, Any, Any], float] = field(default_factory=dict, init=False,
                                                      repr=False)
    _false: dict[tuple[str, Any, Any], float] = field(default_factory=dict, init=False,
                                                      repr=False)

    def coverage(self, a: Agreement) -> Coverage:
        """Passes from both sensors' detections, cloud over the southern oblasts."""
        key = (a.start_utc, a.end_utc)
        if key not in self._coverage:
            self._coverage[key] = assess_coverage(
                self.all_sensors, a.start_utc, a.end_utc, weather_dir=self.root,
                oblasts=list(CLOUD_OBLASTS))
        return self._coverage[key]

    def peacetime(self, sensor: str, a: Agreement) -> float:
        """Front rate over the same calendar window in the other three placebo years."""
        key = (sensor, a.start_utc, a.end_utc)
        if key not in self._peace:
            others = [y for y in PLACEBO_YEARS if y != a.start_utc.year]
            self._peace[key] = peacetime_rate(self.detections[sensor], a, others)
        return self._peace[key]

    def false_rate(self, sensor: str, a: Agreement) -> float:
        """False incidents a day around the same calendar window in the worst other year."""
        key = (sensor, a.start_utc, a.end_utc)
        if key not in self._false:
            others = [y for y in PLACEBO_YEARS if y != a.start_utc.year]
            self._false[key] = false_incident_rate(self.detections[sensor], a, others)
        return self._false[key]

    def false_rate_whole_years(self, sensor: str) -> float:
        """False incidents (p_min < 0.01) per day in scope over the four whole years."""
        year = parse_agreement(agreement_text(pd.Timestamp("2018-01-01"), 365, "year"))
        return false_incident_rate(self.detections[sensor], year, list(PLACEBO_YEARS),
                                   margin_days=0, pooled=True)


def _south(frame: pd.DataFrame, root: Path) -> pd.DataFrame:
    """Rows on the southern ground: the southern oblasts, west of 36.8° E."""
    west = frame["lon"].to_numpy() < WEST_OF_LON
    obl = oblast_of(frame["lon"].to_numpy()[west], frame["lat"].to_numpy()[west], root)
    keep = np.zeros(len(frame), dtype=bool)
    keep[np.flatnonzero(west)] = np.isin(obl.astype(str), SOUTH_OBLASTS)
    return frame[keep]


def build_ground(root: Path, history: pd.DataFrame | None = None,
                 log: Callable[[str], None] | None = None,
                 climatologies: Mapping[str, Climatology] | None = None) -> Ground:
    """Classify 2018-2021 with the leave-out climatology, keep the southern ground,
    enrich it against the 2023 ISW line forced valid from 2012, cluster per sensor.

    Only the leave-out climatology is built (the full one is not needed here); it is
    built from the whole 2000-2023 history so its cells, and hence its pooling and prior,
    are those of the product's own build.
    """
    say = log or (lambda _msg: None)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    hist = history if history is not None else load_history(root)
    timings["load_s"] = time.perf_counter() - t
    say(f"loaded {len(hist):,} detections {timings['load_s']:.1f} s")

    t = time.perf_counter()
    clim: Mapping[str, Climatology] = (climatologies if climatologies is not None
                                       else build_climatologies(hist, years=leave_out()))
    timings["climatology_s"] = time.perf_counter() - t
    say(f"leave-out climatologies {timings['climatology_s']:.1f} s")

    t = time.perf_counter()
    year = hist["acq_date"].dt.year
    classified = pd.concat([classify(hist[year == y], clim, "seasonal")
                            for y in PLACEBO_YEARS])  # each year judged on its own
    south = _south(classified, root)
    timings["classify_s"] = time.perf_counter() - t
    say(f"classified {len(classified):,}, south {len(south):,} {timings['classify_s']:.1f} s")

    t = time.perf_counter()
    snap = parse_control(root / ISW_2023, source="isw", valid_from="2012-01-01").snapshot
    e = pd.DataFrame(enrich(south, snap).drop(columns="geometry"))
    timings["enrich_s"] = time.perf_counter() - t
    say(f"enriched {len(e):,} {timings['enrich_s']:.1f} s")

    dets: dict[str, pd.DataFrame] = {}
    incs: dict[str, pd.DataFrame] = {}
    for sensor in SENSORS:
        d = e[e["sensor"] == sensor].copy()
        inc, inc_of = cluster_incidents(d)
        d["incident_id"] = inc_of.reindex(d.index)
        dets[sensor], incs[sensor] = d, inc
    return Ground(root=root, all_sensors=e, detections=dets, incidents=incs, timings=timings)


def run_placebo(ground: Ground, sensor: str, *, n_windows: int = 200, seed: int = 2023,
                false_rate: FalseRate = "measured") -> PlaceboResult:
    """``n_windows`` placebo agreements on one sensor's detections.

    ``false_rate``: "measured" (false-incident rate of the worst of the other three
    years, what the table's verdict row uses), "default" (assess's default rate) or
    "none" (rate 0: one incident with p < 0.01 is enough for ``violated``, rule V1
    without its false-alarm test).
    """
    fr: Callable[[Agreement], float | None] | None = {
        "measured": lambda a: ground.false_rate(sensor, a),
        "default": None,
        "none": lambda a: 0.0,
    }[false_rate]
    return placebo_study(ground.detections[sensor], ground.incidents[sensor],
                         placebo_agreement, n_windows=n_windows, seed=seed,
                         coverage_fn=ground.coverage,
                         peacetime_fn=lambda a: ground.peacetime(sensor, a),
                         false_rate_fn=fr)


def measure(ground: Ground, n_windows: int = 200, seed: int = 2023) -> dict[str, dict]:
    """Every row of the placebo table, per sensor."""
    out: dict[str, dict] = {}
    for sensor in SENSORS:
        d = ground.detections[sensor]
        runs = {v: run_placebo(ground, sensor, n_windows=n_windows, seed=seed, false_rate=v)
                for v in ("none", "default", "measured")}
        w = runs["measured"].windows
        out[sensor] = {
            "detections": len(d), "war": int(d["war"].sum()),
            "incidents": len(ground.incidents[sensor]),
            "false_per_day": ground.false_rate_whole_years(sensor),
            "violated_none": runs["none"].share_violated,
            "violated_default": runs["default"].share_violated,
            **runs["measured"].to_dict(),
            "coverage_adequate": float(w["coverage_adequate"].mean()),
            "median_dispersion": float(w["dispersion"].median()),
            "violated_windows": w.loc[w["verdict"] == "violated", "start_utc"].tolist(),
        }
    return out


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def format_table(res: Mapping[str, Mapping[str, Any]]) -> str:
    """The placebo table as Markdown, in the order of docs/VALIDATION.md."""
    v, m = res["VIIRS"], res["MODIS"]

    def row(label: str, f: Callable[[Mapping[str, Any]], str]) -> str:
        return f"| {label} | {f(v)} | {f(m)} |"

    rows = [
        "| | VIIRS S-NPP | MODIS |", "|---|---:|---:|",
        row("windows", lambda r: str(r["n_windows"])),
        row("detections (south) / war-flagged / incidents",
            lambda r: f"{r['detections']:,} / {r['war']:,} / {r['incidents']:,}"),
        row("false incidents (p_min < 0.01) per day in scope, 2018-2021",
            lambda r: f"{r['false_per_day']:.3f}"),
        row("`violated`, single incident enough (V1 without the false-alarm test)",
            lambda r: _pct(r["violated_none"])),
        row("`violated`, V1 with the default rate (0.1/day)",
            lambda r: _pct(r["violated_default"])),
        row("`violated`, V1 with the rate of the worst of the other three years",
            lambda r: _pct(r["share_violated"])),
        row("`held` / `reduced` / `inconclusive` (measured rate)",
            lambda r: " / ".join(_pct(r[k]) for k in
                                 ("share_held", "share_reduced", "share_inconclusive"))),
        row("coverage adequate", lambda r: _pct(r["coverage_adequate"])),
        row("front rate change significant at 5 %, exact Poisson test",
            lambda r: _pct(r["share_rate_significant"])),
        row("the same, widened for overdispersion",
            lambda r: _pct(r["share_rate_adj_significant"])),
        row("front-vs-control contrast significant at 5 %",
            lambda r: _pct(r["share_contrast_significant"])),
        row("median dispersion φ", lambda r: f"{r['median_dispersion']:.1f}"),
    ]
    return "\n".join(rows)


# --------------------------------------------------------------------------- real cases


def run_case(root: Path, agreement: Path, det: pd.DataFrame, clim: Mapping[str, Climatology],
             source: str, span: tuple[str, str], history: pd.DataFrame, figure: Path,
             shown: tuple[str, str]) -> dict[str, Any]:
    """One real case as docs/VALIDATION.md ("Real cases") reports it: classify, cluster,
    enrich, coverage over the scope's oblasts, peacetime rate from 2018-2021 VIIRS on the
    case's last map; the verdict, and the product's timeline figure (what ``truceline
    timeline`` draws) with the window shaded."""
    from truceline.analysis.assess import assess
    from truceline.analysis.timeline import daily_series, to_wide
    from truceline.publish.maps import render_figure, timeline_chart
    from truceline.sources.agreements import load_agreement

    a = load_agreement(agreement)
    o = classify(det, clim, "seasonal")
    inc, inc_of = cluster_incidents(o)
    o["incident_id"] = inc_of.reindex(o.index)
    snaps = snapshots_from_data(root, source, *span)
    e = pd.DataFrame(enrich(o, snaps).drop(columns="geometry"))
    in_scope = a.scope.mask(e["distance_km"])
    obl = oblast_of(e.loc[in_scope, "lon"].to_numpy(), e.loc[in_scope, "lat"].to_numpy(), root)
    cov = assess_coverage(det, a.start_utc, a.end_utc, weather_dir=root,
                          oblasts=sorted({x for x in obl if x}))
    last = snaps.iloc[[-1]].copy()
    last["valid_from"] = pd.Timestamp("2012-01-01")
    peace = history[history["acq_date"].dt.year.isin(PLACEBO_YEARS)
                    & (history["sensor"] == "VIIRS")]
    pe = pd.DataFrame(enrich(peace, last).drop(columns="geometry"))
    rate = peacetime_rate(pe, a, list(PLACEBO_YEARS))
    res = assess(a, e, None, coverage=cov, peacetime_rate_per_day=rate, control_source=source)
    wide = to_wide(daily_series(e, start=shown[0], end=shown[1]))
    # timeline_chart colours bands named "0-5" ... and draws "control" as the control
    # line; analysis.timeline names them "0-5 km" and "control 60-150 km"
    wide.columns = ["control" if str(c).startswith("control") else str(c).removesuffix(" km")
                    for c in wide.columns]
    fig = timeline_chart(wide, windows=[(a.name, a.start_utc, a.end_utc)],
                         no_data_days=cov.days_without_data,
                         title=f"{a.name}: fire per day by distance to the line ({source} map)")
    figure.write_bytes(render_figure(fig).png)
    d = res.to_dict()
    front = next(r for r in d["rates"] if r["area"] == "front" and r["by"] == "all")
    ctrl = next(r for r in d["rates"] if r["area"] == "control" and r["by"] == "all")
    return {"verdict": res.verdict, "rule": res.rule, "map": source,
            "front": (front["x_window"], front["x_comparison"]),
            "control": (ctrl["x_window"], ctrl["x_comparison"]),
            "incidents_inside": sum(i["timing"] == "inside" for i in d["incidents"]),
            "coverage_adequate": cov.adequate, "figure": figure}


def run_cases(root: Path, history: pd.DataFrame, out_dir: Path) -> dict[str, dict[str, Any]]:
    """The two real cases with their agreement's own map and the full climatologies
    (autumn 2022 holds MODIS rows too)."""
    clim = build_climatologies(history)
    ex = REPO / "examples" / "agreements"
    xmas = history[(history["acq_date"] >= "2022-10-01")
                   & (history["acq_date"] <= "2023-03-31")]
    aug = load_nrt_2025(root)
    out_dir.mkdir(parents=True, exist_ok=True)
    return {
        "christmas_2023": run_case(
            root, ex / "christmas_truce_2023.toml", xmas, clim, "isw",
            ("2022-10-01", "2023-03-31"), history,
            out_dir / "assessment_christmas_2023.png", ("2022-12-20", "2023-01-20")),
        "august_2025": run_case(
            root, ex / "august_2025_whatif.toml", aug, clim, "deepstate",
            ("2025-08-01", "2025-08-31"), history,
            out_dir / "assessment_august_2025.png", ("2025-08-11", "2025-08-31")),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--windows", type=int, default=200, help="windows per sensor (>= 50)")
    ap.add_argument("--seed", type=int, default=2023)
    ap.add_argument("--data", default=None, help="shared data folder (else TRUCELINE_DATA)")
    ap.add_argument("--cases", action="store_true",
                    help="also run the two real cases and redraw docs/img/assessment_*.png")
    args = ap.parse_args()
    root = data_root(args.data)
    if root is None:
        sys.exit("shared data not found: set TRUCELINE_DATA or pass --data")

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    history = load_history(root)
    ground = build_ground(root, history, log=log)
    t = time.perf_counter()
    res = measure(ground, n_windows=args.windows, seed=args.seed)
    log(f"placebo runs {time.perf_counter() - t:.1f} s")
    print(f"Placebo on the southern 2023 ISW line, {', '.join(map(str, PLACEBO_YEARS))}, "
          f"{args.windows} windows per sensor, seed {args.seed} (data: {root})\n")
    print(format_table(res))
    for sensor in SENSORS:
        days = [str(s)[:10] for s in res[sensor]["violated_windows"]]
        print(f"\n{sensor}: windows judged violated start {', '.join(days) or '-'}")
    if args.cases:
        print("\nReal cases (their agreement's map):")
        for name, c in run_cases(root, history, REPO / "docs" / "img").items():
            print(f"- {name}: {c['verdict']} ({c['rule']}), {c['map']} map, front "
                  f"{c['front'][0]:,} / {c['front'][1]:,}, control {c['control'][0]:,} / "
                  f"{c['control'][1]:,}, incidents inside {c['incidents_inside']}, coverage "
                  f"{'adequate' if c['coverage_adequate'] else 'poor'}; "
                  f"figure {c['figure'].relative_to(REPO)}")
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()

"""Did the ceasefire hold? A verdict on an agreement that claims no more than the data shows.

:func:`assess` is a pure function of enriched, scored detections (``geo.enrich`` +
``analysis.anomaly``), the incidents built from them, the agreement and the window's
:class:`~truceline.analysis.coverage.Coverage`. It gives:

- the incidents in scope during the window, each with the ground it lies on (never who
  fired) and how sure its timing is;
- counts and rates per side and sector, window against comparison, with the exact
  conditional rate ratio test (given ``n = x1 + x0``, ``x1 ~ Binomial(n, T1 r /
  (T1 r + T0))``; Clopper-Pearson interval mapped to the ratio ``r``);
- the front-against-control contrast: the ratio of rate ratios
  ``(F1/F0) / (C1/C0)`` (difference in differences on the log scale of a Poisson
  model with log link). Conditioning four Poisson counts on their margins gives Fisher's
  noncentral hypergeometric law with exactly this ratio as its odds parameter, so the
  exact conditional interval is scipy's conditional odds-ratio interval. Fire counts are
  clustered (overdispersed), which makes any Poisson interval too narrow: the interval
  the rules use is the hull of the exact interval and a quasi-Poisson Wald interval
  whose variance is scaled by the dispersion measured on daily counts;
- a verdict with the rule that decided it (:data:`RULES`, also in docs/VALIDATION.md).

Timing. Detections with a time are judged by it (half-open ``start <= t < end``, UTC).
A detection with a date only is *certainly* in the window only when its whole UTC day
is; a day that merely overlaps the window makes it *possibly* in. Violations need
certainty; a possible one blocks ``held`` and is reported. When any detection in the
counts lacks a time, rates switch to day resolution: the window is every UTC day that
overlaps it (the boundary day goes to the window, which makes ``reduced`` and ``held``
harder, never easier) and the comparison is its overlapping days minus those.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from truceline.analysis.anomaly import WORKS_TESTS
from truceline.analysis.coverage import Coverage, to_utc, window_days
from truceline.analysis.evidence import scope_incidents, site_hits
from truceline.analysis.inputs import SIDES_LINE, clean, normalise, timing, within_km
from truceline.analysis.peacetime import (
    false_incident_rate,
    peacetime_rate,
)
from truceline.analysis.proof import (
    count_in,
    false_alarm_tests,
    incidents_among,
    moved_only_incidents,
)
from truceline.analysis.rates import (
    LEVEL,
    DaySpans,
    RateRatio,
    RatioOfRateRatios,
    poisson_ci,
    rate_ratio_test,
    ratio_of_rate_ratios,
    widened,
)
from truceline.analysis.rules import (
    ALPHA_FALSE_ALARM,
    ALPHA_SITE_BLOCK,
    ALPHA_VIOLATION,
    DEFAULT_FALSE_INCIDENTS_PER_DAY,
    NEAR_LINE_KM,
    RULES,
    apply_rules,
)
from truceline.analysis.under_cloud import fire_under_cloud
from truceline.errors import InputError
from truceline.sources.agreements import Agreement

__all__ = [
    "ALPHA_FALSE_ALARM",
    "ALPHA_SITE_BLOCK",
    "ALPHA_VIOLATION",
    "DEFAULT_FALSE_INCIDENTS_PER_DAY",
    "LEVEL",
    "RULES",
    "Assessment",
    "RateRatio",
    "RatioOfRateRatios",
    "assess",
    "compare_control_maps",
    "false_incident_rate",
    "peacetime_rate",
    "poisson_ci",
    "rate_ratio_test",
    "ratio_of_rate_ratios",
]


@dataclass
class Assessment:
    """Everything a verdict rests on. ``to_dict()`` is JSON-able: ``null`` stands for a
    missing value or an unbounded interval end."""

    agreement: dict[str, Any]
    control_map: dict[str, Any]
    resolution: str
    exposure_days: dict[str, float]
    incidents: list[dict[str, Any]]
    site_hits: list[dict[str, Any]]
    rates: list[dict[str, Any]]
    contrast: list[dict[str, Any]]
    war_counts: dict[str, int]
    peacetime: dict[str, Any]
    false_alarms: dict[str, Any]
    coverage: dict[str, Any]
    verdict: str
    rule: str
    reasons: list[str]
    parameters: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-serialisable dict (``json.dumps(a.to_dict())`` works)."""
        d: dict[str, Any] = clean(asdict(self))
        d["rule_text"] = RULES[self.rule]
        return d


# --------------------------------------------------------------------------- assess


def assess(
    agreement: Agreement,
    detections: pd.DataFrame,
    incidents: pd.DataFrame | None,
    *,
    coverage: Coverage,
    sites: Any = None,
    peacetime_rate_per_day: float | None = None,
    dispersion: float | None = None,
    measure: str = "all",
    control_source: str | None = None,
    false_incident_rate_per_day: float | None = None,
    false_incident_detail: dict[str, Any] | None = None,
    peacetime_zone_rate_per_day: float | None = None,
) -> Assessment:
    """Judge ``agreement`` on enriched, scored detections; see :data:`RULES`.

    Parameters
    ----------
    detections
        Enriched and scored detections covering at least the window and the comparison
        window (lon, lat, acq_date, t_utc, side, dist_km or distance_km, sector,
        p_natural, is_war or war, incident_id).
    incidents
        One row per incident (incident_id, t_start, t_end, lon, lat, side, dist_km,
        sector, p_min or p_natural_min, n_detections); ``None`` or empty when there
        are none. Incidents named by detections but absent here are rebuilt from
        their detections.
    coverage
        :func:`truceline.analysis.coverage.assess_coverage` for the agreement window.
    sites
        Protected sites (``sources.sites.load_sites``); default: loaded from the
        agreement's ``prohibited.protected_sites`` when it names a file.
    peacetime_rate_per_day
        Expected detections per day in scope in peacetime for the same season, ground
        and sensors (see :func:`peacetime_rate`). Without it ``held`` cannot be given
        for fire near the line.
    dispersion
        Overdispersion factor for the contrast; default: measured on daily counts.
    measure
        ``all`` (every fire detection: season and farming cancel in the contrast) or
        ``war`` (war-flagged detections only).
    control_source
        The control map the detections were enriched with (deepstate, liveuamap, isw
        or a file name); recorded in the report. Default: the agreement's.
    false_incident_rate_per_day
        Incidents with p_min < 0.01 per day the detection stage finds in this scope in
        peacetime (:func:`false_incident_rate`); default
        :data:`DEFAULT_FALSE_INCIDENTS_PER_DAY`. A single incident is not proof when
        false alarms of that rate would often produce one.
    false_incident_detail
        What that rate rests on (e.g.
        :func:`truceline.analysis.false_alarms.window_false_rate`), kept in the
        assessment's ``false_alarms`` and named in the reasons.
    peacetime_zone_rate_per_day
        As ``peacetime_rate_per_day`` for the contact zone alone (scope within
        :data:`~truceline.analysis.rules.NEAR_LINE_KM` of the line): ``held`` then also
        needs the window's fire there compatible with it, since fighting concentrates at
        the line even when no detection is called war.
    """
    if measure not in ("all", "war"):
        raise InputError(f"assess: measure = {measure!r}: expected 'all' or 'war'")
    det = normalise(detections)
    if measure == "war":
        det_counts = det[det["is_war"]]
    else:
        det_counts = det
    w0, w1 = to_utc(agreement.start_utc), to_utc(agreement.end_utc)
    c0, c1 = to_utc(agreement.comparison.start_utc), to_utc(agreement.comparison.end_utc)
    if (coverage.start_utc, coverage.end_utc) != (w0, w1):
        raise InputError(f"assess: coverage is for {coverage.start_utc} to {coverage.end_utc}"
                         f": expected the agreement window {w0} to {w1}")
    prohibited = agreement.prohibited
    scope = agreement.scope.mask(det["dist_km"], det["sector"], det["lon"], det["lat"])
    certain, possible = timing(det, w0, w1)
    reasons: list[str] = []

    # ---- control map actually used
    snaps = sorted({str(s) for s in det.loc[scope & possible, "snapshot_id"].dropna()}) \
        if det["snapshot_id"].notna().any() else []
    source = control_source or agreement.control_source
    control_map = {
        "source": source,
        "agreement_control_source": agreement.control_source,
        "snapshots": snaps,
        "note": None if source else "control map source not named: the pipeline default "
                                    "(most recent snapshot of any source) was used",
    }

    # ---- incidents in scope during the window
    inc_rows = scope_incidents(det, incidents, scope, certain, possible) \
        if prohibited.fire_near_line else []
    # ---- protected sites
    site_rows: list[dict[str, Any]] = []
    if sites is None and prohibited.protected_sites is not None:
        from truceline.sources.sites import load_sites
        sites = load_sites(prohibited.protected_sites)
    if sites is not None and len(sites):
        site_rows = site_hits(det, incidents, sites, certain, possible)

    # ---- rates: resolution, exposures, groups
    line_side = det["side"].isin(SIDES_LINE).to_numpy()
    control = agreement.control_mask(det["dist_km"]) & line_side
    if agreement.scope.sectors:  # compare like with like: the same stretches of the line
        wanted = {x.casefold() for x in agreement.scope.sectors}
        control &= det["sector"].astype("string").str.casefold().isin(wanted) \
            .fillna(False).to_numpy(dtype=bool)
    resolution, in_w, in_c, t_w, t_c, day_of = _windows(det, w0, w1, c0, c1)
    spans = DaySpans.of(day_of, in_w, in_c)
    keep = det.index.isin(det_counts.index)
    rates = _rate_rows(det, keep, scope, control, in_w, in_c, t_w, t_c, spans)

    # ---- contrast (difference in differences), overall and per side
    contrast: list[dict[str, Any]] = []
    for label, sel in [("all", line_side)] + [(s, (det["side"] == s).to_numpy())
                                               for s in SIDES_LINE]:
        f = keep & scope & sel
        c = keep & control & sel
        if dispersion is None:
            phi, df = spans.dispersion(f, c)
        else:
            phi, df = float(dispersion), -1
        r = ratio_of_rate_ratios(int((f & in_w).sum()), int((f & in_c).sum()),
                                 int((c & in_w).sum()), int((c & in_c).sum()), phi)
        row = {"side": label, **asdict(r), "dispersion_df": df}
        contrast.append(row)
    overall = contrast[0]

    # ---- war-flagged counts in scope
    on_moved = det["moved"].to_numpy(dtype=bool)
    improbable = scope & possible & (det["p_natural"].to_numpy(dtype=float)
                                     < ALPHA_SITE_BLOCK) & ~det["test"].isin(
        WORKS_TESTS).to_numpy()
    war_counts = {
        "window_certain": int((det["is_war"].to_numpy() & scope & certain).sum()),
        "window_possible": int((det["is_war"].to_numpy() & scope & possible).sum()),
        "comparison": int((det["is_war"].to_numpy() & scope & in_c).sum()),
        # improbable fire where the maps show the line moving blocks `held`, called war
        # or not: the rule need not call it war for the line to have moved under it
        "moved_fire_possible": int((improbable & on_moved).sum()),
        # ... and where the maps do not yet reach 14 days either side, it is unknown
        "moved_unknown_possible": int((improbable & ~on_moved & ~det["moved_known"].to_numpy(
            dtype=bool)).sum()),
    }

    # ---- peacetime compatibility of the front rate
    front_all = keep & scope & line_side
    x_front = int((front_all & in_w).sum())
    lo, hi = poisson_ci(x_front)
    peace: dict[str, Any] = {
        "rate_per_day": peacetime_rate_per_day,
        "front_count_window": x_front,
        "front_rate_window": x_front / t_w,
        "front_rate_lo": lo / t_w,
        "front_rate_hi": hi / t_w,
        "compatible": None,
    }
    if peacetime_rate_per_day is not None:
        peace["compatible"] = bool(lo / t_w <= peacetime_rate_per_day)
    at_line_rows = within_km(det, NEAR_LINE_KM)  # the contact zone, for V1 and `held`
    if peacetime_zone_rate_per_day is not None:
        x_zone = int((front_all & in_w & at_line_rows).sum())
        z_lo, z_hi = poisson_ci(x_zone)
        peace["zone"] = {"km": NEAR_LINE_KM, "rate_per_day": peacetime_zone_rate_per_day,
                         "count_window": x_zone, "rate_window": x_zone / t_w,
                         "rate_lo": z_lo / t_w, "rate_hi": z_hi / t_w,
                         "compatible": bool(z_lo / t_w <= peacetime_zone_rate_per_day)}

    if prohibited.fire_near_line:  # `held` needs no fire timed to the cloud
        peace["under_cloud"] = fire_under_cloud(coverage.days,
                                                det.loc[front_all & in_w, "date"])

    rate_fa = DEFAULT_FALSE_INCIDENTS_PER_DAY if false_incident_rate_per_day is None \
        else float(false_incident_rate_per_day)
    at_line = incidents_among(det, scope & at_line_rows)

    def tested(rows: list[dict[str, Any]]) -> dict[str, Any]:
        return false_alarm_tests(det, rows, rate_fa, t_w, false_incident_detail,
                                 false_incident_rate_per_day is not None, at_line,
                                 scope & at_line_rows & certain)

    false_alarm = tested(inc_rows)
    verdict, rule = apply_rules(prohibited.fire_near_line, inc_rows, site_rows, coverage,
                                overall, peace, war_counts, false_alarm, reasons)
    # Where the maps show the line moved (geo.moved): a finding of its own for a truce.
    moved = count_in(inc_rows, incidents_among(det, scope & possible
                                                 & det["moved"].to_numpy(dtype=bool)))
    war_counts["incidents_on_moved_ground"] = moved
    if moved:
        reasons.append(f"{moved} of the {len(inc_rows)} incident(s) in scope lie on ground "
                       "that changed hands within 14 days of their fire: the control maps "
                       "show the line moved there")
    # What a violation rests on: incidents the moving-front test alone called war (fire
    # the season test would excuse, war because the maps show its ground changing hands)
    # are the maps' evidence as much as the fire's; say whether the proof stands without
    by_maps = moved_only_incidents(det)
    war_counts["incidents_moved_test_only"] = count_in(inc_rows, by_maps)
    if verdict == "violated" and rule == "V1" and war_counts["incidents_moved_test_only"]:
        rest = [r for r in inc_rows if str(r["incident_id"]) not in by_maps]
        without = apply_rules(prohibited.fire_near_line, rest, site_rows, coverage, overall,
                              peace, war_counts, tested(rest), [])
        false_alarm["without_moved_test"] = {"verdict": without[0], "rule": without[1]}
        if without[0] != "violated":
            reasons.append(
                f"{war_counts['incidents_moved_test_only']} of the incident(s) in scope were "
                "called war only by the moving-front test (fire in its season, on ground the "
                f"maps show changing hands); without them the verdict would be {without[0]}: "
                "this violation rests on the control maps' motion as well as on the fire")

    # Say what the coverage was whatever the verdict.
    reasons.extend(coverage.reasons)
    if resolution == "day":
        reasons.append("some detections have dates without times: rates use whole UTC days "
                       f"({t_w:g} window days, {t_c:g} comparison days; the boundary day "
                       "counts in the window)")
    return Assessment(
        agreement={
            "name": agreement.name,
            "parties": [{"id": p.id, "name": p.name} for p in agreement.parties],
            "start_utc": w0, "end_utc": w1,
            "comparison_start_utc": c0, "comparison_end_utc": c1,
            "time_zone": agreement.time_zone,
            "scope": agreement.scope.describe(),
            "control_band_km": list(agreement.control_band_km),
            "fire_near_line": prohibited.fire_near_line,
            # as the agreement writes it (relative), never a local absolute path
            "protected_sites": None if prohibited.protected_sites is None
            else prohibited.protected_sites_ref or prohibited.protected_sites.name,
            "declared_by": list(agreement.declared_by),
            "accepted_by": list(agreement.accepted_by),
        },
        control_map=control_map,
        resolution=resolution,
        exposure_days={"window": t_w, "comparison": t_c},
        incidents=inc_rows,
        site_hits=site_rows,
        rates=rates,
        contrast=contrast,
        war_counts=war_counts,
        peacetime=peace,
        false_alarms=false_alarm,
        coverage=coverage.to_dict(),
        verdict=verdict,
        rule=rule,
        reasons=reasons,
        parameters={"alpha_violation": ALPHA_VIOLATION, "alpha_site_block": ALPHA_SITE_BLOCK,
                    "level": LEVEL, "measure": measure,
                    "dispersion_given": dispersion},
    )


def _windows(det: pd.DataFrame, w0: pd.Timestamp, w1: pd.Timestamp, c0: pd.Timestamp,
             c1: pd.Timestamp
             ) -> tuple[str, np.ndarray, np.ndarray, float, float, pd.Series]:
    """Which detections count in window / comparison, the exposures in days, and each
    detection's day (for daily counts)."""
    day_of = det["date"]
    in_dates = det["date"].notna()
    relevant = in_dates & (det["date"] >= c0.tz_localize(None).normalize()
                           - pd.Timedelta(days=1)) \
        & (det["date"] <= w1.tz_localize(None).normalize() + pd.Timedelta(days=1))
    if det.loc[relevant, "t"].notna().all():
        t = det["t"]
        in_w = ((t >= w0) & (t < w1)).to_numpy(dtype=bool)
        in_c = ((t >= c0) & (t < c1)).to_numpy(dtype=bool)
        day = 86400.0
        return ("time", in_w, in_c, (w1 - w0).total_seconds() / day,
                (c1 - c0).total_seconds() / day, day_of)
    wd = window_days(w0, w1)
    cd = window_days(c0, c1).difference(wd)
    if len(cd) == 0:
        raise InputError("assess: with date-only detections the comparison window has no "
                         "UTC day of its own: give a comparison window at least a day long")
    in_w = det["date"].isin(wd).to_numpy()
    in_c = det["date"].isin(cd).to_numpy()
    return "day", in_w, in_c, float(len(wd)), float(len(cd)), day_of



def _rate_rows(det: pd.DataFrame, keep: np.ndarray, scope: np.ndarray, control: np.ndarray,
               in_w: np.ndarray, in_c: np.ndarray, t_w: float, t_c: float,
               spans: DaySpans) -> list[dict[str, Any]]:
    """Counts, rates and exact rate ratios (and their overdispersion-widened versions):
    front and control, overall, per side and per sector (front only)."""
    rows: list[dict[str, Any]] = []

    def add(area: str, by: str, key: str, m: np.ndarray) -> None:
        r = rate_ratio_test(int((m & in_w).sum()), t_w, int((m & in_c).sum()), t_c)
        phi, _ = spans.dispersion(m)
        rows.append({"area": area, "by": by, "key": key, **asdict(r), **widened(r, phi)})

    side = det["side"].astype(object).fillna("(none)").to_numpy()
    line_side = np.isin(side, SIDES_LINE)
    add("front", "all", "all", keep & scope & line_side)
    add("control", "all", "all", keep & control)
    for s in sorted(set(side[keep & scope & (in_w | in_c)])):
        add("front", "side", str(s), keep & scope & (side == s))
    for s in SIDES_LINE:
        add("control", "side", s, keep & control & (side == s))
    sector = det["sector"].astype(object).fillna("(none)").to_numpy() \
        if det["sector"] is not None else np.full(len(det), "(none)", dtype=object)
    for s in sorted(set(sector[keep & scope & (in_w | in_c)]), key=str):
        add("front", "sector", str(s), keep & scope & (sector == s))
    return rows



def compare_control_maps(results: dict[str, Assessment]) -> dict[str, Any]:
    """Line up assessments of one agreement made with different control maps (keyed by
    map name): verdict, front counts, incidents per map, and whether the verdict flips.

    Why: the control map decides what is "near the line" and whose ground a fire is on;
    a verdict that depends on the map must say so in the report.
    """
    if not results:
        raise InputError("compare_control_maps: expected at least one assessment")
    rows = []
    for name, a in results.items():
        front = next(r for r in a.rates if r["area"] == "front" and r["by"] == "all")
        sides = {r["key"]: r["x_window"] for r in a.rates
                 if r["area"] == "front" and r["by"] == "side"}
        rows.append({"map": name, "verdict": a.verdict, "rule": a.rule,
                     "front_window": front["x_window"],
                     "front_comparison": front["x_comparison"],
                     "front_window_by_side": sides, "incidents": len(a.incidents),
                     "contrast": a.contrast[0]["estimate"],
                     "contrast_lo": a.contrast[0]["lo"], "contrast_hi": a.contrast[0]["hi"]})
    verdicts = sorted({r["verdict"] for r in rows})
    flips = len(verdicts) > 1
    per_map = ", ".join(str(r["map"]) + ": " + str(r["verdict"]) for r in rows)
    maps = ", ".join(str(r["map"]) for r in rows)
    note = (f"the verdict depends on the control map ({per_map})" if flips
            else f"the verdict is {verdicts[0]} with every map compared ({maps})")
    return clean({"maps": rows, "flips": flips, "note": note})  # type: ignore[no-any-return]



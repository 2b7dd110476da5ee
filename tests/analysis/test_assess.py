"""Known-answer tests for truceline.analysis.assess: every verdict rule, the exact rate
ratio, the contrast, and the rate test's calibration and power on synthetic Poisson data.

The synthetic world: one satellite with two passes a day (00:45 and 11:10 UTC), fire in
the front band (10 km from the line) and the control band (100 km), on both sides.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from truceline.analysis.assess import (
    RULES,
    assess,
    compare_control_maps,
    false_incident_rate,
    peacetime_rate,
    poisson_ci,
    rate_ratio_test,
    ratio_of_rate_ratios,
)
from truceline.analysis.coverage import assess_coverage
from truceline.analysis.placebo import placebo_study
from truceline.errors import InputError
from truceline.sources.agreements import Agreement, parse_agreement

PARTIES = """
[[parties]]
id = "ru"
name = "Russia"
[[parties]]
id = "ua"
name = "Ukraine"
"""


def agreement(start: str = "2025-08-21 00:00", days: float = 10, extra: str = "",
              base_dir: Path | None = None, top: str = "") -> Agreement:
    text = (f'name = "test"\ntime_zone = "UTC"\nstart = "{start}"\n'
            f"duration_days = {days}\n{top}\n{PARTIES}\n{extra}")
    return parse_agreement(text, base_dir=base_dir)


def world(rates: dict[tuple[str, str], tuple[float, float]], *, seed: int = 1,
          start: str = "2025-08-11", days: int = 20, split: str = "2025-08-21",
          timed: bool = True) -> pd.DataFrame:
    """Poisson fire: ``rates[(area, side)] = (per day before split, per day after)``;
    area 'front' (10 km) or 'control' (100 km)."""
    rng = np.random.default_rng(seed)
    rows = []
    for day in pd.date_range(start, periods=days, freq="D"):
        after = day >= pd.Timestamp(split)
        for (area, side), (r0, r1) in rates.items():
            n = rng.poisson(r1 if after else r0)
            dist = 10.0 if area == "front" else 100.0
            sign = 1.0 if side == "ua" else -1.0
            pas = rng.choice(["00:45", "11:10"], size=n)
            for k in range(n):
                t = pd.Timestamp(f"{day.date()} {pas[k]}", tz="UTC") + \
                    pd.Timedelta(minutes=float(rng.uniform(0, 5)))
                rows.append({
                    "lon": 36.0 + rng.uniform(0, 1), "lat": 47.0 + rng.uniform(0, 1),
                    "acq_date": day, "t_utc": t if timed else pd.NaT,
                    "sensor": "VIIRS", "satellite": "N20", "side": side,
                    "dist_km": sign * dist, "band": "5-15" if area == "front" else "60-150",
                    "sector": "Pokrovsk" if side == "ua" else "Tokmak",
                    "p_natural": 0.5, "is_war": False, "incident_id": None,
                })
    df = pd.DataFrame(rows)
    df["detection_id"] = [f"d{i}" for i in range(len(df))]
    if not timed:
        df["t_utc"] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns, UTC]")
    return df


def add_incident(df: pd.DataFrame, iid: str, t: str, p: float, *, dist: float = 8.0,
                 side: str = "ru", lon: float = 37.5, lat: float = 47.5, n: int = 3,
                 timed: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    ts = pd.Timestamp(t, tz="UTC")
    extra = pd.DataFrame({
        "lon": [lon] * n, "lat": [lat] * n, "acq_date": [ts.normalize().tz_localize(None)] * n,
        "t_utc": [ts if timed else pd.NaT] * n, "sensor": "VIIRS", "satellite": "N20",
        "side": side, "dist_km": dist * (1 if side == "ua" else -1), "band": "5-15",
        "sector": "Tokmak", "p_natural": [p] * n, "is_war": True, "incident_id": iid,
        "detection_id": [f"{iid}-{k}" for k in range(n)],
    })
    if not timed:
        extra["t_utc"] = pd.Series(pd.NaT, index=extra.index, dtype="datetime64[ns, UTC]")
    inc = pd.DataFrame({"incident_id": [iid], "t_start": [ts], "t_end": [ts], "lon": [lon],
                        "lat": [lat], "side": [side], "dist_km": [dist], "sector": ["Tokmak"],
                        "p_min": [p], "n_detections": [n]})
    return pd.concat([df, extra], ignore_index=True), inc


QUIET = {("front", "ua"): (3, 3), ("front", "ru"): (3, 3),
         ("control", "ua"): (10, 10), ("control", "ru"): (10, 10)}


def clear_sky(det: pd.DataFrame, cloud: float = 0.2) -> pd.Series:
    """A known, mostly clear sky over every day of the frame (the synthetic worlds have
    no cloud table): coverage then rests on the passes the detections show."""
    return pd.Series(cloud, index=pd.date_range("2022-01-01", "2026-12-31"))


def run(a: Agreement, det: pd.DataFrame, inc: pd.DataFrame | None = None, **kw: object):
    cov = assess_coverage(det, a.start_utc, a.end_utc, cloud=clear_sky(det))
    return assess(a, det, inc, coverage=cov, **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- statistics


def test_rate_ratio_closed_forms() -> None:
    # x1 = 0 of n = 10, equal exposure: Clopper-Pearson upper 1 - 0.025**(1/10);
    # two-sided exact p = 2 * 0.5**10.
    r = rate_ratio_test(0, 2.0, 10, 2.0)
    p_hi = 1 - 0.025 ** (1 / 10)
    assert r.lo == 0.0
    assert r.hi == pytest.approx(p_hi / (1 - p_hi), rel=1e-9)
    assert r.p_value == pytest.approx(2 * 0.5**10, rel=1e-9)
    # exposures enter as T0/T1: doubling the window's exposure halves the ratio and its CI
    r2 = rate_ratio_test(0, 4.0, 10, 2.0)
    assert r2.hi == pytest.approx(r.hi / 2, rel=1e-9)
    # nothing seen: uninformative, never significant
    z = rate_ratio_test(0, 1.0, 0, 1.0)
    assert (z.lo, z.hi, z.p_value) == (0.0, math.inf, 1.0)


def test_rate_ratio_known_case() -> None:
    # 10 vs 20 over equal time: ratio 0.5, CI from Clopper-Pearson (0.17286, 0.52812) for
    # 10/30 mapped by p/(1-p): (0.20901, 1.11917) as R poisson.test gives; exact two-sided p 0.0987.
    r = rate_ratio_test(10, 1.0, 20, 1.0)
    assert r.ratio == 0.5
    assert r.lo == pytest.approx(0.20901, abs=2e-5)
    assert r.hi == pytest.approx(1.11917, abs=2e-5)
    assert r.p_value == pytest.approx(0.09874, abs=2e-4)
    assert poisson_ci(0)[1] == pytest.approx(3.6889, abs=1e-4)
    with pytest.raises(InputError, match="exposures must be positive"):
        rate_ratio_test(1, 0.0, 1, 1.0)


def test_ratio_of_rate_ratios_cancels_common_change() -> None:
    # front and control both halve: no contrast
    d = ratio_of_rate_ratios(50, 100, 200, 400)
    assert d.estimate == pytest.approx(1.0, abs=0.05)
    assert d.lo < 1 < d.hi
    # front drops to a fifth while control stays
    d = ratio_of_rate_ratios(20, 100, 300, 300)
    assert d.hi < 1 and d.p_value < 0.001
    # overdispersion widens the interval used by the rules, never narrows it
    w = ratio_of_rate_ratios(20, 100, 300, 300, dispersion=25.0)
    assert w.hi > d.hi and w.lo < d.lo and w.p_value >= d.p_value
    assert ratio_of_rate_ratios(20, 100, 300, 300, dispersion=0.2).hi == d.hi


def _rr_p(x1: np.ndarray, x0: np.ndarray) -> np.ndarray:
    """p-values of the exact rate ratio test (equal exposures), one call per distinct pair."""
    memo: dict[tuple[int, int], float] = {}
    out = []
    for a, b in zip(x1.tolist(), x0.tolist(), strict=True):
        if (a, b) not in memo:
            memo[(a, b)] = rate_ratio_test(a, 1.0, b, 1.0).p_value
        out.append(memo[(a, b)])
    return np.array(out)


def test_rate_test_calibration_on_null_windows() -> None:
    """Share of p < 0.05 over many null windows is near 5% (exact tests are a little
    conservative on discrete data)."""
    rng = np.random.default_rng(20260126)
    p = _rr_p(rng.poisson(12.0, 2000), rng.poisson(12.0, 2000))
    assert 0.02 <= (p < 0.05).mean() <= 0.09
    f1, f0, c1, c0 = (rng.poisson(lam, 300) for lam in (15.0, 15.0, 40.0, 40.0))
    pd_ = np.array([ratio_of_rate_ratios(int(a), int(b), int(c), int(d)).p_value
                    for a, b, c, d in zip(f1, f0, c1, c0, strict=True)])
    assert 0.01 <= (pd_ < 0.05).mean() <= 0.09


def test_rate_test_power_on_a_real_drop() -> None:
    rng = np.random.default_rng(7)
    p = _rr_p(rng.poisson(10.0, 500), rng.poisson(30.0, 500))  # rate falls to a third
    assert (p < 0.05).mean() > 0.8
    f1, f0, c1, c0 = (rng.poisson(lam, 100) for lam in (20.0, 60.0, 80.0, 80.0))
    d = np.array([ratio_of_rate_ratios(int(a), int(b), int(c), int(e)).hi
                  for a, b, c, e in zip(f1, f0, c1, c0, strict=True)])
    assert (d < 1).mean() > 0.8


# --------------------------------------------------------------------------- verdicts


def test_held() -> None:
    a = agreement()
    det = world(QUIET)
    res = run(a, det, None, peacetime_rate_per_day=7.0)
    assert res.verdict == "held" and res.rule == "H"
    assert res.incidents == []
    assert res.resolution == "time" and res.exposure_days == {"window": 10.0,
                                                               "comparison": 10.0}
    # without a peacetime yardstick the same data cannot be called held
    res2 = run(a, det, None)
    assert res2.verdict == "inconclusive"
    assert any("no peacetime rate" in r for r in res2.reasons)
    # nor when the front burns well above peacetime
    res3 = run(a, det, None, peacetime_rate_per_day=2.0)
    assert res3.verdict != "held"


def test_reduced() -> None:
    rates = {("front", "ua"): (30, 4), ("front", "ru"): (30, 4),
             ("control", "ua"): (20, 20), ("control", "ru"): (20, 20)}
    det = world(rates)
    res = run(agreement(), det, None)  # no peacetime rate: held impossible
    assert res.verdict == "reduced" and res.rule == "R"
    assert res.contrast[0]["hi"] < 1
    front = next(r for r in res.rates if r["area"] == "front" and r["by"] == "all")
    assert front["ratio"] < 0.25 and front["hi"] < 1
    assert {r["key"] for r in res.rates if r["by"] == "sector"} == {"Pokrovsk", "Tokmak"}


def test_no_reduction_when_control_falls_alike() -> None:
    rates = {("front", "ua"): (30, 10), ("front", "ru"): (30, 10),
             ("control", "ua"): (60, 20), ("control", "ru"): (60, 20)}
    res = run(agreement(), world(rates), None)
    assert res.verdict == "inconclusive"
    assert res.contrast[0]["lo"] < 1 < res.contrast[0]["hi"]


RARE = 0.001  # false incidents per day: one incident in 10 days is then proof


def test_violated_needs_p_below_001() -> None:
    a = agreement()
    det, inc = add_incident(world(QUIET), "inc-1", "2025-08-24 11:12", 0.001)
    res = run(a, det, inc, peacetime_rate_per_day=7.0, false_incident_rate_per_day=RARE)
    assert res.verdict == "violated" and res.rule == "V1"
    assert res.incidents[0]["incident_id"] == "inc-1"
    assert res.incidents[0]["side"] == "ru" and res.incidents[0]["timing"] == "inside"
    assert any("ru ground" in r for r in res.reasons)
    # p_min 0.02: not proof of a violation, but not held either
    det2, inc2 = add_incident(world(QUIET), "inc-2", "2025-08-24 11:12", 0.02)
    res2 = run(a, det2, inc2, peacetime_rate_per_day=7.0, false_incident_rate_per_day=RARE)
    assert res2.verdict == "inconclusive" and len(res2.incidents) == 1
    # an incident before the window or out of the band does not count
    det3, inc3 = add_incident(world(QUIET), "inc-3", "2025-08-20 23:59", 0.0001)
    det3, inc4 = add_incident(det3, "inc-4", "2025-08-24 11:12", 0.0001, dist=45.0)
    res3 = run(a, det3, pd.concat([inc3, inc4]), peacetime_rate_per_day=7.0,
               false_incident_rate_per_day=RARE)
    assert res3.incidents == [] and res3.verdict == "held"


def test_violation_must_beat_peacetime_false_alarms() -> None:
    """The placebo finding: the detection stage makes ~0.03 false incidents a day on a
    third of the line, so one incident in a 10-day window proves nothing; ten do."""
    a = agreement()
    # at the line (3 km): not fire that `held` may put down to farming
    det, inc = add_incident(world(QUIET), "inc-1", "2025-08-24 11:12", 0.001, dist=3.0)
    one = run(a, det, inc, peacetime_rate_per_day=7.0)  # default rate 0.1/day: 1 expected
    assert one.verdict == "inconclusive"
    assert one.false_alarms["expected"] == pytest.approx(1.0)
    assert any("too few to rule out false alarms" in r for r in one.reasons)
    incs = [inc]
    for k in range(9):
        det, i = add_incident(det, f"inc-m{k}", f"2025-08-{22 + k} 11:12", 0.001,
                              lon=37.0 + 0.1 * k)
        incs.append(i)
    many = run(a, det, pd.concat(incs), peacetime_rate_per_day=7.0)
    assert many.verdict == "violated" and many.rule == "V1"
    assert many.false_alarms["p_value"] < 0.01

def test_incident_rebuilt_from_detections_when_missing_from_table() -> None:
    det, _ = add_incident(world(QUIET), "inc-9", "2025-08-22 00:46", 0.004)
    res = run(agreement(), det, None, false_incident_rate_per_day=RARE)
    assert res.verdict == "violated"
    assert res.incidents[0]["p_min"] == pytest.approx(0.004)


def test_inconclusive_on_poor_coverage() -> None:
    det = world(QUIET)
    # no data at all on 5 of the 10 window days (satellite outage, cloud)
    gone = pd.to_datetime(det["acq_date"]).between("2025-08-23", "2025-08-27")
    det = det[~gone].reset_index(drop=True)
    res = run(agreement(), det, None, peacetime_rate_per_day=7.0)
    assert res.verdict == "inconclusive" and res.rule == "I"
    assert any("coverage is poor" in r for r in res.reasons)
    assert "2025-08-25" in res.coverage["days_without_data"]
    # one pass a day is not enough either
    one = world(QUIET)
    one["t_utc"] = one["t_utc"].dt.normalize() + pd.Timedelta(hours=11)
    assert run(agreement(), one, None, peacetime_rate_per_day=7.0).verdict == "inconclusive"


def test_violation_needs_certain_timing_with_dates_only() -> None:
    # 36 h window 2023-01-06 09:00 to 2023-01-07 21:00 UTC: no whole UTC day inside it
    a = agreement(start="2023-01-06 09:00", days=1.5)
    det = world(QUIET, start="2023-01-01", days=10, split="2023-01-06", timed=False)
    det, inc = add_incident(det, "inc-x", "2023-01-07 00:00", 0.0001, timed=False)
    res = run(a, det, inc, peacetime_rate_per_day=100.0, false_incident_rate_per_day=RARE)
    assert res.verdict == "inconclusive"
    assert res.incidents[0]["timing"] == "overlaps"
    assert res.resolution == "day" and res.exposure_days == {"window": 2.0,
                                                              "comparison": 2.0}
    # a whole day inside a longer window is certain
    b = agreement(start="2023-01-06 09:00", days=3)
    assert run(b, det, inc, false_incident_rate_per_day=RARE).verdict == "violated"


def test_moratorium_site_hit_anywhere(tmp_path: Path) -> None:
    (tmp_path / "sites.csv").write_text(
        "name,lon,lat,radius_m,kind\n"
        "Far TPP,30.0,50.0,2000,thermal_power_plant\n"
        "Other,31.0,49.0,1000,substation\n", encoding="utf-8")
    extra = '[prohibited]\nfire_near_line = false\nprotected_sites = "sites.csv"\n'
    a = agreement(extra=extra, base_dir=tmp_path)
    # 300 km from the line, 500 m from the plant, single detection with low p_natural
    det = world(QUIET)
    hit = det.iloc[[0]].assign(lon=30.005, lat=50.0, dist_km=300.0, side="ua",
                               t_utc=pd.Timestamp("2025-08-25 11:11", tz="UTC"),
                               acq_date=pd.Timestamp("2025-08-25"), p_natural=0.002,
                               detection_id="strike")
    res = run(a, pd.concat([det, hit], ignore_index=True), None)
    assert res.verdict == "violated" and res.rule == "V2"
    assert res.site_hits[0]["site"] == "Far TPP"
    assert res.site_hits[0]["distance_m"] < 1000
    # front-line incidents do not count under a moratorium
    det2, inc2 = add_incident(det, "inc-f", "2025-08-24 11:12", 0.0001)
    res2 = run(a, det2, inc2)
    assert res2.verdict == "held" and res2.incidents == []
    # the same strike before the window is no violation
    early = hit.assign(t_utc=pd.Timestamp("2025-08-15 11:11", tz="UTC"),
                       acq_date=pd.Timestamp("2025-08-15"))
    assert run(a, pd.concat([det, early], ignore_index=True), None).verdict == "held"


def test_report_is_json_and_names_the_map() -> None:
    det = world(QUIET)
    det["snapshot_id"] = "deepstate/2025-08-20"
    a = agreement(top='control_source = "deepstate"')
    res = run(a, det, None)
    d = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert d["control_map"]["source"] == "deepstate"
    assert d["control_map"]["snapshots"] == ["deepstate/2025-08-20"]
    assert d["rule_text"] == RULES[res.rule]
    assert d["coverage"]["adequate"] is True


def test_peacetime_rate_same_calendar_window() -> None:
    det = world(QUIET, start="2019-08-11", split="2019-08-21")
    rate = peacetime_rate(det, agreement(), [2019])
    assert 3.0 < rate < 9.0
    det, _ = add_incident(det, "p-1", "2019-08-25 11:00", 0.005)
    det, _ = add_incident(det, "p-2", "2019-07-01 11:00", 0.005)  # outside +-30 days
    det, _ = add_incident(det, "p-3", "2019-08-26 11:00", 0.5)  # not below 0.01
    fr = false_incident_rate(det, agreement(), [2019])
    assert fr == pytest.approx(1 / 70)  # 10 window days + 2 x 30


def test_false_incident_rate_of_the_worst_year() -> None:
    """Three false incidents in 2019, one in 2018: the worst year's rate, not the pool's."""
    det = world(QUIET, start="2018-08-11", days=400, split="2030-01-01")
    for i, day in enumerate(["2019-08-12", "2019-08-20", "2019-09-01", "2018-08-15"]):
        det, _ = add_incident(det, f"f-{i}", f"{day} 11:00", 0.005)
    worst = false_incident_rate(det, agreement(), [2018, 2019])
    pooled = false_incident_rate(det, agreement(), [2018, 2019], pooled=True)
    assert worst == pytest.approx(3 / 70) and pooled == pytest.approx(4 / 140)

def test_false_incident_rate_of_the_contact_zone() -> None:
    """The contact zone's rate counts only incidents with a detection within ``max_km``
    of the line: two of the four false incidents lie 2 km from it, two 20 km."""
    from truceline.analysis.peacetime import measured_false_incident_rate

    det = world(QUIET, start="2018-08-11", days=400, split="2030-01-01")
    for i, (day, km) in enumerate([("2019-08-12", 2.0), ("2019-08-20", 20.0),
                                   ("2019-09-01", 2.0), ("2018-08-15", 20.0)]):
        det, _ = add_incident(det, f"f-{i}", f"{day} 11:00", 0.005, dist=km)
    scope = measured_false_incident_rate(det, agreement(), [2018, 2019])
    zone = measured_false_incident_rate(det, agreement(), [2018, 2019], max_km=5.0)
    assert scope["worst_year_per_day"] == pytest.approx(3 / 70)
    assert zone["worst_year_per_day"] == pytest.approx(2 / 70) and zone["pooled_count"] == 2
    assert zone["max_km"] == 5.0 and zone["rate_per_day"] < scope["rate_per_day"]


def test_yardsticks_leave_out_ground_at_war() -> None:
    """Peacetime yardsticks on ground the climatology leaves out of peace (a war since
    2014): its false incidents and fire do not count, the rest is scaled to the whole
    scope; a year before the war is read on all ground, unscaled; with too little ground
    off it, the yardstick keeps it and says why."""
    import datetime as dt

    from shapely import box

    from truceline.analysis.baseline import Exclusion
    from truceline.analysis.peacetime import WarGround, measured_false_incident_rate

    war_box = Exclusion("war", box(37.2, 46.5, 38.5, 48.5), dt.date(2014, 3, 1))
    half = WarGround((war_box,), 0.5, 0.5)
    det = world(QUIET, start="2018-08-11", days=400, split="2030-01-01")  # lon 36-37
    for i, (day, lon) in enumerate([("2019-08-12", 36.5), ("2019-08-20", 36.5),
                                    *[(f"2019-08-{d}", 37.5) for d in (13, 14, 15, 23)]]):
        det, _ = add_incident(det, f"f-{i}", f"{day} 11:00", 0.005, lon=lon)
    a = agreement(start="2019-08-21 00:00")
    every = measured_false_incident_rate(det, a, [2019])
    peace = measured_false_incident_rate(det, a, [2019], war_ground=half)
    assert every["worst_year_per_day"] == pytest.approx(6 / 70) and "war_ground" not in every
    assert peace["pooled_count"] == 2  # the four on ground at war are left out
    assert peace["worst_year_per_day"] == pytest.approx(2 / 70 / 0.5)
    assert peace["war_ground"]["left_out"] == ["war"]
    assert peace["upper95_per_day"] > every["upper95_per_day"] * 2 / 6 / 0.5  # wider bound
    # a scope mostly at war: the yardstick keeps all of it, and says so
    sliver = measured_false_incident_rate(det, a, [2019],
                                          war_ground=WarGround((war_box,), 0.1, 0.1))
    assert sliver["worst_year_per_day"] == every["worst_year_per_day"]
    assert sliver["war_ground"]["left_out"] == [] and "25%" in sliver["war_ground"]["why"]
    # held's yardstick: the fire on war ground out (an incident in the window, three
    # detections) and the rest scaled to the scope, or all ground's if that is lower:
    # held needs the window's fire at the level of both readings of peace
    quiet = peacetime_rate(det[det["lon"] < 37.2], a, [2019])
    every = peacetime_rate(det, a, [2019])
    assert every == pytest.approx(quiet + 3 / 10)
    assert peacetime_rate(det, a, [2019], war_ground=half) == every  # quiet / 0.5 is more
    most = WarGround((war_box,), 0.99, 0.99)
    assert peacetime_rate(det, a, [2019], war_ground=most) == pytest.approx(quiet / 0.99)
    # before the war began, all ground is peace and nothing is scaled
    later = WarGround((Exclusion("war", war_box.geometry, dt.date(2020, 1, 1)),), 0.5, 0.5)
    assert peacetime_rate(det, a, [2019], war_ground=later) == peacetime_rate(det, a, [2019])


def test_yardsticks_across_the_start_of_the_war() -> None:
    """A peacetime window across the day its ground went to war (as a window across the
    turn of 2013-2014 runs past 1 March 2014): the part before it is read on all ground,
    unscaled, the part from it off that ground and scaled by 1/share, as a year after it
    is; nothing on the war ground is dropped unscaled, and an incident across the day
    counts once, on its first day (review of session 13, point 17 (d))."""
    import datetime as dt

    from shapely import box

    from truceline.analysis.baseline import Exclusion
    from truceline.analysis.peacetime import (
        WarGround,
        measured_false_incident_rate,
        measured_zone_false_rate,
    )
    from truceline.analysis.rates import poisson_ci

    war = Exclusion("war", box(37.2, 46.5, 38.5, 48.5), dt.date(2019, 8, 26))
    half = WarGround((war,), 0.5, 0.5)
    a = agreement(start="2021-08-21 00:00")  # 10 days: 21-30 August 2019, 5 before the war
    det = pd.DataFrame()
    for day in pd.date_range("2019-08-21", "2019-08-30"):  # a day: 2 on war ground, 1 off
        det, _ = add_incident(det, f"w{day.day}", f"{day.date()} 11:00", 0.5, n=2)
        det, _ = add_incident(det, f"o{day.day}", f"{day.date()} 11:00", 0.5, lon=36.5, n=1)
    assert peacetime_rate(det, a, [2019]) == pytest.approx(3.0)
    # 5 days of 3 on all ground, then 5 of 1 off it, scaled by 2: 25 in 10 days (the war
    # ground's 10 after the day were dropped unscaled before: 2.0)
    assert peacetime_rate(det, a, [2019], war_ground=half) == pytest.approx(2.5)
    # false incidents, ± 30 days: 22 July - 29 September, 35 days before the war, 35 from it
    det = pd.DataFrame()
    for iid, days, lons in [("a", ["08-12"], [36.5]), ("b", ["08-13"], [37.5]),  # before
                            ("c", ["09-05", "09-06"], [36.5, 36.6]),  # after, off: x2
                            ("d", ["09-06"], [37.5]),  # after, on the war ground: out
                            ("f", ["08-24", "08-27"], [36.5, 36.6])]:  # across the day
        for day, lon in zip(days, lons, strict=True):
            det, _ = add_incident(det, iid, f"2019-{day} 11:00", 0.005, lon=lon, dist=2.0)
    det["detection_id"] = [f"d{i}" for i in range(len(det))]
    scope = measured_false_incident_rate(det, a, [2019], war_ground=half)
    # a, b and f (first day before the war) count 1 each, c counts 2: 5 of 4 incidents
    assert scope["pooled_count"] == 4
    assert scope["worst_year_per_day"] == pytest.approx(5 / 70)  # 4 / 70 before
    # the bound scaled by the days' mean factor: half the days 1, half 2
    assert scope["upper95_per_day"] == pytest.approx(poisson_ci(4)[1] / 70 * 1.5)
    zone = measured_zone_false_rate(det, a, [2019], war_ground=half)
    # new-ground days: a 1, b 1, c 2 x 2, f 1 (24th) + 1 x 2 (27th): 9 of 6 days
    assert zone["pooled_count"] == 6
    assert zone["worst_year_per_day"] == pytest.approx(9 / 70)  # 6 / 70 before


def test_yardsticks_with_several_wars() -> None:
    """Two exclusions of different starts: the share is measured with every exclusion in
    force from each start on (the scope's band drawn with Shapely), and a peacetime year
    is read off the ground at war then, scaled by that period's share; a period with too
    little ground off it keeps all of it (review of session 13, point 17 (e))."""
    import datetime as dt

    import geopandas as gpd
    import shapely
    from shapely import box

    from truceline.analysis.baseline import Exclusion
    from truceline.analysis.false_alarms import area_ratios
    from truceline.analysis.peacetime import WarGround
    from truceline.geo import outlines
    from truceline.geo.enrich import prepare_snapshot

    square = box(32.5, 49.3, 33.5, 49.9)
    snap = gpd.GeoDataFrame([{"snapshot_id": "sq", "source": "test", "party": "ru",
                              "valid_from": pd.Timestamp("2025-08-01"), "geometry": square,
                              "crimea_missing": False}], geometry="geometry", crs="EPSG:4326")
    west = Exclusion("west", box(20.0, 40.0, 33.0, 56.0), dt.date(2014, 3, 1))
    east = Exclusion("east", box(36.0, 40.0, 45.0, 56.0), dt.date(2018, 1, 1))
    war = area_ratios(snap, agreement(), exclusions=[west, east])["war_ground"]
    band = outlines.to_lonlat(shapely.intersection(shapely.buffer(
        prepare_snapshot("sq", square).contact.line, 30_000), outlines.outline_m("UKR")))

    def share(lo: float, hi: float) -> float:
        part = shapely.intersection(band, box(lo, 45.0, hi, 53.0))
        return float(outlines.to_metric(part).area / outlines.to_metric(band).area)

    (d1, s1), (d2, s2) = war.periods()
    assert (d1, d2) == (pd.Timestamp("2014-03-01"), pd.Timestamp("2018-01-01"))
    assert s1 == pytest.approx(share(33.0, 45.0), abs=0.05)
    # every exclusion in force (the earliest alone before: the share of the first period)
    assert war.share() == s2 == pytest.approx(share(33.0, 36.0), abs=0.05)
    assert 0.25 < s2 < s1 - 0.2
    # a day in each year: 3 fires in the west, 3 in the east, 1 between (10 days)
    a = agreement(start="2021-08-21 00:00")
    det = pd.DataFrame()
    for y in (2016, 2019):
        for day in pd.date_range(f"{y}-08-21", f"{y}-08-30"):
            for lon, n in ((32.6, 3), (37.0, 3), (34.0, 1)):
                det, _ = add_incident(det, f"{lon}-{day.date()}", f"{day.date()} 11:00", 0.5,
                                      lon=lon, lat=49.6, n=n)
    assert peacetime_rate(det, a, [2016, 2019]) == pytest.approx(7.0)
    # 2016: the west at war, 40 off it / s1; 2019: both, 10 off them / s2
    assert peacetime_rate(det, a, [2016, 2019], war_ground=war) == pytest.approx(
        (40 / s1 + 10 / s2) / 20)
    # a second period on a sliver keeps all its ground (70), unscaled, and says so
    sliver = WarGround((west, east), 0.1, 0.1,
                       ((west.start, s1, s1), (east.start, 0.1, 0.1)))
    assert peacetime_rate(det, a, [2016, 2019], war_ground=sliver) == pytest.approx(
        (40 / s1 + 70) / 20)
    said = sliver.note()
    assert said["left_out"] == [] and [p["left_out"] for p in said["periods"]] == [["west"], []]


def test_held_yardstick_records_each_reading() -> None:
    """`held`'s record says what each yardstick did with the ground at war: the contact
    zone's own share and reading, not the scope's (review of session 13, point 17 (f))."""
    import datetime as dt
    from types import SimpleNamespace

    from shapely import box

    from truceline import pipeline
    from truceline.analysis.baseline import Exclusion
    from truceline.analysis.peacetime import WarGround

    war = Exclusion("war", box(37.2, 46.5, 38.5, 48.5), dt.date(2014, 3, 1))
    ground = WarGround((war,), 0.5, 0.1)  # the zone lies almost all on the war ground
    det = pd.DataFrame()
    for day in pd.date_range("2019-08-21", "2019-08-30"):  # a day: 2 on war ground, 1 off
        det, _ = add_incident(det, f"w{day.day}", f"{day.date()} 11:00", 0.5, n=2, dist=2.0)
        det, _ = add_incident(det, f"o{day.day}", f"{day.date()} 11:00", 0.5, lon=36.5, n=1,
                              dist=2.0)
    lake = SimpleNamespace(detection_years=lambda _sensor: {2019})
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline, "peacetime_history", lambda *_a, **_k: {2019: det})
        total, detail = pipeline.peacetime_rate_for(
            lake, agreement(start="2021-08-21 00:00"), None, ["VIIRS"], war_ground=ground)
    scope, zone = detail["VIIRS"]["war_ground"], detail["VIIRS"]["zone_war_ground"]
    assert scope["left_out"] == ["war"] and scope["share_off"] == 0.5 and "scope" in scope["rate"]
    assert zone["left_out"] == [] and zone["share_off"] == 0.1 and "rate" not in zone
    assert "contact zone" in zone["why"]
    # the scope: the lower of 3 a day and 1 / 0.5; the zone keeps all its ground: 3 a day
    assert total == pytest.approx(2.0) and detail["zone_per_day"] == pytest.approx(3.0)


def test_war_ground_named_by_the_climatology() -> None:
    """assess reads the ground at war from the climatologies' recorded exclusions; a name
    this version does not know is refused (its ground would silently count as peace)."""
    from types import SimpleNamespace

    from truceline.analysis.baseline import DONBAS_2014
    from truceline.pipeline import war_exclusions

    clims = {"VIIRS": SimpleNamespace(exclusions=(DONBAS_2014.name,)),
             "MODIS": SimpleNamespace(exclusions=(DONBAS_2014.name,))}
    assert war_exclusions(clims, ["MODIS", "VIIRS"]) == (DONBAS_2014,)
    assert war_exclusions(clims, ["other"]) == ()
    with pytest.raises(InputError, match="'Crimea 2014'"):
        war_exclusions({"VIIRS": SimpleNamespace(exclusions=("Crimea 2014",))}, ["VIIRS"])


def test_placebo_study_on_peacetime() -> None:
    det = world(QUIET, start="2019-06-01", days=90, split="2030-01-01", seed=3)
    start0 = pd.Timestamp("2019-06-12")

    def make(rng: np.random.Generator) -> Agreement:
        s = start0 + pd.Timedelta(days=int(rng.integers(0, 60)))
        return agreement(start=f"{s:%Y-%m-%d} 00:00", days=int(rng.integers(2, 11)))

    res = placebo_study(det, None, make, n_windows=50, seed=1)
    assert res.n_windows == 50 and len(res.windows) == 50
    assert res.share_violated == 0.0
    assert res.share_rate_significant <= 0.15
    assert res.share_contrast_significant <= 0.15
    json.dumps(res.to_dict(), allow_nan=False)


def test_compare_control_maps_says_when_the_verdict_flips() -> None:
    a = agreement()
    quiet = run(a, world(QUIET), None, peacetime_rate_per_day=7.0)
    det, inc = add_incident(world(QUIET), "inc-1", "2025-08-24 11:12", 0.001)
    loud = run(a, det, inc, peacetime_rate_per_day=7.0, false_incident_rate_per_day=RARE)
    c = compare_control_maps({"deepstate": loud, "liveuamap": quiet})
    assert c["flips"] and "depends on the control map" in c["note"]
    assert [m["verdict"] for m in c["maps"]] == ["violated", "held"]
    same = compare_control_maps({"deepstate": quiet, "isw": quiet})
    assert not same["flips"] and "held with every map" in same["note"]
    json.dumps(c, allow_nan=False)


def test_enrich_style_columns_and_empty_frames() -> None:
    a = agreement()
    d = world(QUIET)[["lon", "lat", "acq_date", "t_utc", "side", "dist_km"]]
    d = d.rename(columns={"dist_km": "distance_km"})
    d["side"] = pd.Categorical(d["side"], categories=["ua", "ru", "third", "sea"])
    d["war"] = False  # anomaly.classify's name
    assert run(a, d, None, peacetime_rate_per_day=7.0).verdict == "held"
    empty = run(a, d.iloc[:0], None, peacetime_rate_per_day=7.0)
    assert empty.verdict == "inconclusive"  # no data is poor coverage, never held
    assert any("not estimable" in r for r in empty.reasons)
    json.dumps(empty.to_dict(), allow_nan=False)
    with pytest.raises(InputError, match="dist_km"):
        run(a, d.drop(columns="distance_km"), None)


def test_sector_scope_compares_with_the_same_sector() -> None:
    a = agreement(extra='[scope]\nsectors = ["tokmak"]\n')
    res = run(a, world(QUIET), None, peacetime_rate_per_day=4.0)
    assert res.verdict == "held"
    assert [r["key"] for r in res.rates if r["by"] == "sector"] == ["Tokmak"]
    control = next(r for r in res.rates if r["area"] == "control" and r["by"] == "all")
    ua_control = next(r for r in res.rates if r["area"] == "control" and r["key"] == "ua")
    assert ua_control["x_window"] == 0 and control["x_window"] > 0  # Tokmak is all 'ru'


def test_evidence_must_lie_inside_the_window() -> None:
    """An incident that began (p = 1e-4) before the window and goes on inside it with
    ordinary fire (p = 0.3) proves nothing about the window."""
    a = agreement()
    det, inc = add_incident(world(QUIET), "inc-long", "2025-08-20 11:00", 0.0001)
    later, _ = add_incident(world(QUIET).iloc[:0], "inc-long", "2025-08-22 11:00", 0.3)
    det = pd.concat([det, later.assign(detection_id=["late-0", "late-1", "late-2"])],
                    ignore_index=True)
    res = run(a, det, inc, peacetime_rate_per_day=7.0, false_incident_rate_per_day=RARE)
    assert res.verdict == "inconclusive"
    row = res.incidents[0]
    assert row["p_min"] == pytest.approx(0.0001) and row["p_min_window"] == pytest.approx(0.3)


def test_coverage_must_be_for_the_window() -> None:
    a = agreement()
    det = world(QUIET)
    other = assess_coverage(det, "2025-08-11", "2025-08-21")
    with pytest.raises(InputError, match="expected the agreement window"):
        assess(a, det, None, coverage=other)


def test_field_burning_far_away_raises_the_false_incident_rate() -> None:
    """Ten incidents in ten days prove a violation against the constant rate, but not in
    a week when the control band burns six times as much per km² (August stubble): the
    rate V1 weighs is measured in the window's own days (analysis.false_alarms)."""
    from truceline.analysis.false_alarms import window_false_rate

    a = agreement()
    det, incs = world(QUIET), []
    for k in range(10):
        det, i = add_incident(det, f"front-{k}", f"2025-08-{21 + k} 11:12", 0.001,
                              dist=3.0, lon=37.0 + 0.05 * k)
        incs.append(i)
    quiet_far = window_false_rate(det, a, 0.4, peacetime={"rate_per_day": None,
                                                         "why": "no leave-out climatology"})
    assert quiet_far["source"] == "floor" and quiet_far["control_incidents"] == 0
    alone = run(a, det, pd.concat(incs), peacetime_rate_per_day=7.0,
                false_incident_rate_per_day=quiet_far["rate_per_day"],
                false_incident_detail=quiet_far)
    assert alone.verdict == "violated" and alone.rule == "V1"
    # the report says the ground's peacetime rate was not measured, and why
    assert any("not measured in peacetime: no leave-out climatology" in r
               for r in alone.reasons)
    for k in range(60):  # six burning fields a day on the control band, p < 0.01 each
        det, i = add_incident(det, f"far-{k}", f"2025-08-{21 + k // 6} 11:12", 0.001,
                              dist=100.0, lon=36.0 + 0.01 * k)
        incs.append(i)
    burning = window_false_rate(det, a, 0.4)
    assert burning["control_incidents"] == 60 and burning["control_days"] == 10
    assert burning["rate_per_day"] == pytest.approx(60 / 10 * 0.4)
    assert burning["source"] == "control band, same days"
    judged = run(a, det, pd.concat(incs), peacetime_rate_per_day=7.0,
                 false_incident_rate_per_day=burning["rate_per_day"],
                 false_incident_detail=burning)
    assert judged.verdict != "violated"
    assert judged.false_alarms["control_incidents"] == 60
    assert any("60 incident(s) on the control band" in r for r in judged.reasons)


def test_fire_reaching_new_ground_at_the_line_day_after_day_is_days_of_evidence() -> None:
    """A town fought over for a week is one incident but seven days of evidence: one
    incident whose fire reaches new ground within 5 km of the line on 7 of the window's
    10 days, where peacetime gave 0.05 such days a day (0.5 expected), is a violation
    (P ~ 1e-6). A static source burning at one spot on the same 7 days (a landfill, works
    the climatology does not know) reached new ground once: nothing (P = 0.39). And when
    that ground's peacetime false alarms come as multi-day fires (dispersion 5), the
    moving fire's 7 days are no longer proof (P = 0.015)."""
    from truceline.analysis.false_alarms import window_false_rate

    a = agreement()
    base = world(QUIET)
    moving, static = [base], [base]
    for k in range(7):
        day = f"2025-08-{22 + k} 11:12"
        moving.append(add_incident(base.iloc[:0], "town", day, 0.001, dist=2.0,
                                   lon=37.5 + 0.02 * k)[0])
        static.append(add_incident(base.iloc[:0], "town", day, 0.001, dist=2.0)[0])
    inc = add_incident(base.iloc[:0], "town", "2025-08-22 11:12", 0.001, dist=2.0)[1]
    found = {}
    for name, parts, spread in (("moving", moving, 1.0), ("static", static, 1.0),
                                ("clustered", moving, 5.0)):
        det = pd.concat(parts, ignore_index=True)
        rate = window_false_rate(det, a, 0.4, peacetime={"rate_per_day": 0.4},
                                 near_ratio=0.05, near_peacetime={"rate_per_day": 0.05,
                                                                  "dispersion": spread})
        res = run(a, det, inc, peacetime_rate_per_day=7.0,
                  false_incident_rate_per_day=rate["rate_per_day"], false_incident_detail=rate)
        near = res.false_alarms["near"]
        assert near["unit"] == "new-ground day" and near["n_incidents"] == 1
        assert near["dispersion"] == spread
        found[name] = (res.verdict, near["n_new_ground_days"], near["p_value"])
    assert found["moving"][:2] == ("violated", 7) and found["moving"][2] < 1e-5
    assert found["static"][:2] == ("inconclusive", 1) and found["static"][2] > 0.3
    assert found["clustered"][:2] == ("inconclusive", 7)
    assert found["clustered"][2] == pytest.approx(0.0153, abs=1e-4)


@pytest.mark.parametrize("dist, verdict", [(2.0, "violated"), (20.0, "held")])
def test_incidents_at_the_line_prove_what_the_same_number_spread_out_does_not(
        dist: float, verdict: str) -> None:
    """Five proving incidents in ten days where peacetime false alarms give 0.4 a day
    over the whole scope (4 expected: P = 0.37) prove nothing by their number alone; but
    when they lie within 5 km of the line, where the same peacetime gave 0.02 a day,
    they do (rule V1's second test). 20 km from the line, as farm fires are, they do not,
    and being no more than false alarms give there, they do not stand in the way of
    `held` either."""
    from truceline.analysis.false_alarms import window_false_rate

    a = agreement()
    det, incs = world(QUIET), []
    for k in range(5):
        det, i = add_incident(det, f"line-{k}", f"2025-08-{22 + k} 11:12", 0.001,
                              dist=dist, lon=37.0 + 0.05 * k)
        incs.append(i)
    rate = window_false_rate(det, a, 0.4, peacetime={"rate_per_day": 0.4},
                             near_ratio=0.05, near_peacetime={"rate_per_day": 0.02})
    assert rate["rate_per_day"] == 0.4
    assert rate["near"]["rate_per_day"] == 0.02 and rate["near"]["km"] == 5.0
    # the floor of the contact zone is the constant's share of its area
    assert rate["near"]["floor_per_day"] == pytest.approx(0.1 * 0.05 / 0.4)
    res = run(a, det, pd.concat(incs), peacetime_rate_per_day=7.0,
              false_incident_rate_per_day=rate["rate_per_day"], false_incident_detail=rate)
    assert res.verdict == verdict
    near = res.false_alarms["near"]
    assert near["n_incidents"] == (5 if dist < 5 else 0)
    assert res.false_alarms["p_value"] > 0.3  # the whole scope's count alone
    if verdict == "violated":
        assert res.rule == "V1" and near["p_value"] < 0.005
        assert near["n_new_ground_days"] == 5
        assert any("5 of them burned within 5 km of the line, reaching new ground on 5 "
                   "incident-day(s) in all" in r for r in res.reasons)
        # without the contact zone's rate the scope test alone decides, at 0.01 as before
        alone = run(a, det, pd.concat(incs), peacetime_rate_per_day=7.0,
                    false_incident_rate_per_day=rate["rate_per_day"])
        assert alone.verdict == "inconclusive" and "near" not in alone.false_alarms
    else:
        assert res.rule == "H"
        assert any("none within 5 km of the line, no more than peacetime false alarms "
                   "explain" in r for r in res.reasons)
        # ... but only when every window day was seen: fighting may hide under the cloud
        # of a day the satellites missed
        sky = clear_sky(det)
        sky[pd.Timestamp("2025-08-30")] = 0.97  # overcast: the day does not count
        cov = assess_coverage(det, a.start_utc, a.end_utc, cloud=sky)
        assert cov.adequate and cov.days_counting == len(cov.days) - 1
        unseen = assess(a, det, pd.concat(incs), coverage=cov, peacetime_rate_per_day=7.0,
                        false_incident_rate_per_day=rate["rate_per_day"],
                        false_incident_detail=rate)
        assert unseen.verdict != "held"
        # nine such incidents are more than false alarms give (P = 0.02 < 0.05), though
        # too few to prove a violation (> 0.005): not held, inconclusive
        for k in range(4):
            det, i = add_incident(det, f"more-{k}", f"2025-08-{22 + k} 13:00", 0.001,
                                  dist=dist, lon=36.0 + 0.05 * k)
            incs.append(i)
        busy = run(a, det, pd.concat(incs), peacetime_rate_per_day=7.0,
                   false_incident_rate_per_day=rate["rate_per_day"], false_incident_detail=rate)
        assert 0.005 < busy.false_alarms["p_all_incidents"] < 0.05
        assert busy.verdict == "inconclusive"


def test_held_needs_peacetime_level_fire_at_the_line_too() -> None:
    """A quiet window by the whole scope's rate (8 a day against 7 in peacetime) but with
    two fires a day within 5 km of the line, where peacetime had 0.5: fighting
    concentrates at the line even when no detection is called war, so not `held`."""
    a = agreement()
    det = world(QUIET)
    for k in range(10):  # two ordinary fires a day at 2 km from the line, no incident
        det, _ = add_incident(det, f"x-{k}", f"2025-08-{21 + k} 10:30", 0.5, dist=2.0,
                              n=2, lon=37.2 + 0.01 * k)
    at_line = det["detection_id"].astype(str).str.startswith("x-")
    det.loc[at_line, "incident_id"] = None
    det.loc[at_line, "is_war"] = False
    quiet = run(a, det, None, peacetime_rate_per_day=8.0)
    assert quiet.verdict == "held"
    busy = run(a, det, None, peacetime_rate_per_day=8.0, peacetime_zone_rate_per_day=0.5)
    assert busy.verdict != "held" and busy.peacetime["zone"]["count_window"] == 20
    assert any("within 5 km of the line 2.00/day" in r for r in busy.reasons)
    calm = run(a, det, None, peacetime_rate_per_day=8.0, peacetime_zone_rate_per_day=2.5)
    assert calm.verdict == "held" and calm.peacetime["zone"]["compatible"]


def test_fire_seen_only_under_cloud_is_never_held() -> None:
    """Fighting timed to the weather: the window's front fire is seen only on its three
    cloudiest days (85 % cloud) and none on the seven clear ones. The front rate is below
    peacetime and 7 of 10 days count as seen, so every other `held` test passes; the fire's
    days are far cloudier than the clear-sky passes place them, so not `held`. The same
    number of fires on three clear days is `held`."""
    a = agreement()
    det = world(QUIET)
    day = det["acq_date"].dt.normalize()
    front = det["band"] == "5-15"
    cloudy_days = pd.date_range("2025-08-28", periods=3)
    cloud = pd.Series(0.1, index=pd.date_range("2025-08-01", "2025-09-30"))
    cloud[cloudy_days] = 0.85

    def judged(keep_days: pd.DatetimeIndex):
        inside = (day >= "2025-08-21") & (day < "2025-08-31")
        kept = det[~(front & inside & ~day.isin(keep_days))]
        cov = assess_coverage(kept, a.start_utc, a.end_utc, cloud=cloud)
        assert cov.adequate and cov.held_allowed and cov.days_counting == 7
        return assess(a, kept, None, coverage=cov, peacetime_rate_per_day=7.0)

    hidden = judged(cloudy_days)
    assert hidden.verdict != "held"
    uc = hidden.peacetime["under_cloud"]
    assert uc["flagged"] and uc["mean_cloud_fire"] == pytest.approx(0.85)
    assert uc["p_value"] < 0.01 and uc["shift"] > 0.5
    assert any("fire seen under cloud" in r for r in hidden.reasons)
    seen = judged(pd.date_range("2025-08-22", periods=3))
    assert seen.verdict == "held" and not seen.peacetime["under_cloud"]["flagged"]


def test_incidents_where_the_line_moved_are_named() -> None:
    """An incident on ground the maps show changing hands is a finding of its own: the
    reasons say how many lie there, whatever the verdict; without the column, none. Two
    incidents away from the line, no more than false alarms explain, leave a quiet front
    `held`, unless one lies where the line moved."""
    a = agreement()
    det = world(QUIET)
    det, inc1 = add_incident(det, "moved-1", "2025-08-23 10:30", 0.001)
    det, inc2 = add_incident(det, "still-1", "2025-08-25 10:30", 0.001, lon=37.9)
    inc = pd.concat([inc1, inc2], ignore_index=True)
    det["moved"] = det["incident_id"].eq("moved-1")
    res = run(a, det, inc, peacetime_rate_per_day=7.0)
    assert res.war_counts["incidents_on_moved_ground"] == 1
    assert any(r.startswith("1 of the 2 incident(s) in scope lie on ground that changed "
                            "hands") for r in res.reasons)
    plain = run(a, det.drop(columns="moved"), inc, peacetime_rate_per_day=7.0)
    assert plain.war_counts["incidents_on_moved_ground"] == 0
    assert not any("changed hands" in r for r in plain.reasons)
    assert plain.verdict == "held" and res.verdict == "inconclusive"
    assert any("the line moved there" in r for r in res.reasons)


def test_improbable_fire_where_the_line_moved_is_never_held() -> None:
    """A quiet front where the maps show ground changing hands under improbable fire is
    not `held`, whether or not the rule called that fire war: the line moved there. The
    same fire on ground that stayed put, or only ordinary fire on moved ground, or a
    works' usual fire, leaves `held` as it was."""
    a = agreement()
    det = world(QUIET)
    window = (det["acq_date"] >= "2025-08-21") & det["dist_km"].eq(10.0)
    first = det.index[window][:2]
    assert run(a, det, None, peacetime_rate_per_day=7.0).verdict == "held"
    moved = det.assign(moved=det.index.isin(first))
    assert run(a, moved, None, peacetime_rate_per_day=7.0).verdict == "held"  # p 0.5
    moved.loc[first, "p_natural"] = 0.01  # improbable, but no rule called it war
    res = run(a, moved, None, peacetime_rate_per_day=7.0)
    assert res.verdict != "held" and res.war_counts["moved_fire_possible"] == 2
    assert any("2 detection(s) of fire with p_natural < 0.05 in scope possibly inside "
               "the window lie on ground the control maps show changing hands" in r
               for r in res.reasons)
    still = moved.assign(moved=False)
    assert run(a, still, None, peacetime_rate_per_day=7.0).verdict == "held"
    works = moved.assign(test=np.where(moved.index.isin(first), "site-normal", None))
    assert run(a, works, None, peacetime_rate_per_day=7.0).verdict == "held"


def test_improbable_fire_the_maps_do_not_yet_reach_is_not_held() -> None:
    """On a truce's latest days the maps of two weeks later are not in yet: improbable
    fire there may lie where the line is moving, so `held` waits for those maps. Ordinary
    fire there, or improbable fire the maps reach, leaves `held` as it was."""
    a = agreement()
    det = world(QUIET)
    window = (det["acq_date"] >= "2025-08-21") & det["dist_km"].eq(10.0)
    first = det.index[window][:3]
    unknown = det.assign(moved_known=~det.index.isin(first))
    assert run(a, unknown, None, peacetime_rate_per_day=7.0).verdict == "held"  # p 0.5
    unknown.loc[first, "p_natural"] = 0.01
    res = run(a, unknown, None, peacetime_rate_per_day=7.0)
    assert res.verdict != "held" and res.war_counts["moved_unknown_possible"] == 3
    assert any("3 detection(s) of fire with p_natural < 0.05 in scope possibly inside "
               "the window lie on days the control maps do not reach 14 days either side "
               "of" in r for r in res.reasons)
    known = unknown.assign(moved_known=True)
    assert run(a, known, None, peacetime_rate_per_day=7.0).verdict == "held"
    assert run(a, unknown.drop(columns="moved_known"), None,
               peacetime_rate_per_day=7.0).verdict == "held"  # enriched before the column


def test_a_violation_says_when_it_rests_on_the_moving_front_test() -> None:
    """Incidents only the moving-front test called war are the maps' evidence as much as
    the fire's: a violation that would not stand without them says so, with the verdict
    it would be; one that stands without them does not."""
    a = agreement()
    det, incs = world(QUIET), []
    for k in range(10):  # ten proving incidents, at the line, on ten days
        det, i = add_incident(det, f"inc-{k}", f"2025-08-{21 + k} 11:12", 0.001,
                              lon=37.0 + 0.1 * k)
        incs.append(i)
    inc = pd.concat(incs, ignore_index=True)
    det["test"] = np.where(det["is_war"], "excess", None)
    by_maps = det["incident_id"].isin([f"inc-{k}" for k in range(8)])
    det.loc[by_maps, "test"] = "moved"
    res = run(a, det, inc, peacetime_rate_per_day=7.0)
    assert res.verdict == "violated" and res.rule == "V1"
    assert res.war_counts["incidents_moved_test_only"] == 8
    assert res.false_alarms["without_moved_test"]["verdict"] != "violated"
    assert any("rests on the control maps' motion" in r for r in res.reasons)
    # one incident of several tests is not the maps' alone; two by the maps leave eight
    det.loc[det["incident_id"].eq("inc-0") & det["detection_id"].str.endswith("-0"),
            "test"] = "excess"
    det.loc[by_maps & ~det["incident_id"].isin(["inc-0", "inc-1"]), "test"] = "excess"
    stands = run(a, det, inc, peacetime_rate_per_day=7.0)
    assert stands.verdict == "violated"
    assert stands.war_counts["incidents_moved_test_only"] == 1
    assert stands.false_alarms["without_moved_test"]["verdict"] == "violated"
    assert not any("rests on the control maps' motion" in r for r in stands.reasons)
    # without the column (a detector that does not say), nothing is claimed either way
    plain = run(a, det.drop(columns="test"), inc, peacetime_rate_per_day=7.0)
    assert plain.war_counts["incidents_moved_test_only"] == 0
    assert "without_moved_test" not in plain.false_alarms

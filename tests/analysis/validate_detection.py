"""Measure the detection stage on the real data: placebo, war, rear, August 2025.

Run ``python tests/analysis/validate_detection.py`` to print the figures quoted in
docs/VALIDATION.md ("Detection") and redraw docs/img/detection_*.png; the tests in
test_validation.py assert the same outcomes through :func:`measure`.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import h3
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

import frontline  # noqa: E402

import conftest as data  # noqa: E402
from truceline.analysis.anomaly import classify, score_cell_days  # noqa: E402
from truceline.analysis.baseline import (  # noqa: E402
    DEFAULT_YEARS,
    Climatology,
    build_climatologies,
    cells_of,
)
from truceline.analysis.incidents import cluster_incidents  # noqa: E402

SOUTH = ("UA23", "UA65")  # Zaporizhzhia, Kherson
PLACEBO_YEARS = (2018, 2019, 2020, 2021)
HISTORY = range(2000, 2024)


def south_area_km2() -> float:
    """Area of Zaporizhzhia + Kherson oblasts from the 0.1° grid (cells x cell area)."""
    g = data.oblast_grid()
    s = g[g["OBLAST_ID"].isin(SOUTH)]
    return float((111.32 * 0.1) ** 2 * np.cos(np.radians(s["LATITUDE"])).sum())


def enrich_aug2025(a: pd.DataFrame) -> pd.DataFrame:
    """Side, signed distance, sector and place from truceline.geo on the DeepState map of
    15 August 2025 (the line moved little within the 21 days); dist_km = |distance|."""
    import geopandas as gpd
    import shapely

    from truceline.geo.enrich import enrich

    root = data.data_root()
    g = gpd.read_file(root / "frontline" / "deepstate" / "deepstatemap_data_20250815.geojson")
    snap = gpd.GeoDataFrame([{
        "snapshot_id": "deepstate-20250815", "source": "deepstate",
        "valid_from": pd.Timestamp("2025-08-01"), "party": "ru", "crimea_missing": False,
        "geometry": shapely.make_valid(shapely.union_all(g.geometry.to_numpy()))}],
        geometry="geometry", crs="EPSG:4326")
    e = pd.DataFrame(enrich(a, snap).drop(columns="geometry"))
    e["dist_km"] = e["distance_km"].abs()
    return e


def _expected_vs_observed(ao: pd.DataFrame, clim) -> tuple[float, int]:
    """Fire cell-days the VIIRS climatology expects on ground > 150 km from the line
    (all its cells there, every day of the period) and those NOAA-20 saw there."""
    from truceline.analysis.baseline import day_of_year
    days = pd.date_range(ao["acq_date"].min(), ao["acq_date"].max())
    doy = day_of_year(pd.Series(days)) - 1
    latlng = np.array([h3.cell_to_latlng(c) for c in clim.cells.tolist()])
    dist = frontline.distance_to_line_km(latlng[:, 1], latlng[:, 0],
                                         pd.Series([days[len(days) // 2]] * len(latlng)))
    rear_cells = clim.cells[dist > 150]
    expected = float(clim.p[np.ix_(np.flatnonzero(dist > 150), doy)].sum())
    seen = ao[np.isin(ao["cell"], rear_cells)]
    observed = int(seen.groupby(["cell", "acq_date"]).ngroups)
    return expected, observed


def measure(history: pd.DataFrame | None = None, rule: str = "seasonal",
            compare: tuple[str, ...] = ("economist",),
            leave_out: Mapping[str, Climatology] | None = None) -> dict[str, object]:
    """All validation figures as a dict; also returns frames under keys starting '_'.

    ``leave_out``: the climatologies without the placebo years, when already built from
    the same history (the tests share one build with the placebo study)."""
    t0 = time.time()
    hist = history if history is not None else data.load_years(HISTORY)
    if "h3" not in hist.columns:  # index the points once for every build and run
        hist = hist.assign(h3=cells_of(hist["lon"].to_numpy(), hist["lat"].to_numpy(), 6))
    out: dict[str, object] = {}
    clim = build_climatologies(hist)
    out["t_build_s"] = round(time.time() - t0, 1)

    # --- placebo: 2018-2021 with a climatology that leaves them out -------------------
    years_lo = {s: tuple(y for y in DEFAULT_YEARS[s] if y not in PLACEBO_YEARS)
                for s in DEFAULT_YEARS}
    clim_lo = leave_out if leave_out is not None else build_climatologies(hist, years=years_lo)
    area = south_area_km2()
    plac = []
    plac_war = []
    for y in PLACEBO_YEARS:
        d = hist[hist["acq_date"].dt.year == y]
        o = classify(d, clim_lo, rule)
        o["oblast"] = data.oblast_of(o["lon"].to_numpy(), o["lat"].to_numpy())
        s = o[np.isin(o["oblast"], SOUTH)]
        wcd = s[s["war"]].groupby(["sensor", "cell", "acq_date"]).size()
        plac_war.append(s[s["war"]])
        inc, _ = cluster_incidents(s)
        row = {"year": y, "detections": len(s), "war_detections": int(s["war"].sum()),
               "war_cell_days": len(wcd), "incidents": len(inc)}
        for r in compare:
            row[f"war_detections_{r}"] = int(classify(d, clim_lo, r)
                                             .loc[s.index, "war"].sum())
        plac.append(row)
        if y == PLACEBO_YEARS[-1]:
            out["_placebo_incidents"] = inc
    plac_df = pd.DataFrame(plac)
    pw = pd.concat(plac_war)
    out["placebo_war_by_month"] = pw["acq_date"].dt.month.value_counts().sort_index().to_dict()
    out["placebo_war_by_sensor"] = pw["sensor"].value_counts().to_dict()
    spot = (pw["lon"].round(1).map("{:.1f}E".format) + " "
            + pw["lat"].round(1).map("{:.1f}N".format))
    out["placebo_war_top_places"] = spot.value_counts().head(8).to_dict()
    out["_placebo_war"] = pw
    out["placebo"] = plac_df.to_dict(orient="records")
    out["placebo_area_km2"] = round(area)
    out["placebo_rate_per_1000km2_year"] = round(
        plac_df["war_cell_days"].sum() / (area / 1000) / len(PLACEBO_YEARS), 3)

    # --- war and rear: 2022-2023 -----------------------------------------------------
    d = hist[hist["acq_date"].dt.year.isin([2022, 2023])].copy()
    d["dist_km"] = frontline.distance_to_line_km(d["lon"].to_numpy(), d["lat"].to_numpy(),
                                                 d["acq_date"])
    d["oblast"] = data.oblast_of(d["lon"].to_numpy(), d["lat"].to_numpy())
    scores = score_cell_days(d, clim)
    o = classify(d, clim, rule, scores=scores)
    rear = o["dist_km"].to_numpy() > 150
    south = np.isin(o["oblast"], SOUTH)
    war_rows = []
    for y in (2022, 2023):
        yy = (o["acq_date"].dt.year == y).to_numpy()
        s = o[south & yy]
        inc, _ = cluster_incidents(s)
        near = inc["dist_km"] <= 15 if len(inc) else pd.Series(dtype=bool)
        row = {"year": y, "south_detections": int(len(s)),
               "south_war_detections": int(s["war"].sum()),
               "south_incidents": len(inc), "incidents_within_15km": int(near.sum()),
               "share_war_detections_within_15km": round(
                   float((s.loc[s["war"], "dist_km"] <= 15).mean()), 3),
               "share_detections_within_15km": round(float((s["dist_km"] <= 15).mean()), 3),
               "south_war_cell_days_per_1000km2": round(
                   len(s[s["war"]].groupby(["sensor", "cell", "acq_date"])) / (area / 1000),
                   1),
               "rear_detections": int((rear & yy).sum()),
               "rear_war_share": round(float(o["war"].to_numpy()[rear & yy].mean()), 4)}
        for r in compare:
            oc = classify(d, clim, r, scores=scores)
            row[f"rear_war_share_{r}"] = round(float(oc["war"].to_numpy()[rear & yy].mean()),
                                               4)
            row[f"south_war_detections_{r}"] = int(oc["war"].to_numpy()[south & yy].sum())
        war_rows.append(row)
        out[f"_war_incidents_{y}"] = inc
    out["war_rear"] = war_rows
    out["_classified_2022_2023"] = o

    # --- August 2025, NOAA-20 against the VIIRS (S-NPP) climatology -------------------
    a = enrich_aug2025(data.load_noaa20_2025())
    ao = classify(a, clim, rule)
    inc, _ = cluster_incidents(ao)
    rear25 = ao["dist_km"] > 150
    # Calibration of NOAA-20 against the S-NPP climatology on ground > 150 km from the
    # line: fire cell-days seen over those expected (sum of p over the same cells-days).
    exp_cd, obs_cd = _expected_vs_observed(ao, clim["VIIRS"])
    out["aug2025"] = {
        "detections": len(ao), "war_detections": int(ao["war"].sum()),
        "incidents": len(inc),
        "incidents_within_15km": int((inc["dist_km"] <= 15).sum()) if len(inc) else 0,
        "incidents_over_150km": int((inc["dist_km"] > 150).sum()) if len(inc) else 0,
        "rear_detections": int(rear25.sum()),
        "rear_war_share": round(float(ao.loc[rear25, "war"].mean()), 4),
        "rear_fire_cell_days_observed": obs_cd,
        "rear_fire_cell_days_expected": round(exp_cd, 1),
        "war_detections_by_sector": ao[ao["war"]]["sector"].value_counts().head(12).to_dict(),
        "incidents_by_sector": inc["sector"].value_counts().head(12).to_dict()
        if len(inc) else {},
    }
    for r in compare:
        out["aug2025"][f"rear_war_share_{r}"] = round(
            float(classify(a, clim, r).loc[rear25, "war"].mean()), 4)
    out["_aug2025"] = ao
    out["_aug2025_incidents"] = inc
    out["t_total_s"] = round(time.time() - t0, 1)
    return out


def plots(res: dict[str, object], outdir: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outdir.mkdir(parents=True, exist_ok=True)
    o = res["_classified_2022_2023"]
    g = data.oblast_grid()
    fig, axes = plt.subplots(1, 2, figsize=(14, 5.5))
    for ax, y in zip(axes, (2022, 2023), strict=True):
        s = o[o["acq_date"].dt.year == y]
        ax.scatter(g["LONGITUDE"], g["LATITUDE"], s=0.2, c="0.9", lw=0)
        ax.scatter(s.loc[~s["war"], "lon"], s.loc[~s["war"], "lat"], s=0.3, c="0.55", lw=0,
                   label="not war (farm, wild, industrial)")
        ax.scatter(s.loc[s["war"], "lon"], s.loc[s["war"], "lat"], s=0.6, c="crimson", lw=0,
                   label="war fire (seasonal rule)")
        ax.axvline(31, color="steelblue", lw=0.8, ls="--")
        ax.set_title(f"{y}: {int(s['war'].sum()):,} of {len(s):,} detections classified war")
        ax.set_xlabel("lon")
        ax.set_ylabel("lat")
        ax.legend(loc="lower left", markerscale=12, fontsize=8)
    fig.tight_layout()
    fig.savefig(outdir / "detection_2022_2023_map.png", dpi=90)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4))
    w = o[o["war"] & np.isin(o["oblast"], SOUTH)]
    a = o[np.isin(o["oblast"], SOUTH)]
    bins = np.arange(0, 201, 5)
    ax.hist(a["dist_km"].clip(upper=200), bins=bins, color="0.7",
            label="all detections", density=True)
    ax.hist(w["dist_km"].clip(upper=200), bins=bins, color="crimson", alpha=0.7,
            label="war fire", density=True)
    ax.set_xlabel("distance to the line that week (km)")
    ax.set_ylabel("density")
    ax.set_title("Zaporizhzhia & Kherson, 2022-2023")
    ax.legend()
    fig.tight_layout()
    fig.savefig(outdir / "detection_south_distance.png", dpi=90)
    plt.close(fig)

    ao = res["_aug2025"]
    fig, ax = plt.subplots(figsize=(7, 5.5))
    ax.scatter(g["LONGITUDE"], g["LATITUDE"], s=0.2, c="0.9", lw=0)
    ax.scatter(ao.loc[~ao["war"], "lon"], ao.loc[~ao["war"], "lat"], s=1, c="0.55", lw=0,
               label="not war")
    ax.scatter(ao.loc[ao["war"], "lon"], ao.loc[ao["war"], "lat"], s=2, c="crimson", lw=0,
               label="war fire")
    ax.set_title("VIIRS NOAA-20, 11-31 August 2025")
    ax.legend(loc="lower left", markerscale=6)
    fig.tight_layout()
    fig.savefig(outdir / "detection_aug2025.png", dpi=90)
    plt.close(fig)


ABLATION = ("economist", "economist+hotspots", "economist-strict", "seasonal-local",
            "seasonal-wide")


def main() -> None:
    res = measure(compare=ABLATION)
    pub = {k: v for k, v in res.items() if not k.startswith("_")}
    print(json.dumps(pub, indent=1, default=str))
    inc = res["_aug2025_incidents"]
    if len(inc):
        print(inc.groupby("sector")["n_detections"].agg(["size", "sum"])
              .sort_values("sum", ascending=False).head(15))
    plots(res, Path(__file__).resolve().parents[2] / "docs" / "img")


if __name__ == "__main__":
    main()

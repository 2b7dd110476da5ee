"""The evidence a verdict rests on: the incidents in scope during the window, with the
ground they lie on and the p-values that count inside the window, and fire at protected
sites."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["incident_table", "scope_incidents", "site_hits"]


def incident_table(det: pd.DataFrame, incidents: pd.DataFrame | None, ids: Sequence[str]
                    ) -> pd.DataFrame:
    """Incident rows for ``ids``: from ``incidents`` where given, else rebuilt from the
    detections (p_min = lowest p_natural)."""
    cols = ["incident_id", "t_start", "t_end", "lon", "lat", "side", "dist_km", "sector",
            "p_min", "n_detections"]
    have = pd.DataFrame(columns=cols)
    if incidents is not None and len(incidents):
        inc = incidents.copy()
        if "dist_km" not in inc and "distance_km" in inc:
            inc = inc.rename(columns={"distance_km": "dist_km"})
        if "p_min" not in inc and "p_natural_min" in inc:  # incidents.cluster_incidents
            inc = inc.rename(columns={"p_natural_min": "p_min"})
        inc["incident_id"] = inc["incident_id"].astype(str)
        have = inc[inc["incident_id"].isin(ids)]
        have = have.reindex(columns=[c for c in cols if c in have.columns] +
                            [c for c in have.columns if c not in cols])
    known = set(have["incident_id"])
    missing = [i for i in ids if i not in known]
    if missing:
        d = det[det["incident_id"].astype(str).isin(missing)]
        t_or_day = d["t"].fillna(d["date"].dt.tz_localize("UTC"))
        g = d.assign(_t=t_or_day).groupby(d["incident_id"].astype(str))
        rebuilt = pd.DataFrame({
            "incident_id": g.size().index,
            "t_start": g["_t"].min().to_numpy(), "t_end": g["_t"].max().to_numpy(),
            "lon": g["lon"].mean().to_numpy(), "lat": g["lat"].mean().to_numpy(),
            "side": g["side"].agg(lambda s: s.mode().iat[0] if s.notna().any() else None)
            .to_numpy(),
            "dist_km": g["dist_km"].median().to_numpy(),
            "sector": g["sector"].agg(lambda s: s.mode().iat[0] if s.notna().any() else None)
            .to_numpy(),
            "p_min": g["p_natural"].min().to_numpy(), "n_detections": g.size().to_numpy(),
        })
        have = pd.concat([have, rebuilt], ignore_index=True) if len(have) else rebuilt
    return have


def scope_incidents(det: pd.DataFrame, incidents: pd.DataFrame | None, scope: np.ndarray,
                     certain: np.ndarray, possible: np.ndarray) -> list[dict[str, Any]]:
    """Incidents with at least one detection in scope possibly inside the window."""
    has = det["incident_id"].notna().to_numpy() if det["incident_id"] is not None else \
        np.zeros(len(det), dtype=bool)
    m = has & scope & possible
    if not m.any():
        return []
    sel = det[m].assign(_certain=certain[m])
    g = sel.groupby(sel["incident_id"].astype(str))
    inside = g["_certain"].any()
    n_in = g.size()
    # the evidence for the window: the lowest p_natural among the incident's detections
    # that are in scope and certainly inside it (an incident that began before the
    # window does not carry its earlier p-values into it)
    p_win = sel["p_natural"].where(sel["_certain"]).groupby(sel["incident_id"].astype(str)) \
        .min()
    table = incident_table(det, incidents, list(inside.index)).set_index("incident_id")
    p_all = None  # each incident's lowest p_natural over all its detections, when needed
    rows = []
    for iid in inside.index:  # incidents, not detections
        r = table.loc[iid]
        if pd.notna(r["p_min"]):
            p_min = float(r["p_min"])
        else:
            if p_all is None:
                p_all = det.groupby(det["incident_id"].astype(str))["p_natural"].min()
            p_min = float(p_all.get(iid, math.nan))
        p_w = float(p_win.get(iid, math.nan))
        p_min = p_min if math.isfinite(p_min) else 1.0
        rows.append({
            "incident_id": iid,
            "timing": "inside" if bool(inside[iid]) else "overlaps",
            "p_min": p_min,
            "p_min_window": p_w if math.isfinite(p_w) else None,
            "p_evidence": p_w if math.isfinite(p_w) else p_min,
            "side": None if pd.isna(r.get("side")) else str(r.get("side")),
            "dist_km": float(r["dist_km"]) if pd.notna(r.get("dist_km")) else None,
            "sector": None if pd.isna(r.get("sector")) else str(r.get("sector")),
            "t_start": r.get("t_start"), "t_end": r.get("t_end"),
            "lon": float(r["lon"]), "lat": float(r["lat"]),
            "n_detections": int(r["n_detections"]) if pd.notna(r.get("n_detections"))
            else None,
            "n_detections_in_scope_window": int(n_in[iid]),
        })
    rows.sort(key=lambda r: (r["timing"] != "inside", r["p_evidence"]))
    return rows


def site_hits(det: pd.DataFrame, incidents: pd.DataFrame | None, sites: Any,
               certain: np.ndarray, possible: np.ndarray) -> list[dict[str, Any]]:
    """Fire within a protected site's radius possibly inside the window, grouped by
    incident (or per detection when it is in none), with its lowest p_natural."""
    from truceline.sources.sites import match_sites

    cand = np.flatnonzero(possible)
    if cand.size == 0:
        return []
    pos, dist_m = match_sites(sites, det["lon"].to_numpy()[cand], det["lat"].to_numpy()[cand])
    hit = pos >= 0
    if not hit.any():
        return []
    idx = cand[hit]
    sub = det.iloc[idx].assign(_site=pos[hit], _d=dist_m[hit], _certain=certain[idx])
    inc_p: dict[str, float] = {}
    ids = sorted({str(i) for i in sub["incident_id"].dropna()}) \
        if sub["incident_id"] is not None else []
    if ids:
        t = incident_table(det, incidents, ids)
        inc_p = {str(i): float(p) for i, p in zip(t["incident_id"], t["p_min"], strict=True)}
    key = np.where(sub["incident_id"].notna(), sub["incident_id"].astype(str),
                   "detection:" + sub["detection_id"].astype(str))
    rows = []
    names = sites["name"].to_numpy(dtype=object)
    kinds = sites["kind"].to_numpy(dtype=object) if "kind" in sites else \
        np.full(len(sites), None, dtype=object)
    for k, grp in sub.groupby(key):
        site_i = int(grp["_site"].iloc[int(np.argmin(grp["_d"].to_numpy()))])
        # evidence inside the window first, as for incidents near the line
        p = float(grp["p_natural"].where(grp["_certain"]).min())
        if not math.isfinite(p):
            p = inc_p.get(str(k), float(grp["p_natural"].min()))
        p = p if math.isfinite(p) else 1.0
        rows.append({
            "key": str(k),
            "incident_id": None if str(k).startswith("detection:") else str(k),
            "site": str(names[site_i]), "kind": kinds[site_i],
            "distance_m": float(grp["_d"].min()),
            "timing": "inside" if bool(grp["_certain"].any()) else "overlaps",
            "p": p,
            "side": None if grp["side"].isna().all() else str(grp["side"].mode().iat[0]),
            "n_detections": len(grp),
            "detection_ids": grp["detection_id"].astype(str).tolist()[:50],
        })
    rows.sort(key=lambda r: (r["timing"] != "inside", r["p"]))
    return rows



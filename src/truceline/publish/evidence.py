"""Evidence a reader can check without our lake: each incident's FIRMS rows and timing.

A journalist given "incident inc-3a9d… near Kozachi Laheri" must be able to find the
fires in NASA's own files. So each incident gets, from the detections it was built
from: its first and last UTC time to the minute (where FIRMS gives a time; date-only
files give the day), its fire radiative power, satellites, day/night passes, how many
of its detections fell inside the agreement's window and whether it lay before, inside
or after that window; and each detection keeps the FIRMS fields a reader searches for
(latitude, longitude, acq_date, acq_time, satellite, instrument).

Pure functions of DataFrames: no file is read here (``exports`` writes them).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from truceline.errors import InputError

__all__ = [
    "DETECTION_COLUMNS",
    "EVIDENCE_COLUMNS",
    "SIDE_NAMES",
    "TIMINGS",
    "detection_id_list",
    "detection_table",
    "evidence_rows",
    "incident_evidence",
    "utc_window",
]

#: How an incident stands to the agreement's window, in words a reader can use.
TIMINGS: dict[str, str] = {
    "before": "before the window",
    "inside": "inside the window",
    "possibly inside": "possibly inside the window (FIRMS gave the day, not the time)",
    "after": "after the window",
    "unknown": "timing unknown",
}
#: Side codes spelled out (where the fire was, by the control map; never who fired).
SIDE_NAMES: dict[str, str] = {"ua": "Ukrainian-held ground", "ru": "Russian-held ground",
                              "third": "a third country", "sea": "sea"}
#: The FIRMS fields of each evidence row, as FIRMS names them, then ours.
EVIDENCE_COLUMNS: tuple[str, ...] = (
    "incident_id", "detection_id", "latitude", "longitude", "acq_date", "acq_time",
    "satellite", "instrument", "confidence", "frp", "daynight", "in_window", "p_natural",
    "source_file", "source_line",
)
#: The detection export: FIRMS fields, where the fire lay, the war call and its period.
DETECTION_COLUMNS: tuple[str, ...] = (
    "detection_id", "latitude", "longitude", "acq_date", "acq_time", "t_utc", "satellite",
    "instrument", "confidence", "frp", "daynight", "side", "side_name", "distance_km",
    "band", "sector", "place", "p_natural", "war_fire", "hot_spot", "incident_id",
    "period", "source_file", "source_line",
)


def utc_window(window: tuple[Any, Any] | None) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """(start, end) as UTC timestamps, or None; naive values are taken as UTC.

    >>> utc_window(("2023-01-06T09:00:00Z", "2023-01-07 21:00"))[1]
    Timestamp('2023-01-07 21:00:00+0000', tz='UTC')
    """
    if window is None:
        return None
    try:
        start, end = (pd.Timestamp(w) for w in window)
    except (TypeError, ValueError) as exc:
        raise InputError(f"window = {window!r}: expected (start, end) instants") from exc
    start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
    end = end.tz_localize("UTC") if end.tzinfo is None else end.tz_convert("UTC")
    return start, end


def _times(det: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(UTC instant or NaT, UTC day) of each detection."""
    if "t_utc" in det:
        t = pd.to_datetime(det["t_utc"], utc=True, errors="coerce")
    else:
        t = pd.Series(pd.NaT, index=det.index, dtype="datetime64[ns, UTC]")
    if "time_known" in det:
        t = t.where(det["time_known"].fillna(False).astype(bool))
    if "acq_date" in det:
        day = pd.to_datetime(det["acq_date"], errors="coerce")
        day = day.dt.tz_localize("UTC") if day.dt.tz is None else day.dt.tz_convert("UTC")
    else:
        day = t.dt.floor("D")
    return t, day.dt.floor("D")


def _in_window(det: pd.DataFrame, window: tuple[pd.Timestamp, pd.Timestamp] | None,
               ) -> tuple[pd.Series, pd.Series]:
    """(surely inside, possibly inside) the window for each detection.

    A timed detection is inside when start <= t < end. A date-only one is surely inside
    when its whole UTC day is, possibly inside when its day only overlaps the window.
    """
    if window is None:
        false = pd.Series(False, index=det.index)
        return false, false
    w0, w1 = window
    t, day = _times(det)
    timed = t.notna()
    inside = timed & (t >= w0) & (t < w1)
    whole = ~timed & (day >= w0) & (day + pd.Timedelta(days=1) <= w1)
    overlaps = ~timed & (day < w1) & (day + pd.Timedelta(days=1) > w0)
    return inside | whole, overlaps & ~whole


def _incident_of(incidents: pd.DataFrame, detections: pd.DataFrame) -> pd.DataFrame:
    """(incident_id, detection row) pairs from the incidents' detection_ids lists."""
    if "detection_ids" not in incidents or "incident_id" not in incidents:
        return pd.DataFrame({"incident_id": pd.Series(dtype="string"),
                             "detection_id": pd.Series(dtype="string")})
    ids = incidents[["incident_id", "detection_ids"]].copy()
    ids["detection_ids"] = ids["detection_ids"].map(detection_id_list)
    pairs = ids.explode("detection_ids").dropna(subset=["detection_ids"])
    pairs = pairs.rename(columns={"detection_ids": "detection_id"})
    pairs["incident_id"] = pairs["incident_id"].astype(str)
    pairs["detection_id"] = pairs["detection_id"].astype(str)
    return pairs.reset_index(drop=True)


def detection_id_list(value: Any) -> list[str]:
    """An incident's ``detection_ids`` as a list, from a list or a ``;``-joined string.

    >>> detection_id_list("v1;v2;"), detection_id_list(None)
    (['v1', 'v2'], [])
    """
    if isinstance(value, str):
        return [s for s in value.split(";") if s]
    if isinstance(value, (list, tuple, np.ndarray)):
        return [str(s) for s in value]
    return []


def _firms_fields(det: pd.DataFrame) -> pd.DataFrame:
    """latitude, longitude, acq_date (YYYY-MM-DD), acq_time (HHMM, blank when unknown)."""
    t, day = _times(det)
    out = pd.DataFrame(index=det.index)
    out["latitude"] = pd.to_numeric(det.get("lat"), errors="coerce").round(6)
    out["longitude"] = pd.to_numeric(det.get("lon"), errors="coerce").round(6)
    out["acq_date"] = day.dt.strftime("%Y-%m-%d").astype("string")
    out["acq_time"] = t.dt.strftime("%H%M").astype("string")
    out["t_utc"] = t.dt.strftime("%Y-%m-%dT%H:%MZ").astype("string")
    for src, dst in (("satellite", "satellite"), ("sensor", "instrument"),
                     ("daynight", "daynight"), ("source_file", "source_file")):
        out[dst] = det[src].astype("string") if src in det else pd.Series(
            pd.NA, index=det.index, dtype="string")
    for col in ("confidence", "frp", "p_natural"):
        out[col] = pd.to_numeric(det[col], errors="coerce") if col in det else np.nan
    out["source_line"] = (pd.to_numeric(det["source_line"], errors="coerce").astype("Int64")
                          if "source_line" in det else pd.array([pd.NA] * len(det),
                                                                dtype="Int64"))
    return out


def evidence_rows(incidents: pd.DataFrame, detections: pd.DataFrame | None,
                  window: tuple[Any, Any] | None = None) -> pd.DataFrame:
    """One row per (incident, detection): the FIRMS fields a reader looks up.

    Detections the table does not hold (an incident from another run) are left out;
    the incident keeps its ids, so nothing is invented.
    """
    empty = pd.DataFrame({c: pd.Series(dtype="object") for c in EVIDENCE_COLUMNS})
    if detections is None or incidents is None or len(incidents) == 0 or len(detections) == 0:
        return empty
    if "detection_id" not in detections:
        raise InputError("detections: no 'detection_id' column: expected the detections "
                         "the incidents were built from")
    pairs = _incident_of(incidents, detections)
    det = detections.drop_duplicates("detection_id").set_index(
        detections.drop_duplicates("detection_id")["detection_id"].astype(str))
    pairs = pairs[pairs["detection_id"].isin(det.index)]
    if pairs.empty:
        return empty
    rows = det.loc[pairs["detection_id"].to_numpy()]
    fields = _firms_fields(rows.reset_index(drop=True))
    surely, maybe = _in_window(rows.reset_index(drop=True), utc_window(window))
    fields["in_window"] = np.where(surely, "yes", np.where(maybe, "possibly", "no"))
    fields.insert(0, "detection_id", pairs["detection_id"].to_numpy())
    fields.insert(0, "incident_id", pairs["incident_id"].to_numpy())
    fields = fields.sort_values(["incident_id", "acq_date", "acq_time", "detection_id"],
                                kind="stable", na_position="first")
    return fields[list(EVIDENCE_COLUMNS)].reset_index(drop=True)


def incident_evidence(incidents: pd.DataFrame, detections: pd.DataFrame | None,
                      window: tuple[Any, Any] | None = None) -> pd.DataFrame:
    """The incidents with what their detections show, one column per fact.

    Adds ``t_first``/``t_last`` (UTC, to the minute where FIRMS gives a time),
    ``time_known`` (every detection timed), ``n_in_window`` (detections surely inside
    the window), ``timing`` (before, inside, possibly inside, after; see `TIMINGS`),
    ``frp_total``/``frp_max`` (MW), ``satellites``, ``daynight`` (D, N or D+N) and
    ``side_name``. Without detections the times fall back to the incident's own
    ``t_start``/``t_end`` days.
    """
    if incidents is None:
        return pd.DataFrame()
    inc = pd.DataFrame(incidents).copy()
    w = utc_window(window)
    n = len(inc)
    for col in ("t_start", "t_end"):
        if col in inc:
            inc[col] = pd.to_datetime(inc[col], utc=True, errors="coerce")
    inc["t_first"] = inc["t_start"] if "t_start" in inc else pd.NaT
    inc["t_last"] = inc["t_end"] if "t_end" in inc else pd.NaT
    inc["time_known"] = False
    inc["n_in_window"] = pd.array([pd.NA] * n, dtype="Int64")
    inc["n_possibly_in_window"] = pd.array([pd.NA] * n, dtype="Int64")
    inc["frp_total"] = np.nan
    inc["frp_max"] = np.nan
    inc["satellites"] = pd.array([pd.NA] * n, dtype="string")
    inc["daynight"] = pd.array([pd.NA] * n, dtype="string")
    if n and detections is not None and len(detections) and "incident_id" in inc:
        pairs = _incident_of(inc, detections)
        det = detections.drop_duplicates("detection_id")
        det = det.assign(detection_id=det["detection_id"].astype(str))
        rows = pairs.merge(det, on="detection_id", how="inner", suffixes=("", "_det"))
        if len(rows):
            t, day = _times(rows)
            surely, maybe = _in_window(rows, w)
            # the first instant: the earliest timed detection, else the earliest day
            rows = rows.assign(_t=t, _day=day, _end=t.fillna(day + pd.Timedelta(
                hours=23, minutes=59)), _start=t.fillna(day), _in=surely.astype(int),
                _maybe=maybe.astype(int), _timed=t.notna(),
                _frp=pd.to_numeric(rows.get("frp"), errors="coerce"))
            g = rows.groupby("incident_id", sort=False)
            agg = pd.DataFrame({
                "t_first": g["_start"].min(), "t_last": g["_end"].max(),
                "time_known": g["_timed"].all(), "n_in_window": g["_in"].sum(),
                "n_possibly_in_window": g["_maybe"].sum(),
                "frp_total": g["_frp"].sum(min_count=1), "frp_max": g["_frp"].max(),
            })
            if "satellite" in rows:
                agg["satellites"] = g["satellite"].agg(_joined)
            if "daynight" in rows:
                agg["daynight"] = g["daynight"].agg(_joined)
            key = inc["incident_id"].astype(str)
            for col in agg.columns:
                got = key.map(agg[col])
                inc[col] = got.where(got.notna(), inc[col]) if col in (
                    "t_first", "t_last") else got
            inc["time_known"] = inc["time_known"].fillna(False).astype(bool)
            for col in ("n_in_window", "n_possibly_in_window"):
                inc[col] = pd.to_numeric(inc[col], errors="coerce").astype("Int64")
            # detections the table lacks (read for another period): the incident's own
            # days still bound it, and its times are no longer all known to the minute
            listed = pairs.groupby("incident_id").size()
            found = rows.groupby("incident_id").size()
            short = key.map(listed).fillna(0) > key.map(found).fillna(0)
            inc["n_firms_rows"] = key.map(found).fillna(0).astype("Int64")
            if bool(short.any()):
                widened = pd.Series(False, index=inc.index)
                for col, own, sign in (("t_first", "t_start", -1), ("t_last", "t_end", 1)):
                    if own not in inc:
                        continue
                    mine = pd.to_datetime(inc[col], utc=True).dt.floor("D")
                    theirs = pd.to_datetime(inc[own], utc=True).dt.floor("D")
                    out = short & ((theirs - mine) * sign > pd.Timedelta(0))
                    inc.loc[out, col] = theirs[out]
                    widened |= out
                inc.loc[widened, "time_known"] = False
    given = inc["timing"].astype("string") if "timing" in inc else None
    inc["timing"] = _timing(inc, w)
    if given is not None and inc["n_in_window"].isna().all():
        # no detections to time it by: the assessment's own call stands
        # (analysis.assess says inside / possible / outside)
        own = given.map({"inside": "inside", "possible": "possibly inside"})
        inc["timing"] = own.where(own.notna(), inc["timing"]).astype("string")
    if "side" in inc:
        inc["side_name"] = inc["side"].map(lambda s: SIDE_NAMES.get(str(s), str(s))
                                           if isinstance(s, str) else pd.NA).astype("string")
    return inc


def _joined(values: pd.Series) -> str:
    return "+".join(sorted({str(v) for v in values.dropna() if str(v) not in ("", "unknown")}))


def _timing(inc: pd.DataFrame, w: tuple[pd.Timestamp, pd.Timestamp] | None) -> pd.Series:
    """before / inside / possibly inside / after / unknown, from the detections' times."""
    n = len(inc)
    out = pd.Series(["unknown"] * n, index=inc.index, dtype="object")
    if w is None or n == 0:
        return out.astype("string")
    w0, w1 = w
    first = pd.to_datetime(inc["t_first"], utc=True, errors="coerce")
    last = pd.to_datetime(inc["t_last"], utc=True, errors="coerce")
    n_in = pd.to_numeric(inc.get("n_in_window"), errors="coerce")
    n_maybe = pd.to_numeric(inc.get("n_possibly_in_window"), errors="coerce")
    known = n_in.notna()
    out[first < w0] = "before"  # an incident with no detection inside is where it began
    out[first >= w1] = "after"
    overlap = (first < w1) & (last >= w0)
    out[overlap & ~known] = "possibly inside"  # no detections given: only its days
    out[known & (n_maybe > 0)] = "possibly inside"
    out[known & (n_in > 0)] = "inside"
    return out.astype("string")


def detection_table(detections: pd.DataFrame | None, window: tuple[Any, Any] | None = None,
                    comparison: tuple[Any, Any] | None = None) -> pd.DataFrame:
    """The detections an assessment rests on, for a CSV or a GIS layer.

    FIRMS fields, where the fire lay (side code and name, signed km to the line, band,
    sector, place), the war call (``war_fire``: very unlikely to be natural or
    agricultural there and then), the incident it belongs to, and ``period``: window,
    comparison or margin (read for the rules' look-back and follow-on days).
    """
    if detections is None or len(detections) == 0:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in DETECTION_COLUMNS})
    det = detections.reset_index(drop=True)
    out = _firms_fields(det)
    out.insert(0, "detection_id", det["detection_id"].astype("string"))
    out["side"] = det["side"].astype("string") if "side" in det else pd.NA
    out["side_name"] = out["side"].map(lambda s: SIDE_NAMES.get(str(s), str(s))
                                       if isinstance(s, str) else pd.NA).astype("string")
    dist = det["distance_km"] if "distance_km" in det else det.get("dist_km")
    out["distance_km"] = pd.to_numeric(dist, errors="coerce").round(3) if dist is not None \
        else np.nan
    for col in ("band", "sector", "place", "incident_id"):
        out[col] = det[col].astype("string") if col in det else pd.Series(
            pd.NA, index=det.index, dtype="string")
    out["war_fire"] = det["war"].fillna(False).astype(bool) if "war" in det else False
    out["hot_spot"] = det["hot_spot"].fillna(False).astype(bool) if "hot_spot" in det \
        else False
    period = pd.Series("margin", index=det.index, dtype="object")
    for name, win in (("comparison", comparison), ("window", window)):
        if win is not None:
            surely, maybe = _in_window(det, utc_window(win))
            period[surely | maybe] = name
    out["period"] = period.astype("string")
    out = out.sort_values(["acq_date", "acq_time", "detection_id"], kind="stable",
                          na_position="first")
    return out[list(DETECTION_COLUMNS)].reset_index(drop=True)

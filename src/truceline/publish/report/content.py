"""The report's content, assembled once from the assessment's pieces and rendered twice.

Keys of the assessment this package does not know are still shown ("Other figures"),
never dropped. The wording attributes only what the data shows: the ground an incident
lies on, never who fired.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry

from truceline import __version__
from truceline.errors import InputError
from truceline.publish import exports as ex
from truceline.publish import maps
from truceline.publish.basemap import basemap
from truceline.publish.credits import (
    control_sources,
    credit_lines,
    credit_sentence,
    data_credits,
)
from truceline.publish.evidence import (
    TIMINGS,
    detection_id_list,
    detection_table,
    evidence_rows,
    incident_evidence,
)
from truceline.publish.report.content_model import (
    DEFAULT_PARTY_NAMES,
    VERDICTS,
    ReportContent,
    ReportData,
)
from truceline.publish.report.coverage import (
    cloud_rows,
    coverage_days,
    coverage_rows,
    coverage_warning,
)
from truceline.publish.report.plain import hypothetical_banner, plain_summary
from truceline.publish.report.statistics import (
    KNOWN_KEYS,
    contrast_all,
    control_rate,
    counts_table,
    front_rate,
    is_table,
    statistics,
    tables,
)
from truceline.publish.report.wording import (
    as_list,
    cell_text,
    coords_text,
    day_list,
    day_text,
    details_text,
    flatten,
    instant_text,
    key_label,
    minute_text,
    num,
    p_text,
    short_text,
    to_float,
)
from truceline.publish.webmap import worldview_url


def report_content(
    assessment: Mapping[str, Any],
    incidents: pd.DataFrame | None,
    line_of_contact: BaseGeometry | None,
    timeline: pd.DataFrame | None,
    ru_ground: BaseGeometry | None = None,
    *,
    window: tuple[Any, Any] | None = None,
    context: BaseGeometry | None = None,
    generated_utc: datetime | None = None,
    title: str | None = None,
    files: Sequence[str] = (),
    detections: pd.DataFrame | None = None,
    signer_fingerprint: str | None = None,
    interactive: bool = True,
) -> ReportContent:
    """Assemble the report's words, tables and figures from the assessment's pieces.

    `window` (start, end) defaults to the agreement's ``start_utc``/``end_utc``, then
    to ``timeline.attrs["window"]``;
    `context` is extra lon/lat geometry drawn under the map (country outlines);
    `detections` are those the assessment rests on (with ``war`` and ``incident_id``):
    they give each incident its first and last minute, FRP and FIRMS rows, and are
    drawn on the maps, so a report with no incident still shows what it saw;
    `signer_fingerprint` (``sha256:...``) names the key the folder will be signed with;
    `interactive` adds the HTML page's interactive map (`truceline.publish.webmap`).
    """
    if not isinstance(assessment, Mapping):
        raise InputError(f"assessment = {type(assessment).__name__}: expected a dict "
                         "(JSON-able) with at least 'verdict'")
    a = ex.jsonable(assessment)
    agreement = a.get("agreement") if isinstance(a.get("agreement"), Mapping) else {}
    name = str(agreement.get("name") or a.get("title") or "Unnamed agreement")
    verdict = str(a.get("verdict") or "unknown").strip().lower()
    label, meaning = VERDICTS.get(verdict, (verdict.title() or "Unknown",
                                            "The assessment gave no recognised verdict."))
    coverage = a.get("coverage") if isinstance(a.get("coverage"), Mapping) else {}
    if window is None:
        window = _agreement_window(agreement)
    if window is None and timeline is not None and timeline.attrs.get("window") is not None:
        start, end = timeline.attrs["window"]
        window = (start, end)
    generated = (generated_utc or datetime.now(UTC)).astimezone(UTC)
    control = _control_text(a.get("control_source") if a.get("control_source") is not None
                            else a.get("control_map"))
    names = _party_names(agreement)
    held_by = names.get("ru", "Russia")
    data = _report_data(incidents, detections, window, _comparison(agreement), held_by)
    inc, evidence = data.incidents, data.evidence
    if incidents is None and isinstance(a.get("incidents"), list) and a["incidents"]:
        # the assessment's own list: shown in the report, not exported (none was given)
        inc = _with_evidence(_incident_frame(pd.DataFrame(
            [r for r in a["incidents"] if isinstance(r, Mapping)])), detections, window)
        evidence = evidence_rows(inc, detections, window)
    inc = _by_start(inc)
    shown = _detections_shown(detections, data.detections)
    sources = control_sources(a)
    credit = credit_lines(sources, basemap=True)
    credit_text = credit_sentence(credit)
    has_points = len(inc) and {"lon", "lat"} <= set(inc.columns)
    background = _background(line_of_contact, inc if has_points else None, shown)

    map_fig = maps.render_figure(maps.incident_map(
        inc if has_points or isinstance(incidents, gpd.GeoDataFrame) else None,
        line_of_contact, ru_ground, context=context,
        held_label=f"Ground held by {held_by} (control map)", background=background,
        detections=shown, credit=credit_text))
    tl_fig = None
    if timeline is not None:
        tl_fig = maps.render_figure(maps.timeline_chart(
            timeline, window, no_data_days=day_list(coverage.get("days_without_data")),
            coverage_days=[d for d in as_list(coverage.get("days")) if isinstance(d, Mapping)],
            credit=credit_text))
    sector_fig = None
    if len(inc) and detections is not None and "sector" in inc:
        fig = maps.sector_chart(detections, inc, window, credit=credit_text)
        sector_fig = maps.render_figure(fig) if fig is not None else None
    web = None
    if interactive:
        from truceline.publish.webmap import web_map

        web = web_map(inc if has_points else None, shown, line_of_contact, ru_ground,
                      window=window, context=background if background is not None else False,
                      party_names=names, held_label=f"Ground held by {held_by} (control map)",
                      credits=data_credits(sources))

    counts_header, counts_rows = counts_table(a.get("counts"))
    warning, poor = coverage_warning(coverage, verdict)
    header, rows = _incident_rows(inc, names, evidence)
    return ReportContent(
        title=title or f"Ceasefire monitoring report: {name}",
        subtitle=_subtitle(agreement, control),
        verdict=verdict,
        verdict_label=label,
        verdict_text=meaning,
        reasons=[str(r) for r in as_list(a.get("reasons"))],
        rule=_rule(a.get("rule"), a.get("rule_text")),
        summary=_summary(inc, names),
        agreement=_agreement_rows(agreement, control),
        coverage=coverage_rows(coverage),
        coverage_warning=warning,
        coverage_poor=poor,
        cloud=cloud_rows(coverage.get("cloud_pct_by_oblast", coverage.get("cloud_by_oblast"))),
        coverage_days=coverage_days(coverage.get("days")),
        statistics=statistics(a.get("rate_ratio", front_rate(a.get("rates"))),
                               a.get("did", contrast_all(a.get("contrast"))),
                               control_rate(a.get("rates"))),
        counts_header=counts_header,
        counts_rows=counts_rows,
        incident_header=header,
        incident_rows=rows,
        method=_method(control),
        caveats=[str(c) for c in as_list(a.get("caveats"))],
        other=_other(a),
        tables=tables(a),
        footer=(f"Made by truceline {__version__} on "
                f"{generated.strftime('%Y-%m-%d %H:%M')} UTC from the files listed in "
                "manifest.json. Check it with: truceline verify <this folder>."),
        map_caption=("The line of contact (black), the distance bands around it, ground held "
                     f"by {held_by} (tan), the state border (dash-dot) and the incidents, "
                     "coloured by confidence and sized by number of detections; small dots "
                     "are the fire detections of the window and the period compared. Drawn "
                     "from the report's own data and packaged outlines: no map tiles."),
        map_figure=map_fig,
        timeline_figure=tl_fig,
        files=list(files),
        plain_summary=plain_summary(a, inc, label, poor),
        banner=hypothetical_banner(agreement),
        credits=credit,
        signer=(f"This folder is signed with the Ed25519 key {signer_fingerprint} "
                "(manifest.sig); check the fingerprint with the publisher before trusting "
                "it." if signer_fingerprint else ""),
        web_map=web,
        sector_figure=sector_fig,
        sector_caption=("Fire detections per UTC day in each sector with an incident: all "
                        "fire (grey) and fire very unlikely to be natural (orange); the "
                        "agreement window is shaded."),
        incident_note=_incident_note(inc),
        data=data,
    )


def _incident_frame(incidents: pd.DataFrame | None) -> pd.DataFrame:
    if incidents is None:
        return pd.DataFrame()
    if not isinstance(incidents, pd.DataFrame):
        raise InputError(f"incidents = {type(incidents).__name__}: expected a GeoDataFrame "
                         "of incidents (or None)")
    df = pd.DataFrame(incidents).copy()
    for col in ("t_start", "t_end"):
        if col in df:
            df[col] = pd.to_datetime(df[col], utc=True, errors="coerce")
    return df.reset_index(drop=True)


def _with_evidence(inc: pd.DataFrame, detections: pd.DataFrame | None,
                   window: tuple[Any, Any] | None) -> pd.DataFrame:
    """The incidents with what their detections show (`incident_evidence`), if any."""
    return incident_evidence(inc, detections, window) if len(inc) else inc


def _by_start(inc: pd.DataFrame) -> pd.DataFrame:
    """The incidents in the order the report lists them: earliest first."""
    if "t_start" in inc:
        inc = inc.sort_values("t_start", kind="stable")
    return inc.reset_index(drop=True)


def _report_data(incidents: pd.DataFrame | None, detections: pd.DataFrame | None,
                 window: tuple[Any, Any] | None, comparison: tuple[Any, Any] | None,
                 held_by: str) -> ReportData:
    """The incidents given, the detection table and the evidence rows, derived once for
    both the report's pages and its exports."""
    inc = _with_evidence(_incident_frame(incidents), detections, window)
    if detections is None:
        return ReportData(incidents=inc, detections=None, evidence=None, held_by=held_by)
    return ReportData(incidents=inc,
                      detections=detection_table(detections, window, comparison),
                      evidence=evidence_rows(inc, detections, window), held_by=held_by)


def _agreement_window(agreement: Mapping[str, Any]) -> tuple[Any, Any] | None:
    start, end = agreement.get("start_utc"), agreement.get("end_utc")
    if not start or not end:
        return None
    try:
        return (pd.Timestamp(start), pd.Timestamp(end))
    except (ValueError, TypeError):
        return None


def _control_text(value: Any) -> str:
    """The control map in words: source, snapshots and any note the assessment made."""
    if value is None:
        return "not stated"
    if isinstance(value, Mapping):
        parts = [str(value.get(k)) for k in ("name", "source", "snapshot_id", "valid_from")
                 if value.get(k)]
        snaps = [str(x) for x in as_list(value.get("snapshots")) if x]
        if len(snaps) > 3:  # daily maps: the span, not the list (assessment.json has it)
            days = sorted(x.split(":")[-1] for x in snaps)
            parts.append(f"{len(snaps)} snapshots, {days[0]} to {days[-1]}")
        elif snaps:
            parts.append("snapshot" + ("s " if len(snaps) > 1 else " ") + ", ".join(snaps))
        if not parts:
            parts.append("not named")
        text = ", ".join(parts)
        if value.get("note"):
            text += f" ({value['note']})"
        return text
    return str(value)


def _rule(rule: Any, text: Any) -> str:
    if not rule and not text:
        return ""
    if rule and text:
        return f"Rule {rule}: {text}"
    return f"Rule: {rule or text}"


def _parties(value: Any) -> str:
    names = []
    for p in as_list(value):
        if isinstance(p, Mapping):
            names.append(str(p.get("name") or p.get("id") or json.dumps(p, sort_keys=True)))
        else:
            names.append(str(p))
    return ", ".join(names) or "not stated"


def _party_names(agreement: Mapping[str, Any]) -> dict[str, str]:
    """Side code -> party name, from the agreement's parties where they give both."""
    names = dict(DEFAULT_PARTY_NAMES)
    for p in as_list(agreement.get("parties")):
        if isinstance(p, Mapping) and p.get("id") and p.get("name"):
            names[str(p["id"])] = str(p["name"])
    return names


def ground_name(side: str, names: Mapping[str, str]) -> str:
    """'ground held by Russia', 'a third country's ground', 'the sea': where, not who."""
    if side == "sea":
        return "the sea"
    if side == "third":
        return "a third country's ground"
    if side in names:
        return f"ground held by {names[side]}"
    return f"ground of side {side!r}" if side else "ground of unknown control"


def _subtitle(agreement: Mapping[str, Any], control: str) -> str:
    bits = []
    if agreement.get("start_utc") and agreement.get("end_utc"):
        bits.append(f"{instant_text(agreement['start_utc'], None)} to "
                    f"{instant_text(agreement['end_utc'], None)}")
    bits.append(f"control map: {control}")
    return " · ".join(bits)


def _agreement_rows(agreement: Mapping[str, Any], control: str) -> list[tuple[str, str]]:
    zone = agreement.get("time_zone")
    rows = [("Agreement", str(agreement.get("name") or "not stated")),
            ("Parties", _parties(agreement.get("parties")))]
    if agreement.get("start_utc"):
        rows.append(("Starts", instant_text(agreement["start_utc"], zone)))
    if agreement.get("end_utc"):
        rows.append(("Ends", instant_text(agreement["end_utc"], zone)))
    if zone:
        rows.append(("Time zone of the terms", str(zone)))
    if agreement.get("notes"):
        rows.append(("Notes", str(agreement["notes"])))
    if agreement.get("hypothetical") is True:
        rows.append(("Status", "hypothetical: nobody agreed to it"))
    rows.append(("Map of who holds which ground", control))
    for key, value in agreement.items():
        if key in {"name", "parties", "start_utc", "end_utc", "time_zone", "notes",
                   "hypothetical"}:
            continue
        if value is None or value == [] or value == {} or value == "":
            continue
        if str(key).endswith("_utc"):
            text = instant_text(value, zone)
        elif isinstance(value, Mapping):
            text = details_text(value)
        elif key in ("declared_by", "accepted_by"):
            names = _party_names(agreement)
            text = ", ".join(names.get(str(x), str(x)) for x in as_list(value))
        else:
            text = short_text(value)
        rows.append((_AGREEMENT_LABELS.get(key, key_label(key)), text))
    return rows


_AGREEMENT_LABELS = {
    "comparison_start_utc": "Compared with the period from",
    "comparison_end_utc": "Compared with the period to",
    "scope": "Where it applies",
    "control_band_km": "Control band (km from the line)",
    "fire_near_line": "Fire near the line prohibited",
    "protected_sites": "Protected sites",
    "declared_by": "Declared by",
    "accepted_by": "Accepted by",
    "notes": "Notes",
}


def _summary(inc: pd.DataFrame, names: Mapping[str, str]) -> list[str]:
    n = len(inc)
    if n == 0:
        return ["No incident was found in the agreement's area during the window."]
    out = []
    text = f"{n} incident{'s' if n != 1 else ''} of fire very unlikely to be natural"
    if "n_detections" in inc:
        det = int(pd.to_numeric(inc["n_detections"], errors="coerce").fillna(0).sum())
        text += f", made of {det:,} satellite fire detections"
    out.append(text + ".")
    if "confidence" in inc:
        vc = inc["confidence"].astype(str).str.lower().value_counts()
        parts = [f"{vc[c]} {c}" for c in ("high", "medium", "low") if c in vc]
        parts += [f"{v} {k}" for k, v in vc.items() if k not in ("high", "medium", "low")]
        out.append("Confidence: " + ", ".join(parts) + ".")
    if "side" in inc:
        vc = inc["side"].astype(str).value_counts()
        parts = [f"{v} at sea" if k == "sea" else f"{v} on {ground_name(k, names)}"
                 for k, v in vc.items()]
        out.append("Where they lay: " + ", ".join(parts) + " (where the fire was, not who "
                   "caused it).")
    if "sector" in inc:
        vc = inc["sector"].dropna().astype(str).value_counts().head(5)
        if len(vc):
            out.append("Most incidents by sector: "
                       + ", ".join(f"{k} ({v})" for k, v in vc.items()) + ".")
    return out


def _incident_rows(inc: pd.DataFrame, names: Mapping[str, str],
                   evidence: pd.DataFrame | None,
                   ) -> tuple[list[str], list[dict[str, Any]]]:
    header = ["Incident", "First and last seen (UTC)", "Where", "Ground (by the control map)",
              "Detections", "Fire radiative power", "p_natural (lowest)", "Confidence",
              "FIRMS rows (evidence)"]
    by_incident = {k: g for k, g in evidence.groupby("incident_id", sort=False)} \
        if evidence is not None and len(evidence) else {}
    rows = []
    for r in inc.to_dict("records"):
        ids = detection_id_list(r.get("detection_ids"))
        timed = bool(r.get("time_known")) or _has_time(r.get("t_start"))
        first = r.get("t_first", r.get("t_start"))
        last = r.get("t_last", r.get("t_end"))
        start = minute_text(first) if timed else day_text(first)
        end = minute_text(last) if timed else day_text(last)
        place = ", ".join(b for b in (cell_text(r.get("place")), cell_text(r.get("sector"))) if b)
        n_in = cell_text(r.get("n_in_window"))
        firms = by_incident.get(cell_text(r.get("incident_id")))
        lon, lat = to_float(r.get("lon")), to_float(r.get("lat"))
        rows.append({
            "id": cell_text(r.get("incident_id")),
            "when_start": start,
            "when_end": (f"to {end}" if end else "") + _timing(r.get("timing")),
            "place": place,
            "coords": coords_text(r),
            "ground": _ground(r, names),
            "detections": cell_text(r.get("n_detections")),
            "in_window": (f"{n_in} inside the window" if n_in else ""),
            "sensors": " ".join(b for b in (cell_text(r.get("sensors")),
                                            cell_text(r.get("satellites")),
                                            _DAYNIGHT.get(cell_text(r.get("daynight")), ""))
                                if b),
            "decided": (f"decided by {cell_text(r.get('tests'))}" if cell_text(r.get("tests"))
                        else ""),
            "frp": (f"{num(to_float(r.get('frp_total')))} MW" if to_float(r.get("frp_total"))
                    is not None else ""),
            "frp_max": (f"strongest {num(to_float(r.get('frp_max')))} MW"
                        if to_float(r.get("frp_max")) is not None else ""),
            "p": p_text(r.get("p_min", r.get("p_natural_min"))),
            "confidence": cell_text(r.get("confidence")).lower(),
            "evidence": ids,
            "firms_rows": _firms_rows(firms),
            "firms_note": _firms_note(firms, ids),
            "worldview": (worldview_url(lon, lat, first) if lon is not None and lat is not None
                          and cell_text(first) else ""),
        })
    return header, rows


def _has_time(value: Any) -> bool:
    """A time of day other than midnight: the instant was given, not only its day."""
    try:
        t = pd.Timestamp(value)
    except (TypeError, ValueError):
        return False
    return not pd.isna(t) and (t.hour, t.minute, t.second) != (0, 0, 0)


_DAYNIGHT = {"D": "day", "N": "night", "D+N": "day and night"}
#: The FIRMS fields shown for each detection of an incident, as FIRMS names them.
FIRMS_ROW_HEADER = ["acq_date", "acq_time", "latitude", "longitude", "satellite",
                    "instrument", "frp", "daynight", "in window"]


def _firms_rows(rows: pd.DataFrame | None) -> list[list[str]]:
    if rows is None or rows.empty:
        return []
    out = []
    for r in rows.to_dict("records"):
        out.append([cell_text(r.get("acq_date")), cell_text(r.get("acq_time")),
                    f"{r['latitude']:.5f}" if to_float(r.get("latitude")) is not None else "",
                    f"{r['longitude']:.5f}" if to_float(r.get("longitude")) is not None else "",
                    cell_text(r.get("satellite")).replace("unknown", ""),
                    cell_text(r.get("instrument")),
                    f"{r['frp']:.2f}" if to_float(r.get("frp")) is not None else "",
                    cell_text(r.get("daynight")), cell_text(r.get("in_window"))])
    return out


def _firms_note(firms: pd.DataFrame | None, ids: list[str]) -> str:
    """Why an incident lists fewer FIRMS rows than detections, when it does."""
    n = 0 if firms is None else len(firms)
    if not n or n >= len(ids):
        return ""
    return (f"{len(ids) - n} of its {len(ids)} detections fall outside the days this report "
            "read (before or after them); their ids are listed below.")


def _incident_note(inc: pd.DataFrame) -> str:
    if inc.empty or "timing" not in inc:
        return ""
    vc = inc["timing"].astype(str).value_counts()
    parts = [f"{vc[k]} {TIMINGS.get(k, k)}" for k in ("inside", "possibly inside", "before",
                                                      "after", "unknown") if k in vc]
    return "Timing against the window: " + ", ".join(parts) + "."


def _detections_shown(detections: pd.DataFrame | None, table: pd.DataFrame | None,
                      ) -> pd.DataFrame | None:
    """The detections of the comparison period and the window (by `table`'s ``period``,
    see `detection_table`), for the maps."""
    if detections is None or len(detections) == 0 or table is None:
        return None
    keep = (table["period"] != "margin").to_numpy()
    det = detections.reset_index(drop=True)
    order = pd.Index(det["detection_id"].astype(str)).get_indexer(
        table.loc[keep, "detection_id"].astype(str))
    return det.iloc[order[order >= 0]].reset_index(drop=True)


def _comparison(agreement: Mapping[str, Any]) -> tuple[Any, Any] | None:
    s, e = agreement.get("comparison_start_utc"), agreement.get("comparison_end_utc")
    return (s, e) if s and e else None


def _background(line: BaseGeometry | None, inc: pd.DataFrame | None,
                det: pd.DataFrame | None) -> Any:
    """Packaged background layers (borders, oblasts, water, cities) around what is drawn."""
    boxes = []
    if line is not None and not line.is_empty:
        boxes.append(line.bounds)
    for frame in (inc, det):
        if frame is not None and len(frame) and {"lon", "lat"} <= set(frame.columns):
            lon = pd.to_numeric(frame["lon"], errors="coerce")
            lat = pd.to_numeric(frame["lat"], errors="coerce")
            if lon.notna().any():
                boxes.append((lon.min(), lat.min(), lon.max(), lat.max()))
    if not boxes:
        return None
    b = np.array(boxes, dtype=float)
    return basemap((b[:, 0].min() - 8, b[:, 1].min() - 3, b[:, 2].max() + 8,
                    b[:, 3].max() + 3))


def _timing(value: Any) -> str:
    """How sure we are the incident fell inside the window, when the assessment says."""
    text = cell_text(value)
    if not text:
        return ""
    return {"inside": " · inside the window", "possible": " · possibly inside the window",
            "outside": " · outside the window"}.get(text, f" · {text}")


def _ground(r: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """'Held by Russia, 9.8 km from the line (5–15 km band)': where, never who fired."""
    side = cell_text(r.get("side"))
    if side == "sea":
        text = "At sea"
    elif side in names:
        text = f"Held by {names[side]}"
    else:
        text = ground_name(side, names)
        text = text[0].upper() + text[1:]
    d = to_float(r.get("dist_km"))
    if d is not None:
        text += f", {abs(d):.1f} km from the line"
    band = cell_text(r.get("band"))
    if band:
        text += f" ({band.replace('-', '–')} km band)"
    return text


def _method(control: str) -> list[tuple[str, str]]:
    return [
        ("What the satellites see",
         "The fires are NASA FIRMS active-fire detections from the VIIRS and MODIS "
         "instruments. A satellite sees a fire only when it passes over (a few times a "
         "day) and the sky is clear: small, short or cloud-covered fires are missed. "
         "A day without data is not a day without fire."),
        ("What counts as an incident",
         "Farming and wildfire make most fires. For each place and season we know from "
         "years without war how likely fire is. An incident is a cluster of detections, "
         "close in space and time, that would be very unlikely there in a normal year. "
         "'Lowest p_natural' is that chance: 0.001 means one in a thousand."),
        ("How the verdict is reached",
         "Fire near the line during the agreement is compared with a period just before "
         "it, and with a control band far from the line on the same side, so that "
         "season, weather and changes in satellite coverage cancel out. The rules are "
         "conservative: no 'violated' without at least one incident very unlikely to be "
         "natural, and never 'held' when coverage is poor."),
        ("Whose ground, not who fired",
         f"Each incident is placed on the ground held by one side according to the "
         f"control map ({control}). This says where a fire burned, not who caused it: "
         "fire on ground held by one side may well come from the other side's weapons, "
         "or from neither."),
        ("How to check this report",
         "manifest.json lists every input and output file with its SHA-256 hash, the "
         "parameters and the software version; manifest.sig is its Ed25519 signature. "
         "'truceline verify <folder>' checks both and can recompute the assessment. "
         "The incidents are also in incidents.geojson, .gpkg, .kml and .csv."),
    ]


def _other(a: Mapping[str, Any]) -> list[tuple[str, str]]:
    rest = {k: v for k, v in a.items() if k not in KNOWN_KEYS and not is_table(v)}
    return [(k, short_text(v)) for k, v in flatten(rest).items() if v is not None
            and v != [] and v != {}]

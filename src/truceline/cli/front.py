"""`truceline enrich`, `line`, `sectors` and `detect`: the front and the fire near it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from truceline.checks import day_range, output_path
from truceline.cli._base import (
    FromOpt,
    JsonOpt,
    LakeOpt,
    SourceOpt,
    ToOpt,
    _busy,
    _emit_json,
    _narrow_table,
    _open_lake,
    _progress,
    app,
    out,
    pd_day,
)
from truceline.errors import InputError


@app.command("enrich", epilog="Example: truceline enrich --from 2025-08-11 --to 2025-08-31 "
             "--control-source deepstate")
def enrich_cmd(
    date_from: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")
                         ] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD.")] = None,
    control_source: Annotated[str | None, typer.Option(help="Control map source (default: "
                              "the most recent snapshot of any source).")] = None,
    h3_resolution: Annotated[int, typer.Option(help="H3 resolution of the cell column.",
                                               min=0, max=15)] = 7,
    sectors: Annotated[Path | None, typer.Option(help="Sector file (GeoJSON/GPKG with a "
                       "name column) instead of the default settlement-named sectors.")
                       ] = None,
    lake: LakeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Give every detection its side, signed distance to the line, band, cell, sector, place."""
    day_range(date_from, date_to)  # before any import or work
    import geopandas as gpd

    from truceline.pipeline import enrich_detections, enrichment_summary

    lk = _open_lake(lake)
    sector_frame = None
    if sectors is not None:
        try:
            sector_frame = gpd.read_file(sectors).to_crs("EPSG:4326")
        except Exception as exc:  # pyogrio raises several types
            raise InputError(f"{sectors}: cannot be read as a sector file ({exc})") from exc
        if "name" not in sector_frame.columns:
            raise InputError(f"{sectors}: has no 'name' column; expected one name per sector")
    with _progress(not as_json) as progress:
        frame = enrich_detections(lk, date_from, date_to, control_source=control_source,
                                  h3_resolution=h3_resolution, sectors=sector_frame,
                                  progress=progress)
        rec = lk.write_enriched(frame, control=control_source or "any",
                                params={"h3_resolution": h3_resolution,
                                        "sectors": str(sectors) if sectors else None})
    summary = enrichment_summary(frame) | {"stored": rec}
    if as_json:
        _emit_json(summary)
        return
    out.print(f"enriched {summary['rows']:,} detections against "
              f"{summary.get('snapshots_used', 0)} snapshots ({control_source or 'any source'})")
    for col in ("side", "band", "flag"):
        if col in summary:
            named = {("no map" if str(k) in ("nan", "None", "<NA>") else k): v
                     for k, v in summary[col].items()}
            out.print(f"  {col}: " + ", ".join(f"{k} {v:,}" for k, v in named.items()))


@app.command("line", epilog="Example: truceline line --date 2025-08-21 --out line.geojson")
def line_cmd(
    date: Annotated[str, typer.Option(help="Day the line is wanted for, YYYY-MM-DD.")],
    control_source: SourceOpt = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the line as GeoJSON "
                        "here.")] = None,
    lake: LakeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The line of contact in force on a day: lengths in km and a GeoJSON export."""
    from truceline.api import prepared_snapshot
    from truceline.geo.contact import contact_geojson

    pd_day(date)
    if out_file is not None:
        output_path(out_file, option="--out", folder=False)
    with _busy("drawing the line of contact ...", not as_json):
        c = prepared_snapshot(_open_lake(lake), date, control_source).contact
    info = {"snapshot_id": c.snapshot_id, "date": date, "length_km": round(c.length_km, 1),
            "inside_ukraine_km": round(c.inside_km, 1),
            "state_border_km": round(c.border_km, 1)}
    if out_file is not None:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(contact_geojson(c, properties={"date": date}), encoding="utf-8")
        info["file"] = str(out_file)
    if as_json:
        _emit_json(info)
        return
    out.print(f"line of contact on {date} ({c.snapshot_id}): {info['length_km']:,} km, of "
              f"which {info['inside_ukraine_km']:,} km inside Ukraine and "
              f"{info['state_border_km']:,} km along the Ukraine–Russia state border"
              + (f"; written to {out_file}" if out_file else ""))


@app.command("sectors", epilog="Example: truceline sectors --date 2025-08-21 "
             "--control-source deepstate")
def sectors_cmd(
    date: Annotated[str, typer.Option(help="Day whose line is wanted, YYYY-MM-DD.")],
    control_source: Annotated[str | None, typer.Option(help="Control map source (default: "
                              "the latest snapshot of any source).")] = None,
    lake: LakeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The named sectors of the line of contact on a day: what --sector takes."""
    from truceline.api import sectors

    pd_day(date)
    with _busy("naming the stretches of the line ...", not as_json):
        table = sectors(_open_lake(lake), date, control_source=control_source)
    if as_json:
        _emit_json({"date": date, "control_source": control_source or "any",
                    "snapshot_id": str(table["snapshot_id"].iat[0]) if len(table) else None,
                    "sectors": table.drop(columns=["snapshot_id"]).to_dict("records")})
        return
    if table.empty:
        out.print(f"the line on {date} has no named sectors")
        return
    t = _narrow_table(f"{len(table)} sectors on {date} ({table['snapshot_id'].iat[0]})")
    for col, justify in (("sector", "left"), ("km of line", "right"), ("lon", "right"),
                         ("lat", "right")):
        t.add_column(col, justify=justify)  # type: ignore[arg-type]
    for r in table.itertuples():
        t.add_row(r.name, f"{r.line_km:,.1f}", f"{r.lon:.2f}", f"{r.lat:.2f}")
    out.print(t)


@app.command("detect", epilog="Example: truceline detect --from 2025-08-21 --to 2025-08-31 "
             "--control-source deepstate")
def detect_cmd(
    date_from: FromOpt,
    date_to: ToOpt,
    control_source: SourceOpt = None,
    rule: Annotated[str, typer.Option(help="War-fire rule: seasonal (default), economist, "
                    "seasonal-local, seasonal-wide, ...")] = "seasonal",
    radius_km: Annotated[float, typer.Option(help="Incident clustering radius.")] = 5.0,
    gap_days: Annotated[int, typer.Option(help="Incident clustering gap in days.")] = 3,
    detections_file: Annotated[Path | None, typer.Option(
        "--detections", help="Also write every detection of the period with its call "
        "(war, the deciding test, p_natural, incident id) to FILE: .parquet, .csv or "
        ".geojson.")] = None,
    lake: LakeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Score cell-days against the climatology, flag war fire, cluster incidents, store them.

    Runs on any period the lake holds FIRMS data for; where no control map is in force,
    side, distance and sector are left empty and a note says so.
    """
    day_range(date_from, date_to)  # before any work: a reversed range stores nothing
    from truceline.analysis.incidents import check_clustering
    from truceline.pipeline import detect_period
    from truceline.publish.detections import check_detections_path, write_detections

    check_clustering(radius_km, gap_days)
    if detections_file is not None:  # before any work: a failing run stores nothing
        check_detections_path(detections_file)
    lk = _open_lake(lake)
    with _progress(not as_json) as progress:
        found = detect_period(lk, date_from, date_to, control_source=control_source,
                              rule=rule, radius_km=radius_km, gap_days=gap_days,
                              progress=progress)
        inc = found.incidents.copy()
        inc["detection_ids"] = inc["detection_ids"].map(";".join)
        rel = f"incidents/{date_from}_{date_to}_{control_source or 'any'}_{rule}.parquet"
        lk.write_table(rel, inc, kind="detect", params=found.params)
        if detections_file is not None:
            write_detections(found.detections, detections_file)
    war = int(found.detections["war"].sum())
    note = found.params.get("no_map")
    if as_json:
        _emit_json({"detections": len(found.detections), "war_detections": war,
                    "incidents": inc.drop(columns=["detection_ids"]).to_dict("records"),
                    "stored": rel, "detections_file": str(detections_file)
                    if detections_file else None, "no_map": note, "params": found.params})
        return
    table_name, _, key = rel.removesuffix(".parquet").partition("/")
    out.print(f"{len(found.detections):,} detections, {war:,} flagged as war fire, "
              f"{len(inc)} incidents (stored in the lake's {table_name} table, key {key})"
              + (f"; every detection of the period written to {detections_file}"
                 if detections_file else ""))
    if len(inc):
        import pandas as pd

        beyond = int(((pd.to_datetime(inc["t_start"]) < pd.Timestamp(date_from))
                      | (pd.to_datetime(inc["t_end"]) >= pd.Timestamp(date_to)
                         + pd.Timedelta(days=1))).sum())
        if beyond:
            out.print(f"note: {beyond} of the incidents run beyond {date_from}..{date_to}: "
                      "they are shown and stored whole (first day, detections and p_natural "
                      "over their whole span; detection reads 90 days before the period and "
                      "10 after for context)")
    if note:
        out.print(f"note: {note['detections']:,} detections ({note['first_day']} to "
                  f"{note['last_day']}) had no control map in force: side, distance and "
                  "sector are left empty for them")
    if len(inc):
        shown = inc.sort_values("p_min").head(25)
        table = _narrow_table(f"the {len(shown)} least natural of {len(inc)} incidents")
        for c, just in (("incident", "left"), ("first day", "left"), ("det.", "right"),
                        ("p_natural", "right"), ("side", "left"), ("km", "right")):
            table.add_column(c, justify=just, no_wrap=True)  # type: ignore[arg-type]
        table.add_column("place (sector)", overflow="fold", ratio=1)
        for r in shown.itertuples():
            sector = getattr(r, "sector", None)
            table.add_row(r.incident_id, str(r.t_start)[:10], f"{r.n_detections:,}",
                          f"{r.p_min:.1e}", str(getattr(r, "side", "")),
                          f"{getattr(r, 'dist_km', float('nan')):.1f}",
                          f"{getattr(r, 'place', '')}" + (f" ({sector})" if sector else ""))
        out.print(table)

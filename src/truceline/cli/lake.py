"""`truceline ingest`, `lake`, `ledger` and `baseline`: filling the lake and saying what
it holds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from truceline import config
from truceline.checks import missing_years
from truceline.cli._base import (
    JsonOpt,
    LakeOpt,
    _emit_json,
    _open_lake,
    _progress,
    _styled,
    _summary_table,
    baseline_app,
    console,
    ingest_app,
    lake_app,
    ledger_app,
    out,
)
from truceline.errors import InputError


@ingest_app.command("firms", epilog="Example: truceline ingest firms "
                    "../shared/data/firms/viirs_noaa20_nrt_2025")
def ingest_firms(
    paths: Annotated[list[Path], typer.Argument(help="FIRMS files or folders.")],
    sensor: Annotated[str | None, typer.Option(help="VIIRS or MODIS, when neither the "
                                               "columns nor the file name say.")] = None,
    satellite: Annotated[str | None, typer.Option(help="N, N20, N21, Terra or Aqua.")] = None,
    lake: LakeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ingest NASA FIRMS active-fire files (VIIRS, MODIS; archive, NRT, minimal lists)."""
    lk = _open_lake(lake, create=True)
    with _progress(not as_json) as progress:
        summary = lk.ingest_firms(list(paths), sensor=sensor, satellite=satellite,
                                  progress=progress)
    if as_json:
        _emit_json({"files": summary.files, "skipped": summary.skipped, "txn": summary.txn})
        return
    cols = ["rows", "accepted", "rejected", "added", "replaced_nrt", "already_in_lake"]
    if summary.files:
        out.print(_summary_table(summary, cols, "FIRMS ingest"))
    for s in summary.skipped:
        out.print(f"skipped {Path(s['file']).name}: {s['reason']}")
    rejected = summary.total("rejected")
    out.print(f"added {summary.total('added'):,} detections, rejected "
              f"{rejected:,} rows (kept in quarantine), "
              f"{len(summary.skipped)} files skipped")
    if rejected and summary.txn:
        _print_rejected(lk, summary.txn, rejected)


def _print_rejected(lk: Any, txn: str, total: int, shown: int = 5) -> None:
    """The first rows this ingest set aside, with file, line and reason: a user should
    not have to dig in the quarantine table to learn which line was wrong."""
    q = lk.read_quarantine()
    q = q[q["txn"] == txn].sort_values(["file", "line"]).head(shown)
    for r in q.itertuples():
        out.print(f"  rejected {Path(str(r.file)).name}, line {r.line}: {r.reason}",
                  markup=False, highlight=False)
    if total > len(q):
        out.print(f"  ... and {total - len(q):,} more (`truceline lake info` sums them up)")


@ingest_app.command("control", epilog="Example: truceline ingest control "
                    "../shared/data/frontline/deepstate --source deepstate")
def ingest_control(
    paths: Annotated[list[Path], typer.Argument(help="Control map files or folders.")],
    source: Annotated[str, typer.Option(help="deepstate, liveuamap, isw, other or auto.")
                      ] = "auto",
    party: Annotated[str, typer.Option(help="Party whose held ground the map draws: "
                                       "ru, the only one truceline reads.")] = "ru",
    valid_from: Annotated[str | None, typer.Option(help="Date the map is valid from, "
                                                   "YYYY-MM-DD (one file only).")] = None,
    replace: Annotated[bool, typer.Option(
        "--replace", help="Replace a stored map for the same source and day, or a file "
        "ingested before with another --source/--valid-from; the earlier snapshot stays "
        "readable at its table version.")] = False,
    lake: LakeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ingest control maps (DeepStateMap, liveuamap/NZZ, ISW, any polygon file)."""
    from truceline.sources.frontlines import parse_day

    if valid_from is not None:
        parse_day(valid_from, "--valid-from")  # before the lake is touched
    lk = _open_lake(lake, create=True)
    with _progress(not as_json) as progress:
        summary = lk.ingest_control(list(paths), source=source, party=party,
                                    valid_from=valid_from, progress=progress, replace=replace)
    if as_json:
        _emit_json({"files": summary.files, "skipped": summary.skipped, "txn": summary.txn,
                    "warnings": summary.warnings})
        return
    for w in summary.warnings:
        console.print(_styled(("warning:", "yellow"), f" {w}"))
    filled = [f for f in summary.files if f.get("filled_2014_km2")]
    if filled:
        out.print(f"{len(filled)} maps left out the ground held since 2014 (Donetsk); filled "
                  f"from {filled[0]['filled_from']} (about {filled[0]['filled_2014_km2']:,.0f} "
                  "km² each, recorded in the ledger)")
    repaired = [f for f in summary.files if f["repaired"]]
    out.print(f"ingested {len(summary.files)} control snapshots, {len(summary.skipped)} files "
              f"already in the lake; {len(repaired)} repaired with make_valid "
              f"(largest area change {max([f['repair_area_km2'] for f in repaired] or [0])} km²)")


@lake_app.command("info", epilog="Example: truceline lake info --lake ./truceline-lake")
def lake_info(lake: LakeOpt = None, as_json: JsonOpt = False) -> None:
    """Detections per sensor and year, snapshots, quarantine and the ledger head."""
    info = _open_lake(lake).info()
    info["missing_years"] = missing_years(info["detections"])
    if as_json:
        _emit_json(info)
        return
    _print_info(info)


def _print_info(info: dict[str, Any]) -> None:
    from truceline.analysis.baseline import format_years

    out.print(_styled(("lake", "bold"), f" {info['lake']}: {info['total_detections']:,} "
                      "detections" + (f", {info['date_range'][0]} to {info['date_range'][1]}"
                                      if info["date_range"] else "")))
    years = sorted({y for s in info["detections"].values() for y in s})
    if years:
        table = Table(title="detections per sensor and year")
        table.add_column("year")
        sensors = sorted(info["detections"])
        for s in sensors:
            table.add_column(s, justify="right")
        for y in years:
            table.add_row(y, *[f"{info['detections'][s].get(y, 0):,}" for s in sensors])
        out.print(table)
    gaps = {k: v for k, v in (info.get("missing_years") or {}).items() if v}
    if gaps:
        out.print(_styled(("missing years", "yellow"), " (no detections between the first "
                          "and the last):"))
        for who, ys in gaps.items():
            out.print(f"  {'any sensor' if who == 'any' else who:<11} {format_years(ys)}")
    for c in info["control"]:
        out.print(f"control {c['source']}: {c['snapshots']} snapshots {c['first']} .. "
                  f"{c['last']} ({c['repaired']} repaired)")
    for sensor, b in info.get("baseline", {}).items():
        out.print(f"baseline {sensor}: years {format_years(b['years'] or [])}, "
                  f"{b['cells']:,} cells, "
                  f"{b['hot_spots']} hot spots")
    if info.get("enriched_partitions"):
        out.print("enriched partitions: " + ", ".join(
            f"{k} {v}" for k, v in info["enriched_partitions"].items()))
    out.print(f"incident tables: {info.get('incident_tables', 0)}, reports published: "
              f"{info.get('reports_published', 0)}")
    q = info["quarantine"]
    out.print(f"quarantine: {q['rows']} rows")
    for reason, n in q["by_reason"].items():
        out.print(f"  {n:>8,}  {reason}")
    led = info["ledger"]
    out.print(f"ledger: {led['entries']} entries, head {led['head'][:16]}…, "
              f"{'ok' if led['ok'] else 'BROKEN: run truceline ledger verify'}")


@lake_app.command("migrate", epilog="Example: truceline lake migrate --lake ./truceline-lake")
def lake_migrate(lake: LakeOpt = None, as_json: JsonOpt = False) -> None:
    """Convert a lake of the first layout (GeoParquet folders) to Delta Lake tables, in
    place; the ledger is kept and extended. Safe to run again after a crash."""
    from truceline.lake.migrate import migrate

    with console.status("migrating ..."):
        result = migrate(config.lake_dir(lake))
    if as_json:
        _emit_json(result)
        return
    if not result["migrated"]:
        out.print(f"lake {result['lake']}: {result['reason']}, nothing to do")
        return
    for line in result["done"]:
        out.print(f"  {line}", markup=False)
    out.print(f"lake {result['lake']}: migrated to Delta Lake tables", markup=False)


@ledger_app.command("anchor", epilog="Example: truceline ledger anchor > anchor.txt")
def ledger_anchor(lake: LakeOpt = None, as_json: JsonOpt = False) -> None:
    """Print the ledger head (SEQ:HASH) to publish elsewhere; `ledger verify --anchor`
    later proves the chain still contains it (a rewritten ledger does not)."""
    anchor = _open_lake(lake).ledger_anchor()
    if as_json:
        seq, _, h = anchor.partition(":")
        _emit_json({"anchor": anchor, "entries": int(seq), "hash": h})
    else:
        out.print(anchor, markup=False)


@ledger_app.command("verify",
                    epilog="Example: truceline ledger verify --anchor \"$(cat anchor.txt)\"")
def ledger_verify(lake: LakeOpt = None, as_json: JsonOpt = False,
                  anchor: Annotated[str | None, typer.Option(
                      help="A head printed earlier by `truceline ledger anchor` (SEQ:HASH or "
                      "HASH) that the chain must still contain.")] = None) -> None:
    """Re-walk the hash chain; exit 4 if any entry was edited, deleted or moved."""
    check = _open_lake(lake).verify_ledger(anchor)
    if as_json:
        _emit_json({"ok": check.ok, "entries": check.entries, "head": check.head,
                    "problems": check.problems})
    else:
        status = ("ok", "green") if check.ok else ("BROKEN", "red")
        out.print(_styled("ledger ", status, f": {check.entries} entries, head {check.head}"))
        for p in check.problems:
            out.print(f"  - {p}")
    if not check.ok:
        raise typer.Exit(4)


@baseline_app.command("build", epilog="Example: truceline baseline build --years "
                      "VIIRS=2012-2013,2016,2018-2021")
def baseline_build(
    years: Annotated[list[str] | None, typer.Option(help="SENSOR=YEARS, e.g. "
                     "VIIRS=2012-2013,2016,2018-2021 (repeatable; default: the peacetime "
                     "years of docs/VALIDATION.md).")] = None,
    resolution: Annotated[int, typer.Option(help="H3 resolution of the cells.")] = 6,
    lake: LakeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Learn per-sensor peacetime climatologies from the lake's history and store them."""

    from truceline.analysis.baseline import format_years, parse_years
    from truceline.pipeline import build_baseline, save_baseline

    lk = _open_lake(lake)
    chosen: dict[str, str] = {}
    for spec in years or []:
        sensor, sep, yrs = spec.rpartition("=")
        if not sep:  # bare years: every sensor, in the years the lake holds it
            for s in ("MODIS", "VIIRS"):
                in_lake = lk.detection_years(s)
                held = [y for y in parse_years(yrs) if y in in_lake]
                if held:
                    chosen[s] = ",".join(map(str, held))
            continue
        if sensor.upper() not in ("VIIRS", "MODIS"):
            raise InputError(f"--years {spec!r}: expected YEARS or SENSOR=YEARS with SENSOR "
                             "VIIRS or MODIS, e.g. 2001-2013,2016 or VIIRS=2012-2013,2016")
        chosen[sensor.upper()] = yrs
    if years and not chosen:
        raise InputError(f"--years {', '.join(years)}: the lake holds no detections in "
                         "those years")
    with _progress(not as_json) as progress:
        clims = build_baseline(lk, years=chosen or None, resolution=resolution,
                               sensors=tuple(sorted(chosen)) if chosen else ("MODIS", "VIIRS"),
                               progress=progress)
        rec = save_baseline(lk, clims)
    meta = {s: c.metadata for s, c in clims.items()}
    leave_out = rec.get("leave_out", {})
    if as_json:
        _emit_json({"climatologies": meta, "leave_out": leave_out,
                    "ledger_seq": rec.get("files")})
        return
    for s, m in meta.items():
        out.print(f"{s}: years {m['years']}, {m['n_cells']:,} cells at H3 resolution "
                  f"{m['resolution']}, {m['n_hot_spots']} persistent hot spots flagged")
        if s in leave_out:
            kept = leave_out[s]["years"]
            gone = format_years(sorted(set(m["years"]) - set(kept)))
            out.print(f"{s} without {gone}: years {kept} (scores {gone} for the "
                      "false-incident rate of assess)")
        else:
            out.print(f"{s}: fewer than six years, no leave-out climatology: assess weighs "
                      "the window's control band and the constant only")

"""The `truceline` command line: a thin layer over the Python API.

Errors from the library are mapped to exit codes here and nowhere else: InputError 2,
LakeError 3, IntegrityError 4, any other TrucelineError 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from truceline import __version__, config
from truceline.checks import day, day_range, missing_years, output_path
from truceline.errors import InputError, TrucelineError
from truceline.progress import progress_bars


def _group(**kwargs: Any) -> typer.Typer:
    """A command group whose help paragraphs reflow to the terminal (Markdown), instead of
    keeping the line breaks of the docstrings they come from."""
    return typer.Typer(rich_markup_mode="markdown", **kwargs)


app = _group(help="Monitor ceasefires from space.", no_args_is_help=True,
                  pretty_exceptions_enable=False,
                  epilog="Example: truceline demo (the whole pipeline on the sample data); "
                  "then truceline COMMAND --help, each with an example.")
ingest_app = _group(help="Bring FIRMS detections and control maps into the lake.",
                         no_args_is_help=True)
lake_app = _group(help="What the lake holds.", no_args_is_help=True)
ledger_app = _group(help="The lake's hash-chained ledger.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
app.add_typer(lake_app, name="lake")
app.add_typer(ledger_app, name="ledger")
keys_app = _group(help="Ed25519 keys that sign reports.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
baseline_app = _group(help="Peacetime fire climatologies.", no_args_is_help=True)
app.add_typer(baseline_app, name="baseline")
validate_app = _group(help="Rerun the figures of docs/VALIDATION.md from a lake; with "
                           "no sub-command, every check.", invoke_without_command=True)
app.add_typer(validate_app, name="validate")

KeyOpt = Annotated[Path | None, typer.Option("--key", help="Private signing key (default: "
                   "the key pair in $TRUCELINE_KEYS or ~/.config/truceline/keys, made on "
                   "first use).")]
WeatherOpt = Annotated[Path | None, typer.Option("--weather", help="Folder of daily weather "
                       "per oblast (ukr_weather_data_YYYY.csv) for cloud cover (default: "
                       "the sample data's context/weather when present).")]


def _signer(key: Path | None, *inside_none_of: Path | None):  # noqa: ANN202
    """The report signer: the given key, or the default pair (generated on first use);
    refused when the key lies in a lake, a report or one of ``inside_none_of``."""
    from truceline.publish.signing import KeySigner, check_key_outside, default_private_key

    check_key_outside(key if key is not None else config.keys_dir(), *inside_none_of)
    if key is not None:
        return KeySigner.from_file(key)
    folder = config.keys_dir()
    path, made = default_private_key(folder)
    if made is not None:
        console.print(f"made a signing key pair in {folder} (fingerprint {made.fingerprint})")
    return KeySigner.from_file(path)


def _weather(folder: Path | None) -> Path | None:
    if folder is not None:
        if not folder.is_dir():
            raise InputError(f"--weather {folder}: no such folder")
        return folder
    data = config.data_dir()
    default = data / "context" / "weather" if data else None
    return default if default is not None and default.is_dir() else None

# markup=False: text from users and files ("latitude[/x]", an agreement's name) is
# printed as it is, never read as Rich markup; styles go through `_styled`.
# highlight=False: Rich's automatic colouring would paint parts of hashes and paths.
console = Console(stderr=True, markup=False, highlight=False)
out = Console(markup=False, highlight=False)


def _styled(*parts: str | tuple[str, str]) -> Text:
    """One line from plain strings and (text, style) pairs, with no markup parsing."""
    return Text.assemble(*parts)

LakeOpt = Annotated[Path | None, typer.Option("--lake", help="Lake folder "
                                              "(default $TRUCELINE_LAKE or ./truceline-lake).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]


def _open_lake(lake: Path | None, *, create: bool = False):  # noqa: ANN202 - lazy import
    """The lake at --lake / $TRUCELINE_LAKE / ./truceline-lake. Only the commands that
    fill a lake (``create``) may name a folder that does not exist yet (or is empty)."""
    from truceline.lake.store import Lake, open_existing

    root = config.lake_dir(lake)
    return Lake(root) if create else open_existing(root)


def _emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=str) + "\n")


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str, int, int], None]]:
    """Rich progress bars fed by the library's (label, done, total) callbacks, on stderr
    and only on a terminal: never with --json, piped or redirected."""
    with progress_bars(console, enabled=enabled) as update:
        yield update


def _busy(text: str, enabled: bool) -> Any:
    """A spinner on stderr for a step of unknown length; nothing with --json or piped."""
    from contextlib import nullcontext

    return console.status(text) if enabled and console.is_terminal else nullcontext()


#: Short headers, so that tables fit 80 columns.
_HEADERS = {"replaced_nrt": "NRT\nreplaced", "already_in_lake": "already\nin lake"}


def _narrow_table(title: str | None = None) -> Table:
    """A table without vertical rules: readable at 80 columns and when piped."""
    from rich import box

    return Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True,
                 show_edge=False)


def _summary_table(summary: Any, columns: list[str], title: str) -> Table:
    table = _narrow_table(title)
    table.add_column("file", overflow="fold", ratio=1)
    for c in columns:
        table.add_column(_HEADERS.get(c, c), justify="right", no_wrap=True)
    for f in summary.files:
        table.add_row(Path(f["file"]).name, *[_count(f.get(c, "")) for c in columns])
    return table


def _count(v: Any) -> str:
    return f"{v:,}" if isinstance(v, int) else str(v)


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
    party: Annotated[str, typer.Option(help="Party whose held ground the map draws.")] = "ru",
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


@app.command("demo", epilog="Example: truceline demo --data ../shared/data --out out/demo")
def demo(
    lake: LakeOpt = None,
    data: Annotated[Path | None, typer.Option(help="Real sample data folder (default "
                                              "$TRUCELINE_DATA or ../shared/data).")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Where the reports go.")
                       ] = Path("out/demo"),
    key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The whole pipeline on the real data: lake, climatology, two real cases, signed reports."""
    from truceline.demo import assess_cases, build_demo_lake
    from truceline.pipeline import baseline

    folder = config.data_dir(data)
    if folder is None:
        raise TrucelineError("no sample data found: pass --data DIR or set TRUCELINE_DATA "
                             "(see README: Data)")
    output_path(out_dir, option="--out")
    lk = _open_lake(lake, create=True)
    signer = _signer(key, lk.root, out_dir)
    console.print(f"1/3 building the lake in {lk.root} from {folder} ...")
    with _progress(not as_json) as progress:
        ingest = build_demo_lake(lk, folder, progress)
    console.print("2/3 peacetime climatologies (built once, then read from the lake) ...")
    with _progress(not as_json) as progress:
        baseline(lk, progress)
    console.print("3/3 assessing the Christmas truce 2023 and the August 2025 what-if ...")
    with _progress(not as_json) as progress:
        cases = assess_cases(lk, folder, out_dir, signer, progress)
    if as_json:
        _emit_json({"ingest": ingest, "cases": cases, "lake": lk.info()})
    else:
        out.print(f"lake {lk.root}: {ingest['detections_added']:,} detections added, "
                  f"{ingest['rows_rejected']:,} rows quarantined, "
                  f"{ingest['control_snapshots_ingested']} control snapshots added, "
                  f"{ingest['files_skipped']} files skipped (already in the lake, or not FIRMS)")
        for c in cases:
            colour = {"violated": "red", "held": "green"}.get(c["verdict"], "yellow")
            out.print(_styled("\n", (c["agreement"], "bold"), ": ",
                              (c["verdict"].upper(), colour), f" (rule {c['rule']}, map "
                              f"{c['control_map']}; {c['incidents']} incidents in scope)"))
            _bullets(c["reasons"][:4])
            out.print(f"  maps: {c['map_note']}")
            out.print(f"  report {c['report']} — signature and hashes "
                      f"{'verified' if c['verified'] else 'NOT VERIFIED'}")
    if not all(c["verified"] for c in cases):
        raise typer.Exit(4)


@app.command("enrich", epilog="Example: truceline enrich --from 2025-08-11 --to 2025-08-31 "
             "--control-source deepstate")
def enrich_cmd(
    date_from: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")
                         ] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD.")] = None,
    control_source: Annotated[str | None, typer.Option(help="Control map source (default: "
                              "the most recent snapshot of any source).")] = None,
    h3_resolution: Annotated[int, typer.Option(help="H3 resolution of the cell column.")
                             ] = 7,
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


@app.command("line", epilog="Example: truceline line --date 2025-08-21 --out line.geojson")
def line_cmd(
    date: Annotated[str, typer.Option(help="Day the line is wanted for, YYYY-MM-DD.")],
    control_source: Annotated[str | None, typer.Option(help="Control map source.")] = None,
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


def pd_day(value: str, option: str = "--date"):  # noqa: ANN201
    """A day from the command line as a pandas Timestamp, or InputError naming the value."""
    import pandas as pd

    return pd.Timestamp(day(value, option))


@app.command("detect", epilog="Example: truceline detect --from 2025-08-21 --to 2025-08-31 "
             "--control-source deepstate")
def detect_cmd(
    date_from: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    date_to: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD.")],
    control_source: Annotated[str | None, typer.Option(help="Control map source.")] = None,
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
    from truceline.pipeline import detect_period
    from truceline.publish.detections import FORMATS, write_detections

    if detections_file is not None and detections_file.suffix.lower() not in FORMATS:
        raise InputError(f"--detections {detections_file}: name the file with one of "
                         f"{', '.join(FORMATS)}")
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


EventsOpt = Annotated[Path | None, typer.Option("--events", help="CSV of independent war "
                     "events (columns date, date_end, lat, lon) for recall and lift "
                     "(default: the sample data's events/ucdp_ukraine_2022_2023.csv "
                     "when present).")]


def _default_events(events: Path | None) -> Path | None:
    if events is not None:
        return events
    data = config.data_dir()
    default = data / "events" / "ucdp_ukraine_2022_2023.csv" if data else None
    return default if default is not None and default.is_file() else None


@validate_app.command("detection", epilog="Example: truceline validate detection "
                      "--events ../shared/data/events/ucdp_ukraine_2022_2023.csv")
def validate_detection_cmd(
    events: EventsOpt = None,
    rule: Annotated[list[str] | None, typer.Option(
        "--rule", help="Rule to measure; repeat to compare side by side (default: "
        "seasonal and seasonal-without-cities, the rule before fire in a city near the "
        "line counted; seasonal-war-in-wide is the rule before the wide area's burn year "
        "left out the war fire along the front, seasonal-static the rule before fire on a "
        "moving front counted, "
        "seasonal-v1 the rule before hot spot sites).")] = None,
    lake: LakeOpt = None,
    as_json: JsonOpt = False,
    frontier: Annotated[bool, typer.Option(
        "--frontier", help="Also measure how far the data allow: the default rule plus "
        "every improbable fire within 1-30 km of the line, whatever the other tests say, "
        "each point's recall beside its placebo false alarms (needs --events; a few "
        "minutes more).")] = False,
    cities: Annotated[bool, typer.Option(
        "--cities", help="Also measure the city test at each point of its grid (cities "
        "of 20,000, 50,000 or 100,000 people or more, within 10 or 30 km of the line) "
        "on top of the rule without it (needs --events; a minute more).")] = False,
) -> None:
    """Placebo, rear, war ground, named hot spot cases, recall and lift against events
    (also by the events' month, source and precision)."""
    from truceline.sources.events import read_events
    from truceline.validation.detection import validate_detection

    path = _default_events(events)
    ev = read_events(path) if path is not None else None
    lk = _open_lake(lake)
    rules = tuple(rule) if rule else ("seasonal", "seasonal-without-cities")
    with console.status("validating detection ...") as status:
        res = validate_detection(lk, rules=rules, events=ev, frontier=frontier,
                                 cities=cities, progress=lambda msg: status.update(msg))
    res["events_file"] = str(path) if path else None
    if as_json:
        _emit_json(res)
        return
    _print_detection_table(res)
    if res["events"]:
        _print_event_groups(res)
    if "frontier" in res:
        _print_frontier(res["frontier"])
    if "cities" in res:
        _print_cities(res["cities"])


def _print_cities(grid: dict[str, Any]) -> None:
    table = Table(title=f"fire in a city near the line: {grid['rule']} plus the city test "
                  "at each point of its grid (the default: 50,000 people, 10 km)")
    for col in ("city of at least", "km", "placebo /1,000 km²/yr", "rear 2022",
                "recall / ceiling", "lift", "Mariupol", "far works 2018-21",
                "calls added", "their lift", "keeps the targets"):
        table.add_column(col, justify="right")
    for r in grid["rows"]:
        table.add_row("-" if r["population"] is None else f"{r['population']:,}",
                      "-" if r["km"] is None else f"{r['km']:g}",
                      f"{r['placebo_per_1000km2_year']:.3g}", f"{r['rear_share_2022']:.2%}",
                      f"{r['recall_over_ceiling']:.3f}", f"{r['lift']:.2f}",
                      "-" if r["case_Mariupol"] is None else f"{r['case_Mariupol']:.1%}",
                      f"{r['far_works_war_2018_2021']:,}",
                      f"{r['added_war_detections']:,}",
                      "-" if r["added_lift"] is None else f"{r['added_lift']:.2f}",
                      "yes" if r["meets_targets"] else "no")
    out.print(table)


def _print_frontier(fr: dict[str, Any]) -> None:
    table = Table(title=f"how far the data allow: {fr['rule']} plus every improbable fire "
                  "within km of the line (a bound, not a detector)")
    for col in ("km", "p_natural <", "placebo /1,000 km²/yr", "placebo near line",
                "rear 2022", "recall / ceiling", "lift", "calls added",
                "their lift", "keeps the targets"):
        table.add_column(col, justify="right")
    for r in fr["rows"]:
        table.add_row("-" if not r["km"] else f"{r['km']:g}",
                      "-" if r["alpha"] is None else f"{r['alpha']:g}",
                      f"{r['placebo_per_1000km2_year']:.3g}", f"{r['placebo_near_line_war']:,}",
                      f"{r['rear_share_2022']:.2%}", f"{r['recall_over_ceiling']:.3f}",
                      f"{r['lift']:.2f}", f"{r['added_war_detections']:,}",
                      "-" if r["added_lift"] is None else f"{r['added_lift']:.2f}",
                      "yes" if r["meets_targets"] else "no")
    out.print(table)
    best, cheap = fr["best_within_targets"], fr["cheapest_reaching_recall"]
    if best is not None:
        out.print(f"best recall/ceiling that keeps the placebo, rear and lift targets: "
                  f"{best['recall_over_ceiling']:.3f} (km {best['km']:g}, p_natural < "
                  f"{best['alpha'] if best['alpha'] is not None else '-'})")
    if cheap is None:
        out.print("no point reaches the recall target")
    else:
        out.print(f"least placebo that reaches the recall target: "
                  f"{cheap['placebo_per_1000km2_year']:.3g} false war cell-days per "
                  f"1,000 km² per year, {fr['cheapest_placebo_over_target']:g} times the "
                  f"target (km {cheap['km']:g}, p_natural < {cheap['alpha']:g}, lift "
                  f"{cheap['lift']:.2f})")


def _print_event_groups(res: dict[str, Any]) -> None:
    table = Table(title="events seen (war call near) over events reached (any detection "
                  "near), by the events' month, source and precision")
    for col in ("events by", "", "events", "reached"):
        table.add_column(col, justify="right" if col in ("events", "reached") else "left")
    for r in res["rules"]:
        table.add_column(r, justify="right")
    table.add_column(f"{res['rules'][0]}: misses left natural by")
    groups = [figs.get("events_by") or {} for figs in res["by_rule"].values()]
    for name, values in groups[0].items():
        for value, g in values.items():
            cells = []
            for by in groups:
                h = by[name][value]
                cells.append("-" if h["recall_over_ceiling"] is None else
                             f"{h['seen']} ({h['recall_over_ceiling']:.2f})")
            why = sorted((g.get("missed_by_test") or {}).items(), key=lambda kv: -kv[1])
            table.add_row(name, value, f"{g['events']:,}", f"{g['reached']:,}", *cells,
                          ", ".join(f"{t} {n}" for t, n in why))
    out.print(table)


def _print_detection_table(res: dict[str, Any]) -> None:
    table = Table(title="detection figures (truceline validate detection)")
    table.add_column("figure")
    table.add_column("target")
    for r in res["rules"]:
        table.add_column(r, justify="right")
    for row in res["table"]:
        if row["figure"].startswith("vs_first.") and (len(res["rules"]) < 2
                                                      or res["events"] is None):
            continue
        if row["figure"] in ("recall", "ceiling", "recall_over_ceiling",
                             "recall_over_ceiling_off_works", "lift") and \
                res["events"] is None:
            continue
        table.add_row(row["label"], row["target"], *[
            "" if row[r] is None else f"{row[r]:,}" if isinstance(row[r], int) else
            f"{row[r]:.3g}" if isinstance(row[r], float) else str(row[r])
            for r in res["rules"]])
    out.print(table)
    ev = res["events"]
    if ev:
        out.print(f"events: {res['events_file']}: {ev['in_period']:,} of {ev['events']:,} "
                  f"in {ev['period'][0]}..{ev['period'][1]}; a match is within "
                  f"{ev['km']:g} km and {ev['days']} day of the event's days. The events "
                  "are thin, uneven in time, biased toward towns, and many leave no "
                  "thermal trace: compare rules on them, never tune to them alone.")
    else:
        out.print("no events file: recall and lift not measured (--events FILE)")


@validate_app.callback(epilog="Example: truceline validate --lake LAKE --json")
def validate_all(ctx: typer.Context, lake: LakeOpt = None, as_json: JsonOpt = False,
                 events: EventsOpt = None) -> None:
    """With no sub-command: run every check in turn (detection, ...)."""
    if ctx.invoked_subcommand is not None:
        return
    for check in _VALIDATE_ALL:
        check(lake=lake, as_json=as_json, events=events)


def _validate_detection_default(*, lake: Path | None, as_json: bool,
                                events: Path | None) -> None:
    validate_detection_cmd(events=events, rule=None, lake=lake, as_json=as_json)


#: The checks `truceline validate` runs with no sub-command; each takes lake, as_json,
#: events keyword arguments (append new checks here).
def _validate_verdicts_default(*, lake: Path | None, as_json: bool,
                               events: Path | None) -> None:
    validate_verdicts(as_json=as_json)  # its own defaults; it reads the shared data


_VALIDATE_ALL: list[Callable[..., None]] = [_validate_detection_default,
                                            _validate_verdicts_default]


@app.command("assess", epilog="Example: truceline assess "
             "examples/agreements/august_2025_whatif.toml --out out/august")
def assess_cmd(
    agreement: Annotated[Path, typer.Argument(help="Agreement TOML file.")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Report folder (default "
                       "./out/<agreement file name>).")] = None,
    control_source: Annotated[str | None, typer.Option(help="Control map source (default: "
                              "the agreement's, else the latest of any source).")] = None,
    compare_with: Annotated[list[str] | None, typer.Option(help="Also judge with this "
                            "control map (repeatable); the report says how the line, the "
                            "counts and the verdict change, and whether the verdict flips.")
                            ] = None,
    weather: WeatherOpt = None,
    key: KeyOpt = None,
    lake: LakeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Judge an agreement: incidents, rates, contrast, coverage, verdict; signed report."""
    from truceline.pipeline import baseline, compare_maps, run_assessment, write_assessment
    from truceline.publish.folder import check_out_dir
    from truceline.sources.agreements import load_agreement

    ag = load_agreement(agreement)
    lk = _open_lake(lake)
    target = out_dir or Path("out") / agreement.stem
    check_out_dir(target)  # before the work, not after it
    signer = _signer(key, lk.root, target)
    with _progress(not as_json) as progress:
        clims = baseline(lk, progress)
        run = run_assessment(lk, ag, control_source=control_source,
                             weather_dir=_weather(weather), climatologies=clims,
                             progress=progress)
        if compare_with:
            runs = {run.control_source: run}
            for other in compare_with:
                runs[other] = run_assessment(lk, ag, control_source=other,
                                             weather_dir=_weather(weather),
                                             climatologies=clims, progress=progress)
            run.assessment["map_comparison"] = compare_maps(runs)
            run.assessment["reasons"].append(run.assessment["map_comparison"]["note"])
        written = write_assessment(run, target, signer=signer, lake=lk)
    a = run.assessment
    if as_json:
        _emit_json({"report": str(target), "verdict": a["verdict"], "rule": a["rule"],
                    "reasons": a["reasons"], "ledger_seq": written["ledger_seq"],
                    "assessment": a})
        return
    _print_verdict(ag.name, a, target)


def _bullets(lines: list[str]) -> None:
    """A list, each item wrapped under its own first word (hanging indent), as plain
    text: a reason's brackets are not Rich markup."""
    import textwrap

    for line in lines:
        out.print(textwrap.fill(str(line), width=max(out.width, 40), initial_indent="  - ",
                                subsequent_indent="    ", break_on_hyphens=False),
                  markup=False, highlight=False, soft_wrap=True)


def _print_verdict(name: str, a: dict[str, Any], target: Path) -> None:
    colour = {"violated": "red", "held": "green", "reduced": "yellow"}.get(a["verdict"], "white")
    out.print(_styled((name, "bold"), ": ", (a["verdict"].upper(), colour),
                      f" (rule {a['rule']}, control map "
                      f"{a.get('control_map', {}).get('source', '?')})"))
    _bullets(a["reasons"])
    out.print(f"report: {target / 'report.html'} (signed: {target / 'manifest.json'})")


@app.command("timeline", epilog="Example: truceline timeline --from 2025-08-01 --to 2025-08-31 "
             "--sector Pokrovsk")
def timeline_cmd(
    date_from: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    date_to: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD.")],
    sector: Annotated[str | None, typer.Option(help="Keep one named sector.")] = None,
    agreement: Annotated[list[Path] | None, typer.Option(help="Agreement files whose "
                         "windows are shaded (repeatable).")] = None,
    control_source: Annotated[str | None, typer.Option(help="Control map source.")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for timeline.csv/.png/.svg.")
                       ] = Path("out/timeline"),
    lake: LakeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Daily activity per band and in the control band, as CSV and PNG/SVG figures."""
    day_range(date_from, date_to)  # before any import or work
    from truceline.analysis.timeline import daily_series, to_wide, write_csv
    from truceline.api import check_sector
    from truceline.pipeline import detect_period
    from truceline.publish.maps import render_figure, timeline_chart
    from truceline.sources.agreements import load_agreement

    windows = [load_agreement(p) for p in agreement or []]
    output_path(out_dir, option="--out")
    lk = _open_lake(lake)
    if sector is not None:  # an unknown name fails here, with the closest ones
        with _busy("reading the sector names of the period's lines ...", not as_json):
            sector = check_sector(lk, sector, date_from, date_to,
                                  control_source=control_source)
    with _progress(not as_json) as progress:
        found = detect_period(lk, date_from, date_to, control_source=control_source,
                              progress=progress)
        series = daily_series(found.detections, start=date_from, end=date_to, sector=sector)
    # the coverage strip: passes, cloud and whether each day counts, from the sky
    import pandas as pd

    from truceline.analysis.coverage import assess_coverage

    cov = assess_coverage(found.detections, date_from,
                          pd.Timestamp(date_to) + pd.Timedelta(days=1),
                          weather_dir=_weather(None))
    # a day without data (no detection, or a feed gap) is not a day without fire
    unseen = set(cov.days_without_data)
    series["satellite_data"] = ~pd.to_datetime(series["date"]).dt.strftime(
        "%Y-%m-%d").isin(unseen).to_numpy()
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [write_csv(series, out_dir / "timeline.csv")]
    title = f"Fire detections per day by distance to the line{' — ' + sector if sector else ''}"
    fig = render_figure(timeline_chart(to_wide(series), title=title, windows=[
        (a.name, a.start_utc, a.end_utc) for a in windows],
        no_data_days=cov.days_without_data, coverage_days=cov.to_dict()["days"]))
    paths += fig.write(out_dir, "timeline")
    if as_json:
        _emit_json({"files": [str(p) for p in paths], "days": int(series["date"].nunique()),
                    "days_without_data": sorted(unseen)})
        return
    out.print("wrote " + ", ".join(str(p) for p in paths))
    if unseen:
        days = sorted(unseen)
        out.print(f"note: {len(days)} day(s) without satellite data (no detection, or a "
                  "gap in the satellite feed: " + ", ".join(days[:5])
                  + (", ..." if len(days) > 5 else "") + "): their zeros are days not "
                  "seen (satellite_data false in the CSV, hatched in the figures), not "
                  "days without fire")


@keys_app.command("generate", epilog="Example: truceline keys generate --dir "
                  "~/.config/truceline/keys")
def keys_generate(
    directory: Annotated[Path | None, typer.Option("--dir", help="Folder for the key pair "
                         "(default $TRUCELINE_KEYS or ~/.config/truceline/keys).")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing key pair.")] = False,
    lake: LakeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write a new signing key pair (private key mode 0600) outside the lake."""
    from truceline.publish.signing import check_key_outside, generate_keypair

    target = config.keys_dir(directory).resolve()
    check_key_outside(target, config.lake_dir(lake))
    pair = generate_keypair(target, overwrite=overwrite)
    result = {"private_key": str(pair.private_key_path), "public_key_file":
              str(pair.public_key_path), "public_key": pair.public_key,
              "fingerprint": pair.fingerprint}
    if as_json:
        _emit_json(result)
    else:
        out.print(f"private key {pair.private_key_path} (mode 0600: keep it secret)\n"
                  f"public key  {pair.public_key_path}\nfingerprint {pair.fingerprint}")


@app.command("verify", epilog="Example: truceline verify out/august --recompute")
def verify(
    directory: Annotated[Path, typer.Argument(help="A report folder with manifest.json.")],
    public_key: Annotated[str | None, typer.Option(help="Expected signer: a public key "
                          "file, PEM text or ed25519:... string.")] = None,
    check_inputs: Annotated[bool, typer.Option(help="Re-hash the input files listed in "
                            "the manifest.")] = False,
    recompute: Annotated[bool, typer.Option(help="Re-run the assessment from the report's "
                         "copy of the agreement and the lake (--lake) at the versions the "
                         "report read, and compare the figures.")] = False,
    lake: Annotated[Path | None, typer.Option("--lake", help="The lake the report was made "
                    "from, for --check-inputs and --recompute (default $TRUCELINE_LAKE or "
                    "./truceline-lake).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check a report's signature and every hash; exit 4 listing what differs."""
    from truceline.publish.signing import load_public_key
    from truceline.reports import verify_folder

    # a mistyped folder or key is bad input (exit 2), not a report that fails its check
    if not directory.is_dir():
        raise InputError(f"{directory}: " + ("is a file" if directory.exists() else
                                             "no such folder")
                         + ": expected a report folder (with manifest.json)")
    if public_key is not None:
        load_public_key(public_key)
    with _progress(not as_json and recompute) as progress:
        found = verify_folder(directory, public_key=public_key, check_inputs=check_inputs,
                              recompute=recompute, lake_dir=lake, progress=progress)
    if as_json:
        _emit_json({k: v for k, v in found.items() if k != "summary"})
    else:
        out.print(found["summary"])  # the signature result first, whatever follows
        if found["recompute_error"] is not None:
            out.print(_styled(("recompute could not run:", "red"),
                              f" {found['recompute_error']}"))
        elif recompute:
            diffs = found["recompute_differences"]
            out.print("recompute: " + ("the same figures" if not diffs else
                                       f"{len(diffs)} difference(s)"))
            for d in diffs:
                out.print(f"  differs  {d}")
    if found["exit_code"]:
        raise typer.Exit(found["exit_code"])


# --------------------------------------------------------------------------- service (issue 13)
fetch_app = _group(help="New FIRMS data into the lake: the FIRMS API or a drop folder.",
                        no_args_is_help=True)
app.add_typer(fetch_app, name="fetch")


def _print_intake(result: Any, as_json: bool) -> None:
    if as_json:
        _emit_json(result.to_dict())
        return
    for f in result.files:
        out.print(f"{Path(f['file']).name}: {f['rows']} rows, {f['added']} added, "
                  f"{f['rejected']} rejected (kept in quarantine)")
    for r in result.rejected:
        console.print(_styled(("set aside", "yellow"), f" {r['file']}: {r['reason']}"))
    out.print(f"added {result.added} detections from {result.new_files} new files, "
              f"{len(result.skipped)} already in the lake, {len(result.rejected)} set aside")


@fetch_app.command("firms", epilog="Example: truceline fetch firms --days 3 "
                   "--sensor VIIRS_NOAA20_NRT (with MAP_KEY set)")
def fetch_firms(
    days: Annotated[int, typer.Option(help="How many days, ending with --date (the API "
                                      "serves 5 a request; more are split).")] = 1,
    sensor: Annotated[list[str] | None, typer.Option(help="FIRMS product (repeatable): "
                      "VIIRS_NOAA20_NRT (default), VIIRS_NOAA21_NRT, VIIRS_SNPP_NRT, "
                      "MODIS_NRT, ...")] = None,
    area: Annotated[str, typer.Option(help="Box W,S,E,N in degrees (default: Ukraine and "
                                      "the front).")] = "22,44,41,53",
    date: Annotated[str | None, typer.Option(help="Last day, YYYY-MM-DD (default: today, "
                                             "UTC).")] = None,
    save_to: Annotated[Path | None, typer.Option(help="Where the raw answers are kept "
                       "(default $TRUCELINE_DOWNLOADS or <lake>-downloads).")] = None,
    lake: LakeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Fetch FIRMS detections from the FIRMS area API (key in $MAP_KEY) into the lake."""
    from datetime import UTC, datetime

    from truceline.service.intake import fetch_into_lake
    from truceline.sources import fetch

    key = fetch.map_key_from_env()
    box = fetch.parse_area(area)
    end = day(date, "--date") if date else datetime.now(UTC).date()
    requests = [r for s in (sensor or ["VIIRS_NOAA20_NRT"])
                for r in fetch.plan_requests(fetch.check_product(s), box, days, end)]
    lk = _open_lake(lake, create=True)
    api = fetch.FirmsAreaApi(key, fetch.base_url_from_env())
    with console.status(f"fetching {len(requests)} request(s) from FIRMS ..."):
        result = fetch_into_lake(lk, api, requests, config.downloads_dir(save_to, lk.root))
    _print_intake(result, as_json)


@fetch_app.command("drop", epilog="Example: truceline fetch drop ./inbox")
def fetch_drop(
    folder: Annotated[Path, typer.Argument(help="Drop folder of FIRMS CSV/TXT files.")],
    lake: LakeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ingest the new files of a drop folder; a malformed one goes to DROP/rejected/."""
    from truceline.service.intake import drop_into_lake

    _print_intake(drop_into_lake(_open_lake(lake, create=True), folder), as_json)


tokens_app = _group(help="Bearer tokens for `truceline serve` (stored hashed).",
                         no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")


@tokens_app.command("create", epilog="Example: truceline tokens create --scope read "
                    "--name newsroom")
def tokens_create(
    scope: Annotated[str, typer.Option(help="read or write (write can also read).")],
    name: Annotated[str, typer.Option(help="Who or what the token is for.")] = "",
    lake: LakeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Make a token; it is shown once (the lake keeps only its hash)."""
    from truceline.service.tokens import create_token

    secret, rec = create_token(_open_lake(lake, create=True), scope, name)
    if as_json:
        _emit_json({"token": secret, **{k: rec[k] for k in ("id", "name", "scope")}})
    else:
        out.print(f"{rec['id']} ({rec['scope']}): {secret}\nkeep it now: it is not shown "
                  "again (the lake stores its SHA-256 only)")


@tokens_app.command("list", epilog="Example: truceline tokens list")
def tokens_list(lake: LakeOpt = None, as_json: JsonOpt = False) -> None:
    """Tokens by id, name and scope (never the secret)."""
    from truceline.service.tokens import read_tokens

    rows = [{k: t[k] for k in ("id", "name", "scope", "created_utc")}
            for t in read_tokens(_open_lake(lake))]
    if as_json:
        _emit_json(rows)
    for r in rows if not as_json else []:
        out.print(f"{r['id']}  {r['scope']:<5}  {r['created_utc']}  {r['name']}")


@tokens_app.command("revoke", epilog="Example: truceline tokens revoke tok-1a2b3c4d")
def tokens_revoke(token_id: Annotated[str, typer.Argument(help="Token id (tok-...).")],
                  lake: LakeOpt = None) -> None:
    """Revoke a token at once (the running service re-reads tokens on the next request)."""
    from truceline.service.tokens import revoke_token

    revoke_token(_open_lake(lake), token_id)
    out.print(f"revoked {token_id}")


@app.command("serve", epilog="Example: truceline serve --port 8000 --public-read")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    public_read: Annotated[bool, typer.Option(help="Let anyone read without a token "
                           "(default $TRUCELINE_PUBLIC_READ).")] = False,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    lake: LakeOpt = None,
) -> None:
    """The REST API and the dashboard at / (docs at /docs, OpenAPI at /api/v1/openapi.json)."""
    import os

    import uvicorn

    from truceline.service.app import create_app
    from truceline.service.settings import Settings

    settings = Settings.from_env(lake, public_read=public_read or None)
    application = create_app(settings)  # fails here, clearly, when the lake is not one
    console.print(f"serving {settings.lake} on http://{host}:{port} "
                  f"(read: {'public' if settings.public_read else 'token'})")
    if workers > 1:
        os.environ["TRUCELINE_LAKE"] = str(settings.lake)  # each worker builds its app
        if settings.public_read:
            os.environ["TRUCELINE_PUBLIC_READ"] = "1"
        uvicorn.run("truceline.service.app:app_from_env", factory=True, host=host,
                    port=port, workers=workers, log_level="warning")
    else:
        uvicorn.run(application, host=host, port=port, log_level="warning")


@app.command("watch", epilog="Example: truceline watch --agreement A.toml --drop "
             "./inbox --every 1h --webhook http://127.0.0.1:9000/hook")
def watch_cmd(
    agreement: Annotated[Path, typer.Option(help="Agreement TOML file.")],
    fetch_: Annotated[bool, typer.Option("--fetch", help="New data from the FIRMS API "
                      "($MAP_KEY).")] = False,
    drop: Annotated[Path | None, typer.Option(help="New data from a drop folder.")] = None,
    every: Annotated[str, typer.Option(help="Cycle interval: 30s, 15m, 1h, 1d.")] = "1h",
    webhook: Annotated[str | None, typer.Option(help="POST a JSON alert here for each new "
                       "incident in scope and each change of the verdict so far.")] = None,
    once: Annotated[bool, typer.Option(help="One cycle, then stop.")] = False,
    cycles: Annotated[int | None, typer.Option(help="Stop after N cycles.")] = None,
    days: Annotated[int, typer.Option(help="With --fetch: days asked for each cycle.")] = 2,
    sensor: Annotated[str, typer.Option(help="With --fetch: FIRMS product.")
                      ] = "VIIRS_NOAA20_NRT",
    lake: LakeOpt = None,
) -> None:
    """Each cycle: new data in, detect, re-assess the agreement so far, alert."""
    from datetime import UTC, datetime

    from truceline.service import intake as intake_mod
    from truceline.service import watch as w
    from truceline.sources import fetch
    from truceline.sources.agreements import load_agreement

    if fetch_ == (drop is not None):
        raise InputError("watch: give exactly one of --fetch or --drop DIR")
    ag = load_agreement(agreement)
    interval = w.parse_every(every)
    lk = _open_lake(lake, create=True)
    if drop is not None:
        if not drop.is_dir():
            raise InputError(f"--drop {drop}: no such folder")
        source: Any = lambda: intake_mod.drop_into_lake(lk, drop)  # noqa: E731
    else:
        api = fetch.FirmsAreaApi(fetch.map_key_from_env(), fetch.base_url_from_env())
        product = fetch.check_product(sensor)
        folder = config.downloads_dir(None, lk.root)
        source = lambda: intake_mod.fetch_into_lake(  # noqa: E731
            lk, api, fetch.plan_requests(product, fetch.DEFAULT_AREA, days,
                                         datetime.now(UTC).date()), folder)
    hook = w.HttpWebhook(webhook) if webhook else None
    aid = w.register_agreement(lk, agreement, ag)

    def show(r: Any) -> None:
        out.print(f"cycle {r.cycle}: +{r.added} detections; verdict so far {r.verdict}"
                  f"{' (changed)' if r.verdict_changed else ''}; {len(r.new_incidents)} new "
                  f"incident(s); {r.delivered} alert(s) delivered, {r.pending} pending")

    try:
        w.watch(lk, ag, aid, source, hook, every=interval, cycles=1 if once else cycles,
                log=lambda m: console.print(_styled((m, "yellow"))), on_cycle=show)
    except KeyboardInterrupt:
        console.print("stopped; the next start goes on from the last committed cycle")


@validate_app.command("verdicts", epilog="Example: truceline validate verdicts --war 20 "
                      "--peace 40 --donbas 0 --stress 5")
def validate_verdicts(
    data: Annotated[Path | None, typer.Option("--data", help="Shared data folder (default: "
                    "$TRUCELINE_DATA or ../shared/data).")] = None,
    war: Annotated[int, typer.Option(help="War windows, 2022-2023 (August 2025 gets a "
                                          "sixth as many).")] = 120,
    peace: Annotated[int, typer.Option(help="Peace windows on ground with no fighting, "
                                            "2018-2021 (the whole line gets half).")] = 200,
    donbas: Annotated[int, typer.Option(help="Windows on the 2015-2022 Donbas line, 2018 "
                                             "to July 2020 (low-level war).")] = 60,
    moving: Annotated[int, typer.Option(help="Peace windows, 2018-2021, judged against the "
                                             "real moving line of 2022-2023 (each day "
                                             "shifted onto its maps).")] = 100,
    stress_windows: Annotated[int, typer.Option("--stress", help="War windows for the "
                                                "stress tests.")] = 40,
    seed: Annotated[int, typer.Option(help="Seed of the windows drawn.")] = 2026,
    old: Annotated[bool, typer.Option(help="Also judge each window the old way "
                                           "(coverage from detections, constant "
                                           "false-incident rate).")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """What-if agreements on real war and peace through the assessment's own functions:
    the share of each verdict overall, by season, window length and coverage class.
    """
    from truceline.validation import verdicts as vv

    root = vv.data_root(data)
    if root is None:
        raise InputError(f"--data {data or '(default)'}: the shared data folder (with "
                         "firms/ukraine_yearly) was not found: set TRUCELINE_DATA or pass --data")
    counts = {"war-2022-2023": war, "war-2025-08": max(war // 6, 1 if war else 0),
              "peace-no-fighting": peace, "peace-whole-line": peace // 2,
              "donbas-2018-2020": donbas, "peace-moving-line": moving}
    names = [n for n, k in counts.items() if k > 0]
    if stress_windows and "war-2022-2023" not in names:
        names.insert(0, "war-2022-2023")

    def log(msg: str) -> None:
        console.print(msg, highlight=False)

    grounds = vv.prepare(root, names, log=log)
    rows = vv.run_verdicts(grounds, {n: counts[n] for n in names if n in counts}, seed=seed,
                           old=old, log=log)
    stress_rows = vv.stress(grounds["war-2022-2023"], stress_windows, seed=seed) \
        if stress_windows else None
    if as_json:
        _emit_json({"seed": seed, "targets": vv.targets(rows, stress_rows),
                    "targets_product": vv.targets(rows, stress_rows, method="product"),
                    "confusion": {by or "overall": vv.confusion(rows, by).to_dict("records")
                                  for by in (None, "season", "length", "coverage")},
                    "windows": rows.to_dict("records"),
                    "stress": [] if stress_rows is None else stress_rows.to_dict("records")})
        return
    out.print(vv.format_tables(rows, stress_rows), highlight=False, soft_wrap=True)
    out.print("\ntargets (new method): " + json.dumps(vv.targets(rows, stress_rows),
                                                     default=str),
              highlight=False, soft_wrap=True)
    product = vv.targets(rows, stress_rows, method="product")
    out.print("targets (as assess judges): " + json.dumps(product, default=str),
              highlight=False, soft_wrap=True)


@validate_app.command("donbas-2020", epilog="Example: truceline validate donbas-2020 --json")
def validate_donbas_2020(
    data: Annotated[Path | None, typer.Option("--data", help="Shared data folder (default: "
                    "$TRUCELINE_DATA or ../shared/data).")] = None,
    agreement: Annotated[Path | None, typer.Option(
        "--agreement", help="The agreement (default: examples/agreements/donbas_2020.toml).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """The Donbas ceasefire of 27 July 2020 on the 2015-2022 contact line, judged the old
    way, the new way and as `truceline assess` judges it, with its incidents described.
    """
    from truceline.analysis.baseline import build_climatologies
    from truceline.demo import examples_dir
    from truceline.sources.agreements import load_agreement
    from truceline.validation import verdicts as vv

    root = vv.data_root(data)
    if root is None:
        raise InputError(f"--data {data or '(default)'}: the shared data folder (with "
                         "firms/ukraine_yearly) was not found: set TRUCELINE_DATA or pass --data")
    path = agreement or examples_dir() / "donbas_2020.toml"
    load_agreement(path)  # a bad file fails here, before minutes of work

    def log(msg: str) -> None:
        console.print(msg, highlight=False)

    history = vv.load_history(root)
    viirs = history[history["sensor"] == "VIIRS"]
    lo = build_climatologies(viirs, sensors=("VIIRS",), years={"VIIRS": vv.leave_out()["VIIRS"]})
    res = vv.donbas_2020(root, path, history, lo, log=log)
    if as_json:
        _emit_json(res)
        return
    for method in ("old", "new", "new+far", "product"):
        r = res[method]
        fa = r["false_alarms"]
        out.print(f"{method:8s} {r['verdict']:12s} ({r['rule']}) coverage {r['coverage']}; "
                  f"{fa['n_incidents_p_below_alpha']} proving incidents against "
                  f"{fa['rate_per_day']:.3g} false a day ({fa['expected']:.2f} expected, "
                  f"P = {fa['p_value']:.2g})", highlight=False, soft_wrap=True)
    out.print("incidents by kind: " + json.dumps(res.get("incident_kinds", {})),
              highlight=False, soft_wrap=True)


@app.command("version", epilog="Example: truceline version")
def version() -> None:
    """Print the truceline version."""
    out.print(__version__)


def _show_warning(message: Warning | str, category: type[Warning], filename: str,
                  lineno: int, file: Any = None, line: str | None = None) -> None:
    """Warnings as one line on stderr ("warning: ..."), without the Python source line
    they were raised from, which means nothing to someone running the CLI."""
    print(f"warning: {message}", file=file or sys.stderr)


def main() -> None:
    """Entry point: run the app, turning library errors into messages and exit codes."""
    import warnings

    warnings.showwarning = _show_warning
    try:
        app()
    except TrucelineError as exc:
        console.print(_styled(("error:", "red"), f" {exc}"), highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except OSError as exc:
        if exc.filename is None:  # not about a path the user gave: a bug, show it whole
            raise
        # a path that cannot be written or read (a folder under a file, a full disk, ...)
        console.print(_styled(("error:", "red"), f" {exc.filename}: {exc.strerror}"),
                      highlight=False, soft_wrap=True)
        sys.exit(2)


if __name__ == "__main__":
    main()

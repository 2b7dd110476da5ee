"""`truceline demo`: the whole pipeline on the sample data, into a fresh lake."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from truceline import config
from truceline.checks import output_path
from truceline.cli._base import (
    JsonOpt,
    KeyOpt,
    LakeOpt,
    _bullets,
    _emit_json,
    _open_lake,
    _progress,
    _signer,
    _styled,
    app,
    console,
    out,
)
from truceline.errors import TrucelineError


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

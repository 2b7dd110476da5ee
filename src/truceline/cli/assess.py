"""`truceline assess`, `timeline`, `keys` and `verify`: verdicts and the signed reports
that carry them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from truceline import config
from truceline.checks import day_range, output_path
from truceline.cli._base import (
    FromOpt,
    JsonOpt,
    KeyOpt,
    LakeOpt,
    SourceOpt,
    ToOpt,
    WeatherOpt,
    _bullets,
    _busy,
    _emit_json,
    _open_lake,
    _progress,
    _signer,
    _styled,
    _weather,
    app,
    keys_app,
    out,
)
from truceline.errors import InputError


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
    rule: Annotated[str, typer.Option(help="War-fire rule the window and its peacetime "
                    "yardsticks are detected with (default: seasonal, the product's; "
                    "e.g. seasonal+moved, the rule it replaced, to compare); the report "
                    "records it.")] = "seasonal",
    key: KeyOpt = None,
    lake: LakeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Judge an agreement: incidents, rates, contrast, coverage, verdict; signed report."""
    from truceline.analysis.anomaly import rule_params
    from truceline.pipeline import baseline, compare_maps, run_assessment, write_assessment
    from truceline.publish.folder import check_out_dir
    from truceline.sources.agreements import load_agreement

    rule_params(rule)  # a misspelt rule fails before any work
    ag = load_agreement(agreement)
    lk = _open_lake(lake)
    target = out_dir or Path("out") / agreement.stem
    check_out_dir(target)  # before the work, not after it
    for src in compare_with or []:  # a misspelt map source fails now, not after a judgement
        lk.check_control_source(src)
    signer = _signer(key, lk.root, target)
    with _progress(not as_json) as progress:
        clims = baseline(lk, progress)
        run = run_assessment(lk, ag, control_source=control_source,
                             weather_dir=_weather(weather), climatologies=clims,
                             rule=rule, progress=progress)
        if compare_with:
            runs = {run.control_source: run}
            for other in compare_with:
                runs[other] = run_assessment(lk, ag, control_source=other,
                                             weather_dir=_weather(weather),
                                             climatologies=clims, rule=rule,
                                             progress=progress)
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


def _print_verdict(name: str, a: dict[str, Any], target: Path) -> None:
    colour = {"violated": "red", "held": "green", "reduced": "yellow"}.get(a["verdict"], "white")
    out.print(_styled((name, "bold"), ": ", (a["verdict"].upper(), colour),
                      f" (rule {a['rule']}, control map "
                      f"{a.get('control_map', {}).get('source', '?')})"))
    _bullets(a["reasons"])
    out.print(f"report: {target / 'report.html'} (signed: {target / 'manifest.json'})")


def _warn_windows_outside(windows: list, paths: list[Path], date_from: str, date_to: str
                          ) -> None:
    """An agreement whose window lies wholly outside the period shades nothing: say so,
    naming the file and both spans (it used to pass in silence)."""
    import warnings

    import pandas as pd

    lo, hi = pd.Timestamp(date_from, tz="UTC"), pd.Timestamp(date_to, tz="UTC") + \
        pd.Timedelta(days=1)
    for a, p in zip(windows, paths, strict=True):
        s, e = pd.Timestamp(a.start_utc), pd.Timestamp(a.end_utc)
        if e <= lo or s >= hi:
            warnings.warn(f"--agreement {p}: its window {s:%Y-%m-%d %H:%M} to "
                          f"{e:%Y-%m-%d %H:%M} UTC lies outside {date_from}..{date_to}, so "
                          "nothing is shaded for it", UserWarning, stacklevel=2)


@app.command("timeline", epilog="Example: truceline timeline --from 2025-08-01 --to 2025-08-31 "
             "--sector Pokrovsk")
def timeline_cmd(
    date_from: FromOpt,
    date_to: ToOpt,
    sector: Annotated[str | None, typer.Option(help="Keep one named sector.")] = None,
    agreement: Annotated[list[Path] | None, typer.Option(help="Agreement files whose "
                         "windows are shaded (repeatable).")] = None,
    control_source: SourceOpt = None,
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
    _warn_windows_outside(windows, agreement or [], date_from, date_to)
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
                  + (", ..." if len(days) > 5 else "") + "): their counts are of days not "
                  "seen, or seen only in part (satellite_data false in the CSV, hatched "
                  "in the figures), not days without fire")


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

"""`truceline validate`: the figures of docs/VALIDATION.md, rerun from a lake."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from truceline.cli._base import (
    JsonOpt,
    LakeOpt,
    _default_events,
    _emit_json,
    _open_lake,
    console,
    out,
    validate_app,
)
from truceline.errors import InputError

EventsOpt = Annotated[Path | None, typer.Option("--events", help="CSV of independent war "
                     "events (columns date, date_end, lat, lon) for recall and lift "
                     "(default: the sample data's events/ucdp_ukraine_2022_2023.csv "
                     "when present).")]


@validate_app.command("detection", epilog="Example: truceline validate detection "
                      "--events ../shared/data/events/ucdp_ukraine_2022_2023.csv")
def validate_detection_cmd(
    events: EventsOpt = None,
    rule: Annotated[list[str] | None, typer.Option(
        "--rule", help="Rule to measure; repeat to compare side by side (default: "
        "seasonal and seasonal+moved, the rule before fire on a moving front was dropped; "
        "seasonal-without-cities the rule before fire in a city near the "
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
    frontier_km: Annotated[list[float] | None, typer.Option(
        "--frontier-km", help="With --frontier: a distance from the line of a point, in "
        "km (> 0); repeat for several (default: 1, 2, 5, 10, 20 and 30).")] = None,
    frontier_alpha: Annotated[list[float] | None, typer.Option(
        "--frontier-alpha", help="With --frontier: a p_natural bound of a point (0 < a "
        "<= 1; 1 calls every fire off a works' pixels, probable or not); repeat for "
        "several (default: 0.0001, 0.001, 0.01 and 0.05).")] = None,
    cities: Annotated[bool, typer.Option(
        "--cities", help="Also measure the city test at each point of its grid (cities "
        "of 20,000, 50,000 or 100,000 people or more, within 10 or 30 km of the line) "
        "on top of the default without it (needs --events; a minute more).")] = False,
    context: Annotated[bool, typer.Option(
        "--context", help="Also measure whether the weather, land use or population of "
        "the data folder single out war fire among the improbable fire within 30 km of "
        "the line: the default rule plus the part of it each condition (rain, snow, "
        "cold, cloud, October-March, built-up, little cropland, people per km², ground "
        "that never burned in peace) selects "
        "(needs --events and the data folder's context/; a minute more).")] = False,
    data: Annotated[Path | None, typer.Option("--data", help="Data folder holding "
                    "context/ for --context (default: $TRUCELINE_DATA or "
                    "../shared/data).")] = None,
) -> None:
    """Placebo, rear, war ground, named hot spot cases, recall and lift against events
    (also by the events' month, source and precision)."""
    from truceline.sources.events import read_events
    from truceline.validation.detection import validate_detection

    grid = _frontier_grid(frontier_km, frontier_alpha)
    frontier = frontier or grid is not None
    path = _default_events(events)
    ev = read_events(path) if path is not None else None
    folder = _context_folder(data) if context else None
    lk = _open_lake(lake)
    rules = tuple(rule) if rule else ("seasonal", "seasonal+moved")
    with console.status("validating detection ...") as status:
        res = validate_detection(lk, rules=rules, events=ev, frontier=frontier,
                                 cities=cities, context=folder, frontier_grid=grid,
                                 progress=lambda msg: status.update(msg))
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
    if "context_gates" in res:
        _print_context_gates(res["context_gates"])


def _frontier_grid(km: list[float] | None, alpha: list[float] | None
                   ) -> tuple[list[float], list[float]] | None:
    """The frontier's points from --frontier-km / --frontier-alpha (None: its whole
    grid); a distance or bound out of range is refused before any work."""
    from truceline.validation.frontier import ALPHAS, DISTANCES_KM

    if not km and not alpha:
        return None
    for d in km or ():
        if not d > 0:
            raise InputError(f"--frontier-km {d:g}: expected a distance from the line in km "
                             "greater than 0")
    for a in alpha or ():
        if not 0 < a <= 1:
            raise InputError(f"--frontier-alpha {a:g}: expected a p_natural bound greater "
                             "than 0 and at most 1")
    return list(km or DISTANCES_KM), list(alpha or ALPHAS)


def _context_folder(data: Path | None) -> Path:
    """The data folder whose context/ --context reads; refused before any work."""
    from truceline import config

    root = data if data is not None else config.data_dir()
    if root is None or not (Path(root) / "context").is_dir():
        raise InputError(f"--data {root or '(default)'}: no context/ folder there (weather, "
                         "land_use, pop_density): set TRUCELINE_DATA or pass --data")
    return Path(root)


def _print_context_gates(cg: dict[str, Any]) -> None:
    table = Table(title=f"what the context singles out: {cg['rule']} plus the improbable "
                  f"fire (p_natural < {cg['alpha']:g}) within {cg['km']:g} km of the line "
                  "that each condition selects")
    for col in ("condition", "placebo /1,000 km²/yr", "rear 2022", "recall / ceiling",
                "lift", "far works 2018-21", "calls added", "their lift",
                "keeps the targets"):
        table.add_column(col, justify="left" if col == "condition" else "right")
    for r in cg["rows"]:
        table.add_row(r["label"], f"{r['placebo_per_1000km2_year']:.3g}",
                      f"{r['rear_share_2022']:.2%}", f"{r['recall_over_ceiling']:.3f}",
                      f"{r['lift']:.2f}", f"{r['far_works_war_2018_2021']:,}",
                      f"{r['added_war_detections']:,}",
                      "-" if r["added_lift"] is None else f"{r['added_lift']:.2f}",
                      "yes" if r["meets_targets"] else "no")
    out.print(table)
    best = cg["best_within_targets"]
    out.print("no condition keeps the placebo, rear, lift, Mariupol and far-works targets"
              if best is None else
              f"best recall/ceiling within the other targets: {best['recall_over_ceiling']:.3f}"
              f" ({best['label']})")


def _print_cities(grid: dict[str, Any]) -> None:
    table = Table(title=f"fire in a city near the line: {grid['rule']} without its city "
                  "test, then with it at each point of its grid (the default: 50,000 "
                  "people, 10 km)")
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
    rule: Annotated[str, typer.Option(help="War-fire rule every window and yardstick is "
                                           "detected with (default: the product's; e.g. "
                                           "seasonal+moved, the rule it "
                                           "replaced, to compare).")] = "seasonal",
    keep_war_ground: Annotated[bool, typer.Option(
        "--keep-war-ground", help="Measure the peacetime yardsticks on all ground, the "
        "war in Donetsk and Luhansk since 2014 included (the method before; default: "
        "left out, as assess and the climatology do).")] = False,
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

    grounds = vv.prepare(root, names, log=log, rule=rule, keep_war_ground=keep_war_ground)
    rows = vv.run_verdicts(grounds, {n: counts[n] for n in names if n in counts}, seed=seed,
                           old=old, log=log)
    stress_rows = vv.stress(grounds["war-2022-2023"], stress_windows, seed=seed) \
        if stress_windows else None
    if as_json:
        _emit_json({"seed": seed, "rule": rule,
                    "yardsticks": "all ground" if keep_war_ground else "war ground left out",
                    "targets": vv.targets(rows, stress_rows),
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

"""`truceline demo`: the whole pipeline on the real sample data, end to end.

1. build a lake from the sample data (FIRMS 2000-2023 and August 2025; DeepState,
   liveuamap and ISW control maps); files already in the lake are skipped by hash;
2. learn the peacetime climatologies (once; stored in the lake);
3. assess two real cases, each with every control map that covers it: the Orthodox
   Christmas truce of January 2023 (ISW, liveuamap) and a what-if ceasefire on the
   August 2025 VIIRS days (DeepState, liveuamap);
4. write a signed report for each case (with the map comparison inside), verify it, and
   say where the reports are and what the verdicts were.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from truceline.errors import InputError
from truceline.lake.store import Lake

Progress = Callable[[str, int, int], None]

#: (example agreement file, control maps to compare; the first is the report's own)
CASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("christmas_truce_2023.toml", ("isw", "liveuamap")),
    ("august_2025_whatif.toml", ("deepstate", "liveuamap")),
)


def examples_dir() -> Path:
    """The example agreements shipped beside the package source."""
    return Path(__file__).resolve().parents[2] / "examples" / "agreements"


def demo_inputs(data: Path) -> dict[str, list[Path]]:
    """The real files the demo ingests, checked to exist."""
    inputs = {
        "firms": [data / "firms/ukraine_yearly", data / "firms/viirs_noaa20_nrt_2025"],
        "control": [data / "frontline/deepstate", data / "frontline/liveuamap_nzz",
                    data / "frontline/rus_control_2023/rus_control_2023.shp"],
    }
    missing = [str(p) for ps in inputs.values() for p in ps if not p.exists()]
    if missing:
        raise InputError(f"demo data incomplete under {data}: missing {', '.join(missing)}")
    return inputs


def build_demo_lake(lake: Lake, data: Path, progress: Progress) -> dict[str, Any]:
    """Ingest every FIRMS file and control map of the sample data into ``lake``."""
    inputs = demo_inputs(data)
    firms = lake.ingest_firms(inputs["firms"], progress=progress)
    control = lake.ingest_control(inputs["control"], progress=progress)
    return {
        "firms_files_ingested": len(firms.files),
        "detections_added": firms.total("added"),
        "rows_rejected": firms.total("rejected"),
        "control_snapshots_ingested": len(control.files),
        "files_skipped": len(firms.skipped) + len(control.skipped),
    }


def assess_cases(lake: Lake, data: Path, out: Path, signer: Any, progress: Progress
                 ) -> list[dict[str, Any]]:
    """Assess each demo case with each of its maps; write, sign and verify one report."""
    from truceline.pipeline import baseline, compare_maps, run_assessment, write_assessment
    from truceline.publish.manifest import verify_report
    from truceline.sources.agreements import load_agreement

    weather = data / "context" / "weather"
    climatologies = baseline(lake)  # read once for every case and map
    results = []
    steps = sum(len(maps) for _, maps in CASES)
    done = 0
    for file, maps in CASES:
        agreement = load_agreement(examples_dir() / file)
        runs = {}
        for source in maps:
            progress("assess", done, steps)
            runs[source] = run_assessment(lake, agreement, control_source=source,
                                          weather_dir=weather if weather.is_dir() else None,
                                          climatologies=climatologies)
            done += 1
        progress("assess", done, steps)
        main = runs[maps[0]]
        main.assessment["map_comparison"] = compare_maps(runs)
        main.assessment["reasons"].append(main.assessment["map_comparison"]["note"])
        target = out / Path(file).stem
        written = write_assessment(main, target, signer=signer, lake=lake)
        check = verify_report(target, expected_public_key=signer.public_key)
        results.append({
            "agreement": agreement.name, "report": str(target / "report.html"),
            "verdict": main.assessment["verdict"], "rule": main.assessment["rule"],
            "control_map": maps[0], "verdict_by_map": {
                m: r.assessment["verdict"] for m, r in runs.items()},
            "map_note": main.assessment["map_comparison"]["note"],
            "incidents": len(main.assessment["incidents"]),
            "verified": check.ok, "ledger_seq": written["ledger_seq"],
            "reasons": main.assessment["reasons"],
        })
    return results

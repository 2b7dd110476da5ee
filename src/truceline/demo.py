"""`truceline demo`: build a lake from the real sample data and show what it holds.

The data is found in ``--data``, $TRUCELINE_DATA or ../shared/data. Re-running is cheap:
files already in the lake are skipped by their SHA-256.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from truceline.errors import InputError
from truceline.lake.store import Lake

Progress = Callable[[str, int, int], None]


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

"""truceline: monitor ceasefires from space.

FIRMS active-fire detections, control maps and an agreement's terms go in; incidents,
an honest verdict and signed, reproducible reports come out.

In a notebook::

    import truceline as tl
    lake = tl.Lake("truceline-lake")
    lake.ingest_firms(["../shared/data/firms/viirs_noaa20_nrt_2025"])
    run = tl.assess("examples/agreements/august_2025_whatif.toml", lake)
    run.assessment["verdict"], run.incidents          # a GeoDataFrame, UTC times

The names below are loaded on first use (PEP 562), so ``import truceline`` and
``truceline --help`` do not pay for pandas, GeoPandas and the rest. docs/PYTHON_API.md
walks from an empty lake to a verdict and a map.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

#: Public name -> the module that defines it (``__all__`` and ``truceline.api.__all__``
#: are read from here, so a name is listed once).
_EXPORTS: dict[str, str] = {
    "Agreement": "truceline.sources.agreements",
    "assess": "truceline.api",
    "build_baseline": "truceline.api",
    "check_sector": "truceline.api",
    "detect": "truceline.api",
    "Detected": "truceline.api",
    "enrich": "truceline.api",
    "generate_keypair": "truceline.publish.signing",
    "incident_map": "truceline.api",
    "InputError": "truceline.errors",
    "IntegrityError": "truceline.errors",
    "Lake": "truceline.lake.store",
    "LakeError": "truceline.errors",
    "line_of_contact": "truceline.api",
    "load_agreement": "truceline.sources.agreements",
    "open_lake": "truceline.api",
    "progress_bars": "truceline.progress",
    "read_detections": "truceline.api",
    "sector_names": "truceline.api",
    "sectors": "truceline.api",
    "timeline": "truceline.api",
    "TrucelineError": "truceline.errors",
    "verify": "truceline.api",
    "write_report": "truceline.api",
}

#: The public names: the table's keys, written in case-insensitive order.
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use and keep the name here."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'truceline' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

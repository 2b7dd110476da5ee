"""Signed reports: written whole, verified, and recomputed from any folder.

A report must survive a hostile reader and a moved or copied folder, so it names
nothing local: the agreement travels inside it (``agreement/``), the lake is named by
the state it was read in (ledger length and head, table versions) and looked for where
the verifier says (``--lake``), the weather folder relative to the data folder. The
pipeline computes (`truceline.pipeline.run_assessment`); this module writes, checks and
re-runs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from truceline import config
from truceline.errors import InputError, LakeError, TrucelineError
from truceline.progress import Progress, no_progress

__all__ = ["AGREEMENT_DIR", "key_figures", "lake_state", "recompute_differences",
           "verify_folder", "write_assessment"]

AGREEMENT_DIR = "agreement"  # the report's copy of the agreement and the files it names


def lake_state(lake: Any) -> dict[str, Any]:
    """What identifies the lake a result was computed from, without naming where it is:
    the ledger's length and head (every ingest, baseline and report is chained into it),
    and the version of each table read (`Lake.table_versions`: a pinned lake's)."""
    from truceline.lake.ledger import head_of

    entries = lake.ledger_entries()
    return {"ledger_entries": len(entries), "ledger_head": head_of(entries),
            "table_versions": lake.table_versions()}


def write_assessment(run: Any, out_dir: Path, *, signer: Any, lake: Any) -> dict[str, Any]:
    """Write the report folder, sign its manifest and log it in the lake's ledger.

    The folder is built aside and moved into place only when signed and logged
    (`publish.folder.staged_folder`): a failure leaves an earlier report as it was, and
    nothing that was already in ``out_dir`` is signed. The agreement file and the files
    it names are copied into ``agreement/`` so the report can be recomputed anywhere.
    """
    from truceline.publish.folder import copy_agreement, staged_folder
    from truceline.publish.manifest import MANIFEST_FILE, sha256_file, sign_report
    from truceline.publish.report import write_report
    from truceline.publish.signing import key_fingerprint

    with staged_folder(Path(out_dir)) as stage:
        copy_agreement(run.agreement, stage / AGREEMENT_DIR)
        w = (run.agreement.start_utc, run.agreement.end_utc)
        snap = str(run.assessment.get("control_map", {}).get("snapshot_at_start") or "")
        write_report(stage, run.assessment, run.incidents, run.line_of_contact, run.timeline,
                     run.ru_ground, window=w, title=run.agreement.name,
                     generated_utc=datetime.now(UTC).replace(microsecond=0),
                     detections=run.detections,
                     snapshot={"snapshot_id": snap, "date": snap.rpartition(":")[2] or None,
                               "source": snap.partition(":")[0] or run.control_source},
                     signer_fingerprint=key_fingerprint(signer.public_key))
        manifest = sign_report(stage, inputs=run.inputs, parameters=run.parameters,
                               signer=signer, inputs_root=lake.root, inputs_root_label="lake")
        state = run.parameters.get("lake_state") or {}
        entry = lake.record("publish-report", report=Path(out_dir).name,
                            agreement=run.agreement.name, verdict=run.assessment["verdict"],
                            control_source=run.control_source,
                            manifest_sha256=sha256_file(stage / MANIFEST_FILE),
                            read_ledger_head=state.get("ledger_head"),
                            read_ledger_entries=state.get("ledger_entries"))
    return {"manifest": manifest, "ledger_seq": entry["seq"]}


def key_figures(assessment: dict[str, Any]) -> dict[str, Any]:
    """The figures a recompute must reproduce: verdict, rule, incidents, counts, contrast."""
    figures: dict[str, Any] = {
        "verdict": assessment.get("verdict"),
        "rule": assessment.get("rule"),
        "incidents": sorted(str(i.get("incident_id")) for i in assessment.get("incidents", [])),
        "coverage_adequate": assessment.get("coverage", {}).get("adequate"),
    }
    for r in assessment.get("rates", []):
        key = f"rates[{r.get('area')}/{r.get('by')}/{r.get('key')}]"
        figures[key] = (r.get("x_window"), r.get("x_comparison"))
    for c in assessment.get("contrast", []):
        figures[f"contrast[{c.get('side', c.get('key', 'all'))}]"] = (
            _round(c.get("estimate")), _round(c.get("lo")), _round(c.get("hi")))
    return figures


def _round(v: Any) -> Any:
    return round(float(v), 6) if isinstance(v, int | float) else v


def recompute_differences(directory: Path, manifest: dict[str, Any],
                          progress: Progress = no_progress, *,
                          lake_dir: Path | None = None) -> list[str]:
    """Re-run a report's assessment and list the figures that differ (empty: the same).

    The agreement is the report's own copy; the lake is ``lake_dir`` (default: the one
    an older manifest names, else $TRUCELINE_LAKE or ./truceline-lake), read at the
    table versions the report records, after checking its ledger still holds the head
    the report read. Raises a TrucelineError when the recompute cannot run at all (no
    lake, no agreement, no weather folder), so callers can still show the signature.
    """
    from truceline.lake.ledger import head_of
    from truceline.pipeline import run_assessment
    from truceline.sources.agreements import load_agreement

    directory = Path(directory)
    params = manifest.get("parameters", {})
    if params.get("command") != "assess" or not params.get("agreement"):
        raise InputError(f"{directory}: the manifest records no assessment to recompute "
                         "(parameters.command, parameters.agreement)")
    agreement_file = Path(params["agreement"])
    if not agreement_file.is_absolute():  # the copy inside the report (older: absolute)
        agreement_file = directory / agreement_file
    agreement = load_agreement(agreement_file)
    root = lake_dir or (Path(params["lake"]) if params.get("lake") else config.lake_dir())
    if not (root / "ledger.jsonl").is_file():
        raise LakeError(f"{root}: no lake here to recompute the report from: give the lake "
                        "it was made from with --lake (or $TRUCELINE_LAKE)")
    weather = _weather(params.get("weather_dir"))
    lake, diffs = _lake_as_read(root, params.get("lake_state"), head_of)
    source = params.get("control_source")
    run = run_assessment(lake, agreement,
                         control_source=None if source in (None, "any") else source,
                         weather_dir=weather, rule=params.get("rule", "seasonal"),
                         progress=progress)
    try:
        stored = json.loads((directory / "assessment.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [*diffs, f"assessment.json cannot be read ({type(exc).__name__})"]
    old, new = key_figures(stored), key_figures(run.assessment)
    for k in sorted(set(old) | set(new)):
        if old.get(k) != new.get(k):
            diffs.append(f"{k}: report {old.get(k)!r}, recomputed {new.get(k)!r}")
    return diffs


def _weather(recorded: Any) -> Path | None:
    """The weather folder a report used, found here, or InputError naming it."""
    if not recorded:
        return None
    name = str(recorded)
    folder = Path(name) if Path(name).is_absolute() else config.resolve_portable(name)
    if folder is None or not folder.is_dir():
        raise InputError(f"the report used the weather folder {name!r}, not found here: "
                         f"point ${config.DATA_ENV} at the data folder that holds it")
    return folder


def _lake_as_read(root: Path, state: Any, head_of: Any) -> tuple[Any, list[str]]:
    """The lake at ``root`` as the report read it (its table versions when recorded),
    and a difference when its ledger no longer holds the head the report read."""
    from truceline.lake.store import Lake

    lake = Lake(root)
    if not isinstance(state, dict):
        return lake, []
    diffs = []
    entries = lake.ledger_entries()
    n, head = state.get("ledger_entries"), state.get("ledger_head")
    if not (isinstance(n, int) and 0 <= n <= len(entries) and head_of(entries[:n]) == head):
        diffs.append(f"lake: its ledger does not hold the head the report read (entry {n}, "
                     f"{str(head)[:16]}...): another lake, or its history was rewritten")
    versions = state.get("table_versions")
    if isinstance(versions, dict) and versions:
        lake = Lake(root, versions=versions)  # time travel to what the report read
    return lake, diffs


def verify_folder(directory: Path, *, public_key: Any = None, check_inputs: bool = False,
                  recompute: bool = False, lake_dir: Path | None = None,
                  progress: Progress = no_progress) -> dict[str, Any]:
    """Signature and hashes of a report folder and, with ``recompute``, its figures
    re-run: everything ``truceline verify`` prints, as a dict.

    A recompute that cannot run never hides the signature result: its reason is given
    in ``recompute_error`` and ``exit_code`` is 4 for a failed check (signature, hash,
    figures), else the recompute error's code (2 input, 3 lake), else 0.
    """
    from truceline.publish.manifest import verify_report

    directory = Path(directory)
    root = lake_dir or config.lake_dir()
    if check_inputs and _inputs_from_lake(directory) and not Path(root).is_dir():
        # asked for, and impossible here: bad input, not a pass with a warning
        raise InputError(f"--check-inputs: no lake at {root} (--lake, $TRUCELINE_LAKE or "
                         "./truceline-lake): the report's inputs are named relative to the "
                         "lake it was made from; give that lake")
    result = verify_report(directory, expected_public_key=public_key,
                           check_inputs=check_inputs or recompute,
                           inputs_root=root if _inputs_from_lake(directory) else None)
    diffs: list[str] = []
    error, code = None, 0
    if recompute and result.manifest is not None:
        try:
            diffs = recompute_differences(directory, result.manifest, progress,
                                          lake_dir=lake_dir)
        except TrucelineError as exc:
            error, code = str(exc), exc.exit_code
    ok = result.ok and not diffs and error is None
    exit_code = 4 if not result.ok or diffs else code
    return {**result.to_dict(), "ok": ok, "recomputed": recompute and error is None,
            "recompute_differences": diffs, "recompute_error": error,
            "exit_code": exit_code, "summary": result.summary()}


def _inputs_from_lake(directory: Path) -> bool:
    """True when the manifest names its inputs relative to the lake (not an old
    manifest's absolute folder)."""
    try:
        doc = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    root = doc.get("inputs_root") if isinstance(doc, dict) else None
    return isinstance(root, str) and not root.startswith("/")

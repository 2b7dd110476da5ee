"""docs/PYTHON_API.md is run as written: every ```python block in order, in one
namespace, in an empty folder beside a link to examples/, on the real sample data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "PYTHON_API.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_the_page_has_code_to_run():
    blocks = python_blocks(PAGE.read_text(encoding="utf-8"))
    assert len(blocks) >= 8
    assert all("import truceline as tl" not in b for b in blocks[1:])  # one import, first


@pytest.mark.slow
def test_python_api_walkthrough_runs_from_an_empty_lake(data_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRUCELINE_DATA", str(data_dir))
    monkeypatch.setenv("TRUCELINE_KEYS", str(tmp_path / "keys"))
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    ns: dict[str, object] = {"__name__": "walkthrough"}
    for i, block in enumerate(python_blocks(PAGE.read_text(encoding="utf-8"))):
        try:
            exec(compile(block, f"{PAGE.name} block {i + 1}", "exec"), ns)
        except Exception as exc:  # name the block that failed
            raise AssertionError(f"{PAGE.name} block {i + 1} failed: {exc!r}\n{block}") from exc

    # what the page claims
    run = ns["run"]
    assert run.assessment["verdict"] == "violated"
    assert run.incidents.crs.to_epsg() == 4326
    assert str(run.incidents["t_start"].dt.tz) == "UTC"
    assert str(ns["inc"]["t_start"].dt.tz) == "UTC" and len(ns["inc"]) > 10
    assert ns["det"].crs.to_epsg() == 4326 and str(ns["det"]["t_utc"].dt.tz) == "UTC"
    assert (tmp_path / "august_2025_map.png").stat().st_size > 10_000
    assert ns["check"]["ok"] is True
    assert (tmp_path / "out/august_2025/report.html").is_file()
    daily = ns["daily"]
    assert daily["n_detections"].sum() > 0 and daily["date"].nunique() == 21
    assert "Pokrovsk" in set(ns["sectors"]["name"])
    assert not (tmp_path / "truceline-lake" / ".txn").exists() or not any(
        (tmp_path / "truceline-lake" / ".txn").iterdir())

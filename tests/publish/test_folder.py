"""A report folder is built aside and swapped in whole: a failure leaves the earlier one
as it was, and nothing found in --out is ever signed or deleted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from truceline.errors import InputError
from truceline.publish.folder import check_out_dir, staged_folder


def earlier_report(folder: Path, extra: dict[str, str] | None = None) -> None:
    folder.mkdir(parents=True)
    (folder / "report.html").write_text("old")
    (folder / "manifest.json").write_text(json.dumps(
        {"outputs": [{"path": "report.html", "sha256": "0" * 64}]}))
    (folder / "manifest.sig").write_text("sig")
    for name, text in (extra or {}).items():
        (folder / name).write_text(text)


def test_new_empty_and_earlier_reports_are_accepted(tmp_path):
    check_out_dir(tmp_path / "new")
    (tmp_path / "empty").mkdir()
    check_out_dir(tmp_path / "empty")
    earlier_report(tmp_path / "old")
    check_out_dir(tmp_path / "old")


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_text("x"), r"--out .*out: is a file"),
    (lambda p: (p.mkdir(), (p / "CONCLUSION.txt").write_text("held")),
     r"holds 1 file\(s\) \(CONCLUSION.txt\) and no manifest.json"),
    (lambda p: earlier_report(p, {"CONCLUSION.txt": "held"}),
     r"is an earlier report plus 1 file\(s\) its manifest does not list \(CONCLUSION.txt\)"),
    (lambda p: (p.mkdir(), (p / "manifest.json").write_text("[1, 2")),
     r"holds 1 file\(s\) \(manifest.json\) and no manifest.json"),
])
def test_anything_else_is_refused(tmp_path, make, message):
    out = tmp_path / "out"
    make(out)
    with pytest.raises(InputError, match=message):
        with staged_folder(out):
            raise AssertionError("never reached")
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_the_new_folder_replaces_the_old_whole(tmp_path):
    out = tmp_path / "out"
    earlier_report(out)
    with staged_folder(out) as stage:
        assert stage.parent == tmp_path and stage.name.startswith(".out.new-")
        (stage / "report.html").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == ["report.html"]
    assert (out / "report.html").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_failure_leaves_the_earlier_folder_as_it_was(tmp_path):
    out = tmp_path / "out"
    earlier_report(out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(RuntimeError, match="disk full"):
        with staged_folder(out) as stage:
            (stage / "report.html").write_text("half")
            raise RuntimeError("disk full")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]

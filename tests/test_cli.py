"""The command line as a user meets it: dates and sector names checked before any work,
`truceline sectors`, missing years in `lake info`, an example in every --help."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from truceline.cli import app
from truceline.errors import TrucelineError
from truceline.lake.store import Lake

runner = CliRunner()


def run(args: list[str], **kw) -> tuple[int, str]:
    """Exit code and output as `truceline` gives them (main maps library errors to
    exit codes and prints them; CliRunner calls the app below main)."""
    r = runner.invoke(app, args, **kw)
    if isinstance(r.exception, TrucelineError):
        return r.exception.exit_code, f"error: {r.exception}"
    return r.exit_code, r.output


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.mark.parametrize("cmd", [
    ["detect", "--from", "2025-08-31", "--to", "2025-08-21"],
    ["timeline", "--from", "2025-08-31", "--to", "2025-08-21", "--out", "{tmp}/tl"],
    ["enrich", "--from", "2025-08-31", "--to", "2025-08-21"],
])
def test_a_reversed_range_fails_at_once_and_stores_nothing(cmd, tmp_path):
    lake = tmp_path / "lake"
    code, output = run([c.format(tmp=tmp_path) for c in cmd] + ["--lake", str(lake)])
    assert code == 2, output
    assert "--from 2025-08-31 is after --to 2025-08-21" in output
    assert _files(lake) == [] and not (tmp_path / "tl").exists()


@pytest.mark.parametrize(("cmd", "option", "value"), [
    (["detect", "--from", "2025-8-21", "--to", "2025-08-31"], "--from", "2025-8-21"),
    (["detect", "--from", "2025-08-21", "--to", "yesterday"], "--to", "yesterday"),
    (["timeline", "--from", "2025-08-21", "--to", "2025-02-30"], "--to", "2025-02-30"),
    (["line", "--date", "21/08/2025"], "--date", "21/08/2025"),
    (["sectors", "--date", "2025-13-01"], "--date", "2025-13-01"),
])
def test_an_unreadable_date_names_the_option_and_value(cmd, option, value, tmp_path):
    code, output = run(cmd + ["--lake", str(tmp_path / "lake")])
    assert code == 2, output
    assert f"{option} {value!r}: not a day; expected YYYY-MM-DD" in output
    assert _files(tmp_path / "lake") == []


def _commands(group=None, path=()):
    """Every command of the app, as the words that call it (groups walked)."""
    import typer.main

    group = group or typer.main.get_command(app)
    for name, cmd in sorted(group.commands.items()):
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, (*path, name))
        else:
            yield [*path, name]


COMMANDS = [*_commands(), ["validate"]]  # the validate group runs every check


@pytest.mark.parametrize("cmd", COMMANDS, ids=" ".join)
def test_every_command_help_shows_an_example(cmd):
    """Each command's --help ends with a runnable example (epilog="Example: truceline
    ..."), and fits 80 columns."""
    r = runner.invoke(app, [*cmd, "--help"], terminal_width=80)
    assert r.exit_code == 0
    assert f"Example: truceline {' '.join(cmd)}" in " ".join(r.output.split())
    assert max(len(line) for line in r.output.splitlines()) <= 80


# ------------------------------------------------------------------ on real data
def test_sectors_lists_the_names_of_the_day(small_lake):
    r = runner.invoke(app, ["sectors", "--date", "2025-08-21", "--lake", str(small_lake.root),
                            "--json"])
    assert r.exit_code == 0, r.output
    got = json.loads(r.output)
    names = {s["name"] for s in got["sectors"]}
    assert {"Pokrovsk", "Kherson", "Kupyansk"} <= names
    assert got["snapshot_id"] == "deepstate:2025-08-21"
    # the named stretches add up to (almost) the whole line
    line = runner.invoke(app, ["line", "--date", "2025-08-21", "--lake",
                               str(small_lake.root), "--json"])
    total = json.loads(line.output)["length_km"]
    assert 0.9 * total <= sum(s["line_km"] for s in got["sectors"]) <= total + 1
    table = runner.invoke(app, ["sectors", "--date", "2025-08-21", "--lake",
                                str(small_lake.root)], terminal_width=80)
    assert "Pokrovsk" in table.output
    assert max(len(line) for line in table.output.splitlines()) <= 80


def test_an_unknown_sector_exits_2_with_the_closest_names(small_lake, tmp_path):
    args = ["timeline", "--from", "2025-08-20", "--to", "2025-08-22", "--sector", "Pokrovks",
            "--out", str(tmp_path / "tl"), "--lake", str(small_lake.root)]
    code, output = run(args)
    assert code == 2, output
    assert "--sector 'Pokrovks': no such sector" in output
    assert "closest: Pokrovsk" in output
    assert "truceline sectors --date 2025-08-20" in output
    assert not (tmp_path / "tl").exists()
    # the installed command: exit status 2 and the message on stderr
    proc = subprocess.run([sys.executable, "-c", "from truceline.cli import main; main()",
                           *args], capture_output=True, text=True)
    assert proc.returncode == 2 and "closest: Pokrovsk" in proc.stderr


def test_lake_info_flags_missing_years(tmp_path, data_dir):
    """Two yearly lists with a year between them not ingested: the gap is named."""
    lk = Lake(tmp_path / "lake")
    files = []
    for year in (2019, 2021):
        src = data_dir / f"firms/ukraine_yearly/ukr_fire_data_{year}.csv"
        head = src.read_text(encoding="utf-8").splitlines()[:200]
        files.append(tmp_path / src.name)
        files[-1].write_text("\n".join(head) + "\n", encoding="utf-8")
    lk.ingest_firms(files, sensor="VIIRS")
    r = runner.invoke(app, ["lake", "info", "--lake", str(lk.root), "--json"])
    assert json.loads(r.output)["missing_years"] == {"any": [2020], "VIIRS": [2020]}
    r = runner.invoke(app, ["lake", "info", "--lake", str(lk.root)], terminal_width=80)
    assert "missing years" in r.output and "VIIRS       2020" in r.output


def test_reasons_wrap_under_their_bullet_and_keep_brackets(monkeypatch):
    import io

    from rich.console import Console

    from truceline.cli import _base
    from truceline.cli import assess as assess_cli

    buf = io.StringIO()
    console = Console(file=buf, width=80)
    for module in (_base, assess_cli):  # where the verdict and its bullets print
        monkeypatch.setattr(module, "out", console)
    reason = ("front rate 1.50/day (95% CI 0.31-4.38) in the band [0, 30] km is above the "
              "peacetime rate 0.00/day of the same ground and season in [2019, 2020]")
    assess_cli._print_verdict("A truce", {"verdict": "held", "rule": "H1", "reasons": [reason]},
                       Path("out/truce"))
    lines = buf.getvalue().splitlines()
    assert all(len(line) <= 80 and line == line.rstrip() for line in lines)
    assert lines[1].startswith("  - front rate") and lines[2].startswith("    ")
    assert "[0, 30]" in buf.getvalue() and "[2019, 2020]" in buf.getvalue()

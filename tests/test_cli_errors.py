"""The command line never shows a traceback for bad input: each case exits 2 (bad
input), 3 (lake) or 4 (integrity) with one message naming the file, line, key or value,
and user text is printed as it is (never read as Rich markup)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from agreement_text import agreement_toml
from truceline import cli

MARKUP = "Truce [/x] [bold]"  # an agreement name Rich would read as markup
DONETSK = [[37.5, 47.8], [38.2, 47.8], [38.2, 48.2], [37.5, 48.2], [37.5, 47.8]]


def run(monkeypatch, capsys, *argv: str) -> tuple[int, str, str]:
    """Run `truceline ARGV` in this process as the console script does (cli.main)."""
    monkeypatch.setattr(sys, "argv", ["truceline", *argv])
    code = 0
    try:
        cli.main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_message(err: str) -> str:
    """stderr as one line (Rich wraps long lines) and with no traceback in it."""
    assert "Traceback" not in err
    return " ".join(err.split())


@pytest.fixture
def lake(tmp_path) -> Path:
    return tmp_path / "lake"


def test_markup_in_a_header_is_printed_as_it_is(monkeypatch, capsys, tmp_path, lake):
    p = tmp_path / "f.csv"
    p.write_text("latitude[/x],longitude,[bold]acq_date\n1,2,3\n")
    code, _, err = run(monkeypatch, capsys, "ingest", "firms", str(p), "--lake", str(lake))
    assert code == 2
    assert "columns ['latitude[/x]', 'longitude', '[bold]acq_date']" in one_message(err)


def test_valid_from_garbage(monkeypatch, capsys, tmp_path, lake):
    p = tmp_path / "map.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    code, _, err = run(monkeypatch, capsys, "ingest", "control", str(p), "--source", "other",
                       "--valid-from", "garbage", "--lake", str(lake))
    assert code == 2
    assert "error: --valid-from 'garbage': not a day; expected YYYY-MM-DD" in one_message(err)
    assert not lake.exists()  # refused before the lake was touched


@pytest.mark.parametrize("doc, message", [
    ([{"type": "FeatureCollection"}], "holds a list at the top level: expected an object"),
    ({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": None,
         "geometry": {"type": "Polygon", "coordinates": [[[37.5, 47.8], [38.2, 999],
                                                          [37.5, 48.2], [37.5, 47.8]]]}}]},
     "y 47.8 to 999 are not lon/lat degrees"),
])
def test_bad_maps_exit_2_and_leave_no_lake(monkeypatch, capsys, tmp_path, lake, doc, message):
    p = tmp_path / "deepstatemap_data_20250820.geojson"
    p.write_text(json.dumps(doc))
    code, _, err = run(monkeypatch, capsys, "ingest", "control", str(p), "--lake", str(lake))
    assert code == 2 and message in one_message(err)
    assert not (lake / "control").exists()


def test_map_warnings_are_shown(monkeypatch, capsys, tmp_path, lake):
    p = tmp_path / "deepstatemap_data_20990820.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": None,
         "geometry": {"type": "Polygon", "coordinates": [DONETSK]}}]}))
    code, out, err = run(monkeypatch, capsys, "ingest", "control", str(p), "--lake", str(lake))
    assert code == 0, err
    assert "warning: " in err and "dated 2099-08-20, after today" in one_message(err)


@pytest.mark.parametrize("start", ["0001-01-01 00:00", "9999-12-31 00:00"])
def test_agreement_years_out_of_range(monkeypatch, capsys, tmp_path, lake, start):
    p = tmp_path / "a.toml"
    p.write_text(agreement_toml(name=MARKUP, start=start, end="duration_days = 2"))
    code, _, err = run(monkeypatch, capsys, "assess", str(p), "--lake", str(lake))
    assert code == 2
    assert "key 'start' = \"" + start + "\": expected a time in the years 1900 to 2200" in \
        one_message(err)


def test_key_naming_a_folder(monkeypatch, capsys, tmp_path, lake):
    p = tmp_path / "a.toml"
    p.write_text(agreement_toml(name=MARKUP, end="duration_days = 2"))
    keys = tmp_path / "keys"
    keys.mkdir()
    lake.mkdir()  # an empty lake: the key is refused before anything is read
    code, _, err = run(monkeypatch, capsys, "assess", str(p), "--lake", str(lake),
                       "--key", str(keys), "--out", str(tmp_path / "out"))
    assert code == 2
    assert f"{keys}: is a folder: expected a private key file (PEM)" in one_message(err)


def test_assess_names_an_unknown_rule_before_any_work(monkeypatch, capsys, tmp_path, lake):
    p = tmp_path / "a.toml"
    p.write_text(agreement_toml(name=MARKUP, end="duration_days = 2"))
    out = tmp_path / "out"
    code, _, err = run(monkeypatch, capsys, "assess", str(p), "--lake", str(lake),
                       "--rule", "seasonal-moved", "--out", str(out))
    assert code == 2
    assert "rule 'seasonal-moved': no such rule" in one_message(err)
    assert not out.exists() and not lake.exists()  # nothing read, nothing written


def test_keys_are_refused_inside_a_lake_or_report(monkeypatch, capsys, tmp_path, lake):
    lake.mkdir()
    (lake / "ledger.jsonl").write_text("")
    code, _, err = run(monkeypatch, capsys, "keys", "generate", "--dir", str(lake / "k"))
    assert code == 2 and "is inside" in err and not (lake / "k").exists()
    report = tmp_path / "report"
    report.mkdir()
    (report / "manifest.json").write_text("{}")
    code, _, err = run(monkeypatch, capsys, "keys", "generate", "--dir", str(report / "k"),
                       "--lake", str(tmp_path / "other"))
    assert code == 2 and "is inside a report folder" in one_message(err)


def test_public_key_is_0644_whatever_the_umask(monkeypatch, capsys, tmp_path):
    import os

    old = os.umask(0o077)
    try:
        code, _, err = run(monkeypatch, capsys, "keys", "generate", "--dir",
                           str(tmp_path / "k"), "--lake", str(tmp_path / "lake"))
    finally:
        os.umask(old)
    assert code == 0, err
    assert (tmp_path / "k" / "truceline_ed25519.pub.pem").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "k" / "truceline_ed25519.pem").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("garble", ["{not json", "", '{"entries": 99, "hash": "00"}'])
def test_a_garbled_ledger_head_is_an_integrity_error(monkeypatch, capsys, tmp_path, lake,
                                                     garble):
    p = tmp_path / "fire_archive_J1V-C2_1.csv"
    p.write_text("latitude,longitude,acq_date\n48.1,37.2,2025-08-18\n")
    code, _, err = run(monkeypatch, capsys, "ingest", "firms", str(p), "--lake", str(lake))
    assert code == 0, err
    (lake / "ledger.head").write_text(garble)
    for argv in (["lake", "info"], ["ledger", "verify"]):
        code, out, err = run(monkeypatch, capsys, *argv, "--lake", str(lake))
        assert code == 4, (argv, out, err)
        one_message(err + out)  # no traceback
        assert "ledger.head" in "".join((err + out).split())  # a long path may wrap inside


@pytest.mark.parametrize("argv", [
    ["detect", "--from", "2022-03-01", "--to", "2022-03-05"],
    ["lake", "info"],
    ["validate", "detection"],
])
def test_a_lake_that_does_not_exist_is_named_not_read_as_empty(monkeypatch, capsys, lake,
                                                               argv):
    """A mistyped --lake must not read as an empty lake and blame missing FIRMS data."""
    code, _, err = run(monkeypatch, capsys, *argv, "--lake", str(lake))
    assert code == 2
    assert f"no lake at {lake}: the folder does not exist" in one_message(err)
    assert not lake.exists()  # nor is one made there
    # a folder of other files is not an empty lake either
    lake.mkdir()
    (lake / "fires.csv").write_text("latitude,longitude\n")
    code, _, err = run(monkeypatch, capsys, *argv, "--lake", str(lake))
    assert code == 2
    assert f"no lake at {lake}: the folder holds files but no lake.json" in one_message(err)
    assert [p.name for p in lake.iterdir()] == ["fires.csv"]


def test_baseline_years_the_lake_does_not_hold_are_refused(monkeypatch, capsys, tmp_path,
                                                           lake):
    """A peacetime year without data would count as a year without fire (fire would look
    rarer than it is), so asking for one stops the build and keeps the stored baseline."""
    from firms_text import VIIRS_HEADER

    p = tmp_path / "fire_archive_V1_1.csv"
    p.write_text(VIIRS_HEADER + "\n" + "\n".join(
        f"48.{i},37.{i},330,0.4,0.4,{y}-07-1{i},0100,N,n,2,290,3.0,D,VIIRS"
        for y in (2018, 2019) for i in range(3)) + "\n")
    assert run(monkeypatch, capsys, "ingest", "firms", str(p), "--lake", str(lake))[0] == 0
    entries = (lake / "ledger.jsonl").read_text()
    code, _, err = run(monkeypatch, capsys, "baseline", "build", "--years", "VIIRS=2014",
                       "--lake", str(lake))
    assert code == 2
    assert ("the lake holds no VIIRS detections in 2014 (it holds VIIRS in 2018-2019)"
            in one_message(err))
    code, _, err = run(monkeypatch, capsys, "baseline", "build", "--years",
                       "VIIRS=2019-2018", "--lake", str(lake))
    assert code == 2 and "'2019-2018' in '2019-2018' runs backwards" in one_message(err)
    assert (lake / "ledger.jsonl").read_text() == entries
    assert not (lake / "baseline").exists()


def test_an_out_path_that_cannot_be_written_is_refused_before_the_work(monkeypatch, capsys,
                                                                       tmp_path, lake):
    """No traceback after minutes of work: a file where a folder is wanted (or the other
    way round), or a folder under a file, exits 2 at once naming what is in the way."""
    a_file = tmp_path / "afile.txt"
    a_file.write_text("keep me")
    ag = tmp_path / "a.toml"
    ag.write_text(agreement_toml())
    lake.mkdir()
    cases = [
        (["line", "--date", "2025-08-15", "--out", str(tmp_path)],
         f"--out {tmp_path}: is a folder: expected a file name"),
        (["timeline", "--from", "2025-08-20", "--to", "2025-08-25", "--out", str(a_file)],
         f"--out {a_file}: is a file: expected a folder"),
        (["assess", str(ag), "--out", str(a_file / "report")],
         f"--out {a_file / 'report'}: {a_file} is a file, so no folder can be made under it"),
    ]
    for argv, message in cases:
        code, _, err = run(monkeypatch, capsys, *argv, "--lake", str(lake))
        assert code == 2, argv
        assert message in one_message(err)
    assert a_file.read_text() == "keep me" and not any(lake.iterdir())


def test_verify_names_a_mistyped_folder_or_key_as_bad_input(monkeypatch, capsys, tmp_path):
    """Exit 2 (bad input), not 4 (a report that fails its check), for a folder that is not
    there and for a key that is not a public key."""
    from truceline.publish.signing import default_private_key

    code, _, err = run(monkeypatch, capsys, "verify", str(tmp_path / "nope"))
    assert code == 2
    assert f"{tmp_path / 'nope'}: no such folder: expected a report folder" in one_message(err)
    private, _ = default_private_key(tmp_path / "keys")
    report = tmp_path / "report"
    report.mkdir()
    code, _, err = run(monkeypatch, capsys, "verify", str(report), "--public-key", str(private))
    assert code == 2
    assert "is a private key: expected the public key" in one_message(err)
    assert "PRIVATE" not in err


def test_ingest_names_the_lines_it_set_aside(monkeypatch, capsys, tmp_path, lake):
    """Rejected rows are kept in quarantine and the terminal says which lines and why."""
    from firms_text import VIIRS_HEADER

    p = tmp_path / "fire_archive_V1_9.csv"
    p.write_text(VIIRS_HEADER + "\n"
                 "48.1,37.1,330,0.4,0.4,2023-07-11,0100,N,n,2,290,3.0,D,VIIRS\n"
                 "abc,37.2,330,0.4,0.4,2023-07-12,0100,N,n,2,290,3.0,D,VIIRS\n"
                 "48.3,37.3,330,0.4,0.4,2023-07-13,2561,N,n,2,290,3.0,D,VIIRS\n")
    code, out, _ = run(monkeypatch, capsys, "ingest", "firms", str(p), "--lake", str(lake))
    text = " ".join(out.split())
    assert code == 0 and "added 1 detections, rejected 2 rows" in text
    assert "rejected fire_archive_V1_9.csv, line 3: field latitude value 'abc' is not a " \
        "number" in text
    assert "rejected fire_archive_V1_9.csv, line 4: impossible acq_time '2561'" in text


def test_a_firms_file_with_no_valid_row_is_refused(monkeypatch, capsys, tmp_path, lake):
    """A file whose every row is rejected is a wrong or broken file: exit 2 naming it and
    its first bad lines, and the lake (detections, quarantine, ledger) as it was."""
    from firms_text import VIIRS_HEADER
    from truceline.lake.store import Lake

    good = tmp_path / "fire_archive_V1_9.csv"
    good.write_text(VIIRS_HEADER + "\n"
                    "48.1,37.1,330,0.4,0.4,2023-07-11,0100,N,n,2,290,3.0,D,VIIRS\n")
    assert run(monkeypatch, capsys, "ingest", "firms", str(good), "--lake", str(lake))[0] == 0
    before = Lake(lake)
    n_det, n_ledger = len(before.read_detections()), len(before.ledger_entries())
    bad = tmp_path / "fire_archive_V1_10.csv"
    bad.write_text(VIIRS_HEADER + "\n"
                   "48.1,37.1,330,0.4,0.4,11/07/2023,0100,N,n,2,290,3.0,D,VIIRS\n"
                   "48.2,37.2,330,0.4,0.4,12/07/2023,0100,N,n,2,290,3.0,D,VIIRS\n")
    code, _, err = run(monkeypatch, capsys, "ingest", "firms", str(bad), "--lake", str(lake))
    msg = one_message(err)
    assert code == 2
    assert f"{bad}: none of its 2 rows is a valid detection (line 2:" in msg
    assert "acq_date" in msg and "nothing was ingested" in msg
    after = Lake(lake)
    assert len(after.read_detections()) == n_det and len(after.ledger_entries()) == n_ledger
    assert after.read_quarantine().empty


def test_an_unknown_control_source_is_bad_input(monkeypatch, capsys, tmp_path, lake):
    """A name no control source has is a typo (exit 2); a known source the lake lacks is
    missing data (exit 3)."""
    from truceline.lake.store import Lake

    p = tmp_path / "map.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {},
         "geometry": {"type": "Polygon", "coordinates": [DONETSK]}}]}))
    assert run(monkeypatch, capsys, "ingest", "control", str(p), "--source", "deepstate",
               "--valid-from", "2025-08-10", "--lake", str(lake))[0] == 0
    assert len(Lake(lake).read_control("deepstate")) == 1
    code, _, err = run(monkeypatch, capsys, "line", "--date", "2025-08-15",
                       "--control-source", "deepstat", "--lake", str(lake))
    assert code == 2 and "no control snapshots from source 'deepstat'" in one_message(err)
    code, _, err = run(monkeypatch, capsys, "line", "--date", "2025-08-15",
                       "--control-source", "isw", "--lake", str(lake))
    assert code == 3 and "the lake has: deepstate" in one_message(err)
    # assess --compare-with names a misspelt source before it judges anything (it used
    # to find out half a minute later, after the first judgement)
    ag = tmp_path / "a.toml"
    ag.write_text(agreement_toml(name="x", end="duration_days = 2"))
    versions = Lake(lake).table_versions()
    code, _, err = run(monkeypatch, capsys, "assess", str(ag), "--lake", str(lake),
                       "--compare-with", "deepstat", "--out", str(tmp_path / "out"))
    assert code == 2 and "no control snapshots from source 'deepstat'" in one_message(err)
    assert Lake(lake).table_versions() == versions and not (tmp_path / "out").exists()
    # a map read long after its day says so
    code, _, err = run(monkeypatch, capsys, "line", "--date", "2030-01-01", "--lake",
                       str(lake))
    assert code == 0
    assert ("the newest map in force on 2030-01-01 is deepstate:2025-08-10, 1,605 days "
            "older: the line may have moved since") in one_message(err)
    code, _, err = run(monkeypatch, capsys, "line", "--date", "2025-08-15", "--lake",
                       str(lake))
    assert code == 0 and "older" not in err


def test_validate_verdicts_names_an_unknown_rule_before_any_work(monkeypatch, capsys,
                                                                 tmp_path) -> None:
    """A misspelt --rule is refused at once (exit 2, the rules listed), not after the
    minutes the study spends loading the history."""
    data = tmp_path / "data"
    (data / "firms" / "ukraine_yearly").mkdir(parents=True)
    code, _, err = run(monkeypatch, capsys, "validate", "verdicts", "--data", str(data),
                       "--rule", "seasonal-without-city", "--war", "1", "--peace", "0",
                       "--donbas", "0", "--moving", "0", "--stress", "0")
    msg = one_message(err)
    assert code == 2
    assert "rule 'seasonal-without-city': no such rule" in msg
    assert "seasonal-without-cities" in msg


def test_validate_detection_context_without_a_context_folder_is_refused_at_once(
        monkeypatch, capsys, tmp_path) -> None:
    """--context reads the data folder's context/ (weather, land use, people): a folder
    without it is named (exit 2) before the lake is opened or any minute is spent."""
    data = tmp_path / "data"
    data.mkdir()
    code, _, err = run(monkeypatch, capsys, "validate", "detection", "--context", "--data",
                       str(data), "--lake", str(tmp_path / "no-lake"))
    assert code == 2
    assert f"--data {data}: no context/ folder there" in one_message(err)


@pytest.mark.parametrize(("option", "value", "expected"), [
    ("--frontier-km", "0", "--frontier-km 0: expected a distance from the line in km"),
    ("--frontier-alpha", "1.5", "--frontier-alpha 1.5: expected a p_natural bound"),
    ("--frontier-alpha", "0", "--frontier-alpha 0: expected a p_natural bound"),
])
def test_validate_detection_refuses_a_frontier_point_out_of_range_at_once(
        monkeypatch, capsys, tmp_path, option, value, expected) -> None:
    """A frontier point is a distance > 0 and a p_natural bound in (0, 1]: anything else
    is named (exit 2) before the lake is opened or any minute is spent."""
    code, _, err = run(monkeypatch, capsys, "validate", "detection", option, value,
                       "--lake", str(tmp_path / "no-lake"))
    assert code == 2 and expected in one_message(err)


def test_timeline_says_when_an_agreement_lies_outside_the_period() -> None:
    """An agreement shaded on a timeline of other days shades nothing: the user is told
    (it used to pass in silence), and one that overlaps says nothing."""
    import warnings
    from pathlib import Path

    from truceline.cli.assess import _warn_windows_outside
    from truceline.sources.agreements import load_agreement

    path = Path(__file__).parents[1] / "examples/agreements/christmas_truce_2023.toml"
    a = load_agreement(path)
    with pytest.warns(UserWarning, match=r"christmas_truce_2023.toml: its window .* lies "
                                         r"outside 2025-08-11..2025-08-31"):
        _warn_windows_outside([a], [path], "2025-08-11", "2025-08-31")
    day = f"{a.start_utc:%Y-%m-%d}"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _warn_windows_outside([a], [path], day, day)

"""Agreement files: the examples load, times are right in UTC, bad files say what is wrong."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import shapely

from agreement_text import agreement_toml
from truceline.config import data_dir
from truceline.errors import InputError
from truceline.sources.agreements import (
    DEFAULT_CONTROL_BAND_KM,
    Agreement,
    Window,
    load_agreement,
    parse_agreement,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "agreements"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.toml"))

MINIMAL = agreement_toml()


def write(tmp_path: Path, text: str, name: str = "a.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --------------------------------------------------------------------------- examples


def test_all_six_examples_are_present() -> None:
    names = {p.stem for p in EXAMPLE_FILES}
    assert {"christmas_truce_2023", "august_2025_whatif", "easter_2025", "victory_day_2025",
            "energy_moratorium_2025", "donbas_2020"} <= names


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_every_example_loads(path: Path) -> None:
    a = load_agreement(path)
    assert isinstance(a, Agreement)
    assert a.path == path
    assert a.start.tzinfo is not None and a.end.tzinfo is not None
    assert a.start_utc < a.end_utc
    assert a.comparison.end_utc <= a.start_utc or a.comparison.start_utc >= a.end_utc
    assert {"ua", "ru"} <= set(a.party_ids)
    hash(a)  # frozen and hashable: usable as a cache key


def test_christmas_truce_instants() -> None:
    a = load_agreement(EXAMPLES / "christmas_truce_2023.toml")
    assert a.time_zone == "Europe/Moscow"
    assert a.start_utc == utc(2023, 1, 6, 9)  # 12:00 MSK = 09:00 UTC
    assert a.end_utc == utc(2023, 1, 7, 21)  # 24:00 on 7 Jan MSK
    assert a.duration == timedelta(hours=36)
    assert a.comparison.start_utc == utc(2023, 1, 4, 21)
    assert a.comparison.end_utc == a.start_utc
    assert a.scope.whole_line and a.scope.band_km == (0.0, 30.0)
    assert a.control_band_km == DEFAULT_CONTROL_BAND_KM
    assert a.control_source == "isw"
    assert a.declared_by == ("ru",) and a.accepted_by == ()


def test_august_whatif_ten_days_and_ten_before() -> None:
    a = load_agreement(EXAMPLES / "august_2025_whatif.toml")
    assert a.start_utc == utc(2025, 8, 20, 21)  # Kyiv summer time is UTC+3
    assert a.end_utc == utc(2025, 8, 30, 21)
    assert a.comparison.duration == a.duration == timedelta(days=10)
    assert a.comparison.end_utc == a.start_utc
    assert a.control_source == "deepstate"
    assert a.hypothetical  # a what-if: reports carry a banner saying so


def test_energy_moratorium_is_a_protected_sites_agreement() -> None:
    a = load_agreement(EXAMPLES / "energy_moratorium_2025.toml")
    assert a.prohibited.fire_near_line is False
    assert a.prohibited.protected_sites == EXAMPLES / "energy_sites_2025.csv"
    assert a.duration == timedelta(days=30)


def test_donbas_is_open_ended_with_a_monitored_period() -> None:
    a = load_agreement(EXAMPLES / "donbas_2020.toml")
    assert a.open_ended
    assert a.start_utc == utc(2020, 7, 26, 21, 1)
    assert a.duration == timedelta(days=30)


def _csv_rows() -> dict[str, dict[str, str]]:
    d = data_dir()
    if d is None or not (d / "ceasefires.csv").exists():
        pytest.skip("../shared/data/ceasefires.csv not available")
    with open(d / "ceasefires.csv", newline="", encoding="utf-8") as f:
        return {r["name"]: r for r in csv.DictReader(f)}


@pytest.mark.parametrize(
    ("stem", "row"),
    [
        ("christmas_truce_2023", "Orthodox Christmas truce 2023"),
        ("easter_2025", "Easter truce 2025"),
        ("victory_day_2025", "Victory Day truce 2025"),
        ("energy_moratorium_2025", "Energy infrastructure strike moratorium 2025"),
        ("donbas_2020", "Donbas comprehensive ceasefire 2020"),
    ],
)
def test_examples_match_ceasefires_csv(stem: str, row: str) -> None:
    """The examples are written from the facts file: zone and start agree with it."""
    facts = _csv_rows()[row]
    a = load_agreement(EXAMPLES / f"{stem}.toml")
    assert a.time_zone == facts["time_zone"]
    assert a.start.strftime("%Y-%m-%d %H:%M").startswith(facts["start_local"])
    end = facts["end_local"]
    if end == "open-ended":
        assert a.open_ended
    elif " " in end:
        day, hm = end.split(" ")
        expected = (datetime.fromisoformat(day) + timedelta(days=1)) if hm == "24:00" \
            else datetime.fromisoformat(end)
        assert a.end.replace(tzinfo=None) == expected
    else:
        assert a.end.strftime("%Y-%m-%d") == end


# --------------------------------------------------------------------------- times


def test_minimal_file_gets_defaults(tmp_path: Path) -> None:
    a = load_agreement(write(tmp_path, MINIMAL))
    assert a.scope.whole_line
    assert a.prohibited.fire_near_line and a.prohibited.protected_sites is None
    assert a.comparison == Window(a.start - timedelta(days=2), a.start)
    assert a.control_source is None
    assert a.hypothetical is False


def test_hypothetical_must_be_true_or_false(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="hypothetical.*true or false"):
        load_agreement(write(tmp_path, 'hypothetical = "yes"\n' + MINIMAL))


def test_24_00_is_the_end_of_that_day(tmp_path: Path) -> None:
    a = load_agreement(write(tmp_path, MINIMAL.replace('"2025-08-23 00:00"',
                                                       '"2025-08-22 24:00"')))
    assert a.end_utc == utc(2025, 8, 22, 21)


def test_toml_native_local_datetime_and_date(tmp_path: Path) -> None:
    text = MINIMAL.replace('"2025-08-21 00:00"', "2025-08-21T06:30:00") \
                  .replace('"2025-08-23 00:00"', "2025-08-23")
    a = load_agreement(write(tmp_path, text))
    assert a.start_utc == utc(2025, 8, 21, 3, 30)
    assert a.end_utc == utc(2025, 8, 22, 21)


def test_duration_is_elapsed_time_across_dst(tmp_path: Path) -> None:
    text = MINIMAL.replace('start = "2025-08-21 00:00"', 'start = "2025-10-25 12:00"') \
                  .replace('end = "2025-08-23 00:00"', "duration_hours = 48")
    a = load_agreement(write(tmp_path, text))
    assert a.duration == timedelta(hours=48)
    assert a.end.strftime("%H:%M") == "11:00"  # clocks went back on 26 October


def test_window_contains_is_half_open_and_vectorised() -> None:
    a = parse_agreement(MINIMAL)
    mask = a.window.contains(["2025-08-20 20:59:59", "2025-08-20 21:00", "2025-08-22 20:59",
                              "2025-08-22 21:00"])
    assert mask.tolist() == [False, True, True, False]
    import pandas as pd

    s = pd.Series(pd.to_datetime(["2025-08-21 12:00"]).tz_localize("UTC"))
    assert a.window.contains(s).tolist() == [True]


def test_inline_and_file_polygons(tmp_path: Path) -> None:
    square = {"type": "Polygon", "coordinates": [[[37, 48], [38, 48], [38, 49], [37, 49],
                                                  [37, 48]]]}
    (tmp_path / "zone.geojson").write_text(json.dumps(
        {"type": "FeatureCollection",
         "features": [{"type": "Feature", "properties": {}, "geometry": square}]}))
    text = MINIMAL + """
[scope]
sectors = ["Pokrovsk", "Kupiansk"]
band_km = [0, 15]
polygons = "zone.geojson"
exclusions = { type = "Polygon", coordinates = [[[37.1, 48.1], [37.2, 48.1], [37.2, 48.2], \
[37.1, 48.1]]] }
"""
    a = load_agreement(write(tmp_path, text))
    assert a.scope.sectors == ("Pokrovsk", "Kupiansk")
    assert not a.scope.whole_line
    assert a.scope.polygons is not None and a.scope.polygons.area == pytest.approx(1.0)
    assert a.scope.exclusions is not None
    assert shapely.contains(a.scope.polygons, a.scope.exclusions)
    assert "sectors Pokrovsk, Kupiansk" in a.scope.describe()


def test_explicit_comparison_window(tmp_path: Path) -> None:
    text = MINIMAL + '\n[comparison]\nstart = "2024-08-21 00:00"\nend = "2024-08-23 00:00"\n'
    a = load_agreement(write(tmp_path, text))
    assert a.comparison.start_utc == utc(2024, 8, 20, 21)


# --------------------------------------------------------------------------- errors

BAD_CASES = [
    # (replace old, with new, message pattern)
    ('name = "Test truce"', 'name = ""', r"a\.toml: key 'name' = \"\": expected a non-empty"),
    ('name = "Test truce"\n', "", r"key 'name' is missing"),
    ('"Europe/Kyiv"', '"Europe/Kiev-ish"',
     r"key 'time_zone' = \"Europe/Kiev-ish\": expected an IANA time zone"),
    ('"2025-08-21 00:00"', '"21.08.2025 00:00"',
     r"key 'start' = \"21\.08\.2025 00:00\": expected a local date-time 'YYYY-MM-DD HH:MM'"),
    ('"2025-08-21 00:00"', '"2025-02-30 00:00"', r"key 'start' = \"2025-02-30 00:00\".*day is"),
    ('"2025-08-21 00:00"', '"2025-08-21 24:30"', r"key 'start' = \"2025-08-21 24:30\""),
    ('"2025-08-21 00:00"', "2025-08-21T00:00:00+03:00",
     r"key 'start' = 2025-08-21 00:00:00\+03:00: expected .*without a UTC offset"),
    ('"2025-08-21 00:00"', "42", r"key 'start' = 42: expected a local date-time"),
    ('"2025-08-23 00:00"', '"2025-08-20 00:00"',
     r"key 'end' = \"2025-08-20 00:00\": expected a time after start \(2025-08-21 00:00"),
    ('end = "2025-08-23 00:00"', 'end = "2025-08-23 00:00"\nduration_days = 2',
     r"'end', 'duration_days' are given together: expected only one"),
    ('end = "2025-08-23 00:00"', "duration_days = -1",
     r"key 'duration_days' = -1: expected a positive number of days"),
    ('end = "2025-08-23 00:00"', "", r"key 'end' is missing"),
    ('name = "Test truce"', 'name = "Test truce"\nstrat = "2025-08-21 00:00"',
     r"unknown key 'strat' = \"2025-08-21 00:00\": expected one of .*did you mean 'start'"),
    ('name = "Test truce"', 'name = "Test truce"\ncontrol_source = "google"',
     r"key 'control_source' = \"google\": expected one of 'deepstate', 'liveuamap', 'isw'"),
    ('name = "Test truce"', 'name = "Test truce"\nschema = 2', r"key 'schema' = 2: expected 1"),
    ('name = "Test truce"', 'name = "Test truce"\ndeclared_by = ["us"]',
     r"key 'declared_by' = \[\"us\"\]: expected an array of party ids .*'ua', 'ru'"),
    ('id = "ru"', 'id = "ua"', r"key 'parties\[1\]\.id' = \"ua\": expected an id not used"),
    ('id = "ru"', 'id = "RU"', r"key 'parties\[1\]\.id' = \"RU\": expected a short lower-case"),
    ('name = "Russia"', 'name = "Russia"\nflag = "x"',
     r"unknown key 'parties\[1\]\.flag' = \"x\": expected one of id, name"),
    ('name = "Russia"', 'name = "Russia"\ncontrol_source = "isw"',
     r"'control_source' is a top-level key: in TOML it must come before the first"),
    ('[[parties]]\nid = "ru"\nname = "Russia"\n', "",
     r"key 'parties' = .*: expected an array of at least two tables"),
]


@pytest.mark.parametrize(("old", "new", "pattern"), BAD_CASES)
def test_bad_top_level_values_are_named(tmp_path: Path, old: str, new: str,
                                        pattern: str) -> None:
    assert old in MINIMAL
    path = write(tmp_path, MINIMAL.replace(old, new, 1))
    with pytest.raises(InputError, match=pattern):
        load_agreement(path)


def test_message_starts_with_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace('"Europe/Kyiv"', '"Mars/Olympus"'))
    with pytest.raises(InputError) as info:
        load_agreement(path)
    assert str(info.value).startswith(f"{path}: key 'time_zone' = \"Mars/Olympus\"")


@pytest.mark.parametrize(
    ("start", "pattern"),
    [
        ('"2025-03-30 03:30"', r"key 'start' = \"2025-03-30 03:30\": expected a time that "
                               r"exists in Europe/Kyiv"),
        ('"2025-10-26 03:30"', r"key 'start' = \"2025-10-26 03:30\": expected a time that "
                               r"happens only once"),
    ],
)
def test_dst_gap_and_fold_are_refused(tmp_path: Path, start: str, pattern: str) -> None:
    text = MINIMAL.replace('"2025-08-21 00:00"', start).replace(
        'end = "2025-08-23 00:00"', "duration_days = 1")
    with pytest.raises(InputError, match=pattern):
        load_agreement(write(tmp_path, text))


@pytest.mark.parametrize(
    ("table", "pattern"),
    [
        ("[scope]\nband_km = [30, 5]",
         r"key 'scope\.band_km' = \[30, 5\]: expected \[min_km, max_km\] with 0 <= min_km"),
        ("[scope]\nband_km = [0, 15, 30]", r"key 'scope\.band_km' = \[0, 15, 30\]"),
        ("[scope]\nband_km = [-5, 15]", r"key 'scope\.band_km' = \[-5, 15\]"),
        ("[scope]\nsectors = \"Pokrovsk\"",
         r"key 'scope\.sectors' = \"Pokrovsk\": expected an array of sector names"),
        ("[scope]\nsectors = [\"A\", \"a\"]", r"expected sector names without repeats"),
        ("[scope]\nband = [0, 15]",
         r"unknown key 'scope\.band' = \[0, 15\]: .*did you mean 'scope\.band_km'"),
        ("[scope]\npolygons = \"nowhere.geojson\"",
         r"key 'scope\.polygons' = \"nowhere\.geojson\": expected an existing GeoJSON file"),
        ("[scope]\npolygons = { type = \"Point\", coordinates = [30, 50] }",
         r"key 'scope\.polygons' = .*\(got type \"Point\"\)"),
        ("[scope]\nexclusions = { type = \"Polygon\", coordinates = [[[0, 0], [1, 1], [1, 0], "
         "[0, 1], [0, 0]]] }", r"key 'scope\.exclusions' = .*expected valid polygons "
                               r"\(Self-intersection"),
        ("[scope]\npolygons = { type = \"Polygon\", coordinates = [[[0, 0], [200, 0], "
         "[200, 1], [0, 0]]] }", r"longitudes in \[-180, 180\]"),
        ("[prohibited]\nfire_near_line = \"yes\"",
         r"key 'prohibited\.fire_near_line' = \"yes\": expected true or false"),
        ("[prohibited]\nfire_near_line = false",
         r"key 'prohibited\.fire_near_line' = false: expected true, or a "
         r"'prohibited\.protected_sites' file"),
        ("[prohibited]\nprotected_sites = \"missing.csv\"",
         r"key 'prohibited\.protected_sites' = \"missing\.csv\": expected an existing sites"),
        ("[comparison]\nstart = \"2025-08-01 00:00\"",
         r"key 'comparison\.end' is missing: expected both"),
        ("[comparison]\nstart = \"2025-08-22 00:00\"\nend = \"2025-08-24 00:00\"",
         r"key 'comparison\.start' = \"2025-08-22 00:00\": expected a comparison window that "
         r"does not overlap"),
        ("[control_band]\nband_km = [20, 150]",
         r"key 'control_band\.band_km' = \[20, 150\]: expected a band beyond the front "
         r"band"),
        ("[control_band]\nside = \"other\"",
         r"unknown key 'control_band\.side' = \"other\": expected one of band_km"),
        ("scope = 3", r"key 'scope' = 3: expected a table \[scope\]"),
    ],
)
def test_bad_tables_are_named(tmp_path: Path, table: str, pattern: str) -> None:
    # a table goes after the parties; a top-level key before them
    text = MINIMAL + "\n" + table + "\n" if table.startswith("[") else table + "\n" + MINIMAL
    with pytest.raises(InputError, match=pattern):
        load_agreement(write(tmp_path, text))


def test_not_toml_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'name = "x\nstart = 1\n')
    with pytest.raises(InputError, match=r"a\.toml: not valid TOML: .*line 1"):
        load_agreement(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.toml: agreement file not found"):
        load_agreement(tmp_path / "nope.toml")


def test_sites_path_is_relative_to_the_agreement(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "sites.csv").write_text("name,lon,lat,radius_m,kind\nA,30,50,500,x\n")
    text = MINIMAL + '\n[prohibited]\nfire_near_line = false\nprotected_sites = "sites.csv"\n'
    a = load_agreement(write(tmp_path / "sub", text))
    assert a.prohibited.protected_sites == tmp_path / "sub" / "sites.csv"


def test_scope_mask_combines_band_sectors_polygons_and_exclusions(tmp_path: Path) -> None:
    text = MINIMAL + """
[scope]
sectors = ["Pokrovsk"]
band_km = [0, 15]
polygons = { type = "Polygon", coordinates = [[[37, 48], [38, 48], [38, 49], [37, 49], \
[37, 48]]] }
exclusions = { type = "Polygon", coordinates = [[[37.4, 48.4], [37.6, 48.4], [37.6, 48.6], \
[37.4, 48.6], [37.4, 48.4]]] }
"""
    a = load_agreement(write(tmp_path, text))
    dist = [-2.0, 5.0, 20.0, 5.0, 5.0, 5.0]
    sector = ["pokrovsk", "Pokrovsk", "Pokrovsk", "Kupiansk", "Pokrovsk", None]
    lon = [37.2, 37.2, 37.2, 37.2, 37.5, 37.2]
    lat = [48.2, 48.2, 48.2, 48.2, 48.5, 48.2]
    assert a.scope.mask(dist, sector, lon, lat).tolist() == [True, True, False, False, False,
                                                              False]
    with pytest.raises(InputError, match="expected a sector for each detection"):
        a.scope.mask(dist)
    assert a.control_mask([-70.0, 59.9, 150.0, float("nan")]).tolist() == [True, False, False,
                                                                           False]


def test_a_bad_protected_site_is_named_when_the_agreement_loads(tmp_path: Path) -> None:
    """A sites file's bad row used to surface some 18 s into `assess`, after the lake
    was read; it is named with the agreement, before any work."""
    (tmp_path / "sites.csv").write_text("name,lon,lat,radius_m,kind\n"
                                        "Plant,35.1,47.5,500,power\n"
                                        "Dam,east,47.6,500,dam\n")
    text = MINIMAL + '\n[prohibited]\nprotected_sites = "sites.csv"\n'
    with pytest.raises(InputError, match=r"sites.csv.*line 3"):
        load_agreement(write(tmp_path, text))

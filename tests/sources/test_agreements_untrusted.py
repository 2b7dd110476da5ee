"""Agreements are untrusted: the files they name stay inside the agreement's folder (or
the data folder), are regular and small, and no error repeats what such a file holds;
years far outside any truce are refused before any datetime arithmetic overflows."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from agreement_text import agreement_toml
from truceline.errors import InputError
from truceline.sources import agreements as ag_mod
from truceline.sources.agreements import load_agreement

SITES = "name,lon,lat,radius_m,kind\nPlant,35.6,51.7,2000,nuclear_power_plant\n"
ZONE = {"type": "Polygon", "coordinates": [[[37, 47], [38, 47], [38, 48], [37, 47]]]}


def agreement(folder: Path, *, start: str = "2025-08-21 00:00",
              end: str = 'end = "2025-08-23 00:00"', extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / "a.toml"
    p.write_text(agreement_toml(start=start, end=end) + extra, encoding="utf-8")
    return p


def sites_ref(value: str) -> str:
    return f'\n[prohibited]\nprotected_sites = "{value}"\n'


def polygons_ref(value: str) -> str:
    return f'\n[scope]\npolygons = "{value}"\n'


@pytest.mark.parametrize("start", ["0001-01-01 00:00", "9999-12-31 23:00", "1899-12-31"])
def test_years_far_outside_any_truce_are_refused(tmp_path, start):
    p = agreement(tmp_path, start=start, end="duration_days = 1")
    with pytest.raises(InputError, match=r"key 'start' = \".*\": expected a time in the "
                                         r"years 1900 to 2200"):
        load_agreement(p, data_dir=tmp_path / "nodata")


@pytest.mark.parametrize("end", ["duration_days = 1e300", "duration_hours = 1e12",
                                 "duration_days = 100000"])
def test_durations_that_overflow_are_refused(tmp_path, end):
    p = agreement(tmp_path, end=end)
    with pytest.raises(InputError, match=r"key 'duration_(days|hours)' = .*: expected a "
                                         r"positive number of (days|hours) ending by the "
                                         r"year 2200"):
        load_agreement(p)


def test_referenced_files_are_found_beside_the_agreement(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "sites.csv").write_text(SITES)
    (tmp_path / "zone.geojson").write_text(json.dumps(ZONE))
    p = agreement(tmp_path, extra=sites_ref("sub/sites.csv").replace(
        "[prohibited]", '[scope]\npolygons = "./zone.geojson"\n\n[prohibited]'))
    a = load_agreement(p)
    assert a.prohibited.protected_sites_ref == "sub/sites.csv"
    assert [name for name, _ in a.files] == ["zone.geojson", "sub/sites.csv"]
    assert a.prohibited.protected_sites == (tmp_path / "sub" / "sites.csv").resolve()


@pytest.mark.parametrize("ref", ["../secret.csv", "/etc/passwd", "/proc/self/environ",
                                 "sub/../../secret.csv", "C:/x.csv", "..\\\\secret.csv"])
def test_paths_leaving_the_folder_are_refused(tmp_path, ref):
    (tmp_path / "secret.csv").write_text(SITES)
    p = agreement(tmp_path / "ag", extra=sites_ref(ref))
    with pytest.raises(InputError, match=r"key 'prohibited.protected_sites' = .*: expected an "
                                         r"existing sites CSV file, as a relative path "
                                         r"without '\.\.'"):
        load_agreement(p, data_dir=tmp_path / "nodata")


def test_a_link_leaving_the_folder_is_refused(tmp_path):
    (tmp_path / "secret.csv").write_text(SITES)
    (tmp_path / "ag").mkdir()
    os.symlink(tmp_path / "secret.csv", tmp_path / "ag" / "sites.csv")
    p = agreement(tmp_path / "ag", extra=sites_ref("sites.csv"))
    with pytest.raises(InputError, match=r"inside .*ag \(it links outside\)"):
        load_agreement(p, data_dir=tmp_path / "nodata")


def test_environment_is_never_echoed(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUCELINE_SECRET_TOKEN", "hunter2-do-not-print")
    (tmp_path / "ag").mkdir()
    os.symlink("/proc/self/environ", tmp_path / "ag" / "env.csv")
    for extra in (sites_ref("env.csv"), polygons_ref("env.csv")):
        p = agreement(tmp_path / "ag", extra=extra)
        with pytest.raises(InputError) as err:
            load_agreement(p, data_dir=tmp_path / "nodata")
        assert "hunter2" not in str(err.value) and "TRUCELINE_SECRET" not in str(err.value)


@pytest.mark.parametrize("target, message", [
    ("/dev/urandom", "is not a regular file"),
    ("/dev/null", "is not a regular file"),
])
def test_devices_are_refused_without_reading(tmp_path, target, message):
    (tmp_path / "ag").mkdir()
    os.symlink(target, tmp_path / "ag" / "zone.geojson")
    # the link leaves the folder: refused before it is opened
    p = agreement(tmp_path / "ag", extra=polygons_ref("zone.geojson"))
    with pytest.raises(InputError, match="it links outside"):
        load_agreement(p, data_dir=tmp_path / "nodata")
    # a device inside the folder itself: refused by kind, not read
    fifo = tmp_path / "ag" / "pipe.geojson"
    os.mkfifo(fifo)
    p = agreement(tmp_path / "ag", extra=polygons_ref("pipe.geojson"))
    with pytest.raises(InputError, match=r"pipe.geojson: is not a regular file: expected a "
                                         r"file named by 'scope.polygons'"):
        load_agreement(p, data_dir=tmp_path / "nodata")


def test_a_folder_is_refused(tmp_path):
    (tmp_path / "ag" / "sites.csv").mkdir(parents=True)
    p = agreement(tmp_path / "ag", extra=sites_ref("sites.csv"))
    with pytest.raises(InputError, match=r"sites.csv: is a folder: expected a file named by "
                                         r"'prohibited.protected_sites'"):
        load_agreement(p, data_dir=tmp_path / "nodata")


def test_a_huge_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(ag_mod, "MAX_REFERENCED_BYTES", 1024)
    p = agreement(tmp_path, extra=polygons_ref("zone.geojson"))
    (tmp_path / "zone.geojson").write_text(json.dumps(ZONE) + " " * 2000)
    with pytest.raises(InputError, match=r"zone.geojson: is larger than 1 KB: expected a "
                                         r"file named by"):
        load_agreement(p, data_dir=tmp_path / "nodata")


def test_not_json_is_named_without_content(tmp_path):
    p = agreement(tmp_path, extra=polygons_ref("zone.geojson"))
    (tmp_path / "zone.geojson").write_text("SECRET=1\nTOKEN=2\n")
    with pytest.raises(InputError, match=r"expected a GeoJSON file \(not JSON at line 1, "
                                         r"column 1: Expecting value\)") as err:
        load_agreement(p, data_dir=tmp_path / "nodata")
    assert "SECRET" not in str(err.value)


def test_the_data_folder_is_the_second_place_looked(tmp_path):
    data = tmp_path / "data"
    (data / "sites").mkdir(parents=True)
    (data / "sites" / "energy.csv").write_text(SITES)
    p = agreement(tmp_path / "ag", extra=sites_ref("sites/energy.csv"))
    with pytest.raises(InputError, match=r"not found in .*ag or .*nodata\)"):
        load_agreement(p, data_dir=tmp_path / "nodata")
    a = load_agreement(p, data_dir=data)
    assert a.files == (("sites/energy.csv", (data / "sites" / "energy.csv").resolve()),)


def test_the_agreement_file_itself_must_be_regular(tmp_path):
    with pytest.raises(InputError, match=r"is a folder: expected an agreement file"):
        load_agreement(tmp_path)
    with pytest.raises(InputError, match=r"agreement file not found"):
        load_agreement(tmp_path / "nope.toml")


@pytest.mark.parametrize("data, message", [
    (agreement_toml().encode("utf-16"), r"a.toml: is UTF-16 text: expected an agreement "
                                        r"TOML file in UTF-8"),
    (b"\x1f\x8b\x08\x00", r"a.toml: is gzip-compressed: expected an agreement TOML file"),
])
def test_wrong_kinds_of_agreement_file_get_a_hint(tmp_path, data, message):
    p = tmp_path / "a.toml"
    p.write_bytes(data)
    with pytest.raises(InputError, match=message):
        load_agreement(p)

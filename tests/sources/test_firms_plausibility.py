"""FIRMS rows with impossible values are quarantined with their reason, gzip files are
read, and files that are not comma-separated UTF-8 CSV get a hint instead of a
traceback."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from firms_text import VIIRS_HEADER
from truceline.errors import InputError
from truceline.sources.firms import find_firms_files, parse_firms

GOOD = "48.40647,37.19036,337.59,0.49,0.48,2025-08-18,0013,N20,h,2,289.87,4.26,N,VIIRS"
NAME = "fire_archive_J1V-C2_1.csv"


def viirs(*rows: str) -> str:
    return VIIRS_HEADER + "\n" + "\n".join(rows) + "\n"


def write(tmp_path: Path, text: str, name: str = NAME) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def replace_field(row: str, index: int, value: str) -> str:
    cells = row.split(",")
    cells[index] = value
    return ",".join(cells)


@pytest.mark.parametrize("index, value, reason", [
    (11, "-5", "implausible frp '-5' MW: expected 0 to 100000 MW"),
    (11, "inf", "implausible frp 'inf' MW: expected 0 to 100000 MW"),
    (11, "1e9", "implausible frp '1e9' MW: expected 0 to 100000 MW"),
    (2, "-9999", "implausible bright_ti4 '-9999' K: expected 150 to 700 K"),
    (2, "-inf", "implausible bright_ti4 '-inf' K: expected 150 to 700 K"),
    (12, "X", "daynight 'X' is not D or N"),
    (13, "MODIS", "instrument 'MODIS' contradicts the VIIRS layout of the file's columns"),
    (13, "GOES", "instrument 'GOES' is not VIIRS or MODIS"),
    (7, "Terra", "satellite 'Terra' does not carry VIIRS (expected one of N, N20, N21, "
                 "unknown)"),
    (11, "nan", "field frp value 'nan' is not a number"),
])
def test_implausible_rows_are_quarantined_with_their_reason(tmp_path, index, value, reason):
    bad = replace_field(GOOD, index, value)
    other = GOOD.replace("48.40647", "48.5")
    f = parse_firms(write(tmp_path, viirs(other, bad)))
    assert len(f.detections) == 1 and f.detections["lat"].iat[0] == 48.5
    assert f.rejected[["line", "reason"]].to_dict("records") == [{"line": 3, "reason": reason}]
    assert f.rejected["raw"].iat[0] == bad


def test_real_extremes_pass(tmp_path):
    # folded saturated VIIRS pixels read ~208 K; saturation is 367 K; frp 0 is possible
    rows = [replace_field(replace_field(GOOD, 2, k), 0, f"48.{i}") for i, k in
            enumerate(("207.93", "367.0"))]
    rows.append(replace_field(GOOD.replace("48.40647", "48.9"), 11, "0"))
    f = parse_firms(write(tmp_path, viirs(*rows)))
    assert f.rejected.empty and len(f.detections) == 3


def test_gzip_files_are_read_and_found_in_folders(tmp_path):
    plain = parse_firms(write(tmp_path, viirs(GOOD)))
    gz = tmp_path / "gz" / (NAME + ".gz")
    gz.parent.mkdir()
    gz.write_bytes(gzip.compress(viirs(GOOD).encode()))
    packed = parse_firms(gz)
    assert packed.detections.drop(columns=["source_file", "source_sha256"]).equals(
        plain.detections.drop(columns=["source_file", "source_sha256"]))
    assert packed.sha256 != plain.sha256  # the file as given is what the ledger knows
    found, skipped = find_firms_files([tmp_path / "gz"])
    assert found == [gz] and skipped == []


def test_a_damaged_gzip_is_refused(tmp_path):
    p = tmp_path / (NAME + ".gz")
    p.write_bytes(gzip.compress(viirs(GOOD).encode())[:-12])
    with pytest.raises(InputError, match="is a truncated gzip file: download it again"):
        parse_firms(p)


@pytest.mark.parametrize("data, message", [
    (viirs(GOOD).encode("utf-16"), r"is UTF-16 text: expected a FIRMS CSV file in UTF-8 "
                                   r"\(save it again as 'CSV UTF-8', or run: iconv"),
    (viirs(GOOD).replace(",", ";").encode(), r"line 1: columns are separated by semicolons: "
                                             r"expected a comma-separated FIRMS CSV"),
    (viirs(GOOD).replace(",", "\t").encode(), r"line 1: columns are separated by tabs"),
    (b'[{"latitude": 48.4, "longitude": 37.2}]', r"is JSON: expected a FIRMS CSV file "
                                                  r"\(download the CSV form"),
    (b"PK\x03\x04\x14\x00", r"is a zip archive \(or an .xlsx/.ods spreadsheet\)"),
])
def test_wrong_kinds_of_file_get_a_hint(tmp_path, data, message):
    p = tmp_path / NAME
    p.write_bytes(data)
    with pytest.raises(InputError, match=message):
        parse_firms(p)


def test_a_header_is_never_echoed_whole(tmp_path):
    p = write(tmp_path, "x" * 500 + ",a,a\n1,2,3\n")
    with pytest.raises(InputError) as err:
        parse_firms(p)
    assert "line 1: header" in str(err.value) and "x" * 200 not in str(err.value)


def test_an_nrt_file_without_a_version_column(tmp_path):
    """Found by fuzzing: the NRT flag taken from the file name crashed (read-only array)."""
    p = write(tmp_path, "latitude,longitude,acq_date\n48.1,37.2,2025-08-18\n",
              name="MODIS_C6_1_Global_MCD14DL_NRT_2025230.txt")
    f = parse_firms(p)
    assert f.detections["is_nrt"].tolist() == [True]


@pytest.mark.parametrize("text, message", [
    ("latitude,longitude,acq_date\n48.1,37.2,2025-08-18\r48.2,37.3,2025-08-18\n",
     r"line 2: a carriage return without a line feed"),
    ("latitude,longitude,acq_date\n", None),
    ('latitude,longitude,acq_date\n48.1,"37.2,2025-08-18\n', None),
])
def test_odd_line_structure_is_refused_or_read(tmp_path, text, message):
    """Found by fuzzing: a lone CR or an unclosed quote broke the line bookkeeping."""
    p = write(tmp_path, text)
    if message:
        with pytest.raises(InputError, match=message):
            parse_firms(p)
    else:
        f = parse_firms(p)
        assert f.n_rows == len(f.detections) + len(f.rejected)

"""Parse NASA FIRMS active-fire files into canonical detection records.

Every layout FIRMS publishes, and those found in the wild, is read:

========== =====================================================================
layout     columns (case-insensitive)
========== =====================================================================
viirs      latitude, longitude, bright_ti4, scan, track, acq_date, acq_time,
           satellite, confidence (l/n/h or low/nominal/high), version,
           bright_ti5, frp, daynight[, instrument, type]
modis      latitude, longitude, brightness, scan, track, acq_date, acq_time,
           satellite, confidence (0-100), version, bright_t31, frp,
           daynight[, instrument, type]
minimal    latitude, longitude, acq_date (no time, no sensor)
economist  latitude, longitude, acq_time, date (The Economist's war-fire model)
========== =====================================================================

The sensor comes from the ``instrument`` column or the layout, else from the FIRMS
file-name conventions, else from the caller's ``sensor=``; a file that still has no
sensor (the mixed MODIS + VIIRS yearly lists) is split by coordinate precision, see
:func:`split_by_precision`. Rows that cannot be trusted are never dropped silently:
they come back in ``rejected`` with their line, raw text and reason; that includes rows
whose values are physically implausible (:data:`PLAUSIBLE`, an instrument or satellite
that contradicts the layout). Gzip files (``.csv.gz``, as FIRMS downloads often are) are
read; a UTF-16, semicolon-separated, spreadsheet or JSON file is refused with a hint.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from truceline.config import portable_path
from truceline.errors import InputError
from truceline.hashing import sha256_file
from truceline.sources.sniff import GZIP_MAGIC, gunzip, sniff_text

SENSORS = ("VIIRS", "MODIS")
SATELLITES = ("N", "N20", "N21", "Terra", "Aqua", "unknown")

#: VIIRS confidence classes mapped to the middle of the matching MODIS 0-100 class
#: (low < 30, nominal 30-80, high >= 80), so that both sensors share one 0-1 scale.
VIIRS_CONFIDENCE = {"l": 0.15, "low": 0.15, "n": 0.55, "nominal": 0.55, "h": 0.9, "high": 0.9}

_SATELLITE_ALIASES = {
    "n": "N", "npp": "N", "snpp": "N", "s-npp": "N", "suomi npp": "N", "suomi-npp": "N",
    "n20": "N20", "1": "N20", "j1": "N20", "noaa-20": "N20", "noaa20": "N20", "noaa 20": "N20",
    "n21": "N21", "2": "N21", "j2": "N21", "noaa-21": "N21", "noaa21": "N21", "noaa 21": "N21",
    "t": "Terra", "terra": "Terra", "a": "Aqua", "aqua": "Aqua",
}

#: FIRMS file-name conventions -> (sensor, satellite); first match wins.
FILENAME_RULES: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"^J1_VIIRS|_J1V-C2|J1V_C2|VJ114", re.I), "VIIRS", "N20"),
    (re.compile(r"^J2_VIIRS|_J2V-C2|J2V_C2|VJ214", re.I), "VIIRS", "N21"),
    (re.compile(r"^SUOMI_VIIRS|_SV-C2|SV_C2|VNP14", re.I), "VIIRS", "N"),
    (re.compile(r"^MODIS_C6|_M-C61|_M6|MCD14|M-C6", re.I), "MODIS", "unknown"),
)

#: earliest FIRMS record (Terra MODIS, November 2000); later dates are checked against now.
FIRST_FIRMS_DAY = pd.Timestamp("2000-11-01")

#: physically possible values (inclusive); outside them a row is quarantined. Brightness
#: temperatures of the Earth seen from orbit lie far inside 150-700 K (VIIRS I4 saturates
#: at 367 K and folds to ~208 K, MODIS band 21 at ~500 K); the largest fires measured
#: release ~1e5 MW. Real data: bright_ti4 207.9-367.0 K, frp 0.13-449.6 MW (Aug 2025).
PLAUSIBLE = {"brightness": (150.0, 700.0), "frp": (0.0, 1e5)}
DAYNIGHT = ("D", "N")
#: which satellites carry which sensor (``unknown`` fits both)
SENSOR_SATELLITES = {"VIIRS": ("N", "N20", "N21", "unknown"),
                     "MODIS": ("Terra", "Aqua", "unknown")}
FIRMS_SUFFIXES = (".csv", ".txt", ".csv.gz", ".txt.gz")

MINIMAL_COLUMNS = ("latitude", "longitude", "acq_date")
EXPECTED_HELP = (
    "expected a FIRMS layout: at least latitude, longitude and acq_date (or date), "
    "e.g. the VIIRS/MODIS archive and NRT CSV (latitude, longitude, bright_ti4|brightness, "
    "acq_date, acq_time, satellite, confidence, frp, daynight, ...), the minimal "
    "LATITUDE,LONGITUDE,ACQ_DATE list, or LATITUDE,LONGITUDE,ACQ_TIME,date"
)

DETECTION_COLUMNS = (
    "detection_id", "lon", "lat", "acq_date", "t_utc", "time_known", "sensor", "satellite",
    "confidence", "frp", "brightness", "daynight", "version", "is_nrt", "sensor_inferred",
    "source_file", "source_line", "source_sha256",
)
REJECTED_COLUMNS = ("file", "line", "raw", "reason")


@dataclass
class FirmsFile:
    """One parsed FIRMS file: its accepted detections and its rejected rows."""

    path: Path
    sha256: str
    layout: str
    n_rows: int
    detections: pd.DataFrame
    rejected: pd.DataFrame
    sensor_rule: dict[str, object] = field(default_factory=dict)


def sensor_from_filename(name: str) -> tuple[str | None, str | None]:
    """Sensor and satellite implied by a FIRMS file name, or (None, None).

    >>> sensor_from_filename("J1_VIIRS_C2_Global_VJ114IMGTDL_NRT_2025230.txt")
    ('VIIRS', 'N20')
    >>> sensor_from_filename("fire_archive_M-C61_12345.csv")
    ('MODIS', 'unknown')
    """
    for pattern, sensor, satellite in FILENAME_RULES:
        if pattern.search(name):
            return sensor, satellite
    return None, None


def detect_layout(columns: list[str]) -> str | None:
    """Which FIRMS layout a header is (lower-cased names), or None if it is none."""
    cols = set(columns)
    if not {"latitude", "longitude"} <= cols:
        return None
    if "acq_date" not in cols and "date" not in cols:
        return None
    if "bright_ti4" in cols:
        return "viirs"
    if "brightness" in cols:
        return "modis"
    if "acq_time" in cols and "acq_date" not in cols:
        return "economist"
    return "minimal" if "acq_time" not in cols else "timed"


def _columns(line: str) -> list[str]:
    """A header line's column names as :func:`detect_layout` takes them: split at commas,
    quotes and spaces dropped, lower-cased."""
    return [c.strip().strip('"').lower() for c in line.strip().split(",")]


def _physical_lines(raw: bytes) -> np.ndarray:
    """1-based physical line numbers of the non-empty lines of a file (vectorised)."""
    buf = np.frombuffer(raw, dtype=np.uint8)
    nl = np.flatnonzero(buf == 10)
    starts = np.concatenate(([0], nl + 1))
    ends = np.concatenate((nl, [buf.size]))
    lengths = ends - starts
    # a line holding only "\r" is empty too
    cr_only = (lengths == 1) & (buf[np.minimum(starts, max(buf.size - 1, 0))] == 13)
    keep = (lengths > 0) & ~cr_only
    return np.flatnonzero(keep) + 1


def read_table(path: Path, piece: tuple[bytes, int] | None = None
               ) -> tuple[pd.DataFrame, np.ndarray, list[tuple[int, str, str]]]:
    """Read a CSV as text columns with lower-cased names.

    Returns the frame, the physical line number of each row, and the rows whose field
    count is wrong as (line, raw text, reason). ``piece``: (the header line plus some of
    the file's lines, how many physical lines of the file precede those lines minus 1),
    to read a file in pieces (:func:`parse_firms_pieces`).
    """
    raw = read_firms_bytes(path) if piece is None else piece[0]
    first = raw.split(b"\n", 1)[0].decode("utf-8", "replace").strip()
    header = _columns(first)
    if not first or len(set(header)) != len(header):
        raise InputError(f"{path}: line 1: header {first[:120]!r} is empty or repeats a "
                         f"column; {EXPECTED_HELP}")
    lines = _physical_lines(raw)
    if piece is not None:
        lines[1:] += piece[1]  # the header is line 1; the piece's lines follow later ones
    bad: list[tuple[int, str, int]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad.append((row.number, row.text, row.actual_columns))
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.py_buffer(raw),
            read_options=pacsv.ReadOptions(
                use_threads=False, column_names=header, skip_rows=1, block_size=1 << 24
            ),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot be read as CSV ({exc}); {EXPECTED_HELP}") from exc
    # pyarrow numbers the non-empty lines from 1, header included: line index = number - 1
    bad_idx = np.array([b[0] - 1 for b in bad], dtype=np.int64)
    valid = np.setdiff1d(np.arange(1, len(lines)), bad_idx)  # index 0 is the header line
    if table.num_rows != len(valid):  # our line count and the CSV reader's disagree
        raise InputError(f"{path}: {table.num_rows} records where the file has "
                         f"{len(valid)} lines of data: expected one record per line (a "
                         "quoted field spanning lines?)")
    row_lines = lines[valid]
    bad_rows = [
        (int(lines[n - 1]) if 0 < n <= len(lines) else -1, text,
         f"has {ncol} fields, expected {len(header)}")
        for n, text, ncol in bad
    ]
    frame = table.to_pandas(types_mapper=None)
    frame.columns = header
    return frame, row_lines, bad_rows


def read_firms_bytes(path: Path) -> bytes:
    """A FIRMS file's bytes as UTF-8 CSV text: gzip unpacked, BOM dropped, and a clear
    refusal for what is not a comma-separated UTF-8 table."""
    raw = path.read_bytes()
    if raw.startswith(GZIP_MAGIC):
        raw = gunzip(path, raw)
    return _checked_text(path, raw)


def _checked_text(path: Path, raw: bytes) -> bytes:
    """The start of a file's text, checked as :func:`read_firms_bytes` says, BOM dropped."""
    sniff_text(path, raw[:4096], expected="a FIRMS CSV file")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    lone_cr = re.search(rb"\r(?!\n)", raw)
    if lone_cr is not None:
        line = raw.count(b"\n", 0, lone_cr.start()) + 1
        raise InputError(f"{path}: line {line}: a carriage return without a line feed: "
                         "expected lines ending in \\n or \\r\\n (old Mac line endings? "
                         "save the file again with Unix or Windows line endings)")
    first = raw.split(b"\n", 1)[0]
    for sep, name in ((b";", "semicolons"), (b"\t", "tabs")):
        if sep in first and b"," not in first:
            raise InputError(f"{path}: line 1: columns are separated by {name}: expected a "
                             "comma-separated FIRMS CSV (a spreadsheet saved it with the "
                             "wrong separator: export it again as CSV, comma-separated, "
                             "with '.' as the decimal point)")
    return raw


def _finite(values: np.ndarray) -> np.ndarray:
    """Coordinates with NaN, infinity and anything beyond 360 as 0 (rows already
    rejected), so that hashing them never overflows."""
    with np.errstate(invalid="ignore"):
        return np.where(np.abs(values) <= 360.0, values, 0.0)


def _decimals(text: pd.Series) -> np.ndarray:
    """Number of decimals written in each coordinate string (0 when none)."""
    if text.empty:  # .str.partition of no rows has no columns
        return np.zeros(0, dtype=np.int64)
    frac = text.str.strip().str.partition(".")[2]
    return frac.str.len().to_numpy(dtype=np.int64)


def split_by_precision(lat_text: pd.Series, lon_text: pd.Series, months: pd.Series
                       ) -> tuple[np.ndarray, dict[str, object]]:
    """Tell MODIS from VIIRS rows in a mixed list by coordinate precision.

    FIRMS writes MODIS coordinates with at most 4 decimals and VIIRS with 5 or 6, so a
    row with at most 4 decimals on *both* coordinates looks like MODIS. A VIIRS
    coordinate whose last digits happen to be zero looks like MODIS too. Per month we
    estimate how many VIIRS rows look like MODIS by chance: among clear VIIRS rows, the
    share q_lat of latitudes (given a long longitude) and q_lon of longitudes with <= 4
    decimals give an expected n_viirs * q_lat * q_lon look-alikes. When the MODIS-looking
    rows of a month are no more than chance (within 3 sigma), the month holds no MODIS
    and all its rows are VIIRS (the 2023 list is such a case). Returns an array of
    sensor names and the rule with its per-month counts, for the ledger.
    """
    dlat, dlon = _decimals(lat_text), _decimals(lon_text)
    short_lat, short_lon = dlat <= 4, dlon <= 4
    modis_like = short_lat & short_lon
    df = pd.DataFrame({"m": months.to_numpy(), "ml": modis_like,
                       "a": ~short_lat & ~short_lon, "lat_only": short_lat & ~short_lon,
                       "lon_only": ~short_lat & short_lon})
    g = df.groupby("m", sort=True).sum()
    q_lat = g["lat_only"] / (g["a"] + g["lat_only"]).clip(lower=1)
    q_lon = g["lon_only"] / (g["a"] + g["lon_only"]).clip(lower=1)
    n_clear = g["a"] + g["lat_only"] + g["lon_only"]
    expected = n_clear * q_lat * q_lon / (1 - q_lat * q_lon).clip(lower=1e-9)
    no_modis = (n_clear > 0) & (g["ml"] <= expected + 3 * np.sqrt(expected))
    months_without = set(g.index[no_modis.to_numpy()])
    all_viirs = months.isin(months_without).to_numpy()
    sensor = np.where(modis_like & ~all_viirs, "MODIS", "VIIRS")
    rule = {
        "rule": "MODIS if latitude and longitude both have <= 4 decimals, else VIIRS; "
                "a month whose MODIS-looking rows are within 3 sigma of the VIIRS "
                "look-alikes expected by chance is all VIIRS",
        "modis_rows": int((sensor == "MODIS").sum()),
        "viirs_rows": int((sensor == "VIIRS").sum()),
        "expected_viirs_lookalikes_kept_as_modis": round(
            float(expected[~no_modis.to_numpy()].sum()), 1),
        "months_all_viirs": sorted(str(m) for m in months_without if g.loc[m, "ml"] > 0),
    }
    return sensor, rule


def _splitmix64(x: np.ndarray) -> np.ndarray:
    x = (x + np.uint64(0x9E3779B97F4A7C15)).astype(np.uint64)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def detection_ids(sensor: np.ndarray, satellite: np.ndarray, minutes: np.ndarray,
                  lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Stable 64-bit ids (16 hex digits) from sensor, satellite, time, lat and lon.

    Time is whole minutes since 1970 (date-only rows use -1 - days, so they never meet
    a timed row); coordinates are rounded to 1e-5 degree (about 1 m), so the NRT and
    archive copies of one detection written as "00:13:00" and "0013" share an id. The
    mix is SplitMix64 over the fields, pure NumPy, identical on every platform.
    """
    sens = np.searchsorted(np.array(sorted(SENSORS)), sensor).astype(np.uint64)
    sats = np.array(sorted(SATELLITES))
    sat = np.searchsorted(sats, satellite).astype(np.uint64)
    with np.errstate(over="ignore"):
        h = _splitmix64(sens * np.uint64(31) + sat)
        for part in (minutes.astype(np.int64), np.rint(lat * 1e5).astype(np.int64),
                     np.rint(lon * 1e5).astype(np.int64)):
            h = _splitmix64(h ^ part.view(np.uint64))
    hexed = h.astype(">u8").tobytes().hex().encode()
    return np.frombuffer(hexed, dtype="S16").astype(str)


class _Rejections:
    """Collects the first reason each row fails, vectorised over columns."""

    def __init__(self, n: int) -> None:
        self.reason = np.full(n, None, dtype=object)

    def add(self, mask: np.ndarray, reason: str | np.ndarray,
            values: pd.Series | None = None, suffix: str = "") -> None:
        """Give the rows of ``mask`` that have no reason yet ``reason`` (one text, or one
        per row), or with ``values`` the text ``reason + value + suffix``, formatted for
        those rows only (most rows pass; formatting them all cost ~18 ms a column)."""
        take = np.asarray(mask, dtype=bool) & pd.isna(self.reason)
        if values is not None:
            if take.any():
                self.reason[take] = (reason + values[take] + suffix).to_numpy(dtype=object)
        elif isinstance(reason, np.ndarray):
            self.reason[take] = reason[take]
        else:
            self.reason[take] = reason

    @property
    def bad(self) -> np.ndarray:
        return ~pd.isna(self.reason)


def _numeric(frame: pd.DataFrame, col: str, rej: _Rejections, required: bool) -> np.ndarray:
    text = frame[col].str.strip()
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    empty = (text == "").to_numpy()
    if required:
        rej.add(empty, f"{col} is empty")
    notnum = np.isnan(values) & ~empty
    rej.add(notnum, "field " + col + " value '", text, "' is not a number")
    return values


def _parse_time(text: pd.Series, rej: _Rejections) -> np.ndarray:
    """HHMM (leading zeros optional) or HH:MM[:SS] in UTC -> minutes of day; -1 if absent."""
    s = text.str.strip()
    colon = s.str.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?")
    plain = s.str.fullmatch(r"\d{1,4}")
    bad_form = ~(colon | plain) & (s != "")
    rej.add(bad_form.to_numpy(), "acq_time '", s, "' is not HHMM or HH:MM[:SS]")
    padded = s.str.zfill(4)
    hh = np.where(colon, s.str.split(":").str[0], padded.str[:2])
    mm = np.where(colon, s.str.split(":").str[1], padded.str[2:4])
    hh = pd.to_numeric(pd.Series(hh), errors="coerce").fillna(-1).to_numpy(np.int64)
    mm = pd.to_numeric(pd.Series(mm), errors="coerce").fillna(-1).to_numpy(np.int64)
    ok = (colon | plain).to_numpy()
    impossible = ok & ((hh > 23) | (mm > 59))
    rej.add(impossible, "impossible acq_time '", s, "' (hour 0-23, minute 0-59)")
    return np.where(ok & ~impossible, hh * 60 + mm, -1)


def _parse_date(text: pd.Series, rej: _Rejections, today: pd.Timestamp) -> pd.Series:
    s = text.str.strip()
    dates = pd.to_datetime(s, format="%Y-%m-%d", errors="coerce")
    rej.add((s == "").to_numpy(), "acq_date is empty")
    rej.add(dates.isna().to_numpy(), "acq_date '", s, "' is not a real date in YYYY-MM-DD form")
    out_of_range = ((dates < FIRST_FIRMS_DAY) | (dates > today)).to_numpy()
    rej.add(out_of_range, "acq_date '", s,
            f"' is outside the FIRMS record (2000-11-01 to {today.date()})")
    return dates


def _implausible(frame: pd.DataFrame, col: str, values: np.ndarray,
                 bounds: tuple[float, float], unit: str, rej: _Rejections) -> None:
    """Quarantine rows whose number is infinite or outside the physically possible."""
    lo, hi = bounds
    with np.errstate(invalid="ignore"):
        bad = np.isinf(values) | (values < lo) | (values > hi)
    if bad.any():
        rej.add(bad, "implausible " + col + " '", frame[col].str.strip(),
                f"'{unit}: expected {lo:g} to {hi:g}{unit}")


def _contradictions(layout_sensor: str | None, sens: np.ndarray, sat: np.ndarray,
                    frame: pd.DataFrame, rej: _Rejections) -> None:
    """Quarantine rows whose instrument contradicts the layout (a MODIS row in a VIIRS
    file's columns) or whose satellite does not carry the row's sensor."""
    if layout_sensor is not None and "instrument" in frame.columns:
        other = (sens != layout_sensor) & (sens != "")
        rej.add(other, "instrument '", frame["instrument"].str.strip(),
                f"' contradicts the {layout_sensor} layout of the file's columns")
    for sensor, fits in SENSOR_SATELLITES.items():
        wrong = (sens == sensor) & ~np.isin(sat.astype(str), fits)
        if wrong.any():
            rej.add(wrong, np.where(wrong, "satellite '" + sat.astype(str) + "' does not "
                                    f"carry {sensor} (expected one of {', '.join(fits)})",
                                    None).astype(object))


def check_sensor(sensor: str | None) -> None:
    """``--sensor``: None, VIIRS or MODIS (any case), else InputError."""
    if sensor is not None and sensor.upper() not in SENSORS:
        raise InputError(f"--sensor {sensor!r}: expected one of {', '.join(SENSORS)}")


def parse_firms(path: str | Path, *, sensor: str | None = None, satellite: str | None = None,
                today: pd.Timestamp | None = None, sha256: str | None = None,
                piece: tuple[bytes, int] | None = None) -> FirmsFile:
    """Parse one FIRMS file into canonical detections and rejected rows.

    Raises :class:`InputError` naming the file and the expected columns when the file
    is not a FIRMS layout at all. ``sha256``: the file's hash when the caller has it.
    ``piece``: parse only these lines of the file (see :func:`read_table`).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    check_sensor(sensor)
    today = today or pd.Timestamp.now().normalize() + pd.Timedelta(days=1)
    frame, row_lines, bad_rows = read_table(path, piece)
    layout = detect_layout(list(frame.columns))
    if layout is None:
        raise InputError(f"{path}: not a FIRMS file: columns {list(frame.columns)}; "
                         f"{EXPECTED_HELP}")
    digest = sha256 or sha256_file(path)
    n = len(frame)
    rej = _Rejections(n)

    lat = _numeric(frame, "latitude", rej, required=True)
    lon = _numeric(frame, "longitude", rej, required=True)
    rej.add((lat < -90) | (lat > 90), "latitude '", frame["latitude"].str.strip(),
            "' outside [-90, 90]")
    rej.add((lon < -180) | (lon > 180), "longitude '", frame["longitude"].str.strip(),
            "' outside [-180, 180]")
    date_col = "acq_date" if "acq_date" in frame.columns else "date"
    dates = _parse_date(frame[date_col], rej, today)
    if "acq_time" in frame.columns:
        minutes_of_day = _parse_time(frame["acq_time"], rej)
    else:
        minutes_of_day = np.full(n, -1, dtype=np.int64)
    frp = _numeric(frame, "frp", rej, False) if "frp" in frame.columns else np.full(n, np.nan)
    bcol = "bright_ti4" if "bright_ti4" in frame.columns else "brightness"
    brightness = (_numeric(frame, bcol, rej, False) if bcol in frame.columns
                  else np.full(n, np.nan))
    _implausible(frame, "frp", frp, PLAUSIBLE["frp"], " MW", rej)
    _implausible(frame, bcol, brightness, PLAUSIBLE["brightness"], " K", rej)

    # sensor: instrument column, layout, file name, caller, coordinate precision
    name_sensor, name_sat = sensor_from_filename(path.name)
    layout_sensor = {"viirs": "VIIRS", "modis": "MODIS"}.get(layout)
    fallback = layout_sensor or name_sensor or (sensor.upper() if sensor else None)
    sensor_rule: dict[str, object] = {}
    inferred = np.zeros(n, dtype=bool)
    if "instrument" in frame.columns:
        inst = frame["instrument"].str.strip().str.upper()
        sens = np.where(inst.isin(SENSORS), inst, fallback if fallback else "")
        unknown = ~inst.isin(SENSORS) & ((inst != "") | (fallback is None))
        rej.add(unknown.to_numpy(), "instrument '", inst, "' is not VIIRS or MODIS")
        sensor_rule = {"rule": "instrument column"}
    elif fallback is not None:
        sens = np.full(n, fallback, dtype=object)
        how = ("layout" if layout_sensor else "file name" if name_sensor else "--sensor option")
        sensor_rule = {"rule": how, "sensor": fallback}
    else:
        months = dates.dt.strftime("%Y-%m").fillna("")
        sens, sensor_rule = split_by_precision(frame["latitude"], frame["longitude"], months)
        inferred[:] = True

    # satellite: column, file name, caller, unknown
    default_sat = name_sat or satellite or "unknown"
    if satellite is not None and satellite not in SATELLITES:
        alias = _SATELLITE_ALIASES.get(satellite.strip().lower())
        if alias is None:
            raise InputError(f"--satellite {satellite!r}: expected one of {', '.join(SATELLITES)}")
        default_sat = name_sat or alias
    if "satellite" in frame.columns:
        raw_sat = frame["satellite"].str.strip()
        sat = raw_sat.str.lower().map(_SATELLITE_ALIASES)
        unknown_sat = sat.isna() & (raw_sat != "")
        rej.add(unknown_sat.to_numpy(), "satellite '", raw_sat,
                "' is not a known FIRMS satellite")
        sat = sat.fillna(default_sat).to_numpy(dtype=object)
    else:
        sat = np.full(n, default_sat, dtype=object)
    sat = np.where(pd.isna(sat), "unknown", sat)

    # confidence: VIIRS classes or MODIS percent, both to 0-1
    conf = np.full(n, np.nan)
    if "confidence" in frame.columns:
        ctext = frame["confidence"].str.strip().str.lower()
        classes = ctext.map(VIIRS_CONFIDENCE).to_numpy(dtype=np.float64)
        pct = pd.to_numeric(ctext, errors="coerce").to_numpy(dtype=np.float64)
        conf = np.where(np.isnan(classes), pct / 100.0, classes)
        bad_conf = (ctext != "").to_numpy() & (np.isnan(conf) | (conf < 0) | (conf > 1))
        rej.add(bad_conf, "confidence '", frame["confidence"].str.strip(),
                "' is not l/n/h or 0-100")

    daynight = (frame["daynight"].str.strip().str.upper().replace("", None).to_numpy(object)
                if "daynight" in frame.columns else np.full(n, None, dtype=object))
    if "daynight" in frame.columns:
        odd = ~pd.isna(daynight) & ~np.isin(daynight.astype(str), DAYNIGHT)
        rej.add(odd, "daynight '", frame["daynight"].str.strip(), "' is not D or N")
    _contradictions(layout_sensor, np.asarray(sens, dtype=object), sat, frame, rej)
    version = (frame["version"].str.strip().replace("", None).to_numpy(object)
               if "version" in frame.columns else np.full(n, None, dtype=object))
    is_nrt = pd.Series(version).fillna("").str.upper().str.contains("NRT").to_numpy(
        dtype=bool, copy=True)  # writable: set below from the file name
    if "version" not in frame.columns and ("_NRT" in path.name.upper()
                                           or "fire_nrt" in path.name.lower()):
        is_nrt[:] = True

    bad = rej.bad
    good = ~bad
    day_numbers = ((dates - pd.Timestamp("1970-01-01")).dt.days
                   .fillna(0).to_numpy(dtype=np.int64))
    time_known = minutes_of_day >= 0
    minutes = np.where(time_known, day_numbers * 1440 + minutes_of_day, -1 - day_numbers)
    sens = np.asarray(sens, dtype=object)
    sens = np.where(bad, "VIIRS", sens).astype(str)  # placeholder for rows dropped below
    sat = sat.astype(str)
    ids = detection_ids(sens, sat, minutes, _finite(lat), _finite(lon))  # bad rows: 0

    # one detection written twice in the same file: keep the first, reject the copies
    dup = pd.Series(ids).where(good).duplicated(keep="first").to_numpy() & good
    if dup.any():
        first = pd.Series(row_lines[good & ~dup], index=ids[good & ~dup])
        reason = np.full(n, None, dtype=object)
        reason[dup] = ("repeats line " + first.reindex(ids[dup]).astype(str)
                       + " of this file (same detection)").to_numpy()
        rej.add(dup, reason)
    good = ~rej.bad

    t_utc = pd.to_datetime(day_numbers * 86400 + np.maximum(minutes_of_day, 0) * 60,
                           unit="s", utc=True)
    det = pd.DataFrame({
        "detection_id": ids,
        "lon": lon, "lat": lat,
        "acq_date": dates.dt.floor("D").astype("datetime64[s]"),
        "t_utc": pd.Series(t_utc).where(time_known).astype("datetime64[s, UTC]"),
        "time_known": time_known,
        "sensor": sens, "satellite": sat,
        "confidence": conf, "frp": frp, "brightness": brightness,
        "daynight": daynight, "version": version, "is_nrt": is_nrt,
        "sensor_inferred": inferred,
        "source_file": path.name, "source_line": row_lines.astype(np.int64),
        "source_sha256": digest,
    })[good].reset_index(drop=True)

    bad = frame[~good].astype(str)  # each rejected row as the file wrote it, comma-joined
    raw_text = (bad.iloc[:, 0].str.cat([bad.iloc[:, i] for i in range(1, bad.shape[1])],
                                       sep=",").to_numpy(dtype=object)
                if len(bad) else np.array([], dtype=object))
    where = portable_path(path)  # the quarantine is shared: no local absolute path
    rejected = pd.DataFrame({
        "file": where, "line": row_lines[~good].astype(np.int64),
        "raw": raw_text,
        "reason": rej.reason[~good].astype(str),
    })
    if bad_rows:
        rejected = pd.concat([rejected, pd.DataFrame(
            {"file": where, "line": [b[0] for b in bad_rows],
             "raw": [b[1] for b in bad_rows], "reason": [b[2] for b in bad_rows]})],
            ignore_index=True).sort_values("line", kind="stable").reset_index(drop=True)
    return FirmsFile(path=path, sha256=digest, layout=layout, n_rows=n + len(bad_rows),
                     detections=det, rejected=rejected, sensor_rule=sensor_rule)


def _hex_to_u64(ids: np.ndarray) -> np.ndarray:
    """16-hex-digit detection ids as uint64 (vectorised), 8 bytes each to remember."""
    if not len(ids):
        return np.zeros(0, dtype=np.uint64)
    return np.frombuffer(bytes.fromhex("".join(ids.tolist())), dtype=">u8").astype(np.uint64)


def _blocks(path: Path, size: int = 1 << 23) -> Iterator[bytes]:
    """A file's checked text in blocks: read from disk as it goes (gzip: unpacked whole,
    with its size limit)."""
    with open(path, "rb") as f:
        first = f.read(size)
        if first.startswith(GZIP_MAGIC):
            yield read_firms_bytes(path)
            return
        yield _checked_text(path, first)
        while block := f.read(size):
            yield block


def check_utf8(path: str | Path) -> None:
    """Refuse a file whose text is not UTF-8, naming the line of the first bad byte;
    read block by block, before anything is written (a file that fails only once the
    ingest has reached it would otherwise be undone after the files before it)."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 1
    for block in _blocks(Path(path)):
        try:
            decoder.decode(block)
        except UnicodeDecodeError as exc:
            line = lines + block.count(b"\n", 0, exc.start)
            raise InputError(f"{path}: line {line}: bytes {block[exc.start:exc.start + 4]!r} "
                             "are not UTF-8 text: expected a FIRMS CSV file in UTF-8 (save "
                             "it again as UTF-8)") from None
        lines += block.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise InputError(f"{path}: line {lines}: the file ends inside a UTF-8 character: "
                         "expected a FIRMS CSV file in UTF-8") from None


def _line_pieces(path: Path, rows: int) -> Iterator[tuple[bytes, bytes, int]]:
    """(header line, the next ``rows`` lines, physical lines before them) of a file,
    read block by block; a file with no line after its header gives one empty piece."""
    buf, header, before = b"", None, 0
    for block in _blocks(path):
        buf += block
        if header is None:
            cut = buf.find(b"\n")
            if cut < 0:
                continue
            header, buf, before = buf[:cut + 1], buf[cut + 1:], 1
        nl = np.flatnonzero(np.frombuffer(buf, dtype=np.uint8) == 10)
        done = 0
        while len(nl) - done >= rows:
            stop = int(nl[done + rows - 1]) + 1
            start = int(nl[done - 1]) + 1 if done else 0
            yield header, buf[start:stop], before
            before += rows
            done += rows
        if done:
            buf = buf[int(nl[done - 1]) + 1:]
    if header is None:
        header, buf = buf, b""
    if buf or before <= 1:
        yield header, buf, before


def parse_firms_pieces(path: str | Path, *, sensor: str | None = None,
                       satellite: str | None = None, today: pd.Timestamp | None = None,
                       sha256: str | None = None, rows: int = 50_000
                       ) -> Iterator[FirmsFile]:
    """:func:`parse_firms` a piece of ``rows`` lines at a time, read from disk as it goes,
    so memory follows the piece, not the file: the same detections, rejections, line
    numbers and reasons, in order. A detection repeated in a later piece is rejected there
    as "repeats line N of this file", as in one piece. A file whose sensor comes from
    coordinate precision (the mixed yearly lists: the rule counts each month over the
    whole file) is parsed whole. ``n_rows`` of each piece counts its own rows."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    pieces = _line_pieces(path, rows)
    head, body, before = next(pieces)
    header = _columns(head.decode("utf-8", "replace"))
    layout = detect_layout(header)
    by_precision = ("instrument" not in header and layout not in ("viirs", "modis")
                    and sensor_from_filename(path.name)[0] is None and sensor is None)
    if layout is None or by_precision:
        pieces.close()
        yield parse_firms(path, sensor=sensor, satellite=satellite, today=today,
                          sha256=sha256)
        return
    digest = sha256 or sha256_file(path)
    # the ids kept so far, sorted, and the line of each: each piece is looked up in them
    # in id order (a walk, not a scatter) and its new ids are merged in, never re-sorted
    seen_ids, seen_lines = np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    while True:
        part = parse_firms(path, sensor=sensor, satellite=satellite, today=today,
                           sha256=digest, piece=(head + body, before - 1))
        det = part.detections
        key = _hex_to_u64(det["detection_id"].to_numpy(dtype=str))
        line_of = det["source_line"].to_numpy(np.int64)
        order = np.argsort(key)
        at = np.empty_like(order)
        at[order] = np.searchsorted(seen_ids, key[order])
        hit = at < len(seen_ids)
        hit[hit] = seen_ids[at[hit]] == key[hit]
        if hit.any():  # repeats of rows kept in an earlier piece
            lines = line_of[hit]
            piece = np.frombuffer(body, dtype=np.uint8)
            ends = np.append(np.flatnonzero(piece == 10) + 1, len(body))
            local = lines - before - 1  # 0-based line of the piece
            starts = np.where(local > 0, ends[np.maximum(local - 1, 0)], 0)
            texts = [body[a:b].decode("utf-8", "replace").rstrip("\r\n")
                     for a, b in zip(starts, ends[local], strict=True)]
            more = pd.DataFrame({"file": portable_path(path), "line": lines.astype(np.int64),
                                 "raw": texts, "reason": "repeats line " + pd.Series(
                                     seen_lines[at[hit]]).astype(str)
                                 + " of this file (same detection)"})
            part.rejected = pd.concat([part.rejected, more], ignore_index=True).sort_values(
                "line", kind="stable").reset_index(drop=True)
            part.detections = det[~hit].reset_index(drop=True)
        new = order[~hit[order]]  # the piece's new ids (unique: parse_firms saw to it), sorted
        seen_ids = np.insert(seen_ids, at[new], key[new])
        seen_lines = np.insert(seen_lines, at[new], line_of[new])
        yield part
        try:
            _, body, before = next(pieces)
        except StopIteration:
            return


def firms_layout(path: Path) -> str | None:
    """The FIRMS layout (:func:`detect_layout`) of a file's first line, gzip files too;
    None when it is none, or the file is unreadable or damaged. Reads that line only."""
    import gzip

    try:
        with open(path, "rb") as f:
            head = f.read(2)
        opener = gzip.open if head == GZIP_MAGIC else open
        with opener(path, "rb") as f:
            first = f.readline(1 << 16).decode("utf-8", "replace").lstrip("\ufeff")
    except (OSError, EOFError):  # unreadable or damaged: not a FIRMS file for a folder scan
        return None
    return detect_layout(_columns(first))


def find_firms_files(paths: list[str | Path]) -> tuple[list[Path], list[dict[str, str]]]:
    """Expand files and folders into FIRMS files, sorted.

    A file named explicitly is always returned (and refused later if it is not FIRMS);
    inside a folder, files whose header is no FIRMS layout (a readme, say) are listed
    as skipped with the reason instead.
    """
    out: list[Path] = []
    skipped: list[dict[str, str]] = []
    for p in map(Path, paths):
        if p.is_dir():
            for q in sorted(p.rglob("*")):
                if not q.is_file() or not q.name.lower().endswith(FIRMS_SUFFIXES):
                    continue
                if firms_layout(q) is None:
                    skipped.append({"file": str(q), "reason": "not a FIRMS layout"})
                else:
                    out.append(q)
        elif p.exists():
            out.append(p)
        else:
            raise InputError(f"{p}: no such file or folder")
    return out, skipped

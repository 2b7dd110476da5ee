"""Recognise what an input file really is, so a wrong file gets a hint, not a traceback.

Users hand us what their browser saved: a gzip download, a spreadsheet, a UTF-16 export
from Excel, a JSON answer from an API. Each is recognised from its first bytes and
refused with what it is and what to do, instead of failing later inside a parser.
"""

from __future__ import annotations

import zlib
from pathlib import Path

from truceline.errors import InputError

__all__ = ["GZIP_MAGIC", "MAX_GUNZIPPED_BYTES", "gunzip", "sniff_text"]

GZIP_MAGIC = b"\x1f\x8b"
#: a gzip file is read only up to this size unpacked (a few FIRMS years of one country
#: are ~100 MB); beyond it, it is refused rather than filling the memory (a zip bomb)
MAX_GUNZIPPED_BYTES = 4 << 30

_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"),
)


def sniff_text(path: Path, head: bytes, *, expected: str, allow_json: bool = False,
               allow_gzip: bool = False) -> None:
    """Raise InputError when ``head`` (a file's first bytes) is not UTF-8 text of the
    expected kind: gzip (unless ``allow_gzip``), zip/xlsx, UTF-16/32, binary, or JSON
    where a table was expected.

    >>> sniff_text(Path("a.csv"), b"latitude,longitude", expected="a CSV file")
    >>> sniff_text(Path("a.csv"), b"\\xff\\xfel\\x00a\\x00", expected="a CSV file")
    Traceback (most recent call last):
    ...
    truceline.errors.InputError: a.csv: is UTF-16 text: expected a CSV file in UTF-8 \
(save it again as 'CSV UTF-8', or run: iconv -f UTF-16 -t UTF-8)
    """
    if head.startswith(GZIP_MAGIC) and not allow_gzip:
        raise InputError(f"{path}: is gzip-compressed: expected {expected} (unpack it "
                         f"first: gunzip -k {path.name})")
    if head.startswith(b"PK\x03\x04"):
        raise InputError(f"{path}: is a zip archive (or an .xlsx/.ods spreadsheet): expected "
                         f"{expected} (unzip it, or export the sheet as CSV UTF-8)")
    for bom, name in _BOMS:
        if head.startswith(bom):
            raise InputError(f"{path}: is {name} text: expected {expected} in UTF-8 (save it "
                             f"again as 'CSV UTF-8', or run: iconv -f {name} -t UTF-8)")
    if b"\x00" in head[:4096] and not head.startswith(GZIP_MAGIC):
        raise InputError(f"{path}: holds binary data (NUL bytes): expected {expected}")
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if not allow_json and start in (b"{", b"["):
        raise InputError(f"{path}: is JSON: expected {expected} (download the CSV form; "
                         "FIRMS offers every product as CSV)")


def gunzip(path: Path, raw: bytes) -> bytes:
    """The unpacked bytes of a gzip file (all its members), refusing a corrupt, truncated
    or oversized one."""
    parts: list[bytes] = []
    size, rest = 0, raw
    while rest:
        d = zlib.decompressobj(wbits=31)
        try:
            parts.append(d.decompress(rest, MAX_GUNZIPPED_BYTES - size + 1))
        except zlib.error as exc:
            raise InputError(f"{path}: is a damaged gzip file ({exc}): download it "
                             "again") from None
        size += len(parts[-1])
        if size > MAX_GUNZIPPED_BYTES or d.unconsumed_tail:
            raise InputError(f"{path}: unpacks to more than {MAX_GUNZIPPED_BYTES >> 30} GB: "
                             "split it before ingesting")
        if not d.eof:
            raise InputError(f"{path}: is a truncated gzip file: download it again")
        rest = d.unused_data
    return b"".join(parts)

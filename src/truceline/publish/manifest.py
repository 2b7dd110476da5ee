"""The signed manifest of a report: what went in, what came out, and how, by hash.

A verdict has to survive a hostile reader. Each report folder carries:

- ``manifest.json``: canonical JSON (UTF-8, keys sorted, two-space indent, no NaN, one
  trailing newline), so the same content always gives the same bytes::

      {
        "created_utc": "2026-11-26T07:00:00Z",
        "hash_algorithm": "sha256",
        "inputs":  [{"bytes": 1234, "path": "detections/part-0.parquet", "sha256": "..."}],
        "inputs_root": "lake",          # what relative input paths start from
        "manifest_version": 1,
        "outputs": [{"bytes": 99, "path": "report.html", "sha256": "..."}],
        "package": {"name": "truceline", "version": "0.1.0"},
        "parameters": {...},            # whatever the run was given, JSON-safe
        "public_key": "ed25519:...",    # the key that signs manifest.sig
        "signature": {"algorithm": "Ed25519", "encoding": "base64", "file": "manifest.sig"}
      }

  Output paths are relative to the report folder (POSIX separators), so the folder can
  be moved or zipped. Input paths are relative to ``inputs_root``, a name (``lake``: the
  lake the verifier names with ``--lake``), never a local absolute path; a manifest from
  before names an absolute folder there, which is still read.
- ``manifest.sig``: the Ed25519 signature of the exact bytes of ``manifest.json``,
  written as standard base64 of the 64 raw bytes plus a newline.

`build_manifest` is pure apart from hashing the files it is given; `write_manifest` and
`verify_report` are the I/O edges. Verification never stops at the first problem: a
reader wants the whole list of what differs.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from truceline import __version__
from truceline.errors import InputError, IntegrityError
from truceline.hashing import sha256_file
from truceline.publish.signing import (
    SIGNATURE_LENGTH,
    Signer,
    key_fingerprint,
    load_public_key,
    public_key_text,
    verify_bytes,
)

__all__ = [
    "MANIFEST_FILE",
    "MANIFEST_VERSION",
    "SIGNATURE_FILE",
    "Problem",
    "VerificationResult",
    "build_manifest",
    "canonical_json",
    "files_in",
    "sha256_file",
    "sign_report",
    "verify_report",
    "write_manifest",
]

MANIFEST_FILE = "manifest.json"
SIGNATURE_FILE = "manifest.sig"
MANIFEST_VERSION = 1
_RESERVED = (MANIFEST_FILE, SIGNATURE_FILE)


# --------------------------------------------------------------------------- building


def canonical_json(obj: Any) -> bytes:
    """The one byte form of a manifest: sorted keys, 2-space indent, UTF-8, final newline.

    >>> canonical_json({"b": 1, "a": [True, None]})
    b'{\\n  "a": [\\n    true,\\n    null\\n  ],\\n  "b": 1\\n}\\n'
    """
    text = json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")


def build_manifest(
    inputs: Iterable[str | Path],
    outputs: Iterable[str | Path],
    parameters: Mapping[str, Any],
    version: str,
    public_key: Ed25519PublicKey | str,
    *,
    out_dir: str | Path | None = None,
    inputs_root: str | Path | None = None,
    inputs_root_label: str | None = None,
    created: datetime | None = None,
) -> dict[str, Any]:
    """The manifest dict for one run; hashes every input and output file.

    `out_dir` is the report folder that output paths are made relative to (default: the
    outputs' common folder); an output outside it is refused. Input folders are expanded
    to the files inside them; with `inputs_root` their paths are relative to it, and the
    manifest names the root by `inputs_root_label` (e.g. ``lake``; then an input outside
    the root is refused, so no local absolute path is published). `created` (UTC)
    defaults to now; pass it for reproducible bytes.
    """
    out_paths = [Path(p) for p in outputs]
    if not out_paths:
        raise InputError("outputs: empty: expected at least one output file to sign")
    root = Path(out_dir) if out_dir is not None else Path(
        os.path.commonpath([str(p.resolve().parent) for p in out_paths]))
    root = root.resolve()
    key = load_public_key(public_key)
    if created is None:
        created = datetime.now(UTC)
    elif created.tzinfo is None or created.utcoffset() is None:
        raise InputError(f"created = {created!r}: expected a timezone-aware datetime")

    out_entries: dict[str, dict[str, Any]] = {}
    for p in out_paths:
        rel = _relative_output(p, root)
        if rel in out_entries:
            raise InputError(f"outputs: {p} is listed twice")
        out_entries[rel] = _file_entry(p, rel, "outputs")

    in_root = Path(inputs_root).resolve() if inputs_root is not None else None
    in_entries: dict[str, dict[str, Any]] = {}
    for f in _expand_inputs(inputs):
        name = _input_name(f, in_root)
        if inputs_root_label is not None and name.startswith("/"):
            raise InputError(f"inputs: {f} is outside {inputs_root_label} ({in_root}): "
                             "expected inputs inside it")
        if name not in in_entries:  # a file also reached through its folder: hashed once
            in_entries[name] = _file_entry(f, name, "inputs")

    return {
        "manifest_version": MANIFEST_VERSION,
        "created_utc": created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "hash_algorithm": "sha256",
        "package": {"name": "truceline", "version": str(version)},
        "public_key": public_key_text(key),
        "parameters": _jsonable(dict(parameters), "parameters"),
        "inputs_root": inputs_root_label if inputs_root_label is not None else
        in_root.as_posix() if in_root is not None else None,
        "inputs": [in_entries[k] for k in sorted(in_entries)],
        "outputs": [out_entries[k] for k in sorted(out_entries)],
        "signature": {"algorithm": "Ed25519", "encoding": "base64", "file": SIGNATURE_FILE},
    }


def _file_entry(path: Path, name: str, what: str) -> dict[str, Any]:
    try:
        size = path.stat().st_size
        digest = sha256_file(path)
    except FileNotFoundError:
        raise InputError(f"{what}: {path}: file not found: expected an existing file") from None
    except IsADirectoryError:
        raise InputError(f"{what}: {path}: is a folder: expected a file") from None
    return {"path": name, "sha256": digest, "bytes": size}


def _relative_output(path: Path, root: Path) -> str:
    full = path.resolve()
    try:
        rel = full.relative_to(root)
    except ValueError:
        raise InputError(f"outputs: {path} is outside the report folder {root}: expected "
                         "outputs inside it") from None
    name = rel.as_posix()
    if name in _RESERVED:
        raise InputError(f"outputs: {path}: {name} is written by the manifest itself: "
                         "expected report files only")
    return name


def _expand_inputs(inputs: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, inputs):
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.is_file()))
        else:
            files.append(p)
    return files


def _input_name(path: Path, root: Path | None) -> str:
    full = path.resolve()
    if root is not None:
        try:
            return full.relative_to(root).as_posix()
        except ValueError:
            pass
    return full.as_posix()


def _jsonable(value: Any, where: str) -> Any:
    """Parameters as plain JSON; anything that would not round-trip is refused."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(f"{where} = {value!r}: expected a finite number (JSON has no "
                             "NaN or infinity)")
        return float(value)  # a NumPy float64 becomes a plain float
    if isinstance(value, Path):
        return value.as_posix()
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InputError(f"{where} = {value!r}: expected a timezone-aware datetime")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise InputError(f"{where}: key {k!r}: expected string keys")
            out[k] = _jsonable(v, f"{where}.{k}")
        return out
    if isinstance(value, list | tuple):
        return [_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if callable(getattr(value, "tolist", None)):  # NumPy scalars and arrays, pandas
        return _jsonable(value.tolist(), where)
    raise InputError(f"{where} = {value!r}: {type(value).__name__} is not JSON: expected "
                     "str, number, bool, null, list, table, path or datetime")


def write_manifest(directory: str | Path, manifest: Mapping[str, Any],
                   signer: Signer) -> tuple[Path, Path]:
    """Write manifest.json and manifest.sig into `directory`; return both paths.

    The signer's key must be the one named in the manifest, or verification would fail
    later for a reason nobody can see now.
    """
    d = Path(directory)
    named = manifest.get("public_key")
    if named != public_key_text(signer.public_key):
        raise InputError(f"manifest public_key = {named!r}: expected the signer's key "
                         f"{public_key_text(signer.public_key)}")
    data = canonical_json(manifest)
    sig = base64.b64encode(signer.sign(data)) + b"\n"
    m_path, s_path = d / MANIFEST_FILE, d / SIGNATURE_FILE
    _atomic_write(m_path, data)
    _atomic_write(s_path, sig)
    return m_path, s_path


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def sign_report(
    directory: str | Path,
    *,
    inputs: Iterable[str | Path],
    parameters: Mapping[str, Any],
    signer: Signer,
    version: str = __version__,
    inputs_root: str | Path | None = None,
    inputs_root_label: str | None = None,
    created: datetime | None = None,
) -> dict[str, Any]:
    """Hash every file in a finished report folder, then write and sign its manifest.

    The convenience the CLI wants: outputs are all files under `directory` except the
    manifest's own two files.
    """
    d = Path(directory)
    outputs = sorted(p for p in d.rglob("*") if p.is_file() and p.relative_to(d).as_posix()
                     not in _RESERVED and not p.name.endswith(".tmp"))
    manifest = build_manifest(inputs, outputs, parameters, version, signer.public_key,
                              out_dir=d, inputs_root=inputs_root,
                              inputs_root_label=inputs_root_label, created=created)
    write_manifest(d, manifest, signer)
    return manifest


# --------------------------------------------------------------------------- verifying


@dataclass(frozen=True)
class Problem:
    """One thing that does not hold; `kind` is a stable code, `path` the file concerned."""

    kind: str
    path: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.path}: {self.detail}"


@dataclass(frozen=True)
class VerificationResult:
    """Everything `verify_report` found: `ok` when there are no problems.

    Warnings do not fail a report (an input not on this machine, no expected key given)
    but are worth reading. `authenticated` says whether the signer was checked against
    a key the verifier trusts: without one, a report re-signed by anyone is intact too.
    """

    directory: Path
    problems: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()
    manifest: dict[str, Any] | None = field(default=None, compare=False)
    fingerprint: str | None = None
    authenticated: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def kinds(self) -> list[str]:
        """The problem codes, in the order found (handy in tests and scripts)."""
        return [p.kind for p in self.problems]

    def summary(self) -> str:
        """Human-readable lines: verdict first, then every problem and warning."""
        if not self.ok:
            status = f"NOT verified ({len(self.problems)} problem(s))"
        elif self.authenticated:
            status = "verified: signed by the expected key, every file as signed"
        else:
            status = ("signature and hashes intact, but the signer is NOT authenticated "
                      "(no --public-key given: anyone can re-sign a changed report with "
                      "a key of their own)")
        head = f"{self.directory}: {status}"
        if self.fingerprint:
            head += f"; signed by key {self.fingerprint}"
        lines = [head]
        lines += [f"  problem  {p}" for p in self.problems]
        lines += [f"  warning  {w}" for w in self.warnings]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for ``--json`` output."""
        def rows(items: tuple[Problem, ...]) -> list[dict[str, str]]:
            return [{"kind": p.kind, "path": p.path, "detail": p.detail} for p in items]

        return {"directory": str(self.directory), "ok": self.ok,
                "authenticated": self.ok and self.authenticated,
                "fingerprint": self.fingerprint, "problems": rows(self.problems),
                "warnings": rows(self.warnings)}

    def raise_if_failed(self) -> None:
        """Raise `IntegrityError` listing every problem, if there is any."""
        if not self.ok:
            raise IntegrityError(self.summary())


def verify_report(
    directory: str | Path,
    *,
    expected_public_key: Ed25519PublicKey | str | Path | None = None,
    check_inputs: bool = False,
    inputs_root: str | Path | None = None,
) -> VerificationResult:
    """Check a report folder against its signed manifest and list every difference.

    Checks: the signature over the exact manifest bytes (so any change to the manifest
    is caught), the signing key against `expected_public_key` when given (without it,
    the signature only proves the manifest is unchanged since the key *it names* signed
    it: `authenticated` is False), every output's presence and hash, files the manifest
    does not list (a problem: an added file must not pass as part of a signed report),
    and with `check_inputs` the inputs' hashes (an input absent here is a warning, a
    changed one a problem); relative inputs are looked for under `inputs_root` (the
    lake), else under the folder an older manifest names.
    """
    d = Path(directory)
    problems: list[Problem] = []
    warnings: list[Problem] = []
    expected = _expected_key(expected_public_key, problems)

    m_path, s_path = d / MANIFEST_FILE, d / SIGNATURE_FILE
    try:
        raw = m_path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        problems.append(Problem("missing_manifest", MANIFEST_FILE,
                                f"no {MANIFEST_FILE} in {d}: nothing can be verified"))
        return VerificationResult(d, tuple(problems), tuple(warnings))
    except OSError as e:
        problems.append(Problem("unreadable_manifest", MANIFEST_FILE, str(e)))
        return VerificationResult(d, tuple(problems), tuple(warnings))

    signature = _read_signature(s_path, problems)
    manifest = _parse_manifest(raw, problems)
    named: Ed25519PublicKey | None = None
    if manifest is not None:
        named = _named_key(manifest, problems)
        if raw != canonical_json(manifest):
            warnings.append(Problem("manifest_not_canonical", MANIFEST_FILE,
                                    "not in canonical form (sorted keys, 2-space indent)"))

    fingerprint = key_fingerprint(named) if named is not None else None
    if expected is not None and named is not None and \
            public_key_text(expected) != public_key_text(named):
        problems.append(Problem(
            "wrong_key", MANIFEST_FILE,
            f"signed by key {fingerprint}, expected key {key_fingerprint(expected)}"))
    elif expected is None and named is not None:
        warnings.append(Problem(
            "no_expected_key", MANIFEST_FILE,
            f"no expected public key given: the signature shows the manifest is unchanged "
            f"since key {fingerprint} signed it, not whose key that is"))

    check_key = named if named is not None else expected
    if signature is not None and check_key is not None and \
            not verify_bytes(check_key, raw, signature):
        problems.append(Problem(
            "bad_signature", MANIFEST_FILE,
            f"{SIGNATURE_FILE} is not a signature of this {MANIFEST_FILE} by key "
            f"{key_fingerprint(check_key)}: the manifest or its signature changed after "
            "signing"))

    if manifest is not None:
        listed = _check_outputs(d, manifest, problems)
        _check_unlisted(d, listed, problems)
        if check_inputs:
            _check_inputs(manifest, inputs_root, problems, warnings)

    authenticated = expected is not None and named is not None and \
        public_key_text(expected) == public_key_text(named)
    return VerificationResult(d, tuple(problems), tuple(warnings), manifest, fingerprint,
                              authenticated)


def _expected_key(source: Ed25519PublicKey | str | Path | None,
                  problems: list[Problem]) -> Ed25519PublicKey | None:
    if source is None:
        return None
    try:
        return load_public_key(source)
    except InputError as e:
        problems.append(Problem("unreadable_expected_key", str(source), str(e)))
        return None


def _read_signature(path: Path, problems: list[Problem]) -> bytes | None:
    try:
        text = path.read_bytes()
    except OSError:
        problems.append(Problem("missing_signature", SIGNATURE_FILE,
                                f"no {SIGNATURE_FILE}: the manifest is not signed"))
        return None
    try:
        sig = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        sig = b""
    if len(sig) != SIGNATURE_LENGTH:
        problems.append(Problem("malformed_signature", SIGNATURE_FILE,
                                f"expected base64 of a {SIGNATURE_LENGTH}-byte Ed25519 "
                                "signature"))
        return None
    return sig


def _parse_manifest(raw: bytes, problems: list[Problem]) -> dict[str, Any] | None:
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        problems.append(Problem("unreadable_manifest", MANIFEST_FILE, f"not JSON: {e}"))
        return None
    if not isinstance(obj, dict):
        problems.append(Problem("malformed_manifest", MANIFEST_FILE, "expected a JSON object"))
        return None
    if obj.get("manifest_version") != MANIFEST_VERSION:
        problems.append(Problem("malformed_manifest", MANIFEST_FILE,
                                f"manifest_version = {obj.get('manifest_version')!r}: "
                                f"expected {MANIFEST_VERSION}"))
    return obj


def _named_key(manifest: Mapping[str, Any], problems: list[Problem]) -> Ed25519PublicKey | None:
    try:
        return load_public_key(str(manifest.get("public_key", "")))
    except InputError as e:
        problems.append(Problem("malformed_manifest", MANIFEST_FILE, f"public_key: {e}"))
        return None


def _entries(manifest: Mapping[str, Any], key: str,
             problems: list[Problem]) -> list[tuple[str, str]]:
    raw = manifest.get(key)
    if not isinstance(raw, list):
        problems.append(Problem("malformed_manifest", MANIFEST_FILE,
                                f"{key}: expected a list of {{path, sha256}}"))
        return []
    out: list[tuple[str, str]] = []
    for i, e in enumerate(raw):
        if not (isinstance(e, dict) and isinstance(e.get("path"), str)
                and isinstance(e.get("sha256"), str)):
            problems.append(Problem("malformed_manifest", MANIFEST_FILE,
                                    f"{key}[{i}]: expected {{path, sha256}}"))
            continue
        out.append((e["path"], e["sha256"].lower()))
    return out


def _safe_relative(name: str) -> bool:
    p = PurePosixPath(name)
    return bool(name) and not p.is_absolute() and ".." not in p.parts and "\\" not in name \
        and ":" not in p.parts[0]


def _check_outputs(d: Path, manifest: Mapping[str, Any], problems: list[Problem]) -> set[str]:
    listed: set[str] = set()
    for name, digest in _entries(manifest, "outputs", problems):
        if not _safe_relative(name):
            problems.append(Problem("unsafe_path", name,
                                    "expected a path inside the report folder"))
            continue
        if name in listed:
            problems.append(Problem("malformed_manifest", name, "output listed twice"))
            continue
        listed.add(name)
        f = d / name
        if not f.is_file():
            problems.append(Problem("missing_output", name, "listed in the manifest, not found"))
            continue
        try:
            actual = sha256_file(f)
        except OSError as e:
            problems.append(Problem("unreadable_output", name, str(e)))
            continue
        if actual != digest:
            problems.append(Problem("changed_output", name,
                                    f"sha256 {actual[:16]}..., manifest says {digest[:16]}..."))
    return listed


def _check_unlisted(d: Path, listed: set[str], problems: list[Problem]) -> None:
    for f in sorted(p for p in d.rglob("*") if not p.is_dir()):
        name = f.relative_to(d).as_posix()
        if name not in listed and name not in _RESERVED:
            problems.append(Problem("unlisted_file", name,
                                    "in the report folder but not in the signed manifest: "
                                    "added after signing"))


def _check_inputs(manifest: Mapping[str, Any], inputs_root: str | Path | None,
                  problems: list[Problem], warnings: list[Problem]) -> None:
    named_root = manifest.get("inputs_root")
    root_raw = inputs_root if inputs_root is not None else named_root
    root = Path(root_raw) if isinstance(root_raw, str | os.PathLike) else None
    if inputs_root is None and isinstance(named_root, str) and \
            not PurePosixPath(named_root).is_absolute():
        warnings.append(Problem("inputs_root_unknown", MANIFEST_FILE,
                                f"inputs are named relative to the {named_root}: give it "
                                "(--lake) to check them"))
        return
    if root is not None and not root.is_dir():
        warnings.append(Problem("inputs_root_missing", MANIFEST_FILE,
                                f"no folder {root} here: the inputs were not checked"))
        return
    missing: list[str] = []
    for name, digest in _entries(manifest, "inputs", problems):
        p = Path(name)
        if not p.is_absolute() and root is not None:
            p = root / p
        try:
            actual = sha256_file(p)
        except OSError:
            missing.append(name)
            continue
        if actual != digest:
            problems.append(Problem("changed_input", name,
                                    "sha256 differs from the manifest: the input changed "
                                    "since the report was made"))
    if missing:  # one line, however many (a lake compacted since holds none of them)
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        warnings.append(Problem("missing_input", missing[0],
                                f"{len(missing)} input(s) not readable here, not checked: "
                                f"{', '.join(missing[:3])}{more}"))


def files_in(manifest: Mapping[str, Any], key: str = "inputs") -> Sequence[str]:
    """The paths a manifest lists under `key` (for ``verify --recompute``)."""
    return [e["path"] for e in manifest.get(key, []) if isinstance(e, dict) and "path" in e]

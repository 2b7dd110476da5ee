"""Ed25519 keys and signatures, so that anyone can check a report was not changed.

Why Ed25519: small keys that fit in a manifest as one line, deterministic signatures, no
parameters to get wrong, and a standard implementation (`cryptography`).

Key files (written by `generate_keypair`, read by `load_private_key`/`load_public_key`):

- ``truceline_ed25519.pem``: the private key, PKCS#8 PEM (optionally encrypted with a
  password), file mode 0600. Keep it outside the lake and outside any report folder.
- ``truceline_ed25519.pub.pem``: the public key, SubjectPublicKeyInfo PEM, mode 0644
  whatever the umask; publish it.

Keys never live inside a lake or a report folder (`check_key_outside`): both are shared
and published, and a key found there is a key given away.

In manifests a public key is written as text, ``ed25519:`` followed by the standard
base64 of its 32 raw bytes (`public_key_text`); its fingerprint (`key_fingerprint`) is
``sha256:`` and the hex SHA-256 of the same 32 bytes.

Signing goes through the small `Signer` interface so that the manifest code never
touches key files and tests (or a hardware or remote signer) can stand in.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from truceline.errors import InputError
from truceline.files import read_limited

__all__ = [
    "KEY_PREFIX",
    "PRIVATE_KEY_FILE",
    "PUBLIC_KEY_FILE",
    "KeyPair",
    "KeySigner",
    "Signer",
    "check_key_outside",
    "default_private_key",
    "generate_keypair",
    "key_fingerprint",
    "load_private_key",
    "load_public_key",
    "public_key_from_text",
    "public_key_text",
    "sign_bytes",
    "verify_bytes",
]

PRIVATE_KEY_FILE = "truceline_ed25519.pem"
PUBLIC_KEY_FILE = "truceline_ed25519.pub.pem"
KEY_PREFIX = "ed25519:"
SIGNATURE_LENGTH = 64
#: a PEM key file is a few hundred bytes; anything much larger is not one (/dev/urandom)
MAX_KEY_FILE_BYTES = 64 * 1024
#: files that mark a folder as a lake or a report (keys must never be inside either)
_LAKE_MARKERS = ("ledger.jsonl", "ledger.head")
_REPORT_MARKERS = ("manifest.json", "manifest.sig")


@dataclass(frozen=True)
class KeyPair:
    """Where `generate_keypair` wrote the keys, and the public key as manifest text."""

    private_key_path: Path
    public_key_path: Path
    public_key: str
    fingerprint: str


@runtime_checkable
class Signer(Protocol):
    """Anything that can sign bytes with an Ed25519 key and name its public key."""

    @property
    def public_key(self) -> Ed25519PublicKey: ...

    def sign(self, data: bytes) -> bytes: ...


class KeySigner:
    """A `Signer` holding an in-memory private key (from a file or freshly generated)."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key

    @classmethod
    def from_file(cls, path: str | Path, password: bytes | None = None) -> KeySigner:
        """Load the private key file written by `generate_keypair`."""
        return cls(load_private_key(path, password=password))

    @classmethod
    def generate(cls) -> KeySigner:
        """A throw-away key, for tests and dry runs."""
        return cls(Ed25519PrivateKey.generate())

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._key.public_key()

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)


def generate_keypair(
    directory: str | Path, *, password: bytes | None = None, overwrite: bool = False
) -> KeyPair:
    """Create a new key pair in `directory` (created 0700 if missing).

    The private key file is created with mode 0600 from the start (never written wider
    and narrowed later). Existing keys are not replaced unless `overwrite` is true, since
    losing a private key means earlier reports can no longer be re-signed by it.
    """
    d = Path(directory)
    check_key_outside(d)
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    priv_path = d / PRIVATE_KEY_FILE
    pub_path = d / PUBLIC_KEY_FILE
    if not overwrite:
        for p in (priv_path, pub_path):
            if p.exists():
                raise InputError(f"{p}: key file already exists: expected a folder without "
                                 "keys, or overwrite=True to replace them")
    key = Ed25519PrivateKey.generate()
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password) if password
        else serialization.NoEncryption()
    )
    priv_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 encryption)
    pub = key.public_key()
    pub_pem = pub.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo)
    _write_key(priv_path, priv_pem, 0o600)
    _write_key(pub_path, pub_pem, 0o644)
    return KeyPair(priv_path, pub_path, public_key_text(pub), key_fingerprint(pub))


def default_private_key(directory: str | Path) -> tuple[Path, KeyPair | None]:
    """The private key file of the pair in `directory` (the default pair lives in
    `truceline.config.keys_dir`), and the pair when it was made now, there being none."""
    path = Path(directory) / PRIVATE_KEY_FILE
    return path, (None if path.exists() else generate_keypair(directory))


def _write_key(path: Path, data: bytes, mode: int) -> None:
    """Create a key file with exactly ``mode`` (the private key is never wider, even for
    an instant; the public key is readable by all whatever the umask)."""
    if path.exists():
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)  # whatever the umask
        os.write(fd, data)
    finally:
        os.close(fd)


def check_key_outside(key: str | Path, *folders: str | Path | None) -> None:
    """Refuse a key file or key folder inside a lake, a report folder, or any of
    ``folders`` (the lake and report of the run at hand, which may not exist yet).

    >>> check_key_outside("/tmp/keys/k.pem", "/tmp/lake")
    >>> check_key_outside("/tmp/lake/keys/k.pem", "/tmp/lake")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    truceline.errors.InputError: /tmp/lake/keys/k.pem: is inside /tmp/lake: ...
    """
    k = Path(key).resolve()
    for f in folders:
        if f is None:
            continue
        root = Path(f).resolve()
        if k == root or root in k.parents:
            raise InputError(f"{key}: is inside {f}: keys must live outside the lake and "
                             "every report folder, which are shared and published")
    for parent in ([k] if k.is_dir() else []) + list(k.parents):
        for marker, what in ((_LAKE_MARKERS, "a lake"), (_REPORT_MARKERS, "a report folder")):
            if any((parent / m).is_file() for m in marker):
                raise InputError(f"{key}: is inside {what} ({parent}): keys must live "
                                 "outside lakes and report folders, which are shared and "
                                 "published")


def _read_key_file(p: Path, what: str) -> bytes:
    """A key file's bytes: a regular file of at most MAX_KEY_FILE_BYTES, else InputError
    (FileNotFoundError when there is none, for the caller's own message)."""
    data = read_limited(p, f"a {what} file (PEM)", MAX_KEY_FILE_BYTES)
    if data is None:
        raise FileNotFoundError(p)
    return data


def load_private_key(path: str | Path, *, password: bytes | None = None,
                     allow_insecure: bool = False) -> Ed25519PrivateKey:
    """Read a PEM private key, refusing one that others can read (as ssh does)."""
    p = Path(path)
    try:
        data = _read_key_file(p, "private key")
        mode = p.stat().st_mode
    except FileNotFoundError:
        raise InputError(f"{p}: private key file not found") from None
    if os.name == "posix" and not allow_insecure and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InputError(f"{p}: private key file mode {stat.S_IMODE(mode):04o} lets others "
                         f"read it: expected 0600 (run: chmod 600 {p})")
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except TypeError as e:
        raise InputError(f"{p}: {e}: expected the key's password, or none") from None
    except ValueError as e:
        raise InputError(f"{p}: not a readable PEM private key ({e}): expected the file "
                         f"{PRIVATE_KEY_FILE} written by generate_keypair") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"{p}: {type(key).__name__}: expected an Ed25519 private key")
    return key


def load_public_key(source: str | Path | Ed25519PublicKey) -> Ed25519PublicKey:
    """A public key from a key object, ``ed25519:`` text, PEM text or a PEM file path."""
    if isinstance(source, Ed25519PublicKey):
        return source
    if isinstance(source, str):
        s = source.strip()
        if s.startswith(KEY_PREFIX):
            return public_key_from_text(s)
        if s.startswith("-----BEGIN"):
            return _public_from_pem(s.encode(), "public key text")
    p = Path(source)
    try:
        data = _read_key_file(p, "public key")
    except FileNotFoundError:
        raise InputError(f"{p}: public key file not found: expected a PEM file or "
                         f"'{KEY_PREFIX}<base64>' text") from None
    text = data.decode("ascii", errors="replace").strip()
    if text.startswith(KEY_PREFIX):
        return public_key_from_text(text)
    return _public_from_pem(data, str(p))


def _public_from_pem(data: bytes, name: str) -> Ed25519PublicKey:
    if b"PRIVATE KEY-----" in data:  # never echo it; point at its public half
        raise InputError(f"{name}: is a private key: expected the public key (the "
                         "signer's .pub.pem, or its ed25519:... text)")
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as e:
        raise InputError(f"{name}: not a readable PEM public key ({e})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(f"{name}: {type(key).__name__}: expected an Ed25519 public key")
    return key


def public_key_text(key: Ed25519PublicKey) -> str:
    """``ed25519:<base64 of the 32 raw bytes>``: the form written into manifests."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return KEY_PREFIX + base64.b64encode(raw).decode("ascii")


def public_key_from_text(text: str) -> Ed25519PublicKey:
    """Inverse of `public_key_text`; a malformed value raises `InputError`."""
    expected = f"'{KEY_PREFIX}' followed by the base64 of 32 bytes"
    if not isinstance(text, str) or not text.startswith(KEY_PREFIX):
        raise InputError(f"public key {text!r}: expected {expected}")
    try:
        raw = base64.b64decode(text[len(KEY_PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"public key {text!r}: not base64: expected {expected}") from None
    if len(raw) != 32:
        raise InputError(f"public key {text!r}: {len(raw)} bytes: expected {expected}")
    return Ed25519PublicKey.from_public_bytes(raw)


def key_fingerprint(key: Ed25519PublicKey | str) -> str:
    """``sha256:<hex>`` of the raw public key: short enough to read out over a phone."""
    k = load_public_key(key) if isinstance(key, str) else key
    raw = k.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def sign_bytes(signer: Signer | Ed25519PrivateKey, data: bytes) -> bytes:
    """The 64-byte Ed25519 signature of `data`."""
    return signer.sign(data)


def verify_bytes(public_key: Ed25519PublicKey, data: bytes, signature: bytes) -> bool:
    """True when `signature` is `public_key`'s signature of exactly `data`."""
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return False
    return True

"""Ed25519 key files: modes, round-trips, and refusals that say what to do."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from truceline.errors import InputError
from truceline.publish.signing import (
    PRIVATE_KEY_FILE,
    PUBLIC_KEY_FILE,
    KeySigner,
    Signer,
    generate_keypair,
    key_fingerprint,
    load_private_key,
    load_public_key,
    public_key_from_text,
    public_key_text,
    sign_bytes,
    verify_bytes,
)


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_private_key_is_0600_even_with_a_loose_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        kp = generate_keypair(tmp_path / "keys")
    finally:
        os.umask(old)
    assert stat.S_IMODE(kp.private_key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    assert kp.private_key_path.name == PRIVATE_KEY_FILE
    assert kp.public_key_path.name == PUBLIC_KEY_FILE
    assert kp.public_key_path.read_text().startswith("-----BEGIN PUBLIC KEY-----")


def test_keys_round_trip_and_sign(tmp_path: Path) -> None:
    kp = generate_keypair(tmp_path)
    signer = KeySigner.from_file(kp.private_key_path)
    assert isinstance(signer, Signer)
    pub_file = load_public_key(kp.public_key_path)
    assert public_key_text(pub_file) == kp.public_key == public_key_text(signer.public_key)
    assert public_key_text(public_key_from_text(kp.public_key)) == kp.public_key
    assert key_fingerprint(kp.public_key) == kp.fingerprint
    sig = sign_bytes(signer, b"report")
    assert len(sig) == 64
    assert verify_bytes(pub_file, b"report", sig)
    assert not verify_bytes(pub_file, b"report!", sig)
    assert not verify_bytes(KeySigner.generate().public_key, b"report", sig)


def test_password_protected_key(tmp_path: Path) -> None:
    kp = generate_keypair(tmp_path, password=b"s3cret")
    assert isinstance(load_private_key(kp.private_key_path, password=b"s3cret"),
                      Ed25519PrivateKey)
    with pytest.raises(InputError, match="expected the key's password"):
        load_private_key(kp.private_key_path)


def test_existing_keys_are_not_overwritten(tmp_path: Path) -> None:
    kp = generate_keypair(tmp_path)
    with pytest.raises(InputError, match=r"key file already exists: .*overwrite=True"):
        generate_keypair(tmp_path)
    kp2 = generate_keypair(tmp_path, overwrite=True)
    assert kp2.public_key != kp.public_key
    assert stat.S_IMODE(kp2.private_key_path.stat().st_mode) == 0o600


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_readable_private_key_is_refused(tmp_path: Path) -> None:
    kp = generate_keypair(tmp_path)
    kp.private_key_path.chmod(0o644)
    with pytest.raises(InputError, match=r"mode 0644 lets others read it: expected 0600"):
        load_private_key(kp.private_key_path)
    assert load_private_key(kp.private_key_path, allow_insecure=True)


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("ed25519:not-base64!", r"not base64"),
        ("ed25519:AAAA", r"3 bytes: expected"),
        ("rsa:AAAA", r"expected 'ed25519:'"),
    ],
)
def test_bad_public_key_text(text: str, pattern: str) -> None:
    with pytest.raises(InputError, match=pattern):
        public_key_from_text(text)


def test_public_key_file_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="public key file not found"):
        load_public_key(tmp_path / "none.pem")
    junk = tmp_path / "junk.pem"
    junk.write_text("hello")
    with pytest.raises(InputError, match="not a readable PEM public key"):
        load_public_key(junk)
    text_key = tmp_path / "k.txt"
    key = KeySigner.generate().public_key
    text_key.write_text(public_key_text(key) + "\n")
    assert public_key_text(load_public_key(text_key)) == public_key_text(key)

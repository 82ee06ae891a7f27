"""The cloud's catalog signing key: generate, load, sign.

Only the cloud holds the private key (PEM, mode 0600); every device ships the public key and
accepts nothing else. Keeping both halves in one place makes rotating keys a single command.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

from voiceshop_common.catalog_wire import key_id  # shared wire format

PRIVATE_NAME = "catalog_signing.key"
PUBLIC_NAME = "catalog_signing.pub"


def generate_keypair(directory: str | Path, *, overwrite: bool = False) -> tuple[Path, Path]:
    """Write a new Ed25519 private key (0600) and its public key (PEM) into ``directory``."""
    directory = Path(directory).expanduser()
    directory.mkdir(parents=True, exist_ok=True)
    private_path, public_path = directory / PRIVATE_NAME, directory / PUBLIC_NAME
    if private_path.exists() and not overwrite:
        raise FileExistsError(f"{private_path} exists; pass --force to replace the signing key")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    public_path.write_bytes(key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    return private_path, public_path


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    """Read the signing key; a directory means the key file inside it."""
    path = Path(path).expanduser()
    if path.is_dir():
        path = path / PRIVATE_NAME
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def signer_id(key: Ed25519PrivateKey) -> str:
    """The fingerprint devices see in the payload header."""
    return key_id(key.public_key())

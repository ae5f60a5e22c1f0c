"""Encryption keys for registrant data at rest in Temporal: AES-GCM, with named keys so that
keys can rotate (seal with the current key, open with any configured one).

Keys come from `EVENTSYNC_CODEC_KEYS` (``k2:BASE64,k1:BASE64``, the first is current) or from
the file named by `EVENTSYNC_CODEC_KEYS_FILE` (same form; commas or newlines; ``#`` comments).
Key material never appears in an error message or a repr.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from eventsync.private_files import FILE_MODE, private_dir, private_file
from eventsync.settings import SettingError, env_or_file

KEYS_ENV = "EVENTSYNC_CODEC_KEYS"
KEYS_FILE_ENV = "EVENTSYNC_CODEC_KEYS_FILE"
# Written by `eventsync dev` into its default state folder when no keys are configured, and
# found there by every command run from the same folder, so the local stack is encrypted too.
DEV_KEYS_FILE = Path(".eventsync") / "codec.keys"
NONCE_BYTES = 12
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class KeyringError(ValueError):
    """Bad key configuration, or a payload that cannot be opened with the configured keys."""


@dataclass(frozen=True)
class Keyring:
    """Ordered keys: the first one seals, any of them opens."""

    keys: Mapping[str, bytes] = field(repr=False)
    current_id: str

    def __post_init__(self) -> None:
        if self.current_id not in self.keys:
            raise KeyringError(f"current key id {self.current_id!r} is not among the configured keys")

    def __repr__(self) -> str:
        return f"Keyring(current={self.current_id!r}, ids={list(self.keys)!r})"

    def seal(self, plaintext: bytes) -> tuple[str, bytes]:
        """Encrypt with the current key; returns (key id, nonce + ciphertext)."""
        nonce = os.urandom(NONCE_BYTES)
        # The key id is authenticated data: a payload relabelled with another id fails to open.
        sealed = AESGCM(self.keys[self.current_id]).encrypt(nonce, plaintext, self.current_id.encode())
        return self.current_id, nonce + sealed

    def open(self, key_id: str, data: bytes) -> bytes:
        key = self.keys.get(key_id)
        if key is None:
            raise KeyringError(
                f"payload was encrypted with key {key_id!r}, which is not configured "
                f"(configured: {', '.join(self.keys)}); add it to {KEYS_ENV} to read old payloads"
            )
        if len(data) <= NONCE_BYTES:
            raise KeyringError(f"encrypted payload (key {key_id!r}) is too short to be AES-GCM data")
        try:
            return AESGCM(key).decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], key_id.encode())
        except InvalidTag:
            raise KeyringError(
                f"payload did not authenticate with key {key_id!r}: wrong key material or tampered data"
            ) from None


def parse_keys(spec: str, source: str = KEYS_ENV) -> Keyring:
    """Parse ``id:base64key`` entries separated by commas or newlines; the first is current."""
    keys: dict[str, bytes] = {}
    entries = [e.strip() for line in spec.splitlines() for e in line.split("#", 1)[0].split(",") if e.strip()]
    if not entries:
        raise KeyringError(f"{source}: no keys given (expected id:base64key[,id:base64key…])")
    for index, entry in enumerate(entries, 1):
        key_id, sep, encoded = entry.partition(":")
        key_id = key_id.strip()
        if not sep or not key_id:
            raise KeyringError(f"{source}: entry {index} is not of the form id:base64key")
        if not _KEY_ID.match(key_id):
            raise KeyringError(
                f"{source}: entry {index}: key id {key_id!r} may only hold letters, digits, '_', '.', '-'"
            )
        if key_id in keys:
            raise KeyringError(f"{source}: key id {key_id!r} is given twice")
        try:
            raw = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise KeyringError(f"{source}: key {key_id!r} is not valid base64") from None
        if len(raw) not in (16, 24, 32):
            raise KeyringError(
                f"{source}: key {key_id!r} is {len(raw)} bytes; AES-GCM needs 16, 24 or 32 "
                "(make one with: python -c 'import os,base64;print(base64.b64encode(os.urandom(32)).decode())')"
            )
        keys[key_id] = raw
    return Keyring(keys=keys, current_id=next(iter(keys)))


def keyring_from_env(
    environ: Mapping[str, str] | None = None, dev_keys: Path | None = DEV_KEYS_FILE
) -> Keyring | None:
    """The configured keyring: from the environment, else from `dev_keys` if that file exists
    (the local dev stack's); None when encryption is not configured."""
    env = os.environ if environ is None else environ
    try:
        spec = env_or_file(KEYS_ENV, env)
    except SettingError as err:
        raise KeyringError(str(err)) from None
    if spec:
        path = env.get(KEYS_FILE_ENV, "").strip()
        return parse_keys(spec, source=f"{KEYS_FILE_ENV} ({path})" if path else KEYS_ENV)
    if dev_keys is not None and dev_keys.is_file():
        private_file(dev_keys)
        return parse_keys(dev_keys.read_text(encoding="utf-8"), source=str(dev_keys))
    return None


def ensure_key_file(path: Path, key_id: str = "dev") -> Path:
    """A key file readable by its owner only, in a folder only its owner can enter: created with
    one fresh key unless it exists (then its mode is tightened if loose)."""
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        private_file(path)
        return path
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("# eventsync dev: payload encryption key (keep it with the dev server's database)\n")
        f.write(f"{key_id}:{new_key()}\n")
    return path


def new_key() -> str:
    """A fresh 256-bit key, base64, for `eventsync codec-server --new-key` and the docs."""
    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()

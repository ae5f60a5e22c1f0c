"""AES-GCM payload codec: registrant data (personal data) is encrypted before it reaches
Temporal's history, and only holders of a key (workers, the codec server) can read it.

Each payload is serialized whole (metadata included) and sealed with the current key; the
outer payload says `encoding: binary/encrypted` and names the key in `encryption-key-id`, so
rotated-out keys still open old histories. A payload that is not encrypted is refused on
decode: with keys configured, only a holder of a key may put input in front of a worker (a
plaintext start from a keyless client never runs, docs/security.md). The replayer and the codec
server's read path pass `accept_plaintext=True` to read histories older than encryption.
"""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from eventsync.keyring import Keyring, KeyringError, keyring_from_env

ENCODING = b"binary/encrypted"
KEY_ID_META = "encryption-key-id"


class PlaintextPayloadError(KeyringError):
    """An unencrypted payload reached a process that has codec keys."""


class EncryptionCodec(PayloadCodec):
    def __init__(self, keyring: Keyring, *, accept_plaintext: bool = False) -> None:
        self.keyring = keyring
        self.accept_plaintext = accept_plaintext

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encode_one(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decode_one(p) for p in payloads]

    def encode_one(self, payload: Payload) -> Payload:
        key_id, sealed = self.keyring.seal(payload.SerializeToString())
        return Payload(metadata={"encoding": ENCODING, KEY_ID_META: key_id.encode()}, data=sealed)

    def decode_one(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            if self.accept_plaintext:
                return payload
            raise PlaintextPayloadError(
                "refused an unencrypted payload: this process has codec keys, so every input must "
                "come from a client with the same keys (EVENTSYNC_CODEC_KEYS)"
            )
        raw_id = payload.metadata.get(KEY_ID_META)
        if not raw_id:
            raise KeyringError(f"encrypted payload has no {KEY_ID_META} metadata")
        decoded = Payload()
        decoded.ParseFromString(self.keyring.open(raw_id.decode(), payload.data))
        return decoded


def codec_from_env(*, accept_plaintext: bool = False) -> EncryptionCodec | None:
    """The codec configured by EVENTSYNC_CODEC_KEYS / EVENTSYNC_CODEC_KEYS_FILE, or None."""
    keyring = keyring_from_env()
    return EncryptionCodec(keyring, accept_plaintext=accept_plaintext) if keyring is not None else None

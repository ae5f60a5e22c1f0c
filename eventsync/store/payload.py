"""An event as the store keeps it: JSON, sealed with the payload keys when they are configured,
so registrants' data is no more in clear in the store than in Temporal's history."""

from __future__ import annotations

from eventsync.keyring import Keyring

SEALED = b"\x01"  # JSON never starts with this byte


def seal(raw: bytes, keyring: Keyring | None) -> bytes:
    if keyring is None:
        return raw
    key_id, sealed = keyring.seal(raw)
    kid = key_id.encode()
    return SEALED + bytes([len(kid)]) + kid + sealed


def unseal(data: bytes, keyring: Keyring | None) -> bytes:
    if not data.startswith(SEALED):
        return data
    if keyring is None:
        raise ValueError("this event was stored sealed, and no payload keys are configured to open it")
    n = data[1]
    return keyring.open(data[2 : 2 + n].decode(), data[2 + n :])

"""What the store keeps sealed: event bodies, and the free text of decisions and park reasons
(a vendor's answer often quotes the registrant's email). Sealed with the payload keys when they
are configured, so registrants' data is no more in clear in the store than in Temporal's history."""

from __future__ import annotations

import base64

from eventsync.keyring import Keyring, KeyringError

SEALED = b"\x01"  # JSON never starts with this byte
SEALED_TEXT = "\x01sealed:"  # no reason or detail written in clear starts with a control character


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


def seal_text(text: str, keyring: Keyring | None) -> str:
    if keyring is None or not text:
        return text
    return SEALED_TEXT + base64.b64encode(seal(text.encode(), keyring)).decode("ascii")


def open_text(text: str, keyring: Keyring | None) -> str:
    """The text as written; a sealed text this process cannot open says so instead of failing
    the whole read (an operator's `explain` still shows every other field)."""
    if not text.startswith(SEALED_TEXT):
        return text
    if keyring is None:
        return "(sealed: set EVENTSYNC_CODEC_KEYS or EVENTSYNC_CODEC_KEYS_FILE to read it)"
    try:
        return unseal(base64.b64decode(text[len(SEALED_TEXT) :]), keyring).decode()
    except (KeyringError, ValueError):
        return "(sealed with a payload key this process does not have)"

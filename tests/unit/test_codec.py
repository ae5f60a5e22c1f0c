"""AES-GCM payload codec and its keyring: round trip, rotation, clear errors without key material."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload

from eventsync.keyring import Keyring, KeyringError, ensure_key_file, keyring_from_env, parse_keys
from worker.codec import ENCODING, KEY_ID_META, EncryptionCodec, PlaintextPayloadError
from worker.converter import data_converter

K1 = base64.b64encode(b"1" * 32).decode()
K2 = base64.b64encode(b"2" * 32).decode()
EMAIL = b'{"email":"ada@example.com"}'


def plain(data: bytes = EMAIL) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=data)


async def test_round_trip_hides_data_and_names_the_key() -> None:
    codec = EncryptionCodec(parse_keys(f"k1:{K1}"))
    [enc] = await codec.encode([plain()])
    assert enc.metadata["encoding"] == ENCODING
    assert enc.metadata[KEY_ID_META] == b"k1"
    assert b"ada@example.com" not in enc.SerializeToString()
    [dec] = await codec.decode([enc])
    assert dec == plain()


async def test_rotation_encrypts_with_current_and_decrypts_with_any() -> None:
    old = EncryptionCodec(parse_keys(f"k1:{K1}"))
    rotated = EncryptionCodec(parse_keys(f"k2:{K2},k1:{K1}"))
    [sealed_old] = await old.encode([plain()])
    [sealed_new] = await rotated.encode([plain()])
    assert sealed_new.metadata[KEY_ID_META] == b"k2"
    assert await rotated.decode([sealed_old, sealed_new]) == [plain(), plain()]
    with pytest.raises(KeyringError, match="key 'k2', which is not configured"):
        await old.decode([sealed_new])


async def test_plain_payloads_are_refused_on_decode_unless_reading_old_histories() -> None:
    # A keyless client's input must never reach a worker that has keys (issue 13 item 1).
    codec = EncryptionCodec(parse_keys(f"k1:{K1}"))
    with pytest.raises(PlaintextPayloadError, match="refused an unencrypted payload"):
        await codec.decode([plain()])
    reader = EncryptionCodec(parse_keys(f"k1:{K1}"), accept_plaintext=True)
    assert await reader.decode([plain()]) == [plain()]


async def test_tampered_or_relabelled_payloads_fail_to_open() -> None:
    codec = EncryptionCodec(parse_keys(f"k1:{K1},k2:{K2}"))
    [enc] = await codec.encode([plain()])
    flipped = Payload(metadata=dict(enc.metadata), data=enc.data[:-1] + bytes([enc.data[-1] ^ 1]))
    with pytest.raises(KeyringError, match="did not authenticate"):
        await codec.decode([flipped])
    relabelled = Payload(metadata={**enc.metadata, KEY_ID_META: b"k2"}, data=enc.data)
    with pytest.raises(KeyringError, match="did not authenticate with key 'k2'"):
        await codec.decode([relabelled])


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "no keys given"),
        ("k1", "entry 1 is not of the form id:base64key"),
        (f"k1:{K1},k1:{K2}", "'k1' is given twice"),
        ("k1:not*base64", "'k1' is not valid base64"),
        (f"k1:{base64.b64encode(b'short').decode()}", "'k1' is 5 bytes"),
        (f"bad id:{K1}", "may only hold"),
    ],
)
def test_bad_key_specs_are_named_without_key_material(spec: str, message: str) -> None:
    with pytest.raises(KeyringError, match=message) as err:
        parse_keys(spec)
    assert K1 not in str(err.value) and K2 not in str(err.value)


def test_keys_from_file_with_comments(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text(f"# rotated 2025-01\nk2:{K2}\nk1:{K1}\n")
    ring = keyring_from_env({"EVENTSYNC_CODEC_KEYS_FILE": str(path)})
    assert ring is not None and ring.current_id == "k2" and list(ring.keys) == ["k2", "k1"]
    assert K2 not in repr(ring)
    with pytest.raises(KeyringError, match="not both"):
        keyring_from_env({"EVENTSYNC_CODEC_KEYS_FILE": str(path), "EVENTSYNC_CODEC_KEYS": f"k1:{K1}"})
    with pytest.raises(KeyringError, match="cannot read"):
        keyring_from_env({"EVENTSYNC_CODEC_KEYS_FILE": str(path) + ".missing"})
    assert keyring_from_env({}, dev_keys=None) is None
    assert keyring_from_env({}, dev_keys=tmp_path / "absent") is None


def test_dev_key_file_is_private_kept_and_found_when_nothing_is_configured(tmp_path: Path) -> None:
    path = ensure_key_file(tmp_path / "state" / "codec.keys")
    assert path.stat().st_mode & 0o777 == 0o600
    first = path.read_text()
    assert ensure_key_file(path).read_text() == first  # a restart keeps the key
    ring = keyring_from_env({}, dev_keys=path)
    assert ring is not None and ring.current_id == "dev"
    # Configured keys always win over the dev stack's file.
    ring = keyring_from_env({"EVENTSYNC_CODEC_KEYS": f"k1:{K1}"}, dev_keys=path)
    assert ring is not None and ring.current_id == "k1"


def test_a_loose_dev_state_folder_and_key_file_are_tightened_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "state"
    path = ensure_key_file(state / "codec.keys")
    assert state.stat().st_mode & 0o777 == 0o700
    state.chmod(0o755)
    path.chmod(0o644)  # as a copy, an unpacked archive or a umask of 022 leaves it
    with caplog.at_level("WARNING", logger="eventsync.private_files"):
        assert keyring_from_env({}, dev_keys=path) is not None
        assert path.stat().st_mode & 0o777 == 0o600
        ensure_key_file(path)  # the dev stack's start
    assert state.stat().st_mode & 0o777 == 0o700
    assert f"{path} was mode 644, readable by others; changed it to 600" in caplog.text
    assert f"{state} was mode 755, readable by others; changed it to 700" in caplog.text


async def test_data_converter_uses_configured_keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no dev stack's .eventsync/codec.keys in the folder
    monkeypatch.setenv("EVENTSYNC_CODEC_KEYS", f"k9:{K1}")
    conv = data_converter()
    assert isinstance(conv.payload_codec, EncryptionCodec)
    [payload] = await conv.encode(["ada@example.com"])
    assert payload.metadata[KEY_ID_META] == b"k9" and b"ada@" not in payload.data
    assert await conv.decode([payload], [str]) == ["ada@example.com"]
    assert data_converter(None).payload_codec is None
    monkeypatch.delenv("EVENTSYNC_CODEC_KEYS")
    assert data_converter().payload_codec is None


def test_keyring_rejects_unknown_current() -> None:
    with pytest.raises(KeyringError, match="current key id"):
        Keyring(keys={"a": b"1" * 16}, current_id="b")

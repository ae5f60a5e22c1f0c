"""Read a workflow history as a person inspecting it would: payloads decoded from base64.

`history_text` is what a holder of the codec keys sees (encrypted payloads opened);
`raw_history_text` is what anyone with only Temporal access sees.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from google.protobuf import json_format
from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowHandle

from worker.codec import ENCODING, EncryptionCodec, codec_from_env

_ENCRYPTED_B64 = base64.b64encode(ENCODING).decode()


def _decode_payloads(node: Any, out: list[str], codec: EncryptionCodec | None) -> None:
    if isinstance(node, dict):
        if codec is not None and node.get("metadata", {}).get("encoding") == _ENCRYPTED_B64:
            opened = codec.decode_one(json_format.ParseDict(node, Payload()))
            out.append(opened.data.decode("utf-8", errors="replace"))
            return
        for key, value in node.items():
            if key == "data" and isinstance(value, str):
                try:
                    out.append(base64.b64decode(value).decode("utf-8", errors="replace"))
                except ValueError:
                    out.append(value)
            else:
                _decode_payloads(value, out, codec)
    elif isinstance(node, list):
        for item in node:
            _decode_payloads(item, out, codec)


async def _text(handle: WorkflowHandle[Any, Any], codec: EncryptionCodec | None) -> str:
    raw = (await handle.fetch_history()).to_json()
    decoded: list[str] = []
    _decode_payloads(json.loads(raw), decoded, codec)
    return raw + "\n" + "\n".join(decoded)


async def history_text(handle: WorkflowHandle[Any, Any]) -> str:
    """The history JSON plus every payload decoded (and decrypted with the configured keys)."""
    return await _text(handle, codec_from_env())


async def raw_history_text(handle: WorkflowHandle[Any, Any]) -> str:
    """The history JSON plus every payload base64-decoded, without any key."""
    return await _text(handle, None)


def payload_texts(node: object) -> str:
    """Every `data` field of a JSON history (`temporal workflow show -o json`), base64-decoded,
    as one text."""
    out: list[str] = []

    def walk(n: object) -> None:
        if isinstance(n, dict):
            for k, v in n.items():
                if k == "data" and isinstance(v, str):
                    out.append(base64.b64decode(v).decode("utf-8", errors="replace"))
                else:
                    walk(v)
        elif isinstance(n, list):
            for item in n:
                walk(item)

    walk(node)
    return "\n".join(out)

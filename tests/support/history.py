"""Read a workflow history as a person inspecting it would: payloads decoded from base64."""

from __future__ import annotations

import base64
import json
from typing import Any

from temporalio.client import WorkflowHandle


def _decode_payloads(node: Any, out: list[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "data" and isinstance(value, str):
                try:
                    out.append(base64.b64decode(value).decode("utf-8", errors="replace"))
                except ValueError:
                    out.append(value)
            else:
                _decode_payloads(value, out)
    elif isinstance(node, list):
        for item in node:
            _decode_payloads(item, out)


async def history_text(handle: WorkflowHandle[Any, Any]) -> str:
    """The history JSON plus every payload decoded, as one searchable text."""
    raw = (await handle.fetch_history()).to_json()
    decoded: list[str] = []
    _decode_payloads(json.loads(raw), decoded)
    return raw + "\n" + "\n".join(decoded)

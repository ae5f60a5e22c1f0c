"""The one data converter, used by the client, the worker, the replayer and the codec server.

Pydantic models cross every Temporal boundary. The payload codec (AES-GCM encryption of
registrant data, worker/codec.py) plugs in here and nowhere else: by default it is the one
configured by EVENTSYNC_CODEC_KEYS or EVENTSYNC_CODEC_KEYS_FILE, so every process that talks
to Temporal through this function reads and writes the same encrypted payloads.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec

from worker.codec import codec_from_env

FROM_ENV: Literal["env"] = "env"


def data_converter(
    codec: PayloadCodec | None | Literal["env"] = FROM_ENV, *, accept_plaintext: bool = False
) -> DataConverter:
    """`codec="env"` (default): the configured encryption codec if keys are set; `None`: plain.
    `accept_plaintext` only for reading histories older than encryption (the replayer)."""
    if codec == FROM_ENV:
        codec = codec_from_env(accept_plaintext=accept_plaintext)
    if codec is None:
        return pydantic_data_converter
    assert not isinstance(codec, str)
    # Failure messages and stack traces quote vendor bodies (often the record): with a codec
    # they travel as encoded attributes, so history shows only "Encoded failure".
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )

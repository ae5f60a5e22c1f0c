"""The one data converter, used by the client, the worker, the replayer and the codec server.

Pydantic models cross every Temporal boundary. The payload codec (encryption of registrant
data, the Operations issue) plugs in here and nowhere else.
"""

from __future__ import annotations

import dataclasses

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, PayloadCodec


def data_converter(codec: PayloadCodec | None = None) -> DataConverter:
    if codec is None:
        return pydantic_data_converter
    return dataclasses.replace(pydantic_data_converter, payload_codec=codec)

"""Connect to Temporal the same way everywhere: envconfig profiles, TEMPORAL_ADDRESS,
TEMPORAL_NAMESPACE, then our defaults; always with our data converter (payload encryption)
and the tracing interceptor."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client
from temporalio.envconfig import ClientConfig

from worker.converter import data_converter
from worker.tracing import interceptors

DEFAULT_ADDRESS = "localhost:7233"


async def connect(address: str | None = None, namespace: str | None = None) -> Client:
    config: dict[str, Any] = dict(ClientConfig.load_client_connect_config())
    config.setdefault("target_host", DEFAULT_ADDRESS)
    if address:
        config["target_host"] = address
    if namespace:
        config["namespace"] = namespace
    return await Client.connect(**config, data_converter=data_converter(), interceptors=interceptors())

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


class TemporalConfigError(Exception):
    """The envconfig file or profile cannot be used (missing profile, bad TOML)."""


def connect_config(
    address: str | None = None, namespace: str | None = None, profile: str | None = None
) -> dict[str, Any]:
    """Client.connect's keyword arguments: the envconfig profile (file and TEMPORAL_* variables;
    TEMPORAL_PROFILE names the profile when `profile` is None), then explicit values on top."""
    try:
        config: dict[str, Any] = dict(ClientConfig.load_client_connect_config(profile=profile))
    except Exception as err:  # the bridge's ConfigError is not importable as a public type
        where = "$TEMPORAL_CONFIG_FILE or ~/.config/temporalio/temporal.toml"
        raise TemporalConfigError(
            f"Temporal config: {err}\n  fix: define the profile in {where} "
            "(`temporal config set --profile NAME --prop address --value HOST:PORT`), or give --address"
        ) from None
    config.setdefault("target_host", DEFAULT_ADDRESS)
    if address:
        config["target_host"] = address
    if namespace:
        config["namespace"] = namespace
    return config


async def connect(address: str | None = None, namespace: str | None = None, profile: str | None = None) -> Client:
    config = connect_config(address, namespace, profile)
    return await Client.connect(**config, data_converter=data_converter(), interceptors=interceptors())

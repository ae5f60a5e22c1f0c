"""Benchmarks run the engine as production runs it: payloads encrypted (a fresh key per run unless
keys are configured, as `eventsync worker` and `serve` refuse to start without them) and
connection secrets read only from allow-listed variables (the benchmarks' own are BENCH_*)."""

from __future__ import annotations

import os

from eventsync.keyring import KEYS_ENV, KEYS_FILE_ENV, new_key
from eventsync.secrets import ENV_ALLOW


def production_env() -> None:
    """Sets both in this process's environment, which every process it starts inherits."""
    if not (os.environ.get(KEYS_ENV) or os.environ.get(KEYS_FILE_ENV)):
        os.environ[KEYS_ENV] = f"bench:{new_key()}"
    allowed = [e for e in os.environ.get(ENV_ALLOW, "").split(",") if e.strip()]
    if "BENCH_*" not in allowed:
        os.environ[ENV_ALLOW] = ",".join([*allowed, "BENCH_*"])

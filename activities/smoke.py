"""A trivial activity that proves the worker path end to end (used by `eventsync dev`)."""

from pydantic import BaseModel
from temporalio import activity

import eventsync


class PingInput(BaseModel):
    message: str


class PingResult(BaseModel):
    echo: str
    engine_version: str
    worker: str


@activity.defn(name="ping")
async def ping(inp: PingInput) -> PingResult:
    return PingResult(
        echo=inp.message, engine_version=eventsync.__version__, worker=activity.info().task_queue
    )

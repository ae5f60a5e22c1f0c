"""Command groups of the CLI, in the order `eventsync --help` lists them."""

from __future__ import annotations

import click

from client.commands import flows as _flows
from client.commands import touchpoint as _touchpoint
from client.commands.codec import codec_server
from client.commands.connections import connections
from client.commands.definitions import schema, validate
from client.commands.fetch import fetch
from client.commands.insights import insights
from client.commands.sandbox import sandbox
from client.commands.serve import serve
from client.commands.stack import apply_cmd, dev, worker
from client.commands.transform import transform

COMMANDS: list[click.Command] = [
    dev,
    validate,
    schema,
    apply_cmd,
    worker,
    connections,
    sandbox,
    fetch,
    transform,
    *_flows.COMMANDS,
    codec_server,
    serve,
    insights,
    *_touchpoint.COMMANDS,
]

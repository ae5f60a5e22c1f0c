"""Command groups of the CLI, in the order `eventsync --help` lists them."""

from __future__ import annotations

import click

from client.commands.connections import connections
from client.commands.definitions import schema, validate
from client.commands.fetch import fetch
from client.commands.stack import apply_cmd, dev, worker

COMMANDS: list[click.Command] = [dev, validate, schema, apply_cmd, worker, connections, fetch]

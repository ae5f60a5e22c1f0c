"""Command groups of the CLI, in the order `eventsync --help` lists them."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []

from client.commands import flows as _flows  # noqa: E402

COMMANDS += _flows.COMMANDS

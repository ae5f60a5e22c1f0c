"""Command groups of the CLI, in the order `eventsync --help` lists them."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []

"""The `eventsync` command line. Each command group lives in client/commands/<group>.py and is
registered below; every command documents its `temporal` CLI equivalent (docs/cli.md)."""

from __future__ import annotations

import click

from client.commands import COMMANDS


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="eventsync")
def cli() -> None:
    """eventsync: durable sync of event-management data, on Temporal."""


for command in COMMANDS:
    cli.add_command(command)


def main() -> None:
    cli(prog_name="eventsync")

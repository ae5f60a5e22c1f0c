"""The `eventsync` command line. Each command group lives in client/commands/<group>.py and is
registered below; every command documents its `temporal` CLI equivalent (docs/cli.md)."""

from __future__ import annotations

import traceback

import click

from client import devenv, failures
from client.commands import COMMANDS
from client.commands.common import leave


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="eventsync")
def cli() -> None:
    """eventsync: durable sync of event-management data, on Temporal."""


for command in COMMANDS:
    cli.add_command(command)


def main() -> None:
    # Every command, success or failure, leaves through one door (see `leave`): a command that
    # used a Temporal client must not reach interpreter finalization (sdk-python#300).
    try:
        devenv.apply_dev_env()
        cli(prog_name="eventsync")
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        if isinstance(done.code, str):
            click.echo(done.code, err=True)
    except BaseException as err:
        message = failures.explain(err)
        if message is None:
            traceback.print_exc()
        else:
            click.secho(message, fg="red", err=True)
        code = 1
    leave(code)

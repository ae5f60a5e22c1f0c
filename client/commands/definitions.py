"""`eventsync validate` and `eventsync schema`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from client.commands.common import DEFAULT_DEFINITIONS, DEFINITIONS_ENV, fail
from eventsync.definitions import Definitions
from eventsync.definitions.loader import load_definitions


@click.command()
@click.argument("path", type=click.Path(path_type=Path), envvar=DEFINITIONS_ENV, default=DEFAULT_DEFINITIONS)
def validate(path: Path) -> None:
    """Check a definitions file or folder; report every problem with file:line, path and a hint."""
    result = load_definitions(path)
    for problem in result.problems:
        click.echo(str(problem), err=problem.severity == "error")
    if result.errors:
        fail(f"{len(result.errors)} error(s), {len(result.warnings)} warning(s) in {path}")
    d = result.definitions
    assert d is not None
    click.secho(
        f"OK: {len(d.connections)} connection(s), {len(d.flows)} flow(s), {len(d.fetches)} fetch(es)"
        + (", touchpoint" if d.touchpoint else "")
        + (f"; {len(result.warnings)} warning(s)" if result.warnings else ""),
        fg="green",
    )


@click.command()
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    default=None,
    help="Write to this file instead of stdout.",
)
def schema(output: Path | None) -> None:
    """Write the JSON Schema of definitions files (for editor completion and checks)."""
    text = json.dumps(Definitions.model_json_schema(), indent=2)
    if output:
        output.write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {output}")
    else:
        click.echo(text)

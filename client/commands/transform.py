"""`eventsync transform try`: run a Jolt spec on a record, and say why each output field is there."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import click
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from client.commands.common import fail
from eventsync.definitions.loader import line_of
from eventsync.transforms import TransformError, jolt


def _plain(node: Any) -> Any:
    """ruamel's commented containers as plain dicts and lists (key order kept)."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _read(what: str, source: str) -> tuple[Any, Any, str]:
    """(plain data, the ruamel tree for line numbers, where it came from) from a file, `-` or inline JSON."""
    if source == "-":
        text, where = sys.stdin.read(), "stdin"
    elif source.lstrip().startswith(("{", "[")):
        text, where = source, f"the {what} text"
    else:
        path = Path(source)
        if not path.is_file():
            fail(f"{what} {source}: no such file (give a JSON or YAML file, '-' for stdin, or inline JSON)")
        text, where = path.read_text(encoding="utf-8"), str(path)
    try:
        tree = YAML(typ="rt").load(io.StringIO(text))  # JSON is YAML: one reader, with line numbers
    except YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        fail(f"{where}{line}: the {what} is not valid JSON or YAML: {getattr(err, 'problem', err)}")
    return _plain(tree), tree, where


def _line(tree: Any, loc: tuple[str | int, ...]) -> int | None:
    # A chain's error location starts with its index; a single operation's file has no list.
    node = tree if isinstance(tree, list) or not loc or not isinstance(loc[0], int) else [tree]
    return line_of(node, loc)


def _dump(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, allow_nan=True)


@click.group()
def transform() -> None:
    """Jolt specs: try one on a record before it goes into a fetch definition."""


@transform.command("try")
@click.option(
    "--spec",
    "-s",
    "spec_source",
    required=True,
    help="Jolt chain or entry: a JSON/YAML file, or inline JSON.",
)
@click.option(
    "--input",
    "-i",
    "input_source",
    required=True,
    help="The record: a JSON/YAML file, '-' (stdin) or inline JSON.",
)
@click.option(
    "--context", "-c", "context_source", default=None, help="What modify specs read with ^path (JSON/YAML)."
)
@click.option(
    "--fetch",
    "fetch_name",
    default=None,
    help="With a definitions file as --spec: the fetch whose chain to try.",
)
@click.option("--explain", "-e", is_flag=True, help="Also say which spec path produced each output field.")
def try_spec(
    spec_source: str, input_source: str, context_source: str | None, fetch_name: str | None, explain: bool
) -> None:
    """Print what the spec makes of the input (with --explain: where each field came from, what matched nothing)."""
    spec, tree, where = _read("spec", spec_source)
    if isinstance(spec, dict) and isinstance(spec.get("fetches"), list):
        # a definitions file: the chain of the fetch named by --fetch (or its only fetch)
        fetches = [f for f in spec["fetches"] if isinstance(f, dict)]
        names = [str(f.get("name")) for f in fetches]
        if fetch_name is None and len(fetches) != 1:
            fail(f"{where} has {len(fetches)} fetches; choose one with --fetch ({', '.join(names)})")
        pick = 0 if fetch_name is None else names.index(fetch_name) if fetch_name in names else -1
        if pick < 0:
            fail(f"{where} has no fetch {fetch_name!r} (it has: {', '.join(names) or 'none'})")
        spec, tree = fetches[pick].get("transform", []), tree["fetches"][pick].get("transform", [])
    if isinstance(spec, dict) and "transform" in spec and "operation" not in spec:
        spec, tree = spec["transform"], tree["transform"]  # one fetch definition: its chain
    data, _, _ = _read("input", input_source)
    context = None
    if context_source is not None:
        context, _, _ = _read("context", context_source)
        if not isinstance(context, dict):
            fail("the context is an object: its keys are what ^key reads")
    try:
        chain = jolt.compile(spec)
    except TransformError as err:
        line = _line(tree, jolt.error_location(spec, err))
        fail(f"{where}{f':{line}' if line else ''}: {err}")
    try:
        if not explain:
            click.echo(_dump(chain.apply(data, context)))
            return
        explanation = chain.explain(data, context)
    except TransformError as err:
        fail(f"{where}: {err}")
    click.echo(_dump(explanation.output))
    click.echo()
    for text in explanation.lines():
        click.echo(text)

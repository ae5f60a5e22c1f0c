"""`eventsync insights`: the metrics dashboard in the terminal (same data: client/insights.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from client.commands.common import (
    DEFAULT_DEFINITIONS,
    Temporal,
    connect,
    fail,
    load,
    pick,
    run,
    temporal_options,
)

FLOW_ROWS = ("received", "activated", "skipped", "delivered", "parked", "discarded")
FETCH_ROWS = ("pages", "fetched", "applied", "rejected")


def _hhmm(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%H:%M")


def render_text(ins: object, width: int = 60) -> str:
    from client.charts import sparkline
    from client.insights import Insights, slotted

    assert isinstance(ins, Insights)
    out: list[str] = []
    t = ins.totals
    out.append(
        f"eventsync insights · namespace {ins.namespace} · last {ins.window_minutes} min "
        f"({_hhmm(ins.since)}–{_hhmm(ins.generated_at)} UTC)"
    )
    out.append(
        "account: "
        + "  ".join(f"{k} {t.get(k, 0)}" for k in FLOW_ROWS[:5])
        + f"  retry-queue {ins.retry_queue_size}"
    )
    for group, table in (("account", ins.by_account), ("destination", ins.by_destination)):
        for name, c in sorted(table.items()):
            out.append(f"  {group} {name}: " + "  ".join(f"{k} {c.get(k, 0)}" for k in FLOW_ROWS[:5]))
    for f in ins.flows:
        out.append("")
        note = "" if f.configured or not ins.definitions_loaded else " (not in the loaded definitions)"
        out.append(
            f"flow {f.name}{note} · {f.account or '?'} → {f.destination or '?'} · "
            f"{f.shards_running} shard(s) running · {f.pending} queued"
        )
        starts, rows = slotted(f.timeline, ins.since, ins.generated_at, max_slots=width)
        for k in FLOW_ROWS:
            values = [r[k] for r in rows]
            out.append(f"  {k:<10}{f.totals.get(k, 0):>7}  {sparkline(values)}")
        if starts:
            out.append(f"  {'':<17}  {_hhmm(starts[0])}{' ' * max(1, len(starts) - 10)}{_hhmm(starts[-1])}")
        for reason, n in sorted(f.skipped_by.items(), key=lambda kv: -kv[1]):
            out.append(f"  skipped {n:>5} × {reason}")
        out.append(f"  retry queue: {len(f.parked)}")
        for p in f.parked:
            out.append(
                f"    {p.record}  shard {p.shard}  since {_hhmm(p.since)}  attempts {p.attempts}: {p.reason}"
            )
        for problem in f.problems:
            out.append(f"  ! {problem}")
        if f.runs:
            out.append("  last runs:")
            for r in f.runs[:5]:
                out.append(f"    {r.status:<16} {r.state:<8} {_hhmm(r.started)}  {r.link}")
    for fe in ins.fetches:
        out.append("")
        out.append(f"fetch {fe.name} · {fe.parked} run(s) parked")
        for k in FETCH_ROWS:
            out.append(f"  {k:<10}{fe.totals.get(k, 0):>7}  {sparkline([getattr(p, k) for p in fe.points])}")
        for problem in fe.problems:
            out.append(f"  ! {problem}")
        for r in fe.runs[:5]:
            out.append(f"    {r.status:<16} {r.state:<8} {_hhmm(r.started)}  {r.link}")
    return "\n".join(out)


@click.command("insights")
@click.option(
    "--definitions",
    "-d",
    "definitions_path",
    envvar="EVENTSYNC_DEFINITIONS",
    default=None,
    type=click.Path(path_type=Path),
    help="YAML file or folder of definitions: lists configured flows even without runs "
    f"(optional; default ./{DEFAULT_DEFINITIONS} when it exists).",
)
@temporal_options
@click.option("--minutes", default=60, show_default=True, help="the window")
@click.option("--flow", "only_flow", help="only this flow")
@click.option("--json", "as_json", is_flag=True, help="the dashboard's JSON (/dashboard/api/insights)")
def insights(
    definitions_path: Path | None,
    temporal: Temporal,
    minutes: int,
    only_flow: str | None,
    as_json: bool,
) -> None:
    """Per flow and fetch counts over time, the retry queue and the last runs (the metrics dashboard,
    in the terminal). Read from Temporal: needs a worker running for the live shards' counts."""
    from client.insights import InsightsCollector

    if definitions_path is None and Path(DEFAULT_DEFINITIONS).exists():
        definitions_path = Path(DEFAULT_DEFINITIONS)
    defs = load(definitions_path) if definitions_path else None
    if defs is not None and only_flow:
        pick("flow or fetch", only_flow, [f.name for f in defs.flows] + [f.name for f in defs.fetches])

    async def go() -> str:
        collector = InsightsCollector(await connect(temporal), defs)
        try:
            ins = await collector.collect(minutes, only_flow)
        except ValueError as err:
            fail(str(err))
            raise
        if only_flow:
            if not ins.flows and not ins.fetches:
                fail(f"no flow or fetch named {only_flow!r} in the last {minutes} min")
        return ins.model_dump_json(indent=2) if as_json else render_text(ins)

    click.echo(run(go()))

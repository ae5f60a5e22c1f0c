"""An operator's typo in a connection, flow or fetch name is an error that offers the nearest
names, never a command that "succeeds" on nothing."""

from __future__ import annotations

import click
import pytest

from client.commands.common import pick
from tests.support.cli import eventsync


async def test_connections_test_with_a_typo_names_the_connection_meant() -> None:
    ran = await eventsync("connections", "test", "platfrom", "-d", "examples/dev")
    assert ran.code == 2, ran.both
    assert "no connection named 'platfrom'; did you mean 'platform'?" in ran.err
    assert "Traceback" not in ran.both


async def test_insights_for_a_flow_with_a_typo_fails_before_asking_temporal() -> None:
    # An address nobody listens on: the name is checked first, so no connection error shows.
    ran = await eventsync(
        "insights", "-d", "examples/dev", "--flow", "registered-to-markto", "--address", "127.0.0.1:1"
    )
    assert ran.code == 2, ran.both
    assert "did you mean 'registered-to-marketo'" in ran.err
    assert "cannot reach Temporal" not in ran.err


def test_pick_returns_a_known_name_and_lists_the_defined_ones_when_nothing_is_close() -> None:
    assert pick("flow", "a", ["a", "b"]) == "a"
    with pytest.raises(click.UsageError, match=r"no flow named 'zzz' \(defined: a, b\)$"):
        pick("flow", "zzz", ["b", "a"])
    with pytest.raises(click.UsageError, match=r"no fetch named 'x' \(defined: none\)"):
        pick("fetch", "x", [])

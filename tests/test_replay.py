"""Replay every recorded history (tests/histories/<WorkflowType>-<name>.json) against today's
workflow code: a change that would break in-flight runs fails here, not in production."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from worker import registry
from worker.converter import data_converter

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))
TEXTS = {p.stem: p.read_text() for p in HISTORIES}


def test_there_are_histories_to_replay() -> None:
    assert HISTORIES, "tests/histories/ holds no histories: record some with scripts/record_history.py"


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_replay(path: Path) -> None:
    replayer = Replayer(workflows=list(registry.workflows()), data_converter=data_converter(accept_plaintext=True))
    history = WorkflowHistory.from_json(path.stem, TEXTS[path.stem])
    await replayer.replay_workflow(history, raise_on_replay_failure=True)

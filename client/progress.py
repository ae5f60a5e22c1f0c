"""Live progress for a command that waits on long work (`fetch run --wait`, `touchpoint
reprocess --wait`): a rich progress bar on a terminal, plain lines when stdout is not one (a
log, a pipe, CI), so that the output stays readable in both."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import IO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class Follow:
    """`update(done, total, detail)` as the work moves; `total` None: unknown (no bar, no ETA)."""

    def __init__(self, title: str, unit: str = "records", stream: IO[str] | None = None) -> None:
        self.title, self.unit = title, unit
        self.stream = stream if stream is not None else sys.stdout
        self.tty = self.stream.isatty()
        self._started = time.monotonic()
        self._last_line: tuple[int, str] | None = None
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> Follow:
        if self.tty:
            self._bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn(self.unit + " · {task.fields[rate]}/s · {task.fields[detail]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=Console(file=self.stream),
                transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task(self.title, total=None, rate="0", detail="starting")
        return self

    def update(self, done: int, total: int | None = None, detail: str = "") -> None:
        elapsed = max(time.monotonic() - self._started, 1e-6)
        rate = f"{done / elapsed:,.0f}"
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=done, total=total, rate=rate, detail=detail)
            return
        if self._last_line == (done, detail):
            return  # plain lines only when something moved
        self._last_line = (done, detail)
        of = f"/{total}" if total is not None else ""
        eta = ""
        if total and done and total > done:
            eta = f", ETA {int((total - done) / (done / elapsed))} s"
        print(
            f"{self.title}: {done}{of} {self.unit} ({rate}/s{eta}) {detail}".rstrip(),
            file=self.stream,
            flush=True,
        )

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

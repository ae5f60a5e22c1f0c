"""Engine-level failures (HTTP failures come from eventsync.http.errors)."""

from __future__ import annotations


class FetchError(Exception):
    """A page cannot be processed as defined. Permanent ones park the run until an operator
    fixes the cause and resumes; messages name what and where, never a secret or a record's data."""

    def __init__(self, message: str, *, permanent: bool = True) -> None:
        super().__init__(message)
        self.permanent = permanent

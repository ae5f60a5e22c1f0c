"""The base of every model a user writes: unknown keys are errors.

Its own module (not eventsync.definitions) so that the tag and mapping languages, which the
definitions are built from, can use it without importing the definitions package."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Unknown keys are errors: a typo must not silently become a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

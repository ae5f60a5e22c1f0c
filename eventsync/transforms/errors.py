"""The one error every transform in eventsync raises."""

from __future__ import annotations


class TransformError(ValueError):
    """A spec, mapping or rule that cannot be compiled, or a record it cannot transform.

    The message names where: the chain index and the path inside a Jolt spec, or the flow,
    the field and the expression of a mapping. The same facts are kept as attributes so
    callers (the retry queue, `eventsync validate`) can show them without parsing text.
    """

    def __init__(
        self,
        message: str,
        *,
        index: int | None = None,
        path: str | None = None,
        flow: str | None = None,
        field: str | None = None,
        expression: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.index = index
        self.path = path
        self.flow = flow
        self.field = field
        self.expression = expression

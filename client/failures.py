"""Turn the failures a command meets talking to Temporal into one plain line and a fix, instead
of a traceback from the SDK's native bridge."""

from __future__ import annotations

from temporalio.service import RPCError

from client.devenv import DevEnvError
from client.queries import NoAnswer
from worker.connect import TemporalConfigError
from workflows import search_attributes as sa


def explain(err: BaseException) -> str | None:
    """The message for a failure we recognise, or None for a real bug (shown as a traceback)."""
    if isinstance(err, NoAnswer | TemporalConfigError | DevEnvError):
        return str(err)
    if isinstance(err, RuntimeError) and str(err).startswith("Failed client connect"):
        return (
            f"cannot reach Temporal: {_cause(str(err))}\n"
            "  fix: start one (`eventsync dev`), or point at yours with --address / TEMPORAL_ADDRESS"
            " (or --profile / TEMPORAL_PROFILE)"
        )
    if isinstance(err, RPCError):
        message = f"Temporal refused the request ({err.status.name}): {err.message}"
        if "search attribute" in err.message.lower():
            message += "\n  fix: register eventsync's search attributes once per namespace:\n" + "\n".join(
                f"    {command}" for command in sa.create_commands()
            )
        return message
    return None


def _cause(text: str) -> str:
    # The bridge nests tonic's error; its innermost quoted reason is what a person can act on.
    for marker in ('message: "', 'ConnectError("'):
        if marker in text:
            return text.split(marker, 1)[1].split('"', 1)[0]
    return text

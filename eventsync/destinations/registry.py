"""Every destination adapter, by destination kind: the one list the delivery path reads.

Explicit, so that nothing registers by being imported and adding a destination is one line here.
"""

from __future__ import annotations

from eventsync.destinations.base import DestinationAdapter
from eventsync.destinations.eloqua import EloquaAdapter
from eventsync.destinations.hubspot import HubSpotAdapter
from eventsync.destinations.marketo import MarketoAdapter
from eventsync.destinations.salesforce import SalesforceAdapter
from eventsync.destinations.touchpoint import TouchpointAdapter
from eventsync.destinations.webhook import WebhookAdapter

VENDOR_ADAPTERS: dict[str, DestinationAdapter] = {
    "marketo": MarketoAdapter(),
    "eloqua": EloquaAdapter(),
    "salesforce": SalesforceAdapter(),
    "hubspot": HubSpotAdapter(),
}
ADAPTERS: dict[str, DestinationAdapter] = {
    "webhook": WebhookAdapter("webhook"),
    "advanced_webhook": WebhookAdapter("advanced_webhook"),
    "touchpoint": TouchpointAdapter(),
    **VENDOR_ADAPTERS,
}


def adapter_for(kind: str) -> DestinationAdapter:
    try:
        return ADAPTERS[kind]
    except KeyError:
        raise ValueError(f"no destination adapter for kind {kind!r} (known: {', '.join(ADAPTERS)})") from None

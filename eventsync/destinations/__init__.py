"""Native destination adapters (Marketo, Eloqua, Salesforce, HubSpot) on the Signal delivery
path; importing this package registers them in `eventsync.signal.destinations.ADAPTERS`."""

from __future__ import annotations

from eventsync.destinations.eloqua import EloquaAdapter
from eventsync.destinations.hubspot import HubSpotAdapter
from eventsync.destinations.marketo import MarketoAdapter
from eventsync.destinations.salesforce import SalesforceAdapter
from eventsync.signal.destinations import ADAPTERS, DestinationAdapter

VENDOR_ADAPTERS: dict[str, DestinationAdapter] = {
    "marketo": MarketoAdapter(),
    "eloqua": EloquaAdapter(),
    "salesforce": SalesforceAdapter(),
    "hubspot": HubSpotAdapter(),
}
ADAPTERS.update(VENDOR_ADAPTERS)

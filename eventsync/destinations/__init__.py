"""The delivery layer: every destination adapter (webhook, advanced webhook, Touchpoint, Marketo,
Eloqua, Salesforce, HubSpot), the protocol they share (`base.py`), their pacing (`pacing.py`) and
the explicit registry (`registry.py`). Importing this package registers nothing."""

"""Signal flows, the library half (no Temporal here): webhook verification and the event
catalogue, shard assignment, decisions (tags and mappings), the delivery loop over the event
store, the retry policy, and replay. Named for what it holds, flows, not for Temporal's signals:
no Temporal signal carries an event (docs/architecture.md)."""

"""Signal flows, the library half (no Temporal here): webhook verification, the event
catalogue, shard assignment, per-shard ordering and dedupe, decisions, destination adapters."""

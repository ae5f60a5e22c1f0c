"""API Fetch engine: one page at a time — request, select, enrich, transform, apply — with the
pagination and checkpoint bookkeeping the workflow carries between pages and runs. No Temporal here."""

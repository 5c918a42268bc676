"""Signal ingestion, raw store, leading-signal model, rules — models arrive with their issue."""

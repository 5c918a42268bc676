"""Signal ingestion, raw store, leading-signal model, rules."""

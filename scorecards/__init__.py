"""Risk areas, measures, colours, overrides, history."""

"""Flags to levels 1-3, routing, meetings and agendas — models arrive with their issue."""

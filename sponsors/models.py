"""Executive-sponsor program, assignments, check-ins — models arrive with their issue."""

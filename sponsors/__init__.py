"""Executive-sponsor program, assignments, check-ins."""

"""Scheduled work: idle posts reminded, warned and closed; digests; vote repair; stats."""

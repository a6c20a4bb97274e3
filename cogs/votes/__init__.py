"""Reaction votes: raw reaction events in, recounts from Discord's reaction users."""

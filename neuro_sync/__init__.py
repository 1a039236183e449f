"""neuro-sync."""

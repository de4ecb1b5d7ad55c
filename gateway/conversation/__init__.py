"""A conversation's plumbing around its turns: ordering (locks), turns parked while dialog is
away, replayed retries, and recording turns with their live events. None of it decides anything."""

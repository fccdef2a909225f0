"""Use cases, one module per capability; each runs in one transaction."""

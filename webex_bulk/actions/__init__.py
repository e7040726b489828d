"""Per entity type: lookup, create, update, post-steps; pure body builders and comparison."""

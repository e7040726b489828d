"""Phases, workers, terminal states, shutdown, deadline, resume; plan; preflight."""

"""The run directory: journal, checkpoint, lock, the single writer task and the output CSVs."""

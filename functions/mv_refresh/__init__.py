"""mv_refresh ("the Wolf"): keeps the read model current. Scheduled, and invoked by writers after big batches."""

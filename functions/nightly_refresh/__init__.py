"""Scheduled nightly refresh: enqueue a fetch of every actively tracked video."""

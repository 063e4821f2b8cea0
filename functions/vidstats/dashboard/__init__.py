"""The dashboard's domain: queries over the read model and the tracking-metadata commands (no HTTP here)."""

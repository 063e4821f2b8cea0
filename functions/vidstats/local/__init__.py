"""Local development tooling: the embedded PostgreSQL server and a Supabase-like role setup.

Imported only by the CLI and the tests, never by a Lambda handler.
"""

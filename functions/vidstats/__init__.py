"""vidstats core: settings, database access, models and domain logic shared by every function.

Nothing in this package knows about Lambda events; the per-function packages (queue_processor, mv_refresh,
dashboard_api, sheets_export) are thin handlers around it.
"""

"""Page-view analytics (seed 003): the increments writer, the Wolf's report refresh and the report queries.

Domain code only, free of Lambda concerns: ``functions/page_views_increments`` serves the writer over HTTP,
``mv_refresh`` runs the refresh, and :func:`vidstats.page_views.routes.page_views_router` plugs the report into
the dashboard API.
"""

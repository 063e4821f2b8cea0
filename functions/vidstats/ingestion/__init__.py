"""Ingestion: tracking requests become fetch-queue messages; the queue processor turns them into snapshots.

Start tracking (``tracking``), the nightly refresh (``nightly``) and blogger batches (``blogger_batch``) send
``messages`` through the ``fetch_queue``; the queue processor (``processor``) claims them (``idempotency``),
fetches counters from the platform providers (``provider_registry``) and appends snapshots
(``snapshots_repository``), keeping videos and creators current (``videos_repository``), then signals the
read model's refresh (``refresh_signal``).
"""

"""Video statistics providers (RapidAPI), one per platform, behind ``VideoProvider``.

``vidstats.providers.catalogue.make_provider`` builds the configured provider of a platform from the environment.
This package's own import stays light (no provider module, no httpx): handlers that only need the provider
types (``base``, ``errors``) must not pay for the HTTP client at cold start.
"""

"""Configuration read from the environment (and, for secrets, AWS Secrets Manager)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class DatabaseSettings(BaseSettings):
    """Where the Postgres database is.

    Either ``DATABASE_URL`` (local development, CI) or ``DATABASE_URL_SECRET_ID``: the name or ARN of a
    Secrets Manager secret holding the URL (deployed functions). The URL carries a password, so it is a
    SecretStr: it never appears in a repr or a log line.
    """

    model_config = SettingsConfigDict(extra="ignore")

    database_url: SecretStr | None = Field(default=None, validation_alias="DATABASE_URL")
    database_url_secret_id: str | None = Field(default=None, validation_alias="DATABASE_URL_SECRET_ID")
    # Optional read replica (Supabase read replicas) for the readers (dashboard API reads, Sheets export):
    # DATABASE_READ_URL, or DATABASE_READ_URL_SECRET_ID naming a secret holding it. Commands always use the writer.
    database_read_url: SecretStr | None = Field(default=None, validation_alias="DATABASE_READ_URL")
    database_read_url_secret_id: str | None = Field(default=None, validation_alias="DATABASE_READ_URL_SECRET_ID")
    # Upper bound for one statement, so a stuck query cannot eat a whole Lambda timeout.
    statement_timeout_ms: int = Field(default=30_000, ge=100, validation_alias="DB_STATEMENT_TIMEOUT_MS")
    connect_timeout_s: int = Field(default=10, ge=1, validation_alias="DB_CONNECT_TIMEOUT_S")
    # Server-side prepared statements (each statement planned once per connection, not on every call): "auto"
    # uses them unless the URL is a transaction pooler's (port 6543: Supavisor's or PgBouncer's transaction mode,
    # which cannot keep them); "on" / "off" force it.
    database_prepare: Literal["auto", "on", "off"] = Field(default="auto", validation_alias="DATABASE_PREPARE")

    @field_validator("database_prepare", mode="before")
    @classmethod
    def _prepare_lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    def resolve_url(self) -> str:
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        if self.database_url_secret_id:
            # Imported here: only deployed functions pay for boto3 on this path. Cached by Powertools.
            from aws_lambda_powertools.utilities import parameters

            return str(parameters.get_secret(self.database_url_secret_id))
        raise RuntimeError(
            "No database configured: set DATABASE_URL (for example postgresql://user@host/db) "
            "or DATABASE_URL_SECRET_ID (a Secrets Manager secret holding that URL)."
        )

    def resolve_read_url(self) -> str | None:
        """The read replica's URL, or None when readers share the writer's database."""
        if self.database_read_url is not None and self.database_read_url.get_secret_value():
            return self.database_read_url.get_secret_value()
        if self.database_read_url_secret_id:
            from aws_lambda_powertools.utilities import parameters

            return str(parameters.get_secret(self.database_read_url_secret_id))
        return None


@lru_cache(maxsize=1)
def database_settings() -> DatabaseSettings:
    return DatabaseSettings()


class IngestSettings(BaseSettings):
    """Knobs of the ingestion path (queue processor, tracking flows). Every one has a safe default."""

    model_config = SettingsConfigDict(extra="ignore")

    fetch_queue_url: str | None = Field(default=None, validation_alias="FETCH_QUEUE_URL")
    # Threads fetching at once in one invocation; each platform is also paced by RAPIDAPI_<P>_RPS.
    fetch_concurrency: int = Field(default=8, ge=1, le=64, validation_alias="FETCH_CONCURRENCY")
    # Stop starting fetches when less than this is left of the invocation (to write and answer SQS).
    write_reserve_s: float = Field(default=10.0, ge=0, validation_alias="INGEST_WRITE_RESERVE_S")
    # The idempotency window: a redelivered message within it fetches nothing again.
    idempotency_window_s: int = Field(default=86_400, ge=60, validation_alias="IDEMPOTENCY_WINDOW_S")
    # mv_refresh signal: after this many snapshot rows since the last signal, at most once per debounce.
    mv_refresh_function_name: str | None = Field(default=None, validation_alias="MV_REFRESH_FUNCTION_NAME")
    mv_refresh_min_rows: int = Field(default=5_000, ge=1, validation_alias="MV_REFRESH_MIN_ROWS")
    mv_refresh_debounce_s: int = Field(default=300, ge=0, validation_alias="MV_REFRESH_DEBOUNCE_S")
    # Nightly refresh: videos per message, rows per keyset page, grace after a campaign's end.
    nightly_message_size: int = Field(default=50, ge=1, le=100, validation_alias="NIGHTLY_MESSAGE_SIZE")
    nightly_page_size: int = Field(default=2_000, ge=10, le=50_000, validation_alias="NIGHTLY_PAGE_SIZE")
    tracking_grace_days: float = Field(default=7.0, ge=0, validation_alias="TRACKING_GRACE_DAYS")
    # A video is marked gone once the platform answered gone on this many separate UTC days (a hiccup on one day
    # never ends tracking).
    gone_after_days: int = Field(default=2, ge=1, le=30, validation_alias="GONE_AFTER_DAYS")
    # Blogger batch: how many recent videos a creator listing fetches by default.
    blogger_batch_limit: int = Field(default=30, ge=1, le=500, validation_alias="BLOGGER_BATCH_LIMIT")
    # The fetch queue's redrive receive count (template: FetchMaxReceiveCount). A blogger batch still failing
    # on that delivery is recorded as failed instead of staying pending while its message sits in the DLQ.
    fetch_max_receive_count: int | None = Field(default=None, ge=1, validation_alias="FETCH_MAX_RECEIVE_COUNT")


@lru_cache(maxsize=1)
def ingest_settings() -> IngestSettings:
    return IngestSettings()


class RetentionSettings(BaseSettings):
    """Snapshot retention (mv_refresh, ``vidstats retention run``). Off unless SNAPSHOT_RETENTION_DAYS is set."""

    model_config = SettingsConfigDict(extra="ignore")

    # Raw snapshots in month partitions wholly older than this many days are compacted (``vidstats.retention``).
    # Empty or "off": retention is off (the default; nothing is ever compacted).
    snapshot_retention_days: int | None = Field(default=None, ge=1, validation_alias="SNAPSHOT_RETENTION_DAYS")

    @field_validator("snapshot_retention_days", mode="before")
    @classmethod
    def _off(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in ("", "off"):
            return None
        return value

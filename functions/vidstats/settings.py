"""Configuration read from the environment (and, for secrets, AWS Secrets Manager)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr
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
    # Upper bound for one statement, so a stuck query cannot eat a whole Lambda timeout.
    statement_timeout_ms: int = Field(default=30_000, ge=100, validation_alias="DB_STATEMENT_TIMEOUT_MS")
    connect_timeout_s: int = Field(default=10, ge=1, validation_alias="DB_CONNECT_TIMEOUT_S")

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


@lru_cache(maxsize=1)
def database_settings() -> DatabaseSettings:
    return DatabaseSettings()

"""Where the database URL comes from: the environment, or a Secrets Manager secret; never a silent default."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from vidstats.settings import DatabaseSettings


def test_the_url_is_read_from_secrets_manager_when_only_a_secret_id_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import boto3  # type: ignore[import-untyped]
    from aws_lambda_powertools.utilities import parameters
    from moto import mock_aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    parameters.clear_caches()  # type: ignore[no-untyped-call]
    with mock_aws():
        arn = boto3.client("secretsmanager").create_secret(
            Name="vidstats/database-url", SecretString="postgresql://postgres.ref:pw@pooler:6543/postgres")["ARN"]
        settings = DatabaseSettings(database_url=None, database_url_secret_id=arn)
        assert settings.resolve_url() == "postgresql://postgres.ref:pw@pooler:6543/postgres"
    parameters.clear_caches()  # type: ignore[no-untyped-call]


def test_without_a_url_or_secret_the_error_names_both_settings() -> None:
    with pytest.raises(RuntimeError, match=r"set DATABASE_URL .* or DATABASE_URL_SECRET_ID"):
        DatabaseSettings(database_url=None, database_url_secret_id=None).resolve_url()


def test_the_url_never_shows_in_a_repr_or_log_line() -> None:
    settings = DatabaseSettings(database_url=SecretStr("postgresql://u:hunter2@h/db"))
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings.model_dump())


def test_the_read_replica_url_comes_from_its_variable_or_secret_and_is_absent_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import boto3
    from aws_lambda_powertools.utilities import parameters
    from moto import mock_aws

    for name in ("DATABASE_READ_URL", "DATABASE_READ_URL_SECRET_ID"):
        monkeypatch.delenv(name, raising=False)
    assert DatabaseSettings().resolve_read_url() is None
    monkeypatch.setenv("DATABASE_READ_URL", "postgresql://u:hunter2@replica/db")
    settings = DatabaseSettings()
    assert settings.resolve_read_url() == "postgresql://u:hunter2@replica/db"
    assert "hunter2" not in repr(settings)
    monkeypatch.delenv("DATABASE_READ_URL")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    parameters.clear_caches()  # type: ignore[no-untyped-call]
    with mock_aws():
        arn = boto3.client("secretsmanager").create_secret(
            Name="vidstats/database-read-url", SecretString="postgresql://postgres.ref:pw@replica:6543/postgres")["ARN"]
        monkeypatch.setenv("DATABASE_READ_URL_SECRET_ID", arn)
        assert DatabaseSettings().resolve_read_url() == "postgresql://postgres.ref:pw@replica:6543/postgres"
    parameters.clear_caches()  # type: ignore[no-untyped-call]

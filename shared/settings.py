"""Every knob of Pacer in one place, read from the environment (documented in docs/configuration.md)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PACER_", extra="ignore")

    environment: Literal["development", "production"] = "development"
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "PACER_DATABASE_URL"),
        description="Any PostgreSQL >= 15. Unset: an embedded PostgreSQL under data_dir is started.",
    )
    data_dir: Path = Path(".data")
    business_tz: str = "Asia/Shanghai"

    host: str = "127.0.0.1"
    gateway_port: int = 8000
    targets_port: int = 8001
    metrics_port: int = 8002
    reviews_port: int = 8003
    targets_url: str = "http://127.0.0.1:8001"
    metrics_url: str = "http://127.0.0.1:8002"
    reviews_url: str = "http://127.0.0.1:8003"
    gateway_url: str = "http://127.0.0.1:8000"

    jwt_secret: str = "pacer-development-secret-change-me-0123456789"
    jwt_jwks_url: str | None = None
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    dev_token_ttl_seconds: int = 8 * 3600

    max_body_bytes: int = 16 * 1024 * 1024
    body_read_timeout_seconds: float = 30.0
    max_events_per_batch: int = 10_000
    max_tasks_per_batch: int = 10_000
    page_size_default: int = 50
    page_size_max: int = 500

    http_timeout_seconds: float = 5.0
    http_retries: int = 3

    graphql_max_depth: int = 12
    graphql_max_aliases: int = 30
    graphql_max_tokens: int = 5_000

    log_level: str = "INFO"
    log_file: Path | None = None

    @property
    def production(self) -> bool:
        return self.environment == "production"


@lru_cache
def get_settings() -> Settings:
    return Settings()

"""Every knob of Pacer in one place, read from the environment (documented in docs/configuration.md)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_JWT_SECRET = "pacer-development-secret-change-me-0123456789"
MIN_SECRET_LENGTH = 32


# prometheus-client's multiprocess mode: the directory where a service run with several worker
# processes keeps their samples (set by `shared.stack` and docker-compose.yml, summed by the
# `/metrics` route of `shared.api`).
PROMETHEUS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


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
    metrics_workers: int = Field(
        default=2,
        ge=1,
        le=8,
        description="Worker processes of the metrics service under `pacer run`: a dashboard's two "
        "query batches (its series, and the targets service's for progress) are computed side by "
        "side. Each has its own answer memory and database pool.",
    )
    targets_url: str = "http://127.0.0.1:8001"
    metrics_url: str = "http://127.0.0.1:8002"
    reviews_url: str = "http://127.0.0.1:8003"
    gateway_url: str = "http://127.0.0.1:8000"

    jwt_secret: str = DEVELOPMENT_JWT_SECRET
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

    query_cache_mb: int = Field(
        default=64,
        description="Memory per metrics process for query answers kept until their data changes (0: off).",
    )

    http_timeout_seconds: float = 5.0
    http_retries: int = 3

    graphql_max_depth: int = 12
    graphql_max_aliases: int = 30
    graphql_max_tokens: int = 5_000

    log_level: str = "INFO"
    log_file: Path | None = None

    @model_validator(mode="after")
    def _production_needs_a_real_key(self) -> Settings:
        # Anyone who has read this file knows the development secret: in production it would let
        # them sign an admin token. Refuse to start rather than run open.
        weak = self.jwt_secret == DEVELOPMENT_JWT_SECRET or len(self.jwt_secret) < MIN_SECRET_LENGTH
        if self.production and not self.jwt_jwks_url and weak:
            raise ValueError(
                "In production set PACER_JWT_JWKS_URL, or PACER_JWT_SECRET to a secret of your own "
                f"of at least {MIN_SECRET_LENGTH} characters."
            )
        return self

    @property
    def production(self) -> bool:
        return self.environment == "production"


@lru_cache
def get_settings() -> Settings:
    return Settings()

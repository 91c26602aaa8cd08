"""Production refuses to run on the development secret, which anyone reading the code knows."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.settings import DEVELOPMENT_JWT_SECRET, Settings


def test_production_refuses_the_development_secret() -> None:
    with pytest.raises(ValidationError, match="PACER_JWT_SECRET"):
        Settings(environment="production", jwt_secret=DEVELOPMENT_JWT_SECRET)


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(environment="production", jwt_secret="short")


def test_production_runs_with_a_secret_of_its_own_or_a_jwks_url() -> None:
    assert Settings(environment="production", jwt_secret="x" * 40).production
    assert Settings(environment="production", jwt_jwks_url="https://idp.example/jwks.json").production


def test_development_runs_on_the_development_secret() -> None:
    assert Settings(environment="development").jwt_secret == DEVELOPMENT_JWT_SECRET

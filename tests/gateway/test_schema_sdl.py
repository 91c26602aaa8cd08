"""The committed SDL is the schema the gateway serves."""

from __future__ import annotations

from pathlib import Path

from services.gateway.schema import sdl

COMMITTED = Path(__file__).resolve().parents[2] / "services" / "gateway" / "schema.graphql"


def test_committed_sdl_matches_the_schema_so_drift_fails_the_build() -> None:
    assert COMMITTED.read_text() == sdl(), (
        "services/gateway/schema.graphql is out of date: run `make schema` and commit the result."
    )


def test_the_sdl_speaks_camel_case_and_carries_decimal_and_date_scalars() -> None:
    text = COMMITTED.read_text()
    assert "scalar Decimal" in text and "scalar Date" in text
    assert "expectedToDate: Decimal" in text
    assert "expected_to_date" not in text

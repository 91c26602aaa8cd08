"""Helpers of the metrics tests: an ingest API key and pushing events through the API."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Api


@pytest.fixture(scope="session")
def ingest_key(api: Api) -> str:
    response = api.client("targets", role="admin").post(
        "/v1/api-keys", json={"name": "erp-metrics-tests", "scopes": ["ingest"]}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["key"])


@pytest.fixture(scope="session")
def ingest(api: Api, ingest_key: str) -> httpx.Client:
    """A client authenticated with an ingest-scoped API key."""
    return api.client("metrics", token=ingest_key)


@pytest.fixture(scope="session")
def reader(api: Api) -> httpx.Client:
    return api.client("metrics", role="viewer")


def event(
    event_id: str,
    metric: str,
    value: Any,
    occurred_at: str,
    *,
    category: str | None = None,
    channel: str | None = None,
    region: str | None = None,
    source: str | None = "tests",
) -> dict[str, Any]:
    dims = {
        k: v for k, v in (("category", category), ("channel", channel), ("region", region)) if v is not None
    }
    item: dict[str, Any] = {
        "event_id": event_id,
        "metric": metric,
        "value": value,
        "occurred_at": occurred_at,
    }
    if dims:
        item["dims"] = dims
    if source is not None:
        item["source"] = source
    return item


def push(client: httpx.Client, events: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
    response = client.post("/v1/events", json={"events": events}, **kwargs)
    assert response.status_code == 200, response.text
    return dict(response.json())


def query(client: httpx.Client, *queries: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post("/v1/query", json={"queries": list(queries)})
    assert response.status_code == 200, response.text
    return list(response.json()["results"])


def cache_results(api: Api, level: str = "batch") -> dict[str, float]:
    """The metrics service's count of batches (or single queries of computed batches) answered
    from memory (hit) and computed (miss)."""
    text = api.client("metrics").get("/metrics").text
    counts = {"hit": 0.0, "miss": 0.0}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "pacer_query_cache_total" and sample.labels["level"] == level:
                counts[sample.labels["result"]] += sample.value
    return counts


def ingest_batches(metrics: httpx.Client) -> dict[str, float]:
    """A metrics service's count of pushes by how they were stored (known, new, retried)."""
    text = metrics.get("/metrics").text
    counts = {"known": 0.0, "new": 0.0, "retried": 0.0}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "pacer_ingest_batches_total":
                counts[sample.labels["path"]] += sample.value
    return counts

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


def _counted(metrics: httpx.Client, sample_name: str, label: str, /, **only: str) -> dict[str, float]:
    """A counter of a metrics service by one label's value (only samples whose other labels
    match `only`)."""
    counts: dict[str, float] = {}
    for family in text_string_to_metric_families(metrics.get("/metrics").text):
        for sample in family.samples:
            if sample.name == sample_name and all(sample.labels.get(k) == v for k, v in only.items()):
                counts[sample.labels[label]] = counts.get(sample.labels[label], 0.0) + sample.value
    return counts


def cache_results(api: Api, level: str = "batch") -> dict[str, float]:
    """The metrics service's count of batches (or single queries of computed batches) answered
    from memory (hit) and computed (miss)."""
    return {"hit": 0.0, "miss": 0.0} | _counted(
        api.client("metrics"), "pacer_query_cache_total", "result", level=level
    )


def ingest_batches(metrics: httpx.Client) -> dict[str, float]:
    """A metrics service's count of pushes by how they were stored (known, new, retried)."""
    return {"known": 0.0, "new": 0.0, "retried": 0.0} | _counted(
        metrics, "pacer_ingest_batches_total", "path"
    )


def connection_setups(metrics: httpx.Client) -> dict[str, float]:
    """A metrics service's count of connections set up for ingest, at checkout or in a push."""
    return {"checkout": 0.0, "push": 0.0} | _counted(metrics, "pacer_ingest_connection_setups_total", "at")

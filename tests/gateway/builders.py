"""Test data built through the services' public REST APIs."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api


def create_plan(api: Api, code: str, **extra: Any) -> dict[str, Any]:
    body = {"code": code, "name": f"Plan {code}", "fiscal_year": 2025, "status": "active", **extra}
    response = api.client("targets").post("/v1/plans", json=body)
    assert response.status_code == 201, response.text
    plan: dict[str, Any] = response.json()
    return plan


def create_gmv_targets(
    api: Api, plan_id: str, categories: list[str], value: str = "1000"
) -> list[dict[str, Any]]:
    client = api.client("targets")
    created = []
    for category in categories:
        response = client.post(
            f"/v1/plans/{plan_id}/targets",
            json={
                "name": f"GMV {category}",
                "metric": "gmv",
                "scope": {"category": category},
                "period": "2025",
                "kind": "absolute",
                "target_value": value,
                "department": "marketing",
            },
        )
        assert response.status_code == 201, response.text
        created.append(response.json())
    return created


def push_gmv(api: Api, category: str, events: list[tuple[str, str]], tag: str) -> None:
    """events: (occurred_at, value)."""
    body = {
        "events": [
            {
                "event_id": f"{tag}-{i}",
                "metric": "gmv",
                "value": value,
                "occurred_at": occurred_at,
                "dims": {"category": category, "channel": "app", "region": "east"},
                "source": "test",
            }
            for i, (occurred_at, value) in enumerate(events)
        ]
    }
    response = api.client("metrics", role="admin").post("/v1/events", json=body)
    assert response.status_code in (200, 201, 202), response.text
    assert not response.json().get("rejected"), response.text

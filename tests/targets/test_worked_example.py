"""The worked example of docs/targets.md, step by step, holds."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tests.conftest import Api
from tests.targets.helpers import create_plan, create_target, event, push


def test_q1_2024_beauty_gmv_plus_30_percent_decomposes_seasonally_and_paces(api: Api, unique: str) -> None:
    category = f"beauty-{unique}"
    plan = create_plan(api, unique, fiscal_year=2024)
    push(
        api,
        [
            event("gmv", date(2023, 1, 3), "40000.00", category=category),
            event("gmv", date(2023, 1, 15), "80000.00", category=category),
            event("gmv", date(2023, 2, 10), "60000.00", category=category),
            event("gmv", date(2023, 3, 8), "80000.00", category=category),
            event("gmv", date(2023, 3, 28), "40000.00", category=category),
        ],
    )
    target = create_target(
        api,
        plan["id"],
        name="Beauty GMV Q1 +30% YoY",
        metric="gmv",
        scope={"category": category},
        period="2024Q1",
        growth_pct=30,
        department="marketing",
    )
    assert Decimal(target["baseline_value"]) == Decimal("300000.00")
    assert target["target_value"] == "390000.00"
    client = api.client("targets")
    body = client.post(
        f"/v1/targets/{target['id']}/decompose", json={"by": "month", "weights": "seasonal"}
    ).json()
    assert [c["target_value"] for c in body["children"]] == ["156000.00", "78000.00", "156000.00"]
    assert body["parent"]["tree"] == {"adds_up": True, "children_total": "390000.00"}
    tasks = client.post(
        f"/v1/plans/{plan['id']}/tasks/bulk",
        json={
            "tasks": [
                {
                    "title": "Clean up beauty SKU data",
                    "period": "2024-01",
                    "department": "operations",
                    "external_ref": "Q1-OPS-1",
                    "target_ids": [target["id"]],
                },
                {
                    "title": "New-year beauty campaign",
                    "period": "2024Q1",
                    "department": "marketing",
                    "assignee": "li.na",
                    "external_ref": "Q1-MKT-1",
                },
            ]
        },
    ).json()
    assert tasks["created"] == 2
    push(api, [event("gmv", date(2024, 1, 20), "160000.00", category=category)])
    progress = client.get(f"/v1/targets/{target['id']}/progress", params={"as_of": "2024-01-31"}).json()
    assert progress["expected_method"] == "seasonal"
    assert progress["expected_to_date"] == "156000.00"
    assert progress["health"] == "ON_TRACK"

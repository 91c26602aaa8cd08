"""Initiatives linked to targets, risks with likelihood × impact, phases inside the plan."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api, every_item
from tests.targets.helpers import create_plan, create_target, problem


@pytest.fixture
def plan(api: Api, unique: str) -> dict[str, Any]:
    return create_plan(api, unique)


def test_an_initiative_links_targets_and_the_target_lists_it(api: Api, plan: dict[str, Any]) -> None:
    target = create_target(api, plan["id"], metric="uv", period="2025", target_value=1000)
    client = api.client("targets")
    initiative = client.post(
        f"/v1/plans/{plan['id']}/initiatives",
        json={
            "name": "Search optimisation",
            "department": "tech",
            "starts_on": "2025-02-01",
            "ends_on": "2025-06-30",
            "target_ids": [target["id"]],
        },
    )
    assert initiative.status_code == 201, initiative.text
    assert initiative.json()["target_ids"] == [target["id"]]
    assert client.get(f"/v1/targets/{target['id']}").json()["initiative_ids"] == [initiative.json()["id"]]
    listed = client.get(f"/v1/plans/{plan['id']}/initiatives").json()["items"]
    assert [i["name"] for i in listed] == ["Search optimisation"]


def test_an_initiative_outside_the_plan_or_linking_foreign_targets_is_refused(
    api: Api, plan: dict[str, Any], unique: str
) -> None:
    other = create_plan(api, f"{unique}-other")
    foreign = create_target(api, other["id"], metric="uv", period="2025", target_value=1)
    client = api.client("targets")
    outside = client.post(
        f"/v1/plans/{plan['id']}/initiatives", json={"name": "x", "starts_on": "2024-12-01"}
    )
    problem(outside, 422, "period_outside_plan")
    linked = client.post(
        f"/v1/plans/{plan['id']}/initiatives", json={"name": "x", "target_ids": [foreign["id"]]}
    )
    problem(linked, 422, "unknown_target")


def test_a_risk_is_scored_and_listed_highest_first(api: Api, plan: dict[str, Any]) -> None:
    client = api.client("targets")
    for title, likelihood, impact in (("price war", 2, 3), ("618 traffic spike", 4, 5)):
        response = client.post(
            f"/v1/plans/{plan['id']}/risks",
            json={
                "title": title,
                "category": "traffic_spike" if "618" in title else "competition",
                "likelihood": likelihood,
                "impact": impact,
                "owner_department": "tech",
            },
        )
        assert response.status_code == 201, response.text
    risks = client.get(f"/v1/plans/{plan['id']}/risks").json()["items"]
    assert [(r["title"], r["score"]) for r in risks] == [("618 traffic spike", 20), ("price war", 6)]
    closed = client.patch(f"/v1/risks/{risks[0]['id']}", json={"status": "mitigating"})
    assert closed.json()["status"] == "mitigating"


def test_a_risk_likelihood_outside_one_to_five_is_refused(api: Api, plan: dict[str, Any]) -> None:
    response = api.client("targets").post(
        f"/v1/plans/{plan['id']}/risks", json={"title": "x", "category": "tech", "likelihood": 6, "impact": 1}
    )
    problem(response, 422, "validation_error")


def test_phases_lie_inside_the_plan(api: Api, plan: dict[str, Any]) -> None:
    client = api.client("targets")
    ok = client.post(
        f"/v1/plans/{plan['id']}/phases",
        json={
            "name": "Q1 research & data clean-up",
            "starts_on": "2025-01-01",
            "ends_on": "2025-03-31",
            "focus": "baselines",
        },
    )
    assert ok.status_code == 201
    outside = client.post(
        f"/v1/plans/{plan['id']}/phases",
        json={"name": "late", "starts_on": "2025-12-01", "ends_on": "2026-01-31"},
    )
    problem(outside, 422, "period_outside_plan")
    assert [p["name"] for p in client.get(f"/v1/plans/{plan['id']}/phases").json()["items"]] == [
        "Q1 research & data clean-up"
    ]


def test_members_cannot_edit_initiatives_risks_or_phases(api: Api, plan: dict[str, Any]) -> None:
    member = api.client("targets", role="member")
    for path, body in (
        ("initiatives", {"name": "x"}),
        ("risks", {"title": "x", "category": "tech", "likelihood": 1, "impact": 1}),
        ("phases", {"name": "x", "starts_on": "2025-01-01", "ends_on": "2025-01-31"}),
    ):
        problem(member.post(f"/v1/plans/{plan['id']}/{path}", json=body), 403, "forbidden")


def test_risks_initiatives_and_phases_are_read_in_pages_in_their_order(
    api: Api, plan: dict[str, Any]
) -> None:
    client = api.client("targets")
    scores = [(1, 1), (5, 5), (2, 3), (4, 4), (3, 1), (5, 4), (2, 2)]
    for i, (likelihood, impact) in enumerate(scores):
        created = client.post(
            f"/v1/plans/{plan['id']}/risks",
            json={"title": f"risk {i}", "category": "tech", "likelihood": likelihood, "impact": impact},
        )
        assert created.status_code == 201, created.text
    for name in ("omnichannel", "app revamp", "loyalty", "live commerce", "b2b"):
        assert client.post(f"/v1/plans/{plan['id']}/initiatives", json={"name": name}).status_code == 201
    for month in (4, 1, 3, 2):
        phase = {
            "name": f"month {month}",
            "starts_on": f"2025-{month:02d}-01",
            "ends_on": f"2025-{month:02d}-28",
        }
        assert client.post(f"/v1/plans/{plan['id']}/phases", json=phase).status_code == 201

    risks = every_item(client, f"/v1/plans/{plan['id']}/risks", page_size=2)
    initiatives = every_item(client, f"/v1/plans/{plan['id']}/initiatives", page_size=2)
    phases = every_item(client, f"/v1/plans/{plan['id']}/phases", page_size=3)

    assert [r["score"] for r in risks] == sorted((li * im for li, im in scores), reverse=True)
    assert len({r["id"] for r in risks}) == len(scores)
    assert [i["name"] for i in initiatives] == sorted(
        ["omnichannel", "app revamp", "loyalty", "live commerce", "b2b"]
    )
    assert [p["starts_on"] for p in phases] == ["2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01"]


def test_a_cursor_this_api_did_not_issue_is_refused(api: Api, plan: dict[str, Any]) -> None:
    response = api.client("targets").get(
        f"/v1/plans/{plan['id']}/risks", params={"cursor": "bm90LWEtY3Vyc29y"}
    )
    problem(response, 400, "invalid_cursor")

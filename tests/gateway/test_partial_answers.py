"""With a service down, the gateway still answers what the others know, and names what is missing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from shared.stack import SERVICES
from tests.conftest import Api
from tests.gateway.builders import create_gmv_targets, create_plan
from tests.gateway.conftest import gql


@contextmanager
def service_down(api: Api, name: str) -> Iterator[None]:
    """Stops a service for the block and brings it back on the same port, whatever happens."""
    spec = next(spec for spec in SERVICES if spec.name == name)
    api.stack.stop_service(name)
    try:
        yield
    finally:
        api.stack.start_service(spec)
        api.stack.wait_ready(names=(name,), timeout=60)


QUERY = """
query($id: ID!) {
  plan(id: $id) { code name reviews { id quarter } }
  metricDefinitions { key }
}
"""


def test_with_reviews_down_plan_and_metrics_resolve_and_reviews_is_an_error(api: Api, unique: str) -> None:
    plan = create_plan(api, f"partial-{unique}")
    gateway = api.client("gateway")
    with service_down(api, "reviews"):
        response = gateway.post("/graphql", json={"query": QUERY, "variables": {"id": plan["id"]}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"]["plan"]["code"] == f"partial-{unique}"
    assert body["data"]["plan"]["reviews"] is None
    assert any(d["key"] == "gmv" for d in body["data"]["metricDefinitions"])
    [error] = body["errors"]
    assert error["path"] == ["plan", "reviews"]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert error["extensions"]["service"] == "reviews"
    assert "Traceback" not in response.text


def test_with_metrics_down_the_catalogue_is_an_error_naming_metrics(api: Api, unique: str) -> None:
    plan = create_plan(api, f"partial-m-{unique}")
    gateway = api.client("gateway")
    with service_down(api, "metrics"):
        body = gql(gateway, QUERY, {"id": plan["id"]})
    assert body["data"]["plan"]["code"] == f"partial-m-{unique}"
    assert body["data"]["metricDefinitions"] is None
    errors = {tuple(e["path"]): e["extensions"] for e in body["errors"]}
    assert errors[("metricDefinitions",)]["code"] == "SERVICE_UNAVAILABLE"
    assert errors[("metricDefinitions",)]["service"] == "metrics"


def test_with_targets_down_plans_are_an_error_and_the_catalogue_still_resolves(api: Api) -> None:
    gateway = api.client("gateway")
    with service_down(api, "targets"):
        body = gql(gateway, "{ plans { items { id } } metricDefinitions { key } }")
    assert body["data"]["plans"] is None
    assert body["data"]["metricDefinitions"]
    [error] = body["errors"]
    assert error["extensions"] == {
        "code": "SERVICE_UNAVAILABLE",
        "problemCode": "service_unavailable",
        "status": 503,
        "service": "targets",
    }


def test_the_gateway_recovers_once_the_service_is_back(api: Api, unique: str) -> None:
    plan = create_plan(api, f"back-{unique}")
    gateway = api.client("gateway")
    with service_down(api, "reviews"):
        assert gql(gateway, QUERY, {"id": plan["id"]})["data"]["plan"]["reviews"] is None
    body = gql(gateway, QUERY, {"id": plan["id"]})
    assert "errors" not in body, body["errors"]
    assert body["data"]["plan"]["reviews"] == []


def test_with_metrics_down_each_progress_is_an_error_after_one_call_not_two(api: Api, unique: str) -> None:
    plan = create_plan(api, f"partial-p-{unique}")
    create_gmv_targets(api, plan["id"], [f"p-{unique}-{i}" for i in range(3)])
    query = (
        """query($id: ID!) { plan(id: $id) { targets { name progress(asOf: "2025-03-31") { health } } } }"""
    )
    with service_down(api, "metrics"):
        body = gql(api.client("gateway"), query, {"id": plan["id"]})

    targets = body["data"]["plan"]["targets"]
    assert len(targets) == 3 and all(t["name"] and t["progress"] is None for t in targets)
    errors = [e for e in body["errors"] if e["path"][-1] == "progress"]
    assert len(errors) == 3
    assert all(e["extensions"]["code"] == "SERVICE_UNAVAILABLE" for e in errors)
    # The plan, its targets, and one progress call whose failure every target reports.
    assert body["extensions"]["upstreamCalls"]["targets"] == 3

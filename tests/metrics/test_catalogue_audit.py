"""Changes to the metric catalogue are recorded: who changed which definition, from what to what."""

from __future__ import annotations

from tests.conftest import Api


def test_creating_and_editing_a_definition_is_in_the_audit_trail(api: Api, unique: str) -> None:
    planner = api.client("metrics", role="planner")
    key = f"audited_{unique}"
    created = planner.post("/v1/metrics", json={"key": key, "name": "Audited", "unit": "count"}).json()
    edited = planner.patch(
        f"/v1/metrics/{key}", json={"name": "Audited twice"}, headers={"If-Match": f'"{created["version"]}"'}
    )
    assert edited.status_code == 200, edited.text

    trail = api.client("metrics", role="viewer").get(
        "/v1/audit", params={"entity_type": "metric_definition", "entity_id": key}
    )
    assert trail.status_code == 200, trail.text
    entries = trail.json()["items"]
    assert [e["action"] for e in entries][:2] == ["update", "create"]
    assert entries[0]["changes"]["name"] == {"from": "Audited", "to": "Audited twice"}
    assert entries[0]["actor"] == "test-planner"


def test_the_audit_trail_needs_credentials(api: Api) -> None:
    assert api.client("metrics", role=None).get("/v1/audit").status_code == 401

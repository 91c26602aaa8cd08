"""A request id passes from the gateway to the services and into both logs."""

from __future__ import annotations

import json
import time

from tests.conftest import Api


def _log_lines(api: Api, service: str) -> list[dict]:  # type: ignore[type-arg]
    lines = []
    for raw in api.log(service).splitlines():
        try:
            lines.append(json.loads(raw))
        except json.JSONDecodeError:
            continue
    return lines


def test_the_gateways_request_id_reaches_the_service_and_both_logs(api: Api, unique: str) -> None:
    request_id = f"trace-{unique}"
    response = api.client("gateway").post(
        "/graphql", json={"query": "{ plans { items { id } } }"}, headers={"x-request-id": request_id}
    )
    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"] == request_id
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        gateway = [line for line in _log_lines(api, "gateway") if line.get("request_id") == request_id]
        targets = [line for line in _log_lines(api, "targets") if line.get("request_id") == request_id]
        if gateway and targets:
            break
        time.sleep(0.1)
    assert gateway, "the gateway logged no line with the request id"
    assert targets, "the targets service logged no line with the request id"
    assert targets[0]["service"] == "targets"
    assert targets[0]["path"] == "/v1/plans"


def test_logs_are_json_lines_with_level_and_timestamp(api: Api) -> None:
    api.client("targets").get("/v1/plans")
    lines = _log_lines(api, "targets")
    access = [line for line in lines if line.get("message") == "request"]
    assert access
    assert {"level", "timestamp", "service", "method", "status", "duration_ms"} <= access[-1].keys()

"""Input crafted to break things — NUL characters, numbers beyond any column, NaN, deep
nesting, path tricks — gets a problem answer (4xx with a code) and changes nothing; never a 500."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from shared.pagination import encode_cursor
from tests.conftest import Api
from tests.proof.support import assert_problem

HOSTILE_NUMBERS = ["1e100000", "-1e100000", "NaN", "Infinity", "-Infinity", "sNaN", "1e-100000"]


def _plan(api: Api, unique: str) -> dict[str, Any]:
    response = api.client("targets").post(
        "/v1/plans", json={"code": f"hostile-{unique}", "name": "Hostile", "fiscal_year": 2025}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.mark.parametrize(
    ("service", "path", "body"),
    [
        ("targets", "/v1/plans", {"code": "nul\u0000code", "name": "x", "fiscal_year": 2025}),
        ("targets", "/v1/departments", {"key": "nul", "name": "a\u0000b"}),
        ("metrics", "/v1/metrics", {"key": "nul_metric", "name": "a\u0000b", "unit": "count"}),
        ("reviews", "/v1/reviews", {"plan_id": "a\u0000b", "quarter": "2025Q2"}),
    ],
)
def test_a_nul_character_in_a_json_string_is_refused_not_crashed_on(
    api: Api, service: str, path: str, body: dict[str, Any]
) -> None:
    assert_problem(api.client(service, role="admin").post(path, json=body), 422)


@pytest.mark.parametrize(
    ("service", "path", "params"),
    [
        ("targets", "/v1/plans", {"code": "a\u0000b"}),
        ("reviews", "/v1/reviews", {"plan_id": "a\u0000b"}),
        ("targets", "/v1/audit", {"entity_type": "a\u0000b", "entity_id": "x"}),
        (
            "metrics",
            "/v1/metrics/gmv/value",
            {"start": "2025-01-01", "end": "2025-01-31", "category": "\u0000"},
        ),
    ],
)
def test_a_nul_character_in_a_query_parameter_is_refused_or_matches_nothing(
    api: Api, service: str, path: str, params: dict[str, str]
) -> None:
    response = api.client(service, role="admin").get(path, params=params)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert_problem(response, response.status_code)


def test_events_with_nul_characters_are_rejected_item_by_item(api: Api, unique: str) -> None:
    events = [
        {
            "event_id": f"nul-{unique}-1\u0000",
            "metric": "gmv",
            "value": "1",
            "occurred_at": "2025-05-05T12:00:00Z",
        },
        {
            "event_id": f"nul-{unique}-2",
            "metric": "gmv",
            "value": "1",
            "occurred_at": "2025-05-05T12:00:00Z",
            "dims": {"category": "a\u0000b"},
        },
        {
            "event_id": f"nul-{unique}-3",
            "metric": "gmv",
            "value": "1",
            "occurred_at": "2025-05-05T12:00:00Z",
            "source": "\u0000",
        },
        {
            "event_id": f"nul-{unique}-ok",
            "metric": "gmv",
            "value": "1",
            "occurred_at": "2025-05-05T12:00:00Z",
            "dims": {"category": f"nul-{unique}"},
        },
    ]
    response = api.client("metrics", role="admin").post("/v1/events", json={"events": events})
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        answer = response.json()
        assert answer["accepted"] == 1
        assert sorted(r["index"] for r in answer["rejected"]) == [0, 1, 2]
    else:
        assert_problem(response, 422)


@pytest.mark.parametrize("value", HOSTILE_NUMBERS)
def test_an_event_value_beyond_any_number_is_rejected_and_the_batch_survives(
    api: Api, unique: str, value: str
) -> None:
    category = f"num-{unique}"
    at = "2025-05-05T12:00:00Z"
    events = [
        {
            "event_id": f"num-{unique}-bad",
            "metric": "gmv",
            "value": value,
            "occurred_at": at,
            "dims": {"category": category},
        },
        {
            "event_id": f"num-{unique}-ok",
            "metric": "gmv",
            "value": "2.50",
            "occurred_at": at,
            "dims": {"category": category},
        },
    ]
    response = api.client("metrics", role="admin").post("/v1/events", json={"events": events})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["accepted"] == 1
    assert [r["index"] for r in answer["rejected"]] == [0]
    total = api.client("metrics", role="viewer").get(
        "/v1/metrics/gmv/value", params={"start": "2025-05-01", "end": "2025-05-31", "category": category}
    )
    assert total.status_code == 200, total.text
    assert total.json()["value"] == "2.50"


@pytest.mark.parametrize("value", HOSTILE_NUMBERS)
def test_a_target_value_beyond_any_number_is_refused(api: Api, unique: str, value: str) -> None:
    plan = _plan(api, unique)
    body = {
        "name": "t",
        "metric": "gmv",
        "period": "2025Q2",
        "target_value": value,
        "department": "marketing",
    }
    response = api.client("targets").post(f"/v1/plans/{plan['id']}/targets", json=body)
    assert_problem(response, (400, 422))
    listed = api.client("targets").get(f"/v1/plans/{plan['id']}/targets").json()["items"]
    assert listed == []


@pytest.mark.parametrize("value", ["1e100000", "NaN", "Infinity"])
def test_plan_thresholds_beyond_any_number_are_refused(api: Api, unique: str, value: str) -> None:
    body = {"code": f"thr-{unique}", "name": "t", "fiscal_year": 2025, "thresholds": {"on_track": value}}
    assert_problem(api.client("targets").post("/v1/plans", json=body), (400, 422))


@pytest.mark.parametrize("service", ["targets", "metrics", "reviews"])
def test_deeply_nested_json_is_refused_not_crashed_on(api: Api, service: str) -> None:
    path = {"targets": "/v1/plans", "metrics": "/v1/events", "reviews": "/v1/reviews"}[service]
    body = b"[" * 100_000 + b"]" * 100_000
    response = api.client(service, role="admin").post(
        path, content=body, headers={"content-type": "application/json"}
    )
    assert_problem(response, (400, 422))


def _push_with_extra(client: httpx.Client, extra: bytes) -> httpx.Response:
    """A push of one valid event whose envelope also holds `"note": <extra>`, a field Pacer
    does not read."""
    item = f'{{"event_id": "{uuid.uuid4().hex}", "metric": "gmv", "value": "1", '
    item += '"occurred_at": "2025-01-01T00:00:00Z", "dims": {"category": "hostile-extra"}}'
    body = b'{"events": [' + item.encode() + b'], "note": ' + extra + b"}"
    return client.post("/v1/events", content=body, headers={"content-type": "application/json"})


def test_a_push_with_text_that_is_not_utf8_anywhere_is_refused_whole(api: Api) -> None:
    assert_problem(_push_with_extra(api.client("metrics", role="admin"), b'"caf\xe9"'), 400)


@pytest.mark.parametrize("depth", [900, 5_000])
def test_deep_nesting_in_a_field_pacer_does_not_read_is_answered_never_crashed_on(
    api: Api, depth: int
) -> None:
    client = api.client("metrics", role="admin")
    response = _push_with_extra(client, b"[" * depth + b"]" * depth)
    if response.status_code == 200:
        assert response.json()["accepted"] == 1
    else:
        assert_problem(response, 400)
    assert client.get("/v1/metrics").status_code == 200  # and the connection still serves


@pytest.mark.parametrize(
    "plan_id", ["../api-keys", "..%2Fapi-keys", "x/../../v1/audit", "\t", "%00", " ", "0" * 5000]
)
def test_a_plan_id_that_tries_to_escape_its_path_segment_is_a_plain_not_found(api: Api, plan_id: str) -> None:
    response = api.client("reviews", role="admin").post(
        "/v1/reviews", json={"plan_id": plan_id, "quarter": "2025Q2"}
    )
    assert_problem(response, (404, 422))


@pytest.mark.parametrize("query", ["2025Q2", "0000Q1", "9999Q4", "10000Q1", "2025Q5", "2025-13"])
def test_extreme_periods_are_refused_or_answered_never_crashed_on(api: Api, unique: str, query: str) -> None:
    plan = _plan(api, unique)
    client = api.client("targets")
    for response in (
        client.get(f"/v1/plans/{plan['id']}/targets", params={"active_in": query}),
        client.get(f"/v1/plans/{plan['id']}/tasks", params={"quarter": query}),
        api.client("reviews").post("/v1/reviews", json={"plan_id": plan["id"], "quarter": query}),
    ):
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            assert_problem(response, response.status_code)


@pytest.mark.parametrize(
    ("start", "end"),
    [("0001-01-01", "9999-12-31"), ("9999-12-31", "9999-12-31"), ("0001-01-01", "0001-01-01")],
)
def test_extreme_query_dates_are_refused_or_answered_never_crashed_on(api: Api, start: str, end: str) -> None:
    client = api.client("metrics", role="viewer")
    responses = [
        client.post(
            "/v1/query", json={"queries": [{"id": "q", "metric": "gmv", "start": start, "end": end}]}
        ),
        client.post(
            "/v1/query",
            json={"queries": [{"id": "q", "metric": "gmv", "start": start, "end": end, "bucket": "quarter"}]},
        ),
        client.get(
            "/v1/metrics/conversion_rate/series", params={"start": start, "end": end, "bucket": "month"}
        ),
    ]
    for response in responses:
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            assert_problem(response, response.status_code)


def test_an_unknown_uuid_and_a_non_uuid_id_are_both_plain_problems(api: Api) -> None:
    client = api.client("targets", role="admin")
    for path in (f"/v1/tasks/{uuid.uuid4()}", "/v1/tasks/not-a-uuid", f"/v1/targets/{uuid.uuid4()}/progress"):
        response = client.get(path)
        assert_problem(response, (404, 422))


def test_a_huge_header_is_refused_without_harming_the_next_request(api: Api) -> None:
    client = api.client("targets")
    try:
        response = client.get("/v1/plans", headers={"x-padding": "a" * 200_000})
        assert response.status_code in (400, 413, 431), response.status_code
    except httpx.TransportError:
        pass  # the server may close the connection instead of answering
    assert api.client("targets").get("/v1/plans").status_code == 200


@pytest.mark.parametrize("ident", ["\t", "../api-keys", "a/b", "%00", "\u0000", "x" * 5000, " ", "é"])
def test_a_hostile_id_through_the_gateway_is_an_error_with_a_code_not_a_crash(api: Api, ident: str) -> None:
    client = api.client("gateway")
    for query in (
        "query($id: ID!) { plan(id: $id) { id code } }",
        "query($id: ID!) { review(id: $id) { id } }",
    ):
        response = client.post("/graphql", json={"query": query, "variables": {"id": ident}})
        assert response.status_code in (200, 400), response.text[:300]
        body = response.json()
        assert not any((body.get("data") or {}).values()), body
        codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
        assert codes and all(codes), body
        assert "INTERNAL" not in " ".join(str(c).upper() for c in codes), body


@pytest.mark.parametrize("fiscal_year", ["-5245554948645868544", "99999999999", "0"])
def test_a_year_filter_beyond_any_column_is_refused_or_matches_nothing(api: Api, fiscal_year: str) -> None:
    response = api.client("targets").get("/v1/plans", params={"fiscal_year": fiscal_year})
    if response.status_code == 200:
        assert response.json()["items"] == []
    else:
        assert_problem(response, 422)


FORGED_CURSOR_VALUES: list[list[Any]] = [
    [5, 5],
    ["2025-01-01T00:00:00+00:00", 5],
    [float("inf"), "00000000-0000-0000-0000-000000000000"],
    [1_000_000_000, "00000000-0000-0000-0000-000000000000"],
    ["a\u0000b"],
    ["a\u0000b", "b"],
    [True, None],
    [{"x": 1}, ["y"]],
    ["2025-01-01T00:00:00", "00000000-0000-0000-0000-000000000000"],
    [],
]


@pytest.mark.parametrize("values", FORGED_CURSOR_VALUES, ids=range(len(FORGED_CURSOR_VALUES)))
def test_a_forged_cursor_on_any_list_is_refused_never_crashed_on(
    api: Api, unique: str, values: list[Any]
) -> None:
    """Cursors are opaque, but a client can decode one and send back values of its own."""
    plan = _plan(api, unique)
    review = api.client("reviews").post("/v1/reviews", json={"plan_id": plan["id"], "quarter": "2025Q2"})
    assert review.status_code == 201, review.text
    rid = review.json()["id"]
    lists = [
        ("targets", "/v1/plans"),
        ("targets", "/v1/departments"),
        ("targets", f"/v1/plans/{plan['id']}/targets"),
        ("targets", f"/v1/plans/{plan['id']}/tasks"),
        ("targets", f"/v1/plans/{plan['id']}/risks"),
        ("targets", f"/v1/plans/{plan['id']}/initiatives"),
        ("targets", f"/v1/plans/{plan['id']}/phases"),
        ("targets", "/v1/api-keys"),
        ("targets", "/v1/audit"),
        ("metrics", "/v1/metrics"),
        ("metrics", "/v1/audit"),
        ("reviews", "/v1/reviews"),
        ("reviews", f"/v1/reviews/{rid}/findings"),
        ("reviews", f"/v1/reviews/{rid}/action-items"),
        ("reviews", "/v1/audit"),
    ]
    cursor = encode_cursor(values)
    for service, path in lists:
        response = api.client(service, role="admin").get(path, params={"cursor": cursor})
        assert response.status_code in (200, 400), (service, path, response.status_code, response.text)
        if response.status_code == 400:
            assert response.json()["code"] == "invalid_cursor"

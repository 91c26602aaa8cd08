"""What the gateway refuses: abusive documents, cross-site requests, batches, anonymous callers."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.gateway import security
from services.gateway.app import create_app
from shared.settings import Settings
from tests.conftest import TEST_JWT_SECRET, Api
from tests.gateway.conftest import error_codes, gql

PLANS = "{ plans { items { id } } }"


def test_a_depth_bomb_is_refused_before_any_service_is_called(api: Api) -> None:
    nested = "id"
    for _ in range(14):
        nested = f"children {{ {nested} }}"
    body = gql(api.client("gateway"), f'{{ plan(id: "x") {{ targets {{ {nested} }} }} }}')
    assert body["data"] is None
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert body["extensions"]["upstreamCalls"] == {"targets": 0, "metrics": 0, "reviews": 0}


def test_too_many_aliases_are_refused(api: Api) -> None:
    fields = " ".join(f"p{i}: plans {{ nextCursor }}" for i in range(31))
    body = gql(api.client("gateway"), f"{{ {fields} }}")
    assert body["data"] is None
    assert "aliases" in body["errors"][0]["message"]
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]


def test_a_field_repeated_thousands_of_times_hits_the_token_limit(api: Api) -> None:
    body = gql(api.client("gateway"), "{ plans { items { " + "id " * 6000 + "} } }")
    assert body["data"] is None
    assert "tokens" in body["errors"][0]["message"]
    assert error_codes(body) == ["GRAPHQL_PARSE_FAILED"]


@pytest.mark.parametrize(
    ("document", "code"),
    [
        (
            '{ plan(id: "x") { targets { ' + "children { " * 14 + "id" + " }" * 14 + " } } }",
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "{ " + " ".join(f"p{i}: plans {{ nextCursor }}" for i in range(31)) + " }",
            "GRAPHQL_VALIDATION_FAILED",
        ),
        ("{ plans { items { " + "id " * 6000 + "} } }", "GRAPHQL_PARSE_FAILED"),
    ],
    ids=["depth", "aliases", "tokens"],
)
def test_a_refused_document_is_refused_again_when_resent(api: Api, document: str, code: str) -> None:
    """Parsing and validation are remembered per document; a refusal is never forgotten."""
    first, again = (gql(api.client("gateway"), document) for _ in range(2))
    assert first == again
    assert again["data"] is None and error_codes(again) == [code]


def test_circular_fragments_are_refused_by_validation(api: Api) -> None:
    query = (
        "{ plans { ...A } } "
        "fragment A on PlanConnection { nextCursor ...B } "
        "fragment B on PlanConnection { nextCursor ...A }"
    )
    body = gql(api.client("gateway"), query)
    assert body["data"] is None
    assert any("within itself" in error["message"] for error in body["errors"])
    assert set(error_codes(body)) == {"GRAPHQL_VALIDATION_FAILED"}


def test_a_spread_of_an_unknown_fragment_is_a_validation_error_not_a_crash(api: Api) -> None:
    body = gql(api.client("gateway"), "{ plans { ...Missing } }")
    assert body["errors"][0]["message"] == "Unknown fragment 'Missing'."
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]


def test_a_json_array_of_operations_is_refused(api: Api) -> None:
    response = api.client("gateway").post("/graphql", json=[{"query": PLANS}, {"query": PLANS}])
    assert response.status_code == 400
    assert "data" not in response.json()
    assert error_codes(response.json()) == ["BATCH_NOT_ALLOWED"]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'"just a string"',
        b'{"variables": {}}',
        b'{"query": 1}',
        b'{"query": "{ plans { items { id } } }", "variables": [1]}',
        b'{"query": "{ plans { items { id } } }", "operationName": 5}',
    ],
)
def test_a_body_that_is_not_one_graphql_operation_is_answered_in_the_graphql_shape(
    api: Api, body: bytes
) -> None:
    response = api.client("gateway").post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert "data" not in response.json()
    assert error_codes(response.json()) == ["BAD_REQUEST"]


def test_a_mutation_over_get_is_refused_and_changes_nothing(api: Api, unique: str) -> None:
    mutation = (
        f'mutation {{ createPlan(input: {{code: "get-{unique}", name: "x", fiscalYear: 2025}}) {{ id }} }}'
    )
    response = api.client("gateway").get("/graphql", params={"query": mutation})
    assert response.status_code == 405
    assert error_codes(response.json()) == ["METHOD_NOT_ALLOWED"]
    assert api.client("targets").get("/v1/plans", params={"code": f"get-{unique}"}).json()["items"] == []


def test_a_query_over_get_is_refused_too(api: Api) -> None:
    response = api.client("gateway").get("/graphql", params={"query": PLANS})
    assert response.status_code == 405


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
def test_a_post_with_a_simple_content_type_is_refused_against_csrf(api: Api, content_type: str) -> None:
    response = api.client("gateway").post(
        "/graphql", content=f'{{"query": "{PLANS}"}}', headers={"content-type": content_type}
    )
    assert response.status_code == 415
    assert "data" not in response.json()
    assert error_codes(response.json()) == ["UNSUPPORTED_MEDIA_TYPE"]


def test_no_credentials_answer_401_with_an_error_and_no_data(api: Api) -> None:
    response = api.client("gateway", role=None).post("/graphql", json={"query": PLANS})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "data" not in response.json()
    assert error_codes(response.json()) == ["UNAUTHORIZED"]


def test_a_forged_token_is_refused_by_the_gateway_itself(api: Api) -> None:
    response = api.client("gateway", token="not.a.jwt").post("/graphql", json={"query": PLANS})
    assert response.status_code == 401
    assert "data" not in response.json()
    assert error_codes(response.json()) == ["INVALID_TOKEN"]


def test_development_mode_offers_introspection_suggestions_and_graphiql(api: Api) -> None:
    client = api.client("gateway")
    body = gql(client, "{ __schema { queryType { name } } }")
    assert body["data"] == {"__schema": {"queryType": {"name": "Query"}}}
    assert "Did you mean" in gql(client, "{ plans { nextCursr } }")["errors"][0]["message"]
    assert "graphiql" in client.get("/graphql", headers={"accept": "text/html"}).text.lower()


@contextlib.asynccontextmanager
async def in_process_gateway(api: Api, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Another gateway app, in-process, over the same running services, as a viewer."""
    app = create_app(
        Settings(
            jwt_secret=TEST_JWT_SECRET,
            targets_url=api.stack.url("targets"),
            metrics_url=api.stack.url("metrics"),
            reviews_url=api.stack.url("reviews"),
            **settings,
        )
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app),
            base_url="http://gateway",
            headers={"Authorization": f"Bearer {api.token('viewer')}"},
        ) as client,
    ):
        yield client


@pytest.fixture
async def production_gateway(api: Api) -> AsyncIterator[httpx.AsyncClient]:
    """A second gateway app, in production mode."""
    async with in_process_gateway(api, environment="production") as client:
        yield client


async def test_production_mode_refuses_introspection(production_gateway: httpx.AsyncClient) -> None:
    response = await production_gateway.post("/graphql", json={"query": "{ __schema { types { name } } }"})
    body = response.json()
    assert body["data"] is None
    assert "introspection has been disabled" in body["errors"][0]["message"]
    assert "upstreamCalls" not in (body.get("extensions") or {})


async def test_production_refuses_introspection_a_development_schema_of_the_same_process_answered(
    api: Api, production_gateway: httpx.AsyncClient
) -> None:
    """Remembered validations belong to one schema and its rules: what development answered is
    still refused in production."""
    query = {"query": "{ __schema { queryType { name } } }"}
    async with in_process_gateway(api) as client:
        for _ in range(2):
            answered = (await client.post("/graphql", json=query)).json()
            assert answered["data"] == {"__schema": {"queryType": {"name": "Query"}}}
            refused = (await production_gateway.post("/graphql", json=query)).json()
            assert refused["data"] is None
            assert "introspection has been disabled" in refused["errors"][0]["message"]


async def test_only_short_queries_are_remembered(production_gateway: httpx.AsyncClient) -> None:
    """Parses and validations are remembered for at most 256 query texts of at most 64 kB each:
    a caller cannot pin gigabytes with megabyte-long literals."""
    long_query = '{ nope(x: "' + "a" * (security.REMEMBERED_QUERY_CHARACTERS + 1) + '") }'
    short_query = "{ nope }"
    for query in (long_query, short_query):
        body = (await production_gateway.post("/graphql", json={"query": query})).json()
        assert body["data"] is None and error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    remembered = [key[0] for key in security._parsed] + [key[1] for key in security._validated]
    assert short_query in remembered
    assert long_query not in remembered


def test_equal_documents_of_different_texts_report_their_own_error_locations(api: Api) -> None:
    first = gql(api.client("gateway"), "{   nope }")
    second = gql(api.client("gateway"), "{\n  nope }")
    assert first["errors"][0]["locations"] == [{"line": 1, "column": 5}]
    assert second["errors"][0]["locations"] == [{"line": 2, "column": 3}]


async def test_production_mode_gives_no_field_suggestions(production_gateway: httpx.AsyncClient) -> None:
    response = await production_gateway.post("/graphql", json={"query": "{ plans { nextCursr } }"})
    message = response.json()["errors"][0]["message"]
    assert message == "Cannot query field 'nextCursr' on type 'PlanConnection'."


async def test_production_mode_serves_no_graphiql(production_gateway: httpx.AsyncClient) -> None:
    response = await production_gateway.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 404


async def test_production_mode_still_answers_queries(production_gateway: httpx.AsyncClient) -> None:
    response = await production_gateway.post("/graphql", json={"query": "{ plans(first: 1) { nextCursor } }"})
    assert response.status_code == 200
    assert "errors" not in response.json(), response.text

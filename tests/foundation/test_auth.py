"""Who may call what: 401 without or with bad credentials, 403 when not allowed."""

from __future__ import annotations

import time

import jwt
import pytest

from tests.conftest import TEST_JWT_SECRET, Api, every_item

PROTECTED = [
    ("targets", "GET", "/v1/plans"),
    ("metrics", "POST", "/v1/events"),
    ("reviews", "GET", "/v1/reviews"),
]


@pytest.mark.parametrize(("service", "method", "path"), PROTECTED)
def test_a_protected_route_without_credentials_answers_401_problem(
    api: Api, service: str, method: str, path: str
) -> None:
    response = api.client(service, role=None).request(method, path, json={"events": []})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


def _token(claims: dict[str, object], secret: str = TEST_JWT_SECRET, alg: str = "HS256") -> str:
    base = {"sub": "someone", "role": "planner", "exp": int(time.time()) + 600}
    return jwt.encode(base | claims, secret, algorithm=alg)


def test_an_expired_token_is_refused_with_token_expired(api: Api) -> None:
    response = api.client("targets", token=_token({"exp": int(time.time()) - 10})).get("/v1/plans")
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"


def test_a_token_signed_with_another_secret_is_refused(api: Api) -> None:
    forged = _token({}, secret="not-the-secret-not-the-secret-not-the-secret")
    response = api.client("targets", token=forged).get("/v1/plans")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_an_unsigned_alg_none_token_is_refused(api: Api) -> None:
    unsigned = jwt.encode(
        {"sub": "x", "role": "admin", "exp": int(time.time()) + 600}, key=None, algorithm="none"
    )
    response = api.client("targets", token=unsigned).get("/v1/plans")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_a_token_with_an_unknown_role_is_refused(api: Api) -> None:
    response = api.client("targets", token=_token({"role": "superuser"})).get("/v1/plans")
    assert response.status_code == 401


def test_a_member_token_without_department_is_refused(api: Api) -> None:
    response = api.client("targets", token=_token({"role": "member"})).get("/v1/plans")
    assert response.status_code == 401


@pytest.mark.parametrize("role", ["admin", "planner", "member", "viewer"])
def test_every_role_may_read_plans(api: Api, role: str) -> None:
    assert api.client("targets", role=role).get("/v1/plans").status_code == 200


@pytest.mark.parametrize(
    ("role", "status"), [("admin", 200), ("planner", 403), ("member", 403), ("viewer", 403)]
)
def test_only_admins_among_people_may_push_events(api: Api, role: str, status: int) -> None:
    response = api.client("metrics", role=role).post("/v1/events", json={"events": []})
    assert response.status_code == status
    if status == 403:
        assert response.json()["code"] == "forbidden"


@pytest.mark.parametrize("role", ["planner", "member", "viewer"])
def test_only_admins_create_api_keys(api: Api, role: str) -> None:
    response = api.client("targets", role=role).post(
        "/v1/api-keys", json={"name": "erp", "scopes": ["ingest"]}
    )
    assert response.status_code == 403


def _api_key(api: Api, scope: str, name: str) -> str:
    response = api.client("targets", role="admin").post(
        "/v1/api-keys", json={"name": name, "scopes": [scope]}
    )
    assert response.status_code == 201, response.text
    key = response.json()["key"]
    assert key.startswith("pk_")
    return str(key)


def test_an_ingest_key_may_push_events_and_do_nothing_else(api: Api, unique: str) -> None:
    key = _api_key(api, "ingest", f"erp-{unique}")
    assert api.client("metrics", token=key).post("/v1/events", json={"events": []}).status_code == 200
    assert api.client("targets", token=key).get("/v1/plans").status_code == 403
    assert api.client("reviews", token=key).get("/v1/reviews").status_code == 403


def test_a_read_key_may_read_but_not_push(api: Api, unique: str) -> None:
    key = _api_key(api, "read", f"bi-{unique}")
    assert api.client("targets", token=key).get("/v1/plans").status_code == 200
    assert api.client("metrics", token=key).post("/v1/events", json={"events": []}).status_code == 403


def test_an_unknown_or_tampered_api_key_is_refused(api: Api, unique: str) -> None:
    key = _api_key(api, "read", f"bi-{unique}")
    tampered = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    response = api.client("targets", token=tampered).get("/v1/plans")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_api_key"


def test_api_keys_are_never_written_to_logs_in_clear(api: Api, unique: str) -> None:
    key = _api_key(api, "ingest", f"erp-{unique}")
    api.client("metrics", token=key).post("/v1/events", json={"events": []})
    secret = key.split("_", 2)[2]
    for service in ("targets", "metrics"):
        assert secret not in api.log(service)


def test_api_keys_are_stored_only_as_a_hash(api: Api, database_url: str, unique: str) -> None:
    import asyncio

    import asyncpg

    from shared.db import asyncpg_dsn

    key = _api_key(api, "read", f"hash-{unique}")
    key_id, secret = key[len("pk_") :].split("_", 1)

    async def stored() -> list[str]:
        conn = await asyncpg.connect(asyncpg_dsn(database_url))
        try:
            row = await conn.fetchrow("select * from auth.api_keys where key_id = $1", key_id)
            return [str(v) for v in dict(row).values()]
        finally:
            await conn.close()

    values = asyncio.run(stored())
    assert values, "the key was not stored"
    assert not any(secret in v for v in values)


def test_an_admin_lists_keys_without_their_secrets_and_a_revoked_key_is_refused_at_once(
    api: Api, unique: str
) -> None:
    admin = api.client("targets", role="admin")
    key = _api_key(api, "ingest", f"leaked-{unique}")
    key_id = key[len("pk_") :].split("_", 1)[0]
    listed = {k["key_id"]: k for k in every_item(admin, "/v1/api-keys")}
    assert listed[key_id]["name"] == f"leaked-{unique}"
    assert listed[key_id]["revoked_at"] is None
    assert key.split("_", 2)[2] not in admin.get("/v1/api-keys").text

    assert admin.delete(f"/v1/api-keys/{key_id}").status_code == 204
    refused = api.client("metrics", token=key).post("/v1/events", json={"events": []})
    assert refused.status_code == 401
    assert refused.json()["code"] == "invalid_api_key"
    assert admin.delete(f"/v1/api-keys/{key_id}").status_code == 204
    trail = admin.get("/v1/audit", params={"entity_type": "api_key", "entity_id": key_id}).json()["items"]
    assert [e["action"] for e in trail] == ["revoke", "create"]


@pytest.mark.parametrize("role", ["planner", "member", "viewer"])
def test_only_admins_list_or_revoke_api_keys(api: Api, role: str) -> None:
    client = api.client("targets", role=role)
    assert client.get("/v1/api-keys").status_code == 403
    assert client.delete("/v1/api-keys/abc").status_code == 403


def test_revoking_an_unknown_key_is_not_found(api: Api) -> None:
    response = api.client("targets", role="admin").delete("/v1/api-keys/nosuchkey")
    assert response.status_code == 404
    assert response.json()["code"] == "api_key_not_found"

"""Admins create, list and revoke API keys for machines; a key is shown once and stored hashed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from services.targets.deps import AUDIT_SCHEMA
from shared import audit
from shared.api import problem_responses, v1_router
from shared.auth import Admin, ApiKey, Scope, create_api_key
from shared.db import Session
from shared.errors import not_found
from shared.pagination import Page, Paging, created_order, keyset_page

router = v1_router(tags=["api keys"])


class ApiKeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="Who uses the key, e.g. `erp`.")
    scopes: list[Scope] = Field(min_length=1, description="`ingest` (push events only), `tasks`, `read`.")


class ApiKeyOut(BaseModel):
    id: uuid.UUID
    key_id: str = Field(description="The public part of the key (`pk_<key_id>_…`); names it for revoking.")
    name: str
    scopes: list[Scope]
    created_by: str
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The key itself. Shown only in this answer; Pacer keeps a hash.")


def _out(row: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=row.id,
        key_id=row.key_id,
        name=row.name,
        scopes=[Scope(s) for s in row.scopes],
        created_by=row.created_by,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


@router.post(
    "/api-keys",
    status_code=201,
    response_model=ApiKeyCreated,
    summary="Create an API key (admin)",
    responses=problem_responses(),
)
async def create(body: ApiKeyCreate, principal: Admin, session: Session) -> ApiKeyCreated:
    """Creates a scoped API key for a machine caller. Send it as `Authorization: Bearer <key>`."""
    row, plaintext = await create_api_key(
        session, name=body.name, scopes=sorted(set(body.scopes)), created_by=principal.subject
    )
    await audit.record(
        session,
        AUDIT_SCHEMA,
        principal,
        entity_type="api_key",
        entity_id=row.key_id,
        action="create",
        after={"name": row.name, "scopes": row.scopes},
    )
    await session.commit()
    return ApiKeyCreated(**_out(row).model_dump(), key=plaintext)


@router.get(
    "/api-keys",
    response_model=Page[ApiKeyOut],
    summary="List API keys (admin)",
    responses=problem_responses(),
)
async def list_keys(principal: Admin, session: Session, page: Paging) -> Page[ApiKeyOut]:
    """The keys with their scopes and whether they are revoked, oldest first, a page at a time —
    never the secret, which is not kept."""
    rows, cursor = await keyset_page(session, select(ApiKey), page, created_order(ApiKey, "key_id"))
    return Page(items=[_out(row) for row in rows], next_cursor=cursor)


@router.delete(
    "/api-keys/{key_id}",
    status_code=204,
    summary="Revoke an API key (admin)",
    responses=problem_responses(404),
)
async def revoke(key_id: str, principal: Admin, session: Session) -> Response:
    """Revokes the key at once: every later call with it answers 401 `invalid_api_key`. Revoking
    a key twice is harmless."""
    row = (
        await session.execute(select(ApiKey).where(ApiKey.key_id == key_id).with_for_update())
    ).scalar_one_or_none()
    if row is None:
        raise not_found("api_key", key_id)
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        await audit.record(
            session,
            AUDIT_SCHEMA,
            principal,
            entity_type="api_key",
            entity_id=row.key_id,
            action="revoke",
            before={"revoked_at": None},
            after={"revoked_at": row.revoked_at},
        )
        await session.commit()
    return Response(status_code=204)

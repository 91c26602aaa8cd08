"""Admins create API keys for machines; the key is shown once and stored hashed."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from shared.api import problem_responses, v1_router
from shared.auth import Admin, Scope, create_api_key
from shared.db import Session

router = v1_router(tags=["api keys"])


class ApiKeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="Who uses the key, e.g. `erp`.")
    scopes: list[Scope] = Field(min_length=1, description="`ingest` (push events only), `tasks`, `read`.")


class ApiKeyCreated(BaseModel):
    id: uuid.UUID
    name: str
    scopes: list[Scope]
    created_at: datetime
    key: str = Field(description="The key itself. Shown only in this answer; Pacer keeps a hash.")


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
    await session.commit()
    return ApiKeyCreated(
        id=row.id,
        name=row.name,
        scopes=[Scope(s) for s in row.scopes],
        created_at=row.created_at,
        key=plaintext,
    )

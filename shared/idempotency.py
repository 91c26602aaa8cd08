"""`Idempotency-Key` for batch POSTs: the same key and body answer the first response again;
the same key with another body is refused (422). The key row is claimed in the same
transaction as the work, so two concurrent retries cannot both do it."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.errors import Problem
from shared.tables import idempotency_table

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"

Work = Callable[[], Awaitable[tuple[int, Any]]]


def answer_is_kept(request: Request) -> bool:
    """Whether the request carries an Idempotency-Key: its answer is then stored in the work's own
    transaction, so the work must leave that transaction to `run_idempotent` to commit. Work for
    a request without a key may commit as soon as its writes are done."""
    return request.headers.get(IDEMPOTENCY_HEADER) is not None


def body_fingerprint(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


async def run_idempotent(
    session: AsyncSession,
    schema: str,
    request: Request,
    principal: Principal,
    work: Work,
    *,
    body: bytes | None = None,
) -> JSONResponse:
    """Runs `work` once per key; commits the work and its answer together. Work for a request
    without a key (`answer_is_kept` false) may have committed already: the commit here then ends
    an empty transaction."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        status, payload = await work()
        await session.commit()
        return JSONResponse(jsonable_encoder(payload), status_code=status)
    if not 1 <= len(key) <= 200:
        raise Problem(400, "invalid_idempotency_key", "Idempotency-Key must be 1 to 200 characters.")

    fingerprint = body_fingerprint(body if body is not None else await request.body())
    table = idempotency_table(schema)
    claimed = (
        await session.execute(
            insert(table)
            .values(
                principal=principal.subject,
                key=key,
                method=request.method,
                path=request.url.path,
                request_hash=fingerprint,
            )
            .on_conflict_do_nothing()
            .returning(table.c.key)
        )
    ).first()
    if claimed is None:
        row = (
            await session.execute(
                select(table).where(table.c.principal == principal.subject, table.c.key == key)
            )
        ).one()
        await session.rollback()
        if row.request_hash != fingerprint or row.path != request.url.path:
            raise Problem(
                422,
                "idempotency_key_reused",
                "This Idempotency-Key was already used with a different request body.",
            )
        return JSONResponse(row.response, status_code=row.status_code, headers={REPLAYED_HEADER: "true"})

    status, payload = await work()
    encoded = jsonable_encoder(payload)
    await session.execute(
        update(table)
        .where(table.c.principal == principal.subject, table.c.key == key)
        .values(status_code=status, response=encoded)
    )
    await session.commit()
    return JSONResponse(encoded, status_code=status)

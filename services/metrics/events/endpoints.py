"""Routes of metric event ingestion."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from services.metrics.events import service
from shared.api import problem_responses, v1_router
from shared.auth import Ingestor
from shared.db import Session

router = v1_router(tags=["events"])


class RejectedItem(BaseModel):
    index: int = Field(description="Position of the item in the batch (0-based; CSV: data row).")
    event_id: str | None
    code: str = Field(
        description="unknown_metric, derived_metric, invalid_value, timestamp_without_zone, "
        "invalid_timestamp, invalid_dimension, missing_field, invalid_field, conflict"
    )
    detail: str


class PushResult(BaseModel):
    accepted: int = Field(description="Events stored by this push.")
    duplicates: int = Field(
        description="Events already stored (or repeated in the batch) with the same content."
    )
    rejected: list[RejectedItem]


_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["events"],
                    "properties": {
                        "events": {
                            "type": "array",
                            "maxItems": 10000,
                            "items": {
                                "type": "object",
                                "required": ["event_id", "metric", "value", "occurred_at"],
                                "properties": {
                                    "event_id": {"type": "string", "maxLength": 200},
                                    "metric": {"type": "string"},
                                    "value": {"type": ["string", "number"]},
                                    "occurred_at": {"type": "string", "format": "date-time"},
                                    "dims": {
                                        "type": "object",
                                        "properties": {
                                            "category": {"type": "string"},
                                            "channel": {"type": "string"},
                                            "region": {"type": "string"},
                                        },
                                    },
                                    "source": {"type": "string"},
                                },
                            },
                        }
                    },
                }
            },
            "text/csv": {
                "schema": {
                    "type": "string",
                    "description": "Header event_id,metric,value,occurred_at,category,channel,region,source",
                }
            },
        },
    }
}


@router.post(
    "/events",
    response_model=PushResult,
    summary="Push a batch of metric events (ingest API keys, admins)",
    responses=problem_responses(400, 413, 415),
    openapi_extra=_BODY_DOC,
)
async def push_events(request: Request, principal: Ingestor, session: Session) -> JSONResponse:
    """Stores each event exactly once, answering per item.

    An `event_id` seen before with the same content counts as a duplicate and is not stored
    again; with other content it is rejected with `conflict` and never overwritten. Good items
    are stored even when others are rejected. At most 10,000 events per batch (413
    `batch_too_large`). `Idempotency-Key` makes a retried push answer its first response.
    """
    return await service.push_events(
        session, request.app.state.engine, request.app.state.settings, request, principal
    )

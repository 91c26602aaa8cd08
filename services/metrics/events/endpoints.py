"""Metric events (skeleton: replaced by the metrics service work)."""

from __future__ import annotations

from typing import Any

from shared.api import problem_responses, v1_router
from shared.auth import Ingestor

router = v1_router(tags=["events"])


@router.post("/events", summary="Push a batch of metric events", responses=problem_responses(413))
async def push_events(principal: Ingestor) -> dict[str, Any]:
    return {"accepted": 0, "duplicates": 0, "rejected": []}

"""Routes answering metric values: a batch for programs, value and series for people."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import orjson
from fastapi import Path, Query, Request
from fastapi.responses import Response

from services.metrics.catalogue.schemas import Dimension
from services.metrics.queries import service
from services.metrics.queries.cache import answer_cache
from services.metrics.queries.schemas import (
    Bucket,
    MetricQuery,
    QueryBatch,
    QueryFilters,
    QueryResult,
    QueryResults,
)
from shared.api import problem_responses, v1_router
from shared.auth import Permission, Reader
from shared.db import Session
from shared.errors import Problem, not_found

router = v1_router(tags=["queries"])


def _json(payload: Any) -> Response:
    return Response(orjson.dumps(payload), media_type="application/json")


@router.post(
    "/query",
    response_model=QueryResults,
    summary="Answer a batch of metric queries in one round trip",
    responses=problem_responses(),
)
async def query(body: QueryBatch, principal: Reader, session: Session, request: Request) -> Response:
    """Up to 500 queries `{id, metric, start, end, filters, group_by, bucket, profile, last_event}`.

    Dates are inclusive business days cut in the business time zone. Base metrics sum their
    events (or aggregate their daily values by the definition's aggregation); derived metrics
    apply their formula to the period sums and report the numerator and denominator of a
    top-level division. `series` lists every bucket, empty ones included. An unknown metric
    refuses the whole batch with 422 `unknown_metric` naming the query id. A batch asked again
    while no event and no definition has changed is answered from memory, byte for byte the
    same answer; so is each query none of whose metrics' months has changed since it was last
    computed (its `last_event_at` is read afresh, unless the query says `"last_event": false`).
    """
    principal.require(Permission.READ)
    cache = answer_cache()
    if not cache.enabled:
        return _json({"results": await service.run_queries(session, principal, body.queries)})
    version = await cache.version(session)
    key = cache.key(version, await request.body())
    answer = cache.get(key)
    if answer is None:
        results = await service.run_queries(session, principal, body.queries, cache, version)
        answer = orjson.dumps({"results": results})
        cache.put(key, answer)
    return Response(answer, media_type="application/json")


def _single(
    key: str,
    start: date,
    end: date,
    category: list[str] | None,
    channel: list[str] | None,
    region: list[str] | None,
    group_by: list[Dimension] | None,
    bucket: Bucket | None,
) -> MetricQuery:
    return MetricQuery(
        id=key,
        metric=key,
        start=start,
        end=end,
        filters=QueryFilters(category=category, channel=channel, region=region),
        group_by=group_by or None,
        bucket=bucket,
    )


async def _run_one(session: Session, principal: Reader, query: MetricQuery) -> dict[str, Any]:
    try:
        return (await service.run_queries(session, principal, [query], answer_cache()))[0]
    except Problem as problem:
        if problem.code == "unknown_metric":
            raise not_found("metric", query.metric) from problem
        raise


MetricKey = Annotated[str, Path(max_length=64, description="The metric's key, e.g. `gmv`.")]
Start = Annotated[date, Query(description="First business day, inclusive.")]
End = Annotated[date, Query(description="Last business day, inclusive.")]
Filter = Annotated[list[str] | None, Query(description="Repeat for several values.")]
GroupBy = Annotated[list[Dimension] | None, Query(description="Dimensions to group by; repeatable.")]


@router.get(
    "/metrics/{key}/value",
    response_model=QueryResult,
    summary="A metric's value over a date range",
    responses=problem_responses(404),
)
async def value(
    key: MetricKey,
    start: Start,
    end: End,
    principal: Reader,
    session: Session,
    category: Filter = None,
    channel: Filter = None,
    region: Filter = None,
    group_by: GroupBy = None,
) -> Response:
    """The same answer as one `POST /v1/query` item without a bucket."""
    query = _single(key, start, end, category, channel, region, group_by, None)
    return _json(await _run_one(session, principal, query))


@router.get(
    "/metrics/{key}/series",
    response_model=QueryResult,
    summary="A metric's values bucketed by day, week, month or quarter",
    responses=problem_responses(404),
)
async def series(
    key: MetricKey,
    start: Start,
    end: End,
    principal: Reader,
    session: Session,
    bucket: Annotated[
        Bucket, Query(description="day, week (ISO, Monday start), month or quarter.")
    ] = Bucket.DAY,
    category: Filter = None,
    channel: Filter = None,
    region: Filter = None,
) -> Response:
    """The same answer as one `POST /v1/query` item with a bucket: every bucket, empty ones included."""
    query = _single(key, start, end, category, channel, region, None, bucket)
    return _json(await _run_one(session, principal, query))

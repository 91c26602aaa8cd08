"""Routes of the metric catalogue."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Path, Response

from services.metrics.catalogue import service
from services.metrics.catalogue.schemas import MetricCreate, MetricDefinition, MetricUpdate
from shared.api import problem_responses, v1_router
from shared.auth import MetricManager, Reader
from shared.db import Session
from shared.pagination import Page, Paging

router = v1_router(tags=["metric catalogue"])

MetricKey = Annotated[str, Path(max_length=64, description="The metric's key, e.g. `gmv`.")]


def _etag(definition: MetricDefinition) -> str:
    return f'"{definition.version}"'


@router.get(
    "/metrics",
    response_model=Page[MetricDefinition],
    summary="List the metric catalogue",
    responses=problem_responses(400),
)
async def list_metrics(principal: Reader, session: Session, paging: Paging) -> Page[MetricDefinition]:
    """Every metric definition, ordered by key (a page of 500 covers the whole catalogue)."""
    return await service.list_metrics(session, principal, paging)


@router.get(
    "/metrics/{key}",
    response_model=MetricDefinition,
    summary="Read one metric definition",
    responses=problem_responses(404),
)
async def get_metric(
    key: MetricKey, principal: Reader, session: Session, response: Response
) -> MetricDefinition:
    """The definition: formula, direction, aggregation, staleness threshold; `ETag` is its version."""
    definition = await service.get_metric(session, principal, key)
    response.headers["ETag"] = _etag(definition)
    return definition


@router.post(
    "/metrics",
    status_code=201,
    response_model=MetricDefinition,
    summary="Add a metric to the catalogue (planner, admin)",
    responses=problem_responses(409),
)
async def create_metric(
    body: MetricCreate, principal: MetricManager, session: Session, response: Response
) -> MetricDefinition:
    """Adds a base metric (pushed as events) or a derived one (a formula over other metrics).

    Formulas accept numbers, metric keys, `+ - * /` (or `× ÷ −`) and parentheses. Refused:
    `invalid_formula` (syntax), `unknown_metric_in_formula`, `formula_cycle`.
    """
    definition = await service.create_metric(session, principal, body)
    response.headers["ETag"] = _etag(definition)
    return definition


@router.patch(
    "/metrics/{key}",
    response_model=MetricDefinition,
    summary="Change a metric definition (planner, admin)",
    responses=problem_responses(404, 412),
)
async def update_metric(
    key: MetricKey,
    body: MetricUpdate,
    principal: MetricManager,
    session: Session,
    response: Response,
    if_match: Annotated[str | None, Header(description="ETag of the version being changed.")] = None,
) -> MetricDefinition:
    """Changes the given fields; `key` and `kind` are fixed. With `If-Match`, a stale version → 412."""
    definition = await service.update_metric(session, principal, key, body, service.parse_if_match(if_match))
    response.headers["ETag"] = _etag(definition)
    return definition

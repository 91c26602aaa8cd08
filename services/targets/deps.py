"""Reusable dependencies and small helpers of the targets service: the metrics client per request,
optimistic concurrency (ETag / If-Match) and lookups shared by the domains."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.targets.departments.models import Department
from services.targets.metrics_client import MetricsClient
from services.targets.plans.models import Plan
from shared.errors import Problem, not_found

AUDIT_SCHEMA = "targets"


def metrics_client(request: Request) -> MetricsClient:
    """The metrics service, called with the caller's own credentials."""
    return MetricsClient(request.app.state.metrics, request.headers.get("authorization"))


Metrics = Annotated[MetricsClient, Depends(metrics_client)]


def if_match_version(request: Request) -> int | None:
    """The version an `If-Match` header names (`"3"`, `W/"3"` or `3`); None when absent."""
    header = request.headers.get("if-match")
    if header is None:
        return None
    text = header.strip()
    if text.startswith("W/"):
        text = text[2:]
    text = text.strip('"')
    try:
        return int(text)
    except ValueError as exc:
        raise Problem(412, "precondition_failed", f"If-Match '{header}' names no version.") from exc


IfMatch = Annotated[int | None, Depends(if_match_version)]


def require_if_match(version: int | None) -> int:
    if version is None:
        raise Problem(
            428,
            "precondition_required",
            "Send the ETag of your last read as If-Match, so no change of someone else is lost.",
        )
    return version


def check_version(expected: int | None, current: int, *, required: bool = True) -> None:
    if expected is None:
        if required:
            require_if_match(expected)
        return
    if expected != current:
        raise Problem(
            412,
            "precondition_failed",
            f"The resource changed since you read it (version {current}, yours {expected}). "
            "Read it again and re-apply your change.",
            current_version=current,
        )


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


async def get_plan(session: AsyncSession, plan_id: uuid.UUID, *, for_update: bool = False) -> Plan:
    query = select(Plan).where(Plan.id == plan_id)
    if for_update:
        query = query.with_for_update()
    plan = (await session.execute(query)).scalar_one_or_none()
    if plan is None:
        raise not_found("plan", plan_id)
    return plan


def require_open_plan(plan: Plan) -> None:
    if plan.status == "closed":
        raise Problem(409, "plan_closed", f"Plan {plan.code} is closed; its contents are read-only.")


async def check_departments(session: AsyncSession, keys: Iterable[str | None]) -> None:
    wanted = {k for k in keys if k is not None}
    if not wanted:
        return
    known = set((await session.execute(select(Department.key).where(Department.key.in_(wanted)))).scalars())
    missing = sorted(wanted - known)
    if missing:
        raise Problem(
            422, "unknown_department", f"Unknown department(s): {', '.join(missing)}.", departments=missing
        )


def check_inside_plan(plan: Plan, starts_on: date, ends_on: date, what: str = "period") -> None:
    if starts_on < plan.starts_on or ends_on > plan.ends_on:
        raise Problem(
            422,
            "period_outside_plan",
            f"The {what} {starts_on}..{ends_on} is not inside plan {plan.code} "
            f"({plan.starts_on}..{plan.ends_on}).",
        )


def snapshot(obj: Any, fields: Iterable[str]) -> dict[str, Any]:
    """The audited fields of a row as a plain dict."""
    return {name: getattr(obj, name) for name in fields}

"""Departments are data: seeded, and planners or admins add more."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.targets.departments.models import Department
from services.targets.deps import AUDIT_SCHEMA
from shared import audit
from shared.api import problem_responses, v1_router
from shared.auth import PlanWriter, Reader
from shared.db import Session
from shared.errors import Problem
from shared.pagination import Paging, SortKey, keyset_page

router = v1_router(tags=["departments"])


class DepartmentIn(BaseModel):
    key: str = Field(min_length=1, max_length=60, pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1, max_length=200)


class DepartmentOut(BaseModel):
    key: str
    name: str


class DepartmentList(BaseModel):
    items: list[DepartmentOut]
    next_cursor: str | None = None


@router.get(
    "/departments", response_model=DepartmentList, summary="List departments", responses=problem_responses()
)
async def list_departments(principal: Reader, session: Session, page: Paging) -> DepartmentList:
    """The departments, by key, a page at a time."""
    order = [SortKey(Department.key, lambda department: department.key)]
    rows, cursor = await keyset_page(session, select(Department), page, order)
    return DepartmentList(items=[DepartmentOut(key=d.key, name=d.name) for d in rows], next_cursor=cursor)


@router.post(
    "/departments",
    status_code=201,
    response_model=DepartmentOut,
    summary="Add a department",
    responses=problem_responses(409),
)
async def add_department(body: DepartmentIn, principal: PlanWriter, session: Session) -> DepartmentOut:
    """Adds a department; a taken key → 409 `department_taken`."""
    session.add(Department(key=body.key, name=body.name))
    try:
        await session.flush()
    except IntegrityError as exc:
        await session.rollback()
        raise Problem(409, "department_taken", f"Department '{body.key}' exists.") from exc
    await audit.record(
        session,
        AUDIT_SCHEMA,
        principal,
        entity_type="department",
        entity_id=body.key,
        action="create",
        after=body.model_dump(),
    )
    await session.commit()
    return DepartmentOut(key=body.key, name=body.name)

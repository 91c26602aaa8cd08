"""Tasks: the quarter's and month's work, created in bulk by scripts that may re-run."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Request, Response
from fastapi.responses import JSONResponse

from services.targets.deps import AUDIT_SCHEMA, IfMatch, set_etag
from services.targets.tasks import service
from services.targets.tasks.schemas import BulkOut, TaskBulk, TaskIn, TaskOut, TaskStatus, TaskUpdate
from shared.api import problem_responses, v1_router
from shared.auth import Reader, TaskWriter
from shared.db import Session
from shared.idempotency import run_idempotent
from shared.pagination import Page, Paging

router = v1_router(tags=["tasks"])


@router.post(
    "/plans/{plan_id}/tasks/bulk",
    response_model=BulkOut,
    summary="Create many tasks, idempotent by external_ref",
    responses=problem_responses(404, 409, 413),
)
async def bulk_create(
    plan_id: uuid.UUID, body: TaskBulk, principal: TaskWriter, session: Session, request: Request
) -> JSONResponse:
    """Creates thousands of tasks in one transaction. A task whose `external_ref` exists in the
    plan is not created again: its result says `created: false` and lists in `changed_fields`
    what this run would have changed (the stored task is kept). Honours `Idempotency-Key`.
    Any invalid row → 422 `invalid_tasks` listing every row's problem, and nothing is created."""
    max_rows = request.app.state.settings.max_tasks_per_batch

    async def work() -> tuple[int, object]:
        out = await service.bulk_create(session, principal, plan_id, body.tasks, max_rows)
        return 200, out.model_dump(mode="json")

    return await run_idempotent(session, AUDIT_SCHEMA, request, principal, work)


@router.post(
    "/plans/{plan_id}/tasks",
    response_model=TaskOut,
    status_code=201,
    summary="Create a task (an existing external_ref returns that task)",
    responses=problem_responses(404, 409),
)
async def create_task(
    plan_id: uuid.UUID, body: TaskIn, principal: TaskWriter, session: Session, response: Response
) -> TaskOut:
    """201 with the new task; 200 with the stored one when its external_ref already exists."""
    settings_max = 1
    out = await service.bulk_create(session, principal, plan_id, [body], settings_max)
    await session.commit()
    result = out.results[0]
    task = await service.get_task(session, result.id)
    if not result.created:
        response.status_code = 200
    set_etag(response, task.version)
    return service.to_out(task)


@router.get("/plans/{plan_id}/tasks", summary="List a plan's tasks", responses=problem_responses(400, 404))
async def list_tasks(
    plan_id: uuid.UUID,
    principal: Reader,
    session: Session,
    page: Paging,
    quarter: Annotated[str | None, Query(description="2025Q2: the quarter's tasks and its months'.")] = None,
    period: Annotated[str | None, Query(description="Exactly this period (2025Q2 or 2025-05).")] = None,
    department: Annotated[str | None, Query()] = None,
    status: Annotated[TaskStatus | None, Query()] = None,
    assignee: Annotated[str | None, Query()] = None,
    initiative_id: Annotated[uuid.UUID | None, Query()] = None,
    target_id: Annotated[uuid.UUID | None, Query()] = None,
    external_ref: Annotated[str | None, Query()] = None,
) -> Page[TaskOut]:
    """Tasks ordered by date, paged with a cursor."""
    return await service.list_tasks(
        session,
        plan_id,
        page,
        quarter=quarter,
        period=period,
        department=department,
        status=status,
        assignee=assignee,
        initiative_id=initiative_id,
        target_id=target_id,
        external_ref=external_ref,
    )


@router.get(
    "/tasks/{task_id}", response_model=TaskOut, summary="Read a task", responses=problem_responses(404)
)
async def read_task(task_id: uuid.UUID, principal: Reader, session: Session, response: Response) -> TaskOut:
    """The task with its `ETag`."""
    task = await service.get_task(session, task_id)
    set_etag(response, task.version)
    return service.to_out(task)


@router.patch(
    "/tasks/{task_id}",
    response_model=TaskOut,
    summary="Change a task",
    responses=problem_responses(404, 409, 412),
)
async def update_task(
    task_id: uuid.UUID,
    body: TaskUpdate,
    principal: TaskWriter,
    session: Session,
    if_match: IfMatch,
    response: Response,
) -> TaskOut:
    """Moves a task through `todo → in_progress → done` (`blocked` both ways, `cancelled`);
    illegal moves → 409 `illegal_status_transition`. Members change only their own
    department's tasks and cannot move one to another department (403 `forbidden_department`).
    If-Match is optional and checked when sent."""
    task = await service.update_task(session, principal, task_id, body, if_match)
    set_etag(response, task.version)
    return service.to_out(task)


@router.delete("/tasks/{task_id}", status_code=204, summary="Delete a task", responses=problem_responses(404))
async def delete_task(task_id: uuid.UUID, principal: TaskWriter, session: Session) -> Response:
    """Deletes the task (members: their own department's only)."""
    await service.delete_task(session, principal, task_id)
    return Response(status_code=204)

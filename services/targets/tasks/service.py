"""Tasks: bulk creation idempotent by external_ref, the status workflow, and members who may
touch only their own department's tasks."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from fastapi.encoders import jsonable_encoder
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.targets.departments.models import Department
from services.targets.deps import (
    AUDIT_SCHEMA,
    check_departments,
    check_inside_plan,
    check_version,
    get_plan,
    require_open_plan,
    snapshot,
)
from services.targets.initiatives.models import Initiative
from services.targets.plans.models import Plan
from services.targets.targets.models import Target
from services.targets.tasks import repository
from services.targets.tasks.models import Task
from services.targets.tasks.schemas import BulkOut, BulkResult, TaskIn, TaskOut, TaskUpdate
from shared import audit
from shared.auth import Principal
from shared.errors import Problem, not_found
from shared.pagination import Page, PageParams, cursor_date, cursor_uuid
from shared.periods import Period, parse_period, parse_quarter
from shared.tables import audit_table

TRANSITIONS: dict[str, set[str]] = {
    "todo": {"in_progress", "blocked", "cancelled"},
    "in_progress": {"done", "blocked", "cancelled"},
    "blocked": {"todo", "in_progress", "cancelled"},
    "done": set(),
    "cancelled": set(),
}
COMPARED = (
    "title",
    "description",
    "period",
    "department",
    "assignee",
    "status",
    "initiative_id",
    "target_ids",
)
AUDITED = (*COMPARED, "external_ref", "plan_id")


def to_out(task: Task) -> TaskOut:
    return TaskOut.model_validate(task, from_attributes=True)


def task_period(plan: Plan, text: str) -> Period:
    period = parse_period(text)
    if period.label is None or len(period.label) == 4:
        raise Problem(422, "invalid_period", f"A task is dated to a quarter or a month, not '{text}'.")
    check_inside_plan(plan, period.start, period.end)
    return period


def _comparable(field: str, value: Any) -> Any:
    if field == "target_ids":
        return sorted(str(v) for v in value or [])
    if field == "initiative_id":
        return None if value is None else str(value)
    return value


class _RowErrors:
    def __init__(self) -> None:
        self.errors: list[dict[str, Any]] = []

    def add(self, index: int, code: str, detail: str) -> None:
        self.errors.append({"index": index, "code": code, "detail": detail})


async def _known(
    session: AsyncSession, model: Any, column: Any, plan_id: uuid.UUID | None, ids: set[Any]
) -> set[Any]:
    if not ids:
        return set()
    query = select(column).where(column.in_(ids))
    if plan_id is not None:
        query = query.where(model.plan_id == plan_id)
    return set((await session.execute(query)).scalars())


async def bulk_create(
    session: AsyncSession, principal: Principal, plan_id: uuid.UUID, rows: Sequence[TaskIn], max_rows: int
) -> BulkOut:
    """Creates the new tasks in one set-based statement; a known external_ref answers the stored
    task (kept as it was) and names the fields the re-run would have changed. Does not commit."""
    if len(rows) > max_rows:
        raise Problem(413, "too_many_tasks", f"At most {max_rows} tasks per request.", max_tasks=max_rows)
    plan = await get_plan(session, plan_id)
    require_open_plan(plan)
    for row in rows:
        principal.require_department(row.department)

    errors = _RowErrors()
    departments = await _known(session, Department, Department.key, None, {r.department for r in rows})
    initiatives = await _known(
        session, Initiative, Initiative.id, plan.id, {r.initiative_id for r in rows if r.initiative_id}
    )
    targets = await _known(session, Target, Target.id, plan.id, {t for r in rows for t in r.target_ids})
    periods: dict[int, Period] = {}
    first_by_ref: dict[str, int] = {}
    for index, row in enumerate(rows):
        try:
            periods[index] = task_period(plan, row.period)
        except Problem as exc:
            errors.add(index, exc.code, exc.detail or exc.code)
        if row.department not in departments:
            errors.add(index, "unknown_department", f"Unknown department '{row.department}'.")
        if row.initiative_id and row.initiative_id not in initiatives:
            errors.add(index, "unknown_initiative", "The initiative does not belong to this plan.")
        if any(t not in targets for t in row.target_ids):
            errors.add(index, "unknown_target", "A linked target does not belong to this plan.")
        if row.external_ref is not None:
            first = first_by_ref.setdefault(row.external_ref, index)
            if first != index and rows[first] != row:
                errors.add(index, "duplicate_external_ref", f"external_ref {row.external_ref} appears twice.")
    if errors.errors:
        raise Problem(
            422,
            "invalid_tasks",
            f"{len(errors.errors)} problem(s); nothing was created.",
            errors=errors.errors,
        )

    fresh: list[dict[str, Any]] = []
    ids_by_index: dict[int, uuid.UUID] = {}
    for index, row in enumerate(rows):
        if row.external_ref is not None and first_by_ref[row.external_ref] != index:
            continue  # an identical repeat inside the same request
        task_id = uuid.uuid4()
        ids_by_index[index] = task_id
        period = periods[index]
        fresh.append(
            {
                "id": task_id,
                "index": index,
                "title": row.title,
                "description": row.description,
                "period": period.label,
                "starts_on": period.start,
                "ends_on": period.end,
                "department": row.department,
                "assignee": row.assignee,
                "status": row.status,
                "external_ref": row.external_ref,
                "initiative_id": row.initiative_id,
                "target_ids": list(dict.fromkeys(row.target_ids)),
            }
        )
    fresh.sort(key=lambda r: (r["external_ref"] is None, r["external_ref"] or ""))
    inserted = await repository.insert_many(session, plan.id, fresh)
    skipped_refs = [r["external_ref"] for r in fresh if r["id"] not in inserted]
    existing = await repository.by_external_refs(session, plan.id, skipped_refs)
    for stored in existing.values():
        # A member is not answered about another department's task (its id, what differs); the
        # rows this request inserted are not committed.
        principal.require_department(stored.department)

    created_rows = [r for r in fresh if r["id"] in inserted]
    if created_rows:
        actor_changes = [
            {
                "actor": principal.subject,
                "entity_type": "task",
                "entity_id": str(r["id"]),
                "action": "create",
                "changes": jsonable_encoder(
                    {
                        f: {"from": None, "to": r[f]}
                        for f in (*COMPARED, "external_ref")
                        if r[f] not in (None, [])
                    }
                ),
                "request_id": _request_id(),
            }
            for r in created_rows
        ]
        for start in range(0, len(actor_changes), 1000):
            await session.execute(insert(audit_table(AUDIT_SCHEMA)), actor_changes[start : start + 1000])

    results: list[BulkResult] = []
    for index, row in enumerate(rows):
        ref = row.external_ref
        own_id = ids_by_index.get(index)
        if own_id is not None and own_id in inserted:
            results.append(
                BulkResult(index=index, id=own_id, external_ref=ref, created=True, changed_fields=[])
            )
            continue
        assert ref is not None
        if first_by_ref[ref] != index and ids_by_index.get(first_by_ref[ref]) in inserted:
            first_id = ids_by_index[first_by_ref[ref]]
            results.append(
                BulkResult(index=index, id=first_id, external_ref=ref, created=False, changed_fields=[])
            )
            continue
        stored = existing[ref]
        sent = row.model_dump(include=row.model_fields_set & set(COMPARED))
        if "period" in sent:
            sent["period"] = periods[index].label
        changed = sorted(
            f for f, v in sent.items() if _comparable(f, v) != _comparable(f, getattr(stored, f))
        )
        results.append(
            BulkResult(index=index, id=stored.id, external_ref=ref, created=False, changed_fields=changed)
        )
    return BulkOut(
        created=len(created_rows), existing=len(rows) - sum(r.created for r in results), results=results
    )


def _request_id() -> str | None:
    import structlog

    value = structlog.contextvars.get_contextvars().get("request_id")
    return None if value is None else str(value)


async def get_task(session: AsyncSession, task_id: uuid.UUID, *, for_update: bool = False) -> Task:
    query = select(Task).where(Task.id == task_id)
    if for_update:
        query = query.with_for_update()
    task = (await session.execute(query)).scalar_one_or_none()
    if task is None:
        raise not_found("task", task_id)
    return task


async def list_tasks(
    session: AsyncSession,
    plan_id: uuid.UUID,
    page: PageParams,
    *,
    quarter: str | None = None,
    **filters: Any,
) -> Page[TaskOut]:
    await get_plan(session, plan_id)
    window = None
    if quarter:
        q = parse_quarter(quarter)
        window = (q.start, q.end)
    query = repository.filtered(plan_id, window=window, **filters)
    rows = await repository.page_of(session, query, page.cursor_values(cursor_date, cursor_uuid), page.limit)
    return Page(
        items=[to_out(t) for t in rows[: page.limit]],
        next_cursor=page.next_cursor(rows, lambda t: (t.starts_on.isoformat(), str(t.id))),
    )


async def update_task(
    session: AsyncSession,
    principal: Principal,
    task_id: uuid.UUID,
    body: TaskUpdate,
    if_match: int | None,
) -> Task:
    task = await get_task(session, task_id, for_update=True)
    principal.require_department(task.department)
    check_version(if_match, task.version, required=False)
    plan = await get_plan(session, task.plan_id)
    require_open_plan(plan)
    changes = body.model_dump(exclude_unset=True)
    before = snapshot(task, AUDITED)
    if "department" in changes:
        if changes["department"] is None:
            raise Problem(422, "missing_department", "A task belongs to a department.")
        principal.require_department(changes["department"])  # a member cannot hand a task away
        await check_departments(session, [changes["department"]])
        task.department = changes["department"]
    if changes.get("status") and changes["status"] != task.status:
        if changes["status"] not in TRANSITIONS[task.status]:
            raise Problem(
                409,
                "illegal_status_transition",
                f"A {task.status} task cannot become {changes['status']}.",
                allowed=sorted(TRANSITIONS[task.status]),
            )
        task.status = changes["status"]
    if changes.get("period"):
        period = task_period(plan, changes["period"])
        task.period, task.starts_on, task.ends_on = str(period.label), period.start, period.end
    if "initiative_id" in changes:
        if changes["initiative_id"] and not await _known(
            session, Initiative, Initiative.id, plan.id, {changes["initiative_id"]}
        ):
            raise Problem(422, "unknown_initiative", "The initiative does not belong to this plan.")
        task.initiative_id = changes["initiative_id"]
    if body.target_ids is not None:
        wanted = set(body.target_ids)
        if await _known(session, Target, Target.id, plan.id, wanted) != wanted:
            raise Problem(422, "unknown_target", "A linked target does not belong to this plan.")
        task.target_ids = list(dict.fromkeys(body.target_ids))
    if changes.get("title"):
        task.title = changes["title"]
    for name in ("description", "assignee"):
        if name in changes:
            setattr(task, name, changes[name])
    after = snapshot(task, AUDITED)
    if jsonable_encoder(after) != jsonable_encoder(before):
        await audit.record_update(
            session, AUDIT_SCHEMA, principal, task, entity_type="task", before=before, after=after
        )
    await session.commit()
    return task


async def delete_task(session: AsyncSession, principal: Principal, task_id: uuid.UUID) -> None:
    task = await get_task(session, task_id, for_update=True)
    principal.require_department(task.department)
    plan = await get_plan(session, task.plan_id)
    require_open_plan(plan)
    await audit.record(
        session,
        AUDIT_SCHEMA,
        principal,
        entity_type="task",
        entity_id=task.id,
        action="delete",
        before=snapshot(task, AUDITED),
    )
    await session.delete(task)
    await session.commit()


async def unlink_targets(
    session: AsyncSession, principal: Principal, plan_id: uuid.UUID, target_ids: list[uuid.UUID]
) -> None:
    """Tasks linked to deleted targets lose the links (a new version each, audited), as the
    targets' initiatives do: no task names a target that is gone."""
    linked = (
        await session.execute(
            select(Task).where(Task.plan_id == plan_id, Task.target_ids.overlap(target_ids)).with_for_update()
        )
    ).scalars()
    gone = set(target_ids)
    for task in linked:
        before = [str(t) for t in task.target_ids]
        task.target_ids = [t for t in task.target_ids if t not in gone]
        after = [str(t) for t in task.target_ids]
        await audit.record_update(
            session, AUDIT_SCHEMA, principal, task, entity_type="task",
            before={"target_ids": before}, after={"target_ids": after},
        )  # fmt: skip

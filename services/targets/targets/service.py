"""Targets: SMART checks on creation, the frozen growth baseline, hydrated answers with links
and the decomposition tree, optimistic concurrency on change."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import ColumnElement, any_, delete, insert, literal, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from services.targets.deps import (
    AUDIT_SCHEMA,
    check_departments,
    check_inside_plan,
    check_version,
    get_plan,
    require_open_plan,
    snapshot,
)
from services.targets.initiatives.models import Initiative, target_initiatives
from services.targets.metrics_client import MetricsClient
from services.targets.plans.models import Plan
from services.targets.targets.kept import kept_targets
from services.targets.targets.models import Target
from services.targets.targets.schemas import Scope, TargetCreate, TargetOut, TargetUpdate, Tree
from services.targets.tasks.service import unlink_targets
from shared import audit
from shared.auth import Principal
from shared.decomposition import natural_places
from shared.errors import Problem, not_found
from shared.pagination import Page, PageParams, cursor_date, cursor_uuid
from shared.periods import Period, parse_period

DIMENSIONS = ("category", "channel", "region")
DEFINITION_FIELDS = (
    "key",
    "unit",
    "kind",
    "formula",
    "aggregation",
    "additive",
    "direction",
    "min_denominator",
    "expected_frequency_hours",
    "value_min",
    "value_max",
    "dimensions",
    "version",
)
AUDITED = (
    "name",
    "metric",
    "scope",
    "period",
    "starts_on",
    "ends_on",
    "kind",
    "target_value",
    "growth_pct",
    "baseline_value",
    "department",
    "weight",
    "status",
    "parent_id",
)


# ---- reading ------------------------------------------------------------------------------------


async def get_target(session: AsyncSession, target_id: uuid.UUID, *, for_update: bool = False) -> Target:
    query = select(Target).where(Target.id == target_id)
    if for_update:
        query = query.with_for_update()
    target = (await session.execute(query)).scalar_one_or_none()
    if target is None:
        raise not_found("target", target_id)
    return target


def tree_of(target: Target, children: Sequence[Target]) -> Tree | None:
    if not children:
        return None
    if target.additive:
        total = sum((c.target_value for c in children), Decimal(0))
        return Tree(adds_up=total == target.target_value, children_total=total)
    return Tree(adds_up=all(c.target_value == target.target_value for c in children), children_total=None)


def any_of(ids: Sequence[uuid.UUID]) -> ColumnElement[Any]:
    """`= any_of(ids)`: one array parameter instead of one per id, so the statement is the same
    for any number of ids (an `in` list is rendered anew for each length)."""
    return any_(literal(list(ids), ARRAY(UUID(as_uuid=True))))


async def hydrate(session: AsyncSession, targets: Sequence[Target]) -> list[TargetOut]:
    """Answers with initiative links, children and the tree, in two queries for any number."""
    ids = [t.id for t in targets]
    if not ids:
        return []
    children: dict[uuid.UUID, list[Target]] = defaultdict(list)
    any_id = any_of(ids)
    rows = await session.execute(
        select(Target).where(Target.parent_id == any_id).order_by(Target.position, Target.starts_on)
    )
    for child in rows.scalars():
        assert child.parent_id is not None
        children[child.parent_id].append(child)
    links: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    link_rows = await session.execute(
        select(target_initiatives.c.target_id, target_initiatives.c.initiative_id)
        .where(target_initiatives.c.target_id == any_id)
        .order_by(target_initiatives.c.initiative_id)
    )
    for target_id, initiative_id in link_rows:
        links[target_id].append(initiative_id)
    return [to_out(t, links[t.id], children[t.id]) for t in targets]


def to_out(target: Target, initiative_ids: list[uuid.UUID], children: Sequence[Target]) -> TargetOut:
    return TargetOut(
        id=target.id,
        plan_id=target.plan_id,
        parent_id=target.parent_id,
        name=target.name,
        metric=target.metric,
        unit=target.metric_definition.get("unit"),
        scope=Scope(**target.scope),
        period=target.period,
        starts_on=target.starts_on,
        ends_on=target.ends_on,
        kind=target.kind,
        target_value=target.target_value,
        growth_pct=target.growth_pct,
        baseline_value=target.baseline_value,
        direction=target.direction,
        additive=target.additive,
        department=target.department,
        weight=target.weight,
        status=target.status,
        version=target.version,
        decomposed_by=target.decomposed_by,
        initiative_ids=initiative_ids,
        children_ids=[c.id for c in children],
        tree=tree_of(target, children),
        created_at=target.created_at,
        updated_at=target.updated_at,
    )


async def read_target(session: AsyncSession, target_id: uuid.UUID) -> tuple[Target, TargetOut]:
    target = await get_target(session, target_id)
    return target, (await hydrate(session, [target]))[0]


async def list_targets(
    session: AsyncSession,
    plan_id: uuid.UUID,
    page: PageParams,
    *,
    active_in: str | None = None,
    metric: str | None = None,
    department: str | None = None,
    parent_id: uuid.UUID | None = None,
    roots_only: bool = False,
    status: str | None = None,
) -> Page[TargetOut]:
    await get_plan(session, plan_id)
    query = select(Target).where(Target.plan_id == plan_id)
    if active_in:
        window = parse_period(active_in)
        query = query.where(Target.starts_on <= window.end, Target.ends_on >= window.start)
    if metric:
        query = query.where(Target.metric == metric)
    if department:
        query = query.where(Target.department == department)
    if parent_id:
        query = query.where(Target.parent_id == parent_id)
    if roots_only:
        query = query.where(Target.parent_id.is_(None))
    if status:
        query = query.where(Target.status == status)
    after = page.cursor_values(cursor_date, cursor_uuid)
    if after is not None:
        query = query.where(tuple_(Target.starts_on, Target.id) > after)
    rows = list(
        (await session.execute(query.order_by(Target.starts_on, Target.id).limit(page.limit + 1))).scalars()
    )
    return Page(
        items=await hydrate(session, rows[: page.limit]),
        next_cursor=page.next_cursor(rows, lambda t: (t.starts_on.isoformat(), str(t.id))),
    )


_PAGE = TypeAdapter(Page[TargetOut])


async def list_targets_json(
    session: AsyncSession, plan_id: uuid.UUID, page: PageParams, **filters: Any
) -> bytes:
    """`list_targets(…, **filters)` encoded as its endpoint answers it, kept until the plan or
    its targets change (see `kept`)."""
    # The cursor is read first, so one this API did not issue is refused as before (400).
    after = page.cursor_values(cursor_date, cursor_uuid)
    kept = kept_targets()
    version = await kept.version(session)
    key = (plan_id, page.limit, after, *sorted(filters.items()))
    body = kept.page(version, key)
    if body is None:
        body = _PAGE.dump_json(await list_targets(session, plan_id, page, **filters), by_alias=True)
        kept.keep_page(version, key, body)
    return body


# ---- SMART checks -------------------------------------------------------------------------------


def resolve_period(plan: Plan, period: str | None, starts_on: date | None, ends_on: date | None) -> Period:
    if period is None and starts_on is None and ends_on is None:
        raise Problem(422, "missing_period", "A target needs a period (2025, 2025Q2, 2025-05) or dates.")
    if period is not None:
        resolved = parse_period(period)
    elif starts_on is None or ends_on is None:
        raise Problem(422, "missing_period", "Give both starts_on and ends_on, or a period.")
    else:
        resolved = Period(starts_on, ends_on)
    check_inside_plan(plan, resolved.start, resolved.end)
    return resolved


def resolve_scope(
    plan: Plan, raw: dict[str, Any] | None, definition: dict[str, Any]
) -> dict[str, str | None]:
    raw = raw or {}
    known = set(definition.get("dimensions") or [])
    scope: dict[str, str | None] = dict.fromkeys(DIMENSIONS)
    for key, value in raw.items():
        if key not in DIMENSIONS or key not in known:
            raise Problem(
                422,
                "invalid_scope",
                f"'{key}' is not a dimension of metric {definition['key']} ({', '.join(sorted(known))}).",
                dimension=key,
            )
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise Problem(422, "invalid_scope", f"Scope {key} must be a non-empty string or null.")
        scope[key] = value
    missing = [d for d in plan.required_scope if d in known and not scope.get(d)]
    if missing:
        raise Problem(
            422,
            "missing_scope",
            f"Plan {plan.code} requires every target to name its {', '.join(missing)}.",
            dimensions=missing,
        )
    return scope


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def check_range(definition: dict[str, Any], value: Decimal) -> None:
    low, high = _decimal(definition.get("value_min")), _decimal(definition.get("value_max"))
    if (low is not None and value < low) or (high is not None and value > high):
        raise Problem(
            422,
            "value_out_of_range",
            f"{value} is outside the possible range of {definition['key']} ({low} .. {high}).",
            value_min=None if low is None else str(low),
            value_max=None if high is None else str(high),
        )


def quantize_for(definition: dict[str, Any], value: Decimal) -> Decimal:
    places = natural_places(definition.get("unit")) if definition.get("additive") else 6
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def definition_snapshot(definition: dict[str, Any]) -> dict[str, Any]:
    return {name: definition.get(name) for name in DEFINITION_FIELDS}


# What a target keeps as it was committed with: its value, direction, additivity and unit (the
# snapshot above). How its metric is measured and watched is read from the catalogue as it is
# now, so an edit of the metric applies to every target on it.
LIVE_FIELDS = ("aggregation", "min_denominator", "expected_frequency_hours", "value_min", "value_max")


def current_definition(target: Target, catalogue: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The target's metric definition with the catalogue's current measuring and watching
    fields (the snapshot's when the metric is not in `catalogue`)."""
    live = catalogue.get(target.metric)
    if live is None:
        return target.metric_definition
    return {**target.metric_definition, **{name: live.get(name) for name in LIVE_FIELDS}}


async def read_baseline(
    metrics: MetricsClient, metric: str, period: Period, scope: dict[str, str | None]
) -> Decimal:
    """Last year's value of the same period and scope; no history is a refusal, never zero."""
    last_year = period.shift_years(-1)
    results = await metrics.query(
        [
            {
                "id": "baseline",
                "metric": metric,
                "start": last_year.start.isoformat(),
                "end": last_year.end.isoformat(),
                "filters": {k: v for k, v in scope.items() if v is not None},
            }
        ]
    )
    value = _decimal(results.get("baseline", {}).get("value"))
    if value is None or value == 0:
        raise Problem(
            422,
            "no_baseline_history",
            f"{metric} has no history for {last_year} in this scope, so a growth target has no baseline.",
            baseline_period=str(last_year),
        )
    return value


async def check_initiatives(session: AsyncSession, plan_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> None:
    if not ids:
        return
    found = set(
        (
            await session.execute(
                select(Initiative.id).where(Initiative.id.in_(ids), Initiative.plan_id == plan_id)
            )
        ).scalars()
    )
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise Problem(
            422, "unknown_initiative", "Initiatives must belong to the same plan.", initiatives=missing
        )


async def create_target(
    session: AsyncSession,
    principal: Principal,
    metrics: MetricsClient,
    plan_id: uuid.UUID,
    body: TargetCreate,
) -> Target:
    plan = await get_plan(session, plan_id)
    require_open_plan(plan)
    if not body.metric:
        raise Problem(422, "missing_metric", "A target must name the metric it is measured by.")
    period = resolve_period(plan, body.period, body.starts_on, body.ends_on)
    kind = body.kind or (
        "growth" if body.growth_pct is not None and body.target_value is None else "absolute"
    )
    if kind == "absolute" and body.target_value is None:
        raise Problem(422, "missing_value", "An absolute target needs target_value.")
    if kind == "growth" and body.growth_pct is None:
        raise Problem(422, "missing_value", "A growth target needs growth_pct (e.g. 30 for +30 %).")
    definition = await metrics.definition(body.metric)
    scope = resolve_scope(plan, body.scope, definition)
    await check_departments(session, [body.department])
    await check_initiatives(session, plan.id, body.initiative_ids)
    baseline: Decimal | None = None
    if kind == "growth":
        assert body.growth_pct is not None
        baseline = await read_baseline(metrics, body.metric, period, scope)
        value = quantize_for(definition, baseline * (1 + body.growth_pct / 100))
    else:
        assert body.target_value is not None
        value = body.target_value
    check_range(definition, value)
    target = Target(
        id=uuid.uuid4(),
        plan_id=plan.id,
        parent_id=None,
        name=body.name or f"{body.metric} {period}",
        metric=body.metric,
        scope_category=scope["category"],
        scope_channel=scope["channel"],
        scope_region=scope["region"],
        period=period.label,
        starts_on=period.start,
        ends_on=period.end,
        kind=kind,
        target_value=value,
        growth_pct=body.growth_pct if kind == "growth" else None,
        baseline_value=baseline,
        direction=definition.get("direction", "higher_is_better"),
        additive=bool(definition.get("additive")),
        metric_definition=definition_snapshot(definition),
        department=body.department,
        weight=body.weight,
        status="active",
        version=1,
        position=0,
    )
    session.add(target)
    await session.flush()
    await link_initiatives(session, target.id, body.initiative_ids)
    await audit.record(
        session,
        AUDIT_SCHEMA,
        principal,
        entity_type="target",
        entity_id=target.id,
        action="create",
        after=audited(target) | {"initiative_ids": body.initiative_ids},
    )
    await session.commit()
    return target


def audited(target: Target) -> dict[str, Any]:
    return snapshot(target, AUDITED)


async def link_initiatives(session: AsyncSession, target_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> None:
    await session.execute(delete(target_initiatives).where(target_initiatives.c.target_id == target_id))
    if ids:
        await session.execute(
            insert(target_initiatives),
            [{"target_id": target_id, "initiative_id": i} for i in dict.fromkeys(ids)],
        )


async def current_initiatives(session: AsyncSession, target_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await session.execute(
        select(target_initiatives.c.initiative_id)
        .where(target_initiatives.c.target_id == target_id)
        .order_by(target_initiatives.c.initiative_id)
    )
    return list(rows.scalars())


# ---- changing -----------------------------------------------------------------------------------


async def update_target(
    session: AsyncSession,
    principal: Principal,
    target_id: uuid.UUID,
    body: TargetUpdate,
    if_match: int | None,
    metrics: MetricsClient,
) -> Target:
    target = await get_target(session, target_id, for_update=True)
    check_version(if_match, target.version)
    plan = await get_plan(session, target.plan_id)
    require_open_plan(plan)
    before = audited(target) | {"initiative_ids": await current_initiatives(session, target.id)}
    changes = body.model_dump(exclude_unset=True)
    definition = target.metric_definition
    if changes.get("target_value") is not None or changes.get("growth_pct") is not None:
        # A new value is checked against the metric's possible range as it is now.
        definition = current_definition(target, {target.metric: await metrics.definition(target.metric)})
    if "target_value" in changes and changes["target_value"] is not None:
        if target.kind == "growth":
            raise Problem(
                422, "value_is_derived", "A growth target's value follows from growth_pct; change that."
            )
        check_range(definition, changes["target_value"])
        target.target_value = changes["target_value"]
    if "growth_pct" in changes and changes["growth_pct"] is not None:
        if target.kind != "growth" or target.baseline_value is None:
            raise Problem(422, "value_is_derived", "Only a growth target has a growth_pct.")
        value = quantize_for(definition, target.baseline_value * (1 + changes["growth_pct"] / 100))
        check_range(definition, value)
        target.growth_pct, target.target_value = changes["growth_pct"], value
    if "department" in changes:
        await check_departments(session, [changes["department"]])
        target.department = changes["department"]
    for name in ("name", "weight", "status"):
        if changes.get(name) is not None:
            setattr(target, name, changes[name])
    after_links = before["initiative_ids"]
    if body.initiative_ids is not None:
        await check_initiatives(session, plan.id, body.initiative_ids)
        await link_initiatives(session, target.id, body.initiative_ids)
        after_links = sorted(dict.fromkeys(body.initiative_ids))
    after = audited(target) | {"initiative_ids": after_links}
    if after != before:
        await audit.record_update(
            session, AUDIT_SCHEMA, principal, target, entity_type="target", before=before, after=after
        )
    await session.commit()
    return target


async def delete_target(
    session: AsyncSession, principal: Principal, target_id: uuid.UUID, if_match: int | None
) -> None:
    """Deletes the target and its whole decomposition subtree."""
    target = await get_target(session, target_id, for_update=True)
    check_version(if_match, target.version, required=False)
    plan = await get_plan(session, target.plan_id)
    require_open_plan(plan)
    doomed = [target]
    frontier = [target.id]
    while frontier:
        rows = list((await session.execute(select(Target).where(Target.parent_id.in_(frontier)))).scalars())
        doomed.extend(rows)
        frontier = [r.id for r in rows]
    for row in doomed:
        await audit.record(
            session,
            AUDIT_SCHEMA,
            principal,
            entity_type="target",
            entity_id=row.id,
            action="delete",
            before=audited(row),
        )
    await unlink_targets(session, principal, plan.id, [row.id for row in doomed])
    await session.delete(target)
    await session.commit()

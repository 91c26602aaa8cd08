"""Decomposing a target into quarters, months or dimension values (the split arithmetic itself
is the pure `shared.decomposition`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.targets.deps import AUDIT_SCHEMA, get_plan, require_open_plan
from services.targets.metrics_client import MetricsClient
from services.targets.plans.models import utcnow
from services.targets.targets.models import Target
from services.targets.targets.schemas import DecomposeOut, DecomposeRequest
from services.targets.targets.service import audited, get_target, hydrate
from shared import audit
from shared.auth import Principal
from shared.decomposition import (
    WeightsError,
    even_weights,
    natural_places,
    shares_from_history,
    split_exactly,
    weights_for,
)
from shared.errors import Problem
from shared.periods import Period, split


@dataclass(frozen=True)
class ChildSpec:
    label: str
    period: Period
    scope: dict[str, str | None]


def child_specs(parent: Target, body: DecomposeRequest) -> list[ChildSpec]:
    period = Period(parent.starts_on, parent.ends_on, parent.period)
    if body.by in ("quarter", "month"):
        parts = split(period, body.by)
        if len(parts) < 2:
            raise Problem(
                422, "invalid_decomposition", f"Period {period} is a single {body.by}; nothing to split."
            )
        return [ChildSpec(p.label or f"{p.start}..{p.end}", p, parent.scope) for p in parts]
    dimension = body.by
    values = body.values or []
    if not values:
        raise Problem(422, "missing_values", f"Name the {dimension} values to decompose into.")
    if len(set(values)) != len(values) or any(not v.strip() for v in values):
        raise Problem(422, "invalid_decomposition", "Dimension values must be distinct and non-empty.")
    if dimension not in (parent.metric_definition.get("dimensions") or []):
        raise Problem(422, "invalid_scope", f"'{dimension}' is not a dimension of metric {parent.metric}.")
    if parent.scope.get(dimension):
        raise Problem(
            422, "invalid_scope", f"The target is already scoped to {dimension} {parent.scope[dimension]}."
        )
    return [ChildSpec(v, period, parent.scope | {dimension: v}) for v in values]


async def seasonal_weights(
    metrics: MetricsClient, parent: Target, body: DecomposeRequest, specs: list[ChildSpec]
) -> list[Decimal]:
    """Last year's actual share of each child, read in ONE query (bucketed or grouped)."""
    last_year = Period(parent.starts_on, parent.ends_on).shift_years(-1)
    query: dict[str, Any] = {
        "id": "seasonal",
        "metric": parent.metric,
        "start": last_year.start.isoformat(),
        "end": last_year.end.isoformat(),
        "filters": dict(parent.filters),
    }
    if body.by in ("quarter", "month"):
        query["bucket"] = body.by
    else:
        query["group_by"] = [body.by]
        query["filters"][body.by] = [s.label for s in specs]
    result = (await metrics.query([query])).get("seasonal", {})
    history: list[Decimal | None]
    if body.by in ("quarter", "month"):
        by_start = {str(b["start"]): b.get("value") for b in result.get("series") or []}
        history = [_dec(by_start.get(s.period.shift_years(-1).start.isoformat())) for s in specs]
    else:
        by_value = {
            str((g.get("key") or {}).get(body.by)): g.get("value") for g in result.get("groups") or []
        }
        history = [_dec(by_value.get(s.label)) for s in specs]
    try:
        return shares_from_history(history)
    except WeightsError as exc:
        raise Problem(
            422,
            "no_seasonal_history",
            f"{parent.metric} has no history in {last_year} for this scope to take seasonal shares from.",
        ) from exc


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


async def decompose(
    session: AsyncSession,
    principal: Principal,
    metrics: MetricsClient,
    target_id: uuid.UUID,
    body: DecomposeRequest,
) -> DecomposeOut:
    parent = await get_target(session, target_id, for_update=True)
    plan = await get_plan(session, parent.plan_id)
    require_open_plan(plan)
    has_children = (
        await session.execute(select(func.count()).where(Target.parent_id == parent.id))
    ).scalar_one()
    if has_children:
        raise Problem(
            409, "already_decomposed", "This target already has children; delete them to decompose again."
        )
    specs = child_specs(parent, body)
    labels = [s.label for s in specs]
    try:
        if body.weights == "seasonal":
            weights = (
                await seasonal_weights(metrics, parent, body, specs)
                if parent.additive
                else even_weights(len(specs))
            )
        elif body.weights == "even":
            weights = even_weights(len(specs))
        else:
            assert isinstance(body.weights, dict)
            weights = weights_for(labels, body.weights)
        if parent.additive:
            places = natural_places(parent.metric_definition.get("unit"))
            values = split_exactly(parent.target_value, weights, places)
        else:
            split_exactly(Decimal(1), weights, 0)  # validates the weights
            values = [parent.target_value] * len(specs)  # a rate is not split: children inherit it
    except WeightsError as exc:
        raise Problem(422, "invalid_weights", str(exc)) from exc

    weight_sum = sum(weights, Decimal(0))
    children: list[Target] = []
    for position, (spec, value) in enumerate(zip(specs, values, strict=True)):
        child = Target(
            id=uuid.uuid4(),
            plan_id=parent.plan_id,
            parent_id=parent.id,
            name=f"{parent.name} · {spec.label}",
            metric=parent.metric,
            scope_category=spec.scope.get("category"),
            scope_channel=spec.scope.get("channel"),
            scope_region=spec.scope.get("region"),
            period=spec.period.label,
            starts_on=spec.period.start,
            ends_on=spec.period.end,
            kind="absolute",
            target_value=value,
            growth_pct=None,
            baseline_value=None,
            direction=parent.direction,
            additive=parent.additive,
            metric_definition=parent.metric_definition,
            department=parent.department,
            weight=parent.weight,
            status="active",
            version=1,
            position=position,
        )
        session.add(child)
        children.append(child)
    parent.decomposed_by = body.by
    parent.version += 1
    parent.updated_at = utcnow()
    await session.flush()
    for child in children:
        await audit.record(
            session,
            AUDIT_SCHEMA,
            principal,
            entity_type="target",
            entity_id=child.id,
            action="create",
            after=audited(child),
        )
    await audit.record(
        session,
        AUDIT_SCHEMA,
        principal,
        entity_type="target",
        entity_id=parent.id,
        action="decompose",
        before={"children": []},
        after={"by": body.by, "children": [str(c.id) for c in children]},
    )
    await session.commit()
    hydrated = await hydrate(session, [parent, *children])
    return DecomposeOut(
        parent=hydrated[0],
        children=hydrated[1:],
        weights={
            label: (w / weight_sum).quantize(Decimal("0.000001"))
            for label, w in zip(labels, weights, strict=True)
        },
    )

"""The root types and the schema factory (the schema's limits depend on the settings)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.types.base_scalars import DecimalDefinition
from strawberry.types import ExecutionContext

from services.gateway.context import GatewayContext, GatewayInfo
from services.gateway.execution import LeafFastExecutionContext
from services.gateway.lookahead import below, canonical_id, date_argument, selected, started
from services.gateway.mutations import Mutation
from services.gateway.resolvers import lean_resolvers
from services.gateway.security import limit_extensions
from services.gateway.types.audit import AuditConnection, AuditEntry, EntityRef
from services.gateway.types.metrics import MetricDefinition
from services.gateway.types.plans import Plan, PlanConnection
from services.gateway.types.reviews import Review
from shared.numbers import plain
from shared.settings import Settings


@strawberry.type
class Query:
    @strawberry.field(description="Plans the caller may see, a page at a time (optionally by code).")
    async def plans(
        self, info: GatewayInfo, first: int | None = None, after: str | None = None, code: str | None = None
    ) -> PlanConnection | None:
        page = await info.context.upstream.get("targets", "/v1/plans", limit=first, cursor=after, code=code)
        plans = [Plan.from_json(raw) for raw in page.get("items", [])]
        return PlanConnection(items=plans, next_cursor=page.get("next_cursor"))

    @strawberry.field(description="One plan; null (with a PLAN_NOT_FOUND error) when it does not exist.")
    async def plan(self, info: GatewayInfo, id: strawberry.ID) -> Plan | None:
        loaders = info.context.loaders
        plan_id = canonical_id(id)  # as the service spells it, which `Plan.targets` will ask for
        for targets in selected(info, "targets"):
            # The plan's targets, and their progress, are read alongside the plan, not after it.
            active_in = targets.arguments.get("activeIn")
            started(loaders.plan_targets.load((plan_id, active_in)))
            if targets.arguments.get("topLevelOnly"):
                continue  # the plan-wide call would compute every child's progress too
            for progress in below(targets, "progress"):
                as_of = date_argument(progress.arguments.get("asOf")) or info.context.today()
                started(loaders.progress_of_plan(plan_id, active_in, as_of))
        return Plan.from_json(await info.context.loaders.plan.load(str(id)))

    @strawberry.field(description="One retrospective.")
    async def review(self, info: GatewayInfo, id: strawberry.ID) -> Review | None:
        return Review.from_json(await info.context.loaders.review.load(str(id)))

    @strawberry.field(description="The metric catalogue.")
    async def metric_definitions(self, info: GatewayInfo) -> list[MetricDefinition] | None:
        return [MetricDefinition.from_json(raw) for raw in await info.context.loaders.catalogue()]

    @strawberry.field(description="Who changed an entity, when and how, in the owning service's order.")
    async def audit_trail(
        self, info: GatewayInfo, entity: EntityRef, first: int | None = None, after: str | None = None
    ) -> AuditConnection | None:
        page = await info.context.upstream.get(
            entity.type.service,
            "/v1/audit",
            entity_type=entity.type.value,
            entity_id=str(entity.id),
            limit=first,
            cursor=after,
        )
        return AuditConnection(
            items=[AuditEntry.from_json(raw) for raw in page.get("items", [])],
            next_cursor=page.get("next_cursor"),
        )


class UpstreamCalls(SchemaExtension):
    """Reports, in `extensions.upstreamCalls`, how many calls the request sent to each service."""

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        if isinstance(context, GatewayContext):
            return {"upstreamCalls": context.upstream.counts()}
        return {}


class GatewaySchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Expected failures (a service's problem, a refused document) are the client's to read,
        not the log's; the rest is logged once, with its trace, by `errors.public_errors`."""
        return None


def plain_decimal(value: Decimal | int | str) -> str:
    """A Decimal as the services write it (`shared.numbers.plain`: "0.0000001", "1.50",
    "400000"), never in exponent notation as `str` would ("1E-7")."""
    return plain(value if isinstance(value, Decimal) else Decimal(str(value)))


# Strawberry's Decimal scalar (same name and description), serialized in plain digits.
DECIMAL = dataclasses.replace(DecimalDefinition, serialize=plain_decimal)


def build_schema(settings: Settings) -> strawberry.Schema:
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [*limit_extensions(settings)]
    if not settings.production:
        extensions.append(UpstreamCalls)
    schema = GatewaySchema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        execution_context_class=LeafFastExecutionContext,
        scalar_overrides={Decimal: DECIMAL},
        config=StrawberryConfig(disable_field_suggestions=settings.production),
    )
    lean_resolvers(schema)
    return schema


def sdl() -> str:
    """The schema's SDL, as committed in schema.graphql."""
    return GatewaySchema(query=Query, mutation=Mutation, scalar_overrides={Decimal: DECIMAL}).as_str() + "\n"

"""The GraphQL gateway (skeleton: replaced by the gateway work). Owns no data; calls the services."""

from __future__ import annotations

from typing import Any

import strawberry
from fastapi import FastAPI, Request
from strawberry.fastapi import BaseContext, GraphQLRouter
from strawberry.types import Info

from shared.api import create_service_app
from shared.auth import bearer_token
from shared.http import ServiceClient
from shared.settings import get_settings


class Context(BaseContext):
    def __init__(self, clients: dict[str, ServiceClient], authorization: str | None) -> None:
        super().__init__()
        self.clients = clients
        self.authorization = authorization


@strawberry.type
class Plan:
    id: strawberry.ID
    code: str
    name: str


@strawberry.type
class Query:
    @strawberry.field(description="Plans the caller may see.")
    async def plans(self, info: Info[Context, None]) -> list[Plan]:
        ctx = info.context
        page = await ctx.clients["targets"].get_json("/v1/plans", authorization=ctx.authorization)
        return [Plan(id=p["id"], code=p["code"], name=p["name"]) for p in page["items"]]


schema = strawberry.Schema(query=Query)


def create_app() -> FastAPI:
    settings = get_settings()
    clients: dict[str, ServiceClient] = {}

    async def startup(app: FastAPI) -> None:
        for name, url in (
            ("targets", settings.targets_url),
            ("metrics", settings.metrics_url),
            ("reviews", settings.reviews_url),
        ):
            clients[name] = ServiceClient(
                name, url, timeout=settings.http_timeout_seconds, retries=settings.http_retries
            )

    async def shutdown(app: FastAPI) -> None:
        for client in clients.values():
            await client.aclose()

    async def context_getter(request: Request) -> Context:
        token = bearer_token(request)
        return Context(clients, f"Bearer {token}" if token else None)

    graphql: GraphQLRouter[Any, None] = GraphQLRouter(schema, context_getter=context_getter)
    app = create_service_app(
        "gateway",
        [],
        description="GraphQL over the targets, metrics and reviews services.",
        settings=settings,
        on_startup=startup,
        on_shutdown=shutdown,
        with_database=False,
    )
    app.include_router(graphql, prefix="/graphql")
    return app

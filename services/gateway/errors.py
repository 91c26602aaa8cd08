"""How failures reach a GraphQL client: always as `errors[]` with `extensions.code`, never a trace.

- A service's problem+json (re-raised by the HTTP client as `Problem`) becomes an error whose
  `extensions.code` is the problem's code in the GraphQL convention (upper case:
  `plan_not_found` → `PLAN_NOT_FOUND`), with `problemCode` (verbatim), `status` and `service`.
- An unreachable service becomes `SERVICE_UNAVAILABLE` naming the service; the other fields of
  the answer still resolve.
- Invalid documents (syntax, unknown fields, depth/alias/token limits, fragment cycles) carry
  `GRAPHQL_PARSE_FAILED` or `GRAPHQL_VALIDATION_FAILED`.
- Anything unexpected is logged with its trace and answered as `INTERNAL_ERROR`.
- Requests refused before GraphQL runs (no credentials, wrong content type, batches, GET
  operations) get a GraphQL-shaped body with the matching HTTP status and no `data`.
"""

from __future__ import annotations

from typing import Any

import orjson
import structlog
from fastapi import Request
from fastapi.responses import JSONResponse
from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from shared.errors import Problem

log = structlog.get_logger("pacer.gateway")

# Problem fields that describe the HTTP exchange, not the error; they stay out of extensions.
_HIDDEN_PROBLEM_FIELDS = {"instance", "request_id", "type", "title"}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def graphql_code(code: str) -> str:
    return code.upper()


def problem_extensions(problem: Problem) -> dict[str, Any]:
    extensions: dict[str, Any] = {
        "code": graphql_code(problem.code),
        "problemCode": problem.code,
        "status": problem.status,
    }
    for key, value in problem.extra.items():
        if key not in _HIDDEN_PROBLEM_FIELDS:
            extensions[camel(key)] = value
    return extensions


def _public_error(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if isinstance(original, Problem):
        return GraphQLError(
            original.detail or original.title,
            nodes=error.nodes,
            path=error.path,
            extensions=problem_extensions(original),
        )
    if original is None or isinstance(original, GraphQLError):
        extensions = dict(error.extensions or {})
        if "code" not in extensions:
            if isinstance(error, GraphQLSyntaxError) or isinstance(original, GraphQLSyntaxError):
                extensions["code"] = "GRAPHQL_PARSE_FAILED"
            elif error.path is None:
                extensions["code"] = "GRAPHQL_VALIDATION_FAILED"
            else:
                extensions["code"] = "BAD_REQUEST"
        return GraphQLError(error.message, nodes=error.nodes, path=error.path, extensions=extensions)
    log.error("resolver_failed", path=error.path, exc_info=original)
    return GraphQLError(
        "Something went wrong on our side. Quote the request id when reporting it.",
        nodes=error.nodes,
        path=error.path,
        extensions={"code": "INTERNAL_ERROR"},
    )


def public_errors(errors: list[GraphQLError]) -> list[GraphQLError]:
    return [_public_error(error) for error in errors]


class GatewayRouter(GraphQLRouter[Any, None]):
    """The GraphQL route; every error of every result leaves through `public_errors` — including
    those raised while parsing or validating, before any schema extension could see them."""

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        if result.errors:
            result.errors = public_errors(result.errors)
        return await super().process_result(request, result)

    def encode_json(self, data: object) -> str | bytes:
        # A 200-target dashboard is a quarter of a megabyte of JSON: orjson encodes it several
        # times faster than the standard library. What orjson refuses (an integer past 64
        # bits inside a JSON value) the standard library still writes.
        try:
            return orjson.dumps(data)
        except TypeError:
            return super().encode_json(data)


class GatewayRefusal(Exception):
    """A request refused before any GraphQL runs: answered with a status and no `data`."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    @classmethod
    def from_problem(cls, problem: Problem) -> GatewayRefusal:
        return cls(
            problem.status, graphql_code(problem.code), problem.detail or problem.title, problem.headers
        )


async def refusal_response(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GatewayRefusal)
    return JSONResponse(
        {"errors": [{"message": exc.message, "extensions": {"code": exc.code, "status": exc.status}}]},
        status_code=exc.status,
        headers=exc.headers,
    )

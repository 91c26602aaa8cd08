"""What the gateway refuses before and while parsing a GraphQL request.

Before GraphQL runs (`check_request`):
- operations over GET (so no mutation can ride on a link or an <img>): 405;
- a POST whose content type is not `application/json` (the CSRF-safe rule: browsers send
  `text/plain`, `application/x-www-form-urlencoded` and `multipart/form-data` cross-site
  without a preflight): 415;
- a JSON array of operations (batched queries multiply the cost of one request): 400;
- no credentials: 401 `UNAUTHORIZED`; a JWT that does not verify: 401 with its code. API keys
  are passed on untouched; the services decide what any caller may do.

While parsing and validating (`limit_extensions`): depth, alias and token limits from the
settings, and in production no introspection (field suggestions are off in the schema config).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

from cachetools import LRUCache
from fastapi import Request
from graphql import DocumentNode, GraphQLError, parse
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule, ValidationContext
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.schema import validate_document

from services.gateway.errors import GatewayRefusal
from shared.auth import API_KEY_PREFIX, bearer_token, principal_from_jwt
from shared.errors import Problem
from shared.settings import Settings

ACCEPTED_CONTENT_TYPE = "application/json"


# Documents whose parse and validation are remembered (a dashboard sends the same one again):
# the last 256, each at most 64 kB of query text (a remembered document holds about twice its
# text; longer ones, which no frontend sends, are parsed and validated every time).
REMEMBERED_DOCUMENTS = 256
REMEMBERED_QUERY_CHARACTERS = 64 * 1024


def limit_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """Factories, not instances: every request gets fresh extension objects.

    The limits' validation rules are made once, here, so every request validates with the same
    rules and a query validated before is answered from memory (`RememberedValidation`: keyed
    by the schema, the query text and the rules). Parsing is remembered by query text and the
    token limit (`RememberedParse`), so a document over the limit is refused however often it
    is sent.
    """
    rules: list[type[ASTValidationRule]] = [
        *(
            _tolerant(rule)
            for rule in QueryDepthLimiter(max_depth=settings.graphql_max_depth).validation_rules
        ),
        *MaxAliasesLimiter(max_alias_count=settings.graphql_max_aliases).validation_rules,
    ]
    if settings.production:
        rules.append(NoSchemaIntrospectionCustomRule)
    return [
        lambda: AddValidationRules(list(rules)),
        lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
        RememberedParse,
        RememberedValidation,
    ]


class RememberedParse(SchemaExtension):
    """The parsed document of a query text seen before (with the same token limit); a text
    over `REMEMBERED_QUERY_CHARACTERS` is parsed afresh. A document that fails to parse is
    never remembered: it fails again."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query
        if query is not None and len(query) <= REMEMBERED_QUERY_CHARACTERS:
            key = (query, tuple(sorted(context.parse_options.items())))
            document = _parsed.get(key)
            if document is None:
                document = _parsed[key] = parse(query, **context.parse_options)
            context.graphql_document = document
        yield


class RememberedValidation(SchemaExtension):
    """The validation errors of a query text validated before against the same schema and
    rules. Keyed by the text, not the document: two texts with equal documents still report
    their own error locations."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query
        document = context.graphql_document
        if query is not None and document is not None and len(query) <= REMEMBERED_QUERY_CHARACTERS:
            rules = tuple(context.validation_rules)
            key = (context.schema._schema, query, rules)
            errors = _validated.get(key)
            if errors is None:
                errors = _validated[key] = validate_document(context.schema._schema, document, rules)
            context.pre_execution_errors = errors
        yield


_parsed: LRUCache[tuple[Any, ...], DocumentNode] = LRUCache(maxsize=REMEMBERED_DOCUMENTS)
_validated: LRUCache[tuple[Any, ...], list[GraphQLError]] = LRUCache(maxsize=REMEMBERED_DOCUMENTS)


def _tolerant(rule: type[ASTValidationRule]) -> type[ASTValidationRule]:
    """Strawberry's depth rule, tolerant of a spread of an unknown fragment: that one is
    graphql-core's KnownFragmentNames rule to report, not a crash inside the depth count."""

    class Tolerant(ASTValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            with contextlib.suppress(KeyError):
                rule(context)

    return Tolerant


async def check_request(request: Request, settings: Settings) -> str | None:
    """Refuses what must not reach GraphQL; returns the Authorization header to forward."""
    if request.method == "GET":
        if "query" in request.query_params:
            raise GatewayRefusal(
                405,
                "METHOD_NOT_ALLOWED",
                "Send GraphQL operations with POST and Content-Type: application/json.",
                headers={"Allow": "POST"},
            )
        return None  # the GraphQL IDE page (development only), or a 404
    if request.method != "POST":
        return None
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != ACCEPTED_CONTENT_TYPE:
        raise GatewayRefusal(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            "GraphQL requests must be sent as application/json.",
        )
    _check_body(await request.body())
    return _authorization(request, settings)


def _check_body(body: bytes) -> None:
    """One operation as a JSON object: `query` a string, `variables` an object, `operationName`
    a string (the last two optional) — refused in the GraphQL shape otherwise."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        raise GatewayRefusal(400, "BAD_REQUEST", "The request body is not valid JSON.") from None
    if isinstance(payload, list):
        raise GatewayRefusal(400, "BATCH_NOT_ALLOWED", "Send one operation per request, not a JSON array.")
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        raise GatewayRefusal(400, "BAD_REQUEST", 'The body must be a JSON object with a "query" string.')
    if payload.get("variables") is not None and not isinstance(payload["variables"], dict):
        raise GatewayRefusal(400, "BAD_REQUEST", '"variables" must be a JSON object.')
    if payload.get("operationName") is not None and not isinstance(payload["operationName"], str):
        raise GatewayRefusal(400, "BAD_REQUEST", '"operationName" must be a string.')


def _authorization(request: Request, settings: Settings) -> str:
    token = bearer_token(request)
    if token is None:
        raise GatewayRefusal(
            401,
            "UNAUTHORIZED",
            "A bearer token or API key is required.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not token.startswith(API_KEY_PREFIX):
        # A fast local answer for a bad or expired JWT; authorization stays with the services.
        try:
            principal_from_jwt(settings, token)
        except Problem as problem:
            raise GatewayRefusal.from_problem(problem) from problem
    return f"Bearer {token}"

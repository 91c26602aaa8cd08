"""Plain resolvers called without the steps they do not need.

Strawberry calls every resolver through a chain built for the general case: field extensions
(permission classes among them), exception handlers, input types made from their arguments. A
dashboard calls the per-target resolvers (`metric`, `progress`, `series`, `children`) a thousand
times, and that chain is about a tenth of the gateway's CPU per dashboard. For a field that
needs none of it — a synchronous resolver with no field extension, no exception handler of the
schema, arguments of scalar and enum types only, and no `root` or `parent` parameter — the
chain comes down to what it does for such a field: convert the arguments, build the `Info`, and
call the function with the source as `self` when it takes one. Those fields get that as their
GraphQL resolver; every other field keeps Strawberry's. GraphQL's execution around the call
(arguments read from the document, errors located at their path, values completed) is the same
for both.

This mirrors what Strawberry's chain does for such a field in the pinned version: upgrading
Strawberry means reading `schema_converter.from_resolver` again and running
`tests/gateway/test_lean_resolvers.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLScalarType,
)
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField
from strawberry.types.fields.resolver import StrawberryResolver


def _of_leaf_type(graphql_type: GraphQLInputType) -> bool:
    while isinstance(graphql_type, GraphQLNonNull | GraphQLList):
        graphql_type = graphql_type.of_type
    return isinstance(graphql_type, GraphQLScalarType | GraphQLEnumType)


def _plain(field_def: GraphQLField) -> StrawberryField | None:
    """The field's definition when its resolver needs nothing of Strawberry's chain."""
    definition = field_def.extensions.get("strawberry-definition")
    # Exactly Strawberry's classes: a subclass may do more in `get_result` or `__call__`.
    if type(definition) is not StrawberryField:
        return None
    resolver = definition.base_resolver
    if (
        type(resolver) is not StrawberryResolver
        or not callable(resolver.wrapped_func)
        or definition.is_async
        or definition.extensions
        or resolver.root_parameter is not None
        or resolver.parent_parameter is not None
        or not all(_of_leaf_type(argument.type) for argument in field_def.args.values())
    ):
        return None
    return definition


def lean_resolvers(schema: strawberry.Schema) -> int:
    """Gives the plain resolver fields of `schema` their lean resolver; returns how many.

    A schema with exception handlers keeps Strawberry's chain everywhere (the handlers live in it).
    """
    if getattr(schema, "exception_handlers", None) != ():
        return 0
    count = 0
    for graphql_type in schema._schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        for field_def in graphql_type.fields.values():
            definition = _plain(field_def)
            if definition is not None:
                field_def.resolve = _lean(schema, definition)
                count += 1
    return count


def _lean(schema: strawberry.Schema, field: StrawberryField) -> Callable[..., Any]:
    resolver = field.base_resolver
    assert resolver is not None
    function = cast(Callable[..., Any], resolver.wrapped_func)  # callable: see `_plain`
    takes_self = resolver.self_parameter is not None
    info_name = resolver.info_parameter.name if resolver.info_parameter is not None else None
    info_class = schema.config.info_class
    arguments = field.arguments
    registry = schema.schema_converter.scalar_registry
    config = schema.config

    def resolve(source: Any, info: GraphQLResolveInfo, **kwargs: Any) -> Any:
        values = (
            convert_arguments(kwargs, arguments, scalar_registry=registry, config=config) if kwargs else {}
        )
        if info_name is not None:
            values[info_name] = info_class(_raw_info=info, _field=field)
        return function(source, **values) if takes_self else function(**values)

    return resolve

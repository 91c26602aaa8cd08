"""GraphQL execution with a short path for plain leaf fields.

A dashboard answer is mostly leaves read straight off an object (a progress's `actual`, a
series point's `start`): about 13,000 of them for 200 targets. graphql-core resolves each the
general way — resolve info, argument coercion, value completion — which is most of the
gateway's CPU per dashboard. A field that has no resolver of its own and no field extension
(permission classes included: Strawberry gives such a field its plain attribute resolver),
takes no arguments and returns a scalar or an enum is read here with that resolver and coerced
with its type, as the general path would.

Anything unusual goes the general way, so errors keep their exact message, path and null
propagation: a null for a non-null field, a value the type cannot coerce, an exception or an
awaitable returned as a value, field middleware. The answers of both paths are equal: a
hypothesis test compares them on random selections over random values, every way a leaf can
fail, and fields with permission classes and extensions; the dashboards of the gateway's tests
run on the short path.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
)
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

# (its resolver, called without resolve info; its leaf type; whether null is refused) of a
# plain leaf field, or None.
LeafPlan = tuple[Callable[..., Any], GraphQLLeafType, bool] | None

_plans: weakref.WeakKeyDictionary[GraphQLSchema, dict[tuple[str, str], LeafPlan]] = (
    weakref.WeakKeyDictionary()
)


def _leaf_plan(field_def: GraphQLField | None) -> LeafPlan:
    if field_def is None or field_def.args:
        return None
    resolve = field_def.resolve
    definition = field_def.extensions.get("strawberry-definition")
    # Strawberry's resolver of a basic field (no resolver, no field extensions such as
    # permission classes, no exception handlers) reads the attribute and nothing else; its full
    # resolver is marked `_is_default` too, so the name decides.
    if (
        resolve is None
        or getattr(resolve, "__name__", "") != "_get_basic_result"
        or not getattr(definition, "is_basic_field", False)
    ):
        return None
    field_type = field_def.type
    non_null = isinstance(field_type, GraphQLNonNull)
    leaf = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    if not isinstance(leaf, GraphQLScalarType | GraphQLEnumType):
        return None
    return resolve, leaf, non_null


class LeafFastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, with plain leaf fields read on a short path."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        plans = _plans.get(self.schema)
        if plans is None:
            plans = _plans[self.schema] = {}
        self._leaf_plans = plans
        # Strawberry always passes a manager; it wraps resolvers only when it holds middleware.
        manager = self.middleware_manager
        self._short_path = manager is None or not manager.middlewares

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Path,
        position_context: Any,
    ) -> Any:
        node = field_details_list[0].node
        plan = self._plan(parent_type, node.name.value)
        if plan is not None and self._short_path and not node.arguments:
            resolve, leaf, non_null = plan
            try:
                value = resolve(source, None)
            except Exception:
                value = Undefined  # the general path raises it again, as a located error
            if value is None:
                if not non_null:
                    return None
            elif value is not Undefined and not isinstance(value, Exception) and not self.is_awaitable(value):
                try:
                    coerced = leaf.coerce_output_value(value)
                except Exception:
                    coerced = None
                if coerced is not None and coerced is not Undefined:
                    return coerced
        return super().execute_field(parent_type, source, field_details_list, path, position_context)

    def _plan(self, parent_type: GraphQLObjectType, field_name: str) -> LeafPlan:
        key = (parent_type.name, field_name)
        try:
            return self._leaf_plans[key]
        except KeyError:
            plan = self._leaf_plans[key] = _leaf_plan(parent_type.fields.get(field_name))
            return plan

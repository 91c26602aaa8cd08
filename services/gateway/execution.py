"""GraphQL execution with a short path for plain leaf fields.

A dashboard answer is mostly leaves read straight off an object (a progress's `actual`, a
series point's `start`): about 13,000 of them for 200 targets. graphql-core resolves each the
general way — resolve info, argument coercion, value completion — which is most of the
gateway's CPU per dashboard. A field that has no resolver of its own and no field extension
(permission classes included: Strawberry gives such a field its plain attribute resolver),
takes no arguments and returns a scalar or an enum is read here as that resolver reads it (the
attribute itself, when the schema's default resolver is Strawberry's `getattr`) and coerced
with its type, as the general path would — inside the loop over an object's fields, with no
path or call of its own. A list of objects whose selected fields are all such leaves (a
series' points) is completed in one loop.

Anything unusual goes the general way, so errors keep their exact message, path and null
propagation: a null for a non-null field, a value the type cannot coerce, an exception or an
awaitable returned as a value, field middleware, a null or failing item of such a list (the
whole list then goes the general way), a list under or holding a deferred fragment. The
answers of both paths are equal: a hypothesis test compares them on random selections over
random values, every way a leaf can fail, and fields with permission classes and extensions;
the dashboards of the gateway's tests run on the short path.
"""

from __future__ import annotations

import functools
import operator
import weakref
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
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
from graphql.pyutils import Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

# (its reader, called with the source alone; its leaf type; whether null is refused) of a plain
# leaf field, or None.
LeafPlan = tuple[Callable[[Any], Any], GraphQLLeafType, bool] | None

# Values of these exact types are never awaitable: no need to ask (Strawberry's own quick test
# knows the builtins, not decimals and dates).
_NEVER_AWAITABLE = frozenset({str, int, float, bool, Decimal, date, datetime})

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
    # That resolver calls the field's default resolver with the attribute's name: Strawberry's
    # default, `getattr`, is read here without the calls around it. (Strawberry sets the default
    # resolver on the field when a schema is built, and plans are made once per schema: two
    # schemas with different default resolvers must not share types. The gateway has one.)
    if (
        isinstance(definition, StrawberryField)
        and definition.base_resolver is None
        and definition.default_resolver is getattr
    ):
        return operator.attrgetter(definition.python_name), leaf, non_null
    return functools.partial(_resolve_without_info, resolve), leaf, non_null


def _resolve_without_info(resolve: Callable[..., Any], source: Any) -> Any:
    return resolve(source, None)


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
        self._field_sets: dict[int, tuple[Any, list[Any]]] = {}

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        """graphql-core's `execute_fields`, with plain leaves read in the loop itself (no path
        and no call per leaf); every other field, and a leaf that needs the general path, goes
        to `execute_field` as there."""
        if not self._short_path:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        general = super().execute_field
        try:
            for response_name, field_details_list, plan in self._fields(parent_type, grouped_field_set):
                if plan is not None:
                    value = self._read_leaf(plan, source_value)
                    if value is not Undefined:
                        results[response_name] = value
                        continue
                field_path = Path(path, response_name, parent_type.name)
                result = general(parent_type, source_value, field_details_list, field_path, position_context)
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                field = awaitable_fields[0]
                results[field] = await results[field]
            else:
                awaited = await gather_with_cancel(*(results[field] for field in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

    def complete_iterable_value(
        self,
        item_type: Any,
        field_details_list: Any,
        info: Any,
        path: Path,
        items: Any,
        position_context: Any,
    ) -> Any:
        """A list of objects whose selected fields are all plain leaves (a series' points) is
        completed in one loop; any other list, or an item the loop cannot answer alike, the
        general way (the whole list again: reading plain leaves has no effects)."""
        # Under a deferred fragment (a position context) the general path splits the fields.
        flat = (
            None
            if position_context is not None
            else self._plain_objects(item_type, field_details_list, path, items)
        )
        if flat is not None:
            return flat
        return super().complete_iterable_value(
            item_type, field_details_list, info, path, items, position_context
        )

    def _plain_objects(self, item_type: Any, field_details_list: Any, path: Path, items: Any) -> Any:
        non_null = isinstance(item_type, GraphQLNonNull)
        object_type = item_type.of_type if non_null else item_type
        if (
            not self._short_path
            or type(items) not in (list, tuple)
            or not isinstance(object_type, GraphQLObjectType)
            or object_type.is_type_of is not None
            or self.get_stream_usage(field_details_list, path) is not None
        ):
            return None
        grouped_field_set, new_defer_usages, *_ = self.collect_subfields(object_type, field_details_list)
        if new_defer_usages:
            return None
        fields = self._fields(object_type, grouped_field_set)
        if not all(
            plan is not None and all(details.defer_usage is None for details in field_details)
            for _, field_details, plan in fields
        ):
            return None  # a field to resolve, or one deferred: the general path splits them
        read = self._read_leaf
        completed: list[dict[str, Any] | None] = []
        for item in items:
            if item is None:
                if non_null:
                    return None
                completed.append(None)
                continue
            if isinstance(item, Exception) or self.is_awaitable(item):
                return None
            values: dict[str, Any] = {}
            for response_name, _, plan in fields:
                value = read(plan, item)  # type: ignore[arg-type]
                if value is Undefined:
                    return None
                values[response_name] = value
            completed.append(values)
        return completed

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Path,
        position_context: Any,
    ) -> Any:
        # Fields executed one by one (the root's, a mutation's) take the short path here.
        node = field_details_list[0].node
        plan = self._plan(parent_type, node.name.value)
        if plan is not None and self._short_path and not node.arguments:
            value = self._read_leaf(plan, source)
            if value is not Undefined:
                return value
        return super().execute_field(parent_type, source, field_details_list, path, position_context)

    def _read_leaf(self, plan: tuple[Callable[[Any], Any], GraphQLLeafType, bool], source: Any) -> Any:
        """The completed value of a plain leaf, or Undefined when the general path must judge."""
        read, leaf, non_null = plan
        try:
            value = read(source)
        except Exception:
            return Undefined  # the general path raises it again, as a located error
        if value is None:
            return Undefined if non_null else None
        if type(value) not in _NEVER_AWAITABLE and (
            value is Undefined or isinstance(value, Exception) or self.is_awaitable(value)
        ):
            return Undefined
        try:
            coerced = leaf.coerce_output_value(value)
        except Exception:
            return Undefined
        return Undefined if coerced is None else coerced

    def _fields(
        self, parent_type: GraphQLObjectType, grouped_field_set: Any
    ) -> list[tuple[str, Any, tuple[Callable[[Any], Any], GraphQLLeafType, bool] | None]]:
        """(response name, field details, leaf plan when a plain leaf without arguments) of each
        field of a collected field set, worked out once per set and request."""
        key = id(grouped_field_set)
        known = self._field_sets.get(key)
        if known is not None and known[0] is grouped_field_set:
            return known[1]
        fields = []
        for response_name, field_details_list in grouped_field_set.items():
            node = field_details_list[0].node
            plan = None if node.arguments else self._plan(parent_type, node.name.value)
            fields.append((response_name, field_details_list, plan))
        # The set is kept alive with its entry, so its id is not reused during the request.
        self._field_sets[key] = (grouped_field_set, fields)
        return fields

    def _plan(self, parent_type: GraphQLObjectType, field_name: str) -> LeafPlan:
        key = (parent_type.name, field_name)
        try:
            return self._leaf_plans[key]
        except KeyError:
            plan = self._leaf_plans[key] = _leaf_plan(parent_type.fields.get(field_name))
            return plan

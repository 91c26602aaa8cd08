"""The gateway's short path for plain leaf fields answers exactly as GraphQL's general path.

Two schemas with the same types run the same documents over the same objects: one with
Strawberry's execution context, one with the gateway's (`LeafFastExecutionContext`). Their
data and their errors (message, path, locations) must be equal, for valid leaves and for every
way a leaf can go wrong: null for a non-null field, a value the type cannot coerce, an
exception returned as a value, an attribute that is missing, an awaitable value. The whole
dashboard through the running gateway is covered by `test_dashboard.py`.
"""

from __future__ import annotations

import asyncio
import enum
import operator
from datetime import date
from decimal import Decimal
from typing import Any

import strawberry
from hypothesis import given, settings
from hypothesis import strategies as st
from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from services.gateway.execution import LeafFastExecutionContext, _leaf_plan


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


class Denied(BasePermission):
    message = "Not for this caller."

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        return False


class Redacted(FieldExtension):
    """Redacts for any caller with a context (every request has one): a short path calling the
    resolver without resolve info would give the value away."""

    def resolve(self, next_: Any, source: Any, info: strawberry.Info, **kwargs: Any) -> Any:
        if getattr(info, "context", None):
            return "***"
        return next_(source, info, **kwargs)


@strawberry.type
class Point:
    start: date
    value: Decimal | None
    count: int
    label: str | None
    colour: Colour
    flag: bool | None
    # No resolver either, but a permission and an extension: never read on the short path.
    secret: str | None = strawberry.field(default="s3cr3t", permission_classes=[Denied])
    masked: str | None = strawberry.field(default="s3cr3t", extensions=[Redacted()])

    @strawberry.field
    def doubled(self) -> int | None:
        return None if not isinstance(self.count, int) else self.count * 2


FIELDS = ("start", "value", "count", "label", "colour", "flag")


class _Later:
    """An awaitable value (not a coroutine: one never awaited, under a skipped or nulled
    field, is not a warning)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Any:
        yield from asyncio.sleep(0).__await__()
        return self.value


# What an attribute may hold: good values, nulls, wrong types, errors. A callable is a recipe
# (made afresh for each run, so each run gets its own awaitable or exception).
VALUES: dict[str, list[Any]] = {
    "start": [date(2025, 6, 30), None, "2025-06-30", 7],
    "value": [Decimal("1.50"), Decimal("-0"), None, "x", 3],
    "count": [3, -(2**31), 2**40, None, "three", 2.5, True],
    "label": ["beauty", "", None, 12, Decimal("1")],
    "colour": [Colour.RED, Colour.GREEN, None, "red", "BLUE"],
    "flag": [True, False, None, "yes", 0],
}
RECIPES: list[Any] = [
    lambda: ValueError("the attribute holds an error"),
    lambda: _Later(Decimal("2")),
    lambda: _Later(None),
    "missing",
]


def _make(spec: dict[str, Any]) -> Point:
    point = Point(**{name: None for name in FIELDS})
    for name, held in spec.items():
        if held == "missing":
            delattr(point, name)
        else:
            setattr(point, name, held() if callable(held) else held)
    return point


@strawberry.type
class Query:
    specs: strawberry.Private[list[dict[str, Any]]]

    @strawberry.field
    def points(self) -> list[Point]:
        return [_make(spec) for spec in self.specs]

    @strawberry.field
    def maybe_points(self) -> list[Point | None]:
        """Items may be null, or an error in place of the object."""
        return [
            None if spec.get("absent") else ValueError("no point") if spec.get("failed") else _make(spec)
            for spec in self.specs
        ]

    @strawberry.field
    def first(self) -> Point | None:
        return _make(self.specs[0]) if self.specs else None


GENERAL = strawberry.Schema(query=Query)
SHORT = strawberry.Schema(query=Query, execution_context_class=LeafFastExecutionContext)


def _run(schema: strawberry.Schema, document: str, specs: list[dict[str, Any]]) -> tuple[Any, list[Any]]:
    result = asyncio.run(
        schema.execute(document, root_value=Query(specs=specs), context_value={"caller": "tests"})
    )
    errors = sorted(
        (error.message, tuple(error.path or ()), tuple((at.line, at.column) for at in error.locations or ()))
        for error in result.errors or ()
    )
    return result.data, errors


def _assert_same(document: str, specs: list[dict[str, Any]]) -> None:
    assert _run(SHORT, document, specs) == _run(GENERAL, document, specs)


def test_valid_leaves_answer_alike() -> None:
    specs = [
        {"start": date(2025, 1, 1), "value": Decimal("10.00"), "count": 1, "label": "a",
         "colour": Colour.RED, "flag": True},
        {"start": date(2025, 2, 1), "value": None, "count": 2, "label": None,
         "colour": Colour.GREEN, "flag": None},
    ]  # fmt: skip
    document = "{ points { start value count label colour flag doubled __typename } }"
    data, errors = _run(SHORT, document, specs)
    assert errors == []
    assert data["points"][0] == {
        "start": "2025-01-01", "value": "10.00", "count": 1, "label": "a", "colour": "RED",
        "flag": True, "doubled": 2, "__typename": "Point",
    }  # fmt: skip
    _assert_same(document, specs)


def _read_upper(source: Any, name: str) -> object:
    value = getattr(source, name)
    return value.upper() if isinstance(value, str) else value


# Types of their own: a schema sets its default resolver on the fields of the types it is built from.
@strawberry.type
class Label:
    text: str | None
    count: int


@strawberry.type
class LabelQuery:
    @strawberry.field
    def labels(self) -> list[Label]:
        return [Label(text="a", count=1), Label(text=None, count=2)]


def test_a_schema_with_its_own_default_resolver_reads_leaves_with_it_on_both_paths() -> None:
    config = StrawberryConfig(default_resolver=_read_upper)
    document = "{ labels { text count } }"
    answers = [
        asyncio.run(strawberry.Schema(query=LabelQuery, config=config, **extra).execute(document))
        for extra in ({}, {"execution_context_class": LeafFastExecutionContext})
    ]

    assert [(a.data, a.errors) for a in answers] == [
        ({"labels": [{"text": "A", "count": 1}, {"text": None, "count": 2}]}, None)
    ] * 2
    # The short path read the leaf through the schema's own resolver, not the attribute.
    text = strawberry.Schema(query=LabelQuery, config=config)._schema.type_map["Label"].fields["text"]  # type: ignore[union-attr]
    plan = _leaf_plan(text)
    assert plan is not None and not isinstance(plan[0], operator.attrgetter)
    assert plan[0](Label(text="b", count=0)) == "B"


def test_a_leaf_of_a_schema_with_strawberrys_default_resolver_is_read_as_its_attribute() -> None:
    field = SHORT._schema.type_map["Point"].fields["label"]  # type: ignore[union-attr]
    plan = _leaf_plan(field)

    assert plan is not None and isinstance(plan[0], operator.attrgetter)


def test_lists_of_plain_objects_with_null_and_failing_items_answer_alike() -> None:
    good = {"start": date(2025, 1, 1), "value": Decimal("1.5"), "count": 1, "colour": Colour.RED}
    specs = [good, {**good, "absent": True}, {**good, "failed": True}, {**good, "count": "three"}]
    document = "{ maybePoints { start value count } }"
    data, errors = _run(SHORT, document, specs)
    assert data == {"maybePoints": [{"start": "2025-01-01", "value": "1.5", "count": 1}, None, None, None]}
    assert [(message, path) for message, path, _ in errors] == [
        ("Int cannot represent non-integer value: 'three'", ("maybePoints", 3, "count")),
        ("no point", ("maybePoints", 2)),
    ]
    _assert_same(document, specs)
    _assert_same(document, [good, {**good, "absent": True}])
    _assert_same("{ maybePoints { start } points { start count } }", [good, good])


def test_fields_with_permissions_or_extensions_are_never_read_on_the_short_path() -> None:
    specs = [{"start": date(2025, 1, 1), "count": 1, "colour": Colour.RED}]
    data, errors = _run(SHORT, "{ first { secret masked } }", specs)
    assert data == {"first": {"secret": None, "masked": "***"}}
    assert [(message, path) for message, path, _ in errors] == [("Not for this caller.", ("first", "secret"))]
    _assert_same("{ first { secret masked } }", specs)


def test_a_null_for_a_non_null_leaf_nulls_its_parent_with_the_same_error() -> None:
    specs = [{"start": None, "value": Decimal("1"), "count": 1, "colour": Colour.RED}]
    document = "{ first { start value } points { count start } }"
    data, errors = _run(SHORT, document, specs)
    assert data is None  # `points` is non-null: the error reaches the root
    assert [message for message, _, _ in errors] == [
        "Cannot return null for non-nullable field Point.start."
    ] * 2
    _assert_same(document, specs)


def test_a_value_the_type_cannot_coerce_is_an_error_at_its_path() -> None:
    specs = [{"start": date(2025, 1, 1), "count": 1, "colour": Colour.RED, "flag": "yes"}]
    document = "{ first { count flag } }"
    data, errors = _run(SHORT, document, specs)
    assert data == {"first": {"count": 1, "flag": None}}
    assert [path for _, path, _ in errors] == [("first", "flag")]
    _assert_same(document, specs)
    # A non-null leaf that cannot be coerced nulls its parent.
    specs[0]["count"] = "three"
    data, errors = _run(SHORT, document, specs)
    assert data == {"first": None}
    assert [path for _, path, _ in errors] == [("first", "count")]
    _assert_same(document, specs)


def test_errors_missing_attributes_and_awaitables_take_the_general_path() -> None:
    specs = [
        {"start": date(2025, 1, 1), "count": 1, "colour": Colour.RED,
         "value": RECIPES[0], "label": "missing", "flag": RECIPES[2]},
        {"start": date(2025, 1, 1), "count": 1, "colour": Colour.RED, "value": RECIPES[1]},
    ]  # fmt: skip
    document = "{ first { value label flag } points { value } }"
    data, errors = _run(SHORT, document, specs)
    assert data == {"first": {"value": None, "label": None, "flag": None}, "points": [
        {"value": None}, {"value": "2"}]}  # fmt: skip
    assert errors == sorted(errors)
    assert [(message, path) for message, path, _ in errors] == [
        ("'Point' object has no attribute 'label'", ("first", "label")),
        ("the attribute holds an error", ("first", "value")),
        ("the attribute holds an error", ("points", 0, "value")),
    ]
    _assert_same(document, specs)


field_names = st.sampled_from((*FIELDS, "doubled", "secret", "masked", "__typename"))
selections = st.lists(
    st.tuples(
        field_names,
        st.sampled_from(("", "a", "b")),  # alias, or none
        st.sampled_from(("", " @skip(if: true)", " @include(if: true)", " @include(if: false)")),
    ),
    min_size=1,
    max_size=8,
)
specs_strategy = st.lists(
    st.fixed_dictionaries({name: st.sampled_from(VALUES[name] + RECIPES) for name in FIELDS}),
    max_size=4,
)


@settings(max_examples=150, deadline=None)
@given(selection=selections, specs=specs_strategy, root=st.sampled_from(("first", "points")))
def test_any_selection_over_any_values_answers_alike(
    selection: list[tuple[str, str, str]], specs: list[dict[str, Any]], root: str
) -> None:
    fields = []
    for name, alias, directive in selection:
        # An alias may not name two different fields: make it unique per field.
        label = f"{alias}{name.strip('_')}: " if alias else ""
        fields.append(f"{label}{name}{directive}")
    document = f"{{ {root} {{ {' '.join(fields)} }} }}"
    _assert_same(document, specs)


@strawberry.type
class Reading:
    a: int
    b: int


@strawberry.type
class Readings:
    points: list[Reading]


@strawberry.type
class DeferQuery:
    @strawberry.field
    def target(self) -> Readings:
        return Readings(points=[Reading(a=1, b=2), Reading(a=3, b=4)])


def _incremental(execution_context_class: Any) -> list[Any]:
    """The initial and every later payload of a deferred query (the gateway's own schema has
    no @defer; the short path must still leave deferred fields to the general path)."""
    schema = strawberry.Schema(
        query=DeferQuery,
        execution_context_class=execution_context_class,
        config=StrawberryConfig(enable_experimental_incremental_execution=True),
    )

    async def run() -> list[Any]:
        result: Any = await schema.execute("{ target { points { a } ... @defer { points { b } } } }")
        payloads = [result.initial_result.formatted]
        async for later in result.subsequent_results:
            payloads.append(later.formatted)
        return payloads

    return asyncio.run(run())


def test_deferred_fields_of_plain_objects_are_delivered_later_as_on_the_general_path() -> None:
    short = _incremental(LeafFastExecutionContext)
    assert short[0]["data"] == {"target": {"points": [{"a": 1}, {"a": 3}]}}
    assert len(short) == 2
    assert short == _incremental(StrawberryGraphQLCoreExecutionContext)

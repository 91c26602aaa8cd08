"""Plain resolvers called without Strawberry's general chain answer exactly as through it.

Two schemas with the same types run the same documents over the same objects: one as Strawberry
builds it, one whose plain resolver fields got their lean resolver (`lean_resolvers`). Data and
errors (message, path, locations) must be equal. Fields that need the chain — permission
classes, field extensions, async resolvers, input-type arguments, a `root` parameter — keep it.
The gateway's own per-target fields are lean, and the dashboards of `test_dashboard.py` run
through them.
"""

from __future__ import annotations

import asyncio
import enum
from datetime import date
from typing import Any, cast

import pytest
import strawberry
from graphql import GraphQLObjectType, GraphQLResolveInfo
from strawberry.extensions import FieldExtension, SchemaExtension
from strawberry.permission import BasePermission
from strawberry.types.field import StrawberryField

from services.gateway.resolvers import lean_resolvers
from services.gateway.schema import build_schema
from shared.settings import Settings


@strawberry.enum
class Size(enum.Enum):
    SMALL = "small"
    LARGE = "large"


@strawberry.input
class Window:
    days: int


class Denied(BasePermission):
    message = "Not for this caller."

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        return False


class Shouting(FieldExtension):
    def resolve(self, next_: Any, source: Any, info: strawberry.Info, **kwargs: Any) -> Any:
        return str(next_(source, info, **kwargs)).upper()


async def _later(value: Any) -> Any:
    await asyncio.sleep(0)
    return value


class Prefixed(StrawberryField):
    """A field class of its own, doing more than Strawberry's when its resolver is called."""

    def get_result(self, source: Any, info: Any, args: list[Any], kwargs: Any) -> Any:
        return f"via get_result: {super().get_result(source, info, args, kwargs)}"


@strawberry.type
class Item:
    name: str

    @strawberry.field
    def echo(
        self,
        info: strawberry.Info,
        size: Size = Size.SMALL,
        on: date | None = None,
        counts: list[int] | None = None,
    ) -> str:
        # Everything a resolver can see: its source, converted arguments, context, path, field.
        return (
            f"{self.name}|{size.value}|{on!r}|{counts}|{info.context['caller']}|"
            f"{info.path.as_list()}|{info.field_name}|{info.python_name}"
        )

    @strawberry.field
    def length(self) -> int:
        return len(self.name)

    @strawberry.field
    def spelled(self, first_day: date | None = None, maybe_label: strawberry.Maybe[str | None] = None) -> str:
        # A snake_case argument (firstDay in GraphQL), and one told apart from an absent one.
        return f"{first_day!r}|{maybe_label!r}"

    @strawberry.field
    @staticmethod
    def constant() -> int:
        return 7

    @strawberry.field
    def sizes(self, sizes: list[Size]) -> list[Size]:
        return sorted(sizes, key=lambda size: size.value, reverse=True)

    @strawberry.field
    def later(self, info: strawberry.Info) -> str:
        # A plain function handing GraphQL an awaitable, as the gateway's do before prefetch.
        return _later(f"{self.name} later")  # type: ignore[return-value]

    @strawberry.field
    def failing(self) -> str | None:
        raise ValueError(f"{self.name} cannot answer")

    @strawberry.field
    def refusing_null(self) -> str:
        return None  # type: ignore[return-value]

    @strawberry.field
    def twin(self) -> Item:
        return Item(name=f"{self.name}'s twin")

    # Fields that keep Strawberry's chain.
    @strawberry.field(permission_classes=[Denied])
    def guarded(self) -> str | None:
        return "secret"

    @strawberry.field(extensions=[Shouting()])
    def shouted(self) -> str:
        return self.name

    @strawberry.field
    async def awaited(self) -> str:
        return await _later(self.name)

    @strawberry.field
    def windowed(self, window: Window) -> int:
        return window.days

    @strawberry.field
    @staticmethod
    def rooted(root: Item) -> str:
        return root.name

    @Prefixed()
    def prefixed(self) -> str:
        return self.name


# Every resolver field of `Item` but guarded, shouted, awaited, windowed, rooted and prefixed.
LEAN_FIELDS = {"echo", "length", "spelled", "constant", "sizes", "later", "failing", "refusingNull", "twin"}


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return [Item(name="alpha"), Item(name="beta")]


class Bracketing(SchemaExtension):
    """A schema extension around every resolver (GraphQL middleware)."""

    def resolve(self, _next: Any, root: Any, info: GraphQLResolveInfo, *args: Any, **kwargs: Any) -> Any:
        result = _next(root, info, *args, **kwargs)
        return f"[{result}]" if isinstance(result, str) else result


def _schemas(**options: Any) -> tuple[strawberry.Schema, strawberry.Schema]:
    general = strawberry.Schema(query=Query, **options)
    lean = strawberry.Schema(query=Query, **options)
    lean_resolvers(lean)
    return general, lean


GENERAL, LEAN = _schemas()
GENERAL_WRAPPED, LEAN_WRAPPED = _schemas(extensions=[Bracketing])


def _run(schema: strawberry.Schema, document: str, variables: dict[str, Any] | None) -> tuple[Any, list[Any]]:
    result = asyncio.run(
        schema.execute(document, variable_values=variables, context_value={"caller": "tests"})
    )
    errors = sorted(
        (error.message, tuple(error.path or ()), tuple((at.line, at.column) for at in error.locations or ()))
        for error in result.errors or ()
    )
    return result.data, errors


def _lean_names(schema: strawberry.Schema, type_name: str) -> set[str]:
    fields = cast(GraphQLObjectType, schema._schema.type_map[type_name]).fields
    return {name for name, field in fields.items() if field.resolve.__qualname__.startswith("_lean.")}


def test_plain_resolver_fields_and_only_those_are_lean() -> None:
    assert _lean_names(LEAN, "Item") == LEAN_FIELDS
    assert not _lean_names(GENERAL, "Item")


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        ("{ items { echo } }", None),
        ('{ items { echo(size: LARGE, on: "2025-06-30", counts: [1, 2]) } }', None),
        (
            "query Q($size: Size!, $on: Date) { items { a: echo(size: $size, on: $on) b: echo } }",
            {"size": "LARGE", "on": "2024-02-29"},
        ),
        ("query Q($on: Date) { items { echo(on: $on) } }", {}),
        ("{ items { length sizes(sizes: [SMALL, LARGE]) later twin { name length echo } } }", None),
        ('{ items { constant spelled a: spelled(firstDay: "2025-01-31", maybeLabel: null) } }', None),
        ('{ items { spelled(maybeLabel: "x") } }', None),
        ("{ items { name failing } }", None),
        ("{ items { name refusingNull } }", None),
        ("{ items { name guarded shouted awaited windowed(window: {days: 3}) rooted prefixed } }", None),
        ("{ items { echo(size: HUGE) } }", None),
        ("query Q($on: Date) { items { echo(on: $on) } }", {"on": "not a date"}),
    ],
)
def test_lean_resolvers_answer_data_and_errors_as_strawberrys_chain(
    document: str, variables: dict[str, Any] | None
) -> None:
    assert _run(LEAN, document, variables) == _run(GENERAL, document, variables)
    assert _run(LEAN_WRAPPED, document, variables) == _run(GENERAL_WRAPPED, document, variables)


def test_the_lean_resolvers_run_inside_schema_extensions_as_strawberrys_chain_does() -> None:
    data, errors = _run(LEAN_WRAPPED, "{ items { echo(size: LARGE) length } }", None)
    assert not errors
    assert data["items"][0]["echo"].startswith("[alpha|large|")
    assert data == _run(GENERAL_WRAPPED, "{ items { echo(size: LARGE) length } }", None)[0]


@strawberry.type
class Approval:
    by: str


@strawberry.type
class Refusal:
    reason: str


class Refusing(strawberry.ExceptionHandler[ValueError, Refusal]):
    def handle(self, exception: ValueError, *, field: Any, info: Any) -> Refusal:
        return Refusal(reason=str(exception))


@strawberry.type
class Desk:
    @strawberry.field
    def verdict(self) -> Approval | Refusal:
        raise ValueError("over budget")


def test_a_schema_with_exception_handlers_keeps_strawberrys_chain_everywhere() -> None:
    schema = strawberry.Schema(query=Desk, exception_handlers=[Refusing()])
    assert lean_resolvers(schema) == 0
    result = asyncio.run(schema.execute("{ verdict { ... on Refusal { reason } } }", root_value=Desk()))
    assert (result.data, result.errors) == ({"verdict": {"reason": "over budget"}}, None)


def test_the_gateways_per_target_fields_are_lean() -> None:
    lean = _lean_names(build_schema(Settings(database_url=None, jwt_secret="x" * 40)), "Target")
    assert {"metric", "progress", "series", "children"} <= lean
    assert "initiatives" not in lean  # async: Strawberry's chain

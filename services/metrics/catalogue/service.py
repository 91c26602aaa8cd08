"""The metric catalogue: definitions are data, editable by planners and admins through the API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import RowMapping, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.catalogue import repository
from services.metrics.catalogue.models import SCHEMA
from services.metrics.catalogue.schemas import (
    Aggregation,
    Kind,
    MetricCreate,
    MetricDefinition,
    MetricUpdate,
)
from services.metrics.events.parsing import within_supported_range
from shared import audit
from shared.auth import Permission, Principal
from shared.errors import Problem, not_found
from shared.formula import FormulaError, Node, parse, references, validate
from shared.pagination import Page, PageParams, cursor_text, encode_cursor


def to_definition(row: Mapping[str, Any] | RowMapping) -> MetricDefinition:
    data = dict(row)
    data["additive"] = data["kind"] == Kind.BASE and data["aggregation"] == Aggregation.SUM
    return MetricDefinition.model_validate(data)


@dataclass(frozen=True)
class Catalogue:
    """Every definition with its parsed formula: what ingestion and queries need in memory."""

    definitions: dict[str, MetricDefinition]
    formulas: dict[str, Node]
    # The base metrics of each metric, sorted, found once (a catalogue is never changed: an
    # edited definition makes a new one).
    _bases: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_rows(cls, rows: list[RowMapping] | Any) -> Catalogue:
        definitions = {row["key"]: to_definition(row) for row in rows}
        formulas = {
            key: parse(d.formula) for key, d in definitions.items() if d.kind == Kind.DERIVED and d.formula
        }
        return cls(definitions, formulas)

    def get(self, key: str) -> MetricDefinition | None:
        return self.definitions.get(key)

    def dependencies(self) -> dict[str, set[str]]:
        return {key: references(node) for key, node in self.formulas.items()}

    def base_metrics_of(self, key: str) -> tuple[str, ...]:
        """The base metrics a metric finally reads (itself when it is a base metric), sorted."""
        bases = self._bases.get(key)
        if bases is None:
            bases = self._bases[key] = tuple(sorted(self._base_metrics_of(key)))
        return bases

    def _base_metrics_of(self, key: str) -> set[str]:
        node = self.formulas.get(key)
        if node is None:
            return {key}
        found: set[str] = set()
        for ref in references(node):
            found |= self._base_metrics_of(ref)
        return found


async def load_catalogue(session: AsyncSession) -> Catalogue:
    return Catalogue.from_rows(await repository.all_definitions(session))


# Moves whenever a definition is created, edited or deleted (migration 0007).
_CHANGED_AT = text("select everything_changed_at from metrics.data_version")


class KeptCatalogue:
    """The catalogue kept in memory, read again only once a definition may have changed:
    `metrics.data_version.everything_changed_at` says when one last did."""

    def __init__(self) -> None:
        self._kept: tuple[int, Catalogue] | None = None

    async def current(self, session: AsyncSession) -> Catalogue:
        return await self.as_of(session, (await session.execute(_CHANGED_AT)).scalar_one())

    async def as_of(self, session: AsyncSession, changed_at: int) -> Catalogue:
        """The catalogue, never older than the change at `changed_at` (read before calling)."""
        kept = self._kept
        if kept is not None and kept[0] == changed_at:
            return kept[1]
        catalogue = await load_catalogue(session)
        # Read after `changed_at`: perhaps newer than it, never older. Concurrent reads keep the newest.
        if self._kept is None or self._kept[0] < changed_at:
            self._kept = (changed_at, catalogue)
        return catalogue


_kept_catalogue: KeptCatalogue | None = None


def kept_catalogue() -> KeptCatalogue:
    """The process's kept catalogue (each worker process keeps its own)."""
    global _kept_catalogue
    if _kept_catalogue is None:
        _kept_catalogue = KeptCatalogue()
    return _kept_catalogue


async def list_metrics(
    session: AsyncSession, principal: Principal, paging: PageParams
) -> Page[MetricDefinition]:
    principal.require(Permission.READ)
    after = paging.cursor_values(cursor_text)
    rows = list(await repository.page_of_definitions(session, after[0] if after else None, paging.limit + 1))
    items = [to_definition(row) for row in rows[: paging.limit]]
    cursor = encode_cursor([items[-1].key]) if len(rows) > paging.limit else None
    return Page(items=items, next_cursor=cursor)


async def get_metric(session: AsyncSession, principal: Principal, key: str) -> MetricDefinition:
    principal.require(Permission.READ)
    row = await repository.get_definition(session, key)
    if row is None:
        raise not_found("metric", key)
    return to_definition(row)


def _check_formula(catalogue: Catalogue, key: str, kind: Kind, formula: str | None) -> None:
    if kind == Kind.BASE:
        if formula is not None:
            raise Problem(422, "invalid_formula", "Base metrics are pushed as events and have no formula.")
        return
    if formula is None:
        raise Problem(422, "invalid_formula", "A derived metric needs a formula, e.g. `orders / uv`.")
    try:
        validate(formula, lambda k: k in catalogue.definitions or k == key, catalogue.dependencies(), key)
    except FormulaError as exc:
        raise Problem(422, exc.code, exc.detail, formula=formula) from exc


def _check_range(values: Mapping[str, Any]) -> None:
    for name in ("min_denominator", "value_min", "value_max"):
        given = values.get(name)
        if given is not None and not within_supported_range(given):
            raise Problem(
                422,
                "invalid_value",
                f"{name} is out of the supported range or precision (exponent within ±30, "
                "at most 64 characters), as events' values are.",
                field=name,
            )
    low, high = values.get("value_min"), values.get("value_max")
    if low is not None and high is not None and low > high:
        raise Problem(422, "invalid_range", "value_min is greater than value_max.")


def _audit_view(definition: MetricDefinition) -> dict[str, Any]:
    return definition.model_dump(mode="json", exclude={"created_at", "updated_at", "version"})


async def create_metric(session: AsyncSession, principal: Principal, body: MetricCreate) -> MetricDefinition:
    principal.require(Permission.MANAGE_METRICS)
    catalogue = await load_catalogue(session)
    values = body.model_dump()
    if body.kind == Kind.DERIVED:
        values["aggregation"] = Aggregation.SUM  # derived values come from sums, never from days
    _check_formula(catalogue, body.key, body.kind, body.formula)
    _check_range(values)
    values["dimensions"] = [d.value for d in body.dimensions]
    row = await repository.insert_definition(session, values)
    if row is None:
        raise Problem(409, "metric_exists", f"A metric with key {body.key} exists already.", key=body.key)
    created = to_definition(row)
    await audit.record(
        session,
        SCHEMA,
        principal,
        entity_type="metric_definition",
        entity_id=created.key,
        action="create",
        after=_audit_view(created),
    )
    await session.commit()
    return created


def parse_if_match(header: str | None) -> int | None:
    if header is None:
        return None
    text = header.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise Problem(412, "precondition_failed", "If-Match must carry the ETag of the definition.")
    return int(text)


async def update_metric(
    session: AsyncSession, principal: Principal, key: str, body: MetricUpdate, if_match: int | None
) -> MetricDefinition:
    principal.require(Permission.MANAGE_METRICS)
    row = await repository.get_definition(session, key, for_update=True)
    if row is None:
        raise not_found("metric", key)
    before = to_definition(row)
    if if_match is not None and if_match != before.version:
        raise Problem(
            412,
            "version_mismatch",
            f"The definition is at version {before.version}, not {if_match}.",
            current_version=before.version,
        )
    changes = body.model_dump(exclude_unset=True)
    for nullable_only_when_given in ("name", "unit", "direction", "aggregation", "dimensions", "domain"):
        if nullable_only_when_given in changes and changes[nullable_only_when_given] is None:
            raise Problem(422, "validation_error", f"{nullable_only_when_given} cannot be null.")
    if "expected_frequency_hours" in changes and changes["expected_frequency_hours"] is None:
        raise Problem(422, "validation_error", "expected_frequency_hours cannot be null.")
    if "formula" in changes:
        catalogue = await load_catalogue(session)
        _check_formula(catalogue, key, before.kind, changes["formula"])
    if before.kind == Kind.DERIVED:
        changes.pop("aggregation", None)
    _check_range({**before.model_dump(), **changes})
    if "dimensions" in changes:
        changes["dimensions"] = [d.value for d in changes["dimensions"]]
    if not changes:
        return before
    updated = to_definition(await repository.update_definition(session, key, changes))
    await audit.record(
        session,
        SCHEMA,
        principal,
        entity_type="metric_definition",
        entity_id=key,
        action="update",
        before=_audit_view(before),
        after=_audit_view(updated),
    )
    await session.commit()
    return updated

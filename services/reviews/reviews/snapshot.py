"""Assembling a review snapshot from what the targets and metrics services answered.

Pure: takes the targets, their progress (from the one progress module, via the targets
service), the metric catalogue and the answers to one metrics query batch; plans that batch;
builds the items with their attribution; diffs two snapshots; measures drift. No I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from services.reviews.reviews import attribution as attr
from services.reviews.reviews.schemas import (
    Attribution,
    AttributionPart,
    Change,
    DriftItem,
    DriverAttribution,
    FunnelFigures,
    ScoreOut,
    SnapshotItem,
)
from services.reviews.reviews.scorecard import Scored, scorecard
from shared.periods import Period
from shared.progress import Direction, better_ratio

DIMENSIONS = ("category", "channel", "region")
DRIVER_METRICS = ("uv", "orders", "gmv")
_PCT = Decimal("0.0001")

Json = dict[str, Any]


def dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _date(value: Any) -> date | None:
    if value is None:
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _scope(target: Json) -> dict[str, str | None]:
    scope = target.get("scope") or {}
    return {d: scope.get(d) for d in DIMENSIONS}


@dataclass(frozen=True)
class Window:
    """The days a target is judged on by as_of: its start to min(end, as_of)."""

    this_year: Period
    last_year: Period


def window(target: Json, as_of: date) -> Window | None:
    start, end = _date(target.get("starts_on")), _date(target.get("ends_on"))
    if start is None or end is None or start > as_of:
        return None
    this_year = Period(start, min(end, as_of))
    return Window(this_year, this_year.shift_years(-1))


def _is_additive(definition: Json | None) -> bool:
    if definition is None:
        return False
    if "additive" in definition:
        return bool(definition["additive"])
    return definition.get("kind") == "base" and definition.get("aggregation", "sum") == "sum"


def _is_derived(definition: Json | None) -> bool:
    return definition is not None and definition.get("kind") == "derived"


def dimension_children(target: Json, by_id: Mapping[str, Json]) -> tuple[str, list[Json]] | None:
    """The children that split this target across ONE dimension (same period, scope plus that
    dimension), with the dimension; None when the target is not decomposed that way."""
    children = [by_id[str(c)] for c in target.get("children_ids") or [] if str(c) in by_id]
    if not children:
        return None
    parent_scope = _scope(target)
    dimension: str | None = None
    for child in children:
        child_scope = _scope(child)
        added = [d for d in DIMENSIONS if parent_scope[d] is None and child_scope[d] is not None]
        same = all(parent_scope[d] == child_scope[d] for d in DIMENSIONS if d not in added)
        same_days = (child.get("starts_on"), child.get("ends_on")) == (
            target.get("starts_on"),
            target.get("ends_on"),
        )
        if len(added) != 1 or not same or not same_days or (dimension and added[0] != dimension):
            return None
        dimension = added[0]
    assert dimension is not None
    return dimension, children


def free_dimensions(target: Json, definition: Json | None) -> list[str]:
    allowed = (definition or {}).get("dimensions") or list(DIMENSIONS)
    scope = _scope(target)
    return [d for d in DIMENSIONS if d in allowed and scope[d] is None]


def _filters(target: Json) -> dict[str, str]:
    return {d: v for d, v in _scope(target).items() if v is not None}


def plan_queries(targets: Sequence[Json], catalogue: Mapping[str, Json], as_of: date) -> list[Json]:
    """The metrics queries one snapshot needs, all sent in ONE /v1/query batch:
    per target and dimension this year's (and, for the last-year mix, last year's) grouped
    values; for GMV targets this year's and last year's UV, orders and GMV."""
    queries: list[Json] = []
    for target in targets:
        tid = str(target["id"])
        definition = catalogue.get(target["metric"])
        days = window(target, as_of)
        if days is None:
            continue
        additive, derived = _is_additive(definition), _is_derived(definition)
        if not (additive or derived):
            continue
        # The dimension a target was decomposed by is grouped too: a rate's children are not
        # added up, and an additive target's children may lack a planned value or an actual;
        # either way the gap along it is attributed from the grouped values.
        for dimension in free_dimensions(target, definition):
            base = {"metric": target["metric"], "filters": _filters(target), "group_by": [dimension]}
            queries.append(
                base
                | {
                    "id": f"{tid}|{dimension}|ty",
                    "start": days.this_year.start.isoformat(),
                    "end": days.this_year.end.isoformat(),
                }
            )
            if additive:
                queries.append(
                    base
                    | {
                        "id": f"{tid}|{dimension}|ly",
                        "start": days.last_year.start.isoformat(),
                        "end": days.last_year.end.isoformat(),
                    }
                )
        if target["metric"] == "gmv" and additive:
            for metric in DRIVER_METRICS:
                for tag, period in (("ty", days.this_year), ("ly", days.last_year)):
                    queries.append(
                        {
                            "id": f"{tid}|drivers|{metric}|{tag}",
                            "metric": metric,
                            "start": period.start.isoformat(),
                            "end": period.end.isoformat(),
                            "filters": _filters(target),
                            "group_by": None,
                        }
                    )
    return queries


def planned_to_date(target: Json, progress: Json, definition: Json | None, as_of: date) -> Decimal | None:
    """The target value once its period has ended (or for rates, which are not pro-rated);
    otherwise what the progress module expected by as_of."""
    target_value = dec(progress.get("target_value")) or dec(target.get("target_value"))
    ends_on = _date(target.get("ends_on"))
    if not _is_additive(definition) or ends_on is None or ends_on <= as_of:
        return target_value
    expected = dec(progress.get("expected_to_date"))
    return expected if expected is not None else target_value


def _groups(result: Json | None, dimension: str) -> list[Json]:
    if not result:
        return []
    return list(result.get("groups") or [])


def _group_values(result: Json | None, dimension: str) -> dict[str | None, Decimal]:
    out: dict[str | None, Decimal] = {}
    for group in _groups(result, dimension):
        key = (group.get("key") or {}).get(dimension)
        value = dec(group.get("value"))
        if value is not None:
            name = None if key is None else str(key)
            out[name] = out.get(name, Decimal(0)) + value
    return out


def _parts(parts: list[attr.Part] | None) -> list[AttributionPart] | None:
    if parts is None:
        return None
    return [
        AttributionPart(
            value=p.value,
            target=p.target,
            actual=p.actual,
            variance=p.variance,
            share=p.share,
            planned_share=p.planned_share,
        )
        for p in parts
    ]


@attr.wide
def funnel_figures(f: attr.Funnel) -> FunnelFigures:
    return FunnelFigures(
        uv=attr.rounded(f.uv),
        conversion_rate=attr.rounded(f.conversion_rate),
        aov=attr.rounded(f.aov),
        gmv=attr.rounded(f.gmv),
    )


def _value(results: Mapping[str, Json], query_id: str) -> Decimal | None:
    result = results.get(query_id)
    return dec(result.get("value")) if result else None


def attribute(
    target: Json,
    planned: Decimal,
    actual: Decimal,
    variance: Decimal,
    definition: Json | None,
    by_id: Mapping[str, Json],
    progress: Mapping[str, Json],
    results: Mapping[str, Json],
    as_of: date,
) -> Attribution:
    tid = str(target["id"])
    out = Attribution()
    additive, derived = _is_additive(definition), _is_derived(definition)
    split = dimension_children(target, by_id)
    if additive and split is not None:
        dimension, children = split
        figures = []
        for child in children:
            child_progress = progress.get(str(child["id"]), {})
            child_planned = planned_to_date(child, child_progress, definition, as_of)
            child_actual = dec(child_progress.get("actual"))
            if child_planned is None or child_actual is None:
                break
            figures.append(attr.Child(_scope(child)[dimension], child_planned, child_actual))
        else:
            out.by_dimension[dimension] = _parts(attr.attribute_to_children(planned, actual, figures)) or []
            out.methods[dimension] = "children"
    for dimension in free_dimensions(target, definition):
        if dimension in out.by_dimension:
            continue
        this_year = results.get(f"{tid}|{dimension}|ty")
        parts: list[attr.Part] | None = None
        if additive:
            parts = attr.attribute_by_last_year_mix(
                planned,
                actual,
                _group_values(results.get(f"{tid}|{dimension}|ly"), dimension),
                _group_values(this_year, dimension),
            )
            method = "last_year_mix"
        elif derived:
            groups: list[attr.RateGroup] = []
            for group in _groups(this_year, dimension):
                numerator, denominator = dec(group.get("numerator")), dec(group.get("denominator"))
                if numerator is None or denominator is None:
                    groups = []
                    break
                key = (group.get("key") or {}).get(dimension)
                groups.append(attr.RateGroup(None if key is None else str(key), numerator, denominator))
            parts = attr.attribute_rate_by_volume(planned, variance, groups) if groups else None
            method = "rate_by_volume"
        converted = _parts(parts)
        if converted is not None:
            out.by_dimension[dimension] = converted
            out.methods[dimension] = method  # type: ignore[assignment]
    if target["metric"] == "gmv" and additive:
        ly = [_value(results, f"{tid}|drivers|{m}|ly") for m in DRIVER_METRICS]
        ty = [_value(results, f"{tid}|drivers|{m}|ty") for m in DRIVER_METRICS]
        if all(v is not None for v in ly + ty):
            uv0, orders0, gmv0 = (v or Decimal(0) for v in ly)
            uv1, orders1, gmv1 = (v or Decimal(0) for v in ty)
            plan = attr.planned_funnel(planned, uv0, orders0, gmv0)
            if plan is not None:
                drivers = attr.decompose_gmv(plan, attr.actual_funnel(uv1, orders1, gmv1, plan), variance)
                out.drivers = DriverAttribution(
                    traffic=drivers.traffic,
                    conversion=drivers.conversion,
                    basket=drivers.basket,
                    total=drivers.total,
                    method=drivers.method,
                    planned=funnel_figures(drivers.planned),
                    actual=funnel_figures(drivers.actual),
                )
    return out


@attr.wide
def build_items(
    targets: Sequence[Json],
    progress: Mapping[str, Json],
    catalogue: Mapping[str, Json],
    results: Mapping[str, Json],
    as_of: date,
) -> list[SnapshotItem]:
    by_id = {str(t["id"]): t for t in targets}
    items = []
    for target in sorted(targets, key=lambda t: (str(t.get("name", "")), str(t["id"]))):
        tid = str(target["id"])
        definition = catalogue.get(target["metric"])
        row = progress.get(tid, {})
        planned = planned_to_date(target, row, definition, as_of)
        actual = dec(row.get("actual"))
        variance = actual - planned if actual is not None and planned is not None else None
        variance_pct = (
            attr.rounded(attr.divide(variance, planned), _PCT) if variance is not None and planned else None
        )
        item = SnapshotItem(
            target_id=tid,
            name=str(target.get("name", "")),
            metric=target["metric"],
            unit=target.get("unit") or (definition or {}).get("unit"),
            scope=_scope(target),
            period=target.get("period"),
            starts_on=_date(target.get("starts_on")),
            ends_on=_date(target.get("ends_on")),
            parent_id=None if target.get("parent_id") is None else str(target["parent_id"]),
            department=target.get("department"),
            weight=dec(target.get("weight")) or Decimal(1),
            direction=target.get("direction") or (definition or {}).get("direction"),
            evaluation_dimension=(definition or {}).get("evaluation_dimension"),
            target_value=dec(row.get("target_value")) or dec(target.get("target_value")),
            planned=planned,
            actual=actual,
            attainment=dec(row.get("attainment")),
            variance=variance,
            variance_pct=variance_pct,
            health=row.get("health"),
            stale=bool(row.get("stale", False)),
        )
        if variance is not None and planned is not None and actual is not None:
            item.attribution = attribute(
                target, planned, actual, variance, definition, by_id, progress, results, as_of
            )
        items.append(item)
    return items


def attainment_to_date(item: SnapshotItem) -> Decimal | None:
    """Actual against what was planned by the snapshot's date, the right way round for the
    metric's direction. Once a target's period is over (and always for a rate) the plan is the
    target itself, so this is its attainment; an annual target in a Q1 review is judged on the
    share of the year that Q1 carries, not on a quarter of its whole-year value."""
    if item.attainment is None or item.actual is None or item.planned is None:
        return item.attainment
    direction: Direction = "lower_is_better" if item.direction == "lower_is_better" else "higher_is_better"
    return better_ratio(item.actual, item.planned, direction)


def score(items: Sequence[SnapshotItem]) -> dict[str, ScoreOut]:
    """Scores top-level targets only: a parent and its decomposed children are one goal, and
    counting both would weigh it twice."""
    present = {i.target_id for i in items}
    rows = [
        Scored(i.evaluation_dimension, i.weight, attainment_to_date(i))
        for i in items
        if i.parent_id is None or i.parent_id not in present
    ]
    return {
        name: ScoreOut(attainment=s.attainment, targets=s.targets, unscored=s.unscored, weight=s.weight)
        for name, s in scorecard(rows).items()
    }


COMPARED_FIELDS = ("target_value", "planned", "actual", "attainment", "variance", "variance_pct", "health")


def diff_items(before: Sequence[SnapshotItem], after: Sequence[SnapshotItem]) -> list[Change]:
    """What moved between two snapshots: a change per target and field; a target that appears
    or disappears is a change of its `target` field."""
    old = {i.target_id: i for i in before}
    new = {i.target_id: i for i in after}
    changes: list[Change] = []
    for tid in sorted(set(old) | set(new)):
        if tid not in old:
            changes.append(Change(target_id=tid, field="target", from_=None, to="added"))
            continue
        if tid not in new:
            changes.append(Change(target_id=tid, field="target", from_="present", to="removed"))
            continue
        a, b = old[tid].model_dump(mode="json"), new[tid].model_dump(mode="json")
        for field in COMPARED_FIELDS:
            if a.get(field) != b.get(field):
                changes.append(Change(target_id=tid, field=field, from_=a.get(field), to=b.get(field)))
    return changes


@attr.wide
def drift_items(items: Sequence[SnapshotItem], progress: Mapping[str, Json]) -> list[DriftItem]:
    """Today's actuals for the same as_of against the frozen ones (late events show here)."""
    out = []
    for item in items:
        row = progress.get(item.target_id, {})
        current = dec(row.get("actual"))
        drift = current - item.actual if current is not None and item.actual is not None else None
        pct = (
            attr.rounded(attr.divide(drift, item.actual), _PCT) if drift is not None and item.actual else None
        )
        out.append(
            DriftItem(
                target_id=item.target_id,
                name=item.name,
                snapshot_actual=item.actual,
                current_actual=current,
                drift=drift,
                drift_pct=pct,
                snapshot_health=item.health,
                current_health=row.get("health"),
            )
        )
    return out

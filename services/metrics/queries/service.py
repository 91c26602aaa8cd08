"""Answers a batch of metric queries from the daily rollups.

Every query is reduced to reads of base metrics ("leaves": metric, dates, filters, grouping,
per-day or not); identical reads are shared, and all reads run as one SQL statement (plus one
for the latest event times). The arithmetic then happens here, exactly:
- base additive metric: the sum of its events ("0" when there are none);
- base non-additive metric (avg / last / max / min): its daily values (the day's sum under the
  filters) aggregated over the days that have data, null when none have;
- derived metric: its formula over the period values of its parts — a ratio of sums, never an
  average of daily ratios; numerator and denominator are the two sides of a top-level division.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, InvalidOperation
from functools import lru_cache, partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.catalogue.schemas import DIMENSIONS, Aggregation, Kind
from services.metrics.catalogue.service import Catalogue, load_catalogue
from services.metrics.queries import repository
from services.metrics.queries.cache import AnswerCache, Month, months_read
from services.metrics.queries.schemas import Bucket, MetricQuery, QueryFilters, SeriesFormat
from shared.auth import Permission, Principal
from shared.errors import Problem
from shared.formula import DECIMAL_CONTEXT, Node, Ref, evaluate, ratio_parts, references
from shared.periods import next_month

MAX_RANGE_DAYS = 3700  # ten years and a bit
MAX_FILTER_VALUES = 200
ZERO = Decimal(0)
# Sums of magnitudes, never rounded (values have at most 64 characters; batches are bounded).
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
_ROW_POSITION = {"category": 2, "channel": 3, "region": 4}

GroupKey = tuple[str | None, ...]
Filters = tuple[tuple[str, tuple[str, ...]], ...]
DayTotals = dict[date | None, Decimal]


@dataclass(frozen=True)
class Read:
    """One read of a base metric's rollups."""

    metric: str
    start: date
    end: date
    per_day: bool
    group_by: tuple[str, ...]
    filters: tuple[tuple[str, tuple[str, ...]], ...]
    # A sum metric's week / month / quarter series: summed per bucket in SQL, not per day.
    bucket: str | None = None

    def as_row(self, leaf: int) -> tuple[repository.ReadShape, dict[str, Any]]:
        filters = dict(self.filters)
        shape = repository.read_shape(tuple(filters), self.group_by, self.per_day, self.bucket)
        row = {
            "leaf": leaf,
            "metric": self.metric,
            "start_day": self.start,
            "end_day": self.end,
            "categories": list(filters["category"]) if "category" in filters else None,
            "channels": list(filters["channel"]) if "channel" in filters else None,
            "regions": list(filters["region"]) if "region" in filters else None,
        }
        if shape.monthly:
            row["month_from"], row["month_until"] = repository.whole_months(self.start, self.end)
        return shape, row


def decimal_text(value: Decimal | None) -> str | None:
    """A decimal as a plain string (never exponent notation), or None."""
    if value is None:
        return None
    if value == 0:
        return "0"
    return format(value, "f")


Spans = tuple[tuple[date, date], ...]


def buckets(start: date, end: date, bucket: Bucket) -> Spans:
    """Every bucket touching [start, end], clipped to it; weeks are ISO weeks starting Monday."""
    if bucket == Bucket.DAY:
        first = start.toordinal()
        return tuple((day, day) for day in map(date.fromordinal, range(first, end.toordinal() + 1)))
    return _longer_buckets(start, end, bucket)


# A dashboard's queries share their dates: their spans are computed once. (At most 530 weeks
# of 10 years per entry; day spans, up to 3,700 per query, are not kept.)
@lru_cache(maxsize=128)
def _longer_buckets(start: date, end: date, bucket: Bucket) -> Spans:
    out: list[tuple[date, date]] = []
    cursor = start
    while cursor <= end:
        if bucket == Bucket.WEEK:
            last = cursor + timedelta(days=6 - cursor.weekday())
        elif bucket == Bucket.MONTH:
            following = next_month(cursor)
            last = following - timedelta(days=1)
        else:
            quarter_start_month = 3 * ((cursor.month - 1) // 3) + 1
            following_month = quarter_start_month + 3
            following = date(cursor.year + (following_month - 1) // 12, (following_month - 1) % 12 + 1, 1)
            last = following - timedelta(days=1)
        out.append((cursor, min(last, end)))
        cursor = min(last, end) + timedelta(days=1)
    return tuple(out)


@lru_cache(maxsize=128)
def _span_texts(spans: Spans) -> tuple[tuple[str, str], ...]:
    """Week, month or quarter spans' first and last days as ISO dates, worked out once (a
    dashboard's series share their spans)."""
    return tuple((start.isoformat(), end.isoformat()) for start, end in spans)


def _day_texts(spans: Spans) -> list[tuple[str, str]]:
    """Day spans as ISO dates, each day's text once (not kept: up to 3,700 days a query)."""
    return [(text, text) for text in (start.isoformat() for start, _ in spans)]


@lru_cache(maxsize=128)
def seven_day_runs(start: date, end: date) -> Spans:
    """Runs of seven days counted from `start`, the last one clipped to `end`."""
    return tuple(
        (date.fromordinal(first), min(end, date.fromordinal(first + 6)))
        for first in range(start.toordinal(), end.toordinal() + 1, 7)
    )


def _normalise_filters(query: MetricQuery) -> Filters:
    filters = query.filters or QueryFilters()
    out: list[tuple[str, tuple[str, ...]]] = []
    for dimension in DIMENSIONS:
        raw = getattr(filters, dimension)
        if raw is None:
            continue
        values = (raw,) if isinstance(raw, str) else tuple(raw)
        if len(values) > MAX_FILTER_VALUES:
            raise Problem(
                422,
                "invalid_filter",
                f"Query {query.id}: at most {MAX_FILTER_VALUES} values per dimension.",
                query_id=query.id,
            )
        out.append((dimension, tuple(sorted(set(values)))))
    return tuple(out)


def _check(query: MetricQuery, catalogue: Catalogue) -> None:
    definition = catalogue.get(query.metric)
    if definition is None:
        raise Problem(
            422,
            "unknown_metric",
            f"Query {query.id} names unknown metric {query.metric}.",
            query_id=query.id,
            metric=query.metric,
        )
    if query.series_format == SeriesFormat.COMPACT and query.bucket != Bucket.DAY:
        raise Problem(
            422,
            "invalid_series_format",
            f"Query {query.id}: the compact series needs the day bucket.",
            query_id=query.id,
        )
    if query.profile is not None and query.group_by:
        raise Problem(
            422,
            "invalid_profile",
            f"Query {query.id}: a profile summarises one scope; it cannot be grouped.",
            query_id=query.id,
        )
    if query.end < query.start:
        raise Problem(422, "invalid_range", f"Query {query.id} ends before it starts.", query_id=query.id)
    if query.end.year > 9998:
        # Buckets end on the day after their last; the calendar stops at 9999-12-31.
        raise Problem(422, "invalid_range", f"Query {query.id} ends after 9998.", query_id=query.id)
    if (query.end - query.start).days + 1 > MAX_RANGE_DAYS:
        raise Problem(
            422,
            "range_too_long",
            f"Query {query.id} spans more than {MAX_RANGE_DAYS} days.",
            query_id=query.id,
        )
    used: set[str] = {d.value for d in query.group_by or ()}
    if query.filters is not None:
        used |= {d for d in DIMENSIONS if getattr(query.filters, d) is not None}
    missing = sorted(used - {d.value for d in definition.dimensions})
    if missing:
        raise Problem(
            422,
            "dimension_not_reported",
            f"Query {query.id}: {query.metric} is not reported by {', '.join(missing)}.",
            query_id=query.id,
        )


@dataclass
class _Plan:
    query: MetricQuery
    group_by: tuple[str, ...]
    leaves: dict[str, int]  # base metric → read index
    # With a profile: base metric → read index of its seven-day runs,
    week_leaves: dict[str, int] = field(default_factory=dict)
    # and either the weight read (index into `weight_reads`) when the weight is one base
    # metric's day totals, or per-day reads of every base metric to weigh each day here.
    weight_leaf: int | None = None
    day_leaves: dict[str, int] | None = None
    # An answer computed before (from a cache): only the latest event times are read.
    kept: dict[str, Any] | None = None
    filters: Filters = ()


class QueryRunner:
    """Plans a batch into shared reads, runs them, and computes every answer."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.reads: list[Read] = []
        self._read_index: dict[Read, int] = {}
        self.plans: list[_Plan] = []
        self.weight_reads: list[tuple[Read, date]] = []
        self._formulas: dict[str, tuple[Node, tuple[Node, Node] | None, list[str]] | None] = {}

    def _read(self, read: Read) -> int:
        index = self._read_index.get(read)
        if index is None:
            index = len(self.reads)
            self.reads.append(read)
            self._read_index[read] = index
        return index

    def plan(self, query: MetricQuery) -> None:
        _check(query, self.catalogue)
        filters = _normalise_filters(query)
        group_by = tuple(dict.fromkeys(d.value for d in query.group_by or ()))
        leaves: dict[str, int] = {}
        for metric in self.catalogue.base_metrics_of(query.metric):
            definition = self.catalogue.definitions[metric]
            additive = definition.aggregation == Aggregation.SUM
            if additive and query.bucket is not None and query.bucket != Bucket.DAY:
                # One row per bucket and group: the bucket's sum is the sum of its days.
                read = Read(metric, query.start, query.end, False, group_by, filters, query.bucket.value)
            else:
                per_day = query.bucket is not None or not additive
                read = Read(metric, query.start, query.end, per_day, group_by, filters)
            leaves[metric] = self._read(read)
        plan = _Plan(query, group_by, leaves, filters=filters)
        if query.profile is not None:
            self._plan_profile(plan, filters, query.profile.through)
        self.plans.append(plan)

    def plan_kept(self, query: MetricQuery, answer: dict[str, Any]) -> None:
        """A query answered before: checked as any other, and only its latest event time read
        (when it asks for it)."""
        _check(query, self.catalogue)
        self.plans.append(_Plan(query, (), {}, kept=answer, filters=_normalise_filters(query)))

    def base_metrics(self, query: MetricQuery) -> tuple[str, ...]:
        return self.catalogue.base_metrics_of(query.metric)

    def _plan_profile(self, plan: _Plan, filters: Filters, through: date) -> None:
        query = plan.query
        for metric in self.catalogue.base_metrics_of(query.metric):
            if query.bucket == Bucket.DAY or (
                query.bucket is None and self.catalogue.definitions[metric].aggregation != Aggregation.SUM
            ):
                # Read per day already: the weeks are aggregated from those days.
                plan.week_leaves[metric] = plan.leaves[metric]
                continue
            if self.catalogue.definitions[metric].aggregation == Aggregation.SUM:
                read = Read(metric, query.start, query.end, False, (), filters, repository.SEVEN_DAYS)
            else:
                read = Read(metric, query.start, query.end, True, (), filters)
            plan.week_leaves[metric] = self._read(read)
        source = self._weight_source(query.metric)
        if source is None:
            return
        if source:
            plan.weight_leaf = len(self.weight_reads)
            self.weight_reads.append((Read(source, query.start, query.end, True, (), filters), through))
            return
        plan.day_leaves = {
            metric: self._read(Read(metric, query.start, query.end, True, (), filters))
            for metric in self.catalogue.base_metrics_of(query.metric)
        }

    def _weight_source(self, metric: str) -> str | None:
        """What a profile weighs days by: the base metric whose day totals are the weights
        (additive metrics: themselves; ratios over one base metric: that metric), "" when the
        weights must be computed day by day (a ratio over an expression), None without weights."""
        formula = self._formula(metric)
        if formula is None:
            return metric if self.catalogue.definitions[metric].aggregation == Aggregation.SUM else None
        parts = formula[1]
        if parts is None:
            return None
        denominator = parts[1]
        if isinstance(denominator, Ref) and self._formula(denominator.key) is None:
            return denominator.key
        return ""

    async def run(self, session: AsyncSession) -> list[dict[str, Any]]:
        rows = await repository.read_rollups(session, [r.as_row(i) for i, r in enumerate(self.reads)])
        # The latest event time of every base metric of every query that asks for it, under its
        # filters.
        latest_keys = {plan.query.id: self._latest_keys(plan) for plan in self.plans if plan.query.last_event}
        latest_index: dict[tuple[Any, ...], int] = {}
        latest_rows: list[tuple[tuple[str, ...], dict[str, Any]]] = []
        for keys in latest_keys.values():
            for metric, filters in keys.values():
                if (metric, filters) not in latest_index:
                    latest_index[metric, filters] = len(latest_rows)
                    read = Read(metric, date.min, date.min, False, (), filters)
                    shape, row = read.as_row(len(latest_rows))
                    latest_rows.append((shape.filtered, row))
        latest = await repository.read_latest(session, latest_rows)
        weights = await repository.read_weights(
            session, [(*read.as_row(i), through) for i, (read, through) in enumerate(self.weight_reads)]
        )

        # read index → group key → day (None when not per day) → total
        data: list[dict[GroupKey, DayTotals]] = [defaultdict(dict) for _ in self.reads]
        # Row columns of the grouped dimensions, per read; absent dimensions are stored as ''.
        positions = [tuple(_ROW_POSITION[d] for d in read.group_by) for read in self.reads]
        bounds: dict[int, Decimal] = {}
        for leaf, day, category, channel, region, total, bound in rows:
            where = positions[leaf]
            if where:
                dimensions = (None, None, category, channel, region)
                key: GroupKey = tuple([dimensions[i] or None for i in where])
            else:
                key = ()  # most reads are not grouped
            data[leaf][key][day] = total
            if bound is not None:
                bounds[leaf] = _EXACT.add(bounds.get(leaf, ZERO), bound)
        await self._redo_inexact_buckets(session, data, positions, bounds)

        results = []
        for plan in self.plans:
            if plan.kept is not None:
                result = dict(plan.kept)
                result["id"] = plan.query.id
            else:
                result = self._answer(plan, {m: data[i] for m, i in plan.leaves.items()})
                if plan.query.profile is not None:
                    result["profile"] = self._profile(plan, data, weights)
            wanted = latest_keys.get(plan.query.id)
            if wanted is None:
                result["last_event_at"] = None
            else:
                last = {metric: latest.get(latest_index[key]) for metric, key in wanted.items()}
                result["last_event_at"] = self._latest_event(plan.query, last)
            results.append(result)
        return results

    def _latest_keys(self, plan: _Plan) -> dict[str, tuple[str, Filters]]:
        filters = plan.filters
        return {metric: (metric, filters) for metric in self.catalogue.base_metrics_of(plan.query.metric)}

    def _latest_event(self, query: MetricQuery, last: dict[str, datetime | None]) -> str | None:
        """The latest event of the metric; of a derived metric, the oldest latest of its parts."""
        if self.catalogue.definitions[query.metric].kind == Kind.DERIVED:
            times = list(last.values())
            stamp = None if not times or any(t is None for t in times) else min(t for t in times if t)
        else:
            stamp = last.get(query.metric)
        return stamp.isoformat() if stamp is not None else None

    async def _redo_inexact_buckets(
        self,
        session: AsyncSession,
        data: list[dict[GroupKey, DayTotals]],
        positions: list[tuple[int, ...]],
        bounds: dict[int, Decimal],
    ) -> None:
        """Reads per day the bucketed reads whose sums might round in 28 digits.

        Summed day by day in `DECIMAL_CONTEXT`, a bucketed read's totals are exact (equal to the
        SQL sums) when the sum of its rows' magnitudes has at most 28 digits at the finest scale
        of its rows: every partial sum is smaller and no coarser. Otherwise the day totals are
        read and summed here as they always were, so the answer stays digit for digit the same.
        """
        inexact = [
            leaf for leaf, bound in bounds.items() if len(bound.as_tuple().digits) > DECIMAL_CONTEXT.prec
        ]
        if not inexact:
            return
        reads = [(leaf, replace(self.reads[leaf], per_day=True, bucket=None)) for leaf in inexact]
        rows = await repository.read_rollups(session, [read.as_row(leaf) for leaf, read in reads])
        for leaf in inexact:
            data[leaf] = defaultdict(dict)
        for leaf, day, category, channel, region, total, _ in rows:
            dimensions = (None, None, category, channel, region)
            key = tuple(dimensions[i] or None for i in positions[leaf])
            data[leaf][key][day] = total

    # ---- arithmetic --------------------------------------------------------------------------

    def _formula(self, metric: str) -> tuple[Node, tuple[Node, Node] | None, list[str]] | None:
        """(formula, its top-level division's sides, the keys it reads) of a derived metric."""
        if metric not in self._formulas:
            node = self.catalogue.formulas.get(metric)
            cached = None if node is None else (node, ratio_parts(node), list(_refs(node)))
            self._formulas[metric] = cached
        return self._formulas[metric]

    def _value(
        self, key: str, entries: Callable[[str], Iterable[tuple[date | None, Decimal]]]
    ) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
        """(value, numerator, denominator) of a metric over the entries `entries(base)` yields."""
        definitions = self.catalogue.definitions
        return self._value_from(key, lambda m: aggregate(definitions[m].aggregation, entries(m)))

    def _value_from(
        self, key: str, base_value: Callable[[str], Decimal | None]
    ) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
        """(value, numerator, denominator) of a metric given its base metrics' values."""
        memo: dict[str, Decimal | None] = {}
        formula = self._formula(key)
        if formula is None:
            return self._value_of(key, base_value, memo), None, None
        node, parts, refs = formula
        values = {ref: self._value_of(ref, base_value, memo) for ref in refs}
        if parts is None:
            return evaluate(node, values), None, None
        numerator, denominator = evaluate(parts[0], values), evaluate(parts[1], values)
        # The top-level division of the two sides just evaluated, exactly as `evaluate` does it.
        return _divide(numerator, denominator), numerator, denominator

    def _value_of(
        self, metric: str, base_value: Callable[[str], Decimal | None], memo: dict[str, Decimal | None]
    ) -> Decimal | None:
        """A metric's value, each metric evaluated once per `memo`. (A method, not a closure
        calling itself: such a closure is a reference cycle, and every answer it touched would
        wait for a full garbage collection.)"""
        if metric in memo:
            return memo[metric]
        formula = self._formula(metric)
        if formula is not None:
            result = evaluate(formula[0], {ref: self._value_of(ref, base_value, memo) for ref in formula[2]})
        else:
            result = base_value(metric)
        memo[metric] = result
        return result

    def _answer(self, plan: _Plan, data: dict[str, dict[GroupKey, DayTotals]]) -> dict[str, Any]:
        query = plan.query
        # Across groups: one total per day (or one total when reads are not per day).
        overall: dict[str, DayTotals] = {}
        for metric, groups in data.items():
            merged: DayTotals = {}
            for days in groups.values():
                for day, total in days.items():
                    merged[day] = merged.get(day, ZERO) + total
            overall[metric] = merged

        value, numerator, denominator = self._value(query.metric, lambda m: overall[m].items())
        result: dict[str, Any] = {
            "id": query.id,
            "metric": query.metric,
            "value": decimal_text(value),
            "numerator": decimal_text(numerator),
            "denominator": decimal_text(denominator),
            "groups": None,
            "series": None,
            "last_event_at": None,
        }

        if query.group_by:
            keys = sorted({k for groups in data.values() for k in groups}, key=_sort_key)
            result["groups"] = []
            for group_key in keys:
                g_value, g_num, g_den = self._value(query.metric, partial(_group_entries, data, group_key))
                result["groups"].append(
                    {
                        "key": dict(zip(plan.group_by, group_key, strict=True)),
                        "value": decimal_text(g_value),
                        "numerator": decimal_text(g_num),
                        "denominator": decimal_text(g_den),
                    }
                )

        if query.bucket is not None and query.series_format == SeriesFormat.COMPACT:
            result["series_compact"] = self._series_compact(query, overall)
        elif query.bucket is not None:
            result["series"] = self._series(query, overall)
        return result

    def _profile(
        self, plan: _Plan, data: list[dict[GroupKey, DayTotals]], weights: dict[int, repository.Weights]
    ) -> dict[str, Any]:
        query = plan.query
        assert query.profile is not None
        through = query.profile.through
        if plan.weight_leaf is not None:
            weighed = weights.get(plan.weight_leaf, repository.NO_WEIGHT)
        elif plan.day_leaves is not None:
            weighed = self._weigh_days(
                query, {m: data[i].get((), {}) for m, i in plan.day_leaves.items()}, through
            )
        else:
            weighed = repository.NO_WEIGHT
        # A last, shorter run is summed but not reported.
        spans = seven_day_runs(query.start, query.end)
        week_values = self._columns(
            query.metric, spans, False, {m: data[i].get((), {}) for m, i in plan.week_leaves.items()}
        )[0]
        if (spans[-1][1] - spans[-1][0]).days < 6:
            week_values.pop()
        return {
            "through": through.isoformat(),
            "total": decimal_text(weighed.total),
            "done": decimal_text(weighed.done),
            "first_day": None if weighed.first_day is None else weighed.first_day.isoformat(),
            "last_day": None if weighed.last_day is None else weighed.last_day.isoformat(),
            "weeks": week_values,
        }

    def _weigh_days(
        self, query: MetricQuery, days: dict[str, DayTotals], through: date
    ) -> repository.Weights:
        """The weights of a ratio whose denominator is an expression: evaluated day by day."""
        definitions = self.catalogue.definitions
        total = done = ZERO
        first: date | None = None
        last: date | None = None
        # Every day of the range, those without events too: `orders / (uv + 1)` weighs 1 on them.
        for day in map(date.fromordinal, range(query.start.toordinal(), query.end.toordinal() + 1)):
            parts = {
                metric: aggregate(
                    definitions[metric].aggregation, [(day, totals[day])] if day in totals else []
                )
                for metric, totals in days.items()
            }
            denominator = self._value_from(query.metric, parts.__getitem__)[2]
            if denominator is None or denominator <= 0:
                continue
            total = _EXACT.add(total, denominator)
            if day <= through:
                done = _EXACT.add(done, denominator)
            first = first or day
            last = day
        return repository.Weights(total, done, first, last)

    def _series(self, query: MetricQuery, overall: dict[str, DayTotals]) -> list[dict[str, Any]]:
        """Every bucket of [start, end] with its value, one object per bucket."""
        spans, values, numerators, denominators = self._series_columns(query, overall)
        texts = _day_texts(spans) if query.bucket == Bucket.DAY else _span_texts(spans)
        return [
            {"start": start, "end": end, "value": value, "numerator": numerator, "denominator": denominator}
            for (start, end), value, numerator, denominator in zip(
                texts, values, numerators, denominators, strict=True
            )
        ]

    def _series_compact(self, query: MetricQuery, overall: dict[str, DayTotals]) -> dict[str, Any]:
        """The same day series as columns: entry i is the day `start` + i."""
        assert query.bucket == Bucket.DAY
        _, values, numerators, denominators = self._series_columns(query, overall)
        return {
            "start": query.start.isoformat(),
            "bucket": query.bucket.value,
            "values": values,
            "numerators": numerators,
            "denominators": denominators,
        }

    def _series_columns(
        self, query: MetricQuery, overall: dict[str, DayTotals]
    ) -> tuple[Spans, list[str | None], list[str | None], list[str | None]]:
        """(buckets, values, numerators, denominators): the day totals of each bucket aggregated."""
        assert query.bucket is not None
        spans = buckets(query.start, query.end, query.bucket)
        return (spans, *self._columns(query.metric, spans, query.bucket == Bucket.DAY, overall))

    def _columns(
        self, key: str, spans: Spans, days_only: bool, overall: dict[str, DayTotals]
    ) -> tuple[list[str | None], list[str | None], list[str | None]]:
        """(values, numerators, denominators) of `key` over each span, from its base metrics'
        totals (per day, or per span start); `days_only` when every span is one day."""
        per_bucket = {
            metric: _bucket_aggregates(self.catalogue.definitions[metric].aggregation, days, spans, days_only)
            for metric, days in overall.items()
        }
        if self._formula(key) is None:  # a base metric: its own aggregate
            values = [decimal_text(value) for value in per_bucket[key]]
            nothing: list[str | None] = [None] * len(spans)
            return values, nothing, list(nothing)
        values, numerators, denominators = [], [], []
        for i in range(len(spans)):
            parts = {m: aggregates[i] for m, aggregates in per_bucket.items()}
            b_value, b_num, b_den = self._value_from(key, parts.__getitem__)
            values.append(decimal_text(b_value))
            numerators.append(decimal_text(b_num))
            denominators.append(decimal_text(b_den))
        return values, numerators, denominators


def _bucket_aggregates(
    aggregation: str, days: DayTotals, spans: Spans, days_only: bool
) -> Sequence[Decimal | None]:
    """A base metric's aggregate over each bucket (`aggregate` of the bucket's day totals)."""
    if days_only:
        # A day bucket holds at most one day total: its aggregate without the per-bucket lists.
        first = spans[0][0].toordinal()
        if aggregation == Aggregation.SUM:
            # `aggregate`'s sum of one entry: 0 plus the day total, in the same context.
            add = DECIMAL_CONTEXT.add
            sums: list[Decimal | None] = [ZERO] * len(spans)
            for day, total in days.items():
                if day is not None:
                    sums[day.toordinal() - first] = add(ZERO, total)
            return sums
        out: list[Decimal | None] = [None] * len(spans)
        for day, total in days.items():
            if day is not None:
                out[day.toordinal() - first] = aggregate(aggregation, ((day, total),))
        return out
    starts = [s for s, _ in spans]
    if aggregation == Aggregation.SUM:
        # `aggregate`'s sums, added in the same order and context without per-bucket lists;
        # totals summed per bucket in SQL sit on their bucket's first day.
        first_days = {start: i for i, start in enumerate(starts)}
        add = DECIMAL_CONTEXT.add
        bucket_sums: list[Decimal] = [ZERO] * len(spans)
        for day, total in days.items():
            if day is not None:
                i = first_days.get(day)
                if i is None:
                    i = bisect.bisect_right(starts, day) - 1
                bucket_sums[i] = add(bucket_sums[i], total)
        return bucket_sums
    lists: list[list[tuple[date | None, Decimal]]] = [[] for _ in spans]
    for day, total in days.items():
        if day is not None:
            lists[bisect.bisect_right(starts, day) - 1].append((day, total))
    return [aggregate(aggregation, entries) for entries in lists]


def _divide(numerator: Decimal | None, denominator: Decimal | None) -> Decimal | None:
    """`evaluate` of a division whose sides evaluate to numerator and denominator."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    try:
        return DECIMAL_CONTEXT.divide(numerator, denominator)
    except InvalidOperation:
        return None


def _group_entries(
    data: dict[str, dict[GroupKey, DayTotals]], key: GroupKey, metric: str
) -> Iterable[tuple[date | None, Decimal]]:
    return data[metric].get(key, {}).items()


def _refs(node: Node) -> set[str]:
    return references(node)


def _sort_key(key: GroupKey) -> tuple[tuple[bool, str], ...]:
    return tuple((v is None, v or "") for v in key)


def aggregate(aggregation: str, entries: Iterable[tuple[date | None, Decimal]]) -> Decimal | None:
    """A base metric over a span: sum ("0" when empty) or avg/last/max/min of its days with data."""
    if aggregation == Aggregation.SUM:
        total = ZERO
        add = DECIMAL_CONTEXT.add
        for _, value in entries:
            total = add(total, value)
        return total
    items = list(entries)
    if not items:
        return None
    values = [value for _, value in items]
    if aggregation == Aggregation.AVG:
        total = ZERO
        for value in values:
            total = DECIMAL_CONTEXT.add(total, value)
        return DECIMAL_CONTEXT.divide(total, Decimal(len(values)))
    if aggregation == Aggregation.LAST:
        return max(items, key=lambda item: item[0] or date.min)[1]
    if aggregation == Aggregation.MAX:
        return max(values)
    return min(values)


async def run_queries(
    session: AsyncSession,
    principal: Principal,
    queries: list[MetricQuery],
    cache: AnswerCache | None = None,
    version: int | None = None,
) -> list[dict[str, Any]]:
    """The answers of a batch, in its order. With a cache, queries whose months have not
    changed since they were last computed are answered from it (their latest event time is
    read afresh when they ask for it), and the others are kept in it, under `version` (read now
    when not given)."""
    principal.require(Permission.READ)
    if len({q.id for q in queries}) != len(queries):
        raise Problem(422, "duplicate_query_id", "Every query of a batch needs its own id.")
    if cache is None or not cache.enabled:
        runner = QueryRunner(await load_catalogue(session))
        for query in queries:
            runner.plan(query)
        return await runner.run(session)
    # The version first: the catalogue and the rollups read after it are at least as new, so
    # an answer kept under it is never older than it says.
    if version is None:
        version = await cache.version(session)
    runner = QueryRunner(await cache.catalogue(session))
    computed: list[tuple[int, bytes, tuple[Month, ...]]] = []
    for index, query in enumerate(queries):
        key = cache.query_key(query)
        kept = cache.answer(key)
        if kept is not None:
            runner.plan_kept(query, kept)
        else:
            runner.plan(query)
            computed.append((index, key, months_read(runner.base_metrics(query), query.start, query.end)))
    results = await runner.run(session)
    for index, key, months in computed:
        cache.keep(key, version, months, dict(results[index]))
    return results

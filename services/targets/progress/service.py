"""Progress of targets: every number a batch of targets needs is fetched in ONE batched
metrics query (per target: the actual to date, and last year's daily profile as the metrics
service summarises it), then computed by the pure `shared.progress`.

A target keeps what it was committed with: its value, direction, additivity and unit. How its
metric is measured and watched — the time aggregation, the minimum denominator volume, the
expected frequency of events, the possible range — is read from the catalogue as it is now
(one call beside the query), so an edit of the metric applies to every target on it."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import operator
import uuid
from collections.abc import Awaitable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar, cast

from cachetools import LRUCache
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.targets.deps import get_plan
from services.targets.metrics_client import MetricsClient
from services.targets.plans.models import Plan
from services.targets.progress.schemas import HistoryDay, HistoryOut, ProgressOut
from services.targets.targets.kept import Selection, kept_targets
from services.targets.targets.models import Target
from services.targets.targets.service import current_definition, get_target
from shared.decomposition import natural_places
from shared.errors import Problem
from shared.periods import Period, parse_period, zone
from shared.progress import (
    DayValue,
    Progress,
    ProgressInput,
    SeasonalProfile,
    Thresholds,
    compute,
    is_stale,
    running_actuals,
    shifted_back_a_year,
)

A = TypeVar("A")
B = TypeVar("B")


def today_in(tz: str) -> date:
    return datetime.now(zone(tz)).date()


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _ts(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def _places(target: Target) -> int:
    definition = target.metric_definition
    return natural_places(definition.get("unit")) if target.additive else 6


def _queries(target: Target, as_of: date) -> list[dict[str, Any]]:
    if as_of < target.starts_on:
        return []
    last_year = Period(target.starts_on, target.ends_on).shift_years(-1)
    filters = target.filters
    # The seasonal share asks how much of last year's period was done by the same calendar day.
    through = shifted_back_a_year(min(as_of, target.ends_on))
    return [
        {
            "id": f"{target.id}:actual",
            "metric": target.metric,
            "start": target.starts_on.isoformat(),
            "end": min(as_of, target.ends_on).isoformat(),
            "filters": filters,
        },
        {
            "id": f"{target.id}:profile",
            "metric": target.metric,
            "start": last_year.start.isoformat(),
            "end": last_year.end.isoformat(),
            "filters": filters,
            "profile": {"through": through.isoformat()},
        },
    ]


def profile_of(result: dict[str, Any] | None) -> list[DayValue]:
    if not result:
        return []
    return [
        DayValue(
            date.fromisoformat(str(point["start"])),
            _dec(point.get("value")),
            _dec(point.get("numerator")),
            _dec(point.get("denominator")),
        )
        for point in result.get("series") or []
    ]


@functools.lru_cache(maxsize=64)
def _consecutive_days(start: str, count: int) -> tuple[date, ...]:
    """`count` days from `start`."""
    first = date.fromisoformat(start).toordinal()
    return tuple(map(date.fromordinal, range(first, first + count)))


def _weeks(summary: dict[str, Any]) -> list[Decimal | None]:
    # Decimal strings (a year is 52 of them per target): parsed without the general helper.
    return [None if week is None else Decimal(week) for week in summary.get("weeks") or []]


def seasonal_profile_of(result: dict[str, Any] | None, additive: bool) -> SeasonalProfile:
    """Last year's profile from a query's `profile` summary (see the metrics query API)."""
    summary = (result or {}).get("profile")
    if not summary:
        return SeasonalProfile(additive=additive)
    return _summarised(
        additive,
        str(summary["total"]),
        str(summary["through"]),
        str(summary["done"]),
        summary.get("first_day"),
        summary.get("last_day"),
        tuple(summary.get("weeks") or ()),
    )


# Pure functions of their arguments, memoised: a dashboard asks the same targets again and
# again, and last year's profiles rarely change (the same summary text is the same profile).
@functools.lru_cache(maxsize=4096)
def _summarised(
    additive: bool,
    total: str,
    through: str,
    done: str,
    first_day: str | None,
    last_day: str | None,
    weeks: tuple[str | None, ...],
) -> SeasonalProfile:
    return SeasonalProfile.of_summary(
        additive,
        total=Decimal(total),
        through=date.fromisoformat(through),
        done=Decimal(done),
        first_weighted=None if first_day is None else date.fromisoformat(first_day),
        last_weighted=None if last_day is None else date.fromisoformat(last_day),
        weeks=[None if week is None else Decimal(week) for week in weeks],
    )


# Decimals that compare equal can differ in how they are written (1.0, 1.00), and progress
# echoes some of them: the memo tells them apart by their text.
_DECIMAL_FIELDS = tuple(
    f.name
    for f in dataclasses.fields(ProgressInput)
    if "Decimal" in str(f.type) and "Sequence" not in str(f.type)
)
# Every input field but the moment of asking, read at once (cheaper than a copy of the input).
_TIMELESS_FIELDS = operator.attrgetter(
    *(f.name for f in dataclasses.fields(ProgressInput) if f.name != "stale_reference")
)
_DECIMAL_TEXTS = operator.attrgetter(*_DECIMAL_FIELDS)
assert len(_DECIMAL_FIELDS) > 1  # so the getter answers a tuple
_progress_memo: LRUCache[tuple[Any, ...], Progress] = LRUCache(maxsize=4096)


def compute_remembered(inp: ProgressInput) -> Progress:
    """`compute(inp)`, remembered for inputs equal to the digit. Only staleness depends on
    the moment of asking (`stale_reference`): it is judged afresh, the rest remembered."""
    last = inp.last_event_at.isoformat() if inp.last_event_at is not None else None
    try:
        key = (_TIMELESS_FIELDS(inp), last, *map(str, _DECIMAL_TEXTS(inp)))
        progress = _progress_memo.get(key)
    except TypeError:  # an input that cannot be a key (days given as a list): not remembered
        return compute(inp)
    if progress is None:
        # Computed with this moment's staleness, which a later ask judges again.
        progress = _progress_memo[key] = compute(inp)
        return progress
    stale = is_stale(inp)
    return progress if progress.stale is stale else dataclasses.replace(progress, stale=stale)


def daily_profile_of(result: dict[str, Any] | None, additive: bool) -> SeasonalProfile:
    """Last year's profile day by day (compact day columns), its weekly values from the
    query's `profile` summary — so every day of a history weighs exactly as progress does."""
    compact = (result or {}).get("series_compact") or {}
    raw_values = compact.get("values") or []
    days = _consecutive_days(str(compact.get("start") or date.min), len(raw_values))
    values = [_dec(v) for v in raw_values]
    numerators = [_dec(n) for n in compact.get("numerators") or [None] * len(days)]
    denominators = [_dec(d) for d in compact.get("denominators") or [None] * len(days)]
    weeks = _weeks((result or {}).get("profile") or {})
    return SeasonalProfile.of_columns(days, values, numerators, denominators, additive, weeks)


def progress_input(
    target: Target,
    definition: dict[str, Any],
    plan: Plan,
    as_of: date,
    actual: dict[str, Any] | None,
    profile: SeasonalProfile,
    now: datetime,
) -> ProgressInput:
    end_of_day = datetime.combine(as_of + timedelta(days=1), time(0), tzinfo=zone(plan.timezone))
    return ProgressInput(
        target_value=target.target_value,
        starts_on=target.starts_on,
        ends_on=target.ends_on,
        as_of=as_of,
        direction=target.direction,  # type: ignore[arg-type]
        additive=target.additive,
        kind=target.kind,  # type: ignore[arg-type]
        baseline_value=target.baseline_value,
        actual=_dec((actual or {}).get("value")),
        numerator=_dec((actual or {}).get("numerator")),
        denominator=_dec((actual or {}).get("denominator")),
        last_year=profile,
        thresholds=Thresholds(plan.on_track_threshold, plan.at_risk_threshold),
        min_denominator=_dec(definition.get("min_denominator")),
        last_event_at=_ts((actual or {}).get("last_event_at")),
        expected_frequency_hours=_dec(definition.get("expected_frequency_hours")),
        stale_reference=min(end_of_day, now),
        value_min=_dec(definition.get("value_min")),
        value_max=_dec(definition.get("value_max")),
        places=_places(target),
    )


# The fields of an answer that progress computes (the rest are the target's).
_PROGRESS_FIELDS = {f.name for f in dataclasses.fields(Progress)}
_COMPUTED = tuple(name for name in ProgressOut.model_fields if name in _PROGRESS_FIELDS)
_COMPUTED_VALUES = operator.attrgetter(*_COMPUTED)


def to_out(target: Target, progress: Progress) -> ProgressOut:
    # Every value has its answer's type already (the computation's dataclass is typed alike):
    # no second validation.
    return ProgressOut.model_construct(
        target_id=target.id,
        metric=target.metric,
        direction=target.direction,
        starts_on=target.starts_on,
        ends_on=target.ends_on,
        **dict(zip(_COMPUTED, _COMPUTED_VALUES(progress), strict=True)),
    )


async def progress_of(
    session: AsyncSession,
    metrics: MetricsClient,
    targets: Sequence[Target],
    as_of: date | None,
    plans: dict[uuid.UUID, Plan] | None = None,
) -> list[ProgressOut]:
    """Progress of `targets`; `plans` holds their plans when the caller has read them."""
    if plans is None:
        plan_ids = {t.plan_id for t in targets}
        plans = {
            p.id: p for p in (await session.execute(select(Plan).where(Plan.id.in_(plan_ids)))).scalars()
        }
    dates = {t.id: as_of or today_in(plans[t.plan_id].timezone) for t in targets}
    queries = [q for t in targets for q in _queries(t, dates[t.id])]
    # Targets not started yet need nothing from the metrics service (their definitions as
    # committed serve).
    results, catalogue = await _both(metrics.query(queries), metrics.catalogue()) if queries else ({}, {})
    now = datetime.now(UTC)
    out = []
    for target in targets:
        plan = plans[target.plan_id]
        actual = results.get(f"{target.id}:actual")
        profile = seasonal_profile_of(results.get(f"{target.id}:profile"), target.additive)
        definition = current_definition(target, catalogue)
        inp = progress_input(target, definition, plan, dates[target.id], actual, profile, now)
        out.append(to_out(target, compute_remembered(inp)))
    return out


async def _both(first: Awaitable[A], second: Awaitable[B]) -> tuple[A, B]:
    """Both answers, asked at once; the first failure is raised once both have finished (no
    call is left running)."""
    one, two = await asyncio.gather(first, second, return_exceptions=True)
    for outcome in (one, two):
        if isinstance(outcome, BaseException):
            raise outcome
    return cast(A, one), cast(B, two)


async def progress_of_one(
    session: AsyncSession, metrics: MetricsClient, target_id: uuid.UUID, as_of: date | None
) -> ProgressOut:
    target = await get_target(session, target_id)
    return (await progress_of(session, metrics, [target], as_of))[0]


async def progress_batch(
    session: AsyncSession,
    metrics: MetricsClient,
    *,
    as_of: date | None,
    target_ids: list[uuid.UUID] | None,
    plan_id: uuid.UUID | None,
    active_in: str | None,
) -> list[ProgressOut]:
    if target_ids is not None:
        wanted = list(dict.fromkeys(target_ids))
        found = {
            t.id: t for t in (await session.execute(select(Target).where(Target.id.in_(wanted)))).scalars()
        }
        missing = [str(i) for i in wanted if i not in found]
        if missing:
            raise Problem(404, "target_not_found", "Some targets do not exist.", target_ids=missing)
        targets = [found[i] for i in wanted]
        return await progress_of(session, metrics, targets, as_of)
    assert plan_id is not None
    targets, plans = await _plan_targets(session, plan_id, active_in)
    return await progress_of(session, metrics, targets, as_of, plans)


async def _plan_targets(session: AsyncSession, plan_id: uuid.UUID, active_in: str | None) -> Selection:
    """A plan's targets (those active in `active_in`) and the plan, kept until either changes."""
    kept = kept_targets()
    version = await kept.version(session)
    key = (plan_id, active_in)
    selection = kept.selection(version, key)
    if selection is not None:
        return selection
    plan = await get_plan(session, plan_id)
    query = select(Target).where(Target.plan_id == plan_id)
    if active_in:
        window = parse_period(active_in)
        query = query.where(Target.starts_on <= window.end, Target.ends_on >= window.start)
    targets = list((await session.execute(query.order_by(Target.starts_on, Target.id))).scalars())
    # Detached at once, so nothing this session does later (a rollback) can expire them.
    for row in (plan, *targets):
        session.expunge(row)
    selection = (targets, {plan.id: plan})
    kept.keep_selection(version, key, selection)
    return selection


async def history(
    session: AsyncSession, metrics: MetricsClient, target_id: uuid.UUID, as_of: date | None
) -> HistoryOut:
    """Progress and health for every day of the period so far, from one bucketed query."""
    target = await get_target(session, target_id)
    plan = await get_plan(session, target.plan_id)
    as_of = as_of or today_in(plan.timezone)
    if as_of < target.starts_on:
        return HistoryOut(target_id=target.id, as_of=as_of, expected_method="linear", days=[])
    last_year = Period(target.starts_on, target.ends_on).shift_years(-1)
    upto = min(as_of, target.ends_on)
    results, catalogue = await _both(
        metrics.query(
            [
                {
                    "id": "series",
                    "metric": target.metric,
                    "start": target.starts_on.isoformat(),
                    "end": upto.isoformat(),
                    "filters": target.filters,
                    "bucket": "day",
                },
                {
                    "id": "profile",
                    "metric": target.metric,
                    "start": last_year.start.isoformat(),
                    "end": last_year.end.isoformat(),
                    "filters": target.filters,
                    "bucket": "day",
                    "series_format": "compact",
                    "profile": {"through": last_year.end.isoformat()},
                },
            ]
        ),
        metrics.catalogue(),
    )
    definition = current_definition(target, catalogue)
    series = profile_of(results.get("series"))
    profile = daily_profile_of(results.get("profile"), target.additive)
    last_event_at = _ts(results.get("series", {}).get("last_event_at"))
    ratio = any(p.numerator is not None for p in series)
    aggregation = str(definition.get("aggregation") or "sum")
    running = running_actuals(series, aggregation if target.additive or not ratio else "sum", ratio)
    days: list[HistoryDay] = []
    method = "linear"
    for point in running:
        has_data = point.value is not None and (point.value != 0 or not target.additive)
        inp = progress_input(
            target,
            definition,
            plan,
            point.day,
            {
                "value": point.value,
                "numerator": point.numerator,
                "denominator": point.denominator,
                "last_event_at": last_event_at.isoformat() if last_event_at and has_data else None,
            },
            profile,
            datetime.combine(point.day + timedelta(days=1), time(0), tzinfo=UTC),
        )
        progress = compute(inp)
        method = progress.expected_method
        days.append(
            HistoryDay(
                date=point.day,
                **{name: getattr(progress, name) for name in HistoryDay.model_fields if name != "date"},
            )
        )
    return HistoryOut(target_id=target.id, as_of=as_of, expected_method=method, days=days)

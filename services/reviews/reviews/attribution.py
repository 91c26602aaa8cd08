"""Where a target's variance comes from: by dimension (category / channel / region) and, for GMV,
by driver (traffic × conversion × basket size).

Pure functions over Decimals: no I/O. Every decomposition here returns parts that add up EXACTLY
to the variance it explains: figures are rounded to a fixed quantum and the rounding remainder is
put into one deterministic part (the part with the largest magnitude; the first such on ties).

Sign convention: variance = actual − planned, whatever the metric's direction, so parts and
totals always add up; the direction says whether a negative variance is bad.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Context, Decimal, localcontext
from typing import Any, TypeVar, cast

# Rates such as conversion (0.0312) need more places than money; 6 keeps both readable.
QUANTUM = Decimal("0.000001")
SHARE = Decimal("0.0001")
# Enough digits that the logarithms of the driver decomposition do not limit accuracy, and that
# sums of events (each up to 10^30) are exact: every public function computes in this context.
_CTX = Context(prec=50)

F = TypeVar("F", bound=Callable[..., Any])


def wide(function: F) -> F:
    """Runs `function` in the attribution's wide decimal context."""

    @functools.wraps(function)
    def in_context(*args: Any, **kwargs: Any) -> Any:
        with localcontext(_CTX):
            return function(*args, **kwargs)

    return cast(F, in_context)


K = TypeVar("K", bound=Hashable)


@wide
def settle(values: Sequence[Decimal], total: Decimal, quantum: Decimal = QUANTUM) -> list[Decimal]:
    """Rounds each value to `quantum` and puts the difference to `total` into the part with the
    largest magnitude (the first one on ties), so the result sums to `total` exactly."""
    if not values:
        raise ValueError("settle needs at least one part")
    parts = [rounded(v, quantum) for v in values]
    remainder = total - sum(parts, Decimal(0))
    if remainder:
        biggest = max(range(len(parts)), key=lambda i: (abs(parts[i]), -i))
        parts[biggest] += remainder
    return parts


def divide(a: Decimal, b: Decimal) -> Decimal:
    return _CTX.divide(a, b)


def rounded(value: Decimal, quantum: Decimal = QUANTUM) -> Decimal:
    """Rounds in the wide context: sums of events reach past the default context's 28 digits."""
    return value.quantize(quantum, context=_CTX)


@dataclass(frozen=True)
class Part:
    """One child's share of a target's variance. `value` None is the rest that no named child
    explains (events without that dimension, children that do not cover the parent)."""

    value: str | None
    target: Decimal
    actual: Decimal | None
    variance: Decimal
    share: Decimal | None  # variance / total variance: how much of the gap this child explains
    planned_share: Decimal | None  # the child's share of the plan


@dataclass(frozen=True)
class Child:
    value: str | None
    planned: Decimal
    actual: Decimal


def _shares(parts: list[tuple[str | None, Decimal, Decimal | None, Decimal, Decimal | None]]) -> list[Part]:
    total = sum((p[3] for p in parts), Decimal(0))
    out = []
    for value, target, actual, variance, planned_share in parts:
        share = divide(variance, total).quantize(SHARE) if total else None
        out.append(Part(value, target, actual, variance, share, planned_share))
    return out


def _sort_key(value: str | None) -> tuple[int, str]:
    # Named children in name order, the unexplained rest last.
    return (1, "") if value is None else (0, value)


@wide
def attribute_to_children(planned: Decimal, actual: Decimal, children: Sequence[Child]) -> list[Part]:
    """Variance against decomposed child targets: each child's variance is its own actual − its
    planned; what the children do not cover (parent plan or actual outside them) is the rest.

    Sums exactly to `actual − planned` without any rounding: only differences are taken."""
    rows: list[tuple[str | None, Decimal, Decimal | None, Decimal, Decimal | None]] = []
    for child in sorted(children, key=lambda c: _sort_key(c.value)):
        rows.append(
            (
                child.value,
                child.planned,
                child.actual,
                child.actual - child.planned,
                divide(child.planned, planned).quantize(SHARE) if planned else None,
            )
        )
    rest_planned = planned - sum((c.planned for c in children), Decimal(0))
    rest_actual = actual - sum((c.actual for c in children), Decimal(0))
    if rest_planned or rest_actual or not rows:
        rows.append(
            (
                None,
                rest_planned,
                rest_actual,
                rest_actual - rest_planned,
                divide(rest_planned, planned).quantize(SHARE) if planned else None,
            )
        )
    return _shares(rows)


@wide
def attribute_by_last_year_mix(
    planned: Decimal,
    actual: Decimal,
    last_year: Mapping[str | None, Decimal],
    this_year: Mapping[str | None, Decimal],
) -> list[Part] | None:
    """Variance of an additive metric against last year's mix: a child's planned value is
    planned × its share of last year's total (the same days a year earlier).

    Planned values are rounded to QUANTUM and their rounding remainder goes to the child with the
    largest planned value, so they sum to `planned`; actuals the groups miss go to the rest.
    None when last year has no positive total to take shares from."""
    last_year_total = sum(last_year.values(), Decimal(0))
    if last_year_total <= 0 or any(v < 0 for v in last_year.values()):
        return None
    values = sorted(set(last_year) | set(this_year), key=_sort_key)
    raw = [divide(planned * last_year.get(v, Decimal(0)), last_year_total) for v in values]
    planned_parts = settle(raw, planned)
    actual_parts = [this_year.get(v, Decimal(0)) for v in values]
    unexplained = actual - sum(actual_parts, Decimal(0))
    if unexplained:
        if None in values:
            actual_parts[values.index(None)] += unexplained
        else:
            values.append(None)
            planned_parts.append(Decimal(0))
            actual_parts.append(unexplained)
    rows: list[tuple[str | None, Decimal, Decimal | None, Decimal, Decimal | None]] = []
    for value, child_planned, child_actual in zip(values, planned_parts, actual_parts, strict=True):
        share = (
            divide(last_year.get(value, Decimal(0)), last_year_total).quantize(SHARE)
            if value is not None or value in last_year
            else None
        )
        rows.append((value, child_planned, child_actual, child_actual - child_planned, share))
    return _shares(rows)


@dataclass(frozen=True)
class RateGroup:
    value: str | None
    numerator: Decimal
    denominator: Decimal


@wide
def attribute_rate_by_volume(
    target_rate: Decimal, variance: Decimal, groups: Sequence[RateGroup]
) -> list[Part] | None:
    """Variance of a ratio metric (conversion = orders / uv) by child: child i contributes
    (numerator_i − target × denominator_i) / Σ denominator — its rate gap weighted by its
    volume — and the contributions add up to Σnum/Σden − target = the variance.

    Children inherit the target rate. Contributions are rounded to QUANTUM and the remainder
    goes to the largest one, so they sum to `variance` exactly. None without volume."""
    total_denominator = sum((g.denominator for g in groups), Decimal(0))
    if not groups or total_denominator <= 0:
        return None
    ordered = sorted(groups, key=lambda g: _sort_key(g.value))
    raw = [divide(g.numerator - target_rate * g.denominator, total_denominator) for g in ordered]
    contributions = settle(raw, variance)
    rows: list[tuple[str | None, Decimal, Decimal | None, Decimal, Decimal | None]] = []
    for group, contribution in zip(ordered, contributions, strict=True):
        rate = divide(group.numerator, group.denominator).quantize(QUANTUM) if group.denominator else None
        volume_share = divide(group.denominator, total_denominator).quantize(SHARE)
        rows.append((group.value, target_rate, rate, contribution, volume_share))
    return _shares(rows)


# ---- GMV drivers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Funnel:
    """GMV = UV × conversion rate × AOV, with conversion = orders / UV and AOV = GMV / orders."""

    uv: Decimal
    conversion_rate: Decimal
    aov: Decimal

    @property
    def gmv(self) -> Decimal:
        return _CTX.multiply(_CTX.multiply(self.uv, self.conversion_rate), self.aov)


@dataclass(frozen=True)
class Drivers:
    traffic: Decimal
    conversion: Decimal
    basket: Decimal
    total: Decimal
    method: str  # "lmdi" | "sequential"
    planned: Funnel
    actual: Funnel


@wide
def planned_funnel(planned_gmv: Decimal, uv: Decimal, orders: Decimal, gmv: Decimal) -> Funnel | None:
    """The plan's funnel: last year's conversion and basket size, with the traffic needed to
    reach the planned GMV at them (UV = planned GMV / (conversion × AOV) = LY UV × planned / LY GMV).
    None when last year has no traffic, orders or GMV to take the mix from."""
    if uv <= 0 or orders <= 0 or gmv <= 0 or planned_gmv < 0:
        return None
    return Funnel(
        uv=divide(planned_gmv * uv, gmv),
        conversion_rate=divide(orders, uv),
        aov=divide(gmv, orders),
    )


@wide
def actual_funnel(uv: Decimal, orders: Decimal, gmv: Decimal, planned: Funnel) -> Funnel:
    """The period's funnel. A rate with a zero denominator is undefined, so it keeps the planned
    value: nothing is attributed to a factor that cannot be observed."""
    conversion = divide(orders, uv) if uv > 0 else planned.conversion_rate
    aov = divide(gmv, orders) if orders > 0 else planned.aov
    return Funnel(uv=max(uv, Decimal(0)), conversion_rate=conversion, aov=aov)


def _log_mean(a: Decimal, b: Decimal) -> Decimal:
    """L(a, b) = (a − b) / (ln a − ln b), with L(a, a) = a (positive a, b)."""
    log_gap = _CTX.subtract(_CTX.ln(a), _CTX.ln(b))
    if a == b or not log_gap:
        # Equal up to the logarithm's precision: the log mean is their (common) value.
        return divide(a + b, Decimal(2))
    return divide(a - b, log_gap)


@wide
def decompose_gmv(planned: Funnel, actual: Funnel, variance: Decimal) -> Drivers:
    """Splits the GMV variance into traffic, conversion and basket-size parts.

    Method: additive LMDI-I (logarithmic mean Divisia index). With L = L(GMV₁, GMV₀),
    part_x = L × ln(x₁ / x₀) for x in (UV, conversion, AOV); the three sum to GMV₁ − GMV₀
    because the logs of a product add up. When a factor is zero on either side (no logarithm),
    sequential substitution is used instead: traffic = ΔUV·c₀·a₀, conversion = UV₁·Δc·a₀,
    basket = UV₁·c₁·Δa. Either way the parts are rounded to QUANTUM and the remainder — rounding,
    and any difference between the funnel's product and the reported actual — goes to the
    largest part, so traffic + conversion + basket == variance exactly."""
    factors = (
        (planned.uv, actual.uv),
        (planned.conversion_rate, actual.conversion_rate),
        (planned.aov, actual.aov),
    )
    if all(x0 > 0 and x1 > 0 for x0, x1 in factors):
        weight = _log_mean(actual.gmv, planned.gmv)
        raw = [_CTX.multiply(weight, _CTX.ln(divide(x1, x0))) for x0, x1 in factors]
        method = "lmdi"
    else:
        raw = [
            (actual.uv - planned.uv) * planned.conversion_rate * planned.aov,
            actual.uv * (actual.conversion_rate - planned.conversion_rate) * planned.aov,
            actual.uv * actual.conversion_rate * (actual.aov - planned.aov),
        ]
        method = "sequential"
    traffic, conversion, basket = settle(raw, variance)
    return Drivers(traffic, conversion, basket, variance, method, planned, actual)

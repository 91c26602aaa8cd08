"""Splitting a target value across children by weights, exactly. Pure: no I/O.

An additive target (GMV, orders) splits so that the children add up to the parent to the last
cent: each child gets its share rounded down to the metric's natural precision, and the units
left over go one each to the children with the largest remainders (ties to the earlier child) —
the largest-remainder method. The arithmetic is done in exact fractions, never floats.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from math import floor

# Digits after the decimal point a metric's values naturally carry, by unit.
NATURAL_PLACES: dict[str, int] = {"money": 2, "count": 0}
DEFAULT_PLACES = 6


class WeightsError(ValueError):
    """The weights cannot split anything (negative, or all zero)."""


def natural_places(unit: str | None) -> int:
    return NATURAL_PLACES.get(unit or "", DEFAULT_PLACES)


def _places_of(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def even_weights(count: int) -> list[Decimal]:
    if count < 1:
        raise WeightsError("There is nothing to split into.")
    return [Decimal(1)] * count


def shares_from_history(values: Sequence[Decimal | None]) -> list[Decimal]:
    """Last year's actuals as weights; negative or missing buckets weigh nothing."""
    weights = [v if v is not None and v > 0 else Decimal(0) for v in values]
    if not any(weights):
        raise WeightsError("Last year has no positive values to take shares from.")
    return weights


def weights_for(labels: Sequence[str], explicit: Mapping[str, Decimal]) -> list[Decimal]:
    """Explicit {label: share} weights in the order of `labels`; every label named exactly once."""
    unknown = sorted(set(explicit) - set(labels))
    missing = [label for label in labels if label not in explicit]
    if unknown or missing:
        raise WeightsError(
            "Weights must name exactly the children "
            f"({', '.join(labels)}); unknown: {unknown or 'none'}, missing: {missing or 'none'}."
        )
    return [Decimal(explicit[label]) for label in labels]


def split_exactly(total: Decimal, weights: Sequence[Decimal], places: int) -> list[Decimal]:
    """`total` split in proportion to `weights`, rounded to `places` decimals, summing to `total`.

    When `total` itself carries more decimals than `places`, its own precision is used so the
    children can still add up exactly.
    """
    if not weights:
        raise WeightsError("There is nothing to split into.")
    if any(w < 0 for w in weights):
        raise WeightsError("Weights may not be negative.")
    weight_sum = sum((Fraction(w) for w in weights), Fraction(0))
    if weight_sum == 0:
        raise WeightsError("Weights may not all be zero.")
    places = max(places, _places_of(total))
    quantum = Fraction(1, 10**places)
    units = Fraction(total) / quantum  # an integer, by the choice of places
    assert units.denominator == 1
    raw = [units * Fraction(w) / weight_sum for w in weights]
    floors = [floor(r) for r in raw]
    leftover = int(units) - sum(floors)
    # Largest remainder first; on equal remainders the earlier child wins.
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - floors[i]), i))
    for i in order[:leftover]:
        floors[i] += 1
    exponent = Decimal(1).scaleb(-places)
    return [(Decimal(units_i) * exponent).quantize(exponent) for units_i in floors]

"""The attribution and driver parts add up EXACTLY to the variance they explain (pure functions)."""

from __future__ import annotations

import math
from decimal import Context, Decimal, localcontext

from hypothesis import given, settings
from hypothesis import strategies as st

from services.reviews.reviews.attribution import (
    Child,
    RateGroup,
    actual_funnel,
    attribute_by_last_year_mix,
    attribute_rate_by_volume,
    attribute_to_children,
    decompose_gmv,
    planned_funnel,
    settle,
)
from services.reviews.reviews.scorecard import Scored, scorecard

money = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)
counts = st.integers(min_value=0, max_value=10**7).map(Decimal)
names = st.sampled_from(["beauty", "home", "food", "toys", None])
rates = st.decimals(min_value=0, max_value=1, places=4, allow_nan=False, allow_infinity=False)

SETTINGS = settings(max_examples=60, deadline=None)


def total(parts: list) -> Decimal:  # type: ignore[type-arg]
    return sum((p.variance for p in parts), Decimal(0))


@SETTINGS
@given(
    planned=money,
    actual=money,
    last_year=st.dictionaries(names, money, max_size=5),
    this_year=st.dictionaries(names, money, max_size=5),
)
def test_last_year_mix_parts_add_up_to_the_variance(planned, actual, last_year, this_year) -> None:
    parts = attribute_by_last_year_mix(planned, actual, last_year, this_year)
    if sum(last_year.values(), Decimal(0)) == 0:
        assert parts is None
        return
    assert parts is not None
    assert total(parts) == actual - planned
    assert sum((p.target for p in parts), Decimal(0)) == planned
    assert sum((p.actual or Decimal(0) for p in parts), Decimal(0)) == actual


@SETTINGS
@given(
    planned=money,
    actual=money,
    children=st.lists(
        st.tuples(st.sampled_from(["north", "south", "east", "west"]), money, money),
        max_size=4,
        unique_by=lambda c: c[0],
    ),
)
def test_children_parts_add_up_to_the_variance(planned, actual, children) -> None:
    parts = attribute_to_children(planned, actual, [Child(v, p, a) for v, p, a in children])
    assert total(parts) == actual - planned


@SETTINGS
@given(
    target=rates,
    groups=st.lists(st.tuples(names, counts, counts), min_size=1, max_size=5, unique_by=lambda g: g[0]),
)
def test_rate_parts_add_up_to_the_variance(target, groups) -> None:
    rate_groups = [RateGroup(v, min(n, d), d) for v, n, d in groups]
    denominator = sum((g.denominator for g in rate_groups), Decimal(0))
    if denominator == 0:
        assert attribute_rate_by_volume(target, Decimal(0), rate_groups) is None
        return
    actual_rate = sum((g.numerator for g in rate_groups), Decimal(0)) / denominator
    variance = actual_rate.quantize(Decimal("0.0001")) - target
    parts = attribute_rate_by_volume(target, variance, rate_groups)
    assert parts is not None
    assert total(parts) == variance


@SETTINGS
@given(
    planned_gmv=money, ly=st.tuples(counts, counts, money), ty=st.tuples(counts, counts, money), actual=money
)
def test_driver_parts_add_up_to_the_variance(planned_gmv, ly, ty, actual) -> None:
    plan = planned_funnel(planned_gmv, *ly)
    if plan is None:
        assert min(ly) <= 0
        return
    drivers = decompose_gmv(plan, actual_funnel(*ty, plan), actual - planned_gmv)
    assert drivers.traffic + drivers.conversion + drivers.basket == actual - planned_gmv
    assert drivers.total == actual - planned_gmv


def test_drivers_split_a_consistent_funnel_by_lmdi_with_only_rounding_left() -> None:
    plan = planned_funnel(Decimal("1000000"), uv=Decimal(100000), orders=Decimal(2000), gmv=Decimal(400000))
    assert plan is not None  # plan: 250 000 UV × 2 % × 200 = 1 000 000
    actual = actual_funnel(Decimal(200000), Decimal(3000), Decimal("660000"), plan)  # 1.5 %, 220
    drivers = decompose_gmv(plan, actual, Decimal("660000") - Decimal("1000000"))
    assert drivers.method == "lmdi"
    assert drivers.traffic < 0 and drivers.conversion < 0 and drivers.basket > 0
    assert drivers.traffic + drivers.conversion + drivers.basket == Decimal(-340000)
    # LMDI: part = L(V1, V0) × ln(x1/x0), recomputed plainly: traffic 0.8, conversion 0.75, basket 1.1
    weight = (660000 - 1000000) / math.log(660000 / 1000000)
    assert abs(float(drivers.traffic) - weight * math.log(0.8)) < 0.01
    assert abs(float(drivers.conversion) - weight * math.log(0.75)) < 0.01


def test_no_traffic_puts_the_whole_gap_on_traffic() -> None:
    plan = planned_funnel(Decimal("500"), uv=Decimal(100), orders=Decimal(10), gmv=Decimal(1000))
    assert plan is not None
    drivers = decompose_gmv(plan, actual_funnel(Decimal(0), Decimal(0), Decimal(0), plan), Decimal(-500))
    assert drivers.method == "sequential"
    assert (drivers.traffic, drivers.conversion, drivers.basket) == (Decimal(-500), 0, 0)


@SETTINGS
@given(
    values=st.lists(
        st.decimals(min_value=-(10**6), max_value=10**6, places=9, allow_nan=False, allow_infinity=False),
        min_size=1,
        max_size=6,
    ),
    total_=st.decimals(min_value=-(10**6), max_value=10**6, places=7, allow_nan=False, allow_infinity=False),
)
def test_settled_parts_sum_to_the_total(values, total_) -> None:
    assert sum(settle(values, total_), Decimal(0)) == total_


def test_scorecard_weights_attainment_and_leaves_unscored_out() -> None:
    card = scorecard(
        [
            Scored("financial", Decimal(3), Decimal("1.10")),
            Scored("financial", Decimal(1), Decimal("0.70")),
            Scored("financial", Decimal(5), None),
            Scored("user", Decimal(1), Decimal("0.95")),
            Scored(None, Decimal(1), Decimal("2.00")),
        ]
    )
    assert card["financial"].attainment == Decimal("1.0000")
    assert (card["financial"].targets, card["financial"].unscored) == (2, 1)
    assert card["operational"].attainment is None
    assert card["overall"].attainment == Decimal("0.9900")  # (3.3 + 0.7 + 0.95) / 5


# Events accept values up to 10^30; a quarter's sums of them go beyond the 28 digits of the
# default decimal context, so every rounding must use the attribution's own wide context.
huge_money = st.decimals(
    min_value=0, max_value=Decimal("1e34"), places=2, allow_nan=False, allow_infinity=False
)


@SETTINGS
@given(
    planned_gmv=huge_money,
    ly=st.tuples(huge_money, huge_money, huge_money),
    ty=st.tuples(huge_money, huge_money, huge_money),
    actual=huge_money,
)
def test_driver_parts_add_up_at_the_largest_accepted_magnitudes(planned_gmv, ly, ty, actual) -> None:
    from services.reviews.reviews.snapshot import funnel_figures

    plan = planned_funnel(planned_gmv, *ly)
    if plan is None:
        return
    with localcontext(Context(prec=80)):  # the test's own arithmetic must not round either
        variance = actual - planned_gmv
        drivers = decompose_gmv(plan, actual_funnel(*ty, plan), variance)
        assert drivers.traffic + drivers.conversion + drivers.basket == variance
    figures = funnel_figures(drivers.actual)
    assert figures.gmv >= 0

"""Any decomposition of any Decimal value by any weights adds up exactly."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.decomposition import split_exactly

values = st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=4, allow_nan=False)
weights = st.lists(
    st.decimals(min_value=0, max_value=Decimal("1e6"), places=3, allow_nan=False), min_size=1, max_size=24
).filter(lambda ws: sum(ws) > 0)


@settings(max_examples=60, deadline=None)
@given(total=values, shares=weights, places=st.integers(min_value=0, max_value=4))
def test_any_split_adds_up_to_the_parent_exactly(total: Decimal, shares: list[Decimal], places: int) -> None:
    children = split_exactly(total, shares, places)
    assert sum(children, Decimal(0)) == total
    assert len(children) == len(shares)


@settings(max_examples=60, deadline=None)
@given(total=values, shares=weights, places=st.integers(min_value=0, max_value=4))
def test_each_child_is_within_one_unit_of_its_exact_share(
    total: Decimal, shares: list[Decimal], places: int
) -> None:
    children = split_exactly(total, shares, places)
    unit = Decimal(1).scaleb(-max(places, -total.normalize().as_tuple().exponent if total else 0))  # type: ignore[operator]
    weight_sum = sum(shares, Decimal(0))
    for child, share in zip(children, shares, strict=True):
        assert abs(child - total * share / weight_sum) <= unit


@settings(max_examples=30, deadline=None)
@given(total=values, count=st.integers(min_value=1, max_value=12))
def test_an_even_split_differs_by_at_most_one_unit_and_gives_the_remainder_to_the_first(
    total: Decimal, count: int
) -> None:
    children = split_exactly(total.quantize(Decimal("0.01")), [Decimal(1)] * count, 2)
    assert max(children) - min(children) <= Decimal("0.01")
    assert children == sorted(children, reverse=True)

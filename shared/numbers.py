"""The Decimal types of the services' schemas.

`ExactDecimal`, the one input type for amounts, rates and weights: exact, finite and within what
a `numeric` column and the audit trail can hold, so absurd numbers are refused with 422.
`PlainDecimal`, every decimal an answer carries: written in plain digits with its scale kept
("0.0000001", "400000", "1.50"), never in the exponent notation `str` would write ("1E-7",
"4E+5", "0E-8" for a zero rounded to eight places)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field, PlainSerializer

# 24 integer digits cover any money amount in any currency; 16 places cover any rate.
MAX_INTEGER_DIGITS = 24
MAX_DECIMAL_PLACES = 16


def plain(value: Decimal) -> str:
    """A decimal in plain digits, its scale kept."""
    return format(value, "f")


_PLAIN = PlainSerializer(plain, return_type=str, when_used="json")
PlainDecimal = Annotated[Decimal, _PLAIN]

ExactDecimal = Annotated[
    Decimal,
    _PLAIN,
    Field(
        allow_inf_nan=False,
        max_digits=MAX_INTEGER_DIGITS + MAX_DECIMAL_PLACES,
        decimal_places=MAX_DECIMAL_PLACES,
    ),
]

"""The one Decimal input type for amounts, rates and weights: exact, finite and within what a
`numeric` column and the audit trail can hold, so absurd numbers are refused with 422."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field

# 24 integer digits cover any money amount in any currency; 16 places cover any rate.
MAX_INTEGER_DIGITS = 24
MAX_DECIMAL_PLACES = 16

ExactDecimal = Annotated[
    Decimal,
    Field(
        allow_inf_nan=False,
        max_digits=MAX_INTEGER_DIGITS + MAX_DECIMAL_PLACES,
        decimal_places=MAX_DECIMAL_PLACES,
    ),
]

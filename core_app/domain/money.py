"""Money: integer cents with a currency, never floats."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core_app.domain.exceptions import CurrencyMismatch, ValidationError

#: ASCII digits; commas only as thousands separators; at most two decimals
_AMOUNT = re.compile(r"(?P<whole>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<part>\d{1,2}))?", re.ASCII)

MAX_AMOUNT_CENTS = 100_000_000_00  # one hundred million: anything above is a typo


@dataclass(frozen=True)
class Money:
    cents: int
    currency: str

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot add {other.currency} to {self.currency}")
        return Money(self.cents + other.cents, self.currency)

    def __str__(self) -> str:
        return format_money(self.cents, self.currency)


def format_money(cents: int, currency: str) -> str:
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{currency} {whole:,}.{part:02d}"


def parse_amount(text: str) -> int:
    """Parse a decimal amount such as `120`, `120.5` or `120.50` into cents, exactly."""
    cleaned = text.strip()
    if cleaned.startswith("-"):
        raise ValidationError(f"amount {text!r} is negative")
    match = _AMOUNT.fullmatch(cleaned)
    if match is None:
        raise ValidationError(
            f"amount {text!r} is not a number with at most two decimals (e.g. 1,250.50)"
        )
    whole = match["whole"].replace(",", "")
    return int(whole) * 100 + int((match["part"] or "").ljust(2, "0"))


def require_positive_amount(cents: int, what: str) -> int:
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise ValidationError(f"{what} must be a whole number of cents")
    if cents <= 0:
        raise ValidationError(f"{what} must be positive, got {cents} cents")
    if cents > MAX_AMOUNT_CENTS:
        raise ValidationError(f"{what} of {cents} cents exceeds the maximum")
    return cents

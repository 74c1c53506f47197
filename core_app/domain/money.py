"""Money: integer cents with a currency, never floats."""

from __future__ import annotations

from dataclasses import dataclass

from core_app.domain.exceptions import CurrencyMismatch, ValidationError

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
    cleaned = text.strip().replace(",", "")
    whole, dot, part = cleaned.partition(".")
    if cleaned.startswith("-"):
        raise ValidationError(f"amount {text!r} is negative")
    if not whole.isdigit() or (dot and (not part.isdigit() or len(part) > 2)):
        raise ValidationError(f"amount {text!r} is not a number with at most two decimals")
    return int(whole) * 100 + int(part.ljust(2, "0") if part else 0)


def require_positive_amount(cents: int, what: str) -> int:
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise ValidationError(f"{what} must be a whole number of cents")
    if cents <= 0:
        raise ValidationError(f"{what} must be positive, got {cents} cents")
    if cents > MAX_AMOUNT_CENTS:
        raise ValidationError(f"{what} of {cents} cents exceeds the maximum")
    return cents

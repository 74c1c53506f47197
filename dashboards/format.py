"""Money from integer cents in the clinic's currency; times in clinic local time."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$", "CHF": "CHF "}


def money(cents: int | float | None, currency: str) -> str:
    """`$1,234.50` from 123450 cents; a code prefix for currencies without a known symbol."""
    if cents is None or cents != cents:  # None or NaN: no figure
        return "-"
    value = round(cents)
    sign = "-" if value < 0 else ""
    whole, part = divmod(abs(value), 100)
    symbol = _SYMBOLS.get(currency, f"{currency} ")
    return f"{sign}{symbol}{whole:,}.{part:02d}"


def percent(ratio: float | None) -> str:
    return "-" if ratio is None or ratio != ratio else f"{ratio * 100:.1f} %"


def local_time(moment: datetime, timezone: str, pattern: str = "%Y-%m-%d %H:%M") -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime(pattern)


def kpi_value(value: float | None, unit: str, currency: str) -> str:
    """A KPI as a manager reads it, by the unit that marts.kpi_definitions gives."""
    if value is None or value != value:
        return "-"
    if unit.startswith("cents"):
        return money(value, currency)
    if unit == "ratio":
        return percent(value)
    return f"{value:,.0f}"
